"""The course in a real browser: a student in JupyterLab (as `make lab` starts it), the instructor in
formgrader (as `make formgrader` starts it), and the pages `mlpcore grade` writes."""

import csv

import pytest
from test_lab import TOKEN, running_server

from mlpcore.autograde.lab import lab_command

RIGHT = ("def parameter_shapes(layer_sizes):\n"
         "    return [((a, b), (b,)) for a, b in zip(layer_sizes[:-1], layer_sizes[1:])]\n")
WRONG = ("def count_parameters(layer_sizes):\n"  # forgets the biases
         "    return sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))\n")
SLOW = 240_000  # ms: a kernel starting and a notebook running on a busy two-core machine


def _replace_cell(page, starts_with: str, source: str) -> None:
    """Type ``source`` over the code cell whose text contains ``starts_with``, as a student would."""
    editor = page.locator(".jp-CodeCell", has_text=starts_with).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+A")  # the cell's whole text
    page.keyboard.insert_text(source)  # one edit: no auto-indentation of the pasted lines


def _run_all_cells(page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()


# The servers are set up before `page` (it comes after them in a test's arguments), so they are shut
# down after it: a screenshot of a failure shows the page, not a lost connection.
@pytest.fixture
def student_server(course_copy):
    """JupyterLab as `make lab` starts it; yields its port."""
    argv, environment = lab_command(course_copy)
    environment["JUPYTERLAB_SETTINGS_DIR"] = str(course_copy.parent / "lab-settings")
    with running_server(argv, cwd=course_copy, env=environment) as port:
        yield port


@pytest.fixture
def instructor_server(course_copy):
    """JupyterLab as `make formgrader` starts it; yields its port."""
    argv, environment = lab_command(course_copy, instructor=True)
    with running_server(argv, cwd=course_copy, env=environment) as port:
        yield port


def test_a_student_fills_two_exercises_reads_the_checks_and_validates(student_server, page):
    port = student_server
    page.goto(f"http://127.0.0.1:{port}/lab/tree/01-matrices/matrices.ipynb?token={TOKEN}")
    page.locator(".jp-CodeCell", has_text="def count_parameters(").wait_for(timeout=SLOW)
    _replace_cell(page, "def parameter_shapes(", RIGHT)
    _replace_cell(page, "def count_parameters(", WRONG)
    _run_all_cells(page)

    passed = page.locator(".jp-OutputArea-output", has_text="parameter_shapes: all 3 cases match the reference.")
    passed.wait_for(timeout=SLOW)
    failed = page.locator(".jp-OutputArea-output", has_text="count_parameters, case 1 of 3")
    failed.wait_for(timeout=SLOW)
    shown = failed.inner_text()
    assert "the answer should be 23, but yours is 18" in shown
    assert "Likely mistake: the biases are parameters too" in shown
    # A message, not a traceback of the grader: the mistake comes before the details, and no grader frame shows.
    assert shown.index("Likely mistake") < shown.index("the answer should be 23")
    assert "mlpcore/grading" not in shown and "Traceback" not in shown, shown

    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").first.click()  # what a student can open
    menu = page.locator(".lm-Menu").last.inner_text()
    page.keyboard.press("Escape")
    assert "Assignment List" in menu and "Formgrader" not in menu, menu

    page.locator(".jp-NotebookPanel-toolbar").get_by_text("Validate", exact=True).click()
    dialog = page.locator(".jp-Dialog", has_text="Validation")
    dialog.wait_for(timeout=SLOW)
    page.locator(".jp-Dialog", has_text="count_parameters").wait_for(timeout=SLOW)
    assert "Validation failed" in dialog.inner_text() or "failed" in dialog.inner_text().lower()
    assert "Likely mistake: the biases are parameters too" in dialog.inner_text()
    assert "mlpcore/grading" not in dialog.inner_text(), dialog.inner_text()


def test_the_instructor_finds_a_graded_students_score_in_formgrader(course_copy, instructor_server, page):
    port = instructor_server
    with open(course_copy / "grading" / "grades.csv", newline="") as handle:
        grades = {row["student_id"]: row for row in csv.DictReader(handle)}
    page.goto(f"http://127.0.0.1:{port}/formgrader/manage_students?token={TOKEN}")
    ada = page.locator("tbody tr", has_text="ada")
    ada.wait_for(timeout=SLOW)
    score, max_score = float(grades["ada"]["score"]), float(grades["ada"]["max_score"])
    assert score == max_score > 0 and f"{score:g} / {max_score:g}" in ada.inner_text(), ada.inner_text()
    page.goto(f"http://127.0.0.1:{port}/formgrader/manage_submissions/01-matrices?token={TOKEN}")
    fay = page.locator("tbody tr", has_text="fay")  # the submission that is not a notebook is listed too
    fay.wait_for(timeout=SLOW)
    assert "None, None" not in page.locator("tbody").inner_text()


def _math_and_figures(page) -> dict:
    return page.evaluate("""() => ({
        math: Array.from(document.querySelectorAll('math')).map(m => getComputedStyle(m).display),
        sums: Array.from(document.querySelectorAll('math[display=block] munderover'))
                        .map(f => f.getBoundingClientRect().height),
        images: Array.from(document.querySelectorAll('img')).map(i => i.complete ? i.naturalWidth : 0),
        text: document.body.innerText,
    })""")


def test_a_feedback_page_typesets_its_formulas_and_shows_its_figures(page, course_copy):
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto((course_copy / "grading" / "feedback" / "ada" / "01-matrices" / "matrices.html").as_uri())
    seen = _math_and_figures(page)
    # Chromium lays MathML out itself: a formula it typesets has the display "math" or "block math",
    # values that exist only where MathML is rendered (unrendered, it would be "inline").
    assert seen["math"] and set(seen["math"]) <= {"math", "block math"}, set(seen["math"])
    assert seen["sums"] and min(seen["sums"]) > 25  # a displayed sum stacks its limits: taller than a line
    assert "$$" not in seen["text"]
    assert seen["images"] and min(seen["images"]) > 0
    assert seen["text"].index("Exercises") < seen["text"].index("Your notebook as graded")  # the summary first
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone


def test_the_class_report_shows_its_figure_and_the_student_who_needs_attention(page, course_copy):
    page.goto((course_copy / "grading" / "report-01-matrices.html").as_uri())
    seen = _math_and_figures(page)
    assert seen["images"] and min(seen["images"]) > 600  # the report's figure, at its full width
    assert "Needs attention (1)" in seen["text"] and "fay" in seen["text"]


PHONE = {"width": 390, "height": 844}
FORGOT_BIASES = "the biases are parameters too"  # the mistake bea's count_parameters makes


def _phone_layout(page, path) -> dict:
    """How ``path`` lays out on a phone: the page's scrollable width, where the named mistake's text ends on
    the right, and each figure's natural and rendered width."""
    page.set_viewport_size(PHONE)
    page.goto(path.as_uri())
    mistake = page.get_by_text(FORGOT_BIASES).first
    return page.evaluate("""(mistake) => ({
        scroll_width: document.scrollingElement.scrollWidth, inner_width: window.innerWidth,
        mistake_right: mistake.getBoundingClientRect().right,
        figures: Array.from(document.querySelectorAll('img.figure'))
                      .map(i => [i.naturalWidth, i.getBoundingClientRect().width]),
        notebook_figures: Array.from(document.querySelectorAll('.notebook img'))
                               .map(i => [i.naturalWidth, i.getBoundingClientRect().width]),
    })""", mistake.element_handle())


@pytest.mark.parametrize("page_path", ["report-01-matrices.html", "feedback/bea/01-matrices/matrices.html"])
def test_a_phone_shows_the_named_mistake_without_sideways_scrolling(page, course_copy, page_path):
    """Does the report, and the feedback page of a student with a mistake, fit a phone 390 px wide: no
    sideways scrolling of the page, and the likely mistake in view without scrolling a table sideways?"""
    seen = _phone_layout(page, course_copy / "grading" / page_path)
    assert seen["scroll_width"] <= seen["inner_width"] + 1, seen
    assert seen["mistake_right"] <= PHONE["width"], seen


def test_the_report_draws_its_figure_for_a_phone(page, course_copy):
    """Is the report's figure drawn for a phone's width (not the desktop figure shrunk until its text is
    unreadable)? At most two image pixels per CSS pixel: sharp on a phone's screen, and its fonts, sized
    for this width (tests/test_report_feedback.py), stay legible."""
    seen = _phone_layout(page, course_copy / "grading" / "report-01-matrices.html")
    assert seen["figures"], seen
    for natural, rendered in seen["figures"]:
        assert rendered <= PHONE["width"] and natural / rendered <= 2.1, seen


def test_a_phone_shows_the_notebooks_figures_at_a_legible_size(page, course_copy):
    """Are the figures of bea's notebook (649 and 597 px wide) shrunk no more than 1.6 times on a phone, the
    wider ones scrolling sideways in their own box, while the page itself still never scrolls sideways?"""
    seen = _phone_layout(page, course_copy / "grading" / "feedback" / "bea" / "01-matrices" / "matrices.html")
    assert max(natural for natural, _ in seen["notebook_figures"]) > PHONE["width"], seen  # some are wider than a phone
    assert all(natural / rendered <= 1.6 for natural, rendered in seen["notebook_figures"]), seen
    assert seen["scroll_width"] <= seen["inner_width"] + 1, seen
