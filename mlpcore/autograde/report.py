"""The class report of one assignment: how the class did, which exercises were hard, who needs a look.

:func:`write_report` reads the outcomes of :mod:`mlpcore.autograde.outcome` (one per student) and writes::

    OUT/report-<assignment>.png    score distribution and per-exercise pass rates
    OUT/report-<assignment>.html   the same figure, the per-exercise table, the students
                                   that need attention and the whole gradebook, in one file

The HTML page needs nothing but itself (the figure is embedded, the CSS inline), so it can be
mailed or archived. It reads on a phone too: there the page shows a figure drawn for a phone (one
column, the panels one above the other, :func:`draw_phone_figure`) and each table row is a card.
Every text that can come from a student (ids, reasons, messages) is escaped.
The small HTML helpers here are shared with :mod:`mlpcore.autograde.feedback`.
"""

from __future__ import annotations

import base64
import statistics
from collections import Counter
from pathlib import Path

from ..schema import OUTCOME_WORDS, CellOutcome, Status, notebooks_of, severity
from .page import (CSS, NARROW_SCREEN, NONE, PHONE_FIGURE_MAX, PHONE_FIGURE_SCREEN, cards_table, escape,  # noqa: F401
                   html_page, status_badge)
from .sandbox import FULL

DPI = 110
MISTAKES_SHOWN = 3  # the most common named mistakes listed per exercise in the HTML table
FIGURE_MISTAKE_CHARS = 70  # a longer mistake is cut in the figure (the HTML has it whole)

# A phone gets a figure of its own: the desktop one, 1375 px wide, would be shrunk to a quarter and its
# text to 4 px. The phone's is one column, the panels one above the other, drawn for PHONE_WIDTH CSS
# pixels (so a point of text is 100/72 px there) at two image pixels per CSS pixel (sharp on a phone).
PHONE_FIGURE_INCHES = 3.6
PHONE_DPI = 200
PHONE_WIDTH = 360  # CSS px at which the phone figure's fonts are designed (72 pt to 100 px)
PHONE_MISTAKE_CHARS = 42  # a line of a mistake under a bar, at 9 pt
PHONE_MISTAKE_LINES = 3
PHONE_ROW_INCHES = 0.2  # in the phone figure, the height of an exercise's name line, and of its bar
MISTAKE_LINE_ROWS = 0.8  # a line of a mistake (9 pt), in those rows
EXERCISE_GAP_ROWS = 0.6  # between two exercises

def _png_data(png: bytes) -> str:
    return f"data:image/png;base64,{base64.b64encode(png).decode()}"


def figure_html(png: bytes, phone_png: bytes, alt: str) -> str:
    """The figure ``png``, and on a screen up to :data:`PHONE_FIGURE_SCREEN` px wide ``phone_png`` instead."""
    return (f'<picture><source media="(max-width: {PHONE_FIGURE_SCREEN}px)" srcset="{_png_data(phone_png)}">'
            f'<img class="figure" alt="{escape(alt)}" src="{_png_data(png)}"></picture>')


def fmt(number: float) -> str:
    """``2.0`` -> ``2``, ``1.5`` -> ``1.5``: points as a teacher writes them."""
    return f"{number:.2f}".rstrip("0").rstrip(".") if number == number else "-"


def percent(score: float, max_score: float) -> float:
    """``score`` as a percentage of ``max_score`` (0 when nothing could be scored)."""
    return 100.0 * score / max_score if max_score else 0.0


# ---------------------------------------------------------------------------------------------- numbers


def exercise_summaries(results: list[dict]) -> list[dict]:
    """One summary per graded cell, in course order (the order of the cells in the outcomes).

    Each is ``{"notebook", "grade_id", "exercise", "label", "points", "students", "passed", "pass_rate",
    "mean_score", "outcomes": {outcome: count}, "mistakes": [[mistake, count], ...] most common first}``.
    """
    cells_by_key: dict[tuple[str, str], list[CellOutcome]] = {}
    for result in results:
        for notebook, graded in notebooks_of(result).items():
            for cell in graded.cells:
                cells_by_key.setdefault((notebook, cell.grade_id), []).append(cell)
    names = {notebook for notebook, _ in cells_by_key}
    summaries = []
    for (notebook, grade_id), cells in cells_by_key.items():  # dicts keep the first-seen (course) order
        exercise = cells[0].exercise
        outcomes = Counter(cell.outcome for cell in cells)
        mistakes = Counter(cell.mistake for cell in cells if cell.mistake)
        summaries.append({
            "notebook": notebook, "grade_id": grade_id, "exercise": exercise,
            # the notebook's name is only needed to tell exercises apart when there are several notebooks
            "label": exercise if len(names) == 1 else f"{notebook}: {exercise}",
            "points": max(cell.max_score for cell in cells),
            "students": len(cells), "passed": outcomes["passed"],
            "pass_rate": outcomes["passed"] / len(cells),
            "mean_score": statistics.fmean(cell.score for cell in cells),
            "outcomes": dict(outcomes.most_common()),
            "mistakes": [[mistake, count] for mistake, count in mistakes.most_common()],
        })
    return summaries


