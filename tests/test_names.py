r"""Names for the layers of a deep composition (issue 12 §2, seed 001 例5).

The seed's 例5 written in one line derives through the names the tutorial
gives (``a_1 = W_1 x``, ``h_1 = σ(a_1)``, ``a_2 = W_2 h_1``); the names avoid
the author's symbols; ``names: none`` and the author's own definitions keep the
one-sweep derivation; simple objectives are untouched.  Every derivation here
runs the numerical check.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mdderiv
from mdderiv.calculus.names import composes_deeply
from mdderiv.derivation import Derivation
from mdderiv.render.latex import names_of, render_expr

EXAMPLE_5 = r"""given: W_1 \in \mathbb{R}^{p \times n}, W_2 \in \mathbb{R}^{m \times p}, \mathbf{x} \in \mathbb{R}^{n}, \mathbf{y} \in \mathbb{R}^{m}
given: \mathbf{y} \text{ one-hot}
l = -\mathbf{y}^T \log \operatorname{softmax}(W_2 \sigma(W_1 \mathbf{x}))
wrt: W_1, W_2"""

#: The seed's own derivation of 例5, line by line (one equation member a line):
#: the three definitions and l = -y^T log softmax(a_2) (4); ∂l/∂a_2 = softmax(a_2) - y,
#: which 例5 takes from 例3, where it takes l = …, = -y^T a + log(1^T exp a), dl = …,
#: dl = tr(…) = tr(…), ∂l/∂a = … (6); dl = tr(∂l/∂a_2^T da_2) = tr(… dW_2 h_1) + tr(… W_2 dh_1)
#: (2) and the two read-offs (2); the three members through h_1 and ∂l/∂a_1 (4); the
#: three members through a_1 and ∂l/∂W_1 (4).
SEED_LINES = 4 + 6 + 2 + 2 + 4 + 4
#: what the engine adds: the objective as written before the names, and each
#: gradient once more with the names written out — "a few"
A_FEW = 6


def steps(d: Derivation) -> list[tuple[str | None, str, tuple[str, ...]]]:
    names = names_of(d.problem)
    return [
        (render_expr(s.lhs, names) if s.lhs is not None else None, render_expr(s.rhs, names), s.rules)
        for section in d.sections
        for s in section.steps
    ]


def checked(body: str, **options: object) -> Derivation:
    d = mdderiv.derive(body, **options)
    assert d.check is not None and d.check.passed, d.check
    return d


def introduced(d: Derivation) -> list[str]:
    return [name for name, info in d.problem.symbols.items() if info.introduced]


def test_example_5_in_one_line_derives_through_the_tutorials_names() -> None:
    d = checked(EXAMPLE_5)
    assert introduced(d) == ["a_1", "h_1", "a_2"]
    lines = steps(d)
    definitions = [(lhs, rhs) for lhs, rhs, rules in lines if rules == ("name_layer",)]
    assert definitions == [
        (r"\mathbf{a}_{1}", r"W_{1} \mathbf{x}"),
        (r"\mathbf{h}_{1}", r"\sigma(\mathbf{a}_{1})"),
        (r"\mathbf{a}_{2}", r"W_{2} \mathbf{h}_{1}"),
    ]
    # backwards through the names, in the seed's order
    chain = [s.about.name for s in d.sections if s.kind == "chain" and s.about is not None]
    assert chain == ["a_2", "h_1", "a_1"]
    assert len(lines) <= SEED_LINES + A_FEW
    # the seed's named results are lines of the derivation …
    rhs = [r for _, r, _ in lines]
    assert r"\operatorname{softmax}(\mathbf{a}_{2}) - \mathbf{y}" in rhs
    assert r"(\operatorname{softmax}(\mathbf{a}_{2}) - \mathbf{y}) \mathbf{h}_{1}^{T}" in rhs
    assert r"W_{2}^{T}(\frac{\partial l}{\partial \mathbf{a}_{2}})" in rhs or any(
        lhs == r"\frac{\partial l}{\partial \mathbf{h}_{1}}" for lhs, _, _ in lines
    )
    # … and so are the written-out forms, which the boxes give
    box = {r.wrt.name: render_expr(r.expr, names_of(d.problem)) for r in d.results}
    assert box["W_2"] == (
        r"(\operatorname{softmax}(W_{2} \sigma(W_{1} \mathbf{x})) - \mathbf{y}) \sigma(W_{1} \mathbf{x})^{T}"
    )
    assert box["W_1"] in rhs and box["W_2"] in rhs
    written_out = [rules for _, _, rules in lines if "expand_names" in rules]
    assert len(written_out) == 2


def test_every_line_of_the_named_derivation_is_narrower_than_the_one_sweep() -> None:
    def widest(d: Derivation) -> int:
        return max(len(rhs) for _, rhs, _ in steps(d))

    assert widest(mdderiv.derive(EXAMPLE_5)) < widest(mdderiv.derive(EXAMPLE_5, names="none")) / 2


def test_names_none_gives_the_one_sweep_derivation() -> None:
    d = checked(EXAMPLE_5, names="none")
    assert introduced(d) == []
    assert [s.kind for s in d.sections] == ["objective", "differential"]
    assert not any("name_layer" in rules for _, _, rules in steps(d))
    # the option line and the info-line spelling agree
    body = EXAMPLE_5 + "\nnames: none"
    assert steps(mdderiv.derive(body)) == steps(d)


@pytest.mark.parametrize("options", [{}, {"hessian": True}, {"layout": "numerator"}])
def test_results_mean_the_same_with_and_without_names(options: dict[str, object]) -> None:
    auto = mdderiv.derive(EXAMPLE_5, **options).to_json()
    none = mdderiv.derive(EXAMPLE_5, names="none", **options).to_json()
    assert auto["check"]["passed"]
    assert auto["results"] == none["results"]
    assert auto["symbols"] == none["symbols"]
    assert set(auto["defined"]) == {"a_1", "h_1", "a_2", "l"}
    assert [name for name, entry in auto["defined"].items() if entry.get("introduced")] == ["a_1", "h_1", "a_2"]


def test_the_authors_own_definitions_keep_todays_derivation() -> None:
    body = r"""given: W_1 \in \mathbb{R}^{p \times n}, W_2 \in \mathbb{R}^{m \times p}, \mathbf{x} \in \mathbb{R}^{n}, \mathbf{y} \in \mathbb{R}^{m}
