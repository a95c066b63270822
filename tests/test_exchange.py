"""nbgrader's whole loop through its exchange, with `mlpcore grade` in the middle.

release_assignment -> fetch_assignment -> submit -> collect -> mlpcore grade -> release_feedback
-> fetch_feedback, and nbgrader export, as an instructor and two students would run them. The
students are told apart by ``--student`` (nbgrader's own way for one Linux account): accounts of
their own would need this test's Python to be reachable by other users, which a virtual
environment under /root is not.
"""

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NBGRADER = Path(sys.executable).parent / "nbgrader"
ASSIGNMENT, NOTEBOOK, COURSE_ID = "01-matrices", "matrices", "mlpcore"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="nbgrader's exchange does not run on Windows")


def _run(argv, cwd, env=None):
    done = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture
def course_and_exchange(tmp_path, monkeypatch):
    """A fresh clone with one assignment, and an empty exchange folder that its config points at."""
    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", clone)
    for folder in ("solutions", "course"):
        shutil.copytree(ROOT / folder / ASSIGNMENT, clone / folder / ASSIGNMENT)
    exchange = tmp_path / "exchange"
    monkeypatch.setenv("MLPCORE_EXCHANGE", str(exchange))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:/usr/bin:/bin")
    return clone, exchange


def test_the_exchange_loop_brings_each_student_mlpcores_feedback(course_and_exchange, tmp_path):
    clone, exchange = course_and_exchange
    course_flag = f"--course={COURSE_ID}"
    _run([NBGRADER, "release_assignment", ASSIGNMENT, course_flag], clone)

    students = {"ada": "the solution", "bob": "the untouched release"}
    for student in students:
        home = tmp_path / student
        home.mkdir()
        as_student = [course_flag, f"--student={student}", f"--Exchange.root={exchange}",
                      f"--Exchange.cache={home / 'cache'}"]
        _run([NBGRADER, "fetch_assignment", ASSIGNMENT, *as_student], home)
        if student == "ada":
            shutil.copy(ROOT / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", home / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
        _run([NBGRADER, "submit", ASSIGNMENT, *as_student], home)

    _run([NBGRADER, "collect", ASSIGNMENT, course_flag], clone)
    submitted = clone / "grading" / "submitted"
    assert sorted(p.name for p in submitted.iterdir()) == ["ada", "bob"]

    graded = _run([sys.executable, "-m", "mlpcore", "grade", ASSIGNMENT, "--no-progress"], clone)
    assert "ada" in graded and "bob" in graded
    _run([NBGRADER, "release_feedback", ASSIGNMENT, course_flag], clone)

    for student in students:
        home = tmp_path / student
        _run([NBGRADER, "fetch_feedback", ASSIGNMENT, course_flag, f"--student={student}",
              f"--Exchange.root={exchange}", f"--Exchange.cache={home / 'cache'}"], home)
        fetched = list((home / ASSIGNMENT / "feedback").glob(f"*/{NOTEBOOK}.html"))
        assert len(fetched) == 1, f"{student} fetched {fetched}"
        page = fetched[0].read_text(encoding="utf-8")
        # mlpcore's page, not nbgrader's (which would show the hidden tests' code)
        assert page == (clone / "grading" / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html").read_text(encoding="utf-8")
        assert "BEGIN HIDDEN TESTS" not in page and "hidden=True" not in page
        assert student in page

    # The graded notebook keeps the figures the notebook draws, and the feedback shows them.
    autograded = nbformat.read(clone / "grading" / "autograded" / "ada" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", 4)
    assert any("image/png" in out.get("data", {}) for cell in autograded.cells for out in cell.get("outputs", []))
    fetched = next((tmp_path / "ada" / ASSIGNMENT / "feedback").glob(f"*/{NOTEBOOK}.html"))
    assert 'src="data:image/png;base64,' in fetched.read_text(encoding="utf-8")

    # nbgrader export from the course root writes into grading/, never into the repository.
    _run([NBGRADER, "export"], clone)
    assert not (clone / "grades.csv").exists()
    with open(clone / "grading" / "nbgrader-export.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert sorted(rows) == ["ada", "bob"]
    assert float(rows["ada"]["score"]) == float(rows["ada"]["max_score"]) > 0 and float(rows["bob"]["score"]) == 0
