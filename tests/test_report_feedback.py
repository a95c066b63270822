"""The class report and the per-student feedback pages, on a tiny class built here.

The class: assignment ``02-demo`` with one notebook ``demo`` and two exercises, ``add`` (2 points)
and ``mul`` (1 point); four students:

* ann: everything passed (ok);
* bob: ``add`` failed with a named mistake, ``mul`` ran over its time limit (timeout);
* cat: the notebook was not valid JSON, nothing graded (invalid, no autograded notebook);
* dan: submitted under another name, with a ``<script>`` in the file name (renamed); ``mul`` failed.
"""

from __future__ import annotations

import base64
import html
import json
import re

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from mlpcore.autograde.feedback import write_feedback
from mlpcore.autograde.report import (PHONE_FIGURE_SCREEN, PHONE_WIDTH, draw_figure, draw_phone_figure,
                                      exercise_summaries, write_report)

ASSIGNMENT, NOTEBOOK = "02-demo", "demo"
VISIBLE_TEST = "assert add(1, 2) == 3, 'add: 1 + 2 should be 3'"
HIDDEN_TEST = "assert add(-7, 1000) == secret_expected_993"
TRACEBACK_FRAME = "----> 3 " + HIDDEN_TEST  # what nbgrader's traceback would quote
SCRIPT = "<script>alert('pwned')</script>"
MISTAKE = "forgot to add the bias b"
INVALID_REASON = "demo.ipynb is not valid JSON (line 3, column 5: Unterminated string starting at)"
TIMEOUT_REASON = "mul_tests ran over the cell time limit of 5 s"
# a one-pixel PNG: a figure the student's code drew
PIXEL_PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


# ---------------------------------------------------------------------------------------------- the class


