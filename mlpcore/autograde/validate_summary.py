"""The Validate button's summary: "2 of 4 test cells passed." above the failing cells it lists.

nbgrader's dialog shows each failing test cell and its error, but not how many passed, so a learner
with one cell left cannot tell it from one with all left. nbgrader builds its validator inside its
handler, so this server extension (loaded in the students' JupyterLab by ``student_jupyter``) wraps
the handler's ``validate_notebook`` and puts the count at the top of the first failure's text.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from ..grading.testcells import is_test_cell


def summary(notebook_path: Path, failed: int) -> str:
    """``"n of m test cells passed."`` for a notebook whose validation failed ``failed`` test cells."""
    cells = nbformat.read(notebook_path, as_version=4).cells
    total = sum(1 for cell in cells if is_test_cell(cell))
    return f"{max(total - failed, 0)} of {total} test cells passed."


def with_summary(validate_notebook):
    """nbgrader's ``ValidateAssignmentHandler.validate_notebook`` with the summary added to a failure."""

    def validate(handler, path):
        reply = validate_notebook(handler, path)
        failed = reply.get("value", {}).get("failed") if reply.get("success") else None
        if failed:
            line = summary(Path(handler.root_dir) / path, len(failed))
            failed[0]["error"] = f"{line}\n\n{failed[0]['error']}"
            failed[0]["raw_error"] = f"{line}\n\n{failed[0].get('raw_error', '')}"
        return reply

    validate.wrapped_for_mlpcore = True
    return validate


def _jupyter_server_extension_points():
    return [{"module": __name__}]


def _load_jupyter_server_extension(serverapp) -> None:
    from nbgrader.server_extensions.validate_assignment import handlers

    handler = handlers.ValidateAssignmentHandler
    if not getattr(handler.validate_notebook, "wrapped_for_mlpcore", False):
        handler.validate_notebook = with_summary(handler.validate_notebook)
