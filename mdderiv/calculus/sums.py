"""Sums: a term split into its number, scalars and matrices; like terms
merged (``2A + 3A = 5A``), terms ordered, and common factors taken out
(``-y x^T + softmax(Wx) x^T = (softmax(Wx) - y) x^T``).  Part of
:func:`~.simplify.simplify`; each rewrite notes its rule id in ``used``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import Any

from ..budget import check_time
from ..expr import (
    SCALAR,
    Add,
    Diag,
    Expr,
    Hadamard,
    Identity,
    MatMul,
    Number,
    Ones,
    Transpose,
    Zeros,
    add,
    hadamard,
    is_tidy,
    mul,
    num,
)
from ..rules import RuleId
from .algebra import commutative_algebra
from .citations import RulesUsed
from .memo import current_memo

# Typing note: the hot paths test a node's exact class once (``kind = type(expr)``,
# then ``kind is MatMul``); mypy does not narrow ``expr`` through the saved
# ``kind``, so the attribute reads after such a test carry
# ``type: ignore[attr-defined]`` (an ``isinstance`` per read would cost time).


#: a term as (number, other scalar factors, matrix factors in order)
Split = tuple[Fraction, tuple[Expr, ...], tuple[Expr, ...]]


def split_term(term: Expr) -> Split:
    """A term as (number, other scalar factors, matrix factors in order).
    A product's split is remembered for the derivation: merging, ordering and
    factoring a sum each ask for the same terms' splits."""
    kind = type(term)
    if kind is not MatMul:  # (the usual term: one factor)
        if kind is Number:
            return term.value, (), ()  # type: ignore[attr-defined]
        return ONE, (), (term,)
    memo = current_memo()
    if memo is not None:
        entry = memo.splits.get(id(term))
        if entry is not None:
            return entry[1]
    coefficient = ONE
    scalars: list[Expr] = []
    matrices: list[Expr] = []
    matrix_term = term.shape != SCALAR
    for factor in term.factors:  # type: ignore[attr-defined]
        if type(factor) is Number:
            value = factor.value
            coefficient = value if coefficient is ONE else coefficient * value
        elif matrix_term and factor.shape == SCALAR:
            scalars.append(factor)
        else:
            matrices.append(factor)
    split = (coefficient, tuple(scalars), tuple(matrices))
    if memo is not None:
        memo.splits[id(term)] = (term, split)
    return split


ONE = Fraction(1)


def merge_like_terms(terms: Iterable[Expr]) -> list[Expr]:
    """``2A + 3A = 5A``; terms keep their first position."""
    terms = tuple(terms)
    # each key's [key, total, its term]: the term while no other term shares
    # the key and the term is written as the merge would write it (then the
    # term itself is returned), else None.  A few keys are compared one by one
    # (a sum's new terms need not be hashed for that); many go through a dict.
    entries: list[list[Any]] = []
    index: dict[Expr, list[Any]] | None = {} if len(terms) > _LINEAR_MERGE else None
    for term in terms:
        coefficient, scalars, matrices = split = split_term(term)
        kind = type(term)
        key = _like_key(term, split)
        entry = index.get(key) if index is not None else _entry_of(entries, key)
        if entry is None:
            alone = kind is not MatMul or (is_tidy(term) and _scalars_lead(term, len(scalars)))
            entry = [key, coefficient, term if alone else None]
            entries.append(entry)
            if index is not None:
                index[key] = entry
        else:
            entry[1] += coefficient
            entry[2] = None
    merged: list[Expr] = []
    for key, total, kept in entries:
        if total is not ONE and total == 0:  # (Fraction comparisons are slow)
            continue
        if kept is None:
            # 1·k is k itself (k came from mul, so mul would rebuild it equal)
            kept = key if total is ONE or total == 1 else mul(num(total), key)
        merged.append(kept)
    return merged


def _like_key(term: Expr, split: Split) -> Expr:
    """What ``term`` shares with the terms it merges with: itself without its
    number (``A`` for ``2A``), as ``mul`` writes it."""
    coefficient, scalars, matrices = split
    kind = type(term)
    if not scalars and len(matrices) == 1 and kind is not MatMul:
        return matrices[0] if kind is not Zeros else mul(term)  # mul(x) is x
    if coefficient is ONE and is_tidy(term) and _scalars_lead(term, len(scalars)):
        return term  # mul would give it back
    return mul(*scalars, *matrices) if (scalars or matrices) else num(1)


def merge_into_one(first: Expr, second: Expr) -> bool:
    """Whether ``merge_like_terms([first, second])`` leaves fewer than two terms
    (they are like terms, or one of them is zero), without building the merge."""
    first_split, second_split = split_term(first), split_term(second)
    if first_split[0] == 0 or second_split[0] == 0:
        return True
    return _like_key(first, first_split) == _like_key(second, second_split)


