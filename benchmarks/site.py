"""Benchmark: a MkDocs site of PAGES pages × BLOCKS derive blocks.

Measures, in one process (as ``mkdocs serve`` runs), over several interleaved
rounds (the median of each is reported, so load from other processes hits
every row alike), with every site built in a RAM file system when there is
one (``--dir``), so the disk's speed does not enter:

1. the site with the blocks as plain code fences (no plugin) — the baseline
   (every site has MkDocs' default ``search`` plugin);
2. the same with ``pymdownx.superfences`` (highlighting off): what SuperFences,
   which the plugin adds, costs by itself; and the derive fences through
   SuperFences with a formatter that only escapes their text (no mdderiv): the
   floor of any SuperFences fence;
3. the site with the plugin, cold (empty cache), ``workers: 0`` (every block
   derived while its page is rendered) and ``workers: auto`` (the blocks
   derived in worker processes while the pages render);
4. a rebuild after one block of one page changed (in-memory cache: only that
   block is derived again), and a rebuild with nothing changed;
5. the plain build and the unchanged rebuild without ``search``, which
   indexes the derivations' LaTeX;
6. a build in a fresh process with the disk cache filled.

It also times the engine alone on the same blocks, which bounds what the
cold build can reach, and profiles one cached rebuild for mdderiv's own
share.  The result goes into ``docs/benchmarks.md`` between
``<!-- site:start -->`` and ``<!-- site:end -->``; every other byte of that
file stays as it is.

Usage: ``python benchmarks/site.py [--pages 100] [--blocks 5] [--rounds 7]
[--dir DIR] [--out docs/benchmarks.md | --no-write]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from markers import write_between

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- site:start -->", "<!-- site:end -->"
ENGINE_END = "<!-- engine:end -->"  # benchmarks/engine.py writes the section above ours

# Five kinds of objective; every block gets its own names and dimensions (see
# `block_body`), so no two blocks share a line and the engine's memos (tokens per
# line, simplification per expression) help no more than they would on a real site.
TEMPLATES = [
    (
        "given: \\mathbf{{{v0}}} \\in \\mathbb{{R}}^{{{d0}}},\\ {M0} \\in \\mathbb{{R}}^{{{d0} \\times {d1}}},"
        "\\ \\mathbf{{{v1}}} \\in \\mathbb{{R}}^{{{d1}}}\n"
        "f = \\mathbf{{{v0}}}^T {M0} \\mathbf{{{v1}}}\nwrt: {M0}"
    ),
    (
        "given: {M0} \\in \\mathbb{{R}}^{{{d0} \\times {d1}}}, \\mathbf{{{v0}}} \\in \\mathbb{{R}}^{{{d1}}}, "
        "\\mathbf{{{v1}}} \\in \\mathbb{{R}}^{{{d0}}}\n"
        "f = \\|{M0}\\mathbf{{{v0}}} - \\mathbf{{{v1}}}\\|^2\nwrt: \\mathbf{{{v0}}}"
    ),
    (
        "given: {M0} \\in \\mathbb{{R}}^{{{d0} \\times {d0}}}, \\mathbf{{{v0}}} \\in \\mathbb{{R}}^{{{d0}}}\n"
        "f = \\mathbf{{{v0}}}^T {M0} \\mathbf{{{v0}}}\nwrt: \\mathbf{{{v0}}}"
    ),
    (
        "given: {M0} \\in \\mathbb{{S}}_{{++}}^{{{d0}}}, {M1} \\in \\mathbb{{S}}^{{{d0}}}\n"
        "f = \\log\\det {M0} + \\operatorname{{tr}}({M0}^{{-1}} {M1})\nwrt: {M0}"
    ),
    (
        "given: {M0} \\in \\mathbb{{R}}^{{{d0} \\times {d1}}}, \\mathbf{{{v0}}} \\in \\mathbb{{R}}^{{{d1}}}, "
        "\\mathbf{{{v1}}} \\in \\mathbb{{R}}^{{{d0}}}\n"
        "f = \\frac{{1}}{{2}}\\|\\sigma({M0}\\mathbf{{{v0}}}) - \\mathbf{{{v1}}}\\|^2\nwrt: {M0}"
    ),
]
MATRICES = "ABCDEGHKLMNPQRTUVWXYZ"
VECTORS = "abcuvwxyzghst"
DIMENSIONS = "mnqrkdl"

# Every site has MkDocs' default `search` plugin, so the builds differ only in the fences.
PLAIN = "site_name: Benchmark\nplugins:\n  - search\n"
SUPERFENCES = PLAIN + (
    "markdown_extensions:\n  - pymdownx.superfences\n  - pymdownx.highlight:\n      use_pygments: false\n"
)


# The least any SuperFences fence costs: the derive fences handed to a formatter that
# only escapes their text (no mdderiv at all).
SUPERFENCES_FLOOR = PLAIN + (
    "markdown_extensions:\n  - pymdownx.superfences:\n      custom_fences:\n        - name: derive\n"
    "          class: arithmatex\n          format: !!python/name:pymdownx.superfences.fence_div_format\n"
)


NO_SEARCH = "site_name: Benchmark\nplugins: []\n"


def plugin_config(workers: str | int, search: bool = True, search_index: str = "source") -> str:
    head = PLAIN if search else "site_name: Benchmark\nplugins:\n"
    return head + (
        f"  - mdderiv:\n      cache_dir: .mdderiv-cache\n      workers: {workers}\n"
        f"      search_index: {search_index}\n"
    )


def default_dir() -> str | None:
    """A RAM file system when there is one, so the disk's speed does not enter."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def block_body(page: int, block: int) -> str:
    """The text of one block: its kind cycles through TEMPLATES, its names and
    dimensions are drawn (deterministically) per block, so every block differs."""
    draw = random.Random(page * 1000 + block)
    mats, vecs, dims = draw.sample(MATRICES, 2), draw.sample(VECTORS, 2), draw.sample(DIMENSIONS, 2)
    template = TEMPLATES[(page + block) % len(TEMPLATES)]
    body = template.format(M0=mats[0], M1=mats[1], v0=vecs[0], v1=vecs[1], d0=dims[0], d1=dims[1])
    return f"% page {page}, block {block}\n{body}"  # the comment makes every cache key distinct


