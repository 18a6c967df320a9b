"""mdderiv: matrix derivatives derived step by step, for Markdown pages.

The public surface is what ``__all__`` lists::

    import mdderiv
    d = mdderiv.derive(body, layout="numerator")
    d.latex(); d.markdown(); d.results
"""

from __future__ import annotations

from typing import Any

from .derivation import Derivation, Result, Step
from .errors import DeriveError
from .options import Options

__version__ = "0.1.0"
__all__ = ["derive", "Derivation", "DeriveError", "Options", "Result", "Step", "__version__"]


def derive(block_body: str, defaults: Options | None = None, **options: Any) -> Derivation:
    """Derive a ``derive`` block body (spec §2–5).

    ``options`` override the block's own option lines, which override
    ``defaults`` (site-wide settings).  Raises :class:`DeriveError` for bad
    input, for what the engine cannot do, and when the numerical check fails.
    """
    from .pipeline import run

    return run(block_body, defaults or Options(), options)
