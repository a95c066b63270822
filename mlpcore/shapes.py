"""Shape arithmetic of a dense network: what sizes its matrices have and how much memory they take.

For layer sizes ``[n_0, n_1, ..., n_L]`` (inputs first, outputs last), layer i
holds a weight matrix ``Wi`` of shape ``(n_{i-1}, n_i)`` (one row per input, one
column per unit) and a bias ``bi`` of shape ``(n_i,)``. The 4-3-2 network::

    >>> parameter_shapes([4, 3, 2])
    [((4, 3), (3,)), ((3, 2), (2,))]
    >>> count_parameters([4, 3, 2])      # 4*3 + 3  +  3*2 + 2
    23
"""

from __future__ import annotations


import numpy as np

from .backend import namespace_of
from .guard import reference


@reference
def parameter_shapes(layer_sizes) -> list[tuple[tuple[int, int], tuple[int]]]:
    """``[(W1 shape, b1 shape), (W2 shape, b2 shape), ...]`` for ``layer_sizes`` ``[n_0, ..., n_L]``."""
    return [((n_in, n_out), (n_out,)) for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:])]


@reference
def count_parameters(layer_sizes) -> int:
    """Number of weights and biases: the sum over layers of ``n_in * n_out + n_out``."""
    return sum(n_in * n_out + n_out for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]))


@reference
def matmul_shape(shape_a, shape_b):
    """Shape of ``A @ B`` for 2-D ``A`` of ``shape_a`` and ``B`` of ``shape_b``, or None when the
    inner dimensions differ: ``(m, k) @ (k, n) -> (m, n)``."""
    (m, k_a), (k_b, n) = shape_a, shape_b
    return (m, n) if k_a == k_b else None


@reference
def add_bias(Z, b):
    """``Z + b`` with ``b`` (n,) added to every row of ``Z`` (batch, n) by broadcasting:
    NumPy lines shapes up from the right, so b acts as a (1, n) row repeated ``batch`` times."""
    namespace_of(Z, b, names=("Z", "b"))
    return Z + b


@reference
def activation_bytes(layer_sizes, batch_size: int, dtype) -> int:
    """Bytes of the pre-activations ``Z1 .. ZL`` of one batch, which the backward pass keeps:
    ``batch_size * (n_1 + ... + n_L) * itemsize`` (4 bytes per float32, 8 per float64)."""
    return batch_size * sum(layer_sizes[1:]) * np.dtype(dtype).itemsize


def require_layer_sizes(layer_sizes) -> list[int]:
    """``layer_sizes`` as a list of ints, or a clear error: at least an input and an output size,
    all positive whole numbers, and at least two classes."""
    try:
        # int() would read "32" as 3 and 2, and True as 1: neither is a layer size
        if isinstance(layer_sizes, (str, bytes)) or any(isinstance(n, (bool, str, bytes)) for n in layer_sizes):
            raise TypeError
        sizes = [int(n) for n in layer_sizes]
        whole = all(float(n) == int(n) for n in layer_sizes)
    except (TypeError, ValueError):
        raise TypeError(f"layer_sizes should be a list of whole numbers like [64, 32, 10], but got {layer_sizes!r}.") from None
    if len(sizes) < 2 or not whole or any(n < 1 for n in sizes):
        raise ValueError(
            "layer_sizes should list at least two positive whole numbers, inputs first and classes last "
            f"(e.g. [64, 32, 10]), but got {list(layer_sizes)!r}."
        )
    if sizes[-1] < 2:
        raise ValueError(f"the output layer needs at least 2 units (one per class), but layer_sizes ends in {sizes[-1]}.")
    return sizes


__all__ = ["parameter_shapes", "count_parameters", "matmul_shape", "add_bias", "activation_bytes",
           "require_layer_sizes"]
