"""The derivation as Unicode text, for a terminal.

``TextPrinter`` keeps the LaTeX printer's structure (parentheses, signs) and
swaps its tokens: ``Xᵀ``, ``X⁻¹``, ``⊙``, ``∂f/∂X``, ``σ′``, ``‖x‖``, ``𝟏``.
Declared LaTeX spellings become Unicode (``\\Sigma`` → ``Σ``, ``W_{1}`` → ``W₁``,
``\\bar{x}`` → ``x̄``; font wrappers like ``\\mathbf`` are dropped).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..expr import Commutation, Expr, Hadamard, HadamardDiv, Kron, NormKind, Symbol
from ..functions import NORMS, Function, NamedConstant, Notation
from .latex import LatexPrinter
from .steps import result_words, step_justification, visible_steps
from .words import heading_key, word, words_with_math

if TYPE_CHECKING:
    from ..problem import Problem
    from ..record import DerivationRecord, Result, Section, Step

_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "varpi": "ϖ", "rho": "ρ",
    "varrho": "ϱ", "sigma": "σ", "varsigma": "ς", "tau": "τ", "upsilon": "υ", "phi": "ϕ",
    "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ",
    "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Upsilon": "Υ",
    "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω", "ell": "ℓ", "partial": "∂",
}  # fmt: skip
_ACCENTS = {"bar": "\u0304", "overline": "\u0305", "hat": "\u0302", "widehat": "\u0302",
            "tilde": "\u0303", "widetilde": "\u0303", "vec": "\u20d7", "dot": "\u0307",
            "ddot": "\u0308", "check": "\u030c", "breve": "\u0306"}  # fmt: skip
_FONTS = {"mathbf", "boldsymbol", "bm", "mathrm", "mathit", "mathsf", "mathcal", "text",
          "textbf", "operatorname", "mathbb", "mathnormal"}  # fmt: skip

_SUB = dict(zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True))
_SUP = dict(zip("0123456789+-=()inT", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱⁿᵀ", strict=True))


def subscript(text: str) -> str:
    """``text`` in subscript characters, or ``_text`` when some character has
    none (``W_enc``: a word reads as one label), ``_(text)`` when it is not one
    word (``x_(i+1)``)."""
    if text and all(c in _SUB for c in text):
        return "".join(_SUB[c] for c in text)
    return "_" + text if text.isalnum() else f"_({text})"


def superscript(text: str) -> str:
    """``text`` in superscript characters, or ``^text`` / ``^(text)``."""
    if text and all(c in _SUP for c in text):
        return "".join(_SUP[c] for c in text)
    return "^" + text if len(text) == 1 else f"^({text})"


_TOKEN = re.compile(r"\\([A-Za-z]+)|\\(.)|([{}_^])|(\s+)|(.)", re.S)


def latex_to_unicode(latex: str) -> str:
    """A declared symbol spelling in Unicode: ``\\mathbf{x}_{i}`` → ``xᵢ``."""
    tokens = [m for m in _TOKEN.finditer(latex)]
    position = 0

    def group() -> str:
        """One argument: a brace group or a single token."""
        nonlocal position
        if position >= len(tokens):
            return ""
        token = tokens[position]
        if token.group(3) == "{":
            position += 1
            return sequence(closing=True)
        position += 1
        return atom(token)

    def atom(token: re.Match[str]) -> str:
        command, escaped, special, space, char = token.groups()
        if command is not None:
            if command in _GREEK:
                return _GREEK[command]
            if command in _FONTS:
                return group()
            if command in _ACCENTS:
                inner = group()
                return inner + _ACCENTS[command] if len(inner) == 1 else inner
            return command
        if escaped is not None:
            return escaped if escaped not in ",;:! " else ""
        if special in ("_", "^"):
            inner = group()
            return subscript(inner) if special == "_" else superscript(inner)
        if space is not None:
            return ""
        return char or ""

    def sequence(closing: bool = False) -> str:
        nonlocal position
        out = ""
        while position < len(tokens):
            token = tokens[position]
            if token.group(3) == "}":
                position += 1
                if closing:
                    return out
                continue
            if token.group(3) == "{":
                position += 1
                out += sequence(closing=True)
                continue
            position += 1
            out += atom(token)
        return out

    return unicodedata.normalize("NFC", sequence())  # ŷ as one character where one exists


def text_names(problem: Problem) -> dict[str, str]:
    """Identifier → Unicode spelling, for every symbol of the problem."""
    return {name: latex_to_unicode(info.latex) or name for name, info in problem.symbols.items()}


def _one_unit(text: str) -> bool:
    """Whether ``text`` is already one bracketed unit: ``‖x − a‖``, ``‖X‖_F``,
    ``√(xᵀ x)``, ``(a + b)``, also raised: ``(xᵀ x)²`` — a slash before it
    needs no parentheses."""
    text = text.rstrip("⁰¹²³⁴⁵⁶⁷⁸⁹⁻ᵀ")
    if text.startswith("‖"):
        return text.count("‖") == 2 and (text.endswith("‖") or text.endswith("‖_F"))
    opening = 2 if text.startswith("√(") else 1 if text.startswith("(") else 0
    if not opening or not text.endswith(")"):
        return False
    depth = 0
    for position, char in enumerate(text[opening - 1 :], start=opening - 1):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and position != len(text) - 1:
            return False  # (a)(b): two units
    return True


class TextPrinter(LatexPrinter):
    """Unicode instead of LaTeX; ``names`` are Unicode spellings."""

    MINUS = "−"
    PLUS_SEP = " + "
    MINUS_SEP = " − "
    TIMES = "·"
    OPS = {Hadamard: "⊙", HadamardDiv: "⊘", Kron: "⊗"}
    NORM = "‖"
    PARTIAL = "∂"
    ONE = "𝟏"
    INLINE_FRACTIONS = True
    ZERO = "𝟎"
    def __init__(self, names: Mapping[str, str] | None = None) -> None:
        super().__init__(names, None)

    def _annotate(self, expr: Expr, out: str) -> str:
        return out  # no shape annotations in text

    @staticmethod
    def _wrap(content: str, left: str = "(", right: str = ")") -> str:
        return f"{left}{content}{right}"

    @staticmethod
    def _sup(base: str, exponent: str) -> str:
        if exponent.lstrip("-").isdigit() or exponent in ("T", "-T"):
            return base + superscript(exponent)
        return f"{base}^({exponent})"

    @staticmethod
    def _frac(numerator: str, denominator: str) -> str:
        if " " in denominator and not _one_unit(denominator):  # 1/(2 n), but 1/‖x − a‖
            denominator = f"({denominator})"
        return f"{numerator}/{denominator}"

    def _coefficient_frac(self, numerator: str, denominator: str, followed: bool) -> str:
        out = self._frac(numerator, denominator)
        return f"({out})" if followed else out  # (1/n) X, not 1/n X

    @staticmethod
    def _operator(name: str) -> str:
        return name

    @staticmethod
    def _inverse_mark() -> str:
        return "⁻¹"

    @staticmethod
    def _notation(function: Function) -> Notation:
        return function.text

    @staticmethod
    def _named_constant(constant: NamedConstant) -> str:
        return constant.text

    @staticmethod
    def _norm_subscript(kind: NormKind) -> str:
        return NORMS[kind].text

    @staticmethod
    def _sqrt(inner: str) -> str:
        return f"√({inner})"

    @staticmethod
    def _sum_head(index: str, upper: str) -> str:
        below, above = subscript(f"{index}=1"), superscript(upper)
        if below.startswith("_") or above.startswith("^"):
            return f"∑_({index}=1..{upper})"
        return "∑" + below + above

    @staticmethod
    def _group(text: str) -> str:
        return text

    def _spelling(self, name: str) -> str:
        return self.names.get(name) or name

    def _print_Symbol(self, expr: Symbol) -> str:
        spelling = self._spelling(expr.name)
        if expr.index is None or spelling.endswith(subscript(expr.index)):
            return spelling
        return spelling + subscript(expr.index)

    def _print_Commutation(self, expr: Commutation) -> str:
        return "K" + subscript(f"{expr.rows}{expr.cols}")


def render_expr_text(expr: Expr, names: Mapping[str, str] | None = None) -> str:
    """One expression as Unicode; ``names`` maps identifiers to Unicode
    spellings (``text_names(problem)``), falling back to the identifier."""
    return TextPrinter(names).doprint(expr)


# --------------------------------------------------------------------------- derivations


def _width(text: str) -> int:
    """Columns on a terminal: combining marks take none, CJK takes two."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _heading(section: Section, names: Mapping[str, str], lang: str) -> str:
    about = render_expr_text(section.about, names) if section.about is not None else None
    return words_with_math(heading_key(section.kind), lang, about, str, str, "").strip()


