"""libcst module → `ModuleSummary`: the only place that walks a Python syntax tree.

Speed is the design constraint here. Whole-tree metadata providers cost several times a parse
(see `bench/`), so this module walks only where tasks and their settings can be: module-level
statements (also inside `if`/`try`), class bodies and function bodies, with a read-only walk
(`retrylint.python.walk`) instead of libcst's rebuilding traversal. Texts and positions come
from printing each top-level statement once while noting where every node's code lies.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

import libcst as cst
from libcst._nodes.internal import CodegenState

from retrylint.python import ir
from retrylint.python.assemble import MAX_DEPTH, RELATIVE, Sink, assemble, clip, kept_locals
from retrylint.python.walk import walk

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
    cst.BitAnd: "&",
}
_UNARY_OPS: dict[type[cst.BaseUnaryOp], str] = {
    cst.Minus: "-",
    cst.Plus: "+",
    cst.Not: "not",
    cst.BitInvert: "~",
}


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


class _Recorder(CodegenState):
    """Prints code as `Module.code_for_node` does, noting which tokens each node printed and
    which tokens are indentation (the hooks libcst's own `PositionProvider` overrides)."""

    def __init__(self, module: cst.Module) -> None:
        super().__init__(
            default_indent=module.default_indent, default_newline=module.default_newline
        )
        # Per node: its first token and how many indentation levels were open there.
        self.starts: dict[int, tuple[int, int]] = {}
        self.ends: dict[int, int] = {}
        # Where indentation was printed, and how many levels (one token each).
        self.indents: list[tuple[int, int]] = []

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.starts.setdefault(id(node), (len(self.tokens), len(self.indent_tokens)))

    def after_codegen(self, node: cst.CSTNode) -> None:
        self.ends.setdefault(id(node), len(self.tokens))

    def add_indent_tokens(self) -> None:
        if self.indent_tokens:
            self.indents.append((len(self.tokens), len(self.indent_tokens)))
        super().add_indent_tokens()


class _Statement:
    """The code of one top-level statement and where each of its nodes lies in it.

    libcst computes positions only by regenerating the whole tree with position tracking, and
    `code_for_node` prints a node again each time its text is asked for: together several
    parses on a large class. Instead each top-level statement is printed once, with a printer
    that notes where each node's tokens start and end, so a node's position is exact and its
    text a slice. libcst's printer is private API (`CodegenState`); `tests/test_walk.py`
    checks positions and texts against libcst's public `PositionProvider` and `code_for_node`.
    """

    def __init__(self, module: cst.Module, stmt: cst.CSTNode, line_offset: int) -> None:
        state = _Recorder(module)
        stmt._codegen(state)
        self._module = module
        self._tokens = state.tokens
        self._starts = state.starts
        self._ends = state.ends
        self._indents = state.indents
        self.code = "".join(state.tokens)
        self._offset = line_offset
        self._chars: list[int] | None = None
        self._line_starts: list[int] | None = None

    def text_of(self, node: cst.CSTNode) -> tuple[str, int, int]:
        """The node's code as `code_for_node` prints it, without surrounding whitespace, and
        where that code starts and ends in the statement."""
        first = self._starts.get(id(node))
        if first is None:  # not printed by this statement: searched for instead
            text = self._module.code_for_node(node).strip()
            start = max(self.code.find(text), 0)
            return text, start, start + len(text)
        if self._chars is None:
            self._chars = list(itertools.accumulate(map(len, self._tokens), initial=0))
        (token, depth), last = first, self._ends[id(node)]
        start, end = self._chars[token], self._chars[last]
        raw = self.code[start:end]
        lead = len(raw) - len(raw.lstrip())
        start, end = start + lead, end - (len(raw) - lead - len(raw.strip()))
        if not depth or "\n" not in raw:
            return raw.strip(), start, end
        # Printed on its own, a node has none of the indentation of the blocks around it.
        dropped = {
            at + level
            for at, levels in self._indents[bisect.bisect_left(self._indents, (token, 0)) :]
            if at < last
            for level in range(min(depth, levels))
        }
        own = "".join(t for i, t in enumerate(self._tokens[token:last], token) if i not in dropped)
        return own.strip(), start, end

    def span(self, start: int, end: int) -> ir.Span:
        return ir.Span(*self._point(start), *self._point(end))

    def _point(self, index: int) -> tuple[int, int]:
        if self._line_starts is None:
            self._line_starts = [0, *(m.end() for m in _NEWLINE.finditer(self.code))]
        row = bisect.bisect_right(self._line_starts, index) - 1
        return self._offset + row + 1, index - self._line_starts[row] + 1


_NEWLINE = re.compile("\n")


class _Converter:
    """Converts libcst expressions of one statement into IR."""

    def __init__(self, stmt: _Statement) -> None:
        self._stmt = stmt

    def text(self, node: cst.CSTNode) -> str:
        return clip(self._stmt.text_of(node)[0])

    def located(self, node: cst.CSTNode) -> tuple[str, ir.Span]:
        """The node's text (clipped) and span."""
        full, start, end = self._stmt.text_of(node)
        return clip(full), self._stmt.span(start, end)

    def span(self, node: cst.CSTNode) -> ir.Span:
        return self.located(node)[1]

    def expr(self, node: cst.BaseExpression, depth: int = 0) -> ir.Expr:
        text, span = self.located(node)
        return self._expr(node, text, span, depth)

    def _expr(self, node: cst.BaseExpression, text: str, span: ir.Span, depth: int) -> ir.Expr:
        if depth > MAX_DEPTH:
            return ir.Opaque(text, span)
        d = depth + 1
        if isinstance(node, cst.Integer | cst.Float):
            try:
                return ir.Const(node.evaluated_value, text, span)
            except (ValueError, SyntaxError):  # over the interpreter's 4,300 digits
                return ir.Opaque(text, span)
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
            return self._call(node, text, span, d)
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
        if isinstance(node, cst.FormattedString):
            return self._fstring(node, text, span, d)
        if isinstance(node, cst.Subscript) and len(node.slice) == 1:
            index = node.slice[0].slice
            if isinstance(index, cst.Index):
                return ir.Subscript(self.expr(node.value, d), self.expr(index.value, d), text, span)
        return ir.Opaque(text, span)

    def _fstring(self, node: cst.FormattedString, text: str, span: ir.Span, depth: int) -> ir.Expr:
        parts: list[ir.Expr] = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                if "\\" in part.value:
                    return ir.Opaque(text, span)  # escapes: not worth decoding by hand
                literal = part.value.replace("{{", "{").replace("}}", "}")
                parts.append(ir.Const(literal, literal, span))
            elif isinstance(part, cst.FormattedStringExpression):
                value = self.expr(part.expression, depth)
                if part.conversion is not None or part.format_spec or part.equal is not None:
                    value = ir.Opaque(self.text(part), value.span)
                parts.append(value)
        return ir.FString(tuple(parts), text, span)

    def _element(self, el: cst.BaseElement, depth: int) -> ir.Expr:
        if isinstance(el, cst.StarredElement):
            return self._starred(el, depth)
        return self.expr(el.value, depth)

    def _starred(self, node: cst.StarredElement | cst.Arg, depth: int) -> ir.Starred:
        """`*value`: libcst's node runs on to the comma after it, which is not the value's."""
        value = self.expr(node.value, depth)
        start = self._stmt.text_of(node)[1]
        own, value_start, end = self._stmt.text_of(node.value)
        text = self._stmt.code[start:value_start] + own
        return ir.Starred(value, clip(text), self._stmt.span(start, end))

    def call(self, node: cst.Call) -> ir.Call:
        result = self.expr(node)
        assert isinstance(result, ir.Call)
        return result

    def _call(self, node: cst.Call, text: str, span: ir.Span, depth: int) -> ir.Call:
        func = self.expr(node.func, depth + 1)
        args: list[ir.Expr] = []
        kwargs: list[ir.Kwarg] = []
        for arg in node.args:
            if arg.star == "*":
                args.append(self._starred(arg, depth + 1))
                continue
            value = self.expr(arg.value, depth + 1)
            if arg.keyword is not None:
                kwargs.append(ir.Kwarg(arg.keyword.value, value))
            elif arg.star == "**":
                kwargs.append(ir.Kwarg(None, value))
            else:
                args.append(value)
        return ir.Call(func, tuple(args), tuple(kwargs), text, span)


def _sole_return(node: cst.FunctionDef) -> bool:
    """Whether the body is one `return` statement, after an optional docstring."""
    body = node.body
    if isinstance(body, cst.SimpleStatementSuite):
        lines: list[Sequence[cst.BaseSmallStatement]] = [body.body]
    else:
        lines = []
        for stmt in body.body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                return False
            lines.append(stmt.body)
    if (
        len(lines) == 2
        and len(lines[0]) == 1
        and isinstance(lines[0][0], cst.Expr)
        and isinstance(lines[0][0].value, cst.SimpleString | cst.ConcatenatedString)
    ):
        lines = lines[1:]
    return len(lines) == 1 and len(lines[0]) == 1 and isinstance(lines[0][0], cst.Return)


def _is_test(node: cst.BaseExpression) -> bool:
    """A comparison, `and`/`or`, `not` or `isinstance(...)`: what a predicate returns."""
    if isinstance(node, cst.Comparison | cst.BooleanOperation):
        return True
    if isinstance(node, cst.UnaryOperation):
        return isinstance(node.operator, cst.Not)
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value == "isinstance"
    )


