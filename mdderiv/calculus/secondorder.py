"""Beyond the gradient: Hessians, stationary points, symmetric variables.

* Hessian: the differential of the gradient, vectorised:
  ``vec(d ∂f/∂X) = H vec(dX)`` gives ``d²f = vec(dX)^T H vec(dX)``.
* Stationary point: where the gradient is affine in the variable (after
  multiplying by the variable on both sides when it appears inverted, as in the
  covariance estimate), solve ``∂f/∂X = 0``; otherwise say there is no closed form.
* Symmetric variable: the gradient on the space of symmetric matrices is
  ``sym(G) = (G + G^T)/2``.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from ..errors import DeriveError
from ..expr import (
    SCALAR,
    Add,
    Commutation,
    Differential,
    Expr,
    GradientName,
    Identity,
    Inverse,
    Kron,
    MatMul,
    Norm,
    NormKind,
    Number,
    Symbol,
    Transpose,
    Zeros,
    add,
    free_symbols,
    has_differential,
    inverse,
    map_tree,
    mul,
    neg,
    num,
    transpose,
)
from ..functions import kink_test
from ..problem import Problem
from ..record import Layout, Result, ResultKind, Section, SectionKind
from ..rules import RuleId
from .citations import RulesUsed
from .differential import MatrixFunctionRefused, differential
from .gradient import active_symbols
from .jacobian import derivative_matrix, derivative_matrix_of, inline_definitions
from .rewrite import distribute_products, unfold_norms
from .folding import fold_norms, written_norms
from .simplify import simplify
from .sums import factor_terms
from .transposes import is_symmetric, push_transpose
from .vectorize import vec_of


def hessian(problem: Problem, variable: Symbol, gradient: Expr) -> tuple[Section, Result]:
    """The Hessian's section and its result."""
    _, intermediates = active_symbols(problem)
    objective = problem.objective.symbol.name
    section = Section(SectionKind.HESSIAN, about=variable)
    label = GradientName(objective, variable)
    # norms in the gradient go back to inner products, the form the rules differentiate
    unfolded = unfold_norms(gradient)
    if unfolded != gradient:
        section.add(label, unfolded, RuleId.NORM_POWER)
    expr = inline_definitions(problem, unfolded, intermediates)
    if expr != unfolded:
        section.add(None if unfolded != gradient else label, expr, RuleId.SUBSTITUTE)
    name = GradientName(objective, variable, hessian=True)
    used = RulesUsed()
    try:
        d_gradient = differential(expr, frozenset({variable}), used)
    except DeriveError as error:
        if _has_nuclear_norm(problem):
            raise DeriveError(
                "the Hessian of a nuclear norm \\|X\\|_* needs the differential of (X^T X)^{-1/2} in its "
                "gradient, which has no closed form in dX (X^T X and its differential need not commute); "
                "mdderiv derives its gradient only: leave out hessian: true",
                error.line,
                error.column,
            ) from None
        if isinstance(error, MatrixFunctionRefused):
            raise DeriveError(
                "mdderiv derives the gradient (leave out hessian: true) but not its Hessian, which needs d f(X) "
                f"itself: the gradient holds a matrix function f(X) outside any trace; {error.message}"
            ) from None
        raise
    if d_gradient is None:
        return section, _zero_hessian(expr, variable, section, label, name)
    m = derivative_matrix_of(expr, d_gradient, used, variable, section, Differential(label))
    note = "hessian_symmetric" if variable.symmetric and not variable.is_scalar else None
    section.add(name, m, RuleId.READ_OFF_HESSIAN, note=note)
    folds = RulesUsed()
    folded = fold_norms(m, written_norms(problem), folds)
    if folded != m:
        section.add(None, folded, *folds)
    return section, Result(variable, folded, name, ResultKind.HESSIAN, Layout.DENOMINATOR)


def _has_nuclear_norm(problem: Problem) -> bool:
    return any(
        isinstance(node, Norm) and node.kind == NormKind.NUCLEAR
        for definition in problem.definitions
        for node in definition.expr.walk()
    )


