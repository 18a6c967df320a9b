"""The MkDocs plugin, with real ``mkdocs build`` runs on sites made in a temp dir."""

from __future__ import annotations

import filecmp
import re
import textwrap
from pathlib import Path

import pytest
from support import BAD, BAD_LINE, GOOD, GOOD2, run

pytestmark = pytest.mark.slow

# a derivation in a page: its outermost element holds no other <div> (render.html)
MATH = re.compile(r'<div class="mdderiv-derivation"[^>]*>.*?</div>', re.DOTALL)
# the author's own display math (Arithmatex, generic mode)
AUTHOR_MATH = re.compile(r'<div class="arithmatex">\\\[\n(.*?)\n\\\]</div>', re.DOTALL)
FRONT = "---\ntitle: A page\ntags: [x]\n---\n\n"  # 4 lines MkDocs strips, then a blank one


def fence(body: str, info: str = "", indent: str = "") -> str:
    return textwrap.indent(f"```derive{info}\n{body}\n```", indent, lambda line: True)


def make_site(root: Path, config: str, pages: dict[str, str]) -> Path:
    (root / "mkdocs.yml").write_text(textwrap.dedent(config), encoding="utf-8")
    for name, text in pages.items():
        path = root / "docs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def build(root: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = run("-m", "mkdocs", "build", *args, cwd=root, env=env)
    return result.returncode, result.stderr.decode() + result.stdout.decode()


def page(root: Path, name: str, site: str = "site") -> str:
    return (root / site / name).read_text(encoding="utf-8")


DEFAULT_SITE = """\
    site_name: Test
    plugins: [mdderiv]
"""


def test_default_theme_with_only_the_plugin(tmp_path: Path) -> None:
    index = "# Home\n\nAuthor math $a^2 + b^2$ renders.\n\n$$\n\\frac{a}{b}\n$$\n\n" + fence(GOOD) + "\n\nAfter.\n"
    root = make_site(tmp_path, DEFAULT_SITE, {"index.md": index, "sub/deep.md": "# Deep\n\n" + fence(GOOD2) + "\n"})
    status, log = build(root, "--strict")
    assert status == 0, log
    html = page(root, "index.html")
    assert len(MATH.findall(html)) == 1 and len(AUTHOR_MATH.findall(html)) == 1  # the derivation, the author's display math
    # the author's own math, wrapped for the MathJax the plugin adds
    assert 'Author math <span class="arithmatex">\\(a^2 + b^2\\)</span> renders.' in html
    assert '<div class="arithmatex">\\[\n\\frac{a}{b}\n\\]</div>' in html
    assert '<script id="MathJax-script" async src="https://cdn.jsdelivr.net/npm/mathjax@3' in html
    assert 'processHtmlClass: "arithmatex"' in html
    assert "paths: {fonts" not in html  # MathJax from a CDN finds its fonts there
    assert len(MATH.findall(page(root, "sub/deep/index.html"))) == 1
    assert "block(s) derived" in log


MATERIAL_SITE = """\
    site_name: Material
    theme:
      name: material
    plugins:
      - search
      - mdderiv:
          layout: numerator
          cache: false
    markdown_extensions:
      - admonition
      - pymdownx.details
      - pymdownx.tabbed:
          alternate_style: true
      - pymdownx.superfences
      - pymdownx.arithmatex:
          generic: true
    extra_javascript:
      - javascripts/mathjax.js
      - https://unpkg.com/mathjax@3/es5/tex-mml-chtml.js
"""


def test_material_with_admonitions_tabs_details_and_arithmatex(tmp_path: Path) -> None:
    index = "\n".join([
        "# Material", "", "Author math:", "", "$$", "a^2 + b^2", "$$", "",
        '!!! note "In an admonition"', "", fence(GOOD, indent="    "), "",
        '=== "Tab"', "", fence(GOOD2, indent="    "), "",
        '=== "Other"', "", "    Plain.", "",
        '??? tip "Details"', "", fence(GOOD, " layout=denominator", indent="    "), "",
    ])
    root = make_site(tmp_path, MATERIAL_SITE, {"index.md": index, "javascripts/mathjax.js": "// config\n"})
    status, log = build(root, "--strict")
    assert status == 0, log
    html = page(root, "index.html")
    found = MATH.findall(html)
    assert len(found) == 3  # three derivations, and the author's block (arithmatex)
    assert AUTHOR_MATH.findall(html) == ["a^2 + b^2"]
    assert re.search(r'class="admonition note".*?mdderiv-derivation', html, re.DOTALL)
    assert re.search(r'class="tabbed-block".*?mdderiv-derivation', html, re.DOTALL)
    assert re.search(r"<details class=\"tip\">.*?mdderiv-derivation.*?</details>", html, re.DOTALL)
    # the site loads MathJax itself: the plugin adds nothing
    assert "MathJax-script" not in html
    # site-wide layout: numerator, overridden by the info line of the last block
    assert "numerator layout" in found[0] and "denominator layout" in found[2]


