"""The Sphinx extension with a real ``sphinx-build``: reStructuredText and MyST pages,
a good block, a bad block, blocks nested in an admonition and a list, ``-W`` and ``-j``."""

from __future__ import annotations

import re
import textwrap
from html import unescape
from pathlib import Path

import pytest
from support import BAD, GOOD, bad_block_errors, run, wait_for_mathjax
from conftest import MATHJAX  # (the headless Chromium fixture `browser` is in conftest.py)
from test_browser import ARTIFACTS

import mdderiv

pytest.importorskip("sphinx")
pytest.importorskip("myst_parser")

pytestmark = pytest.mark.slow


def _rst_block(body: str, indent: str = "", options: str = "") -> str:
    lines = [f"{indent}.. derive::{options}", ""]
    lines += [f"{indent}   {line}" for line in body.splitlines()]
    return "\n".join(lines) + "\n"


RST_PAGE = (
    "Title\n=====\n\n.. toctree::\n\n   page\n\nGood:\n\n"
    + _rst_block(GOOD, options="\n   :layout: numerator")
    + "\nBad:\n\n"
    + _rst_block(BAD)
    + "\n.. note::\n\n   - an item\n\n"
    + _rst_block(GOOD, indent="     ")
    + "\n"
    + _rst_block(BAD, indent="     ")
    + "\nThe rest of the rST page.\n"
)

MYST_PAGE = (
    "# Page\n\nSome text with $x$.\n\n"
    f"```{{derive}}\n:layout: numerator\n{GOOD}\n```\n\n"
    f"```derive\n{GOOD}\n```\n\n"
    f"```derive layout=numerator\n{BAD}\n```\n\n"
    ":::{note}\n- an item\n\n"
    + textwrap.indent(f"```derive\n{GOOD}\n```\n\n```{{derive}}\n{BAD}\n```\n", "  ")
    + ":::\n\nThe rest of the MyST page.\n"
)


def make_site(root: Path, conf: str = "", pages: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "conf.py").write_text(
        'project = "t"\nextensions = ["myst_parser", "mdderiv.sphinx"]\n' + conf, encoding="utf-8"
    )
    for name, text in (pages or {"index.rst": RST_PAGE, "page.md": MYST_PAGE}).items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def build(root: Path, *args: str, out: str = "_build") -> tuple[int, str]:
    # --no-color: a CI runner may set FORCE_COLOR, and the warnings are compared as text
    result = run("-m", "sphinx", "-b", "html", "-q", "--no-color", *args, ".", out, cwd=root)
    return result.returncode, result.stderr.decode()


def expected_warnings(root: Path, name: str) -> list[str]:
    """``FILE:LINE:COLUMN: WARNING: message`` of every BAD block of a page."""
    text = (root / name).read_text(encoding="utf-8")
    return [f"{root / name}:{line}:{column}: WARNING: {message}" for line, column, message in bad_block_errors(text)]


def boxed(latex: str) -> str:
    """The boxed result line of a derivation's LaTeX."""
    (line,) = [line for line in latex.splitlines() if "\\boxed" in line]
    return line.removesuffix("\\\\").strip()


def derivations(html: str) -> list[str]:
    return [unescape(m) for m in re.findall(r"<div class=\"mdderiv-derivation math[^\"]*\">(.*?)</div>", html, re.DOTALL)]


