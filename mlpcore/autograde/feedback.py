"""Per-student feedback pages: what each exercise scored, the likely mistakes, and the notebook as graded.

:func:`write_feedback` writes one self-contained HTML page per student and notebook, where nbgrader
puts its own feedback::

    OUT/feedback/<student>/<assignment>/<notebook>.html

A page has the summary first: a header (score, status and why) and a table of the exercises (points,
outcome in words, the named mistake, the checker's message). Then comes every cell of the autograded
notebook, rendered by nbconvert as the notebook looks (tables, highlighted code, figures, formulas
typeset as MathML: :mod:`mlpcore.autograde.notebook_html`), each graded cell under a label.
On a phone each exercise is a card, and a figure too wide to shrink legibly scrolls in its own box.

The autograded notebook holds the hidden tests, and a learner must never see them. So:

* a test cell shows the source of the *release* notebook's cell with the same ``grade_id``
  (``ROOT/course/<assignment>/<notebook>.ipynb``), or "(test code not shown)" without one;
* errors show ``ename: evalue`` only, never the traceback (it quotes the hidden lines);
* output that contains the hidden-tests marker is dropped, and any output line that quotes a
  hidden test line (a warning shows the line that raised it) is replaced by a note.

What nbconvert renders is a copy of the notebook built for showing (:func:`safe_notebook`): raw HTML
in markdown is shown as text, only images that are valid base64 PNG or JPEG data are kept, and rich
HTML outputs are shown by their plain-text form, so nothing from a submission runs in the page.
"""

from __future__ import annotations

import re
from pathlib import Path

from nbgrader.utils import is_solution

from .. import course
from ..schema import OUTCOME_WORDS, CellOutcome, NotebookOutcome, Status, severity
from .execute import CELL_TIMEOUT
from .notebook_html import NOTEBOOK_CSS, highlight_css, notebook_body
from .outcome import is_test_cell, read_saved
from .report import NARROW_SCREEN, cards_table, escape, fmt, html_page, percent, status_badge

HIDDEN_MARKER = "BEGIN HIDDEN TESTS"
TEST_CODE_NOT_SHOWN = "(test code not shown)"
REDACTED_LINE = "[a line of a hidden test was removed here]"
MAX_OUTPUT_CHARS = 20_000  # per output: the page stays light even when a cell printed a lot
MIN_HIDDEN_LINE_CHARS = 6  # shorter hidden lines ("pass", ")") reveal nothing and would redact too much
# A figure wider than this (CSS px) would be shrunk more than 1.6 times on a phone (about 360 px for it):
# there it keeps its own size and scrolls sideways in its box instead (nbgrader's "unconfined" images).
PHONE_SHRINK_WIDTH = 576

# A hidden block, from its BEGIN comment to its END comment (or to the end of the cell if it has none).
_HIDDEN_BLOCK = re.compile(r"^[ \t]*#+[ \t]*BEGIN HIDDEN TESTS.*?(?:^[ \t]*#+[ \t]*END HIDDEN TESTS[^\n]*\n?|\Z)",
                           re.DOTALL | re.MULTILINE)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # colours in kernel output: noise in a web page
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


FEEDBACK_CSS = """
.attention { background: #fff8e6; border: 1px solid #f0d48a; padding: 0.4em 1em; border-radius: 0.3em; }
table { display: block; overflow-x: auto; }
""" + f"""
/* On a phone a wide figure of the notebook (see PHONE_SHRINK_WIDTH) keeps its own size, so that its text
   stays as legible as in the notebook, and scrolls sideways in its own box (the page never does). */
@media (max-width: {NARROW_SCREEN}px) {{
  .notebook .output_png {{ overflow-x: auto; }}
  .notebook .output_png img.unconfined {{ max-width: none; }}
}}
"""


# ---------------------------------------------------------------------------------------------- inputs


def _read_notebook(path: Path):
    """The notebook at ``path``, or None when it is missing or not a readable notebook."""
    import nbformat

    if not path.is_file():
        return None
    try:
        return nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 - any unreadable file just means "nothing to show"
        return None


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def strip_hidden(source: str) -> str:
    """``source`` without its hidden-test blocks."""
    return _HIDDEN_BLOCK.sub("", source)