def test_strict_build_fails_with_page_line_counting_front_matter(tmp_path: Path) -> None:
    text = FRONT + "# Page\n\nIntro.\n\n" + fence(BAD) + "\n"
    fence_line = text.splitlines().index("```derive") + 1
    root = make_site(tmp_path, DEFAULT_SITE, {"index.md": "# Home\n", "page.md": text})
    status, log = build(root, "--strict")
    assert status != 0
    assert re.search(rf"WARNING\s+-\s+docs/page\.md:{fence_line + BAD_LINE}:\d+: \S", log), log
    assert "Traceback" not in log


def test_non_strict_build_shows_the_error_box_and_keeps_the_rest(tmp_path: Path) -> None:
    text = FRONT + "# Page\n\nIntro.\n\n" + fence(BAD) + "\n\nAfter the error.\n\n" + fence(GOOD) + "\n"
    fence_line = text.splitlines().index("```derive") + 1
    root = make_site(tmp_path, DEFAULT_SITE, {"index.md": "# Home\n", "page.md": text})
    status, log = build(root)
    assert status == 0, log
    html = page(root, "page/index.html")
    assert 'class="mdderiv-error admonition failure"' in html
    assert f"docs/page.md:{fence_line + BAD_LINE}:" in html
    assert "<p>Intro.</p>" in html and "<p>After the error.</p>" in html
    assert len(MATH.findall(html)) == 1


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    pages = {"index.md": "# Home\n\n" + fence(GOOD) + "\n", "two.md": FRONT + fence(GOOD2, " lang=zh") + "\n"}
    root = make_site(tmp_path, DEFAULT_SITE, pages)
    # MkDocs stamps the build time into pages unless told the time, as reproducible builds do
    fixed = {"SOURCE_DATE_EPOCH": "1700000000"}
    assert build(root, "-d", "site1", env=fixed)[0] == 0
    assert build(root, "-d", "site2", env=fixed)[0] == 0
    comparison = filecmp.dircmp(root / "site1", root / "site2")

    def differences(cmp: filecmp.dircmp[str]) -> list[str]:
        found = list(cmp.diff_files) + list(cmp.left_only) + list(cmp.right_only)
        for sub in cmp.subdirs.values():
            found += differences(sub)
        return found

    assert differences(comparison) == []


def test_second_build_takes_every_block_from_the_cache(tmp_path: Path) -> None:
    pages = {"index.md": fence(GOOD) + "\n\n" + fence(GOOD2) + "\n", "bad.md": fence(BAD) + "\n"}
    root = make_site(tmp_path, DEFAULT_SITE, pages)
    first = build(root)[1]
    assert re.search(r"mdderiv: 3 block\(s\) derived, 0 from cache, 1 failed", first), first
    second = build(root)[1]  # a new process: the disk cache answers
    assert re.search(r"mdderiv: 0 block\(s\) derived, 3 from cache, 1 failed", second), second
    assert "docs/bad.md:" in second  # errors from the cache are still reported


def test_cache_in_memory_across_builds_in_one_process(tmp_path: Path) -> None:
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    config = """\
        site_name: Test
        plugins:
          - mdderiv:
              cache_dir: ""
    """
    root = make_site(tmp_path, config, {"index.md": fence(GOOD) + "\n", "two.md": fence(GOOD2) + "\n"})
    counts = []
    for _ in range(2):
        cfg = load_config(str(root / "mkdocs.yml"))
        mkdocs_build(cfg)
        plugin = cfg.plugins["mdderiv"]
        counts.append((plugin.derived, plugin.cached))
    assert counts == [(2, 0), (0, 2)]
    assert not (root / ".mdderiv-cache").exists()


def test_cache_false_derives_every_time(tmp_path: Path) -> None:
    config = "site_name: T\nplugins:\n  - mdderiv:\n      cache: false\n"
    root = make_site(tmp_path, config, {"index.md": fence(GOOD) + "\n"})
    for _ in range(2):
        log = build(root)[1]
        assert "mdderiv: 1 block(s) derived, 0 from cache" in log


