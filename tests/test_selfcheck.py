"""``mlpcore check``: the hidden variant of test cells, and scoring a learner's notebook locally.

The notebook runs take a few seconds each, so three runs (the release notebook, a solved
one, and one with mistakes and an edited test cell) carry all the assertions about them.
"""

from __future__ import annotations

import ast
import copy
import hashlib
from pathlib import Path

import nbformat
import pytest

from mlpcore.autograde.selfcheck import check_notebook, format_report, hidden_variant

ROOT = Path(__file__).resolve().parent.parent
COURSE, SOLUTIONS = ROOT / "course", ROOT / "solutions"
FORWARD = COURSE / "02-forward" / "forward.ipynb"
FORWARD_POINTS = 9.0
# Test cells whose hidden block is free-form code, not check(...) calls: they cannot be rebuilt from
# the release notebook, so the local check would run their visible part only (and say so). None left.
FREE_FORM_HIDDEN = set()
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def graded_cells(path: Path) -> dict:
    """``{grade_id: cell}`` of the autograded test cells of a notebook."""
    notebook = nbformat.read(path, as_version=4)
    return {cell.metadata["nbgrader"]["grade_id"]: cell for cell in notebook.cells
            if cell.metadata.get("nbgrader", {}).get("grade")}


def without_markers(source: str, *markers: str) -> str:
    return "\n".join(line for line in source.splitlines() if line.strip() not in markers)


def hidden_block(source: str) -> str:
    lines = source.splitlines()
    return "\n".join(lines[lines.index(BEGIN_HIDDEN) + 1: lines.index(END_HIDDEN)])


def statements(source: str) -> str:
    return ast.dump(ast.parse(source))


# --- hidden_variant -------------------------------------------------------------------------------------------


def release_and_source_test_cells():
    pairs = []
    for release_path in sorted(COURSE.glob("*/*.ipynb")):
        source_cells = graded_cells(SOLUTIONS / release_path.relative_to(COURSE))
        for grade_id, cell in graded_cells(release_path).items():
            pairs.append(pytest.param(cell.source, source_cells[grade_id].source, id=grade_id))
    return pairs


@pytest.mark.parametrize("release, source", release_and_source_test_cells())
def test_hidden_variant_runs_exactly_the_graders_hidden_tests(release, source):
    """The local check must run what the course's grading runs: the source cell with its markers removed."""
    variant = hidden_variant(release)
    expected = source if "hidden=True" in hidden_block(source) else release
    assert statements(variant) == statements(without_markers(expected, BEGIN_HIDDEN, END_HIDDEN))


def test_free_form_hidden_blocks_are_known():
    """A new hidden block that is not check(...) calls would silently be skipped locally: list it here."""
    free_form = {grade_id for release_path in COURSE.glob("*/*.ipynb")
                 for grade_id, cell in graded_cells(SOLUTIONS / release_path.relative_to(COURSE)).items()
                 if "hidden=True" not in hidden_block(cell.source)}
    assert free_form == FREE_FORM_HIDDEN


@pytest.mark.parametrize("source, added", [
    ('check("relu", relu)', "check('relu', relu, hidden=True)"),
    ('check( "relu" ,\n      relu )  # spaced out', "check('relu', relu, hidden=True)"),
    ("accuracy = check_classifier(train, predict)", "accuracy_hidden = check_classifier(train, predict, hidden=True)"),
    ('grading.check("relu", relu)', "grading.check('relu', relu, hidden=True)"),
])
def test_hidden_variant_adds_the_hidden_call_after_the_visible_source(source, added):
    variant = hidden_variant(source)
    assert variant.startswith(source.rstrip())
    assert variant.rstrip().endswith(added)


@pytest.mark.parametrize("source", [
    'check("relu", relu, hidden=True)',           # already hidden
    'check("relu", relu, hidden=False)',          # a deliberate choice, left alone
    'print(check)\nassert relu(1) == 1',          # no check call at top level
    'if True:\n    check("relu", relu)',          # nested: not a top-level line
    'check("relu", relu',                         # does not parse: the cell reports it itself
])
def test_hidden_variant_leaves_other_sources_unchanged(source):
    assert hidden_variant(source) == source


