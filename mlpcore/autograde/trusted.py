"""The verdict of every check cell, reached in the grading worker and not in the learner's kernel.

nbgrader scores a test cell by whether it raised, which the learner's kernel decides:
a submission that patches ``check``, NumPy or IPython could pass anything. In
``mlpcore grade`` the kernel's ``check`` only leaves a request (see
:mod:`mlpcore.grading.channel`); after the cell, :func:`judge_cell`

1. reads which checks the cell must make from its source (the instructor's test
   cell, which nbgrader has already restored from the gradebook) and which
   requests the kernel left; anything missing, extra, out of order or malformed
   makes the cell's verdict ``tampered`` (scored 0, the submission flagged);
2. runs each check here, with the cases drawn from a seed secret to this run and
   the learner's function replaced by a :class:`KernelFunction`, which sends the
   case's arguments into the kernel and brings the output back as plain data;
3. replaces the cell's outputs with the verdict: the passing line, or the failure
   as an error (which is what nbgrader scores 0), and one
   :class:`~mlpcore.schema.CheckResult` output per check for the tools.

No expected value is ever inside the kernel, and nothing the kernel does can make
a wrong function's outputs match.
"""

from __future__ import annotations

import json
import secrets
import zlib

from ..grading import channel
from ..grading.channel import CallFailed, CallTimeout, ChannelError, decode, encode
from ..grading.functions import LearnerFunction
from ..grading.protocol import CallAnswer, CallBatch, CheckRequest, ProtocolError, answers_of
from ..grading.testcells import UnreadableTestCell, check_calls, exercise_of_cell, is_test_cell
from ..schema import VERDICT_MIME, CheckResult

class Seeds:
    """The cases' seeds of one grading run: secret, drawn afresh for every run, so that no table of
    answers can be prepared from the notebook or the package."""

    def __init__(self):
        self.secret = secrets.randbits(64)

    def for_check(self, exercise: str, hidden: bool) -> list[int]:
        return [self.secret, zlib.crc32(exercise.encode()), int(hidden)]


class PublicSeeds(Seeds):
    """The seeds ``check`` itself uses in a notebook (see :func:`mlpcore.grading.check`): ``mlpcore check``
    judges like the grader but shows the learner the cases their notebook shows, run after run."""

    def __init__(self):
        self.secret = 0

    def for_check(self, exercise: str, hidden: bool) -> int:  # type: ignore[override]
        return zlib.crc32(exercise.encode()) + int(hidden)


