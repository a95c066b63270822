"""The channel between a graded kernel and the grader that judges it from outside.

In ``mlpcore grade`` the learner's kernel is not trusted to judge itself: whatever
it patches (``check``, NumPy, IPython) must not turn a wrong function into points.
So there, and only there (the grading kernel's environment sets :data:`TRUSTED_ENV`),
``check(...)`` runs no case at all. It registers the learner's function and leaves a
*request* in the cell's output. After the cell, the grading worker
(:mod:`mlpcore.autograde.trusted`) draws the cases from a secret seed of its own,
sends each case's arguments into the kernel, where :func:`serve` runs the learner's
function on them and answers with its output as plain data, and compares that with
the reference in its own process.

Everything crosses as :func:`encode`'d data: ``None``, ``bool``, ``int``, ``float``,
``str``, NumPy arrays, scalars and dtypes of numeric kinds, tuples, lists and dicts of those;
in the grader's direction also NumPy generators (their state) and mlpcore's own test
functions (by name). :func:`decode` rebuilds exactly those types and nothing with
behaviour of its own: an ndarray subclass or any other object comes back as an
:class:`Opaque` value that fails the comparison with its type's name.
"""

from __future__ import annotations

import base64
import copy
import importlib
import json
import math
import os

import numpy as np

from .protocol import MIMES, REQUEST_MIME, RESULT_MIME, CallAnswer, CallBatch, CheckRequest

__all__ = ["MIMES", "REQUEST_MIME", "RESULT_MIME", "TRUSTED_ENV", "ChannelError", "decode", "encode", "request", "serve"]

TRUSTED_ENV = "MLPCORE_TRUSTED_GRADING"

MAX_DEPTH = 12  # nesting of containers in one value
MAX_ITEMS = 100_000  # entries of one container
MAX_ARRAY_BYTES = 64 * 2**20
_NUMERIC_KINDS = "biufc"
# Test functions a case may hand to the learner (numerical_gradient's f, a colleague's network).
_CALLABLE_MODULES = ("mlpcore.grading.",)


_kept: list = []  # in the kernel: the learner's outputs that are not plain data, by id (see Opaque)


class ChannelError(ValueError):
    """Data on the channel that is not what the grader sent or accepts."""


class Opaque:
    """An output that is not plain data (an ndarray subclass, an object of the learner's own class).
    It carries only its type's name and repr, so comparisons fail with a readable message. The
    object itself stays in the kernel (``kept``): handed back to the learner's code (the project's
    ``predict(params, X)`` with ``params`` of the learner's own class), it is that object again."""

    def __init__(self, text: str, kept: int | None = None):
        self._text, self.kept = text, kept

    def __repr__(self) -> str:
        return self._text


class CallInterrupted(BaseException):
    """A call into the kernel that ended without an answer of the learner's function. A BaseException,
    like KeyboardInterrupt, so that no check mistakes it for an error of the learner's code."""


class CallTimeout(CallInterrupted):
    """The learner's function ran past the test cell's time limit while being checked."""


class CallFailed(CallInterrupted):
    """The kernel gave no valid answer to a call (it was tampered with)."""


def _opaque_type(name: str) -> type:
    """A class with the learner's type's name (for messages), and no behaviour but its repr."""
    safe = "".join(c for c in name if c.isalnum() or c == "_")[:60] or "object"
    return type(safe, (Opaque,), {})


def trusted_grading() -> bool:
    """Whether this kernel is graded by ``mlpcore grade``, which judges the checks itself."""
    return os.environ.get(TRUSTED_ENV) == "1"


# ------------------------------------------------------------------ encoding


