"""The LaTeX the parser knows (spec §3): Greek letters, font wrappers and
accents around names, spacing and sizing macros it skips, delimiters,
operator names and binary operators.  The elementwise functions' spellings
come from their registry (``mdderiv.functions``)."""

from __future__ import annotations

from ..functions import MACROS as ELEMENTWISE_MACROS
from ..functions import WORDS as ELEMENTWISE_WORDS

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
TEXT_WRAPPERS = frozenset({"text", "textrm", "textnormal", "mathrm", "mathit", "mathsf", "textit", "operatorname"})
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
ELEMENTWISE_LIST = ", ".join(ELEMENTWISE_WORDS)
PRODUCT_OPS = frozenset({"cdot", "times", "ast"})
DIVISION_OPS = frozenset({"div"})  # a \div b is a / b
BINARY_OPS = {"odot": "hadamard", "circ": "hadamard", "otimes": "kron", "oslash": "hadamard_div"}
OPEN_CLOSE = {"(": ")", "[": "]", "\\{": "\\}"}
#: Binary operators between products that mean an inner product: ``A : X``
#: (double-dot, Frobenius) — ``\\langle A, X \\rangle`` is read in parse_angle.
INNER_OPS = frozenset({":"})
TRANSPOSE_MACROS = frozenset({"top", "intercal", "mathsf", "mathrm", "text", "textsf", "mathit"})
