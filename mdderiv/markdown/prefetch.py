"""Derive a site's blocks in worker processes while its pages render.

A MkDocs build renders pages one after another in one process, so deriving
the blocks where SuperFences finds them uses one core.  Before the pages are
rendered, :func:`find_candidates` scans the Markdown sources for ``derive``
fences the way SuperFences reads them (same header regex, same dedenting of
nested fences, same whitespace normalisation), and :func:`prefetch` sends
those not in the cache, in batches in page order, to a process pool.  The
pages are rendered meanwhile; a page that needs a block still being derived
waits for its batch (``BlockCache.pending``), then finds the outcome in
``BlockCache.prefetched``.  Only strings cross between processes: the HTML,
or the error message with its position in the block.

The scan only proposes work: what is a block is still decided by SuperFences
while the page is rendered.  A candidate that is not a block (a fence in an
indented code block, an HTML comment, a code example) costs one wasted
derivation and nothing else; a block the scan misses is derived during
rendering as before.  Errors are never reported here: the outcome (error
included) waits until the page reports it with its position.

If a worker process dies, or the pool cannot be started, the blocks not
derived yet are derived one by one during rendering.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..memos import Remembered
from ..options import Options
from .blocks import BlockCache, block_options, derive_many, outcome_from_tuple, warm_up
from .scan import FENCE_NAME, page_fences

__all__ = ["MIN_BLOCKS", "Prefetch", "PrefetchResult", "SourceScanner", "candidates", "find_candidates", "prefetch", "resolve_workers"]


MIN_BLOCKS = 20  # fewer uncached blocks than this are derived during rendering
# where workers must start a fresh interpreter and import mdderiv (no `fork`), the
# pool pays only for many blocks
MIN_BLOCKS_SLOW_START = 300
_TAB_LENGTH = 4  # Python-Markdown's default, which MkDocs keeps

def resolve_workers(setting: int | str) -> int:
    """Worker processes for ``workers: auto|N``: ``auto`` is the number of
    CPUs this process may use (at most 8), or 0 when that is 1."""
    if setting != "auto":
        return max(0, int(setting))
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return min(cpus, 8) if cpus > 1 else 0


def _normalize(text: str) -> str:
    """What Python-Markdown's ``normalize_whitespace`` does before fences are
    read: the text the fence's preprocessor sees when the page is converted
    (unless front matter or another plugin changed it), so the fences found
    here are remembered for it (:func:`~.scan.page_fences`)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n") + "\n\n"
    text = text.expandtabs(_TAB_LENGTH)
    return re.sub(r"(?<=\n) +\n", "\n", text)


def find_candidates(text: str) -> Iterable[tuple[str, str]]:
    """``(body, info)`` of every fence in ``text`` that SuperFences would
    hand to the ``derive`` formatter, give or take fences that later turn out
    not to be blocks.  Fences in block quotes are skipped (they are derived
    during rendering)."""
    if FENCE_NAME not in text:
        return
    for found in page_fences(_normalize(text)):
        if not found.quoted:
            yield found.body, found.info


@dataclass
class PrefetchResult:
    candidates: int = 0  # distinct blocks found by the scan
    uncached: int = 0  # of those, not in the cache
    derived: int = 0  # derived by the worker processes
    workers: int = 0  # processes used (0: none started)
    failed: str = ""  # why the pool gave up, if it did


def _context() -> tuple[multiprocessing.context.BaseContext, bool]:
    """The start method, and whether workers start at once.

    ``fork``: the workers start at once with the engine already imported.  It
    is used where it is the platform's default (Linux and the BSDs before
    Python 3.12), or later while this process runs no other thread (the first
    build of ``mkdocs serve`` included); elsewhere (macOS, Windows) the
    platform's safe default, whose workers import mdderiv first.
    """
    methods = multiprocessing.get_all_start_methods()
    threads = threading.active_count()
    if "fork" in methods and sys.platform != "darwin" and (sys.version_info < (3, 12) or threads == 1):
        return multiprocessing.get_context("fork"), True
    if "forkserver" in methods:
        return multiprocessing.get_context("forkserver"), False
    return multiprocessing.get_context("spawn"), False


#: how much lower the workers' scheduling priority is than the build's (``nice``)
WORKER_NICENESS = 5