def nbgrader(grade_id: str, *, grade=False, solution=False, points=None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": not solution, "solution": solution, "schema_version": 3}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def course_cells(hidden: bool) -> list:
    """The assignment's cells; ``hidden``: the test cells keep their hidden tests (source / autograded)."""
    add_tests = VISIBLE_TEST + (f"\n### BEGIN HIDDEN TESTS\n{HIDDEN_TEST}\n### END HIDDEN TESTS" if hidden else "")
    mul_tests = "assert mul(2, 3) == 6" + ("\n### BEGIN HIDDEN TESTS\nassert mul(0, 9) == 0\n### END HIDDEN TESTS"
                                           if hidden else "")
    return [
        new_markdown_cell("# Demo\n\nWrite `add` and **mul**."),
        new_code_cell("def add(a, b):\n    raise NotImplementedError", metadata=nbgrader("add", solution=True)),
        new_code_cell(add_tests, metadata=nbgrader("add_tests", grade=True, points=2)),
        new_code_cell("def mul(a, b):\n    raise NotImplementedError", metadata=nbgrader("mul", solution=True)),
        new_code_cell(mul_tests, metadata=nbgrader("mul_tests", grade=True, points=1)),
    ]


def error(ename: str, evalue: str):
    return new_output("error", ename=ename, evalue=evalue,
                      traceback=["Traceback (most recent call last)", TRACEBACK_FRAME, f"{ename}: {evalue}"])


def bob_notebook():
    """Bob's autograded notebook: a wrong ``add``, a ``mul`` that never ends, some mischief in his cells."""
    notebook = new_notebook(cells=course_cells(hidden=True))
    notebook.cells.insert(1, new_markdown_cell(f"My notes {SCRIPT}"))
    add, add_tests, mul, mul_tests = notebook.cells[2:6]
    add.source = f"def add(a, b):\n    return a * b  # {SCRIPT}"
    add.outputs = [new_output("stream", name="stdout", text=f"debug {SCRIPT}\n"),
                   new_output("display_data", data={"image/png": PIXEL_PNG, "text/plain": "<Figure>"}),
                   new_output("display_data", data={"image/png": f'"><img src=x onerror=alert(1)>{SCRIPT}',
                                                    "text/plain": "<Figure size 10x10>"})]
    add_tests.outputs = [
        # a warning raised by the hidden test quotes its line on stderr
        new_output("stream", name="stderr", text=f"/tmp/ipykernel/1.py:3: RuntimeWarning: overflow\n  {HIDDEN_TEST}\n"),
        new_output("stream", name="stdout", text="### BEGIN HIDDEN TESTS leaked into an output\n"),
        error("AssertionError", f"add: 1 + 2 should be 3\nLikely mistake: {MISTAKE}."),
    ]
    mul.source = "def mul(a, b):\n    while True:\n        pass"
    mul_tests.outputs = [error("CellTimeoutError", "")]
    return notebook


def ann_notebook():
    notebook = new_notebook(cells=course_cells(hidden=True))
    notebook.cells[1].source = "def add(a, b):\n    return a + b"
    notebook.cells[3].source = "def mul(a, b):\n    return a * b"
    return notebook


def cell(grade_id, score, max_score, outcome, message="", mistake=None) -> dict:
    return {"grade_id": grade_id, "exercise": grade_id.removesuffix("_tests"), "score": score,
            "max_score": max_score, "outcome": outcome, "message": message, "mistake": mistake}


def outcome(student, status, reasons, add, mul) -> dict:
    """An outcome as :mod:`mlpcore.autograde.outcome` saves it, for notebook ``demo``."""
    cells = [add, mul]
    score = sum(c["score"] for c in cells)
    problems = {status: reasons} if status != "ok" else {}
    return {
        "student_id": student, "assignment": ASSIGNMENT, "status": status,
        "reasons": [f"{NOTEBOOK}: {reason}" for reason in reasons], "score": score, "max_score": 3.0,
        "timestamp": None, "seconds": 1.0, "fingerprint": "x",
        "notebooks": {NOTEBOOK: {"status": status, "problems": problems, "found_as": None, "score": score,
                                 "max_score": 3.0, "cells": cells}},
        "grades": {}, "comments": {},
    }


def class_outcomes() -> list[dict]:
    return [
        outcome("ann", "ok", [], cell("add_tests", 2.0, 2.0, "passed"), cell("mul_tests", 1.0, 1.0, "passed")),
        outcome("bob", "timeout", [TIMEOUT_REASON],
                cell("add_tests", 0.0, 2.0, "failed", f"AssertionError: add: 1 + 2 should be 3\n"
                                                      f"Likely mistake: {MISTAKE}.", MISTAKE),
                cell("mul_tests", 0.0, 1.0, "timeout", "the cell ran over its time limit and was interrupted")),
        outcome("cat", "invalid", [INVALID_REASON], cell("add_tests", 0.0, 2.0, "not_graded"),
                cell("mul_tests", 0.0, 1.0, "not_graded")),
        outcome("dan", "renamed", [f"demo.ipynb was submitted as {SCRIPT}.ipynb"],
                cell("add_tests", 2.0, 2.0, "passed"),
                cell("mul_tests", 0.0, 1.0, "failed", f"AssertionError: mul\nLikely mistake: {MISTAKE}.", MISTAKE)),
    ]


@pytest.fixture
def graded_class(tmp_path):
    """``(root, output, outcomes)``: a course root with release and source notebooks, and graded output."""
    root, output = tmp_path / "root", tmp_path / "out"
    for folder, hidden in (("course", False), ("solutions", True)):
        path = root / folder / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(new_notebook(cells=course_cells(hidden)), path)
    outcomes = class_outcomes()
    for result in outcomes:
        path = output / "outcomes" / ASSIGNMENT / f"{result['student_id']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result))
    for student, notebook in (("ann", ann_notebook()), ("bob", bob_notebook()), ("dan", ann_notebook())):
        path = output / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, path)
    return root, output, outcomes


def section(page: str, heading: str) -> str:
    """The part of ``page`` from the ``<h2>`` that starts with ``heading`` to the next ``<h2>``."""
    start = page.index(f"<h2>{heading}")
    end = page.find("<h2>", start + 1)
    return page[start:end if end > 0 else len(page)]


# ---------------------------------------------------------------------------------------------- report


