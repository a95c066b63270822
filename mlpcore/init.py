"""Weight initializers: the starting values of each ``W`` of shape (n_in, n_out).

Every initializer has the signature ``(n_in, n_out, rng)`` so the model can pick
one by name from :data:`INITIALIZERS`. They return float64 NumPy arrays; the
model casts them to its dtype and device, so the same seed gives the same
starting point in float32 and float64, on the CPU and on the GPU.

Why the scale matters: each unit of the next layer sums ``n_in`` products, so
the variance of its pre-activation is about ``n_in * Var(W) * Var(input)``.
Keeping that near the input's variance keeps signals (and gradients) from
vanishing or exploding as they pass through many layers:

* Xavier/Glorot: ``Var(W) = 2 / (n_in + n_out)``, balanced for tanh/sigmoid.
* He/Kaiming: ``Var(W) = 2 / n_in``; the factor 2 makes up for ReLU zeroing half its inputs.

Biases start at zero (the model does that): random weights already break the
symmetry between units.
"""

from __future__ import annotations

import math

import numpy as np

from .guard import reference
from .rng import as_generator


def _require_sizes(fn: str, n_in, n_out) -> None:
    for name, n in (("n_in", n_in), ("n_out", n_out)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"{fn}: {name} should be a positive whole number, but got {n!r}.")


@reference
def zeros(n_in, n_out, rng=None):
    """All-zero weights, shape (n_in, n_out). Every hidden unit then computes the same
    thing and gets the same gradient forever: kept to show why random starts are needed.
    ``rng`` is accepted (and ignored) so that every initializer has one signature."""
    _require_sizes("zeros", n_in, n_out)
    return np.zeros((n_in, n_out))


@reference
def normal(n_in, n_out, rng, scale=0.01):
    """Weights drawn from ``N(0, scale**2)``, shape (n_in, n_out). Fine for shallow
    nets; in deep ones a fixed small scale makes signals shrink layer after layer."""
    _require_sizes("normal", n_in, n_out)
    return as_generator(rng).standard_normal((n_in, n_out)) * scale


@reference
def xavier(n_in, n_out, rng):
    """Xavier/Glorot normal: ``N(0, 2 / (n_in + n_out))``, shape (n_in, n_out)."""
    _require_sizes("xavier", n_in, n_out)
    return as_generator(rng).standard_normal((n_in, n_out)) * math.sqrt(2.0 / (n_in + n_out))


@reference
def he(n_in, n_out, rng):
    """He/Kaiming normal: ``N(0, 2 / n_in)``, shape (n_in, n_out); the default for ReLU."""
    _require_sizes("he", n_in, n_out)
    return as_generator(rng).standard_normal((n_in, n_out)) * math.sqrt(2.0 / n_in)


INITIALIZERS = {"zeros": zeros, "normal": normal, "xavier": xavier, "glorot": xavier, "he": he, "kaiming": he}


def get_initializer(name: str):
    """The initializer called ``name``; a clear error for unknown names."""
    if name not in INITIALIZERS:
        raise ValueError(f"unknown initializer {name!r}; choose one of {', '.join(map(repr, INITIALIZERS))}.")
    return INITIALIZERS[name]
