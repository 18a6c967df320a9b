"""Trace tricks: bring ``dX`` to the right end of every term (seed 001, "迹技巧").

After differentiating, ``df`` is a sum of terms, each linear in one ``dX``.
``expand`` distributes the sums that contain a differential, so each term has
exactly one; ``left_form`` turns a scalar term into the ``L`` with
``term = tr(L dX)``, using a scalar's own trace, the transpose and cyclic
properties and the Hadamard swap ``tr(A^T (B ⊙ C)) = tr((A ⊙ B)^T C)``.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from ..budget import check_time
from ..errors import DeriveError
from ..expr import (
    SCALAR,
    Add,
    Diag,
    Differential,
    Elementwise,
    Expr,
    Hadamard,
    HadamardDiv,
    Identity,
    IndexedSum,
    Kron,
    MatMul,
    Number,
    Trace,
    Transpose,
    Unvec,
    Vec,
    unvec,
    add,
    hadamard,
    has_differential,
    is_tidy,
    mul,
    num,
    trace,
    transpose,
)
from ..rules import RuleId
from .citations import RulesUsed
from .products import simplify_product
from .simplify import pull_out_of_sum
from .transposes import push_transpose

# --------------------------------------------------------------------------- expansion


def expand(expr: Expr) -> list[Expr]:
    """The terms of ``expr`` with every sum that holds a differential
    distributed, so that each term holds exactly one."""
    if not has_differential(expr):
        return [expr]
    if isinstance(expr, Add):
        return [t for term in expr.terms for t in expand(term)]
    if isinstance(expr, MatMul):
        check_time()
        results: list[list[Expr]] = [[]]
        distributed = False
        for factor in expr.factors:
            # [factor] itself when it holds no differential (asked here: no call)
            options = expand(factor) if has_differential(factor) else None
            if options is None or (len(options) == 1 and options[0] is factor):
                for prefix in results:
                    prefix.append(factor)
                continue
            distributed = True
            results = [prefix + [option] for prefix in results for option in options]
        if not distributed and is_tidy(expr):
            return [expr]  # no sum to distribute: mul would rebuild it equal
        return [mul(*factors) for factors in results]
    if isinstance(expr, Transpose):
        return [transpose(t) for t in expand(expr.arg)]
    if isinstance(expr, Trace):
        return [trace(t) for t in expand(expr.arg)]
    if isinstance(expr, Hadamard):
        out: list[Expr] = []
        for left in expand(expr.left):
            for right in expand(expr.right):
                out.append(_hadamard_term(left, right))
        return out
    if isinstance(expr, HadamardDiv):
        return [
            _scaled(lambda t: HadamardDiv(t, expr.right, expr.shape), t) for t in expand(expr.left)
        ]
    if isinstance(expr, Kron):
        return [Kron(a, b, expr.shape) for a in expand(expr.left) for b in expand(expr.right)]
    if isinstance(expr, (Diag, Vec, Unvec)):
        return [type(expr)(t, expr.shape) for t in expand(expr.arg)]
    if isinstance(expr, IndexedSum):
        return [IndexedSum(expr.index, expr.upper, t, expr.shape) for t in expand(expr.body)]
    return [expr]


def _split_number(term: Expr) -> tuple[Fraction, Expr]:
    if isinstance(term, MatMul) and isinstance(term.factors[0], Number):
        return term.factors[0].value, mul(*term.factors[1:])
    return Fraction(1), term


def _scaled(build: Callable[[Expr], Expr], term: Expr) -> Expr:
    coefficient, rest = _split_number(term)
    return mul(num(coefficient), build(rest))


def _hadamard_term(left: Expr, right: Expr) -> Expr:
    cl, left = _split_number(left)
    cr, right = _split_number(right)
    return mul(num(cl * cr), hadamard(left, right))


# --------------------------------------------------------------------------- read-off form


def split_at_differential(term: Expr) -> tuple[list[Expr], list[Expr], Expr, list[Expr]]:
    """A product linear in one differential, as (scalar coefficients, the
    matrix factors before the one holding the differential, that factor, the
    matrix factors after it).  Scalars commute, so they are set aside."""
    factors = term.factors if type(term) is MatMul else (term,)
    coefficients: list[Expr] = []
    before: list[Expr] = []
    after: list[Expr] = []
    carrier: Expr | None = None
    for factor in factors:
        if has_differential(factor):
            if carrier is not None:
                carrier = None
                break
            carrier = factor
        elif factor.shape == SCALAR:
            coefficients.append(factor)
        elif carrier is None:
            before.append(factor)
        else:
            after.append(factor)
    if carrier is None:
        raise DeriveError("a term of the differential is not linear in the variable")
    return coefficients, before, carrier, after


class TraceForm:
    """Builds ``L`` with ``tr(M) = tr(L dX)`` and remembers the tricks used."""

    def __init__(self, used: RulesUsed) -> None:
        self.used = used

    def of_term(self, term: Expr) -> Expr:
        """``L`` for a scalar term of ``df``."""
        if not is_trace(term):
            self.used.note(RuleId.TRACE_SCALAR)
        return self.of_matrix(term)

    def of_matrix(self, m: Expr) -> Expr:
        check_time()
        coefficients, before, carrier, after = split_at_differential(m)

        if isinstance(carrier, Trace):
            # tr(R tr(A)) = tr(R) tr(A): the rest becomes a coefficient
            if before or after:
                return mul(*coefficients, trace(mul(*before, *after)), self.of_matrix(carrier.arg))
            return mul(*coefficients, self.of_matrix(carrier.arg))
        if carrier.is_scalar and not isinstance(carrier, Differential) and (before or after):
            # tr(R s) = s tr(R) for a scalar s
            rest = mul(*before, *after)
            return mul(*coefficients, trace(rest), self.of_matrix(carrier))
        if carrier.is_scalar and (before or after):
            # a scalar variable's dt between matrices: tr(B dt A) = tr(B A) dt
            rest = mul(*before, *after)
            self.used.note(RuleId.SCALAR_COMMUTE if rest.is_scalar else RuleId.TRACE_SCALAR_FACTOR)
            return mul(*coefficients, trace(rest))

        if after and before or after:
            self.used.note(RuleId.TRACE_CYCLIC)
        prefix = after + before  # tr(A F B) = tr(B A F)
        return self._with_prefix(coefficients, prefix, carrier)

    def _with_prefix(self, coefficients: list[Expr], prefix: list[Expr], carrier: Expr) -> Expr:
        if isinstance(carrier, Differential):
            if prefix:
                return mul(*coefficients, *prefix)  # the same as mul(*coefficients, mul(*prefix))
            if carrier.is_scalar:  # tr(dθ) for a scalar θ: the coefficient is 1
                return mul(*coefficients) if coefficients else num(1)
            return mul(*coefficients, Identity((carrier.shape[1], carrier.shape[1])))
        p = mul(*prefix) if prefix else None
        if isinstance(carrier, Transpose):
            # tr(P G^T) = tr(G P^T)
            self.used.note(RuleId.TRACE_TRANSPOSE)
            p_t = [transpose_keeping_sums(p)] if p is not None else []
            return self.of_matrix(mul(*coefficients, carrier.arg, *p_t))
        if isinstance(carrier, (Hadamard, HadamardDiv)):
            return self._hadamard(coefficients, p, carrier)
        if isinstance(carrier, IndexedSum):
            self.used.note(RuleId.TRACE_SUM)
            body = mul(p, carrier.body) if p is not None else carrier.body
            inner = self.of_matrix(body)
            summed = IndexedSum(carrier.index, carrier.upper, inner, inner.shape)
            return mul(*coefficients, pull_out_of_sum(summed))
        if isinstance(carrier, Diag):
            v = carrier.arg
            if v.shape[1] == 1:  # diag(v) is a matrix: tr(P diag(v)) = diag(P)^T v
                assert p is not None
                diagonal = Diag(p, (p.shape[0], 1))
                return self.of_matrix(mul(*coefficients, transpose(diagonal), v))
            # diag(V) is a vector: tr(p diag(V)) = tr(diag(p^T) V)
            if p is None:
                raise DeriveError("cannot read off a gradient through diag of a matrix here")
            return self.of_matrix(mul(*coefficients, Diag(push_transpose(p), (v.shape[0], v.shape[0])), v))
        if isinstance(carrier, Add):
            return add(*(self._with_prefix(coefficients, prefix, t) for t in carrier.terms))
        if isinstance(carrier, MatMul):
            return self.of_matrix(mul(*coefficients, *prefix, carrier))
        if isinstance(carrier, Kron):
            raise DeriveError(
                "the gradient through a Kronecker product has no closed form in this "
                "notation; differentiate with respect to a matrix inside it another way"
            )
        if isinstance(carrier, Vec):
            # p vec(M) = vec(vec^{-1}(p^T))^T vec(M) = tr(vec^{-1}(p^T)^T M)
            if p is None or p.shape[0] != 1:
                raise DeriveError("cannot bring dX out of vec(...) in a scalar objective")
            self.used.note(RuleId.VEC_INNER)
            back = unvec(push_transpose(p), carrier.arg.shape)
            return self.of_matrix(mul(*coefficients, transpose(back), carrier.arg))
        if isinstance(carrier, Elementwise):
            raise DeriveError(f"internal: differential left inside {carrier.fn}")
        raise DeriveError(f"cannot bring the differential out of {type(carrier).__name__}")

    def _hadamard(self, coefficients: list[Expr], p: Expr | None, carrier: Expr) -> Expr:
        assert isinstance(carrier, (Hadamard, HadamardDiv))
        self.used.note(RuleId.TRACE_HADAMARD)
        if isinstance(carrier, Hadamard):
            if has_differential(carrier.left):
                other, inner = carrier.right, carrier.left
            else:
                other, inner = carrier.left, carrier.right
        else:
            if has_differential(carrier.right):
                raise DeriveError("internal: differential in a denominator")
            other, inner = carrier.right, carrier.left
        # scalar factors (not plain numbers) go into P, where a normaliser
        # such as 1/(1^T exp(a)) can meet its exp(a) and become softmax(a)
        numbers = [c for c in coefficients if isinstance(c, Number)]
        scalars = [c for c in coefficients if not isinstance(c, Number)]
        if p is None:
            p = Identity(carrier.shape[::-1])
        p_full = mul(*scalars, p)
        if isinstance(p_full, MatMul):
            p_full = simplify_product(p_full, self.used)
        p_scalars = []
        if isinstance(p_full, MatMul):
            p_scalars = [f for f in p_full.factors if f.is_scalar]
            p_full = mul(*(f for f in p_full.factors if not f.is_scalar)) if not p_full.is_scalar else p_full
        p_t = push_transpose(p_full)
        if isinstance(carrier, Hadamard):
            combined = hadamard(p_t, other)
        else:
            combined = HadamardDiv(p_t, other, other.shape)
        return self.of_matrix(mul(*numbers, *p_scalars, transpose(combined), inner))


def is_trace(term: Expr) -> bool:
    """A trace, or scalars times one trace: already in the form the tricks need."""
    if isinstance(term, Trace):
        return True
    if isinstance(term, MatMul):
        traces = [f for f in term.factors if isinstance(f, Trace)]
        return len(traces) == 1 and all(f.is_scalar for f in term.factors)
    return False


def transpose_keeping_sums(expr: Expr) -> Expr:
    """P^T for the rotation: through products, but a sum stays ``(a - b)^T``
    as the author wrote it (pushing it in would only add transposes)."""
    if isinstance(expr, MatMul):
        return mul(*(transpose_keeping_sums(f) for f in reversed(expr.factors)))
    if isinstance(expr, Add):
        return transpose(expr)
    return push_transpose(expr)


def left_forms(terms: list[Expr], used: RulesUsed) -> list[Expr]:
    form = TraceForm(used)
    return [form.of_term(t) for t in terms]
