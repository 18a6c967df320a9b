r"""The authors' corpus (issue 11): how many blocks, written as ML, statistics and
control notes write them, mdderiv derives correctly, refuses, or gets wrong.

Prints a Markdown table per category (derived / refused / wrong / internal) and the
derived fraction; with ``--details`` also every block that is not derived, with the
engine's message.  The blocks and their NumPy objectives: ``tests/corpus/authors.yaml``;
the verdicts: ``tests/corpus_harness.py`` (shared with ``tests/test_corpus.py``).

Usage::

    python benchmarks/corpus.py [--details]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import corpus_harness  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--details", action="store_true", help="list every block that is not derived")
    args = parser.parse_args()
    entries = corpus_harness.load()
    verdicts = {entry.id: corpus_harness.judge(entry) for entry in entries}
    print(corpus_harness.summary(entries, verdicts))
    if args.details:
        for kind in ("wrong", "internal", "refused"):
            rows = [(e, verdicts[e.id]) for e in entries if verdicts[e.id].kind == kind]
            if rows:
                print(f"\n## {kind} ({len(rows)})\n")
                for entry, verdict in rows:
                    print(f"- `{entry.id}` ({entry.category}): {verdict.detail}")
    slowest = max(entries, key=lambda e: verdicts[e.id].seconds)
    print(f"\nslowest block: {slowest.id} ({verdicts[slowest.id].seconds * 1000:.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
