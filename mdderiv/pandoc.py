"""pandoc (and Quarto): ``pandoc --filter mdderiv-pandoc``, a JSON filter.

pandoc hands the filter the document's AST as JSON on stdin (the target
format as the first argument) and reads the changed AST from stdout.  Every
code block with the class ``derive`` becomes a paragraph of display math,
which every writer knows: ``\\[ … \\]`` in HTML for MathJax/KaTeX and in LaTeX,
``$$ … $$`` in Markdown — never broken by pandoc's line wrapping, since math
is one element.

Options come from the block's attributes (```` ```{.derive layout=numerator} ````),
from option lines in the body, and from the document's metadata
(``mdderiv: {layout: numerator}``, defaults for every block).  A block that
cannot be derived is reported on stderr and shown in the document as a
``mdderiv-error`` div with the message and the source; with ``mdderiv-strict:
true`` in the metadata or ``MDDERIV_STRICT=1`` in the environment the filter
exits with status 1 instead, so pandoc fails.

pandoc tells a JSON filter no positions and no file names, except with the
``sourcepos`` extension of its CommonMark readers (``-f commonmark_x+sourcepos``),
which puts ``data-pos="file@LINE:COL-…"`` on each block: then errors read
``file:LINE:COL: message``.  The Lua filter shipped beside this module
(``mdderiv-pandoc --lua`` prints its path) runs this filter with the input
files' names (``--input FILE``), and each block's body is then found in them:
errors read ``file:LINE:COL`` with any reader.  Otherwise errors name the
block by its number and the position inside it.
"""

from __future__ import annotations

import contextlib

import argparse
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from .errors import DeriveError
from .markdown.blocks import BlockCache, Outcome, derive_block
from .options import Options, site_defaults

__all__ = ["LUA_FILTER", "FilterRun", "filter_document", "main"]

CLASS = "derive"
METADATA_OPTIONS = "mdderiv"
METADATA_STRICT = "mdderiv-strict"
STRICT_ENV = "MDDERIV_STRICT"
_TRUE = ("1", "true", "yes", "on")
# data-pos of the sourcepos extension: "file.md@12:3-15:1" (no "file@" on stdin);
# a block in a container lists one range per line, ";"-separated
_DATA_POS = re.compile(r"^(?:(?P<file>.*)@)?(?P<line>\d+):(?P<column>\d+)-")

Json = Any  # a pandoc AST node: nested dicts, lists and strings


@dataclass
class FilterRun:
    """One document: the defaults from its metadata, the cache and what went wrong."""

    defaults: Options = field(default_factory=Options)
    cache: BlockCache = field(default_factory=BlockCache)
    report: Callable[[str], None] = lambda message: print(message, file=sys.stderr)
    blocks: int = 0
    failures: list[str] = field(default_factory=list)
    #: the input files (name, lines) when known, and where the last block was found in them
    sources: list[tuple[str, list[str]]] = field(default_factory=list)
    cursor: tuple[int, int] = (0, 0)

    def fail(self, message: str) -> None:
        self.failures.append(message)
        self.report(f"mdderiv-pandoc: {message}")


# -- reading the AST ------------------------------------------------------------------------


def _stringify(value: Json) -> str:
    """The text of a metadata value (MetaString, MetaBool, MetaInlines …)."""
    if isinstance(value, dict):
        kind, content = value.get("t"), value.get("c")
        if kind == "MetaBool":
            return "true" if content else "false"
        if kind in ("Space", "SoftBreak", "LineBreak"):
            return " "
        return _stringify(content)
    if isinstance(value, list):
        return "".join(_stringify(item) for item in value)
    return "" if value is None else str(value)


def metadata_defaults(meta: dict[str, Json]) -> Options:
    """Defaults for every block from ``mdderiv:`` in the metadata; raises
    :class:`DeriveError` for a bad one."""
    entry = meta.get(METADATA_OPTIONS)
    if not isinstance(entry, dict) or entry.get("t") != "MetaMap":
        return Options()
    return site_defaults({key: _stringify(value) for key, value in entry["c"].items()})


def is_strict(meta: dict[str, Json]) -> bool:
    if os.environ.get(STRICT_ENV, "").strip().lower() in _TRUE:
        return True
    return _stringify(meta.get(METADATA_STRICT)).strip().lower() in _TRUE


