"""Syntax stage: block lines, declarations, identifiers, LaTeX parse trees, positions."""

from __future__ import annotations

from fractions import Fraction

import pytest

from mdderiv.errors import DeriveError
from mdderiv.expr import ONE_HOT, POSITIVE, SPD, SYMMETRIC
from mdderiv.parse import parse_problem
from mdderiv.syntax.block import read_lines
from mdderiv.syntax.declarations import parse_given
from mdderiv.syntax.latex import parse_expression
from mdderiv.syntax.names import parse_name
from mdderiv.syntax.nodes import (
    AbsNode,
    AddNode,
    ApplyNode,
    BinaryNode,
    ConstNode,
    DivNode,
    NameNode,
    NegNode,
    NormNode,
    NumberNode,
    PostfixNode,
    ProductNode,
    Source,
    SumNode,
)


def src(text: str, line: int = 1, column: int = 0) -> Source:
    return Source(text, line, column)


def tree(text: str, symbols: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    return parse_expression(src(text), lambda name: name in symbols)


def name(text: str) -> str:
    return parse_name(src(text)).ident


def decls(text: str) -> dict[str, tuple[object, set[str]]]:
    return {d.ref.ident: (d.shape, d.props) for d in parse_given(src(text))}


def error_of(body: str) -> DeriveError:
    with pytest.raises(DeriveError) as info:
        parse_problem(body)
    return info.value


# --------------------------------------------------------------------------- lines


def test_lines_are_sorted_by_kind() -> None:
    lines = read_lines(
        "% a comment\n\ngiven: X: n x n\ngiven: a: n\nY = X\nf = a^T Y a\nwrt: X\nlayout: numerator\ntitle: Quadratic: form\n"
    )
    assert [g.text for g in lines.given] == ["X: n x n", "a: n"]
    assert [(d.line, d.lhs.text, d.rhs.text) for d in lines.definitions] == [
        (5, "Y", "X"),
        (6, "f", "a^T Y a"),
    ]
    assert lines.wrt is not None and (lines.wrt.text, lines.wrt.line) == ("X", 7)
    assert lines.options == {"layout": "numerator", "title": "Quadratic: form"}
    assert lines.option_lines == {"layout": 8, "title": 9}


def test_rhs_column_is_its_place_in_the_line() -> None:
    lines = read_lines("given: X: n x n\n  f   =   \\operatorname{tr} X\nwrt: X")
    rhs = lines.definitions[0].rhs
    assert rhs.text == "\\operatorname{tr} X" and rhs.column == 10


def test_windows_line_endings() -> None:
    problem = parse_problem("given: X: n x n\r\nf = \\operatorname{tr} X\r\nwrt: X\r\n")
    assert problem.wrt[0].name == "X" and problem.wrt_line == 3


@pytest.mark.parametrize(
    ("body", "line", "fragment"),
    [
        ("", 1, "empty"),
        ("% only a comment\n\n", 1, "empty"),
        ("given: X: n x n\nwrt: X", 1, "no definition"),
        ("given: X: n x n\nf = \\operatorname{tr}X", 2, "no wrt"),
        ("given: X: n x n\nfoo: bar\nf = \\operatorname{tr}X\nwrt: X", 2, "unknown key 'foo'"),
        ("given: X: n x n\nlayout: sideways\nf = \\operatorname{tr}X\nwrt: X", 2, "layout"),
        ("given: X: n x n\ncheck: maybe\nf = \\operatorname{tr}X\nwrt: X", 2, "check"),
        ("given: X: n x n\nf = \\operatorname{tr}X\nwrt: X\nwrt: X", 4, "second wrt"),
        ("given: X: n x n\nthis is not a line\nf = \\operatorname{tr}X\nwrt: X", 2, "cannot read this line"),
        ("given: X: n x n\n= X\nwrt: X", 2, "name before"),
        ("given:\nf = 1\nwrt: X", 1, "needs declarations"),
        ("given: X: n x n\nf = \\operatorname{tr}X\nwrt:", 3, "needs a variable"),
    ],
)
def test_line_errors(body: str, line: int, fragment: str) -> None:
    err = error_of(body)
    assert err.line == line
    assert fragment in err.message


def test_unknown_key_lists_the_known_ones() -> None:
    err = error_of("given: X: n x n\nfoo: bar\nf = \\operatorname{tr}X\nwrt: X")
    for key in ("given", "wrt", "layout", "check", "title"):
        assert key in err.message


def test_options_are_kept_raw() -> None:
    problem = parse_problem(
        "given: X: n x n\nf = \\operatorname{tr}X\nwrt: X\ncheck: false\nlang: zh\nsteps: brief"
    )
    assert problem.options == {"check": "false", "lang": "zh", "steps": "brief"}
    assert problem.option_lines == {"check": 4, "lang": 5, "steps": 6}


def test_too_long_body() -> None:
    err = error_of("given: x: n\nf = " + "x^T x + " * 20000 + "1\nwrt: x")
    assert "too long" in err.message


def test_body_must_be_text() -> None:
    with pytest.raises(DeriveError):
        parse_problem(b"given: x: n\nf = x^T x\nwrt: x")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- declarations


def test_latex_declarations() -> None:
    got = decls(
        r"c \in \mathbb{R}, \mathbf{x} \in \mathbb{R}^{n}, X \in \mathbb{R}^{m \times n}, "
        r"Y \in \mathbb{R}^{m\times n}, v \in \mathbb{R}^n, w \in \mathbb{R}^{3}, "
        r"M \in \mathbb{S}^{n}, \Sigma \in \mathbb{S}_{++}^{n}, p \in \mathbb{R}_{++}^{n}"
    )
    assert got == {
        "c": ((1, 1), set()),
        "x": (("n", 1), set()),
        "X": (("m", "n"), set()),
        "Y": (("m", "n"), set()),
        "v": (("n", 1), set()),
        "w": ((3, 1), set()),
        "M": (("n", "n"), {SYMMETRIC}),
        "Sigma": (("n", "n"), {SPD}),
        "p": (("n", 1), {POSITIVE}),
    }


def test_several_names_share_one_shape() -> None:
    assert decls(r"a, b \in \mathbb{R}^{n}") == {"a": (("n", 1), set()), "b": (("n", 1), set())}
    assert decls("a, b: n") == {"a": (("n", 1), set()), "b": (("n", 1), set())}


@pytest.mark.parametrize("sep", [", ", ",\\ ", " \\, ", " \\; ", " \\quad ", " \\qquad ", "; "])
def test_declaration_separators(sep: str) -> None:
    got = decls(f"X \\in \\mathbb{{R}}^{{m \\times n}}{sep}\\mathbf{{b}} \\in \\mathbb{{R}}^{{n}}")
    assert got == {"X": (("m", "n"), set()), "b": (("n", 1), set())}


def test_property_declarations() -> None:
    assert decls(r"\mathbf{y} \text{ one-hot}") == {"y": (None, {ONE_HOT})}
    assert decls(r"x \text{ positive}") == {"x": (None, {POSITIVE})}
    assert decls(r"\mathbf{y} \in \mathbb{R}^{m} \text{ one-hot}") == {"y": (("m", 1), {ONE_HOT})}


def test_ascii_declarations() -> None:
    got = decls(
        "X: m x n, a: n, c: scalar, M: n x n symmetric, S: n x n spd, y: m one-hot, Z: m×n, Q: 3x3, p: n positive"
    )
    assert got == {
        "X": (("m", "n"), set()),
        "a": (("n", 1), set()),
        "c": ((1, 1), set()),
        "M": (("n", "n"), {SYMMETRIC}),
        "S": (("n", "n"), {SPD}),
        "y": (("m", 1), {ONE_HOT}),
        "Z": (("m", "n"), set()),
        "Q": ((3, 3), set()),
        "p": (("n", 1), {POSITIVE}),
    }


def test_one_hot_on_its_own_line_before_or_after_the_shape() -> None:
    for order in (
        "given: \\mathbf{y} \\in \\mathbb{R}^{m}, W \\in \\mathbb{R}^{m \\times n}, x: n\ngiven: \\mathbf{y} \\text{ one-hot}",
        "given: \\mathbf{y} \\text{ one-hot}\ngiven: \\mathbf{y} \\in \\mathbb{R}^{m}, W \\in \\mathbb{R}^{m \\times n}, x: n",
    ):
        problem = parse_problem(
            order + "\nl = -\\mathbf{y}^T \\log \\operatorname{softmax}(W\\mathbf{x})\nwrt: W"
        )
        assert problem.symbols["y"].props == frozenset({ONE_HOT})
        assert problem.symbols["y"].latex == "\\mathbf{y}"


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        (r"X \in \mathbb{Q}^{n}", "cannot read the set"),
        (r"X \in \mathbb{R}^{0}", "positive integer"),
        (r"X \in \mathbb{R}^{a+b}", "dimension"),
        (r"X \in \mathbb{R}^{m \times n \times p}", "at most two"),
        (r"M \in \mathbb{S}^{m \times n}", "square"),
        ("M: m x n symmetric", "square"),
        (r"x \text{ shiny}", "unknown property"),
        ("a", "has no shape"),
        ("X: m by n", "cannot read the shape"),
        (r"\in \mathbb{R}", "needs a name"),
    ],
)
def test_declaration_errors(given: str, fragment: str) -> None:
    err = error_of(f"given: {given}\nf = 1\nwrt: X")
    assert err.line == 1
    assert fragment in err.message


