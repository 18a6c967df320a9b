"""The ``derive`` fence for Python-Markdown, as a SuperFences custom fence.

``markdown.Markdown(extensions=["mdderiv"])`` is enough: the extension makes
sure the SuperFences that handles fences has the ``derive`` entry of its
documented ``custom_fences`` config (:func:`custom_fence`), loading
``pymdownx.superfences`` with it if need be.  Everything goes through
SuperFences' documented API (a ``custom_fences`` entry with a ``format`` and a
``validator``); Python-Markdown's public extension API does the rest:

* a preprocessor before SuperFences records each derive fence's line, indent
  and info string with the one shared scanner (:mod:`.scan`); the formatter
  takes the recorded fences in document order, matching them by body, so an
  error names ``page.md:LINE:COL``;
* SuperFences drops a fence whose info line has unquoted values
  (``derive layout=numerator``) unless ``relaxed_headers`` is on, which would
  turn odd lines of any page into fences; so that preprocessor quotes the
  values of ``derive`` headers only (the block keeps the recorded info string);
* exceptions from a formatter are swallowed by SuperFences: errors become a
  visible error box and are reported by mdderiv itself;
* the greedy pass formats fences that later turn out to sit in an indented
  code block.  So the formatter only leaves a marker; a postprocessor derives
  the blocks whose marker survived into the page, and fences that were
  reverted to code (or that sit in an HTML comment) are never derived.
"""

from __future__ import annotations

import functools
import html
import logging
import os
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markdown import Markdown
from markdown.extensions import Extension
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor
from markdown.util import Registry
from pymdownx.superfences import SuperFencesBlockPreprocessor, SuperFencesCodeExtension

from ..options import SITE_WIDE, Options, site_defaults
from .blocks import BlockCache, Outcome, block_key, derive_block
from .scan import FENCE_NAME, FoundFence, page_fences, strict_header

__all__ = [
    "BlockFailure",
    "DERIVATION_HTML",
    "STYLESHEET",
    "DeferredBlock",
    "FenceContext",
    "MATH_HTML",
    "MdderivExtension",
    "StrictFailure",
    "custom_fence",
    "fence_format",
    "fence_validator",
    "makeExtension",
    "page_html",
    "stylesheet",
    "resolve_deferred",
    "spliced",
    "superfences_config",
]

log = logging.getLogger("mdderiv")

_HOOK_PRIORITY = 29  # after normalize_whitespace (30), before meta (27) and fences (25)
_POST_PRIORITY = 25  # after raw_html (30) has put the markers in, before amp_substitute (20)


@dataclass(frozen=True)
class BlockFailure:
    """One block that could not be derived, located in the page."""

    filename: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        where = f"{self.filename}:" if self.filename else ""
        return f"{where}{self.line}:{self.column}: {self.message}"


def _log_failure(failure: BlockFailure) -> None:
    log.warning("%s", failure)


@dataclass
class FenceContext:
    """What the fence needs to know besides the page text.

    The MkDocs plugin shares one context with the extension and updates
    ``filename`` and ``line_offset`` (front matter) before each page; it may
    instead set ``line_offset_source``, a function that works the offset out
    only when a block of the page fails.
    """

    defaults: Options = field(default_factory=Options)
    filename: str = ""
    line_offset: int = 0
    cache: BlockCache = field(default_factory=BlockCache)
    report: Callable[[BlockFailure], None] = _log_failure
    line_offset_source: Callable[[], int] | None = None
    #: with ``keep_rendered``, ``(html, body)`` of every derivation put into a
    #: page since the list was last emptied (the MkDocs plugin uses them to keep
    #: the derivations' LaTeX out of the search index)
    keep_rendered: bool = False
    rendered: list[tuple[str, str]] = field(default_factory=list)
    #: ``pymdownx.arithmatex`` is there only for the author's own math (the MkDocs
    #: plugin added it): a page without ``$``, ``\(``, ``\[`` or ``\begin``, where
    #: it would change nothing, is converted without it (its patterns cost time)
    optional_arithmatex: bool = False
    #: with ``defer``, a block still being derived in a worker process is left
    #: in the page as a placeholder and listed in ``deferred`` instead of waited
    #: for; :func:`resolve_deferred` puts the derivations in later in the build
    defer: bool = False
    deferred: list[DeferredBlock] = field(default_factory=list)
    _nonce: str = field(init=False, repr=False, default_factory=lambda: secrets.token_hex(6))
    _placeholders: int = field(init=False, repr=False, default=0)

    def offset(self) -> int:
        """``line_offset``, asking ``line_offset_source`` (once) if it is set."""
        if self.line_offset_source is not None:
            source, self.line_offset_source = self.line_offset_source, None
            self.line_offset = source()
        return self.line_offset

    def placeholder(self) -> str:
        self._placeholders += 1
        return f'<div data-mdderiv-deferred="{self._nonce}-{self._placeholders}"></div>'


