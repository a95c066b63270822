"""Regularization: L2 weight decay and inverted dropout.

L2 adds ``lam / 2 * sum(W ** 2)`` over every weight matrix to the loss, so its
gradient is simply ``lam * W``: each step pulls the weights a little towards 0.
Biases are left alone: they do not multiply the input, so shrinking them does
not make the function any smoother. Weights are the entries whose key starts
with ``"W"``.

Inverted dropout zeroes each activation with probability ``p_drop`` while
training and divides the survivors by ``1 - p_drop``, so the expected value of
every activation is unchanged and nothing has to be rescaled at test time
(where dropout is simply switched off).
"""

from __future__ import annotations

from array_api_compat import device as array_device

from .backend import namespace_of
from .guard import reference
from .rng import as_generator
from .validation import require_positive_number, require_probability, require_same_shape


def _is_weight(name: str) -> bool:
    return name.startswith("W")


@reference
def l2_penalty(params, lam) -> float:
    """``lam / 2 * sum of W**2`` over the weight matrices in ``params`` (a dict name -> array)."""
    lam = require_positive_number("l2_penalty", "lam", lam, allow_zero=True)
    total = 0.0
    for name, value in params.items():
        if _is_weight(name):
            xp = namespace_of(value, names=(name,))
            total += float(xp.sum(value * value))
    return 0.5 * lam * total


@reference
def l2_grads(params, lam):
    """Gradient of :func:`l2_penalty`: a dict with the keys of ``params``,
    ``lam * W`` for weights and zeros for biases (same shapes and dtypes)."""
    lam = require_positive_number("l2_grads", "lam", lam, allow_zero=True)
    grads = {}
    for name, value in params.items():
        xp = namespace_of(value, names=(name,))
        grads[name] = value * lam if _is_weight(name) else xp.zeros_like(value)
    return grads


@reference
def dropout_forward(A, p_drop, rng):
    """Inverted dropout on activations ``A`` during training.

    Parameters
    ----------
    A : array, any shape, e.g. (batch, n_units)
    p_drop : float in [0, 1), the probability of dropping each unit
    rng : numpy.random.Generator or int seed

    Returns
    -------
    A_out : array, shape of A: ``A * mask / (1 - p_drop)``
    mask : array, shape of A, dtype of A: 1 where the unit is kept, 0 where dropped

    The mask is drawn on the host with NumPy (so one seed gives the same mask
    on every backend) and moved to A's device.
    """
    xp = namespace_of(A, names=("A",))
    p_drop = require_probability("dropout_forward", "p_drop", p_drop)
    keep = as_generator(rng).random(tuple(A.shape)) >= p_drop
    mask = xp.astype(xp.asarray(keep, device=array_device(A)), A.dtype)
    return A * mask * (1.0 / (1.0 - p_drop)), mask


@reference
def dropout_backward(dA, mask, p_drop):
    """Gradient through inverted dropout: ``dA * mask / (1 - p_drop)``, the same
    scaling as the forward pass (dropped units pass no gradient back)."""
    namespace_of(dA, mask, names=("dA", "mask"))
    require_same_shape("dropout_backward", "dA", dA, "mask", mask)
    p_drop = require_probability("dropout_backward", "p_drop", p_drop)
    return dA * mask * (1.0 / (1.0 - p_drop))
