"""What a test cell checks: the one reader of ``check(...)`` calls in a cell's source.

A course's test cell is one or two lines such as ``check("relu", relu)`` or
``accuracy = check_classifier(train_classifier, predict, hidden=True)``. The grader never lets
the kernel say which checks a cell made: it reads them here, from the cell's source (the
course's own, restored before grading), and asks the kernel for exactly those. ``mlpcore check``,
``mlpcore release`` and the grader all read test cells through :func:`check_calls`.

A call the reader cannot pin down (the exercise's name is not a literal, the exercise does not
exist, ``hidden`` is not ``True`` or ``False``) is an :class:`UnreadableTestCell`, never "no
check": a cell the grader cannot read scores nothing, and the course's author is told why.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..schema import exercise_name
from .project import NAME as PROJECT

# The check functions a test cell calls, by name: ``(exercise, functions)``, where ``exercise`` is
# the exercise it always checks (None: the call's first argument names it) and ``functions`` how
# many of the learner's functions it takes. Every other module reads the names from here.
CHECKERS = {"check": (None, 1), "check_classifier": (PROJECT, 2)}


@dataclass(frozen=True)
class CheckCall:
    """One check a test cell makes: ``exercise`` with the visible or the ``hidden`` cases, on
    ``functions`` of the learner's functions, written on line ``line`` of the cell."""

    exercise: str
    hidden: bool
    functions: int
    line: int


class UnreadableTestCell(ValueError):
    """A test cell whose checks the grader cannot read (the message says which line and why)."""


def checker_name(func: ast.expr) -> str | None:
    """``check`` for ``check``, ``grading.check``, ``mlpcore.grading.check``; None for other calls."""
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    return name if name in CHECKERS else None


def _hidden(call: ast.Call, line: int) -> bool:
    for keyword in call.keywords:
        if keyword.arg is None:
            raise UnreadableTestCell(f"line {line}: a check called with **keywords (write hidden=True or leave it out)")
        if keyword.arg == "hidden":
            if not (isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, bool)):
                raise UnreadableTestCell(f"line {line}: hidden= should be True or False, written out")
            return keyword.value.value
    return False


def _known_exercises(exercises):
    if exercises is None:
        from .table import EXERCISES

        return {*EXERCISES, PROJECT}
    return exercises


def _read(call: ast.Call, checker: str, exercises) -> CheckCall:
    line = call.lineno
    exercise, functions = CHECKERS[checker]
    arguments = list(call.args)
    if any(isinstance(argument, ast.Starred) for argument in arguments):
        raise UnreadableTestCell(f"line {line}: a check called with *arguments (pass the name and the function)")
    if exercise is None:
        name = arguments.pop(0) if arguments else None
        if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
            raise UnreadableTestCell(f'line {line}: the exercise\'s name should be written as a string, as in check("relu", relu)')
        exercise = name.value
    if exercise not in exercises:
        raise UnreadableTestCell(f"line {line}: there is no exercise {exercise!r} (the exercises are {', '.join(sorted(exercises))})")
    if len(arguments) != functions:
        raise UnreadableTestCell(
            f"line {line}: the check of {exercise} takes {functions} of the learner's functions, and is given {len(arguments)}"
        )
    return CheckCall(exercise, _hidden(call, line), functions, line)


def check_calls(source: str, exercises=None) -> list[CheckCall]:
    """The checks a test cell's ``source`` makes, in the order they run (by line and column).

    ``exercises``: the names of the exercises that exist (default: every registered exercise).
    :class:`UnreadableTestCell` when the source does not parse or one of its check calls cannot be read."""
    exercises = _known_exercises(exercises)
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise UnreadableTestCell(f"line {exc.lineno}: the cell is not valid Python ({exc.msg})") from None
    calls = sorted(
        ((node, checker) for node in ast.walk(tree) if isinstance(node, ast.Call) and (checker := checker_name(node.func))),
        key=lambda found: (found[0].lineno, found[0].col_offset),
    )
    return [_read(call, checker, exercises) for call, checker in calls]


def is_test_cell(cell) -> bool:
    """Whether a notebook cell is an autograded test cell (nbgrader: graded, not an answer)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def exercise_of_cell(cell, exercises=None) -> str:
    """The exercise a graded cell is about: the first exercise its checks name. A cell that names
    none (an answer graded by hand, a test cell the grader cannot read) goes by its grade id, less
    nbgrader's ``_tests`` suffix. Reports, tables and feedback name a cell's exercise with this, and
    nothing else."""
    source = cell.get("source", "")
    try:
        calls = check_calls("".join(source) if isinstance(source, list) else source, exercises)  # JSON keeps lines
    except UnreadableTestCell:
        calls = []
    return calls[0].exercise if calls else exercise_name(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", ""))
