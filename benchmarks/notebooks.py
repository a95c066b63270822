"""How long each solution notebook takes to run, idle and on a busy machine, with the BLAS library's own
thread count (one per core: before) and with the course's one thread per kernel (after).

``python -m benchmarks.notebooks [--notebooks 06-initialization ...] [--busy 2] [--limit 300]``
(``make bench-notebooks``) runs each notebook of ``solutions/`` top to bottom in a fresh kernel,
four times: ``MLPCORE_BLAS_THREADS=all`` and ``=1``, each on an idle machine and beside ``--busy``
processes that spin on a core each (a JupyterHub machine shared with other kernels, a grader
with other workers). It prints the wall time and the slowest cell of each run, writes
``benchmarks/out/notebooks.json`` and a chart ``notebooks.png``. A run that takes longer than
``--limit`` seconds is stopped and recorded as not finished: the point is the ratio, not the wait.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "out"
# (label, MLPCORE_BLAS_THREADS): the libraries' default before the change, the course's after it.
THREAD_SETTINGS = (("one per core (before)", "all"), ("one per kernel (after)", "1"))
SPIN = "while True: pass"


@contextmanager
def busy_processes(count: int):
    """``count`` processes that each keep a core busy, for as long as the block runs."""
    spinners = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(count)]
    try:
        yield
    finally:
        for process in spinners:
            process.kill()
            process.wait()


def run_notebook(path: Path, blas_threads: str, limit: float) -> dict:
    """Run a copy of ``path`` in a fresh python3 kernel with ``MLPCORE_BLAS_THREADS=blas_threads``;
    ``{"seconds", "slowest_cell_seconds", "finished"}``."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    from mlpcore import threads

    notebook = nbformat.read(path, as_version=4)
    environment = {key: value for key, value in os.environ.items() if key not in threads.LIBRARY_VARIABLES}
    environment.pop("MPLBACKEND", None)  # inline figures, as in JupyterLab
    environment.update(threads.kernel_environment({threads.THREADS_ENV: blas_threads}))
    client = NotebookClient(notebook, timeout=max(1, int(limit)), kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])
    started = time.perf_counter()
    finished = True
    try:
        client.execute(env=environment)
    except (CellTimeoutError, DeadKernelError, CellExecutionError, TimeoutError):
        finished = False
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "slowest_cell_seconds": round(_slowest_cell(notebook), 2),
            "finished": finished and seconds <= limit}


def _slowest_cell(notebook) -> float:
    """The longest cell, from the start and reply times nbclient records in each cell's metadata."""
    from datetime import datetime

    longest = 0.0
    for cell in notebook.cells:
        timing = cell.metadata.get("execution", {})
        start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if start and end:
            seconds = (datetime.fromisoformat(end.rstrip("Z")) - datetime.fromisoformat(start.rstrip("Z"))).total_seconds()
            longest = max(longest, seconds)
    return longest


def measure(assignments, busy: int, limit: float, progress=print) -> list[dict]:
    """Every assignment under every thread setting, idle and beside ``busy`` spinning processes."""
    from mlpcore import course

    rows = []
    for load in ("idle", f"{busy} busy processes"):
        for label, setting in THREAD_SETTINGS:
            with busy_processes(busy if load != "idle" else 0):
                for assignment in assignments:
                    for path in course.notebooks(ROOT, assignment):
                        result = run_notebook(path, setting, limit)
                        # The machine's own load as the run ended: other users' work shows here too.
                        result["load_average_1min"] = round(os.getloadavg()[0], 2)
                        rows.append({"notebook": assignment, "load": load, "blas_threads": label, **result})
                        progress(f"  {assignment:<22} {load:<18} {label:<24} {result['seconds']:7.1f} s"
                                 f"  slowest cell {result['slowest_cell_seconds']:6.1f} s"
                                 f"  load {result['load_average_1min']:4.1f}"
                                 + ("" if result["finished"] else "  (stopped at the limit)"))
    return rows


def plot(rows: list[dict], path: Path) -> None:
    """Grouped bars: each notebook's run time in each condition (log scale: the busy, many-thread runs
    are an order of magnitude slower)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    notebooks = list(dict.fromkeys(row["notebook"] for row in rows))
    conditions = list(dict.fromkeys((row["load"], row["blas_threads"]) for row in rows))
    figure, axes = plt.subplots(figsize=(max(6, 1.3 * len(notebooks) + 2), 4.5))
    width = 0.8 / len(conditions)
    for offset, condition in enumerate(conditions):
        seconds = [next((row["seconds"] for row in rows if (row["notebook"], row["load"], row["blas_threads"])
                         == (notebook, *condition)), np.nan) for notebook in notebooks]
        axes.bar(np.arange(len(notebooks)) + offset * width, seconds, width, label=f"{condition[0]}, {condition[1]}")
    axes.set_xticks(np.arange(len(notebooks)) + width * (len(conditions) - 1) / 2, notebooks, rotation=30, ha="right")
    axes.set_yscale("log")
    axes.set_ylabel("seconds to run the notebook (log scale)")
    axes.set_title("Solution notebooks, start to end: BLAS threads and a busy machine")
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv=None) -> int:
    from mlpcore import course

    from .common import machine

    parser = argparse.ArgumentParser(prog="python -m benchmarks.notebooks", description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", nargs="+", metavar="ASSIGNMENT", default=None,
                        help="assignments to run (default: all of solutions/)")
    parser.add_argument("--busy", type=int, default=2, help="spinning processes for the busy runs (default 2)")
    parser.add_argument("--limit", type=float, default=300.0, help="seconds before a run is stopped (default 300)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT})")
    args = parser.parse_args(argv)
    known = course.assignments(ROOT)
    assignments = args.notebooks or known
    unknown = [name for name in assignments if name not in known]
    if unknown:
        parser.error(f"no assignment {', '.join(unknown)} in solutions/; the assignments are {', '.join(known)}")
    if args.busy < 1 or not args.limit > 0:
        parser.error("--busy must be at least 1 and --limit positive")

    print(f"{len(assignments)} notebooks, {args.busy} busy processes; {machine()['cpu']}, {os.cpu_count()} cores")
    rows = measure(assignments, args.busy, args.limit)
    args.out.mkdir(parents=True, exist_ok=True)
    record = {"machine": machine(), "busy_processes": args.busy, "limit_seconds": args.limit, "runs": rows}
    (args.out / "notebooks.json").write_text(json.dumps(record, indent=2))
    plot(rows, args.out / "notebooks.png")
    print(f"wrote {args.out / 'notebooks.json'} and {args.out / 'notebooks.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
