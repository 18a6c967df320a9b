"""Writing a benchmark's section into ``docs/benchmarks.md`` between its own
HTML-comment markers, leaving every other byte of the page as it is."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def write_between(path: Path, start: str, end: str, text: str, place: Callable[[str, str], str]) -> None:
    """Put ``text`` between ``start`` and ``end`` in ``path``.  A page without
    the markers gets the marked block where ``place(page, block)`` puts it; a
    missing page is created with a title."""
    block = f"{start}\n{text}\n{end}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# Benchmarks\n\n{block}\n", encoding="utf-8")
        return
    page = path.read_text(encoding="utf-8")
    if start in page and end in page and page.index(start) < page.index(end):
        head, rest = page.split(start, 1)
        _, tail = rest.split(end, 1)
        page = head + block + tail
    else:
        page = place(page, block)
    path.write_text(page, encoding="utf-8")
