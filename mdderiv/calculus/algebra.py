"""A sum expanded and collected in the commutative algebra it lives in
(scalar arithmetic, or entry-by-entry arithmetic of same-sized matrices),
with SymPy: ``-y(1 - σ) + (1 - y)σ = σ - y``.  Part of simplifying a sum
(:func:`~.sums.simplify_sum`)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ..expr import (
    SCALAR,
    Add,
    Expr,
    Hadamard,
    MatMul,
    Number,
    Ones,
    Power,
    add,
    hadamard,
    is_tidy,
    mul,
    num,
    power,
)
from ..rules import RuleId
from .citations import RulesUsed


def _has_product_of_sums(expr: Add) -> bool:
    for term in expr.terms:
        rest = term  # the term without its number
        if type(term) is MatMul and type(term.factors[0]) is Number:
            factors = term.factors
            if not is_tidy(term):
                rest = mul(*factors[1:])
            elif len(factors) == 2:
                rest = factors[1]
            # else: mul would give back a product of factors[1:], which holds
            # a sum where the term does
        if (
            isinstance(rest, MatMul)
            and any(isinstance(f, Add) for f in rest.factors)
            # a product of two matrices or more is an atom of the algebra: expanding
            # the sum would change nothing (and cost a SymPy round trip per sum)
            and sum(1 for f in rest.factors if f.shape != SCALAR) <= 1
        ):
            return True
        if isinstance(rest, Hadamard) and (isinstance(rest.left, Add) or isinstance(rest.right, Add)):
            return True
    return False


def commutative_algebra(expr: Add, used: RulesUsed) -> Expr:
    """Expand and collect a sum in the commutative algebra it lives in — scalar
    arithmetic, or entry-by-entry arithmetic (⊙) of same-sized matrices — with
    SymPy: ``-y(1 - σ) + (1 - y)σ = σ - y``, ``(1 - y) ⊙ σ - y ⊙ (1 - σ) = σ - y``.
    Anything else stays an opaque atom.  Kept only when it is shorter."""
    if not _has_product_of_sums(expr):
        return expr
    import sympy

    shape = expr.shape
    matrix = shape != SCALAR
    atoms: dict[Expr, sympy.Symbol] = {}

    def atom(node: Expr) -> sympy.Symbol:
        if node not in atoms:
            atoms[node] = sympy.Symbol(f"a{len(atoms)}")
        return atoms[node]

    def to_sympy(node: Expr) -> sympy.Expr:
        if isinstance(node, Number):
            return sympy.Rational(node.value.numerator, node.value.denominator)
        if isinstance(node, Ones) and matrix and node.shape == shape:
            return sympy.Integer(1)
        if isinstance(node, Add):
            return sympy.Add(*(to_sympy(t) for t in node.terms))
        if isinstance(node, Hadamard) and node.shape == shape:
            return sympy.Mul(to_sympy(node.left), to_sympy(node.right))
        if isinstance(node, MatMul):
            big = [f for f in node.factors if not f.is_scalar]
            if len(big) <= 1:
                return sympy.Mul(*(to_sympy(f) for f in node.factors))
        if isinstance(node, Power) and node.base.is_scalar:
            q = node.exponent
            return sympy.Pow(to_sympy(node.base), sympy.Rational(q.numerator, q.denominator))
        return atom(node)

    back: dict[sympy.Symbol, Expr] = {}

    def from_sympy(value: sympy.Expr) -> Expr:
        if value.is_Add:
            return add(*(from_sympy(a) for a in value.as_ordered_terms()))
        factors = value.as_ordered_factors() if value.is_Mul else [value]
        coefficient = Fraction(1)
        scalars: list[Expr] = []
        entries: list[Expr] = []
        for f in factors:
            if f.is_Rational:
                coefficient *= Fraction(int(f.p), int(f.q))
                continue
            base, exponent = (f.base, f.exp) if f.is_Pow else (f, sympy.Integer(1))
            if not (base.is_Symbol and exponent.is_Rational):
                raise ValueError(f)
            node = back[base]
            q = Fraction(int(exponent.p), int(exponent.q))
            if node.is_scalar:
                scalars.append(power(node, q))
            elif q.denominator == 1 and q > 0:
                entries.extend([node] * int(q))
            else:
                raise ValueError(f)
        if matrix and not entries:
            entries = [Ones(shape)]
        rest: list[Expr] = []
        if entries:
            product = entries[0]
            for e in entries[1:]:
                product = hadamard(product, e)
            rest.append(product)
        return mul(num(coefficient), *scalars, *rest)

    try:
        written = to_sympy(expr)
        if _expanded_size(written) > _MAX_EXPANDED:
            return expr  # the expansion alone would take the block's whole time budget
        expanded = sympy.expand(written)
        back.update({v: k for k, v in atoms.items()})
        result = from_sympy(expanded)
    except (ValueError, KeyError, TypeError):
        return expr
    if sum(1 for _ in result.walk()) < sum(1 for _ in expr.walk()):
        used.note(RuleId.SIMPLIFY)
        return result
    return expr


#: the most terms a sum may expand to for commutative_algebra to try it
_MAX_EXPANDED = 2000


def _expanded_size(value: Any) -> int:
    """An upper bound on the number of terms ``sympy.expand(value)`` gives."""
    if value.is_Add:
        return sum(_expanded_size(a) for a in value.args)
    if value.is_Mul:
        size = 1
        for a in value.args:
            size *= _expanded_size(a)
            if size > _MAX_EXPANDED:
                break
        return size
    if value.is_Pow and value.exp.is_Integer and value.exp > 0:
        base, size = _expanded_size(value.base), 1
        for _ in range(int(value.exp)):
            size *= base
            if size > _MAX_EXPANDED or base == 1:
                break
        return size
    return 1