def test_declaration_error_column_points_at_the_piece() -> None:
    err = error_of("given: X: m x n, y \\text{ shiny}\nf = 1\nwrt: X")
    assert (err.line, err.column) == (1, 20)  # the \\text{…}


def test_property_without_shape() -> None:
    err = error_of("given: X: m x n, y \\text{ one-hot}\nf = \\mathbf{1}^T X \\mathbf{1}\nwrt: X")
    assert "no shape" in err.message


def test_declared_twice_with_different_shapes() -> None:
    err = error_of("given: X: m x n\ngiven: X: n x n\nf = \\operatorname{tr}X\nwrt: X")
    assert err.line == 2 and "twice" in err.message


def test_symbol_clashing_with_dimension() -> None:
    err = error_of("given: n \\in \\mathbb{R}, X: n x n\nf = \\operatorname{tr} X\nwrt: X")
    assert "dimension" in err.message and err.line == 1


def test_one_hot_must_be_a_column_vector() -> None:
    err = error_of("given: Y: m x n one-hot\nf = \\mathbf{1}^T Y \\mathbf{1}\nwrt: Y")
    assert "one-hot" in err.message


# --------------------------------------------------------------------------- identifiers


@pytest.mark.parametrize(
    ("latex", "ident"),
    [
        ("\\Sigma", "Sigma"),
        ("W_{1}", "W_1"),
        ("W_1", "W_1"),
        ("W_{12}", "W_12"),
        ("\\bar{x}", "x_bar"),
        ("\\hat{y}", "y_hat"),
        ("\\tilde{x}", "x_tilde"),
        ("\\lambda", "lambda_"),
        ("\\mathbf{a}", "a"),
        ("\\boldsymbol{a}", "a"),
        ("\\bm{a}", "a"),
        ("\\bm a", "a"),
        ("a", "a"),
        ("\\bar{\\mathbf{x}}", "x_bar"),
        ("\\boldsymbol{\\mu}", "mu"),
        ("\\mathbf{a}_1", "a_1"),
        ("\\mathbf{x}_i", "x_i"),
        ("\\mathbf{x_i}", "x_i"),
        ("\\ell", "ell"),
        ("\\theta_{\\mu}", "theta_mu"),
    ],
)
def test_identifiers(latex: str, ident: str) -> None:
    assert name(latex) == ident
    assert ident.isidentifier()


