"""Gradient checking: compare an analytic gradient with finite differences.

The central difference ``(f(x + eps) - f(x - eps)) / (2 eps)`` has an error
that shrinks like ``eps**2``, against ``eps`` for the one-sided
``(f(x + eps) - f(x)) / eps``; with eps = 1e-6 in float64 the central form is
good to about 1e-9 relative error. Run checks in float64: float32 keeps only
about 7 digits, fewer than the difference needs.
"""

from __future__ import annotations

import warnings

import numpy as np

from .backend import namespace_of
from .guard import reference
from .validation import require_positive_number, require_same_shape


@reference
def numerical_gradient(f, x, eps=1e-6):
    """Central-difference gradient of a scalar function ``f`` at ``x``.

    Parameters
    ----------
    f : callable
        Returns a scalar for the current value of ``x``. It may read ``x``
        through a closure (e.g. ``x`` is a model's ``params["W1"]``): each entry
        is nudged in place, ``f`` is evaluated, and the entry is restored.
    x : float array, any shape (float64 recommended)
    eps : float, the nudge

    Returns
    -------
    grad : array, shape and dtype of x, ``grad[i] ~ dF/dx[i]``
    """
    xp = namespace_of(x, names=("x",))
    eps = require_positive_number("numerical_gradient", "eps", eps)
    if x.dtype != xp.float64:
        warnings.warn(
            f"numerical_gradient: x has dtype {x.dtype}; finite differences need float64 to be accurate.",
            UserWarning,
            stacklevel=2,
        )
    grad = xp.zeros_like(x)
    for index in np.ndindex(*(int(n) for n in x.shape)):
        original = float(x[index])
        try:
            x[index] = original + eps
            f_plus = float(f(x))
            x[index] = original - eps
            f_minus = float(f(x))
        finally:
            x[index] = original  # restore even if f raised
        grad[index] = (f_plus - f_minus) / (2.0 * eps)
    return grad


@reference
def relative_error(a, b) -> float:
    """``||a - b|| / (||a|| + ||b||)`` with Euclidean norms over all entries.

    0 means identical; below 1e-7 (float64) a gradient is almost surely right,
    above 1e-3 almost surely wrong. Norms over the whole array rather than entry
    by entry keep tiny entries (where any difference looks huge) from dominating.
    Two all-zero arrays give 0.
    """
    xp = namespace_of(a, b, names=("a", "b"))
    require_same_shape("relative_error", "a", a, "b", b)
    a = xp.astype(a, xp.float64)
    b = xp.astype(b, xp.float64)
    diff = a - b
    numerator = float(xp.sqrt(xp.sum(diff * diff)))
    denominator = float(xp.sqrt(xp.sum(a * a))) + float(xp.sqrt(xp.sum(b * b)))
    return 0.0 if denominator == 0.0 else numerator / denominator
