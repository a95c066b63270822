"""Submissions that break a rule the notebook states, or make a mistake it promises to name.

Each one passed the visible check before the checks tested the rule (issue 14), so the
visible check is where :mod:`test_grading` now expects it caught, with the words given.
Same form as :mod:`submission_bank`, which merges these in, plus correct alternatives met
on the way (CS231n-style code among them) that must keep passing.
"""

import math

import numpy as np

from more_submissions import AdamPlain, backward_pass_plain, loss_and_grads_loop, xavier_normal
from submission_bank import dense_backward_plain, softmax_cross_entropy_plain

# ------------------------------------------------------------- activations


def _sigmoid_clipped(Z):
    return 1 / (1 + np.exp(-np.clip(Z, -500, 500)))  # exp(500) is inf in float32


def _tanh_clipped(Z):
    Z = np.clip(Z, -500, 500)
    return (np.exp(Z) - np.exp(-Z)) / (np.exp(Z) + np.exp(-Z))


def _softmax_without_keepdims(Z):
    e = np.exp(Z - Z.max(axis=1)[:, None])
    return e / e.sum(axis=1)  # (batch, n) / (batch,): broadcast against the columns


def _sigmoid_backward_twice(dA, Z):
    s = 1 / (1 + np.exp(-Z))
    a = 1 / (1 + np.exp(-s))  # the sigmoid applied to its own output
    return dA * a * (1 - a)


def _tanh_backward_twice(dA, Z):
    t = np.tanh(np.tanh(Z))
    return dA * (1 - t**2)


def sigmoid_cs231n(Z):
    """A CS231n-style stable sigmoid: exp of minus the absolute value in both branches."""
    z = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1 / (1 + z), z / (1 + z)).astype(Z.dtype)


# ----------------------------------------------------------------- losses


def _cross_entropy_unguarded(P, y):
    return float(-np.mean(np.log(P[np.arange(len(y)), y])))


def cross_entropy_epsilon_inside(P, y):
    """The guard written as log(p + 1e-12), common in course repositories."""
    return float(-np.mean(np.log(P[np.arange(len(y)), y] + 1e-12)))


def cross_entropy_clipped_both_sides(P, y):
    """deeplearning.ai style: every probability clipped into [1e-15, 1 - 1e-15] before the log."""
    clipped = np.clip(P, 1e-15, 1 - 1e-15)
    return float(-np.sum(np.log(clipped[np.arange(len(y)), y])) / len(y))


def _mse_array(Y_hat, Y):
    return np.mean((Y_hat - Y) ** 2, keepdims=True).reshape(())  # a 0-d array, not a float


def _mse_float32_scalar(Y_hat, Y):
    return np.mean((Y_hat - Y) ** 2)  # np.float32 for float32 inputs


def _sce_summed_loss(logits, y):
    loss, dlogits = softmax_cross_entropy_plain(logits, y)
    return loss * len(y), dlogits


def _sce_whole_rows(logits, y):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    _, dlogits = softmax_cross_entropy_plain(logits, y)
    return float(-np.mean(log_P[y])), dlogits


def _relative_error_of_the_sum(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(a + b))


def _relative_error_unguarded(a, b):
    return float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b)))


def _numerical_gradient_float64(f, x, eps=1e-6):
    grad = np.zeros(x.shape)  # float64 whatever x is
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        grad[index] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


