"""LaTeX math → parse tree (spec §3), with pylatexenc as the tokenizer.

The tokens come from ``syntax/tokens.py`` (pylatexenc as the tokenizer) and
names are read by ``syntax/names.py``; :class:`Parser` is a small precedence
parser over the tokens.  User text is never
evaluated: every name is built from a whitelist of letters, digits, Greek
macros and accents, so identifiers are always safe Python identifiers.
"""

from __future__ import annotations
from collections.abc import Callable
from fractions import Fraction

from ..expr import NormKind
from ..functions import MAX_WITH_ZERO, NORM_SUBSCRIPTS
from .nodes import (
    AbsNode,
    AddNode,
    ApplyNode,
    BinaryNode,
    ConstNode,
    Dim,
    DivNode,
    NameNode,
    NegNode,
    Node,
    NormNode,
    NumberNode,
    PostfixNode,
    ProductNode,
    Source,
    SumNode,
)
from .names import NameReader, safe_identifier
from .tokens import (
    ATOM_STARTS,
    BRACES,
    CHAR,
    CLOSE,
    END,
    LETTER,
    MACRO,
    NAME_PARTS,
    NUM,
    OPEN,
    Token,
    fmt_macro,
    tokenize,
)
from .vocabulary import (
    ACCENTS,
    BIG_OPERATORS,
    BINARY_OPS,
    ELEMENTWISE_LIST,
    FONTS,
    FUNCTION_MACROS,
    FUNCTIONS,
    GREEK,
    INNER_OPS,
    OPEN_CLOSE,
    OPERATOR_WRAPPERS,
    DIVISION_OPS,
    PRODUCT_OPS,
    TRANSPOSE_MACROS,
)

_SIGNS = ("+", "-")


