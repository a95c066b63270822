"""``mlpcore`` installed as a package (not this checkout), grading a course root in another folder.

Before, the sandbox bound what the checkout's layout implied rather than what the kernel's
interpreter imports: with mlpcore installed somewhere else, every kernel died before replying and
``grades.csv`` said ``sandbox: none``. Here mlpcore is built into a wheel and installed, not
editable, into a venv of its own (its dependencies come from this suite's venv through a ``.pth``
line, which does not activate this checkout's editable install); the course is copied to another
folder; one honest student is graded by that venv's ``mlpcore grade`` in bubblewrap.
"""

import csv
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest

from mlpcore.autograde import sandbox
from mlpcore.autograde.sample_class import ASSIGNMENT, NOTEBOOK, fill, solution_answers

ROOT = Path(__file__).resolve().parent.parent
WHERE_FROM = "import mlpcore; print('MLPCORE-FROM', mlpcore.__file__)"


def _run(command, **options):
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, **options)
    assert run.returncode == 0, f"{command[:4]} failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return run


@pytest.fixture(scope="module")
def installed_elsewhere(tmp_path_factory):
    if sandbox.full_sandbox_problem():
        pytest.skip(f"the full sandbox cannot run here: {sandbox.full_sandbox_problem()}")
    base = tmp_path_factory.mktemp("elsewhere")
    # The package's sources only (no solutions, no tests), built into a wheel (pip builds it in an isolated
    # environment, as for any install).
    sources = base / "sources"
    sources.mkdir()
    shutil.copytree(ROOT / "mlpcore", sources / "mlpcore", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, sources / name)
    wheels = base / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels),
          str(sources)])
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip())
    (site / "zz_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index",
          *map(str, wheels.glob("*.whl"))])

    course = base / "course-root"
    for part in ("solutions", "course"):
        shutil.copytree(ROOT / part / ASSIGNMENT, course / part / ASSIGNMENT)
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    release = nbformat.read(course / "course" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    notebook = fill(release, solution_answers(ROOT))
    notebook.cells.insert(0, nbformat.v4.new_code_cell(WHERE_FROM))
    folder = base / "submitted" / "ada" / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / f"{NOTEBOOK}.ipynb")

    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    # The dependencies' programs (nbgrader runs `alembic`) lie beside this suite's Python, as they would
    # lie in the venv's own bin had it installed them.
    environment["PATH"] = os.pathsep.join([str(venv / "bin"), str(Path(sys.executable).parent), environment["PATH"]])
    environment["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")  # nbconvert's templates, likewise
    graded = _run([str(venv / "bin" / "mlpcore"), "grade", ASSIGNMENT, "--submissions", str(base / "submitted"),
                   "--output", str(base / "grading"), "--sandbox", "bwrap", "--no-progress", "--workers", "1"],
                  cwd=course, env=environment)
    return {"venv": venv, "output": base / "grading", "log": graded.stdout + graded.stderr}


def test_the_installed_package_grades_in_bubblewrap(installed_elsewhere):
    with open(installed_elsewhere["output"] / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    # Full marks; flagged only for the probe's own line, which reads where a module lies (mlpcore.__file__).
    assert [(row["student_id"], row["score"], row["status"], row["sandbox"]) for row in rows] == [
        ("ada", "9.0", "suspicious", "bwrap+seccomp")], installed_elsewhere["log"]
    assert rows[0]["reasons"].count("line 1:") == 1 and "__file__" in rows[0]["reasons"], rows[0]["reasons"]


def test_the_kernel_imported_the_installed_package_not_this_checkout(installed_elsewhere):
    graded = nbformat.read(installed_elsewhere["output"] / "autograded" / "ada" / ASSIGNMENT / f"{NOTEBOOK}.ipynb",
                           as_version=4)
    printed = "".join(out.get("text", "") for out in graded.cells[0].get("outputs", []))
    where = printed.split("MLPCORE-FROM", 1)[1].strip()
    assert where.startswith(str(installed_elsewhere["venv"])) and not where.startswith(str(ROOT)), where
