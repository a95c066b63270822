"""The check engine: draw an exercise's cases, run the learner's function on each, compare with the
reference, and name the likely mistake.

:func:`run_check` is the one engine behind ``check`` in a notebook, ``mlpcore check`` and the
grader (:func:`verdict`); the learner's function reaches it as a
:class:`~mlpcore.grading.functions.LearnerFunction`, which runs either here or in the learner's
graded kernel.
"""

from __future__ import annotations

import copy
import inspect
import warnings
from dataclasses import dataclass

import numpy as np

from .. import guard
from ..guard import ReferenceUsedError
from ..schema import CheckResult
from ..threads import bounded
from .compare import as_array, compare_output, same_output
from .exercises import Exercise
from .failure import HIDDEN_CASE, ExerciseFailed, ReferenceUsed, learner_line
from .functions import call_exercise, learner_function
from .project import NAME as PROJECT
from .project import classifier_verdict
from .table import EXERCISES

def verdict(name: str, functions, hidden: bool, seed) -> tuple[CheckResult, list[str]]:
    """The grader's verdict on one check, with the cases drawn from ``seed``: the result, and the lines a
    failure shows (its ``_render_traceback_``). ``functions``: the learner's function, or for the
    project ``(train_classifier, predict)``; in ``mlpcore grade`` they run in the learner's kernel."""
    try:
        if name == PROJECT:
            line = classifier_verdict(*functions, hidden=hidden, seed=seed)[1]
        else:
            line = run_check(name, functions[0], hidden, seed)
    except ExerciseFailed as failure:
        return CheckResult.from_failure(failure, hidden), failure._render_traceback_()
    return CheckResult(name, "passed", line, hidden=hidden), []


@bounded()  # the learner's code at full speed where nobody set the BLAS threads (mlpcore/threads.py)
def run_check(name: str, fn, hidden: bool, seed) -> str:
    """Run the check's cases drawn from ``seed``; the passing line, or :class:`ExerciseFailed`."""
    __tracebackhide__ = True
    exercise = EXERCISES[name]
    rng = np.random.default_rng(seed)
    cases = exercise.cases(rng, hidden)
    fn = learner_function(fn)
    fn.prefetch(exercise, [copy.deepcopy(args) for args in cases])  # one trip to a kernel for all cases
    notices = []  # what the learner's function warned or printed to stderr, said once at the end
    for number, args in enumerate(cases, start=1):
        where = f"{HIDDEN_CASE if hidden else 'case'} {number} of {len(cases)} ({describe(exercise, args)})"
        with warnings.catch_warnings():  # e.g. numerical_gradient's advice to use float64, meant for users
            warnings.simplefilter("ignore")
            expected = call_exercise(exercise, exercise.reference, copy.deepcopy(args))
        learner_args = copy.deepcopy(args)
        refusals_before = guard.refusals
        try:
            output = fn.run(exercise, learner_args, notices)
        except ReferenceUsedError as exc:
            raise ReferenceUsed(name, f"your function called mlpcore's own answer. {exc}") from None
        except Exception as exc:
            if guard.refusals != refusals_before:
                raise ReferenceUsed(name, "your function called mlpcore's own answer.") from None
            raise _raised(exercise, fn, cases, where, exc, number - 1) from None
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
            problem = exercise.judge(output, expected, args, lambda other=None, args=args: fn.run(
                exercise, copy.deepcopy(args) if other is None else other))
        else:
            problem = compare_output(output, expected, exercise.outputs)
        if problem:
            raise ExerciseFailed(name, "wrong", problem, case=where, mistake=_hint(exercise, fn, cases, number - 1))
    kind = "hidden " if hidden else ""
    lines = [f"{name}: all {len(cases)} {kind}cases match the reference."]
    for notice in dict.fromkeys(notices):  # in order, each once
        lines.append(f"  note: your function {'warned' if not notice.startswith('printed') else 'wrote'}: {notice}")
    return "\n".join(lines)


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


@dataclass(frozen=True)
class Raised:
    """Stands for "the learner's function raised" among outputs (None can be a legitimate answer):
    the exception's class name and message, which a known mistake written the same way repeats."""

    kind: str
    message: str

    @classmethod
    def of(cls, exc: BaseException) -> Raised:
        return cls(type(exc).__name__, str(exc))


