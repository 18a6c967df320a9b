"""Blog posts (Jekyll, Hexo, plain Markdown): expand derive blocks in place.

Which fences are derive blocks is decided by **mistune**'s parse of the post
(front matter skipped), so a fence shown inside a longer fence, in an indented
code block or in an HTML comment is left alone, while fences in lists and
block quotes count.  mistune's tokens carry no source positions, so before
parsing every line that *could* open a derive fence gets a unique anchor
appended to its info string; the anchors that come back in ``block_code``
tokens name exactly the lines that open real blocks.  Each block is then
replaced by ``$$ … $$`` display math and every other byte of the post —
front matter, Liquid tags, CRLF line ends — is kept as it was.
"""

from __future__ import annotations

import contextlib
import html as html_lib
import os
import re
import secrets
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mistune

from ..options import Options
from .blocks import BlockCache, Outcome, derive_block
from .fence import math_html
from .scan import Header, derive_header

__all__ = [
    "FLAVORS",
    "Block",
    "Failure",
    "RenderError",
    "fenced_block",
    "find_blocks",
    "render_html",
    "render_text",
    "watch",
    "write_atomic",
]

FLAVORS = ("plain", "jekyll", "hexo")

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\n|\r|$)")
_FRONT_OPEN = re.compile(r"^\ufeff?(---|;;;)[ \t]*(\r\n|\n|\r)?$")
_TEMPLATE_OPENERS = ("{{", "{%", "{#")


@dataclass(frozen=True)
class Block:
    """One derive block of a post: lines ``start``…``end - 1`` (0-based)."""

    start: int
    end: int
    body: str
    info: str  # the info string after `derive`
    info_col: int  # 0-based column of `info` in the opening line
    prefix: str  # what precedes the fence on the opening line
    indent: int  # width of the container prefix on body lines

    def locate(self, line: int, column: int, on_info_line: bool = False) -> tuple[int, int]:
        """Post line and column (1-based) of a position in the body, or in the
        info string after ``derive``."""
        if on_info_line:
            return self.start + 1, self.info_col + column
        return self.start + 1 + line, self.indent + column


@dataclass(frozen=True)
class Failure:
    """A block that failed, located in the post (1-based)."""

    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class RenderError(Exception):
    """Some blocks of a post could not be derived; nothing was written."""

    def __init__(self, failures: list[Failure]) -> None:
        super().__init__("\n".join(map(str, failures)))
        self.failures = failures


def split_lines(text: str) -> list[str]:
    """Lines with their own line ends (``\\r\\n``, ``\\n`` or ``\\r``), as mistune counts them."""
    lines = [m.group(0) for m in _LINE.finditer(text)]
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def front_matter_end(lines: list[str]) -> int:
    """Number of lines of a leading front matter block (``---``…``---``/``...``,
    or Hexo's ``;;;``…``;;;``), 0 if there is none."""
    if not lines:
        return 0
    opening = _FRONT_OPEN.match(lines[0])
    if not opening:
        return 0
    closers = ("---", "...") if opening.group(1) == "---" else (";;;",)
    for index in range(1, len(lines)):
        if lines[index].rstrip("\r\n").rstrip(" \t") in closers:
            return index + 1
    return 0


