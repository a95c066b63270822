"""The class's nbgrader gradebook: the assignment's definition, and each student's scores.

Workers never touch the class's gradebook. Each grades against a copy of a
*template* gradebook that holds only the assignment (built by nbgrader's own
``generate_assignment`` from ``solutions/``), and sends its scores back; the main
process alone writes them into ``OUTPUT/gradebook.db`` (:func:`record`). SQLite
then never sees two writers, and workers on other machines need no shared disk.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import warnings
from datetime import datetime, timezone
from pathlib import Path

from .. import course
from .files import write_tree


def _generate_config(root: Path, scratch: Path, db_url: str):
    from traitlets.config import Config

    config = course.load_config(root)
    merged = Config()
    merged.merge(config)
    merged.CourseDirectory.root = str(scratch)
    merged.CourseDirectory.source_directory = str(Path(root).resolve() / course.SOURCE_DIRECTORY)
    merged.CourseDirectory.release_directory = str(scratch / "release")
    merged.CourseDirectory.db_url = db_url
    return merged


def define_assignment(root, assignment: str, db_url: str) -> dict:
    """Run nbgrader's ``generate_assignment`` for ``assignment`` into the gradebook at ``db_url``.

    This records the assignment's notebooks, cells, points and checksums there. The
    release it writes goes to a scratch folder (``course/`` is left alone) and is
    returned as ``{notebook name: bytes}``."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    course.nbgrader_api(root)  # puts alembic on PATH and checks the configuration
    with tempfile.TemporaryDirectory(prefix="mlpcore-assignment-") as scratch:
        config = _generate_config(Path(root), Path(scratch), db_url)
        api = NbGraderAPI(CourseDirectory(config=config), config=config)
        response = api.generate_assignment(assignment, force=True, create=True)
        if not response["success"]:
            raise RuntimeError(f"nbgrader could not read assignment {assignment!r}:\n"
                               f"{response.get('error') or response.get('log')}")
        release = Path(scratch) / "release" / assignment
        return {path.stem: path.read_bytes() for path in sorted(release.glob("*.ipynb"))}


def template(root, assignment: str) -> tuple[bytes, dict]:
    """A gradebook (SQLite file, as bytes) that holds only ``assignment``, and the assignment's
    release notebooks ``{name: bytes}`` as nbgrader makes them from ``solutions/`` now."""
    with tempfile.TemporaryDirectory(prefix="mlpcore-template-") as scratch:
        path = Path(scratch) / "gradebook.db"
        release = define_assignment(root, assignment, f"sqlite:///{path}")
        return path.read_bytes(), release


def db_url(output: Path) -> str:
    return f"sqlite:///{Path(output).resolve() / 'gradebook.db'}"


BACKUPS_KEPT = 20
_SQLITE_HEADER = b"SQLite format 3\x00"


class DamagedGradebook(RuntimeError):
    """The class gradebook is not a readable SQLite database: nothing is graded into it."""


def back_up(output: Path) -> Path | None:
    """Copy ``OUTPUT/gradebook.db`` to ``OUTPUT/backups/gradebook-<UTC time>.db`` (SQLite's online
    backup, so a consistent copy) and keep the newest :data:`BACKUPS_KEPT`; ``None`` when there is
    no gradebook yet. A file that is not an intact SQLite database raises :class:`DamagedGradebook`
    naming the newest backup, and is left as it is."""
    path = Path(output) / "gradebook.db"
    if not path.exists() and not path.is_symlink():
        return None
    folder = Path(output) / "backups"
    earlier = sorted(folder.glob("gradebook-*.db"))
    restore = (f"; the newest backup is {earlier[-1]}: copy it over {path} to go on" if earlier
               else f"; there is no backup of it in {folder}")
    if path.is_symlink() or not path.is_file():
        raise DamagedGradebook(f"{path} is not a regular file{restore}")
    with open(path, "rb") as handle:
        header = handle.read(len(_SQLITE_HEADER))
    if header != _SQLITE_HEADER:
        raise DamagedGradebook(f"{path} is not an SQLite database (it starts with {header[:16]!r}){restore}")
    folder.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
    target = folder / f"gradebook-{stamp}.db"
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        check = source.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise DamagedGradebook(f"{path} is damaged (SQLite's quick_check: {check}){restore}")
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
    except sqlite3.DatabaseError as exc:
        target.unlink(missing_ok=True)
        raise DamagedGradebook(f"{path} cannot be read as a gradebook ({exc}){restore}") from None
    finally:
        source.close()
    for old in sorted(folder.glob("gradebook-*.db"))[:-BACKUPS_KEPT]:
        old.unlink()
    return target


def ensure_assignment(root, assignment: str, output: Path, template_bytes: bytes) -> None:
    """Make sure the class's gradebook knows ``assignment`` (a copy of the template when it is new)."""
    from nbgrader.api import Gradebook, MissingEntry

    path = Path(output) / "gradebook.db"
    if not path.exists():
        path.write_bytes(template_bytes)
        return
    with Gradebook(db_url(output)) as gradebook:
        try:
            # An assignment added by hand to give it a due date (nbgrader db assignment add) has no notebooks yet.
            if gradebook.find_assignment(assignment).notebooks:
                return
        except MissingEntry:
            pass
    define_assignment(root, assignment, db_url(output))


