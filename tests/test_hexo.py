"""Hexo as it ships: ``mdderiv render --flavor hexo`` output through a real
``hexo generate`` with the default renderer, hexo-renderer-marked (tests/hexo)."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from support import BAD, BAD_LINE, GOOD, GOOD2, run

import mdderiv

HEXO = Path(__file__).resolve().parent / "hexo"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("node") is None or shutil.which("npm") is None,
                       reason="node is missing (bash scripts/test.sh installs it)"),
]


def indented(body: str, prefix: str) -> str:
    return "".join(prefix + line + "\n" for line in body.split("\n"))


DRAFT = (
    "---\n"
    "title: Gradients\n"
    "---\n"
    "\n"
    "Prose with *emphasis*, snake_case_names and a \\\\ double backslash.\n"
    "\n"
    "```derive\n" + GOOD + "\n```\n"
    "\n"
    "> A quote.\n"
    ">\n"
    "> ```derive layout=numerator\n" + indented(GOOD2, "> ") + "> ```\n"
    "\n"
    "- An item.\n"
    "\n"
    "  ```derive lang=zh\n" + indented(GOOD, "  ") + "  ```\n"
    "\n"
    "The end.\n"
)


@pytest.fixture(scope="module")
def node_modules() -> Path:
    modules = HEXO / "node_modules"
    if not (modules / "hexo").exists():  # scripts/test.sh installs them; a bare pytest run too
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HEXO, check=True, timeout=300)
    return modules


def blog(tmp_path: Path, node_modules: Path) -> Path:
    site = tmp_path / "blog"
    shutil.copytree(HEXO / "blog", site)
    shutil.copy(HEXO / "package.json", site / "package.json")  # Hexo loads the plugins it lists
    (site / "node_modules").symlink_to(node_modules, target_is_directory=True)
    return site


def hexo_generate(site: Path, node_modules: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", str(node_modules / "hexo" / "bin" / "hexo"), "generate"],
                          cwd=site, capture_output=True, text=True, timeout=180)


def math_in(post: str) -> list[str]:
    """The display math of a rendered post (between the raw tags)."""
    return re.findall(r"\{% raw %\}(\$\$.*?\$\$)\{% endraw %\}", post, re.S)


def test_hexo_generate_keeps_the_math_as_written(tmp_path: Path, node_modules: Path) -> None:
    site = blog(tmp_path, node_modules)
    draft = tmp_path / "draft.md"
    draft.write_text(DRAFT, encoding="utf-8")
    post = site / "source" / "_posts" / "gradients.md"
    done = run("-m", "mdderiv", "render", str(draft), "--flavor", "hexo", "-o", str(post))
    assert done.returncode == 0, done.stderr.decode()
    written = math_in(post.read_text(encoding="utf-8"))
    assert len(written) == 3
    # the block quote's derivation is on one line (a raw tag keeps the `>` of its lines)
    numerator = mdderiv.derive(GOOD2, layout="numerator").latex()
    assert written[1] == "$$" + " ".join(line for line in numerator.splitlines() if line.strip()) + "$$"

    generated = hexo_generate(site, node_modules)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    page = (site / "public" / "gradients" / "index.html").read_text(encoding="utf-8")
    # hexo-renderer-marked never saw the math: every character arrives as written —
    # backslashes, underscores, `&`, the Chinese words
    shown = re.findall(r"\$\$.*?\$\$", page, re.S)
    assert shown == written
    assert "\\\\" in shown[0] and "_{m \\times n}" in shown[0] and "<em>" not in "".join(shown)
    assert "梯度" in shown[2] or "微分" in shown[2]
    # the rest of the post went through marked as usual, containers included
    assert "<em>emphasis</em>" in page and "snake_case_names" in page
    assert re.search(r"<blockquote>\s*<p>A quote.</p>\s*\$\$", page)
    assert re.search(r"<li><p>An item.</p>\s*\$\$", page)
    assert "<p>The end.</p>" in page and "{% raw %}" not in page
    assert html.unescape(page).count("$$") == 6


def test_a_bad_block_is_reported_and_the_post_left_as_it_was(tmp_path: Path, node_modules: Path) -> None:
    site = blog(tmp_path, node_modules)
    draft = tmp_path / "draft.md"
    post = site / "source" / "_posts" / "gradients.md"
    draft.write_text(DRAFT, encoding="utf-8")
    assert run("-m", "mdderiv", "render", str(draft), "--flavor", "hexo", "-o", str(post)).returncode == 0
    good_post = post.read_text(encoding="utf-8")

    bad_draft = DRAFT.replace("```derive\n" + GOOD, "```derive\n" + BAD, 1)
    draft.write_text(bad_draft, encoding="utf-8")
    done = run("-m", "mdderiv", "render", str(draft), "--flavor", "hexo", "-o", str(post))
    assert done.returncode == 1
    fence_line = bad_draft.split("\n").index("```derive") + 1
    with pytest.raises(mdderiv.DeriveError) as bare:
        mdderiv.derive(BAD)
    first, summary = done.stderr.decode().strip().split("\n")
    assert first == f"{draft}:{fence_line + BAD_LINE}:{bare.value.column}: {bare.value.message}"
    assert summary == f"{draft}: 1 block(s) failed; nothing written"
    assert post.read_text(encoding="utf-8") == good_post  # nothing written: the blog keeps the last good post
    generated = hexo_generate(site, node_modules)
    assert generated.returncode == 0
    assert math_in(good_post) == re.findall(r"\$\$.*?\$\$", (site / "public" / "gradients" / "index.html").read_text(encoding="utf-8"), re.S)
