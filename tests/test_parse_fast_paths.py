"""The parse stage's shortcuts give what the general paths give (errors included)."""

from __future__ import annotations

import itertools

import pytest

from mdderiv.errors import DeriveError
from mdderiv.pipeline import clear_memos
from mdderiv.shapes import parse_problem
from mdderiv.syntax import block, latex
from mdderiv.syntax.declarations import SEPARATORS
from mdderiv.syntax.nodes import Source

WRT_SEPARATORS = (",", ";", "\\,", "\\;", "\\quad", "\\ ")
PIECES = ["{", "}", "\\", "%", ",", ";", ":", " ", "x", "\\quad", "\\quadx", "\\,", "\\:", "\\{", "\\\\"]


def _outcome(fn, *args):
    try:
        result = fn(*args)
    except DeriveError as exc:
        return ("error", exc.message, exc.line, exc.column)
    if isinstance(result, list):
        return [(part.text, part.line, part.column) for part in result]
    return result


def _texts():
    for n in range(4):
        for combo in itertools.product(PIECES, repeat=n):
            yield "".join(combo)
    yield "X \\in \\mathbb{R}^{m \\times n},\\ \\mathbf{y} \\in \\mathbb{R}^{m}\\quad c \\in \\mathbb{R}"


def test_check_braces_matches_its_loop():
    for text in _texts():
        src = Source(text, 2, 7)
        assert _outcome(latex.check_braces, src) == _outcome(latex.check_braces_by_marks, src), text


@pytest.mark.parametrize("depth", [99, 100, 101])
def test_check_braces_depth_limit(depth):
    for text in ("{" * depth + "}" * depth, "x{" * depth + "}" * depth, "{" * depth + "}" * (depth - 1)):
        src = Source(text, 1, 0)
        assert _outcome(latex.check_braces, src) == _outcome(latex.check_braces_by_marks, src)


def test_split_top_level_matches_its_loop():
    for text in _texts():
        src = Source(text, 2, 7)
        for separators in (SEPARATORS, WRT_SEPARATORS):
            got = _outcome(block.split_top_level, src, separators)
            assert got == _outcome(block.split_by_marks, src, separators), text


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
