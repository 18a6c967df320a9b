"""The NumPy renderer: exact source for simple nodes, and the key test —
``eval(to_numpy(e))`` agrees with ``numeric.evaluate(e)`` (two independent
implementations of the same semantics) on many node types."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from mdderiv.derivation import Derivation, Result
from mdderiv.expr import (
    Commutation,
    Det,
    Diag,
    DimValue,
    Expr,
    GradientName,
    Differential,
    Hadamard,
    HadamardDiv,
    Identity,
    IndexedSum,
    Kron,
    MatMul,
    Norm,
    Ones,
    Power,
    Softmax,
    Symbol,
    Trace,
    Vec,
    Zeros,
    add,
    elementwise,
    inverse,
    mul,
    neg,
    num,
    power,
    sub,
    transpose,
)
from mdderiv.numeric import evaluate
from mdderiv.options import Options
from mdderiv.problem import Definition, Problem, SymbolInfo
from mdderiv.render.numpy import result_source, to_numpy

SIZES = {"m": 3, "n": 4, "k": 5}

X = Symbol("X", ("m", "n"))
A = Symbol("A", ("m", "m"))
S = Symbol("Sigma", ("m", "m"), frozenset({"spd"}))
B = Symbol("B", ("n", "n"))
w = Symbol("w", ("n", 1))
y = Symbol("y", ("m", 1))
u = Symbol("u", ("m", 1))
c = Symbol("c", (1, 1))
xi = Symbol("x", ("n", 1), index="i")  # the family x_i, i = 1..k
P = Symbol("P", ("m", "n"), frozenset({"positive"}))
Y = Symbol("Y", ("m", "n"))  # defined: Y = σ(A X)
f = Symbol("f", (1, 1))


def make_problem() -> Problem:
    infos = [
        SymbolInfo("X", "X", ("m", "n")),
        SymbolInfo("A", "A", ("m", "m")),
        SymbolInfo("Sigma", r"\Sigma", ("m", "m"), frozenset({"spd"})),
        SymbolInfo("B", "B", ("n", "n")),
        SymbolInfo("w", r"\mathbf{w}", ("n", 1)),
        SymbolInfo("y", r"\mathbf{y}", ("m", 1)),
        SymbolInfo("u", r"\mathbf{u}", ("m", 1)),
        SymbolInfo("c", "c", (1, 1)),
        SymbolInfo("x", r"\mathbf{x}", ("n", 1), index="i", count="k"),
        SymbolInfo("P", "P", ("m", "n"), frozenset({"positive"})),
        SymbolInfo("Y", "Y", ("m", "n"), defined=True),
        SymbolInfo("f", "f", (1, 1), defined=True),
    ]
    definitions = [
        Definition(Y, elementwise("sigma", mul(A, X)), 2, r"\sigma(AX)"),
        Definition(f, Trace(mul(transpose(Y), Y)), 3, r"\operatorname{tr}(Y^T Y)"),
    ]
    return Problem({i.name: i for i in infos}, definitions, [X])


def make_values(seed: int = 0) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    m, n, k = SIZES["m"], SIZES["n"], SIZES["k"]
    root = rng.normal(size=(m, m))
    return {
        "X": rng.normal(size=(m, n)),
        "A": rng.normal(size=(m, m)),
        "Sigma": root @ root.T + m * np.eye(m),
        "B": rng.normal(size=(n, n)),
        "w": rng.normal(size=(n, 1)),
        "y": rng.normal(size=(m, 1)),
        "u": rng.normal(size=(m, 1)),
        "c": float(rng.normal()),  # scalars are floats (spec §7)
        "x": rng.normal(size=(k, n, 1)),
        "P": rng.uniform(0.5, 2.0, size=(m, n)),
    }


CASES: dict[str, Expr] = {
    "symbol": X,
    "product": mul(A, X, w),
    "scaled product": mul(num(-2), transpose(X), sub(mul(X, w), y)),
    "fraction coefficient": mul(num(Fraction(1, 3)), A, X),
    "scalar factor": mul(c, A, X),
    # a 1×1 product used as a scalar stays one factor (mul would flatten it)
    "1x1 product as a factor": MatMul((MatMul((transpose(y), A, u), (1, 1)), X), ("m", "n")),
    "1x1 product between matrices": mul(X, w, mul(transpose(w), w), transpose(w)),
    "outer product": mul(y, transpose(w)),
    "sum with minus": add(mul(A, X), neg(X), mul(num(3), y, transpose(w))),
    "transpose of product": transpose(mul(A, X)),
    "inverse": inverse(S),
    "inverse transpose": transpose(inverse(A)),
    "det": Det(S),
    "log det": elementwise("log", Det(S)),
    "trace": Trace(mul(transpose(X), A, X)),
    "scalar power": power(mul(transpose(w), w), Fraction(1, 2)),
    "scalar inverse power": power(c, -1),
    "negative scalar power": Power(Trace(mul(transpose(X), X)), Fraction(-3, 2), (1, 1)),
    "matrix power": Power(A, Fraction(3), ("m", "m")),
    "hadamard": Hadamard(mul(num(2), A, X), elementwise("sigma_prime", mul(A, X)), ("m", "n")),
    "hadamard div": HadamardDiv(X, P, ("m", "n")),
    "kron": Kron(A, transpose(w), ("m", "n")),
    "exp log sin cos": add(
        elementwise("exp", X), elementwise("log", P), elementwise("sin", X), elementwise("cos", X)
    ),
    "tanh and derivative": Hadamard(elementwise("tanh", X), elementwise("tanh_prime", X), ("m", "n")),
    "sigma": elementwise("sigma", X),
    "sqrt abs sign": add(elementwise("sqrt", P), elementwise("abs", X), elementwise("sign", X)),
    "softmax": mul(sub(Softmax(mul(X, w), ("m", 1)), y), transpose(w)),
    "norm 2": Norm(sub(mul(X, w), y), "2"),
    "norm F squared": Power(Norm(X, "F"), Fraction(2), (1, 1)),
    "ones zeros identity": add(
        mul(Ones(("m", 1)), transpose(Ones(("n", 1)))), Zeros(("m", "n")), mul(Identity(("m", "m")), X)
    ),
    "ones inner": mul(transpose(Ones(("m", 1))), elementwise("exp", y)),
    "diag of vector": mul(Diag(y, ("m", "m")), X),
    "diag of matrix": Diag(A, ("m", 1)),
    "vec": Vec(mul(A, X), ("m*n", 1)),
    "commutation": mul(Commutation("m", "n", ("m*n", "m*n")), Vec(X, ("m*n", 1))),
    "ones of a product size": mul(transpose(Ones(("m*n", 1))), Vec(X, ("m*n", 1))),
    "dimension value": mul(Power(DimValue("n"), Fraction(-1), (1, 1)), X),
    "dimension times": mul(DimValue("k"), c, y),
    "indexed sum": IndexedSum("i", "k", mul(xi, transpose(xi)), ("n", "n")),
    "indexed sum of scalars": IndexedSum("i", "k", mul(transpose(xi), B, xi), (1, 1)),
    "sum times matrix": mul(B, IndexedSum("i", "k", xi, ("n", 1))),
    "defined symbol": mul(transpose(A), Hadamard(Y, sub(Ones(("m", "n")), Y), ("m", "n"))),
    "defined scalar": mul(Symbol("f", (1, 1)), X),
    "scalar transpose and trace": add(transpose(c), Trace(c)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_numpy_source_agrees_with_evaluate(name: str) -> None:
    problem = make_problem()
    expr = CASES[name]
    values = make_values()
    source = to_numpy(expr, problem)
    got = np.asarray(eval(source, {"np": np, **values}), dtype=float)  # our own output
    want = evaluate(expr, values, SIZES, problem)
    assert want.ndim == 2
    assert got.size == want.size, source
    np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-10, atol=1e-12, err_msg=source)


def test_exact_sources() -> None:
    problem = make_problem()
    a = Symbol("a", ("m", 1))
    b = Symbol("b", ("n", 1))
    assert to_numpy(mul(a, transpose(b))) == "a @ b.T"
    assert to_numpy(mul(num(2), transpose(X), sub(mul(X, w), y))) == "2 * X.T @ (X @ w - y)"
    assert to_numpy(mul(c, A, X)) == "c * (A @ X)"
    assert to_numpy(inverse(A)) == "np.linalg.inv(A)"
    assert to_numpy(Det(A)) == "np.linalg.det(A)"
    assert to_numpy(Trace(A)) == "np.trace(A)"
    assert to_numpy(Hadamard(X, P, ("m", "n"))) == "X * P"
    assert to_numpy(HadamardDiv(X, P, ("m", "n"))) == "X / P"
    assert to_numpy(Kron(A, B, ("m*n", "m*n"))) == "np.kron(A, B)"
    assert to_numpy(power(c, Fraction(1, 2))) == "c**(1/2)"
    assert to_numpy(power(c, -1)) == "c**(-1)"
    assert to_numpy(Power(A, Fraction(2), ("m", "m"))) == "np.linalg.matrix_power(A, 2)"
    assert to_numpy(Vec(X, ("mn", 1))) == 'X.reshape(-1, 1, order="F")'
    assert to_numpy(Diag(y, ("m", "m"))) == "np.diagflat(y)"
    assert to_numpy(Diag(A, ("m", 1))) == "np.diag(A).reshape(-1, 1)"
    assert to_numpy(Norm(y, "2")) == "np.linalg.norm(y)"
    assert to_numpy(elementwise("tanh_prime", X)) == "1 - np.tanh(X)**2"
    assert to_numpy(neg(mul(A, X))) == "-A @ X"
    assert to_numpy(sub(X, mul(A, X))) == "X - A @ X"
    # dimensions come from declared symbols' shapes (a family's count is axis 0)
    assert to_numpy(Identity(("n", "n")), problem) == "np.eye(X.shape[1])"
    assert to_numpy(Ones(("m", 1)), problem) == "np.ones((X.shape[0], 1))"
    assert to_numpy(DimValue("k"), problem) == "x.shape[0]"
    assert to_numpy(Zeros(("m*n", 1)), problem) == "np.zeros((X.shape[0] * X.shape[1], 1))"
    assert to_numpy(IndexedSum("i", "k", xi, ("n", 1)), problem) == "sum(x[i] for i in range(x.shape[0]))"


def test_defined_symbols_are_inlined() -> None:
    problem = make_problem()
    source = to_numpy(mul(transpose(Y), Y), problem)
    assert "Y" not in source
    assert source.count("np.exp(-(A @ X))") == 2


def test_loop_variable_avoids_symbol_names() -> None:
    problem = make_problem()
    problem.symbols["i"] = SymbolInfo("i", "i", (1, 1))
    source = to_numpy(IndexedSum("i", "k", xi, ("n", 1)), problem)
    assert source == "sum(x[i_] for i_ in range(x.shape[0]))"


def test_what_has_no_value_raises() -> None:
    with pytest.raises(ValueError):
        to_numpy(GradientName("l", X))
    with pytest.raises(ValueError):
        to_numpy(Differential(X))
    with pytest.raises(ValueError):
        to_numpy(xi)  # a family member outside its sum


def test_only_identifiers_reach_the_source() -> None:
    with pytest.raises(ValueError):
        to_numpy(Symbol("__import__('os').system('x')", ("m", 1)))
    with pytest.raises(ValueError):
        to_numpy(Symbol("lambda", ("m", 1)))


def test_result_source_scalar_is_float() -> None:
    problem = make_problem()
    d = Derivation(problem, Options(), [], [Result(c, mul(transpose(y), A, u), GradientName("f", c))])
    source = result_source(d, d.results[0])
    value = eval(source, {"np": np, **make_values()})
    assert isinstance(value, float)
