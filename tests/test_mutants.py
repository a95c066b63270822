"""Small changes to the solutions' code that issue 23's mutation run saw survive: each is caught now, or
shown equivalent. 05's fixed_loss_and_grads carries no points (the notebook says so), so its mutants are
caught by the cell after it, which mlpcore check reports; 10's loss mutants fail loss_and_grads' check on
logits near 1000."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from mlpcore.grading import ExerciseFailed, check

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"


def cells(notebook: str) -> dict[str, str]:
    """The code cells of a solution notebook by grade_id (others by their index), solution markers removed."""
    found = {}
    for index, cell in enumerate(nbformat.read(SOLUTIONS / notebook, as_version=4).cells):
        if cell.cell_type == "code":
            key = cell.metadata.get("nbgrader", {}).get("grade_id") or str(index)
            found[key] = re.sub(r"\s*### (BEGIN|END) SOLUTION", "", cell.source)
    return found


def mutated(source: str, old: str, new: str) -> str:
    assert source.count(old) == 1, old
    return source.replace(old, new)


# --- 05: the repaired network ---------------------------------------------------------------------------------

GRADCHECK = cells("05-gradcheck/gradcheck.ipynb")
FIXED_MUTANTS = [("Z1 = X @ W1 + b1", "Z1 = X @ W1 - b1"), ("Z2 = A1 @ W2 + b2", "Z2 = A1 @ W2"),
                 ("dZ1 = dA1 * (1.0 - A1**2)", "dZ1 = dA1 * (1.0 + A1**2)"), ("dZ2 /= batch", "dZ2 /= 2 * batch"),
                 ("A1 = np.tanh(Z1)", "A1 = np.tanh(2 * Z1)")]


def run_the_repair_check(fixed_source: str) -> None:
    """05's set-up, functions and fixed_loss_and_grads (``fixed_source``), then the cell that checks the repair."""
    namespace = {"np": np}
    for key in ("numerical_gradient", "relative_error", "planted_bug_setup", "find_broken_gradient"):
        exec(GRADCHECK[key], namespace)
    exec("buggy_parameter, _ = find_broken_gradient(suspect_loss_and_grads, colleague_params, X_small, y_small)",
         namespace)
    exec(fixed_source, namespace)
    check_cell = next(source for source in GRADCHECK.values() if "fixed_errors = find_broken_gradient" in source)
    exec(check_cell, namespace)


def test_the_solution_passes_the_repair_check():
    run_the_repair_check(GRADCHECK["fixed_loss_and_grads"])


@pytest.mark.parametrize("old, new", FIXED_MUTANTS)
def test_a_repair_that_changes_anything_else_is_caught(old, new):
    with pytest.raises(AssertionError):
        run_the_repair_check(mutated(GRADCHECK["fixed_loss_and_grads"], old, new))


def test_the_max_shift_with_its_sign_swapped_is_equivalent_here():
    """Log-softmax does not depend on a per-row shift: Z2 + max gives the same loss and gradients as Z2 - max
    wherever exp does not overflow, as on the notebook's small network (logits of order 1)."""
    run_the_repair_check(mutated(GRADCHECK["fixed_loss_and_grads"], "Z2 - Z2.max(", "Z2 + Z2.max("))


# --- 10: the loss of the project ------------------------------------------------------------------------------

PROJECT = cells("10-project/project.ipynb")
LOSS_MUTANTS = [("logits - logits.max(", "logits + logits.max("), ("logits - logits.max(", "logits - 2 * logits.max(")]


def project_loss_and_grads(loss_source: str):
    namespace = {"np": np}
    given = next(source for source in PROJECT.values() if "def softmax_cross_entropy(" in source)
    exec(given.replace(PROJECT_LOSS, loss_source), namespace)
    exec(next(source for source in PROJECT.values() if "def init_params(" in source), namespace)
    exec(PROJECT["loss_and_grads"], namespace)
    return namespace["loss_and_grads"]


PROJECT_LOSS = next(source for source in PROJECT.values() if "def softmax_cross_entropy(" in source)


def test_the_project_solution_passes_loss_and_grads():
    check("loss_and_grads", project_loss_and_grads(PROJECT_LOSS))


@pytest.mark.parametrize("old, new", LOSS_MUTANTS)
def test_a_loss_whose_max_shift_was_changed_loses_the_loss_and_grads_points(old, new):
    with pytest.raises(ExerciseFailed) as failure:
        check("loss_and_grads", project_loss_and_grads(mutated(PROJECT_LOSS, old, new)))
    assert "near 1000" in str(failure.value)
