"""Simplification to the forms a person writes.

Transposes are pushed to the leaves (``(b a^T)^T = a b^T``), symmetric
matrices lose their transposes, ``exp(a) / 1^T exp(a)`` becomes
``softmax(a)``, ``y^T 1 = 1`` for one-hot ``y``, like terms merge, common
factors come out (``-y x^T + softmax(Wx) x^T = (softmax(Wx) - y) x^T``) and
sub-expressions the author named in a definition are folded back into the name.
Each rewrite notes its rule id in ``used``, the step's :class:`RulesUsed`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..problem import Problem

from ..budget import check_time
from ..expr import (
    ONE_HOT,
    SCALAR,
    Add,
    Commutation,
    Det,
    Diag,
    Differential,
    DimValue,
    Elementwise,
    Expr,
    Hadamard,
    HadamardDiv,
    Identity,
    IndexedSum,
    Inverse,
    Kron,
    MatMul,
    MatrixFunction,
    Norm,
    NormKind,
    Number,
    Ones,
    Power,
    Shape,
    Softmax,
    Symbol,
    Trace,
    Transpose,
    Zeros,
    add,
    hadamard,
    is_tidy,
    kinds,
    map_tree,
    mul,
    nodes,
    num,
    power,
    rebuild,
    transpose,
)
from ..rules import RuleId
from .citations import UNCITED, RulesUsed
from .memo import DerivationMemo, current_memo

# Typing note: the hot paths test a node's exact class once (``kind = type(expr)``,
# then ``kind is MatMul``); mypy does not narrow ``expr`` through the saved
# ``kind``, so the attribute reads after such a test carry
# ``type: ignore[attr-defined]`` (an ``isinstance`` per read would cost time).

# --------------------------------------------------------------------------- symmetry


def matrix_generators(expr: Expr) -> set[Expr] | None:
    """The square matrices ``expr`` is a function of, when it is built from them,
    numbers, scalars, ``I``, sums, products, inverses, powers and matrix
    functions only; ``None`` when anything else occurs (a transpose, a
    differential, a Hadamard product...); ``X^T`` is a matrix of its own."""
    if expr.is_scalar or isinstance(expr, Identity):
        return set()  # a scalar times I commutes with every matrix
    if isinstance(expr, Symbol):
        return {expr}
    if isinstance(expr, Transpose):
        # f(X)^T = f(X^T) for the power series of real coefficients: a function of X^T
        inner = matrix_generators(expr.arg)
        return None if inner is None else {transpose(g) for g in inner}
    if isinstance(expr, (Add, MatMul, Inverse, Power, MatrixFunction)):
        found: set[Expr] = set()
        for child in expr.children():
            inner = matrix_generators(child)
            if inner is None:
                return None
            found |= inner
        return found
    return None


def commute(factor: Expr, arg: Expr) -> bool:
    """Whether ``factor`` commutes with ``arg`` because both are functions of
    one and the same square matrix: X (polynomials in X on its spectrum), or a
    part of ``arg``, as ``(B + tA)^{-1}`` and ``log(I + e^{B + tA})`` are of ``B + tA``."""
    if factor.is_scalar:
        return True
    mine, theirs = matrix_generators(factor), matrix_generators(arg)
    if mine is not None and theirs is not None and len(mine | theirs) <= 1:
        return True
    held = Symbol("_argument_", arg.shape)
    for inner in {node for node in arg.walk() if node.shape == arg.shape and not node.is_scalar}:
        # both functions of this part of arg, held as one matrix M: B + tA in (B + tA)^{-1}
        # and in log(I + e^{B + tA})
        def hold(node: Expr, inner: Expr = inner) -> Expr:
            return held if node == inner else node

        generators = [matrix_generators(map_tree(e, hold)) for e in (factor, arg)]
        if all(g is not None and g <= {held} for g in generators):
            return True
    return False


def is_symmetric(expr: Expr) -> bool:
    """True when ``expr^T = expr`` follows from the declarations alone."""
    if expr.shape[0] != expr.shape[1]:
        return False
    if expr.is_scalar:
        return True
    if isinstance(expr, Symbol):
        return expr.symmetric
    if isinstance(expr, Identity):
        return True
    if isinstance(expr, Ones):
        return True  # a square all-ones matrix
    if isinstance(expr, (Inverse, Power)):
        inner = expr.arg if isinstance(expr, Inverse) else expr.base
        return is_symmetric(inner)
    if isinstance(expr, Diag):
        return expr.arg.shape[1] == 1  # diag(v) of a vector
    if isinstance(expr, Add):
        return all(is_symmetric(t) for t in expr.terms)
    if isinstance(expr, (Hadamard,)):
        return is_symmetric(expr.left) and is_symmetric(expr.right)
    if isinstance(expr, (Elementwise, MatrixFunction)):
        # f(S) of a symmetric S: entry by entry, or V f(Λ) V^T with V orthogonal
        return is_symmetric(expr.arg)
    if isinstance(expr, IndexedSum):
        return is_symmetric(expr.body)
    if isinstance(expr, MatrixFunction):
        return is_symmetric(expr.arg)  # a power series (or log, √) of a symmetric matrix
    if isinstance(expr, MatMul):
        factors = [f for f in expr.factors if not f.is_scalar]
        # A S A^T, A A^T, B^T B …: the product reads the same transposed
        mirrored = [push_transpose(f) for f in reversed(factors)]
        if mirrored == factors:
            return True
        # symmetric functions of one matrix commute: (e^S (I + e^S)^{-1})^T = e^S (I + e^S)^{-1}
        if not all(is_symmetric(f) for f in factors):
            return False
        generators = matrix_generators(expr)
        return generators is not None and len(generators) <= 1
    return False


# --------------------------------------------------------------------------- transposes


def _transpose_count(expr: Expr, memo: DerivationMemo | None = None) -> int:
    """How many transposes a tree holds (remembered for the derivation)."""
    if memo is None:
        memo = current_memo()
    if memo is not None:
        entry = memo.transposes.get(id(expr))
        if entry is not None:
            return entry[1]
    count = 1 if type(expr) is Transpose else 0
    for child in expr.children():
        count += _transpose_count(child, memo)
    if memo is not None:
        memo.transposes[id(expr)] = (expr, count)
    return count


def push_transpose(expr: Expr, used: RulesUsed = UNCITED, transposed: Expr | None = None) -> Expr:
    """``expr^T`` with the transpose pushed towards the leaves, as far as that
    makes the expression simpler.  ``transposed``, a node ``expr^T`` the caller
    holds, is returned where the transpose stays on a leaf (not an equal copy)."""
    if type(expr) is Transpose:
        return expr.arg
    kind = type(expr)
    rows, cols = shape = expr.shape
    if kind is Differential:
        return _on_leaf(expr, (cols, rows), transposed)
    if shape == SCALAR:
        return expr
    if kind is Symbol:
        if expr.symmetric:  # type: ignore[attr-defined]
            used.note(RuleId.SYMMETRIC)
            return expr
        return _on_leaf(expr, (cols, rows), transposed)
    # a compound node: its pushed form and the rules noted are remembered (the
    # same subtree is pushed again in later steps, by is_symmetric, in candidates)
    memo = current_memo()
    entry = memo.pushed.get(id(expr)) if memo is not None else None
    if entry is not None:
        result, rules = entry[1]
    else:
        noted = RulesUsed()
        result = _push_compound(expr, kind, noted)
        rules = noted.ids()
        if memo is not None:
            memo.pushed[id(expr)] = (expr, (result, rules))
    if rules:  # (most nodes use none: spare the call)
        used.note_all(rules)
    return result


def _push_compound(expr: Expr, kind: type, used: RulesUsed) -> Expr:
    """``push_transpose`` of a node that is no leaf, no scalar, no transpose."""
    if isinstance(expr, MatMul):
        used.note(RuleId.TRANSPOSE_PRODUCT)
        return mul(*[push_transpose(f, used) for f in reversed(expr.factors)])
    if is_symmetric(expr) and not isinstance(expr, Differential):
        if not isinstance(expr, (Identity, Ones, Diag)):
            used.note(RuleId.SYMMETRIC)
        return expr
    if kind in _FORESEEN:
        foreseen = _foresee_push(expr)
        if foreseen is not None and foreseen >= _transpose_count(expr) + 1:
            # the pushed form would hold no fewer transposes than expr^T: keep
            # expr^T (the rules the pushed form would have used are not used)
            return transpose(expr)
    if isinstance(expr, Kron):
        # (A ⊗ B)^T = A^T ⊗ B^T
        return Kron(push_transpose(expr.left, used), push_transpose(expr.right, used), expr.shape[::-1])
    if isinstance(expr, Commutation):
        return Commutation(expr.cols, expr.rows, expr.shape)
    # a candidate notes its rules aside: a step cites them only if it is kept
    aside = RulesUsed()
    candidate: Expr | None = None
    if isinstance(expr, Inverse):
        candidate = Inverse(push_transpose(expr.arg, aside), expr.shape[::-1])
    elif isinstance(expr, Hadamard):
        candidate = hadamard(push_transpose(expr.left, aside), push_transpose(expr.right, aside))
    elif isinstance(expr, HadamardDiv):
        candidate = HadamardDiv(
            push_transpose(expr.left, aside), push_transpose(expr.right, aside), expr.shape[::-1]
        )
    elif isinstance(expr, Elementwise):
        candidate = Elementwise(expr.fn, push_transpose(expr.arg, aside), expr.shape[::-1])
    elif isinstance(expr, Add):
        candidate = add(*(push_transpose(t, aside) for t in expr.terms))
    elif isinstance(expr, IndexedSum):
        candidate = IndexedSum(expr.index, expr.upper, push_transpose(expr.body, aside), expr.shape[::-1])
    plain = transpose(expr)
    if candidate is not None and _transpose_count(candidate) < _transpose_count(plain):
        used.note_all(aside)
        return candidate
    return plain


#: the compound kinds whose push can be foreseen (the pushed form built of its
#: children's pushed forms: ``_push_compound`` compares it with ``expr^T``)
_FORESEEN = frozenset((Add, Hadamard, Elementwise, Inverse))


def _foresee_push(expr: Expr) -> int | None:
    """The transposes ``push_transpose(expr)`` would hold, without building it
    (the pushed form of a sum, say, is often built only to be dropped for
    ``(a - b)^T``).  None where a smart constructor could drop a part of it (a
    zero), or for a kind not followed."""
    kind = type(expr)
    if kind is Transpose:
        arg = expr.arg  # type: ignore[attr-defined]
        if type(arg) is Zeros or type(arg) is Ones or type(arg) is Identity:
            return None
        return _transpose_count(arg)
    shape = expr.shape
    if kind is Differential:
        return 1
    if shape == SCALAR:
        return _transpose_count(expr)
    if kind is Symbol:
        return 0 if expr.symmetric else 1  # type: ignore[attr-defined]
    memo = current_memo()
    entry = memo.pushed.get(id(expr)) if memo is not None else None
    if entry is not None:
        return _transpose_count(entry[1][0], memo)
    if kind is MatMul:
        count = 0
        for factor in expr.factors:  # type: ignore[attr-defined]
            if type(factor) is Zeros or (type(factor) is Number and factor.value == 0):
                return None  # mul would give a zero
            found = _foresee_push(factor)
            if found is None:
                return None
            count += found
        return count
    if kind not in _FORESEEN:
        return None
    if is_symmetric(expr):
        return _transpose_count(expr)
    count = 0
    for child in expr.children():
        if type(child) is Zeros or type(child) is Ones or type(child) is Identity:
            return None  # hadamard and add drop or absorb these
        found = _foresee_push(child)
        if found is None:
            return None
        count += found
    # expr^T itself when the pushed form would hold no fewer transposes
    return min(count, _transpose_count(expr) + 1)


def _on_leaf(leaf: Expr, shape: Shape, transposed: Expr | None) -> Expr:
    """``leaf^T``: the caller's node when it has one, else a new one."""
    if transposed is not None and transposed.shape == shape:
        return transposed
    return Transpose(leaf, shape)


