"""Peak memory of a training epoch against what training must hold anyway.

What must be in memory: the data, the parameters, their gradients, and one
batch's activations (every layer's Z and A). mlpcore's target is a peak of at
most 1.5 times that. NumPy reports its allocations to ``tracemalloc``, so the
peak counts exactly the arrays Python made (not BLAS's own buffers); the
process's peak resident size is given too, for the whole picture.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np

import mlpcore
from mlpcore import optim

from .common import Table
from .throughput import LAYERS, N_SAMPLES, plain_numpy_epoch, starting_params, synthetic_data

BATCH_SIZES = [128, 512]


def required_bytes(n_samples: int, batch_size: int, itemsize: int = 4) -> dict:
    """Bytes that any implementation must hold: data, parameters, gradients, one batch's activations."""
    n_params = sum(n_in * n_out + n_out for n_in, n_out in zip(LAYERS[:-1], LAYERS[1:]))
    data = n_samples * LAYERS[0] * itemsize + n_samples * 8  # float32 pixels, int64 labels
    activations = 2 * batch_size * sum(LAYERS[1:]) * itemsize + batch_size * LAYERS[0] * itemsize  # Z and A, the batch
    return {"data": data, "parameters": 2 * n_params * itemsize, "activations": activations}


def measure(implementation: str, n_samples: int, batch_size: int) -> dict:
    """Peak traced bytes and peak resident bytes of one epoch (run in a fresh process)."""
    tracemalloc.start()
    X, y = synthetic_data(n_samples, LAYERS[0], LAYERS[-1])
    if implementation == "mlpcore":
        model = mlpcore.MLP(LAYERS, seed=0, device="cpu")  # tracemalloc sees host memory only
        tracemalloc.reset_peak()
        model.fit(X, y, epochs=1, batch_size=batch_size, optimizer=optim.SGD(0.01), progress=False)
    else:
        params = starting_params()
        tracemalloc.reset_peak()
        plain_numpy_epoch(X, y, params, batch_size, 0.01, np.random.default_rng(0))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"peak_traced": peak, "peak_resident": _peak_resident_bytes()}


def _peak_resident_bytes() -> int:
    """This process's peak resident size. ``VmHWM`` rather than ``ru_maxrss``, which on
    Linux keeps the parent's peak across fork and exec."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run(quick: bool = False) -> Table:
    n_samples = 2_000 if quick else N_SAMPLES
    table = Table(
        f"Memory: one epoch of {n_samples:,} samples through {'-'.join(map(str, LAYERS))} (float32, MB)",
        ["implementation", "batch", "data + params + grads + batch", "peak (traced arrays)", "ratio", "peak resident (process)"],
    )
    for batch_size in [128] if quick else BATCH_SIZES:
        required = sum(required_bytes(n_samples, batch_size).values())
        for implementation in ("mlpcore", "numpy"):
            result = _measure_in_subprocess(implementation, n_samples, batch_size)
            table.rows.append([implementation if implementation == "mlpcore" else "plain NumPy", batch_size,
                               required / 1e6, result["peak_traced"] / 1e6, result["peak_traced"] / required,
                               result["peak_resident"] / 1e6])
    table.notes.append("target: mlpcore's traced peak at most 1.5x data + parameters + gradients + one batch's activations")
    table.notes.append("peak resident also counts the interpreter, the libraries and BLAS's own buffers")
    return table


def _measure_in_subprocess(implementation: str, n_samples: int, batch_size: int) -> dict:
    command = [sys.executable, "-m", "benchmarks.memory", implementation, str(n_samples), str(batch_size)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    implementation, n_samples, batch_size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(measure(implementation, n_samples, batch_size)))
