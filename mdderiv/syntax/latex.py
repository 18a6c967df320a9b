"""LaTeX math → parse tree (spec §3), with pylatexenc as the tokenizer.

pylatexenc's ``LatexWalker`` splits the text into macros, groups and character
runs (with positions); :func:`tokenize` flattens that into a token list, and
:class:`Parser` is a small precedence parser over it.  User text is never
evaluated: every name is built from a whitelist of letters, digits, Greek
macros and accents, so identifiers are always safe Python identifiers.
"""

from __future__ import annotations

import functools
import keyword
import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Final, NamedTuple

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

from ..errors import DeriveError
from ..expr import NormKind
from ..functions import MACROS as ELEMENTWISE_MACROS
from ..functions import MAX_WITH_ZERO, NORM_SUBSCRIPTS
from ..functions import WORDS as ELEMENTWISE_WORDS
from ..memos import Remembered, memoised
from .nodes import (
    AbsNode,
    AddNode,
    ApplyNode,
    BinaryNode,
    ConstNode,
    Dim,
    DivNode,
    NameNode,
    NameRef,
    NegNode,
    Node,
    NormNode,
    NumberNode,
    PostfixNode,
    ProductNode,
    Source,
    SumNode,
)

#: Nesting deeper than this (parentheses, braces, function arguments, unary
#: minus) is refused: it keeps every later recursive pass far from Python's limit.
MAX_DEPTH = 100

GREEK = frozenset(
    [
        "alpha",
        "beta",
        "gamma",
        "delta",
        "epsilon",
        "varepsilon",
        "zeta",
        "eta",
        "theta",
        "vartheta",
        "iota",
        "kappa",
        "lambda",
        "mu",
        "nu",
        "xi",
        "pi",
        "varpi",
        "rho",
        "varrho",
        "sigma",
        "varsigma",
        "tau",
        "upsilon",
        "phi",
        "varphi",
        "chi",
        "psi",
        "omega",
        "Gamma",
        "Delta",
        "Theta",
        "Lambda",
        "Xi",
        "Pi",
        "Sigma",
        "Upsilon",
        "Phi",
        "Psi",
        "Omega",
        "ell",
    ]
)
#: Wrappers that change how a symbol looks, not which symbol it is.
FONTS = frozenset(
    [
        "mathbf",
        "boldsymbol",
        "bm",
        "mathrm",
        "mathit",
        "mathsf",
        "mathcal",
        "mathbfit",
        "pmb",
        "vec",
        "textbf",
    ]
)
#: Wrappers whose multi-letter content is an operator name (``\mathrm{tr}``).
OPERATOR_WRAPPERS = frozenset(["operatorname", "mathrm", "text", "textrm", "textnormal", "mathop"])
#: Wrappers a subscript may put around a word (``W_{\\text{enc}}``, ``x_{\\mathrm{in}}``).
_TEXT_WRAPPERS = frozenset({"text", "textrm", "textnormal", "mathrm", "mathit", "mathsf", "textit", "operatorname"})
ACCENTS = {
    "bar": "bar", "overline": "bar", "hat": "hat", "widehat": "hat",
    "tilde": "tilde", "widetilde": "tilde",
}  # fmt: skip
#: Spacing and sizing macros that mean nothing to the expression.
IGNORED = frozenset(
    [
        ",",
        ";",
        ":",
        "!",
        ">",
        "quad",
        "qquad",
        "enspace",
        "thinspace",
        "medspace",
        "thickspace",
        "negthinspace",
        "displaystyle",
        "textstyle",
        "limits",
        "nolimits",
    ]
) | {" "}
SIZERS = frozenset(
    [
        "left",
        "right",
        "big",
        "Big",
        "bigg",
        "Bigg",
        "bigl",
        "bigr",
        "Bigl",
        "Bigr",
        "biggl",
        "biggr",
        "Biggl",
        "Biggr",
        "middle",
    ]
)
#: Delimiter macros and what they stand for ("||" is a norm bar).
DELIMITERS = {
    "|": "||", "Vert": "||", "lVert": "||", "rVert": "||",
    "vert": "|", "lvert": "|", "rvert": "|",
    "{": "\\{", "}": "\\}", "lbrace": "\\{", "rbrace": "\\}",
    "lbrack": "[", "rbrack": "]", "lparen": "(", "rparen": ")",
    "langle": "⟨", "rangle": "⟩",
}  # fmt: skip
#: Operator names (from ``\operatorname{…}`` or a macro) → function.
#: The elementwise functions come from their registry (``mdderiv.functions``).
FUNCTIONS = {
    "tr": "trace", "Tr": "trace", "trace": "trace",
    "det": "det", "diag": "diag", "Diag": "diag", "vec": "vec",
    "softmax": "softmax", "Softmax": "softmax",
    **ELEMENTWISE_WORDS,
}  # fmt: skip
#: Macros that are functions by themselves (``\sigma`` only when not a symbol).
FUNCTION_MACROS = {
    "det": "det", "tr": "trace", "Tr": "trace", "diag": "diag", "softmax": "softmax",
    **ELEMENTWISE_MACROS,
}  # fmt: skip
#: Operators that, written without parentheses, apply to the whole product
#: that follows (``\\operatorname{tr} X^T A X`` is tr(XᵀAX), as in every textbook).
BIG_OPERATORS = frozenset({"trace", "det"})
_ELEMENTWISE_LIST = ", ".join(ELEMENTWISE_WORDS)
PRODUCT_OPS = frozenset({"cdot", "times", "ast"})
BINARY_OPS = {"odot": "hadamard", "circ": "hadamard", "otimes": "kron", "oslash": "hadamard_div"}
OPEN_CLOSE = {"(": ")", "[": "]", "\\{": "\\}"}
#: Binary operators between products that mean an inner product: ``A : X``
#: (double-dot, Frobenius) — ``\\langle A, X \\rangle`` is read in parse_angle.
INNER_OPS = frozenset({":"})
TRANSPOSE_MACROS = frozenset({"top", "intercal", "mathsf", "mathrm", "text", "textsf", "mathit"})