def name_if_unnamed(student) -> None:
    """Formgrader lists students as "last name, first name" and shows "None, None" for a
    student nobody named (every student nbgrader's collect or autograde adds). The id
    stands in as the last name until the instructor gives names in Manage Students."""
    if student.last_name is None and student.first_name is None:
        student.last_name, student.first_name = student.id, ""


def record(output: Path, outcome: dict) -> None:
    """Write one outcome's scores into the class's gradebook, as nbgrader's autograde would.

    Manual scores from formgrader are kept; auto scores and auto comments are replaced; a notebook
    whose statuses need the instructor's eye is flagged, with the reasons in a comment (formgrader
    shows both)."""
    from nbgrader.api import Gradebook

    from ..schema import Status

    assignment, student = outcome["assignment"], outcome["student_id"]
    timestamp = datetime.fromisoformat(outcome["timestamp"]) if outcome.get("timestamp") else None
    # nbgrader's own update_or_create_submission makes SQLAlchemy warn about autoflush; it is harmless.
    with Gradebook(db_url(output)) as gradebook, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not in session.*")
        name_if_unnamed(gradebook.update_or_create_student(student))
        submission = gradebook.update_or_create_submission(assignment, student, timestamp=timestamp)
        for notebook in submission.notebooks:
            scores = outcome["grades"].get(notebook.name, {})
            for grade in notebook.grades:
                found = scores.get(grade.name)
                # A notebook nbgrader never saw (missing, unreadable) scores 0, as in nbgrader.
                grade.auto_score = found["auto_score"] if found else 0.0
                grade.needs_manual_grade = found["needs_manual_grade"] if found else False
            texts = outcome["comments"].get(notebook.name, {})
            for comment in notebook.comments:
                comment.auto_comment = texts.get(comment.name)
            graded = outcome.get("notebooks", {}).get(notebook.name, {})
            flag_notebook(notebook, graded.get("problems", {}), Status)
        gradebook.db.commit()


def scores_per_cell(url: str, assignment: str) -> dict:
    """``{(student, notebook, cell): auto_score}`` of every submission of ``assignment`` at ``url``."""
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(url) as gradebook:
        for submission in gradebook.find_assignment(assignment).submissions:
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    scores[(submission.student.id, notebook.name, grade.name)] = grade.auto_score
    return scores


def copy_autograded(output: Path, files: dict, student: str, assignment: str, release: dict | None = None,
                    reasons=()) -> None:
    """Replace ``OUTPUT/autograded/<student>/<assignment>`` with a worker's autograded files.

    A notebook of ``release`` (``{name: bytes}``) that nothing graded (missing, unreadable) gets the
    release in its place, opened by a note with ``reasons``: formgrader lists a submission's notebook
    only where a file is, and shows "(file missing)" otherwise."""
    target = Path(output) / "autograded" / student / assignment
    if target.exists():
        shutil.rmtree(target)
    # Even empty (a notebook nbgrader could not read): formgrader counts a submission as
    # graded, and lists it with its score, only when this folder exists.
    target.mkdir(parents=True)
    prefix = f"{student}/{assignment}/"
    graded = {relative[len(prefix):]: data for relative, data in files.items() if relative.startswith(prefix)}
    for name, data in (release or {}).items():
        graded.setdefault(f"{name}.ipynb", _not_graded(data, reasons))
    write_tree(target, graded)


def _not_graded(release: bytes, reasons) -> bytes:
    """The release notebook, opened by a note saying why the student's own was not graded."""
    import nbformat

    notebook = nbformat.reads(release.decode("utf-8"), as_version=4)
    why = "\n".join(f"- {reason}" for reason in reasons) or "- nothing could be read"
    notebook.cells.insert(0, nbformat.v4.new_markdown_cell(
        f"**mlpcore grader: this notebook was not graded.** What stands below is the release, not the "
        f"student's work, which scored 0:\n\n{why}"))
    return nbformat.writes(notebook).encode("utf-8")


def flag_notebook(submitted, problems: dict, status_table) -> None:
    """Flag ``submitted`` (nbgrader's SubmittedNotebook) when any of ``problems`` needs the instructor's
    eye, and say why in the auto comment of its first comment cell; lift an earlier flag otherwise."""
    attention = [f"{status}: {reason}" for status, reasons in problems.items() if reasons
                 and status_table.named(status).needs_attention for reason in reasons]
    submitted.flagged = bool(attention)
    comments = sorted(submitted.comments, key=lambda comment: comment.name)
    if comments:
        note = "mlpcore grader: " + " | ".join(attention)[:2000] if attention else None
        first = comments[0]
        kept = (first.auto_comment or "").split("\n\nmlpcore grader: ")[0]
        if kept.startswith("mlpcore grader: "):
            kept = ""
        first.auto_comment = "\n\n".join(part for part in (kept, note) if part) or None