def _numerical_gradient_restored_by_arithmetic(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        x[index] += eps
        plus = f(x)
        x[index] -= 2 * eps
        minus = f(x)
        x[index] += eps  # back to the start, up to rounding
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def _activation_bytes_float(sizes, batch, dtype):
    return batch * sum(sizes[1:]) * np.dtype(dtype).itemsize / 1  # a float


def _l2_grads_float64_zeros(params, lam):
    return {k: lam * v if k.startswith("W") else np.zeros(v.shape) for k, v in params.items()}


def _dense_backward_dW_over_batch(dZ, X, W):
    dX, dW, db = dense_backward_plain(dZ, X, W)
    return dX, dW / len(X), db


# ---------------------------------------------------------------- network

ACT = {"relu": lambda Z: np.maximum(Z, 0), "tanh": np.tanh, "sigmoid": lambda Z: 1 / (1 + np.exp(-Z))}


def _weights_in_sorted_order(params):
    """The (W, b) pairs in the order sorted(params) lists them: W1, W10, W11, W2, ... for 11 layers."""
    names = [name for name in sorted(params) if name.startswith("W")]
    return [(params[name], params["b" + name[1:]]) for name in names]


def _forward_sorted(X, params, activation="relu"):
    act = ACT[activation]
    layers = _weights_in_sorted_order(params)
    A = X
    for number, (W, b) in enumerate(layers, start=1):
        Z = A @ W + b
        A = act(Z) if number < len(layers) else Z
    e = np.exp(A - A.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _forward_always_one_hidden_layer(X, params, activation="relu"):
    """Written for networks with a hidden layer: W1 always gets the activation."""
    act = ACT[activation]
    n = len(params) // 2
    A = act(X @ params["W1"] + params["b1"])
    for i in range(2, n):
        A = act(A @ params[f"W{i}"] + params[f"b{i}"])
    logits = A @ params[f"W{n}"] + params[f"b{n}"] if n > 1 else A
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _backward_sorted(X, y, params, activation="relu"):
    renamed, names = {}, [name for name in sorted(params) if name.startswith("W")]
    for position, name in enumerate(names, start=1):  # the layers renumbered in sorted order
        renamed[f"W{position}"], renamed[f"b{position}"] = params[name], params["b" + name[1:]]
    loss, grads = backward_pass_plain(X, y, renamed, activation)
    back = {}
    for position, name in enumerate(names, start=1):
        back[name], back["b" + name[1:]] = grads[f"W{position}"], grads[f"b{position}"]
    return loss, back


def _backward_relu_backward_always(X, y, params, activation="relu"):
    """The forward pass follows activation; the backward pass uses ReLU's derivative whatever it says."""
    n = len(params) // 2
    act = ACT[activation]
    A, cache = X, []
    for i in range(1, n + 1):
        Z = A @ params[f"W{i}"] + params[f"b{i}"]
        cache.append((A, Z))
        A = act(Z) if i < n else Z
    P = np.exp(A - A.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    batch = len(y)
    dZ = P.copy()
    dZ[np.arange(batch), y] -= 1
    dZ /= batch
    grads = {}
    for i in range(n, 0, -1):
        grads[f"W{i}"], grads[f"b{i}"] = cache[i - 1][0].T @ dZ, dZ.sum(axis=0)
        if i > 1:
            dZ = (dZ @ params[f"W{i}"].T) * (cache[i - 2][1] > 0)
    return float(-np.mean(np.log(P[np.arange(batch), y]))), grads


def _backward_summed_loss(X, y, params, activation="relu"):
    loss, grads = backward_pass_plain(X, y, params, activation)
    return loss * len(y), grads


def _backward_db_mean(X, y, params, activation="relu"):
    loss, grads = backward_pass_plain(X, y, params, activation)
    return loss, {name: g / len(y) if name.startswith("b") else g for name, g in grads.items()}


def _backward_divided_twice(X, y, params, activation="relu"):
    loss, grads = backward_pass_plain(X, y, params, activation)
    return loss, {name: g / len(y) for name, g in grads.items()}


# 10-project's loss_and_grads: backward passes wrong enough to be wrong, and still right enough that the
# classifier they train reaches 95 % on the digits (so the accuracy check alone let them through).


def loss_and_grads_with(params, X, y, *, db_mean=False, relu_on_logits=False, through_the_logits_relu=False):
    """The learner's loss_and_grads with a slip: db as a mean over the batch (dZ already holds the
    mean's 1/batch), or ReLU applied to the logits too (the backward pass going through it or not)."""
    n = len(params) // 2
    A, cache = X, []
    for i in range(1, n + 1):
        Z = A @ params[f"W{i}"] + params[f"b{i}"]
        cache.append((A, Z))
        A = np.maximum(Z, 0) if i < n or relu_on_logits else Z
    shifted = A - A.max(axis=1, keepdims=True)
    log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(y))
    dZ = np.exp(log_P)
    dZ[rows, y] -= 1
    dZ /= len(y)
    if relu_on_logits and through_the_logits_relu:
        dZ = dZ * (cache[-1][1] > 0)
    grads = {}
    for i in range(n, 0, -1):
        A_prev, _ = cache[i - 1]
        grads[f"W{i}"] = A_prev.T @ dZ
        grads[f"b{i}"] = dZ.mean(axis=0) if db_mean else dZ.sum(axis=0)
        if i > 1:
            dZ = (dZ @ params[f"W{i}"].T) * (cache[i - 2][1] > 0)
    return float(-log_P[rows, y].mean()), grads


def lag_db_mean(params, X, y):
    return loss_and_grads_with(params, X, y, db_mean=True)


def lag_relu_on_logits(params, X, y):
    return loss_and_grads_with(params, X, y, relu_on_logits=True)


def _lag_relu_on_logits_and_back(params, X, y):
    return loss_and_grads_with(params, X, y, relu_on_logits=True, through_the_logits_relu=True)


def _lag_loss_in_the_input_dtype(params, X, y):
    loss, grads = loss_and_grads_loop(params, X, y)
    return X.dtype.type(loss), grads  # np.float32 for float32 inputs, where the text asks for a float


def _lag_divided_twice(params, X, y):
    loss, grads = loss_and_grads_loop(params, X, y)
    return loss, {name: g / len(y) for name, g in grads.items()}


# ----------------------------------------------------------- initializers


def _xavier_uniform(n_in, n_out, rng):
    limit = math.sqrt(6.0 / (n_in + n_out))  # the same spread as the normal, but not a normal
    return rng.uniform(-limit, limit, size=(n_in, n_out))


def _he_uniform(n_in, n_out, rng):
    limit = math.sqrt(6.0 / n_in)
    return rng.uniform(-limit, limit, size=(n_in, n_out))


def _he_private_generator(n_in, n_out, rng):
    rng.random()  # touches the given generator, then ignores it
    own = np.random.default_rng(42)
    return own.standard_normal((n_in, n_out)) * math.sqrt(2.0 / n_in)


def _he_one_column_repeated(n_in, n_out, rng):
    column = rng.standard_normal((n_in, 1)) * math.sqrt(2.0 / n_in)
    return np.repeat(column, n_out, axis=1)  # every unit starts equal: the symmetry 06 warns about


def _xavier_float32(n_in, n_out, rng):
    return xavier_normal(n_in, n_out, rng).astype(np.float32)


def he_rng_normal(n_in, n_out, rng):
    return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))


