"""The registry of elementwise functions (``mdderiv.functions``): every entry is
read by every stage — parsed from each of its spellings, printed by each printer,
evaluated, and its derivative agrees with finite differences of its own values."""

from __future__ import annotations

import re

import numpy as np
import pytest

import mdderiv
from mdderiv.expr import Elementwise, Symbol, elementwise
from mdderiv.functions import FUNCTIONS, KINK_MARGIN, Function
from mdderiv.numeric import evaluate
from mdderiv.render.latex import ALLOWED_MACROS, LatexPrinter
from mdderiv.render.numpy import NumpyPrinter
from mdderiv.render.text import TextPrinter
from mdderiv.syntax.vocabulary import FUNCTION_MACROS
from mdderiv.syntax.vocabulary import FUNCTIONS as OPERATOR_WORDS

ENTRIES = list(FUNCTIONS.values())
WRITTEN = [f for f in ENTRIES if not f.derived]
u = Symbol("u", (1, 1))
v = Symbol("v", ("n", 1))


def _values(function: Function, size: int, rng: np.random.Generator) -> np.ndarray:
    """Arguments inside the function's domain and away from its kinks."""
    for _ in range(100):
        z: np.ndarray = rng.uniform(0.2, 1.4, size) * rng.choice([-1.0, 1.0], size)
        if function.defined_at is not None:  # log, sqrt: a positive argument
            z = np.abs(z)
            assert function.defined_at(z)
        if function.smooth_at is None or function.smooth_at(z):
            return z
    raise AssertionError(f"no smooth point for {function.name}")


@pytest.mark.parametrize("function", ENTRIES, ids=lambda f: f.name)
def test_derivative_agrees_with_finite_differences_of_the_values(function: Function) -> None:
    rng = np.random.default_rng(7)
    derivative, divide = function.derivative(u)
    h = 1e-6
    for z in _values(function, 5, rng):
        claimed = evaluate(derivative, {"u": z}).item()
        if divide:
            claimed = 1.0 / claimed
        measured = (function.evaluate(np.array(z + h)) - function.evaluate(np.array(z - h))) / (2 * h)
        assert claimed == pytest.approx(float(measured), rel=1e-5, abs=1e-7), (function.name, z)


@pytest.mark.parametrize("function", ENTRIES, ids=lambda f: f.name)
def test_each_printer_writes_the_function(function: Function) -> None:
    node = elementwise(function.name, v)
    latex = LatexPrinter().doprint(node)
    assert "v" in latex
    for macro in re.findall(r"\\[A-Za-z]+", latex):
        assert macro in ALLOWED_MACROS, (function.name, macro)
    assert "v" in TextPrinter().doprint(node)
    code = NumpyPrinter(None).doprint(node)
    rng = np.random.default_rng(3)
    value = _values(function, 4, rng).reshape(-1, 1)
    got = eval(code, {"np": np, "v": value})  # our own printer's code
    np.testing.assert_allclose(got, function.evaluate(value), rtol=1e-12)


@pytest.mark.parametrize("function", WRITTEN, ids=lambda f: f.name)
def test_the_parser_reads_every_spelling(function: Function) -> None:
    spellings = [f"\\{m}" for m in function.macros] + [f"\\operatorname{{{w}}}" for w in function.words]
    assert spellings or function.name == "abs", f"{function.name} cannot be written"
    for spelling in spellings:
        assert FUNCTION_MACROS.get(spelling[1:], function.name) == function.name
        body = f"given: x \\in \\mathbb{{R}}\nf = {spelling}{{x}}\nwrt: x"
        d = mdderiv.derive(body, check=False)
        expr = d.problem.objective.expr
        assert isinstance(expr, Elementwise) and expr.fn == function.name, spelling
    for word in function.words:
        assert OPERATOR_WORDS[word] == function.name


#: where each function with a kink or pole has one
KINKS = {"abs": 0.0, "sign": 0.0, "relu": 0.0, "indicator": 0.0, "tan": np.pi / 2}


def test_the_kinks_are_known_to_the_check() -> None:
    assert {f.name for f in ENTRIES if f.smooth_at is not None} == set(KINKS)
    for name, kink in KINKS.items():
        smooth_at = FUNCTIONS[name].smooth_at
        assert smooth_at is not None
        assert not smooth_at(np.array([1.0, kink + KINK_MARGIN / 2])), name
        assert smooth_at(np.array([kink + 0.1, kink - 0.1])), name


@pytest.mark.parametrize("function", [f for f in ENTRIES if f.matrix_function], ids=lambda f: f.name)
def test_a_matrix_function_refused_outside_a_trace_is_named_in_its_own_words(function: Function) -> None:
    """The refusal of ``tr(A f(X))`` names the matrix function with the words of
    its registry entry (and offers the elementwise reading)."""
    applied = r"\sqrt{X}" if function.name == "sqrt" else rf"{function.latex.head}(X)"
    body = (
        "given: X \\in \\mathbb{R}^{n \\times n}, A \\in \\mathbb{R}^{n \\times n}\n"
        f"f = \\operatorname{{tr}}(A {applied})\nwrt: X"
    )
    with pytest.raises(mdderiv.DeriveError) as caught:
        mdderiv.derive(body)
    assert f"a {function.matrix_function} of a square matrix" in caught.value.message
    assert "functions: elementwise" in caught.value.message
