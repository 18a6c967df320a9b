"""Vectorisation: ``vec(term) = M vec(dX)`` for a term linear in ``dX``.

The second half of the method (矩阵求导术 下篇): ``vec(A dX B) = (B^T ⊗ A) vec(dX)``,
``vec(dX^T) = K vec(dX)`` with the commutation matrix K, and
``vec(U ⊙ V) = diag(vec U) vec(V)``.  For column vectors every vec is the
vector itself and the Kronecker products collapse, so ``dF = J dx`` reads off the
Jacobian directly.
"""

from __future__ import annotations

from ..budget import check_time
from ..errors import DeriveError
from ..expr import (
    Add,
    Commutation,
    Diag,
    Differential,
    Dim,
    Expr,
    Hadamard,
    HadamardDiv,
    Identity,
    IndexedSum,
    Kron,
    MatMul,
    Trace,
    Transpose,
    Vec,
    add,
    dim_product,
    has_differential,
    inverse,
    mul,
    transpose,
)
from ..rules import RuleId
from .citations import RulesUsed
from .transposes import push_transpose
from .trace import TraceForm, split_at_differential


def vec_of(expr: Expr) -> Expr:
    """``vec(expr)``; a column vector is its own vec."""
    if expr.shape[1] == 1:
        return expr
    if expr.shape[0] == 1:  # a row: vec(x^T) = x
        return push_transpose(expr)
    return Vec(expr, (dim_product(expr.shape[0], expr.shape[1]), 1))


def diag_of_vec(expr: Expr) -> Expr:
    v = vec_of(expr)
    return Diag(v, (v.shape[0], v.shape[0]))


def kron(left: Expr | None, right: Expr | None, left_size: Dim, right_size: Dim) -> Expr:
    """``left ⊗ right`` where None stands for an identity of the given size,
    with the collapses ``I_1 ⊗ A = A``, ``b ⊗ A = bA`` for a scalar b."""
    if left is None and right is None:
        n = dim_product(left_size, right_size)
        return Identity((n, n))
    if left is None:
        assert right is not None
        if left_size == 1:
            return right
        left = Identity((left_size, left_size))
    if right is None:
        if right_size == 1:
            return left
        right = Identity((right_size, right_size))
    if left.is_scalar:
        return mul(left, right)
    if right.is_scalar:
        return mul(right, left)
    shape = (dim_product(left.shape[0], right.shape[0]), dim_product(left.shape[1], right.shape[1]))
    return Kron(left, right, shape)


def transpose_through(expr: Expr) -> Expr:
    """``expr^T`` with the transpose pushed all the way down to the
    differential, so that vec can see ``dX^T`` (push_transpose stops where
    pushing would not simplify; here it must not stop)."""
    if not has_differential(expr):
        return push_transpose(expr)
    if isinstance(expr, Transpose):
        return expr.arg
    if isinstance(expr, Differential):
        return Transpose(expr, expr.shape[::-1])
    if isinstance(expr, MatMul):
        return mul(*(transpose_through(f) for f in reversed(expr.factors)))
    if isinstance(expr, Add):
        return add(*(transpose_through(t) for t in expr.terms))
    if isinstance(expr, Hadamard):
        return Hadamard(transpose_through(expr.left), transpose_through(expr.right), expr.shape[::-1])
    if isinstance(expr, HadamardDiv):
        return HadamardDiv(transpose_through(expr.left), transpose_through(expr.right), expr.shape[::-1])
    if isinstance(expr, Kron):
        return Kron(transpose_through(expr.left), transpose_through(expr.right), expr.shape[::-1])
    if isinstance(expr, IndexedSum):
        body = transpose_through(expr.body)
        return IndexedSum(expr.index, expr.upper, body, body.shape)
    if isinstance(expr, Diag) and expr.arg.shape[1] == 1:
        return expr  # a diagonal matrix is its own transpose
    if expr.is_scalar:
        return expr
    raise DeriveError(_not_vectorised(expr))


def _diag_times_a_vector(before: list[Expr], du: Expr, after: list[Expr]) -> list[Expr] | None:
    """``A diag(du) w R`` as ``A diag(w) du R`` for a vector ``w`` (the first factors after
    the diagonal, when they make a column), else ``R w^T diag(du) B`` as ``R du^T diag(w) B``:
    ``diag(du) w = du ⊙ w = diag(w) du``, and the differential, the vector ``du``, is no
    longer inside a diag (the Hessian of ``b^T softmax(z)`` meets ``diag(ds) b``)."""
    for j in range(1, len(after) + 1):
        w = mul(*after[:j])
        if w.shape[1] == 1:
            return [*before, diag_of_vec(w), du, *after[j:]]
    for j in range(len(before) - 1, -1, -1):
        w_row = mul(*before[j:])
        if w_row.shape[0] == 1:
            return [*before[:j], transpose(du), diag_of_vec(transpose(w_row)), *after]
    return None


