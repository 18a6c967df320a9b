"""The plugin's pre-pass: blocks derived ahead in worker processes (``workers``).

No timings here: ``benchmarks/site.py`` measures; these tests check that the
pre-pass changes nothing but the speed.
"""

from __future__ import annotations

import dataclasses
import filecmp
import logging
import multiprocessing
import os
import pickle
import re
import textwrap
import time
from pathlib import Path
from typing import Any

import markdown
import pytest
from support import BAD, BAD_LINE, GOOD, GOOD2, fake_derive, run

import mdderiv
from mdderiv.markdown import fence as fence_module
from mdderiv.markdown.blocks import DISK_FILE, BlockCache, Outcome
from mdderiv.markdown.prefetch import (
    MIN_BLOCKS,
    SourceScanner,
    _context,
    candidates,
    find_candidates,
    prefetch,
    resolve_workers,
)
from mdderiv.options import Options

# a derivation in a page: its outermost element holds no other <div> (render.html)
MATH = re.compile(r'<div class="mdderiv-derivation"[^>]*>.*?</div>', re.DOTALL)
FRONT = "---\ntitle: A page\n---\n\n"
# tests that replace the engine need workers forked from this process (they inherit the stand-in)
needs_fork = pytest.mark.skipif(not _context()[1], reason="workers are not forked on this platform")


def fence(body: str, info: str = "", indent: str = "") -> str:
    return textwrap.indent(f"```derive{info}\n{body}\n```", indent, lambda line: True)


def numbered(count: int, start: int = 0) -> list[str]:
    """``count`` distinct good blocks (a comment line tells them apart)."""
    return [f"% block {n}\n" + (GOOD if n % 2 else GOOD2) for n in range(start, start + count)]


def make_site(root: Path, pages: dict[str, str], workers: str | int = 2, cache_dir: str = "") -> Path:
    (root / "mkdocs.yml").write_text(
        f"site_name: T\nplugins:\n  - mdderiv:\n      cache_dir: '{cache_dir}'\n      workers: {workers}\n",
        encoding="utf-8",
    )
    for name, text in pages.items():
        path = root / "docs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def build(root: Path, site: str = "site", **overrides: Any) -> Any:
    """Build in this process; the mdderiv plugin instance."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    config = load_config(str(root / "mkdocs.yml"), site_dir=str(root / site), **overrides)
    mkdocs_build(config)
    return config.plugins["mdderiv"]


def set_workers(root: Path, workers: str | int) -> None:
    config = root / "mkdocs.yml"
    text = re.sub(r"workers: \S+", f"workers: {workers}", config.read_text(encoding="utf-8"))
    config.write_text(text, encoding="utf-8")


def site_differences(left: Path, right: Path) -> list[str]:
    """Files that differ between two built sites, or are in one only."""

    def walk(cmp: filecmp.dircmp[str]) -> list[str]:
        found = list(cmp.diff_files) + list(cmp.left_only) + list(cmp.right_only)
        for sub in cmp.subdirs.values():
            found += walk(sub)
        return found

    return walk(filecmp.dircmp(left, right))


def mixed_pages() -> dict[str, str]:
    """24 good blocks over four pages, nested, with front matter and options."""
    blocks = numbered(24)
    return {
        "index.md": "# Home\n\n" + "\n\n".join(fence(b) for b in blocks[:6]) + "\n",
        "a.md": FRONT + "# A\n\n" + "\n\n".join(fence(b, " layout=numerator") for b in blocks[6:12]) + "\n",
        "sub/b.md": "# B\n\n- item\n\n" + "\n\n".join(fence(b, indent="    ") for b in blocks[12:18]) + "\n",
        "c.md": "# C\n\n" + "\n\n".join(fence(b, ' lang="zh"') for b in blocks[18:]) + "\n",
    }


# -- the scan ------------------------------------------------------------------------------


TRICKY = "\n".join([
    "# T", "",
    fence("f = x^T x\nwrt: x", " layout=numerator"), "",
    "- item", "", fence("f = nested\n\nwith a blank line", ' check="false"', indent="    "), "",
    "~~~derive", "\tf = tab", "~~~", "",
    "````markdown", fence("inside a code example"), "````", "",
    "Para", "", fence("in an indented code block", indent="    "), "",
    "```derive {lang=zh}", "braces", "```", "",
    "```python", "not derive", "```", "",
    "```derive", "unterminated", "",
])


def test_scan_finds_what_superfences_hands_to_the_fence(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, str]] = []
    original = fence_module.fence_format

    def spy(src: str = "", language: str = "", class_name: str = "", options: Any = None,
            md: Any = None, **kwargs: Any) -> str:
        out = original(src, language, class_name, options, md, **kwargs)
        # the body as SuperFences hands it over, the info string as the fence read it for that body
        seen.append((src, md.mdderiv_state.pending[-1].info))
        return out

    monkeypatch.setattr(fence_module, "fence_format", spy)
    monkeypatch.setattr(mdderiv, "derive", fake_derive)
    for text in (TRICKY, TRICKY.replace("\n", "\r\n")):
        seen.clear()
        markdown.Markdown(extensions=["mdderiv", "admonition"]).convert(text)
        assert seen  # the fixture is not trivially empty
        assert list(find_candidates(text)) == seen


def test_the_fences_the_scan_found_serve_the_conversion(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scan and the fence's preprocessor read the same normalised text
    (CRLF, tabs, blank lines with spaces): the page's fences are found once."""
    from mdderiv.markdown import scan
    from mdderiv.memos import forget_all

    reads: list[int] = []
    original = scan.derive_fences

    def counting(lines: list[str]) -> Any:
        reads.append(len(lines))
        return original(lines)

    monkeypatch.setattr(scan, "derive_fences", counting)
    monkeypatch.setattr(mdderiv, "derive", fake_derive)
    for text in (TRICKY, TRICKY.replace("\n", "\r\n") + "\n  \n"):
        forget_all()
        reads.clear()
        found = list(find_candidates(text))
        html = markdown.Markdown(extensions=["mdderiv", "admonition"]).convert(text)
        assert len(reads) == 1 and found
        assert html.count('class="mdderiv-') >= 3  # the recorded fences were used: blocks expanded


