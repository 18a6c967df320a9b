"""Display math inside HTML: one form for every integration that writes HTML."""

from __future__ import annotations

__all__ = ["html_display"]


def html_display(latex: str) -> str:
    """Display math as Arithmatex writes it (``\\[ … \\]`` in a
    ``div.arithmatex``), which MathJax and KaTeX auto-render read.  Only what
    HTML needs is escaped: they read the text content, so entities are fine."""
    escaped = latex.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<div class="arithmatex">\\[\n{escaped}\n\\]</div>'
