"""nbgrader's whole loop through its exchange, with `mlpcore grade` in the middle.

release_assignment -> fetch_assignment -> submit -> collect -> mlpcore grade -> release_feedback
-> fetch_feedback, and nbgrader export, as an instructor and two students would run them.

The loop runs once, in one of two ways (the test's id says which):

- ``linux-accounts`` where the test runs as root (CI): each student is a Linux account of their own
  (tests/linux_students.py), deleted afterwards. nbgrader names each submission after the account
  that made it, and the test checks that the exchange holds each student's files under their uid
  and that collect found no submission whose owner differs from its name.
- ``student-flag`` elsewhere: one account, the students told apart by nbgrader's ``--student``.
  As root it is skipped (the loop would run twice); MLPCORE_TEST_STUDENT_FLAG=1 runs it there too.
"""

import csv
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

import linux_students

ROOT = Path(__file__).resolve().parent.parent
NBGRADER = Path(sys.executable).parent / "nbgrader"
ASSIGNMENT, NOTEBOOK, COURSE_ID = "01-matrices", "matrices", "mlpcore"
COURSE_FLAG = f"--course={COURSE_ID}"
# The students and what each hands in.
STUDENTS = {"ada": "the solution", "bob": "the untouched release"}
# collect's warning for a submission whose owner is not the student it names.
OWNER_WARNING = "cheating attempt?"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="nbgrader's exchange does not run on Windows")

NO_ACCOUNTS = linux_students.unavailable()  # why students cannot have accounts here (None: they can)
WAYS = [
    pytest.param("linux-accounts", marks=pytest.mark.skipif(NO_ACCOUNTS is not None, reason=f"{NO_ACCOUNTS}; "
                                                            "the student-flag case runs the loop instead")),
    pytest.param("student-flag", marks=pytest.mark.skipif(
        NO_ACCOUNTS is None and not os.environ.get("MLPCORE_TEST_STUDENT_FLAG"),
        reason="the linux-accounts case runs the loop here (MLPCORE_TEST_STUDENT_FLAG=1 runs this one too)")),
]


def _run(argv, cwd):
    """Runs ``argv`` in ``cwd`` and returns what it printed; on a timeout, ends everything it started
    (in its own process group), so that a student's account has no process left when it is deleted."""
    with subprocess.Popen([str(a) for a in argv], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, start_new_session=True) as process:
        try:
            out, err = process.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    assert process.returncode == 0, f"{argv} failed:\n{out}\n{err}"
    return out + err


@dataclass(frozen=True)
class FlaggedStudent:
    """A student on the account that runs the tests, told apart by nbgrader's ``--student``."""

    login: str
    home: Path

    def command(self, argv) -> list[str]:
        """An nbgrader command line as this student runs it."""
        return [*map(str, argv), f"--student={self.login}", f"--Exchange.cache={self.home / 'cache'}"]


@pytest.fixture(params=WAYS)
def class_of_students(request, tmp_path):
    """(name -> student, a folder every student can enter, for the exchange): each student has a
    ``login``, a ``home`` and ``command(argv)``. For Linux accounts that folder cannot be tmp_path,
    which as root is closed to other accounts."""
    if request.param == "student-flag":
        homes = {name: tmp_path / name for name in STUDENTS}
        for home in homes.values():
            home.mkdir()
        yield {name: FlaggedStudent(name, home) for name, home in homes.items()}, tmp_path
        return
    with linux_students.shared_folder() as shared, linux_students.linux_students(STUDENTS, shared) as accounts:
        yield accounts, shared


@pytest.fixture
def course_exchange_students(class_of_students, tmp_path, monkeypatch):
    """A fresh clone with one assignment, an empty exchange folder that its config points at, and the students."""
    students, shared = class_of_students
    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", clone)
    for folder in ("solutions", "course"):
        shutil.copytree(ROOT / folder / ASSIGNMENT, clone / folder / ASSIGNMENT)
    exchange = shared / "exchange"
    monkeypatch.setenv("MLPCORE_EXCHANGE", str(exchange))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:/usr/bin:/bin")
    return clone, exchange, students


