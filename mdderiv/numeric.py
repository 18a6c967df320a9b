"""Evaluate an expression at numbers: the numerical check's workhorse.

Same semantics as the NumPy renderer (``mdderiv.render.numpy``), written
independently as a visitor, so that each can test the other.  Every value is a
2-D float array; scalars are ``(1, 1)``.

Values are keyed by identifier.  Besides the symbols:

- a family ``x_i`` is ``values["x"]`` of shape ``(count, rows, cols)``;
- a differential ``dX`` is ``values[differential_key("X")]`` (``"d(X)"``);
- a placeholder ``∂l/∂Y`` is ``values[gradient_key("l", "Y")]`` (``"dl/dY"``;
  ``"dl/dY^T"`` in numerator layout, ``"dl/dY hessian"`` for the Hessian name);
- ``d(∂l/∂Y)`` in a second differential is ``values["d(dl/dY)"]``.

Neither key is a Python identifier, so neither can collide with a symbol.
Defined (intermediate) symbols are computed from ``problem.definitions``,
once per call (and per value of the sum indices they depend on).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from .expr import (
    ON_EIGENVALUES,
    SCALAR,
    Add,
    Commutation,
    Constant,
    Det,
    Diag,
    Differential,
    Dim,
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
)
from .functions import CONSTANTS, FUNCTIONS, NORMS

if TYPE_CHECKING:
    from .problem import Problem

Array = np.ndarray


def differential_key(name: str) -> str:
    """The ``values`` key of the differential ``d<name>``."""
    return f"d({name})"


def gradient_key(objective: str, name: str, numerator: bool = False) -> str:
    """The ``values`` key of the placeholder ``∂<objective>/∂<name>``
    (``∂<objective>/∂<name>^T``, shaped like the transpose, when ``numerator``)."""
    return f"d{objective}/d{name}" + ("^T" if numerator else "")


def _gradient_key_of(node: GradientName) -> str:
    key = gradient_key(node.objective, node.of.name, getattr(node, "numerator", False))
    return key + (" hessian" if getattr(node, "hessian", False) else "")


def matrix_function(fn: str, exponent: Fraction, a: Array) -> Array:
    """The matrix function ``fn`` of the square ``a`` through its eigendecomposition
    ``a = V diag(λ) V^{-1}`` (NumPy only; the samples are diagonalisable with
    probability one).  A ValueError where it is not real (a log or a fractional
    power of a matrix with eigenvalues on the negative real axis): the check
    then tries another point."""
    if fn == "pow" and exponent.denominator == 1:
        return np.linalg.matrix_power(a, exponent.numerator)
    if fn == "sqrt":
        exponent = Fraction(1, 2)
    symmetric = np.allclose(a, a.T, rtol=0, atol=1e-14 * max(1.0, float(np.abs(a).max(initial=0))))
    if symmetric:
        w, v = np.linalg.eigh(a)
        inverse_v = v.T
    else:
        w, v = np.linalg.eig(a)
        inverse_v = np.linalg.inv(v)
    if fn in ON_EIGENVALUES:
        _near_a_singularity(fn, w)
        fw = FUNCTIONS[fn].evaluate(w)
    elif fn in ("log", "sqrt", "pow"):
        if np.any((np.abs(w.imag) <= 1e-12 * np.abs(w)) & (w.real <= 0)):
            raise ValueError(f"the matrix {fn} needs no eigenvalue on the closed negative real axis")
        w = w.astype(complex)
        fw = np.log(w) if fn == "log" else np.exp(float(exponent) * np.log(w))
    else:
        raise ValueError(f"no matrix function {fn!r}")
    value = (v * fw) @ inverse_v
    if np.iscomplexobj(value):
        if np.abs(value.imag).max(initial=0) > 1e-8 * max(1.0, float(np.abs(value).max(initial=0))):
            raise ValueError(f"the matrix {fn} is not real here")
        value = value.real
    return np.asarray(value, dtype=float)


#: how far an eigenvalue stays from tan's poles and arctan's branch cuts for the
#: check's central differences to be exact
_SINGULARITY_MARGIN = 0.05


def _near_a_singularity(fn: str, w: Array) -> None:
    """A ValueError when an eigenvalue is near a pole of tan (cos λ = 0) or
    on or near a branch cut of arctan (±i[1, ∞)): the check tries another point."""
    if fn == "tan" and np.any(np.abs(np.cos(w.astype(complex))) < _SINGULARITY_MARGIN):
        raise ValueError("the matrix tan needs no eigenvalue at a pole of tan")
    if fn == "arctan" and np.any(
        (np.abs(w.real) < _SINGULARITY_MARGIN) & (np.abs(w.imag) > 1 - _SINGULARITY_MARGIN)
    ):
        raise ValueError("the matrix arctan needs no eigenvalue on ±i[1, ∞)")


def _matrix(value: object) -> Array:
    """A symbol's value as a 2-D float array (floats to (1, 1), 1-D to columns)."""
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return array.reshape(1, 1)
    if array.ndim == 1:
        return array.reshape(-1, 1)
    return array


