"""Shape stage: block text → checked Problem (node structure, shapes, errors, hostile input)."""

from __future__ import annotations

import contextlib
import time
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdderiv.errors import DeriveError
from mdderiv.expr import (
    ONE_HOT,
    SCALAR,
    SPD,
    SYMMETRIC,
    Add,
    Det,
    Diag,
    DimValue,
    Elementwise,
    Hadamard,
    HadamardDiv,
    Identity,
    IndexedSum,
    Inverse,
    Kron,
    MatMul,
    Norm,
    Number,
    Ones,
    Power,
    Softmax,
    Symbol,
    Trace,
    Transpose,
    Vec,
)
from mdderiv.parse import _parse_problem, parse_problem

# The seed blocks of the public contract check (../shared/contract_check.py).
CASES = {
    "aTXb": "given: \\mathbf{a} \\in \\mathbb{R}^{m}, X \\in \\mathbb{R}^{m \\times n}, \\mathbf{b} \\in \\mathbb{R}^{n}\nf = \\mathbf{a}^T X \\mathbf{b}\nwrt: X",
    "least-squares": "given: X \\in \\mathbb{R}^{m \\times n}, w \\in \\mathbb{R}^{n}, y \\in \\mathbb{R}^{m}\nl = \\|Xw - y\\|^2\nwrt: w",
    "softmax-ce": "given: W \\in \\mathbb{R}^{m \\times n}, \\mathbf{x} \\in \\mathbb{R}^{n}, \\mathbf{y} \\in \\mathbb{R}^{m}\ngiven: \\mathbf{y} \\text{ one-hot}\nl = -\\mathbf{y}^T \\log \\operatorname{softmax}(W\\mathbf{x})\nwrt: W",
    "gaussian-mle": "given: \\Sigma \\in \\mathbb{S}_{++}^{m}, Z \\in \\mathbb{R}^{m \\times n}\nl = \\log|\\Sigma| + \\frac{1}{n}\\operatorname{tr}(Z^T \\Sigma^{-1} Z)\nwrt: \\Sigma",
    "two-layer": "given: W_1 \\in \\mathbb{R}^{p \\times n}, W_2 \\in \\mathbb{R}^{m \\times p}, \\mathbf{x} \\in \\mathbb{R}^{n}, \\mathbf{y} \\in \\mathbb{R}^{m}\ngiven: \\mathbf{y} \\text{ one-hot}\nl = -\\mathbf{y}^T \\log \\operatorname{softmax}(W_2 \\sigma(W_1 \\mathbf{x}))\nwrt: W_1, W_2",
    "trYMY": "given: W \\in \\mathbb{R}^{p \\times m}, X \\in \\mathbb{R}^{m \\times n}, M \\in \\mathbb{S}^{p}\nY = \\sigma(WX)\nf = \\operatorname{tr}(Y^T M Y)\nwrt: X",
    "xTBx": "given: \\mathbf{x} \\in \\mathbb{R}^{n}, B \\in \\mathbb{R}^{n \\times n}\nf = \\mathbf{x}^T B \\mathbf{x}\nwrt: \\mathbf{x}",
    "ascii-decl": "given: a: m, X: m x n, b: n\nf = a^T X b\nwrt: X",
}
CASE_SYMBOLS = {
    "aTXb": {"a": ("m", 1), "X": ("m", "n"), "b": ("n", 1)},
    "least-squares": {"X": ("m", "n"), "w": ("n", 1), "y": ("m", 1)},
    "softmax-ce": {"W": ("m", "n"), "x": ("n", 1), "y": ("m", 1)},
    "gaussian-mle": {"Sigma": ("m", "m"), "Z": ("m", "n")},
    "two-layer": {"W_1": ("p", "n"), "W_2": ("m", "p"), "x": ("n", 1), "y": ("m", 1)},
    "trYMY": {"W": ("p", "m"), "X": ("m", "n"), "M": ("p", "p")},
    "xTBx": {"x": ("n", 1), "B": ("n", "n")},
    "ascii-decl": {"a": ("m", 1), "X": ("m", "n"), "b": ("n", 1)},
}
CASE_WRT = {
    "aTXb": ["X"], "least-squares": ["w"], "softmax-ce": ["W"], "gaussian-mle": ["Sigma"],
    "two-layer": ["W_1", "W_2"], "trYMY": ["X"], "xTBx": ["x"], "ascii-decl": ["X"],
}  # fmt: skip
BAD = {
    "shape-mismatch": (
        "given: a \\in \\mathbb{R}^{n}, X \\in \\mathbb{R}^{m \\times n}\nf = a^T X\nwrt: X\n",
        2,
    ),
    "undeclared": ("given: X \\in \\mathbb{R}^{m \\times n}\nf = \\operatorname{tr}(X^T Q)\nwrt: X\n", 2),
    "unbalanced": ("given: X \\in \\mathbb{R}^{n \\times n}\nf = \\operatorname{tr}(X^{-1}\nwrt: X\n", 2),
    # the objective does not depend on Y: the error is at the wrt line
    "wrt-absent": (
        "given: X \\in \\mathbb{R}^{n \\times n}, Y \\in \\mathbb{R}^{n \\times n}\nf = \\operatorname{tr}(X)\nwrt: Y\n",
        3,
    ),
}

