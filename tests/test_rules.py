"""The table of rules (``mdderiv.rules``): every rule the code cites has its
name in English and Chinese, and the code cites rules only through ``RuleId``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import mdderiv
from mdderiv.functions import FUNCTIONS
from mdderiv.rules import RULES, RuleId

PACKAGE = Path(mdderiv.__file__).parent
#: calls that cite rules, and the index of their first rule argument
#: (``note`` and ``note_all`` are a ``RulesUsed``'s)
CITING_CALLS = {"note": 0, "note_all": 0, "RulesUsed": 0, "add": 2, "_two_sided": 3, "Step": 2}
#: lists of rule ids are named so; ``.append`` onto them cites
RULE_LISTS = {"rules", "wrapping"}


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.parametrize("rule_id", list(RuleId), ids=str)
def test_every_rule_has_words_in_both_languages(rule_id: RuleId) -> None:
    rule = RULES[rule_id]
    assert rule.id is rule_id
    assert rule.en.strip() and not _has_chinese(rule.en), rule_id
    assert _has_chinese(rule.zh), rule_id
    assert rule.formula.strip(), rule_id


def test_the_table_holds_only_the_rules_named() -> None:
    assert set(RULES) == set(RuleId)


def _package_trees() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"))) for path in sorted(PACKAGE.rglob("*.py"))]


def _cited_arguments(call: ast.Call) -> list[ast.expr]:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if name in CITING_CALLS:
        return list(call.args[CITING_CALLS[name] :])
    if (
        name == "append"
        and isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in RULE_LISTS
    ):
        return list(call.args)
    return []


def test_the_code_cites_rules_through_rule_ids_only() -> None:
    """A plain string where a rule is cited bypasses the table: the citation
    could name a rule that has no words.  Every cited expression's strings are
    refused, and every ``RuleId.NAME`` the code writes is a member."""
    strings: list[str] = []
    unknown: list[str] = []
    for path, tree in _package_trees():
        where = path.relative_to(PACKAGE.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for argument in _cited_arguments(node):
                    for inner in ast.walk(argument):
                        if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
                            strings.append(f"{where}:{inner.lineno} {inner.value!r}")
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "RuleId"
                and node.attr not in RuleId.__members__
            ):
                unknown.append(f"{where}:{node.lineno} RuleId.{node.attr}")
    assert not strings, "rules cited as plain strings: " + ", ".join(strings)
    assert not unknown, "rules cited that the table lacks: " + ", ".join(unknown)


def test_the_scan_finds_the_citations() -> None:
    """The scan above looks at the calls that really cite (it would pass vacuously otherwise)."""
    cited = 0
    for _, tree in _package_trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                cited += sum(
                    isinstance(inner, ast.Attribute) and getattr(inner.value, "id", "") == "RuleId"
                    for argument in _cited_arguments(node)
                    for inner in ast.walk(argument)
                )
    assert cited > 50


def test_functions_cite_rules_of_the_table() -> None:
    for function in FUNCTIONS.values():
        assert function.rule is None or function.rule in RULES


def test_a_derivation_cites_only_rules_of_the_table() -> None:
    body = "given: W \\in \\mathbb{R}^{m \\times n},\\ \\mathbf{x} \\in \\mathbb{R}^{n}\nf = \\mathbf{1}^T \\tanh(W\\mathbf{x})\nwrt: W"
    d = mdderiv.derive(body)
    cited = [r for section in d.sections for step in section.steps for r in step.rules]
    assert cited and all(isinstance(r, RuleId) for r in cited)
