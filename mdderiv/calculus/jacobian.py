"""Derivatives of a vector or matrix objective: ``vec(dF) = (∂F/∂X)^T vec(dX)``.

For a vector function of a vector this is the Jacobian ``dF = J dx``
(numerator layout ``J``, denominator layout ``J^T``, seed 002).
"""

from __future__ import annotations

from ..errors import DeriveError
from ..expr import Differential, Expr, GradientName, Symbol, Vec, add, map_tree, mul
from ..options import Options
from ..problem import Problem
from ..record import Layout, Result, ResultKind, Section, SectionKind
from ..rules import RuleId
from .citations import RulesUsed
from .differential import differential
from .gradient import active_symbols
from .rewrite import rewrites
from .simplify import simplify
from .transposes import push_transpose
from .trace import expand
from .vectorize import VecForm, vec_of


def inline_definitions(problem: Problem, expr: Expr, keep: frozenset[Symbol]) -> Expr:
    """Replace the intermediate names in ``keep`` by their definitions."""
    table = {d.symbol: d.expr for d in problem.definitions[:-1]}

    def visit(node: Expr) -> Expr:
        if isinstance(node, Symbol) and node in keep and node in table:
            return inline_definitions(problem, table[node], keep)
        return node

    return map_tree(expr, visit)


def derivative_matrix(expr: Expr, variable: Symbol, section: Section, lhs: Expr) -> Expr:
    """Steps from ``d(expr)`` to ``M`` with ``vec(d expr) = M vec(dX)``; an
    error when ``expr`` does not depend on the variable."""
    used = RulesUsed()
    d_expr = differential(expr, frozenset({variable}), used)
    if d_expr is None:
        raise DeriveError(f"the objective does not depend on {variable.name}")
    return derivative_matrix_of(expr, d_expr, used, variable, section, lhs)


def derivative_matrix_of(
    expr: Expr, d_expr: Expr, used: RulesUsed, variable: Symbol, section: Section, lhs: Expr
) -> Expr:
    """:func:`derivative_matrix` from the differential ``d_expr`` already taken
    (with the rules ``used``), for a caller that needed it first (the Hessian
    asks whether there is one)."""
    section.add(lhs, d_expr, *used)
    terms = expand(d_expr)
    if add(*terms) != d_expr:
        section.add(None, add(*terms), RuleId.DISTRIBUTE)
    rules = RulesUsed()
    form = VecForm(rules)
    m = add(*(form.of(t) for t in terms))
    dx = vec_of(Differential(variable))
    vectors = expr.shape[1] == 1 and variable.shape[1] == 1
    shown_lhs = None if vectors else Vec(lhs, (m.shape[0], 1))
    if mul(m, dx) != section.steps[-1].rhs or shown_lhs is not None:
        section.add(shown_lhs, mul(m, dx), *rules, RuleId.READ_OFF_JACOBIAN if vectors else RuleId.READ_OFF_DERIVATIVE)
    simplified_rules = RulesUsed()
    value = simplify(m, simplified_rules)
    if value != m:
        section.add(None, mul(value, dx), *simplified_rules)
    return value


def derivatives(problem: Problem, options: Options) -> tuple[list[Section], list[Result]]:
    """The derivative of a non-scalar objective by each variable: the sections and the results."""
    objective = problem.objective
    head = Section(SectionKind.OBJECTIVE)
    sections = [head]
    for definition in problem.definitions[:-1]:
        head.add(definition.symbol, definition.expr, RuleId.DEFINITION)
    head.add(objective.symbol, objective.expr, RuleId.OBJECTIVE)
    _, intermediates = active_symbols(problem)
    expr = inline_definitions(problem, objective.expr, intermediates)
    if expr != objective.expr:
        head.add(None, expr, RuleId.SUBSTITUTE)
    for new, rewrite_rules in rewrites(expr):
        head.add(None, new, *rewrite_rules)
        expr = new

    results: list[Result] = []
    for variable in problem.wrt:
        section = Section(SectionKind.DERIVATIVE, about=variable)
        sections.append(section)
        numerator = GradientName(objective.symbol.name, variable, numerator=True)
        m = derivative_matrix(expr, variable, section, Differential(objective.symbol))
        if options.layout == "numerator":
            section.add(numerator, m, RuleId.READ_OFF_JACOBIAN)
            results.append(Result(variable, m, numerator, ResultKind.DERIVATIVE, Layout.NUMERATOR))
        else:
            rules = RulesUsed()
            value = simplify(push_transpose(m, rules), rules)
            label = GradientName(objective.symbol.name, variable)
            section.add(label, value, RuleId.READ_OFF_DERIVATIVE, *rules)
            results.append(Result(variable, value, label, ResultKind.DERIVATIVE, Layout.DENOMINATOR))
    return sections, results
