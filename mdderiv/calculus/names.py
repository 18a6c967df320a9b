r"""Names for the layers of a deep composition (seed 001, 例5).

A two-layer network written in one line, ``-y^T log softmax(W_2 σ(W_1 x))``,
derives in one sweep into lines several pages wide.  The tutorial instead
names the intermediate results — ``a_1 = W_1 x``, ``h_1 = σ(a_1)``,
``a_2 = W_2 h_1`` — and derives backwards through them.  This module decides
when an objective composes that deeply and writes the names as definition
lines; the chain rule through definitions (``gradient.py``) does the rest.

The criterion ("composes deeply"):

- a *layer* is an elementwise function or softmax whose value is a vector or a
  matrix (not a scalar), and whose own argument — not counting what lies inside
  another layer — holds a product of non-scalar factors that depends on a
  variable of ``wrt`` (``σ(W_1 x)``, ``softmax(W_2 h + b)``);
- a layer's depth is one more than the deepest layer inside its argument;
- the objective composes deeply when some layer has depth two or more.

So ``log softmax(Wx)``, ``log σ(Xw)``, ``log(1^T exp(Wx))`` and ``σ(σ(Wx))``
keep the derivation they always had.  Names are only introduced when the author
wrote no definition lines (an author's own names are the author's choice), the
objective is a scalar, no indexed sum is involved, and ``names: auto``.

Each layer inside a deep composition gets ``a_k`` for its argument and
``h_k`` for its value (``A_k``, ``H_k`` when matrix-valued); the outermost
layer keeps its function in the objective (``softmax(a_2)``), as in the seed.
A name the author uses is skipped, and a letter that is a dimension or an
indexed family's name is not used at all.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TypeGuard

from .memo import node_kinds
from ..expr import (
    SCALAR,
    Elementwise,
    Expr,
    IndexedSum,
    MatMul,
    Softmax,
    Symbol,
    map_tree,
    rebuild,
)
from ..problem import Definition, Problem, SymbolInfo

#: the letters for (argument, value) of a layer, tried in order
LETTERS = (("a", "h"), ("u", "v"), ("p", "q"))

_LAYERS = (Elementwise, Softmax)


def _is_layer_node(node: Expr) -> TypeGuard[Elementwise | Softmax]:
    return type(node) in _LAYERS and node.shape != SCALAR


class _Depths:
    """Layer depths of one objective's nodes, and which nodes depend on a variable."""

    def __init__(self, variables: frozenset[Symbol]) -> None:
        self.variables = variables
        self.seen: dict[int, tuple[bool, int]] = {}  # id(node) → visit(node)
        self.depth: dict[int, int] = {}  # id(layer) → its depth

    def visit(self, node: Expr) -> tuple[bool, int]:
        """(depends on a variable, the deepest layer at or below ``node``)."""
        key = id(node)
        known = self.seen.get(key)
        if known is not None:
            return known
        depends = type(node) is Symbol and node in self.variables
        deepest = 0
        for child in node.children():
            d, k = self.visit(child)
            depends = depends or d
            deepest = max(deepest, k)
        if depends and _is_layer_node(node) and self._own_product(node.arg):
            deepest += 1
            self.depth[key] = deepest
        self.seen[key] = (depends, deepest)
        return depends, deepest

    def _own_product(self, arg: Expr) -> bool:
        """Whether ``arg``, outside the layers inside it, holds a product of
        non-scalar factors that depends on a variable."""
        stack = [arg]
        while stack:
            node = stack.pop()
            if _is_layer_node(node):
                continue
            if (
                type(node) is MatMul
                and self.seen[id(node)][0]
                and sum(f.shape != SCALAR for f in node.factors) >= 2
            ):
                return True
            stack.extend(node.children())
        return False


def deep_layers(expr: Expr, variables: frozenset[Symbol]) -> _Depths | None:
    """The layer depths of ``expr`` when it composes deeply (the criterion of
    the module docstring), else None.  Cheap for the common case: a cached set
    of node kinds says whether any layer can occur."""
    present = node_kinds(expr)
    if Elementwise not in present and Softmax not in present:
        return None
    if IndexedSum in present:
        return None  # a layer of x_i would need a name per i
    depths = _Depths(variables)
    _, deepest = depths.visit(expr)
    return depths if deepest >= 2 else None


def composes_deeply(expr: Expr, variables: frozenset[Symbol]) -> bool:
    return deep_layers(expr, variables) is not None


