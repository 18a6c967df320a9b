"""Fixtures shared by the integration tests (helpers live in ``support.py``)."""

from __future__ import annotations

import pytest
from support import fake_derive

import mdderiv
from mdderiv.markdown.blocks import STATS, BlockCache


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace the engine where a test is only about finding and splicing blocks."""
    monkeypatch.setattr(mdderiv, "derive", fake_derive)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # the in-memory cache is process-wide and does not know about fake engines
    BlockCache.clear_memory()
    STATS.reset()
