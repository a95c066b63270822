"""A submission's files, read as data: never a link followed, never a special file opened.

A submission folder belongs to the student (or to whatever the student's kernel left in it). The
grader runs as the instructor, who can read the course's ``solutions/``, the other students'
submissions and the class gradebook. Had the grader followed a symbolic link, a submission holding
``answer.ipynb -> ../../solutions/...`` would be graded on the instructor's solution, and one
holding ``data.csv -> /path/to/gradebook.db`` would carry the class's grades into its job. So:

- only *regular* files are read, each opened with ``O_NOFOLLOW`` and checked again on the open
  descriptor (a file swapped for a link between the look and the open is refused, not followed);
- a symbolic link, a hard link (a regular file with more than one name: it may be another
  person's file), a device, a FIFO or a socket is *refused*: named in the result, never read;
- folders are walked without following links, and at most ``max_bytes`` are read in all.

The same rules serve every place that reads a folder a kernel or a student could have written.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

# Folders a notebook server leaves behind, never part of the work.
SKIPPED_FOLDERS = frozenset({".ipynb_checkpoints", "__pycache__"})


class TooBig(Exception):
    """The folder holds more than the reader may take."""


@dataclass
class FolderContents:
    """What :func:`read_folder` found: ``files`` ``{relative path: bytes}``, and ``refused``, one
    sentence per entry that was not read (a link, a special file), in the folder's order."""

    files: dict = field(default_factory=dict)
    refused: list = field(default_factory=list)
    size: int = 0  # bytes of the regular files, read or (past a budget) only counted


def is_read(info: os.stat_result) -> bool:
    """Whether an entry is read: a regular file with one name."""
    return stat.S_ISREG(info.st_mode) and info.st_nlink == 1


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _refusal(path: Path, relative: str, info: os.stat_result) -> str:
    if stat.S_ISLNK(info.st_mode):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        return f"{relative} is a symbolic link (to {target}): links are not followed"
    if stat.S_ISREG(info.st_mode):
        return (f"{relative} is a hard link ({info.st_nlink} names for one file): it may be someone else's file, "
                "so it was not read")
    return f"{relative} is {_kind(info.st_mode)}: only regular files are read"


def read_regular_file(path: Path, max_bytes: int | None = None) -> bytes:
    """The bytes of ``path`` if it is a regular file with one name, else ``OSError``; never through a
    link (``O_NOFOLLOW``), never blocking on a FIFO (``O_NONBLOCK``), at most ``max_bytes``
    (``TooBig`` past that)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(descriptor)
        if not is_read(info):
            raise OSError(f"{path} is not a regular file with one name")
        if max_bytes is not None and info.st_size > max_bytes:
            raise TooBig(f"{path} holds {info.st_size} bytes, more than {max_bytes}")
        chunks, left = [], (info.st_size if max_bytes is None else max_bytes) + 1
        while left > 0:  # a file that grows while it is read stops at the budget
            chunk = os.read(descriptor, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if max_bytes is not None and len(data) > max_bytes:
            raise TooBig(f"{path} grew past {max_bytes} bytes while it was read")
        return data
    finally:
        os.close(descriptor)


def walk(folder: Path):
    """``(path, relative posix path, lstat)`` of every entry under ``folder``, sorted, without following
    links, skipping :data:`SKIPPED_FOLDERS`; folders themselves are walked, not yielded."""
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except (FileNotFoundError, NotADirectoryError):
        return
    pending = [(entry, entry.name) for entry in entries]
    while pending:
        entry, relative = pending.pop(0)
        info = entry.stat(follow_symlinks=False)
        if stat.S_ISDIR(info.st_mode):
            if entry.name in SKIPPED_FOLDERS:
                continue
            children = sorted(os.scandir(entry.path), key=lambda child: child.name)
            pending[:0] = [(child, f"{relative}/{child.name}") for child in children]
            continue
        yield Path(entry.path), relative, info


def read_folder(folder: Path, max_bytes: int | None = None, skip_notebooks: bool = False,
                budget_spares_notebooks: bool = False) -> FolderContents:
    """Every regular file under ``folder`` as data, and what was refused.

    With ``max_bytes``: the files are read, in order, while their total stays within it; those past
    it are left out (use :func:`folder_size` first to refuse a folder that is too big as a whole).
    ``budget_spares_notebooks``: notebooks are always read and count nothing against it."""
    found = FolderContents()
    spent = 0
    for path, relative, info in walk(Path(folder)):
        notebook = relative.endswith(".ipynb")
        if skip_notebooks and notebook:
            continue
        if not is_read(info):
            found.refused.append(_refusal(path, relative, info))
            continue
        found.size += info.st_size
        counted = max_bytes is not None and not (notebook and budget_spares_notebooks)
        if counted and spent + info.st_size > max_bytes:
            continue
        try:
            found.files[relative] = read_regular_file(path, max_bytes if counted else None)
        except TooBig:
            continue
        except OSError as exc:  # swapped for a link or a special file since the walk
            found.refused.append(f"{relative} changed while it was read ({exc.strerror or exc}): not read")
            continue
        spent += len(found.files[relative]) if counted else 0
    return found


def folder_size(folder: Path) -> int:
    """Bytes of the files under ``folder`` that :func:`read_folder` would read (links and special files count nothing)."""
    return sum(info.st_size for _, _, info in walk(Path(folder)) if is_read(info))


def write_new_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a file that must not exist yet (never through a link left at ``path``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def write_tree(folder: Path, files: dict) -> None:
    """Write ``{relative path: bytes}`` under ``folder``, refusing any path that would leave it."""
    root = Path(folder)
    for relative, data in files.items():
        parts = Path(relative).parts
        if not parts or Path(relative).is_absolute() or ".." in parts:
            raise ValueError(f"refused to write {relative!r}: not a path inside {root}")
        write_new_file(root.joinpath(*parts), data)