def test_declared_spelling_is_kept_normalised() -> None:
    assert parse_name(src("W_1")).latex == "W_{1}"
    assert parse_name(src("\\mathbf{a}")).latex == "\\mathbf{a}"
    assert parse_name(src("\\bar{\\mathbf{x}}")).latex == "\\bar{\\mathbf{x}}"
    ref = parse_name(src("\\mathbf{x}_i"))
    assert (ref.base_ident, ref.base_latex, ref.sub) == ("x", "\\mathbf{x}", "i")


@pytest.mark.parametrize(
    "bad",
    [
        "__import__",
        "os.system",
        "x y",
        "\\input{/etc/passwd}",
        "\\def",
        "1x",
        "W_{1,2}",
        "\\mathbf{ab}",
        "x_i_j",
        "é",
    ],
)
def test_bad_names_are_rejected(bad: str) -> None:
    with pytest.raises(DeriveError):
        parse_name(src(bad))


def test_symbol_spelled_two_ways_is_one_symbol() -> None:
    problem = parse_problem(
        "given: \\mathbf{x} \\in \\mathbb{R}^{n}\nf = x^T \\mathbf{x} + \\bm{x}^T\\boldsymbol{x}\nwrt: x"
    )
    assert list(problem.symbols) == ["x", "f"]
    assert problem.symbols["x"].latex == "\\mathbf{x}"


