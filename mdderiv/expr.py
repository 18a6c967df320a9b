"""The engine's expression nodes: small immutable values with a shape.

Every node is a frozen dataclass, so nodes compare and hash structurally and
rewriting never mutates anything.  Shapes are ``(rows, cols)`` pairs of
dimensions; a dimension is a name (``"m"``) or a positive integer.  Scalars are
``(1, 1)``: a 1×1 product such as ``a^T b`` behaves as a scalar everywhere.

The nodes know nothing about LaTeX, Markdown or calculus rules: the renderers
(``mdderiv.render``) and the calculus (``mdderiv.calculus``) are visitors over
them.  Shape checking with positions happens in ``mdderiv.shapes``; the smart
constructors here (``mul``, ``add``, ``transpose`` …) assume well-shaped input
and only do the canonical, always-true tidying (flattening, dropping ``1·``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import MISSING, dataclass, field, fields
from enum import StrEnum
from fractions import Fraction
from operator import attrgetter
from typing import TYPE_CHECKING, Any, ClassVar, TypeGuard

# Typing note: the hot paths test a node's exact class once (``kind = type(expr)``,
# then ``kind is MatMul``); mypy does not narrow ``expr`` through the saved
# ``kind``, so the attribute reads after such a test carry
# ``type: ignore[attr-defined]`` (an ``isinstance`` per read would cost time).

Dim = str | int
Shape = tuple[Dim, Dim]
SCALAR: Shape = (1, 1)

#: Symbol properties a declaration can give.
SYMMETRIC = "symmetric"
SPD = "spd"
ONE_HOT = "one-hot"
POSITIVE = "positive"


@dataclass(frozen=True, eq=False, slots=True)
class Expr:
    """Base of every node. Subclasses are frozen dataclasses with a ``shape``.

    Two facts about a node are worked out once, from its children's, the
    first time they are asked for, and kept as fields that take no part in
    comparisons: its hash (a dataclass hash would walk the whole subtree each
    time) and whether a differential ``dX`` occurs in it (the calculus asks it
    of the subtrees of a differential again and again).  Most nodes the passes
    build are compared or thrown away and never asked either (equality needs
    no hash).  Nothing else is ever stored on a node: a pass that wants to
    remember something about nodes keeps its own memo (see ``calculus/memo.py``).
    """

    #: None until ``hash`` first asks for it
    node_hash: int | None = field(default=None, init=False, repr=False, compare=False)
    #: None until ``has_differential`` first asks for it
    holds_differential: bool | None = field(default=None, init=False, repr=False, compare=False)
    if TYPE_CHECKING:  # each subclass declares its shape as a field (a base field would come first)

        @property
        def shape(self) -> Shape: ...
    #: the node's own field values in order, read in one C call (each class's
    #: getter is made when its first node is built, once the dataclass
    #: decorator has listed the fields)
    _values: ClassVar[Callable[[Expr], object]]

    def __init_subclass__(cls, **kwargs: object) -> None:
        # (not the zero-argument super(): ``slots=True`` makes a new class, and
        # the old one's ``__class__`` cell would name the wrong class)
        super(Expr, cls).__init_subclass__(**kwargs)
        cls._values = functools.partial(_first_values, cls)

    def __hash__(self) -> int:
        known = self.node_hash
        if known is None:  # the first time: from the fields (the children's kept hashes)
            cls = type(self)
            known = hash((cls, cls._values(self)))
            _set_node_hash(self, known)  # (past the frozen __setattr__, as __init__ stores the fields)
        return known

    def __reduce__(self) -> tuple[Callable[..., Expr], tuple[type[Expr], dict[str, object]]]:
        # pickled and copied through the constructor: the computed fields are
        # worked out again (a hash is only good in the process that made it)
        return _rebuilt, (type(self), {f.name: getattr(self, f.name) for f in fields(self) if f.init})

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(self) is not type(other):
            return False
        assert isinstance(other, Expr)
        # two known hashes reject almost every unequal pair at once; else the
        # fields are compared (shared subtrees by identity): no hash is forced
        mine, theirs = self.node_hash, other.node_hash
        if mine is not None and theirs is not None and mine != theirs:
            return False
        values = type(self)._values
        return values(self) == values(other)

    @property
    def is_scalar(self) -> bool:
        return self.shape == SCALAR

    def children(self) -> tuple[Expr, ...]:
        return ()

    def walk(self) -> Iterator[Expr]:
        """All nodes, this one first (pre-order)."""
        stack: list[Expr] = [self]
        pop, extend = stack.pop, stack.extend
        while stack:
            node = pop()
            yield node
            children = node.children()
            if children:
                extend(reversed(children))


def _first_values(cls: type[Expr], node: Expr) -> object:
    """A node class's field values, the first time: make its getter."""
    cls._values = attrgetter(*[f.name for f in fields(cls) if f.compare])
    return cls._values(node)


