"""Late work: mlpcore's LateSubmissionPlugin at its boundaries, through nbgrader's own AssignLatePenalties,
and the penalty where the instructor and the student read it (grades.csv, the report, the feedback).

The course's policy (nbgrader_config.py): 10 % of the score earned per started day late, at most 50 %,
and 15 minutes of grace; days count from the student's own due date, extension included.
"""

import csv
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from traitlets.config import Config
from traitlets import TraitError

from mlpcore import course
from mlpcore.autograde import late
from mlpcore.autograde.grade import grade_class
from mlpcore.autograde.sample_class import ASSIGNMENT, NOTEBOOK, fill, solution_answers

ROOT = Path(__file__).resolve().parent.parent
DUE = datetime(2026, 10, 2, 17, 0, 0)  # naive UTC, as nbgrader stores it
SECOND, MINUTE, DAY = timedelta(seconds=1), timedelta(minutes=1), timedelta(days=1)
# nbgrader's own add_submission makes SQLAlchemy warn about autoflush; it is harmless (see gradebook.record).
pytestmark = pytest.mark.filterwarnings("ignore:.*not in session")


def _policy(per_day=0.10, cap=0.50, grace_minutes=15) -> Config:
    config = Config()
    config.AssignLatePenalties.plugin_class = "mlpcore.autograde.late.LatePenalty"
    config.LatePenalty.per_day, config.LatePenalty.cap, config.LatePenalty.grace_minutes = per_day, cap, grace_minutes
    return config


def test_the_course_configuration_chooses_the_plugin_with_its_policy():
    """Does nbgrader_config.py hand nbgrader's AssignLatePenalties mlpcore's plugin, with the policy the
    README states?"""
    plugin = late.plugin(course.load_config(ROOT))
    assert isinstance(plugin, late.LatePenalty)
    assert (plugin.per_day, plugin.cap, plugin.grace_minutes) == (0.10, 0.50, 15)


@pytest.mark.parametrize("per_day, cap, grace", [(-0.1, 0.5, 0), (0.1, 1.5, 0), (0.1, 0.5, -1)])
def test_a_policy_out_of_range_is_refused_with_its_name(per_day, cap, grace):
    with pytest.raises(TraitError, match="LatePenalty"):
        late.LatePenalty(per_day=per_day, cap=cap, grace_minutes=grace)


def _on_path_alembic() -> None:
    """nbgrader runs the ``alembic`` program from PATH when it creates a gradebook: the venv's."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ["PATH"].split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ["PATH"]


def _gradebook(folder: Path, submitted: dict, extensions: dict | None = None, earned=8.0) -> str:
    """A gradebook with one assignment of one 10-point notebook due at DUE, and a submission per student
    (``{student: timestamp}``) that earned ``earned`` points; ``extensions``: ``{student: timedelta}``."""
    url = f"sqlite:///{folder / 'gradebook.db'}"
    _on_path_alembic()
    with Gradebook(url) as gradebook:
        gradebook.add_assignment("a1", duedate=DUE)
        gradebook.add_notebook("nb", "a1")
        gradebook.add_grade_cell("answer", "nb", "a1", max_score=10, cell_type="code")
        for student, timestamp in submitted.items():
            gradebook.add_student(student)
            submission = gradebook.add_submission("a1", student, timestamp=timestamp)
            submission.notebooks[0].grades[0].auto_score = earned
            gradebook.db.commit()
            if student in (extensions or {}):
                gradebook.grant_extension("a1", student, minutes=extensions[student].total_seconds() / 60)
    return url


# (submitted, extension, points lost of 8 earned): 10 % per started day, 15 min grace, cap 50 %
BOUNDARIES = {
    "one second before the deadline": (DUE - SECOND, None, 0.0),
    "on the deadline": (DUE, None, 0.0),
    "one second after, in the grace period": (DUE + SECOND, None, 0.0),
    "the grace period's last second": (DUE + 15 * MINUTE, None, 0.0),
    "one second after the grace period": (DUE + 15 * MINUTE + SECOND, None, 0.8),
    "a day late to the second": (DUE + DAY, None, 0.8),
    "one second into the second day": (DUE + DAY + SECOND, None, 1.6),
    "five days late: the cap": (DUE + 5 * DAY, None, 4.0),
    "a month late: still the cap": (DUE + 30 * DAY, None, 4.0),
    "within a two-day extension": (DUE + 2 * DAY - SECOND, 2 * DAY, 0.0),
    "one second after the extension, in grace": (DUE + 2 * DAY + SECOND, 2 * DAY, 0.0),
    "a day after the extension": (DUE + 3 * DAY, 2 * DAY, 0.8),
}


@pytest.fixture(scope="module")
def boundaries(tmp_path_factory) -> str:
    """One gradebook with a student per case of BOUNDARIES (named s0, s1, ...)."""
    cases = list(BOUNDARIES.values())
    return _gradebook(tmp_path_factory.mktemp("late"), {f"s{i}": when for i, (when, _, _) in enumerate(cases)},
                      {f"s{i}": extension for i, (_, extension, _) in enumerate(cases) if extension})


@pytest.mark.parametrize("case", BOUNDARIES)
def test_nbgraders_own_step_asks_the_plugin_at_the_boundaries(boundaries, case):
    """Does nbgrader's AssignLatePenalties, configured as the course is, store the penalty the policy
    gives, counting from the student's own due date as nbgrader stores it (extension included)?"""
    from nbgrader.preprocessors import AssignLatePenalties

    submitted, extension, lost = BOUNDARIES[case]
    url, student = boundaries, f"s{list(BOUNDARIES).index(case)}"
    resources = {"nbgrader": {"notebook": "nb", "assignment": "a1", "student": student, "db_url": url}}
    AssignLatePenalties(config=_policy()).preprocess(nbformat.v4.new_notebook(), resources)
    with Gradebook(url) as gradebook:
        submission = gradebook.find_submission("a1", student)
        assert (submission.late_submission_penalty or 0.0) == pytest.approx(lost), case
        entry = late.recorded(gradebook, "a1", student, late.plugin(_policy()))
    # On time, or in grace (then the outcome says so): the entry and the score agree with the gradebook.
    assert (entry is None) == (submitted <= submission.duedate), case
    result = late.annotate({"score": 8.0, "max_score": 10.0}, entry)
    assert result["score"] == pytest.approx(8.0 - lost)


