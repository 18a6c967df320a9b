r"""Benchmark of the derivation engine (not a test).

Three parts, all in one process and one run, timed with ``time.perf_counter``
(median of N repeats after one warm-up call):

1. **Derive time vs SymPy.** The seed examples and a set of Matrix Cookbook
   identities: mdderiv from the block body to rendered LaTeX
   (``mdderiv.derive(body, check=False).latex()``), the same with the numerical
   check on, and SymPy's ``MatrixSymbol`` ``.diff`` on the same expression
   (built beforehand with symbolic dimensions, so SymPy's time is the
   differentiation alone).  Every result of both is evaluated at random inputs
   (m, n, p = 3, 4, 5) and compared with central finite differences of the
   objective written in NumPy; SymPy rows that are 0, wrong, or left as a 4-D
   array expression are marked.
2. **Depth scaling.** An L-layer network objective, written with intermediate
   definitions ``\mathbf{a}_k = \sigma(W_k \mathbf{a}_{k-1})`` and as one nested
   expression, differentiated with respect to the first and the last weight.
3. **Hessians** (``hessian: true``): derive time, then evaluating the derived
   closed form (its NumPy source, ``eval``'d once into a function) against
   ``torch.func.hessian`` (eager, CPU, float64) at growing sizes.
4. **Long traces.** ``tr(B^T X^T C X X^T X ⋯ X^T C X B)`` with 8 to 72 factors
   (the 40-factor trace must take well under a second), against SymPy's ``.diff``.

Usage::

    python benchmarks/engine.py            # full run, writes docs/benchmarks.md
    python benchmarks/engine.py --quick    # reduced run (< 30 s)
    python benchmarks/engine.py --no-write # print only
    python benchmarks/engine.py --traces-only  # only the long traces (part 4), printed

The Markdown goes into ``docs/benchmarks.md`` between ``<!-- engine:start -->``
and ``<!-- engine:end -->``; the rest of that file is left as it is.
Optional dependency for part 3: ``pip install -e .[bench]`` (PyTorch, CPU).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _threads(argv: list[str]) -> int:
    """``--threads N`` (default 1), read before NumPy and PyTorch start their thread pools."""
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if arg.startswith("--threads="):
            return int(arg.split("=", 1)[1])
    return 1


THREADS = _threads(sys.argv[1:])
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(THREADS)

# Imported only now: the BLAS thread count above must be set before NumPy loads,
# and mdderiv found from a checkout that is not installed.
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

import mdderiv  # noqa: E402
from markers import write_between  # noqa: E402
from mdderiv.pipeline import clear_memos  # noqa: E402

START, END = "<!-- engine:start -->", "<!-- engine:end -->"
LOAD: list[str] = []  # the load average when the run started
SIZES = {"m": 3, "n": 4, "p": 5}


# --------------------------------------------------------------------------- helpers


def timed_together(fns: list[Callable[[], Any]], repeats: int, budget: float | None = None) -> list[float]:
    """Median seconds of each of ``fns``, after one warm-up call each.

    The calls are interleaved (round r times every function once), so a burst of
    load from other processes falls on all of them alike rather than on one.
    With ``budget`` (seconds per round set), fewer rounds (at least 3) when the
    functions are slow.
    """
    start = time.perf_counter()
    for fn in fns:
        fn()
    first = time.perf_counter() - start
    if budget is not None and first * repeats > budget:
        repeats = max(3, min(repeats, int(budget / max(first, 1e-9))))
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, bucket in zip(fns, times):
            start = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - start)
    return [statistics.median(bucket) for bucket in times]


def ms(seconds: float | None) -> str:
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "—"
    value = seconds * 1e3
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or math.isnan(a) or math.isnan(b) or b <= 0:
        return "—"
    r = a / b
    return f"{r:.0f}×" if r >= 10 else f"{r:.1f}×"


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def sq(v: Any) -> float:
    return float(np.asarray(v).reshape(-1)[0])


def draw(shape: tuple, kind: str, rng: np.random.Generator) -> np.ndarray | float:
    dims = tuple(SIZES.get(d, d) for d in shape)
    if kind == "scalar":
        return float(rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.5))
    a = rng.standard_normal(dims)
    if kind == "spd":
        return a @ a.T + dims[0] * np.eye(dims[0])
    if kind == "sym":
        return (a + a.T) / 2
    if kind == "pd":  # square, well conditioned, positive determinant
        return a / 2 + dims[0] * np.eye(dims[0])
    if kind == "onehot":
        v = np.zeros(dims)
        v[rng.integers(dims[0]), 0] = 1.0
        return v
    if kind == "small":
        return a / 4
    return a


def fd_grad(f: Callable[..., float], vals: dict, wrt: str, h: float = 1e-6) -> np.ndarray:
    g = np.zeros_like(vals[wrt])
    for idx in np.ndindex(g.shape):
        plus, minus = dict(vals), dict(vals)
        plus[wrt] = vals[wrt].copy()
        minus[wrt] = vals[wrt].copy()
        plus[wrt][idx] += h
        minus[wrt][idx] -= h
        g[idx] = (f(**plus) - f(**minus)) / (2 * h)
    return g


def rel_error(got: np.ndarray, want: np.ndarray, symmetric: bool) -> float:
    got = np.asarray(got, dtype=float)
    if got.shape != want.shape:
        if got.size != want.size:
            return math.inf
        got = got.reshape(want.shape)
    if symmetric:
        got, want = (got + got.T) / 2, (want + want.T) / 2
    return float(np.abs(got - want).max() / max(1.0, np.abs(want).max()))


# --------------------------------------------------------------------------- part 1: cases


@dataclass
class Case:
    name: str
    group: str  # "seed" or "cookbook"
    body: str
    wrt: str  # identifier of the variable compared
    inputs: dict[str, tuple[tuple, str]]
    objective: Callable[..., float]
    sympy: Callable[[Any, Any, Any], tuple[Any, Any]] | None
    note: str = ""  # how the SymPy form differs from the block
    sympy_inputs: Callable[[dict], dict] | None = None  # values for a rewritten SymPy form


def _sp():
    import sympy

    return sympy


def MS(name: str, r: Any, c: Any = 1):
    return _sp().MatrixSymbol(name, r, c)


def _sig(M):
    sp = _sp()
    t = sp.Dummy("t")
    return M.applyfunc(sp.Lambda(t, 1 / (1 + sp.exp(-t))))


def _logsumexp(z, k):
    sp = _sp()
    return sp.log(sp.Trace(sp.OneMatrix(1, k) * z.applyfunc(sp.exp)))


def _cases() -> list[Case]:
    sp = _sp()
    Tr, log, det, exp = sp.Trace, sp.log, sp.Determinant, sp.exp
    R = r"\mathbb{R}"
    cases: list[Case] = []

    def seed(*args, **kw):
        cases.append(Case(args[0], "seed", *args[1:], **kw))

    def book(*args, **kw):
        cases.append(Case(args[0], "cookbook", *args[1:], **kw))

    # ---- the seeds (the contract's CASES, plus the covariance with an indexed sum)
    def aTXb(m, n, p):
        X = MS("X", m, n)
        return MS("a", m).T * X * MS("b", n), X

    seed("aTXb", rf"""given: \mathbf{{a}} \in {R}^{{m}}, X \in {R}^{{m \times n}}, \mathbf{{b}} \in {R}^{{n}}
