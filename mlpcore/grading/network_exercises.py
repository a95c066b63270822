"""Checks of a whole network's forward and backward pass on a params dict.

``forward_pass`` and ``backward_pass`` are notebook 04's; ``loss_and_grads`` is the
closing project's backward pass (ReLU hidden layers, arguments ``(params, X, y)``),
checked on its own because the project's accuracy check cannot see a wrong
gradient that still trains well enough.

The known mistakes are computed by :func:`_network`, a compact plain-NumPy
forward and backward pass with switches that reproduce common slips (an
activation on the output layer, the derivative taken at the activation, a
gradient not divided by the batch size, db taken as a mean, ...).
"""

from __future__ import annotations

import numpy as np

from .. import network
from ..activations import get_activation
from ..guard import reference
from .compare import compare_float, compare_output
from .exercises import F32, F64, Exercise, Mistake, _normal

# (layer sizes, batch, activation, dtype)
NETWORKS = [([4, 3, 2], 5, "relu", F64), ([6, 5, 4, 3], 1, "tanh", F64), ([5, 8, 3], 7, "sigmoid", F32),
            ([5, 3], 4, "relu", F64),  # no hidden layer at all: the logits are X @ W1 + b1
            ([5] * 12, 3, "tanh", F64)]  # 11 layers, as the notebook promises: "W10" sorts before "W2"
NETWORKS_HIDDEN = [([10, 7, 6, 5, 4], 9, "relu", F64), ([3, 2, 2], 4, "sigmoid", F64), ([8, 16, 10], 16, "relu", F32),
                   ([2, 9, 9, 3], 6, "tanh", F64),
                   ([4] + [5] * 10 + [3], 3, "tanh", F64)]


def _params(rng, sizes, dtype):
    params = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{i}"] = _normal(rng, (n_in, n_out), dtype, 1 / np.sqrt(n_in))
        params[f"b{i}"] = _normal(rng, (n_out,), dtype, 0.1)
    return params


def forward_pass_cases(rng, hidden):
    return [(_normal(rng, (batch, sizes[0]), dtype), _params(rng, sizes, dtype), activation)
            for sizes, batch, activation, dtype in NETWORKS + (NETWORKS_HIDDEN if hidden else [])]


def backward_pass_cases(rng, hidden):
    cases = []
    for sizes, batch, activation, dtype in NETWORKS + (NETWORKS_HIDDEN if hidden else []):
        cases.append((_normal(rng, (batch, sizes[0]), dtype), rng.integers(0, sizes[-1], batch),
                      _params(rng, sizes, dtype), activation))
    return cases


def loss_and_grads_cases(rng, hidden):
    """The networks of :func:`backward_pass_cases` with ReLU hidden layers, as ``(params, X, y)``, and
    one whose logits are near 1000: exp overflows there without the max shift."""
    cases = []
    for sizes, batch, _, dtype in NETWORKS + (NETWORKS_HIDDEN if hidden else []):
        X, y = _normal(rng, (batch, sizes[0]), dtype), rng.integers(0, sizes[-1], batch)
        cases.append((_params(rng, sizes, dtype), X, y))
    # Logits near 1000, a few apart: exp(1000) overflows, but no probability underflows after the shift.
    params = _params(rng, [4, 6, 3], F64)
    params["b2"] = params["b2"] + 1000.0
    cases.append((params, _normal(rng, (5, 4), F64), rng.integers(0, 3, 5)))
    return cases


