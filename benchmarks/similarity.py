"""How long ``mlpcore similarity`` takes on a large class: ``python -m benchmarks.similarity`` (also a
section of ``make bench``).

A synthetic graded class is written to a temporary folder: every student's notebook is the course's
executed solution notebook (outputs and figures included, as autograded notebooks have them), each
answer rewritten the student's own way: every local name renamed, the code reformatted, and a few
statements of the student's own added to each function, so that answers share what everyone writes
and each also has fingerprints no one else has. A few students copy a classmate's answers (renamed
again). The table gives the wall time of the whole run, the share of it spent reading and
fingerprinting the class (the part that runs on ``--workers`` processes), and the planted copies
found. False alarms are measured on independently written solutions in ``tests/test_similarity.py``
(here every answer derives from one solution, which the comparison leaves out as a public source).
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from .common import Table, machine

ROOT = Path(__file__).resolve().parent.parent
COPIERS = 5  # students who copy a classmate's notebook


class _Rename(ast.NodeTransformer):
    """Every name a function assigns or takes as a parameter gets a name of the student's."""

    def __init__(self, names: dict[str, str]):
        self.names = names

    def visit_Name(self, node):
        node.id = self.names.get(node.id, node.id)
        return node

    def visit_arg(self, node):
        node.arg = self.names.get(node.arg, node.arg)
        return node


def student_version(source: str, rng: random.Random, tag: int) -> str:
    """``source`` (a solution cell) as one student writes it: renamed, reformatted, with statements of its own."""
    tree = ast.parse(source)
    for function in [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]:
        local = {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        names = {name: f"{name.lower()}_{rng.randrange(10**6)}" for name in local}
        _Rename(names).visit(function)
        for extra in range(rng.randint(2, 5)):  # a student's own lines: unique numbers, shapes and names
            a, b, c = rng.randrange(2, 999), rng.randrange(2, 999), rng.choice(["min", "max", "abs", "round"])
            line = ast.parse(f"check_{tag}_{extra} = {c}({a} * {b} - len(str({a})) + {rng.random():.4f})").body[0]
            function.body.insert(rng.randrange(len(function.body)), line)
    return ast.unparse(tree)


def write_class(folder: Path, assignment: str, students: int, seed: int = 0) -> dict[str, str]:
    """Write ``folder/autograded/<student>/<assignment>/<notebook>.ipynb``; returns ``{copier: original}``."""
    from mlpcore import course

    rng = random.Random(seed)
    copied = {}
    for path in course.notebooks(ROOT, assignment):
        base = json.loads(path.read_text(encoding="utf-8"))
        cells = [(index, "".join(cell["source"])) for index, cell in enumerate(base["cells"])
                 if cell.get("metadata", {}).get("nbgrader", {}).get("solution")]
        written = {}
        for number in range(students):
            student = f"student{number:04d}"
            copier = number >= students - COPIERS
            original = f"student{rng.randrange(students - COPIERS):04d}" if copier else None
            for index, source in cells:
                text = written[original][index] if copier else source
                base["cells"][index]["source"] = student_version(text, rng, number)
            written[student] = {index: base["cells"][index]["source"] for index, _ in cells}
            if copier:
                copied[student] = original
            target = folder / "autograded" / student / assignment
            target.mkdir(parents=True, exist_ok=True)
            (target / path.name).write_text(json.dumps(base), encoding="utf-8")
    return copied


def run(quick: bool = False, students: int | None = None, assignment: str = "04-backprop",
        workers: tuple[int, ...] = (2,)) -> Table:
    from mlpcore.autograde.similarity import collect, similarity_report

    students = students or (40 if quick else 1000)
    table = Table(f"mlpcore similarity on a synthetic class ({assignment})",
                  ["students", "workers", "exercises", "seconds", "read + fingerprint s", "copies found",
                   "other pairs flagged"])
    with tempfile.TemporaryDirectory(prefix="mlpcore-similarity-") as scratch:
        output = Path(scratch)
        copied = write_class(output, assignment, students)
        for count in workers:
            contexts = collect.assignment_contexts(ROOT, assignment)
            started = time.perf_counter()
            collect.class_answers(contexts, collect.class_folders(output, assignment), count)
            reading = time.perf_counter() - started
            started = time.perf_counter()
            summary = similarity_report(ROOT, output, assignment, workers=count)
            seconds = time.perf_counter() - started
            found, others, missed = _planted_found(summary, copied)
            table.rows.append([students, count, len(summary["exercises"]), seconds, reading, found, others])
        if missed:
            table.notes.append("copies not flagged, by exercise: " + ", ".join(sorted(set(missed))))
    table.notes.append(f"{COPIERS} students copy a classmate's whole notebook; 'copies found' counts (copy, exercise) "
                       "pairs flagged, of copies x exercises")
    return table


def _planted_found(summary: dict, copied: dict[str, str]) -> tuple[str, int, list[str]]:
    """``("found of planted", other pairs flagged, the exercises of the copies not flagged)`` from the summary."""
    planted = {frozenset(pair) for pair in copied.items()}
    hits, others, missed = 0, 0, []
    for exercise in summary["exercises"]:
        flagged = {frozenset((pair["a"], pair["b"])) for pair in exercise["flagged"]}
        hits += len(flagged & planted)
        others += len(flagged - planted)
        missed += [exercise["exercise"]] * len(planted - flagged)
    return f"{hits} of {len(copied) * len(summary['exercises'])}", others, missed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.similarity", description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--assignment", default="04-backprop")
    parser.add_argument("--workers", type=int, nargs="+", default=[2])
    args = parser.parse_args(argv)
    record = machine()
    print(f"machine: {record['cpu']}, {record['cores']} cores, {record['system']}")
    print(run(students=args.students, assignment=args.assignment, workers=tuple(args.workers)).render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
