"""Smoke test of the engine benchmark: the quick run finishes and prints its table.

No timing is asserted (timings depend on the machine); the benchmark itself
reports the numbers.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "engine.py"


@pytest.mark.slow
def test_engine_benchmark_quick_run_prints_its_tables() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--no-write"],
        cwd=ROOT, capture_output=True, timeout=240, check=False,
    )
    out = result.stdout.decode("utf-8", errors="replace")
    assert result.returncode == 0, result.stderr.decode("utf-8", errors="replace")[-3000:]
    assert "## Engine" in out
    assert "| case | mdderiv ms |" in out  # the derive-time table
    assert "| L | definitions ms |" in out  # the depth table
    assert "| objective | derive ms |" in out  # the Hessian table
    for case in ("seed: aTXb", "seed: covariance-sum", "tr(AXB)", "log\\|X\\|"):
        assert f"| {case} |" in out, case
    assert "mdderiv wrong" not in out  # every mdderiv gradient agreed with finite differences
    assert "| factors | mdderiv ms |" in out  # the long-trace table (issue 11 §4)
    assert "40 factors:" in out and "target under 1 s: met" in out


@pytest.mark.slow
def test_site_benchmark_quick_run_prints_every_row(tmp_path: Path) -> None:
    """A tiny site: every row is measured and both targets get a verdict."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "site.py"), "--pages", "3", "--blocks", "2",
         "--rounds", "1", "--dir", str(tmp_path), "--no-write"],
        cwd=ROOT, capture_output=True, timeout=240, check=False,
    )
    out = result.stdout.decode("utf-8", errors="replace")
    assert result.returncode == 0, result.stderr.decode("utf-8", errors="replace")[-3000:]
    assert "## Site build" in out
    table = [line for line in out.splitlines() if line.startswith("| ") and not line.startswith(("| build", "| ---"))]
    assert len(table) == 14, table
    # the cold rows derived every block, the unchanged rebuild none
    assert "| 6 |" in next(line for line in table if "`workers: 0`" in line)
    assert next(line for line in table if "nothing changed" in line).endswith("| 0 |")
    assert "Cold build at most 2× the plain build" in out and "Cached rebuild within 10%" in out
    # the floor of any SuperFences fence is measured, and the rebuild verdict compares with it
    assert any("floor of any SuperFences fence" in line for line in table)
    assert "Above that floor" in out
    # the page weight a derivation adds is reported, and the stylesheet file was found
    weight = next(line for line in out.splitlines() if line.startswith("Page weight: a derivation adds"))
    assert " 0.0 kB for the whole site" not in weight
