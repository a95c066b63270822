"""Explicit randomness: every function that draws takes a Generator or a seed.

Nothing in mlpcore touches NumPy's global random state, so a seed given to one
function never changes what another draws.
"""

from __future__ import annotations

import numbers

import numpy as np


def as_generator(seed_or_rng=None) -> np.random.Generator:
    """A ``numpy.random.Generator`` from a seed, a Generator, or ``None``.

    An existing Generator is returned as is (so a caller can share one stream
    across calls); an integer seed gives a fresh, reproducible Generator;
    ``None`` gives an unseeded one.
    """
    if isinstance(seed_or_rng, np.random.Generator):
        return seed_or_rng
    if seed_or_rng is None or (isinstance(seed_or_rng, numbers.Integral) and not isinstance(seed_or_rng, bool)):
        if seed_or_rng is not None and seed_or_rng < 0:
            raise ValueError(f"a seed should be a whole number >= 0, but got {seed_or_rng}.")
        return np.random.default_rng(seed_or_rng)
    raise TypeError(
        f"expected a numpy.random.Generator or an integer seed, but got {type(seed_or_rng).__name__} "
        f"({seed_or_rng!r}). Make one with numpy.random.default_rng(0)."
    )
