"""Symbol names in LaTeX (spec §3): ``x``, ``\\mathbf{W}_{12}``, ``\\bar{x}``,
``\\theta_{\\text{enc}}``, a declared word such as ``lam``.

:class:`NameReader` is a cursor over the token list that reads names; the
expression parser (``syntax/latex.py``) extends it.  :func:`parse_name`,
:func:`word_name` and :func:`parse_left_side` read a text that is one name
(declarations, ``wrt:``, the left side of a definition).
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable
from typing import NamedTuple

from ..errors import DeriveError
from ..memos import memoised
from .nodes import NameRef, Source
from .tokens import (
    CHAR,
    CLOSE,
    END,
    LETTER,
    MACRO,
    MAX_DEPTH,
    NUM,
    OPEN,
    SCRIPT_ENDS,
    Token,
    TokenKind,
    fmt_macro,
    remembered,
    tokenize,
)
from .vocabulary import ACCENTS, FONTS, GREEK, OPEN_CLOSE, TEXT_WRAPPERS

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@memoised(maxsize=1024)
def safe_identifier(name: str) -> str:
    """``name`` as a Python identifier: keywords get a trailing underscore."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(name)  # unreachable for names built by the parser
    return name + "_" if keyword.iskeyword(name) else name


class _Core(NamedTuple):
    """A name being read: with its subscript (if any) and without (its base).
    A named tuple, as one is made for every name read."""

    ident: str
    latex: str
    sub: str | None
    base_ident: str
    base_latex: str


