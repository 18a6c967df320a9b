"""The package's layers import one way (docs/architecture.md): the engine knows
nothing of Markdown, the calculus nothing of the renderers, and the renderers
know the derivation record alone (not the public Derivation, which imports them)."""

from __future__ import annotations

import ast
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
    for name in ("expr.py", "record.py", "shapes.py", "problem.py"):
        imported = _imports(PACKAGE / name)
        assert not any(n.startswith(("mdderiv.markdown", "mdderiv.render", "mdderiv.derivation")) for n in imported), name


def test_integrations_contain_no_calculus() -> None:
    for path, imported in _layer("markdown").items():
        assert not any(name.startswith(("mdderiv.calculus", "mdderiv.expr")) for name in imported), path
