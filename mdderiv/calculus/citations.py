"""The rules one step of a derivation used: what the step will cite.

A pass (the differential, the simplifier, the trace and vec forms) is handed a
:class:`RulesUsed` by the step that runs it and notes each rule it applies;
the step then cites them, in the order first used, each once.  A caller that
cites nothing passes :data:`UNCITED` (the default of the simplifier's public
functions), which forgets what it is told.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..rules import RuleId


class RulesUsed(list[RuleId]):
    """The ids of the rules used so far, each once, in the order first used.

    Made empty (``RulesUsed()``) and filled by :meth:`note` and
    :meth:`note_all` only, which keep each id once.  A list itself rather than
    an object holding one: the passes make one per node they visit, and a
    class with an ``__init__`` of its own costs about three times as much to
    make.  (A list, not a dict: a step uses a handful of rules, and ``in`` on
    a short list, identity first, is cheaper than hashing an enum member.)
    """

    __slots__ = ()

    def note(self, rule_id: RuleId) -> None:
        """Record that ``rule_id`` was used (a second note changes nothing)."""
        if rule_id not in self:
            self.append(rule_id)

    def note_all(self, rule_ids: Iterable[RuleId]) -> None:
        """Record each of ``rule_ids``, in order."""
        for rule_id in rule_ids:
            if rule_id not in self:
                self.append(rule_id)

    def ids(self) -> tuple[RuleId, ...]:
        """The rules noted, in the order first used."""
        return tuple(self)

    def __repr__(self) -> str:
        return f"RulesUsed({', '.join(self)})"


class _Uncited(RulesUsed):
    """Rules used where nothing will cite them: noted nowhere (the list stays empty)."""

    __slots__ = ()

    def note(self, rule_id: RuleId) -> None:
        pass

    def note_all(self, rule_ids: Iterable[RuleId]) -> None:
        pass


#: the collector for callers that cite no rules (it keeps nothing, so one serves all)
UNCITED: RulesUsed = _Uncited()
