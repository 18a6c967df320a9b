"""Beyond gradients: matrix-by-matrix derivatives, Jacobians, Hessians,
stationary points and symmetric variables — the form of each result and,
through the numerical check every derivation runs, its value."""

from __future__ import annotations

import numpy as np
import pytest

import mdderiv
from mdderiv.check import dimension_sizes, draw
from mdderiv.numeric import evaluate
from mdderiv.render.latex import names_of, render_expr

SQUARE = r"given: X \in \mathbb{R}^{n \times n}, A \in \mathbb{R}^{n \times n}, B \in \mathbb{R}^{n \times n}"


def forms(body: str, **options: object) -> dict[str, str]:
    d = mdderiv.derive(body, **options)
    assert d.check is not None and d.check.passed
    names = names_of(d.problem)
    return {r.kind: render_expr(r.expr, names) for r in d.results}


@pytest.mark.parametrize(
    ("objective", "form"),
    [
        ("A X", r"I \otimes A^{T}"),
        ("X B", r"B \otimes I"),
        ("A X B", r"B \otimes A^{T}"),
        ("X^T", r"K_{nn}"),
        ("X^{-1}", r"-(X^{-1} \otimes X^{-T})"),
        ("X^T X", r"K_{nn}(X \otimes I) + I \otimes X"),
        (r"X \odot A", r"\operatorname{diag}(\operatorname{vec}(A))"),
        (r"\sigma(X)", r"\operatorname{diag}(\operatorname{vec}(\sigma'(X)))"),
        (r"|X| X^{-1}", r"|X|(\operatorname{vec}(X^{-T}) {\operatorname{vec}(X^{-1})}^{T} - X^{-1} \otimes X^{-T})"),
    ],
)
def test_matrix_by_matrix_derivatives(objective: str, form: str) -> None:
    out = forms(f"{SQUARE}\nF = {objective}\nwrt: X")
    assert out["derivative"] == form


def test_matrix_by_matrix_numerator_layout_is_the_transpose() -> None:
    d = mdderiv.derive(f"{SQUARE}\nF = A X B\nwrt: X", layout="numerator")
    (result,) = d.results
    assert result.layout == "numerator"
    assert render_expr(result.expr, names_of(d.problem)) == r"B^{T} \otimes A"


def test_kronecker_derivative_has_the_vec_convention_of_the_spec() -> None:
    """vec(dF) = D^T vec(dX) with vec stacking columns, checked entry by entry."""
    d = mdderiv.derive(r"given: X \in \mathbb{R}^{m \times n}, A \in \mathbb{R}^{p \times m}, B \in \mathbb{R}^{n \times q}" "\nF = A X B\nwrt: X")
    sizes = dimension_sizes(d.problem)
    sizes["q"] = 2
    rng = np.random.default_rng(0)
    values = {i.name: draw(i, sizes, rng, False) for i in d.problem.symbols.values() if not i.defined}
    D = evaluate(d.results[0].expr, values, sizes, d.problem)
    A, B = values["A"], values["B"]
    assert np.allclose(D, np.kron(B, A.T))  # (B^T ⊗ A)^T


def test_jacobian_of_a_vector_function() -> None:
    body = r"""given: W \in \mathbb{R}^{m \times n}, \mathbf{x} \in \mathbb{R}^{n}
\mathbf{F} = \sigma(W\mathbf{x})
wrt: \mathbf{x}"""
    assert forms(body, layout="numerator")["derivative"] == (
        r"\operatorname{diag}(\sigma'(W \mathbf{x})) W"
    )
    assert forms(body)["derivative"] == r"W^{T} \operatorname{diag}(\sigma'(W \mathbf{x}))"


def test_softmax_jacobian() -> None:
    body = "given: x: n\nF = \\operatorname{softmax}(x)\nwrt: x"
    assert forms(body)["derivative"] == (
        r"\operatorname{diag}(\operatorname{softmax}(x)) - \operatorname{softmax}(x) \operatorname{softmax}(x)^{T}"
    )


def test_scalar_times_vector_keeps_the_scalar_whole() -> None:
    body = "given: x: n, a: n, y: m\nF = (a^T x) y\nwrt: x"
    assert forms(body)["derivative"] == "a y^{T}"


