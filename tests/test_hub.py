"""``make hub``: the course on a local JupyterHub, checked through the hub's own HTTP API as each account.

The hub is set up by the same code as ``make hub`` (mlpcore/autograde/hub.py) with accounts of its own
(``mlpt-instructor``, ``mlpt-student1``, ``mlpt-student2``, ``grader-mlpt``) on free ports, and torn down
after the module: the hub and the processes it started are ended by their ids, the accounts deleted.
It needs root (it makes local accounts) and what ``make hub`` installs (``.hub/venv``, the proxy);
without them it is skipped, saying which is missing.
"""

import json
import pwd
import subprocess
from pathlib import Path

import pytest
import requests

from mlpcore.autograde.hub import accounts
from mlpcore.autograde.hub_session import missing, pids_of, process_environment, running_hub

PREFIX = "mlpt"
NAMES = accounts(PREFIX)
STUDENT1, STUDENT2 = NAMES["students"]
INSTRUCTOR = NAMES["instructor"]

pytestmark = [pytest.mark.skipif(missing() is not None, reason=str(missing())), pytest.mark.xdist_group("hub")]


def _run_as(account: str, *command) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", account, "--", *command], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def hub():
    with running_hub(NAMES) as client:
        yield client


def test_each_account_logs_in_with_its_own_password_and_no_other(hub):
    for account in [INSTRUCTOR, STUDENT1, STUDENT2]:
        assert hub.login(account, hub.passwords[account])[1].status_code == 302, account
        assert hub.login(account, "not-the-password")[1].status_code == 403, account
    assert hub.login(STUDENT1, hub.passwords[STUDENT2])[1].status_code == 403
    assert hub.login(NAMES["grader"], hub.passwords[STUDENT1])[1].status_code == 403  # not a person: no login


def test_students_get_jupyterlab_with_validate_and_the_assignment_list_and_no_formgrader(hub):
    hub.server(STUDENT1)
    page = hub.get(STUDENT1, f"/user/{STUDENT1}/lab").text
    disabled = json.loads(page.split('"disabledExtensions": ', 1)[1].split("]", 1)[0] + "]")
    assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"} <= set(disabled)
    assert not {"@jupyter/nbgrader:validate-assignment", "@jupyter/nbgrader:assignment-list"} & set(disabled)
    assert hub.get(STUDENT1, f"/user/{STUDENT1}/formgrader").status_code == 404  # not on their own server
    assert hub.get(STUDENT1, "/services/mlpcore/formgrader/api/assignments").status_code == 403  # nor the course's
    assert hub.get(STUDENT1, f"/user/{STUDENT1}/courses").json() == {"success": True, "value": []}

    # The server runs as the student, with one BLAS thread for each of its kernels.
    uid = pwd.getpwnam(STUDENT1).pw_uid
    (server,) = [pid for pid in pids_of({uid}) if b"jupyterhub-singleuser" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    environment = process_environment(server)
    assert (environment["OPENBLAS_NUM_THREADS"], environment["OMP_NUM_THREADS"]) == ("1", "1")
    assert environment["MLPCORE_EXCHANGE"] == hub.settings["exchange"]


def test_a_student_sees_their_own_files_and_nobody_elses(hub):
    hub.server(STUDENT1)
    hub.server(STUDENT2)
    note = {"type": "file", "format": "text", "content": "my answer"}
    assert requests.put(f"{hub.url}/user/{STUDENT1}/api/contents/answer.txt", json=note, headers=hub.token(STUDENT1),
                        timeout=30).status_code in (200, 201)
    written = Path(pwd.getpwnam(STUDENT1).pw_dir) / "answer.txt"
    assert written.stat().st_uid == pwd.getpwnam(STUDENT1).pw_uid  # the student's own file
    listed = hub.get(STUDENT1, f"/user/{STUDENT1}/api/contents").json()["content"]
    assert "answer.txt" in {entry["name"] for entry in listed}
    # Not through the hub (another's server refuses the token), not on disk (the home is private).
    assert hub.get(STUDENT2, f"/user/{STUDENT1}/api/contents").status_code in (403, 404)
    assert hub.get(STUDENT2, f"/user/{STUDENT1}/api/contents/answer.txt").status_code in (403, 404)
    refused = _run_as(STUDENT2, "cat", str(written))
    assert refused.returncode != 0 and "Permission denied" in refused.stderr


def test_the_instructor_releases_in_formgrader_and_no_student_can_list_the_submissions(hub):
    """Through the hub as the instructor: formgrader (the course's service, run as the grader account)
    lists the course and releases 01-matrices; a student fetches and submits it from the Assignment
    List; the exchange's inbound folder is write-only to the other student."""
    listed = hub.get(INSTRUCTOR, "/services/mlpcore/formgrader/api/assignments")
    assert listed.status_code == 200, listed.text[:500]
    assert "01-matrices" in {assignment["name"] for assignment in listed.json()}
    released = hub.post(INSTRUCTOR, "/services/mlpcore/formgrader/api/assignment/01-matrices/release")
    assert released.status_code == 200 and released.json()["success"], released.text[:2000]

    hub.server(STUDENT1)
    form = {"course_id": "mlpcore", "assignment_id": "01-matrices"}
    fetched = hub.post(STUDENT1, f"/user/{STUDENT1}/assignments/fetch", data=form).json()
    assert fetched["success"], fetched
    assert (Path(pwd.getpwnam(STUDENT1).pw_dir) / "01-matrices" / "matrices.ipynb").is_file()
    submitted = hub.post(STUDENT1, f"/user/{STUDENT1}/assignments/submit", data=form).json()
    assert submitted["success"], submitted

    inbound = Path(hub.settings["exchange"]) / "mlpcore" / "inbound"
    (submission,) = inbound.iterdir()
    assert submission.name.startswith(f"{STUDENT1}+01-matrices+")
    assert submission.stat().st_uid == pwd.getpwnam(STUDENT1).pw_uid
    refused = _run_as(STUDENT2, "ls", str(inbound))
    assert refused.returncode != 0 and "Permission denied" in refused.stderr
    assert hub.get(STUDENT2, f"/user/{STUDENT1}/assignments?course_id=mlpcore").status_code in (403, 404)
