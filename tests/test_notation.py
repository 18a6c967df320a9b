"""How mdderiv reads authors' notation (issue 11, docs/notation.md): every
reading is compared with an independent NumPy evaluation of what the author
meant, so a misreading fails even when the engine's own check would pass."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from support import expm_series

import mdderiv
from mdderiv.render.numpy import result_source
from mdderiv.shapes import written_as_scalar
from mdderiv.syntax.latex import parse_expression
from mdderiv.syntax.nodes import Source
from support import central_differences

Values = dict[str, np.ndarray]


def sample(shapes: dict[str, tuple[int, int]], seed: int = 0, spd: tuple[str, ...] = ()) -> Values:
    rng = np.random.default_rng(seed)
    values: Values = {}
    for name, shape in shapes.items():
        if name in spd:
            root = rng.standard_normal(shape)
            values[name] = root @ root.T + shape[0] * np.eye(shape[0])
        else:
            values[name] = rng.standard_normal(shape)
    return values


def numeric_gradient(f: Callable[[Values], float], values: Values, wrt: str, h: float = 1e-6) -> np.ndarray:
    """Central differences of the author's objective, evaluated independently."""
    return central_differences(lambda x: f({**values, wrt: x}), values[wrt], h)


def derived_gradient(body: str, values: Values) -> np.ndarray:
    d = mdderiv.derive(body)
    result = d.results[0]
    assert result.kind == "gradient", f"{body!r} was not read as a scalar objective"
    return np.asarray(eval(result_source(d, result), {"np": np, **values}), dtype=float)  # our own output


def assert_reads_as(
    body: str, meant: Callable[[Values], float], shapes: dict[str, tuple[int, int]], wrt: str, spd: tuple[str, ...] = ()
) -> None:
    values = sample(shapes, spd=spd)
    got = derived_gradient(body, values)
    want = numeric_gradient(meant, values, wrt)
    np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-5, atol=1e-6, err_msg=body)


SQUARE = r"X \in \mathbb{R}^{n \times n}, A \in \mathbb{R}^{n \times n}, B \in \mathbb{R}^{n \times n}"
RECT = r"X \in \mathbb{R}^{m \times n}, A \in \mathbb{R}^{m \times m}"
N3 = {"X": (3, 3), "A": (3, 3), "B": (3, 3)}
M4N3 = {"X": (4, 3), "A": (4, 4)}
tr, det, inv = np.trace, np.linalg.det, np.linalg.inv


def scalar(a: np.ndarray) -> float:
    return float(np.asarray(a).item())


# ------------------------------------------------------------------ §1 operators without parentheses


@pytest.mark.parametrize(
    ("given", "objective", "meant", "shapes"),
    [
        (SQUARE, r"\operatorname{tr} X^T A X", lambda v: tr(v["X"].T @ v["A"] @ v["X"]), N3),
        (RECT, r"\operatorname{tr} X^T A X", lambda v: tr(v["X"].T @ v["A"] @ v["X"]), M4N3),
        (SQUARE, r"\mathrm{tr}\, A X", lambda v: tr(v["A"] @ v["X"]), N3),
        (SQUARE, r"\mathrm{Tr}\, A X B", lambda v: tr(v["A"] @ v["X"] @ v["B"]), N3),
        (SQUARE, r"\operatorname{tr} X^{-1} A", lambda v: tr(inv(v["X"]) @ v["A"]), N3),
        (SQUARE, r"\det X^T X", lambda v: det(v["X"].T @ v["X"]), N3),
        (RECT, r"\det X^T X", lambda v: det(v["X"].T @ v["X"]), M4N3),
        (SQUARE, r"\log\det X^T X", lambda v: np.log(det(v["X"].T @ v["X"])), N3),
        (
            SQUARE,
            r"\log\det X^T X + \operatorname{tr} A X",
            lambda v: np.log(det(v["X"].T @ v["X"])) + tr(v["A"] @ v["X"]),
            N3,
        ),
        (SQUARE, r"\det A \det X", lambda v: det(v["A"]) * det(v["X"]), N3),
        (SQUARE, r"\operatorname{tr} A X \operatorname{tr} B X", lambda v: tr(v["A"] @ v["X"]) * tr(v["B"] @ v["X"]), N3),
        (SQUARE, r"2\operatorname{tr} A X - \operatorname{tr} X", lambda v: 2 * tr(v["A"] @ v["X"]) - tr(v["X"]), N3),
        (SQUARE, r"\operatorname{tr}(A) \operatorname{tr} X", lambda v: tr(v["A"]) * tr(v["X"]), N3),
        (SQUARE, r"(\operatorname{tr} A X)^2", lambda v: tr(v["A"] @ v["X"]) ** 2, N3),
    ],
)
def test_trace_and_det_without_parentheses_take_the_product(
    given: str, objective: str, meant: Callable[[Values], float], shapes: dict[str, tuple[int, int]]
) -> None:
    assert_reads_as(f"given: {given}\nf = {objective}\nwrt: X", meant, shapes, "X")


def test_log_det_of_a_covariance_without_parentheses() -> None:
    body = (
        r"given: \Sigma \in \mathbb{S}_{++}^{n}, S \in \mathbb{S}^{n}"
        "\n"
        r"f = \log\det \Sigma + \operatorname{tr} \Sigma^{-1} S"
        "\nwrt: \\Sigma"
    )
    values = sample({"Sigma": (3, 3), "S": (3, 3)}, spd=("Sigma",))
    values["S"] = values["S"] + values["S"].T
    got = derived_gradient(body, values)
    # the symmetric gradient of log det Σ + tr Σ⁻¹S (Σ symmetric): Σ⁻¹ - Σ⁻¹SΣ⁻¹
    Si = inv(values["Sigma"])
    want = Si - Si @ values["S"] @ Si
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize(
    ("text", "scalar"),
    [
        (r"\operatorname{tr} X^T A X", True),
        (r"\det X^T X", True),
        (r"-\frac{1}{2}\log\det X + 3", True),
        (r"\|X\|_F^2", True),
        (r"|X|", True),
        (r"\operatorname{tr}(A) X", False),
        (r"A X", False),
        (r"2 \exp(\operatorname{tr} X)", True),
    ],
)
def test_written_as_scalar(text: str, scalar: bool) -> None:
    tree = parse_expression(Source(text, 1, 0), lambda name: True)
    assert written_as_scalar(tree) is scalar


