"""The typed contract between the checks and the grader: one check's result, as data.

A check cell's verdict travels as a :class:`CheckResult`, not as English to be
parsed: in ``mlpcore grade`` the grading worker decides it (see
:mod:`mlpcore.autograde.trusted`) and stores it in the graded cell as a display
output of type :data:`VERDICT_MIME`, beside the error or the line a learner reads.
Outcomes, feedback and the report read it back with :func:`verdicts`.

A verdict output has no ``text/plain`` part, so nbconvert, formgrader and
JupyterLab show nothing for it: the learner reads the message, the tools read the data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

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
    ``message``: the one-paragraph failure (or the passing line); ``case``: which case
    failed ("" when none); ``mistake``: the likely mistake, or None; ``hidden``: whether the
    check ran the hidden cases; ``your_code``: the learner's line that raised, or None.
    """

    exercise: str
    outcome: str
    message: str = ""
    case: str = ""
    mistake: str | None = None
    hidden: bool = False
    your_code: str | None = None

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

    @classmethod
    def from_failure(cls, failure, hidden: bool = False) -> CheckResult:
        """The result of an :class:`~mlpcore.grading.ExerciseFailed`."""
        outcome = failure.reason if failure.reason in CHECK_OUTCOMES else "error"
        return cls(failure.exercise, outcome, str(failure), failure.case, failure.mistake, hidden, failure.your_code)

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
    the plain nbgrader way, whose outputs hold only what the kernel printed)."""
    found = []
    for out in cell.get("outputs", []):
        data = out.get("data", {}) if out.get("output_type") == "display_data" else {}
        if VERDICT_MIME in data:
            found.append(CheckResult.from_json(data[VERDICT_MIME]))
    return found
