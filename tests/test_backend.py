import warnings

import numpy as np
import pytest

from mlpcore import backend, layers


def test_numpy_arrays_take_the_compat_numpy_namespace():
    import array_api_compat.numpy as compat_numpy

    assert backend.namespace_of(np.ones(2), None, np.zeros((2, 2))) is compat_numpy


def test_strict_arrays_keep_their_namespace():
    import array_api_strict as strict

    assert backend.namespace_of(strict.ones(2)) is strict


def test_a_namespace_found_once_is_reused_and_mixing_is_still_refused(monkeypatch):
    import array_api_strict as strict

    lookups = []
    real_lookup = backend.array_api_compat.array_namespace
    monkeypatch.setattr(backend, "_namespace_by_type", {})
    monkeypatch.setattr(backend.array_api_compat, "array_namespace", lambda *a: lookups.append(a) or real_lookup(*a))
    X, W = strict.ones((2, 3)), strict.ones((3, 2))
    assert backend.namespace_of(X, W) is strict and backend.namespace_of(W, None, X) is strict
    assert len(lookups) == 1  # the second call came from the cache
    with pytest.raises(TypeError, match=r"X is Array \(array-api-strict\), W is ndarray \(NumPy, CPU\)"):
        backend.namespace_of(X, np.ones((3, 2)), names=("X", "W"))
    with pytest.raises(TypeError, match="W should be an array"):
        backend.namespace_of(X, [[1.0]], names=("X", "W"))


def test_mixing_backends_names_each_argument():
    import array_api_strict as strict

    X = np.ones((2, 3))
    W = strict.ones((3, 2))
    with pytest.raises(TypeError, match=r"X is ndarray \(NumPy, CPU\), W is Array \(array-api-strict\)"):
        layers.dense_forward(X, W, np.zeros(2))


def test_a_list_is_not_an_array():
    with pytest.raises(TypeError, match="X should be an array .* but got list"):
        layers.dense_forward([[1.0, 2.0]], np.ones((2, 2)), np.zeros(2))


def test_cpu_is_the_default_device(monkeypatch):
    monkeypatch.delenv(backend.DEVICE_ENV_VAR, raising=False)
    assert backend.resolve_device(None) == "cpu"


def test_environment_variable_chooses_the_device(monkeypatch):
    monkeypatch.setenv(backend.DEVICE_ENV_VAR, "bogus")
    with pytest.raises(ValueError, match="device should be one of 'cpu', 'gpu', 'auto', but got 'bogus'"):
        backend.resolve_device(None)
    monkeypatch.setenv(backend.DEVICE_ENV_VAR, "CPU")
    assert backend.resolve_device(None) == "cpu"


@pytest.mark.skipif(backend.gpu_available(), reason="a GPU is usable here")
def test_gpu_without_a_usable_device_is_a_clear_error():
    with pytest.raises(RuntimeError, match="device='gpu' was asked for, but CuPy"):
        backend.resolve_device("gpu")


@pytest.mark.skipif(backend.gpu_available(), reason="a GPU is usable here")
def test_auto_falls_back_to_the_cpu_and_says_so_once(monkeypatch):
    monkeypatch.setattr(backend, "_auto_fallback_reported", False)
    with pytest.warns(UserWarning, match="device='auto': using the CPU because"):
        assert backend.resolve_device("auto") == "cpu"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert backend.resolve_device("auto") == "cpu"  # no second warning


def test_to_numpy_brings_strict_arrays_home():
    import array_api_strict as strict

    out = backend.to_numpy(strict.asarray([1.0, 2.0]))
    assert isinstance(out, np.ndarray) and out.tolist() == [1.0, 2.0]


def test_to_device_cpu_does_not_copy_numpy():
    a = np.ones(3)
    assert backend.to_device(a, "cpu") is a


@pytest.mark.gpu
def test_gpu_round_trip_and_mixing_error(cupy_xp):
    on_gpu = backend.to_device(np.arange(3.0), "gpu")
    assert backend.device_of(on_gpu) == "gpu"
    assert backend.to_numpy(on_gpu).tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(TypeError, match="live in different places"):
        layers.dense_forward(np.ones((2, 3)), backend.to_device(np.ones((3, 2)), "gpu"), np.zeros(2))