# -- one block --------------------------------------------------------------------------------


def _inlines(text: str) -> list[Json]:
    """Words as pandoc inlines (Str and Space), so writers may wrap between them."""
    out: list[Json] = []
    for word in text.split():
        if out:
            out.append({"t": "Space"})
        out.append({"t": "Str", "c": word})
    return out


def display_math(latex: str, identifier: str = "") -> Json:
    """A paragraph holding the derivation as display math (an identifier, if
    the block had one, on a span around it)."""
    # a blank line would end a Markdown paragraph and is a \par (an error) in TeX math
    math: Json = {"t": "Math", "c": [{"t": "DisplayMath"}, "\n".join(line for line in latex.splitlines() if line.strip())]}
    if identifier:
        math = {"t": "Span", "c": [[identifier, [], []], [math]]}
    return {"t": "Para", "c": [math]}


def error_block(message: str, attr: Json, body: str) -> Json:
    """What replaces a block that failed: the message and the block's source."""
    identifier, classes, keyvals = attr
    source_classes = ["mdderiv-source" if name == CLASS else name for name in classes]
    return {
        "t": "Div",
        "c": [
            ["", ["mdderiv-error"], []],
            [
                {
                    "t": "Para",
                    "c": [{"t": "Strong", "c": _inlines("mdderiv could not derive this block:")},
                          {"t": "Space"}, {"t": "Code", "c": [["", [], []], message]}],
                },
                {"t": "CodeBlock", "c": [[identifier, source_classes, keyvals], body]},
            ],
        ],
    }


def _where(keyvals: list[list[str]]) -> tuple[str, int, int] | None:
    """``(file, line, column)`` of the opening fence from ``data-pos``, if pandoc gave one."""
    for key, value in keyvals:
        if key == "data-pos":
            found = _DATA_POS.match(value)
            if found:
                return found.group("file") or "", int(found.group("line")), int(found.group("column"))
    return None


_CONTAINER_PREFIX = re.compile(r"[ \t>]*")  # block quote markers and indentation


@dataclass(frozen=True)
class Found:
    """A block's body found in an input file: the fence's line (1-based) and
    what precedes each body line there (container prefixes)."""

    path: str
    fence_line: int
    prefixes: tuple[str, ...]


def find_body(run: FilterRun, body: str) -> Found | None:
    """The next place, after the last block found, where ``body`` stands in the
    input files line by line (behind block-quote markers or indentation at
    most), right under a line naming ``derive``; None if there is none."""
    body_lines = body.split("\n")
    first_source, first_line = run.cursor
    for index in range(first_source, len(run.sources)):
        path, lines = run.sources[index]
        start = first_line if index == first_source else 0
        for top in range(max(start, 1), len(lines) - len(body_lines) + 1):
            if CLASS not in lines[top - 1]:
                continue
            prefixes = []
            for offset, body_line in enumerate(body_lines):
                line = lines[top + offset]
                prefix = line[: len(line) - len(body_line)]
                if not line.endswith(body_line) or not _CONTAINER_PREFIX.fullmatch(prefix):
                    break
                prefixes.append(prefix)
            else:
                run.cursor = (index, top + len(body_lines))
                return Found(path, top, tuple(prefixes))
    return None


def locate(outcome: Outcome, keyvals: list[list[str]], number: int, found: Found | None = None) -> str:
    """Where a failed block's error is: ``file:LINE:COL`` with sourcepos or a
    body found in the input files, else the block's number and the position
    in its body."""
    where = _where(keyvals)
    if where is None and found is not None:
        if outcome.on_info_line:
            return f"{found.path}:{found.fence_line}:1"
        line = min(outcome.line, len(found.prefixes))
        return f"{found.path}:{found.fence_line + line}:{len(found.prefixes[line - 1]) + outcome.column}"
    if where is None:
        return f"derive block {number}, line {outcome.line} of the block, column {outcome.column}"
    path, fence_line, fence_column = where
    if outcome.on_info_line:
        line, column = fence_line, fence_column
    else:  # the body's lines follow the fence, indented as far as the fence (in a container)
        line, column = fence_line + outcome.line, fence_column - 1 + outcome.column
    return f"{path}:{line}:{column}" if path else f"{line}:{column}"


