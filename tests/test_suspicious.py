"""Code that reaches into the grader is flagged (mlpcore/autograde/suspicious.py); the course's
solutions and every correct variant of the submission bank are not."""

import inspect
from pathlib import Path

import nbformat
import pytest

from mlpcore import course
from mlpcore.autograde.suspicious import find_reaching_code
from submission_bank import CORRECT

ROOT = Path(__file__).resolve().parent.parent

# Ways a determined student tried to get the points without the work (one line or two each).
REACHING = {
    "a frame read": "import sys\nexpected = sys._getframe(1).f_locals['expected']",
    "a traceback walk": "try:\n    check('relu', relu)\nexcept Exception as e:\n    t = e.__traceback__.tb_next",
    "the garbage collector": "import gc\nraw = [f for f in gc.get_objects() if callable(f)]",
    "a closure": "raw = softmax.__closure__[0].cell_contents",
    "the guard's counter": "import mlpcore.guard\nmlpcore.guard._learner_depth = 0",
    "a reloaded guard": "import importlib, mlpcore\nimportlib.reload(mlpcore.guard)",
    "a function rebuilt from code": "import types\nf = types.FunctionType(g.__code__, {})",
    "the reference's source": "import inspect, mlpcore\nexec(inspect.getsource(mlpcore.activations.softmax))",
    "a private helper": "from mlpcore.grading.network_exercises import _network",
    "an input transformer": "get_ipython().input_transformers_post.append(lambda lines: lines)",
    "a tracing hook": "import sys\nsys.settrace(lambda *a: None)",
    "a lying ndarray": "class Liar(np.ndarray):\n    def __array_ufunc__(self, *a, **k):\n        return True",
    "a built string": "exec('che' + 'ck = print')",
    "a built-in replaced": "import builtins\nsetattr(builtins, 'len', lambda x: 0)",
    "a fake module": "import sys\nsys.modules['mlpcore.grading'] = object()",
    "C directly": "import ctypes",
    "the error display": "get_ipython().showtraceback = lambda *a, **k: None",
}


def _notebook_with(source: str):
    release = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from mlpcore.grading import check"),
        nbformat.v4.new_code_cell("# YOUR CODE HERE", metadata={"nbgrader": {"grade_id": "relu", "solution": True}}),
    ])
    submitted = nbformat.from_dict(nbformat.v4.new_notebook(cells=[release.cells[0], nbformat.v4.new_code_cell(
        "def relu(Z):\n    return np.maximum(Z, 0)\n" + source, metadata={"nbgrader": {"grade_id": "relu", "solution": True}})]))
    return submitted, release


@pytest.mark.parametrize("attempt", REACHING)
def test_reaching_into_the_grader_is_named_with_its_line(attempt):
    found = find_reaching_code(*_notebook_with(REACHING[attempt]))
    assert found and found[0].startswith("cell relu line "), (attempt, found)


def test_the_course_s_own_cells_and_its_solutions_are_not_flagged():
    for assignment in course.assignments(ROOT):
        for solution in course.notebooks(ROOT, assignment):
            release = nbformat.read(ROOT / course.RELEASE_DIRECTORY / assignment / solution.name, as_version=4)
            assert find_reaching_code(nbformat.read(solution, as_version=4), release) == [], solution.name


@pytest.mark.parametrize("exercise", sorted(CORRECT))
def test_no_correct_variant_of_the_bank_is_flagged(exercise):
    for function in CORRECT[exercise]:
        found = find_reaching_code(*_notebook_with(inspect.getsource(function)))
        assert found == [], (function.__name__, found)
