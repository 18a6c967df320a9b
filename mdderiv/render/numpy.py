"""NumPy source for an expression: one Python expression in ``np`` and the
symbols' identifiers (spec §7 ``numpy``).

Conventions of the emitted code: vectors are ``(k, 1)`` arrays; a scalar may be
a float or a ``(1, 1)`` array, so scalar factors multiply with ``*`` (which
broadcasts) and only matrix factors chain with ``@``.  Scalar-shaped nodes
never get ``.T``, ``np.trace`` or ``np.linalg.inv`` (a float has none of them).
A family ``x_i`` is one array ``x`` of shape ``(count, rows, cols)``.

Only identifiers (checked with ``str.isidentifier``) and numbers from the
problem reach the output; nothing else of the user's text does.
"""

from __future__ import annotations

import keyword
from fractions import Fraction
from typing import TYPE_CHECKING

from ..expr import (
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
from ..functions import CONSTANTS, FUNCTIONS, NORMS
from .dispatch import find_method, method_table

if TYPE_CHECKING:
    from ..problem import Problem
    from ..record import DerivationRecord, Result

# Python precedence levels of what we emit (higher binds tighter).
ADD, MUL, NEG, POW, ATOM = 10, 20, 30, 40, 50

Code = tuple[str, int]  # source and its precedence

#: the precedence of a function's NumPy code (``Function.numpy_loose``)
_LOOSENESS = {"": ATOM, "mul": MUL, "add": ADD}
_RESERVED = {"np", "sum", "range", "float", "lambda"}


def _identifier(name: str) -> str:
    """``name`` if it is safe to emit as a Python name, else ValueError."""
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"{name!r} is not a Python identifier")
    return name


def _number(value: Fraction) -> Code:
    # (read through numerator and denominator, which ints have too: no Fraction
    # is built or compared, each of which runs Python code in ``fractions``)
    numerator, denominator = value.numerator, value.denominator
    if denominator == 1:
        return (str(numerator), ATOM if numerator >= 0 else NEG)
    return (f"{numerator}/{denominator}", MUL)


def _paren(code: Code, at_least: int) -> str:
    text, prec = code
    return text if prec >= at_least else f"({text})"


