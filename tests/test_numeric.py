"""The numeric evaluator against values written out by hand in NumPy."""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest

from mdderiv.expr import (
    Commutation,
    Det,
    Diag,
    Differential,
    DimValue,
    GradientName,
    IndexedSum,
    MatMul,
    Norm,
    Ones,
    Power,
    Softmax,
    Symbol,
    Trace,
    Vec,
    elementwise,
    inverse,
    mul,
    num,
    sub,
    transpose,
)
from mdderiv.numeric import commutation_matrix, differential_key, evaluate, gradient_key
from mdderiv.problem import Definition, Problem, SymbolInfo

rng = np.random.default_rng(1)
m, n, k = 3, 4, 5
Xv = rng.normal(size=(m, n))
Av = rng.normal(size=(m, m))
wv = rng.normal(size=(n, 1))
yv = rng.normal(size=(m, 1))
xv = rng.normal(size=(k, n, 1))

X = Symbol("X", ("m", "n"))
A = Symbol("A", ("m", "m"))
w = Symbol("w", ("n", 1))
y = Symbol("y", ("m", 1))
c = Symbol("c", (1, 1))
xi = Symbol("x", ("n", 1), index="i")
VALUES = {"X": Xv, "A": Av, "w": wv, "y": yv, "x": xv, "c": 2.5}
DIMS = {"m": m, "n": n, "k": k}


def ev(expr, values=VALUES, dims=DIMS, problem=None):  # type: ignore[no-untyped-def]
    return evaluate(expr, values, dims, problem)


def test_products_and_scalars() -> None:
    np.testing.assert_allclose(ev(mul(num(-2), transpose(X), sub(mul(X, w), y))), -2 * Xv.T @ (Xv @ wv - yv))
    np.testing.assert_allclose(ev(mul(c, A, X)), 2.5 * Av @ Xv)
    scalar = MatMul((transpose(y), A, y), (1, 1))
    np.testing.assert_allclose(ev(MatMul((scalar, X), ("m", "n"))), (yv.T @ Av @ yv) * Xv)
    assert ev(c).shape == (1, 1)
    assert ev(num(Fraction(1, 4))).tolist() == [[0.25]]


def test_scalar_functions_are_2d() -> None:
    for expr, want in [
        (Trace(mul(A, A)), np.trace(Av @ Av)),
        (Det(A), np.linalg.det(Av)),
        (Norm(X, "F"), np.linalg.norm(Xv)),
        (Power(Norm(w, "2"), Fraction(2), (1, 1)), (wv.T @ wv).item()),
        (DimValue("n"), n),
    ]:
        got = ev(expr)
        assert got.shape == (1, 1)
        np.testing.assert_allclose(got[0, 0], want)


def test_inverse_and_powers() -> None:
    np.testing.assert_allclose(ev(inverse(A)), np.linalg.inv(Av))
    np.testing.assert_allclose(ev(Power(A, Fraction(-2), ("m", "m"))), np.linalg.inv(Av @ Av))
    np.testing.assert_allclose(ev(Power(c, Fraction(1, 2), (1, 1))), [[np.sqrt(2.5)]])
    # an integer power of a negative scalar is defined
    np.testing.assert_allclose(ev(Power(c, Fraction(3), (1, 1)), {"c": -2.0}), [[-8.0]])


def test_elementwise_and_softmax() -> None:
    sig = 1 / (1 + np.exp(-Xv))
    np.testing.assert_allclose(ev(elementwise("sigma", X)), sig)
    np.testing.assert_allclose(ev(elementwise("sigma_prime", X)), sig * (1 - sig))
    np.testing.assert_allclose(ev(elementwise("tanh_prime", X)), 1 - np.tanh(Xv) ** 2)
    e = np.exp(yv - yv.max())
    np.testing.assert_allclose(ev(Softmax(y, ("m", 1))), e / e.sum())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the sigmoid must not overflow
        assert ev(elementwise("sigma", c), {"c": -1000.0})[0, 0] == pytest.approx(0.0)


