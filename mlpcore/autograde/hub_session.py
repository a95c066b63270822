"""A course hub started for a while and driven through its HTTP API as its accounts: what
``tests/test_hub.py`` and ``benchmarks/hub_load.py`` share (``make hub`` itself runs in the foreground).

:func:`running_hub` sets the hub up with accounts of its own in a folder of its own (through the hub's
environment, ``.hub/venv``, which every account can run), starts it on free ports, and on the way out
stops it, ends by their ids whatever the accounts still run, and deletes the accounts and the folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from .hub import REPOSITORY, account_exists, hub_command, remove_accounts

HUB_PYTHON = REPOSITORY / ".hub" / "venv" / "bin" / "python"
PROXY = REPOSITORY / ".hub" / "node_modules" / ".bin" / "configurable-http-proxy"


def missing() -> str | None:
    """Why a hub cannot be started here, or ``None``."""
    if os.geteuid() != 0:
        return "the hub makes local accounts and starts servers as them: run as root (CI does)"
    if not HUB_PYTHON.exists():
        return f"{HUB_PYTHON} is missing: make hub (or make test) builds it"
    if not PROXY.exists():
        return f"{PROXY} is missing: make hub installs it with npm (apt-get install npm)"
    return None


def free_ports(count: int = 4) -> int:
    """The first of ``count`` consecutive free ports on 127.0.0.1."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        held = []
        try:
            for port in range(first, first + count):
                held.append(socket.socket())
                held[-1].bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for taken in held:
                taken.close()
    raise RuntimeError(f"no {count} consecutive free ports on 127.0.0.1")


def pids_of(uids: set[int]) -> list[int]:
    """The processes that run as one of ``uids``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid in uids:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def process_environment(pid: int) -> dict:
    raw = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    return dict(entry.split("=", 1) for entry in raw.split("\0") if "=" in entry)


def _end(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class HubClient:
    """The hub at ``settings``' port, as its accounts use it: the login form, then API tokens."""

    def __init__(self, settings: dict, process: subprocess.Popen):
        self.settings, self.process = settings, process
        self.url = f"http://127.0.0.1:{settings['port']}"
        self.passwords = json.loads(Path(settings["passwords_file"]).read_text())
        self._tokens = {}

    def login(self, account: str, password: str) -> tuple[requests.Session, requests.Response]:
        """The hub's login form, as a browser posts it."""
        session = requests.Session()
        session.get(f"{self.url}/hub/login", timeout=60)
        reply = session.post(f"{self.url}/hub/login", allow_redirects=False, timeout=120,
                             data={"username": account, "password": password, "_xsrf": session.cookies.get("_xsrf")})
        return session, reply

    def token(self, account: str) -> dict:
        """Headers with an API token of ``account``, asked for with its login session (as the hub's token page does)."""
        if account not in self._tokens:
            session, reply = self.login(account, self.passwords[account])
            if reply.status_code != 302:
                raise RuntimeError(f"{account} could not log in: {reply.status_code} {reply.text[:300]}")
            made = session.post(f"{self.url}/hub/api/users/{account}/tokens", json={"note": "mlpcore hub session"},
                                headers={"X-XSRFToken": session.cookies.get("_xsrf")}, timeout=60)
            if made.status_code != 201:
                raise RuntimeError(f"no token for {account}: {made.status_code} {made.text[:300]}")
            self._tokens[account] = {"Authorization": f"token {made.json()['token']}"}
        return self._tokens[account]

    def get(self, account: str, path: str, **kwargs) -> requests.Response:
        return requests.get(f"{self.url}{path}", headers=self.token(account), timeout=120, allow_redirects=False,
                            **kwargs)

    def post(self, account: str, path: str, **kwargs) -> requests.Response:
        return requests.post(f"{self.url}{path}", headers=self.token(account), timeout=600, allow_redirects=False,
                             **kwargs)

    def server(self, account: str, timeout: float = 180) -> None:
        """Start ``account``'s JupyterLab and wait until it is ready."""
        reply = self.post(account, f"/hub/api/users/{account}/server")
        if reply.status_code not in (201, 202, 400):  # 400: already running
            raise RuntimeError(f"{account}'s server: {reply.status_code} {reply.text[:300]}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.get(account, "/hub/api/user").json()["servers"].get("", {}).get("ready"):
                return
            time.sleep(1)
        raise TimeoutError(f"{account}'s server did not start in {timeout:g} s")


@contextlib.contextmanager
def running_hub(names: dict, timeout: float = 180):
    """A course hub with the accounts ``names`` (see :func:`mlpcore.autograde.hub.accounts`), as a
    :class:`HubClient`; everything it made is removed on the way out."""
    state = Path(tempfile.mkdtemp(prefix="mlpcore-hub-", dir="/tmp"))
    state.chmod(0o755)  # the accounts reach the exchange inside it
    port = free_ports()
    process = None
    try:
        made = subprocess.run(
            [str(HUB_PYTHON), "-c", "import json, sys; from mlpcore.autograde.hub import setup; "
             f"print(json.dumps(setup({str(state)!r}, names=json.loads(sys.argv[1]), port={port})))",
             json.dumps(names)], capture_output=True, text=True, timeout=600)
        if made.returncode != 0:
            raise RuntimeError(f"the hub could not be set up:\n{made.stderr[-3000:]}")
        settings = json.loads(made.stdout)
        argv, environment = hub_command(settings)
        with open(state / "hub.log", "w") as log:
            process = subprocess.Popen(argv, cwd=state, env=environment, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        client = HubClient(settings, process)
        deadline = time.monotonic() + timeout
        while True:
            try:  # ready when formgrader, the course's service, answers through the proxy (a redirect to log in)
                if requests.get(f"{client.url}/services/mlpcore/", timeout=5, allow_redirects=False).status_code == 302:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the hub did not start:\n{(state / 'hub.log').read_text()[-4000:]}")
            time.sleep(1)
        yield client
    finally:
        _stop(process, state, names)


def _stop(process, state: Path, names: dict) -> None:
    people = [names["instructor"], *names["students"], names["grader"]]
    uids = {pwd.getpwnam(name).pw_uid for name in people if account_exists(name)}
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGTERM)  # the hub stops the servers and the proxy it started
        try:
            process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    proxy_pid = state / "jupyterhub-proxy.pid"  # the hub stops its proxy; should it not have, by its id
    if proxy_pid.is_file() and proxy_pid.read_text().strip().isdigit():
        _end(int(proxy_pid.read_text().strip()))
    for pid in pids_of(uids):  # anything the accounts still run (a kernel): ended by its id
        _end(pid)
    remove_accounts(names)
    subprocess.run(["rm", "-rf", str(state)], check=False)
