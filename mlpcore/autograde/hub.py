"""``make hub``: the course on a local JupyterHub, with an instructor and two students of its own.

What it sets up (as root: real local accounts, so each student's files are their own):

- accounts: ``mlpcore-instructor``, ``mlpcore-student1``, ``mlpcore-student2``, and ``grader-mlpcore``, the
  account the course's formgrader runs as (nbgrader's multi-user set-up: one grader account per course).
  Homes are private (mode 700). Each person gets a random password, shown once by ``make hub``;
- the exchange: ``STATE/exchange`` (mode 1777, nbgrader's requirement: every account writes there, none
  deletes another's files); nbgrader itself makes the course's ``inbound`` folder write-only for
  students when the instructor first releases, so no student can list another's submissions;
- the course for the grader: ``STATE/course`` (``nbgrader_config.py``, ``solutions/``, ``course/``, the
  grading folder) owned by ``grader-mlpcore``. Its ``nbgrader_config.py`` is the repository's, so every
  grading door runs mlpcore's trusted pipeline;
- the hub (:func:`configure`): JupyterLab for everyone with the course's one BLAS thread per kernel,
  nbgrader's Assignment List and Validate, without formgrader or Create Assignment; formgrader as a
  hub-managed service named after the course (``/services/mlpcore/formgrader``), open to the group
  ``formgrade-mlpcore`` (the instructor) through a JupyterHub role.

The authenticator is :class:`~mlpcore.autograde.hub_auth.PasswordFileAuthenticator`: a password per account, kept in a file only
root reads, on a hub that listens on 127.0.0.1 alone. The README shows what to use in production.
"""

from __future__ import annotations

import argparse
import grp
import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

from .. import course, threads
from .exchange import COURSE_ID, STUDENT_FOLDER_VARIABLE
from .lab import STUDENT_CONFIG

DEFAULT_PORT = 8765  # the hub's address; the hub API, the proxy API and formgrader take the next three
INSTRUCTOR_GROUP = f"formgrade-{COURSE_ID}"  # nbgrader's names for a course's groups
STUDENT_GROUP = f"nbgrader-{COURSE_ID}"
REPOSITORY = Path(__file__).resolve().parents[2]
CONFIG_FILE = Path(__file__).with_name("hub_config.py")


class HubNeedsRoot(RuntimeError):
    """The hub's accounts cannot be made, or its servers started as them, without root."""


def accounts(prefix: str = "mlpcore", students: int = 2) -> dict:
    """The hub's account names: ``{"instructor": ..., "students": [...], "grader": ...}``."""
    return {"instructor": f"{prefix}-instructor", "students": [f"{prefix}-student{i}" for i in range(1, students + 1)],
            "grader": f"grader-{prefix}"}


def _people(names: dict) -> list[str]:
    return [names["instructor"], *names["students"]]


def account_exists(account: str) -> bool:
    try:
        pwd.getpwnam(account)
        return True
    except KeyError:
        return False


def _make_account(account: str) -> Path:
    """A local account with a private home (created when missing); its home."""
    if not account_exists(account):
        subprocess.run(["useradd", "--create-home", "--user-group", "--shell", "/bin/bash", account], check=True,
                       capture_output=True)
    home = Path(pwd.getpwnam(account).pw_dir)
    home.mkdir(exist_ok=True)
    os.chown(home, pwd.getpwnam(account).pw_uid, pwd.getpwnam(account).pw_gid)
    home.chmod(0o700)  # each student's files are their own
    return home


def _chown_tree(folder: Path, account: str) -> None:
    entry = pwd.getpwnam(account)
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def _check_reachable(path: Path) -> None:
    """Every account runs this Python (its interpreter and standard library too) and reads the
    repository: each folder above them must let them in."""
    for folder in [path, *path.parents]:
        if folder.is_dir() and not folder.stat().st_mode & 0o001:
            raise HubNeedsRoot(f"the hub's accounts cannot reach {path}: {folder} is not open to other users "
                               f"(mode {oct(folder.stat().st_mode & 0o777)}). make hub builds .hub/venv from "
                               "HUB_PYTHON (default /usr/bin/python3), a Python every account can run; clone the "
                               "repository where they can read it too")


