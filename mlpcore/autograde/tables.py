"""The class's tables: each graded submission's saved outcome, and ``grades.csv`` and
``exercises.csv`` made from all of them (``mlpcore grade`` and nbgrader's doors write both)."""

from __future__ import annotations

import csv
from pathlib import Path

from ..schema import notebooks_of
from .outcome import read_saved

# score: after any late penalty (late_penalty points, for seconds_late past the student's due date; see late.py)
GRADES_COLUMNS = [
    "student_id",
    "assignment",
    "score",
    "max_score",
    "status",
    "reasons",
    "seconds",
    "sandbox",
    "late_penalty",
    "seconds_late",
]
EXERCISE_COLUMNS = ["student_id", "assignment", "notebook", "exercise", "grade_id", "score", "max_score", "outcome", "mistake"]


def outcome_path(output: Path, assignment: str, student: str) -> Path:
    return output / "outcomes" / assignment / f"{student}.json"


def load_outcomes(output: Path, assignment: str | None = None) -> list[dict]:
    """The saved outcomes of one assignment (or of all), by assignment then student."""
    folder = output / "outcomes"
    pattern = f"{assignment}/*.json" if assignment else "*/*.json"
    return [saved for path in sorted(folder.glob(pattern)) if (saved := read_saved(path)) is not None]


def write_tables(output: Path) -> None:
    """``grades.csv`` and ``exercises.csv`` from every saved outcome."""
    everything = load_outcomes(output)
    with open(output / "grades.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, GRADES_COLUMNS)
        writer.writeheader()
        for result in everything:
            late = result.get("late") or {}
            writer.writerow(
                {
                    **{key: result.get(key) for key in GRADES_COLUMNS},
                    "reasons": " | ".join(result["reasons"]),
                    "sandbox": result.get("sandbox") or "none",
                    "late_penalty": late.get("penalty", 0.0),
                    "seconds_late": late.get("seconds_late", 0.0),
                }
            )
    with open(output / "exercises.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, EXERCISE_COLUMNS)
        writer.writeheader()
        for result in everything:
            for notebook, graded in notebooks_of(result).items():
                for cell in graded.cells:
                    row = cell.to_json()
                    writer.writerow(
                        {
                            "student_id": result["student_id"],
                            "assignment": result["assignment"],
                            "notebook": notebook,
                            **{key: row[key] for key in EXERCISE_COLUMNS[3:]},
                        }
                    )
