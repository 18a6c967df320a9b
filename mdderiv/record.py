"""The derivation record: the steps, the results and the numerical check.

The calculus fills it; the renderers (``mdderiv.render``) read it and know it
by this module alone.  The public :class:`~mdderiv.derivation.Derivation` is
this record with one method per output format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .expr import Expr, Shape, Symbol
from .options import Options
from .problem import Problem
from .rules import RuleId


class Kind(StrEnum):
    """A kind named by a word (its value, which ``str`` gives, is what JSON shows
    and what the renderers' word tables are keyed by)."""


class SectionKind(Kind):
    """What a section of steps is about (its heading says so)."""

    OBJECTIVE = "objective"
    DIFFERENTIAL = "differential"
    CHAIN = "chain"
    RESULT = "result"
    DERIVATIVE = "derivative"
    HESSIAN = "hessian"
    SOLVE = "solve"
    SCRATCH = "scratch"
    SYMMETRIC = "symmetric"
    LAYOUT = "layout"


class ResultKind(Kind):
    """What a boxed result is."""

    GRADIENT = "gradient"
    DERIVATIVE = "derivative"
    HESSIAN = "hessian"
    SYMMETRIC_GRADIENT = "symmetric gradient"
    STATIONARY_POINT = "stationary point"


class Layout(Kind):
    """How a derivative is laid out: shaped like the variable (denominator)
    or like its transpose (numerator)."""

    DENOMINATOR = "denominator"
    NUMERATOR = "numerator"


# Steps are values nothing changes once made, but not ``frozen=True``: a frozen
# dataclass's ``__init__`` stores each field through ``object.__setattr__``,
# which made building a step three times as costly (a block makes a dozen);
# ``unsafe_hash=True`` keeps them hashable as a frozen one was (the standard
# library's documented choice for a "logically immutable" class).
@dataclass(slots=True, unsafe_hash=True)
class Step:
    """One line of the derivation: ``lhs = rhs`` justified by ``rules``.

    ``lhs`` None continues the previous line (``= rhs``).  ``note`` is an
    optional remark in words, keyed for translation (see ``render.words``).
    A step is a value: nothing assigns to its fields once it is made.
    """

    lhs: Expr | None
    rhs: Expr
    rules: tuple[RuleId, ...] = ()
    note: str | None = None
    relation: str = "="


@dataclass
class Section:
    """A group of steps with a heading: the objective, the gradient for one
    variable, a chain-rule stage, the stationary point …"""

    kind: SectionKind
    about: Symbol | None = None
    steps: list[Step] = field(default_factory=list)

    def add(self, lhs: Expr | None, rhs: Expr, *rules: RuleId, note: str | None = None) -> None:
        self.steps.append(Step(lhs, rhs, tuple(rules), note))


@dataclass(slots=True, unsafe_hash=True)  # (a value, not frozen: see Step)
class Result:
    """One derived result: for a gradient the matrix G with
    ``df = tr(G^T dX)`` (its transpose when ``layout`` is numerator)."""

    wrt: Symbol
    expr: Expr
    label: Expr  # the left-hand side as printed, e.g. the GradientName ∂f/∂X
    kind: ResultKind = ResultKind.GRADIENT
    layout: Layout = Layout.DENOMINATOR

    @property
    def shape(self) -> Shape:
        return self.expr.shape


@dataclass(frozen=True)
class CheckOutcome:
    """The finite-difference check of every result."""

    passed: bool
    max_rel_error: float
    sizes: dict[str, int]
    seed: int


@dataclass
class DerivationRecord:
    """Everything a derivation found: the problem, the options it ran with,
    the sections of steps, the results and (when on) the check's outcome."""

    problem: Problem
    options: Options
    sections: list[Section]
    results: list[Result]
    check: CheckOutcome | None = None

    @property
    def objective(self) -> Symbol:
        return self.problem.objective.symbol
