"""The LaTeX renderer: exact strings for representative nodes, precedence edge
cases, well-formedness (balanced braces, only allowed macros) and the
structure of a rendered derivation."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest

from mdderiv.derivation import CheckOutcome, Derivation, Result, Section, Step
from mdderiv.expr import (
    Commutation,
    Det,
    Diag,
    Differential,
    DimValue,
    Expr,
    GradientName,
    Hadamard,
    HadamardDiv,
    Identity,
    IndexedSum,
    Inverse,
    Kron,
    MatMul,
    Norm,
    Ones,
    Power,
    Softmax,
    Symbol,
    Trace,
    Transpose,
    Vec,
    Zeros,
    add,
    elementwise,
    inverse,
    mul,
    neg,
    num,
    power,
    sub,
    transpose,
)
from mdderiv.options import Options
from mdderiv.problem import Definition, Problem, SymbolInfo
from mdderiv.render.display import render_derivation, render_markdown
from mdderiv.render.latex import ALLOWED_MACROS, render_expr, text_latex

NAMES = {
    "a": r"\mathbf{a}",
    "b": r"\mathbf{b}",
    "x": r"\mathbf{x}",
    "y": r"\mathbf{y}",
    "Sigma": r"\Sigma",
    "W_1": "W_{1}",
    "l": "l",
    "x_bar": r"\bar{\mathbf{x}}",
}

a = Symbol("a", ("m", 1))
b = Symbol("b", ("n", 1))
X = Symbol("X", ("m", "n"))
A = Symbol("A", ("m", "m"))
B = Symbol("B", ("n", "n"))
w = Symbol("w", ("n", 1))
y = Symbol("y", ("m", 1))
x = Symbol("x", ("n", 1))
W = Symbol("W", ("m", "n"))
c = Symbol("c", (1, 1))
Sigma = Symbol("Sigma", ("m", "m"), frozenset({"spd"}))
W1 = Symbol("W_1", ("p", "n"))
xi = Symbol("x", ("n", 1), index="i")


def tex(expr: Expr, **kwargs: object) -> str:
    return render_expr(expr, NAMES, **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- exact strings


def test_outer_product() -> None:
    assert tex(mul(a, transpose(b))) == r"\mathbf{a} \mathbf{b}^{T}"


def test_least_squares_gradient() -> None:
    assert tex(mul(num(2), transpose(X), sub(mul(X, w), y))) == r"2 X^{T}(X w - \mathbf{y})"


def test_softmax_cross_entropy_gradient() -> None:
    expr = mul(sub(Softmax(mul(W, x), ("m", 1)), y), transpose(x))
    assert tex(expr) == r"(\operatorname{softmax}(W \mathbf{x}) - \mathbf{y}) \mathbf{x}^{T}"


def test_hadamard_inside_product() -> None:
    M = Symbol("M", ("p", "p"), frozenset({"symmetric"}))
    Y = Symbol("Y", ("p", "n"))
    Wp = Symbol("W", ("p", "m"))
    Xm = Symbol("X", ("m", "n"))
    inner = Hadamard(mul(num(2), M, Y), elementwise("sigma_prime", mul(Wp, Xm)), ("p", "n"))
    assert tex(mul(transpose(Wp), inner)) == r"W^{T}((2 M Y) \odot \sigma'(W X))"


def test_leaves() -> None:
    assert tex(X) == "X"
    assert tex(Sigma) == r"\Sigma"
    assert tex(W1) == "W_{1}"
    assert tex(Symbol("theta_2", ("n", 1))) == r"theta_{2}"  # no spelling: from the identifier
    assert render_expr(Symbol("t", ("n", 1)), {"t": r"\bm{\theta}"}) == r"\boldsymbol{\theta}"
    assert tex(Differential(X)) == "dX"
    assert tex(Differential(x)) == r"d\mathbf{x}"
    assert tex(Differential(Sigma)) == r"d\Sigma"
    assert tex(Differential(W1)) == "dW_{1}"
    assert tex(GradientName("l", W1)) == r"\frac{\partial l}{\partial W_{1}}"
    assert tex(Ones(("n", 1))) == r"\mathbf{1}"
    assert tex(mul(transpose(Ones(("n", 1))), x)) == r"\mathbf{1}^{T} \mathbf{x}"
    assert tex(Zeros((1, "n"))) == r"\mathbf{0}^{T}"
    assert tex(Zeros(("m", "n"))) == r"\mathbf{0}"
    assert tex(Identity(("n", "n"))) == "I"
    assert tex(DimValue("n")) == "n"
    assert tex(Commutation("m", "n", ("m*n", "m*n"))) == "K_{mn}"
    assert tex(num(Fraction(1, 2))) == r"\frac{1}{2}"
    assert tex(num(-3)) == "-3"


def test_numerator_gradient_name() -> None:
    try:
        name = GradientName("l", W1, numerator=True)  # type: ignore[call-arg]
    except TypeError:
        pytest.skip("GradientName has no numerator flag")
    assert tex(name) == r"\frac{\partial l}{\partial W_{1}^{T}}"


def test_gradient_names_in_second_differentials_and_hessians() -> None:
    z = Symbol("z", ("p", 1))
    assert tex(Differential(GradientName("l", x))) == r"d\left(\frac{\partial l}{\partial \mathbf{x}}\right)"
    try:
        hessian = GradientName("l", X, hessian=True)  # type: ignore[call-arg]
    except TypeError:
        pytest.skip("GradientName has no hessian flag")
    assert tex(hessian) == (
        r"\frac{\partial^{2}l}{\partial \operatorname{vec}(X) \partial \operatorname{vec}(X)^{T}}"
    )
    # a LaTeX fraction is a unit: no parentheses as an operand or a factor
    product = Hadamard(GradientName("l", z), elementwise("sigma_prime", z), z.shape)
    assert tex(product) == r"\frac{\partial l}{\partial z} \odot \sigma'(z)"
    assert tex(transpose(GradientName("l", z))) == r"\left(\frac{\partial l}{\partial z}\right)^{T}"


def test_postfix_operators() -> None:
    assert tex(transpose(X)) == "X^{T}"
    assert tex(inverse(A)) == "A^{-1}"
    assert tex(transpose(inverse(A))) == "A^{-T}"
    assert tex(Inverse(transpose(A), ("m", "m"))) == "A^{-T}"
    assert tex(transpose(mul(A, X))) == "(A X)^{T}"
    assert tex(inverse(add(A, Identity(("m", "m"))))) == "(A + I)^{-1}"
    assert tex(transpose(Differential(X))) == "dX^{T}"
    assert tex(power(c, -1)) == "c^{-1}"
    assert tex(power(mul(transpose(x), x), Fraction(1, 2))) == r"(\mathbf{x}^{T} \mathbf{x})^{1/2}"
    assert tex(Power(A, Fraction(2), ("m", "m"))) == "A^{2}"
    # no double superscripts
    assert tex(Power(transpose(A), Fraction(2), ("m", "m"))) == "(A^{T})^{2}"
    assert tex(Transpose(transpose(X), ("m", "n"))) == "(X^{T})^{T}"
    assert tex(transpose(Symbol("x_bar", ("n", 1)))) == r"\bar{\mathbf{x}}^{T}"


def test_coefficients_and_signs() -> None:
    assert tex(neg(X)) == "-X"
    assert tex(mul(num(-1), A, X)) == "-A X"
    assert tex(mul(num(Fraction(1, 2)), X)) == r"\frac{1}{2} X"
    assert tex(mul(num(Fraction(-3, 4)), X)) == r"-\frac{3}{4} X"
    assert tex(mul(Power(DimValue("n"), Fraction(-1), (1, 1)), X)) == r"\frac{1}{n} X"
    assert tex(mul(num(2), Power(DimValue("n"), Fraction(-1), (1, 1)), X)) == r"\frac{2}{n} X"
    assert tex(sub(mul(A, X), X)) == "A X - X"
    assert tex(add(neg(X), mul(num(-2), A, X), X)) == "-X - 2 A X + X"
    assert tex(sub(X, sub(X, mul(A, X)))) == "X - (X - A X)"
    assert tex(neg(add(X, X))) == "-(X + X)"
    assert tex(mul(num(2), DimValue(3))) == r"2 \cdot 3"


def test_precedence() -> None:
    s = add(A, Identity(("m", "m")))
    assert tex(mul(s, X)) == "(A + I) X"
    assert tex(mul(X, transpose(w), s)) == r"X w^{T}(A + I)"
    assert tex(Hadamard(add(X, X), X, ("m", "n"))) == r"(X + X) \odot X"
    assert tex(Hadamard(Hadamard(X, X, ("m", "n")), X, ("m", "n"))) == r"X \odot X \odot X"
    assert tex(HadamardDiv(X, HadamardDiv(X, X, ("m", "n")), ("m", "n"))) == r"X \oslash (X \oslash X)"
    assert tex(Kron(mul(A, A), B, ("m*n", "m*n"))) == r"(A A) \otimes B"
    assert tex(Hadamard(neg(X), X, ("m", "n"))) == r"(-X) \odot X"
    assert tex(transpose(Hadamard(X, X, ("m", "n")))) == r"(X \odot X)^{T}"
    assert tex(MatMul((MatMul((num(2), A), A.shape), X), X.shape)) == "(2 A) X"


def test_functions() -> None:
    assert tex(Trace(mul(transpose(X), A, X))) == r"\operatorname{tr}(X^{T} A X)"
    assert tex(Det(Sigma)) == r"|\Sigma|"
    assert tex(elementwise("log", Det(Sigma))) == r"\log|\Sigma|"
    assert tex(elementwise("exp", X)) == r"\exp(X)"
    assert tex(elementwise("log", X)) == r"\log(X)"
    assert tex(elementwise("sin", X)) == r"\sin(X)"
    assert tex(elementwise("cos", X)) == r"\cos(X)"
    assert tex(elementwise("tanh", X)) == r"\tanh(X)"
    assert tex(elementwise("sigma", X)) == r"\sigma(X)"
    assert tex(elementwise("sigma_prime", X)) == r"\sigma'(X)"
    assert tex(elementwise("tanh_prime", X)) == r"\tanh'(X)"
    assert tex(elementwise("sqrt", X)) == r"\sqrt{X}"
    assert tex(elementwise("abs", X)) == "|X|"
    assert tex(elementwise("sign", X)) == r"\operatorname{sign}(X)"
    assert tex(Softmax(y, ("m", 1))) == r"\operatorname{softmax}(\mathbf{y})"
    assert tex(Norm(x, "2")) == r"\|\mathbf{x}\|"
    assert tex(Norm(X, "F")) == r"\|X\|_F"
    assert tex(Power(Norm(X, "F"), Fraction(2), (1, 1))) == r"\|X\|_F^{2}"
    assert tex(Diag(y, ("m", "m"))) == r"\operatorname{diag}(\mathbf{y})"
    assert tex(Vec(X, ("m*n", 1))) == r"\operatorname{vec}(X)"
    assert tex(transpose(Vec(X, ("m*n", 1)))) == r"\operatorname{vec}(X)^{T}"
    assert tex(Trace(mul(GradientName("l", W1), X))).startswith(r"\operatorname{tr}\left(")


def test_indexed_sum() -> None:
    total = IndexedSum("i", "n", mul(xi, transpose(xi)), ("n", "n"))
    assert tex(total) == r"\sum_{i=1}^{n} \mathbf{x}_{i} \mathbf{x}_{i}^{T}"
    assert tex(mul(total, B)) == r"\left(\sum_{i=1}^{n} \mathbf{x}_{i} \mathbf{x}_{i}^{T}\right) B"
    assert tex(mul(B, total)) == r"B \sum_{i=1}^{n} \mathbf{x}_{i} \mathbf{x}_{i}^{T}"
    assert tex(IndexedSum("i", "n", sub(xi, x), ("n", 1))) == r"\sum_{i=1}^{n} (\mathbf{x}_{i} - \mathbf{x})"


def test_shape_annotations() -> None:
    out = tex(mul(a, transpose(b)), annotate=lambda node: isinstance(node, Symbol))
    assert out == r"\underbrace{\mathbf{a}}_{m \times 1} {\underbrace{\mathbf{b}}_{n \times 1}}^{T}"
    dX = Differential(X)
    out = tex(Trace(mul(transpose(A), dX)), annotate={dX})
    assert out == r"\operatorname{tr}\left(A^{T} \underbrace{dX}_{m \times n}\right)"
    # scalars never
    assert tex(Trace(X), annotate=lambda node: True) == r"\operatorname{tr}\left(\underbrace{X}_{m \times n}\right)"
    assert tex(neg(X), annotate={neg(X)}) == r"\underbrace{-X}_{m \times n}"
    # in a sum the minus stays outside: the sign does not change the shape
    assert tex(sub(mul(A, X), X), annotate={neg(X)}) == r"A X - \underbrace{X}_{m \times n}"
    assert tex(Vec(X, ("m*n", 1)), annotate=lambda n: isinstance(n, Vec)) == (
        r"\underbrace{\operatorname{vec}(X)}_{mn \times 1}"
    )


def test_product_dimensions() -> None:
    assert tex(DimValue("m*n")) == "mn"
    assert tex(DimValue("n*n")) == "n^{2}"
    assert tex(DimValue("2*3")) == r"2 \cdot 3"
    out = tex(Vec(X, ("m*n", 1)), annotate=lambda node: isinstance(node, Vec))
    assert out == r"\underbrace{\operatorname{vec}(X)}_{mn \times 1}"


def test_text_is_safe_for_any_words() -> None:
    assert text_latex("plain words") == r"\text{plain words}"
    assert text_latex("") == r"\text{}"
    assert text_latex("one-hot: 1ᵀy = 1") == r"\text{one-hot: 1}^{T}\text{y = 1}"
    hostile = r"a}\end{aligned} & $x$ #1 50% a_b ~ x^2 {"
    out = text_latex(hostile)
    assert_well_formed(out)
    assert "&" not in out.replace(r"\&", "") and "$" not in out.replace(r"\$", "")
    assert r"\end" not in out


# --------------------------------------------------------------------------- well-formedness


def assert_well_formed(latex: str) -> None:
    depth = 0
    for char_index, char in enumerate(latex):
        if char == "{" and latex[char_index - 1 : char_index] != "\\":
            depth += 1
        elif char == "}" and latex[char_index - 1 : char_index] != "\\":
            depth -= 1
        assert depth >= 0, latex
    assert depth == 0, latex
    assert latex.count(r"\left") == latex.count(r"\right"), latex
    for macro in re.findall(r"\\[A-Za-z]+|\\[^A-Za-z]", latex):
        if macro in (r"\\", r"\,", r"\ "):
            continue
        assert macro in ALLOWED_MACROS, f"{macro} in {latex}"
    assert r"\bm" not in latex and "DeclareMathOperator" not in latex


ALL_NODES: list[Expr] = [
    mul(num(Fraction(-1, 3)), transpose(X), A, inverse(Sigma)),
    add(Hadamard(X, X, X.shape), HadamardDiv(X, X, X.shape), neg(mul(A, X))),
    Kron(A, transpose(w), ("m", "n")),
    Trace(mul(transpose(GradientName("l", W1)), Differential(W1))),
    elementwise("log", Det(Sigma)),
    IndexedSum("i", "n", mul(xi, transpose(xi)), ("n", "n")),
    mul(Commutation("m", "n", ("m*n", "m*n")), Vec(X, ("m*n", 1))),
    Diag(y, ("m", "m")),
    power(Norm(X, "F"), 2),
    mul(transpose(Ones(("m", 1))), elementwise("exp", y)),
    elementwise("sqrt", elementwise("abs", X)),
    Softmax(mul(W, x), ("m", 1)),
    add(Zeros(("m", "n")), mul(Identity(("m", "m")), X)),
    mul(Power(DimValue("n"), Fraction(-1), (1, 1)), X),
    elementwise("sign", elementwise("tanh_prime", elementwise("sigma_prime", X))),
]


@pytest.mark.parametrize("index", range(len(ALL_NODES)))
def test_well_formed(index: int) -> None:
    expr = ALL_NODES[index]
    assert_well_formed(tex(expr))
    assert_well_formed(tex(expr, annotate=lambda node: True))


# --------------------------------------------------------------------------- derivations


def make_derivation(**options: object) -> Derivation:
    f = Symbol("f", (1, 1))
    problem = Problem(
        {
            "a": SymbolInfo("a", r"\mathbf{a}", ("m", 1)),
            "X": SymbolInfo("X", "X", ("m", "n")),
            "b": SymbolInfo("b", r"\mathbf{b}", ("n", 1)),
            "f": SymbolInfo("f", "f", (1, 1), defined=True),
        },
        [Definition(f, mul(transpose(a), X, b), 2, r"\mathbf{a}^T X \mathbf{b}")],
        [X],
    )
    dX = Differential(X)
    df = Differential(f)
    objective = Section("objective", None, [Step(f, mul(transpose(a), X, b), ("objective",))])
    gradient = Section(
        "gradient",
        X,
        [
            Step(df, mul(transpose(a), dX, b), ("product_rule", "constant")),
            Step(None, Trace(mul(transpose(a), dX, b)), ("trace_scalar",)),
            Step(None, Trace(mul(b, transpose(a), dX)), ("trace_cyclic",), note="note.scalar"),
        ],
    )
    result = Result(X, mul(a, transpose(b)), GradientName("f", X))
    check = CheckOutcome(True, 3.1e-10, {"m": 3, "n": 4}, 0)
    return Derivation(problem, Options().merged(options), [objective, gradient], [result], check)


def test_render_derivation_structure() -> None:
    out = render_derivation(make_derivation())
    # headings and the check line are rows of an array, outside the alignments:
    # the justification column of each aligned block is pushed by its steps only
    assert out.startswith("\\begin{array}{l}\n") and out.endswith("\n\\end{array}")
    rows = out.split(" \\\\\n")
    assert rows[0] == "\\begin{array}{l}\n\\text{Objective}"
    assert rows[1] == "\\begin{aligned}\n" + r"f &= \mathbf{a}^{T} X \mathbf{b} && \text{(objective)}" + "\n\\end{aligned}"
    assert rows[2] == r"\text{Gradient with respect to } X"
    assert rows[3] == "\\begin{aligned}\n" + r"df &= \mathbf{a}^{T} dX \mathbf{b} && \text{(product rule, constants have zero differential)}"
    assert rows[4] == r"&= \operatorname{tr}(\mathbf{a}^{T} dX \mathbf{b}) && \text{(a scalar is its own trace)}"
    assert rows[5] == (
        r"&= \operatorname{tr}\left(\mathbf{b} \mathbf{a}^{T} \underbrace{dX}_{m \times n}\right)"
        r" && \text{(cyclic property of the trace; a scalar equals its trace)}" + "\n\\end{aligned}"
    )
    assert rows[6] == (
        "\\begin{aligned}\n"
        r"&\boxed{\frac{\partial f}{\partial X} = \underbrace{\mathbf{a} \mathbf{b}^{T}}_{m \times n}}"
        r" && \text{denominator layout}" + "\n\\end{aligned}"
    )
    assert rows[7] == "\\text{checked numerically: max relative error } 3.1\\times10^{-10}\n\\end{array}"
    assert_well_formed(out)


def test_render_derivation_options() -> None:
    out = render_derivation(make_derivation(lang="zh", steps="brief", shapes="none", title="Bilinear {form} & more"))
    assert r"\text{对 } X \text{ 求导}" in out
    assert r"\text{乘法法则, 常量的微分为零}" in out.replace("(", "").replace(")", "")
    assert r"\text{分母布局}" in out
    assert r"\underbrace" not in out
    assert "a scalar is its own trace" not in out and "标量套上迹" not in out  # brief: middle step dropped
    assert "\n" + r"\text{Bilinear }\{\text{form}\}\text{ }\&\text{ more} \\" in out
    assert "数值验证通过" in out
    assert_well_formed(out)


def test_render_derivation_without_check_and_all_shapes() -> None:
    d = make_derivation(shapes="all")
    d.check = None
    out = render_derivation(d)
    assert "checked numerically" not in out
    assert r"\underbrace{\mathbf{a}}_{m \times 1}" in out
    assert_well_formed(out)


def test_render_markdown_is_display_math() -> None:
    out = render_markdown(make_derivation())
    assert out.startswith("\n$$\n\\begin{array}{l}")
    assert out.endswith("\\end{array}\n$$\n\n")
