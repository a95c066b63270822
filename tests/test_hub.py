"""``make hub``: the course on a local JupyterHub, checked through the hub's own HTTP API as each account.

The hub is set up by the same code as ``make hub`` (mlpcore/autograde/hub.py) with accounts of its own
(``mlpt-instructor``, ``mlpt-student1``, ``mlpt-student2``, ``grader-mlpt``) on free ports, and torn down
after the module: the hub and the processes it started are ended by their ids, the accounts deleted.
It needs root (it makes local accounts) and what ``make hub`` installs (``.hub/venv``, the proxy);
without them it is skipped, saying which is missing.
"""

import json
import os
import pwd
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
HUB_PYTHON = ROOT / ".hub" / "venv" / "bin" / "python"
PROXY = ROOT / ".hub" / "node_modules" / ".bin" / "configurable-http-proxy"
PREFIX = "mlpt"
NAMES = {"instructor": f"{PREFIX}-instructor", "students": [f"{PREFIX}-student1", f"{PREFIX}-student2"],
         "grader": f"grader-{PREFIX}"}
STUDENT1, STUDENT2 = NAMES["students"]
INSTRUCTOR = NAMES["instructor"]


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "the hub makes local accounts and starts servers as them: run as root (CI does)"
    if not HUB_PYTHON.exists():
        return f"{HUB_PYTHON} is missing: make hub (or make test) builds it"
    if not PROXY.exists():
        return f"{PROXY} is missing: make hub installs it with npm (apt-get install npm)"
    return None


pytestmark = [pytest.mark.skipif(_missing() is not None, reason=str(_missing())), pytest.mark.xdist_group("hub")]


def _free_ports(count=4) -> int:
    """The first of ``count`` consecutive free ports on 127.0.0.1."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        if first + count > 65535:
            continue
        try:
            sockets = []
            for port in range(first, first + count):
                sockets.append(socket.socket())
                sockets[-1].bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for held in sockets:
                held.close()
    raise RuntimeError("no four consecutive free ports on 127.0.0.1")


def _run_as(account: str, *command) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", account, "--", *command], capture_output=True, text=True, timeout=60)


def _pids_of(uids: set[int]) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid in uids:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _end(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class Hub:
    def __init__(self, settings: dict, process: subprocess.Popen):
        self.settings, self.process = settings, process
        self.url = f"http://127.0.0.1:{settings['port']}"
        self.passwords = json.loads(Path(settings["passwords_file"]).read_text())
        self._tokens = {}

    def login(self, account: str, password: str) -> tuple[requests.Session, requests.Response]:
        """The hub's login form, as a browser posts it."""
        session = requests.Session()
        session.get(f"{self.url}/hub/login", timeout=30)
        reply = session.post(f"{self.url}/hub/login", allow_redirects=False, timeout=60,
                             data={"username": account, "password": password, "_xsrf": session.cookies.get("_xsrf")})
        return session, reply

    def token(self, account: str) -> dict:
        """An API token of ``account``, asked for with its login session (as the hub's token page does)."""
        if account not in self._tokens:
            session, reply = self.login(account, self.passwords[account])
            assert reply.status_code == 302, reply.text[:500]
            made = session.post(f"{self.url}/hub/api/users/{account}/tokens", json={"note": "test_hub"},
                                headers={"X-XSRFToken": session.cookies.get("_xsrf")}, timeout=30)
            assert made.status_code == 201, made.text[:500]
            self._tokens[account] = {"Authorization": f"token {made.json()['token']}"}
        return self._tokens[account]

    def get(self, account: str, path: str, **kwargs) -> requests.Response:
        return requests.get(f"{self.url}{path}", headers=self.token(account), timeout=60, allow_redirects=False,
                            **kwargs)

    def post(self, account: str, path: str, **kwargs) -> requests.Response:
        return requests.post(f"{self.url}{path}", headers=self.token(account), timeout=300, allow_redirects=False,
                             **kwargs)

    def server(self, account: str) -> None:
        """Start ``account``'s JupyterLab and wait until it is ready."""
        reply = self.post(account, f"/hub/api/users/{account}/server")
        assert reply.status_code in (201, 202, 400), reply.text[:500]  # 400: already running
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            state = self.get(account, "/hub/api/user").json()["servers"].get("", {})
            if state.get("ready"):
                return
            time.sleep(1)
        raise TimeoutError(f"{account}'s server did not start in 120 s")


@pytest.fixture(scope="module")
def hub():
    from mlpcore.autograde.hub import account_exists, hub_command, remove_accounts

    state = Path(tempfile.mkdtemp(prefix="mlpcore-hub-test-", dir="/tmp"))
    state.chmod(0o755)  # the accounts reach the exchange inside it
    port = _free_ports()
    made = subprocess.run(
        [str(HUB_PYTHON), "-c", "import json, sys; from mlpcore.autograde.hub import setup; "
         f"print(json.dumps(setup({str(state)!r}, names=json.loads(sys.argv[1]), port={port})))", json.dumps(NAMES)],
        capture_output=True, text=True, timeout=300)
    process = None
    try:
        assert made.returncode == 0, made.stderr[-3000:]
        settings = json.loads(made.stdout)
        argv, environment = hub_command(settings)
        log = open(state / "hub.log", "w")
        process = subprocess.Popen(argv, cwd=state, env=environment, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        running = Hub(settings, process)
        deadline = time.monotonic() + 180
        while True:
            try:
                # ready when formgrader, the course's service, answers through the proxy (with a redirect to log in)
                if requests.get(f"{running.url}/services/mlpcore/", timeout=5, allow_redirects=False).status_code == 302:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the hub did not start:\n{(state / 'hub.log').read_text()[-4000:]}")
            time.sleep(1)
        yield running
    finally:
        uids = {pwd.getpwnam(name).pw_uid for name in [INSTRUCTOR, *NAMES["students"], NAMES["grader"]]
                if account_exists(name)}
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)  # the hub stops the servers and the proxy it started
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        proxy_pid = state / "jupyterhub-proxy.pid"  # the hub stops its proxy; should it not have, by its id
        if proxy_pid.is_file() and proxy_pid.read_text().strip().isdigit():
            _end(int(proxy_pid.read_text().strip()))
        for pid in _pids_of(uids):  # anything the accounts still run (a kernel): ended by its id
            _end(pid)
        remove_accounts(NAMES)
        subprocess.run(["rm", "-rf", str(state)], check=False)


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
    (server,) = [pid for pid in _pids_of({uid}) if b"jupyterhub-singleuser" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    environment = dict(line.split("=", 1) for line in Path(f"/proc/{server}/environ").read_text().split("\0") if "=" in line)
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
