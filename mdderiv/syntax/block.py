"""The lines of a derive block body (spec §2): sort them into kinds.

Nothing here knows LaTeX beyond finding the ``=`` of a definition and the
``key:`` of a keyed line; the parts are handed on with their positions.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import NamedTuple

from ..errors import DeriveError
from ..options import OPTION_NAMES, parse_option
from .nodes import Source

#: Bodies longer than this are refused before any parsing (a derive block is
#: a few lines; this keeps the worst case fast).
MAX_BODY = 100_000

LINE_KEYS = ("given", "wrt")
_KEYS = LINE_KEYS + OPTION_NAMES  # every key a line may start with
_KEYED = re.compile(r"\s*([A-Za-z][A-Za-z_-]*)\s*:(?!=)")
_DEFINED = re.compile(r"\s*([^=]*?)\s*:?=")


class DefinitionLine(NamedTuple):
    """``lhs = rhs`` on line ``line`` (a named tuple: immutable, and quick to make)."""

    line: int
    lhs: Source
    rhs: Source


@dataclass
class BlockLines:
    """A body sorted by kind; every part keeps its position."""

    given: list[Source]
    definitions: list[DefinitionLine]
    wrt: Source | None
    options: dict[str, str]
    option_lines: dict[str, int]


def split_lines(body: str) -> list[str]:
    """Lines as an editor numbers them (``\\n`` only, a trailing ``\\r`` dropped)."""
    return [line.removesuffix("\r") for line in body.split("\n")]


def _part(text: str, line: int, start: int) -> Source:
    """``text[start:]`` stripped, as a Source that knows its column."""
    rest = text[start:]
    stripped = rest.lstrip()
    column = start + len(rest) - len(stripped)
    return Source(stripped.rstrip(), line, column)


def read_lines(body: str) -> BlockLines:
    """Sort the body's lines; raises DeriveError for a line of no known kind."""
    if not isinstance(body, str):
        raise DeriveError("a derive block body must be text")
    if len(body) > MAX_BODY:
        raise DeriveError(f"the block is too long ({len(body)} characters; at most {MAX_BODY})")
    out = BlockLines([], [], None, {}, {})
    for number, text in enumerate(split_lines(body), start=1):
        stripped = text.strip()
        if not stripped or stripped.startswith("%"):
            continue
        keyed = _KEYED.match(text)
        key = keyed.group(1).lower() if keyed else None
        if keyed and key in _KEYS:
            assert key is not None
            value = _part(text, number, keyed.end())
            if key == "given":
                if not value.text:
                    raise DeriveError(
                        "given: needs declarations, e.g. given: X \\in \\mathbb{R}^{m \\times n}",
                        number,
                        keyed.end() + 1,
                    )
                out.given.append(value)
            elif key == "wrt":
                if out.wrt is not None:
                    raise DeriveError(
                        f"a second wrt: line (the first is line {out.wrt.line}); list them together: wrt: X, Y",
                        number,
                        1,
                    )
                out.wrt = value
            else:
                parse_option(key, value.text, number, value.column + 1)
                out.options[key] = value.text
                out.option_lines[key] = number
            continue
        defined = _DEFINED.match(text)
        if defined and "=" in text:
            lhs_start = defined.start(1)
            lhs = Source(defined.group(1), number, lhs_start)
            if not lhs.text:
                raise DeriveError("a definition needs a name before '='", number, text.index("=") + 1)
            out.definitions.append(DefinitionLine(number, lhs, _part(text, number, defined.end())))
            continue
        if keyed:
            known = ", ".join(_KEYS)
            raise DeriveError(
                f"unknown key {keyed.group(1)!r}; the keys are: {known}", number, keyed.start(1) + 1
            )
        raise DeriveError(
            "cannot read this line: expected 'given: …', 'NAME = EXPR', 'wrt: …' or an option line",
            number,
            len(text) - len(text.lstrip()) + 1,
        )
    if not out.definitions:
        if not out.given and out.wrt is None and not out.options:
            raise DeriveError("the derive block is empty: write given:, a definition NAME = EXPR and wrt:")
        raise DeriveError("the block has no definition: write the objective as NAME = EXPR, e.g. f = a^T X b")
    if out.wrt is None:
        last = out.definitions[-1].line
        raise DeriveError("the block has no wrt: line; add e.g. wrt: X", last, 1)
    if not out.wrt.text:
        raise DeriveError("wrt: needs a variable, e.g. wrt: X", out.wrt.line, out.wrt.column + 1)
    return out