def class_summary(results: list[dict]) -> dict:
    """Headline numbers: students, mean and median score (points and %), full marks."""
    if not results:
        return {"students": 0}
    scores = [float(result.get("score") or 0.0) for result in results]
    percents = [percent(float(r.get("score") or 0.0), float(r.get("max_score") or 0.0)) for r in results]
    return {
        "students": len(results),
        "max_score": max(float(result.get("max_score") or 0.0) for result in results),
        "mean_score": statistics.fmean(scores), "median_score": statistics.median(scores),
        "mean_percent": statistics.fmean(percents), "median_percent": statistics.median(percents),
        "full_marks": sum(1 for result in results
                          if result.get("max_score") and result["score"] >= result["max_score"] - 1e-9),
    }


def needing_attention(results: list[dict]) -> list[dict]:
    """Every outcome whose status needs a teacher's attention, the most serious status first, then by student."""
    flagged = [result for result in results if Status.named(result.get("status", "ok")).needs_attention]
    return sorted(flagged, key=lambda result: (severity(result["status"]), str(result["student_id"])))


# ---------------------------------------------------------------------------------------------- figure


def _pass_colour(rate: float):
    """Red for an exercise few passed, through yellow, to green for one everybody passed."""
    from matplotlib import colormaps

    return colormaps["RdYlGn"](0.1 + 0.8 * rate)  # the ends of RdYlGn are too dark to read a label on


def _plot_scores(ax, results: list[dict], title_size=None) -> None:
    percents = [percent(float(r.get("score") or 0.0), float(r.get("max_score") or 0.0)) for r in results]
    counts, _, _ = ax.hist(percents, bins=[i * 10 for i in range(11)], color="#4c72b0", edgecolor="white")
    median = statistics.median(percents)
    ax.axvline(median, color="#c44e52", linestyle="--", linewidth=2, label=f"median {median:.0f}%")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, max(counts) * 1.2 + 0.3)  # headroom for the legend above the bars
    ax.yaxis.get_major_locator().set_params(integer=True)  # students come in whole numbers
    ax.set_title(f"Score distribution ({len(results)} student{'s' * (len(results) != 1)})", fontsize=title_size)
    ax.set_xlabel("score (% of the maximum)")
    ax.set_ylabel("students")
    ax.legend(loc="upper left", frameon=False)


def _plot_exercises(ax, exercises: list[dict]) -> None:
    rows = range(len(exercises))
    rates = [100 * exercise["pass_rate"] for exercise in exercises]
    ax.barh(rows, rates, height=0.5, color=[_pass_colour(e["pass_rate"]) for e in exercises], edgecolor="#555")
    for row, exercise in zip(rows, exercises):
        ax.text(min(rates[row], 100) + 1, row, f"{rates[row]:.0f}% ({exercise['passed']}/{exercise['students']})",
                va="center", fontsize=10)
        if exercise["mistakes"]:
            mistake, count = exercise["mistakes"][0]
            if len(mistake) > FIGURE_MISTAKE_CHARS:
                mistake = mistake[: FIGURE_MISTAKE_CHARS - 1] + "\u2026"
            # under the bar, in the gap between rows: long mistakes fit there and cover no bar
            ax.text(0.5, row + 0.3, f"most common mistake ({count}x): {mistake}", va="top", fontsize=9.5,
                    style="italic", color="#333")
    ax.set_yticks(list(rows), [exercise["label"] for exercise in exercises])
    hardest = min(rates)
    for label, rate in zip(ax.get_yticklabels(), rates):
        if rate == hardest and hardest < 100:
            label.set_fontweight("bold")  # the hardest exercise(s), easy to spot even in black and white
    ax.set_ylim(len(exercises) - 0.35, -0.6)  # course order from the top; room for the last mistake line
    ax.set_xlim(0, 118)  # room for the "100% (n/n)" labels right of the longest bars
    ax.set_xticks(range(0, 101, 20))
    ax.set_xlabel("students who passed (%)")
    ax.set_title("Per exercise: who passed (redder = harder; hardest in bold)")
    ax.grid(axis="x", color="#ddd", linewidth=0.8)
    ax.set_axisbelow(True)


