r"""Where a long right side is cut into math pieces (``render.html``): before its
operators, outermost first; never inside a brace group or a ``\left … \right``
pair; and joined, the pieces are the text again."""

from __future__ import annotations

import re

import pytest

from mdderiv.expr import MatMul, Symbol, transpose
from mdderiv.render.html import (
    _OPERATOR_CUT,
    _OPERATOR_TOKEN_ONLY,
    _STRETCHY,
    _break_candidates,
    _cut,
    _fixed_size,
    _Latex,
    _glyphs,
    _spaces_in_one_stretchy_pair,
    breakable_pieces,
    split_at_operators,
)
from mdderiv.render.latex import render_expr

SIDES = [
    r"\operatorname{tr}(A^{T} B) + \mathbf{x}^{T} C \mathbf{y} - \frac{1}{2} D",
    r"(A B C D E F G H + I J K L M N O P)",
    r"\operatorname{tr}\left((K^{-1} - K^{-1} X K^{-1}) \underbrace{dK}_{q \times q}\right)",
    r"\frac{1}{2}(\sigma(K \mathbf{b}) - \mathbf{s})^{T}(\sigma(K \mathbf{b}) - \mathbf{s})",
    r"\|A X - B\|_F + {x + y \odot z + w + v + u + t} \odot q",
    "x + {y + z + w + v + u + t + s + r}\\",  # a lone last backslash (a user's spelling)
    r"a \odot b \oslash c \otimes d + e - f + g + h + i + j + k",
]


def balanced(piece: str) -> bool:
    """Braces and \\left/\\right pairs close inside the piece (escaped braces aside)."""
    plain = re.sub(r"\\[{}]", "", piece)
    lefts = len(re.findall(r"\\left(?![A-Za-z])", piece))
    rights = len(re.findall(r"\\right(?![A-Za-z])", piece))
    return plain.count("{") == plain.count("}") and lefts == rights


@pytest.mark.parametrize("latex", SIDES)
def test_pieces_join_to_the_text_and_each_is_valid_on_its_own(latex: str) -> None:
    for cut in (split_at_operators, breakable_pieces):
        pieces = cut(latex)
        fixed = re.sub(r"\\(left|right)(?![A-Za-z])", lambda m: r"\bigg" + m.group(1)[0], latex)
        assert "".join(pieces) in (latex, fixed)
        assert all(balanced(piece) for piece in pieces), pieces


def test_cut_before_the_top_level_operators_only_when_the_rest_is_short() -> None:
    assert split_at_operators(SIDES[0]) == [
        r"\operatorname{tr}(A^{T} B)", r" + \mathbf{x}^{T} C \mathbf{y}", r" - \frac{1}{2} D"
    ]
    # one pair of parentheses deeper when a piece is still long
    assert split_at_operators(SIDES[1]) == ["(A B C D E F G H", " + I J K L M N O P)"]
    # a brace group is one unit, whatever operators it holds, even before a lone backslash
    assert split_at_operators(SIDES[5]) == ["x", " + {y + z + w + v + u + t + s + r}\\"]


def test_a_long_stretchy_pair_is_made_fixed_size_to_be_cut() -> None:
    pieces = breakable_pieces(SIDES[2])
    assert len(pieces) == 2 and pieces[0].startswith(r"\operatorname{tr}\biggl(")
    assert pieces[1].endswith(r"\biggr)") and r"\left" not in "".join(pieces)


def test_short_math_is_one_piece() -> None:
    assert breakable_pieces(r"\mathbf{x}^{T} A \mathbf{x} + b") == [r"\mathbf{x}^{T} A \mathbf{x} + b"]


def test_only_stretchy_delimiters_are_made_fixed_size() -> None:
    # \leftarrow and \rightarrow hold the letters of \left and \right but are no delimiters
    side = r"\left(a \leftarrow b + c + d + e + f + g + h + i + j \rightarrow k\right)"
    pieces = breakable_pieces(side)
    assert len(pieces) > 1
    assert "".join(pieces) == r"\biggl(a \leftarrow b + c + d + e + f + g + h + i + j \rightarrow k\biggr)"


@pytest.mark.parametrize(
    "latex",
    [
        r"\operatorname{tr}\left(\mathbf{u} \mathbf{s}^{T} \underbrace{dD}_{q \times l}\right)",
        r"\log\left(a + b + c + d + e + f + g + h + i\right)^{T}",
        r"\left\{a - (b + c) \odot d + e + f + g + h\right\}",
    ],
)
def test_a_text_whose_spaces_are_all_in_its_stretchy_pair_is_not_read_for_cuts(latex: str) -> None:
    assert _spaces_in_one_stretchy_pair(latex)
    assert _break_candidates(latex) == []  # what reading it token by token finds: no place to cut


