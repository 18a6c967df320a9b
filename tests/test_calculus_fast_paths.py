"""The calculus's shortcuts give what the long way gives.

Several fast paths rely on facts about the smart constructors (``mul`` gives
back an equal product when run on its own output; a one-factor term is its own
key when like terms merge; the first differential in reading order is found by
following ``has_differential``).  These tests state those facts directly.
"""

from __future__ import annotations

from fractions import Fraction

from mdderiv.calculus.gradient import _differential_of
from mdderiv.calculus.simplify import merge_like_terms, split_term
from mdderiv.expr import (
    Differential,
    Expr,
    Identity,
    MatMul,
    Number,
    Symbol,
    add,
    hadamard,
    mul,
    num,
    trace,
    transpose,
)

A = Symbol("A", ("n", "n"))
B = Symbol("B", ("n", "n"))
x = Symbol("x", ("n", 1))
y = Symbol("y", ("n", 1))
s = Symbol("s", (1, 1))


def _merge_the_long_way(terms: list[Expr]) -> list[Expr]:
    order: list[Expr] = []
    totals: dict[Expr, Fraction] = {}
    for term in terms:
        coefficient, scalars, matrices = split_term(term)
        key = mul(*scalars, *matrices) if (scalars or matrices) else num(1)
        if key not in totals:
            order.append(key)
            totals[key] = Fraction(0)
        totals[key] += coefficient
    return [mul(num(totals[k]), k) for k in order if totals[k] != 0]


def test_mul_is_idempotent_on_its_own_products() -> None:
    products = [
        mul(num(2), A, x),
        mul(transpose(x), A, y),
        mul(s, A, B),
        mul(num(-1), mul(transpose(x), y), A),  # a 1x1 product kept as a factor
        mul(num(Fraction(1, 2)), Identity(("n", "n")), s),
        mul(A, Identity(("n", "n")), x),
    ]
    for product in products:
        if isinstance(product, MatMul):
            assert mul(*product.factors) == product
            assert mul(num(1), product) == product


def test_merge_like_terms_matches_the_long_way() -> None:
    cases: list[list[Expr]] = [
        [A, B],
        [A, mul(num(2), A)],
        [mul(A, s, B), mul(num(-1), s, A, B)],  # a scalar moves to the front
        [num(3), num(-3)],
        [mul(num(2), A, x), mul(num(-2), A, x), x],
        [hadamard(x, y), mul(num(-1), hadamard(x, y)), mul(s, x)],
    ]
    for terms in cases:
        assert merge_like_terms(terms) == _merge_the_long_way(terms)


def test_the_first_differential_in_reading_order() -> None:
    dA, dx = Differential(A), Differential(x)
    term = add(trace(mul(transpose(x), dA, x)), mul(transpose(dx), A, x))
    assert _differential_of(term) == A
    assert _differential_of(mul(transpose(dx), A, x)) == x
    assert _differential_of(dx) == x


def test_small_numbers_are_shared_and_equal() -> None:
    assert num(2) is num(2)
    assert num(2) == Number(Fraction(2))
    assert hash(num(-1)) == hash(Number(Fraction(-1)))
    assert num(Fraction(1, 2)) == Number(Fraction(1, 2))