def _as_student(student, subcommand, exchange):
    """nbgrader's ``subcommand`` of the assignment, run by ``student`` in their home."""
    return _run(student.command([NBGRADER, subcommand, ASSIGNMENT, COURSE_FLAG, f"--Exchange.root={exchange}"]),
                student.home)


def test_the_exchange_loop_brings_each_student_mlpcores_feedback(course_exchange_students):
    clone, exchange, students = course_exchange_students
    _run([NBGRADER, "release_assignment", ASSIGNMENT, COURSE_FLAG], clone)

    for name, student in students.items():
        _as_student(student, "fetch_assignment", exchange)
        if STUDENTS[name] == "the solution":  # written over the fetched file: it stays the student's
            shutil.copy(ROOT / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", student.home / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
        _as_student(student, "submit", exchange)

    collected = _run([NBGRADER, "collect", ASSIGNMENT, COURSE_FLAG], clone)
    logins = sorted(student.login for student in students.values())
    submitted = clone / "grading" / "submitted"
    assert sorted(p.name for p in submitted.iterdir()) == logins
    if isinstance(next(iter(students.values())), FlaggedStudent):
        # --student names whoever the caller says: collect sees the files are not the named student's.
        assert OWNER_WARNING in collected
    else:
        # Each submission is named after the account that made it, and holds only that account's files.
        assert OWNER_WARNING not in collected, collected
        for student in students.values():
            inbound = list((exchange / COURSE_ID / "inbound").glob(f"{student.login}+{ASSIGNMENT}+*"))
            assert len(inbound) == 1, f"{student.login}'s submissions: {inbound}"
            owners = {path.relative_to(inbound[0]).as_posix(): path.stat().st_uid for path in inbound[0].rglob("*")}
            assert f"{NOTEBOOK}.ipynb" in owners and set(owners.values()) == {student.uid}, owners

    graded = _run([sys.executable, "-m", "mlpcore", "grade", ASSIGNMENT, "--no-progress"], clone)
    assert all(login in graded for login in logins), graded
    _run([NBGRADER, "release_feedback", ASSIGNMENT, COURSE_FLAG], clone)

    for student in students.values():
        _as_student(student, "fetch_feedback", exchange)
        fetched = list((student.home / ASSIGNMENT / "feedback").glob(f"*/{NOTEBOOK}.html"))
        assert len(fetched) == 1, f"{student.login} fetched {fetched}"
        page = fetched[0].read_text(encoding="utf-8")
        # mlpcore's page, not nbgrader's (which would show the hidden tests' code)
        assert page == (clone / "grading" / "feedback" / student.login / ASSIGNMENT / f"{NOTEBOOK}.html").read_text(encoding="utf-8")
        assert "BEGIN HIDDEN TESTS" not in page and "hidden=True" not in page
        assert student.login in page

    # The graded notebook keeps the figures the notebook draws, and the feedback shows them.
    ada = students["ada"]
    autograded = nbformat.read(clone / "grading" / "autograded" / ada.login / ASSIGNMENT / f"{NOTEBOOK}.ipynb", 4)
    assert any("image/png" in out.get("data", {}) for cell in autograded.cells for out in cell.get("outputs", []))
    fetched = next((ada.home / ASSIGNMENT / "feedback").glob(f"*/{NOTEBOOK}.html"))
    assert 'src="data:image/png;base64,' in fetched.read_text(encoding="utf-8")

    # nbgrader export from the course root writes into grading/, never into the repository.
    _run([NBGRADER, "export"], clone)
    assert not (clone / "grades.csv").exists()
    with open(clone / "grading" / "nbgrader-export.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert sorted(rows) == logins
    bob = students["bob"]
    assert float(rows[ada.login]["score"]) == float(rows[ada.login]["max_score"]) > 0
    assert float(rows[bob.login]["score"]) == 0
