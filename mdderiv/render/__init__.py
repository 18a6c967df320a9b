"""Renderers: one visitor per output format over the same expression nodes.

- ``latex``: LaTeX for expressions, and ``display`` the aligned step-by-step display
  (the steps shown and the words beside them: ``steps``);
- ``text``: the same in Unicode, for a terminal;
- ``numpy``: a Python expression that evaluates a result;
- ``json``: the machine-readable object of spec §7;
- ``html``: display math inside HTML (light: the integrations import it).

The numeric evaluator with the same semantics as ``numpy`` is
``mdderiv.numeric``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["render_derivation", "render_expr", "render_markdown"]


def __getattr__(name: str) -> Any:
    # The LaTeX printer (and the expression nodes behind it) loads on first use:
    # an integration that only wraps cached LaTeX in HTML never needs it.
    if name == "render_expr":
        from . import latex

        return latex.render_expr
    if name in __all__:
        from . import display

        return getattr(display, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
