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

import hashlib
import json
import os
import re
import tempfile
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

from ..errors import DeriveError
from ..options import BOOLEAN, OPTION_NAMES, Options, parse_option

__all__ = [
    "STATS",
    "BlockCache",
    "InfoError",
    "Outcome",
    "derive_block",
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
            if key in BOOLEAN:
                value = "true"
            elif key in OPTION_NAMES:
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
    markdown: str = ""
    error: str | None = None
    line: int = 0
    column: int = 0
    on_info_line: bool = False
    internal: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DeriveStats:
    """Counters for tests and the build log: blocks derived vs taken from cache."""

    derived: int = 0
    cached: int = 0

    def reset(self) -> None:
        self.derived = 0
        self.cached = 0


STATS = DeriveStats()


def _run_engine(body: str, options: Options) -> Outcome:
    """Call the engine; turn every failure into an :class:`Outcome`."""
    import mdderiv  # late: tests monkeypatch mdderiv.derive

    try:
        derivation = mdderiv.derive(body, defaults=options)
        latex = derivation.latex()
        try:
            markdown = derivation.markdown()
        except Exception:  # noqa: BLE001 - the LaTeX alone is enough for every integration
            markdown = ""
        return Outcome(latex=latex, markdown=markdown)
    except DeriveError as err:
        return Outcome(error=err.message, line=err.line, column=err.column)
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


class BlockCache:
    """Outcomes keyed by block text + options + mdderiv version.

    The in-memory part is shared by every instance in the process (MkDocs
    re-creates plugins on each ``serve`` rebuild); ``directory`` adds a disk
    cache that survives separate builds.  ``enabled=False`` derives every time.
    """

    _memory: ClassVar[OrderedDict[str, Outcome]] = OrderedDict()
    _lock: ClassVar[threading.Lock] = threading.Lock()
    max_entries = 4096

    def __init__(self, enabled: bool = True, directory: str | os.PathLike[str] | None = None):
        self.enabled = enabled
        self.directory = Path(directory) if directory else None

    @staticmethod
    def key(body: str, options: Options) -> str:
        from mdderiv import __version__

        payload = json.dumps(
            {"version": __version__, "body": body, "options": asdict(options)}, sort_keys=True
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def get(self, key: str) -> Outcome | None:
        if not self.enabled:
            return None
        with self._lock:
            hit = self._memory.get(key)
            if hit is not None:
                self._memory.move_to_end(key)
                return hit
        if self.directory is not None:
            path = self.directory / f"{key}.json"
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                outcome = Outcome(**data)
            except (OSError, ValueError, TypeError):
                return None
            self._remember(key, outcome)
            return outcome
        return None

    def put(self, key: str, outcome: Outcome) -> None:
        # an engine crash may be fixed by the next edit of mdderiv: never keep it
        if not self.enabled or outcome.internal:
            return
        self._remember(key, outcome)
        if self.directory is not None:
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(outcome.to_json(), handle)
                os.replace(tmp, self.directory / f"{key}.json")
            except OSError:
                pass  # a read-only cache directory only costs speed

    def _remember(self, key: str, outcome: Outcome) -> None:
        with self._lock:
            self._memory[key] = outcome
            self._memory.move_to_end(key)
            while len(self._memory) > self.max_entries:
                self._memory.popitem(last=False)

    @classmethod
    def clear_memory(cls) -> None:
        with cls._lock:
            cls._memory.clear()


def derive_block(
    body: str,
    info: str = "",
    defaults: Options | None = None,
    cache: BlockCache | None = None,
) -> Outcome:
    """Derive one block body with the options of its info line (the text after
    ``derive``) on top of ``defaults``; option lines in the body win over both.

    Never raises: errors come back in the :class:`Outcome`.
    """
    defaults = defaults or Options()
    try:
        info_values = parse_info(info)
    except InfoError as err:
        return Outcome(error=err.message, line=1, column=err.column, on_info_line=True)
    options = defaults.merged(info_values) if info_values else defaults
    key = BlockCache.key(body, options)
    if cache is not None:
        hit = cache.get(key)
        if hit is not None:
            STATS.cached += 1
            return hit
    STATS.derived += 1
    outcome = _run_engine(body, options)
    if cache is not None:
        cache.put(key, outcome)
    return outcome
