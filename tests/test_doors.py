"""Every door leads to the same grader: ``nbgrader autograde``, formgrader's Autograde button (its
HTTP endpoint) and ``mlpcore grade`` give the red-team class of ``tests/test_trusted.py`` the same
scores and statuses; feedback from nbgrader's doors is mlpcore's page, without a hidden test; and
after mlpcore grade -> formgrader Autograde -> mlpcore grade the gradebook, ``grades.csv`` and
``nbgrader export`` agree.

Before (issue #21) the committed ``nbgrader_config.py`` ran nbgrader's plain Execute in the learner's
kernel: a blank notebook with a redefined ``check`` got 9/9 from ``nbgrader autograde`` and from
formgrader's button, and ``nbgrader generate_feedback`` wrote pages holding the hidden tests.
"""

import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mlpcore.autograde import sandbox
from mlpcore.autograde.grade import load_outcomes
from mlpcore.autograde.lab import lab_command
from mlpcore.autograde.sample_class import ASSIGNMENT, NOTEBOOK, fill, solution_answers
from mlpcore.cli import main
from tests.test_lab import _request, running_server
from tests.test_trusted import CHEATS, FLAGGED, HONEST

ROOT = Path(__file__).resolve().parent.parent
NBGRADER = Path(sys.executable).parent / "nbgrader"
# A blank notebook whose first cell silences check: what formgrader's button once gave 9/9.
BLANK_WITH_SILENT_CHECK = "check = lambda *args, **kwargs: None"

pytestmark = pytest.mark.xdist_group("doors")


def _course(folder: Path) -> Path:
    """A course root as a clone has it, with the one assignment."""
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    for part in ("solutions", "course"):
        shutil.copytree(ROOT / part / ASSIGNMENT, folder / part / ASSIGNMENT)
    return folder


