"""Gradients of a scalar objective, step by step (seed 001).

The method: take the differential, wrap each term in a trace, rotate until the
differential stands at the right, collect to ``tr(L dX)`` and read off
``∂f/∂X = L^T``.  Intermediate definitions are the seed's chain rule: first
``∂f/∂Y`` for the last name Y, then through ``Y``'s definition to the names and
variables it uses, and so on back to the variables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import DeriveError
from ..expr import (
    Add,
    Differential,
    Expr,
    GradientName,
    MatMul,
    Symbol,
    Trace,
    Transpose,
    Zeros,
    add,
    free_symbols,
    has_differential,
    map_tree,
    mul,
    num,
    transpose,
)
from ..problem import Problem
from ..record import Section, SectionKind
from ..rules import RuleId
from .citations import RulesUsed
from .differential import differential
from .rewrite import rewrites
from .folding import fold_norms, written_norms
from .memo import differential_of
from .simplify import simplify
from .sums import merge_into_one, merge_like_terms, split_term
from .transposes import push_transpose
from .trace import expand, is_trace, left_forms, transpose_keeping_sums


@dataclass
class GradientRun:
    """The state of one reverse sweep through the definitions."""

    problem: Problem
    sections: list[Section] = field(default_factory=list)
    #: ∂f/∂S for each symbol reached, as contributions still to be summed
    parts: dict[Symbol, list[Expr]] = field(default_factory=dict)
    #: the finished value of ∂f/∂Y for intermediates, with no placeholders
    values: dict[Symbol, Expr] = field(default_factory=dict)
    #: where each symbol's gradient was last read off: (section, steps so far)
    last_read: dict[Symbol, tuple[Section, int]] = field(default_factory=dict)
    #: backprop style: each variable's gradient with the introduced names written out
    written: dict[Symbol, Expr] = field(default_factory=dict)
    #: (variables, intermediates that depend on a variable), asked by every stage
    active: tuple[frozenset[Symbol], frozenset[Symbol]] = field(init=False)

    def __post_init__(self) -> None:
        self.active = active_symbols(self.problem)

    @property
    def compact(self) -> bool:
        """Backprop style, for names the engine introduced (``names.py``): each
        read-off on one line, a chain stage's product rule already distributed,
        a variable's gradient finished (and written out) where it is read off."""
        return self.problem.named_from is not None

    @property
    def objective(self) -> Symbol:
        return self.problem.objective.symbol

    def name(self, symbol: Symbol) -> GradientName:
        return GradientName(self.objective.name, symbol)

    def folding(self) -> list[tuple[Symbol, Expr]]:
        return [
            (d.symbol, d.expr)
            for d in self.problem.definitions[:-1]
            if not isinstance(d.expr, Symbol)
        ]


def active_symbols(problem: Problem) -> tuple[frozenset[Symbol], frozenset[Symbol]]:
    """(variables, intermediates that depend on a variable)."""
    variables = frozenset(problem.wrt)
    depends: set[Symbol] = set()
    for definition in problem.definitions[:-1]:
        used = free_symbols(definition.expr)
        if used & variables or used & depends:
            depends.add(definition.symbol)
    return variables, frozenset(depends)


def prepared_objective(problem: Problem, section: Section) -> Expr:
    """Show the definitions and the objective, apply the rewrites; return the
    expression to differentiate."""
    objective = problem.objective
    if problem.named_from is not None:
        section.add(objective.symbol, problem.named_from, RuleId.OBJECTIVE)
    for definition in problem.definitions[:-1]:
        introduced = problem.symbols[definition.symbol.name].introduced
        section.add(definition.symbol, definition.expr, RuleId.NAME_LAYER if introduced else RuleId.DEFINITION)
    section.add(objective.symbol, objective.expr, RuleId.OBJECTIVE if problem.named_from is None else RuleId.SUBSTITUTE_NAMES)
    expr = objective.expr
    for new, rules in rewrites(expr):
        section.add(None, new, *rules)
        expr = new
    return expr


def _as_it_is(term: Expr) -> Expr:
    return term