def _zero_hessian(gradient: Expr, variable: Symbol, section: Section, label: GradientName, name: GradientName) -> Result:
    """The Hessian of an objective whose gradient does not depend on the
    variable: zero — for a linear objective everywhere, and where the gradient
    holds a kink function's derivative (ReLU's indicator, the sign of ``|u|``
    or of ``‖u‖_1``), wherever it is defined: the gradient is constant on each
    piece, and not differentiable across the kinks."""
    kinked = any(
        (found := kink_test(node)) is not None and variable in free_symbols(found[0]) for node in gradient.walk()
    )
    note = "hessian_zero_kinks" if kinked else None
    if variable.is_scalar:
        zero: Expr = num(0)
        section.add(Differential(label), zero, RuleId.HESSIAN_ZERO, note=note)
    else:
        section.add(Differential(label), Zeros(variable.shape), RuleId.HESSIAN_ZERO, note=note)
        size = vec_of(variable).shape[0]
        zero = Zeros((size, size))
    section.add(name, zero, RuleId.READ_OFF_HESSIAN)
    return Result(variable, zero, name, ResultKind.HESSIAN, Layout.DENOMINATOR)


def _contains_inverse_of(expr: Expr, variable: Symbol) -> bool:
    return any(isinstance(n, Inverse) and n.arg == variable for n in expr.walk())


def _substitute(expr: Expr, variable: Symbol, value: Expr) -> Expr:
    return map_tree(expr, lambda n: value if n == variable else n)


def stationary_point(problem: Problem, variable: Symbol, gradient: Expr) -> tuple[Section, Result | None]:
    """Solve ``gradient = 0`` where it is affine in the variable, or in its
    inverse, or becomes affine after multiplying both sides by the variable:
    the section, and the solution (None where there is no closed form)."""
    _, intermediates = active_symbols(problem)
    section = Section(SectionKind.SOLVE, about=variable)
    expr = inline_definitions(problem, gradient, intermediates)
    zero = Zeros(variable.shape)
    section.add(expr, zero, RuleId.STATIONARY)

    solution = _solve_affine(expr, variable, section)
    if solution is None and _contains_inverse_of(expr, variable):
        # affine in X^{-1}: solve for Y = X^{-1}, then invert
        inverse_symbol = Symbol(variable.name + "_inv", variable.shape, variable.props)
        replaced = map_tree(expr, lambda n: inverse_symbol if n == Inverse(variable, variable.shape) else n)
        if variable not in free_symbols(replaced):
            y = _solve_affine(replaced, inverse_symbol, None)
            if y is not None:
                solution = simplify(inverse(y))
                section.add(Inverse(variable, variable.shape), y, RuleId.SOLVE_LINEAR)
        if solution is None:
            sides = mul(variable, expr, variable)
            distributed = distribute_products(sides)
            multiplied = simplify(distributed[0] if distributed else sides)
            if not _contains_inverse_of(multiplied, variable):
                section.add(multiplied, zero, RuleId.MULTIPLY_SIDES)
                solution = _solve_affine(multiplied, variable, section)
    if solution is None:
        last = section.steps[-1]
        section.steps[-1] = replace(last, note="no_closed_form")
        return section, None
    section.add(variable, solution, RuleId.SOLVE_LINEAR)
    return section, Result(variable, solution, variable, ResultKind.STATIONARY_POINT, Layout.DENOMINATOR)


def _solve_affine(expr: Expr, variable: Symbol, section: Section | None) -> Expr | None:
    """X with ``expr(X) = 0`` when ``expr`` is affine in X: ``M vec(X) + C``."""
    scratch = Section(SectionKind.SCRATCH)
    try:
        m = derivative_matrix(expr, variable, scratch, Differential(variable))
    except DeriveError:
        return None
    zero = Zeros(variable.shape)
    constant = simplify(_substitute(expr, variable, zero))
    if variable in free_symbols(m) or has_differential(m) or variable in free_symbols(constant):
        return None
    if section is not None:
        try:
            linear = simplify(add(_apply(m, variable), constant))
        except DeriveError:
            linear = expr
        if linear != expr:
            section.add(linear, zero, RuleId.DISTRIBUTE)
    return _solve(m, constant, variable)


def _linear_map(m: Expr, variable: Symbol) -> tuple[str, Expr | None] | None:
    """Which matrix product ``M vec(X)`` is, for the forms of M that read back as
    one: ("identity", None) X, ("scaled", c) cX, ("left", A) AX, ("right", B^T) XB,
    ("transposed", c) cX^T, ("vector", M) Mx for a vector x; None otherwise."""
    if isinstance(m, Identity):
        return "identity", None
    if m.is_scalar:
        return "scaled", m
    if isinstance(m, MatMul) and len(m.factors) == 2 and isinstance(m.factors[1], Identity):
        return "scaled", m.factors[0]
    if variable.shape[1] == 1:
        return "vector", m
    factors = m.factors if isinstance(m, MatMul) else (num(1), m)
    if len(factors) == 2 and isinstance(factors[1], Commutation) and isinstance(factors[0], Number):
        return "transposed", factors[0]
    if isinstance(m, Kron) and isinstance(m.left, Identity):
        return "left", m.right
    if isinstance(m, Kron) and isinstance(m.right, Identity):
        return "right", m.left
    return None


