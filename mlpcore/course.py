"""The course's nbgrader layout, and nbgrader's Python API pointed at it.

A course root holds ``nbgrader_config.py`` (the repository's own: sources in
``solutions/``, the release in ``course/``, work areas under ``grading/``).
:func:`nbgrader_api` loads that file, so that code here and nbgrader's command
line always agree on where things are.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

SOURCE_DIRECTORY = "solutions"
RELEASE_DIRECTORY = "course"
CONFIG_FILE = "nbgrader_config.py"


def assignments(root) -> list[str]:
    """The assignment names: the folders of ``root/solutions`` that hold a notebook, in course order."""
    source = Path(root) / SOURCE_DIRECTORY
    return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def notebooks(root, assignment: str, directory: str = SOURCE_DIRECTORY) -> list[Path]:
    """The notebooks of one assignment in ``directory`` (the source by default)."""
    return sorted((Path(root) / directory / assignment).glob("*.ipynb"))


def load_config(root):
    """The traitlets configuration of ``root/nbgrader_config.py``, or a clear error without one."""
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(root).resolve()
    if not (root / CONFIG_FILE).is_file():
        raise FileNotFoundError(f"{root} has no {CONFIG_FILE}: the course root is the folder that holds it "
                                "(the repository's top level).")
    return PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()


def exercise_files(root) -> dict[str, bytes]:
    """The course's own exercise files (``configure(c, ..., exercises=[...])`` in its nbgrader_config.py),
    ``{file name: contents}``; ``ValueError`` for two files of one name or a file that is missing."""
    files = {}
    for path in map(Path, load_config(root).CourseExercises.get("files", [])):
        if not path.is_file():
            raise ValueError(f"the course's exercise file {path} (in {CONFIG_FILE}) does not exist")
        if path.name in files:
            raise ValueError(f"two of the course's exercise files are named {path.name}: give each its own name")
        files[path.name] = path.read_bytes()
    return files


def nbgrader_api(root, overrides=None):
    """nbgrader's :class:`NbGraderAPI` for the course at ``root`` (``overrides``: a traitlets
    ``Config`` merged over the course's).

    nbgrader runs the ``alembic`` program from PATH when it creates a gradebook;
    the one installed beside this Python is put first on PATH for that.
    """
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    config = load_config(root)
    if overrides is not None:
        config.merge(overrides)
    return NbGraderAPI(CourseDirectory(config=config), config=config)


def release(root, names=None) -> list[Path]:
    """Regenerate ``course/<assignment>/`` from ``solutions/`` with nbgrader (all assignments by default).

    Like ``nbgrader generate_assignment NAME --force --no-db``: the release is a
    pure function of the source, and the gradebook is left alone. Returns the
    release notebooks written; raises ``ValueError`` for an unknown assignment and
    ``RuntimeError`` with nbgrader's log when nbgrader fails."""
    known = assignments(root)
    names = list(names or known)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"no assignment {', '.join(map(repr, unknown))} in {Path(root) / SOURCE_DIRECTORY}; "
                         f"the assignments are {', '.join(known)}")
    from traitlets.config import Config

    no_database = Config()
    no_database.GenerateAssignment.no_database = True
    no_database.SaveCells.enabled = False  # what nbgrader's --no-db flag sets as well
    api = nbgrader_api(root, no_database)
    written = []
    for name in names:
        response = api.generate_assignment(name, force=True, create=False)
        if not response["success"]:
            log = f"{response.get('log') or ''}\n{response.get('error') or ''}"
            raise RuntimeError(f"nbgrader could not release {name}: {failure_cause(log)}")
        written.extend(notebooks(root, name, RELEASE_DIRECTORY))
    return written


def course_root(given) -> Path:
    """The course root: ``given``, else the current folder or the repository this package is in,
    whichever holds the nbgrader configuration and the source notebooks."""
    candidates = [Path(given)] if given else [Path.cwd(), Path(__file__).resolve().parents[1]]
    for candidate in candidates:
        if (candidate / CONFIG_FILE).is_file() and (candidate / SOURCE_DIRECTORY).is_dir():
            return candidate.resolve()
    raise FileNotFoundError(f"{candidates[0].resolve()} is not a course root: it should hold {CONFIG_FILE} "
                            f"and {SOURCE_DIRECTORY}/ (run from the repository's top level or give --course-root)")


_EXCEPTION_LINE = re.compile(r"^\s*((?:\w+\.)*\w*(?:Error|Exception|Exit|Timeout)): (.+)$", re.MULTILINE)
# nbgrader's own summary, which only points back at the traceback above it.
_SUMMARY_EXCEPTIONS = ("NbGraderException",)


def failure_cause(log: str) -> str:
    """The real cause of a failed nbgrader command (``autograde``, ``generate_assignment``) in its log:
    the last exception that is not
    nbgrader's "see the above traceback" summary (``RuntimeError: Kernel died before replying to
    kernel_info``); the log's last lines when it has none."""
    causes = [match for match in _EXCEPTION_LINE.finditer(log)
              if match.group(1).rsplit(".", 1)[-1] not in _SUMMARY_EXCEPTIONS]
    if not causes:
        return _last_lines(log)
    name, text = causes[-1].groups()
    return f"{name.rsplit('.', 1)[-1]}: {text.strip()}"[:1500]


def _last_lines(text: str, count: int = 6) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:])[-1500:]