def sweep(run: GradientRun, expr: Expr, section: Section, seed: Expr | None, of: Symbol | None) -> None:
    """One stage: ``df`` through ``expr`` (the objective when ``seed`` is None,
    else a definition ``of = expr`` whose gradient placeholder is ``seed``)."""
    variables, intermediates = run.active
    active = frozenset(free_symbols(expr) & (variables | intermediates))
    if not active:
        return
    f = run.objective
    df = differential_of(f)
    used = RulesUsed()
    d_expr = differential(expr, active, used)
    if d_expr is None:
        return
    wrap: Callable[[Expr], Expr]
    if seed is None:
        section.add(df, d_expr, *used)
        wrap = _as_it_is  # the terms are df's own
    else:
        assert of is not None
        section.add(df, _tr(mul(transpose(seed), differential_of(of))), RuleId.CHAIN_RULE)
        seed_t = transpose(seed)

        def wrap(t: Expr) -> Expr:
            return _tr(mul(seed_t, t))
        if not run.compact:
            section.add(None, _tr(mul(transpose(seed), d_expr)), *used)

    terms = [wrap(t) for t in expand(d_expr)]
    distributed = add(*terms)
    if seed is not None and run.compact:
        # the seed writes tr(G^T d(W h)) straight as tr(G^T dW h) + tr(G^T W dh)
        undistributed = _tr(mul(transpose(seed), d_expr))
        section.add(None, distributed, *used, *([RuleId.DISTRIBUTE] if distributed != undistributed else []))
    shown = section.steps[-1].rhs
    if distributed != shown:
        section.add(None, distributed, RuleId.DISTRIBUTE)
    if seed is None:
        collected_early = collect_scalar_transposes(terms)
        if collected_early is not None:
            terms = collected_early
            section.add(None, add(*terms), RuleId.SCALAR_TRANSPOSE, RuleId.COLLECT)
    symbols = [_differential_of(term) for term in terms]
    # a term in the dt of a scalar variable is read off as g dt: no trace taken
    traced = [t if is_trace(t) or s.is_scalar else Trace(t) for t, s in zip(terms, symbols)]
    wrapping: list[RuleId] = []
    if traced != terms:  # a term that was no trace (Trace(t) never equals t)
        wrapping = [RuleId.TRACE_SCALAR] + ([RuleId.TRACE_LINEAR] if len(terms) > 1 else [])
        if not run.compact:
            section.add(None, add(*traced), *wrapping)
            wrapping = []
        # (backprop style: the traces are taken on the next line, which cites them)

    tricks = RulesUsed()
    forms = left_forms(terms, tricks)
    by_symbol: dict[Symbol, list[Expr]] = {}
    for symbol, form in zip(symbols, forms):
        by_symbol.setdefault(symbol, []).append(form)
    rotated = add(*[_read_form(form, symbol) for symbol, form in zip(symbols, forms)])
    if rotated != section.steps[-1].rhs:
        section.add(None, rotated, *wrapping, *[r for r in tricks if r not in wrapping and r != RuleId.TRACE_SCALAR])
    collected: dict[Symbol, Expr] = {
        s: add(*merged) if (merged := merge_like_terms(fs)) else Zeros(fs[0].shape)
        for s, fs in by_symbol.items()
    }
    if all(len(fs) == 1 and collected[s] is fs[0] for s, fs in by_symbol.items()):
        combined = rotated  # one term per variable, nothing merged: the line above
    else:
        combined = add(*[_read_form(g, s) for s, g in collected.items()])
    if combined != section.steps[-1].rhs:
        section.add(None, combined, RuleId.COLLECT)

    for symbol, left in collected.items():
        rules = RulesUsed()
        raw = transpose(left)
        value = distribute_transpose(simplify(raw, rules, run.folding()), rules, run.folding())
        read_off = RuleId.READ_OFF_SCALAR if symbol.is_scalar else RuleId.READ_OFF
        if run.compact and value != raw:
            section.add(run.name(symbol), value, read_off, *rules)
        else:
            section.add(run.name(symbol), raw, read_off)
            if value != raw:
                section.add(None, value, *rules)
        if run.compact and symbol in variables and _used_once(run.problem, symbol):
            value = _finish_here(run, symbol, value, section)
        run.parts.setdefault(symbol, []).append(value)
        run.last_read[symbol] = (section, len(section.steps))