def test_mlpcore_grade_asks_the_same_plugin_and_a_rerun_starts_from_the_raw_score(tmp_path):
    """Does late.penalise (what mlpcore grade calls) give what nbgrader's step gives, and does applying
    it twice to an outcome take the penalty once?"""
    url = _gradebook(tmp_path, {"bo": DUE + DAY + SECOND, "cy": DUE - SECOND})
    plugin = late.plugin(_policy())
    with Gradebook(url) as gradebook:
        entry = late.penalise(gradebook, "a1", "bo", plugin)
        assert late.penalise(gradebook, "a1", "cy", plugin) is None
        assert gradebook.find_submission("a1", "bo").late_submission_penalty == pytest.approx(1.6)
    assert (entry["days_late"], entry["penalty"], entry["within_grace"]) == (2, pytest.approx(1.6), False)
    once = late.annotate({"score": 8.0}, entry)
    twice = late.annotate(dict(once), entry)
    assert once["score"] == twice["score"] == pytest.approx(6.4)
    assert late.annotate(dict(twice), None) == {"score": 8.0}  # an extension later: the raw score back


def test_a_penalty_never_takes_more_than_the_score(tmp_path):
    """A plugin that asks for more than the notebook earned is held to it (as nbgrader holds it)."""
    url = _gradebook(tmp_path, {"di": DUE + 3 * DAY}, earned=2.0)
    with Gradebook(url) as gradebook:
        entry = late.penalise(gradebook, "a1", "di", late.LatePenalty(per_day=1.0, cap=1.0))
    assert entry["penalty"] == pytest.approx(2.0)
    assert late.annotate({"score": 2.0}, entry)["score"] == 0.0


# ------------------------------------------------------------------ through mlpcore grade, end to end


def _course(folder: Path) -> Path:
    folder.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    for part in ("solutions", "course"):
        shutil.copytree(ROOT / part / ASSIGNMENT, folder / part / ASSIGNMENT)
    return folder


def _submit(submitted: Path, student: str, notebook, when: datetime) -> None:
    folder = submitted / student / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / f"{NOTEBOOK}.ipynb")
    (folder / "timestamp.txt").write_text(when.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))


