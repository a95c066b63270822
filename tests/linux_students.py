"""Students with Linux accounts of their own, for tests that run nbgrader's exchange as a class would.

Only root can create accounts: :func:`unavailable` says why they cannot be made here (``None`` where
they can). Each student's commands run as their own uid and group, with a clean environment and
their home as ``HOME`` and working folder.

This test's Python, and the mlpcore it imports, may live where other accounts cannot reach them
(pyenv under ``/root``, mode 700). Each such closed folder is then covered, in the student's own mount
namespace (bubblewrap), by an empty tmpfs that holds only those folders, read-only: nothing else of
it is shown, and nothing on the machine changes but the accounts, which are deleted on the way out.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import mlpcore

# sbin is often missing from a test's PATH, and root's tools live there.
_TOOL_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/bin", "/bin"])
# The folders this Python needs: the virtual environment, the interpreter it was made from, and the
# mlpcore package (outside the environment when installed editable: nbgrader's configuration imports it).
_NEEDED = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(mlpcore.__file__).resolve().parent}
PYTHON_FOLDERS = tuple(sorted(f for f in _NEEDED if not any(other in f.parents for other in _NEEDED)))


def _tool(name: str) -> str | None:
    return shutil.which(name, path=_TOOL_PATH)


def _closed_ancestor(path: Path) -> Path | None:
    """The outermost folder above ``path`` that other accounts cannot enter (no ``o+x``), if any."""
    for folder in reversed(path.parents):  # from / downwards
        if not os.stat(folder).st_mode & stat.S_IXOTH:
            return folder
    return None


def _covers() -> dict[Path, list[Path]]:
    """Each closed folder above a Python folder -> the Python folders inside it."""
    covers: dict[Path, list[Path]] = {}
    for folder in PYTHON_FOLDERS:
        closed = _closed_ancestor(folder)
        if closed is not None:
            covers.setdefault(closed, []).append(folder)
    return covers


def unavailable() -> str | None:
    """Why students cannot have Linux accounts of their own here, or ``None`` when they can."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "not root: only root can create the students' accounts"
    needed = ["useradd", "userdel", "setpriv"] + (["bwrap"] if _covers() else [])
    missing = [name for name in needed if _tool(name) is None]
    if missing:
        return f"{', '.join(missing)} not found (needed to run commands as other accounts)"
    return None


@dataclass(frozen=True)
class LinuxStudent:
    """A student with an account of their own (``login``, ``uid``, ``gid``) and a home folder."""

    login: str
    uid: int
    gid: int
    home: Path

    def command(self, argv, environment=None) -> list[str]:
        """``argv`` as this student runs it: as their uid, in their home, with a clean environment
        (plus ``environment``, a dict: what the machine sets for every account)."""
        environment = [f"HOME={self.home}", f"USER={self.login}", f"LOGNAME={self.login}", "LANG=C.UTF-8",
                       f"PATH={Path(sys.executable).parent}:/usr/bin:/bin",
                       *(f"{name}={value}" for name, value in (environment or {}).items())]
        as_student = [_tool("setpriv"), f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups",
                      "env", "-i", *environment]
        return [*self._namespace(), *as_student, *map(str, argv)]

    def _namespace(self) -> list[str]:
        """bubblewrap's options that show this Python to the student where its folders are closed
        to other accounts; nothing where they are open."""
        covers = _covers()
        if not covers:
            return []
        options = [_tool("bwrap"), "--dev-bind", "/", "/"]
        for closed, inside in covers.items():
            options += ["--tmpfs", str(closed)]
            made = set()
            for folder in inside:
                # bwrap would make the folders between with mode 700, which the student cannot enter.
                for between in reversed(folder.parents):
                    if closed in between.parents and between not in made:
                        options += ["--perms", "0755", "--dir", str(between)]
                        made.add(between)
                options += ["--ro-bind", str(folder), str(folder)]
        return options + ["--chdir", str(self.home), "--"]


@contextmanager
def shared_folder():
    """A new folder under the system's temporary folder that every account can enter (mode 755),
    removed with everything in it on the way out: pytest's own folders are closed to other accounts."""
    folder = Path(tempfile.mkdtemp(prefix="mlpcore-students-"))
    try:
        folder.chmod(0o755)
        closed = _closed_ancestor(folder)
        if closed is not None:
            raise RuntimeError(f"{folder} lies in {closed}, which other accounts cannot enter: "
                               "set TMPDIR to a folder they can (such as /tmp)")
        yield folder
    finally:
        shutil.rmtree(folder)


def _checked(argv) -> None:
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"{argv} failed ({done.returncode}): {done.stdout}{done.stderr}")


@contextmanager
def linux_students(names, homes_under: Path):
    """Accounts ``mlpcore-<name>-<random>`` (name -> :class:`LinuxStudent`), each with a home
    ``homes_under/<login>`` only they can enter; the accounts are deleted on the way out, however
    the block ends. ``homes_under`` must be a folder other accounts can enter."""
    students, created = {}, []
    try:
        for name in names:
            login = f"mlpcore-{name}-{secrets.token_hex(3)}"
            home = homes_under / login
            _checked([_tool("useradd"), "--no-create-home", "--user-group", "--home-dir", home,
                      "--shell", "/usr/sbin/nologin", login])
            created.append(login)
            entry = pwd.getpwnam(login)
            home.mkdir(mode=0o700)
            os.chown(home, entry.pw_uid, entry.pw_gid)
            students[name] = LinuxStudent(login, entry.pw_uid, entry.pw_gid, home)
        yield students
    finally:
        problems = []
        for login in created:
            try:
                _checked([_tool("userdel"), login])  # also deletes the account's own group
            except RuntimeError as error:
                problems.append(str(error))
        if problems:
            raise RuntimeError("could not delete the test's accounts:\n" + "\n".join(problems))
