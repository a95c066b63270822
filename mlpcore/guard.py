"""The reference implementation refuses to run while a learner's code is being checked.

Every function of the public contract is wrapped with :func:`reference`. The
grading checks run the learner's function inside :func:`learner_code`; if that
function calls into mlpcore (directly, through an alias imported earlier, or
through ``MLP``), the call raises :class:`ReferenceUsedError` instead of
quietly handing back the model answer. Outside a check the wrapper costs one
comparison.
"""

from __future__ import annotations

import inspect
import sys
from contextlib import contextmanager

# A plain counter rather than a context variable, so that threads started by
# the learner's code cannot escape it.
_learner_depth = 0
# How many calls were refused: a check compares it before and after the learner's
# code, so that catching ReferenceUsedError does not hide the attempt.
refusals = 0


class ReferenceUsedError(RuntimeError):
    """mlpcore's reference implementation was called from the code being checked."""


def reference(fn):
    """Wrap a reference function (or method) so that it refuses to run inside :func:`learner_code`."""
    qualified = f"{fn.__module__}.{fn.__qualname__}"

    def guarded(*args, **kwargs):
        # Not a frame of the learner's traceback: a bad call outside any check shows the reference's own
        # error, not this wrapper (IPython and pytest hide frames that set __tracebackhide__).
        __tracebackhide__ = True
        if _learner_depth:
            _refuse(qualified, sys._getframe(1))
        return fn(*args, **kwargs)

    # Look like the wrapped function in help() and tab completion, without exposing it
    # as __wrapped__ (which would be a way around the guard).
    for attribute in ("__name__", "__qualname__", "__doc__", "__module__"):
        setattr(guarded, attribute, getattr(fn, attribute))
    guarded.__signature__ = inspect.signature(fn)
    return guarded


def _refuse(qualified: str, caller) -> None:
    """Count the refusal and raise :class:`ReferenceUsedError` for the reference ``qualified`` called from
    ``caller``. Kept apart from the wrapper, whose lines a traceback of any other error shows."""
    global refusals
    refusals += 1
    called = _called_by_the_learner(caller)
    name = qualified if called in (None, qualified) else f"{called} (through {qualified})"
    raise ReferenceUsedError(
        f"{name} is mlpcore's reference answer, and it refuses to run while your code is "
        "being checked: write this exercise with NumPy yourself."
    )


def _called_by_the_learner(frame) -> str | None:
    """The mlpcore function that code outside mlpcore called and that led to ``frame`` (a reference's
    caller): ``mlpcore.model.MLP`` when the learner built a model whose constructor called a reference.
    None when the learner called the reference itself."""
    entry = None
    while frame is not None and frame.f_globals.get("__name__", "").startswith("mlpcore."):
        entry, frame = frame, frame.f_back
    if entry is None:
        return None
    name = getattr(entry.f_code, "co_qualname", entry.f_code.co_name)  # co_qualname: Python 3.11+
    return f"{entry.f_globals['__name__']}.{name.removesuffix('.__init__')}"


@contextmanager
def learner_code():
    """While this block runs, every :func:`reference` function raises :class:`ReferenceUsedError`."""
    global _learner_depth
    _learner_depth += 1
    try:
        yield
    finally:
        _learner_depth -= 1