#: up to this many terms, merge_like_terms compares keys instead of hashing them
_LINEAR_MERGE = 8


def _entry_of(entries: list[list[Any]], key: Expr) -> list[Any] | None:
    for entry in entries:
        known = entry[0]
        if known is key or known == key:
            return entry
    return None


def _scalars_lead(term: MatMul, count: int) -> bool:
    """Whether the first ``count`` factors after the number are the scalars
    (``split_term`` moves a term's scalars to the front; here none moves)."""
    factors = term.factors
    start = 1 if type(factors[0]) is Number else 0
    for factor in factors[start : start + count]:  # noqa: SIM110 - (as in unchanged)
        if factor.shape != SCALAR:
            return False
    return True


def _rank(term: Expr) -> tuple[bool, bool]:
    """(negative, a lone transposed factor): the order of ``order_terms``."""
    coefficient, _, matrices = split_term(term)
    transposed_symbol = len(matrices) == 1 and type(matrices[0]) is Transpose
    return (coefficient is not ONE and coefficient.numerator < 0, transposed_symbol)  # (without Fraction.__lt__)


def order_terms(terms: Sequence[Expr]) -> list[Expr]:
    """Positive terms first, ``A`` before ``A^T``, else as derived."""
    ranks = [_rank(t) for t in terms]
    if all(a <= b for a, b in zip(ranks, ranks[1:])):
        return list(terms)  # already in order (the sort is stable)
    return [t for _, _, t in sorted(zip(ranks, range(len(ranks)), terms))]


def factor_terms(terms: list[Expr], used: RulesUsed, nested: bool = False) -> Expr:
    """The sum of ``terms`` with factors common to all of them taken out (and,
    failing that, common to some of them).  ``nested`` sums, already inside a
    product, also give up a common number: ``(1/2)(A + A^T)``."""
    if len(terms) < 2:
        return add(*terms) if terms else num(0)
    check_time()
    parts = [split_term(t) for t in terms]
    if nested and not all(c is ONE or c == 1 for c, _, _ in parts):  # (all 1: nothing to give up)
        factored = _common_number(parts, used)
        if factored is not None:
            return factored
    factored = _common_scalar(parts, used)
    if factored is not None:
        return factored
    long_parts = sum(1 for _, _, m in parts if len(m) >= 2)
    factored = _common_matrix_factor(parts, long_parts, used)
    if factored is not None:
        return factored
    factored = _common_hadamard_operand(parts, used)
    if factored is not None:
        return factored
    if long_parts < 2:
        return add(*terms)  # nothing left that two terms could share
    factored = _factor_shared_by_some(terms, parts, used)
    return factored if factored is not None else add(*terms)


def _common_number(parts: list[Split], used: RulesUsed) -> Expr | None:
    """``(1/2)(A + A^T)``: the terms' numbers, when all have one magnitude."""
    magnitudes = {abs(c) for c, _, _ in parts}
    if len(magnitudes) != 1:
        return None
    (magnitude,) = magnitudes
    sign = -1 if all(c < 0 for c, _, _ in parts) else 1
    common = magnitude * sign
    if common == 1:
        return None
    used.note(RuleId.SIMPLIFY)
    scaled = [mul(num(c / common), *s, *m) for c, s, m in parts]
    return mul(num(common), factor_terms(order_terms(scaled), used, nested=True))


def _common_scalar(parts: list[Split], used: RulesUsed) -> Expr | None:
    """A scalar factor (not a number) of every term."""
    for scalar in parts[0][1]:
        if all(scalar in s for _, s, _ in parts[1:]):
            used.note(RuleId.SIMPLIFY)
            inner_terms = []
            for c, s, m in parts:
                rest = list(s)
                rest.remove(scalar)
                inner_terms.append(mul(num(c), *rest, *m))
            return mul(scalar, factor_terms(order_terms(inner_terms), used))
    return None


def _common_matrix_factor(parts: list[Split], long_parts: int, used: RulesUsed) -> Expr | None:
    """A last or first matrix factor of every term, each term keeping at least
    one (or each keeping only scalars: σ(1 - y) x - (1 - σ) y x = (…) x);
    ``long_parts``: how many terms have two matrix factors or more."""
    singles = all(len(m) == 1 for _, _, m in parts) and all(s or (c is not ONE and c != 1) for c, s, _ in parts)
    if singles and len({m[0] for _, _, m in parts}) == 1:
        used.note(RuleId.SIMPLIFY)
        last = parts[0][2][0]
        scalar_terms = [mul(num(c), *s) for c, s, _ in parts]
        return mul(factor_terms(order_terms(scalar_terms), used, nested=True), last)
    if long_parts != len(parts):
        return None
    last = parts[0][2][-1]
    if all(m[-1] == last for _, _, m in parts):
        used.note(RuleId.SIMPLIFY)
        inner_terms = [mul(num(c), *s, *m[:-1]) for c, s, m in parts]
        return mul(factor_terms(order_terms(inner_terms), used, nested=True), last)
    first = parts[0][2][0]
    if all(m[0] == first for _, _, m in parts):
        used.note(RuleId.SIMPLIFY)
        inner_terms = [mul(num(c), *s, *m[1:]) for c, s, m in parts]
        return mul(first, factor_terms(order_terms(inner_terms), used, nested=True))
    return None


