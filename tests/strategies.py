"""Hypothesis strategies: random well-shaped derive blocks over the grammar.

An expression is drawn for a target shape; products pick an inner dimension,
so every drawn block is well-shaped by construction.  The symbols and their
shapes are fixed (below) so the declarations are always the same.
"""

from __future__ import annotations

from hypothesis import strategies as st

DIMS = ("m", "n", "p")
#: name → (latex, rows, cols)
SYMBOLS = {
    "A": ("A", "m", "n"),
    "B": ("B", "n", "p"),
    "C": ("C", "m", "m"),
    "D": ("D", "n", "n"),
    "E": ("E", "m", "n"),
    "a": (r"\mathbf{a}", "m", 1),
    "b": (r"\mathbf{b}", "n", 1),
    "c": (r"\mathbf{c}", "p", 1),
    "s": ("s", 1, 1),
}
VARIABLES = {"X": ("X", "m", "n"), "x": (r"\mathbf{x}", "n", 1), "Q": ("Q", "n", "n")}

GIVEN = (
    r"given: A, E \in \mathbb{R}^{m \times n}, B \in \mathbb{R}^{n \times p}, "
    r"C \in \mathbb{R}^{m \times m}, D \in \mathbb{R}^{n \times n}" "\n"
    r"given: \mathbf{a} \in \mathbb{R}^{m}, \mathbf{b} \in \mathbb{R}^{n}, "
    r"\mathbf{c} \in \mathbb{R}^{p}, s \in \mathbb{R}" "\n"
    r"given: X \in \mathbb{R}^{m \times n}, \mathbf{x} \in \mathbb{R}^{n}, Q \in \mathbb{R}^{n \times n}"
)


def _leaves(rows: object, cols: object, variable: str) -> list[str]:
    out = [latex for name, (latex, r, c) in SYMBOLS.items() if (r, c) == (rows, cols)]
    vlatex, vr, vc = VARIABLES[variable]
    if (vr, vc) == (rows, cols):
        out += [vlatex] * 3  # the variable should appear often
    return out


def _column(dim: object) -> str:
    """A leaf column vector with ``dim`` rows (the scalar s for 1)."""
    return {"m": r"\mathbf{a}", "n": r"\mathbf{b}", "p": r"\mathbf{c}", 1: "s"}[dim]  # type: ignore[index]


#: smooth elementwise functions (the kinked ones have tests of their own)
FUNCTIONS = [r"\sin", r"\tanh", r"\sigma", r"\cos", r"\arctan", r"\operatorname{softplus}"]
FUNCTIONS_WITH_THE_VARIABLE = [*FUNCTIONS, r"\exp", r"\sinh"]


@st.composite
def expression(draw: st.DrawFn, rows: object, cols: object, variable: str, depth: int) -> str:
    leaves = _leaves(rows, cols, variable)
    if depth <= 0 or (leaves and draw(st.integers(0, 3)) == 0):
        if leaves:
            return draw(st.sampled_from(leaves))
        # no leaf of this shape: an outer product of two vector leaves (finite)
        return f"{_column(rows)} {_column(cols)}^T"
    kind = draw(
        st.sampled_from(
            ["sum", "diff", "product", "product", "transpose", "hadamard", "function", "scale", "trace_scale"]
        )
    )
    sub = depth - 1
    if kind == "sum":
        return f"{draw(expression(rows, cols, variable, sub))} + {draw(expression(rows, cols, variable, sub))}"
    if kind == "diff":
        return f"{draw(expression(rows, cols, variable, sub))} - ({draw(expression(rows, cols, variable, sub))})"
    if kind == "product":
        inner = draw(st.sampled_from(["m", "n", "p"]))
        return f"({draw(expression(rows, inner, variable, sub))})({draw(expression(inner, cols, variable, sub))})"
    if kind == "transpose":
        return f"({draw(expression(cols, rows, variable, sub))})^T"
    if kind == "hadamard":
        return f"({draw(expression(rows, cols, variable, sub))}) \\odot ({draw(expression(rows, cols, variable, sub))})"
    if kind == "function":
        fn = draw(st.sampled_from(FUNCTIONS))
        return f"{fn}({draw(expression(rows, cols, variable, sub))})"
    if kind == "scale":
        return f"s ({draw(expression(rows, cols, variable, sub))})"
    inner = draw(st.sampled_from(["m", "n"]))
    return (
        f"\\operatorname{{tr}}({draw(expression(inner, inner, variable, sub))}) "
        f"({draw(expression(rows, cols, variable, sub))})"
    )


