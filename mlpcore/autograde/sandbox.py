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
import json
import shutil
import subprocess
import sys
from pathlib import Path

from ..schema import GradingSettings

CHOICES = ("auto", "bwrap", "none")
BWRAP, NONE, SECCOMP = "bwrap", "none", "seccomp"
FULL = f"{BWRAP}+{SECCOMP}"  # bubblewrap, and no process can be started
DEFAULT_TMP_MB = GradingSettings.tmp_mb
# The kernel's temporary folder (TMPDIR), inside its private /tmp. Not /tmp itself: the fence still
# reports Python writes elsewhere in /tmp, as it does without a sandbox.
PRIVATE_TMP = "/tmp/kernel"
INSTALL_HINT = "install bubblewrap (Debian and Ubuntu: apt-get install bubblewrap)"
SECCOMP_HINT = "it needs Linux, libseccomp (Debian and Ubuntu: apt-get install libseccomp2) and pyseccomp"
# The system folders a Python process needs (some are links into /usr on merged-/usr systems).
SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Of /etc, only what programs read to start: no keys, no passwords' hashes, no host configuration.
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/passwd",
                "/etc/group", "/etc/nsswitch.conf", "/etc/alternatives", "/etc/fonts", "/etc/mime.types")


def bwrap_options(read_only, writable, tmp_mb: int = DEFAULT_TMP_MB, private=(), seeds=(),
                  chdir: Path | None = None) -> list[str]:
    """The ``bwrap`` command line (up to, and including, ``--``) for a kernel that may read
    ``read_only`` and write ``writable`` (folders or files of the grader's, bound at the same paths).

    ``private``: folders that are new inside the sandbox, each an empty tmpfs of ``tmp_mb`` MB
    (the kernel's home and working folder: what it writes there stays in memory it is limited in,
    never reaches the grader's disk, and is gone with the sandbox); ``seeds``: ``(file, inside)``
    pairs bound read-only into them. ``/tmp`` and ``/dev/shm`` are such tmpfs too, and the rest of
    ``/dev`` is read-only."""
    size = ["--size", str(int(tmp_mb) * 2**20)]
    options = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
               "--proc", "/proc", "--dev", "/dev", *size, "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
               *size, "--tmpfs", "/tmp",
               # The kernel's parent (the grader) is outside its PID namespace: without this, IPython
               # would watch a process it cannot see and shut down at once. --die-with-parent does that job.
               "--unsetenv", "JPY_PARENT_PID", "--dir", PRIVATE_TMP]
    for path in SYSTEM_FOLDERS + SYSTEM_FILES:
        options += ["--ro-bind-try", path, path]
    for path in _outermost(read_only):
        options += ["--ro-bind", str(path), str(path)]
    for path in private:
        options += [*size, "--tmpfs", str(path)]
    for source, inside in seeds:
        options += ["--ro-bind", str(source), str(inside)]
    for path in writable:  # after the read-only ones: a writable folder may lie inside one of them
        options += ["--bind", str(path), str(path)]
    if chdir is not None:
        options += ["--chdir", str(chdir)]
    return options + ["--"]


# What a kernel's interpreter has on sys.path at start-up (with the grader's PYTHONPATH), and where
# it finds mlpcore (an editable install's finder maps it into a checkout that is not on sys.path).
_IMPORT_PROBE = ("import importlib.util, json, sys; spec = importlib.util.find_spec('mlpcore'); "
                 "print(json.dumps({'path': sys.path, 'mlpcore': list(spec.submodule_search_locations)}))")
_SITE_FOLDERS = ("site-packages", "dist-packages")


@functools.cache
def _kernel_imports() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(sys.path, mlpcore's folders)`` of a fresh ``python -P -s``, as a grading kernel starts."""
    from .kernel import PYTHON_FLAGS

    run = subprocess.run([sys.executable, *PYTHON_FLAGS, "-c", _IMPORT_PROBE], capture_output=True, text=True,
                         timeout=120, cwd="/")
    if run.returncode != 0:
        raise RuntimeError(f"{sys.executable} cannot import mlpcore: {run.stderr.strip()[-500:]}")
    found = json.loads(run.stdout)
    return tuple(found["path"]), tuple(found["mlpcore"])


def python_paths() -> list[Path]:
    """What a grading kernel's interpreter imports from, to be bound read-only: its environment, the
    interpreter it was made from, every folder on its ``sys.path`` (a venv, conda, a system or user
    site, a ``PYTHONPATH`` entry), and the folder ``mlpcore`` is imported from. A folder on ``sys.path``
    that holds ``mlpcore`` itself is a source checkout (an editable install, or ``PYTHONPATH`` pointing
    at it): of it, only the package is bound, never the checkout with its solutions and grades."""
    search_path, package = _kernel_imports()
    package_folders = {Path(folder).resolve() for folder in package}
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent.parent, *package_folders}
    for entry in search_path:
        entry = Path(entry).resolve() if entry else None
        if entry is None or not entry.exists() or entry == Path("/"):
            continue
        if any(folder.parent == entry for folder in package_folders) and not entry.name.endswith(_SITE_FOLDERS):
            continue  # a checkout: its package is bound above
        paths.add(entry)
    return sorted(path.resolve() for path in paths if path.exists())


def _outermost(paths) -> list[Path]:
    """``paths`` without those inside another one of them (bound once, by the outer folder)."""
    paths = sorted({Path(path).resolve() for path in paths})
    return [path for path in paths if not any(other != path and other in path.parents for other in paths)]


