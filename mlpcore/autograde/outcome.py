"""What grading one submission gave: scores per cell, what went wrong, and the named mistakes.

An *outcome* is a JSON-ready dictionary, saved as ``outcomes/<assignment>/<student>.json``::

    {"student_id": "ada", "assignment": "02-forward", "status": "timeout",
     "reasons": ["forward: cell relu ran over its time limit of 10 s"],
     "score": 7.0, "max_score": 10.0, "timestamp": "2026-11-20 09:15:00" or None,
     "notebooks": {"forward": NotebookOutcome(...).to_json()},
     "grades": {"forward": {"relu_tests": {"auto_score": 0.0, "max_score": 1.0,
                                           "needs_manual_grade": False}}},
     "comments": {"forward": {"relu": "No response."}}}

Each notebook is a :class:`mlpcore.schema.NotebookOutcome` (its problems and its graded
cells, :class:`~mlpcore.schema.CellOutcome`), and every status is a row of
:data:`mlpcore.schema.STATUSES`. ``grades`` and ``comments`` are nbgrader's own numbers,
copied into the class's gradebook as they are; everything else is read from the autograded
notebooks. The grading worker adds ``seconds``, ``sandbox`` and ``retries``, and
``mlpcore grade`` the ``fingerprint``.

A check cell graded by ``mlpcore grade`` holds its checks' verdicts
(:class:`mlpcore.schema.CheckResult`), which say what each check found as data; a cell
without them (a kernel that died, a timeout, plain nbgrader output, and ``mlpcore check``,
whose kernel runs the checks itself) is read from its error output.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from nbgrader.utils import is_grade

from ..grading.testcells import exercise_of_cell, is_test_cell
from ..schema import (CELL_OUTCOME_OF_CHECK, METADATA_KEY, CellOutcome, CheckResult, NotebookOutcome, SubmissionOutcome,
                      verdicts)
from .files import TooBig, read_regular_file
from .execute import CELL_TIMEOUT, KERNEL_DIED, NOT_RUN, OUTPUT_TRUNCATED_NOTE

# Errors that mean a cell's run was cut short: its checks decided nothing, whatever verdicts it holds.
_CUT_SHORT = {CELL_TIMEOUT, KERNEL_DIED, NOT_RUN, "MemoryError"}
# How a cell without verdicts reads, from the name of its last error.
_OUTCOME_OF_ERROR = {CELL_TIMEOUT: "timeout", KERNEL_DIED: "crashed", "MemoryError": "crashed",
                     "ReferenceUsed": "reference_used", "ExerciseFailed": "failed", "NotImplementedError": "unanswered"}
# A failure's text ends with its likely mistake on a line of its own (mlpcore.grading.failure). Only
# the error of a cell without verdicts is read for it: a verdict carries the mistake as data.
_MISTAKE_LINE = re.compile(r"\n?Likely mistake: (.+?)\.?\s*$", re.MULTILINE)


def _errors(cell) -> list:
    return [out for out in cell.get("outputs", []) if out.get("output_type") == "error"]


def _grade_id(cell) -> str:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")


def check_verdicts(cell) -> list[CheckResult]:
    """The verdicts that decide a test cell, in order: none for another cell, a cell without any, or
    one whose run was cut short (a timeout, a crash); verdicts that cannot be read are one ``tampered``."""
    if not is_test_cell(cell) or any(error.get("ename") in _CUT_SHORT for error in _errors(cell)):
        return []
    try:
        return verdicts(cell)
    except ValueError as exc:
        why = f"its check left a result that cannot be read ({str(exc)[:200]})"
        return [CheckResult(exercise_of_cell(cell), "tampered", why)]


def _deciding(found: list[CheckResult]) -> CheckResult:
    """The verdict that gives the cell its outcome: a missing or forged result before anything
    else, then the first check that failed; the first when all passed."""
    return (next((verdict for verdict in found if verdict.outcome == "tampered"), None)
            or next((verdict for verdict in found if not verdict.passed), found[0]))


def cell_outcome(cell) -> tuple[str, str, str | None]:
    """``(outcome, message, named mistake)`` of a graded cell: a key of :data:`mlpcore.schema.OUTCOME_WORDS`,
    what the learner reads about it without the likely mistake ("" when it passed), and the likely
    mistake or None. Read from the cell's verdicts when it has them, else from its last error."""
    errors = _errors(cell)
    found = check_verdicts(cell)
    if found:
        verdict = _deciding(found)
        if not (verdict.passed and errors):  # an error after checks that all passed: read the error
            return CELL_OUTCOME_OF_CHECK[verdict.outcome], "" if verdict.passed else verdict.summary, verdict.mistake
    return _error_outcome(errors[-1]) if errors else ("passed", "", None)


