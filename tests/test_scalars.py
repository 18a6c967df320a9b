"""Scalars everywhere (issue 11 §2): a scalar symbol may multiply any matrix or
vector, and may be the variable; then ``df = g dt`` is read off without a trace.
Every derivation here runs the numerical check."""

from __future__ import annotations

import pytest

import mdderiv
from mdderiv.render.latex import names_of, render_expr

R = r"\mathbb{R}"


def gradients(given: str, objective: str, wrt: str) -> list[str]:
    d = mdderiv.derive(f"given: {given}\nf = {objective}\nwrt: {wrt}")
    assert d.check is not None and d.check.passed
    names = names_of(d.problem)
    return [render_expr(r.expr, names) for r in d.results if r.kind == "gradient"]


@pytest.mark.parametrize(
    ("given", "objective", "wrt", "expected"),
    [
        # \lambda I: the scalar as the variable and as a coefficient
        (rf"A \in {R}^{{n \times n}}, \mathbf{{x}} \in {R}^{{n}}, \lambda \in {R}",
         r"\mathbf{x}^T (A + \lambda I) \mathbf{x}", r"\lambda", [r"\mathbf{x}^{T} \mathbf{x}"]),
        (rf"A \in {R}^{{n \times n}}, \mathbf{{x}} \in {R}^{{n}}, \lambda \in {R}",
         r"\mathbf{x}^T (A + \lambda I) \mathbf{x}", r"\mathbf{x}", [r"(2 \lambda I + A + A^{T}) \mathbf{x}"]),
        # \sigma^2 I inside an inverse
        (rf"K \in {R}^{{n \times n}}, \mathbf{{y}} \in {R}^{{n}}, \sigma \in {R}",
         r"\mathbf{y}^T (K + \sigma^2 I)^{-1} \mathbf{y}", r"\sigma",
         [r"-2 \sigma \mathbf{y}^{T}(K + \sigma^{2} I)^{-2} \mathbf{y}"]),
        # (A + tI)^{-1}
        (rf"A \in {R}^{{n \times n}}, t \in {R}", r"\operatorname{tr}((A + tI)^{-1})", "t",
         [r"-\operatorname{tr}((A + t I)^{-2})"]),
        (rf"A \in {R}^{{n \times n}}, t \in {R}", r"\operatorname{tr}(A + tI)", "t", ["n"]),
        # b\mathbf{1}: a bias
        (rf"X \in {R}^{{m \times n}}, \mathbf{{w}} \in {R}^{{n}}, \mathbf{{y}} \in {R}^{{m}}, b \in {R}",
         r"\| X\mathbf{w} + b\mathbf{1} - \mathbf{y} \|^2", "b",
         [r"2(X \mathbf{w} + b \mathbf{1} - \mathbf{y})^{T} \mathbf{1}"]),
        # z\mathbf{x}
        (rf"\mathbf{{x}} \in {R}^{{n}}, \mathbf{{a}} \in {R}^{{n}}, z \in {R}",
         r"\mathbf{a}^T (z\mathbf{x})", "z", [r"\mathbf{a}^{T} \mathbf{x}"]),
        (rf"\mathbf{{x}} \in {R}^{{n}}, s \in {R}", r"\mathbf{1}^T \exp(s\mathbf{x})", "s",
         [r"\exp(s \mathbf{x})^{T} \mathbf{x}"]),
        # tr(c^2 X)
        (rf"X \in {R}^{{n \times n}}, c \in {R}", r"\operatorname{tr}(c^2 X)", "c",
         [r"2 c \operatorname{tr}(X)"]),
        (rf"X \in {R}^{{n \times n}}, c \in {R}", r"\operatorname{tr}(c^2 X)", "X", [r"c^{2} I"]),
        # log det(K + βI)
        (rf"K \in {R}^{{n \times n}}, \beta \in {R}", r"\log\det(K + \beta I)", r"\beta",
         [r"\operatorname{tr}((K + \beta I)^{-1})"]),
        (rf"K \in {R}^{{n \times n}}, \beta \in {R}", r"\log\det(K + \beta I)", "K",
         [r"(K + \beta I)^{-T}"]),
        # a scalar and a matrix variable together
        (rf"A \in {R}^{{n \times n}}, X \in {R}^{{n \times n}}, t \in {R}",
         r"\operatorname{tr}(t X A X^T) + t^2", "t, X",
         [r"\operatorname{tr}(X A X^{T}) + 2 t", r"t X(A + A^{T})"]),
        (rf"X \in {R}^{{m \times n}}, \mathbf{{w}} \in {R}^{{n}}, \lambda \in {R}",
         r"\|X\mathbf{w}\|^2 + \lambda \|\mathbf{w}\|^2", r"\lambda", [r"\|\mathbf{w}\|^{2}"]),
    ],
)
def test_scalar_coefficients_and_scalar_variables_derive(
    given: str, objective: str, wrt: str, expected: list[str]
) -> None:
    assert gradients(given, objective, wrt) == expected


