"""Differentials: one rule per operation (seed 001, "运算法则").

``differential(expr, active)`` returns ``d(expr)`` as an expression in which
the differentials ``dX`` of the *active* symbols appear linearly, or ``None``
when ``expr`` is constant (every other symbol has zero differential).  It
notes the rules it uses in ``used`` (the step's :class:`RulesUsed`), which the
step then cites.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from ..budget import check_time
from ..errors import DeriveError
from ..expr import (
    Add,
    Binary,
    Commutation,
    Constant,
    Det,
    Diag,
    Differential,
    DimValue,
    Elementwise,
    Expr,
    GradientName,
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
    Softmax,
    Symbol,
    Trace,
    Transpose,
    Unvec,
    Vec,
    Zeros,
    add,
    elementwise,
    hadamard,
    inverse,
    mul,
    neg,
    nodes,
    num,
    power,
    scale,
    sub,
    trace,
    transpose,
)
from ..functions import FUNCTIONS, MATRIX_READING
from ..rules import RuleId
from .citations import UNCITED, RulesUsed
from .memo import differential_of
from .transposes import commute

MaybeExpr = Expr | None


def differential(expr: Expr, active: frozenset[Symbol], used: RulesUsed) -> MaybeExpr:
    """``d(expr)`` with only the ``active`` symbols varying."""
    check_time()
    handler = _HANDLERS.get(type(expr))
    if handler is None:
        raise DeriveError(f"the engine has no differential rule for {type(expr).__name__}")
    return handler(expr, active, used)


def _constant(expr: Expr, active: frozenset[Symbol], used: RulesUsed) -> MaybeExpr:
    return None


def _symbol(expr: Symbol, active: frozenset[Symbol], used: RulesUsed) -> MaybeExpr:
    return differential_of(expr) if expr in active else None


def _add(expr: Add, active: frozenset[Symbol], used: RulesUsed) -> MaybeExpr:
    parts = [d for d in (differential(t, active, used) for t in expr.terms) if d is not None]
    if not parts:
        return None
    if len(expr.terms) > 1:
        used.note(RuleId.SUM_RULE)
    return add(*parts)


def _matmul(expr: MatMul, active: frozenset[Symbol], used: RulesUsed) -> MaybeExpr:
    factors = expr.factors
    terms: list[Expr] = []
    for j, factor in enumerate(factors):
        d = differential(factor, active, used)
        if d is not None:
            terms.append(mul(*factors[:j], d, *factors[j + 1 :]))
    if not terms:
        return None
    non_number = [f for f in factors if not isinstance(f, Number)]
    if len(non_number) > 1:
        used.note(RuleId.PRODUCT_RULE)
    return add(*terms)


def _transpose(expr: Transpose, active: frozenset[Symbol], used: RulesUsed) -> MaybeExpr:
    d = differential(expr.arg, active, used)
    if d is None:
        return None
    used.note(RuleId.TRANSPOSE_RULE)
    return transpose(d)


def _inverse(expr: Inverse, active: frozenset[Symbol], used: RulesUsed) -> MaybeExpr:
    d = differential(expr.arg, active, used)
    if d is None:
        return None
    used.note(RuleId.INVERSE_RULE)
    return neg(mul(expr, d, expr))


def _det(expr: Det, active: frozenset[Symbol], used: RulesUsed) -> MaybeExpr:
    d = differential(expr.arg, active, used)
    if d is None:
        return None
    used.note(RuleId.DET_RULE)
    return mul(expr, trace(mul(inverse(expr.arg), d)))


def _trace(expr: Trace, active: frozenset[Symbol], used: RulesUsed) -> MaybeExpr:
    arg = expr.arg
    if isinstance(arg, MatrixFunction):
        return _trace_of_matrix_function(arg, active, used)
    if any(type(node) is MatrixFunction for node in nodes(arg)):  # one walk; most traces hold none
        if isinstance(arg, MatMul) and isinstance(arg.factors[0], Number):
            # tr(c f(X)) = c tr f(X): the number leaves the trace first
            return differential(trace(arg), active, used)
        if isinstance(arg, Add):
            # tr(A + f(X)) = tr A + tr f(X): a matrix function is derived under its own trace
            used.note(RuleId.TRACE_LINEAR)
            return differential(add(*(trace(term) for term in arg.terms)), active, used)
        if _varies_through_matrix_function(arg, active):
            # tr(g(X) f(X)): each factor's differential is carried to the end of the
            # product by the cyclic property, where a matrix function meets the
            # factors that commute with its argument
            used.note(RuleId.TRACE_RULE)
            return _under_trace(None, arg, active, used)
    d = differential(expr.arg, active, used)
    if d is None:
        return None
    used.note(RuleId.TRACE_RULE)
    return trace(d)


def matrix_function_derivative(expr: MatrixFunction) -> Expr:
    """``f'(A)`` of a matrix function ``f(A)``, as a matrix function of ``A``:
    the registry's, or for a power ``p A^{p-1}``."""
    a = expr.arg
    function = FUNCTIONS.get(expr.fn)
    if function is not None and function.matrix_derivative is not None:
        return function.matrix_derivative(a)
    p = expr.exponent
    lower = p - 1
    if lower == -1:
        derivative = inverse(a)
    elif lower.denominator == 1:
        derivative = power(a, lower)
    else:
        derivative = MatrixFunction("pow", a, a.shape, lower)
    return mul(num(p), derivative)


