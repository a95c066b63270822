"""Where a similarity report lives, and its summary as the class report reads it."""

from __future__ import annotations

import json
from pathlib import Path

SUMMARY = "summary.json"


def report_folder(output: Path, assignment: str) -> Path:
    return Path(output) / "similarity" / assignment


def read_summary(output: Path, assignment: str) -> dict | None:
    """The summary of the last ``mlpcore similarity`` run of ``assignment`` in ``output``, or None."""
    try:
        found = json.loads((report_folder(output, assignment) / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and isinstance(found.get("exercises"), list) else None