@st.composite
def with_variable(draw: st.DrawFn, rows: object, cols: object, variable: str, depth: int) -> str:
    """An expression of the given shape in which the variable certainly occurs."""
    vlatex, vr, vc = VARIABLES[variable]
    if (rows, cols) == (vr, vc) and (depth <= 0 or draw(st.integers(0, 2)) == 0):
        return vlatex
    if depth <= 0:
        left = "" if rows == vr else f"({draw(expression(rows, vr, variable, 0))})"
        right = "" if cols == vc else f"({draw(expression(vc, cols, variable, 0))})"
        return f"{left} {vlatex} {right}".strip()
    sub = depth - 1
    kind = draw(st.sampled_from(["sum", "product", "product", "transpose", "hadamard", "function", "scale", "trace"]))
    if kind == "sum":
        inner = draw(with_variable(rows, cols, variable, sub))
        other = draw(expression(rows, cols, variable, sub))
        return f"{inner} - ({other})" if draw(st.booleans()) else f"{other} + {inner}"
    if kind == "product":
        k = draw(st.sampled_from(["m", "n", "p"]))
        if draw(st.booleans()):
            return f"({draw(with_variable(rows, k, variable, sub))})({draw(expression(k, cols, variable, sub))})"
        return f"({draw(expression(rows, k, variable, sub))})({draw(with_variable(k, cols, variable, sub))})"
    if kind == "transpose":
        return f"({draw(with_variable(cols, rows, variable, sub))})^T"
    if kind == "hadamard":
        return f"({draw(with_variable(rows, cols, variable, sub))}) \\odot ({draw(expression(rows, cols, variable, sub))})"
    if kind == "function":
        fn = draw(st.sampled_from(FUNCTIONS_WITH_THE_VARIABLE))
        return f"{fn}({draw(with_variable(rows, cols, variable, sub))})"
    if kind == "scale":
        return f"s ({draw(with_variable(rows, cols, variable, sub))})"
    k = draw(st.sampled_from(["m", "n"]))
    if draw(st.booleans()):
        return f"\\operatorname{{tr}}({draw(with_variable(k, k, variable, sub))}) ({draw(expression(rows, cols, variable, sub))})"
    return f"\\operatorname{{tr}}({draw(expression(k, k, variable, sub))}) ({draw(with_variable(rows, cols, variable, sub))})"


@st.composite
def scalar_objective(draw: st.DrawFn, depth: int = 3) -> tuple[str, str]:
    """(block body, variable) for a random scalar objective."""
    variable = draw(st.sampled_from(sorted(VARIABLES)))
    form = draw(st.sampled_from(["trace", "bilinear", "log_quadratic"]))
    if form == "trace":
        inner = draw(st.sampled_from(["m", "n", "p"]))
        body = f"\\operatorname{{tr}}({draw(with_variable(inner, inner, variable, depth))})"
    elif form == "bilinear":
        left = draw(st.sampled_from(["m", "n", "p"]))
        right = draw(st.sampled_from(["m", "n", "p"]))
        lhs = {"m": r"\mathbf{a}", "n": r"\mathbf{b}", "p": r"\mathbf{c}"}[left]
        rhs = {"m": r"\mathbf{a}", "n": r"\mathbf{b}", "p": r"\mathbf{c}"}[right]
        body = f"{lhs}^T ({draw(with_variable(left, right, variable, depth))}) {rhs}"
    else:
        inner = draw(st.sampled_from(["m", "n"]))
        e = draw(with_variable(inner, 1, variable, depth))
        body = f"\\log(1 + \\|{e}\\|^2)"
    name = VARIABLES[variable][0]
    # the functions drawn here act entry by entry, also on square matrices
    return f"{GIVEN}\nf = {body}\nwrt: {name}\nfunctions: elementwise\n", name


@st.composite
def vector_objective(draw: st.DrawFn, depth: int = 2) -> tuple[str, str]:
    """(block body, variable) for a random vector function of the vector x."""
    e = draw(with_variable("m", 1, "x", depth))
    return f"{GIVEN}\nF = {e}\nwrt: \\mathbf{{x}}\nfunctions: elementwise\n", r"\mathbf{x}"