# --------------------------------------------------------------------------- parse trees


def test_juxtaposition_and_transpose() -> None:
    t = tree("\\mathbf{a}^T X \\mathbf{b}")
    assert isinstance(t, ProductNode) and len(t.factors) == 3
    first = t.factors[0]
    assert isinstance(first, PostfixNode) and first.op == "T"
    assert isinstance(first.arg, NameNode) and first.arg.ref.ident == "a"


@pytest.mark.parametrize(
    "sup",
    [
        "^T",
        "^{T}",
        "^\\top",
        "^{\\top}",
        "^{\\mathsf{T}}",
        "^\\mathsf{T}",
        "^\\intercal",
        "^{\\intercal}",
        "^{\\mathrm{T}}",
    ],
)
def test_transpose_spellings(sup: str) -> None:
    t = tree("X" + sup)
    assert isinstance(t, PostfixNode) and t.op == "T"


@pytest.mark.parametrize(
    ("sup", "op", "exponent"),
    [
        ("^{-1}", "inv", None),
        ("^{-T}", "invT", None),
        ("^{-\\top}", "invT", None),
        ("^2", "pow", Fraction(2)),
        ("^{1/2}", "pow", Fraction(1, 2)),
        ("^{-3}", "pow", Fraction(-3)),
        ("^{\\frac12}", "pow", Fraction(1, 2)),
        ("^{\\frac{1}{2}}", "pow", Fraction(1, 2)),
        ("^{0.5}", "pow", Fraction(1, 2)),
        ("^{-1/2}", "pow", Fraction(-1, 2)),
    ],
)
def test_exponents(sup: str, op: str, exponent: Fraction | None) -> None:
    t = tree("X" + sup)
    assert isinstance(t, PostfixNode) and (t.op, t.exponent) == (op, exponent)


def test_tex_takes_one_digit_as_a_script() -> None:
    t = tree("x^23")  # TeX reads x^{2} 3
    assert isinstance(t, ProductNode)
    assert isinstance(t.factors[0], PostfixNode) and t.factors[0].exponent == 2
    assert t.factors[1] == NumberNode(3, Fraction(3))


