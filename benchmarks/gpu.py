"""The GPU path: the same epoch with ``device="gpu"`` (CuPy) against the CPU and PyTorch CUDA.

Larger batches and wider layers show where the GPU starts to pay: with small
matrices every step is a few dozen tiny kernel launches and the GPU waits on
Python; with large ones the matrix products dominate and the GPU's throughput
shows. Each epoch ends with every batch's loss read back to the host (as
``fit`` does for its history), so the times include synchronisation.
"""

from __future__ import annotations

import time

import mlpcore
from mlpcore import backend, optim

from .common import Table
from .throughput import LEARNING_RATE, synthetic_data, torch_runner

SHAPES = [[784, 256, 128, 10], [784, 1024, 1024, 10], [784, 4096, 4096, 10]]
BATCH_SIZES = [128, 1024, 4096]
N_SAMPLES = 60_000


def _wait_for_the_gpu() -> None:
    """Block until every kernel queued by CuPy or PyTorch has finished, so that the clock measures
    work done rather than work queued (each epoch already ends with a read to the host; this makes
    the timing independent of that)."""
    import cupy

    cupy.cuda.Device().synchronize()
    try:
        import torch
    except ImportError:
        return
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _seconds(epoch) -> float:
    epoch()  # warm-up: CUDA context, kernel compilation, memory pool
    _wait_for_the_gpu()
    started = time.perf_counter()
    epoch()
    _wait_for_the_gpu()
    return time.perf_counter() - started


def run(quick: bool = False) -> Table:
    table = Table(
        "GPU: one epoch with device='gpu' (CuPy) vs mlpcore on the CPU vs PyTorch CUDA (seconds)",
        ["layers", "batch", "mlpcore GPU s", "mlpcore CPU s", "PyTorch CUDA s", "GPU speedup over CPU", "mlpcore / PyTorch CUDA"],
    )
    problem = backend.gpu_problem()
    if problem is not None:
        table.notes.append(f"skipped: no usable GPU here ({problem})")
        return table
    n_samples = 4_096 if quick else N_SAMPLES
    X, y = synthetic_data(n_samples, 784, 10)
    for layer_sizes in SHAPES[:1] if quick else SHAPES:
        for batch_size in BATCH_SIZES[:1] if quick else BATCH_SIZES:
            gpu_model = mlpcore.MLP(layer_sizes, seed=0, device="gpu")
            X_gpu, y_gpu = backend.to_device(X, "gpu"), backend.to_device(y, "gpu")
            t_gpu = _seconds(lambda: gpu_model.fit(X_gpu, y_gpu, epochs=1, batch_size=batch_size,
                                                   optimizer=optim.SGD(LEARNING_RATE), progress=False))
            cpu_model = mlpcore.MLP(layer_sizes, seed=0, device="cpu")  # not MLPCORE_DEVICE
            t_cpu = _seconds(lambda: cpu_model.fit(X, y, epochs=1, batch_size=batch_size,
                                                   optimizer=optim.SGD(LEARNING_RATE), progress=False))
            torch_epoch = torch_runner(X, y, batch_size, layer_sizes, device="cuda")
            t_torch = _seconds(torch_epoch) if torch_epoch else float("nan")
            table.rows.append(["-".join(map(str, layer_sizes)), batch_size, t_gpu, t_cpu, t_torch,
                               t_cpu / t_gpu, t_gpu / t_torch])
    return table
