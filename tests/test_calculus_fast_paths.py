"""The calculus's shortcuts give what the long way gives.

Several fast paths rely on facts about the smart constructors (``mul`` gives
back an equal product when run on its own output; a one-factor term is its own
key when like terms merge; the first differential in reading order is found by
following ``has_differential``).  These tests state those facts directly.
"""

from __future__ import annotations

from fractions import Fraction

from mdderiv.calculus.citations import RulesUsed
from mdderiv.calculus.gradient import _differential_of
from mdderiv.calculus.sums import merge_like_terms, split_term
from mdderiv.expr import (
    Add,
    Differential,
    Expr,
    Identity,
    MatMul,
    Number,
    Symbol,
    add,
    hadamard,
    has_differential,
    mul,
    num,
    trace,
    transpose,
)

A = Symbol("A", ("n", "n"))
B = Symbol("B", ("n", "n"))
x = Symbol("x", ("n", 1))
y = Symbol("y", ("n", 1))
s = Symbol("s", (1, 1))


def _merge_the_long_way(terms: list[Expr]) -> list[Expr]:
    order: list[Expr] = []
    totals: dict[Expr, Fraction] = {}
    for term in terms:
        coefficient, scalars, matrices = split_term(term)
        key = mul(*scalars, *matrices) if (scalars or matrices) else num(1)
        if key not in totals:
            order.append(key)
            totals[key] = Fraction(0)
        totals[key] += coefficient
    return [mul(num(totals[k]), k) for k in order if totals[k] != 0]


def test_mul_is_idempotent_on_its_own_products() -> None:
    products = [
        mul(num(2), A, x),
        mul(transpose(x), A, y),
        mul(s, A, B),
        mul(num(-1), mul(transpose(x), y), A),  # a 1x1 product kept as a factor
        mul(num(Fraction(1, 2)), Identity(("n", "n")), s),
        mul(A, Identity(("n", "n")), x),
    ]
    for product in products:
        if isinstance(product, MatMul):
            assert mul(*product.factors) == product
            assert mul(num(1), product) == product


def test_merge_like_terms_matches_the_long_way() -> None:
    cases: list[list[Expr]] = [
        [A, B],
        [A, mul(num(2), A)],
        [mul(A, s, B), mul(num(-1), s, A, B)],  # a scalar moves to the front
        [num(3), num(-3)],
        [mul(num(2), A, x), mul(num(-2), A, x), x],
        [hadamard(x, y), mul(num(-1), hadamard(x, y)), mul(s, x)],
    ]
    for terms in cases:
        assert merge_like_terms(terms) == _merge_the_long_way(terms)


def test_the_first_differential_in_reading_order() -> None:
    dA, dx = Differential(A), Differential(x)
    term = add(trace(mul(transpose(x), dA, x)), mul(transpose(dx), A, x))
    assert _differential_of(term) == A
    assert _differential_of(mul(transpose(dx), A, x)) == x
    assert _differential_of(dx) == x


def test_small_numbers_are_shared_and_equal() -> None:
    assert num(2) is num(2)
    assert num(2) == Number(Fraction(2))
    assert hash(num(-1)) == hash(Number(Fraction(-1)))
    assert num(Fraction(1, 2)) == Number(Fraction(1, 2))


# --------------------------------------------------------------------------- second round
# Shortcuts that return a node itself where the long way builds an equal one,
# or skip work whose result the long way throws away.

C = Symbol("C", ("n", "m"))
u = Symbol("u", ("m", 1))
S = Symbol("S", ("n", "n"), frozenset({"symmetric"}))


def test_mul_marks_its_products_tidy() -> None:
    from mdderiv.expr import is_tidy

    product = mul(num(2), A, x)
    assert is_tidy(product)
    assert not is_tidy(MatMul((A, x), ("n", 1)))  # built directly: unknown
    assert not is_tidy(A)


def test_whole_fractions_give_the_shared_numbers() -> None:
    assert num(Fraction(2)) is num(2)
    assert num(Fraction(-1)) is num(-1)
    assert num(Fraction(1, 2)) == Number(Fraction(1, 2))


