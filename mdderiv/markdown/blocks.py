"""What every integration does with one ``derive`` block.

* :func:`parse_info` reads the options on the fence's info line
  (``derive layout=numerator check="false"``);
* :func:`derive_block` derives a body with those options and returns an
  :class:`Outcome` — the LaTeX, or the error with its position — never raising;
* :class:`BlockCache` remembers outcomes keyed by block text, options and
  mdderiv version, in memory (shared by the whole process, so ``mkdocs serve``
  rebuilds reuse it) and optionally on disk.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import json
import operator
import os
import pickle
import re
import tempfile
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, Protocol

from ..errors import DeriveError
from ..memos import Remembered
from ..options import OPTIONS, Options, parse_option, takes_bare_key

__all__ = [
    "STATS",
    "BlockCache",
    "InfoError",
    "Outcome",
    "block_options",
    "derive_block",
    "derive_many",
    "info_line",
    "warm_up",
    "is_derive_info",
    "parse_info",
]

# key, then optionally `=` and a double-quoted, single-quoted or bare value
_INFO_TOKEN = re.compile(
    r"""(?P<key>[A-Za-z_][A-Za-z0-9_-]*)
        (?:[ \t]*=[ \t]*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s"'{},]+)))?""",
    re.VERBOSE,
)


class InfoError(DeriveError):
    """A bad option on the fence's info line.

    ``column`` counts from the first character after ``derive``; the caller
    knows where that is in the page.
    """

    on_info_line = True


def is_derive_info(info: str | None) -> bool:
    """Whether a fence's info string makes it a derive block (spec §1)."""
    if not info:
        return False
    first = info.strip().split(None, 1)
    return bool(first) and (first[0] == "derive" or first[0].startswith("derive{"))


def parse_info(rest: str) -> dict[str, str]:
    """Options from the info line after ``derive`` (``key=value``,
    ``key="value"``, ``key='value'``; a bare boolean key means true).

    Raises :class:`InfoError` for an unknown key or a bad value.
    """
    values: dict[str, str] = {}
    pos = 0
    text = rest.rstrip()
    # `derive{layout=numerator}` and `derive {…}`: attribute-list spelling
    while pos < len(text):
        if text[pos] in " \t{},":
            pos += 1
            continue
        match = _INFO_TOKEN.match(text, pos)
        if match is None:
            raise InfoError(
                f"cannot read the fence options at {text[pos:]!r}; write key=value, "
                f"e.g. derive layout=numerator check=false",
                1,
                pos + 1,
            )
        key = match.group("key")
        column = pos + 1
        value: str | None = next(
            (match.group(g) for g in ("dq", "sq", "bare") if match.group(g) is not None), None
        )
        if value is None:
            if takes_bare_key(key):
                value = "true"
            elif key in OPTIONS:
                raise InfoError(f"option {key!r} needs a value, e.g. {key}=…", 1, column)
        try:
            parse_option(key, value, 1, column)
        except DeriveError as err:
            raise InfoError(err.message, 1, column) from None
        values[key] = value if value is not None else ""
        pos = match.end()
    return values


@dataclass(frozen=True)
class Outcome:
    """The result of one block: LaTeX to display, or an error.

    ``line``/``column`` locate the error in the block body (1-based); with
    ``on_info_line`` they point into the info line instead.
    """

    latex: str = ""
    markdown: str = ""  # no longer filled in (nothing read it); kept for old callers
    error: str | None = None
    line: int = 0
    column: int = 0
    on_info_line: bool = False
    internal: bool = False
    #: a fact about this run, not the block (its time budget ran out): never cached
    transient: bool = False
    html: str = ""  # the derivation as HTML structure with math inside (pages)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_tuple(self) -> tuple[Any, ...]:
        """The fields in order (``Outcome(*fields)`` makes it again): what worker
        processes send back and the disk cache keeps."""
        return _FIELD_VALUES(self)


_OUTCOME_FIELDS = tuple(item.name for item in fields(Outcome))
_FIELD_VALUES = operator.attrgetter(*_OUTCOME_FIELDS)  # (a tuple of them, read in C)


@dataclass
class DeriveStats:
    """Counters for tests and the build log: blocks derived vs taken from cache."""

    derived: int = 0
    cached: int = 0

    def reset(self) -> None:
        self.derived = 0
        self.cached = 0


STATS = DeriveStats()