def test_trace_with_parentheses_is_the_parenthesised_argument() -> None:
    # tr(A) X is a scalar times a matrix: a matrix objective, as written
    d = mdderiv.derive(f"given: {SQUARE}\nF = \\operatorname{{tr}}(A) X\nwrt: X")
    assert d.results[0].kind == "derivative"


def test_elementwise_function_without_parentheses_before_another_factor_is_refused() -> None:
    body = r"given: W \in \mathbb{R}^{n \times n}, \mathbf{x} \in \mathbb{R}^{n}" "\nf = \\mathbf{1}^T \\exp W \\mathbf{x}\nwrt: W"
    with pytest.raises(mdderiv.DeriveError, match=r"two ways.*\\exp\(…\)") as caught:
        mdderiv.derive(body)
    assert caught.value.line == 2


# ------------------------------------------------------------------ §1 functions of a square matrix


def spd_function(f: Callable[[np.ndarray], np.ndarray], a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * f(w)) @ v.T


SPD_SAMPLE = {"X": (3, 3), "A": (3, 3)}


def spd_values(seed: int = 3) -> Values:
    rng = np.random.default_rng(seed)
    root = rng.standard_normal((3, 3))
    return {"X": root @ root.T + 3 * np.eye(3), "A": rng.standard_normal((3, 3))}


@pytest.mark.parametrize(
    ("objective", "meant"),
    [
        (r"\operatorname{tr}(e^{X})", lambda v: tr(expm_series(v["X"]))),
        (r"\operatorname{tr}\exp(X)", lambda v: tr(expm_series(v["X"]))),
        (r"\operatorname{tr} e^{X}", lambda v: tr(expm_series(v["X"]))),
        (r"\operatorname{tr}(\log X)", lambda v: np.log(det(v["X"]))),
        (r"\operatorname{tr}\log X", lambda v: np.log(det(v["X"]))),
        (r"\operatorname{tr}\sqrt{X}", lambda v: tr(spd_function(np.sqrt, v["X"]))),
        (r"\operatorname{tr}(X^{1/2})", lambda v: tr(spd_function(np.sqrt, v["X"]))),
        (r"\operatorname{tr} X^{3/2}", lambda v: tr(spd_function(lambda w: w**1.5, v["X"]))),
        (r"\operatorname{tr}(X^{-1/2})", lambda v: tr(spd_function(lambda w: w**-0.5, v["X"]))),
        (r"\operatorname{tr}(X^{3})", lambda v: tr(v["X"] @ v["X"] @ v["X"])),
        (r"\operatorname{tr}(e^{X} + A X)", lambda v: tr(expm_series(v["X"])) + tr(v["A"] @ v["X"])),
        (r"\operatorname{tr}(\log(X^T X))", lambda v: np.log(det(v["X"].T @ v["X"]))),
        (r"\operatorname{tr}(2 e^{X})", lambda v: 2 * tr(expm_series(v["X"]))),
        (r"\operatorname{tr}(-\log X)", lambda v: -np.log(det(v["X"]))),
        (
            r"\operatorname{tr}(e^{X} - 3 X^{1/2})",
            lambda v: tr(expm_series(v["X"])) - 3 * tr(spd_function(np.sqrt, v["X"])),
        ),
    ],
)
def test_trace_of_a_matrix_function(objective: str, meant: Callable[[Values], float]) -> None:
    body = f"given: X \\in \\mathbb{{R}}^{{n \\times n}}, A \\in \\mathbb{{R}}^{{n \\times n}}\nf = {objective}\nwrt: X"
    d = mdderiv.derive(body)
    assert "reading_matrix_function" in d.sections[0].steps[0].rules or "^{3}" in objective
    values = spd_values()
    got = np.asarray(eval(result_source(d, d.results[0]), {"np": np, **values}), dtype=float)  # our own output
    want = numeric_gradient(meant, values, "X")
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=objective)


def _sinm(a: np.ndarray) -> np.ndarray:
    return np.asarray(expm_series(1j * a, 60).imag)  # e^{iA} = cos A + i sin A for a real A


def _cosm(a: np.ndarray) -> np.ndarray:
    return np.asarray(expm_series(1j * a, 60).real)


@pytest.mark.parametrize(
    ("objective", "meant"),
    [
        (r"\operatorname{tr}\sin X", lambda v: tr(_sinm(v["X"]))),
        (r"\operatorname{tr}(\cos(X))", lambda v: tr(_cosm(v["X"]))),
        (r"\operatorname{tr}\sinh X", lambda v: tr(expm_series(v["X"]) - expm_series(-v["X"])) / 2),
        (r"\operatorname{tr}(\cosh X + A X)", lambda v: tr(expm_series(v["X"]) + expm_series(-v["X"])) / 2 + tr(v["A"] @ v["X"])),
        (r"\operatorname{tr}(3\cos X)", lambda v: 3 * tr(_cosm(v["X"]))),
    ],
)
def test_sin_cos_sinh_cosh_of_a_square_matrix_are_matrix_functions(
    objective: str, meant: Callable[[Values], float]
) -> None:
    """As in mathematics (their power series), not entry by entry: on a non-symmetric
    sample the two readings differ everywhere off the diagonal."""
    body = f"given: X \\in \\mathbb{{R}}^{{n \\times n}}, A \\in \\mathbb{{R}}^{{n \\times n}}\nf = {objective}\nwrt: X"
    d = mdderiv.derive(body)
    assert "reading_matrix_function" in d.sections[0].steps[0].rules
    values = sample({"X": (3, 3), "A": (3, 3)}, seed=7)
    got = np.asarray(eval(result_source(d, d.results[0]), {"np": np, **values}), dtype=float)  # our own output
    want = numeric_gradient(meant, values, "X")
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=objective)


