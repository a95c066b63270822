"""What each learner wrote for each graded exercise, and what the release gave them.

An *exercise* is a graded test cell of an assignment's notebook (``backward_pass_tests``): its
answer is the learner's definitions of the names that cell calls (``backward_pass``; the project's
``train_classifier`` and ``predict``), and every definition of the learner's those use in turn (a
helper in a cell the learner added, the ungraded ``forward_with_cache`` above it), stopping at the
answers of the notebook's other exercises, which are compared on their own. One-line helpers are
inlined where they are called instead (see :mod:`.normalise`).

Learner code is what the learner could write: solution cells and cells the learner added (a code cell
without nbgrader's metadata whose source the release does not have). Test cells, locked cells and
the release's own demo cells are the course's. The release notebook's code, stubs included, is the
*scaffold*: its fingerprints are taken out of every answer.

:class:`Answer` holds one answer's text (its definitions one after another, as the learner wrote
them) and its fingerprints, ``{hash: (first line, last line)}`` in that text.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ...grading.testcells import exercise_of_cell
from . import fingerprint, normalise

MAX_SOURCE = 200_000  # characters: a cell longer than this (no answer is) is not read as code
_MAGIC = re.compile(r"^(\s*)[%!].*$", re.MULTILINE)


@dataclass
class Answer:
    """One answer to one exercise: whose (``owner``: a student id, or a source's label), its text and
    fingerprints (``{hash: (first line, last line)}``, lines of ``text`` counted from 1)."""

    owner: str
    exercise: str
    text: str
    prints: dict[int, tuple[int, int]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.prints


@dataclass(frozen=True)
class Exercise:
    """A graded test cell: ``key`` is ``notebook/grade_id``, ``name`` the exercise's name, ``entries`` the
    names its test calls that the learner defines."""

    key: str
    notebook: str
    name: str
    entries: tuple[str, ...]


def code_cells(notebook: dict) -> list[dict]:
    return [cell for cell in notebook.get("cells", []) if cell.get("cell_type") == "code"]


def cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _nbgrader(cell: dict) -> dict:
    metadata = cell.get("metadata", {})
    found = metadata.get("nbgrader", {}) if isinstance(metadata, dict) else {}
    return found if isinstance(found, dict) else {}


def parse_cell(source: str) -> ast.Module | None:
    """The cell as Python: IPython's ``%magic`` and ``!shell`` lines become ``pass``; None when it is not
    Python (a ``%%cell`` magic, a syntax error)."""
    if source.lstrip().startswith("%%"):
        return None
    if len(source) > MAX_SOURCE:
        return None
    try:
        return ast.parse(_MAGIC.sub(lambda m: m.group(1) + "pass", source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # the last two: nesting Python cannot parse
        return None


def read_notebook(path: Path) -> dict:
    """A notebook as JSON; an empty one for a file that is not one (the grader says why elsewhere)."""
    try:
        notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {"cells": []}
    return notebook if isinstance(notebook, dict) and isinstance(notebook.get("cells"), list) else {"cells": []}


def exercises_of(source_notebook: dict, notebook: str) -> list[Exercise]:
    """The graded exercises of a source notebook, in course order: each test cell with the names it
    calls that are not the course's (``check``) but answers (defined in a solution cell)."""
    solution_names = set()
    for cell in code_cells(source_notebook):
        if _nbgrader(cell).get("solution"):
            tree = parse_cell(cell_source(cell))
            solution_names |= set(top_level(tree)) if tree else set()
    found = []
    for cell in code_cells(source_notebook):
        meta = _nbgrader(cell)
        if not (meta.get("grade") and not meta.get("solution")):
            continue
        tree = parse_cell(cell_source(cell))
        called = [] if tree is None else [node.id for node in ast.walk(tree) if isinstance(node, ast.Name)]
        entries = tuple(dict.fromkeys(name for name in called if name in solution_names))
        if entries:
            grade_id = meta.get("grade_id", "")
            found.append(Exercise(f"{notebook}/{grade_id}", notebook, exercise_of_cell(cell), entries))
    return found


def top_level(tree: ast.Module) -> dict[str, ast.AST]:
    """``{name: node}`` of a module's definitions: functions, classes and names assigned at the top."""
    names = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        names[sub.id] = node
    return names


def release_facts(release: dict) -> tuple[set[str], set[str], dict[int, tuple[int, int]]]:
    """``(the release's code cell sources, the names it defines or imports, the scaffold's
    fingerprints)``: every code cell of the release, stubs and demos, as the learner got it."""
    sources, names, prints = set(), set(), {}
    for cell in code_cells(release):
        text = cell_source(cell)
        sources.add(text.strip())
        tree = parse_cell(text)
        if tree is None:
            continue
        # the functions and classes it defines (not its demo variables: ``z``, ``loss`` are anyone's names)
        names |= {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        prints.update(fingerprint.fingerprints(normalise.tokens(tree, frozenset(names))))
        for node in parse_cell(text).body:  # each definition alone as well: so it sits in an answer's text
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                prints.update(fingerprint.fingerprints(normalise.tokens(ast.Module([node], []), frozenset(names))))
    return sources, names, prints


def learner_definitions(notebook: dict, release_sources: set[str] | None) -> dict[str, tuple[ast.AST, str]]:
    """``{name: (node, its cell's source)}`` of what the learner defined (the last definition wins, as
    in a kernel run from the top). ``release_sources`` None: every code cell counts (a .py file)."""
    found: dict[str, tuple[ast.AST, str]] = {}
    for cell in code_cells(notebook):
        meta = _nbgrader(cell)
        text = cell_source(cell)
        if release_sources is not None:
            if meta.get("grade") and not meta.get("solution") or meta.get("locked") and not meta.get("solution"):
                continue  # a test cell or a locked cell: the course's
            if not meta.get("solution") and text.strip() in release_sources:
                continue  # a cell the release gave
        tree = parse_cell(text)
        if tree is not None:
            found.update({name: (node, text) for name, node in top_level(tree).items()})
    return found


def answer_of(owner: str, exercise: Exercise, definitions: dict[str, tuple[ast.AST, str]], kept: frozenset[str],
              other_entries: set[str], scaffold: dict[int, tuple[int, int]], helpers: dict | None = None) -> Answer:
    """The answer to ``exercise`` among ``definitions``: its entries and the helpers they use, one-line
    helpers (``helpers``, else found among ``definitions``) inlined, the scaffold's fingerprints taken out."""
    nodes = {name: node for name, (node, _) in definitions.items()}
    if helpers is None:
        helpers = normalise.one_line_helpers(nodes)
    helpers = {name: node for name, node in helpers.items() if name not in exercise.entries}
    chosen: list[str] = []  # definitions the answer is made of, and the one-line helpers it calls (shown, inlined)
    queue = [name for name in exercise.entries if name in definitions]
    while queue:
        name = queue.pop(0)
        if name in chosen:
            continue
        chosen.append(name)
        for sub in ast.walk(nodes[name]):
            used = sub.id if isinstance(sub, ast.Name) else None
            if (used in definitions and used not in chosen and used not in other_entries
                    and used not in exercise.entries):
                queue.append(used)
    segments = []
    seen_nodes = set()
    for name in chosen:
        node, text = definitions[name]
        if id(node) in seen_nodes:
            continue  # a, b = 1, 2 defines two names with one statement
        seen_nodes.add(id(node))
        segments.append(ast.get_source_segment(text, node, padded=False) or "")
    text = "\n\n".join(segment for segment in segments if segment)
    tree = parse_cell(text) if text else None
    if tree is None:
        return Answer(owner, exercise.key, text)
    # the one-line helpers are shown but not compared: their expression stands where they are called
    tree.body = [node for node in tree.body if not (isinstance(node, ast.FunctionDef) and node.name in helpers)]
    try:
        prints = fingerprint.fingerprints(normalise.tokens(tree, kept, helpers))
    except RecursionError:  # nesting deeper than the walk can follow: shown, not compared
        return Answer(owner, exercise.key, text)
    return Answer(owner, exercise.key, text, {h: lines for h, lines in prints.items() if h not in scaffold})
