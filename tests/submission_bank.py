"""Learner-style submissions for the grading checks: correct ones written differently, and common mistakes.

``CORRECT[exercise]`` lists functions that must pass (loops, einsum, other but
equivalent formulas); ``MISTAKES[exercise]`` lists ``(function, words the
feedback must contain)`` for code a learner plausibly writes.
"""

import numpy as np

# ------------------------------------------------------------------ correct


def relu_where(Z):
    return np.where(Z > 0, Z, np.zeros_like(Z))


def relu_multiply(Z):
    return Z * (Z > 0)


def sigmoid_stable(Z):
    out = np.empty_like(Z)
    positive = Z >= 0
    out[positive] = 1 / (1 + np.exp(-Z[positive]))
    e = np.exp(Z[~positive])
    out[~positive] = e / (1 + e)
    return out


def sigmoid_via_tanh(Z):
    return (0.5 * (1 + np.tanh(Z / 2))).astype(Z.dtype)


def tanh_numpy(Z):
    return np.tanh(Z)


def tanh_via_exp(Z):
    e = np.exp(-2 * np.abs(Z))
    return (np.sign(Z) * (1 - e) / (1 + e)).astype(Z.dtype)


def softmax_rows(Z):
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_loop(Z):
    out = np.empty_like(Z)
    for i, row in enumerate(Z):
        e = np.exp(row - row.max())
        out[i] = e / e.sum()
    return out


def relu_backward_mask(dA, Z):
    return dA * (Z > 0)


def relu_backward_copy(dA, Z):
    dZ = dA.copy()
    dZ[Z <= 0] = 0
    return dZ


def sigmoid_backward_plain(dA, Z):
    s = sigmoid_stable(Z)
    return dA * s * (1 - s)


def tanh_backward_plain(dA, Z):
    return dA * (1 - np.tanh(Z) ** 2)


def dense_forward_dot(X, W, b):
    return np.dot(X, W) + b


def dense_forward_einsum(X, W, b):
    return np.einsum("bi,io->bo", X, W) + b


def dense_forward_loops(X, W, b):
    Z = np.zeros((X.shape[0], W.shape[1]), dtype=X.dtype)
    for i in range(X.shape[0]):
        for j in range(W.shape[1]):
            Z[i, j] = np.sum(X[i] * W[:, j]) + b[j]
    return Z


def dense_backward_plain(dZ, X, W):
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)


def dense_backward_einsum(dZ, X, W):
    return np.einsum("bo,io->bi", dZ, W), np.einsum("bi,bo->io", X, dZ), np.einsum("bo->o", dZ)


def mse_plain(Y_hat, Y):
    return float(np.mean((Y_hat - Y) ** 2))


def mse_numpy_float64(Y_hat, Y):
    return np.sum(np.square(Y_hat - Y), dtype=np.float64) / Y.size  # np.float64 is a Python float


def mse_backward_plain(Y_hat, Y):
    return 2 * (Y_hat - Y) / Y.size


def cross_entropy_indexing(P, y):
    picked = P[np.arange(len(y)), y]
    return float(-np.mean(np.log(np.maximum(picked, np.finfo(P.dtype).tiny))))


def cross_entropy_one_hot(P, y):
    Y = np.eye(P.shape[1], dtype=P.dtype)[y]
    return float(-np.sum(Y * np.log(np.clip(P, 1e-300, None))) / len(y))


def softmax_cross_entropy_plain(logits, y):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    batch = len(y)
    loss = -log_probs[np.arange(batch), y].mean()
    dlogits = np.exp(log_probs)
    dlogits[np.arange(batch), y] -= 1
    return float(loss), dlogits / batch


def l2_penalty_plain(params, lam):
    return 0.5 * lam * sum(np.sum(W**2) for name, W in params.items() if name.startswith("W"))


def l2_grads_plain(params, lam):
    return {name: lam * v if name.startswith("W") else np.zeros_like(v) for name, v in params.items()}


def dropout_backward_plain(dA, mask, p_drop):
    return dA * mask / (1 - p_drop)


def relative_error_plain(a, b):
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denominator == 0 else float(np.linalg.norm(a - b) / denominator)