def test_sin_of_a_square_matrix_outside_a_trace_is_refused_and_has_its_elementwise_spelling() -> None:
    body = "given: X \\in \\mathbb{R}^{n \\times n}, A \\in \\mathbb{R}^{n \\times n}\nf = \\operatorname{tr}(A \\sin X)\nwrt: X"
    with pytest.raises(mdderiv.DeriveError, match="matrix sine") as caught:
        mdderiv.derive(body)
    assert "functions: elementwise" in caught.value.message
    values = sample({"X": (3, 3), "A": (3, 3)}, seed=2)
    got = derived_gradient(body + "\nfunctions: elementwise", values)
    np.testing.assert_allclose(got, values["A"].T * np.cos(values["X"]), rtol=1e-8)


def test_matrix_exponential_of_a_non_symmetric_matrix() -> None:
    body = "given: X \\in \\mathbb{R}^{n \\times n}\nf = \\operatorname{tr}(e^{X})\nwrt: X"
    values = sample({"X": (4, 4)}, seed=5)
    got = derived_gradient(body, values)
    np.testing.assert_allclose(got, expm_series(values["X"]).T, rtol=1e-8)


@pytest.mark.parametrize(
    "objective",
    [r"\operatorname{tr}(A e^{X})", r"\mathbf{1}^T \exp(X) \mathbf{1}", r"\operatorname{tr}(A \log X)", r"\det(X^{1/2})"],
)
def test_a_matrix_function_outside_a_trace_is_refused_naming_both_readings(objective: str) -> None:
    body = (
        "given: X \\in \\mathbb{R}^{n \\times n}, A \\in \\mathbb{R}^{n \\times n}\n"
        f"f = {objective}\nwrt: X"
    )
    with pytest.raises(mdderiv.DeriveError, match="matrix function") as caught:
        mdderiv.derive(body)
    message = caught.value.message
    assert "trace" in message and ("functions: elementwise" in message or "Hadamard" in message)


def test_the_elementwise_reading_has_its_option_and_is_named() -> None:
    body = (
        "given: X \\in \\mathbb{R}^{n \\times n}, A \\in \\mathbb{R}^{n \\times n}\n"
        "f = \\operatorname{tr}(A \\exp(X)) + \\mathbf{1}^T \\log(X \\odot X) \\mathbf{1}\nwrt: X\n"
        "functions: elementwise"
    )
    values = sample({"X": (3, 3), "A": (3, 3)})
    got = derived_gradient(body, values)
    want = numeric_gradient(
        lambda v: tr(v["A"] @ np.exp(v["X"])) + np.log(v["X"] ** 2).sum(), values, "X"
    )
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    d = mdderiv.derive(body)
    assert "reading_elementwise" in d.sections[0].steps[0].rules
    assert "entry by entry" in d.text() and "逐元素" in mdderiv.derive(body, lang="zh").text()


def test_sigmoid_of_a_square_matrix_is_elementwise_and_says_so() -> None:
    body = "given: X \\in \\mathbb{R}^{n \\times n}\nf = \\operatorname{tr}(\\sigma(X))\nwrt: X"
    d = mdderiv.derive(body)
    assert "functions of a square matrix read entry by entry" in d.text()
    values = sample({"X": (3, 3)})
    want = numeric_gradient(lambda v: tr(1 / (1 + np.exp(-v["X"]))), values, "X")
    np.testing.assert_allclose(derived_gradient(body, values), want, rtol=1e-5, atol=1e-6)


def test_a_function_of_a_vector_names_no_reading() -> None:
    d = mdderiv.derive("given: \\mathbf{x} \\in \\mathbb{R}^{n}\nf = \\mathbf{1}^T \\exp(\\mathbf{x})\nwrt: \\mathbf{x}")
    assert not any(rule.startswith("reading_") for rule in d.sections[0].steps[0].rules)


# ------------------------------------------------------------------ §3 spellings authors use

VECTORS = r"\mathbf{x}, \mathbf{y} \in \mathbb{R}^{n}, A \in \mathbb{R}^{n \times n}, X \in \mathbb{R}^{n \times n}"
VEC3 = {"x": (3, 1), "y": (3, 1), "A": (3, 3), "X": (3, 3)}


@pytest.mark.parametrize(
    ("objective", "wrt", "meant"),
    [
        (r"\langle A, X \rangle", "X", lambda v: np.sum(v["A"] * v["X"])),
        (r"\left\langle A, X^T X \right\rangle", "X", lambda v: np.sum(v["A"] * (v["X"].T @ v["X"]))),
        (r"A : X", "X", lambda v: np.sum(v["A"] * v["X"])),
        (r"A : X^T X + 1", "X", lambda v: np.sum(v["A"] * (v["X"].T @ v["X"])) + 1),
        (r"\langle \mathbf{x}, A\mathbf{y} \rangle", "x", lambda v: scalar(v["x"].T @ v["A"] @ v["y"])),
        (r"\mathbf{x}\cdot\mathbf{y}", "x", lambda v: scalar(v["x"].T @ v["y"])),
        (r"\mathbf{x} \cdot A \mathbf{x}", "x", lambda v: scalar(v["x"].T @ v["A"] @ v["x"])),
        (r"2 \cdot \mathbf{x}^T \mathbf{y}", "x", lambda v: 2 * scalar(v["x"].T @ v["y"])),
        (r"\tfrac12 \mathbf{x}^T A \mathbf{x}", "x", lambda v: 0.5 * scalar(v["x"].T @ v["A"] @ v["x"])),
        (r"\tfrac{1}{2} \|\mathbf{x}\|^2", "x", lambda v: 0.5 * scalar(v["x"].T @ v["x"])),
        (r"\dfrac{1}{2} \mathbf{x}^T \mathbf{y}", "x", lambda v: 0.5 * scalar(v["x"].T @ v["y"])),
    ],
)
def test_inner_products_and_fractions(objective: str, wrt: str, meant: Callable[[Values], float]) -> None:
    name = "X" if wrt == "X" else r"\mathbf{" + wrt + "}"
    assert_reads_as(f"given: {VECTORS}\nf = {objective}\nwrt: {name}", meant, VEC3, wrt)


