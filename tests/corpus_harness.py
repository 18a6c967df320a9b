r"""The authors' corpus (issue 11): blocks as ML, statistics and control notes write
them, each with its own NumPy evaluation of the objective, and the verdict on each.

``tests/corpus/authors.yaml`` holds the blocks.  Each entry::

    - id: ridge-lambda-I            # unique, used as the test id
      category: least squares       # a row of the summary table
      block: |                      # the derive block body, as an author writes it
        given: ...
        f = ...
        wrt: ...
      numpy: np.sum((A @ x - b)**2) # the objective, a Python expression in the
                                    # symbols' identifiers (spec §7), np, and the
                                    # helpers of HELPERS below; scalars are (1, 1)
      domain: {Sigma: spd, x: positive}   # optional: where to sample an input
      xfail: "why"                  # optional: a known wrong answer or internal error
      ambiguous: "the two readings" # optional: notation with two readings in use, where
                                    # a clear refusal is a right answer (the numpy is
                                    # the reading a derivation must take if it derives)

The objective's value is written here and shares no code with mdderiv.  Each block
is derived with the check off; every result (gradients, and Hessians with
``hessian: true``) is evaluated from its generated NumPy source at random points
of the domain and compared with central finite differences of that value.

Verdicts: ``derived`` (every result agrees), ``refused`` (a DeriveError with a
message that says why), ``wrong`` (a result disagrees, or a scalar objective came
back as the derivative of a non-scalar reading), ``internal`` (a DeriveError that
calls itself internal, or any other exception).  The last two are never acceptable.
"""

from __future__ import annotations

import math
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

import mdderiv
from mdderiv.expr import dim_value
from support import central_differences, expm

CORPUS = Path(__file__).resolve().parent / "corpus" / "authors.yaml"

#: sizes given to the dimension names, in the order the block first uses them
SIZES = (4, 3, 5, 2, 6)


# ---------------------------------------------------------------- the corpus's own NumPy helpers