# Nodes keep their fields in slots (``slots=True``), not in a ``__dict__``:
# reading a field from a slot is about three times as fast as from a
# ``__dict__`` that was written directly (CPython 3.11 cannot specialise the
# read then).  The fields are stored past the frozen ``__setattr__`` by the
# slots' own setters.
_set_node_hash: Callable[[Expr, int], None] = vars(Expr)["node_hash"].__set__
_set_holds_differential: Callable[[Expr, bool], None] = vars(Expr)["holds_differential"].__set__


def _rebuilt(cls: type[Expr], values: dict[str, object]) -> Expr:
    return cls(**values)


# --------------------------------------------------------------------------- leaves


@dataclass(frozen=True, eq=False, slots=True)
class Symbol(Expr):
    """A declared symbol (``X``), an intermediate name (``Y`` in ``Y = σ(WX)``)
    or a member ``x_i`` of an indexed family (then ``index`` is ``"i"``)."""

    name: str  # the Python identifier, the symbol's key everywhere
    shape: Shape
    props: frozenset[str] = frozenset()
    index: str | None = None

    @property
    def symmetric(self) -> bool:
        return SYMMETRIC in self.props or SPD in self.props


@dataclass(frozen=True, eq=False, slots=True)
class Differential(Expr):
    """``dX`` for a symbol X."""

    of: Symbol | GradientName  # (d of a gradient name: the second differential of a Hessian)
    shape: Shape = field(init=False)

    def __post_init__(self) -> None:
        _set_differential_shape(self, self.of.shape)

    def children(self) -> tuple[Expr, ...]:
        return (self.of,)


@dataclass(frozen=True, eq=False, slots=True)
class GradientName(Expr):
    """The placeholder ``∂f/∂Y`` used while the chain rule runs through Y."""

    objective: str  # the objective's name, e.g. "l"
    of: Symbol
    numerator: bool = False  # numerator layout: ∂f/∂X^T, shaped like X^T
    hessian: bool = False  # ∂²f/∂vec(X)∂vec(X)^T
    shape: Shape = field(init=False)

    def __post_init__(self) -> None:
        if self.hessian:
            size = dim_product(*self.of.shape)
            shape: Shape = (size, size)
        else:
            shape = self.of.shape[::-1] if self.numerator else self.of.shape
        _set_gradient_name_shape(self, shape)


#: the shape's slot setters of the two classes whose ``__post_init__`` works it out
_set_differential_shape: Callable[[Differential, Shape], None] = vars(Differential)["shape"].__set__
_set_gradient_name_shape: Callable[[GradientName, Shape], None] = vars(GradientName)["shape"].__set__


@dataclass(frozen=True, eq=False, slots=True)
class Number(Expr):
    value: Fraction
    shape: Shape = SCALAR


@dataclass(frozen=True, eq=False, slots=True)
class Constant(Expr):
    """A named mathematical constant, ``\\pi`` or ``e``: an entry of
    ``mdderiv.functions.CONSTANTS`` (a scalar that no derivative moves)."""

    name: str
    shape: Shape = SCALAR


@dataclass(frozen=True, eq=False, slots=True)
class DimValue(Expr):
    """A dimension used as a scalar, like the ``n`` in ``\\frac{1}{n}``."""

    dim: Dim
    shape: Shape = SCALAR


@dataclass(frozen=True, eq=False, slots=True)
class Ones(Expr):
    """The all-ones matrix or vector ``\\mathbf{1}``."""

    shape: Shape