@dataclass
class _Pending:
    body: str
    info: str
    info_col: int  # 0-based column of `info` in the fence line
    fence_line: int  # 1-based line of the opening fence in the Markdown text (add the context's offset)
    indent: int
    key: str | None = None  # the cache key, once worked out (see _key)


@dataclass
class DeferredBlock:
    """A block left in a page as ``placeholder`` (see ``FenceContext.defer``),
    with what its error message needs: the page's name and front-matter lines."""

    placeholder: str
    pending: _Pending
    filename: str
    offset: Callable[[], int]


class _State:
    """Per-``Markdown``-instance state of the fence (one conversion at a time)."""

    def __init__(self, context: FenceContext) -> None:
        self.context = context
        self.nonce = secrets.token_hex(6)
        self.pending: list[_Pending] = []
        self.resolved: dict[int, str] = {}
        self.failures: list[BlockFailure] = []
        self.fences: list[FoundFence] = []  # recorded before SuperFences runs
        self.next_fence = 0  # the first recorded fence not yet formatted
        self.site_strict = False  # the site (Zensical's `strict`) asks blocks to fail the build
        self.arithmatex_off = False  # its processors taken out for a page without math
        self.marker_prefix = f'<div data-mdderiv-block="{self.nonce}-'

    def marker(self, index: int) -> str:
        return f'{self.marker_prefix}{index}"></div>'

    def take_fence(self, body: str) -> FoundFence | None:
        """The next recorded fence with this body (SuperFences formats fences
        in document order; fences it skips, e.g. in raw HTML, are passed over)."""
        for index in range(self.next_fence, len(self.fences)):
            if self.fences[index].body == body:
                self.next_fence = index + 1
                return self.fences[index]
        return None


# one pattern for every page (compiling one per page costs more than the page's blocks
# when they come from the cache); the nonce is checked in the match
_MARKER = re.compile(r'<div data-mdderiv-block="([0-9a-f]+)-(\d+)"></div>')

def _state(md: Markdown) -> _State:
    state: _State | None = getattr(md, "mdderiv_state", None)
    if state is None:  # the fence used via custom_fences without the extension
        state = _State(FenceContext())
        md.mdderiv_state = state  # type: ignore[attr-defined]  # our own attribute on the instance
    return state


# -- SuperFences custom fence: validator and formatter -----------------------------------


def fence_validator(
    language: str, inputs: dict[str, str], options: dict[str, Any], attrs: dict[str, Any], md: Markdown
) -> bool:
    """Accept every ``derive`` fence; option errors are shown by the formatter.

    Returning False would make SuperFences render the block as plain code
    without a word, so a bad option is kept for the error box instead.  The
    info string itself comes from the recorded fence; ``inputs`` (what
    SuperFences parsed of it) are kept for the fence used without the
    extension.
    """
    options["inputs"] = dict(inputs)
    return True


def fence_format(
    src: str = "",
    language: str = "",
    class_name: str = "",
    options: dict[str, Any] | None = None,
    md: Markdown | None = None,
    **kwargs: Any,
) -> str:
    """SuperFences formatter: a marker resolved by the postprocessor, or the
    derivation itself when the extension's postprocessor is not there."""
    assert md is not None
    state = _state(md)
    found = state.take_fence(src)
    if found is not None:
        pending = _Pending(src, found.info, found.info_col, found.line + 1, found.indent)
    else:  # not recorded (the fence used via custom_fences without the extension)
        inputs: dict[str, str] = (options or {}).get("inputs", {})
        info = "".join(f' {key}="{value}"' for key, value in inputs.items())
        pending = _Pending(src, info, 0, 0, 0)
    if "mdderiv_blocks" not in md.postprocessors:
        return _render(state, pending)
    state.pending.append(pending)
    return state.marker(len(state.pending) - 1)


