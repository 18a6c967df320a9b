"""Zensical with ``markdown_extensions: [mdderiv]`` (mkdocs.yml and zensical.toml), built
with a real ``zensical build``: a good block, a bad one named at page:line:column, blocks in
an admonition and a list, strictness, and MathJax set up as Zensical documents it."""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pytest
from support import BAD, GOOD, bad_block_errors, run, wait_for_mathjax
from conftest import MATHJAX  # (the headless Chromium fixture `browser` is in conftest.py)
from test_browser import ARTIFACTS

pytest.importorskip("zensical")

pytestmark = pytest.mark.slow

PAGE = (
    "---\ntitle: Derivations\n---\n\n# Derivations\n\n"
    f"```derive layout=numerator\n{GOOD}\n```\n\n"
    f"```derive\n{BAD}\n```\n\n"
    "!!! note\n\n" + textwrap.indent(f"```derive\n{GOOD}\n```", "    ") + "\n\n"
    "- an item\n\n" + textwrap.indent(f"```derive\n{BAD}\n```", "    ") + "\n\n"
    "The rest of the page.\n"
)

MKDOCS_YML = "site_name: Zensical test\nmarkdown_extensions:\n  - admonition\n  - mdderiv{config}\n"


def make_site(root: Path, config_file: str, config: str, page: str = PAGE) -> Path:
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "index.md").write_text(page, encoding="utf-8")
    (root / config_file).write_text(config, encoding="utf-8")
    return root


