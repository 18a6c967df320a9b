"""Helpers for the tests: block bodies, a stand-in engine, ``run``, and the
independent numerics results are compared with (central differences, the
matrix exponential), written here so that they share nothing with mdderiv."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mdderiv.errors import DeriveError

ROOT = Path(__file__).resolve().parent.parent

# The spec's own example (§1): a scalar objective, a matrix variable.
GOOD = (
    "given: \\mathbf{a} \\in \\mathbb{R}^{m},\\ X \\in \\mathbb{R}^{m \\times n},\\ "
    "\\mathbf{b} \\in \\mathbb{R}^{n}\n"
    "f = \\mathbf{a}^T X \\mathbf{b}\n"
    "wrt: X"
)
GOOD2 = (
    "given: A \\in \\mathbb{R}^{n \\times n}, \\mathbf{x} \\in \\mathbb{R}^{n}\n"
    "f = \\mathbf{x}^T A \\mathbf{x}\n"
    "wrt: \\mathbf{x}"
)
# Line 2 multiplies 1×n by m×1: a shape error on the body's line 2.
BAD = (
    "given: \\mathbf{x} \\in \\mathbb{R}^{n}, \\mathbf{y} \\in \\mathbb{R}^{m}\n"
    "f = \\mathbf{x}^T \\mathbf{y}\n"
    "wrt: \\mathbf{x}"
)
BAD_LINE = 2


class FakeDerivation:
    """Stands in for the engine where a test is only about finding and splicing
    blocks: its LaTeX echoes the body so the test sees which block went where."""

    def __init__(self, body: str, options: Any) -> None:
        self.body = body
        self.options = options

    def latex(self) -> str:
        lines = [line.strip() for line in self.body.splitlines() if line.strip()]
        return "\\text{FAKE} & {{" + "}} \\\\ ".join(lines) + " < 1"

    def markdown(self) -> str:
        return "$$\n" + self.latex() + "\n$$"

    def html(self) -> str:
        latex = self.latex().replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return f'<div class="mdderiv-derivation"><span class="arithmatex">\\({latex}\\)</span></div>'

    def text(self) -> str:
        return self.latex()


def fake_derive(body: str, defaults: Any = None, **options: Any) -> FakeDerivation:
    """Raises on the first line containing ``BAD`` (column of ``BAD``)."""
    for number, line in enumerate(body.split("\n"), 1):
        if "BAD" in line:
            raise DeriveError("fake error here", number, line.index("BAD") + 1)
    return FakeDerivation(body, defaults)


def run(*args: str, input: bytes | None = None, cwd: str | os.PathLike[str] | None = None,
        timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run ``python ARGS…`` in a subprocess (bytes in, bytes out)."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8", **(env or {}))
    return subprocess.run(
        [sys.executable, *args], input=input, capture_output=True, cwd=cwd, timeout=timeout, env=env
    )


def bad_block_errors(page: str) -> list[tuple[int, int, str]]:
    """``(line, column, message)`` in ``page`` of every copy of :data:`BAD` in it,
    worked out from the page's text and the engine's own error (line and column
    in the block body), whatever the indentation of the copy."""
    import mdderiv

    try:
        mdderiv.derive(BAD)
    except DeriveError as error:
        bad_line = BAD.splitlines()[error.line - 1]
        return [
            (number, len(line) - len(bad_line) + error.column, error.message)
            for number, line in enumerate(page.splitlines(), 1)
            if line.endswith(bad_line)
        ]
    raise AssertionError("BAD derives")


def wait_for_mathjax(browser: Any) -> None:
    """Wait until MathJax on the open page has started and typeset it, and
    assert it reported no error (the browser tests' one way to wait)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 60).until(
        lambda d: d.execute_script("return !!(window.MathJax && MathJax.startup && MathJax.startup.promise)"))
    status = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "MathJax.startup.promise.then(() => done('ok')).catch(e => done('error: ' + e));")
    assert status == "ok"


def central_differences(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """The gradient of a scalar ``f`` at ``x`` (same shape) by central differences."""
    grad = np.zeros_like(x, dtype=float)
    for index in np.ndindex(*x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += h
        minus[index] -= h
        grad[index] = (f(plus) - f(minus)) / (2 * h)
    return grad


def finite_difference_hessian(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """The Hessian of a scalar ``f`` over vec(x) (columns stacked) at ``x``, by
    second central differences (four points per entry)."""
    flat = x.reshape(-1, order="F")
    size = flat.size

    def at(v: np.ndarray) -> float:
        return f(v.reshape(x.shape, order="F"))

    hessian = np.zeros((size, size))
    for i in range(size):
        for j in range(size):
            ei, ej = np.eye(size)[i] * h, np.eye(size)[j] * h
            hessian[i, j] = (at(flat + ei + ej) - at(flat + ei - ej) - at(flat - ei + ej) + at(flat - ei - ej)) / (4 * h * h)
    return hessian


def symmetric_projector(n: int) -> np.ndarray:
    """P with P vec(E) = vec((E + E^T)/2), for n × n matrices E."""
    p = np.zeros((n * n, n * n))
    for i in range(n):
        for j in range(n):
            p[i + n * j, i + n * j] += 0.5
            p[i + n * j, j + n * i] += 0.5
    return p


def assert_result_agrees(d: Any, result: Any, source: str, values: dict[str, Any], sizes: Any,
                         want: np.ndarray, name: str) -> None:
    """A result of derivation ``d`` — its generated NumPy ``source`` and the
    engine's own evaluation at ``values`` — equals ``want`` (relative to its
    size, at least 1) to 1e-6."""
    from mdderiv.numeric import evaluate

    generated = np.asarray(eval(source, {"np": np, **values}), dtype=float)  # our own output
    engine = evaluate(result.expr, values, sizes, d.problem)
    scale = max(1.0, float(np.max(np.abs(want))))
    assert generated.shape == want.shape, (source, generated.shape)
    assert float(np.max(np.abs(generated - want))) / scale < 1e-6, (name, source)
    assert float(np.max(np.abs(engine - want))) / scale < 1e-6, name


def expm_series(a: np.ndarray, terms: int = 40) -> np.ndarray:
    """The matrix exponential by its plain power series (complex ``a`` allowed:
    ``e^{iA}`` gives cos A and sin A), independent of mdderiv's eigen route."""
    out, term = np.eye(len(a)), np.eye(len(a))
    for k in range(1, terms):
        term = term @ a / k
        out = out + term
    return out


def expm(a: np.ndarray) -> np.ndarray:
    """The matrix exponential: scaling and squaring of the Taylor series."""
    a = np.asarray(a, dtype=float)
    norm = float(np.max(np.sum(np.abs(a), axis=0))) if a.size else 0.0
    squarings = max(0, int(math.ceil(math.log2(norm))) + 1) if norm > 0.5 else 0
    scaled = a / 2.0**squarings
    term, total = np.eye(a.shape[0]), np.eye(a.shape[0])
    for k in range(1, 30):
        term = term @ scaled / k
        total = total + term
    for _ in range(squarings):
        total = total @ total
    return total
