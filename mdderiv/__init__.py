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

    A block pasted with its fence (```` ```derive layout=numerator ```` …
    ```` ``` ````) is accepted too: its info line gives options as in a page,
    and error positions count from the fence line.
    """
    from .pipeline import run

    if isinstance(block_body, str) and block_body.lstrip().startswith(("```", "~~~")):
        return _derive_fenced(block_body, defaults or _BUILT_IN, options)
    return run(block_body, defaults or _BUILT_IN, options)


#: the built-in options, made once (frozen: every block may share them)
_BUILT_IN = Options()


def _derive_fenced(text: str, defaults: Options, options: dict[str, Any]) -> Derivation:
    # the fence grammar of the blog renderer (a real Markdown parse), not a new one
    from .markdown.blocks import InfoError, parse_info
    from .markdown.blog import fenced_block
    from .pipeline import run

    block = fenced_block(text)
    if block is None:
        raise DeriveError(
            "expected one ```derive fence and nothing around it, or a block body without a fence", 1, 1
        )
    try:
        info_values = parse_info(block.info) if block.info.strip() else {}
    except InfoError as err:
        raise DeriveError(err.message, *block.locate(1, err.column, on_info_line=True)) from None
    try:
        return run(block.body, defaults.merged(info_values) if info_values else defaults, options)
    except DeriveError as err:
        raise DeriveError(err.message, *block.locate(err.line, err.column)) from None


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext mdderiv`` in Jupyter/IPython: the ``%%derive`` cell magic."""
    from .jupyter import load_ipython_extension as load

    load(ipython)


def __getattr__(name: str) -> Any:
    # The derivation types (and the expression nodes behind them) load on first
    # use: a MkDocs build that finds every block in its cache never needs them.
    if name in ("Derivation", "Result", "Step"):
        from . import derivation

        return getattr(derivation, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
