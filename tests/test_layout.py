"""Derivations fit their column (issue #12): built sites opened in headless Chromium.

Three sites: the documentation site (Material, MathJax CHTML), and a site of long
derivations in English and Chinese — the worked examples and the seed's 例5 in
one line, with and without introduced names — in the MkDocs default theme
(MathJax CHTML) and in Material with MathJax's SVG output, light and dark.
Every page is opened at 1280, 768 and 390 px; after MathJax has typeset it,
each visible ``.mdderiv-derivation`` must

* be no wider than its container (nor reach past the window), with nothing
  inside it wider than it (``scrollWidth``) and nothing scrolling inside it;
* show its math at the theme's size: no SVG drawn narrower than its own width;
* have every math piece typeset, and MathJax must report no error (nor fail to
  load a font of its own).

MathJax 4 typesets two more sites of the longest derivations (both languages; MkDocs'
default theme with CHTML, Material with SVG), which get the same checks; and in
Material, under MathJax 3 and 4, instant navigation to the next page has it typeset
(once).

On failure, screenshots of the pages that failed are in ``test-artifacts/layout/``.
MathJax 3 and 4 are the local copies of ``tests/browser`` (no CDN), served with the
sites by a small HTTP server.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import MATHJAX, MATHJAX4, MATHJAX4_FONTS, skip_without_mathjax4
from support import ROOT, run, wait_for_mathjax

pytestmark = pytest.mark.slow

WIDTHS = (1280, 768, 390)
ARTIFACTS = ROOT / "test-artifacts" / "layout"
BLOCKS = ROOT / "tests" / "snapshots" / "blocks"
CDN_MATHJAX = re.compile(r'src="https?://[^"]*mathjax[^"]*/tex-[a-z-]*\.js"')

MEASURE = r"""
const problems = [];
const page = document.documentElement.clientWidth;
const sources = new Map();  // a typeset piece -> its LaTeX, for the messages
for (const item of MathJax.startup.document.math) sources.set(item.typesetRoot, item.math.slice(0, 150));
const derivations = [...document.querySelectorAll('.mdderiv-derivation')];
let shown = 0;
for (const [i, d] of derivations.entries()) {
  const box = d.getBoundingClientRect();
  if (box.width === 0 || d.offsetParent === null) continue;  // in a closed tab or details
  shown += 1;
  d.querySelectorAll('details.mdderiv-copy').forEach(x => { x.open = true; });
  const parent = d.parentElement.getBoundingClientRect();
  const say = (what) => {
    if (!problems.length) d.scrollIntoView();  // for the screenshot
    problems.push(`derivation ${i + 1}: ${what}`);
  };
  if (d.scrollWidth > d.clientWidth + 1) say(`content ${d.scrollWidth}px wide in a ${d.clientWidth}px box`);
  if (box.right > parent.right + 1 || box.left < parent.left - 1) say(`box ${box.width}px wider than its container ${parent.width}px`);
  if (box.right > page + 1) say(`reaches ${box.right}px in a ${page}px window`);
  for (const e of d.querySelectorAll('*')) {
    if (e.tagName.startsWith('MJX-') || e.closest('mjx-container')) continue;  // MathJax's own boxes
    const style = getComputedStyle(e);
    if (['auto', 'scroll'].includes(style.overflowX) && e.scrollWidth > e.clientWidth + 1) {
      say(`${e.tagName.toLowerCase()}.${e.className} scrolls inside it`);
    }
  }
  // the pieces that stick out: a math piece (with its LaTeX) or an element of ours
  for (const e of d.querySelectorAll('mjx-container, .mdderiv-why, .mdderiv-heading, .mdderiv-boxed, pre')) {
    const r = e.getBoundingClientRect();
    if (r.width > 0 && r.right > box.right + 1) {
      const tex = sources.get(e) || '';
      say(`${e.className} ${Math.round(r.width)}px wide reaches ${Math.round(r.right - box.right)}px past it ${tex}`);
    }
  }
  for (const svg of d.querySelectorAll('mjx-container > svg')) {
    const natural = svg.width.baseVal.value;
    const drawn = svg.getBoundingClientRect().width;
    if (natural > 0 && drawn < natural - 0.5) say(`an SVG drawn ${drawn}px wide instead of ${natural}px`);
  }
  // one row per step: each step's relation below the one before (a continued
  // step has no left side; a detail step hidden in the brief view is skipped)
  let above = -Infinity;
  for (const rel of d.querySelectorAll('.mdderiv-step > .mdderiv-rel')) {
    const top = rel.getBoundingClientRect().top;
    if (rel.getClientRects().length === 0) continue;
    if (top <= above) say(`a step's relation is not below the one before (${top}px, ${above}px)`);
    above = top;
  }
  for (const m of d.querySelectorAll('.arithmatex')) {
    if (!m.querySelector('mjx-container')) say(`math not typeset: ${m.textContent.slice(0, 60)}`);
  }
  d.querySelectorAll('details.mdderiv-copy').forEach(x => { x.open = false; });
}
const errors = document.querySelectorAll('mjx-merror, [data-mml-node="merror"]').length;
const red = [...document.querySelectorAll('mjx-mtext, [data-mml-node="mtext"]')]
  .filter(e => /red/.test(e.getAttribute('style') || '') || e.getAttribute('fill') === 'red').length;