def test_sum_difference_and_unary_minus() -> None:
    t = tree("-a + b - c")
    assert isinstance(t, AddNode)
    assert [sign for sign, _ in t.terms] == [-1, 1, -1]
    t2 = tree("a - -b")
    assert isinstance(t2, AddNode) and [s for s, _ in t2.terms] == [1, 1]
    t3 = tree("a \\cdot -b")
    assert isinstance(t3, BinaryNode) and t3.op == "dot" and isinstance(t3.right, NegNode)


def test_numbers_and_fractions() -> None:
    assert tree("2") == NumberNode(0, Fraction(2))
    assert tree("0.25") == NumberNode(0, Fraction(1, 4))
    t = tree("\\frac{1}{n}")
    assert isinstance(t, DivNode) and isinstance(t.den, NameNode)
    t2 = tree("\\frac12 x")
    assert isinstance(t2, ProductNode) and isinstance(t2.factors[0], DivNode)
    t3 = tree("x / 2")
    assert isinstance(t3, DivNode)


@pytest.mark.parametrize(
    "text",
    [
        "(a + b)",
        "\\left( a + b \\right)",
        "[a + b]",
        "\\left[ a + b \\right]",
        "\\{a + b\\}",
        "\\left\\{ a + b \\right\\}",
        "{a + b}",
        "\\bigl( a + b \\bigr)",
    ],
)
def test_brackets_group(text: str) -> None:
    assert isinstance(tree(text), AddNode)


def test_spacing_is_ignored() -> None:
    t = tree("a \\, b \\; c \\! d \\ e \\quad f \\qquad g~h")
    assert isinstance(t, ProductNode)
    assert [f.ref.ident for f in t.factors] == list("abcdefgh")  # type: ignore[attr-defined]


def test_left_dot_is_invisible() -> None:
    assert isinstance(tree("\\left. a + b \\right."), AddNode)


@pytest.mark.parametrize(
    ("text", "fn"),
    [
        ("\\operatorname{tr}(X)", "trace"),
        ("\\mathrm{tr}(X)", "trace"),
        ("\\text{tr}(X)", "trace"),
        ("\\operatorname{Tr}(X)", "trace"),
        ("\\operatorname{tr} X", "trace"),
        ("\\det(X)", "det"),
        ("\\det X", "det"),
        ("\\exp(X)", "exp"),
        ("\\log x", "log"),
        ("\\ln x", "log"),
        ("\\sin x", "sin"),
        ("\\cos(x)", "cos"),
        ("\\tanh x", "tanh"),
        ("\\sigma(x)", "sigma"),
        ("\\sqrt{x}", "sqrt"),
        ("\\operatorname{softmax}(x)", "softmax"),
        ("\\operatorname{diag}(x)", "diag"),
        ("\\operatorname{vec}(X)", "vec"),
    ],
)
def test_functions(text: str, fn: str) -> None:
    t = tree(text)
    assert isinstance(t, ApplyNode) and t.fn == fn


def test_sigma_is_a_symbol_when_declared() -> None:
    t = tree("\\sigma(x)", symbols=("sigma",))
    assert isinstance(t, ProductNode) and isinstance(t.factors[0], NameNode)


def test_nested_applications_without_parentheses() -> None:
    t = tree("\\log \\operatorname{softmax}(W\\mathbf{x})")
    assert isinstance(t, ApplyNode) and t.fn == "log"
    assert isinstance(t.arg, ApplyNode) and t.arg.fn == "softmax"
    t2 = tree("\\log\\det X")
    assert isinstance(t2, ApplyNode) and isinstance(t2.arg, ApplyNode) and t2.arg.fn == "det"
    t3 = tree("\\log|X|")
    assert isinstance(t3, ApplyNode) and isinstance(t3.arg, AbsNode)


def test_trace_without_parentheses_takes_the_whole_product() -> None:
    t = tree("\\operatorname{tr} X Y")  # tr(XY), as textbooks read it
    assert isinstance(t, ApplyNode) and t.fn == "trace" and isinstance(t.arg, ProductNode)
    assert len(t.arg.factors) == 2