@dataclass(frozen=True, eq=False, slots=True)
class Zeros(Expr):
    shape: Shape


@dataclass(frozen=True, eq=False, slots=True)
class Identity(Expr):
    shape: Shape


# --------------------------------------------------------------------------- operators


@dataclass(frozen=True, eq=False, slots=True)
class Add(Expr):
    terms: tuple[Expr, ...]
    shape: Shape

    def children(self) -> tuple[Expr, ...]:
        return self.terms


@dataclass(frozen=True, eq=False, slots=True)
class MatMul(Expr):
    """A product in order. Scalar (1×1) factors may stand anywhere."""

    factors: tuple[Expr, ...]
    shape: Shape
    #: built by ``mul``, which gives an equal product back when run on the
    #: factors (so a rewrite that changed none of them can return the product
    #: itself); False means "unknown"
    tidy: bool = field(default=False, compare=False, repr=False)

    def children(self) -> tuple[Expr, ...]:
        return self.factors


@dataclass(frozen=True, eq=False, slots=True)
class Unary(Expr):
    arg: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.arg,)


@dataclass(frozen=True, eq=False, slots=True)
class Transpose(Unary):
    shape: Shape


@dataclass(frozen=True, eq=False, slots=True)
class Inverse(Unary):
    shape: Shape


@dataclass(frozen=True, eq=False, slots=True)
class Det(Unary):
    shape: Shape = SCALAR


@dataclass(frozen=True, eq=False, slots=True)
class Trace(Unary):
    shape: Shape = SCALAR


@dataclass(frozen=True, eq=False, slots=True)
class Power(Expr):
    """A real power of a scalar, or an integer power of a square matrix."""

    base: Expr
    exponent: Fraction
    shape: Shape

    def children(self) -> tuple[Expr, ...]:
        return (self.base,)


@dataclass(frozen=True, eq=False, slots=True)
class Binary(Expr):
    left: Expr
    right: Expr
    shape: Shape

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, eq=False, slots=True)
class Hadamard(Binary):
    """Elementwise product ``A ⊙ B``."""


@dataclass(frozen=True, eq=False, slots=True)
class HadamardDiv(Binary):
    """Elementwise division ``A ⊘ B``."""


@dataclass(frozen=True, eq=False, slots=True)
class Kron(Binary):
    """Kronecker product ``A ⊗ B``."""


@dataclass(frozen=True, eq=False, slots=True)
class Elementwise(Expr):
    """``f(A)`` applied entry by entry (on a scalar: the ordinary function);
    ``fn`` names an entry of ``mdderiv.functions``."""

    fn: str
    arg: Expr
    shape: Shape

    def children(self) -> tuple[Expr, ...]:
        return (self.arg,)


#: Functions of a square matrix in the matrix sense (``MatrixFunction.fn``):
#: a square matrix's exp, log, real powers, sin, cos, sinh, cosh, tan and arctan
#: mean these in mathematics (their power series; each one's derivative is a
#: function of the same matrix).  Those defined by a power series everywhere are
#: applied to the eigenvalues as they are; tan and arctan too, away from tan's
#: poles and arctan's branch cuts (the numerical check samples there).
ENTIRE_MATRIX_FUNCTIONS = ("exp", "sin", "cos", "sinh", "cosh")
ON_EIGENVALUES = (*ENTIRE_MATRIX_FUNCTIONS, "tan", "arctan")
MATRIX_FUNCTIONS = (*ON_EIGENVALUES, "log", "sqrt", "pow")


@dataclass(frozen=True, eq=False, slots=True)
class MatrixFunction(Expr):
    """``f(A)`` of a square matrix as a matrix function (not entry by entry):
    the matrix exponential, the principal logarithm, or the real power
    ``A^p`` (``\\sqrt{A}`` is ``A^{1/2}``) — for a diagonalisable
    ``A = V diag(λ) V^{-1}``, ``V diag(f(λ)) V^{-1}``."""

    fn: str  # one of MATRIX_FUNCTIONS
    arg: Expr
    shape: Shape
    exponent: Fraction = Fraction(1)  # the power, for "pow" (and 1/2 for "sqrt")

    def children(self) -> tuple[Expr, ...]:
        return (self.arg,)


