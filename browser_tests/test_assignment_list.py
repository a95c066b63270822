"""nbgrader's Assignment List in the students' JupyterLab (as `make lab` starts it), in a real browser:
the instructor releases an assignment, the student fetches it from the list, opens its notebook from
the list, answers an exercise, saves, and submits; the instructor collects the notebook as edited."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from test_browser import SLOW
from test_lab import TOKEN, running_server

from mlpcore.autograde.lab import lab_command

ROOT = Path(__file__).resolve().parent.parent
NBGRADER = Path(sys.executable).parent / "nbgrader"
ASSIGNMENT, NOTEBOOK = "01-matrices", "matrices"
ANSWER = "def parameter_shapes(layer_sizes):\n    return 'answered in the Assignment List'\n"


def _instructor(argv, root, exchange) -> str:
    """An instructor's nbgrader command, as the README gives it, in the course root."""
    done = subprocess.run([str(NBGRADER), *argv], cwd=root, env={**os.environ, "MLPCORE_EXCHANGE": str(exchange)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.fixture
def released(tmp_path):
    """A course root whose instructor released the assignment into an exchange of its own, and whose
    students' folder (course/) does not hold it yet: (root, exchange)."""
    root, exchange = tmp_path / "course-root", tmp_path / "exchange"
    root.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", root)
    for folder in ("solutions", "course"):
        shutil.copytree(ROOT / folder / ASSIGNMENT, root / folder / ASSIGNMENT)
    _instructor(["release_assignment", ASSIGNMENT], root, exchange)
    shutil.rmtree(root / "course" / ASSIGNMENT)
    return root, exchange


@pytest.fixture
def student_lab(released, tmp_path):
    """The students' JupyterLab as `make lab` starts it on that course; yields its port."""
    root, exchange = released
    argv, environment = lab_command(root, exchange=exchange)
    settings = tmp_path / "lab-settings"  # every cell drawn, so that cells can be found by their text
    (settings / "@jupyterlab" / "notebook-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    environment["JUPYTERLAB_SETTINGS_DIR"] = str(settings)
    # A workspace of its own: the file browser starts at course/, wherever another session left it.
    environment["JUPYTERLAB_WORKSPACES_DIR"] = str(tmp_path / "lab-workspaces")
    with running_server(argv, cwd=root, env=environment) as port:
        yield port


def test_a_student_fetches_edits_and_submits_from_the_assignment_list(released, student_lab, page):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    root, exchange = released
    page.goto(f"http://127.0.0.1:{student_lab}/lab?token={TOKEN}")
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Assignment List").first.click()

    page.locator("#released_assignments_list .list_item", has_text=ASSIGNMENT).get_by_role("button", name="Fetch").click()
    fetched = page.locator("#fetched_assignments_list .list_item", has_text=ASSIGNMENT)
    fetched.wait_for(timeout=SLOW)
    # Fetched where the file browser shows it (course/), not into the server's working folder.
    page.locator(".jp-DirListing-item", has_text=ASSIGNMENT).wait_for(timeout=SLOW)
    assert (root / "course" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").is_file() and not (root / ASSIGNMENT).exists()

    page.locator("#released_assignments_list_placeholder").wait_for(timeout=SLOW)  # the list has been redrawn
    link = page.locator(f"#nbgrader-mlpcore-{ASSIGNMENT} a", has_text=NOTEBOOK)
    for _ in range(3):  # the assignment's row unfolds to its notebooks (a redraw folds it again)
        fetched.locator("a.assignment-notebooks-link").click()
        try:
            link.wait_for(state="visible", timeout=10_000)
            break
        except PlaywrightTimeout:
            continue
    link.click()  # the list's link to the notebook opens it
    page.locator(".lm-TabBar-tab", has_text=f"{NOTEBOOK}.ipynb").wait_for(timeout=SLOW)
    editor = page.locator(".jp-CodeCell", has_text="def parameter_shapes(").locator(".cm-content")
    editor.wait_for(timeout=SLOW)
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(ANSWER)
    page.keyboard.press("Control+S")
    saved = root / "course" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    for _ in range(120):
        if "answered in the Assignment List" in saved.read_text(encoding="utf-8"):
            break
        time.sleep(0.5)
    else:
        pytest.fail("the notebook was not saved within a minute")

    page.locator(".lm-TabBar-tab", has_text="Assignments").click()
    fetched.get_by_role("button", name="Submit").click()
    page.locator("#submitted_assignments_list .list_item", has_text=ASSIGNMENT).wait_for(timeout=SLOW)

    _instructor(["collect", ASSIGNMENT], root, exchange)
    (collected,) = (root / "grading" / "submitted").glob(f"*/{ASSIGNMENT}/{NOTEBOOK}.ipynb")
    answers = [cell.source for cell in nbformat.read(collected, as_version=4).cells
               if cell.metadata.get("nbgrader", {}).get("grade_id") and "def parameter_shapes(" in cell.source]
    assert answers == [ANSWER.rstrip("\n")] or answers == [ANSWER], answers