@pytest.mark.parametrize(
    "latex",
    [
        r"x + \operatorname{tr}\left(a b c d e f g h i j k\right)",  # a space before the pair
        r"\left(a b c d e f g h i j k\right) x",  # a space after it
        r"\left(a b c\right)\left(d e f g h i j k\right)",  # two pairs
        r"\leftarrow a b c d e f g h i j k\right)",  # no \left
        r"\|x\|\left(a b c d e f g h i j k\right)",  # an escaped character before it
        r"x^{\left(}a b c d e f g h i j k\right)",  # \left inside a group
    ],
)
def test_other_texts_are_read_for_cuts(latex: str) -> None:
    assert not _spaces_in_one_stretchy_pair(latex)


@pytest.mark.parametrize(
    "latex",
    [
        r"\mathbf{x}^{T} A_{i} \alpha",
        r"\mathbf{é}^{T} A_{i} \alpha",
        "d f",
        "α + β_{1}",
        r"\|x\|_{F}",
        "",
        r"\| x \|_{F} + \frac{\partial f}{\partial X}",  # one backslash per chunk: counted on the whole
        r"\operatorname{tr}(A \\ B)  \left( é \right)",  # an escaped backslash, two spaces in a row
    ],
)
def test_glyphs_are_the_characters_less_markup_in_ascii_and_other_text(latex: str) -> None:
    # (ASCII text takes a quicker path, a text with macros is counted by its
    # chunks, each remembered: every way must count as the definition says)
    shown = re.sub(r"\\[A-Za-z]+", "", latex)
    hidden = sum(shown.count(char) for char in " {}^_")
    expected = len(shown) - hidden + latex.count("\\") // 2
    assert _glyphs(latex) == expected
    assert _glyphs(latex) == expected  # (the chunks' counts now remembered)


def test_the_layout_prints_a_formula_as_render_expr_does() -> None:
    # (the layout calls the shared printer's _print directly, past doprint)
    x, a = Symbol("x", ("n", 1)), Symbol("A", ("n", "n"))
    names = {"x": r"\mathbf{x}", "A": "A"}
    expr = MatMul((transpose(x), a, x), (1, 1))
    assert _Latex(names)(expr) == render_expr(expr, names) == r"\mathbf{x}^{T} A \mathbf{x}"


# texts whose parentheses hold no operator (passed over whole by the quicker
# read), hold one, are nested, unbalanced, escaped, in groups, pairs and bars
TRICKY = [
    *SIDES,
    r"\sigma(K \mathbf{b}) - \operatorname{tr}(A^{T} B) (C D) + \log(x)",
    r"(a b) (c (d e) f) + ((g) - h) (i \odot (j k))",
    r"\|A (B C) - D\|_F (x y) + \|(u v)\| - w",
    r"\left(a (b c) + d\right) (e f) - g",
    r"x_{(a + b)} (c d) + {e (f + g) {h (i - j)}} (k l)",
    r"\( a + b \) (c \( d) - e",
    r"(a b + c",
    r"a b) - (c d",
    r"( - a b) + (c d -) + (e {+} f)",
    r"\frac{(a + b)}{c} (d \mathbf{x}^{T} e) \otimes (f \oslash g)",
    r"A^{T} B C^{-1} D E^{T} F G H^{-1} (J K L M N) \mathbf{x}",
]


@pytest.mark.parametrize("latex", TRICKY)
def test_the_quicker_read_finds_the_same_places_before_operators(latex: str) -> None:
    every = _break_candidates(latex)
    assert _break_candidates(latex, _OPERATOR_TOKEN_ONLY) == [c for c in every if c[2] == _OPERATOR_CUT]


@pytest.mark.parametrize("latex", TRICKY)
@pytest.mark.parametrize("long_piece", [4, 8, 16])
def test_pieces_cut_from_the_operators_first_are_those_cut_from_every_place(latex: str, long_piece: int) -> None:
    every = _cut(latex, long_piece, None, _break_candidates(latex), factors=True)
    quick = _cut(latex, long_piece, None, _break_candidates(latex, _OPERATOR_TOKEN_ONLY), factors=False)
    assert every is not None
    assert quick is None or quick == every  # (None: read again for every place)
    assert split_at_operators(latex, long_piece) == every[0]


def test_a_long_product_is_read_again_to_be_cut_between_its_factors() -> None:
    product = TRICKY[-1]
    assert _cut(product, 16, None, _break_candidates(product, _OPERATOR_TOKEN_ONLY), factors=False) is None
    assert len(split_at_operators(product)) > 1


@pytest.mark.parametrize(
    "latex",
    [
        SIDES[2],
        r"\left(a \leftarrow b\right) + \left\{c\right\}",
        r"\\left( a \right.\left|x\right|_{2}",  # an escaped backslash before "left"
        r"\left\|\mathbf{x}\right\|^{2} \left( é \right)",
    ],
)
def test_fixed_size_delimiters_show_as_many_glyphs(latex: str) -> None:
    # (the cutting of the fixed-size text is given the stretchy text's count)
    fixed = _STRETCHY.sub(_fixed_size, latex)
    assert fixed != latex
    assert _glyphs(fixed) == _glyphs(latex)
