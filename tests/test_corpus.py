r"""The authors' corpus (issue 11): blocks copied in the spellings of ML, statistics
and control notes, each with its own NumPy objective (``tests/corpus/authors.yaml``).

For every block, derived with the check off: either every result agrees with central
finite differences of the corpus's NumPy objective at random points of its domain
(derived), or the engine refuses with a DeriveError that says why (refused).  A wrong
gradient or Hessian, a scalar objective answered with the derivative of a non-scalar
reading, and an internal error are failures, always; the ones main still has are
``xfail(strict=True)`` with the reason (``xfail:`` in the corpus), so the test turns
red the moment one is fixed and the mark must go.

The derived fraction must not fall below what main reaches; the target of issue 11
is 95%.  ``python benchmarks/corpus.py --details`` prints the table and every block
that is not derived.
"""

from __future__ import annotations

import functools

import pytest
from corpus_harness import Entry, Verdict, judge, load, summary

ENTRIES = load()

#: the derived fraction of all blocks that main reaches today, rounded down (issue 11's
#: target: 0.95); the blocks marked ``ambiguous`` count here too, a refusal being right there
DERIVED_AT_LEAST = 0.95  # 261/274: nuclear norm, zero Hessians, tr log(1 + e^X) (issue 11 asks 95%)


@functools.cache
def verdict_of(entry_id: str) -> Verdict:
    (entry,) = [e for e in ENTRIES if e.id == entry_id]
    return judge(entry)


def _param(entry: Entry) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=entry.xfail)] if entry.xfail else []
    return pytest.param(entry, id=entry.id, marks=marks)


@pytest.mark.parametrize("entry", [_param(e) for e in ENTRIES])
def test_block_is_derived_correctly_or_refused_clearly(entry: Entry) -> None:
    verdict = verdict_of(entry.id)
    assert verdict.kind in ("derived", "refused"), f"{verdict.kind}: {verdict.detail}\n{entry.block}"
    if verdict.kind == "refused":
        # a clear refusal says what is wrong, in words, not a Python repr
        assert "Traceback" not in verdict.detail and not verdict.detail.startswith(("'", "<")), verdict.detail


def test_every_derived_block_passes_the_numerical_check_too() -> None:
    """As a page derives it (check on), a block whose result is right must not be
    refused by the check, nor stop with an internal error."""
    failing = {e.id: verdict_of(e.id).checked for e in ENTRIES
               if verdict_of(e.id).kind == "derived" and verdict_of(e.id).checked != "passed"}
    assert not failing, f"{len(failing)} derived blocks fail with the check on, e.g. {list(failing.items())[:3]}"


def test_corpus_ids_and_categories_are_well_formed() -> None:
    assert len(ENTRIES) >= 120
    assert len({e.id for e in ENTRIES}) == len(ENTRIES)
    assert all(e.category and e.block.count("wrt:") == 1 for e in ENTRIES)


def test_derived_fraction_reaches_the_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    verdicts = {e.id: verdict_of(e.id) for e in ENTRIES}
    table = summary(ENTRIES, verdicts)
    with capsys.disabled():
        print("\n\nauthors' corpus (issue 11)\n" + table)
    derived = sum(v.kind == "derived" for v in verdicts.values())
    assert derived / len(ENTRIES) >= DERIVED_AT_LEAST, table
    # an xfail mark only where the block is still wrong or internal (strict xfail also
    # catches this per block; here the message names them all at once)
    stale = [e.id for e in ENTRIES if e.xfail and verdicts[e.id].kind in ("derived", "refused")]
    assert not stale, f"fixed now, remove their xfail marks: {stale}"


def test_the_benchmark_script_prints_the_table_and_fails_on_a_wrong_block() -> None:
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "corpus.py"
    run = subprocess.run([sys.executable, str(script), "--details"], capture_output=True, timeout=240, check=False)
    out = run.stdout.decode("utf-8", errors="replace")
    assert "| category | blocks | derived | refused | wrong | internal |" in out, run.stderr[-2000:]
    assert "derived correctly:" in out
    bad = any(verdict_of(e.id).kind in ("wrong", "internal") for e in ENTRIES)
    assert run.returncode == (1 if bad else 0), out[-3000:]


def test_the_harness_tells_a_wrong_gradient() -> None:
    """Guard against a vacuous comparison: an objective whose NumPy differs from the
    block's is judged wrong (a plain and a symmetric variable, with and without the
    Hessian); the same blocks with their own NumPy are derived."""
    block = "given: A \\in \\mathbb{R}^{n \\times n}, \\mathbf{x} \\in \\mathbb{R}^{n}\nf = \\mathbf{x}^T A \\mathbf{x}\nwrt: \\mathbf{x}"
    assert judge(Entry("self-right", "self", block, "x.T @ A @ x")).kind == "derived"
    assert judge(Entry("self-wrong", "self", block, "3 * x.T @ A @ x")).kind == "wrong"
    assert judge(Entry("self-hessian", "self", block + "\nhessian: true", "x.T @ A @ x")).kind == "derived"
    assert judge(Entry("self-hessian-wrong", "self", block + "\nhessian: true", "x.T @ A @ x + (x.T @ x)**2")).kind == "wrong"
    symmetric = "given: X \\in \\mathbb{S}^{n}, A \\in \\mathbb{R}^{n \\times n}\nf = \\operatorname{tr}(A X)\nwrt: X"
    assert judge(Entry("self-sym", "self", symmetric, "tr(A @ X)")).kind == "derived"
    assert judge(Entry("self-sym-wrong", "self", symmetric, "tr(A @ X.T @ X)")).kind == "wrong"