_SIGNS = ("+", "-")
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+")
_DIGITS = frozenset("0123456789")
_ASCII_LETTERS = frozenset(string.ascii_letters)
#: Unicode operators an author may paste, as the characters or macros they mean.
_UNICODE_CHARS = {"−": "-", "‖": "||", "〈": "⟨", "〉": "⟩"}
_UNICODE_MACROS = {"⊙": "odot", "∘": "circ", "⊗": "otimes", "⊘": "oslash", "⋅": "cdot", "·": "cdot", "×": "times"}


@memoised(maxsize=1024)
def safe_identifier(name: str) -> str:
    """``name`` as a Python identifier: keywords get a trailing underscore."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(name)  # unreachable for names built by the parser
    return name + "_" if keyword.iskeyword(name) else name


# --------------------------------------------------------------------------- tokens


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
_BRACES: Final = frozenset({OPEN, CLOSE})
_NAME_PARTS: Final = frozenset({LETTER, NUM})  # what a subscript word is made of
_ATOM_STARTS: Final = frozenset({NUM, LETTER, OPEN})
_SCRIPT_ENDS: Final = frozenset({END, CLOSE})  # where a bare ^ or _ has no argument


@dataclass(slots=True)
class Token:
    kind: TokenKind
    text: str
    pos: int
    end: int
    value: Fraction | None = None

    def is_char(self, *texts: str) -> bool:
        return self.kind == CHAR and self.text in texts

    def is_macro(self, *names: str) -> bool:
        return self.kind == MACRO and self.text in names


#: What check_braces looks at: an escaped \{, \}, \\ or \% (not a brace,
#: not a comment), a comment (to the end of its line), a brace.
_BRACE_MARKS = re.compile(r"\\[{}\\%]|%[^\n]*|[{}]")


def check_braces(src: Source) -> None:
    """Unbalanced or too deeply nested braces, with the position of the culprit:
    a stack of the open braces, walked brace by brace.

    Done before pylatexenc so its own recursion stays shallow and the message
    points at the brace that has no partner.
    """
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
        tokens = known.tokens = tuple(_tokenize(src))
    return tokens


_TOKEN_MEMO: Remembered[str, Known] = Remembered("tokens, names and sets per text", limit=20_000)


def _tokenize(src: Source) -> list[Token]:
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


def _finish(tokens: list[Token], src: Source) -> list[Token]:
    tokens = _delimiters(tokens, src)
    tokens.append(Token(END, "", len(src.text), len(src.text)))
    return tokens


_LATEX_SPECIAL = re.compile(r"[\\{}%$&#~]")
@functools.cache
def _context_db() -> LatexContextDb:
    """pylatexenc's default macro database without its text-mode specials
    (``--``, quotes, ``~``): math needs none of them, and skipping the specials
    test per character makes tokenizing faster."""
    return get_default_latex_context_db().filter_context(keep_which=["macros", "environments"])


#: Characters pylatexenc's token reader returns one by one as "char" tokens
#: (the context has no specials): a run of them is lexed in one go.
_PLAIN_RUN = re.compile(r"[^\\{}%$]+")
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
    walker = LatexWalker(text, latex_context=_context_db(), tolerant_parsing=False)
    state = walker.default_parsing_state  # read only: no copy needed (make_parsing_state copies)
    arities = _macro_arities()
    lexer = _Lexer(src)
    emit = lexer.tokens.append
    wanted = 0  # arguments the current macro still reads
    after_group: list[int] = []  # for each open brace: arguments still wanted after it
    pos = 0
    while True:
        if not wanted:
            # between macros, the reader's answer is known without asking it:
            # characters, a brace, or the end of the text
            plain = _PLAIN_RUN.match(text, pos)
            if plain is not None:
                lexer.chars(pos, plain.end())
                pos = plain.end()
            if pos == len(text):
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
            brace = _ARGUMENT_BRACE.match(text, pos)
            if brace is not None:
                at = brace.end() - 1
                after_group.append(wanted - 1)
                wanted = 0
                emit(Token(OPEN, "{", at, at + 1))
                pos = at + 1
                continue
        try:
            tok = walker.get_token(pos, environments=not wanted, parsing_state=state)
        except LatexWalkerEndOfStream:
            return lexer.tokens if not wanted and not after_group else None
        except LatexWalkerParseError:
            return None
        kind = tok.tok
        if kind == "brace_open" and wanted:  # a macro's argument in braces
            after_group.append(wanted - 1)
            wanted = 0
            emit(Token(OPEN, "{", tok.pos, tok.pos + 1))
            pos = tok.pos + 1
        elif kind == "comment" and not wanted:
            pos = tok.pos + tok.len
        elif kind == "macro" and not wanted:
            name = tok.arg
            arity = arities.get(name, 0)  # an unknown macro takes no arguments
            if arity is None or (arity and name in IGNORED):
                return None
            if name not in IGNORED:
                emit(Token(MACRO, name, tok.pos, tok.pos + 1 + len(name)))
            wanted = arity
            pos = tok.pos + tok.len
        elif kind in ("char", "macro") and wanted and tok.arg not in ("begin", "end"):
            # a one-token argument (\frac12, \bar x): made an explicit group
            wanted -= 1
            end = tok.pos + tok.len
            emit(Token(OPEN, "{", tok.pos, tok.pos))
            if kind == "char":
                lexer.chars(tok.pos, end)
            elif tok.arg not in IGNORED:  # a macro argument comes without its own arguments
                emit(Token(MACRO, tok.arg, tok.pos, tok.pos + 1 + len(tok.arg)))
            emit(Token(CLOSE, "}", end, end))
            pos = end
        else:
            return None


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
        if tok.kind == MACRO and (tok.text in SIZERS or tok.text in DELIMITERS):
            break
    else:
        return tokens  # nothing to resolve: no new list
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.kind == MACRO and tok.text in SIZERS:
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if nxt is not None and nxt.is_char("."):  # \left. and \right. are invisible
                i += 2
                continue
            if nxt is None or not (
                nxt.is_char("(", ")", "[", "]", "|", "/") or (nxt.kind == MACRO and nxt.text in DELIMITERS)
            ):
                src.error(f"\\{tok.text} must be followed by a delimiter such as ( or [", tok.pos)
            i += 1
            continue
        if tok.kind == MACRO and tok.text in DELIMITERS:
            out.append(Token(CHAR, DELIMITERS[tok.text], tok.pos, tok.end))
        else:
            out.append(tok)
        i += 1
    return out


# --------------------------------------------------------------------------- parser


class _Core(NamedTuple):
    """A name being read: with its subscript (if any) and without (its base).
    A named tuple, as one is made for every name read."""

    ident: str
    latex: str
    sub: str | None
    base_ident: str
    base_latex: str


def _fmt_macro(tok: Token) -> str:
    return "\\" + tok.text if tok.kind == MACRO else tok.text


class Parser:
    """Precedence parser: sum > ⊙/⊗/⊘ > product (juxtaposition, ·, /) > factor."""

    def __init__(self, tokens: list[Token], src: Source, is_symbol: Callable[[str], bool]) -> None:
        self.toks = tokens
        self.i = 0
        self.tok = tokens[0]  # the current token, toks[i] (kept by advance)
        self.src = src
        self.is_symbol = is_symbol
        self.naming = False  # reading a name being declared (every name is a symbol then)
        self.is_dimension: Callable[[str], bool] = lambda _name: False
        self.depth = 0
        self.bars: list[str] = []  # open | and ‖ (innermost last): a matching bar closes
        #: inside the unparenthesised argument of tr or det (``\\det A \\det B``:
        #: the argument ends where the next trace or determinant starts)
        self.operator_argument = False

    # -- helpers
    def peek(self, k: int = 1) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def advance(self) -> Token:
        tok = self.tok
        if tok.kind != END:
            self.i += 1
            self.tok = self.toks[self.i]
        return tok

    def error(self, message: str, pos: int | None = None) -> DeriveError:
        line, column = self.src.where(self.tok.pos if pos is None else pos)
        return DeriveError(message, line, column)

    def describe(self, tok: Token) -> str:
        if tok.kind == END:
            return "the end of the expression"
        if tok.kind == OPEN:
            return "'{'"
        if tok.kind == CLOSE:
            return "'}'"
        return repr(_fmt_macro(tok))

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
        if tok.kind == END:
            raise self.error(
                f"unbalanced {opener.text!r}: it is never closed with {closer_text!r}", opener.pos
            )
        raise self.error(f"expected {closer_text!r} to close the {opener.text!r}, found {self.describe(tok)}")

    # -- entry points
    def parse(self) -> Node:
        if self.tok.kind == END:
            raise self.error("the expression is empty")
        node = self.parse_sum()
        tok = self.tok  # (a fresh name: mypy would keep the narrowing from before parse_sum)
        if tok.kind != END:
            if tok.is_char(")", "]", "\\}", "|", "||"):
                raise self.error(f"unbalanced {tok.text!r}: nothing opens it")
            raise self.error(f"unexpected {self.describe(tok)}")
        return node

    # -- levels
    def parse_sum(self) -> Node:
        tok = self.tok
        start = tok.pos
        terms: list[tuple[int, Node]] = []
        sign = 1
        if tok.kind == CHAR and tok.text in _SIGNS:
            sign = -1 if self.advance().text == "-" else 1
        terms.append((sign, self.parse_binary()))
        while (tok := self.tok).kind == CHAR and tok.text in _SIGNS:
            sign = -1 if self.advance().text == "-" else 1
            if self.tok.is_char("+", "-") and self.advance().text == "-":  # a - -b
                sign = -sign
            terms.append((sign, self.parse_binary()))
        if len(terms) == 1 and terms[0][0] == 1:
            return terms[0][1]
        return AddNode(start, tuple(terms))

    def parse_binary(self) -> Node:
        left = self.parse_product()
        while (self.tok.kind == MACRO and self.tok.text in BINARY_OPS) or (
            self.tok.kind == CHAR and self.tok.text in INNER_OPS
        ):
            op = self.advance()
            if self.starts_factor() or self.tok.is_char("-"):
                right = self.parse_product()
            else:
                raise self.error(f"{_fmt_macro(op)} needs something on its right")
            left = BinaryNode(op.pos, "inner" if op.kind == CHAR else BINARY_OPS[op.text], left, right)
        return left

    def parse_product(self) -> Node:
        tok = self.tok
        start = tok.pos
        if not (self.starts_factor() or (tok.kind == CHAR and tok.text == "-")):
            raise self.error(f"expected a term, found {self.describe(tok)}")
        factors = [self.parse_factor()]
        while True:
            tok = self.tok
            kind = tok.kind
            if kind == MACRO and tok.text in ("cdot", "times"):
                # x · y between two vectors is their inner product; x × y a cross product
                self.advance()
                left = factors[0] if len(factors) == 1 else ProductNode(start, tuple(factors))
                # the right side is the product that follows (x · A x is x · (Ax)); for
                # matrices and scalars the grouping changes nothing
                right_start = self.tok.pos
                right = [self.parse_factor()]
                while self.starts_factor() and not isinstance(right[-1], SumNode):
                    right.append(self.parse_factor())
                right_node = right[0] if len(right) == 1 else ProductNode(right_start, tuple(right))
                factors = [BinaryNode(tok.pos, "dot" if tok.text == "cdot" else "cross", left, right_node)]
            elif (kind == CHAR and tok.text == "*") or (kind == MACRO and tok.text in PRODUCT_OPS):
                self.advance()
                factors.append(self.parse_factor())
            elif kind == CHAR and tok.text == "/":
                self.advance()
                den = self.parse_factor()
                num = factors[0] if len(factors) == 1 else ProductNode(start, tuple(factors))
                factors = [DivNode(tok.pos, num, den)]
            elif self.starts_factor():
                factors.append(self.parse_factor())
            else:
                break
            if isinstance(factors[-1], SumNode):
                break  # a big operator took the rest of the product as its body
        if len(factors) == 1:
            return factors[0]
        return ProductNode(start, tuple(factors))

    def starts_factor(self) -> bool:
        tok = self.tok
        if tok.kind in _ATOM_STARTS:
            return True
        if tok.kind == CHAR:
            if tok.text in ("(", "[", "\\{", "⟨"):
                return True
            if tok.text in ("|", "||"):
                return not (self.bars and self.bars[-1] == tok.text)
            return False
        if tok.kind == MACRO:
            if tok.text in PRODUCT_OPS or tok.text in BINARY_OPS:
                return False
            return not (self.operator_argument and self.starts_big_operator())
        return False

    def starts_big_operator(self) -> bool:
        """Whether the current token starts a trace or a determinant
        (``\\det``, ``\\operatorname{tr}``, ``\\mathrm{Tr}``, ``\\log\\det``)."""
        tok = self.tok
        if FUNCTION_MACROS.get(tok.text) in BIG_OPERATORS:
            return True
        if tok.text == "log" or tok.text == "ln":
            following = self.peek()
            return following.kind == MACRO and FUNCTION_MACROS.get(following.text) == "det"
        if tok.text in OPERATOR_WRAPPERS:
            return FUNCTIONS.get(self.wrapped_word() or "") in BIG_OPERATORS
        return False

    def parse_factor(self) -> Node:
        tok = self.tok
        self.enter(tok.pos)
        try:
            if tok.kind == CHAR:
                if tok.text == "-":
                    self.advance()
                    return NegNode(tok.pos, self.parse_factor())
                if tok.text == "+":
                    self.advance()
                    return self.parse_factor()
            atom = self.parse_atom()
            if type(atom) is SumNode:
                return atom
            return self.parse_postfix(atom)
        finally:
            self.depth -= 1  # leave()

    def parse_postfix(self, atom: Node) -> Node:
        seen_sup = False
        while True:
            tok = self.tok
            if tok.kind != CHAR:
                return atom
            if tok.text == "^":
                if seen_sup:
                    raise self.error("double superscript: add braces, e.g. {X^{-1}}^{T}")
                seen_sup = True
                self.advance()
                if isinstance(atom, NameNode) and atom.ref.ident == "e" and not self.is_symbol("e"):
                    atom = self.parse_exp_power(atom)  # e^{x} is exp(x) unless e is declared
                else:
                    base, atom = atom, self.parse_exponent(atom, tok.pos)
                    self.refuse_transposed_operator(base, atom)
            elif tok.text == "'":
                raise self.error(
                    "a prime ' is ambiguous (a transpose, a derivative or another name): write a "
                    "transpose as ^T; to use a primed name such as x' of its own, declare it in given:"
                )
            elif (
                tok.text == "_"
                and isinstance(atom, PostfixNode)
                and isinstance(atom.arg, NormNode)
                and atom.arg.sub is None
            ):
                # \|X\|^2_F: the norm's subscript after its power
                self.advance()
                sub = self.norm_subscript(atom.arg.pos)
                atom = PostfixNode(
                    atom.pos, atom.op, NormNode(atom.arg.pos, atom.arg.arg, sub), atom.exponent
                )
            elif tok.text == "_":
                raise self.error("a subscript is only allowed on a name or a norm")
            else:
                return atom

    def refuse_transposed_operator(self, base: Node, powered: Node) -> None:
        """``\\operatorname{tr}(X)^T c^2 B``: the transpose of a trace or a
        determinant (a number) is the number itself, so the ``^T`` says the
        parentheses group only what is transposed, and the trace may be meant of
        the whole product that follows; with another factor after it, refused."""
        if not (
            isinstance(base, ApplyNode)
            and base.fn in BIG_OPERATORS
            and isinstance(powered, PostfixNode)
            and powered.op in ("T", "invT")
            and self.starts_factor()
        ):
            return
        name, what = ("\\operatorname{tr}", "trace") if base.fn == "trace" else ("\\det", "determinant")
        raise self.error(
            f"{name}(…)^T followed by another factor can be read two ways: the transpose of a {what} "
            "is the number itself, so the ^T suggests the parentheses group only the transposed "
            f"matrix; write {name}\\left((…)^T …\\right) around the whole product for the {what} of "
            f"the product, or {name}(…) without ^T for the number times what follows",
            powered.pos,
        )

    # -- exponents
    def script_tokens(self) -> list[Token]:
        """The tokens of one script argument (a group's content, or one token)."""
        tok = self.tok
        if tok.kind == OPEN:
            depth = 0
            start = self.i
            while True:
                t = self.advance()
                if t.kind == OPEN:
                    depth += 1
                elif t.kind == CLOSE:
                    depth -= 1
                    if depth == 0:
                        return self.toks[start + 1 : self.i - 1]
                elif t.kind == END:  # cannot happen: braces were checked
                    raise self.error("unbalanced '{'", tok.pos)
        if tok.kind == MACRO and self.peek().kind == OPEN:  # ^\mathsf{T}, ^\frac12
            start = self.i
            self.advance()
            while self.tok.kind == OPEN:
                self.script_tokens()
            return self.toks[start : self.i]
        if tok.kind in _SCRIPT_ENDS or tok.is_char("^", "_"):
            raise self.error("a superscript or subscript needs an argument")
        self.advance()
        return [tok]

    def parse_exponent(self, base: Node, pos: int) -> Node:
        start_tok = self.tok
        raw = self.script_tokens()
        toks = [t for t in raw if t.kind not in _BRACES]
        negative = False
        if toks and toks[0].is_char("-"):
            negative = True
            toks = toks[1:]
        if _is_transpose(toks):
            op = "invT" if negative else "T"
            return PostfixNode(pos, op, base)
        value = _exponent_value(toks)
        if value is None:
            if any(t.kind == LETTER or (t.kind == MACRO and t.text in GREEK) for t in toks):
                # ^{1/n}, ^{p}: a power of a scalar with an exponent that is an expression
                end = Token(END, "", start_tok.pos, start_tok.pos)
                inner = Parser([*raw, end], self.src, self.is_symbol)
                inner.is_dimension = self.is_dimension
                exponent = inner.parse()
                return PostfixNode(pos, "pow_expr", base, None, exponent)
            raise self.error(
                "unsupported exponent: use ^T, ^{-1}, ^{-T}, a number such as ^2 or ^{1/2}, "
                "or a scalar expression such as ^{1/n}",
                start_tok.pos,
            )
        if negative:
            value = -value
        if value == -1:
            return PostfixNode(pos, "inv", base)
        return PostfixNode(pos, "pow", base, value)

    def parse_exp_power(self, e: NameNode) -> Node:
        """The exponent of ``e^{…}`` as the argument of exp."""
        self.enter(e.pos)
        try:
            if self.tok.kind == OPEN:
                arg = self.parse_group()
            elif self.tok.kind in _NAME_PARTS or (self.tok.kind == MACRO and self.tok.text in GREEK):
                arg = self.parse_atom()
            else:
                raise self.error("write the exponent of e in braces: e^{…}")
        finally:
            self.leave()
        return ApplyNode(e.pos, "exp", arg)

    # -- atoms
    def parse_atom(self) -> Node:
        tok = self.tok
        if tok.kind == NUM:
            self.advance()
            assert tok.value is not None
            return NumberNode(tok.pos, tok.value)
        if tok.kind == LETTER:
            return self.name_or_const()
        if tok.kind == OPEN:
            return self.parse_group()
        if tok.kind == CHAR:
            if tok.text in OPEN_CLOSE:
                return self.parse_paren()
            if tok.text in ("|", "||"):
                return self.parse_bars()
            if tok.text == "⟨":
                return self.parse_angle()
            raise self.error(f"unexpected {tok.text!r}")
        if tok.kind == MACRO:
            return self.parse_macro_atom()
        raise self.error(f"expected a term, found {self.describe(tok)}")

    def parse_group(self) -> Node:
        opener = self.advance()
        if self.tok.kind == CLOSE:
            raise self.error("empty braces {}", opener.pos)
        saved_argument, self.operator_argument = self.operator_argument, False
        try:
            inner = self.parse_sum()
        finally:
            self.operator_argument = saved_argument
        self.expect_close(opener, CLOSE, "}")
        return inner

    def parse_paren(self) -> Node:
        opener = self.advance()
        closer = OPEN_CLOSE[opener.text]
        saved, self.bars = self.bars, []  # bars inside parentheses start afresh
        saved_argument, self.operator_argument = self.operator_argument, False
        try:
            if self.tok.is_char(closer):
                raise self.error(f"empty {opener.text}{closer}", opener.pos)
            inner = self.parse_sum()
            self.expect_close(opener, CHAR, closer)
        finally:
            self.bars = saved
            self.operator_argument = saved_argument
        return inner

    def parse_angle(self) -> Node:
        """``\\langle A, B \\rangle``: the inner product (Frobenius for matrices)."""
        opener = self.advance()
        saved, self.bars = self.bars, []
        saved_argument, self.operator_argument = self.operator_argument, False
        try:
            left = self.parse_sum()
            if not self.tok.is_char(","):
                raise self.error(f"\\langle A, B \\rangle needs a comma between its two arguments, found {self.describe(self.tok)}")
            self.advance()
            right = self.parse_sum()
            self.expect_close(opener, CHAR, "⟩")
        finally:
            self.bars = saved
            self.operator_argument = saved_argument
        if self.tok.is_char("_"):  # \langle A, X \rangle_F: the Frobenius inner product, named
            sub = self.advance()
            letters = [t.text for t in self.script_tokens() if t.kind == LETTER]
            if letters != ["F"]:
                raise self.error("the subscript of \\langle A, B \\rangle can only be F (Frobenius)", sub.pos)
        return BinaryNode(opener.pos, "inner", left, right)

    def parse_bars(self) -> Node:
        opener = self.advance()
        self.bars.append(opener.text)
        try:
            if self.tok.is_char(opener.text):
                raise self.error(f"empty {opener.text}{opener.text}", opener.pos)
            inner = self.parse_sum()
            tok = self.tok
            if not tok.is_char(opener.text):
                if tok.kind == END:
                    raise self.error(f"unbalanced {opener.text!r}: it is never closed", opener.pos)
                raise self.error(f"expected {opener.text!r}, found {self.describe(tok)}")
            self.advance()
        finally:
            self.bars.pop()
        if opener.text == "|":
            return AbsNode(opener.pos, inner)
        sub: NormKind | None = None
        if self.tok.is_char("_"):
            self.advance()
            sub = self.norm_subscript(opener.pos)
        return NormNode(opener.pos, inner, sub)

    def norm_subscript(self, pos: int) -> NormKind:
        """The norm a subscript after ``\\|…\\|`` names (``NORM_SUBSCRIPTS``): its
        letters and digits (a ``\\mathrm{}`` or ``\\text{}`` around them does not
        count), or ``*`` written ``*``, ``\\ast`` or ``\\star``."""
        raw = self.script_tokens()
        sub = "".join(
            "*" if t.is_char("*") or t.is_macro("ast", "star") else t.text
            for t in raw
            if t.kind in _NAME_PARTS or t.is_char("*") or t.is_macro("ast", "star")
        )
        kind = NORM_SUBSCRIPTS.get(sub)
        if kind is None:
            written = "".join(f"\\{t.text} " if t.kind == MACRO else t.text for t in raw).strip()
            raise self.error(
                f"unsupported norm \\|…\\|_{{{written}}}: mdderiv reads \\|x\\| and \\|x\\|_2 (Euclidean), "
                "\\|x\\|_1 of a vector, \\|X\\|_F (Frobenius) and \\|X\\|_* (nuclear) of a matrix",
                pos,
            )
        return kind

    def parse_macro_atom(self) -> Node:
        tok = self.tok
        name = tok.text
        if name in GREEK:
            # \\sigma(x) is the sigmoid unless something is named sigma
            is_function = name in FUNCTION_MACROS and not self.is_symbol(safe_identifier(name))
            if is_function and self.peek_starts_argument():
                self.advance()
                return self.parse_application(FUNCTION_MACROS[name], tok)
            return self.name_or_const()
        if name in FONTS or name in ACCENTS:
            word = self.wrapped_word()
            if name in OPERATOR_WRAPPERS and word is not None and len(word) > 1:
                return self.operator(word, tok)
            return self.name_or_const(word if name in FONTS else None)
        if name in OPERATOR_WRAPPERS:
            word = self.wrapped_word()
            if word is None:
                raise self.error(f"\\{name}{{…}} must hold a plain word such as tr or softmax")
            return self.operator(word, tok)
        if name in ("mathbb",):
            word = self.wrapped_word()
            if word == "1":
                return self.name_or_const(word)
            raise self.error("\\mathbb{…} can only appear in a declaration (given:)")
        if name in FUNCTION_MACROS:
            self.advance()
            return self.parse_application(FUNCTION_MACROS[name], tok)
        if name == "max":
            return self.parse_max_with_zero()
        if name in ("frac", "dfrac", "tfrac"):
            self.advance()
            digits = self.tok
            if digits.kind == NUM and len(digits.text) == 2 and digits.text.isdigit():
                # \tfrac12 (TeX reads two one-digit arguments)
                self.advance()
                num_node = NumberNode(digits.pos, Fraction(int(digits.text[0])))
                return DivNode(tok.pos, num_node, NumberNode(digits.pos + 1, Fraction(int(digits.text[1]))))
            if self.tok.kind != OPEN:
                raise self.error("\\frac needs two arguments: \\frac{p}{q}", tok.pos)
            num = self.parse_group()
            if self.tok.kind != OPEN:
                raise self.error("\\frac needs two arguments: \\frac{p}{q}", tok.pos)
            den = self.parse_group()
            return DivNode(tok.pos, num, den)
        if name == "sum":
            return self.parse_sum_operator()
        if name in PRODUCT_OPS or name in BINARY_OPS:
            raise self.error(f"\\{name} needs something on its left")
        if name in ("top", "intercal", "T"):
            raise self.error(f"\\{name} must be written as a superscript: X^\\{name}")
        raise self.error(f"unknown command \\{name}")

    def parse_max_with_zero(self) -> Node:
        """``\\max(0, u)`` or ``\\max(u, 0)``: ReLU, entry by entry (the one
        maximum the engine derives; any other is refused)."""
        tok = self.advance()
        message = "\\max is read only as \\max(0, u), the elementwise ReLU"
        if not self.tok.is_char("("):
            raise self.error(message, tok.pos)
        opener = self.advance()
        saved, self.bars = self.bars, []
        self.enter(tok.pos)
        try:
            first = self.parse_sum()
            if not self.tok.is_char(","):
                raise self.error(message, tok.pos)
            self.advance()
            second = self.parse_sum()
            self.expect_close(opener, CHAR, ")")
        finally:
            self.leave()
            self.bars = saved
        for zero, arg in ((first, second), (second, first)):
            if isinstance(zero, NumberNode) and zero.value == 0:
                return ApplyNode(tok.pos, MAX_WITH_ZERO, arg)
        raise self.error(message, tok.pos)

    def wrapped_word(self) -> str | None:
        """The plain letters/digits inside ``\\macro{…}`` if that is all it holds."""
        if self.peek().kind != OPEN:
            return None
        toks = self.toks
        j = self.i + 2
        word = []
        while True:
            t = toks[j]
            if not (t.kind == LETTER or t.kind == NUM or (t.kind == CHAR and t.text == "-")):
                break
            word.append(t.text)
            j += 1
        if t.kind != CLOSE or not word:
            return None
        return "".join(word)

    def operator(self, word: str, tok: Token) -> Node:
        fn = FUNCTIONS.get(word)
        if fn is None:
            raise self.error(
                f"unknown operator {word!r}; known: tr, det, diag, vec, softmax, {_ELEMENTWISE_LIST}", tok.pos
            )
        self.advance()
        self.script_tokens()  # the {word} group
        return self.parse_application(fn, tok)

    def peek_starts_argument(self) -> bool:
        current = self.tok
        self.tok = self.peek()
        try:
            return self.starts_factor()
        finally:
            self.tok = current

    def parse_application(self, fn: str, tok: Token) -> Node:
        """``fn`` applied to a parenthesised argument, a group, or one factor."""
        if self.tok.is_char("^"):
            raise self.error(f"write a power of {_fmt_macro(tok)}(…) after its argument, e.g. (\\log x)^2")
        self.enter(tok.pos)
        try:
            nxt = self.tok
            if nxt.is_char(*OPEN_CLOSE):
                arg = self.parse_paren()
            elif nxt.kind == OPEN:
                arg = self.parse_group()
            elif not self.starts_factor():
                raise self.error(f"{_fmt_macro(tok)} needs an argument", tok.pos)
            elif fn in BIG_OPERATORS:
                arg = self.parse_operator_argument()
            else:
                arg = self.parse_factor()
                arg = self.constant_argument_rest(arg)
                if self.starts_factor():
                    raise self.error(
                        f"{_fmt_macro(tok)} without parentheses is followed by another factor, which "
                        f"can be read two ways: write {_fmt_macro(tok)}(…) around the whole argument, "
                        f"or ({_fmt_macro(tok)} …) around the function alone",
                        self.tok.pos,
                    )
        finally:
            self.leave()
        return ApplyNode(tok.pos, fn, arg)

    def constant_argument_rest(self, first: Node) -> Node:
        """``\\log 2\\pi``: a function written without parentheses whose argument
        is a number takes the numbers and the ``\\pi`` right after it too, as every
        textbook reads it (log(2π); (log 2)·π would be written π log 2)."""
        if not isinstance(first, NumberNode):
            return first
        factors: list[Node] = [first]
        while self.tok.kind == NUM or (
            self.tok.kind == MACRO and self.tok.text == "pi" and not self.peek().is_char("_")
        ):
            factors.append(self.parse_factor())
        return first if len(factors) == 1 else ProductNode(first.pos, tuple(factors))

    def parse_operator_argument(self) -> Node:
        """The argument of tr or det written without parentheses: the whole
        product that follows, up to the next top-level ``+`` or ``-``, a
        closing delimiter, or the next trace or determinant (``\\det A \\det B``
        is det(A)·det(B))."""
        saved = self.operator_argument
        self.operator_argument = True
        try:
            return self.parse_binary()
        finally:
            self.operator_argument = saved

    def parse_sum_operator(self) -> Node:
        tok = self.advance()
        index: str | None = None
        upper: Dim | None = None
        for _ in range(2):
            if self.tok.is_char("_") and index is None:
                self.advance()
                index = self.sum_lower()
            elif self.tok.is_char("^") and upper is None:
                self.advance()
                upper = self.sum_upper()
        if index is None or upper is None:
            raise self.error("write an indexed sum as \\sum_{i=1}^{n} …", tok.pos)
        self.enter(tok.pos)
        try:
            if not (self.starts_factor() or self.tok.is_char("-")):
                raise self.error("the sum has no body", tok.pos)
            negative = False
            if self.tok.is_char("-"):
                self.advance()
                negative = True
            body = self.parse_binary()
        finally:
            self.leave()
        if negative:
            body = NegNode(tok.pos, body)
        return SumNode(tok.pos, index, upper, body)

    def sum_lower(self) -> str:
        pos = self.tok.pos
        toks = [t for t in self.script_tokens() if t.kind not in _BRACES]
        if (
            len(toks) == 3
            and toks[0].kind == LETTER
            and toks[1].is_char("=")
            and toks[2].kind == NUM
            and toks[2].value == 1
        ):
            return toks[0].text
        raise self.error("the sum's lower limit must read i=1 (a one-letter index from 1)", pos)

    def sum_upper(self) -> Dim:
        pos = self.tok.pos
        toks = [t for t in self.script_tokens() if t.kind not in _BRACES]
        if len(toks) == 1 and toks[0].kind == NUM and toks[0].value is not None:
            value = toks[0].value
            if value.denominator == 1 and value > 0:
                return int(value)
        if toks and all(t.kind in _NAME_PARTS for t in toks) and toks[0].kind == LETTER:
            return "".join(t.text for t in toks)
        raise self.error("the sum's upper limit must be a dimension such as n, or a positive integer", pos)

    # -- names
    def name_or_const(self, word: str | None = None) -> Node:
        """A name, or ``\\mathbf{1}``/``\\mathbf{0}`` (``word``: what the font
        macro at the current token wraps, when the caller has read it)."""
        start = self.tok
        if word in ("1", "0"):
            self.advance()
            self.script_tokens()
            kind = "ones" if word == "1" else "zeros"
            size: tuple[Dim, ...] | None = None
            if self.tok.is_char("_"):
                self.advance()
                size = self.size_script()
            return ConstNode(start.pos, kind, size)
        ref = self.parse_name()
        return NameNode(ref.pos, ref)

    def size_script(self) -> tuple[Dim, ...]:
        pos = self.tok.pos
        toks = [t for t in self.script_tokens() if t.kind not in _BRACES]
        dims: list[Dim] = []
        part: list[Token] = []
        for t in toks + [Token(CHAR, ",", pos, pos)]:
            if t.is_char(",", "×", "*") or t.is_macro("times"):
                if (
                    len(part) == 1
                    and part[0].kind == NUM
                    and part[0].value is not None
                    and part[0].value.denominator == 1
                    and part[0].value > 0
                ):
                    dims.append(int(part[0].value))
                elif part and all(p.kind in _NAME_PARTS for p in part) and part[0].kind == LETTER:
                    dims.append("".join(p.text for p in part))
                else:
                    raise self.error("a size must read like n or m \\times n", pos)
                part = []
            else:
                part.append(t)
        if len(dims) > 2:
            raise self.error("a size has at most two dimensions", pos)
        return tuple(dims)

    def parse_name(self) -> NameRef:
        """``core ( _ sub )?`` where core is a letter, a Greek letter, or a font
        wrapper / accent around a name."""
        start = self.tok
        core = self.name_core()
        if self.tok.is_char("_"):
            core = self.subscripted(core)
        if self.tok.is_char("'"):
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
        while (nxt := self.peek(len(run))).kind == LETTER and nxt.pos == run[-1].end and len(run) < 32:
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
        if tok.kind == LETTER:
            word = self.declared_word()
            if word is not None:
                latex = f"\\mathit{{{word}}}"
                return _Core(word, latex, None, word, latex)
            self.advance()
            return _Core(tok.text, tok.text, None, tok.text, tok.text)
        if tok.kind == MACRO and tok.text in GREEK:
            self.advance()
            return _Core(tok.text, "\\" + tok.text, None, tok.text, "\\" + tok.text)
        if not (tok.kind == MACRO and (tok.text in FONTS or tok.text in ACCENTS)):
            raise self.error(f"expected a symbol name, found {self.describe(tok)}")
        toks, i = self.toks, self.i
        if (
            toks[i + 1].kind == OPEN
            and toks[i + 2].kind == LETTER
            and toks[i + 3].kind == CLOSE
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
        if self.tok.kind == OPEN:
            opener = self.advance()
            self.enter(opener.pos)
            try:
                inner = self.name_core()
                if self.tok.is_char("_"):
                    inner = self.subscripted(inner)
            finally:
                self.leave()
            closer = self.tok  # (a fresh name: mypy would keep the narrowing from before name_core)
            if closer.kind != CLOSE:
                raise self.error(f"\\{tok.text}{{…}} must hold one symbol, found {self.describe(closer)}")
            self.advance()
        elif self.tok.kind == LETTER or (self.tok.kind == MACRO and self.tok.text in GREEK):
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
            if t.kind == LETTER or (t.kind == NUM and t.text.isdigit()):
                ident_parts.append(t.text)
                latex_parts.append(t.text)
            elif t.kind == MACRO and t.text in GREEK:
                ident_parts.append(t.text)
                latex_parts.append("\\" + t.text + " ")
            elif (
                t.kind == MACRO
                and t.text in _TEXT_WRAPPERS
                and not wrapper_open
                and k + 1 < len(toks)
                and toks[k + 1].kind == OPEN
            ):
                latex_parts.append("\\" + t.text)
            elif t.kind == OPEN and k > 0 and toks[k - 1].kind == MACRO and not wrapper_open:
                wrapper_open = True
                latex_parts.append("{")
            elif t.kind == CLOSE and wrapper_open:
                wrapper_open = False
                latex_parts.append("}")
            else:
                raise self.error("a subscript of a name must be letters or digits (W_1, W_{12}, x_i)", pos)
        if not ident_parts:
            raise self.error("empty subscript", pos)
        return "".join(ident_parts), "".join(latex_parts).strip()


def _is_transpose(toks: list[Token]) -> bool:
    if len(toks) == 1:
        t = toks[0]
        return (t.kind == LETTER and t.text == "T") or t.is_macro("top", "intercal", "T")
    # \mathsf{T}, \mathrm{T}, \text{T}
    return (
        len(toks) == 2
        and toks[0].is_macro(*TRANSPOSE_MACROS)
        and toks[1].kind == LETTER
        and toks[1].text == "T"
    )


def _exponent_value(toks: list[Token]) -> Fraction | None:
    if len(toks) == 1 and toks[0].kind == NUM:
        return toks[0].value
    if len(toks) != 3 or not (toks[1].kind == toks[2].kind == NUM or toks[0].kind == toks[2].kind == NUM):
        return None
    if toks[0].kind == NUM and toks[1].is_char("/"):  # ^{1/2}
        p, q = toks[0].value, toks[2].value
    elif toks[0].is_macro("frac", "dfrac", "tfrac") and toks[1].kind == NUM:  # ^{\\frac12}
        p, q = toks[1].value, toks[2].value
    else:
        return None
    return p / q if p is not None and q else None


def parse_expression(
    src: Source, is_symbol: Callable[[str], bool], is_dimension: Callable[[str], bool] = lambda _name: False
) -> Node:
    """Parse ``src.text`` as one expression (``is_dimension``: the dimension
    names, which stand as numbers too)."""
    tokens = tokenize(src)
    parser = Parser(tokens, src, is_symbol)
    parser.is_dimension = is_dimension
    return parser.parse()


def parse_name(src: Source) -> NameRef:
    """Parse ``src.text`` as exactly one symbol name (declarations, wrt, left sides)."""
    known = remembered(src.text)
    if known.name is None:
        known.name = _read_name(list(_tokens(src)), src)
    return known.name


def _read_name(tokens: list[Token], src: Source) -> NameRef:
    parser = Parser(tokens, src, lambda _name: True)
    parser.naming = True
    if parser.tok.kind == END:
        src.error("expected a symbol name", 0)
    ref = parser.parse_name()
    after = parser.tok  # (a fresh name: mypy would keep the narrowing from before parse_name)
    if after.kind != END:
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
        tokens = list(_tokens(src))
        parser = Parser(tokens, src, lambda _name: True)
        parser.naming = True
        if parser.tok.kind == END:
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
        if after.kind != END:
            raise parser.error(f"expected '=' after {ref.latex}(…), found {parser.describe(after)}") from None
        return ref