def expand_block(block: Json, run: FilterRun) -> Json:
    """A ``derive`` code block as display math, or the error div."""
    attr, body = block["c"]
    identifier, _classes, keyvals = attr
    run.blocks += 1
    number = run.blocks
    found = find_body(run, body) if run.sources else None  # every block: keeps the search in order
    options = {key: value for key, value in keyvals if not key.startswith("data-")}
    try:
        defaults = run.defaults.merged(options) if options else run.defaults
    except DeriveError as err:  # a bad attribute: pandoc gives no column for it
        outcome = Outcome(error=err.message, line=1, column=1, on_info_line=True)
    else:
        outcome = derive_block(body, "", defaults, run.cache)
    if outcome.ok:
        return display_math(outcome.latex, identifier)
    message = f"{locate(outcome, keyvals, number, found)}: {outcome.error}"
    run.fail(message)
    return error_block(message, attr, body)


def _looks_like_lost_fence(block: Json) -> bool:
    # pandoc's Markdown reads ```derive key=value (options without braces) as a
    # paragraph of inline code: the block's line breaks are already gone
    if block.get("t") != "Para" or len(block.get("c", [])) != 1:
        return False
    inline = block["c"][0]
    return inline.get("t") == "Code" and str(inline["c"][1]).startswith(CLASS + " ")


def _walk(node: Json, run: FilterRun) -> Json:
    if isinstance(node, list):
        return [_walk(item, run) for item in node]
    if not isinstance(node, dict):
        return node
    kind = node.get("t")
    if kind == "CodeBlock" and CLASS in node["c"][0][1]:
        return expand_block(node, run)
    if kind is not None and _looks_like_lost_fence(node):
        run.fail(
            "a ```derive fence with options after it is not a code block in pandoc's Markdown "
            "(it became inline code starting "
            f"{str(node['c'][0]['c'][1])[:40]!r}); write ```{{.derive layout=numerator}} "
            "or put the options in the block as option lines (layout: numerator)"
        )
        return node
    if "c" in node:
        return {**node, "c": _walk(node["c"], run)}
    return node


def filter_document(document: Json, run: FilterRun | None = None) -> tuple[Json, FilterRun]:
    """The document with its derive blocks expanded, and the run's record
    (``run`` may bring the input files)."""
    meta = document.get("meta", {})
    if run is None:
        run = FilterRun()
    try:
        run.defaults = metadata_defaults(meta)
    except DeriveError as err:
        run.fail(f"metadata {METADATA_OPTIONS}: {err.message}")
    document = {**document, "blocks": _walk(document.get("blocks", []), run)}
    return document, run


LUA_FILTER = Path(__file__).resolve().parent / "mdderiv.lua"


def _read_sources(paths: list[str]) -> list[tuple[str, list[str]]]:
    sources = []
    for path in paths:
        with contextlib.suppress(OSError, UnicodeDecodeError):  # (only costs the line numbers)
            sources.append((path, Path(path).read_text(encoding="utf-8").splitlines()))
    return sources


def main(argv: list[str] | None = None, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> int:
    """The ``mdderiv-pandoc`` command (pandoc passes the target format as the
    first argument; the filter writes the same math for every format)."""
    parser = argparse.ArgumentParser(
        prog="mdderiv-pandoc",
        description="pandoc JSON filter: derive code blocks become display math "
        "(pandoc --filter mdderiv-pandoc).",
    )
    parser.add_argument("format", nargs="?", help="the target format (pandoc passes it)")
    parser.add_argument("--input", action="append", default=[], metavar="FILE",
                        help="an input file of pandoc's, to find the blocks' lines in (the Lua filter passes them)")
    parser.add_argument("--lua", action="store_true", help="print the path of the Lua filter and exit")
    args = parser.parse_args(argv)
    if args.lua:
        print(LUA_FILTER)
        return 0
    # pandoc speaks UTF-8 whatever the locale says
    document = json.loads((stdin or sys.stdin.buffer).read().decode("utf-8"))
    result, run = filter_document(document, FilterRun(sources=_read_sources(args.input)))
    if run.failures and is_strict(document.get("meta", {})):
        print(f"mdderiv-pandoc: {len(run.failures)} block(s) failed (strict)", file=sys.stderr)
        return 1
    out = stdout or sys.stdout.buffer
    out.write(json.dumps(result, ensure_ascii=False).encode("utf-8"))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