def _result_line(d: DerivationRecord, result: Result, names: Mapping[str, str]) -> str:
    lang = d.options.lang
    line = f"▶ {render_expr_text(result.label, names)} = {render_expr_text(result.expr, names)}"
    said = result_words(result, lang)
    return f"{line}   ({said})" if said else line


RULE_COLUMN_MAX = 64  # rules start at most this far right; longer lines push them


def render_derivation(d: DerivationRecord) -> str:
    """The derivation as lines of Unicode: headings, steps with their rules in
    brackets, each result marked with ``▶``, then the check."""
    names = text_names(d.problem)
    lang = d.options.lang
    # (text, rules) rows; rules None for lines without a justification column
    rows: list[tuple[str, str | None]] = []
    if d.options.title:
        rows.append((d.options.title, None))
    for section in d.sections:
        rows.append((_heading(section, names, lang), None))
        lhs_width = 0
        for step in visible_steps(section, d.options.steps):
            rows.append(_step_row(step, names, lang, lhs_width))
            if step.lhs is not None:
                lhs_width = _width(render_expr_text(step.lhs, names))
    rows.extend(("  " + _result_line(d, result, names), None) for result in d.results)
    if d.check is not None:
        key = "check.passed" if d.check.passed else "check.failed"
        rows.append((f"{word(key, lang)} {d.check.max_rel_error:.1e}", None))
    column = min(RULE_COLUMN_MAX, max((_width(t) for t, r in rows if r), default=0))
    lines = []
    for text, rules in rows:
        lines.append(f"{_pad(text, column)}  [{rules}]" if rules else text)
    return "\n".join(lines)


def _step_row(step: Step, names: Mapping[str, str], lang: str, lhs_width: int) -> tuple[str, str]:
    relation = {"\\Rightarrow": "⇒", "\\Leftrightarrow": "⇔", "\\approx": "≈"}.get(step.relation, step.relation)
    rhs = render_expr_text(step.rhs, names)
    if step.lhs is None:  # continue under the previous line's relation
        text = "  " + " " * lhs_width + f" {relation} {rhs}"
    else:
        text = f"  {render_expr_text(step.lhs, names)} {relation} {rhs}"
    return text, step_justification(step, lang)
