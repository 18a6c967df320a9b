"""Objectives with a domain (issue 11 §3): the numerical check searches for a
point inside it (each input positive or not, at its own scale) instead of
refusing a correct result, says which argument it never found in the domain
when it cannot, and still refuses a wrong result found there."""

from __future__ import annotations

from dataclasses import replace

import pytest

import mdderiv
from mdderiv import DeriveError
from mdderiv.check import POINTS, check_derivation
from mdderiv.expr import add, mul, transpose
from mdderiv.render.latex import names_of, render_expr

R = r"\mathbb{R}"
GIVEN = rf"given: A \in {R}^{{m \times n}}, \mathbf{{x}} \in {R}^{{n}}, \mathbf{{b}} \in {R}^{{m}}, \mathbf{{c}} \in {R}^{{n}}"


def body(objective: str, given: str = GIVEN, wrt: str = r"\mathbf{x}") -> str:
    return f"{given}\nf = {objective}\nwrt: {wrt}"


@pytest.mark.parametrize(
    ("objective", "gradient"),
    [
        # the log barrier of a polyhedron: b - Ax > 0 needs a positive b and a small x
        (r"\mathbf{1}^T\log(\mathbf{b} - A\mathbf{x})", r"-A^{T}(\mathbf{1} \oslash (\mathbf{b} - A \mathbf{x}))"),
        (r"\mathbf{c}^T\mathbf{x} - \mathbf{1}^T\log(\mathbf{b} - A\mathbf{x})",
         r"A^{T}(\mathbf{1} \oslash (\mathbf{b} - A \mathbf{x})) + \mathbf{c}"),
        (r"\mathbf{1}^T\log(\mathbf{1} - \mathbf{x})", r"-(\mathbf{1} \oslash (\mathbf{1} - \mathbf{x}))"),
        (r"\log(1 - \mathbf{x}^T\mathbf{x})", None),
        (r"\sqrt{1 - \mathbf{x}^T\mathbf{x}}", None),
        (r"\log(\mathbf{c}^T\mathbf{x} - 4)", None),
    ],
)
def test_a_correct_result_with_a_domain_is_checked_inside_it(objective: str, gradient: str | None) -> None:
    d = mdderiv.derive(body(objective))
    assert d.check is not None and d.check.passed and d.check.max_rel_error < 1e-5
    if gradient is not None:
        assert render_expr(d.results[0].expr, names_of(d.problem)) == gradient


def test_a_scalar_objective_with_a_domain() -> None:
    d = mdderiv.derive(rf"given: t \in {R}" "\nf = \\log(1 - t) + \\sqrt{t - 2}\nwrt: t", check=False)
    with pytest.raises(DeriveError, match=r"one of these did not hold: .*the argument of log, 1 − t, positive"):
        check_derivation(d)  # 1 - t > 0 and t - 2 > 0 never both: said plainly
    d = mdderiv.derive(rf"given: t \in {R}" "\nf = \\log(1 - t)\nwrt: t")
    assert d.check is not None and d.check.passed


def test_no_point_in_the_domain_is_a_clear_error_naming_the_argument() -> None:
    with pytest.raises(DeriveError, match=r"random points tried \(the argument of log, −xᵀ x, was positive at none of them\)") as caught:
        mdderiv.derive(body(r"\log(-\mathbf{x}^T\mathbf{x})"))
    assert caught.value.line == 2


def test_objectives_defined_everywhere_are_checked_at_the_first_points_as_before() -> None:
    """The search starts only after the usual points all fell outside the domain, so
    blocks that derived before are checked at the same points (their seeds unchanged)."""
    d = mdderiv.derive(body(r"\|A\mathbf{x} - \mathbf{b}\|^2"))
    assert d.check is not None and d.check.passed
    plain = mdderiv.derive(body(r"\|A\mathbf{x} - \mathbf{b}\|^2"), check=False)
    again = check_derivation(plain, d.check.seed)
    assert (again.max_rel_error, again.sizes) == (d.check.max_rel_error, d.check.sizes)
    assert POINTS == 4


@pytest.mark.parametrize("wrong", ["scaled", "cubic"])
def test_a_wrong_result_found_inside_the_domain_is_still_refused(wrong: str) -> None:
    d = mdderiv.derive(body(r"\mathbf{1}^T\log(\mathbf{1} - \mathbf{x})"), check=False)
    (result,) = d.results
    x = d.problem.wrt[0]
    if wrong == "scaled":
        bad = add(result.expr, result.expr)
    else:  # a small wrong term, the kind the search's small scales could hide
        bad = add(result.expr, mul(mul(transpose(x), x), x))
    d.results[0] = replace(result, expr=bad)
    with pytest.raises(DeriveError, match="the numerical check failed|only one point"):
        check_derivation(d)


def test_a_point_where_the_objective_is_too_large_for_finite_differences_is_not_a_failure() -> None:
    """Found by the property tests: tr(e^{(CᵀC)²/2}) is about 1e21 at the usual points, where
    central differences measure only rounding; the check moves on to points where they
    measure something, instead of calling a correct result a bug."""
    given = (
        rf"given: X \in {R}^{{n \times n}}, C \in {R}^{{m \times n}}, \mathbf{{x}} \in {R}^{{n}}, "
        rf"\lambda, \beta \in {R}"
    )
    objective = r"\operatorname{tr}(e^{\frac{1}{2}(C^T C C^T C)}) + \lambda \mathbf{x}^T \beta X \mathbf{x}"
    d = mdderiv.derive(body(objective, given, r"\beta"))
    assert d.check is not None and d.check.passed
    assert render_expr(d.results[0].expr, names_of(d.problem)) == r"\lambda \mathbf{x}^{T} X \mathbf{x}"
    with pytest.raises(DeriveError, match=r"too large for finite differences"):
        mdderiv.derive(body(r"\exp(50) + \mathbf{x}^T\mathbf{x}", given, r"\mathbf{x}"))