def _trace_of_matrix_function(expr: MatrixFunction, active: frozenset[Symbol], used: RulesUsed) -> MaybeExpr:
    """``d tr f(A) = tr(f'(A) dA)``: the power series of f, under the trace's
    cyclic property, gives each term k·A^{k-1} dA."""
    if _varies_through_matrix_function(expr.arg, active):
        # tr log(I + e^X): f'(A) = A^{-1} is a function of X too, and meets d e^X
        # under the same trace
        used.note(RuleId.MATRIX_FUNCTION_RULE)
        return _under_trace(matrix_function_derivative(expr), expr.arg, active, used)
    d = differential(expr.arg, active, used)
    if d is None:
        return None
    used.note(RuleId.MATRIX_FUNCTION_RULE)
    return trace(mul(matrix_function_derivative(expr), d))


# ------------------------------------------------ matrix functions times a commuting factor


def _varies_through_matrix_function(expr: Expr, active: frozenset[Symbol]) -> bool:
    """Whether a matrix function in ``expr`` has an argument that varies."""
    return any(
        isinstance(node, MatrixFunction) and any(isinstance(s, Symbol) and s in active for s in node.arg.walk())
        for node in expr.walk()
    )


def _product(*factors: Expr | None) -> Expr | None:
    """The product of the factors, None standing for I (and for an empty product)."""
    parts = [f for f in factors if f is not None]
    return mul(*parts) if parts else None


def _traced(cofactor: Expr | None, d: Expr) -> Expr:
    """``tr(C dU)`` (``tr(C)·du`` for a scalar ``du``)."""
    if d.is_scalar:
        return d if cofactor is None else mul(trace(cofactor), d)
    return trace(d if cofactor is None else mul(cofactor, d))


def _under_trace(cofactor: Expr | None, term: Expr, active: frozenset[Symbol], used: RulesUsed) -> MaybeExpr:
    """``d tr(C · term)`` with the cofactor ``C`` held (None stands for I),
    where ``term`` holds a matrix function of a varying argument.  A matrix
    function's differential is read through ``tr(C d f(A)) = tr(C f'(A) dA)``,
    true when ``C`` commutes with ``A`` (the power series' terms
    ``C A^j dA A^{k-1-j}`` all become ``C A^{k-1} dA`` by the cyclic
    property); elsewhere ``d f(A)`` has no closed form and is refused."""
    check_time()
    if term.is_scalar or not _varies_through_matrix_function(term, active):
        d = differential(term, active, used)
        return None if d is None else _traced(cofactor, d)
    if isinstance(term, MatrixFunction):
        if cofactor is not None and not commute(cofactor, term.arg):
            raise _matrix_function_refused(term)
        used.note(RuleId.MATRIX_FUNCTION_RULE)
        if cofactor is not None and not cofactor.is_scalar:
            used.note(RuleId.COMMUTING_FACTOR)
        return _under_trace(_product(cofactor, matrix_function_derivative(term)), term.arg, active, used)
    if isinstance(term, Add):
        parts = [d for d in (_under_trace(cofactor, t, active, used) for t in term.terms) if d is not None]
        used.note(RuleId.SUM_RULE)
        return add(*parts) if parts else None
    if isinstance(term, MatMul):
        # tr(C F_1…F_k): the differential of F_j, with F_{j+1}…F_k C F_1…F_{j-1} before it
        factors = term.factors
        parts = []
        for j, factor in enumerate(factors):
            if isinstance(factor, Number):
                continue
            rotated = _product(*factors[j + 1 :], cofactor, *factors[:j])
            d = _under_trace(rotated, factor, active, used)
            if d is not None:
                parts.append(d)
        used.note(RuleId.PRODUCT_RULE)
        used.note(RuleId.TRACE_CYCLIC)
        return add(*parts) if parts else None
    if isinstance(term, Inverse):
        # tr(C d A^{-1}) = -tr(A^{-1} C A^{-1} dA)
        used.note(RuleId.INVERSE_RULE)
        inv = inverse(term.arg)
        return _under_trace(neg(mul(inv, inv) if cofactor is None else mul(inv, cofactor, inv)), term.arg, active, used)
    if isinstance(term, Power) and term.exponent.denominator == 1:
        k = int(term.exponent)
        base = term.base
        if k < 0:
            return _under_trace(cofactor, inverse(power(base, -k)), active, used)  # X^{-k} = (X^k)^{-1}
        # tr(C d A^k) = Σ_j tr(A^{k-1-j} C A^j dA)
        used.note(RuleId.MATRIX_POWER_RULE)
        parts = []
        for j in range(k):
            d = _under_trace(_product(power(base, k - 1 - j), cofactor, power(base, j)), base, active, used)
            if d is not None:
                parts.append(d)
        return add(*parts) if parts else None
    if isinstance(term, Transpose):
        # tr(C dU^T) = tr(C^T dU)
        used.note(RuleId.TRANSPOSE_RULE)
        return _under_trace(None if cofactor is None else transpose(cofactor), term.arg, active, used)
    d = differential(term, active, used)  # refuses the matrix function inside
    return None if d is None else _traced(cofactor, d)


