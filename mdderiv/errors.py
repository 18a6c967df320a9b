"""The one exception mdderiv raises for bad input."""

from __future__ import annotations

from typing import ClassVar


class DeriveError(Exception):
    """Bad input, or something the engine cannot do.

    ``line`` and ``column`` are 1-based positions in the block body (the text
    between the fences, option lines included).  Integrations add the block's
    own position in the page to report ``page.md:LINE:COL``.
    """

    #: a fact about this run rather than the block (its time budget ran out):
    #: integrations must not cache it
    transient: ClassVar[bool] = False

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = max(1, int(line))
        self.column = max(1, int(column))

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.message}"

    def _render_traceback_(self) -> list[str]:
        # IPython/Jupyter show this instead of a traceback: the message already
        # says where in the block and why, the frames of mdderiv would only hide it
        return [f"{type(self).__name__}: {self}"]

    def to_json(self) -> dict[str, object]:
        return {"message": self.message, "line": self.line, "column": self.column}