# --------------------------------------------------------------------------- products


def _softmax_normaliser(expr: Expr) -> Expr | None:
    """If ``expr`` is ``(1^T exp(a))^{-1}``, return ``a``."""
    if not (isinstance(expr, Power) and expr.exponent == -1):
        return None
    base = expr.base
    if not isinstance(base, MatMul) or len(base.factors) != 2:
        return None
    ones, exp = base.factors
    if isinstance(ones, Transpose):
        ones = ones.arg
    if isinstance(ones, Ones) and isinstance(exp, Elementwise) and exp.fn == "exp":
        return exp.arg
    return None


def _recognise_softmax(factors: list[Expr], used: RulesUsed) -> list[Expr]:
    for k, factor in enumerate(factors):
        arg = _softmax_normaliser(factor)
        if arg is None:
            continue
        exp = Elementwise("exp", arg, arg.shape)
        for j, other in enumerate(factors):
            if other == exp:
                replacement: Expr = Softmax(arg, arg.shape)
            elif isinstance(other, Transpose) and other.arg == exp:
                replacement = transpose(Softmax(arg, arg.shape))
            else:
                continue
            used.note(RuleId.SOFTMAX_DEFINITION)
            rest = [f for i, f in enumerate(factors) if i not in (j, k)]
            rest.insert(j if j < k else j - 1, replacement)
            return _recognise_softmax(rest, used)
    return factors


