"""The parse stage's brace check and top-level split, and what is remembered per text."""

from __future__ import annotations

import pytest

from mdderiv.errors import DeriveError
from mdderiv.pipeline import clear_memos
from mdderiv.parse import parse_problem
from mdderiv.syntax import block, tokens
from mdderiv.syntax.declarations import SEPARATORS
from mdderiv.syntax.nodes import Source

WRT_SEPARATORS = (",", ";", "\\,", "\\;", "\\quad", "\\ ")


def _outcome(fn, *args):
    try:
        result = fn(*args)
    except DeriveError as exc:
        return ("error", exc.message, exc.line, exc.column)
    if isinstance(result, list):
        return [(part.text, part.line, part.column) for part in result]
    return result


def test_check_braces_finds_the_brace_without_a_partner():
    def check(text):
        return _outcome(tokens.check_braces, Source(text, 2, 7))

    assert check("\\frac{a}{b^{2}}") is None
    assert check("\\{ x \\} + \\\\ {y}") is None  # escaped braces are not braces
    assert check("{x} % } a comment") is None
    assert check("a}b")[:2] == ("error", "unbalanced '}': there is no '{' before it")
    assert check("a}b")[3] == 7 + 1 + 1
    assert check("{a{b}")[:2] == ("error", "unbalanced '{': it is never closed with '}'")
    assert check("{a{b}")[3] == 7 + 0 + 1  # the brace left open


@pytest.mark.parametrize("depth", [99, 100, 101])
def test_check_braces_depth_limit(depth):
    for text in ("{" * depth + "}" * depth, "x{" * depth + "}" * depth):
        outcome = _outcome(tokens.check_braces, Source(text, 1, 0))
        if depth <= tokens.MAX_DEPTH:
            assert outcome is None
        else:
            assert outcome[0] == "error" and "nested too deeply" in outcome[1]


def test_split_top_level_splits_outside_braces_only():
    def split(text, separators=SEPARATORS):
        return _outcome(block.split_top_level, Source(text, 2, 7), separators)

    assert split("X \\in \\mathbb{R}^{m, n},\\ y \\in \\mathbb{R}^{m}\\quad c") == [
        ("X \\in \\mathbb{R}^{m, n}", 2, 7),
        ("y \\in \\mathbb{R}^{m}", 2, 7 + 26),
        ("c", 2, 7 + 52),
    ]
    assert split("a \\quadx, b") == [("a \\quadx", 2, 7), ("b", 2, 7 + 10)]  # \\quadx is not \\quad
    assert split("\\{a, b\\}") == [("\\{a", 2, 7), ("b\\}", 2, 7 + 5)]  # escaped braces do not nest
    assert split("x; y", WRT_SEPARATORS) == [("x", 2, 7), ("y", 2, 7 + 3)]
    assert split(" , ") == []


def test_remembered_set_keeps_errors_and_properties_apart():
    clear_memos()
    body = "given: A \\in \\mathbb{S}_{++}^{n}, B \\in \\mathbb{S}_{++}^{n}\nf = \\operatorname{tr}(A B)\nwrt: A"
    first = parse_problem(body)
    again = parse_problem(body)
    assert first.symbols["A"].props == again.symbols["A"].props == first.symbols["B"].props
    bad = "\\mathbb{R}^{0}"
    for line in ("given: x \\in " + bad, "given: yy \\in " + bad):
        with pytest.raises(DeriveError) as caught:
            parse_problem(line + "\nf = x\nwrt: x")
        assert caught.value.line == 1
        assert caught.value.column == len(line) - len(bad)  # where the set starts (after \\in)


# Pieces that make the brace check and the split take their careful paths: escapes,
# comments, separator macros and macros that only start like one.
_PIECES = ("{", "}", "\\{", "\\}", "\\\\", "%", "\\%", "\\quad", "\\qquad", "\\quadx", "\\enspace",
           "\\,", "\\ ", "\\;", ",", ";", "a", " ", "\\mathbb", "\\", "^")


def _texts(count: int = 3000):
    import random

    rng = random.Random(20261206)
    for _ in range(count):
        yield "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 14)))


