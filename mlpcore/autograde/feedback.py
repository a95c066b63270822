"""Per-student feedback pages: what each exercise scored, the likely mistakes, and the notebook as graded.

:func:`write_feedback` writes one self-contained HTML page per student and notebook, where nbgrader
puts its own feedback::

    OUT/feedback/<student>/<assignment>/<notebook>.html

A page has a header (score, status and why), a table of the exercises (points, outcome in words, the
named mistake, the checker's message) and then every cell of the autograded notebook.

The autograded notebook holds the hidden tests, and a learner must never see them. So:

* a test cell shows the source of the *release* notebook's cell with the same ``grade_id``
  (``ROOT/course/<assignment>/<notebook>.ipynb``), or "(test code not shown)" without one;
* errors show ``ename: evalue`` only, never the traceback (it quotes the hidden lines);
* output that contains the hidden-tests marker is dropped, and any output line that quotes a
  hidden test line (a warning shows the line that raised it) is replaced by a note.

Everything that comes from a notebook or an outcome is HTML-escaped; only images that are valid
base64 PNG or JPEG data are embedded, and rich HTML outputs are shown by their plain-text form.
"""

from __future__ import annotations

import re
from pathlib import Path

from .. import course
from .execute import CELL_TIMEOUT
from .outcome import OUTCOME_WORDS, STATUSES, read_saved
from .report import escape, fmt, html_page, percent, status_badge, status_rank

HIDDEN_MARKER = "BEGIN HIDDEN TESTS"
TEST_CODE_NOT_SHOWN = "(test code not shown)"
REDACTED_LINE = "[a line of a hidden test was removed here]"
MAX_OUTPUT_CHARS = 20_000  # per output: the page stays light even when a cell printed a lot
MIN_HIDDEN_LINE_CHARS = 6  # shorter hidden lines ("pass", ")") reveal nothing and would redact too much

# A hidden block, from its BEGIN comment to its END comment (or to the end of the cell if it has none).
_HIDDEN_BLOCK = re.compile(r"^[ \t]*#+[ \t]*BEGIN HIDDEN TESTS.*?(?:^[ \t]*#+[ \t]*END HIDDEN TESTS[^\n]*\n?|\Z)",
                           re.DOTALL | re.MULTILINE)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # colours in kernel output: noise in a web page
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_LIKELY_MISTAKE = re.compile(r"^Likely mistake: .*$", re.MULTILINE)


