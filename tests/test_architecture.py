"""The package's layers import one way (docs/architecture.md): the engine knows
nothing of Markdown, the calculus nothing of the renderers, and the renderers
know the derivation record alone (not the public Derivation, which imports them)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "mdderiv"


def _imports(path: Path) -> set[str]:
    """The mdderiv modules ``path`` imports (absolute names), type-only ones too."""
    module = path.relative_to(PACKAGE.parent).with_suffix("").parts
    package = module[:-1] if path.name != "__init__.py" else module[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join((*base, node.module)) if node.module else ".".join(base)
            else:
                name = node.module or ""
            if name.startswith("mdderiv"):
                found.add(name)
                found.update(f"{name}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("mdderiv"))
    return found


def _layer(folder: str) -> dict[Path, set[str]]:
    return {path: _imports(path) for path in (PACKAGE / folder).glob("*.py")}


def test_renderers_know_the_record_not_the_public_derivation() -> None:
    for path, imported in _layer("render").items():
        assert "mdderiv.derivation" not in imported, path


def test_the_engine_knows_nothing_of_markdown_or_renderers() -> None:
    for folder in ("calculus", "syntax"):
        for path, imported in _layer(folder).items():
            assert not any(name.startswith(("mdderiv.markdown", "mdderiv.render")) for name in imported), path
    for name in ("expr.py", "record.py", "parse.py", "shapes.py", "sizes.py", "problem.py"):
        imported = _imports(PACKAGE / name)
        assert not any(n.startswith(("mdderiv.markdown", "mdderiv.render", "mdderiv.derivation")) for n in imported), name


def test_integrations_contain_no_calculus() -> None:
    for path, imported in _layer("markdown").items():
        assert not any(name.startswith(("mdderiv.calculus", "mdderiv.expr")) for name in imported), path


# docs/architecture.md is the newcomer's map: it names only modules that exist, and every one that does.
ROOT = PACKAGE.parent
_MENTION = re.compile(r"`([\w./-]+\.py)`")


def _mentioned_modules(page: str, inside_package: bool = True) -> set[Path]:
    """The Python files a page names in backticks: paths from the repository root
    (``mdderiv/…``, ``tests/…``) or, with ``inside_package``, paths inside the
    package (``calculus/trace.py``; the README's ``conf.py`` is a Sphinx site's)."""
    found: set[Path] = set()
    for name in _MENTION.findall(page):
        if name.split("/", 1)[0] in {"mdderiv", "tests", "benchmarks", "scripts"}:
            found.add(ROOT / name)
        elif inside_package:
            found.add(PACKAGE / name)
    return found


def test_every_module_the_architecture_page_names_exists() -> None:
    for page, inside_package in ((ROOT / "docs" / "architecture.md", True), (ROOT / "README.md", False)):
        named = _mentioned_modules(page.read_text("utf-8"), inside_package)
        missing = sorted(str(path.relative_to(ROOT)) for path in named if not path.is_file())
        assert not missing, f"{page.name} names files that do not exist: {missing}"


def test_the_architecture_page_names_every_module() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text("utf-8")
    mentioned = _mentioned_modules(page)
    unnamed = [
        str(path.relative_to(ROOT))
        for path in sorted(PACKAGE.rglob("*.py"))
        # a subpackage's __init__ is named by its folder
        if path not in mentioned
        and not (path.name == "__init__.py" and f"`{path.parent.relative_to(ROOT)}/`" in page)
    ]
    assert not unnamed, f"docs/architecture.md does not say where these modules sit: {unnamed}"
