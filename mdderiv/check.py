"""The numerical check: every result against central finite differences.

Each result is compared with central differences of the objective along random
directions in the variable (a directional derivative ``tr(G^T V)`` for a
gradient, ``D^T vec(V)`` for a derivative, ``H vec(V)`` for a Hessian): a few
evaluations instead of two per entry, and a wrong result agrees along a random
direction with probability zero.

Inputs are random, of small distinct sizes (so a stray transpose cannot hide
behind a square shape), and honour the declarations: symmetric, positive
definite, one-hot, positive.  A point where the objective is not defined (a log
of a negative number, a singular matrix) is replaced by another; a result that
disagrees with the finite differences at every point tried is an error — a
wrong derivation is never published.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from .budget import check_time
from .errors import DeriveError
from .expr import (
    CHILDLESS,
    ONE_HOT,
    POSITIVE,
    SPD,
    SYMMETRIC,
    Det,
    Dim,
    Elementwise,
    Expr,
    IndexedSum,
    Power,
    dim_value,
    nodes,
)
from .functions import FUNCTIONS, MAY_KINK, kink_test
from .numeric import Compiler, Evaluator, definitions_of
from .problem import Problem, SymbolInfo
from .record import CheckOutcome, DerivationRecord, Layout, Result, ResultKind

#: Sizes given to dimension names, in order of first use: distinct, small.
SIZES = (3, 4, 5, 2, 6, 7, 8, 9, 10, 11, 12, 13)
TOLERANCE = 1e-5
STEP = 1e-6
POINTS = 4
DIRECTIONS = 2
SEED = 20261122
#: further points tried when none of the first POINTS is in the objective's domain
#: (``\log(\mathbf{b} - A\mathbf{x})`` at random b and x): each input drawn
#: positive or not, at one of these scales, independently
DOMAIN_POINTS = 48
DOMAIN_SCALES = (1.0, 0.5, 0.2, 0.1, 2.0, 5.0)


def dimension_sizes(problem: Problem, reverse: bool = False) -> dict[str, int]:
    """Distinct sizes for the dimension names; ``reverse`` hands the larger
    sizes to the earlier names, so both tall and wide shapes get tried (a
    least-squares solution needs X^T X invertible, i.e. m ≥ n)."""
    names: dict[str, None] = {}  # (a dict as an ordered set: first use first)
    for dim in problem.dims:
        if type(dim) is str and "*" not in dim:
            names[dim] = None
    for info in problem.symbols.values():
        for maybe in info.shape:
            if type(maybe) is str and maybe not in names and "*" not in maybe:
                names[maybe] = None
        count = info.count
        if type(count) is str and count not in names and "*" not in count:
            names[count] = None
    sizes = [SIZES[i % len(SIZES)] + (i // len(SIZES)) for i in range(len(names))]
    if reverse:
        sizes.sort(reverse=True)
    return dict(zip(names, sizes))


def block_seed(body: str) -> int:
    """The seed of a block's check: from its meaningful lines (comments, blank lines and
    indentation aside), so a block draws the same points whenever and wherever it is
    derived, whatever was derived before it, and copies of one block agree."""
    meaning = "\n".join([kept for line in body.splitlines() if (kept := line.strip()) and kept[0] != "%"])
    return zlib.crc32(meaning.encode("utf-8"), SEED)


def _relative_error(got: list[float], want: list[float]) -> float:
    """max |got - want| over max(1, max |want|), both finite, as long."""
    difference = max(abs(g - w) for g, w in zip(got, want, strict=True))
    return float(difference / max(1.0, max(map(abs, want))))


def _size(dim: Dim | None, sizes: dict[str, int]) -> int:
    if dim is None:
        return 1
    known = sizes.get(dim) if isinstance(dim, str) else dim  # a name: no parsing
    return known if known is not None else dim_value(dim, sizes)


def draw(info: SymbolInfo, sizes: dict[str, int], rng: np.random.Generator, careful: bool) -> np.ndarray:
    rows, cols = _size(info.shape[0], sizes), _size(info.shape[1], sizes)
    if info.index is not None:
        count = _size(info.count, sizes)
        return np.stack([_draw_one(info.props, rows, cols, rng, careful) for _ in range(count)])
    return _draw_one(info.props, rows, cols, rng, careful)


def _draw_one(
    props: frozenset[str], rows: int, cols: int, rng: np.random.Generator, careful: bool
) -> np.ndarray:
    a = rng.standard_normal((rows, cols))
    if not props and not careful:  # the usual symbol: nothing more to draw
        return a
    if ONE_HOT in props:
        v = np.zeros((rows, cols))
        v[rng.integers(rows), 0] = 1.0
        return v
    if SPD in props or (careful and rows == cols and rows > 1):
        # a aᵀ + rows·I: rows added to the diagonal in place (the same sums as
        # adding the matrix rows·I, without making it)
        spd = a @ a.T
        diagonal = spd.reshape(-1)[:: rows + 1]  # (a view: spd is contiguous, made here)
        diagonal += rows
        return spd
    if SYMMETRIC in props:
        return (a + a.T) / 2
    if POSITIVE in props or careful:
        return rng.uniform(0.5, 1.5, (rows, cols))
    return a


def _directional(
    fn: Callable[[Evaluator], np.ndarray],
    point: Evaluator,
    name: str,
    direction: np.ndarray,
    refined: bool = False,
) -> list[float]:
    """Central difference of ``vec(fn)`` along ``direction`` in the variable;
    ``refined``: Richardson's extrapolation of the steps h and 2h instead."""
    if refined:
        return _extrapolated(fn, point, name, direction)
    base = point.inputs[name]
    step = STEP * direction
    f_plus = _vec(fn(point.moved(name, base + step)))
    f_minus = _vec(fn(point.moved(name, base - step)))
    # the rounding of values this large, divided by the step: when it could exceed
    # the tolerance the difference measures nothing (tr e^{(CᵀC)²} at a point where
    # it is 1e21) — another point must be found, not a bug reported
    if len(f_plus) == 1:  # a scalar objective (the usual case): the same test, on two floats
        forth, back = f_plus[0], f_minus[0]
        difference = (forth - back) / _TWO_STEPS
        largest = max(abs(forth), abs(back))
        if largest * _ROUNDING > TOLERANCE * max(1.0, abs(difference)):
            raise _Unmeasurable(largest)
        return [difference]
    measured = [(plus - minus) / _TWO_STEPS for plus, minus in zip(f_plus, f_minus, strict=True)]
    largest = max(map(abs, f_plus + f_minus))
    if largest * _ROUNDING > TOLERANCE * max(1.0, max(map(abs, measured))):
        raise _Unmeasurable(largest)
    return measured


