"""LaTeX math → tokens, with pylatexenc as the tokenizer.

pylatexenc's ``LatexWalker`` splits the text into macros, groups and character
runs (with positions); :func:`tokenize` flattens that into the token list the
parser (``syntax/latex.py``) reads, with ``\\left( … \\right)`` and delimiter
macros resolved.  Tokens are remembered per text (:func:`remembered`).
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Final

from pylatexenc.latexwalker import (
    LatexCharsNode,
    LatexCommentNode,
    LatexEnvironmentNode,
    LatexGroupNode,
    LatexMacroNode,
    LatexMathNode,
    LatexNode,
    LatexSpecialsNode,
    LatexWalker,
    LatexWalkerEndOfStream,
    LatexWalkerParseError,
    get_default_latex_context_db,
)
from pylatexenc.macrospec import LatexContextDb, MacroStandardArgsParser

from ..memos import Remembered
from .nodes import Dim, NameRef, Source
from .vocabulary import DELIMITERS, IGNORED, SIZERS

#: Nesting deeper than this (parentheses, braces, function arguments, unary
#: minus) is refused: it keeps every later recursive pass far from Python's limit.
MAX_DEPTH = 100

_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+")
_DIGITS = frozenset("0123456789")
_ASCII_LETTERS = frozenset(string.ascii_letters)
#: Unicode operators an author may paste, as the characters or macros they mean.
_UNICODE_CHARS = {"−": "-", "‖": "||", "〈": "⟨", "〉": "⟩"}
_UNICODE_MACROS = {"⊙": "odot", "∘": "circ", "⊗": "otimes", "⊘": "oslash", "⋅": "cdot", "·": "cdot", "×": "times", "÷": "div"}


class TokenKind(StrEnum):
    """What the parser sees in a token (pylatexenc's token kinds are its own)."""

    NUM = "num"  # digits, with their value
    LETTER = "letter"
    MACRO = "macro"  # the name without its backslash
    OPEN = "open"  # a group's {, also made for a one-token argument (\frac12)
    CLOSE = "close"
    CHAR = "char"  # any other character: operators, brackets, ', …
    END = "end"  # after the last token


# The members under short names, which the parser compares for every token: a module
# global is read about five times faster than an enum attribute (``TokenKind.MACRO``).
NUM: Final = TokenKind.NUM
LETTER: Final = TokenKind.LETTER
MACRO: Final = TokenKind.MACRO
OPEN: Final = TokenKind.OPEN
CLOSE: Final = TokenKind.CLOSE
CHAR: Final = TokenKind.CHAR
END: Final = TokenKind.END

# Sets of kinds, built once (a tuple of globals would be built at every test).
BRACES: Final = frozenset({OPEN, CLOSE})
NAME_PARTS: Final = frozenset({LETTER, NUM})  # what a subscript word is made of
ATOM_STARTS: Final = frozenset({NUM, LETTER, OPEN})
SCRIPT_ENDS: Final = frozenset({END, CLOSE})  # where a bare ^ or _ has no argument


@dataclass(slots=True)
class Token:
    kind: TokenKind
    text: str
    pos: int
    end: int
    value: Fraction | None = None

    def is_char(self, *texts: str) -> bool:
        return self.kind is CHAR and self.text in texts

    def is_macro(self, *names: str) -> bool:
        return self.kind is MACRO and self.text in names


def fmt_macro(tok: Token) -> str:
    """How ``tok`` is written, for messages (a macro with its backslash)."""
    return "\\" + tok.text if tok.kind is MACRO else tok.text


#: What check_braces looks at: an escaped \{, \}, \\ or \% (not a brace,
#: not a comment), a comment (to the end of its line), a brace.
_BRACE_MARKS = re.compile(r"\\[{}\\%]|%[^\n]*|[{}]")


def check_braces(src: Source) -> None:
    """Unbalanced or too deeply nested braces, with the position of the culprit:
    a stack of the open braces, walked brace by brace.

    Done before pylatexenc so its own recursion stays shallow and the message
    points at the brace that has no partner.
    """
    if _balanced_braces(src.text):
        return  # (the usual text: no need to find a culprit)
    stack: list[int] = []
    for mark in _BRACE_MARKS.finditer(src.text):
        c = mark.group()
        if c == "{":
            stack.append(mark.start())
            if len(stack) > MAX_DEPTH:
                src.error(f"braces nested too deeply (more than {MAX_DEPTH} levels)", mark.start())
        elif c == "}":
            if not stack:
                src.error("unbalanced '}': there is no '{' before it", mark.start())
            stack.pop()
    if stack:
        src.error("unbalanced '{': it is never closed with '}'", stack[-1])


#: Every byte but the braces', deleted for the quick look at a text without escapes or
#: comments (in UTF-8 no other character has a byte that is a brace's).
_NOT_BRACE_BYTES = bytes(b for b in range(256) if b not in b"{}")


def _balanced_braces(text: str) -> bool:
    """Whether every brace of ``text`` has its partner, nested at most
    MAX_DEPTH deep, for a text in which every brace is one (no escaped
    brace, no comment); False means "look brace by brace"."""
    if "%" in text or "\\{" in text or "\\}" in text:
        return False  # (a comment or an escaped brace: not every brace is one)
    # The braces alone, without their innermost pairs ("{}") round after
    # round: they all go exactly when they are balanced, and a pair goes in
    # the round of its depth counted from the inside, so the rounds taken are
    # the deepest nesting (string methods in C, not a loop over the braces; the
    # braces are kept by deleting all other bytes, many times cheaper than a
    # regex substitution; "surrogatepass" encodes any str without an error).
    braces = text.encode("utf-8", "surrogatepass").translate(None, _NOT_BRACE_BYTES)
    rounds = 0
    while braces:
        rounds += 1
        inner = braces.replace(b"{}", b"")
        if len(inner) == len(braces) or rounds > MAX_DEPTH:
            return False  # no innermost pair left to take: unbalanced (or too deep)
        braces = inner
    return True


def tokenize(src: Source) -> list[Token]:
    """The token list of ``src.text`` (ending with an "end" token)."""
    return list(_tokens(src))


class Known:
    """What is remembered about one text: its tokens, its name once it has
    been read as one, and what it declares once read as a declaration's set
    (``\\mathbb{R}^{n}``: a shape and properties; see declarations.py)."""

    __slots__ = ("tokens", "name", "declared")

    def __init__(self) -> None:
        self.tokens: tuple[Token, ...] | None = None
        self.name: NameRef | None = None
        self.declared: tuple[tuple[Dim, Dim], frozenset[str]] | None = None


def remembered(text: str) -> Known:
    """What is remembered about ``text`` (a new, empty entry at first).

    What is read from a text alone is remembered (declaration lines, names
    and sets repeat across the blocks of a site, and ``mkdocs serve``
    re-reads unchanged lines).  Errors are not: they carry the line."""
    known = _TOKEN_MEMO.get(text)
    if known is None:
        known = _TOKEN_MEMO.remember(text, Known())
    return known


def _tokens(src: Source) -> tuple[Token, ...]:
    """The tokens of ``src.text``, remembered (token positions are relative
    to the text, so they depend on the text alone)."""
    known = remembered(src.text)
    tokens = known.tokens
    if tokens is None:
        tokens = known.tokens = _tokenize(src)
    return tokens


_TOKEN_MEMO: Remembered[str, Known] = Remembered("tokens, names and sets per text", limit=20_000)


def _tokenize(src: Source) -> tuple[Token, ...]:
    check_braces(src)
    if not _LATEX_SPECIAL.search(src.text):
        lexer = _Lexer(src)
        # pylatexenc would return this text as one character run: lex it directly
        # (its per-character scanning dominates the time of long plain inputs)
        lexer.chars(0, len(src.text))
        return _finish(lexer.tokens, src)
    tokens = _read_tokens(src)
    if tokens is None:
        tokens = _walk_tokens(src)
    return _finish(tokens, src)


def _walk_tokens(src: Source) -> list[Token]:
    """The tokens from pylatexenc's full walker (nodes with parsed arguments);
    its errors become DeriveErrors at their position."""
    try:
        walker = LatexWalker(src.text, latex_context=_context_db(), tolerant_parsing=False)
        nodes, _, _ = walker.get_latex_nodes()
    except RecursionError:
        src.error(f"LaTeX nested too deeply (more than {MAX_DEPTH} levels)", 0)
    except Exception as exc:  # noqa: BLE001 - pylatexenc's own parse errors, of several types
        pos = getattr(exc, "pos", None)
        message = str(exc).split("\n", 1)[0].split(" @(")[0]
        src.error(f"cannot read this LaTeX: {message}", pos if isinstance(pos, int) else 0)
    lexer = _Lexer(src)
    lexer.nodes(nodes)
    return lexer.tokens


def _finish(tokens: list[Token], src: Source) -> tuple[Token, ...]:
    """The tokens with delimiters resolved and the end token after the last."""
    return (*_delimiters(tokens, src), Token(END, "", len(src.text), len(src.text)))


_LATEX_SPECIAL = re.compile(r"[\\{}%$&#~]")


@functools.cache
def _context_db() -> LatexContextDb:
    """pylatexenc's default macro database without its text-mode specials
    (``--``, quotes, ``~``): math needs none of them, and skipping the specials
    test per character makes tokenizing faster."""
    return get_default_latex_context_db().filter_context(keep_which=["macros", "environments"])


#: A macro named in ASCII letters with the spaces (not a line break) after it,
#: the whole token pylatexenc's reader returns for it: the name ends where no
#: letter of any script follows (the reader's ``isalpha``; a digit or ``_``
#: ends it too) and the spaces where no other space follows (else the reader
#: itself is asked: a line break, a paragraph break, a space of another kind).
_WORD_MACRO = re.compile(r"\\([A-Za-z]+)(?![^\W\d_])[ \t]*+(?!\s)")
#: Characters pylatexenc's token reader returns one by one as "char" tokens
#: (the context has no specials): a run of them is lexed in one go.
_RUN_STOPS = "\\{}%$"
_PLAIN_RUN = re.compile(f"[^{re.escape(_RUN_STOPS)}]+")
#: Spaces (no line break: a paragraph break is a token of its own) and the
#: brace opening a macro's argument.
_ARGUMENT_BRACE = re.compile(r"[^\S\n]*\{")


@functools.cache
def _macro_arities() -> dict[str, int | None]:
    """Macro name → its number of mandatory arguments, or None when its
    arguments are not all mandatory ``{`` ones (optional, starred, verbatim)."""
    arities: dict[str, int | None] = {}
    for spec in _context_db().iter_macro_specs():
        if spec.macroname in arities:
            continue  # an earlier category's spec wins, as in get_macro_spec
        parser = spec.args_parser
        simple = type(parser) is MacroStandardArgsParser and set(parser.argspec) <= {"{"}
        arities[spec.macroname] = len(parser.argspec) if simple else None
    return arities


def _read_tokens(src: Source) -> list[Token] | None:
    """The tokens of ``src.text`` read with pylatexenc's token reader, for the
    usual text: characters, braces, comments and macros whose arguments are
    all mandatory (the reader is asked about each macro and each argument).

    It gives exactly what :meth:`_Lexer.nodes` makes of the walker's nodes,
    without building them (the walker's per-group and per-argument calls
    cost most of the parse stage).  None for anything else (math shifts,
    environments, optional or starred arguments, a missing argument): the
    full walker then reads the text and reports any error in its words.
    """
    text = src.text
    walker: LatexWalker | None = None  # made when first asked (most texts need it for no token)
    arities = _macro_arities()
    lexer = _Lexer(src)
    emit = lexer.tokens.append
    wanted = 0  # arguments the current macro still reads
    after_group: list[int] = []  # for each open brace: arguments still wanted after it
    pos = 0
    length_of_text = len(text)
    while True:
        if not wanted:
            # between macros, the reader's answer is known without asking it:
            # characters, a brace, or the end of the text (the run is only looked
            # for where one starts: a character test is cheaper than a regex call)
            starts_run = pos < length_of_text and text[pos] not in _RUN_STOPS
            plain = _PLAIN_RUN.match(text, pos) if starts_run else None
            if plain is not None:
                end = plain.end()
                if end == pos + 1 and text[pos] in _ASCII_LETTERS:
                    emit(Token(LETTER, text[pos], pos, end))  # (\mathbf{x}: what chars makes of one letter)
                else:
                    lexer.chars(pos, end)
                pos = end
            if pos == length_of_text:
                return None if after_group else lexer.tokens
            if text[pos] == "{":
                emit(Token(OPEN, "{", pos, pos + 1))
                after_group.append(0)
                pos += 1
                continue
            if text[pos] == "}":
                if not after_group:
                    return None
                emit(Token(CLOSE, "}", pos, pos + 1))
                wanted = after_group.pop()
                pos += 1
                continue
        else:
            # a macro's argument in braces: the reader would skip the spaces
            # before the brace (the text is one line) and return it
            if text.startswith("{", pos):
                at = pos  # (the usual \mathbf{x}: the brace right after the name, no regex call)
            else:
                brace = _ARGUMENT_BRACE.match(text, pos)
                at = brace.end() - 1 if brace is not None else -1
            if at >= 0:
                after_group.append(wanted - 1)
                wanted = 0
                emit(Token(OPEN, "{", at, at + 1))
                pos = at + 1
                continue
        # (a macro name starts with a backslash and a letter: else no regex call)
        named = text.startswith("\\", pos) and text[pos + 1 : pos + 2] in _ASCII_LETTERS
        word = _WORD_MACRO.match(text, pos) if named else None
        if word is not None and word.group(1) not in ("begin", "end"):
            # a macro named in ASCII letters, and the spaces after it: what
            # the reader returns for it, known without asking it
            kind, arg, at, length = "macro", word.group(1), pos, word.end() - pos
        elif text.startswith("\\", pos) and pos + 1 < len(text) and _is_control_symbol(text[pos + 1]):
            # a backslash and one character that is no letter (\|, \,, \{): the
            # reader's macro of that character, no spaces taken after it
            kind, arg, at, length = "macro", text[pos + 1], pos, 2
        else:
            if walker is None:
                walker = LatexWalker(text, latex_context=_context_db(), tolerant_parsing=False)
            try:
                # (the default parsing state is only read: no copy needed, as make_parsing_state makes)
                tok = walker.get_token(pos, environments=not wanted, parsing_state=walker.default_parsing_state)
            except LatexWalkerEndOfStream:
                return lexer.tokens if not wanted and not after_group else None
            except LatexWalkerParseError:
                return None
            kind, arg, at, length = tok.tok, tok.arg, tok.pos, tok.len
        if kind == "brace_open" and wanted:  # a macro's argument in braces
            after_group.append(wanted - 1)
            wanted = 0
            emit(Token(OPEN, "{", at, at + 1))
            pos = at + 1
        elif kind == "comment" and not wanted:
            pos = at + length
        elif kind == "macro" and not wanted:
            name = arg
            arity = arities.get(name, 0)  # an unknown macro takes no arguments
            if arity is None or (arity and name in IGNORED):
                return None
            if name not in IGNORED:
                emit(Token(MACRO, name, at, at + 1 + len(name)))
            wanted = arity
            pos = at + length
        elif kind in ("char", "macro") and wanted and arg not in ("begin", "end"):
            # a one-token argument (\frac12, \bar x): made an explicit group
            wanted -= 1
            end = at + length
            emit(Token(OPEN, "{", at, at))
            if kind == "char":
                lexer.chars(at, end)
            elif arg not in IGNORED:  # a macro argument comes without its own arguments
                emit(Token(MACRO, arg, at, at + 1 + len(arg)))
            emit(Token(CLOSE, "}", end, end))
            pos = end
        else:
            return None


def _is_control_symbol(c: str) -> bool:
    """Whether pylatexenc's reader returns a backslash followed by ``c`` as the
    macro named ``c`` (and nothing after it): ``c`` is no letter of any script
    (a letter starts a macro name) and not one of ``[ ] ( )`` (``\\[``, ``\\(``
    are math shifts)."""
    return not c.isalpha() and c not in "[]()"


class _Lexer:
    def __init__(self, src: Source) -> None:
        self.src = src
        self.tokens: list[Token] = []

    def nodes(self, nodes: Iterable[LatexNode | None]) -> None:
        for node in nodes:
            if node is not None:
                self.node(node)

    def node(self, node: LatexNode) -> None:
        text = self.src.text
        if isinstance(node, (LatexCharsNode, LatexSpecialsNode)):
            self.chars(node.pos, node.pos + node.len)
        elif isinstance(node, LatexCommentNode):
            return
        elif isinstance(node, LatexGroupNode):
            start, end = node.pos, node.pos + node.len
            if node.delimiters and node.delimiters[0] == "[":  # a macro's optional argument
                self.tokens.append(Token(CHAR, "[", start, start + 1))
                self.nodes(node.nodelist)
                self.tokens.append(Token(CHAR, "]", end - 1, end))
            else:
                self.tokens.append(Token(OPEN, "{", start, start + 1))
                self.nodes(node.nodelist)
                self.tokens.append(Token(CLOSE, "}", end - 1, end))
        elif isinstance(node, LatexMacroNode):
            name = node.macroname
            if name == "sqrt" and node.nodeargd and node.nodeargd.argnlist and node.nodeargd.argnlist[0]:
                self.src.error("\\sqrt[k]{…} is not supported; write a power ^{1/k}", node.pos)
            if name in IGNORED:
                return
            end = node.pos + 1 + len(name)
            self.tokens.append(Token(MACRO, name, node.pos, end))
            argd = node.nodeargd
            for arg in argd.argnlist if argd is not None and argd.argnlist else ():
                if arg is None:
                    continue
                if isinstance(arg, LatexGroupNode):
                    self.node(arg)
                else:  # a one-token argument (\frac12): make it an explicit group
                    self.tokens.append(Token(OPEN, "{", arg.pos, arg.pos))
                    self.node(arg)
                    self.tokens.append(Token(CLOSE, "}", arg.pos + arg.len, arg.pos + arg.len))
        elif isinstance(node, LatexMathNode):
            self.src.error("'$' cannot appear inside a derive block's math", node.pos)
        elif isinstance(node, LatexEnvironmentNode):
            self.src.error(f"environments (\\begin{{{node.environmentname}}}) are not supported", node.pos)
        else:
            self.src.error(f"cannot read {text[node.pos : node.pos + node.len]!r}", node.pos)

    def chars(self, start: int, end: int) -> None:
        text = self.src.text
        tokens = self.tokens
        i = start
        while i < end:
            c = text[i]
            if c in _ASCII_LETTERS:
                tokens.append(Token(LETTER, c, i, i + 1))
                i += 1
                continue
            if c.isspace() or c == "~":
                i += 1
                continue
            if c in _DIGITS or (c == "." and i + 1 < end and text[i + 1] in _DIGITS):
                previous = tokens[-1] if tokens else None
                scripted = previous is not None and previous.is_char("^", "_")
                if not (scripted and c == "."):  # (a scripted "." is a character)
                    # TeX: ^23 is ^{2}3
                    found = None if scripted else _NUMBER.match(text, i, end)
                    number = found.group() if found is not None else c  # (unscripted, it always matches)
                    tokens.append(Token(NUM, number, i, i + len(number), _number_value(number)))
                    i += len(number)
                    continue
            macro = _UNICODE_MACROS.get(c)
            if macro is not None:
                tokens.append(Token(MACRO, macro, i, i + 1))
            else:
                tokens.append(Token(CHAR, _UNICODE_CHARS.get(c, c), i, i + 1))
            i += 1


def _number_value(number: str) -> Fraction:
    """``12`` or ``0.25`` as a Fraction (Fraction(int) skips the string parsing)."""
    return Fraction(int(number)) if number.isdigit() else Fraction(number)


def _delimiters(tokens: list[Token], src: Source) -> list[Token]:
    """Resolve ``\\left( … \\right)`` and delimiter macros to plain delimiters."""
    for tok in tokens:
        if tok.kind is MACRO and (tok.text in SIZERS or tok.text in DELIMITERS):
            break
    else:
        return tokens  # nothing to resolve: no new list
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.kind is MACRO and tok.text in SIZERS:
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if nxt is not None and nxt.is_char("."):  # \left. and \right. are invisible
                i += 2
                continue
            if nxt is None or not (
                nxt.is_char("(", ")", "[", "]", "|", "/") or (nxt.kind is MACRO and nxt.text in DELIMITERS)
            ):
                src.error(f"\\{tok.text} must be followed by a delimiter such as ( or [", tok.pos)
            i += 1
            continue
        if tok.kind is MACRO and tok.text in DELIMITERS:
            out.append(Token(CHAR, DELIMITERS[tok.text], tok.pos, tok.end))
        else:
            out.append(tok)
        i += 1
    return out
