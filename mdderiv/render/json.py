"""The machine-readable object of spec §7 (``mdderiv derive --format json``).

Every key the spec names is always present; the extra keys (``objective``,
``defined`` — with ``introduced`` on the names mdderiv gave the layers of a deep
composition —, a step's ``section`` and ``rules`` ids, the check's ``sizes``)
are additions the spec allows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..expr import SCALAR, Shape
from ..rules import RULES
from .latex import names_of, render_expr
from .numpy import result_source

if TYPE_CHECKING:
    from ..errors import DeriveError
    from ..problem import SymbolInfo
    from ..record import DerivationRecord, Step


def shape_json(shape: Shape) -> list[Any]:
    """``[rows, cols]``, or ``[]`` for a scalar."""
    return [] if shape == SCALAR else [shape[0], shape[1]]


def symbol_json(info: SymbolInfo) -> dict[str, Any]:
    """One ``symbols`` entry: declared spelling and shape (a family's count first)."""
    shape = shape_json(info.shape)
    if info.count is not None:
        shape = [info.count, *shape]
    entry: dict[str, Any] = {"latex": info.latex, "shape": shape}
    if info.props:
        entry["props"] = sorted(info.props)
    if info.index is not None:
        entry["index"] = info.index
    if info.introduced:
        entry["introduced"] = True  # a name mdderiv gave a layer, not the author's
    return entry


def _english_rules(step: Step) -> str:
    return ", ".join(RULES[r].en for r in step.rules)


def steps_json(d: DerivationRecord) -> list[dict[str, Any]]:
    """Every step as ``{"latex": "lhs = rhs", "rule": …}``; a continuation
    repeats the last left-hand side so each entry reads on its own."""
    names = names_of(d.problem)
    out: list[dict[str, Any]] = []
    for section in d.sections:
        lhs: str | None = None
        for step in section.steps:
            if step.lhs is not None:
                lhs = render_expr(step.lhs, names)
            rhs = render_expr(step.rhs, names)
            relation = "=" if step.relation == "=" else step.relation
            latex = f"{lhs} {relation} {rhs}" if lhs is not None else f"{relation} {rhs}"
            entry: dict[str, Any] = {
                "latex": latex,
                "rule": _english_rules(step),
                "rules": list(step.rules),
                "section": str(section.kind),
            }
            if section.about is not None:
                entry["about"] = section.about.name
            if step.note:
                entry["note"] = step.note
            out.append(entry)
    return out


def derivation_to_json(d: DerivationRecord) -> dict[str, Any]:
    """Spec §7's object for a successful derivation (``"ok": true``)."""
    names = names_of(d.problem)
    symbols = {name: symbol_json(info) for name, info in d.problem.symbols.items() if not info.defined}
    defined = {name: symbol_json(info) for name, info in d.problem.symbols.items() if info.defined}
    results = [
        {
            "wrt": result.wrt.name,
            "shape": shape_json(result.expr.shape),
            "latex": render_expr(result.expr, names),
            "numpy": result_source(d, result),
            "kind": str(result.kind),
            "layout": str(result.layout),
        }
        for result in d.results
    ]
    check: dict[str, Any] | None = None
    if d.check is not None:
        check = {
            "passed": bool(d.check.passed),
            "max_rel_error": float(d.check.max_rel_error),
            "sizes": dict(d.check.sizes),
            "seed": d.check.seed,
        }
    return {
        "ok": True,
        "symbols": symbols,
        "results": results,
        "steps": steps_json(d),
        "check": check,
        "objective": d.problem.objective.symbol.name if d.problem.definitions else None,
        "defined": defined,
    }


def error_to_json(err: DeriveError) -> dict[str, Any]:
    """Spec §7's object for bad input: ``{"ok": false, "error": {…}}``."""
    return {"ok": False, "error": err.to_json()}