@pytest.mark.parametrize(
    ("objective", "words"),
    [
        (r"\mathbf{x} \mathbf{y}", "for the inner product write x^T y"),
        (r"|\mathbf{x}|", "for a vector length write"),
        (r"\mathbf{x}^2", "can be read two ways"),
        (r"\mathbf{x} \times \mathbf{y}", "cross product"),
        (r"\mathbf{x}' \mathbf{y}", "a prime ' is ambiguous"),
        (r"\langle A, \mathbf{x} \rangle", "needs two operands of one shape"),
    ],
)
def test_ambiguous_spellings_are_refused_with_the_reason(objective: str, words: str) -> None:
    with pytest.raises(mdderiv.DeriveError) as caught:
        mdderiv.derive(f"given: {VECTORS}\nf = {objective}\nwrt: \\mathbf{{x}}")
    assert words in caught.value.message
    assert caught.value.line == 2


@pytest.mark.parametrize("lhs", [r"J(\boldsymbol{\theta})", r"\mathcal{L}", r"L(\mathbf{x}, A)", r"\ell(\mathbf{x})"])
def test_a_left_side_written_as_a_function(lhs: str) -> None:
    body = f"given: {VECTORS}\n{lhs} = \\mathbf{{x}}^T A \\mathbf{{x}}\nwrt: \\mathbf{{x}}"
    assert_reads_as(body, lambda v: scalar(v["x"].T @ v["A"] @ v["x"]), VEC3, "x")


def test_subscripts_in_text_are_part_of_the_name() -> None:
    body = (
        r"given: W_{\text{enc}} \in \mathbb{R}^{m \times n}, \mathbf{x}_{\text{in}} \in \mathbb{R}^{n}, "
        r"\mathbf{y} \in \mathbb{R}^{m}"
        "\n"
        r"f = \|W_{\text{enc}} \mathbf{x}_{\mathrm{in}} - \mathbf{y}\|^2"
        "\n"
        r"wrt: W_{\text{enc}}"
    )
    d = mdderiv.derive(body)
    assert set(d.to_json()["symbols"]) == {"W_enc", "x_in", "y"}
    assert r"W_{\text{enc}}" in d.latex()
    values = {"W_enc": np.arange(6.0).reshape(2, 3) / 5, "x_in": np.ones((3, 1)), "y": np.array([[1.0], [-1.0]])}
    want = numeric_gradient(
        lambda v: float(np.sum((v["W_enc"] @ v["x_in"] - v["y"]) ** 2)), values, "W_enc"
    )
    np.testing.assert_allclose(derived_gradient(body, values), want, rtol=1e-6, atol=1e-8)


def test_a_declared_primed_name_is_a_name() -> None:
    body = (
        r"given: \mathbf{x}, \mathbf{x}' \in \mathbb{R}^{n}, A \in \mathbb{R}^{n \times n}"
        "\nf = \\mathbf{x}'^T A \\mathbf{x}\nwrt: \\mathbf{x}'"
    )
    values = sample({"x": (3, 1), "x_prime": (3, 1), "A": (3, 3)})
    want = numeric_gradient(lambda v: scalar(v["x_prime"].T @ v["A"] @ v["x"]), values, "x_prime")
    np.testing.assert_allclose(derived_gradient(body, values), want, rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------------ §3 vec, Kronecker, diag, softmax

KRON = r"X \in \mathbb{R}^{m \times n}, A \in \mathbb{R}^{n \times n}, B \in \mathbb{R}^{m \times m}, C \in \mathbb{R}^{m \times n}"
KRON_SHAPES = {"X": (4, 3), "A": (3, 3), "B": (4, 4), "C": (4, 3)}


def vec(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1, 1, order="F")


@pytest.mark.parametrize(
    ("objective", "meant", "rule"),
    [
        (r"\operatorname{vec}(X)^T\operatorname{vec}(C)", lambda v: scalar(vec(v["X"]).T @ vec(v["C"])), "vec_inner"),
        (
            r"\operatorname{vec}(X)^T (A\otimes B)\operatorname{vec}(X)",
            lambda v: scalar(vec(v["X"]).T @ np.kron(v["A"], v["B"]) @ vec(v["X"])),
            "vec_product",
        ),
        (
            r"\operatorname{vec}(C)^T (A\otimes B)\operatorname{vec}(X) + 1",
            lambda v: scalar(vec(v["C"]).T @ np.kron(v["A"], v["B"]) @ vec(v["X"])) + 1,
            "vec_inner",
        ),
        (r"\operatorname{tr}(A\otimes X^T B X)", lambda v: tr(np.kron(v["A"], v["X"].T @ v["B"] @ v["X"])), "trace_kron"),
    ],
)
def test_vec_and_kronecker_inside_scalar_objectives(
    objective: str, meant: Callable[[Values], float], rule: str
) -> None:
    body = f"given: {KRON}\nf = {objective}\nwrt: X"
    assert_reads_as(body, meant, KRON_SHAPES, "X")
    d = mdderiv.derive(body)
    assert any(rule in step.rules for section in d.sections for step in section.steps)


def test_diag_of_a_vector_inside_a_matrix_objective() -> None:
    body = (
        r"given: \mathbf{x} \in \mathbb{R}^{n}, A \in \mathbb{R}^{n \times n}, B \in \mathbb{R}^{n \times n}"
        "\n"
        r"f = \operatorname{tr}(A \operatorname{diag}(\mathbf{x}) B \operatorname{diag}(\mathbf{x}))"
        "\nwrt: \\mathbf{x}"
    )
    assert_reads_as(
        body,
        lambda v: tr(v["A"] @ np.diagflat(v["x"]) @ v["B"] @ np.diagflat(v["x"])),
        {"x": (3, 1), "A": (3, 3), "B": (3, 3)},
        "x",
    )


def test_softmax_of_a_matrix_names_the_axis_question() -> None:
    with pytest.raises(mdderiv.DeriveError, match="does not guess the axis") as caught:
        mdderiv.derive("given: X \\in \\mathbb{R}^{m \\times n}\nf = \\mathbf{1}^T\\operatorname{softmax}(X)\\mathbf{1}\nwrt: X")
    assert "column" in caught.value.message


@pytest.mark.parametrize(
    ("given", "objective", "wrt", "meant", "shapes"),
    [
        (r"X \in \mathbb{R}^{n \times n}", r"\det(X)^{1/n}", "X", lambda v: det(v["X"]) ** (1 / 3), {"X": (3, 3)}),
        (
            r"\mathbf{x} \in \mathbb{R}^{n}, p \in \mathbb{R}",
            r"(\mathbf{x}^T\mathbf{x})^{p/2}",
            "x",
            lambda v: scalar(v["x"].T @ v["x"]) ** (v["p"].item() / 2),
            {"x": (3, 1), "p": (1, 1)},
        ),
    ],
)
def test_an_exponent_with_a_dimension_or_a_symbol(
    given: str, objective: str, wrt: str, meant: Callable[[Values], float], shapes: dict[str, tuple[int, int]]
) -> None:
    name = "X" if wrt == "X" else r"\mathbf{x}"
    body = f"given: {given}\nf = {objective}\nwrt: {name}"
    values = sample(shapes, seed=2, spd=("X",))
    got = derived_gradient(body, values)
    want = numeric_gradient(meant, values, wrt)
    np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-5, atol=1e-7)
    d = mdderiv.derive(body)
    assert "power_by_expression" in d.sections[0].steps[0].rules


