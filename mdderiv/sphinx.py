"""The Sphinx extension: ``extensions = ["mdderiv.sphinx"]``.

* a ``derive`` directive, in reStructuredText (``.. derive::``) and in MyST
  Markdown (```` ```{derive} ````); its body is a block body, its options are
  the block options (``:layout: numerator``), and its argument, if any, is read
  like a fence's info line (``.. derive:: layout=numerator``);
* with ``myst_parser`` loaded, plain ```` ```derive ```` fences are directives
  too: the extension adds ``derive`` to MyST's ``myst_fence_as_directive``
  (``mdderiv_myst_fences = False`` leaves that setting alone);
* a derivation is Sphinx's own display math node (``nodes.math_block``), so
  whatever renders the site's math (MathJax, imgmath, the LaTeX builder)
  renders it;
* a block that fails is a warning at ``FILE:LINE:COLUMN`` (so ``sphinx-build
  -W`` fails) and an error box in the page, whose rest is built as usual.

Site-wide defaults are ``mdderiv_<option>`` config values, one per site-wide
block option of :mod:`mdderiv.options`.  The extension keeps nothing in the
environment but a list of failures per document (merged after a parallel
read), so ``sphinx-build -j N`` is safe.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.errors import ConfigError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from . import __version__
from .errors import DeriveError
from .markdown.blocks import BlockCache, Outcome, derive_block, info_line
from .options import OPTION_NAMES, SITE_WIDE, Options, site_defaults

__all__ = ["DeriveDirective", "setup"]

logger = logging.getLogger(__name__)

_ERROR_CLASS = "mdderiv-error"
_DERIVATION_CLASS = "mdderiv-derivation"


def _config_name(option: str) -> str:
    return f"mdderiv_{option}"


def _defaults(env: BuildEnvironment) -> Options:
    """The site-wide defaults (their values were checked when the config was read)."""
    return site_defaults({spec.name: env.config[_config_name(spec.name)] for spec in SITE_WIDE})


# one cache per process and cache directory (the in-memory part is process-wide anyway)
_CACHES: dict[tuple[bool, str], BlockCache] = {}


def _cache(env: BuildEnvironment) -> BlockCache:
    enabled = bool(env.config.mdderiv_cache)
    directory = str(env.config.mdderiv_cache_dir or "")
    if enabled and not directory:
        directory = str(Path(env.doctreedir) / "mdderiv-cache")
    key = (enabled, directory)
    cache = _CACHES.get(key)
    if cache is None:
        cache = _CACHES[key] = BlockCache(enabled=enabled, directory=directory or None)
    return cache


def _find_body(content: StringList, index: int, directive_line: int) -> tuple[str, int, int] | None:
    """File, 1-based line and indentation of the body line ``content[index]``,
    read from the file only when a block fails.

    The body is given without the indentation of its container.  docutils
    records each line's place in its file; MyST records places in the body
    only, so there the body is looked for in the file from the directive's
    own line on.
    """
    source, offset = content.info(index)
    if source is None:
        return None
    try:
        lines = Path(source).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    body = [line.rstrip() for line in content]

    def starts_at(first: int) -> bool:
        return first + len(body) <= len(lines) and all(
            lines[first + j].rstrip().endswith(text) for j, text in enumerate(body)
        )

    first = offset - index if offset is not None else -1
    if first < 0 or not starts_at(first):
        first = next((k for k in range(max(directive_line - 1, 0), len(lines)) if starts_at(k)), -1)
    if first < 0:
        return None
    raw, text = lines[first + index].rstrip(), body[index]
    return str(source), first + index + 1, len(raw) - len(text)


class DeriveDirective(SphinxDirective):
    """``.. derive::`` — one derive block; the body is the block body."""

    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec: ClassVar[dict[str, Callable[[str], Any]]] = {name: directives.unchanged for name in OPTION_NAMES}

    def run(self) -> list[nodes.Node]:
        body = "\n".join(self.content)
        argument = self.arguments[0] if self.arguments else ""
        outcome = derive_block(body, info_line(argument, dict(self.options)), _defaults(self.env), _cache(self.env))
        if outcome.ok:
            node = nodes.math_block(outcome.latex, outcome.latex, nowrap=False, number=None, label=None)
            node["docname"] = self.env.docname
            node["classes"].append(_DERIVATION_CLASS)
            self.set_source_info(node)
            return [node]
        return [self._failure(outcome, body)]

    def _where(self, outcome: Outcome) -> tuple[str, int, int]:
        """File, line and column of a failed block's error.

        An option error is reported at the directive's first line (its
        argument and options sit there and just below); a body error at its
        own line and column in the file, whatever the nesting (lists,
        admonitions, includes).
        """
        source, line = self.get_source_info()
        source = str(source or self.env.doc2path(self.env.docname))
        if outcome.on_info_line or not self.content:
            return source, line or self.lineno, 1
        index = min(max(outcome.line - 1, 0), len(self.content) - 1)
        found = _find_body(self.content, index, line or self.lineno)
        if found is None:
            return source, (line or self.lineno) + outcome.line, outcome.column
        source, line, indent = found
        return source, line, indent + outcome.column

    def _failure(self, outcome: Outcome, body: str) -> nodes.Node:
        source, line, column = self._where(outcome)
        message = outcome.error or "error"
        _failures(self.env).setdefault(self.env.docname, []).append((str(source), line, column, message))
        logger.warning(message, location=f"{source}:{line}:{column}", type="mdderiv", subtype="block")
        box = nodes.error(classes=[_ERROR_CLASS])
        box += nodes.paragraph(
            "", "", nodes.strong("", "mdderiv could not derive this block"), nodes.Text(f" — {line}:{column}: {message}")
        )
        source_block = nodes.literal_block(body, body, classes=["mdderiv-source"])
        source_block["language"] = "text"
        box += source_block
        self.set_source_info(box)
        return box


# -- the environment: failures per document, merged after a parallel read -----------------------


#: the failures of each document: (source, line, column, message)
Failures = dict[str, list[tuple[str, int, int, str]]]


def _failures(env: BuildEnvironment) -> Failures:
    """The failures kept on ``env``: an attribute of the environment, as Sphinx
    keeps an extension's data (pickled with it, merged after a parallel read)."""
    failures: Failures | None = getattr(env, "mdderiv_failures", None)
    if failures is None:
        failures = {}
        # (BuildEnvironment declares no attribute for an extension's data: this one is ours)
        env.mdderiv_failures = failures  # type: ignore[attr-defined]
    return failures


