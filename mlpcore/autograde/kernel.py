"""The kernel that runs a submission: IPython with a memory limit and a fence around the file system.

``python -m mlpcore.autograde.kernel -f CONNECTION_FILE`` starts an ordinary
IPython kernel after three precautions, read from the environment that the
grading kernel spec sets:

``MLPCORE_KERNEL_MEMORY_MB``
    the address-space limit (``RLIMIT_AS``): an allocation beyond it raises
    ``MemoryError`` in the learner's cell (or kills the kernel), never the machine.
``MLPCORE_KERNEL_SANDBOX``
    the only folders the submission may write to (its own copy, and its temporary
    files), separated by ``os.pathsep``. A write, delete, rename or folder creation anywhere else raises
    ``PermissionError`` in the learner's cell and is recorded in
    ``MLPCORE_KERNEL_VIOLATIONS`` (one JSON line each), so that the grader can
    report it.
``RLIMIT_CORE`` is 0 (a segfault leaves no core file) and ``RLIMIT_FSIZE`` caps a
single file at ``MLPCORE_KERNEL_FILE_MB``.

This is a fence against accidents and careless code, not a security sandbox: the
fence is a Python audit hook, which code that reaches C directly (ctypes, a shell
command) can step around. Run untrusted classes in containers (see the README).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import urllib.parse

MEMORY_ENV = "MLPCORE_KERNEL_MEMORY_MB"
SANDBOX_ENV = "MLPCORE_KERNEL_SANDBOX"
VIOLATIONS_ENV = "MLPCORE_KERNEL_VIOLATIONS"
FILE_SIZE_ENV = "MLPCORE_KERNEL_FILE_MB"

# Audit events that change the file system, and which of their arguments are paths.
_PATH_EVENTS = {
    "os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,), "os.rename": (0, 1), "os.link": (0, 1),
    "os.symlink": (1,), "os.truncate": (0,), "os.chmod": (0,), "os.chown": (0,), "os.utime": (0,),
    "shutil.rmtree": (0,), "shutil.copyfile": (1,), "shutil.copytree": (1,), "shutil.move": (1,),
    # SQLite writes through C, not open(): without this, a submission could edit the class gradebook.
    "sqlite3.connect": (0,),
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
# Devices that every program writes to.
_ALWAYS_WRITABLE = ("/dev/null", "/dev/shm", "/dev/tty", "/dev/stdout", "/dev/stderr")


def _inside(path: str, folders) -> bool:
    return any(path == folder or path.startswith(folder.rstrip(os.sep) + os.sep) for folder in folders)


def _writes(event: str, args) -> list:
    """The paths an audited call would change (empty for a read or an unrelated event)."""
    if event == "open":
        path, mode, flags = args
        writing = (mode is not None and any(letter in mode for letter in "wax+")) or (
            mode is None and flags is not None and flags & _WRITE_FLAGS
        )
        return [path] if writing and isinstance(path, (str, bytes, os.PathLike)) else []
    positions = _PATH_EVENTS.get(event)
    if positions is None:
        return []
    paths = [args[i] for i in positions if i < len(args) and isinstance(args[i], (str, bytes, os.PathLike))]
    if event == "sqlite3.connect":  # "file:/path?mode=ro" when uri=True; ":memory:" is no file at all
        paths = [urllib.parse.urlsplit(os.fsdecode(p)).path if os.fsdecode(p).startswith("file:") else p
                 for p in paths if os.fsdecode(p) not in (":memory:", "")]
    return paths


def install_fence(sandbox: str, violations_file: str) -> None:
    """Refuse, from now on, every Python-level change to the file system outside the folders
    of ``sandbox`` (separated by ``os.pathsep``)."""
    allowed = [os.path.realpath(folder) for folder in sandbox.split(os.pathsep)] + list(_ALWAYS_WRITABLE)
    log = open(violations_file, "a", buffering=1, encoding="utf-8")  # opened before the fence goes up
    realpath, fsdecode, dumps = os.path.realpath, os.fsdecode, json.dumps

    def fence(event, args):
        for path in _writes(event, args):
            resolved = realpath(fsdecode(path))
            if not _inside(resolved, allowed):
                log.write(dumps({"event": event, "path": resolved}) + "\n")
                raise PermissionError(f"grading: this submission may only write inside its own folder, not to {resolved}")

    sys.addaudithook(fence)


def apply_limits() -> None:
    memory_mb = int(os.environ.get(MEMORY_ENV, "0"))
    if memory_mb > 0:
        limit = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    file_mb = int(os.environ.get(FILE_SIZE_ENV, "0"))
    if file_mb > 0:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_mb * 2**20, file_mb * 2**20))


def main() -> None:
    apply_limits()
    # matplotlib reads MPLBACKEND once, when it is first imported, and ipykernel sets it (to the
    # inline backend, which sends figures to the notebook) only later, in launch_new_instance.
    # Importing matplotlib below without it would leave the kernel on a headless backend: every
    # figure of the graded notebook lost, and none in the feedback.
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    # Build matplotlib's font cache (if it is missing) before the fence: it lives outside the sandbox.
    import matplotlib.font_manager  # noqa: F401

    sandbox = os.environ.get(SANDBOX_ENV)
    if sandbox:
        install_fence(sandbox, os.environ[VIOLATIONS_ENV])
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