def _extrapolated(
    fn: Callable[[Evaluator], np.ndarray], point: Evaluator, name: str, direction: np.ndarray
) -> list[float]:
    """(4 D(h) - D(2h)) / 3 for the central difference D: the h² term of its error
    cancels, what is left is of order h⁴. A correct result of an objective that
    curves fast (cos(sinh(z)) at z near 10, log det near a singular matrix) can
    differ from D(h) alone by more than the tolerance; a wrong one still differs
    from this better estimate. Where the same extrapolation from 2h and 4h does
    not agree with it, nothing is measured at this point (_Unconverged)."""
    # D(kh): the difference along k times the direction, which measures k times the derivative
    fine, doubled, quadrupled = (
        [value / k for value in _directional(fn, point, name, k * direction)] for k in (1, 2, 4)
    )
    extrapolated = [(4 * f - c) / 3 for f, c in zip(fine, doubled, strict=True)]
    coarser = [(4 * c - q) / 3 for c, q in zip(doubled, quadrupled, strict=True)]
    if _relative_error(coarser, extrapolated) > TOLERANCE:
        raise _Unconverged
    return extrapolated


class _Unconverged(Exception):
    """Finite differences with different steps disagree: the objective curves too
    fast here (sin(sinh(sinh(z))) at z near 3) for them to measure its derivative."""


_TWO_STEPS = 2 * STEP
#: how far rounding in values of size 1 moves a central difference
_ROUNDING = 4 * float(np.finfo(float).eps) / _TWO_STEPS


class _Unmeasurable(Exception):
    """The objective is too large at this point for central differences."""

    def __init__(self, largest: float) -> None:
        super().__init__(largest)
        self.largest = largest