@pytest.mark.slow
def test_the_penalty_shows_in_grades_csv_the_report_and_the_feedback(tmp_path):
    """A due date set before grading, a student on time and one late; then an extension granted after
    grading: does the rerun (which grades nothing again) lift the penalty everywhere it showed?"""
    root = _course(tmp_path / "course")
    output, submitted = root / "grading", root / "grading" / "submitted"
    release = nbformat.read(root / "course" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    right = fill(release, solution_answers(ROOT))
    _submit(submitted, "ontime", right, DUE - SECOND)
    _submit(submitted, "late", right, DUE + DAY + SECOND)  # two started days: 20 %
    output.mkdir(exist_ok=True)
    _on_path_alembic()
    with Gradebook(f"sqlite:///{output / 'gradebook.db'}") as gradebook:  # as nbgrader db assignment add does
        gradebook.add_assignment(ASSIGNMENT, duedate=DUE)

    done = grade_class(root, ASSIGNMENT, submitted, output, workers=1, progress=False)
    by_student = {result["student_id"]: result for result in done["outcomes"]}
    full = by_student["ontime"]["max_score"]
    assert by_student["ontime"]["score"] == full and "late" not in by_student["ontime"]
    assert by_student["late"]["score"] == pytest.approx(0.8 * full), by_student["late"]
    assert by_student["late"]["late"]["days_late"] == 2

    rows = {row["student_id"]: row for row in csv.DictReader(open(output / "grades.csv"))}
    assert float(rows["late"]["score"]) == pytest.approx(0.8 * full)
    assert float(rows["late"]["late_penalty"]) == pytest.approx(0.2 * full)
    assert float(rows["late"]["seconds_late"]) == pytest.approx(DAY.total_seconds() + 1)
    assert float(rows["ontime"]["late_penalty"]) == 0.0
    report = (output / f"report-{ASSIGNMENT}.html").read_text()
    assert "2 started days" in report and f"-{0.2 * full:g} points" in report
    page = (output / "feedback" / "late" / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
    header = page.split("<table>")[1].split("</table>")[0]
    assert "<th>late</th>" in header and "2 started days" in header and f"-{0.2 * full:g} points" in header
    assert f"score after it: <strong>{0.8 * full:g} / {full:g}</strong>" in header
    on_time = (output / "feedback" / "ontime" / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
    assert "<th>late</th>" not in on_time.split("<table>")[1].split("</table>")[0]
    with Gradebook(f"sqlite:///{output / 'gradebook.db'}") as gradebook:
        assert gradebook.find_submission(ASSIGNMENT, "late").late_submission_penalty == pytest.approx(0.2 * full)
        gradebook.grant_extension(ASSIGNMENT, "late", days=2)

    again = grade_class(root, ASSIGNMENT, submitted, output, workers=1, progress=False)
    assert again["graded"] == []
    result = json.loads((output / "outcomes" / ASSIGNMENT / "late.json").read_text())
    assert result["score"] == full and "late" not in result
    rows = {row["student_id"]: row for row in csv.DictReader(open(output / "grades.csv"))}
    assert float(rows["late"]["score"]) == full and float(rows["late"]["late_penalty"]) == 0.0
    assert "started day" not in (output / "feedback" / "late" / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
    # nbgrader's doors in the grading folder (formgrader on it) apply the course's policy too
    assert "c.AssignLatePenalties.plugin_class = 'mlpcore.autograde.late.LatePenalty'" in (
        output / "nbgrader_config.py").read_text()

    # nbgrader's own door in the same course: AssignLatePenalties and mlpcore's outcome agree.
    _submit(submitted, "door", right, DUE + 10 * DAY)  # past the cap: 50 %
    nbgrader = Path(sys.executable).parent / "nbgrader"
    environment = {**os.environ, "PATH": os.pathsep.join([str(nbgrader.parent), os.environ["PATH"]])}
    environment.pop("MLPCORE_GRADING", None)
    run = subprocess.run([str(nbgrader), "autograde", ASSIGNMENT, "--student", "door"], cwd=root, env=environment,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads((output / "outcomes" / ASSIGNMENT / "door.json").read_text())
    assert (result["late"]["penalty"], result["score"]) == (pytest.approx(0.5 * full), pytest.approx(0.5 * full))
    with Gradebook(f"sqlite:///{output / 'gradebook.db'}") as gradebook:
        assert gradebook.find_submission(ASSIGNMENT, "door").late_submission_penalty == pytest.approx(0.5 * full)
    rows = {row["student_id"]: row for row in csv.DictReader(open(output / "grades.csv"))}
    assert float(rows["door"]["late_penalty"]) == pytest.approx(0.5 * full)