def collect_scalar_transposes(terms: list[Expr]) -> list[Expr] | None:
    """Like terms of a scalar ``df`` that differ by a transpose, collected
    before any trace is taken, as the seed does for least squares:
    ``(X dw)^T(Xw - y) + (Xw - y)^T X dw = 2(Xw - y)^T X dw``.  None when no
    term is a transposed copy of another (the derivation then goes on as before)."""
    if len(terms) < 2 or not all(t.is_scalar for t in terms):
        return None
    if not any(_transposed_differential(t) for t in terms):
        return None  # (the common case, decided without building a transpose)
    out = list(terms)
    for i, term in enumerate(terms):
        if not _transposed_differential(term):
            continue
        coefficient, _, factors = split_term(term)
        scalars = [f for f in factors if f.is_scalar]
        matrices = [f for f in factors if not f.is_scalar]
        # the scalar turned around, its scalar factors kept in front
        flipped = mul(num(coefficient), *scalars, transpose_keeping_sums(mul(*matrices)))
        if flipped == term:
            continue
        if any(merge_into_one(flipped, other) for j, other in enumerate(out) if j != i):
            out[i] = flipped
    if out == terms:
        return None
    merged = merge_like_terms(out)
    return merged if len(merged) < len(terms) else None


def _transposed_differential(term: Expr) -> bool:
    """Whether a factor of ``term`` is a transpose holding a differential
    (``(A dx)^T …``, ``dx^T …``): a candidate to be turned around."""
    factors = term.factors if type(term) is MatMul else (term,)
    return any(type(f) is Transpose and has_differential(f) for f in factors)


def _used_once(problem: Problem, variable: Symbol) -> bool:
    """Whether one line (a definition or the objective) holds ``variable``:
    then its gradient is complete at its one read-off."""
    return sum(variable in free_symbols(d.expr) for d in problem.definitions) == 1


def _finish_here(run: GradientRun, variable: Symbol, value: Expr, section: Section) -> Expr:
    """In backprop style, a variable's gradient right under its read-off: the
    placeholders ∂f/∂Y replaced (the named form), then the names written out
    when that fits (``names.written_out``)."""
    rules = RulesUsed()
    if run.values:
        named = simplify(substitute(value, run.values, run.objective.name), rules, run.folding())
        if named != value:
            section.add(None, named, RuleId.SUBSTITUTE, *rules)
            value = named
    _write_out(run, variable, value, section)
    return value


def _write_out(run: GradientRun, variable: Symbol, value: Expr, section: Section | None) -> None:
    """Remember ``value`` with the introduced names written out; show it as
    the line ``= …`` in ``section`` when that fits."""
    from .names import fits, written_out

    full = run.written[variable] = written_out(value, run.problem)
    if section is not None and full != value and fits(full):
        section.add(None, full, RuleId.EXPAND_NAMES)


def distribute_transpose(value: Expr, rules: RulesUsed, names: list[tuple[Symbol, Expr]]) -> Expr:
    """A result written ``(A - B)^T`` reads better as ``A^T - B^T`` (the form
    of the Matrix Cookbook): distribute a transpose left outside a sum."""
    if isinstance(value, Transpose) and isinstance(value.arg, Add):
        spread = add(*(push_transpose(t, rules) for t in value.arg.terms))
        return simplify(spread, rules, names)
    return value


def _read_form(left: Expr, symbol: Symbol) -> Expr:
    """``tr(L dX)``, the form the gradient is read off from; for a scalar
    variable the teacher's ``g dt`` (a scalar needs no trace)."""
    if symbol.is_scalar:
        return mul(left, differential_of(symbol))
    return _tr(mul(left, differential_of(symbol)))


def _tr(expr: Expr) -> Expr:
    """``tr(expr)`` shown even for a 1×1 ``expr``: the step is about the trace."""
    return Trace(expr)


def _differential_of(term: Expr) -> Symbol:
    """The symbol of the first differential in ``term`` (in reading order)."""
    node = term
    while type(node) is not Differential:
        # descend into the first child holding one (known from construction)
        for child in node.children():
            if has_differential(child):
                node = child
                break
        else:
            raise DeriveError("internal: a term without a differential")
    if not isinstance(node.of, Symbol):  # (d ∂f/∂X labels a Hessian's line; no term holds one)
        raise DeriveError("internal: a term with the differential of a gradient")
    return node.of


