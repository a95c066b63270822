"""Input checks shared by the numeric functions, with messages a learner can act on.

Each check names the function, the argument, what was expected and what came.
They look only at shapes and dtypes (free), except :func:`require_labels` and
:func:`require_finite`, which read the values once.
"""

from __future__ import annotations

import math


def shape_of(array) -> tuple:
    return tuple(int(n) for n in array.shape)


def require_ndim(fn: str, name: str, array, ndim: int, meaning: str) -> None:
    """``array`` must have ``ndim`` axes; ``meaning`` spells them out, e.g. ``"(batch, n_in)"``."""
    if array.ndim != ndim:
        hint = ""
        if ndim == 2 and array.ndim == 1:
            hint = " A single sample needs a batch axis too: reshape it to (1, n), e.g. x[None, :]."
        raise ValueError(f"{fn}: {name} should be a {ndim}-D array {meaning}, but got shape {shape_of(array)}.{hint}")


def require_nonempty(fn: str, name: str, array) -> None:
    """``array`` must hold at least one row: a mean over no samples is undefined (0 / 0)."""
    if array.ndim >= 1 and int(array.shape[0]) == 0:
        raise ValueError(f"{fn}: {name} should hold at least one sample, but got shape {shape_of(array)}.")


def require_same_shape(fn: str, name_a: str, a, name_b: str, b) -> None:
    """Two arrays that combine element by element must agree exactly.

    Broadcasting would otherwise turn a (n, 1) and a (n,) array into an (n, n)
    one without complaint, a classic silent bug.
    """
    if a.shape != b.shape:
        raise ValueError(
            f"{fn}: {name_a} and {name_b} should have the same shape, "
            f"but {name_a} has shape {shape_of(a)} and {name_b} has shape {shape_of(b)}."
        )


def require_labels(fn: str, xp, y, n_samples: int | None, n_classes: int) -> None:
    """``y`` must be a 1-D integer array of ``n_samples`` class indices in ``[0, n_classes)``.

    ``n_samples=None`` accepts any length.
    """
    if not xp.isdtype(y.dtype, "integral"):
        raise TypeError(
            f"{fn}: labels y should be integer class indices (0 to {n_classes - 1}), but got dtype {y.dtype}. "
            "If they are one-hot rows, take y.argmax(axis=1); if they are whole-number floats, use y.astype(int)."
        )
    if y.ndim != 1 or (n_samples is not None and int(y.shape[0]) != n_samples):
        expected = f"({n_samples},), one label per row" if n_samples is not None else "(batch,)"
        raise ValueError(f"{fn}: labels y should have shape {expected}, but got shape {shape_of(y)}.")
    if int(y.shape[0]) == 0:
        return
    low, high = int(xp.min(y)), int(xp.max(y))
    if low < 0 or high >= n_classes:
        bad = low if low < 0 else high
        raise ValueError(
            f"{fn}: labels should be integers from 0 to {n_classes - 1} (there are {n_classes} classes), "
            f"but y contains {bad}."
        )


def require_finite(fn: str, name: str, xp, X) -> None:
    """``X`` must hold no NaN or infinity; the message says how many and where the first is."""
    if not xp.isdtype(X.dtype, "real floating"):
        return
    # Fast path: one pass and no temporary. A NaN or inf anywhere makes the sum
    # non-finite; only then (or if the sum merely overflowed) look closer.
    if math.isfinite(float(xp.sum(X))):
        return
    finite = xp.isfinite(X)
    if bool(xp.all(finite)):
        return
    bad = xp.logical_not(finite)
    count = int(xp.sum(xp.astype(bad, xp.int64)))
    first_row = int(xp.argmax(xp.astype(xp.any(bad, axis=1), xp.int8))) if X.ndim == 2 else None
    where = f" (the first in row {first_row})" if first_row is not None else ""
    raise ValueError(
        f"{fn}: {name} contains {count} NaN or infinite value(s){where}. "
        "Clean or impute the data first; a single NaN turns every weight it touches into NaN."
    )


def require_positive_number(fn: str, name: str, value, *, allow_zero: bool = False) -> float:
    """A real number > 0 (or >= 0), returned as ``float``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{fn}: {name} should be a number, but got {value!r}.") from None
    if not (number >= 0 if allow_zero else number > 0) or number != number or number == float("inf"):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{fn}: {name} should be a finite number {bound}, but got {value!r}.")
    return number


def require_probability(fn: str, name: str, value) -> float:
    """A number in ``[0, 1)``: a drop probability of 1 would drop everything."""
    number = require_positive_number(fn, name, value, allow_zero=True)
    if number >= 1:
        raise ValueError(f"{fn}: {name} should be in [0, 1), but got {value!r}.")
    return number
