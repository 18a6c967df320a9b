"""Sizes the author left out: unknown dimensions ``?k`` (of ``\\mathbf{1}``,
``I``, ``\\mathbf{0}`` without a size) and what they are found equal to, for
the shape checker (``shapes.py``); and how a shape is written in messages."""

from __future__ import annotations

from typing import TypeGuard

from .expr import Dim, Shape


def format_shape(shape: Shape) -> str:
    """``m×n`` (unknown sizes print as ``?``)."""
    return "×".join("?" if is_unknown(d) else str(d) for d in shape)


def is_unknown(d: Dim) -> TypeGuard[str]:
    """Whether ``d`` is an unknown size ``?k``."""
    return isinstance(d, str) and d.startswith("?")


class Unifier:
    """Unknown dimensions ``?k`` and what they have been found equal to.

    A *soft* unknown is the column count of a bare ``\\mathbf{1}``/``\\mathbf{0}``:
    it defaults to 1 (a column vector) when nothing else decides it.
    """

    def __init__(self) -> None:
        self.parent: dict[str, Dim] = {}
        self.origin: dict[str, tuple[int, str]] = {}  # var → (pos, what)
        self.soft: set[str] = set()
        self.count = 0

    def fresh(self, pos: int, what: str, soft: bool = False) -> str:
        self.count += 1
        var = f"?{self.count}"
        self.origin[var] = (pos, what)
        if soft:
            self.soft.add(var)
        return var

    def find(self, d: Dim) -> Dim:
        if d not in self.parent:  # a known size, or an unknown that is its own root
            return d
        root: Dim = d
        while isinstance(root, str) and root in self.parent:
            root = self.parent[root]
        while isinstance(d, str) and d in self.parent and self.parent[d] != root:  # compress
            self.parent[d], d = root, self.parent[d]
        return root

    def unify(self, a: Dim, b: Dim) -> bool:
        if a == b and a not in self.parent:
            return True  # (the usual case: equal known sizes, no call to find)
        a, b = self.find(a), self.find(b)
        if a == b:
            return True
        if isinstance(a, str) and isinstance(b, str) and "*" in a and "*" in b:
            # m·n and n·m: one size (a vec against a Kronecker product)
            return sorted(a.split("*")) == sorted(b.split("*"))
        if is_unknown(a) and is_unknown(b):
            assert isinstance(a, str) and isinstance(b, str)
            if a in self.soft:  # the firmer unknown stays the root
                self.parent[a] = b
            else:
                self.parent[b] = a
            return True
        if is_unknown(a):
            assert isinstance(a, str)
            self.parent[a] = b
            return True
        if is_unknown(b):
            assert isinstance(b, str)
            self.parent[b] = a
            return True
        return False

    def shape(self, shape: Shape) -> Shape:
        parent = self.parent
        rows, cols = shape
        if rows not in parent and cols not in parent:
            return shape  # (the usual shape: no unknown that was found equal to something)
        return (self.find(rows), self.find(cols))

    def make_scalar(self, shape: Shape) -> bool:
        """Make a shape 1×1 by settling soft unknowns, if that is possible."""
        dims = [self.find(d) for d in shape]
        if all(d == 1 or (isinstance(d, str) and d in self.soft) for d in dims):
            for d in dims:
                if d != 1:
                    self.unify(d, 1)
            return True
        return False
