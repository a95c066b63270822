"""The learner's function as the checks see it: one interface whether it runs here or in a kernel.

A check never calls the learner's code itself. It asks a :class:`LearnerFunction` to ``run`` one
case, and may announce all of them first with ``prefetch`` (one trip for a function in a graded
kernel). :class:`LocalFunction` runs a function of this process (``check`` in a notebook,
``mlpcore check``); :class:`mlpcore.autograde.trusted.KernelFunction` sends the case into the
learner's kernel, where :func:`mlpcore.grading.channel.serve` runs it under the same rules,
:func:`watching_the_learner`.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np

from ..guard import learner_code


def call_exercise(exercise, fn, args):
    """What ``fn`` (the reference, the learner's code or a known mistake) gives on one case of
    ``exercise``: ``fn(*args)``, or the call its check makes (an optimizer is built and stepped)."""
    return exercise.run(fn, args) if exercise is not None and exercise.run is not None else fn(*args)


@contextlib.contextmanager
def watching_the_learner(overflow_is_an_error: bool, notices: list | None = None):
    """While the learner's code runs: the reference locked away, NumPy's floating-point warnings
    silenced (an overflow shows up as inf or NaN, which the check then diagnoses; exercises about
    avoiding overflow make it an error instead).

    Nothing the code warns or prints to stderr reaches the cell's stderr, where nbgrader would score
    the whole test cell 0 (a DeprecationWarning from a correct answer, say); it is added to
    ``notices`` instead, for the check's message."""
    stderr = io.StringIO()
    with (
        learner_code(),
        np.errstate(all="ignore", over="raise" if overflow_is_an_error else "ignore"),
        warnings.catch_warnings(record=True) as caught,
        contextlib.redirect_stderr(stderr),
    ):
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            yield
        finally:
            if notices is not None:
                notices += [f"{w.category.__name__}: {w.message}" for w in caught]
                if stderr.getvalue().strip():
                    notices.append(f"printed to stderr: {stderr.getvalue().strip().splitlines()[0][:200]}")


class LearnerFunction:
    """A learner's function as the checks call it.

    ``run(exercise, args, notices)``: its output on one case (``exercise`` an
    :class:`~mlpcore.grading.exercises.Exercise`, or None for a plain ``fn(*args)``); arguments it
    changed are changed in ``args``; what it warned goes to ``notices``.
    ``prefetch(exercise, [args, ...])``: the cases it will be asked next, to compute in advance."""

    def run(self, exercise, args, notices: list | None = None):
        raise NotImplementedError

    def prefetch(self, exercise, calls: list) -> None:
        """Nothing to do where a call is cheap."""


class LocalFunction(LearnerFunction):
    """A function of this process, called under :func:`watching_the_learner`."""

    def __init__(self, fn):
        self.fn = fn
        self.__name__ = getattr(fn, "__name__", "your function")

    def run(self, exercise, args, notices: list | None = None):
        overflow_is_an_error = exercise is not None and bool(exercise.overflow_hint)
        with watching_the_learner(overflow_is_an_error, notices):
            return call_exercise(exercise, self.fn, args)


def learner_function(fn) -> LearnerFunction:
    """``fn`` behind the :class:`LearnerFunction` interface (as it is, if it already is one)."""
    return fn if isinstance(fn, LearnerFunction) else LocalFunction(fn)
