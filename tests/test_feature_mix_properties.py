"""Property tests for the newer features in combination (issue 11): matrix functions under a
trace times commuting factors, nuclear norms of products, symmetric variables, piecewise-linear
terms (zero Hessians), softmax, vec/Kronecker, ``\\log 2\\pi`` and dimensions as numbers, scalar
variables, Hessians and ``layout: numerator``.

Each objective is drawn with its own NumPy evaluation, written here and sharing no code with
mdderiv. The block is derived with the check off and every result (gradient, symmetric gradient,
derivative, Hessian) compared with central differences of that evaluation; then derived with the
check on, which must pass (a false alarm on a correct derivation is a bug too). A refusal is
allowed only for a Hessian mdderiv says it does not derive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support import symmetric_projector

import mdderiv

N = 3
Env = dict[str, np.ndarray]
GIVEN = (
    r"given: A, B \in \mathbb{R}^{n \times n}, \mathbf{a}, \mathbf{b} \in \mathbb{R}^{n}, \lambda \in \mathbb{R}" "\n"
    "given: {variable}"
)
DECLARATIONS = {
    "X": r"X \in \mathbb{R}^{n \times n}",
    "S": r"X \in \mathbb{S}^{n}",
    "t": r"t \in \mathbb{R}",
    "x": r"\mathbf{x} \in \mathbb{R}^{n}",
}
WRT = {"X": "X", "S": "X", "t": "t", "x": r"\mathbf{x}"}
NAME = {"X": "X", "S": "X", "t": "t", "x": "x"}


@dataclass(frozen=True)
class Term:
    latex: str
    value: Callable[[Env], float]


def _eigenvalues(m: np.ndarray) -> np.ndarray:
    return np.linalg.eigvals(m).astype(complex)


def _tr_f(fn: Callable[[np.ndarray], np.ndarray], matrix: Callable[[Env], np.ndarray]) -> Callable[[Env], float]:
    """tr f(M) for a diagonalisable M: the sum of f over its eigenvalues."""
    return lambda env: float(np.sum(fn(_eigenvalues(matrix(env)))).real)


#: matrix functions (spelling of f(M) with {} for M, the scalar function)
FUNCTIONS = [
    ("e^{{{}}}", np.exp),
    (r"\sin({})", np.sin),
    (r"\cosh({})", np.cosh),
    (r"\log(1 + e^{{{}}})", lambda w: np.log(1 + np.exp(w))),
    (r"\arctan({})", np.arctan),
]
#: factors that commute with a function of the same matrix (spelling, scalar function)
COMMUTING = [("", lambda w: 1 + 0 * w), ("({}) ", lambda w: w), ("({})^{{-1}} ", lambda w: 1 / w), ("({})^2 ", lambda w: w**2)]


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def _vec(m: np.ndarray) -> np.ndarray:
    return m.reshape(-1, order="F")


def matrix_terms(latex: str, value: Callable[[Env], np.ndarray], symmetric: bool) -> list[st.SearchStrategy[Term]]:
    """Terms in a square matrix M (``latex``, ``value``) of the variable."""

    @st.composite
    def function_under_trace(draw: st.DrawFn) -> Term:
        spelling, fn = draw(st.sampled_from(FUNCTIONS))
        factor, times = draw(st.sampled_from(COMMUTING))
        if symmetric and draw(st.booleans()):
            factor, times = "({})^T ", lambda w: w  # X^T = X for a symmetric X
        inner = spelling.format(latex)
        return Term(rf"\operatorname{{tr}}({factor.format(latex)}{inner})",
                    _tr_f(lambda w: times(w) * fn(w), value))

    return [
        function_under_trace(),
        st.just(Term(rf"\|A ({latex})\|_*", lambda env: float(np.linalg.norm(env["A"] @ value(env), "nuc")))),
        st.just(Term(rf"\|{latex}\|_*", lambda env: float(np.linalg.norm(value(env), "nuc")))),
        st.just(Term(rf"\|A ({latex}) - B\|_F^2", lambda env: float(np.sum((env["A"] @ value(env) - env["B"]) ** 2)))),
        st.just(Term(rf"\mathbf{{a}}^T ({latex}) \mathbf{{b}}", lambda env: float((env["a"].T @ value(env) @ env["b"]).item()))),
        st.just(Term(rf"\mathbf{{1}}^T \max(0, ({latex}) \mathbf{{a}})",
                     lambda env: float(np.sum(np.maximum(0, value(env) @ env["a"]))))),
        st.just(Term(rf"\mathbf{{b}}^T \operatorname{{softmax}}(({latex}) \mathbf{{a}})",
                     lambda env: float((env["b"].T @ _softmax(value(env) @ env["a"])).item()))),
        st.just(Term(rf"\operatorname{{vec}}({latex})^T (A \otimes B) \operatorname{{vec}}({latex})",
                     lambda env: float(_vec(value(env)) @ np.kron(env["A"], env["B"]) @ _vec(value(env))))),
        st.just(Term(rf"\log\det(({latex})^T ({latex}) + I)",
                     lambda env: float(np.log(np.linalg.det(value(env).T @ value(env) + np.eye(N)))))),
    ]


def terms_of(kind: str) -> st.SearchStrategy[Term]:
    if kind in ("X", "S"):
        matrices = [("X", lambda env: env["X"]), (r"\lambda X", lambda env: env["lambda"] * env["X"])]
        if kind == "X":
            matrices.append(("X^T", lambda env: env["X"].T))
        strategies = [s for latex, value in matrices for s in matrix_terms(latex, value, kind == "S")]
        return st.one_of(strategies)
    if kind == "t":
        matrices = [("t A", lambda env: env["t"] * env["A"]), ("B + t A", lambda env: env["B"] + env["t"] * env["A"])]
        scalars = [
            Term(r"\lambda |t|", lambda env: float(env["lambda"] * abs(env["t"]))),
            Term(r"\max(0, t)", lambda env: float(max(0.0, env["t"]))),
            Term("t^2", lambda env: float(env["t"] ** 2)),
        ]
        return st.one_of([s for latex, value in matrices for s in matrix_terms(latex, value, False)]
                         + [st.sampled_from(scalars)])
    vectors = [
        Term(r"\|\mathbf{x}\|_1", lambda env: float(np.sum(np.abs(env["x"])))),
        Term(r"\mathbf{b}^T \operatorname{softmax}(A\mathbf{x})", lambda env: float((env["b"].T @ _softmax(env["A"] @ env["x"])).item())),
        Term(r"\|A\mathbf{x} - \mathbf{b}\|^2", lambda env: float(np.sum((env["A"] @ env["x"] - env["b"]) ** 2))),
        Term(r"\mathbf{1}^T \max(0, A\mathbf{x})", lambda env: float(np.sum(np.maximum(0, env["A"] @ env["x"])))),
        Term(r"\|\mathbf{x}\mathbf{a}^T + B\|_*", lambda env: float(np.linalg.norm(env["x"] @ env["a"].T + env["B"], "nuc"))),
        Term(r"\operatorname{tr}(e^{\mathbf{x}\mathbf{a}^T + B})", _tr_f(np.exp, lambda env: env["x"] @ env["a"].T + env["B"])),
    ]
    return st.sampled_from(vectors)


#: coefficients (spelling, value)
COEFFICIENTS = [("", lambda env: 1.0), (r"\lambda", lambda env: float(env["lambda"])),
                (r"\frac{n}{2}", lambda env: N / 2), ("-2", lambda env: -2.0)]
#: constant terms (spelling, value): they change nothing but must be read
CONSTANTS = [("", 0.0), (r" - \frac{n}{2}\log 2\pi", -N / 2 * np.log(2 * np.pi)), (r" + \log 2\pi", np.log(2 * np.pi))]


@st.composite
def blocks(draw: st.DrawFn) -> tuple[str, Callable[[Env], float], str, bool, bool]:
    kind = draw(st.sampled_from(["X", "S", "t", "x"]))
    terms = draw(st.lists(terms_of(kind), min_size=1, max_size=2))
    coefficients = [draw(st.sampled_from(COEFFICIENTS)) for _ in terms]
    constant, constant_value = draw(st.sampled_from(CONSTANTS))
    latex = " + ".join(f"{c} {t.latex}".strip() for (c, _), t in zip(coefficients, terms, strict=True)) + constant

    def value(env: Env) -> float:
        total = sum(cv(env) * t.value(env) for (_, cv), t in zip(coefficients, terms, strict=True))
        return float(total + constant_value)

    return latex, value, kind, draw(st.booleans()), draw(st.booleans())


def _point(kind: str, seed: int) -> Env:
    rng = np.random.default_rng(seed)
    x = 0.25 * rng.standard_normal((N, N)) + 0.8 * np.eye(N)  # eigenvalues near 0.8
    if kind == "S":
        x = (x + x.T) / 2
    return {"X": x, "A": rng.standard_normal((N, N)), "B": rng.standard_normal((N, N)) + 2 * np.eye(N),
            "a": rng.standard_normal((N, 1)), "b": rng.standard_normal((N, 1)), "x": rng.standard_normal((N, 1)),
            "t": np.float64(0.5 + rng.random()), "lambda": np.float64(0.5 + rng.random())}


def _differences(f: Callable[[np.ndarray], float], x: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    """The gradient (shape of x) and the Hessian over vec(x) of f, by central differences."""
    flat = _vec(np.atleast_2d(x).astype(float))
    size = flat.size
    shape = np.shape(x)

    def at(v: np.ndarray) -> float:
        return f(v.reshape(shape, order="F") if shape else np.float64(v[0]))

    basis = np.eye(size)
    gradient = np.array([(at(flat + 1e-6 * e) - at(flat - 1e-6 * e)) / 2e-6 for e in basis])
    hessian = np.array([[(at(flat + h * (ei + ej)) - at(flat + h * (ei - ej)) - at(flat - h * (ei - ej))
                          + at(flat - h * (ei + ej))) / (4 * h * h) for ej in basis] for ei in basis])
    return gradient.reshape(shape or (), order="F"), hessian


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(blocks(), st.integers(0, 2**31 - 1))
def test_new_features_combined_match_finite_differences(
    case: tuple[str, Callable[[Env], float], str, bool, bool], seed: int
) -> None:
    latex, value, kind, hessian, numerator = case
    body = (GIVEN.replace("{variable}", DECLARATIONS[kind]) + f"\nf = {latex}\nwrt: {WRT[kind]}"
            + ("\nhessian: true" if hessian else "") + ("\nlayout: numerator" if numerator else ""))
    try:
        d = mdderiv.derive(body, check=False)
    except mdderiv.DeriveError as error:
        assert hessian and "Hessian" in error.message, (error.message, body)
        return
    env = _point(kind, seed)
    name = NAME[kind]
    symmetric = kind == "S"

    def f(v: np.ndarray) -> float:
        return value({**env, name: (v + v.T) / 2 if symmetric else v})

    want_gradient, want_hessian = _differences(f, env[name], 1e-4)
    projector = symmetric_projector(N) if symmetric else None
    for result, source in zip(d.results, d.numpy(), strict=True):
        got = np.asarray(eval(source, {"np": np, **env, "lambda_": env["lambda"]}), dtype=float)  # our own output
        if result.kind == "hessian":
            got = (got + got.T) / 2
            if projector is not None:
                got = projector @ got @ projector
            scale = max(1.0, float(np.max(np.abs(want_hessian))))
            assert np.max(np.abs(got - want_hessian)) < 1e-4 * scale, (body, source)
            continue
        if numerator and got.ndim == 2:
            got = got.T
        got = got.reshape(np.shape(want_gradient))
        if symmetric:  # only the symmetric part is defined; the symmetric gradient is that part
            got, want = (got + got.T) / 2, (want_gradient + want_gradient.T) / 2
        else:
            want = want_gradient
        scale = max(1.0, float(np.max(np.abs(want))))
        assert np.max(np.abs(got - want)) < 1e-5 * scale, (body, source)
    checked = mdderiv.derive(body)
    assert checked.check is not None and checked.check.passed, body
