r"""The seeds' worked examples: each gives the seed's own result, in the seed's form.

The form is asserted on the rendered LaTeX of the result (``a b^T``, not
``(b a^T)^T``); the value is asserted by the numerical check, which every
derivation here runs.
"""

from __future__ import annotations

import pytest

import mdderiv
from mdderiv.render.latex import names_of, render_expr


def results(body: str, **options: object) -> dict[tuple[str, str], str]:
    d = mdderiv.derive(body, **options)
    assert d.check is not None and d.check.passed
    names = names_of(d.problem)
    return {(r.wrt.name, r.kind): render_expr(r.expr, names) for r in d.results}


def gradient(body: str, wrt: str, **options: object) -> str:
    return results(body, **options)[(wrt, "gradient")]


def test_bilinear_form_gives_a_b_transpose() -> None:
    body = r"""given: \mathbf{a} \in \mathbb{R}^{m},\ X \in \mathbb{R}^{m \times n},\ \mathbf{b} \in \mathbb{R}^{n}
f = \mathbf{a}^T X \mathbf{b}
wrt: X"""
    assert gradient(body, "X") == r"\mathbf{a} \mathbf{b}^{T}"


def test_bilinear_steps_rotate_then_read_off() -> None:
    body = "given: a: m, X: m x n, b: n\nf = a^T X b\nwrt: X"
    d = mdderiv.derive(body)
    rules = [rule for section in d.sections for step in section.steps for rule in step.rules]
    for expected in ("product_rule", "trace_scalar", "trace_cyclic", "read_off", "transpose_product"):
        assert expected in rules
    assert rules.index("trace_cyclic") < rules.index("read_off")


def test_linear_regression() -> None:
    body = r"""given: X \in \mathbb{R}^{m \times n}, w \in \mathbb{R}^{n}, y \in \mathbb{R}^{m}
l = \|Xw - y\|^2
wrt: w"""
    assert gradient(body, "w") == r"2 X^{T}(X w - y)"


def test_multinomial_logistic_regression_with_one_hot_labels() -> None:
    body = r"""given: W \in \mathbb{R}^{m \times n}, \mathbf{x} \in \mathbb{R}^{n}, \mathbf{y} \in \mathbb{R}^{m}
given: \mathbf{y} \text{ one-hot}
l = -\mathbf{y}^T \log \operatorname{softmax}(W\mathbf{x})
wrt: W"""
    assert gradient(body, "W") == (
        r"(\operatorname{softmax}(W \mathbf{x}) - \mathbf{y}) \mathbf{x}^{T}"
    )


def test_softmax_without_one_hot_keeps_the_sum_of_labels() -> None:
    body = r"""given: W \in \mathbb{R}^{m \times n}, \mathbf{x} \in \mathbb{R}^{n}, \mathbf{y} \in \mathbb{R}^{m}
l = -\mathbf{y}^T \log \operatorname{softmax}(W\mathbf{x})
wrt: W"""
    # without one-hot, 1^T y stays: the result must still be right (checked)
    form = gradient(body, "W")
    assert r"\mathbf{1}" in form


COVARIANCE = r"""given: \mathbf{x}_i \in \mathbb{R}^{m}, \bar{\mathbf{x}} \in \mathbb{R}^{m}, \Sigma \in \mathbb{S}_{++}^{m}
S = \frac{1}{n}\sum_{i=1}^{n} (\mathbf{x}_i - \bar{\mathbf{x}})(\mathbf{x}_i - \bar{\mathbf{x}})^T
l = \log|\Sigma| + \frac{1}{n}\sum_{i=1}^{n} (\mathbf{x}_i - \bar{\mathbf{x}})^T \Sigma^{-1} (\mathbf{x}_i - \bar{\mathbf{x}})
wrt: \Sigma"""


def test_covariance_with_indexed_sum_folds_the_sample_covariance() -> None:
    assert gradient(COVARIANCE, "Sigma") == r"\Sigma^{-1} - \Sigma^{-1} S \Sigma^{-1}"


def test_covariance_steps_move_the_sum_inside_the_trace() -> None:
    d = mdderiv.derive(COVARIANCE)
    rules = {rule for section in d.sections for step in section.steps for rule in step.rules}
    assert {"logdet_rule", "inverse_rule", "trace_sum", "trace_cyclic", "substitute"} <= rules


def test_covariance_without_a_name_for_s_keeps_the_sum() -> None:
    body = "\n".join(line for line in COVARIANCE.splitlines() if not line.startswith("S ="))
    form = gradient(body, "Sigma")
    assert form.startswith(r"\Sigma^{-1} - \frac{1}{n} \Sigma^{-1}")
    assert r"\sum_{i=1}^{n}" in form


def test_covariance_data_matrix_form() -> None:
    body = r"""given: \Sigma \in \mathbb{S}_{++}^{m}, Z \in \mathbb{R}^{m \times n}
l = \log|\Sigma| + \frac{1}{n}\operatorname{tr}(Z^T \Sigma^{-1} Z)
wrt: \Sigma"""
    assert gradient(body, "Sigma") == r"\Sigma^{-1} - \frac{1}{n} \Sigma^{-1} Z Z^{T} \Sigma^{-1}"