# ---------------------------------------------------------------- dropout


def _dropout_exact_fraction(A, p_drop, rng):
    kept = round((1 - p_drop) * A.size)
    mask = np.zeros(A.size, dtype=A.dtype)
    mask[:kept] = 1
    mask = rng.permutation(mask).reshape(A.shape)  # exactly the expected number kept, every time
    return A * mask / (1 - p_drop), mask


def _dropout_scaled_mask(A, p_drop, rng):
    mask = (rng.random(A.shape) >= p_drop).astype(A.dtype) / (1 - p_drop)  # the scale folded into the mask
    return A * mask, mask


def _dropout_bool_mask(A, p_drop, rng):
    mask = rng.random(A.shape) >= p_drop
    return A * mask / (1 - p_drop), mask


def _dropout_private_generator(A, p_drop, rng):
    rng.random()
    own = np.random.default_rng(7)
    mask = (own.random(A.shape) >= p_drop).astype(A.dtype)
    return A * mask / (1 - p_drop), mask


def dropout_cs231n(A, p_drop, rng):
    """CS231n's inverted dropout: the scale folded into the mask, returned as 0/1 as asked."""
    keep = (rng.random(A.shape) < 1 - p_drop) / (1 - p_drop)
    return (A * keep).astype(A.dtype), (keep > 0).astype(A.dtype)


