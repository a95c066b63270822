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

In ``mlpcore grade`` the same check runs in the grading worker instead, with the
learner's function called in its kernel (see :mod:`.channel` and
:mod:`mlpcore.autograde.trusted`); :func:`verdict` is its entry point.

A failure raises :class:`ExerciseFailed`, an ``AssertionError``, so nbgrader
scores the cell 0; ``reason`` says why ("wrong", "error", "mutated_input",
"reference_used"). IPython shows it as a short message, not as a traceback
of this package (see :mod:`mlpcore.grading.failure`).
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import io
import warnings
import zlib

import numpy as np

from .. import guard
from ..guard import ReferenceUsedError, learner_code
from ..schema import CheckResult
from . import channel
from .compare import as_array, compare_output, same_output
from .exercises import Exercise
from .failure import HIDDEN_CASE, ExerciseFailed, ReferenceUsed, failed_in_hidden_cases, learner_line
from .project import NAME as PROJECT
from .project import check_classifier, classifier_verdict
from .table import EXERCISES

__all__ = ["check", "check_classifier", "verdict", "ExerciseFailed", "ReferenceUsed", "EXERCISES",
           "failed_in_hidden_cases"]


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
    print(_run_check(name, fn, hidden, zlib.crc32(name.encode()) + (1 if hidden else 0)))


def verdict(name: str, functions, hidden: bool, seed) -> tuple[CheckResult, list[str]]:
    """The grader's verdict on one check, with the cases drawn from ``seed``: the result, and the lines a
    failure shows (its ``_render_traceback_``). ``functions``: the learner's function, or for the
    project ``(train_classifier, predict)``; in ``mlpcore grade`` they run in the learner's kernel."""
    try:
        if name == PROJECT:
            line = classifier_verdict(*functions, hidden=hidden, seed=seed)[1]
        else:
            line = _run_check(name, functions[0], hidden, seed)
    except ExerciseFailed as failure:
        return CheckResult.from_failure(failure, hidden), failure._render_traceback_()
    return CheckResult(name, "passed", line, hidden=hidden), []


def _run_check(name: str, fn, hidden: bool, seed) -> str:
    """Run the check's cases drawn from ``seed``; the passing line, or :class:`ExerciseFailed`."""
    __tracebackhide__ = True
    exercise = EXERCISES[name]
    rng = np.random.default_rng(seed)
    cases = exercise.cases(rng, hidden)
    if isinstance(fn, channel.RemoteFunction):  # every case in one trip to the learner's kernel
        fn.prefetch(name, [copy.deepcopy(args) for args in cases])
    notices = []  # what the learner's function warned or printed to stderr, said once at the end
    for number, args in enumerate(cases, start=1):
        where = f"{HIDDEN_CASE if hidden else 'case'} {number} of {len(cases)} ({describe(exercise, args)})"
        with warnings.catch_warnings():  # e.g. numerical_gradient's advice to use float64, meant for users
            warnings.simplefilter("ignore")
            expected = _call(exercise, exercise.reference, copy.deepcopy(args))
        learner_args = copy.deepcopy(args)
        refusals_before = guard.refusals
        try:
            output = _run_learner(exercise, fn, learner_args, notices)
        except ReferenceUsedError as exc:
            raise ReferenceUsed(name, f"your function called mlpcore's own answer. {exc}") from None
        except Exception as exc:
            if guard.refusals != refusals_before:
                raise ReferenceUsed(name, "your function called mlpcore's own answer.") from None
            raise _raised(exercise, fn, cases, where, exc) from None
        if guard.refusals != refusals_before:  # the learner's code caught the refusal itself
            raise ReferenceUsed(name, "your function called mlpcore's own answer, which "
                                 "refuses to run while your code is being checked.")
        changed = changed_arguments(exercise, args, learner_args)
        if changed:
            raise ExerciseFailed(
                name, "mutated_input",
                f"your function changed its input {changed}. Compute new arrays instead of modifying "
                "the arguments in place (for example Z = Z + b rather than Z += b on an argument); "
                "if you nudge entries in place on purpose, put each one back afterwards",
                case=where, mistake=exercise.mutation_hint(args, learner_args) if exercise.mutation_hint else None,
            )
        if exercise.judge is not None:
            problem = exercise.judge(output, expected, args, lambda other=None: _run_learner(
                exercise, fn, copy.deepcopy(args) if other is None else other))
        else:
            problem = compare_output(output, expected, exercise.outputs)
        if problem:
            raise ExerciseFailed(name, "wrong", problem, case=where, mistake=_hint(exercise, fn, cases))
    kind = "hidden " if hidden else ""
    lines = [f"{name}: all {len(cases)} {kind}cases match the reference."]
    for notice in dict.fromkeys(notices):  # in order, each once
        lines.append(f"  note: your function {'warned' if not notice.startswith('printed') else 'wrote'}: {notice}")
    return "\n".join(lines)