COVARIANCE = (
    "given: \\mathbf{x}_i \\in \\mathbb{R}^{m}, \\bar{\\mathbf{x}} \\in \\mathbb{R}^{m}, \\Sigma \\in \\mathbb{S}_{++}^{m}\n"
    "l = \\log|\\Sigma| + \\frac{1}{n}\\sum_{i=1}^{n} (\\mathbf{x}_i - \\bar{\\mathbf{x}})^T \\Sigma^{-1} (\\mathbf{x}_i - \\bar{\\mathbf{x}})\n"
    "wrt: \\Sigma"
)

# symbols for the expression tests below
GIVEN = (
    "given: X \\in \\mathbb{R}^{m \\times n}, A \\in \\mathbb{R}^{n \\times n}, \\mathbf{a} \\in \\mathbb{R}^{m}, "
    "\\mathbf{b} \\in \\mathbb{R}^{n}, c \\in \\mathbb{R}, S \\in \\mathbb{S}^{n}, \\Sigma \\in \\mathbb{S}_{++}^{n}, "
    "B \\in \\mathbb{R}^{p \\times q}"
)
X = Symbol("X", ("m", "n"))
A = Symbol("A", ("n", "n"))
a = Symbol("a", ("m", 1))
b = Symbol("b", ("n", 1))
c = Symbol("c", SCALAR)
S = Symbol("S", ("n", "n"), frozenset({SYMMETRIC}))
Sigma = Symbol("Sigma", ("n", "n"), frozenset({SPD}))
B = Symbol("B", ("p", "q"))
aT = Transpose(a, (1, "m"))
bT = Transpose(b, (1, "n"))


def objective(rhs: str, wrt: str = "X", given: str = GIVEN):  # type: ignore[no-untyped-def]
    return parse_problem(f"{given}\nf = {rhs}\nwrt: {wrt}").objective.expr


def error_of(rhs: str, wrt: str = "X", given: str = GIVEN) -> DeriveError:
    with pytest.raises(DeriveError) as info:
        parse_problem(f"{given}\nf = {rhs}\nwrt: {wrt}")
    return info.value


# --------------------------------------------------------------------------- contract seeds


@pytest.mark.parametrize("name", list(CASES))
def test_contract_cases_parse(name: str) -> None:
    problem = parse_problem(CASES[name])
    for ident, shape in CASE_SYMBOLS[name].items():
        assert problem.symbols[ident].shape == shape
        assert not problem.symbols[ident].defined
    assert [s.name for s in problem.wrt] == CASE_WRT[name]
    assert problem.objective.expr.shape == SCALAR
    assert problem.wrt_line == CASES[name].count("\n") + 1


@pytest.mark.parametrize("name", list(BAD))
def test_contract_bad_blocks_raise_at_line(name: str) -> None:
    body, line = BAD[name]
    with pytest.raises(DeriveError) as info:
        parse_problem(body)
    assert info.value.line == line
    assert info.value.message


def test_contract_error_messages() -> None:
    with pytest.raises(DeriveError) as info:
        parse_problem(BAD["shape-mismatch"][0])
    assert info.value.message == "cannot multiply 1×n by m×n: inner dimensions n and m differ"
    assert (info.value.line, info.value.column) == (2, 9)
    with pytest.raises(DeriveError) as info:
        parse_problem(BAD["undeclared"][0])
    assert info.value.message.startswith("undeclared symbol Q")
    assert "given: Q \\in \\mathbb{R}^{m \\times n}" in info.value.message
    assert (info.value.line, info.value.column) == (2, 27)


def test_seed_structures() -> None:
    p = parse_problem(CASES["aTXb"])
    assert p.objective.expr == MatMul((aT, X, b), SCALAR)
    assert p.symbols["a"].latex == "\\mathbf{a}" and p.symbols["X"].latex == "X"
    assert p.wrt == [X] and p.dims == ["m", "n"]
    assert p.objective.symbol == Symbol("f", SCALAR) and p.objective.line == 2
    assert p.objective.source == "\\mathbf{a}^T X \\mathbf{b}"

    ls = parse_problem(CASES["least-squares"]).objective.expr
    w, y = Symbol("w", ("n", 1)), Symbol("y", ("m", 1))
    residual = Add((MatMul((X, w), ("m", 1)), MatMul((Number(Fraction(-1)), y), ("m", 1))), ("m", 1))
    assert ls == Power(Norm(residual, "2"), Fraction(2), SCALAR)

    ce = parse_problem(CASES["softmax-ce"])
    W, x = Symbol("W", ("m", "n")), Symbol("x", ("n", 1))
    yy = Symbol("y", ("m", 1), frozenset({ONE_HOT}))
    log_softmax = Elementwise("log", Softmax(MatMul((W, x), ("m", 1)), ("m", 1)), ("m", 1))
    assert ce.objective.expr == MatMul((Number(Fraction(-1)), Transpose(yy, (1, "m")), log_softmax), SCALAR)
    assert ce.symbols["y"].props == frozenset({ONE_HOT})

    mle = parse_problem(CASES["gaussian-mle"]).objective.expr
    Sm = Symbol("Sigma", ("m", "m"), frozenset({SPD}))
    Z = Symbol("Z", ("m", "n"))
    assert isinstance(mle, Add)
    assert mle.terms[0] == Elementwise("log", Det(Sm), SCALAR)
    inner = MatMul((Transpose(Z, ("n", "m")), Inverse(Sm, ("m", "m")), Z), ("n", "n"))
    assert mle.terms[1] == MatMul((Power(DimValue("n"), Fraction(-1), SCALAR), Trace(inner)), SCALAR)


