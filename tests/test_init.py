import numpy as np
import pytest

from mlpcore import init


@pytest.mark.parametrize("name", sorted(init.INITIALIZERS))
def test_shape_and_reproducibility(name):
    make = init.get_initializer(name)
    a = make(30, 20, np.random.default_rng(3))
    b = make(30, 20, 3)  # a seed works as well as a Generator
    assert a.shape == (30, 20) and a.dtype == np.float64
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "name,expected_std",
    [("he", np.sqrt(2 / 400)), ("xavier", np.sqrt(2 / (400 + 100))), ("normal", 0.01)],
)
def test_scale(name, expected_std):
    W = init.get_initializer(name)(400, 100, np.random.default_rng(0))
    assert W.std() == pytest.approx(expected_std, rel=0.02)
    assert abs(W.mean()) < 0.1 * expected_std


def test_normal_scale_parameter():
    assert init.normal(200, 200, 0, scale=0.5).std() == pytest.approx(0.5, rel=0.02)


def test_zeros_are_zeros():
    assert not init.zeros(3, 4).any()


def test_no_global_random_state_is_used():
    np.random.seed(0)
    before = np.random.random()
    np.random.seed(0)
    init.he(5, 5, 1)
    assert np.random.random() == before


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "4"])
def test_bad_sizes(bad):
    with pytest.raises(ValueError, match=r"n_in should be a positive whole number, but got"):
        init.he(bad, 3, 0)


def test_unknown_initializer():
    with pytest.raises(ValueError, match="unknown initializer 'lecun'; choose one of"):
        init.get_initializer("lecun")


def test_rng_must_be_a_generator_or_seed():
    with pytest.raises(TypeError, match="expected a numpy.random.Generator or an integer seed, but got str"):
        init.he(3, 3, "seed")