def setup(state: Path, root: Path = REPOSITORY, names: dict | None = None, port: int = DEFAULT_PORT) -> dict:
    """Accounts, passwords, the exchange, the grader's course and ``STATE/hub.json``; returns the settings."""
    if os.geteuid() != 0:
        raise HubNeedsRoot("make hub makes a local account for the instructor and for each student, so that each "
                           "student's files are their own, and starts their servers as them: run it as root "
                           "(sudo make hub), in a container or a virtual machine you can spare")
    names = names or accounts()
    state = Path(state).resolve()
    for needed in (Path(sys.executable).parent, Path(sys.executable).resolve(), Path(sys.base_prefix), root):
        _check_reachable(needed)
    state.mkdir(parents=True, exist_ok=True)
    state.chmod(0o755)
    homes = {account: str(_make_account(account)) for account in [*_people(names), names["grader"]]}

    passwords_file = state / "passwords.json"
    known = json.loads(passwords_file.read_text()) if passwords_file.is_file() else {}
    passwords = {account: known.get(account) or secrets.token_urlsafe(12) for account in _people(names)}
    passwords_file.touch(mode=0o600)
    passwords_file.chmod(0o600)
    passwords_file.write_text(json.dumps(passwords, indent=1))

    exchange = state / "exchange"
    exchange.mkdir(exist_ok=True)
    exchange.chmod(0o1777)  # nbgrader: every account writes here; the sticky bit keeps each one's files its own

    grader_course = state / "course"
    grader_course.mkdir(exist_ok=True)
    shutil.copy2(root / course.CONFIG_FILE, grader_course / course.CONFIG_FILE)
    for part in (course.SOURCE_DIRECTORY, course.RELEASE_DIRECTORY):
        shutil.copytree(root / part, grader_course / part, dirs_exist_ok=True)
    (grader_course / "grading").mkdir(exist_ok=True)
    _chown_tree(grader_course, names["grader"])
    grader_course.chmod(0o700)  # solutions and hidden tests: the grader's alone

    settings = {"port": port, "state": str(state), "exchange": str(exchange), "course": str(grader_course),
                "python_bin": str(Path(sys.executable).parent), "passwords_file": str(passwords_file),
                "proxy": str(root / ".hub" / "node_modules" / ".bin" / "configurable-http-proxy"),
                "accounts": names, "homes": homes}
    (state / "hub.json").write_text(json.dumps(settings, indent=1))
    return settings


def remove_accounts(names: dict) -> None:
    """Delete the hub's accounts and their homes (tests make their own and clean up after them)."""
    for account in [*_people(names), names["grader"]]:
        if account_exists(account):
            subprocess.run(["userdel", "--remove", account], capture_output=True)
        try:
            grp.getgrnam(account)
            subprocess.run(["groupdel", account], capture_output=True)
        except KeyError:
            pass


def kernel_environment(settings: dict) -> dict:
    """What every single-user server and its kernels get: the course's BLAS threads, the exchange, the
    students' Jupyter configuration (Validate and the Assignment List; no formgrader, no Create Assignment)."""
    return {**threads.kernel_environment({}), "MLPCORE_EXCHANGE": settings["exchange"],
            "JUPYTER_CONFIG_PATH": str(STUDENT_CONFIG),
            "PATH": os.pathsep.join([settings["python_bin"], "/usr/local/bin", "/usr/bin", "/bin"])}


