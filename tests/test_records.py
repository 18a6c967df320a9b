"""The records the stages hand on are values: equal when their fields are,
hashable, printed and replaced as dataclasses.

They are not ``frozen=True`` dataclasses (a frozen ``__init__`` costs an
``object.__setattr__`` per field), so these tests state what callers may still
rely on: equality and hashing by value, the dataclass fields, ``repr`` and
``dataclasses.replace``.
"""

from __future__ import annotations

import dataclasses

import pytest

import mdderiv
from mdderiv.calculus.gradient import gradients
from mdderiv.expr import GradientName, Symbol, mul, transpose
from mdderiv.parse import parse_problem
from mdderiv.problem import Definition, SymbolInfo
from mdderiv.record import Layout, Result, ResultKind, Step
from mdderiv.rules import RuleId
from mdderiv.syntax.latex import parse_expression
from mdderiv.syntax.nodes import NameNode, Node, ProductNode, Source

x = Symbol("x", ("n", 1))
A = Symbol("A", ("n", "n"))


def _twins() -> list[tuple[object, object]]:
    """Pairs of records made apart with equal fields."""
    step = lambda: Step(None, mul(transpose(x), A, x), (RuleId.OBJECTIVE,), note="note.scalar")  # noqa: E731
    result = lambda: Result(x, mul(A, x), GradientName("f", x), ResultKind.GRADIENT, Layout.DENOMINATOR)  # noqa: E731
    info = lambda: SymbolInfo("x", r"\mathbf{x}", ("n", 1), frozenset({"positive"}))  # noqa: E731
    definition = lambda: Definition(Symbol("f", (1, 1)), mul(transpose(x), x), 3, "x^T x")  # noqa: E731
    tree = lambda: parse_expression(Source(r"A \mathbf{x}", 1, 0), lambda name: True, lambda name: False)  # noqa: E731
    return [(make(), make()) for make in (step, result, info, definition, tree)]


def test_records_are_equal_and_hash_alike_by_value() -> None:
    for one, other in _twins():
        assert one is not other and one == other
        assert hash(one) == hash(other)
        assert len({one, other}) == 1


def test_records_differ_when_a_field_does() -> None:
    for one, _ in _twins():
        name = next(f.name for f in dataclasses.fields(one) if getattr(one, f.name) is not None)  # type: ignore[arg-type]
        changed = dataclasses.replace(one, **{name: None})  # type: ignore[type-var]
        assert changed != one and type(changed) is type(one)


def test_step_prints_and_lists_its_fields_as_before() -> None:
    step = Step(None, x, (RuleId.OBJECTIVE,))
    assert [f.name for f in dataclasses.fields(step)] == ["lhs", "rhs", "rules", "note", "relation"]
    assert repr(step) == f"Step(lhs=None, rhs={x!r}, rules=({RuleId.OBJECTIVE!r},), note=None, relation='=')"
    assert mdderiv.Step is Step


def test_slotted_records_take_no_new_attributes() -> None:
    records: list[object] = [Step(None, x), Definition(x, x, 1, "x")]
    for record in records:
        with pytest.raises(AttributeError):
            record.extra = 1  # type: ignore[attr-defined]


def test_a_parsed_problem_and_its_gradient_are_made_of_such_values() -> None:
    body = "given: A \\in \\mathbb{R}^{n \\times n}, \\mathbf{x} \\in \\mathbb{R}^{n}\nf = \\mathbf{x}^T A \\mathbf{x}\nwrt: \\mathbf{x}"
    problem, again = parse_problem(body), parse_problem(body)
    assert problem.symbols == again.symbols and problem.definitions == again.definitions
    assert {hash(info) for info in problem.symbols.values()} == {hash(info) for info in again.symbols.values()}
    assert problem.symbols["x"].symbol() is problem.symbols["x"].symbol()  # its node, made once
    steps = [step for section in gradients(problem).sections for step in section.steps]
    assert steps == [step for section in gradients(again).sections for step in section.steps]
    assert all(isinstance(step, Step) for step in steps) and len(set(steps)) <= len(steps)


def test_parse_tree_nodes_are_nodes_with_positions() -> None:
    tree = parse_expression(Source(r"A \mathbf{x}", 1, 0), lambda name: True, lambda name: False)
    assert isinstance(tree, ProductNode) and isinstance(tree, Node)
    assert all(isinstance(f, NameNode) for f in tree.factors)
    assert [f.pos for f in tree.factors] == [0, 2]


def test_a_symbol_info_makes_its_node_once_from_its_fields() -> None:
    info = SymbolInfo("S", r"\Sigma", ("n", "n"), frozenset({"spd"}), index=None)
    assert info.symbol() is info.symbol() is info.node
    assert info.node == Symbol("S", ("n", "n"), frozenset({"spd"}), None)
    renamed = dataclasses.replace(info, name="T")
    assert renamed.symbol() == Symbol("T", ("n", "n"), frozenset({"spd"}), None)
    assert "node" not in repr(info) and info == SymbolInfo("S", r"\Sigma", ("n", "n"), frozenset({"spd"}))


def test_a_definition_names_the_node_of_its_symbol() -> None:
    body = "given: \\mathbf{x} \\in \\mathbb{R}^{n}\nu = 2\\mathbf{x}\nf = \\mathbf{x}^T \\mathbf{u}\nwrt: \\mathbf{x}"
    problem = parse_problem(body)
    for definition in problem.definitions:
        assert definition.symbol is problem.symbols[definition.symbol.name].symbol()