def make_site(root: Path, pages: int, blocks: int, fence: str, config: str) -> None:
    docs = root / "docs"
    if docs.exists():
        shutil.rmtree(docs)
    docs.mkdir(parents=True)
    (root / "mkdocs.yml").write_text(config, encoding="utf-8")
    for page in range(pages):
        parts = [f"# Page {page}\n"]
        for block in range(blocks):
            parts.append(f"Some text before block {block}.\n\n```{fence}\n{block_body(page, block)}\n```\n")
        (docs / f"page{page:03d}.md").write_text("\n".join(parts), encoding="utf-8")
    (docs / "index.md").write_text("# Benchmark\n", encoding="utf-8")


def build_once(root: Path) -> tuple[float, object]:
    """Build in this process; seconds and the mdderiv plugin (or None)."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    config = load_config(str(root / "mkdocs.yml"))
    start = time.perf_counter()
    build(config)
    seconds = time.perf_counter() - start
    return seconds, config.plugins.get("mdderiv")


def fresh_process_build(root: Path, pycache: Path, exit_hook: bool = True) -> float:
    """``mkdocs build`` in a new process, as an installed package runs it: with
    compiled bytecode (kept under ``pycache``, the same for every row), even
    where the environment says ``PYTHONDONTWRITEBYTECODE`` — otherwise every
    run would compile an editable checkout's sources again, a cost no
    installed package pays.  ``exit_hook=False`` runs it without the plugin's
    exit hook (``collect_then_freeze``), to show what that hook saves."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    command = [sys.executable, "-m", "mkdocs", "build", "-q"]
    if not exit_hook:
        command = [sys.executable, "-c", NO_EXIT_HOOK]
    start = time.perf_counter()
    subprocess.run(command, cwd=root, check=True, env=env)
    return time.perf_counter() - start