def _mistake_lines(exercise: dict) -> list[str]:
    """The exercise's most common mistake in lines that fit under its bar in the phone figure."""
    import textwrap

    if not exercise["mistakes"]:
        return []
    mistake, count = exercise["mistakes"][0]
    return textwrap.wrap(f"most common mistake ({count}x): {mistake}", PHONE_MISTAKE_CHARS,
                         max_lines=PHONE_MISTAKE_LINES, placeholder=" \u2026")


def _exercise_rows(exercises: list[dict]) -> tuple[list[tuple[float, list[str]]], float]:
    """``([(top, mistake lines) of each exercise], total height)`` in the phone figure, in rows: a name
    line and a bar take one row each, a line of a mistake :data:`MISTAKE_LINE_ROWS`, then a gap."""
    rows, top = [], 0.0
    for exercise in exercises:
        lines = _mistake_lines(exercise)
        rows.append((top, lines))
        top += 2 + MISTAKE_LINE_ROWS * len(lines) + EXERCISE_GAP_ROWS
    return rows, top - EXERCISE_GAP_ROWS


def _plot_exercises_stacked(ax, exercises: list[dict]) -> None:
    """Per exercise, one above the other: its name (the whole width is its own), a bar with the pass rate
    right of it, the most common mistake under it."""
    rows, height = _exercise_rows(exercises)
    hardest = min(exercise["pass_rate"] for exercise in exercises)
    for exercise, (top, lines) in zip(exercises, rows):
        rate = 100 * exercise["pass_rate"]
        bold = "bold" if exercise["pass_rate"] == hardest < 1 else "normal"  # the hardest, even in black and white
        ax.text(0, top + 0.5, exercise["label"], va="center", fontsize=10.5, fontweight=bold)
        ax.barh(top + 1.4, 100, height=0.8, color="#eeeeee", edgecolor="#bbb")  # the track: everyone passed
        ax.barh(top + 1.4, rate, height=0.8, color=_pass_colour(exercise["pass_rate"]), edgecolor="#555")
        ax.text(102, top + 1.4, f"{rate:.0f}% ({exercise['passed']}/{exercise['students']})", va="center",
                fontsize=9.5)
        if lines:
            ax.text(0, top + 2.0, "\n".join(lines), va="top", fontsize=9, style="italic", color="#333",
                    linespacing=1.2)
    ax.set_ylim(height + 0.1, -0.1)
    ax.set_xlim(0, 150)  # room for "100% (120/120)" right of a full bar
    ax.set_xticks(range(0, 101, 25))
    ax.tick_params(labelsize=9)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("students who passed (%)", fontsize=9.5)
    ax.set_title("Who passed each exercise\n(redder = harder; hardest in bold)", fontsize=11)


def _nothing_graded(ax, title: str) -> None:
    ax.text(0.5, 0.5, "nothing graded yet", ha="center", va="center", fontsize=12, color="#777")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])


def draw_figure(results: list[dict], exercises: list[dict], assignment: str):
    """The report's figure: score histogram (left) and per-exercise pass rates (right)."""
    from matplotlib.figure import Figure

    height = max(4.2, 1.6 + 0.75 * len(exercises))  # each row holds a bar and its mistake line
    figure = Figure(figsize=(12.5, height), dpi=DPI, layout="constrained")
    scores_ax, exercises_ax = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.45]})
    if results:
        _plot_scores(scores_ax, results)
    else:
        _nothing_graded(scores_ax, "Score distribution")
    if exercises:
        _plot_exercises(exercises_ax, exercises)
    else:
        _nothing_graded(exercises_ax, "Per exercise: who passed")
    figure.suptitle(f"Class report: {assignment}", fontsize=13, fontweight="bold")
    return figure