def test_elementwise_function_argument_is_one_factor() -> None:
    t2 = tree("\\exp(x)^T y")  # the power applies to the application
    assert isinstance(t2, ProductNode) and isinstance(t2.factors[0], PostfixNode)
    assert isinstance(t2.factors[0].arg, ApplyNode)


@pytest.mark.parametrize(
    ("text", "sub"),
    [
        ("\\|x\\|", None),
        ("\\|x\\|_2", "2"),
        ("\\|X\\|_F", "F"),
        ("\\lVert X \\rVert_F", "F"),
        ("\\left\\| x \\right\\|", None),
        ("\\Vert x\\Vert", None),
    ],
)
def test_norms(text: str, sub: str | None) -> None:
    t = tree(text)
    assert isinstance(t, NormNode) and t.sub == sub


def test_norm_power_and_subscript_in_either_order() -> None:
    for text in ("\\|X\\|_F^2", "\\|X\\|^2_F"):
        t = tree(text)
        assert isinstance(t, PostfixNode) and t.exponent == 2
        assert isinstance(t.arg, NormNode) and t.arg.sub == "F"


def test_abs_bars() -> None:
    t = tree("|X| + \\left| Y \\right| + \\lvert Z \\rvert")
    assert isinstance(t, AddNode) and all(isinstance(term, AbsNode) for _, term in t.terms)


def test_binary_operators() -> None:
    for op, kind in (
        ("\\odot", "hadamard"),
        ("\\circ", "hadamard"),
        ("\\otimes", "kron"),
        ("\\oslash", "hadamard_div"),
    ):
        t = tree(f"A {op} B")
        assert isinstance(t, BinaryNode) and t.op == kind
    # juxtaposition binds tighter than ⊙: x ⊙ (W b)
    t = tree("x \\odot W b")
    assert isinstance(t, BinaryNode) and isinstance(t.right, ProductNode)


def test_constants() -> None:
    assert tree("\\mathbf{1}") == ConstNode(0, "ones", None)
    assert tree("\\mathbf{0}") == ConstNode(0, "zeros", None)
    assert tree("\\mathbf{1}_n") == ConstNode(0, "ones", ("n",))
    assert tree("\\mathbf{0}_{m \\times n}") == ConstNode(0, "zeros", ("m", "n"))
    assert isinstance(tree("\\mathbb{1}"), ConstNode)


def test_indexed_sum_takes_the_following_product() -> None:
    t = tree("\\sum_{i=1}^{n} x_i x_i^T + A")
    assert isinstance(t, AddNode)
    s = t.terms[0][1]
    assert isinstance(s, SumNode) and (s.index, s.upper) == ("i", "n")
    assert isinstance(s.body, ProductNode) and len(s.body.factors) == 2
    t2 = tree("\\frac{1}{n}\\sum_{i=1}^n (x_i - m)")
    assert isinstance(t2, ProductNode) and isinstance(t2.factors[1], SumNode)
    assert tree("\\sum^{n}_{i=1} x_i") == tree("\\sum_{i=1}^{n} x_i")


# --------------------------------------------------------------------------- syntax errors with positions