@dataclass(frozen=True, eq=False, slots=True)
class Softmax(Unary):
    shape: Shape


class NormKind(StrEnum):
    """Which norm: Euclidean (of a vector), Frobenius (of a matrix), the sum
    of absolute values (``‖u‖_1``) or the nuclear norm (``‖X‖_*``, the sum of
    a matrix's singular values).  The value is the subscript that names it;
    how each is spelled, printed and evaluated: ``mdderiv.functions.NORMS``."""

    EUCLIDEAN = "2"
    FROBENIUS = "F"
    L1 = "1"
    NUCLEAR = "*"


@dataclass(frozen=True, eq=False, slots=True)
class Norm(Expr):
    """``‖x‖`` (Euclidean, for vectors), ``‖X‖_F`` (Frobenius), ``‖x‖_1``
    (the sum of absolute values, for vectors) or ``‖X‖_*`` (nuclear, for
    matrices)."""

    arg: Expr
    kind: NormKind
    shape: Shape = SCALAR

    def children(self) -> tuple[Expr, ...]:
        return (self.arg,)


@dataclass(frozen=True, eq=False, slots=True)
class Diag(Unary):
    """``diag(v)``: a vector to a diagonal matrix, or a square matrix to the
    vector of its diagonal (which one follows from the argument's shape)."""

    shape: Shape


@dataclass(frozen=True, eq=False, slots=True)
class Vec(Unary):
    """Stack the columns into one column."""

    shape: Shape


@dataclass(frozen=True, eq=False, slots=True)
class Unvec(Unary):
    """``vec^{-1}(v)``: a column of ``rows·cols`` entries back to the
    ``rows × cols`` matrix whose columns it stacks (``unvec(vec X) = X``)."""

    shape: Shape


def unvec(expr: Expr, shape: Shape) -> Expr:
    """``vec^{-1}`` into ``shape``, through sums and numbers, and
    ``vec^{-1}(vec X) = X``."""
    if isinstance(expr, Vec) and expr.arg.shape == shape:
        return expr.arg
    if isinstance(expr, Add):
        return add(*(unvec(t, shape) for t in expr.terms))
    if isinstance(expr, MatMul) and len(expr.factors) == 2 and isinstance(expr.factors[0], Number):
        return mul(expr.factors[0], unvec(expr.factors[1], shape))
    return Unvec(expr, shape)


@dataclass(frozen=True, eq=False, slots=True)
class Commutation(Expr):
    """The commutation matrix K with ``K vec(X) = vec(X^T)`` for X of shape
    ``(rows, cols)``; K is (rows·cols)×(rows·cols)."""

    rows: Dim
    cols: Dim
    shape: Shape


@dataclass(frozen=True, eq=False, slots=True)
class IndexedSum(Expr):
    """``\\sum_{index=1}^{upper} body``."""

    index: str
    upper: Dim
    body: Expr
    shape: Shape

    def children(self) -> tuple[Expr, ...]:
        return (self.body,)


# --------------------------------------------------------------------------- helpers


def num(value: int | Fraction) -> Number:
    return _number(value)


#: the numbers most products carry (-1, 2, 1/2 …'s whole neighbours), built once:
#: nodes are immutable, and a shared node keeps its cached hash
_SMALL_NUMBERS: dict[int, Number] = {}


def _number(value: int | Fraction) -> Number:
    if type(value) is int:
        number = _SMALL_NUMBERS.get(value)
        return number if number is not None else Number(Fraction(value))
    if type(value) is Fraction:
        if value.denominator == 1:  # a coefficient read off a term: 1, -1, 2 …
            number = _SMALL_NUMBERS.get(value.numerator)
            if number is not None:
                return number
        return Number(value)
    return Number(Fraction(value))


_SMALL_NUMBERS.update((k, Number(Fraction(k))) for k in range(-8, 9))
ONE = num(1)
MINUS_ONE = num(-1)
#: the identities of the shared numbers, by whether they are 0 or 1 (mul asks)
_SHARED_0_OR_1 = frozenset(id(_SMALL_NUMBERS[k]) for k in (0, 1))
_SHARED_NOT_0_OR_1 = frozenset(id(n) for k, n in _SMALL_NUMBERS.items() if k not in (0, 1))


