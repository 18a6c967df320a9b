r"""Every elementwise function the engine knows, in one place.

A function is one :class:`Function` entry: its engine name (``Elementwise.fn``),
the spellings the parser accepts, its derivative as an expression builder, how
the LaTeX, text and NumPy printers write it, how the numerical check evaluates
it, the rule its derivative cites, and where the check must not sample (kinks
and poles).  The parser, shapes, the differential, the printers and the check
all read this table; adding a function is adding one entry here (and, when its
derivative is a function the table does not have yet, that one too).

The norms are a table of their own at the end (``NORMS``, keyed by
``NormKind``): the subscripts the parser reads, the printers' forms, the
numerical evaluation, and where the check must not sample (``kink_test``).

Functions marked ``derived`` are never written by an author: the calculus
introduces them as derivatives (σ', the sign of ``|x|``, the indicator of ReLU).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .expr import (
    Elementwise,
    Expr,
    Identity,
    MatrixFunction,
    Norm,
    NormKind,
    Ones,
    Shape,
    Zeros,
    add,
    elementwise,
    hadamard,
    inverse,
    mul,
    neg,
    num,
    power,
    scale,
    sub,
)
from .rules import RuleId

Array = np.ndarray
#: ``f'(u)`` and whether the differential *divides* by it (``d log U = dU ⊘ U``
#: reads better than ``U^{⊙-1} ⊙ dU``).
Derivative = tuple[Expr, bool]
#: How a printer lays out ``f(u)``: ``call`` is the head, then the argument in
#: parentheses (with ``inside`` around it); ``root`` is a square root sign;
#: ``bars`` is ``|u|``.
Form = Literal["call", "root", "bars"]


@dataclass(frozen=True)
class Notation:
    """How one output writes a function: ``head(inside)``, ``{}`` in ``inside``
    standing for the argument (``max(0, {})`` for ReLU)."""

    head: str
    form: Form = "call"
    inside: str = "{}"


@dataclass(frozen=True)
class Function:
    name: str  # the engine's name, Elementwise.fn
    latex: Notation
    text: Notation
    #: Python source with ``{arg}`` (the argument's code) or ``{atom}`` (the same,
    #: parenthesised unless it is an atom); ``numpy_loose`` when the code is a
    #: product or sum (so a printer parenthesises it where needed), not a call
    numpy: str
    evaluate: Callable[[Array], Array]
    derivative: Callable[[Expr], Derivative]
    #: spellings the parser reads as this function: ``\name`` macros, and words
    #: inside ``\operatorname{…}`` (or ``\mathrm{…}``)
    macros: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    #: the rule that states this function's derivative, cited beside the
    #: elementwise (or scalar chain) rule; None for the ones every reader knows
    rule: RuleId | None = None
    #: True where an argument is far enough from the function's kinks or poles
    #: for central differences to be exact; None when there are none
    smooth_at: Callable[[Array], bool] | None = None
    #: True where an argument is inside the function's domain, and that condition
    #: in words ("positive"); None when it is defined everywhere.  The numerical
    #: check searches for points inside it and names the argument when it cannot.
    defined_at: Callable[[Array], bool] | None = None
    domain: str = ""
    numpy_loose: Literal["", "add", "mul"] = ""
    derived: bool = False
    #: of a square matrix, read as the matrix function (``MatrixFunction``, exp,
    #: sin, cos, sinh, cosh, tan, arctan by their power series,
    #: log and √ as in mathematics) unless the block asks for entries: that
    #: function's name in words ("matrix exponential", for messages); empty for
    #: a function read entry by entry
    matrix_function: str = ""
    #: ``f'(A)`` as a matrix function of ``A``, for ``d tr f(A) = tr(f'(A) dA)``;
    #: None where the matrix function is a power (√ is ``A^{1/2}``)
    matrix_derivative: Callable[[Expr], Expr] | None = None


# ----------------------------------------------------------------- derivatives


def _ones_like(arg: Expr) -> Expr:
    return Ones(arg.shape) if not arg.is_scalar else num(1)


def _zero_like(arg: Expr) -> Expr:
    return Zeros(arg.shape) if not arg.is_scalar else num(0)


def _square(arg: Expr) -> Expr:
    return power(arg, 2) if arg.is_scalar else hadamard(arg, arg)


def _times(fn: str) -> Callable[[Expr], Derivative]:
    """The derivative is the function ``fn`` of the same argument."""
    return lambda u: (elementwise(fn, u), False)


def _matrix(fn: str, sign: int = 1) -> Callable[[Expr], Expr]:
    """The matrix function ``fn`` (times ``sign``) of the same matrix."""
    return lambda a: mul(num(sign), MatrixFunction(fn, a, a.shape))


def _sigma_second(u: Expr) -> Derivative:
    # σ'' = σ' ⊙ (1 - 2σ)
    factor = sub(_ones_like(u), scale(2, elementwise("sigma", u)))
    return hadamard(elementwise("sigma_prime", u), factor), False


def _tanh_second(u: Expr) -> Derivative:
    # (1 - tanh²)' = -2 tanh ⊙ tanh'
    return neg(scale(2, hadamard(elementwise("tanh", u), elementwise("tanh_prime", u)))), False


# ------------------------------------------------------------------ numerics


def _sigmoid(z: Array) -> Array:
    # tanh form: exact, and no overflow warning for large |z|
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _sigmoid_prime(z: Array) -> Array:
    s = _sigmoid(z)  # once: σ'(z) = σ(z)(1 - σ(z))
    return s * (1.0 - s)


def _softplus(z: Array) -> Array:
    value: Array = np.logaddexp(0.0, z)  # log(1 + e^z) without overflow
    return value


def _relu(z: Array) -> Array:  # max(0, z)
    value: Array = np.maximum(z, 0.0)
    return value


def _indicator(z: Array) -> Array:
    return (z > 0).astype(float)


#: Central differences step 1e-6 along directions of size ~1: an argument this
#: far from a kink or a pole is on one smooth piece for both evaluations.
KINK_MARGIN = 1e-3


def _positive(z: Array) -> bool:
    return bool(np.all(z > 0))


def _away_from_zero(z: Array) -> bool:
    return bool(np.all(np.abs(z) > KINK_MARGIN))


def _away_from_poles(z: Array) -> bool:
    return bool(np.all(np.abs(np.cos(z)) > KINK_MARGIN * 10))


def _call(head: str, inside: str = "{}") -> Notation:
    return Notation(head, "call", inside)


_FUNCTIONS = (
    Function(
        "exp", _call(r"\exp"), _call("exp"), "np.exp({arg})", np.exp, _times("exp"),
        macros=("exp",), words=("exp",), matrix_function="matrix exponential",
        matrix_derivative=_matrix("exp"),
    ),
    Function(
        "log", _call(r"\log"), _call("log"), "np.log({arg})", np.log, lambda u: (u, True),
        macros=("log", "ln"), words=("log", "ln"), defined_at=_positive, domain="positive",
        matrix_function="matrix logarithm", matrix_derivative=inverse,
    ),
    Function(
        "sin", _call(r"\sin"), _call("sin"), "np.sin({arg})", np.sin, _times("cos"),
        macros=("sin",), words=("sin",), matrix_function="matrix sine",
        matrix_derivative=_matrix("cos"),
    ),
    Function(
        "cos", _call(r"\cos"), _call("cos"), "np.cos({arg})", np.cos,
        lambda u: (neg(elementwise("sin", u)), False),
        macros=("cos",), words=("cos",), matrix_function="matrix cosine",
        matrix_derivative=_matrix("sin", -1),
    ),
    Function(
        "tanh", _call(r"\tanh"), _call("tanh"), "np.tanh({arg})", np.tanh, _times("tanh_prime"),
        macros=("tanh",), words=("tanh",),
    ),
    Function(
        "sigma", _call(r"\sigma"), _call("σ"), "1/(1 + np.exp(-{atom}))", _sigmoid, _times("sigma_prime"),
        # \sigma is the sigmoid only when applied and nothing is named sigma
        macros=("sigma",), words=("sigmoid",), numpy_loose="mul",
    ),
    Function(
        "sqrt", Notation(r"\sqrt", "root"), Notation("√", "root"), "np.sqrt({arg})", np.sqrt,
        lambda u: (scale(2, elementwise("sqrt", u)), True),
        macros=("sqrt",), words=("sqrt",), defined_at=_positive, domain="positive",
        matrix_function="matrix square root",
    ),
    Function(
        "abs", Notation("", "bars"), Notation("", "bars"), "np.abs({arg})", np.abs, _times("sign"),
        rule=RuleId.ABS_RULE, smooth_at=_away_from_zero,
    ),
    Function(
        "cosh", _call(r"\cosh"), _call("cosh"), "np.cosh({arg})", np.cosh, _times("sinh"),
        macros=("cosh",), words=("cosh",), rule=RuleId.COSH_RULE, matrix_function="matrix cosh",
        matrix_derivative=_matrix("sinh"),
    ),
    Function(
        "sinh", _call(r"\sinh"), _call("sinh"), "np.sinh({arg})", np.sinh, _times("cosh"),
        macros=("sinh",), words=("sinh",), rule=RuleId.SINH_RULE, matrix_function="matrix sinh",
        matrix_derivative=_matrix("cosh"),
    ),
    Function(
        "tan", _call(r"\tan"), _call("tan"), "np.tan({arg})", np.tan,
        lambda u: (_square(elementwise("cos", u)), True),  # d tan u = du / cos²u
        macros=("tan",), words=("tan",), rule=RuleId.TAN_RULE, smooth_at=_away_from_poles,
        matrix_function="matrix tangent",
        matrix_derivative=lambda a: power(MatrixFunction("cos", a, a.shape), -2),  # 1/cos²
    ),
    Function(
        "arctan", _call(r"\arctan"), _call("arctan"), "np.arctan({arg})", np.arctan,
        lambda u: (add(_ones_like(u), _square(u)), True),  # d arctan u = du / (1 + u²)
        macros=("arctan",), words=("arctan", "atan"), rule=RuleId.ARCTAN_RULE,
        matrix_function="matrix arctangent",
        matrix_derivative=lambda a: inverse(add(Identity(a.shape), power(a, 2))),  # 1/(1 + x²)
    ),
    Function(
        "softplus", _call(r"\operatorname{softplus}"), _call("softplus"), "np.logaddexp(0, {arg})", _softplus,
        _times("sigma"), words=("softplus",), rule=RuleId.SOFTPLUS_RULE,
    ),
    Function(
        # written \max(0, u) (the parser reads that form) or \operatorname{ReLU}(u)
        "relu", _call(r"\max", "0, {}"), _call("max", "0, {}"), "np.maximum({arg}, 0)", _relu,
        _times("indicator"), words=("ReLU", "relu"), rule=RuleId.RELU_RULE, smooth_at=_away_from_zero,
    ),
    # the derivatives the calculus introduces
    Function(
        "sigma_prime", _call(r"\sigma'"), _call("σ′"),
        "(1/(1 + np.exp(-{atom}))) * (1 - 1/(1 + np.exp(-{atom})))", _sigmoid_prime, _sigma_second,
        numpy_loose="mul", derived=True,
    ),
    Function(
        "tanh_prime", _call(r"\tanh'"), _call("tanh′"), "1 - np.tanh({arg})**2",
        lambda z: 1.0 - np.tanh(z) ** 2, _tanh_second, numpy_loose="add", derived=True,
    ),
    Function(
        "sign", _call(r"\operatorname{sign}"), _call("sign"), "np.sign({arg})", np.sign,
        lambda u: (_zero_like(u), False), smooth_at=_away_from_zero, derived=True,
    ),
    Function(
        # the derivative of ReLU: 1 where u > 0, else 0
        "indicator", _call(r"\mathbb{I}", "{} > 0"), _call("𝕀", "{} > 0"), "np.heaviside({arg}, 0.0)", _indicator,
        lambda u: (_zero_like(u), False), smooth_at=_away_from_zero, derived=True,
    ),
)

FUNCTIONS: dict[str, Function] = {f.name: f for f in _FUNCTIONS}
#: the functions that, applied to a square matrix, are read as matrix functions
MATRIX_READING = frozenset(f.name for f in _FUNCTIONS if f.matrix_function)


@dataclass(frozen=True)
class NamedConstant:
    """A constant an author may write without declaring it (unless a symbol of
    the block takes its name): its name as the parser reads it, its printed
    forms and its value."""

    name: str
    latex: str
    text: str
    numpy: str
    value: float


CONSTANTS: dict[str, NamedConstant] = {
    c.name: c
    for c in (
        NamedConstant("pi", r"\pi", "π", "np.pi", float(np.pi)),
        # e^{…} is the exponential (the parser reads it so); a bare e is the number
        NamedConstant("e", "e", "e", "np.e", float(np.e)),
    )
}


def function(name: str) -> Function:
    """The entry of the elementwise function ``name`` (KeyError when unknown)."""
    return FUNCTIONS[name]


#: ``\macro`` → engine name, and ``\operatorname{word}`` → engine name, for the parser.
MACROS: dict[str, str] = {m: f.name for f in _FUNCTIONS for m in f.macros}
#: ``\max(0, u)`` (either order) is read as this function
MAX_WITH_ZERO = "relu"
WORDS: dict[str, str] = {w: f.name for f in _FUNCTIONS for w in f.words}


# ------------------------------------------------------------------------ norms


def _euclidean(value: Array) -> float:
    """``np.linalg.norm`` of a float array (Euclidean for a vector, Frobenius for
    a matrix): the square root of the entries' dot product in memory order, as
    NumPy computes it, without the checks that cost more than the arithmetic
    for a tiny array."""
    flat = value.ravel(order="K")
    return math.sqrt(flat.dot(flat))


def _sum_of_abs(value: Array) -> float:
    return float(np.abs(value).sum())


def _sum_of_singular_values(value: Array) -> float:
    return float(np.linalg.svd(value, compute_uv=False).sum())


def gram_of_rows(shape: Shape) -> bool:
    """Whether the nuclear norm of a matrix of ``shape`` is written with its
    row Gram matrix, ``‖X‖_* = tr((X X^T)^{1/2})``: when it is declared wider
    than tall in numbers.  Otherwise ``tr((X^T X)^{1/2})`` — for dimension
    names, the tall reading m ≥ n, which the derivation states."""
    rows, cols = shape
    return isinstance(rows, int) and isinstance(cols, int) and rows < cols


def _far_from_rank_deficient(value: Array) -> bool:
    singular = np.linalg.svd(value, compute_uv=False)
    return bool(singular.min() > KINK_MARGIN * max(1.0, float(singular.max())))


def _full_column_rank(value: Array) -> bool:
    """Whether ``X^T X`` is safely invertible (so ``(X^T X)^{-1/2}`` exists):
    no more columns than rows, and far from the rank-deficient matrices,
    where the nuclear norm has its kinks."""
    rows, cols = value.shape
    return rows >= cols and bool(np.all(np.isfinite(value))) and _far_from_rank_deficient(value)


def _full_row_rank(value: Array) -> bool:
    return _full_column_rank(value.T)


@dataclass(frozen=True)
class NormEntry:
    """One norm: how the parser reads it, how each output writes it, how the
    numerical check evaluates it."""

    kind: NormKind
    #: what the author writes after ``\|…\|_`` (letters and digits of the
    #: subscript, with ``\mathrm{}``/``\text{}`` dropped; ``*`` for ``*``,
    #: ``\ast`` and ``\star``); no subscript is also Euclidean (or Frobenius)
    subscripts: tuple[str, ...]
    latex: str  # what follows the closing bars ("" for none)
    text: str
    numpy: str  # Python source with ``{arg}``
    evaluate: Callable[[Array], float]


_NORMS = (
    NormEntry(NormKind.EUCLIDEAN, ("2",), "", "", "np.linalg.norm({arg})", _euclidean),
    NormEntry(NormKind.FROBENIUS, ("F", "fro"), "_F", "_F", "np.linalg.norm({arg})", _euclidean),
    NormEntry(NormKind.L1, ("1",), "_1", "₁", "np.abs({arg}).sum()", _sum_of_abs),
    # the sum of the singular values; in the calculus tr((X^T X)^{1/2}) (rewrite.norm_as_power)
    NormEntry(NormKind.NUCLEAR, ("*", "tr", "nuc"), "_*", "_*", 'np.linalg.norm({arg}, "nuc")', _sum_of_singular_values),
)

NORMS: dict[NormKind, NormEntry] = {n.kind: n for n in _NORMS}
#: what is written after ``\|…\|_`` → the norm it names
NORM_SUBSCRIPTS: dict[str, NormKind] = {s: n.kind for n in _NORMS for s in n.subscripts}


Kink = tuple[Expr, Callable[[Array], bool]]  # an argument, and the test that a value of it is smooth


def _elementwise_kink(node: Elementwise) -> Kink | None:
    smooth_at = FUNCTIONS[node.fn].smooth_at
    return (node.arg, smooth_at) if smooth_at is not None else None


def _norm_kink(node: Norm) -> Kink | None:
    if node.kind == NormKind.L1:  # ‖u‖_1 = 1^T |u|
        return node.arg, _away_from_zero
    if node.kind == NormKind.NUCLEAR:
        return node.arg, (_full_row_rank if gram_of_rows(node.arg.shape) else _full_column_rank)
    return None


#: the node classes that may have kinks or poles, each with its test
_KINK_TESTS: dict[type[Expr], Callable[[Any], Kink | None]] = {Elementwise: _elementwise_kink, Norm: _norm_kink}
#: the node classes ``kink_test`` can answer for: every other node is smooth
#: wherever it is defined
MAY_KINK: frozenset[type[Expr]] = frozenset(_KINK_TESTS)


def kink_test(node: Expr) -> Kink | None:
    """The argument of ``node`` and the test that a value of it is far from
    the node's kinks or poles (``|u|``, ReLU, tan, ``‖u‖_1``, ``‖X‖_*``), or None
    when ``node`` is smooth wherever it is defined."""
    test = _KINK_TESTS.get(type(node))
    return test(node) if test is not None else None