f = \mathbf{{a}}^T X \mathbf{{b}}
wrt: X""", "X", {"a": (("m", 1), ""), "X": (("m", "n"), ""), "b": (("n", 1), "")},
         lambda a, X, b: sq(a.T @ X @ b), aTXb)

    def lsq(m, n, p):
        X, w, y = MS("X", m, n), MS("w", n), MS("y", m)
        return (X * w - y).T * (X * w - y), w

    seed("least-squares", rf"""given: X \in {R}^{{m \times n}}, w \in {R}^{{n}}, y \in {R}^{{m}}
l = \|Xw - y\|^2
wrt: w""", "w", {"X": (("m", "n"), ""), "w": (("n", 1), ""), "y": (("m", 1), "")},
         lambda X, w, y: sq((X @ w - y).T @ (X @ w - y)), lsq, note="as (Xw−y)ᵀ(Xw−y)")

    def softmax_ce(m, n, p):
        W, x, y = MS("W", m, n), MS("x", n), MS("y", m)
        return -Tr(y.T * W * x) + _logsumexp(W * x, m), W

    seed("softmax-ce", rf"""given: W \in {R}^{{m \times n}}, \mathbf{{x}} \in {R}^{{n}}, \mathbf{{y}} \in {R}^{{m}}
given: \mathbf{{y}} \text{{ one-hot}}
l = -\mathbf{{y}}^T \log \operatorname{{softmax}}(W\mathbf{{x}})
wrt: W""", "W", {"W": (("m", "n"), ""), "x": (("n", 1), ""), "y": (("m", 1), "onehot")},
         lambda W, x, y: -sq(y.T @ np.log(softmax(W @ x))), softmax_ce,
         note="no softmax in SymPy: −yᵀWx + log 1ᵀexp(Wx)")

    def gauss(m, n, p):
        S, Z = MS("Sigma", m, m), MS("Z", m, n)
        return log(det(S)) + Tr(Z.T * S.inverse() * Z) / n, S

    seed("gaussian-mle", rf"""given: \Sigma \in \mathbb{{S}}_{{++}}^{{m}}, Z \in {R}^{{m \times n}}
l = \log|\Sigma| + \frac{{1}}{{n}}\operatorname{{tr}}(Z^T \Sigma^{{-1}} Z)
wrt: \Sigma""", "Sigma", {"Sigma": (("m", "m"), "spd"), "Z": (("m", "n"), "")},
         lambda Sigma, Z: float(np.log(np.linalg.det(Sigma))
                                + np.trace(Z.T @ np.linalg.inv(Sigma) @ Z) / SIZES["n"]), gauss)

    def two_layer(m, n, p):
        W1, W2, x, y = MS("W_1", p, n), MS("W_2", m, p), MS("x", n), MS("y", m)
        z = W2 * _sig(W1 * x)
        return -Tr(y.T * z) + _logsumexp(z, m), W1

    seed("two-layer", rf"""given: W_1 \in {R}^{{p \times n}}, W_2 \in {R}^{{m \times p}}, \mathbf{{x}} \in {R}^{{n}}, \mathbf{{y}} \in {R}^{{m}}
given: \mathbf{{y}} \text{{ one-hot}}
l = -\mathbf{{y}}^T \log \operatorname{{softmax}}(W_2 \sigma(W_1 \mathbf{{x}}))
wrt: W_1, W_2""", "W_1",
         {"W_1": (("p", "n"), ""), "W_2": (("m", "p"), ""), "x": (("n", 1), ""), "y": (("m", 1), "onehot")},
         lambda W_1, W_2, x, y: -sq(y.T @ np.log(softmax(W_2 @ sigmoid(W_1 @ x)))), two_layer,
         note="as softmax-ce; wrt W₁")

    def trYMY(m, n, p):
        W, X, M = MS("W", p, m), MS("X", m, n), MS("M", p, p)
        Y = _sig(W * X)
        return Tr(Y.T * M * Y), X

    seed("trYMY", rf"""given: W \in {R}^{{p \times m}}, X \in {R}^{{m \times n}}, M \in \mathbb{{S}}^{{p}}
Y = \sigma(WX)
f = \operatorname{{tr}}(Y^T M Y)
wrt: X""", "X", {"W": (("p", "m"), ""), "X": (("m", "n"), ""), "M": (("p", "p"), "sym")},
         lambda W, X, M: float(np.trace(sigmoid(W @ X).T @ M @ sigmoid(W @ X))), trYMY,
         note="σ via applyfunc")

    def xTBx(m, n, p):
        x = MS("x", n)
        return x.T * MS("B", n, n) * x, x

    seed("xTBx", rf"""given: \mathbf{{x}} \in {R}^{{n}}, B \in {R}^{{n \times n}}
f = \mathbf{{x}}^T B \mathbf{{x}}
wrt: \mathbf{{x}}""", "x", {"x": (("n", 1), ""), "B": (("n", "n"), "")}, lambda x, B: sq(x.T @ B @ x), xTBx)

    seed("ascii-decl", """given: a: m, X: m x n, b: n
f = a^T X b
wrt: X""", "X", {"a": (("m", 1), ""), "X": (("m", "n"), ""), "b": (("n", 1), "")},
         lambda a, X, b: sq(a.T @ X @ b), aTXb)

    def cov_objective(x, x_bar, Sigma):
        inv = np.linalg.inv(Sigma)
        return float(np.log(np.linalg.det(Sigma))
                     + sum(sq((x[i] - x_bar).T @ inv @ (x[i] - x_bar)) for i in range(len(x))) / len(x))

    seed("covariance-sum", r"""given: \mathbf{x}_i \in \mathbb{R}^{m}, \bar{\mathbf{x}} \in \mathbb{R}^{m}, \Sigma \in \mathbb{S}_{++}^{m}
