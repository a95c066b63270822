"""Grading throughput: notebooks graded per minute, sequential nbgrader against ``mlpcore grade``.

``python -m benchmarks.grading [--copies N] [--workers 2]`` (or ``make bench-grading``) grades a class
of N copies of the sample class's ordinary students (perfect, blank, partial, mistakes: every one runs
the whole notebook) with nbgrader's own ``autograde`` (with the course's configuration, which runs
mlpcore's pipeline), one student after another as ``nbgrader autograde`` does, then with
``mlpcore grade --workers 1`` and ``--workers W`` (in the bubblewrap sandbox
where it works) and ``--workers W --sandbox none``; then the ordinary students alone and beside a CPU
hog (a kernel with 30 busy threads). It prints the rates, their ratio, what the sandbox costs and the
classmates' time beside the hog, and writes
``benchmarks/out/grading.json``. The students who time out or crash are left out: they measure the
limits, not the throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "out"
# Sample students whose notebooks run start to end without hitting a limit.
ORDINARY = ("ada", "ben", "cleo", "dev", "eve", "hal", "jon")


def nbgrader_sequential(root: Path, assignment: str, submissions: Path, students, workdir: Path) -> str:
    """Grade ``students`` with nbgrader's own autograde, one after another; returns the gradebook's URL.

    The course's configuration, with the submissions, autograded copies, release and gradebook
    redirected to ``workdir`` (``course/`` and ``grading/`` are left alone)."""
    from traitlets.config import Config

    from mlpcore import course

    workdir.mkdir(parents=True, exist_ok=True)  # sqlite cannot create the gradebook's folder
    overrides = Config()
    overrides.CourseDirectory.submitted_directory = str(submissions.resolve())
    overrides.CourseDirectory.autograded_directory = str(workdir / "autograded")
    overrides.CourseDirectory.release_directory = str(workdir / "release")
    url = f"sqlite:///{workdir / 'gradebook.db'}"
    overrides.CourseDirectory.db_url = url
    api = course.nbgrader_api(root, overrides)
    response = api.generate_assignment(assignment, force=True, create=True)
    if not response["success"]:
        raise RuntimeError(response.get("error") or response.get("log"))
    for student in students:
        response = api.autograde(assignment, student, force=True, create=True)
        if not response["success"]:
            raise RuntimeError(f"nbgrader autograde failed for {student}: {response.get('error') or response.get('log')}")
    return url


def make_class(submissions: Path, copies: int) -> list[str]:
    """``copies`` copies of each ordinary sample student, as ``ada-1``, ``ada-2``, ..."""
    from mlpcore.autograde.sample_class import ASSIGNMENT, write_sample_class

    with tempfile.TemporaryDirectory() as scratch:
        write_sample_class(ROOT, Path(scratch))
        students = []
        for number in range(1, copies + 1):
            for student in ORDINARY:
                name = f"{student}-{number}"
                shutil.copytree(Path(scratch) / student / ASSIGNMENT, submissions / name / ASSIGNMENT)
                students.append(name)
    return students


# A student whose kernel keeps 30 threads busy in NumPy (which releases the GIL) while its last cell waits.
HOG_THREADS = 30
HOG_CELL = f"""
import threading, time
import numpy as np

def burn():
    block = np.ones((200, 200))
    while True:
        block @ block

for _ in range({HOG_THREADS}):
    threading.Thread(target=burn, daemon=True).start()
