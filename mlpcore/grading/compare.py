"""Comparing one learner output with the reference's: type, then shape, then dtype, then values.

Each comparison returns ``None`` when the output is right, or a sentence that
says what is wrong and where, so that the first problem found is the one the
learner reads.
"""

from __future__ import annotations

import numbers

import array_api_compat
import numpy as np

from ..backend import to_numpy


def tolerance(dtype) -> tuple[float, float]:
    """``(rtol, atol)`` for comparing values of ``dtype``: float32 keeps about 7 digits."""
    return (1e-4, 1e-5) if np.dtype(dtype) == np.float32 else (1e-7, 1e-10)


def as_array(value):
    """A NumPy array for arrays of any backend, or None for things that are not arrays."""
    if isinstance(value, np.ndarray):
        return value
    if array_api_compat.is_array_api_obj(value):
        return to_numpy(value)
    return None


def compare_array(name: str, value, expected: np.ndarray) -> str | None:
    """``None`` if ``value`` is an array equal to ``expected`` within tolerance, else what differs."""
    actual = as_array(value)
    if actual is None:
        return f"{name} should be an array, but your function returned {type(value).__name__}"
    if actual.shape != expected.shape:
        return f"{name} should have shape {expected.shape}, but yours has shape {actual.shape}"
    if actual.dtype != expected.dtype:
        advice = dtype_advice(actual.dtype, expected.dtype)
        return f"{name} should have dtype {expected.dtype}, but yours has dtype {actual.dtype}; {advice}"
    rtol, atol = tolerance(expected.dtype)
    if not np.isfinite(actual).all() and np.isfinite(expected).all():
        bad = np.argwhere(~np.isfinite(actual))[0]
        return f"{name} contains NaN or infinity (first at index {tuple(int(i) for i in bad)}), but the expected values are all finite"
    close = np.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return None
    wrong = np.argwhere(~close)
    first = tuple(int(i) for i in wrong[0])
    return (f"{name} differs from the expected values at {len(wrong)} of {close.size} entries; "
            f"e.g. at index {first}: {yours_and_expected(actual[first], expected[first])}")


def compare_number(name: str, value, expected: float) -> str | None:
    """``None`` if ``value`` is a real number equal to ``expected`` within tolerance."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        shape = f" of shape {value.shape}" if hasattr(value, "shape") else ""
        return f"{name} should be a single number, but your function returned {type(value).__name__}{shape}"
    rtol, atol = 1e-5, 1e-8
    if not np.isfinite(value) and np.isfinite(expected):
        return f"{name} is {value}, but the expected value is finite ({expected:.6g})"
    if np.isclose(float(value), expected, rtol=rtol, atol=atol):
        return None
    return f"{name} is not the expected value: {yours_and_expected(float(value), expected)}"


def compare_float(name: str, value, expected: float) -> str | None:
    """Like :func:`compare_number`, for exercises whose text asks for a Python ``float``
    (``np.float64`` is one; a 0-d array or an ``np.float32`` is not)."""
    if not isinstance(value, float):
        kind = "a 0-d array" if isinstance(value, np.ndarray) and value.ndim == 0 else type(value).__name__
        return f"{name} should be a Python float, but your function returned {kind}; wrap it in float(...)"
    return compare_number(name, value, expected)


def yours_and_expected(actual: float, expected: float) -> str:
    """``"yours 0.7877113, expected 0.7877109 (relative difference 5.1e-07)"``: as many digits as it
    takes for the two numbers to read differently, so that the difference is visible."""
    for digits in (6, 9, 12, 17):
        mine, theirs = f"{actual:.{digits}g}", f"{expected:.{digits}g}"
        if mine != theirs:
            break
    text = f"yours {mine}, expected {theirs}"
    if expected != 0 and np.isfinite(actual) and np.isfinite(expected):
        text += f" (relative difference {abs(actual - expected) / abs(expected):.2g})"
    return text


def dtype_advice(actual, expected) -> str:
    """Where an output of dtype ``actual`` instead of ``expected`` usually comes from."""
    actual, expected = np.dtype(actual), np.dtype(expected)
    if actual == np.bool_:
        return f"a comparison gives booleans: convert the result with .astype(...) to {expected}"
    if actual.kind in "iu":
        return f"integer arithmetic gave integers: convert the result with .astype(...) to {expected}"
    if expected == np.float64 and actual.kind == "f":
        return ("NumPy draws and computes in float64 unless told otherwise, so a dtype= or .astype(...) "
                f"made yours {actual}")
    return ("float inputs keep their dtype, and a float64 constant or an np.zeros(...) without dtype= "
            "can change it")


def compare_output(value, expected, names) -> str | None:
    """Compare a whole output: an array, a number, or a tuple of those (``names`` labels each part)."""
    if isinstance(expected, tuple):
        if not isinstance(value, tuple) or len(value) != len(expected):
            got = f"a tuple of {len(value)}" if isinstance(value, tuple) else type(value).__name__
            return f"your function should return a tuple ({', '.join(names)}), but it returned {got}"
        for part_name, part, part_expected in zip(names, value, expected):
            problem = compare_output(part, part_expected, (part_name,))
            if problem:
                return problem
        return None
    if isinstance(expected, dict):
        keys = sorted(expected)
        if not isinstance(value, dict) or sorted(value) != keys:
            got = f"one with keys {sorted(value)}" if isinstance(value, dict) else type(value).__name__
            return f"{names[0]} should be a dict with keys {keys}, but your function returned {got}"
        for key in keys:
            label = key if " " in key else f"{names[0]}[{key!r}]"
            problem = compare_output(value[key], expected[key], (label,))
            if problem:
                return problem
        return None
    if isinstance(expected, np.ndarray):
        return compare_array(names[0], value, expected)
    return compare_number(names[0], value, float(expected))


def same_output(value, other) -> bool:
    """Whether two outputs agree (used to recognise a known mistake in a wrong answer)."""
    if isinstance(other, dict):
        return isinstance(value, dict) and sorted(value) == sorted(other) and all(same_output(value[k], other[k]) for k in other)
    if isinstance(other, tuple):
        return isinstance(value, tuple) and len(value) == len(other) and all(same_output(v, o) for v, o in zip(value, other))
    a, b = as_array(value), as_array(other)
    if a is None or b is None:
        try:
            return bool(np.isclose(float(value), float(other), rtol=1e-5, atol=1e-8))
        except (TypeError, ValueError):
            return False
    if a.shape != b.shape:
        return False
    rtol, atol = tolerance(b.dtype if b.dtype.kind == "f" else np.float64)
    return bool(np.allclose(a.astype(np.float64), b.astype(np.float64), rtol=rtol, atol=atol, equal_nan=True))
