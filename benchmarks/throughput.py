"""Training throughput: one epoch of 784-256-128-10 (ReLU, softmax cross-entropy, SGD, float32).

Three implementations train on the same synthetic, MNIST-shaped data (random
pixels and labels: speed does not depend on what the numbers mean, and nothing
is downloaded):

* ``mlpcore``: ``MLP.fit`` with its checks, shuffling and history;
* plain NumPy: the straightforward script a tutorial would show;
* PyTorch on the CPU (when torch is installed): ``nn.Sequential`` with autograd;

and a fourth run, "products only", times the floor: the same batches and matrix
products with everything element-wise left out.

Each implementation runs in a process of its own: in one process, PyTorch's
OpenMP threads keep spinning after its work and fight NumPy's BLAS threads for
the cores, which slows whichever runs next. Rounds are interleaved (every
implementation once per round, several rounds). On a shared virtual machine
the same code is up to a third faster in one process than in the next (all
implementations alike: where the data's pages land matters for gathering random
rows), while epochs within one process agree; so each process times two epochs
after a warm-up, and the table gives each implementation's best epoch over all
rounds, with the spread between rounds beside it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import mlpcore
from mlpcore import optim

from .common import Table, training_flops

LAYERS = [784, 256, 128, 10]
BATCH_SIZES = [32, 128, 512]
N_SAMPLES = 60_000
LEARNING_RATE = 0.01
IMPLEMENTATIONS = ("mlpcore", "numpy", "torch", "products")


def synthetic_data(n_samples: int, n_features: int, n_classes: int, seed: int = 0):
    """MNIST-shaped data: float32 pixels in [0, 1) and integer labels."""
    rng = np.random.default_rng(seed)
    return rng.random((n_samples, n_features), dtype=np.float32), rng.integers(0, n_classes, n_samples)


def plain_numpy_epoch(X, y, params, batch_size, lr, rng):
    """One epoch of the plain NumPy script: no checks, no abstractions, whole batches."""
    W1, b1, W2, b2, W3, b3 = (params[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    order = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        rows = order[start : start + batch_size]
        xb, yb = X[rows], y[rows]
        z1 = xb @ W1 + b1
        a1 = np.maximum(z1, 0)
        z2 = a1 @ W2 + b2
        a2 = np.maximum(z2, 0)
        z3 = a2 @ W3 + b3
        z3 -= z3.max(axis=1, keepdims=True)
        p = np.exp(z3)
        p /= p.sum(axis=1, keepdims=True)
        m = len(rows)
        d3 = p
        d3[np.arange(m), yb] -= 1
        d3 /= m
        d2 = (d3 @ W3.T) * (z2 > 0)
        d1 = (d2 @ W2.T) * (z1 > 0)
        W3 -= lr * (a2.T @ d3)
        b3 -= lr * d3.sum(axis=0)
        W2 -= lr * (a1.T @ d2)
        b2 -= lr * d2.sum(axis=0)
        W1 -= lr * (xb.T @ d1)
        b1 -= lr * d1.sum(axis=0)


def products_only_epoch(X, params, batch_size, rng):
    """The floor: one epoch of only the matrix products a training step needs, on the same
    randomly gathered batches, with nothing element-wise in between (no bias, activation,
    softmax or update). No implementation that does these products with this BLAS can be
    faster, so it shows how much of each epoch the element-wise work takes."""
    W1, W2, W3 = params["W1"], params["W2"], params["W3"]
    order = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        xb = X[order[start : start + batch_size]]
        a1 = xb @ W1  # stands in for the activations: the same shapes, so the same work
        a2 = a1 @ W2
        d3 = a2 @ W3
        d2 = d3 @ W3.T
        d1 = d2 @ W2.T
        a2.T @ d3, a1.T @ d2, xb.T @ d1  # the three weight gradients


def torch_runner(X, y, batch_size, layer_sizes=LAYERS, device="cpu"):
    """A function that runs one PyTorch epoch on ``device`` ("cpu" or "cuda"), or None when
    torch is not installed (or, for "cuda", sees no GPU)."""
    try:
        import torch
    except ImportError:
        return None
    if device == "cuda" and not torch.cuda.is_available():
        return None
    torch.manual_seed(0)
    X_t, y_t = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
    layers = []
    for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1]).to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=LEARNING_RATE)
    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch():
        order = torch.randperm(len(X_t), device=device)
        for start in range(0, len(X_t), batch_size):
            rows = order[start : start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(net(X_t[rows]), y_t[rows])
            loss.backward()
            optimizer.step()
            loss.item()  # mlpcore reads every batch's loss too (and on a GPU this waits for the step)

    return epoch


def starting_params(layer_sizes=LAYERS) -> dict:
    """mlpcore's initial weights for ``layer_sizes`` as NumPy arrays, for the runs that are not mlpcore.

    ``device="cpu"`` is explicit: this benchmark compares CPU implementations, and
    ``MLPCORE_DEVICE=gpu`` in the environment must not move any of them to a GPU.
    """
    return {name: np.array(value) for name, value in mlpcore.MLP(layer_sizes, seed=0, device="cpu").params.items()}


def epoch_runner(implementation: str, X, y, batch_size: int):
    """A function that trains one epoch on the CPU with ``implementation``, or None if it is unavailable."""
    if implementation == "mlpcore":
        model = mlpcore.MLP(LAYERS, seed=0, device="cpu")
        return lambda: model.fit(X, y, epochs=1, batch_size=batch_size, optimizer=optim.SGD(LEARNING_RATE), progress=False)
    if implementation == "numpy":
        params, rng = starting_params(), np.random.default_rng(0)
        return lambda: plain_numpy_epoch(X, y, params, batch_size, LEARNING_RATE, rng)
    if implementation == "products":
        params, rng = starting_params(), np.random.default_rng(0)
        return lambda: products_only_epoch(X, params, batch_size, rng)
    if implementation == "torch":
        return torch_runner(X, y, batch_size)
    raise ValueError(f"unknown implementation {implementation!r}")


def measure(implementation: str, batch_sizes, n_samples: int, epochs: int = 2) -> dict:
    """Best seconds for one epoch at each batch size (after a warm-up epoch); {} if unavailable."""
    X, y = synthetic_data(n_samples, LAYERS[0], LAYERS[-1])
    seconds = {}
    for batch_size in batch_sizes:
        epoch = epoch_runner(implementation, X, y, batch_size)
        if epoch is None:
            return {}
        epoch()  # warm-up: thread pools, caches, first allocations
        timings = []
        for _ in range(epochs):
            started = time.perf_counter()
            epoch()
            timings.append(time.perf_counter() - started)
        seconds[batch_size] = min(timings)
    return seconds


def measure_in_subprocess(implementation: str, batch_sizes, n_samples: int) -> dict:
    command = [sys.executable, "-m", "benchmarks.throughput", implementation, "--samples", str(n_samples),
               "--batches", *map(str, batch_sizes)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
    return {int(k): v for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}


def run(quick: bool = False, repeats: int = 3, peak_gflops: float | None = None) -> Table:
    n_samples = 2_000 if quick else N_SAMPLES
    batch_sizes = [32, 256] if quick else BATCH_SIZES
    flops = training_flops(LAYERS, n_samples)
    rounds = {name: [] for name in IMPLEMENTATIONS}
    for _ in range(repeats):
        for name in rounds:
            rounds[name].append(measure_in_subprocess(name, batch_sizes, n_samples))
    table = Table(
        f"Training throughput: one epoch of {n_samples:,} samples through {'-'.join(map(str, LAYERS))} "
        f"(ReLU, softmax cross-entropy, SGD, float32; best epoch of {repeats} rounds, seconds)",
        ["batch", "mlpcore s", "plain NumPy s", "PyTorch CPU s", "products only s", "mlpcore / NumPy",
         "mlpcore / PyTorch", "products only / PyTorch", "mlpcore GFLOP/s", "% of GEMM peak",
         "products only % of peak", "spread between rounds"],
    )
    for batch_size in batch_sizes:
        best, spread = {}, []
        for name, results in rounds.items():
            values = [r[batch_size] for r in results if r]
            best[name] = min(values) if values else float("nan")
            if values:
                spread.append(f"{name} {min(values):.2f}-{max(values):.2f}")
        percent_of_peak = lambda seconds: 100 * flops / seconds / 1e9 / peak_gflops if peak_gflops else float("nan")  # noqa: E731
        table.rows.append([
            batch_size, best["mlpcore"], best["numpy"], best["torch"], best["products"],
            best["mlpcore"] / best["numpy"], best["mlpcore"] / best["torch"], best["products"] / best["torch"],
            flops / best["mlpcore"] / 1e9, percent_of_peak(best["mlpcore"]), percent_of_peak(best["products"]),
            ", ".join(spread),
        ])
    if not rounds["torch"][0]:
        table.notes.append("PyTorch is not installed: its column is empty (install a CPU build of torch into .venv to fill it)")
    table.notes.append(f"FLOPs per epoch (matrix products only): {flops / 1e9:.1f} GFLOP; each implementation runs in its own process")
    table.notes.append("products only: the same gathered batches and matrix products with nothing element-wise "
                       "between them, the floor for any implementation on this BLAS")
    return table


def main(argv=None) -> None:
    """Worker entry point: time one implementation and print ``{batch: seconds}`` as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("implementation", choices=IMPLEMENTATIONS)
    parser.add_argument("--batches", type=int, nargs="+", default=BATCH_SIZES)
    parser.add_argument("--samples", type=int, default=N_SAMPLES)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.implementation, args.batches, args.samples)))


if __name__ == "__main__":
    main()
