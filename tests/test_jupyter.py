"""Jupyter: ``%load_ext mdderiv``, ``%%derive`` cells, rich display, brief errors —
checked on a real notebook run by nbclient in an ipykernel kernel."""

from __future__ import annotations

import re

import pytest
from support import BAD, BAD_LINE, GOOD, GOOD2

import mdderiv
from mdderiv.jupyter import CellError, derive_cell


def fenced(body: str, info: str = "") -> str:
    return f"```derive{info}\n{body}\n```\n"


def test_a_body_pasted_with_its_fence_derives_like_the_body() -> None:
    assert mdderiv.derive(fenced(GOOD)).latex() == mdderiv.derive(GOOD).latex()
    # the info line gives options, as in a page; keyword options still win
    assert mdderiv.derive(fenced(GOOD, " layout=numerator")).options.layout == "numerator"
    assert mdderiv.derive(fenced(GOOD, " layout=numerator"), layout="denominator").options.layout == "denominator"
    assert mdderiv.derive("\n  ~~~~derive{check=false}\n" + GOOD + "\n  ~~~~\n\n").options.check is False


def test_errors_in_a_fenced_body_count_from_the_fence_line() -> None:
    with pytest.raises(mdderiv.DeriveError) as body_error:
        mdderiv.derive(fenced(BAD))
    with pytest.raises(mdderiv.DeriveError) as bare_error:
        mdderiv.derive(BAD)
    assert body_error.value.line == BAD_LINE + 1 == bare_error.value.line + 1
    assert body_error.value.column == bare_error.value.column
    with pytest.raises(mdderiv.DeriveError) as info_error:
        mdderiv.derive(fenced(GOOD, " layout=sideways"))
    assert (info_error.value.line, info_error.value.column) == (1, len("```derive ") + 1)
    assert "sideways" in info_error.value.message


@pytest.mark.parametrize("text", ["```python\nx = 1\n```\n", fenced(GOOD) + "\nmore text\n", fenced(GOOD) * 2])
def test_a_fence_that_is_not_one_derive_block_is_refused(text: str) -> None:
    with pytest.raises(mdderiv.DeriveError, match="one ```derive fence"):
        mdderiv.derive(text)


def test_a_derivation_displays_as_html_markdown_and_latex() -> None:
    derivation = mdderiv.derive(GOOD)
    latex = derivation.latex()
    assert derivation._repr_latex_() == f"$${latex}$$"
    assert derivation._repr_markdown_().strip() == f"$$\n{latex}\n$$"
    html = derivation._repr_html_()
    assert html.startswith('<div class="arithmatex">\\[') and html.endswith("\\]</div>")
    assert "&amp;" in html and "&=" not in html  # aligned's & escaped for HTML


def test_cell_positions_count_the_magic_line() -> None:
    with pytest.raises(CellError) as body_error:
        derive_cell("", BAD, "In[7]")
    bare = pytest.raises(mdderiv.DeriveError, mdderiv.derive, BAD).value
    assert str(body_error.value) == f"In[7]:{bare.line + 1}:{bare.column}: {bare.message}"
    with pytest.raises(CellError) as option_error:
        derive_cell("check=false layout=sideways", GOOD, "In[8]")
    assert (option_error.value.line, option_error.value.column) == (1, len("%%derive check=false ") + 1)


NOTEBOOK_CELLS = [
    "%load_ext mdderiv",
    "%%derive\n" + GOOD,
    "%%derive\n" + BAD,
    "%%derive layout=numerator check=false\n" + GOOD2,
    "%%derive layout=sideways\n" + GOOD,
    "import mdderiv\nmdderiv.derive('''" + fenced(GOOD2).replace("\\", "\\\\") + "''', layout='numerator')",
    "mdderiv.derive(" + repr(BAD) + ")",
]


@pytest.mark.slow
def test_a_notebook_runs_in_a_real_kernel() -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in NOTEBOOK_CELLS]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    # allow_errors: the bad cells fail (as errors do) and the cells after them still run
    nbclient.NotebookClient(notebook, timeout=120, allow_errors=True, kernel_name="python3").execute()
    load, good, bad, options, bad_option, pasted, plain_error = (cell.outputs for cell in notebook.cells)

    assert load == []
    expected = mdderiv.derive(GOOD)
    (result,) = good
    assert result["output_type"] == "execute_result"
    assert result["data"]["text/html"] == expected._repr_html_()
    assert result["data"]["text/markdown"] == expected._repr_markdown_()
    assert result["data"]["text/latex"] == expected._repr_latex_()
    assert "▶" in result["data"]["text/plain"]  # a terminal gets the Unicode derivation

    bare = pytest.raises(mdderiv.DeriveError, mdderiv.derive, BAD).value
    (error,) = bad
    assert error["output_type"] == "error" and error["ename"] == "CellError"
    where = f"In[3]:{BAD_LINE + 1}:{bare.column}: {bare.message}"
    assert error["evalue"] == where
    assert error["traceback"] == [f"CellError: {where}"]  # one line, no frames

    (numerator,) = options
    assert numerator["data"]["text/latex"] == mdderiv.derive(GOOD2, layout="numerator", check=False)._repr_latex_()
    assert "checked numerically" in result["data"]["text/plain"]
    assert "checked numerically" not in numerator["data"]["text/plain"]

    (error,) = bad_option
    assert re.fullmatch(r"CellError: In\[5\]:1:10: option 'layout' cannot be 'sideways'.*", error["traceback"][0])

    (pasted_result,) = pasted
    assert pasted_result["data"]["text/latex"] == mdderiv.derive(GOOD2, layout="numerator")._repr_latex_()

    (error,) = plain_error
    assert error["traceback"] == [f"DeriveError: {bare}"]
