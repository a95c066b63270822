"""Gather every answer of a graded class, and the public sources to compare them with.

The class is read from ``OUTPUT/autograded/<student>/<assignment>/<notebook>.ipynb``, the notebooks
``mlpcore grade`` graded (the course's cells restored, so that only the learner's are the learner's).
The public sources of each exercise: mlpcore's reference (the function or class of that name in
mlpcore's modules, and the model code the network exercises' references delegate to), the course's
own solution (``solutions/``, which a clone of the repository has), and any ``--known`` folder of
``.py`` files or notebooks. A ``--bank`` folder of independent solutions, in the same forms, only
helps say how rare a fingerprint is.
"""

from __future__ import annotations

import ast
import functools
import os
import textwrap
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ... import course
from . import normalise
from .answers import (Answer, Exercise, answer_of, exercises_of, learner_definitions, parse_cell, read_notebook,
                      release_facts, top_level)

# mlpcore's modules whose definitions are the public reference of an exercise of the same name.
REFERENCE_MODULES = ("activations", "layers", "losses", "init", "regularization", "optim", "gradcheck", "network",
                     "model")
# Exercises whose reference function delegates to the model: the code that does the work.
_MODEL_WORK = ("MLP._forward", "MLP._backward", "MLP._loss_grads_logits")
REFERENCE_EXTRAS = {"backward_pass": _MODEL_WORK, "loss_and_grads": _MODEL_WORK, "forward_pass": ("MLP._forward",),
                    "classifier": ("MLP.fit",) + _MODEL_WORK}
REFERENCE = "mlpcore's reference"
COURSE_SOLUTION = "the course's solution (solutions/)"


@dataclass
class NotebookContext:
    """What the release of one notebook says: its exercises, the names every answer shares, the scaffold."""

    assignment: str
    notebook: str
    exercises: list[Exercise]
    release_sources: set[str]
    kept: frozenset[str]
    scaffold: dict[int, tuple[int, int]]

    def answers(self, owner: str, notebook: dict | None = None, python: str | None = None) -> dict[str, Answer]:
        """``{exercise key: Answer}`` of a notebook (JSON) or of a Python file's text."""
        if python is not None:
            definitions = learner_definitions({"cells": [{"cell_type": "code", "source": python}]}, None)
        else:
            definitions = learner_definitions(notebook or {"cells": []}, self.release_sources)
        entries = {name for exercise in self.exercises for name in exercise.entries}
        helpers = normalise.one_line_helpers({name: node for name, (node, _) in definitions.items()})
        return {exercise.key: answer_of(owner, exercise, definitions, self.kept, entries - set(exercise.entries),
                                        self.scaffold, helpers)
                for exercise in self.exercises}


def notebook_context(root: Path, assignment: str, notebook: str) -> NotebookContext:
    """The context of ``course/<assignment>/<notebook>.ipynb`` and its source in ``solutions/``."""
    release = read_notebook(root / course.RELEASE_DIRECTORY / assignment / f"{notebook}.ipynb")
    source = read_notebook(root / course.SOURCE_DIRECTORY / assignment / f"{notebook}.ipynb")
    sources, names, scaffold = release_facts(release)
    exercises = exercises_of(source, notebook)
    entries = {name for exercise in exercises for name in exercise.entries}
    kept = frozenset(names | entries | normalise.KEPT_NAMES)
    return NotebookContext(assignment, notebook, exercises, sources, kept, scaffold)


def assignment_contexts(root: Path, assignment: str) -> list[NotebookContext]:
    """One context per notebook of the assignment (a clear error for an unknown assignment)."""
    known = course.assignments(root)
    if assignment not in known:
        raise ValueError(f"there is no assignment {assignment!r} in {root / course.SOURCE_DIRECTORY}; "
                         f"the assignments are {', '.join(known)}")
    return [notebook_context(root, assignment, path.stem) for path in course.notebooks(root, assignment)]


# ---------------------------------------------------------------------------------------------- sources


@functools.cache
def _module_definitions(module: str) -> dict[str, str]:
    """``{qualified name: source}`` of the top-level functions and classes of ``mlpcore.<module>``, and of
    the methods of its classes (``MLP.fit``)."""
    path = Path(__file__).resolve().parents[2] / f"{module}.py"
    try:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
    except (OSError, SyntaxError):
        return {}
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found[node.name] = ast.get_source_segment(text, node) or ""
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    method = ast.get_source_segment(text, item, padded=True) or ""
                    found[f"{node.name}.{item.name}"] = textwrap.dedent(method)
    return found