def has_differential(expr: Expr) -> bool:
    """Whether a ``dX`` occurs in ``expr`` (worked out once per node)."""
    known = expr.holds_differential
    return known if known is not None else _find_differential(expr)


def _find_differential(expr: Expr) -> bool:
    """Whether a ``dX`` occurs in ``expr``, the first time it is asked: from
    the children's answers, kept in the node (in its slot, as ``__init__`` stores its fields)."""
    found = type(expr) is Differential
    if not found:
        for child in expr.children():
            if has_differential(child):
                found = True
                break
    _set_holds_differential(expr, found)
    return found


def differentials(expr: Expr) -> frozenset[Differential]:
    """The differentials occurring in ``expr`` (the subtrees without one are
    not entered)."""
    if not has_differential(expr):
        return _NO_DIFFERENTIALS
    found: set[Differential] = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if type(node) is Differential:
            found.add(node)
        else:
            stack.extend(child for child in node.children() if has_differential(child))
    return frozenset(found)


_NO_DIFFERENTIALS: frozenset[Differential] = frozenset()


def nodes(expr: Expr) -> list[Expr]:
    """All nodes below and at ``expr``, breadth first: cheaper than ``walk``
    when every node is looked at and their order does not matter."""
    found = [expr]
    for node in found:  # (the list grows while it is read)
        children = node.children()
        if children:
            found.extend(children)
    return found


def kinds(expr: Expr) -> frozenset[type]:
    """The node classes occurring in ``expr``."""
    return frozenset([type(node) for node in nodes(expr)])


def free_symbols(expr: Expr) -> set[Symbol]:
    return {node for node in nodes(expr) if type(node) is Symbol}



# Smart constructors. They keep the tree canonical in ways that are always true
# (flattening, removing unit factors, folding numbers); the calculus's
# simplifier does the rewriting a person would show as a step.


def dim_product(a: Dim, b: Dim) -> Dim:
    """The size of a Kronecker product or a vec: ``m·n`` as ``"m*n"``."""
    if a == 1:
        return b
    if b == 1:
        return a
    if isinstance(a, int) and isinstance(b, int):
        return a * b
    return f"{a}*{b}"


def dim_value(dim: Dim, sizes: dict[str, int]) -> int:
    """The integer a dimension stands for, given sizes for the names."""
    if isinstance(dim, int):
        return dim
    value = 1
    for part in str(dim).split("*"):
        value *= int(part) if part.isdigit() else sizes[part]
    return value


def _times(coefficient: Fraction | int, value: Fraction) -> Fraction | int:
    """``coefficient · value``, staying an int while both are whole (Fraction
    arithmetic is slow, and almost every coefficient is whole)."""
    if type(coefficient) is int:
        if value.denominator == 1:
            return coefficient * value.numerator
        if coefficient == 1:
            return value  # the first number of the product, a fraction: 1/2 x^T x
    return coefficient * value


