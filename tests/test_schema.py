"""The typed contract between the checks and the grader (:mod:`mlpcore.schema`) and its readers.

A check cell graded by ``mlpcore grade`` holds its checks' verdicts as data; the outcome, the
feedback pages and the report read that data, never the English of the error. A cell without
verdicts (``mlpcore check``, a kernel that died) is still read from its error.
"""

from __future__ import annotations

import html
import json
import os
import sys

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from mlpcore.autograde.outcome import cell_outcome, collect, notebook_problems, read_saved
from mlpcore.schema import METADATA_KEY
from mlpcore.autograde.report import needing_attention, status_badge
from mlpcore.schema import NotebookProblems
from mlpcore.grading import ExerciseFailed
from mlpcore.schema import (CELL_OUTCOME_OF_CHECK, CHECK_OUTCOMES, OUTCOME_WORDS, STATUSES, CellOutcome, CheckResult,
                            NotebookOutcome, Status, VERDICT_MIME, severity, verdicts, worst)

MISTAKE = "forgot to add the bias b"


def check_cell(*outputs, grade_id="relu_tests"):
    """A graded test cell holding ``outputs``."""
    meta = {"nbgrader": {"grade": True, "grade_id": grade_id, "locked": True, "solution": False, "points": 1,
                         "schema_version": 3}}
    return new_code_cell("check('relu', relu)", metadata=meta, outputs=list(outputs))


def failing(evalue="relu: case 1 of 3: values differ", ename="ExerciseFailed"):
    return new_output("error", ename=ename, evalue=evalue, traceback=[])


# ---------------------------------------------------------------------------------------------- statuses


def test_every_status_has_a_meaning_and_only_ok_needs_no_attention():
    assert all(name == status.name and status.meaning for name, status in STATUSES.items())
    assert [name for name, status in STATUSES.items() if not status.needs_attention] == ["ok"]
    assert list(STATUSES)[-1] == "ok"  # the least serious of all


def test_severity_follows_the_table_and_the_worst_status_wins():
    assert [severity(name) for name in STATUSES] == list(range(len(STATUSES)))
    assert worst(["renamed", "timeout", "ok"]) == "timeout" and worst(["restructured", "tampered"]) == "tampered"
    assert worst([]) == "ok"
    assert severity("from-a-newer-mlpcore") == len(STATUSES)  # an unknown status sorts last, not an error


@pytest.mark.parametrize("name", [*STATUSES, "from-a-newer-mlpcore"])
def test_the_report_highlights_exactly_the_statuses_that_need_attention(name):
    row = Status.named(name)
    flagged = needing_attention([{"student_id": "ada", "status": name}])
    assert bool(flagged) == row.needs_attention
    badge = status_badge(name)
    assert f'class="status status-{row.style}"' in badge and f'title="{html.escape(row.meaning)}"' in badge
    assert row.style == ("ok" if name == "ok" else "serious" if row.serious else "notice")


def test_the_report_lists_the_most_serious_status_first():
    results = [{"student_id": student, "status": status}
               for student, status in (("ada", "renamed"), ("ben", "ok"), ("cy", "invalid"), ("di", "tampered"))]
    assert [result["student_id"] for result in needing_attention(results)] == ["cy", "di", "ada"]


def test_every_cell_outcome_has_words_for_learners():
    assert set(CELL_OUTCOME_OF_CHECK) == set(CHECK_OUTCOMES)
    assert set(CELL_OUTCOME_OF_CHECK.values()) <= set(OUTCOME_WORDS)


# ---------------------------------------------------------------------------------------------- a check's verdict


def test_a_check_result_survives_its_json_and_its_notebook_output():
    result = CheckResult("relu", "wrong", "relu: case 2 of 3: Z differs.", "case 2 of 3", MISTAKE, True,
                         "line 2 of relu: return Z", "Z differs")
    assert CheckResult.from_json(json.loads(json.dumps(result.to_json()))) == result
    assert verdicts(check_cell(result.output())) == [result]
    assert "text/plain" not in result.output()["data"]  # only tools read it


