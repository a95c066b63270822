"""Where exercises come from: one door for mlpcore's own and for those a course adds.

An *exercise source* is a Python module, named by its dotted name (mlpcore's own, such as
``mlpcore.grading.exercises``) or by the path of a ``.py`` file (a course's), whose
``EXERCISES`` is a list of :class:`~mlpcore.grading.exercises.Exercise`. :func:`load` registers
them in :data:`EXERCISES` (also ``mlpcore.grading.EXERCISES``), the table every check, the grader
and the test-cell reader look names up in.

Where a course's sources are loaded:

- in a notebook, ``use_exercises("leaky_relu_exercise.py")`` (:func:`mlpcore.grading.use_exercises`)
  before the first check of one, so that ``check("leaky_relu", leaky_relu)`` knows it;
- in the grader, from the course's configuration (``configure(c, grading=..., exercises=[...])``
  in ``nbgrader_config.py``, see :mod:`mlpcore.autograde.pipeline`): always the instructor's copy
  from the course, never the one in a student's folder, which a student can edit.

A worked example is ``docs/course-exercises.md``.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import keyword
import sys
from pathlib import Path

from .exercises import Exercise

EXERCISES: dict[str, Exercise] = {}  # every registered exercise, by name

# mlpcore's own exercise sources, registered when this module is imported.
BUILT_IN_SOURCES = (
    "mlpcore.grading.exercises",
    "mlpcore.grading.network_exercises",
    "mlpcore.grading.draws",
    "mlpcore.grading.optimizers",
    "mlpcore.grading.gradcheck_exercises",
)

_source_of: dict[str, str] = {}  # exercise name -> the source that registered it
_from_files: set[str] = set()  # the names a course's file registered (mlpcore's own are never unloaded)


class ExerciseSourceError(ValueError):
    """An exercise source that cannot be loaded: the message names the source and what is wrong."""


def _module_of_file(path: Path):
    """The module a course's exercise file defines, imported under a name of its own (its path's
    hash), so that two courses' ``exercises.py`` never replace each other in ``sys.modules``."""
    if path.suffix != ".py" or not path.is_file():
        raise ExerciseSourceError(f"{path}: an exercise file should be an existing .py file")
    name = f"mlpcore_course_exercises_{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # a .py file always has one; said plainly if not
        raise ExerciseSourceError(f"{path}: Python cannot load it as a module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look their module up by name
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise ExerciseSourceError(f"{path}: loading it raised {type(exc).__name__}: {exc}") from exc
    return module


def load(source: str | Path) -> list[str]:
    """Register the exercises of ``source`` (a dotted module name, or the path of a ``.py`` file);
    the names registered. Loading the same source again replaces its exercises (a notebook cell
    run twice). :class:`ExerciseSourceError` for a source without a valid ``EXERCISES`` list, or
    one whose exercise has a name another source registered."""
    is_file = isinstance(source, Path) or str(source).endswith(".py") or "/" in str(source)
    module = _module_of_file(Path(source)) if is_file else importlib.import_module(str(source))
    label = str(source)
    found = getattr(module, "EXERCISES", None)
    if not isinstance(found, (list, tuple)) or not all(isinstance(item, Exercise) for item in found):
        raise ExerciseSourceError(f"{label}: it should define EXERCISES, a list of mlpcore.grading.Exercise (found {type(found).__name__})")
    for exercise in found:
        if not (exercise.name.isidentifier() and not keyword.iskeyword(exercise.name)):
            raise ExerciseSourceError(f"{label}: the exercise name {exercise.name!r} should be a Python identifier")
        other = _source_of.get(exercise.name)
        if other is not None and other != label and not (is_file and exercise.name in _from_files):
            raise ExerciseSourceError(f"{label}: there is already an exercise {exercise.name!r}, from {other}; give this one another name")
        if not callable(exercise.reference) or not callable(exercise.cases):
            raise ExerciseSourceError(f"{label}: {exercise.name}'s reference and cases should be functions")
    for exercise in found:
        EXERCISES[exercise.name] = exercise
        _source_of[exercise.name] = label
        if is_file:
            _from_files.add(exercise.name)
    return [exercise.name for exercise in found]


def unload_files() -> None:
    """Forget every exercise a course's file registered: a grading step then loads exactly the files
    its course configures, whatever an earlier job in the same process loaded."""
    for name in _from_files:
        EXERCISES.pop(name, None)
        _source_of.pop(name, None)
    _from_files.clear()


def source_of(name: str) -> str | None:
    """The source that registered exercise ``name``, or None."""
    return _source_of.get(name)


for _source in BUILT_IN_SOURCES:
    load(_source)
