"""Loss functions: how far the network's output is from the target, as one number.

Every loss is a **mean over the batch**, so the learning rate does not have to
change with the batch size, and every backward pass divides by the batch size
exactly once.

``softmax_cross_entropy`` fuses the output softmax with the cross-entropy.
Together their gradient collapses to ``(P - Y) / batch`` (``P`` the softmax
probabilities, ``Y`` the one-hot labels), which is both cheaper and more
accurate than chaining the two separate derivatives. The same ``output -
target`` form holds for sigmoid with binary cross-entropy and for the identity
with squared error (up to its factor 2).
"""

from __future__ import annotations

from .backend import namespace_of
from .guard import reference
from .validation import require_labels, require_ndim, require_nonempty, require_same_shape


@reference
def one_hot(y, n_classes: int, dtype=None):
    """Labels as one-hot rows.

    Parameters
    ----------
    y : integer array, shape (batch,)
    n_classes : int
    dtype : dtype of the result (default float32)

    Returns
    -------
    Y : array, shape (batch, n_classes): ``Y[i, y[i]] = 1``, every other entry 0
    """
    xp = namespace_of(y, names=("y",))
    require_labels("one_hot", xp, y, None, n_classes)
    return _one_hot(xp, y, n_classes, dtype if dtype is not None else xp.float32)


def _one_hot(xp, y, n_classes, dtype):
    """:func:`one_hot` for labels that were already checked."""
    matches = y[:, None] == xp.arange(n_classes)  # (batch, 1) against (n_classes,) broadcasts to (batch, n_classes)
    return xp.astype(matches, dtype)


@reference
def mse(Y_hat, Y) -> float:
    """Mean squared error over every entry, ``mean((Y_hat - Y) ** 2)``.

    Parameters
    ----------
    Y_hat, Y : arrays of the same shape, e.g. (batch, n_out)
    """
    xp = namespace_of(Y_hat, Y, names=("Y_hat", "Y"))
    require_same_shape("mse", "Y_hat", Y_hat, "Y", Y)
    require_nonempty("mse", "Y_hat", Y_hat)
    diff = Y_hat - Y
    return float(xp.mean(diff * diff))


@reference
def mse_backward(Y_hat, Y):
    """Gradient of :func:`mse` w.r.t. ``Y_hat``: ``2 * (Y_hat - Y) / Y.size``.

    The mean runs over every entry, so the divisor is the number of entries,
    not only the batch size.
    """
    namespace_of(Y_hat, Y, names=("Y_hat", "Y"))
    require_same_shape("mse_backward", "Y_hat", Y_hat, "Y", Y)
    size = 1
    for n in Y.shape:
        size *= int(n)
    return (Y_hat - Y) * (2.0 / size)


@reference
def cross_entropy(P, y) -> float:
    """Mean negative log-probability of the true class, ``-mean(log P[i, y[i]])``.

    Parameters
    ----------
    P : array, shape (batch, n_classes), rows of probabilities (e.g. softmax output)
    y : integer array, shape (batch,), class indices

    A probability that underflowed to 0 would give ``log(0) = -inf``; it is
    clipped to the smallest positive normal number of P's dtype first, so the
    loss stays finite (about 87 for float32) while still being very large.
    """
    xp = namespace_of(P, y, names=("P", "y"))
    require_ndim("cross_entropy", "P", P, 2, "(batch, n_classes)")
    require_nonempty("cross_entropy", "P", P)
    require_labels("cross_entropy", xp, y, int(P.shape[0]), int(P.shape[1]))
    p_true = xp.take_along_axis(P, y[:, None], axis=1)  # P[i, y[i]] for every row i
    p_true = xp.clip(p_true, min=xp.finfo(P.dtype).smallest_normal)
    return float(-xp.mean(xp.log(p_true)))


@reference
def softmax_cross_entropy(logits, y):
    """Softmax followed by cross-entropy, fused, with its gradient.

    Parameters
    ----------
    logits : array, shape (batch, n_classes), the last layer's pre-activation
    y : integer array, shape (batch,), class indices

    Returns
    -------
    loss : float, mean cross-entropy over the batch
    dlogits : array, shape (batch, n_classes), ``(softmax(logits) - one_hot(y)) / batch``

    The log-probabilities come from the log-sum-exp with the row maximum
    shifted out, ``log P = (Z - max) - log(sum(exp(Z - max)))``, so no
    probability is ever rounded to 0 before its log is taken.

    Only one ``exp`` is computed: the probabilities for the gradient reuse it.
    """
    xp = namespace_of(logits, y, names=("logits", "y"))
    require_ndim("softmax_cross_entropy", "logits", logits, 2, "(batch, n_classes)")
    require_nonempty("softmax_cross_entropy", "logits", logits)
    require_labels("softmax_cross_entropy", xp, y, int(logits.shape[0]), int(logits.shape[1]))
    return _softmax_cross_entropy(xp, logits, y)


# Guarded too: called directly it would be a way around the guard on softmax_cross_entropy.
@reference
def _softmax_cross_entropy(xp, logits, y):
    """:func:`softmax_cross_entropy` for labels that were already checked.

    ``MLP.fit`` checks all the labels once, before the first batch, and then
    calls this for every batch.
    """
    batch, n_classes = int(logits.shape[0]), int(logits.shape[1])
    shifted = logits - xp.max(logits, axis=1, keepdims=True)
    exp_shifted = xp.exp(shifted)
    sums = xp.sum(exp_shifted, axis=1, keepdims=True)
    # log P[i, y_i] = shifted[i, y_i] - log(sums[i]): the log-probability of the
    # true class, without forming a probability that could round to 0 first.
    # (Picking shifted[i, y_i] rather than summing shifted * Y: a score of -inf
    # elsewhere in the row would make that sum -inf * 0 = NaN.)
    # One float() for the whole loss: on a GPU each float() waits for the device.
    picked = xp.take_along_axis(shifted, y[:, None], axis=1)
    loss = float(xp.sum(xp.log(sums)) - xp.sum(picked)) / batch
    # (P - Y) / batch, the fused gradient, computed in place on P to save temporaries.
    dlogits = exp_shifted / sums
    dlogits -= _one_hot(xp, y, n_classes, logits.dtype)
    dlogits /= batch
    return loss, dlogits