given: \mathbf{y} \text{ one-hot}
\mathbf{a}_1 = W_1 \mathbf{x}
\mathbf{h}_1 = \sigma(\mathbf{a}_1)
\mathbf{a}_2 = W_2 \mathbf{h}_1
l = -\mathbf{y}^T \log \operatorname{softmax}(\mathbf{a}_2)
wrt: W_1, W_2"""
    auto = checked(body)
    assert introduced(auto) == []
    assert auto.text() == mdderiv.derive(body, names="none").text()
    # the general (not backprop-style) read-off: the raw transpose, then its simplification
    assert any("read_off" in rules and len(rules) == 1 for _, _, rules in steps(auto))


def test_introduced_names_skip_the_authors_symbols() -> None:
    body = r"""given: W_1: p x n, W_2: m x p, x: n, y: m one-hot, \mathbf{a}_1: m, \mathbf{h}_3: m
l = -y^T \log \operatorname{softmax}(W_2 \sigma(W_1 x) + \mathbf{a}_1 + \mathbf{h}_3)
wrt: W_1"""
    d = checked(body)
    assert introduced(d) == ["a_2", "h_2", "a_4"]  # a_1 and h_3 are the author's
    declared = {name for name, info in d.problem.symbols.items() if not info.defined}
    assert not set(introduced(d)) & declared


def test_a_letter_that_names_a_dimension_is_not_used() -> None:
    body = r"""given: W_1: h x n, W_2: m x h, x: n, y: m
l = \frac{1}{2}\|\sigma(W_2 \tanh(W_1 x)) - y\|^2
wrt: W_1, W_2"""
    d = checked(body)
    assert introduced(d) == ["u_1", "v_1", "u_2"]


def test_matrix_valued_layers_get_capital_names() -> None:
    body = r"""given: W_1: p x n, W_2: m x p, X: n x k, M: m x k
f = \operatorname{tr}(M^T \tanh(W_2 \sigma(W_1 X)))
wrt: W_1"""
    d = checked(body)
    assert introduced(d) == ["A_1", "H_1", "A_2"]
    assert names_of(d.problem)["A_1"] == "A_{1}"


def test_a_gradient_too_long_to_write_out_stays_named() -> None:
    body = r"""given: W_1: p x n, W_2: q x p, W_3: m x q, x: n, y: m one-hot
