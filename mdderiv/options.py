"""Block options (spec §5): their names, allowed values and defaults."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Mapping

from .errors import DeriveError

CHOICES: dict[str, tuple[str, ...]] = {
    "layout": ("denominator", "numerator"),
    "check": ("true", "false"),
    "solve": ("true", "false"),
    "hessian": ("true", "false"),
    "shapes": ("key", "all", "none"),
    "steps": ("full", "brief"),
    "lang": ("en", "zh"),
    "names": ("auto", "none"),
}
BOOLEAN = ("check", "solve", "hessian")


@dataclass(frozen=True)
class Options:
    layout: str = "denominator"
    check: bool = True
    solve: bool = False
    hessian: bool = False
    shapes: str = "key"
    steps: str = "full"
    lang: str = "en"
    names: str = "auto"  # name the layers of a deep composition (calculus/names.py)
    title: str | None = None

    def merged(self, values: Mapping[str, Any], line: int = 1, column: int = 1) -> "Options":
        """These options overridden by ``values`` (strings or Python values)."""
        changes: dict[str, Any] = {}
        for key, value in values.items():
            changes[key] = parse_option(key, value, line, column)
        return replace(self, **changes)


OPTION_NAMES = tuple(f.name for f in fields(Options))


def parse_option(key: str, value: Any, line: int = 1, column: int = 1) -> Any:
    """Check one option and turn it into its Python value."""
    if key not in OPTION_NAMES:
        raise DeriveError(
            f"unknown option {key!r}; the options are: {', '.join(OPTION_NAMES)}", line, column
        )
    if key == "title":
        return None if value is None else str(value)
    if isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value).strip().strip("\"'").lower()
    allowed = CHOICES[key]
    if text not in allowed:
        raise DeriveError(
            f"option {key!r} cannot be {value!r}; use one of: {', '.join(allowed)}", line, column
        )
    return text == "true" if key in BOOLEAN else text
