"""The MkDocs plugin: ``plugins: [mdderiv]`` is all a site needs.

* ``on_config`` adds the ``mdderiv`` Markdown extension and the ``derive``
  entry of ``pymdownx.superfences``' ``custom_fences`` config (loading
  SuperFences when missing) and decides whether pages need a math renderer;
* ``on_page_markdown`` tells the fence which page it is in and how many
  front-matter lines MkDocs stripped, so errors read ``docs/page.md:LINE:COL``;
* ``on_page_context`` shows the search plugin (MkDocs' or Material's) each
  block's own text instead of its derivation (``search_index: source``), or
  nothing, or the derivation's LaTeX (``derivation``), and puts the
  derivations back before the page is written;
* ``on_files`` adds the stylesheet (:data:`CSS_PATH`: the page layout's and the
  error box's), which ``on_config`` lists in ``extra_css``, so every page links
  one file instead of carrying a copy;
* ``on_post_page`` adds MathJax to pages with math, unless the site loads a
  renderer itself; when it does, ``on_config`` also adds ``pymdownx.arithmatex``
  (generic mode) if the site lacks it, so the author's own ``$…$`` and
  ``$$…$$`` render too;
* ``on_files`` scans the pages for ``derive`` fences and, when at least
  :data:`~.prefetch.MIN_BLOCKS` of them are not cached, starts deriving them
  in ``workers`` processes (see :mod:`.prefetch`); ``on_post_build`` stops
  the workers.  MkDocs converts every page first, then puts each into its
  template: a block still being derived when its page is converted is left as
  a placeholder and filled in when the page reaches ``on_page_context``, so the
  workers keep deriving while MkDocs does its template work — unless another
  plugin reads the pages' HTML before that (``on_page_content``, ``on_env``),
  in which case pages wait for their blocks as they are converted;
* blocks are cached by text + options + mdderiv version (in memory for the
  whole process, so ``mkdocs serve`` re-derives only what changed, and on disk);
* ``on_config`` also arranges for the interpreter's exit to skip the live heap
  (:func:`collect_then_freeze`): the engine's modules would otherwise add
  30–40 ms to the exit of every ``mkdocs build``.

Failed blocks are logged as warnings on ``mkdocs.plugins.mdderiv``, so
``mkdocs build --strict`` fails; without ``--strict`` the page shows an error box.
"""

from __future__ import annotations

import atexit
import functools
import gc
import logging
import os
import re
from functools import partial
from html import escape as html_escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url
from pymdownx.arithmatex import ArithmatexExtension

from ..memos import Remembered
from ..options import SITE_WIDE, OptionSpec, site_defaults
from .blocks import STATS, BlockCache
from .fence import (
    BlockFailure,
    DeferredBlock,
    FenceContext,
    MdderivExtension,
    resolve_deferred,
    spliced,
    stylesheet,
    superfences_config,
)
from .prefetch import Prefetch, PrefetchResult, SourceScanner, prefetch, resolve_workers

__all__ = ["CSS_PATH", "MATHJAX_CDN", "MdderivConfig", "MdderivPlugin", "front_matter_lines", "site_stylesheet"]

log = logging.getLogger("mkdocs.plugins.mdderiv")

MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"

# MathJax reads only `.arithmatex` elements, with \( \) and \[ \] delimiters —
# the output of mdderiv and of pymdownx.arithmatex in generic mode.
MATHJAX_CONFIG = r"""<script>
window.MathJax = {
  tex: {inlineMath: [["\\(", "\\)"]], displayMath: [["\\[", "\\]"]],
        processEscapes: true, processEnvironments: true},
  options: {ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex"}%s
};
</script>"""

# MathJax 4 fetches its fonts (a package of their own, @mathjax/mathjax-newcm-font)
# from jsDelivr unless told where they are.  A copy served with the site has them
# where npm puts them: the folder ``@mathjax`` beside the ``mathjax`` folder
# (MathJax 3 has its fonts inside its own folder and ignores this path).
MATHJAX_LOCAL_FONTS = """,
  loader: {paths: {fonts: "[mathjax]/../@mathjax"}}"""

# Material's instant navigation swaps pages without reloading scripts: typeset each
# new page, but not the first one — MathJax typesets that itself, and typesetting it
# again would also typeset the hidden MathML MathJax keeps for screen readers.
MATHJAX_RETYPESET = r"""<script>
if (window.document$ && window.document$.subscribe) {
  var mdderivFirstPage = true;
  window.document$.subscribe(function () {
    if (mdderivFirstPage) { mdderivFirstPage = false; return; }
    if (window.MathJax && MathJax.typesetPromise) {
      MathJax.typesetClear(); MathJax.texReset(); MathJax.typesetPromise();
    }
  });
}
</script>"""