class MatrixFunctionRefused(DeriveError):
    """The differential of a matrix function where it has no closed form in dX
    (the Hessian adds why it needed one)."""


def _matrix_function_refused(expr: MatrixFunction) -> MatrixFunctionRefused:
    if expr.fn in MATRIX_READING:
        function = FUNCTIONS[expr.fn]
        what = function.matrix_function
        elementwise_hint = (
            f"if you mean {function.latex.head} of each entry, add the option 'functions: elementwise' to the block"
        )
    else:
        what = f"matrix power ^{expr.exponent}"
        elementwise_hint = "for a power of each entry write a Hadamard product such as X \\odot X"
    return MatrixFunctionRefused(
        f"a {what} of a square matrix is read as the matrix function, as in mathematics; "
        "mdderiv derives it only under a trace, alone or times functions of the same matrix, which commute "
        "with it (d tr(g(X) f(X)) = tr(g(X) f'(X) dX)); elsewhere, as in tr(A f(X)) or outside a trace, "
        f"d f(X) needs the Fréchet derivative of f, which has no closed form in dX; {elementwise_hint}"
    )


def _matrix_function(expr: MatrixFunction, active: frozenset[Symbol], used: RulesUsed) -> MaybeExpr:
    if differential(expr.arg, active, UNCITED) is None:
        return None
    # outside a trace, d f(X) has no closed form in dX (X and dX need not commute)
    raise _matrix_function_refused(expr)


def _power(expr: Power, active: frozenset[Symbol], used: RulesUsed) -> MaybeExpr:
    d = differential(expr.base, active, used)
    if d is None:
        return None
    base, p = expr.base, expr.exponent
    if base.is_scalar:
        used.note(RuleId.POWER_RULE)
        return mul(num(p), power(base, p - 1), d)
    # integer power of a square matrix
    used.note(RuleId.MATRIX_POWER_RULE)
    k = int(p)
    if k < 0:
        # X^{-k} = (X^k)^{-1}: the inverse rule on top of the positive power
        used.note(RuleId.INVERSE_RULE)
        positive = _power(Power(base, Fraction(-k), base.shape), active, used)
        assert positive is not None
        return neg(mul(expr, positive, expr))
    terms = [mul(power(base, j), d, power(base, k - 1 - j)) for j in range(k)]
    return add(*terms)


def _two_sided(
    expr: Binary,
    active: frozenset[Symbol],
    used: RulesUsed,
    rule_id: RuleId,
    through_left: Callable[[Expr], Expr],
    through_right: Callable[[Expr], Expr],
) -> MaybeExpr:
    """The product rule of a binary operator: ``d(A ∘ B) = left(dA) + right(dB)``."""
    dl = differential(expr.left, active, used)
    dr = differential(expr.right, active, used)
    if dl is None and dr is None:
        return None
    used.note(rule_id)
    terms: list[Expr] = []
    if dl is not None:
        terms.append(through_left(dl))
    if dr is not None:
        terms.append(through_right(dr))
    return add(*terms)


