"""Shape stage: block text → checked Problem (contract seeds, structure, errors)."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import pytest

from mdderiv.errors import DeriveError
from mdderiv.expr import (
    SPD,
    Add,
    Det,
    DimValue,
    Elementwise,
    IndexedSum,
    Inverse,
    MatMul,
    Number,
    Power,
    Symbol,
    Trace,
    Transpose,
)
from mdderiv.shapes import parse_problem

CONTRACT = Path("/work/shared/contract_check.py")


def _contract():  # type: ignore[no-untyped-def]
    if not CONTRACT.exists():
        pytest.skip("contract_check.py not available")
    sys.path.insert(0, str(CONTRACT.parent))
    try:
        import contract_check  # type: ignore[import-not-found]
    except ImportError:  # numpy missing
        pytest.skip("contract_check needs numpy")
    return contract_check


def test_contract_cases_parse() -> None:
    cc = _contract()
    for name, body, syms, wrt, _f in cc.CASES:
        problem = parse_problem(body)
        for ident, (shape, _kind) in syms.items():
            assert problem.symbols[ident].shape == shape, name
        assert wrt in [s.name for s in problem.wrt], name
        assert problem.objective.expr.shape == (1, 1), name


def test_contract_bad_blocks_raise_at_line() -> None:
    cc = _contract()
    for name, body, line in cc.BAD:
        with pytest.raises(DeriveError) as info:
            parse_problem(body)
        want = 3 if line is None else line  # wrt-absent: at the wrt line
        assert info.value.line == want, name


def test_aTXb_structure() -> None:
    p = parse_problem(
        "given: \\mathbf{a} \\in \\mathbb{R}^{m}, X \\in \\mathbb{R}^{m \\times n}, \\mathbf{b} \\in \\mathbb{R}^{n}\n"
        "f = \\mathbf{a}^T X \\mathbf{b}\nwrt: X"
    )
    a, X, b = Symbol("a", ("m", 1)), Symbol("X", ("m", "n")), Symbol("b", ("n", 1))
    assert p.objective.expr == MatMul((Transpose(a, (1, "m")), X, b), (1, 1))
    assert p.symbols["a"].latex == "\\mathbf{a}"
    assert p.wrt == [X]
    assert p.dims == ["m", "n"]
