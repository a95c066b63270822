"""Grade one student's submission of one assignment, in a scratch folder of its own.

A *job* is a plain dictionary of bytes and settings (see :func:`make_job`), so it
can go to a thread on this machine or to a Dask worker on another one. :func:`run_job`
writes it to a temporary folder and hands the folder to the thread's grading
process (:class:`GradingProcess`, ``python -m mlpcore.autograde.worker``), which
runs nbgrader's own ``autograde`` there against a copy of the assignment's
gradebook, with :class:`~mlpcore.autograde.execute.SturdyExecute` and a fenced
kernel (:mod:`mlpcore.autograde.kernel`), in bubblewrap where it works. The test
cells are judged in that grading process, not in the kernel
(:mod:`mlpcore.autograde.trusted`). A grading process that outlives a job's
time limit is killed and replaced, so nothing a submission does can stop the
class's grading. When the grader itself fails (a kernel that does not start in
time on a busy machine, a grading process that dies), the job is graded again,
with kernels given longer to start, before an ``error`` is reported; the
outcome's ``retries`` lists why each earlier attempt failed.

What comes back is the outcome (see :mod:`mlpcore.autograde.outcome`) and the
autograded notebooks, for the main process to record in the real gradebook.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from ..course import failure_cause
from ..schema import GradingJob, GradingSettings
from . import outcome as outcomes
from . import sandbox as os_sandbox
from .files import FolderContents, folder_size, read_folder, write_tree
from .kernelspec import process_environment

DONE = "mlpcore-grading-done"  # the line a grading process prints after each job
# The student's name inside a job's scratch course. A real id may not fit there: nbgrader reads
# paths as glob patterns ("[" breaks them) and the kernel's folder lists are split at ":".
SCRATCH_STUDENT = "student"
# Settings a job carries (mlpcore.schema.GradingSettings as a dict); the defaults are those of `mlpcore grade`.
DEFAULT_SETTINGS = GradingSettings().to_json()
# A job whose grading failed for a reason not the submission's (status "error") is graded again this
# many times: on a loaded machine a kernel can miss its start-up time once and start the next time.
GRADER_RETRIES = 2
# Submissions bigger than this are not copied: a notebook folder is kilobytes to a few megabytes.
MAX_SUBMISSION_BYTES = 50 * 2**20
# What comes back from a job's autograded folder besides its notebooks (nbgrader's copy of the submission's
# other files; what the kernel writes stays in its own folder and never comes back).
MAX_AUTOGRADED_BYTES = 2 * MAX_SUBMISSION_BYTES


def make_job(student_id: str, assignment: str, submission: Path, release: dict, source_files: dict,
             template_gradebook: bytes, settings: dict, exercise_files: dict | None = None) -> GradingJob:
    """Everything needed to grade one submission, as plain data (:class:`~mlpcore.schema.GradingJob`).

    ``release``: ``{notebook name: release notebook bytes}``; ``source_files``: the
    assignment's other files (data the notebooks read), ``{relative path: bytes}``;
    ``exercise_files``: the course's own exercise files, ``{file name: bytes}``. Of the
    submission, only regular files are read (:mod:`mlpcore.autograde.files`): links and special
    files are listed under ``refused``, never followed.
    """
    size = folder_size(submission)
    too_big = size > MAX_SUBMISSION_BYTES
    found = FolderContents() if too_big else read_folder(submission, max_bytes=MAX_SUBMISSION_BYTES)
    return GradingJob(
        student_id, assignment, found.files, found.refused,
        (f"the submission folder holds {size / 2**20:.1f} MB; nothing over "
         f"{MAX_SUBMISSION_BYTES / 2**20:g} MB is graded") if too_big else "",
        release, source_files, template_gradebook, {**DEFAULT_SETTINGS, **settings}, exercise_files or {})


def run_job(job: GradingJob) -> dict:
    """Grade a job in this thread's grading process; always returns
    ``{"outcome": ..., "autograded": {path: bytes}}``.

    A grading that fails for the grader's reasons (status ``error``) is tried again, up to
    ``GRADER_RETRIES`` times, each time with twice the kernel start-up time; the outcome's
    ``retries`` holds the reason each earlier attempt failed (empty when the first one worked)."""
    started = time.monotonic()
    settings, retries = dict(job.settings), []
    for attempt in range(GRADER_RETRIES + 1):
        result = _grade_once(dataclasses.replace(job, settings=dict(settings)))
        outcome = result["outcome"]
        if outcome["status"] != "error" or attempt == GRADER_RETRIES:
            break
        retries.append(f"attempt {attempt + 1}: " + " | ".join(outcome["reasons"]))
        settings["kernel_startup_timeout"] = 2 * settings["kernel_startup_timeout"]
    outcome["retries"] = retries
    outcome["seconds"] = round(time.monotonic() - started, 2)
    return result


def _grade_once(job: GradingJob) -> dict:
    """One attempt at a job: ``{"outcome": ..., "autograded": {path: bytes}}``."""
    readable = "".join(c if c.isalnum() or c in "-_." else "_" for c in job.student_id)[:40]
    with tempfile.TemporaryDirectory(prefix=f"mlpcore-grade-{readable}-") as scratch:
        folder = Path(scratch)
        write_tree(folder / "submission", job.files)
        write_tree(folder / "release", {f"{name}.ipynb": data for name, data in job.release.items()})
        write_tree(folder / "source", job.source_files)
        write_tree(folder / "exercises", job.exercise_files)
        (folder / "template.db").write_bytes(job.gradebook)
        meta = {"student_id": job.student_id, "assignment": job.assignment, "settings": job.settings,
                "too_big": job.too_big, "refused": job.refused}
        (folder / "job.json").write_text(json.dumps(meta))
        # The process's own limit: every notebook's time, plus kernel start-ups and nbgrader's bookkeeping.
        limit = job.settings["notebook_timeout"] * max(1, len(job.release)) + 120
        status, failure = _server().grade(folder, limit)
        result_file = folder / "result.json"
        if failure is None and result_file.is_file():
            result = json.loads(result_file.read_text())
            # Back under the student's real id: "student/02-forward/..." -> "<id>/02-forward/...".
            graded = read_folder(folder / "course" / "autograded", max_bytes=MAX_AUTOGRADED_BYTES,
                                 budget_spares_notebooks=True)
            autograded = {f"{job.student_id}/{relative.split('/', 1)[1]}": data
                          for relative, data in graded.files.items()}
        else:
            import nbformat

            release = {name: nbformat.reads(data.decode(), as_version=4) for name, data in job.release.items()}
            result = outcomes.unreadable(job.student_id, job.assignment, release,
                                         status, failure or "the grading process wrote no result")
            autograded = {}
        return {"outcome": result, "autograded": autograded}


class GradingProcess:
    """A child process that grades job folders one after another (``python -m mlpcore.autograde.worker``).

    It outlives jobs because importing nbgrader costs about two seconds, as much as grading a
    notebook. It is replaced after a job that outlives its limit (it is killed) or that kills it,
    and after ``MAX_JOBS`` jobs, so that nothing one submission leaves behind can pile up."""

    MAX_JOBS = 50

    def __init__(self):
        self.process = None

    def _start(self) -> None:
        env = {**os.environ, **process_environment()}
        env.pop("MPLBACKEND", None)  # the kernels' inline figures, for the feedback
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mlpcore.autograde.worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.log, env=env, start_new_session=True, text=True, bufsize=1,
        )
        self.jobs = 0

    def grade(self, folder: Path, limit: float) -> tuple[str, str | None]:
        """Grade one job folder; ``(status, None)`` when it wrote its result, else ``(status, why not)``."""
        if self.process is None or self.process.poll() is not None or self.jobs >= self.MAX_JOBS:
            self.stop()
            self._start()
        self.jobs += 1
        self.process.stdin.write(f"{folder}\n")
        self.process.stdin.flush()
        deadline = time.monotonic() + limit
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.process.stdout], [], [], left)[0]:
                self.stop()
                return "timeout", f"the grading process ran over its limit of {limit:g} s and was stopped"
            line = self.process.stdout.readline()
            if not line:  # the process died
                code = self.process.wait()
                why = f"the grading process died (exit status {code}): {self._log_tail()}"
                self.stop()
                return "error", why
            if line.startswith(DONE):
                failure = line[len(DONE):].strip()
                return "error", (failure or None) and f"the grader failed: {failure}"

    def _log_tail(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace").strip()[-1500:]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)  # its own session: nothing else is hit
            self.process.wait()
        self.process = None


# One grading process per thread: the threads of `mlpcore grade`, or a Dask worker's.
_local = threading.local()
_processes = []
_processes_lock = threading.Lock()


def _server() -> GradingProcess:
    if not hasattr(_local, "process"):
        _local.process = GradingProcess()
        with _processes_lock:
            _processes.append(_local.process)
    return _local.process


@atexit.register
def stop_grading_processes() -> None:
    """Stop every grading process this process started (``mlpcore grade`` calls it when done)."""
    with _processes_lock:
        for process in _processes:
            process.stop()
        _processes.clear()


# ------------------------------------------------------------------ the child process


def _nbgrader_config(course: Path, folder: Path, settings: dict, resolved: str):
    """nbgrader's configuration for a job's scratch course: mlpcore's pipeline (the same steps as
    nbgrader's own doors, see :mod:`mlpcore.autograde.pipeline`), with this job's settings."""
    from traitlets.config import Config

    from . import pipeline

    config = Config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.source_directory = "source"
    config.CourseDirectory.release_directory = str(folder / "release-course")
    config.CourseDirectory.submitted_directory = "submitted"
    config.CourseDirectory.autograded_directory = "autograded"
    config.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
    config.Autograde.sanitize_preprocessors = pipeline.sanitize_steps()
    config.Autograde.autograde_preprocessors = pipeline.autograde_steps()
    execute = config.SandboxedExecute
    execute.timeout = int(settings["cell_timeout"])
    execute.startup_timeout = int(settings["kernel_startup_timeout"])
    execute.notebook_timeout = float(settings["notebook_timeout"])
    execute.max_output_bytes = int(settings["max_output_bytes"])
    execute.memory_mb = int(settings["memory_mb"])
    execute.max_file_mb = int(settings["max_file_mb"])
    execute.tmp_mb = int(settings["tmp_mb"])
    execute.sandbox_resolved = resolved
    execute.scratch = str(folder)
    # The course's exercise files as the job brought them from the course (never a student's copy).
    config.CourseExercises.files = [str(path) for path in sorted((folder / "exercises").glob("*.py"))]
    return config


def grade_folder(folder: Path) -> dict:
    """Grade the job written in ``folder``; returns the outcome and writes ``course/autograded``."""
    import nbformat
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from ..schema import NotebookProblems
    from .submission import locate_notebooks, read_notebook

    job = json.loads((folder / "job.json").read_text())
    student, assignment, settings = job["student_id"], job["assignment"], job["settings"]
    release = {path.stem: nbformat.read(path, as_version=4) for path in sorted((folder / "release").glob("*.ipynb"))}
    # The release as nbgrader's CourseDirectory lays it out: <release>/<assignment>/<notebook>.ipynb.
    shutil.copytree(folder / "release", folder / "release-course" / assignment)
    course = folder / "course"
    submitted = course / "submitted" / SCRATCH_STUDENT / assignment
    submitted.mkdir(parents=True)
    (folder / "source").mkdir(exist_ok=True)
    shutil.copytree(folder / "source", course / "source" / assignment)
    shutil.copy(folder / "template.db", course / "gradebook.db")

    problems = {}
    refused = job.get("refused") or []
    if job["too_big"]:
        for name in release:
            problems[name] = NotebookProblems()
            problems[name].add("invalid", job["too_big"])
    else:
        source = folder / "submission"
        # The student's other files (data, helpers) go along; notebooks are placed below.
        for path in source.rglob("*"):
            if path.is_file() and path.suffix != ".ipynb":
                target = submitted / path.relative_to(source)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, target)
        for name, (path, found) in locate_notebooks(source, list(release), release).items():
            problems[name] = found
            if path is None:
                continue
            notebook, why = read_notebook(path)
            if notebook is None:
                found.add("invalid", why)
                continue
            # Repairs and the scan are the pipeline's first step (RepairSubmission), as from nbgrader's doors.
            nbformat.write(notebook, submitted / f"{name}.ipynb")
        if refused and problems:  # a link can only be put there on purpose: to reach what is not the student's
            shown = "; ".join(refused[:5]) + (f"; and {len(refused) - 5} more" if len(refused) > 5 else "")
            problems[next(iter(problems))].add("tampered", f"the submission holds what the grader does not read: {shown}")

    log = ""
    # The main process decided for the class; a Dask worker decides for itself.
    resolved = settings.get("sandbox_resolved") or os_sandbox.resolve(settings["sandbox"])
    if any(submitted.glob("*.ipynb")):
        config = _nbgrader_config(course, folder, settings, resolved)
        api = NbGraderAPI(CourseDirectory(config=config), config=config)
        response = api.autograde(assignment, SCRATCH_STUDENT, force=True, create=True)
        log = response.get("log", "") + response.get("error", "")
        if not response["success"]:
            return outcomes.unreadable(student, assignment, release, "error",
                                       "nbgrader could not grade it: " + failure_cause(log))
    graded = outcomes.collect(course, SCRATCH_STUDENT, assignment, release, problems)
    return {**graded, "student_id": student, "sandbox": resolved, "limits": os_sandbox.limits(resolved, settings)}


# An exception line of a traceback in nbgrader's log: "    RuntimeError: Kernel died before replying ...".
def main() -> int:
    """Grade the job folders named on stdin, one per line; after each, print the DONE line
    (followed by what went wrong, if the grader itself failed)."""
    for line in sys.stdin:
        folder = Path(line.strip())
        try:
            result = grade_folder(folder)
            (folder / "result.json").write_text(json.dumps(result))
            failure = ""
        except Exception as exc:  # a bug or a broken set-up: report it and grade the next one
            failure = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:1500]
            traceback.print_exc()
        print(f"{DONE} {failure}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