def _run_engine(body: str, options: Options, html_only: bool = False) -> Outcome:
    """Call the engine; turn every failure into an :class:`Outcome`.

    The LaTeX (blog posts, ``--format latex``) and the HTML (pages) are kept —
    with ``html_only`` the HTML alone: pages read nothing else, and the LaTeX
    display is about a third of the rendering.  The Markdown rendering would
    cost more per block and nothing reads it.
    """
    import mdderiv  # late: tests monkeypatch mdderiv.derive

    try:
        derivation = mdderiv.derive(body, defaults=options)
        if html_only:
            return Outcome(html=derivation.html())
        return Outcome(latex=derivation.latex(), html=derivation.html())
    except DeriveError as err:
        return Outcome(
            error=err.message, line=err.line, column=err.column, transient=err.transient
        )
    except RecursionError:
        return Outcome(error="the block is nested too deeply to derive", line=1, column=1)
    except Exception as err:  # noqa: BLE001 - a page build must survive an engine bug
        return Outcome(
            error=f"internal error in mdderiv ({type(err).__name__}: {err}); "
            "please report it with this block",
            line=1,
            column=1,
            internal=True,
        )


# -- the disk cache: one append-only file per directory ------------------------------------

DISK_FILE = "outcomes-2.pickle"
_OLD_DISK_FILES = ("outcomes-1.jsonl",)  # written by earlier versions: removed when a cache is read


