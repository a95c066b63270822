"""nbgrader configuration for running nbgrader's own commands from the repository root.

    solutions/<assignment>/<notebook>.ipynb   source: solutions and hidden tests (committed)
    course/<assignment>/<notebook>.ipynb      release: what learners open (committed, generated)
    grading/                                  submissions, autograded copies, feedback, gradebook (never committed)

For example: ``nbgrader generate_assignment 02-forward --force`` regenerates one
released notebook, and ``nbgrader autograde 02-forward`` grades what lies in
``grading/submitted/<student>/02-forward/``. nbgrader starts ``alembic`` from
PATH when it creates the gradebook, so run it with ``.venv/bin`` on PATH.
"""

import os

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

# Absolute paths, so that nbgrader works from any folder given this file (--config).
ROOT = os.path.dirname(os.path.abspath(__file__))  # noqa: F821 (__file__ is set by traitlets too)
GRADING = os.path.join(ROOT, "grading")
os.makedirs(GRADING, exist_ok=True)  # sqlite cannot create the gradebook's folder itself

c.CourseDirectory.root = ROOT
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "course"
c.CourseDirectory.submitted_directory = "grading/submitted"
c.CourseDirectory.autograded_directory = "grading/autograded"
c.CourseDirectory.feedback_directory = "grading/feedback"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(GRADING, "gradebook.db")
# The release is committed: keep only the notebooks, never data files or checkpoints.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# Learners see this in place of each solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# A runaway cell (an infinite loop in a submission) fails after this many seconds.
c.ExecutePreprocessor.timeout = 120
