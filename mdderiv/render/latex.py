r"""LaTeX for expressions (a whole derivation's display is ``render/display.py``).

``LatexPrinter`` is a visitor in the SymPy-printer style: ``_print`` dispatches
on the node's class name to ``_print_<Class>``.  Parenthesisation is decided by
the parent, from the child's kind (a sum inside a product, a compound base under
``^{T}`` …), never by the child itself.

The output uses only macros that MathJax 3 and KaTeX both know out of the box
(see ``ALLOWED_MACROS``); no ``\bm``, no ``\DeclareMathOperator``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from fractions import Fraction
from typing import TYPE_CHECKING

from ..expr import (
    SCALAR,
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
    MatrixFunction,
    GradientName,
    Hadamard,
    HadamardDiv,
    Identity,
    IndexedSum,
    Inverse,
    Kron,
    MatMul,
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
    has_differential,
)
from ..functions import CONSTANTS, FUNCTIONS, NORMS, Function, NamedConstant, Notation
from ..memos import Remembered, memoised
from .dispatch import find_method, method_table

if TYPE_CHECKING:
    from ..problem import Problem

#: Every macro the renderers may emit (and those the functions' notations use);
#: the well-formedness tests hold them to it.
ALLOWED_MACROS = frozenset(
    [r"\operatorname", r"\mathbf", r"\boldsymbol", r"\underbrace", r"\boxed", r"\text", r"\frac", r"\odot", r"\oslash", r"\otimes", r"\sum", r"\left", r"\right", r"\quad", r"\qquad", r"\mathrm", r"\begin", r"\end", r"\partial", r"\sigma", r"\times", r"\cdot", r"\|", r"\{", r"\}", r"\_", r"\&", r"\#", r"\%", r"\$", r"\backslash", r"\wedge", r"\sim", r"\Rightarrow", r"\Leftrightarrow", r"\approx", r"\alpha", r"\beta", r"\gamma", r"\delta", r"\epsilon", r"\varepsilon", r"\zeta", r"\eta", r"\theta", r"\vartheta", r"\iota", r"\kappa", r"\lambda", r"\mu", r"\nu", r"\xi", r"\pi", r"\varpi", r"\rho", r"\varrho", r"\varsigma", r"\tau", r"\upsilon", r"\phi", r"\varphi", r"\chi", r"\psi", r"\omega", r"\Gamma", r"\Delta", r"\Theta", r"\Lambda", r"\Xi", r"\Pi", r"\Sigma", r"\Upsilon", r"\Phi", r"\Psi", r"\Omega", r"\bar", r"\hat", r"\tilde", r"\vec", r"\dot", r"\ddot", r"\check", r"\breve", r"\mathcal", r"\mathsf", r"\mathit", r"\top", r"\prime", r"\ell"]
) | frozenset(
    macro
    for function in FUNCTIONS.values()
    for macro in re.findall(r"\\[A-Za-z]+", function.latex.head + function.latex.inside)
)

#: Either a predicate or a collection of nodes: which sub-expressions get an
#: ``\underbrace{…}_{m \times n}`` shape annotation.
Annotate = Callable[[Expr], bool] | Collection[Expr] | None


# Nodes printed as one visual unit (a letter, a function application, a bar
# pair): they take ``^{T}`` or sit in a product without parentheses.
_ATOMS = (
    Symbol,
    Differential,
    Ones,
    Zeros,
    Identity,
    DimValue,
    Constant,
    Commutation,
    Trace,
    Det,
    Elementwise,
    MatrixFunction,
    Softmax,
    Norm,
    Diag,
    Unvec,
    Vec,
)
# (no node class has subclasses: a set of the classes answers isinstance in one lookup)
_ATOM_KINDS = frozenset(_ATOMS)
# Content containing these is tall, so its parentheses grow with \left \right.
_TALL = (r"\frac", r"\sum", r"\underbrace", r"\left", r"\boxed")
_TALL_PATTERN = re.compile("|".join(re.escape(tall) for tall in _TALL))


def _top_level(spelling: str, char: str) -> bool:
    """Whether ``char`` occurs outside every brace group of ``spelling``."""
    if char not in spelling:  # the usual case, without the walk
        return False
    depth = 0
    for c in spelling:
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == char and depth == 0:
            return True
    return False


def _fallback_spelling(name: str) -> str:
    """A LaTeX spelling for a bare identifier (``x_bar`` -> ``x_{bar}``), used
    when the caller gave no declared spelling."""
    name = name.rstrip("_") or name
    head, sep, rest = name.partition("_")
    if not sep:
        return head
    return head + "_{" + rest.replace("_", r"\_") + "}"


def _dim_parts(dim: object) -> list[tuple[str, int]]:
    """A dimension's factors with multiplicities: ``"m*n*n"`` → m¹ n²."""
    parts: list[tuple[str, int]] = []
    for part in str(dim).split("*"):
        if parts and parts[-1][0] == part:
            parts[-1] = (part, parts[-1][1] + 1)
        else:
            parts.append((part, 1))
    return parts


