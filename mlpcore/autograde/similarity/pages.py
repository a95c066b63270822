"""The similarity report's pages: an index of ranked pairs per exercise, and a side-by-side page per pair.

Everything lives in ``OUTPUT/similarity/<assignment>/``, beside the class report, never under
``feedback/``: these pages name students, and only the instructor reads them. File names carry
numbers, not names. Every text from a submission is escaped.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..page import NONE, cards_table, escape, html_page
from .answers import Answer
from .summary import read_summary, report_folder
from .score import FLAG_BITS, FLAG_COVERAGE, ExerciseScores, Match

PAIRS_SHOWN = 10  # unflagged pairs listed under the flagged ones: where the flag line falls
MATCHES_SHOWN = 5  # likewise for matches with public sources

CSS = """
.flag { background: #f8d7da; color: #721c24; padding: 0 0.45em; border-radius: 0.3em; white-space: nowrap; }
.short { background: #eee; color: #555; padding: 0 0.45em; border-radius: 0.3em; }
body { max-width: 1500px; }
.sides { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1em; }
.sides h3 { font-size: 1em; margin: 0.4em 0; }
.code { font-family: ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.85em;
        border: 1px solid #ddd; background: #fafafa; padding: 0.3em 0; overflow-x: auto; }
.code div { display: flex; padding: 0 0.6em 0 0; min-height: 1.3em; }
.code .n { flex: none; width: 2.6em; text-align: right; color: #999; margin-right: 0.8em; user-select: none; }
.code .t { flex: 1; white-space: pre-wrap; overflow-wrap: anywhere; padding-left: 4ch; text-indent: -4ch; }
/* a long line wraps (nothing is hidden), its continuation indented under it */
.shared { background: #ffe08a; }
.public { box-shadow: inset 5px 0 #3b7dd8; }
.swatch { display: inline-block; padding: 0 0.5em 0 0.8em; margin-right: 1em; border: 1px solid #ddd; }
@media (max-width: 700px) { .sides { grid-template-columns: 1fr; } }
"""


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "exercise"


def _page(title: str, body: str) -> str:
    return html_page(title, body).replace("</style>", CSS + "</style>", 1)


def _lines(answer: Answer, hashes: set[int]) -> dict[int, set[int]]:
    """``{line: {hash, ...}}``: the lines of ``answer`` that the fingerprints ``hashes`` cover."""
    covered: dict[int, set[int]] = {}
    for h in hashes:
        if h in answer.prints:
            first, last = answer.prints[h]
            for line in range(first, last + 1):
                covered.setdefault(line, set()).add(h)
    return covered


def code_html(answer: Answer, shared: set[int], public: set[int], partner: Answer | None) -> str:
    """The answer's text, numbered, its lines that share fingerprints with ``partner`` marked ``shared``
    (each saying which of the partner's lines) and those a public source has marked ``public``."""
    shared_lines = _lines(answer, shared)
    public_lines = _lines(answer, public)
    rows = []
    for number, text in enumerate(answer.text.splitlines(), start=1):
        classes = [name for name, lines in (("shared", shared_lines), ("public", public_lines)) if number in lines]
        title = ""
        if number in shared_lines and partner is not None:
            theirs = sorted({line for h in shared_lines[number] for line in range(partner.prints[h][0],
                                                                                   partner.prints[h][1] + 1)})
            title = f' title="matches line{"s" * (len(theirs) > 1)} {_ranges(theirs)} of the other answer"'
        css = f' class="{" ".join(classes)}"' if classes else ""
        rows.append(f'<div{css}{title}><span class="n">{number}</span><span class="t">{escape(text)}</span></div>')
    return f'<div class="code">{"".join(rows) or "<div>(no answer)</div>"}</div>'


def _ranges(numbers: list[int]) -> str:
    parts, start = [], None
    for index, number in enumerate(numbers):
        if start is None:
            start = number
        if index + 1 == len(numbers) or numbers[index + 1] != number + 1:
            parts.append(str(start) if start == number else f"{start}-{number}")
            start = None
    return ", ".join(parts)


def _column(answer: Answer, partner: Answer, shared: set[int], public: set[int]) -> str:
    return f"<div><h3>{escape(answer.owner)}</h3>{code_html(answer, shared, public & set(answer.prints), partner)}</div>"


def side_by_side(title: str, numbers: str, left: Answer, right: Answer, public: set[int], back: str) -> str:
    """A whole page: two answers side by side, the matching parts highlighted."""
    shared = (set(left.prints) & set(right.prints)) - public
    key = ('<p class="small"><span class="swatch shared">shared by the two answers</span>'
           '<span class="swatch public">also in a public source (the reference, the course\'s solution, a known one)'
           "</span>hover over a marked line to see which lines of the other answer it matches.</p>")
    body = (f'<p class="small"><a href="{back}">&larr; all pairs</a></p><h1>{escape(title)}</h1>'
            f"<p>{numbers}</p>{key}"
            f'<div class="sides">{_column(left, right, shared, public)}{_column(right, left, shared, public)}</div>'
            '<p class="small muted">Names, comments, docstrings, formatting, the order of independent statements and '
            "equivalent spellings were normalised before comparing; what the release gave (stubs, signatures) was "
            "left out. A flag asks for a look; it changes no score.</p>")
    return _page(title, body)


def _numbers(evidence: float, coverage: float, flagged: bool) -> str:
    flag = ' <span class="flag">flagged</span>' if flagged else ""
    return f"{evidence:.0f} bits of evidence, {100 * coverage:.0f}% coverage{flag}"


def _as_json(one: Answer, other: Answer, match: Match) -> dict:
    return {"a": one.owner, "b": other.owner, "evidence": round(match.evidence, 1),
            "coverage": round(match.coverage, 3)}


def _shown(matches: list[Match], more: int) -> list[Match]:
    """The flagged ones, then up to ``more`` of the others: where the flag line falls."""
    return [m for m in matches if m.flagged] + [m for m in matches if not m.flagged][:more]


def _match_rows(folder: Path, prefix: str, exercise: str, matches: list[Match], left: list[Answer],
                right: list[Answer], public: set[int]) -> list[list[str]]:
    """Write a side-by-side page per match (``pairs/<prefix><rank>.html``); the table rows that link them:
    rank, the two owners, evidence, coverage, flag, link."""
    rows = []
    for rank, match in enumerate(matches, start=1):
        one, other = left[match.a], right[match.b]
        page = f"pairs/{prefix}{rank}.html"
        (folder / page).write_text(side_by_side(f"{exercise}: {one.owner} and {other.owner}",
                                                _numbers(match.evidence, match.coverage, match.flagged), one, other,
                                                public, "../index.html"), encoding="utf-8")
        rows.append([str(rank), escape(one.owner), escape(other.owner), f"{match.evidence:.0f}",
                     f"{100 * match.coverage:.0f}%", '<span class="flag">flagged</span>' if match.flagged else NONE,
                     f'<a href="{page}">side by side</a>'])
    return rows


def write_pages(folder: Path, assignment: str, exercises: list[tuple], students: int) -> dict:
    """Write ``index.html`` and ``pairs/*.html`` into ``folder``; ``exercises`` holds
    ``(exercise, class answers, public sources, ExerciseScores)``. Returns the summary (JSON-ready)."""
    pairs_folder = folder / "pairs"
    pairs_folder.mkdir(parents=True, exist_ok=True)
    for old in pairs_folder.glob("*.html"):
        old.unlink()  # pages of an earlier run name pairs that may no longer be there
    sections, overview, summary = [], [], []
    for exercise, answers, sources, scores in exercises:
        scores: ExerciseScores
        public = {h for source in sources for h in source.prints}
        name = slug(exercise.key)
        flagged = [pair for pair in scores.pairs if pair.flagged]
        matches_flagged = [match for match in scores.matches if match.flagged]
        title = (f'<h2 id="{name}">{escape(exercise.name)} '
                 f'<span class="small muted">({escape(exercise.key)})</span></h2>')
        if scores.too_short:
            body = f'<p><span class="short">{escape(scores.too_short)}</span></p>'
        else:
            rows = _match_rows(folder, f"{name}-", exercise.name, _shown(scores.pairs, PAIRS_SHOWN), answers, answers,
                               public)
            match_rows = [row[1:] for row in _match_rows(folder, f"{name}-source-", exercise.name,
                                                         _shown(scores.matches, MATCHES_SHOWN), answers, sources, set())]
            clusters = "".join(f"<li>{escape(', '.join(answers[i].owner for i in group))}</li>"
                               for group in scores.clusters)
            body = (f"<p>{scores.answered} answers; a typical one has {scores.typical_fingerprints:g} fingerprints "
                    f"beyond the release. {len(flagged)} pair{'s' * (len(flagged) != 1)} flagged.</p>"
                    + (f"<p>Clusters (students joined by flagged pairs):</p><ul>{clusters}</ul>" if clusters else "")
                    + (cards_table(["rank", "student", "student", "evidence (bits)", "coverage", "flag", "view"], rows,
                                   numeric=(0, 3, 4)) if rows else "<p>No two answers share anything beyond the release "
                                                                    "and the public sources.</p>")
                    + "<h3>Matches with public sources</h3>"
                    + (cards_table(["student", "source", "evidence (bits)", "coverage", "flag", "view"], match_rows,
                                   numeric=(2, 3)) if match_rows else "<p>None.</p>"))
        sections.append(title + body)
        overview.append([f'<a href="#{name}">{escape(exercise.name)}</a>', str(scores.answered),
                         "too short to tell" if scores.too_short else str(len(flagged)),
                         str(len(scores.clusters)), str(len(matches_flagged))])
        summary.append({"exercise": exercise.name, "key": exercise.key, "answered": scores.answered,
                        "too_short": scores.too_short, "flagged_pairs": len(flagged),
                        "clusters": len(scores.clusters), "flagged_source_matches": len(matches_flagged),
                        "sources": [source.owner for source in sources],
                        "flagged": [_as_json(answers[m.a], answers[m.b], m) for m in flagged],
                        "flagged_sources": [_as_json(answers[m.a], sources[m.b], m) for m in matches_flagged]})
    intro = (f"<h1>Similarity: {escape(assignment)}</h1>"
             f"<p>{students} submissions; each graded exercise's answers compared pair by pair, and with mlpcore's "
             "reference, the course's solution and any known solutions. Pairs are ranked by evidence: the shared "
             "fingerprints that are rare in the class weigh most, those everybody writes nothing. A pair is flagged at "
             f"{FLAG_BITS:g} bits of evidence covering {100 * FLAG_COVERAGE:.0f}% of the smaller answer. "
             "<strong>A flag asks for a look; it changes no score.</strong> This page names students: keep it in the "
             "instructor's folder.</p>")
    table = cards_table(["exercise", "answers", "flagged pairs", "clusters", "flagged source matches"], overview,
                        numeric=(1, 2, 3, 4))
    (folder / "index.html").write_text(_page(f"Similarity: {assignment}", intro + table + "".join(sections)),
                                       encoding="utf-8")
    return {"assignment": assignment, "students": students, "exercises": summary,
            "flag_bits": FLAG_BITS, "flag_coverage": FLAG_COVERAGE}


def report_section(output: Path, assignment: str) -> str:
    """The class report's section on copying: what the last ``mlpcore similarity`` run found, with a link to
    its pages, or the command that makes them."""
    summary = read_summary(output, assignment)
    heading = "<h2>Similarity</h2>"
    if summary is None:
        return (f"{heading}<p class=\"muted\">Not computed yet: <code>mlpcore similarity {escape(assignment)}</code> "
                "ranks the pairs of answers that look copied, per exercise, with a side-by-side view of each.</p>")
    link = (report_folder(Path("."), assignment) / "index.html").as_posix()
    items = "".join(
        f"<li>{escape(e['exercise'])}: "
        + ("too short to tell" if e["too_short"] else
           f"{e['flagged_pairs']} pair{'s' * (e['flagged_pairs'] != 1)} flagged"
           + (f", {e['flagged_source_matches']} match{'es' * (e['flagged_source_matches'] != 1)} with a public source"
              if e["flagged_source_matches"] else ""))
        + "</li>" for e in summary["exercises"])
    when = f", computed {escape(summary['computed'])}" if summary.get("computed") else ""
    return (f'{heading}<p><a href="{escape(link)}">The similarity report</a> ({summary["students"]} submissions{when}; '
            "a flag asks for a look and changes no score):</p>"
            f'<ul class="small">{items}</ul>')
