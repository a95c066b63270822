"""An instructor adds an exercise without touching mlpcore (docs/course-exercises.md's worked example).

A copy of the course gets ``leaky_relu`` in 02-forward: the exercise file
``docs/examples/leaky_relu_exercise.py`` beside the notebook, three cells in the notebook, and one line
in ``nbgrader_config.py``. The class (right, a named mistake, and a cheat who edits their copy of the
exercise file so that their wrong answer is the reference) is graded by ``mlpcore grade`` and by
``nbgrader autograde``: the same scores and the same named mistake through both doors.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from mlpcore.autograde import sandbox
from mlpcore.autograde.grade import load_outcomes
from mlpcore.autograde.sample_class import ASSIGNMENT, NOTEBOOK, fill, solution_answers
from mlpcore.cli import main
from mlpcore.grading import EXERCISES, registry
from mlpcore.grading.registry import ExerciseSourceError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "examples" / "leaky_relu_exercise.py"
NBGRADER = Path(sys.executable).parent / "nbgrader"

pytestmark = pytest.mark.xdist_group("course_exercises")

RIGHT = "def leaky_relu(Z):\n    return np.maximum(Z, 0.01 * Z)"
TENFOLD = "def leaky_relu(Z):\n    return np.where(Z > 0, Z, 0.1 * Z)"
PLAIN_RELU = "def leaky_relu(Z):\n    return np.maximum(Z, 0)"


def exercise_cells():
    """The three cells the worked example adds to 02-forward, as an instructor writes them."""
    use = nbformat.v4.new_code_cell('from mlpcore.grading import use_exercises\n\nuse_exercises("leaky_relu_exercise.py")')
    answer = nbformat.v4.new_code_cell(
        "def leaky_relu(Z):\n    ### BEGIN SOLUTION\n    return np.where(Z > 0, Z, 0.01 * Z)\n    ### END SOLUTION")
    answer.metadata["nbgrader"] = {"grade": False, "solution": True, "locked": False, "grade_id": "leaky_relu",
                                   "schema_version": 3}
    test = nbformat.v4.new_code_cell('check("leaky_relu", leaky_relu)\n### BEGIN HIDDEN TESTS\n'
                                     'check("leaky_relu", leaky_relu, hidden=True)\n### END HIDDEN TESTS')
    test.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "grade_id": "leaky_relu_tests",
                                 "points": 2, "schema_version": 3}
    return [use, answer, test]


def course_with_leaky_relu(folder: Path) -> Path:
    """A course root with the worked example added: exercise file, cells, one configuration line."""
    folder.mkdir(parents=True)
    config = (ROOT / "nbgrader_config.py").read_text()
    config += ('\nconfigure(c, grading=GRADING, exercises=[os.path.join(ROOT, "solutions", "02-forward", '
               '"leaky_relu_exercise.py")])\n')
    (folder / "nbgrader_config.py").write_text(config)
    source = folder / "solutions" / ASSIGNMENT
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, source)
    shutil.copy(EXAMPLE, source / EXAMPLE.name)
    notebook = nbformat.read(source / f"{NOTEBOOK}.ipynb", as_version=4)
    notebook.cells.extend(exercise_cells())
    nbformat.write(notebook, source / f"{NOTEBOOK}.ipynb")
    assert main(["release", ASSIGNMENT, "--course-root", str(folder)]) == 0
    return folder


def submit(root: Path) -> list[str]:
    release_folder = root / "course" / ASSIGNMENT
    release = nbformat.read(release_folder / f"{NOTEBOOK}.ipynb", as_version=4)
    answers = solution_answers(root)
    students = {"right": RIGHT, "tenfold": TENFOLD, "forger": PLAIN_RELU}
    for student, answer in students.items():
        folder = root / "grading" / "submitted" / student / ASSIGNMENT
        shutil.copytree(release_folder, folder)
        nbformat.write(fill(release, {**answers, "leaky_relu": answer}), folder / f"{NOTEBOOK}.ipynb")
    # The forger's copy of the exercise file makes the plain ReLU the reference: their own check passes.
    forged = root / "grading" / "submitted" / "forger" / ASSIGNMENT / EXAMPLE.name
    forged.write_text(forged.read_text().replace("np.where(Z > 0, Z, SLOPE * Z)", "np.maximum(Z, 0)"))
    return sorted(students)


def leaky_cells(outcome) -> dict:
    [cell] = [cell for cell in outcome["notebooks"][NOTEBOOK]["cells"] if cell["grade_id"] == "leaky_relu_tests"]
    return cell


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if sandbox.full_sandbox_problem():
        pytest.skip(f"the full sandbox cannot run here: {sandbox.full_sandbox_problem()}")
    root = course_with_leaky_relu(tmp_path_factory.mktemp("exercises") / "course")
    submit(root)
    assert main(["grade", ASSIGNMENT, "--course-root", str(root), "--submissions", str(root / "grading" / "submitted"),
                 "--output", str(root / "mlpcore-out"), "--workers", "2", "--no-progress", "--no-feedback"]) == 0
    environment = {**os.environ, "PATH": os.pathsep.join([str(NBGRADER.parent), os.environ["PATH"]])}
    environment.pop("MLPCORE_GRADING", None)
    for command in ("generate_assignment", "autograde"):  # nbgrader's door: its gradebook, then grading
        run = subprocess.run([str(NBGRADER), command, ASSIGNMENT, "--force"], cwd=root, env=environment,
                             capture_output=True, text=True, timeout=900)
        assert run.returncode == 0, run.stderr[-4000:]
    return {door: {outcome["student_id"]: outcome for outcome in load_outcomes(folder, ASSIGNMENT)}
            for door, folder in (("mlpcore grade", root / "mlpcore-out"), ("nbgrader autograde", root / "grading"))}


@pytest.mark.parametrize("door", ["mlpcore grade", "nbgrader autograde"])
def test_the_course_s_exercise_is_graded_like_mlpcore_s_own(graded, door):
    outcomes = graded[door]
    right, tenfold, forger = (leaky_cells(outcomes[student]) for student in ("right", "tenfold", "forger"))
    assert (right["score"], right["max_score"], right["outcome"]) == (2.0, 2.0, "passed")
    assert right["exercise"] == "leaky_relu"
    assert (tenfold["score"], tenfold["outcome"]) == (0.0, "failed") and tenfold["mistake"] == "the slope is 0.01, not 0.1"
    # The grader judged with the course's copy of the exercise, not the forger's.
    assert (forger["score"], forger["outcome"]) == (0.0, "failed") and "plain ReLU" in forger["mistake"]
    # mlpcore's own exercises in the same notebook are graded as before.
    assert outcomes["right"]["score"] == outcomes["right"]["max_score"]


def test_a_release_refuses_a_check_of_an_exercise_the_course_did_not_register(tmp_path):
    root = course_with_leaky_relu(tmp_path / "course")
    config = root / "nbgrader_config.py"
    config.write_text(config.read_text().replace('exercises=[os.path.join(ROOT, "solutions", "02-forward", '
                                                 '"leaky_relu_exercise.py")]', "exercises=[]"))
    registry.unload_files()  # this process loaded the file for the release above
    assert main(["release", ASSIGNMENT, "--course-root", str(root)]) != 0


def test_an_exercise_file_that_is_wrong_says_what_is_wrong(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("EXERCISES = ['leaky_relu']\n")
    with pytest.raises(ExerciseSourceError, match="should define EXERCISES, a list of mlpcore.grading.Exercise"):
        registry.load(broken)
    clash = tmp_path / "clash.py"
    clash.write_text("import numpy as np\nfrom mlpcore.grading import Exercise\n"
                     "EXERCISES = [Exercise('relu', lambda Z: Z, lambda rng, hidden: [(np.zeros(2),)])]\n")
    with pytest.raises(ExerciseSourceError, match="there is already an exercise 'relu', from mlpcore.grading.exercises"):
        registry.load(clash)
    assert EXERCISES["relu"].reference.__module__ == "mlpcore.activations"


def test_in_a_notebook_use_exercises_makes_check_know_the_exercise(tmp_path, capsys):
    from mlpcore.grading import check, use_exercises

    shutil.copy(EXAMPLE, tmp_path / EXAMPLE.name)
    assert use_exercises(tmp_path / EXAMPLE.name) == ["leaky_relu"]
    check("leaky_relu", lambda Z: np.where(Z > 0, Z, 0.01 * Z), hidden=True)
    assert "all 7 hidden cases match the reference" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="Likely mistake: the slope is 0.01, not 0.1"):
        check("leaky_relu", lambda Z: np.where(Z > 0, Z, 0.1 * Z))