class _DiskCache:
    """The outcomes kept in one directory: ``outcomes-2.pickle``, one pickled
    record ``(key, outcome fields)`` per entry, later records winning.

    Pickle, not JSON lines: a record is made and read about ten times faster
    (a derivation's HTML is kilobytes of quotes and backslashes that JSON
    escapes one by one), and the records hold only strings, numbers, flags and
    None, which :class:`_PlainData` reads without ever importing or calling
    anything — a file written by someone else cannot run code.

    Read once per process (on the first lookup); new entries are appended in
    one write by :meth:`flush`.  A file with many superseded records, more
    than ``max_entries`` entries, or a damaged or torn record (from there on
    nothing is read) is rewritten, newest kept, when it is read.  A damaged
    file, or a directory that cannot be read or written, only costs speed.
    """

    max_entries = 20000

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / DISK_FILE
        self.entries: dict[str, Outcome] | None = None
        self.pending: dict[str, Outcome] = {}
        self.encoded: list[bytes] = []  # records of entries taken out of ``pending`` already
        self.lock = threading.Lock()

    def load(self) -> dict[str, Outcome]:
        with self.lock:
            if self.entries is None:
                self.entries = self._read()
            return self.entries

    def _read(self) -> dict[str, Outcome]:
        entries: dict[str, Outcome] = {}
        records = 0
        damaged = False
        try:
            with open(self.path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                while True:
                    start = handle.tell()
                    try:
                        # (an unpickler per record: one keeps its memo from record to
                        # record, and each record was pickled with a fresh one)
                        key, data = _PlainData(handle).load()
                        outcome = Outcome(*data)
                    except EOFError:
                        damaged = start != size  # a torn last record, not the end
                        break
                    except Exception:  # noqa: BLE001 - any damage: keep what came before
                        damaged = True
                        break
                    records += 1
                    entries.pop(key, None)  # re-inserted: keep newest last
                    entries[key] = outcome
        except OSError:
            return entries
        finally:
            for old in _OLD_DISK_FILES:
                with contextlib.suppress(OSError):
                    (self.directory / old).unlink(missing_ok=True)
        trimmed = len(entries) > self.max_entries
        if trimmed:
            for key in list(entries)[: len(entries) - self.max_entries]:
                del entries[key]
        if damaged or trimmed or records > 2 * len(entries) + 100:
            self._rewrite(entries)
        return entries

    def _rewrite(self, entries: dict[str, Outcome]) -> None:
        try:
            fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                handle.writelines(_record(key, outcome) for key, outcome in entries.items())
            os.replace(tmp, self.path)
        except OSError:
            pass

    def add(self, key: str, outcome: Outcome) -> None:
        entries = self.load()
        with self.lock:
            entries[key] = outcome
            self.pending[key] = outcome
        _register_flush()

    def encode_pending(self) -> None:
        """Make the new entries' records now, in memory (:meth:`flush` puts them
        in the file): for a moment the caller would otherwise spend waiting."""
        with self.lock:
            self._encode()

    def _encode(self) -> None:
        # (under the lock; records in the order added: a key added again after its
        # record was made gets a later record, which wins)
        if self.pending:
            self.encoded.append(b"".join(_record(key, outcome) for key, outcome in self.pending.items()))
            self.pending.clear()

    def flush(self) -> None:
        with self.lock:
            self._encode()
            if not self.encoded:
                return
            data = b"".join(self.encoded)
            self.encoded.clear()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with open(self.path, "ab") as handle:
                handle.write(data)
        except OSError:
            pass  # a read-only cache directory only costs speed


class _PlainData(pickle.Unpickler):
    """Reads pickles of plain data only: a record that names any class or
    function (which pickle would import and call) is refused, as the pickle
    documentation's "Restricting Globals" shows."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"the block cache holds plain data only, not {module}.{name}")


_PICKLE_PROTOCOL = 5  # (Python 3.8+, every version mdderiv runs on: a fixed choice keeps files readable)


def _record(key: str, outcome: Outcome) -> bytes:
    return pickle.dumps((key, outcome.to_tuple()), _PICKLE_PROTOCOL)


@functools.cache  # (once per process)
def _register_flush() -> None:
    atexit.register(BlockCache.flush_all)


class Waiting(Protocol):
    """The wait for a block being derived in a worker process."""

    def __call__(self) -> None:
        """Wait until the block (and the rest of its batch) is in ``prefetched``."""

    def done(self) -> bool:
        """Whether calling would return at once."""


class BlockCache:
    """Outcomes keyed by block text + options + mdderiv version.

    The in-memory part is shared by every instance in the process (MkDocs
    re-creates plugins on each ``serve`` rebuild); ``directory`` adds a disk
    cache that survives separate builds (written by :meth:`flush`, at the
    latest when the process exits).  ``enabled=False`` derives every time.

    ``prefetched`` holds outcomes derived ahead of time (in worker processes)
    for this instance only, and ``pending`` the keys still being derived
    there, each with a function that waits for it and moves it (and the rest
    of its batch) into ``prefetched``; :func:`derive_block` takes them as if
    it had derived them itself.
    """

    _memory: ClassVar[OrderedDict[str, Outcome]] = OrderedDict()
    _disks: ClassVar[dict[Path, _DiskCache]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()
    max_entries = 4096

    def __init__(self, enabled: bool = True, directory: str | os.PathLike[str] | None = None):
        self.enabled = enabled
        self.directory = Path(directory) if directory else None
        self.prefetched: dict[str, Outcome] = {}
        self.pending: dict[str, Waiting] = {}
        self._disk: _DiskCache | None = None
        if enabled and self.directory is not None:
            resolved = self.directory.resolve()
            with self._lock:
                self._disk = self._disks.get(resolved)
                if self._disk is None:
                    self._disk = self._disks[resolved] = _DiskCache(resolved)

    @staticmethod
    def key(body: str, options: Options, html_only: bool = False) -> str:
        """The key of a block; an outcome with the HTML alone (``html_only``)
        has its own, so a page's outcome never stands in for one that needs
        the LaTeX (a blog post's, sharing the cache)."""
        prefix = _KEY_PREFIXES.get((options, html_only))
        if prefix is None:
            from mdderiv import __version__

            parts: dict[str, object] = {"version": __version__, "engine": engine_fingerprint(), "options": asdict(options)}
            if html_only:
                parts["outputs"] = "html"
            prefix = json.dumps(parts, sort_keys=True)
            _KEY_PREFIXES.remember((options, html_only), prefix)
        return hashlib.sha256(f"{prefix}\0{body}".encode()).hexdigest()

    def get(self, key: str) -> Outcome | None:
        if not self.enabled:
            return None
        with self._lock:
            hit = self._memory.get(key)
            if hit is not None:
                self._memory.move_to_end(key)
                return hit
        if self._disk is not None:
            outcome = self._disk.load().get(key)
            if outcome is not None:
                self._remember(key, outcome)
            return outcome
        return None

    def __contains__(self, key: str) -> bool:
        if not self.enabled:
            return False
        with self._lock:
            if key in self._memory:
                return True
        return self._disk is not None and key in self._disk.load()

    def put(self, key: str, outcome: Outcome) -> None:
        # an engine crash may be fixed by the next edit of mdderiv: never keep it
        if not self.enabled or outcome.internal or outcome.transient:
            return
        self._remember(key, outcome)
        if self._disk is not None:
            self._disk.add(key, outcome)

    def still_deriving(self, key: str | None) -> bool:
        """Whether the block ``key`` is being derived in a worker process and
        has not arrived yet (taking it now would wait)."""
        wait = self.pending.get(key) if key is not None else None
        return wait is not None and not wait.done()

    def take_prefetched(self, key: str) -> Outcome | None:
        """The outcome derived ahead for ``key``, waiting for it if it is still
        being derived; None if there is none (or its worker failed)."""
        outcome = self.prefetched.get(key)
        if outcome is None:
            wait = self.pending.get(key)
            if wait is None:
                return None
            wait()
            self.pending.pop(key, None)
            outcome = self.prefetched.get(key)
            if outcome is None:
                return None
        if self.enabled:  # from now on the cache answers for this block
            del self.prefetched[key]
        return outcome

    def flush(self) -> None:
        """Write new entries to the disk cache now."""
        if self._disk is not None:
            self._disk.flush()

    def encode_pending(self) -> None:
        """Prepare the disk cache's new lines now (while waiting for something
        else), so that :meth:`flush` has less to do at the end of a build."""
        if self._disk is not None:
            self._disk.encode_pending()

    def _remember(self, key: str, outcome: Outcome) -> None:
        with self._lock:
            self._memory[key] = outcome
            self._memory.move_to_end(key)
            while len(self._memory) > self.max_entries:
                self._memory.popitem(last=False)

    @classmethod
    def flush_all(cls) -> None:
        with cls._lock:
            disks = list(cls._disks.values())
        for disk in disks:
            disk.flush()

    @classmethod
    def clear_memory(cls) -> None:
        """Forget everything in memory (what is on disk is read again)."""
        cls.flush_all()
        with cls._lock:
            cls._memory.clear()
            cls._disks.clear()


_KEY_PREFIXES: Remembered[tuple[Options, bool], str] = Remembered("cache-key prefixes per options", limit=256)


def block_options(info: str, defaults: Options) -> Options | Outcome:
    """The options of a block whose info line (after ``derive``) is ``info``,
    or the :class:`Outcome` of a bad info line."""
    if not info or info.isspace():
        return defaults
    try:
        info_values = parse_info(info)
    except InfoError as err:
        return Outcome(error=err.message, line=1, column=err.column, on_info_line=True)
    return defaults.merged(info_values) if info_values else defaults


def info_line(argument: str, options: dict[str, str]) -> str:
    """A fence info line (after ``derive``) from a directive's argument (itself
    info-line text) and its options (``{"layout": "numerator"}``), for the
    integrations whose blocks are directives (Sphinx, MyST)."""

    def quoted(value: str) -> str:
        return f"'{value}'" if '"' in value and "'" not in value else f'"{value}"'

    pairs = " ".join(f"{key}={quoted(str(value))}" for key, value in options.items())
    return f"{argument} {pairs}".strip()


def block_key(body: str, info: str, defaults: Options, html_only: bool = False) -> str | None:
    """The cache key of a block, or None when its info line is bad."""
    options = block_options(info, defaults)
    return BlockCache.key(body, options, html_only) if isinstance(options, Options) else None


def derive_block(
    body: str,
    info: str = "",
    defaults: Options | None = None,
    cache: BlockCache | None = None,
    html_only: bool = False,
    key: str | None = None,
) -> Outcome:
    """Derive one block body with the options of its info line (the text after
    ``derive``) on top of ``defaults``; option lines in the body win over both.
    With ``html_only`` (pages) the outcome has the HTML and no LaTeX.  ``key``
    is the block's cache key when the caller has it already (:func:`block_key`
    of the same arguments): not worked out a second time.

    Never raises: errors come back in the :class:`Outcome`.
    """
    options = block_options(info, defaults or Options())
    if isinstance(options, Outcome):
        return options
    if key is None:
        key = BlockCache.key(body, options, html_only)
    if cache is not None:
        hit = cache.get(key)
        if hit is not None:
            STATS.cached += 1
            return hit
        ahead = cache.take_prefetched(key)
        if ahead is not None:
            STATS.derived += 1
            cache.put(key, ahead)
            return ahead
    STATS.derived += 1
    outcome = _run_engine(body, options, html_only)
    if cache is not None:
        cache.put(key, outcome)
    return outcome


_WARM_UP_BLOCK = "given: A \\in \\mathbb{R}^{m \\times n}, \\mathbf{x} \\in \\mathbb{R}^{n}\nf = \\|A\\mathbf{x}\\|^2\nwrt: \\mathbf{x}"
@functools.cache  # (once per process)
def warm_up() -> None:
    """Derive one small block, once per process, so the engine's lazy imports
    (NumPy, the calculus, the printers) and its tables are in place — before
    worker processes are forked, which then inherit them instead of each
    paying for them."""
    _run_engine(_WARM_UP_BLOCK, Options())


def derive_many(items: list[tuple[str, Options]], html_only: bool = False) -> list[tuple[Any, ...]]:
    """Derive ``(body, options)`` pairs; plain tuples of the outcomes' fields
    (strings, numbers, flags), for worker processes to send back."""
    # (the fields are flat values: no need for astuple's recursive copy)
    return [_run_engine(body, options, html_only).to_tuple() for body, options in items]


def outcome_from_tuple(fields: tuple[Any, ...]) -> Outcome:
    return Outcome(*fields)


@functools.lru_cache(maxsize=1)
def engine_fingerprint() -> str:
    """A digest of the engine's own source files: a cached derivation is reused
    only by the same engine, even while the version number stays the same
    (a development checkout, an editable install)."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        if "markdown" in path.relative_to(package).parts:
            continue  # the integrations do not change what a block derives to
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
