"""The check's draws: the cheaper ways they are made give exactly the numbers of
the plain formulas (the points, and so every check outcome, stay the same)."""

from __future__ import annotations

import numpy as np
import pytest

import mdderiv
from mdderiv.check import _directions, _draw_one
from mdderiv.expr import SPD
from mdderiv.numeric import Evaluator


@pytest.mark.parametrize("rows", [1, 2, 3, 5])
def test_a_positive_definite_draw_is_a_a_transpose_plus_rows_times_the_identity(rows: int) -> None:
    drawn = _draw_one(frozenset({SPD}), rows, rows, np.random.default_rng(7), careful=False)
    a = np.random.default_rng(7).standard_normal((rows, rows))
    expected = a @ a.T + rows * np.eye(rows)
    assert drawn.tobytes() == expected.tobytes()
    assert drawn.flags.c_contiguous and drawn.shape == (rows, rows)
    assert np.all(np.linalg.eigvalsh(drawn) > 0)


def test_symmetric_directions_are_each_drawn_direction_made_symmetric() -> None:
    d = mdderiv.derive("given: X \\in \\mathbb{S}^{n}, A \\in \\mathbb{R}^{n \\times n}\nf = \\operatorname{tr}(X A X)\nwrt: X")
    result = d.results[0]
    point = Evaluator({"X": np.eye(4), "A": np.eye(4)}, {"n": 4}, d.problem, ready=True)
    directions = _directions(result, point, np.random.default_rng(11))
    drawn = np.random.default_rng(11).standard_normal((2, 4, 4))
    expected = [(v + v.T) / 2 for v in drawn]
    assert len(directions) == len(expected)
    for got, want in zip(directions, expected, strict=True):
        assert got.tobytes() == want.tobytes()
        assert got.strides == want.strides