l = \log|\Sigma| + \frac{1}{n}\sum_{i=1}^{n} (\mathbf{x}_i - \bar{\mathbf{x}})^T \Sigma^{-1} (\mathbf{x}_i - \bar{\mathbf{x}})
wrt: \Sigma""", "Sigma", {"x": (("n", "m", 1), ""), "x_bar": (("m", 1), ""), "Sigma": (("m", "m"), "spd")},
         cov_objective, gauss, note="no indexed families: tr(ZᵀΣ⁻¹Z)/n, Z = [xᵢ − x̄]",
         sympy_inputs=lambda v: {"Sigma": v["Sigma"], "Z": (v["x"][:, :, 0] - v["x_bar"].T).T})

    # ---- Matrix Cookbook identities
    decl_abX = rf"given: \mathbf{{a}} \in {R}^{{m}}, \mathbf{{b}} \in {R}^{{n}}, X \in {R}^{{m \times n}}"
    abX = {"a": (("m", 1), ""), "X": (("m", "n"), ""), "b": (("n", 1), "")}
    book("aᵀXb", decl_abX + "\nf = \\mathbf{a}^T X \\mathbf{b}\nwrt: X", "X", abX,
         lambda a, X, b: sq(a.T @ X @ b), aTXb)

    def aTXTb(m, n, p):
        X = MS("X", m, n)
        return MS("b", n).T * X.T * MS("a", m), X

    book("bᵀXᵀa", decl_abX + "\nf = \\mathbf{b}^T X^T \\mathbf{a}\nwrt: X", "X", abX,
         lambda a, X, b: sq(b.T @ X.T @ a), aTXTb)

    def trAX(m, n, p):
        X = MS("X", m, n)
        return Tr(MS("A", n, m) * X), X

    book("tr(AX)", rf"given: A \in {R}^{{n \times m}}, X \in {R}^{{m \times n}}"
         "\nf = \\operatorname{tr}(AX)\nwrt: X", "X", {"A": (("n", "m"), ""), "X": (("m", "n"), "")},
         lambda A, X: float(np.trace(A @ X)), trAX)

    def trXTA(m, n, p):
        X = MS("X", m, n)
        return Tr(X.T * MS("A", m, n)), X

    book("tr(XᵀA)", rf"given: A \in {R}^{{m \times n}}, X \in {R}^{{m \times n}}"
         "\nf = \\operatorname{tr}(X^T A)\nwrt: X", "X", {"A": (("m", "n"), ""), "X": (("m", "n"), "")},
         lambda A, X: float(np.trace(X.T @ A)), trXTA)

    def trAXB(m, n, p):
        X = MS("X", m, n)
        return Tr(MS("A", p, m) * X * MS("B", n, p)), X

    book("tr(AXB)", rf"given: A \in {R}^{{p \times m}}, X \in {R}^{{m \times n}}, B \in {R}^{{n \times p}}"
         "\nf = \\operatorname{tr}(AXB)\nwrt: X", "X",
         {"A": (("p", "m"), ""), "X": (("m", "n"), ""), "B": (("n", "p"), "")},
         lambda A, X, B: float(np.trace(A @ X @ B)), trAXB)

    def trXTX(m, n, p):
        X = MS("X", m, n)
        return Tr(X.T * X), X

    book("tr(XᵀX)", rf"given: X \in {R}^{{m \times n}}" "\nf = \\operatorname{tr}(X^T X)\nwrt: X", "X",
         {"X": (("m", "n"), "")}, lambda X: float(np.trace(X.T @ X)), trXTX)

    def trXAXT(m, n, p):
        X = MS("X", m, n)
        return Tr(X * MS("A", n, n) * X.T), X

    book("tr(XAXᵀ)", rf"given: A \in {R}^{{n \times n}}, X \in {R}^{{m \times n}}"
         "\nf = \\operatorname{tr}(X A X^T)\nwrt: X", "X", {"A": (("n", "n"), ""), "X": (("m", "n"), "")},
         lambda A, X: float(np.trace(X @ A @ X.T)), trXAXT)

    def bXTXc(m, n, p):
        X = MS("X", m, n)
        return MS("b", n).T * X.T * X * MS("c", n), X

    book("bᵀXᵀXc", rf"given: \mathbf{{b}}, \mathbf{{c}} \in {R}^{{n}}, X \in {R}^{{m \times n}}"
         "\nf = \\mathbf{b}^T X^T X \\mathbf{c}\nwrt: X", "X",
         {"b": (("n", 1), ""), "c": (("n", 1), ""), "X": (("m", "n"), "")},
         lambda b, c, X: sq(b.T @ X.T @ X @ c), bXTXc)

    def logdetX(m, n, p):
        X = MS("X", n, n)
        return log(det(X)), X

    book("log|X|", rf"given: X \in {R}^{{n \times n}}" "\nf = \\log|X|\nwrt: X", "X",
         {"X": (("n", "n"), "pd")}, lambda X: float(np.log(np.linalg.det(X))), logdetX)

    def trXinvA(m, n, p):
        X = MS("X", n, n)
        return Tr(X.inverse() * MS("A", n, n)), X

    book("tr(X⁻¹A)", rf"given: A, X \in {R}^{{n \times n}}" "\nf = \\operatorname{tr}(X^{-1} A)\nwrt: X", "X",
         {"A": (("n", "n"), ""), "X": (("n", "n"), "pd")},
         lambda A, X: float(np.trace(np.linalg.inv(X) @ A)), trXinvA)

    def aXinvb(m, n, p):
        X = MS("X", n, n)
        return MS("a", n).T * X.inverse() * MS("b", n), X

    book("aᵀX⁻¹b", rf"given: \mathbf{{a}}, \mathbf{{b}} \in {R}^{{n}}, X \in {R}^{{n \times n}}"
         "\nf = \\mathbf{a}^T X^{-1} \\mathbf{b}\nwrt: X", "X",
         {"a": (("n", 1), ""), "b": (("n", 1), ""), "X": (("n", "n"), "pd")},
         lambda a, b, X: sq(a.T @ np.linalg.inv(X) @ b), aXinvb)

    def quad(m, n, p):
        X = MS("X", m, n)
        r = X * MS("b", n) + MS("c", m)
        return r.T * MS("D", m, m) * r, X

    book("(Xb+c)ᵀD(Xb+c)", rf"given: X \in {R}^{{m \times n}}, \mathbf{{b}} \in {R}^{{n}}, \mathbf{{c}} \in {R}^{{m}}, D \in {R}^{{m \times m}}"
         "\nf = (X\\mathbf{b} + \\mathbf{c})^T D (X\\mathbf{b} + \\mathbf{c})\nwrt: X", "X",
         {"X": (("m", "n"), ""), "b": (("n", 1), ""), "c": (("m", 1), ""), "D": (("m", "m"), "")},
         lambda X, b, c, D: sq((X @ b + c).T @ D @ (X @ b + c)), quad)

    book("‖X‖²_F", rf"given: X \in {R}^{{m \times n}}" "\nf = \\|X\\|_F^2\nwrt: X", "X",
         {"X": (("m", "n"), "")}, lambda X: float((X * X).sum()), trXTX, note="as tr(XᵀX)")

    def xAx(m, n, p):
        x = MS("x", n)
        return x.T * MS("A", n, n) * x, x

    book("xᵀAx", rf"given: \mathbf{{x}} \in {R}^{{n}}, A \in {R}^{{n \times n}}"
         "\nf = \\mathbf{x}^T A \\mathbf{x}\nwrt: \\mathbf{x}", "x",
         {"x": (("n", 1), ""), "A": (("n", "n"), "")}, lambda x, A: sq(x.T @ A @ x), xAx)

    def exptr(m, n, p):
        X = MS("X", m, n)
        return exp(Tr(X.T * X)), X

    book("exp tr(XᵀX)", rf"given: X \in {R}^{{m \times n}}"
         "\nf = \\exp(\\operatorname{tr}(X^T X))\nwrt: X", "X",
         {"X": (("m", "n"), "small")}, lambda X: float(np.exp(np.trace(X.T @ X))), exptr)
    return cases


@dataclass
class Row:
    case: Case
    t_plain: float = math.nan
    t_check: float = math.nan
    t_sympy: float = math.nan
    t_sympy_full: float = math.nan
    t_cold: float = math.nan  # mdderiv with its memos emptied before every call
    t_sympy_full_cold: float = math.nan  # SymPy all with its cache emptied before every call
    mdderiv_ok: bool = False
    mdderiv_err: str = ""
    sympy_status: str = ""
    sympy_correct: bool = False
    sympy_result: str = ""


def _mdderiv_value(case: Case, vals: dict) -> np.ndarray:
    d = mdderiv.derive(case.body, check=False)
    sources = d.numpy()
    for result, src in zip(d.results, sources):
        if mdderiv_identifier(result.wrt) == case.wrt and result.kind == "gradient":
            scope = {"np": np, **vals, **SIZES}
            return np.asarray(eval(src, scope), dtype=float)  # our own engine's output
    raise LookupError(f"no gradient for {case.wrt}")


def mdderiv_identifier(symbol: Any) -> str:
    return getattr(symbol, "name", str(symbol))


def _is_zero(expr: Any) -> bool:
    sp = _sp()
    if expr == 0 or isinstance(expr, sp.ZeroMatrix):
        return True
    return bool(getattr(expr, "is_ZeroMatrix", False))


def _sympy_value(result: Any, vals: dict) -> np.ndarray:
    sp = _sp()
    if _is_zero(result):
        return np.zeros(1)
    rep = {}
    for s in result.free_symbols:
        if isinstance(s, sp.MatrixSymbol):
            rep[s] = sp.ImmutableMatrix(np.asarray(vals[s.name]))
    value = result.xreplace(rep).doit()
    if hasattr(value, "as_explicit"):
        value = value.as_explicit()
    return np.array(value.tolist(), dtype=float)


def run_part1(repeats: int, rng: np.random.Generator, log: Callable[[str], None]) -> list[Row]:
    sp = _sp()
    m, n, p = sp.symbols("m n p", integer=True, positive=True)
    rows = []
    for case in _cases():
        row = Row(case)
        rows.append(row)
        body = case.body
        # mdderiv: correctness at random inputs, then timing
        vals = {k: draw(shape, kind, rng) for k, (shape, kind) in case.inputs.items()}
        symmetric = case.inputs[case.wrt][1] in ("spd", "sym")
        want = fd_grad(case.objective, vals, case.wrt)
        try:
            err = rel_error(_mdderiv_value(case, vals), want, symmetric)
            row.mdderiv_ok = err < 1e-5
            if not row.mdderiv_ok:
                row.mdderiv_err = f"rel. error {err:.1e}"
        except Exception as e:  # report, keep going
            row.mdderiv_err = f"{type(e).__name__}: {e}"
        def cold(body: str = body) -> str:
            clear_memos()  # as the first block of a process: nothing remembered from earlier calls
            return mdderiv.derive(body, check=False).latex()

        fns = [lambda body=body: mdderiv.derive(body, check=False).latex(),
               lambda body=body: mdderiv.derive(body, check=True).latex(), cold]
        # SymPy: symbolic dimensions for timing; concrete ones to check the values
        result = None
        if case.sympy is None:
            row.sympy_status = "not expressible"
        else:
            expr, var = case.sympy(m, n, p)
            try:
                result = expr.diff(var)
                row.sympy_result = str(result)

                def full(build=case.sympy):
                    e, v = build(m, n, p)
                    return sp.latex(e.diff(v))

                def full_cold(build=case.sympy):
                    sp.core.cache.clear_cache()
                    e, v = build(m, n, p)
                    return sp.latex(e.diff(v))

                fns += [lambda expr=expr, var=var: expr.diff(var), full, full_cold]
            except Exception as e:
                row.sympy_status = f"error: {type(e).__name__}"
            if result is not None:
                row.sympy_status, row.sympy_correct = _judge_sympy(case, result, vals, want, symmetric)
        try:
            times = timed_together(fns, repeats) + [math.nan, math.nan, math.nan]
            row.t_plain, row.t_check, row.t_cold, row.t_sympy, row.t_sympy_full, row.t_sympy_full_cold = times[:6]
        except Exception as e:
            row.mdderiv_err = row.mdderiv_err or f"{type(e).__name__}: {e}"
        log(f"  {case.name:18s} mdderiv {ms(row.t_plain):>7s} ms  +check {ms(row.t_check):>7s} ms  "
            f"SymPy {ms(row.t_sympy):>7s} ms  build+diff+latex {ms(row.t_sympy_full):>7s} ms  {row.sympy_status}")
    return rows


def _judge_sympy(case: Case, result: Any, vals: dict, want: np.ndarray, symmetric: bool) -> tuple[str, bool]:
    sp = _sp()
    if _is_zero(result):
        return ("returns 0 ✗", False) if np.abs(want).max() > 1e-8 else ("✓", True)
    four_d = len(getattr(result, "shape", ())) > 2
    sv = case.sympy_inputs(vals) if case.sympy_inputs else vals
    try:
        expr_c, var_c = case.sympy(SIZES["m"], SIZES["n"], SIZES["p"])
        value = _sympy_value(expr_c.diff(var_c), sv)
    except Exception as e:
        return f"wrong: {type(e).__name__} at concrete sizes ✗", False
    err = rel_error(value, want, symmetric)
    if err > 1e-5:
        return f"wrong values (rel. error {err:.0e}) ✗", False
    if four_d:
        return "right values, left as a 4-D array expression", True
    if any(isinstance(a, (sp.Lambda,)) for a in sp.preorder_traversal(result)):
        return "✓ (elementwise Lambda left in)", True
    return "✓", True


# --------------------------------------------------------------------------- part 4: long traces


TRACE_GIVEN = r"given: X \in \mathbb{R}^{m \times n}, B \in \mathbb{R}^{n \times p}, C \in \mathbb{R}^{m \times m}"


def trace_body(factors: int) -> str:
    """``tr(B^T X^T C X X^T X ⋯ X^T C X B)`` with ``factors`` factors (8 + 2k): the
    long chain of X^T X that once made the engine hang (issue 11 §4)."""
    middle = " ".join(["X^T X"] * ((factors - 8) // 2))
    return f"{TRACE_GIVEN}\nf = \\operatorname{{tr}}(B^T X^T C X {middle} X^T C X B)\nwrt: X"


@dataclass
class TraceRow:
    factors: int
    t_plain: float = math.nan
    t_check: float = math.nan
    t_sympy: float = math.nan
    error: str = ""


def run_part4(factor_counts: list[int], sympy_up_to: int, repeats: int,
              log: Callable[[str], None]) -> list[TraceRow]:
    sp = _sp()
    m, n, p = sp.symbols("m n p", integer=True, positive=True)
    X, B, C = sp.MatrixSymbol("X", m, n), sp.MatrixSymbol("B", n, p), sp.MatrixSymbol("C", m, m)
    rows = []
    for count in factor_counts:
        row = TraceRow(count)
        rows.append(row)
        body = trace_body(count)
        try:
            # the check on: the result agrees with finite differences, or this raises
            row.t_plain, row.t_check = timed_together(
                [lambda body=body: mdderiv.derive(body, check=False).latex(),
                 lambda body=body: mdderiv.derive(body, check=True).latex()], repeats, budget=5.0)
        except Exception as e:  # report, keep going
            row.error = f"{type(e).__name__}: {e}"
        if count <= sympy_up_to:
            k = (count - 8) // 2
            expr = sp.Trace(sp.MatMul(B.T, X.T, C, X, *([X.T, X] * k), X.T, C, X, B))
            start = time.perf_counter()  # once: SymPy takes seconds here
            expr.diff(X)
            row.t_sympy = time.perf_counter() - start
        log(f"  {count:3d} factors  mdderiv {ms(row.t_plain):>7s} ms  +check {ms(row.t_check):>7s} ms  "
            f"SymPy {ms(row.t_sympy):>7s} ms {row.error}")
    return rows


def trace_report(rows: list[TraceRow]) -> list[str]:
    out = ["### Long traces", "",
           "`tr(B^T X^T C X X^T X ⋯ X^T C X B)` with a growing chain of `X^T X` (X m×n), wrt X — "
           "the objective that once made the engine hang. Body to LaTeX; *+ check* with the numerical "
           "check on. *SymPy `.diff`*: `Trace(MatMul(…)).diff(X)` on `MatrixSymbol`s, timed once "
           "(it takes seconds).", "",
           "| factors | mdderiv ms | + check ms | SymPy `.diff` ms | speed-up vs `.diff` |",
           "| ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        if r.error:
            out.append(f"| {r.factors} | error: {_cell(r.error)} | — | {ms(r.t_sympy)} | — |")
        else:
            out.append(f"| {r.factors} | {ms(r.t_plain)} | {ms(r.t_check)} | {ms(r.t_sympy)} | "
                       f"{ratio(r.t_sympy, r.t_plain)} |")
    pts = [(r.factors, r.t_plain) for r in rows if r.factors >= 16 and not math.isnan(r.t_plain)]
    forty = next((r for r in rows if r.factors == 40), None)
    out.append("")
    if len(pts) >= 2:
        k = float(np.polyfit(np.log([a for a, _ in pts]), np.log([b for _, b in pts]), 1)[0])
        out.append(f"Fitted exponent k in time ∝ factors^k (16 factors and more): **{k:.2f}**.")
    if forty is not None and not math.isnan(forty.t_check):
        verdict = "met" if forty.t_check < 1.0 else "missed"
        out.append(f"40 factors: {ms(forty.t_plain)} ms, {ms(forty.t_check)} ms with the check "
                   f"(target under 1 s: {verdict}).")
    out.append("Every block also has a time budget (option `timeout`, 10 s by default): a block "
               "still deriving then is stopped with an error at its line, and the build goes on.")
    return out


# --------------------------------------------------------------------------- part 2: depth


def depth_body(L: int, form: str) -> str:
    # LaTeX braces read better beside "+" than doubled inside f-strings
    def W(k: int) -> str:
        return "W_{" + str(k) + "}"

    def real(rows: str, cols: str) -> str:
        return r"\in \mathbb{R}^{" + rows + r" \times " + cols + "}"

    decl = [W(1) + " " + real("h" if L > 1 else "c", "d")]
    decl += [W(k) + " " + real("h", "h") for k in range(2, L)]
    if L > 1:
        decl.append(W(L) + " " + real("c", "h"))
    decl += [r"\mathbf{x} \in \mathbb{R}^{d}", r"\mathbf{y} \in \mathbb{R}^{c}"]
    lines = ["given: " + ", ".join(decl), r"given: \mathbf{y} \text{ one-hot}"]
    if form == "definitions":
        prev = r"\mathbf{x}"
        for k in range(1, L):
            layer = r"\mathbf{a}_{" + str(k) + "}"
            lines.append(layer + r" = \sigma(" + W(k) + " " + prev + ")")
            prev = layer
        inner = prev
    else:
        inner = r"\mathbf{x}"
        for k in range(1, L):
            inner = r"\sigma(" + W(k) + " " + inner + ")"
    lines.append(r"l = -\mathbf{y}^T \log \operatorname{softmax}(" + W(L) + " " + inner + ")")
    lines.append("wrt: " + W(1) if L == 1 else "wrt: " + W(1) + ", " + W(L))
    return "\n".join(lines)


@dataclass
class DepthRow:
    form: str
    L: int
    t_plain: float = math.nan
    t_check: float = math.nan
    latex_kb: float = math.nan
    error: str = ""


def run_part2(depths: list[int], repeats: int, log: Callable[[str], None]) -> list[DepthRow]:
    rows = []
    for L in depths:
        fns, timed_rows = [], []
        for form in ("definitions", "nested"):
            row = DepthRow(form, L)
            rows.append(row)
            body = depth_body(L, form)
            try:
                row.latex_kb = len(mdderiv.derive(body, check=False).latex()) / 1000
            except mdderiv.DeriveError as e:
                row.error = e.message
                continue
            fns += [lambda body=body: mdderiv.derive(body, check=False).latex(),
                    lambda body=body: mdderiv.derive(body, check=True).latex()]
            timed_rows.append(row)
        times = timed_together(fns, repeats, budget=8.0)
        for i, row in enumerate(timed_rows):
            row.t_plain, row.t_check = times[2 * i], times[2 * i + 1]
        for row in rows[-2:]:
            log(f"  {row.form:11s} L={L:<3d} {ms(row.t_plain):>8s} ms  +check {ms(row.t_check):>8s} ms  "
                f"{row.latex_kb:6.1f} kB LaTeX  {row.error}")
    rows.sort(key=lambda r: (r.form != "definitions", r.L))
    return rows


def fit_exponent(rows: list[DepthRow], form: str, min_L: int) -> float:
    pts = [(r.L, r.t_plain) for r in rows if r.form == form and min_L <= r.L and not math.isnan(r.t_plain)]
    if len(pts) < 2:
        return math.nan
    x = np.log([p[0] for p in pts])
    y = np.log([p[1] for p in pts])
    return float(np.polyfit(x, y, 1)[0])


def profile_depth(L: int, top: int = 15) -> None:
    """Print where the time of the L-layer derivation goes (``--profile L``)."""
    import cProfile
    import pstats

    for form in ("definitions", "nested"):
        body = depth_body(L, form)
        mdderiv.derive(depth_body(2, form), check=False).latex()
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            mdderiv.derive(body, check=False).latex()
        except mdderiv.DeriveError as e:
            print(f"{form}, L = {L}: {e.message}")
            continue
        finally:
            profiler.disable()
        print(f"\n===== {form}, L = {L}: top {top} by own time, then by cumulative time")
        stats = pstats.Stats(profiler, stream=sys.stdout).strip_dirs()
        stats.sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(top)


# --------------------------------------------------------------------------- part 3: Hessians


@dataclass
class HessCase:
    name: str
    body: str
    wrt: str
    make: Callable[[int, np.random.Generator], dict] | None = None  # inputs at size n
    torch_f: Callable[..., Any] | None = None  # (wrt tensor, others as tensors) -> scalar
    sizes: str = "vector"  # "vector": H is n×n; "matrix": H is n²×n²
    size_note: str = ""


def _hess_cases() -> list[HessCase]:
    R = r"\mathbb{R}"

    def t():
        import torch

        return torch

    out = [
        HessCase("xᵀAx", rf"""given: \mathbf{{x}} \in {R}^{{n}}, A \in {R}^{{n \times n}}
