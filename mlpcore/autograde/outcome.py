"""What grading one submission gave: scores per cell, what went wrong, and the named mistakes.

An *outcome* is a JSON-ready dictionary::

    {"student_id": "ada", "assignment": "02-forward", "status": "timeout",
     "reasons": ["forward: cell relu ran over its time limit of 10 s"],
     "score": 7.0, "max_score": 10.0, "timestamp": "2026-11-20 09:15:00" or None,
     "notebooks": {"forward": {
         "status": "timeout", "problems": {"timeout": ["..."]}, "found_as": None,
         "score": 7.0, "max_score": 10.0,
         "cells": [{"grade_id": "relu_tests", "exercise": "relu", "score": 0.0, "max_score": 1.0,
                    "outcome": "timeout", "message": "...", "mistake": None}, ...]}},
     "grades": {"forward": {"relu_tests": {"auto_score": 0.0, "max_score": 1.0,
                                           "needs_manual_grade": False}}},
     "comments": {"forward": {"relu": "No response."}}}

``grades`` and ``comments`` are nbgrader's own numbers, copied into the class's
gradebook as they are; everything else is read from the autograded notebooks.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from ..schema import FAILURE_ENAMES
from .execute import CELL_TIMEOUT, KERNEL_DIED, NOT_RUN, OUTPUT_TRUNCATED_NOTE

# Every status, most serious first: a submission's status is the most serious of its problems.
STATUSES = {
    "invalid": "a notebook is not a readable notebook file",
    "missing": "a notebook was not submitted",
    "error": "the grader failed on this submission (see the reason)",
    "crashed": "the kernel died or ran out of memory; the other cells were still graded",
    "timeout": "a cell or the notebook ran over its time limit; the other cells were still graded",
    "tampered": "a test cell was edited (graded with the original), or a check cell left no valid result "
                "(the kernel's check was replaced, or its result forged); that cell scores 0",
    "reference_used": "an answer called mlpcore's reference implementation",
    "suspicious": "the code reaches into the grader (frames, closures, tracing, IPython's hooks, mlpcore's internals): read the line named",
    "wrote_outside": "the code tried to write outside its own folder (refused)",
    "restructured": "cells were deleted or reordered; graded after restoring the course's cells and order",
    "renamed": "a notebook was submitted under another name; graded as the right one",
    "output_truncated": "a cell printed more output than is kept",
    "ok": "graded normally",
}
NEEDS_ATTENTION = [status for status in STATUSES if status != "ok"]
# What happened to one graded cell, in words for learners (feedback pages, mlpcore check).
OUTCOME_WORDS = {
    "passed": "passed",
    "failed": "failed a check",
    "unanswered": "not answered yet",
    "error": "stopped with an error",
    "timeout": "ran over the time limit",
    "crashed": "the kernel crashed",
    "reference_used": "called mlpcore's reference answer",
    "not_graded": "not graded",
    "edited": "test cell edited",
}

_MISTAKE = re.compile(r"Likely mistake: (.+?)\.?\s*$", re.MULTILINE)


def worst(statuses) -> str:
    order = list(STATUSES)
    return min(statuses, key=order.index, default="ok")


def exercise_name(grade_id: str) -> str:
    """``dense_forward_tests`` -> ``dense_forward``."""
    return grade_id[: -len("_tests")] if grade_id.endswith("_tests") else grade_id


def cell_outcome(cell) -> tuple[str, str, str | None]:
    """``(outcome, message, named mistake)`` of a graded cell from its outputs."""
    errors = [out for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    if not errors:
        return "passed", "", None
    error = errors[-1]
    ename, evalue = error.get("ename", ""), error.get("evalue", "")
    message = f"{ename}: {evalue}".strip()
    kind = {
        CELL_TIMEOUT: "timeout", KERNEL_DIED: "crashed", "MemoryError": "crashed",
        "ReferenceUsed": "reference_used", "ExerciseFailed": "failed", "NotImplementedError": "unanswered",
    }.get(ename, "error")
    if kind == "failed" and "raised NotImplementedError" in evalue:
        kind = "unanswered"
    if ename == NOT_RUN:
        kind = "timeout" if "time limit" in evalue else "crashed"
    if ename == CELL_TIMEOUT and not evalue:
        message = "the cell ran over its time limit and was interrupted"
    found = _MISTAKE.search(evalue)
    return kind, message, found.group(1) if found else None


def cell_label(notebook, index: int) -> str:
    """How a reason names cell ``index``: its grade_id, else the exercise it follows ("cell 33 (after
    exercise tanh)"): a cell that only uses an exercise's function (a plot) fails because of it."""
    grade_id = notebook.cells[index].metadata.get("nbgrader", {}).get("grade_id")
    if grade_id:
        return grade_id
    before = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in notebook.cells[:index]]
    exercise = next((exercise_name(found) for found in reversed(before) if found), None)
    return f"cell {index + 1} (after exercise {exercise})" if exercise else f"cell {index + 1}"


