"""Reading a student's submission and putting it back into the course's shape before nbgrader sees it.

nbgrader expects ``<notebook>.ipynb`` with every cell of the release, in order,
and stops or scores 0 otherwise. Here every problem is named and, where the
work can still be graded, repaired:

- a file that is not JSON, not a notebook, or not UTF-8 is *invalid*;
- a missing notebook is *missing*, unless exactly one unexpected notebook in the
  folder carries this notebook's cells (or the assignment has one notebook and
  the folder one stray notebook): then it was *renamed* and is graded;
- cells of the release that were deleted are put back from the release (a deleted
  answer is the unanswered stub, so it scores 0), and cells out of the course's
  order are put back in it: *restructured*. A learner's own extra cells travel
  with the course cell they follow;
- a read-only cell (a test) whose nbgrader checksum differs from the release's
  was edited: *tampered*. nbgrader grades it with the original tests;
- a cell that rebinds ``check`` or ``check_classifier``, the functions the test
  cells call (``check = lambda *a: None`` would pass every later test), is
  *tampered* too: those statements are removed before grading;
- a copy of a course cell (Jupyter keeps a cell's metadata when it is copied), or
  a cell with a grade id the course does not have, would make nbgrader refuse the
  whole notebook: it is graded as the learner's own cell (*restructured*).
"""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path

import nbformat
from nbgrader.utils import compute_checksum, is_locked, is_solution

from ..grading.testcells import CHECKERS as TEST_CELL_CHECKERS
from ..schema import NotebookProblems

# Files in a submission folder that are never the student's notebook.
IGNORED_PARTS = {".ipynb_checkpoints", "__pycache__"}


