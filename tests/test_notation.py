"""How mdderiv reads authors' notation (issue 11, docs/notation.md): every
reading is compared with an independent NumPy evaluation of what the author
meant, so a misreading fails even when the engine's own check would pass."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import mdderiv
from mdderiv.render.numpy import result_source
from mdderiv.shapes import written_as_scalar
from mdderiv.syntax.latex import parse_expression
from mdderiv.syntax.nodes import Source

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
    x = values[wrt]
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = dict(values), dict(values)
        step = np.zeros_like(x)
        step[index] = h
        plus[wrt], minus[wrt] = x + step, x - step
        grad[index] = (f(plus) - f(minus)) / (2 * h)
    return grad


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
