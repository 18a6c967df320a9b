"""Reading a derive block: its lines (:mod:`.block`), declarations
(:mod:`.declarations`) and LaTeX expressions (:mod:`.latex`, over the tokens of
:mod:`.tokens` and the names of :mod:`.names`) into parse trees (:mod:`.nodes`).  :func:`mdderiv.parse.parse_problem` puts them together."""

from .latex import parse_expression
from .names import parse_name, safe_identifier
from .nodes import NameRef, Node, Source

__all__ = ["NameRef", "Node", "Source", "parse_expression", "parse_name", "safe_identifier"]
