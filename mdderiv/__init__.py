"""mdderiv: matrix derivatives derived step by step, for Markdown pages.

The public surface is what ``__all__`` lists::

    import mdderiv
    d = mdderiv.derive(body, layout="numerator")
    d.latex(); d.markdown(); d.results
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import DeriveError
from .options import Options

if TYPE_CHECKING:
    from .derivation import Derivation, Result, Step

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


def __getattr__(name: str) -> Any:
    # The derivation types (and the expression nodes behind them) load on first
    # use: a MkDocs build that finds every block in its cache never needs them.
    if name in ("Derivation", "Result", "Step"):
        from . import derivation

        return getattr(derivation, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
