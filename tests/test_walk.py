"""The extractor's own tree walk and statement printer, checked against libcst's public API.

`retrylint.python.walk` replaces `CSTNode.visit` and `_Statement` replaces per-node
`code_for_node` plus text search; both lean on how libcst prints and orders nodes (the printer
is private API). These tests pin that down on source using every kind of syntax, so a libcst
upgrade that changes it fails here rather than moving findings in silence.
"""

from __future__ import annotations

from textwrap import dedent
from typing import Any

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from retrylint.python import ir
from retrylint.python.extract import _Statement, extract
from retrylint.python.walk import walk

EVERYTHING = dedent(
    '''\
    """Docstring."""
    from __future__ import annotations
    import os.path as osp, sys
    from ..pkg import (a as b, c)
    from . import *

    X: int = 1 + 2 * -3 ** 4 // 5 % 6 << 7 | 8 & 9 ^ 10
    y = z = [1, *rest, (2, 3), {4, 5}, {"k": v, **more}]
    w = f"{x!r:>{width}} {y=} {{}}" "more" 'text'
    q = a if b else c
    r = lambda p, /, q=1, *args, k, m=2, **kw: p + q
    s = [i for i in range(3) if i for j in "ab"] + list(k for k in ())
    t = {k: v for k, v in d.items()}
    u = {e async for e in g()} if False else None
    v = obj.attr[1:2:3, ...][::-1]
    n = (yield_ := 5)
    del t[0], u
    assert x, "message"
    global_value = not x and y or z is not None in w


    @decorator
    @decorator.with_args(1, key=os.environ["A"])
    class Thing(Base, metaclass=Meta):
        attribute: int = 3
        other = attribute

        async def method(self, a, b: int = 2, *, c, **kw) -> None:
            global g
            try:
                await call(a, *b, c=c, **kw)
            except* ValueError as err:
                raise Other() from err
            async with ctx() as value, other:
                async for item in stream():
                    yield item
            return (await thing.retry(countdown=value))

        @property
        def prop(self):
            while self.x:
                if self.y:
                    continue
                elif self.z:
                    break
                else:
                    pass
            else:
                return None
            with open("f") as handle:
                return handle.read()


    def function(task, retries=3, /, *args, option=None, **options):
        nonlocal_value = 1

        def inner():
            nonlocal nonlocal_value
            return task.apply_async(countdown=retries, **options)

        try:
            result = inner()
        except (KeyError, IndexError) as exc:
            raise task.retry(exc=exc, max_retries=retries)
        else:
            result += 1
        finally:
            cleanup()
        match result:
            case {"key": value, **rest}:
                pass
            case Point(x=0, y=yy) | [1, 2, *others] if yy > 0:
                pass
            case 1 | "two" | None as name:
                pass
            case _:
                pass
        for index, (left, right) in enumerate(pairs):
            print(index, left, right, sep="")
        return result
    '''
)


class _Recorder:
    """A visitor with a `visit_`/`leave_` hook for every node class: records the walk."""

    def __init__(self, stop: frozenset[str] = frozenset()) -> None:
        self.events: list[tuple[str, int]] = []
        self.stop = stop

    def __getattr__(self, name: str) -> Any:  # only reached for hooks not defined
        raise AttributeError(name)


def _recording_class() -> type[_Recorder]:
    def visit(self: _Recorder, node: cst.CSTNode) -> bool:
        self.events.append(("visit", id(node)))
        return type(node).__name__ not in self.stop

    def leave(self: _Recorder, node: cst.CSTNode) -> None:
        self.events.append(("leave", id(node)))

    hooks: dict[str, Any] = {}
    for name in dir(cst):
        kind = getattr(cst, name)
        if isinstance(kind, type) and issubclass(kind, cst.CSTNode):
            hooks[f"visit_{name}"] = visit
            hooks[f"leave_{name}"] = leave
    return type("Recording", (_Recorder,), hooks)


class _LibcstOrder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.nodes: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.nodes.append(node)
        return True