def test_merge_like_terms_returns_written_terms_themselves() -> None:
    terms = [mul(num(2), A, x), mul(s, A, y), x]
    merged = merge_like_terms(terms)
    assert merged == _merge_the_long_way(terms)
    assert all(a is b for a, b in zip(merged, terms))
    # a scalar after a matrix is moved: a new term, equal to the long way's
    moved: list[Expr] = [MatMul((A, s, y), ("n", 1))]
    assert merge_like_terms(moved) == _merge_the_long_way(moved)
    assert merge_like_terms(moved)[0] is not moved[0]


def test_split_term_is_remembered_for_the_derivation_and_equal_to_a_fresh_split() -> None:
    from mdderiv.calculus.memo import derivation_memo

    term = mul(num(-3), s, A, x)
    with derivation_memo():
        first = split_term(term)
        assert split_term(term) is first
    assert split_term(term) is not first  # the memo went with its derivation
    assert split_term(term) == first
    assert first == (Fraction(-3), (s,), (A, x))
    assert split_term(MatMul(term.factors, term.shape)) == first  # type: ignore[attr-defined]


def test_order_terms_matches_the_stable_sort() -> None:
    from mdderiv.calculus.sums import order_terms

    def long_way(terms: list[Expr]) -> list[Expr]:
        def key(indexed: tuple[int, Expr]) -> tuple[bool, bool, int]:
            index, term = indexed
            coefficient, _, matrices = split_term(term)
            return (coefficient < 0, len(matrices) == 1 and isinstance(matrices[0], type(transpose(A))), index)

        return [t for _, t in sorted(enumerate(terms), key=key)]

    cases: list[list[Expr]] = [
        [A, transpose(B)],
        [transpose(B), A],
        [mul(num(-1), A), B, transpose(A)],
        [mul(num(-1), A), mul(num(-2), B)],
        [x],
    ]
    for terms in cases:
        assert order_terms(terms) == long_way(terms)


def test_rules_give_back_nodes_they_leave_alone() -> None:
    from mdderiv.calculus.products import simplify_product
    from mdderiv.calculus.sums import simplify_sum
    from mdderiv.calculus.transposes import push_transpose
    from mdderiv.calculus.trace import expand

    product = mul(A, transpose(C), u)
    assert isinstance(product, MatMul)
    assert simplify_product(product, RulesUsed()) is product
    total = add(mul(A, x), mul(num(-1), y))
    assert simplify_sum(total, RulesUsed()) is total  # type: ignore[arg-type]
    term = mul(transpose(x), A, Differential(y))
    assert expand(term) == [term] and expand(term)[0] is term
    held = transpose(C)
    assert push_transpose(C, RulesUsed(), held) is held
    assert push_transpose(C, RulesUsed()) == held


def test_product_of_sums_reads_tidy_terms_like_the_long_way() -> None:
    from mdderiv.calculus.algebra import _has_product_of_sums

    sums = [
        add(mul(num(2), add(A, B), x), y),
        add(mul(num(-1), add(A, B)), A),
        add(mul(num(2), A, x), y),
        add(mul(num(3), hadamard(add(x, y), y)), x),
    ]
    for total in sums:
        assert isinstance(total, Add)
        copies = [MatMul(t.factors, t.shape) if isinstance(t, MatMul) else t for t in total.terms]
        untidy = Add(tuple(copies), total.shape)
        assert _has_product_of_sums(total) == _has_product_of_sums(untidy)


def test_fold_norms_skips_only_what_it_would_not_change() -> None:
    from mdderiv.calculus.folding import fold_norms
    from mdderiv.expr import Norm, power

    written = frozenset({x})
    inner = mul(transpose(x), x)
    untouched = [mul(num(2), transpose(A), x), mul(transpose(y), y)]
    for expr in untouched:
        assert fold_norms(expr, written) is expr
    assert fold_norms(power(inner, Fraction(1, 2))) == Norm(x, "2")
    assert fold_norms(mul(s, inner), written) == mul(s, power(Norm(x, "2"), 2))
    assert fold_norms(mul(s, inner)) == mul(s, inner)  # u^T u kept where no norm was written


def test_nodes_lists_what_walk_yields() -> None:
    from collections import Counter

    from mdderiv.expr import nodes

    expr = add(trace(mul(transpose(x), Differential(A), x)), mul(s, transpose(y), A, x))
    assert Counter(map(id, nodes(expr))) == Counter(map(id, expr.walk()))


