"""A static bound on what a CEL expression can cost, checked when a tran code is created.

CEL has no loops, but its comprehension macros (``map``, ``filter``, ``all``, ``exists``,
``exists_one``) iterate over lists, and nesting them multiplies: three nested maps over a
60-element JSON param take a minute in the reference engine, stalling the partition that
evaluates them. The catalog therefore refuses expressions that nest comprehensions, and JSON
params are bounded in size, so one evaluation iterates at most a bounded number of times.
"""

from __future__ import annotations

from functools import cache

from celpy.celparser import CELParseError, CELParser
from lark import Token, Tree

__all__ = ["COMPREHENSION_DEPTH_MAX", "comprehension_depth"]

COMPREHENSION_DEPTH_MAX = 1
_MACROS = frozenset({"map", "filter", "all", "exists", "exists_one"})


@cache
def _parser() -> CELParser:
    return CELParser()


def comprehension_depth(source: str) -> int:
    """How deeply comprehension macros nest in ``source`` (0 when it has none or no parse)."""
    try:
        tree = _parser().parse(source)
    except CELParseError:
        return 0
    return _depth(tree)


def _depth(node: Tree[Token] | Token) -> int:
    if not isinstance(node, Tree):
        return 0
    if node.data == "member_dot_arg" and len(node.children) >= 2:
        target, name, *arguments = node.children
        inner = max((_depth(argument) for argument in arguments), default=0)
        own = 1 if isinstance(name, Token) and str(name) in _MACROS else 0
        return max(_depth(target), own + inner)
    return max((_depth(child) for child in node.children), default=0)