def _walk(tokens: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for token in tokens:
        yield token
        children = token.get("children")
        if isinstance(children, list):
            yield from _walk(children)


def _anchor(nonce: str, index: int) -> str:
    return f"mdderiv-anchor-{nonce}-{index}"


def _anchored(lines: list[str], first: int) -> tuple[str, dict[int, Header], str]:
    """The post with anchors on candidate lines, front matter blanked (so line
    numbers stay), line ends normalised for mistune."""
    nonce = secrets.token_hex(4)
    out: list[str] = []
    candidates: dict[int, Header] = {}
    for index, line in enumerate(lines):
        content = line.rstrip("\r\n")
        if index < first:
            out.append("\n")
            continue
        header = derive_header(content, list_markers=True)
        if header:
            candidates[index] = header
            content = f"{content} {_anchor(nonce, index)}"
        out.append(content + "\n")
    return "".join(out), candidates, nonce


def _parse(anchored: str) -> list[dict[str, Any]]:
    parser = mistune.create_markdown(renderer=None)
    tokens = parser(anchored)
    return tokens if isinstance(tokens, list) else []


_ANCHOR_RE = re.compile(r"mdderiv-anchor-([0-9a-f]+)-(\d+)")


def find_blocks(text: str) -> list[Block]:
    """The derive blocks of a post, in order, as mistune sees them."""
    lines = split_lines(text)
    first = front_matter_end(lines)
    anchored, candidates, nonce = _anchored(lines, first)
    blocks: list[Block] = []
    for token in _walk(_parse(anchored)):
        if token.get("type") != "block_code" or token.get("style") != "fenced":
            continue
        info = (token.get("attrs") or {}).get("info", "")
        found = _ANCHOR_RE.search(info)
        if not found or found.group(1) != nonce:
            continue
        start = int(found.group(2))
        header = candidates.get(start)
        if header is None:
            continue
        raw: str = token.get("raw", "")
        body_lines = raw.count("\n") + (1 if raw and not raw.endswith("\n") else 0)
        end = start + 1 + body_lines
        marker = token.get("marker") or header.fence
        if end < len(lines):
            closing = lines[end].rstrip("\r\n").lstrip(" \t>")
            if re.fullmatch(re.escape(marker[0]) + f"{{{len(marker)},}}[ \t]*", closing):
                end += 1  # the closing fence belongs to the block
        prefix = header.prefix
        blocks.append(
            Block(
                start=start,
                end=end,
                body=raw.removesuffix("\n"),
                info=header.info,
                info_col=header.info_col,
                prefix=prefix,
                indent=len(prefix.expandtabs(4)),
            )
        )
    blocks.sort(key=lambda block: block.start)
    return blocks


def fenced_block(text: str) -> Block | None:
    """The derive block when ``text`` is one whole fenced block (blank lines
    around it allowed), as pasted from a page; None otherwise."""
    blocks = find_blocks(text)
    if len(blocks) != 1:
        return None
    block = blocks[0]
    lines = split_lines(text)
    if any(line.strip() for line in lines[: block.start] + lines[block.end :]):
        return None
    return block


def escape_templates(text: str, flavor: str) -> str:
    """Break ``{{``, ``{%`` and ``{#`` so Liquid (Jekyll) and Nunjucks (Hexo)
    leave the math alone; a space between braces changes nothing in LaTeX."""
    if flavor == "plain":
        return text
    changed = True
    while changed:
        changed = False
        for opener in _TEMPLATE_OPENERS:
            if opener in text:
                text = text.replace(opener, opener[0] + " " + opener[1])
                changed = True
    return text


#: Hexo hands a raw tag to its Markdown renderer as an HTML comment placeholder
#: and puts the text back afterwards, so hexo-renderer-marked never reads the
#: LaTeX (it would take ``\\`` and ``_`` as Markdown); Nunjucks then prints it as it is.
HEXO_RAW = ("{% raw %}", "{% endraw %}")


def display_math(outcome: Outcome, flavor: str, one_line: bool = False) -> list[str]:
    """The lines that replace a block: ``$$``, the LaTeX, ``$$`` (for Hexo
    inside a raw tag; ``one_line`` puts it all on one line)."""
    # a blank line would end the math in Markdown; the title, if any, is part of the LaTeX
    latex_lines = [escape_templates(line, flavor) for line in outcome.latex.splitlines() if line.strip()]
    if flavor != "hexo":
        return ["$$", *latex_lines, "$$"]
    opening, closing = HEXO_RAW
    if one_line:
        return [f"{opening}$$" + " ".join(latex_lines) + f"$${closing}"]
    return [f"{opening}$$", *latex_lines, f"$${closing}"]


def _continuation(prefix: str) -> str:
    # `> - ` on the first line continues as `>   ` on the next ones
    return re.sub(r"[^>\s]", " ", prefix)


def _locate(path: str, block: Block, outcome: Outcome) -> Failure:
    line, column = block.locate(outcome.line, outcome.column, outcome.on_info_line)
    return Failure(path, line, column, outcome.error or "")


def derive_blocks(
    text: str,
    path: str = "<stdin>",
    defaults: Options | None = None,
    cache: BlockCache | None = None,
) -> tuple[list[Block], list[Outcome], list[Failure]]:
    """Find and derive every block of a post."""
    blocks = find_blocks(text)
    outcomes = [derive_block(block.body, block.info, defaults, cache) for block in blocks]
    failures = [_locate(path, block, outcome) for block, outcome in zip(blocks, outcomes) if not outcome.ok]
    return blocks, outcomes, failures


def render_text(
    text: str,
    flavor: str = "plain",
    path: str = "<stdin>",
    defaults: Options | None = None,
    cache: BlockCache | None = None,
) -> str:
    """The post with every derive block replaced by display math.

    Raises :class:`RenderError` (listing every failed block) if any fails.
    """
    if flavor not in FLAVORS:
        raise ValueError(f"unknown flavor {flavor!r}; use one of: {', '.join(FLAVORS)}")
    lines = split_lines(text)
    blocks, outcomes, failures = derive_blocks(text, path, defaults, cache)
    if failures:
        raise RenderError(failures)
    for block, outcome in sorted(zip(blocks, outcomes), key=lambda pair: -pair[0].start):
        opening = lines[block.start]
        eol = opening[len(opening.rstrip("\r\n")) :] or "\n"
        last = lines[block.end - 1]
        last_eol = last[len(last.rstrip("\r\n")) :]
        continuation = _continuation(block.prefix)
        new: list[str] = []
        # a raw tag keeps its lines verbatim, container prefixes too: in a block quote
        # the `>` of each line would land in the math, so Hexo's goes on one line
        one_line = flavor == "hexo" and ">" in block.prefix
        for index, line in enumerate(display_math(outcome, flavor, one_line)):
            lead = block.prefix if index == 0 else continuation
            new.append((lead + line).rstrip() if not line else lead + line)
        replaced = [line + eol for line in new[:-1]] + [new[-1] + last_eol]
        lines[block.start : block.end] = replaced
    return "".join(lines)


# -- a standalone HTML page ------------------------------------------------------------------

_HTML_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<script>
window.MathJax = {{
  tex: {{inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]], displayMath: [["$$", "$$"], ["\\\\[", "\\\\]"]],
         processEscapes: true, processEnvironments: true}}
}};
</script>
<script id="MathJax-script" async src="{mathjax_url}"></script>
<style>
body {{ max-width: 48rem; margin: 2rem auto; padding: 0 1rem; font: 16px/1.6 system-ui, sans-serif; }}
pre {{ background: #f6f8fa; padding: .75rem; overflow-x: auto; }}
.arithmatex {{ overflow-x: auto; }}
</style>
</head>
<body>
{body}
</body>
</html>
"""


def _title(lines: list[str], first: int, fallback: str) -> str:
    for line in lines[1 : max(first - 1, 1)]:
        match = re.match(r"^title:\s*(.+?)\s*$", line.rstrip("\r\n"))
        if match:
            return match.group(1).strip("\"'")
    return fallback


def render_html(
    text: str,
    path: str = "<stdin>",
    defaults: Options | None = None,
    cache: BlockCache | None = None,
    mathjax_url: str | None = None,
) -> str:
    """A standalone HTML page of the post (mistune + MathJax), for a quick look.

    Raises :class:`RenderError` if any block fails.
    """
    from .plugin import MATHJAX_CDN

    lines = split_lines(text)
    first = front_matter_end(lines)
    blocks, outcomes, failures = derive_blocks(text, path, defaults, cache)
    if failures:
        raise RenderError(failures)
    by_start = {block.start: outcome for block, outcome in zip(blocks, outcomes)}
    anchored, _candidates, nonce = _anchored(lines, first)

    class Renderer(mistune.HTMLRenderer):
        def block_code(self, code: str, info: str | None = None) -> str:
            found = _ANCHOR_RE.search(info or "")
            if found and found.group(1) == nonce and int(found.group(2)) in by_start:
                return math_html(by_start[int(found.group(2))]) + "\n"
            if found:
                info = _ANCHOR_RE.sub("", info or "").rstrip()
            return super().block_code(code, info)

    parser = mistune.create_markdown(
        renderer=Renderer(escape=False), plugins=["math", "table", "strikethrough", "footnotes"]
    )
    body = parser(anchored)
    # candidates that are not blocks (inside code, comments) still carry their anchor
    body = re.sub(rf" ?mdderiv-anchor-{nonce}-\d+", "", str(body))
    title = _title(lines, first, Path(path).stem if path != "<stdin>" else "mdderiv")
    lang = "zh" if defaults is not None and defaults.lang == "zh" else "en"
    return _HTML_PAGE.format(
        lang=lang,
        title=html_lib.escape(title),
        mathjax_url=html_lib.escape(mathjax_url or MATHJAX_CDN),
        body=body,
    )


# -- files -----------------------------------------------------------------------------------


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename, so a
    failure never leaves half a file behind."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_post(path: str | os.PathLike[str]) -> str:
    """A post as text, line ends untouched (UTF-8; a BOM is kept as a character)."""
    return Path(path).read_bytes().decode("utf-8")


def render_post(
    source: str | os.PathLike[str],
    flavor: str = "plain",
    as_html: bool = False,
    defaults: Options | None = None,
    cache: BlockCache | None = None,
    display_path: str | None = None,
) -> bytes:
    """A post file rendered to bytes (Markdown or HTML); raises :class:`RenderError`."""
    text = read_post(source)
    name = display_path or str(source)
    if as_html:
        return render_html(text, name, defaults, cache).encode("utf-8")
    return render_text(text, flavor, name, defaults, cache).encode("utf-8")


def watch(
    directory: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    flavor: str = "plain",
    as_html: bool = False,
    defaults: Options | None = None,
    interval: float = 1.0,
    max_cycles: int | None = None,
    report: Callable[[str], None] = print,
) -> int:
    """Poll ``directory`` for new or changed ``.md`` files and render each into
    ``out_dir`` (same relative path; ``.html`` with ``as_html``).

    Runs ``max_cycles`` polls (forever when None) and returns the number of
    failed renders; Ctrl-C stops it cleanly.  Blocks that did not change come
    from the cache, so a re-render costs only the edited blocks.
    """
    root = Path(directory).resolve()
    out_root = Path(out_dir).resolve()
    cache = BlockCache()
    seen: dict[Path, float] = {}
    failed = 0
    cycle = 0
    try:
        while max_cycles is None or cycle < max_cycles:
            cycle += 1
            for path in sorted(root.rglob("*.md")):
                if out_root in path.resolve().parents:
                    continue  # never re-render our own output
                try:
                    mtime = path.stat().st_mtime_ns
                except OSError:
                    continue
                if seen.get(path) == mtime:
                    continue
                seen[path] = mtime
                relative = path.relative_to(root)
                target = out_root / (relative.with_suffix(".html") if as_html else relative)
                try:
                    data = render_post(path, flavor, as_html, defaults, cache, str(path))
                except RenderError as err:
                    failed += 1
                    for failure in err.failures:
                        report(str(failure))
                    continue
                except (OSError, UnicodeDecodeError) as err:
                    failed += 1
                    report(f"{path}: cannot read: {err}")
                    continue
                write_atomic(target, data)
                report(f"rendered {path} -> {target}")
            if max_cycles is None or cycle < max_cycles:
                time.sleep(interval)
    except KeyboardInterrupt:
        report("stopped watching")
    return failed