def test_a_scalar_variable_is_read_off_as_g_dt_like_a_teacher() -> None:
    """d log det(K + βI) = tr((K + βI)^{-1}) dβ: the scalar leaves the trace, and the
    derivative is read off df = g dβ, with no tr(… dβ) around it."""
    d = mdderiv.derive(
        rf"given: K \in {R}^{{n \times n}}, \beta \in {R}" "\nf = \\log\\det(K + \\beta I)\nwrt: \\beta"
    )
    text = d.text()
    assert "= tr((K + β I)⁻¹) dβ" in text
    steps = [step for section in d.sections for step in section.steps]
    rules = [rule for step in steps for rule in step.rules]
    assert "trace_scalar_factor" in rules and "read_off_scalar" in rules
    assert "trace_scalar" not in rules  # a scalar dβ is never wrapped in a trace


def test_a_scalar_between_vectors_commutes_without_a_trace() -> None:
    d = mdderiv.derive(rf"given: \mathbf{{x}} \in {R}^{{n}}, \mathbf{{a}} \in {R}^{{n}}, z \in {R}" "\nf = \\mathbf{a}^T (z\\mathbf{x})\nwrt: z")
    text = d.text()
    assert "df = aᵀ dz x" in text and "= aᵀ x dz" in text
    assert "tr(" not in text


@pytest.mark.parametrize(
    ("given", "objective", "wrt", "hessian"),
    [
        (rf"\mathbf{{x}}, \mathbf{{y}} \in {R}^{{n}}, t \in {R}", r"\|\mathbf{y} - t\mathbf{x}\|^2", "t",
         r"2 \mathbf{x}^{T} \mathbf{x}"),
        (rf"A \in {R}^{{n \times n}}, \mathbf{{x}} \in {R}^{{n}}, \lambda \in {R}",
         r"\mathbf{x}^T (A + \lambda I)^{-1} \mathbf{x}", r"\lambda", r"2 \mathbf{x}^{T}(A + \lambda I)^{-3} \mathbf{x}"),
        (rf"K \in {R}^{{n \times n}}, \beta \in {R}", r"\log\det(K + \beta I)", r"\beta",
         r"-\operatorname{tr}((K + \beta I)^{-2})"),
    ],
)
def test_the_second_derivative_by_a_scalar(given: str, objective: str, wrt: str, hessian: str) -> None:
    """vec(A dt B) = vec(AB) dt: a scalar's dt never becomes a Kronecker factor, and
    the Hessian of a scalar variable is written ∂²f/∂t²."""
    d = mdderiv.derive(f"given: {given}\nf = {objective}\nwrt: {wrt}", hessian=True)
    assert d.check is not None and d.check.passed
    (result,) = [r for r in d.results if r.kind == "hessian"]
    assert render_expr(result.expr, names_of(d.problem)) == hessian
    assert r"\frac{\partial^{2}f}{\partial " in d.latex() and r"^{2}}" in d.latex()
    assert r"\operatorname{vec}" not in d.latex()


def test_a_scalar_variable_has_its_stationary_point_and_a_matrix_function_of_it_its_derivative() -> None:
    d = mdderiv.derive(rf"given: \mathbf{{x}}, \mathbf{{y}} \in {R}^{{n}}, t \in {R}" "\nf = \\|\\mathbf{y} - t\\mathbf{x}\\|^2\nwrt: t", solve=True)
    assert d.check is not None and d.check.passed
    (point,) = [r for r in d.results if r.kind == "stationary point"]
    assert render_expr(point.expr, names_of(d.problem)) == r"\frac{1}{\mathbf{x}^{T} \mathbf{x}} \mathbf{y}^{T} \mathbf{x}"
    d = mdderiv.derive(rf"given: A \in {R}^{{n \times n}}, t \in {R}" "\nF = (A + tI)^{-1}\nwrt: t")
    assert d.check is not None and d.check.passed
    assert render_expr(d.results[0].expr, names_of(d.problem)) == r"-{\operatorname{vec}((A + t I)^{-2})}^{T}"


def test_no_stationary_point_through_a_rank_one_matrix() -> None:
    """Found by the property tests: ∂f/∂X = (X x aᵀx + c²x) xᵀa xᵀ is affine in X, but
    x aᵀx xᵀa xᵀ has rank one; (x aᵀx xᵀa xᵀ)⁻¹ does not exist, so there is no closed form
    (it used to be written, and only the numerical check stopped it)."""
    body = (
        rf"given: X \in {R}^{{n \times n}}, \mathbf{{a}}, \mathbf{{x}} \in {R}^{{n}}, c \in {R}" "\n"
        r"f = \frac{1}{2}\|X \mathbf{x}\mathbf{a}^T \mathbf{x}\|^2 + c^2 \mathbf{x}^T X \mathbf{x}\mathbf{a}^T \mathbf{x}"
        "\nwrt: X"
    )
    d = mdderiv.derive(body, solve=True)
    assert d.check is not None and d.check.passed
    assert not [r for r in d.results if r.kind == "stationary point"]
    assert "no closed form" in d.text()