class NameReader:
    """A cursor over a token list (``tok`` is the current token) that reads
    symbol names; :class:`~mdderiv.syntax.latex.Parser` reads expressions on it."""

    def __init__(self, tokens: list[Token], src: Source, is_symbol: Callable[[str], bool]) -> None:
        self.toks = tokens
        self.i = 0
        self.tok = tokens[0]  # the current token, toks[i] (kept by advance)
        self.src = src
        self.is_symbol = is_symbol
        self.naming = False  # reading a name being declared (every name is a symbol then)
        self.is_dimension: Callable[[str], bool] = lambda _name: False
        self.depth = 0

    # -- helpers
    def peek(self, k: int = 1) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def advance(self) -> Token:
        tok = self.tok
        if tok.kind is not END:
            self.i += 1
            self.tok = self.toks[self.i]
        return tok

    def error(self, message: str, pos: int | None = None) -> DeriveError:
        line, column = self.src.where(self.tok.pos if pos is None else pos)
        return DeriveError(message, line, column)

    def describe(self, tok: Token) -> str:
        if tok.kind is END:
            return "the end of the expression"
        if tok.kind is OPEN:
            return "'{'"
        if tok.kind is CLOSE:
            return "'}'"
        return repr(fmt_macro(tok))

    def enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"expression nested too deeply (more than {MAX_DEPTH} levels)", pos)

    def leave(self) -> None:
        self.depth -= 1

    def expect_close(self, opener: Token, closer_kind: TokenKind, closer_text: str) -> None:
        tok = self.tok
        if tok.kind == closer_kind and tok.text == closer_text:
            self.advance()
            return
        if tok.kind is END:
            raise self.error(f"unbalanced {opener.text!r}: it is never closed with {closer_text!r}", opener.pos)
        raise self.error(f"expected {closer_text!r} to close the {opener.text!r}, found {self.describe(tok)}")

    def script_tokens(self) -> list[Token]:
        """The tokens of one script argument (a group's content, or one token)."""
        tok = self.tok
        if tok.kind is OPEN:
            depth = 0
            start = self.i
            while True:
                t = self.advance()
                if t.kind is OPEN:
                    depth += 1
                elif t.kind is CLOSE:
                    depth -= 1
                    if depth == 0:
                        return self.toks[start + 1 : self.i - 1]
                elif t.kind is END:  # cannot happen: braces were checked
                    raise self.error("unbalanced '{'", tok.pos)
        if tok.kind is MACRO and self.peek().kind is OPEN:  # ^\mathsf{T}, ^\frac12
            start = self.i
            self.advance()
            while self.tok.kind is OPEN:
                self.script_tokens()
            return self.toks[start : self.i]
        if tok.kind in SCRIPT_ENDS or tok.is_char("^", "_"):
            raise self.error("a superscript or subscript needs an argument")
        self.advance()
        return [tok]

    def parse_name(self) -> NameRef:
        """``core ( _ sub )?`` where core is a letter, a Greek letter, or a font
        wrapper / accent around a name."""
        start = self.tok
        core = self.name_core()
        after = self.tok
        if after.kind is CHAR:  # (is_char inline: most names have neither mark after them)
            if after.text == "_":
                core = self.subscripted(core)
            after = self.tok
            if after.kind is CHAR and after.text == "'":
                core = self.primed(core)
        end = self.toks[self.i - 1].end
        return NameRef(
            safe_identifier(core.ident),
            core.latex,
            safe_identifier(core.base_ident),
            core.base_latex,
            core.sub,
            start.pos,
            end,
        )

    def primed(self, core: _Core) -> _Core:
        """``x'`` as a name of its own, when it is one (declared, or being
        declared); otherwise the prime is left for parse_postfix to refuse."""
        primes = 0
        while self.peek(primes).is_char("'"):
            primes += 1
        ident = core.ident + "_prime" * primes
        if not self.is_symbol(ident):
            return core
        for _ in range(primes):
            self.advance()
        latex = core.latex + "'" * primes
        return _Core(ident, latex, None, ident, latex)  # a name of its own, never a family member

    def subscripted(self, core: _Core) -> _Core:
        """``core`` followed by ``_sub`` (the ``_`` is the current token)."""
        if core.sub is not None:
            raise self.error("double subscript")
        self.advance()
        sub, sub_latex = self.name_subscript()
        return _Core(f"{core.ident}_{sub}", f"{core.latex}_{{{sub_latex}}}", sub, core.ident, core.latex)

    def declared_word(self) -> str | None:
        """A name of several plain letters (``lam`` of the ASCII declaration
        ``lam: scalar``), read when the letters written together spell a declared
        name (the longest such); refused when each letter is a name as well, where
        ``ab`` could also be the product ``a b``.  Consumes the word's tokens."""
        run = [self.tok]
        while (nxt := self.peek(len(run))).kind is LETTER and nxt.pos == run[-1].end and len(run) < 32:
            run.append(nxt)
        if self.naming:
            return None  # a declaration's word is read by word_name
        for length in range(len(run), 1, -1):
            word = "".join(t.text for t in run[:length])
            if not self.is_symbol(word):
                continue
            if all(self.is_symbol(t.text) or self.is_dimension(t.text) for t in run[:length]):
                raise self.error(
                    f"{word} can be the name {word} or the product of "
                    f"{' '.join(t.text for t in run[:length])}; rename one of them"
                )
            for _ in range(length):
                self.advance()
            return word
        return None

    def name_core(self) -> _Core:
        """A name without its outer subscript (``\\mathbf{x_i}`` keeps its inner one)."""
        tok = self.tok
        if tok.kind is LETTER:
            word = self.declared_word()
            if word is not None:
                latex = f"\\mathit{{{word}}}"
                return _Core(word, latex, None, word, latex)
            self.advance()
            return _Core(tok.text, tok.text, None, tok.text, tok.text)
        if tok.kind is MACRO and tok.text in GREEK:
            self.advance()
            return _Core(tok.text, "\\" + tok.text, None, tok.text, "\\" + tok.text)
        if not (tok.kind is MACRO and (tok.text in FONTS or tok.text in ACCENTS)):
            raise self.error(f"expected a symbol name, found {self.describe(tok)}")
        toks, i = self.toks, self.i
        if (
            toks[i + 1].kind is OPEN
            and toks[i + 2].kind is LETTER
            and toks[i + 3].kind is CLOSE
            and self.depth < MAX_DEPTH
        ):
            # the usual \mathbf{x}, \bar{x}: read at once (what the general path gives)
            letter = toks[i + 2].text
            self.i = i + 4
            self.tok = toks[i + 4]
            latex = "\\" + tok.text + "{" + letter + "}"
            accent = ACCENTS.get(tok.text)
            ident = letter if accent is None else f"{letter}_{accent}"
            return _Core(ident, latex, None, ident, latex)
        self.advance()
        if self.tok.kind is OPEN:
            opener = self.advance()
            self.enter(opener.pos)
            try:
                inner = self.name_core()
                if self.tok.is_char("_"):
                    inner = self.subscripted(inner)
            finally:
                self.leave()
            closer = self.tok  # (a fresh name: mypy would keep the narrowing from before name_core)
            if closer.kind is not CLOSE:
                raise self.error(f"\\{tok.text}{{…}} must hold one symbol, found {self.describe(closer)}")
            self.advance()
        elif self.tok.kind is LETTER or (self.tok.kind is MACRO and self.tok.text in GREEK):
            inner = self.name_core()  # \bm a: a one-token argument without braces
        else:
            raise self.error(f"\\{tok.text} needs an argument in braces")

        def wrap(inner_latex: str) -> str:
            return "\\" + tok.text + "{" + inner_latex + "}"

        if tok.text in ACCENTS:
            # an accent names a new symbol (x̄ is not x), and over x_1 not a family member
            ident = f"{inner.ident}_{ACCENTS[tok.text]}"
            return _Core(ident, wrap(inner.latex), None, ident, wrap(inner.latex))
        return _Core(inner.ident, wrap(inner.latex), inner.sub, inner.base_ident, wrap(inner.base_latex))

    def name_subscript(self) -> tuple[str, str]:
        pos = self.tok.pos
        toks = self.script_tokens()
        ident_parts: list[str] = []
        latex_parts: list[str] = []
        wrapper_open = False  # inside W_{\\text{enc}}: the word is part of the name
        for k, t in enumerate(toks):
            if t.kind is LETTER or (t.kind is NUM and t.text.isdigit()):
                ident_parts.append(t.text)
                latex_parts.append(t.text)
            elif t.kind is MACRO and t.text in GREEK:
                ident_parts.append(t.text)
                latex_parts.append("\\" + t.text + " ")
            elif (
                t.kind is MACRO
                and t.text in TEXT_WRAPPERS
                and not wrapper_open
                and k + 1 < len(toks)
                and toks[k + 1].kind is OPEN
            ):
                latex_parts.append("\\" + t.text)
            elif t.kind is OPEN and k > 0 and toks[k - 1].kind is MACRO and not wrapper_open:
                wrapper_open = True
                latex_parts.append("{")
            elif t.kind is CLOSE and wrapper_open:
                wrapper_open = False
                latex_parts.append("}")
            else:
                raise self.error("a subscript of a name must be letters or digits (W_1, W_{12}, x_i)", pos)
        if not ident_parts:
            raise self.error("empty subscript", pos)
        return "".join(ident_parts), "".join(latex_parts).strip()


