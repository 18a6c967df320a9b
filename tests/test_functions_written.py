r"""The functions authors write (issue #11 §3): cosh, sinh, tan, arctan, softplus
(as ``\log(1 + e^{u})`` and by name), ReLU as ``\max(0, u)``, the 1-norm
``\|\mathbf{x}\|_1``, and the constants ``\pi`` and ``e``.  Each derives with
the check on, cites its rule (named in English and Chinese), and its result —
the generated NumPy source and the engine's evaluator — agrees with central
differences of the objective written here independently in NumPy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

import mdderiv
from mdderiv.rules import RULES, RuleId
from support import assert_result_agrees, central_differences

M, N = 3, 4
GIVEN = (
    r"given: W \in \mathbb{R}^{m \times n},\ X \in \mathbb{R}^{m \times n},\ "
    r"\mathbf{x} \in \mathbb{R}^{n},\ \mathbf{w} \in \mathbb{R}^{n},\ \mathbf{a} \in \mathbb{R}^{m},\ "
    r"\mathbf{b} \in \mathbb{R}^{n}"
)
Values = dict[str, np.ndarray]


@dataclass(frozen=True)
class Case:
    objective: str  # LaTeX, after "f = "
    wrt: str  # the variable's name in the values
    wrt_latex: str
    numpy: Callable[[Values], float]  # the objective (a sum of one entry), written independently
    rule: RuleId | None  # the rule it cites (a constant cites none)
    #: the values where the objective is smooth (an argument away from a kink)
    smooth: Callable[[Values], bool] = lambda v: True


def _relu(z: np.ndarray) -> np.ndarray:
    return np.where(z > 0, z, 0.0)


CASES = {
    "cosh": Case(
        r"\mathbf{1}^T \cosh(W\mathbf{x})", "W", "W",
        lambda v: np.sum(np.cosh(v["W"] @ v["x"]).sum()), RuleId.COSH_RULE,
    ),
    "sinh": Case(
        r"\mathbf{a}^T \sinh(X\mathbf{w})", "w", r"\mathbf{w}",
        lambda v: np.sum(v["a"].T @ np.sinh(v["X"] @ v["w"])), RuleId.SINH_RULE,
    ),
    "tan": Case(
        r"\tan(\mathbf{b}^T\mathbf{x})", "x", r"\mathbf{x}",
        lambda v: np.sum(np.tan(v["b"].T @ v["x"])), RuleId.TAN_RULE,
        smooth=lambda v: abs(np.cos((v["b"].T @ v["x"]).item())) > 0.1,
    ),
    "tan of a vector": Case(
        r"\mathbf{a}^T \tan(W\mathbf{x})", "x", r"\mathbf{x}",
        lambda v: np.sum(v["a"].T @ np.tan(v["W"] @ v["x"])), RuleId.TAN_RULE,
        smooth=lambda v: bool(np.all(np.abs(np.cos(v["W"] @ v["x"])) > 0.1)),
    ),
    "arctan": Case(
        r"\mathbf{1}^T \arctan(X\mathbf{w})", "w", r"\mathbf{w}",
        lambda v: np.sum(np.arctan(v["X"] @ v["w"]).sum()), RuleId.ARCTAN_RULE,
    ),
    "softplus by name": Case(
        r"\mathbf{1}^T \operatorname{softplus}(X\mathbf{w})", "w", r"\mathbf{w}",
        lambda v: np.sum(np.log1p(np.exp(v["X"] @ v["w"])).sum()), RuleId.SOFTPLUS_RULE,
    ),
    "softplus written out": Case(
        r"\mathbf{1}^T\log(\mathbf{1} + e^{X\mathbf{w}})", "w", r"\mathbf{w}",
        lambda v: np.sum(np.log1p(np.exp(v["X"] @ v["w"])).sum()), RuleId.SOFTPLUS_RULE,
    ),
    "softplus of a scalar": Case(
        r"\log(1 + e^{\mathbf{b}^T\mathbf{x}})", "x", r"\mathbf{x}",
        lambda v: np.sum(np.log1p(np.exp(v["b"].T @ v["x"]))), RuleId.SOFTPLUS_RULE,
    ),
    "relu": Case(
        r"\mathbf{1}^T \max(0, W\mathbf{x})", "W", "W",
        lambda v: np.sum(_relu(v["W"] @ v["x"]).sum()), RuleId.RELU_RULE,
        smooth=lambda v: bool(np.all(np.abs(v["W"] @ v["x"]) > 1e-3)),
    ),
    "relu, zero second": Case(
        r"\mathbf{a}^T \max(W\mathbf{x}, 0)", "x", r"\mathbf{x}",
        lambda v: np.sum(v["a"].T @ _relu(v["W"] @ v["x"])), RuleId.RELU_RULE,
        smooth=lambda v: bool(np.all(np.abs(v["W"] @ v["x"]) > 1e-3)),
    ),
    "relu by name": Case(
        r"\|\operatorname{ReLU}(W\mathbf{x}) - \mathbf{a}\|^2", "W", "W",
        lambda v: np.sum(np.sum((_relu(v["W"] @ v["x"]) - v["a"]) ** 2)), RuleId.RELU_RULE,
        smooth=lambda v: bool(np.all(np.abs(v["W"] @ v["x"]) > 1e-3)),
    ),
    "1-norm": Case(
        r"\|W\mathbf{x} - \mathbf{a}\|^2 + \|\mathbf{x}\|_1", "x", r"\mathbf{x}",
        lambda v: np.sum((v["W"] @ v["x"] - v["a"]) ** 2) + np.sum(np.abs(v["x"])), RuleId.NORM_L1,
        smooth=lambda v: bool(np.all(np.abs(v["x"]) > 1e-3)),
    ),
    "1-norm of a residual": Case(
        r"\|W\mathbf{x} - \mathbf{a}\|_1", "W", "W",
        lambda v: np.sum(np.abs(v["W"] @ v["x"] - v["a"])), RuleId.ABS_RULE,
        smooth=lambda v: bool(np.all(np.abs(v["W"] @ v["x"] - v["a"]) > 1e-3)),
    ),
    "pi": Case(
        r"\sin(\pi\,\mathbf{b}^T\mathbf{x}) + \frac{1}{2\pi}\mathbf{x}^T\mathbf{x}", "x", r"\mathbf{x}",
        lambda v: np.sum(np.sin(np.pi * v["b"].T @ v["x"]) + v["x"].T @ v["x"] / (2 * np.pi)), None,
    ),
    "e": Case(
        r"\mathbf{a}^T\exp(e\,W\mathbf{x}) + e^{\mathbf{b}^T\mathbf{x}}", "x", r"\mathbf{x}",
        lambda v: np.sum(v["a"].T @ np.exp(np.e * v["W"] @ v["x"]) + np.exp(v["b"].T @ v["x"])), None,
    ),
}


def _body(case: Case) -> str:
    return f"{GIVEN}\nf = {case.objective}\nwrt: {case.wrt_latex}"


def _values(case: Case, seed: int) -> Values:
    rng = np.random.default_rng(seed)
    for _ in range(100):
        values = {
            "W": rng.standard_normal((M, N)) * 0.5,
            "X": rng.standard_normal((M, N)) * 0.5,
            "x": rng.standard_normal((N, 1)) * 0.5,
            "w": rng.standard_normal((N, 1)) * 0.5,
            "a": rng.standard_normal((M, 1)),
            "b": rng.standard_normal((N, 1)) * 0.5,
        }
        if case.smooth(values):
            return values
    raise AssertionError("no smooth point")


def _central_differences(case: Case, values: Values) -> np.ndarray:
    return central_differences(lambda x: case.numpy({**values, case.wrt: x}), values[case.wrt])


@pytest.mark.parametrize("name", list(CASES))
def test_derives_with_the_check_on_and_cites_its_rule(name: str) -> None:
    case = CASES[name]
    d = mdderiv.derive(_body(case))
    assert d.check is not None and d.check.passed
    if case.rule is None:
        return
    cited = {r for section in d.sections for step in section.steps for r in step.rules}
    assert case.rule in cited
    rule = RULES[case.rule]
    assert rule.en in d.text()
    assert rule.zh in mdderiv.derive(_body(case), lang="zh").text()


@pytest.mark.parametrize("name", list(CASES))
def test_agrees_with_finite_differences_of_an_independent_numpy_objective(name: str) -> None:
    case = CASES[name]
    d = mdderiv.derive(_body(case), check=False)
    (result,) = [r for r in d.results if r.kind == "gradient"]
    (source,) = d.numpy()
    sizes = {"m": M, "n": N}
    for seed in range(3):
        values = _values(case, seed)
        want = _central_differences(case, values)
        assert_result_agrees(d, result, source, values, sizes, want, name)


@pytest.mark.parametrize(
    "objective",
    [r"\mathbf{1}^T \max(1, W\mathbf{x})", r"\max(\mathbf{a}^T W \mathbf{x}, \mathbf{b}^T\mathbf{x})", r"\max W"],
)
def test_other_maxima_are_refused_clearly(objective: str) -> None:
    with pytest.raises(mdderiv.DeriveError, match=r"\\max is read only as \\max\(0, u\)"):
        mdderiv.derive(f"{GIVEN}\nf = {objective}\nwrt: \\mathbf{{x}}")


def test_the_check_avoids_the_kink_of_relu() -> None:
    """A ReLU whose argument is often near 0 still checks: the points where it is
    within the margin are skipped, not compared across the kink."""
    from mdderiv.check import kinked_arguments

    d = mdderiv.derive(_body(CASES["relu"]), check=False)
    (argument, smooth_at) = kinked_arguments(d.problem)[0]
    assert argument.shape == ("m", 1)
    assert not smooth_at(np.array([[0.5], [1e-5], [-2.0]]))
    assert smooth_at(np.array([[0.5], [-0.5]]))


def test_the_1_norm_of_a_matrix_is_refused_clearly() -> None:
    with pytest.raises(mdderiv.DeriveError, match=r"\\\|X\\\|_1 of a m×n matrix"):
        mdderiv.derive(f"{GIVEN}\nf = \\|W\\|_1\nwrt: W")


def test_the_check_avoids_the_kink_of_the_1_norm() -> None:
    from mdderiv.check import kinked_arguments

    d = mdderiv.derive(_body(CASES["1-norm"]), check=False)
    arguments = [argument for argument, _ in kinked_arguments(d.problem)]
    assert [a.shape for a in arguments] == [("n", 1)]


def test_e_to_a_power_stays_the_exponential_and_a_declared_constant_is_a_symbol() -> None:
    d = mdderiv.derive(f"{GIVEN}\nf = e^{{\\mathbf{{b}}^T\\mathbf{{x}}}} + e\\,\\pi\nwrt: \\mathbf{{x}}")
    kinds = {type(node).__name__ for node in d.problem.objective.expr.walk()}
    assert {"Elementwise", "Constant"} <= kinds
    assert "e π" in d.text() or "π e" in d.text()
    declared = mdderiv.derive(
        "given: \\pi \\in \\mathbb{R}^{n},\\ e \\in \\mathbb{R},\\ \\mathbf{x} \\in \\mathbb{R}^{n}\n"
        "f = e\\,\\pi^T\\mathbf{x}\nwrt: \\pi"
    )
    assert "Constant" not in {type(node).__name__ for node in declared.problem.objective.expr.walk()}
    assert declared.numpy() == ["e * x"]


@pytest.mark.parametrize(
    "objective",
    [
        r"\|\max(0, W\mathbf{x}) - \mathbf{a}\|^2",
        r"\mathbf{a}^T\tan(W\mathbf{x})",
        r"\mathbf{1}^T\arctan(W\mathbf{x}) + \mathbf{1}^T\log(\mathbf{1} + e^{W\mathbf{x}})",
        r"\mathbf{1}^T\cosh(W\mathbf{x}) + \mathbf{a}^T\sinh(W\mathbf{x}) + \pi\,\mathbf{x}^T\mathbf{x}",
        r"\|W\mathbf{x}\|_1 + \mathbf{x}^T\mathbf{x}",
    ],
)
def test_hessians_check(objective: str) -> None:
    d = mdderiv.derive(f"{GIVEN}\nf = {objective}\nwrt: \\mathbf{{x}}\nhessian: true")
    assert d.check is not None and d.check.passed
    assert [r.kind for r in d.results] == ["gradient", "hessian"]


def test_a_piecewise_linear_objective_has_a_zero_hessian_where_it_is_defined() -> None:
    """ReLU's and |u|'s derivatives are piecewise constant: the gradient does not
    move, so the Hessian is zero wherever it is defined (the words say so), and
    the check (finite differences of the gradient, away from the kinks) agrees.
    (tests/test_norms.py compares such zero Hessians with NumPy's own.)"""
    for objective in (r"\mathbf{1}^T \max(0, W\mathbf{x})", r"\|\mathbf{x}\|_1"):
        d = mdderiv.derive(f"{GIVEN}\nf = {objective}\nwrt: \\mathbf{{x}}\nhessian: true")
        assert d.check is not None and d.check.passed
        hessian = next(r for r in d.to_json()["results"] if r["kind"] == "hessian")
        assert hessian["latex"] == r"\mathbf{0}"
        assert "wherever it is defined" in d.text() and "the Hessian is zero" in d.text()