def split_top_level(src: Source, separators: tuple[str, ...]) -> list[Source]:
    """Split at separators outside braces (``,`` and spacing macros such as
    ``\\quad``), keeping each part's column; empty parts are dropped.  The
    depth is followed brace by brace (escaped braces are macros, not braces),
    or, where no brace is escaped, counted between separators."""
    text = src.text
    # Without an escaped brace every brace character is a brace, so the depth at a
    # separator is the braces before it, counted in C (str.count) from the last
    # separator on: the scan then stops at separators and escapes only, not at
    # every brace (the usual line has many braces and few separators).
    counted = _every_brace_counts(text)
    marks = _separator_marks(separators) if counted else _split_marks(separators)
    parts: list[Source] = []
    depth = start = counted_to = 0
    for mark in marks.finditer(text):
        found = mark.group()
        if found == "{":
            depth += 1
        elif found == "}":
            depth -= 1
        elif found in separators:
            at = mark.start()
            if counted:
                depth += text.count("{", counted_to, at) - text.count("}", counted_to, at)
                counted_to = at
            if depth == 0:
                part = _stripped_part(src, start, at)
                if part is not None:
                    parts.append(part)
                start = mark.end()
    last = _stripped_part(src, start, len(text))
    if last is not None:
        parts.append(last)
    return parts


def _every_brace_counts(text: str) -> bool:
    """Whether every ``{`` and ``}`` of ``text`` is a brace: no ``\\{`` or
    ``\\}`` is written (the only marks of _split_marks that take a brace
    character in; a brace is never part of a separator)."""
    return "\\{" not in text and "\\}" not in text


@functools.lru_cache(maxsize=8)
def _split_marks(separators: tuple[str, ...]) -> re.Pattern[str]:
    """What split_top_level looks at: a separator macro (``\\quad``, not the
    start of ``\\quadrant``), an escaped character (``\\,``, ``\\{``: no
    brace), a brace, a one-character separator.  Other macros need no look:
    their names are letters, neither braces nor separators."""
    return _marks(separators, "{}")


@functools.lru_cache(maxsize=8)
def _separator_marks(separators: tuple[str, ...]) -> re.Pattern[str]:
    """_split_marks without the braces (for a text whose braces are counted):
    a brace only ever matches as a brace, so the other marks found are the same."""
    return _marks(separators, "")


def _marks(separators: tuple[str, ...], braces: str) -> re.Pattern[str]:
    singles = "".join(re.escape(s) for s in separators if len(s) == 1)
    words = "|".join(
        sorted((re.escape(s[1:]) for s in separators if s[:1] == "\\" and s[1:].isalpha()), key=len, reverse=True)
    )
    named = f"(?:{words})(?![A-Za-z])|" if words else ""
    characters = f"|[{braces}{singles}]" if braces or singles else ""
    return re.compile(r"\\(?:" + named + r"[^A-Za-z])" + characters)


def _stripped_part(src: Source, start: int, end: int) -> Source | None:
    """``src.text[start:end]`` stripped, with its column; None when nothing is left."""
    piece = src.text[start:end]
    stripped = piece.lstrip()
    if not stripped:
        return None
    column = src.column + start + len(piece) - len(stripped)
    return Source(stripped.rstrip(), src.line, column)
