"""An embedded sample class for ``make demo`` and the tests: eleven students, one per kind of submission.

The students' answers are written here as code; their notebooks are built from
the course's own release notebook (the learner's starting point) by filling in
answer cells, so the sample always matches the current course. Correct answers
are taken from the solution notebook.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
from nbgrader.utils import is_solution

from .. import course

ASSIGNMENT = "02-forward"
NOTEBOOK = "forward"

# Answers that differ from the solution, by answer cell.
FORGOT_BIAS = "def dense_forward(X, W, b):\n    return X @ W\n"
UNSHIFTED_SOFTMAX = "def softmax(Z):\n    e = np.exp(Z)\n    return e / e.sum(axis=1, keepdims=True)\n"
SOFTMAX_WRONG_AXIS = "def softmax(Z):\n    e = np.exp(Z - Z.max(axis=0))\n    return e / e.sum(axis=0)\n"
RELU_MINIMUM = "def relu(Z):\n    return np.minimum(Z, 0)\n"
TANH_IS_SIGMOID = "def tanh(Z):\n    return 1 / (1 + np.exp(-Z))\n"
LOOPS_FOREVER = "def tanh(Z):\n    while True:  # waiting for a convergence that never comes\n        pass\n"
CALLS_REFERENCE = "def softmax(Z):\n    return mlpcore.activations.softmax(Z)\n"
SEGFAULT = "import ctypes\n\nctypes.string_at(0)  # reads address 0: the kernel dies\n"
TEST_REWRITTEN = 'print("softmax: all 4 cases match the reference.")\n'

# student id -> (what the student did, {answer cell: code} overriding the solution, or a special kind)
STUDENTS = {
    "ada": ("perfect: every exercise right", {}),
    "ben": ("blank: the untouched release", "blank"),
    "cleo": ("partial: the first three exercises, the rest left open", "partial"),
    "dev": ("two common mistakes: forgot the bias, softmax without the max shift",
            {"dense_forward": FORGOT_BIAS, "softmax": UNSHIFTED_SOFTMAX}),
    "eve": ("three other mistakes: np.minimum in relu, tanh written as the sigmoid, softmax over the wrong axis",
            {"relu": RELU_MINIMUM, "tanh": TANH_IS_SIGMOID, "softmax": SOFTMAX_WRONG_AXIS}),
    "fay": ("a broken notebook: the file was cut off while saving", "broken"),
    "gus": ("an infinite loop in tanh", {"tanh": LOOPS_FOREVER}),
    "hal": ("softmax calls mlpcore's reference", {"softmax": CALLS_REFERENCE}),
    "ivy": ("a segfault (ctypes) in the sigmoid cell: the kernel dies", {"sigmoid": SEGFAULT}),
    "jon": ("a wrong softmax, and its test cell rewritten to print a pass",
            {"softmax": UNSHIFTED_SOFTMAX, "softmax_tests": TEST_REWRITTEN}),
    "kai": ("perfect, but saved as forward-Copy1.ipynb", "renamed"),
}


def _strip_markers(source: str) -> str:
    """A solution cell's code without nbgrader's markers and hidden tests."""
    kept, hidden = [], False
    for line in source.splitlines():
        marker = line.strip()
        if marker == "### BEGIN HIDDEN TESTS":
            hidden = True
        elif marker == "### END HIDDEN TESTS":
            hidden = False
        elif not hidden and marker not in ("### BEGIN SOLUTION", "### END SOLUTION"):
            kept.append(line)
    return "\n".join(kept).rstrip() + "\n"


def solution_answers(root, assignment: str = ASSIGNMENT, notebook: str = NOTEBOOK) -> dict:
    """``{answer cell id: solution code}`` from the solution notebook."""
    source = nbformat.read(Path(root) / course.SOURCE_DIRECTORY / assignment / f"{notebook}.ipynb", as_version=4)
    return {cell.metadata["nbgrader"]["grade_id"]: _strip_markers(cell.source) for cell in source.cells
            if is_solution(cell)}


def fill(release, answers: dict):
    """A copy of the release notebook with the given cells' sources replaced."""
    notebook = copy.deepcopy(release)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return notebook


def write_sample_class(root, submissions: Path) -> dict:
    """Write the class into ``submissions/<student>/02-forward/``; returns ``{student: description}``."""
    release = nbformat.read(Path(root) / course.RELEASE_DIRECTORY / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    solved = solution_answers(root)
    answer_ids = list(solved)
    described = {}
    for student, (description, kind) in STUDENTS.items():
        folder = Path(submissions) / student / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.ipynb"):
            old.unlink()
        name = f"{NOTEBOOK}-Copy1" if kind == "renamed" else NOTEBOOK
        if kind == "blank":
            notebook = release
        elif kind == "partial":
            notebook = fill(release, {key: solved[key] for key in answer_ids[:3]})
        elif isinstance(kind, dict):
            notebook = fill(release, {**solved, **kind})
        else:
            notebook = fill(release, solved)
        text = nbformat.writes(notebook)
        if kind == "broken":
            text = text[: len(text) // 2]  # as if the save was interrupted
        (folder / f"{name}.ipynb").write_text(text, encoding="utf-8")
        described[student] = description
    return described


def expected_statuses() -> dict:
    """What each sample student's grading should end in (the tests and the demo check it)."""
    return {"ada": "ok", "ben": "ok", "cleo": "ok", "dev": "ok", "eve": "ok", "fay": "invalid", "gus": "timeout",
            "hal": "reference_used", "ivy": "crashed", "jon": "tampered", "kai": "renamed"}
