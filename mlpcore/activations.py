"""Activation functions and their backward passes.

A hidden layer computes ``A = g(Z)`` element by element, where ``Z`` is the
layer's pre-activation. Each ``*_backward(dA, Z)`` turns the gradient of the
loss with respect to ``A`` into the gradient with respect to ``Z`` by the chain
rule: ``dZ = dA * g'(Z)``. The derivative is taken at the pre-activation ``Z``;
taking it at ``A`` is a classic mistake.

All functions keep the shape and dtype of their input. ``softmax`` turns a row
of scores into probabilities; its gradient is written once, fused with the
cross-entropy loss, in :func:`mlpcore.losses.softmax_cross_entropy`.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable

from .backend import namespace_of
from .guard import reference
from .validation import require_same_shape


@reference
def relu(Z):
    """Rectified linear unit, ``max(Z, 0)``; any shape in, same shape and dtype out."""
    xp = namespace_of(Z)
    return xp.maximum(Z, 0.0)


@reference
def sigmoid(Z):
    """Logistic function ``1 / (1 + exp(-Z))``, computed without overflow.

    ``exp(-Z)`` overflows for Z below about -89 in float32, so each branch is
    written with ``e = exp(-|Z|)``, which lies in (0, 1]:
    ``1 / (1 + e)`` for Z >= 0 and ``e / (1 + e)`` for Z < 0.
    """
    xp = namespace_of(Z)
    e = xp.exp(-xp.abs(Z))
    return xp.where(Z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@reference
def tanh(Z):
    """Hyperbolic tangent, values in (-1, 1); any shape in, same shape and dtype out."""
    xp = namespace_of(Z)
    return xp.tanh(Z)


@reference
def softmax(Z):
    """Softmax along the last axis: each row of scores becomes probabilities summing to 1.

    Parameters
    ----------
    Z : array, shape (batch, n_classes)

    Returns
    -------
    P : array, shape (batch, n_classes), same dtype

    Subtracting each row's maximum first changes nothing mathematically
    (``exp(z - c) / sum exp(z - c)`` is the same ratio) but keeps ``exp`` from
    overflowing: the largest exponent becomes exp(0) = 1.
    """
    xp = namespace_of(Z)
    e = xp.exp(Z - xp.max(Z, axis=-1, keepdims=True))
    return e / xp.sum(e, axis=-1, keepdims=True)


@reference
def log_softmax(Z):
    """The logarithm of :func:`softmax` along the last axis, computed without overflow or log(0).

    ``log_softmax(Z) = Z - m - log(sum(exp(Z - m)))`` with ``m`` each row's maximum
    (the log-sum-exp trick): the exponents are at most 0, and the sum is at least 1.

    Parameters
    ----------
    Z : array, shape (batch, n_classes)

    Returns
    -------
    log_P : array, shape (batch, n_classes), same dtype; every entry <= 0
    """
    xp = namespace_of(Z)
    shifted = Z - xp.max(Z, axis=-1, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))


@reference
def relu_backward(dA, Z):
    """Gradient through ReLU: ``dZ = dA`` where ``Z > 0``, else 0.

    Parameters
    ----------
    dA : array, gradient of the loss w.r.t. the activation, shape (batch, n)
    Z : array, the pre-activation the forward pass used, shape (batch, n)

    Returns
    -------
    dZ : array, shape (batch, n)
    """
    xp = namespace_of(dA, Z, names=("dA", "Z"))
    require_same_shape("relu_backward", "dA", dA, "Z", Z)
    # Multiplying by the 0/1 derivative is several times faster in NumPy than
    # xp.where(Z > 0, dA, 0.0), which takes a slow path for the scalar.
    return dA * xp.astype(Z > 0, dA.dtype)


@reference
def sigmoid_backward(dA, Z, A=None):
    """Gradient through the sigmoid: ``dZ = dA * s * (1 - s)`` with ``s = sigmoid(Z)``.

    ``A``, the forward output ``sigmoid(Z)``, may be passed when it is at hand
    (the model does) so that it is not computed a second time.
    """
    namespace_of(dA, Z, names=("dA", "Z"))
    require_same_shape("sigmoid_backward", "dA", dA, "Z", Z)
    s = sigmoid(Z) if A is None else A
    return dA * s * (1.0 - s)


@reference
def tanh_backward(dA, Z, A=None):
    """Gradient through tanh: ``dZ = dA * (1 - t**2)`` with ``t = tanh(Z)``.

    ``A``, the forward output ``tanh(Z)``, may be passed to avoid recomputing it.
    """
    namespace_of(dA, Z, names=("dA", "Z"))
    require_same_shape("tanh_backward", "dA", dA, "Z", Z)
    t = tanh(Z) if A is None else A
    return dA * (1.0 - t * t)


@dataclass(frozen=True)
class Activation:
    """A hidden-layer activation: ``forward(Z) -> A``, ``backward(dA, Z) -> dZ``, and whether the
    backward pass can reuse the forward's output ``A`` (passed as ``A=``) instead of recomputing
    ``g(Z)``: sigmoid and tanh can (their derivatives are written with their output), ReLU needs only Z."""

    name: str
    forward: Callable
    backward: Callable
    reuses_output: bool

    def backward_given_output(self, dA, Z, A):
        """``dZ`` for the layer whose forward pass computed ``A = forward(Z)``."""
        return self.backward(dA, Z, A=A) if self.reuses_output else self.backward(dA, Z)


# The one table of hidden-layer activations: the model, the command line and the grading's
# re-statement of a network all pick from it by name, never with an if-chain.
ACTIVATIONS = {activation.name: activation for activation in (
    Activation("relu", relu, relu_backward, reuses_output=False),
    Activation("sigmoid", sigmoid, sigmoid_backward, reuses_output=True),
    Activation("tanh", tanh, tanh_backward, reuses_output=True),
)}


def get_activation(name: str) -> Activation:
    """The :class:`Activation` called ``name``; a clear error for a name that is not one."""
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(map(repr, ACTIVATIONS))}.")
    return ACTIVATIONS[name]
