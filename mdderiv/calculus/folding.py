"""Folding back what the author wrote: sub-expressions equal to a named
definition become the name, and unfolded norms are written as norms again
(``(u^T u)^{1/2} = ‖u‖``).  Part of :func:`~.simplify.simplify` and of the
results' last touch; each fold notes its rule id in ``used``."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..problem import Problem

from ..expr import (
    Expr,
    MatMul,
    MatrixFunction,
    Norm,
    NormKind,
    Power,
    Symbol,
    Trace,
    Transpose,
    map_tree,
    mul,
    nodes,
    num,
    power,
)
from ..rules import RuleId
from .citations import UNCITED, RulesUsed
from .memo import current_memo, node_kinds
from .sums import split_term


class _Folding:
    """Named definitions prepared once for folding: an exact-match table, and
    the products indexed by their first matrix factor (so a node is compared
    only with the few definitions that could match it, not with all of them)."""

    def __init__(self, names: Sequence[tuple[Symbol, Expr]]) -> None:
        self.exact: dict[Expr, Symbol] = {}
        self.products: dict[Expr, list[tuple[Symbol, Fraction, tuple[Expr, ...], tuple[Expr, ...]]]] = {}
        for symbol, definition in names:
            self.exact.setdefault(definition, symbol)
            if isinstance(definition, MatMul):
                coefficient, scalars, matrices = split_term(definition)
                if matrices:
                    self.products.setdefault(matrices[0], []).append((symbol, coefficient, scalars, matrices))

    def visit(self, node: Expr, used: RulesUsed) -> Expr:
        symbol = self.exact.get(node)
        if symbol is not None:
            used.note(RuleId.SUBSTITUTE)
            return symbol
        if isinstance(node, MatMul) and self.products:
            return self._in_product(node, used)
        return node

    def _in_product(self, node: MatMul, used: RulesUsed) -> Expr:
        coefficient, scalars, matrices = split_term(node)
        for start, first in enumerate(matrices):
            for symbol, d_coef, d_scalars, d_matrices in self.products.get(first, ()):
                stop = start + len(d_matrices)
                if matrices[start:stop] != d_matrices or any(s not in scalars for s in d_scalars):
                    continue
                rest_scalars = list(scalars)
                for s in d_scalars:
                    rest_scalars.remove(s)
                new_matrices = (*matrices[:start], symbol, *matrices[stop:])
                used.note(RuleId.SUBSTITUTE)
                return mul(num(coefficient / d_coef), *rest_scalars, *new_matrices)
        return node


def fold_definitions(expr: Expr, names: Sequence[tuple[Symbol, Expr]], used: RulesUsed) -> Expr:
    """Replace sub-expressions equal to a named definition by the name."""
    if not names:
        return expr
    memo = current_memo()
    key = tuple(names)
    folding: _Folding | None = memo.foldings.get(key) if memo is not None else None
    if folding is None:
        folding = _Folding(names)
        if memo is not None:
            memo.foldings[key] = folding
    return map_tree(expr, lambda node: folding.visit(node, used))


def written_norms(problem: Problem) -> frozenset[Expr]:
    """The arguments the author wrote a norm of, ``‖u‖`` or ``‖X‖_F``."""
    # (the objective is the last definition)
    return frozenset(
        n.arg
        for d in problem.definitions
        if Norm in node_kinds(d.expr)  # (remembered: the rewrites asked it of the objective)
        for n in nodes(d.expr)
        if type(n) is Norm and n.kind != NormKind.L1
    )


def fold_norms(expr: Expr, written: frozenset[Expr] = frozenset(), used: RulesUsed = UNCITED) -> Expr:
    """Write ``(u^T u)^{k/2}`` back as ``‖u‖^k`` and ``tr(X^T X)^{k/2}`` as
    ``‖X‖_F^k``: norms are unfolded to be differentiated, and a result reads
    better with them, ``(x - a) / ‖x - a‖``.  Odd halves always (a square
    root of an inner product is a norm); whole powers ``u^T u`` only for the
    ``u`` in ``written`` — where the author wrote the norm, not the product;
    ``tr((X^T X)^{1/2})`` as ``‖X‖_*`` for the ``X`` in ``written``.  The
    rules of the folds made go to ``used``."""

    def inner_of_vector(left: Expr, right: Expr) -> bool:
        """``u^T u`` with ``u`` a column vector (a 1×1 product)."""
        return (
            isinstance(left, Transpose) and left.arg == right
            and right.shape[1] == 1 and right.shape[0] != 1
        )

    def norm_of(base: Expr) -> tuple[Expr, NormKind] | None:
        """The argument and kind of the norm whose square ``base`` is."""
        frobenius = isinstance(base, Trace)
        if isinstance(base, Trace):
            base = base.arg
        if not (isinstance(base, MatMul) and len(base.factors) == 2):
            return None
        left, right = base.factors
        if inner_of_vector(left, right):
            return right, NormKind.EUCLIDEAN  # tr(u^T u) of a vector is its Euclidean norm, too
        if frobenius and isinstance(left, Transpose) and left.arg == right:
            return right, (NormKind.EUCLIDEAN if right.shape[1] == 1 else NormKind.FROBENIUS)
        return None

    def visit(node: Expr) -> Expr:
        folded = fold(node)
        if folded is not node:
            used.note(RuleId.NORM_NUCLEAR if _nuclear_of(node) is not None else RuleId.NORM_POWER)
        return folded

    def fold(node: Expr) -> Expr:
        if isinstance(node, Power):
            found = norm_of(node.base)
            if found is None:
                return node
            arg, kind = found
            if node.exponent.denominator == 2 or (node.exponent.denominator == 1 and arg in written):
                return power(Norm(arg, kind), node.exponent * 2)
            return node
        if isinstance(node, Trace) and (nuclear := _nuclear_of(node)) is not None and nuclear in written:
            return Norm(nuclear, NormKind.NUCLEAR)
        if isinstance(node, (MatMul, Trace)) and written:
            found = norm_of(node)
            if found is not None and found[0] in written:
                return power(Norm(*found), 2)
            if isinstance(node, MatMul):  # u^T u inside a longer product: c u^T u
                factors = list(node.factors)
                for i in range(len(factors) - 1):
                    left, right = factors[i], factors[i + 1]
                    if inner_of_vector(left, right) and right in written:
                        factors[i : i + 2] = [power(Norm(right, NormKind.EUCLIDEAN), 2)]
                        return fold(mul(*factors))
        return node

    if not _may_fold(expr, written):
        return expr  # nothing to fold: spare the rebuild
    return map_tree(expr, visit)


def _may_fold(expr: Expr, written: frozenset[Expr]) -> bool:
    """Whether ``fold_norms`` could change ``expr``: every fold starts at a
    power, at the ``u^T`` of a ``u^T u`` with ``u`` written as a norm, or at
    the trace of a matrix square root."""
    for node in nodes(expr):
        kind = type(node)
        if kind is Power or (type(node) is Transpose and node.arg in written):
            return True
        if type(node) is Trace and type(node.arg) is MatrixFunction:
            return True
    return False


def _nuclear_of(node: Expr) -> Expr | None:
    """``X`` when ``node`` is ``tr((X^T X)^{1/2})`` or ``tr((X X^T)^{1/2})``,
    the nuclear norm of ``X`` as ``rewrite.norm_as_power`` writes it."""
    if not (isinstance(node, Trace) and isinstance(node.arg, MatrixFunction)):
        return None
    root = node.arg
    if root.fn != "pow" or root.exponent != Fraction(1, 2):
        return None
    gram = root.arg
    if not (isinstance(gram, MatMul) and len(gram.factors) == 2):
        return None
    left, right = gram.factors
    if isinstance(left, Transpose) and left.arg == right:
        return right
    if isinstance(right, Transpose) and right.arg == left:
        return left
    return None
