"""The calculus: differentials, trace tricks, simplification and read-off.

``derive_problem`` turns a checked :class:`~mdderiv.problem.Problem` into a
:class:`~mdderiv.derivation.Derivation` (without the numerical check, which
``mdderiv.check`` adds).
"""

from __future__ import annotations

from dataclasses import replace

from ..derivation import Derivation
from ..expr import SYMMETRIC, Expr, GradientName, Symbol, map_tree
from ..options import Options
from ..problem import Definition, Problem
from ..record import Layout, Result, ResultKind, Section, SectionKind
from ..rules import RuleId
from .citations import RulesUsed
from .gradient import gradients
from .memo import derivation_memo
from .names import fits, with_layer_names
from .readings import cite_readings, readings, with_function_reading
from .secondorder import hessian, stationary_point, symmetric_gradient
from .simplify import simplify
from .transposes import is_symmetric, push_transpose


def with_symmetric_definitions(problem: Problem) -> Problem:
    """Mark intermediate names whose definition is symmetric (``S = Σ u_i u_i^T``)
    as symmetric symbols, so ``S^T = S`` simplifies like a declared one."""
    renamed: dict[Symbol, Symbol] = {}

    def visit(node: Expr) -> Expr:
        return renamed.get(node, node) if isinstance(node, Symbol) else node

    definitions: list[Definition] = []
    for definition in problem.definitions:
        expr = map_tree(definition.expr, visit) if renamed else definition.expr
        symbol = definition.symbol
        if (
            definition is not problem.definitions[-1]
            and not symbol.symmetric
            and not expr.is_scalar
            and is_symmetric(expr)
        ):
            new = replace(symbol, props=symbol.props | {SYMMETRIC})
            renamed[symbol] = new
            symbol = new
        if symbol is definition.symbol and expr is definition.expr:
            definitions.append(definition)
        else:
            definitions.append(replace(definition, symbol=symbol, expr=expr))
    if not renamed:
        return problem
    symbols = dict(problem.symbols)
    for old, new in renamed.items():
        if old.name in symbols:
            symbols[old.name] = replace(symbols[old.name], props=new.props)
    wrt = [renamed.get(w, w) for w in problem.wrt]
    return replace(problem, symbols=symbols, definitions=definitions, wrt=wrt)


def derive_problem(problem: Problem, options: Options) -> Derivation:
    with derivation_memo():  # what the passes remember lives as long as this derivation
        return _derive(problem, options)


def _derive(problem: Problem, options: Options) -> Derivation:
    problem = with_function_reading(problem, options.functions)
    taken = readings(problem)
    if options.names == "auto":
        problem = with_layer_names(problem)
    problem = with_symmetric_definitions(problem)
    objective = problem.objective
    if not objective.expr.is_scalar:
        from .jacobian import derivatives

        sections, found = derivatives(problem, options)
        cite_readings(sections, taken)
        return Derivation(problem, options, sections, found)
    derivation = _derive_scalar(problem, options)
    cite_readings(derivation.sections, taken)
    return derivation


def _derive_scalar(problem: Problem, options: Options) -> Derivation:
    objective = problem.objective

    found = gradients(problem)
    sections = found.sections
    named, written = found.values, found.written
    grads = named
    if written:
        # the results mean what they meant without the names: written out
        # (the named form is in the steps), or named when too long to box
        grads = {v: written[v] if fits(written[v]) else value for v, value in named.items()}
    results: list[Result] = []
    extra: list[Result] = []
    for variable, value in grads.items():
        # what follows from the gradient works on it without the engine's names
        value = written.get(variable, value)
        on_space = value
        if variable.symmetric:
            section, sym = symmetric_gradient(problem, variable, value)
            sections.append(section)
            if sym.expr != value:  # when G is already symmetric, sym(G) = G: one box is enough
                extra.append(sym)
            on_space = sym.expr  # a symmetric variable is stationary where sym(G) = 0
        if options.hessian:
            section, second = hessian(problem, variable, value)
            sections.append(section)
            extra.append(second)
        if options.solve:
            section, point = stationary_point(problem, variable, on_space)
            sections.append(section)
            if point is not None:
                extra.append(point)
    for variable, value in grads.items():
        label = GradientName(objective.symbol.name, variable)
        if options.layout == "numerator":
            section = Section(SectionKind.LAYOUT, about=variable)
            sections.append(section)
            numerator = GradientName(objective.symbol.name, variable, numerator=True)
            rules = RulesUsed()
            transposed = simplify(push_transpose(value, rules), rules)
            section.add(numerator, transposed, RuleId.LAYOUT_NUMERATOR, *rules)
            results.append(Result(variable, transposed, numerator, ResultKind.GRADIENT, Layout.NUMERATOR))
        else:
            results.append(Result(variable, value, label, ResultKind.GRADIENT, Layout.DENOMINATOR))
    return Derivation(problem, options, sections, results + extra)
