"""What mdderiv remembers between blocks, kept in tables made here.

A site repeats itself: the same declaration lines, names and rule citations
come back block after block, and ``mkdocs serve`` reads unchanged pages again.
A module that remembers such things (worked out from a text alone, never from
a position) keeps them in a :class:`Remembered` table or a :func:`remembered`
function made here, so every table has a name, a bound, and one switch that
empties them all: :func:`forget_all` (for a benchmark of a process that has
derived nothing yet, and for tests).

What one derivation remembers about its nodes lives and dies with the
derivation instead (``calculus/memo.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")
F = TypeVar("F", bound=Callable[..., object])

_FORGETTERS: list[Callable[[], None]] = []


class Remembered(dict[K, V], Generic[K, V]):
    """A table kept between blocks: emptied when it reaches ``limit`` entries
    (a page is not a data set: a table that fills up is dropped, not managed)."""

    def __init__(self, what: str, limit: int) -> None:
        super().__init__()
        self.what = what
        self.limit = limit
        _FORGETTERS.append(self.clear)

    def remember(self, key: K, value: V) -> V:
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value


def memoised(maxsize: int) -> Callable[[F], F]:
    """``functools.lru_cache(maxsize)``, emptied by :func:`forget_all` too."""

    def decorate(function: F) -> F:
        cached = functools.lru_cache(maxsize=maxsize)(function)
        _FORGETTERS.append(cached.cache_clear)
        return cached  # type: ignore[return-value]  # (same call signature, plus cache_clear)

    return decorate


def forget_all() -> None:
    """Empty every table of what was remembered between blocks."""
    for forget in _FORGETTERS:
        forget()
