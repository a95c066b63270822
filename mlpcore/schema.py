"""The typed contract between the checks and the grader, and the grader and its readers.

Three kinds of data cross from one part of the autograder to another, and each is
defined here once:

* a check's verdict, :class:`CheckResult`. In ``mlpcore grade`` the grading worker
  decides it (see :mod:`mlpcore.autograde.trusted`) and stores it in the graded cell
  as a display output of type :data:`VERDICT_MIME`, beside the error or the line a
  learner reads; :func:`verdicts` reads it back. It has no ``text/plain`` part, so
  nbconvert, formgrader and JupyterLab show nothing for it: the learner reads the
  message, the tools read the data.
* a submission's status, one row of :data:`STATUSES`: what it means, how serious it
  is, whether a teacher should look.
* what grading gave a cell and a notebook, :class:`CellOutcome` and
  :class:`NotebookOutcome`: the JSON kept in ``outcomes/<assignment>/<student>.json``
  (see :mod:`mlpcore.autograde.outcome`), read by the tables, the report and the
  feedback pages;
* what a grading run holds each kernel to, :class:`GradingSettings`, and what the pipeline's
  steps leave in a notebook's metadata (:data:`METADATA_KEY`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

# A graded notebook's metadata key for what the pipeline's steps found:
# ``{"problems": {status: [reasons]}, "violations": [...], "sandbox": label}``.
METADATA_KEY = "mlpcore"

# ------------------------------------------------------------------------------------------ a check's verdict

VERDICT_MIME = "application/vnd.mlpcore.verdict+json"

# What one check found, in the words the tools use; ``passed`` is the only one that scores.
CHECK_OUTCOMES = ("passed", "wrong", "error", "unanswered", "mutated_input", "reference_used", "tampered")
# The ename of the error output of a check that failed, by outcome (nbgrader scores any error 0).
FAILURE_ENAMES = {"reference_used": "ReferenceUsed", "tampered": "CheckTampered"}
DEFAULT_FAILURE_ENAME = "ExerciseFailed"


@dataclass(frozen=True)
class CheckResult:
    """One ``check(...)`` call's verdict.

    ``exercise``: the exercise's name; ``outcome``: one of :data:`CHECK_OUTCOMES`;
    ``message``: the one-paragraph failure as nbgrader keeps it (``str`` of the
    :class:`~mlpcore.grading.ExerciseFailed`, likely mistake included), or the passing
    line; ``case``: which case failed ("" when none); ``mistake``: the likely mistake, or
    None; ``hidden``: whether the check ran the hidden cases; ``your_code``: the learner's
    line that raised, or None; ``problem``: what differs, alone, as the failure states it
    ("" for a result not built from a failure). :attr:`summary` is the message without
    the likely mistake.
    """

    exercise: str
    outcome: str
    message: str = ""
    case: str = ""
    mistake: str | None = None
    hidden: bool = False
    your_code: str | None = None
    problem: str = ""

    def __post_init__(self):
        if self.outcome not in CHECK_OUTCOMES:
            raise ValueError(f"a check's outcome is one of {', '.join(CHECK_OUTCOMES)}, not {self.outcome!r}")

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    @property
    def ename(self) -> str:
        """The error name a failing verdict's output carries."""
        return FAILURE_ENAMES.get(self.outcome, DEFAULT_FAILURE_ENAME)

    @property
    def summary(self) -> str:
        """What the check found, without the likely mistake (which :attr:`mistake` holds):
        ``relu: case 2 of 3 (Z (4, 5) float64): what differs.``, the paragraph of the failure
        without its last line; the whole message for a result not built from a failure."""
        if not self.problem:
            return self.message
        return f"{self.exercise}: " + (f"{self.case}: " if self.case else "") + f"{self.problem}."

    @classmethod
    def from_failure(cls, failure, hidden: bool = False) -> CheckResult:
        """The result of an :class:`~mlpcore.grading.ExerciseFailed`."""
        outcome = failure.reason if failure.reason in CHECK_OUTCOMES else "error"
        return cls(failure.exercise, outcome, str(failure), failure.case, failure.mistake, hidden, failure.your_code, failure.problem)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data) -> CheckResult:
        """The result stored by :meth:`to_json`; ``ValueError`` for anything else."""
        names = {field.name for field in fields(cls)}
        if not isinstance(data, dict) or not {"exercise", "outcome"} <= set(data) <= names:
            raise ValueError(f"not a check result: {str(data)[:200]}")
        for key, value in data.items():
            wanted = bool if key == "hidden" else str
            if not (isinstance(value, wanted) or (value is None and key in ("mistake", "your_code"))):
                raise ValueError(f"a check result's {key} should be {wanted.__name__}, not {type(value).__name__}")
        return cls(**data)

    def output(self) -> dict:
        """The verdict as a notebook output (a display output only tools read)."""
        from nbformat.notebooknode import NotebookNode

        return NotebookNode(output_type="display_data", data={VERDICT_MIME: self.to_json()}, metadata={})


