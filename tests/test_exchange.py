"""nbgrader's whole loop through its exchange, with `mlpcore grade` in the middle, run from the README.

The command lines are read from the README's "nbgrader's exchange" block and run as they are written
there: release_assignment -> fetch_assignment -> submit -> collect -> mlpcore grade -> release_feedback
-> fetch_feedback, each by the role its comment names (the instructor in the course root, each of two
students in a folder of their own), with nothing in the environment but what the README says to set
(``MLPCORE_EXCHANGE``). So the test breaks when the README's lines stop working or drift.

The loop runs once, in one of two ways (the test's id says which):

- ``linux-accounts`` where the test runs as root (CI): each student is a Linux account of their own
  (tests/linux_students.py), deleted afterwards, with a clean environment. nbgrader names each
  submission after the account that made it, and the test checks that the exchange holds each
  student's files under their uid and that collect found no submission whose owner differs from its name.
- ``student-flag`` elsewhere: one account, the students told apart by nbgrader's ``--student`` added
  to each student's line (as the README says), sharing one exchange cache.
  As root it is skipped (the loop would run twice); MLPCORE_TEST_STUDENT_FLAG=1 runs it there too.

Either way each student fetches exactly one feedback page, their own. A shorter test runs the
shared-cache case everywhere, with stand-in pages in place of grading.
"""

import csv
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

import linux_students
from mlpcore.autograde import exchange
from mlpcore.autograde.sample_class import fill, solution_answers

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SECTION = "**nbgrader's exchange, with mlpcore grading.**"
# The loop the README's block must give, in this order: (program, subcommand, role).
LOOP = [("nbgrader", "release_assignment", "instructor"), ("nbgrader", "fetch_assignment", "student"),
        ("nbgrader", "submit", "student"), ("nbgrader", "collect", "instructor"),
        ("mlpcore", "grade", "instructor"), ("nbgrader", "release_feedback", "instructor"),
        ("nbgrader", "fetch_feedback", "student")]
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


@dataclass(frozen=True)
class Line:
    """One command line of the README's loop."""

    text: str
    argv: tuple
    role: str  # "instructor" or "student"


def readme_loop() -> list[Line]:
    """The command lines of the README's exchange block, each with the role its comment starts with."""
    text = README.read_text(encoding="utf-8")
    assert SECTION in text, f"the README has no section {SECTION}"
    block = re.search(r"\n\n((?: {4}\S.*\n)+)", text.split(SECTION, 1)[1]).group(1)
    lines = []
    for raw in block.splitlines():
        command, _, comment = raw.strip().partition("#")
        comment = comment.strip()
        role = "student" if comment.startswith("each student") else "instructor" if comment.startswith("instructor") else None
        assert role, f"README: {raw.strip()!r}: the comment should start with 'instructor' or 'each student'"
        lines.append(Line(raw.strip(), tuple(shlex.split(command)), role))
    return lines


def test_the_readme_gives_the_whole_loop_for_one_assignment():
    lines = readme_loop()
    assert [(line.argv[0], line.argv[1], line.role) for line in lines] == LOOP, [line.text for line in lines]
    assignments = {line.argv[2] for line in lines}
    assert len(assignments) == 1 and (ROOT / "course" / assignments.pop()).is_dir()
    assert all(len(line.argv) == 3 for line in lines), "no line needs an option"


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

    def command(self, argv, environment=None) -> list[str]:
        """A README line as this student runs it: ``--student=NAME`` added (``environment`` is the
        test's own, which holds it already)."""
        return [*map(str, argv), f"--student={self.login}"]


def _flagged_students(tmp_path) -> dict:
    homes = {name: tmp_path / name for name in STUDENTS}
    for home in homes.values():
        home.mkdir()
    return {name: FlaggedStudent(name, home) for name, home in homes.items()}


@pytest.fixture(params=WAYS)
def class_of_students(request, tmp_path):
    """(name -> student, a folder every student can enter, for the exchange): each student has a
    ``login``, a ``home`` and ``command(argv, environment)``. For Linux accounts that folder cannot be
    tmp_path, which as root is closed to other accounts."""
    if request.param == "student-flag":
        yield _flagged_students(tmp_path), tmp_path
        return
    with linux_students.shared_folder() as shared, linux_students.linux_students(STUDENTS, shared) as accounts:
        yield accounts, shared


