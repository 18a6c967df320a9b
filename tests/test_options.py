"""The options are declared once (mdderiv/options.py); every place that lists them agrees with it:
the docs' and the spec's option tables, the MkDocs plugin's config, the Markdown extension's
config and the command line."""

from __future__ import annotations

import os
import re
from pathlib import Path

import markdown
import pytest

from mdderiv import DeriveError, Options
from mdderiv.cli import build_parser
from mdderiv.markdown.blocks import parse_info
from mdderiv.markdown.fence import MdderivExtension
from mdderiv.markdown.plugin import MdderivConfig
from mdderiv.options import OPTIONS, SITE_WIDE, OptionSpec

ROOT = Path(__file__).resolve().parent.parent
SPEC = Path(os.environ.get("MDDERIV_SPEC", ROOT.parent / "shared" / "derive-block-spec.md"))

_ROW = re.compile(r"^\| `(?P<name>[a-z_]+)` \| (?P<values>[^|]*) \| (?P<default>[^|]*) \|")


def option_rows(text: str) -> dict[str, tuple[str, str]]:
    """The rows of every ``| option | values | default | …`` table: name → (values, default)."""
    rows: dict[str, tuple[str, str]] = {}
    in_table = False
    for line in text.splitlines():
        if line.startswith("| option | values | default"):
            in_table = True
        elif not line.startswith("|"):
            in_table = False
        elif in_table and (match := _ROW.match(line)):
            rows[match["name"]] = (match["values"], match["default"])
    return rows


def agrees(spec: OptionSpec, values: str, default: str) -> bool:
    shown = values.split(" — ")[0]  # the spec explains some values after a dash
    default_text = spec.default_text
    if spec.is_number:
        return "`" not in shown and default.strip() == f"`{default_text}`"
    if spec.is_text:
        return "`" not in shown and default.strip() == "none"
    return re.findall(r"`([^`]*)`", shown) == list(spec.choices) and default.strip() == f"`{default_text}`"


@pytest.mark.parametrize(
    ("page", "every"),
    [
        ("docs/configuration.md", SITE_WIDE),
        ("docs/integrations.md", SITE_WIDE),
        ("docs/language.md", tuple(OPTIONS.values())),
    ],
)
def test_docs_option_tables_list_every_option_as_declared(page: str, every: tuple[OptionSpec, ...]) -> None:
    rows = option_rows((ROOT / page).read_text(encoding="utf-8"))
    for spec in every:
        assert spec.name in rows, f"{page} does not list the option {spec.name!r}"
        assert agrees(spec, *rows[spec.name]), f"{page}: the row of {spec.name!r} differs from mdderiv/options.py"


def test_spec_option_table_agrees_with_the_declaration() -> None:
    if not SPEC.exists():
        pytest.skip(f"the block spec is not at {SPEC} (set MDDERIV_SPEC)")
    text = SPEC.read_text(encoding="utf-8")
    section = text[text.index("## 5. Options") : text.index("## 6.")]
    rows = option_rows(section)
    assert rows, "no option table in spec §5"
    for name, (values, default) in rows.items():
        assert name in OPTIONS, f"the spec lists {name!r}, which mdderiv does not declare"
        assert agrees(OPTIONS[name], values, default), f"spec §5: the row of {name!r} differs"


def test_plugin_config_has_one_entry_per_site_wide_option_with_its_default() -> None:
    config = MdderivConfig()
    config.load_dict({})
    errors, _warnings = config.validate()
    assert not errors
    for spec in SITE_WIDE:
        assert config[spec.name] == spec.default
    bad = MdderivConfig()
    bad.load_dict({"layout": "sideways"})
    errors, _ = bad.validate()
    assert errors and errors[0][0] == "layout"


def test_markdown_extension_config_and_cli_flags_follow_the_declaration() -> None:
    extension = MdderivExtension()
    for spec in SITE_WIDE:
        assert extension.getConfig(spec.name) == spec.default
    for command in ("derive", "render"):
        args = build_parser().parse_args([command, "x"])
        assert all(getattr(args, spec.name) is None for spec in SITE_WIDE)  # unset flags override nothing
    args = build_parser().parse_args(["derive", "x", "--no-check", "--hessian", "--layout", "numerator"])
    assert (args.check, args.hessian, args.layout) == (False, True, "numerator")


def test_site_wide_defaults_reach_a_block_and_the_block_wins() -> None:
    md = markdown.Markdown(extensions=["mdderiv"], extension_configs={"mdderiv": {"lang": "zh", "check": False}})
    html = md.convert("```derive\ngiven: x: n\nf = x^T x\nwrt: x\n```\n")
    assert "微分" in html
    html = md.convert("```derive lang=en\ngiven: x: n\nf = x^T x\nwrt: x\n```\n")
    assert "微分" not in html and "differential" in html.lower()


def test_info_line_and_option_values_are_checked_against_the_declaration() -> None:
    assert parse_info(" hessian layout=numerator") == {"hessian": "true", "layout": "numerator"}
    with pytest.raises(DeriveError, match="needs a value"):
        parse_info(" layout")
    with pytest.raises(DeriveError, match="use one of: key, all, none"):
        Options().merged({"shapes": "some"})
    with pytest.raises(DeriveError, match="the options are: layout, check"):
        Options().merged({"colour": "red"})
    assert Options().merged({"check": "False", "title": "T"}) == Options(check=False, title="T")