def _hadamard(expr: Hadamard, active: frozenset[Symbol], used: RulesUsed) -> MaybeExpr:
    return _two_sided(
        expr, active, used, RuleId.HADAMARD_RULE,
        lambda dl: hadamard(dl, expr.right),
        lambda dr: hadamard(expr.left, dr),
    )


def _hadamard_div(expr: HadamardDiv, active: frozenset[Symbol], used: RulesUsed) -> MaybeExpr:
    square = Hadamard(expr.right, expr.right, expr.shape)
    return _two_sided(
        expr, active, used, RuleId.HADAMARD_DIV_RULE,
        lambda dl: HadamardDiv(dl, expr.right, expr.shape),
        lambda dr: neg(HadamardDiv(hadamard(expr.left, dr), square, expr.shape)),
    )


def _kron(expr: Kron, active: frozenset[Symbol], used: RulesUsed) -> MaybeExpr:
    return _two_sided(
        expr, active, used, RuleId.KRON_RULE,
        lambda dl: Kron(dl, expr.right, expr.shape),
        lambda dr: Kron(expr.left, dr, expr.shape),
    )


def _ones_like(expr: Expr) -> Expr:
    return Ones(expr.shape) if not expr.is_scalar else num(1)


def elementwise_derivative(fn: str, arg: Expr) -> tuple[Expr, bool]:
    """``f'(arg)`` and whether it is to be *divided* by (log, sqrt) rather than
    multiplied, from the function's entry in ``mdderiv.functions``."""
    entry = FUNCTIONS.get(fn)
    if entry is None:
        raise DeriveError(f"the engine has no derivative for the function {fn!r}")
    return entry.derivative(arg)


def _one_minus_sigmoid(expr: Expr) -> Expr | None:
    """``u`` when ``expr`` is ``1 - σ(u)``."""
    if isinstance(expr, Add) and len(expr.terms) == 2:
        ones = [t for t in expr.terms if t == num(1) or isinstance(t, Ones)]
        rest = [t for t in expr.terms if t not in ones]
        if len(ones) == 1 and len(rest) == 1:
            term = rest[0]
            if isinstance(term, MatMul) and term.factors[0] == num(-1) and len(term.factors) == 2:
                inner = term.factors[1]
                if isinstance(inner, Elementwise) and inner.fn == "sigma":
                    return inner.arg
    return None


def _log_sigmoid(expr: Elementwise, active: frozenset[Symbol], used: RulesUsed) -> MaybeExpr:
    """``d log σ(u) = (1 - σ(u)) du`` and ``d log(1 - σ(u)) = -σ(u) du``: the
    derivative σ' = σ(1 - σ) cancels the quotient, as a person would write it."""
    arg = expr.arg
    if isinstance(arg, Elementwise) and arg.fn == "sigma":
        u, factor = arg.arg, sub(_ones_like(arg.arg), arg)
    else:
        u_or_none = _one_minus_sigmoid(arg)
        if u_or_none is None:
            return None
        u, factor = u_or_none, neg(elementwise("sigma", u_or_none))
    du = differential(u, active, used)
    if du is None:
        return None
    used.note(RuleId.LOG_SIGMOID_RULE)
    if u.is_scalar:
        return mul(factor, du)
    coefficient = Fraction(1)
    if isinstance(factor, MatMul) and isinstance(factor.factors[0], Number):
        coefficient, factor = factor.factors[0].value, mul(*factor.factors[1:])
    return scale(coefficient, hadamard(factor, du))


def _one_plus_exp(expr: Expr) -> Expr | None:
    """``u`` when ``expr`` is ``1 + exp(u)`` (or ``𝟏 + exp(u)``), in either order."""
    if isinstance(expr, Add) and len(expr.terms) == 2:
        one, other = expr.terms if expr.terms[0] in (num(1), Ones(expr.shape)) else expr.terms[::-1]
        if one in (num(1), Ones(expr.shape)) and isinstance(other, Elementwise) and other.fn == "exp":
            return other.arg
    return None


