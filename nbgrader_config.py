"""nbgrader configuration for running nbgrader's own commands from the repository root.

    solutions/<assignment>/<notebook>.ipynb   source: solutions and hidden tests (committed)
    course/<assignment>/<notebook>.ipynb      release: what learners open (committed, generated)
    grading/                                  submissions, autograded copies, feedback, gradebook (never committed)

For example: ``nbgrader generate_assignment 02-forward --force`` regenerates one
released notebook, and ``nbgrader autograde 02-forward`` grades what lies in
``grading/submitted/<student>/02-forward/``.

Two environment variables move the work areas (``mlpcore lab`` sets them from its options):
``MLPCORE_GRADING`` another grading folder (relative to this file's folder, e.g.
``grading/demo``: ``make demo``'s class), ``MLPCORE_EXCHANGE`` nbgrader's exchange
(default ``GRADING/exchange``; a shared folder when students have accounts of their own).
"""

import os
import sys

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

# Absolute paths, so that nbgrader works from any folder given this file (--config).
ROOT = os.path.dirname(os.path.abspath(__file__))  # noqa: F821 (__file__ is set by traitlets too)
GRADING = os.path.join(ROOT, os.environ.get("MLPCORE_GRADING") or "grading")
EXCHANGE = os.environ.get("MLPCORE_EXCHANGE") or os.path.join(GRADING, "exchange")
for folder in (GRADING, EXCHANGE):
    os.makedirs(folder, exist_ok=True)  # sqlite cannot create the gradebook's folder itself

# nbgrader creates a gradebook by running the `alembic` program from PATH; when it is
# missing the gradebook is left without its alembic_version table. Whatever started
# nbgrader (a Jupyter server, a terminal without the venv activated), the alembic installed
# beside this Python is the one it needs.
_BIN = os.path.dirname(sys.executable)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")


def _in_grading(name):
    """A work area under GRADING, relative to ROOT as nbgrader expects."""
    return os.path.relpath(os.path.join(GRADING, name), ROOT)


c.CourseDirectory.root = ROOT
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "course"
c.CourseDirectory.submitted_directory = _in_grading("submitted")
c.CourseDirectory.autograded_directory = _in_grading("autograded")
c.CourseDirectory.feedback_directory = _in_grading("feedback")
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(GRADING, "gradebook.db")
# The release is committed: keep only the notebooks, never data files or checkpoints.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# `nbgrader export` run from here writes into the grading folder, never into the repository.
c.CsvExportPlugin.to = os.path.join(GRADING, "nbgrader-export.csv")
# nbgrader export --exporter=mlpcore.autograde.lms.CanvasExportPlugin: Canvas's gradebook import CSV, each
# student matched by nbgrader's lms_user_id (see mlpcore/autograde/lms.py; --CanvasExportPlugin.to=FILE elsewhere).
c.CanvasExportPlugin.to = os.path.join(GRADING, "canvas-grades.csv")

# nbgrader release_assignment / fetch_assignment / submit / collect go through this folder.
c.Exchange.root = EXCHANGE
# The course's id in the exchange (no --course needed; formgrader offers Release and Collect with it).
# Students' nbgrader gets the same settings from mlpcore/autograde/exchange.py.
c.CourseDirectory.course_id = "mlpcore"

# Every door grades with mlpcore's pipeline: `nbgrader autograde`, formgrader's Autograde button and
# `mlpcore grade` (the kernel sandboxed and unable to start processes, the checks judged outside it,
# the statuses flagged in formgrader); `nbgrader generate_feedback` and formgrader's feedback icon
# write mlpcore's pages, which never show a hidden test. See mlpcore/autograde/pipeline.py.
from mlpcore.autograde.pipeline import configure  # noqa: E402

configure(c, grading=GRADING)

# Late work (nbgrader's AssignLatePenalties asks this plugin; see mlpcore/autograde/late.py). It applies
# once an assignment has a due date (nbgrader db assignment add 02-forward --duedate="2026-10-02 17:00 UTC",
# or formgrader's Manage Assignments) and to each student's own extension (Gradebook.grant_extension).
c.AssignLatePenalties.plugin_class = "mlpcore.autograde.late.LatePenalty"
c.LatePenalty.per_day = 0.10  # 10 % of the score earned, per started day late
c.LatePenalty.cap = 0.50  # at most half of it
c.LatePenalty.grace_minutes = 15  # up to 15 minutes late counts as on time

# Learners see this in place of each solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# A runaway cell (an infinite loop in a submission) fails after this many seconds.
c.ExecutePreprocessor.timeout = 120