def _error_outcome(error) -> tuple[str, str, str | None]:
    """:func:`cell_outcome` of a cell without verdicts, from its last error."""
    ename, evalue = error.get("ename", ""), error.get("evalue", "")
    if ename == CELL_TIMEOUT and not evalue:
        return "timeout", "the cell ran over its time limit and was interrupted", None
    if ename == NOT_RUN:
        kind = "timeout" if "time limit" in evalue else "crashed"
    elif ename == "ExerciseFailed" and "raised NotImplementedError" in evalue:
        kind = "unanswered"
    else:
        kind = _OUTCOME_OF_ERROR.get(ename, "error")
    mistake = _MISTAKE_LINE.search(evalue)
    if mistake:  # said apart, as a verdict would
        evalue = (evalue[:mistake.start()] + evalue[mistake.end():]).strip()
    return kind, f"{ename}: {evalue}".strip(), mistake.group(1) if mistake else None


def cell_label(notebook, index: int) -> str:
    """How a reason names cell ``index``: its grade_id, else the exercise it follows ("cell 33 (after
    exercise tanh)"): a cell that only uses an exercise's function (a plot) fails because of it."""
    grade_id = notebook.cells[index].metadata.get("nbgrader", {}).get("grade_id")
    if grade_id:
        return grade_id
    graded_before = [cell for cell in notebook.cells[:index] if cell.metadata.get("nbgrader", {}).get("grade_id")]
    exercise = exercise_of_cell(graded_before[-1]) if graded_before else None
    return f"cell {index + 1} (after exercise {exercise})" if exercise else f"cell {index + 1}"


def _verdict_problems(cell, label: str, problems) -> bool:
    """Add what a test cell's verdicts say about the whole submission (a result missing or forged,
    a call of the reference) to ``problems``, once per kind; whether the cell holds verdicts."""
    found = check_verdicts(cell)
    tampered = next((verdict for verdict in found if verdict.outcome == "tampered"), None)
    if tampered is not None:
        problems.add("tampered", f"{label}: {tampered.summary or 'its check left no result'}; the cell scores 0")
    used = next((verdict for verdict in found if verdict.outcome == "reference_used"), None)
    if used is not None:
        problems.add("reference_used", f"{label}: {used.summary}")
    return bool(found)


def _cell_problems(notebook, settings: dict, problems) -> None:
    """Add the problems seen in any code cell's output (not only graded cells) to ``problems``."""
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        label = cell_label(notebook, index)
        has_verdicts = _verdict_problems(cell, label, problems)
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and OUTPUT_TRUNCATED_NOTE in out.get("text", ""):
                problems.add("output_truncated", f"{label} printed over {settings['max_output_bytes'] / 1e6:g} MB")
            if out.get("output_type") != "error":
                continue
            ename = out.get("ename")
            if ename == CELL_TIMEOUT:
                problems.add("timeout", f"{label} ran over the cell time limit of {settings['cell_timeout']} s")
            elif ename == KERNEL_DIED:
                problems.add("crashed", f"{label}: {out.get('evalue')}")
            elif ename == "MemoryError":
                problems.add("crashed", f"{label} ran out of memory (the limit is {settings['memory_mb']} MB per kernel)")
            elif ename == NOT_RUN and label == _first_not_run(notebook):
                problems.add("timeout" if "time limit" in out.get("evalue", "") else "crashed",
                             f"cells from {label} on were {out.get('evalue')}")
            elif ename == "ReferenceUsed" and not has_verdicts:  # with verdicts, the verdict said it
                problems.add("reference_used", f"{label}: {out.get('evalue')}")