FEEDBACK_CSS = """
.cell { margin: 0.9em 0; } .cell-label { font-size: 0.85em; color: #555; margin-bottom: 0.15em; }
.cell-test pre.source { background: #eef3fb; border-color: #c9d7ee; }
pre.stderr { background: #fff5f5; } pre.error { background: #f8d7da; border-color: #f1b0b7; color: #721c24; }
.markdown { padding: 0 0.2em; } .markdown pre { background: #fafafa; }
.attention { background: #fff8e6; border: 1px solid #f0d48a; padding: 0.4em 1em; border-radius: 0.3em; }
img.output { max-width: 100%; }
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


def _grade_info(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_test_cell(cell) -> bool:
    """A graded cell the learner did not write: an nbgrader test cell (``grade`` and not ``solution``)."""
    info = _grade_info(cell)
    return bool(info.get("grade")) and not info.get("solution")


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
    return {_grade_info(cell)["grade_id"]: strip_hidden(cell.source)
            for cell in release.cells if is_test_cell(cell) and _grade_info(cell).get("grade_id")}


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


def _inline_markdown(text: str) -> str:
    """Escaped ``text`` with `code` spans and **bold**; everything else (maths, links) stays as written."""
    pieces = re.split(r"(`[^`\n]+`)", text)
    rendered = []
    for piece in pieces:
        if len(piece) > 1 and piece.startswith("`") and piece.endswith("`"):
            rendered.append(f"<code>{escape(piece[1:-1])}</code>")
        else:
            rendered.append(re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escape(piece)))
    return "".join(rendered)


def render_markdown(source: str) -> str:
    """A light rendering of a markdown cell: headings, paragraphs, lists, code blocks, tables as text.

    Enough to read the notebook's explanations next to the code; every character is escaped.
    """
    html, paragraph, items, table = [], [], [], []

    def flush():
        if paragraph:
            html.append("<p>" + "<br>".join(_inline_markdown(line) for line in paragraph) + "</p>")
        if items:
            html.append("<ul>" + "".join(f"<li>{_inline_markdown(item)}</li>" for item in items) + "</ul>")
        if table:
            html.append(f"<pre>{escape(chr(10).join(table))}</pre>")
        paragraph.clear(), items.clear(), table.clear()

    lines = source.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        heading = re.match(r"(#{1,6})\s+(.*)", stripped)
        item = re.match(r"(?:[-*+]|\d+[.)])\s+(.*)", stripped)
        if stripped.startswith("```"):
            flush()
            end = next((i for i in range(index + 1, len(lines)) if lines[i].strip().startswith("```")), len(lines))
            html.append(f"<pre>{escape(chr(10).join(lines[index + 1:end]))}</pre>")
            index = end
        elif not stripped:
            flush()
        elif heading:
            flush()
            level = min(len(heading.group(1)) + 2, 6)  # the page's own h1/h2 stay above the notebook's
            html.append(f"<h{level}>{_inline_markdown(heading.group(2))}</h{level}>")
        elif stripped.startswith("|"):
            if paragraph or items:
                flush()
            table.append(stripped)
        elif item:
            if paragraph or table:
                flush()
            items.append(item.group(1))
        elif items and line.startswith((" ", "\t")):
            items[-1] += " " + stripped  # a list item continued on the next, indented line
        else:
            if items or table:
                flush()
            paragraph.append(stripped)
        index += 1
    flush()
    return "\n".join(html)


# ---------------------------------------------------------------------------------------------- cells


def _image_html(data: dict) -> str | None:
    for mime in ("image/png", "image/jpeg"):
        encoded = data.get(mime)
        if isinstance(encoded, list):
            encoded = "".join(encoded)
        if isinstance(encoded, str):
            encoded = "".join(encoded.split())
            if _BASE64.fullmatch(encoded):  # anything else could break out of the attribute
                return f'<img class="output" alt="figure" src="data:{mime};base64,{encoded}">'
    return None


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


def render_output(out, secret_lines: set[str]) -> str:
    """One output of a code cell: never a traceback, never hidden test code."""
    kind = out.get("output_type")
    if kind == "stream":
        text = clean_output_text(out.get("text"), secret_lines)
        css = "stderr" if out.get("name") == "stderr" else "stdout"
        return f'<pre class="output {css}">{escape(text)}</pre>' if text else ""
    if kind == "error":
        text = clean_output_text(error_line(out.get("ename") or "Error", out.get("evalue") or ""), secret_lines)
        return f'<pre class="output error">{escape(text)}</pre>' if text else ""
    if kind in ("execute_result", "display_data"):
        data = out.get("data", {})
        image = _image_html(data)
        if image:
            return image
        text = clean_output_text(data.get("text/plain", ""), secret_lines)
        return f'<pre class="output">{escape(text)}</pre>' if text else ""
    return ""


def error_line(ename: str, evalue: str) -> str:
    """``ename: evalue``, the only part of an error a learner sees (its traceback quotes hidden tests)."""
    if ename == CELL_TIMEOUT and not evalue:
        evalue = "the cell ran over its time limit and was interrupted"
    return f"{ename}: {evalue}" if evalue else ename


def _cell_label(cell, graded_cells: dict[str, dict]) -> str:
    info = _grade_info(cell)
    grade_id = info.get("grade_id")
    if is_test_cell(cell):
        graded = graded_cells.get(grade_id)
        detail = (f" &middot; {fmt(graded['score'])} / {fmt(graded['max_score'])} points &middot; "
                  f"{escape(OUTCOME_WORDS.get(graded['outcome'], graded['outcome']))}") if graded else ""
        return f'<div class="cell-label">Tests <code>{escape(grade_id)}</code> (read-only){detail}</div>'
    if info.get("solution"):
        return f'<div class="cell-label">Your answer <code>{escape(grade_id)}</code></div>'
    return ""


def render_cell(cell, tests: dict[str, str] | None, graded_cells: dict[str, dict], secret_lines: set[str]) -> str:
    """One cell of the autograded notebook, with a test cell's source taken from the release notebook."""
    if cell.cell_type == "markdown":
        return f'<div class="cell markdown">{render_markdown(strip_hidden(cell.source))}</div>'
    if cell.cell_type != "code":
        return f'<div class="cell"><pre>{escape(redact(strip_hidden(cell.source), secret_lines))}</pre></div>'
    if is_test_cell(cell):
        source = (tests or {}).get(_grade_info(cell).get("grade_id"), TEST_CODE_NOT_SHOWN)
    else:
        source = strip_hidden(cell.source)
    source = redact(source, secret_lines)
    outputs = "".join(render_output(out, secret_lines) for out in _merge_streams(cell.get("outputs", [])))
    css = "cell cell-test" if is_test_cell(cell) else "cell"
    return (f'<div class="{css}">{_cell_label(cell, graded_cells)}'
            f'<pre class="source">{escape(source)}</pre>{outputs}</div>')


# ---------------------------------------------------------------------------------------------- page


def _problems(graded: dict, result: dict) -> list[tuple[str, str]]:
    """``(status, reason)`` of this notebook, most serious first (the submission's reasons as a fallback)."""
    found = [(status, reason) for status, reasons in graded.get("problems", {}).items() for reason in reasons]
    if not found and graded.get("status", result.get("status")) != "ok":
        found = [(result.get("status", ""), reason) for reason in result.get("reasons", [])]
    return sorted(found, key=lambda problem: status_rank(problem[0]))


