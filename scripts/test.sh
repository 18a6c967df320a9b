#!/usr/bin/env bash
# The test command (README): install what a fresh machine lacks, then run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet -e ".[test]"

# Headless Chromium + driver for the browser test, and npm for the local MathJax and KaTeX copies
# (apt only when something is missing).
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}"
fi

# pdflatex and what pandoc's default LaTeX template loads, for the pandoc filter's PDF test
# (without recommends: the whole TeX Live is not needed).
tex_ready() { command -v pdflatex >/dev/null 2>&1 && kpsewhich xcolor.sty >/dev/null && kpsewhich lmodern.sty >/dev/null; }
if ! tex_ready; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends texlive-latex-base texlive-latex-recommended lmodern
fi

# Local MathJax 3 and 4 (with MathJax 4's font package) and KaTeX copies, so the rendering
# tests never need a CDN (only when missing).
browser=tests/browser/node_modules
if [ ! -f $browser/mathjax/es5/tex-mml-chtml.js ] || [ ! -f $browser/mathjax4/tex-mml-chtml.js ] \
    || [ ! -d $browser/@mathjax/mathjax-newcm-font/chtml/woff2 ] || [ ! -f $browser/katex/dist/katex.js ]; then
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

# A tiny Hexo blog as it ships (hexo + hexo-renderer-marked) for tests/test_hexo.py (only when missing).
if [ ! -f tests/hexo/node_modules/hexo/bin/hexo ] || [ ! -d tests/hexo/node_modules/hexo-renderer-marked ]; then
    (cd tests/hexo && npm ci --no-audit --no-fund --loglevel=error)
fi

# mystmd (Jupyter Book 2's engine) for the MyST plugin test (only when missing).
if [ ! -x tests/myst/node_modules/.bin/myst ]; then
    (cd tests/myst && npm ci --no-audit --no-fund --loglevel=error)
fi

# Lint and types first (the rule set is in pyproject.toml): quick, and they fail loudly.
python -m ruff check mdderiv tests benchmarks
python -m mypy mdderiv

python -m pytest -q