def test_good_bad_and_nested_blocks_in_rst_and_myst(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site")
    status, log = build(root)
    assert status == 0, log

    for name, html_name, good in (("index.rst", "index.html", 2), ("page.md", "page.html", 3)):
        html = (root / "_build" / html_name).read_text(encoding="utf-8")
        # the good blocks are Sphinx display math holding the derivation
        found = derivations(html)
        assert len(found) == good, html_name
        assert all("\\begin{aligned}" in latex and "\\[" in latex for latex in found)
        # the bad ones are reported at FILE:LINE:COLUMN, one error box each
        warnings = expected_warnings(root, name)
        assert len(warnings) == 2
        for warning in warnings:
            assert warning in log
        assert html.count("mdderiv-error admonition error") == 2
        # and the rest of the page is there, after the last bad block
        assert "The rest of the" in html.split("mdderiv-error")[-1]

    # the option on the directive, and on the fence's info line, reached the engine
    index = (root / "_build" / "index.html").read_text(encoding="utf-8")
    numerator = boxed(mdderiv.derive(GOOD, layout="numerator").latex())
    denominator = boxed(mdderiv.derive(GOOD).latex())
    assert numerator != denominator
    first, *_ = derivations(index)
    assert numerator in first and denominator not in first
    page = derivations((root / "_build" / "page.html").read_text(encoding="utf-8"))
    assert numerator in page[0] and denominator in page[1]
    # Sphinx loads MathJax on the pages with math; wide derivations scroll
    assert "mathjax" in index.lower()
    assert '_static/mdderiv-sphinx.css' in index
    assert "overflow-x: auto" in (root / "_build" / "_static" / "mdderiv-sphinx.css").read_text(encoding="utf-8")


def test_warnings_as_errors_fail_the_build(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site")
    status, log = build(root, "-W")
    assert status != 0
    assert expected_warnings(root, "index.rst")[0] in log

    clean = make_site(tmp_path / "clean", pages={"index.md": f"# Good\n\n```derive\n{GOOD}\n```\n"})
    status, log = build(clean, "-W")
    assert status == 0, log
    assert len(derivations((clean / "_build" / "index.html").read_text(encoding="utf-8"))) == 1


def test_parallel_build_matches_the_serial_one(tmp_path: Path) -> None:
    pages = {"index.rst": "Index\n=====\n\n.. toctree::\n\n" + "".join(f"   p{i}\n" for i in range(6))}
    for i in range(6):
        pages[f"p{i}.md"] = MYST_PAGE.replace("# Page", f"# Page {i}")
    root = make_site(tmp_path / "site", conf="mdderiv_cache = False\n", pages=pages)
    serial_status, serial_log = build(root, "-W", out="serial")
    parallel_status, parallel_log = build(root, "-W", "-j", "2", out="parallel")
    assert serial_status != 0 and parallel_status != 0
    expected = sorted(w for i in range(6) for w in expected_warnings(root, f"p{i}.md"))
    for log in (serial_log, parallel_log):
        warnings = [line.removesuffix(" [mdderiv.block]") for line in log.splitlines() if "WARNING" in line]
        assert sorted(warnings) == expected
    for i in range(6):
        serial = derivations((root / "serial" / f"p{i}.html").read_text(encoding="utf-8"))
        parallel = derivations((root / "parallel" / f"p{i}.html").read_text(encoding="utf-8"))
        assert len(serial) == 3 and serial == parallel


def test_bad_options(tmp_path: Path) -> None:
    page = "# Options\n\n```{derive}\n:layout: sideways\n" + GOOD + "\n```\n\nAfter.\n"
    root = make_site(tmp_path / "site", pages={"index.md": page})
    status, log = build(root)
    assert status == 0
    assert re.search(rf"{re.escape(str(root / 'index.md'))}:3:1: WARNING: option 'layout' cannot be 'sideways'", log), log

    conf = make_site(tmp_path / "conf", conf='mdderiv_layout = "sideways"\n', pages={"index.md": "# x\n"})
    status, log = build(conf)
    assert status != 0
    assert "mdderiv_layout" in log or "layout" in log


def test_site_wide_defaults_from_conf(tmp_path: Path) -> None:
    page = f"# x\n\n```derive\n{GOOD}\n```\n\n```{{derive}}\n:title: The \"bilinear\" form\n{GOOD}\n```\n"
    root = make_site(tmp_path / "site", conf='mdderiv_layout = "numerator"\nmdderiv_lang = "zh"\n',
                     pages={"index.md": page})
    status, log = build(root, "-W")
    assert status == 0, log
    latex, titled = derivations((root / "_build" / "index.html").read_text(encoding="utf-8"))
    assert mdderiv.derive(GOOD, layout="numerator", lang="zh").latex().splitlines()[1] in latex
    # a directive option holding quotes reaches the engine as it was written
    assert mdderiv.derive(GOOD, layout="numerator", lang="zh", title='The "bilinear" form').latex() in titled


def test_mathjax_renders_the_derivations(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: F811 - the imported fixture


    page = (
        "# Rendered\n\nThe author's own $\\mathbf{x}^T A \\mathbf{x}$.\n\n"
        + "\n\n".join(f"```derive{info}\n{GOOD}\n```" for info in ("", " layout=numerator", " lang=zh"))
        + "\n"
    )
    root = make_site(tmp_path / "site", conf=f"mathjax_path = {(MATHJAX / 'tex-mml-chtml.js').as_uri()!r}\n"
                     'myst_enable_extensions = ["dollarmath"]\n',
                     pages={"index.md": page})
    status, log = build(root, "-W")
    assert status == 0, log
    browser.get((root / "_build" / "index.html").as_uri())
    wait_for_mathjax(browser)
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "sphinx-derivations.png"))
    counts = browser.execute_script("""
        const blocks = [...document.querySelectorAll('div.mdderiv-derivation')];
        return {
          blocks: blocks.length,
          rendered: blocks.filter(b => b.querySelector('mjx-container')).length,
          inline: document.querySelectorAll('span.math mjx-container').length,
          errors: document.querySelectorAll('mjx-merror').length,
          leftover: blocks.filter(b => b.textContent.includes('\\\\begin{aligned}')).length,
        };""")
    assert counts == {"blocks": 3, "rendered": 3, "inline": 1, "errors": 0, "leftover": 0}
