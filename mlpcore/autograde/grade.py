"""``mlpcore grade``: autograde a class in parallel, record everything, lose nothing.

Reads the nbgrader layout ``SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb``
and writes into ``OUTPUT``::

    gradebook.db                  nbgrader's gradebook (nbgrader export, formgrader)
    nbgrader_config.py            so that nbgrader's own commands work in OUTPUT
    autograded/<student>/<assignment>/   nbgrader's autograded notebooks
    outcomes/<assignment>/<student>.json one file per graded submission (see outcome.py)
    grades.csv, exercises.csv     one row per submission / per graded cell, all assignments
    feedback/<student>/<assignment>/<notebook>.html
    report-<assignment>.html and .png

Each submission is graded by :func:`mlpcore.autograde.worker.run_job`, in a
thread of this process (which waits on a child process) or on a Dask cluster.
A submission whose files, the assignment's source and the grading settings are
unchanged since its last grading is not graded again, unless that grading ended in
``error`` (the grader failed, not the submission): a rerun grades those again.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from .. import course
from ..schema import Status
from . import gradebook, sandbox, worker
from .files import is_read, read_regular_file, walk
from .outcome import read_saved
from .tables import load_outcomes, outcome_path, write_tables

NBGRADER_EXPORT = "nbgrader-export.csv"
def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def find_students(submissions: Path, assignment: str) -> list[str]:
    """Every student folder of ``submissions`` (one without this assignment is graded as missing)."""
    if not submissions.is_dir():
        raise FileNotFoundError(f"no submissions folder {submissions}: expected {submissions}/<student>/{assignment}/")
    return sorted(path.name for path in submissions.iterdir() if path.is_dir() and not path.name.startswith("."))


def _hash_tree(digest, folder: Path) -> None:
    """Every entry under ``folder`` into ``digest``: a regular file by its bytes, anything else (a link, a
    special file, which the grader never reads) by its name and kind, never followed."""
    for path, relative, info in walk(folder):
        digest.update(relative.encode() + b"\0")
        if is_read(info):
            digest.update(read_regular_file(path) + b"\0")
        else:
            digest.update(f"{stat.S_IFMT(info.st_mode)}:{info.st_nlink}:{info.st_size}:{info.st_mtime_ns}".encode() + b"\0")


def fingerprint(submission: Path, assignment_digest: str, settings: dict) -> str:
    """What a grading depends on: the submitted files, the assignment's source, the settings."""
    digest = hashlib.sha256(assignment_digest.encode() + json.dumps(settings, sort_keys=True).encode())
    _hash_tree(digest, submission)
    return digest.hexdigest()


def _feedback_out_of_date(output: Path, assignment: str, student: str) -> bool:
    """Whether a graded student's feedback pages are missing or older than their outcome."""
    saved = outcome_path(output, assignment, student)
    if not saved.is_file():
        return False
    pages = list((output / "feedback" / student / assignment).glob("*.html"))
    return not pages or min(page.stat().st_mtime for page in pages) < saved.stat().st_mtime


def _needs_grading(saved: Path, fingerprint_now: str) -> bool:
    """Whether a submission must be graded (again): never graded, changed since, or last graded with an
    ``error`` of the grader's (a busy machine, a kernel that did not start), which a rerun may not repeat."""
    previous = read_saved(saved) if saved.is_file() else None
    return previous is None or previous.get("fingerprint") != fingerprint_now or previous.get("status") == "error"


def write_nbgrader_config(root: Path, submissions: Path, output: Path) -> None:
    """``OUTPUT/nbgrader_config.py``: nbgrader's commands (export, formgrader) run in OUTPUT see this class."""
    lines = [
        '"""Written by mlpcore grade: nbgrader\'s view of this grading folder (nbgrader export, formgrader)."""',
        "c = get_config()  # noqa: F821",
        f"c.CourseDirectory.root = {str(output.resolve())!r}",
        f"c.CourseDirectory.source_directory = {str((root / course.SOURCE_DIRECTORY).resolve())!r}",
        f"c.CourseDirectory.release_directory = {str((root / course.RELEASE_DIRECTORY).resolve())!r}",
        f"c.CourseDirectory.submitted_directory = {str(submissions.resolve())!r}",
        'c.CourseDirectory.autograded_directory = "autograded"',
        'c.CourseDirectory.feedback_directory = "feedback"',
        f"c.CourseDirectory.db_url = {gradebook.db_url(output)!r}",
        "# nbgrader export writes here, beside (not over) mlpcore's grades.csv.",
        f"c.CsvExportPlugin.to = {NBGRADER_EXPORT!r}",
        "# nbgrader's autograde and feedback doors run mlpcore's pipeline (mlpcore/autograde/pipeline.py).",
        "from mlpcore.autograde.pipeline import configure",
        f"configure(c, grading={str(output.resolve())!r})",
        f"c.FeedbackExporter.course_root = {str(root.resolve())!r}",
        "# The course's late policy (mlpcore/autograde/late.py), for autograding from here.",
        *_late_policy_lines(root),
    ]
    (output / "nbgrader_config.py").write_text("\n".join(lines) + "\n")


def _late_policy_lines(root: Path) -> list[str]:
    """The course configuration's late-penalty settings, as lines of an ``nbgrader_config.py``."""
    config = course.load_config(root)
    lines = []
    for section in ("AssignLatePenalties", "LateSubmissionPlugin", "LatePenalty"):
        for name, value in sorted(config.get(section, {}).items()):
            if isinstance(value, type):  # a class given as a class, not by name
                value = f"{value.__module__}.{value.__qualname__}"
            lines.append(f"c.{section}.{name} = {value!r}")
    return lines