time.sleep(50)
"""


def beside_a_hog(base: Path, workers: int) -> dict:
    """The ordinary students' mean grading time per notebook, alone and graded beside a CPU hog."""
    import nbformat

    from mlpcore.autograde.grade import grade_class
    from mlpcore.autograde.sample_class import ASSIGNMENT, NOTEBOOK, fill, solution_answers

    classmates = make_class(base / "hog-class", 1)
    release = nbformat.read(ROOT / "course" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    hog = fill(release, solution_answers(ROOT))
    hog.cells.append(nbformat.v4.new_code_cell(HOG_CELL))
    settings = {"cell_timeout": 60, "notebook_timeout": 90}
    means = {}
    for run in ("alone", "beside"):
        if run == "beside":
            (base / "hog-class" / "hog" / ASSIGNMENT).mkdir(parents=True)
            nbformat.write(hog, base / "hog-class" / "hog" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
        done = grade_class(ROOT, ASSIGNMENT, base / "hog-class", base / f"hog-{run}", workers=workers,
                           progress=False, feedback=False, settings=settings)
        times = [outcome["seconds"] for outcome in done["outcomes"] if outcome["student_id"] != "hog"]
        means[run] = sum(times) / len(times)
    return {**means, "hog_threads": HOG_THREADS, "classmates": len(classmates)}


def main(argv=None) -> int:
    from mlpcore.autograde import sandbox
    from mlpcore.autograde.grade import grade_class
    from mlpcore.autograde.sample_class import ASSIGNMENT

    from mlpcore import threads

    from .common import machine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=2, help="copies of the 7 ordinary sample students (default 2)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    threads.limit_this_process()  # both sides alike: the course's BLAS threads per kernel
    os.environ.pop("MPLBACKEND", None)
    with tempfile.TemporaryDirectory(prefix="mlpcore-bench-grading-") as scratch:
        base = Path(scratch)
        students = make_class(base / "submitted", args.copies)
        started = time.perf_counter()
        nbgrader_sequential(ROOT, ASSIGNMENT, base / "submitted", students, base / "nbgrader")
        sequential = time.perf_counter() - started
        seconds = {"nbgrader autograde, sequential": sequential}
        sandboxed = sandbox.resolve("auto")
        runs = [(workers, "auto") for workers in sorted({1, args.workers})]
        if sandbox.contained(sandboxed):
            runs.append((args.workers, sandbox.NONE))
        for workers, choice in runs:
            started = time.perf_counter()
            grade_class(ROOT, ASSIGNMENT, base / "submitted", base / f"mlpcore-{workers}-{choice}", workers=workers,
                        progress=False, feedback=False, settings={"sandbox": choice})
            seconds[f"mlpcore grade --workers {workers} --sandbox {choice}"] = time.perf_counter() - started
        hog = beside_a_hog(base, args.workers)
    parallel = seconds[f"mlpcore grade --workers {args.workers} --sandbox auto"]
    result = {"machine": machine(), "notebooks": len(students), "seconds": seconds,
              "notebooks_per_minute": {name: len(students) * 60 / value for name, value in seconds.items()},
              "speedup": sequential / parallel,
              # The sandbox's share of the parallel run's time (None when bubblewrap cannot run here).
              "sandbox": sandboxed,
              "sandbox_cost": (parallel / seconds[f"mlpcore grade --workers {args.workers} --sandbox none"] - 1
                               if sandbox.contained(sandboxed) else None),
              "beside_a_hog": hog}
    OUT.mkdir(exist_ok=True)
    (OUT / "grading.json").write_text(json.dumps(result, indent=2))
    print(f"{len(students)} notebooks of {ASSIGNMENT}; {result['machine']}")
    for name, value in seconds.items():
        print(f"  {name:<32} {value:6.1f} s  {result['notebooks_per_minute'][name]:5.1f} notebooks/min")
    print(f"  speed-up of --workers {args.workers} over sequential nbgrader: {result['speedup']:.2f}x "
          f"(written to {OUT / 'grading.json'})")
    print(f"  classmates beside a CPU hog ({hog['hog_threads']} busy threads, --workers {args.workers}, {sandboxed}): "
          f"{hog['alone']:.1f} s per notebook alone, {hog['beside']:.1f} s beside it ({hog['beside'] / hog['alone']:.2f}x)")
    if result["sandbox_cost"] is not None:
        print(f"  the bubblewrap sandbox costs {100 * result['sandbox_cost']:+.1f} % of the time of --workers {args.workers}")
    else:
        print(f"  no sandbox measured: {sandbox.bwrap_problem()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
