"""The plugin's cache key: block text, options, mdderiv's version and the
engine's own source, so a changed engine never serves an old derivation."""

from __future__ import annotations

import pytest

from mdderiv.markdown import blocks
from mdderiv.options import Options

BODY = "given: a: m, X: m x n, b: n\nf = a^T X b\nwrt: X"


def test_the_key_depends_on_text_and_options() -> None:
    cache = blocks.BlockCache.key
    assert cache(BODY, Options()) == cache(BODY, Options())
    assert cache(BODY, Options()) != cache(BODY + " ", Options())
    assert cache(BODY, Options()) != cache(BODY, Options(layout="numerator"))


def test_the_key_changes_with_the_engine_source(monkeypatch: pytest.MonkeyPatch) -> None:
    before = blocks.BlockCache.key(BODY, Options(lang="zh"))
    blocks._KEY_PREFIXES.clear()
    monkeypatch.setattr(blocks, "engine_fingerprint", lambda: "another engine")
    after = blocks.BlockCache.key(BODY, Options(lang="zh"))
    blocks._KEY_PREFIXES.clear()
    assert before != after


def test_the_fingerprint_covers_the_engine_not_the_integrations() -> None:
    fingerprint = blocks.engine_fingerprint()
    assert len(fingerprint) == 16 and int(fingerprint, 16) >= 0


def test_a_pages_outcome_has_the_same_html_no_latex_and_its_own_key() -> None:
    """Pages derive with ``html_only`` (no LaTeX built): the HTML is the same as
    with both outputs, and a blog post sharing the cache still gets its LaTeX."""
    cache = blocks.BlockCache(enabled=True)
    page = blocks.derive_block(BODY, "", Options(), cache, html_only=True)
    post = blocks.derive_block(BODY, "", Options(), cache)
    assert page.ok and post.ok
    assert page.latex == "" and post.latex.startswith("\\")
    assert page.html == post.html and 'class="mdderiv-derivation"' in page.html
    assert blocks.BlockCache.key(BODY, Options(), html_only=True) != blocks.BlockCache.key(BODY, Options())
    blocks.BlockCache.clear_memory()
