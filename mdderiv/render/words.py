"""Every user-facing word the renderers print, in each language.

Templates may hold ``{x}``: the place of a formula (the section's variable),
which the LaTeX renderer sets as math between two ``\\text{}`` pieces, the HTML
renderer as inline math between escaped words and the text renderer as plain
Unicode (one :func:`words_with_math` for the three).  ``Step.note`` values are
keys here too; a note that is not a key is printed as given.
"""

from __future__ import annotations

from collections.abc import Callable

WORDS: dict[str, dict[str, str]] = {
    # section headings, keyed "section.<Section.kind>"
    "section.objective": {"en": "Objective", "zh": "目标函数"},
    "section.gradient": {"en": "Gradient with respect to {x}", "zh": "对 {x} 求导"},
    "section.chain": {"en": "Chain rule through {x}", "zh": "经由 {x} 的链式法则"},
    "section.derivative": {"en": "Derivative with respect to {x}", "zh": "对 {x} 求矩阵导数"},
    "section.hessian": {"en": "Hessian with respect to {x}", "zh": "对 {x} 的 Hessian 矩阵"},
    "section.solve": {"en": "Stationary point in {x}", "zh": "令导数为零，求 {x}"},
    "section.symmetric": {"en": "Gradient on symmetric {x}", "zh": "对称矩阵 {x} 上的梯度"},
    "section.differential": {"en": "Take the differential", "zh": "求微分"},
    "section.result": {"en": "Gradient with respect to {x}", "zh": "对 {x} 的导数"},
    "section.layout": {"en": "Numerator layout for {x}", "zh": "{x} 的分子布局"},
    "section.other": {"en": "Derivation", "zh": "推导"},
    # layouts, beside a boxed result
    "layout.denominator": {"en": "denominator layout", "zh": "分母布局"},
    "layout.numerator": {"en": "numerator layout", "zh": "分子布局"},
    # what a boxed result is, for the kinds that have no layout to name
    "result.symmetric gradient": {"en": "on symmetric matrices", "zh": "对称矩阵上的梯度"},
    "result.hessian": {"en": "Hessian", "zh": "Hessian 矩阵"},
    "result.stationary point": {"en": "stationary point", "zh": "驻点"},
    # the numerical check
    "check.passed": {"en": "checked numerically: max relative error", "zh": "数值验证通过：最大相对误差"},
    "check.failed": {"en": "numerical check FAILED: max relative error", "zh": "数值验证失败：最大相对误差"},
    # the page layout's controls (render.html)
    "html.all_steps": {"en": "all steps", "zh": "显示全部步骤"},
    "html.copy": {"en": "Copy the result (LaTeX, NumPy)", "zh": "复制结果（LaTeX、NumPy）"},
    # notes the calculus may attach to a step
    "note.symmetric": {"en": "the matrix is symmetric", "zh": "矩阵对称"},
    "note.one_hot": {"en": "y is one-hot", "zh": "y 是 one-hot 向量"},
    "note.scalar": {"en": "a scalar equals its trace", "zh": "标量等于其迹"},
    "note.sym_note": {
        "en": "the gradient among symmetric matrices",
        "zh": "只在对称矩阵中变化时的梯度",
    },
    "note.no_closed_form": {"en": "no closed form", "zh": "没有闭式解"},
    "note.hessian_zero_kinks": {
        "en": "wherever it is defined, away from the kinks where the gradient jumps",
        "zh": "在有定义处成立（避开梯度跳变的不可导点）",
    },
    "note.hessian_symmetric": {
        "en": "for symmetric dX, the space this variable lives in",
        "zh": "对称的 dX 上（该变量所在的空间）",
    },
}


def word(key: str, lang: str = "en") -> str:
    """The text for ``key`` in ``lang`` (English when there is no translation);
    an unknown key is returned unchanged, so free-form notes still print."""
    entry = WORDS.get(key) or WORDS.get("note." + key)  # notes may omit "note."
    if entry is None:
        return key
    return entry.get(lang) or entry["en"]


def heading_key(kind: str) -> str:
    """The ``WORDS`` key of a section heading (``section.<kind>``, else the
    general ``section.other``)."""
    key = f"section.{kind}"
    return key if key in WORDS else "section.other"


def words_with_math(
    key: str,
    lang: str,
    math: str | None,
    words: Callable[[str], str],
    place_math: Callable[[str], str],
    joiner: str,
) -> str:
    """The template ``key`` with ``math`` at its ``{x}``, in an output's own
    markup: each stretch of words passed through ``words`` (``\\text{…}``,
    HTML escaping), the formula through ``place_math``, the non-empty pieces
    joined by ``joiner``.  Without a formula (or a template without ``{x}``),
    the words alone."""
    template = word(key, lang)
    before, found, after = template.partition("{x}")
    if not found or math is None:
        return words(template.replace("{x}", "").strip())
    pieces = [words(before)] if before else []
    pieces.append(place_math(math))
    if after:
        pieces.append(words(after))
    return joiner.join(pieces)