def verdicts(cell) -> list[CheckResult]:
    """The check results stored in a graded cell's outputs, in order (none for a cell graded
    the plain nbgrader way, whose outputs hold only what the kernel printed).
    ``ValueError`` when one of them is not a check result."""
    found = []
    for out in cell.get("outputs", []):
        data = out.get("data", {}) if out.get("output_type") == "display_data" else {}
        if VERDICT_MIME in data:
            found.append(CheckResult.from_json(data[VERDICT_MIME]))
    return found


# ------------------------------------------------------------------------------------------ statuses


@dataclass(frozen=True)
class Status:
    """What can be wrong with a submission. ``meaning``: in words, for the teacher; ``serious``:
    the grade itself may be wrong or missing (shown in red, the others in yellow);
    ``needs_attention``: listed in the report's "needs attention" for a teacher to look at."""

    name: str
    meaning: str
    serious: bool
    needs_attention: bool = True

    @property
    def style(self) -> str:
        """``ok``, ``serious`` or ``notice``: how the report and feedback pages colour it."""
        return "ok" if not self.needs_attention else "serious" if self.serious else "notice"

    @classmethod
    def named(cls, name: str) -> Status:
        """The table's row for ``name``; a name it lacks (from another mlpcore version) is serious
        and needs attention, with no meaning to show."""
        return STATUSES.get(name) or cls(name, "", serious=True)


# Every status, most serious first: a notebook's status is the most serious of its problems, and a
# submission's the most serious of its notebooks'.
STATUSES = {
    status.name: status
    for status in (
        Status("invalid", "a notebook is not a readable notebook file", serious=True),
        Status("missing", "a notebook was not submitted", serious=True),
        Status("error", "the grader failed on this submission (see the reason)", serious=True),
        Status("crashed", "the kernel died or ran out of memory; the other cells were still graded", serious=True),
        Status("timeout", "a cell or the notebook ran over its time limit; the other cells were still graded", serious=True),
        Status(
            "tampered",
            "a read-only cell (a test) was edited (graded with the original), a cell rebinds check "
            "(removed before grading), or a check cell's result was missing, forged or malformed "
            "(that cell scores 0)",
            serious=True,
        ),
        Status("reference_used", "an answer called mlpcore's reference implementation", serious=True),
        Status(
            "suspicious",
            "the code reaches into the grader (frames, closures, tracing, IPython's hooks, "
            "mlpcore's internals, another process or copy of mlpcore), in a cell or a file it "
            "brings: read the line named",
            serious=True,
        ),
        Status("wrote_outside", "the code tried to write outside its own folder (refused)", serious=False),
        Status("restructured", "cells were deleted or reordered; graded after restoring the course's cells and order", serious=False),
        Status("renamed", "a notebook was submitted under another name; graded as the right one", serious=False),
        Status("output_truncated", "a cell printed more output than is kept", serious=False),
        Status("ok", "graded normally", serious=False, needs_attention=False),
    )
}


def known_status(name: str) -> str:
    """``name``, when it is a status of :data:`STATUSES`; ``ValueError`` naming them otherwise
    (a mistyped status would rank below ``ok`` and make the saved outcome unreadable)."""
    if name not in STATUSES:
        raise ValueError(f"{name!r} is not a status; the statuses are {', '.join(STATUSES)}")
    return name