def numerical_gradient_in_place(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + eps
        plus = f(x)
        x[index] = old - eps
        minus = f(x)
        x[index] = old
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def numerical_gradient_copies(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        grad[index] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


CORRECT = {
    "relu": [relu_where, relu_multiply, lambda Z: np.maximum(Z, 0)],
    "sigmoid": [sigmoid_stable, sigmoid_via_tanh],
    "tanh": [tanh_numpy, tanh_via_exp],
    "softmax": [softmax_rows, softmax_loop],
    "relu_backward": [relu_backward_mask, relu_backward_copy],
    "sigmoid_backward": [sigmoid_backward_plain],
    "tanh_backward": [tanh_backward_plain],
    "dense_forward": [dense_forward_dot, dense_forward_einsum, dense_forward_loops],
    "dense_backward": [dense_backward_plain, dense_backward_einsum],
    "mse": [mse_plain, mse_numpy_float64],
    "mse_backward": [mse_backward_plain],
    "cross_entropy": [cross_entropy_indexing, cross_entropy_one_hot],
    "softmax_cross_entropy": [softmax_cross_entropy_plain],
    "l2_penalty": [l2_penalty_plain],
    "l2_grads": [l2_grads_plain],
    "dropout_backward": [dropout_backward_plain],
    "relative_error": [relative_error_plain],
    "numerical_gradient": [numerical_gradient_in_place, numerical_gradient_copies],
}

# ----------------------------------------------------------------- mistakes


def _softmax_unshifted(Z):
    e = np.exp(Z)
    return e / e.sum(axis=1, keepdims=True)


def _sce_no_batch_division(logits, y):
    loss, d = softmax_cross_entropy_plain(logits, y)
    return loss, d * len(y)


def _sce_unshifted(logits, y):
    P = _softmax_unshifted(logits)
    batch = len(y)
    loss = -np.log(P[np.arange(batch), y]).mean()
    P[np.arange(batch), y] -= 1
    return float(loss), P / batch


def _one_sided(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    base = f(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        grad[index] = (f(x + step) - base) / eps
    return grad


def _forgets_to_restore(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        x[index] += eps
        plus = f(x)
        x[index] -= 2 * eps
        grad[index] = (plus - f(x)) / (2 * eps)
    return grad


def _sce_shifted_by_the_matrix_maximum(logits, y):
    shifted = logits - logits.max()
    log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    Y = np.zeros_like(logits)
    Y[np.arange(len(y)), y] = 1
    return float(-np.mean(log_P[np.arange(len(y)), y])), (np.exp(log_P) - Y) / len(y)


def _dense_forward_transposed(X, W, b):
    return np.dot(W.T, X.T) + b[:, None]


MISTAKES = {
    "relu": [(lambda Z: np.minimum(Z, 0), "np.minimum instead of np.maximum"),
             (lambda Z: (Z > 0).astype(Z.dtype), "returned the 0/1 mask"),
             (lambda Z: np.abs(Z), "absolute value")],
    "sigmoid": [(lambda Z: 1 / (1 + np.exp(Z)), "sign in the exponent"),
                (lambda Z: np.tanh(Z), "tanh is a different function"),
                (lambda Z: 1 / np.exp(-Z), "the 1 + is missing"),
                # right values, by way of exp(1000) = inf: the exercise is about not overflowing
                (lambda Z: 1 / (1 + np.exp(-Z)), "exp overflowed"),
                (lambda Z: np.where(Z >= 0, 1 / (1 + np.exp(-Z)), np.exp(Z) / (1 + np.exp(Z))), "exp overflowed")],
    "tanh": [(lambda Z: 1 / (1 + np.exp(-Z)), "that is the sigmoid"),
             (lambda Z: 2 / (1 + np.exp(-Z)) - 1, "2 * sigmoid(2 Z) - 1"),
             (lambda Z: (np.exp(Z) - np.exp(-Z)) / 2, "that is sinh(Z)"),
             (lambda Z: (np.exp(Z) - np.exp(-Z)) / (np.exp(Z) + np.exp(-Z)), "exp overflowed")],
    "softmax": [(lambda Z: np.exp(Z) / np.exp(Z).sum(axis=0), "wrong axis"),
                (_softmax_unshifted, "max shift"),
                (lambda Z: np.exp(Z - Z.max()) / np.exp(Z - Z.max()).sum(), "sum of the whole matrix"),
                (lambda Z: np.exp(Z - Z.max()) / np.exp(Z - Z.max()).sum(axis=1, keepdims=True), "maximum of the whole matrix")],
    "relu_backward": [(lambda dA, Z: (Z > 0).astype(dA.dtype), "without multiplying by dA"),
                      (lambda dA, Z: dA * Z, "multiplied by Z"),
                      (lambda dA, Z: dA * np.maximum(Z, 0), "multiplied by relu(Z)")],
    "sigmoid_backward": [(lambda dA, Z: dA * Z * (1 - Z), "derivative taken at the activation"),
                         (lambda dA, Z: dA * sigmoid_stable(Z), "missing the factor (1 - s)"),
                         (lambda dA, Z: sigmoid_stable(Z) * (1 - sigmoid_stable(Z)), "forgot to multiply by dA")],
    "tanh_backward": [(lambda dA, Z: dA * (1 - Z**2), "derivative taken at the activation"),
                      (lambda dA, Z: dA * (1 - np.tanh(Z)), "the square is missing"),
                      (lambda dA, Z: 1 - np.tanh(Z) ** 2, "forgot to multiply by dA")],
    "dense_forward": [(lambda X, W, b: X @ W, "forgot to add the bias"),
                      (lambda X, W, b: X @ W.T + b, "transposed weights"),
                      (lambda X, W, b: X @ W - b, "subtracted the bias"),
                      (_dense_forward_transposed, "the result is transposed")],
    "dense_backward": [(lambda dZ, X, W: (dZ @ W.T, X.T @ dZ, dZ.mean(axis=0)), "divided db by the batch size"),
                       (lambda dZ, X, W: (dZ @ W.T, X.T @ dZ / len(X), dZ.mean(axis=0)), "a second time"),
                       (lambda dZ, X, W: (dZ @ W, X.T @ dZ, dZ.sum(axis=0)), "transposed weights in dX"),
                       (lambda dZ, X, W: (dZ @ W.T, dZ.T @ X, dZ.sum(axis=0)), "not its transpose")],
    "mse": [(lambda Y_hat, Y: float(np.sum((Y_hat - Y) ** 2)), "summed instead of averaging"),
            (lambda Y_hat, Y: float(np.sum((Y_hat - Y) ** 2) / len(Y)), "averaged over the batch only"),
            (lambda Y_hat, Y: float(np.mean(np.abs(Y_hat - Y))), "not squared")],
    "mse_backward": [(lambda Y_hat, Y: (Y_hat - Y) / Y.size, "missing the factor 2"),
                     (lambda Y_hat, Y: 2 * (Y_hat - Y) / len(Y), "divided by the batch size"),
                     (lambda Y_hat, Y: 2 * (Y - Y_hat) / Y.size, "the sign is flipped")],
    "cross_entropy": [(lambda P, y: float(np.mean(np.log(P[np.arange(len(y)), y]))), "minus sign is missing"),
                      (lambda P, y: float(-np.sum(np.log(P[np.arange(len(y)), y]))), "summed over the batch"),
                      (lambda P, y: float(-np.mean(np.log(P[y]))), "P[y] picks whole rows")],
    "softmax_cross_entropy": [(_sce_no_batch_division, "not divided by the batch size"),
                              (_sce_unshifted, "max shift"),
                              (_sce_shifted_by_the_matrix_maximum, "maximum of the whole matrix"),
                              (lambda z, y: (lambda r: (r[0], -r[1]))(softmax_cross_entropy_plain(z, y)), "sign of dlogits")],
    "l2_penalty": [(lambda p, lam: lam * sum(np.sum(v**2) for k, v in p.items() if k.startswith("W")), "factor 1/2 is missing"),
                   (lambda p, lam: 0.5 * lam * sum(np.sum(v**2) for v in p.values()), "biases were penalised"),
                   (lambda p, lam: 0.5 * lam * sum(np.linalg.norm(v) for k, v in p.items() if k.startswith("W")), "norm instead of")],
    "l2_grads": [(lambda p, lam: {k: (2 * lam * v if k.startswith("W") else 0 * v) for k, v in p.items()}, "factor 2 too many"),
                 (lambda p, lam: {k: lam * v for k, v in p.items()}, "biases got a gradient"),
                 (lambda p, lam: {k: lam * v for k, v in p.items() if k.startswith("W")}, "a dict with keys")],
    "dropout_backward": [(lambda dA, mask, p: dA * mask, "no rescaling"),
                         (lambda dA, mask, p: dA * (1 - mask) / (1 - p), "mask is inverted"),
                         (lambda dA, mask, p: dA * mask * (1 - p), "instead of dividing")],
    "relative_error": [(lambda a, b: float(np.linalg.norm(a - b)), "not relative"),
                       (lambda a, b: float(np.linalg.norm(a - b) / np.linalg.norm(a)), "by ||a|| only"),
                       (lambda a, b: float(np.max(np.abs(a - b))), "largest entry-wise difference")],
    "numerical_gradient": [(_one_sided, "one-sided difference"),
                           (lambda f, x, eps=1e-6: 2 * numerical_gradient_copies(f, x, eps), "divided by eps instead of 2 * eps"),
                           (_forgets_to_restore, "changed its input x")],
}

# The exercises the course notebooks added live in their own module.
import gradcheck_submissions  # noqa: E402
import more_submissions  # noqa: E402

CORRECT.update(more_submissions.CORRECT)
MISTAKES.update(more_submissions.MISTAKES)
CORRECT.update(gradcheck_submissions.CORRECT)
MISTAKES.update(gradcheck_submissions.MISTAKES)
# Rules the notebooks state and mistakes they promise to name (issue 14), beside the rest.
import stated_rules_submissions  # noqa: E402

for _name, _fns in stated_rules_submissions.CORRECT.items():
    CORRECT[_name] = CORRECT[_name] + _fns
for _name, _items in stated_rules_submissions.MISTAKES.items():
    MISTAKES[_name] = MISTAKES[_name] + _items
# Mistakes written the way learners who follow the rest of the notebooks' advice write them (issue 23).
import teacher_submissions  # noqa: E402

for _name, _fns in teacher_submissions.CORRECT.items():
    CORRECT[_name] = CORRECT[_name] + _fns
for _name, _items in teacher_submissions.MISTAKES.items():
    MISTAKES[_name] = MISTAKES[_name] + _items
# dense_forward_loops is dense_forward written with loops: the same right and wrong answers.
CORRECT["dense_forward_loops"] = [dense_forward_loops] + CORRECT["dense_forward"]
MISTAKES["dense_forward_loops"] = MISTAKES["dense_forward"]