def test_intermediate_definitions() -> None:
    p = parse_problem(CASES["trYMY"])
    Y = Symbol("Y", ("p", "n"))
    assert [d.symbol for d in p.definitions] == [Y, Symbol("f", SCALAR)]
    assert p.definitions[0].expr == Elementwise(
        "sigma", MatMul((Symbol("W", ("p", "m")), Symbol("X", ("m", "n"))), ("p", "n")), ("p", "n")
    )
    assert p.symbols["Y"].defined and p.symbols["Y"].shape == ("p", "n")
    M = Symbol("M", ("p", "p"), frozenset({SYMMETRIC}))
    assert p.objective.expr == Trace(MatMul((Transpose(Y, ("n", "p")), M, Y), ("n", "n")))


def test_definition_names_can_be_latex() -> None:
    p = parse_problem(
        "given: W_1 \\in \\mathbb{R}^{p \\times n}, W_2 \\in \\mathbb{R}^{m \\times p}, \\mathbf{x} \\in \\mathbb{R}^{n}\n"
        "\\mathbf{a}_1 = W_1\\mathbf{x}\n\\mathbf{h} = \\sigma(\\mathbf{a}_1)\nf = \\mathbf{1}^T W_2 \\mathbf{h}\nwrt: W_1, W_2"
    )
    assert p.symbols["a_1"].latex == "\\mathbf{a}_{1}" and p.symbols["a_1"].shape == ("p", 1)
    assert p.symbols["h"].defined
    assert [s.name for s in p.wrt] == ["W_1", "W_2"]  # W_1 reached through two definitions


def test_covariance_example() -> None:
    p = parse_problem(COVARIANCE)
    fam = p.symbols["x"]
    assert (fam.index, fam.count, fam.shape, fam.latex) == ("i", "n", ("m", 1), "\\mathbf{x}")
    assert p.symbols["x_bar"].latex == "\\bar{\\mathbf{x}}"
    assert p.dims == ["m", "n"]
    expr = p.objective.expr
    assert isinstance(expr, Add)
    sigma = Symbol("Sigma", ("m", "m"), frozenset({SPD}))
    assert expr.terms[0] == Elementwise("log", Det(sigma), SCALAR)
    scaled = expr.terms[1]
    assert isinstance(scaled, MatMul) and scaled.factors[0] == Power(DimValue("n"), Fraction(-1), SCALAR)
    total = scaled.factors[1]
    assert isinstance(total, IndexedSum) and (total.index, total.upper, total.shape) == ("i", "n", SCALAR)
    member = Symbol("x", ("m", 1), index="i")
    diff = Add((member, MatMul((Number(Fraction(-1)), Symbol("x_bar", ("m", 1))), ("m", 1))), ("m", 1))
    assert total.body == MatMul((Transpose(diff, (1, "m")), Inverse(sigma, ("m", "m")), diff), SCALAR)
    assert parse_problem(COVARIANCE.replace("wrt: \\Sigma", "wrt: \\bar{\\mathbf{x}}")).wrt == [
        Symbol("x_bar", ("m", 1))
    ]


def test_family_member_outside_its_sum() -> None:
    body = "given: x_i \\in \\mathbb{R}^{m}, W: m x m\nf = x_i^T W x_i + \\sum_{i=1}^{n} x_i^T x_i\nwrt: W"
    with pytest.raises(DeriveError) as info:
        parse_problem(body)
    assert "inside" in info.value.message and info.value.line == 2 and info.value.column == 5


def test_subscripted_symbol_without_a_sum_is_plain() -> None:
    p = parse_problem("given: x_i \\in \\mathbb{R}^{m}, W: m x m\nf = \\mathbf{x}_i^T W x_i\nwrt: W")
    assert p.symbols["x_i"].index is None and p.symbols["x_i"].latex == "x_{i}"