@dataclass
class NotebookProblems:
    """What was wrong with one notebook of a submission: ``{status: [reasons]}``, each status one of
    :data:`STATUSES` (checked as it is added); ``found_as``: the file name it was found under."""

    found_as: str | None = None
    problems: dict[str, list[str]] = field(default_factory=dict)

    def add(self, status: str, reason: str) -> None:
        self.problems.setdefault(known_status(status), []).append(reason)


def severity(status: str) -> int:
    """``status``'s place in :data:`STATUSES`: 0 is the most serious; a name the table lacks comes last."""
    order = list(STATUSES)
    return order.index(status) if status in order else len(order)


def worst(statuses) -> str:
    """The most serious of ``statuses``, ``ok`` when there are none."""
    return min(statuses, key=severity, default="ok")


# ------------------------------------------------------------------------------------------ outcomes

# What happened to one graded cell, in words for learners (feedback pages, mlpcore check, the report).
OUTCOME_WORDS = {
    "passed": "passed",
    "failed": "failed a check",
    "unanswered": "not answered yet",
    "error": "stopped with an error",
    "timeout": "ran over the time limit",
    "crashed": "the kernel crashed",
    "reference_used": "called mlpcore's reference answer",
    "tampered": "result missing or forged",
    "not_graded": "not graded",
    "edited": "test cell edited",
}
# The cell outcome a check's verdict gives.
CELL_OUTCOME_OF_CHECK = {
    "passed": "passed",
    "wrong": "failed",
    "mutated_input": "failed",
    "error": "error",
    "unanswered": "unanswered",
    "reference_used": "reference_used",
    "tampered": "tampered",
}

_MISTAKE_LINE = "\nLikely mistake: {}."  # how a failure's paragraph ends when it names a mistake (failure.py)


def exercise_name(grade_id: str) -> str:
    """A graded cell's name from its grade id alone: ``dense_forward_tests`` -> ``dense_forward``. Only for
    a cell that names no exercise by its checks (see :func:`mlpcore.grading.testcells.exercise_of_cell`)
    and for outcomes saved before cells carried their exercise."""
    return grade_id.removesuffix("_tests")


def _number(value, key: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what}'s {key} should be a number, not {type(value).__name__}")
    return float(value)


def _text(value, key: str, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what}'s {key} should be text, not {type(value).__name__}")
    return value


def _optional_text(value, key: str, what: str) -> str | None:
    return None if value is None else _text(value, key, what)


@dataclass
class CellOutcome:
    """What grading gave one graded cell.

    ``grade_id``: nbgrader's id of the cell; ``exercise``: the exercise it tests (``relu_tests`` ->
    ``relu``); ``score``, ``max_score``: nbgrader's points; ``outcome``: a key of
    :data:`OUTCOME_WORDS`; ``message``: what the learner reads about it, without the likely
    mistake ("" for a cell that passed); ``mistake``: the likely mistake, or None.
    """

    grade_id: str
    exercise: str
    score: float
    max_score: float
    outcome: str
    message: str = ""
    mistake: str | None = None

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data) -> CellOutcome:
        """The cell as :meth:`to_json` saved it; ``ValueError`` for anything else.

        Reads outcomes saved before verdicts too, whose message ended with the likely mistake's line."""
        what = "a graded cell"
        if not isinstance(data, dict) or not {"grade_id", "outcome"} <= set(data):
            raise ValueError(f"not {what}: {str(data)[:200]}")
        grade_id, outcome = _text(data["grade_id"], "grade_id", what), _text(data["outcome"], "outcome", what)
        if outcome not in OUTCOME_WORDS:
            raise ValueError(f"a graded cell's outcome is one of {', '.join(OUTCOME_WORDS)}, not {outcome!r}")
        mistake = _optional_text(data.get("mistake"), "mistake", what)
        message = _text(data.get("message") or "", "message", what)
        if mistake:  # saved before verdicts: the message repeated the mistake on its last line
            message = message.removesuffix(_MISTAKE_LINE.format(mistake))
        exercise = data.get("exercise") or exercise_name(grade_id)
        return cls(
            grade_id,
            _text(exercise, "exercise", what),
            _number(data.get("score", 0.0), "score", what),
            _number(data.get("max_score", 0.0), "max_score", what),
            outcome,
            message,
            mistake,
        )


