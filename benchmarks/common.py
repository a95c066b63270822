"""What every section shares: timing, FLOP counts, the result table, the machine."""

from __future__ import annotations

import os
import platform
import statistics
import time
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Table:
    """One section's results: printed as a table, stored as JSON."""

    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        cells = [[_format(v) for v in row] for row in self.rows]
        widths = [max(len(c), *(len(r[i]) for r in cells)) if cells else len(c) for i, c in enumerate(self.columns)]
        line = lambda values: "  ".join(v.rjust(w) for v, w in zip(values, widths))  # noqa: E731
        out = [self.title, "=" * len(self.title), line(self.columns), line(["-" * w for w in widths])]
        out += [line(r) for r in cells]
        out += [f"note: {n}" for n in self.notes]
        return "\n".join(out)

    def as_dict(self) -> dict:
        return {"title": self.title, "columns": self.columns, "rows": self.rows, "notes": self.notes}


def _format(value) -> str:
    if isinstance(value, float):
        if value != value:
            return "-"
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def best_time(fn, repeats: int) -> float:
    """Fastest of ``repeats`` wall-clock runs of ``fn()``, in seconds (after one warm-up)."""
    fn()
    return min(_timed(fn) for _ in range(repeats))


def median_time(fn, repeats: int) -> float:
    return statistics.median(_timed(fn) for _ in range(repeats))


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def training_flops(layer_sizes, n_samples: int) -> float:
    """Matrix-product FLOPs of one epoch: forward ``X @ W``, backward ``A.T @ dZ`` for
    every layer and ``dZ @ W.T`` for every layer but the first (the data needs no
    gradient). Each product of (m, k) and (k, n) counts 2*m*k*n."""
    products = [n_in * n_out for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:])]
    return 2.0 * n_samples * (2 * sum(products) + sum(products[1:]))


def gemm_peak_gflops(repeats: int = 5, sizes=(1024, 2048, 3072)) -> float:
    """The best float32 matrix-product rate this machine's BLAS reaches, in GFLOP/s."""
    rng = np.random.default_rng(0)
    best = 0.0
    for n in sizes:
        a = rng.random((n, n), dtype=np.float32)
        b = rng.random((n, n), dtype=np.float32)
        seconds = best_time(lambda a=a, b=b: a @ b, repeats)
        best = max(best, 2.0 * n**3 / seconds / 1e9)
    return best


def machine() -> dict:
    """CPU model, cores, BLAS and library versions, for the record."""
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as handle:
            names = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    blas = "unknown"
    try:
        config = np.show_config(mode="dicts")
        info = config["Build Dependencies"]["blas"]
        blas = f"{info.get('name', '?')} {info.get('version', '')}".strip()
    except Exception:
        pass
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    for name in ("torch", "cupy"):
        try:
            versions[name] = __import__(name).__version__
        except Exception:
            versions[name] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "system": f"{platform.system()} {platform.release()}",
        "blas": blas,
        "versions": versions,
    }