@functools.cache
def bwrap_problem() -> str | None:
    """Why bubblewrap cannot sandbox a Python process here, or ``None`` when it can (tried for real:
    an installed ``bwrap`` may still be refused namespaces, in a container for instance)."""
    from .kernel import PYTHON_FLAGS

    if shutil.which("bwrap") is None:
        return f"bwrap is not installed ({INSTALL_HINT})"
    command = bwrap_options(python_paths(), []) + [sys.executable, *PYTHON_FLAGS, "-c", "import mlpcore"]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not be run: {exc}"
    if run.returncode != 0:
        return f"bwrap failed here: {(run.stderr or run.stdout).strip()[-300:] or f'exit status {run.returncode}'}"
    return None


_BLOCKING_PROBE = """
import os
from mlpcore.autograde.kernel import block_processes
block_processes()
try:
    pid = os.fork()
except PermissionError:
    print("blocked")
else:
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    print("a process was started")
"""


@functools.cache
def process_blocking_problem() -> str | None:
    """Why a grading kernel cannot be kept from starting processes here (its seccomp filter), or ``None``."""
    from .kernel import PYTHON_FLAGS

    try:
        run = subprocess.run([sys.executable, *PYTHON_FLAGS, "-c", _BLOCKING_PROBE], capture_output=True,
                             text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"the probe could not be run: {exc}"
    if run.stdout.strip() != "blocked":
        why = (run.stderr.strip().splitlines() or [run.stdout.strip() or f"exit status {run.returncode}"])[-1]
        return f"the seccomp filter cannot be installed ({why[-300:]}; {SECCOMP_HINT})"
    return None


def full_sandbox_problem() -> str | None:
    """Why the full sandbox (bubblewrap and the process filter) cannot run here, or ``None``."""
    return bwrap_problem() or process_blocking_problem()


def resolve(choice: str) -> str:
    """What ``--sandbox CHOICE`` gives on this machine, as a :func:`label`: ``auto`` is everything that
    works here, ``bwrap`` insists on bubblewrap and on the process filter (an error where either is
    missing), ``none`` is the fence with the process filter where it works."""
    if choice not in CHOICES:
        raise ValueError(f"--sandbox should be one of {', '.join(CHOICES)}, got {choice!r}")
    blocking = process_blocking_problem() is None
    if choice == NONE:
        return label(False, blocking)
    problem = full_sandbox_problem()
    if problem is None:
        return FULL
    if choice == BWRAP:
        raise RuntimeError(f"--sandbox bwrap: {problem}; or grade with --sandbox none (the fence and, where it works, the process filter)")
    return label(bwrap_problem() is None, blocking)


def label(contained: bool, blocking: bool) -> str:
    """What was in force for a job, as recorded in its outcome and ``grades.csv``'s ``sandbox`` column:
    ``bwrap+seccomp`` (the full sandbox), ``bwrap``, ``seccomp`` or ``none``."""
    return "+".join(part for part, used in ((BWRAP, contained), (SECCOMP, blocking)) if used) or NONE


def contained(resolved: str) -> bool:
    return BWRAP in resolved.split("+")


def blocks_processes(resolved: str) -> bool:
    return SECCOMP in resolved.split("+")


def limits(resolved: str, settings: dict) -> list[str]:
    """Each limit a kernel graded with ``settings`` in the sandbox ``resolved`` is held to, in words."""
    found = [f"memory: {settings['memory_mb']} MB of address space (RLIMIT_AS)",
             f"CPU time: {cpu_seconds(settings)} s (RLIMIT_CPU)",
             f"one file: at most {settings['max_file_mb']} MB (RLIMIT_FSIZE)"]
    if blocks_processes(resolved):
        found.append("processes: none can be started (seccomp), so the limits above hold for everything it runs")
    else:
        found.append("processes: NOT blocked: each process the kernel starts has limits of its own")
    if contained(resolved):
        found.append(f"disk: /tmp, /dev/shm, home and working folder each a tmpfs of {settings['tmp_mb']} MB "
                     "(in memory, on top of the memory limit); nothing else writable but its socket folder")
    else:
        found.append("disk: NOT limited (the fence refuses Python's writes outside the job's folders; C code can write anywhere)")
    return found


def cpu_seconds(settings: dict) -> int:
    """A kernel's CPU time: the notebook's time limit, on every core it may use, with some slack."""
    return int(settings["notebook_timeout"]) + 60


def describe(resolved: str, settings: dict | None = None) -> str:
    """A line for the command's output and the report (with the limits, when ``settings`` are given)."""
    if resolved == FULL:
        head = "every kernel ran in a bubblewrap sandbox (no network, own processes, read-only environment, no process started)"
    else:
        missing = [problem for problem in (bwrap_problem() if not contained(resolved) else None,
                                           process_blocking_problem() if not blocks_processes(resolved) else None)
                   if problem]
        head = (("NOT SANDBOXED: kernels ran with the file-system fence only" if not contained(resolved)
                 else "NOT FULLY SANDBOXED: kernels ran in bubblewrap but could start processes")
                + (f" ({'; '.join(missing)})" if missing else " (--sandbox none)"))
    return head if settings is None else head + "; limits per kernel: " + "; ".join(limits(resolved, settings))


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


def main() -> int:
    """``python -m mlpcore.autograde.sandbox``: what ``mlpcore grade`` would hold a kernel to here, with
    its default settings; exit status 0 only where the full sandbox works."""
    resolved = resolve("auto")
    print(describe(resolved))
    for limit in limits(resolved, GradingSettings().to_json()):
        print(f"  {limit}")
    return 0 if resolved == FULL else 1


if __name__ == "__main__":
    sys.exit(main())