f = \mathbf{{x}}^T A \mathbf{{x}}
wrt: \mathbf{{x}}""", "x",
                 lambda n, rng: {"x": rng.standard_normal((n, 1)), "A": rng.standard_normal((n, n))},
                 lambda x, A: x @ A @ x, size_note="A n×n"),
        HessCase("‖Xw − y‖²", rf"""given: X \in {R}^{{m \times n}}, \mathbf{{w}} \in {R}^{{n}}, \mathbf{{y}} \in {R}^{{m}}
l = \|X\mathbf{{w}} - \mathbf{{y}}\|^2
wrt: \mathbf{{w}}""", "w",
                 lambda n, rng: {"X": rng.standard_normal((2 * n, n)), "w": rng.standard_normal((n, 1)),
                                 "y": rng.standard_normal((2 * n, 1))},
                 lambda w, X, y: ((X @ w - y) ** 2).sum(), size_note="X 2n×n"),
        HessCase("logistic, one sample: log(1 + exp(−y wᵀx))", rf"""given: \mathbf{{w}} \in {R}^{{n}}, \mathbf{{x}} \in {R}^{{n}}, y \in {R}
l = \log(1 + \exp(-y\, \mathbf{{w}}^T \mathbf{{x}}))
wrt: \mathbf{{w}}""", "w",
                 lambda n, rng: {"w": rng.standard_normal((n, 1)) / math.sqrt(n),
                                 "x": rng.standard_normal((n, 1)), "y": 1.0},
                 lambda w, x, y: t().log1p(t().exp(-y * (w @ x))), size_note="y = 1"),
        HessCase("logistic, one sample: −log σ(y wᵀx)", rf"""given: \mathbf{{w}} \in {R}^{{n}}, \mathbf{{x}} \in {R}^{{n}}, y \in {R}