def hidden_lines(notebooks) -> set[str]:
    """Every non-trivial line inside a hidden-test block of ``notebooks``, stripped of indentation."""
    lines = set()
    for notebook in notebooks:
        for cell in notebook.cells if notebook is not None else []:
            for block in _HIDDEN_BLOCK.findall(cell.get("source", "")):
                lines.update(line.strip() for line in block.splitlines()[1:]
                             if len(line.strip()) >= MIN_HIDDEN_LINE_CHARS and "HIDDEN TESTS" not in line)
    return lines


def visible_tests(release) -> dict[str, str] | None:
    """``{grade_id: source}`` of the release notebook's test cells; None without a release notebook."""
    if release is None:
        return None
    return {_grade_id(cell): strip_hidden(cell.source)
            for cell in release.cells if is_test_cell(cell) and _grade_id(cell)}


def _load_outcomes(output: Path, assignment: str, students: list[str] | None) -> list[tuple[str, dict]]:
    """``(student, outcome)`` for every saved outcome of ``assignment`` (or only ``students``')."""
    folder = output / "outcomes" / assignment
    paths = sorted(folder.glob("*.json")) if students is None else [folder / f"{student}.json" for student in students]
    # the file's name is the student's folder name: safer as a path component than a field inside the file
    return [(path.stem, saved) for path in paths if path.is_file() and (saved := read_saved(path)) is not None]


# ---------------------------------------------------------------------------------------------- text


def redact(text: str, secret_lines: set[str]) -> str:
    """``text`` with every line that quotes a hidden test line replaced by a note."""
    if not secret_lines:
        return text
    return "\n".join(REDACTED_LINE if any(secret in line for secret in secret_lines) else line
                     for line in text.split("\n"))


def clean_output_text(text, secret_lines: set[str]) -> str | None:
    """Output text ready to show, or None when it must not be shown at all (it holds hidden tests)."""
    text = _as_text(text)
    if HIDDEN_MARKER in text:
        return None
    text = redact(_ANSI.sub("", text), secret_lines)
    if len(text) > MAX_OUTPUT_CHARS:
        text = text[:MAX_OUTPUT_CHARS] + f"\n[... {len(text) - MAX_OUTPUT_CHARS} more characters not shown]"
    return text


# ---------------------------------------------------------------------------------------------- cells


def _safe_image(data: dict) -> dict | None:
    """``{mime: base64}`` of the output's PNG or JPEG when it is real base64 data, else None."""
    for mime in ("image/png", "image/jpeg"):
        encoded = data.get(mime)
        if isinstance(encoded, list):
            encoded = "".join(encoded)
        if isinstance(encoded, str):
            encoded = "".join(encoded.split())
            if _BASE64.fullmatch(encoded):  # anything else could break out of the img tag's attribute
                return {mime: encoded}
    return None


def _png_width(encoded: str) -> int | None:
    """The width in pixels that a base64 PNG's header states, None when it has none."""
    import base64

    head = base64.b64decode(encoded[:32] + "=" * (-len(encoded[:32]) % 4))
    return int.from_bytes(head[16:20], "big") if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR" else None