def _environment_configured():
    """The students' nbgrader finds the course's settings in the environment, as `make` leaves it."""
    path = exchange.environment_config_path()
    if not path.is_file() or path.read_text(encoding="utf-8") != exchange.ENVIRONMENT_CONFIG:
        pytest.fail(f"{path} is missing or not mlpcore's: make writes it when it creates .venv "
                    "(or run: python -m mlpcore.autograde.exchange --install)")


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A fresh clone with the README's assignment, and an environment with only what the README sets:
    ``MLPCORE_EXCHANGE`` (given by the caller), this Python's ``bin/`` on ``PATH`` (as an activated
    environment has it), and a Jupyter data folder of the test's own (the exchange cache of the
    account that runs the test)."""
    _environment_configured()
    assignment = readme_loop()[0].argv[2]
    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", clone)
    for folder in ("solutions", "course"):
        shutil.copytree(ROOT / folder / assignment, clone / folder / assignment)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:/usr/bin:/bin")
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter-data"))
    for name in ("MLPCORE_GRADING", "MLPCORE_EXCHANGE", "JUPYTER_CONFIG_DIR", "JUPYTER_CONFIG_PATH"):
        monkeypatch.delenv(name, raising=False)
    return clone, assignment


def _answer(student, assignment, clone):
    """ada answers every exercise in her fetched notebook, as she would in JupyterLab; bob hands in
    the release untouched."""
    (notebook,) = (student.home / assignment).glob("*.ipynb")
    answered = fill(nbformat.read(notebook, as_version=4), solution_answers(clone, assignment, notebook.stem))
    nbformat.write(answered, notebook)
    if hasattr(student, "uid"):
        os.chown(notebook, student.uid, student.gid)


def run_readme_loop(clone, students, environment, grade=None) -> dict:
    """Runs the README's lines: the instructor's in the course root, each student's in their home.
    ``grade``, if given, stands in for the ``mlpcore grade`` line. Returns {line text: output}."""
    outputs = {}
    for line in readme_loop():
        if line.role == "instructor":
            outputs[line.text] = grade() if grade and line.argv[:2] == ("mlpcore", "grade") else _run(line.argv, clone)
            continue
        for name, student in students.items():
            outputs[f"{name}: {line.text}"] = _run(student.command(line.argv, environment), student.home)
            if line.argv[1] == "fetch_assignment" and STUDENTS[name] == "the solution":
                _answer(student, line.argv[2], clone)
    return outputs


def _fetched_feedback(student, assignment) -> list[Path]:
    return sorted((student.home / assignment / "feedback").glob("*/*.html"))


def test_the_readmes_exchange_loop_brings_each_student_their_own_feedback(class_of_students, course, monkeypatch):
    students, shared = class_of_students
    clone, assignment = course
    environment = {"MLPCORE_EXCHANGE": str(shared / "exchange")}
    monkeypatch.setenv("MLPCORE_EXCHANGE", environment["MLPCORE_EXCHANGE"])
    exchange_folder = Path(environment["MLPCORE_EXCHANGE"])

    outputs = run_readme_loop(clone, students, environment)

    collected = next(out for text, out in outputs.items() if text.startswith("nbgrader collect"))
    logins = sorted(student.login for student in students.values())
    submitted = clone / "grading" / "submitted"
    assert sorted(p.name for p in submitted.iterdir()) == logins
    (notebook,) = (clone / "course" / assignment).glob("*.ipynb")
    if isinstance(next(iter(students.values())), FlaggedStudent):
        # --student names whoever the caller says: collect sees the files are not the named student's.
        assert OWNER_WARNING in collected
    else:
        # Each submission is named after the account that made it, and holds only that account's files.
        assert OWNER_WARNING not in collected, collected
        for student in students.values():
            inbound = list((exchange_folder / exchange.COURSE_ID / "inbound").glob(f"{student.login}+{assignment}+*"))
            assert len(inbound) == 1, f"{student.login}'s submissions: {inbound}"
            owners = {path.relative_to(inbound[0]).as_posix(): path.stat().st_uid for path in inbound[0].rglob("*")}
            assert notebook.name in owners and set(owners.values()) == {student.uid}, owners

    graded = next(out for text, out in outputs.items() if text.startswith("mlpcore grade"))
    assert all(login in graded for login in logins), graded

    pages = {}
    for student in students.values():
        fetched = _fetched_feedback(student, assignment)
        assert [p.name for p in fetched] == [notebook.with_suffix(".html").name], f"{student.login} fetched {fetched}"
        page = fetched[0].read_text(encoding="utf-8")
        # mlpcore's page for this student, not nbgrader's (which would show the hidden tests' code)
        own = clone / "grading" / "feedback" / student.login / assignment / fetched[0].name
        assert page == own.read_text(encoding="utf-8")
        assert "BEGIN HIDDEN TESTS" not in page and "hidden=True" not in page
        assert student.login in page
        pages[student.login] = page
    assert len(set(pages.values())) == len(pages)

    # The graded notebook keeps the figures the notebook draws, and the feedback shows them.
    ada = students["ada"]
    autograded = nbformat.read(clone / "grading" / "autograded" / ada.login / assignment / notebook.name, 4)
    assert any("image/png" in out.get("data", {}) for cell in autograded.cells for out in cell.get("outputs", []))
    assert 'src="data:image/png;base64,' in pages[ada.login]

    # nbgrader export from the course root writes into grading/, never into the repository.
    _run(["nbgrader", "export"], clone)
    assert not (clone / "grades.csv").exists()
    with open(clone / "grading" / "nbgrader-export.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert sorted(rows) == logins
    bob = students["bob"]
    assert float(rows[ada.login]["score"]) == float(rows[ada.login]["max_score"]) > 0
    assert float(rows[bob.login]["score"]) == 0


def test_one_account_playing_two_students_gets_each_only_their_own_feedback(course, tmp_path, monkeypatch):
    """Does each student of one account (``--student``, one exchange cache) fetch only their own page?
    nbgrader's own fetch_feedback brings every page of the cache's submissions: ada would get bob's."""
    clone, assignment = course
    monkeypatch.setenv("MLPCORE_EXCHANGE", str(tmp_path / "exchange"))
    students = _flagged_students(tmp_path)

    def stand_in_pages():
        """Pages that say whose they are, where mlpcore grade writes them, with what release_feedback needs."""
        for login in students:
            submission = clone / "grading" / "submitted" / login / assignment
            feedback = clone / "grading" / "feedback" / login / assignment
            feedback.mkdir(parents=True)
            for notebook in submission.glob("*.ipynb"):
                (feedback / f"{notebook.stem}.html").write_text(f"<p>feedback for {login}</p>", encoding="utf-8")
            for name in ("timestamp.txt", "submission_secret.txt"):
                shutil.copy(submission / name, feedback / name)
        return ""

    run_readme_loop(clone, students, {}, grade=stand_in_pages)

    cache = Path(os.environ["JUPYTER_DATA_DIR"]) / "nbgrader_cache" / exchange.COURSE_ID
    assert sorted(p.name.split("+")[0] for p in cache.iterdir()) == sorted(students)  # one cache, both students
    for login, student in students.items():
        fetched = _fetched_feedback(student, assignment)
        assert [p.read_text(encoding="utf-8") for p in fetched] == [f"<p>feedback for {login}</p>"], fetched