def test_local_mathjax_url_is_relative_to_each_page(tmp_path: Path) -> None:
    config = "site_name: T\nplugins:\n  - mdderiv:\n      mathjax_url: js/tex-mml-chtml.js\n"
    pages = {"index.md": fence(GOOD) + "\n", "a/b.md": fence(GOOD) + "\n", "plain.md": "# No math\n"}
    root = make_site(tmp_path, config, pages)
    assert build(root)[0] == 0
    assert 'src="js/tex-mml-chtml.js"' in page(root, "index.html")
    assert 'src="../../js/tex-mml-chtml.js"' in page(root, "a/b/index.html")
    assert "MathJax-script" not in page(root, "plain/index.html")
    # a copy of MathJax 4 finds its fonts beside it (npm's layout), not on jsDelivr
    assert 'loader: {paths: {fonts: "[mathjax]/../@mathjax"}}' in page(root, "a/b/index.html")


def test_stylesheet_is_one_file_every_page_links(tmp_path: Path) -> None:
    from mdderiv.markdown.fence import stylesheet
    from mdderiv.markdown.plugin import CSS_PATH

    pages = {"index.md": fence(GOOD) + "\n", "a/b.md": fence(BAD) + "\n", "plain.md": "# No math\n"}
    root = make_site(tmp_path, DEFAULT_SITE, pages)
    assert build(root)[0] == 0
    css = page(root, CSS_PATH)
    assert stylesheet() in css and ".mdderiv-error {" in css  # the layout's rules and the error box's
    for name, prefix in (("index.html", ""), ("a/b/index.html", "../../"), ("plain/index.html", "../")):
        html = page(root, name)
        assert f'<link href="{prefix}{CSS_PATH}" rel="stylesheet">' in html, name
        assert "<style" not in html, name  # no copy inlined in the page

    # a file of the site's own at that path replaces it
    make_site(tmp_path, DEFAULT_SITE, {CSS_PATH: "/* mine */\n"})
    assert build(root)[0] == 0
    assert page(root, CSS_PATH) == "/* mine */\n"


def test_mathjax_false_adds_no_script(tmp_path: Path) -> None:
    config = "site_name: T\nplugins:\n  - mdderiv:\n      mathjax: false\n"
    root = make_site(tmp_path, config, {"index.md": "Own math $x^2$ left alone.\n\n" + fence(GOOD) + "\n"})
    assert build(root)[0] == 0
    html = page(root, "index.html")
    assert "MathJax" not in html and len(MATH.findall(html)) == 1
    assert "Own math $x^2$ left alone." in html  # no arithmatex added either


def test_bad_plugin_option_is_a_config_error(tmp_path: Path) -> None:
    config = "site_name: T\nplugins:\n  - mdderiv:\n      layout: sideways\n"
    root = make_site(tmp_path, config, {"index.md": "# x\n"})
    status, log = build(root)
    assert status != 0 and "layout" in log and "Traceback" not in log


def _search_text(root: Path) -> str:
    import json

    index = json.loads(page(root, "search/search_index.json"))
    return "\n".join(doc["text"] for doc in index["docs"])


@pytest.mark.parametrize("theme", ["mkdocs", "material"])
def test_search_indexes_the_block_text_not_the_derivation(tmp_path: Path, theme: str) -> None:
    config = f"site_name: T\ntheme:\n  name: {theme}\nplugins:\n  - search\n  - mdderiv\n"
    root = make_site(tmp_path, config, {"index.md": "# Home\n\nBefore.\n\n" + fence(GOOD) + "\n\nAfter.\n"})
    status, log = build(root, "--strict")
    assert status == 0, log
    text = _search_text(root)
    assert "Before." in text and "After." in text
    assert "wrt:" in text  # the author's block, as written
    assert "\\partial" not in text and "mdderiv" not in text and "underbrace" not in text
    html = page(root, "index.html")
    assert len(MATH.findall(html)) == 1 and "data-mdderiv-search" not in html


@pytest.mark.parametrize(("setting", "block_text", "latex"), [("derivation", False, True), ("none", False, False)])
def test_search_index_setting(tmp_path: Path, setting: str, block_text: bool, latex: bool) -> None:
    config = f"site_name: T\nplugins:\n  - search\n  - mdderiv:\n      search_index: {setting}\n"
    root = make_site(tmp_path, config, {"index.md": "# Home\n\n" + fence(GOOD) + "\n\nAfter.\n"})
    assert build(root, "--strict")[0] == 0
    text = _search_text(root)
    assert "After." in text
    assert ("wrt:" in text) is block_text
    assert ("\\partial" in text) is latex  # the derivation's math
    assert len(MATH.findall(page(root, "index.html"))) == 1


def test_a_page_changed_by_another_plugin_while_search_runs_keeps_both(tmp_path: Path) -> None:
    hook = (
        "def on_page_context(context, page, config, nav):\n"
        "    page.content += '<p>Added by a hook.</p>'\n"
        "    return context\n"
    )
    config = "site_name: T\nplugins:\n  - search\n  - mdderiv\nhooks:\n  - hook.py\n"
    root = make_site(tmp_path, config, {"index.md": fence(GOOD) + "\n\n" + fence(GOOD2) + "\n"})
    (root / "hook.py").write_text(hook, encoding="utf-8")
    status, log = build(root, "--strict")
    assert status == 0, log
    html = page(root, "index.html")
    assert "Added by a hook." in html
    assert len(MATH.findall(html)) == 2 and "data-mdderiv-search" not in html