@dataclass
class NotebookOutcome:
    """What grading gave one notebook of a submission.

    ``problems``: ``{status: [reason, ...]}``, a status of :data:`STATUSES` each; ``found_as``: the
    file name it was submitted under when not its own, else None; ``cells``: its graded cells, in
    the notebook's order. Its status and points follow from those (:attr:`status`, :attr:`score`,
    :attr:`max_score`); :meth:`to_json` writes them out for the file's other readers.
    """

    problems: dict[str, list[str]] = field(default_factory=dict)
    found_as: str | None = None
    cells: list[CellOutcome] = field(default_factory=list)

    @property
    def status(self) -> str:
        return worst(self.problems)

    @property
    def score(self) -> float:
        return sum(cell.score for cell in self.cells)

    @property
    def max_score(self) -> float:
        return sum(cell.max_score for cell in self.cells)

    def to_json(self) -> dict:
        return {
            "status": self.status,
            "problems": self.problems,
            "found_as": self.found_as,
            "score": self.score,
            "max_score": self.max_score,
            "cells": [cell.to_json() for cell in self.cells],
        }

    @classmethod
    def from_json(cls, data) -> NotebookOutcome:
        """The notebook as :meth:`to_json` saved it; ``ValueError`` for anything else."""
        what = "a graded notebook"
        if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
            raise ValueError(f"not {what}: {str(data)[:200]}")
        problems = data.get("problems") or {}
        if not isinstance(problems, dict) or not all(
            status in STATUSES and isinstance(reasons, list) and all(isinstance(r, str) for r in reasons)
            for status, reasons in problems.items()
        ):
            raise ValueError(f"a graded notebook's problems should be {{status: [reason, ...]}}: {str(problems)[:200]}")
        found_as = _optional_text(data.get("found_as"), "found_as", what)
        return cls(
            {status: list(reasons) for status, reasons in problems.items()},
            found_as,
            [CellOutcome.from_json(cell) for cell in data["cells"]],
        )


@dataclass
class SubmissionOutcome:
    """What grading gave one student's submission of an assignment: the JSON kept in
    ``outcomes/<assignment>/<student>.json``, the one place its keys are written and checked.

    ``notebooks``: each notebook's :class:`NotebookOutcome`, by name; ``grades`` and ``comments``:
    nbgrader's per-cell records; ``timestamp``: when it was submitted (ISO text) or None. Its status,
    points and reasons follow from the notebooks. The grading run adds ``seconds``, ``retries``,
    ``sandbox`` and ``fingerprint`` (see :mod:`mlpcore.autograde.grade`), kept in ``extra`` with any
    key this version does not know."""

    student_id: str
    assignment: str
    notebooks: dict[str, NotebookOutcome] = field(default_factory=dict)
    grades: dict = field(default_factory=dict)
    comments: dict = field(default_factory=dict)
    timestamp: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        return worst(notebook.status for notebook in self.notebooks.values())

    @property
    def reasons(self) -> list[str]:
        return [
            f"{name}: {reason}"
            for name, notebook in self.notebooks.items()
            for status in STATUSES
            for reason in notebook.problems.get(status, [])
        ]

    def to_json(self) -> dict:
        return {
            "student_id": self.student_id,
            "assignment": self.assignment,
            "status": self.status,
            "reasons": self.reasons,
            "score": sum(notebook.score for notebook in self.notebooks.values()),
            "max_score": sum(notebook.max_score for notebook in self.notebooks.values()),
            "timestamp": self.timestamp,
            "notebooks": {name: nb.to_json() for name, nb in self.notebooks.items()},
            "grades": self.grades,
            "comments": self.comments,
            **self.extra,
        }

    @staticmethod
    def check(data) -> None:
        """``ValueError`` naming the key unless ``data`` is a saved outcome: the keys it has hold what
        :meth:`to_json` writes there (an outcome saved by an older version may lack some)."""
        what = "a saved outcome"
        if not isinstance(data, dict):
            raise ValueError(f"not {what}: a JSON {type(data).__name__}")
        for key in ("student_id", "assignment"):
            if key in data:
                _text(data[key], key, what)
        if "status" in data and data["status"] not in STATUSES:
            raise ValueError(f"{what}'s status {data['status']!r} is not a status; the statuses are {', '.join(STATUSES)}")
        for key in ("score", "max_score"):
            if key in data:
                _number(data[key], key, what)
        if "reasons" in data and not (isinstance(data["reasons"], list) and all(isinstance(r, str) for r in data["reasons"])):
            raise ValueError(f"{what}'s reasons should be a list of texts")
        if "notebooks" in data:
            if not isinstance(data["notebooks"], dict):
                raise ValueError(f"{what}'s notebooks should be {{name: notebook}}")
            for notebook in data["notebooks"].values():
                NotebookOutcome.from_json(notebook)