def _family(value: object) -> Array:
    """A family's value as ``(count, rows, cols)``."""
    array = np.asarray(value, dtype=float)
    if array.ndim == 1:  # a family of scalars
        return array.reshape(-1, 1, 1)
    if array.ndim == 2:  # a family of vectors given as rows
        return array[:, :, None]
    return array


def commutation_matrix(rows: int, cols: int) -> Array:
    """K with ``K vec(X) = vec(X^T)`` for X of shape ``(rows, cols)``."""
    size = rows * cols
    order = np.arange(size).reshape(rows, cols, order="F").ravel()
    return np.eye(size)[order]


_FLOAT = np.dtype(float)


def _determinant(a: Array) -> Array:
    """``det(a)`` as a (1, 1) array."""
    determinant: Array = np.linalg.det(a)
    return determinant.reshape(1, 1)


#: An expression compiled for the numbers: called with the values' state.
Compiled = Callable[["Evaluator"], Array]


def _raising(message: str) -> Compiled:
    """A node that cannot be evaluated fails when it is reached, not when it is
    compiled (an empty sum never reaches its body)."""

    def fail(ev: Evaluator) -> Array:
        raise ValueError(message)

    return fail


def _constant(value: Array) -> Compiled:
    value.flags.writeable = False  # shared by every evaluation: nobody may change it
    return lambda ev: value


def definitions_of(problem: Problem | None) -> dict[str, Expr]:
    """The intermediate symbols' definitions, by name."""
    if problem is None:
        return {}
    return {
        d.symbol.name: d.expr
        for d in problem.definitions
        if problem.symbols.get(d.symbol.name) is None or problem.symbols[d.symbol.name].defined
    }


#: Nodes worth computing once per evaluation when they occur more than once.
_COSTLY = frozenset({Inverse, Det, Kron})