def test_a_failure_becomes_a_result_whose_summary_leaves_out_the_mistake():
    failure = ExerciseFailed("dense_forward", "wrong", "Z differs from the expected values", case="case 1 of 3",
                             mistake=MISTAKE)
    result = CheckResult.from_failure(failure, hidden=True)
    assert (result.outcome, result.mistake, result.hidden, result.message) == ("wrong", MISTAKE, True, str(failure))
    assert result.summary == "dense_forward: case 1 of 3: Z differs from the expected values."
    assert result.summary + f"\nLikely mistake: {MISTAKE}." == str(failure)  # nothing lost, nothing parsed
    # a result not built from a failure (the worker's own) is summed up by its message
    assert CheckResult("relu", "tampered", "the check cell left no result").summary == "the check cell left no result"


@pytest.mark.parametrize("data", [
    None, [], "relu", {"exercise": "relu"}, {"outcome": "passed"},
    {"exercise": "relu", "outcome": "passed", "score": 1},  # a key it does not have
    {"exercise": "relu", "outcome": "aced"},  # an outcome it does not know
    {"exercise": 3, "outcome": "passed"},
    {"exercise": "relu", "outcome": "passed", "hidden": "yes"},
    {"exercise": "relu", "outcome": "passed", "hidden": 1},
    {"exercise": "relu", "outcome": "wrong", "message": ["a", "list"]},
    {"exercise": "relu", "outcome": "wrong", "case": None},
    {"exercise": "relu", "outcome": "wrong", "mistake": 7},
])
def test_anything_but_a_check_result_is_refused(data):
    with pytest.raises(ValueError):
        CheckResult.from_json(data)


# ---------------------------------------------------------------------------------------------- reading a cell


def test_a_failing_verdict_names_its_mistake_without_any_likely_mistake_line():
    verdict = CheckResult("relu", "wrong", "relu: case 1 of 3: values differ.", case="case 1 of 3", mistake=MISTAKE)
    # the error text a learner reads need not say "Likely mistake:" at all: the verdict carries it
    outcome, message, mistake = cell_outcome(check_cell(failing(), verdict.output()))
    assert (outcome, mistake) == ("failed", MISTAKE)
    assert "Likely mistake" not in message and "values differ" in message


def test_the_first_failing_verdict_decides_and_passing_verdicts_pass():
    passed = CheckResult("relu", "passed", "relu: all 3 cases match the reference.")
    wrong = CheckResult("relu", "mutated_input", "relu: changed its input", hidden=True)
    error = CheckResult("relu", "error", "relu: raised")
    assert cell_outcome(check_cell(passed.output(), passed.output())) == ("passed", "", None)
    assert cell_outcome(check_cell(failing(), passed.output(), wrong.output(), error.output()))[:2] == (
        "failed", "relu: changed its input")


@pytest.mark.parametrize("check, cell", sorted(CELL_OUTCOME_OF_CHECK.items()))
def test_each_check_outcome_gives_its_cell_outcome(check, cell):
    verdict = CheckResult("relu", check, "relu: what happened")
    outputs = [verdict.output()] if verdict.passed else [failing(ename=verdict.ename), verdict.output()]
    assert cell_outcome(check_cell(*outputs))[0] == cell


def test_a_result_that_cannot_be_read_counts_as_tampered():
    forged = new_output("display_data", data={VERDICT_MIME: {"exercise": "relu", "outcome": "passed", "points": 100}})
    outcome, message, _ = cell_outcome(check_cell(forged))
    assert outcome == "tampered" and "cannot be read" in message


def test_a_cell_cut_short_is_read_from_its_error_whatever_verdicts_it_holds():
    verdict = CheckResult("relu", "tampered", "the check cell left no result")
    timeout = new_output("error", ename="CellTimeoutError", evalue="", traceback=[])
    assert cell_outcome(check_cell(verdict.output(), timeout))[0] == "timeout"


def test_a_cell_without_verdicts_is_read_from_its_error_with_the_mistake_apart():
    """``mlpcore check`` and kernels that died: the failure's own text, its mistake line taken out."""
    evalue = f"relu: case 1 of 3: values differ.\nLikely mistake: {MISTAKE}."
    assert cell_outcome(check_cell(failing(evalue))) == ("failed", "ExerciseFailed: relu: case 1 of 3: values differ.",
                                                         MISTAKE)
    assert cell_outcome(check_cell(failing("x", ename="NameError"))) == ("error", "NameError: x", None)
    assert cell_outcome(check_cell()) == ("passed", "", None)