def _is_one_hot(expr: Expr) -> bool:
    return isinstance(expr, Symbol) and ONE_HOT in expr.props


def _drop_one_hot_sums(factors: list[Expr], used: RulesUsed) -> list[Expr]:
    """``y^T 1 = 1`` and ``1^T y = 1`` for a one-hot vector y."""
    # scalars commute, so only the order of the matrix factors matters
    positions = [i for i, f in enumerate(factors) if not f.is_scalar]
    for k, next_k in zip(positions, positions[1:]):
        a, b = factors[k], factors[next_k]
        pair = (
            isinstance(a, Transpose) and _is_one_hot(a.arg) and isinstance(b, Ones) and b.shape[1] == 1
        ) or (isinstance(b, Symbol) and _is_one_hot(b) and isinstance(a, Ones) and a.shape[0] == 1)
        if pair:
            used.note(RuleId.ONE_HOT)
            rest = [f for i, f in enumerate(factors) if i not in (k, next_k)]
            return _drop_one_hot_sums(rest, used)
    return factors


def _cancel_inverses(factors: list[Expr]) -> list[Expr]:
    """``A A^{-1} = I`` between neighbours."""
    for k in range(len(factors) - 1):
        a, b = factors[k], factors[k + 1]
        if (isinstance(b, Inverse) and b.arg == a) or (isinstance(a, Inverse) and a.arg == b):
            rest = factors[:k] + factors[k + 2 :]
            if not any(not f.is_scalar for f in rest):
                rest = rest + [Identity(a.shape)]
            return _cancel_inverses(rest)
    return factors