def _format(
    src: str = "", language: str = "", class_name: str = "", options: Any = None, md: Any = None, **kwargs: Any
) -> str:
    return fence_format(src, language, class_name, options, md, **kwargs)


def custom_fence() -> dict[str, Any]:
    """The ``derive`` entry of SuperFences' ``custom_fences`` config."""
    return {"name": FENCE_NAME, "class": FENCE_NAME, "format": _format, "validator": fence_validator}


def _has_entry(config: dict[str, Any]) -> bool:
    return any(entry.get("name") == FENCE_NAME for entry in config.get("custom_fences") or [])


def superfences_config(config: dict[str, Any]) -> dict[str, Any]:
    """A SuperFences config with the ``derive`` entry added (if missing)."""
    if _has_entry(config):
        return config
    return {**config, "custom_fences": [*(config.get("custom_fences") or []), custom_fence()]}


def _active_superfences(md: Markdown) -> SuperFencesCodeExtension | None:
    """The SuperFences whose preprocessor handles fences: the last one loaded."""
    found = [ext for ext in md.registeredExtensions if isinstance(ext, SuperFencesCodeExtension)]
    return found[-1] if found else None


def _ensure_superfences(md: Markdown) -> bool:
    """Load SuperFences with the ``derive`` entry unless the one in place has
    it; whether it was (re)loaded.  A SuperFences loaded again keeps the
    config of the one it replaces (the author's own custom fences)."""
    active = _active_superfences(md)
    config: dict[str, Any] = active.getConfigs() if active is not None else {}
    if _has_entry(config):
        return False
    md.registerExtensions(["pymdownx.superfences"], {"pymdownx.superfences": superfences_config(config)})
    return True


# -- rendering ---------------------------------------------------------------------------


def math_html(outcome: Outcome) -> str:
    """A derivation as Arithmatex-compatible display math (the title, if
    any, is part of the LaTeX): what blog posts get."""
    from ..render.html import html_display  # (late: a build whose blocks are all cached never imports the engine)

    return html_display(outcome.latex)


def page_html(outcome: Outcome) -> str:
    """A derivation as pages show it: HTML structure with math inside
    (``render.html``; styled by :data:`STYLESHEET`), or display math for an
    outcome without it."""
    return outcome.html or math_html(outcome)


#: The stylesheet of the page layout (package data); the MkDocs plugin writes it
#: into the site as one file every page links, Python-Markdown users get it
#: inlined before a page's first derivation or link a copy.
STYLESHEET = Path(__file__).with_name("mdderiv.css")


@functools.cache
def stylesheet() -> str:
    """The text of :data:`STYLESHEET` (read once per process)."""
    return STYLESHEET.read_text(encoding="utf-8")


#: A derivation of :func:`page_html` found in a page: its outermost element
#: holds no other ``<div>`` (``render.html``), so it ends at the first ``</div>``.
#: (Written as runs of non-``<`` text, not a lazy ``.*?``: the engine then skips
#: the derivation's text in bulk instead of trying ``</div>`` at every character.)
DERIVATION_HTML = re.compile(r'<div class="mdderiv-derivation"[^>]*>[^<]*(?:<(?!/div>)[^<]*)*</div>')


#: What :func:`math_html` writes, found in a page: the LaTeX is HTML-escaped, so
#: no "<" inside, and a match never runs across other markup.  (An author's own
#: Arithmatex display math can have the same form: callers tell them apart.)
MATH_HTML = re.compile(r'<div class="arithmatex">\\\[\n[^<]*\n\\\]</div>')


def error_html(failure: BlockFailure, body: str) -> str:
    """The visible box that replaces a block that failed."""
    return (
        '<div class="mdderiv-error admonition failure">\n'
        '<p class="admonition-title">mdderiv could not derive this block</p>\n'
        f"<p><code>{html.escape(str(failure))}</code></p>\n"
        f'<pre class="mdderiv-source"><code>{html.escape(body)}</code></pre>\n'
        "</div>"
    )


