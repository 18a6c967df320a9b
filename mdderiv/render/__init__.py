"""Renderers: one visitor per output format over the same expression nodes.

- ``latex``: LaTeX for expressions and the aligned step-by-step display;
- ``text``: the same in Unicode, for a terminal;
- ``numpy``: a Python expression that evaluates a result;
- ``json``: the machine-readable object of spec §7.

The numeric evaluator with the same semantics as ``numpy`` is
``mdderiv.numeric``.
"""

from __future__ import annotations

from .latex import render_derivation, render_expr, render_markdown

__all__ = ["render_derivation", "render_expr", "render_markdown"]
