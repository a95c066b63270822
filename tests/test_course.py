"""The course round trip, one assignment at a time, through nbgrader's own machinery.

For every assignment in ``solutions/``, in a fresh copy of the course:

* nbgrader generates the release, and it equals the committed ``course/``;
* autograding the solution gives full marks, the untouched release 0 (without crashing);
* ``nbgrader validate`` passes the solution and fails the release;
* ``pytest --nbval`` replays the stored outputs of the solution notebook.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mlpcore import course

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = course.assignments(ROOT)


def test_the_course_has_its_assignments_in_order():
    assert len(ASSIGNMENTS) >= 9
    assert ASSIGNMENTS[0].startswith("01-") and all(a[:2].isdigit() for a in ASSIGNMENTS)
    released = sorted(p.name for p in (ROOT / course.RELEASE_DIRECTORY).iterdir() if p.is_dir())
    assert released == ASSIGNMENTS, "every assignment in solutions/ is released in course/, and nothing else"


@pytest.fixture(autouse=True)
def kernels_draw_like_jupyter(monkeypatch):
    """Kernels started here use Jupyter's inline plots, as when the notebooks were stored (the
    suite's own MPLBACKEND=Agg would drop their figure outputs)."""
    monkeypatch.delenv("MPLBACKEND", raising=False)
    # (One BLAS thread per kernel comes from conftest.py: the kernels inherit this process's environment.)


@pytest.fixture
def course_copy(tmp_path):
    """A scratch course root with the repository's nbgrader configuration and sources."""
    shutil.copy(ROOT / course.CONFIG_FILE, tmp_path / course.CONFIG_FILE)
    shutil.copytree(ROOT / course.SOURCE_DIRECTORY, tmp_path / course.SOURCE_DIRECTORY)
    return tmp_path


def _cells_by_grade_id(path):
    nb = nbformat.read(str(path), as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}


def _scores(api, assignment, student):
    from nbgrader.api import Gradebook

    with Gradebook(api.coursedir.db_url) as gradebook:
        submission = gradebook.find_submission(assignment, student)
        per_cell = {g.name: (g.score, g.max_score) for nb in submission.notebooks for g in nb.grades}
        return submission.score, submission.max_score, per_cell


# nbgrader's autograde emits a harmless SQLAlchemy warning (a RuntimeWarning, which this suite
# otherwise turns into an error).
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_autograde_and_validate_round_trip(assignment, course_copy):
    from traitlets.config import Config

    # Kernels on Unix sockets: over TCP, a port jupyter_client found free can be taken by a kernel of a
    # parallel test before this one binds it ("Address already in use"), and nbgrader does not retry.
    sockets = Config({"KernelManager": {"transport": "ipc", "ip": str(course_copy / "kernel")}})
    api = course.nbgrader_api(course_copy, sockets)

    result = api.generate_assignment(assignment, force=True)
    assert result["success"], result.get("error")
    for released in course.notebooks(course_copy, assignment, course.RELEASE_DIRECTORY):
        committed = ROOT / course.RELEASE_DIRECTORY / assignment / released.name
        assert committed.is_file(), f"{committed} is missing: run `mlpcore release` (or nbgrader generate_assignment)"
        assert json.loads(released.read_text()) == json.loads(committed.read_text()), (
            f"{committed} differs from a fresh release of solutions/{assignment}: regenerate it")

    submitted = course_copy / "grading" / "submitted"
    for student, directory in (("perfect", course.SOURCE_DIRECTORY), ("untouched", course.RELEASE_DIRECTORY)):
        shutil.copytree(course_copy / directory / assignment, submitted / student / assignment)
        result = api.autograde(assignment, student)
        assert result["success"], f"autograding {student} crashed: {result.get('error')}"

    score, max_score, cells = _scores(api, assignment, "perfect")
    assert max_score > 0 and score == max_score, f"the solution lost points: {cells}"
    score, max_score, cells = _scores(api, assignment, "untouched")
    assert score == 0 and max_score > 0, f"the untouched release scored: {cells}"

    from nbgrader.validator import Validator

    validator = Validator(config=api.config)
    for solution in course.notebooks(course_copy, assignment):
        assert validator.validate(str(solution)) == {}, f"nbgrader validate fails the solution {solution.name}"
    for released in course.notebooks(course_copy, assignment, course.RELEASE_DIRECTORY):
        assert validator.validate(str(released)).get("failed"), f"nbgrader validate passes the untouched {released.name}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_nbval_replays_the_stored_outputs(assignment, tmp_path):
    """What `pytest --nbval solutions` does, one assignment per test so that they run in parallel."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "no:cacheprovider", "-q",
         "-o", "addopts=", "-o", "testpaths=", str(ROOT / course.SOURCE_DIRECTORY / assignment)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
        env=dict(os.environ),  # without MPLBACKEND (see the fixture above), with the course's BLAS threads
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_graded_exercise_has_points_a_visible_check_and_hidden_tests(assignment):
    for notebook in course.notebooks(ROOT, assignment):
        cells = _cells_by_grade_id(notebook)
        tests = {k: c for k, c in cells.items() if c.metadata["nbgrader"].get("grade")}
        solutions = {k: c for k, c in cells.items() if c.metadata["nbgrader"].get("solution")}
        assert tests and solutions, f"{notebook.name} has no graded exercise"
        for grade_id, cell in tests.items():
            assert cell.metadata["nbgrader"]["points"] > 0, grade_id
            visible, _, rest = cell.source.partition("### BEGIN HIDDEN TESTS")
            assert "check" in visible or "assert" in visible, f"{grade_id}: no visible check"
            assert "### END HIDDEN TESTS" in rest and rest.strip() != "### END HIDDEN TESTS", f"{grade_id}: no hidden tests"
        for grade_id, cell in solutions.items():
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source, grade_id


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebooks_carry_no_stray_metadata_or_absolute_paths(assignment):
    for notebook in course.notebooks(ROOT, assignment) + course.notebooks(ROOT, assignment, course.RELEASE_DIRECTORY):
        nb = nbformat.read(str(notebook), as_version=4)
        assert set(nb.metadata) <= {"kernelspec", "language_info", "celltoolbar"}, (notebook, set(nb.metadata))
        text = notebook.read_text()
        for marker in ("/work/", "/home/", "/tmp/", "C:\\\\"):
            assert marker not in text, f"{notebook} mentions {marker}"
        for cell in nb.cells:
            assert set(cell.metadata) <= {"nbgrader", "tags", "deletable", "editable"}, (notebook, cell.metadata)


def test_a_folder_without_nbgrader_config_gets_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="has no nbgrader_config.py: the course root is the folder that holds it"):
        course.nbgrader_api(tmp_path)


def test_a_test_cell_the_grader_cannot_read_is_refused_at_release(course_copy):
    # Released, this cell would score nothing for every student; the instructor hears why first.
    path = next((course_copy / course.SOURCE_DIRECTORY / "02-forward").glob("*.ipynb"))
    notebook = nbformat.read(str(path), as_version=4)
    test_cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "relu_tests")
    test_cell.source = 'exercise = "relu"\ncheck(exercise, relu)'
    nbformat.write(notebook, str(path))
    with pytest.raises(RuntimeError, match=r"relu_tests: line 2: the exercise's name should be written as a string") as refused:
        course.release(course_copy, ["02-forward"])
    assert "Traceback" not in str(refused.value)  # the cause alone, not nbgrader's log
