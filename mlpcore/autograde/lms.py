"""Grades out to the LMS: an ``nbgrader export`` plugin that writes Canvas's gradebook import CSV.

Canvas imports a CSV shaped like its own gradebook export (Grades > Import)::

    Student,ID,SIS User ID,SIS Login ID,Section,02-forward,03-losses
    Points Possible,,,,,9,12
    "Lovelace, Ada",48213,,,,8.1,12

The first five columns name the student (Canvas matches a row by ID, SIS User ID or SIS Login ID);
then one column per assignment: a column named like a Canvas assignment with its id in parentheses,
``Forward pass (4321)``, updates that assignment, any other name creates a new one. The second row,
``Points Possible``, gives each assignment's maximum.

Each nbgrader student is matched by nbgrader's own ``lms_user_id`` (``nbgrader db student add ada
--lms-user-id=48213``, or the ``lms_user_id`` column of ``nbgrader db student import``), written into
the Canvas column :attr:`CanvasExportPlugin.id_column` names. A student without one cannot be
matched: the export leaves that row out and names every such student in a warning. A score is the
one after any late penalty (see late.py); an assignment a student never submitted scores 0, as in
nbgrader's own CSV export, which stays the default (``nbgrader export``)::

    nbgrader export --exporter=mlpcore.autograde.lms.CanvasExportPlugin [--to=canvas.csv]
"""

from __future__ import annotations

import csv

from nbgrader.api import MissingEntry
from nbgrader.plugins import ExportPlugin
from traitlets import Dict, Enum, Unicode

STUDENT_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_POSSIBLE = "Points Possible"


def _number(value: float) -> str:
    """A score as Canvas reads it: at most two decimals, no trailing zeros."""
    return f"{round(float(value), 2):g}"


class CanvasExportPlugin(ExportPlugin):
    """Canvas's gradebook import CSV, one row per student with an ``lms_user_id``, one column per assignment."""

    to = Unicode("canvas-grades.csv", help="The CSV file to write").tag(config=True)
    id_column = Enum(STUDENT_COLUMNS[1:4], default_value="ID",
                     help="The Canvas column that nbgrader's lms_user_id fills: ID (Canvas's user id), "
                          "SIS User ID or SIS Login ID").tag(config=True)
    column_names = Dict(key_trait=Unicode(), value_trait=Unicode(),
                        help='Canvas column of an nbgrader assignment, e.g. {"02-forward": "Forward pass (4321)"} '
                             "(default: the assignment's name, which makes a new Canvas assignment)").tag(config=True)

    def export(self, gradebook) -> None:
        assignments = [assignment for assignment in gradebook.assignments
                       if not self.assignment or assignment.name in self.assignment]
        students = [student for student in gradebook.students if not self.student or student.id in self.student]
        unmatched = sorted(student.id for student in students if not (student.lms_user_id or "").strip())
        if unmatched:
            self.log.warning("Not exported to Canvas, for want of an LMS user id (nbgrader db student add ID "
                             "--lms-user-id=...): %d student%s: %s", len(unmatched), "s" * (len(unmatched) != 1),
                             ", ".join(unmatched))
        rows = [self._header(assignments), self._points_possible(assignments)]
        rows += [self._row(gradebook, student, assignments)
                 for student in sorted(students, key=lambda student: student.id) if student.id not in unmatched]
        with open(self.to, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows)
        self.log.info("Wrote %d students and %d assignments for Canvas's gradebook import to %s",
                      len(rows) - 2, len(assignments), self.to)

    def _header(self, assignments) -> list[str]:
        return STUDENT_COLUMNS + [self.column_names.get(assignment.name, assignment.name) for assignment in assignments]

    def _points_possible(self, assignments) -> list[str]:
        return [POINTS_POSSIBLE] + [""] * (len(STUDENT_COLUMNS) - 1) + [_number(a.max_score) for a in assignments]

    def _row(self, gradebook, student, assignments) -> list[str]:
        name = ", ".join(part for part in (student.last_name, student.first_name) if part) or student.id
        ids = {column: "" for column in STUDENT_COLUMNS[1:4]}
        ids[self.id_column] = student.lms_user_id.strip()
        scores = []
        for assignment in assignments:
            try:
                submission = gradebook.find_submission(assignment.name, student.id)
            except MissingEntry:  # never submitted: 0, as nbgrader's own export has it
                scores.append(_number(0.0))
                continue
            scores.append(_number(max(0.0, submission.score - (submission.late_submission_penalty or 0.0))))
        return [name, *ids.values(), "", *scores]