def mul(*factors: Expr) -> Expr:
    """The product of the factors, flattened, numbers folded into one leading
    coefficient, ``0`` absorbing and ``1`` dropped."""
    # (the hottest constructor: written for speed, with exact type checks)
    # the usual call: no factor is a number, a product, a zero or an identity
    # (nothing to fold, flatten or drop), but for a leading number other than
    # 0 and 1 (kept as it is): only the shape to work out
    first: Shape | None = None  # the first and last matrix factor give the shape
    last: Shape = SCALAR
    rest = factors
    if factors and type(factors[0]) is Number:
        lead = factors[0]
        # (a shared small number is known by its identity: no Fraction comparison)
        if id(lead) in _SHARED_NOT_0_OR_1 or (id(lead) not in _SHARED_0_OR_1 and lead.value not in (0, 1)):
            rest = factors[1:]
    for factor in rest:
        if type(factor) in _MUL_SPECIAL:
            break
        f_shape = factor.shape
        if f_shape != SCALAR:
            if first is None:
                first = f_shape
            last = f_shape
    else:
        if len(factors) > 1:
            return MatMul(factors, (first[0], last[1]) if first is not None else SCALAR, tidy=True)
        return factors[0] if factors else _number(1)
    flat: list[Expr] = []
    coefficient: Fraction | int = 1  # an int until a number shows up: cheaper
    matrices: bool | None = None  # whether any factor is a matrix (asked rarely)
    for factor in factors:
        kind = type(factor)
        if kind is Number:
            coefficient = _times(coefficient, factor.value)  # type: ignore[attr-defined]
            continue
        if kind is MatMul:
            parts = factor.factors  # type: ignore[attr-defined]
            if factor.shape == SCALAR:
                if matrices is None:
                    matrices = any(f.shape != SCALAR for f in factors)
                if matrices:
                    # a 1×1 product such as (a^T x) next to matrices is a scalar
                    # factor: flattening it would splice a^T x into the chain
                    inner = [p for p in parts if type(p) is not Number]
                    if any(p.shape != SCALAR for p in inner):
                        for p in parts:
                            if type(p) is Number:
                                coefficient = _times(coefficient, p.value)
                        flat.append(MatMul(tuple(inner), SCALAR) if len(inner) > 1 else inner[0])
                        continue
            for part in parts:
                if type(part) is Number:
                    coefficient = _times(coefficient, part.value)
                else:
                    flat.append(part)
            continue
        flat.append(factor)
    first = None
    last = SCALAR
    zero = coefficient == 0
    identities = 0
    for f in flat:
        f_shape = f.shape
        if f_shape != SCALAR:
            if first is None:
                first = f_shape
            last = f_shape
        kind = type(f)
        if kind is Zeros:
            zero = True
        elif kind is Identity:
            identities += 1
    shape = (first[0], last[1]) if first is not None else SCALAR
    if zero:
        return Zeros(shape)
    # identity matrices vanish next to anything that has the same size
    if identities and len(flat) > 1:
        others = [f for f in flat if type(f) is not Identity]
        if any(f.shape != SCALAR for f in others):
            flat = others
        elif identities > 1:
            # λ I I = λ I: keep one identity, it carries the size
            one = next(f for f in flat if type(f) is Identity)
            flat = others + [one]
    if coefficient != 1:
        flat.insert(0, _number(coefficient))
    if not flat:
        return _number(coefficient)
    if len(flat) == 1:
        return flat[0]
    return MatMul(tuple(flat), shape, tidy=True)


#: the factors ``mul`` folds, flattens or drops
_MUL_SPECIAL = frozenset((Number, MatMul, Zeros, Identity))


def is_tidy(expr: Expr) -> TypeGuard[MatMul]:
    """Whether ``expr`` is a product ``mul`` built, which ``mul`` gives back
    equal when run on its factors (so a rewrite that changed none of them can
    return the product itself).  A mark, not a test: False means "unknown"."""
    return type(expr) is MatMul and expr.tidy


def add(*terms: Expr) -> Expr:
    """The sum, flattened, zeros dropped, numbers folded."""
    flat: list[Expr] = []
    constant: Fraction | int = 0  # an int until a number shows up: cheaper
    shape: Shape | None = None
    for term in terms:
        shape = shape or term.shape
        parts = term.terms if type(term) is Add else (term,)
        for part in parts:
            kind = type(part)
            if kind is Zeros:
                continue
            if kind is Number:
                constant = constant + part.value  # type: ignore[attr-defined]
            else:
                flat.append(part)
    if constant != 0:
        flat.insert(0, _number(constant))  # 1 + exp(u), 1 - y: the number first
    if shape is None:
        shape = SCALAR
    if not flat:
        return Zeros(shape) if shape != SCALAR else Number(Fraction(0))
    if len(flat) == 1:
        return flat[0]
    return Add(tuple(flat), shape)


def neg(expr: Expr) -> Expr:
    return mul(MINUS_ONE, expr)


def sub(left: Expr, right: Expr) -> Expr:
    return add(left, neg(right))


def scale(coefficient: int | Fraction, expr: Expr) -> Expr:
    return mul(num(coefficient), expr)


