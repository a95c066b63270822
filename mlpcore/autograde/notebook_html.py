"""A notebook as an HTML fragment that reads like the notebook: nbconvert's renderer, math as MathML.

:func:`notebook_body` hands a notebook to nbconvert's HTML exporter (the ``basic`` template: the
cells and nothing around them, no scripts), so markdown becomes headings, lists and real tables,
code is highlighted, and figures are the outputs' own PNGs. The page the fragment goes into brings
its own CSS (:data:`NOTEBOOK_CSS` and Pygments' colours).

Formulas are typeset here, not in the reader's browser: each ``$...$`` and ``$$...$$`` of a
markdown cell becomes MathML (with ``latex2mathml``), which browsers lay out natively. A page
therefore needs no MathJax and no network, and it keeps its formulas when it is copied anywhere
(``nbgrader release_feedback`` copies the HTML file alone), or opened in JupyterLab's HTML viewer,
which runs no scripts. A formula ``latex2mathml`` cannot read is shown as its TeX source.

Raw HTML in a markdown cell is shown as text, never interpreted: a feedback page shows what a
student wrote to the instructor and to the student, and must not run it.
"""

from __future__ import annotations

import functools
import html
import re

from ..schema import VERDICT_MIME

# Code (fenced blocks, then inline spans) is set aside first: a ``$`` or ``<`` in code is code.
_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.DOTALL | re.MULTILINE)
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)
_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
# Inline math: a $ that is not escaped, then something that neither starts nor ends with a space.
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?![\s$])((?:[^$\n]|\n(?!\n))+?)(?<!\s)\$(?!\$)")
_TOKEN = "MLPCOREMATH{index}X"  # letters and digits only: markdown leaves them alone
_TOKENS = re.compile(r"MLPCOREMATH\d+X")

NOTEBOOK_CSS = """
.notebook .cell { margin: 0.9em 0; }
.notebook .input_prompt, .notebook .prompt { display: none; }
.notebook .highlight, .notebook pre { background: #f7f7f7; border: 1px solid #e3e3e3; border-radius: 0.3em;
  padding: 0.5em 0.7em; overflow-x: auto; font-size: 0.88em; margin: 0.2em 0; }
.notebook .highlight pre { border: 0; padding: 0; margin: 0; background: transparent; }
.notebook .output_area pre, .notebook .output_text pre { background: #fff; }
.notebook .output_stderr pre { background: #fff5f5; }
.notebook .output_error pre { background: #f8d7da; border-color: #f1b0b7; color: #721c24; }
.notebook img { max-width: 100%; height: auto; }
.notebook .text_cell_render table { display: block; overflow-x: auto; }
.notebook math[display="block"] { margin: 0.6em 0; overflow-x: auto; overflow-y: hidden; }
.notebook .anchor-link { display: none; }
"""


class _SetAside:
    """Pieces of markdown replaced by tokens, to be put back (as HTML) after nbconvert's renderer."""

    def __init__(self):
        self.pieces: dict[str, str] = {}

    def token(self, html_piece: str) -> str:
        token = _TOKEN.format(index=len(self.pieces))
        self.pieces[token] = html_piece
        return token

    def restore(self, rendered: str) -> str:
        return _TOKENS.sub(lambda m: self.pieces.get(m.group(0), m.group(0)), rendered)


def mathml(tex: str, display: bool) -> str:
    """The formula ``tex`` as MathML; its TeX source in a ``<code>`` when it cannot be read."""
    from latex2mathml.converter import convert

    try:
        return convert(tex.strip(), display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - latex2mathml raises many kinds; a formula must never stop a page
        return f'<code class="tex">{html.escape(tex)}</code>'


def prepare_markdown(source: str, aside: _SetAside) -> str:
    """``source`` with its formulas as tokens for MathML and raw HTML made harmless text.

    Code is left exactly as written (nbconvert escapes it): it is swapped out for keys while
    formulas and ``<`` are handled, and swapped back before rendering."""
    code_pieces: dict[str, str] = {}

    def keep_code(match) -> str:
        key = f"MLPCOREKEEP{len(code_pieces)}X"
        code_pieces[key] = match.group(0)
        return key

    text = _CODE_SPAN.sub(keep_code, _FENCE.sub(keep_code, source))
    text = _DISPLAY_MATH.sub(lambda m: aside.token(mathml(m.group(1), display=True)), text)
    text = _INLINE_MATH.sub(lambda m: aside.token(mathml(m.group(1), display=False)), text)
    text = text.replace("<", "&lt;")
    for key, code in code_pieces.items():
        text = text.replace(key, code)
    return text


@functools.lru_cache(maxsize=1)
def _exporter():
    """nbconvert's exporter, built once: it loads and compiles its templates when it is made."""
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="basic", exclude_input_prompt=True, exclude_output_prompt=True,
                        anchor_link_text="")


def notebook_body(notebook) -> str:
    """The cells of ``notebook`` (an nbformat v4 notebook whose outputs are safe to show) as HTML."""
    import nbformat

    notebook = nbformat.from_dict(notebook)  # a copy: the caller's notebook is left as it was
    aside = _SetAside()
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = prepare_markdown(cell.source, aside)
            cell.pop("attachments", None)
        elif cell.cell_type == "code":  # the grader's verdicts are data for the tools, not for the page
            cell.outputs = [out for out in cell.get("outputs", []) if VERDICT_MIME not in out.get("data", {})]
    body, _ = _exporter().from_notebook_node(notebook)
    return f'<div class="notebook">{aside.restore(body)}</div>'


def highlight_css() -> str:
    """Pygments' colours for nbconvert's highlighted code."""
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter().get_style_defs(".highlight")
