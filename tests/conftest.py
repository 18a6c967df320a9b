"""Fixtures shared by the integration tests (helpers live in ``support.py``)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import ROOT, fake_derive

import mdderiv
from mdderiv.markdown.blocks import STATS, BlockCache


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace the engine where a test is only about finding and splicing blocks."""
    monkeypatch.setattr(mdderiv, "derive", fake_derive)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # the in-memory cache is process-wide and does not know about fake engines
    BlockCache.clear_memory()
    STATS.reset()


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
NODE_MODULES = ROOT / "tests" / "browser" / "node_modules"
MATHJAX = NODE_MODULES / "mathjax" / "es5"
# MathJax 4 (the npm alias "mathjax4") and its font package, beside it as npm installs them
MATHJAX4 = NODE_MODULES / "mathjax4"
MATHJAX4_FONTS = NODE_MODULES / "@mathjax"


def _browser_missing() -> str | None:
    if not Path(CHROMIUM).exists() or not Path(CHROMEDRIVER).exists():
        return "chromium/chromedriver not installed (bash scripts/test.sh installs them)"
    if not (MATHJAX / "tex-mml-chtml.js").exists():
        return "no local MathJax (cd tests/browser && npm ci)"
    return None


def skip_without_mathjax4() -> None:
    """Skip a test of MathJax 4 in a checkout whose tests/browser predates it."""
    if not (MATHJAX4 / "tex-mml-chtml.js").exists() or not (MATHJAX4_FONTS / "mathjax-newcm-font").exists():
        pytest.skip("no local MathJax 4 (cd tests/browser && npm ci)")


def _chromium(window: str) -> Iterator[Any]:
    reason = _browser_missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="mdderiv-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                 "--disable-dev-shm-usage", f"--window-size={window}",
                 # nothing outside this machine (a theme's web fonts): fail at once instead of waiting
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Chromium (skipped, saying what is missing, without it or the local MathJax)."""
    yield from _chromium("1200,2400")


@pytest.fixture(scope="module")
def module_browser() -> Iterator[Any]:
    """One headless Chromium for a whole test module."""
    yield from _chromium("1280,900")