def _sigmoid_argument(factor: Expr, partner: Expr | None) -> Expr | None:
    """``(1 + exp(-u))^{-1}`` alone, or ``(1 + exp(u))^{-1}`` next to ``exp(u)``:
    both are σ(u).  Returns u."""
    if not (isinstance(factor, Power) and factor.exponent == -1 and isinstance(factor.base, Add)):
        return None
    terms = factor.base.terms
    if len(terms) != 2 or num(1) not in terms:
        return None
    (exp,) = [t for t in terms if t != num(1)]
    if not (isinstance(exp, Elementwise) and exp.fn == "exp"):
        return None
    if partner is None:
        coefficient, scalars, _ = split_term(exp.arg)
        if coefficient < 0:
            return mul(num(-coefficient), *(exp.arg.factors[1:] if isinstance(exp.arg, MatMul) else ()))
        return None
    return exp.arg if partner == exp else None


def _recognise_sigmoid(factors: list[Expr], used: RulesUsed) -> list[Expr]:
    for k, factor in enumerate(factors):
        for j, partner in enumerate(factors):
            u = _sigmoid_argument(factor, partner) if j != k else None
            if u is not None:
                used.note(RuleId.SIGMOID_DEFINITION)
                rest = [f for i, f in enumerate(factors) if i not in (j, k)]
                return _recognise_sigmoid([Elementwise("sigma", u, u.shape), *rest], used)
        u = _sigmoid_argument(factor, None)
        if u is not None:
            used.note(RuleId.SIGMOID_DEFINITION)
            factors = factors[:k] + [Elementwise("sigma", u, u.shape)] + factors[k + 1 :]
            return _recognise_sigmoid(factors, used)
    return factors


def _one_plus_exp(expr: Expr) -> Expr | None:
    """If ``expr`` is ``1 + exp(u)`` (elementwise, ones), return u."""
    if not isinstance(expr, Add) or len(expr.terms) != 2:
        return None
    ones = [t for t in expr.terms if isinstance(t, Ones) or t == num(1)]
    exps = [t for t in expr.terms if isinstance(t, Elementwise) and t.fn == "exp"]
    if len(ones) == 1 and len(exps) == 1:
        return exps[0].arg
    return None


