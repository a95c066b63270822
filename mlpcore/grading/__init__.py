"""Grading checks: compare a learner's function with mlpcore's reference, and say what is wrong.

A notebook's test cell is one line, ``check("dense_forward", dense_forward)``;
its hidden tests run ``check("dense_forward", dense_forward, hidden=True)`` with
more and harder cases. For every case :func:`check`

1. copies the inputs, runs the reference and then the learner's function (inside
   :func:`mlpcore.guard.learner_code`, so calling mlpcore from it fails);
2. reports an exception, a changed input, or an output whose type, shape, dtype
   or values differ from the reference's, in that order, naming the case;
3. for a wrong value, names the likely mistake when the output matches a known
   wrong variant from :data:`EXERCISES`.

The engine is :mod:`.engine`. In ``mlpcore grade`` the same engine runs in the grading worker
instead, with the learner's function called in its kernel (see :mod:`.channel` and
:mod:`mlpcore.autograde.trusted`); :func:`verdict` is its entry point.

A failure raises :class:`ExerciseFailed`, an ``AssertionError``, so nbgrader
scores the cell 0; ``reason`` says why ("wrong", "error", "mutated_input",
"reference_used"). IPython shows it as a short message, not as a traceback
of this package (see :mod:`mlpcore.grading.failure`).
"""

from __future__ import annotations

import zlib
from pathlib import Path

from . import channel, registry
from .engine import run_check, verdict
from .exercises import Exercise, Mistake
from .failure import ExerciseFailed, ReferenceUsed, failed_in_hidden_cases
from .project import NAME as PROJECT
from .project import check_classifier
from .table import EXERCISES

__all__ = ["check", "check_classifier", "use_exercises", "verdict", "Exercise", "Mistake", "ExerciseFailed",
           "ReferenceUsed", "EXERCISES", "PROJECT", "failed_in_hidden_cases"]


def use_exercises(path) -> list[str]:
    """Make the exercises a course defines in the file ``path`` (relative to the notebook's folder)
    known to :func:`check`; the names. A notebook runs this before its first check of one; the
    grader loads the course's own copy of the file instead (see :mod:`mlpcore.grading.registry`)."""
    return registry.load(Path(path))


def check(name: str, fn, hidden: bool = False) -> None:
    """Check the learner's ``fn`` for exercise ``name`` against the reference; raise on the first problem.

    Prints one line when every case matches. In ``mlpcore grade`` (see :mod:`.channel`) it only
    hands ``fn`` to the grader, which runs the check from outside the kernel.
    """
    __tracebackhide__ = True  # pytest shows the test, not this function (IPython: see failure.py)
    if name not in EXERCISES:
        raise KeyError(f"there is no exercise {name!r}; the exercises are {', '.join(sorted(EXERCISES))}")
    if not callable(fn):
        raise ExerciseFailed(name, "error", f"expected your function, but got {type(fn).__name__} ({fn!r})")
    if channel.trusted_grading():
        channel.request(name, (fn,), hidden)
        return
    # A fixed seed per exercise: the same cases every run, different for visible and hidden.
    print(run_check(name, fn, hidden, zlib.crc32(name.encode()) + (1 if hidden else 0)))
