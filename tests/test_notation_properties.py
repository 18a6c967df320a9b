"""Property tests (issue 11 §5): random sums of traces of matrix functions and
log-determinants, in the spellings authors use, derived with the check off and
compared with central finite differences of an independent NumPy evaluation."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mdderiv
from mdderiv.render.numpy import result_source

#: (LaTeX spellings, the function of the eigenvalues it means)
FUNCTIONS = [
    ([r"\operatorname{tr}(e^{X})", r"\operatorname{tr}\exp(X)", r"\mathrm{tr}\, e^{X}"], np.exp),
    ([r"\operatorname{tr}(\log X)", r"\operatorname{tr}\log X", r"\log\det X", r"\log|X|"], np.log),
    ([r"\operatorname{tr}\sqrt{X}", r"\operatorname{tr}(X^{1/2})", r"\mathrm{Tr}\, X^{1/2}"], np.sqrt),
    ([r"\operatorname{tr}(X^{3/2})", r"\operatorname{tr} X^{3/2}"], lambda w: w**1.5),
    ([r"\operatorname{tr}(X^{-1/2})"], lambda w: w**-0.5),
    ([r"\operatorname{tr} X^{2}", r"\operatorname{tr}(X X)"], lambda w: w**2),
    ([r"\operatorname{tr} A X"], None),  # a linear term, evaluated directly
]


@st.composite
def objectives(draw: st.DrawFn) -> tuple[str, list[tuple[Fraction, int]]]:
    count = draw(st.integers(1, 3))
    terms: list[tuple[Fraction, int]] = []
    parts: list[str] = []
    for k in range(count):
        which = draw(st.integers(0, len(FUNCTIONS) - 1))
        spelling = draw(st.sampled_from(FUNCTIONS[which][0]))
        coefficient = Fraction(draw(st.integers(-3, 3)) or 1, draw(st.sampled_from([1, 2])))
        written = {Fraction(1): "", Fraction(-1): "-"}.get(
            coefficient, f"{'-' if coefficient < 0 else ''}\\frac{{{abs(coefficient.numerator)}}}{{{coefficient.denominator}}}"
        )
        sign = "" if k == 0 or written.startswith("-") else "+ "
        parts.append(f"{sign}{written} {spelling}")
        terms.append((coefficient, which))
    return " ".join(parts), terms


def evaluate(terms: list[tuple[Fraction, int]], x: np.ndarray, a: np.ndarray) -> float:
    # symmetric points and their symmetrised neighbours: eigh is exact there, and the
    # directional derivative of tr f at a symmetric X is the same along E and sym(E)
    w, v = np.linalg.eigh((x + x.T) / 2)
    total = 0.0
    for coefficient, which in terms:
        f = FUNCTIONS[which][1]
        value = np.trace(a @ x) if f is None else float(np.sum(f(w)))
        total += float(coefficient) * value
    return total


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(objectives(), st.integers(0, 2**31 - 1))
def test_traces_of_matrix_functions_match_finite_differences(case: tuple[str, list], seed: int) -> None:
    objective, terms = case
    body = f"given: X \\in \\mathbb{{R}}^{{n \\times n}}, A \\in \\mathbb{{R}}^{{n \\times n}}\nf = {objective}\nwrt: X"
    d = mdderiv.derive(body, check=False)
    rng = np.random.default_rng(seed)
    root = rng.standard_normal((3, 3))
    x = root @ root.T + 3 * np.eye(3)
    a = rng.standard_normal((3, 3))
    got = np.asarray(eval(result_source(d, d.results[0]), {"np": np, "X": x, "A": a}), dtype=float)  # our own output
    h = 1e-6
    want = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = h
        want[index] = (evaluate(terms, x + step, a) - evaluate(terms, x - step, a)) / (2 * h)
    # the gradient at a symmetric point, compared along symmetric directions
    sym = lambda m: (m + m.T) / 2  # noqa: E731
    # rounding in terms as large as 2 tr e^X (about 1e5 at some draws) moves a central
    # difference with step h by about eps·|term|/h, even where the terms cancel
    largest = sum(abs(float(c)) * abs(evaluate([(Fraction(1), k)], x, a)) for c, k in terms)
    rounding = 4 * float(np.finfo(float).eps) * largest / (2 * h)
    np.testing.assert_allclose(sym(got), sym(want), rtol=1e-5, atol=1e-5 + rounding, err_msg=objective)


#: factors that are functions of X alone (LaTeX, the scalar function of an eigenvalue):
#: under the trace they commute with every matrix function of X (rule "f(X) commutes with X")
COMMUTING_FACTORS = [
    ("X", lambda w: w),
    ("X^2", lambda w: w**2),
    ("X^{-1}", lambda w: 1 / w),
    ("e^{X}", np.exp),
    (r"\sin(X)", np.sin),
    (r"\cosh(X)", np.cosh),
    (r"\sqrt{X}", np.sqrt),
    ("(I + e^{X})^{-1}", lambda w: 1 / (1 + np.exp(w))),
    (r"\log(1 + e^{X})", lambda w: np.log(1 + np.exp(w))),  # 1 read as I inside the matrix log
    (r"\arctan(X)", np.arctan),
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(st.lists(st.integers(0, len(COMMUTING_FACTORS) - 1), min_size=1, max_size=3), st.integers(0, 2**31 - 1))
def test_products_of_functions_of_one_matrix_under_a_trace(which: list[int], seed: int) -> None:
    """tr(g_1(X) … g_k(X)) = Σ_λ g_1(λ) … g_k(λ) for a diagonalisable X: evaluated on the
    eigenvalues of a non-symmetric sample, independently of mdderiv."""
    objective = "\\operatorname{tr}(" + " ".join(COMMUTING_FACTORS[k][0] for k in which) + ")"
    body = f"given: X \\in \\mathbb{{R}}^{{n \\times n}}\nf = {objective}\nwrt: X"
    d = mdderiv.derive(body, check=False)

    def evaluate_on_eigenvalues(m: np.ndarray) -> float:
        w = np.linalg.eigvals(m).astype(complex)
        product = np.ones_like(w)
        for k in which:
            product = product * COMMUTING_FACTORS[k][1](w)
        return float(product.sum().real)

    rng = np.random.default_rng(seed)
    x = 0.3 * rng.standard_normal((3, 3)) + 0.5 * np.eye(3)  # eigenvalues near 0.5: inside every domain
    while min(np.linalg.eigvals(x).real) < 0.1:  # a few draws have one near 0 or below (√X not real)
        x = 0.3 * rng.standard_normal((3, 3)) + 0.5 * np.eye(3)
    got = np.asarray(eval(result_source(d, d.results[0]), {"np": np, "X": x}), dtype=float)  # our own output
    h = 1e-6
    want = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = h
        want[index] = (evaluate_on_eigenvalues(x + step) - evaluate_on_eigenvalues(x - step)) / (2 * h)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=objective)
