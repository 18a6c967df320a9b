"""Transposes: which expressions are symmetric, and ``expr^T`` pushed to the
leaves (``(b a^T)^T = a b^T``) as far as that makes it simpler.  Part of
:func:`~.simplify.simplify`; each rewrite notes its rule id in ``used``, the
step's :class:`RulesUsed`."""

from __future__ import annotations

from ..expr import (
    SCALAR,
    Add,
    Commutation,
    Diag,
    Differential,
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
    Number,
    Ones,
    Power,
    Shape,
    Symbol,
    Transpose,
    Zeros,
    add,
    hadamard,
    map_tree,
    mul,
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


# --------------------------------------------------------------------------- pushing


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