def _is_wanted_attribute(name: str, interest: ir.Interest) -> bool:
    return name in interest.attributes


class _BodyCollector:
    """Collects calls, raises, returns and local bindings of one function body.

    Only what can matter is converted: calls an adapter named, that pass a parameter on or
    that call one of the module's own functions, returns of a name or of such a call, and
    local bindings those refer to (`countdown = ...` then `self.retry(countdown=countdown)`).
    Nested functions and classes are not entered; the extractor visits nested functions as
    definitions of their own so their decorators are seen.
    """

    def __init__(
        self,
        conv: _Converter,
        params: frozenset[str],
        interest: ir.Interest,
        star_kwargs: frozenset[str] = frozenset(),
        every_return: bool = False,
        sole_return: bool = False,
        helpers: frozenset[str] = frozenset(),
    ) -> None:
        self.conv = conv
        # The module's own top-level functions, whose calls are kept.
        self.helpers = helpers
        # Names that carry a task or its options: parameters (the enclosing functions' too, as
        # closures see them) and the functions defined in this body (`wrapper` around `fn`).
        self.params = set(params)
        # `**options` parameters: `options.pop(...)` changes what a wrapper passes on.
        self.star_kwargs = star_kwargs
        self.interest = interest
        self.calls: list[ir.Call] = []
        self.raises: list[ir.Raise] = []
        self.returns: list[ir.Expr] = []
        # For functions named in `interest.returns`: every return value, and every other way
        # a local name is rebound (as an opaque binding), so straight-line code can be told
        # from code whose result depends on control flow.
        self._every_return = every_return
        self._sole_return = sole_return
        self._assigns: list[tuple[str, cst.Assign | cst.CSTNode]] = []
        # A class made inside a function is not read: no framework registers one there.
        self.nested: list[cst.FunctionDef] = []
        self._handlers = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.nested.append(node)
        self.params.add(node.name.value)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> bool:
        self._handlers += 1
        return True

    def leave_ExceptHandler(self, original_node: cst.ExceptHandler) -> None:
        self._handlers -= 1

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> bool:
        self._handlers += 1
        return True

    def leave_ExceptStarHandler(self, original_node: cst.ExceptStarHandler) -> None:
        self._handlers -= 1

    def visit_Call(self, node: cst.Call) -> bool:
        if self._wanted(node):
            converted = self.conv.expr(node)
            assert isinstance(converted, ir.Call)
            if self._handlers:
                converted = replace(converted, in_handler=True)
            self.calls.append(converted)
        return True

    def _wanted(self, node: cst.Call) -> bool:
        name = _final_name(node.func)
        if name is not None and name in self.interest.calls:
            return True
        if isinstance(node.func, cst.Name) and node.func.value in self.helpers:
            return True
        # `options.pop("name")` in a wrapper drops an option before passing the rest on.
        func = node.func
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value in self.star_kwargs
        ):
            return True
        # A helper that receives a parameter (`handle_failure(self, exc)`) may retry for us; a
        # call that receives a function or options may register a task (`actor(fn, **opts)`).
        if isinstance(func, cst.Call) and self._wanted(func):
            return True
        return any(
            isinstance(a.value, cst.Name) and a.value.value in self.params for a in node.args
        )

    def visit_Raise(self, node: cst.Raise) -> bool:
        if isinstance(node.exc, cst.Call | cst.Name | cst.Attribute):
            exc = self.conv.expr(node.exc)
            self.raises.append(ir.Raise(exc, exc.span))
        return True

    def visit_Return(self, node: cst.Return) -> bool:
        value = node.value
        if self._every_return:
            if value is None:
                self.returns.append(ir.Const(None, "return", self.conv.span(node)))
            else:
                self.returns.append(self.conv.expr(value))
        elif (
            isinstance(value, cst.Name)
            or (isinstance(value, cst.Call) and self._wanted(value))
            or (self._sole_return and value is not None and _is_test(value))
        ):
            self.returns.append(self.conv.expr(value))
        return True

    def visit_Assign(self, node: cst.Assign) -> bool:
        target = dotted_name(node.targets[0].target) if len(node.targets) == 1 else None
        option = self._option_write(node) if len(node.targets) == 1 else None
        if option is not None:
            self._assigns.append((option, node))
        elif target is not None:
            self._assigns.append((target, node))
            if self._carries_options(node.value):
                self.star_kwargs = self.star_kwargs | {target}  # `opts = kwargs.copy()`
        elif self._every_return:
            for each in node.targets:
                self._rebinds(each.target, node)
        return True

    def _rebinds(self, target: cst.CSTNode, node: cst.CSTNode) -> None:
        if self._every_return:
            for name in _target_names(target) if isinstance(target, cst.BaseExpression) else ():
                self._assigns.append((name, node))

    def visit_AugAssign(self, node: cst.AugAssign) -> bool:
        self._rebinds(node.target, node)
        # `task.retry_delay *= 2` in a running task changes its own retry option.
        target = dotted_name(node.target)
        if target and "." in target and target.rpartition(".")[2] in self.interest.attributes:
            self._assigns.append((target, node))
        return True

    def visit_AnnAssign(self, node: cst.AnnAssign) -> bool:
        self._rebinds(node.target, node)
        return True

    def visit_NamedExpr(self, node: cst.NamedExpr) -> bool:
        self._rebinds(node.target, node)
        return True

    def visit_For(self, node: cst.For) -> bool:
        self._rebinds(node.target, node)
        return True

    def visit_AsName(self, node: cst.AsName) -> bool:
        # `with ... as x`, `except E as x`, `import a as x`
        self._rebinds(node.name, node)
        return True

    def visit_ImportAlias(self, node: cst.ImportAlias) -> bool:
        if node.asname is None:  # `import a.b` binds `a`; `from m import x` binds `x`
            self._rebinds(cst.Name(node.evaluated_name.partition(".")[0]), node)
        return True

    def visit_Del(self, node: cst.Del) -> bool:
        self._rebinds(node.target, node)
        return True

    def _option_write(self, node: cst.Assign) -> str | None:
        """`kwargs["bind"] = True` on options a wrapper passes on, as the target text
        `kwargs["bind"]` (the recognizer reads it as an option the wrapper adds)."""
        target = node.targets[0].target
        if not (
            isinstance(target, cst.Subscript)
            and isinstance(target.value, cst.Name)
            and target.value.value in self.star_kwargs
            and len(target.slice) == 1
        ):
            return None
        index = target.slice[0].slice
        if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
            key = index.value.evaluated_value
            if isinstance(key, str):
                return f"{target.value.value}[{key!r}]"
        return None

    def _carries_options(self, value: cst.BaseExpression) -> bool:
        """`kwargs.copy()`, `kwargs.pop("x", 5)`, `dict(kwargs)`: made from passed-on options."""
        if not isinstance(value, cst.Call):
            return False
        func = value.func
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value in self.star_kwargs
        ):
            return True
        return any(
            isinstance(a.value, cst.Name) and a.value.value in self.star_kwargs for a in value.args
        )

    def locals(self) -> tuple[ir.Binding, ...]:
        return kept_locals(
            (*self.calls, *self.returns),
            self._assigns,
            self.interest.attributes,
            self._stored,
            self._value,
        )

    def _stored(self, target: str, node: cst.CSTNode) -> bool:
        return isinstance(node, cst.Assign) and (
            # `self.options = options` in a wrapper class's `__init__`: the options a later
            # `__call__` passes on.
            ("." in target and _names_one(node.value, self.params))
            # A wrapper changing or reading the options it passes on.
            or "[" in target
            or self._carries_options(node.value)
        )

    def _value(self, node: cst.CSTNode) -> ir.Expr:
        if isinstance(node, cst.Assign):
            return self.conv.expr(node.value)
        # a rebinding retrylint does not follow: `x += 1`, `for x in ...`
        text, span = self.conv.located(node)
        if isinstance(node, cst.For):  # the loop's header, not its body
            text = f"for {self.conv.text(node.target)} in {self.conv.text(node.iter)}"
            span = ir.Span(span.line, span.column, span.line, span.column + len(text))
        return ir.Opaque(text, span)


