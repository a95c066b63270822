"""The messages between a graded kernel and the grader: every one typed, and checked on the way in.

Three messages cross, each as a display output of its own MIME type (:mod:`.channel` encodes the
values inside them):

1. :class:`CheckRequest`, kernel to grader: a test cell's ``check(...)`` handed over the learner's
   functions instead of checking them (``handle`` names them in the kernel);
2. :class:`CallBatch`, grader to kernel: run function ``function`` of ``handle`` on these encoded
   argument tuples (as ``exercise``'s check calls it, or plainly);
3. :class:`CallAnswer`, kernel to grader, one per call: the output, the arguments the call changed,
   what it warned, what it raised, and whether it tried the reference.

Whatever the kernel sends is data from the learner's side: :meth:`from_json` refuses anything that
is not exactly the message (a :class:`~.channel.ChannelError` naming what is wrong).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

REQUEST_MIME = "application/vnd.mlpcore.check-request+json"
RESULT_MIME = "application/vnd.mlpcore.call-result+json"
MIMES = (REQUEST_MIME, RESULT_MIME)
MAX_FUNCTIONS = 4  # of the learner's functions one check takes (the project: train and predict)
MAX_NOTICES = 20  # kept of one call's warnings
MAX_NOTICE_CHARS = 300


class ProtocolError(ValueError):
    """A message that is not what the protocol allows."""


def _require(condition: bool, what: str, data) -> None:
    if not condition:
        raise ProtocolError(f"{what} ({str(data)[:200]})")


@dataclass(frozen=True)
class CheckRequest:
    """A check handed to the grader: ``exercise`` with the ``hidden`` cases or not, on ``functions``
    of the learner's functions, registered in the kernel under ``handle``."""

    exercise: str
    hidden: bool
    handle: str
    functions: int

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data) -> CheckRequest:
        _require(
            isinstance(data, dict) and set(data) == {"exercise", "hidden", "handle", "functions"},
            "a check request has exactly exercise, hidden, handle and functions",
            data,
        )
        _require(
            isinstance(data["exercise"], str)
            and isinstance(data["handle"], str)
            and type(data["hidden"]) is bool
            and type(data["functions"]) is int
            and 1 <= data["functions"] <= MAX_FUNCTIONS,
            "a malformed check request",
            data,
        )
        return cls(**data)


@dataclass(frozen=True)
class CallBatch:
    """Calls of the registered function number ``function`` of a request: one per entry of ``calls``
    (each an encoded argument tuple, see :func:`~.channel.encode`); ``exercise``: the check whose
    call to make (an optimizer is built and stepped), or None for ``fn(*args)``."""

    function: int
    exercise: str | None
    calls: list = field(default_factory=list)

    @staticmethod
    def text(function: int, exercise: str | None, encoded_calls: list[str]) -> str:
        """The batch as the JSON text sent to the kernel, from calls already encoded as JSON texts
        (the grader keeps each call's text as the key of its answer, so it is written only once)."""
        return f'{{"function": {int(function)}, "exercise": {json.dumps(exercise)}, "calls": [{", ".join(encoded_calls)}]}}'

    @classmethod
    def from_text(cls, text: str) -> CallBatch:
        data = json.loads(text)
        _require(
            isinstance(data, dict)
            and set(data) == {"function", "exercise", "calls"}
            and type(data["function"]) is int
            and (data["exercise"] is None or isinstance(data["exercise"], str))
            and isinstance(data["calls"], list),
            "a malformed call batch",
            data,
        )
        return cls(data["function"], data["exercise"], data["calls"])


@dataclass(frozen=True)
class CallAnswer:
    """The kernel's answer to one call: ``output`` (encoded), ``changed`` (``{argument position: its
    encoded value after the call}``), ``notices`` (what the call warned or wrote to stderr),
    ``raised`` (None, or ``{"type", "message", "your_code"}``) and ``refused`` (whether mlpcore's
    reference refused to run during the call)."""

    output: object
    changed: dict = field(default_factory=dict)
    notices: list = field(default_factory=list)
    raised: dict | None = None
    refused: bool = False

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data) -> CallAnswer:
        _require(
            isinstance(data, dict) and set(data) == {"output", "changed", "notices", "raised", "refused"},
            "an answer has exactly output, changed, notices, raised and refused",
            data,
        )
        changed, notices, raised = data["changed"], data["notices"], data["raised"]
        _require(
            isinstance(changed, dict) and all(isinstance(key, str) and key.isdigit() for key in changed),
            "an answer's changed arguments are {position: value}",
            changed,
        )
        _require(isinstance(notices, list), "an answer's notices are a list", notices)
        _require(
            raised is None
            or (
                isinstance(raised, dict)
                and set(raised) == {"type", "message", "your_code"}
                and isinstance(raised["type"], str)
                and isinstance(raised["message"], str)
                and (raised["your_code"] is None or isinstance(raised["your_code"], str))
            ),
            "an answer's raised is None or {type, message, your_code}",
            raised,
        )
        _require(type(data["refused"]) is bool, "an answer's refused is true or false", data["refused"])
        kept = [str(notice)[:MAX_NOTICE_CHARS] for notice in notices[:MAX_NOTICES]]
        return cls(data["output"], changed, kept, raised, data["refused"])


def answers_of(data, expected: int) -> list[CallAnswer]:
    """The kernel's answers to a batch of ``expected`` calls; :class:`ProtocolError` unless there is
    exactly one valid answer per call."""
    _require(
        isinstance(data, list) and len(data) == expected,
        f"the kernel should answer {expected} calls",
        type(data).__name__ if not isinstance(data, list) else len(data),
    )
    return [CallAnswer.from_json(answer) for answer in data]