# Wide display math scrolls instead of spilling over the sidebar; the error box is
# visible on themes without admonition styles.
STYLE = """/* mdderiv (MkDocs plugin) */
div.arithmatex { overflow-x: auto; overflow-y: hidden; }
.mdderiv-error { border-left: .3rem solid #d32f2f; background: #fdecea; padding: .4rem .8rem; margin: 1em 0; }
.mdderiv-error pre { background: transparent; }
"""

#: Where the plugin puts its stylesheet (``STYLE`` and the page layout's) in the
#: site, linked from every page as an ``extra_css`` entry: one file the browser
#: caches, not a copy in every page.  A file of the site's own at this path wins.
CSS_PATH = "assets/mdderiv/mdderiv.css"


_DIV = '<div class="'


def _occurrences(content: str, bodies: dict[str, list[str]]) -> list[tuple[int, str]]:
    """Where the derivations of ``bodies`` are in ``content`` (each as many times
    as it was put in, from the top), in the page's order.  A derivation's
    outermost element holds no other ``<div>`` (the page layout, or display
    math): each ``<div class="`` of the page is compared with the derivations
    still waiting (``startswith``: a comparison in C that stops at the first
    difference, no copy of the page's text, no regex stepping through its tags)."""
    waiting = {html: len(texts) for html, texts in bodies.items()}
    found: list[tuple[int, str]] = []
    at = content.find(_DIV)
    while at >= 0 and waiting:
        for html in waiting:
            if content.startswith(html, at):
                found.append((at, html))
                waiting[html] -= 1
                if not waiting[html]:
                    del waiting[html]
                at += len(html) - 1
                break
        at = content.find(_DIV, at + 1)
    return found


def collect_then_freeze() -> None:
    """Collect the garbage, then move every object still alive out of the
    collector's reach (``gc.freeze``).  Run at exit: the interpreter's shutdown
    collections walk every object the process holds, and the engine's modules
    (NumPy's among them) roughly double those of a MkDocs build — the walk then
    takes 30–40 ms longer, on every ``mkdocs build``.  Garbage is still
    finalized (by the collection here); live objects are freed by reference
    counting as usual."""
    gc.collect()
    gc.freeze()


@functools.cache  # (once per process)
def quick_exit() -> None:
    """Run :func:`collect_then_freeze` at exit (registered once per process)."""
    atexit.register(collect_then_freeze)


@functools.cache
def site_stylesheet() -> str:
    """The text of the plugin's stylesheet file (:data:`CSS_PATH`)."""
    return STYLE + "\n" + stylesheet()


def _insert(output: str, head: str, body_end: str) -> str:
    """``output`` with ``head`` before its ``</head>`` (at the start if it has
    none) and ``body_end`` before its last ``</body>`` (if it has one): the page
    copied once, not once per insertion."""
    at_head = max(output.find("</head>"), 0)
    at_body = output.rfind("</body>")
    edits = [(at_head, at_head, head)] + ([(at_body, at_body, body_end)] if at_body >= 0 else [])
    edits.sort(key=lambda edit: edit[0])  # (stable: at one place, the head's first)
    return spliced(output, edits)


_ABSOLUTE_URL = re.compile(r"^([a-z][a-z0-9+.-]*:|/)", re.IGNORECASE)
# a URL on another server (``https:``, or ``//host/…``), not a path on the site's own
_URL_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)

_YAML_FRONT_MATTER = re.compile(r"^-{3}[ \t]*\n(.*?\n)(?:\.{3}|-{3})[ \t]*\n", re.DOTALL)


def front_matter_lines(source: str, markdown: str | None = None) -> int:
    """How many lines MkDocs strips from the top of ``source`` as meta-data.

    With ``markdown`` (the text MkDocs kept) the answer is exact whatever the
    meta-data style; otherwise only YAML front matter is recognised.
    """
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    if markdown is not None and source.endswith(markdown) and markdown:
        return source[: len(source) - len(markdown)].count("\n")
    match = _YAML_FRONT_MATTER.match(source)
    if not match:
        return 0
    end = match.end()
    rest = source[end:]
    return source[:end].count("\n") + len(rest) - len(rest.lstrip("\n"))


_DISPLAY_NAMES: Remembered[tuple[str, Path], str] = Remembered("display names of pages", limit=20_000)


