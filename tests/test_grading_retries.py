"""A busy machine must not turn an honest submission into a zero.

Faults are injected from outside the code under test: a ``sitecustomize`` module on the grading
processes' ``PYTHONPATH`` runs in every Python process they start, and in a grading kernel (the
only process whose environment names a kernel fence) it kills or stalls the kernel's start-up
while a counter file allows it. The grader must try again, with a longer start-up time, record
each failed attempt, and name the real cause when it gives up; a rerun grades errors again.
"""

import json
import os
from pathlib import Path

import nbformat
import pytest

from mlpcore.autograde import worker
from mlpcore.autograde.grade import grade_class, outcome_path
from mlpcore.autograde.kernel import SANDBOX_ENV
from mlpcore.autograde.sample_class import ASSIGNMENT, NOTEBOOK, fill, solution_answers

ROOT = Path(__file__).resolve().parent.parent
FULL = 9.0  # points of notebook 02-forward

FAULTY_START = f'''
import os, time
if os.environ.get({SANDBOX_ENV!r}) and os.environ.get("FAULT_COUNTER"):
    counter = os.environ["FAULT_COUNTER"]
    left = int(open(counter).read())
    if left > 0:
        open(counter, "w").write(str(left - 1))
        if os.environ["FAULT_KIND"] == "die":
            os._exit(3)
        time.sleep(float(os.environ["FAULT_SLEEP"]))
'''


@pytest.fixture
def faulty_kernels(tmp_path, monkeypatch):
    """``inject(kind, times, sleep=0)``: the next ``times`` grading kernels die ("die") or sleep
    ``sleep`` seconds ("stall") before they start."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(FAULTY_START)
    counter = tmp_path / "faults-left"
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(hooks), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("FAULT_COUNTER", str(counter))

    def inject(kind: str, times: int, sleep: float = 0.0) -> None:
        counter.write_text(str(times))
        monkeypatch.setenv("FAULT_KIND", kind)
        monkeypatch.setenv("FAULT_SLEEP", str(sleep))

    inject.counter = counter
    return inject


# The honest student also prints what the grading kernel has: its BLAS threads.
THREADS_REPORT = ("import os, threadpoolctl\n"
                  "print('BLAS threads:', os.environ.get('OPENBLAS_NUM_THREADS'), "
                  "max(i['num_threads'] for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas'))\n")


def _one_honest_student(base: Path) -> Path:
    submissions = base / "submitted"
    folder = submissions / "ada" / ASSIGNMENT
    folder.mkdir(parents=True)
    release = nbformat.read(ROOT / "course" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    answers = solution_answers(ROOT)
    answers["relu"] += THREADS_REPORT
    nbformat.write(fill(release, answers), folder / f"{NOTEBOOK}.ipynb")
    return submissions


def _printed(output: Path, prefix: str) -> list[str]:
    graded = nbformat.read(output / "autograded" / "ada" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    return [line for cell in graded.cells for out in cell.get("outputs", [])
            for line in out.get("text", "").splitlines() if line.startswith(prefix)]


def _grade(submissions: Path, output: Path, **settings) -> dict:
    # Without the OS sandbox: the faults live in this test's folders, which a sandboxed kernel cannot see.
    grade_class(ROOT, ASSIGNMENT, submissions, output, workers=1, progress=False, feedback=False,
                settings={"cell_timeout": 60, "sandbox": "none", **settings})
    return json.loads(outcome_path(output, ASSIGNMENT, "ada").read_text())


def test_a_kernel_that_dies_at_start_once_is_retried_and_the_student_gets_full_marks(tmp_path, faulty_kernels):
    faulty_kernels("die", times=1)
    graded = _grade(_one_honest_student(tmp_path), tmp_path / "grading")
    assert (graded["status"], graded["score"]) == ("ok", FULL), graded["reasons"]
    assert _printed(tmp_path / "grading", "BLAS threads:") == ["BLAS threads: 1 1"], "one BLAS thread per grading kernel"
    assert len(graded["retries"]) == 1
    assert "RuntimeError: Kernel died before replying to kernel_info" in graded["retries"][0]
    assert faulty_kernels.counter.read_text() == "0", "the fault was not injected"


def test_a_kernel_slower_to_start_than_its_limit_gets_a_longer_wait(tmp_path, faulty_kernels):
    # The first kernel takes longer than the 8 s allowed; the retry allows 16 s and its kernel is not slowed.
    faulty_kernels("stall", times=1, sleep=20)
    graded = _grade(_one_honest_student(tmp_path), tmp_path / "grading", kernel_startup_timeout=8)
    assert (graded["status"], graded["score"]) == ("ok", FULL), graded["reasons"]
    # (On a very busy machine the 16 s retry could miss too; the third attempt then has 32 s.)
    assert graded["retries"] and "8 seconds" in graded["retries"][0], graded["retries"]


def test_a_lasting_failure_is_reported_with_its_cause_and_regraded_by_a_rerun(tmp_path, faulty_kernels):
    faulty_kernels("die", times=worker.GRADER_RETRIES + 1)
    submissions, output = _one_honest_student(tmp_path), tmp_path / "grading"
    graded = _grade(submissions, output)
    assert (graded["status"], graded["score"]) == ("error", 0.0)
    assert len(graded["retries"]) == worker.GRADER_RETRIES
    # The cause itself, not nbgrader's "see the above traceback".
    assert "RuntimeError: Kernel died before replying to kernel_info" in graded["reasons"][0]
    assert "above traceback" not in graded["reasons"][0]

    regraded = _grade(submissions, output)  # nothing changed but the machine: graded again
    assert (regraded["status"], regraded["score"], regraded["retries"]) == ("ok", FULL, [])


def test_the_cause_is_read_from_nbgrader_s_log():
    log = """[ERROR] There was an error processing assignment
    Traceback (most recent call last):
      File "x.py", line 1, in f
        raise RuntimeError(msg)
    RuntimeError: Kernel didn't respond in 60 seconds
[ERROR] Please see the the above traceback for details on the specific errors on the above failures.
nbgrader.converters.base.NbGraderException: Please see the the above traceback for details.
"""
    assert worker.failure_cause(log) == "RuntimeError: Kernel didn't respond in 60 seconds"
    assert worker.failure_cause("no exception here\nlast line") == "no exception here | last line"
