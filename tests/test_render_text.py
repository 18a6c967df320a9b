"""The Unicode renderer: expressions, declared spellings and a derivation."""

from __future__ import annotations

from fractions import Fraction

import pytest

from test_render_latex import make_derivation  # the hand-built derivation

from mdderiv.expr import (
    Commutation,
    Det,
    Diag,
    Differential,
    DimValue,
    GradientName,
    Hadamard,
    HadamardDiv,
    IndexedSum,
    Kron,
    Norm,
    Ones,
    Power,
    Softmax,
    Symbol,
    Trace,
    Vec,
    Zeros,
    elementwise,
    inverse,
    mul,
    neg,
    num,
    power,
    sub,
    transpose,
)
from mdderiv.render.text import latex_to_unicode, render_derivation, render_expr_text, subscript, superscript

X = Symbol("X", ("m", "n"))
A = Symbol("A", ("m", "m"))
w = Symbol("w", ("n", 1))
y = Symbol("y", ("m", 1))
x = Symbol("x", ("n", 1))
W = Symbol("W", ("m", "n"))
c = Symbol("c", (1, 1))
S = Symbol("Sigma", ("m", "m"), frozenset({"spd"}))
W1 = Symbol("W_1", ("p", "n"))
xi = Symbol("x", ("n", 1), index="i")
NAMES = {"Sigma": "Σ", "W_1": "W₁"}


def txt(expr) -> str:  # type: ignore[no-untyped-def]
    return render_expr_text(expr, NAMES)


def test_expressions() -> None:
    assert txt(mul(num(2), transpose(X), sub(mul(X, w), y))) == "2 Xᵀ(X w − y)"
    assert txt(mul(sub(Softmax(mul(W, x), ("m", 1)), y), transpose(x))) == "(softmax(W x) − y) xᵀ"
    assert txt(inverse(S)) == "Σ⁻¹"
    assert txt(transpose(inverse(A))) == "A⁻ᵀ"
    assert txt(transpose(mul(A, X))) == "(A X)ᵀ"
    assert txt(Hadamard(X, elementwise("sigma_prime", X), X.shape)) == "X ⊙ σ′(X)"
    assert txt(HadamardDiv(X, X, X.shape)) == "X ⊘ X"
    assert txt(Kron(A, A, ("m*m", "m*m"))) == "A ⊗ A"
    assert txt(Trace(mul(transpose(X), X))) == "tr(Xᵀ X)"
    assert txt(elementwise("log", Det(S))) == "log|Σ|"
    assert txt(GradientName("l", W1)) == "∂l/∂W₁"
    assert txt(mul(transpose(GradientName("l", W1)), Differential(W1))) == "(∂l/∂W₁)ᵀ dW₁"
    assert txt(Norm(x, "2")) == "‖x‖"
    assert txt(power(Norm(X, "F"), 2)) == "‖X‖_F²"
    assert txt(mul(transpose(Ones(("m", 1))), y)) == "𝟏ᵀ y"
    assert txt(Zeros(("m", "n"))) == "𝟎"
    assert txt(elementwise("tanh_prime", X)) == "tanh′(X)"
    assert txt(elementwise("sqrt", c)) == "√(c)"
    assert txt(power(c, Fraction(1, 2))) == "c^(1/2)"
    assert txt(power(c, -2)) == "c⁻²"
    assert txt(Diag(y, ("m", "m"))) == "diag(y)"
    assert txt(Vec(X, ("m*n", 1))) == "vec(X)"
    assert txt(Commutation("m", "n", ("m*n", "m*n"))) == "Kₘₙ"
    assert txt(IndexedSum("i", "n", mul(xi, transpose(xi)), ("n", "n"))) == "∑ᵢ₌₁ⁿ xᵢ xᵢᵀ"
    assert txt(neg(mul(A, X))) == "−A X"
    assert txt(sub(X, mul(num(Fraction(1, 2)), X))) == "X − (1/2) X"
    assert txt(mul(Power(DimValue("n"), Fraction(-1), (1, 1)), X)) == "(1/n) X"


def test_latex_spellings_to_unicode() -> None:
    assert latex_to_unicode(r"\mathbf{x}") == "x"
    assert latex_to_unicode(r"\Sigma") == "Σ"
    assert latex_to_unicode(r"W_{1}") == "W₁"
    assert latex_to_unicode(r"W_{12}") == "W₁₂"
    assert latex_to_unicode(r"\bar{\mathbf{x}}") == "x̄"
    assert latex_to_unicode(r"\hat{y}") == "ŷ"
    assert latex_to_unicode(r"\boldsymbol{\mu}") == "μ"
    assert latex_to_unicode(r"\bm{\theta}_k") == "θₖ"
    assert subscript("b") == "_b" and subscript("bc") == "_bc" and subscript("b+c") == "_(b+c)"
    assert latex_to_unicode(r"W_{\text{enc}}") == "W_enc"
    assert latex_to_unicode(r"\mathbf{x}_{\text{in}}") == "xᵢₙ"
    assert superscript("2") == "²"


def test_derivation_lines() -> None:
    lines = render_derivation(make_derivation()).splitlines()
    assert lines[0] == "Objective"
    assert lines[1].startswith("  f = aᵀ X b ") and lines[1].endswith("[objective]")
    assert lines[2] == "Gradient with respect to X"
    assert lines[3].startswith("  df = aᵀ dX b")
    assert lines[4].startswith("     = tr(aᵀ dX b)")  # continuation under the "="
    # the rules line up in one column
    assert len({line.index("[") for line in lines if "[" in line}) == 1
    assert lines[6] == "  ▶ ∂f/∂X = a bᵀ   (denominator layout)"
    assert lines[7] == "checked numerically: max relative error 3.1e-10"


def test_derivation_in_chinese_brief() -> None:
    out = render_derivation(make_derivation(lang="zh", steps="brief", title="双线性"))
    assert out.splitlines()[0] == "双线性"
    assert "对 X 求导" in out and "分母布局" in out and "数值验证通过" in out
    assert "标量套上迹" not in out  # the middle step is left out


@pytest.mark.parametrize(
    ("text", "unit"),
    [("‖x − a‖", True), ("‖X‖_F", True), ("√(xᵀ x)", True), ("(a + b)", True),
     ("(xᵀ x)²", True), ("‖x‖³", True), ("(a)(b)", False), ("2 n", False), ("‖a‖ ‖b‖", False)],
)
def test_a_bracketed_denominator_needs_no_more_parentheses(text: str, unit: bool) -> None:
    from mdderiv.render.text import _one_unit

    assert _one_unit(text) is unit