class _Namer:
    """Hands out ``a_k``/``h_k`` pairs the author does not use."""

    def __init__(self, problem: Problem) -> None:
        families = {info.name for info in problem.symbols.values() if info.index is not None}
        dims = {str(d) for d in problem.dims}
        blocked = families | dims
        self.taken = set(problem.symbols) | blocked
        self.letters = next(
            (pair for pair in LETTERS if not (set(pair) & blocked)), LETTERS[-1]
        )
        self.index = 0

    def pair(self, matrix: bool) -> tuple[tuple[str, str], tuple[str, str]]:
        """((ident, latex) of the argument's name, the same for the value's)."""
        while True:
            self.index += 1
            made = []
            for letter in self.letters:
                base = letter.upper() if matrix else letter
                ident = f"{base}_{self.index}"
                latex = f"{base}_{{{self.index}}}" if matrix else f"\\mathbf{{{letter}}}_{{{self.index}}}"
                made.append((ident, latex))
            if not any(ident in self.taken for ident, _ in made):
                return made[0], made[1]


def with_layer_names(problem: Problem) -> Problem:
    """``problem`` with definition lines naming the layers of its objective,
    or ``problem`` itself when the objective does not compose deeply."""
    if len(problem.definitions) != 1:
        return problem  # the author's own definitions: today's derivation
    objective = problem.objective
    expr = objective.expr
    if not expr.is_scalar:
        return problem
    depths = deep_layers(expr, frozenset(problem.wrt))
    if depths is None:
        return problem

    namer = _Namer(problem)
    definitions: list[Definition] = []
    infos: dict[str, SymbolInfo] = {}
    named: dict[Expr, Expr] = {}  # a layer (as rewritten) → what replaces it

    def define(ident: str, latex: str, value: Expr) -> Symbol:
        info = infos[ident] = SymbolInfo(ident, latex, value.shape, defined=True, introduced=True)
        definitions.append(Definition(info.symbol(), value, objective.line, ""))  # no text of the author's
        return info.symbol()

    def rewrite(node: Expr, inside: bool) -> Expr:
        """``node`` with its layers named; ``inside``: within a named layer."""
        depth = depths.depth.get(id(node), 0)
        if depth and (inside or depth >= 2) and _is_layer_node(node):  # (only layers have a depth)
            arg = rewrite(node.arg, True)
            layer = _rebuilt(node, arg)
            if layer in named:
                return named[layer]
            (a_ident, a_latex), (h_ident, h_latex) = namer.pair(arg.shape[1] != 1)
            a = define(a_ident, a_latex, arg)
            applied = _rebuilt(node, a)
            result: Expr = define(h_ident, h_latex, applied) if inside else applied
            named[layer] = result
            return result
        kids = node.children()
        if not kids:
            return node
        new = [rewrite(k, inside) for k in kids]
        if all(n is k for n, k in zip(new, kids)):
            return node
        return rebuild(node, tuple(new))

    body = rewrite(expr, False)
    if not definitions:
        return problem
    symbols = dict(problem.symbols)
    # the introduced names read before the objective, as the author would write them
    objective_info = symbols.pop(objective.symbol.name, None)
    symbols.update(infos)
    if objective_info is not None:
        symbols[objective.symbol.name] = objective_info
    new_objective = replace(objective, expr=body)
    return replace(
        problem, symbols=symbols, definitions=[*definitions, new_objective], named_from=expr
    )


def _rebuilt(layer: Expr, arg: Expr) -> Expr:
    if isinstance(layer, Elementwise):
        return Elementwise(layer.fn, arg, layer.shape)
    return Softmax(arg, layer.shape)


#: a gradient is also written without the names when its written-out form has
#: at most this many symbol occurrences (about one line of a page)
WRITTEN_OUT_LIMIT = 12


def written_out(value: Expr, problem: Problem) -> Expr:
    """``value`` with the introduced names replaced by what they stand for,
    simplified (without folding anything back into a name)."""
    from .simplify import simplify

    introduced = {
        d.symbol: d.expr for d in problem.definitions[:-1] if problem.symbols[d.symbol.name].introduced
    }
    if not introduced:
        return value

    done: dict[Symbol, Expr] = {}  # each name written out once

    def visit(node: Expr) -> Expr:
        if type(node) is Symbol and node in introduced:
            if node not in done:
                done[node] = map_tree(introduced[node], visit)
            return done[node]
        return node

    return simplify(map_tree(value, visit))


def fits(expr: Expr) -> bool:
    """Whether a written-out gradient is short enough to show (``WRITTEN_OUT_LIMIT``)."""
    return sum(1 for node in expr.walk() if type(node) is Symbol) <= WRITTEN_OUT_LIMIT