def transpose(expr: Expr) -> Expr:
    """``expr^T`` with the always-true tidying: ``(A^T)^T = A``, and scalars,
    symmetric symbols and identities are their own transpose."""
    if type(expr) is Transpose:
        return expr.arg
    kind = type(expr)
    rows, cols = shape = expr.shape
    if shape == SCALAR and kind is not Differential:
        return expr
    if kind is Identity:
        return expr
    if kind is Symbol and expr.symmetric:  # type: ignore[attr-defined]
        return expr
    if kind is Ones or kind is Zeros:
        return kind((cols, rows))
    return Transpose(expr, (cols, rows))


def inverse(expr: Expr) -> Expr:
    if isinstance(expr, Inverse):
        return expr.arg
    if isinstance(expr, Identity):
        return expr
    return Inverse(expr, expr.shape)


def trace(expr: Expr) -> Expr:
    if expr.is_scalar:
        return expr
    if type(expr) is Identity:
        return DimValue(expr.shape[0])  # tr(I_n) = n
    if isinstance(expr, MatMul) and isinstance(expr.factors[0], Number):
        # tr(cA) = c tr(A): a number never hides inside a trace
        return mul(expr.factors[0], Trace(mul(*expr.factors[1:])))
    return Trace(expr)


def power(base: Expr, exponent: int | Fraction) -> Expr:
    if type(exponent) is not Fraction:
        exponent = Fraction(exponent)
    if exponent == 1:
        return base
    if exponent == 0:
        return ONE if base.is_scalar else Identity(base.shape)
    if isinstance(base, Number) and exponent.denominator == 1:
        return Number(base.value ** int(exponent))
    if isinstance(base, Power):
        return power(base.base, base.exponent * exponent)
    return Power(base, exponent, base.shape)


def hadamard(left: Expr, right: Expr) -> Expr:
    if isinstance(left, Ones):
        return right
    if isinstance(right, Ones):
        return left
    if isinstance(left, Zeros) or isinstance(right, Zeros):
        return Zeros(left.shape)
    if left.is_scalar and right.is_scalar:
        return mul(left, right)
    return Hadamard(left, right, left.shape)


def elementwise(fn: str, arg: Expr) -> Elementwise:
    return Elementwise(fn, arg, arg.shape)


def matrix_factors(expr: Expr) -> tuple[Fraction, list[Expr]]:
    """Split a product into its number coefficient and its other factors."""
    parts = expr.factors if isinstance(expr, MatMul) else (expr,)
    coefficient = Fraction(1)
    rest: list[Expr] = []
    for part in parts:
        if isinstance(part, Number):
            coefficient *= part.value
        else:
            rest.append(part)
    return coefficient, rest


def substitute_dims(expr: Expr, mapping: dict[Dim, Dim]) -> Expr:
    """Replace dimension names throughout (used when shapes are inferred)."""
    from dataclasses import fields, replace

    def fix_shape(shape: Shape) -> Shape:
        return (mapping.get(shape[0], shape[0]), mapping.get(shape[1], shape[1]))

    def visit(node: Expr) -> Expr:
        changes: dict[str, Any] = {}
        for f in fields(node):
            if not f.init:
                continue
            value = getattr(node, f.name)
            if isinstance(value, Expr):
                new = visit(value)
                if new is not value:
                    changes[f.name] = new
            elif isinstance(value, tuple) and value and all(isinstance(v, Expr) for v in value):
                new_tuple = tuple(visit(v) for v in value)
                if any(a is not b for a, b in zip(new_tuple, value)):
                    changes[f.name] = new_tuple
            elif f.name == "shape":
                fixed = fix_shape(value)
                if fixed != value:
                    changes[f.name] = fixed
            elif f.name in ("upper", "rows", "cols") and value in mapping or f.name == "dim" and value in mapping:
                changes[f.name] = mapping[value]
        return replace(node, **changes) if changes else node

    return visit(expr)