def format_exponent(value: Fraction) -> str:
    """An exponent, kept on one line: ``2``, ``-1``, ``1/2``."""
    # (read through numerator and denominator, which an int has too: building
    # or comparing a Fraction runs Python code in ``fractions``, and numbers are
    # printed in most steps; the same in the printer's number tests below)
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


def format_error(value: float) -> str:
    """A relative error as ``3.1\\times10^{-10}``."""
    if value == 0 or value != value:  # zero, or NaN printed as is
        return "0" if value == 0 else r"\text{NaN}"
    mantissa, _, exponent = f"{value:.1e}".partition("e")
    power = int(exponent)
    return mantissa if power == 0 else f"{mantissa}\\times10^{{{power}}}"


# Characters that TeX, MathJax or KaTeX would read as markup inside \text{},
# or that KaTeX has no metrics for there: each is set as math between text runs.
_TEXT_SPECIALS = {
    "\\": r"\backslash",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "%": r"\%",
    "_": r"\_",
    "^": r"{}^{\wedge}",
    "~": r"\sim",
    "ᵀ": "^{T}",
    "×": r"\times",
}


@memoised(maxsize=4096)
def text_latex(text: str) -> str:
    r"""Words as ``\text{…}``, safe for any input (a user's title): markup
    characters become math pieces between text runs, newlines spaces.
    (Remembered: the same rule names are set on every derivation.)"""
    text = text.replace("\r", " ").replace("\n", " ")
    out: list[str] = []
    run = ""
    for char in text:
        if char in _TEXT_SPECIALS:
            if run:
                out.append(f"\\text{{{run}}}")
                run = ""
            out.append(_TEXT_SPECIALS[char])
        else:
            run += char
    if run or not out:
        out.append(f"\\text{{{run}}}")
    return "".join(out)


def _predicate(annotate: Annotate) -> Callable[[Expr], bool]:
    if annotate is None:
        return lambda node: False
    if callable(annotate):
        return annotate
    chosen = annotate
    return lambda node: node in chosen


