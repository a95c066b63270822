"""``mlpcore lab``: JupyterLab on the course, for students (``make lab``) or the instructor (``make formgrader``).

Students get the notebooks in ``course/`` with nbgrader's Validate button and
assignment list, and without the instructor's panels: formgrader and Create
Assignment (from which a test cell's read-only flag can be switched off) are
turned off for that server alone, by the configuration folder
``student_jupyter/`` put on ``JUPYTER_CONFIG_PATH`` (a JupyterLab page config
that disables the two lab extensions, a server config that disables the
formgrader server extension, and an nbgrader config). Nothing is changed in the
installed Jupyter.

The Assignment List's folder is ``course/``, the folder the file browser shows
(nbgrader's would be the server's working folder, the course root, which the
file browser cannot show): an assignment the instructor released and that is
already in ``course/`` is listed as fetched, its notebooks open from the list,
and Submit sends the notebooks as the student edited them.

The instructor's server serves the course root, where formgrader finds
``nbgrader_config.py``: every assignment of ``solutions/``, and the class that
``mlpcore grade`` graded into ``--grading`` (``grading/`` by default, or
``grading/demo`` for ``make demo``'s class).

Both put the Python's own ``bin/`` first on ``PATH`` (nbgrader runs ``alembic``
from there when it creates a gradebook), point nbgrader's exchange at
``--exchange`` (default ``GRADING/exchange``), and give their kernels the course's
BLAS threads (:mod:`mlpcore.threads`). As root (a container) they pass
``--allow-root``, and say so.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .. import course, threads
from . import exchange as course_exchange

STUDENT_CONFIG = Path(__file__).resolve().parent / "student_jupyter"


def _within(root: Path, given, option: str) -> Path:
    path = (root / given).resolve() if given else None
    if path is not None and not path.is_relative_to(root):
        raise ValueError(f"{option} {given}: it should be a folder inside the course root {root}")
    return path


def lab_command(root, instructor: bool = False, grading=None, exchange=None, extra_args=()) -> tuple[list, dict]:
    """The ``jupyter lab`` command line and environment for a student's or the instructor's server.

    ``grading`` is relative to the course root (or absolute inside it); ``exchange`` is any folder."""
    root = Path(root).resolve()
    grading_folder = _within(root, grading, "--grading")
    if grading_folder is not None and not grading_folder.is_dir():
        raise FileNotFoundError(f"--grading {grading}: there is no folder {grading_folder} "
                                "(mlpcore grade --output, or make demo, writes one)")
    bin_dir = str(Path(sys.executable).parent)
    environment = dict(os.environ)
    environment["PATH"] = bin_dir + os.pathsep + environment.get("PATH", "")
    # Every kernel of the server gets the course's BLAS threads (one unless MLPCORE_BLAS_THREADS says otherwise).
    environment.update(threads.kernel_environment(environment))
    if grading_folder is not None:
        environment["MLPCORE_GRADING"] = str(grading_folder.relative_to(root))
    if exchange:
        environment["MLPCORE_EXCHANGE"] = str(Path(exchange).resolve())
    # The exchange both servers use (MLPCORE_EXCHANGE, else the course root's grading/exchange), whichever
    # nbgrader_config.py nbgrader reads: the course root's or the students' (mlpcore/autograde/exchange.py).
    environment["MLPCORE_EXCHANGE"] = course_exchange.exchange_root(environment, root)
    served = root if instructor else root / course.RELEASE_DIRECTORY
    environment.pop(course_exchange.STUDENT_FOLDER_VARIABLE, None)
    if not instructor:
        paths = [str(STUDENT_CONFIG), *filter(None, environment.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep))]
        environment["JUPYTER_CONFIG_PATH"] = os.pathsep.join(paths)
        environment[course_exchange.STUDENT_FOLDER_VARIABLE] = str(served)
    extra_args = list(extra_args)
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra_args:
        extra_args.append("--allow-root")
    argv = [str(Path(bin_dir) / "jupyter"), "lab", f"--ServerApp.root_dir={served}", *extra_args]
    return argv, environment


def exchange_note(exchange_folder) -> str:
    """What the Assignment List will show, in a line for the terminal: the exchange, and what is
    released there (nbgrader's list says only "No courses found." before the first release)."""
    folder = Path(exchange_folder)
    outbound = folder / course_exchange.COURSE_ID / "outbound"
    if not folder.is_dir():
        return (f"nbgrader's exchange {folder} does not exist yet: the Assignment List says so until the instructor "
                "creates it (nbgrader release_assignment does).")
    released = sorted(p.name for p in outbound.iterdir() if p.is_dir()) if outbound.is_dir() else []
    if not released:
        return (f"nbgrader's exchange: {folder} (course {course_exchange.COURSE_ID}; nothing released yet, so the "
                "Assignment List says 'No courses found.' until the instructor runs nbgrader release_assignment).")
    return f"nbgrader's exchange: {folder} (course {course_exchange.COURSE_ID}; released: {', '.join(released)})."


def run_lab(args) -> int:
    from ..course import course_root

    root = course_root(args.course_root)
    extra = args.jupyter_args[1:] if args.jupyter_args[:1] == ["--"] else args.jupyter_args
    argv, environment = lab_command(root, args.instructor, args.grading, args.exchange, extra)
    who = "instructor (formgrader: Nbgrader > Formgrader)" if args.instructor else "students"
    print(f"JupyterLab for the {who} on {argv[2].split('=', 1)[1]}", flush=True)
    if "--allow-root" in argv and "--allow-root" not in extra:
        print("Running as root (as in a container): passing --allow-root to jupyter lab.", flush=True)
    exchange_folder = Path(environment["MLPCORE_EXCHANGE"])
    if exchange_folder.is_relative_to(root):  # the course's own (grading/exchange): made as nbgrader_config.py makes it
        exchange_folder.mkdir(parents=True, exist_ok=True)
    print(exchange_note(exchange_folder), flush=True)
    os.chdir(root)  # nbgrader reads nbgrader_config.py from the server's working folder
    os.execve(argv[0], argv, environment)
    return 0  # not reached: the server replaces this process


def add_lab_command(commands) -> None:
    lab = commands.add_parser("lab", help="JupyterLab on the course (students), or with formgrader (--instructor)")
    lab.add_argument("--instructor", action="store_true",
                     help="serve the course root with formgrader and Create Assignment (default: course/ for students)")
    lab.add_argument("--grading", metavar="DIR", help="the grading folder formgrader shows, relative to the course "
                                                      "root (default: grading; make demo's class: grading/demo)")
    lab.add_argument("--exchange", metavar="DIR", help="nbgrader's exchange folder (default: MLPCORE_EXCHANGE, "
                                                       "else GRADING/exchange)")
    lab.add_argument("--course-root", metavar="DIR", help="the course root (default: here, or the source checkout)")
    lab.add_argument("jupyter_args", nargs=argparse.REMAINDER, metavar="-- JUPYTER_OPTION",
                     help="passed on to jupyter lab (after --), e.g. -- --no-browser --port 8890")
    lab.set_defaults(run=run_lab)