class NumpyPrinter:
    """A visitor from ``Expr`` to NumPy source, for one problem."""

    def __init__(self, problem: Problem | None) -> None:
        self.problem = problem
        self.definitions: dict[str, Expr] = {}
        if problem is not None:
            self.definitions = {d.symbol.name: d.expr for d in problem.definitions}
        self.loop_names: dict[str, str] = {}  # sum index -> Python loop variable
        self.methods = method_table(type(self))

    # ------------------------------------------------------------------ dispatch

    def doprint(self, expr: Expr) -> str:
        return self._print(expr)[0]

    def _print(self, expr: Expr) -> Code:
        kind = type(expr)
        method = self.methods.get(kind) or find_method(type(self), kind)
        if method is None:
            raise ValueError(f"no NumPy form for {kind.__name__}")
        code: Code = method(self, expr)
        return code

    # ------------------------------------------------------------------ dimensions

    def dim(self, dim: Dim) -> Code:
        """A dimension as code: an integer, or ``X.shape[k]`` of a declared
        symbol that has it (a family's count is its axis 0)."""
        if isinstance(dim, int):
            return (str(dim), ATOM)
        if "*" in dim:  # a product of dimensions, "m*n"
            parts = [self.dim(int(p) if p.isdigit() else p) for p in dim.split("*")]
            return (" * ".join(_paren(p, MUL + 1) for p in parts), MUL)
        if self.problem is not None:
            infos = [i for i in self.problem.symbols.values() if not i.defined]
            for info in infos:  # plain symbols first: X.shape[1] reads best
                if info.count is None and info.shape != SCALAR and dim in info.shape:
                    return (f"{_identifier(info.name)}.shape[{info.shape.index(dim)}]", ATOM)
            for info in infos:
                if info.count is not None:
                    axes = (info.count, info.shape[0], info.shape[1])
                    if dim in axes:
                        return (f"{_identifier(info.name)}.shape[{axes.index(dim)}]", ATOM)
        # a dimension no declared symbol carries: its name (bound by the caller)
        return (_identifier(str(dim)), ATOM)

    def doprint_dim(self, dim: Dim) -> str:
        return self.dim(dim)[0]

    def _size(self, shape: tuple[Dim, Dim]) -> str:
        return f"({self.doprint_dim(shape[0])}, {self.doprint_dim(shape[1])})"

    # ------------------------------------------------------------------ leaves

    def _print_Symbol(self, expr: Symbol) -> Code:
        if expr.name in self.definitions and self._is_defined(expr.name):
            return self._print(self.definitions[expr.name])
        name = _identifier(expr.name)
        if expr.index is not None:
            if expr.index not in self.loop_names:
                raise ValueError(f"{expr.name}_{expr.index} outside a sum over {expr.index}")
            return (f"{name}[{self.loop_names[expr.index]}]", ATOM)
        return (name, ATOM)

    def _is_defined(self, name: str) -> bool:
        if self.problem is None:
            return True
        info = self.problem.symbols.get(name)
        return info is None or info.defined

    def _print_Differential(self, expr: Differential) -> Code:
        raise ValueError("a differential has no NumPy value")

    def _print_GradientName(self, expr: GradientName) -> Code:
        raise ValueError(f"the placeholder ∂{expr.objective}/∂{expr.of.name} has no NumPy value")

    def _print_Number(self, expr: Number) -> Code:
        return _number(expr.value)

    def _print_Constant(self, expr: Constant) -> Code:
        return (CONSTANTS[expr.name].numpy, ATOM)

    def _print_DimValue(self, expr: DimValue) -> Code:
        return self.dim(expr.dim)

    def _print_Ones(self, expr: Ones) -> Code:
        return (f"np.ones({self._size(expr.shape)})", ATOM)

    def _print_Zeros(self, expr: Zeros) -> Code:
        return (f"np.zeros({self._size(expr.shape)})", ATOM)

    def _print_Identity(self, expr: Identity) -> Code:
        return (f"np.eye({self.doprint_dim(expr.shape[0])})", ATOM)

    def _print_Commutation(self, expr: Commutation) -> Code:
        # K[j + i·n, i + j·m] = 1: row r of K picks entry perm[r] of vec(X),
        # where perm lists vec(X)'s indices in the order of vec(X^T).
        m = _paren(self.dim(expr.rows), MUL + 1)
        n = _paren(self.dim(expr.cols), MUL + 1)
        size = f"{m} * {n}"
        return (f'np.eye({size})[np.arange({size}).reshape({m}, {n}, order="F").ravel()]', ATOM)

    # ------------------------------------------------------------------ sums and products

    @staticmethod
    def _negative(expr: Expr) -> bool:
        # (the numerator's sign is the number's: a Fraction's denominator is
        # positive, and comparing the Fraction itself runs Python code)
        if isinstance(expr, Number):
            return expr.value.numerator < 0
        if isinstance(expr, MatMul):
            return _coefficient(expr).numerator < 0
        return False

    def _print_Add(self, expr: Add) -> Code:
        out = ""
        for position, term in enumerate(expr.terms):
            if position and self._negative(term):
                out += " - " + _paren(self._print(_negated(term)), ADD + 1)
            elif position:
                out += " + " + _paren(self._print(term), ADD + 1)
            else:
                out += _paren(self._print(term), ADD)
        return (out, ADD)

    def _print_MatMul(self, expr: MatMul) -> Code:
        # one pass over the factors: the numbers make the coefficient (as in
        # _coefficient), the other scalars multiply, the matrices chain
        coefficient = _ONE
        scalars: list[Expr] = []
        matrices: list[Expr] = []
        for f in expr.factors:
            if isinstance(f, Number):
                coefficient = f.value if coefficient is _ONE else coefficient * f.value
                if f.shape != SCALAR:
                    matrices.append(f)
            elif f.shape == SCALAR:
                scalars.append(f)
            else:
                matrices.append(f)
        chain: list[str] = []
        for factor in scalars:
            chain.append(_paren(self._print(factor), MUL + 1))
        if matrices:
            # the matrix chain first, then times the scalars: @ and * share one
            # precedence level, so a parenthesised chain keeps the reading plain
            matrix = self._chain(matrices)
            if chain and len(matrices) > 1:
                matrix = f"({matrix})"
            chain.append(matrix)
        # (most products have no number: their coefficient is _ONE itself, and
        # the Fraction comparisons, Python code in ``fractions``, are skipped)
        if coefficient is not _ONE and coefficient == -1 and chain:
            return ("-" + " * ".join(chain), MUL)
        if (coefficient is not _ONE and coefficient != 1) or not chain:
            chain.insert(0, _paren(_number(coefficient), MUL))
        return (" * ".join(chain), MUL)

    def _diagonal(self, expr: Expr) -> str | None:
        """The vector v when ``expr`` is diag(v) (or its inverse, 1/v)."""
        if isinstance(expr, Diag) and expr.arg.shape[1] == 1:
            return _paren(self._print(expr.arg), ATOM)
        if isinstance(expr, Inverse) and isinstance(expr.arg, Diag) and expr.arg.arg.shape[1] == 1:
            return f"(1 / {_paren(self._print(expr.arg.arg), ATOM)})"
        return None

    def _permutation(self, expr: Commutation) -> str:
        m = _paren(self.dim(expr.rows), MUL + 1)
        n = _paren(self.dim(expr.cols), MUL + 1)
        return f'np.arange({m} * {n}).reshape({m}, {n}, order="F").ravel()'

    def _chain(self, matrices: list[Expr]) -> str:
        """``A @ B @ …`` where a diagonal matrix scales rows or columns and the
        commutation matrix permutes them: never an n×n diagonal or an
        n²×n² permutation matrix built densely (O(n³) and O(n⁶) products)."""
        acc: str | None = None
        pending: list[str] = []  # what to apply to the next factor, innermost first
        for factor in matrices:
            # (only a diag(v) or its inverse is one: no call for the others)
            vector = self._diagonal(factor) if type(factor) is Diag or type(factor) is Inverse else None
            if vector is not None:
                if acc is None:
                    pending.append(f"{vector} * ")
                else:
                    acc = f"({acc}) * {vector}.T"
                continue
            if isinstance(factor, Commutation):
                perm = self._permutation(factor)
                if acc is None:
                    pending.append(f"[{perm}]")
                else:
                    acc = f"({acc})[:, np.argsort({perm})]"
                continue
            code = _paren(self._print(factor), MUL + 1)
            for action in reversed(pending):
                code = f"({code}){action}" if action.startswith("[") else f"({action}{code})"
            pending = []
            acc = code if acc is None else f"{acc} @ {code}"
        if pending:  # the chain ended in diagonals or permutations: build them
            dense = [self._print(f)[0] for f in matrices if self._diagonal(f) is not None or isinstance(f, Commutation)]
            tail = " @ ".join(_paren((d, ATOM), MUL + 1) for d in dense[-len(pending):])
            acc = tail if acc is None else f"{acc} @ {tail}"
        assert acc is not None
        return acc

    def _binary(self, left: Expr, right: Expr, op: str) -> Code:
        return (f"{_paren(self._print(left), MUL)} {op} {_paren(self._print(right), MUL + 1)}", MUL)

    def _print_Hadamard(self, expr: Hadamard) -> Code:
        return self._binary(expr.left, expr.right, "*")

    def _print_HadamardDiv(self, expr: HadamardDiv) -> Code:
        return self._binary(expr.left, expr.right, "/")

    def _print_Kron(self, expr: Kron) -> Code:
        return (f"np.kron({self.doprint(expr.left)}, {self.doprint(expr.right)})", ATOM)

    # ------------------------------------------------------------------ postfix

    def _print_Transpose(self, expr: Transpose) -> Code:
        if expr.arg.shape == SCALAR:
            return self._print(expr.arg)
        return (_paren(self._print(expr.arg), ATOM) + ".T", ATOM)

    def _print_Inverse(self, expr: Inverse) -> Code:
        if expr.arg.shape == SCALAR:
            return ("1/" + _paren(self._print(expr.arg), POW), MUL)
        return (f"np.linalg.inv({self.doprint(expr.arg)})", ATOM)

    def _print_Power(self, expr: Power) -> Code:
        exponent = Fraction(expr.exponent)
        if expr.base.shape == SCALAR:
            power = _paren(_number(exponent), ATOM)
            return (f"{_paren(self._print(expr.base), ATOM)}**{power}", POW)
        if exponent.denominator != 1:
            raise ValueError("a matrix power must be an integer")
        return (f"np.linalg.matrix_power({self.doprint(expr.base)}, {exponent.numerator})", ATOM)

    # ------------------------------------------------------------------ functions

    def _print_Det(self, expr: Det) -> Code:
        if expr.arg.shape == SCALAR:
            return self._print(expr.arg)
        return (f"np.linalg.det({self.doprint(expr.arg)})", ATOM)

    def _print_Trace(self, expr: Trace) -> Code:
        if expr.arg.shape == SCALAR:
            return self._print(expr.arg)
        return (f"np.trace({self.doprint(expr.arg)})", ATOM)

    def _print_Elementwise(self, expr: Elementwise) -> Code:
        entry = FUNCTIONS.get(expr.fn)
        if entry is None:
            raise ValueError(f"no NumPy form for the elementwise function {expr.fn!r}")
        arg = self._print(expr.arg)
        code = entry.numpy.format(arg=arg[0], atom=_paren(arg, POW))
        return (code, _LOOSENESS[entry.numpy_loose])

    def _print_MatrixFunction(self, expr: MatrixFunction) -> Code:
        # one expression: V diag(f(λ)) V^{-1} from np.linalg.eig, its real part
        arg = self.doprint(expr.arg)
        exponent = Fraction(1, 2) if expr.fn == "sqrt" else Fraction(expr.exponent)
        if expr.fn == "pow" and exponent.denominator == 1:
            return (f"np.linalg.matrix_power({arg}, {exponent.numerator})", ATOM)
        if expr.fn in ON_EIGENVALUES:
            f = f"np.{expr.fn}(w)"
        elif expr.fn == "log":
            f = "np.log(w.astype(complex))"
        elif expr.fn in ("sqrt", "pow"):
            f = f"np.exp({_paren(_number(exponent), ATOM)} * np.log(w.astype(complex)))"
        else:
            raise ValueError(f"no NumPy form for the matrix function {expr.fn!r}")
        return (f"(lambda w, V: ((V * {f}) @ np.linalg.inv(V)).real)(*np.linalg.eig({arg}))", ATOM)

    def _print_Softmax(self, expr: Softmax) -> Code:
        arg = self._print(expr.arg)
        shifted = f"np.exp({_paren(arg, ADD)} - {_paren(arg, ATOM)}.max())"
        return (f"{shifted} / {shifted}.sum()", MUL)

    def _print_Norm(self, expr: Norm) -> Code:
        return (NORMS[expr.kind].numpy.format(arg=self.doprint(expr.arg)), ATOM)

    def _print_Diag(self, expr: Diag) -> Code:
        arg = self.doprint(expr.arg)
        if expr.arg.shape[1] == 1:  # a vector: the diagonal matrix
            return (f"np.diagflat({arg})", ATOM)
        return (f"np.diag({arg}).reshape(-1, 1)", ATOM)

    def _print_Vec(self, expr: Vec) -> Code:
        if expr.arg.shape == SCALAR:
            return (f"np.reshape({self.doprint(expr.arg)}, (1, 1))", ATOM)
        return (_paren(self._print(expr.arg), ATOM) + '.reshape(-1, 1, order="F")', ATOM)

    def _print_Unvec(self, expr: Unvec) -> Code:
        return (_paren(self._print(expr.arg), ATOM) + f'.reshape({self._size(expr.shape)}, order="F")', ATOM)

    def _print_IndexedSum(self, expr: IndexedSum) -> Code:
        index = _identifier(expr.index)
        taken = set(self.problem.symbols) if self.problem is not None else set()
        taken |= _RESERVED | set(self.loop_names.values())
        loop = index
        while loop in taken:
            loop += "_"
        upper = self._upper(expr)
        outer = self.loop_names.get(expr.index)
        self.loop_names[expr.index] = loop
        try:
            body = self.doprint(expr.body)
        finally:
            if outer is None:
                del self.loop_names[expr.index]
            else:
                self.loop_names[expr.index] = outer
        return (f"sum({body} for {loop} in range({upper}))", ATOM)

    def _upper(self, expr: IndexedSum) -> str:
        """The number of terms: the summed family's ``.shape[0]`` if there is one."""
        for node in expr.body.walk():
            if isinstance(node, Symbol) and node.index == expr.index and not (
                node.name in self.definitions and self._is_defined(node.name)
            ):
                return f"{_identifier(node.name)}.shape[0]"
        return self.doprint_dim(expr.upper)


