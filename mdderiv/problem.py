"""What the parser and the shape checker hand to the calculus: a checked problem."""

from __future__ import annotations

from dataclasses import dataclass, field

from .expr import Dim, Expr, Shape, Symbol


# The records below are values nothing changes once made, but not
# ``frozen=True``: a frozen dataclass's ``__init__`` stores each field through
# ``object.__setattr__``, which made building a SymbolInfo three times as costly
# (a block makes several); ``unsafe_hash=True`` keeps them hashable as frozen
# ones were (the standard library's documented choice for a "logically
# immutable" class).
@dataclass(slots=True, unsafe_hash=True)
class SymbolInfo:
    """One declared or defined symbol (a value: nothing assigns to its fields,
    which its node is built from)."""

    name: str  # Python identifier: "Sigma", "W_1", "x_bar", "lambda_"
    latex: str  # the spelling to print: "\\Sigma", "W_{1}", "\\bar{\\mathbf{x}}"
    shape: Shape
    props: frozenset[str] = frozenset()
    index: str | None = None  # "i" for a family x_i summed over i
    count: Dim | None = None  # the family's size (the sum's upper bound)
    defined: bool = False  # an intermediate name given by a definition line
    introduced: bool = False  # a name the engine gave a layer (``calculus/names.py``)
    #: the symbol's node, made with the record (nearly every symbol's is asked
    #: for, and made here it costs half what a cached property's first look
    #: does): every use of the name in the block is this one node, whose hash
    #: is worked out once
    node: Symbol = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.node = Symbol(self.name, self.shape, self.props, self.index)

    def symbol(self) -> Symbol:
        """The symbol's node (the same node every time)."""
        return self.node


@dataclass(slots=True, unsafe_hash=True)  # (a value, not frozen: see SymbolInfo)
class Definition:
    """``NAME = EXPR``: the last one in a block is the objective."""

    symbol: Symbol
    expr: Expr
    line: int
    source: str  # the right-hand side as the author wrote it


@dataclass
class Problem:
    symbols: dict[str, SymbolInfo]
    definitions: list[Definition]
    wrt: list[Symbol]
    options: dict[str, str] = field(default_factory=dict)  # option lines in the body
    option_lines: dict[str, int] = field(default_factory=dict)
    wrt_line: int = 1
    dims: list[Dim] = field(default_factory=list)  # dimension names, first use first
    #: the objective as the author wrote it, when the engine named its layers
    #: (``calculus/names.py``); the definitions then start with those names
    named_from: Expr | None = None
    #: a number added to a vector inside an elementwise function was read as that
    #: number times a vector of ones (``shapes.Builder.broadcast_numbers``)
    broadcast: bool = False
    #: a number added to a square matrix inside exp, log, √… of it was read as
    #: that number times I (``shapes.Builder.number_in_matrix_function``)
    number_as_identity: bool = False
    #: a dimension name was written as a number (``\frac{n}{2}\log\det\Sigma``):
    #: read as that size, which the numerical check samples
    dims_as_numbers: bool = False
    #: a dimension name made of dimension names (``\mathbb{R}^{mn}``) was read as
    #: their product ``m*n`` (``parse._dimension_products``)
    dims_as_products: bool = False

    @property
    def objective(self) -> Definition:
        return self.definitions[-1]
