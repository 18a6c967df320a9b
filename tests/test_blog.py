"""Blog posts: derive blocks found by mistune, spliced in, every other byte kept."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from support import BAD, BAD_LINE, GOOD, GOOD2, fake_derive, run

import mdderiv
from mdderiv.markdown import blog

HEXO_POST = (
    "---\r\n"
    "title: 矩阵求导 {{ page.title }}\r\n"
    "date: 2024-05-01 10:00:00\r\n"
    "tags: [math]\r\n"
    "---\r\n"
    "\r\n"
    "这是一篇中文文章。{% include note.html %} and {{ site.url }} {# a comment #}\r\n"
    "\r\n"
    "```derive\r\n"
    + GOOD.replace("\n", "\r\n")
    + "\r\n```\r\n"
    "\r\n"
    "- 列表\r\n"
    "\r\n"
    "  ```derive lang=zh\r\n"
    + "".join("  " + line + "\r\n" for line in GOOD2.split("\n"))
    + "  ```\r\n"
    "\r\n"
    "{% raw %}{{ not math }}{% endraw %}\r\n"
)

JEKYLL_POST = (
    "---\n"
    "layout: post\n"
    'title: "Gradients"\n'
    "---\n"
    "\n"
    "Intro with $$a^2$$ and {% include figure.html src=\"x.png\" %}.\n"
    "\n"
    "> A quote:\n"
    ">\n"
    "> ```derive layout=numerator\n"
    + "".join("> " + line + "\n" for line in GOOD.split("\n"))
    + "> ```\n"
    "\n"
    "    ```derive\n"
    "    indented code, not a block\n"
    "    ```\n"
    "\n"
    "<!--\n"
    "```derive\n"
    "commented out\n"
    "```\n"
    "-->\n"
    "\n"
    "````markdown\n"
    "```derive\n"
    "an example\n"
    "```\n"
    "````\n"
    "\n"
    "The end.\n"
)


def outside_blocks(text: str) -> list[str]:
    """The parts of a post that are not derive blocks, in order."""
    lines = blog.split_lines(text)
    parts, position = [], 0
    for block in blog.find_blocks(text):
        parts.append("".join(lines[position:block.start]))
        position = block.end
    parts.append("".join(lines[position:]))
    return parts


def assert_only_blocks_changed(source: str, output: str) -> list[str]:
    """Every byte outside the blocks is unchanged; returns the replacements."""
    parts = outside_blocks(source)
    pattern = "(.*?)".join(re.escape(part) for part in parts)
    match = re.fullmatch(pattern, output, re.DOTALL)
    assert match, "bytes outside the derive blocks changed"
    return list(match.groups())


# -- finding and splicing (stand-in engine) ---------------------------------------------------


@pytest.mark.usefixtures("fake_engine")
def test_only_real_blocks_are_found() -> None:
    blocks = blog.find_blocks(JEKYLL_POST)
    assert len(blocks) == 1
    [block] = blocks
    assert block.prefix == "> " and block.info == " layout=numerator"
    assert block.body == GOOD


@pytest.mark.usefixtures("fake_engine")
@pytest.mark.parametrize("flavor", ["plain", "jekyll", "hexo"])
def test_crlf_chinese_liquid_untouched_and_flavour_escapes(flavor: str) -> None:
    output = blog.render_text(HEXO_POST, flavor)
    replaced = assert_only_blocks_changed(HEXO_POST, output)
    assert len(replaced) == 2
    for part in replaced:
        assert "\n" not in part.replace("\r\n", "")  # CRLF kept inside the new lines too
        if flavor == "plain":
            assert "{{" in part  # the stand-in's LaTeX has one
        else:
            math = part.replace("{% raw %}", "").replace("{% endraw %}", "")
            assert part.count("{% raw %}") == (flavor == "hexo") and part.count("{% endraw %}") == (flavor == "hexo")
            assert not any(opener in math for opener in ("{{", "{%", "{#")), part
    # the list item's block is indented as the list item's content
    opening = "{% raw %}$$" if flavor == "hexo" else "$$"
    assert f"\r\n  {opening}\r\n  \\text{{FAKE}}" in output


@pytest.mark.usefixtures("fake_engine")
def test_block_quote_prefix_is_repeated() -> None:
    output = blog.render_text(JEKYLL_POST, "jekyll")
    [replaced] = assert_only_blocks_changed(JEKYLL_POST, output)
    lines = replaced.rstrip("\n").split("\n")
    assert lines[0] == "> $$" and lines[-1] == "> $$"
    assert all(line.startswith("> ") for line in lines)


@pytest.mark.usefixtures("fake_engine")
def test_hexo_math_in_a_block_quote_is_one_raw_line() -> None:
    # Hexo keeps a raw tag's text verbatim: a `>` on its inner lines would land in the math
    output = blog.render_text(JEKYLL_POST, "hexo")
    [replaced] = assert_only_blocks_changed(JEKYLL_POST, output)
    assert replaced.count("\n") == 1 and replaced.startswith("> {% raw %}$$\\text{FAKE}")
    assert replaced.rstrip("\n").endswith("$${% endraw %}")


def test_code_comments_and_examples_are_never_derived(monkeypatch: pytest.MonkeyPatch) -> None:
    bodies: list[str] = []

    def spy(body: str, defaults: Any = None, **options: Any) -> Any:
        bodies.append(body)
        return fake_derive(body, defaults, **options)

    monkeypatch.setattr(mdderiv, "derive", spy)
    blog.render_text(JEKYLL_POST)
    assert bodies == [GOOD]


@pytest.mark.usefixtures("fake_engine")
def test_front_matter_is_not_parsed_as_markdown() -> None:
    post = "---\nnote: |\n  ```derive\n  BAD\n  ```\n---\n\n```derive\nf = ok\n```\n"
    output = blog.render_text(post)
    assert output.startswith("---\nnote: |\n  ```derive\n  BAD\n  ```\n---\n\n$$\n")


@pytest.mark.usefixtures("fake_engine")
def test_bom_tabs_and_missing_final_newline_kept() -> None:
    post = "\ufeff# T\n\n\tnot code? tab\n\n```derive\nf = x\n```"
    output = blog.render_text(post)
    assert output.startswith("\ufeff# T\n\n\tnot code? tab\n\n$$\n") and output.endswith("\n$$")


@pytest.mark.usefixtures("fake_engine")
def test_unclosed_fence_runs_to_the_end() -> None:
    output = blog.render_text("Text.\n\n```derive\nf = x\n")
    assert output.startswith("Text.\n\n$$\n") and output.endswith("$$\n")


@pytest.mark.usefixtures("fake_engine")
def test_errors_are_located_in_the_post() -> None:
    post = "---\na: 1\n---\n\n- item\n\n  ```derive\n  ok\n  BAD\n  ```\n\n```derive lang=fr\nx\n```\n"
    with pytest.raises(blog.RenderError) as info:
        blog.render_text(post, path="post.md")
    first, second = info.value.failures
    assert str(first) == "post.md:9:3: fake error here"
    assert (second.line, second.column) == (12, len("```derive ") + 1) and "lang" in second.message


@pytest.mark.usefixtures("fake_engine")
def test_html_page(tmp_path: Path) -> None:
    page = blog.render_html(JEKYLL_POST, "post.md")
    assert page.startswith("<!DOCTYPE html>") and "<title>Gradients</title>" in page
    assert 'id="MathJax-script"' in page and page.count('<div class="arithmatex">') == 1
    assert "an example" in page and "indented code, not a block" in page
    assert "mdderiv-anchor" not in page


@pytest.mark.usefixtures("fake_engine")
def test_watch_renders_changed_files(tmp_path: Path) -> None:
    drafts, out = tmp_path / "drafts", tmp_path / "out"
    drafts.mkdir()
    (drafts / "a.md").write_text("```derive\nf = one\n```\n")
    (drafts / "b.md").write_text("no blocks\n")
    messages: list[str] = []
    thread = threading.Thread(target=blog.watch, args=(drafts, out),
                              kwargs={"interval": 0.05, "max_cycles": 60, "report": messages.append})
    thread.start()
    try:
        deadline = time.time() + 10
        while not (out / "a.md").exists() and time.time() < deadline:
            time.sleep(0.05)
        assert "f = one" in (out / "a.md").read_text()
        assert (out / "b.md").read_text() == "no blocks\n"
        time.sleep(0.05)
        (drafts / "a.md").write_text("```derive\nf = two\n```\n")
        while "f = two" not in (out / "a.md").read_text() and time.time() < deadline:
            time.sleep(0.05)
        assert "f = two" in (out / "a.md").read_text()
        (drafts / "a.md").write_text("```derive\nBAD\n```\n")
        while not any("fake error" in m for m in messages) and time.time() < deadline:
            time.sleep(0.05)
        assert any(re.search(r"a\.md:2:1: fake error here", m) for m in messages)
        assert "f = two" in (out / "a.md").read_text()  # the last good output stays
    finally:
        thread.join(timeout=30)


# -- the command line with the real engine ------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("flavor", ["hexo", "jekyll"])
def test_render_cli_real_engine(tmp_path: Path, flavor: str) -> None:
    post = tmp_path / "post.md"
    post.write_bytes(HEXO_POST.encode("utf-8"))
    out = tmp_path / "out" / "post.md"
    result = run("-m", "mdderiv", "render", str(post), "-o", str(out), "--flavor", flavor)
    assert result.returncode == 0, result.stderr.decode()
    output = out.read_bytes().decode("utf-8")
    replaced = assert_only_blocks_changed(HEXO_POST, output)
    assert len(replaced) == 2
    for part in replaced:
        assert "\\begin{aligned}" in part or "\\frac" in part or "\\partial" in part
        math = part.replace("{% raw %}", "").replace("{% endraw %}", "")
        assert not any(opener in math for opener in ("{{", "{%", "{#"))
    assert output.startswith("---\r\ntitle: 矩阵求导 {{ page.title }}\r\n")


@pytest.mark.slow
def test_render_cli_stdout_is_byte_exact(tmp_path: Path) -> None:
    post = tmp_path / "post.md"
    post.write_bytes(JEKYLL_POST.encode("utf-8"))
    result = run("-m", "mdderiv", "render", str(post), "--flavor", "jekyll")
    assert result.returncode == 0, result.stderr.decode()
    assert_only_blocks_changed(JEKYLL_POST, result.stdout.decode("utf-8"))


@pytest.mark.slow
def test_render_cli_bad_block_writes_nothing(tmp_path: Path) -> None:
    post_text = "---\ntitle: x\n---\n\nIntro.\n\n```derive\n" + BAD + "\n```\n"
    fence_line = post_text.split("\n").index("```derive") + 1
    post = tmp_path / "post.md"
    post.write_text(post_text, encoding="utf-8")
    out = tmp_path / "out.md"
    result = run("-m", "mdderiv", "render", str(post), "-o", str(out))
    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert re.search(rf"{re.escape(str(post))}:{fence_line + BAD_LINE}:\d+: \S", stderr), stderr
    assert "Traceback" not in stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [post]
    # an existing output is left as it was
    out.write_text("previous")
    assert run("-m", "mdderiv", "render", str(post), "-o", str(out)).returncode == 1
    assert out.read_text() == "previous"


@pytest.mark.slow
def test_render_cli_html_and_watch(tmp_path: Path) -> None:
    post = tmp_path / "drafts" / "post.md"
    post.parent.mkdir()
    post.write_text(JEKYLL_POST, encoding="utf-8")
    html = tmp_path / "post.html"
    result = run("-m", "mdderiv", "render", str(post), "--html", "-o", str(html))
    assert result.returncode == 0, result.stderr.decode()
    assert '<div class="arithmatex">' in html.read_text(encoding="utf-8")
    result = run("-m", "mdderiv", "render", "--watch", str(post.parent), "-o", str(tmp_path / "out"),
                 "--max-cycles", "1")
    assert result.returncode == 0, result.stderr.decode()
    assert (tmp_path / "out" / "post.md").exists()
