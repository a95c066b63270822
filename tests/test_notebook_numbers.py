"""The numbers that training runs print in the solution notebooks, checked with a tolerance.

Many epochs of float32 training amplify a last-bit difference between BLAS kernels (another CPU,
another OpenBLAS build, ``OPENBLAS_CORETYPE=Sandybridge``) into the printed digits: a stored
``loss 0.045`` comes back as ``0.046``, ``91.3%`` as ``91.2%``. Those cells are tagged
``nbval-ignore-output``, so nbval only checks that they run; this test re-runs them, in-process and
from the notebook's own sources, and compares every printed number with the stored one: the text
around the numbers must be the same, and each number within :func:`tolerance` of the stored value.

The tolerances are several times the spread measured across BLAS kernels (the default one,
Sandybridge and Prescott: at most 0.1 point of accuracy, one unit in the last printed digit of a
loss), and far below what a broken experiment changes (a run that no longer learns, an initializer
or regularizer that does something else).
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from pathlib import Path

import matplotlib
import nbformat
import pytest

from mlpcore import course

ROOT = Path(__file__).resolve().parent.parent

# assignment -> (the cells to run, in order: what the compared cells need, and they themselves;
# the cells whose printed numbers are compared). Each compared cell is tagged nbval-ignore-output.
RERUN = {
    "06-initialization": (("setup", "normal", "xavier", "he", "cell-37"), ("cell-37",)),
    "07-training": (("setup", "cell-12", "cell-15", "SGD", "Momentum", "Adam", "cell-38"), ("cell-15", "cell-38")),
    "08-regularization": (("setup", "cell-04", "cell-06", "l2_penalty", "l2_grads", "dropout_forward",
                           "dropout_backward", "cell-28a", "cell-28", "cell-31", "cell-33", "cell-35"),
                          ("cell-06", "cell-31", "cell-33", "cell-35")),
    "10-project": (("setup", "cell-04", "cell-10", "cell-12", "building_blocks", "classifier_parts", "loss_and_grads",
                    "classifier", "cell-21", "classifier_tests", "cell-25", "cell-27", "cell-28", "cell-36"),
                   ("cell-21", "classifier_tests", "cell-25", "cell-28", "cell-36")),
}

PERCENT_POINTS = 1.0  # an accuracy may move by this many percentage points
RELATIVE = 0.1  # any other number by this fraction of its stored value ...
LAST_DIGITS = 3  # ... or by this many units of its last printed digit, whichever is larger

# A number as the notebooks print it: 0.045, 1,099, 2.7e-11, 96.7% (a "-" right after a letter or
# digit, as in 64-256-256-10, is a dash, not a sign).
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?(?:e[+-]?\d+)?%?")


def _cells(assignment: str) -> dict:
    notebook = nbformat.read(course.notebooks(ROOT, assignment)[0], as_version=4)
    return {cell.id: cell for cell in notebook.cells if cell.cell_type == "code"}


def printed_text(cell) -> str:
    """What a stored code cell printed (its stream outputs, joined)."""
    return "".join(output.text for output in cell.outputs if output.output_type == "stream")


def _runnable(source: str) -> str:
    """A cell's source without IPython's line magics (``%matplotlib inline``), which plain Python cannot run."""
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("%"))


def rerun(assignment: str) -> dict:
    """``{cell id: printed text}`` of the compared cells of ``assignment``, run in a fresh namespace."""
    run_in_order, compared = RERUN[assignment]
    cells = _cells(assignment)
    namespace = {"__name__": "__main__"}
    printed = {}
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the notebooks' own warnings are not what this test is about
        try:
            for cell_id in run_in_order:
                buffer = io.StringIO()
                with contextlib.redirect_stdout(buffer):
                    exec(compile(_runnable(cells[cell_id].source), f"<{assignment} {cell_id}>", "exec"), namespace)
                printed[cell_id] = buffer.getvalue()
        finally:
            plt.close("all")
    return {cell_id: printed[cell_id] for cell_id in compared}


def tolerance(stored: str) -> float:
    """How far a re-run may move the number printed as ``stored``."""
    if stored.endswith("%"):
        return PERCENT_POINTS
    mantissa = stored.replace(",", "").split("e")[0]
    decimals = len(mantissa.partition(".")[2])
    unit = 10.0 ** -decimals * (10.0 ** int(stored.split("e")[1]) if "e" in stored else 1.0)
    return max(RELATIVE * abs(_value(stored)), LAST_DIGITS * unit)


def _value(number: str) -> float:
    return float(number.replace(",", "").rstrip("%"))


def number_differences(stored: str, rerun_text: str) -> list[str]:
    """Where ``rerun_text`` is not ``stored`` up to the tolerated movement of its numbers (empty if it is)."""
    skeleton_stored, skeleton_rerun = NUMBER.sub("#", stored), NUMBER.sub("#", rerun_text)
    if skeleton_stored != skeleton_rerun:
        return [f"the text differs beyond its numbers:\nstored: {stored!r}\nre-run: {rerun_text!r}"]
    problems = []
    for old, new in zip(NUMBER.findall(stored), NUMBER.findall(rerun_text)):
        if abs(_value(old) - _value(new)) > tolerance(old):
            problems.append(f"{old} became {new} (tolerance {tolerance(old):g})")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("assignment", sorted(RERUN))
def test_training_numbers_are_reproduced_within_tolerance(assignment):
    cells = _cells(assignment)
    for cell_id, text in rerun(assignment).items():
        problems = number_differences(printed_text(cells[cell_id]), text)
        assert not problems, f"{assignment} cell {cell_id}: " + "; ".join(problems)


@pytest.mark.parametrize("assignment", sorted(RERUN))
def test_the_compared_cells_are_kept_out_of_nbval(assignment):
    cells = _cells(assignment)
    for cell_id in RERUN[assignment][1]:
        assert "nbval-ignore-output" in cells[cell_id].metadata.get("tags", []), (
            f"{assignment} cell {cell_id} is compared here with a tolerance: tag it nbval-ignore-output")


@pytest.mark.parametrize("stored, rerun_text, problem", [
    ("loss 0.045, accuracy 91.3%\n", "loss 0.046, accuracy 91.2%\n", None),  # what another BLAS kernel does
    ("sum W^2 1,099 (92.7%)\n", "sum W^2 1,102 (93.1%)\n", None),
    ("loss 0.045, accuracy 91.3%\n", "loss 0.090, accuracy 91.3%\n", "0.045 became 0.090"),
    ("loss 0.045, accuracy 91.3%\n", "loss 0.045, accuracy 10.0%\n", "91.3% became 10.0%"),
    ("error 2.7e-11\n", "error 2.9e-11\n", None),
    ("error 2.7e-11\n", "error 2.7e-05\n", "2.7e-11 became 2.7e-05"),
    ("zeros  loss 2.303\n", "normal loss 2.303\n", "the text differs"),
    ("64-256-256-10: 93.3%\n", "64-256-256-10: 93.3%\nanother line\n", "the text differs"),
])
def test_number_differences_tolerates_rounding_and_catches_real_changes(stored, rerun_text, problem):
    problems = number_differences(stored, rerun_text)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0]
