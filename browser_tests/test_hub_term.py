"""A whole term's loop through the course's JupyterHub (as ``make hub`` sets it up), in Chromium.

The instructor logs in at the hub, generates and releases 02-forward in formgrader (the course's hub service).
Two students log in, fetch it from the Assignment List, answer (one with the solution, one with a blank
notebook that silences ``check``: a cheat), press Validate, and submit. The instructor collects,
autogrades each student, generates and releases the feedback in formgrader. Each student fetches
their feedback from the Assignment List and reads their own page, and cannot reach the other's. The
cheat stays at 0, flagged for the instructor with the reason.

The answers are written through each student's own server (its contents API, as a save in the
editor writes them): typing a dozen exercises into the editor would test CodeMirror, not the course.
Skipped, saying why, where the hub cannot be started (not root, ``make hub`` not installed).
"""

import json

import nbformat
import pytest
import requests
from conftest import ROOT, SCREENSHOTS

from mlpcore.autograde.hub import accounts
from mlpcore.autograde.hub_session import missing, running_hub
from mlpcore.autograde.sample_class import ASSIGNMENT, NOTEBOOK, fill, solution_answers

SLOW = 300_000  # ms: kernels starting and notebooks running on a busy two-core machine
NAMES = accounts("mlpw")
INSTRUCTOR, (HONEST, CHEAT) = NAMES["instructor"], NAMES["students"]

pytestmark = pytest.mark.skipif(missing() is not None, reason=str(missing()))


@pytest.fixture(scope="module")
def hub():
    with running_hub(NAMES) as client:
        yield client


@pytest.fixture
def pages(browser, request):
    """A browser context (its own cookies) per account, opened on demand; screenshots when the test fails."""
    opened = {}

    def page_of(account):
        if account not in opened:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            opened[account] = context.new_page()
            opened[account].set_default_timeout(SLOW)
        return opened[account]

    yield page_of
    report = getattr(request.node, "report_call", None)
    for account, page in opened.items():
        if report is not None and report.failed:
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}-{account}.png"))
        page.context.close()


def _log_in(page, hub, account: str) -> None:
    page.goto(f"{hub.url}/hub/login")
    page.locator("#username_input").fill(account)
    page.locator("#password_input").fill(hub.passwords[account])
    page.locator("#login_submit").click()
    page.wait_for_url(f"**/user/{account}/lab**", timeout=SLOW)  # the hub started the account's JupyterLab


def _ok(page, text: str) -> None:
    """Formgrader's dialog that says ``text``, closed."""
    dialog = page.locator(".modal-dialog", has_text=text)
    dialog.wait_for(timeout=SLOW)
    dialog.get_by_role("button", name="OK").click()
    dialog.wait_for(state="hidden")


def _formgrader(page, hub, path: str) -> None:
    page.goto(f"{hub.url}/services/mlpcore/formgrader/{path}")  # through the hub's login (OAuth)