def draw_phone_figure(results: list[dict], exercises: list[dict]):
    """The report's figure for a phone: the score histogram above the per-exercise pass rates, each
    exercise's name and mistake on lines of their own, drawn :data:`PHONE_FIGURE_INCHES` wide with fonts
    of 9 pt or more (12.5 CSS px or more at :data:`PHONE_WIDTH`)."""
    from matplotlib.figure import Figure

    # the rows, and about 0.9 in for the title above them and the axis below
    exercises_height = 0.9 + PHONE_ROW_INCHES * (_exercise_rows(exercises)[1] + 0.2) if exercises else 2.2
    scores_height = 2.6
    figure = Figure(figsize=(PHONE_FIGURE_INCHES, scores_height + exercises_height), dpi=PHONE_DPI,
                    layout="constrained")
    scores_ax, exercises_ax = figure.subplots(2, 1, height_ratios=[scores_height, exercises_height])
    if results:
        _plot_scores(scores_ax, results, title_size=11)
        scores_ax.tick_params(labelsize=9)
    else:
        _nothing_graded(scores_ax, "Score distribution")
    if exercises:
        _plot_exercises_stacked(exercises_ax, exercises)
    else:
        _nothing_graded(exercises_ax, "Who passed each exercise")
    return figure


def png_bytes(figure, dpi: float) -> bytes:
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------- HTML


def _summary_html(summary: dict) -> str:
    if not summary["students"]:
        return "<p><strong>Nothing was graded for this assignment yet</strong>: there are no outcomes to report.</p>"
    top = fmt(summary["max_score"])
    return (
        "<table>"
        f"<tr><th>students</th><td class=\"num\">{summary['students']}</td></tr>"
        f"<tr><th>mean score</th><td class=\"num\">{summary['mean_score']:.2f} / {top} "
        f"({summary['mean_percent']:.0f}%)</td></tr>"
        f"<tr><th>median score</th><td class=\"num\">{fmt(summary['median_score'])} / {top} "
        f"({summary['median_percent']:.0f}%)</td></tr>"
        f"<tr><th>full marks</th><td class=\"num\">{summary['full_marks']} of {summary['students']}</td></tr>"
        "</table>"
    )


def _outcome_counts_html(outcomes: dict) -> str:
    others = [f"{escape(OUTCOME_WORDS.get(outcome, outcome))}: {count}"
              for outcome, count in outcomes.items() if outcome != "passed"]
    return ", ".join(others) or NONE


def _exercises_html(exercises: list[dict]) -> str:
    if not exercises:
        return "<p class=\"muted\">No graded exercises.</p>"
    rows = []
    for exercise in exercises:
        mistakes = "<br>".join(f"{escape(mistake)} <span class=\"muted\">({count}x)</span>"
                               for mistake, count in exercise["mistakes"][:MISTAKES_SHOWN])
        if len(exercise["mistakes"]) > MISTAKES_SHOWN:
            mistakes += f"<br><span class=\"muted\">and {len(exercise['mistakes']) - MISTAKES_SHOWN} more</span>"
        rows.append([escape(exercise["label"]), fmt(exercise["points"]),
                     f"{100 * exercise['pass_rate']:.0f}% ({exercise['passed']}/{exercise['students']})",
                     f"{exercise['mean_score']:.2f}", mistakes or NONE, _outcome_counts_html(exercise["outcomes"])])
    return cards_table(["exercise", "points", "passed", "mean score", "most common named mistakes", "other outcomes"],
                       rows, numeric=(1, 2, 3), inline=(1, 2, 3))


def _score(result: dict) -> str:
    """The score after any late penalty, and the lateness in words (see late.py)."""
    from .late import describe

    score, max_score = float(result.get("score") or 0.0), float(result.get("max_score") or 0.0)
    late = describe(result.get("late"))
    return (f"{fmt(score)} / {fmt(max_score)} ({percent(score, max_score):.0f}%)"
            + (f' <span class="small">late: {escape(late)}</span>' if late else ""))


def _attention_html(flagged: list[dict]) -> str:
    if not flagged:
        return "<p>Every submission was graded normally.</p>"
    rows = []
    for result in flagged:
        reasons = "".join(f"<li>{escape(reason)}</li>" for reason in result.get("reasons", []))
        rows.append([escape(result["student_id"]), status_badge(result["status"]), _score(result),
                     f"<ul class=\"small\">{reasons}</ul>"])
    return cards_table(["student", "status", "score", "reasons"], rows, numeric=(2,), inline=(1, 2),
                       unlabelled=(1, 3))