def test_a_symbolic_exponent_needs_a_scalar_base() -> None:
    with pytest.raises(mdderiv.DeriveError, match="needs a scalar base"):
        mdderiv.derive("given: X \\in \\mathbb{R}^{n \\times n}\nf = \\operatorname{tr}(X^{1/n})\nwrt: X")


# ------------------------------------------------------------------ the documentation

DOCUMENTED = [
    r"\operatorname{tr} X^T A X",
    r"\mathrm{tr}\, A B",
    r"\operatorname{tr} X^{-1} A",
    r"\det X^T X",
    r"\log\det \Sigma",
    r"\det A \det B",
    r"\exp W \mathbf{x}",
    r"functions: elementwise",
    r"\langle A, X \rangle",
    r"A : X",
    r"\mathbf{x} \cdot \mathbf{y}",
    r"\mathbf{x} \mathbf{y}",
    r"\mathbf{x}^2",
    r"|\mathbf{x}|",
    r"\mathbf{x} \times \mathbf{y}",
    r"\operatorname{vec}(X)^T \operatorname{vec}(A)",
    r"\operatorname{vec}(X)^T (A \otimes B) \operatorname{vec}(X)",
    r"\operatorname{tr}(A \otimes X)",
    r"\operatorname{diag}(\mathbf{x})",
    r"\operatorname{softmax}(X)",
    r"\det(X)^{1/n}",
    r"J(\boldsymbol{\theta})",
    r"\mathcal{L}",
    r"W_{\text{enc}}",
    r"\mathbf{x}'",
    r"\tfrac12",
    r"\dfrac{1}{2}",
]


def test_the_notation_page_lists_every_spelling_and_is_linked() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    page = (root / "docs" / "notation.md").read_text(encoding="utf-8")
    missing = [spelling for spelling in DOCUMENTED if f"`{spelling}" not in page and f"{spelling}`" not in page]
    assert not missing, f"docs/notation.md does not list {missing}"
    assert "notation.md" in (root / "mkdocs.yml").read_text(encoding="utf-8")
    assert "docs/notation.md" in (root / "README.md").read_text(encoding="utf-8")


def test_the_hessian_of_a_trace_of_a_matrix_function_is_refused_clearly() -> None:
    body = "given: X \\in \\mathbb{R}^{n \\times n}\nf = \\operatorname{tr}(e^{X})\nwrt: X"
    with pytest.raises(mdderiv.DeriveError, match=r"not its Hessian, which needs d f\(X\) itself") as caught:
        mdderiv.derive(body, hessian=True)
    assert caught.value.line == 2


@pytest.mark.parametrize(
    ("objective", "column"),
    [
        (r"\operatorname{tr}\left(((\lambda I)(\lambda I)^T + I)^{1/2}\right)", 38),
        (r"\operatorname{tr}(e^{\lambda I} X)", 34),  # was read entry by entry: a wrong gradient
        (r"\operatorname{tr}((\lambda I)^{1/2} X)", 32),
    ],
)
def test_a_function_of_an_unsized_identity_asks_for_its_size(objective: str, column: int) -> None:
    body = f"given: \\lambda \\in \\mathbb{{R}}, X \\in \\mathbb{{R}}^{{n \\times n}}\nf = {objective}\nwrt: X"
    with pytest.raises(mdderiv.DeriveError) as caught:
        mdderiv.derive(body)
    assert caught.value.message == "cannot infer the size of I; write it, e.g. I_{n}"
    assert (caught.value.line, caught.value.column) == (2, column)


def test_a_function_of_a_sized_identity_is_the_matrix_function() -> None:
    body = "given: t \\in \\mathbb{R}, X \\in \\mathbb{R}^{n \\times n}\nf = \\operatorname{tr}(e^{t I_n} X)\nwrt: X"
    shapes = {"X": (3, 3), "t": (1, 1)}
    t = float(sample(shapes)["t"][0, 0])
    assert_reads_as(body, lambda v: float(np.trace(np.exp(t) * v["X"])), shapes, "X")  # e^{tI} = e^t I


SOFTPLUS_GIVEN = "given: X \\in \\mathbb{R}^{m \\times n}, \\mathbf{w} \\in \\mathbb{R}^{n}, \\mathbf{y} \\in \\mathbb{R}^{m}"


@pytest.mark.parametrize(
    ("objective", "meant"),
    [
        (r"\mathbf{1}^T \log(1 + e^{X\mathbf{w}})", lambda v: np.log(1 + np.exp(v["X"] @ v["w"])).sum()),
        (
            r"\mathbf{1}^T\log(1 + \exp(-\mathbf{y}\odot X\mathbf{w}))",
            lambda v: np.log(1 + np.exp(-v["y"] * (v["X"] @ v["w"]))).sum(),
        ),
        (r"\mathbf{1}^T \log(2 + e^{X\mathbf{w}})", lambda v: np.log(2 + np.exp(v["X"] @ v["w"])).sum()),
        (r"\mathbf{y}^T \sigma(X\mathbf{w} - 1)", lambda v: v["y"].T @ (1 / (1 + np.exp(1 - v["X"] @ v["w"])))),
        (  # a 4×3 matrix: a matrix of ones (no identity could be meant)
            r"\mathbf{1}^T\log(1 + e^{X W})\mathbf{1}",
            lambda v: np.log(1 + np.exp(v["X"] @ v["W"])).sum(),
        ),
    ],
)
def test_a_number_added_to_a_vector_inside_a_function_is_broadcast_and_said(
    objective: str, meant: Callable[[Values], float]
) -> None:
    wrt = "\\mathbf{w}" if "mathbf{w}" in objective else "W"
    body = f"{SOFTPLUS_GIVEN}, W \\in \\mathbb{{R}}^{{n \\times n}}\nf = {objective}\nwrt: {wrt}"
    shapes = {"X": (4, 3), "w": (3, 1), "y": (4, 1), "W": (3, 3)}
    assert_reads_as(body, lambda v: scalar(meant(v)), shapes, "w" if "mathbf{w}" in objective else "W")
    d = mdderiv.derive(body)
    assert "reading_broadcast" in d.sections[0].steps[0].rules
    assert "read as that number times all ones" in d.text() and "全一向量" in mdderiv.derive(body, lang="zh").text()