def locate(outcome: Outcome, fence_line: int, indent: int, info_col: int) -> tuple[int, int]:
    """Page line and column of a failed block's error."""
    if outcome.on_info_line:
        return fence_line, info_col + outcome.column
    return fence_line + outcome.line, indent + outcome.column


def _block_html(
    context: FenceContext,
    pending: _Pending,
    filename: str,
    offset: Callable[[], int],
    rendered: list[tuple[str, str]],
) -> tuple[str, BlockFailure | None]:
    """The derivation (or the error box, reported) that replaces a block."""
    outcome = derive_block(
        pending.body, pending.info, context.defaults, context.cache, html_only=True, key=_key(context, pending)
    )
    if outcome.ok:
        html = page_html(outcome)
        if context.keep_rendered:
            rendered.append((html, pending.body))
        return html, None
    line, column = locate(outcome, pending.fence_line + offset(), pending.indent, pending.info_col)
    failure = BlockFailure(filename, line, column, outcome.error or "error")
    context.report(failure)
    return error_html(failure, pending.body), failure


def _defer(context: FenceContext, pending: _Pending) -> str:
    source, known = context.line_offset_source, context.line_offset

    def offset() -> int:  # the page's front matter, counted only if the block fails
        return source() if source is not None else known

    placeholder = context.placeholder()
    context.deferred.append(DeferredBlock(placeholder, pending, context.filename, offset))
    return placeholder


def _key(context: FenceContext, pending: _Pending) -> str | None:
    """The block's cache key (None when its info line is bad), worked out once:
    both the wait for a worker and the cache lookup need it."""
    if pending.key is None:
        pending.key = block_key(pending.body, pending.info, context.defaults, html_only=True)
    return pending.key


def _render(state: _State, pending: _Pending) -> str:
    context = state.context
    if context.defer and context.cache.still_deriving(_key(context, pending)):
        return _defer(context, pending)
    html, failure = _block_html(context, pending, context.filename, context.offset, context.rendered)
    if failure is not None:
        state.failures.append(failure)
    return html


def resolve_deferred(
    context: FenceContext,
    content: str,
    blocks: list[DeferredBlock],
    rendered: list[tuple[str, str]],
) -> str:
    """``content`` with the derivations (waited for if need be) or error boxes
    of deferred ``blocks`` in place of their placeholders; ``(html, body)`` of
    each derivation goes to ``rendered`` when the context keeps them."""
    edits: list[tuple[int, int, str]] = []
    for block in blocks:  # (derived in the page's order: failures are reported in it)
        html, _ = _block_html(context, block.pending, block.filename, block.offset, rendered)
        at = content.find(block.placeholder)
        if at >= 0:
            edits.append((at, at + len(block.placeholder), html))
    edits.sort(key=lambda edit: edit[0])  # (each placeholder is unique: no two overlap)
    return spliced(content, edits)


def spliced(text: str, edits: Iterable[tuple[int, int, str]]) -> str:
    """``text`` with each ``(start, end, new)`` of ``edits`` — in order, none
    overlapping — putting ``new`` in place of ``text[start:end]`` (an insertion
    where ``start == end``): the text copied once, not once per edit."""
    parts: list[str] = []
    last = 0
    for start, end, new in edits:
        parts += (text[last:start], new)
        last = end
    parts.append(text[last:])
    return "".join(parts)


# -- processors ------------------------------------------------------------------------------