def _cancel_entrywise(node: Expr, used: RulesUsed) -> Expr:
    """Entry by entry, ⊙ and ⊘ are multiplication and division, so a chain of
    them over same-sized operands is a monomial: collect each operand's power and
    write what is left, ``(1 ⊘ (x ⊘ y)) ⊘ y = 1 ⊘ x``.  Only when something
    cancels (otherwise the author's order stays)."""
    shape = node.shape
    if shape == SCALAR:
        return node
    powers: dict[Expr, int] = {}
    occurrences = 0

    def collect(expr: Expr, sign: int) -> None:
        nonlocal occurrences
        if isinstance(expr, Hadamard) and expr.left.shape == shape and expr.right.shape == shape:
            collect(expr.left, sign)
            collect(expr.right, sign)
        elif isinstance(expr, HadamardDiv) and expr.left.shape == shape and expr.right.shape == shape:
            collect(expr.left, sign)
            collect(expr.right, -sign)
        elif not (isinstance(expr, Ones) and expr.shape == shape):
            occurrences += 1
            powers[expr] = powers.get(expr, 0) + sign

    collect(node, 1)
    if sum(abs(p) for p in powers.values()) == occurrences:
        return node  # nothing cancels
    above = [atom for atom, p in powers.items() for _ in range(p)]
    below = [atom for atom, p in powers.items() for _ in range(-p)]
    numerator: Expr = Ones(shape)
    for atom in above:
        numerator = hadamard(numerator, atom)
    if not below:
        result = numerator
    else:
        denominator = below[0]
        for atom in below[1:]:
            denominator = hadamard(denominator, atom)
        result = HadamardDiv(numerator, denominator, shape)
    used.note(RuleId.SIMPLIFY)
    return result


def _recognise_elementwise_sigmoid(node: Expr, used: RulesUsed) -> Expr:
    """``(1 ⊘ (1 + exp(u))) ⊙ exp(u)`` and ``exp(u) ⊘ (1 + exp(u))`` are σ(u)."""
    if isinstance(node, HadamardDiv):
        u = _one_plus_exp(node.right)
        if u is not None and node.left == Elementwise("exp", u, u.shape):
            used.note(RuleId.SIGMOID_DEFINITION)
            return Elementwise("sigma", u, u.shape)
        return node
    assert isinstance(node, Hadamard)
    for div, other in ((node.left, node.right), (node.right, node.left)):
        if isinstance(div, HadamardDiv) and isinstance(div.left, Ones):
            u = _one_plus_exp(div.right)
            if u is not None and other == Elementwise("exp", u, u.shape):
                used.note(RuleId.SIGMOID_DEFINITION)
                return Elementwise("sigma", u, u.shape)
    return node


def _scalars_first(factors: list[Expr]) -> list[Expr]:
    """Scalars commute: write them in front, equal ones as a power (y y = y^2)."""
    scalars = [f for f in factors if f.shape == SCALAR]
    if len(scalars) == len(factors):
        return factors
    matrices = [f for f in factors if f.shape != SCALAR]
    merged: list[Expr] = []
    for s in scalars:
        for i, m in enumerate(merged):
            base, exponent = (m.base, m.exponent) if isinstance(m, Power) else (m, _ONE)
            s_base, s_exp = (s.base, s.exponent) if isinstance(s, Power) else (s, _ONE)
            if base == s_base and not isinstance(base, Number):
                merged[i] = power(base, exponent + s_exp)
                break
        else:
            merged.append(s)
    return merged + matrices


def _merge_powers(factors: list[Expr]) -> list[Expr]:
    """``X X = X^2``, ``X^2 X = X^3`` for square neighbours."""
    out: list[Expr] = []
    for factor in factors:
        rows, cols = shape = factor.shape
        if out and rows == cols and shape != SCALAR:
            last = out[-1]
            base, k = (last.base, last.exponent) if isinstance(last, Power) else (last, _ONE)
            f_base, f_k = (factor.base, factor.exponent) if isinstance(factor, Power) else (factor, _ONE)
            if base == f_base and not base.is_scalar:
                out[-1] = power(base, k + f_k)
                continue
        out.append(factor)
    return out