class LatexPrinter:
    """Turns an ``Expr`` into LaTeX.

    ``names`` maps identifiers to declared spellings (``"x"`` -> ``"\\mathbf{x}"``);
    ``annotate`` picks the sub-expressions to mark with their shape.

    The structure (what gets parentheses, where signs go) lives here; the
    tokens come from the small hooks below (``_sup``, ``_frac``, ``MINUS`` …),
    which the Unicode printer (``render.text``) overrides.
    """

    MINUS = "-"  # a leading minus
    PLUS_SEP = " + "
    MINUS_SEP = " - "
    TIMES = r" \cdot "  # between two factors that are both numbers
    OPS = {Hadamard: r"\odot", HadamardDiv: r"\oslash", Kron: r"\otimes"}
    # a product's factors that need parentheses: sums, products, ⊙ ⊘ ⊗ (made
    # once per class, not per printer: a derivation makes two printers)
    _wrapped_factors = frozenset((Add, MatMul, *OPS))
    NORM = r"\|"
    PARTIAL = r"\partial "
    ONE = r"\mathbf{1}"
    INLINE_FRACTIONS = False  # \frac is a unit; the text printer's a/b is not
    ZERO = r"\mathbf{0}"
    def __init__(self, names: Mapping[str, str] | None = None, annotate: Annotate = None) -> None:
        self.names = dict(names or {})
        self.annotated = _predicate(annotate)
        self.annotating = annotate is not None
        # without annotations a node always prints the same: remember it (the
        # steps of a derivation share most sub-expressions).  Keyed by identity:
        # looking a node up by value hashes every new tree, which costs more
        # than printing the few equal copies again; the node is kept with its
        # text, so its id stays its own
        self.memo: dict[int, tuple[Expr, str]] | None = {} if annotate is None else None
        # with ``shapes: key`` only differentials are annotated: a subtree that
        # holds none of them prints as it would plainly, so share that memo
        self.marked: frozenset[Expr] | None = None
        self.plain: LatexPrinter | None = None
        if isinstance(annotate, (set, frozenset)) and all(isinstance(n, Differential) for n in annotate):
            self.marked = frozenset(annotate)
            if names is not None and type(self) is LatexPrinter:
                self.plain = shared_printer(names)
        # with ``plain``: the ids of the printed tree's nodes that hold a marked
        # differential (the tree is alive while it prints, so ids are its nodes)
        self.holding: set[int] = set()
        self.methods = method_table(type(self))

    # ------------------------------------------------------------------ dispatch

    def doprint(self, expr: Expr) -> str:
        if self.plain is not None and self.marked is not None:
            self.holding = _holders(expr, self.marked)
        return self._print(expr)

    def _print(self, expr: Expr) -> str:
        memo = self.memo
        if memo is not None:  # (a printer with a memo annotates nothing)
            key = id(expr)
            known = memo.get(key)
            if known is not None:
                return known[1]
            kind = type(expr)
            out: str = (self.methods.get(kind) or self._method(kind))(self, expr)
            memo[key] = (expr, out)
            return out
        # (only an annotating printer, which has no memo, has a plain one)
        if self.plain is not None and id(expr) not in self.holding:
            return self.plain._print(expr)
        method = self.methods.get(type(expr)) or self._method(type(expr))
        out = method(self, expr)
        if self.annotating:
            out = self._annotate(expr, out)
        return out

    def _method(self, kind: type) -> Callable[..., str]:
        method = find_method(type(self), kind)
        if method is None:
            raise TypeError(f"no LaTeX for {kind.__name__}")
        return method

    def _annotate(self, expr: Expr, out: str) -> str:
        if expr.shape != SCALAR and self.annotated(expr):
            return self.underbrace(expr, out)
        return out

    def underbrace(self, expr: Expr, out: str) -> str:
        """``out`` (the printed ``expr``) with ``expr``'s shape beneath it."""
        rows, cols = self._dimension(expr.shape[0]), self._dimension(expr.shape[1])
        return f"\\underbrace{{{out}}}_{{{rows} \\times {cols}}}"

    def _is_annotated(self, expr: Expr) -> bool:
        return self.annotating and expr.shape != SCALAR and self.annotated(expr)

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _wrap(content: str, left: str = "(", right: str = ")") -> str:
        if _TALL_PATTERN.search(content):
            return f"\\left{left}{content}\\right{right}"
        return f"{left}{content}{right}"

    @staticmethod
    def _sup(base: str, exponent: str) -> str:
        """``base`` raised to ``exponent`` (plain: ``T``, ``-1``, ``1/2``)."""
        return f"{base}^{{{exponent}}}"

    @staticmethod
    def _frac(numerator: str, denominator: str) -> str:
        return f"\\frac{{{numerator}}}{{{denominator}}}"

    def _coefficient_frac(self, numerator: str, denominator: str, followed: bool) -> str:
        """A fraction leading a product (``followed`` by factors)."""
        return self._frac(numerator, denominator)

    @staticmethod
    def _operator(name: str) -> str:
        """A named operator: tr, diag, vec, softmax, sign."""
        return f"\\operatorname{{{name}}}"

    @staticmethod
    def _sqrt(inner: str) -> str:
        return f"\\sqrt{{{inner}}}"

    @staticmethod
    def _norm_subscript(kind: NormKind) -> str:
        return NORMS[kind].latex  # ‖X‖_F, ‖x‖_1, ‖X‖_*

    @staticmethod
    def _sum_head(index: str, upper: str) -> str:
        return f"\\sum_{{{index}=1}}^{{{upper}}}"

    @staticmethod
    def _group(text: str) -> str:
        """Make ``text`` one unit for a following superscript."""
        return "{" + text + "}"

    def _fraction(self, value: Fraction) -> str:
        numerator, denominator = value.numerator, value.denominator  # (see format_exponent)
        sign = self.MINUS if numerator < 0 else ""
        if denominator == 1:
            return f"{sign}{abs(numerator)}"
        return sign + self._frac(str(abs(numerator)), str(denominator))

    def _dimension(self, dim: object) -> str:
        """A dimension; a product ``"m*n"`` (a vec's or a Kronecker product's
        size) is ``mn``, ``"n*n"`` is ``n^{2}``, and factors that would run
        together (``p_1``, digits) are joined by ``\\cdot``."""
        if "*" not in str(dim):  # one name or number: as it is
            return str(dim)
        parts = _dim_parts(dim)
        shown = [self._sup(p, str(k)) if k > 1 else p for p, k in parts]
        names = [p for p, _ in parts]
        if all(len(p) == 1 for p in names) and not any(
            a.isdigit() and b.isdigit() for a, b in zip(names, names[1:], strict=False)
        ):
            return "".join(shown)
        return self.TIMES.join(shown)

    def _spelling(self, name: str) -> str:
        spelling = self.names.get(name) or _fallback_spelling(name)
        if "\\bm" not in spelling:  # (the usual case: no substitution to try)
            return spelling
        # \bm is not in MathJax 3 or KaTeX by default; \boldsymbol is the same
        return re.sub(r"\\bm(?![A-Za-z])", r"\\boldsymbol", spelling)

    def _negative(self, expr: Expr) -> bool:
        """Printed with a leading minus (so a sum writes ``- …``)."""
        if isinstance(expr, Number):
            return expr.value.numerator < 0  # (a Fraction's denominator is positive)
        if isinstance(expr, MatMul):
            coefficient = _coefficient(expr)
            return coefficient is not _ONE and coefficient.numerator < 0
        return False

    def _negated(self, expr: Expr) -> Expr:
        """``expr`` with its leading minus removed (only for ``_negative`` ones)."""
        if isinstance(expr, Number):
            return Number(-expr.value)
        assert isinstance(expr, MatMul)
        coefficient = _coefficient(expr)
        rest = tuple(f for f in expr.factors if not isinstance(f, Number))
        if coefficient.numerator == -1 and coefficient.denominator == 1:
            factors = rest
        else:
            factors = (Number(-coefficient),) + rest
        return factors[0] if len(factors) == 1 else MatMul(factors, expr.shape)

    def _signed(self, expr: Expr) -> tuple[bool, str]:
        """(negative, the printed magnitude); the shape annotation, if any, goes
        on the magnitude (the sign does not change a shape)."""
        if self._negative(expr):
            body = self._negated(expr)
            text = self._dispatch(body)
            if isinstance(body, Add):  # -(a + b) keeps its parentheses
                text = self._wrap(text)
            return True, self._annotate(expr, text)
        return False, self._print(expr)

    def _dispatch(self, expr: Expr) -> str:
        """Print without this node's own annotation (the caller places it)."""
        method = self.methods.get(type(expr)) or self._method(type(expr))
        out: str = method(self, expr)
        return out

    def _slashed(self, expr: Expr) -> bool:
        """A ∂f/∂X written on one line (text), which needs parentheses as an
        operand; the LaTeX fraction is a unit already."""
        return self.INLINE_FRACTIONS and isinstance(expr, GradientName)

    def _base(self, expr: Expr) -> str:
        """The base of ``^{…}``: atoms bare, annotated atoms in braces (an
        ``\\underbrace`` would take the superscript as a limit), the rest in
        parentheses."""
        out = self._print(expr)
        kind = type(expr)
        if kind is Elementwise and self._bare_log_det(expr):
            return self._wrap(out)  # (\log|X|)^{2}: \log|X|^{2} reads as \log(|X|^{2})
        if kind in _ATOM_KINDS:
            if (self.annotating and self._is_annotated(expr)) or _top_level(out, "^"):
                return self._group(out)
            return out
        if isinstance(expr, Number) and expr.value.numerator >= 0 and expr.value.denominator == 1:
            return out
        return self._wrap(out)

    def _operand(self, expr: Expr, parent: type) -> str:
        """An operand of ⊙, ⊘ or ⊗: products, sums and other operators in
        parentheses; the same associative operator may chain."""
        out = self._print(expr)
        if isinstance(expr, (Add, MatMul, IndexedSum)) or self._negative(expr) or self._slashed(expr):
            return self._wrap(out)
        if isinstance(expr, tuple(self.OPS)) and not (type(expr) is parent and parent is not HadamardDiv):
            return self._wrap(out)
        return out

    # ------------------------------------------------------------------ leaves

    def _print_Symbol(self, expr: Symbol) -> str:
        spelling = self._spelling(expr.name)
        if expr.index is None:
            return spelling
        subscript = "_{" + expr.index + "}"
        if spelling.endswith(subscript) or spelling.endswith("_" + expr.index):
            return spelling
        if _top_level(spelling, "_") or _top_level(spelling, "^"):
            spelling = "{" + spelling + "}"
        return spelling + subscript

    def _print_Differential(self, expr: Differential) -> str:
        if isinstance(expr.of, Symbol):
            return "d" + self._print_Symbol(expr.of)
        return "d" + self._wrap(self._print(expr.of))  # d(∂f/∂X) in second differentials

    def _print_GradientName(self, expr: GradientName) -> str:
        partial = self.PARTIAL
        top = self._spelling(expr.objective)
        if getattr(expr, "hessian", False) and expr.of.is_scalar:  # ∂²f/∂t²
            return self._frac(self._sup(partial.strip(), "2") + top, partial + self._sup(self._base(expr.of), "2"))
        if getattr(expr, "hessian", False):  # ∂²f/∂vec(X)∂vec(X)^T
            vec = self._operator("vec") + self._wrap(self._print_Symbol(expr.of))
            return self._frac(self._sup(partial.strip(), "2") + top, f"{partial}{vec} {partial}{self._sup(vec, 'T')}")
        below = self._print_Symbol(expr.of)
        if getattr(expr, "numerator", False):  # numerator layout: ∂f/∂X^T
            below = self._sup(self._base(expr.of), "T")
        return self._frac(partial + top, partial + below)

    def _print_Number(self, expr: Number) -> str:
        return self._fraction(expr.value)

    def _print_Constant(self, expr: Constant) -> str:
        return self._named_constant(CONSTANTS[expr.name])

    @staticmethod
    def _named_constant(constant: NamedConstant) -> str:
        return constant.latex

    def _print_DimValue(self, expr: DimValue) -> str:
        return self._dimension(expr.dim)

    def _constant(self, expr: Expr, symbol: str) -> str:
        """``1`` or ``0``; a row vector shows as the transposed column."""
        if expr.shape[0] == 1 and expr.shape[1] != 1:
            return self._sup(symbol, "T")
        return symbol

    def _print_Ones(self, expr: Ones) -> str:
        return self._constant(expr, self.ONE)

    def _print_Zeros(self, expr: Zeros) -> str:
        return self._constant(expr, self.ZERO)

    def _print_Identity(self, expr: Identity) -> str:
        return "I"

    def _print_Commutation(self, expr: Commutation) -> str:
        rows, cols = self._dimension(expr.rows), self._dimension(expr.cols)
        joined = rows + cols if len(rows) == 1 and len(cols) == 1 and not (rows + cols).isdigit() else f"{rows},{cols}"
        return f"K_{{{joined}}}"

    # ------------------------------------------------------------------ sums and products

    def _print_Add(self, expr: Add) -> str:
        parts: list[str] = []
        last = len(expr.terms) - 1
        for position, term in enumerate(expr.terms):
            kind = type(term)
            # only a number or a product can be negative (see _negative)
            if kind is MatMul or kind is Number:
                negative, text = self._signed(term)
            else:
                negative, text = False, self._print(term)
                if kind is Add or (kind is IndexedSum and position < last):
                    text = self._wrap(text)
            if position == 0:
                parts.append(self.MINUS + text if negative else text)
            else:
                parts.append((self.MINUS_SEP if negative else self.PLUS_SEP) + text)
        return "".join(parts)

    def _print_MatMul(self, expr: MatMul) -> str:
        # the numbers make the coefficient; 1/n, 1/(1^T exp(a)), 1/√s, 1/s^2 are
        # written as a fraction leading the product, the way the seeds write a
        # scalar's inverse: \frac{1}{n} X
        factors = expr.factors
        for f in factors:
            if type(f) is Number or type(f) is Power:
                break
        else:  # the usual product: no numbers, no powers
            return self._factors(factors)
        coefficient = _ONE
        rest: list[Expr] = []
        denominators: list[Power] = []
        for f in factors:
            if isinstance(f, Number):
                coefficient = f.value if coefficient is _ONE else coefficient * f.value
            elif (
                isinstance(f, Power) and f.exponent.numerator < 0 and f.base.is_scalar
                and not self._is_annotated(f)
            ):
                denominators.append(f)
            else:
                rest.append(f)
        if coefficient is _ONE and not denominators:  # (powers that stay factors)
            return self._factors(rest) if rest else "1"
        # the coefficient's whole numbers (a Fraction's denominator is positive):
        # no Fraction arithmetic
        numerator, denominator = coefficient.numerator, coefficient.denominator
        sign = self.MINUS if numerator < 0 else ""
        numerator = abs(numerator)
        lead = ""
        if denominators or denominator != 1:
            below = " ".join(
                p for p in [str(denominator) if denominator != 1 else ""]
                + [self._denominator(d, len(denominators) > 1 or denominator != 1)
                   for d in denominators] if p
            )
            lead = self._coefficient_frac(str(numerator), below, bool(rest))
        elif numerator != 1 or not rest:
            lead = str(numerator)
        body = self._factors(rest)
        if not lead or not body:
            return sign + lead + body
        return sign + lead + self._between(body) + body

    def _factors(self, factors: tuple[Expr, ...] | list[Expr]) -> str:
        """Factors side by side, each in parentheses where it needs them (sums,
        products, ⊙ ⊘ ⊗, an inline fraction, a sum over an index before others)."""
        # the pieces are joined once at the end (not the text rebuilt at every
        # factor); a factor printed empty before any other is dropped
        parts: list[str] = []
        last = len(factors) - 1
        wrapped = self._wrapped_factors
        slashed = self.INLINE_FRACTIONS
        between = self._between
        for position, factor in enumerate(factors):
            text = self._print(factor)
            kind = type(factor)
            if (
                kind in wrapped
                or (kind is IndexedSum and position < last)
                or (slashed and self._slashed(factor))
                # \log|X| Y reads as \log(|X| Y) too
                or (position < last and isinstance(factor, Elementwise) and self._bare_log_det(factor))
            ):
                text = self._wrap(text)
            if parts:
                parts.append(between(text))
            elif not text:
                continue
            parts.append(text)
        return "".join(parts)

    def _between(self, following: str) -> str:
        """What separates a factor from the one before: two numbers side by
        side would read as one (2 \\cdot 3); a parenthesised factor hugs its
        neighbour (X^{T}(X w - y)); otherwise a space."""
        if following[:1].isdigit():
            return self.TIMES
        return "" if following.startswith(_HUGGING) else " "

    def _denominator(self, power: Power, among_others: bool) -> str:
        """The base of a scalar's inverse as it stands under the fraction bar."""
        base = power.base
        numerator, denominator = power.exponent.numerator, power.exponent.denominator
        if numerator == -1 and denominator == 2:
            return self._sqrt(self._print(base))
        if not (numerator == -1 and denominator == 1):  # 1/s^2, 1/(x^T x)^{3/2}
            return self._sup(self._base(base), format_exponent(-power.exponent))
        text = self._print(base)
        if isinstance(base, (Add, MatMul)) and among_others:
            return self._wrap(text)
        return text

    def _binary(self, expr: Binary) -> str:
        kind = type(expr)
        return f"{self._operand(expr.left, kind)} {self.OPS[kind]} {self._operand(expr.right, kind)}"

    def _print_Hadamard(self, expr: Hadamard) -> str:
        return self._binary(expr)

    def _print_HadamardDiv(self, expr: HadamardDiv) -> str:
        return self._binary(expr)

    def _print_Kron(self, expr: Kron) -> str:
        return self._binary(expr)

    # ------------------------------------------------------------------ postfix

    def _print_Transpose(self, expr: Transpose) -> str:
        if isinstance(expr.arg, Inverse) and not self._is_annotated(expr.arg):
            return self._sup(self._base(expr.arg.arg), "-T")
        return self._sup(self._base(expr.arg), "T")

    def _print_Inverse(self, expr: Inverse) -> str:
        if isinstance(expr.arg, Transpose) and not self._is_annotated(expr.arg):
            return self._sup(self._base(expr.arg.arg), "-T")
        return self._sup(self._base(expr.arg), "-1")

    def _print_Power(self, expr: Power) -> str:
        base, exponent = expr.base, expr.exponent
        if (
            isinstance(base, Inverse)
            and not isinstance(base.arg, Transpose)
            and exponent.denominator == 1
            and exponent.numerator > 0
            and not self._is_annotated(base)
        ):
            # (X^{-1})^2 is written X^{-2}, as a person writes it
            return self._sup(self._base(base.arg), format_exponent(-exponent))
        return self._sup(self._base(base), format_exponent(exponent))

    # ------------------------------------------------------------------ functions

    def _print_Trace(self, expr: Trace) -> str:
        return self._operator("tr") + self._wrap(self._print(expr.arg))

    def _print_Det(self, expr: Det) -> str:
        return self._wrap(self._print(expr.arg), "|", "|")

    @staticmethod
    def _notation(function: Function) -> Notation:
        """How this printer writes the function (its entry in ``mdderiv.functions``)."""
        return function.latex

    def _print_Elementwise(self, expr: Elementwise) -> str:
        inner = self._print(expr.arg)
        entry = FUNCTIONS.get(expr.fn)
        if entry is None:
            raise ValueError(f"no form for the elementwise function {expr.fn!r}")
        notation = self._notation(entry)
        if notation.form == "root":
            return self._sqrt(inner)
        if notation.form == "bars":
            return self._wrap(inner, "|", "|")
        if self._bare_log_det(expr):
            return notation.head + inner  # \log|X|
        if notation.inside != "{}":
            inner = notation.inside.replace("{}", inner)
        return notation.head + self._wrap(inner)

    def _bare_log_det(self, expr: Expr) -> bool:
        """Whether ``expr`` is printed ``\\log|X|``, its argument's bars its only delimiters."""
        return (
            isinstance(expr, Elementwise)
            and expr.fn == "log"
            and isinstance(expr.arg, Det)
            and not self._is_annotated(expr.arg)
        )

    def _print_MatrixFunction(self, expr: MatrixFunction) -> str:
        # the matrix function: X^{1/2}, \exp(X), \log(X) (the words of the
        # derivation say which reading was taken)
        if expr.fn == "pow":
            return self._group(self._sup(self._base(expr.arg), format_exponent(expr.exponent)))
        if expr.fn == "sqrt":
            return self._sqrt(self._print(expr.arg))
        return self._notation(FUNCTIONS[expr.fn]).head + self._wrap(self._print(expr.arg))

    def _print_Softmax(self, expr: Softmax) -> str:
        return self._operator("softmax") + self._wrap(self._print(expr.arg))

    def _print_Norm(self, expr: Norm) -> str:
        return self._wrap(self._print(expr.arg), self.NORM, self.NORM) + self._norm_subscript(expr.kind)

    def _print_Diag(self, expr: Diag) -> str:
        return self._operator("diag") + self._wrap(self._print(expr.arg))

    def _print_Vec(self, expr: Vec) -> str:
        return self._operator("vec") + self._wrap(self._print(expr.arg))

    def _print_Unvec(self, expr: Unvec) -> str:
        return self._operator("vec") + self._inverse_mark() + self._wrap(self._print(expr.arg))

    @staticmethod
    def _inverse_mark() -> str:
        return "^{-1}"

    def _print_IndexedSum(self, expr: IndexedSum) -> str:
        body = self._print(expr.body)
        if isinstance(expr.body, Add) or self._negative(expr.body):
            body = self._wrap(body)
        return f"{self._sum_head(expr.index, self._dimension(expr.upper))} {body}"


