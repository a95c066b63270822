"""Learner-style submissions for 05-gradcheck's closing exercise, ``find_broken_gradient``.

Same form as :mod:`submission_bank`, which merges these in. Each submission brings its own
``numerical_gradient`` and ``relative_error``, as a learner's notebook does (mlpcore's refuse to
run while the check runs the learner's code).
"""

import numpy as np


def _central(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        original = x[index]
        try:
            x[index] = original + eps
            f_plus = f(x)
            x[index] = original - eps
            f_minus = f(x)
        finally:
            x[index] = original
        grad[index] = (f_plus - f_minus) / (2 * eps)
    return grad


def _relative(a, b):
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def _errors(loss_and_grads, params, X, y):
    _, grads = loss_and_grads(params, X, y)
    return {name: _relative(grads[name], _central(lambda v, name=name: loss_and_grads({**params, name: v}, X, y)[0],
                                                   value.copy()))
            for name, value in params.items()}


# ------------------------------------------------------------------ correct


def broken_by_max(loss_and_grads, params, X, y):
    errors = _errors(loss_and_grads, params, X, y)
    return max(errors, key=errors.get), errors


def broken_by_sorting(loss_and_grads, params, X, y):
    """A flat-index loop, eps 1e-5, the norms written out, and the answer by sorting."""
    _, grads = loss_and_grads(params, X, y)
    errors = {}
    for name in params:
        x = params[name].copy()
        numeric = np.empty_like(x)
        flat = x.reshape(-1)  # a view: nudging it nudges x
        for i in range(flat.size):
            keep = flat[i]
            flat[i] = keep + 1e-5
            up = loss_and_grads({**params, name: x}, X, y)[0]
            flat[i] = keep - 1e-5
            down = loss_and_grads({**params, name: x}, X, y)[0]
            flat[i] = keep
            numeric.reshape(-1)[i] = (up - down) / 2e-5
        difference = np.sqrt(np.sum((grads[name] - numeric) ** 2))
        errors[name] = difference / (np.sqrt(np.sum(grads[name] ** 2)) + np.sqrt(np.sum(numeric ** 2)))
    ranked = sorted(errors.items(), key=lambda item: item[1])
    return ranked[-1][0], errors


# ------------------------------------------------------------------ mistakes


def broken_by_min(loss_and_grads, params, X, y):
    errors = _errors(loss_and_grads, params, X, y)
    return min(errors, key=errors.get), errors


def typed_in(loss_and_grads, params, X, y):
    return "W2", _errors(loss_and_grads, params, X, y)  # the answer of the notebook's colleague, every time


def nudges_the_colleagues_params(loss_and_grads, params, X, y):
    """No copy, and a one-sided nudge that is never taken back."""
    _, grads = loss_and_grads(params, X, y)
    errors = {}
    for name, value in params.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(*value.shape):
            before = loss_and_grads(params, X, y)[0]
            value[index] += 1e-6
            numeric[index] = (loss_and_grads(params, X, y)[0] - before) / 1e-6
        errors[name] = _relative(grads[name], numeric)
    return max(errors, key=errors.get), errors


def absolute_errors(loss_and_grads, params, X, y):
    _, grads = loss_and_grads(params, X, y)
    errors = {name: float(np.linalg.norm(grads[name] - _central(
        lambda v, name=name: loss_and_grads({**params, name: v}, X, y)[0], value.copy())))
        for name, value in params.items()}
    return max(errors, key=errors.get), errors


def name_only(loss_and_grads, params, X, y):
    errors = _errors(loss_and_grads, params, X, y)
    return max(errors, key=errors.get)


CORRECT = {"find_broken_gradient": [broken_by_max, broken_by_sorting]}
MISTAKES = {"find_broken_gradient": [
    (broken_by_min, "max, not min"),
    (typed_in, "but you named 'W2'"),
    (nudges_the_colleagues_params, "changed its input params"),
    (absolute_errors, "the relative error of"),
    (name_only, "should return a tuple (name, errors)"),
]}
