"""Shared fixtures: every numeric test runs once per array namespace.

``xp`` is NumPy (through array-api-compat), array-api-strict (which rejects
NumPy-only calls that would break on other backends) and CuPy; the CuPy case
carries the ``gpu`` marker and is skipped when a real allocation on the device
fails. Run only the GPU cases with ``pytest -m gpu``.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

from mlpcore import backend, threads  # noqa: E402

# The course's BLAS threads (one unless MLPCORE_BLAS_THREADS says otherwise) in this process and in
# every process and kernel the tests start: the suite runs in parallel, and BLAS threads competing for
# the same cores made it slow, and its notebooks' timings machine-dependent.
threads.limit_this_process()

NAMESPACES = ["numpy", "array_api_strict", pytest.param("cupy", marks=pytest.mark.gpu)]


def load_namespace(name):
    if name == "numpy":
        import array_api_compat.numpy as xp
    elif name == "array_api_strict":
        import array_api_strict as xp
    else:
        if not backend.gpu_available():
            pytest.skip(f"no usable GPU: {backend.gpu_problem()}")
        import array_api_compat.cupy as xp
    return xp


@pytest.fixture(autouse=True)
def _default_device(monkeypatch):
    """Every test starts from the default device, the CPU, whatever MLPCORE_DEVICE the shell has set.

    Tests that are about the variable set it themselves; tests of the GPU ask for it by name.
    """
    monkeypatch.delenv(backend.DEVICE_ENV_VAR, raising=False)


@pytest.fixture(params=NAMESPACES)
def xp(request):
    """The array namespace under test."""
    return load_namespace(request.param)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def to_xp(xp, array):
    """A NumPy array (or anything array-like) as an array of namespace ``xp``."""
    return xp.asarray(np.asarray(array))


def assert_close(actual, expected, rtol=1e-6, atol=1e-12):
    np.testing.assert_allclose(backend.to_numpy(actual), backend.to_numpy(expected), rtol=rtol, atol=atol)


@pytest.fixture
def cupy_xp():
    """CuPy's namespace, for tests that only make sense on a GPU (mark them ``gpu``)."""
    return load_namespace("cupy")