def test_foreseen_push_matches_the_pushed_form_built() -> None:
    """_foresee_push gives the transposes of the candidate that
    push_transpose used to build for every sum, Hadamard product, elementwise
    function and inverse (then compared with expr^T)."""
    from mdderiv.calculus.transposes import _foresee_push, _transpose_count, is_symmetric, push_transpose
    from mdderiv.expr import Elementwise, Hadamard, Inverse, Ones

    S = Symbol("S", ("n", "n"), frozenset({"symmetric"}))
    a = Symbol("a", ("n", 1))
    z = Symbol("z", ("n", 1))
    u = mul(A, x)
    samples: list[Expr] = [
        add(u, mul(num(-1), y)),
        add(mul(A, B), transpose(A)),
        add(A, transpose(A)),
        add(S, mul(transpose(B), S, B)),
        add(transpose(mul(A, x)), transpose(y)),
        hadamard(add(Elementwise("sigma", u, u.shape), mul(num(-1), y)), Elementwise("dsigma", u, u.shape)),
        hadamard(transpose(transpose(a)), z),
        Elementwise("exp", add(u, mul(s, a)), u.shape),
        Inverse(mul(transpose(A), B), ("n", "n")),
        Inverse(add(A, transpose(B)), ("n", "n")),
        add(mul(transpose(mul(A, B)), x), mul(A, Differential(x))),
        Hadamard(Ones(("n", 1)), x, x.shape),  # (hadamard would give x)
        add(mul(S, x), mul(num(2), a)),
    ]
    for expr in samples:
        if is_symmetric(expr):  # given back as it is, noted as symmetric
            assert _foresee_push(expr) == _transpose_count(expr)
            continue
        noted = RulesUsed()
        children = [push_transpose(c, noted) for c in expr.children()]
        if isinstance(expr, Add):
            built = add(*children)
        elif isinstance(expr, Inverse):
            built = Inverse(children[0], expr.shape[::-1])
        elif isinstance(expr, Elementwise):
            built = Elementwise(expr.fn, children[0], expr.shape[::-1])
        else:
            built = hadamard(*children)
        plain = _transpose_count(expr) + 1
        foreseen = _foresee_push(expr)
        if foreseen is None:  # a part a constructor drops: left to the long way
            continue
        assert foreseen == min(_transpose_count(built), plain), expr


def _kept_samples() -> list[Expr]:
    S = Symbol("S", ("n", "n"), frozenset({"symmetric"}))
    u = mul(A, x)
    return [
        add(u, mul(num(-1), y)),  # pushed: (A x - y)^T, the node transposed
        add(S, mul(transpose(B), S, B)),  # symmetric: the node itself
        add(mul(A, B), transpose(A)),
        transpose(add(mul(transpose(x), transpose(B)), mul(transpose(x), B))),
    ]


def test_kept_pushes_and_passes_give_what_a_fresh_tree_gives() -> None:
    """push_transpose and the simplifier's pass remember their results for the
    derivation: asking again gives an equal result and the same rules, as a
    fresh equal tree does (and as no memo at all does)."""
    from mdderiv.calculus.memo import derivation_memo
    from mdderiv.calculus.simplify import simplify
    from mdderiv.calculus.transposes import push_transpose

    kept_trees = _kept_samples()
    with derivation_memo() as memo:
        for _ in range(3):  # the first time computes, the next ones read what was kept
            fresh_trees = _kept_samples()
            for kept, fresh in zip(kept_trees, fresh_trees):
                rules, fresh_rules = RulesUsed(), RulesUsed()
                assert push_transpose(kept, rules) == push_transpose(fresh, fresh_rules)
                assert rules.ids() == fresh_rules.ids()
                rules, fresh_rules = RulesUsed(), RulesUsed()
                assert simplify(kept, rules) == simplify(fresh, fresh_rules)
                assert rules.ids() == fresh_rules.ids()
        assert memo.pushed and memo.passes
    for kept in kept_trees:
        rules, alone = RulesUsed(), RulesUsed()
        with derivation_memo():
            remembered = simplify(kept, rules)
        assert simplify(kept, alone) == remembered and alone.ids() == rules.ids()