class Compiler:
    """Turns expressions into nested closures, once: the check evaluates the
    same few trees at many points, so the per-node dispatch (and the sorting of
    a product's factors into numbers, scalars and matrices) is done here instead
    of at every evaluation.  A visitor: ``_compile_<Class>`` per node class.
    Each node is compiled once per compiler, however many of the trees asked
    for hold it (the calculus hands the objective's subtrees on to its
    results): the memo is keyed by identity, which costs no hashing of trees,
    and holds each node, so no identity is reused while it lives."""

    def __init__(self, definitions: Mapping[str, Expr] | None = None) -> None:
        self.definitions = dict(definitions or {})
        #: id(node) -> (node, its compiled form)
        self.compiled: dict[int, tuple[Expr, Compiled]] = {}
        self.shared: dict[Expr, Compiled] = {}

    def _compile(self, expr: Expr) -> Compiled:
        known = self.compiled.get(id(expr))
        if known is not None:
            return known[1]
        kind = type(expr)
        method = _COMPILING.get(kind)
        if method is None:  # first use of this node class
            method = _COMPILING[kind] = Compiler._shared if kind in _COSTLY else _compiling(kind)
        compiled = method(self, expr)
        self.compiled[id(expr)] = (expr, compiled)
        return compiled

    #: compiling an expression is calling the compiler (the same method: no call in between)
    __call__ = _compile

    def _dispatch(self, expr: Expr) -> Compiled:
        return _compiling(type(expr))(self, expr)

    def _shared(self, expr: Expr) -> Compiled:
        """A costly node (an inverse …) computed once per evaluation however
        often it occurs: ``X^{-1} A X^{-1}`` inverts X once."""
        known = self.shared.get(expr)
        if known is not None:
            return known
        compute = self._dispatch(expr)
        slot = len(self.shared)

        def shared(ev: Evaluator) -> Array:
            if ev.env:  # inside a sum its value may depend on the index
                return compute(ev)
            cache = ev.shared
            value = cache.get(slot)
            if value is None:
                value = cache[slot] = compute(ev)
            return value

        self.shared[expr] = shared
        return shared

    # ------------------------------------------------------------------ leaves

    def _compile_Symbol(self, expr: Symbol) -> Compiled:
        name = expr.name
        if name not in self.definitions:
            return _member(name, expr.index)
        return self._defined(name, self.definitions[name])

    def _defined(self, name: str, definition: Expr) -> Compiled:
        """An intermediate symbol (a closure made here, not in ``_compile_Symbol``:
        there its variables would be cells at every symbol compiled)."""

        def defined(ev: Evaluator) -> Array:
            # computed once per evaluation and per value of the sum indices
            key = (name, tuple(sorted(ev.env.items())))
            memo = ev.memo
            if key not in memo:
                memo[key] = self(definition)(ev)
            return memo[key]

        return defined

    def _compile_Differential(self, expr: Differential) -> Compiled:
        of = expr.of
        if isinstance(of, GradientName):  # d(∂f/∂X) in a second differential
            return _member(differential_key(_gradient_key_of(of)), of.of.index)
        return _member(differential_key(of.name), of.index)

    def _compile_GradientName(self, expr: GradientName) -> Compiled:
        return _member(_gradient_key_of(expr), expr.of.index)

    def _compile_Number(self, expr: Number) -> Compiled:
        return _constant(np.full((1, 1), float(expr.value)))

    def _compile_Constant(self, expr: Constant) -> Compiled:
        value = np.array([[CONSTANTS[expr.name].value]])
        return lambda ev: value

    def _compile_DimValue(self, expr: DimValue) -> Compiled:
        dim = expr.dim
        return lambda ev: np.full((1, 1), float(ev.dim(dim)))

    def _compile_Ones(self, expr: Ones) -> Compiled:
        rows, cols = expr.shape
        return lambda ev: np.ones((ev.dim(rows), ev.dim(cols)))

    def _compile_Zeros(self, expr: Zeros) -> Compiled:
        rows, cols = expr.shape
        return lambda ev: np.zeros((ev.dim(rows), ev.dim(cols)))

    def _compile_Identity(self, expr: Identity) -> Compiled:
        size = expr.shape[0]
        return lambda ev: np.eye(ev.dim(size))

    def _compile_Commutation(self, expr: Commutation) -> Compiled:
        rows, cols = expr.rows, expr.cols
        return lambda ev: commutation_matrix(ev.dim(rows), ev.dim(cols))

    # ------------------------------------------------------------------ operators

    def _compile_Add(self, expr: Add) -> Compiled:
        # a term -p (a product whose numbers make -1) is subtracted: a - p is
        # exactly a + (-1)p, one array operation fewer
        first = self._compile(expr.terms[0])
        later = [self._term(term) for term in expr.terms[1:]]
        if len(later) == 1:
            (minus, second), = later
            return _difference(first, second) if minus else _sum_of_two(first, second)
        return _sum_of_many(first, later)

    def _term(self, term: Expr) -> tuple[bool, Compiled]:
        """(whether it is subtracted, what is added or subtracted)."""
        if isinstance(term, MatMul):
            numbers, others = _split_numbers(term)
            if numbers == -1.0:
                return True, self._product(others, 1.0)
        return False, self._compile(term)

    def _compile_MatMul(self, expr: MatMul) -> Compiled:
        scale, others = _split_numbers(expr)
        return self._product(others, scale)

    def _product(self, factors: list[Expr], scale: float) -> Compiled:
        """``scale`` times the product of ``factors``, none of them a number:
        the scalar (1×1) ones multiply, the others chain as matrices."""
        parts = [self._compile(factor) for factor in factors]
        is_matrix = [factor.shape != SCALAR for factor in factors]
        if all(is_matrix) and len(parts) in (1, 2, 3):
            # the usual products, without building a list at each evaluation
            if len(parts) == 1:
                chained: Compiled = parts[0]
            elif len(parts) == 2:
                chained = _dot_of_two(*parts)
            else:
                chained = _dot_of_three(*parts)
            return chained if scale == 1.0 else _scaled(chained, scale)
        if is_matrix == [False]:  # a number times a scalar: ½‖r‖² (1 × s is s exactly)
            (scalar,) = parts
            return scalar if scale == 1.0 else _scaled(scalar, scale)
        return _general_product(parts, is_matrix, scale)

    def _compile_Hadamard(self, expr: Hadamard) -> Compiled:
        left, right = self._compile(expr.left), self._compile(expr.right)
        return lambda ev: left(ev) * right(ev)

    def _compile_HadamardDiv(self, expr: HadamardDiv) -> Compiled:
        left, right = self._compile(expr.left), self._compile(expr.right)
        return lambda ev: left(ev) / right(ev)

    def _compile_Kron(self, expr: Kron) -> Compiled:
        left, right = self._compile(expr.left), self._compile(expr.right)
        return lambda ev: np.kron(left(ev), right(ev))

    def _compile_Transpose(self, expr: Transpose) -> Compiled:
        arg = self._compile(expr.arg)
        return lambda ev: arg(ev).T

    def _compile_Inverse(self, expr: Inverse) -> Compiled:
        arg = self._compile(expr.arg)
        return lambda ev: np.linalg.inv(arg(ev))

    def _compile_Power(self, expr: Power) -> Compiled:
        base = self._compile(expr.base)
        exponent = expr.exponent if type(expr.exponent) is Fraction else Fraction(expr.exponent)
        if expr.base.shape == SCALAR:
            # an integer power stays defined for negative bases
            return _power(base, exponent.numerator if exponent.denominator == 1 else float(exponent))
        if exponent.denominator != 1:
            return _raising("a matrix power must be an integer")
        return _matrix_power(base, exponent.numerator)

    def _compile_Det(self, expr: Det) -> Compiled:
        arg = self._compile(expr.arg)
        return lambda ev: _determinant(arg(ev))

    def _compile_Trace(self, expr: Trace) -> Compiled:
        arg = self._compile(expr.arg)
        return lambda ev: np.array(arg(ev).trace(), ndmin=2)  # as (1, 1), cheaper than reshape

    def _compile_Elementwise(self, expr: Elementwise) -> Compiled:
        entry = FUNCTIONS.get(expr.fn)
        if entry is None:
            return _raising(f"cannot evaluate the elementwise function {expr.fn!r}")
        fn, arg = entry.evaluate, self._compile(expr.arg)
        return lambda ev: fn(arg(ev))

    def _compile_MatrixFunction(self, expr: MatrixFunction) -> Compiled:
        arg, fn, exponent = self._compile(expr.arg), expr.fn, Fraction(expr.exponent)
        return lambda ev: matrix_function(fn, exponent, arg(ev))

    def _compile_Softmax(self, expr: Softmax) -> Compiled:
        arg = self._compile(expr.arg)

        def softmax(ev: Evaluator) -> Array:
            a = arg(ev)
            e: Array = np.exp(a - a.max())
            normalised: Array = e / e.sum()
            return normalised

        return softmax

    def _compile_Norm(self, expr: Norm) -> Compiled:
        arg, evaluate = self._compile(expr.arg), NORMS[expr.kind].evaluate
        # (a float made (1, 1) by ndmin: cheaper than reading a nested list)
        return lambda ev: np.array(evaluate(arg(ev)), ndmin=2)

    def _compile_Diag(self, expr: Diag) -> Compiled:
        arg = self._compile(expr.arg)
        if expr.arg.shape[1] == 1:
            return lambda ev: np.diagflat(arg(ev))
        return lambda ev: np.diag(arg(ev)).reshape(-1, 1)

    def _compile_Vec(self, expr: Vec) -> Compiled:
        arg = self._compile(expr.arg)
        return lambda ev: arg(ev).reshape(-1, 1, order="F")

    def _compile_Unvec(self, expr: Unvec) -> Compiled:
        arg, (rows, cols) = self._compile(expr.arg), expr.shape
        return lambda ev: arg(ev).reshape((ev.dim(rows), ev.dim(cols)), order="F")

    def _compile_IndexedSum(self, expr: IndexedSum) -> Compiled:
        body, index, shape = self._compile(expr.body), expr.index, expr.shape

        def indexed_sum(ev: Evaluator) -> Array:
            count = ev.count(expr)
            env = ev.env
            outer = env.get(index)
            total: Array | None = None
            try:
                for i in range(count):
                    env[index] = i
                    value = body(ev)
                    total = value if total is None else total + value
            finally:
                if outer is None:
                    env.pop(index, None)
                else:
                    env[index] = outer
            if total is None:  # an empty sum
                return np.zeros((ev.dim(shape[0]), ev.dim(shape[1])))
            return total

        return indexed_sum


