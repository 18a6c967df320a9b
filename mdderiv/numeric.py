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

from fractions import Fraction
from typing import TYPE_CHECKING, Callable, Mapping

import numpy as np

from .expr import (
    SCALAR,
    Add,
    Commutation,
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
    Norm,
    Number,
    Ones,
    Power,
    Softmax,
    Symbol,
    Trace,
    Transpose,
    Vec,
    Zeros,
)

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


def _sigmoid(z: Array) -> Array:
    # tanh form: exact, and no overflow warning for large |z|
    return 0.5 * (1.0 + np.tanh(0.5 * z))


_FUNCTIONS: dict[str, Callable[[Array], Array]] = {
    "exp": np.exp,
    "log": np.log,
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "sign": np.sign,
    "sigma": _sigmoid,
    "sigma_prime": lambda z: _sigmoid(z) * (1.0 - _sigmoid(z)),
    "tanh_prime": lambda z: 1.0 - np.tanh(z) ** 2,
}


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


class Evaluator:
    """Evaluates expressions for one set of values (memoising definitions)."""

    def __init__(
        self,
        values: Mapping[str, object],
        dims: Mapping[str, int] | None = None,
        problem: "Problem | None" = None,
    ) -> None:
        self.values = values
        self.dims = dict(dims or {})
        self.problem = problem
        self.definitions: dict[str, Expr] = {}
        if problem is not None:
            self.definitions = {
                d.symbol.name: d.expr
                for d in problem.definitions
                if problem.symbols.get(d.symbol.name) is None or problem.symbols[d.symbol.name].defined
            }
        self.env: dict[str, int] = {}  # sum index -> current member
        self.memo: dict[tuple[str, tuple[tuple[str, int], ...]], Array] = {}
        self.inputs: dict[str, Array] = {}  # converted values, converted once

    def __call__(self, expr: Expr) -> Array:
        method = getattr(self, "_ev_" + type(expr).__name__, None)
        if method is None:
            raise ValueError(f"cannot evaluate {type(expr).__name__}")
        result: Array = method(expr)
        return result

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
                    array = self._input(info.name, family=info.count is not None)
                    return int(array.shape[axes.index(dim)])
        raise ValueError(f"no size for the dimension {dim!r}")

    def _input(self, key: str, family: bool = False) -> Array:
        if key not in self.inputs:
            if key not in self.values:
                raise ValueError(f"no value for {key!r}")
            raw = self.values[key]
            self.inputs[key] = _family(raw) if family else _matrix(raw)
        return self.inputs[key]

    def _member(self, key: str, index: str | None) -> Array:
        if index is None:
            return self._input(key)
        if index not in self.env:
            raise ValueError(f"{key}_{index} outside a sum over {index}")
        return self._input(key, family=True)[self.env[index]]

    # ------------------------------------------------------------------ leaves

    def _ev_Symbol(self, expr: Symbol) -> Array:
        if expr.name in self.definitions:
            key = (expr.name, tuple(sorted(self.env.items())))
            if key not in self.memo:
                self.memo[key] = self(self.definitions[expr.name])
            return self.memo[key]
        return self._member(expr.name, expr.index)

    def _ev_Differential(self, expr: Differential) -> Array:
        of = expr.of
        if isinstance(of, GradientName):  # d(∂f/∂X) in a second differential
            return self._member(differential_key(_gradient_key_of(of)), of.of.index)
        return self._member(differential_key(of.name), of.index)

    def _ev_GradientName(self, expr: GradientName) -> Array:
        return self._member(_gradient_key_of(expr), expr.of.index)

    def _ev_Number(self, expr: Number) -> Array:
        return np.full((1, 1), float(expr.value))

    def _ev_DimValue(self, expr: DimValue) -> Array:
        return np.full((1, 1), float(self.dim(expr.dim)))

    def _ev_Ones(self, expr: Ones) -> Array:
        return np.ones((self.dim(expr.shape[0]), self.dim(expr.shape[1])))

    def _ev_Zeros(self, expr: Zeros) -> Array:
        return np.zeros((self.dim(expr.shape[0]), self.dim(expr.shape[1])))

    def _ev_Identity(self, expr: Identity) -> Array:
        return np.eye(self.dim(expr.shape[0]))

    def _ev_Commutation(self, expr: Commutation) -> Array:
        return commutation_matrix(self.dim(expr.rows), self.dim(expr.cols))

    # ------------------------------------------------------------------ operators

    def _ev_Add(self, expr: Add) -> Array:
        total = self(expr.terms[0])
        for term in expr.terms[1:]:
            total = total + self(term)
        return total

    def _ev_MatMul(self, expr: MatMul) -> Array:
        # scalar (1×1) factors scale; the others chain with @
        scale = 1.0
        scalars: list[Array] = []
        matrices: list[Array] = []
        for factor in expr.factors:
            if isinstance(factor, Number):
                scale *= float(factor.value)
            elif factor.shape == SCALAR:
                scalars.append(self(factor))
            else:
                matrices.append(self(factor))
        if len(matrices) >= 3:
            result = np.linalg.multi_dot(matrices)
        elif len(matrices) == 2:
            result = matrices[0] @ matrices[1]
        elif matrices:
            result = matrices[0]
        else:
            result = np.ones((1, 1))
        for value in scalars:
            result = result * value
        return result * scale if scale != 1.0 else result

    def _ev_Hadamard(self, expr: Hadamard) -> Array:
        return self(expr.left) * self(expr.right)

    def _ev_HadamardDiv(self, expr: HadamardDiv) -> Array:
        return self(expr.left) / self(expr.right)

    def _ev_Kron(self, expr: Kron) -> Array:
        return np.kron(self(expr.left), self(expr.right))

    def _ev_Transpose(self, expr: Transpose) -> Array:
        return self(expr.arg).T

    def _ev_Inverse(self, expr: Inverse) -> Array:
        return np.linalg.inv(self(expr.arg))

    def _ev_Power(self, expr: Power) -> Array:
        base = self(expr.base)
        exponent = Fraction(expr.exponent)
        if expr.base.shape == SCALAR:
            # an integer power stays defined for negative bases
            return base ** (exponent.numerator if exponent.denominator == 1 else float(exponent))
        if exponent.denominator != 1:
            raise ValueError("a matrix power must be an integer")
        return np.linalg.matrix_power(base, exponent.numerator)

    def _ev_Det(self, expr: Det) -> Array:
        return np.linalg.det(self(expr.arg)).reshape(1, 1)

    def _ev_Trace(self, expr: Trace) -> Array:
        return np.trace(self(expr.arg)).reshape(1, 1)

    def _ev_Elementwise(self, expr: Elementwise) -> Array:
        if expr.fn not in _FUNCTIONS:
            raise ValueError(f"cannot evaluate the elementwise function {expr.fn!r}")
        return _FUNCTIONS[expr.fn](self(expr.arg))

    def _ev_Softmax(self, expr: Softmax) -> Array:
        a = self(expr.arg)
        e = np.exp(a - a.max())
        return e / e.sum()

    def _ev_Norm(self, expr: Norm) -> Array:
        # Euclidean for vectors, Frobenius for matrices: one formula for both
        return np.full((1, 1), np.linalg.norm(self(expr.arg)))

    def _ev_Diag(self, expr: Diag) -> Array:
        arg = self(expr.arg)
        if expr.arg.shape[1] == 1:
            return np.diagflat(arg)
        return np.diag(arg).reshape(-1, 1)

    def _ev_Vec(self, expr: Vec) -> Array:
        return self(expr.arg).reshape(-1, 1, order="F")

    def _ev_IndexedSum(self, expr: IndexedSum) -> Array:
        count = self._count(expr)
        outer = self.env.get(expr.index)
        total: Array | None = None
        try:
            for i in range(count):
                self.env[expr.index] = i
                value = self(expr.body)
                total = value if total is None else total + value
        finally:
            if outer is None:
                self.env.pop(expr.index, None)
            else:
                self.env[expr.index] = outer
        if total is None:  # an empty sum
            return np.zeros((self.dim(expr.shape[0]), self.dim(expr.shape[1])))
        return total

    def _count(self, expr: IndexedSum) -> int:
        """The number of terms: the dimension, else the summed family's length."""
        try:
            return self.dim(expr.upper)
        except ValueError:
            for node in expr.body.walk():
                if isinstance(node, Symbol) and node.index == expr.index and node.name in self.values:
                    return int(self._input(node.name, family=True).shape[0])
            raise


def evaluate(
    expr: Expr,
    values: Mapping[str, object],
    dims: Mapping[str, int] | None = None,
    problem: "Problem | None" = None,
) -> Array:
    """``expr`` at ``values`` as a 2-D float array (scalars ``(1, 1)``).

    ``dims`` gives the dimension names' sizes (missing ones are read off the
    declared symbols' values); ``problem`` supplies the definitions of the
    intermediate symbols and the families' layout.
    """
    return Evaluator(values, dims, problem)(expr)