def test_nodes_are_plain_values_with_their_facts_known_from_construction() -> None:
    """A node holds its fields and two facts worked out the first time they
    are asked for (its hash, whether a differential occurs in it); nothing
    else is added later, and a copy or a pickle is built again through the
    constructor."""
    import copy
    import pickle
    from dataclasses import FrozenInstanceError, fields

    import pytest

    dx = Differential(x)
    expr = add(trace(mul(transpose(x), A, dx)), mul(s, transpose(y), A, x))
    for node in expr.walk():  # (both facts known: they are all that is written later)
        hash(node), has_differential(node)
    def state(node: Expr) -> dict[str, object]:
        return {f.name: getattr(node, f.name) for f in fields(node)}

    before = {id(node): state(node) for node in expr.walk()}
    from mdderiv.calculus.memo import derivation_memo
    from mdderiv.calculus.simplify import simplify
    from mdderiv.calculus.transposes import push_transpose

    with derivation_memo():
        simplify(expr, RulesUsed())
        push_transpose(expr, RulesUsed())
    assert {id(node): state(node) for node in expr.walk()} == before  # nothing written on the nodes
    # the fields live in slots: there is no __dict__ to add anything else to
    assert all(not hasattr(node, "__dict__") for node in expr.walk())
    with pytest.raises((AttributeError, TypeError)):
        object.__setattr__(expr, "remembered", 1)
    with pytest.raises(FrozenInstanceError):
        expr.shape = (2, 2)  # type: ignore[misc]
    assert has_differential(expr) and not has_differential(mul(s, transpose(y), A, x))
    fresh = mul(s, transpose(y), A, dx)
    assert fresh.holds_differential is None and fresh.node_hash is None  # not asked yet
    assert has_differential(fresh) and fresh.holds_differential is True
    for again in (copy.deepcopy(expr), pickle.loads(pickle.dumps(expr))):
        assert again == expr and hash(again) == hash(expr) and again is not expr


def test_equality_is_the_same_whether_or_not_the_hashes_are_known() -> None:
    """``==`` compares the fields when a hash is not known yet (no hash is
    forced) and rejects by the hashes when both are: the same answers either
    way, and a hash once worked out is the one an equal new tree gets."""
    dx = Differential(x)

    def trees() -> list[Expr]:
        # built anew on each call: equal trees, no node shared between calls but the leaves
        return [
            add(trace(mul(transpose(x), A, dx)), mul(s, transpose(y), A, x)),
            add(trace(mul(transpose(x), A, dx)), mul(s, transpose(y), A, y)),
            mul(transpose(x), A, dx),
            mul(transpose(dx), A, x),
            transpose(mul(A, x)),
            transpose(mul(A, y)),
        ]

    fresh, hashed = trees(), trees()
    expected = [[i == j for j in range(len(fresh))] for i in range(len(fresh))]
    assert all(node.node_hash is None for tree in fresh for node in tree.walk() if node.children())
    assert [[a == b for b in trees()] for a in fresh] == expected  # fields compared
    assert all(node.node_hash is None for tree in fresh for node in tree.walk() if node.children())
    for tree in hashed:
        hash(tree)
    assert [[a == b for b in hashed] for a in trees()] == expected  # one hash known
    assert [[a == b for b in hashed] for a in hashed] == expected  # both known
    assert [hash(a) for a in fresh] == [hash(b) for b in hashed]


def test_a_derivation_builds_each_differential_once() -> None:
    """``differential_of`` gives one ``dX`` node per symbol while a derivation's
    memo is open (equal to a new one), and a new node outside one."""
    from mdderiv.calculus.differential import differential
    from mdderiv.calculus.memo import derivation_memo, differential_of

    with derivation_memo():
        dx = differential_of(x)
        assert dx == Differential(x) and differential_of(x) is dx and differential_of(y) is not dx
        d = differential(mul(transpose(x), A, x), frozenset({x}), RulesUsed())
        assert d is not None and all(n is dx for n in d.walk() if type(n) is Differential)
    assert differential_of(x) == dx and differential_of(x) is not differential_of(x)