# -------------------------------------------------------------- optimizers


class _AdamNoEps(AdamPlain):
    def step(self, params, grads):
        self.t += 1
        for name, g in grads.items():
            self.m[name] = self.beta1 * self.m.get(name, np.zeros_like(g)) + (1 - self.beta1) * g
            self.v[name] = self.beta2 * self.v.get(name, np.zeros_like(g)) + (1 - self.beta2) * g**2
            m_hat = self.m[name] / (1 - self.beta1**self.t)
            v_hat = self.v[name] / (1 - self.beta2**self.t)
            params[name] -= self.lr * m_hat / np.sqrt(v_hat)


class _AdamEpsInsideTheRoot(AdamPlain):
    def step(self, params, grads):
        self.t += 1
        for name, g in grads.items():
            self.m[name] = self.beta1 * self.m.get(name, np.zeros_like(g)) + (1 - self.beta1) * g
            self.v[name] = self.beta2 * self.v.get(name, np.zeros_like(g)) + (1 - self.beta2) * g**2
            m_hat = self.m[name] / (1 - self.beta1**self.t)
            v_hat = self.v[name] / (1 - self.beta2**self.t)
            params[name] -= self.lr * m_hat / np.sqrt(v_hat + self.eps)


class _AdamCorrectedWrittenBack(AdamPlain):
    def step(self, params, grads):
        self.t += 1
        for name, g in grads.items():
            m = self.beta1 * self.m.get(name, np.zeros_like(g)) + (1 - self.beta1) * g
            v = self.beta2 * self.v.get(name, np.zeros_like(g)) + (1 - self.beta2) * g**2
            self.m[name] = m / (1 - self.beta1**self.t)  # the corrected moment replaces the running one
            self.v[name] = v / (1 - self.beta2**self.t)
            params[name] -= self.lr * self.m[name] / (np.sqrt(self.v[name]) + self.eps)


class _AdamVFromG(AdamPlain):
    def step(self, params, grads):
        self.t += 1
        for name, g in grads.items():
            self.m[name] = self.beta1 * self.m.get(name, np.zeros_like(g)) + (1 - self.beta1) * g
            self.v[name] = self.beta2 * self.v.get(name, np.zeros_like(g)) + (1 - self.beta2) * np.abs(g)
            m_hat = self.m[name] / (1 - self.beta1**self.t)
            v_hat = self.v[name] / (1 - self.beta2**self.t)
            params[name] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class _SGDReturnsNewArrays:
    def __init__(self, lr=0.01):
        self.lr = lr

    def step(self, params, grads):
        return {name: params[name] - self.lr * grads[name] for name in params}


class _AdamReturnsNewArrays(AdamPlain):
    def step(self, params, grads):
        self.t += 1
        new = {}
        for name, g in grads.items():
            self.m[name] = self.beta1 * self.m.get(name, np.zeros_like(g)) + (1 - self.beta1) * g
            self.v[name] = self.beta2 * self.v.get(name, np.zeros_like(g)) + (1 - self.beta2) * g**2
            m_hat = self.m[name] / (1 - self.beta1**self.t)
            v_hat = self.v[name] / (1 - self.beta2**self.t)
            new[name] = params[name] - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        return new


class AdamCS231n:
    """CS231n's Adam: config-style state, t increased before the update, the same rule."""

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.config = {"learning_rate": lr, "beta1": beta1, "beta2": beta2, "epsilon": eps, "t": 0}
        self.moments = {}

    def step(self, params, grads):
        c = self.config
        c["t"] += 1
        for name, dw in grads.items():
            m, v = self.moments.get(name, (np.zeros_like(dw), np.zeros_like(dw)))
            m = c["beta1"] * m + (1 - c["beta1"]) * dw
            v = c["beta2"] * v + (1 - c["beta2"]) * (dw * dw)
            self.moments[name] = (m, v)
            mt = m / (1 - c["beta1"] ** c["t"])
            vt = v / (1 - c["beta2"] ** c["t"])
            params[name] -= c["learning_rate"] * mt / (np.sqrt(vt) + c["epsilon"])


