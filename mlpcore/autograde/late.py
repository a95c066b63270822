"""Late work, through nbgrader's own mechanism: a late-penalty plugin and where its penalty shows.

nbgrader records when each submission came in (its ``timestamp.txt``), the assignment's due date
(``nbgrader db assignment add 02-forward --duedate=...``, or formgrader's Manage Assignments) and
each student's extension (nbgrader's ``Gradebook.grant_extension``, on a submission already
collected). Its ``AssignLatePenalties`` step asks a ``LateSubmissionPlugin`` for each notebook's
penalty, with the seconds past the student's own due date (extension included). :class:`LatePenalty`
is such a plugin; the course's ``nbgrader_config.py`` chooses it::

    c.AssignLatePenalties.plugin_class = "mlpcore.autograde.late.LatePenalty"
    c.LatePenalty.per_day = 0.10        # 10 % of the score earned, per started day late
    c.LatePenalty.cap = 0.50            # never more than half of it
    c.LatePenalty.grace_minutes = 15    # up to 15 minutes late counts as on time

nbgrader's doors (``nbgrader autograde``, formgrader) run ``AssignLatePenalties`` against the class
gradebook. ``mlpcore grade`` grades each submission against a scratch gradebook that has no due
date, so :func:`apply` asks the same plugin afterwards, against the class gradebook, for every
graded student (an extension granted or a policy changed after grading takes effect on the next
run, with nothing graded again). Either way the outcome gets a ``late`` entry and its ``score``
becomes the score after the penalty, which ``grades.csv``, the report and the feedback show.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float, TraitError, validate

DAY_SECONDS = 24 * 3600


class LatePenalty(LateSubmissionPlugin):
    """A share of the score earned, lost per started day late, up to a cap, after a grace period.

    Days are counted from the student's due date (extension included), not from the end of the
    grace period: one second past the grace period is one started day late."""

    per_day = Float(0.0, help="Share of the notebook's score lost per started day late (0.1: 10 %)").tag(config=True)
    cap = Float(1.0, help="Largest share of the score lost, however late (1: all of it)").tag(config=True)
    grace_minutes = Float(0.0, help="Minutes after the due date that still count as on time").tag(config=True)

    @validate("per_day", "cap")
    def _a_share(self, proposal):
        value = proposal["value"]
        if not 0.0 <= value <= 1.0:
            raise TraitError(f"LatePenalty.{proposal['trait'].name} is a share of the score, from 0 to 1; got {value}")
        return value

    @validate("grace_minutes")
    def _not_negative(self, proposal):
        if proposal["value"] < 0:
            raise TraitError(f"LatePenalty.grace_minutes cannot be negative; got {proposal['value']}")
        return proposal["value"]

    def days_late(self, seconds_late: float) -> int:
        """Started days late, 0 within the grace period."""
        if seconds_late <= self.grace_minutes * 60:
            return 0
        return math.ceil(seconds_late / DAY_SECONDS)

    def share_lost(self, seconds_late: float) -> float:
        """The share of the score lost for ``seconds_late``: ``per_day`` per started day, at most ``cap``."""
        return min(self.cap, self.per_day * self.days_late(seconds_late))

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float:
        """nbgrader's question: the points ``student_id`` loses from ``score`` for ``total_seconds_late``."""
        return round(score * self.share_lost(total_seconds_late), 6)


def plugin(config):
    """The late-penalty plugin ``config`` (a course's traitlets configuration) asks nbgrader for,
    configured as nbgrader's ``AssignLatePenalties`` would configure it."""
    from nbgrader.preprocessors import AssignLatePenalties

    step = AssignLatePenalties(config=config)
    step.init_plugin()
    return step.plugin_inst


def _clamped(penalty, score: float) -> float:
    """A plugin's answer as nbgrader's AssignLatePenalties keeps it: None is 0, and 0 <= penalty <= score."""
    return 0.0 if penalty is None else min(max(float(penalty), 0.0), float(score or 0.0))