def test_report_writes_figure_and_page_with_pass_rates_and_attention(graded_class):
    _, output, outcomes = graded_class
    written = write_report(outcomes, output, ASSIGNMENT)

    png = (output / f"report-{ASSIGNMENT}.png").read_bytes()
    assert written["png"] == output / f"report-{ASSIGNMENT}.png" and png.startswith(b"\x89PNG")
    page = written["html"].read_text(encoding="utf-8")
    assert written["html"] == output / f"report-{ASSIGNMENT}.html"
    assert base64.b64encode(png).decode() in page  # the figure is embedded: the page stands alone
    assert "<link" not in page and "<script" not in page and "src=\"http" not in page

    # needs attention: every student not ok, most serious status first, with the reasons
    assert written["needs_attention"] == ["cat", "bob", "dan"]
    attention = section(page, "Needs attention")
    positions = [attention.index(f"<td>{student}</td>") for student in ("cat", "bob", "dan")]
    assert positions == sorted(positions) and "<td>ann</td>" not in attention
    assert html.escape(INVALID_REASON) in attention and TIMEOUT_REASON in attention

    # per exercise, expected numbers computed from the outcomes themselves
    exercises = section(page, "Per exercise")
    for grade_id, summary in zip(("add_tests", "mul_tests"), written["exercises"]):
        cells = [c for result in outcomes for c in result["notebooks"][NOTEBOOK]["cells"] if c["grade_id"] == grade_id]
        passed = sum(c["outcome"] == "passed" for c in cells)
        assert summary["grade_id"] == grade_id and summary["pass_rate"] == pytest.approx(passed / len(cells))
        assert f"{100 * passed / len(cells):.0f}% ({passed}/{len(cells)})" in exercises
    assert [s["pass_rate"] for s in written["exercises"]] == [0.5, 0.25]
    assert f"{MISTAKE} <span class=\"muted\">(1x)</span>" in exercises
    # other outcomes in words, never as codes
    assert "ran over the time limit: 1" in exercises and "not graded: 1" in exercises
    assert "not_graded" not in exercises and "timeout 1" not in exercises

    # summary and gradebook: one student of four has full marks; everyone is listed
    assert "1 of 4" in page
    gradebook = section(page, "Gradebook")
    assert all(f"<td>{student}</td>" in gradebook for student in ("ann", "bob", "cat", "dan"))


def _texts_as_shown(figure, width_px: float) -> list[tuple[str, float, object]]:
    """``(text, size in CSS px, extent in figure pixels)`` of every visible text of ``figure`` where it is
    shown ``width_px`` CSS pixels wide."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)  # lays the figure out (constrained layout) as savefig would
    px_per_point = width_px / (figure.get_figwidth() * 72)
    ticks = [(tick, axis) for ax in figure.axes for axis in (ax.xaxis, ax.yaxis) for tick in axis.get_major_ticks()]
    tick_labels = {id(tick.label1) for tick, _ in ticks}
    drawn = [text for text in figure.findobj(Text) if id(text) not in tick_labels] + [
        tick.label1 for tick, axis in ticks  # a tick outside the axis's limits is not drawn
        if min(axis.get_view_interval()) - 1e-9 <= tick.get_loc() <= max(axis.get_view_interval()) + 1e-9]
    return [(text.get_text(), text.get_fontsize() * px_per_point, text.get_window_extent(renderer))
            for text in drawn if text.get_visible() and text.get_text().strip()]


def test_report_gives_a_phone_a_figure_whose_text_a_phone_can_read(graded_class):
    """Does the page show a phone a figure of its own, whose every text is 11 CSS px or more where it is
    360 px wide, inside the figure and clear of every other text? (The desktop figure, shown 360 px wide,
    sets its text in 4 px.)"""
    _, output, outcomes = graded_class
    exercises = exercise_summaries(outcomes)
    long_mistake = "exp overflows without the max shift: subtract each row's maximum first " * 3
    exercises[1]["mistakes"] = [[long_mistake, 2]]  # cut to three lines under its bar
    exercises.append({**exercises[0], "label": "a-long-notebook-name: count_parameters", "passed": 120,
                      "students": 120, "pass_rate": 1.0, "mistakes": []})  # the longest name and pass rate
    figure = draw_phone_figure(outcomes, exercises)
    shown = _texts_as_shown(figure, PHONE_WIDTH)
    assert {"add", "mul"} <= {text for text, _, _ in shown}  # each exercise's name on a line of its own
    mistakes = [" ".join(text.split()) for text, _, _ in shown if text.startswith("most common mistake")]
    assert len(mistakes) == 2 and MISTAKE in mistakes[0] and mistakes[1].endswith("\u2026")  # wrapped, the long one cut
    small = [(text, size) for text, size, _ in shown if size < 11]
    assert not small, small
    whole = figure.bbox
    for index, (text, _, box) in enumerate(shown):
        assert whole.x0 <= box.x0 and box.x1 <= whole.x1 + 1 and whole.y0 <= box.y0 and box.y1 <= whole.y1 + 1, text
        overlapping = [other for other, _, other_box in shown[index + 1:] if box.overlaps(other_box)]
        assert not overlapping, (text, overlapping)
    # the desktop figure, where a phone would shrink it to 360 px, for comparison
    assert min(size for _, size, _ in _texts_as_shown(draw_figure(outcomes, exercises, ASSIGNMENT), PHONE_WIDTH)) < 5

    page = write_report(outcomes, output, ASSIGNMENT)["html"].read_text(encoding="utf-8")
    assert f'<source media="(max-width: {PHONE_FIGURE_SCREEN}px)" srcset="data:image/png;base64,' in page


def test_report_escapes_student_text(graded_class):
    _, output, outcomes = graded_class
    page = write_report(outcomes, output, ASSIGNMENT)["html"].read_text(encoding="utf-8")
    assert SCRIPT not in page
    assert html.escape(SCRIPT) in page


def test_report_of_an_empty_class(tmp_path):
    written = write_report([], tmp_path, ASSIGNMENT)
    assert written["png"].read_bytes().startswith(b"\x89PNG")
    assert "Nothing was graded" in written["html"].read_text(encoding="utf-8")
    assert written["needs_attention"] == [] and written["exercises"] == []


def test_report_of_one_student_never_graded(tmp_path):
    cat = class_outcomes()[2]
    written = write_report([cat], tmp_path, ASSIGNMENT)
    assert written["needs_attention"] == ["cat"]
    assert [s["pass_rate"] for s in written["exercises"]] == [0.0, 0.0]
    assert written["exercises"][0]["outcomes"] == {"not_graded": 1}
    assert "0 of 1" in written["html"].read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------- feedback


def feedback_page(output, student) -> str:
    return (output / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html").read_text(encoding="utf-8")


def shown_text(page: str) -> str:
    """What a reader sees of ``page``: its body's text without the markup (highlighted code is split into
    spans; the style sheet names Pygments' token kinds, "Generic.Traceback" among them)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.split("<body>", 1)[1]))