# `mkdocs build -q` with the plugin's exit hook made a no-op before the build registers it
NO_EXIT_HOOK = (
    "import sys; import mdderiv.markdown.plugin as plugin; plugin.quick_exit = lambda: None; "
    "from mkdocs.__main__ import cli; sys.exit(cli(['build', '-q']))"
)


def forget_cache(root: Path) -> None:
    """Empty the block cache (memory and disk) and every table of what is
    remembered between blocks (the engine's memos, the pages' scans), so a
    "cold" build here derives as a fresh process would (forked workers inherit
    the memos: left full, they would flatter every cold row)."""
    from mdderiv.markdown.blocks import BlockCache
    from mdderiv.pipeline import clear_memos

    BlockCache.clear_memory()
    clear_memos()
    shutil.rmtree(root / ".mdderiv-cache", ignore_errors=True)


def _cpu() -> tuple[float, float]:
    """CPU seconds used so far by this process and by its finished child processes
    (the worker processes, joined at the end of each build)."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def load() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (AttributeError, OSError):
        return "n/a"


def engine_seconds(pages: int, blocks: int) -> float:
    """The engine alone on the site's blocks, one process, no MkDocs."""
    from mdderiv.markdown.blocks import derive_many
    from mdderiv.options import Options

    from mdderiv.pipeline import clear_memos

    items = [(block_body(page, block), Options()) for page in range(pages) for block in range(blocks)]
    clear_memos()
    start = time.perf_counter()
    derive_many(items)
    return time.perf_counter() - start


def site_bytes(root: Path) -> tuple[int, int]:
    """Bytes of the built pages (HTML) and of the search index."""
    site = root / "site"
    pages = sum(path.stat().st_size for path in site.rglob("*.html"))
    index = site / "search" / "search_index.json"
    return pages, index.stat().st_size if index.exists() else 0


def derivation_bytes(root: Path) -> tuple[int, int, int]:
    """Bytes of the derivations' own markup in the built pages, how many there
    are, and the bytes of the plugin's stylesheet file (one per site)."""
    from mdderiv.markdown.fence import DERIVATION_HTML
    from mdderiv.markdown.plugin import CSS_PATH

    markup = count = 0
    for path in (root / "site").rglob("*.html"):
        for found in DERIVATION_HTML.finditer(path.read_text(encoding="utf-8")):
            markup += len(found.group(0).encode())
            count += 1
    css = root / "site" / CSS_PATH
    return markup, count, css.stat().st_size if css.exists() else 0


def own_share(root: Path) -> float:
    """The share of a cached rebuild spent in mdderiv's own code (cProfile, own time)."""
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.enable()
    build_once(root)
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    package = str(Path(__file__).resolve().parent.parent / "mdderiv")
    total = sum(entry[2] for entry in stats.values())
    own = sum(entry[2] for key, entry in stats.items() if str(key[0]).startswith(package))
    return own / total if total else 0.0


