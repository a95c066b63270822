"""The operating-system sandbox around a grading kernel: bubblewrap (``bwrap``).

The kernel's audit-hook fence (:mod:`mlpcore.autograde.kernel`) stops careless writes but not
code that goes to C directly. Inside bubblewrap the kernel instead sees a file system made for it:

- the Python environment, the ``mlpcore`` package and the system's libraries, read-only;
- its own writable folders (the autograded copy of the submission it runs in, a home for IPython
  and matplotlib, the folder of its connection file and sockets) and a private ``/tmp`` of limited size;
- nothing else: not the course's ``solutions/``, the gradebooks, the grading folder, the job's
  other files or other students' submissions;
- no network (its own network namespace, so the kernel talks to the grader through Unix sockets),
  its own PID namespace (it cannot see or signal the grader or other students' kernels, and
  everything it starts ends with it), no capabilities, a session of its own.

``--sandbox auto`` (the default of ``mlpcore grade``) uses bubblewrap when it runs here and the
fence alone otherwise, and says so; ``bwrap`` insists on it; ``none`` is the fence alone.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

CHOICES = ("auto", "bwrap", "none")
BWRAP, NONE = "bwrap", "none"
DEFAULT_TMP_MB = 256
# The kernel's temporary folder (TMPDIR), inside its private /tmp. Not /tmp itself: the fence still
# reports Python writes elsewhere in /tmp, as it does without a sandbox.
PRIVATE_TMP = "/tmp/kernel"
INSTALL_HINT = "install bubblewrap (Debian and Ubuntu: apt-get install bubblewrap)"
# The system folders a Python process needs (some are links into /usr on merged-/usr systems).
SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Of /etc, only what programs read to start: no keys, no passwords' hashes, no host configuration.
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/passwd",
                "/etc/group", "/etc/nsswitch.conf", "/etc/alternatives", "/etc/fonts", "/etc/mime.types")


def bwrap_options(read_only, writable, tmp_mb: int = DEFAULT_TMP_MB) -> list[str]:
    """The ``bwrap`` command line (up to, and including, ``--``) for a kernel that may read
    ``read_only`` and write ``writable`` (folders or files, bound at the same paths)."""
    options = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
               "--proc", "/proc", "--dev", "/dev", "--size", str(int(tmp_mb) * 2**20), "--tmpfs", "/tmp",
               # The kernel's parent (the grader) is outside its PID namespace: without this, IPython
               # would watch a process it cannot see and shut down at once. --die-with-parent does that job.
               "--unsetenv", "JPY_PARENT_PID", "--dir", PRIVATE_TMP]
    for path in SYSTEM_FOLDERS + SYSTEM_FILES:
        options += ["--ro-bind-try", path, path]
    for path in _outermost(read_only):
        options += ["--ro-bind", str(path), str(path)]
    for path in writable:  # after the read-only ones: a writable folder may lie inside one of them
        options += ["--bind", str(path), str(path)]
    return options + ["--"]


def python_paths() -> list[Path]:
    """What this Python needs to run, to be bound read-only: its environment, the interpreter it was
    made from, and the folder ``mlpcore`` is imported from (an editable install points into a source
    checkout: only the package itself is bound, not the checkout with its solutions)."""
    import mlpcore

    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent.parent,
             Path(mlpcore.__file__).resolve().parent}
    return sorted(path.resolve() for path in paths if path.exists())


def _outermost(paths) -> list[Path]:
    """``paths`` without those inside another one of them (bound once, by the outer folder)."""
    paths = sorted({Path(path).resolve() for path in paths})
    return [path for path in paths if not any(other != path and other in path.parents for other in paths)]


@functools.lru_cache(maxsize=None)
def bwrap_problem() -> str | None:
    """Why bubblewrap cannot sandbox a Python process here, or ``None`` when it can (tried for real:
    an installed ``bwrap`` may still be refused namespaces, in a container for instance)."""
    if shutil.which("bwrap") is None:
        return f"bwrap is not installed ({INSTALL_HINT})"
    command = bwrap_options(python_paths(), []) + [sys.executable, "-c", "import mlpcore"]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not be run: {exc}"
    if run.returncode != 0:
        return f"bwrap failed here: {(run.stderr or run.stdout).strip()[-300:] or f'exit status {run.returncode}'}"
    return None


def resolve(choice: str) -> str:
    """``bwrap`` or ``none`` for ``--sandbox CHOICE``; ``bwrap`` where it cannot run is an error."""
    if choice not in CHOICES:
        raise ValueError(f"--sandbox should be one of {', '.join(CHOICES)}, got {choice!r}")
    if choice == NONE:
        return NONE
    problem = bwrap_problem()
    if problem is None:
        return BWRAP
    if choice == BWRAP:
        raise RuntimeError(f"--sandbox bwrap: {problem}; or grade with --sandbox none (the fence alone)")
    return NONE


def describe(mode: str) -> str:
    """A line for the command's output and the report."""
    if mode == BWRAP:
        return "every kernel ran in a bubblewrap sandbox (no network, own processes, read-only environment)"
    problem = bwrap_problem()
    return ("NOT SANDBOXED: kernels ran with the file-system fence only"
            + (f" ({problem})" if problem else " (--sandbox none)"))


def seed_matplotlib_cache(home: Path) -> Path:
    """A matplotlib configuration folder in the kernel's home, with the grader's font cache copied in
    (building it takes seconds per kernel); returns the folder for ``MPLCONFIGDIR``."""
    folder = home / "matplotlib"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import matplotlib

        for cached in Path(matplotlib.get_cachedir()).glob("fontlist-*.json"):
            shutil.copy(cached, folder / cached.name)
    except Exception:  # no cache to copy: matplotlib builds one in the kernel
        pass
    return folder


def environment_home(home: Path) -> dict:
    """The variables that point a sandboxed kernel's caches and configuration at its own home."""
    return {"HOME": str(home), "MPLCONFIGDIR": str(seed_matplotlib_cache(home)),
            "XDG_CACHE_HOME": str(home / ".cache")}


if __name__ == "__main__":  # python -m mlpcore.autograde.sandbox: can this machine sandbox kernels?
    print(bwrap_problem() or "bubblewrap works here: mlpcore grade sandboxes every kernel")
    sys.exit(0 if bwrap_problem() is None else 1)