def test_the_exchange_is_mlpcore_exchange_or_the_course_roots_own(tmp_path):
    """Where does a student's nbgrader look for the exchange? MLPCORE_EXCHANGE first, then the grading
    folder of the course root (MLPCORE_GRADING's, as the instructor's nbgrader_config.py has it)."""
    assert exchange.exchange_root({"MLPCORE_EXCHANGE": str(tmp_path / "x")}, tmp_path / "root") == str(tmp_path / "x")
    assert exchange.exchange_root({}, tmp_path / "root") == str(tmp_path / "root" / "grading" / "exchange")
    assert exchange.exchange_root({"MLPCORE_GRADING": "grading/demo"}, tmp_path / "root") == str(
        tmp_path / "root" / "grading" / "demo" / "exchange")
    if Path(exchange.__file__).resolve().is_relative_to(ROOT):  # mlpcore from this checkout (make's editable install)
        assert exchange.exchange_root({}) == str(ROOT / "grading" / "exchange")

    from traitlets.config import Config

    c = Config()
    exchange.configure(c, {"MLPCORE_EXCHANGE": str(tmp_path / "x"), exchange.STUDENT_FOLDER_VARIABLE: str(tmp_path)})
    assert (c.CourseDirectory.course_id, c.Exchange.root, c.Exchange.assignment_dir) == ("mlpcore", str(tmp_path / "x"),
                                                                                          str(tmp_path))
    plain = Config()
    exchange.configure(plain, {})
    assert "assignment_dir" not in plain.Exchange  # only the students' server of make lab sets it


def test_install_writes_the_environments_config_and_never_over_another(tmp_path, capsys):
    path, written = exchange.install(tmp_path)
    assert written and path == tmp_path / "etc" / "jupyter" / "nbgrader_config.py"
    assert path.read_text(encoding="utf-8") == exchange.ENVIRONMENT_CONFIG
    assert exchange.install(tmp_path) == (path, True)  # again: the same file
    path.write_text("c.Exchange.root = '/srv/exchange'\n", encoding="utf-8")  # an administrator's
    assert exchange.install(tmp_path) == (path, False)
    assert path.read_text(encoding="utf-8") == "c.Exchange.root = '/srv/exchange'\n"