def _cell_problems(notebook, settings: dict, problems) -> None:
    """Add the problems seen in any code cell's output (not only graded cells) to ``problems``."""
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        label = cell_label(notebook, index)
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
            elif ename == "ReferenceUsed":
                problems.add("reference_used", f"{label}: {out.get('evalue')}")
            elif ename == FAILURE_ENAMES["tampered"]:
                problems.add("tampered", f"{label}: {out.get('evalue')}")


def _first_not_run(notebook) -> str | None:
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and any(out.get("ename") == NOT_RUN for out in cell.get("outputs", [])):
            return cell_label(notebook, index)
    return None


def _violations(path: Path) -> list[str]:
    if not path.is_file():
        return []
    paths = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
            paths.append(f"{record['event']} {record['path']}")
        except (ValueError, KeyError, TypeError):
            continue
    return sorted(set(paths))


def collect(course: Path, student: str, assignment: str, release: dict, problems: dict,
            violations_file: Path, settings: dict) -> dict:
    """The outcome of a graded submission, from the scratch gradebook and autograded notebooks."""
    import nbformat
    from nbgrader.api import Gradebook, MissingEntry

    grades, comments, timestamp = {}, {}, None
    db_url = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(db_url) as gradebook:
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            submission = None
        if submission is not None:
            timestamp = str(submission.timestamp) if submission.timestamp else None
            for notebook in submission.notebooks:
                grades[notebook.name] = {grade.name: {"auto_score": grade.auto_score, "max_score": grade.max_score,
                                                      "needs_manual_grade": grade.needs_manual_grade}
                                         for grade in notebook.grades}
                comments[notebook.name] = {comment.name: comment.auto_comment for comment in notebook.comments}

    written = _violations(violations_file)
    notebooks = {}
    for name, release_notebook in release.items():
        found = problems[name]
        path = course / "autograded" / student / assignment / f"{name}.ipynb"
        graded = nbformat.read(path, as_version=4) if path.is_file() else None
        if graded is not None:
            _cell_problems(graded, settings, found)
        if written and graded is not None:
            found.add("wrote_outside", "refused writes outside its folder: " + "; ".join(written[:5]))
            written = []  # reported once, with the first notebook that ran
        scores = grades.get(name, {})
        cells = []
        source = graded if graded is not None else release_notebook
        for cell in source.cells:
            meta = cell.metadata.get("nbgrader", {})
            if not meta.get("grade"):
                continue
            grade_id = meta["grade_id"]
            grade = scores.get(grade_id, {})
            outcome, message, mistake = cell_outcome(cell) if graded is not None else ("not_graded", "", None)
            cells.append({
                "grade_id": grade_id, "exercise": exercise_name(grade_id),
                "score": float(grade.get("auto_score") or 0.0),
                "max_score": float(grade.get("max_score", meta.get("points", 0.0))),
                "outcome": outcome, "message": message[:2000], "mistake": mistake,
            })
        notebooks[name] = {
            "status": worst(found.problems), "problems": found.problems, "found_as": found.found_as,
            "score": sum(cell["score"] for cell in cells), "max_score": sum(cell["max_score"] for cell in cells),
            "cells": cells,
        }
    return _summary(student, assignment, notebooks, grades, comments, timestamp)


def _summary(student, assignment, notebooks, grades, comments, timestamp) -> dict:
    reasons = [f"{name}: {reason}" for name, notebook in notebooks.items()
               for status in STATUSES for reason in notebook["problems"].get(status, [])]
    return {
        "student_id": student, "assignment": assignment,
        "status": worst(notebook["status"] for notebook in notebooks.values()),
        "reasons": reasons,
        "score": sum(notebook["score"] for notebook in notebooks.values()),
        "max_score": sum(notebook["max_score"] for notebook in notebooks.values()),
        "timestamp": timestamp, "notebooks": notebooks, "grades": grades, "comments": comments,
    }


def unreadable(student: str, assignment: str, release: dict, status: str, reason: str) -> dict:
    """The outcome of a submission that could not be graded at all: every cell 0, with the reason.

    ``release``: ``{notebook name: release notebook}`` (for the cells and points)."""
    notebooks = {}
    for name, notebook in release.items():
        cells = [{"grade_id": cell.metadata["nbgrader"]["grade_id"],
                  "exercise": exercise_name(cell.metadata["nbgrader"]["grade_id"]),
                  "score": 0.0, "max_score": float(cell.metadata["nbgrader"].get("points", 0.0)),
                  "outcome": "not_graded", "message": "", "mistake": None}
                 for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade")]
        notebooks[name] = {"status": status, "problems": {status: [reason]}, "found_as": None, "score": 0.0,
                           "max_score": sum(cell["max_score"] for cell in cells), "cells": cells}
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
    return saved
