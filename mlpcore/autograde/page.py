"""What every page mlpcore writes shares: the class report, the feedback pages, the similarity pages.

Plain, printable HTML readable without any external file: one style sheet (:data:`CSS`), one way
to escape what a student wrote (:func:`escape`), and tables that become cards on a phone
(:func:`cards_table`).
"""

from __future__ import annotations

import html
import string

from ..schema import Status

NARROW_SCREEN = 700  # CSS px: up to this screen width tables are cards (see CSS)
PHONE_FIGURE_SCREEN = 900  # CSS px: up to this screen width the page shows the phone figure; the desktop one,
# narrower than 870 px, would set its text in less than 9 px
PHONE_FIGURE_MAX = 480  # CSS px: on a wider small screen (a tablet) it grows no larger than this

# Shared by the report and the feedback pages: plain, printable, readable without any external file.
# ($NAMES are the constants above.)
CSS = string.Template("""
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto; max-width: 1100px;
       padding: 0 1em; color: #222; line-height: 1.45; overflow-wrap: break-word; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.93em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; white-space: nowrap; }
.status { display: inline-block; padding: 0 0.45em; border-radius: 0.3em; font-size: 0.9em; white-space: nowrap; }
.status-ok, .outcome-passed { background: #dff0d8; color: #2d5a1e; }
.status-serious, .outcome-bad { background: #f8d7da; color: #721c24; }
.status-notice, .outcome-unanswered, .outcome-not_graded { background: #fff3cd; color: #6b5200; }
.mistake { background: #fff3cd; border-left: 4px solid #e0a800; padding: 0.15em 0.5em; display: block; }
.muted { color: #777; } .small { font-size: 0.88em; }
pre { background: #f7f7f7; border: 1px solid #e3e3e3; padding: 0.5em 0.7em; overflow-x: auto; white-space: pre-wrap;
      word-wrap: break-word; margin: 0.3em 0; font-size: 0.9em; }
img.figure { max-width: 100%; height: auto; border: 1px solid #eee; }
@media (max-width: ${PHONE_FIGURE_SCREEN}px) { img.figure { width: 100%; max-width: ${PHONE_FIGURE_MAX}px; } }
/* A phone (or a narrow window): the body takes the whole width, and a table of class "cards" turns each row
   into a card, each cell on a line of its own after its column's name: nothing (a named mistake above all)
   sits off screen. */
@media (max-width: ${NARROW_SCREEN}px) {
  body { margin: 1em auto; padding: 0 0.7em; }
  table.cards, table.cards tbody, table.cards tr, table.cards td { display: block; }
  table.cards { border: 0; overflow: visible; }
  table.cards thead { display: none; }
  table.cards tr { border: 1px solid #ddd; border-radius: 0.3em; margin: 0 0 0.7em; padding: 0.35em 0.7em; }
  table.cards td { border: 0; padding: 0.1em 0; text-align: left; white-space: normal; }
  table.cards td:first-child { font-weight: bold; }
  table.cards td.inline { display: inline-block; margin-right: 1.2em; }
  table.cards td:empty { display: none; }
  table.cards td[data-label]::before { content: attr(data-label) ": "; color: #777; font-size: 0.88em; }
  table.cards ul { padding-left: 1.2em; margin: 0.2em 0; }
  /* a font named before "monospace": browsers set the bare generic family 20% smaller */
  table.cards pre { font-family: ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace; }
}
""").substitute(PHONE_FIGURE_SCREEN=PHONE_FIGURE_SCREEN, PHONE_FIGURE_MAX=PHONE_FIGURE_MAX, NARROW_SCREEN=NARROW_SCREEN)

NONE = '<span class="muted">-</span>'  # an empty table cell


def escape(text) -> str:
    """``text`` made safe to put anywhere in HTML (element content or a quoted attribute)."""
    return html.escape("" if text is None else str(text), quote=True)


def html_page(title: str, body: str) -> str:
    """A whole, self-contained HTML document."""
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def status_badge(status: str) -> str:
    """A label for a submission status, coloured by its :attr:`~mlpcore.schema.Status.style`, with its meaning
    as a tooltip."""
    row = Status.named(status)
    return f'<span class="status status-{row.style}" title="{escape(row.meaning)}">{escape(status)}</span>'


def cards_table(headers: list[str], rows: list[list[str]], numeric=(), inline=(), unlabelled=()) -> str:
    """A table whose rows become cards on a phone (see ``table.cards`` in :data:`CSS`).

    ``rows`` hold each cell's HTML. The first column is the card's title; every other cell is labelled
    with its column's header, except the columns in ``unlabelled`` (a cell that names itself). Columns in
    ``numeric`` are right-aligned on a wide screen; those in ``inline`` share a line in a card.
    """
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    body = []
    for row in rows:
        cells = []
        for column, (header, cell) in enumerate(zip(headers, row)):
            css = " ".join(name for name, columns in (("num", numeric), ("inline", inline)) if column in columns)
            attributes = (f' class="{css}"' if css else "") + (
                f' data-label="{escape(header)}"' if column and column not in unlabelled else "")
            cells.append(f"<td{attributes}>{cell}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f'<table class="cards"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
