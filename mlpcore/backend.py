"""Where arrays live: the array namespace of the inputs, and the CPU/GPU choice.

Every numeric function in mlpcore asks :func:`namespace_of` for the array
namespace of its inputs (``xp``) and then calls only ``xp.*``. The same code
therefore runs on NumPy, on CuPy (a CUDA GPU) and on array-api-strict (the
strict stand-in the test-suite uses to catch NumPy-only calls).

Moving data between devices is always explicit and says so in the name:
:func:`to_numpy` brings an array to the host, :func:`to_device` sends one to
``"cpu"`` or ``"gpu"``. Handing one function arrays from two devices is an
error with a message that says which argument lives where.
"""

from __future__ import annotations

import functools
import os
import warnings

import array_api_compat
import array_api_compat.numpy as _compat_numpy
import numpy as np

DEVICE_CHOICES = ("cpu", "gpu", "auto")
DEVICE_ENV_VAR = "MLPCORE_DEVICE"


def _describe(value) -> str:
    """A short, learner-readable description of where a value lives."""
    module = type(value).__module__.split(".")[0]
    where = {"numpy": "NumPy, CPU", "cupy": "CuPy, GPU", "array_api_strict": "array-api-strict"}.get(module, module)
    return f"{type(value).__name__} ({where})"


# The namespace of each array type seen so far (CuPy's, array-api-strict's): array-api-compat's
# lookup costs tens of microseconds, as much as a small layer's work on a GPU, and the model asks
# for every layer of every batch. The namespace depends on the type alone, so one lookup per type.
_namespace_by_type: dict = {}


def namespace_of(*arrays, names=None):
    """The array namespace shared by ``arrays`` (``None`` entries are skipped).

    NumPy arrays take a fast path (one type check each), and other array types
    a cached one after their first call, because the model calls this for
    every layer of every batch.

    Raises
    ------
    TypeError
        If an argument is not an array, or the arrays come from different
        libraries or devices (for example one NumPy and one CuPy array).
    """
    for a in arrays:
        if a is not None and type(a) is not np.ndarray:
            break
    else:
        return _compat_numpy
    present = [a for a in arrays if a is not None]
    kinds = {type(a) for a in present}
    if len(kinds) == 1 and (known := _namespace_by_type.get(next(iter(kinds)))) is not None:
        return known
    labels = list(names) if names is not None else [f"argument {i + 1}" for i in range(len(arrays))]
    labelled = [(label, a) for label, a in zip(labels, arrays) if a is not None]
    for label, a in labelled:
        if not array_api_compat.is_array_api_obj(a):
            raise TypeError(f"{label} should be an array (NumPy, CuPy or array-api), but got {_describe(a)}.")
    try:
        xp = array_api_compat.array_namespace(*present)
    except TypeError:
        listing = ", ".join(f"{label} is {_describe(a)}" for label, a in labelled)
        raise TypeError(
            f"These arrays live in different places: {listing}. Put them on one device first, "
            "e.g. with mlpcore.backend.to_device(array, 'cpu') or to_device(array, 'gpu')."
        ) from None
    if len(kinds) == 1:
        _namespace_by_type[kinds.pop()] = xp
    return xp


def to_numpy(x) -> np.ndarray:
    """Copy ``x`` to the host as a NumPy array (a no-op for NumPy arrays)."""
    if isinstance(x, np.ndarray):
        return x
    if array_api_compat.is_cupy_array(x):
        return x.get()
    return np.asarray(x)


@functools.lru_cache(maxsize=1)
def gpu_problem() -> str | None:
    """Why the GPU cannot be used, or ``None`` when it can.

    Importing CuPy is not enough (it imports fine without a driver), so this
    allocates a small array on the device and runs one kernel. The answer is
    cached: the probe costs a CUDA context the first time.
    """
    try:
        import cupy
    except Exception as exc:  # ImportError, or a CuPy built for another CUDA
        return f"CuPy is not installed or cannot be imported ({exc.__class__.__name__}: {exc})"
    try:
        probe = cupy.arange(4, dtype=cupy.float32)
        float((probe * 2).sum())
    except Exception as exc:
        return f"CuPy is installed but no CUDA device is usable ({exc.__class__.__name__}: {exc})"
    return None


def gpu_available() -> bool:
    """True when CuPy imports and a real allocation on the GPU works."""
    return gpu_problem() is None


_auto_fallback_reported = False


def resolve_device(device: str | None = None) -> str:
    """Turn a requested device into ``"cpu"`` or ``"gpu"``.

    ``None`` reads the ``MLPCORE_DEVICE`` environment variable (default
    ``"cpu"``). ``"auto"`` takes the GPU when one is usable and otherwise falls
    back to the CPU, saying so once per process. ``"gpu"`` without a usable GPU
    is an error.
    """
    global _auto_fallback_reported
    if device is None:
        device = os.environ.get(DEVICE_ENV_VAR, "cpu").strip() or "cpu"
    if not isinstance(device, str) or device.lower() not in DEVICE_CHOICES:
        raise ValueError(f"device should be one of {', '.join(map(repr, DEVICE_CHOICES))}, but got {device!r}.")
    device = device.lower()
    if device == "cpu":
        return "cpu"
    problem = gpu_problem()
    if device == "gpu":
        if problem is not None:
            raise RuntimeError(f"device='gpu' was asked for, but {problem}. Use device='cpu' or device='auto'.")
        return "gpu"
    if problem is None:
        return "gpu"
    if not _auto_fallback_reported:
        _auto_fallback_reported = True
        warnings.warn(f"device='auto': using the CPU because {problem}.", UserWarning, stacklevel=2)
    return "cpu"


def to_device(x, device: str):
    """Copy ``x`` to ``device`` (``"cpu"`` gives NumPy, ``"gpu"`` gives CuPy).

    Arrays already on that device are returned unchanged, not copied.
    """
    device = resolve_device(device)
    if device == "cpu":
        return to_numpy(x)
    import cupy

    return cupy.asarray(x)


def device_of(x) -> str:
    """``"gpu"`` for CuPy arrays, ``"cpu"`` for everything else."""
    return "gpu" if array_api_compat.is_cupy_array(x) else "cpu"
