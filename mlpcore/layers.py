"""The dense (fully connected) layer: one matrix product and a bias.

Forward, for a whole batch at once (one sample per row)::

    Z = X @ W + b          X (batch, n_in), W (n_in, n_out), b (n_out,) -> Z (batch, n_out)

Backward, given ``dZ`` = dLoss/dZ of shape (batch, n_out), the chain rule gives
three matrix expressions (each shape is forced by the others)::

    dW = X.T @ dZ          (n_in, batch) @ (batch, n_out) -> (n_in, n_out)
    db = dZ.sum(axis=0)    the bias is added to every row, so its gradient sums over rows
    dX = dZ @ W.T          (batch, n_out) @ (n_out, n_in) -> (batch, n_in)
"""

from __future__ import annotations

from .backend import namespace_of
from .guard import reference
from .validation import require_ndim, shape_of


def _require_dense_shapes(fn: str, X, W, b=None) -> None:
    require_ndim(fn, "X", X, 2, "(batch, n_in)")
    require_ndim(fn, "W", W, 2, "(n_in, n_out)")
    if X.shape[1] != W.shape[0]:
        raise ValueError(
            f"{fn}: X has shape {shape_of(X)} and W has shape {shape_of(W)}, but X's columns "
            f"({X.shape[1]}) must equal W's rows ({W.shape[0]}): one weight row per input feature."
        )
    if b is not None and b.shape != (W.shape[1],):
        raise ValueError(
            f"{fn}: b should have shape ({W.shape[1]},), one bias per output unit of W {shape_of(W)}, "
            f"but got shape {shape_of(b)}."
        )


@reference
def dense_forward(X, W, b):
    """Pre-activation of a dense layer, ``Z = X @ W + b``.

    Parameters
    ----------
    X : array, shape (batch, n_in)
    W : array, shape (n_in, n_out)
    b : array, shape (n_out,), broadcast to every row

    Returns
    -------
    Z : array, shape (batch, n_out), dtype of the inputs
    """
    namespace_of(X, W, b, names=("X", "W", "b"))
    _require_dense_shapes("dense_forward", X, W, b)
    Z = X @ W
    Z += b  # in place: saves a second (batch, n_out) array
    return Z


@reference
def dense_backward(dZ, X, W, *, input_grad=True):
    """Gradients of a dense layer from the gradient of its output.

    Parameters
    ----------
    dZ : array, shape (batch, n_out), dLoss/dZ
    X : array, shape (batch, n_in), the layer's input in the forward pass
    W : array, shape (n_in, n_out)
    input_grad : bool, keyword only
        ``False`` skips ``dX`` (returned as ``None``). The first layer's input is
        the data, whose gradient nobody needs; skipping it saves a third of that
        layer's backward work.

    Returns
    -------
    dX : array, shape (batch, n_in)
    dW : array, shape (n_in, n_out)
    db : array, shape (n_out,)
    """
    xp = namespace_of(dZ, X, W, names=("dZ", "X", "W"))
    _require_dense_shapes("dense_backward", X, W)
    require_ndim("dense_backward", "dZ", dZ, 2, "(batch, n_out)")
    if dZ.shape != (X.shape[0], W.shape[1]):
        raise ValueError(
            f"dense_backward: dZ should have shape ({X.shape[0]}, {W.shape[1]}) = (batch of X, columns of W), "
            f"but got {shape_of(dZ)}."
        )
    dW = X.T @ dZ
    db = xp.sum(dZ, axis=0)
    dX = dZ @ W.T if input_grad else None
    return dX, dW, db