@pytest.mark.parametrize(
    ("plugins", "kept"),
    [("[mdderiv]", False), ("[search, mdderiv]", True), ("[search, {mdderiv: {search_index: derivation}}]", False)],
)
def test_derivations_are_tracked_for_the_index_only_when_a_search_plugin_needs_it(
    tmp_path: Path, plugins: str, kept: bool
) -> None:
    from mkdocs.config import load_config

    root = make_site(tmp_path, f"site_name: T\nplugins: {plugins}\n", {"index.md": "# x\n"})
    config = load_config(str(root / "mkdocs.yml"))
    config.plugins.on_config(config)
    assert config.plugins["mdderiv"].context.keep_rendered is kept


def test_search_stand_ins_leave_the_authors_math_and_cover_repeated_derivations(tmp_path: Path) -> None:
    """The author's own display math stays in the index; two blocks with the same
    derivation each leave their own text there."""
    config = (
        "site_name: T\nplugins:\n  - search\n  - mdderiv\nmarkdown_extensions:\n"
        "  - pymdownx.arithmatex:\n      generic: true\n"
    )
    first, second = "% first copy\n" + GOOD, "% second copy\n" + GOOD
    text = "# Home\n\n$$\nE = mc^2\n$$\n\n" + fence(first) + "\n\n$$\\alpha$$\n\n" + fence(second) + "\n"
    root = make_site(tmp_path, config, {"index.md": text})
    status, log = build(root, "--strict")
    assert status == 0, log
    html = page(root, "index.html")
    derivations = MATH.findall(html)
    assert len(derivations) == 2 and derivations[0] == derivations[1]
    assert AUTHOR_MATH.findall(html) == ["E = mc^2"]  # the author's own math, untouched
    assert "E = mc^2" in html and "data-mdderiv-search" not in html
    index = _search_text(root)
    assert "E = mc^2" in index and "\\alpha" in index  # the author's math, as before
    assert "first copy" in index and "second copy" in index
    assert "\\partial" not in index


def test_derivations_are_found_in_the_page_in_its_order_as_often_as_they_were_put_in() -> None:
    from mdderiv.markdown.plugin import _occurrences

    first = '<div class="mdderiv-derivation" lang="en">\n<p>one</p>\n</div>'
    second = '<div class="arithmatex">\\[\nx\n\\]</div>'  # display math (an outcome without the layout)
    page = (
        f'<div class="admonition note"><p>a</p>{first}</div>\n'  # inside an admonition
        f"{second}\n<p>text</p>{first}\n{second}\n"  # the second one again: the author's own, once too many
    )
    # put in: `first` twice, `second` once (in whatever order the blocks came)
    found = _occurrences(page, {second: ["s"], first: ["f1", "f2"]})
    assert found == [
        (page.index(first), first),
        (page.index(second), second),
        (page.index(first, page.index(first) + 1), first),
    ]


def test_the_plugin_imports_no_engine_until_a_block_is_derived() -> None:
    """A build whose blocks all come from the disk cache never pays for the
    engine's imports (NumPy, the calculus, the printers)."""
    check = (
        "import sys, mdderiv.markdown.plugin, mdderiv.markdown.fence;"
        "heavy = [m for m in ('numpy', 'mdderiv.render.latex', 'mdderiv.calculus') if m in sys.modules];"
        "assert not heavy, heavy"
    )
    result = run("-c", check)
    assert result.returncode == 0, result.stderr.decode()


# Registered before the build, so it runs after the plugin's own exit hook (atexit is
# last in, first out); the cycle is garbage when the program ends.
_AT_EXIT = """\
import atexit, gc
from mkdocs.commands.build import build
from mkdocs.config import load_config

atexit.register(lambda: print("frozen:", gc.get_freeze_count() > 0, flush=True))
build(load_config("mkdocs.yml"))


class Cycle:
    def __del__(self) -> None:
        print("finalized", flush=True)


garbage = Cycle()
garbage.itself = garbage
del garbage
"""


def test_at_exit_the_garbage_is_finalized_then_the_heap_frozen(tmp_path: Path) -> None:
    root = make_site(tmp_path, DEFAULT_SITE, {"index.md": fence(GOOD) + "\n"})
    result = run("-c", _AT_EXIT, cwd=root)
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert out.splitlines() == ["finalized", "frozen: True"], out
