"""Parse tree → shaped ``mdderiv.expr`` nodes, one right-hand side at a time.

A :class:`Builder` has one ``build_<Node>`` method per parse-tree class; it
checks every shape against the declarations (its :class:`Context`) as it
builds.  Sizes the author left out (``\\mathbf{1}``, ``I``, ``\\mathbf{0}``)
start as unknowns ``?k`` (``sizes.py``) and are unified with what they meet.
Every problem is a :class:`~mdderiv.errors.DeriveError` with a line and column;
``parse.py`` puts the definitions of a block together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .errors import DeriveError
from .expr import (
    SCALAR,
    Constant,
    Det,
    Diag,
    Dim,
    DimValue,
    Elementwise,
    Expr,
    Hadamard,
    HadamardDiv,
    Identity,
    IndexedSum,
    Kron,
    MatMul,
    MatrixFunction,
    Norm,
    NormKind,
    Number,
    Ones,
    Shape,
    Softmax,
    Trace,
    Transpose,
    Vec,
    Zeros,
    add,
    dim_product,
    elementwise,
    inverse,
    matrix_factors,
    mul,
    neg,
    power,
    substitute_dims,
    transpose,
)
from .functions import CONSTANTS, MATRIX_READING
from .functions import MACROS as ELEMENTWISE_MACROS
from .problem import SymbolInfo
from .sizes import Unifier, format_shape, is_unknown
from .syntax.declarations import dimension_name_ok
from .syntax.nodes import (
    AbsNode,
    AddNode,
    ApplyNode,
    BinaryNode,
    ConstNode,
    DivNode,
    NameNode,
    NameRef,
    NegNode,
    Node,
    NormNode,
    NumberNode,
    PostfixNode,
    ProductNode,
    Source,
    SumNode,
)


@dataclass
class Context:
    """What the builder of one definition may look up."""

    symbols: dict[str, SymbolInfo]  # declared and earlier-defined, by identifier
    families: dict[str, SymbolInfo]  # indexed families x_i, by base identifier
    dims: dict[str, None]  # dimension names in first-use order
    later: dict[str, int]  # names defined on later lines → their line
    current: str = ""  # the name being defined
    #: the block's reading of exp, log, √… of a square matrix (option ``functions``)
    functions: str = "matrix"


class Builder:
    """Parse tree → shaped ``mdderiv.expr`` nodes for one right-hand side."""

    def __init__(self, ctx: Context, src: Source) -> None:
        self.ctx = ctx
        self.src = src
        self.u = Unifier()
        self.scope: list[tuple[str, Dim]] = []  # active sums (index, upper)
        self.family_counts: dict[str, Dim] = {}
        self.inside_elementwise = 0  # how many elementwise function arguments enclose the node built
        #: the functions whose arguments enclose the node built, innermost last, with their argument
        self.functions: list[tuple[str, Node]] = []
        self.broadcast = False  # a number was added to a vector inside one (1 + e^{Xw})
        self.number_as_identity = False  # a number was added to a square matrix inside a matrix function
        self.dims_as_numbers = False  # a dimension name was used as a number (\frac{n}{2})

    # -- helpers
    def error(self, message: str, pos: int) -> DeriveError:
        line, column = self.src.where(pos)
        return DeriveError(message, line, column)

    def fmt(self, shape: Shape) -> str:
        return format_shape(self.u.shape(shape))

    def is_scalar(self, shape: Shape) -> bool:
        return self.u.shape(shape) == SCALAR

    def size_unknown(self, var: str) -> DeriveError:
        pos, what = self.u.origin[var]
        return self.error(f"cannot infer the size of {what}; write it, e.g. {what}_{{n}}", pos)

    def unsettled(self, shape: Shape) -> str | None:
        """An unknown size that may still make ``shape`` a square matrix (the
        ``n`` of a bare ``I``), so that whether it is one cannot be told yet;
        None when the shape is settled or a vector either way."""
        rows, cols = self.u.shape(shape)
        if 1 in (rows, cols) or (is_unknown(cols) and cols in self.u.soft):
            return None
        return next((str(d) for d in (rows, cols) if is_unknown(d)), None)

    def square(self, expr: Expr, what: str, pos: int) -> None:
        if not self.u.unify(expr.shape[0], expr.shape[1]):
            raise self.error(f"{what} needs a square matrix, got {self.fmt(expr.shape)}", pos)

    def dim_product(self, a: Dim, b: Dim, pos: int) -> Dim:
        a, b = self.u.find(a), self.u.find(b)
        if is_unknown(a) or is_unknown(b):
            raise self.error(
                "the size of \\mathbf{1}, \\mathbf{0} or I must be known here; write it, e.g. \\mathbf{1}_{n}",
                pos,
            )
        return dim_product(a, b)

    def finish(self, expr: Expr) -> Expr:
        """Settle every unknown size in ``expr`` (soft ones default to 1)."""
        if not self.u.count:  # no unknown sizes were introduced
            return expr
        found: dict[str, None] = {}
        for node in expr.walk():
            for d in node.shape:
                if is_unknown(d):
                    found[d] = None
        if not found:
            return expr
        for var in found:
            root = self.u.find(var)
            if is_unknown(root) and root in self.u.soft:
                self.u.unify(root, 1)
        mapping: dict[Dim, Dim] = {}
        for var in found:
            root = self.u.find(var)
            if is_unknown(root):
                raise self.size_unknown(var)
            mapping[var] = root
        return substitute_dims(expr, mapping)

    # -- dispatch
    def build(self, node: Node) -> Expr:
        method = _BUILDERS.get(type(node))
        if method is None:  # (every parse-tree class has its entry)
            builder: Callable[[Node], Expr] = getattr(self, "build_" + type(node).__name__)
            return builder(node)
        return method(self, node)

    def build_NumberNode(self, node: NumberNode) -> Expr:
        return Number(node.value)

    def build_NegNode(self, node: NegNode) -> Expr:
        return neg(self.build(node.arg))

    def build_AddNode(self, node: AddNode) -> Expr:
        built: list[Expr] = []
        first: Expr | None = None
        terms = self.broadcast_numbers([self.build(term_node) for _, term_node in node.terms], node)
        for (sign, term_node), term in zip(node.terms, terms):
            if first is None:
                first = term
            elif not (
                self.u.unify(first.shape[0], term.shape[0]) and self.u.unify(first.shape[1], term.shape[1])
            ):
                verb = "subtract" if sign < 0 else "add"
                joiner = "from" if sign < 0 else "and"
                left, right = (term, first) if sign < 0 else (first, term)
                hint = ""
                other = term if isinstance(first, Number) else first if isinstance(term, Number) else None
                if other is None:
                    pass  # no number in the sum: the shapes say it all
                elif self.is_square_matrix(other.shape):
                    # 1 + X: the identity (log(1 + X) in matrix-function texts) or a matrix of ones
                    hint = (
                        "; a number plus a square matrix can be read two ways: write I + X for the "
                        "identity, or \\mathbf{1}\\mathbf{1}^T + X for a matrix of ones"
                    )
                else:
                    # 1 - y for a vector y: the seeds' shorthand for a vector of ones
                    hint = "; for a vector or matrix of ones write \\mathbf{1}, e.g. \\mathbf{1} - \\mathbf{y}"
                raise self.error(
                    f"cannot {verb} {self.fmt(left.shape)} {joiner} {self.fmt(right.shape)}{hint}",
                    _start(term_node),
                )
            built.append(term if sign > 0 else neg(term))
        return add(*built)

    def broadcast_numbers(self, terms: list[Expr], node: AddNode) -> list[Expr]:
        """Inside an elementwise function, a number added to a vector or a
        non-square matrix is that number times all ones (``\\log(1 + e^{X\\mathbf{w}})``, the
        common spelling of softplus); the derivation says so (rule
        ``reading_broadcast``).  Elsewhere the sum stays an
        error, and so it does next to a square matrix (``1 + X`` could as well mean
        I + X), unless the sum is the whole argument of exp, log, √… of it
        (:meth:`number_in_matrix_function`)."""
        if not self.inside_elementwise or not any(isinstance(t, Number) for t in terms):
            return terms
        square = next((self.u.shape(t.shape) for t in terms if self.is_square_matrix(t.shape)), None)
        if square is not None and self.functions and self.functions[-1][0] in MATRIX_READING and (
            self.functions[-1][1] is node  # the whole argument, f(1 + X): not log(A(1 + X))
        ):
            return self.number_in_matrix_function(terms, square)
        shape = next(
            (
                (r, c)
                for r, c in (self.u.shape(t.shape) for t in terms)
                if r != c and not is_unknown(r) and not is_unknown(c)  # a vector, or a matrix that has no I
            ),
            None,
        )
        if shape is None:
            return terms
        self.broadcast = True
        ones = Ones(shape)
        return [(ones if t.value == 1 else mul(t, ones)) if isinstance(t, Number) else t for t in terms]

    def number_in_matrix_function(self, terms: list[Expr], square: Shape) -> list[Expr]:
        """In the argument of exp, log, √… of a square matrix, a number c added to
        the matrix: c·I under the matrix reading (``\\log(1 + e^{X})`` is f(X) for
        the scalar function f(x) = log(1 + e^x)), all ones when the block takes
        the functions entry by entry.  The derivation names the reading taken
        (``reading_number_identity`` or ``reading_broadcast``)."""
        if self.ctx.functions == "elementwise":
            self.broadcast = True
            unit: Expr = Ones(square)
        else:
            self.number_as_identity = True
            unit = Identity(square)
        return [(unit if t.value == 1 else mul(t, unit)) if isinstance(t, Number) else t for t in terms]

    def multiply(self, left: Shape, right: Shape, where: Node | int) -> Shape:
        """The shape of a product of factors shaped ``left`` and ``right``, or
        the error naming both shapes."""
        ls, rs = self.u.shape(left), self.u.shape(right)
        if ls == SCALAR:
            return rs
        if rs == SCALAR:
            return ls
        if self.u.unify(ls[1], rs[0]):
            return (ls[0], rs[1])
        if self.u.make_scalar(ls):
            return rs
        if self.u.make_scalar(rs):
            return ls
        hint = ""
        if ls == rs and ls[1] == 1:
            # x y of two column vectors: neither product is what was written
            hint = "; for the inner product write x^T y (or x \\cdot y), for the outer product x y^T"
        raise self.error(
            f"cannot multiply {format_shape(ls)} by {format_shape(rs)}: "
            f"inner dimensions {ls[1]} and {rs[0]} differ{hint}",
            where if isinstance(where, int) else _start(where),
        )

    def build_ProductNode(self, node: ProductNode) -> Expr:
        return self.product([(self.build(factor_node), factor_node) for factor_node in node.factors])

    def product(self, built: list[tuple[Expr, Node]]) -> Expr:
        """The product of built factors (each with its parse node, for errors)."""
        factors: list[Expr] = []
        shape: Shape | None = None  # the running product's
        for factor, factor_node in built:
            shape = factor.shape if shape is None else self.multiply(shape, factor.shape, factor_node)
            factors.append(factor)
        product = mul(*factors)
        assert shape is not None
        if self.u.shape(product.shape) != self.u.shape(shape):
            # mul() drops an identity next to any other factor, even a lone
            # scalar (c I → c); keep the author's product with its true shape
            coefficient, rest = matrix_factors(MatMul(tuple(factors), shape))
            if coefficient != 1:
                rest.insert(0, Number(coefficient))
            product = MatMul(tuple(rest), shape) if len(rest) > 1 else rest[0]
        return product

    def build_DivNode(self, node: DivNode) -> Expr:
        num = self.build(node.num)
        den = self.build(node.den)
        return self.divide(num, den, node.den.pos)

    def divide(self, num: Expr, den: Expr, pos: int) -> Expr:
        if not self.is_scalar(den.shape) and not self.u.make_scalar(den.shape):
            raise self.error(f"cannot divide by a {self.fmt(den.shape)} matrix; only by a scalar", pos)
        if isinstance(den, Number):
            if den.value == 0:
                raise self.error("division by zero", pos)
            return mul(num, Number(1 / den.value))
        return mul(num, power(den, -1))

    def vector_pair(self, left: Expr, right: Expr) -> str | None:
        """"column" or "row" when both are vectors of one shape (not 1×1), else None."""
        ls, rs = self.u.shape(left.shape), self.u.shape(right.shape)
        if ls == SCALAR or rs == SCALAR or ls != rs:
            return None
        if ls[1] == 1:
            return "column"
        if ls[0] == 1:
            return "row"
        return None

    def inner_product(self, node: BinaryNode, left: Expr, right: Expr) -> Expr:
        """⟨A, B⟩ = A : B = tr(AᵀB); for two column vectors xᵀy."""
        if not (self.u.unify(left.shape[0], right.shape[0]) and self.u.unify(left.shape[1], right.shape[1])):
            raise self.error(
                f"the inner product ⟨A, B⟩ (or A : B) needs two operands of one shape, got "
                f"{self.fmt(left.shape)} and {self.fmt(right.shape)}",
                node.pos,
            )
        rows, cols = self.u.shape(left.shape)
        if cols == 1:
            return mul(transpose(left), right)
        if rows == 1:
            return mul(left, transpose(right))
        return Trace(mul(transpose(left), right))

    def build_BinaryNode(self, node: BinaryNode) -> Expr:
        left = self.build(node.left)
        right = self.build(node.right)
        if node.op == "inner":
            return self.inner_product(node, left, right)
        if node.op in ("dot", "cross"):
            pair = self.vector_pair(left, right)
            if pair is not None and node.op == "dot":
                # x · y between two vectors is their inner product
                return mul(transpose(left), right) if pair == "column" else mul(left, transpose(right))
            if pair is not None:
                raise self.error(
                    "x \\times y between two vectors is their cross product, which mdderiv does not "
                    "derive; for the inner product write x^T y or x \\cdot y",
                    node.pos,
                )
            return self.product([(left, node.left), (right, node.right)])
        if node.op == "kron":
            shape = (
                self.dim_product(left.shape[0], right.shape[0], node.pos),
                self.dim_product(left.shape[1], right.shape[1], node.pos),
            )
            return Kron(left, right, shape)
        if node.op == "hadamard_div" and self.is_scalar(right.shape):
            return self.divide(left, right, node.right.pos)
        if node.op == "hadamard" and (self.is_scalar(left.shape) or self.is_scalar(right.shape)):
            return mul(left, right)
        if not (self.u.unify(left.shape[0], right.shape[0]) and self.u.unify(left.shape[1], right.shape[1])):
            what = "Hadamard product" if node.op == "hadamard" else "elementwise division"
            raise self.error(
                f"cannot take the {what} of {self.fmt(left.shape)} and {self.fmt(right.shape)}: "
                "the shapes must be equal",
                node.pos,
            )
        cls = Hadamard if node.op == "hadamard" else HadamardDiv
        return cls(left, right, left.shape)

    def build_PostfixNode(self, node: PostfixNode) -> Expr:
        arg = self.build(node.arg)
        if node.op == "T":
            return transpose(arg)
        if node.op == "pow_expr":
            return self.power_by_expression(node, arg)
        scalar = self.is_scalar(arg.shape)
        if node.op in ("inv", "invT"):
            if scalar:
                return power(arg, -1)
            self.square(arg, "inverse", node.pos)
            return transpose(inverse(arg)) if node.op == "invT" else inverse(arg)
        assert node.exponent is not None
        if scalar:
            return power(arg, node.exponent)
        if node.exponent.denominator != 1:
            if not self.is_square_matrix(arg.shape):
                if (unknown := self.unsettled(arg.shape)) is not None:
                    raise self.size_unknown(unknown)
                raise self.error(
                    f"a real power ^{node.exponent} needs a square matrix, got {self.fmt(arg.shape)}",
                    node.pos,
                )
            # X^{1/2}: the matrix power (derived inside a trace)
            return MatrixFunction("pow", arg, arg.shape, node.exponent)
        rows, cols = self.u.shape(arg.shape)
        if (cols == 1 or rows == 1) and node.exponent == 2:
            if self.u.make_scalar(arg.shape):
                # (1^T x)^2: a number once the bare 1's column count settles to 1, as it
                # does for (1^T x)^3, whose base must be square
                return power(arg, node.exponent)
            raise self.error(
                f"the square of a {self.fmt(arg.shape)} vector can be read two ways: write "
                "\\mathbf{x}^T\\mathbf{x} or \\|\\mathbf{x}\\|^2 for the squared length, "
                "\\mathbf{x} \\odot \\mathbf{x} for the entrywise square",
                node.pos,
            )
        self.square(arg, f"the power ^{node.exponent}", node.pos)
        return power(arg, node.exponent)

    def power_by_expression(self, node: PostfixNode, base: Expr) -> Expr:
        """``s^{e}`` with a scalar exponent expression (``\\det(X)^{1/n}``, n a
        dimension): a positive scalar base, written as ``exp(e log s)``."""
        assert node.exponent_expr is not None
        exponent = self.build(node.exponent_expr)
        if not self.is_scalar(base.shape):
            raise self.error(
                f"a power with an exponent that is not a number needs a scalar base, got {self.fmt(base.shape)}",
                node.pos,
            )
        if not self.is_scalar(exponent.shape):
            raise self.error(f"the exponent must be a scalar, got {self.fmt(exponent.shape)}", node.pos)
        return elementwise("exp", mul(exponent, elementwise("log", base)))

    def build_ApplyNode(self, node: ApplyNode) -> Expr:
        fn = node.fn
        entrywise = fn not in ("trace", "det", "softmax", "diag", "vec")
        self.inside_elementwise += entrywise
        self.functions.append((fn, node.arg))
        try:
            arg = self.build(node.arg)
        finally:
            self.inside_elementwise -= entrywise
            self.functions.pop()
        if fn == "trace":
            self.square(arg, "trace", node.pos)
            return Trace(arg)  # kept even for a 1×1 argument: the author wrote it
        if fn == "det":
            self.square(arg, "determinant", node.pos)
            return Det(arg)
        if fn == "softmax":
            if not self.u.unify(arg.shape[1], 1):
                raise self.error(
                    f"softmax needs a column vector, got {self.fmt(arg.shape)}: of a matrix it could act on "
                    "each column or on each row, and mdderiv does not guess the axis; apply it to a "
                    "column vector, e.g. \\operatorname{softmax}(W\\mathbf{x})",
                    node.pos,
                )
            return Softmax(arg, arg.shape)
        if fn == "diag":
            rows, cols = self.u.shape(arg.shape)
            if cols == 1:
                return Diag(arg, (rows, rows))
            if rows == 1:
                return Diag(arg, (cols, cols))
            if self.u.unify(rows, cols):
                return Diag(arg, (rows, 1))
            raise self.error(f"diag needs a vector or a square matrix, got {self.fmt(arg.shape)}", node.pos)
        if fn == "vec":
            return Vec(arg, (self.dim_product(arg.shape[0], arg.shape[1], node.pos), 1))
        if fn in MATRIX_READING and (unknown := self.unsettled(arg.shape)) is not None:
            raise self.size_unknown(unknown)  # e^{\lambda I}: a matrix function or entry by entry?
        if fn in MATRIX_READING and self.is_square_matrix(arg.shape):
            # exp, log, √ of a square matrix mean the matrix function in mathematics
            # (option functions: elementwise takes them entry by entry)
            return MatrixFunction(fn, arg, arg.shape, Fraction(1, 2) if fn == "sqrt" else Fraction(1))
        return elementwise(fn, arg)

    def is_square_matrix(self, shape: Shape) -> bool:
        """Square as declared (the same dimension twice), and not 1×1."""
        rows, cols = self.u.shape(shape)
        return rows == cols and rows != 1 and not is_unknown(rows)

    def build_AbsNode(self, node: AbsNode) -> Expr:
        arg = self.build(node.arg)
        if self.is_scalar(arg.shape):
            return Elementwise("abs", arg, SCALAR)
        if self.u.unify(arg.shape[0], arg.shape[1]):
            return Det(arg)
        raise self.error(
            f"|…| needs a scalar (absolute value) or a square matrix (determinant), got "
            f"{self.fmt(arg.shape)}; for a vector length write \\|x\\|",
            node.pos,
        )

    def build_NormNode(self, node: NormNode) -> Expr:
        arg = self.build(node.arg)
        rows, cols = self.u.shape(arg.shape)
        vector = cols == 1 or rows == 1
        if node.sub == NormKind.L1:
            if vector:
                return Norm(arg, NormKind.L1)
            raise self.error(
                f"\\|X\\|_1 of a {self.fmt(arg.shape)} matrix (its largest column sum) is not supported; "
                "\\|\\mathbf{x}\\|_1 is read for vectors",
                node.pos,
            )
        if node.sub == NormKind.NUCLEAR:
            if not vector:
                self.refuse_a_rank_deficient_nuclear_norm(arg, node.pos)
            if not vector:
                return Norm(arg, NormKind.NUCLEAR)
            raise self.error(
                f"\\|\\cdot\\|_* of a {self.fmt(arg.shape)} vector is ambiguous: it is often the dual norm, "
                "which depends on the norm it is dual to (the dual of \\|x\\|_2 is \\|x\\|_2, of \\|x\\|_1 "
                "the largest |x_i|); write the norm you mean, e.g. \\|\\mathbf{x}\\|_2; \\|X\\|_* is read as "
                "the nuclear norm of a matrix",
                node.pos,
            )
        if vector:
            return Norm(arg, NormKind.EUCLIDEAN)
        if node.sub == NormKind.EUCLIDEAN:
            raise self.error(
                f"\\|X\\|_2 of a {self.fmt(arg.shape)} matrix is its spectral norm, the largest singular value; "
                "its gradient u_1 v_1^T comes from the singular value decomposition, not from the "
                "differential and trace method, and mdderiv does not derive it; write \\|X\\|_F for the "
                "Frobenius norm or \\|X\\|_* for the nuclear norm (the sum of the singular values)",
                node.pos,
            )
        return Norm(arg, NormKind.FROBENIUS)

    def refuse_a_rank_deficient_nuclear_norm(self, arg: Expr, pos: int) -> None:
        """``‖X‖_*`` is derived through ``(X^T X)^{-1/2}`` (or ``(X X^T)^{-1/2}``), which needs
        X of full rank: a product through a vector (``\\mathbf{x}\\mathbf{x}^T``), or through a
        dimension smaller than both of its own in numbers, never is, and its gradient formula
        would be undefined at every point."""
        rows, cols = self.u.shape(arg.shape)
        rank = self.rank_bound(arg)
        if rank is None:
            return
        if rank == 1:
            raise self.error(
                f"\\|\\cdot\\|_* of a {self.fmt(arg.shape)} product through a vector (a matrix of rank one, "
                "such as \\mathbf{x}\\mathbf{x}^T) is not derived: the nuclear norm's gradient "
                "X (X^T X)^{-1/2} needs X^T X invertible, which a rank-one matrix never has; "
                "\\|\\mathbf{u}\\mathbf{v}^T\\|_* = \\|\\mathbf{u}\\|\\,\\|\\mathbf{v}\\|: write that",
                pos,
            )
        if isinstance(rows, int) and isinstance(cols, int) and rank < min(rows, cols):
            raise self.error(
                f"\\|\\cdot\\|_* of a {self.fmt(arg.shape)} product through a dimension of size {rank} "
                f"(of rank at most {rank}) is not derived: the nuclear norm's gradient X (X^T X)^{{-1/2}} "
                "needs X of full rank, which this product never has",
                pos,
            )

    def rank_bound(self, expr: Expr) -> int | None:
        """A bound on the rank of ``expr`` that holds whatever the values: the smallest
        inner dimension in numbers of a product in it (None: no such bound known)."""
        if isinstance(expr, Transpose):
            return self.rank_bound(expr.arg)
        if not isinstance(expr, MatMul):
            return None
        factors = [f for f in expr.factors if not self.is_scalar(f.shape)]
        inner = [self.u.shape(left.shape)[1] for left in factors[:-1]]  # the inner dimensions
        known = [b for b in [*map(self.rank_bound, factors), *inner] if isinstance(b, int)]
        return min(known) if known else None

    def build_ConstNode(self, node: ConstNode) -> Expr:
        what = "\\mathbf{1}" if node.kind == "ones" else "\\mathbf{0}"
        cls = Ones if node.kind == "ones" else Zeros
        if node.size is not None:
            dims = tuple(self.size_dim(d, node.pos) for d in node.size)
            return cls((dims[0], dims[1] if len(dims) == 2 else 1))
        rows = self.u.fresh(node.pos, what)
        cols = self.u.fresh(node.pos, what, soft=True)
        return cls((rows, cols))

    def size_dim(self, d: Dim, pos: int) -> Dim:
        if isinstance(d, str):
            if d in self.ctx.symbols or d in self.ctx.families:
                raise self.error(f"{d} is a symbol, not a dimension", pos)
            if not dimension_name_ok(d):
                raise self.error(f"{d!r} cannot be a dimension name (it is reserved); pick another", pos)
            self.ctx.dims.setdefault(d, None)
        return d

    def build_SumNode(self, node: SumNode) -> Expr:
        index = node.index
        if any(index == active for active, _ in self.scope):
            raise self.error(f"the index {index} is already summed over here", node.pos)
        if index in self.ctx.symbols or index in self.ctx.dims:
            raise self.error(
                f"the sum index {index} is also a symbol or dimension; pick another letter", node.pos
            )
        upper = self.size_dim(node.upper, node.pos)
        self.scope.append((index, upper))
        try:
            body = self.build(node.body)
        finally:
            self.scope.pop()
        return IndexedSum(index, upper, body, body.shape)

    def build_NameNode(self, node: NameNode) -> Expr:
        ref = node.ref
        ctx = self.ctx
        info = ctx.symbols.get(ref.ident)
        if info is not None:
            return info.symbol()
        family = ctx.families.get(ref.base_ident) if ref.sub is not None else None
        if family is not None and ref.sub == family.index:
            for index, upper in self.scope:
                if index == ref.sub:
                    self.family_counts.setdefault(family.name, upper)
                    return family.symbol()
            raise self.error(
                f"{ref.latex} is a member of an indexed family: use it inside \\sum_{{{ref.sub}=1}}^{{n}}",
                node.pos,
            )
        if family is not None:
            raise self.error(
                f"{family.latex} is declared as the family {family.latex}_{{{family.index}}}; "
                f"write {family.latex}_{{{family.index}}} inside a sum over {family.index}",
                node.pos,
            )
        if ref.ident in ctx.families:
            fam = ctx.families[ref.ident]
            raise self.error(
                f"{fam.latex} is an indexed family: write {fam.latex}_{{{fam.index}}} inside a sum over {fam.index}",
                node.pos,
            )
        if ref.base_ident == "I" and "I" not in ctx.symbols:
            if ref.sub is None:
                var = self.u.fresh(node.pos, "I")
                return Identity((var, var))
            size: Dim = int(ref.sub) if ref.sub.isdigit() else ref.sub
            if size == 0 or (isinstance(size, str) and not size[0].isalpha()):
                raise self.error(
                    f"I_{{{ref.sub}}}: the size of I must be a dimension name or a positive integer", node.pos
                )
            size = self.size_dim(size, node.pos)
            return Identity((size, size))
        if ref.ident in ctx.dims:
            self.dims_as_numbers = True
            return DimValue(ref.ident)
        if ref.ident in CONSTANTS and ref.ident == ref.base_ident:
            return Constant(ref.ident)  # \pi or e, not declared as a symbol
        if any(ref.ident == index for index, _ in self.scope):
            raise self.error(f"the sum index {ref.ident} cannot be used as a value", node.pos)
        if ref.ident == ctx.current:
            raise self.error(f"{ref.latex} cannot be used in its own definition", node.pos)
        if ref.ident in ctx.later:
            raise self.error(
                f"{ref.latex} is defined on line {ctx.later[ref.ident]}, after its use here; define it first",
                node.pos,
            )
        written = self.src.text[node.pos : node.pos + 8]
        for word, macro in _PLAIN_FUNCTION_NAMES:
            if written.startswith(word):
                raise self.error(
                    f"undeclared symbol {ref.latex}: to write the function {word}, use {macro}",
                    node.pos,
                )
        raise self.error(
            f"undeclared symbol {ref.latex}; declare it with given: {ref.latex} \\in {_space_suggested(ref)}",
            node.pos,
        )


def _space_suggested(ref: NameRef) -> str:
    """The declaration an undeclared name's spelling suggests: a bold name is a
    vector, a capital (Latin or Greek) a matrix, anything else a number."""
    if ref.base_latex.startswith(("\\mathbf", "\\boldsymbol", "\\bm")):
        return "\\mathbb{R}^{n}"
    letters = ref.base_latex.lstrip("\\")
    if letters[:1].isupper():
        return "\\mathbb{R}^{m \\times n}"
    return "\\mathbb{R}"


#: The builder's method for each parse-tree class (looked up once, not by name per node).
_BUILDERS: dict[type, Callable[[Builder, Any], Expr]] = {
    cls: getattr(Builder, "build_" + cls.__name__)
    for cls in (
        AbsNode, AddNode, ApplyNode, BinaryNode, ConstNode, DivNode, NameNode,
        NegNode, NormNode, NumberNode, PostfixNode, ProductNode, SumNode,
    )
}  # fmt: skip

#: Function names written as plain letters, and the macro meant (the error says so);
#: the longer names first, so ``tanh`` is not taken for ``tan``.
_PLAIN_FUNCTION_NAMES = tuple(
    sorted(
        [
            ("softmax", r"\operatorname{softmax}"),
            ("diag", r"\operatorname{diag}"),
            ("vec", r"\operatorname{vec}"),
            ("det", r"\det"),
            ("tr", r"\operatorname{tr}"),
            ("Tr", r"\operatorname{tr}"),
            *((macro, "\\" + macro) for macro in ELEMENTWISE_MACROS if len(macro) > 2 and macro != "sigma"),
        ],
        key=lambda pair: -len(pair[0]),
    )
)


#: Functions whose value is a scalar whatever their argument.
_SCALAR_VALUED = frozenset({"trace", "det"})


def written_as_scalar(node: Node) -> bool:
    """Whether the author wrote ``node`` with a trace, determinant or norm
    outside (possibly scaled, powered, negated, or under log/exp): then
    every reading of it must be a scalar."""
    for _ in range(1000):
        if isinstance(node, (NormNode, AbsNode)):
            return True  # |A| is a determinant or an absolute value
        if isinstance(node, ApplyNode):
            if node.fn in _SCALAR_VALUED:
                return True
            node = node.arg  # log det X, exp(tr …)
        elif isinstance(node, (NegNode, PostfixNode)):
            node = node.arg
        elif isinstance(node, DivNode):
            node = node.num
        elif isinstance(node, ProductNode):
            scalars = [f for f in node.factors if not _is_number(f)]
            if len(scalars) != 1:
                return False
            node = scalars[0]
        elif isinstance(node, AddNode):
            return any(written_as_scalar(term) for _, term in node.terms)
        else:
            return False
    return False


def _is_number(node: Node) -> bool:
    """A number as written: ``3``, ``\\frac{1}{2}``, ``-2``."""
    if isinstance(node, NegNode):
        return _is_number(node.arg)
    if isinstance(node, DivNode):
        return _is_number(node.num) and _is_number(node.den)
    return isinstance(node, NumberNode)


def _start(node: Node) -> int:
    """Where a term starts (a postfix or binary node's own position is its operator)."""
    for _ in range(1000):
        if isinstance(node, PostfixNode):
            node = node.arg
        elif isinstance(node, BinaryNode):
            node = node.left
        elif isinstance(node, DivNode) and node.pos > node.num.pos:  # p / q, not \frac
            node = node.num
        else:
            break
    return node.pos