#: node class -> how the compiler compiles it (filled on first use)
_COMPILING: dict[type, Callable[[Compiler, Expr], Compiled]] = {}


def _compiling(kind: type) -> Callable[[Compiler, Expr], Compiled]:
    """The ``_compile_<Class>`` method for a node class (a failing node if none)."""
    method: Callable[[Compiler, Expr], Compiled] | None = getattr(Compiler, "_compile_" + kind.__name__, None)
    if method is None:
        failing = _raising(f"cannot evaluate {kind.__name__}")
        return lambda compiler, expr: failing
    return method


# The closures of sums and products, each made by a function of its own: a
# closure's variables are cells, and a method that makes several kinds of
# closure makes a cell for every variable any of them uses, at every call.


def _sum_of_two(first: Compiled, second: Compiled) -> Compiled:
    return lambda ev: first(ev) + second(ev)


def _difference(first: Compiled, second: Compiled) -> Compiled:
    return lambda ev: first(ev) - second(ev)


def _sum_of_many(first: Compiled, later: list[tuple[bool, Compiled]]) -> Compiled:
    def add(ev: Evaluator) -> Array:
        total = first(ev)
        for minus, term in later:
            total = total - term(ev) if minus else total + term(ev)
        return total

    return add


def _dot_of_two(a: Compiled, b: Compiled) -> Compiled:
    return lambda ev: a(ev).dot(b(ev))