def _header_html(student: str, result: dict, notebook: str, graded: dict) -> str:
    status = graded.get("status", result.get("status", "ok"))
    score, max_score = float(graded.get("score") or 0.0), float(graded.get("max_score") or 0.0)
    rows = [("student", escape(student)), ("assignment", escape(result.get("assignment", ""))),
            ("notebook", escape(f"{notebook}.ipynb") + (f' <span class="muted">(submitted as '
                                                         f'{escape(graded["found_as"])})</span>'
                                                         if graded.get("found_as") else "")),
            ("score", f"<strong>{fmt(score)} / {fmt(max_score)}</strong> ({percent(score, max_score):.0f}%)"),
            ("status", f"{status_badge(status)} {escape(STATUSES.get(status, ''))}")]
    if len(result.get("notebooks", {})) > 1:
        total, top = float(result.get("score") or 0.0), float(result.get("max_score") or 0.0)
        rows.append(("whole assignment", f"{fmt(total)} / {fmt(top)} &middot; {status_badge(result['status'])}"))
    table = "<table>" + "".join(f"<tr><th>{name}</th><td>{value}</td></tr>" for name, value in rows) + "</table>"
    problems = _problems(graded, result) if status != "ok" else []
    if problems:
        reasons = "".join(f"<li>{status_badge(kind)} {escape(reason)}</li>" for kind, reason in problems)
        table += f'<div class="attention"><p>What happened during grading:</p><ul>{reasons}</ul></div>'
    return f"<h1>Feedback: {escape(result.get('assignment', ''))} &middot; {escape(notebook)}</h1>\n{table}"


def _outcome_badge(outcome: str) -> str:
    css = "passed" if outcome == "passed" else outcome if outcome in ("unanswered", "not_graded") else "bad"
    return f'<span class="status outcome-{css}">{escape(OUTCOME_WORDS.get(outcome, outcome))}</span>'


def _exercise_row(cell: dict, secret_lines: set[str]) -> str:
    details = []
    if cell.get("mistake"):
        details.append(f'<span class="mistake"><strong>Likely mistake:</strong> {escape(cell["mistake"])}</span>')
    # the mistake is already highlighted above: the message keeps only the description of the failing case
    message = _LIKELY_MISTAKE.sub("", cell.get("message") or "").strip().rstrip(":")
    message = clean_output_text(message, secret_lines) if message else None
    if message:
        details.append(f"<pre>{escape(message)}</pre>")
    return (f"<tr><td>{escape(cell.get('exercise', cell.get('grade_id', '')))}</td>"
            f'<td class="num">{fmt(float(cell.get("score") or 0.0))} / {fmt(float(cell.get("max_score") or 0.0))}</td>'
            f"<td>{_outcome_badge(cell.get('outcome', 'not_graded'))}</td><td>{''.join(details)}</td></tr>")


def _exercises_html(graded: dict, secret_lines: set[str]) -> str:
    cells = graded.get("cells", [])
    if not cells:
        return '<p class="muted">This notebook has no graded exercises.</p>'
    rows = "".join(_exercise_row(cell, secret_lines) for cell in cells)
    return f"<table><tr><th>exercise</th><th>points</th><th>result</th><th>details</th></tr>{rows}</table>"


def _notebook_html(notebook, tests, graded: dict, secret_lines: set[str]) -> str:
    if notebook is None:
        return ('<p class="muted">Your notebook could not be graded, so there is no graded copy to show: '
                "see what happened above.</p>")
    graded_cells = {cell["grade_id"]: cell for cell in graded.get("cells", [])}
    return "\n".join(render_cell(cell, tests, graded_cells, secret_lines) for cell in notebook.cells)


def feedback_html(student: str, result: dict, notebook_name: str, autograded, tests: dict[str, str] | None,
                  secret_lines: set[str]) -> str:
    """The feedback page of one student's notebook (``autograded`` may be None: nothing was graded)."""
    graded = result.get("notebooks", {}).get(notebook_name, {})
    body = "\n".join([
        _header_html(student, result, notebook_name, graded),
        "<h2>Exercises</h2>", _exercises_html(graded, secret_lines),
        "<h2>Your notebook as graded</h2>", _notebook_html(autograded, tests, graded, secret_lines),
    ])
    page = html_page(f"Feedback: {result.get('assignment', '')} {notebook_name} ({student})", body)
    return page.replace("</style>", FEEDBACK_CSS + "</style>", 1)


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


def _visible_lines(tests: dict[str, str] | None) -> set[str]:
    return {line.strip() for code in (tests or {}).values() for line in code.splitlines()}
