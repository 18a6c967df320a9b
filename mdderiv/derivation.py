"""The derivation record: the steps, the results and the numerical check.

The calculus fills it; the renderers read it.  Nothing here formats text
itself — ``latex()``, ``text()``, ``markdown()`` and ``to_json()`` hand the
record to the renderer for that format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .expr import Expr, Shape, Symbol
from .options import Options
from .problem import Problem
from .rules import RuleId


@dataclass(frozen=True)
class Step:
    """One line of the derivation: ``lhs = rhs`` justified by ``rules``.

    ``lhs`` None continues the previous line (``= rhs``).  ``note`` is an
    optional remark in words, keyed for translation (see ``render.words``).
    """

    lhs: Expr | None
    rhs: Expr
    rules: tuple[RuleId, ...] = ()
    note: str | None = None
    relation: str = "="


@dataclass
class Section:
    """A group of steps with a heading: the objective, the gradient for one
    variable, a chain-rule stage, the stationary point …"""

    kind: str  # "objective", "gradient", "chain", "derivative", "hessian", "solve", "symmetric"
    about: Symbol | None = None
    steps: list[Step] = field(default_factory=list)

    def add(self, lhs: Expr | None, rhs: Expr, *rules: RuleId, note: str | None = None) -> None:
        self.steps.append(Step(lhs, rhs, tuple(rules), note))


@dataclass(frozen=True)
class Result:
    """One derived result: for ``kind == "gradient"`` the matrix G with
    ``df = tr(G^T dX)`` (its transpose when ``layout`` is numerator)."""

    wrt: Symbol
    expr: Expr
    label: Expr  # the left-hand side as printed, e.g. the GradientName ∂f/∂X
    kind: str = "gradient"
    layout: str = "denominator"

    @property
    def shape(self) -> Shape:
        return self.expr.shape


@dataclass(frozen=True)
class CheckOutcome:
    """The finite-difference check of every result."""

    passed: bool
    max_rel_error: float
    sizes: dict[str, int]
    seed: int


@dataclass
class Derivation:
    problem: Problem
    options: Options
    sections: list[Section]
    results: list[Result]
    check: CheckOutcome | None = None

    @property
    def objective(self) -> Symbol:
        return self.problem.objective.symbol

    def latex(self) -> str:
        """The step-by-step derivation as one LaTeX display (``aligned`` blocks
        under their headings, in an ``array``)."""
        from .render.latex import render_derivation

        return render_derivation(self)

    def text(self) -> str:
        """The derivation in Unicode, for a terminal."""
        from .render.text import render_derivation

        return render_derivation(self)

    def html(self) -> str:
        """The derivation as HTML structure with math inside, for pages
        (style it with ``mdderiv/markdown/mdderiv.css``)."""
        from .render.html import render_html

        return render_html(self)

    def markdown(self) -> str:
        """What replaces the fence in a Markdown page: display math."""
        from .render.latex import render_markdown

        return render_markdown(self)

    def numpy(self) -> list[str]:
        """One NumPy expression per result (spec §7 ``numpy``)."""
        from .render.numpy import result_source

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
        from .render.latex import render_html

        return render_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # text/plain (a terminal IPython): the Unicode derivation, not the dataclass fields
        printer.text(self.text())