l = -\log \sigma(y\, \mathbf{{w}}^T \mathbf{{x}})
wrt: \mathbf{{w}}""", "w"),
        HessCase("logistic, batch: 1ᵀlog(1 + exp(−y ⊙ Xw))", rf"""given: \mathbf{{w}} \in {R}^{{n}}, X \in {R}^{{m \times n}}, \mathbf{{y}} \in {R}^{{m}}
l = \mathbf{{1}}^T \log(\mathbf{{1}} + \exp(-\mathbf{{y}} \odot X\mathbf{{w}}))
wrt: \mathbf{{w}}""", "w",
                 lambda n, rng: {"w": rng.standard_normal((n, 1)) / math.sqrt(n),
                                 "X": rng.standard_normal((2 * n, n)),
                                 "y": rng.choice([-1.0, 1.0], size=(2 * n, 1))},
                 lambda w, X, y: t().log1p(t().exp(-y * (X @ w))).sum(), size_note="X 2n×n"),
        HessCase("logistic, batch: −1ᵀlog σ(y ⊙ Xw)", rf"""given: \mathbf{{w}} \in {R}^{{n}}, X \in {R}^{{m \times n}}, \mathbf{{y}} \in {R}^{{m}}
l = -\mathbf{{1}}^T \log \sigma(\mathbf{{y}} \odot X\mathbf{{w}})
wrt: \mathbf{{w}}""", "w"),
        HessCase("softmax CE: −yᵀlog softmax(a)", rf"""given: \mathbf{{a}} \in {R}^{{n}}, \mathbf{{y}} \in {R}^{{n}}