if (errors || red) problems.push(`MathJax errors: ${errors}, undefined macros: ${red}`);
const fonts = [...document.fonts].filter(f => /^MJX/.test(f.family) && f.status === 'error').map(f => f.family);
if (fonts.length) problems.push(`MathJax fonts not loaded: ${fonts.join(' ')}`);
return {derivations: derivations.length, shown, problems};
"""


class _Handler(http.server.SimpleHTTPRequestHandler):
    """The sites under ``/``, the local MathJax 3 under ``/mathjax/``, MathJax 4
    under ``/mathjax4/`` with its fonts beside it in ``/@mathjax/`` (where the
    plugin tells a site-local MathJax 4 to look)."""

    FOLDERS = {"/mathjax/": MATHJAX, "/mathjax4/": MATHJAX4, "/@mathjax/": MATHJAX4_FONTS}

    def translate_path(self, path: str) -> str:
        for prefix, folder in self.FOLDERS.items():
            if path.startswith(prefix):
                return str(folder / path[len(prefix):].split("?")[0])
        return super().translate_path(path)

    def log_message(self, format: str, *args: Any) -> None:
        pass


MATERIAL = (
    "theme:\n  name: material\n  features: [navigation.instant]\n  palette:\n"
    "    - scheme: default\n      toggle: {icon: material/weather-night, name: Dark}\n"
    "    - scheme: slate\n      toggle: {icon: material/weather-sunny, name: Light}"
)
# The sites MathJax 4 typesets: the longest derivations of each language only (the
# whole set under MathJax 3 covers the rest), to keep the test short.
MATHJAX4_SITES = ("mj4-mkdocs", "mj4-material")
LONGEST = ("10.derive", "13.derive", "18-*.derive")


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The built sites under one directory, served over HTTP: (base URL, directory)."""
    root = tmp_path_factory.mktemp("layout-sites")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
    # (the sites' URL, port and all: Material's instant navigation only takes links to it)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    _build_docs(root)
    _build_long(root, base, "long-mkdocs", "theme: mkdocs", "/mathjax/tex-mml-chtml.js")
    _build_long(root, base, "long-material", MATERIAL, "/mathjax/tex-mml-svg.js")
    # (a site-local path: the plugin tells MathJax 4 its fonts are in /@mathjax/)
    _build_long(root, base, "mj4-mkdocs", "theme: mkdocs", "/mathjax4/tex-mml-chtml.js", LONGEST)
    _build_long(root, base, "mj4-material", MATERIAL, "/mathjax4/tex-mml-svg.js", LONGEST)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, root
    finally:
        server.shutdown()
        server.server_close()