def rebuild(node: Expr, children: tuple[Expr, ...]) -> Expr:
    """The same node with new children (in ``children()`` order), tidied by the
    smart constructors where one applies."""
    if isinstance(node, Add):
        return add(*children)
    if isinstance(node, MatMul):
        return mul(*children)
    if isinstance(node, Transpose):
        return transpose(children[0])
    if isinstance(node, Inverse):
        return inverse(children[0])
    if isinstance(node, Trace):
        return trace(children[0])
    if isinstance(node, Power):
        return power(children[0], node.exponent)
    if isinstance(node, Hadamard):
        return hadamard(children[0], children[1])
    if isinstance(node, Binary):
        return type(node)(children[0], children[1], node.shape)
    if isinstance(node, Differential):
        return node
    if isinstance(node, Elementwise):
        return Elementwise(node.fn, children[0], node.shape)
    if isinstance(node, MatrixFunction):
        return MatrixFunction(node.fn, children[0], node.shape, node.exponent)
    if isinstance(node, Norm):
        return Norm(children[0], node.kind)
    if isinstance(node, IndexedSum):
        return IndexedSum(node.index, node.upper, children[0], node.shape)
    if isinstance(node, (Det,)):
        return Det(children[0])
    if isinstance(node, (Softmax, Diag, Vec, Unvec)):
        return type(node)(children[0], node.shape)
    if children:
        raise TypeError(f"rebuild has no rule for {type(node).__name__}")  # (a new node class: add its line)
    return node


def map_tree(expr: Expr, fn: Callable[[Expr], Expr]) -> Expr:
    """Rebuild bottom-up, applying ``fn`` to each rebuilt node."""
    kids = expr.children()
    if kids and type(expr) is not Differential:
        # (a leaf child is only visited: no call to descend into it)
        new_kids = [map_tree(k, fn) if k.children() else fn(k) for k in kids]
        for new, old in zip(new_kids, kids):
            if new is not old:
                expr = rebuild(expr, tuple(new_kids))
                break
    return fn(expr)


# --------------------------------------------------------------------------- constructors


def _direct_init(cls: type[Expr]) -> Callable[..., None]:
    """An ``__init__`` for the node class ``cls`` with the dataclass's own
    signature that stores the fields straight into the node's slots.

    The dataclass's frozen ``__init__`` sets each field through
    ``object.__setattr__``; nodes are built by the ten thousand per page, and
    calling each slot's own setter makes building one about half as costly.
    It does what the dataclass's does: the fields in order (defaults as
    declared, None for the two worked out when first asked for: ``node_hash``,
    ``holds_differential``), then ``__post_init__`` where the class has one,
    which works out the rest.
    """
    every = fields(cls)
    own = [f for f in every if f.init]
    stored = [f for f in every if f.init or f.default is not MISSING]
    namespace: dict[str, Any] = {f"_default_{f.name}": f.default for f in every if f.default is not MISSING}
    namespace.update({f"_set_{f.name}": getattr(cls, f.name).__set__ for f in stored})
    parameters = ", ".join(f"{f.name}=_default_{f.name}" if f.default is not MISSING else f.name for f in own)
    stores = "".join(f"    _set_{f.name}(self, {f.name if f.init else '_default_' + f.name})\n" for f in stored)
    post_init = "    self.__post_init__()\n" if hasattr(cls, "__post_init__") else ""
    source = f"def __init__(self, {parameters}):\n{stores}{post_init}"
    exec(source, namespace)  # (as the dataclass decorator makes its own)
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def _node_classes(base: type[Expr]) -> Iterator[type[Expr]]:
    """The node classes below ``base``: those with slots (``slots=True`` leaves
    the first class each decorator made behind, unused: not those)."""
    for sub in base.__subclasses__():
        if "__slots__" in sub.__dict__:
            yield sub
        yield from _node_classes(sub)


NODE_CLASSES: tuple[type[Expr], ...] = tuple(_node_classes(Expr))

for _node_class in NODE_CLASSES:
    if not any(f.default_factory is not MISSING for f in fields(_node_class)):  # (none has one today)
        _node_class.__init__ = _direct_init(_node_class)  # type: ignore[method-assign]


#: the node classes without children (``children`` as ``Expr`` has it): a pass
#: over a tree has nothing to visit below them
CHILDLESS: frozenset[type[Expr]] = frozenset(
    node_class for node_class in NODE_CLASSES if node_class.children is Expr.children
)
