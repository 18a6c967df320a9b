"""The parse tree of one right-hand side, before shapes are known.

These nodes say what the author wrote (with positions); ``mdderiv.shapes``
turns them into the engine's shaped ``mdderiv.expr`` nodes.  ``pos`` is the
character offset in the parsed text; a :class:`Source` maps it to line/column.

The nodes are values: nothing assigns to a field once a node is made.  They
are not ``frozen=True`` dataclasses all the same: a frozen dataclass's
``__init__`` stores each field through ``object.__setattr__``, which made
building a node two to three times as costly (a block makes a dozen);
``unsafe_hash=True`` keeps them hashable as frozen ones were (the standard
library's documented choice for a "logically immutable" class).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple, NoReturn

from ..errors import DeriveError
from ..expr import NormKind

Dim = str | int


class Source(NamedTuple):
    """Where a piece of text sits in the block body (for error positions).

    A named tuple (immutable, like the frozen dataclass it was): a dozen are
    made per block, and a tuple is made several times faster."""

    text: str
    line: int  # 1-based line of the block body
    column: int  # 0-based column of ``text[0]`` in that line

    def where(self, pos: int) -> tuple[int, int]:
        return self.line, self.column + max(0, min(pos, len(self.text))) + 1

    def error(self, message: str, pos: int) -> NoReturn:
        line, column = self.where(pos)
        raise DeriveError(message, line, column)


class NameRef(NamedTuple):
    """A symbol as written: ``\\bar{\\mathbf{x}}`` → ident ``x_bar``.

    ``base_*`` is the name without its outer subscript (``\\mathbf{x}`` for
    ``\\mathbf{x}_i``), which is what an indexed family is called.  A named
    tuple (immutable, as a frozen dataclass): one is made for every name read.
    """

    ident: str
    latex: str
    base_ident: str
    base_latex: str
    sub: str | None  # the outer subscript's identifier text ("1", "12", "i")
    pos: int
    end: int


@dataclass(slots=True, unsafe_hash=True)
class Node:
    pos: int


@dataclass(slots=True, unsafe_hash=True)
class NumberNode(Node):
    value: Fraction


@dataclass(slots=True, unsafe_hash=True)
class NameNode(Node):
    ref: NameRef


@dataclass(slots=True, unsafe_hash=True)
class ConstNode(Node):
    """``\\mathbf{1}`` (kind "ones") or ``\\mathbf{0}`` ("zeros"), size if written."""

    kind: str
    size: tuple[Dim, ...] | None


@dataclass(slots=True, unsafe_hash=True)
class NegNode(Node):
    arg: Node


@dataclass(slots=True, unsafe_hash=True)
class AddNode(Node):
    """Terms with their signs (+1 or -1), in order."""

    terms: tuple[tuple[int, Node], ...]


@dataclass(slots=True, unsafe_hash=True)
class ProductNode(Node):
    factors: tuple[Node, ...]


@dataclass(slots=True, unsafe_hash=True)
class DivNode(Node):
    """``\\frac{p}{q}`` or ``p / q``: q must be a scalar."""

    num: Node
    den: Node


@dataclass(slots=True, unsafe_hash=True)
class BinaryNode(Node):
    op: str  # "hadamard", "kron", "hadamard_div", "inner" (⟨A, B⟩, A : B), "dot" (·), "cross" (×)
    left: Node
    right: Node


@dataclass(slots=True, unsafe_hash=True)
class PostfixNode(Node):
    op: str  # "T", "inv", "invT", "pow", "pow_expr" (an exponent that is an expression)
    arg: Node
    exponent: Fraction | None = None
    exponent_expr: Node | None = None  # for "pow_expr": ^{1/n}, ^{p}


@dataclass(slots=True, unsafe_hash=True)
class ApplyNode(Node):
    """A named function: trace, det, softmax, diag, vec, or an elementwise one."""

    fn: str
    arg: Node


@dataclass(slots=True, unsafe_hash=True)
class AbsNode(Node):
    """``|A|``: determinant of a square matrix, absolute value of a scalar."""

    arg: Node


@dataclass(slots=True, unsafe_hash=True)
class NormNode(Node):
    arg: Node
    sub: NormKind | None  # the subscript's norm; None for bare bars (Euclidean or Frobenius by shape)


@dataclass(slots=True, unsafe_hash=True)
class SumNode(Node):
    """``\\sum_{index=1}^{upper} body``."""

    index: str
    upper: Dim
    body: Node