def _display_name(path: str, config_dir: Path) -> str:
    """``docs/page.md``: a page's path as error messages show it (relative to
    the directory of ``mkdocs.yml``), worked out once per page and process."""
    key = (path, config_dir)
    name = _DISPLAY_NAMES.get(key)
    if name is None:
        name = _DISPLAY_NAMES.remember(key, os.path.relpath(path, config_dir).replace(os.sep, "/"))
    return name


class _Workers(base.BaseConfigOption[int | str]):
    """``auto`` or a number of processes (0: derive during rendering only)."""

    def __init__(self, default: int | str = "auto") -> None:
        super().__init__()
        self.default = default

    def run_validation(self, value: object) -> int | str:
        if value == "auto":
            return "auto"
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        raise base.ValidationError(f"expected 'auto' or a number of processes (0 or more), not {value!r}")


def _config_option(spec: OptionSpec) -> base.BaseConfigOption[Any]:
    if spec.is_boolean:
        return c.Type(bool, default=spec.default)
    if spec.is_number:
        return c.Type((int, float), default=spec.default)
    return c.Choice(spec.choices, default=spec.default)


if TYPE_CHECKING:  # mypy sees a plain Config; the entries exist at run time only
    _BlockOptionsConfig = base.Config
else:  # one config entry per site-wide block option, read from mdderiv.options
    _BlockOptionsConfig = type(
        "_BlockOptionsConfig", (base.Config,), {spec.name: _config_option(spec) for spec in SITE_WIDE}
    )


class MdderivConfig(_BlockOptionsConfig):  # type: ignore[no-untyped-call]  # (MkDocs' Config.__init_subclass__ is unannotated)
    """``plugins: - mdderiv: {…}`` — site-wide defaults for every block option, and the plugin's own."""

    mathjax = c.Choice((True, False, "auto"), default="auto")
    mathjax_url = c.Type(str, default=MATHJAX_CDN)
    cache = c.Type(bool, default=True)
    cache_dir = c.Type(str, default=".mdderiv-cache")
    workers = _Workers()
    search_index = c.Choice(("source", "derivation", "none"), default="source")


def _content(file: Any) -> str:
    return str(file.content_string)


def _names(extensions: list[Any]) -> list[str]:
    return [ext if isinstance(ext, str) else type(ext).__module__ for ext in extensions]


