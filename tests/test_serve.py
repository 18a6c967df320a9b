"""``mkdocs serve`` on loopback: after an edit only the changed blocks are derived again."""

from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from support import GOOD, GOOD2

pytestmark = pytest.mark.slow

SUMMARY = re.compile(r"mdderiv: (\d+) block\(s\) derived, (\d+) from cache, (\d+) failed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _fence(body: str, info: str = "") -> str:
    return f"```derive{info}\n{body}\n```\n"


def test_serve_rederives_only_the_edited_block(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: Serve\nplugins:\n  - mdderiv:\n      cache_dir: ''\n", encoding="utf-8")
    (docs / "index.md").write_text("# One\n\n" + _fence(GOOD) + "\n" + _fence(GOOD2), encoding="utf-8")
    (docs / "two.md").write_text("# Two\n\n" + _fence(GOOD, " lang=zh") + "\n" + _fence(GOOD2, " lang=zh"),
                                 encoding="utf-8")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    lines: queue.Queue[str] = queue.Queue()
    log: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()

    def wait_for(pattern: re.Pattern[str], deadline: float) -> re.Match[str]:
        while time.time() < deadline:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                if process.poll() is not None:
                    break
                continue
            log.append(line)
            if match := pattern.search(line):
                return match
        raise AssertionError(f"no {pattern.pattern!r} in time:\n" + "".join(log))

    def next_summary(deadline: float) -> tuple[int, int, int]:
        match = wait_for(SUMMARY, deadline)
        return int(match.group(1)), int(match.group(2)), int(match.group(3))

    try:
        deadline = time.time() + 120
        assert next_summary(deadline) == (4, 0, 0)
        wait_for(re.compile(r"Serving on"), deadline)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/two/", timeout=10) as response:
            assert 'class="arithmatex"' in response.read().decode()
        time.sleep(1.0)  # let the watcher settle before the edit
        text = (docs / "two.md").read_text(encoding="utf-8")
        (docs / "two.md").write_text(text.replace("wrt: X", "wrt: X\nlayout: numerator", 1), encoding="utf-8")
        # MkDocs rebuilds every page; only the one edited block is derived again
        assert next_summary(deadline) == (1, 3, 0)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