given: \mathbf{{y}} \text{{ one-hot}}
l = -\mathbf{{y}}^T \log\operatorname{{softmax}}(\mathbf{{a}})
wrt: \mathbf{{a}}""", "a",
                 lambda n, rng: {"a": rng.standard_normal((n, 1)), "y": np.eye(n)[:, [1]]},
                 lambda a, y: -(y * t().log_softmax(a, dim=0)).sum()),
        HessCase("log|X|", rf"""given: X \in {R}^{{n \times n}}
f = \log|X|
wrt: X""", "X",
                 lambda n, rng: {"X": rng.standard_normal((n, n)) / 2 + n * np.eye(n)},
                 lambda X: t().logdet(X), sizes="matrix", size_note="H is n²×n²"),
        HessCase("log|Σ|, Σ ≻ 0", r"""given: \Sigma \in \mathbb{S}_{++}^{n}
f = \log|\Sigma|
wrt: \Sigma""", "Sigma"),
    ]
    return out


@dataclass
class HessDeriveRow:
    case: HessCase
    t_plain: float = math.nan
    t_check: float = math.nan
    numpy: str = ""
    error: str = ""


@dataclass
class HessEvalRow:
    name: str
    n: int
    note: str
    t_closed: float = math.nan
    t_fwdrev: float = math.nan  # torch.func.hessian = jacfwd(jacrev(f))
    t_revrev: float = math.nan  # jacrev(jacrev(f))
    max_rel_diff: float = math.nan
    error: str = ""

    @property
    def t_best(self) -> float:
        times = [t for t in (self.t_fwdrev, self.t_revrev) if not math.isnan(t)]
        return min(times) if times else math.nan


def _hessian_source(body: str) -> str:
    d = mdderiv.derive(body, check=False, hessian=True)
    for result, src in zip(d.results, d.numpy()):
        if result.kind == "hessian":
            return src
    raise LookupError("no Hessian among the results")


def run_part3(repeats: int, vec_sizes: list[int], mat_sizes: list[int],
              log: Callable[[str], None]) -> tuple[list[HessDeriveRow], list[HessEvalRow], str]:
    drows: list[HessDeriveRow] = []
    for case in _hess_cases():
        row = HessDeriveRow(case)
        drows.append(row)
        try:
            row.numpy = _hessian_source(case.body)
            row.t_plain, row.t_check = timed_together(
                [lambda body=case.body: mdderiv.derive(body, check=False, hessian=True).latex(),
                 lambda body=case.body: mdderiv.derive(body, check=True, hessian=True).latex()], repeats)
        except Exception as e:
            row.error = f"{type(e).__name__}: {e}"
        log(f"  {case.name:45s} {ms(row.t_plain):>7s} ms  +check {ms(row.t_check):>7s} ms  {row.error}")

    try:
        import torch
        from torch.func import hessian, jacrev
    except ImportError:
        return drows, [], "PyTorch is not installed (`pip install -e .[bench]`); closed-form evaluation skipped."
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(THREADS)
    backend = (f"PyTorch {torch.__version__.split('+')[0]} (eager, CPU, float64, {torch.get_num_threads()} "
               f"thread(s))")

    erows: list[HessEvalRow] = []
    rng = np.random.default_rng(11)
    for row in drows:
        case = row.case
        if case.make is None or not row.numpy:
            continue
        names = list(case.make(2, rng))
        closed = eval(f"lambda {', '.join(names)}: {row.numpy}", {"np": np})  # our own engine's output
        sizes = mat_sizes if case.sizes == "matrix" else vec_sizes
        for n in sizes:
            er = HessEvalRow(case.name, n, case.size_note)
            erows.append(er)
            vals = case.make(n, rng)
            # PyTorch gets column vectors as 1-D tensors: its Hessian of an (n, 1) input is ~3× slower
            tens = {k: torch.tensor(v.reshape(-1) if v.ndim == 2 and v.shape[1] == 1 else v)
                    if isinstance(v, np.ndarray) else v for k, v in vals.items()}
            others = {k: v for k, v in tens.items() if k != case.wrt}
            def f(v, f=case.torch_f, wrt=case.wrt, others=others):
                return f(**{wrt: v}, **others)

            fwdrev, revrev = hessian(f), jacrev(jacrev(f))
            x = tens[case.wrt]
            try:
                er.t_closed, er.t_fwdrev, er.t_revrev = timed_together(
                    [lambda closed=closed, vals=vals: closed(**vals),
                     lambda H=fwdrev, x=x: H(x), lambda H=revrev, x=x: H(x)], repeats, budget=12.0)
                H_closed = np.asarray(closed(**vals), dtype=float)
                for T in (fwdrev(x), revrev(x)):
                    if case.sizes == "matrix":
                        H_torch = T.permute(1, 0, 3, 2).reshape(n * n, n * n).numpy()  # vec stacks columns
                    else:
                        H_torch = T.reshape(n, n).numpy()
                    diff = float(np.abs(H_closed - H_torch).max() / max(1e-300, np.abs(H_torch).max()))
                    er.max_rel_diff = diff if math.isnan(er.max_rel_diff) else max(er.max_rel_diff, diff)
            except Exception as e:
                er.error = f"{type(e).__name__}: {e}"
            log(f"  {case.name:45s} n={n:<5d} closed {ms(er.t_closed):>8s} ms  hessian {ms(er.t_fwdrev):>8s} ms  "
                f"jacrev² {ms(er.t_revrev):>8s} ms  {ratio(er.t_best, er.t_closed):>6s}  "
                f"diff {er.max_rel_diff:.1e} {er.error}")
    return drows, erows, backend


# --------------------------------------------------------------------------- report


def machine() -> dict[str, str]:
    import sympy

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {
        "date": dt.date.today().isoformat(),
        "cpu": f"{cpu}, {os.cpu_count()} CPU(s)",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "sympy": sympy.__version__,
        "mdderiv": mdderiv.__version__,
        "load": LOAD[0] if LOAD else "?",
    }
    if hasattr(os, "getloadavg"):
        info["load"] = f"{info['load']} at the start, {os.getloadavg()[0]:.2f} at the end"
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        info["torch"] = "not installed"
    return info


def _cell(text: str) -> str:
    return text.replace("|", r"\|")


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


def report(args, info, rows, drows, hrows, herows, backend, elapsed, trows=()) -> str:
    L: list[str] = []
    w = L.append
    repeats = args.repeats
    med = lambda xs: statistics.median(xs) if xs else math.nan
    timed_rows = [r for r in rows if not math.isnan(r.t_plain) and not math.isnan(r.t_sympy)]
    right = [r for r in timed_rows if r.sympy_correct]

    def speedups(sel, mine, theirs):
        return [getattr(r, theirs) / getattr(r, mine) for r in sel
                if not math.isnan(getattr(r, mine)) and not math.isnan(getattr(r, theirs))]

    n_sym_bad = sum(1 for r in rows if not r.sympy_correct)
    n_md_bad = sum(1 for r in rows if not r.mdderiv_ok)

    w("## Engine")
    w("")
    w(f"`benchmarks/engine.py{' --quick' if args.quick else ''}`: measured {info['date']} on {info['cpu']}, "
      f"Python {info['python']}, NumPy {info['numpy']}, SymPy {info['sympy']}, PyTorch {info['torch']}, "
      f"mdderiv {info['mdderiv']}; BLAS and PyTorch limited to {THREADS} thread(s). One process, "
      f"`time.perf_counter`, median of {repeats} runs after one warm-up run (slow items: at least 3 runs); "
      f"the things compared in one row are timed in interleaved rounds, so they see the same load. "
      f"Whole benchmark: {elapsed:.0f} s; load average (1 min) {info['load']}.")
    w("")
    w("### Derive time vs SymPy")
    w("")
    w("*mdderiv*: `mdderiv.derive(body, check=False).latex()` — parsing the block, shapes, derivation, "
      "rendered LaTeX; *+ check* is the same with the numerical check on. *SymPy `.diff`*: `expr.diff(X)` "
      "alone, on the expression built beforehand from `MatrixSymbol`s with symbolic dimensions — no "
      "parsing, no printing, so it favours SymPy; *SymPy all* builds the expression, differentiates and "
      "prints the result with `sympy.latex` (the like-for-like pipeline). Speed-ups are SymPy time / "
      "mdderiv time (check off). Every call after the first finds what earlier calls left in memory "
      "(mdderiv's memos of tokens, simplifications and LaTeX; SymPy's cache): the *cold* columns empty "
      "both before every call (`mdderiv.pipeline.clear_memos()`, `sympy.core.cache.clear_cache()`), "
      "as for the first block a process meets. Both results are evaluated at random inputs "
      "(m, n, p = 3, 4, 5) and compared with central finite differences; *SymPy result* says what "
      "SymPy gave.")
    w("")
    w("| case | mdderiv ms | + check ms | mdderiv cold ms | SymPy `.diff` ms | SymPy all ms | SymPy all cold ms "
      "| speed-up vs `.diff` | speed-up vs all | speed-up cold vs cold | SymPy result | SymPy form |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for group in ("seed", "cookbook"):
        for r in rows:
            if r.case.group != group:
                continue
            name = r.case.name if group == "cookbook" else f"seed: {r.case.name}"
            if not r.mdderiv_ok:
                name += f" (mdderiv wrong: {r.mdderiv_err})"
            w(f"| {_cell(name)} | {ms(r.t_plain)} | {ms(r.t_check)} | {ms(r.t_cold)} | {ms(r.t_sympy)} | "
              f"{ms(r.t_sympy_full)} | {ms(r.t_sympy_full_cold)} | {ratio(r.t_sympy, r.t_plain)} | "
              f"{ratio(r.t_sympy_full, r.t_plain)} | {ratio(r.t_sympy_full_cold, r.t_cold)} | "
              f"{_cell(r.sympy_status)} | {_cell(r.case.note)} |")
    w("")
    w("Median speed-up of mdderiv over SymPy (target ≥ 15×):")
    w("")
    w("| cases | vs `.diff` | vs `.diff`, mdderiv check on | vs all | vs all, mdderiv check on | cold vs cold, all |")
    w("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, sel in ((f"SymPy right ({len(right)})", right), (f"all ({len(timed_rows)})", timed_rows)):
        cells = [med(speedups(sel, mine, theirs)) for theirs in ("t_sympy", "t_sympy_full")
                 for mine in ("t_plain", "t_check")]
        cells.append(med(speedups(sel, "t_cold", "t_sympy_full_cold")))
        w(f"| {label} | " + " | ".join(f"{c:.1f}×" for c in cells) + " |")
    w("")
    w(f"mdderiv's gradient was right in {len(rows) - n_md_bad} of {len(rows)} cases, SymPy's in "
      f"{len(rows) - n_sym_bad} (the 4-D array answers counted as right). Rows where SymPy returns 0 "
      f"take it almost no time, which pulls the *all* medians down.")
    w("")
    w("### Depth scaling")
    w("")
    w("An L-layer network, `l = -y^T log softmax(W_L σ(… σ(W_1 x)))`, every W_k declared, "
      "wrt W_1 and W_L; written with one definition per layer (`\\mathbf{a}_k = \\sigma(W_k \\mathbf{a}_{k-1})`) "
      "and as one nested expression. Time from body to LaTeX.")
    w("")
    w("| L | definitions ms | + check ms | LaTeX kB | nested ms | + check ms | LaTeX kB |")
    w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    by = {(r.form, r.L): r for r in drows}
    for Ld in sorted({r.L for r in drows}):
        cells = []
        for form in ("definitions", "nested"):
            r = by[(form, Ld)]
            if r.error:
                cells += [f"error: {_cell(r.error)}", "—", "—"]
            else:
                cells += [ms(r.t_plain), ms(r.t_check), f"{r.latex_kb:.1f}"]
        w(f"| {Ld} | " + " | ".join(cells) + " |")
    e_def = fit_exponent(drows, "definitions", 8)
    e_nest = fit_exponent(drows, "nested", 8)
    e_def_lo = fit_exponent([r for r in drows if r.L <= 16], "definitions", 1)
    w("")
    w(f"Fitted exponent k in time ∝ L^k (log–log least squares over L ≥ 8): definitions "
      f"**{e_def:.2f}**, nested **{e_nest:.2f}** (k = 1 is linear). "
      f"Over L ≤ 16 the definitions form fits {e_def_lo:.2f}.")
    w("")
    w(SCALING_NOTE)
    w("")
    w("### Hessians")
    w("")
    w("Derivation with `hessian: true` (gradient and Hessian), body to LaTeX:")
    w("")
    w("| objective | derive ms | + check ms | Hessian as NumPy |")
    w("| --- | ---: | ---: | --- |")
    for r in hrows:
        src = r.numpy if len(r.numpy) <= 90 else r.numpy[:87] + "…"
        w(f"| {_cell(r.case.name)} | {ms(r.t_plain)} | {ms(r.t_check)} | "
          f"{_cell(r.error) if r.error else _code(src)} |")
    w("")
    if herows:
        w(f"Evaluating the Hessian at size n: the derived closed form (its NumPy source `eval`'d once into a "
          f"function) vs automatic differentiation in {backend}: `torch.func.hessian(f)` (forward over "
          f"reverse) and `jacrev(jacrev(f))` (reverse over reverse), each built once and called on the "
          f"variable; vectors are 1-D tensors there. *faster by* compares the closed form with the faster "
          f"of the two. *diff* is the largest entry-wise difference between the closed-form and the "
          f"autodiff Hessians, relative to the largest entry.")
        w("")
        w("| objective | n | sizes | closed form ms | `hessian` ms | `jacrev(jacrev)` ms | "
          "closed form faster by | diff |")
        w("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
        for r in herows:
            diff = f"{r.max_rel_diff:.0e}" if not math.isnan(r.max_rel_diff) else _cell(r.error or "—")
            w(f"| {_cell(r.name)} | {r.n} | {_cell(r.note)} | {ms(r.t_closed)} | {ms(r.t_fwdrev)} | "
              f"{ms(r.t_revrev)} | {ratio(r.t_best, r.t_closed)} | {diff} |")
        sp_ = [r.t_best / r.t_closed for r in herows if not math.isnan(r.t_best) and not math.isnan(r.t_closed)]
        main_ = [r.t_best / r.t_closed for r in herows
                 if r.name in ("xᵀAx", "‖Xw − y‖²") and not math.isnan(r.t_best) and not math.isnan(r.t_closed)]
        if sp_:
            w("")
            w(f"Median over all rows: the closed form is {statistics.median(sp_):.0f}× faster than the faster "
              f"autodiff (range {min(sp_):.1f}× – {max(sp_):.0f}×)"
              + (f"; for xᵀAx and ‖Xw − y‖² {min(main_):.0f}× – {max(main_):.0f}×." if main_ else "."))
        w("")
        w(HESSIAN_NOTE)
    else:
        w(backend)
    w("")
    if trows:
        L.extend(trace_report(list(trows)))
        w("")
    w("Reproduce: `pip install -e .[bench]` (PyTorch, CPU wheel) then `python benchmarks/engine.py` "
      "(`--quick` for a reduced run, `--no-write` to only print, `--repeats N`, `--threads N`; "
      "`--profile L` prints a cProfile of the L-layer derivation; `--traces-only` runs only the long traces). "
      "Other processes on the machine add noise; compare rows from one run.")
    return "\n".join(L)


SCALING_NOTE = (
    "Where the time goes (cProfile, `--profile 64`): in the definitions form, one chain-rule "
    "stage per layer, each of about the same size, so the time grows linearly; the definitions "
    "are folded through an index prepared once, intermediate gradients keep their "
    "placeholders until the final results, and equal subtrees share their children after a "
    "comparison, so repeated deep comparisons stay cheap. The nested form composes deeply, so "
    "mdderiv names its layers (`names: auto`) and derives backwards through the names, one "
    "stage per name as in the definitions form, with each weight's gradient written out once "
    "more at the end; with `names: none` the derivation shown grows faster than L (every "
    "step repeats the nested rest of the network). The parser refuses nesting deeper than "
    "100 levels, which L = 64 exceeds — write deep networks with definitions."
)

HESSIAN_NOTE = (
    "Notes. For xᵀAx the closed form is just `A + A.T`; autodiff still traces the function and "
    "runs n vectorised passes. The generated NumPy scales rows or columns for diagonal "
    "matrices and permutes for the commutation matrix (no dense n×n diagonal or n²×n² "
    "permutation products). Where the closed form is only a few times faster, both sides are "
    "dominated by the same dense products (XᵀX at n = 1000). `torch.func.hessian` (forward "
    "over reverse) is much slower than `jacrev(jacrev)` for ‖Xw − y‖² at large n on this CPU, "
    "hence both columns."
)


def _place(page: str, block: str) -> str:
    """Where the section goes on a page without its markers."""
    if page.startswith("# "):  # keep the page title first: markers right under it
        first, _, rest = page.partition("\n")
        return f"{first}\n\n{block}\n" + rest
    return f"{block}\n\n" + page


def write_section(path: Path, section: str) -> None:
    """Put ``section`` between the markers; every other byte of the file stays."""
    write_between(path, START, END, section, _place)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="reduced run (< 30 s)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per item (default 15, quick 3)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS / PyTorch threads (default 1)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--profile", type=int, metavar="L", default=None,
                        help="only profile the L-layer derivation (both forms) with cProfile and exit")
    parser.add_argument("--traces-only", action="store_true",
                        help="only part 4 (long traces); print its table, write nothing")
    args = parser.parse_args(argv)
    if args.profile:
        profile_depth(args.profile)
        return 0
    if args.traces_only:
        mdderiv.derive(trace_body(8)).latex()  # the engine's lazy imports, once
        rows = run_part4([8, 16, 24, 40, 56, 72], 40, args.repeats or 5,
                         lambda s: print(s, file=sys.stderr, flush=True))
        print("\n".join(trace_report(rows)))
        return 0
    if args.repeats is None:
        args.repeats = 3 if args.quick else 15
    warnings.filterwarnings("ignore")
    log = lambda s: print(s, file=sys.stderr, flush=True)

    if hasattr(os, "getloadavg"):
        LOAD.append(f"{os.getloadavg()[0]:.2f}")
    start = time.perf_counter()
    rng = np.random.default_rng(7)
    import sympy  # noqa: F401 - import before timing anything

    mdderiv.derive(_cases()[0].body, check=True).latex()

    log("part 1: derive time vs SymPy")
    rows = run_part1(args.repeats, rng, log)
    log("part 2: depth scaling")
    depths = [1, 2, 4, 8] if args.quick else [1, 2, 4, 8, 16, 32, 64]
    drows = run_part2(depths, args.repeats, log)
    log("part 3: Hessians")
    vec_sizes = [100] if args.quick else [100, 200, 500, 1000]
    mat_sizes = [10] if args.quick else [10, 20, 30]
    hrows, herows, backend = run_part3(args.repeats, vec_sizes, mat_sizes, log)
    log("part 4: long traces")
    counts = [8, 24, 40] if args.quick else [8, 16, 24, 40, 56, 72]
    trows = run_part4(counts, 8 if args.quick else 40, args.repeats, log)
    elapsed = time.perf_counter() - start

    section = report(args, machine(), rows, drows, hrows, herows, backend, elapsed, trows)
    print(section)
    if not args.no_write:
        write_section(Path(args.out), section)
        print(f"\n(written to {args.out} between {START} and {END})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