class MdderivPlugin(BasePlugin[MdderivConfig]):  # type: ignore[no-untyped-call]  # (as above)
    """Expand ``derive`` fences in every page of a MkDocs site."""

    def __init__(self) -> None:
        self.context = FenceContext(report=self._report)
        self.add_mathjax = False
        self.failures: list[BlockFailure] = []
        self.derived = 0  # blocks derived in the last build (not taken from cache)
        self.cached = 0  # blocks taken from the cache in the last build
        self.deferred = 0  # blocks of the last build put in at on_page_context (still deriving before)
        self._stats_at_start = (0, 0)
        self.prefetch = PrefetchResult()  # what the pre-pass did in the last build
        self._prefetch: Prefetch | None = None
        self._rendered: dict[str, list[tuple[str, str]]] = {}  # page → (derivation, block text)
        self._deferred: dict[str, list[DeferredBlock]] = {}  # page → blocks left as placeholders
        # while the search plugins run: the page, its content, what they see, stand-ins
        self._hidden: tuple[Page, str, str, list[tuple[str, str]]] | None = None
        self._css_to_write = False  # MkDocs before 1.6 (no generated files): written after the build

    def _report(self, failure: BlockFailure) -> None:
        self.failures.append(failure)
        log.warning("%s", failure)

    # -- events --------------------------------------------------------------------------

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        cfg = self.config
        quick_exit()
        self.context.defaults = site_defaults(cfg)
        # only a site with a search plugin (MkDocs' `search`, Material's
        # `material/search`, …) needs the derivations kept out of its index
        has_search = any(name.split("/")[-1] == "search" for name in config.plugins)
        self.context.keep_rendered = has_search and cfg.search_index != "derivation"
        config_dir = Path(config.config_file_path or ".").resolve().parent
        self.config_dir = config_dir
        cache_dir = (config_dir / cfg.cache_dir) if cfg.cache and cfg.cache_dir else None
        self.context.cache = BlockCache(enabled=cfg.cache, directory=cache_dir)

        # (MkDocs types the list as names; Python-Markdown takes extension instances too)
        extensions: list[Any] = config.markdown_extensions
        names = _names(extensions)
        # A plain "mdderiv" entry would load a second, context-less copy of the fence.
        for index in reversed(range(len(extensions))):
            if names[index] in ("mdderiv", "mdderiv.markdown.fence"):
                del extensions[index]
        config.mdx_configs.pop("mdderiv", None)
        if "pymdownx.superfences" not in names:
            extensions.append("pymdownx.superfences")
        # the derive fence is an entry of SuperFences' own custom_fences config
        superfences = config.mdx_configs.get("pymdownx.superfences") or {}
        config.mdx_configs["pymdownx.superfences"] = superfences_config(superfences)
        extensions.append(MdderivExtension(context=self.context))

        if cfg.mathjax == "auto":
            self.add_mathjax = not self._site_has_math(config)
        else:
            self.add_mathjax = bool(cfg.mathjax)
        self.context.optional_arithmatex = self.add_mathjax and "pymdownx.arithmatex" not in names
        if self.context.optional_arithmatex:
            # the author's own $…$ and $$…$$ around the derivations, in the
            # markup the MathJax set-up added here reads (on pages with math)
            # (an instance, used by every page as it is: given by name, Python-Markdown
            # would look the name up among the installed extensions and build it anew
            # for every page; Arithmatex keeps nothing of a page)
            extensions.append(ArithmatexExtension(generic=True))
        if CSS_PATH not in config.extra_css:
            config.extra_css.append(CSS_PATH)
        return config

    @staticmethod
    def _site_has_math(config: MkDocsConfig) -> bool:
        """Whether the site loads MathJax or KaTeX itself."""
        for script in list(config.extra_javascript) + list(config.extra_css):
            text = str(getattr(script, "path", script)).lower()
            if "mathjax" in text or "katex" in text:
                return True
        arithmatex = config.mdx_configs.get("pymdownx.arithmatex")
        return "pymdownx.arithmatex" in _names(config.markdown_extensions) and bool((arithmatex or {}).get("generic"))

    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        self.failures = []
        self.deferred = 0
        self._rendered.clear()
        self._deferred.clear()
        self.context.rendered = []
        self.context.deferred = []
        self.context.defer = False
        self._stats_at_start = (STATS.derived, STATS.cached)

    def on_files(self, files: Files, /, *, config: MkDocsConfig) -> Files | None:
        self._add_stylesheet(files, config)
        self._end_prefetch()
        self.prefetch = PrefetchResult()
        workers = resolve_workers(self.config.workers)
        if workers < 1:
            return files

        scanner = SourceScanner()
        defaults = self.context.defaults
        found: list[Any] = []
        for file in files.documentation_pages():
            try:
                found += scanner.scan(file.abs_src_path, partial(_content, file), defaults)
            except (OSError, UnicodeDecodeError, AssertionError):
                continue  # MkDocs reports it when it reads the page
        self._prefetch = prefetch(found, self.context.cache, workers)
        self.prefetch = self._prefetch.result
        self.context.defer = self.prefetch.workers > 0 and not self._others_read_pages(config)
        return files

    def _add_stylesheet(self, files: Files, config: MkDocsConfig) -> None:
        """The stylesheet file among the site's files (unless the site has its own)."""
        self._css_to_write = False
        if files.get_file_from_path(CSS_PATH) is not None:
            return
        generated = getattr(File, "generated", None)  # MkDocs 1.6
        if generated is None:
            self._css_to_write = True
            return
        files.append(generated(config, CSS_PATH, content=site_stylesheet()))

    def _others_read_pages(self, config: MkDocsConfig) -> bool:
        """Whether another plugin (or hook) sees the pages' HTML before
        ``on_page_context``: it must never see a placeholder."""
        for event in ("page_content", "env"):
            for method in config.plugins.events.get(event, []):
                if getattr(method, "__self__", None) is not self:
                    return True
        return False

    def on_page_markdown(self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files) -> str | None:
        path = page.file.abs_src_path
        context = self.context
        context.line_offset = 0
        if path and os.path.isfile(path):
            context.filename = _display_name(path, self.config_dir)

            def offset() -> int:  # read again only if a block of this page fails
                try:
                    with open(path, encoding="utf-8-sig", errors="replace") as handle:
                        return front_matter_lines(handle.read(), markdown)
                except OSError:
                    return 0

            context.line_offset_source = offset
        else:  # generated pages have no file on disk
            context.filename = page.file.src_uri
            context.line_offset_source = None
        return markdown

    def on_page_content(self, html: str, /, *, page: Page, config: MkDocsConfig, files: Files) -> str | None:
        if self.context.rendered:
            self._rendered[page.file.src_uri] = self.context.rendered
            self.context.rendered = []
        if self.context.deferred:
            self._deferred[page.file.src_uri] = self.context.deferred
            self.context.deferred = []
        return html

    def _resolve(self, page: Page, content: str) -> str:
        """``content`` with the page's deferred blocks in place."""
        blocks = self._deferred.pop(page.file.src_uri, None)
        if not blocks:
            return content
        self.deferred += len(blocks)
        rendered = self._rendered.setdefault(page.file.src_uri, [])
        return resolve_deferred(self.context, content, blocks, rendered)

    @event_priority(100)  # before the search plugins (priority 0)
    def _hide_from_search(self, context: Any, /, *, page: Page, config: MkDocsConfig, nav: Any) -> Any:
        """Search indexes ``page.content``: a derivation's LaTeX there makes the
        index several times larger and its hits unreadable, so the search
        plugins see the block's own text (or nothing) in its place.

        First, the blocks left as placeholders when the page was converted are
        put in: from here on, every plugin and the template see the page whole."""
        if page.content is not None and page.file.src_uri in self._deferred:
            page.content = self._resolve(page, page.content)
        rendered = self._rendered.pop(page.file.src_uri, None)
        content = page.content
        if not rendered or content is None:
            return context
        bodies: dict[str, list[str]] = {}  # derivation → texts of the blocks it came from
        for html, body in rendered:
            bodies.setdefault(html, []).append(body)
        stand_ins: list[tuple[str, str]] = []
        source = self.config.search_index == "source"
        edits: list[tuple[int, int, str]] = []
        # in the page's order, whatever the order the derivations were put in; an
        # equal piece of the author's own (display math) past the blocks' count stays
        for at, html in _occurrences(content, bodies):
            text = html_escape(bodies[html].pop(0)) if source else ""
            replacement = f'<p data-mdderiv-search="{len(stand_ins)}">{text}</p>'
            stand_ins.append((replacement, html))
            edits.append((at, at + len(html), replacement))
        lean = spliced(content, edits)
        self._hidden = (page, content, lean, stand_ins)
        page.content = lean
        return context

    @event_priority(-100)  # after them: the page is written with its derivations
    def _show_after_search(self, context: Any, /, *, page: Page, config: MkDocsConfig, nav: Any) -> Any:
        hidden, self._hidden = self._hidden, None
        if hidden is None or hidden[0] is not page:
            return context
        _, full, lean, stand_ins = hidden
        if page.content is lean:
            page.content = full
        elif page.content is not None:  # another plugin changed the page meanwhile: keep its change
            content = page.content
            for stand_in, html in stand_ins:
                content = content.replace(stand_in, html, 1)
            page.content = content
        return context

    on_page_context = CombinedEvent(_hide_from_search, _show_after_search)

    def on_post_page(self, output: str, /, *, page: Page, config: MkDocsConfig) -> str | None:
        if page.file.src_uri in self._deferred:  # not resolved in on_page_context (no content then)
            output = self._resolve(page, output)
            self._rendered.pop(page.file.src_uri, None)
        # (the styles are in the stylesheet file every page links)
        if not self.add_mathjax or 'class="arithmatex"' not in output or "MathJax-script" in output:
            return output
        url = self.config.mathjax_url
        if not _ABSOLUTE_URL.match(url):
            # a path inside the built site: relative to this page
            url = get_relative_url(url, page.url or ".")
        fonts = "" if _URL_SCHEME.match(url) else MATHJAX_LOCAL_FONTS
        scripts = (
            MATHJAX_CONFIG % fonts
            + f'\n<script id="MathJax-script" async src="{url}"></script>\n'
        )
        return _insert(output, scripts, MATHJAX_RETYPESET + "\n")

    def _end_prefetch(self) -> None:
        handle, self._prefetch = self._prefetch, None
        if handle is None:
            return
        handle.finish()
        self.context.cache.prefetched.clear()  # candidates that were not blocks after all
        result = handle.result
        if result.workers:
            log.debug(
                "mdderiv: %d block(s) derived ahead in %d process(es)", result.derived, result.workers
            )
        if result.failed:
            log.info(
                "mdderiv: worker processes failed (%s); their blocks were derived one by one",
                result.failed,
            )

    def on_build_error(self, *, error: Exception) -> None:
        self._end_prefetch()

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        self._end_prefetch()
        if self._css_to_write:
            target = Path(config.site_dir) / CSS_PATH
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(site_stylesheet(), encoding="utf-8")
        self.context.cache.flush()
        self.derived = STATS.derived - self._stats_at_start[0]
        self.cached = STATS.cached - self._stats_at_start[1]
        log.info(
            "mdderiv: %d block(s) derived, %d from cache, %d failed",
            self.derived,
            self.cached,
            len(self.failures),
        )