def _assignment_list(page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Assignment List").first.click()


def _answers() -> dict:
    release = nbformat.read(ROOT / "course" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    cheat = fill(release, {})
    cheat.cells.insert(0, nbformat.v4.new_code_cell("check = lambda *args, **kwargs: None"))
    return {HONEST: fill(release, solution_answers(ROOT)), CHEAT: cheat}


def test_a_term_through_the_hub(hub, pages):
    teacher = pages(INSTRUCTOR)
    _log_in(teacher, hub, INSTRUCTOR)
    _formgrader(teacher, hub, "manage_assignments")
    # Generate first: it makes the student version and records the assignment in the gradebook,
    # which Autograde needs.
    teacher.locator("tbody tr", has_text=ASSIGNMENT).locator("td.assign a").click()
    _ok(teacher, f"Successfully created the student version of '{ASSIGNMENT}'")
    teacher.locator("tbody tr", has_text=ASSIGNMENT).locator("td.release a").click()
    _ok(teacher, f"Successfully released '{ASSIGNMENT}'")

    for student, notebook in _answers().items():
        page = pages(student)
        _log_in(page, hub, student)
        _assignment_list(page)
        page.locator("#released_assignments_list .list_item", has_text=ASSIGNMENT).get_by_role(
            "button", name="Fetch").click()
        page.locator("#fetched_assignments_list .list_item", has_text=ASSIGNMENT).wait_for()
        saved = requests.put(f"{hub.url}/user/{student}/api/contents/{ASSIGNMENT}/{NOTEBOOK}.ipynb",
                             json={"type": "notebook", "format": "json", "content": json.loads(nbformat.writes(notebook))},
                             headers=hub.token(student), timeout=120)
        assert saved.status_code == 200, saved.text[:300]
        page.goto(f"{hub.url}/user/{student}/lab/tree/{ASSIGNMENT}/{NOTEBOOK}.ipynb")
        page.locator(".jp-NotebookPanel-toolbar").get_by_text("Validate", exact=True).click()
        dialog = page.locator(".jp-Dialog", has_text="Validation")
        dialog.wait_for()
        verdict = dialog.inner_text()
        assert ("Success" in verdict) == (student == HONEST), verdict[:1000]
        page.keyboard.press("Escape")
        _assignment_list(page)
        fetched = page.locator("#fetched_assignments_list .list_item", has_text=ASSIGNMENT)
        fetched.get_by_role("button", name="Submit").click()
        page.locator("#submitted_assignments_list .list_item", has_text=ASSIGNMENT).wait_for()

    _formgrader(teacher, hub, "manage_assignments")
    teacher.locator("tbody tr", has_text=ASSIGNMENT).locator("td.collect a").click()
    _ok(teacher, f"Successfully collected submissions of '{ASSIGNMENT}'")
    _formgrader(teacher, hub, f"manage_submissions/{ASSIGNMENT}")
    for student in (HONEST, CHEAT):
        teacher.locator("tbody tr", has_text=student).locator("td.autograde a").click()
        _ok(teacher, f"Successfully autograded '{ASSIGNMENT}' for student '{student}'")
    graded = teacher.request.get(f"{hub.url}/services/mlpcore/formgrader/api/submitted_notebooks/{ASSIGNMENT}/{NOTEBOOK}")
    by_student = {row["student"]: row for row in graded.json()}
    assert by_student[HONEST]["score"] == by_student[HONEST]["max_score"] > 0
    assert by_student[CHEAT]["score"] == 0 and by_student[CHEAT]["flagged"]  # the status, for the instructor's eye

    _formgrader(teacher, hub, "manage_assignments")
    row = teacher.locator("tbody tr", has_text=ASSIGNMENT)
    row.locator("td.generate-feedback a").click()
    _ok(teacher, "Success")
    row.locator("td.release-feedback a").click()
    _ok(teacher, "Success")

    pages_of = {}
    for student in (HONEST, CHEAT):
        page = pages(student)
        page.goto(f"{hub.url}/user/{student}/lab")
        _assignment_list(page)
        submitted = page.locator("#submitted_assignments_list .list_item", has_text=ASSIGNMENT)
        submitted.get_by_role("button", name="Fetch Feedback").click()
        submitted.get_by_text("view feedback").first.wait_for()
        listing = requests.get(f"{hub.url}/user/{student}/api/contents/{ASSIGNMENT}/feedback",
                               headers=hub.token(student), timeout=60).json()
        (stamp,) = [entry["name"] for entry in listing["content"]]
        pages_of[student] = f"/user/{student}/files/{ASSIGNMENT}/feedback/{stamp}/{NOTEBOOK}.html"
        page.goto(f"{hub.url}{pages_of[student]}")
        text = page.locator("body").inner_text()
        assert student in text and "Exercises" in text, text[:500]
    assert "tampered" in pages(CHEAT).locator("body").inner_text()  # the cheat's page says why
    # Nobody reaches another's feedback: the other's server turns the student away.
    reply = pages(CHEAT).request.get(f"{hub.url}{pages_of[HONEST]}", max_redirects=0)
    assert reply.status in (302, 403, 404)
