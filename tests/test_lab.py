"""`make lab`: JupyterLab with nbgrader's extensions, whose Validate button checks a notebook.

The Validate button posts the notebook's path to nbgrader's server extension;
here a Jupyter server is started the way `make lab` starts one (from the
repository root, serving a course folder) and that request is made directly.
"""

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
JUPYTER = Path(sys.executable).parent / "jupyter"
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


@pytest.fixture
def jupyter_server(tmp_path):
    """A Jupyter server on a copy of the first assignment, its released and its solution notebook."""
    served = tmp_path / "course"
    shutil.copytree(ROOT / "course" / "01-matrices", served / "01-matrices")
    shutil.copy(ROOT / "solutions" / "01-matrices" / "matrices.ipynb", served / "01-matrices" / "solved.ipynb")
    port = _free_port()
    server = subprocess.Popen(
        [str(JUPYTER), "server", "--no-browser", f"--port={port}", f"--IdentityProvider.token={TOKEN}",
         f"--ServerApp.root_dir={served}", "--allow-root"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(120):
            try:
                _request(port, "/api/status")
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        else:
            pytest.fail("the Jupyter server did not start within a minute")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


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


def test_make_lab_serves_the_course_folder():
    dry_run = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "jupyter lab --ServerApp.root_dir=course" in dry_run.stdout