# ---------------------------------------------------------------------------------------------- a whole submission


def graded_submission(tmp_path, monkeypatch, cells) -> dict:
    """The outcome :func:`collect` gives an autograded notebook ``forward`` of ``cells`` (no gradebook scores)."""
    import nbformat

    # nbgrader makes the (empty) gradebook with its alembic command, beside this Python
    monkeypatch.setenv("PATH", os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]))
    course, release = tmp_path / "course", new_notebook(cells=cells)
    path = course / "autograded" / "ada" / "02-forward" / "forward.ipynb"
    path.parent.mkdir(parents=True)
    graded = new_notebook(cells=cells)
    # What the pipeline's last step (RecordOutcome) reads from the cells and leaves in the notebook.
    settings = {"max_output_bytes": 1e6, "cell_timeout": 10, "memory_mb": 2048}
    graded.metadata[METADATA_KEY] = {"problems": notebook_problems(graded, {}, settings).problems}
    nbformat.write(graded, path)
    return collect(course, "ada", "02-forward", {"forward": release}, {"forward": NotebookProblems()})


def test_a_tampered_verdict_makes_the_submission_tampered_and_names_the_cell(tmp_path, monkeypatch):
    good = CheckResult("relu", "passed", "relu: all 3 cases match the reference.")
    forged = CheckResult("tanh", "tampered", "the check cell left no result")
    graded = graded_submission(tmp_path, monkeypatch, [
        new_markdown_cell("# Forward"),
        check_cell(good.output()),
        check_cell(failing("the check cell left no result", ename=forged.ename), forged.output(),
                   grade_id="tanh_tests"),
    ])
    assert graded["status"] == "tampered"
    assert graded["reasons"] == ["forward: tanh_tests: the check cell left no result; the cell scores 0"]
    cells = {cell["grade_id"]: cell for cell in graded["notebooks"]["forward"]["cells"]}
    assert (cells["relu_tests"]["outcome"], cells["tanh_tests"]["outcome"]) == ("passed", "tampered")
    assert OUTCOME_WORDS["tampered"] == "result missing or forged"


def test_a_malformed_verdict_makes_the_submission_tampered_too(tmp_path, monkeypatch):
    malformed = new_output("display_data", data={VERDICT_MIME: {"outcome": "passed"}})
    graded = graded_submission(tmp_path, monkeypatch, [check_cell(malformed)])
    assert graded["status"] == "tampered" and graded["reasons"][0].startswith("forward: relu_tests: ")
    assert "cannot be read" in graded["reasons"][0]


def test_a_verdict_of_the_reference_used_is_named_once_per_cell(tmp_path, monkeypatch):
    used = CheckResult("relu", "reference_used", "relu: your function called mlpcore's own answer.")
    cell = check_cell(failing(used.message, ename=used.ename), used.output(), used.output())  # visible and hidden
    graded = graded_submission(tmp_path, monkeypatch, [cell])
    assert graded["status"] == "reference_used"
    assert graded["reasons"] == ["forward: relu_tests: relu: your function called mlpcore's own answer."]


# ---------------------------------------------------------------------------------------------- saved outcomes


def old_outcome() -> dict:
    """An outcome as mlpcore saved it before verdicts: the message repeats the mistake on its last line."""
    cell = {"grade_id": "relu_tests", "exercise": "relu", "score": 0.0, "max_score": 1.0, "outcome": "failed",
            "message": f"ExerciseFailed: relu: case 1 of 3: values differ.\nLikely mistake: {MISTAKE}.",
            "mistake": MISTAKE}
    return {"student_id": "ada", "assignment": "02-forward", "status": "renamed",
            "reasons": ["forward: forward.ipynb was submitted as fwd.ipynb"], "score": 0.0, "max_score": 1.0,
            "timestamp": None, "fingerprint": "abc", "seconds": 3.5,
            "notebooks": {"forward": {"status": "renamed", "problems": {"renamed": ["forward.ipynb was submitted as "
                                                                                    "fwd.ipynb"]},
                                      "found_as": "fwd.ipynb", "score": 0.0, "max_score": 1.0, "cells": [cell]}},
            "grades": {}, "comments": {}}


