"""A built site in headless Chromium: MathJax (local copy) renders every derivation.

Needs chromium + chromedriver and ``tests/browser/node_modules/mathjax`` — all of which
``scripts/test.sh`` installs; the test is skipped, saying what is missing, on a machine
without them (the ``browser`` fixture is in ``conftest.py``).
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from support import GOOD, GOOD2, ROOT, run, wait_for_mathjax

pytestmark = pytest.mark.slow

MATHJAX = ROOT / "tests" / "browser" / "node_modules" / "mathjax" / "es5"
ARTIFACTS = ROOT / "test-artifacts"


def _fence(body: str, info: str = "", indent: str = "") -> str:
    return textwrap.indent(f"```derive{info}\n{body}\n```", indent, lambda line: True)


def test_every_derivation_renders_without_mathjax_errors(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]

    # the MathJax component and the fonts it loads relative to itself
    target = tmp_path / "docs" / "js" / "mathjax"
    target.mkdir(parents=True)
    shutil.copy(MATHJAX / "tex-mml-chtml.js", target)
    shutil.copytree(MATHJAX / "output" / "chtml" / "fonts", target / "output" / "chtml" / "fonts")
    blocks = [(path.read_text(encoding="utf-8"), "") for path in sorted((ROOT / "examples").glob("*.derive"))]
    blocks += [(GOOD, " layout=numerator"), (GOOD2, " lang=zh"), (GOOD2, " hessian=true")]
    page = "# Derivations\n\n" + "\n\nSome text.\n\n".join(_fence(body.strip(), info) for body, info in blocks)
    page += '\n\n!!! note "In an admonition"\n\n' + _fence(GOOD, indent="    ") + "\n"
    (tmp_path / "docs" / "index.md").write_text(page, encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: Browser test\nmarkdown_extensions: [admonition]\n"
        "plugins:\n  - mdderiv:\n      mathjax_url: js/mathjax/tex-mml-chtml.js\n",
        encoding="utf-8",
    )
    result = run("-m", "mkdocs", "build", "--strict", cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    expected = len(blocks) + 1

    browser.get((tmp_path / "site" / "index.html").as_uri())
    wait_for_mathjax(browser)

    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "browser-derivations.png"))
    counts = browser.execute_script("""
        const blocks = [...document.querySelectorAll('div.mdderiv-derivation')];
        return {
          blocks: blocks.length,
          // every math piece of every derivation typeset
          rendered: blocks.filter(b => [...b.querySelectorAll('.arithmatex')].every(
                      m => m.querySelector('mjx-container'))).length,
          errors: document.querySelectorAll('mjx-merror').length,
          // noundefined shows an unknown macro as red text instead of an error
          undefined: [...document.querySelectorAll('mjx-mtext')]
                       .filter(e => (e.getAttribute('style') || '').includes('red')).length,
          leftover: blocks.filter(b => b.textContent.includes('\\\\(')).length,
        };""")
    assert counts == {"blocks": expected, "rendered": expected, "errors": 0, "undefined": 0, "leftover": 0}
