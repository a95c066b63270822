"""What a learner sees when a check cell fails in JupyterLab: a message, not the grader's traceback.

The cells run in a real IPython kernel (nbclient), and the error output's ``traceback`` lines
are what JupyterLab shows and what nbgrader's Validate dialog quotes (truncated to its first lines).
"""

import nbformat
import pytest
from nbclient import NotebookClient

CELLS = {
    "setup": "import numpy as np\nfrom mlpcore.grading import check",
    "wrong": "def relu(Z):\n    return np.minimum(Z, 0)\n\ncheck('relu', relu)",
    "raises": "def dense_forward(X, W, b):\n    Z = X @ W.T\n    return Z + b\n\ncheck('dense_forward', dense_forward)",
    "untouched": "def sigmoid(Z):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\ncheck('sigmoid', sigmoid)",
    "hidden": "def relu_backward(dA, Z):\n    return dA * (Z > 0) if Z.size < 15 else dA\n\n"
              "check('relu_backward', relu_backward, hidden=True)",
}


@pytest.fixture(scope="module")
def errors():
    """``{cell name: the error output}`` after running the cells in a python3 kernel."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS.values()]
    NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True).execute()
    found = {}
    for name, cell in zip(CELLS, notebook.cells):
        outputs = [out for out in cell.outputs if out.output_type == "error"]
        found[name] = outputs[0] if outputs else None
    assert found["setup"] is None, found["setup"]
    return found


@pytest.mark.parametrize("name", ["wrong", "raises", "untouched", "hidden"])
def test_no_frame_of_the_grader_is_shown(errors, name):
    error = errors[name]
    assert error is not None and error.ename == "ExerciseFailed"  # the grader reads the name
    shown = "\n".join(error.traceback)
    assert "mlpcore/grading" not in shown and "grading/__init__" not in shown, shown
    assert "Traceback" not in shown and "---->" not in shown, shown


def test_the_likely_mistake_comes_first_in_lines_validate_shows_whole(errors):
    lines = errors["wrong"].traceback
    assert lines[0] == "ExerciseFailed: relu, case 1 of 5 (Z (1, 3) float64)", lines
    assert lines[1].startswith("Likely mistake: np.minimum instead of np.maximum"), lines
    shown = " ".join(line.strip() for line in lines)
    assert "Likely mistake: np.minimum instead of np.maximum: ReLU keeps the positive part." in shown
    assert shown.index("Likely mistake") < shown.index("differs from the expected values")
    assert all(len("    " + line) <= 87 for line in lines), lines  # Validate cuts longer lines off
    # The paragraph the grader keeps still names the mistake on its own line.
    assert "\nLikely mistake: np.minimum instead of np.maximum" in errors["wrong"].evalue


def test_an_error_in_the_learners_function_shows_their_line(errors):
    shown = "\n".join(errors["raises"].traceback)
    assert "your function raised ValueError" in shown
    assert "line 2 of dense_forward: Z = X @ W.T" in " ".join(line.strip() for line in errors["raises"].traceback), shown


def test_an_untouched_exercise_says_it_is_not_written_yet(errors):
    shown = "\n".join(errors["untouched"].traceback)
    assert "not written yet" in shown, shown
    assert "NotImplementedError: \n" not in shown + "\n" and "NotImplementedError: ." not in shown, shown
    assert "raised NotImplementedError" in errors["untouched"].evalue  # read as "unanswered" by the grader


def test_a_hidden_failure_says_so(errors):
    from mlpcore.grading import failed_in_hidden_cases

    assert errors["hidden"].traceback[0].startswith("ExerciseFailed: relu_backward, hidden case")
    assert failed_in_hidden_cases(errors["hidden"].evalue)
    assert not failed_in_hidden_cases(errors["wrong"].evalue)


def test_a_bad_call_to_the_reference_outside_a_check_shows_no_guard():
    """Issue 23: a bad-shape call to mlpcore outside any check showed the guard's frame, whose lines mention
    that the reference "refuses to run while your code is being checked", above the real error."""
    import sys

    import numpy as np
    from IPython.core.ultratb import AutoFormattedTB

    import mlpcore

    try:
        mlpcore.layers.dense_forward(np.ones((2, 3)), np.ones((4, 5)), np.ones(5))
    except ValueError:
        text = "".join(AutoFormattedTB(mode="Context", theme_name="nocolor").structured_traceback(*sys.exc_info()))
    assert "matmul" in text or "shapes" in text
    assert "refuses to run" not in text and "guarded" not in text