def test_constants_take_sizes_from_dims_or_values() -> None:
    assert ev(Ones(("m", "n"))).shape == (m, n)
    problem = Problem({"X": SymbolInfo("X", "X", ("m", "n"))}, [], [X])
    # no dims given: read off X's value
    assert evaluate(Ones(("n", "m")), {"X": Xv}, None, problem).shape == (n, m)
    assert evaluate(Ones(("m*n", 1)), {"X": Xv}, None, problem).shape == (m * n, 1)
    with pytest.raises(ValueError):
        evaluate(Ones(("p", 1)), {"X": Xv}, None, problem)


def test_diag_vec_commutation() -> None:
    np.testing.assert_allclose(ev(Diag(y, ("m", "m"))), np.diagflat(yv))
    np.testing.assert_allclose(ev(Diag(A, ("m", 1))), np.diag(Av).reshape(-1, 1))
    np.testing.assert_allclose(ev(Vec(X, ("m*n", 1))), Xv.reshape(-1, 1, order="F"))
    K = ev(Commutation("m", "n", ("m*n", "m*n")))
    np.testing.assert_allclose(K @ Xv.reshape(-1, 1, order="F"), Xv.T.reshape(-1, 1, order="F"))
    assert np.array_equal(commutation_matrix(2, 3).T, commutation_matrix(3, 2))


def test_families_and_sums() -> None:
    total = IndexedSum("i", "k", mul(xi, transpose(xi)), ("n", "n"))
    np.testing.assert_allclose(ev(total), sum(xv[i] @ xv[i].T for i in range(k)))
    xj = Symbol("x", ("n", 1), index="j")
    nested = IndexedSum("i", "k", IndexedSum("j", "k", mul(transpose(xi), xj), (1, 1)), (1, 1))
    np.testing.assert_allclose(ev(nested)[0, 0], (xv.sum(axis=0).T @ xv.sum(axis=0)).item())
    # a family given as rows (count, n) works too; the upper bound from its length
    got = evaluate(IndexedSum("i", "q", xi, ("n", 1)), {"x": xv[:, :, 0]}, {}, None)
    np.testing.assert_allclose(got, xv.sum(axis=0))
    with pytest.raises(ValueError):
        ev(xi)  # a member outside its sum


def test_differentials_and_gradient_placeholders() -> None:
    dX = rng.normal(size=(m, n))
    G = rng.normal(size=(m, n))
    values = {**VALUES, differential_key("X"): dX, gradient_key("l", "X"): G}
    got = ev(Trace(mul(transpose(GradientName("l", X)), Differential(X))), values)
    np.testing.assert_allclose(got[0, 0], np.trace(G.T @ dX))
    assert differential_key("X") == "d(X)" and gradient_key("l", "X") == "dl/dX"
    # d(∂l/∂X) in a second differential
    dG = rng.normal(size=(m, n))
    got = ev(Differential(GradientName("l", X)), {differential_key(gradient_key("l", "X")): dG})
    np.testing.assert_allclose(got, dG)


def test_defined_symbols_are_computed_once() -> None:
    Y = Symbol("Y", ("m", "n"))
    f = Symbol("f", (1, 1))
    problem = Problem(
        {
            "X": SymbolInfo("X", "X", ("m", "n")),
            "A": SymbolInfo("A", "A", ("m", "m")),
            "Y": SymbolInfo("Y", "Y", ("m", "n"), defined=True),
            "f": SymbolInfo("f", "f", (1, 1), defined=True),
        },
        [
            Definition(Y, elementwise("sigma", mul(A, X)), 2, ""),
            Definition(f, Trace(mul(transpose(Y), Y)), 3, ""),
        ],
        [X],
    )
    Yv = 1 / (1 + np.exp(-(Av @ Xv)))
    np.testing.assert_allclose(ev(f, problem=problem)[0, 0], np.trace(Yv.T @ Yv))
    from mdderiv.numeric import Evaluator

    evaluator = Evaluator(VALUES, DIMS, problem)
    evaluator(mul(transpose(Y), Y))
    assert list(evaluator.memo) == [("Y", ())]
