"""Every derivation's LaTeX renders in KaTeX (strict mode, errors thrown): no
unknown macros, nothing KaTeX would refuse.  MathJax 3 is covered by the
headless-browser test."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import mdderiv

HERE = Path(__file__).resolve().parent / "browser"
KATEX = HERE / "node_modules" / "katex" / "dist" / "katex.js"

BLOCKS = [
    ("given: a: m, X: m x n, b: n\nf = a^T X b\nwrt: X", {}),
    ("given: X: m x n, w: n, y: m, \\lambda: scalar\nl = \\|Xw - y\\|^2 + \\lambda\\|w\\|^2\nwrt: w", {"solve": True, "hessian": True}),
    ("given: W: m x n, x: n, y: m one-hot\nl = -y^T \\log \\operatorname{softmax}(W x)\nwrt: W", {"lang": "zh"}),
    (
        "given: \\mathbf{x}_i \\in \\mathbb{R}^{m}, \\bar{\\mathbf{x}} \\in \\mathbb{R}^{m}, \\Sigma \\in \\mathbb{S}_{++}^{m}\n"
        "S = \\frac{1}{n}\\sum_{i=1}^{n} (\\mathbf{x}_i - \\bar{\\mathbf{x}})(\\mathbf{x}_i - \\bar{\\mathbf{x}})^T\n"
        "l = \\log|\\Sigma| + \\frac{1}{n}\\sum_{i=1}^{n} (\\mathbf{x}_i - \\bar{\\mathbf{x}})^T \\Sigma^{-1} (\\mathbf{x}_i - \\bar{\\mathbf{x}})\n"
        "wrt: \\Sigma",
        {"solve": True, "shapes": "all"},
    ),
    (
        "given: W_1: p x n, W_2: m x p, x: n, y: m one-hot\n"
        "l = -y^T \\log \\operatorname{softmax}(W_2 \\sigma(W_1 x))\nwrt: W_1, W_2",
        {"title": "Two layers & 100% {braces}_^", "lang": "zh"},
    ),
    ("given: W: p x m, X: m x n, M: p x p symmetric\nY = \\sigma(WX)\nf = \\operatorname{tr}(Y^T M Y)\nwrt: X", {"steps": "brief"}),
    ("given: X: n x n, A: n x n\nF = |X| X^{-1} + A \\odot X\nwrt: X", {"layout": "numerator"}),
    ("given: X: n x n symmetric, A: n x n\nf = \\operatorname{tr}(A X) + \\sqrt{\\operatorname{tr}(X^T X)}\nwrt: X", {"hessian": True}),
    (  # every function of the registry (mdderiv/functions.py) and its derivatives, and the constants
        "given: W: m x n, x: n, a: m\n"
        "f = \\mathbf{1}^T\\max(0, Wx) + a^T\\tan(Wx) + \\mathbf{1}^T\\arctan(Wx) + \\mathbf{1}^T\\cosh(Wx)"
        " + a^T\\sinh(Wx) + \\mathbf{1}^T\\operatorname{softplus}(Wx) + a^T\\sigma(Wx) + a^T\\tanh(Wx)"
        " + \\|x\\|_1 + |a^T W x| + \\pi e\\, x^T x\nwrt: x",
        {"hessian": True},
    ),
]


@pytest.mark.skipif(shutil.which("node") is None or not KATEX.exists(), reason="node and the local KaTeX (bash scripts/test.sh installs them) are missing")
def test_every_derivation_renders_in_katex(tmp_path: Path) -> None:
    latex = [mdderiv.derive(body, **options).latex() for body, options in BLOCKS]
    source = tmp_path / "latex.json"
    source.write_text(json.dumps(latex), encoding="utf-8")
    run = subprocess.run(
        ["node", str(HERE / "katex_check.js"), str(source)],
        cwd=HERE, capture_output=True, timeout=120, check=True,
    )
    outcomes = json.loads(run.stdout)
    failures = [(body, o["error"]) for (body, _), o in zip(BLOCKS, outcomes) if not o["ok"]]
    assert not failures, failures
    assert len(outcomes) == len(BLOCKS)


@pytest.mark.skipif(shutil.which("node") is None or not KATEX.exists(), reason="node and the local KaTeX (bash scripts/test.sh installs them) are missing")
def test_every_math_piece_of_the_page_layout_renders_in_katex(tmp_path: Path) -> None:
    """KaTeX users get the page layout too: each ``\\( … \\)`` piece of the HTML
    (cut at operators, between factors, with fixed-size parentheses) is valid on its own."""
    pattern = re.compile(r'<span class="(?:[\w-]+ )?arithmatex">\\\((.*?)\\\)</span>', re.DOTALL)
    pieces: list[str] = []
    for body, options in BLOCKS:
        pieces += [html.unescape(piece) for piece in pattern.findall(mdderiv.derive(body, **options).html())]
    assert len(pieces) > 200 and any(r"\biggl(" in piece for piece in pieces)
    source = tmp_path / "pieces.json"
    source.write_text(json.dumps(pieces), encoding="utf-8")
    run = subprocess.run(
        ["node", str(HERE / "katex_check.js"), str(source)],
        cwd=HERE, capture_output=True, timeout=120, check=True,
    )
    outcomes = json.loads(run.stdout)
    failures = [(piece, o["error"]) for piece, o in zip(pieces, outcomes) if not o["ok"]]
    assert not failures, failures[:5]