def test_feedback_pages_for_everyone(graded_class):
    root, output, _ = graded_class
    written = write_feedback(root, output, ASSIGNMENT)
    assert sorted(written) == sorted(output / "feedback" / s / ASSIGNMENT / f"{NOTEBOOK}.html"
                                     for s in ("ann", "bob", "cat", "dan"))


def test_feedback_shows_visible_tests_and_mistakes_but_never_hidden_tests(graded_class):
    root, output, _ = graded_class
    write_feedback(root, output, ASSIGNMENT, students=["bob"])
    page = feedback_page(output, "bob")

    assert VISIBLE_TEST in shown_text(page) and "assert mul(2, 3) == 6" in shown_text(page)
    exercises = section(page, "Exercises")  # the named mistake is highlighted in the table, not only in outputs
    assert f'<span class="mistake"><strong>Likely mistake:</strong> {MISTAKE}</span>' in exercises
    assert "AssertionError: add: 1 + 2 should be 3" in shown_text(page)  # ename: evalue of the failing check
    assert "ran over the time limit" in page and TIMEOUT_REASON in page
    for secret in (HIDDEN_TEST, "secret_expected_993", "mul(0, 9)", "HIDDEN TESTS", "Traceback", "---->"):
        assert secret not in shown_text(page) and secret not in page.split("<body>", 1)[1], secret
    assert "a line of a hidden test was removed" in page  # the warning that quoted it is still there, redacted


def test_feedback_escapes_student_text_and_embeds_only_real_images(graded_class):
    root, output, _ = graded_class
    write_feedback(root, output, ASSIGNMENT, students=["bob"])
    page = feedback_page(output, "bob")
    assert SCRIPT not in page and "<script" not in page
    assert shown_text(page).count(SCRIPT) >= 3  # markdown, code and output of bob's cells, shown as text
    assert f"data:image/png;base64,{PIXEL_PNG}" in page
    assert "onerror" not in page  # the fake image is not embedded: its plain-text form is shown
    assert len(re.findall(r"<img ", page)) == 1


def test_feedback_for_an_invalid_submission(graded_class):
    root, output, _ = graded_class
    assert write_feedback(root, output, ASSIGNMENT, students=["cat"]) == [
        output / "feedback" / "cat" / ASSIGNMENT / f"{NOTEBOOK}.html"]
    page = feedback_page(output, "cat")
    assert html.escape(INVALID_REASON) in page and "invalid" in page
    assert "0 / 2" in page and "0 / 1" in page and "not graded" in page
    assert not (output / "feedback" / "bob").exists()  # only the listed students