def _build(config: Path, site: Path, cache: Path) -> None:
    result = run("-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site), cwd=config.parent,
                 env={"MDDERIV_CACHE_DIR": str(cache), "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr.decode() + result.stdout.decode()


def _build_docs(root: Path) -> None:
    """The documentation site as it is, with the MathJax it loads from a CDN
    replaced by the local copy."""
    site = root / "docs-site"
    _build(ROOT / "mkdocs.yml", site, root / "cache")
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        local = CDN_MATHJAX.sub('src="/mathjax/tex-mml-chtml.js"', text)
        if local != text:
            page.write_text(local, encoding="utf-8")


def _fence(path: Path) -> str:
    return "```derive\n" + path.read_text(encoding="utf-8").strip() + "\n```"


def _build_long(
    root: Path, base: str, name: str, theme: str, mathjax: str, only: tuple[str, ...] = ("*",)
) -> None:
    """The long derivations: the worked examples and 例5 in one line, English and
    Chinese (the blocks matching one of ``only``)."""
    source = root / f"{name}-src"
    docs = source / "docs"
    docs.mkdir(parents=True)
    for lang, title in (("en", "Long derivations"), ("zh", "长推导")):
        blocks = sorted({b for pattern in only for b in BLOCKS.glob(f"{lang}-{pattern}")})
        text = f"# {title}\n\n" + "\n\nText between the derivations.\n\n".join(_fence(b) for b in blocks) + "\n"
        (docs / ("index.md" if lang == "en" else "zh.md")).write_text(text, encoding="utf-8")
    if "material" not in theme and only == ("*",):  # (the slowest site to typeset: the pages in both languages only)
        examples = "\n\n".join(_fence(path) for path in sorted((ROOT / "examples").glob("*.derive")))
        (docs / "examples.md").write_text("# Examples\n\n" + examples + "\n", encoding="utf-8")
    config = source / "mkdocs.yml"
    config.write_text(
        f"site_name: Layout\nsite_url: {base}/{name}/\n{theme}\n"
        f"plugins:\n  - mdderiv:\n      mathjax_url: {mathjax}\n", encoding="utf-8"
    )
    _build(config, root / name, root / "cache")


def _pages(root: Path, site: str) -> list[str]:
    pages = []
    for path in sorted((root / site).rglob("*.html")):
        if '<div class="mdderiv-derivation"' in path.read_text(encoding="utf-8"):
            pages.append(path.relative_to(root).as_posix())
    return pages


def _check_page(browser: Any, url: str, label: str, schemes: tuple[str, ...] = ("",)) -> list[str]:
    """The problems of one page at every width, in each of Material's colour
    ``schemes`` (screenshots of the failing widths)."""
    browser.set_window_size(WIDTHS[0], 900)
    browser.get(url)
    wait_for_math(browser, url)
    problems: list[str] = []
    for scheme in schemes:
        if scheme:
            browser.execute_script("document.body.setAttribute('data-md-color-scheme', arguments[0])", scheme)
        problems += _check_widths(browser, f"{label} {scheme}".strip())
    return problems


def _check_widths(browser: Any, label: str) -> list[str]:
    problems: list[str] = []
    for width in WIDTHS:
        browser.set_window_size(width, 900)
        browser.execute_async_script(  # two frames: the resize is laid out
            "const done = arguments[arguments.length - 1];"
            "requestAnimationFrame(() => requestAnimationFrame(() => done()));")
        found = browser.execute_script(MEASURE)
        assert found["derivations"] > 0, label
        if found["problems"]:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9]+", "-", f"{label}-{width}").strip("-")
            browser.save_screenshot(str(ARTIFACTS / f"{name}.png"))
            problems += [f"{label} at {width}px: {problem}" for problem in found["problems"]]
    return problems


def wait_for_math(browser: Any, url: str) -> None:
    """Wait for the math on the open page: under MathJax 4 until every piece is
    shown — its startup promise also waits for the speech text of every piece
    (for screen readers), which a web worker computes after the math is shown and
    which takes ten times as long on a long page; the layout does not depend on it."""
    if not any(f"/{site}/" in url for site in MATHJAX4_SITES):
        wait_for_mathjax(browser)
        return
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 60).until(lambda d: d.execute_script(ALL_SHOWN))
    assert browser.execute_script("return MathJax.version").startswith("4.")


ALL_SHOWN = """const math = [...document.querySelectorAll('.arithmatex')];
return math.length > 0 && math.every(m => m.querySelector('mjx-container'));"""