def _merge_ones(factors: list[Expr]) -> list[Expr]:
    """``1_m 1_n^T = 1_{m×n}`` and ``1^T 1 = n``."""
    for k in range(len(factors) - 1):
        a, b = factors[k], factors[k + 1]
        if isinstance(a, Ones) and isinstance(b, Ones):
            if a.shape[0] == 1 and b.shape[1] == 1:
                merged: Expr = DimValue(a.shape[1]) if a.shape[1] != 1 else num(1)
            else:
                merged = Ones((a.shape[0], b.shape[1]))
            return _merge_ones(factors[:k] + [merged] + factors[k + 2 :])
    return factors


def simplify_product(expr: MatMul, used: RulesUsed) -> Expr:
    # each rewrite is tried only when a factor it needs is there (cheap to see)
    # (the factors' classes are looked at once, and again only after a change;
    # each rule gives back the list it was given when it changes nothing)
    factors = list(expr.factors)
    present = {type(f) for f in factors}
    if Inverse in present:
        factors = _cancel_inverses(factors)
        present = {type(f) for f in factors}
    if Ones in present:
        factors = _merge_ones(factors)
    if len(factors) > 1:
        merged = _merge_powers(factors)
        if len(merged) != len(factors):
            present = {type(f) for f in merged}
        factors = merged
    if Ones in present:
        before = factors
        factors = _drop_one_hot_sums(factors, used)
        if factors is not before:
            present = {type(f) for f in factors}
    if Power in present:
        factors = _recognise_softmax(factors, used)
        factors = _recognise_sigmoid(factors, used)
        present = {type(f) for f in factors}
    factors = _scalars_first(factors)
    if Add in present:
        factors = _flip_negative_sums(factors)
    if _same(factors, expr.factors) and is_tidy(expr):
        return expr  # no rule applied: mul would build the product anew, equal
    return mul(*factors) if factors else num(1)


def _same(factors: list[Expr], original: tuple[Expr, ...]) -> bool:
    """Whether ``factors`` are the original factors themselves, in order."""
    if len(factors) != len(original):
        return False
    for new, old in zip(factors, original):  # noqa: SIM110 - a loop: all() of a generator is slower here
        if new is not old:
            return False
    return True


def _flip_negative_sums(factors: list[Expr]) -> list[Expr]:
    """``-c(-A - B) = c(A + B)``: a sum whose terms are all negative gives its
    sign to the product's number."""
    out = list(factors)
    for i, f in enumerate(out):
        if isinstance(f, Add) and all(split_term(t)[0] < 0 for t in f.terms):
            out[i] = add(*(mul(num(-1), t) for t in f.terms))
            out.insert(0, num(-1))
    return out


# --------------------------------------------------------------------------- sums


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
        return _ONE, (), (term,)
    memo = current_memo()
    if memo is not None:
        entry = memo.splits.get(id(term))
        if entry is not None:
            return entry[1]
    coefficient = _ONE
    scalars: list[Expr] = []
    matrices: list[Expr] = []
    matrix_term = term.shape != SCALAR
    for factor in term.factors:  # type: ignore[attr-defined]
        if type(factor) is Number:
            value = factor.value
            coefficient = value if coefficient is _ONE else coefficient * value
        elif matrix_term and factor.shape == SCALAR:
            scalars.append(factor)
        else:
            matrices.append(factor)
    split = (coefficient, tuple(scalars), tuple(matrices))
    if memo is not None:
        memo.splits[id(term)] = (term, split)
    return split


_ONE = Fraction(1)


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
        coefficient, scalars, matrices = split_term(term)
        kind = type(term)
        if not scalars and len(matrices) == 1 and kind is not MatMul:
            key = matrices[0] if kind is not Zeros else mul(term)  # mul(x) is x
        elif coefficient is _ONE and is_tidy(term) and _scalars_lead(term, len(scalars)):
            key = term  # mul would give it back
        else:
            key = mul(*scalars, *matrices) if (scalars or matrices) else num(1)
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
        if total is not _ONE and total == 0:  # (Fraction comparisons are slow)
            continue
        if kept is None:
            # 1·k is k itself (k came from mul, so mul would rebuild it equal)
            kept = key if total is _ONE or total == 1 else mul(num(total), key)
        merged.append(kept)
    return merged


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
    for factor in factors[start : start + count]:  # noqa: SIM110 - (as in _same)
        if factor.shape != SCALAR:
            return False
    return True


