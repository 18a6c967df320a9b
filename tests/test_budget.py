"""Robustness (issue 11 §4): long traces derive fast, with low polynomial growth,
and no block can stall a build — the per-block time budget (option ``timeout``)
stops it with an error at its line, cooperatively (no thread left behind, no
signal), and the build goes on."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from support import GOOD, run
from test_plugin import DEFAULT_SITE, MATH, build, fence, make_site, page

import mdderiv
from mdderiv import DeriveError
from mdderiv.markdown.blocks import BlockCache, derive_block
from mdderiv.options import Options

GIVEN = r"given: X \in \mathbb{R}^{m \times n}, B \in \mathbb{R}^{n \times p}, C \in \mathbb{R}^{m \times m}"


def chain(factors: int) -> str:
    """``tr(B^T X^T C X X^T X ⋯ X^T C X B)`` with ``factors`` factors (8 + 2k)."""
    middle = " ".join(["X^T X"] * ((factors - 8) // 2))
    return f"{GIVEN}\nf = \\operatorname{{tr}}(B^T X^T C X {middle} X^T C X B)\nwrt: X"


def best_time(body: str, repeats: int = 3, **options: object) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        mdderiv.derive(body, **options)
        times.append(time.perf_counter() - start)
    return min(times)


def test_a_trace_of_40_factors_derives_and_checks_in_well_under_a_second() -> None:
    mdderiv.derive(chain(10))  # the engine's lazy imports, once
    d = mdderiv.derive(chain(40))
    assert d.check is not None and d.check.passed
    assert best_time(chain(40)) < 0.8  # about 0.1 s on an idle laptop


def test_growth_in_the_number_of_factors_is_low_polynomial() -> None:
    """Doubling the factors costs at most what a cubic would (8×), with room for noise;
    an exponential growth (the old hang) is far beyond."""
    mdderiv.derive(chain(10), check=False)
    small, large = best_time(chain(24), check=False), best_time(chain(48), check=False)
    assert large < 16 * small + 0.05, (small, large)


def test_past_its_time_budget_a_block_is_an_error_at_its_objective_line() -> None:
    mdderiv.derive(chain(10))
    body = chain(120)
    start = time.perf_counter()
    with pytest.raises(DeriveError, match=r"longer than its time budget of 0\.05 s.*option timeout") as caught:
        mdderiv.derive(body, timeout=0.05)
    assert time.perf_counter() - start < 0.5  # stopped at the deadline, not at the end
    assert caught.value.line == 2  # the objective's line


def test_the_budget_is_an_option_line_and_an_info_line_option_and_0_turns_it_off() -> None:
    body = chain(120)
    outcome = derive_block("timeout: 0.05\n" + body)
    assert outcome.error is not None and "time budget of 0.05 s" in outcome.error
    assert outcome.line == 3 and outcome.transient
    outcome = derive_block(body, "timeout=0.05")
    assert outcome.error is not None and outcome.line == 2
    assert mdderiv.derive(chain(12), timeout=0).check is not None
    with pytest.raises(DeriveError, match="option 'timeout' cannot be 'soon'; use a number of seconds"):
        mdderiv.derive("timeout: soon\n" + chain(12))
    with pytest.raises(DeriveError, match="cannot be -1"):
        Options().merged({"timeout": -1})
    assert Options().timeout == 10.0 and Options().merged({"timeout": "2.5"}).timeout == 2.5


def test_a_block_out_of_time_is_not_cached() -> None:
    """Running out of time says something about this run, not about the block."""
    cache = BlockCache(enabled=True)
    body = chain(120)
    assert derive_block(body, "timeout=0.05", cache=cache).error is not None
    assert cache.get(BlockCache.key(body, Options(timeout=0.05))) is None
    good = derive_block(GOOD, cache=cache)
    assert good.ok and cache.get(BlockCache.key(GOOD, Options())) == good


def test_budgets_in_threads_are_their_own_and_leave_no_thread_behind() -> None:
    mdderiv.derive(chain(10))
    before = threading.active_count()

    def late() -> str:
        try:
            mdderiv.derive(chain(120), timeout=0.05)
        except DeriveError as error:
            return error.message
        return "derived"

    def unhurried() -> str:
        mdderiv.derive(chain(48), timeout=0)
        return "derived"

    with ThreadPoolExecutor(2) as pool:
        stopped, finished = pool.submit(late), pool.submit(unhurried)
        assert "time budget" in stopped.result()
        assert finished.result() == "derived"
    assert threading.active_count() == before


def test_cli_takes_the_budget_as_a_flag() -> None:
    result = run("-m", "mdderiv", "derive", "--timeout", "0.05", "-", input=chain(120).encode())
    assert result.returncode != 0
    assert re.search(rb"<stdin>:2:1: the derivation took longer than its time budget", result.stderr), result.stderr


@pytest.mark.slow
def test_mkdocs_build_reports_the_block_at_page_line_and_goes_on(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = "# Page\n\n" + fence(chain(120), " timeout=0.05") + "\n\nAfter.\n\n" + fence(GOOD) + "\n"
    fence_line = text.splitlines().index("```derive timeout=0.05") + 1
    root = make_site(tmp_path, DEFAULT_SITE, {"index.md": "# Home\n", "page.md": text})
    status, log = build(root)
    assert status == 0, log
    assert re.search(rf"docs/page\.md:{fence_line + 2}:1: the derivation took longer than its time budget", log), log
    html = page(root, "page/index.html")
    assert 'class="mdderiv-error admonition failure"' in html and "<p>After.</p>" in html
    assert len(MATH.findall(html)) == 1  # the other block derived
    assert "Traceback" not in log