def _vec(value: np.ndarray) -> list[float]:
    """``vec(value)`` as Python floats: the comparison's few numbers cost less
    so than as arrays (and the arithmetic on them is the same IEEE arithmetic).
    The transpose's rows are the columns: ``.T.ravel()`` is the column-major
    ravel, without parsing an ``order``."""
    # (the dtype compared by identity first: the float64 arrays of the check share it)
    if type(value) is np.ndarray and (value.dtype is _FLOAT or value.dtype == _FLOAT) and value.size == 1:
        return [value.item()]  # a scalar: (the same Python float tolist gives)
    floats: list[float] = np.asarray(value, dtype=float).T.ravel().tolist()
    return floats


_FLOAT = np.dtype(float)


def _directions(result: Result, point: Evaluator, rng: np.random.Generator) -> list[np.ndarray]:
    """Random directions in the variable's space (symmetric ones for every
    result of a symmetric variable); a wrong result agrees with the finite
    differences along a random direction with probability zero."""
    shape = point.inputs[result.wrt.name].shape
    # one draw for all of them: the generator fills in order, so these are
    # the numbers one draw per direction gives
    drawn = rng.standard_normal((DIRECTIONS, *shape))
    if result.wrt.symmetric or result.kind == ResultKind.SYMMETRIC_GRADIENT:
        # a symmetric variable only moves in symmetric directions, and only there is
        # its gradient defined: the derivation uses X^T = X (a rewrite such as
        # vec(X)^T (A ⊗ B) vec(X) = tr(X^T B X A^T) drops the transpose), which
        # changes the objective off the symmetric matrices and the ordinary
        # gradient by an antisymmetric part, invisible along every symmetric dX
        # (all of them at once: each direction plus its transpose — its axes
        # reversed, as v.T — the same sums as (v + v.T) / 2 one by one)
        transposed = drawn.transpose(0, *range(drawn.ndim - 1, 0, -1))
        return list((drawn + transposed) / 2)
    return list(drawn)


#: the random directions of one result at one point: drawn from the check's
#: generator when first asked for (so it advances where it always did), the same
#: list when asked again (the refined measurement goes along the same directions)
Directions = Callable[[], list[np.ndarray]]


def _directions_once(result: Result, point: Evaluator, rng: np.random.Generator) -> Directions:
    drawn: list[list[np.ndarray]] = []  # (a closure: cheaper to set up, once per result, than a cache)

    def directions() -> list[np.ndarray]:
        if not drawn:
            drawn.append(_directions(result, point, rng))
        return drawn[0]

    return directions


def _claimed_and_measured(
    result: Result, d: DerivationRecord, point: Evaluator, directions: Directions, refined: bool = False
) -> tuple[list[float], list[float]]:
    """What ``result`` says the directional derivatives are, and what central
    differences measure, stacked over the random directions."""
    name = result.wrt.name
    claim = np.asarray(point(result.expr), dtype=float)
    f = point.compiler(d.problem.objective.expr)  # the objective, at a moved point

    variable = point.inputs[name]
    claimed: list[float] = []
    measured: list[float] = []
    if result.kind in (ResultKind.GRADIENT, ResultKind.SYMMETRIC_GRADIENT):
        gradient = claim.T if result.layout == Layout.NUMERATOR else claim
        if gradient.shape != variable.shape:
            raise _ShapeMismatch(gradient.shape, variable.shape)
        if result.kind == ResultKind.SYMMETRIC_GRADIENT:  # it must be symmetric, too
            claimed.extend(_vec(gradient - gradient.T))
            measured.extend([0.0] * gradient.size)
        for v in directions():
            # ndarray.sum's own reduction, without its Python wrapper
            claimed.append(float(_sum(gradient * v, axis=None)))
            measured.extend(_directional(f, point, name, v, refined))
    elif result.kind in (ResultKind.DERIVATIVE, ResultKind.HESSIAN):
        fn: Callable[[Evaluator], np.ndarray]
        if result.kind == ResultKind.HESSIAN:
            source = next(r for r in d.results if r.kind == ResultKind.GRADIENT and r.wrt == result.wrt)

            def fn(moved: Evaluator) -> np.ndarray:
                value = moved(source.expr)
                return value.T if source.layout == Layout.NUMERATOR else value

            numerator = claim
        else:
            fn = f
            numerator = claim if result.layout == Layout.NUMERATOR else claim.T
        size = variable.size
        if numerator.ndim != 2 or numerator.shape[1] != size:
            raise _ShapeMismatch(numerator.shape, ("·", size))
        for v in directions():
            claimed.extend((numerator @ np.asarray(v, dtype=float).reshape(-1, order="F")).tolist())
            measured.extend(_directional(fn, point, name, v, refined))
    else:
        raise DeriveError(f"internal: no check for a result of kind {result.kind!r}")
    return claimed, measured