def build(root: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = run("-m", "zensical", "build", cwd=root, env=env)
    return result.returncode, result.stdout.decode() + result.stderr.decode()


def expected_errors(root: Path) -> list[str]:
    text = (root / "docs" / "index.md").read_text(encoding="utf-8")
    return [f"docs/index.md:{line}:{column}: {message}" for line, column, message in bad_block_errors(text)]


def derivations(html: str) -> list[str]:
    """The derivations of a page (the outermost element holds no other <div>)."""
    return re.findall(r'<div class="mdderiv-derivation"[^>]*>.*?</div>', html, re.DOTALL)


def test_mkdocs_yml_good_bad_and_nested_blocks(tmp_path: Path) -> None:
    root = make_site(tmp_path, "mkdocs.yml", MKDOCS_YML.format(config=""))
    status, log = build(root)
    assert status == 0, log
    errors = expected_errors(root)
    assert len(errors) == 2
    for error in errors:  # named with the page, the front matter counted
        assert error in log
    html = (root / "site" / "index.html").read_text(encoding="utf-8")
    found = derivations(html)
    assert len(found) == 2 and all('class="mdderiv-step' in derivation for derivation in found)
    assert html.count('<style id="mdderiv-layout">') == 1  # no plugin here: the extension adds the layout's CSS
    assert html.count('class="mdderiv-error') == 2
    assert "The rest of the page." in html.split("mdderiv-error")[-1]


@pytest.mark.parametrize(
    ("config_file", "config"),
    [
        ("mkdocs.yml", MKDOCS_YML.format(config=":\n      strict: true")),
        ("mkdocs.yml", "strict: true\n" + MKDOCS_YML.format(config="")),
        ("zensical.toml", '[project]\nsite_name = "Z"\n\n[project.markdown_extensions.mdderiv]\nstrict = true\n'),
        ("zensical.toml", '[project]\nsite_name = "Z"\nstrict = true\n\n[project.markdown_extensions.mdderiv]\n'),
        ("mkdocs.yml", MKDOCS_YML.format(config=":\n      strict: !ENV [MDDERIV_STRICT, false]")),
    ],
    ids=["yml-extension-strict", "yml-site-strict", "toml-extension-strict", "toml-site-strict", "yml-env-strict"],
)
def test_strict_fails_the_build_naming_page_and_line(tmp_path: Path, config_file: str, config: str) -> None:
    root = make_site(tmp_path, config_file, config)
    if "!ENV" in config:  # strict only where the environment asks for it (CI), not while serving
        status, log = build(root)
        assert status == 0, log
        shutil.rmtree(root / ".cache")  # Zensical would not render the unchanged page again
    status, log = build(root, env={"MDDERIV_STRICT": "true"})
    assert status != 0
    assert "StrictFailure: mdderiv: 2 block(s) could not be derived" in log
    for error in expected_errors(root):
        assert error in log

    good_only = make_site(tmp_path / "good", config_file, config, page=f"# Good\n\n```derive\n{GOOD}\n```\n")
    status, log = build(good_only)
    assert status == 0, log
    assert len(derivations((good_only / "site" / "index.html").read_text(encoding="utf-8"))) == 1


def test_zensical_toml_expands_blocks(tmp_path: Path) -> None:
    config = '[project]\nsite_name = "Z"\n\n[project.markdown_extensions.admonition]\n[project.markdown_extensions.mdderiv]\nlayout = "numerator"\n'
    root = make_site(tmp_path, "zensical.toml", config, page=f"# Good\n\n```derive\n{GOOD}\n```\n")
    status, log = build(root)
    assert status == 0, log
    (latex,) = derivations((root / "site" / "index.html").read_text(encoding="utf-8"))
    assert "numerator layout" in latex


# Zensical's own MathJax set-up (its "Math" page), with the MathJax file copied into the
# site instead of taken from a CDN.
MATHJAX_JS = """window.MathJax = {
  tex: {inlineMath: [["\\\\(", "\\\\)"]], displayMath: [["\\\\[", "\\\\]"]],
        processEscapes: true, processEnvironments: true},
  options: {ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex"}
};
document$.subscribe(() => {
  MathJax.startup.output.clearCache();
  MathJax.typesetClear();
  MathJax.texReset();
  MathJax.typesetPromise();
});
"""


def test_documented_mathjax_setup_renders_derivations_and_page_math(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: F811 - the imported fixture

    page = (
        "# Math\n\nThe author's own $\\mathbf{x}^T A \\mathbf{x}$ and\n\n$$\nf(X) = \\operatorname{tr}(X)\n$$\n\n"
        f"```derive\n{GOOD}\n```\n\n```derive lang=zh\n{GOOD}\n```\n"
    )
    config = (
        "site_name: Math\nmarkdown_extensions:\n  - pymdownx.arithmatex:\n      generic: true\n  - mdderiv\n"
        "extra_javascript:\n  - javascripts/mathjax.js\n  - javascripts/mathjax/tex-mml-chtml.js\n"
    )
    root = make_site(tmp_path, "mkdocs.yml", config, page=page)
    scripts = root / "docs" / "javascripts"
    (scripts / "mathjax").mkdir(parents=True)
    (scripts / "mathjax.js").write_text(MATHJAX_JS, encoding="utf-8")
    shutil.copy(MATHJAX / "tex-mml-chtml.js", scripts / "mathjax")
    shutil.copytree(MATHJAX / "output" / "chtml" / "fonts", scripts / "mathjax" / "output" / "chtml" / "fonts")
    status, log = build(root)
    assert status == 0, log

    browser.get((root / "site" / "index.html").as_uri())
    wait_for_mathjax(browser)
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "zensical-derivations.png"))
    counts = browser.execute_script("""
        const math = [...document.querySelectorAll('.arithmatex')];
        const derivations = [...document.querySelectorAll('.mdderiv-derivation')];
        return {
          authors: math.filter(m => !m.closest('.mdderiv-derivation')).length,
          derivations: derivations.length,
          rendered: math.filter(b => b.querySelector('mjx-container')).length == math.length,
          errors: document.querySelectorAll('mjx-merror').length,
          leftover: math.filter(b => b.textContent.includes('\\\\(')).length,
        };""")
    # two derivations (every piece typeset), the author's inline and display math
    assert counts == {"authors": 2, "derivations": 2, "rendered": True, "errors": 0, "leftover": 0}
