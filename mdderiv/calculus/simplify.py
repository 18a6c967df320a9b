"""Simplification to the forms a person writes.

Transposes are pushed to the leaves (``(b a^T)^T = a b^T``), symmetric
matrices lose their transposes, ``exp(a) / 1^T exp(a)`` becomes
``softmax(a)``, ``y^T 1 = 1`` for one-hot ``y``, like terms merge, common
factors come out (``-y x^T + softmax(Wx) x^T = (softmax(Wx) - y) x^T``) and
sub-expressions the author named in a definition are folded back into the name.
Each rewrite notes its rule id in ``used``, the step's :class:`RulesUsed`.

This module is the pass that visits every node bottom-up and each node's own
rewrites; the rewrites themselves are in ``transposes.py``, ``products.py``,
``sums.py`` (with ``algebra.py``) and ``folding.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

from ..budget import check_time
from ..expr import (
    CHILDLESS,
    SCALAR,
    Add,
    Det,
    Diag,
    Differential,
    DimValue,
    Expr,
    Hadamard,
    HadamardDiv,
    Identity,
    IndexedSum,
    Inverse,
    MatMul,
    Number,
    Ones,
    Power,
    Symbol,
    Transpose,
    add,
    mul,
    num,
    power,
    rebuild,
)
from .citations import UNCITED, RulesUsed
from .folding import fold_definitions
from .memo import DerivationMemo, current_memo
from .products import cancel_entrywise, recognise_elementwise_sigmoid, simplify_product
from .sums import simplify_sum, split_term
from .transposes import push_transpose


def simplify(
    expr: Expr,
    used: RulesUsed = UNCITED,
    names: Sequence[tuple[Symbol, Expr]] = (),
    max_rounds: int = 8,
) -> Expr:
    """Rewrite to a fixpoint (bounded: every rewrite shrinks or reorders)."""
    memo = current_memo()
    for _ in range(max_rounds):
        new = _simplify_pass(expr, used, memo)
        new = fold_definitions(new, names, used)
        if new == expr:
            return new
        expr = new
    return expr


def _simplify_pass(node: Expr, used: RulesUsed, memo: DerivationMemo | None) -> Expr:
    """One bottom-up pass; each node's result (and the rules it used) is
    remembered for the derivation: nodes are immutable and the pass depends on
    nothing else, and the same subtrees come back round after round."""
    kids = node.children()
    if not kids or type(node) is Differential:
        return node  # a leaf: no rule rewrites one (so it needs no memo either)
    if memo is not None:
        entry = memo.passes.get(id(node))
        if entry is not None:
            result, rules = entry[1]
            if rules:  # (most nodes use none: spare the call)
                used.note_all(rules)
            return result
    check_time()
    noted = RulesUsed()
    # (a leaf child is not visited: no rule rewrites one, and a call per leaf
    # adds up; a plain loop, as a comprehension is a call of its own)
    new_kids = []
    changed = False
    for kid in kids:
        if type(kid) not in _LEAVES:
            new = _simplify_pass(kid, noted, memo)
            if new is not kid:
                changed = True
            kid = new
        new_kids.append(kid)
    rebuilt = rebuild(node, tuple(new_kids)) if changed else node
    rules_of = _LOCAL_RULES.get(type(rebuilt))  # the node's own rewrites (its children are simplified)
    result = rules_of(rebuilt, noted) if rules_of is not None else rebuilt
    if result is not rebuilt and result == rebuilt:
        # most rules leave a node as it was but build it anew: keep the old
        # node, so that the parent need not be rebuilt and compares by identity
        result = rebuilt
    rules = noted.ids()
    if memo is not None:
        memo.passes[id(node)] = (node, (result, rules))
    if rules:
        used.note_all(rules)
    return result


#: node classes a pass leaves as they are: without children, or a differential
_LEAVES = CHILDLESS | {Differential}


# --------------------------------------------------------------------------- each node's own rewrites


def pull_out_of_sum(expr: IndexedSum) -> Expr:
    """``Σ_i c A B_i C = c A (Σ_i B_i) C`` for A, C, c free of the index."""
    body = expr.body

    def depends(e: Expr) -> bool:
        return any(isinstance(n, Symbol) and n.index == expr.index for n in e.walk())

    if not depends(body):  # n copies of the same thing
        return mul(DimValue(expr.upper), body) if expr.upper != 1 else body
    if not isinstance(body, MatMul):
        return expr

    factors = list(body.factors)
    outside = [f for f in factors if f.is_scalar and not depends(f)]
    chain = [f for f in factors if not (f.is_scalar and not depends(f))]
    start = 0
    while start < len(chain) and not depends(chain[start]):
        start += 1
    end = len(chain)
    while end > start and not depends(chain[end - 1]):
        end -= 1
    if start == end:  # nothing depends on the index: n copies
        return mul(DimValue(expr.upper), *outside, *chain) if expr.upper != 1 else body
    inner = mul(*chain[start:end])
    if not outside and start == 0 and end == len(chain):
        return expr
    summed = IndexedSum(expr.index, expr.upper, inner, inner.shape)
    return mul(*outside, *chain[:start], summed, *chain[end:])


def _local_power(node: Power, used: RulesUsed) -> Expr:
    base = node.base
    if isinstance(base, Number):
        return power(base, node.exponent)
    if (
        base.shape == SCALAR
        and isinstance(base, MatMul)
        and isinstance(base.factors[0], Number)
        and node.exponent.denominator == 1
    ):
        c = base.factors[0].value
        return mul(num(c ** int(node.exponent)), power(mul(*base.factors[1:]), node.exponent))
    return node


def _local_entrywise(node: Hadamard | HadamardDiv, used: RulesUsed) -> Expr:
    cancelled = cancel_entrywise(node, used)
    if isinstance(cancelled, (Hadamard, HadamardDiv)):
        return recognise_elementwise_sigmoid(cancelled, used)
    return cancelled


def _local_inverse(node: Inverse, used: RulesUsed) -> Expr:
    arg = node.arg
    if isinstance(arg, MatMul) and isinstance(arg.factors[0], Number):
        # (cA)^{-1} = c^{-1} A^{-1}
        c = arg.factors[0].value
        return mul(num(Fraction(1) / c), Inverse(mul(*arg.factors[1:]), node.shape))
    if isinstance(arg, Add):
        # (2A + 2B)^{-1} = 1/2 (A + B)^{-1}
        coefficients = {split_term(t)[0] for t in arg.terms}
        if len(coefficients) == 1:
            (c,) = coefficients
            if c not in (0, 1):
                inner = add(*(mul(num(1 / c), t) for t in arg.terms))
                return mul(num(1 / c), Inverse(inner, node.shape))
    return node


def _local_diag(node: Diag, used: RulesUsed) -> Expr:
    arg = node.arg
    if isinstance(arg, MatMul) and isinstance(arg.factors[0], Number):
        # diag is linear: diag(2x) = 2 diag(x)
        return mul(arg.factors[0], Diag(mul(*arg.factors[1:]), node.shape))
    if isinstance(arg, Ones) and arg.shape[1] == 1:
        return Identity(node.shape)  # diag(1) = I
    if isinstance(arg, (Ones, Identity)) and arg.shape[1] != 1:
        return Ones(node.shape)  # the diagonal of 1 1^T or of I: a vector of ones
    return node


def _local_det(node: Det, used: RulesUsed) -> Expr:
    if isinstance(node.arg, Transpose):
        return Det(node.arg.arg)
    return node


#: each node class's own rewrites; a class not listed has none
_LOCAL_RULES: dict[type, Callable[[Any, RulesUsed], Expr]] = {
    Transpose: lambda node, used: push_transpose(node.arg, used, node),
    MatMul: simplify_product,
    Add: simplify_sum,
    IndexedSum: lambda node, used: pull_out_of_sum(node),
    Power: _local_power,
    Hadamard: _local_entrywise,
    HadamardDiv: _local_entrywise,
    Inverse: _local_inverse,
    Diag: _local_diag,
    Det: _local_det,
}
