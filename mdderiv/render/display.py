"""A whole derivation as one LaTeX display: its title, each section's heading
and steps in an ``aligned`` block with their justifications, the boxed
results and the numerical check's line (expressions printed by
``render/latex.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..expr import SCALAR, Differential, Symbol
from ..memos import memoised
from ..rules import RuleId
from .latex import Annotate, format_error, names_of, render_expr, shared_printer, text_latex
from .steps import justification, key_differentials, result_words, visible_steps
from .words import heading_key, word, words_with_math

if TYPE_CHECKING:
    from ..record import DerivationRecord, Result, Section, Step

#: How a step's relation is written.
RELATIONS = {"=": "=", "⇒": r"\Rightarrow", "⇔": r"\Leftrightarrow", "≈": r"\approx"}


def section_heading(section: Section, names: Mapping[str, str], lang: str) -> str:
    """The heading of a section as LaTeX: ``\\text{before } math \\text{ after}``
    (words in ``lang``, the variable as math)."""
    math = render_expr(section.about, names) if section.about is not None else None
    return words_with_math(heading_key(section.kind), lang, math, text_latex, str, " ")


def result_line(d: DerivationRecord, result: Result, names: Mapping[str, str]) -> str:
    """``\\boxed{∂f/∂X = …}`` and its layout (or kind)."""
    label = render_expr(result.label, names)
    value = render_expr(result.expr, names)
    if d.options.shapes != "none" and result.expr.shape != SCALAR:
        # the result as a whole is annotated, nothing inside it: the plain
        # (remembered) printing, with the shape beneath
        value = shared_printer(names).underbrace(result.expr, value)
    line = f"&\\boxed{{{label} = {value}}}"
    said = result_words(result, d.options.lang)
    if said:
        line += " && " + text_latex(said)
    return line


def check_line(d: DerivationRecord) -> str | None:
    """The numerical check's outcome, or None when the check was off."""
    if d.check is None:
        return None
    key = "check.passed" if d.check.passed else "check.failed"
    return f"{text_latex(word(key, d.options.lang) + ' ')} {format_error(d.check.max_rel_error)}"


def step_line(step: Step, names: Mapping[str, str], lang: str, annotate: Annotate = None) -> str:
    """One ``lhs &= rhs && \\text{(rules)}`` line of the aligned display."""
    relation = RELATIONS.get(step.relation, step.relation)
    left = render_expr(step.lhs, names, annotate) if step.lhs is not None else ""
    line = f"{left} &{relation} {render_expr(step.rhs, names, annotate)}".lstrip()
    return line + justification_latex(step.rules, step.note, lang)


@memoised(maxsize=4096)
def justification_latex(rules: tuple[RuleId, ...], note: str | None, lang: str) -> str:
    r"""``&& \text{(rules; note)}`` beside a step, or nothing.  (Remembered:
    the same few rules and notes are cited in every derivation.)"""
    why = justification(rules, note, lang)
    return " && " + text_latex(f"({why})") if why else ""


def _aligned(lines: list[str]) -> str:
    return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"


def render_derivation(d: DerivationRecord) -> str:
    """The whole derivation as one display: ``\\begin{array}{l}`` whose rows
    are the title, each section's heading and its steps in an ``aligned``
    block, the boxed results (an ``aligned`` block) and the check line.
    Headings and the check line sit outside the alignments, so a long
    heading never pushes the justification column to the right."""
    names = names_of(d.problem)
    lang = d.options.lang
    shapes = d.options.shapes
    marks = key_differentials(d) if shapes == "key" else {}
    rows: list[str] = []
    if d.options.title:
        rows.append(text_latex(d.options.title))
    for s_pos, section in enumerate(d.sections):
        rows.append(section_heading(section, names, lang))
        lines: list[str] = []
        for t_pos, step in enumerate(visible_steps(section, d.options.steps)):
            annotate: Annotate = marks.get((s_pos, t_pos))
            if shapes == "all":
                annotate = lambda node: isinstance(node, (Symbol, Differential))  # noqa: E731
            lines.append(step_line(step, names, lang, annotate))
        if lines:
            rows.append(_aligned(lines))
    if d.results:
        rows.append(_aligned([result_line(d, result, names) for result in d.results]))
    check = check_line(d)
    if check is not None:
        rows.append(check)
    return "\\begin{array}{l}\n" + " \\\\\n".join(rows) + "\n\\end{array}"


def render_html(d: DerivationRecord) -> str:
    """The derivation as HTML display math (for notebooks and HTML pages)."""
    from .html import html_display

    return html_display(render_derivation(d))


def render_markdown(d: DerivationRecord) -> str:
    """Display math for a Markdown page, with a blank line before and after."""
    return "\n$$\n" + render_derivation(d) + "\n$$\n\n"
