r"""Norms as authors write them, and zero Hessians (issue 11).

* The nuclear norm ``\|X\|_*`` (also ``_{*}``, ``_\ast``, ``_\star``,
  ``_{\mathrm{tr}}``, ``_{\text{nuc}}``) derives as ``tr((X^T X)^{1/2})``, with
  the gradient ``X (X^T X)^{-1/2}`` where X has full column rank (``(X X^T)^{-1/2} X``
  for a matrix declared wider than tall), the identity and the condition said
  in English and Chinese.  Every result — the generated NumPy source and the
  engine's evaluator — is compared with central differences of the sum of the
  singular values computed here by NumPy's SVD, independently of mdderiv.
* ``\|\mathbf{x}\|_*`` of a vector (a dual norm: ambiguous), the spectral norm
  ``\|X\|_2`` and unknown subscripts are refused, each saying what to write.
* An objective whose gradient does not depend on the variable (linear, or
  piecewise linear: ReLU, ``|u|``, ``\|u\|_1``) has a zero Hessian, derived and
  boxed in every output, and compared with second differences of the
  objective written here in NumPy, at points away from the kinks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from support import assert_result_agrees, finite_difference_hessian

import mdderiv
from mdderiv.check import kinked_arguments
from mdderiv.rules import RULES, RuleId

Values = dict[str, np.ndarray]


def _nuclear(x: np.ndarray) -> float:
    return float(np.linalg.svd(x, compute_uv=False).sum())


def _gradient_by_differences(f: Callable[[Values], float], values: Values, name: str, h: float = 1e-6) -> np.ndarray:
    base = values[name]
    grad = np.zeros_like(base)
    for index in np.ndindex(base.shape):
        plus, minus = base.copy(), base.copy()
        plus[index] += h
        minus[index] -= h
        grad[index] = (f({**values, name: plus}) - f({**values, name: minus})) / (2 * h)
    return grad


@dataclass(frozen=True)
class NuclearCase:
    given: str
    objective: str
    numpy: Callable[[Values], float]  # the objective, written independently
    shapes: dict[str, tuple[int, int]]  # the inputs' shapes at the test points
    sizes: dict[str, int]  # the dimension names' sizes there
    gradient: str | None = None  # the expected gradient's LaTeX, where it is short


_X = r"X \in \mathbb{R}^{m \times n}"
_TALL = {"X": (5, 3)}
_TALL_SIZES = {"m": 5, "n": 3}

NUCLEAR_CASES = {
    "plain": NuclearCase(_X, r"\|X\|_*", lambda v: _nuclear(v["X"]), _TALL, _TALL_SIZES,
                         r"X {(X^{T} X)^{-1/2}}"),
    "squared": NuclearCase(_X, r"\|X\|_*^2", lambda v: _nuclear(v["X"]) ** 2, _TALL, _TALL_SIZES,
                           r"2 \|X\|_* X {(X^{T} X)^{-1/2}}"),
    "square matrix": NuclearCase(r"X \in \mathbb{R}^{n \times n}", r"\|X\|_*", lambda v: _nuclear(v["X"]),
                                 {"X": (4, 4)}, {"n": 4}, r"X {(X^{T} X)^{-1/2}}"),
    "tall in numbers": NuclearCase(r"X \in \mathbb{R}^{5 \times 2}", r"\|X\|_*", lambda v: _nuclear(v["X"]),
                                   {"X": (5, 2)}, {}, r"X {(X^{T} X)^{-1/2}}"),
    "wide in numbers": NuclearCase(r"X \in \mathbb{R}^{2 \times 5}", r"\|X\|_*", lambda v: _nuclear(v["X"]),
                                   {"X": (2, 5)}, {}, r"{(X X^{T})^{-1/2}} X"),
    "regularised fit": NuclearCase(
        r"A \in \mathbb{R}^{m \times n}, B \in \mathbb{R}^{m \times p}, X \in \mathbb{R}^{p \times n}, \lambda \in \mathbb{R}",
        r"\frac{1}{2}\|A - BX\|_F^2 + \lambda\|X\|_*",
        lambda v: 0.5 * float(np.sum((v["A"] - v["B"] @ v["X"]) ** 2)) + float(v["lambda_"].item()) * _nuclear(v["X"]),
        {"A": (6, 3), "B": (6, 4), "X": (4, 3), "lambda_": (1, 1)}, {"m": 6, "n": 3, "p": 4},
    ),
    "of a difference": NuclearCase(
        r"A, X \in \mathbb{R}^{m \times n}", r"\|A - X\|_*",
        lambda v: _nuclear(v["A"] - v["X"]), {"A": (5, 3), "X": (5, 3)}, _TALL_SIZES,
    ),
}


def _body(case: NuclearCase, hessian: bool = False) -> str:
    return f"given: {case.given}\nf = {case.objective}\nwrt: X" + ("\nhessian: true" if hessian else "")


def _point(case: NuclearCase, seed: int) -> Values:
    rng = np.random.default_rng(seed)
    return {name: rng.standard_normal(shape) for name, shape in case.shapes.items()}


@pytest.mark.parametrize("name", list(NUCLEAR_CASES))
def test_the_nuclear_norm_gradient_agrees_with_differences_of_numpys_svd(name: str) -> None:
    case = NUCLEAR_CASES[name]
    d = mdderiv.derive(_body(case))  # the check on: it must find full-rank points and agree
    assert d.check is not None and d.check.passed
    (result,) = d.results
    (source,) = d.numpy()
    if case.gradient is not None:
        assert d.to_json()["results"][0]["latex"] == case.gradient
    for seed in range(3):
        values = _point(case, seed)
        want = _gradient_by_differences(case.numpy, values, "X")
        assert_result_agrees(d, result, source, values, case.sizes or None, want, name)


@pytest.mark.parametrize(
    "spelling",
    [r"\|X\|_*", r"\|X\|_{*}", r"\|X\|_\ast", r"\|X\|_{\ast}", r"\|X\|_\star", r"\|X\|_{\mathrm{tr}}",
     r"\|X\|_{\text{nuc}}", r"\|X\|_{\operatorname{nuc}}", r"\left\|X\right\|_*", r"\lVert X\rVert_*"],
)
def test_every_spelling_of_the_nuclear_norm_reads_the_same(spelling: str) -> None:
    d = mdderiv.derive(f"given: {_X}\nf = {spelling}\nwrt: X")
    assert d.check is not None and d.check.passed
    assert d.to_json()["results"][0]["latex"] == r"X {(X^{T} X)^{-1/2}}"
    assert d.to_json()["steps"][0]["latex"] == r"f = \|X\|_*"  # printed in one spelling
    values = {"X": np.random.default_rng(7).standard_normal((5, 3))}
    (source,) = d.numpy()
    want = _gradient_by_differences(lambda v: _nuclear(v["X"]), values, "X")
    assert np.allclose(eval(source, {"np": np, **values}), want, atol=1e-6)


def test_the_derivation_states_the_identity_and_the_condition_in_both_languages() -> None:
    body = _body(NUCLEAR_CASES["plain"])
    d = mdderiv.derive(body)
    steps = d.to_json()["steps"]
    assert steps[1]["latex"] == r"f = \operatorname{tr}({(X^{T} X)^{1/2}})"
    assert steps[1]["rules"] == [RuleId.NORM_NUCLEAR, RuleId.FULL_COLUMN_RANK]
    for rule in (RuleId.NORM_NUCLEAR, RuleId.FULL_COLUMN_RANK):
        assert RULES[rule].en in d.text() and RULES[rule].en in d.latex()
        assert RULES[rule].zh in mdderiv.derive(body, lang="zh").text()
    assert "full column rank" in RULES[RuleId.FULL_COLUMN_RANK].en and "列满秩" in RULES[RuleId.FULL_COLUMN_RANK].zh
    wide = mdderiv.derive(_body(NUCLEAR_CASES["wide in numbers"]))
    assert wide.to_json()["steps"][1]["rules"] == [RuleId.NORM_NUCLEAR, RuleId.FULL_ROW_RANK]
    assert wide.to_json()["steps"][1]["latex"] == r"f = \operatorname{tr}({(X X^{T})^{1/2}})"


def test_the_printers_write_the_nuclear_norm() -> None:
    d = mdderiv.derive(_body(NUCLEAR_CASES["squared"]))
    assert r"\|X\|_*^{2}" in d.latex() or r"\|X\|_*^2" in d.latex()
    # the gradient's tr((X^T X)^{1/2}) is written back as the norm, citing the identity used
    last = d.to_json()["steps"][-1]
    assert last["latex"].endswith(r"= 2 \|X\|_* X {(X^{T} X)^{-1/2}}") and last["rules"] == [RuleId.NORM_NUCLEAR]
    assert "‖X‖_*" in d.text()
    assert r"\|X\|_*" in d.html()
    (source,) = d.numpy()
    assert 'np.linalg.norm(X, "nuc")' in source
    x = np.random.default_rng(3).standard_normal((4, 2))
    assert np.isclose(eval('np.linalg.norm(X, "nuc")', {"np": np, "X": x}), _nuclear(x))


def test_the_check_samples_only_matrices_where_the_gradient_exists() -> None:
    d = mdderiv.derive(_body(NUCLEAR_CASES["plain"]), check=False)
    ((argument, smooth_at),) = kinked_arguments(d.problem)
    assert argument.shape == ("m", "n")
    rng = np.random.default_rng(1)
    assert smooth_at(rng.standard_normal((5, 3)))  # tall, full column rank
    assert not smooth_at(rng.standard_normal((3, 5)))  # wide: X^T X is singular
    rank_one = rng.standard_normal((5, 1)) @ rng.standard_normal((1, 3))
    assert not smooth_at(rank_one)
    wide = mdderiv.derive(_body(NUCLEAR_CASES["wide in numbers"]), check=False)
    ((_, smooth_wide),) = kinked_arguments(wide.problem)
    assert smooth_wide(rng.standard_normal((2, 5))) and not smooth_wide(rng.standard_normal((5, 2)))


@pytest.mark.parametrize(
    ("given", "objective", "message"),
    [
        (r"\mathbf{x} \in \mathbb{R}^{n}", r"\|\mathbf{x}\|_*", r"dual norm.*write the norm you mean"),
        (r"\mathbf{x} \in \mathbb{R}^{n}", r"\|\mathbf{x}\|_{\ast}^2", r"dual norm"),
        (_X, r"\|X\|_2", r"spectral norm.*u_1 v_1\^T.*write \\\|X\\\|_F .*\\\|X\\\|_\* for the nuclear norm"),
        (r"\mathbf{x} \in \mathbb{R}^{n}", r"\|\mathbf{x}\|_\infty",
         r"unsupported norm \\\|…\\\|_\{\\infty\}: mdderiv reads .*\\\|X\\\|_\* \(nuclear\)"),
        (_X, r"\|X\|_{S_1}", r"unsupported norm \\\|…\\\|_\{S_1\}"),
    ],
)
def test_norms_that_are_not_read_are_refused_with_what_to_write(given: str, objective: str, message: str) -> None:
    wrt = "X" if "X" in given else r"\mathbf{x}"
    with pytest.raises(mdderiv.DeriveError, match=message):
        mdderiv.derive(f"given: {given}\nf = {objective}\nwrt: {wrt}")


def test_the_hessian_of_the_nuclear_norm_is_refused_clearly() -> None:
    with pytest.raises(mdderiv.DeriveError, match=r"Hessian of a nuclear norm .* leave out hessian: true"):
        mdderiv.derive(_body(NUCLEAR_CASES["plain"], hessian=True))


# ---------------------------------------------------------------- zero Hessians


@dataclass(frozen=True)
class ZeroCase:
    given: str
    objective: str
    wrt: str  # LaTeX
    name: str  # the variable's key in the values
    numpy: Callable[[Values], float]
    shapes: dict[str, tuple[int, int]]
    kinks: bool  # a kink function is involved: "wherever it is defined"
    #: where the objective is smooth (far from its kinks) at a point
    smooth: Callable[[Values], bool] = lambda v: True


def _relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


ZERO_CASES = {
    "ReLU layer by its weights": ZeroCase(
        r"W \in \mathbb{R}^{m \times n}, \mathbf{x} \in \mathbb{R}^{n}, \mathbf{v} \in \mathbb{R}^{m}",
        r"\mathbf{v}^T\max(0, W\mathbf{x})", "W", "W",
        lambda v: float((v["v"].T @ _relu(v["W"] @ v["x"])).item()),
        {"W": (3, 4), "x": (4, 1), "v": (3, 1)}, True,
        lambda v: bool(np.all(np.abs(v["W"] @ v["x"]) > 0.05)),
    ),
    "1-norm": ZeroCase(
        r"\mathbf{x} \in \mathbb{R}^{n}", r"\|\mathbf{x}\|_1", r"\mathbf{x}", "x",
        lambda v: float(np.abs(v["x"]).sum()), {"x": (4, 1)}, True,
        lambda v: bool(np.all(np.abs(v["x"]) > 0.05)),
    ),
    "absolute value": ZeroCase(
        r"\mathbf{a}, \mathbf{x} \in \mathbb{R}^{n}", r"|\mathbf{a}^T\mathbf{x}|", r"\mathbf{x}", "x",
        lambda v: float(abs((v["a"].T @ v["x"]).item())), {"a": (4, 1), "x": (4, 1)}, True,
        lambda v: abs(float((v["a"].T @ v["x"]).item())) > 0.05,
    ),
    "linear": ZeroCase(
        r"\mathbf{a}, \mathbf{x} \in \mathbb{R}^{n}", r"\mathbf{a}^T\mathbf{x}", r"\mathbf{x}", "x",
        lambda v: float((v["a"].T @ v["x"]).item()), {"a": (4, 1), "x": (4, 1)}, False,
    ),
    "linear in a matrix": ZeroCase(
        r"A \in \mathbb{R}^{n \times m}, X \in \mathbb{R}^{m \times n}", r"\operatorname{tr}(AX)", "X", "X",
        lambda v: float(np.trace(v["A"] @ v["X"])), {"A": (4, 3), "X": (3, 4)}, False,
    ),
    "linear in a scalar": ZeroCase(
        r"t \in \mathbb{R}, \mathbf{a} \in \mathbb{R}^{n}", r"t\,\mathbf{1}^T\mathbf{a}", "t", "t",
        lambda v: float(v["t"].item() * v["a"].sum()), {"t": (1, 1), "a": (4, 1)}, False,
    ),
}


def _zero_body(case: ZeroCase) -> str:
    return f"given: {case.given}\nf = {case.objective}\nwrt: {case.wrt}\nhessian: true"


def _hessian_by_differences(case: ZeroCase, values: Values, h: float = 1e-3) -> np.ndarray:
    """Second central differences of the objective along vec(variable):
    exact (zero up to rounding) on a piece where it is linear."""
    return finite_difference_hessian(lambda m: case.numpy({**values, case.name: m}), values[case.name], h)


def _smooth_points(case: ZeroCase, count: int) -> list[Values]:
    rng = np.random.default_rng(11)
    found: list[Values] = []
    while len(found) < count:
        values = {name: rng.standard_normal(shape) for name, shape in case.shapes.items()}
        if case.smooth(values):
            found.append(values)
    return found


@pytest.mark.parametrize("name", list(ZERO_CASES))
def test_a_gradient_that_does_not_move_gives_a_zero_hessian(name: str) -> None:
    case = ZERO_CASES[name]
    d = mdderiv.derive(_zero_body(case))  # the check on: finite differences of the gradient agree
    assert d.check is not None and d.check.passed
    out = d.to_json()
    (hessian,) = [r for r in out["results"] if r["kind"] == "hessian"]
    size = int(np.prod(case.shapes[case.name]))
    for values in _smooth_points(case, 3):
        want = _hessian_by_differences(case, values)
        generated = np.asarray(eval(hessian["numpy"], {"np": np, **values}), dtype=float)
        assert generated.size == size * size, hessian["numpy"]
        assert np.allclose(generated.reshape(want.shape), want, atol=1e-6), (name, want)
    # the words: why it is zero, and "wherever it is defined" only with a kink
    text, zh = d.text(), mdderiv.derive(_zero_body(case), lang="zh").text()
    assert RULES[RuleId.HESSIAN_ZERO].en in text and RULES[RuleId.HESSIAN_ZERO].zh in zh
    assert ("wherever it is defined" in text) == case.kinks
    assert ("在有定义处" in zh) == case.kinks
    (step,) = [s for s in out["steps"] if RuleId.HESSIAN_ZERO in s["rules"]]
    assert (step.get("note") == "hessian_zero_kinks") == case.kinks


def test_a_zero_hessian_is_boxed_in_every_output() -> None:
    d = mdderiv.derive(_zero_body(ZERO_CASES["ReLU layer by its weights"]))
    out = d.to_json()
    hessian = out["results"][-1]
    # spec §7: kind "hessian", shape (size(X), size(X))
    assert hessian["kind"] == "hessian" and hessian["wrt"] == "W"
    assert hessian["latex"] == r"\mathbf{0}"
    assert sorted(hessian["shape"]) == ["m*n", "m*n"]
    values = {"W": np.ones((3, 4))}
    assert np.asarray(eval(hessian["numpy"], {"np": np, **values})).shape == (12, 12)
    assert r"\boxed{\frac{\partial^{2}f}{\partial \operatorname{vec}(W) \partial \operatorname{vec}(W)^{T}} = " in d.latex()
    assert "▶ ∂²f/(∂vec(W) ∂vec(W)ᵀ) = 𝟎" in d.text()
    assert "mdderiv-derivation" in d.html() and r"\mathbf{0}" in d.html()
    scalar = mdderiv.derive(_zero_body(ZERO_CASES["linear in a scalar"])).to_json()["results"][-1]
    assert scalar["latex"] == "0" and scalar["shape"] == []
    assert float(eval(scalar["numpy"], {"np": np})) == 0.0


def test_a_hessian_that_is_not_zero_is_still_derived_as_before() -> None:
    d = mdderiv.derive(
        "given: \\mathbf{x} \\in \\mathbb{R}^{n}\nf = \\|\\mathbf{x}\\|_1 + \\frac{1}{2}\\|\\mathbf{x}\\|^2\n"
        "wrt: \\mathbf{x}\nhessian: true"
    )
    assert d.to_json()["results"][-1]["latex"] == "I"
    assert RuleId.HESSIAN_ZERO not in {r for s in d.sections for step in s.steps for r in step.rules}