def _not_vectorised(carrier: Expr) -> str:
    """The refusal when ``vec`` of a term cannot be written as a matrix times ``vec(dX)``:
    said in the reader's words, with what can be done instead."""
    where = {"Diag": "diag(…)", "Elementwise": "an entrywise function", "MatrixFunction": "a matrix function"}.get(
        type(carrier).__name__, type(carrier).__name__
    )
    return (
        f"mdderiv cannot write vec(d…) as a matrix times vec(dX) where the differential stands inside {where}: "
        "this derivative of a vector or matrix expression (which a Hessian needs too) is not derived "
        "(of a scalar objective, the gradient is: leave out hessian: true)"
    )


class VecForm:
    """Builds ``M`` with ``vec(term) = M vec(dX)``, noting the rules used."""

    def __init__(self, used: RulesUsed) -> None:
        self.used = used

    def of(self, term: Expr) -> Expr:
        check_time()
        if isinstance(term, Add):
            return add(*(self.of(t) for t in term.terms))
        coefficients, before, carrier, after = split_at_differential(term)
        a = mul(*before) if before else None
        b = mul(*after) if after else None
        rows = term.shape[0]
        cols = term.shape[1]

        if carrier.is_scalar and not isinstance(carrier, Differential) and (before or after):
            # vec(s R) = vec(R) s, and s = tr(L dX) = vec(L^T)^T vec(dX)
            rest = mul(*before, *after)
            inner = carrier.arg if isinstance(carrier, Trace) else carrier
            left = TraceForm(self.used).of_matrix(inner)
            return mul(*coefficients, vec_of(rest), transpose(vec_of(push_transpose(left))))
        if isinstance(carrier, Trace):
            left = TraceForm(self.used).of_matrix(carrier.arg)
            return mul(*coefficients, transpose(vec_of(push_transpose(left))))
        if isinstance(carrier, Differential) and carrier.is_scalar and (before or after):
            # a scalar variable's dt: vec(A dt B) = vec(AB) dt
            self.used.note(RuleId.SCALAR_COMMUTE)
            return mul(*coefficients, vec_of(mul(*before, *after)))

        if isinstance(carrier, Diag) and carrier.arg.shape[1] == 1:
            swapped = _diag_times_a_vector(before, carrier.arg, after)
            if swapped is not None:
                self.used.note(RuleId.DIAG_TIMES_VECTOR)
                return self.of(mul(*coefficients, *swapped))

        # vec(A C B) = (B^T ⊗ A) vec(C)
        outer_right = push_transpose(b) if b is not None else None
        carrier_rows, carrier_cols = carrier.shape
        outer = kron(outer_right, a, cols if b is None else carrier_cols, rows if a is None else carrier_rows)
        if a is not None or b is not None:
            self.used.note(RuleId.VEC_PRODUCT)
        head = [*coefficients, outer]

        if isinstance(carrier, Differential):
            return mul(*head)
        if isinstance(carrier, Transpose):
            inner = carrier.arg
            if isinstance(inner, Differential):
                m, n = inner.shape
                if m == 1 or n == 1:
                    return mul(*head)  # vec(x^T) = vec(x) for a vector
                self.used.note(RuleId.VEC_TRANSPOSE)
                size = dim_product(m, n)
                return mul(*head, Commutation(m, n, (size, size)))
            return mul(*head, self.of(transpose_through(inner)))
        if isinstance(carrier, Hadamard):
            other, inner = (
                (carrier.right, carrier.left)
                if has_differential(carrier.left)
                else (carrier.left, carrier.right)
            )
            self.used.note(RuleId.VEC_HADAMARD)
            return mul(*head, diag_of_vec(other), self.of(inner))
        if isinstance(carrier, HadamardDiv):
            if has_differential(carrier.right):
                raise DeriveError("internal: differential in a denominator")
            self.used.note(RuleId.VEC_HADAMARD)
            return mul(*head, inverse(diag_of_vec(carrier.right)), self.of(carrier.left))
        if isinstance(carrier, Vec):
            return mul(*head, self.of(carrier.arg))
        if isinstance(carrier, IndexedSum):
            body = self.of(carrier.body)
            return mul(*head, IndexedSum(carrier.index, carrier.upper, body, body.shape))
        if isinstance(carrier, Add):
            return mul(*head, add(*(self.of(t) for t in carrier.terms)))
        if isinstance(carrier, MatMul):
            return mul(*head, self.of(carrier))
        if isinstance(carrier, Diag) and carrier.arg.shape[1] == 1 and b is None and cols == 1:
            # diag(v) is a matrix here only as the last factor of a vector: not linear-vec form
            raise DeriveError("cannot vectorise diag(dx) in this position")
        if isinstance(carrier, Kron):
            raise DeriveError("vec of a Kronecker product of a differential is not supported")
        raise DeriveError(_not_vectorised(carrier))