@pytest.mark.parametrize("site", ["long-material", "long-mkdocs", "docs-site", *MATHJAX4_SITES])
def test_every_derivation_fits_its_column(sites: tuple[str, Path], module_browser: Any, site: str) -> None:
    if site in MATHJAX4_SITES:
        skip_without_mathjax4()
    base, root = sites
    pages = _pages(root, site)
    assert len(pages) >= (10 if site == "docs-site" else 2)
    problems: list[str] = []
    schemes = ("default", "slate") if site.endswith("material") else ("",)
    for page in pages:
        problems += _check_page(module_browser, f"{base}/{page}", page, schemes)
    assert not problems, "\n".join(problems[:40]) + (f"\n… {len(problems)} in all" if len(problems) > 40 else "")


def test_dark_scheme_draws_the_derivation_in_light_ink(sites: tuple[str, Path], module_browser: Any) -> None:
    base, _ = sites
    module_browser.set_window_size(1280, 900)
    module_browser.get(f"{base}/long-material/")
    wait_for_mathjax(module_browser)
    script = """
      const d = document.querySelector('.mdderiv-derivation .mdderiv-why');
      const [r, g, b] = getComputedStyle(d).color.match(/\\d+/g).map(Number);
      return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;"""
    light = module_browser.execute_script(script)
    module_browser.execute_script("document.body.setAttribute('data-md-color-scheme', 'slate')")
    dark = module_browser.execute_script(script)
    assert light < 0.4 and dark > 0.6, json.dumps({"light": light, "dark": dark})


def test_the_toggle_shows_the_brief_view_without_a_rebuild(sites: tuple[str, Path], module_browser: Any) -> None:
    base, _ = sites
    module_browser.set_window_size(1280, 900)
    module_browser.get(f"{base}/long-mkdocs/")
    wait_for_mathjax(module_browser)
    script = """
      const d = [...document.querySelectorAll('.mdderiv-derivation')].find(x => x.querySelector('.mdderiv-detail'));
      const visible = () => [...d.querySelectorAll('.mdderiv-step')].filter(s => s.getClientRects().length
                              || [...s.children].some(c => c.getClientRects().length)).length;
      const all = visible();
      d.querySelector('input.mdderiv-all').click();
      const brief = visible();
      return {all, brief, details: d.querySelectorAll('.mdderiv-detail').length};"""
    counts = module_browser.execute_script(script)
    assert counts["details"] > 0 and counts["brief"] == counts["all"] - counts["details"], counts


# a piece typeset twice: MathJax's hidden MathML copy of it (for screen readers) typeset as well
NESTED = "mjx-container mjx-container"


@pytest.mark.parametrize("site", ["long-material", "mj4-material"])
def test_instant_navigation_typesets_the_next_page(sites: tuple[str, Path], module_browser: Any, site: str) -> None:
    """Material's instant navigation swaps the page without loading it: the
    plugin's hook has MathJax (3 and 4) typeset the new page, once."""
    from selenium.webdriver.support.ui import WebDriverWait

    if site in MATHJAX4_SITES:
        skip_without_mathjax4()
    base, _ = sites
    module_browser.set_window_size(1280, 900)
    module_browser.get(f"{base}/{site}/")
    wait_for_math(module_browser, f"{base}/{site}/")
    # the first page, which MathJax typesets itself, is not typeset again by the hook
    assert module_browser.execute_script(f"return document.querySelectorAll('{NESTED}').length") == 0
    module_browser.execute_script("window.notReloaded = true; document.querySelector('a[href$=\"zh/\"]').click()")
    WebDriverWait(module_browser, 60).until(lambda d: d.execute_script(
        "return location.pathname.endsWith('/zh/') && document.querySelector('h1').textContent.includes('长推导')"
        " && (() => {" + ALL_SHOWN + "})()"))
    found = module_browser.execute_script(f"""
      return {{same: window.notReloaded === true,
               pieces: document.querySelectorAll('.arithmatex').length,
               shown: document.querySelectorAll('mjx-container').length,
               nested: document.querySelectorAll('{NESTED}').length,
               errors: document.querySelectorAll('mjx-merror, [data-mml-node="merror"]').length}};""")
    # the page was swapped in (no reload), every piece typeset, once
    assert found["same"] and found["pieces"] > 100, found
    assert found["shown"] == found["pieces"] and found["nested"] == 0 and found["errors"] == 0, found
