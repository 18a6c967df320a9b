"""A plugin-only MkDocs site (no math set up by the site) served from a local MathJax
copy: the derivations and the author's own ``$…$`` and ``$$…$$`` render in headless
Chromium, with no CDN in the page."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import GOOD, run, wait_for_mathjax
from conftest import MATHJAX  # (the headless Chromium fixture `browser` is in conftest.py)
from test_browser import ARTIFACTS

pytestmark = pytest.mark.slow


def test_plugin_only_site_renders_page_math_from_a_local_mathjax(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: F811 - the imported fixture

    # what docs/integrations.md tells an author to do: `npm install mathjax@3`, then copy
    # node_modules/mathjax/es5 into the docs folder
    shutil.copytree(MATHJAX, tmp_path / "docs" / "js" / "mathjax")
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

    browser.get(built.as_uri())
    wait_for_mathjax(browser)
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "mkdocs-page-math-offline.png"))
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