def test_a_vector_of_ones_written_out_names_no_broadcast() -> None:
    d = mdderiv.derive(f"{SOFTPLUS_GIVEN}\nf = \\mathbf{{1}}^T \\log(\\mathbf{{1}} + e^{{X\\mathbf{{w}}}})\nwrt: \\mathbf{{w}}")
    assert "reading_broadcast" not in d.sections[0].steps[0].rules


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            # outside any matrix function (inside one, 1 + X is I + X: tests/test_matrix_function_products.py)
            "given: X \\in \\mathbb{R}^{n \\times n}\nf = \\operatorname{tr}(1 + X)\nwrt: X",
            "a number plus a square matrix can be read two ways: write I + X for the identity",
        ),
        (
            f"{SOFTPLUS_GIVEN}\nf = (1 - \\mathbf{{y}})^T X \\mathbf{{w}}\nwrt: \\mathbf{{w}}",
            "for a vector or matrix of ones write \\mathbf{1}",
        ),
    ],
)
def test_a_number_added_to_a_matrix_or_outside_a_function_is_refused(body: str, words: str) -> None:
    with pytest.raises(mdderiv.DeriveError) as caught:
        mdderiv.derive(body)
    assert words in caught.value.message


SQUARE_GIVEN = "given: X \\in \\mathbb{R}^{n \\times n}, B \\in \\mathbb{R}^{n \\times n}, c \\in \\mathbb{R}"


@pytest.mark.parametrize(
    ("objective", "column", "words"),
    [
        (r"\operatorname{tr} (X)^T c^2 B", 26, r"write \operatorname{tr}\left((…)^T …\right) around the whole product"),
        (r"\det(X)^{T} B", 12, r"the transpose of a determinant is the number itself"),
    ],
)
def test_a_transposed_trace_before_another_factor_is_refused(objective: str, column: int, words: str) -> None:
    with pytest.raises(mdderiv.DeriveError) as caught:
        mdderiv.derive(f"{SQUARE_GIVEN}\nf = {objective}\nwrt: X")
    assert words in caught.value.message and "can be read two ways" in caught.value.message
    assert (caught.value.line, caught.value.column) == (2, column)


@pytest.mark.parametrize(
    ("objective", "meant"),
    [
        (r"\operatorname{tr}\left((X)^T c^2 B\right)", lambda v: tr(v["X"].T @ v["B"]) * v["c"] ** 2),
        (r"\operatorname{tr} X^T c^2 B", lambda v: tr(v["X"].T @ v["B"]) * v["c"] ** 2),
        (r"\operatorname{tr}(X)^T + c", lambda v: tr(v["X"]) + v["c"]),
    ],
)
def test_the_ways_to_write_a_transposed_trace(objective: str, meant: Callable[[Values], float]) -> None:
    body = f"{SQUARE_GIVEN}\nf = {objective}\nwrt: X"
    assert_reads_as(body, lambda v: scalar(meant(v)), {"X": (3, 3), "B": (3, 3), "c": (1, 1)}, "X")


@pytest.mark.parametrize(
    ("objective", "meant"),
    [
        (r"\langle A, X \rangle_F", lambda v: np.sum(v["A"] * v["X"])),
        (r"\langle A, X \rangle_{\mathrm{F}}^2", lambda v: np.sum(v["A"] * v["X"]) ** 2),
    ],
)
def test_the_frobenius_inner_product_with_its_subscript(objective: str, meant: Callable[[Values], float]) -> None:
    body = f"given: A, X \\in \\mathbb{{R}}^{{m \\times n}}\nf = {objective}\nwrt: X"
    assert_reads_as(body, meant, {"A": (3, 2), "X": (3, 2)}, "X")


def test_another_subscript_on_an_inner_product_is_refused() -> None:
    with pytest.raises(mdderiv.DeriveError) as caught:
        mdderiv.derive("given: A, X \\in \\mathbb{R}^{m \\times n}\nf = \\langle A, X \\rangle_2\nwrt: X")
    assert caught.value.message == "the subscript of \\langle A, B \\rangle can only be F (Frobenius)"
    assert (caught.value.line, caught.value.column) == (2, 25)  # at the _


@pytest.mark.parametrize(
    ("objective", "meant", "rule"),
    [
        (r"\log\det e^{X}", lambda v: np.log(det(expm_series(v["X"]))), "logdet_exp"),
        (r"\log\det(\exp(X))", lambda v: np.log(det(expm_series(v["X"]))), "logdet_exp"),
        (r"\det(e^{X})", lambda v: det(expm_series(v["X"])), "det_exp"),
        (r"2\det e^{X} + \operatorname{tr}(A X)", lambda v: 2 * det(expm_series(v["X"])) + tr(v["A"] @ v["X"]), "det_exp"),
    ],
)
def test_the_determinant_of_a_matrix_exponential_by_its_identity(
    objective: str, meant: Callable[[Values], float], rule: str
) -> None:
    body = f"given: X \\in \\mathbb{{R}}^{{n \\times n}}, A \\in \\mathbb{{R}}^{{n \\times n}}\nf = {objective}\nwrt: X"
    d = mdderiv.derive(body)  # the numerical check is on by default
    assert d.check is not None and d.check.passed
    assert rule in [r for step in d.sections[0].steps for r in step.rules]
    values = sample({"X": (3, 3), "A": (3, 3)}, seed=7)
    values["X"] = values["X"] / 2  # keeps det e^X = e^{tr X} of moderate size
    got = np.asarray(eval(result_source(d, d.results[0]), {"np": np, **values}), dtype=float)  # our own output
    want = numeric_gradient(meant, values, "X")
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=objective)


