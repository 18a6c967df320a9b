"""What the parser and the shape checker hand to the calculus: a checked problem."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from .expr import Dim, Expr, Shape, Symbol


@dataclass(frozen=True)
class SymbolInfo:
    """One declared or defined symbol."""

    name: str  # Python identifier: "Sigma", "W_1", "x_bar", "lambda_"
    latex: str  # the spelling to print: "\\Sigma", "W_{1}", "\\bar{\\mathbf{x}}"
    shape: Shape
    props: frozenset[str] = frozenset()
    index: str | None = None  # "i" for a family x_i summed over i
    count: Dim | None = None  # the family's size (the sum's upper bound)
    defined: bool = False  # an intermediate name given by a definition line
    introduced: bool = False  # a name the engine gave a layer (``calculus/names.py``)

    def symbol(self) -> Symbol:
        """The symbol's node, made once: every use of the name in the block is
        this one (equal) node, whose hash is worked out once."""
        return self._node

    @functools.cached_property
    def _node(self) -> Symbol:  # (kept in the instance's __dict__: no frozen __setattr__ involved)
        return Symbol(self.name, self.shape, self.props, self.index)


@dataclass(frozen=True)
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
