"""Products as the printers write them (one product path for every printer)."""

from __future__ import annotations

from fractions import Fraction

from mdderiv.expr import Add, DimValue, MatMul, Number, Power, Symbol, transpose
from mdderiv.render.latex import LatexPrinter, render_expr
from mdderiv.render.text import TextPrinter

A = Symbol("A", ("m", "n"))
B = Symbol("B", ("n", "m"))
x = Symbol("x", ("n", 1))
s = Symbol("s", (1, 1))


def test_products_print_as_a_reader_writes_them() -> None:
    """One product printer for LaTeX and text: parentheses where a factor
    needs them, a coefficient (a fraction) in front, \\cdot between numbers."""
    diff = Add((MatMul((A, x), ("m", 1)), MatMul((Number(Fraction(-1)), Symbol("y", ("m", 1))), ("m", 1))), ("m", 1))
    cases = [
        (MatMul((A, B), ("m", "m")), "A B", "A B"),
        (MatMul((transpose(x), B, diff), (1, 1)), "x^{T} B(A x - y)", "xᵀ B(A x − y)"),
        (MatMul((diff, transpose(x)), ("m", "n")), "(A x - y) x^{T}", "(A x − y) xᵀ"),
        (MatMul((DimValue(3), A), ("m", "n")), "3 A", "3 A"),
        (MatMul((Power(s, Fraction(-1), (1, 1)), A), ("m", "n")), r"\frac{1}{s} A", "(1/s) A"),
        (MatMul((Number(Fraction(-3, 2)), A, x), ("m", 1)), r"-\frac{3}{2} A x", "−(3/2) A x"),
        (MatMul((Number(Fraction(5)), A, x), ("m", 1)), "5 A x", "5 A x"),
        (MatMul((Number(Fraction(2)), DimValue(3)), (1, 1)), r"2 \cdot 3", "2·3"),
        (MatMul((Number(Fraction(-1)), s), (1, 1)), "-s", "−s"),
        (MatMul((Power(s, Fraction(2), (1, 1)), A), ("m", "n")), "s^{2} A", "s² A"),
    ]
    for expr, latex, text in cases:
        assert LatexPrinter().doprint(expr) == latex
        assert TextPrinter().doprint(expr) == text
    assert render_expr(MatMul((Number(Fraction(-3, 2)), A, x), ("m", 1))) == r"-\frac{3}{2} A x"


def test_text_printer_keeps_its_own_products() -> None:
    assert TextPrinter().doprint(MatMul((Number(Fraction(1, 2)), A, x), ("m", 1))) == "(1/2) A x"


def test_factors_are_separated_as_between_says() -> None:
    """``_factors`` joins the factors once at the end: each separator is what
    ``_between`` gives for the factor after it — a number, a parenthesis, a
    tall parenthesis, a plain factor."""
    tall = Add((MatMul((Power(s, Fraction(-1), (1, 1)), A), ("m", "n")), transpose(B)), ("m", "n"))
    lists = [
        (A, DimValue(3)),
        (transpose(x), B, Add((A, transpose(B)), ("m", "n"))),
        (A, tall, x),
        (A, x),
        (DimValue(2), DimValue(3), s),
    ]
    for printer in (LatexPrinter(), TextPrinter()):
        for factors in lists:
            texts = [printer._print(f) for f in factors]
            texts = [printer._wrap(t) if type(f) in printer._wrapped_factors else t for f, t in zip(factors, texts)]
            expected = texts[0] + "".join(printer._between(t) + t for t in texts[1:])
            assert printer._factors(factors) == expected
    assert LatexPrinter()._factors((A, tall, x)).startswith(r"A\left(")
    assert LatexPrinter()._factors((A, DimValue(3))) == r"A \cdot 3"