def parse_name(src: Source) -> NameRef:
    """Parse ``src.text`` as exactly one symbol name (declarations, wrt, left sides)."""
    known = remembered(src.text)
    if known.name is None:
        known.name = _read_name(tokenize(src), src)
    return known.name


def _read_name(tokens: list[Token], src: Source) -> NameRef:
    parser = NameReader(tokens, src, lambda _name: True)
    parser.naming = True
    if parser.tok.kind is END:
        src.error("expected a symbol name", 0)
    ref = parser.parse_name()
    after = parser.tok  # (a fresh name: mypy would keep the narrowing from before parse_name)
    if after.kind is not END:
        raise parser.error(f"expected one symbol name, found {parser.describe(after)} after it")
    return ref


_WORD = re.compile(r"[A-Za-z]{2,32}")


def word_name(src: Source) -> NameRef | None:
    """A name of several plain letters (``lam`` in ``lam: scalar``), as ASCII
    declarations and ``wrt:`` write it; None for any other spelling."""
    word = src.text.strip()
    if not _WORD.fullmatch(word):
        return None
    latex = f"\\mathit{{{word}}}"
    start = src.text.index(word)
    return NameRef(word, latex, word, latex, None, start, start + len(word))


def parse_left_side(src: Source) -> NameRef:
    """The name a definition defines: one symbol name, or one written as a
    function of its arguments (``J(\\boldsymbol{\\theta})``, ``L(W_1, W_2)``),
    which names the same thing (the arguments are for the reader)."""
    try:
        return parse_name(src)
    except DeriveError as error:
        tokens = tokenize(src)
        parser = NameReader(tokens, src, lambda _name: True)
        parser.naming = True
        if parser.tok.kind is END:
            raise
        ref = parser.parse_name()
        opener = parser.tok
        if not opener.is_char("(", "["):
            raise error from None
        closer = OPEN_CLOSE[opener.text]
        parser.advance()
        while True:
            parser.parse_name()
            if parser.tok.is_char(",", ";"):
                parser.advance()
                continue
            break
        parser.expect_close(opener, CHAR, closer)
        after = parser.tok  # (a fresh name: mypy would keep the narrowing from before parse_name)
        if after.kind is not END:
            raise parser.error(f"expected '=' after {ref.latex}(…), found {parser.describe(after)}") from None
        return ref