def test_sum_over_matrices() -> None:
    p = parse_problem(
        "given: \\mathbf{x}_i \\in \\mathbb{R}^{m}, A: m x m\nf = \\operatorname{tr}(A \\sum_{i=1}^{N} \\mathbf{x}_i \\mathbf{x}_i^T)\nwrt: A"
    )
    trace = p.objective.expr
    assert isinstance(trace, Trace) and isinstance(trace.arg, MatMul)
    total = trace.arg.factors[1]
    assert isinstance(total, IndexedSum) and total.shape == ("m", "m") and total.upper == "N"
    assert p.symbols["x"].count == "N" and "N" in p.dims


# --------------------------------------------------------------------------- expressions → nodes


def test_products_and_scalars() -> None:
    assert objective("c \\mathbf{a}^T X \\mathbf{b}") == MatMul((c, aT, X, b), SCALAR)
    assert objective("\\mathbf{a}^T X\\mathbf{b} \\cdot c * 2") == MatMul(
        (Number(Fraction(2)), aT, X, b, c), SCALAR
    )
    assert objective("\\mathbf{a}^T X \\mathbf{b} / 2") == MatMul((Number(Fraction(1, 2)), aT, X, b), SCALAR)
    assert objective("\\frac{\\mathbf{a}^T X \\mathbf{b}}{c}") == MatMul(
        (aT, X, b, Power(c, Fraction(-1), SCALAR)), SCALAR
    )
    assert objective("\\frac12 \\mathbf{a}^T X \\mathbf{b}") == MatMul(
        (Number(Fraction(1, 2)), aT, X, b), SCALAR
    )
    assert objective("0.5 \\mathbf{a}^T X \\mathbf{b}") == MatMul((Number(Fraction(1, 2)), aT, X, b), SCALAR)
    # a 1×1 product multiplies anything
    assert objective("\\mathbf{a}^T X \\mathbf{b}\\, \\mathbf{a}^T X \\mathbf{b}").shape == SCALAR
    assert objective("\\mathbf{1}^T X \\mathbf{b}\\mathbf{b}^T \\mathbf{1}").shape == SCALAR


def test_sums_and_negation() -> None:
    assert objective("\\mathbf{a}^T X \\mathbf{b} - c") == Add(
        (MatMul((aT, X, b), SCALAR), MatMul((Number(Fraction(-1)), c), SCALAR)), SCALAR
    )
    assert objective("-\\mathbf{a}^T X \\mathbf{b}") == MatMul((Number(Fraction(-1)), aT, X, b), SCALAR)


def test_transposes_inverses_powers() -> None:
    assert objective("\\operatorname{tr}(X^{\\mathsf{T}} X)") == Trace(
        MatMul((Transpose(X, ("n", "m")), X), ("n", "n"))
    )
    assert objective("\\operatorname{tr}(A^{-1} X^T X)") == Trace(
        MatMul((Inverse(A, ("n", "n")), Transpose(X, ("n", "m")), X), ("n", "n"))
    )
    assert objective("\\operatorname{tr}(A^{-T})", wrt="A") == Trace(
        Transpose(Inverse(A, ("n", "n")), ("n", "n"))
    )
    assert objective("\\operatorname{tr}(A^2)", wrt="A") == Trace(Power(A, Fraction(2), ("n", "n")))
    assert objective("\\operatorname{tr}(A^{-2})", wrt="A") == Trace(Power(A, Fraction(-2), ("n", "n")))
    assert objective("c^{-3}", wrt="c") == Power(c, Fraction(-3), SCALAR)
    assert objective("c^{1/2}", wrt="c") == Power(c, Fraction(1, 2), SCALAR)
    assert objective("c^{\\frac12}", wrt="c") == Power(c, Fraction(1, 2), SCALAR)
    assert objective("c^{-1}", wrt="c") == Power(c, Fraction(-1), SCALAR)
    half = objective("(\\mathbf{b}^T\\mathbf{b})^{1/2}", wrt="b")
    assert half == Power(MatMul((bT, b), SCALAR), Fraction(1, 2), SCALAR)
    # a symmetric symbol is its own transpose (the smart constructor's tidying)
    assert objective("\\operatorname{tr}(S^T A)", wrt="A") == Trace(MatMul((S, A), ("n", "n")))


def test_trace_determinant_abs() -> None:
    assert objective(
        "\\operatorname{tr} A + \\mathrm{tr}(A) + \\text{tr}(A) + \\operatorname{Tr}(A)", wrt="A"
    ) == Add((Trace(A),) * 4, SCALAR)
    # a trace of a 1×1 product is kept: the author wrote it
    assert objective("\\operatorname{tr}(\\mathbf{a}^T X \\mathbf{b})") == Trace(MatMul((aT, X, b), SCALAR))
    assert objective("\\det(A) + \\det A + |A|", wrt="A") == Add((Det(A),) * 3, SCALAR)
    assert objective("\\log|\\Sigma| + \\log\\det\\Sigma", wrt="\\Sigma") == Add(
        (Elementwise("log", Det(Sigma), SCALAR),) * 2, SCALAR
    )
    assert objective("|c|", wrt="c") == Elementwise("abs", c, SCALAR)


