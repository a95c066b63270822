"""``mlpcore similarity``: which answers of a graded class look copied, from each other or from a public source.

For each graded exercise of an assignment the learners' answers (see :mod:`.answers`) are normalised
(:mod:`.normalise`), fingerprinted by winnowing (:mod:`.fingerprint`), stripped of what the release
gave them, and scored pair by pair by evidence, not raw overlap (:mod:`.score`); :mod:`.collect` reads
the class and the public sources, :mod:`.pages` writes the report. :func:`similarity_report` does it
all and writes ``OUTPUT/similarity/<assignment>/`` (``index.html``, ``pairs/``, ``summary.json``).
It flags; it never changes a score, and it writes nothing a student sees.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from . import collect, pages, score
from .summary import SUMMARY, read_summary, report_folder

__all__ = ["SUMMARY", "read_summary", "report_folder", "similarity_report"]


def similarity_report(root, output, assignment: str, known=None, bank=None, workers: int | None = None) -> dict:
    """Compare the answers of ``assignment`` graded into ``output``; write and return the summary.

    ``known``: a folder of known solutions (matched like the reference); ``bank``: a folder of
    independent solutions (they only make the weights better). ``ValueError`` for an unknown
    assignment, ``FileNotFoundError`` when nothing was graded or a folder is missing."""
    started = time.perf_counter()
    root, output = Path(root).resolve(), Path(output)
    contexts = collect.assignment_contexts(root, assignment)
    for option, folder in (("--known", known), ("--bank", bank)):
        if folder is not None and not Path(folder).is_dir():
            raise FileNotFoundError(f"{option} {folder}: not a folder; expected a folder of .py files or notebooks")
    folders = collect.class_folders(output, assignment)
    answers = collect.class_answers(contexts, folders, workers or collect.default_workers())
    students = list(folders)
    exercises = []
    for context in contexts:
        sources = collect.public_sources(root, context, Path(known) if known else None)
        banked = collect.read_folder(Path(bank) if bank else None, context)
        for exercise in context.exercises:
            class_answers = [answers[student][exercise.key] for student in students]
            independent = [found[exercise.key] for found in banked.values() if not found[exercise.key].empty]
            scores = score.score_exercise(class_answers, sources[exercise.key], independent)
            exercises.append((exercise, class_answers, sources[exercise.key], scores))
    folder = report_folder(output, assignment)
    folder.mkdir(parents=True, exist_ok=True)
    summary = pages.write_pages(folder, assignment, exercises, len(students))
    summary["seconds"] = round(time.perf_counter() - started, 2)
    summary["computed"] = time.strftime("%Y-%m-%d %H:%M")  # a regrade after it does not update it: say when
    summary["index"] = str(folder / "index.html")
    (folder / SUMMARY).write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return summary