_ONE = Fraction(1)
# how a factor that hugs the one before it begins (see _between)
_HUGGING = ("(", r"\left(")


def _holders(root: Expr, marked: frozenset[Expr]) -> set[int]:
    """The ids of ``root`` and of its subtrees that contain one of the
    ``marked`` differentials; subtrees without any differential are skipped."""
    holding: set[int] = set()

    def holds(node: Expr) -> bool:
        if not has_differential(node):
            return False
        if isinstance(node, Differential):
            found = node in marked
        else:
            found = False
            for child in node.children():
                found = holds(child) or found  # every child: each may hold one
        if found:
            holding.add(id(node))
        return found

    holds(root)
    return holding


def _coefficient(expr: MatMul) -> Fraction:
    coefficient = _ONE
    for factor in expr.factors:
        if type(factor) is Number:
            coefficient = factor.value if coefficient is _ONE else coefficient * factor.value
    return coefficient


# --------------------------------------------------------------------------- public API


_last_names: tuple[object, dict[str, str]] = (None, {})


def names_of(problem: Problem) -> dict[str, str]:
    """Identifier -> declared spelling, for every symbol of the problem.  The
    same mapping for the same problem object, so the renderers of one
    derivation (LaTeX, then HTML) share one memoising printer."""
    global _last_names
    known, names = _last_names
    if known is problem and len(names) == len(problem.symbols):
        return names
    names = {name: info.latex for name, info in problem.symbols.items()}
    _last_names = (problem, names)
    return names


def render_expr(expr: Expr, names: Mapping[str, str] | None = None, annotate: Annotate = None) -> str:
    """LaTeX for one expression.

    ``names`` maps identifiers to declared spellings (fallback: the identifier);
    ``annotate`` (a predicate or a collection of nodes) chooses which
    sub-expressions get ``\\underbrace{…}_{m \\times n}``; scalars never do.
    """
    if annotate is None and names is not None:
        return shared_printer(names).doprint(expr)
    return LatexPrinter(names, annotate).doprint(expr)


#: the printer of the names mapping being rendered (a derivation renders all its
#: steps with one mapping: its printer remembers the subtrees the steps share)
_PRINTERS: Remembered[int, tuple[Mapping[str, str], LatexPrinter]] = Remembered(
    "the LaTeX printer of the names mapping last rendered", limit=1
)


def shared_printer(names: Mapping[str, str]) -> LatexPrinter:
    """One memoising printer per names mapping (a derivation renders with one)."""
    entry = _PRINTERS.get(id(names))
    if entry is None or entry[0] is not names:  # (the entry keeps its mapping: the id stays its own)
        entry = _PRINTERS.remember(id(names), (names, LatexPrinter(names)))
    return entry[1]