@pytest.mark.parametrize(
    ("body", "hessian"),
    [
        ("given: x: n, A: n x n\nf = x^T A x\nwrt: x", "A + A^{T}"),
        ("given: X: m x n, w: n, y: m\nl = \\|Xw - y\\|^2\nwrt: w", r"2 X^{T} X"),
        (
            "given: X: m x n, w: n, y: m\nl = \\mathbf{1}^T\\log(\\mathbf{1}+\\exp(X w)) - y^T X w\nwrt: w",
            r"X^{T} \operatorname{diag}(\sigma'(X w)) X",
        ),
        (
            "given: w: n, x: n, y: scalar\nl = \\log(1 + \\exp(-y w^T x))\nwrt: w",
            r"y^{2} \sigma'(-y w^{T} x) x x^{T}",
        ),
        (
            "given: a: m, y: m one-hot\nl = -y^T \\log \\operatorname{softmax}(a)\nwrt: a",
            r"\operatorname{diag}(\operatorname{softmax}(a)) - \operatorname{softmax}(a) \operatorname{softmax}(a)^{T}",
        ),
        ("given: X: n x n\nf = \\log|X|\nwrt: X", r"-(X^{-1} \otimes X^{-T}) K_{nn}"),
    ],
)
def test_hessians(body: str, hessian: str) -> None:
    assert forms(body, hessian=True)["hessian"] == hessian


def test_logistic_gradient_recognises_the_sigmoid() -> None:
    body = "given: X: m x n, w: n, y: m\nl = \\mathbf{1}^T\\log(\\mathbf{1}+\\exp(X w)) - y^T X w\nwrt: w"
    assert forms(body)["gradient"] == r"X^{T}(\sigma(X w) - y)"


@pytest.mark.parametrize(
    ("body", "point"),
    [
        ("given: X: m x n, w: n, y: m\nl = \\|Xw - y\\|^2\nwrt: w", r"(X^{T} X)^{-1} X^{T} y"),
        (
            "given: X: m x n, w: n, y: m, \\lambda: scalar\nl = \\|Xw - y\\|^2 + \\lambda \\|w\\|^2\nwrt: w",
            r"(X^{T} X + \lambda I)^{-1} X^{T} y",
        ),
        ("given: x: n, A: n x n symmetric, b: n\nf = \\frac{1}{2} x^T A x - b^T x\nwrt: x", r"A^{-1} b"),
        (
            r"""given: \Sigma \in \mathbb{S}_{++}^{m}, S \in \mathbb{S}^{m}
l = \log|\Sigma| + \operatorname{tr}(S \Sigma^{-1})
wrt: \Sigma""",
            "S",
        ),
        (
            r"""given: \Sigma \in \mathbb{S}_{++}^{m}, Z \in \mathbb{R}^{m \times n}
l = \log|\Sigma| + \frac{1}{n}\operatorname{tr}(Z^T \Sigma^{-1} Z)
wrt: \Sigma""",
            r"\frac{1}{n} Z Z^{T}",
        ),
        ("given: X: n x n symmetric, S: n x n symmetric\nf = -\\log|X| + \\operatorname{tr}(SX)\nwrt: X", "S^{-1}"),
        ("given: X: n x n symmetric, A: n x n\nf = \\|X - A\\|_F^2\nwrt: X", r"\frac{1}{2}(A + A^{T})"),
    ],
)
def test_stationary_points(body: str, point: str) -> None:
    assert forms(body, solve=True)["stationary point"] == point


def test_no_closed_form_is_said_plainly() -> None:
    body = "given: W: m x n, x: n, y: m one-hot\nl = -y^T \\log \\operatorname{softmax}(W x)\nwrt: W"
    d = mdderiv.derive(body, solve=True)
    assert not any(r.kind == "stationary point" for r in d.results)
    solve = next(s for s in d.sections if s.kind == "solve")
    assert solve.steps[-1].note == "no_closed_form"
    assert "no closed form" in d.latex()


def test_symmetric_variable_gets_sym_of_the_gradient() -> None:
    body = "given: X: n x n symmetric, A: n x n\nf = \\operatorname{tr}(A X)\nwrt: X"
    out = forms(body)
    assert out["gradient"] == "A^{T}"
    assert out["symmetric gradient"] == r"\frac{1}{2}(A + A^{T})"


def test_symmetric_gradient_factors_on_both_sides() -> None:
    # sym(X A^T + A^T X) = ½(X(A + A^T) + (A + A^T)X): a person factors both pairs
    body = "given: X: n x n symmetric, A: n x n\nf = \\operatorname{tr}(X A X)\nwrt: X"
    out = forms(body)
    assert out["symmetric gradient"] == r"\frac{1}{2}(X(A + A^{T}) + (A + A^{T}) X)"


