"""mystmd (Jupyter Book 2) with mdderiv's plugin, built with a real ``myst build``
(``tests/myst/node_modules``, installed by ``scripts/test.sh``).

A site build needs its theme from the network, which tests do not have: the site's
content (``_build/site/content/*.json``, written before the theme is fetched) and the
Markdown export (no theme needed) are what is checked, and ``--strict`` is checked to
stop the build on a bad block before the theme is asked for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from support import BAD, GOOD, ROOT, bad_block_errors

pytestmark = pytest.mark.slow

MYST = ROOT / "tests" / "myst" / "node_modules" / ".bin" / "myst"

PAGE = (
    "---\nexports:\n  - format: md\n    output: out/index.md\n---\n# Derivations\n\n"
    f"```{{derive}}\n:layout: numerator\n{GOOD}\n```\n\n"
    f"```{{derive}}\n{BAD}\n```\n\n"
    "- an item\n\n" + textwrap.indent(f"```{{derive}} layout=numerator\n{GOOD}\n```\n\n```{{derive}}\n{BAD}\n```", "  ")
    + "\n\n:::{note}\n" + f"```{{derive}} layout=sideways\n{GOOD}\n```\n" + ":::\n\nThe rest of the page.\n"
)


@pytest.fixture
def myst() -> Path:
    if not MYST.exists():
        pytest.skip("no mystmd (cd tests/myst && npm ci)")
    return MYST


def make_project(root: Path, plugin: str, page: str = PAGE) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if plugin == "javascript":
        subprocess.run([sys.executable, "-m", "mdderiv.myst", "--write-js", "mdderiv.mjs"], cwd=root, check=True)
        entry = "    - mdderiv.mjs\n"
    else:
        script = root / "mdderiv_plugin.py"
        script.write_text(f"#!{sys.executable}\nfrom mdderiv.myst import main\nmain()\n", encoding="utf-8")
        script.chmod(0o755)
        entry = "    - type: executable\n      path: mdderiv_plugin.py\n"
    (root / "myst.yml").write_text(
        f"version: 1\nproject:\n  title: T\n  plugins:\n{entry}site:\n  template: book-theme\n", encoding="utf-8"
    )
    (root / "index.md").write_text(page, encoding="utf-8")
    return root


def build(myst: Path, root: Path, *args: str) -> tuple[int, str]:
    env = dict(os.environ, HOME=str(root), NO_COLOR="1")  # mystmd keeps its own config in HOME
    result = subprocess.run(
        [str(myst), "build", *args], cwd=root, capture_output=True, text=True, timeout=300, env=env, check=False
    )
    return result.returncode, result.stdout + result.stderr


def walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(found for child in node.get("children") or [] for found in walk(child))]


def expected_errors(root: Path) -> list[str]:
    text = (root / "index.md").read_text(encoding="utf-8")
    errors = [f"index.md:{line}:{column} mdderiv: {message}" for line, column, message in bad_block_errors(text)]
    option_line = text.splitlines().index("```{derive} layout=sideways") + 1
    return [*errors, f"index.md:{option_line} mdderiv: option 'layout' cannot be 'sideways'"]


def test_javascript_plugin_reports_errors_at_page_line_and_keeps_the_page(myst: Path, tmp_path: Path) -> None:
    root = make_project(tmp_path / "export", "javascript")
    status, log = build(myst, root, "--md")
    assert status == 0, log
    for error in expected_errors(root):
        assert error in log
    exported = (root / "out" / "index.md").read_text(encoding="utf-8")
    assert exported.count("```{math}") == 2 and exported.count("mdderiv could not derive this block") == 3
    assert "numerator layout" in exported
    assert exported.rstrip().endswith("The rest of the page.")

    # the site's content: MyST math nodes, error boxes, the rest of the page; --strict stops
    root = make_project(tmp_path / "site", "javascript")
    status, log = build(myst, root, "--site", "--strict")
    assert status != 0 and "Site has 3 errors and 0 warning, stopping build." in log, log
    for error in expected_errors(root):
        assert error in log
    content = json.loads((root / "_build" / "site" / "content" / "index.json").read_text(encoding="utf-8"))
    nodes = walk(content["mdast"])
    math = [node for node in nodes if node.get("type") == "math"]
    assert len(math) == 2 and all(node.get("class") == "mdderiv-derivation" for node in math)
    assert all("\\begin{aligned}" in node["value"] for node in math)
    assert len([node for node in nodes if node.get("class") == "mdderiv-error"]) == 3
    assert any(node.get("value") == "The rest of the page." for node in nodes)


def test_javascript_plugin_good_page_builds_strict(myst: Path, tmp_path: Path) -> None:
    root = make_project(tmp_path, "javascript", page=f"# Good\n\n```{{derive}}\n{GOOD}\n```\n")
    _, log = build(myst, root, "--site", "--strict")
    # offline, the build then stops fetching its theme (whatever its status): it got past the strict check
    assert "stopping build" not in log and "mdderiv:" not in log and "⛔" not in log, log
    assert "Querying template metadata" in log
    content = json.loads((root / "_build" / "site" / "content" / "index.json").read_text(encoding="utf-8"))
    assert [node["type"] for node in walk(content["mdast"]) if node.get("class") == "mdderiv-derivation"] == ["math"]


def test_executable_plugin(myst: Path, tmp_path: Path) -> None:
    good = make_project(tmp_path / "good", "executable", page=(
        "---\nexports:\n  - format: md\n    output: out/index.md\n---\n# Good\n\n"
        f"```{{derive}} layout=numerator\n{GOOD}\n```\n\nAfter.\n"))
    status, log = build(myst, good, "--md")
    assert status == 0, log
    exported = (good / "out" / "index.md").read_text(encoding="utf-8")
    assert exported.count("```{math}") == 1 and "numerator layout" in exported

    bad = make_project(tmp_path / "bad", "executable")
    status, log = build(myst, bad, "--site", "--strict")
    assert status != 0
    (first, *_) = bad_block_errors((bad / "index.md").read_text(encoding="utf-8"))
    assert f"mdderiv: {first[0]}:{first[1]}: {first[2]}" in log  # mystmd names the page, mdderiv the line
    assert "index.md" in log
