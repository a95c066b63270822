import numpy as np
import pytest

from mlpcore import layers
from conftest import assert_close, to_xp


def test_the_4_3_2_network_by_hand(xp):
    # A batch of two samples through a 4 -> 3 layer: each output is a weighted sum plus bias.
    X = to_xp(xp, [[1.0, 0.0, 2.0, -1.0], [0.0, 1.0, 0.0, 0.0]])
    W = to_xp(xp, [[1.0, 0.0, 0.5], [2.0, 1.0, 0.0], [0.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    b = to_xp(xp, [0.5, -0.5, 0.0])
    # row 1: [1*1 + 2*0 + -1*1, 2*1 - 1*1, 1*0.5 + 2*1 - 1*1] + b = [0.5, 0.5, 1.5]
    # row 2: the second row of W plus b                       = [2.5, 0.5, 0.0]
    assert_close(layers.dense_forward(X, W, b), [[0.5, 0.5, 1.5], [2.5, 0.5, 0.0]])


@pytest.mark.parametrize("shape", [(1, 4, 3), (7, 3, 2), (5, 10, 1), (2, 1, 6)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_forward_and_backward_match_the_formulas(xp, rng, shape, dtype):
    batch, n_in, n_out = shape
    X, W, b, dZ = (rng.standard_normal(s).astype(dtype) for s in [(batch, n_in), (n_in, n_out), (n_out,), (batch, n_out)])
    Z = layers.dense_forward(to_xp(xp, X), to_xp(xp, W), to_xp(xp, b))
    dX, dW, db = layers.dense_backward(to_xp(xp, dZ), to_xp(xp, X), to_xp(xp, W))
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert_close(Z, X @ W + b, rtol=tol, atol=tol)
    assert_close(dX, dZ @ W.T, rtol=tol, atol=tol)
    assert_close(dW, X.T @ dZ, rtol=tol, atol=tol)
    assert_close(db, dZ.sum(axis=0), rtol=tol, atol=tol)
    for out in (Z, dX, dW, db):
        assert out.dtype == xp.asarray(X).dtype


def test_backward_can_skip_the_input_gradient(xp, rng):
    dX, dW, db = layers.dense_backward(xp.ones((3, 2)), xp.ones((3, 4)), xp.ones((4, 2)), input_grad=False)
    assert dX is None and tuple(dW.shape) == (4, 2) and tuple(db.shape) == (2,)


def test_forward_does_not_change_its_inputs(rng):
    X, W, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(2)
    copies = [a.copy() for a in (X, W, b)]
    layers.dense_forward(X, W, b)
    for before, after in zip(copies, (X, W, b)):
        np.testing.assert_array_equal(before, after)


def test_shape_mismatch_names_both_shapes(xp):
    with pytest.raises(ValueError, match=r"X has shape \(5, 4\) and W has shape \(3, 2\), but X's columns \(4\) must equal W's rows \(3\)"):
        layers.dense_forward(xp.ones((5, 4)), xp.ones((3, 2)), xp.zeros(2))


def test_bias_of_the_wrong_length(xp):
    with pytest.raises(ValueError, match=r"b should have shape \(2,\).* but got shape \(3,\)"):
        layers.dense_forward(xp.ones((5, 3)), xp.ones((3, 2)), xp.zeros(3))


def test_a_single_sample_needs_a_batch_axis(xp):
    with pytest.raises(ValueError, match=r"X should be a 2-D array \(batch, n_in\), but got shape \(3,\)\. A single sample"):
        layers.dense_forward(xp.ones(3), xp.ones((3, 2)), xp.zeros(2))


def test_backward_checks_dZ(xp):
    with pytest.raises(ValueError, match=r"dZ should have shape \(5, 2\)"):
        layers.dense_backward(xp.ones((4, 2)), xp.ones((5, 3)), xp.ones((3, 2)))
