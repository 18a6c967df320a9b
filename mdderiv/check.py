"""The numerical check: every result against central finite differences.

Inputs are random, of small distinct sizes (so a stray transpose cannot hide
behind a square shape), and honour the declarations: symmetric, positive
definite, one-hot, positive.  A point where the objective is not defined (a log
of a negative number, a singular matrix) is replaced by another; a result that
disagrees with the finite differences at every point tried is an error — a
wrong derivation is never published.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .derivation import CheckOutcome, Derivation, Result
from .errors import DeriveError
from .expr import ONE_HOT, POSITIVE, SPD, SYMMETRIC, Dim, dim_value
from .numeric import evaluate
from .problem import Problem, SymbolInfo

#: Sizes given to dimension names, in order of first use: distinct, small.
SIZES = (3, 4, 5, 2, 6, 7, 8, 9, 10, 11, 12, 13)
TOLERANCE = 1e-5
STEP = 1e-6
POINTS = 4
SEED = 20261122


def dimension_sizes(problem: Problem, reverse: bool = False) -> dict[str, int]:
    """Distinct sizes for the dimension names; ``reverse`` hands the larger
    sizes to the earlier names, so both tall and wide shapes get tried (a
    least-squares solution needs X^T X invertible, i.e. m ≥ n)."""
    names: list[str] = []
    for dim in problem.dims:
        if isinstance(dim, str) and dim not in names and "*" not in dim:
            names.append(dim)
    for info in problem.symbols.values():
        for dim in (*info.shape, info.count):
            if isinstance(dim, str) and "*" not in dim and dim not in names:
                names.append(dim)
    sizes = [SIZES[i % len(SIZES)] + (i // len(SIZES)) for i in range(len(names))]
    if reverse:
        sizes = sorted(sizes, reverse=True)
    return dict(zip(names, sizes))


def _size(dim: Dim | None, sizes: dict[str, int]) -> int:
    return 1 if dim is None else dim_value(dim, sizes)


def draw(info: SymbolInfo, sizes: dict[str, int], rng: np.random.Generator, careful: bool) -> np.ndarray:
    rows, cols = _size(info.shape[0], sizes), _size(info.shape[1], sizes)
    count = _size(info.count, sizes) if info.index is not None else None

    def one() -> np.ndarray:
        a = rng.standard_normal((rows, cols))
        if ONE_HOT in info.props:
            v = np.zeros((rows, cols))
            v[rng.integers(rows), 0] = 1.0
            return v
        if SPD in info.props or (careful and rows == cols and rows > 1):
            return a @ a.T + rows * np.eye(rows)
        if SYMMETRIC in info.props:
            return (a + a.T) / 2
        if POSITIVE in info.props or careful:
            return rng.uniform(0.5, 1.5, (rows, cols))
        return a

    if count is not None:
        return np.stack([one() for _ in range(count)])
    return one()


def _scalar(value: np.ndarray) -> float:
    return float(np.asarray(value).reshape(-1)[0])


def _finite_difference(
    fn: Callable[[dict[str, np.ndarray]], np.ndarray], values: dict[str, np.ndarray], name: str
) -> np.ndarray:
    """∂ vec(fn) / ∂ entry, one column of the result per entry of ``name``
    (entries in column-major order, as vec stacks them)."""
    base = values[name]
    columns = []
    for index in np.ndindex(*base.shape[::-1]):
        index = index[::-1]
        plus = base.copy()
        minus = base.copy()
        plus[index] += STEP
        minus[index] -= STEP
        f_plus = np.asarray(fn({**values, name: plus}), dtype=float)
        f_minus = np.asarray(fn({**values, name: minus}), dtype=float)
        columns.append(((f_plus - f_minus) / (2 * STEP)).reshape(-1, order="F"))
    return np.array(columns).T  # (size of fn, size of the variable)


def _expected(result: Result, d: Derivation, values: dict[str, np.ndarray], sizes: dict[str, int]) -> np.ndarray:
    """The finite-difference value of what ``result`` claims, in its layout."""
    problem = d.problem
    name = result.wrt.name
    objective = problem.objective.expr

    def f(vals: dict[str, np.ndarray]) -> np.ndarray:
        return evaluate(objective, vals, sizes, problem)

    if result.kind == "gradient":
        jac = _finite_difference(f, values, name)  # (1, size)
        gradient = jac.reshape(values[name].shape, order="F")
        return gradient.T if result.layout == "numerator" else gradient
    if result.kind == "derivative":
        jac = _finite_difference(f, values, name)  # (size F, size X): numerator
        return jac if result.layout == "numerator" else jac.T
    if result.kind == "symmetric gradient":
        jac = _finite_difference(f, values, name)
        gradient = jac.reshape(values[name].shape, order="F")
        return (gradient + gradient.T) / 2
    if result.kind == "hessian":
        gradient = next(r for r in d.results if r.kind == "gradient" and r.wrt == result.wrt)

        def g(vals: dict[str, np.ndarray]) -> np.ndarray:
            value = evaluate(gradient.expr, vals, sizes, problem)
            return value.T if gradient.layout == "numerator" else value

        return _finite_difference(g, values, name)
    raise DeriveError(f"internal: no check for a result of kind {result.kind!r}")


CHECKED_KINDS = ("gradient", "derivative", "hessian", "symmetric gradient", "stationary point")


def _compare(
    result: Result, d: Derivation, values: dict[str, np.ndarray], sizes: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """(what the derivation claims, what the numbers say), both evaluated."""
    problem = d.problem
    if result.kind == "stationary point":
        # the gradient at the claimed point vanishes, on the gradient's own scale
        gradient = next(r for r in d.results if r.kind == "gradient" and r.wrt == result.wrt)
        point = evaluate(result.expr, values, sizes, problem)
        at_point = evaluate(gradient.expr, {**values, result.wrt.name: point}, sizes, problem)
        scale = max(1.0, float(np.max(np.abs(evaluate(gradient.expr, values, sizes, problem)))))
        return np.asarray(at_point, dtype=float) / scale, np.zeros(np.shape(at_point))
    got = np.asarray(evaluate(result.expr, values, sizes, problem), dtype=float)
    return got, _expected(result, d, values, sizes)


def check_derivation(d: Derivation, seed: int = SEED) -> CheckOutcome:
    problem = d.problem
    rng = np.random.default_rng(seed)
    checkable = [r for r in d.results if r.kind in CHECKED_KINDS]
    worst_seen = math.inf
    failure = ""
    for attempt in range(POINTS):
        careful = attempt % 2 == 1
        sizes = dimension_sizes(problem, reverse=attempt >= POINTS // 2)
        values = {
            info.name: draw(info, sizes, rng, careful)
            for info in problem.symbols.values()
            if not info.defined
        }
        with np.errstate(all="ignore"):
            try:
                objective = evaluate(problem.objective.expr, values, sizes, problem)
            except (np.linalg.LinAlgError, ValueError, ZeroDivisionError, OverflowError):
                continue
            if not np.all(np.isfinite(objective)):
                continue
            worst = 0.0
            bad_point = False
            for result in checkable:
                try:
                    got, want = _compare(result, d, values, sizes)
                except (np.linalg.LinAlgError, ValueError, ZeroDivisionError, OverflowError):
                    bad_point = True
                    break
                if not (np.all(np.isfinite(got)) and np.all(np.isfinite(want))):
                    bad_point = True
                    break
                if got.shape != want.shape:
                    if got.size == 1 and want.size == 1:
                        got = got.reshape(want.shape)
                    else:
                        raise DeriveError(
                            f"internal: the result for {result.wrt.name} has shape {got.shape}, "
                            f"expected {want.shape}",
                            problem.objective.line,
                            1,
                        )
                error = float(np.max(np.abs(got - want)) / max(1.0, float(np.max(np.abs(want)))))
                if error > TOLERANCE:
                    failure = result.wrt.name
                worst = max(worst, error)
            if bad_point:
                continue
            worst_seen = min(worst_seen, worst)
            if worst <= TOLERANCE:
                return CheckOutcome(True, worst, sizes, seed)
    if math.isinf(worst_seen):
        raise DeriveError(
            "could not find a point where the objective and its derivative are defined "
            "for the numerical check; declare the properties the inputs need "
            "(positive, symmetric, \\mathbb{S}_{++}) or turn the check off with check: false",
            problem.objective.line,
            1,
        )
    raise DeriveError(
        f"the numerical check failed for {failure}: the derived result differs from finite "
        f"differences (relative error {worst_seen:.1e}); this is a bug in mdderiv, please report it",
        problem.objective.line,
        1,
    )