def funm(a: np.ndarray, f: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """f of a square matrix through its eigen-decomposition (symmetric inputs: real)."""
    w, v = np.linalg.eig(a)
    return np.real((v * f(w)) @ np.linalg.inv(v))


def logm(a: np.ndarray) -> np.ndarray:
    """Matrix logarithm of a symmetric positive definite matrix, as a general
    matrix function (eigen-decomposition), so a non-symmetric input is rejected."""
    w, v = np.linalg.eig(a)
    if np.max(np.abs(np.imag(w))) > 1e-12 or np.min(np.real(w)) <= 0:
        raise FloatingPointError("logm outside its domain")
    return np.real((v * np.log(np.real(w))) @ np.linalg.inv(v))


def sqrtm(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eig(a)
    if np.max(np.abs(np.imag(w))) > 1e-12 or np.min(np.real(w)) <= 0:
        raise FloatingPointError("sqrtm outside its domain")
    return np.real((v * np.sqrt(np.real(w))) @ np.linalg.inv(v))


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def softplus(z: np.ndarray) -> np.ndarray:
    return np.log1p(np.exp(z))


def softmax(z: np.ndarray) -> np.ndarray:
    """Column-wise (the spec's vectors are columns)."""
    e = np.exp(z - np.max(z, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


def vec(a: np.ndarray) -> np.ndarray:
    return np.reshape(a, (-1, 1), order="F")


def relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(0.0, z)


def sc(a: Any) -> float:
    """A (1, 1) array or a number as a float."""
    return float(np.asarray(a).item())


HELPERS: dict[str, Any] = {
    "np": np, "expm": expm, "funm": funm, "logm": logm, "sqrtm": sqrtm, "sigmoid": sigmoid, "softplus": softplus,
    "softmax": softmax, "vec": vec, "relu": relu, "sc": sc, "tr": np.trace, "det": np.linalg.det,
    "inv": np.linalg.inv, "logdet": lambda a: np.linalg.slogdet(a)[1],
}


# ---------------------------------------------------------------- entries and verdicts


@dataclass(frozen=True)
class Entry:
    id: str
    category: str
    block: str
    numpy: str
    domain: dict[str, str] = field(default_factory=dict)
    xfail: str | None = None
    ambiguous: str | None = None


def load() -> list[Entry]:
    raw = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    entries = [
        Entry(id=str(e["id"]), category=str(e["category"]), block=str(e["block"]).strip("\n"),
              numpy=str(e["numpy"]).strip(), domain=dict(e.get("domain") or {}), xfail=e.get("xfail"),
              ambiguous=e.get("ambiguous"))
        for e in raw
    ]
    ids = [e.id for e in entries]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate corpus ids: {sorted(duplicates)}")
    return entries


@dataclass
class Verdict:
    kind: str  # "derived", "refused", "wrong", "internal"
    detail: str
    seconds: float = 0.0
    #: a derived block derived again with the numerical check on (as pages do):
    #: "passed", or "refused: message", or "internal: message"
    checked: str = ""


def _sample(shape: tuple[int, int], kind: str, rng: np.random.Generator) -> np.ndarray:
    rows, cols = shape
    if kind == "normal":
        return rng.standard_normal(shape)
    if kind == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "unit":  # entries in (-1/2, 1/2): inside log(1 - x), arctanh, sqrt(1 - x^T x)
        return rng.uniform(-0.5, 0.5, shape) / max(1.0, math.sqrt(rows * cols))
    if kind == "small":  # a contraction: I - X invertible, series converge
        return rng.standard_normal(shape) / (3.0 * max(rows, cols))
    if kind == "symmetric":
        a = rng.standard_normal(shape)
        return (a + a.T) / 2
    if kind == "spd":
        a = rng.standard_normal(shape)
        return a @ a.T / rows + np.eye(rows)
    if kind == "onehot":
        y = np.zeros(shape)
        y[rng.integers(rows), 0] = 1.0
        return y
    if kind == "labels":  # ±1 labels
        return rng.choice([-1.0, 1.0], size=shape)
    if kind == "binary":  # 0/1 labels
        return rng.choice([0.0, 1.0], size=shape)
    if kind == "probability":  # a probability vector
        p = rng.uniform(0.5, 2.0, shape)
        return p / p.sum()
    if kind == "offzero":  # entries away from 0 (kinks of |x|, ReLU at 0)
        return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.3, 1.5, shape)
    raise ValueError(f"unknown domain {kind!r}")


def _default_kind(props: frozenset[str]) -> str:
    if "spd" in props or "positive definite" in props:
        return "spd"
    if "symmetric" in props:
        return "symmetric"
    if "one-hot" in props or "onehot" in props:
        return "onehot"
    return "normal"


def _finite_difference_hessian(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """H with d²f = vec(dX)^T H vec(dX), vec stacking columns."""
    n = x.size
    flat = vec(x).ravel()

    def at(v: np.ndarray) -> float:
        return f(np.reshape(v, x.shape, order="F"))

    hess = np.zeros((n, n))
    f0 = at(flat)
    for i in range(n):
        ei = np.zeros(n)
        ei[i] = h
        hess[i, i] = (at(flat + ei) - 2 * f0 + at(flat - ei)) / h**2
        for j in range(i + 1, n):
            ej = np.zeros(n)
            ej[j] = h
            value = (at(flat + ei + ej) - at(flat + ei - ej) - at(flat - ei + ej) + at(flat - ei - ej)) / (4 * h**2)
            hess[i, j] = hess[j, i] = value
    return hess


def _symmetric_part(value: np.ndarray, kind: str) -> np.ndarray:
    """The part of a gradient (a matrix) or a Hessian (in vec coordinates) that acts
    on symmetric directions: (G + G^T)/2, and P H P with P the projection
    vec(D) -> vec((D + D^T)/2)."""
    if kind != "hessian":
        return (value + value.T) / 2 if value.ndim == 2 and value.shape[0] == value.shape[1] else value
    n = math.isqrt(value.shape[0])
    swap = np.zeros((n * n, n * n))  # the commutation matrix: vec(D^T) = swap @ vec(D)
    for i in range(n):
        for j in range(n):
            swap[i * n + j, j * n + i] = 1.0
    projection = (np.eye(n * n) + swap) / 2
    return projection @ value @ projection


def _is_internal(message: str) -> bool:
    return "internal" in message.lower() or "this is a bug" in message.lower()


def judge(entry: Entry, points: int = 2) -> Verdict:
    """Derive ``entry`` with the check off and give the verdict."""
    start = time.perf_counter()
    try:
        d = mdderiv.derive(entry.block, check=False)
    except mdderiv.DeriveError as error:
        seconds = time.perf_counter() - start
        if _is_internal(error.message):
            return Verdict("internal", error.message, seconds)
        if len(error.message.strip()) < 10:
            return Verdict("internal", f"refused without a clear message: {error.message!r}", seconds)
        return Verdict("refused", error.message, seconds)
    except Exception as error:  # noqa: BLE001 — any other exception is an internal error
        return Verdict("internal", f"{type(error).__name__}: {error}", time.perf_counter() - start)
    seconds = time.perf_counter() - start
    try:
        sources = d.numpy()
    except Exception as error:  # noqa: BLE001
        return Verdict("internal", f"no NumPy source: {type(error).__name__}: {error}", seconds)
    missing = _missing_results(entry, d)
    if missing:
        return Verdict("wrong", missing, seconds)
    for point in range(points):
        problem = _compare(entry, d, sources, point)
        if problem is not None:
            return Verdict("wrong", problem, seconds)
    return Verdict("derived", "", seconds, checked=_with_the_check(entry))


def _with_the_check(entry: Entry) -> str:
    """The block derived as a page derives it, the numerical check on."""
    try:
        mdderiv.derive(entry.block)
    except mdderiv.DeriveError as error:
        return ("internal: " if _is_internal(error.message) else "refused: ") + error.message
    except Exception as error:  # noqa: BLE001
        return f"internal: {type(error).__name__}: {error}"
    return "passed"


def _missing_results(entry: Entry, d: Any) -> str | None:
    """Every variable asked for has its gradient (and its Hessian with ``hessian: true``)."""
    asked = [symbol.name for symbol in d.problem.wrt]
    kinds = {(r.wrt.name, r.kind) for r in d.results}
    wanted = ["gradient"] + (["hessian"] if re.search(r"^\s*hessian:\s*true\s*$", entry.block, re.M) else [])
    for name in asked:
        if not any((name, k) in kinds for k in ("gradient", "symmetric gradient")):
            return f"no gradient for {name}; results: {sorted(kinds)}"
        if "hessian" in wanted and (name, "hessian") not in kinds:
            return f"hessian: true, but no Hessian for {name}; results: {sorted(kinds)}"
    return None


def _compare(entry: Entry, d: Any, sources: list[str], point: int) -> str | None:
    problem = d.problem
    names = [d for d in problem.dims if isinstance(d, str) and "*" not in d]  # m*n is no name of its own
    dims = {dim: SIZES[i % len(SIZES)] for i, dim in enumerate(names)}
    rng = np.random.default_rng(zlib.crc32(f"{entry.id}:{point}".encode()))
    env: dict[str, Any] = {}
    for name, info in problem.symbols.items():
        if info.defined or info.introduced:
            continue
        if info.count is not None:
            return f"the corpus does not sample families ({name})"
        shape = tuple(dim_value(x, dims) for x in info.shape)
        kind = entry.domain.get(name, _default_kind(frozenset(info.props)))
        env[name] = _sample(shape, kind, rng)  # type: ignore[arg-type]
    env_props = {name: frozenset(info.props) for name, info in problem.symbols.items()}
    scope = {**HELPERS, **dims}

    def objective(values: dict[str, Any]) -> float:
        with np.errstate(all="raise"):
            value = np.asarray(eval(entry.numpy, {**scope, **values}), dtype=float)  # noqa: S307
        if value.size != 1:
            raise ValueError(f"the corpus's numpy for {entry.id} is not a scalar: shape {value.shape}")
        return float(value.item())

    objective(env)  # the corpus's own expression must evaluate at the sample
    for result, source in zip(d.results, sources):
        name = result.wrt.name
        if name not in env:
            return f"result for {name!r}, which the corpus did not sample"
        base = env[name]

        def along(x: np.ndarray, name: str = name) -> float:
            return objective({**env, name: x})

        try:
            with np.errstate(all="raise"):
                got = np.asarray(eval(source, {**scope, **env}), dtype=float)  # noqa: S307
        except Exception as error:  # noqa: BLE001
            return f"the NumPy source of the {result.kind} for {name} fails: {type(error).__name__}: {error}: {source}"
        if result.kind in ("gradient", "symmetric gradient"):
            want = central_differences(along, base)
            if result.kind == "symmetric gradient" and not np.allclose(got, got.T, rtol=1e-8, atol=1e-8):
                return f"the symmetric gradient for {name} is not symmetric: {source}"
            if result.layout != "denominator":
                want = want.T
        elif result.kind == "hessian":
            want = _finite_difference_hessian(along, base)
        else:
            return f"a {result.kind} for {name}: the objective is a scalar, its gradient was asked for"
        if got.size == want.size == 1:
            got = got.reshape(want.shape)  # a scalar result is a float (spec §7)
        if env_props.get(name, frozenset()) & {"symmetric", "spd"} or result.kind == "symmetric gradient":
            # a symmetric variable moves only in symmetric directions: df and d²f are
            # fixed there alone, so compare the parts that act on them (vec-projected)
            got, want = _symmetric_part(got, result.kind), _symmetric_part(want, result.kind)
        if got.shape != want.shape:
            return f"{result.kind} for {name} has shape {got.shape}, expected {want.shape}: {source}"
        scale = max(1.0, float(np.max(np.abs(want))))
        error = float(np.max(np.abs(got - want))) / scale
        tolerance = 1e-3 if result.kind == "hessian" else 1e-5
        if not error < tolerance:
            return f"{result.kind} for {name} differs from finite differences by {error:.2e} (relative): {source}"
    return None


def summary(entries: list[Entry], verdicts: dict[str, Verdict]) -> str:
    """A Markdown table: derived/refused/wrong/internal per category, and the total."""
    categories: dict[str, dict[str, int]] = {}
    for entry in entries:
        row = categories.setdefault(entry.category, {"derived": 0, "refused": 0, "wrong": 0, "internal": 0})
        row[verdicts[entry.id].kind] += 1
    lines = ["| category | blocks | derived | refused | wrong | internal |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    total = {"derived": 0, "refused": 0, "wrong": 0, "internal": 0}
    for category, row in categories.items():
        count = sum(row.values())
        lines.append(f"| {category} | {count} | {row['derived']} | {row['refused']} | {row['wrong']} | {row['internal']} |")
        for key in total:
            total[key] += row[key]
    count = sum(total.values())
    checked = sum(verdicts[e.id].checked == "passed" for e in entries)
    lines.append(f"| **all** | {count} | {total['derived']} | {total['refused']} | {total['wrong']} | {total['internal']} |")
    lines.append("")
    lines.append(f"derived correctly: {_rate(total['derived'], count)}")
    lines.append(f"of these, derived with the numerical check on as well: {checked}/{total['derived']}")
    plain = [e for e in entries if not e.ambiguous]
    plain_derived = sum(verdicts[e.id].kind == "derived" for e in plain)
    lines.append(f"derived correctly, leaving out the {count - len(plain)} blocks whose notation has two "
                 f"readings in use (a clear refusal is right there): {_rate(plain_derived, len(plain))}")
    return "\n".join(lines)


def _rate(part: int, whole: int) -> str:
    return f"{part}/{whole} = {part / whole if whole else 0.0:.1%}"
