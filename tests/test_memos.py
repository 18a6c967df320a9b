"""What the engine remembers between blocks has an owner and one switch."""

from __future__ import annotations

import mdderiv
from mdderiv import memos
from mdderiv.markdown import blocks, plugin
from mdderiv.pipeline import clear_memos
from mdderiv.render import latex as render_latex
from mdderiv.syntax import tokens as syntax_tokens

BODY = "given: A \\in \\mathbb{R}^{m \\times n}, \\mathbf{x} \\in \\mathbb{R}^{n}\nf = \\|A\\mathbf{x}\\|^2\nwrt: \\mathbf{x}"


def test_clear_memos_empties_every_table_kept_between_blocks() -> None:
    first = mdderiv.derive(BODY).latex()
    blocks.BlockCache.key(BODY, mdderiv.Options())
    plugin._display_name("/site/docs/page.md", plugin.Path("/site"))
    tables = [syntax_tokens._TOKEN_MEMO, blocks._KEY_PREFIXES, plugin._DISPLAY_NAMES, render_latex._PRINTERS]
    assert all(len(table) > 0 for table in tables)
    assert render_latex.text_latex.cache_info().currsize > 0  # type: ignore[attr-defined]
    clear_memos()
    assert all(len(table) == 0 for table in tables)
    assert render_latex.text_latex.cache_info().currsize == 0  # type: ignore[attr-defined]
    assert mdderiv.derive(BODY).latex() == first  # and nothing is lost by forgetting


def test_a_full_table_is_emptied_not_grown() -> None:
    table: memos.Remembered[str, int] = memos.Remembered("test", limit=3)
    for k in range(7):
        table.remember(str(k), k)
        assert len(table) <= 3
    assert table["6"] == 6