class Parser(NameReader):
    """Precedence parser: sum > ⊙/⊗/⊘ > product (juxtaposition, ·, /) > factor."""

    def __init__(self, tokens: list[Token], src: Source, is_symbol: Callable[[str], bool]) -> None:
        super().__init__(tokens, src, is_symbol)
        self.bars: list[str] = []  # open | and ‖ (innermost last): a matching bar closes
        #: inside the unparenthesised argument of tr or det (``\\det A \\det B``:
        #: the argument ends where the next trace or determinant starts)
        self.operator_argument = False

    # -- entry points
    def parse(self) -> Node:
        if self.tok.kind is END:
            raise self.error("the expression is empty")
        node = self.parse_sum()
        tok = self.tok  # (a fresh name: mypy would keep the narrowing from before parse_sum)
        if tok.kind is not END:
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
        if tok.kind is CHAR and tok.text in _SIGNS:
            sign = -1 if self.advance().text == "-" else 1
        terms.append((sign, self.parse_binary()))
        while (tok := self.tok).kind is CHAR and tok.text in _SIGNS:
            sign = -1 if self.advance().text == "-" else 1
            if self.tok.is_char("+", "-") and self.advance().text == "-":  # a - -b
                sign = -sign
            terms.append((sign, self.parse_binary()))
        if len(terms) == 1 and terms[0][0] == 1:
            return terms[0][1]
        return AddNode(start, tuple(terms))

    def parse_binary(self) -> Node:
        left = self.parse_product()
        while (self.tok.kind is MACRO and self.tok.text in BINARY_OPS) or (
            self.tok.kind is CHAR and self.tok.text in INNER_OPS
        ):
            op = self.advance()
            if self.starts_factor() or self.tok.is_char("-"):
                right = self.parse_product()
            else:
                raise self.error(f"{fmt_macro(op)} needs something on its right")
            left = BinaryNode(op.pos, "inner" if op.kind is CHAR else BINARY_OPS[op.text], left, right)
        return left

    def parse_product(self) -> Node:
        tok = self.tok
        start = tok.pos
        if not (self.starts_factor() or (tok.kind is CHAR and tok.text == "-")):
            raise self.error(f"expected a term, found {self.describe(tok)}")
        factors = [self.parse_factor()]
        while True:
            tok = self.tok
            kind = tok.kind
            if kind is MACRO and tok.text in ("cdot", "times"):
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
            elif (kind is CHAR and tok.text == "*") or (kind is MACRO and tok.text in PRODUCT_OPS):
                self.advance()
                factors.append(self.parse_factor())
            elif (kind is CHAR and tok.text == "/") or (kind is MACRO and tok.text in DIVISION_OPS):
                self.advance()
                den = self.parse_factor()
                num = factors[0] if len(factors) == 1 else ProductNode(start, tuple(factors))
                factors = [DivNode(tok.pos, num, den)]
            elif kind in ATOM_STARTS or self.starts_factor():  # (the usual factors without the call)
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
        if tok.kind in ATOM_STARTS:
            return True
        if tok.kind is CHAR:
            if tok.text in ("(", "[", "\\{", "⟨"):
                return True
            if tok.text in ("|", "||"):
                return not (self.bars and self.bars[-1] == tok.text)
            return False
        if tok.kind is MACRO:
            if tok.text in PRODUCT_OPS or tok.text in BINARY_OPS or tok.text in DIVISION_OPS:
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
            return following.kind is MACRO and FUNCTION_MACROS.get(following.text) == "det"
        if tok.text in OPERATOR_WRAPPERS:
            return FUNCTIONS.get(self.wrapped_word() or "") in BIG_OPERATORS
        return False

    def parse_factor(self) -> Node:
        tok = self.tok
        self.enter(tok.pos)
        try:
            if tok.kind is CHAR:
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
            self.leave()

    def parse_postfix(self, atom: Node) -> Node:
        seen_sup = False
        while True:
            tok = self.tok
            if tok.kind is not CHAR:
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

    def parse_exponent(self, base: Node, pos: int) -> Node:
        start_tok = self.tok
        raw = self.script_tokens()
        toks = [t for t in raw if t.kind not in BRACES]
        negative = False
        if toks and toks[0].kind is CHAR and toks[0].text == "-":
            negative = True
            toks = toks[1:]
        if _is_transpose(toks):
            op = "invT" if negative else "T"
            return PostfixNode(pos, op, base)
        value = _exponent_value(toks)
        if value is None:
            if any(t.kind is LETTER or (t.kind is MACRO and t.text in GREEK) for t in toks):
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
            if self.tok.kind is OPEN:
                arg = self.parse_group()
            elif self.tok.kind in NAME_PARTS or (self.tok.kind is MACRO and self.tok.text in GREEK):
                arg = self.parse_atom()
            else:
                raise self.error("write the exponent of e in braces: e^{…}")
        finally:
            self.leave()
        return ApplyNode(e.pos, "exp", arg)

    # -- atoms
    def parse_atom(self) -> Node:
        tok = self.tok
        if tok.kind is NUM:
            self.advance()
            assert tok.value is not None
            return NumberNode(tok.pos, tok.value)
        if tok.kind is LETTER:
            return self.name_or_const()
        if tok.kind is OPEN:
            return self.parse_group()
        if tok.kind is CHAR:
            if tok.text in OPEN_CLOSE:
                return self.parse_paren()
            if tok.text in ("|", "||"):
                return self.parse_bars()
            if tok.text == "⟨":
                return self.parse_angle()
            raise self.error(f"unexpected {tok.text!r}")
        if tok.kind is MACRO:
            return self.parse_macro_atom()
        raise self.error(f"expected a term, found {self.describe(tok)}")

    def parse_group(self) -> Node:
        opener = self.advance()
        if self.tok.kind is CLOSE:
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
            letters = [t.text for t in self.script_tokens() if t.kind is LETTER]
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
                if tok.kind is END:
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
            if t.kind in NAME_PARTS or t.is_char("*") or t.is_macro("ast", "star")
        )
        kind = NORM_SUBSCRIPTS.get(sub)
        if kind is None:
            written = "".join(f"\\{t.text} " if t.kind is MACRO else t.text for t in raw).strip()
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
            if digits.kind is NUM and len(digits.text) == 2 and digits.text.isdigit():
                # \tfrac12 (TeX reads two one-digit arguments)
                self.advance()
                num_node = NumberNode(digits.pos, Fraction(int(digits.text[0])))
                return DivNode(tok.pos, num_node, NumberNode(digits.pos + 1, Fraction(int(digits.text[1]))))
            if self.tok.kind is not OPEN:
                raise self.error("\\frac needs two arguments: \\frac{p}{q}", tok.pos)
            num = self.parse_group()
            if self.tok.kind is not OPEN:
                raise self.error("\\frac needs two arguments: \\frac{p}{q}", tok.pos)
            den = self.parse_group()
            return DivNode(tok.pos, num, den)
        if name == "sum":
            return self.parse_sum_operator()
        if name in PRODUCT_OPS or name in BINARY_OPS or name in DIVISION_OPS:
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
        if self.peek().kind is not OPEN:
            return None
        toks = self.toks
        j = self.i + 2
        word = []
        while True:
            t = toks[j]
            if not (t.kind is LETTER or t.kind is NUM or (t.kind is CHAR and t.text == "-")):
                break
            word.append(t.text)
            j += 1
        if t.kind is not CLOSE or not word:
            return None
        return "".join(word)

    def operator(self, word: str, tok: Token) -> Node:
        fn = FUNCTIONS.get(word)
        if fn is None:
            raise self.error(
                f"unknown operator {word!r}; known: tr, det, diag, vec, softmax, {ELEMENTWISE_LIST}", tok.pos
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
        nxt = self.tok
        if nxt.kind is CHAR and nxt.text == "^":  # (is_char, inline: here for every function)
            raise self.error(f"write a power of {fmt_macro(tok)}(…) after its argument, e.g. (\\log x)^2")
        self.enter(tok.pos)
        try:
            if nxt.kind is CHAR and nxt.text in OPEN_CLOSE:
                arg = self.parse_paren()
            elif nxt.kind is OPEN:
                arg = self.parse_group()
            elif not self.starts_factor():
                raise self.error(f"{fmt_macro(tok)} needs an argument", tok.pos)
            elif fn in BIG_OPERATORS:
                arg = self.parse_operator_argument()
            else:
                arg = self.parse_factor()
                arg = self.constant_argument_rest(arg)
                if self.starts_factor():
                    raise self.error(
                        f"{fmt_macro(tok)} without parentheses is followed by another factor, which "
                        f"can be read two ways: write {fmt_macro(tok)}(…) around the whole argument, "
                        f"or ({fmt_macro(tok)} …) around the function alone",
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
        while self.tok.kind is NUM or (
            self.tok.kind is MACRO and self.tok.text == "pi" and not self.peek().is_char("_")
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
        toks = [t for t in self.script_tokens() if t.kind not in BRACES]
        if (
            len(toks) == 3
            and toks[0].kind is LETTER
            and toks[1].is_char("=")
            and toks[2].kind is NUM
            and toks[2].value == 1
        ):
            return toks[0].text
        raise self.error("the sum's lower limit must read i=1 (a one-letter index from 1)", pos)

    def sum_upper(self) -> Dim:
        pos = self.tok.pos
        toks = [t for t in self.script_tokens() if t.kind not in BRACES]
        if len(toks) == 1 and toks[0].kind is NUM and toks[0].value is not None:
            value = toks[0].value
            if value.denominator == 1 and value > 0:
                return int(value)
        if toks and all(t.kind in NAME_PARTS for t in toks) and toks[0].kind is LETTER:
            return "".join(t.text for t in toks)
        raise self.error("the sum's upper limit must be a dimension such as n, or a positive integer", pos)

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
        toks = [t for t in self.script_tokens() if t.kind not in BRACES]
        dims: list[Dim] = []
        part: list[Token] = []
        for t in toks + [Token(CHAR, ",", pos, pos)]:
            if t.is_char(",", "×", "*") or t.is_macro("times"):
                if (
                    len(part) == 1
                    and part[0].kind is NUM
                    and part[0].value is not None
                    and part[0].value.denominator == 1
                    and part[0].value > 0
                ):
                    dims.append(int(part[0].value))
                elif part and all(p.kind in NAME_PARTS for p in part) and part[0].kind is LETTER:
                    dims.append("".join(p.text for p in part))
                else:
                    raise self.error("a size must read like n or m \\times n", pos)
                part = []
            else:
                part.append(t)
        if len(dims) > 2:
            raise self.error("a size has at most two dimensions", pos)
        return tuple(dims)


def _is_transpose(toks: list[Token]) -> bool:
    if len(toks) == 1:
        t = toks[0]
        return (t.kind is LETTER and t.text == "T") or t.is_macro("top", "intercal", "T")
    # \mathsf{T}, \mathrm{T}, \text{T}
    return (
        len(toks) == 2
        and toks[0].is_macro(*TRANSPOSE_MACROS)
        and toks[1].kind is LETTER
        and toks[1].text == "T"
    )


def _exponent_value(toks: list[Token]) -> Fraction | None:
    if len(toks) == 1 and toks[0].kind is NUM:
        return toks[0].value
    if len(toks) != 3 or not (toks[1].kind is toks[2].kind is NUM or toks[0].kind is toks[2].kind is NUM):
        return None
    if toks[0].kind is NUM and toks[1].is_char("/"):  # ^{1/2}
        p, q = toks[0].value, toks[2].value
    elif toks[0].is_macro("frac", "dfrac", "tfrac") and toks[1].kind is NUM:  # ^{\\frac12}
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
