"""Property tests: shapes, dtypes and numerical stability for any input hypothesis can find."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from mlpcore import activations, backend, layers, losses
from conftest import load_namespace

NAMESPACE_NAMES = ["numpy", "array_api_strict"]
FLOAT_DTYPES = st.sampled_from([np.float32, np.float64])


def matrices(dtype, low=-50.0, high=50.0, min_side=1, max_side=8):
    return arrays(
        dtype,
        array_shapes(min_dims=2, max_dims=2, min_side=min_side, max_side=max_side),
        elements=st.floats(low, high, width=32, allow_nan=False, allow_infinity=False),
    )


@pytest.mark.parametrize("name", NAMESPACE_NAMES)
@settings(max_examples=40, deadline=None)
@given(data=st.data(), dtype=FLOAT_DTYPES)
def test_activations_keep_shape_and_dtype(name, data, dtype):
    xp = load_namespace(name)
    Z = xp.asarray(data.draw(matrices(dtype)))
    for fn in (*(a.forward for a in activations.ACTIVATIONS.values()), activations.softmax):
        out = fn(Z)
        assert out.dtype == Z.dtype and tuple(out.shape) == tuple(Z.shape)
    for activation in activations.ACTIVATIONS.values():
        assert activation.backward(Z, Z).dtype == Z.dtype


@pytest.mark.parametrize("name", NAMESPACE_NAMES)
@settings(max_examples=40, deadline=None)
@given(data=st.data(), dtype=FLOAT_DTYPES)
def test_softmax_rows_sum_to_one(name, data, dtype):
    xp = load_namespace(name)
    P = backend.to_numpy(activations.softmax(xp.asarray(data.draw(matrices(dtype, -1e4, 1e4)))))
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=tolerance)
    assert ((P >= 0) & (P <= 1)).all()


@pytest.mark.parametrize("name", NAMESPACE_NAMES)
@settings(max_examples=40, deadline=None)
@given(data=st.data(), dtype=FLOAT_DTYPES)
def test_extreme_logits_give_finite_loss_and_gradient(name, data, dtype):
    xp = load_namespace(name)
    logits = data.draw(matrices(dtype, -1e4, 1e4))
    y = data.draw(arrays(np.int64, logits.shape[0], elements=st.integers(0, logits.shape[1] - 1)))
    loss, dlogits = losses.softmax_cross_entropy(xp.asarray(logits), xp.asarray(y))
    assert math.isfinite(loss) and loss >= 0
    assert np.isfinite(backend.to_numpy(dlogits)).all() and dlogits.dtype == xp.asarray(logits).dtype
    P = activations.softmax(xp.asarray(logits))
    assert math.isfinite(losses.cross_entropy(P, xp.asarray(y)))


@pytest.mark.parametrize("name", NAMESPACE_NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_softmax_at_plus_minus_1e4(name, dtype):
    xp = load_namespace(name)
    Z = xp.asarray(np.array([[-1e4, 0.0, 1e4]], dtype=dtype))
    s = backend.to_numpy(activations.sigmoid(Z))
    np.testing.assert_array_equal(s, np.array([[0.0, 0.5, 1.0]], dtype=dtype))
    P = backend.to_numpy(activations.softmax(Z))
    np.testing.assert_array_equal(P, np.array([[0.0, 0.0, 1.0]], dtype=dtype))
    assert np.isfinite(backend.to_numpy(activations.sigmoid_backward(Z, Z))).all()


@pytest.mark.parametrize("name", NAMESPACE_NAMES)
@settings(max_examples=30, deadline=None)
@given(data=st.data(), dtype=FLOAT_DTYPES)
def test_dense_layer_shapes_and_dtypes(name, data, dtype):
    xp = load_namespace(name)
    batch, n_in, n_out = (data.draw(st.integers(1, 6)) for _ in range(3))
    rng = np.random.default_rng(0)
    X, W, b = (xp.asarray(rng.standard_normal(s).astype(dtype)) for s in [(batch, n_in), (n_in, n_out), (n_out,)])
    Z = layers.dense_forward(X, W, b)
    dX, dW, db = layers.dense_backward(Z, X, W)
    assert [tuple(a.shape) for a in (Z, dX, dW, db)] == [(batch, n_out), (batch, n_in), (n_in, n_out), (n_out,)]
    assert all(a.dtype == X.dtype for a in (Z, dX, dW, db))
