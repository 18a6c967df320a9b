"""Benchmark: a MkDocs site of PAGES pages × BLOCKS derive blocks.

Measures, in one process (as ``mkdocs serve`` runs):

1. the site with the blocks as plain code fences (no plugin) — the baseline;
2. the site with the plugin, cold (empty cache);
3. a rebuild after one page changed (in-memory cache: only that page's edited block
   is derived again);
4. a build in a fresh process with the disk cache filled.

Usage: ``python benchmarks/site.py [--pages 100] [--blocks 5] [--out docs/benchmarks.md]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BODIES = [
    "given: \\mathbf{a} \\in \\mathbb{R}^{m},\\ X \\in \\mathbb{R}^{m \\times n},\\ \\mathbf{b} \\in \\mathbb{R}^{n}\n"
    "f = \\mathbf{a}^T X \\mathbf{b}\nwrt: X",
    "given: A \\in \\mathbb{R}^{m \\times n}, \\mathbf{x} \\in \\mathbb{R}^{n}, \\mathbf{b} \\in \\mathbb{R}^{m}\n"
    "f = \\|A\\mathbf{x} - \\mathbf{b}\\|^2\nwrt: \\mathbf{x}",
    "given: A \\in \\mathbb{R}^{n \\times n}, \\mathbf{x} \\in \\mathbb{R}^{n}\n"
    "f = \\mathbf{x}^T A \\mathbf{x}\nwrt: \\mathbf{x}",
    "given: \\Sigma \\in \\mathbb{S}_{++}^{n}, S \\in \\mathbb{S}^{n}\n"
    "f = \\log\\det\\Sigma + \\operatorname{tr}(\\Sigma^{-1} S)\nwrt: \\Sigma",
    "given: W \\in \\mathbb{R}^{k \\times d}, \\mathbf{x} \\in \\mathbb{R}^{d}, \\mathbf{y} \\in \\mathbb{R}^{k}\n"
    "f = \\frac{1}{2}\\|\\sigma(W\\mathbf{x}) - \\mathbf{y}\\|^2\nwrt: W",
]


def make_site(root: Path, pages: int, blocks: int, fence: str, plugin: bool) -> None:
    docs = root / "docs"
    if docs.exists():
        shutil.rmtree(docs)
    docs.mkdir(parents=True)
    config = "site_name: Benchmark\n"
    if plugin:
        config += "plugins:\n  - mdderiv:\n      cache_dir: .mdderiv-cache\n"
    (root / "mkdocs.yml").write_text(config, encoding="utf-8")
    for page in range(pages):
        parts = [f"# Page {page}\n"]
        for block in range(blocks):
            # a comment line makes every block's text (and cache key) distinct
            body = f"% page {page}, block {block}\n" + BODIES[block % len(BODIES)]
            parts.append(f"Some text before block {block}.\n\n```{fence}\n{body}\n```\n")
        (docs / f"page{page:03d}.md").write_text("\n".join(parts), encoding="utf-8")
    (docs / "index.md").write_text("# Benchmark\n", encoding="utf-8")


def build_once(root: Path) -> tuple[float, int, int]:
    """Build in this process; seconds, blocks derived, blocks from cache."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    config = load_config(str(root / "mkdocs.yml"))
    start = time.perf_counter()
    build(config)
    seconds = time.perf_counter() - start
    plugin = config.plugins.get("mdderiv")
    return seconds, getattr(plugin, "derived", 0), getattr(plugin, "cached", 0)


def fresh_process_build(root: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q"], cwd=root, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args()

    import logging

    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    import mdderiv

    mdderiv.derive(BODIES[0]).latex()  # import the engine before timing anything

    total = args.pages * args.blocks
    with tempfile.TemporaryDirectory(prefix="mdderiv-bench-") as tmp:
        root = Path(tmp)
        make_site(root, args.pages, args.blocks, "text", plugin=False)
        plain, _, _ = build_once(root)

        make_site(root, args.pages, args.blocks, "derive", plugin=True)
        cold, cold_derived, _ = build_once(root)

        page = root / "docs" / "page042.md" if args.pages > 42 else root / "docs" / "page000.md"
        page.write_text(page.read_text(encoding="utf-8").replace("wrt: X", "wrt: X\nlayout: numerator", 1),
                        encoding="utf-8")
        rebuild, rebuild_derived, rebuild_cached = build_once(root)
        unchanged, unchanged_derived, _ = build_once(root)
        disk = fresh_process_build(root)

    rows = [
        ("plain code fences, no plugin", plain, 0),
        ("plugin, cold cache", cold, cold_derived),
        ("rebuild after one block of one page changed (memory cache)", rebuild, rebuild_derived),
        ("rebuild with nothing changed (memory cache)", unchanged, unchanged_derived),
        ("new process, disk cache filled (includes start-up and imports)", disk, None),
    ]
    lines = [
        "# Benchmarks",
        "",
        f"`benchmarks/site.py`: a MkDocs site (default theme) of {args.pages} pages × {args.blocks} "
        f"derive blocks ({total} blocks, every block's text distinct, numerical check on).",
        "",
        f"Measured {dt.date.today().isoformat()} with mdderiv {mdderiv.__version__}, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPU(s), {platform.machine()}.",
        "",
        "| build | seconds | blocks derived |",
        "| --- | ---: | ---: |",
    ]
    for name, seconds, derived in rows:
        lines.append(f"| {name} | {seconds:.2f} | {'—' if derived is None else derived} |")
    lines += [
        "",
        f"Deriving costs about {(cold - plain) / max(cold_derived, 1) * 1000:.0f} ms per block on top of "
        f"the plain build; with the cache a rebuild after an edit derives only the edited block "
        f"({rebuild_derived} derived, {rebuild_cached} from cache), which is what `mkdocs serve` does.",
        "",
        "Re-run: `python benchmarks/site.py` (options `--pages`, `--blocks`).",
        "",
    ]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