def _elementwise(expr: Elementwise, active: frozenset[Symbol], used: RulesUsed) -> MaybeExpr:
    if expr.fn == "log":
        u = _one_plus_exp(expr.arg)
        if u is not None:  # log(1 + e^u) is softplus(u): its derivative is σ(u)
            return _elementwise(elementwise("softplus", u), active, used)
    if expr.fn == "log" and (
        (isinstance(expr.arg, Elementwise) and expr.arg.fn == "sigma") or _one_minus_sigmoid(expr.arg) is not None
    ):
        return _log_sigmoid(expr, active, used)
    if expr.fn == "log" and isinstance(expr.arg, Det):
        d = differential(expr.arg.arg, active, used)
        if d is None:
            return None
        used.note(RuleId.LOGDET_RULE)
        return trace(mul(inverse(expr.arg.arg), d))
    d = differential(expr.arg, active, used)
    if d is None:
        return None
    derivative, divide = elementwise_derivative(expr.fn, expr.arg)
    if isinstance(derivative, Zeros) or derivative == num(0):
        return None  # piecewise constant (sign, the indicator): no differential off its jumps
    used.note(RuleId.SCALAR_CHAIN if expr.arg.is_scalar else RuleId.ELEMENTWISE_RULE)
    own_rule = FUNCTIONS[expr.fn].rule  # the derivative a reader may not know by heart
    if own_rule is not None:
        used.note(own_rule)
    if expr.arg.is_scalar:
        if divide:
            return mul(power(derivative, -1), d)
        return mul(derivative, d)
    if divide:
        return HadamardDiv(d, derivative, expr.shape)
    coefficient = Fraction(1)
    if isinstance(derivative, MatMul) and isinstance(derivative.factors[0], Number):
        # keep a sign outside the Hadamard product: -(sin(U) ⊙ dU)
        coefficient = derivative.factors[0].value
        derivative = mul(*derivative.factors[1:])
    return scale(coefficient, hadamard(derivative, d))


def _softmax(expr: Softmax, active: frozenset[Symbol], used: RulesUsed) -> MaybeExpr:
    d = differential(expr.arg, active, used)
    if d is None:
        return None
    used.note(RuleId.SOFTMAX_RULE)
    s = expr
    jac = sub(Diag(s, (s.shape[0], s.shape[0])), mul(s, transpose(s)))
    return mul(jac, d)


def _norm(expr: Norm, active: frozenset[Symbol], used: RulesUsed) -> MaybeExpr:
    # norms are rewritten before differentiating (see rewrite.py); this keeps
    # the rule total for callers that differentiate a raw norm
    if expr.kind == NormKind.L1:
        return differential(mul(transpose(Ones(expr.arg.shape)), elementwise("abs", expr.arg)), active, used)
    if expr.kind == NormKind.NUCLEAR:
        from .rewrite import norm_as_power  # rewrite's module imports simplify, not this one

        return differential(norm_as_power(expr), active, used)
    inner = trace(mul(transpose(expr.arg), expr.arg))
    return differential(power(inner, Fraction(1, 2)), active, used)


def _linear(expr: Expr, active: frozenset[Symbol], used: RulesUsed) -> MaybeExpr:
    assert isinstance(expr, (Diag, Vec, Unvec))
    d = differential(expr.arg, active, used)
    if d is None:
        return None
    used.note(RuleId.LINEAR_RULE)
    return type(expr)(d, expr.shape)


def _indexed_sum(expr: IndexedSum, active: frozenset[Symbol], used: RulesUsed) -> MaybeExpr:
    d = differential(expr.body, active, used)
    if d is None:
        return None
    used.note(RuleId.LINEAR_RULE)
    if isinstance(d, MatMul) and isinstance(d.factors[0], Number):
        # a number comes out of the sum: Σ (-a_i) = -Σ a_i
        rest = mul(*d.factors[1:])
        return mul(d.factors[0], IndexedSum(expr.index, expr.upper, rest, expr.shape))
    return IndexedSum(expr.index, expr.upper, d, expr.shape)


def _differential(expr: Differential, active: frozenset[Symbol], used: RulesUsed) -> MaybeExpr:
    # d(dX) = 0: the differential of a fixed direction (second differentials)
    return None


#: (each handler takes its own node class, so the table's values are typed by their result)
_HANDLERS: dict[type, Callable[..., MaybeExpr]] = {
    Symbol: _symbol,
    Number: _constant,
    DimValue: _constant,
    Constant: _constant,
    Ones: _constant,
    Zeros: _constant,
    Identity: _constant,
    Commutation: _constant,
    GradientName: _constant,
    Differential: _differential,
    Add: _add,
    MatMul: _matmul,
    Transpose: _transpose,
    Inverse: _inverse,
    Det: _det,
    Trace: _trace,
    Power: _power,
    Hadamard: _hadamard,
    HadamardDiv: _hadamard_div,
    Kron: _kron,
    Elementwise: _elementwise,
    Softmax: _softmax,
    MatrixFunction: _matrix_function,
    Norm: _norm,
    Diag: _linear,
    Vec: _linear,
    Unvec: _linear,
    IndexedSum: _indexed_sum,
}

__all__ = ["differential", "elementwise_derivative"]