@pytest.mark.parametrize(
    ("objective", "meant"),
    [
        (
            r"-\frac{nd}{2}\log(2\pi) - \frac{n}{2}\log\det\Sigma - \frac{1}{2}\operatorname{tr}(Y\Sigma^{-1}Y^T)",
            lambda v, n, d: -n * d / 2 * np.log(2 * np.pi) - n / 2 * np.log(det(v["Sigma"]))
            - 0.5 * tr(v["Y"] @ inv(v["Sigma"]) @ v["Y"].T),
        ),
        (r"\frac{n}{2}\log\det\Sigma + d\operatorname{tr}\Sigma", lambda v, n, d: n / 2 * np.log(det(v["Sigma"])) + d * tr(v["Sigma"])),
    ],
)
def test_a_dimension_name_used_as_a_number_is_that_size(
    objective: str, meant: Callable[[Values, int, int], float]
) -> None:
    body = f"given: Y \\in \\mathbb{{R}}^{{n \\times d}}, \\Sigma \\in \\mathbb{{S}}_{{++}}^{{d}}\n\\ell = {objective}\nwrt: \\Sigma"
    d = mdderiv.derive(body)  # the numerical check (on by default) samples n and d
    assert d.check is not None and d.check.passed
    assert "reading_dimension" in d.sections[0].steps[0].rules  # the derivation says so
    values = sample({"Y": (5, 3), "Sigma": (3, 3)}, seed=2, spd=("Sigma",))
    got = np.asarray(eval(result_source(d, d.results[0]), {"np": np, **values}), dtype=float)  # our own output
    want = numeric_gradient(lambda v: meant(v, 5, 3), values, "Sigma")
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=objective)


def test_no_reading_of_a_dimension_is_said_where_none_is_used() -> None:
    d = mdderiv.derive("given: \\Sigma \\in \\mathbb{S}_{++}^{d}\nf = \\log\\det\\Sigma\nwrt: \\Sigma")
    assert "reading_dimension" not in d.sections[0].steps[0].rules


@pytest.mark.parametrize(
    ("written", "suggested"),
    [
        ("n", r"given: n \in \mathbb{R}"),
        (r"\lambda", r"given: \lambda \in \mathbb{R}"),
        (r"\mathbf{v}", r"given: \mathbf{v} \in \mathbb{R}^{n}"),
        ("B", r"given: B \in \mathbb{R}^{m \times n}"),
        (r"\Lambda", r"given: \Lambda \in \mathbb{R}^{m \times n}"),
    ],
)
def test_the_declaration_suggested_for_an_undeclared_name_fits_its_spelling(written: str, suggested: str) -> None:
    # n is no dimension here (Σ is d×d): the error stays, with a hint that fits a number
    with pytest.raises(mdderiv.DeriveError) as caught:
        mdderiv.derive(f"given: \\Sigma \\in \\mathbb{{S}}_{{++}}^{{d}}\nf = {written} \\cdot \\log\\det\\Sigma\nwrt: \\Sigma")
    assert caught.value.message == f"undeclared symbol {written}; declare it with {suggested}"


def kron_quadratic(v: Values) -> float:
    return scalar(v["c"].T @ np.kron(v["A"], v["B"]) @ v["c"])


def test_a_dimension_name_made_of_dimension_names_is_their_product() -> None:
    body = (
        "given: A \\in \\mathbb{R}^{m \\times m}, B \\in \\mathbb{R}^{n \\times n}, \\mathbf{c} \\in \\mathbb{R}^{mn}\n"
        "f = \\mathbf{c}^T (A \\otimes B) \\mathbf{c}\nwrt: \\mathbf{c}"
    )
    d = mdderiv.derive(body)  # the numerical check samples c with m·n entries
    assert d.check is not None and d.check.passed
    assert "reading_dimension_product" in d.sections[0].steps[0].rules  # the derivation says so
    values = sample({"A": (3, 3), "B": (2, 2), "c": (6, 1)}, seed=4)
    got = np.asarray(eval(result_source(d, d.results[0]), {"np": np, **values}), dtype=float)  # our own output
    np.testing.assert_allclose(got, numeric_gradient(kron_quadratic, values, "c"), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "given",
    [
        # k is no dimension of its own: mk stays a name, and m·n cannot be subtracted from it
        r"A \in \mathbb{R}^{m \times m}, B \in \mathbb{R}^{n \times n}, \mathbf{c} \in \mathbb{R}^{mk}",
        # mnk beside a dimension nk: m·nk or m·n·k? no reading is taken
        r"A \in \mathbb{R}^{m \times m}, B \in \mathbb{R}^{nk \times n}, \mathbf{c} \in \mathbb{R}^{mnk}, D \in \mathbb{R}^{k}",
    ],
)
def test_a_dimension_name_that_is_no_product_of_dimensions_stays_a_name(given: str) -> None:
    with pytest.raises(mdderiv.DeriveError, match="cannot multiply|cannot subtract|inner dimensions"):
        mdderiv.derive(f"given: {given}\nf = \\mathbf{{c}}^T (A \\otimes B) \\mathbf{{c}}\nwrt: \\mathbf{{c}}")


def unvec_numpy(c: np.ndarray, rows: int, cols: int) -> np.ndarray:
    return c.reshape((rows, cols), order="F")


