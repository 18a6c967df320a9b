"""What the calculus remembers about the nodes of one derivation.

Nodes are plain immutable values and hold nothing but their fields.  The
simplifier asks the same questions of the same subtrees many times in one
derivation (a subtree's simplified form, its transpose pushed to the leaves, a
product's split into number, scalars and matrices, how many transposes it
holds), so it keeps the answers here, for the length of one derivation:
``derive_problem`` opens a memo with :func:`derivation_memo` and drops it when
the derivation is done.  Outside one (a test calling ``simplify`` by itself)
nothing is remembered and every answer is worked out afresh.

The tables are keyed by the node's identity (a lookup needs no hash of a new
tree, and most trees the passes meet are new); each entry keeps its node, so
an identity stays that node's while the memo lives.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any, TypeVar

from ..expr import Differential, Expr, GradientName, Symbol, kinds
from ..rules import RuleId

if TYPE_CHECKING:
    from .sums import Split

N = TypeVar("N", bound=Expr)
T = TypeVar("T")

#: a node's entry: the node itself (keeping its identity taken) and the answer
Entry = tuple[Expr, Any]


class DerivationMemo:
    """The simplifier's answers about the nodes of one derivation; the memo
    the passes find for the body of a ``with`` statement on it (one ``with``
    per memo: it keeps the context variable's token until the end)."""

    __slots__ = ("passes", "pushed", "splits", "transposes", "foldings", "kinds", "differentials", "_token")

    def __init__(self) -> None:
        #: node → (its form after one bottom-up simplification pass, the rules it used)
        self.passes: dict[int, tuple[Expr, tuple[Expr, tuple[RuleId, ...]]]] = {}
        #: node → (its transpose pushed to the leaves, the rules it used)
        self.pushed: dict[int, tuple[Expr, tuple[Expr, tuple[RuleId, ...]]]] = {}
        #: product → (number, other scalar factors, matrix factors)
        self.splits: dict[int, tuple[Expr, Split]] = {}
        #: node → how many transposes it holds
        self.transposes: dict[int, tuple[Expr, int]] = {}
        #: named definitions → their folding table (built once per derivation)
        self.foldings: dict[tuple[tuple[Expr, Expr], ...], Any] = {}
        #: tree → the node classes occurring in it (several rewrites ask it of the objective)
        self.kinds: dict[int, tuple[Expr, frozenset[type]]] = {}
        #: symbol → its differential dX (one node, written on many lines)
        self.differentials: dict[int, tuple[Expr, Differential]] = {}
        self._token: Token[DerivationMemo | None] | None = None

    # (a context manager of its own, not a @contextmanager generator: one is
    # opened per derivation, and the generator's set-up costs twice the memo)
    def __enter__(self) -> DerivationMemo:
        self._token = _CURRENT.set(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._token is not None
        _CURRENT.reset(self._token)
        self._token = None


_CURRENT: ContextVar[DerivationMemo | None] = ContextVar("mdderiv_derivation_memo", default=None)

#: The memo of the derivation under way, or None outside one.  (The context
#: variable's own getter: the passes ask for it constantly, and this one is a
#: C call.)
current_memo: Callable[[], DerivationMemo | None] = _CURRENT.get


def node_kinds(expr: Expr) -> frozenset[type]:
    """The node classes occurring in ``expr``, remembered for the derivation."""
    memo = _CURRENT.get()
    return kinds(expr) if memo is None else _per_node(memo.kinds, expr, kinds)


def differential_of(symbol: Symbol | GradientName) -> Differential:
    """``d symbol``, one node per symbol for the derivation: the differentials
    come back on line after line (cheaper found than built, and a shared node
    compares equal by identity)."""
    memo = _CURRENT.get()
    return Differential(symbol) if memo is None else _per_node(memo.differentials, symbol, Differential)


def _per_node(table: dict[int, tuple[Any, T]], node: N, make: Callable[[N], T]) -> T:
    """``make(node)``, made once per node in ``table`` (keyed by identity; the
    entry keeps the node alive, so its id is not reused while the memo lives)."""
    entry = table.get(id(node))
    if entry is None:
        entry = table[id(node)] = (node, make(node))
    return entry[1]


def derivation_memo() -> DerivationMemo:
    """A fresh memo, for ``with derivation_memo():`` around one derivation."""
    return DerivationMemo()
