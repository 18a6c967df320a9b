"""The LaTeX printer's shortcuts write what the general path writes: a product
without numbers in one pass, coefficients from their whole numbers."""

from __future__ import annotations

from fractions import Fraction

from mdderiv.expr import Add, DimValue, MatMul, Number, Power, Symbol, transpose
from mdderiv.render.latex import LatexPrinter, render_expr
from mdderiv.render.text import TextPrinter

A = Symbol("A", ("m", "n"))
B = Symbol("B", ("n", "m"))
x = Symbol("x", ("n", 1))
s = Symbol("s", (1, 1))


class _General(LatexPrinter):
    """The same printer, but not the exact class: every shortcut is skipped."""


def _both(expr: object) -> tuple[str, str]:
    return LatexPrinter().doprint(expr), _General().doprint(expr)  # type: ignore[arg-type]


def test_plain_products_print_as_the_general_path() -> None:
    diff = Add((MatMul((A, x), ("m", 1)), MatMul((Number(Fraction(-1)), Symbol("y", ("m", 1))), ("m", 1))), ("m", 1))
    cases = [
        MatMul((A, B), ("m", "m")),
        MatMul((transpose(x), B, diff), (1, 1)),
        MatMul((diff, transpose(x)), ("m", "n")),
        MatMul((DimValue(3), A), ("m", "n")),  # a factor printed as a digit: \cdot
        MatMul((Power(s, Fraction(-1), (1, 1)), A), ("m", "n")),
        MatMul((Number(Fraction(-3, 2)), A, x), ("m", 1)),
        MatMul((Number(Fraction(5)), A, x), ("m", 1)),
        Add((MatMul((Number(Fraction(-1, 2)), A, x), ("m", 1)), MatMul((A, x), ("m", 1))), ("m", 1)),
    ]
    for expr in cases:
        fast, general = _both(expr)
        assert fast == general, expr
    assert render_expr(MatMul((Number(Fraction(-3, 2)), A, x), ("m", 1))) == r"-\frac{3}{2} A x"


def test_text_printer_keeps_its_own_products() -> None:
    assert TextPrinter().doprint(MatMul((Number(Fraction(1, 2)), A, x), ("m", 1))) == "(1/2) A x"