def _env_init(app: Sphinx, env: BuildEnvironment) -> None:
    _failures(env)


def _env_purge_doc(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    _failures(env).pop(docname, None)


def _env_merge_info(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    ours = _failures(env)
    theirs = _failures(other)
    for docname in docnames:
        if docname in theirs:
            ours[docname] = theirs[docname]


def _doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    # a parallel reader process ends without running exit handlers: keep its new entries now
    _cache(app.env).flush()


def _build_finished(app: Sphinx, exception: Exception | None) -> None:
    _cache(app.env).flush()
    failures = sum(len(items) for items in _failures(app.env).values())
    if failures:
        logger.info("mdderiv: %d block(s) failed", failures)


# -- config ---------------------------------------------------------------------------------


def _config_inited(app: Sphinx, config: Any) -> None:
    values = {spec.name: config[_config_name(spec.name)] for spec in SITE_WIDE}
    try:
        site_defaults(values)
    except DeriveError as err:
        raise ConfigError(f"mdderiv: {err.message} (in conf.py, as mdderiv_<option>)") from None
    # the stylesheet of the HTML builders (added here, before Sphinx compares the config
    # with the last build's, so that it does not count as a change)
    if str(_STATIC) not in config.html_static_path:
        config.html_static_path = [*config.html_static_path, str(_STATIC)]
    if config.mdderiv_myst_fences and "myst_fence_as_directive" in config:
        fences = set(config.myst_fence_as_directive or ())
        fences.add("derive")
        config.myst_fence_as_directive = fences


_STATIC = Path(__file__).resolve().parent / "static"


def setup(app: Sphinx) -> dict[str, Any]:
    for spec in SITE_WIDE:
        app.add_config_value(_config_name(spec.name), spec.default, "env")
    app.add_config_value("mdderiv_cache", True, "env")
    app.add_config_value("mdderiv_cache_dir", "", "env")
    app.add_config_value("mdderiv_myst_fences", True, "env")
    app.add_directive("derive", DeriveDirective)
    app.add_css_file("mdderiv-sphinx.css")
    app.connect("config-inited", _config_inited)
    app.connect("env-before-read-docs", lambda app, env, docnames: _env_init(app, env))
    app.connect("env-purge-doc", _env_purge_doc)
    app.connect("env-merge-info", _env_merge_info)
    app.connect("doctree-read", _doctree_read)
    app.connect("build-finished", _build_finished)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
