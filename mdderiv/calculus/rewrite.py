"""Rewrites a person makes before differentiating (seed 001, 例2 and 例3).

* a norm becomes an inner product or a trace: ``‖x‖² = x^T x``,
  ``‖X‖_F² = tr(X^T X)``, ``‖X‖_* = tr((X^T X)^{1/2})``;
* ``log softmax(a) = a - 1 log(1^T exp(a))``, then the product is distributed
  and ``y^T 1 = 1`` used for a one-hot ``y``.

Each rewrite returns the new expression and the rules it used, or ``None``
when it does not apply, so the caller shows one step per rewrite.
"""

from __future__ import annotations

from fractions import Fraction

from .memo import node_kinds
from ..expr import (
    Add,
    Det,
    Elementwise,
    Expr,
    Kron,
    MatMul,
    MatrixFunction,
    Trace,
    Transpose,
    Vec,
    Norm,
    NormKind,
    Ones,
    Power,
    Softmax,
    add,
    elementwise,
    map_tree,
    mul,
    neg,
    nodes,
    power,
    trace,
    transpose,
)
from ..functions import gram_of_rows
from ..rules import RuleId
from .citations import RulesUsed
from .products import simplify_product

Rewrite = tuple[Expr, list[RuleId]]


def _is_frobenius(node: Norm) -> bool:
    return node.kind == NormKind.FROBENIUS or node.arg.shape[1] != 1


def norm_as_power(node: Norm) -> Expr:
    """``‖u‖ = (u^T u)^{1/2}``, ``‖X‖_F = tr(X^T X)^{1/2}``: the form the rules
    differentiate; ``‖u‖_1 = 1^T |u|``, a sum of absolute values;
    ``‖X‖_* = tr((X^T X)^{1/2})``, the sum of the singular values (the square
    roots of the eigenvalues of ``X^T X``), or ``tr((X X^T)^{1/2})`` for a
    matrix declared wider than tall — the same number, and the Gram matrix
    that is invertible where ``X`` has full rank."""
    arg = node.arg
    if node.kind == NormKind.NUCLEAR:
        gram = mul(arg, transpose(arg)) if gram_of_rows(arg.shape) else mul(transpose(arg), arg)
        return trace(MatrixFunction("pow", gram, gram.shape, _HALF))
    if node.kind == NormKind.L1:
        absolute = elementwise("abs", arg)
        if arg.shape[1] == 1:
            return mul(transpose(Ones(arg.shape)), absolute)
        return mul(absolute, Ones((arg.shape[1], 1)))  # a row vector: |u| 1
    inner = mul(transpose(arg), arg)
    return power(trace(inner) if _is_frobenius(node) else inner, _HALF)


_HALF = Fraction(1, 2)


def unfold_norms(expr: Expr) -> Expr:
    """Every norm as a power of its inner product (the inverse of
    :func:`~.folding.fold_norms`), without showing a step."""
    return map_tree(expr, lambda node: norm_as_power(node) if isinstance(node, Norm) else node)


def _contains(expr: Expr, kind: type) -> bool:
    """Whether a node of ``kind`` occurs in ``expr`` (a look is cheaper than a
    rebuild that would change nothing)."""
    return kind in node_kinds(expr)


def rewrite_norms(expr: Expr) -> Rewrite | None:
    if not _contains(expr, Norm):
        return None
    used = RulesUsed()

    def visit(node: Expr) -> Expr:
        if not isinstance(node, Norm):
            return node
        if node.kind == NormKind.L1:
            used.note(RuleId.NORM_L1)
        elif node.kind == NormKind.NUCLEAR:
            rows = gram_of_rows(node.arg.shape)
            used.note_all([RuleId.NORM_NUCLEAR, RuleId.FULL_ROW_RANK if rows else RuleId.FULL_COLUMN_RANK])
        else:
            used.note(RuleId.NORM_FROBENIUS if _is_frobenius(node) else RuleId.NORM_INNER)
        return norm_as_power(node)

    new = map_tree(expr, visit)
    if new == expr:
        return None
    if _has_fractional_norm_power(new):
        used.note(RuleId.NORM_POWER)
    return new, list(used)


def _has_fractional_norm_power(expr: Expr) -> bool:
    if Power not in node_kinds(expr):  # (remembered: the rewrites after this one ask it too)
        return False
    return any(type(n) is Power and n.exponent.denominator != 1 for n in nodes(expr))


def rewrite_log_softmax(expr: Expr) -> Rewrite | None:
    """``log softmax(a) → a - 1 log(1^T exp(a))``."""
    if not _contains(expr, Softmax):
        return None

    def visit(node: Expr) -> Expr:
        if isinstance(node, Elementwise) and node.fn == "log" and isinstance(node.arg, Softmax):
            a = node.arg.arg
            ones = Ones(a.shape)
            normaliser = elementwise("log", mul(transpose(ones), elementwise("exp", a)))
            return add(a, neg(mul(ones, normaliser)))
        return node

    new = map_tree(expr, visit)
    if new == expr:
        return None
    return new, [RuleId.LOG_SOFTMAX]