def likely_mistake(exercise: Exercise, cases, outputs, failing: int | None = None) -> str | None:
    """The hint of the first known mistake that explains the learner's outputs (``outputs[i]`` a
    :class:`Raised` where the function raised).

    A mistake must explain the failing case the learner reads (``failing``, by default the first case
    that raised, else the first), its NumPy error or non-finite values included, and every other
    case where the learner returned finite values: looking at all cases, not only the failing one,
    tells apart mistakes that agree on some shapes (with a batch of one, "summed over the batch"
    equals "summed over everything"). A case where the mistaken formula itself is not finite but the
    learner's answer is says nothing against it: the learner kept the habit the notebooks teach (a
    ``tiny`` floor, a max shift) and made the mistake beside it."""
    if failing is None:
        failing = next((i for i, out in enumerate(outputs) if isinstance(out, Raised)), 0)
    for mistake in exercise.mistakes:
        if mistake.wrong is not None and _fits(exercise, mistake, cases, outputs, failing):
            return mistake.hint
    answered = [(args, out) for args, out in zip(cases, outputs) if not isinstance(out, Raised)]
    for mistake in exercise.mistakes:
        if mistake.symptom is not None and any(mistake.symptom(args, out) for args, out in answered):
            return mistake.hint
    return None


def _fits(exercise: Exercise, mistake, cases, outputs, failing: int) -> bool:
    """Whether ``mistake`` explains the failing case and every other case the learner answered with
    finite values (or where the mistaken formula is not finite itself)."""
    if not _explains(exercise, mistake, cases[failing], outputs[failing]):
        return False
    for index, (args, output) in enumerate(zip(cases, outputs)):
        if index == failing or isinstance(output, Raised) or not _all_finite(output):
            continue
        if _explains(exercise, mistake, args, output, habits=True) is False:
            return False
    return True


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


def _explains(exercise: Exercise, mistake, args, output, habits: bool = False) -> bool | None:
    """Whether one of the mistake's formulas gives the learner's ``output`` on ``args`` (or raises
    the same error where the learner's function raised). With ``habits``, None where no formula
    does and one is not finite, where the learner's answer is: its guard, not a different mistake."""
    unfinished = False
    for formula in mistake.formulas:
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                wrong = call_exercise(exercise, formula, copy.deepcopy(args))
        except Exception as exc:
            if isinstance(output, Raised) and Raised.of(exc) == output:
                return True
            continue
        if isinstance(output, Raised):
            continue
        if exercise.match(output, wrong) if exercise.match is not None else same_output(output, wrong):
            return True
        unfinished = unfinished or not _all_finite(wrong)
    return None if habits and unfinished else False


def _hint(exercise: Exercise, fn, cases, failing: int | None = None) -> str | None:
    """The likely mistake, from the learner's outputs on all cases (the learner reads case
    ``failing``), or None."""
    fn.prefetch(exercise, [copy.deepcopy(args) for args in cases])
    outputs = []
    for args in cases:
        try:
            outputs.append(fn.run(exercise, copy.deepcopy(args)))
        except Exception as exc:
            outputs.append(Raised.of(exc))
    return likely_mistake(exercise, cases, outputs, failing)


def _raised(exercise: Exercise, fn, cases, where: str, exc: Exception, failing: int) -> ExerciseFailed:
    """The failure for a learner's function that raised ``exc`` on the case ``where``."""
    kind = type(exc).__name__
    if isinstance(exc, NotImplementedError) and not str(exc):
        # The untouched answer cell: nothing is wrong yet, it is only not written.
        return ExerciseFailed(exercise.name, "unanswered", "your function is not written yet (it raised NotImplementedError): "
                              "replace the line raise NotImplementedError() with your code", case=where)
    if isinstance(exc, FloatingPointError) and exercise.overflow_hint:
        return ExerciseFailed(exercise.name, "wrong", f"your function overflowed ({exc})", case=where,
                              mistake=exercise.overflow_hint, your_code=_your_code(exc))
    mistake = _hint(exercise, fn, cases, failing) or _two_dimensional_only(cases, failing)
    return ExerciseFailed(exercise.name, "error", f"your function raised {kind}" + (f": {exc}" if str(exc) else ""),
                          case=where, mistake=mistake, your_code=_your_code(exc))


def _two_dimensional_only(cases, failing: int) -> str | None:
    """The mistake of an element-wise function that raised on the first case that is not a matrix,
    after every matrix case before it passed: it walks rows and columns instead of the whole array."""
    def is_matrix(case):
        return all(getattr(argument, "ndim", 2) == 2 for argument in case)

    if is_matrix(cases[failing]) or not all(is_matrix(case) for case in cases[:failing]):
        return None
    return ("your function works on matrices only, but an element-wise function takes an array of any shape "
            "(a vector, a 3-D array, ...): use whole-array NumPy operations such as np.maximum(Z, 0) or np.exp(-Z), "
            "not Z.shape[0], Z.shape[1] or loops over rows and columns")


def _your_code(exc: BaseException) -> str | None:
    """The learner's line that raised ``exc``: from its traceback, or as the kernel reported it."""
    return getattr(exc, "your_code", None) or learner_line(exc.__traceback__)