# Guarded like the reference: with every switch off it is a plain-NumPy answer to an exercise.
@reference
def _softmax(Z):
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# Guarded like the reference: with every switch off it is a plain-NumPy answer to an exercise.
@reference
def _network(X, y, params, activation, *, backward=True, softmax=True, hidden_activation=True,
             output_activation=False, fixed_activation=None, backward_activation=None,
             derivative_at_output=False, skip_derivative=False, divide_by_batch=True,
             sorted_layers=False, summed_loss=False, through_output_activation=False, divided_again="",
             first_layer_activation=False, mask_from_layer_above=False):
    """A forward pass (probabilities, or logits with ``softmax=False``) or, with ``backward``,
    ``(loss, grads)``; the keyword switches reproduce known mistakes. The activations come from
    :data:`mlpcore.activations.ACTIVATIONS`, the model's own table: an unknown name is an error.

    ``through_output_activation``: with ``output_activation``, the backward pass goes through that
    activation's derivative too (a consistent gradient of the wrong network); ``divided_again``: the
    kinds of gradient ("W", "b") divided by the batch size once more, on top of dlogits' 1/batch;
    ``first_layer_activation``: layer 1 gets the activation even when it is the only layer;
    ``mask_from_layer_above``: ReLU's mask taken from Z of the layer just differentiated."""
    forward_with = get_activation(fixed_activation or activation)
    backward_with = get_activation(backward_activation or fixed_activation or activation)
    n_layers = len(params) // 2
    output_activation = output_activation or (first_layer_activation and n_layers == 1)
    # The layer applied at each position: 1, 2, ..., or the order sorted(params) lists them in.
    order = sorted(range(1, n_layers + 1), key=lambda i: f"W{i}") if sorted_layers else range(1, n_layers + 1)
    params = {f"{kind}{position}": params[f"{kind}{layer}"] for position, layer in enumerate(order, start=1)
              for kind in "Wb"}
    A, cache = X, []
    for i in range(1, n_layers + 1):
        Z = A @ params[f"W{i}"] + params[f"b{i}"]
        cache.append((A, Z))
        last = i == n_layers
        if (not last and hidden_activation) or (last and output_activation):
            A = forward_with.forward(Z)
        else:
            A = Z
    if not backward:
        return _softmax(A) if softmax else A
    log_P = A - A.max(axis=1, keepdims=True)
    log_P = log_P - np.log(np.exp(log_P).sum(axis=1, keepdims=True))
    P = np.exp(log_P)
    batch = len(y)
    loss = float(-np.mean(log_P[np.arange(batch), y])) * (batch if summed_loss else 1)
    dZ = (P - np.eye(P.shape[1], dtype=P.dtype)[y]) / (batch if divide_by_batch else 1)
    if output_activation and through_output_activation:
        dZ = backward_with.backward(dZ, cache[-1][1])
    grads = {}
    for i in range(n_layers, 0, -1):
        A_prev, _ = cache[i - 1]
        grads[f"W{i}"], grads[f"b{i}"] = A_prev.T @ dZ, dZ.sum(axis=0)
        for kind in divided_again:
            grads[f"{kind}{i}"] = grads[f"{kind}{i}"] / batch
        if i > 1:
            dA = dZ @ params[f"W{i}"].T
            Z_prev = cache[i - 2][1]
            if skip_derivative:
                dZ = dA
            elif mask_from_layer_above:  # written as a learner writes relu_backward, so that it raises alike
                dZ = dA * (cache[i - 1][1] > 0)
            else:
                at = forward_with.forward(Z_prev) if derivative_at_output else Z_prev
                dZ = backward_with.backward(dA, at)
    # Back to the names of the layers each position stands for.
    return loss, {f"{kind}{layer}": grads[f"{kind}{position}"] for position, layer in enumerate(order, start=1)
                  for kind in "Wb"}


def _forward(**switches):
    return lambda X, params, activation="relu": _network(X, None, params, activation, backward=False, **switches)


def _backward(**switches):
    return lambda X, y, params, activation="relu": _network(X, y, params, activation, **switches)


def _loss_and_grads(**switches):
    return lambda params, X, y: _network(X, y, params, "relu", **switches)


def _not_finite(args, output) -> bool:
    """Symptom: NaN or infinity in the loss or in a gradient."""
    try:
        loss, grads = output
        values = [np.asarray(loss, dtype=float)] + [np.asarray(g, dtype=float) for g in grads.values()]
    except (TypeError, ValueError, AttributeError):
        return False
    return not all(np.isfinite(value).all() for value in values)


def float_loss(output, expected, args, again) -> str | None:
    """Judge of ``(loss, grads)`` whose text asks for the loss as a Python ``float`` (10-project)."""
    problem = compare_output(output, expected, ("loss", "grads"))
    return problem or compare_float("loss", output[0], float(expected[0]))


NOT_DIVIDED = "the gradients are not divided by the batch size: the loss is a mean, so dlogits = (P - Y) / batch"
SUMMED_LOSS = "the loss is summed over the batch: it is the mean, -mean(log P[i, y[i]])"
DB_AS_A_MEAN = ("divided db by the batch size: dZ already holds the mean's 1/batch, so db = dZ.sum(axis=0), "
                "not dZ.mean(axis=0)")
DIVIDED_TWICE = ("dW and db are divided by the batch size a second time: the 1/batch is already in "
                 "dlogits = (P - Y) / batch, so dW = A_prev.T @ dZ and db = dZ.sum(axis=0)")
RELU_ON_LOGITS = ("ReLU was applied to the logits too: the output layer has no activation, its Z goes straight "
                  "into the softmax (a negative score must stay negative)")