def substitute(expr: Expr, values: dict[Symbol, Expr], objective: str) -> Expr:
    """Replace every placeholder ∂f/∂Y by its value, recursively (a value may
    itself hold placeholders of later names); each value is expanded once."""
    done: dict[Symbol, Expr] = {}

    def visit(node: Expr) -> Expr:
        if isinstance(node, GradientName) and node.objective == objective and node.of in values:
            if node.of not in done:
                done[node.of] = map_tree(values[node.of], visit)
            return done[node.of]
        return node

    return map_tree(expr, visit)


@dataclass(slots=True)  # (a value nothing changes, not frozen: see record.Step)
class Gradients:
    """What the method gives: its sections, ∂f/∂X for every variable, and (when
    the engine named the layers, ``names.py``) the same with the names written out."""

    sections: list[Section]
    values: dict[Symbol, Expr]
    written: dict[Symbol, Expr]


def gradients(problem: Problem) -> Gradients:
    """Run the method on a scalar objective."""
    run = GradientRun(problem)
    sections = run.sections
    head = Section(SectionKind.OBJECTIVE)
    sections.append(head)
    expr = prepared_objective(problem, head)
    first = Section(SectionKind.DIFFERENTIAL)
    sections.append(first)
    sweep(run, expr, first, None, None)

    _, intermediates = run.active
    for definition in reversed(problem.definitions[:-1]):
        y = definition.symbol
        if y not in intermediates or y not in run.parts:
            continue
        value = _finish(run, y)
        run.values[y] = value
        section = Section(SectionKind.CHAIN, about=y)
        sections.append(section)
        sweep(run, definition.expr, section, run.name(y), y)

    results: dict[Symbol, Expr] = {}
    for variable in problem.wrt:
        if variable not in run.parts:
            raise DeriveError(
                f"the objective does not depend on {variable.name}", problem.wrt_line, 1
            )
        shown = len(sections)
        results[variable] = _finish(run, variable, as_result=True)
        if run.compact and variable not in run.written:
            # finished in a section of its own (collected from several lines), or not shown again
            _write_out(run, variable, results[variable], sections[-1] if len(sections) > shown else None)
    return Gradients(sections, results, run.written)


def _finish(run: GradientRun, symbol: Symbol, as_result: bool = False) -> Expr:
    """The value of ∂f/∂symbol: contributions summed; for a variable's result
    (``as_result``) placeholders replaced too, and the steps shown."""
    parts = run.parts[symbol]
    total = add(*parts) if len(parts) > 1 else parts[0]
    rules = RulesUsed()
    if not as_result:
        # an intermediate's value keeps its placeholders: substituting here
        # would rebuild ever longer expressions at every layer (quadratic in
        # the depth); the variables' results substitute once, at the end
        return simplify(total, rules, run.folding())
    substituted = substitute(total, run.values, run.objective.name) if run.values else total
    value = simplify(substituted, rules, run.folding())
    folds = RulesUsed()
    folded = fold_norms(value, written_norms(run.problem), folds)  # ((x - a)^T (x - a))^{-1/2} (x - a) is (x - a)/‖x - a‖
    read_off = value == parts[-1] and len(parts) == 1  # the read-off already shows it
    if read_off and folded == value:
        return value
    section, length = run.last_read[symbol]
    if len(parts) == 1 and len(section.steps) == length:
        # the read-off was the last line shown: continue right under it
        if not read_off:
            section.add(None, value, RuleId.SUBSTITUTE, *rules)
        if folded != value:
            section.add(None, folded, *folds)
        return folded
    section = Section(SectionKind.RESULT, about=symbol)
    run.sections.append(section)
    if read_off:
        section.add(run.name(symbol), folded, *folds)
        return folded
    section.add(run.name(symbol), total, RuleId.COLLECT if len(parts) > 1 else RuleId.SUBSTITUTE)
    if value != total:
        section.add(None, value, RuleId.SUBSTITUTE, *rules)
    if folded != value:
        section.add(None, folded, *folds)
    return folded