def test_norms() -> None:
    Xb = MatMul((X, b), ("m", 1))
    assert objective("\\|X\\mathbf{b}\\|^2") == Power(Norm(Xb, "2"), Fraction(2), SCALAR)
    assert objective("\\|X\\mathbf{b}\\|_2^2") == Power(Norm(Xb, "2"), Fraction(2), SCALAR)
    assert objective("\\|X\\|_F^2") == Power(Norm(X, "F"), Fraction(2), SCALAR)
    assert objective("\\lVert X \\rVert_F") == Norm(X, "F")
    assert objective("\\|X\\|") == Norm(X, "F")


def test_elementwise_operations() -> None:
    XX = Hadamard(X, X, ("m", "n"))
    assert objective("\\mathbf{a}^T (X \\odot X) \\mathbf{b}") == MatMul((aT, XX, b), SCALAR)
    assert objective("\\mathbf{a}^T (X \\circ X) \\mathbf{b}") == MatMul((aT, XX, b), SCALAR)
    assert objective("\\mathbf{a}^T (X \\oslash X) \\mathbf{b}") == MatMul(
        (aT, HadamardDiv(X, X, ("m", "n")), b), SCALAR
    )
    # a scalar with anything is a product
    assert objective("\\mathbf{a}^T (c \\odot X) \\mathbf{b}") == MatMul((aT, c, X, b), SCALAR)
    e = objective("\\mathbf{1}^T \\exp(X\\mathbf{b})")
    assert e == MatMul((Ones((1, "m")), Elementwise("exp", MatMul((X, b), ("m", 1)), ("m", 1))), SCALAR)
    for macro, fn in (
        ("\\sin", "sin"),
        ("\\cos", "cos"),
        ("\\tanh", "tanh"),
        ("\\ln", "log"),
        ("\\sigma", "sigma"),
    ):
        assert objective(f"\\mathbf{{a}}^T {macro}(X) \\mathbf{{b}}") == MatMul(
            (aT, Elementwise(fn, X, ("m", "n")), b), SCALAR
        )
    assert objective("\\sqrt{c}", wrt="c") == Elementwise("sqrt", c, SCALAR)


def test_kron_vec_diag() -> None:
    k = objective("\\mathbf{1}^T (X \\otimes A) \\mathbf{1}")
    assert isinstance(k, MatMul)
    assert k.factors[1] == Kron(X, A, ("m*n", "n*n"))
    assert k.factors[0] == Ones((1, "m*n")) and k.factors[2] == Ones(("n*n", 1))
    v = objective("\\mathbf{1}^T \\operatorname{vec}(X)")
    assert v == MatMul((Ones((1, "m*n")), Vec(X, ("m*n", 1))), SCALAR)
    d = objective("\\mathbf{1}^T \\operatorname{diag}(A)", wrt="A")
    assert d == MatMul((Ones((1, "n")), Diag(A, ("n", 1))), SCALAR)
    d2 = objective("\\operatorname{tr}(\\operatorname{diag}(\\mathbf{b}) A)", wrt="A")
    assert d2 == Trace(MatMul((Diag(b, ("n", "n")), A), ("n", "n")))
    ints = objective("\\mathbf{1}^T \\operatorname{vec}(Q)", wrt="Q", given="given: Q: 2 x 3")
    assert ints == MatMul((Ones((1, 6)), Vec(Symbol("Q", (2, 3)), (6, 1))), SCALAR)


def test_softmax() -> None:
    sm = objective("\\mathbf{a}^T \\operatorname{softmax}(X\\mathbf{b})")
    assert sm == MatMul((aT, Softmax(MatMul((X, b), ("m", 1)), ("m", 1))), SCALAR)


def test_constants_take_their_size_from_context() -> None:
    assert objective("\\operatorname{tr}(A + I)", wrt="A") == Trace(
        Add((A, Identity(("n", "n"))), ("n", "n"))
    )
    assert objective("\\operatorname{tr}(A + c I)", wrt="A") == Trace(
        Add((A, MatMul((c, Identity(("n", "n"))), ("n", "n"))), ("n", "n"))
    )
    assert objective("\\mathbf{a}^T (X + \\mathbf{0}) \\mathbf{b}") == MatMul((aT, X, b), SCALAR)
    ones = objective("\\mathbf{a}^T(\\mathbf{1}\\log(c) + X\\mathbf{b})", wrt="c")
    assert isinstance(ones, MatMul) and ones.factors[1].shape == ("m", 1)
    assert objective("\\mathbf{1}_m^T X \\mathbf{1}_{n}") == MatMul(
        (Ones((1, "m")), X, Ones(("n", 1))), SCALAR
    )
    assert objective("\\operatorname{tr}(A I_n)", wrt="A") == Trace(A)
    outer = objective("\\mathbf{a}^T \\mathbf{1}\\mathbf{1}^T X \\mathbf{b}")
    assert (
        isinstance(outer, MatMul)
        and outer.factors[1] == Ones(("m", 1))
        and outer.factors[2] == Ones((1, "m"))
    )
    zeros = objective("\\operatorname{tr}(X^T(X + \\mathbf{0}_{m \\times n}))")
    assert isinstance(zeros, Trace)


