"""Learner-style submissions for the exercises the course notebooks added: shapes, log-softmax,
one-hot, the whole network, the initializers, dropout and the optimizers.

Same form as :mod:`submission_bank`, which merges these in: correct variants
that must pass, and ``(submission, words the feedback must contain)`` mistakes.
The project's classifier, checked by ``check_classifier`` rather than by ``check``,
has lists of its own: ``CLASSIFIER_CORRECT`` and ``CLASSIFIER_MISTAKES`` hold
``(train_classifier, predict)`` pairs.
"""

import math

import numpy as np

from mlpcore.data import load_digits

# ------------------------------------------------------------------ shapes


def parameter_shapes_zip(sizes):
    return [((n_in, n_out), (n_out,)) for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def parameter_shapes_loop(sizes):
    shapes = []
    for i in range(len(sizes) - 1):
        shapes.append(((sizes[i], sizes[i + 1]), (sizes[i + 1],)))
    return shapes


def count_parameters_via_shapes(sizes):
    return int(sum(math.prod(w) + math.prod(b) for w, b in parameter_shapes_zip(sizes)))


def matmul_shape_plain(a, b):
    return (a[0], b[1]) if a[1] == b[0] else None


def matmul_shape_unpacked(shape_a, shape_b):
    m, k = shape_a
    k2, n = shape_b
    if k != k2:
        return None
    return m, n


def activation_bytes_plain(sizes, batch, dtype):
    return batch * sum(sizes[1:]) * np.dtype(dtype).itemsize


def activation_bytes_arrays(sizes, batch, dtype):
    return sum(np.empty((batch, n), dtype=dtype).nbytes for n in sizes[1:])


# ----------------------------------------------------------------- losses


def log_softmax_plain(Z):
    m = Z.max(axis=1, keepdims=True)
    return Z - m - np.log(np.exp(Z - m).sum(axis=1, keepdims=True))


def log_softmax_logaddexp(Z):
    return Z - np.logaddexp.reduce(Z, axis=1, keepdims=True)


def one_hot_eye(y, n_classes):
    return np.eye(n_classes, dtype=np.float32)[y]


def one_hot_index(y, n_classes):
    Y = np.zeros((len(y), n_classes), dtype=np.float32)
    Y[np.arange(len(y)), y] = 1
    return Y


# ---------------------------------------------------------------- network


def _act(name, Z):
    return {"relu": lambda: np.maximum(Z, 0), "tanh": lambda: np.tanh(Z), "sigmoid": lambda: 1 / (1 + np.exp(-Z))}[name]()


def _layers(params):
    return len(params) // 2


def forward_pass_plain(X, params, activation="relu"):
    A = X
    for i in range(1, _layers(params) + 1):
        Z = A @ params[f"W{i}"] + params[f"b{i}"]
        A = _act(activation, Z) if i < _layers(params) else Z
    e = np.exp(A - A.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def forward_pass_einsum(X, params, activation="relu"):
    n = _layers(params)
    A = X
    for i in range(1, n):
        A = _act(activation, np.einsum("bi,io->bo", A, params[f"W{i}"]) + params[f"b{i}"])
    logits = np.dot(A, params[f"W{n}"]) + params[f"b{n}"]
    return np.exp(logits - np.logaddexp.reduce(logits, axis=1, keepdims=True))


def backward_pass_plain(X, y, params, activation="relu"):
    n = _layers(params)
    A, cache = X, []
    for i in range(1, n + 1):
        Z = A @ params[f"W{i}"] + params[f"b{i}"]
        cache.append((A, Z))
        A = _act(activation, Z) if i < n else Z
    P = np.exp(A - A.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    batch = len(y)
    loss = float(-np.mean(np.log(P[np.arange(batch), y])))
    dZ = P.copy()
    dZ[np.arange(batch), y] -= 1
    dZ /= batch
    grads = {}
    for i in range(n, 0, -1):
        A_prev, _ = cache[i - 1]
        grads[f"W{i}"], grads[f"b{i}"] = A_prev.T @ dZ, dZ.sum(axis=0)
        if i > 1:
            Z_prev = cache[i - 2][1]
            A_out = _act(activation, Z_prev)  # derivatives written with the activation's output
            derivative = {"relu": Z_prev > 0, "tanh": 1 - A_out**2, "sigmoid": A_out * (1 - A_out)}[activation]
            dZ = (dZ @ params[f"W{i}"].T) * derivative
    return loss, grads


def _forward_logits(X, params, activation="relu"):
    A = X
    for i in range(1, _layers(params) + 1):
        Z = A @ params[f"W{i}"] + params[f"b{i}"]
        A = _act(activation, Z) if i < _layers(params) else Z
    return A


def _forward_relu_only(X, params, activation="relu"):
    return forward_pass_plain(X, params, "relu")


def _forward_activation_on_output(X, params, activation="relu"):
    A = X
    for i in range(1, _layers(params) + 1):
        A = _act(activation, A @ params[f"W{i}"] + params[f"b{i}"])
    e = np.exp(A - A.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _backward_summed(X, y, params, activation="relu"):
    loss, grads = backward_pass_plain(X, y, params, activation)
    return loss, {k: v * len(y) for k, v in grads.items()}


def _backward_at_activation(X, y, params, activation="relu"):
    n = _layers(params)
    A, cache = X, []
    for i in range(1, n + 1):
        Z = A @ params[f"W{i}"] + params[f"b{i}"]
        A = _act(activation, Z) if i < n else Z
        cache.append((cache[-1][2] if cache else X, Z, A))
    P = np.exp(A - A.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    batch = len(y)
    dZ = P.copy()
    dZ[np.arange(batch), y] -= 1
    dZ /= batch
    grads = {}
    for i in range(n, 0, -1):
        A_prev = cache[i - 1][0]
        grads[f"W{i}"], grads[f"b{i}"] = A_prev.T @ dZ, dZ.sum(axis=0)
        if i > 1:
            A_hidden = cache[i - 2][2]  # the activation, where the pre-activation was meant
            s = _act(activation, A_hidden)
            derivative = {"relu": A_hidden > 0, "tanh": 1 - s**2, "sigmoid": s * (1 - s)}[activation]
            dZ = (dZ @ params[f"W{i}"].T) * derivative
    return float(-np.mean(np.log(P[np.arange(batch), y]))), grads


def _backward_no_derivative(X, y, params, activation="relu"):
    n = _layers(params)
    A, inputs = X, []
    for i in range(1, n + 1):
        inputs.append(A)
        Z = A @ params[f"W{i}"] + params[f"b{i}"]
        A = _act(activation, Z) if i < n else Z
    P = np.exp(A - A.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    batch = len(y)
    dZ = (P - np.eye(P.shape[1])[y]) / batch
    grads = {}
    for i in range(n, 0, -1):
        grads[f"W{i}"], grads[f"b{i}"] = inputs[i - 1].T @ dZ, dZ.sum(axis=0)
        dZ = dZ @ params[f"W{i}"].T
    return float(-np.mean(np.log(P[np.arange(batch), y]))), grads


# ---------------------------------------------- loss_and_grads (10-project)
# ReLU on every hidden layer, softmax and the mean cross-entropy at the output.


def loss_and_grads_loop(params, X, y):
    """A loop over the layers forward, keeping (input, Z) of each, and one back."""
    n = _layers(params)
    A, cache = X, []
    for i in range(1, n + 1):
        Z = A @ params[f"W{i}"] + params[f"b{i}"]
        cache.append((A, Z))
        A = np.maximum(Z, 0) if i < n else Z
    shifted = A - A.max(axis=1, keepdims=True)
    log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(y))
    loss = float(-log_P[rows, y].mean())
    dZ = np.exp(log_P)
    dZ[rows, y] -= 1
    dZ /= len(y)
    grads = {}
    for i in range(n, 0, -1):
        A_prev, _ = cache[i - 1]
        grads[f"W{i}"], grads[f"b{i}"] = A_prev.T @ dZ, dZ.sum(axis=0)
        if i > 1:
            dZ = (dZ @ params[f"W{i}"].T) * (cache[i - 2][1] > 0)
    return loss, grads


def loss_and_grads_recursive(params, X, y):
    """No loop over the layers: each layer hands its output to the rest of the network and
    gets back the loss, the gradients of the layers above and the gradient of its output."""
    n = _layers(params)

    def rest_of_network(i, A):
        Z = np.dot(A, params[f"W{i}"]) + params[f"b{i}"]
        if i == n:
            P = np.exp(Z - Z.max(axis=1, keepdims=True))
            P = P / P.sum(axis=1, keepdims=True)
            Y = np.eye(Z.shape[1], dtype=Z.dtype)[y]
            loss = float(-np.mean(np.sum(Y * np.log(P), axis=1)))
            grads, dZ = {}, (P - Y) / len(y)
        else:
            loss, grads, dA = rest_of_network(i + 1, np.where(Z > 0, Z, 0).astype(Z.dtype))
            dZ = np.where(Z > 0, dA, 0).astype(dA.dtype)
        grads[f"W{i}"] = np.einsum("bi,bo->io", A, dZ)
        grads[f"b{i}"] = np.sum(dZ, axis=0)
        return loss, grads, np.dot(dZ, params[f"W{i}"].T)

    loss, grads, _ = rest_of_network(1, X)
    return loss, grads


def _lag_summed_loss(params, X, y):
    loss, grads = loss_and_grads_loop(params, X, y)
    return loss * len(y), grads


def _lag_not_divided(params, X, y):
    loss, grads = loss_and_grads_loop(params, X, y)
    return loss, {name: g * len(y) for name, g in grads.items()}


def _lag_sums_everywhere(params, X, y):
    """The loss summed over the batch, and the gradients of that sum: consistent, but not the mean."""
    loss, grads = loss_and_grads_loop(params, X, y)
    return loss * len(y), {name: g * len(y) for name, g in grads.items()}


def _lag_no_relu_derivative(params, X, y):
    n = _layers(params)
    A, inputs = X, []
    for i in range(1, n + 1):
        inputs.append(A)
        Z = A @ params[f"W{i}"] + params[f"b{i}"]
        A = np.maximum(Z, 0) if i < n else Z
    P = np.exp(A - A.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    rows = np.arange(len(y))
    loss = float(-np.mean(np.log(P[rows, y])))
    dZ = P.copy()
    dZ[rows, y] -= 1
    dZ /= len(y)
    grads = {}
    for i in range(n, 0, -1):
        grads[f"W{i}"], grads[f"b{i}"] = inputs[i - 1].T @ dZ, dZ.sum(axis=0)
        dZ = dZ @ params[f"W{i}"].T  # straight through the ReLU
    return loss, grads


def _lag_sorted_layers(params, X, y):
    """The layers taken in sorted(params) order: W1, W10, W11, W2, ... once there are ten or more."""
    names = [name for name in sorted(params) if name.startswith("W")]
    renamed = {}
    for position, name in enumerate(names, start=1):
        renamed[f"W{position}"], renamed[f"b{position}"] = params[name], params["b" + name[1:]]
    loss, grads = loss_and_grads_loop(renamed, X, y)
    back = {}
    for position, name in enumerate(names, start=1):
        back[name], back["b" + name[1:]] = grads[f"W{position}"], grads[f"b{position}"]
    return loss, back


# ----------------------------------------------------------- initializers


def normal_rng_normal(n_in, n_out, rng, scale=0.01):
    return rng.normal(0.0, scale, size=(n_in, n_out))


def normal_standard(n_in, n_out, rng, scale=0.01):
    return scale * rng.standard_normal((n_in, n_out))


def xavier_normal(n_in, n_out, rng):
    return rng.normal(0.0, np.sqrt(2.0 / (n_in + n_out)), size=(n_in, n_out))


def he_normal(n_in, n_out, rng):
    return rng.standard_normal((n_in, n_out)) * math.sqrt(2.0 / n_in)


def _global_state_he(n_in, n_out, rng):
    return np.random.randn(n_in, n_out) * math.sqrt(2.0 / n_in)


# ---------------------------------------------------------------- dropout


def dropout_forward_plain(A, p_drop, rng):
    mask = (rng.random(A.shape) >= p_drop).astype(A.dtype)
    return A * mask / (1 - p_drop), mask


def dropout_forward_binomial(A, p_drop, rng):
    mask = rng.binomial(1, 1 - p_drop, size=A.shape).astype(A.dtype)
    return A * mask / (1 - p_drop), mask


def _dropout_no_rescale(A, p_drop, rng):
    mask = (rng.random(A.shape) >= p_drop).astype(A.dtype)
    return A * mask, mask


def _dropout_times_keep(A, p_drop, rng):
    mask = (rng.random(A.shape) >= p_drop).astype(A.dtype)
    return A * mask * (1 - p_drop), mask


def _dropout_inverted_mask(A, p_drop, rng):
    mask = (rng.random(A.shape) < p_drop).astype(A.dtype)
    return A * mask / (1 - p_drop), mask


# -------------------------------------------------------------- optimizers


class SGDInPlace:
    def __init__(self, lr=0.01):
        self.lr = lr

    def step(self, params, grads):
        for name, g in grads.items():
            params[name] -= self.lr * g


class SGDNewArrays:
    def __init__(self, lr=0.01):
        self.lr = lr

    def step(self, params, grads):
        for name in params:
            params[name] = params[name] - self.lr * grads[name]


class MomentumPlain:
    def __init__(self, lr=0.01, beta=0.9):
        self.lr, self.beta, self.velocity = lr, beta, {}

    def step(self, params, grads):
        for name, g in grads.items():
            v = self.velocity.get(name, np.zeros_like(g))
            v = self.beta * v + g
            self.velocity[name] = v
            params[name] -= self.lr * v


class MomentumLrInside:
    """v = beta v - lr g; p += v: the same updates for a constant learning rate."""

    def __init__(self, lr=0.01, beta=0.9):
        self.lr, self.beta, self.velocity = lr, beta, {}

    def step(self, params, grads):
        for name, g in grads.items():
            self.velocity[name] = self.beta * self.velocity.get(name, 0.0) - self.lr * g
            params[name] += self.velocity[name]


class AdamPlain:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.t, self.m, self.v = 0, {}, {}

    def step(self, params, grads):
        self.t += 1
        for name, g in grads.items():
            self.m[name] = self.beta1 * self.m.get(name, np.zeros_like(g)) + (1 - self.beta1) * g
            self.v[name] = self.beta2 * self.v.get(name, np.zeros_like(g)) + (1 - self.beta2) * g**2
            m_hat = self.m[name] / (1 - self.beta1**self.t)
            v_hat = self.v[name] / (1 - self.beta2**self.t)
            params[name] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class _AdamNoCorrection(AdamPlain):
    def step(self, params, grads):
        for name, g in grads.items():
            self.m[name] = self.beta1 * self.m.get(name, np.zeros_like(g)) + (1 - self.beta1) * g
            self.v[name] = self.beta2 * self.v.get(name, np.zeros_like(g)) + (1 - self.beta2) * g**2
            params[name] -= self.lr * self.m[name] / (np.sqrt(self.v[name]) + self.eps)


class _AdamTPerParameter(AdamPlain):
    def step(self, params, grads):
        for name, g in grads.items():
            self.t += 1
            self.m[name] = self.beta1 * self.m.get(name, np.zeros_like(g)) + (1 - self.beta1) * g
            self.v[name] = self.beta2 * self.v.get(name, np.zeros_like(g)) + (1 - self.beta2) * g**2
            m_hat = self.m[name] / (1 - self.beta1**self.t)
            v_hat = self.v[name] / (1 - self.beta2**self.t)
            params[name] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class _AdamNotSquared(AdamPlain):
    def step(self, params, grads):
        self.t += 1
        for name, g in grads.items():
            self.m[name] = self.beta1 * self.m.get(name, np.zeros_like(g)) + (1 - self.beta1) * g
            self.v[name] = self.beta2 * self.v.get(name, np.zeros_like(g)) + (1 - self.beta2) * g
            m_hat = self.m[name] / (1 - self.beta1**self.t)
            v_hat = self.v[name] / (1 - self.beta2**self.t)
            params[name] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)  # NaN where v < 0


class _MomentumEMA(MomentumPlain):
    def step(self, params, grads):
        for name, g in grads.items():
            v = self.beta * self.velocity.get(name, np.zeros_like(g)) + (1 - self.beta) * g
            self.velocity[name] = v
            params[name] -= self.lr * v


class _MomentumForgetful(MomentumPlain):
    def step(self, params, grads):
        for name, g in grads.items():
            v = self.beta * np.zeros_like(g) + g  # a fresh velocity each step
            params[name] -= self.lr * v


class _MomentumUphill(MomentumPlain):
    def step(self, params, grads):
        for name, g in grads.items():
            self.velocity[name] = self.beta * self.velocity.get(name, np.zeros_like(g)) + g
            params[name] += self.lr * self.velocity[name]


class _SGDScalesTheGradients(SGDInPlace):
    def step(self, params, grads):
        for name, g in grads.items():
            g *= self.lr  # changes the caller's gradients
            params[name] -= g


class _MomentumKeepsTheGradient(MomentumPlain):
    def step(self, params, grads):
        for name, g in grads.items():
            if name not in self.velocity:
                self.velocity[name] = g  # the caller's array, updated in place from the next step on
            else:
                self.velocity[name] *= self.beta
                self.velocity[name] += g
            params[name] -= self.lr * self.velocity[name]


class _SGDUphill(SGDInPlace):
    def step(self, params, grads):
        for name, g in grads.items():
            params[name] += self.lr * g


class _SGDNoLr(SGDInPlace):
    def step(self, params, grads):
        for name, g in grads.items():
            params[name] -= g


class _SGDWeightsOnly(SGDInPlace):
    def step(self, params, grads):
        for name, g in grads.items():
            if name.startswith("W"):
                params[name] -= self.lr * g


# ------------------------------------------ the digits classifier (10-project)
# Pairs (train_classifier, predict) for check_classifier, which no exercise table holds. The red team's
# attack (issue 20): every labelled digit ships in the package, so a predict that looks each test row up
# in load_digits() read 100 % of both splits' held-out digits, with a train_classifier that learns nothing.

_SHIPPED_X, _SHIPPED_Y = load_digits()
_SHIPPED_BY_ROW = {row.tobytes(): int(label) for row, label in zip(_SHIPPED_X, _SHIPPED_Y)}


def train_nothing(X, y, seed):
    return {}


def predict_by_lookup(params, X):
    """Each row's label from a table of the shipped digits, keyed by the row's bytes (0 where absent)."""
    return np.array([_SHIPPED_BY_ROW.get(row.tobytes(), 0) for row in X])


def predict_by_matching_rows(params, X):
    """Each row's label from the shipped digit equal to it in every pixel (0 where none is)."""
    labels = []
    for row in X:
        same = np.flatnonzero(np.all(_SHIPPED_X == row, axis=1))
        labels.append(_SHIPPED_Y[same[0]] if len(same) else 0)
    return np.array(labels)


def predict_by_nearest_shipped(params, X):
    """1-nearest-neighbour over every shipped digit, the held-out ones included; params unused."""
    distances = (X**2).sum(1)[:, None] - 2 * X @ _SHIPPED_X.T + (_SHIPPED_X**2).sum(1)[None, :]
    return _SHIPPED_Y[np.argmin(distances, axis=1)]


def train_keeps_the_digits(X, y, seed):
    """A nearest-neighbour classifier's training: it keeps the training digits it is given."""
    return {"X": X.copy(), "y": y.copy()}


def predict_nearest_kept(params, X):
    kept = params["X"]
    distances = (X**2).sum(1)[:, None] - 2 * X @ kept.T + (kept**2).sum(1)[None, :]
    return params["y"][np.argmin(distances, axis=1)]


# A classifier, though not the network the notebook asks for: it reads only the digits it was trained on.
CLASSIFIER_CORRECT = [(train_keeps_the_digits, predict_nearest_kept)]
CLASSIFIER_MISTAKES = [
    ((train_nothing, predict_by_lookup), "a lookup of rows in load_digits()"),
    ((train_nothing, predict_by_matching_rows), "a lookup of rows in load_digits()"),
    # Reads the perturbed digits too (the original is their nearest neighbour), but not from params.
    ((train_nothing, predict_by_nearest_shipped), "these labels do not come from params"),
    ((lambda X, y, seed: None, predict_by_nearest_shipped), "these labels do not come from params"),
    ((train_keeps_the_digits, predict_by_nearest_shipped), "these labels do not come from params"),
]


CORRECT = {
    "parameter_shapes": [parameter_shapes_zip, parameter_shapes_loop],
    "count_parameters": [count_parameters_via_shapes, lambda s: sum(a * b + b for a, b in zip(s, s[1:]))],
    "matmul_shape": [matmul_shape_plain, matmul_shape_unpacked],
    "add_bias": [lambda Z, b: Z + b, lambda Z, b: Z + b[np.newaxis, :], lambda Z, b: Z + np.tile(b, (len(Z), 1))],
    "activation_bytes": [activation_bytes_plain, activation_bytes_arrays],
    "log_softmax": [log_softmax_plain, log_softmax_logaddexp],
    "one_hot": [one_hot_eye, one_hot_index],
    "forward_pass": [forward_pass_plain, forward_pass_einsum],
    "backward_pass": [backward_pass_plain],
    "loss_and_grads": [loss_and_grads_loop, loss_and_grads_recursive],
    "normal": [normal_rng_normal, normal_standard],
    "xavier": [xavier_normal],  # a uniform draw of the same spread is wrong: the notebook asks for a normal
    "he": [he_normal],
    "dropout_forward": [dropout_forward_plain, dropout_forward_binomial],
    "SGD": [SGDInPlace, SGDNewArrays],
    "Momentum": [MomentumPlain, MomentumLrInside],
    "Adam": [AdamPlain],
}

MISTAKES = {
    "parameter_shapes": [
        (lambda s: [((b, a), (b,)) for a, b in zip(s[:-1], s[1:])], "transposed"),
        (lambda s: [((a, b), (a,)) for a, b in zip(s[:-1], s[1:])], "one entry per unit"),
        (lambda s: [((a, b), (b, 1)) for a, b in zip(s[:-1], s[1:])], "not a column"),
    ],
    "count_parameters": [
        (lambda s: sum(a * b for a, b in zip(s[:-1], s[1:])), "biases are parameters too"),
        (lambda s: sum(a * b + a for a, b in zip(s[:-1], s[1:])), "not n_in"),
        (lambda s: sum(s), "counted the units"),
    ],
    "matmul_shape": [
        (lambda a, b: (a[0], b[1]), "return None"),
        (lambda a, b: (a[0], b[1]) if a[0] == b[1] else None, "inner dimensions"),
        (lambda a, b: (a[1], b[0]) if a[1] == b[0] else None, "outer dimensions"),
    ],
    "add_bias": [
        (lambda Z, b: Z + b[:, None], "as a column"),
        (lambda Z, b: Z + b.sum(), "sum of b"),
        (lambda Z, b: Z - b, "subtracted"),
    ],
    "activation_bytes": [
        (lambda s, n, d: n * sum(s) * np.dtype(d).itemsize, "not a pre-activation"),
        (lambda s, n, d: n * sum(s[1:]), "counted numbers, not bytes"),
        (lambda s, n, d: n * sum(s[1:]) * 8, "4 bytes"),
    ],
    "log_softmax": [
        (lambda Z: Z - np.log(np.exp(Z - Z.max(1, keepdims=True)).sum(1, keepdims=True)), "from Z itself"),
        (lambda Z: np.log(np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)), "not finite for large scores"),
        (lambda Z: log_softmax_plain(Z.T).T, "wrong axis"),
        (lambda Z: Z - Z.max() - np.log(np.exp(Z - Z.max()).sum(axis=1, keepdims=True)), "maximum of the whole matrix"),
    ],
    "one_hot": [
        (lambda y, n: _rows(y, n), "sets whole rows"),
        (lambda y, n: one_hot_eye(y, n).T, "transposed"),
        (lambda y, n: np.eye(y.max() + 1, dtype=np.float32)[y], "not y.max() + 1"),
    ],
    "forward_pass": [
        (_forward_logits, "returned the logits"),
        (_forward_activation_on_output, "to the output layer too"),
        (_forward_relu_only, "whatever the activation argument says"),
    ],
    "backward_pass": [
        (_backward_summed, "not divided by the batch size"),
        (_backward_at_activation, "derivative taken at the activation"),
        (_backward_no_derivative, "derivative is missing"),
    ],
    "loss_and_grads": [
        (_lag_summed_loss, "the loss is summed over the batch"),
        (_lag_not_divided, "not divided by the batch size"),
        (_lag_sums_everywhere, "sums over the batch"),
        (_lag_no_relu_derivative, "derivative is missing"),
        (_lag_sorted_layers, "sorted(params)"),
    ],
    "normal": [
        (lambda n_in, n_out, rng, scale=0.01: rng.standard_normal((n_in, n_out)) * scale**2, "scale**2"),
        (lambda n_in, n_out, rng, scale=0.01: rng.standard_normal((n_in, n_out)), "forgot to multiply by scale"),
        (lambda n_in, n_out, rng, scale=0.01: np.random.randn(n_in, n_out) * scale, "not from np.random"),
    ],
    "xavier": [
        (lambda n_in, n_out, rng: rng.standard_normal((n_in, n_out)) * math.sqrt(1 / n_in), "uses only the inputs"),
        (lambda n_in, n_out, rng: rng.standard_normal((n_in, n_out)) * 2 / (n_in + n_out), "is the variance"),
        (lambda n_in, n_out, rng: rng.standard_normal((n_in, n_out)) * math.sqrt(1 / (n_in + n_out)), "factor 2 is missing"),
        (lambda n_in, n_out, rng: xavier_normal(n_out, n_in, rng), "should have shape"),
    ],
    "he": [
        (lambda n_in, n_out, rng: rng.standard_normal((n_in, n_out)) * math.sqrt(1 / n_in), "the factor 2"),
        (lambda n_in, n_out, rng: rng.standard_normal((n_in, n_out)) * math.sqrt(2 / n_out), "not n_out"),
        (_global_state_he, "not from np.random"),
        (lambda n_in, n_out, rng: he_normal(n_in, n_out, np.random.default_rng(0)), "rng argument was not used"),
    ],
    "dropout_forward": [
        (_dropout_no_rescale, "no rescaling"),
        (_dropout_times_keep, "instead of dividing"),
        (_dropout_inverted_mask, "the mask is inverted"),
        (lambda A, p_drop, rng: dropout_forward_plain(A, p_drop, np.random.default_rng(0)), "rng argument was not used"),
    ],
    "SGD": [(_SGDUphill, "against the gradient"), (_SGDNoLr, "learning rate is missing"),
            (_SGDWeightsOnly, "biases must be updated"), (_SGDScalesTheGradients, "changed its input grads['W1'] in step 1")],
    "Momentum": [(_MomentumEMA, "without the (1 - beta) factor"), (_MomentumForgetful, "must persist"),
                 (_MomentumUphill, "against the velocity"), (_MomentumKeepsTheGradient, "changed its input grads['W1'] in step 1")],
    "Adam": [(_AdamNoCorrection, "no bias correction"), (_AdamTPerParameter, "once per parameter"),
             (_AdamNotSquared, "squared gradients")],
}


def _rows(y, n_classes):
    Y = np.zeros((len(y), n_classes), dtype=np.float32)
    Y[y] = 1
    return Y