def late_entry(submission, penalty: float, plugin_inst=None) -> dict | None:
    """What the outcome says about lateness (``None`` on time or without a due date).

    ``submission``: nbgrader's SubmittedAssignment; ``penalty``: its points lost."""
    seconds = submission.total_seconds_late
    if not seconds:
        return None
    entry = {"due": str(submission.duedate), "submitted": str(submission.timestamp), "seconds_late": seconds,
             "extension_seconds": submission.extension.total_seconds() if submission.extension else 0.0,
             "penalty": penalty}
    if isinstance(plugin_inst, LatePenalty):
        entry.update(days_late=plugin_inst.days_late(seconds), within_grace=plugin_inst.days_late(seconds) == 0)
    return entry


def annotate(result: dict, late: dict | None) -> dict:
    """Put ``late`` into the outcome ``result``: ``score`` becomes the score after the penalty, and
    ``late["raw_score"]`` keeps the one before (applied again, it starts from that raw score)."""
    raw = float((result.get("late") or {}).get("raw_score", result.get("score") or 0.0))
    result.pop("late", None)
    result["score"] = raw
    if late is not None:
        result["late"] = {**late, "raw_score": raw}
        result["score"] = max(0.0, raw - float(late["penalty"]))
    return result


def penalise(gradebook, assignment: str, student: str, plugin_inst) -> dict | None:
    """Ask ``plugin_inst`` for each notebook's penalty of ``student``'s submission in ``gradebook``
    (nbgrader's), store it there as AssignLatePenalties does, and return the outcome's ``late`` entry."""
    submission = gradebook.find_submission(assignment, student)
    seconds = submission.total_seconds_late
    total = 0.0
    for notebook in submission.notebooks:
        penalty = None
        if seconds > 0:
            penalty = _clamped(plugin_inst.late_submission_penalty(student, notebook.score, seconds), notebook.score)
            total += penalty
        notebook.late_submission_penalty = penalty
    gradebook.db.commit()
    return late_entry(submission, total, plugin_inst)


def recorded(gradebook, assignment: str, student: str, plugin_inst=None) -> dict | None:
    """The ``late`` entry of what nbgrader's AssignLatePenalties already stored (nbgrader's doors)."""
    submission = gradebook.find_submission(assignment, student)
    penalty = sum(notebook.late_submission_penalty or 0.0 for notebook in submission.notebooks)
    return late_entry(submission, penalty, plugin_inst)


def apply(config, output: Path, assignment: str) -> list[str]:
    """Penalise every saved outcome of ``assignment`` in ``output`` (``mlpcore grade``'s folder) from the
    class gradebook there, with the plugin ``config`` names; rewrite the outcomes whose lateness
    changed (their feedback is then written again). Returns the students whose outcome changed."""
    from nbgrader.api import Gradebook, MissingEntry

    from .gradebook import db_url
    from .tables import outcome_path
    from .outcome import read_saved

    plugin_inst = plugin(config)
    changed = []
    with Gradebook(db_url(output)) as gradebook:
        for path in sorted((Path(output) / "outcomes" / assignment).glob("*.json")):
            result = read_saved(path)
            if result is None:
                continue
            try:
                late = penalise(gradebook, assignment, result["student_id"], plugin_inst)
            except MissingEntry:  # graded elsewhere, not in this gradebook: nothing to go by
                continue
            before = (result.get("late"), result.get("score"))
            annotate(result, late)
            if (result.get("late"), result.get("score")) != before:
                outcome_path(Path(output), assignment, result["student_id"]).write_text(json.dumps(result, indent=1))
                changed.append(result["student_id"])
    return changed


def describe(late: dict | None) -> str:
    """The lateness in words, for a table cell: "" when on time."""
    if not late:
        return ""
    hours = late["seconds_late"] / 3600
    how_late = f"{hours:.1f} h late" if hours < 48 else f"{hours / 24:.1f} days late"
    if late.get("extension_seconds"):
        how_late += f" (after an extension of {late['extension_seconds'] / 3600:g} h)"
    if late.get("within_grace"):
        return f"{how_late}, within the grace period: no penalty"
    days = f", {late['days_late']} started day{'s' * (late['days_late'] != 1)}" if late.get("days_late") else ""
    return f"{how_late}{days}: -{late['penalty']:g} points (from {late['raw_score']:g})"