def section(args: argparse.Namespace, rows: dict[str, list[float]], info: dict[str, object]) -> str:
    import mdderiv

    med = {name: statistics.median(values) for name, values in rows.items()}
    best = {name: min(values) for name, values in rows.items()}
    total = args.pages * args.blocks
    plain, superfences, floor = med["plain"], med["superfences"], med["floor"]
    workers = max(int(str(info["workers"])), 1)
    engine_s = float(str(info["engine"]))
    engine_ms = engine_s / total * 1000
    cold, rebuild = med["cold"], med["edit"]
    plain_fresh, cold_fresh, no_hook = med["plain_fresh"], med["cold_fresh"], med["cold_fresh_no_hook"]
    cold_met_fresh = cold_fresh <= 2 * plain_fresh
    cold_met_here = cold <= 2 * plain
    rebuild_met_sf = rebuild <= 1.10 * superfences
    rebuild_met_plain = rebuild <= 1.10 * plain
    plain_mb, plugin_mb = (float(str(info[key])) / 1e6 for key in ("plain_bytes", "plugin_bytes"))
    added_kb = (plugin_mb - plain_mb) * 1e3 / total  # page bytes added per derivation
    markup_kb = float(str(info["markup"])) / max(int(str(info["markup_count"])), 1) / 1e3
    css_kb = float(str(info["css"])) / 1e3
    plain_index_mb, plugin_index_mb = (float(str(info[key])) / 1e6 for key in ("plain_index", "plugin_index"))
    own = float(str(info["own_share"]))

    def pct(value: float, base: float) -> str:
        return f"{(value / base - 1) * 100:+.0f}%"

    def row(name: str, key: str, derived: object, base: str = "plain") -> str:
        return (
            f"| {name} | {med[key]:.2f} | {best[key]:.2f} | {max(rows[key]):.2f} "
            f"| {med[key] / med[base]:.2f}× | {derived} |"
        )

    def verdict(met: bool) -> str:
        return "met" if met else "not met"

    where = "a RAM file system" if str(info["dir"]).startswith("/dev/shm") else "the temp directory"
    intro = (
        f"`benchmarks/site.py`: a MkDocs site (default theme, `search` plugin) of {args.pages} pages × "
        f"{args.blocks} derive blocks ({total} blocks; five kinds of objective, every block with its own "
        "symbol names and dimensions, so no two blocks share a line and the engine's memos help no "
        "more than on a real site; numerical check on), and the same site with the blocks as plain "
        f"code fences. Built in {where} ({info['dir']}), so the disk's speed does not enter; "
        f"{args.rounds} interleaved rounds (every row once per round, so load from other processes "
        "hits every row alike), median reported; × is against the row named in the table. Rows "
        "\"in this process\" build as `mkdocs serve` does, after the imports; rows \"`mkdocs build`\" "
        "start a new process, as a first build or CI does, start-up and imports included (with compiled "
        "bytecode, as an installed package has it). Every cold "
        "row starts with the block cache and the engine's memos empty. (Versions of this benchmark "
        "before 2026-11-22 evening repeated five block texts with a comment line added and kept "
        "the engine's memos across cold builds, which flattered the cold rows; their numbers do not "
        "compare with these.)"
    )
    measured = (
        f"Measured {dt.date.today().isoformat()} with mdderiv {mdderiv.__version__}, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPU(s), {platform.machine()}; load average "
        f"(1 min) {info['load_start']} at the start, {info['load_end']} at the end."
    )
    engine = (
        f"The engine alone takes {engine_ms:.1f} ms per block on these blocks ({engine_s:.2f} s for "
        f"{total}, one process, no MkDocs, memos empty at the start); deriving them in the pages' "
        f"process, the plugin adds {(med['cold_serial'] - plain) / total * 1000:.1f} ms per block to the "
        "plain build."
    )
    main_cpu, worker_cpu = (float(str(info[key])) for key in ("cold_main_cpu", "cold_worker_cpu"))
    cores = os.cpu_count() or 1
    floor_s = (main_cpu + worker_cpu) / cores
    bound = (
        f" CPU time of that build (median): {main_cpu:.2f} s in the process that builds the pages, "
        f"{worker_cpu:.2f} s in the workers; on {cores} CPU(s) it cannot take less than "
        f"{floor_s:.2f} s however well the two overlap"
    ) + ("." if cold_met_here else f", so 2× ({2 * plain:.2f} s) needs less CPU, most of it the engine's.")
    cold_line = (
        f"* **Cold build at most 2× the plain build, numerical checks on: {verdict(cold_met_fresh)} as "
        f"`mkdocs build` runs it, {verdict(cold_met_here)} inside a running process.** As a command "
        f"(new process, empty cache, `workers: auto`): {cold_fresh:.2f} s against {plain_fresh:.2f} s, "
        f"{cold_fresh / plain_fresh:.2f}× (target ≤ {2 * plain_fresh:.2f} s); of that, the plugin's exit hook "
        f"(it collects the garbage, then freezes the heap, so the interpreter's shutdown does not walk the "
        f"objects the engine's modules add) saves {no_hook - cold_fresh:.2f} s: without it "
        f"{no_hook:.2f} s, {no_hook / plain_fresh:.2f}×. Inside a running process, "
        f"where start-up and imports are not counted: {cold:.2f} s against {plain:.2f} s, "
        f"{cold / plain:.2f}× (target ≤ {2 * plain:.2f} s).{bound} The worker processes bring "
        f"`workers: 0` ({med['cold_serial']:.2f} s in this process) down to {cold:.2f} s."
    )
    search_plain = plain - med["plain_ns"]
    search_plugin = med["unchanged"] - med["unchanged_ns"]
    rebuild_line = (
        f"* **Cached rebuild within 10% of the plain rebuild: {verdict(rebuild_met_sf)} for a site that "
        f"already uses SuperFences, {verdict(rebuild_met_plain)} for one that does not.** After one "
        f"edit {rebuild:.2f} s: {pct(rebuild, superfences)} against the same site with the blocks as "
        f"plain code through SuperFences ({superfences:.2f} s; target ≤ {1.10 * superfences:.2f} s), "
        f"{pct(rebuild, plain)} against the site without SuperFences ({plain:.2f} s; target ≤ "
        f"{1.10 * plain:.2f} s). SuperFences, which the plugin adds to a site that lacks it (it is what "
        f"finds fences in admonitions, tabs and lists), costs "
        f"{pct(superfences, plain)} by itself on plain code; even a fence whose formatter only escapes "
        f"its text costs {pct(floor, plain)} ({floor:.2f} s: SuperFences' own per-page set-up and scan), "
        f"so 10% over the site without SuperFences is out of reach for any fence hooked in through "
        f"SuperFences, as the issue asks. Above that floor, the plugin's rebuild costs "
        f"{pct(rebuild, floor)}. The rest: the pages are bigger ({plugin_mb:.1f} MB of "
        f"HTML instead of {plain_mb:.1f} MB); `search` now indexes each block's own text (option "
        f"`search_index: source`), so the index is {plugin_index_mb:.1f} MB against "
        f"{plain_index_mb:.1f} MB and indexing costs {search_plugin:.2f} s against {search_plain:.2f} s "
        f"(with `search_index: derivation` the index is {float(str(info['full_index'])) / 1e6:.1f} MB and "
        f"the unchanged rebuild {med['unchanged_full']:.2f} s, {pct(med['unchanged_full'], superfences)} "
        f"against the SuperFences row); mdderiv's own code (hooks, "
        f"fence, cache lookups) is {own:.0%} of a cached rebuild (cProfile, own time); deriving the "
        f"edited block takes about {engine_ms:.0f} ms."
    )
    weight_line = (
        f"Page weight: a derivation adds {added_kb:.1f} kB to its page on average ({plugin_mb:.2f} MB of "
        f"HTML for the {total} blocks against {plain_mb:.2f} MB with plain code fences: the derivation's "
        f"own markup, {markup_kb:.1f} kB, less the code block it replaces, plus a share of the MathJax "
        f"set-up each page gets); the stylesheet is one file of {css_kb:.1f} kB for the whole site "
        f"(`assets/mdderiv/mdderiv.css`, linked from every page)."
    )
    lines = [
        "## Site build",
        "",
        intro,
        "",
        measured,
        "",
        "| build | median s | best s | worst s | × | blocks derived |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        row("in this process: plain code fences, no plugin (baseline)", "plain", 0),
        row("in this process: plain code fences through `pymdownx.superfences` (highlighting off), no plugin",
            "superfences", 0),
        row("in this process: the derive fences through `pymdownx.superfences` with a formatter that only "
            "escapes their text (no mdderiv): the floor of any SuperFences fence", "floor", 0),
        row("in this process: plugin, cold, `workers: 0` (blocks derived as pages render)", "cold_serial", total),
        row(f"in this process: plugin, cold, `workers: auto` ({workers} worker processes)", "cold",
            f"{info['cold_derived']} ({info['cold_ahead']} by the workers)"),
        row("in this process: rebuild after one block of one page changed (× against the SuperFences row)",
            "edit", info["edit_derived"], base="superfences"),
        row("in this process: rebuild with nothing changed (× against the SuperFences row)", "unchanged",
            info["unchanged_derived"], base="superfences"),
        row("in this process: the same with `search_index: derivation` (the LaTeX indexed)", "unchanged_full",
            0, base="superfences"),
        row("in this process, no `search`: plain code fences (baseline of the next row)", "plain_ns", 0,
            base="plain_ns"),
        row("in this process, no `search`: plugin, rebuild with nothing changed", "unchanged_ns",
            info["unchanged_ns_derived"], base="plain_ns"),
        row("`mkdocs build`: plain code fences, no plugin (baseline of the next two rows)", "plain_fresh", 0,
            base="plain_fresh"),
        row("`mkdocs build`: plugin, cold (no cache), `workers: auto`", "cold_fresh", total, base="plain_fresh"),
        row("`mkdocs build`: the same without the plugin's exit hook", "cold_fresh_no_hook", total,
            base="plain_fresh"),
        row("`mkdocs build`: plugin, disk cache filled", "disk", 0, base="plain_fresh"),
        "",
        engine,
        "",
        "Targets:",
        "",
        cold_line,
        rebuild_line,
        "",
        weight_line,
        "",
        (
            "Re-run: `python benchmarks/site.py` (options `--pages`, `--blocks`, `--rounds`, `--dir`, "
            "`--no-write`). Other processes on the machine add noise: compare rows of one run."
        ),
    ]
    return "\n".join(lines)


