"""block text → parse → shapes → calculus → check → Derivation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# (imported here, not in ``run``: an import statement costs about 2 µs each time it runs,
# and this module is imported only when something is derived, which needs them all)
from .budget import TimeBudgetExceeded, time_budget
from .calculus import derive_problem
from .check import block_seed, check_derivation
from .derivation import Derivation
from .errors import DeriveError
from .options import Options
from .parse import parse_problem

#: Bodies larger than this are refused before parsing (a page is not a data set).
MAX_BODY = 100_000


def run(body: str, defaults: Options, overrides: Mapping[str, Any]) -> Derivation:
    if not isinstance(body, str):
        raise DeriveError("a derive block body must be text")
    if len(body) > MAX_BODY:
        raise DeriveError(f"the block is too long ({len(body)} characters; at most {MAX_BODY})")
    problem = parse_problem(body)
    options = defaults
    for key, value in problem.options.items():
        options = options.merged({key: value}, problem.option_lines.get(key, 1), 1)
    if overrides:  # (merging nothing would only copy the options)
        options = options.merged(dict(overrides))
    if problem.number_as_identity and options.functions != "matrix":
        # 1 + e^{X} inside an entrywise log is 1 + each entry: read again so
        problem = parse_problem(body, options.functions)
    try:
        with time_budget(options.timeout):
            derivation = derive_problem(problem, options)
            if options.check:
                derivation.check = check_derivation(derivation, block_seed(body))
    except TimeBudgetExceeded as error:
        error.line = problem.objective.line  # (the calculus knows no positions)
        raise
    except DeriveError as error:
        if (error.line, error.column) == (1, 1):
            # the calculus knows no positions: what it cannot do is about the objective
            raise DeriveError(error.message, problem.objective.line, 1) from None
        raise
    except RecursionError:
        raise DeriveError(
            "the expression is too deeply nested to derive", problem.objective.line, 1
        ) from None
    return derivation


def clear_memos() -> None:
    """Forget what the engine remembers between blocks (``mdderiv.memos``):
    for benchmarks that must measure a process that has derived nothing yet,
    and for tests."""
    from .memos import forget_all

    forget_all()
