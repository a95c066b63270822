import numpy as np
import pytest

from mlpcore.gradcheck import numerical_gradient, relative_error
from conftest import assert_close, to_xp


def test_central_difference_is_exact_for_a_quadratic(xp):
    # f(x) = sum(x**2) has gradient 2x; the central difference has no error for quadratics.
    x = to_xp(xp, [[1.0, -2.0], [0.5, 3.0]])
    assert_close(numerical_gradient(lambda v: xp.sum(v * v), x), 2 * np.array([[1.0, -2.0], [0.5, 3.0]]), rtol=1e-8)


def test_the_input_is_restored(xp, rng):
    values = rng.standard_normal((3, 2))
    x = to_xp(xp, values)
    numerical_gradient(lambda v: xp.sum(xp.exp(v)), x)
    assert_close(x, values, rtol=0, atol=0)


def test_the_input_is_restored_when_f_fails(xp):
    x = to_xp(xp, [1.0, 2.0])

    def broken(v):
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError):
        numerical_gradient(broken, x)
    assert_close(x, [1.0, 2.0], rtol=0, atol=0)


def test_one_sided_differences_would_fail_the_tolerance(xp):
    # Why the central form: for exp at 1 with eps=1e-6 the one-sided error is ~eps/2 relative.
    x = to_xp(xp, [1.0])
    one_sided = (np.exp(1.0 + 1e-6) - np.exp(1.0)) / 1e-6
    central = numerical_gradient(lambda v: xp.sum(xp.exp(v)), x)
    assert relative_error(central, to_xp(xp, [np.e])) < 1e-9
    assert relative_error(to_xp(xp, [one_sided]), to_xp(xp, [np.e])) > 1e-7


def test_float32_input_warns():
    with pytest.warns(UserWarning, match="finite differences need float64"):
        numerical_gradient(lambda v: float(v.sum()), np.ones(2, dtype=np.float32))


def test_relative_error_values(xp):
    a = to_xp(xp, [3.0, 4.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(xp.zeros(2), xp.zeros(2)) == 0.0
    # ||a - 0|| / (||a|| + 0) = 1; ||a - (-a)|| / (2 ||a||) = 1
    assert relative_error(a, xp.zeros(2)) == pytest.approx(1.0)
    assert relative_error(a, -a) == pytest.approx(1.0)
    assert relative_error(a, to_xp(xp, [3.0, 4.0 + 1e-6])) == pytest.approx(1e-6 / 10, rel=1e-3)


def test_relative_error_checks_shapes(xp):
    with pytest.raises(ValueError, match=r"a and b should have the same shape"):
        relative_error(xp.ones((2, 3)), xp.ones((3, 2)))