def test_workers_setting() -> None:
    assert resolve_workers(0) == 0
    assert resolve_workers(3) == 3
    assert resolve_workers("auto") >= 0


# -- builds --------------------------------------------------------------------------------


@pytest.mark.slow
@needs_fork
def test_pages_are_byte_identical_with_and_without_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    root = make_site(tmp_path, mixed_pages(), workers=2)
    ahead = build(root, "site-workers")
    assert ahead.prefetch.workers == 2 and ahead.prefetch.derived == 24
    assert (ahead.derived, ahead.cached, ahead.failures) == (24, 0, [])

    BlockCache.clear_memory()
    set_workers(root, 0)
    serial = build(root, "site-serial")
    assert serial.prefetch.workers == 0 and serial.prefetch.derived == 0
    assert (serial.derived, serial.cached, serial.failures) == (24, 0, [])

    assert site_differences(root / "site-workers", root / "site-serial") == []
    assert len(MATH.findall((root / "site-workers" / "sub/b/index.html").read_text(encoding="utf-8"))) == 6


@pytest.mark.slow
def test_error_found_ahead_is_reported_once_with_its_page_line(tmp_path: Path) -> None:
    text = FRONT + "# Page\n\nIntro.\n\n" + fence(BAD) + "\n\n" + "\n\n".join(fence(b) for b in numbered(MIN_BLOCKS)) + "\n"
    fence_line = text.splitlines().index("```derive") + 1
    root = make_site(tmp_path, {"index.md": "# Home\n", "page.md": text}, workers=2, cache_dir=".mdderiv-cache")
    for _ in range(2):  # derived ahead, then taken from the disk cache
        result = run("-m", "mkdocs", "build", "--strict", "-v", cwd=root)
        log = result.stderr.decode() + result.stdout.decode()
        assert result.returncode != 0
        assert len(re.findall(rf"WARNING\s+-\s+docs/page\.md:{fence_line + BAD_LINE}:\d+: \S", log)) == 1, log
        assert len(re.findall(r"docs/page\.md:\d+:\d+:", log)) == 1, log
        assert "Traceback" not in log
    assert "block(s) derived ahead in 2 process(es)" not in log  # the second build: all cached
    assert "mdderiv: 0 block(s) derived, 21 from cache, 1 failed" in log


