"""The compiled evaluator: reused across values, shared costly nodes, and the
shortcuts that must give exactly NumPy's numbers (the check's printed error
depends on the last bits)."""

from __future__ import annotations

import numpy as np
import pytest

import mdderiv
from mdderiv.check import check_derivation
from mdderiv.expr import (
    Add,
    IndexedSum,
    MatMul,
    Norm,
    Symbol,
    elementwise,
    inverse,
    mul,
    num,
    transpose,
)
from mdderiv.numeric import Compiler, Evaluator, evaluate
from mdderiv.pipeline import clear_memos

rng = np.random.default_rng(7)
m, n, k = 3, 4, 5
X = Symbol("X", ("m", "n"))
A = Symbol("A", ("m", "m"))
w = Symbol("w", ("n", 1))
y = Symbol("y", ("m", 1))
Ai = Symbol("B", ("m", "m"), index="i")
DIMS = {"m": m, "n": n, "k": k}


def values() -> dict[str, np.ndarray]:
    return {
        "X": rng.normal(size=(m, n)),
        "A": rng.normal(size=(m, m)) + 3 * np.eye(m),
        "w": rng.normal(size=(n, 1)),
        "y": rng.normal(size=(m, 1)),
        "B": rng.normal(size=(k, m, m)) + 3 * np.eye(m),
    }


def test_one_compiler_serves_many_values() -> None:
    expr = mul(transpose(X), inverse(A), X, w)
    compiler = Compiler()
    for _ in range(3):
        vals = values()
        once = evaluate(expr, vals, DIMS, None, compiler)
        assert np.array_equal(once, evaluate(expr, vals, DIMS))
    # compiled once: the same closure every time it is asked for, and each node once
    assert compiler(expr) is compiler(expr)
    assert len(compiler.compiled) == len({id(node) for node in expr.walk()})


def test_costly_nodes_once_per_evaluation_but_not_across_sum_members() -> None:
    vals = values()
    twice = mul(inverse(A), X, transpose(X), inverse(A))
    want = np.linalg.inv(vals["A"]) @ vals["X"] @ vals["X"].T @ np.linalg.inv(vals["A"])
    np.testing.assert_allclose(evaluate(twice, vals, DIMS), want)
    # inside a sum the inverse is the member's: never one member's for another
    total = IndexedSum("i", "k", mul(inverse(Ai), y), ("m", 1))
    want_sum = sum(np.linalg.inv(vals["B"][i]) @ vals["y"] for i in range(k))
    np.testing.assert_allclose(evaluate(total, vals, DIMS), want_sum)
    # and a new evaluator (a new point) computes it afresh
    compiler = Compiler()
    first = evaluate(inverse(A), vals, DIMS, None, compiler)
    moved = {**vals, "A": vals["A"] + np.eye(m)}
    np.testing.assert_allclose(evaluate(inverse(A), moved, DIMS, None, compiler), np.linalg.inv(moved["A"]))
    assert not np.array_equal(first, evaluate(inverse(A), moved, DIMS, None, compiler))


def test_subtracted_terms_and_norms_are_numpys_numbers_exactly() -> None:
    for _ in range(50):
        vals = values()
        Xv, wv, yv = vals["X"], vals["w"], vals["y"]
        difference = Add((mul(X, w), MatMul((num(-1), y), ("m", 1))), ("m", 1))
        assert np.array_equal(evaluate(difference, vals, DIMS), Xv @ wv + yv * -1.0)
        norm = Norm(mul(transpose(X), y), "2", (1, 1))
        assert np.array_equal(evaluate(norm, vals, DIMS), np.full((1, 1), np.linalg.norm(Xv.T @ yv)))
        sigma_prime = elementwise("sigma_prime", mul(X, w))
        s = 0.5 * (1.0 + np.tanh(0.5 * (Xv @ wv)))
        assert np.array_equal(evaluate(sigma_prime, vals, DIMS), s * (1.0 - s))


def test_ready_values_are_used_and_left_alone() -> None:
    vals = values()
    before = {key: value.copy() for key, value in vals.items()}
    evaluator = Evaluator(vals, DIMS, None, Compiler(), ready=True)
    evaluator(mul(num(2), transpose(X), inverse(A), X))
    assert set(vals) == set(before)
    assert all(np.array_equal(vals[key], before[key]) for key in vals)


def test_the_check_draws_the_same_points_every_time() -> None:

    body = "given: A \\in \\mathbb{R}^{m \\times n}, x \\in \\mathbb{R}^{n}\nf = \\|A x\\|^2\nwrt: x"
    first = mdderiv.derive(body).check
    other = check_derivation(mdderiv.derive(body, check=False), seed=1)  # another seed in between
    again = mdderiv.derive(body).check
    assert first is not None and again is not None and other.passed
    assert (first.max_rel_error, first.sizes) == (again.max_rel_error, again.sizes)


def test_clear_memos_forgets_justifications() -> None:
    from mdderiv.render import display

    display.justification_latex(("objective",), None, "en")
    assert display.justification_latex.cache_info().currsize > 0
    clear_memos()
    assert display.justification_latex.cache_info().currsize == 0


def test_inverse_and_determinant_are_numpys_and_a_singular_matrix_raises() -> None:
    from mdderiv.expr import Det

    compiler = Compiler()
    det_a = Det(A, (1, 1))
    vals = values()
    assert np.array_equal(evaluate(inverse(A), vals, DIMS, None, compiler), np.linalg.inv(vals["A"]))
    assert np.array_equal(evaluate(det_a, vals, DIMS, None, compiler), [[np.linalg.det(vals["A"])]])
    singular = {**values(), "A": np.ones((m, m))}
    with np.errstate(all="ignore"), pytest.raises(np.linalg.LinAlgError):
        evaluate(inverse(A), singular, DIMS, None, compiler)


def test_the_check_seeds_its_own_generator_from_the_block() -> None:
    from mdderiv.check import block_seed

    body = "given: A \\in \\mathbb{R}^{m \\times n}, x \\in \\mathbb{R}^{n}\nf = \\|A x\\|^2\nwrt: x"
    other = "given: x \\in \\mathbb{R}^{n}\nf = x^T x\nwrt: x"
    legacy = np.random.get_state()[1].copy()
    first = mdderiv.derive(body).check
    mdderiv.derive(other)
    again = mdderiv.derive(body).check
    assert first is not None and again is not None
    assert first.seed == again.seed == block_seed(body) != block_seed(other)
    assert first == again  # the same points, whatever was checked in between
    assert np.array_equal(np.random.get_state()[1], legacy)  # NumPy's global generator untouched