def _dot_of_three(a: Compiled, b: Compiled, c: Compiled) -> Compiled:
    return lambda ev: _chain_of_three(a(ev), b(ev), c(ev))


def _scaled(compiled: Compiled, scale: float) -> Compiled:
    return lambda ev: compiled(ev) * scale


def _power(base: Compiled, power: int | float) -> Compiled:
    return lambda ev: base(ev) ** power


def _matrix_power(base: Compiled, whole: int) -> Compiled:
    return lambda ev: np.linalg.matrix_power(base(ev), whole)


def _general_product(parts: list[Compiled], is_matrix: list[bool], scale: float) -> Compiled:
    chain = _chain(is_matrix.count(True))

    def product(ev: Evaluator) -> Array:
        values = [part(ev) for part in parts]  # in order, as written
        result = chain([v for v, matrix in zip(values, is_matrix, strict=True) if matrix])
        for v, matrix in zip(values, is_matrix, strict=True):
            if not matrix:
                result = result * v
        return result * scale if scale != 1.0 else result

    return product


def _split_numbers(product: MatMul) -> tuple[float, list[Expr]]:
    """A product's numbers folded into one float, and its other factors."""
    scale = 1.0
    others: list[Expr] = []
    for factor in product.factors:
        if type(factor) is Number:
            value = factor.value
            # float(value), without Rational.__float__'s Python-level detour
            # (the same true division of the whole numbers)
            scale *= value.numerator / value.denominator if type(value) is Fraction else float(value)
        else:
            others.append(factor)
    return scale, others