def encode(value, depth: int = 0):
    """``value`` as JSON-ready tagged data (see the module's docstring for what is accepted)."""
    if depth > MAX_DEPTH:
        raise ChannelError("nested too deeply")
    kind = type(value)
    if value is None:
        return {"t": "none"}
    if kind is bool:
        return {"t": "bool", "v": value}
    if kind is int:
        return {"t": "int", "v": str(value)}
    if kind is float:
        return {"t": "float", "v": value.hex()}
    if kind is str:
        return {"t": "str", "v": value}
    if kind is np.ndarray and value.dtype.kind in _NUMERIC_KINDS:
        data = np.ascontiguousarray(value)
        return {"t": "ndarray", "dtype": data.dtype.str, "shape": list(data.shape),
                "data": base64.b64encode(data.tobytes()).decode()}
    if isinstance(value, np.generic) and kind.__module__ == "numpy" and value.dtype.kind in _NUMERIC_KINDS:
        return {"t": "scalar", "dtype": value.dtype.str, "data": base64.b64encode(value.tobytes()).decode()}
    if isinstance(value, np.dtype) and value.kind in _NUMERIC_KINDS:  # activation_bytes takes a dtype
        return {"t": "dtype", "v": value.str, "type": False}
    if isinstance(value, type) and issubclass(value, np.generic) and np.dtype(value).kind in _NUMERIC_KINDS:
        return {"t": "dtype", "v": np.dtype(value).str, "type": True}  # np.float32 itself
    if kind in (tuple, list):
        return {"t": kind.__name__, "items": [encode(item, depth + 1) for item in value]}
    if kind is dict:
        return {"t": "dict", "items": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if kind is np.random.Generator:
        bit_generator = value.bit_generator
        return {"t": "generator", "bits": type(bit_generator).__name__, "state": encode(bit_generator.state, depth + 1)}
    if isinstance(value, Opaque) and value.kept is not None:
        return {"t": "kept", "id": value.kept}
    rebuild = getattr(value, "rebuild", None) if callable(value) else None
    if rebuild is not None:  # a test function made by a factory: (its "module:name", its arguments)
        return {"t": "callable", "ref": rebuild[0], "args": encode(tuple(rebuild[1]), depth + 1)}
    if callable(value) and getattr(value, "__module__", "").startswith(_CALLABLE_MODULES) \
            and "<" not in getattr(value, "__qualname__", "<"):
        return {"t": "callable", "ref": f"{value.__module__}:{value.__qualname__}", "args": None}
    try:
        text = repr(value)[:200]
    except Exception:
        text = f"<{kind.__name__}>"
    _kept.append(value)
    return {"t": "opaque", "type": kind.__name__, "repr": text, "id": len(_kept) - 1}


def decode(data, *, trusted_sender: bool = False, depth: int = 0):
    """The value :func:`encode` gave ``data``. From the kernel (``trusted_sender`` False) only plain
    data is rebuilt and anything malformed raises :class:`ChannelError`; the kernel also rebuilds
    the generators and test functions the grader sends."""
    if depth > MAX_DEPTH:
        raise ChannelError("nested too deeply")
    if not isinstance(data, dict) or not isinstance(data.get("t"), str):
        raise ChannelError(f"not an encoded value: {str(data)[:100]}")
    tag = data["t"]
    try:
        if tag == "none":
            return None
        if tag == "bool" and type(data["v"]) is bool:
            return data["v"]
        if tag == "int" and type(data["v"]) is str and len(data["v"]) < 5000:
            return int(data["v"])
        if tag == "float" and type(data["v"]) is str:
            return float.fromhex(data["v"])
        if tag == "str" and type(data["v"]) is str:
            return data["v"]
        if tag == "ndarray":
            return _decode_array(data)
        if tag == "scalar":
            dtype = _numeric_dtype(data["dtype"])
            raw = base64.b64decode(data["data"], validate=True)
            if len(raw) != dtype.itemsize:
                raise ChannelError("a scalar's bytes do not match its dtype")
            return np.frombuffer(raw, dtype=dtype)[0]
        if tag == "dtype" and type(data["type"]) is bool:
            dtype = _numeric_dtype(data["v"])
            return dtype.type if data["type"] else dtype
        if tag in ("tuple", "list"):
            items = [decode(item, trusted_sender=trusted_sender, depth=depth + 1) for item in _items(data)]
            return tuple(items) if tag == "tuple" else items
        if tag == "dict":
            result = {}
            for pair in _items(data):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise ChannelError("a dict entry is not a pair")
                key = decode(pair[0], trusted_sender=trusted_sender, depth=depth + 1)
                if type(key) not in (str, int):
                    raise ChannelError("a dict key is neither str nor int")
                result[key] = decode(pair[1], trusted_sender=trusted_sender, depth=depth + 1)
            return result
        if tag == "opaque" and type(data.get("type")) is str:
            kept = data.get("id")
            return _opaque_type(data["type"])(str(data.get("repr", ""))[:200], kept if type(kept) is int else None)
        if trusted_sender and tag == "kept":
            return _kept[data["id"]]
        if trusted_sender and tag == "generator":
            bit_generator = getattr(np.random, data["bits"])()
            bit_generator.state = decode(data["state"], trusted_sender=True, depth=depth + 1)
            return np.random.Generator(bit_generator)
        if trusted_sender and tag == "callable":
            module, _, name = data["ref"].partition(":")
            if not module.startswith(_CALLABLE_MODULES):
                raise ChannelError(f"not one of mlpcore's test functions: {data['ref']}")
            fn = getattr(importlib.import_module(module), name)
            args = data["args"]
            return fn if args is None else fn(*decode(args, trusted_sender=True, depth=depth + 1))
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        if isinstance(exc, ChannelError):
            raise
        raise ChannelError(f"a malformed {tag!r} value: {exc}") from None
    raise ChannelError(f"a value of an unknown kind: {tag!r}")


def _items(data) -> list:
    items = data["items"]
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        raise ChannelError("a container's items are malformed or too many")
    return items


def _numeric_dtype(text) -> np.dtype:
    if not isinstance(text, str) or len(text) > 8:
        raise ChannelError("a malformed dtype")
    dtype = np.dtype(text)
    if dtype.kind not in _NUMERIC_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise ChannelError(f"not a numeric dtype: {text}")
    return dtype


def _decode_array(data) -> np.ndarray:
    dtype = _numeric_dtype(data["dtype"])
    shape = data["shape"]
    if not isinstance(shape, list) or len(shape) > 32 or not all(type(n) is int and n >= 0 for n in shape):
        raise ChannelError("a malformed shape")
    size = math.prod(shape) * dtype.itemsize
    if size > MAX_ARRAY_BYTES:
        raise ChannelError("an array too large")
    raw = base64.b64decode(data["data"], validate=True)
    if len(raw) != size:
        raise ChannelError("an array's bytes do not match its shape and dtype")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()  # writable, owning its memory


def to_text(value) -> str:
    return json.dumps(encode(value))


# ------------------------------------------------------------------ the kernel's side

_registered: dict = {}  # handle -> the learner's functions a check cell handed over


def request(exercise: str, functions: tuple, hidden: bool) -> None:
    """Register the learner's ``functions`` for the grader and leave the request in the cell's output."""
    from IPython.display import display

    handle = str(len(_registered))
    _registered[handle] = functions
    display({REQUEST_MIME: CheckRequest(exercise, bool(hidden), handle, len(functions)).to_json()}, raw=True)


def serve(handle: str, payload: str) -> None:
    """Run one of the registered functions on the grader's arguments; answer with a result output.

    ``payload``: a :class:`~.protocol.CallBatch`'s text; with an exercise, each call is the one its
    check makes (an optimizer is built and stepped), else ``fn(*args)``. The answer is a list of
    :class:`~.protocol.CallAnswer`, one per call."""
    from IPython.display import display

    batch = CallBatch.from_text(payload)
    fn = _registered[handle][batch.function]
    answers = [_answer(fn, batch.exercise, decode(args, trusted_sender=True)).to_json() for args in batch.calls]
    display({RESULT_MIME: answers}, raw=True)


def _answer(fn, exercise_name: str | None, args: tuple) -> CallAnswer:
    """One call of the learner's function, as :func:`serve` answers it."""
    from .. import guard
    from .failure import learner_line
    from .functions import LocalFunction
    from .table import EXERCISES

    exercise = EXERCISES[exercise_name] if exercise_name else None
    before = copy.deepcopy(args)
    output, notices, raised = encode(None), [], None
    refusals = guard.refusals
    try:
        output = encode(LocalFunction(fn).run(exercise, args, notices))
    except (Exception, SystemExit) as exc:  # an interrupt (the time limit) ends the call instead
        raised = {"type": type(exc).__name__, "message": str(exc)[:2000], "your_code": learner_line(exc.__traceback__)}
    changed = {str(position): encode(new.bit_generator.state if isinstance(new, np.random.Generator) else new)
               for position, (old, new) in enumerate(zip(before, args))
               if not _same(old, new)}  # a generator goes back as its state: plain data
    return CallAnswer(output, changed, notices, raised, guard.refusals != refusals)


def _same(a, b) -> bool:
    """Whether an argument is unchanged by the call (arrays by value, containers entry by entry)."""
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.random.Generator):
        return isinstance(b, np.random.Generator) and a.bit_generator.state == b.bit_generator.state
    return True  # numbers, strings, functions: not changed in place
