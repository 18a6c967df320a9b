"""The one fence grammar: where ``derive`` fences open and what they hold.

The header is SuperFences' own (``RE_NESTED_FENCE_START``, a public module
constant), so every finder here agrees with the extension that renders the
fences.  :func:`derive_fences` is used by the Python-Markdown fence (to know
each block's line, indent and info string), by the prefetch scan and, for the
opening line only (:func:`derive_header`), by the blog reader, whose blocks
are decided by mistune's parse.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from pymdownx.superfences import RE_NESTED_FENCE_START

from ..memos import Remembered

__all__ = ["FENCE_NAME", "FoundFence", "Header", "derive_fences", "derive_header", "page_fences", "strict_header"]

FENCE_NAME = "derive"
_FENCE_HEADER: re.Pattern[str] = RE_NESTED_FENCE_START
# what may stand before a fence on its line: block-quote markers and indentation
# (SuperFences' container prefix), and, for the blog's CommonMark reading, list markers
_PREFIX = re.compile(r"[ \t>]*")
_UNQUOTED = re.compile(r"(?<=[ \t])([a-zA-Z][a-zA-Z0-9_]*)=([^\s\"']+)")
_LIST_PREFIX = re.compile(r"[ \t>*+\-0-9.)]*?(?=`{3}|~{3})")


@dataclass(frozen=True)
class Header:
    """The opening line of a ``derive`` fence."""

    prefix: str  # what precedes the fence on the line
    fence: str  # the backticks or tildes
    info: str  # the info string after ``derive`` (options)
    info_col: int  # 0-based column of ``info`` in the line


@dataclass(frozen=True)
class FoundFence:
    """A closed ``derive`` fence found in a page's lines."""

    line: int  # 0-based index of the opening line
    indent: int  # width of the container prefix (indentation, ``> ``)
    quoted: bool  # inside a block quote
    info: str
    info_col: int
    body: str  # the lines between the fences, prefix removed


# ``derive{…}`` with no space: SuperFences reads no language there (CommonMark neither),
# but the blog reader always took it for a derive fence; it is one here everywhere
_BRACED = re.compile(r"[ \t]*\.?" + FENCE_NAME + r"(?=\{)")


def _header(line: str, start: int) -> tuple[re.Match[str], bool, int] | None:
    """SuperFences' match of a fence header at ``start``, whether it opens a
    derive fence, and where its info string starts."""
    match = _FENCE_HEADER.match(line, start)
    if match is None:
        return None
    if match.group("lang") == FENCE_NAME:
        return match, True, match.end("lang")
    braced = _BRACED.match(line, match.end("fence"))
    if braced is not None:
        return match, True, braced.end()
    return match, False, -1


def derive_header(line: str, list_markers: bool = False) -> Header | None:
    """The ``derive`` fence header on ``line``, if it opens one; with
    ``list_markers``, a list item's marker may precede the fence."""
    prefix = (_LIST_PREFIX if list_markers else _PREFIX).match(line)
    if prefix is None:
        return None
    found = _header(line, prefix.end())
    if found is None or not found[1]:
        return None
    match, _, info_col = found
    return Header(line[: prefix.end()], match.group("fence"), line[info_col:], info_col)


@functools.lru_cache(maxsize=64)
def _closing(fence: str) -> re.Pattern[str]:
    """The line that closes a fence opened with ``fence``: made once per fence
    text (a site uses a few), not once per fence — it was an eighth of the scan."""
    return re.compile(re.escape(fence) + r"[ \t]*$")


def _prefix_width(line: str) -> int:
    match = _PREFIX.match(line)
    return match.end() if match else 0


def derive_fences(lines: list[str]) -> Iterator[FoundFence]:
    """Every closed ``derive`` fence in ``lines`` (whitespace already
    normalised, tabs expanded), in document order.  Fences shown inside a
    longer fence are skipped; fences that later turn out to sit in an indented
    code block or an HTML comment are not told apart (the renderers do that)."""
    index, count = 0, len(lines)
    while index < count:
        line = lines[index]
        index += 1
        if "```" not in line and "~~~" not in line:
            continue
        indent = _prefix_width(line)
        found = _header(line, indent)
        if found is None:
            continue
        match, is_derive, info_col = found
        if match.group("unrecognized") and not is_derive:
            continue  # SuperFences (without relaxed_headers) does not take it as a fence
        opening, quoted = index - 1, ">" in line[:indent]
        fence = match.group("fence")
        end = _closing(fence)
        body: list[str] = []
        closed = False
        while index < count:
            inner = lines[index]
            index += 1
            if not inner.strip() or (quoted and not inner.strip(" >")):
                body.append("" if quoted else inner[indent:])
                continue
            # (a fence at the margin is never abandoned; only a line that starts
            # with the fence can close it: the regexes only where they can tell)
            if indent and _prefix_width(inner) < indent:
                break  # not indented enough: SuperFences abandons the fence here
            content = inner[indent:] if indent else inner
            if content.startswith(fence) and end.match(content):
                closed = True
                break
            body.append(content)
        if closed and is_derive:
            yield FoundFence(
                line=opening,
                indent=indent,
                quoted=quoted,
                info=line[info_col:],
                info_col=info_col,
                body="\n".join(body),
            )


#: the derive fences of a page's (normalised) text: the prefetch scan reads each
#: page before it is converted, the fence's preprocessor when it is (the same
#: text, unless the page has front matter or a plugin changed it), and
#: ``mkdocs serve`` converts unchanged pages again
_PAGE_FENCES: Remembered[str, list[FoundFence]] = Remembered("derive fences per page text", limit=5000)


def page_fences(text: str, lines: list[str] | None = None) -> list[FoundFence]:
    """``derive_fences`` of ``text`` (whitespace normalised; ``lines``, if
    given, are its lines), remembered per text."""
    if FENCE_NAME not in text:
        return []
    found = _PAGE_FENCES.get(text)
    if found is None:
        found = _PAGE_FENCES.remember(text, list(derive_fences(text.split("\n") if lines is None else lines)))
    return found


def strict_header(line: str, found: FoundFence) -> str | None:
    """``line``, the opening line of ``found``, as SuperFences reads it without
    ``relaxed_headers``: unquoted option values quoted (``layout=numerator`` →
    ``layout="numerator"``), or the info string dropped if that is not enough;
    None when SuperFences already reads the line as it is.  (The info string
    the block is derived with is ``found.info``, recorded before.)"""
    match = _FENCE_HEADER.match(line, found.indent)
    if match is None or not match.group("unrecognized"):
        return None
    head = line[: found.info_col]
    space = " " if found.info.startswith("{") else ""  # derive{…}
    quoted = head + space + _UNQUOTED.sub(r'\1="\2"', found.info)
    again = _FENCE_HEADER.match(quoted, found.indent)
    return quoted if again is not None and not again.group("unrecognized") else head
