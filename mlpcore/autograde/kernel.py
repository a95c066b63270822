"""The kernel that runs a submission: IPython that starts no process, with limits and a fence.

``python -P -s -m mlpcore.autograde.kernel -f CONNECTION_FILE`` starts an ordinary
IPython kernel after these precautions, read from the environment that the
grading kernel spec sets (``-P -s``: neither the working folder nor the user's site is on
``sys.path`` at start-up, so no file of the submission can stand in for a module of the grader):

``MLPCORE_KERNEL_NO_PROCESSES``
    ``1``: a seccomp filter (libseccomp, through ``pyseccomp``) refuses ``fork``, ``vfork``,
    ``execve`` and every ``clone`` that is not a thread, from the first line on and for every
    thread: the kernel can start no process, so nothing it runs can escape the guard of the
    reference (which lives in this process) or the limits below (which are per process). The kernel
    refuses to start when the filter cannot be installed.
``MLPCORE_KERNEL_SEED``
    a read-only folder of the submission's files: copied (regular files only) into the working
    folder before any of the learner's code runs (in bubblewrap, that folder is a small tmpfs).
``MLPCORE_KERNEL_CPU_SECONDS``
    CPU time for the whole kernel, all its threads together (``RLIMIT_CPU``).

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
from pathlib import Path

MEMORY_ENV = "MLPCORE_KERNEL_MEMORY_MB"
SANDBOX_ENV = "MLPCORE_KERNEL_SANDBOX"
VIOLATIONS_ENV = "MLPCORE_KERNEL_VIOLATIONS"
FILE_SIZE_ENV = "MLPCORE_KERNEL_FILE_MB"
NO_PROCESSES_ENV = "MLPCORE_KERNEL_NO_PROCESSES"
SEED_ENV = "MLPCORE_KERNEL_SEED"
CPU_ENV = "MLPCORE_KERNEL_CPU_SECONDS"
# The start of a grading kernel's command line: isolated from the working folder and the user's site.
PYTHON_FLAGS = ("-P", "-s")
# The modules of the grader that a kernel imports before any learner code, from the installed package:
# later a learner's file of the same name in the working folder cannot replace them.
TRUSTED_MODULES = ("mlpcore", "mlpcore.guard", "mlpcore.grading", "mlpcore.grading.channel")

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


_CLONE_THREAD = 0x00010000  # linux/sched.h: a new thread of this process, not a new process


def block_processes() -> None:
    """From now on, this process and all its threads can start no other process: ``fork``, ``vfork``,
    ``execve``/``execveat`` and a ``clone`` without ``CLONE_THREAD`` fail with ``EPERM``; ``clone3``
    (whose flags a filter cannot read) fails with ``ENOSYS``, on which the C library creates threads
    with ``clone``. A seccomp filter cannot be removed, by this process or by anything after it.
    Raises ``OSError`` (or ``ImportError`` without libseccomp) when the filter cannot be installed."""
    import errno

    import pyseccomp as seccomp

    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    rules.set_attr(seccomp.Attr.CTL_TSYNC, 1)  # every thread, those already started included
    for call in ("fork", "vfork", "execve", "execveat"):
        rules.add_rule(seccomp.ERRNO(errno.EPERM), call)
    rules.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, _CLONE_THREAD, 0))
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    rules.load()


def apply_limits() -> None:
    memory_mb = int(os.environ.get(MEMORY_ENV, "0"))
    if memory_mb > 0:
        limit = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    file_mb = int(os.environ.get(FILE_SIZE_ENV, "0"))
    if file_mb > 0:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_mb * 2**20, file_mb * 2**20))
    cpu_seconds = int(os.environ.get(CPU_ENV, "0"))
    if cpu_seconds > 0:  # SIGXCPU at the soft limit ends the kernel: graded as a kernel that died
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))


def seed_working_folder(seed: str) -> None:
    """Copy the submission's files (regular files only, never a link) from ``seed`` into the working folder."""
    from .files import read_folder, write_tree

    found = read_folder(Path(seed))
    here = Path.cwd()
    for relative in list(found.files):
        if (here / relative).exists():  # a kernel started again after a death keeps what it wrote
            del found.files[relative]
    write_tree(here, found.files)


def main() -> None:
    if os.environ.get(NO_PROCESSES_ENV) == "1":
        try:
            block_processes()
        except Exception as exc:  # a kernel asked to start no process never runs without the filter
            sys.exit(f"mlpcore grading kernel: cannot block process creation here ({type(exc).__name__}: {exc})")
    apply_limits()
    if os.environ.get(SEED_ENV):
        seed_working_folder(os.environ[SEED_ENV])
    # IPython would put the working folder on sys.path before site-packages (a learner's mlpcore/ or
    # numpy.py would shadow the real ones); after everything installed, a learner's helper.py still imports.
    sys.argv.append("--IPKernelApp.ignore_cwd=True")
    sys.path.append(os.getcwd())
    # matplotlib reads MPLBACKEND once, when it is first imported, and ipykernel sets it (to the
    # inline backend, which sends figures to the notebook) only later, in launch_new_instance.
    # Importing matplotlib below without it would leave the kernel on a headless backend: every
    # figure of the graded notebook lost, and none in the feedback.
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    # Build matplotlib's font cache (if it is missing) before the fence: it lives outside the sandbox.
    import matplotlib.font_manager  # noqa: F401
    for module in TRUSTED_MODULES:
        __import__(module)

    sandbox = os.environ.get(SANDBOX_ENV)
    if sandbox:
        install_fence(sandbox, os.environ[VIOLATIONS_ENV])
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