def _zensical_page(md: Markdown, context: FenceContext, lines: list[str]) -> bool:
    """Name the page in error messages when Zensical renders it; whether the
    site asks for strictness (``strict: true`` in its config).

    Zensical runs Python-Markdown once per page with its ``rendering_context``
    preprocessor, which holds the page (``page.path``, relative to
    ``docs_dir``) and the site's config (``root_dir``, ``docs_dir``,
    ``strict``); it has already stripped the front matter, which the error
    lines count.
    """
    if "rendering_context" not in md.preprocessors:
        return False
    processor = md.preprocessors["rendering_context"]
    page, config = getattr(processor, "page", None), getattr(processor, "config", None)
    path = getattr(page, "path", None)
    if not path or not isinstance(config, dict):
        return False
    root = Path(str(config.get("root_dir") or "."))
    source = root / str(config.get("docs_dir") or "docs") / str(path)
    context.filename = os.path.relpath(source, root).replace(os.sep, "/")
    markdown = "\n".join(lines)

    def offset() -> int:  # read only if a block of the page fails
        from .plugin import front_matter_lines

        try:
            return front_matter_lines(source.read_text(encoding="utf-8-sig", errors="replace"), markdown)
        except OSError:
            return 0

    context.line_offset = 0
    context.line_offset_source = offset
    return bool(config.get("strict"))


class StrictFailure(Exception):
    """Raised after a conversion with failed blocks when the extension is ``strict``."""


#: what Arithmatex reads as math (generic mode: $…$, \(…\), $$…$$, \[…\], \begin{…}),
#: and the $ it adds to the escapable characters
_MATH_DELIMITERS = ("$", "\\(", "\\[", "\\begin")


def _arithmatex_only_for_math(md: Markdown, state: _State, text: str) -> None:
    """Take Arithmatex's processors out of this conversion when ``text`` has
    nothing they read (MkDocs makes a Markdown instance per page; should one be
    reused, a later page with math gets them back)."""
    has_math = any(delimiter in text for delimiter in _MATH_DELIMITERS)
    if has_math and state.arithmatex_off:
        md.registerExtensions(["pymdownx.arithmatex"], {"pymdownx.arithmatex": {"generic": True}})
        state.arithmatex_off = False
    elif not has_math and not state.arithmatex_off:
        parts: list[tuple[Registry[Any], str]] = [
            (md.inlinePatterns, "arithmatex-inline"),
            (md.parser.blockprocessors, "arithmatex-block"),
        ]
        for registry, name in parts:
            if name in registry:
                registry.deregister(name)
        state.arithmatex_off = True


class _FencePreprocessor(Preprocessor):
    """Before SuperFences: make sure it knows the fence, and record where each
    derive fence is (line, indent, info string) for error positions."""

    def __init__(self, md: Markdown, state: _State, own_context: bool) -> None:
        super().__init__(md)
        self.state = state
        self.own_context = own_context
        self._warned = False

    def run(self, lines: list[str]) -> list[str]:
        state = self.state
        if self.own_context:  # not the MkDocs plugin's, which names the page itself
            state.site_strict = _zensical_page(self.md, state.context, lines)
        state.pending.clear()
        state.resolved.clear()
        state.failures.clear()
        state.next_fence = 0
        text = "\n".join(lines)
        if state.context.optional_arithmatex:
            _arithmatex_only_for_math(self.md, state, text)
        state.fences = page_fences(text, lines)
        for found in state.fences:  # unquoted option values: a header SuperFences reads
            header = strict_header(lines[found.line], found)
            if header is not None:
                lines[found.line] = header
        # a SuperFences listed after mdderiv replaced the one mdderiv loaded: load it
        # again with the derive entry and let it handle this page's fences now (the
        # replaced one, still in this conversion's list, then finds none left)
        if _ensure_superfences(self.md):
            lines = self.md.preprocessors["fenced_code_block"].run(lines)
        fences = self.md.preprocessors["fenced_code_block"] if "fenced_code_block" in self.md.preprocessors else None  # noqa: SIM401 - a Registry has no get()
        if not isinstance(fences, SuperFencesBlockPreprocessor) and not self._warned:
            self._warned = True
            log.warning(
                "mdderiv: pymdownx.superfences is not handling fences (is 'fenced_code' loaded "
                "after it?); derive blocks will show as code"
            )
        return lines


_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_FIRST_DERIVATION = '<div class="mdderiv-derivation"'