def test_dimension_as_a_scalar() -> None:
    assert objective("\\frac{1}{n}\\mathbf{1}^T X \\mathbf{b}") == MatMul(
        (Power(DimValue("n"), Fraction(-1), SCALAR), Ones((1, "m")), X, b), SCALAR
    )
    assert objective("m\\,\\mathbf{1}^T X \\mathbf{b}") == MatMul(
        (DimValue("m"), Ones((1, "m")), X, b), SCALAR
    )


def test_keyword_names() -> None:
    p = parse_problem("given: \\lambda \\in \\mathbb{R}, w: n\nf = \\lambda w^T w\nwrt: w, \\lambda")
    lam = Symbol("lambda_", SCALAR)
    assert p.objective.expr == MatMul(
        (lam, Transpose(Symbol("w", ("n", 1)), (1, "n")), Symbol("w", ("n", 1))), SCALAR
    )
    assert p.wrt[1] == lam and p.symbols["lambda_"].latex == "\\lambda"


def test_sigma_declared_is_a_symbol() -> None:
    p = parse_problem("given: \\sigma \\in \\mathbb{R}, x: n\nf = \\sigma(x^T x)\nwrt: x")
    sigma = Symbol("sigma", SCALAR)
    x = Symbol("x", ("n", 1))
    assert p.objective.expr == MatMul((sigma, Transpose(x, (1, "n")), x), SCALAR)


def test_positive_and_one_hot_props_reach_symbols() -> None:
    p = parse_problem(
        "given: x \\in \\mathbb{R}_{++}^{n}, z \\text{ positive}, z: n, y: n one-hot\nf = \\mathbf{1}^T\\log x + \\mathbf{1}^T \\log z + y^T x\nwrt: x"
    )
    assert "positive" in p.symbols["x"].props and "positive" in p.symbols["z"].props
    assert p.symbols["y"].props == frozenset({ONE_HOT})


# --------------------------------------------------------------------------- shape errors


@pytest.mark.parametrize(
    ("rhs", "wrt", "message", "column"),
    [
        ("\\mathbf{a}^T X^T", "X", "cannot multiply 1×m by n×m: inner dimensions m and n differ", 18),
        ("\\operatorname{tr}(X + X^T)", "X", "cannot add m×n and n×m", 27),
        ("\\operatorname{tr}(X - X^T)", "X", "cannot subtract n×m from m×n", 27),
        ("\\operatorname{tr}(X)", "X", "trace needs a square matrix, got m×n", 5),
        ("\\operatorname{tr}(X^{-1})", "X", "inverse needs a square matrix, got m×n", 24),
        ("\\det(X)", "X", "determinant needs a square matrix, got m×n", 5),
        ("\\mathbf{1}^T\\operatorname{softmax}(X)", "X", "softmax needs a column vector, got m×n", 17),
        ("\\operatorname{tr}(X^2)", "X", "needs a square matrix, got m×n", 24),
        ("\\operatorname{tr}(X^{1/2})", "X", "a real power ^1/2 needs a square matrix, got m×n", 24),
        ("|X|", "X", "needs a scalar", 5),
        ("\\mathbf{1}^T(X \\odot A)\\mathbf{1}", "X", "cannot take the Hadamard product of m×n and n×n", 20),
        ("\\mathbf{1}^T(X \\oslash A)\\mathbf{1}", "X", "elementwise division of m×n and n×n", 20),
        ("\\frac{c}{X}", "X", "cannot divide by a m×n matrix", 14),
        ("\\frac{c}{0}", "c", "division by zero", 14),
        ("\\|X\\|_2", "X", "spectral norm", 5),
        ("\\mathbf{1}\\log(c)", "c", "cannot infer the size of \\mathbf{1}", 5),
        ("\\operatorname{tr}(A + I) + \\mathbf{1}^T(I \\otimes I)\\mathbf{1}", "A", "must be known", 47),
        ("\\operatorname{tr}(X + I)", "X", "cannot add m×n and m×m", 27),
        ("\\operatorname{diag}(X)", "X", "diag needs a vector or a square matrix", 5),
        ("\\operatorname{tr}(Q)", "X", "undeclared symbol Q", 23),
        ("\\operatorname{tr}(X^TX) + i", "X", "undeclared symbol i", 31),
        ("f + \\operatorname{tr}(X^TX)", "X", "its own definition", 5),
        # a number next to a vector: the seeds' 1 - y, which needs \mathbf{1}
        ("\\mathbf{a}^T(1 - \\mathbf{a})", "X", "from 1×1; for a vector or matrix of ones write \\mathbf{1}", 22),
    ],
)
def test_shape_errors(rhs: str, wrt: str, message: str, column: int) -> None:
    err = error_of(rhs, wrt)
    assert message in err.message
    assert (err.line, err.column) == (2, column), err.message