@pytest.mark.slow
@needs_fork
def test_fence_in_an_indented_code_block_is_derived_ahead_but_never_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(mdderiv, "derive", fake_derive)  # the workers are forked with it
    code = "A paragraph.\n\n" + fence("f = BAD in code", indent="    ") + "\n\nAfter the code.\n"
    blocks = "\n\n".join(fence(b) for b in numbered(MIN_BLOCKS))
    root = make_site(tmp_path, {"index.md": "# Home\n\n" + code + "\n" + blocks + "\n"})
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.mdderiv"):
        plugin = build(root)
    assert plugin.prefetch.derived == MIN_BLOCKS + 1  # the scan took the code block for a block
    assert (plugin.derived, plugin.failures) == (MIN_BLOCKS, [])  # rendering did not
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    html = (root / "site" / "index.html").read_text(encoding="utf-8")
    assert "<pre><code>```derive\nf = BAD in code\n```\n</code></pre>" in html
    assert len(MATH.findall(html)) == MIN_BLOCKS
    assert "mdderiv-error admonition" not in html


@pytest.mark.slow
@needs_fork
def test_a_worker_crash_falls_back_to_deriving_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = os.getpid()

    def crash_in_workers(body: str, defaults: Any = None, **options: Any) -> Any:
        if os.getpid() != parent:
            os._exit(3)  # a worker dies without a word
        return fake_derive(body, defaults, **options)

    monkeypatch.setattr(mdderiv, "derive", crash_in_workers)
    root = make_site(tmp_path, {"index.md": "\n\n".join(fence(b) for b in numbered(30)) + "\n"})
    plugin = build(root)
    assert plugin.prefetch.workers == 2 and plugin.prefetch.failed
    assert plugin.prefetch.derived == 0
    assert (plugin.derived, plugin.failures) == (30, [])
    assert len(MATH.findall((root / "site" / "index.html").read_text(encoding="utf-8"))) == 30


@needs_fork
def test_workers_leave_with_the_work_and_unstarted_batches_are_dropped() -> None:
    """The pool is shut down as soon as everything is submitted (its workers exit
    when the queue is empty, so they do not outlive the work); ``finish`` drops
    the batches no worker has started and waits for the rest."""
    page = "\n\n".join(fence(b) for b in numbered(80)) + "\n"
    cache = BlockCache()
    handle = prefetch(candidates(page, Options()), cache, workers=2)
    assert handle.result.workers == 2 and len(cache.pending) == 80
    handle.finish()
    assert 0 < handle.result.derived < 80  # the batches in flight came back; the rest were dropped
    assert not cache.pending and len(cache.prefetched) == handle.result.derived
    assert all(outcome.ok and outcome.html for outcome in cache.prefetched.values())
    for _ in range(200):  # the workers exit on their own, without a join from us
        if not multiprocessing.active_children():
            break
        time.sleep(0.05)
    assert not multiprocessing.active_children()


@needs_fork
def test_workers_exit_when_the_last_batch_is_done_before_the_build_ends() -> None:
    page = "\n\n".join(fence(b) for b in numbered(30)) + "\n"
    cache = BlockCache()
    handle = prefetch(candidates(page, Options()), cache, workers=2)
    assert handle.result.workers == 2
    for _ in range(400):  # no page asks: the workers go through the queue, then leave
        if all(batch.done() for batch in handle.batches) and not multiprocessing.active_children():
            break
        time.sleep(0.05)
    assert not multiprocessing.active_children()
    handle.finish()
    assert handle.result.derived == 30 and len(cache.prefetched) == 30


@pytest.mark.slow
@needs_fork
def test_rebuilds_send_only_uncached_blocks_to_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mdderiv, "derive", fake_derive)
    blocks = numbered(40)
    pages = {"index.md": "\n\n".join(fence(b) for b in blocks[:20]), "two.md": "\n\n".join(fence(b) for b in blocks[20:])}
    root = make_site(tmp_path, pages)
    first = build(root)
    assert (first.prefetch.uncached, first.prefetch.derived, first.derived) == (40, 40, 40)

    # one block edited: too few for the workers, derived while its page renders
    (root / "docs" / "two.md").write_text(pages["two.md"].replace("% block 39", "% block 39 edited"), encoding="utf-8")
    second = build(root)
    assert (second.prefetch.uncached, second.prefetch.workers) == (1, 0)
    assert (second.derived, second.cached) == (1, 39)

    # a new page of 25 blocks: those 25 go to the workers
    (root / "docs" / "three.md").write_text("\n\n".join(fence(b) for b in numbered(25, start=100)), encoding="utf-8")
    third = build(root)
    assert (third.prefetch.uncached, third.prefetch.derived, third.prefetch.workers) == (25, 25, 2)
    assert (third.derived, third.cached) == (25, 40)


