"""05-gradcheck's closing exercise: find the broken gradient of a colleague's network with a gradient check.

The learner writes ``find_broken_gradient(loss_and_grads, params, X, y) -> (name, errors)``:
``errors`` holds, for every parameter, the relative error between the gradient that
``loss_and_grads`` returns and the central difference of the loss in that parameter, and ``name``
is the parameter whose error is the largest. Every case hands it another "colleague": a
one-hidden-layer tanh network written by hand with exactly one gradient wrong, in another parameter
and with another slip each time, so an answer typed in (or taken from the smallest error) fails.

The learner's errors are compared with the reference's where they carry information: a broken
gradient's error must agree to a percent (it is large, so the central difference's own error does
not matter), and a correct gradient's error must be tiny (its exact value is round-off).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .. import gradcheck
from .exercises import F64, Exercise, Mistake, _normal

PARAMETERS = ("W1", "b1", "W2", "b2")

# The slip planted in each parameter's gradient; ``v`` holds the forward and backward pass's arrays.
BROKEN_GRADIENTS = {
    "W1": lambda v: v.X.T @ v.dA1,  # tanh's derivative left out
    "b1": lambda v: v.dZ1.mean(axis=0),  # divided by the batch size a second time
    "W2": lambda v: v.Z1.T @ v.dZ2,  # the hidden layer's pre-activation instead of its activation
    "b2": lambda v: v.dZ2.sum(axis=0) * v.batch,  # the mean's 1 / batch undone
}

# (inputs, hidden units, classes, batch, the broken parameter); a batch of 2 or more, because with a
# batch of one the b1 and b2 slips change nothing.
NETWORKS = [(5, 6, 3, 8, "W2"), (4, 3, 2, 6, "b1"), (3, 5, 4, 2, "W1")]
NETWORKS_HIDDEN = [(6, 4, 3, 10, "b2"), (2, 7, 5, 5, "W1"), (8, 8, 4, 16, "b1"), (4, 4, 4, 3, "W2"), (3, 2, 3, 7, "b2")]

BROKEN_AT_LEAST = 1e-4  # a gradient with a reference error above this is the broken one
CORRECT_AT_MOST = 1e-6  # a learner's error of a correct gradient must stay below this (round-off is ~1e-10)
AGREEMENT = 1e-2  # a broken gradient's error must match the reference's to this relative tolerance


def colleague_network(broken: str):
    """``loss_and_grads(params, X, y) -> (loss, grads)`` of a tanh network with mean softmax
    cross-entropy, written in plain NumPy (it runs while mlpcore is locked away), with the gradient
    of parameter ``broken`` wrong."""

    def colleague_loss_and_grads(params, X, y):
        W1, b1, W2, b2 = (params[name] for name in PARAMETERS)
        batch = X.shape[0]
        rows = np.arange(batch)
        Z1 = X @ W1 + b1
        A1 = np.tanh(Z1)
        Z2 = A1 @ W2 + b2
        shifted = Z2 - Z2.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = float(-log_probs[rows, y].mean())
        dZ2 = np.exp(log_probs)
        dZ2[rows, y] -= 1.0
        dZ2 /= batch
        dA1 = dZ2 @ W2.T
        dZ1 = dA1 * (1.0 - A1**2)
        grads = {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0)}
        grads[broken] = BROKEN_GRADIENTS[broken](SimpleNamespace(X=X, Z1=Z1, dA1=dA1, dZ1=dZ1, dZ2=dZ2, batch=batch))
        return loss, grads

    # How the grader rebuilds this function inside a graded kernel (see mlpcore.grading.channel).
    colleague_loss_and_grads.rebuild = (f"{__name__}:colleague_network", (broken,))
    return colleague_loss_and_grads


def broken_gradient_cases(rng, hidden):
    cases = []
    for n_in, n_hidden, n_classes, batch, broken in NETWORKS + (NETWORKS_HIDDEN if hidden else []):
        params = {"W1": _normal(rng, (n_in, n_hidden), F64, 0.5), "b1": _normal(rng, (n_hidden,), F64, 0.1),
                  "W2": _normal(rng, (n_hidden, n_classes), F64, 0.5), "b2": _normal(rng, (n_classes,), F64, 0.1)}
        cases.append((colleague_network(broken), params, _normal(rng, (batch, n_in), F64),
                      rng.integers(0, n_classes, batch)))
    return cases


def gradient_check_errors(loss_and_grads, params, X, y) -> dict:
    """``{name: relative error}`` between each analytic gradient and its central difference."""
    _, grads = loss_and_grads(params, X, y)
    errors = {}
    for name, value in params.items():
        def loss_in(v, name=name):
            return loss_and_grads({**params, name: v}, X, y)[0]

        errors[name] = gradcheck.relative_error(grads[name], gradcheck.numerical_gradient(loss_in, value.copy()))
    return errors


def find_broken_gradient(loss_and_grads, params, X, y):
    """The reference answer: ``(the name with the largest error, {name: relative error})``."""
    errors = gradient_check_errors(loss_and_grads, params, X, y)
    return max(errors, key=errors.get), errors


def _smallest_error(loss_and_grads, params, X, y):
    errors = gradient_check_errors(loss_and_grads, params, X, y)
    return min(errors, key=errors.get), errors


def _error_value(value) -> float | None:
    """A relative error as a float, or None when it is not one number."""
    if isinstance(value, (bool, str)) or np.ndim(value) != 0:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def judge_broken_gradient(output, expected, args, again) -> str | None:
    """The learner's ``(name, errors)`` against the reference's, as the module docstring says."""
    params = args[1]
    if not isinstance(output, tuple) or len(output) != 2:
        got = f"a tuple of {len(output)}" if isinstance(output, tuple) else type(output).__name__
        return f"your function should return a tuple (name, errors), but it returned {got}"
    name, errors = output
    expected_name, expected_errors = expected
    if not isinstance(errors, dict) or set(errors) != set(params):
        keys = sorted(errors) if isinstance(errors, dict) else type(errors).__name__
        return f"errors should be a dict with one relative error per parameter, keys {sorted(params)}, but it is {keys}"
    for key, wanted in expected_errors.items():
        value = _error_value(errors[key])
        if value is None:
            return f"errors[{key!r}] should be one number (the relative error), but it is {errors[key]!r}"
        broken = wanted > BROKEN_AT_LEAST
        if (broken and not abs(value - wanted) <= AGREEMENT * wanted) or (not broken and not value < CORRECT_AT_MOST):
            return (f"the relative error of {key}'s gradient should be about {wanted:.2e}, but yours is {value:.2e}: "
                    f"compare grads[{key!r}] with the numerical gradient of the loss in {key} alone, using relative_error")
    if name != expected_name:
        return (f"the gradient with the largest relative error is the one of {expected_name!r} "
                f"({expected_errors[expected_name]:.2e}), but you named {name!r}")
    return None


def same_name(output, wrong) -> bool:
    """Whether a known mistake explains the learner's answer: the same parameter named."""
    return isinstance(output, tuple) and len(output) == 2 and output[0] == wrong[0]


GRADCHECK_EXERCISES = [
    Exercise("find_broken_gradient", find_broken_gradient, broken_gradient_cases, outputs=("name", "errors"),
             judge=judge_broken_gradient, match=same_name,
             argument_names=("loss_and_grads", "params", "X", "y"), mistakes=(
                 Mistake("took the parameter with the smallest relative error: the broken gradient is the one "
                         "whose error is largest (max, not min)", _smallest_error),
             )),
]

EXERCISES = GRADCHECK_EXERCISES  # what mlpcore.grading.registry loads from this source
