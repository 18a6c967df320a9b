"""The ``derive`` fence in Python-Markdown (SuperFences custom fence)."""

from __future__ import annotations

import logging
import re
import textwrap
from typing import Any

import markdown
import pytest
from pymdownx.superfences import SuperFencesCodeExtension
from support import BAD, BAD_LINE, GOOD, GOOD2, fake_derive

import mdderiv
from mdderiv.markdown.fence import MdderivExtension, custom_fence

# a derivation in a page: its outermost element holds no other <div> (render.html)
MATH = re.compile(r'<div class="mdderiv-derivation"[^>]*>.*?</div>', re.DOTALL)


def make_md(*extensions: Any, **config: Any) -> markdown.Markdown:
    configs = {"mdderiv": {"filename": "page.md", **config}}
    return markdown.Markdown(extensions=list(extensions) or ["mdderiv"], extension_configs=configs)


@pytest.fixture
def md() -> markdown.Markdown:
    return make_md("mdderiv", "pymdownx.superfences", "admonition", "pymdownx.details", "pymdownx.tabbed", "toc")


def fence(body: str, info: str = "", indent: str = "") -> str:
    text = f"```derive{info}\n{body}\n```"
    return textwrap.indent(text, indent, lambda line: True)


class Spy:
    """The fake engine, counting the bodies it was asked to derive."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    def __call__(self, body: str, defaults: Any = None, **options: Any) -> Any:
        self.bodies.append(body)
        return fake_derive(body, defaults, **options)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Spy:
    spy = Spy()
    monkeypatch.setattr(mdderiv, "derive", spy)
    return spy


# -- with the real engine ------------------------------------------------------------------


def test_block_becomes_the_page_layout_with_escaped_math(md: markdown.Markdown) -> None:
    out = md.convert("# Title\n\n" + fence(GOOD) + "\n\nAfter.\n")
    found = MATH.findall(out)
    assert len(found) == 1
    assert found[0] == mdderiv.derive(GOOD).html()
    assert found[0].count('class="mdderiv-step') >= 3 and "\\begin{aligned}" not in found[0]
    assert re.search(r"&(?!amp;|lt;|gt;|#x27;|quot;)", found[0]) is None
    assert '<h1 id="title">Title</h1>' in out and "<p>After.</p>" in out
    assert md.mdderiv_failures == []


@pytest.mark.parametrize("info", [" layout=numerator check=false", ' layout="numerator" check="false"',
                                  " layout='numerator' check=false", " {layout=numerator check=false}"])
def test_info_line_options_quoted_or_not(md: markdown.Markdown, info: str) -> None:
    out = md.convert(fence(GOOD, info))
    expected = mdderiv.derive(GOOD, layout="numerator", check=False).html()
    assert MATH.findall(out) == [expected] and "numerator layout" in expected


def test_bad_block_shows_an_error_box_and_keeps_the_page(md: markdown.Markdown,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    source = "# Title\n\nIntro.\n\n" + fence(BAD) + "\n\nAfter.\n\n" + fence(GOOD2) + "\n"
    fence_line = 5
    with caplog.at_level(logging.WARNING, logger="mdderiv"):
        out = md.convert(source)
    assert 'class="mdderiv-error admonition failure"' in out
    match = re.search(r"page\.md:(\d+):(\d+): ([^<]+)", out)
    assert match and int(match.group(1)) == fence_line + BAD_LINE
    assert [f.line for f in md.mdderiv_failures] == [fence_line + BAD_LINE]
    assert any(f"page.md:{fence_line + BAD_LINE}:" in r.getMessage() for r in caplog.records)
    # everything else intact: text around, and the next block still derived
    assert "<p>Intro.</p>" in out and "<p>After.</p>" in out
    assert len(MATH.findall(out)) == 1


def test_bad_option_is_reported_on_the_fence_line(md: markdown.Markdown) -> None:
    out = md.convert("text\n\n```derive layuot=numerator\n" + GOOD + "\n```\n")
    [failure] = md.mdderiv_failures
    assert (failure.line, failure.column) == (3, len("```derive ") + 1)
    assert "layuot" in failure.message and "mdderiv-error" in out


# -- where fences are and are not blocks (stand-in engine) ------------------------------------


def test_fences_in_containers_are_blocks(md: markdown.Markdown, spy: Spy) -> None:
    source = "\n".join([
        "- item", "", fence("f = inlist", indent="    "), "",
        "> quote", ">", fence("f = inquote", indent="> "), "",
        '!!! note "Admonition"', "", fence("f = inadmonition", indent="    "), "",
        '=== "Tab A"', "", fence("f = intab", indent="    "), "",
        '=== "Tab B"', "", "    other", "",
        '??? note "Details"', "", fence("f = indetails", indent="    "), "",
    ])
    out = md.convert(source)
    assert sorted(spy.bodies) == sorted(
        ["f = inlist", "f = inquote", "f = inadmonition", "f = intab", "f = indetails"])
    assert re.search(r"<li>.*f = inlist.*</li>", out, re.DOTALL)
    assert re.search(r"<blockquote>.*f = inquote.*</blockquote>", out, re.DOTALL)
    assert re.search(r'<div class="admonition note">.*f = inadmonition', out, re.DOTALL)
    assert re.search(r'<div class="tabbed-(?:content|block)">.*f = intab', out, re.DOTALL)
    assert re.search(r"<details class=\"note\">.*f = indetails.*</details>", out, re.DOTALL)
    assert len(MATH.findall(out)) == 5


def test_fence_in_indented_code_stays_code(md: markdown.Markdown, spy: Spy) -> None:
    source = "Paragraph.\n\n" + fence("BAD = 1", indent="    ") + "\n\nEnd.\n"
    out = md.convert(source)
    assert spy.bodies == [] and md.mdderiv_failures == []
    assert "<pre><code>```derive\nBAD = 1\n```" in out
    assert "arithmatex" not in out


def test_example_in_a_longer_fence_stays_an_example(md: markdown.Markdown, spy: Spy) -> None:
    source = "````markdown\n" + fence("BAD = 1") + "\n````\n\n" + fence("f = real") + "\n"
    out = md.convert(source)
    assert spy.bodies == ["f = real"]
    code = re.sub(r"<[^>]+>", "", out)  # highlighted spans aside, the example reads as written
    assert "```derive\nBAD = 1\n```" in code and len(MATH.findall(out)) == 1
    assert md.mdderiv_failures == []


def test_fence_in_an_html_comment_is_left_alone(md: markdown.Markdown, spy: Spy) -> None:
    out = md.convert("<!--\n" + fence("BAD = 1") + "\n-->\n\nText.\n")
    assert spy.bodies == [] and md.mdderiv_failures == []
    assert "<!--" in out and "arithmatex" not in out and "<p>Text.</p>" in out


def test_other_languages_are_untouched(md: markdown.Markdown, spy: Spy) -> None:
    out = md.convert("```python\nx = 1\n```\n\n```derivex\ny\n```\n")
    assert spy.bodies == [] and "arithmatex" not in out


@pytest.mark.parametrize("order", [
    ["mdderiv", "pymdownx.superfences"],
    ["pymdownx.superfences", "mdderiv"],
    ["mdderiv"],
    ["toc", "mdderiv", "tables"],
])
def test_extension_order_does_not_matter(order: list[str], spy: Spy) -> None:
    md = make_md(*order)
    out = md.convert("# H\n\n" + fence("f = one", " layout=numerator") + "\n")
    assert spy.bodies == ["f = one"] and len(MATH.findall(out)) == 1


@pytest.mark.parametrize("mdderiv_first", [True, False])
def test_users_own_custom_fences_keep_working(mdderiv_first: bool, spy: Spy) -> None:
    custom = {"custom_fences": [{"name": "mermaid", "class": "mermaid",
                                 "format": lambda src, *a, **k: f'<pre class="mermaid">{src}</pre>'}]}
    names = ["mdderiv", "pymdownx.superfences"] if mdderiv_first else ["pymdownx.superfences", "mdderiv"]
    md = markdown.Markdown(extensions=names, extension_configs={"pymdownx.superfences": custom})
    out = md.convert("```mermaid\ngraph TD\n```\n\n" + fence("f = two") + "\n")
    assert '<pre class="mermaid">graph TD</pre>' in out
    assert spy.bodies == ["f = two"]


def test_html_is_escaped_in_the_math(md: markdown.Markdown, spy: Spy) -> None:
    out = md.convert(fence("f = a<b & c>d"))
    [math] = MATH.findall(out)
    assert "a&lt;b &amp; c&gt;d" in math and "<b" not in math


def test_error_positions_in_lists_and_with_line_offset(spy: Spy) -> None:
    md = make_md("mdderiv", line_offset=4)
    source = "- item\n\n    ```derive\n    ok\n      BAD\n    ```\n"
    out = md.convert(source)
    [failure] = md.mdderiv_failures
    # body line 2 of the fence on line 3, +4 front-matter lines; column after the indent
    assert (failure.line, failure.column) == (3 + 2 + 4, 4 + 3)
    assert "page.md:9:7: fake error here" in out


def test_failures_reset_between_conversions(md: markdown.Markdown, spy: Spy) -> None:
    md.convert(fence("BAD"))
    assert len(md.mdderiv_failures) == 1
    md.reset()
    md.convert(fence("fine"))
    assert md.mdderiv_failures == []


def test_extension_config_sets_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    def record(body: str, defaults: Any = None, **options: Any) -> Any:
        seen.append(defaults)
        return fake_derive(body, defaults, **options)

    monkeypatch.setattr(mdderiv, "derive", record)
    md = markdown.Markdown(extensions=[MdderivExtension(layout="numerator", lang="zh", check=False)])
    md.convert(fence("f = x", " check=true"))
    assert (seen[0].layout, seen[0].lang, seen[0].check) == ("numerator", "zh", True)


def test_cache_derives_each_block_once(spy: Spy) -> None:
    md = make_md("mdderiv")
    md.convert(fence("f = same") + "\n\n" + fence("f = same") + "\n")
    md.reset()
    md.convert(fence("f = same") + "\n")
    assert spy.bodies == ["f = same"]
    md2 = make_md("mdderiv", cache=False)
    md2.convert(fence("f = same"))
    assert spy.bodies == ["f = same", "f = same"]


def test_the_fence_is_a_documented_custom_fences_entry(spy: Spy) -> None:
    # SuperFences alone, configured by hand as the docs show: no mdderiv extension
    config = {"pymdownx.superfences": {"custom_fences": [custom_fence()]}}
    md = markdown.Markdown(extensions=["pymdownx.superfences"], extension_configs=config)
    out = md.convert("Text.\n\n" + fence("f = byhand", ' layout="numerator"') + "\n")
    assert spy.bodies == ["f = byhand"] and len(MATH.findall(out)) == 1


@pytest.mark.parametrize("order", [["mdderiv", "pymdownx.superfences"], ["pymdownx.superfences", "mdderiv"]])
def test_superfences_is_configured_not_patched(order: list[str], spy: Spy) -> None:
    md = make_md(*order)
    md.convert(fence("f = one"))
    processor = md.preprocessors["fenced_code_block"]
    patched = {"parse_options", "handle_attrs", "handle_unrecognized", "process_nested_block", "run"}
    assert patched.isdisjoint(vars(processor))  # no method replaced on the instance
    [*_, active] = [ext for ext in md.registeredExtensions if isinstance(ext, SuperFencesCodeExtension)]
    assert any(entry["name"] == "derive" for entry in active.getConfigs()["custom_fences"])


def test_error_position_in_a_block_quote(spy: Spy) -> None:
    md = make_md("mdderiv")
    md.convert("Text.\n\n> quote\n>\n> ```derive\n> ok\n>   BAD\n> ```\n")
    [failure] = md.mdderiv_failures
    assert (failure.line, failure.column) == (7, 2 + 3)


def test_odd_lines_starting_with_backticks_stay_text(md: markdown.Markdown, spy: Spy) -> None:
    # inline code at the start of a line (as in the docs) is no fence: only derive headers are read leniently
    source = "```` ```{derive} layout=numerator ````) is inline.\n\n## Next\n\n" + fence("f = after", " layout=numerator") + "\n"
    out = md.convert(source)
    assert '<h2 id="next">Next</h2>' in out and spy.bodies == ["f = after"]


def test_braced_options_without_a_space(md: markdown.Markdown) -> None:
    # the grammar the blog reader and derive() accept: one grammar everywhere
    out = md.convert(fence(GOOD, "{layout=numerator check=false}"))
    expected = mdderiv.derive(GOOD, layout="numerator", check=False).html()
    assert MATH.findall(out) == [expected] and "numerator layout" in expected


def test_arithmatex_added_for_the_authors_math_is_left_out_of_pages_without_math() -> None:
    """The MkDocs plugin's own Arithmatex (``optional_arithmatex``) costs nothing on a
    page without math, changes nothing there, and is back for a page with math even
    when a Markdown instance is reused."""
    from mdderiv.markdown.fence import FenceContext

    def converter(optional: bool) -> markdown.Markdown:
        context = FenceContext(optional_arithmatex=optional)
        return markdown.Markdown(
            extensions=[MdderivExtension(context=context), "pymdownx.arithmatex"],
            extension_configs={"pymdownx.arithmatex": {"generic": True}},
        )

    no_math = "# Page\n\nBrackets [a] (b) {c}, an escape \\*, a backslash \\ alone.\n\n    code\n"
    md = converter(optional=True)
    assert md.convert(no_math) == converter(optional=False).convert(no_math)
    assert "arithmatex-inline" not in md.inlinePatterns and "arithmatex-block" not in md.parser.blockprocessors

    md.reset()  # the same instance, a page with math: Arithmatex is back
    assert '<span class="arithmatex">\\(x^2\\)</span>' in md.convert("Math $x^2$ here.\n")
    assert "arithmatex-inline" in md.inlinePatterns


def test_spliced_replaces_and_inserts_in_one_copy() -> None:
    from mdderiv.markdown.fence import spliced

    text = "head <X> middle <Y> tail"
    edits = [(0, 0, "[start]"), (5, 8, "x"), (16, 19, "why"), (len(text), len(text), "[end]")]
    assert spliced(text, edits) == "[start]head x middle why tail[end]"
    assert spliced(text, []) == text
