"""Each printer class's visitor functions by node class, looked up once.

A printer (LaTeX, text, NumPy) prints a node with its ``_print_<Class>``
function; finding that by name for every node would cost an attribute lookup
and a bound method each time, so each printer class keeps a table, filled on
first use and shared by all its printers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["find_method", "method_table"]

_TABLES: dict[type, dict[type, Callable[..., Any]]] = {}


def method_table(printer: type) -> dict[type, Callable[..., Any]]:
    """The ``_print_<Class>`` functions of ``printer`` found so far, by node
    class (filled by :func:`find_method`)."""
    table = _TABLES.get(printer)
    if table is None:
        table = _TABLES[printer] = {}
    return table


def find_method(printer: type, kind: type) -> Callable[..., Any] | None:
    """``printer._print_<kind>``, remembered in its table; None if it has none."""
    method: Callable[..., Any] | None = getattr(printer, "_print_" + kind.__name__, None)
    if method is not None:
        method_table(printer)[kind] = method
    return method
