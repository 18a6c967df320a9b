"""What a derivation shows, whatever the output: the steps visible for the
``steps`` option, the words beside a step (its rules, its note) and beside a
result, and where ``shapes: key`` annotates each differential.  The LaTeX
display (``render/display.py``), the text and the HTML layout all use them."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from ..expr import Differential, Expr, has_differential
from ..record import ResultKind
from ..rules import RULES, RuleId
from .words import WORDS, word

if TYPE_CHECKING:
    from ..record import DerivationRecord, Result, Section, Step


def rule_names(rules: tuple[RuleId, ...], lang: str) -> str:
    """The cited rules' names in ``lang``, joined by commas."""
    return ", ".join([RULES[r].name(lang) for r in rules])


def step_justification(step: Step, lang: str) -> str:
    """What is printed beside a step: its rules' names, then its note."""
    return justification(step.rules, step.note, lang)


def justification(rules: tuple[RuleId, ...], note: str | None, lang: str) -> str:
    """The rules' names, then the note (each only if there is one)."""
    parts = [rule_names(rules, lang)] if rules else []
    if note:
        parts.append(word(note, lang))
    return "; ".join([p for p in parts if p])


def visible_steps(section: Section, steps: str) -> list[Step]:
    """The steps shown for ``options.steps``: all, or for ``brief`` the first
    and last line of each equation chain (a chain starts at a step with its own
    left-hand side), so ``df = …`` is never continued by ``= ∂f/∂X``'s value."""
    if steps != "brief":
        return list(section.steps)
    chains: list[list[Step]] = []
    for step in section.steps:
        if step.lhs is not None or not chains:
            chains.append([step])
        else:
            chains[-1].append(step)
    shown: list[Step] = []
    for chain in chains:
        shown.append(chain[0])
        if len(chain) > 1:
            shown.append(chain[-1])
    return shown


def key_differentials(d: DerivationRecord) -> dict[tuple[int, int], frozenset[Expr]]:
    """For ``shapes: key``: each variable's differential is annotated once, at
    its last visible occurrence (usually the read-off ``tr(G^T dX)``).
    Keyed by (section position, visible step position)."""
    variables = set(d.problem.wrt)  # whose differentials are wanted
    last: dict[Expr, tuple[int, int]] = {}
    # from the end: the last occurrences are found without walking every step
    for s_pos in reversed(range(len(d.sections))):
        if len(last) == len(variables):
            break
        steps = visible_steps(d.sections[s_pos], d.options.steps)
        for t_pos in reversed(range(len(steps))):
            if len(last) == len(variables):
                break
            rhs = steps[t_pos].rhs
            if not has_differential(rhs):  # (the steps after the read-off: no walk, no set)
                continue
            for differential in _occurring(rhs, variables):
                last.setdefault(differential, (s_pos, t_pos))
    marks: dict[tuple[int, int], frozenset[Expr]] = {}
    for node, where in last.items():
        marks[where] = marks.get(where, frozenset()) | {node}
    return marks


def _occurring(root: Expr, variables: Collection[Expr]) -> set[Expr]:
    """Which differentials of the ``variables`` occur in ``root`` (subtrees
    without any differential are skipped)."""
    found: set[Expr] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, Differential):
            if node.of in variables:
                found.add(node)
                if len(found) == len(variables):
                    break
        elif has_differential(node):
            stack.extend(node.children())
    return found


def result_words(result: Result, lang: str) -> str | None:
    """What is said beside a boxed result: the layout, or what kind it is."""
    if result.kind in (ResultKind.GRADIENT, ResultKind.DERIVATIVE):
        return word("layout." + str(result.layout), lang)
    key = "result." + str(result.kind)
    return word(key, lang) if key in WORDS else None
