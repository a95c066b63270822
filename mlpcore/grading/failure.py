"""What a failing check raises, and how IPython shows it to the learner.

A failure is an :class:`ExerciseFailed` (an ``AssertionError``, so nbgrader scores
the cell 0) holding its parts: the exercise, the case, what differs, the likely
mistake and, when the learner's function raised, the line of their code that did.

``str(failure)`` is the one-paragraph form nbgrader stores as the error's ``evalue``.
The tools read a failure's parts as data instead: in ``mlpcore grade`` from the
grader's :class:`~mlpcore.schema.CheckResult` (``CheckResult.from_failure``); only
where a cell has no verdict (``mlpcore check``, plain nbgrader) does
:mod:`mlpcore.autograde.outcome` read the ``Likely mistake:`` line. In JupyterLab, the Validate dialog and
``mlpcore check``, IPython asks the exception for ``_render_traceback_()`` before
formatting a traceback of its own; answering it replaces the grader's frames
(which explain nothing to a learner) with the failure's parts, likely mistake
first, because Validate shows only the first lines of an error.
"""

from __future__ import annotations

import os
import re
import sysconfig
import textwrap
import traceback
from pathlib import Path

# nbgrader's Validate indents an error's lines by 4 and cuts them off after 87 characters.
DISPLAY_WIDTH = 83

# Cases of a hidden check are labelled "hidden case N of M"; the self-check tells a
# failure of the hidden tests from the label (the cell's traceback is no longer shown).
HIDDEN_CASE = "hidden case"
_HIDDEN_LABEL = re.compile(rf"^\w+: {HIDDEN_CASE}\b")

# Frames in these folders are not the learner's: mlpcore itself, the standard library, installed packages.
_NOT_LEARNER_CODE = tuple(
    str(folder) + os.sep for folder in {Path(__file__).resolve().parents[1]}
    | {Path(sysconfig.get_paths()[key]).resolve() for key in ("stdlib", "platstdlib", "purelib", "platlib")}
)


class ExerciseFailed(AssertionError):
    """An exercise's check failed; ``reason`` is one of wrong, error, unanswered (the function is not
    written yet), mutated_input, reference_used (the outcomes of :data:`mlpcore.schema.CHECK_OUTCOMES`).

    ``case`` says which case failed ("case 2 of 3 (Z (4, 5) float64)", or "" when the failure
    is not about one case), ``problem`` what differs, ``mistake`` the likely mistake (or None),
    ``your_code`` the learner's line that raised (or None).
    """

    def __init__(self, exercise: str, reason: str, problem: str, *, case: str = "",
                 mistake: str | None = None, your_code: str | None = None):
        self.exercise, self.reason = exercise, reason
        self.case, self.problem = case, problem.rstrip(".")
        self.mistake = mistake.rstrip(".") if mistake else None
        self.your_code = your_code
        super().__init__(self._paragraph())

    def _paragraph(self) -> str:
        """``relu: case 2 of 3 (...): what differs.\\nLikely mistake: ...``"""
        text = f"{self.exercise}: " + (f"{self.case}: " if self.case else "") + f"{self.problem}."
        return text + (f"\nLikely mistake: {self.mistake}." if self.mistake else "")

    def _render_traceback_(self) -> list[str]:
        """The lines IPython shows instead of a traceback: no frame of the grader, the mistake early,
        each line short enough for nbgrader's Validate, which cuts longer ones off."""
        parts = [f"{type(self).__name__}: {self.exercise}" + (f", {self.case}" if self.case else "")]
        if self.mistake:
            parts.append(f"Likely mistake: {self.mistake}.")
        parts.append(f"What the check found: {self.problem}.")
        if self.your_code:
            parts.append(f"Raised in your code, {self.your_code}")
        return [line for part in parts for line in textwrap.wrap(part, DISPLAY_WIDTH, subsequent_indent="    ",
                                                                 break_on_hyphens=False)]


class ReferenceUsed(ExerciseFailed):
    """The learner's code called mlpcore's reference answer. Its own class, so that the grader
    can tell it from the error name in a notebook's output."""

    def __init__(self, exercise: str, message: str):
        super().__init__(exercise, "reference_used", message)


def failed_in_hidden_cases(evalue: str) -> bool:
    """Whether a failure's text (``str(ExerciseFailed)``) is about a hidden case."""
    return bool(_HIDDEN_LABEL.match(evalue))


def learner_line(tb) -> str | None:
    """``"line 3 of relu: return np.minimum(Z)"``: the innermost frame of a traceback that is the
    learner's own code (not mlpcore, not the standard library, not an installed package), or None."""
    frames = [frame for frame in traceback.extract_tb(tb)
              if not str(Path(frame.filename).resolve()).startswith(_NOT_LEARNER_CODE)
              and not frame.filename.startswith("<frozen")]
    if not frames:
        return None
    frame = frames[-1]
    source = (frame.line or "").strip()
    return f"line {frame.lineno} of {frame.name}" + (f": {source}" if source else "")