def test_each_node_class_is_built_as_its_dataclass_declares() -> None:
    """The nodes' own ``__init__`` (slot stores) takes the dataclass's
    signature and leaves every field as the dataclass's ``__init__`` would:
    the values given, the declared defaults, the facts not yet known and what
    ``__post_init__`` works out."""
    import inspect
    from dataclasses import MISSING, fields

    from mdderiv.expr import GradientName, MatrixFunction, Number

    for cls in (Symbol, Number, MatMul, Differential, GradientName, MatrixFunction):
        declared = [f for f in fields(cls) if f.init]
        parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
        assert [p.name for p in parameters] == [f.name for f in declared]
        assert [p.default for p in parameters] == [
            inspect.Parameter.empty if f.default is MISSING else f.default for f in declared
        ]
    product = MatMul((x, transpose(y)), ("n", "n"))
    assert (product.factors, product.shape, product.tidy) == ((x, transpose(y)), ("n", "n"), False)
    assert product.node_hash is None and product.holds_differential is None
    assert Number(Fraction(3)).shape == (1, 1)
    assert Differential(x).shape == x.shape  # worked out by __post_init__
    assert GradientName("f", x, numerator=True).shape == (1, "n")
    assert MatrixFunction("exp", A, A.shape).exponent == Fraction(1)
    assert Symbol("z", (2, 1), index="i") == Symbol(name="z", shape=(2, 1), props=frozenset(), index="i")


def test_the_simplifier_skips_exactly_the_childless_node_classes_and_differentials() -> None:
    """The classes a pass does not enter are worked out from the node classes
    (no hand-kept list that a class gaining children could outgrow)."""
    from mdderiv import expr as nodes
    from mdderiv.calculus.simplify import _LEAVES

    classes = {
        value
        for value in vars(nodes).values()
        if isinstance(value, type) and issubclass(value, nodes.Expr) and value is not nodes.Expr
    }
    childless = {cls for cls in classes if cls.children is nodes.Expr.children}
    assert {nodes.Symbol, nodes.Number, nodes.Commutation, nodes.Zeros} <= childless
    assert childless | {nodes.Differential} == _LEAVES
    assert nodes.MatMul not in _LEAVES and nodes.Transpose not in _LEAVES


def test_rules_used_keeps_each_rule_once_in_the_order_first_noted() -> None:
    from mdderiv.calculus.citations import UNCITED
    from mdderiv.rules import RuleId

    used = RulesUsed()
    assert not used and used.ids() == ()
    used.note(RuleId.PRODUCT_RULE)
    used.note_all([RuleId.SUM_RULE, RuleId.PRODUCT_RULE, RuleId.TRANSPOSE_RULE])
    used.note(RuleId.SUM_RULE)
    assert used.ids() == (RuleId.PRODUCT_RULE, RuleId.SUM_RULE, RuleId.TRANSPOSE_RULE)
    assert list(used) == list(used.ids()) and len(used) == 3 and RuleId.SUM_RULE in used
    assert RulesUsed() is not RulesUsed()  # a fresh collector each time
    UNCITED.note(RuleId.SUM_RULE)
    UNCITED.note_all([RuleId.PRODUCT_RULE])
    assert not UNCITED and UNCITED.ids() == ()


def test_a_derivation_memo_is_current_inside_its_with_only() -> None:
    import pytest

    from mdderiv.calculus.memo import current_memo, derivation_memo

    assert current_memo() is None
    with derivation_memo() as outer:
        assert current_memo() is outer
        with derivation_memo() as inner:
            assert current_memo() is inner and inner is not outer
        assert current_memo() is outer
        with pytest.raises(ZeroDivisionError), derivation_memo():
            1 / 0  # noqa: B018
        assert current_memo() is outer
    assert current_memo() is None


def test_det_exp_rewrite_looks_only_where_a_matrix_function_is() -> None:
    from mdderiv.calculus.memo import derivation_memo
    from mdderiv.calculus.rewrite import rewrite_det_exp
    from mdderiv.expr import Det, Elementwise, MatrixFunction, elementwise

    X = Symbol("X", ("n", "n"))
    logdet = elementwise("log", Det(X))
    with derivation_memo():
        assert rewrite_det_exp(add(logdet, trace(mul(A, X)))) is None  # a determinant, no e^X
        entrywise = Det(Elementwise("exp", X, X.shape))  # e^X read entry by entry: no rule applies
        assert rewrite_det_exp(entrywise) is None
        rewritten = rewrite_det_exp(elementwise("log", Det(MatrixFunction("exp", X, X.shape))))
        assert rewritten is not None and rewritten[0] == trace(X)
