import numpy as np
import pytest

from mlpcore import activations as act
from conftest import assert_close, to_xp


def test_relu_sigmoid_tanh_values(xp):
    Z = to_xp(xp, [[-2.0, 0.0, 3.0]])
    assert_close(act.relu(Z), [[0.0, 0.0, 3.0]])
    assert_close(act.sigmoid(Z), 1 / (1 + np.exp(-np.array([[-2.0, 0.0, 3.0]]))))
    assert_close(act.tanh(Z), np.tanh([[-2.0, 0.0, 3.0]]))


def test_softmax_by_hand(xp):
    # exp([0, ln 2, ln 5]) = [1, 2, 5], which sum to 8.
    P = act.softmax(to_xp(xp, [[0.0, np.log(2.0), np.log(5.0)]]))
    assert_close(P, [[1 / 8, 2 / 8, 5 / 8]])


def test_softmax_ignores_a_constant_shift_per_row(xp, rng):
    Z = rng.standard_normal((4, 6))
    assert_close(act.softmax(to_xp(xp, Z + 1000.0)), act.softmax(to_xp(xp, Z)), atol=1e-12)


@pytest.mark.parametrize("name", sorted(act.ACTIVATIONS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_output_stays_in_the_input_namespace_and_dtype(xp, name, dtype):
    Z = xp.asarray(np.linspace(-3, 3, 12).reshape(3, 4).astype(dtype))
    activation = act.get_activation(name)
    for out in (activation.forward(Z), activation.backward(Z, Z), act.softmax(Z)):
        assert out.dtype == Z.dtype and tuple(out.shape) == (3, 4)
        assert type(out) is type(Z)


def test_relu_backward_uses_the_pre_activation(xp):
    dA = to_xp(xp, [[1.0, 2.0, 3.0]])
    Z = to_xp(xp, [[-1.0, 0.0, 4.0]])
    assert_close(act.relu_backward(dA, Z), [[0.0, 0.0, 3.0]])


def test_sigmoid_and_tanh_backward_accept_the_cached_output(xp, rng):
    Z = to_xp(xp, rng.standard_normal((3, 5)))
    dA = to_xp(xp, rng.standard_normal((3, 5)))
    assert_close(act.sigmoid_backward(dA, Z, A=act.sigmoid(Z)), act.sigmoid_backward(dA, Z))
    assert_close(act.tanh_backward(dA, Z, A=act.tanh(Z)), act.tanh_backward(dA, Z))


@pytest.mark.parametrize("name", sorted(act.ACTIVATIONS))
def test_backward_rejects_mismatched_shapes(xp, name):
    backward = act.get_activation(name).backward
    with pytest.raises(ValueError, match=r"dA and Z should have the same shape, but dA has shape \(2, 3\) and Z has shape \(3, 2\)"):
        backward(xp.ones((2, 3)), xp.ones((3, 2)))


def test_unknown_activation_lists_the_choices():
    with pytest.raises(ValueError, match="unknown activation 'relu6'; choose one of 'relu', 'sigmoid', 'tanh'"):
        act.get_activation("relu6")


@pytest.mark.parametrize("name", sorted(act.ACTIVATIONS))
def test_the_backward_that_reuses_the_output_gives_the_same_gradient(xp, rng, name):
    activation = act.get_activation(name)
    Z, dA = (to_xp(xp, rng.standard_normal((3, 5))) for _ in range(2))
    assert_close(activation.backward_given_output(dA, Z, activation.forward(Z)), activation.backward(dA, Z))