CORRECT = {
    "sigmoid": [sigmoid_cs231n],
    "cross_entropy": [cross_entropy_epsilon_inside, cross_entropy_clipped_both_sides],
    "he": [he_rng_normal],
    "dropout_forward": [dropout_cs231n],
    "Adam": [AdamCS231n],
}

MISTAKES = {
    "sigmoid": [(_sigmoid_clipped, "exp overflowed")],
    "tanh": [(_tanh_clipped, "exp overflowed")],
    "softmax": [(_softmax_without_keepdims, "keepdims=True")],
    "relu_backward": [(lambda dA, Z: dA * (Z >= 0), "Z > 0, not Z >= 0")],
    "sigmoid_backward": [(_sigmoid_backward_twice, "do not apply sigmoid to it again")],
    "tanh_backward": [(_tanh_backward_twice, "do not apply tanh to it again")],
    "cross_entropy": [(_cross_entropy_unguarded, "np.finfo(P.dtype).tiny")],
    "mse": [(_mse_array, "a Python float"), (_mse_float32_scalar, "a Python float")],
    "softmax_cross_entropy": [(_sce_summed_loss, "the loss is summed over the batch"),
                              (_sce_whole_rows, "P[np.arange(batch), y]")],
    "relative_error": [(_relative_error_of_the_sum, "||a|| + ||b||, not ||a + b||"),
                       (_relative_error_unguarded, "return 0.0")],
    "numerical_gradient": [(_numerical_gradient_float64, "should have dtype float32"),
                           (_numerical_gradient_restored_by_arithmetic, "save the value and assign it back")],
    "activation_bytes": [(_activation_bytes_float, "an int")],
    "l2_grads": [(_l2_grads_float64_zeros, "should have dtype float32")],
    "dense_backward": [(_dense_backward_dW_over_batch, "divided dW by the batch size")],
    "forward_pass": [(_forward_sorted, "sorted(params)"), (_forward_always_one_hidden_layer, "case 4 of")],
    "backward_pass": [(_backward_sorted, "sorted(params)"),
                      (_backward_relu_backward_always, "ReLU's backward whatever the activation argument says"),
                      (_backward_summed_loss, "the loss is summed over the batch"),
                      (_backward_db_mean, "db = dZ.sum(axis=0)"), (_backward_divided_twice, "a second time")],
    "loss_and_grads": [(lag_db_mean, "db = dZ.sum(axis=0)"), (lag_relu_on_logits, "ReLU was applied to the logits"),
                       (_lag_relu_on_logits_and_back, "ReLU was applied to the logits"),
                       (_lag_divided_twice, "a second time"), (_lag_loss_in_the_input_dtype, "a Python float")],
    "xavier": [(_xavier_uniform, "uniform distribution"), (_xavier_float32, "made yours float32")],
    "he": [(_he_uniform, "uniform distribution"), (_he_private_generator, "different generator states"),
           (_he_one_column_repeated, "columns of W are equal")],
    "dropout_forward": [(_dropout_exact_fraction, "independently"), (_dropout_scaled_mask, "the scaled mask"),
                        (_dropout_bool_mask, ".astype(A.dtype)"), (_dropout_private_generator, "different generator states")],
    "Adam": [(_AdamNoEps, "eps"), (_AdamEpsInsideTheRoot, "outside the square root"),
             (_AdamCorrectedWrittenBack, "written back"), (_AdamVFromG, "g**2"),
             (_AdamReturnsNewArrays, "update params in place")],
    "SGD": [(_SGDReturnsNewArrays, "update params in place")],
}
