"""Bad input always gives a DeriveError with a line and a column: never another
exception, never a hang, never a wrong derivation."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mdderiv

GOOD = [
    "given: a: m, X: m x n, b: n\nf = a^T X b\nwrt: X",
    r"""given: \Sigma \in \mathbb{S}_{++}^{m}, Z \in \mathbb{R}^{m \times n}
l = \log|\Sigma| + \frac{1}{n}\operatorname{tr}(Z^T \Sigma^{-1} Z)
wrt: \Sigma""",
    r"""given: W \in \mathbb{R}^{p \times m}, X \in \mathbb{R}^{m \times n}, M \in \mathbb{S}^{p}
Y = \sigma(WX)
f = \operatorname{tr}(Y^T M Y)
wrt: X""",
    r"""given: W \in \mathbb{R}^{m \times n}, \mathbf{x} \in \mathbb{R}^{n}, \mathbf{y} \in \mathbb{R}^{m}
given: \mathbf{y} \text{ one-hot}
l = -\mathbf{y}^T \log \operatorname{softmax}(W\mathbf{x})
wrt: W""",
]


def derive_or_error(body: str, **options: object) -> mdderiv.Derivation | mdderiv.DeriveError:
    try:
        return mdderiv.derive(body, **options)
    except mdderiv.DeriveError as error:
        assert error.line >= 1 and error.column >= 1
        assert error.message
        assert "internal" not in error.message, error.message
        assert "numerical check failed" not in error.message, error.message
        return error


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ("given: a: n, X: m x n\nf = a^T X\nwrt: X", 2, "cannot multiply"),
        ("given: X: m x n\nf = \\operatorname{tr}(X^T Q)\nwrt: X", 2, "undeclared symbol Q"),
        ("given: X: n x n, Y: n x n\nf = \\operatorname{tr}(X)\nwrt: Y", 3, "does not depend on"),
        ("given: X: n x n\nf = \\operatorname{tr}(X)\nwrt: Z", 3, "Z"),
        ("given: X: m x n\nf = \\operatorname{tr}(X)\nwrt: X", 2, "square"),
        ("given: X: m x n\nf = \\log|X|\nwrt: X", 2, "square"),
        ("given: X: m x n\nf = \\operatorname{tr}(X^{-1})\nwrt: X", 2, "square"),
        ("given: X: n x n\nf = \\operatorname{tr}(X^{-1}\nwrt: X", 2, "("),
        ("given: X: n x n\nf = \\operatorname{tr}{X\nwrt: X", 2, ""),
        ("given: X: n x n\nf = \\foo(X)\nwrt: X", 2, "\\foo"),
        ("", 1, ""),
        ("% only a comment\n\n", 1, ""),
        ("given: X: n x n\nwrt: X", 1, ""),
        ("given: X: n x n\nf = \\operatorname{tr}(X)", 2, "wrt"),
        ("given: __import__: n x n\nf = \\operatorname{tr}(__import__)\nwrt: __import__", 1, ""),
        ("given: X: n x n\nf = \\input{/etc/passwd}\nwrt: X", 2, ""),
        ("given: X: n x n\nf = \\def\\x{X} \\operatorname{tr}(X)\nwrt: X", 2, ""),
        ("given: X: n x n\nf = \\operatorname{tr}(X)\nwrt: X\nlayout: sideways", 4, "layout"),
    ],
)
def test_bad_blocks_name_line_and_column(body: str, line: int, words: str) -> None:
    with pytest.raises(mdderiv.DeriveError) as info:
        mdderiv.derive(body)
    assert info.value.line == line, info.value
    assert info.value.column >= 1
    assert words in info.value.message


def test_ten_thousand_terms_answer_quickly() -> None:
    body = "given: x: n\nf = " + " + ".join(["x^T x"] * 10_000) + "\nwrt: x"
    start = time.perf_counter()
    outcome = derive_or_error(body, check=False)
    assert time.perf_counter() - start < 30
    if isinstance(outcome, mdderiv.Derivation):
        assert outcome.results[0].expr is not None


def test_five_thousand_deep_nesting_is_an_error_not_a_crash() -> None:
    body = "given: x: n\nf = " + "(" * 5000 + "x^T x" + ")" * 5000 + "\nwrt: x"
    start = time.perf_counter()
    outcome = derive_or_error(body)
    assert time.perf_counter() - start < 10
    assert isinstance(outcome, mdderiv.DeriveError)


def test_deep_function_nesting_is_an_error_not_a_crash() -> None:
    body = "given: x: n\nf = \\mathbf{1}^T" + "\\sin(" * 5000 + "x" + ")" * 5000 + "\nwrt: x"
    outcome = derive_or_error(body)
    assert isinstance(outcome, mdderiv.DeriveError)


def test_a_huge_block_is_refused() -> None:
    body = "given: x: n\nf = x^T x\nwrt: x\n% " + "y" * 200_000
    outcome = derive_or_error(body)
    assert isinstance(outcome, mdderiv.DeriveError)


def _mutations() -> st.SearchStrategy[str]:
    alphabet = st.sampled_from(list("\\{}()[]^_|,=:+-*/ \nxXT1") + ["\\mathbf{", "\\frac", "\\left(", "\\right)", "^{-1}", "\\odot", "\\sum_{i=1}^{n}", "wrt:", "given:"])

    @st.composite
    def mutate(draw: st.DrawFn) -> str:
        text = draw(st.sampled_from(GOOD))
        for _ in range(draw(st.integers(1, 4))):
            position = draw(st.integers(0, len(text)))
            action = draw(st.sampled_from(["insert", "delete", "replace"]))
            piece = draw(alphabet)
            if action == "insert":
                text = text[:position] + piece + text[position:]
            elif action == "delete":
                text = text[:position] + text[position + draw(st.integers(1, 5)) :]
            else:
                text = text[:position] + piece + text[position + 1 :]
        return text

    return mutate()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(_mutations())
def test_mutated_blocks_only_ever_raise_derive_error(body: str) -> None:
    outcome = derive_or_error(body)
    if isinstance(outcome, mdderiv.Derivation):
        # whatever a mutation still derives is checked like any block
        assert outcome.check is not None and outcome.check.passed
        assert outcome.latex()