def _member(key: str, index: str | None) -> Compiled:
    """A value looked up by key: a whole input, or a family's current member."""
    if index is None:

        def whole(ev: Evaluator) -> Array:
            known = ev.inputs.get(key)
            return known if known is not None else ev.input(key)

        return whole

    def member(ev: Evaluator) -> Array:
        if index not in ev.env:
            raise ValueError(f"{key}_{index} outside a sum over {index}")
        members: Array = ev.input(key, family=True)
        this_one: Array = members[ev.env[index]]
        return this_one

    return member


def _chain(count: int) -> Callable[[list[Array]], Array]:
    """The product of ``count`` matrices, in NumPy's cheapest order (what
    ``multi_dot`` does, without its checks for 1-D input: a tiny matrix's
    product costs less than the checks)."""
    if count == 0:
        return lambda matrices: np.ones((1, 1))
    if count == 1:
        return lambda matrices: matrices[0]
    if count == 2:
        return lambda matrices: matrices[0].dot(matrices[1])
    if count == 3:
        return lambda matrices: _chain_of_three(*matrices)
    if count <= _LONG_CHAIN:
        return np.linalg.multi_dot
    # multi_dot finds the cheapest order in time cubic in the factors (in Python):
    # for a long chain of the check's small matrices that costs far more than the
    # products, so multiply along, from the end with a vector if there is one
    return _chain_along


#: the longest chain ordered by multi_dot (a trace of 40 factors would spend
#: most of its numerical check choosing an order)
_LONG_CHAIN = 8


def _chain_along(matrices: list[Array]) -> Array:
    if matrices[-1].shape[1] < matrices[0].shape[0]:  # ⋯ x: from the right
        result = matrices[-1]
        for m in reversed(matrices[:-1]):
            result = m.dot(result)
        return result
    result = matrices[0]
    for m in matrices[1:]:
        result = result.dot(m)
    return result


def _chain_of_three(a: Array, b: Array, c: Array) -> Array:
    # multi_dot's rule for three factors: the order with fewer multiplications
    a0, a1b0 = a.shape
    b1c0, c1 = c.shape
    if a0 * b1c0 * (a1b0 + c1) < a1b0 * c1 * (a0 + b1c0):
        product: Array = a.dot(b).dot(c)
    else:
        product = a.dot(b.dot(c))
    return product


def _arrays(values: Mapping[str, object]) -> dict[str, Array]:
    """The values that are arrays already (the others are converted when read)."""
    return {name: value for name, value in values.items() if isinstance(value, np.ndarray)}