_ONE = Fraction(1)


def _coefficient(expr: MatMul) -> Fraction:
    """The product of the numbers among the factors (most products have none or
    one: no Fraction arithmetic then)."""
    coefficient = _ONE
    for factor in expr.factors:
        if isinstance(factor, Number):
            coefficient = factor.value if coefficient is _ONE else coefficient * factor.value
    return coefficient


def _negated(expr: Expr) -> Expr:
    """A negative number or product without its minus sign."""
    if isinstance(expr, Number):
        return Number(-expr.value)
    assert isinstance(expr, MatMul)
    coefficient = -_coefficient(expr)
    rest = tuple(f for f in expr.factors if not isinstance(f, Number))
    factors = rest if coefficient.numerator == coefficient.denominator == 1 else (Number(coefficient),) + rest
    return factors[0] if len(factors) == 1 else MatMul(factors, expr.shape)


def to_numpy(expr: Expr, problem: Problem | None = None) -> str:
    """One Python expression (in ``np`` and the identifiers) evaluating ``expr``.

    Defined (intermediate) symbols are inlined from ``problem.definitions``.
    Raises ValueError for what has no value (``GradientName``, differentials).
    """
    return NumpyPrinter(problem).doprint(expr)


def result_source(d: DerivationRecord, result: Result) -> str:
    """Spec §7 ``numpy`` of one result; a scalar result is a float."""
    source = to_numpy(result.expr, d.problem)
    if result.expr.shape == SCALAR:
        return f"float(np.asarray({source}).item())"
    return source
