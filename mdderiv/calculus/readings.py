"""Which reading of the author's notation was taken, said in the derivation.

A function meeting a square matrix can mean two things: ``e^{X}``, ``\\log X``,
``\\sqrt{X}``, ``X^{1/2}`` are matrix functions in mathematics, and ``\\sigma(X)``
or ``\\tanh(X)`` act entry by entry in every machine-learning text.  The shape
stage reads exp, log and √ of a square matrix as the matrix function; the
block option ``functions: elementwise`` takes them entry by entry instead.
Either way the objective's line cites the reading taken (rules
``reading_matrix_function`` and ``reading_elementwise``).
"""

from __future__ import annotations

from dataclasses import replace

from ..derivation import Section
from ..expr import Elementwise, Expr, MatMul, MatrixFunction, map_tree, nodes
from ..functions import MATRIX_READING
from ..problem import Problem
from ..rules import RuleId
from .memo import node_kinds

def with_function_reading(problem: Problem, functions: str) -> Problem:
    """The problem with exp, log and √ of square matrices taken entry by entry
    when ``functions`` is ``elementwise`` (real powers ``X^{1/2}`` stay matrix
    powers: that spelling is never entrywise)."""
    if functions != "elementwise":
        return problem

    def visit(node: Expr) -> Expr:
        if isinstance(node, MatrixFunction) and node.fn in MATRIX_READING:
            return Elementwise(node.fn, node.arg, node.shape)
        return node

    definitions = [replace(d, expr=map_tree(d.expr, visit)) for d in problem.definitions]
    return replace(problem, definitions=definitions)


def _square_matrix(expr: Expr) -> bool:
    rows, cols = expr.shape
    return rows == cols and rows != 1


def _is_power_by_expression(arg: Expr) -> bool:
    """``e log s``: how the shape stage writes ``s^{e}`` for an exponent that is
    an expression (``\\det(X)^{1/n}``)."""
    return isinstance(arg, MatMul) and any(
        isinstance(f, Elementwise) and f.fn == "log" for f in arg.factors
    )


def readings(problem: Problem) -> tuple[RuleId, ...]:
    """The rules naming the readings taken where a function meets a square matrix,
    a number is added to a vector inside a function, or a dimension name is
    used as a number."""
    matrix = elementwise = power = False
    for definition in problem.definitions:
        present = node_kinds(definition.expr)  # (remembered: the rewrites ask it of the objective)
        if MatrixFunction not in present and Elementwise not in present:
            continue  # no function of a matrix: nothing to look at node by node
        for node in nodes(definition.expr):  # (flags only: the order of the nodes does not matter)
            kind = type(node)
            if kind is MatrixFunction:
                matrix = True
            elif kind is Elementwise:
                assert isinstance(node, Elementwise)
                if _square_matrix(node):
                    elementwise = True
                elif node.fn == "exp" and _is_power_by_expression(node.arg):
                    power = True
    found: list[RuleId] = []
    if problem.dims_as_numbers:
        found.append(RuleId.READING_DIMENSION)
    if problem.dims_as_products:
        found.append(RuleId.READING_DIMENSION_PRODUCT)
    if problem.broadcast:
        found.append(RuleId.READING_BROADCAST)
    if problem.number_as_identity:
        found.append(RuleId.READING_NUMBER_IDENTITY)
    if power:
        found.append(RuleId.POWER_BY_EXPRESSION)
    if matrix:
        found.append(RuleId.READING_MATRIX_FUNCTION)
    if elementwise:
        found.append(RuleId.READING_ELEMENTWISE)
    return tuple(found)


def cite_readings(sections: list[Section], rules: tuple[RuleId, ...]) -> None:
    """Add ``rules`` to the objective's line (the first line that cites it)."""
    if not rules:
        return
    for section in sections:
        for k, step in enumerate(section.steps):
            if RuleId.OBJECTIVE in step.rules or RuleId.SUBSTITUTE_NAMES in step.rules:
                section.steps[k] = replace(step, rules=step.rules + rules)
                return