def test_used_before_defined() -> None:
    with pytest.raises(DeriveError) as info:
        parse_problem("given: X: n x n\nf = \\operatorname{tr}(Y)\nY = X^2\nwrt: X")
    assert "defined on line 3" in info.value.message and info.value.line == 2


def test_redefinition_and_declared_names() -> None:
    with pytest.raises(DeriveError) as info:
        parse_problem("given: X: n x n\nX = X^2\nf = \\operatorname{tr}(X)\nwrt: X")
    assert "already declared" in info.value.message and info.value.line == 2
    with pytest.raises(DeriveError) as info:
        parse_problem("given: X: n x n\nY = X^2\nY = X^3\nf = \\operatorname{tr}(Y)\nwrt: X")
    assert "already defined" in info.value.message and info.value.line == 3
    with pytest.raises(DeriveError) as info:
        parse_problem("given: X: n x n\nn = 2\nf = \\operatorname{tr}(X)\nwrt: X")
    assert "dimension" in info.value.message and info.value.line == 2


@pytest.mark.parametrize(
    ("wrt", "fragment", "column"),
    [
        ("Q", "not declared", 6),
        ("X, Q", "not declared", 9),
        ("Y", "does not depend on", 6),
        ("X, X", "listed twice", 9),
        ("f", "defined in the block", 6),
        ("G", "defined in the block", 6),
        ("n", "not declared", 6),
        ("X Y", "one symbol name", 8),
    ],
)
def test_wrt_errors_are_at_the_wrt_line(wrt: str, fragment: str, column: int) -> None:
    body = f"given: X: n x n, Y: n x n\nG = X^2\nf = \\operatorname{{tr}}(G)\nwrt: {wrt}"
    with pytest.raises(DeriveError) as info:
        parse_problem(body)
    assert fragment in info.value.message
    assert (info.value.line, info.value.column) == (4, column)


def test_wrt_through_definitions_and_latex_names() -> None:
    p = parse_problem(
        "given: \\mathbf{x} \\in \\mathbb{R}^{n}, B: n x n\nq = B\\mathbf{x}\nf = \\mathbf{x}^T q\nwrt: \\mathbf{x}, B"
    )
    assert [s.name for s in p.wrt] == ["x", "B"] and p.wrt_line == 4


# --------------------------------------------------------------------------- robustness


def test_deep_inputs_fail_fast() -> None:
    for rhs in (
        "(" * 5000 + "X" + ")" * 5000,
        "\\exp(" * 5000 + "X" + ")" * 5000,
        "{" * 5000 + "X" + "}" * 5000,
        "\\bar{" * 3000 + "X" + "}" * 3000,
        "\\bar" * 5000 + " X",
        "\\sqrt" * 5000 + " X",
        "|" * 5000 + "X",
        "\\|" * 5000 + "X",
    ):
        start = time.perf_counter()
        with pytest.raises(DeriveError):
            parse_problem(f"given: X: n x n\nf = \\operatorname{{tr}} {rhs}\nwrt: X")
        assert time.perf_counter() - start < 10  # catches quadratic growth, not a busy machine


def test_ten_thousand_terms_are_fast() -> None:
    body = "given: x: n\nf = " + " + ".join(["x^T x"] * 10000) + "\nwrt: x"
    start = time.perf_counter()
    p = parse_problem(body)
    # about 0.5 s alone; the bound only catches quadratic growth (minutes), not a slow machine
    assert time.perf_counter() - start < 10
    assert isinstance(p.objective.expr, Add) and len(p.objective.expr.terms) == 10000
    body2 = "given: x: n, A: n x n\nf = x^T" + " A" * 10000 + " x\nwrt: A"
    start = time.perf_counter()
    parse_problem(body2)
    assert time.perf_counter() - start < 10  # catches quadratic growth, not a busy machine


def test_huge_body_is_refused() -> None:
    with pytest.raises(DeriveError) as info:
        parse_problem("given: x: n\nf = " + "x" * 200_000 + "\nwrt: x")
    assert "too long" in info.value.message


@pytest.mark.parametrize(
    "body",
    [
        "given: __import__: n\nf = 1\nwrt: __import__",
        "given: os.system: n\nf = 1\nwrt: X",
        "given: X: n x n\nf = __import__('os').system('ls')\nwrt: X",
        "given: X: n x n\n\\def\\x{X}\nf = \\operatorname{tr}\\x\nwrt: X",
        "given: X \\in \\mathbb{R}^{n \\times n}\\input{/etc/passwd}\nf = \\operatorname{tr}X\nwrt: X",
        "given: X: n x n\nf = \\operatorname{tr}X\nwrt: X; import os",
        "given: X: __class__ x n\nf = \\operatorname{tr}X\nwrt: X",
        "given: X: n x n\nf = \\operatorname{tr}X\nwrt: \\input{x}",
        "given: X: n x n\nf = \\operatorname{tr}X\ntitle: ok\nlayout: ${jndi}",
    ],
)
def test_hostile_blocks(body: str) -> None:
    with pytest.raises(DeriveError):
        parse_problem(body)


