"""A read-only pre-order walk of a libcst tree, several times cheaper than `CSTNode.visit`.

libcst's own traversal serves transformers too: for every node it visits it rebuilds the node
from its visited children (dataclass construction and validation included) and looks its
hooks up by name. A summary only reads the tree, and walking function bodies was most of the
cost of extraction. This walk keeps libcst's contract for what the extractor uses: a
`visit_<Node>` method is called on entering a node (returning False skips its children), a
`leave_<Node>` method on leaving it (even when its children were skipped), children in source
order. It does not descend into whitespace, comments or punctuation, which hold no code;
`tests/test_walk.py` checks the order and coverage against libcst's traversal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import libcst as cst

_Hook = Callable[[Any, Any], object]

# Fields holding only layout or punctuation: never code a visitor can care about.
_TOKENS = frozenset(
    {
        "asynchronous",
        "colon",
        "comma",
        "dot",
        "equal",
        "first_colon",
        "footer",
        "header",
        "lbrace",
        "lbracket",
        "leading_lines",
        "lines_after_decorators",
        "lpar",
        "operator",
        "posonly_ind",
        "rbrace",
        "rbracket",
        "relative",
        "rpar",
        "second_colon",
        "semicolon",
        "separator",
        "trailing_comma",
        "trailing_whitespace",
    }
)
# Where a node's dataclass fields are not in source order, the order its code is printed in.
_SOURCE_ORDER: dict[type[cst.CSTNode], tuple[str, ...]] = {
    cst.Arg: ("keyword", "value"),
    cst.ClassDef: ("decorators", "name", "type_parameters", "bases", "keywords", "body"),
    cst.ExceptHandler: ("type", "name", "body"),
    cst.ExceptStarHandler: ("type", "name", "body"),
    cst.FunctionDef: ("decorators", "name", "type_parameters", "params", "returns", "body"),
    cst.IfExp: ("body", "test", "orelse"),
    cst.MatchCase: ("pattern", "guard", "body"),
    cst.Parameters: ("posonly_params", "params", "star_arg", "kwonly_params", "star_kwarg"),
    cst.TypeAlias: ("name", "type_parameters", "value"),
}

_FIELDS: dict[type[cst.CSTNode], tuple[str, ...]] = {}
_HOOKS: dict[tuple[type[object], type[cst.CSTNode]], tuple[_Hook | None, _Hook | None]] = {}


def _fields(kind: type[cst.CSTNode]) -> tuple[str, ...]:
    names = _SOURCE_ORDER.get(kind)
    if names is None:
        names = tuple(
            f.name
            for f in dataclasses.fields(kind)
            if f.name not in _TOKENS and not f.name.startswith("whitespace")
        )
    _FIELDS[kind] = names
    return names


def _hooks(visitor: type[object], kind: type[cst.CSTNode]) -> tuple[_Hook | None, _Hook | None]:
    found = (
        getattr(visitor, f"visit_{kind.__name__}", None),
        getattr(visitor, f"leave_{kind.__name__}", None),
    )
    _HOOKS[visitor, kind] = found
    return found


def walk(root: cst.CSTNode, visitor: object) -> None:
    """Visit `root` and everything under it, in pre-order, calling `visitor`'s hooks."""
    owner = type(visitor)
    # An explicit stack: a deeply nested expression must not exhaust the interpreter's.
    stack: list[tuple[cst.CSTNode, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        kind = type(node)
        visit, leave = _HOOKS.get((owner, kind)) or _hooks(owner, kind)
        if leaving:
            if leave is not None:
                leave(visitor, node)
            continue
        descend = visit is None or visit(visitor, node) is not False
        if leave is not None:
            stack.append((node, True))
        if not descend:
            continue
        children: list[cst.CSTNode] = []
        names = _FIELDS.get(kind)
        for name in names if names is not None else _fields(kind):
            value = getattr(node, name)
            if isinstance(value, cst.CSTNode):
                children.append(value)
            elif isinstance(value, tuple | list):
                children.extend(v for v in value if isinstance(v, cst.CSTNode))
        stack.extend((child, False) for child in reversed(children))