_sum = np.add.reduce


class _ShapeMismatch(Exception):
    def __init__(self, got: tuple[object, ...], want: tuple[object, ...]) -> None:
        super().__init__(f"shape {got}, expected {want}")


CHECKED_KINDS = frozenset(ResultKind)  # every kind of result is checked


def _compare(
    result: Result, d: DerivationRecord, point: Evaluator, directions: Directions, refined: bool = False
) -> tuple[list[float], list[float]]:
    """(what the derivation claims, what the numbers say), both evaluated at
    ``point`` (an evaluator: what its evaluations share, they compute once)."""
    if result.kind == ResultKind.STATIONARY_POINT:
        # the gradient at the claimed point vanishes, on the gradient's own scale
        gradient = next(r for r in d.results if r.kind == ResultKind.GRADIENT and r.wrt == result.wrt)
        solution = point(result.expr)
        at_solution = point.moved(result.wrt.name, solution)(gradient.expr)
        scale = max(1.0, float(np.max(np.abs(point(gradient.expr)))))
        scaled = _vec(at_solution)
        return [value / scale for value in scaled], [0.0] * len(scaled)
    return _claimed_and_measured(result, d, point, directions, refined)


def _points(problem: Problem, rng: np.random.Generator) -> Iterator[tuple[dict[str, int], dict[str, np.ndarray]]]:
    """The points of the check, as (sizes, input values): first POINTS draws (plain
    and careful in turn); then, for an objective whose domain those missed, draws
    that search for it — each input positive or not and scaled independently, so
    that ``b - Ax`` or ``1 - x`` is positive for a small x and a positive b."""
    inputs = [info for info in problem.symbols.values() if not info.defined]
    for attempt in range(POINTS):
        careful = attempt % 2 == 1
        sizes = dimension_sizes(problem, reverse=attempt >= POINTS // 2)
        yield sizes, {info.name: draw(info, sizes, rng, careful) for info in inputs}
    for attempt in range(DOMAIN_POINTS):
        sizes = dimension_sizes(problem, reverse=attempt % 2 == 1)
        values = {}
        for info in inputs:
            value = draw(info, sizes, rng, bool(rng.integers(2)))
            if ONE_HOT not in info.props:
                value = value * DOMAIN_SCALES[int(rng.integers(len(DOMAIN_SCALES)))]
            values[info.name] = value
        yield sizes, values


#: a guard: (what it is about, the expression, the condition in words, the test)
Guard = tuple[str, Expr, str, Callable[[np.ndarray], bool]]


def domain_guards(problem: Problem) -> list[Guard]:
    """Where the objective's functions are defined (the registry's ``defined_at``:
    the argument of a log or a square root positive), and the base of a
    fractional power positive."""
    guards: list[Guard] = []
    seen: set[Expr] = set()
    exprs = [definition.expr for definition in problem.definitions]
    for root in exprs:
        for node in nodes(root):
            if node in seen:
                continue
            seen.add(node)
            if type(node) is Elementwise and (entry := FUNCTIONS[node.fn]).defined_at is not None:
                if type(node.arg) is Det:  # log det X: the determinant, not X, is the argument
                    guards.append(("the determinant", node.arg, entry.domain, entry.defined_at))
                else:
                    head = "the square root" if entry.text.form == "root" else entry.text.head or entry.name
                    what = f"the argument of {head}"
                    guards.append((what, node.arg, entry.domain, entry.defined_at))
            elif type(node) is Power and node.base.is_scalar and node.exponent.denominator != 1:
                guards.append(("the base of a fractional power", node.base, "positive", _positive))
    return guards


def _positive(value: np.ndarray) -> bool:
    return bool(np.all(np.asarray(value) > 0))


def _failed_guards(guards: list[Guard], point: Evaluator) -> list[int]:
    failed = []
    for i, (_, expr, _, holds) in enumerate(guards):
        try:
            ok = holds(point(expr))
        except (np.linalg.LinAlgError, ValueError, ZeroDivisionError, OverflowError, DeriveError):
            ok = False
        if not ok:
            failed.append(i)
    return failed


Smoothness = Callable[[np.ndarray], bool]


def kinked_arguments(problem: Problem) -> list[tuple[Expr, Smoothness]]:
    """The arguments of the functions with kinks or poles (``|u|``, ReLU, tan …)
    in the objective and its definitions, each with the test that a value is far
    from them: central differences across a kink measure neither side, so the
    check samples only points where every such argument is away from its kinks.
    (Inside an indexed sum the argument depends on the index and is not tested.)"""
    found: list[tuple[Expr, Smoothness]] = []
    stack: list[Expr] = [definition.expr for definition in problem.definitions]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind in _NOT_WALKED:
            continue
        if kind in MAY_KINK:  # (most nodes are not: spare the call)
            kink = kink_test(node)
            if kink is not None:
                found.append(kink)
        stack.extend(node.children())
    return found


#: a sum (its body is not tested), or a leaf without a kink: nothing to test at or below
_NOT_WALKED = (CHILDLESS - MAY_KINK) | {IndexedSum}


def _smooth_here(kinked: list[tuple[Expr, Smoothness]], point: Evaluator) -> bool:
    try:
        return all(smooth_at(np.asarray(point(arg), dtype=float)) for arg, smooth_at in kinked)
    except (np.linalg.LinAlgError, ValueError, ZeroDivisionError, OverflowError):
        return False  # not defined here: not a point to check at


@dataclass
class _Seen:
    """What the check met over its points: the closest agreement, the result
    that disagreed, and for the message when no point could be used, why not."""

    tried: int = 0  # points drawn
    evaluated: int = 0  # points away from kinks, where the results were compared
    worst: float = math.inf  # the smallest worst error of a point (inf: no usable point)
    failure: str = ""  # the variable whose result disagreed
    largest_value: float = 0.0  # the largest objective value too large for finite differences
    unconverged: bool = False  # finite differences with different steps disagreed at some point
    guards: list[Guard] | None = None  # worked out at the first point outside the domain
    outside: dict[int, int] = field(default_factory=dict)  # guard → at how many points it did not hold

    def outside_the_domain(self, problem: Problem, point: Evaluator) -> None:
        """Note which domain guards did not hold at ``point``, a point that could not be used."""
        if self.guards is None:
            self.guards = domain_guards(problem)
        for i in _failed_guards(self.guards, point):
            self.outside[i] = self.outside.get(i, 0) + 1


def check_derivation(d: DerivationRecord, seed: int = SEED) -> CheckOutcome:
    problem = d.problem
    rng = np.random.default_rng(seed)
    checkable = [r for r in d.results if r.kind in CHECKED_KINDS]
    # the same few expressions are evaluated at every point: compile them once
    # (every evaluation is inside np.errstate(all="ignore"), below)
    compiler = Compiler(definitions_of(problem))
    seen = _Seen()
    agreed = 0  # points in agreement found by the domain search
    worst_agreeing = 0.0
    kinked = kinked_arguments(problem)
    for sizes, values in _points(problem, rng):
        searching = seen.tried >= POINTS
        if seen.tried == POINTS and not math.isinf(seen.worst):
            break  # the domain search is for objectives no plain point could evaluate
        seen.tried += 1
        check_time()
        with np.errstate(all="ignore"):
            point = Evaluator(values, sizes, problem, compiler, ready=True)
            if kinked and not _smooth_here(kinked, point):
                continue  # too near a kink for finite differences: another point
            seen.evaluated += 1
            worst = _worst_error(d, checkable, point, rng, seen)
            if worst is None:
                seen.outside_the_domain(problem, point)
                continue
        seen.worst = min(seen.worst, worst)
        if worst <= TOLERANCE:
            if not searching:
                return CheckOutcome(True, worst, sizes, seed)
            # a point found by the search is at scales chosen for the domain,
            # where small wrong terms could hide: two of them must agree
            agreed += 1
            worst_agreeing = max(worst_agreeing, worst)
            if agreed == 2:
                return CheckOutcome(True, worst_agreeing, sizes, seed)
    raise _no_agreement(problem, seen, agreed, bool(kinked))


def _worst_error(
    d: DerivationRecord, checkable: list[Result], point: Evaluator, rng: np.random.Generator, seen: _Seen
) -> float | None:
    """The largest relative error of the results at ``point`` (noting in ``seen``
    a result that disagrees), or None where the point cannot be used: something
    is undefined there, or the values are too large for finite differences."""
    problem = d.problem
    worst = 0.0
    for result in checkable:
        check_time()
        directions = _directions_once(result, point, rng)
        try:
            got, want = _compare(result, d, point, directions)
        except (np.linalg.LinAlgError, ValueError, ZeroDivisionError, OverflowError):
            return None
        except _Unmeasurable as large:
            seen.largest_value = max(seen.largest_value, large.largest)
            return None
        except _ShapeMismatch as mismatch:
            raise DeriveError(
                f"internal: the result for {result.wrt.name} has {mismatch}; "
                "this is a bug in mdderiv, please report it",
                problem.objective.line,
                1,
            ) from None
        if not all(map(math.isfinite, got + want)):
            return None
        if len(got) != len(want):
            raise DeriveError(
                f"internal: the result for {result.wrt.name} has shape {(len(got),)}, "
                f"expected {(len(want),)}; this is a bug in mdderiv, please report it",
                problem.objective.line,
                1,
            )
        error = _relative_error(got, want)
        if error > TOLERANCE:
            refined = _refined_error(result, d, point, directions)
            if refined is None:  # nothing measured here, either way: another point
                seen.unconverged = True
                return None
            error = min(error, refined)
        if error > TOLERANCE:
            seen.failure = result.wrt.name
        worst = max(worst, error)
    return worst


def _refined_error(result: Result, d: DerivationRecord, point: Evaluator, directions: Directions) -> float | None:
    """The relative error of ``result`` against extrapolated differences along the
    same ``directions``; infinite where they cannot be evaluated, None where they
    do not converge."""
    try:
        got, want = _compare(result, d, point, directions, refined=True)
    except (np.linalg.LinAlgError, ValueError, ZeroDivisionError, OverflowError, _Unmeasurable):
        return math.inf
    except _Unconverged:
        return None
    if not all(map(math.isfinite, got + want)):
        return math.inf
    return _relative_error(got, want)


def _no_agreement(problem: Problem, seen: _Seen, agreed: int, kinked: bool) -> DeriveError:
    """The error when no point confirmed the results: one point only, none
    usable (and why not, where that is known), or a disagreement."""
    line = problem.objective.line
    if agreed == 1:
        return DeriveError(
            "the numerical check found only one point inside the objective's domain, too few "
            "to trust; declare the properties the inputs need (positive, symmetric, "
            "\\mathbb{S}_{++}) or turn the check off with check: false",
            line,
            1,
        )
    if math.isinf(seen.worst):
        where = _why_no_point(problem, seen)
        return DeriveError(
            "could not find a point where the objective and its derivative are defined "
            f"{'(and away from kinks) ' if kinked else ''}for the numerical check: {seen.tried} random "
            f"points tried{where}; declare the properties the inputs need (positive, symmetric, "
            "\\mathbb{S}_{++}) or turn the check off with check: false",
            line,
            1,
        )
    return DeriveError(
        f"the numerical check failed for {seen.failure}: the derived result differs from finite "
        f"differences (relative error {seen.worst:.1e}); this is a bug in mdderiv, please report it",
        line,
        1,
    )


def _why_no_point(problem: Problem, seen: _Seen) -> str:
    """`` (…)``: the domain conditions that held at no point (or never all
    together), else that the values were too large; empty when unknown."""
    guards, outside = seen.guards, seen.outside
    if guards and outside:
        from .render.text import render_expr_text, text_names

        names = text_names(problem)
        never = [guards[i] for i, count in outside.items() if count == seen.evaluated]
        if never:
            return " (" + "; ".join(
                f"{what}, {render_expr_text(expr, names)}, was {condition} at none of them"
                for what, expr, condition, _ in never[:3]
            ) + ")"
        # each held somewhere, never all together
        return " (at each, one of these did not hold: " + "; ".join(
            f"{what}, {render_expr_text(expr, names)}, {condition}"
            for what, expr, condition, _ in (guards[i] for i in sorted(outside))
        ) + ")"
    if seen.largest_value and math.isfinite(seen.largest_value):
        return (f" (the objective's values, up to {seen.largest_value:.0e}, were too large for "
                "finite differences)")
    if seen.unconverged:
        return " (finite differences with different steps disagreed: the objective curves too fast there)"
    return ""