def test_feedback_without_release_notebook_hides_all_test_code(graded_class):
    root, output, _ = graded_class
    (root / "course" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").unlink()
    (root / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").unlink()
    write_feedback(root, output, ASSIGNMENT, students=["bob", "ann"])
    for student in ("bob", "ann"):
        page = feedback_page(output, student)
        assert "(test code not shown)" in shown_text(page)
        assert HIDDEN_TEST not in shown_text(page) and "Traceback" not in shown_text(page)
        assert VISIBLE_TEST not in shown_text(page)


def test_feedback_for_unknown_students_writes_nothing(graded_class):
    root, output, _ = graded_class
    assert write_feedback(root, output, ASSIGNMENT, students=["nobody"]) == []
    assert write_feedback(root, output, "03-other") == []


def test_feedback_renders_the_notebook_like_the_notebook(graded_class):
    """Formulas typeset (MathML, no script or network needed), markdown tables as tables, code as code,
    figures kept, and raw HTML in a student's markdown shown as text."""
    root, output, _ = graded_class
    path = output / "autograded" / "ann" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(1, new_markdown_cell(
        "The loss is $$L = \\frac{1}{n} \\sum_i (\\hat y_i - y_i)^2$$ and a weight is $w_{ij}$.\n\n"
        "| layer | shape |\n|---|---|\n| `W1` | $(4, 3)$ |\n\n"
        "Dollars in code stay code: `cost = $5`. <b onclick=\"steal()\">bold?</b>"))
    nbformat.write(notebook, path)
    write_feedback(root, output, ASSIGNMENT, students=["ann"])
    page = feedback_page(output, "ann")
    body = page.split("<body>", 1)[1]
    assert body.index("<h2>Exercises</h2>") < body.index('class="notebook"')  # the summary first
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">' in body and "<mfrac>" in body
    assert "<msub><mi>w</mi>" in body and "$" not in shown_text(page).replace("cost = $5", "")
    assert re.search(r"<table>\s*<thead>\s*<tr>\s*<th>layer</th>", body)
    assert "<code>cost = $5</code>" in body
    assert "<b onclick" not in body and '<b onclick="steal()">bold?</b>' in shown_text(page)
    assert "<script" not in page
    assert 'name="viewport"' in page  # readable on a phone


def test_feedback_keeps_the_figures_the_graded_notebook_drew(graded_class):
    root, output, _ = graded_class
    write_feedback(root, output, ASSIGNMENT, students=["bob"])
    assert f'src="data:image/png;base64,{PIXEL_PNG}"' in feedback_page(output, "bob")


def png_of_width(width: int) -> str:
    """A base64 PNG ``width`` pixels wide and one high."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, 1, 8, 0, 0, 0, 0)  # 8-bit grey
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" + b"\x80" * width))
    return base64.b64encode(png + chunk(b"IEND", b"")).decode()


def test_a_wide_figure_keeps_its_size_on_a_phone_and_a_retina_figure_its_width():
    """Is a figure a phone would shrink more than 1.6 times marked unconfined (on a phone: its own size, in
    a box that scrolls sideways), a narrower one left to fit, and the width a kernel gave a figure kept,
    only as a number?"""
    from mlpcore.autograde.feedback import PHONE_SHRINK_WIDTH, safe_output
    from mlpcore.autograde.notebook_html import notebook_body

    def shown(png, metadata=None):
        out = safe_output(new_output("display_data", data={"image/png": png}, metadata=metadata or {}), set())
        return out, dict(out.metadata["image/png"])

    wide, wide_meta = shown(png_of_width(PHONE_SHRINK_WIDTH + 1))
    assert wide_meta.get("unconfined") is True
    assert 'class="unconfined"' in notebook_body(new_notebook(cells=[new_code_cell("plot()", outputs=[wide])]))
    assert "unconfined" not in shown(png_of_width(PHONE_SHRINK_WIDTH))[1] and "unconfined" not in shown(PIXEL_PNG)[1]
    # a retina figure: twice the pixels, shown at the width its kernel gave it
    _, retina = shown(png_of_width(1000), {"image/png": {"width": 500, "height": "1 onload=alert(1)"}})
    assert retina == {"alt": "a figure drawn by this cell", "width": 500}


def test_a_reason_names_the_exercise_a_plain_cell_follows():
    """A cell without a grade_id (a plot that calls tanh) is named by the exercise before it."""
    from mlpcore.autograde.outcome import cell_label

    notebook = new_notebook(cells=[
        new_code_cell("import numpy as np"),
        new_code_cell("def tanh(Z): ...", metadata=nbgrader("tanh", solution=True)),
        new_code_cell("check('tanh', tanh)", metadata=nbgrader("tanh_tests", grade=True, points=1)),
        new_markdown_cell("A picture:"), new_code_cell("plot(tanh)")])
    assert [cell_label(notebook, i) for i in (0, 2, 4)] == ["cell 1", "tanh_tests", "cell 5 (after exercise tanh)"]