def _apply(m: Expr, variable: Symbol) -> Expr:
    """``M vec(X)`` written back as a matrix expression where M allows it."""
    form = _linear_map(m, variable)
    if form is None or form[0] == "transposed":
        raise DeriveError("internal: cannot write this linear map as a matrix product")
    kind, operand = form
    if kind == "identity":
        return variable
    assert operand is not None
    if kind == "right":
        return mul(variable, transpose(operand))
    return mul(operand, variable)  # scaled, vector, left


def _solve(m: Expr, constant: Expr, variable: Symbol) -> Expr | None:
    """X with M vec(X) + vec(C) = 0, when M has a form that inverts neatly."""
    form = _linear_map(m, variable)
    if form is None:
        return None
    kind, operand = form
    minus_c = neg(constant)
    if kind == "identity":
        return simplify(minus_c)
    assert operand is not None
    if kind == "scaled":  # c X + C = 0
        return simplify(mul(_inverse_scalar(operand), minus_c))
    if kind == "transposed":  # c X^T + C = 0
        return simplify(transpose(mul(_inverse_scalar(operand), minus_c)))
    if kind == "right":  # X B + C = 0
        b = transpose(operand)
        if _rank_deficient(b):
            return None
        return simplify(mul(minus_c, Inverse(b, b.shape)))
    if _rank_deficient(operand):
        return None
    return simplify(mul(Inverse(operand, operand.shape), minus_c))  # A X + C = 0, M x + c = 0


def _rank_deficient(m: Expr) -> bool:
    """Whether the square ``m`` has no inverse whatever the sizes: a product
    through a vector (``x a^T x x^T``: rank one), or a sum of such products
    (rank at most the number of terms).  Then ``m X + C = 0`` has no unique
    solution, and writing ``m^{-1}`` would be wrong."""
    if 1 in m.shape:
        return False
    if isinstance(m, Transpose):
        return _rank_deficient(m.arg)
    if isinstance(m, Add):
        return all(_rank_deficient(t) for t in m.terms)
    if isinstance(m, MatMul):
        return any(f.shape != SCALAR and 1 in f.shape for f in m.factors)
    return False


def _inverse_scalar(value: Expr) -> Expr:
    from ..expr import Number, power

    if isinstance(value, Number):
        return num(1 / value.value)
    return power(value, Fraction(-1))


def _transpose_all(expr: Expr, rules: RulesUsed) -> Expr:
    """G^T with the transpose pushed into sums and products too, so that like
    terms of G and G^T can meet."""
    if isinstance(expr, Add):
        return add(*(_transpose_all(t, rules) for t in expr.terms))
    if isinstance(expr, MatMul):
        return mul(*(_transpose_all(f, rules) for f in reversed(expr.factors)))
    return push_transpose(expr, rules)


def symmetric_gradient(problem: Problem, variable: Symbol, gradient: Expr) -> tuple[Section, Result]:
    """The gradient on the symmetric matrices, sym(G): its section and result."""
    section = Section(SectionKind.SYMMETRIC, about=variable)
    objective = problem.objective.symbol.name
    label = GradientName(objective, variable)
    half = mul(num(Fraction(1, 2)), add(label, transpose(label)))
    rules = RulesUsed()
    rules.note(RuleId.SYM_GRADIENT)
    if is_symmetric(gradient):
        value = gradient
        rules.note(RuleId.SYMMETRIC)
    else:
        transposed = simplify(_transpose_all(gradient, rules), rules)
        half_sum = mul(num(Fraction(1, 2)), add(gradient, transposed))
        expanded = distribute_products(half_sum)
        value = simplify(expanded[0] if expanded else half_sum, rules)
        if isinstance(value, Add):  # (1/2)A + (1/2)A^T = (1/2)(A + A^T)
            value = factor_terms(list(value.terms), rules, nested=True)
    section.add(half, value, *rules, note="sym_note")
    return section, Result(variable, value, label, ResultKind.SYMMETRIC_GRADIENT, Layout.DENOMINATOR)
