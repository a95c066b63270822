"""Loops vs matrices: the same dense layer and training step written three ways.

* pure Python: lists of floats and nested ``for`` loops, one multiply-add at a time;
* NumPy per sample: vectorised over features, but a Python loop over the batch;
* NumPy matrices: the whole batch in one product, as ``mlpcore`` does.

The course repeats a common claim that matrix code is 40-100x faster than
loops; these timings say for which comparison and which sizes that holds.
"""

from __future__ import annotations

import math

import numpy as np

from mlpcore import layers, losses
from mlpcore.activations import relu, relu_backward

from .common import Table, best_time

# (batch, n_in, n_out): a toy layer, a small one and a realistic hidden layer.
SIZES = [(8, 16, 8), (32, 64, 32), (64, 256, 128)]
QUICK_SIZES = [(4, 6, 3), (8, 16, 8)]


# ------------------------------------------------------------------ pure Python


def loop_dense_forward(X, W, b):
    """Z[i][j] = sum_k X[i][k] * W[k][j] + b[j], one multiply-add at a time."""
    n_in, n_out = len(W), len(b)
    Z = []
    for row in X:
        out = []
        for j in range(n_out):
            total = b[j]
            for k in range(n_in):
                total += row[k] * W[k][j]
            out.append(total)
        Z.append(out)
    return Z


def loop_dense_backward(dZ, X, W):
    """dX = dZ W^T, dW = X^T dZ, db = column sums of dZ, element by element."""
    batch, n_in, n_out = len(X), len(W), len(W[0])
    dX = [[sum(dZ[i][j] * W[k][j] for j in range(n_out)) for k in range(n_in)] for i in range(batch)]
    dW = [[sum(X[i][k] * dZ[i][j] for i in range(batch)) for j in range(n_out)] for k in range(n_in)]
    db = [sum(dZ[i][j] for i in range(batch)) for j in range(n_out)]
    return dX, dW, db


def loop_train_step(X, y, W1, b1, W2, b2, lr):
    """One SGD step of a one-hidden-layer ReLU network with softmax cross-entropy."""
    batch = len(X)
    Z1 = loop_dense_forward(X, W1, b1)
    A1 = [[max(z, 0.0) for z in row] for row in Z1]
    logits = loop_dense_forward(A1, W2, b2)
    dlogits = []
    for row, label in zip(logits, y):
        top = max(row)
        exps = [math.exp(z - top) for z in row]
        total = sum(exps)
        dlogits.append([(e / total - (1.0 if c == label else 0.0)) / batch for c, e in enumerate(exps)])
    dA1, dW2, db2 = loop_dense_backward(dlogits, A1, W2)
    dZ1 = [[d if z > 0 else 0.0 for d, z in zip(drow, zrow)] for drow, zrow in zip(dA1, Z1)]
    _, dW1, db1 = loop_dense_backward(dZ1, X, W1)
    for W, dW in ((W1, dW1), (W2, dW2)):
        for k in range(len(W)):
            for j in range(len(W[0])):
                W[k][j] -= lr * dW[k][j]
    for b, db in ((b1, db1), (b2, db2)):
        for j in range(len(b)):
            b[j] -= lr * db[j]


# ------------------------------------------------------------- NumPy per sample


def per_sample_dense_forward(X, W, b):
    return np.stack([x @ W + b for x in X])


def per_sample_dense_backward(dZ, X, W):
    dX = np.stack([dz @ W.T for dz in dZ])
    dW = sum(np.outer(x, dz) for x, dz in zip(X, dZ))
    return dX, dW, dZ.sum(axis=0)


def per_sample_train_step(X, y, params, lr):
    """The step of :func:`loop_train_step`, one sample at a time with NumPy vectors."""
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    for x, label in zip(X, y):
        z1 = x @ params["W1"] + params["b1"]
        a1 = np.maximum(z1, 0.0)
        logits = a1 @ params["W2"] + params["b2"]
        p = np.exp(logits - logits.max())
        p /= p.sum()
        p[label] -= 1.0
        p /= len(X)
        grads["W2"] += np.outer(a1, p)
        grads["b2"] += p
        dz1 = (p @ params["W2"].T) * (z1 > 0)
        grads["W1"] += np.outer(x, dz1)
        grads["b1"] += dz1
    for name in params:
        params[name] -= lr * grads[name]


# ----------------------------------------------------------------- NumPy matrices


def matrix_train_step(X, y, params, lr):
    """The same step with mlpcore's functions: every operation covers the whole batch."""
    Z1 = layers.dense_forward(X, params["W1"], params["b1"])
    A1 = relu(Z1)
    logits = layers.dense_forward(A1, params["W2"], params["b2"])
    _, dlogits = losses.softmax_cross_entropy(logits, y)
    dA1, dW2, db2 = layers.dense_backward(dlogits, A1, params["W2"])
    _, dW1, db1 = layers.dense_backward(relu_backward(dA1, Z1), X, params["W1"], input_grad=False)
    for name, g in (("W1", dW1), ("b1", db1), ("W2", dW2), ("b2", db2)):
        params[name] -= lr * g


# -------------------------------------------------------------------- the table


def run(quick: bool = False, repeats: int = 3) -> Table:
    table = Table(
        "Loops vs matrices (float64, seconds per call; speedup = loop time / matrix time)",
        ["operation", "batch x n_in x n_out", "pure Python", "NumPy per sample", "NumPy matrices",
         "speedup vs Python", "speedup vs per sample"],
    )
    rng = np.random.default_rng(0)
    for batch, n_in, n_out in QUICK_SIZES if quick else SIZES:
        X = rng.standard_normal((batch, n_in))
        W = rng.standard_normal((n_in, n_out)) * 0.1
        b = rng.standard_normal(n_out) * 0.1
        dZ = rng.standard_normal((batch, n_out))
        n_classes = max(2, n_out // 4)
        y = rng.integers(0, n_classes, batch)
        W2 = rng.standard_normal((n_out, n_classes)) * 0.1
        params = {"W1": W, "b1": b, "W2": W2, "b2": np.zeros(n_classes)}
        lists = {name: value.tolist() for name, value in params.items()}
        X_list, dZ_list, y_list = X.tolist(), dZ.tolist(), y.tolist()
        # The pure-Python version is slow enough that one run per repeat is plenty.
        cases = [
            ("dense forward",
             lambda: loop_dense_forward(X_list, lists["W1"], lists["b1"]),
             lambda: per_sample_dense_forward(X, W, b),
             lambda: layers.dense_forward(X, W, b)),
            ("dense backward",
             lambda: loop_dense_backward(dZ_list, X_list, lists["W1"]),
             lambda: per_sample_dense_backward(dZ, X, W),
             lambda: layers.dense_backward(dZ, X, W)),
            ("training step",
             lambda: loop_train_step(X_list, y_list, lists["W1"], lists["b1"], lists["W2"], lists["b2"], 1e-3),
             lambda: per_sample_train_step(X, y, {k: v.copy() for k, v in params.items()}, 1e-3),
             lambda: matrix_train_step(X, y, {k: v.copy() for k, v in params.items()}, 1e-3)),
        ]
        for name, python, per_sample, matrix in cases:
            t_python = best_time(python, repeats)
            t_sample = best_time(per_sample, repeats * 5)
            t_matrix = best_time(matrix, repeats * 20)
            table.rows.append([name, f"{batch}x{n_in}x{n_out}", t_python, t_sample, t_matrix,
                               t_python / t_matrix, t_sample / t_matrix])
    table.notes.append("the training step includes copying the parameters for the NumPy versions (a few microseconds)")
    return table
