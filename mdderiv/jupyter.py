"""Jupyter and IPython: ``%load_ext mdderiv``, then ``%%derive`` cells.

A cell ``%%derive layout=numerator`` followed by a block body derives the body
with the options of the magic line (read as a fence's info line) and shows the
:class:`~mdderiv.Derivation`, which displays as math (HTML, Markdown or LaTeX,
whichever the frontend renders).  A block that cannot be derived shows one
line, ``In[4]:3:7: message`` (the cell, its line and column), instead of a
traceback; the cell still counts as failed, so "run all" stops there as it
would at any error.  A :class:`~mdderiv.DeriveError` raised by ``mdderiv.derive``
in an ordinary cell is shown the same way (its position is in the block body):
IPython asks an exception for ``_render_traceback_``, which ``DeriveError`` has.
"""

from __future__ import annotations

from typing import Any

from . import derive
from .derivation import Derivation
from .errors import DeriveError
from .markdown.blocks import block_options
from .options import Options

__all__ = ["CellError", "derive_cell", "load_ipython_extension"]

MAGIC = "derive"


class CellError(DeriveError):
    """A block in a ``%%derive`` cell that could not be derived, located in the
    cell (line 1 is the magic line)."""

    def __init__(self, cell: str, message: str, line: int, column: int) -> None:
        super().__init__(message, line, column)
        self.cell = cell

    def __str__(self) -> str:
        return f"{self.cell}:{self.line}:{self.column}: {self.message}"


def derive_cell(line: str, cell: str, cell_name: str = "cell") -> Derivation:
    """Derive a ``%%derive`` cell: ``line`` is the magic line after ``%%derive ``,
    ``cell`` the body.  Raises :class:`CellError` with cell positions."""
    magic_width = len(f"%%{MAGIC} ")
    options = block_options(line, Options())
    if not isinstance(options, Options):  # a bad option on the magic line
        raise CellError(cell_name, options.error or "bad option", 1, magic_width + options.column)
    try:
        return derive(cell, defaults=options)
    except DeriveError as err:
        raise CellError(cell_name, err.message, err.line + 1, err.column) from None


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext mdderiv``: the ``%%derive`` cell magic (``ipython`` is the
    running ``InteractiveShell``)."""

    def derive_magic(line: str, cell: str) -> Derivation:
        """Derive the cell's block body; options on the magic line as on a
        fence's info line (``%%derive layout=numerator check=false``)."""
        # while a cell runs, execution_count is that cell's number (In[n])
        return derive_cell(line, cell, f"In[{ipython.execution_count}]")

    ipython.register_magic_function(derive_magic, magic_kind="cell", magic_name=MAGIC)
