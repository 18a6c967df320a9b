"""The time budget of one block (the ``timeout`` option).

No block may stall a site build.  The engine asks :func:`check_time` in its
loops (each simplification pass over a node, each differential, each
read-off, each point of the numerical check); past the deadline it raises
:class:`TimeBudgetExceeded`, a :class:`~mdderiv.errors.DeriveError`, which the
integrations report at the block like any other error.  Cooperative on
purpose: no thread is left running and no signal is used, so it works in any
thread and in worker processes alike.  The deadline lives in a context
variable, so blocks derived in parallel threads each keep their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from time import monotonic
from typing import ClassVar

from .errors import DeriveError


class TimeBudgetExceeded(DeriveError):
    """The block took longer than its ``timeout``: a fact about this run on
    this machine, not about the block, so integrations do not cache it."""

    transient: ClassVar[bool] = True


#: (deadline on the monotonic clock, the budget in seconds) of the block being derived
_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("mdderiv_deadline", default=None)


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Derive within ``seconds`` (0: no budget).  Nested budgets keep the
    earlier deadline."""
    outer = _DEADLINE.get()
    deadline = monotonic() + seconds if seconds > 0 else None
    if deadline is None or (outer is not None and outer[0] <= deadline):
        yield
        return
    token = _DEADLINE.set((deadline, seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def check_time() -> None:
    """Raise :class:`TimeBudgetExceeded` when the block's deadline has passed."""
    budget = _DEADLINE.get()
    if budget is not None and monotonic() > budget[0]:
        raise TimeBudgetExceeded(
            f"the derivation took longer than its time budget of {budget[1]:g} s and was "
            "stopped; split the objective with intermediate names, or give it more time "
            "with the option timeout (timeout: 0 turns the budget off)"
        )