@pytest.mark.slow
def test_bad_workers_option_is_a_config_error(tmp_path: Path) -> None:
    for value in ("-1", "many", "true"):
        root = make_site(tmp_path, {"index.md": "# x\n"}, workers=value)
        result = run("-m", "mkdocs", "build", cwd=root)
        log = result.stderr.decode() + result.stdout.decode()
        assert result.returncode != 0 and "workers" in log and "Traceback" not in log, log


# -- the disk cache ------------------------------------------------------------------------


def _records(path: Path) -> list[tuple[str, tuple[object, ...]]]:
    """The records of a disk-cache file, read independently of the cache."""
    records = []
    with open(path, "rb") as handle:
        while True:
            try:
                records.append(pickle.load(handle))
            except EOFError:
                return records


def test_an_outcome_goes_through_its_tuple_whole() -> None:
    """Workers send ``to_tuple()`` back and the disk cache keeps it: every
    field, set to a value of its own, comes back."""
    values = {
        field.name: (f"text {n}" if str(field.type).startswith("str") else n + 1 if field.type == "int" else True)
        for n, field in enumerate(dataclasses.fields(Outcome))
    }
    outcome = Outcome(**values)
    assert outcome != Outcome() and outcome.to_tuple() == tuple(values.values())
    assert Outcome(*outcome.to_tuple()) == outcome