def read_notebook(path: Path):
    """``(notebook, None)``, or ``(None, why it is not a readable notebook)``."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"{path.name} is not a text file (byte {exc.start} is not UTF-8)"
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"{path.name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
    if not isinstance(raw, dict) or "cells" not in raw or "nbformat" not in raw:
        found = (f"an object with the keys {', '.join(sorted(raw)[:8])}" if isinstance(raw, dict)
                 else f"a JSON {type(raw).__name__}")
        return None, f"{path.name} is JSON but not a Jupyter notebook (expected 'cells' and 'nbformat', found {found})"
    try:
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
    except Exception as exc:  # nbformat raises several types; all mean "not a valid notebook"
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, f"{path.name} is not a valid notebook: {first_line[:200]}"
    return notebook, None


def grade_ids(notebook) -> list[str]:
    return [cell.metadata["nbgrader"]["grade_id"] for cell in notebook.cells
            if "grade_id" in cell.metadata.get("nbgrader", {})]


def locate_notebooks(folder: Path, expected: list[str], release: dict) -> dict:
    """``{notebook name: (path or None, NotebookProblems)}`` for each expected notebook of the folder.

    ``release`` maps each name to its release notebook, whose grade ids identify a renamed copy.
    """
    found = {}
    # Shallowest first, so that forward.ipynb beats a copy in old/forward.ipynb.
    for path in sorted(folder.rglob("*.ipynb"), key=lambda p: (len(p.relative_to(folder).parts), p)):
        if path.is_file() and not IGNORED_PARTS.intersection(path.relative_to(folder).parts):
            found.setdefault(path.stem, path)
    located = {}
    strays = [name for name in found if name not in expected]
    for name in expected:
        problems = NotebookProblems()
        if name in found:
            if found[name].parent != folder:  # e.g. unpacked from a zip into a folder of its own
                problems.found_as = str(found[name].relative_to(folder))
                problems.add("renamed", f"{name}.ipynb was submitted in a subfolder, as {problems.found_as}")
            located[name] = (found[name], problems)
            continue
        # Only ids of this notebook alone: every notebook of the course has a "setup" cell, say.
        ids = set(grade_ids(release[name])).difference(*(grade_ids(release[other]) for other in expected if other != name))
        candidates = [stray for stray in strays if ids & _ids_of(found[stray])]
        if not candidates and len(expected) == 1 and len(strays) == 1:
            candidates = strays  # the only notebook there, even if unreadable
        if len(candidates) == 1:
            path = found[candidates[0]]
            strays.remove(candidates[0])
            problems.found_as = str(path.relative_to(folder))
            problems.add("renamed", f"{name}.ipynb was submitted as {problems.found_as}")
            located[name] = (path, problems)
        else:
            others = f"; the folder holds {', '.join(sorted(f'{s}.ipynb' for s in strays))}" if strays else ""
            problems.add("missing", f"no {name}.ipynb was submitted{others}")
            located[name] = (None, problems)
    return located


def _ids_of(path: Path) -> set:
    notebook, _ = read_notebook(path)
    return set(grade_ids(notebook)) if notebook is not None else set()


def restore_structure(notebook, release, problems: NotebookProblems):
    """The notebook with the release's cells in the release's order (a new notebook when anything moved).

    Records deleted, reordered and edited read-only cells in ``problems``.
    """
    release_cells = {cell.metadata["nbgrader"]["grade_id"]: cell for cell in release.cells
                     if "grade_id" in cell.metadata.get("nbgrader", {})}
    order = list(release_cells)
    leading, groups, seen, demoted = [], {}, [], []
    current = leading
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in release_cells and grade_id not in groups:
            current = groups[grade_id] = [cell]
            seen.append(grade_id)
        elif "nbgrader" in cell.metadata:
            # A copy of a course cell, or a grade id the course lacks: nbgrader would refuse the
            # whole notebook, so it becomes a plain cell of the learner's own.
            demoted.append(grade_id or "a cell without an id")
            cell = copy.deepcopy(cell)
            del cell.metadata["nbgrader"]
            current.append(cell)
        else:
            current.append(cell)  # the learner's own cell
    if demoted:
        problems.add("restructured", "copies of course cells or cells with unknown grade ids were graded as "
                                     f"your own cells: {', '.join(demoted)}")

    for grade_id, group in groups.items():
        original = release_cells[grade_id]
        if is_locked(original) and _checksum(group[0]) != _checksum(original):
            problems.add("tampered", f"read-only cell {grade_id} was edited; graded with the original")

    missing = [grade_id for grade_id in order if grade_id not in groups]
    in_order = seen == [grade_id for grade_id in order if grade_id in groups]
    if not missing and in_order and not demoted:
        return notebook
    if missing:
        answers = [g for g in missing if is_solution(release_cells[g])]
        others = [g for g in missing if g not in answers]
        if answers:
            problems.add("restructured", f"answer cells deleted, restored unanswered: {', '.join(answers)}")
        if others:
            locked = [g for g in others if is_locked(release_cells[g])]
            if locked:
                problems.add("restructured", f"read-only cells deleted, restored from the course: {', '.join(locked)}")
    if not in_order:
        problems.add("restructured", "cells were out of the course's order; graded in the course's order")
    repaired = copy.deepcopy(notebook)
    repaired.cells = list(leading)
    for grade_id in order:
        repaired.cells.extend(groups.get(grade_id) or [copy.deepcopy(release_cells[grade_id])])
    return repaired


# The functions the test cells call. An answer that rebinds one (check = lambda *a: None) would
# pass every test after it.
CHECKERS = frozenset(TEST_CELL_CHECKERS)  # the names a learner must not rebind


def _rebinds_a_checker(statement: ast.stmt) -> bool:
    """Whether a top-level statement rebinds or deletes a checker in the notebook's namespace: by
    assignment, def, class, import, ``global check`` in a function, an attribute
    (``mlpcore.grading.check = ...``), ``globals()["check"]`` or ``setattr(..., "check", ...)``.
    A local variable called ``check`` inside a function is fine, and so is importing the real
    one from mlpcore.grading."""
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef,
              ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
    stack = [(statement, False)]  # (node, inside a function, class or comprehension of its own)
    while stack:
        node, nested = stack.pop()
        stored = isinstance(getattr(node, "ctx", None), (ast.Store, ast.Del))
        if isinstance(node, ast.Global) and CHECKERS.intersection(node.names):
            return True
        if not nested and isinstance(node, ast.Name) and node.id in CHECKERS and stored:
            return True
        if not nested and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in CHECKERS:
            return True
        if isinstance(node, ast.Attribute) and node.attr in CHECKERS and stored:
            return True
        if isinstance(node, ast.Subscript) and stored and isinstance(node.slice, ast.Constant) and node.slice.value in CHECKERS:
            return True
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr")
                and len(node.args) > 1 and isinstance(node.args[1], ast.Constant) and node.args[1].value in CHECKERS):
            return True
        if not nested and isinstance(node, (ast.Import, ast.ImportFrom)):
            genuine = isinstance(node, ast.ImportFrom) and node.module == "mlpcore.grading"
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                if bound in CHECKERS and not (genuine and alias.name == bound):
                    return True
        stack.extend((child, nested or isinstance(node, scopes)) for child in ast.iter_child_nodes(node))
    return False


def remove_checker_rebinding(notebook, release, problems: NotebookProblems):
    """The notebook without the top-level statements that rebind a checker, outside the read-only
    cells (a copy when anything was removed); each removal is recorded as *tampered*."""
    from IPython.core.inputtransformer2 import TransformerManager

    locked = {cell.metadata["nbgrader"]["grade_id"] for cell in release.cells if is_locked(cell)}
    transform = TransformerManager().transform_cell
    cleaned = None
    for index, cell in enumerate(notebook.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type != "code" or grade_id in locked or not any(name in cell.source for name in CHECKERS):
            continue
        lines = cell.source.splitlines()
        try:
            python = transform(cell.source)  # IPython's magics become plain calls, line for line
            tree = ast.parse(python)
        except SyntaxError:
            continue  # it fails when it runs anyway
        statements = [s for s in tree.body if _rebinds_a_checker(s)]
        if not statements:
            continue
        where = f"cell {grade_id}" if grade_id else f"cell {index + 1} (one of your own)"
        if len(python.splitlines()) != len(lines):  # a cell magic reshaped it: remove the whole cell's code
            kept = ["# (removed by the grader: this cell rebinds check, which the tests call)"]
        else:
            kept = list(lines)
            for statement in statements:
                for line in range(statement.lineno - 1, statement.end_lineno):
                    kept[line] = ""
                kept[statement.lineno - 1] = "pass  # (removed by the grader: this rebound check, which the tests call)"
        problems.add("tampered", f"{where} rebinds check, which the test cells call; "
                                 "those lines were removed before grading")
        if cleaned is None:
            cleaned = copy.deepcopy(notebook)
        cleaned.cells[index].source = "\n".join(kept)
    return cleaned if cleaned is not None else notebook


def _checksum(cell) -> str:
    try:
        return compute_checksum(cell)
    except Exception:  # metadata too broken to checksum: treat as edited
        return ""