def test_an_outcome_saved_before_verdicts_is_still_read(tmp_path):
    path = tmp_path / "ada.json"
    path.write_text(json.dumps(old_outcome()))
    saved = read_saved(path)
    assert (saved["status"], saved["fingerprint"], saved["seconds"]) == ("renamed", "abc", 3.5)
    notebook = NotebookOutcome.from_json(saved["notebooks"]["forward"])
    assert (notebook.status, notebook.found_as, notebook.score, notebook.max_score) == ("renamed", "fwd.ipynb", 0, 1)
    cell = notebook.cells[0]
    assert (cell.outcome, cell.mistake) == ("failed", MISTAKE)
    assert cell.message == "ExerciseFailed: relu: case 1 of 3: values differ."  # the mistake is not said twice


def test_a_notebook_outcome_survives_its_json():
    notebook = NotebookOutcome({"timeout": ["relu_tests ran over the cell time limit of 10 s"]}, None, [
        CellOutcome("relu_tests", "relu", 0.0, 1.0, "timeout", "the cell ran over its time limit"),
        CellOutcome("tanh_tests", "tanh", 2.0, 2.0, "passed")])
    data = json.loads(json.dumps(notebook.to_json()))
    assert (data["status"], data["score"], data["max_score"]) == ("timeout", 2.0, 3.0)
    assert NotebookOutcome.from_json(data) == notebook


@pytest.mark.parametrize("edit", [
    lambda nb: nb["problems"].update(aced=["?"]),  # a status the table does not have
    lambda nb: nb["cells"][0].update(outcome="aced"),
    lambda nb: nb["cells"][0].update(score="1"),
    lambda nb: nb["cells"][0].pop("grade_id"),
    lambda nb: nb.pop("cells"),
])
def test_a_damaged_outcome_file_is_skipped_with_its_name(tmp_path, capsys, edit):
    saved = old_outcome()
    edit(saved["notebooks"]["forward"])
    path = tmp_path / "ada.json"
    path.write_text(json.dumps(saved))
    assert read_saved(path) is None
    assert f"skipped {path}: not an outcome" in capsys.readouterr().err


def test_the_readme_lists_the_statuses_of_the_table_in_its_order():
    """The README's table of statuses is the teacher's copy of :data:`STATUSES`: same rows, same order,
    and the serious ones (shown in red) are those down to ``suspicious``, as it says."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    table = readme.split("| status | when | what is graded |", 1)[1].split("\n\n", 1)[0]
    rows = [line.split("`")[1] for line in table.splitlines() if line.startswith("| `")]
    assert rows == [name for name, status in STATUSES.items() if status.needs_attention]
    serious = [name for name, status in STATUSES.items() if status.serious]
    assert serious == rows[: rows.index("suspicious") + 1]


def test_a_mistyped_status_is_refused_when_added_not_when_the_outcome_is_read_back():
    # Accepted once, "tamperd" ranked below ok, and read_saved later refused the file: the student
    # vanished from grades.csv and the report while the gradebook kept the score.
    problems = NotebookProblems()
    with pytest.raises(ValueError, match="'tamperd' is not a status; the statuses are invalid, missing"):
        problems.add("tamperd", "a cell was edited")
    problems.add("tampered", "a cell was edited")
    assert problems.problems == {"tampered": ["a cell was edited"]}


def test_a_saved_outcome_is_written_and_checked_in_one_place(tmp_path, capsys):
    from mlpcore.autograde.outcome import read_saved
    from mlpcore.schema import SubmissionOutcome

    notebook = NotebookOutcome({"tampered": ["a cell was edited"]}, None, [])
    written = SubmissionOutcome("ada", "02-forward", {"forward": notebook}, extra={"seconds": 3.5}).to_json()
    assert (written["status"], written["reasons"], written["seconds"]) == ("tampered", ["forward: a cell was edited"], 3.5)
    path = tmp_path / "ada.json"
    path.write_text(json.dumps(written))
    assert read_saved(path) == written
    path.write_text(json.dumps({**written, "status": "tamperd"}))
    assert read_saved(path) is None and "'tamperd' is not a status" in capsys.readouterr().err