SORTED_LAYERS = ("the layers ran in the order sorted(params) lists them, where 'W10' comes before 'W2': loop over "
                 "the layer numbers, for i in range(1, n_layers + 1), and use params[f'W{i}']")

NETWORK_EXERCISES = [
    Exercise("forward_pass", network.forward_pass, forward_pass_cases, outputs=("P",), mistakes=(
        Mistake("returned the logits: the output layer's scores go through softmax", _forward(softmax=False)),
        Mistake("the activation was applied to the output layer too: the last layer's Z goes straight into softmax",
                _forward(output_activation=True)),
        Mistake("the hidden layers need the activation: without it the network is one linear map",
                _forward(hidden_activation=False)),
        Mistake("used ReLU whatever the activation argument says", _forward(fixed_activation="relu")),
        Mistake(SORTED_LAYERS, _forward(sorted_layers=True)),
    )),
    Exercise("backward_pass", network.backward_pass, backward_pass_cases, outputs=("loss", "grads"), mistakes=(
        Mistake(NOT_DIVIDED, _backward(divide_by_batch=False)),
        Mistake("derivative taken at the activation: g'(Z) needs the pre-activation Z that the forward pass cached",
                _backward(derivative_at_output=True)),
        Mistake("the activation's derivative is missing: dZ = dA * g'(Z), not dA", _backward(skip_derivative=True)),
        Mistake("used ReLU whatever the activation argument says", _backward(fixed_activation="relu")),
        Mistake("used ReLU's backward whatever the activation argument says: the derivative must be the one of "
                "the activation the forward pass applied", _backward(backward_activation="relu")),
        Mistake(SUMMED_LOSS, _backward(summed_loss=True)),
        Mistake(DB_AS_A_MEAN, _backward(divided_again="b")),
        Mistake(DIVIDED_TWICE, _backward(divided_again="Wb")),
        Mistake(SORTED_LAYERS, _backward(sorted_layers=True)),
    )),
    # ReLU only: the derivative taken at the activation is no mistake here (relu(Z) > 0 exactly where Z > 0).
    Exercise("loss_and_grads", network.loss_and_grads, loss_and_grads_cases, outputs=("loss", "grads"),
             judge=float_loss, mistakes=(
        Mistake(DB_AS_A_MEAN, _loss_and_grads(divided_again="b")),
        Mistake(DIVIDED_TWICE, _loss_and_grads(divided_again="Wb")),
        Mistake("dW is divided by the batch size a second time: the 1/batch is already in dlogits = (P - Y) / batch, "
                "so dW = A_prev.T @ dZ", _loss_and_grads(divided_again="W")),
        Mistake("with L = 1 there is no hidden layer: the only layer's output is the logits and gets no ReLU; apply "
                "ReLU after layer i only when i < L (your code applies it to layer 1 whatever L is)",
                _loss_and_grads(first_layer_activation=True),
                variants=(_loss_and_grads(first_layer_activation=True, through_output_activation=True),)),
        Mistake(RELU_ON_LOGITS, _loss_and_grads(output_activation=True)),
        Mistake(RELU_ON_LOGITS, _loss_and_grads(output_activation=True, through_output_activation=True)),
        Mistake(NOT_DIVIDED, _loss_and_grads(divide_by_batch=False)),
        Mistake(SUMMED_LOSS, _loss_and_grads(summed_loss=True)),
        Mistake("the loss and its gradients are sums over the batch: the loss is the mean, so it and every "
                "gradient are divided by the batch size", _loss_and_grads(summed_loss=True, divide_by_batch=False)),
        Mistake("ReLU's derivative is missing: at each hidden layer dZ = dA * (Z > 0), with that layer's Z, not dA",
                _loss_and_grads(skip_derivative=True)),
        Mistake(SORTED_LAYERS, _loss_and_grads(sorted_layers=True)),
        Mistake("ReLU's mask came from the wrong layer: the gradient dA for the input of layer i goes through the "
                "ReLU of the layer below, so dZ = dA * (Z > 0) with Z of layer i - 1, the layer below (the Z cached "
                "with layer i's input)", _loss_and_grads(mask_from_layer_above=True)),
        Mistake("the loss or gradients are not finite where the logits are near 1000: exp overflows "
                "without the max shift; subtract each row's maximum from the logits first", symptom=_not_finite),
    )),
]

EXERCISES = NETWORK_EXERCISES  # what mlpcore.grading.registry loads from this source