def test_symmetric_gradient_is_not_2G_minus_diag() -> None:
    """The often-quoted 2G - G ⊙ I is not the gradient on symmetric matrices:
    along a symmetric direction V the derivative is tr(sym(G)^T V), which
    2G - G ⊙ I fails (Srinivasan & Panda, arXiv:1911.06491)."""
    body = "given: X: n x n symmetric, A: n x n\nf = \\operatorname{tr}(A X)\nwrt: X"
    d = mdderiv.derive(body)
    rng = np.random.default_rng(3)
    n = 4
    a = rng.standard_normal((n, n))
    values = {"A": a, "X": np.eye(n)}
    sym = evaluate(next(r for r in d.results if r.kind == "symmetric gradient").expr, values, {"n": n}, d.problem)
    v = rng.standard_normal((n, n))
    v = v + v.T
    directional = np.trace(a @ v)  # f is linear: exact
    assert np.isclose(np.sum(sym * v), directional)
    g = a.T
    wrong = 2 * g - g * np.eye(n)
    assert not np.isclose(np.sum(wrong * v), directional)
    assert "sym_note" in {s.note for sec in d.sections for s in sec.steps}


def test_scalar_variable_has_a_scalar_gradient() -> None:
    body = "given: \\theta: scalar, x: n\nf = \\sin(\\theta) x^T x + \\cos\\theta\nwrt: \\theta"
    assert forms(body)["gradient"] == r"\cos(\theta) x^{T} x - \sin(\theta)"


def test_brief_steps_never_continue_df_with_the_gradient() -> None:
    d = mdderiv.derive("given: a: m, X: m x n, b: n\nf = a^T X b\nwrt: X", steps="brief")
    lines = d.latex().split("\\\\")
    read_off = next(i for i, line in enumerate(lines) if r"\frac{\partial f}{\partial X} &=" in line)
    assert "dX" in lines[read_off - 1]  # the df chain ends in tr(b a^T dX) …
    assert lines[read_off].strip().startswith(r"\frac{\partial f}{\partial X}")  # … and ∂f/∂X starts anew


@pytest.mark.parametrize(
    ("body", "gradient", "hessian"),
    [
        (
            "given: X: m x n, w: n, y: m\n"
            "l = -y^T \\log \\sigma(X w) - (\\mathbf{1} - y)^T \\log(\\mathbf{1} - \\sigma(X w))\nwrt: w",
            r"X^{T}(\sigma(X w) - y)",
            r"X^{T} \operatorname{diag}(\sigma'(X w)) X",
        ),
        (
            "given: w: n, x: n, y: scalar\n"
            "l = -y \\log \\sigma(w^T x) - (1 - y)\\log(1 - \\sigma(w^T x))\nwrt: w",
            r"(\sigma(w^{T} x) - y) x",
            r"\sigma'(w^{T} x) x x^{T}",
        ),
    ],
)
def test_logistic_cross_entropy_collects_to_sigma_minus_y(body: str, gradient: str, hessian: str) -> None:
    out = forms(body, hessian=True)
    assert out["gradient"] == gradient
    assert out["hessian"] == hessian


@pytest.mark.parametrize(
    ("body", "form"),
    [
        ("given: x: n\nf = \\mathbf{1}^T \\operatorname{diag}(x) \\mathbf{1}\nwrt: x", r"\mathbf{1}"),
        ("given: X: n x n\nf = \\mathbf{1}^T \\operatorname{diag}(X)\nwrt: X", "I"),
        ("given: x: n\nf = \\sum_{i=1}^{n} x^T x\nwrt: x", "2 n x"),
    ],
)
def test_diag_and_sums_without_the_index_simplify(body: str, form: str) -> None:
    assert forms(body)["gradient"] == form


def test_what_the_engine_cannot_do_is_an_error_at_the_objective_line() -> None:
    # (1^T vec(X) derives now, by vec^{-1}; a matrix exponential outside a trace does not)
    body = "given: X: n x n, A: n x n\n% the objective\nf = \\operatorname{tr}(A e^{X})\nwrt: X"
    with pytest.raises(mdderiv.DeriveError) as info:
        mdderiv.derive(body)
    assert info.value.line == 3
    assert "matrix exponential" in info.value.message


def test_a_scalars_inverse_reads_as_a_fraction() -> None:
    assert forms("given: x: n\nf = \\sqrt{x^T x}\nwrt: x")["gradient"] == r"\frac{1}{\sqrt{x^{T} x}} x"
    latex = mdderiv.derive("given: W: m x n, x: n, y: m one-hot\nl = -y^T \\log \\operatorname{softmax}(W x)\nwrt: W").latex()
    assert r"\frac{1}{\mathbf{1}^{T} \exp(W x)} \mathbf{1}^{T}(\exp(W x) \odot (dW x))" in latex


def test_a_number_comes_out_of_diag() -> None:
    body = "given: x: n\nf = x \\odot x\nwrt: x"
    assert forms(body)["derivative"] == r"2 \operatorname{diag}(x)"