class _BlocksPostprocessor(Postprocessor):
    """Derive the blocks whose marker reached the page (and, when ``strict``,
    fail the conversion if one of them could not be derived)."""

    def __init__(self, md: Markdown, state: _State, strict: bool = False, style: bool = False) -> None:
        super().__init__(md)
        self.state = state
        self.strict = strict
        self.style = style  # put the layout's stylesheet before the page's first derivation

    def run(self, text: str) -> str:
        text = self._substitute(text)
        if self.style and _FIRST_DERIVATION in text:
            text = text.replace(_FIRST_DERIVATION, f'<style id="mdderiv-layout">\n{stylesheet()}</style>\n{_FIRST_DERIVATION}', 1)
        if (self.strict or self.state.site_strict) and self.state.failures:
            failures = "\n".join(str(failure) for failure in self.state.failures)
            raise StrictFailure(f"mdderiv: {len(self.state.failures)} block(s) could not be derived:\n{failures}")
        return text

    def _substitute(self, text: str) -> str:
        state = self.state
        if not state.pending or state.marker_prefix not in text:
            return text
        comments = [(m.start(), m.end()) for m in _COMMENT.finditer(text)]

        def substitute(match: re.Match[str]) -> str:
            index = int(match.group(2))
            if match.group(1) != state.nonce or index >= len(state.pending):
                return match.group(0)
            pending = state.pending[index]
            if any(start <= match.start() < end for start, end in comments):
                # commented out: keep it as the author wrote it, never derived
                return f"```{FENCE_NAME}{pending.info}\n{pending.body}\n```"
            if index not in state.resolved:
                state.resolved[index] = _render(state, pending)
            return state.resolved[index]

        # Not cleared here: toc runs the postprocessors on heading text first.
        return _MARKER.sub(substitute, text)


def _config_help(meaning: str, choices: tuple[str, ...]) -> str:
    return f"{meaning}: {'|'.join(choices)}" if choices else meaning


class MdderivExtension(Extension):
    """``derive`` fences → step-by-step derivations (Arithmatex display math).

    Config: one key per block option (site-wide defaults), ``filename`` and
    ``line_offset`` for error positions, ``cache`` and ``cache_dir``.  Failed
    blocks are listed in ``md.mdderiv_failures`` after each conversion and
    logged as warnings on the ``mdderiv`` logger.
    """

    def __init__(self, **kwargs: Any) -> None:
        self.context: FenceContext | None = kwargs.pop("context", None)
        self.config: dict[str, list[Any]] = {
            spec.name: [spec.default, _config_help(spec.meaning, spec.choices)] for spec in SITE_WIDE
        }
        self.config.update({
            "filename": ["", "page name used in error messages"],
            "line_offset": [0, "lines before the Markdown text (front matter), for error positions"],
            "cache": [True, "remember derivations (in memory) by block text and options"],
            "cache_dir": ["", "also keep the cache in this directory"],
            "stylesheet": [
                True,
                "put the page layout's stylesheet (a <style>) before the first derivation of each page "
                "(under the MkDocs plugin, which links one file from every page, never)",
            ],
            "strict": [False, "raise StrictFailure after a conversion in which a block failed"],
        })
        super().__init__(**kwargs)

    def _own_context(self) -> FenceContext:
        config = self.getConfigs()
        defaults = site_defaults(config)
        return FenceContext(
            defaults=defaults,
            filename=str(config["filename"]),
            line_offset=int(config["line_offset"]),
            cache=BlockCache(bool(config["cache"]), config["cache_dir"] or None),
        )

    def extendMarkdown(self, md: Markdown) -> None:
        context = self.context or self._own_context()
        state = _State(context)
        md.mdderiv_state = state  # type: ignore[attr-defined]  # our own attribute on the instance
        md.mdderiv_failures = state.failures  # type: ignore[attr-defined]  # documented
        _ensure_superfences(md)
        md.preprocessors.register(_FencePreprocessor(md, state, self.context is None), "mdderiv_fences", _HOOK_PRIORITY)
        strict = bool(self.getConfig("strict"))
        # the MkDocs plugin (which passes its context) puts the stylesheet in the page head
        style = self.context is None and bool(self.getConfig("stylesheet"))
        md.postprocessors.register(_BlocksPostprocessor(md, state, strict, style), "mdderiv_blocks", _POST_PRIORITY)


def makeExtension(**kwargs: Any) -> MdderivExtension:
    """Entry point for ``Markdown(extensions=["mdderiv.markdown.fence"])``."""
    return MdderivExtension(**kwargs)