def _rank(term: Expr) -> tuple[bool, bool]:
    """(negative, a lone transposed factor): the order of ``order_terms``."""
    coefficient, _, matrices = split_term(term)
    transposed_symbol = len(matrices) == 1 and type(matrices[0]) is Transpose
    return (coefficient is not _ONE and coefficient.numerator < 0, transposed_symbol)  # (without Fraction.__lt__)


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
    if nested and not all(c is _ONE or c == 1 for c, _, _ in parts):  # (all 1: nothing to give up)
        magnitudes = {abs(c) for c, _, _ in parts}
        if len(magnitudes) == 1:
            (magnitude,) = magnitudes
            sign = -1 if all(c < 0 for c, _, _ in parts) else 1
            common = magnitude * sign
            if common != 1:
                used.note(RuleId.SIMPLIFY)
                scaled = [mul(num(c / common), *s, *m) for c, s, m in parts]
                return mul(num(common), factor_terms(order_terms(scaled), used, nested=True))
    # a common scalar factor (not a number)
    first_scalars = parts[0][1]
    for scalar in first_scalars:
        if all(scalar in s for _, s, _ in parts[1:]):
            used.note(RuleId.SIMPLIFY)
            inner_terms = []
            for c, s, m in parts:
                rest = list(s)
                rest.remove(scalar)
                inner_terms.append(mul(num(c), *rest, *m))
            return mul(scalar, factor_terms(order_terms(inner_terms), used))
    # a common last or first matrix factor, each term keeping at least one
    # (or each keeping only scalars: σ(1 - y) x - (1 - σ) y x = (…) x)
    lengths = [len(m) for _, _, m in parts]
    singles = all(n == 1 for n in lengths) and all(s or (c is not _ONE and c != 1) for c, s, _ in parts)
    if singles and len({m[0] for _, _, m in parts}) == 1:
        used.note(RuleId.SIMPLIFY)
        last = parts[0][2][0]
        scalar_terms = [mul(num(c), *s) for c, s, _ in parts]
        return mul(factor_terms(order_terms(scalar_terms), used, nested=True), last)
    long_parts = sum(1 for n in lengths if n >= 2)
    if long_parts == len(parts):
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
    # a common Hadamard operand: A ⊙ S + B ⊙ S = (A + B) ⊙ S
    hadamards = [m[0] for _, s, m in parts if len(m) == 1 and isinstance(m[0], Hadamard) and not s]
    if len(hadamards) == len(parts):
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
    if long_parts < 2:
        return add(*terms)  # nothing left that two terms could share
    # a last factor shared by some of the terms: A x + B x - b = (A + B) x - b
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
    # a first factor shared by some of the terms: X A + X B + C X = X(A + B) + C X
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
    return add(*terms)


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


def _commutative_algebra(expr: Add, used: RulesUsed) -> Expr:
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


#: the most terms a sum may expand to for _commutative_algebra to try it
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
    algebra = _commutative_algebra(expr, used)
    if not isinstance(algebra, Add):
        return algebra
    expr = algebra
    terms = merge_like_terms(_merge_diagonals(list(expr.terms)))
    if len(terms) < len(expr.terms):
        used.note(RuleId.SIMPLIFY)
    if not terms:
        return num(0) if expr.is_scalar else Zeros(expr.shape)
    result = factor_terms(order_terms(terms), used)
    if type(result) is Add and result.shape == expr.shape and _same(list(result.terms), expr.terms):
        return expr  # nothing changed: the sum itself, not an equal copy
    return result


# --------------------------------------------------------------------------- sums over an index


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


# --------------------------------------------------------------------------- definitions


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
        if Norm in kinds(d.expr)
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


# --------------------------------------------------------------------------- the whole pass


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
    rebuilt = node
    new_kids = [_simplify_pass(k, noted, memo) for k in kids]
    for new, old in zip(new_kids, kids):
        if new is not old:
            rebuilt = rebuild(node, tuple(new_kids))
            break
    result = _local(rebuilt, noted)
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


def _local(node: Expr, used: RulesUsed) -> Expr:
    """One node's own rewrites (its children are already simplified)."""
    rules = _LOCAL_RULES.get(type(node))
    return rules(node, used) if rules is not None else node


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
    cancelled = _cancel_entrywise(node, used)
    if isinstance(cancelled, (Hadamard, HadamardDiv)):
        return _recognise_elementwise_sigmoid(cancelled, used)
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