def test_identifiers_are_always_safe() -> None:
    p = parse_problem(
        "given: \\lambda \\in \\mathbb{R}, W_{12} \\in \\mathbb{R}^{n \\times n}, \\hat{\\mathbf{y}} \\in \\mathbb{R}^{n}, \\tilde{x}: n\n"
        "f = \\lambda \\hat{\\mathbf{y}}^T W_{12} \\tilde{x}\nwrt: W_{12}"
    )
    assert list(p.symbols) == ["lambda_", "W_12", "y_hat", "x_tilde", "f"]
    assert all(name.isidentifier() for name in p.symbols)


SEED_BODIES = list(CASES.values()) + [body for body, _ in BAD.values()] + [COVARIANCE]
PIECES = [
    "\\", "{", "}", "(", ")", "[", "]", "|", "^", "_", "-", "+", "*", "/", "=", ",", ":", ";", "%", "$", "&",
    "#", "~", "'", ".", " ", "\n", "\r", "\x00", "é", "0", "1", "2", "x", "X", "T", "I", "i", "n",
    "\\frac", "\\sum", "\\mathbf", "\\left", "\\right", "\\|", "\\operatorname", "\\log", "\\sigma",
    "\\odot", "\\otimes", "^{-1}", "_i", "\\mathbb{R}", "\\in", "\\text{ one-hot}", "given:", "wrt:",
    "\\begin{x}", "\\end", "\\bar", "\\det", "\\sqrt", "\\mathbf{1}", "I", "layout:",
]  # fmt: skip


@st.composite
def mutated_blocks(draw: st.DrawFn) -> str:
    text = list(draw(st.sampled_from(SEED_BODIES)))
    for _ in range(draw(st.integers(1, 8))):
        pos = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "char"]))
        if action == "insert":
            text.insert(pos, draw(st.sampled_from(PIECES)))
        elif action == "char":
            text.insert(pos, draw(st.characters()))
        elif text:
            index = min(pos, len(text) - 1)
            if action == "delete":
                del text[index]
            else:
                text[index] = draw(st.sampled_from(PIECES))
    return "".join(text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_blocks())
def test_mutations_only_raise_derive_error(body: str) -> None:
    # the inner function has no catch-all: any other exception is a real bug
    try:
        _parse_problem(body)
    except DeriveError as err:
        assert err.line >= 1 and err.column >= 1 and err.message


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_only_raises_derive_error(body: str) -> None:
    for candidate in (body, f"given: X: n x n\nf = {body}\nwrt: X", f"given: {body}\nf = 1\nwrt: X"):
        with contextlib.suppress(DeriveError):  # any other exception fails the test
            _parse_problem(candidate)


def test_objective_may_be_named_by_a_word() -> None:
    for lhs in ("loss", "\\mathrm{loss}", "\\text{loss}"):
        p = parse_problem(f"given: X: n x n\n{lhs} = \\operatorname{{tr}} X\nwrt: X")
        assert p.objective.symbol == Symbol("loss", SCALAR)
        assert p.symbols["loss"].latex == "\\mathrm{loss}" and p.symbols["loss"].defined
    # an intermediate name must be a symbol a later line can write
    with pytest.raises(DeriveError) as info:
        parse_problem("given: X: n x n\nhh = X\nf = \\operatorname{tr} X\nwrt: X")
    assert info.value.line == 2 and "one name" in info.value.message


def test_log_sum_exp_over_a_family() -> None:
    p = parse_problem("given: a_i \\in \\mathbb{R}\nf = \\log \\sum_{i=1}^{n} \\exp(a_i)\nwrt: a")
    expr = p.objective.expr
    assert isinstance(expr, Elementwise) and expr.fn == "log"
    assert isinstance(expr.arg, IndexedSum) and expr.arg.body == Elementwise(
        "exp", Symbol("a", SCALAR, index="i"), SCALAR
    )
    assert p.wrt == [Symbol("a", SCALAR, index="i")] and p.symbols["a"].count == "n"


def test_unifier_quick_answers_agree_with_find() -> None:
    """Unifier.shape and unify answer settled sizes without find; what they answer
    is what finding each size's root answers, whatever was unified before."""
    import random

    from mdderiv.sizes import Unifier

    rng = random.Random(12)
    for _ in range(200):
        u = Unifier()
        dims: list[int | str] = [1, 2, "m", "n"] + [u.fresh(0, "I", soft=rng.random() < 0.3) for _ in range(4)]
        for _ in range(rng.randint(0, 6)):
            a, b = rng.choice(dims), rng.choice(dims)
            roots = (u.find(a), u.find(b))
            agreed = roots[0] == roots[1] or any(isinstance(r, str) and r.startswith("?") for r in roots)
            assert u.unify(a, b) == agreed
        for rows in dims:
            for cols in dims:
                assert u.shape((rows, cols)) == (u.find(rows), u.find(cols))