def test_walk_visits_code_nodes_in_libcsts_order() -> None:
    module = cst.parse_module(EVERYTHING)
    reference = _LibcstOrder()
    module.visit(reference)
    ours = _recording_class()()
    walk(module, ours)
    visited = [node_id for event, node_id in ours.events if event == "visit"]
    assert len(visited) == len(set(visited))
    seen = set(visited)
    # Same relative order as libcst, on the nodes both visit...
    assert [id(n) for n in reference.nodes if id(n) in seen] == visited
    # ...and what the walk leaves out is only layout and punctuation, never code.
    skipped = [n for n in reference.nodes if id(n) not in seen]
    code = (cst.BaseExpression, cst.BaseStatement, cst.BaseSmallStatement, cst.BaseSuite)
    assert skipped and not [n for n in skipped if isinstance(n, code)]
    assert {type(n).__name__ for n in reference.nodes if id(n) in seen} >= {
        "AsName",
        "ExceptStarHandler",
        "ImportAlias",
        "MatchCase",
        "Param",
        "Lambda",
        "CompFor",
        "FormattedStringExpression",
    }


def test_false_from_visit_skips_children_but_still_leaves() -> None:
    module = cst.parse_module("def f(a):\n    return g(a)\n\nx = h(1)\n")
    ours = _recording_class()(stop=frozenset({"FunctionDef"}))
    walk(module, ours)
    function = module.body[0]
    assert isinstance(function, cst.FunctionDef)
    events = ours.events
    at = events.index(("visit", id(function)))
    assert events[at + 1] == ("leave", id(function))  # nothing under it was entered
    assert ("visit", id(function.name)) not in events
    call = module.body[1]
    assert isinstance(call, cst.SimpleStatementLine)
    assert ("visit", id(call)) in events


def test_walk_of_deep_nesting_does_not_recurse() -> None:
    module = cst.parse_module("x = " + "-" * 3000 + "1\n")
    ours = _recording_class()()
    walk(module, ours)
    assert len(ours.events) > 6000


def _statement_nodes(stmt: cst.CSTNode) -> list[cst.CSTNode]:
    collected: list[cst.CSTNode] = []

    class Collect(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            collected.append(node)
            return True

    stmt.visit(Collect())
    return collected


def test_statement_text_and_position_match_libcst() -> None:
    module = cst.parse_module(EVERYTHING)
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    offset = 0
    checked = 0
    for stmt in module.body:
        statement = _Statement(module, stmt, offset)
        assert statement.code == module.code_for_node(stmt)
        for node in _statement_nodes(stmt):
            if not isinstance(node, cst.BaseExpression) or getattr(node, "lpar", ()):
                continue  # libcst's syntactic position leaves a node's parentheses out
            text, start, end = statement.text_of(node)
            assert text == module.code_for_node(node).strip()
            span = statement.span(start, end)
            where = positions[node]
            assert (span.line, span.column - 1) == (where.start.line, where.start.column)
            if not text.endswith(","):  # a starred element prints its comma, libcst's span not
                assert (span.end_line, span.end_column - 1) == (where.end.line, where.end.column)
            checked += 1
        offset += statement.code.count("\n")
    assert checked > 250


def _summary(source: str) -> ir.ModuleSummary:
    interest = ir.Interest(frozenset({"apply_async", "retry", "Worker"}), frozenset({"retries"}))
    return extract(cst.parse_module(dedent(source)), "m.py", "m", interest)


def test_a_keyword_passing_a_same_named_value_points_at_the_value() -> None:
    summary = _summary(
        """\
        def main(client, retry):
            Worker(client, retry=retry)
        """
    )
    (call,) = summary.functions[0].calls
    (kwarg,) = call.kwargs
    assert isinstance(kwarg.value, ir.Ref)
    assert (kwarg.value.span.line, kwarg.value.span.column) == (2, 26)


@pytest.mark.parametrize("indent", ["", "    "])
def test_a_local_binding_is_located_at_its_own_value(indent: str) -> None:
    body = dedent(
        """\
        def configure(task, retries=5):
            '''retries'''
            task.retries = retries
            task.apply_async(countdown=retries)
        """
    )
    source = (
        "class Holder:\n" + "".join(indent + line + "\n" for line in body.splitlines())
        if indent
        else body
    )
    summary = _summary(source)
    functions = summary.classes[0].methods if indent else summary.functions
    (binding,) = [b for b in functions[0].locals if b.target == "task.retries"]
    line = 4 if indent else 3
    assert (binding.value.span.line, binding.value.span.column) == (line, 20 + len(indent))


def test_multi_line_text_is_printed_without_the_blocks_indentation() -> None:
    summary = _summary(
        """\
        class Holder:
            def run(self):
                if True:
                    self.retry(
                        countdown=1,
                    )
        """
    )
    (call,) = summary.classes[0].methods[0].calls
    assert call.text == "self.retry(\n    countdown=1,\n)"
    assert (call.span.line, call.span.column, call.span.end_line) == (4, 13, 6)