class KernelFunction(LearnerFunction):
    """A learner's function living in the kernel: calling it sends the arguments there (see
    :func:`mlpcore.grading.channel.serve`) and returns the output rebuilt as plain data.

    ``call(handle, payload) -> answer`` runs one call in the kernel (the executor's)."""

    def __init__(self, call, handle: str, index: int, name: str):
        self._call, self.handle, self.index, self.__name__ = call, handle, index, name
        self._ahead = {}  # encoded arguments -> answers computed in advance, each used once

    def __repr__(self) -> str:
        return f"<your function {self.__name__}>"

    def __call__(self, *args):
        return self.run(None, args)

    def prefetch(self, exercise, calls: list) -> None:
        """Run the function on every case in one trip to the kernel (each call is a round trip of
        a few milliseconds); :meth:`run` then takes each answer once, for the same arguments."""
        keys = [json.dumps(encode(tuple(args))) for args in calls]
        for key, answer in zip(keys, self._ask(exercise, keys)):
            self._ahead.setdefault(key, []).append(answer)

    def run(self, exercise, args, notices: list | None = None):
        """The output of the learner's function on ``args`` (``exercise`` set: the call its check makes).
        Arguments the function changed are changed here too; its warnings go to ``notices``."""
        from ..guard import ReferenceUsedError

        key = json.dumps(encode(tuple(args)))
        waiting = self._ahead.get(key)
        answer = waiting.pop(0) if waiting else self._ask(exercise, [key])[0]
        try:
            for position, data in answer.changed.items():
                _mirror(args[int(position)], decode(data))
            output = decode(answer.output)
        except (ChannelError, KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise CallFailed(f"the kernel's answer was malformed ({exc})") from None
        if notices is not None:
            notices += answer.notices
        if answer.raised is not None:  # a refusal names the reference that was called
            raise _rebuilt(answer.raised)
        if answer.refused:  # the learner's code caught the refusal itself
            raise ReferenceUsedError("one of mlpcore's reference answers refused to run while your code was being "
                                     "checked, and your code went on without it")
        return output

    def _ask(self, exercise, encoded_calls: list) -> list[CallAnswer]:
        """The kernel's answers to calls of the function on each of ``encoded_calls`` (JSON texts)."""
        name = exercise.name if exercise is not None else None
        answers = self._call(self.handle, CallBatch.text(self.index, name, encoded_calls))
        try:
            return answers_of(answers, len(encoded_calls))
        except ProtocolError as exc:
            raise CallFailed(f"the kernel's answer was malformed: {exc}") from None


class LearnerException(Exception):
    """Stands for an exception the learner's function raised in the kernel (its class is named alike)."""


_BUILTIN_EXCEPTIONS = {cls.__name__: cls for cls in (
    ValueError, TypeError, IndexError, KeyError, AttributeError, NameError, ZeroDivisionError, FloatingPointError,
    OverflowError, ArithmeticError, NotImplementedError, RuntimeError, AssertionError, MemoryError, RecursionError,
    UnboundLocalError, LookupError)}


def _rebuilt(raised) -> Exception:
    """An exception like the one the learner's function raised, with ``your_code`` (its line) attached."""
    from ..guard import ReferenceUsedError

    if not isinstance(raised, dict) or not all(isinstance(raised.get(key), str) for key in ("type", "message")):
        raise CallFailed("the kernel's report of an exception was malformed")
    name, message = raised["type"][:80], raised["message"][:2000]
    if name == "ReferenceUsedError":
        exc = ReferenceUsedError(message)
    elif name in _BUILTIN_EXCEPTIONS:
        exc = _BUILTIN_EXCEPTIONS[name](message) if message else _BUILTIN_EXCEPTIONS[name]()
    else:
        safe = "".join(c for c in name if c.isalnum() or c == "_") or "Exception"
        exc = type(safe, (LearnerException,), {})(message) if message else type(safe, (LearnerException,), {})()
    your_code = raised.get("your_code")
    exc.your_code = your_code[:300] if isinstance(your_code, str) else None
    return exc


def _mirror(target, new) -> None:
    """Make ``target`` (an argument here) hold what the same argument held in the kernel after the call."""
    import numpy as np

    if isinstance(target, np.ndarray):
        if isinstance(new, np.ndarray) and new.shape == target.shape and new.dtype == target.dtype:
            target[...] = new
        else:  # changed beyond repair in place: poison it, so the check reports a changed input
            target[...] = np.nan if target.dtype.kind in "fc" else 0
    elif isinstance(target, dict) and isinstance(new, dict):
        for key in list(target):
            if key not in new:
                del target[key]
        for key, value in new.items():
            if key in target and isinstance(target[key], np.ndarray) and isinstance(value, np.ndarray) \
                    and value.shape == target[key].shape and value.dtype == target[key].dtype:
                target[key][...] = value
            else:
                target[key] = value
    elif isinstance(target, list) and isinstance(new, list):
        for position, value in enumerate(new[: len(target)]):
            if isinstance(target[position], (np.ndarray, dict, list)):
                _mirror(target[position], value)
            else:
                target[position] = value
    elif isinstance(target, np.random.Generator) and isinstance(new, dict):
        target.bit_generator.state = new


# ------------------------------------------------------------------ one cell


def requests_in(outputs) -> tuple[list[dict], list, bool]:
    """The check requests among a cell's outputs; the other outputs, without any mlpcore channel or
    verdict output; and whether the kernel wrote such an output of its own (a forged result)."""
    requests, kept, forged = [], [], False
    for out in outputs:
        data = out.get("data", {}) if out.get("output_type") in ("display_data", "execute_result") else {}
        if channel.REQUEST_MIME in data:
            requests.append(data[channel.REQUEST_MIME])
        elif any(mime in data for mime in (*channel.MIMES, VERDICT_MIME)):
            forged = True
        else:
            kept.append(out)
    return requests, kept, forged


def judge_cell(cell, call, seeds: Seeds) -> None:
    """Replace a test cell's outputs with the grader's verdict on its checks (see the module's docstring).

    ``call(handle, payload) -> answer`` runs one call in the kernel; it raises
    :class:`CallTimeout` or :class:`CallFailed`, and lets a dead kernel's error through."""
    from nbformat.notebooknode import NotebookNode

    from ..grading import verdict

    requests, kept, forged = requests_in(cell.get("outputs", []))
    errors = [out for out in kept if out.get("output_type") == "error"]
    if not is_test_cell(cell):  # an answer graded by hand: no check of it is judged
        cell.outputs = kept
        return
    try:
        expected = check_calls(cell.source)
        if not expected:
            raise UnreadableTestCell("it calls no check (a test cell's points come only from check(...) calls)")
    except UnreadableTestCell as exc:  # the course's own cell (restored before grading): its author's error
        result = CheckResult(exercise_of_cell(cell), "tampered",
                             f"the grader cannot read this test cell's checks, so it scores nothing: {exc}. "
                             "If this is the course's own cell, fix it in the source notebook and release again")
        cell.outputs = [_error(result.ename, result.message), result.output()]
        return
    if errors and not forged:  # the cell itself raised (a function not defined): that scores 0 already
        cell.outputs = errors
        return
    problem = "the kernel wrote a grading result of its own" if forged else _mismatch(expected, requests)
    results, outputs = [], []
    for check, request in zip(expected, requests if problem is None else []):
        exercise, hidden = check.exercise, check.hidden
        functions = [KernelFunction(call, request["handle"], index, exercise) for index in range(check.functions)]
        try:
            result, shown = verdict(exercise, functions, hidden, seeds.for_check(exercise, hidden))
        except CallTimeout as exc:
            outputs.append(_error("CellTimeoutError", str(exc)))
            cell.outputs = outputs + [r.output() for r in results]
            return
        except CallFailed as exc:
            problem = f"the check of {exercise} got no valid answer from the kernel: {exc}"
            break
        except Exception as exc:  # a bug of the grader's, on this output: this cell only, and said so
            result, shown = CheckResult(exercise, "error", f"{exercise}: the grader failed on this check "
                                        f"({type(exc).__name__}: {exc}); grade it again or look at it by hand",
                                        hidden=hidden), []
        results.append(result)
        if result.passed:
            outputs.append(NotebookNode(output_type="stream", name="stdout", text=result.message + "\n"))
        else:
            outputs.append(_error(result.ename, result.message, shown))
            break
    if problem is not None:
        result = CheckResult(expected[min(len(results), len(expected) - 1)].exercise,
                             "tampered", f"this test cell left no valid result: {problem}")
        results.append(result)
        outputs.append(_error(result.ename, result.message))
    cell.outputs = outputs + [result.output() for result in results]


def _mismatch(expected, requests) -> str | None:
    """What is wrong with the kernel's requests, or None when there is one valid request per check
    (``expected``: the cell's :class:`~mlpcore.grading.testcells.CheckCall` list)."""
    got = []
    for data in requests:
        try:
            request = CheckRequest.from_json(data)
        except ProtocolError as exc:
            return str(exc)
        got.append((request.exercise, request.hidden, request.functions))
    wanted = [(check.exercise, check.hidden, check.functions) for check in expected]
    if got != wanted:
        def describe(calls):
            return ", ".join(f"{name}{' (hidden)' if hidden else ''}" + (f" with {n} functions" if n > 1 else "")
                             for name, hidden, n in calls) or "none"
        return f"the checks it should make are {describe(wanted)}, but the kernel asked for {describe(got)}"
    return None


def _error(ename: str, evalue: str, traceback: list | None = None):
    from nbformat.notebooknode import NotebookNode

    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=traceback or [f"{ename}: {evalue}"])