def _submit_class(submitted: Path) -> list[str]:
    release = nbformat.read(ROOT / "course" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    answers = solution_answers(ROOT)
    notebooks = {student: fill(release, {**answers, "relu": relu}) for student, relu in {**CHEATS, **FLAGGED}.items()}
    notebooks.update({student: fill(release, {**answers, **changes}) for student, changes in HONEST.items()})
    blank = fill(release, {})
    blank.cells.insert(0, nbformat.v4.new_code_cell(BLANK_WITH_SILENT_CHECK))
    notebooks["blank"] = blank
    for student, notebook in notebooks.items():
        (submitted / student / ASSIGNMENT).mkdir(parents=True)
        nbformat.write(notebook, submitted / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    # A folder of links: to the instructor's solution, and to the course's configuration.
    linky = submitted / "linky" / ASSIGNMENT
    linky.mkdir(parents=True)
    root = submitted.parent.parent
    (linky / f"{NOTEBOOK}.ipynb").symlink_to(root / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    (linky / "peek.txt").symlink_to(root / "nbgrader_config.py")
    return sorted([*notebooks, "linky"])


def _environment(root: Path) -> dict:
    environment = {**os.environ, "PATH": os.pathsep.join([str(NBGRADER.parent), os.environ["PATH"]])}
    environment.pop("MLPCORE_GRADING", None)
    return environment


def _nbgrader(root: Path, *args) -> str:
    run = subprocess.run([str(NBGRADER), *args], cwd=root, env=_environment(root), capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, f"nbgrader {' '.join(args)}:\n{run.stdout[-2000:]}\n{run.stderr[-4000:]}"
    return run.stdout + run.stderr


def _verdicts(folder: Path) -> dict:
    return {outcome["student_id"]: (outcome["score"], outcome["status"]) for outcome in load_outcomes(folder, ASSIGNMENT)}


def _gradebook_totals(gradebook: Path) -> dict:
    with sqlite3.connect(gradebook) as database:
        rows = database.execute(
            "SELECT student.id, SUM(COALESCE(grade.manual_score, grade.auto_score, 0)) FROM grade "
            "JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
            "JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id "
            "JOIN student ON submitted_assignment.student_id = student.id GROUP BY student.id").fetchall()
    return {student: float(score) for student, score in rows}


def _flagged(gradebook: Path) -> set:
    with sqlite3.connect(gradebook) as database:
        rows = database.execute(
            "SELECT student.id FROM submitted_notebook "
            "JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id "
            "JOIN student ON submitted_assignment.student_id = student.id WHERE submitted_notebook.flagged").fetchall()
    return {student for (student,) in rows}


@pytest.fixture(scope="module")
def doors(tmp_path_factory):
    if sandbox.full_sandbox_problem():
        pytest.skip(f"the full sandbox cannot run here: {sandbox.full_sandbox_problem()}")
    base = tmp_path_factory.mktemp("doors")
    # Door 1: nbgrader's command line, from the course root.
    cli = _course(base / "cli")
    students = _submit_class(cli / "grading" / "submitted")
    _nbgrader(cli, "generate_assignment", ASSIGNMENT, "--force")
    _nbgrader(cli, "autograde", ASSIGNMENT, "--force")
    _nbgrader(cli, "generate_feedback", ASSIGNMENT, "--force")
    # Door 2: mlpcore grade, on the same submissions.
    assert main(["grade", ASSIGNMENT, "--course-root", str(cli), "--submissions", str(cli / "grading" / "submitted"),
                 "--output", str(base / "mlpcore"), "--workers", "2", "--no-progress"]) == 0
    # Door 3: formgrader's Autograde button, through its HTTP endpoint, in the instructor's server.
    button = _course(base / "button")
    _submit_class(button / "grading" / "submitted")
    argv, environment = lab_command(button, instructor=True)
    environment.pop("MLPCORE_GRADING", None)
    with running_server(argv, cwd=button, env=environment) as port:
        json.loads(_request(port, "/formgrader/api/assignments"))  # formgrader makes its gradebook
        _nbgrader(button, "generate_assignment", ASSIGNMENT, "--force")
        answers = {student: json.loads(_request(port, f"/formgrader/api/submission/{ASSIGNMENT}/{student}/autograde",
                                                 data=b""))
                   for student in students}
        feedback = json.loads(_request(port, f"/formgrader/api/assignment/{ASSIGNMENT}/blank/generate_feedback", data=b""))
        # The sequence: mlpcore grade, the button again for the blank cheat, mlpcore grade.
        assert main(["grade", ASSIGNMENT, "--course-root", str(button), "--no-progress", "--workers", "2"]) == 0
        after_grade = _gradebook_totals(button / "grading" / "gradebook.db")
        again = json.loads(_request(port, f"/formgrader/api/submission/{ASSIGNMENT}/blank/autograde", data=b""))
        after_button = _gradebook_totals(button / "grading" / "gradebook.db")
        assert main(["grade", ASSIGNMENT, "--course-root", str(button), "--no-progress", "--workers", "2"]) == 0
    _nbgrader(button, "export")
    return {"students": students, "cli": cli, "button": button, "mlpcore": base / "mlpcore", "answers": answers,
            "feedback": feedback, "again": again, "after_grade": after_grade, "after_button": after_button}


def test_the_three_doors_give_every_student_the_same_score_and_status(doors):
    by_cli = _verdicts(doors["cli"] / "grading")
    by_mlpcore = _verdicts(doors["mlpcore"])
    assert all(answer["success"] for answer in doors["answers"].values()), doors["answers"]
    assert set(by_cli) == set(by_mlpcore) == set(doors["students"])
    assert by_cli == by_mlpcore
    by_button = _verdicts(doors["button"] / "grading")  # after the sequence, mlpcore grade's; the same again
    assert by_button == by_mlpcore


def test_nbgraders_doors_score_the_cheats_zero_and_flag_them(doors):
    verdicts = _verdicts(doors["cli"] / "grading")
    assert verdicts["blank"] == (0.0, "tampered")
    for student in ("globals", "forger", "server", "code", "exec", "transformer"):
        assert verdicts[student][1] == "tampered", (student, verdicts[student])
    for student in HONEST:
        assert verdicts[student] == (9.0, "ok"), (student, verdicts[student])
    flagged = _flagged(doors["cli"] / "grading" / "gradebook.db")
    assert {"blank", "globals", "guard"} <= flagged and not flagged & set(HONEST), flagged


def test_links_in_a_submitted_folder_are_not_graded_by_any_door(doors):
    for door in (doors["cli"] / "grading", doors["mlpcore"], doors["button"] / "grading"):
        assert _verdicts(door)["linky"] == (0.0, "missing"), door
    # nbgrader copies a submitted folder following its links: the copies are gone before any kernel runs.
    assert not (doors["cli"] / "grading" / "autograded" / "linky" / ASSIGNMENT / "peek.txt").exists()


def test_feedback_from_nbgraders_doors_is_mlpcores_page_without_hidden_tests(doors):
    source = nbformat.read(ROOT / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    hidden = [line.strip() for cell in source.cells for block in cell.source.split("### BEGIN HIDDEN TESTS")[1:]
              for line in block.split("### END HIDDEN TESTS")[0].splitlines() if len(line.strip()) > 12]
    assert hidden, "the assignment has hidden tests to look for"
    assert doors["feedback"]["success"], doors["feedback"]
    pages = list((doors["cli"] / "grading" / "feedback").rglob("*.html"))
    pages += list((doors["button"] / "grading" / "feedback" / "blank").rglob("*.html"))
    assert len(pages) == len(doors["students"]) + 1
    for page in pages:
        text = page.read_text()
        assert "<h2>Exercises</h2>" in text, page  # mlpcore's page: the summary, then the exercises
        leaked = [line for line in hidden if line in text]
        assert not leaked, (page, leaked[:3])


def test_after_grade_button_grade_the_gradebook_the_tables_and_nbgraders_export_agree(doors):
    assert doors["again"]["success"], doors["again"]
    assert doors["after_button"]["blank"] == doors["after_grade"]["blank"] == 0.0
    grading = doors["button"] / "grading"
    with open(grading / "grades.csv", newline="") as handle:
        tables = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    with open(grading / "nbgrader-export.csv", newline="") as handle:
        exported = {row["student_id"]: float(row["raw_score"]) for row in csv.DictReader(handle)}
    assert tables == exported == _gradebook_totals(grading / "gradebook.db")
