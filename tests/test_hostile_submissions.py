"""Submissions that attack the grader itself, graded by ``mlpcore grade`` beside honest students.

Each attack here got through before (issue #20): a submission folder of symbolic links was graded
on the instructor's solution and carried a classmate's notebook and the gradebook into its job; a
kernel that put a link in place of its own notebook made nbgrader write the graded notebook through
it, over the class gradebook; a ``mlpcore/autograde/kernel.py`` in the submission was run as the
grading kernel; a pool of processes started in a cell computed the answers with the reference. Now
the class is graded in the full sandbox, the honest students keep full marks, the gradebook and the
classmates' files are untouched, every student has a row, and a second run works.
"""

import os
import sqlite3
from pathlib import Path

import nbformat
import pytest

from mlpcore.autograde import gradebook, sandbox
from mlpcore.autograde.grade import grade_class, load_outcomes
from mlpcore.schema import notebooks_of
from mlpcore.autograde.sample_class import ASSIGNMENT, NOTEBOOK, fill, solution_answers

ROOT = Path(__file__).resolve().parent.parent
FULL = 9.0
HONEST = ("ada", "bob")

pytestmark = pytest.mark.xdist_group("hostile")

# A cell of the learner's own, run first: put links where the grader used to write.
SWAP_NOTEBOOK_FOR_LINKS = '''
import os
for name, target in (("{notebook}.ipynb", {gradebook!r}), ("classmate.ipynb", {classmate!r})):
    if os.path.lexists(name):
        os.remove(name)
    os.symlink(target, name)
'''
# The answers come from a child process, where the reference's guard (which lives in the kernel) is not.
POOL = '''
import multiprocessing
import mlpcore.activations
pool = multiprocessing.Pool(1)
'''
POOL_RELU = "def relu(Z):\n    return pool.apply(mlpcore.activations.relu, (Z,))\n"
FAKE_KERNEL = 'raise SystemExit("a kernel the submission brought")\n'


