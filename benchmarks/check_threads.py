"""10-project's check with BLAS left as nobody configured it, against one thread and all cores (issue 23).

``python -m benchmarks.check_threads`` runs ``check_classifier`` on the notebook's plan (64-256-10, Adam,
30 epochs of batches of 32) in a fresh process three times: with no thread variable set (the check bounds
the threads itself, :func:`mlpcore.threads.bounded`), with ``OPENBLAS_NUM_THREADS=1``, and with one thread
per core chosen explicitly (what the check ran with before it bounded them). Prints the seconds and writes
``out/check_threads.json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from mlpcore import threads

# The notebook's plan in plain NumPy (the reference refuses to run inside the check).
PLAN = """
import numpy as np
from mlpcore.grading import check_classifier

def forward(params, X):
    Z1 = X @ params["W1"] + params["b1"]
    A1 = np.maximum(Z1, 0)
    return A1 @ params["W2"] + params["b2"], (A1, Z1)

def train(X, y, seed):
    rng = np.random.default_rng(seed)
    params = {"W1": (rng.standard_normal((64, 256)) * np.sqrt(2 / 64)).astype(X.dtype), "b1": np.zeros(256, X.dtype),
              "W2": (rng.standard_normal((256, 10)) * np.sqrt(2 / 256)).astype(X.dtype), "b2": np.zeros(10, X.dtype)}
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(p) for k, p in params.items()}
    t = 0
    for _ in range(30):
        order = rng.permutation(len(X))
        for start in range(0, len(X), 32):
            rows = order[start:start + 32]
            logits, (A1, Z1) = forward(params, X[rows])
            P = np.exp(logits - logits.max(axis=1, keepdims=True))
            P /= P.sum(axis=1, keepdims=True)
            P[np.arange(len(rows)), y[rows]] -= 1
            dZ2 = P / len(rows)
            dZ1 = (dZ2 @ params["W2"].T) * (Z1 > 0)
            grads = {"W2": A1.T @ dZ2, "b2": dZ2.sum(0), "W1": X[rows].T @ dZ1, "b1": dZ1.sum(0)}
            t += 1
            for k, g in grads.items():
                m[k] = 0.9 * m[k] + 0.1 * g
                v[k] = 0.999 * v[k] + 0.001 * g * g
                params[k] -= 0.001 * (m[k] / (1 - 0.9**t)) / (np.sqrt(v[k] / (1 - 0.999**t)) + 1e-8)
    return params

check_classifier(train, lambda params, X: np.argmax(forward(params, X)[0], axis=1))
"""

OUT = Path(__file__).resolve().parent / "out"


def seconds(**chosen) -> float:
    environ = {key: value for key, value in os.environ.items()
               if key not in (*threads.LIBRARY_VARIABLES, threads.THREADS_ENV)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", PLAN], env={**environ, **chosen}, check=True, capture_output=True, timeout=900)
    return time.perf_counter() - start


def main() -> int:
    cores = os.cpu_count() or 1
    rows = {"nobody set the threads (the check bounds them)": seconds(),
            "OPENBLAS_NUM_THREADS=1": seconds(OPENBLAS_NUM_THREADS="1"),
            f"OPENBLAS_NUM_THREADS={cores} (chosen: left as it is)": seconds(OPENBLAS_NUM_THREADS=str(cores))}
    for setting, value in rows.items():
        print(f"{value:7.1f} s  check_classifier, {setting}")
    OUT.mkdir(exist_ok=True)
    (OUT / "check_threads.json").write_text(json.dumps({"cores": cores, "seconds": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