def _statuses_legend(flagged: list[dict]) -> str:
    """What each status seen in the needs-attention table means."""
    seen = sorted({result["status"] for result in flagged}, key=severity)
    items = "".join(f"<li>{status_badge(status)} {escape(Status.named(status).meaning)}</li>" for status in seen)
    return f"<ul class=\"small\">{items}</ul>" if items else ""


def _gradebook_html(results: list[dict]) -> str:
    if not results:
        return "<p class=\"muted\">No students.</p>"
    rows = [[escape(result["student_id"]), _score(result), status_badge(result.get("status", "ok"))]
            for result in sorted(results, key=lambda result: str(result["student_id"]))]
    return cards_table(["student", "score", "status"], rows, numeric=(1,), inline=(1, 2), unlabelled=(2,))


def _sandbox_html(results: list[dict]) -> str:
    """What the kernels ran in and the limits they were held to; a warning for every submission whose
    kernels ran without the full sandbox (see sandbox.py)."""
    if not results:
        return ""
    partial = [result for result in results if result.get("sandbox", "none") != FULL]
    limits = sorted({limit for result in results for limit in result.get("limits", [])})
    listed = ("<details><summary>Limits per kernel</summary><ul>"
              + "".join(f"<li>{escape(limit)}</li>" for limit in limits) + "</ul></details>") if limits else ""
    if not partial:
        return f"<p>Every kernel ran in a bubblewrap sandbox and could start no process.</p>{listed}"
    names = [str(result["student_id"]) for result in partial]
    kinds = ", ".join(sorted({result.get("sandbox") or "none" for result in partial}))
    return (f"<p style='color:#a40000'><strong>Not fully sandboxed:</strong> {len(partial)} of {len(results)} submissions "
            f"ran without bubblewrap or without the process filter ({escape(kinds)}): "
            f"{escape(', '.join(names[:20]))}{' ...' if len(names) > 20 else ''}.</p>{listed}")


def report_html(results: list[dict], exercises: list[dict], flagged: list[dict], assignment: str,
                png: bytes, phone_png: bytes, similarity: str = "") -> str:
    """The report page, with the figure ``png`` embedded (``phone_png`` on a phone); ``similarity``: the
    section on copying (see :func:`mlpcore.autograde.similarity.pages.report_section`)."""
    body = [
        f"<h1>Class report: {escape(assignment)}</h1>",
        _sandbox_html(results),
        _summary_html(class_summary(results)),
        figure_html(png, phone_png, f"score distribution and per-exercise pass rates of {assignment}"),
        "<h2>Per exercise</h2>", _exercises_html(exercises),
        f"<h2>Needs attention ({len(flagged)})</h2>", _attention_html(flagged), _statuses_legend(flagged),
        similarity,
        f"<h2>Gradebook ({len(results)})</h2>", _gradebook_html(results),
    ]
    return html_page(f"Class report: {assignment}", "\n".join(body))


def write_report(results: list[dict], output: Path, assignment: str) -> dict:
    """Write ``report-<assignment>.png`` and ``.html`` into ``output`` from the class's outcomes.

    Returns ``{"html": path, "png": path, "needs_attention": [student ids], "exercises": [summaries]}``
    (see :func:`exercise_summaries`). Works for an empty class too: the page then says nothing was graded.
    """
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    results = [result for result in results if result.get("assignment", assignment) == assignment]
    exercises = exercise_summaries(results)
    flagged = needing_attention(results)

    png_path = output / f"report-{assignment}.png"
    draw_figure(results, exercises, assignment).savefig(png_path, dpi=DPI)
    html_path = output / f"report-{assignment}.html"
    phone_png = png_bytes(draw_phone_figure(results, exercises), PHONE_DPI)
    from .similarity.pages import report_section

    html_path.write_text(report_html(results, exercises, flagged, assignment, png_path.read_bytes(), phone_png,
                                     report_section(output, assignment)), encoding="utf-8")
    return {"html": html_path, "png": png_path, "needs_attention": [result["student_id"] for result in flagged],
            "exercises": exercises}