TWO_LAYER = r"""given: W_1 \in \mathbb{R}^{p \times n}, W_2 \in \mathbb{R}^{m \times p}, \mathbf{x} \in \mathbb{R}^{n}, \mathbf{y} \in \mathbb{R}^{m}
given: \mathbf{y} \text{ one-hot}
l = -\mathbf{y}^T \log \operatorname{softmax}(W_2 \sigma(W_1 \mathbf{x}))
wrt: W_1, W_2"""


def test_two_layer_network_both_weights() -> None:
    out = results(TWO_LAYER)
    assert out[("W_2", "gradient")] == (
        r"(\operatorname{softmax}(W_{2} \sigma(W_{1} \mathbf{x})) - \mathbf{y}) \sigma(W_{1} \mathbf{x})^{T}"
    )
    assert out[("W_1", "gradient")] == (
        r"((W_{2}^{T}(\operatorname{softmax}(W_{2} \sigma(W_{1} \mathbf{x})) - \mathbf{y}))"
        r" \odot \sigma'(W_{1} \mathbf{x})) \mathbf{x}^{T}"
    )


def test_two_layer_network_through_the_seeds_definitions() -> None:
    body = r"""given: W_1 \in \mathbb{R}^{p \times n}, W_2 \in \mathbb{R}^{m \times p}, \mathbf{x} \in \mathbb{R}^{n}, \mathbf{y} \in \mathbb{R}^{m}
given: \mathbf{y} \text{ one-hot}
\mathbf{a}_1 = W_1 \mathbf{x}
\mathbf{h}_1 = \sigma(\mathbf{a}_1)
\mathbf{a}_2 = W_2 \mathbf{h}_1
l = -\mathbf{y}^T \log \operatorname{softmax}(\mathbf{a}_2)
wrt: W_1, W_2"""
    d = mdderiv.derive(body)
    names = names_of(d.problem)
    out = {r.wrt.name: render_expr(r.expr, names) for r in d.results}
    assert out["W_2"] == r"(\operatorname{softmax}(\mathbf{a}_{2}) - \mathbf{y}) \mathbf{h}_{1}^{T}"
    assert out["W_1"] == (
        r"((W_{2}^{T}(\operatorname{softmax}(\mathbf{a}_{2}) - \mathbf{y})) \odot \sigma'(\mathbf{a}_{1}))"
        r" \mathbf{x}^{T}"
    )
    # the seed's order: ∂l/∂a2, then W2 and h1, then a1, then W1
    chain = [s.about.name for s in d.sections if s.kind == "chain" and s.about is not None]
    assert chain == ["a_2", "h_1", "a_1"]


def test_fake_chain_rule_example_tr_Y_M_Y() -> None:
    body = r"""given: W \in \mathbb{R}^{p \times m}, X \in \mathbb{R}^{m \times n}, M \in \mathbb{S}^{p}
Y = \sigma(WX)
f = \operatorname{tr}(Y^T M Y)
wrt: X"""
    assert gradient(body, "X") == r"W^{T}((2 M Y) \odot \sigma'(W X))"


def test_quadratic_form() -> None:
    body = r"""given: \mathbf{x} \in \mathbb{R}^{n}, A \in \mathbb{R}^{n \times n}
f = \mathbf{x}^T A \mathbf{x}
wrt: \mathbf{x}"""
    assert gradient(body, "x") == r"(A + A^{T}) \mathbf{x}"


def test_quadratic_form_with_symmetric_matrix() -> None:
    body = r"""given: \mathbf{x} \in \mathbb{R}^{n}, A \in \mathbb{S}^{n}
f = \mathbf{x}^T A \mathbf{x}
wrt: \mathbf{x}"""
    assert gradient(body, "x") == r"2 A \mathbf{x}"


@pytest.mark.parametrize(("layout", "form"), [("denominator", r"2 \mathbf{x}"), ("numerator", r"2 \mathbf{x}^{T}")])
def test_two_layouts_of_x_transpose_x(layout: str, form: str) -> None:
    body = "given: \\mathbf{x} \\in \\mathbb{R}^{n}\nf = \\mathbf{x}^T \\mathbf{x}\nwrt: \\mathbf{x}"
    d = mdderiv.derive(body, layout=layout)
    (result,) = d.results
    assert result.layout == layout
    assert render_expr(result.expr, names_of(d.problem)) == form
    assert ("denominator layout" if layout == "denominator" else "numerator layout") in d.latex()


def test_layout_option_line_in_the_block() -> None:
    body = "given: x: n\nf = x^T x\nwrt: x\nlayout: numerator"
    d = mdderiv.derive(body)
    assert d.options.layout == "numerator"
    assert d.results[0].expr.shape == (1, "n")


