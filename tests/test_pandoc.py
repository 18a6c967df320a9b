"""pandoc: ``pandoc --filter mdderiv-pandoc`` with a real pandoc (from pypandoc-binary),
to HTML, LaTeX and Markdown, with blocks at the top, in a block quote and in a div."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support import BAD, BAD_LINE, GOOD, GOOD2

import mdderiv

pypandoc = pytest.importorskip("pypandoc")
FILTER = shutil.which("mdderiv-pandoc", path=str(Path(sys.executable).parent)) or "mdderiv-pandoc"
KATEX_DIR = Path(__file__).resolve().parent / "browser"


def quoted(body: str) -> str:
    return "".join("> " + line + "\n" for line in body.split("\n"))


# line numbers below are those of this text (1-based)
DOCUMENT = (
    "---\n"                                   # 1
    "title: Gradients\n"                      # 2
    "---\n"                                   # 3
    "\n"                                      # 4
    "Prose with $x_1$ and a_b_c.\n"           # 5
    "\n"                                      # 6
    "```derive\n"                             # 7  good, top level
    + GOOD + "\n"                             # 8-10
    "```\n"                                   # 11
    "\n"                                      # 12
    "> A quote.\n"                            # 13
    ">\n"                                     # 14
    "> ```{.derive layout=numerator}\n"       # 15 good, in a block quote, options as attributes
    + quoted(GOOD2)                           # 16-18
    + "> ```\n"                               # 19
    "\n"                                      # 20
    "::: note\n"                              # 21
    "```derive\n"                             # 22 bad, in a div
    + BAD + "\n"                              # 23-25
    "```\n"                                   # 26
    ":::\n"                                   # 27
    "\n"                                      # 28
    "The end.\n"                              # 29
)
BAD_FENCE_LINE = 22


def pandoc(source: str, *args: str, env: dict[str, str] | None = None, reader: str = "markdown") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [pypandoc.get_pandoc_path(), "-f", reader, "--filter", FILTER, *args],
        input=source, capture_output=True, text=True, encoding="utf-8", timeout=120,
        env=dict(os.environ, **(env or {})),
    )


def flat(latex: str) -> str:
    """LaTeX with its whitespace runs as single spaces: what TeX reads the same."""
    return " ".join(latex.split())


def expected_latex() -> list[str]:
    return [mdderiv.derive(GOOD).latex(), mdderiv.derive(GOOD2, layout="numerator").latex()]


def bare_error() -> mdderiv.DeriveError:
    with pytest.raises(mdderiv.DeriveError) as caught:
        mdderiv.derive(BAD)
    return caught.value


def display_math(ast: dict[str, Any]) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("t") == "Math" and node["c"][0]["t"] == "DisplayMath":
                found.append(node["c"][1])
            walk(node.get("c"))
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(ast["blocks"])
    return found


def test_html_has_the_derivations_as_display_math_and_the_error_in_place() -> None:
    done = pandoc(DOCUMENT, "-t", "html", "--mathjax")
    assert done.returncode == 0, done.stderr
    page = done.stdout
    shown = [html.unescape(math) for math in re.findall(r'<span class="math display">\\\[(.*?)\\\]</span>', page, re.S)]
    assert [flat(math) for math in shown] == [flat(latex) for latex in expected_latex()]
    assert all("\n\n" not in math for math in shown)  # wrapped, but no paragraph break in math
    assert page.index("<blockquote>") < page.rindex('class="math display"') < page.index("</blockquote>")
    # the bad block: reported with its position in the block (pandoc's Markdown gives no lines),
    # shown in its div with the source, and the rest of the page is there
    error = bare_error()
    where = f"derive block 3, line {error.line} of the block, column {error.column}: {error.message}"
    assert done.stderr.strip() == f"mdderiv-pandoc: {where}"
    assert html.escape(where, quote=False) in page
    assert re.search(r'<div class="note">\s*<div class="mdderiv-error">', page)
    assert '<pre class="mdderiv-source">' in page and "The end." in page
    assert "a_b_c" in page and r"\(x_1\)" in page  # the author's prose and math untouched


def test_latex_output() -> None:
    done = pandoc(DOCUMENT, "-t", "latex")
    assert done.returncode == 0, done.stderr
    shown = re.findall(r"\\\[(.*?)\\\]", done.stdout, re.S)
    assert [flat(math) for math in shown] == [flat(latex) for latex in expected_latex()]
    assert r"\begin{quote}" in done.stdout and "The end." in done.stdout


@pytest.mark.parametrize("target", ["markdown", "commonmark_x", "gfm"])
def test_markdown_output_reads_back_to_the_same_math(target: str) -> None:
    done = pandoc(DOCUMENT, "-t", target)  # pandoc's default wrapping (72 columns)
    assert done.returncode == 0, done.stderr
    back = subprocess.run(
        [pypandoc.get_pandoc_path(), "-f", target, "-t", "json"],
        input=done.stdout, capture_output=True, text=True, encoding="utf-8", check=True,
    )
    shown = display_math(json.loads(back.stdout))
    assert [flat(math) for math in shown] == [flat(latex) for latex in expected_latex()]


def test_sourcepos_gives_file_line_and_column(tmp_path: Path) -> None:
    source = tmp_path / "notes.md"
    source.write_text(DOCUMENT, encoding="utf-8")
    done = subprocess.run(
        [pypandoc.get_pandoc_path(), "-f", "commonmark_x+sourcepos", "--filter", FILTER, "-t", "html", "--mathjax", str(source)],
        capture_output=True, text=True, encoding="utf-8", timeout=120,
    )
    assert done.returncode == 0, done.stderr
    error = bare_error()
    assert done.stderr.strip() == (
        f"mdderiv-pandoc: {source}:{BAD_FENCE_LINE + BAD_LINE}:{error.column}: {error.message}"
    )
    assert done.stdout.count('class="math display"') == 2


def test_strict_mode_fails_the_run() -> None:
    for env, document in (
        ({"MDDERIV_STRICT": "1"}, DOCUMENT),
        ({}, DOCUMENT.replace("title: Gradients\n", "title: Gradients\nmdderiv-strict: true\n")),
    ):
        done = pandoc(document, "-t", "html", env=env)
        assert done.returncode != 0
        assert f"column {bare_error().column}: {bare_error().message}" in done.stderr
        assert "1 block(s) failed (strict)" in done.stderr
    # strict with nothing wrong is a normal run
    good = DOCUMENT.replace(BAD, GOOD)
    assert pandoc(good, "-t", "html", env={"MDDERIV_STRICT": "1"}).returncode == 0


def test_metadata_defaults_and_bad_options() -> None:
    document = "---\nmdderiv:\n  layout: numerator\n  check: false\n---\n\n```derive\n" + GOOD + "\n```\n"
    done = pandoc(document, "-t", "json")
    (math,) = display_math(json.loads(done.stdout))
    assert math == mdderiv.derive(GOOD, layout="numerator", check=False).latex()
    bad_attribute = pandoc("```{.derive layout=sideways}\n" + GOOD + "\n```\n", "-t", "json")
    assert "derive block 1" in bad_attribute.stderr and "'sideways'" in bad_attribute.stderr
    assert display_math(json.loads(bad_attribute.stdout)) == []


def test_options_after_the_fence_name_are_not_lost_silently() -> None:
    # pandoc's Markdown does not read ```derive layout=numerator as a code block at all
    done = pandoc("```derive layout=numerator\n" + GOOD + "\n```\n", "-t", "html")
    assert "```{.derive layout=numerator}" in done.stderr
    assert pandoc("```derive layout=numerator\n" + GOOD + "\n```\n", "-t", "html", env={"MDDERIV_STRICT": "1"}).returncode != 0


@pytest.mark.skipif(shutil.which("node") is None or not (KATEX_DIR / "node_modules" / "katex").exists(),
                    reason="node and the local KaTeX (bash scripts/test.sh installs them) are missing")
def test_the_wrapped_html_math_renders_in_katex(tmp_path: Path) -> None:
    page = pandoc(DOCUMENT, "-t", "html", "--katex").stdout
    shown = [html.unescape(math) for math in re.findall(r'<span class="math display">(.*?)</span>', page, re.S)]
    assert len(shown) == 2 and any("\n" in math for math in shown)
    source = tmp_path / "latex.json"
    source.write_text(json.dumps(shown), encoding="utf-8")
    run = subprocess.run(["node", str(KATEX_DIR / "katex_check.js"), str(source)],
                         cwd=KATEX_DIR, capture_output=True, timeout=120, check=True)
    assert json.loads(run.stdout) == [{"ok": True}, {"ok": True}]


def test_the_lua_filter_names_file_line_and_column(tmp_path: Path) -> None:
    lua = subprocess.run([FILTER, "--lua"], capture_output=True, text=True, check=True).stdout.strip()
    assert Path(lua).is_file()
    # the same bad block twice, the second in a block quote: each found at its own line
    source = tmp_path / "notes.md"
    text = DOCUMENT + "\n> ```derive\n" + quoted(BAD) + "> ```\n"
    source.write_text(text, encoding="utf-8")
    second_fence = len(DOCUMENT.split("\n")) + 1  # DOCUMENT ends with a line end; then a blank line
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    done = subprocess.run(
        [pypandoc.get_pandoc_path(), "--lua-filter", lua, "-t", "html", "--mathjax", str(source)],
        capture_output=True, text=True, encoding="utf-8", timeout=120, env=env,
    )
    assert done.returncode == 0, done.stderr
    error = bare_error()
    assert done.stderr.strip().split("\n") == [
        f"mdderiv-pandoc: {source}:{BAD_FENCE_LINE + BAD_LINE}:{error.column}: {error.message}",
        f"mdderiv-pandoc: {source}:{second_fence + BAD_LINE}:{2 + error.column}: {error.message}",
    ]
    assert text.split("\n")[second_fence - 1] == "> ```derive"
    shown = [html.unescape(math) for math in re.findall(r'<span class="math display">\\\[(.*?)\\\]</span>', done.stdout, re.S)]
    assert [flat(math) for math in shown] == [flat(latex) for latex in expected_latex()]
    strict = subprocess.run(
        [pypandoc.get_pandoc_path(), "--lua-filter", lua, "-t", "html", str(source)],
        capture_output=True, text=True, encoding="utf-8", timeout=120, env=dict(env, MDDERIV_STRICT="1"),
    )
    assert strict.returncode != 0 and "2 block(s) failed (strict)" in strict.stderr


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is missing (bash scripts/test.sh installs it)")
def test_pdf_through_pandocs_latex_template(tmp_path: Path) -> None:
    # every good block (top level, block quote, div) through pandoc's own template and pdflatex:
    # a TeX error in the math would stop the run
    source = tmp_path / "notes.md"
    source.write_text(DOCUMENT.replace(BAD, GOOD), encoding="utf-8")
    pdf = tmp_path / "notes.pdf"
    done = subprocess.run(
        [pypandoc.get_pandoc_path(), str(source), "--filter", FILTER, "--pdf-engine=pdflatex", "-o", str(pdf)],
        capture_output=True, text=True, encoding="utf-8", timeout=300, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert pdf.read_bytes().startswith(b"%PDF")


def test_a_defaults_file_names_the_filter_as_quarto_does(tmp_path: Path) -> None:
    # `filters: [mdderiv-pandoc]`, found on PATH: what a Quarto document's YAML says
    (tmp_path / "defaults.yaml").write_text("filters:\n  - mdderiv-pandoc\nhtml-math-method:\n  method: mathjax\n")
    (tmp_path / "notes.md").write_text(DOCUMENT.replace(BAD, GOOD), encoding="utf-8")
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    done = subprocess.run(
        [pypandoc.get_pandoc_path(), "-d", "defaults.yaml", "notes.md", "-t", "html"],
        capture_output=True, text=True, encoding="utf-8", timeout=120, cwd=tmp_path, env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count('<span class="math display">') == 3
