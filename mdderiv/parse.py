"""Block text → checked :class:`~mdderiv.problem.Problem` (the parse and shape stages).

:func:`parse_problem` reads the lines (``mdderiv.syntax.block``), the
declarations (``mdderiv.syntax.declarations``) and each right-hand side
(``mdderiv.syntax.latex``), then builds the engine's ``mdderiv.expr`` nodes
definition by definition while checking every shape (``mdderiv.shapes``).
Every problem is a :class:`~mdderiv.errors.DeriveError` with a line and column.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import fields

from .errors import DeriveError
from .expr import ONE_HOT, SCALAR, SPD, SYMMETRIC, Dim, Symbol, dim_product, nodes
from .problem import Definition, Problem, SymbolInfo
from .shapes import Builder, Context, written_as_scalar
from .sizes import format_shape
from .syntax.block import DefinitionLine, read_lines, split_top_level
from .syntax.declarations import Declaration, parse_given
from .syntax.latex import parse_expression
from .syntax.names import parse_left_side, parse_name, safe_identifier, word_name
from .syntax.nodes import NameRef, Node, Source, SumNode

__all__ = ["parse_problem"]


def parse_problem(body: str, functions: str = "matrix") -> Problem:
    """Read and shape-check a derive block body; ``functions`` is the reading of
    exp, log, √… of a square matrix (the option of that name), which decides
    what a number added to the matrix inside one means.

    Raises :class:`DeriveError` (and nothing else) for any input: a deep input
    that still exhausts the stack, or a bug here, is reported as a DeriveError
    rather than escaping as another exception type.
    """
    try:
        return _parse_problem(body, functions)
    except DeriveError:
        raise
    except RecursionError:
        raise DeriveError("the block is nested too deeply to read") from None
    except Exception as exc:  # a bug in mdderiv: still honour the one-exception contract
        raise DeriveError(f"internal error while reading the block ({type(exc).__name__}: {exc})") from exc


def _parse_problem(body: str, functions: str = "matrix") -> Problem:
    """:func:`parse_problem` without its guard against other exceptions."""
    lines = read_lines(body)
    table, products = _declarations(lines.given)
    dims = _dimension_names(table)
    # Left-hand sides first: \sigma is a function unless something is named sigma.
    lhs_refs = _left_sides(lines.definitions)
    known_names = set(table) | {ref.ident for ref in lhs_refs}
    trees = [
        parse_expression(definition.rhs, lambda name: name in known_names, lambda name: name in dims)
        for definition in lines.definitions
    ]
    # Indexed families: x_i whose subscript is some sum's index.
    sums = _sums_written(lines.definitions, trees)
    sum_uppers: dict[str, Dim] = {}
    for node in sums:
        sum_uppers.setdefault(node.index, node.upper)
        if isinstance(node.upper, str):
            dims.setdefault(node.upper, None)
    symbols, families = _declared_symbols(table, sum_uppers, dims)

    ctx = Context(symbols, families, dims, {}, functions=functions)
    definitions, builders = _define(ctx, lhs_refs, lines.definitions, trees)
    for fam, info in families.items():
        if info.count is None and info.index in sum_uppers:
            families[fam] = SymbolInfo(
                info.name, info.latex, info.shape, info.props, info.index, sum_uppers[info.index]
            )

    # the readings any definition took, which the derivation names (a loop: three
    # any() over generators would cost more than the rest of this function's steps)
    broadcast = number_as_identity = dims_as_numbers = False
    for builder in builders:
        broadcast = broadcast or builder.broadcast
        number_as_identity = number_as_identity or builder.number_as_identity
        dims_as_numbers = dims_as_numbers or builder.dims_as_numbers

    assert lines.wrt is not None  # (read_lines refuses a block without one)
    wrt = _wrt(lines.wrt, symbols, families, definitions)
    return Problem(
        symbols=_in_order(table, symbols, families),
        definitions=definitions,
        wrt=wrt,
        options=dict(lines.options),
        option_lines=dict(lines.option_lines),
        wrt_line=lines.wrt.line,
        dims=list(dims),
        broadcast=broadcast,
        number_as_identity=number_as_identity,
        dims_as_numbers=dims_as_numbers,
        dims_as_products=bool(products),
    )


def _declarations(given: list[Source]) -> tuple[dict[str, Declaration], dict[Dim, Dim]]:
    """The declarations of the ``given:`` lines by identifier, their shapes with
    dimension products (``mn``) read as such, and those products."""
    decls: list[Declaration] = []
    for line in given:
        decls.extend(parse_given(line))
    table, _ = _declare(decls)
    products = _dimension_products(table)
    for decl in table.values():
        assert decl.shape is not None
        decl.shape = (products.get(decl.shape[0], decl.shape[0]), products.get(decl.shape[1], decl.shape[1]))
    return table, products


def _declare(decls: list[Declaration]) -> tuple[dict[str, Declaration], list[Declaration]]:
    """Merge declarations by identifier; property-only lines are applied after."""
    table: dict[str, Declaration] = {}
    prop_only: list[Declaration] = []
    for decl in decls:
        if decl.shape is None:
            prop_only.append(decl)
            continue
        old = table.get(decl.ref.ident)
        if old is not None:
            assert old.shape is not None
            if old.shape != decl.shape:
                decl.src.error(
                    f"{decl.ref.latex} is declared twice, as {format_shape(old.shape)} and {format_shape(decl.shape)}",
                    0,
                )
            old.props |= decl.props
            continue
        table[decl.ref.ident] = decl
    for decl in prop_only:
        target = table.get(decl.ref.ident)
        if target is None:
            decl.src.error(
                f"{decl.ref.latex} has a property but no shape; declare it too, e.g. "
                f"{decl.ref.latex} \\in \\mathbb{{R}}^{{n}}",
                0,
            )
        target.props |= decl.props
    for decl in table.values():
        assert decl.shape is not None
        rows, cols = decl.shape
        if decl.props & {SYMMETRIC, SPD} and rows != cols:
            decl.src.error(
                f"{decl.ref.latex} is {format_shape(decl.shape)}: only a square matrix can be symmetric", 0
            )
        if SPD in decl.props:
            decl.props.discard(SYMMETRIC)
        if ONE_HOT in decl.props and cols != 1:
            decl.src.error(
                f"{decl.ref.latex} is {format_shape(decl.shape)}: only a column vector can be one-hot", 0
            )
    return table, prop_only


def _dimension_products(table: dict[str, Declaration]) -> dict[Dim, Dim]:
    """``\\mathbb{R}^{mn}`` beside dimensions ``m`` and ``n`` written alone: the
    name ``mn`` is their product ``m*n`` (the length of ``vec X`` for an m×n ``X``).
    Read so only when every letter is a dimension of its own and no other
    dimension name of several letters could split it another way."""
    names = {d for decl in table.values() if decl.shape for d in decl.shape if isinstance(d, str)}
    singles = {d for d in names if len(d) == 1}
    products: dict[Dim, Dim] = {}
    for name in names:
        if len(name) < 2 or not (name.isascii() and name.isalpha()) or not set(name) <= singles:
            continue
        if any(other != name and len(other) > 1 and other in name for other in names):
            continue  # mnk beside nk: m·nk or m·n·k
        product: Dim = name[0]
        for letter in name[1:]:
            product = dim_product(product, letter)
        products[name] = product
    return products


def _dimension_names(table: dict[str, Declaration]) -> dict[str, None]:
    """The dimension names the declarations use, in first-use order."""
    dims: dict[str, None] = {}
    for decl in table.values():
        assert decl.shape is not None
        for d in decl.shape:
            if isinstance(d, str):
                dims.setdefault(d, None)
    return dims


def _left_sides(definitions: list[DefinitionLine]) -> list[NameRef]:
    """The name each definition defines (the objective's may be a word: ``loss``)."""
    refs: list[NameRef] = []
    for number, definition in enumerate(definitions, start=1):
        try:
            refs.append(parse_left_side(definition.lhs))
        except DeriveError as exc:
            word = _objective_word(definition.lhs.text) if number == len(definitions) else None
            if word is None:
                raise DeriveError(
                    f"the left side of a definition must be one name (like f, Y or h_1): {exc.message}",
                    exc.line,
                    exc.column,
                ) from None
            # the objective may have a word for a name (loss = …): nothing refers to it
            ident = safe_identifier(word)
            latex = f"\\mathrm{{{word}}}"
            refs.append(NameRef(ident, latex, ident, latex, None, 0, len(definition.lhs.text)))
    return refs


def _objective_word(text: str) -> str | None:
    """``loss``, ``\\mathrm{loss}``, ``\\text{loss}`` → ``loss`` (else None)."""
    m = re.fullmatch(
        r"(?:\\(?:mathrm|text|operatorname|mathit)\s*\{\s*([A-Za-z]{2,20})\s*\}|([A-Za-z]{2,20}))", text
    )
    if m is None:
        return None
    return m.group(1) or m.group(2)


def _sums_written(definitions: list[DefinitionLine], trees: list[Node]) -> list[SumNode]:
    """Every indexed sum ``\\sum_{i=1}^{n}`` of the right-hand sides, in order."""
    return [
        node
        for definition, tree in zip(definitions, trees)
        if "\\sum" in definition.rhs.text  # the walk is only needed for sums
        for node in _walk_syntax(tree)
        if isinstance(node, SumNode)
    ]


def _walk_syntax(node: Node) -> Iterator[Node]:
    """Every parse-tree node, without recursion."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        for f in fields(current):
            value = getattr(current, f.name)
            if isinstance(value, Node):
                stack.append(value)
            elif isinstance(value, tuple):
                for item in value:
                    if isinstance(item, Node):
                        stack.append(item)
                    elif isinstance(item, tuple):
                        stack.extend(x for x in item if isinstance(x, Node))


def _declared_symbols(
    table: dict[str, Declaration], sum_uppers: dict[str, Dim], dims: dict[str, None]
) -> tuple[dict[str, SymbolInfo], dict[str, SymbolInfo]]:
    """The declared symbols and the indexed families (``x_i`` declared, with ``i``
    some sum's index), by identifier; neither may share a dimension's name."""
    symbols: dict[str, SymbolInfo] = {}
    families: dict[str, SymbolInfo] = {}
    sources: dict[str, Source] = {}
    for ident, decl in table.items():
        ref = decl.ref
        assert decl.shape is not None
        props = frozenset(decl.props)
        sub = ref.sub
        if sub is not None and len(sub) == 1 and sub.isalpha() and sub in sum_uppers:
            if ref.base_ident in families or ref.base_ident in table:
                decl.src.error(f"{ref.base_latex} is declared twice", 0)
            families[ref.base_ident] = SymbolInfo(
                ref.base_ident, ref.base_latex, decl.shape, props, index=sub, count=None
            )
            sources[ref.base_ident] = decl.src
        else:
            symbols[ident] = SymbolInfo(ident, ref.latex, decl.shape, props)
            sources[ident] = decl.src
    for name in list(symbols) + list(families):
        if name in dims:
            sources[name].error(
                f"{name} is both a declared symbol and a dimension name; rename one of them", 0
            )
    return symbols, families


def _define(
    ctx: Context, lhs_refs: list[NameRef], lines: list[DefinitionLine], trees: list[Node]
) -> tuple[list[Definition], list[Builder]]:
    """Each definition built in order, with the builder that read it: each defined
    name joins ``ctx.symbols`` for the lines after it, and a family's size is
    taken from the first sum it is used in (``ctx.families``)."""
    definitions: list[Definition] = []
    builders: list[Builder] = []
    symbols, families = ctx.symbols, ctx.families
    for ref, definition, tree in zip(lhs_refs, lines, trees):
        ctx.later = {r.ident: d.line for r, d in zip(lhs_refs, lines) if d.line > definition.line}
        ctx.current = ref.ident
        where = definition.lhs
        if ref.ident in symbols or ref.ident in families:
            previous = symbols.get(ref.ident) or families[ref.ident]
            what = "defined on an earlier line" if previous.defined else "declared in given:"
            where.error(f"{ref.latex} is already {what}; use a new name", 0)
        if ref.ident in ctx.dims:
            where.error(f"{ref.latex} is a dimension name; use another name for the definition", 0)
        builder = Builder(ctx, definition.rhs)
        expr = builder.finish(builder.build(tree))
        builders.append(builder)
        if expr.shape != SCALAR and written_as_scalar(tree):
            # fail closed: a trace, determinant or norm outside can only be a scalar
            definition.rhs.error(
                f"{ref.latex} is written with a trace, determinant or norm outside, but was read as a "
                f"{format_shape(expr.shape)} matrix; this is a bug in mdderiv, so nothing is derived "
                "(add parentheses to say what the operator applies to)",
                0,
            )
        for fam, count in builder.family_counts.items():
            info = families[fam]
            if info.count is None:
                families[fam] = SymbolInfo(info.name, info.latex, info.shape, info.props, info.index, count)
        info = symbols[ref.ident] = SymbolInfo(ref.ident, ref.latex, expr.shape, defined=True)
        definitions.append(Definition(info.symbol(), expr, definition.line, definition.rhs.text))
    return definitions, builders


def _in_order(
    table: dict[str, Declaration], symbols: dict[str, SymbolInfo], families: dict[str, SymbolInfo]
) -> dict[str, SymbolInfo]:
    """Symbols in a stable order: declared (families in place), then defined."""
    ordered: dict[str, SymbolInfo] = {}
    for ident, decl in table.items():
        key = ident if ident in symbols else decl.ref.base_ident
        ordered[key] = symbols.get(ident) or families[key]
    for ident, info in symbols.items():
        ordered.setdefault(ident, info)
    return ordered


def _wrt(
    src: Source,
    symbols: dict[str, SymbolInfo],
    families: dict[str, SymbolInfo],
    definitions: list[Definition],
) -> list[Symbol]:
    """The ``wrt:`` variables, each declared and something the objective depends on."""
    defined = {d.symbol.name: d for d in definitions}
    objective = definitions[-1]
    # what the objective depends on, through the intermediate definitions
    depends: set[str] = set()
    stack = [objective.expr]
    while stack:
        for node in nodes(stack.pop()):
            if isinstance(node, Symbol) and node.name not in depends:
                depends.add(node.name)
                if node.name in defined and node.name != objective.symbol.name:
                    stack.append(defined[node.name].expr)
    out: list[Symbol] = []
    for part in split_top_level(src, (",", ";", "\\,", "\\;", "\\quad", "\\ ")):
        word = word_name(part)  # wrt: lam, a name of several letters declared so
        ref = word if word is not None and word.ident in symbols else parse_name(part)
        info = symbols.get(ref.ident)
        if info is None and ref.ident in families:
            info = families[ref.ident]
        if info is None and ref.sub is not None and ref.base_ident in families:
            info = families[ref.base_ident]
        if info is None:
            part.error(f"wrt: {ref.latex} is not declared; declare it in given:", 0)
        if info.defined:
            part.error(
                f"wrt: {ref.latex} is defined in the block, not declared; differentiate with respect to a declared symbol",
                0,
            )
        symbol = info.symbol()
        if symbol in out:
            part.error(f"wrt: {ref.latex} is listed twice", 0)
        if info.name not in depends:
            part.error(
                f"{objective.symbol.name} does not depend on {info.latex}: its derivative would be zero",
                0,
            )
        out.append(symbol)
    if not out:
        src.error("wrt: needs a variable, e.g. wrt: X", 0)
    return out