def test_brace_check_quick_look_agrees_with_the_walk(monkeypatch):
    """Where every brace is one, the quick look answers; its answer is the walk's."""
    texts = list(_texts())
    quick = [_outcome(tokens.check_braces, Source(text, 1, 0)) for text in texts]
    monkeypatch.setattr(tokens, "_balanced_braces", lambda text: False)
    walked = [_outcome(tokens.check_braces, Source(text, 1, 0)) for text in texts]
    assert quick == walked
    assert sum(outcome is None for outcome in walked) > 300  # balanced texts were among them


def test_split_looks_only_at_separators_braces_and_escapes(monkeypatch):
    """The split skips macros that are no separator; where it splits is where a
    look at every macro splits."""
    import re

    texts = list(_texts())
    for separators in (SEPARATORS, WRT_SEPARATORS):
        quick = [_outcome(block.split_top_level, Source(text, 1, 0), separators) for text in texts]
        singles = "".join(re.escape(s) for s in separators if len(s) == 1)
        every_macro = re.compile(r"\\(?:[A-Za-z]+|.)?|[{}" + singles + "]")
        with monkeypatch.context() as patched:
            patched.setattr(block, "_split_marks", lambda _separators, pattern=every_macro: pattern)
            patched.setattr(block, "_every_brace_counts", lambda text: False)
            careful = [_outcome(block.split_top_level, Source(text, 1, 0), separators) for text in texts]
        assert quick == careful


def test_split_counting_braces_agrees_with_the_walk_brace_by_brace(monkeypatch):
    """Where no brace is escaped, the depth at a separator is counted with
    str.count instead of stopping at every brace; where it splits is the same
    (stray closing braces before a group included)."""
    texts = list(_texts()) + ["a}, {b, c}, d", "}{a, b}, c", "x}}, {{y}, z}, w", "{a}, b}, c, {d"]
    counted = [text for text in texts if block._every_brace_counts(text)]
    assert len(counted) > 500 and any("}" in text and "," in text for text in counted)
    for separators in (SEPARATORS, WRT_SEPARATORS):
        quick = [_outcome(block.split_top_level, Source(text, 1, 3), separators) for text in texts]
        with monkeypatch.context() as patched:
            patched.setattr(block, "_every_brace_counts", lambda text: False)
            walked = [_outcome(block.split_top_level, Source(text, 1, 3), separators) for text in texts]
        assert quick == walked
    # the stray } leaves the depth at -1: only the comma inside the group is at depth 0
    assert [part.text for part in block.split_top_level(Source("a}, {b, c}, d", 1, 0), (",",))] == [
        "a}, {b",
        "c}, d",
    ]


def _balanced_by_depth(text):
    """The brace check's answer counted brace by brace (the reference)."""
    depth = 0
    for c in text:
        if c in "{}":
            depth += 1 if c == "{" else -1
            if depth < 0 or depth > tokens.MAX_DEPTH:
                return False
    return depth == 0


def test_balanced_braces_takes_pairs_away_as_a_depth_count_would_answer():
    import random

    rng = random.Random(12)
    texts = ["", "x", "{}", "}{", "{{}}{}", "{}}{", "a{b{c}d}e", "{" * 100 + "}" * 100, "{" * 101 + "}" * 101]
    texts += ["{}" * 50 + "{" * 100 + "}" * 100, "{" * 60 + "}" * 60 + "{" * 100 + "}" * 100 + "}"]
    for _ in range(3000):
        texts.append("".join(rng.choice("{}{}x ") for _ in range(rng.randint(0, 24))))
    for _ in range(500):  # other scripts (several bytes in UTF-8, none a brace's), a lone surrogate
        texts.append("".join(rng.choice(["{", "}", "ℝ", "é", "\u00fb", "\ud800", "\U0001d53c", "x"]) for _ in range(16)))
    for _ in range(200):  # deep and nearly balanced
        depth = rng.randint(95, 105)
        text = "{" * depth + "a" + "}" * depth
        texts.append(text if rng.random() < 0.5 else text[: rng.randint(0, len(text))])
    assert [tokens._balanced_braces(t) for t in texts] == [_balanced_by_depth(t) for t in texts]
    assert sum(map(_balanced_by_depth, texts)) > 300  # balanced texts were among them
