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

# Audit events that change the file system: for each, (position of a path, position of the
# descriptor of the folder it is relative to, or None). A path may also be an open descriptor.
_PATH_EVENTS = {
    "os.remove": ((0, 1),), "os.rmdir": ((0, 1),), "os.mkdir": ((0, 2),), "os.rename": ((0, 2), (1, 3)),
    "os.link": ((1, 3),), "os.symlink": ((1, 2),), "os.truncate": ((0, None),), "os.chmod": ((0, 2),),
    "os.chown": ((0, 3),), "os.utime": ((0, 3),),
    "shutil.rmtree": ((0, None),), "shutil.copyfile": ((1, None),), "shutil.copytree": ((1, None),),
    "shutil.move": ((1, None),),
    # SQLite writes through C, not open(): without this, a submission could edit the class gradebook.
    "sqlite3.connect": ((0, None),),
}
# SQLite's authorizer codes (sqlite3.SQLITE_ATTACH and friends, named here to import nothing early).
_SQLITE_ATTACH, _SQLITE_OK, _SQLITE_DENY = 24, 0, 1
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
# Devices that every program writes to.
_ALWAYS_WRITABLE = ("/dev/null", "/dev/shm", "/dev/tty", "/dev/stdout", "/dev/stderr")


def _inside(path: str, folders) -> bool:
    return any(path == folder or path.startswith(folder.rstrip(os.sep) + os.sep) for folder in folders)


def _resolve(path, dir_fd=None) -> str:
    """The real absolute path of ``path`` (a name, or an open descriptor), relative to the folder open
    as ``dir_fd`` when one is given (the ``*at`` calls), else to the working folder."""
    if isinstance(path, int):
        return os.readlink(f"/proc/self/fd/{path}")
    path = os.fsdecode(path)
    if dir_fd is not None and dir_fd >= 0 and not os.path.isabs(path):
        path = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), path)
    return os.path.realpath(path)


def _sqlite_file(name) -> str | None:
    """The file a ``sqlite3.connect`` name would write: none for ``:memory:`` or a read-only URI."""
    name = os.fsdecode(name)
    if name in (":memory:", ""):
        return None
    if name.startswith("file:"):
        parts = urllib.parse.urlsplit(name)
        if "ro" in urllib.parse.parse_qs(parts.query).get("mode", []):
            return None
        return parts.path
    return name


def _writes(event: str, args) -> list[str]:
    """The resolved paths an audited call would change (empty for a read or an unrelated event)."""
    if event == "open":
        path, mode, flags = args
        writing = (mode is not None and any(letter in mode for letter in "wax+")) or (
            mode is None and flags is not None and flags & _WRITE_FLAGS
        )
        return [_resolve(path)] if writing and isinstance(path, (str, bytes, os.PathLike)) else []
    if event == "sqlite3.connect":
        name = _sqlite_file(args[0]) if args and isinstance(args[0], (str, bytes, os.PathLike)) else None
        return [] if name is None else [_resolve(name)]
    paths = []
    for position, folder in _PATH_EVENTS.get(event, ()):
        path = args[position] if position < len(args) else None
        if isinstance(path, (str, bytes, os.PathLike, int)) and not isinstance(path, bool):
            paths.append(_resolve(path, args[folder] if folder is not None and folder < len(args) else None))
    return paths


def install_fence(sandbox: str, violations_file: str) -> None:
    """Refuse, from now on, every Python-level change to the file system outside the folders
    of ``sandbox`` (separated by ``os.pathsep``)."""
    allowed = [os.path.realpath(folder) for folder in sandbox.split(os.pathsep)] + list(_ALWAYS_WRITABLE)
    log = open(violations_file, "a", buffering=1, encoding="utf-8")  # opened before the fence goes up
    dumps = json.dumps

    def refuse_outside(event: str, resolved: str) -> None:
        if not _inside(resolved, allowed):
            log.write(dumps({"event": event, "path": resolved}) + "\n")
            raise PermissionError(f"grading: this submission may only write inside its own folder, not to {resolved}")

    def authorize_sqlite(action, name, *_):
        # ATTACH opens a second database file through a connection that was allowed (":memory:").
        if action == _SQLITE_ATTACH and _sqlite_file(name or "") is not None:
            try:
                refuse_outside("sqlite3 ATTACH", _resolve(_sqlite_file(name)))
            except PermissionError:
                return _SQLITE_DENY
        return _SQLITE_OK

    def fence(event, args):
        for resolved in _writes(event, args):
            refuse_outside(event, resolved)

    sys.addaudithook(fence)
    _guard_unaudited_calls(refuse_outside)
    _guard_sqlite_attach(authorize_sqlite)


def _guard_sqlite_attach(authorize) -> None:
    """Every connection made with ``sqlite3.connect`` gets ``authorize`` as its authorizer (it refuses
    ``ATTACH`` of a file outside the folder), whatever ``factory`` the caller asks for."""
    import sqlite3
    import sqlite3.dbapi2

    original = sqlite3.connect

    def connect(*args, factory=sqlite3.Connection, **kwargs):
        connection = original(*args, factory=factory, **kwargs)
        connection.set_authorizer(authorize)
        return connection

    connect.__doc__ = original.__doc__
    sqlite3.connect = sqlite3.dbapi2.connect = connect


def _guard_unaudited_calls(refuse_outside) -> None:
    """Check the writes that raise no audit event: ``os.open`` relative to a folder descriptor (its
    event names the path but not the folder) and ``mkfifo``/``mknod``. The functions are replaced in
    ``os`` and ``posix``, where code finds them; this is a fence for careless code, not a sandbox."""
    import posix

    def checked(original, event, path_position=0):
        def call(*args, dir_fd=None, **kwargs):
            writes = event != "open" or (len(args) > 1 and args[1] & _WRITE_FLAGS)
            if writes and (dir_fd is not None or event != "open"):
                refuse_outside(event, _resolve(args[path_position], dir_fd))
            return original(*args, dir_fd=dir_fd, **kwargs) if dir_fd is not None else original(*args, **kwargs)

        call.__name__, call.__doc__ = original.__name__, original.__doc__
        return call

    for name, event in (("open", "open"), ("mkfifo", "os.mkfifo"), ("mknod", "os.mknod")):
        original = getattr(posix, name, None)
        if original is not None:
            replacement = checked(original, event)
            setattr(posix, name, replacement)
            setattr(os, name, replacement)


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
