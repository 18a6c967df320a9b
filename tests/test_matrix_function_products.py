"""Matrix functions under a trace times factors that commute with them (issue 11 §1):
``tr(g(X) f(X))`` for ``g`` a function of the same ``X`` derives through
``tr(G d f(X)) = tr(G f'(X) dX)``; a factor that need not commute (``tr(A e^X)``)
is refused.  Every gradient is compared with central differences of an
independent NumPy evaluation (power series and eigendecompositions written
here, not mdderiv's)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from support import expm_series

import mdderiv
from mdderiv.render.numpy import result_source

Values = dict[str, np.ndarray]
GIVEN = r"X \in \mathbb{R}^{n \times n}, A \in \mathbb{R}^{n \times n}, B \in \mathbb{R}^{m \times n}"


def expm(a: np.ndarray) -> np.ndarray:
    """The matrix exponential by its power series (60 terms)."""
    return expm_series(a, 60)


def general_function(f: Callable[[np.ndarray], np.ndarray], a: np.ndarray) -> np.ndarray:
    """``f(A)`` of a diagonalisable ``A`` through its eigenvectors (complex allowed)."""
    w, v = np.linalg.eig(a)
    return np.asarray(((v * f(w.astype(complex))) @ np.linalg.inv(v)).real)


def logm(a: np.ndarray) -> np.ndarray:
    return general_function(np.log, a)


def numeric_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = h
        grad[index] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


def derived(objective: str, x: np.ndarray, **options: object) -> tuple[mdderiv.Derivation, np.ndarray]:
    d = mdderiv.derive(f"given: {GIVEN}\nf = {objective}\nwrt: X", **options)  # type: ignore[arg-type]
    result = d.results[0]
    value = np.asarray(eval(result_source(d, result), {"np": np, "X": x, "A": np.eye(len(x))}), dtype=float)
    return d, value


def non_symmetric(seed: int, scale: float = 0.5) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((3, 3)) * scale


tr = np.trace
inv = np.linalg.inv
I3 = np.eye(3)

PRODUCTS: list[tuple[str, Callable[[np.ndarray], float]]] = [
    (r"\operatorname{tr}(X e^{X})", lambda x: tr(x @ expm(x))),
    (r"\operatorname{tr}(e^{X} X^2)", lambda x: tr(expm(x) @ x @ x)),
    (r"\operatorname{tr}(e^{X} X^{-1})", lambda x: tr(expm(x) @ inv(x))),
    (r"\operatorname{tr}((I + e^{X})^{-1} e^{X})", lambda x: tr(inv(I3 + expm(x)) @ expm(x))),
    (r"\operatorname{tr}\log(I + e^{X})", lambda x: tr(logm(I3 + expm(x)))),
    (r"\operatorname{tr}(e^{X} e^{2X})", lambda x: tr(expm(x) @ expm(2 * x))),
    (r"\operatorname{tr}(\sin(X)\cos(X))", lambda x: tr(general_function(np.sin, x) @ general_function(np.cos, x))),
    (r"\operatorname{tr}(X^2 e^{X} X)", lambda x: tr(x @ x @ expm(x) @ x)),
    (r"\operatorname{tr}(3 X e^{X} + X)", lambda x: 3 * tr(x @ expm(x)) + tr(x)),
    (r"\operatorname{tr}(e^{\operatorname{tr}(X) X})", lambda x: tr(expm(tr(x) * x))),
]


@pytest.mark.parametrize(("objective", "meant"), PRODUCTS)
def test_a_matrix_function_times_a_function_of_the_same_matrix(
    objective: str, meant: Callable[[np.ndarray], float]
) -> None:
    x = non_symmetric(4) + 2 * I3  # eigenvalues away from the log's and the inverse's trouble
    d, got = derived(objective, x)
    np.testing.assert_allclose(got, numeric_gradient(meant, x), rtol=1e-5, atol=1e-6, err_msg=objective)
    assert d.check is not None and d.check.passed


def test_the_commuting_factor_is_cited_in_both_languages() -> None:
    d, _ = derived(r"\operatorname{tr}(X e^{X})", non_symmetric(1))
    differential_step = next(step for section in d.sections for step in section.steps if "commuting_factor" in step.rules)
    assert "matrix_function_rule" in differential_step.rules
    assert "f(X) commutes with X" in d.text()
    assert "f(X) 与 X 可交换" in mdderiv.derive(
        f"given: {GIVEN}\nf = \\operatorname{{tr}}(X e^{{X}})\nwrt: X", lang="zh"
    ).text()


@pytest.mark.parametrize(
    "objective",
    [
        r"\operatorname{tr}(A e^{X})",
        r"\operatorname{tr}(X^T e^{X})",
        r"\operatorname{tr}(A X e^{X})",
        r"\operatorname{tr}(e^{A} e^{X})",
        r"\operatorname{tr}\log(A + e^{X})",
        r"\operatorname{tr}(e^{X} \odot X)",
    ],
)
def test_a_factor_that_need_not_commute_is_refused(objective: str) -> None:
    """tr(A e^X) = tr(A ∫ e^{sX} dX e^{(1-s)X} ds): no closed form in dX."""
    with pytest.raises(mdderiv.DeriveError, match="matrix exponential") as caught:
        mdderiv.derive(f"given: {GIVEN}\nf = {objective}\nwrt: X")
    message = caught.value.message
    assert "Fréchet" in message and "functions: elementwise" in message
    assert "Hessian" not in message  # no Hessian was asked


def test_the_hessian_part_of_the_refusal_only_when_a_hessian_is_asked() -> None:
    body = f"given: {GIVEN}\nf = \\operatorname{{tr}}(X e^{{X}})\nwrt: X"
    mdderiv.derive(body)  # the gradient alone derives
    with pytest.raises(mdderiv.DeriveError, match="not its Hessian") as caught:
        mdderiv.derive(body, hessian=True)
    assert "hessian: true" in caught.value.message


# ------------------------------------------------ a number added to the matrix inside a matrix function


def softplus(z: np.ndarray) -> np.ndarray:
    return np.asarray(np.logaddexp(0.0, z))


NUMBER_INSIDE: list[tuple[str, Callable[[np.ndarray], float]]] = [
    # log(1 + e^x) applied to X: f(X) for the scalar softplus, I + e^X
    (r"\operatorname{tr}\log(1 + e^{X})", lambda x: tr(logm(I3 + expm(x)))),
    (r"\operatorname{tr}\log(e^{X} + 1)", lambda x: tr(logm(expm(x) + I3))),
    (r"\operatorname{tr}(e^{X - 1})", lambda x: tr(expm(x - I3))),
    (r"\operatorname{tr}\sqrt{2 + X}", lambda x: tr(general_function(np.sqrt, 2 * I3 + x))),
    (r"\operatorname{tr}(X \log(1 + e^{X}))", lambda x: tr(x @ logm(I3 + expm(x)))),
]


@pytest.mark.parametrize(("objective", "meant"), NUMBER_INSIDE)
def test_a_number_added_inside_a_matrix_function_is_that_number_times_i(
    objective: str, meant: Callable[[np.ndarray], float]
) -> None:
    x = non_symmetric(6) + 1.5 * I3
    d, got = derived(objective, x)
    np.testing.assert_allclose(got, numeric_gradient(meant, x), rtol=1e-5, atol=1e-6, err_msg=objective)
    assert "reading_number_identity" in d.sections[0].steps[0].rules
    assert "read as that number times I" in d.text()


def test_the_number_as_i_reading_is_named_in_chinese() -> None:
    body = f"given: {GIVEN}\nf = \\operatorname{{tr}}\\log(1 + e^{{X}})\nwrt: X"
    assert "按该数乘单位矩阵理解" in mdderiv.derive(body, lang="zh").text()


def test_under_the_elementwise_reading_a_number_inside_stays_entrywise() -> None:
    """``functions: elementwise``: log(1 + e^{x_ij}) of each entry, the number a matrix of ones."""
    x = non_symmetric(2, scale=1.0)
    for options in ({"functions": "elementwise"}, {}):
        body = f"given: {GIVEN}\nf = \\operatorname{{tr}}\\log(1 + e^{{X}})\nwrt: X"
        if not options:
            body += "\nfunctions: elementwise"  # the option written in the block is read too
        d = mdderiv.derive(body, **options)  # type: ignore[arg-type]
        got = np.asarray(eval(result_source(d, d.results[0]), {"np": np, "X": x}), dtype=float)
        want = numeric_gradient(lambda v: float(tr(softplus(v))), x)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
        rules = d.sections[0].steps[0].rules
        assert "reading_elementwise" in rules and "reading_number_identity" not in rules


@pytest.mark.parametrize(
    "objective",
    [
        r"\operatorname{tr}(1 + X)",
        r"\mathbf{1}^T\sigma(1 + X)\mathbf{1}",
        r"\log\det(1 + e^{X})",
        r"\mathbf{1}^T\log(B(1 + X))\mathbf{1}",  # the log of a non-square B(…): entry by entry
        r"\operatorname{tr}\log(X(1 + X))",  # not the whole argument: refused rather than guessed
    ],
)
def test_a_number_plus_a_square_matrix_outside_a_matrix_function_is_refused(objective: str) -> None:
    with pytest.raises(mdderiv.DeriveError, match="a number plus a square matrix can be read two ways"):
        mdderiv.derive(f"given: {GIVEN}\nf = {objective}\nwrt: X")


# ------------------------------------------------ tan and arctan are matrix functions too


def tanm(a: np.ndarray) -> np.ndarray:
    # tan = sin cos^{-1}, both by the exponential's series: e^{iA} = cos A + i sin A
    e = expm(1j * a)
    return np.asarray(e.imag @ np.linalg.inv(e.real))


def arctanm(a: np.ndarray) -> np.ndarray:
    # arctan A = (i/2) (log(I - iA) - log(I + iA)), the principal logarithms
    eye = np.eye(len(a))
    return np.asarray((0.5j * (general_logm(eye - 1j * a) - general_logm(eye + 1j * a))).real)


def general_logm(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eig(a)
    return np.asarray((v * np.log(w)) @ np.linalg.inv(v))


TAN_ARCTAN: list[tuple[str, Callable[[np.ndarray], float]]] = [
    (r"\operatorname{tr}\tan X", lambda x: tr(tanm(x))),
    (r"\operatorname{tr}(\arctan(X))", lambda x: tr(arctanm(x))),
    (r"\operatorname{tr}(X \tan X)", lambda x: tr(x @ tanm(x))),
    (r"\operatorname{tr}(\arctan(X) + X^2)", lambda x: tr(arctanm(x)) + tr(x @ x)),
]


@pytest.mark.parametrize(("objective", "meant"), TAN_ARCTAN)
def test_tan_and_arctan_of_a_square_matrix_are_matrix_functions(
    objective: str, meant: Callable[[np.ndarray], float]
) -> None:
    """Not entry by entry: on a non-symmetric sample the readings differ off the diagonal."""
    x = non_symmetric(3, scale=0.4)  # eigenvalues well inside |λ| < 1: no pole of tan, no cut of arctan
    d, got = derived(objective, x)
    np.testing.assert_allclose(got, numeric_gradient(meant, x), rtol=1e-5, atol=1e-6, err_msg=objective)
    assert "reading_matrix_function" in d.sections[0].steps[0].rules
    if objective in (r"\operatorname{tr}\tan X", r"\operatorname{tr}(\arctan(X))"):
        scalar = np.tan if "tan X" in objective else np.arctan
        assert not np.allclose(got, numeric_gradient(lambda v: float(tr(scalar(v))), x), atol=1e-3)


@pytest.mark.parametrize("fn", [r"\tan", r"\arctan"])
def test_tan_and_arctan_outside_a_trace_are_refused_with_their_elementwise_spelling(fn: str) -> None:
    body = f"given: {GIVEN}\nf = \\mathbf{{1}}^T {fn}(X) \\mathbf{{1}}\nwrt: X"
    with pytest.raises(mdderiv.DeriveError, match="is read as the matrix function") as caught:
        mdderiv.derive(body)
    assert f"if you mean {fn} of each entry, add the option 'functions: elementwise'" in caught.value.message
    x = non_symmetric(5)
    d = mdderiv.derive(body, functions="elementwise")
    got = np.asarray(eval(result_source(d, d.results[0]), {"np": np, "X": x}), dtype=float)
    scalar = np.tan if fn == r"\tan" else np.arctan
    np.testing.assert_allclose(got, numeric_gradient(lambda v: float(scalar(v).sum()), x), rtol=1e-5, atol=1e-7)


def test_a_symmetric_variable_gets_one_symmetric_gradient() -> None:
    """For X ∈ S^n, e^X (I + e^X)^{-1} is symmetric (functions of one symmetric matrix
    commute): the gradient is one box, and it matches the differences along any direction."""
    d = mdderiv.derive("given: X \\in \\mathbb{S}^{n}\nf = \\operatorname{tr}\\log(1 + e^{X})\nwrt: X")
    assert len(d.results) == 1
    root = np.random.default_rng(8).standard_normal((3, 3))
    x = (root + root.T) / 2
    got = np.asarray(eval(result_source(d, d.results[0]), {"np": np, "X": x}), dtype=float)
    np.testing.assert_allclose(got, got.T, atol=1e-12)
    np.testing.assert_allclose(got, numeric_gradient(lambda v: tr(logm(I3 + expm(v))), x), rtol=1e-5, atol=1e-6)