@pytest.mark.parametrize(
    ("rhs", "column", "fragment"),
    [
        ("\\operatorname{tr}(X^{-1}", 22, "unbalanced '('"),
        ("\\operatorname{tr}(X))", 25, "unbalanced ')'"),
        ("\\operatorname{tr}{X", 22, "unbalanced '{'"),
        ("\\operatorname{tr} X}", 24, "unbalanced '}'"),
        ("\\frobnicate X", 5, "unknown command \\frobnicate"),
        ("\\input{/etc/passwd}", 5, "unknown command \\input"),
        ("\\newcommand{\\a}{X}", 5, "unknown command \\newcommand"),
        ("\\operatorname{foo}(X)", 5, "unknown operator"),
        ("X^^T", 7, "needs an argument"),
        ("X^T^T", 8, "double superscript"),
        ("X^{Q}", 8, "undeclared symbol Q"),
        ("X^{\\dagger}", 7, "unsupported exponent"),
        ("X'", 6, "^T"),
        ("(X) _1", 9, "subscript"),
        ("$X$", 5, "$"),
        ("\\begin{matrix} X \\end{matrix}", 5, "environments"),
        ("\\sum_{i} X", 10, "lower limit"),
        ("\\sum_{i=1} X", 5, "\\sum_{i=1}^{n}"),
        ("\\operatorname{tr}", 5, "needs an argument"),
        ("\\frac{1}", 5, "frac"),
        ("\\|X", 5, "never closed"),
        ("|X", 5, "never closed"),
        ("\\|X\\|_3", 5, "unsupported norm"),
        ("X +", 8, "expected a term"),
        ("()", 5, "empty"),
        ("\\sqrt[3]{X}", 5, "not supported"),
        ("\\left X", 5, "delimiter"),
    ],
)
def test_expression_errors_have_positions(rhs: str, column: int, fragment: str) -> None:
    err = error_of(f"given: X \\in \\mathbb{{R}}^{{n \\times n}}\nf = {rhs}\nwrt: X")
    assert err.line == 2
    assert fragment in err.message, err.message
    assert err.column == column, err.message


def test_nesting_limit() -> None:
    for rhs in (
        "(" * 5000 + "X" + ")" * 5000,
        "\\exp(" * 5000 + "X" + ")" * 5000,
        "{" * 5000 + "X" + "}" * 5000,
        "(" + "-" * 5000 + "X)",
    ):
        err = error_of(f"given: X: n x n\nf = \\operatorname{{tr}} {rhs}\nwrt: X")
        assert "deep" in err.message and err.line == 2


def test_moderate_nesting_is_fine() -> None:
    problem = parse_problem(
        "given: X: n x n\nf = \\operatorname{tr}" + "(" * 40 + "X" + ")" * 40 + "\nwrt: X"
    )
    assert problem.objective.expr.shape == (1, 1)


@pytest.mark.parametrize(
    "rhs",
    [
        "__import__('os').system('ls')",
        "os.system(X)",
        "\\input{/etc/passwd}",
        "\\def\\x{X} \\x",
        "\\newcommand{\\a}{X}\\a",
        "\\catcode`\\^=12 X",
        "eval(X)",
        "X \\\\ Y",
        "X & Y",
        "X # Y",
        "\x00X",
        "X\u202eY",
        "\\write18{rm -rf /}",
    ],
)
def test_hostile_expressions_are_rejected(rhs: str) -> None:
    with pytest.raises(DeriveError):
        parse_problem(f"given: X: n x n, Y: n x n\nf = \\operatorname{{tr}}({rhs})\nwrt: X")


def test_unbalanced_brace_in_a_declaration() -> None:
    err = error_of("given: a: n, X \\in \\mathbb{R}^{m \\times n\nf = a^T a\nwrt: a")
    assert (err.line, err.column) == (1, 31) and "unbalanced '{'" in err.message


def test_e_to_the_power_is_exp() -> None:
    t = tree("e^{x^T y}")
    assert isinstance(t, ApplyNode) and t.fn == "exp" and isinstance(t.arg, ProductNode)
    t2 = tree("\\mathrm{e}^x")
    assert isinstance(t2, ApplyNode) and t2.fn == "exp"
    t3 = tree("e^{2}", symbols=("e",))  # a declared e is a symbol
    assert isinstance(t3, PostfixNode) and t3.exponent == 2


