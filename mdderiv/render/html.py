r"""A derivation as HTML structure with math inside, for pages.

One visitor per output, like ``render.display``: the expressions are printed by
the LaTeX printer, and this module lays the derivation out around them — one
row per step (left side, relation, right side, justification as words),
headings, the boxed results and the check line as HTML.  The stylesheet
``mdderiv/markdown/mdderiv.css`` turns the rows into a grid whose
justification moves under its step in a narrow column.

Every math piece is a ``<span class="arithmatex">\(…\)</span>`` (what
MathJax set up for Arithmatex and KaTeX's auto-render both read).  A long right
side is cut at its top-level ``+``, ``-``, ``⊙`` … into pieces with a line-break
opportunity between them, so the browser wraps it like a textbook, continuation
lines indented — with any math renderer, whatever the column width.

The outermost element is ``<div class="mdderiv-derivation">`` and holds no
other ``<div>``: its end is the first ``</div>`` after it (integrations find a
derivation in a page by that).

``html_display`` is the other form, for HTML without our stylesheet (blog posts,
notebooks): the whole LaTeX display in one ``div.arithmatex``.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from html import escape
from typing import TYPE_CHECKING
from collections.abc import Mapping

from ..expr import SCALAR, Differential, Expr, Symbol
from ..memos import Remembered, memoised
from ..rules import RuleId
from .display import RELATIONS
from .latex import Annotate, LatexPrinter, format_error, names_of, shared_printer
from .numpy import result_source
from .steps import justification, key_differentials, result_words, visible_steps
from .words import heading_key, word, words_with_math

if TYPE_CHECKING:
    from ..record import DerivationRecord, Result, Section, Step

__all__ = ["breakable_pieces", "html_display", "render_html", "split_at_operators"]

# The binary operators the LaTeX printer writes with a space on each side.
_OPERATORS = (" + ", " - ", r" \odot ", r" \oslash ", r" \otimes ")
# A piece longer than this (in rough glyphs) is also cut inside its parentheses.
_LONG_PIECE = 16
# \left( … \right) cannot be cut; where a piece is still too long, its pairs
# become fixed-size delimiters (as tall as a displayed fraction), which can be
# cut.  (A function, not a template such as r"\\bigg\1": the regex module
# expands a template with backslashes in Python code, for every match.)
_STRETCHY = re.compile(r"\\(left|right)(?![A-Za-z])")
# A left side longer than this (in rough glyphs) stands on a line of its own in
# a narrow column, the relation and the right side under it.
_WIDE_LHS = 8
_LEADING_OPERATORS = tuple(op.strip() + " " for op in _OPERATORS)
_MACRO_NAME = re.compile(r"\\[A-Za-z]+")


def _glyphs(latex: str) -> int:
    """Roughly how many glyphs ``latex`` shows: its characters less braces,
    ``^``, ``_``, spaces and macro names, plus one per two backslashes (a
    macro counts as about one).  This runs on every piece of every step, and
    deleting the macro names (a substitution) is its cost: so a text with
    macros is counted by its space-separated chunks (``\\mathbf{x}^{T}``,
    ``\\operatorname{tr}(A`` …), each chunk's count remembered.  That is
    the same sum: a macro name holds no space, and spaces are not counted."""
    if "\\" not in latex:
        return _shown_length(latex)
    known = _CHUNK_GLYPHS
    total = 0
    for chunk in latex.split(" "):
        count = known.get(chunk)
        if count is None:
            count = known.remember(chunk, _shown_length(_MACRO_NAME.sub("", chunk)))
        total += count
    return total + latex.count("\\") // 2


def _shown_length(shown: str) -> int:
    """The characters of ``shown`` less braces, ``^``, ``_`` and spaces: for
    ASCII text (the usual) by one ``bytes.translate``, a loop in C cheaper
    than counting the five characters one by one (still done for other text)."""
    if shown.isascii():
        return len(shown.encode().translate(None, _HIDDEN))
    hidden = shown.count(" ") + shown.count("{") + shown.count("}") + shown.count("^") + shown.count("_")
    return len(shown) - hidden


_HIDDEN = b" {}^_"
#: a chunk of math between two spaces → its shown length (:func:`_glyphs`):
#: the same chunks come back in every step and every piece of a page
_CHUNK_GLYPHS: Remembered[str, int] = Remembered("the glyph counts of math chunks", limit=8192)


@memoised(maxsize=1024)
def _left_glyphs(latex: str) -> int:
    """:func:`_glyphs` of a step's left side, remembered: a derivation has
    few left sides, each on several steps (``df``, ``\\frac{\\partial f}{\\partial X}``),
    and ``f`` and ``df`` begin every derivation of a page."""
    return _glyphs(latex)


_BARE_MACRO = re.compile(r"\\[A-Za-z]+\Z")
_SUM_HEAD = re.compile(r"\\sum_\{[^{}]*\}\^\{[^{}]*\}\Z")
_OPERATOR_CUT, _FACTOR_CUT = 0, 1  # what a cut stands before: an operator, or a factor


# The tokens that matter for cutting: \left and \right (with the delimiter after
# them), \|, braces, parentheses, and a space (before an operator, or between two
# factors).  Everything else is passed over inside the regex, in C, as the run
# before a token: letters, digits, other escaped characters, macro names, and a
# brace group with at most one level of groups inside (most are: ^{T},
# \mathbf{x}, \frac{1}{2}), which holds no cut whatever is inside (TeX closes a
# \left … \right pair in the group that opened it); deeper groups are read brace
# by brace.  So the loop below runs once per token that matters, not once per
# group.  (The group patterns are written so that no text has two ways to match,
# and every repeat is possessive: no backtracking blow-up, and the regex engine
# keeps no backtracking state, which makes the run cheaper.)
_FLAT_GROUP = r"\{[^{}\\]*+(?:\\.[^{}\\]*+)*+\}"
_GROUP = r"\{[^{}\\]*+(?:(?:\\.|" + _FLAT_GROUP + r")[^{}\\]*+)*+\}"
_PLAIN = r"[^{}()\\ ]++|\\[^A-Za-z|]|\\[A-Za-z]++(?<!\\left)(?<!\\right)"  # (no group, no token)
_PASSED_OVER = r"(?:" + _GROUP + r"|" + _PLAIN + r")*+"
_DELIMITER = r"(?:\\.|" + _GROUP + r"|.)?+"  # what \left or \right takes: never a token itself
_OPERATOR_AHEAD = "|".join(re.escape(op.strip()) for op in _OPERATORS)
_TOKENS = (
    r"(?:(?P<operator> )(?=(?:" + _OPERATOR_AHEAD + r") )"
    + r"|(?P<space> )|(?P<open>\()|(?P<close>\))|(?P<brace>\{)|(?P<unbrace>\})|(?P<bar>\\\|)"
    + r"|(?P<left>\\left(?![A-Za-z])" + _DELIMITER + r")"
    + r"|(?P<right>\\right(?![A-Za-z])" + _DELIMITER + r")"
    + r"|(?P<backslash>\\)|(?P<end>\Z))"  # (a last lone backslash: so the regex never fails)
)
_TOKEN = re.compile(_PASSED_OVER + _TOKENS, re.DOTALL)
# The same tokens when only the cuts before operators are wanted (see _split):
# a space not before an operator is passed over too, and so is a pair of
# parentheses holding no such place (no operator, no other parentheses, no
# token inside: ``\sigma(K \mathbf{b})``, ``\operatorname{tr}(A^{T} B)``), as it
# changes no depth.  The regex stops at far fewer tokens: most of a formula's
# parentheses hold no operator, and each token is a Python step of the loop.
_PLAIN_SPACE = r" (?!(?:" + _OPERATOR_AHEAD + r") )"
_PLAIN_PARENTHESES = r"\((?:" + _GROUP + r"|" + _PLAIN + r"|" + _PLAIN_SPACE + r")*+\)"
_OPERATOR_TOKEN_ONLY = re.compile(
    r"(?:" + _GROUP + r"|" + _PLAIN_PARENTHESES + r"|" + _PLAIN + r"|" + _PLAIN_SPACE + r")*+" + _TOKENS,
    re.DOTALL,
)
(_OPERATOR_TOKEN, _SPACE, _OPEN, _CLOSE, _BRACE, _UNBRACE, _BAR, _LEFT, _RIGHT, _END) = (
    _TOKEN.groupindex[name]
    for name in ("operator", "space", "open", "close", "brace", "unbrace", "bar", "left", "right", "end")
)
# (the loop below tests the usual tokens first by their group numbers)
assert _OPERATOR_TOKEN < _SPACE < _OPEN < _CLOSE < min(_BRACE, _UNBRACE, _BAR, _LEFT, _RIGHT, _END)
assert _OPERATOR_TOKEN_ONLY.groupindex == _TOKEN.groupindex  # (one loop reads both)


def _break_candidates(latex: str, tokens: re.Pattern[str] = _TOKEN) -> list[tuple[int, int, int]]:
    """``(position, depth, kind)`` of each place where the math may be cut:
    before a binary operator, or (kind ``_FACTOR_CUT``) at a space that may be
    between two factors of a product (:func:`_between_factors` tells, when
    a piece has no operator to be cut at).  Never inside a brace group or a ``\\left … \\right`` pair (a
    piece must be valid TeX on its own); depth counts the plain parentheses and
    norm bars around the place.  With ``tokens=_OPERATOR_TOKEN_ONLY``: the places
    before operators only, the same as those of the whole list."""
    found: list[tuple[int, int, int]] = []
    braces = lefts = parens = 0
    norm_open = False
    for match in tokens.finditer(latex):
        kind = match.lastindex or _END  # (every match ends in one token group)
        if kind <= _CLOSE:  # a space or a parenthesis (the usual tokens: tested first)
            if braces or lefts:
                continue
            if kind <= _SPACE:
                i = match.start(kind)
                if i > 0:
                    found.append((i, parens, _OPERATOR_CUT if kind == _OPERATOR_TOKEN else _FACTOR_CUT))
            elif kind == _OPEN:
                parens += 1
            else:
                parens -= 1
        elif kind == _BRACE:
            braces += 1
        elif kind == _UNBRACE:
            braces -= 1
        elif kind == _LEFT:
            lefts += 1
        elif kind == _RIGHT:
            lefts -= 1
        elif kind == _BAR:
            if not (braces or lefts):
                norm_open = not norm_open
                parens += 1 if norm_open else -1
        elif kind == _END:
            break
    return found


def _between_factors(latex: str, i: int) -> bool:
    """Whether the space at ``i`` separates two factors of a product (not a
    function's name from its argument, nor a sum's head from its body).  Only
    the text just before the space is searched (``pos``/``endpos``, no copies)."""
    last = latex[i - 1]
    if last not in "})'" and not last.isalnum():
        return False
    if _BARE_MACRO.search(latex, max(0, i - 24), i) or _SUM_HEAD.search(latex, max(0, i - 60), i):
        return False
    after = latex[i + 1 : i + 7]
    return bool(after) and after[0] not in "+-=)" and not after.startswith(r"\right")


def split_at_operators(latex: str, long_piece: int = _LONG_PIECE) -> list[str]:
    r"""``latex`` cut before its top-level binary operators (``+``, ``-``,
    ``\odot`` …) into pieces that are each valid TeX; a piece still longer
    than ``long_piece`` glyphs is cut again at the operators one pair of
    parentheses deeper, and so on, and at last between the factors of a
    product.  Joined, the pieces are ``latex``."""
    return _split(latex, long_piece)[0]


def _split(latex: str, long_piece: int, glyph_count: int | None = None) -> tuple[list[str], bool]:
    """:func:`split_at_operators`, and whether a piece holding ``\\left`` is
    still longer than ``long_piece`` (told from the glyph counts the cutting
    took anyway).  ``glyph_count`` is ``latex``'s, when the caller has it.

    The places before operators are read first, alone (a quicker read: see
    ``_OPERATOR_TOKEN_ONLY``); only where a long piece holds no operator, and
    may be cut between factors, is the text read again for every place."""
    cut = _cut(latex, long_piece, glyph_count, _break_candidates(latex, _OPERATOR_TOKEN_ONLY), factors=False)
    if cut is None:
        cut = _cut(latex, long_piece, glyph_count, _break_candidates(latex), factors=True)
        assert cut is not None  # (with every place a text is always cut)
    return cut


def _cut(
    latex: str,
    long_piece: int,
    glyph_count: int | None,
    candidates: list[tuple[int, int, int]],
    factors: bool,
) -> tuple[list[str], bool] | None:
    """:func:`_split` at the ``candidates``; without ``factors`` (the places
    before operators only), None where a piece would be cut between factors.
    Both lists give the places before operators at the same depths, and the
    cutting reads the factors' places only in a piece with no operator that is
    longer than ``long_piece`` (shorter, or without a space, it is one piece
    either way): so where this gives pieces, they are those of every place."""
    if not candidates and factors:
        if r"\left" not in latex:
            return [latex], False
        return [latex], (_glyphs(latex) if glyph_count is None else glyph_count) > long_piece
    positions = [place[0] for place in candidates]
    pieces: list[str] = []
    stretchy_too_long = False
    between: dict[int, bool] = {}  # space → whether it is between two factors

    def between_factors(pos: int) -> bool:
        known = between.get(pos)
        if known is None:
            known = between[pos] = _between_factors(latex, pos)
        return known

    def cut(start: int, end: int, count: int | None) -> bool:
        """Cut ``latex[start:end]`` into pieces; False if it needs the factors' places."""
        nonlocal stretchy_too_long
        text = latex[start:end]
        first, stop = bisect_right(positions, start), bisect_left(positions, end)  # the places inside
        if first != stop or not (factors or " " not in text):
            if count is None:
                count = _glyphs(text)
            if count > long_piece:
                if first == stop:  # long, and a space in it: maybe between factors
                    return False
                inside = candidates[first:stop]  # (without factors: every place is before an operator)
                if factors:
                    inside = [place for place in inside if place[2] == _OPERATOR_CUT]
                    if not inside:  # no operator: between the factors of a product
                        inside = [place for place in candidates[first:stop] if between_factors(place[0])]
                if inside:
                    depth = min([place[1] for place in inside])  # the outermost first
                    for pos, at, _ in inside:
                        if at == depth:
                            if not cut(start, pos, None):
                                return False
                            start = pos
                    return cut(start, end, None)
        # a piece
        pieces.append(text)
        if not stretchy_too_long and r"\left" in text:
            stretchy_too_long = (_glyphs(text) if count is None else count) > long_piece
        return True

    top = [pos for pos, depth, kind in candidates if depth == 0 and kind == _OPERATOR_CUT]
    if not top:
        return (pieces, stretchy_too_long) if cut(0, len(latex), glyph_count) else None
    start = 0
    for pos in top:
        if not cut(start, pos, None):
            return None
        start = pos
    return (pieces, stretchy_too_long) if cut(start, len(latex), None) else None


def _math(latex: str, display: bool = True, classes: str = "arithmatex") -> str:
    """One math piece; display style, so fractions are full size as in a display."""
    style = r"\displaystyle " if display else ""
    if "&" in latex or "<" in latex or ">" in latex:  # (rare in LaTeX: skip the escaping otherwise)
        latex = escape(latex, quote=False)
    return f'<span class="{classes}">\\({style}{latex}\\)</span>'


@memoised(maxsize=256)
def _escaped(text: str) -> str:
    """``escape(text)`` for the fixed words (headings, labels, the language):
    remembered, as they come back in every derivation."""
    return escape(text)


def breakable_pieces(latex: str) -> list[str]:
    """:func:`split_at_operators`, cutting inside ``\\left … \\right`` pairs too
    (made fixed-size) where a piece would otherwise stay too long."""
    return _breakable(latex, None)


def _breakable(latex: str, glyph_count: int | None) -> list[str]:
    """:func:`breakable_pieces`; ``glyph_count`` is ``latex``'s, when the caller has it."""
    if len(latex) <= _LONG_PIECE:  # fits anywhere: no cut needed
        return [latex]
    if glyph_count is None:
        glyph_count = _glyphs(latex)
    if glyph_count <= _LONG_PIECE:
        return [latex]
    # (a text whose one stretchy pair holds every space is one long piece with
    # \left: _split would say so after reading it, and be done again below)
    parts, stretchy_too_long = [latex], _spaces_in_one_stretchy_pair(latex)
    if not stretchy_too_long:
        parts, stretchy_too_long = _split(latex, _LONG_PIECE, glyph_count)
    if stretchy_too_long:
        fixed = _STRETCHY.sub(_fixed_size, latex)
        # (the same glyphs: a macro name in place of a macro name)
        parts = _split(fixed, _LONG_PIECE, glyph_count)[0]
    return parts


def _fixed_size(delimiter: re.Match[str]) -> str:
    return r"\biggl" if delimiter.group(1) == "left" else r"\biggr"


def _spaces_in_one_stretchy_pair(latex: str) -> bool:
    """Whether every space of ``latex`` is inside its one ``\\left … \\right``
    pair, before the pair only letters, macro names and flat brace groups
    (``\\operatorname{tr}\\left( … \\right)^{T}``, as many steps of a page
    are).  Then no place may be cut (a cut is at a space outside brace groups
    and pairs), which this tells from a few substring searches and one short
    match, without reading the text token by token."""
    start, end = latex.find(r"\left"), latex.rfind(r"\right")
    return (
        0 <= start < end
        and latex.count(r"\left") == 1
        and latex.count(r"\right") == 1
        and latex[start + 5 : start + 6] not in _LETTERS  # \left, not \leftarrow
        and latex.find(" ", end) < 0
        and _PLAIN_PREFIX.fullmatch(latex, 0, start) is not None
    )


# what may stand before such a pair: no space, no escaped character, no nested group
_PLAIN_PREFIX = re.compile(r"(?:[^{}\\ ]|\\[A-Za-z]++|\{[^{}\\ ]*+\})*+")
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _pieces(parts: tuple[str, ...]) -> str:
    """Math pieces with a line-break opportunity between them."""
    return "<wbr>".join(map(_math, parts))


#: a side's text → its pieces: the same sides come back in the steps and results
#: of one derivation and across the derivations of a site (``df``, ``x^{T} A x`` …)
_PIECES: Remembered[str, tuple[str, ...]] = Remembered("the pieces of the math texts last cut", limit=4096)


def _piece_texts(latex: str, glyph_count: int | None = None) -> tuple[str, ...]:
    """:func:`breakable_pieces`, each ready to stand alone: a piece that starts
    with an operator gets ``{}`` before it, so the operator keeps its binary spacing.
    ``glyph_count`` is ``latex``'s, when the caller has it."""
    known = _PIECES.get(latex)
    if known is not None:
        return known
    out = []
    for part in _breakable(latex, glyph_count):
        part = part.strip()
        if part.startswith(_LEADING_OPERATORS):
            part = "{}" + part
        out.append(part)
    return _PIECES.remember(latex, tuple(out))


def _cell(kind: str, parts: tuple[str, ...]) -> str:
    """A cell of a step's row (``mdderiv-lhs``, ``mdderiv-rhs``) holding
    the math ``parts`` (:func:`_piece_texts`): when it is one piece, that piece's
    math span with the cell's class too (no wrapper); else the pieces in a wrapper."""
    if len(parts) == 1:
        return _math(parts[0], classes=kind + " arithmatex")
    return f'<span class="{kind}">{_pieces(parts)}</span>'


def _heading(section: Section, latex: _Latex, lang: str) -> str:
    """The heading of a section: HTML words around the variable as inline math."""
    return _heading_html(section.kind, latex(section.about) if section.about is not None else None, lang)


@memoised(maxsize=1024)
def _heading_html(kind: str, math: str | None, lang: str) -> str:
    """:func:`_heading` from the section's kind and its variable's LaTeX,
    remembered: the same headings (``df``, the gradient with respect to
    ``\\mathbf{x}`` …) come back in derivation after derivation."""
    words = words_with_math(heading_key(kind), lang, math, _escaped, _inline_math, "")
    return f'<p class="mdderiv-heading">{words}</p>'


def _inline_math(latex: str) -> str:
    return _math(latex, display=False)


@memoised(maxsize=4096)
def _justification_html(rules: tuple[RuleId, ...], note: str | None, lang: str) -> str:
    """The words beside a step, escaped.  (Remembered: the same few rules and
    notes are cited in every derivation.)"""
    return escape(justification(rules, note, lang))


def _step(step: Step, latex: _Latex, lang: str, annotate: Annotate, detail: bool) -> str:
    relation = RELATIONS.get(step.relation, step.relation)
    right = _cell("mdderiv-rhs", _piece_texts(latex(step.rhs, annotate)))
    why = _justification_html(step.rules, step.note, lang)
    kind = "mdderiv-step mdderiv-detail" if detail else "mdderiv-step"
    lhs = ""
    if step.lhs is None:
        kind += " mdderiv-continued"
    else:
        left = latex(step.lhs, annotate)
        left_glyphs = _left_glyphs(left)
        if left_glyphs > _WIDE_LHS:
            kind += " mdderiv-wide-lhs"  # in a narrow column it gets a line of its own
        # every cell names its grid column, so a continued step needs no empty
        # left side to start a new row; a cell of one math piece is that piece's span
        if left:
            lhs = _cell("mdderiv-lhs", _piece_texts(left, left_glyphs))
    # the relation has no \displaystyle (a relation symbol is the same in either style)
    return (
        f'<p class="{kind}">{lhs}<span class="mdderiv-rel arithmatex">\\({relation}\\)</span>'
        f'{right}<span class="mdderiv-why">{why}</span></p>'
    )


def _result(d: DerivationRecord, result: Result, latex: _Latex) -> str:
    label = latex(result.label)
    value = latex(result.expr)
    shape = ""
    if d.options.shapes != "none" and result.expr.shape != SCALAR:
        rows = latex.printer._dimension(result.expr.shape[0])
        cols = latex.printer._dimension(result.expr.shape[1])
        size = _math(rows + r" \times " + cols, display=False)
        shape = f' <span class="mdderiv-shape">{size}</span>'
    said = result_words(result, d.options.lang)
    words = f' <span class="mdderiv-why">{_escaped(said)}</span>' if said else ""
    return (
        f'<p class="mdderiv-result"><span class="mdderiv-boxed">{_math(label)}<wbr>'
        f'{_math("{}={}", display=False)}<wbr>{_pieces(_piece_texts(value))}{shape}</span>{words}</p>'
    )


def _copy_menu(d: DerivationRecord, latex_of: _Latex) -> str:
    """The results as LaTeX and as NumPy code, to select and copy."""
    latex = "\n".join(f"{latex_of(r.label)} = {latex_of(r.expr)}" for r in d.results)
    try:
        numpy = "\n".join(result_source(d, r) for r in d.results)
    except (TypeError, ValueError, NotImplementedError):  # a result NumPy cannot write
        numpy = ""
    lang = d.options.lang
    parts = [f'<summary>{_escaped(word("html.copy", lang))}</summary>']
    parts.append(f'<p class="mdderiv-label">LaTeX</p><pre><code>{escape(latex)}</code></pre>')
    if numpy:
        parts.append(f'<p class="mdderiv-label">NumPy</p><pre><code>{escape(numpy)}</code></pre>')
    return '<details class="mdderiv-copy">' + "".join(parts) + "</details>"


class _Latex:
    """``render_expr`` for one derivation's expressions (same text): the names
    mapping's shared printer, looked up once, and one annotating printer per
    set of marks (a marked step's two sides share it), not one per call."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self.names = names
        self.printer = shared_printer(names)
        # (the shared printer annotates nothing, so its doprint is its _print:
        # called directly, one Python call less for each of a page's formulas)
        self.plain = self.printer._print
        self.annotating: dict[int, tuple[Annotate, LatexPrinter]] = {}  # (it keeps the marks: their id stays theirs)

    def __call__(self, expr: Expr, annotate: Annotate = None) -> str:
        if annotate is None:
            return self.plain(expr)
        known = self.annotating.get(id(annotate))
        if known is None:
            known = self.annotating[id(annotate)] = (annotate, LatexPrinter(self.names, annotate))
        return known[1].doprint(expr)


def _shown_with_shape(node: Expr) -> bool:
    """``shapes: all``: every symbol and differential is annotated."""
    return isinstance(node, (Symbol, Differential))


def render_html(d: DerivationRecord) -> str:
    """The whole derivation as one ``<div class="mdderiv-derivation">``."""
    latex = _Latex(names_of(d.problem))
    lang = d.options.lang
    shapes = d.options.shapes
    marks = key_differentials(d) if shapes == "key" else {}
    out = [f'<div class="mdderiv-derivation" lang="{_escaped(lang)}">']
    if d.options.title:
        out.append(f'<p class="mdderiv-title">{escape(d.options.title)}</p>')
    has_details = False
    for s_pos, section in enumerate(d.sections):
        shown = visible_steps(section, d.options.steps)
        brief = visible_steps(section, "brief")
        out.append('<section class="mdderiv-section">')
        out.append(_heading(section, latex, lang))
        # every step is written; the ones the brief view leaves out are marked
        position = {id(step): t_pos for t_pos, step in enumerate(shown)}
        in_brief = {id(step) for step in brief}
        for step in section.steps:
            t_pos = position.get(id(step))
            if t_pos is None and d.options.steps == "brief":
                t_pos = -1
            annotate: Annotate = marks.get((s_pos, t_pos)) if t_pos is not None else None
            if shapes == "all":
                annotate = _shown_with_shape
            detail = id(step) not in in_brief
            has_details = has_details or detail
            out.append(_step(step, latex, lang, annotate, detail))
        out.append("</section>")
    if d.results:
        out.append('<section class="mdderiv-results">')
        out.extend(_result(d, result, latex) for result in d.results)
        out.append("</section>")
    if d.check is not None:
        key = "check.passed" if d.check.passed else "check.failed"
        state = "passed" if d.check.passed else "failed"
        out.append(
            f'<p class="mdderiv-check mdderiv-check-{state}">{_escaped(word(key, lang))} '
            f"{_math(format_error(d.check.max_rel_error), display=False)}</p>"
        )
    tools = []
    if has_details:
        checked = "" if d.options.steps == "brief" else " checked"
        tools.append(
            f'<label class="mdderiv-toggle"><input type="checkbox" class="mdderiv-all"{checked}> '
            f'{_escaped(word("html.all_steps", lang))}</label>'
        )
    if d.results:
        tools.append(_copy_menu(d, latex))
    if tools:
        out.append('<section class="mdderiv-tools">' + "".join(tools) + "</section>")
    out.append("</div>")
    return "\n".join(out)


def html_display(latex: str) -> str:
    """Display math as Arithmatex writes it (``\\[ … \\]`` in a
    ``div.arithmatex``), which MathJax and KaTeX auto-render read.  Only what
    HTML needs is escaped: they read the text content, so entities are fine."""
    escaped = latex.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<div class="arithmatex">\\[\n{escaped}\n\\]</div>'
