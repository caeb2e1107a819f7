"""Apply planned edits to one Python file with libcst, which keeps every comment and all the
formatting it does not touch.

Every edit is matched against the positions of the file as it was analysed, in one pass, so
the order of edits does not matter and one edit cannot move the place of another. An edit whose
place is not found (the file changed, or a decorator retrylint cannot tell apart) raises
`EditFailed` naming it: the caller drops that fix rather than guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar, cast

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from retrylint.fix.edits import Attribute, Import, Keyword, PythonEdit, Replace
from retrylint.model import Location


class EditFailed(Exception):
    """An edit whose place or shape was not found; `edit` says which."""

    def __init__(self, edit: PythonEdit, why: str) -> None:
        super().__init__(why)
        self.edit = edit


def apply_python(source: bytes, edits: Sequence[PythonEdit]) -> bytes:
    """`source` with every edit applied; raises `EditFailed` for the first that cannot be.

    libcst refusing a tree (an edit that would not print as valid code) is blamed on the first
    edit: the caller drops that fix and tries the rest again, so the culprit goes in the end.
    """
    try:
        wrapper = MetadataWrapper(cst.parse_module(source), unsafe_skip_copy=True)
        editor = _Editor([e for e in edits if not isinstance(e, Import)])
        module = wrapper.visit(editor)
        for edit in editor.pending():
            raise EditFailed(edit, "its place was not found")
        for edit in dict.fromkeys(e for e in edits if isinstance(e, Import)):
            module = _with_import(module, edit)
        return module.bytes
    except (cst.CSTValidationError, cst.ParserSyntaxError) as err:
        raise EditFailed(edits[0], f"libcst refused the edit: {err}") from None


def _starts(position: CodeRange, at: Location) -> bool:
    return (position.start.line, position.start.column + 1) == (at.line, at.column)


def _spans(position: CodeRange, at: Location) -> bool:
    return _starts(position, at) and (position.end.line, position.end.column + 1) == (
        at.end_line,
        at.end_column,
    )


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    if isinstance(node, cst.Call):
        return _dotted(node.func)
    return ""


def _key(node: cst.CSTNode) -> str | None:
    """What a value is written for: an argument's keyword, a dict entry's string key."""
    if isinstance(node, cst.Arg) and node.keyword is not None:
        return node.keyword.value
    if isinstance(node, cst.DictElement) and isinstance(node.key, cst.SimpleString):
        value = node.key.evaluated_value
        return value if isinstance(value, str) else None
    return None


_Node = TypeVar("_Node", bound=cst.CSTNode)
_Def = TypeVar("_Def", cst.FunctionDef, cst.ClassDef)
_Definition = cst.FunctionDef | cst.ClassDef


class _Editor(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, edits: Sequence[PythonEdit]) -> None:
        super().__init__()
        self.edits = list(edits)
        self.done: set[int] = set()
        # The keyword (or assigned name) of the value being left, innermost last.
        self.keys: list[str | None] = []

    def pending(self) -> list[PythonEdit]:
        return [e for i, e in enumerate(self.edits) if i not in self.done]

    def _position(self, node: cst.CSTNode) -> CodeRange:
        return self.get_metadata(PositionProvider, node)

    # Track what each value is written for, so `Replace.by_keyword` can choose.
    def visit_Arg(self, node: cst.Arg) -> None:
        self.keys.append(_key(node))

    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        self.keys.pop()
        return updated_node

    def visit_DictElement(self, node: cst.DictElement) -> None:
        self.keys.append(_key(node))

    def leave_DictElement(
        self, original_node: cst.DictElement, updated_node: cst.DictElement
    ) -> cst.DictElement:
        self.keys.pop()
        return updated_node

    def visit_Assign(self, node: cst.Assign) -> None:
        target = node.targets[0].target if len(node.targets) == 1 else None
        self.keys.append(target.value if isinstance(target, cst.Name) else None)

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        self.keys.pop()
        return updated_node

    def on_leave(
        self, original_node: _Node, updated_node: _Node
    ) -> _Node | cst.RemovalSentinel | cst.FlattenSentinel[_Node]:
        result = super().on_leave(original_node, updated_node)
        if not isinstance(original_node, cst.BaseExpression) or not isinstance(
            result, cst.BaseExpression
        ):
            return result
        position = self._position(original_node)
        for index, edit in enumerate(self.edits):
            if index in self.done or not isinstance(edit, Replace):
                continue
            if _spans(position, edit.at):
                key = self.keys[-1] if self.keys else None
                code = dict(edit.by_keyword).get(key or "", edit.default)
                self.done.add(index)
                return cast(_Node, cst.parse_expression(code))
        if not isinstance(original_node, cst.Call) or not isinstance(result, cst.Call):
            return result
        call: cst.Call = result
        for index, edit in enumerate(self.edits):
            if (
                index not in self.done
                and isinstance(edit, Keyword)
                and not edit.decorators
                and _starts(position, edit.at)
            ):
                call = _set_keyword(call, edit)
                self.done.add(index)
        return cast(_Node, call)

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        return self._decorated(original_node, updated_node)

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.ClassDef:
        updated = self._decorated(original_node, updated_node)
        position = self._position(original_node.name)
        for index, edit in enumerate(self.edits):
            if index in self.done or not isinstance(edit, Attribute):
                continue
            if _starts(position, edit.at):
                updated = _set_attribute(updated, edit)
                self.done.add(index)
        return updated

    def _decorated(self, original: _Definition, updated: _Def) -> _Def:
        position = self._position(original.name)
        for index, edit in enumerate(self.edits):
            if index in self.done or not isinstance(edit, Keyword) or not edit.decorators:
                continue
            if not _starts(position, edit.at):
                continue
            chosen = _decorator(updated.decorators, edit.decorators)
            if chosen is None:
                continue
            decorators = list(updated.decorators)
            target = decorators[chosen].decorator
            call = target if isinstance(target, cst.Call) else cst.Call(func=target)
            decorators[chosen] = decorators[chosen].with_changes(decorator=_set_keyword(call, edit))
            updated = updated.with_changes(decorators=decorators)
            self.done.add(index)
        return updated


def _decorator(decorators: Sequence[cst.Decorator], tails: Sequence[str]) -> int | None:
    """The decorator whose dotted name ends in one of `tails`, preferring the earlier tail
    (a wrapper the row went through before the framework's own decorator); with none, the only
    decorator there is."""
    names = [_dotted(d.decorator).rpartition(".")[2] for d in decorators]
    for tail in tails:
        if tail in names:
            return names.index(tail)
    return 0 if len(decorators) == 1 else None


def _set_keyword(call: cst.Call, edit: Keyword) -> cst.Call:
    """`call` with `edit.keyword=edit.code`, replacing the value when the keyword is written."""
    value = cst.parse_expression(edit.code)
    if edit.inner is not None:
        holder = _argument(call, edit.inner)
        current = holder.value if holder is not None else None
        if isinstance(current, cst.Call):
            inner = _set_keyword(current, Keyword(edit.at, edit.keyword, edit.code))
            return _with_argument(call, edit.inner, inner)
        if current is not None and not (isinstance(current, cst.Name) and current.value == "None"):
            raise EditFailed(edit, f"{edit.inner}= is not a call retrylint can edit")
        created = cst.parse_expression(f"{edit.create}({edit.keyword}={edit.code})")
        return _with_argument(call, edit.inner, created)
    return _with_argument(call, edit.keyword, value)


def _argument(call: cst.Call, keyword: str) -> cst.Arg | None:
    return next((a for a in call.args if _key(a) == keyword), None)


def _with_argument(call: cst.Call, keyword: str, value: cst.BaseExpression) -> cst.Call:
    """Replace the keyword's value, or append `keyword=value` in the call's own layout: a
    one-line call gets `, kw=v`; a call with one argument a line keeps that shape."""
    args = list(call.args)
    for index, arg in enumerate(args):
        if _key(arg) == keyword:
            args[index] = arg.with_changes(value=value)
            return call.with_changes(args=args)
    new = cst.Arg(
        value=value,
        keyword=cst.Name(keyword),
        equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
        ),
    )
    if not args:
        return call.with_changes(args=[new])
    last = args[-1]
    if isinstance(last.comma, cst.Comma):
        # A trailing comma: the new argument takes the last one's comma (and the line break
        # before the closing bracket); the last one takes the separator used between arguments.
        between = args[-2].comma if len(args) > 1 else None
        separator = (
            _bare(between)
            if isinstance(between, cst.Comma)
            else cst.Comma(whitespace_after=_indentation(call))
        )
        args[-1] = last.with_changes(comma=separator)
        args.append(new.with_changes(comma=last.comma))
    else:
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        args.append(new)
    return call.with_changes(args=args)


def _bare(comma: cst.Comma) -> cst.Comma:
    """The comma with its line break and indentation but without a comment or blank lines
    after it: those belong to the argument they were written next to."""
    after = comma.whitespace_after
    if isinstance(after, cst.ParenthesizedWhitespace):
        after = after.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
    return comma.with_changes(whitespace_after=after)


def _indentation(call: cst.Call) -> cst.BaseParenthesizableWhitespace:
    """The whitespace after `(` when the arguments start on their own line, else one space."""
    whitespace = call.whitespace_before_args
    if isinstance(whitespace, cst.ParenthesizedWhitespace):
        return whitespace.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
    return cst.SimpleWhitespace(" ")


def _set_attribute(node: cst.ClassDef, edit: Attribute) -> cst.ClassDef:
    """Replace `name = ...` in the class body, or add it after the attributes written first."""
    body = node.body
    if not isinstance(body, cst.IndentedBlock):
        raise EditFailed(edit, "a one-line class body")
    value = cst.parse_expression(edit.code)
    statements = list(body.body)
    for index, statement in enumerate(statements):
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        small = statement.body[0] if len(statement.body) == 1 else None
        if (
            isinstance(small, cst.Assign)
            and len(small.targets) == 1
            and isinstance(small.targets[0].target, cst.Name)
            and small.targets[0].target.value == edit.name
        ):
            statements[index] = statement.with_changes(body=[small.with_changes(value=value)])
            return node.with_changes(body=body.with_changes(body=statements))
    line = cst.parse_statement(f"{edit.name} = {edit.code}\n")
    # After the class's leading attributes (and docstring), before its first method.
    first_compound = next(
        (i for i, st in enumerate(statements) if not isinstance(st, cst.SimpleStatementLine)),
        len(statements),
    )
    statements.insert(first_compound, line)
    return node.with_changes(body=body.with_changes(body=statements))


def passed_by_call(source: bytes, at: Location) -> bool:
    """Whether the value spanning `at` is a keyword argument of a call (`shared_task(
    max_retries=None, **options)`), rather than a parameter default the call site can replace."""
    wrapper = MetadataWrapper(cst.parse_module(source), unsafe_skip_copy=True)
    finder = _ArgumentFinder(at)
    wrapper.visit(finder)
    return finder.found


class _ArgumentFinder(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, at: Location) -> None:
        super().__init__()
        self.at = at
        self.found = False

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None and _spans(
            self.get_metadata(PositionProvider, node.value), self.at
        ):
            self.found = True


def _with_import(module: cst.Module, edit: Import) -> cst.Module:
    """`module` with `from edit.module import edit.name` at its top level: nothing when the name
    is imported already, added to a one-line `from edit.module import ...`, else a new line
    after the last top-level import (libcst's AddImportsVisitor does this too, but re-reads the
    whole module's scopes for it, several times slower than the fix itself)."""
    body = list(module.body)
    last_import = -1
    for index, statement in enumerate(body):
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Import | cst.ImportFrom):
                last_import = index
            if (
                isinstance(small, cst.Import)
                and not edit.name
                and any(_dotted(a.name) == edit.module and a.asname is None for a in small.names)
            ):
                return module
            if not isinstance(small, cst.ImportFrom) or small.relative or not edit.name:
                continue
            if small.module is None or _dotted(small.module) != edit.module:
                continue
            if isinstance(small.names, cst.ImportStar):
                return module
            names = list(small.names)
            if any(_dotted(a.name) == edit.name and a.asname is None for a in names):
                return module
            if small.lpar is None and len(statement.body) == 1:
                names[-1] = names[-1].with_changes(
                    comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                )
                names.append(cst.ImportAlias(name=cst.Name(edit.name)))
                body[index] = statement.with_changes(body=[small.with_changes(names=names)])
                return module.with_changes(body=body)
    line = cst.parse_statement(
        f"from {edit.module} import {edit.name}\n" if edit.name else f"import {edit.module}\n"
    )
    if last_import < 0:
        # After the docstring, if any; the blank lines before the first statement stay first.
        first = body[0] if body else None
        docstring = (
            isinstance(first, cst.SimpleStatementLine)
            and isinstance(first.body[0], cst.Expr)
            and isinstance(first.body[0].value, cst.SimpleString | cst.ConcatenatedString)
        )
        last_import = 0 if docstring else -1
    body.insert(last_import + 1, line)
    return module.with_changes(body=body)