class Evaluator:
    """The values for one evaluation (converted once) and what is remembered
    while evaluating there: the intermediate symbols, the sum indices."""

    __slots__ = ("values", "dims", "problem", "compiler", "env", "memo", "shared", "inputs")

    def __init__(
        self,
        values: Mapping[str, object],
        dims: Mapping[str, int] | None = None,
        problem: Problem | None = None,
        compiler: Compiler | None = None,
        ready: bool = False,
    ) -> None:
        """``ready``: the values are in this evaluator's form already (2-D
        float arrays, a family's 3-D), as the check draws them: no converting."""
        self.values = values
        self.dims: Mapping[str, int] = dims if dims is not None else {}
        self.problem = problem
        self.compiler = compiler if compiler is not None else Compiler(definitions_of(problem))
        self.env: dict[str, int] = {}  # sum index -> current member
        self.memo: dict[tuple[str, tuple[tuple[str, int], ...]], Array] = {}
        self.shared: dict[int, Array] = {}  # costly nodes outside sums, by slot
        # converted values, converted once; ready values are used as they are
        # (then nothing is added: every key is there already)
        self.inputs: dict[str, Array] = _arrays(values) if ready else {}

    def __call__(self, expr: Expr) -> Array:
        return self.compiler(expr)(self)

    def moved(self, name: str, value: Array) -> Evaluator:
        """A ready evaluator at this one's values but ``value`` (in its form
        already) for ``name``, with nothing remembered yet: the check's moved
        points (set up without ``__init__``'s defaults and conversions)."""
        other = Evaluator.__new__(Evaluator)
        other.values = {**self.values, name: value}  # (any mapping)
        other.inputs = inputs = self.inputs.copy()  # (a dict: a copy, then one key, is cheaper)
        inputs[name] = value
        other.dims, other.problem, other.compiler = self.dims, self.problem, self.compiler
        other.env, other.memo, other.shared = {}, {}, {}
        return other

    # ------------------------------------------------------------------ lookups

    def dim(self, dim: Dim) -> int:
        if isinstance(dim, int):
            return dim
        if "*" in dim:  # a product of dimensions, "m*n"
            value = 1
            for part in dim.split("*"):
                value *= self.dim(int(part) if part.isdigit() else part)
            return value
        if dim in self.dims:
            return int(self.dims[dim])
        if self.problem is not None:  # read it off a declared symbol's value
            for info in self.problem.symbols.values():
                if info.defined or info.name not in self.values:
                    continue
                axes = (info.shape if info.count is None else (info.count, *info.shape))
                if dim in axes:
                    array = self.input(info.name, family=info.count is not None)
                    return int(array.shape[axes.index(dim)])
        raise ValueError(f"no size for the dimension {dim!r}")

    def input(self, key: str, family: bool = False) -> Array:
        if key not in self.inputs:
            if key not in self.values:
                raise ValueError(f"no value for {key!r}")
            raw = self.values[key]
            self.inputs[key] = _family(raw) if family else _matrix(raw)
        return self.inputs[key]

    def count(self, expr: IndexedSum) -> int:
        """The number of terms: the dimension, else the summed family's length."""
        try:
            return self.dim(expr.upper)
        except ValueError:
            for node in expr.body.walk():
                if isinstance(node, Symbol) and node.index == expr.index and node.name in self.values:
                    return int(self.input(node.name, family=True).shape[0])
            raise


def evaluate(
    expr: Expr,
    values: Mapping[str, object],
    dims: Mapping[str, int] | None = None,
    problem: Problem | None = None,
    compiler: Compiler | None = None,
) -> Array:
    """``expr`` at ``values`` as a 2-D float array (scalars ``(1, 1)``).

    ``dims`` gives the dimension names' sizes (missing ones are read off the
    declared symbols' values); ``problem`` supplies the definitions of the
    intermediate symbols and the families' layout.  Pass the same ``compiler``
    (``Compiler(definitions_of(problem))``) to evaluate the same expressions at
    many values: each is then compiled only once.
    """
    return Evaluator(values, dims, problem, compiler)(expr)