def _names_one(node: cst.BaseExpression, names: set[str]) -> bool:
    return isinstance(node, cst.Name) and node.value in names


class Extractor:
    """Reads one parsed module, or the top-level statements of one (`extract_ast` hands over
    those it cannot read exactly), into a `Sink`."""

    def __init__(
        self,
        module: cst.Module,
        path: str,
        dotted: str,
        interest: ir.Interest,
        helpers: frozenset[str] | None = None,
    ) -> None:
        self._module = module
        self._path = path
        self._dotted = dotted
        self._interest = interest
        # Module-level functions: a call to one is kept from every body whatever it passes,
        # so what the helper does (`raise RetryTask()`) can be followed from its caller. A
        # fragment is given those of its whole module.
        self._helpers = (
            helpers
            if helpers is not None
            else frozenset(
                stmt.name.value for stmt in module.body if isinstance(stmt, cst.FunctionDef)
            )
        )

    def summary(self, suppressions: tuple[ir.Suppression, ...] = ()) -> ir.ModuleSummary:
        sink = Sink()
        offset = sum(self._module.code_for_node(line).count("\n") for line in self._module.header)
        self.collect(sink, offset)
        return assemble(sink, self._path, self._dotted, suppressions)

    def collect(self, sink: Sink, offset: int) -> None:
        """Every top-level statement into `sink`; `offset` is the line before the first.

        Relative imports are completed once the whole file is read (`assemble`): the deepest
        of them proves how deep the module's own name is (CONTRACTS §3).
        """
        for stmt in self._module.body:
            statement = _Statement(self._module, stmt, offset)
            self._statement(stmt, _Converter(statement), sink, "")
            if not isinstance(stmt, cst.SimpleStatementLine) and RELATIVE.search(statement.code):
                # Function-level and class-level imports prove the depth too.
                finder = _RelativeLevel()
                walk(stmt, finder)
                sink.level = max(sink.level, finder.level)
            offset += statement.code.count("\n")

    # -- module level ---------------------------------------------------------------------

    def _statement(self, stmt: cst.CSTNode, conv: _Converter, sink: Sink, prefix: str) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self._small(small, conv, sink)
        elif isinstance(stmt, cst.BaseSmallStatement):  # the body of `for m in ms: m.x = 3`
            self._small(stmt, conv, sink)
        elif isinstance(stmt, cst.FunctionDef):
            self._function(stmt, conv, sink.functions, prefix)
        elif isinstance(stmt, cst.ClassDef):
            sink.classes.extend(self._class(stmt, conv, sink.functions, prefix))
        elif isinstance(
            stmt,
            cst.If
            | cst.Try
            | cst.TryStar
            | cst.With
            | cst.Else
            | cst.Finally
            | cst.For
            | cst.While,
        ):
            # Loops too: `for m in broker.middleware: m.max_retries = 3` configures an app.
            for child in _blocks(stmt):
                self._statement(child, conv, sink, prefix)

    def _small(self, small: cst.BaseSmallStatement, conv: _Converter, sink: Sink) -> None:
        if isinstance(small, cst.Import | cst.ImportFrom):
            sink.imports.extend(self._imports(small, conv, sink))
        elif isinstance(small, cst.Assign):
            span = conv.span(small)
            value = conv.expr(small.value)
            for target in small.targets:
                for name in _target_names(target.target):
                    sink.bindings.append(ir.Binding(name, value, span))
        elif isinstance(small, cst.AnnAssign | cst.AugAssign) and small.value is not None:
            # An augmented assignment is recorded as a rebinding, so that an augmented constant
            # is never trusted.
            bound = dotted_name(small.target)
            if bound:
                span = conv.span(small)
                sink.bindings.append(ir.Binding(bound, conv.expr(small.value), span))
        elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            sink.calls.append(conv.call(small.value))

    def _imports(
        self, node: cst.Import | cst.ImportFrom, conv: _Converter, sink: Sink
    ) -> Iterable[ir.Import]:
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
        level = len(node.relative)
        sink.level = max(sink.level, level)
        found: list[tuple[ir.Import, str]] = []
        if isinstance(node.names, cst.ImportStar):
            # Settings modules lean on `from .base import *`; lookups follow it.
            found.append((ir.Import("*", base, span), base))
        else:
            for alias in node.names:
                name = dotted_name(alias.name) or ""
                local = name
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    local = alias.asname.name.value
                target = f"{base}.{name}" if base else name
                found.append((ir.Import(local, target, span), target))
        for imp, target in found:
            if level:
                # The target is completed when the module's own name is known.
                sink.relative.append((imp, level - 1, target))
            yield imp

    # -- definitions ----------------------------------------------------------------------

    def _function(
        self,
        node: cst.FunctionDef,
        conv: _Converter,
        out: list[ir.Function],
        prefix: str,
        closure: frozenset[str] = frozenset(),
        closure_kwargs: frozenset[str] = frozenset(),
    ) -> ir.Function:
        signature = node.params
        params = tuple(p.name.value for p in (*signature.posonly_params, *signature.params))
        kwonly = tuple(p.name.value for p in signature.kwonly_params)
        # Source order: decorators, name, parameter defaults, then the body (positions are
        # searched in order).
        decorators = tuple(conv.expr(d.decorator) for d in node.decorators)
        name_span = conv.span(node.name)
        defaults = tuple(
            ir.Kwarg(p.name.value, conv.expr(p.default))
            for p in (*signature.posonly_params, *signature.params, *signature.kwonly_params)
            if p.default is not None
        )
        star_arg = (
            signature.star_arg.name.value if isinstance(signature.star_arg, cst.Param) else None
        )
        star_kwarg = signature.star_kwarg.name.value if signature.star_kwarg else None
        # `*args`/`**kwargs` pass the task on too (`helper(*args)`), without being parameters.
        star = [s for s in (star_arg, star_kwarg) if s is not None]
        carried = closure | frozenset((*params, *kwonly, *star))
        star_kwargs = closure_kwargs | ({star_kwarg} if star_kwarg else set())
        every_return = node.name.value in self._interest.returns
        sole_return = _sole_return(node)
        collector = _BodyCollector(
            conv, carried, self._interest, star_kwargs, every_return, sole_return, self._helpers
        )
        # Every body is walked: any function may be a project wrapper of a task decorator
        # (`def actor(**options): ... dramatiq.actor(fn, **options)`), whatever it mentions.
        walk(node.body, collector)
        qualname = f"{prefix}{node.name.value}"
        func = ir.Function(
            name=node.name.value,
            qualname=qualname,
            params=params,
            decorators=decorators,
            span=_def_span(name_span, node),
            name_span=name_span,
            calls=tuple(collector.calls),
            raises=tuple(collector.raises),
            returns=tuple(collector.returns),
            locals=collector.locals(),
            is_async=node.asynchronous is not None,
            kwonly=kwonly,
            defaults=defaults,
            star_arg=star_arg,
            star_kwarg=star_kwarg,
            sole_return=sole_return,
        )
        out.append(func)
        inner = frozenset(collector.params)
        for nested in collector.nested:
            self._function(nested, conv, out, f"{qualname}.<locals>.", inner, collector.star_kwargs)
        return func

    def _class(
        self, node: cst.ClassDef, conv: _Converter, functions: list[ir.Function], prefix: str
    ) -> Iterable[ir.Class]:
        qualname = f"{prefix}{node.name.value}"
        decorators = tuple(conv.expr(d.decorator) for d in node.decorators)
        name_span = conv.span(node.name)
        bases = tuple(conv.expr(a.value) for a in node.bases if a.keyword is None)
        attributes: list[ir.Binding] = []
        methods: list[ir.Function] = []
        inner: list[ir.Class] = []
        for stmt in _blocks(node):
            if isinstance(stmt, cst.SimpleStatementLine | cst.BaseSmallStatement):
                # `class Task(Base): max_retries = 3` has its statements on the class's line.
                smalls = stmt.body if isinstance(stmt, cst.SimpleStatementLine) else [stmt]
                for small in smalls:
                    if isinstance(small, cst.Assign):
                        names = [
                            name
                            for target in small.targets
                            for name in _target_names(target.target)
                            if _is_wanted_attribute(name, self._interest)
                        ]
                        if names:
                            span = conv.span(small)
                            value = conv.expr(small.value)
                            attributes.extend(ir.Binding(n, value, span) for n in names)
                    elif isinstance(small, cst.AnnAssign) and small.value is not None:
                        annotated = dotted_name(small.target)
                        if annotated and _is_wanted_attribute(annotated, self._interest):
                            span = conv.span(small)
                            value = conv.expr(small.value)
                            attributes.append(ir.Binding(annotated, value, span))
            elif isinstance(stmt, cst.FunctionDef):
                own: list[ir.Function] = []
                methods.append(self._function(stmt, conv, own, f"{qualname}."))
                functions.extend(own[1:])  # functions nested inside the method
            elif isinstance(stmt, cst.ClassDef):
                inner.extend(self._class(stmt, conv, functions, f"{qualname}."))
        yield ir.Class(
            name=node.name.value,
            qualname=qualname,
            bases=bases,
            decorators=decorators,
            attributes=tuple(attributes),
            methods=tuple(methods),
            span=_def_span(name_span, node),
            name_span=name_span,
        )
        yield from inner


class _RelativeLevel:
    """The deepest relative import (`from ...x import y` is 3) anywhere in a statement."""

    def __init__(self) -> None:
        self.level = 0

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        self.level = max(self.level, len(node.relative))
        return False


def _keyword(node: cst.FunctionDef | cst.ClassDef) -> str:
    """The text before a definition's name: `def `, `async def `, `class `."""
    if isinstance(node, cst.ClassDef):
        return "class" + node.whitespace_after_class.value
    keyword = "def" + node.whitespace_after_def.value
    if node.asynchronous is not None:
        keyword = "async" + node.asynchronous.whitespace_after.value + keyword
    return keyword


def _def_span(name: ir.Span, node: cst.FunctionDef | cst.ClassDef) -> ir.Span:
    """The `def`/`class` keyword's line and column, worked out back from the name."""
    start = max(1, name.column - len(_keyword(node)))
    return ir.Span(name.line, start, name.end_line, name.end_column)


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
    interest: ir.Interest,
    suppressions: tuple[ir.Suppression, ...] = (),
) -> ir.ModuleSummary:
    return Extractor(module, path, dotted, interest).summary(suppressions)
