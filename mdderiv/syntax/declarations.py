"""``given:`` declarations (spec §2): LaTeX (``X \\in \\mathbb{R}^{m \\times n}``)
and ASCII (``X: m x n``) forms, property lines (``\\mathbf{y} \\text{ one-hot}``)."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field

from ..expr import ONE_HOT, POSITIVE, SPD, SYMMETRIC, Dim, Shape
from .block import split_top_level
from .names import parse_name, word_name
from .tokens import check_braces, remembered
from .nodes import NameRef, Source

SEPARATORS = (",", ";", "\\,", "\\;", "\\:", "\\>", "\\ ", "\\quad", "\\qquad", "\\enspace")

#: Words after a name (``\\text{ one-hot}``, ASCII ``spd``) → property.
PROPERTY_WORDS = {
    "one-hot": ONE_HOT, "onehot": ONE_HOT, "one hot": ONE_HOT,
    "positive": POSITIVE, "symmetric": SYMMETRIC, "spd": SPD,
    "positive definite": SPD, "symmetric positive definite": SPD, "pd": SPD,
}  # fmt: skip

_IN = re.compile(r"\\in(?![A-Za-z])")
_TEXT_PROPS = re.compile(r"\\(?:text|mathrm|textrm|textnormal)\s*\{\s*([^{}]*?)\s*\}\s*$")
_ASCII = re.compile(r"^(?P<name>[^:]+?)\s*:\s*(?P<spec>.+)$")
_DIM = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:_\{?[A-Za-z0-9]+\}?)?|[0-9]+")


@dataclass
class Declaration:
    """One declared name: its shape (None for a property-only line) and properties."""

    ref: NameRef
    src: Source  # where the name is written
    shape: Shape | None
    props: set[str] = field(default_factory=set)


def parse_dim(text: str, src: Source, pos: int) -> Dim:
    """A dimension: a positive integer or an identifier (``n``, ``n_1``)."""
    text = text.strip()
    if not _DIM.fullmatch(text):
        src.error(f"a dimension must be a name such as n or a positive integer, not {text!r}", pos)
    if text.isdigit():
        value = int(text)
        if value <= 0 or value > 10**6:
            src.error(f"a dimension must be a positive integer, not {text}", pos)
        return value
    name = text.replace("{", "").replace("}", "")
    if not dimension_name_ok(name):
        src.error(f"{name!r} cannot be a dimension name (it is reserved); pick another", pos)
    return name


#: Names generated code relies on (NumPy) and Python keywords cannot name a size.
RESERVED = frozenset({"np", "numpy", "math"})


def dimension_name_ok(name: str) -> bool:
    """Whether ``name`` can stand for a dimension in generated code."""
    return name.isidentifier() and not keyword.iskeyword(name) and name not in RESERVED


def parse_given(src: Source) -> list[Declaration]:
    """All declarations on one ``given:`` line."""
    check_braces(src)  # a brace left open would otherwise swallow the separators
    decls: list[Declaration] = []
    pending: list[tuple[NameRef, Source]] = []  # names waiting for the shape after them
    for chunk in split_top_level(src, SEPARATORS):
        names, shape, props = _chunk(chunk)
        if shape is None and not props:
            pending.extend(names)
            continue
        for ref, where in pending + names:
            decls.append(Declaration(ref, where, shape, set(props)))
        pending = []
    if pending:
        ref, where = pending[0]
        where.error(
            f"{ref.latex} has no shape: write {ref.latex} \\in \\mathbb{{R}}^{{n}} (or {ref.ident}: n)", 0
        )
    return decls


def _names(src: Source) -> list[tuple[NameRef, Source]]:
    return [(parse_name(src), src)]


def _chunk(chunk: Source) -> tuple[list[tuple[NameRef, Source]], Shape | None, set[str]]:
    """(names, shape, properties) of one comma-separated piece."""
    text = chunk.text
    m = _IN.search(text)
    if m:
        name_src = Source(text[: m.start()].rstrip(), chunk.line, chunk.column)
        if not name_src.text:
            chunk.error("a declaration needs a name before \\in", m.start())
        set_pos = m.end()
        set_text = text[set_pos:]
        # the same sets recur across a site's blocks (\mathbb{R}^{n}): read each once
        known = remembered(set_text)
        if known.declared is None:
            known.declared = _declared_set(set_text, chunk, set_pos)
        shape, declared_props = known.declared
        return _names(name_src), shape, set(declared_props)
    tm = _TEXT_PROPS.search(text)
    if tm:
        name_src = Source(text[: tm.start()].rstrip(), chunk.line, chunk.column)
        if not name_src.text:
            chunk.error("a property needs a name before it, e.g. \\mathbf{y} \\text{ one-hot}", 0)
        return _names(name_src), None, _property(tm.group(1), chunk, tm.start())
    am = _ASCII.match(text)
    if am:
        name_src = Source(am.group("name"), chunk.line, chunk.column)
        shape, props = _ascii_spec(am.group("spec"), chunk, am.start("spec"))
        word = word_name(name_src)  # lam: scalar, where the name may be a word
        return ([(word, name_src)] if word is not None else _names(name_src)), shape, props
    return _names(chunk), None, set()


def _declared_set(set_text: str, src: Source, set_pos: int) -> tuple[Shape, frozenset[str]]:
    """What ``\\in`` declares: the set's shape and properties (those of a
    trailing ``\\text{…}`` too); ``set_pos`` is where the set starts in ``src``."""
    props: set[str] = set()
    tm = _TEXT_PROPS.search(set_text)
    if tm:
        props |= _property(tm.group(1), src, set_pos + tm.start())
        set_text = set_text[: tm.start()]
    shape, set_props = _latex_set(set_text, src, set_pos)
    return shape, frozenset(props | set_props)


def _property(words: str, src: Source, pos: int) -> set[str]:
    key = " ".join(words.lower().replace("\\", " ").split())
    key = key.removeprefix("is ")
    if key not in PROPERTY_WORDS:
        src.error(f"unknown property {words!r}; known: one-hot, positive, symmetric, spd", pos)
    return {PROPERTY_WORDS[key]}


_SPACING = re.compile(r"\\[,;:! ]|\s+")
_SET_SCRIPT = re.compile(r"([_^])(\{([^{}]*)\}|(.))")
_DIM_SEPARATORS = re.compile(r"[×,*]")
_SET = re.compile(r"^(?:\\mathbb\{?(?P<set>[RS])\}?|\\(?P<set2>[RS])(?![A-Za-z])|(?P<set3>[ℝ𝕊]))")


def _latex_set(text: str, src: Source, offset: int) -> tuple[Shape, set[str]]:
    """``\\mathbb{R}^{m \\times n}``, ``\\mathbb{S}_{++}^{n}`` … → (shape, props)."""
    compact = text.replace("\\times", "×").replace("\\cdot", "×")
    compact = _SPACING.sub("", compact)
    m = _SET.match(compact)
    if not m:
        src.error(
            f"cannot read the set {text.strip()!r}: use \\mathbb{{R}}, \\mathbb{{R}}^{{n}}, "
            "\\mathbb{R}^{m \\times n}, \\mathbb{S}^{n} or \\mathbb{S}_{++}^{n}",
            offset,
        )
    kind = m.group("set") or m.group("set2") or {"ℝ": "R", "𝕊": "S"}[m.group("set3")]
    at = m.end()
    sup: str | None = None
    sub: str | None = None
    while at < len(compact):
        sm = _SET_SCRIPT.match(compact, at)
        if not sm:
            src.error(f"cannot read {compact[at:]!r} in the set {text.strip()!r}", offset)
        value = sm.group(3) if sm.group(3) is not None else sm.group(4)
        if sm.group(1) == "^":
            if sup is not None:
                src.error("the set has two superscripts", offset)
            sup = value
        else:
            if sub is not None:
                src.error("the set has two subscripts", offset)
            sub = value
        at = sm.end()
    props: set[str] = set()
    if sub is not None:
        if sub not in ("+", "++"):
            src.error(f"unknown set subscript {sub!r}: use _{{++}} (positive / positive definite)", offset)
        props.add(SPD if kind == "S" else POSITIVE)
    if sup is None:
        if kind == "S":
            src.error("\\mathbb{S} needs a size: \\mathbb{S}^{n}", offset)
        return (1, 1), props
    dims = [parse_dim(d, src, offset) for d in _DIM_SEPARATORS.split(sup)]
    if len(dims) > 2:
        src.error("a shape has at most two dimensions", offset)
    if kind == "S":
        if len(dims) == 2 and dims[0] != dims[1]:
            src.error(f"symmetric matrices are square, not {dims[0]}×{dims[1]}", offset)
        if SPD not in props:
            props.add(SYMMETRIC)
        return (dims[0], dims[0]), props
    if len(dims) == 1:
        return (dims[0], 1), props
    return (dims[0], dims[1]), props


def _ascii_spec(spec: str, src: Source, offset: int) -> tuple[Shape, set[str]]:
    """``m x n``, ``n``, ``scalar``, ``n x n symmetric``, ``m×n``, ``y: m one-hot``."""
    text = spec.replace("×", " x ").replace("*", " x ")
    text = re.sub(r"\b([A-Za-z]|\d+)x([A-Za-z]|\d+)\b", r"\1 x \2", text)  # mxn
    words = text.split()
    props: set[str] = set()
    while words and (words[-1].lower() in PROPERTY_WORDS or " ".join(words[-2:]).lower() in PROPERTY_WORDS):
        two = " ".join(words[-2:]).lower()
        if len(words) >= 2 and two in PROPERTY_WORDS:
            props.add(PROPERTY_WORDS[two])
            words = words[:-2]
        else:
            props.add(PROPERTY_WORDS[words.pop().lower()])
    if not words:
        src.error(f"{spec.strip()!r} has no shape: write e.g. X: m x n, a: n or c: scalar", offset)
    if len(words) == 1 and words[0].lower() == "scalar":
        shape: Shape = (1, 1)
    elif len(words) == 1:
        shape = (parse_dim(words[0], src, offset), 1)
    elif len(words) == 3 and words[1].lower() == "x":
        shape = (parse_dim(words[0], src, offset), parse_dim(words[2], src, offset))
    else:
        src.error(f"cannot read the shape {spec.strip()!r}: write e.g. m x n, n or scalar", offset)
    if props & {SYMMETRIC, SPD} and shape[0] != shape[1]:
        src.error(f"a symmetric matrix must be square, not {shape[0]}×{shape[1]}", offset)
    if SPD in props:
        props.discard(SYMMETRIC)
    return shape, props