def test_hidden_variant_does_not_repeat_hidden_tests_already_there():
    source_cell = graded_cells(SOLUTIONS / "02-forward" / "forward.ipynb")["relu_tests"].source
    assert hidden_variant(source_cell) == source_cell


# --- check_notebook and format_report -------------------------------------------------------------------------


def solution_code(source: str) -> str:
    return without_markers(source, "### BEGIN SOLUTION", "### END SOLUTION")


def solved_forward():
    """The release notebook of 02-forward with every answer cell filled in from the solutions."""
    return solved(FORWARD)


def solved(release: Path):
    """The release notebook ``release`` with every answer cell filled in from the solutions."""
    notebook = nbformat.read(release, as_version=4)
    solutions = {cell.metadata["nbgrader"]["grade_id"]: cell.source
                 for cell in nbformat.read(SOLUTIONS / release.relative_to(COURSE), as_version=4).cells
                 if cell.metadata.get("nbgrader", {}).get("solution")}
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = solution_code(solutions[grade_id])
    return notebook


def answer(notebook, grade_id: str, source: str):
    """A copy of ``notebook`` whose cell ``grade_id`` holds ``source``."""
    notebook = copy.deepcopy(notebook)
    cell = next(cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    cell.source = source
    return notebook


def by_exercise(result: dict) -> dict:
    return {exercise["exercise"]: exercise for exercise in result["exercises"]}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_release_notebook_is_all_unanswered():
    lines = []
    result = check_notebook(FORWARD, progress=lines.append)
    assert result["notebook"] == str(FORWARD)
    assert (result["score"], result["max_score"]) == (0.0, FORWARD_POINTS)
    assert [exercise["outcome"] for exercise in result["exercises"]] == ["unanswered"] * 6
    assert [exercise["exercise"] for exercise in result["exercises"]] == [
        "dense_forward", "relu", "sigmoid", "tanh", "softmax", "forward_pass"]
    assert result["problems"] == []
    assert lines[0].startswith("running forward.ipynb") and "checking forward_pass (6/6)" in lines
    report = format_report(result)
    assert "0/9 (0%)" in report and "not answered yet" in report and "NotImplementedError()" in report


def test_solved_notebook_scores_full_marks_without_touching_the_file(tmp_path):
    notebook = solved_forward()
    # The kernel works in the notebook's folder, as it does in Jupyter: relative paths find the learner's files.
    notebook.cells.append(nbformat.v4.new_code_cell('import os\nopen("cwd.txt", "w").write(os.getcwd())'))
    path = tmp_path / "forward.ipynb"
    nbformat.write(notebook, path)
    before = digest(path)
    result = check_notebook(path)
    assert digest(path) == before
    assert Path((tmp_path / "cwd.txt").read_text()).resolve() == tmp_path.resolve()
    assert (result["score"], result["max_score"]) == (FORWARD_POINTS, FORWARD_POINTS)
    assert {exercise["outcome"] for exercise in result["exercises"]} == {"passed"}
    assert all(exercise["score"] == exercise["max_score"] for exercise in result["exercises"])
    assert result["problems"] == []
    report = format_report(result)
    assert "9/9 (100%)" in report and "✗" not in report and "What to fix" not in report


def test_mistakes_and_an_edited_test_cell(tmp_path):
    notebook = answer(solved_forward(), "dense_forward", "def dense_forward(X, W, b):\n    return X @ W\n")
    # Right on the visible cases (at most 24 entries), wrong on the larger hidden ones.
    notebook = answer(notebook, "relu", "def relu(Z):\n    return np.maximum(Z, 0) if Z.size <= 24 else Z\n")
    notebook = answer(notebook, "tanh", "def tanh(Z)\n    return np.tanh(Z)\n")  # a SyntaxError
    notebook = answer(notebook, "softmax_tests", 'print("all good")\n')  # a learner "fixing" a test
    path = tmp_path / "forward.ipynb"
    nbformat.write(notebook, path)
    result = check_notebook(path)
    exercises = by_exercise(result)

    dense = exercises["dense_forward"]
    assert (dense["outcome"], dense["score"], dense["max_score"]) == ("failed", 0.0, 2.0)
    assert "bias" in dense["mistake"]
    assert not dense["message"].startswith("the visible test passes")  # it fails the visible test already
    assert exercises["relu"]["outcome"] == "failed"
    assert exercises["relu"]["message"].startswith("the visible test passes, but the hidden tests fail")
    assert (exercises["tanh"]["outcome"], exercises["tanh"]["score"]) == ("error", 0.0)
    assert any(problem.startswith("your answer cell tanh raised SyntaxError") for problem in result["problems"])
    softmax = exercises["softmax"]
    assert (softmax["outcome"], softmax["score"]) == ("edited", 0.0)
    assert "fresh copy" in softmax["message"]
    # forward_pass uses the learner's tanh, which the SyntaxError left undefined: it raises, as the grader
    # reports it too (the verdict's "error", where reading the error's name once said "failed"); sigmoid passes.
    assert exercises["forward_pass"]["outcome"] == "error"
    assert "NameError: name 'tanh' is not defined" in exercises["forward_pass"]["message"]
    assert (exercises["sigmoid"]["outcome"], exercises["sigmoid"]["score"]) == ("passed", 1.0)
    assert result["score"] == 1.0
    assert any("softmax" in problem and "edited" in problem for problem in result["problems"])

    report = format_report(result)
    assert "Likely mistake: " in report and "bias" in report
    assert report.count("Likely mistake: ") == 1  # not repeated from the message
    assert "test cell edited" in report and "1/9 (11%)" in report
    assert "ExerciseFailed" not in report


# A project whose backward pass takes db as a mean over the batch: its classifier still reaches 95 %
# (Adam's steps hardly notice a bias gradient batch times too small), so until issue 14 it scored 5/5.
DB_AS_A_MEAN = """def loss_and_grads(params, X, y):
    logits, cache = forward(params, X)
    loss, dZ = softmax_cross_entropy(logits, y)
    grads = {}
    for i in range(len(cache), 0, -1):
        A_prev, Z_prev = cache[i - 1][0], (cache[i - 2][1] if i > 1 else None)
        grads[f"W{i}"] = A_prev.T @ dZ
        grads[f"b{i}"] = dZ.mean(axis=0)
        if i > 1:
            dZ = relu_backward(dZ @ params[f"W{i}"].T, Z_prev)
    return loss, grads
"""


def test_a_project_trained_on_a_wrong_backward_pass_loses_the_loss_and_grads_points(tmp_path):
    path = tmp_path / "project.ipynb"
    nbformat.write(answer(solved(COURSE / "10-project" / "project.ipynb"), "loss_and_grads", DB_AS_A_MEAN), path)
    result = check_notebook(path)
    exercises = by_exercise(result)
    assert (exercises["digits_classifier"]["outcome"], exercises["digits_classifier"]["score"]) == ("passed", 5.0)
    wrong = exercises["loss_and_grads"]
    assert (wrong["outcome"], wrong["score"], wrong["max_score"]) == ("failed", 0.0, 3.0)
    assert "db = dZ.sum(axis=0)" in wrong["mistake"]
    assert (result["score"], result["max_score"]) == (5.0, 8.0)


def test_invalid_inputs_are_refused_clearly(tmp_path):
    script = tmp_path / "forward.ipynb"
    script.write_text("def relu(Z):\n    return Z\n")
    with pytest.raises(ValueError, match="is not valid JSON"):
        check_notebook(script)
    with pytest.raises(FileNotFoundError, match="no notebook at"):
        check_notebook(tmp_path / "missing.ipynb")
    (tmp_path / "list.ipynb").write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a Jupyter notebook.*found a JSON list"):
        check_notebook(tmp_path / "list.ipynb")
    plain = tmp_path / "plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), plain)
    with pytest.raises(ValueError, match="no graded test cells"):
        check_notebook(plain)


def test_notes_before_running_name_visible_only_cells_and_missing_checksums():
    """Without running anything: what the local check tells the learner it could not do."""
    from mlpcore.autograde.selfcheck import _prepare

    from nbgrader.utils import compute_checksum

    # Every test cell of the course is made of check(...) calls: the local check rebuilds every hidden test.
    for release_path in sorted(COURSE.glob("*/*.ipynb")):
        assert _prepare(nbformat.read(release_path, as_version=4))[2] == [], release_path.name
    # A test cell of free-form asserts (as in an instructor's own notebook) cannot be rebuilt: said before running.
    notebook = nbformat.read(COURSE / "05-gradcheck" / "gradcheck.ipynb", as_version=4)
    cell = next(cell for cell in notebook.cells
                if cell.metadata.get("nbgrader", {}).get("grade_id") == "find_broken_gradient_tests")
    cell.source = "assert find_broken_gradient(suspect_loss_and_grads, colleague_params, X_small, y_small)[0] == 'W2'"
    cell.metadata["nbgrader"]["checksum"] = compute_checksum(cell)
    _, _, problems = _prepare(notebook)
    assert problems == [problems[0]] and problems[0].startswith("find_broken_gradient: only the visible tests")
    # An instructor's source notebook: hidden tests already there, but no checksums to compare with.
    tests, edited, problems = _prepare(nbformat.read(SOLUTIONS / "02-forward" / "forward.ipynb", as_version=4))
    assert (len(tests), edited) == (6, set())
    assert len(problems) == 1 and "carry no checksum" in problems[0]


def test_a_broken_answer_cell_is_named_with_its_number_and_what_to_do(tmp_path):
    """Issue 23: a SyntaxError in tanh's cell came back as "NameError: name 'tanh' is not defined" with the
    kernel's file name, the "not answered yet" line was printed once per exercise, and nothing said what
    to do next."""
    notebook = answer(nbformat.read(FORWARD, as_version=4), "tanh", "def tanh(Z)\n    return np.tanh(Z)\n")
    path = tmp_path / "forward.ipynb"
    nbformat.write(notebook, path)
    result = check_notebook(path)
    number = next(index + 1 for index, cell in enumerate(notebook.cells)
                  if cell.metadata.get("nbgrader", {}).get("grade_id") == "tanh")
    tanh = by_exercise(result)["tanh"]
    assert tanh["message"].startswith("not checked: name 'tanh' is not defined, because your answer cell tanh "
                                      "raised SyntaxError"), tanh["message"]
    assert f"(line 1 of cell {number})" in tanh["message"] and ".py" not in tanh["message"]
    report = format_report(result)
    assert [line for line in report.splitlines() if line.startswith("- ") and "not answered yet" in line] == [
        "- dense_forward, relu, sigmoid, softmax, forward_pass: not answered yet: replace `raise NotImplementedError()` "
        "in each one's answer cell with your code."]
    assert report.rstrip().splitlines()[-1] == ("Next: write dense_forward in its answer cell, run its check cell in "
                                                "Jupyter until it passes, then run mlpcore check forward.ipynb again.")


def test_a_given_cell_that_calls_a_helper_named_otherwise_is_reported(tmp_path):
    """Issue 23: 10-project's gradient-check cell calls init_params; a learner's make_params(sizes, seed) gave a
    NameError there that mlpcore check did not mention (8/8)."""
    notebook = solved(COURSE / "10-project" / "project.ipynb")
    helpers = next(cell for cell in notebook.cells if "def init_params(" in cell.source)
    helpers.source = helpers.source.replace("def init_params(", "def make_params(")
    helpers.source += "\n\ndef init_params_unused():\n    pass\n"
    for cell in notebook.cells:  # the learner's own cells call their own name
        if cell is not helpers and "init_params(" in cell.source and "rng_small" not in cell.source:
            cell.source = cell.source.replace("init_params(", "make_params(")
    path = tmp_path / "project.ipynb"
    nbformat.write(notebook, path)
    result = check_notebook(path)
    assert any(problem.startswith("cell ") and "raised NameError: name 'init_params' is not defined" in problem
               and "read the text above it" in problem for problem in result["problems"]), result["problems"]


def test_the_local_check_judges_like_the_grader_so_a_silenced_check_scores_nothing(tmp_path):
    # Read from the cells' error outputs, a notebook that silences check scored full marks here.
    # Judged outside the kernel, as mlpcore grade does, its test cells leave no request: 0.
    notebook = nbformat.read(COURSE / "02-forward" / "forward.ipynb", as_version=4)
    setup = next(index for index, cell in enumerate(notebook.cells) if "import check" in cell.source)
    notebook.cells.insert(setup + 1, nbformat.v4.new_code_cell("check = lambda *args, **kwargs: None"))
    path = tmp_path / "forward.ipynb"
    nbformat.write(notebook, path)
    result = check_notebook(path)
    assert result["score"] == 0.0
    assert {exercise["outcome"] for exercise in result["exercises"]} <= {"tampered", "unanswered"}