def test_disk_cache_is_one_file_read_once_and_survives_a_torn_record(tmp_path: Path) -> None:
    cache = BlockCache(directory=tmp_path)
    good, bad = Outcome(latex="x^2"), Outcome(error="no", line=2, column=3)
    cache.put("k1", good)
    cache.put("k2", bad)  # (its empty strings are where k1 has text: records are read each on its own)
    cache.flush()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [DISK_FILE]
    torn = pickle.dumps(("k3", Outcome(latex="torn").to_tuple()))
    with open(tmp_path / DISK_FILE, "ab") as handle:
        handle.write(torn[: len(torn) // 2])  # a writer killed mid-record

    BlockCache.clear_memory()  # as a new process
    again = BlockCache(directory=tmp_path)
    assert again.get("k1") == good and again.get("k2") == bad and again.get("k3") is None
    assert "k1" in again and "k3" not in again
    assert BlockCache(enabled=False, directory=tmp_path).get("k1") is None
    # the torn tail is gone from the file: the next record appended is read again
    assert [key for key, _ in _records(tmp_path / DISK_FILE)] == ["k1", "k2"]


def test_disk_cache_never_imports_or_calls_what_a_record_names(tmp_path: Path) -> None:
    """A cache file is data: a pickle that would call a function (here
    ``os.system``) is refused, and what came before it is still read."""
    cache = BlockCache(directory=tmp_path)
    cache.put("k1", Outcome(html="<p>one</p>"))
    cache.flush()

    class Calls:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, ("touch " + str(tmp_path / "ran"),))

    with open(tmp_path / DISK_FILE, "ab") as handle:
        handle.write(pickle.dumps(("k2", Calls())))
    BlockCache.clear_memory()
    again = BlockCache(directory=tmp_path)
    assert again.get("k1") == Outcome(html="<p>one</p>") and again.get("k2") is None
    assert not (tmp_path / "ran").exists()


def test_the_old_json_lines_cache_file_is_removed_when_a_cache_is_read(tmp_path: Path) -> None:
    (tmp_path / "outcomes-1.jsonl").write_text('["k1", {"latex": "x"}]\n', encoding="utf-8")
    assert BlockCache(directory=tmp_path).get("k1") is None
    assert not (tmp_path / "outcomes-1.jsonl").exists()


def test_records_made_while_waiting_are_written_as_flush_would_write_them(tmp_path: Path) -> None:
    """``encode_pending`` (called while the build waits for a worker) makes the
    records early; the file is the same as without it, a later value still wins."""
    early, late = tmp_path / "early", tmp_path / "late"
    for directory, prepare in ((early, True), (late, False)):
        cache = BlockCache(directory=directory)
        cache.put("k1", Outcome(html="<p>one</p>"))
        cache.put("k2", Outcome(error="no", line=2, column=3))
        if prepare:
            cache.encode_pending()
        cache.put("k1", Outcome(html="<p>one, again</p>"))
        cache.flush()
        BlockCache.clear_memory()
    assert [key for key, _ in _records(early / DISK_FILE)] == ["k1", "k2", "k1"]  # made early, then the newer k1
    for key in ("k1", "k2"):
        assert BlockCache(directory=early).get(key) == BlockCache(directory=late).get(key)
        BlockCache.clear_memory()
    assert BlockCache(directory=early).get("k1") == Outcome(html="<p>one, again</p>")
    BlockCache.clear_memory()
    nothing = BlockCache(directory=tmp_path / "none")
    nothing.encode_pending()
    nothing.flush()
    assert not (tmp_path / "none").exists()


def test_disk_cache_drops_superseded_records_when_read(tmp_path: Path) -> None:
    cache = BlockCache(directory=tmp_path)
    for n in range(150):
        cache.put("same", Outcome(latex=f"v{n}"))
        cache.flush()
    path = tmp_path / DISK_FILE
    assert len(_records(path)) == 150
    BlockCache.clear_memory()
    assert BlockCache(directory=tmp_path).get("same") == Outcome(latex="v149")
    assert len(_records(path)) == 1


# -- blocks still deriving when their page is converted ------------------------------------


class _NotYet:
    """A wait that says the block has not arrived, then delivers it."""

    def __init__(self, cache: BlockCache, key: str, outcome: Outcome) -> None:
        self.cache, self.key, self.outcome = cache, key, outcome
        self.waited = False

    def done(self) -> bool:
        return False

    def __call__(self) -> None:
        self.waited = True
        self.cache.prefetched[self.key] = self.outcome


def test_a_block_still_deriving_is_left_as_a_placeholder_and_resolved_the_same() -> None:
    from mdderiv.markdown.blocks import block_key, derive_block
    from mdderiv.markdown.fence import FenceContext, MdderivExtension, resolve_deferred
    from mdderiv.options import Options

    good, bad = GOOD, BAD
    page = "# P\n\n" + fence(good) + "\n\n" + fence(bad) + "\n"
    plain = FenceContext(cache=BlockCache(False), filename="p.md", line_offset=3, report=lambda failure: None)
    expected = markdown.markdown(page, extensions=[MdderivExtension(context=plain)])

    cache = BlockCache(enabled=False)
    waits = {}
    for body in (good, bad):
        key = block_key(body, "", Options(), html_only=True)  # (a page's key)
        assert key is not None
        waits[body] = cache.pending[key] = _NotYet(cache, key, derive_block(body))
    reported: list[Any] = []
    context = FenceContext(cache=cache, defer=True, filename="p.md", line_offset=3, report=reported.append)
    converted = markdown.markdown(page, extensions=[MdderivExtension(context=context)])

    assert len(context.deferred) == 2 and not reported  # nothing waited for, nothing reported yet
    assert converted.count("data-mdderiv-deferred=") == 2 and "mdderiv-derivation" not in converted
    assert not any(wait.waited for wait in waits.values())

    rendered: list[tuple[str, str]] = []
    context.keep_rendered = True
    assert resolve_deferred(context, converted, context.deferred, rendered) == expected
    assert all(wait.waited for wait in waits.values())
    assert [body for _, body in rendered] == [good]
    # the error keeps its place in the page: fence line + front matter (3) + line in the block
    fence_line = page.splitlines().index("```derive", 3) + 1
    assert [(f.filename, f.line) for f in reported] == [("p.md", 3 + fence_line + BAD_LINE)]


def test_a_block_that_has_arrived_is_put_in_at_once() -> None:
    from mdderiv.markdown.blocks import block_key, derive_block
    from mdderiv.markdown.fence import FenceContext, MdderivExtension
    from mdderiv.options import Options

    cache = BlockCache(enabled=False)
    key = block_key(GOOD, "", Options(), html_only=True)  # (a page's key)
    assert key is not None
    wait = _NotYet(cache, key, derive_block(GOOD))
    wait.done = lambda: True  # type: ignore[method-assign]
    cache.pending[key] = wait
    context = FenceContext(cache=cache, defer=True)
    converted = markdown.markdown(fence(GOOD), extensions=[MdderivExtension(context=context)])
    assert context.deferred == [] and 'class="mdderiv-derivation"' in converted


def _always_deriving(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every block sent to the workers counts as still deriving when its page
    is converted (the slowest workers possible), so every one is deferred."""
    monkeypatch.setattr(BlockCache, "still_deriving", lambda self, key: key is not None and key in self.pending)


@pytest.mark.slow
@needs_fork
def test_deferred_blocks_give_the_same_site_search_index_and_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.setattr(mdderiv, "derive", fake_derive)  # the workers are forked with it
    _always_deriving(monkeypatch)
    pages = mixed_pages()
    pages["bad.md"] = FRONT + "# Bad\n\nIntro.\n\n" + fence("f = x\nBAD here") + "\n\nAfter.\n"
    root = make_site(tmp_path, pages, workers=2)
    config = root / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("plugins:\n", "plugins:\n  - search\n"), encoding="utf-8")

    late = build(root, "site-workers")
    assert late.context.defer and late.prefetch.workers == 2
    assert late.deferred == 25  # every block went through a placeholder
    bad_line = pages["bad.md"].splitlines().index("BAD here") + 1
    assert [(f.filename, f.line) for f in late.failures] == [("docs/bad.md", bad_line)]

    BlockCache.clear_memory()
    set_workers(root, 0)
    serial = build(root, "site-serial")
    assert serial.deferred == 0 and not serial.context.defer
    assert [(f.filename, f.line, f.column) for f in serial.failures] == [
        (f.filename, f.line, f.column) for f in late.failures
    ]
    assert site_differences(root / "site-workers", root / "site-serial") == []  # search index included
    for page in ("index.html", "a/index.html", "sub/b/index.html", "c/index.html", "bad/index.html",
                 "search/search_index.json"):
        assert "data-mdderiv-deferred" not in (root / "site-workers" / page).read_text(encoding="utf-8")
    assert "mdderiv-error" in (root / "site-workers" / "bad" / "index.html").read_text(encoding="utf-8")


@pytest.mark.slow
@needs_fork
def test_no_placeholder_reaches_a_plugin_that_reads_converted_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mdderiv, "derive", fake_derive)
    _always_deriving(monkeypatch)
    root = make_site(tmp_path, mixed_pages(), workers=2)
    (root / "hook.py").write_text(
        "SEEN = []\n"
        "def on_page_content(html, page, config, files):\n"
        "    SEEN.append(html)\n",
        encoding="utf-8",
    )
    config = root / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8") + "hooks:\n  - hook.py\n", encoding="utf-8")
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    loaded = load_config(str(config), site_dir=str(root / "site"))
    mkdocs_build(loaded)
    plugin = loaded.plugins["mdderiv"]
    hook = next(p for name, p in loaded.plugins.items() if name.startswith("hook"))
    assert plugin.prefetch.workers == 2 and not plugin.context.defer and plugin.deferred == 0
    assert len(hook.SEEN) == 4 and all("data-mdderiv-deferred" not in html for html in hook.SEEN)
    assert sum(len(MATH.findall(html)) for html in hook.SEEN) == 24


def test_the_scan_of_a_page_is_remembered_until_forgotten(tmp_path: Path) -> None:
    from mdderiv.memos import forget_all
    from mdderiv.options import Options

    page = tmp_path / "page.md"
    page.write_text(fence(GOOD) + "\n", encoding="utf-8")
    reads: list[int] = []

    def read() -> str:
        reads.append(1)
        return page.read_text(encoding="utf-8")

    scanner, defaults = SourceScanner(), Options()
    first = scanner.scan(str(page), read, defaults)
    assert len(first) == 1 and scanner.scan(str(page), read, defaults) == first and len(reads) == 1
    forget_all()  # (the scans are among what clear_memos forgets)
    assert scanner.scan(str(page), read, defaults) == first and len(reads) == 2


@pytest.mark.skipif(not hasattr(os, "nice"), reason="no scheduling priority to lower here")
def test_workers_yield_the_cpu_to_the_process_that_builds_the_pages() -> None:
    from concurrent.futures import ProcessPoolExecutor

    from mdderiv.markdown.prefetch import WORKER_NICENESS, _worker_init

    mine = os.nice(0)
    with ProcessPoolExecutor(max_workers=1, mp_context=_context()[0], initializer=_worker_init) as pool:
        theirs = pool.submit(os.nice, 0).result()
    assert theirs == min(mine + WORKER_NICENESS, 19)
