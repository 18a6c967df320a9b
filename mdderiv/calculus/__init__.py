"""The calculus: differentials, trace tricks, simplification and read-off.

``derive_problem`` turns a checked :class:`~mdderiv.problem.Problem` into a
:class:`~mdderiv.derivation.Derivation` (without the numerical check, which
``mdderiv.check`` adds).
"""

from __future__ import annotations

from ..derivation import Derivation, Result, Section
from ..expr import GradientName
from ..options import Options
from ..problem import Problem
from .gradient import gradients
from .secondorder import hessian, stationary_point, symmetric_gradient
from .simplify import push_transpose, simplify


def derive_problem(problem: Problem, options: Options) -> Derivation:
    sections: list[Section] = []
    objective = problem.objective
    if not objective.expr.is_scalar:
        from .jacobian import derivatives

        results = derivatives(problem, options, sections)
        return Derivation(problem, options, sections, results)

    grads = gradients(problem, sections)
    results: list[Result] = []
    extra: list[Result] = []
    for variable, value in grads.items():
        if variable.symmetric:
            extra.append(symmetric_gradient(problem, variable, value, sections))
        if options.hessian:
            extra.append(hessian(problem, variable, value, sections))
        if options.solve:
            point = stationary_point(problem, variable, value, sections)
            if point is not None:
                extra.append(point)
    for variable, value in grads.items():
        label = GradientName(objective.symbol.name, variable)
        if options.layout == "numerator":
            section = Section("layout", about=variable)
            sections.append(section)
            numerator = GradientName(objective.symbol.name, variable, numerator=True)
            rules: list[str] = []
            transposed = simplify(push_transpose(value, rules), rules)
            section.add(numerator, transposed, "layout_numerator", *rules)
            results.append(Result(variable, transposed, numerator, "gradient", "numerator"))
        else:
            results.append(Result(variable, value, label, "gradient", "denominator"))
    return Derivation(problem, options, sections, results + extra)