def _first_not_run(notebook) -> str | None:
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and any(out.get("ename") == NOT_RUN for out in cell.get("outputs", [])):
            return cell_label(notebook, index)
    return None


MAX_VIOLATIONS_BYTES = 2**20  # the kernel writes this file: what is past the first megabyte is not read


def read_violations(path: Path) -> list[str]:
    """The refused writes the kernel's fence recorded (the file is the kernel's: read as data, never
    through a link, at most :data:`MAX_VIOLATIONS_BYTES`)."""
    try:
        data = read_regular_file(path, MAX_VIOLATIONS_BYTES)
    except TooBig:
        return [f"more refused writes than the report keeps ({MAX_VIOLATIONS_BYTES // 2**20} MB of them)"]
    except OSError:  # none written, or the file replaced by a link or something else: nothing to read
        return []
    paths = []
    for line in data.decode(errors="replace").splitlines():
        try:
            record = json.loads(line)
            paths.append(f"{record['event']} {record['path']}")
        except (ValueError, KeyError, TypeError):
            continue
    return sorted(set(paths))


def read_grades(db_url: str, assignment: str, student: str) -> tuple[dict, dict, str | None]:
    """``(grades, comments, timestamp)`` of a submission in the gradebook at ``db_url``:
    ``{notebook: {grade_id: {auto_score, max_score, needs_manual_grade}}}``, ``{notebook: {name: auto_comment}}``."""
    from nbgrader.api import Gradebook, MissingEntry

    grades, comments, timestamp = {}, {}, None
    with Gradebook(db_url) as gradebook:
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            return grades, comments, timestamp
        timestamp = str(submission.timestamp) if submission.timestamp else None
        for notebook in submission.notebooks:
            grades[notebook.name] = {grade.name: {"auto_score": grade.auto_score, "max_score": grade.max_score,
                                                  "needs_manual_grade": grade.needs_manual_grade}
                                     for grade in notebook.grades}
            comments[notebook.name] = {comment.name: comment.auto_comment for comment in notebook.comments}
    return grades, comments, timestamp


def notebook_problems(graded, metadata: dict, settings: dict):
    """Everything wrong with one graded notebook: what the pipeline's steps recorded in its metadata
    (repairs, the kernel's refused writes) and what its cells' verdicts and errors say."""
    from ..schema import NotebookProblems

    found = NotebookProblems()
    for status, reasons in (metadata.get("problems") or {}).items():
        for reason in reasons:
            found.add(status, reason)
    _cell_problems(graded, settings, found)
    written = metadata.get("violations") or []
    if written:
        found.add("wrote_outside", "refused writes outside its folder: " + "; ".join(written[:5]))
    return found


def _graded_cells(source, scores: dict, graded: bool) -> list[CellOutcome]:
    """The outcome of each graded cell of ``source`` (the graded notebook, or the release when nothing ran)."""
    cells = []
    for cell in source.cells:
        if not is_grade(cell):
            continue
        grade_id = cell.metadata.nbgrader["grade_id"]
        grade = scores.get(grade_id, {})
        outcome, message, mistake = cell_outcome(cell) if graded else ("not_graded", "", None)
        cells.append(CellOutcome(grade_id, exercise_of_cell(cell), float(grade.get("auto_score") or 0.0),
                                 float(grade.get("max_score", cell.metadata.nbgrader.get("points", 0.0))),
                                 outcome, message[:2000], mistake))
    return cells