def reference_source(exercise: str) -> str:
    """mlpcore's source for ``exercise``: its function or class, and the work it delegates (may be "")."""
    definitions = {}
    for module in REFERENCE_MODULES:
        for name, text in _module_definitions(module).items():
            definitions.setdefault(name, text)
    wanted = [exercise, *REFERENCE_EXTRAS.get(exercise, ())]
    return "\n\n".join(definitions[name] for name in wanted if name in definitions)


def public_sources(root: Path, context: NotebookContext, known: Path | None = None) -> dict[str, list[Answer]]:
    """``{exercise key: [Answer, ...]}``: the reference, the course's solution, and each known solution."""
    found: dict[str, list[Answer]] = {exercise.key: [] for exercise in context.exercises}
    for exercise in context.exercises:
        text = reference_source(exercise.name)
        tree = parse_cell(text) if text else None
        if tree is not None:  # every definition of the reference's text is its answer
            definitions = {name: (node, text) for name, node in top_level(tree).items()}
            as_exercise = Exercise(exercise.key, exercise.notebook, exercise.name, tuple(definitions))
            found[exercise.key].append(answer_of(REFERENCE, as_exercise, definitions, context.kept, set(),
                                                 context.scaffold))
    solution = read_notebook(root / course.SOURCE_DIRECTORY / context.assignment / f"{context.notebook}.ipynb")
    for key, answer in context.answers(COURSE_SOLUTION, notebook=solution).items():
        found[key].append(answer)
    for answers in read_folder(known, context).values():
        for key, answer in answers.items():
            found[key].append(answer)
    return {key: [answer for answer in answers if not answer.empty] for key, answers in found.items()}


def read_folder(folder: Path | None, context: NotebookContext) -> dict[str, dict[str, Answer]]:
    """``{label: {exercise key: Answer}}`` of every ``.py`` file and notebook under ``folder`` (a known
    solution or a bank's), labelled by its path in the folder; a clear error for a folder that is not one."""
    if folder is None:
        return {}
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder: expected a folder of .py files or notebooks of solutions")
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix not in (".py", ".ipynb") or not path.is_file() or ".ipynb_checkpoints" in path.parts:
            continue
        label = path.relative_to(folder).as_posix()
        if path.suffix == ".py":
            text = path.read_text(encoding="utf-8", errors="replace")
            found[label] = context.answers(label, python=text)
        else:
            found[label] = context.answers(label, notebook=read_notebook(path))
    return found


# ---------------------------------------------------------------------------------------------- the class


def class_folders(output: Path, assignment: str) -> dict[str, Path]:
    """``{student: OUTPUT/autograded/<student>/<assignment>}``; a clear error when nothing was graded."""
    autograded = Path(output) / "autograded"
    students = {path.name: path / assignment for path in sorted(autograded.iterdir())
                if (path / assignment).is_dir()} if autograded.is_dir() else {}
    if not students:
        raise FileNotFoundError(f"no graded class of {assignment} in {output}: expected "
                                f"{autograded}/<student>/{assignment}/<notebook>.ipynb, which mlpcore grade "
                                f"{assignment} writes (run it first, or give --output the folder it graded into)")
    return students


_CONTEXTS: list[NotebookContext] = []


def _set_contexts(contexts: list[NotebookContext]) -> None:
    global _CONTEXTS
    _CONTEXTS = contexts


def _student_answers(job: tuple[str, str]) -> dict[str, Answer]:
    student, folder = job
    found = {}
    for context in _CONTEXTS:
        notebook = read_notebook(Path(folder) / f"{context.notebook}.ipynb")
        found.update(context.answers(student, notebook=notebook))
    return found


def class_answers(contexts: list[NotebookContext], folders: dict[str, Path],
                  workers: int = 1) -> dict[str, dict[str, Answer]]:
    """``{student: {exercise key: Answer}}``, read and fingerprinted by ``workers`` processes."""
    jobs = [(student, str(folder)) for student, folder in folders.items()]
    if workers <= 1 or len(jobs) < 8:
        _set_contexts(contexts)
        return {student: _student_answers(job) for student, job in zip(folders, jobs)}
    chunk = max(1, len(jobs) // (workers * 8))
    with ProcessPoolExecutor(workers, initializer=_set_contexts, initargs=(contexts,)) as pool:
        return dict(zip(folders, pool.map(_student_answers, jobs, chunksize=chunk)))


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
