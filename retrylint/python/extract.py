"""libcst module → `ModuleSummary`: the only place that walks a Python syntax tree.

Speed is the design constraint here. Whole-tree metadata providers cost several times a parse
(see `bench/`), so this module walks only where tasks and their settings can be: module-level
statements (also inside `if`/`try`), class bodies and function bodies. Positions come from
running `PositionProvider` on one top-level statement at a time, and only for statements that
are kept; the line offset of each statement is counted once from the generated code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from retrylint.python import ir

_BINARY_OPS: dict[type[cst.BaseBinaryOp], str] = {
    cst.Add: "+",
    cst.Subtract: "-",
    cst.Multiply: "*",
    cst.Divide: "/",
    cst.FloorDivide: "//",
    cst.Modulo: "%",
    cst.Power: "**",
    cst.LeftShift: "<<",
    cst.BitOr: "|",
}
_UNARY_OPS: dict[type[cst.BaseUnaryOp], str] = {
    cst.Minus: "-",
    cst.Plus: "+",
    cst.Not: "not",
    cst.BitInvert: "~",
}
# Deeper expressions are kept as opaque text: nothing a retry option holds is this deep, and
# the limit keeps conversion linear on generated or hostile code.
_MAX_DEPTH = 60
_MAX_TEXT = 300


def dotted_name(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def _final_name(func: cst.BaseExpression) -> str | None:
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return None


class _Statement:
    """Positions for the nodes of one top-level statement, computed on first use."""

    def __init__(
        self,
        module: cst.Module,
        stmt: cst.SimpleStatementLine | cst.BaseCompoundStatement,
        line_offset: int,
    ) -> None:
        self._module = module
        self._stmt = stmt
        self._offset = line_offset
        self._ranges: Mapping[cst.CSTNode, CodeRange] | None = None

    def span(self, node: cst.CSTNode) -> ir.Span:
        if self._ranges is None:
            mini = cst.Module(
                body=[self._stmt],
                header=(),
                footer=(),
                encoding=self._module.encoding,
                default_indent=self._module.default_indent,
                default_newline=self._module.default_newline,
                has_trailing_newline=True,
            )
            self._ranges = MetadataWrapper(mini, unsafe_skip_copy=True).resolve(PositionProvider)
        rng = self._ranges[node]
        return ir.Span(
            rng.start.line + self._offset,
            rng.start.column + 1,
            rng.end.line + self._offset,
            rng.end.column + 1,
        )


@dataclass(frozen=True, slots=True)
class _Context:
    module: cst.Module
    stmt: _Statement
    # Whether the statement's text mentions any name an adapter asked for. Bodies of
    # undecorated functions in statements that do not are skipped: walking them is most of
    # the cost of a file, and nothing in them can matter.
    mentions_interesting: bool


class _Converter:
    """Converts libcst expressions of one statement into IR."""

    def __init__(self, ctx: _Context) -> None:
        self._ctx = ctx

    @property
    def mentions_interesting(self) -> bool:
        return self._ctx.mentions_interesting

    def text(self, node: cst.CSTNode) -> str:
        code = self._ctx.module.code_for_node(node).strip()
        if len(code) > _MAX_TEXT:
            return code[: _MAX_TEXT - 3] + "..."
        return code

    def span(self, node: cst.CSTNode) -> ir.Span:
        return self._ctx.stmt.span(node)

    def expr(self, node: cst.BaseExpression, depth: int = 0) -> ir.Expr:
        text, span = self.text(node), self.span(node)
        if depth > _MAX_DEPTH:
            return ir.Opaque(text, span)
        d = depth + 1
        if isinstance(node, cst.Integer | cst.Float):
            return ir.Const(node.evaluated_value, text, span)
        if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
            value = node.evaluated_value
            return ir.Const(value, text, span) if value is not None else ir.Opaque(text, span)
        if isinstance(node, cst.Name):
            if node.value in ("True", "False", "None"):
                return ir.Const(
                    {"True": True, "False": False, "None": None}[node.value], text, span
                )
            return ir.Ref(node.value, text, span)
        if isinstance(node, cst.Attribute):
            dotted = dotted_name(node)
            return ir.Ref(dotted, text, span) if dotted else ir.Opaque(text, span)
        if isinstance(node, cst.Call):
            return self.call(node, d)
        if isinstance(node, cst.Tuple | cst.List | cst.Set):
            kind = {cst.Tuple: "tuple", cst.List: "list", cst.Set: "set"}[type(node)]
            return ir.Seq(kind, tuple(self._element(e, d) for e in node.elements), text, span)
        if isinstance(node, cst.Dict):
            items: list[tuple[ir.Expr | None, ir.Expr]] = []
            for el in node.elements:
                if isinstance(el, cst.DictElement):
                    items.append((self.expr(el.key, d), self.expr(el.value, d)))
                else:
                    items.append((None, self.expr(el.value, d)))
            return ir.DictExpr(tuple(items), text, span)
        if isinstance(node, cst.BinaryOperation) and type(node.operator) in _BINARY_OPS:
            op = _BINARY_OPS[type(node.operator)]
            return ir.BinOp(op, self.expr(node.left, d), self.expr(node.right, d), text, span)
        if isinstance(node, cst.UnaryOperation):
            op = _UNARY_OPS[type(node.operator)]
            return ir.Unary(op, self.expr(node.expression, d), text, span)
        if isinstance(node, cst.Subscript) and len(node.slice) == 1:
            index = node.slice[0].slice
            if isinstance(index, cst.Index):
                return ir.Subscript(self.expr(node.value, d), self.expr(index.value, d), text, span)
        return ir.Opaque(text, span)

    def _element(self, el: cst.BaseElement, depth: int) -> ir.Expr:
        if isinstance(el, cst.StarredElement):
            return ir.Starred(self.expr(el.value, depth), self.text(el), self.span(el))
        return self.expr(el.value, depth)

    def call(self, node: cst.Call, depth: int = 0) -> ir.Call:
        args: list[ir.Expr] = []
        kwargs: list[ir.Kwarg] = []
        for arg in node.args:
            value = self.expr(arg.value, depth + 1)
            if arg.keyword is not None:
                kwargs.append(ir.Kwarg(arg.keyword.value, value))
            elif arg.star == "**":
                kwargs.append(ir.Kwarg(None, value))
            elif arg.star == "*":
                args.append(ir.Starred(value, self.text(arg), self.span(arg)))
            else:
                args.append(value)
        return ir.Call(
            self.expr(node.func, depth + 1),
            tuple(args),
            tuple(kwargs),
            self.text(node),
            self.span(node),
        )


class _BodyCollector(cst.CSTVisitor):
    """Collects calls, raises, returns and local bindings of one function body.

    Nested functions and classes are not entered here; the extractor visits them as
    definitions of their own so their decorators are seen.
    """

    def __init__(self, conv: _Converter, params: frozenset[str], interesting: frozenset[str]):
        self.conv = conv
        self.params = params
        self.interesting = interesting
        self.calls: list[ir.Call] = []
        self.raises: list[ir.Raise] = []
        self.returns: list[ir.Expr] = []
        self.locals: list[ir.Binding] = []
        self.nested: list[cst.FunctionDef | cst.ClassDef] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.nested.append(node)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.nested.append(node)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Call(self, node: cst.Call) -> bool:
        if self._wanted(node):
            self.calls.append(self.conv.call(node))
        return True

    def _wanted(self, node: cst.Call) -> bool:
        name = _final_name(node.func)
        if name is not None and name in self.interesting:
            return True
        # A helper that receives a parameter (`handle_failure(self, exc)`) may retry for us.
        return any(
            isinstance(a.value, cst.Name) and a.value.value in self.params for a in node.args
        )

    def visit_Raise(self, node: cst.Raise) -> bool:
        if node.exc is not None:
            self.raises.append(ir.Raise(self.conv.expr(node.exc), self.conv.span(node)))
        return True

    def visit_Return(self, node: cst.Return) -> bool:
        if node.value is not None:
            self.returns.append(self.conv.expr(node.value))
        return True

    def visit_Assign(self, node: cst.Assign) -> bool:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            target = node.targets[0].target.value
            self.locals.append(ir.Binding(target, self.conv.expr(node.value), self.conv.span(node)))
        return True


@dataclass
class _Sink:
    imports: list[ir.Import]
    bindings: list[ir.Binding]
    calls: list[ir.Call]
    functions: list[ir.Function]
    classes: list[ir.Class]


class Extractor:
    """Reads one parsed module into a `ModuleSummary`."""

    def __init__(
        self, module: cst.Module, path: str, dotted: str, interesting: frozenset[str]
    ) -> None:
        self._module = module
        self._path = path
        self._dotted = dotted
        self._interesting = interesting
        self._package = dotted if path.endswith("__init__.py") else dotted.rpartition(".")[0]

    def summary(self, suppressions: tuple[ir.Suppression, ...] = ()) -> ir.ModuleSummary:
        sink = _Sink([], [], [], [], [])
        offset = sum(self._module.code_for_node(line).count("\n") for line in self._module.header)
        words = re.compile(r"\b(?:%s)\b" % "|".join(sorted(map(re.escape, self._interesting))))
        for stmt in self._module.body:
            code = self._module.code_for_node(stmt)
            statement = _Statement(self._module, stmt, offset)
            ctx = _Context(self._module, statement, bool(words.search(code)))
            self._statement(stmt, _Converter(ctx), sink, "")
            offset += code.count("\n")
        return ir.ModuleSummary(
            path=self._path,
            module=self._dotted,
            imports=tuple(sink.imports),
            bindings=tuple(sink.bindings),
            calls=tuple(sink.calls),
            functions=tuple(sink.functions),
            classes=tuple(sink.classes),
            suppressions=suppressions,
        )

    # -- module level ---------------------------------------------------------------------

    def _statement(self, stmt: cst.CSTNode, conv: _Converter, sink: _Sink, prefix: str) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self._small(small, conv, sink)
        elif isinstance(stmt, cst.FunctionDef):
            self._function(stmt, conv, sink.functions, prefix)
        elif isinstance(stmt, cst.ClassDef):
            sink.classes.extend(self._class(stmt, conv, sink.functions, prefix))
        elif isinstance(stmt, cst.If | cst.Try | cst.TryStar | cst.With | cst.Else | cst.Finally):
            for child in _blocks(stmt):
                self._statement(child, conv, sink, prefix)

    def _small(self, small: cst.BaseSmallStatement, conv: _Converter, sink: _Sink) -> None:
        if isinstance(small, cst.Import | cst.ImportFrom):
            sink.imports.extend(self._imports(small, conv))
        elif isinstance(small, cst.Assign):
            value = conv.expr(small.value)
            for target in small.targets:
                for name in _target_names(target.target):
                    sink.bindings.append(ir.Binding(name, value, conv.span(small)))
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            annotated = dotted_name(small.target)
            if annotated:
                value = conv.expr(small.value)
                sink.bindings.append(ir.Binding(annotated, value, conv.span(small)))
        elif isinstance(small, cst.AugAssign):
            augmented = dotted_name(small.target)
            if augmented:
                # Recorded as a rebinding so that an augmented constant is never trusted.
                value = conv.expr(small.value)
                sink.bindings.append(ir.Binding(augmented, value, conv.span(small)))
        elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            sink.calls.append(conv.call(small.value))

    def _imports(self, node: cst.Import | cst.ImportFrom, conv: _Converter) -> Iterable[ir.Import]:
        span = conv.span(node)
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = dotted_name(alias.name) or ""
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    yield ir.Import(alias.asname.name.value, full, span)
                else:
                    head = full.split(".")[0]
                    yield ir.Import(head, head, span)
            return
        base = (dotted_name(node.module) or "") if node.module is not None else ""
        if node.relative:
            package = self._package.split(".") if self._package else []
            up = len(node.relative) - 1
            package = package[: len(package) - up] if up else package
            base = ".".join([*package, base] if base else package)
        if isinstance(node.names, cst.ImportStar):
            # Settings modules lean on `from .base import *`; lookups follow it.
            yield ir.Import("*", base, span)
            return
        for alias in node.names:
            name = dotted_name(alias.name) or ""
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            yield ir.Import(local, f"{base}.{name}" if base else name, span)

    # -- definitions ----------------------------------------------------------------------

    def _function(
        self, node: cst.FunctionDef, conv: _Converter, out: list[ir.Function], prefix: str
    ) -> ir.Function:
        params = tuple(p.name.value for p in (*node.params.posonly_params, *node.params.params))
        collector = _BodyCollector(conv, frozenset(params), self._interesting)
        if node.decorators or conv.mentions_interesting:
            node.body.visit(collector)
        qualname = f"{prefix}{node.name.value}"
        func = ir.Function(
            name=node.name.value,
            qualname=qualname,
            params=params,
            decorators=tuple(conv.expr(d.decorator) for d in node.decorators),
            span=_def_span(conv, node),
            name_span=conv.span(node.name),
            calls=tuple(collector.calls),
            raises=tuple(collector.raises),
            returns=tuple(collector.returns),
            locals=tuple(collector.locals),
            is_async=node.asynchronous is not None,
        )
        out.append(func)
        for nested in collector.nested:
            if isinstance(nested, cst.FunctionDef):
                self._function(nested, conv, out, f"{qualname}.<locals>.")
            else:
                self._class(nested, conv, out, f"{qualname}.<locals>.")
        return func

    def _class(
        self, node: cst.ClassDef, conv: _Converter, functions: list[ir.Function], prefix: str
    ) -> Iterable[ir.Class]:
        qualname = f"{prefix}{node.name.value}"
        attributes: list[ir.Binding] = []
        methods: list[ir.Function] = []
        inner: list[ir.Class] = []
        for stmt in _blocks(node):
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign):
                        value = conv.expr(small.value)
                        for target in small.targets:
                            for name in _target_names(target.target):
                                attributes.append(ir.Binding(name, value, conv.span(small)))
                    elif isinstance(small, cst.AnnAssign) and small.value is not None:
                        annotated = dotted_name(small.target)
                        if annotated:
                            value = conv.expr(small.value)
                            attributes.append(ir.Binding(annotated, value, conv.span(small)))
            elif isinstance(stmt, cst.FunctionDef):
                own: list[ir.Function] = []
                methods.append(self._function(stmt, conv, own, f"{qualname}."))
                functions.extend(own[1:])  # functions nested inside the method
            elif isinstance(stmt, cst.ClassDef):
                inner.extend(self._class(stmt, conv, functions, f"{qualname}."))
        yield ir.Class(
            name=node.name.value,
            qualname=qualname,
            bases=tuple(conv.expr(a.value) for a in node.bases if a.keyword is None),
            decorators=tuple(conv.expr(d.decorator) for d in node.decorators),
            attributes=tuple(attributes),
            methods=tuple(methods),
            span=_def_span(conv, node),
            name_span=conv.span(node.name),
        )
        yield from inner


def _def_span(conv: _Converter, node: cst.FunctionDef | cst.ClassDef) -> ir.Span:
    """The span of the `def`/`class` line itself, after any decorators."""
    name = conv.span(node.name)
    start = conv.span(node)
    if node.decorators:
        return ir.Span(name.line, 1, start.end_line, start.end_column)
    return start


def _blocks(node: cst.CSTNode) -> Sequence[cst.CSTNode]:
    """The statements directly inside a compound statement, branches included."""
    out: list[cst.CSTNode] = []
    body = getattr(node, "body", None)
    if isinstance(body, cst.IndentedBlock | cst.SimpleStatementSuite):
        out.extend(body.body)
    for attr in ("orelse", "finalbody"):
        branch = getattr(node, attr, None)
        if branch is not None:
            out.append(branch)
    for handler in getattr(node, "handlers", ()):
        out.extend(_blocks(handler))
    return out


def _target_names(target: cst.BaseExpression) -> Iterable[str]:
    if isinstance(target, cst.Tuple | cst.List):
        for el in target.elements:
            yield from _target_names(el.value)
        return
    name = dotted_name(target)
    if name:
        yield name


def extract(
    module: cst.Module,
    path: str,
    dotted: str,
    interesting: frozenset[str],
    suppressions: tuple[ir.Suppression, ...] = (),
) -> ir.ModuleSummary:
    return Extractor(module, path, dotted, interesting).summary(suppressions)
