"""Grades out to the LMS: ``nbgrader export`` with mlpcore's Canvas plugin writes Canvas's gradebook
import CSV that, read back, holds the gradebook's scores (after late penalties) for every student with an
LMS id, names the one without in a warning, and leaves nbgrader's generic CSV export as it was."""

import csv
import logging
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from nbgrader.api import Gradebook, MissingEntry

from mlpcore.autograde.lms import POINTS_POSSIBLE, STUDENT_COLUMNS, CanvasExportPlugin

NBGRADER = Path(sys.executable).parent / "nbgrader"
pytestmark = pytest.mark.filterwarnings("ignore:.*not in session")  # nbgrader's add_submission; harmless

# student: (lms_user_id, {assignment: (auto score earned, late penalty)}); 02-forward is worth 9, 03-losses 12
CLASS = {
    "ada": ("48213", {"02-forward": (9.0, 0.0), "03-losses": (10.5, 0.0)}),
    "bo": ("S-77", {"02-forward": (8.0, 1.6), "03-losses": (12.0, 0.0)}),
    "cy": (None, {"02-forward": (7.0, 0.0)}),  # no LMS id: named in a warning, not in the file
    "di": ("55120", {"02-forward": (4.25, 0.0)}),  # never submitted 03-losses: 0
}
POINTS = {"02-forward": 9.0, "03-losses": 12.0}


@pytest.fixture(scope="module")
def gradebook_url(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("lms")
    os.environ["PATH"] = str(NBGRADER.parent) + os.pathsep + os.environ["PATH"]  # nbgrader runs alembic from PATH
    url = f"sqlite:///{folder / 'gradebook.db'}"
    with Gradebook(url) as gradebook:
        for assignment, points in POINTS.items():
            gradebook.add_assignment(assignment, duedate=datetime(2026, 10, 2, 17))
            gradebook.add_notebook("nb", assignment)
            gradebook.add_grade_cell("answer", "nb", assignment, max_score=points, cell_type="code")
        for student, (lms_id, submitted) in CLASS.items():
            gradebook.add_student(student, first_name=student.title(), last_name="Student", lms_user_id=lms_id)
            for assignment, (earned, penalty) in submitted.items():
                notebook = gradebook.add_submission(assignment, student).notebooks[0]
                notebook.grades[0].auto_score = earned
                notebook.late_submission_penalty = penalty or None
        gradebook.db.commit()
    return url


def _nbgrader_export(folder: Path, url: str, *args) -> subprocess.CompletedProcess:
    folder.mkdir(exist_ok=True)
    (folder / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.db_url = {url!r}\n")
    run = subprocess.run([str(NBGRADER), "export", *args], cwd=folder, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def test_the_canvas_csv_read_back_matches_the_gradebook(tmp_path, gradebook_url):
    run = _nbgrader_export(tmp_path, gradebook_url, "--exporter=mlpcore.autograde.lms.CanvasExportPlugin")
    with open(tmp_path / "canvas-grades.csv", newline="", encoding="utf-8") as handle:
        header, points, *rows = list(csv.reader(handle))
    assert header == STUDENT_COLUMNS + list(POINTS)
    assert points[0] == POINTS_POSSIBLE and [float(p) for p in points[len(STUDENT_COLUMNS):]] == list(POINTS.values())

    found = {(row[1], assignment): float(score) for row in rows
             for assignment, score in zip(POINTS, row[len(STUDENT_COLUMNS):])}
    with Gradebook(gradebook_url) as gradebook:
        expected = {}
        for student in gradebook.students:
            if not student.lms_user_id:
                continue
            for assignment in POINTS:
                try:
                    submission = gradebook.find_submission(assignment, student.id)
                    score = submission.score - (submission.late_submission_penalty or 0.0)
                except MissingEntry:
                    score = 0.0
                expected[(student.lms_user_id, assignment)] = score
    assert found == pytest.approx(expected)
    assert found[("S-77", "02-forward")] == pytest.approx(6.4)  # after bo's late penalty
    assert found[("55120", "03-losses")] == 0.0  # never submitted
    assert [row[0] for row in rows] == ["Student, Ada", "Student, Bo", "Student, Di"]
    # cy has no LMS id: left out, and named
    assert "cy" not in {row[0] for row in rows} and "Student, Cy" not in {row[0] for row in rows}
    assert "1 student: cy" in run.stderr and "lms-user-id" in run.stderr


def test_the_generic_csv_export_is_kept(tmp_path, gradebook_url):
    """Plain ``nbgrader export`` is still nbgrader's CSV, every student in it, cy included."""
    _nbgrader_export(tmp_path, gradebook_url)
    with open(tmp_path / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted({row["student_id"] for row in rows}) == sorted(CLASS)
    assert {"raw_score", "late_submission_penalty", "score"} <= set(rows[0])


def test_canvas_columns_and_the_id_column_are_configurable(tmp_path, gradebook_url, caplog):
    """An existing Canvas assignment is named with its id; lms_user_id can fill SIS User ID instead."""
    target = tmp_path / "canvas.csv"
    plugin = CanvasExportPlugin(to=str(target), id_column="SIS User ID", assignment=["02-forward"],
                                column_names={"02-forward": "Forward pass (4321)"})
    with caplog.at_level(logging.WARNING), Gradebook(gradebook_url) as gradebook:
        plugin.export(gradebook)
    header, points, *rows = list(csv.reader(open(target, newline="", encoding="utf-8")))
    assert header == STUDENT_COLUMNS + ["Forward pass (4321)"]
    assert [(row[1], row[2]) for row in rows] == [("", "48213"), ("", "S-77"), ("", "55120")]
    assert "cy" in caplog.text


def test_an_unknown_id_column_is_refused_with_the_choices():
    with pytest.raises(Exception, match="SIS Login ID"):
        CanvasExportPlugin(id_column="Email")