def _notebook(answers: dict, first_cell: str | None = None):
    release = nbformat.read(ROOT / "course" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    notebook = fill(release, answers)
    if first_cell is not None:
        notebook.cells.insert(0, nbformat.v4.new_code_cell(first_cell))
    return notebook


def _write(folder: Path, notebook) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{NOTEBOOK}.ipynb"
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    if sandbox.full_sandbox_problem():
        pytest.skip(f"the full sandbox cannot run here: {sandbox.full_sandbox_problem()}")
    base = tmp_path_factory.mktemp("hostile")
    submissions, output = base / "submitted", base / "grading"
    answers = solution_answers(ROOT)
    for student in HONEST:
        _write(submissions / student / ASSIGNMENT, _notebook(answers))
    classmate = submissions / "ada" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    # linky's folder is nothing but links, and a FIFO that would block a reader forever.
    linky = submissions / "linky" / ASSIGNMENT
    linky.mkdir(parents=True)
    (linky / f"{NOTEBOOK}.ipynb").symlink_to(ROOT / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    (linky / "classmate.ipynb").symlink_to(classmate)
    (linky / "grades.db").symlink_to(output / "gradebook.db")
    os.mkfifo(linky / "pipe")
    _write(submissions / "swapper" / ASSIGNMENT, _notebook(answers, SWAP_NOTEBOOK_FOR_LINKS.format(
        notebook=NOTEBOOK, gradebook=str(output / "gradebook.db"), classmate=str(classmate))))
    shipper = _write(submissions / "shipper" / ASSIGNMENT, _notebook(answers)).parent
    for package in ("mlpcore", "mlpcore/autograde"):
        (shipper / package).mkdir()
        (shipper / package / "__init__.py").write_text("")
    (shipper / "mlpcore" / "autograde" / "kernel.py").write_text(FAKE_KERNEL)
    _write(submissions / "pooler" / ASSIGNMENT, _notebook({**answers, "relu": POOL_RELU}, POOL))

    classmate_before = classmate.read_bytes()
    settings = {"sandbox": "bwrap", "cell_timeout": 60}
    grade_class(ROOT, ASSIGNMENT, submissions, output, workers=2, progress=False, feedback=True, settings=settings)
    first = {outcome["student_id"]: outcome for outcome in load_outcomes(output, ASSIGNMENT)}
    gradebook_after_first = gradebook.scores_per_cell(gradebook.db_url(output), ASSIGNMENT)
    rerun = grade_class(ROOT, ASSIGNMENT, submissions, output, workers=2, progress=False, feedback=False,
                        settings=settings, force=True)
    return {"outcomes": first, "output": output, "classmate": classmate, "classmate_before": classmate_before,
            "scores": gradebook_after_first, "rerun": rerun}


def test_honest_students_keep_full_marks(hostile_class):
    for student in HONEST:
        outcome = hostile_class["outcomes"][student]
        assert (outcome["status"], outcome["score"], outcome["sandbox"]) == ("ok", FULL, "bwrap+seccomp"), outcome


def test_links_in_a_submission_are_reported_and_never_read(hostile_class):
    outcome = hostile_class["outcomes"]["linky"]
    # Its notebook is a link, so no notebook was submitted: "missing" ranks above "tampered".
    assert outcome["score"] == 0 and outcome["status"] == "missing", outcome
    reasons = " | ".join(outcome["reasons"])
    for name in (f"{NOTEBOOK}.ipynb is a symbolic link", "classmate.ipynb is a symbolic link",
                 "grades.db is a symbolic link", "pipe is a FIFO"):
        assert name in reasons, reasons
    # Nothing of the solution, the classmate or the gradebook reached linky's graded files or feedback page.
    output = hostile_class["output"]
    carried = [path for path in (output / "autograded" / "linky").rglob("*") if path.is_file()]
    carried += list((output / "feedback" / "linky").rglob("*.html"))
    for path in carried:
        data = path.read_bytes()
        assert b"SQLite format 3" not in data and b"### BEGIN SOLUTION" not in data, path
        assert b"np.maximum(" not in data, f"{path} holds a classmate's or the solution's code"


def test_a_kernel_that_swaps_its_notebook_for_links_harms_nothing(hostile_class):
    outcome = hostile_class["outcomes"]["swapper"]
    assert outcome["score"] == FULL, outcome  # its answers are right; its links stayed in its own sandbox
    assert hostile_class["classmate"].read_bytes() == hostile_class["classmate_before"]
    assert os.access(hostile_class["classmate"], os.W_OK)
    graded = nbformat.read(hostile_class["output"] / "autograded" / "swapper" / ASSIGNMENT / f"{NOTEBOOK}.ipynb",
                           as_version=4)
    assert graded.cells, "the graded notebook was not written where the grader writes it"


def test_the_gradebook_is_intact_with_a_row_for_everyone_and_a_rerun_works(hostile_class):
    output = hostile_class["output"]
    with sqlite3.connect(output / "gradebook.db") as database:
        assert database.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    students = {student for student, _, _ in hostile_class["scores"]}
    assert students == {"ada", "bob", "linky", "swapper", "shipper", "pooler"}, students
    assert sorted(hostile_class["rerun"]["graded"]) == sorted(students)
    assert {outcome["student_id"] for outcome in hostile_class["rerun"]["outcomes"]} == students
    rows = (output / "grades.csv").read_text().splitlines()[1:]
    assert sorted(row.split(",")[0] for row in rows) == sorted(students)
    assert list((output / "backups").glob("gradebook-*.db")), "no backup of the gradebook before the rerun"


def test_a_kernel_the_submission_brings_is_never_run(hostile_class):
    outcome = hostile_class["outcomes"]["shipper"]
    assert outcome["status"] != "error" and outcome["score"] == FULL, outcome
    assert "a kernel the submission brought" not in str(outcome)


def test_answers_from_a_child_process_are_refused(hostile_class):
    outcome = hostile_class["outcomes"]["pooler"]
    relu = [cell for graded in notebooks_of(outcome).values() for cell in graded.cells if cell.exercise == "relu"]
    assert relu and all(cell.score == 0 for cell in relu), relu
    assert outcome["score"] < FULL, outcome
