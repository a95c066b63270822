"""Shape arithmetic, log-softmax and the functional network passes the notebooks are checked against."""

import numpy as np
import pytest

import mlpcore
from conftest import to_xp
from mlpcore import activations, backend, network, shapes


def test_the_4_3_2_network_has_two_weight_matrices_and_23_parameters():
    assert shapes.parameter_shapes([4, 3, 2]) == [((4, 3), (3,)), ((3, 2), (2,))]
    assert shapes.count_parameters([4, 3, 2]) == 4 * 3 + 3 + 3 * 2 + 2
    model = mlpcore.MLP([4, 3, 2])
    assert [(tuple(model.params[f"W{i}"].shape), tuple(model.params[f"b{i}"].shape)) for i in (1, 2)] == \
        shapes.parameter_shapes([4, 3, 2])


def test_matmul_shape_is_none_when_inner_dimensions_differ():
    assert shapes.matmul_shape((5, 4), (4, 3)) == (5, 3)
    assert shapes.matmul_shape((5, 4), (3, 4)) is None
    assert shapes.matmul_shape((5, 4), (4, 3)) == (np.ones((5, 4)) @ np.ones((4, 3))).shape


def test_add_bias_broadcasts_over_rows_and_keeps_dtype():
    Z = np.zeros((3, 2), dtype=np.float32)
    out = shapes.add_bias(Z, np.array([1.0, 2.0], dtype=np.float32))
    assert out.dtype == np.float32 and out.tolist() == [[1, 2]] * 3


def test_activation_bytes_counts_the_pre_activations_of_one_batch():
    assert shapes.activation_bytes([784, 256, 128, 10], 32, "float32") == 32 * (256 + 128 + 10) * 4
    assert shapes.activation_bytes([4, 3, 2], 2, np.float64) == sum(np.zeros((2, n)).nbytes for n in (3, 2))


def test_layer_sizes_errors_say_what_was_expected():
    with pytest.raises(ValueError, match="at least two positive whole numbers"):
        shapes.require_layer_sizes([4])
    with pytest.raises(TypeError, match="list of whole numbers"):
        shapes.require_layer_sizes("abc")


def test_log_softmax_is_the_log_of_softmax_and_stays_finite(xp):
    Z = to_xp(xp, np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]]))
    log_P = backend.to_numpy(activations.log_softmax(Z))
    assert np.allclose(log_P[0], np.log(backend.to_numpy(activations.softmax(Z))[0]))
    assert np.isfinite(log_P).all() and np.allclose(log_P[1], [0.0, -1000.0, -2000.0])


def test_forward_and_backward_pass_are_the_models_own():
    model = mlpcore.MLP([5, 4, 3], activation="tanh", dtype="float64", seed=1)
    X = np.random.default_rng(0).standard_normal((6, 5))
    y = np.array([0, 1, 2, 0, 1, 2])
    assert np.allclose(network.forward_pass(X, model.params, "tanh"), model.predict_proba(X))
    loss, grads = network.backward_pass(X, y, model.params, "tanh")
    expected_loss, expected_grads = model.loss_and_grads(X, y)
    assert loss == pytest.approx(expected_loss)
    assert all(np.allclose(grads[k], expected_grads[k]) for k in model.params)


@pytest.mark.parametrize("sizes", [[5, 3], [5, 4, 3], [4, 6, 5, 3]], ids=["no hidden layer", "one", "two"])
def test_the_projects_loss_and_grads_is_relus_backward_pass_and_passes_a_gradient_check(sizes):
    """10-project's loss_and_grads(params, X, y): notebook 04's backward pass with ReLU, whose gradients
    agree with central differences of its own (mean) loss."""
    rng = np.random.default_rng(3)
    params = mlpcore.MLP(sizes, dtype="float64", seed=2).params
    params = {name: value + 0.1 * rng.standard_normal(value.shape) for name, value in params.items()}  # non-zero biases
    X, y = rng.standard_normal((7, sizes[0])), rng.integers(0, sizes[-1], 7)
    loss, grads = network.loss_and_grads(params, X, y)
    expected_loss, expected_grads = network.backward_pass(X, y, params, "relu")
    assert isinstance(loss, float) and loss == pytest.approx(expected_loss)
    assert sorted(grads) == sorted(params)
    for name, value in params.items():
        assert grads[name].shape == value.shape and grads[name].dtype == value.dtype
        assert np.allclose(grads[name], expected_grads[name])
        numerical = mlpcore.gradcheck.numerical_gradient(lambda _: network.loss_and_grads(params, X, y)[0], value)
        assert mlpcore.gradcheck.relative_error(grads[name], numerical) < 1e-6, name