class _Progress:
    """A progress bar with an ETA on stderr (tqdm), or nothing."""

    def __init__(self, total: int, enabled: bool, description: str):
        self.bar = None
        if enabled and total:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=description, unit="notebook", file=sys.stderr, dynamic_ncols=True)

    def note(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr)

    def step(self, result: dict) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"{result['student_id']}: {result['status']}")
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _dispatch(jobs, workers: int, scheduler: str | None):
    """Yield each job's result as it finishes: threads waiting on child processes, or a Dask cluster."""
    if scheduler:
        try:
            from dask.distributed import Client, as_completed as dask_completed
        except ImportError:
            raise RuntimeError("--scheduler needs dask.distributed: pip install 'mlpcore[cluster]'") from None
        with Client(scheduler, timeout="30s") as client:
            futures = [client.submit(worker.run_job, job, pure=False, key=f"grade-{job.assignment}-{job.student_id}")
                       for job in jobs]
            for future in dask_completed(futures):
                yield future.result()
        return
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(worker.run_job, job) for job in jobs]
            for future in as_completed(futures):
                yield future.result()
    finally:
        worker.stop_grading_processes()


def grade_class(root, assignment: str, submissions, output, workers: int | None = None, settings: dict | None = None,
                scheduler: str | None = None, progress: bool = True, force: bool = False,
                feedback: bool = True) -> dict:
    """Grade every submission of ``assignment``; returns ``{"graded": [...], "unchanged": [...], "outcomes": [...]}``."""
    root, submissions, output = Path(root).resolve(), Path(submissions), Path(output)
    if assignment not in course.assignments(root):
        raise ValueError(f"there is no assignment {assignment!r} in {root / course.SOURCE_DIRECTORY}; "
                         f"the assignments are {', '.join(course.assignments(root))}")
    settings = {**worker.DEFAULT_SETTINGS, **(settings or {})}
    if not scheduler:  # on this machine: decided once here (a Dask worker decides for itself)
        settings["sandbox_resolved"] = sandbox.resolve(settings["sandbox"])
    students = find_students(submissions, assignment)
    output.mkdir(parents=True, exist_ok=True)

    source = root / course.SOURCE_DIRECTORY / assignment
    exercise_files = course.exercise_files(root)
    digest = hashlib.sha256()
    _hash_tree(digest, source)
    for name, data in sorted(exercise_files.items()):  # a changed exercise grades everyone again
        digest.update(name.encode() + b"\0" + data)
    assignment_digest = digest.hexdigest()
    prints = {student: fingerprint(submissions / student / assignment, assignment_digest, settings)
              for student in students}
    todo = [student for student in students
            if force or _needs_grading(outcome_path(output, assignment, student), prints[student])]

    if todo:
        backup = gradebook.back_up(output)  # before anything is written, or refuses a damaged gradebook
        template, release = gradebook.template(root, assignment)
        gradebook.ensure_assignment(root, assignment, output, template)
        source_files = {path.relative_to(source).as_posix(): path.read_bytes() for path in sorted(source.rglob("*"))
                        if path.is_file() and path.suffix != ".ipynb" and ".ipynb_checkpoints" not in path.parts}
        jobs = (worker.make_job(student, assignment, submissions / student / assignment, release, source_files,
                                template, settings, exercise_files) for student in todo)
        workers = workers or default_workers()
        where = f"on the Dask cluster at {scheduler}" if scheduler else f"with {workers} worker{'s' * (workers > 1)}"
        bar = _Progress(len(todo), progress, f"grading {assignment}")
        bar.note(f"grading {len(todo)} of {len(students)} submissions of {assignment} {where}"
                 + (f" ({len(students) - len(todo)} unchanged since their last grading)" if len(todo) < len(students) else ""))
        if backup is not None:
            bar.note(f"the gradebook was backed up to {backup}")
        if not scheduler:
            bar.note(sandbox.describe(settings["sandbox_resolved"], settings))
        started = time.monotonic()
        try:
            for result in _dispatch(list(jobs), workers, scheduler):
                graded = result["outcome"]
                graded["fingerprint"] = prints[graded["student_id"]]
                gradebook.record(output, graded)
                gradebook.copy_autograded(output, result["autograded"], graded["student_id"], assignment, release,
                                          graded["reasons"])
                path = outcome_path(output, assignment, graded["student_id"])
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(graded, indent=1))
                if Status.named(graded["status"]).needs_attention:
                    bar.note(f"  {graded['student_id']}: {graded['status']} - {graded['reasons'][0] if graded['reasons'] else ''}")
                if graded.get("retries"):
                    bar.note(f"  {graded['student_id']}: graded on attempt {len(graded['retries']) + 1}; "
                             f"before: {graded['retries'][-1]}")
                bar.step(graded)
        finally:
            bar.close()
        elapsed = time.monotonic() - started
        bar.note(f"graded {len(todo)} notebooks in {elapsed:.1f} s ({len(todo) * 60 / max(elapsed, 1e-9):.1f} per minute)")

    if (output / "gradebook.db").is_file():  # the due date and extensions are the class gradebook's
        from . import late

        late.apply(course.load_config(root), output, assignment)
    write_nbgrader_config(root, submissions, output)
    write_tables(output)
    results = load_outcomes(output, assignment)
    from .report import write_report

    write_report(results, output, assignment)
    # Everyone graded now, and anyone whose pages an interrupted run never wrote.
    stale = [student for student in students if _feedback_out_of_date(output, assignment, student)] if feedback else []
    if stale:
        from .feedback import write_feedback

        write_feedback(root, output, assignment, students=stale, submissions=submissions)
    return {"graded": todo, "unchanged": [s for s in students if s not in todo], "outcomes": results}