l = -y^T \log \operatorname{softmax}(W_3 \tanh(W_2 \sigma(W_1 x)))
wrt: W_1, W_3"""
    d = checked(body)  # the check evaluates the named result through the definitions
    assert introduced(d) == ["a_1", "h_1", "a_2", "h_2", "a_3"]
    by = {r.wrt.name: r for r in d.results}
    names = names_of(d.problem)
    assert r"\mathbf{a}_{3}" in render_expr(by["W_1"].expr, names)
    assert r"\mathbf{a}" not in render_expr(by["W_3"].expr, names)
    # the NumPy code of a named result uses only the author's symbols
    numpy = {r["wrt"]: r["numpy"] for r in d.to_json()["results"]}
    assert "a_3" not in numpy["W_1"] and "W_3" in numpy["W_1"]


def test_a_variable_used_twice_is_collected_then_written_out() -> None:
    body = r"""given: W_1: p x n, W_2: m x p, x: n, y: m one-hot, \lambda: scalar
l = -y^T \log \operatorname{softmax}(W_2 \sigma(W_1 x)) + \lambda \|W_2\|_F^2
wrt: W_1, W_2"""
    d = checked(body)
    last = d.sections[-1]
    assert last.kind == "result" and last.about is not None and last.about.name == "W_2"
    assert last.steps[-1].rules == ("expand_names",)


@pytest.mark.parametrize(
    "body",
    [
        "given: W: m x n, x: n, y: m one-hot\nl = -y^T \\log \\operatorname{softmax}(W x)\nwrt: W",
        "given: X: m x n, w: n, y: m\nl = -y^T \\log \\sigma(X w) - (\\mathbf{1} - y)^T \\log(\\mathbf{1} - \\sigma(X w))\nwrt: w",
        "given: W: m x n, x: n\nf = \\log(\\mathbf{1}^T \\exp(W x))\nwrt: W",
        "given: W: m x n, x: n, c: m\nf = c^T \\sigma(\\sigma(W x))\nwrt: W",
        # the inner layer does not depend on the variable: nothing to name
        "given: W_1: p x n, W_2: m x p, x: n, y: m one-hot\nl = -y^T \\log \\operatorname{softmax}(W_2 \\sigma(W_1 x))\nwrt: W_2",
        "given: A: m x n, x: n, b: m\nf = \\|A x - b\\|^2\nwrt: x",
    ],
)
def test_simple_objectives_are_untouched(body: str) -> None:
    auto = checked(body)
    none = mdderiv.derive(body, names="none")
    assert introduced(auto) == []
    assert auto.latex() == none.latex()
    assert auto.text() == none.text()
    assert auto.to_json() == none.to_json()


def test_the_criterion() -> None:
    def deep(body: str) -> bool:
        d = mdderiv.derive(body, names="none", check=False)
        return composes_deeply(d.problem.objective.expr, frozenset(d.problem.wrt))

    assert deep(EXAMPLE_5)
    assert deep("given: W_1: p x n, W_2: m x p, x: n, b: m, c: m\nf = c^T \\operatorname{softmax}(W_2 \\sigma(W_1 x) + b)\nwrt: W_1")
    assert not deep("given: W: m x n, x: n, y: m one-hot\nl = -y^T \\log \\operatorname{softmax}(W x)\nwrt: W")
    assert not deep("given: W: m x n, x: n\nf = \\log(\\mathbf{1}^T \\exp(W x))\nwrt: W")


def test_names_option_is_checked() -> None:
    with pytest.raises(mdderiv.DeriveError, match="names"):
        mdderiv.derive(EXAMPLE_5 + "\nnames: some")


LEAST_SQUARES = r"""given: X \in \mathbb{R}^{m \times n}, \mathbf{w} \in \mathbb{R}^{n}, \mathbf{y} \in \mathbb{R}^{m}
l = \|X\mathbf{w} - \mathbf{y}\|^2
wrt: \mathbf{w}"""


def test_least_squares_collects_the_transposed_copies_at_once() -> None:
    d = checked(LEAST_SQUARES)
    differential = next(s for s in d.sections if s.kind == "differential")
    names = names_of(d.problem)
    shown = [render_expr(s.rhs, names) for s in differential.steps]
    # the seed: dl = (X dw)^T(Xw - y) + (Xw - y)^T X dw = 2(Xw - y)^T X dw
    assert shown[1] == r"2(X \mathbf{w} - \mathbf{y})^{T} X d\mathbf{w}"
    assert differential.steps[1].rules == ("scalar_transpose", "collect")
    # only the product rule's own line holds two copies
    assert sum(r"(X d\mathbf{w})^{T}" in line for line in shown) == 1
    assert len(differential.steps) == 5  # df, collected, its trace, read-off, 2X^T(Xw - y)
    assert render_expr(d.results[0].expr, names) == r"2 X^{T}(X \mathbf{w} - \mathbf{y})"


def test_names_is_a_site_wide_default_in_python_markdown() -> None:
    import markdown

    page = "```derive\n" + EXAMPLE_5 + "\n```\n"
    default = markdown.Markdown(extensions=["mdderiv"]).convert(page)
    off = markdown.Markdown(extensions=["mdderiv"], extension_configs={"mdderiv": {"names": "none"}}).convert(page)
    assert "name an intermediate result" in default
    assert "name an intermediate result" not in off
    # a block's own option wins over the site's default
    own = markdown.Markdown(extensions=["mdderiv"], extension_configs={"mdderiv": {"names": "none"}})
    assert "name an intermediate result" in own.convert(page.replace("wrt:", "names: auto\nwrt:"))


def test_names_on_the_command_line() -> None:
    from support import run

    auto = run("-m", "mdderiv", "derive", "--format", "text", "--no-check", "-", input=EXAMPLE_5.encode())
    off = run("-m", "mdderiv", "derive", "--format", "text", "--names", "none", "--no-check", "-",
              input=EXAMPLE_5.encode())
    assert auto.returncode == 0 and off.returncode == 0, (auto.stderr, off.stderr)
    assert "a₁ = W₁ x" in auto.stdout.decode()
    assert "a₁" not in off.stdout.decode()


_LAYER_FUNCTIONS = [r"\sigma", r"\tanh", r"\sin"]
_LOSSES = [
    r"-y^T \log \operatorname{{softmax}}({z})",
    r"\frac{{1}}{{2}}\|{z} - y\|^2",
    r"y^T ({z})",
    r"\mathbf{{1}}^T \exp({z})",
]


def _evaluate(code: str, symbols: dict[str, dict[str, object]], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    sizes = {"m": 3, "n": 4, "p": 5}
    values: dict[str, object] = {"np": np}
    for name, info in symbols.items():
        shape = [sizes[d] if isinstance(d, str) else d for d in info["shape"]]  # type: ignore[union-attr]
        values[name] = rng.standard_normal(shape) if shape else float(rng.standard_normal())
    if "y" in values:
        values["y"] = np.eye(sizes["m"])[:, [1]]  # one-hot
    return np.asarray(eval(code, values))


@settings(max_examples=16, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    inner=st.sampled_from(_LAYER_FUNCTIONS),
    middle=st.sampled_from([*_LAYER_FUNCTIONS, ""]),
    loss=st.sampled_from(_LOSSES),
    bias=st.booleans(),
    wrt=st.sampled_from(["W_1", "W_2", "W_1, W_2", "x"]),
)
def test_named_derivations_agree_with_the_one_sweep(inner: str, middle: str, loss: str, bias: bool, wrt: str) -> None:
    """Random compositions: with names or without, results of the same value
    (both checked against finite differences, and compared with each other)."""
    hidden = f"{inner}(W_1 x)"
    if middle:
        hidden = f"{middle}(V {hidden})"
    z = f"W_2 {hidden}" + (" + b" if bias else "")
    body = (
        "given: W_1: p x n, V: p x p, W_2: m x p, x: n, b: m, y: m one-hot\n"
        f"l = {loss.format(z=z)}\nwrt: {wrt}"
    )
    auto = checked(body)
    none = checked(body, names="none")
    layers = 1 + bool(middle) + ("softmax" in loss or "exp" in loss)
    assert bool(introduced(auto)) == (("W_1" in wrt or wrt == "x") and layers >= 2)
    a, b = auto.to_json(), none.to_json()
    for mine, theirs in zip(a["results"], b["results"]):
        assert mine["wrt"] == theirs["wrt"] and mine["shape"] == theirs["shape"]
        np.testing.assert_allclose(
            _evaluate(mine["numpy"], a["symbols"], 7), _evaluate(theirs["numpy"], b["symbols"], 7), rtol=1e-9, atol=1e-12
        )
