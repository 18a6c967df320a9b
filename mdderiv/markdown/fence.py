"""The ``derive`` fence for Python-Markdown, as a SuperFences custom fence.

``markdown.Markdown(extensions=["mdderiv"])`` is enough: the extension loads
``pymdownx.superfences`` if it is missing and adds the ``derive`` fence to
whichever SuperFences instance ends up handling fences, whatever the order of
the extensions (it does so just before fences are searched, in a small
preprocessor, because a SuperFences listed *after* mdderiv replaces the
instance that was there when mdderiv loaded).

Three SuperFences behaviours are worked around here:

* an info line with unquoted values (``derive layout=numerator``) does not
  match SuperFences' option syntax and the fence would be dropped silently:
  for ``derive`` fences the unrecognised-header path is taken over;
* exceptions from a formatter are swallowed: errors become a visible error box
  and are reported (``page.md:LINE:COL: message``) by mdderiv itself;
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
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markdown import Markdown
from markdown.extensions import Extension
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor

from ..options import SITE_WIDE, Options, site_defaults
from ..render.html import html_display
from .blocks import BlockCache, Outcome, block_key, derive_block

__all__ = [
    "BlockFailure",
    "DERIVATION_HTML",
    "STYLESHEET",
    "DeferredBlock",
    "FenceContext",
    "MATH_HTML",
    "MdderivExtension",
    "StrictFailure",
    "fence_format",
    "fence_validator",
    "makeExtension",
    "page_html",
    "stylesheet",
    "resolve_deferred",
]

log = logging.getLogger("mdderiv")

FENCE_NAME = "derive"
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
        self.fence_match: re.Match[str] | None = None
        self.fence_start = 0
        self.fence_ws = ""
        self.removed_lines = 0  # lines dropped by preprocessors before fences (meta)
        self.site_strict = False  # the site (Zensical's `strict`) asks blocks to fail the build
        self.lines_before = 0
        self.marker_prefix = f'<div data-mdderiv-block="{self.nonce}-'

    def marker(self, index: int) -> str:
        return f'{self.marker_prefix}{index}"></div>'


# one pattern for every page (compiling one per page costs more than the page's blocks
# when they come from the cache); the nonce is checked in the match
_MARKER = re.compile(r'<div data-mdderiv-block="([0-9a-f]+)-(\d+)"></div>')


def _state(md: Markdown) -> _State:
    state = getattr(md, "_mdderiv_state", None)
    if state is None:  # the fence used via custom_fences without the extension
        state = _State(FenceContext())
        md._mdderiv_state = state  # type: ignore[attr-defined]
    return state


# -- SuperFences custom fence: validator and formatter -----------------------------------


def fence_validator(
    language: str, inputs: dict[str, str], options: dict[str, Any], attrs: dict[str, Any], md: Markdown
) -> bool:
    """Accept every ``derive`` fence; option errors are shown by the formatter.

    Returning False would make SuperFences render the block as plain code
    without a word, so a bad option is kept for the error box instead.
    """
    state = _state(md)
    match = state.fence_match
    if match is not None and match.group("lang") == language:
        options["info"] = match.string[match.end("lang") :]
        options["info_col"] = match.end("lang")
    else:  # called without our header hook (e.g. listed in custom_fences by hand)
        options["info"] = " ".join(f'{key}="{value}"' for key, value in inputs.items())
        options["info_col"] = 0
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
    options = options or {}
    assert md is not None
    state = _state(md)
    pending = _Pending(
        body=src,
        info=str(options.get("info", "")),
        info_col=int(options.get("info_col", 0)),
        fence_line=state.fence_start + 1 + state.removed_lines,
        indent=len(state.fence_ws),
    )
    if "mdderiv_blocks" not in md.postprocessors:
        return _render(state, pending)
    state.pending.append(pending)
    return state.marker(len(state.pending) - 1)


def _formatter(src: str = "", language: str = "", options: Any = None, md: Any = None, **kwargs: Any) -> str:
    return fence_format(src, language, FENCE_NAME, options, md, **kwargs)


# -- rendering ---------------------------------------------------------------------------


def math_html(outcome: Outcome) -> str:
    """A derivation as Arithmatex-compatible display math (the title, if
    any, is part of the LaTeX): what blog posts get."""
    return html_display(outcome.latex)


def page_html(outcome: Outcome) -> str:
    """A derivation as pages show it: HTML structure with math inside
    (``render.html``; styled by :data:`STYLESHEET`), or display math for an
    outcome without it."""
    return outcome.html or math_html(outcome)


#: The stylesheet of the page layout (package data); the MkDocs plugin adds it
#: to every page with a derivation, Python-Markdown users link or inline it.
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
    outcome = derive_block(pending.body, pending.info, context.defaults, context.cache)
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


def _render(state: _State, pending: _Pending) -> str:
    context = state.context
    if context.defer and context.cache.still_deriving(block_key(pending.body, pending.info, context.defaults)):
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
    for block in blocks:
        html, _ = _block_html(context, block.pending, block.filename, block.offset, rendered)
        content = content.replace(block.placeholder, html, 1)
    return content


# -- processors ------------------------------------------------------------------------------


def _wrap_header(method: Callable[..., bool], state: _State, is_unrecognized: bool) -> Callable[..., bool]:
    """Wrap a SuperFences header method: remember the fence's match, and take
    over unrecognised ``derive`` headers (unquoted option values)."""

    def wrapper(self: Any, m: re.Match[str]) -> bool:
        state.fence_match = m
        if is_unrecognized and m.group("lang") == FENCE_NAME:
            self.lang = FENCE_NAME
            self.options, self.attrs, self.formatter = {}, {}, None
            for entry in reversed(self.extension.superfences):
                if entry["name"] == FENCE_NAME:
                    options: dict[str, Any] = {}
                    if entry["validator"](FENCE_NAME, {}, options, {}, self.md):
                        self.formatter = entry["formatter"]
                        self.options = options
                        return True
            return False
        return method(m)

    return wrapper


def _wrap_nested(method: Callable[..., None], state: _State) -> Callable[..., None]:
    """Remember where the fence starts before the formatter is called."""

    def wrapper(self: Any, ws: str, content: str, start: int, end: int) -> None:
        state.fence_start = start
        state.fence_ws = self.ws or ""
        method(ws, content, start, end)

    return wrapper


def _wrap_run(method: Callable[..., list[str]], state: _State) -> Callable[..., list[str]]:
    def wrapper(self: Any, lines: list[str]) -> list[str]:
        # meta-data style preprocessors drop lines from the top; count them
        state.removed_lines = max(0, state.lines_before - len(lines))
        return method(lines)

    return wrapper


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


class _HookPreprocessor(Preprocessor):
    """Make sure the SuperFences instance that will run knows the fence."""

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
        state.fence_match = None
        state.lines_before = len(lines)
        state.removed_lines = 0
        found = False
        for name in ("fenced_code_block", "fenced_raw_block"):
            if name not in self.md.preprocessors:
                continue
            # SuperFences' own preprocessor, whose header and nesting methods are
            # wrapped below (see the module docstring): typed as what it is, not
            # as Python-Markdown's Preprocessor, which has none of them
            processor: Any = self.md.preprocessors[name]
            extension = getattr(processor, "extension", None)
            if extension is None or not hasattr(extension, "superfences"):
                continue
            found = True
            if not any(entry["name"] == FENCE_NAME for entry in extension.superfences):
                extension.extend_super_fences(FENCE_NAME, _formatter, fence_validator, None)
            if not getattr(processor, "_mdderiv_patched", False):
                for attr, unrecognized in (
                    ("parse_options", False),
                    ("handle_attrs", False),
                    ("handle_unrecognized", True),
                ):
                    original = getattr(processor, attr)
                    setattr(processor, attr, types.MethodType(_wrap_header(original, state, unrecognized), processor))
                processor.process_nested_block = types.MethodType(
                    _wrap_nested(processor.process_nested_block, state), processor
                )
                processor.run = types.MethodType(_wrap_run(processor.run, state), processor)
                processor._mdderiv_patched = True
        if not found and not self._warned:
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
                "(under the MkDocs plugin, which puts it in the page head, never)",
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
        # the fence's state rides on the Markdown instance it serves (documented: md.mdderiv_failures)
        md._mdderiv_state = state  # type: ignore[attr-defined]
        md.mdderiv_failures = state.failures  # type: ignore[attr-defined]
        processor = md.preprocessors["fenced_code_block"] if "fenced_code_block" in md.preprocessors else None  # noqa: SIM401 - a Registry has no get()
        if processor is None or not hasattr(getattr(processor, "extension", None), "superfences"):
            md.registerExtensions(["pymdownx.superfences"], {})
        md.preprocessors.register(_HookPreprocessor(md, state, self.context is None), "mdderiv_fences", _HOOK_PRIORITY)
        strict = bool(self.getConfig("strict"))
        # the MkDocs plugin (which passes its context) puts the stylesheet in the page head
        style = self.context is None and bool(self.getConfig("stylesheet"))
        md.postprocessors.register(_BlocksPostprocessor(md, state, strict, style), "mdderiv_blocks", _POST_PRIORITY)


def makeExtension(**kwargs: Any) -> MdderivExtension:
    """Entry point for ``Markdown(extensions=["mdderiv.markdown.fence"])``."""
    return MdderivExtension(**kwargs)