def configure(c, settings: dict) -> None:
    """The hub's configuration (``c``: traitlets' config of ``jupyterhub_config.py``) from ``setup``'s settings."""
    port, state, names = settings["port"], Path(settings["state"]), settings["accounts"]
    python_bin = Path(settings["python_bin"])
    c.JupyterHub.ip = "127.0.0.1"
    c.JupyterHub.port = port
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = port + 1
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{port + 2}"
    c.ConfigurableHTTPProxy.command = [settings["proxy"]]
    c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
    c.JupyterHub.authenticator_class = "mlpcore.autograde.hub_auth.PasswordFileAuthenticator"
    c.PasswordFileAuthenticator.passwords_file = settings["passwords_file"]
    c.Authenticator.allowed_users = set(_people(names))

    # Everyone's JupyterLab, as the account itself, in its private home.
    c.Spawner.cmd = [str(python_bin / "jupyterhub-singleuser")]
    c.Spawner.default_url = "/lab"
    c.Spawner.notebook_dir = "~"
    c.Spawner.environment = kernel_environment(settings)
    c.Spawner.pre_spawn_hook = _assignment_folder
    # A class logging in at once on a small machine: 20 servers starting together on two busy cores took
    # longer than JupyterHub's 30 s to answer (benchmarks/hub_load.py), and the hub gave up on them.
    c.Spawner.http_timeout = 180
    c.Spawner.start_timeout = 240

    # nbgrader's groups, and formgrader as the course's service, reached through the hub's login by its group.
    c.JupyterHub.load_groups = {INSTRUCTOR_GROUP: {"users": [names["instructor"]]},
                                STUDENT_GROUP: {"users": list(names["students"])}}
    c.JupyterHub.load_roles = [{"name": f"grade-{COURSE_ID}", "groups": [INSTRUCTOR_GROUP],
                                "scopes": [f"access:services!service={COURSE_ID}"]}]
    c.JupyterHub.services = [{
        "name": COURSE_ID,
        "url": f"http://127.0.0.1:{port + 3}",
        "command": [str(python_bin / "jupyterhub-singleuser"), f"--ServerApp.root_dir={settings['course']}",
                    "--ServerApp.default_url=/formgrader"],
        "user": names["grader"],
        "cwd": settings["course"],  # nbgrader reads nbgrader_config.py from here
        "environment": {**threads.kernel_environment({}), "MLPCORE_EXCHANGE": settings["exchange"],
                        "PATH": os.pathsep.join([str(python_bin), "/usr/local/bin", "/usr/bin", "/bin"])},
        "oauth_no_confirm": True,
    }]


def _assignment_folder(spawner) -> None:
    """The Assignment List fetches into, and submits from, the folder the file browser shows: the home."""
    home = pwd.getpwnam(spawner.user.name).pw_dir
    spawner.environment = {**spawner.environment, STUDENT_FOLDER_VARIABLE: home}


def login_lines(settings: dict) -> list[str]:
    names, passwords = settings["accounts"], json.loads(Path(settings["passwords_file"]).read_text())
    url = f"http://127.0.0.1:{settings['port']}"
    return [f"The course's JupyterHub: {url}/hub/login (listening on 127.0.0.1 only)",
            *(f"  {role:<10} {account:<20} password {passwords[account]}" for role, account in
              [("instructor", names["instructor"]), *(("student", s) for s in names["students"])]),
            f"Formgrader (the instructor): {url}/services/{COURSE_ID}/formgrader",
            f"Passwords: {settings['passwords_file']} (root only). Stop the hub with Ctrl-C."]


def hub_command(settings: dict) -> tuple[list[str], dict]:
    """The ``jupyterhub`` command line and environment for the hub of ``settings``."""
    environment = {**os.environ, "MLPCORE_HUB_STATE": settings["state"]}
    environment["PATH"] = os.pathsep.join([settings["python_bin"], environment.get("PATH", "")])
    argv = [str(Path(settings["python_bin"]) / "jupyterhub"), "-f", str(CONFIG_FILE)]
    return argv, environment


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlpcore.autograde.hub", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["run", "setup", "remove-accounts"])
    parser.add_argument("--state", type=Path, default=REPOSITORY / ".hub" / "state", help="the hub's folder")
    parser.add_argument("--port", type=int, default=int(os.environ.get("MLPCORE_HUB_PORT") or DEFAULT_PORT))
    args = parser.parse_args(argv)
    if args.action == "remove-accounts":
        remove_accounts(accounts())
        return 0
    try:
        settings = setup(args.state, port=args.port)
    except HubNeedsRoot as error:
        print(f"make hub: {error}", file=sys.stderr)
        return 2
    if not Path(settings["proxy"]).exists():
        print(f"make hub: {settings['proxy']} is missing: make hub installs it (npm install --prefix .hub "
              "configurable-http-proxy)", file=sys.stderr)
        return 2
    print("\n".join(login_lines(settings)), flush=True)
    if args.action == "run":
        command, environment = hub_command(settings)
        os.chdir(settings["state"])
        os.execve(command[0], command, environment)
    return 0


if __name__ == "__main__":
    sys.exit(main())
