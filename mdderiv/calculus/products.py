"""Products: inverses cancelled, powers and ones merged, scalars in front,
and the functions a product spells out recognised (``exp(a) / 1^T exp(a)``
is ``softmax(a)``, ``(1 + exp(-u))^{-1}`` is ``σ(u)``, ``y^T 1 = 1`` for
one-hot ``y``); entrywise (⊙, ⊘) chains cancelled.  Part of
:func:`~.simplify.simplify`; each rewrite notes its rule id in ``used``."""

from __future__ import annotations

from ..expr import (
    ONE_HOT,
    SCALAR,
    Add,
    DimValue,
    Elementwise,
    Expr,
    Hadamard,
    HadamardDiv,
    Identity,
    Inverse,
    MatMul,
    Number,
    Ones,
    Power,
    Softmax,
    Symbol,
    Transpose,
    add,
    hadamard,
    is_tidy,
    mul,
    num,
    power,
    transpose,
)
from ..rules import RuleId
from .citations import RulesUsed
from .sums import ONE, split_term, unchanged


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


def cancel_entrywise(node: Expr, used: RulesUsed) -> Expr:
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


def recognise_elementwise_sigmoid(node: Expr, used: RulesUsed) -> Expr:
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
            base, exponent = (m.base, m.exponent) if isinstance(m, Power) else (m, ONE)
            s_base, s_exp = (s.base, s.exponent) if isinstance(s, Power) else (s, ONE)
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
            base, k = (last.base, last.exponent) if isinstance(last, Power) else (last, ONE)
            f_base, f_k = (factor.base, factor.exponent) if isinstance(factor, Power) else (factor, ONE)
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
    if unchanged(factors, expr.factors) and is_tidy(expr):
        return expr  # no rule applied: mul would build the product anew, equal
    return mul(*factors) if factors else num(1)


def _flip_negative_sums(factors: list[Expr]) -> list[Expr]:
    """``-c(-A - B) = c(A + B)``: a sum whose terms are all negative gives its
    sign to the product's number."""
    out = list(factors)
    for i, f in enumerate(out):
        if isinstance(f, Add) and all(split_term(t)[0] < 0 for t in f.terms):
            out[i] = add(*(mul(num(-1), t) for t in f.terms))
            out.insert(0, num(-1))
    return out