def test_json_matches_the_spec() -> None:
    body = "given: a: m, X: m x n, b: n\nf = a^T X b\nwrt: X"
    doc = mdderiv.derive(body).to_json()
    assert doc["ok"] is True
    assert doc["symbols"]["X"]["shape"] == ["m", "n"]
    assert doc["results"][0]["numpy"] == "a @ b.T"
    assert doc["results"][0]["latex"] == r"a b^{T}"
    assert doc["steps"][0]["rule"]
    assert doc["check"]["passed"] is True


def test_chinese_justifications() -> None:
    body = "given: a: m, X: m x n, b: n\nf = a^T X b\nwrt: X\nlang: zh"
    latex = mdderiv.derive(body).latex()
    assert "矩阵乘法交换" in latex
    assert "cyclic" not in latex


@pytest.mark.parametrize(
    ("objective", "expected"),
    [
        # d log(x ⊘ y) = (dx ⊘ y) ⊘ (x ⊘ y): the y's cancel entry by entry
        (r"\mathbf{1}^T \log(\mathbf{x} \oslash \mathbf{y})", r"\mathbf{1} \oslash \mathbf{x}"),
        (r"\mathbf{1}^T ((\mathbf{x} \odot \mathbf{y}) \oslash \mathbf{y})", r"\mathbf{1}"),
    ],
)
def test_entrywise_quotients_cancel(objective: str, expected: str) -> None:
    body = f"given: \\mathbf{{x}}, \\mathbf{{y}} \\in \\mathbb{{R}}^{{n}}\nf = {objective}\nwrt: \\mathbf{{x}}"
    assert gradient(body, "x") == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "given: \\mathbf{x}, \\mathbf{a} \\in \\mathbb{R}^{n}\nf = \\|\\mathbf{x} - \\mathbf{a}\\|\nwrt: \\mathbf{x}",
            r"\frac{1}{\|\mathbf{x} - \mathbf{a}\|}(\mathbf{x} - \mathbf{a})",
        ),
        ("given: X \\in \\mathbb{R}^{m \\times n}\nf = \\|X\\|_F\nwrt: X", r"\frac{1}{\|X\|_F} X"),
    ],
)
def test_a_result_shows_the_norm_again(body: str, expected: str) -> None:
    """Norms are unfolded to be differentiated; (u^T u)^{-1/2} in the result is 1/‖u‖."""
    variable = "x" if "wrt: \\mathbf{x}" in body else "X"
    assert gradient(body, variable) == expected
    d = mdderiv.derive(body)
    differential = next(section for section in d.sections if section.kind == "differential")
    last = differential.steps[-1]  # (read-off)^T = Σ⁻¹ − Σ⁻¹ S Σ⁻¹
    assert "norm_power" in last.rules


def test_hessian_of_a_norm_starts_from_inner_products_and_ends_with_norms() -> None:
    body = "given: \\mathbf{x} \\in \\mathbb{R}^{n}\nf = \\|\\mathbf{x}\\|\nwrt: \\mathbf{x}"
    out = results(body, hessian=True)
    assert out[("x", "hessian")] == r"\frac{1}{\|\mathbf{x}\|} I - \frac{1}{\|\mathbf{x}\|^{3}} \mathbf{x} \mathbf{x}^{T}"
    d = mdderiv.derive(body, hessian=True)
    hessian = next(s for s in d.sections if s.kind == "hessian")
    assert "norm_power" in hessian.steps[0].rules  # ‖x‖ back to (x^T x)^{1/2} before differentiating


def test_gaussian_kernel_keeps_the_authors_norm_and_writes_fractions() -> None:
    body = (
        "given: \\mathbf{x}, \\mathbf{y} \\in \\mathbb{R}^{n}, s \\in \\mathbb{R}\n"
        "f = \\exp\\left(-\\frac{\\|\\mathbf{x} - \\mathbf{y}\\|^2}{2 s^2}\\right)\nwrt: \\mathbf{x}"
    )
    assert gradient(body, "x") == (
        r"-\frac{1}{s^{2}} \exp\left(-\frac{1}{2 s^{2}} \|\mathbf{x} - \mathbf{y}\|^{2}\right)"
        r"(\mathbf{x} - \mathbf{y})"
    )


def test_an_inner_product_the_author_wrote_stays_one() -> None:
    body = "given: \\mathbf{x} \\in \\mathbb{R}^{n}\nf = (\\mathbf{x}^T \\mathbf{x})^2\nwrt: \\mathbf{x}"
    assert gradient(body, "x") == r"4(\mathbf{x}^{T} \mathbf{x}) \mathbf{x}"


def test_a_step_cites_only_the_rules_of_the_form_it_kept() -> None:
    """Pushing a transpose tries candidate forms; the rules of a discarded
    candidate are not cited (here the transposed bracket is symmetric as a
    whole: no product is transposed)."""
    d = mdderiv.derive(COVARIANCE)
    differential = next(section for section in d.sections if section.kind == "differential")
    last = differential.steps[-1]  # (read-off)^T = Σ⁻¹ − Σ⁻¹ S Σ⁻¹
    assert "symmetric" in last.rules and "substitute" in last.rules
    assert "transpose_product" not in last.rules
