"""The public derivation: the record (``record.py``) with one method per
output format, each handing the record to its renderer (``mdderiv.render``).
The renderers know the record alone, so nothing imports back."""

from __future__ import annotations

from typing import Any

from .record import CheckOutcome, DerivationRecord, Result, Section, Step
from .render.display import render_derivation as latex_derivation
from .render.html import render_html as html_layout
from .render.display import render_html, render_markdown
from .render.numpy import result_source

# (the text and JSON renderers are imported when first asked for: a page, and so a
# site build before it forks its workers, needs neither)

__all__ = ["CheckOutcome", "Derivation", "Result", "Section", "Step"]


class Derivation(DerivationRecord):
    """A derivation: its steps and results, and its outputs."""

    def latex(self) -> str:
        """The step-by-step derivation as one LaTeX display (``aligned`` blocks
        under their headings, in an ``array``)."""
        return latex_derivation(self)

    def text(self) -> str:
        """The derivation in Unicode, for a terminal."""
        from .render.text import render_derivation as text_derivation

        return text_derivation(self)

    def html(self) -> str:
        """The derivation as HTML structure with math inside, for pages
        (style it with ``mdderiv/markdown/mdderiv.css``)."""
        return html_layout(self)

    def markdown(self) -> str:
        """What replaces the fence in a Markdown page: display math."""
        return render_markdown(self)

    def numpy(self) -> list[str]:
        """One NumPy expression per result (spec §7 ``numpy``)."""
        return [result_source(self, result) for result in self.results]

    def to_json(self) -> dict[str, Any]:
        """The JSON object of spec §7 (``ok`` true)."""
        from .render.json import derivation_to_json

        return derivation_to_json(self)

    # Rich display in Jupyter/IPython: the frontend picks the richest it renders.

    def _repr_latex_(self) -> str:
        return "$$" + self.latex() + "$$"

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def _repr_html_(self) -> str:
        return render_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # text/plain (a terminal IPython): the Unicode derivation, not the dataclass fields
        printer.text(self.text())