def _common_hadamard_operand(parts: list[Split], used: RulesUsed) -> Expr | None:
    """A Hadamard operand of every term: A ⊙ S + B ⊙ S = (A + B) ⊙ S."""
    hadamards = [m[0] for _, s, m in parts if len(m) == 1 and isinstance(m[0], Hadamard) and not s]
    if len(hadamards) != len(parts):
        return None
    right = hadamards[0].right
    if all(h.right == right for h in hadamards):
        used.note(RuleId.SIMPLIFY)
        inner_terms = [mul(num(c), h.left) for (c, _, _), h in zip(parts, hadamards)]
        return hadamard(factor_terms(order_terms(inner_terms), used), right)
    left = hadamards[0].left
    if all(h.left == left for h in hadamards):
        used.note(RuleId.SIMPLIFY)
        inner_terms = [mul(num(c), h.right) for (c, _, _), h in zip(parts, hadamards)]
        return hadamard(left, factor_terms(order_terms(inner_terms), used))
    return None


def _factor_shared_by_some(terms: list[Expr], parts: list[Split], used: RulesUsed) -> Expr | None:
    """A last factor shared by some of the terms (A x + B x - b = (A + B) x - b),
    else a first one (X A + X B + C X = X(A + B) + C X)."""
    groups: dict[Expr, list[int]] = {}
    for i, (_, _, m) in enumerate(parts):
        if len(m) >= 2:
            groups.setdefault(m[-1], []).append(i)
    for last, members in groups.items():
        if len(members) >= 2 and len(members) < len(terms):
            used.note(RuleId.SIMPLIFY)
            inner_terms = [mul(num(parts[i][0]), *parts[i][1], *parts[i][2][:-1]) for i in members]
            combined = mul(factor_terms(order_terms(inner_terms), used, nested=True), last)
            rest = [t for i, t in enumerate(terms) if i not in members]
            return add(*order_terms([combined, *rest]))
    leading: dict[Expr, list[int]] = {}
    for i, (_, _, m) in enumerate(parts):
        if len(m) >= 2:
            leading.setdefault(m[0], []).append(i)
    for first, members in leading.items():
        if len(members) >= 2 and len(members) < len(terms):
            used.note(RuleId.SIMPLIFY)
            inner_terms = [mul(num(parts[i][0]), *parts[i][1], *parts[i][2][1:]) for i in members]
            combined = mul(first, factor_terms(order_terms(inner_terms), used, nested=True))
            rest = [t for i, t in enumerate(terms) if i not in members]
            return add(*order_terms([combined, *rest]))
    return None


def _merge_diagonals(terms: list[Expr]) -> list[Expr]:
    """``diag(a) + diag(b) = diag(a + b)`` for vectors a, b."""
    diagonals = [
        (i, t) for i, t in enumerate(terms) if isinstance(t, Diag) and t.arg.shape[1] == 1
    ]
    if len(diagonals) < 2:
        return terms
    summed = add(*(t.arg for _, t in diagonals))
    first = diagonals[0][0]
    merged: Expr = Diag(summed, diagonals[0][1].shape)
    if isinstance(summed, Ones):
        merged = Identity(diagonals[0][1].shape)
    indices = {i for i, _ in diagonals}
    return [merged if i == first else t for i, t in enumerate(terms) if i == first or i not in indices]


def simplify_sum(expr: Add, used: RulesUsed) -> Expr:
    algebra = commutative_algebra(expr, used)
    if not isinstance(algebra, Add):
        return algebra
    expr = algebra
    terms = merge_like_terms(_merge_diagonals(list(expr.terms)))
    if len(terms) < len(expr.terms):
        used.note(RuleId.SIMPLIFY)
    if not terms:
        return num(0) if expr.is_scalar else Zeros(expr.shape)
    result = factor_terms(order_terms(terms), used)
    if type(result) is Add and result.shape == expr.shape and unchanged(list(result.terms), expr.terms):
        return expr  # nothing changed: the sum itself, not an equal copy
    return result


def unchanged(factors: list[Expr], original: tuple[Expr, ...]) -> bool:
    """Whether ``factors`` are the original factors themselves, in order."""
    if len(factors) != len(original):
        return False
    for new, old in zip(factors, original):  # noqa: SIM110 - a loop: all() of a generator is slower here
        if new is not old:
            return False
    return True
