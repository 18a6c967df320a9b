"""The project's own documentation site: built with the plugin, strictly.

Every ```derive block in ``docs/`` is derived by the current engine (a fresh
cache directory, so nothing is served from an older build) and the build must
pass ``mkdocs build --strict``: a block that fails, a broken link or a missing
anchor fails the test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import ROOT, run

from mdderiv.rules import RULES

DOCS = ROOT / "docs"
# The error box a failed block leaves (the plugin's CSS names the class on every page with math).
ERROR_BOX = 'class="mdderiv-error'
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<ticks>`{3,}|~{3,})(?P<info>.*)$")


def live_blocks(text: str) -> int:
    """How many derive fences of a page are real blocks (not shown inside a longer fence)."""
    count = 0
    outer: str | None = None  # the fence we are inside, if any
    for line in text.splitlines():
        match = _FENCE.match(line)
        if not match:
            continue
        ticks, info = match.group("ticks"), match.group("info").strip()
        if outer is None:
            outer = ticks
            first = info.split(None, 1)[0] if info else ""
            if first == "derive" or first.startswith("derive{"):
                count += 1
        elif ticks[0] == outer[0] and len(ticks) >= len(outer) and not info:
            outer = None
    return count


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("docs-site")
    result = run(
        "-m",
        "mkdocs",
        "build",
        "--strict",
        "-f",
        str(ROOT / "mkdocs.yml"),
        "-d",
        str(out / "site"),
        cwd=ROOT,
        env={"MDDERIV_CACHE_DIR": str(out / "cache"), "NO_MKDOCS_2_WARNING": "1"},
    )
    log = result.stderr.decode() + result.stdout.decode()
    assert result.returncode == 0, log
    return out / "site", log


@pytest.mark.slow
def test_site_builds_strict_with_every_block_derived(site: tuple[Path, str]) -> None:
    root, log = site
    assert re.search(
        r"mdderiv: \d+ block\(s\) derived, \d+ from cache, 0 failed", log
    ), log
    for page in root.rglob("*.html"):
        assert ERROR_BOX not in page.read_text(encoding="utf-8"), page


@pytest.mark.slow
@pytest.mark.parametrize(
    ("source", "built", "words"),
    [
        ("examples/index.md", "examples/index.html", "read off the gradient"),
        ("zh/examples.md", "zh/examples/index.html", "对照导数与微分的联系"),
    ],
)
def test_examples_pages_hold_rendered_derivations(
    site: tuple[Path, str], source: str, built: str, words: str
) -> None:
    root, _ = site
    html = (root / built).read_text(encoding="utf-8")
    assert 'class="arithmatex"' in html
    assert 'class="mdderiv-boxed"' in html
    assert words in html  # the step notes, in the page's language
    assert ERROR_BOX not in html
    # every live block became one derivation; the blocks shown as source stayed code
    expected = live_blocks((DOCS / source).read_text(encoding="utf-8"))
    assert expected >= 15
    assert html.count('<div class="mdderiv-derivation"') == expected
    assert "```derive" in html  # the Block tabs show the source as code


@pytest.mark.slow
def test_site_loads_mathjax_once_as_material_documents(site: tuple[Path, str]) -> None:
    root, _ = site
    html = (root / "index.html").read_text(encoding="utf-8")
    assert html.count("tex-mml-chtml.js") == 1  # the site's own; the plugin adds none
    assert "javascripts/mathjax.js" in html


def test_rule_table_mirrors_the_rule_registry() -> None:
    """docs/method.md lists every rule the engine may cite, in both languages."""
    method = (DOCS / "method.md").read_text(encoding="utf-8")
    missing = [
        rule.id for rule in RULES.values() if f"| {rule.en} | {rule.zh} |" not in method
    ]
    assert not missing, f"add these rules to the table in docs/method.md: {missing}"