def notebook_outcome(graded, db_url: str, assignment: str, student: str, name: str) -> NotebookOutcome:
    """One graded notebook's outcome, its statuses read from ``metadata.mlpcore`` (the pipeline's)."""
    grades, _, _ = read_grades(db_url, assignment, student)
    problems = graded.metadata.get(METADATA_KEY, {}).get("problems") or {}
    return NotebookOutcome(problems, None, _graded_cells(graded, grades.get(name, {}), True))


def submission_outcome(db_url: str, student: str, assignment: str, notebooks: dict) -> dict:
    """A submission's outcome from its notebooks' (``{name: NotebookOutcome json}``) and the gradebook."""
    grades, comments, timestamp = read_grades(db_url, assignment, student)
    return _summary(student, assignment, {name: NotebookOutcome.from_json(data) for name, data in notebooks.items()},
                    grades, comments, timestamp)


def collect(course: Path, student: str, assignment: str, release: dict, problems: dict) -> dict:
    """The outcome of a submission graded in a scratch course: the scratch gradebook's scores, the
    autograded notebooks' statuses (``metadata.mlpcore``, written by the pipeline) and ``problems``,
    what the worker found in the submitted folder (``{notebook: NotebookProblems}``)."""
    import nbformat

    grades, comments, timestamp = read_grades(f"sqlite:///{course / 'gradebook.db'}", assignment, student)
    notebooks = {}
    for name, release_notebook in release.items():
        found = problems[name]
        path = course / "autograded" / student / assignment / f"{name}.ipynb"
        graded = nbformat.read(path, as_version=4) if path.is_file() else None
        if graded is not None:
            for status, reasons in (graded.metadata.get(METADATA_KEY, {}).get("problems") or {}).items():
                for reason in reasons:
                    found.add(status, reason)
        cells = _graded_cells(graded if graded is not None else release_notebook, grades.get(name, {}), graded is not None)
        notebooks[name] = NotebookOutcome(found.problems, found.found_as, cells)
    return _summary(student, assignment, notebooks, grades, comments, timestamp)


def _summary(student, assignment, notebooks: dict[str, NotebookOutcome], grades, comments, timestamp) -> dict:
    return SubmissionOutcome(student, assignment, notebooks, grades, comments, timestamp).to_json()


def unreadable(student: str, assignment: str, release: dict, status: str, reason: str) -> dict:
    """The outcome of a submission that could not be graded at all: every cell 0, with the reason.

    ``release``: ``{notebook name: release notebook}`` (for the cells and points)."""
    notebooks = {}
    for name, notebook in release.items():
        cells = [CellOutcome(cell.metadata.nbgrader["grade_id"], exercise_of_cell(cell),
                             0.0, float(cell.metadata.nbgrader.get("points", 0.0)), "not_graded")
                 for cell in notebook.cells if is_grade(cell)]
        notebooks[name] = NotebookOutcome({status: [reason]}, None, cells)
    return _summary(student, assignment, notebooks, {}, {}, None)


def read_saved(path: Path) -> dict | None:
    """A saved outcome, or None (with a note naming the file) when it cannot be read: one damaged
    or foreign file in ``outcomes/`` must not stop the tables, the report or the feedback of the class."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        print(f"skipped {path}: not a readable outcome ({exc}); grade that student again with --force", file=sys.stderr)
        return None
    if not isinstance(saved, dict):
        print(f"skipped {path}: not an outcome (a JSON {type(saved).__name__})", file=sys.stderr)
        return None
    try:  # every notebook as the schema has it (an outcome saved before verdicts is brought up to date)
        SubmissionOutcome.check(saved)
        if "notebooks" in saved:
            saved["notebooks"] = {name: NotebookOutcome.from_json(notebook).to_json()
                                  for name, notebook in saved["notebooks"].items()}
    except (AttributeError, ValueError) as exc:
        print(f"skipped {path}: not an outcome ({str(exc)[:200]}); grade that student again with --force",
              file=sys.stderr)
        return None
    return saved