def notebooks_of(result: dict) -> dict[str, NotebookOutcome]:
    """The graded notebooks of a submission's outcome (the dict an ``outcomes/*.json`` file holds),
    by name; ``ValueError`` when one is not a graded notebook."""
    return {name: NotebookOutcome.from_json(graded) for name, graded in result.get("notebooks", {}).items()}


# ------------------------------------------------------------------------------------------ settings


@dataclass(frozen=True)
class GradingSettings:
    """What a grading run holds each kernel to; the defaults are those of ``mlpcore grade``.

    A job carries them as :meth:`to_json`'s dict (the same keys as the options), and a saved outcome's
    fingerprint includes them, so grading again with other limits grades again."""

    notebook_timeout: float = 600.0  # seconds per notebook
    cell_timeout: int = 120  # seconds per cell (nbgrader's own limit)
    memory_mb: int = 2048  # address space per kernel
    max_output_bytes: int = 1_000_000  # output kept per cell
    max_file_mb: int = 100  # largest file a kernel may write
    kernel_startup_timeout: int = 60  # seconds a kernel has to start (doubled on each retry)
    sandbox: str = "auto"  # bwrap, none, or auto: bwrap where it works (see mlpcore.autograde.sandbox)
    tmp_mb: int = 256  # size of each of a sandboxed kernel's private writable folders (/tmp, home, work)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data) -> GradingSettings:
        """Settings from :meth:`to_json`'s dict, any key left out taking its default; ``ValueError``
        naming the key for an unknown key or a value of the wrong type."""
        if not isinstance(data, dict):
            raise ValueError(f"grading settings should be a dict, not {type(data).__name__}")
        kinds = {f.name: str(f.type) for f in fields(cls)}  # the annotations' text: "float", "int", "str"
        unknown = set(data) - set(kinds)
        if unknown:
            raise ValueError(f"unknown grading settings {sorted(unknown)}; the settings are {', '.join(kinds)}")
        for key, value in data.items():
            wanted = {"float": (int, float), "int": (int,), "str": (str,)}[kinds[key]]
            if isinstance(value, bool) or not isinstance(value, wanted):
                raise ValueError(f"the grading setting {key} should be {kinds[key]}, not {value!r}")
        return cls(**data)


@dataclass(frozen=True)
class GradingJob:
    """Everything needed to grade one submission, as plain data, so that it can go to a thread on this
    machine or to a Dask worker on another (see :mod:`mlpcore.autograde.worker`).

    ``files``: the submission's regular files, ``{relative path: bytes}``; ``refused``: what was not
    read (links, special files), one reason each; ``too_big``: why nothing was read, or "";
    ``release``: ``{notebook name: release notebook bytes}``; ``source_files``: the assignment's other
    files; ``gradebook``: the template gradebook's bytes; ``settings``: :class:`GradingSettings` as a
    dict, with ``sandbox_resolved`` where the caller decided the sandbox; ``exercise_files``: the
    course's own exercise files, ``{file name: bytes}``."""

    student_id: str
    assignment: str
    files: dict[str, bytes]
    refused: list[str]
    too_big: str
    release: dict[str, bytes]
    source_files: dict[str, bytes]
    gradebook: bytes
    settings: dict
    exercise_files: dict[str, bytes] = field(default_factory=dict)