def _image_metadata(image: dict, metadata) -> dict:
    """What nbconvert needs to show ``image`` (``{mime: base64}``): an alt text for screen readers, the
    width and height the kernel gave it (a retina figure is shown at half its pixels), both only as
    numbers, and ``unconfined`` where it is wider than :data:`PHONE_SHRINK_WIDTH`."""
    ((mime, encoded),) = image.items()
    given = metadata.get(mime) if isinstance(metadata, dict) else None
    shown = {"alt": "a figure drawn by this cell"}
    for key in ("width", "height"):
        value = given.get(key) if isinstance(given, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 100_000:
            shown[key] = int(value)
    width = shown.get("width") or (_png_width(encoded) if mime == "image/png" else None)
    if width and width > PHONE_SHRINK_WIDTH:
        shown["unconfined"] = True
    return {mime: shown}


def _merge_streams(outputs: list) -> list:
    """Consecutive stream outputs of the same stream as one (a cell's print()s arrive in pieces)."""
    merged = []
    for out in outputs:
        previous = merged[-1] if merged else None
        if (out.get("output_type") == "stream" and previous is not None and previous.get("output_type") == "stream"
                and previous.get("name") == out.get("name")):
            previous["text"] = _as_text(previous.get("text")) + _as_text(out.get("text"))
        else:
            merged.append(dict(out))
    return merged


def _as_text(text) -> str:
    """An output's text, which nbformat may hold as a list of strings."""
    return "".join(text) if isinstance(text, list) else str(text or "")


def safe_output(out, secret_lines: set[str]):
    """One output of a code cell as it may be shown, or None: never a traceback, never hidden test code,
    never HTML or scripts from the kernel (only text and real images)."""
    from nbformat.v4 import new_output

    kind = out.get("output_type")
    if kind == "stream":
        text = clean_output_text(out.get("text"), secret_lines)
        name = "stderr" if out.get("name") == "stderr" else "stdout"
        return new_output("stream", name=name, text=text) if text else None
    if kind == "error":
        text = clean_output_text(error_line(out.get("ename") or "Error", out.get("evalue") or ""), secret_lines)
        return new_output("error", ename="", evalue="", traceback=[text]) if text else None
    if kind in ("execute_result", "display_data"):
        data = out.get("data", {})
        image = _safe_image(data)
        if image:
            return new_output("display_data", data=image, metadata=_image_metadata(image, out.get("metadata", {})))
        text = clean_output_text(data.get("text/plain", ""), secret_lines)
        return new_output("display_data", data={"text/plain": text}) if text else None
    return None


def error_line(ename: str, evalue: str) -> str:
    """``ename: evalue``, the only part of an error a learner sees (its traceback quotes hidden tests)."""
    if ename == CELL_TIMEOUT and not evalue:
        evalue = "the cell ran over its time limit and was interrupted"
    return f"{ename}: {evalue}" if evalue else ename


def _cell_label(cell, graded_cells: dict[str, CellOutcome]):
    """A small markdown cell that says what the next cell is (a test with its points, or an answer)."""
    from nbformat.v4 import new_markdown_cell

    grade_id = str(_grade_id(cell) or "").replace("`", "'")
    if is_test_cell(cell):
        graded = graded_cells.get(_grade_id(cell))
        detail = (f" · {fmt(graded.score)} / {fmt(graded.max_score)} points · "
                  f"{OUTCOME_WORDS.get(graded.outcome, graded.outcome)}") if graded else ""
        return new_markdown_cell(f"*Tests* `{grade_id}` (read-only){detail}")
    if is_solution(cell):
        return new_markdown_cell(f"*Your answer* `{grade_id}`")
    return None


def safe_cell(cell, tests: dict[str, str] | None, secret_lines: set[str]):
    """A copy of one autograded cell that may be shown: a test cell's source from the release notebook,
    hidden blocks and lines that quote them removed, only safe outputs."""
    from nbformat.v4 import new_code_cell, new_markdown_cell

    if cell.cell_type == "markdown":
        return new_markdown_cell(strip_hidden(cell.source))
    if cell.cell_type != "code":  # a raw cell: shown as the text it is, never as HTML
        return new_code_cell(redact(strip_hidden(cell.source), secret_lines))
    if is_test_cell(cell):
        source = (tests or {}).get(_grade_id(cell), TEST_CODE_NOT_SHOWN)
    else:
        source = strip_hidden(cell.source)
    outputs = [safe for out in _merge_streams(cell.get("outputs", [])) if (safe := safe_output(out, secret_lines))]
    return new_code_cell(redact(source, secret_lines), outputs=outputs)


def safe_notebook(notebook, tests: dict[str, str] | None, graded_cells: dict[str, CellOutcome],
                  secret_lines: set[str]):
    """The autograded ``notebook`` as a student may see it, each graded cell under a label."""
    from nbformat.v4 import new_notebook

    cells = []
    for cell in notebook.cells:
        label = _cell_label(cell, graded_cells)
        cells.extend([label] if label is not None else [])
        cells.append(safe_cell(cell, tests, secret_lines))
    return new_notebook(cells=cells, metadata={"language_info": {"name": "python"}})


# ---------------------------------------------------------------------------------------------- page


def _header_html(student: str, result: dict, notebook: str, graded: NotebookOutcome) -> str:
    status = Status.named(graded.status)
    rows = [("student", escape(student)), ("assignment", escape(result.get("assignment", ""))),
            ("notebook", escape(f"{notebook}.ipynb") + (f' <span class="muted">(submitted as '
                                                         f'{escape(graded.found_as)})</span>'
                                                         if graded.found_as else "")),
            ("score", f"<strong>{fmt(graded.score)} / {fmt(graded.max_score)}</strong> "
                      f"({percent(graded.score, graded.max_score):.0f}%)"),
            ("status", f"{status_badge(status.name)} {escape(status.meaning)}")]
    if result.get("late"):  # the penalty is the whole assignment's (late.py)
        from .late import describe

        rows.append(("late", f"{escape(describe(result['late']))}; the assignment's score after it: "
                             f"<strong>{fmt(float(result.get('score') or 0.0))} / {fmt(float(result.get('max_score') or 0.0))}</strong>"))
    if len(result.get("notebooks", {})) > 1:
        total, top = float(result.get("score") or 0.0), float(result.get("max_score") or 0.0)
        rows.append(("whole assignment", f"{fmt(total)} / {fmt(top)} &middot; {status_badge(result['status'])}"))
    table = "<table>" + "".join(f"<tr><th>{name}</th><td>{value}</td></tr>" for name, value in rows) + "</table>"
    # what happened to this notebook, most serious first
    problems = sorted(((kind, reason) for kind, reasons in graded.problems.items() for reason in reasons),
                      key=lambda problem: severity(problem[0]))
    if problems:
        reasons = "".join(f"<li>{status_badge(kind)} {escape(reason)}</li>" for kind, reason in problems)
        table += f'<div class="attention"><p>What happened during grading:</p><ul>{reasons}</ul></div>'
    return f"<h1>Feedback: {escape(result.get('assignment', ''))} &middot; {escape(notebook)}</h1>\n{table}"


def _outcome_badge(outcome: str) -> str:
    css = "passed" if outcome == "passed" else outcome if outcome in ("unanswered", "not_graded") else "bad"
    return f'<span class="status outcome-{css}">{escape(OUTCOME_WORDS.get(outcome, outcome))}</span>'


def _exercise_row(cell: CellOutcome, secret_lines: set[str]) -> list[str]:
    details = []
    if cell.mistake:
        details.append(f'<span class="mistake"><strong>Likely mistake:</strong> {escape(cell.mistake)}</span>')
    # the message describes the failing case; the mistake, highlighted above, is not part of it
    message = clean_output_text(cell.message.strip().rstrip(":"), secret_lines) if cell.message.strip() else None
    if message:
        details.append(f"<pre>{escape(message)}</pre>")
    return [escape(cell.exercise), f"{fmt(cell.score)} / {fmt(cell.max_score)}", _outcome_badge(cell.outcome),
            "".join(details)]


def _exercises_html(graded: NotebookOutcome, secret_lines: set[str]) -> str:
    if not graded.cells:
        return '<p class="muted">This notebook has no graded exercises.</p>'
    rows = [_exercise_row(cell, secret_lines) for cell in graded.cells]
    # on a phone each exercise is a card: its points and result on one line, the named mistake under them
    return cards_table(["exercise", "points", "result", "details"], rows, numeric=(1,), inline=(1, 2),
                       unlabelled=(2, 3))


def _notebook_html(notebook, tests, graded: NotebookOutcome, secret_lines: set[str]) -> str:
    if notebook is None:
        return ('<p class="muted">Your notebook could not be graded, so there is no graded copy to show: '
                "see what happened above.</p>")
    graded_cells = {cell.grade_id: cell for cell in graded.cells}
    return notebook_body(safe_notebook(notebook, tests, graded_cells, secret_lines))


def feedback_html(student: str, result: dict, notebook_name: str, autograded, tests: dict[str, str] | None,
                  secret_lines: set[str]) -> str:
    """The feedback page of one student's notebook (``autograded`` may be None: nothing was graded).
    ``result``: the student's outcome, as ``outcomes/*.json`` holds it, which grades ``notebook_name``."""
    graded = NotebookOutcome.from_json(result["notebooks"][notebook_name])
    body = "\n".join([
        _header_html(student, result, notebook_name, graded),
        "<h2>Exercises</h2>", _exercises_html(graded, secret_lines),
        "<h2>Your notebook as graded</h2>", _notebook_html(autograded, tests, graded, secret_lines),
    ])
    page = html_page(f"Feedback: {result.get('assignment', '')} {notebook_name} ({student})", body)
    return page.replace("</style>", FEEDBACK_CSS + NOTEBOOK_CSS + highlight_css() + "</style>", 1)


class _CourseNotebooks:
    """The release notebooks (visible tests) and source notebooks (hidden tests) of one assignment, read once."""

    def __init__(self, root: Path, assignment: str):
        self.root, self.assignment, self._cache = root, assignment, {}

    def get(self, notebook: str) -> tuple[dict[str, str] | None, set[str]]:
        """``(visible test sources by grade_id or None, hidden test lines)`` of ``notebook``."""
        if notebook not in self._cache:
            release = _read_notebook(self.root / course.RELEASE_DIRECTORY / self.assignment / f"{notebook}.ipynb")
            source = _read_notebook(self.root / course.SOURCE_DIRECTORY / self.assignment / f"{notebook}.ipynb")
            tests = visible_tests(release)
            # a line that is also in the visible tests reveals nothing: keep it readable in the outputs
            self._cache[notebook] = (tests, hidden_lines([source]) - _visible_lines(tests))
        return self._cache[notebook]


# What nbgrader's release_feedback reads beside the pages: when the notebook was submitted, and the
# secret (from nbgrader submit) that names each page in the exchange so that only its student finds it.
SUBMISSION_STAMPS = ("timestamp.txt", "submission_secret.txt")


def _copy_submission_stamps(submission: Path, feedback: Path) -> None:
    for name in SUBMISSION_STAMPS:
        if (submission / name).is_file():
            (feedback / name).write_bytes((submission / name).read_bytes())


def write_feedback(root, output, assignment: str, students: list[str] | None = None, submissions=None) -> list[Path]:
    """Write ``OUT/feedback/<student>/<assignment>/<notebook>.html`` for every graded student (or ``students``).

    ``root`` is the course root (for the release and source notebooks), ``output`` the grading output
    folder (outcomes and autograded notebooks), ``submissions`` the class's submissions (default
    ``OUT/submitted``): their ``timestamp.txt`` and ``submission_secret.txt`` go beside the pages, in
    the layout ``nbgrader release_feedback`` expects. Returns the pages written.
    """
    root, output = Path(root), Path(output)
    submissions = Path(submissions) if submissions is not None else output / "submitted"
    course_notebooks = _CourseNotebooks(root, assignment)
    written = []
    for student, result in _load_outcomes(output, assignment, students):
        for notebook_name in result.get("notebooks", {}):
            tests, secret_lines = course_notebooks.get(notebook_name)
            autograded = _read_notebook(output / "autograded" / student / assignment / f"{notebook_name}.ipynb")
            # the graded copy holds the hidden tests too: catches them even without the source notebook
            secret_lines = secret_lines | (hidden_lines([autograded]) - _visible_lines(tests))
            page = feedback_html(student, result, notebook_name, autograded, tests, secret_lines)
            path = output / "feedback" / student / assignment / f"{notebook_name}.html"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(page, encoding="utf-8")
            _copy_submission_stamps(submissions / student / assignment, path.parent)
            written.append(path)
    return written


def page_for(root, output, assignment: str, student: str, notebook_name: str, autograded) -> str:
    """The feedback page of one graded notebook (for nbgrader's feedback doors, see
    :class:`mlpcore.autograde.pipeline.FeedbackExporter`): from the student's saved outcome, which
    every grading door writes; a clear error naming ``mlpcore grade`` where there is none."""
    saved = dict(_load_outcomes(Path(output), assignment, [student])).get(student)
    if saved is None or notebook_name not in saved.get("notebooks", {}):
        raise RuntimeError(f"no mlpcore outcome for {student}'s {assignment}/{notebook_name} in {output}: grade it with "
                           f"`mlpcore grade {assignment}` (or nbgrader autograde, which runs mlpcore's pipeline) first")
    tests, secret_lines = _CourseNotebooks(Path(root), assignment).get(notebook_name)
    secret_lines = secret_lines | (hidden_lines([autograded]) - _visible_lines(tests))
    return feedback_html(student, saved, notebook_name, autograded, tests, secret_lines)


def _visible_lines(tests: dict[str, str] | None) -> set[str]:
    return {line.strip() for code in (tests or {}).values() for line in code.splitlines()}
