"""Page weight per derivation: what the page layout adds to a page.

For the worked examples (``tests/snapshots/blocks``: the English and Chinese
examples pages and the seed's 例5 in one line), the bytes a derivation puts in a
page as the page layout (``Derivation.html()``) against the display math pages
had before (``<div class="arithmatex">\\[…\\]</div>`` around ``latex()``), plain
and gzip-compressed (what a server sends), and the stylesheet.
Writes its section of ``docs/benchmarks.md`` between ``<!-- weight:start -->``
and ``<!-- weight:end -->``.

Run: ``python benchmarks/page_weight.py`` (``--no-write`` only prints).
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
from pathlib import Path

from markers import write_between

import mdderiv
from mdderiv.markdown.blocks import Outcome
from mdderiv.markdown.fence import math_html, stylesheet

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = ROOT / "tests" / "snapshots" / "blocks"
START, END = "<!-- weight:start -->", "<!-- weight:end -->"


def _kb(size: float) -> str:
    return f"{size / 1000:.1f}"


def measure() -> str:
    rows = []
    for path in sorted(BLOCKS.glob("*.derive")):
        d = mdderiv.derive(path.read_text(encoding="utf-8"))
        layout = d.html().encode()
        display = math_html(Outcome(latex=d.latex())).encode()
        rows.append((path.stem, len(layout), len(gzip.compress(layout)), len(display), len(gzip.compress(display))))
    css = stylesheet().encode()
    lines = [
        "## Page weight",
        "",
        f"`benchmarks/page_weight.py`: the {len(rows)} derivations of the worked examples (English and Chinese, "
        "and the seed's 例5 in one line with and without introduced names), as the page layout puts them in a "
        "page against the single display of LaTeX pages had before; *gzip* is what a server sends compressed "
        f"(each derivation alone). Measured with mdderiv {mdderiv.__version__}.",
        "",
        "| per derivation | layout kB | layout gzip kB | display math kB | display math gzip kB |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, pick in (("median", statistics.median), ("mean", statistics.fmean), ("largest", max)):
        columns = [pick([row[i] for row in rows]) for i in range(1, 5)]
        lines.append(f"| {label} | " + " | ".join(_kb(c) for c in columns) + " |")
    ratio = statistics.median([row[1] / row[3] for row in rows])
    ratio_gz = statistics.median([row[2] / row[4] for row in rows])
    largest = max(rows, key=lambda row: row[1])
    lines += [
        "",
        f"The layout is {ratio:.1f}× the display math per derivation ({ratio_gz:.1f}× compressed): every "
        "piece of math is its own `<span class=\"arithmatex\">\\(\\displaystyle …\\)</span>` (a side of one piece "
        "is its cell), each step a row of spans, and the copy menu holds the results again as LaTeX and NumPy. "
        "The largest is "
        f"`{largest[0]}` ({_kb(largest[1])} kB). The stylesheet adds {_kb(len(css))} kB "
        f"({_kb(len(gzip.compress(css)))} kB compressed) once per site: the MkDocs plugin writes it as one file "
        "every page links; Python-Markdown and Zensical put it before a page's first derivation.",
    ]
    return "\n".join(lines)


def _place(page: str, block: str) -> str:
    return page.rstrip("\n") + f"\n\n{block}\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    text = measure()
    print(text)
    if not args.no_write:
        write_between(Path(args.out), START, END, text, _place)
    return 0


if __name__ == "__main__":
    sys.exit(main())