def _worker_init() -> None:
    """In each worker: leave Ctrl-C to the build, keep the garbage collector
    off the objects inherited from the parent (walking them costs time and
    copies memory pages the fork shares), and yield the CPU to the process
    that builds the pages: everything waits for that one (its pages, in
    order), while the workers' blocks are ready ahead of it — with as many
    workers as CPUs, at equal priority it would get only part of a CPU."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.freeze()
    if hasattr(os, "nice"):  # (not on Windows)
        with contextlib.suppress(OSError):  # not allowed here: equal priority, as before
            os.nice(WORKER_NICENESS)


Candidate = tuple[str, str, Options]  # cache key, body, options


def candidates(text: str, defaults: Options) -> list[Candidate]:
    """The blocks :func:`find_candidates` finds in ``text``, with their cache
    keys as pages use them (the HTML alone; blocks with a bad info line are
    left out: nothing to derive)."""
    found: list[Candidate] = []
    for body, info in find_candidates(text):
        options = block_options(info, defaults)
        if isinstance(options, Options):
            found.append((BlockCache.key(body, options, html_only=True), body, options))
    return found


#: the candidates of a file on disk, by path, modification time, size and site defaults
_SCANNED: Remembered[tuple[str, int, int, Options], list[Candidate]] = Remembered("pages scanned for blocks", limit=20000)


class SourceScanner:
    """:func:`candidates` of files on disk, remembered by path, size and
    modification time for the whole process, so a ``mkdocs serve`` rebuild
    scans only the pages that changed."""

    def scan(self, path: str | None, read: Callable[[], str], defaults: Options) -> list[Candidate]:
        if not path:
            return candidates(read(), defaults)
        try:
            stat = os.stat(path)
        except OSError:
            return []
        memo_key = (path, stat.st_mtime_ns, stat.st_size, defaults)
        found = _SCANNED.get(memo_key)
        if found is None:
            found = _SCANNED.remember(memo_key, candidates(read(), defaults))
        return found


class _Batch:
    """Blocks sent to a worker together; calling it waits for them."""

    def __init__(self, owner: Prefetch, future: Future[list[tuple[Any, ...]]], keys: list[str]) -> None:
        self.owner, self.future, self.keys = owner, future, keys
        self.collected = False

    def done(self) -> bool:
        return self.collected or self.future.done()

    def __call__(self) -> None:
        if self.collected:
            return
        self.collected = True
        owner = self.owner
        if not self.future.done():  # a wait: spend it on the end-of-build work first
            owner.cache.encode_pending()
        try:
            outcomes = self.future.result()
        except CancelledError:
            outcomes = []
        except Exception as err:  # noqa: BLE001 - a dead worker: these blocks are derived serially
            owner.result.failed = owner.result.failed or f"{type(err).__name__}: {err}"
            outcomes = []
        for key in self.keys:
            owner.cache.pending.pop(key, None)
        for key, fields in zip(self.keys, outcomes):
            owner.cache.prefetched[key] = outcome_from_tuple(fields)
        owner.result.derived += len(outcomes)


class Prefetch:
    """Blocks being derived in worker processes while the pages render.

    Page rendering waits (through ``cache.pending``) for the batch of a
    block it needs; :meth:`finish` ends the pool at the end of the build.
    """

    def __init__(self, cache: BlockCache, result: PrefetchResult | None = None) -> None:
        self.cache = cache
        self.result = result or PrefetchResult()
        self.batches: list[_Batch] = []

    def start(self, todo: dict[str, tuple[str, Options]], workers: int, context: Any) -> None:
        keys = list(todo)
        workers = min(workers, len(keys))
        # small batches first, so the first page waits little; then larger ones, so
        # the messages stay few (several per worker: the load evens out)
        size = max(1, min(16, len(keys) // (workers * 8)))
        sizes = [min(size, 2)] * workers
        chunks, begin = [], 0
        while begin < len(keys):
            step = sizes.pop(0) if sizes else size
            chunks.append(keys[begin : begin + step])
            begin += step
        executor: ProcessPoolExecutor | None = None
        try:
            executor = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_init)
            self.result.workers = workers  # started: a worker may die before the last submit
            for chunk in chunks:
                future = executor.submit(derive_many, [todo[key] for key in chunk], True)
                batch = _Batch(self, future, chunk)
                self.batches.append(batch)
                for key in chunk:
                    self.cache.pending[key] = batch
        except Exception as err:  # noqa: BLE001 - no pool: every block is derived serially
            self.result.failed = f"{type(err).__name__}: {err}"
            self.finish()
        finally:
            if executor is not None:
                # the workers leave when the last batch is done (or cancelled by
                # :meth:`finish`), not at the end of the build: while they live, every
                # page of this process they share is copied when it first writes to it
                executor.shutdown(wait=False)

    def finish(self) -> None:
        """Stop the workers (batches nobody asked for are dropped) and forget
        what is pending."""
        for batch in self.batches:
            batch.future.cancel()  # those not started yet; the running ones finish
        for batch in self.batches:
            batch()  # for the counts; outcomes no page asked for are cleared by the caller
        self.batches.clear()
        self.cache.pending.clear()


def prefetch(
    found: Iterable[Candidate],
    cache: BlockCache,
    workers: int,
    min_blocks: int = MIN_BLOCKS,
) -> Prefetch:
    """Start deriving the blocks of ``found`` that are not cached in
    ``workers`` processes — if there are at least ``min_blocks`` of them.

    Returns at once; the outcomes arrive in ``cache.prefetched`` as
    :func:`~.blocks.derive_block` asks for them.  Call ``finish()`` on the
    result when the build is over."""
    result = PrefetchResult()
    handle = Prefetch(cache, result)
    todo: dict[str, tuple[str, Options]] = {}
    seen: set[str] = set()
    for key, body, options in found:
        if key in seen:
            continue
        seen.add(key)
        if key not in cache and key not in cache.prefetched and key not in cache.pending:
            todo[key] = (body, options)
    result.candidates, result.uncached = len(seen), len(todo)
    if workers < 1 or len(todo) < max(min_blocks, 2):
        return handle
    context, fast_start = _context()
    if not fast_start and len(todo) < max(min_blocks, MIN_BLOCKS_SLOW_START):
        return handle
    if fast_start:
        warm_up()  # forked workers inherit the imported engine
    handle.start(todo, workers, context)
    return handle