def _call(exercise: Exercise, fn, args):
    """What ``fn`` (the reference, the learner's code or a known mistake) gives on one case."""
    return exercise.run(fn, args) if exercise.run is not None else fn(*args)


def describe(exercise: Exercise, args) -> str:
    """``X (5, 3) float64, W (3, 2) float64, ...`` using the reference's parameter names."""
    names = exercise.argument_names or list(inspect.signature(exercise.reference).parameters)
    parts = []
    for name, value in zip(names, args):
        array = as_array(value)
        if array is not None:
            parts.append(f"{name} {array.shape} {array.dtype}")
        elif isinstance(value, dict) and all(isinstance(v, (int, float)) for v in value.values()):
            parts.append(", ".join(f"{key}={v!r}" for key, v in value.items()))
        elif isinstance(value, dict):
            parts.append(f"{name} with keys {', '.join(value)}")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            parts.append(f"{len(value)} {name}")
        elif isinstance(value, np.random.Generator):
            parts.append(f"{name}=a numpy Generator")
        elif callable(value):
            parts.append(f"{name}={getattr(value, '__name__', 'a function')}")
        else:
            parts.append(f"{name}={value!r}")
    return ", ".join(parts)


def changed_arguments(exercise: Exercise, before, after) -> str:
    """The names of array arguments (or arrays in dict arguments, or in a list of dicts such as the
    optimizers' gradients of each step) whose values the call changed."""
    names = exercise.argument_names or list(inspect.signature(exercise.reference).parameters)
    changed = []
    for name, old, new in zip(names, before, after):
        if isinstance(old, dict):
            pairs = [(f"{name}[{key!r}]", old[key], new.get(key)) for key in old]
        elif isinstance(old, list) and old and all(isinstance(item, dict) for item in old):
            pairs = [(f"grads[{key!r}] in step {number}", item[key], new[number - 1].get(key))
                     for number, item in enumerate(old, start=1) for key in item]
        else:
            pairs = [(name, old, new)]
        for label, a, b in pairs:
            if isinstance(a, np.ndarray) and not (isinstance(b, np.ndarray) and np.array_equal(a, b, equal_nan=True)):
                changed.append(label)
    shown = 4
    return ", ".join(changed[:shown]) + (f" and {len(changed) - shown} more" if len(changed) > shown else "")


def _run_learner(exercise: Exercise, fn, args, notices: list | None = None):
    """Call the learner's function on one case as :func:`watching_the_learner` says. A function in the
    learner's kernel (the grader's :class:`~mlpcore.autograde.trusted.KernelFunction`) runs there,
    under the same rules (:func:`mlpcore.grading.channel.serve`)."""
    if isinstance(fn, channel.RemoteFunction):
        return fn.run(exercise.name, args, notices)
    with watching_the_learner(bool(exercise.overflow_hint), notices):
        return _call(exercise, fn, args)


@contextlib.contextmanager
def watching_the_learner(overflow_is_an_error: bool, notices: list | None = None):
    """While the learner's code runs: the reference locked away, NumPy's floating-point warnings
    silenced (an overflow shows up as inf or NaN, which the check then diagnoses; exercises about
    avoiding overflow make it an error instead).

    Nothing the code warns or prints to stderr reaches the cell's stderr, where nbgrader would score
    the whole test cell 0 (a DeprecationWarning from a correct answer, say); it is added to
    ``notices`` instead, for the check's message."""
    stderr = io.StringIO()
    with learner_code(), np.errstate(all="ignore", over="raise" if overflow_is_an_error else "ignore"), \
            warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(stderr):
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            yield
        finally:
            if notices is not None:
                notices += [f"{w.category.__name__}: {w.message}" for w in caught]
                if stderr.getvalue().strip():
                    notices.append(f"printed to stderr: {stderr.getvalue().strip().splitlines()[0][:200]}")


