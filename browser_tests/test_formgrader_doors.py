"""The instructor clicks formgrader's Autograde and Generate Feedback buttons for an honest student and
a cheat (a blank notebook whose first cell silences ``check``). Before, one click gave the cheat 4/4
and a second wrote nbgrader's own page with the hidden tests; now both buttons run mlpcore's
pipeline (see mlpcore/autograde/pipeline.py): the cheat stays at 0 and flagged, and no page shows
a hidden-test line."""

import os
import shutil
import sqlite3
import subprocess
import sys

import nbformat
import pytest
from conftest import ROOT
from test_lab import TOKEN, running_server

from mlpcore.autograde import sandbox
from mlpcore.autograde.lab import lab_command
from mlpcore.autograde.sample_class import fill, solution_answers

ASSIGNMENT, NOTEBOOK = "01-matrices", "matrices"
SLOW = 240_000  # ms: a kernel starting and a notebook running on a busy two-core machine


@pytest.fixture(scope="module")
def button_course(tmp_path_factory):
    if sandbox.full_sandbox_problem():
        pytest.skip(f"the full sandbox cannot run here: {sandbox.full_sandbox_problem()}")
    root = tmp_path_factory.mktemp("buttons") / "course-root"
    root.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", root)
    for folder in ("solutions", "course"):
        shutil.copytree(ROOT / folder / ASSIGNMENT, root / folder / ASSIGNMENT)
    release = nbformat.read(root / "course" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    cheat = fill(release, {})
    cheat.cells.insert(0, nbformat.v4.new_code_cell("check = lambda *args, **kwargs: None"))
    for student, notebook in (("ada", fill(release, solution_answers(root, ASSIGNMENT, NOTEBOOK))), ("mal", cheat)):
        (root / "grading" / "submitted" / student / ASSIGNMENT).mkdir(parents=True)
        nbformat.write(notebook, root / "grading" / "submitted" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    environment = {**os.environ, "PATH": os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]])}
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "nbgrader"), "generate_assignment", ASSIGNMENT,
                    "--force"], cwd=root, env=environment, check=True, capture_output=True, timeout=300)
    return root


@pytest.fixture
def instructor(button_course):
    argv, environment = lab_command(button_course, instructor=True)
    with running_server(argv, cwd=button_course, env=environment) as port:
        yield port


def _click(page, student: str, column: str, success: str) -> None:
    """Click ``student``'s button in ``column`` of Manage Submissions and close the dialog that says ``success``."""
    page.locator("tbody tr", has_text=student).locator(f"td.{column} a").click()
    dialog = page.locator(".modal-dialog", has_text=success)
    dialog.wait_for(timeout=SLOW)
    dialog.get_by_role("button", name="OK").click()
    dialog.wait_for(state="hidden", timeout=SLOW)


def _hidden_test_lines() -> list[str]:
    source = nbformat.read(ROOT / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    return [line.strip() for cell in source.cells for block in cell.source.split("### BEGIN HIDDEN TESTS")[1:]
            for line in block.split("### END HIDDEN TESTS")[0].splitlines() if len(line.strip()) > 12]


def test_the_buttons_keep_the_cheat_at_zero_flagged_and_show_no_hidden_test(button_course, instructor, page):
    port = instructor
    page.goto(f"http://127.0.0.1:{port}/login?token={TOKEN}")  # formgrader's pages ask the API with the cookie
    page.goto(f"http://127.0.0.1:{port}/formgrader/manage_submissions/{ASSIGNMENT}")
    page.locator("tbody tr", has_text="mal").wait_for(timeout=SLOW)
    for student in ("ada", "mal"):
        _click(page, student, "autograde", f"Successfully autograded '{ASSIGNMENT}' for student '{student}'")
    page.reload()
    page.locator("tbody tr", has_text="mal").wait_for(timeout=SLOW)
    assert "0 / 4" in page.locator("tbody tr", has_text="mal").inner_text()
    assert "4 / 4" in page.locator("tbody tr", has_text="ada").inner_text()
    with sqlite3.connect(button_course / "grading" / "gradebook.db") as database:
        flagged = {student for (student,) in database.execute(
            "SELECT submitted_assignment.student_id FROM submitted_notebook JOIN submitted_assignment "
            "ON submitted_notebook.assignment_id = submitted_assignment.id WHERE submitted_notebook.flagged")}
    assert flagged == {"mal"}

    for student in ("ada", "mal"):
        _click(page, student, "generate-feedback", "Success")
    hidden = _hidden_test_lines()
    assert hidden
    for student, expected in (("ada", "4 / 4"), ("mal", "0 / 4")):
        page.goto((button_course / "grading" / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html").as_uri())
        text = page.locator("body").inner_text()
        assert expected in text and "Exercises" in text, text[:500]  # mlpcore's page: the summary first
        assert not [line for line in hidden if line in page.content()], student
    assert "tampered" in text  # mal's page says why
