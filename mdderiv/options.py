"""Block options (spec §5), declared once.

Each option is one field of :class:`Options`, declared with :func:`_option`: its default, its
allowed values, what it means, and the flag and help of the command line.  Everything else is
read from :data:`OPTIONS`:

* the info line and option lines of a block (:func:`parse_option`, :func:`takes_bare_key`);
* the MkDocs plugin's config schema (``markdown/plugin.py``) and the Python-Markdown
  extension's config (``markdown/fence.py``);
* the ``mdderiv derive`` and ``mdderiv render`` flags (``cli.py``);
* the option tables of the docs and of the spec, which ``tests/test_options.py`` compares
  with :data:`OPTIONS`.

Adding an option is adding one field here (and a row to those tables, which the test asks for).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
import math
from typing import Any

from .errors import DeriveError

_BOOLEAN_VALUES = ("true", "false")


@dataclass(frozen=True)
class OptionSpec:
    """What one option is: its name, default, allowed values and documentation."""

    name: str
    default: str | bool | float | None
    choices: tuple[str, ...]  # the allowed spellings; empty for free text
    meaning: str  # one line for help texts and docs
    site_wide: bool  # can be set in site config and on the command line (not per-block only)

    @property
    def is_boolean(self) -> bool:
        return self.choices == _BOOLEAN_VALUES

    @property
    def is_number(self) -> bool:
        """A number of seconds or the like (a float default): 0 or more."""
        return isinstance(self.default, float)

    @property
    def is_text(self) -> bool:
        return not self.choices and not self.is_number

    def parse(self, value: Any, line: int = 1, column: int = 1) -> str | bool | float | None:
        """``value`` (a string from a page or a Python value from config) as this option's value."""
        if self.is_number:
            return self._number(value, line, column)
        if self.is_text:
            return None if value is None else str(value)
        if isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value).strip().strip("\"'").lower()
        if text not in self.choices:
            raise DeriveError(
                f"option {self.name!r} cannot be {value!r}; use one of: {', '.join(self.choices)}",
                line,
                column,
            )
        return text == "true" if self.is_boolean else text

    def _number(self, value: Any, line: int, column: int) -> float:
        number: float | None = None
        if not isinstance(value, bool):
            try:
                number = float(str(value).strip().strip("\"'"))
            except ValueError:
                number = None
        if number is None or not math.isfinite(number) or number < 0:
            raise DeriveError(
                f"option {self.name!r} cannot be {value!r}; use a number of seconds, 0 or more",
                line,
                column,
            )
        return number

    @property
    def default_text(self) -> str:
        """The default as the docs and help texts write it."""
        if self.is_boolean:
            return "true" if self.default else "false"
        if self.is_number:
            return f"{self.default:g}"
        return str(self.default)


def _option(
    default: str | bool | float | None,
    meaning: str,
    choices: tuple[str, ...] = (),
    *,
    site_wide: bool = True,
) -> Any:
    """One field of :class:`Options`: a default plus what the rest of the package needs to know.

    A boolean default means the values are ``true``/``false``; a float default, a number
    (0 or more); a ``None`` default means free text.
    """
    if isinstance(default, bool):
        choices = _BOOLEAN_VALUES
    elif isinstance(default, float):
        choices = ()
    elif default is not None and default not in choices:
        raise ValueError(f"default {default!r} is not among {choices!r}")
    return field(
        default=default,
        metadata={"option": (meaning, choices, site_wide)},
    )


@dataclass(frozen=True)
class Options:
    """The options of one block; the defaults are the built-in ones (spec §5)."""

    layout: str = _option(
        "denominator",
        "gradient layout",
        ("denominator", "numerator"),
    )
    check: bool = _option(True, "numerical check by finite differences")
    solve: bool = _option(False, "also solve gradient = 0 where it has a closed form")
    hessian: bool = _option(False, "also derive the Hessian")
    shapes: str = _option("key", "shape annotations", ("key", "all", "none"))
    steps: str = _option("full", "every step or only the main ones", ("full", "brief"))
    lang: str = _option("en", "language of the section titles and step notes", ("en", "zh"))
    names: str = _option("auto", "name the layers of a deep composition", ("auto", "none"))
    functions: str = _option(
        "matrix",
        "exp, log, sqrt, sin, cos, sinh, cosh, tan, arctan of a square matrix: the matrix function, or entry by entry",
        ("matrix", "elementwise"),
    )
    title: str | None = _option(None, "a title line at the top of the derivation", site_wide=False)
    timeout: float = _option(10.0, "time budget of one block in seconds (0: none)")

    def merged(self, values: Mapping[str, Any], line: int = 1, column: int = 1) -> Options:
        """These options overridden by ``values`` (strings or Python values)."""
        changes = {key: parse_option(key, value, line, column) for key, value in values.items()}
        return replace(self, **changes)


def _spec(item: Any) -> OptionSpec:
    meaning, choices, site_wide = item.metadata["option"]
    return OptionSpec(item.name, item.default, choices, meaning, site_wide)


OPTIONS: dict[str, OptionSpec] = {item.name: _spec(item) for item in fields(Options)}
OPTION_NAMES = tuple(OPTIONS)
SITE_WIDE = tuple(spec for spec in OPTIONS.values() if spec.site_wide)


def takes_bare_key(key: str) -> bool:
    """Whether ``key`` alone (no ``=value``) on an info line means ``key=true``."""
    spec = OPTIONS.get(key)
    return spec is not None and spec.is_boolean


def parse_option(key: str, value: Any, line: int = 1, column: int = 1) -> Any:
    """Check one option and turn it into its Python value."""
    spec = OPTIONS.get(key)
    if spec is None:
        raise DeriveError(
            f"unknown option {key!r}; the options are: {', '.join(OPTION_NAMES)}", line, column
        )
    return spec.parse(value, line, column)


def site_defaults(values: Mapping[str, Any]) -> Options:
    """Options from a site-wide config (MkDocs plugin, Markdown extension): the keys of
    ``values`` that are options, checked; other keys are not options and are left alone."""
    return Options().merged({key: values[key] for key in OPTION_NAMES if key in values})