def distribute_products(expr: Expr) -> Rewrite | None:
    """Distribute products over the sums inside them, then tidy each product
    (this is where ``y^T 1 = 1`` applies).  Used after the log-softmax rewrite."""
    used = RulesUsed()

    def visit(node: Expr) -> Expr:
        if not isinstance(node, MatMul):
            return node
        sums = [(i, f) for i, f in enumerate(node.factors) if isinstance(f, Add) and not f.is_scalar]
        if not sums:
            return simplify_product(node, used)
        i, total = sums[0]
        used.note(RuleId.DISTRIBUTE)
        before, after = node.factors[:i], node.factors[i + 1 :]
        return add(*(visit(mul(*before, t, *after)) for t in total.terms))

    new = map_tree(expr, visit)
    if new == expr:
        return None
    return new, list(used)


def _vec_inner(factors: tuple[Expr, ...], used: RulesUsed) -> list[Expr] | None:
    """The factors with ``vec(P)^T (A ⊗ B) vec(Q)`` → ``tr(P^T B Q A^T)`` and
    ``vec(P)^T vec(Q)`` → ``tr(P^T Q)`` applied once, or None."""
    for i, first in enumerate(factors):
        if not (isinstance(first, Transpose) and isinstance(first.arg, Vec)):
            continue
        p = first.arg.arg
        rest = factors[i + 1 :]
        if rest and isinstance(rest[0], Vec):
            used.note(RuleId.VEC_INNER)
            return [*factors[:i], trace(mul(transpose(p), rest[0].arg)), *rest[1:]]
        if len(rest) >= 2 and isinstance(rest[0], Kron) and isinstance(rest[1], Vec):
            a, b, q = rest[0].left, rest[0].right, rest[1].arg
            if q.shape == (b.shape[1], a.shape[1]):  # (A ⊗ B) vec(Q) = vec(B Q A^T)
                used.note_all((RuleId.VEC_PRODUCT, RuleId.VEC_INNER))
                return [*factors[:i], trace(mul(transpose(p), b, q, transpose(a))), *rest[2:]]
    return None


def rewrite_vec_kron(expr: Expr) -> Rewrite | None:
    """vec and Kronecker products inside a scalar objective, back to traces:
    ``vec(P)^T vec(Q) = tr(P^T Q)``, ``(A ⊗ B) vec(Q) = vec(B Q A^T)``,
    ``tr(A ⊗ B) = tr A · tr B`` — the forms the trace method differentiates."""
    present = node_kinds(expr)
    if Vec not in present and Kron not in present:
        return None
    used = RulesUsed()

    def visit(node: Expr) -> Expr:
        if isinstance(node, Trace) and isinstance(node.arg, Kron):
            used.note(RuleId.TRACE_KRON)
            return mul(trace(node.arg.left), trace(node.arg.right))
        if isinstance(node, MatMul):
            factors = _vec_inner(node.factors, used)
            if factors is not None:
                return mul(*factors)
        return node

    new = map_tree(expr, visit)
    if new == expr:
        return None
    return new, list(used)


def _det_exp_argument(node: Expr) -> Expr | None:
    """``X`` when ``node`` is ``det e^X``, else None."""
    if isinstance(node, Det) and isinstance(node.arg, MatrixFunction) and node.arg.fn == "exp":
        return node.arg.arg
    return None


def rewrite_det_exp(expr: Expr) -> Rewrite | None:
    """``log det e^X = tr X`` and ``det e^X = e^{tr X}`` (the eigenvalues of
    ``e^X`` are the ``e^{λ_i}``): the matrix exponential leaves, and with it
    ``d e^X``, which has no closed form in ``dX``."""
    present = node_kinds(expr)
    if Det not in present or MatrixFunction not in present:
        return None  # no determinant of a matrix function, e^X among them: nothing to rewrite
    used = RulesUsed()

    def log_det(node: Expr) -> Expr:
        if isinstance(node, Elementwise) and node.fn == "log" and (x := _det_exp_argument(node.arg)) is not None:
            used.note(RuleId.LOGDET_EXP)
            return trace(x)
        return node

    def det(node: Expr) -> Expr:
        x = _det_exp_argument(node)
        if x is not None:
            used.note(RuleId.DET_EXP)
            return elementwise("exp", trace(x))
        return node

    # the log first (map_tree works bottom-up): log det e^X is tr X, not log e^{tr X}
    new = map_tree(map_tree(expr, log_det), det)
    if new == expr:
        return None
    return new, list(used)


#: (rewrite, applies only after a previous rewrite of the list changed something)
PIPELINE = (rewrite_det_exp, rewrite_norms, rewrite_vec_kron, rewrite_log_softmax)


def rewrites(expr: Expr) -> list[Rewrite]:
    """The successive rewrites of ``expr`` a person would show."""
    out: list[Rewrite] = []
    current = expr
    for step in PIPELINE:
        result = step(current)
        if result is None:
            continue
        out.append(result)
        current = result[0]
        if step is rewrite_log_softmax:
            distributed = distribute_products(current)
            if distributed is not None:
                out.append(distributed)
                current = distributed[0]
    return out
