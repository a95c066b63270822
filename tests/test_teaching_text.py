"""Sentences of the notebooks that must say what the checks do (issue 23): each of these read otherwise."""

import json
from pathlib import Path

import pytest

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"


def text(notebook: str) -> str:
    cells = json.loads((SOLUTIONS / notebook).read_text())["cells"]
    return " ".join(" ".join("".join(cell["source"]).split()) for cell in cells if cell["cell_type"] == "markdown")


def test_03_says_which_guards_the_check_accepts_and_where_708_comes_from():
    losses = text("03-losses/losses.ipynb")
    assert "The check accepts any floor up to $10^{-6}$" in losses
    assert 'the numbers of section 5 ("about 708") are the ones `np.finfo(P.dtype).tiny` gives' in losses


def test_03s_bound_of_the_sweep_and_the_worst_answer_do_not_contradict_each_other():
    losses = text("03-losses/losses.ipynb")
    assert "so along this sweep, where the other two classes share what class 0 lacks, it can never exceed" in losses
    assert "more than the sweep's 0.5, because the sweep splits the wrong probability evenly" in losses


@pytest.mark.parametrize("optimizer", ["SGD", "Momentum", "Adam"])
def test_07_says_that_in_place_and_stored_back_both_pass(optimizer):
    training = text("07-training/training.ipynb")
    section = training.split(f"Exercise: `{optimizer}`")[1][:1500]
    assert "stored back" in section or "storing the new array back" in section, section


def test_10_fixes_the_helpers_that_its_given_cells_call():
    project = text("10-project/project.ipynb")
    assert "`init_params(layer_sizes, rng, dtype)`" in project
    assert "calls `init_params([64, 16, 16, 10], rng, np.float64)`" in project
    assert "`forward(params, X)`" in project
