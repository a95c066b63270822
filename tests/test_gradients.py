"""Every backward pass against a float64 central difference (relative error < 1e-7).

Each case builds a scalar function of one input, ``f(x) = sum(forward(x) * G)``
for a fixed random ``G`` (so every output entry matters), computes its gradient
numerically with :func:`mlpcore.gradcheck.numerical_gradient`, and compares it
with the analytic backward pass.
"""

import pytest

from mlpcore import activations, layers, losses, regularization
from mlpcore.gradcheck import numerical_gradient, relative_error
from conftest import to_xp

TOLERANCE = 1e-7
SHAPES = [(1, 3), (4, 5), (7, 2)]


def weighted_sum(xp, out, G):
    return float(xp.sum(out * G))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", sorted(activations.ACTIVATIONS))
def test_activation_backward(xp, rng, name, shape):
    forward, backward = activations.get_activation(name).forward, activations.get_activation(name).backward
    Z = to_xp(xp, rng.standard_normal(shape))
    G = to_xp(xp, rng.standard_normal(shape))
    numeric = numerical_gradient(lambda z: weighted_sum(xp, forward(z), G), Z)
    assert relative_error(backward(G, Z), numeric) < TOLERANCE


@pytest.mark.parametrize("batch,n_in,n_out", [(1, 3, 2), (5, 4, 3), (3, 7, 1)])
def test_dense_backward(xp, rng, batch, n_in, n_out):
    X, W, b = (to_xp(xp, rng.standard_normal(s)) for s in [(batch, n_in), (n_in, n_out), (n_out,)])
    G = to_xp(xp, rng.standard_normal((batch, n_out)))
    dX, dW, db = layers.dense_backward(G, X, W)
    f = lambda _: weighted_sum(xp, layers.dense_forward(X, W, b), G)  # noqa: E731 (X, W, b nudged in place)
    assert relative_error(dX, numerical_gradient(f, X)) < TOLERANCE
    assert relative_error(dW, numerical_gradient(f, W)) < TOLERANCE
    assert relative_error(db, numerical_gradient(f, b)) < TOLERANCE


@pytest.mark.parametrize("shape", SHAPES)
def test_mse_backward(xp, rng, shape):
    Y_hat, Y = to_xp(xp, rng.standard_normal(shape)), to_xp(xp, rng.standard_normal(shape))
    numeric = numerical_gradient(lambda y_hat: losses.mse(y_hat, Y), Y_hat)
    assert relative_error(losses.mse_backward(Y_hat, Y), numeric) < TOLERANCE


@pytest.mark.parametrize("batch,n_classes", [(1, 2), (6, 4), (3, 10)])
def test_softmax_cross_entropy_gradient(xp, rng, batch, n_classes):
    logits = to_xp(xp, rng.standard_normal((batch, n_classes)) * 3)
    y = to_xp(xp, rng.integers(0, n_classes, batch))
    _, dlogits = losses.softmax_cross_entropy(logits, y)
    numeric = numerical_gradient(lambda z: losses.softmax_cross_entropy(z, y)[0], logits)
    assert relative_error(dlogits, numeric) < TOLERANCE


@pytest.mark.parametrize("p_drop", [0.0, 0.3, 0.8])
def test_dropout_backward(xp, rng, p_drop):
    A = to_xp(xp, rng.standard_normal((4, 6)))
    G = to_xp(xp, rng.standard_normal((4, 6)))
    _, mask = regularization.dropout_forward(A, p_drop, 7)
    # The same seed draws the same mask, so f is a fixed linear function of A.
    f = lambda a: weighted_sum(xp, regularization.dropout_forward(a, p_drop, 7)[0], G)  # noqa: E731
    assert relative_error(regularization.dropout_backward(G, mask, p_drop), numerical_gradient(f, A)) < TOLERANCE


def test_l2_grads(xp, rng):
    params = {"W1": to_xp(xp, rng.standard_normal((3, 4))), "b1": to_xp(xp, rng.standard_normal(4))}
    grads = regularization.l2_grads(params, 0.3)
    for name in params:
        numeric = numerical_gradient(lambda _: regularization.l2_penalty(params, 0.3), params[name])
        assert relative_error(grads[name], numeric) < TOLERANCE  # biases: both all zero, error 0