@pytest.mark.parametrize(
    ("objective", "meant"),
    [
        (r"\|\operatorname{vec}(X) - \mathbf{c}\|^2", lambda v: float(np.sum((v["X"].reshape(-1, 1, order="F") - v["c"]) ** 2))),
        (r"\mathbf{c}^T \operatorname{vec}(A X B)", lambda v: scalar(v["c"].T @ (v["A"] @ v["X"] @ v["B"]).reshape(-1, 1, order="F"))),
        (
            r"\mathbf{c}^T \operatorname{vec}(X \odot X) + \mathbf{c}^T\mathbf{c}",
            lambda v: scalar(v["c"].T @ (v["X"] * v["X"]).reshape(-1, 1, order="F") + v["c"].T @ v["c"]),
        ),
    ],
)
def test_the_gradient_through_vec_is_read_off_by_vec_inverse(objective: str, meant: Callable[[Values], float]) -> None:
    body = (
        "given: X \\in \\mathbb{R}^{m \\times n}, \\mathbf{c} \\in \\mathbb{R}^{mn}, A \\in \\mathbb{R}^{m \\times m}, "
        f"B \\in \\mathbb{{R}}^{{n \\times n}}\nf = {objective}\nwrt: X"
    )
    d = mdderiv.derive(body)  # the numerical check is on by default
    assert d.check is not None and d.check.passed
    assert r"\operatorname{vec}^{-1}" in d.latex()
    values = sample({"X": (3, 2), "c": (6, 1), "A": (3, 3), "B": (2, 2)}, seed=6)
    got = np.asarray(eval(result_source(d, d.results[0]), {"np": np, **values}), dtype=float)  # our own output
    np.testing.assert_allclose(got, numeric_gradient(meant, values, "X"), rtol=1e-5, atol=1e-6, err_msg=objective)
    if objective.startswith(r"\|"):
        np.testing.assert_allclose(got, 2 * (values["X"] - unvec_numpy(values["c"], 3, 2)))


def test_a_name_of_several_letters_from_an_ascii_declaration() -> None:
    body = "given: X: m x n, w: n, y: m, lam: scalar\nf = \\|X w - y\\|^2 + lam \\|w\\|^2\nwrt: w"
    d = mdderiv.derive(body)  # the numerical check is on by default
    assert d.check is not None and d.check.passed
    assert r"\mathit{lam}" in d.latex()
    values = sample({"X": (4, 3), "w": (3, 1), "y": (4, 1), "lam": (1, 1)}, seed=8)
    got = derived_gradient(body, values)

    def meant(v: Values) -> float:
        return float(np.sum((v["X"] @ v["w"] - v["y"]) ** 2) + v["lam"].item() * np.sum(v["w"] ** 2))

    np.testing.assert_allclose(got, numeric_gradient(meant, values, "w"), rtol=1e-5, atol=1e-6)


def test_a_name_of_several_letters_that_is_also_a_product_is_refused() -> None:
    # l and a are declared and m is a dimension: lam could be l·a·m
    body = "given: X: m x n, w: n, y: m, lam: scalar, l: scalar, a: scalar\nf = \\|X w - y\\|^2 + lam \\|w\\|^2\nwrt: w"
    with pytest.raises(mdderiv.DeriveError) as caught:
        mdderiv.derive(body)
    assert caught.value.message == "lam can be the name lam or the product of l a m; rename one of them"
    assert (caught.value.line, caught.value.column) == (2, 21)


def test_a_name_of_several_letters_can_be_the_variable() -> None:
    body = "given: X: m x n, w: n, y: m, lam: scalar\nf = \\|X w - y\\|^2 + lam \\|w\\|^2\nwrt: lam"
    values = sample({"X": (4, 3), "w": (3, 1), "y": (4, 1), "lam": (1, 1)}, seed=9)
    got = derived_gradient(body, values)
    np.testing.assert_allclose(got.reshape(-1), [np.sum(values["w"] ** 2)], rtol=1e-10)


def test_a_latex_declaration_keeps_reading_letters_as_letters() -> None:
    with pytest.raises(mdderiv.DeriveError, match="expected one symbol name"):
        mdderiv.derive("given: lam \\in \\mathbb{R}, \\mathbf{w} \\in \\mathbb{R}^{n}\nf = lam \\mathbf{w}^T\\mathbf{w}\nwrt: \\mathbf{w}")


@pytest.mark.parametrize(
    ("objective", "meant"),
    [
        (r"\log 2\pi \cdot \mathbf{x}^T \mathbf{y}", lambda v: np.log(2 * np.pi) * scalar(v["x"].T @ v["y"])),
        (r"\frac{1}{2}\log 2 \pi \cdot \mathbf{x}^T \mathbf{y}", lambda v: 0.5 * np.log(2 * np.pi) * scalar(v["x"].T @ v["y"])),
        (r"\log 4 \cdot \mathbf{x}^T \mathbf{y}", lambda v: np.log(4) * scalar(v["x"].T @ v["y"])),
    ],
)
def test_log_of_two_pi_without_parentheses_is_log_of_the_product(
    objective: str, meant: Callable[[Values], float]
) -> None:
    assert_reads_as(f"given: {VECTORS}\nf = {objective}\nwrt: \\mathbf{{x}}", meant, VEC3, "x")


def test_log_of_a_number_then_a_symbol_is_still_refused() -> None:
    body = "given: " + VECTORS + "\nf = \\log 2\\pi \\mathbf{x}^T \\mathbf{y}\nwrt: \\mathbf{x}"
    with pytest.raises(mdderiv.DeriveError, match="two ways"):
        mdderiv.derive(body)


@pytest.mark.parametrize(
    ("objective", "meant"),
    [
        (r"\mathbf{x}^T \mathbf{y} \div 4", lambda v: scalar(v["x"].T @ v["y"]) / 4),
        ("\\mathbf{x}^T \\mathbf{y} \u00f7 4", lambda v: scalar(v["x"].T @ v["y"]) / 4),
        (r"\log 2\pi \div 2 \cdot \mathbf{x}^T \mathbf{y}", lambda v: np.log(2 * np.pi) / 2 * scalar(v["x"].T @ v["y"])),
    ],
)
def test_div_is_division_like_a_slash(objective: str, meant: Callable[[Values], float]) -> None:
    assert_reads_as(f"given: {VECTORS}\nf = {objective}\nwrt: \\mathbf{{x}}", meant, VEC3, "x")


def test_div_without_a_left_side_is_a_located_error() -> None:
    with pytest.raises(mdderiv.DeriveError, match=r"expected a term, found .\\\\div"):
        mdderiv.derive("given: " + VECTORS + "\nf = \\div \\mathbf{x}^T \\mathbf{y}\nwrt: \\mathbf{x}")