def test_pasted_unicode_operators() -> None:
    t0 = tree("a · b × c")  # as \cdot and \times: a dot product and a cross product between vectors
    assert isinstance(t0, BinaryNode) and t0.op == "cross"
    assert isinstance(t0.left, BinaryNode) and t0.left.op == "dot"
    assert tree("a \\cdot b").op == "dot" and tree("a \\times b").op == "cross"  # type: ignore[attr-defined]
    for text, op in (
        ("A ⊙ B", "hadamard"),
        ("A ⊗ B", "kron"),
        ("A ⊘ B", "hadamard_div"),
        ("A ∘ B", "hadamard"),
    ):
        t = tree(text)
        assert isinstance(t, BinaryNode) and t.op == op
    t = tree("a − b")
    assert isinstance(t, AddNode) and [s for s, _ in t.terms] == [1, -1]
    assert isinstance(tree("‖x‖"), NormNode)


@pytest.mark.parametrize("dim", ["if", "np", "class", "__x"])
def test_reserved_dimension_names(dim: str) -> None:
    err = error_of(f"given: X: {dim} x n\nf = 1\nwrt: X")
    assert err.line == 1


def test_family_base_spelling_inside_a_font() -> None:
    ref = parse_name(src("\\mathbf{x_i}"))
    assert (ref.ident, ref.base_ident, ref.base_latex, ref.sub) == ("x_i", "x", "\\mathbf{x}", "i")


# --------------------------------------------------------------------------- token reader vs walker

_PIECES = (
    "\\frac", "\\bar", "\\mathbf", "{", "}", "x", "1", "2", " ", "^", "_", "\\sqrt", "[", "]",
    "\\,", "\\quad", "%", "$", "\\begin{a}", "\\end{a}", "\\", "\\left", "(", ")", "\\|",
    "\\operatorname", "*", "\\text", "\\\\", "\\(", "\\alpha", "\\mathbb", "\\displaystyle",
    "\\verb", ".", "5", "\\{", "\\}", "~", "&", "\\hat", "\\begin", "\\end", "-", "T",
    # where a macro's name or the spaces after it end: another script's letter, a
    # digit, a tab, a line break, a space of another kind
    "é", "²", "_", "\t", "\n", "\u00a0", "\\beginx", "\\alpha  ",
    # a backslash and one character that is no ASCII letter (a macro of its own, or not)
    "\\;", "\\!", "\\ ", "\\é", "\\²", "\\[", "\\)", "\\$", "\\%", "\\\n",
)  # fmt: skip


def test_token_reader_agrees_with_the_walker() -> None:
    """The fast token reader gives exactly the walker's tokens whenever it answers
    (it declines, with None, whatever it does not read itself)."""
    import random

    from mdderiv.syntax.tokens import _read_tokens, _walk_tokens, check_braces

    rng = random.Random(7)
    texts = [
        "\\frac{1}{2}\\|\\sigma(P\\mathbf{g}) - \\mathbf{a}\\|^2",
        "\\log\\det P + \\operatorname{tr}(P^{-1} B)",
        "\\frac12 \\bar x^\\top \\mathbf 1_{n} % a comment",
        "\\bar\\alpha \\hat{\\mathbf{x}}_{12} e^{-\\frac{1}{2} x}",
    ] + ["".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    answered = 0
    for text in texts:
        source = src(text)
        try:
            check_braces(source)
        except DeriveError:
            continue
        fast = _read_tokens(source)
        if fast is None:
            continue
        answered += 1
        try:
            walked: object = _walk_tokens(source)
        except DeriveError as exc:
            walked = exc
        assert fast == walked, text
    assert answered > 500


def test_remembered_names_keep_their_errors_where_they_are() -> None:
    """A name read once is remembered by its text; an error is not (it has a line)."""
    first = parse_name(src("\\bar{\\mathbf{x}}_1", line=2, column=8))
    assert parse_name(src("\\bar{\\mathbf{x}}_1", line=5)) == first and first.ident == "x_bar_1"
    for line, column in ((2, 0), (4, 6)):
        with pytest.raises(DeriveError) as err:
            parse_name(src("x y", line=line, column=column))
        assert (err.value.line, err.value.column) == (line, column + 3)
