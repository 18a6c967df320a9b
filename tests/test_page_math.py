"""A plugin-only MkDocs site (no math set up by the site) served from a local MathJax
copy, 3 or 4, made as docs/integrations.md says: the derivations and the author's own
``$…$`` and ``$$…$$`` render in headless Chromium, with no CDN in the page, and
MathJax's web fonts load from the copy."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from support import GOOD, run, wait_for_mathjax
from conftest import MATHJAX, MATHJAX4, MATHJAX4_FONTS, skip_without_mathjax4  # (the headless Chromium fixture `browser` is in conftest.py)
from test_browser import ARTIFACTS

pytestmark = pytest.mark.slow


def _copy_mathjax(version: int, js: Path) -> None:
    """What docs/integrations.md tells an author to do after ``npm install mathjax@3``
    (copy node_modules/mathjax/es5) or ``npm install mathjax@4`` (copy node_modules/mathjax,
    and the CHTML part of the font package beside it as npm lays it out)."""
    if version == 3:
        shutil.copytree(MATHJAX, js / "mathjax")
    else:
        shutil.copytree(MATHJAX4, js / "mathjax")
        font = "mathjax-newcm-font"
        shutil.copytree(MATHJAX4_FONTS / font / "chtml", js / "@mathjax" / font / "chtml")


@pytest.mark.parametrize("version", [3, 4])
def test_plugin_only_site_renders_page_math_from_a_local_mathjax(tmp_path: Path, browser, version: int) -> None:  # type: ignore[no-untyped-def]  # noqa: F811 - the imported fixture
    if version == 4:
        skip_without_mathjax4()
    _copy_mathjax(version, tmp_path / "docs" / "js")
    page = (
        "# Math\n\nThe author's own $\\mathbf{x}^T A \\mathbf{x}$, and a display:\n\n"
        "$$\n\\frac{\\partial f}{\\partial X} = A^T\n$$\n\n"
        f"```derive\n{GOOD}\n```\n"
    )
    (tmp_path / "docs" / "sub").mkdir()
    (tmp_path / "docs" / "sub" / "page.md").write_text(page, encoding="utf-8")
    (tmp_path / "docs" / "index.md").write_text("# Home\n", encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: Offline\nplugins:\n  - mdderiv:\n      mathjax_url: js/mathjax/tex-mml-chtml.js\n", encoding="utf-8"
    )
    result = run("-m", "mkdocs", "build", "--strict", cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    built = tmp_path / "site" / "sub" / "page" / "index.html"
    html = built.read_text(encoding="utf-8")
    assert '<script id="MathJax-script" async src="../../js/mathjax/tex-mml-chtml.js">' in html
    assert "cdn." not in html and "unpkg" not in html

    with _served(tmp_path / "site") as base:
        # MathJax 3 also works with the page opened from disk; MathJax 4 shows the math there
        # too, but its speech worker cannot start from a file: URL and its startup promise
        # never settles (docs/integrations.md), so it is read as a site is, over HTTP
        browser.get(built.as_uri() if version == 3 else f"{base}/sub/page/")
        wait_for_mathjax(browser)
        _check_page(browser, version)


@contextmanager
def _served(site: Path) -> Iterator[str]:
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _check_page(browser: Any, version: int) -> None:
    assert browser.execute_script("return MathJax.version").startswith(f"{version}.")
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / f"mkdocs-page-math-offline-mathjax{version}.png"))
    # MathJax's web fonts came from the copy (the browser has no network): none failed
    fonts = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "document.fonts.ready.then(() => done([...document.fonts].filter(f => /^MJX/.test(f.family))"
        "  .map(f => f.family + ' ' + f.status)));")
    assert any(f.endswith(" loaded") for f in fonts) and not any(f.endswith(" error") for f in fonts), fonts
    counts = browser.execute_script("""
        const math = [...document.querySelectorAll('.arithmatex')];
        const derivations = [...document.querySelectorAll('.mdderiv-derivation')];
        const outside = (e) => !e.closest('.mdderiv-derivation');
        return {
          inline: [...document.querySelectorAll('span.arithmatex mjx-container')].filter(outside).length,
          display: [...document.querySelectorAll('div.arithmatex mjx-container')].filter(outside).length,
          derivations: derivations.filter(d => d.querySelector('mjx-container')).length,
          errors: document.querySelectorAll('mjx-merror').length,
          leftover: math.filter(b => !b.querySelector('mjx-container')).length,
        };""")
    # the author's inline and display math, and the derivation (every piece of it typeset)
    assert counts == {"inline": 1, "display": 1, "derivations": 1, "errors": 0, "leftover": 0}
