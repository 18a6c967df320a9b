"""A built site in headless Chromium: MathJax (local copy) renders every derivation.

Needs chromium + chromedriver and ``tests/browser/node_modules/mathjax`` — all of which
``.ci/run`` installs; the test is skipped, saying what is missing, on a machine without them.
"""

from __future__ import annotations

import shutil
import tempfile
import textwrap
from pathlib import Path

import pytest
from support import GOOD, GOOD2, ROOT, run

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
MATHJAX = ROOT / "tests" / "browser" / "node_modules" / "mathjax" / "es5"
ARTIFACTS = ROOT / "test-artifacts"


def _missing() -> str | None:
    if not Path(CHROMIUM).exists() or not Path(CHROMEDRIVER).exists():
        return "chromium/chromedriver not installed (bash .ci/run installs them)"
    if not (MATHJAX / "tex-mml-chtml.js").exists():
        return "no local MathJax (cd tests/browser && npm install)"
    return None


def _fence(body: str, info: str = "", indent: str = "") -> str:
    return textwrap.indent(f"```derive{info}\n{body}\n```", indent, lambda line: True)


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="mdderiv-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage", "--window-size=1200,2400", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_every_derivation_renders_without_mathjax_errors(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.support.ui import WebDriverWait

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
    WebDriverWait(browser, 60).until(
        lambda d: d.execute_script("return !!(window.MathJax && MathJax.startup && MathJax.startup.promise)"))
    status = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "MathJax.startup.promise.then(() => done('ok')).catch(e => done('error: ' + e));")
    assert status == "ok"

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