# Stands for "the learner's function raised" among outputs (None can be a legitimate answer).
RAISED = object()


def likely_mistake(exercise: Exercise, cases, outputs) -> str | None:
    """The hint of the first known mistake that explains the learner's outputs on every case
    where the learner's function returned something (``outputs[i]`` is :data:`RAISED` where it raised).

    Looking at all cases, not only the failing one, tells apart mistakes that agree on some
    shapes (with a batch of one, "summed over the batch" equals "summed over everything")."""
    answered = [(args, out) for args, out in zip(cases, outputs) if out is not RAISED]
    if not answered:
        return None
    # Wrong formulas first, judged on the finite answers (an unshifted softmax over the wrong
    # axis is first of all a wrong-axis mistake); then symptoms such as overflow.
    finite = [(args, out) for args, out in answered if _all_finite(out)]
    for mistake in exercise.mistakes:
        if mistake.wrong is not None and finite and all(_explains(exercise, mistake, args, out) for args, out in finite):
            return mistake.hint
    for mistake in exercise.mistakes:
        if mistake.symptom is not None and any(mistake.symptom(args, out) for args, out in answered):
            return mistake.hint
    return None


def _all_finite(output) -> bool:
    """Whether every number in an output (array, number, or tuple or dict of those) is finite."""
    if output is None:  # a legitimate answer (matmul_shape), not a NaN
        return True
    if isinstance(output, (tuple, dict)):
        return all(_all_finite(part) for part in (output.values() if isinstance(output, dict) else output))
    try:
        array = as_array(output)
        return bool(np.isfinite(np.asarray(output if array is None else array, dtype=float)).all())
    except (TypeError, ValueError):  # not numbers at all: leave it to the comparison
        return True


def _explains(exercise: Exercise, mistake, args, output) -> bool:
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wrong = _call(exercise, mistake.wrong, copy.deepcopy(args))
    except Exception:
        return False
    if exercise.match is not None:
        return exercise.match(output, wrong)
    return same_output(output, wrong)


def _hint(exercise: Exercise, fn, cases) -> str | None:
    """The likely mistake, from the learner's outputs on all cases, or None."""
    if isinstance(fn, channel.RemoteFunction):  # every case in one trip to the learner's kernel
        fn.prefetch(exercise.name, [copy.deepcopy(args) for args in cases])
    outputs = []
    for args in cases:
        try:
            outputs.append(_run_learner(exercise, fn, copy.deepcopy(args)))
        except Exception:
            outputs.append(RAISED)
    return likely_mistake(exercise, cases, outputs)


def _raised(exercise: Exercise, fn, cases, where: str, exc: Exception) -> ExerciseFailed:
    """The failure for a learner's function that raised ``exc`` on the case ``where``."""
    kind = type(exc).__name__
    if isinstance(exc, NotImplementedError) and not str(exc):
        # The untouched answer cell: nothing is wrong yet, it is only not written.
        return ExerciseFailed(exercise.name, "unanswered", "your function is not written yet (it raised NotImplementedError): "
                              "replace the line raise NotImplementedError() with your code", case=where)
    if isinstance(exc, FloatingPointError) and exercise.overflow_hint:
        return ExerciseFailed(exercise.name, "wrong", f"your function overflowed ({exc})", case=where,
                              mistake=exercise.overflow_hint, your_code=_your_code(exc))
    return ExerciseFailed(exercise.name, "error", f"your function raised {kind}" + (f": {exc}" if str(exc) else ""),
                          case=where, mistake=_hint(exercise, fn, cases), your_code=_your_code(exc))


def _your_code(exc: BaseException) -> str | None:
    """The learner's line that raised ``exc``: from its traceback, or as the kernel reported it."""
    return getattr(exc, "your_code", None) or learner_line(exc.__traceback__)

