"""`make lab`: JupyterLab with nbgrader's extensions, whose Validate button checks a notebook.

The Validate button posts the notebook's path to nbgrader's server extension;
here a Jupyter server is started the way `make lab` starts one (from the
repository root, serving a course folder) and that request is made directly.
"""

import contextlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat
import pytest

from mlpcore.autograde.lab import lab_command

ROOT = Path(__file__).resolve().parent.parent
JUPYTER = Path(sys.executable).parent / "jupyter"
NBGRADER = Path(sys.executable).parent / "nbgrader"
TOKEN = "mlpcore-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(port, path, data=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                     headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.read().decode()


@contextlib.contextmanager
def running_server(argv, cwd=ROOT, env=None):
    """A Jupyter server started with ``argv`` (plus a free port and the test's token); yields its port."""
    port = _free_port()
    allow_root = ["--allow-root"] if os.geteuid() == 0 else []
    # A user data folder of its own: nbgrader's assignment list reads the user's exchange cache from it,
    # which other runs on this machine (a student's fetch) may have filled.
    data_dir = tempfile.mkdtemp(prefix="mlpcore-jupyter-data-")
    env = {**(os.environ if env is None else env), "JUPYTER_DATA_DIR": data_dir}
    server = subprocess.Popen([*argv, "--no-browser", f"--port={port}", f"--IdentityProvider.token={TOKEN}", *allow_root],
                              cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(240):
            try:
                _request(port, "/api/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None:
                    pytest.fail(f"the Jupyter server exited with status {server.returncode}: {argv}")
                time.sleep(0.5)
        else:
            pytest.fail("the Jupyter server did not start within two minutes")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def jupyter_server(tmp_path):
    """A Jupyter server on a copy of the first assignment, its released and its solution notebook."""
    served = tmp_path / "course"
    shutil.copytree(ROOT / "course" / "01-matrices", served / "01-matrices")
    shutil.copy(ROOT / "solutions" / "01-matrices" / "matrices.ipynb", served / "01-matrices" / "solved.ipynb")
    with running_server([str(JUPYTER), "server", f"--ServerApp.root_dir={served}"]) as port:
        yield port


def test_the_validate_button_fails_the_release_and_passes_a_solution(jupyter_server):
    def validate(path):
        reply = json.loads(_request(jupyter_server, "/assignments/validate", f"path={path}".encode()))
        assert reply["success"], reply["value"]
        return reply["value"]

    assert validate("01-matrices/matrices.ipynb").get("failed"), "the untouched release should fail validation"
    assert validate("01-matrices/solved.ipynb") == {}


def test_nbgraders_lab_extension_is_installed():
    listing = subprocess.run([str(JUPYTER), "labextension", "list"], capture_output=True, text=True, check=True)
    assert "@jupyter/nbgrader" in listing.stdout + listing.stderr


def _student_server(exchange):
    """A server started as `make lab` starts one (``mlpcore lab``), on the repository's course, with
    the exchange folder ``exchange``."""
    argv, environment = lab_command(ROOT, exchange=exchange)
    return running_server(argv, env=environment)


def test_make_lab_and_make_formgrader_start_mlpcore_lab():
    for target, command in (("lab", "mlpcore lab"), ("formgrader", "mlpcore lab --instructor")):
        dry_run = subprocess.run(["make", "-n", "--no-print-directory", target], cwd=ROOT, capture_output=True, text=True, check=True)
        assert dry_run.stdout.rstrip().endswith(command), dry_run.stdout
    dry_run = subprocess.run(["make", "-n", "--no-print-directory", "formgrader", "GRADING=grading/demo"], cwd=ROOT, capture_output=True,
                             text=True, check=True)
    assert dry_run.stdout.rstrip().endswith("mlpcore lab --instructor --grading grading/demo")
    for target, command in (("lab", "mlpcore lab -- --no-browser --port 8890"),
                            ("formgrader", "mlpcore lab --instructor -- --no-browser --port 8890")):
        dry_run = subprocess.run(["make", "-n", "--no-print-directory", target, "LAB_FLAGS=--no-browser --port 8890"], cwd=ROOT,
                                 capture_output=True, text=True, check=True)
        assert dry_run.stdout.rstrip().endswith(command), dry_run.stdout


def test_make_lab_starts_as_root_and_passes_lab_flags_to_jupyter(tmp_path):
    """`make lab LAB_FLAGS=...` (the red team ran it as root, in a container): the server starts with
    the options given, says that it passes --allow-root where it runs as root, and names the exchange."""
    port = _free_port()
    flags = f"--no-browser --port={port} --IdentityProvider.token={TOKEN}"
    (tmp_path / "exchange").mkdir()
    environment = {**os.environ, "MLPCORE_EXCHANGE": str(tmp_path / "exchange"), "JUPYTER_DATA_DIR": str(tmp_path / "data")}
    # -o: never rebuild .venv from a test, whatever the stamp's age
    with subprocess.Popen(["make", "--no-print-directory", "-o", ".venv/.installed", "lab", f"LAB_FLAGS={flags}"], cwd=ROOT,
                          env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          start_new_session=True) as lab:
        try:
            printed = []
            for line in lab.stdout:
                printed.append(line)
                if "nbgrader's exchange:" in line:
                    break
            threading.Thread(target=lambda: printed.extend(lab.stdout), daemon=True).start()  # the server's log
            for _ in range(240):
                try:
                    _request(port, "/api/status")
                    break
                except (urllib.error.URLError, ConnectionError):
                    assert lab.poll() is None, "".join(printed) + lab.stdout.read()
                    time.sleep(0.5)
            else:
                pytest.fail("make lab's server did not answer within two minutes:\n" + "".join(printed))
        finally:
            os.killpg(lab.pid, 15)
            lab.wait(timeout=30)
    printed = "".join(printed)
    assert ("passing --allow-root to jupyter lab" in printed) == (os.geteuid() == 0), printed
    assert f"nbgrader's exchange: {tmp_path / 'exchange'} (course mlpcore; nothing released yet" in printed, printed


def test_students_get_validate_and_the_assignment_list_without_the_instructors_panels(tmp_path):
    argv, _ = lab_command(ROOT)
    assert f"--ServerApp.root_dir={ROOT / 'course'}" in argv
    (tmp_path / "exchange").mkdir()  # an exchange where nothing is released yet
    with _student_server(tmp_path / "exchange") as port:
        page = _request(port, "/lab")
        disabled = json.loads(page.split('"disabledExtensions": ', 1)[1].split("]", 1)[0] + "]")
        assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                "@jupyterlab/apputils-extension:announcements"} <= set(disabled)  # no "Jupyter news?" prompt
        assert not {"@jupyter/nbgrader:validate-assignment", "@jupyter/nbgrader:assignment-list"} & set(disabled)
        with pytest.raises(urllib.error.HTTPError, match="404"):
            _request(port, "/formgrader/api/assignments")
        # The assignment list answers (an empty list of courses, not "Error fetching courses!").
        assert json.loads(_request(port, "/courses")) == {"success": True, "value": []}
        reply = json.loads(_request(port, "/assignments/validate", b"path=01-matrices/matrices.ipynb"))
        assert reply["success"] and reply["value"].get("failed")
        # Issue 23: the dialog lists the failing cells; its first lines say how many of all passed.
        assert reply["value"]["failed"][0]["error"].startswith("0 of 4 test cells passed."), reply["value"]["failed"][0]


def test_lab_refuses_a_grading_folder_outside_the_course_or_missing(tmp_path):
    with pytest.raises(ValueError, match="should be a folder inside the course root"):
        lab_command(ROOT, instructor=True, grading=tmp_path)
    with pytest.raises(FileNotFoundError, match="there is no folder .*nothing-here"):
        lab_command(ROOT, instructor=True, grading="grading/nothing-here")


@pytest.fixture
def fresh_course(tmp_path):
    """A course root as a fresh clone has it (one assignment), with no grading folder yet."""
    root = tmp_path / "clone"
    root.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", root)
    for folder in ("solutions", "course"):
        shutil.copytree(ROOT / folder / "01-matrices", root / folder / "01-matrices")
    return root


def _tables(gradebook: Path) -> set:
    with sqlite3.connect(gradebook) as connection:
        return {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_formgrader_on_a_fresh_clone_shows_the_class_mlpcore_grade_graded(fresh_course):
    """The instructor's server (make formgrader) on a fresh clone: formgrader's API answers, the
    gradebook it creates is a migrated one, and after `mlpcore grade` with its defaults it lists
    every student, the unreadable notebook included, with a score and a name."""
    argv, environment = lab_command(fresh_course, instructor=True)
    # Started from a shell whose PATH lacks the venv: nbgrader must still find alembic.
    environment["PATH"] = "/usr/bin:/bin"
    with running_server(argv, cwd=fresh_course, env=environment) as port:
        assignments = json.loads(_request(port, "/formgrader/api/assignments"))
        assert [a["name"] for a in assignments] == ["01-matrices"]
        assert assignments[0]["releaseable"], "no Release button: the course id or the exchange is missing"
        assert "alembic_version" in _tables(fresh_course / "grading" / "gradebook.db")

        submitted = fresh_course / "grading" / "submitted"
        (submitted / "ada" / "01-matrices").mkdir(parents=True)
        shutil.copy(ROOT / "solutions" / "01-matrices" / "matrices.ipynb", submitted / "ada" / "01-matrices")
        (submitted / "fay" / "01-matrices").mkdir(parents=True)
        (submitted / "fay" / "01-matrices" / "matrices.ipynb").write_text('{"cells": [')
        graded = subprocess.run([sys.executable, "-m", "mlpcore", "grade", "01-matrices", "--no-progress",
                                 "--course-root", str(fresh_course)], capture_output=True, text=True, timeout=600)
        assert graded.returncode == 0, graded.stderr

        submissions = {s["student"]: s for s in json.loads(_request(port, "/formgrader/api/submissions/01-matrices"))}
        assert sorted(submissions) == ["ada", "fay"]
        assert submissions["ada"]["autograded"] and submissions["ada"]["score"] == submissions["ada"]["max_score"] > 0
        assert submissions["fay"]["autograded"] and submissions["fay"]["score"] == 0
        assert [(s["last_name"], s["first_name"]) for s in submissions.values()] == [("ada", ""), ("fay", "")]
        # Manual Grading lists the unreadable notebook too (the release stands in for it), flagged.
        notebooks = json.loads(_request(port, "/formgrader/api/submitted_notebooks/01-matrices/matrices"))
        flagged = {n["student"]: n["flagged"] for n in notebooks}
        assert sorted(flagged) == ["ada", "fay"] and flagged["fay"], flagged
        students = {s["id"]: s for s in json.loads(_request(port, "/formgrader/api/students"))}
        assert students["ada"]["score"] == submissions["ada"]["max_score"]


def test_the_demo_and_grade_print_the_command_that_opens_formgrader_on_their_class(tmp_path):
    from mlpcore.autograde.commands import formgrader_command

    assert formgrader_command(ROOT, ROOT / "grading") == "make formgrader   (or: mlpcore lab --instructor)"
    assert formgrader_command(ROOT, ROOT / "grading" / "demo").startswith("make formgrader GRADING=grading/demo ")
    assert formgrader_command(ROOT, tmp_path).startswith(f"cd {tmp_path.resolve()} && jupyter lab")


def test_the_demos_grading_folder_is_the_course_formgrader_opens_with_the_printed_command(fresh_course, monkeypatch):
    """`make formgrader GRADING=grading/demo` points nbgrader (formgrader, export, collect) at the demo's class."""
    from mlpcore import course

    (fresh_course / "grading" / "demo").mkdir(parents=True)
    _, environment = lab_command(fresh_course, instructor=True, grading="grading/demo")
    assert environment["MLPCORE_GRADING"] == "grading/demo"
    monkeypatch.setenv("MLPCORE_GRADING", environment["MLPCORE_GRADING"])
    config = course.load_config(fresh_course).CourseDirectory
    assert config.db_url == f"sqlite:///{fresh_course / 'grading' / 'demo' / 'gradebook.db'}"
    assert (config.submitted_directory, config.autograded_directory) == ("grading/demo/submitted", "grading/demo/autograded")


def test_mlpcore_lab_says_what_the_assignment_list_will_show(tmp_path):
    from mlpcore.autograde.lab import exchange_note

    exchange = tmp_path / "exchange"
    assert "does not exist yet" in exchange_note(exchange)
    exchange.mkdir()
    assert "nothing released yet, so the Assignment List says 'No courses found.'" in exchange_note(exchange)
    (exchange / "mlpcore" / "outbound" / "02-forward").mkdir(parents=True)
    assert exchange_note(exchange).endswith("(course mlpcore; released: 02-forward).")


def _nbgrader(argv, root, exchange):
    """An instructor's nbgrader command in the course root, with the exchange ``exchange``."""
    environment = {**os.environ, "MLPCORE_EXCHANGE": str(exchange)}
    done = subprocess.run([str(NBGRADER), *argv], cwd=root, env=environment, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_the_students_assignment_list_works_in_the_folder_the_file_browser_shows(fresh_course, tmp_path):
    """The Assignment List of `make lab` fetches into course/ (not the server's working folder, the
    course root), lists an assignment already there as fetched with notebook links the file browser
    opens, and Submit sends the notebook as the student saved it there."""
    exchange = tmp_path / "exchange"
    _nbgrader(["release_assignment", "01-matrices"], fresh_course, exchange)
    shutil.rmtree(fresh_course / "course" / "01-matrices")  # the student has not got it yet
    argv, environment = lab_command(fresh_course, exchange=exchange)
    form = urllib.parse.urlencode({"course_id": "mlpcore", "assignment_id": "01-matrices"}).encode()
    with running_server(argv, cwd=fresh_course, env=environment) as port:
        assert json.loads(_request(port, "/courses")) == {"success": True, "value": ["mlpcore"]}
        listed = json.loads(_request(port, "/assignments?course_id=mlpcore"))["value"]
        assert [(a["assignment_id"], a["status"]) for a in listed] == [("01-matrices", "released")]

        listed = json.loads(_request(port, "/assignments/fetch", form))["value"]
        assert [(a["status"], a["path"]) for a in listed] == [("fetched", "01-matrices")]
        assert [n["path"] for n in listed[0]["notebooks"]] == ["01-matrices/matrices.ipynb"]  # relative to course/
        assert not (fresh_course / "01-matrices").exists()
        notebook = fresh_course / "course" / "01-matrices" / "matrices.ipynb"
        assert json.loads(_request(port, "/api/contents/01-matrices/matrices.ipynb?content=0"))["type"] == "notebook"

        edited = nbformat.read(notebook, as_version=4)  # the student's answer, saved
        edited.cells[0].source += "\n\nEdited by the student."
        nbformat.write(edited, notebook)
        reply = json.loads(_request(port, "/assignments/submit", form))
        assert reply["success"], reply
    _nbgrader(["collect", "01-matrices"], fresh_course, exchange)
    (collected,) = (fresh_course / "grading" / "submitted").glob("*/01-matrices/matrices.ipynb")
    assert "Edited by the student." in nbformat.read(collected, as_version=4).cells[0].source