def _place(page: str, block: str) -> str:
    """Where the section goes on a page without its markers."""
    if ENGINE_END in page:  # the unmarked section earlier versions wrote after the engine's
        return page.split(ENGINE_END, 1)[0] + f"{ENGINE_END}\n\n{block}\n"
    return page.rstrip("\n") + f"\n\n{block}\n"


def write_section(path: Path, text: str) -> None:
    """Put ``text`` between the site markers; every other byte of the file stays."""
    write_between(path, START, END, text, _place)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--no-write", action="store_true", help="print only; leave the output file alone")
    parser.add_argument("--dir", default=default_dir(),
                        help="where the sites are built (default: /dev/shm when there is one, else the temp dir)")
    args = parser.parse_args()

    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    import mdderiv
    from mdderiv.markdown.prefetch import resolve_workers

    mdderiv.derive(block_body(0, 0)).latex()  # import the engine before timing anything

    keys = (
        "plain", "superfences", "floor", "cold_serial", "cold", "edit", "unchanged", "plain_ns", "unchanged_ns",
        "unchanged_full", "plain_fresh", "cold_fresh", "cold_fresh_no_hook", "disk",
    )
    rows: dict[str, list[float]] = {key: [] for key in keys}
    cpu_rows: dict[str, list[float]] = {"main": [], "workers": []}  # of the in-process cold build
    info: dict[str, object] = {"load_start": load(), "workers": resolve_workers("auto"), "dir": args.dir or "temp"}
    with tempfile.TemporaryDirectory(prefix="mdderiv-bench-", dir=args.dir) as tmp:
        plain_root, sf_root, root = Path(tmp) / "plain", Path(tmp) / "superfences", Path(tmp) / "plugin"
        floor_root = Path(tmp) / "superfences-floor"
        plain_ns, root_ns = Path(tmp) / "plain-no-search", Path(tmp) / "plugin-no-search"
        root_full = Path(tmp) / "plugin-latex-indexed"
        make_site(plain_root, args.pages, args.blocks, "text", PLAIN)
        make_site(sf_root, args.pages, args.blocks, "text", SUPERFENCES)
        make_site(root, args.pages, args.blocks, "derive", plugin_config("auto"))
        make_site(floor_root, args.pages, args.blocks, "derive", SUPERFENCES_FLOOR)
        make_site(plain_ns, args.pages, args.blocks, "text", NO_SEARCH)
        make_site(root_ns, args.pages, args.blocks, "derive", plugin_config(0, search=False))
        make_site(root_full, args.pages, args.blocks, "derive", plugin_config(0, search_index="derivation"))
        info["engine"] = engine_seconds(args.pages, args.blocks)

        def timed(key: str, action: Callable[[], tuple[float, object]]) -> object:
            seconds, plugin = action()
            rows[key].append(seconds)
            return plugin

        # warm-up, not timed: first imports (Pygments, pymdownx), the OS file cache
        for site in (plain_root, sf_root, floor_root, plain_ns, root, root_ns, root_full):
            build_once(site)
        forget_cache(root)

        for round_ in range(args.rounds):
            (root / "mkdocs.yml").write_text(plugin_config(0), encoding="utf-8")
            forget_cache(root)
            timed("cold_serial", lambda: build_once(root))

            (root / "mkdocs.yml").write_text(plugin_config("auto"), encoding="utf-8")
            forget_cache(root)
            before = _cpu()
            plugin = timed("cold", lambda: build_once(root))
            after = _cpu()
            cpu_rows["main"].append(after[0] - before[0])
            cpu_rows["workers"].append(after[1] - before[1])
            info["cold_derived"] = getattr(plugin, "derived", 0)
            info["cold_ahead"] = getattr(getattr(plugin, "prefetch", None), "derived", 0)

            # the plain builds next to the rebuilds they are compared with
            timed("plain", lambda: build_once(plain_root))
            # a different page each round, so exactly one block is new each time
            name = f"page{(42 + round_) % args.pages:03d}.md"
            for site in (root, root_ns):
                page = site / "docs" / name
                text = page.read_text(encoding="utf-8")
                page.write_text(text.replace("```derive\n", f"```derive\n% edited in round {round_}\n", 1), encoding="utf-8")
            plugin = timed("edit", lambda: build_once(root))
            info["edit_derived"] = getattr(plugin, "derived", 0)
            plugin = timed("unchanged", lambda: build_once(root))
            info["unchanged_derived"] = getattr(plugin, "derived", 0)
            timed("plain_ns", lambda: build_once(plain_ns))
            plugin = timed("unchanged_ns", lambda: build_once(root_ns))
            info["unchanged_ns_derived"] = getattr(plugin, "derived", 0)
            timed("superfences", lambda: build_once(sf_root))
            timed("floor", lambda: build_once(floor_root))
            timed("unchanged_full", lambda: build_once(root_full))
        info["cold_main_cpu"] = statistics.median(cpu_rows["main"])
        info["cold_worker_cpu"] = statistics.median(cpu_rows["workers"])
        info["plain_bytes"], info["plain_index"] = site_bytes(plain_root)
        info["plugin_bytes"], info["plugin_index"] = site_bytes(root)
        info["full_index"] = site_bytes(root_full)[1]
        info["markup"], info["markup_count"], info["css"] = derivation_bytes(root)
        info["own_share"] = own_share(root)
        (root / "mkdocs.yml").write_text(plugin_config("auto"), encoding="utf-8")
        pycache = Path(tmp) / "pycache"
        for site in (plain_root, root):  # not timed: compiles the bytecode every row then reads
            fresh_process_build(site, pycache)
        for _ in range(args.rounds):
            rows["plain_fresh"].append(fresh_process_build(plain_root, pycache))
            shutil.rmtree(root / ".mdderiv-cache", ignore_errors=True)
            rows["cold_fresh"].append(fresh_process_build(root, pycache))
            shutil.rmtree(root / ".mdderiv-cache", ignore_errors=True)
            rows["cold_fresh_no_hook"].append(fresh_process_build(root, pycache, exit_hook=False))
            rows["disk"].append(fresh_process_build(root, pycache))
    info["load_end"] = load()

    text = section(args, rows, info)
    if not args.no_write:
        write_section(Path(args.out), text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
