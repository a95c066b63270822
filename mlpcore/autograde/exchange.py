"""The course's settings for nbgrader's exchange, wherever nbgrader runs: a student's folder, the
students' JupyterLab (``mlpcore lab``), the instructor's course root.

nbgrader reads ``nbgrader_config.py`` from the folder it runs in and from Jupyter's configuration
path (``jupyter --paths``), which includes the environment's own ``etc/jupyter``. A student who runs
``nbgrader fetch_assignment`` in a folder of their own has no course configuration there, so
``python -m mlpcore.autograde.exchange --install`` (``make`` runs it when it creates ``.venv``) puts a
small ``nbgrader_config.py`` into the environment that calls :func:`configure`, and the students'
server of ``mlpcore lab`` has it on its configuration path too. It sets:

- the course id, ``mlpcore``: no ``--course`` needed, and formgrader offers Release and Collect;
- the exchange: ``MLPCORE_EXCHANGE`` when it is set (on a shared machine or a JupyterHub, a folder
  every account can write, set in every account's environment), otherwise the source checkout's
  ``grading/exchange`` (or ``MLPCORE_GRADING``'s), the folder the instructor's ``nbgrader_config.py``
  uses by default; without either, nbgrader's own default;
- the Assignment List's folder, in the students' server alone (``MLPCORE_STUDENT_FOLDER``, set by
  ``mlpcore lab``): the folder its file browser shows, so that what is fetched appears there and
  Submit sends what the student edited;
- :class:`~mlpcore.autograde.fetch_feedback.FetchFeedback` in place of nbgrader's own, which takes
  the feedback of every submission in the account's cache: where one account plays several students
  (``--student``), each would get the others' pages too; this one takes only the student's own.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

COURSE_ID = "mlpcore"
# The students' server's folder: set by mlpcore lab, read by configure().
STUDENT_FOLDER_VARIABLE = "MLPCORE_STUDENT_FOLDER"
# What --install writes into ENVIRONMENT/etc/jupyter/nbgrader_config.py.
ENVIRONMENT_CONFIG = '''\
"""mlpcore's settings for nbgrader's exchange, for every nbgrader run with this environment
(the course id, the exchange folder: MLPCORE_EXCHANGE). Written by
`python -m mlpcore.autograde.exchange --install`; see mlpcore/autograde/exchange.py."""
try:
    from mlpcore.autograde.exchange import configure
except ImportError as error:
    import sys
    print(f"mlpcore's nbgrader settings not loaded ({error}): is mlpcore installed here?", file=sys.stderr)
else:
    configure(c)  # noqa: F821 (c is provided by traitlets when nbgrader loads this file)
'''


def source_checkout() -> Path | None:
    """The course root this package was installed from (an editable install of a clone), if any."""
    candidate = Path(__file__).resolve().parents[2]
    if (candidate / "nbgrader_config.py").is_file() and (candidate / "solutions").is_dir():
        return candidate
    return None


def exchange_root(environ=os.environ, root=None) -> str | None:
    """The exchange folder: ``MLPCORE_EXCHANGE``, otherwise the course root's grading folder's
    ``exchange`` (``root``, by default the source checkout), or ``None`` where there is neither."""
    if environ.get("MLPCORE_EXCHANGE"):
        return str(Path(environ["MLPCORE_EXCHANGE"]).expanduser().resolve())
    root = Path(root) if root is not None else source_checkout()
    if root is None:
        return None
    return str(Path(root, environ.get("MLPCORE_GRADING") or "grading", "exchange").resolve())


def configure(c, environ=os.environ) -> None:
    """Sets the course's exchange settings on the traitlets config ``c`` (see the module's docstring)."""
    c.CourseDirectory.course_id = COURSE_ID
    root = exchange_root(environ)
    if root is not None:
        c.Exchange.root = root
    if environ.get(STUDENT_FOLDER_VARIABLE):
        c.Exchange.assignment_dir = environ[STUDENT_FOLDER_VARIABLE]
    c.ExchangeFactory.fetch_feedback = "mlpcore.autograde.fetch_feedback.FetchFeedback"


def environment_config_path(prefix=None) -> Path:
    """Where nbgrader run with this environment's Python reads the environment's configuration."""
    return Path(prefix or sys.prefix) / "etc" / "jupyter" / "nbgrader_config.py"


def install(prefix=None) -> tuple[Path, bool]:
    """Writes :data:`ENVIRONMENT_CONFIG` into the environment; (the file, whether it was written).
    A different file already there (an administrator's) is left alone."""
    path = environment_config_path(prefix)
    if path.is_file() and path.read_text(encoding="utf-8") != ENVIRONMENT_CONFIG:
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ENVIRONMENT_CONFIG, encoding="utf-8")
    return path, True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlpcore.autograde.exchange",
                                     description="mlpcore's settings for nbgrader's exchange")
    parser.add_argument("--install", action="store_true",
                        help="make every nbgrader run with this environment use them "
                             "(writes ENVIRONMENT/etc/jupyter/nbgrader_config.py)")
    args = parser.parse_args(argv)
    if args.install:
        path, written = install()
        if not written:
            print(f"{path} exists and is not mlpcore's: left as it is. To use mlpcore's exchange settings, "
                  f"add to it:\n    from mlpcore.autograde.exchange import configure; configure(c)", file=sys.stderr)
            return 1
        print(f"nbgrader run with this environment now uses mlpcore's exchange settings ({path})")
    root = exchange_root()
    print(f"course id: {COURSE_ID}; exchange: {root or 'not set (set MLPCORE_EXCHANGE)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
