"""Python source → `ModuleSummary` through the standard library's `ast`: the fast reading.

libcst defines what a summary's texts and positions are (`extract`) and parses every version
of Python, but building its tree costs ten times `ast.parse`, and that was most of a cold run.
This module reads the same summary from an `ast` tree and the source text. Where `ast` and
libcst see a construct differently and this module does not reproduce libcst's reading exactly
(an f-string, a function whose every rebinding is kept, a comment inside brackets it must look
across), it raises `Unsure` and the top-level statement holding it is read by libcst alone
(its lines parsed as a module of their own). A file `ast` rejects (syntax newer than the
running Python's, or an error, which libcst then words) is not read here at all.
`tests/test_extract_ast.py` holds both readings to the same summary.
"""

from __future__ import annotations

import ast
import bisect
import io
import keyword
import re
import tokenize
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import replace

from retrylint.python import ir
from retrylint.python.assemble import MAX_DEPTH, RELATIVE, Sink, assemble, clip, kept_locals


class Unsure(Exception):
    """A construct whose libcst reading this module does not reproduce: libcst reads it."""


class WholeFile(Exception):
    """A file this module cannot read at all (encoding, line endings): libcst reads it."""


_BINARY_OPS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.BitOr: "|",
    ast.BitAnd: "&",
}
_UNARY_OPS: dict[type[ast.unaryop], str] = {
    ast.USub: "-",
    ast.UAdd: "+",
    ast.Not: "not",
    ast.Invert: "~",
}
_NEWLINE = re.compile("\n")
_FSTRING_START: int = getattr(tokenize, "FSTRING_START", -1)
_FSTRING_END: int = getattr(tokenize, "FSTRING_END", -1)
_BLANK = " \t\f\r\n"
_DEF = re.compile(r"(?:async[ \t]+)?def[ \t]+|class[ \t]+")
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_BLOCKS: tuple[type[ast.stmt], ...] = (
    ast.If,
    ast.Try,
    ast.With,
    ast.AsyncWith,
    ast.For,
    ast.AsyncFor,
    ast.While,
    *((ast.TryStar,) if hasattr(ast, "TryStar") else ()),
)
# Nodes that hold no code a collector can care about: not walked.
_SKIPPED = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


def dotted_name(node: ast.expr) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    elif isinstance(node, ast.Constant) and _is_libcst_name(node):
        parts.append(str(node.value))  # `None.__class__`: libcst reads `None` as a name
    else:
        return None
    return ".".join(reversed(parts))


def _final_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _is_name_in(node: ast.expr, names: Iterable[str]) -> bool:
    return isinstance(node, ast.Name) and node.id in names


def _is_libcst_name(node: ast.expr | None) -> bool:
    """A name, or `True`/`False`/`None`, which libcst reads as names too."""
    if isinstance(node, ast.Constant):
        return node.value is None or node.value is True or node.value is False
    return isinstance(node, ast.Name)


def _arg_values(call: ast.Call) -> Iterable[ast.expr]:
    """What libcst calls each argument's value: starred ones without their star."""
    for arg in call.args:
        yield arg.value if isinstance(arg, ast.Starred) else arg
    for kw in call.keywords:
        yield kw.value


def _written(call: ast.Call) -> list[ast.expr | ast.keyword]:
    """A call's arguments in written order, as libcst keeps them (`f(a=1, *b)`: `*b` last)."""
    written: list[ast.expr | ast.keyword] = [*call.args, *call.keywords]
    written.sort(key=lambda n: (n.lineno, n.col_offset))
    return written


def _source_order(node: ast.AST) -> list[ast.AST]:
    """The children of `node` in the order their code is written (libcst's walk order)."""
    if isinstance(node, ast.Dict):
        out: list[ast.AST] = []
        for key, value in zip(node.keys, node.values, strict=True):
            if key is not None:
                out.append(key)
            out.append(value)
        return out
    if isinstance(node, ast.Call):
        return [node.func, *_written(node)]
    if isinstance(node, ast.IfExp):
        return [node.body, node.test, node.orelse]
    return [c for c in ast.iter_child_nodes(node) if not isinstance(c, _SKIPPED)]


class _Text:
    """The module's text, and the conversions between `ast` positions (1-based line, UTF-8
    byte column), character indexes and the summary's (line, character column) spans."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0, *(m.end() for m in _NEWLINE.finditer(text))]
        self._ascii = text.isascii()
        self._scope: Sequence[ast.stmt] = ()
        self._in_strings: set[int] | None = None

    def within(self, statements: Sequence[ast.stmt]) -> None:
        """Note the top-level statements being read: every line looked across is in them."""
        self._scope, self._in_strings = statements, None

    def in_string(self, line: int) -> bool:
        """Whether `line` starts inside a string literal of several lines (worked out once per
        top-level statement, the first time a line with a `#` in it is looked across)."""
        if self._in_strings is None:
            self._in_strings = set()
            for stmt in self._scope:
                for node in ast.walk(stmt):
                    if isinstance(node, ast.Constant | ast.JoinedStr) and node.end_lineno:
                        self._in_strings.update(range(node.lineno + 1, node.end_lineno + 1))
        return line in self._in_strings

    def index(self, line: int, column: int) -> int:
        start = self.starts[line - 1]
        if self._ascii:
            return start + column
        end = self.starts[line] if line < len(self.starts) else len(self.text)
        return start + len(self.text[start:end].encode()[:column].decode(errors="replace"))

    def range(self, node: ast.AST) -> tuple[int, int]:
        end_line, end_column = node.end_lineno, node.end_col_offset  # type: ignore[attr-defined]
        assert end_line is not None and end_column is not None
        return self.index(node.lineno, node.col_offset), self.index(end_line, end_column)  # type: ignore[attr-defined]

    def point(self, index: int) -> tuple[int, int]:
        row = bisect.bisect_right(self.starts, index) - 1
        return row + 1, index - self.starts[row] + 1

    def span(self, start: int, end: int) -> ir.Span:
        return ir.Span(*self.point(start), *self.point(end))

    def line(self, number: int) -> str:
        end = self.starts[number] if number < len(self.starts) else len(self.text)
        return self.text[self.starts[number - 1] : end]

    def indent(self, number: int) -> str:
        line = self.line(number)
        return line[: len(line) - len(line.lstrip(" \t"))]

    def before(self, index: int) -> int:
        """The index of the last code character before `index`, or -1."""
        text = self.text
        i = index - 1
        while i >= 0:
            char = text[i]
            if char == "\n":
                row = bisect.bisect_right(self.starts, i) - 1
                line = text[self.starts[row] : i]
                hash_at = line.find("#")
                if hash_at >= 0 and self.in_string(row + 1):
                    raise Unsure  # the end of a string, then perhaps a comment
                if hash_at >= 0 and ("'" in line[:hash_at] or '"' in line[:hash_at]):
                    hash_at = _comment_at(line)
                if hash_at >= 0:
                    i = self.starts[row] + hash_at
                i -= 1
            elif char in _BLANK or (char == "\\" and text[i + 1 : i + 2] in ("\n", "\r")):
                i -= 1
            else:
                return i
        return -1

    def after(self, index: int) -> int:
        """The index of the first code character from `index` on, or -1."""
        text = self.text
        i, size = index, len(text)
        while i < size:
            char = text[i]
            if char in _BLANK or char == "\\":
                i += 1
            elif char == "#":
                newline = text.find("\n", i)
                i = size if newline < 0 else newline
            else:
                return i
        return -1


def _comment_at(line: str) -> int:
    """Where the comment of a line holding quotes starts (-1: none), from its tokens."""
    code = line.lstrip(" \t\f")
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type == tokenize.COMMENT:
                return len(line) - len(code) + token.start[1]
    except (tokenize.TokenError, SyntaxError) as err:
        raise Unsure from err  # the line starts inside a string
    return -1


class _Converter:
    """Converts `ast` expressions into IR with libcst's texts and spans.

    libcst keeps a node's parentheses on the node (`(a)` is the text of `a`), where `ast`
    leaves them out; and it prints a node spanning lines without the indentation of the block
    around it, which the source has on each line inside brackets.
    """

    def __init__(self, text: _Text) -> None:
        self._text = text
        # The innermost statement (or `except`/`case` clause), noted for every statement a
        # body walk passes and looked at only by the few conversions that need it.
        self._inside: ast.stmt | ast.excepthandler | ast.pattern | None = None

    def enter(self, node: ast.stmt | ast.excepthandler | ast.pattern) -> None:
        """Note the statement (or `except`/`case` clause) that conversions are now inside."""
        self._inside = node

    @property
    def indent(self) -> str:
        """The indentation of the innermost statement's block: each line inside brackets that
        starts with it loses it, as libcst prints the node on its own."""
        return "" if self._inside is None else self._text.indent(self._inside.lineno)

    def _statement_start(self) -> int:
        """Where the innermost statement starts: a `(` there groups (`(a.b().c())`), whatever
        ends the line before."""
        node = self._inside
        return -1 if node is None else self._text.index(node.lineno, node.col_offset)

    def located(self, node: ast.AST) -> tuple[str, ir.Span]:
        """The node's text (clipped) and span."""
        start, end = self._widen(node, *self._text.range(node))
        return clip(self._code(node, start, end)), self._text.span(start, end)

    def statement(self, node: ast.stmt) -> tuple[str, ir.Span]:
        """A small statement's text and span: libcst's node runs on to a `;` after it."""
        start, end = self._text.range(node)
        text = self._text.text
        after = self._blank_end(end)
        if text[after : after + 1] == ";":
            # and its whitespace after, which the text's strip leaves a `\` of
            end = after + 1 + len(text[after + 1 : self._blank_end(after + 1)].rstrip())
        return clip(self._code(node, start, end)), self._text.span(start, end)

    def _blank_end(self, index: int) -> int:
        """Past the spaces and line continuations from `index` on."""
        text = self._text.text
        while index < len(text):
            if text[index] in " \t\f":
                index += 1
            elif text.startswith("\\\n", index) or text.startswith("\\\r\n", index):
                index = text.index("\n", index) + 1
            else:
                break
        return index

    def _widen(self, node: ast.AST, start: int, end: int) -> tuple[int, int]:
        """The node's range with the parentheses libcst gives it: every pair right around it
        that is not a call's (`f(x)`) or a class's (`class A(B)`)."""
        text = self._text
        if isinstance(node, ast.GeneratorExp) and self._called(start):
            inner = text.text[start + 1 : end - 1]  # `f(x for x in y)`: the call's parens
            if "#" in inner or "\\" in inner:
                raise Unsure  # where libcst's genexp ends among comments: not worked out here
            lead = len(inner) - len(inner.lstrip())
            return start + 1 + lead, start + 1 + len(inner.rstrip())
        while True:
            before, after = text.before(start), text.after(end)
            if before < 0 or after < 0 or text.text[before] != "(" or text.text[after] != ")":
                return start, end
            if self._called(before) or self._with_items(before, after):
                return start, end
            start, end = before, after + 1

    def _with_items(self, paren: int, closing: int) -> bool:
        """`with (a):`: libcst gives parentheses around all the items to the `with`."""
        word, _ = self._word_before(paren)
        after = self._text.after(closing + 1)
        return word == "with" and after >= 0 and self._text.text[after] == ":"

    def _word_before(self, paren: int) -> tuple[str, int]:
        """The identifier ending right before `paren` (whitespace between), and its start."""
        text = self._text.text
        last = self._text.before(paren)
        begin = last + 1
        while begin > 0 and ("a" + text[begin - 1]).isidentifier():
            begin -= 1
        return text[begin : last + 1], begin

    def _called(self, paren: int) -> bool:
        """Whether the `(` at `paren` opens a call's arguments or a class's bases: it follows
        an expression (`f(`, `x[0](`, `g()(`) or a name that is not a keyword (`return (`)."""
        text = self._text.text
        if text[paren] != "(" or paren == self._statement_start():
            return False
        last = self._text.before(paren)
        if last < 0:
            return False
        if text[last] in ")]}\"'.":
            return True
        word, begin = self._word_before(paren)
        if not word:
            return False
        if (
            word == "match"
            and isinstance(self._inside, ast.Match)
            and begin == self._statement_start()
        ):
            return False  # `match (x):` (not a call of a function named `match`)
        return word in ("None", "True", "False") or not keyword.iskeyword(word)

    def _code(self, node: ast.AST, start: int, end: int) -> str:
        code = self._text.text[start:end].strip()
        if "\n" not in code or not self.indent:
            return code
        first = self._text.point(start)[0]
        in_string: set[int] = set()
        for each in ast.walk(node):
            if isinstance(each, ast.Constant | ast.JoinedStr) and each.end_lineno != each.lineno:
                in_string.update(self._string_lines(each))
        lines = code.split("\n")
        for number, line in enumerate(lines[1:], first + 1):
            if number in in_string:
                continue
            if lines[number - first - 1].rstrip("\r").endswith("\\"):
                raise Unsure  # a continuation keeps its indentation; a comment's `\` does not
            if line.startswith(self.indent):
                lines[number - first] = line[len(self.indent) :]
        return "\n".join(lines).strip()

    def _string_lines(self, node: ast.Constant | ast.JoinedStr) -> Iterable[int]:
        """The lines that start inside the string literals of `node`: libcst prints them as
        they are (`"a"\\n"b"` in brackets is two literals and an indented line between)."""
        start, end = self._text.range(node)
        code = "(" + self._text.text[start:end] + ")"
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
        except (tokenize.TokenError, SyntaxError) as err:
            raise Unsure from err
        opened: list[int] = []  # Python 3.12 and later: f-strings are several tokens
        for token in tokens:
            if token.type == _FSTRING_START:
                opened.append(token.start[0])
                continue
            first = opened.pop() if token.type == _FSTRING_END else token.start[0]
            if token.type in (tokenize.STRING, _FSTRING_END) and token.end[0] > first:
                yield from range(node.lineno + first, node.lineno + token.end[0])

    def expr(self, node: ast.expr, depth: int = 0) -> ir.Expr:
        text, span = self.located(node)
        if depth > MAX_DEPTH:
            return ir.Opaque(text, span)
        d = depth + 1
        if isinstance(node, ast.Constant):
            value = node.value
            if value is None or isinstance(value, bool | int | float | str | bytes):
                return ir.Const(value, text, span)
            return ir.Opaque(text, span)  # `...`, `1j`
        if isinstance(node, ast.Name):
            return ir.Ref(node.id, text, span)
        if isinstance(node, ast.Attribute):
            dotted = dotted_name(node)
            return ir.Ref(dotted, text, span) if dotted else ir.Opaque(text, span)
        if isinstance(node, ast.Call):
            return self._call(node, text, span, d)
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            kind = {ast.Tuple: "tuple", ast.List: "list", ast.Set: "set"}[type(node)]
            return ir.Seq(kind, tuple(self._element(e, d) for e in node.elts), text, span)
        if isinstance(node, ast.Dict):
            items: list[tuple[ir.Expr | None, ir.Expr]] = []
            for key, item in zip(node.keys, node.values, strict=True):
                items.append((None if key is None else self.expr(key, d), self.expr(item, d)))
            return ir.DictExpr(tuple(items), text, span)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY_OPS:
            op = _BINARY_OPS[type(node.op)]
            return ir.BinOp(op, self.expr(node.left, d), self.expr(node.right, d), text, span)
        if isinstance(node, ast.UnaryOp):
            op = _UNARY_OPS[type(node.op)]
            return ir.Unary(op, self.expr(node.operand, d), text, span)
        if isinstance(node, ast.JoinedStr):
            return self._fstring(node, text, span, d)
        if isinstance(node, ast.Subscript):
            index = self.sole_index(node)
            if index is not None and not isinstance(index, ast.Slice):
                return ir.Subscript(self.expr(node.value, d), self.expr(index, d), text, span)
        return ir.Opaque(text, span)

    def sole_index(self, node: ast.Subscript) -> ast.expr | None:
        """The index of `x[i]` as libcst reads it; None for several (`x[a, b]`), one of them
        for `x[a,]`."""
        index = node.slice
        if isinstance(index, ast.Starred):
            raise Unsure
        if isinstance(index, ast.Tuple) and not self._parenthesized(index):
            if any(isinstance(e, ast.Starred) for e in index.elts):
                raise Unsure  # `x[*a]`: libcst drops the star
            return index.elts[0] if len(index.elts) == 1 else None
        return index

    def _parenthesized(self, node: ast.Tuple) -> bool:
        """Whether the tuple's own range starts with its parenthesis: before its first item."""
        if not node.elts:
            return True
        start = self._text.range(node)[0]
        first = node.elts[0]
        return start < self._widen(first, *self._text.range(first))[0]

    def _fstring(self, node: ast.JoinedStr, text: str, span: ir.Span, depth: int) -> ir.Expr:
        """libcst's reading of an f-string: literal parts and `{value}` fields, or opaque when
        concatenated with another literal or when a literal part holds a backslash."""
        start, end = self._text.range(node)  # the literals alone, without parentheses
        code = self._text.text[start:end]
        pieces = _fstring_pieces(code)
        if pieces is None:
            return ir.Opaque(text, span)
        fields = [v for v in node.values if isinstance(v, ast.FormattedValue)]
        if len(fields) != sum(kind == "field" for kind, _, _ in pieces):
            raise Unsure
        parts: list[ir.Expr] = []
        values = iter(fields)
        for kind, begin, stop in pieces:
            if kind == "text":
                literal = code[begin:stop].replace("{{", "{").replace("}}", "}")
                parts.append(ir.Const(literal, literal, span))
                continue
            field = next(values)
            value = self.expr(field.value, depth)
            inner = code[begin + 1 : stop - 1].strip()
            spec = field.format_spec
            if field.conversion != -1 or (isinstance(spec, ast.JoinedStr) and spec.values):
                if re.search(r"![rsa]\s", code[begin:stop]):
                    raise Unsure  # libcst drops a space after the conversion
                parts.append(ir.Opaque(clip(code[begin:stop]), value.span))
                continue
            if spec is not None:
                raise Unsure  # `{a:}`: an empty spec libcst keeps in the field's text
            at, until = self._widen(field.value, *self._text.range(field.value))
            if self._text.text[at:until] != inner or not start + begin < at < start + stop:
                raise Unsure  # positions inside f-strings differ between Python versions
            parts.append(value)
        return ir.FString(tuple(parts), text, span)

    def _plain_star(self, node: ast.Starred) -> None:
        start = self._text.range(node)[0]
        between = self._text.text[start + 1 : self._text.range(node.value)[0]]
        if between.strip(" \t("):
            raise Unsure  # a comment or a continuation after the star

    def _element(self, node: ast.expr, depth: int) -> ir.Expr:
        if isinstance(node, ast.Starred):
            self._plain_star(node)
            text, span = self.located(node)
            return ir.Starred(self.expr(node.value, depth), text, span)
        return self.expr(node, depth)

    def call(self, node: ast.Call) -> ir.Call:
        result = self.expr(node)
        assert isinstance(result, ir.Call)
        return result

    def _call(self, node: ast.Call, text: str, span: ir.Span, depth: int) -> ir.Call:
        func = self.expr(node.func, depth + 1)
        args: list[ir.Expr] = []
        kwargs: list[ir.Kwarg] = []
        for arg in _written(node):
            if isinstance(arg, ast.keyword):
                kwargs.append(ir.Kwarg(arg.arg, self.expr(arg.value, depth + 1)))
            elif isinstance(arg, ast.Starred):
                self._plain_star(arg)
                star_text, star_span = self.located(arg)
                args.append(ir.Starred(self.expr(arg.value, depth + 1), star_text, star_span))
            else:
                args.append(self.expr(arg, depth + 1))
        return ir.Call(func, tuple(args), tuple(kwargs), text, span)


def _fstring_pieces(code: str) -> list[tuple[str, int, int]] | None:
    """One f-string literal split as libcst splits it: ("text", start, end) for literal text
    and ("field", start, end) for each `{...}` (braces included). None when libcst reads it as
    opaque: concatenated with another literal, or a backslash in its literal text."""
    i = 0
    while i < len(code) and code[i] in "rRfFuUbB":
        i += 1
    if "f" not in code[:i].lower():
        return None  # `"a" f"{b}"`: a concatenation
    quote = code[i : i + 3] if code[i : i + 3] in ('"""', "'''") else code[i : i + 1]
    body, stop = i + len(quote), len(code) - len(quote)
    pieces: list[tuple[str, int, int]] = []
    literal = j = body
    while j < stop:
        char = code[j]
        if char == "\\" or code.startswith(quote, j):
            return None  # an escape, or the end of a first literal of several
        if char in "{}" and code[j + 1 : j + 2] == char:
            j += 2
        elif char == "{":
            end = _field_end(code, j, stop)
            if end is None:
                raise Unsure
            if j > literal:
                pieces.append(("text", literal, j))
            pieces.append(("field", j, end))
            literal = j = end
        else:
            j += 1
    if not code.startswith(quote, stop):
        raise Unsure
    if stop > literal:
        pieces.append(("text", literal, stop))
    return pieces


def _field_end(code: str, start: int, stop: int) -> int | None:
    """The index after the `}` closing the field opened at `start`."""
    depth = 0
    j = start
    while j < stop:
        char = code[j]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return j + 1
        elif char in "\"'":
            close = code.find(char, j + 1, stop)
            if close < 0 or code.startswith(char * 3, j):
                return None
            j = close
        elif char == "\\":
            return None
        j += 1
    return None


def _target_names(target: ast.expr) -> Iterable[str]:
    if isinstance(target, ast.Tuple | ast.List):
        for el in target.elts:
            yield from _target_names(el.value if isinstance(el, ast.Starred) else el)
        return
    name = dotted_name(target)
    if name:
        yield name


def _is_docstring(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, ast.Expr):
        return False
    if isinstance(stmt.value, ast.JoinedStr):
        raise Unsure  # libcst counts `f"a" "b"` as a docstring, not `f"a"`
    return isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str | bytes)


def _sole_return(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether the body is one `return` statement, after an optional docstring on a line of
    its own (`"doc"; return x` is one line of two statements, which libcst does not count)."""
    body = node.body
    if len(body) == 2 and _is_docstring(body[0]) and body[1].lineno != body[0].end_lineno:
        body = body[1:]
    return len(body) == 1 and isinstance(body[0], ast.Return)


def _is_test(node: ast.expr) -> bool:
    """A comparison, `and`/`or`, `not` or `isinstance(...)`: what a predicate returns."""
    if isinstance(node, ast.Compare | ast.BoolOp):
        return True
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, ast.Not)
    return isinstance(node, ast.Call) and _is_name_in(node.func, ("isinstance",))


def _single_string(text: str) -> bool:
    """Whether `text` is one string literal, which libcst reads as a `SimpleString`."""
    try:
        tokens = [
            t
            for t in tokenize.generate_tokens(io.StringIO(text).readline)
            if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER, tokenize.OP)
        ]
    except (tokenize.TokenError, SyntaxError):
        return False
    return len(tokens) == 1 and tokens[0].type == tokenize.STRING


class _BodyCollector:
    """`extract._BodyCollector` over an `ast` body: the same calls, raises, returns and local
    bindings, in the same order. Functions whose every rebinding is kept are left to libcst."""

    def __init__(
        self,
        conv: _Converter,
        text: _Text,
        params: frozenset[str],
        interest: ir.Interest,
        star_kwargs: frozenset[str],
        sole_return: bool,
        helpers: frozenset[str],
    ) -> None:
        self.conv = conv
        self._text = text
        self.helpers = helpers
        self.params = set(params)
        self.star_kwargs = star_kwargs
        self.interest = interest
        self.calls: list[ir.Call] = []
        self.raises: list[ir.Raise] = []
        self.returns: list[ir.Expr] = []
        self._sole_return = sole_return
        self._assigns: list[tuple[str, ast.Assign | ast.AugAssign]] = []
        self.nested: list[ast.FunctionDef | ast.AsyncFunctionDef] = []

    def walk(self, body: Sequence[ast.stmt]) -> None:
        # An explicit stack: a deeply nested expression must not exhaust the interpreter's.
        # Entries: (node, in an except handler, inside an f-string).
        stack: list[tuple[ast.AST, bool, bool]] = [(stmt, False, False) for stmt in reversed(body)]
        while stack:
            node, handler, fstring = stack.pop()
            if isinstance(node, ast.stmt):
                self.conv.enter(node)
            if isinstance(node, _FUNCTIONS):
                self.nested.append(node)
                self.params.add(node.name)
                continue
            if isinstance(node, ast.ClassDef | ast.Lambda):
                continue
            if isinstance(node, ast.ExceptHandler):
                self.conv.enter(node)
                handler = True
            elif isinstance(node, ast.match_case):
                self.conv.enter(node.pattern)
            elif isinstance(node, ast.JoinedStr):
                fstring = fstring or node.end_lineno != node.lineno
            elif isinstance(node, ast.Call):
                self._call(node, handler, fstring)
            elif isinstance(node, ast.Raise):
                self._raise(node)
            elif isinstance(node, ast.Return):
                self._return(node)
            elif isinstance(node, ast.Assign):
                self._assign(node)
            elif isinstance(node, ast.AugAssign):
                target = dotted_name(node.target)
                if (
                    target
                    and "." in target
                    and target.rpartition(".")[2] in self.interest.attributes
                ):
                    self._assigns.append((target, node))
            stack.extend((child, handler, fstring) for child in reversed(_source_order(node)))

    def _call(self, node: ast.Call, handler: bool, fstring: bool) -> None:
        if not self._wanted(node):
            return
        if fstring:
            raise Unsure  # positions inside an f-string of several lines are not exact
        converted = self.conv.call(node)
        self.calls.append(replace(converted, in_handler=True) if handler else converted)

    def _wanted(self, node: ast.Call) -> bool:
        func = node.func
        name = _final_name(func)
        if name is not None and name in self.interest.calls:
            return True
        if isinstance(func, ast.Name) and func.id in self.helpers:
            return True
        if isinstance(func, ast.Attribute) and _is_name_in(func.value, self.star_kwargs):
            return True
        if isinstance(func, ast.Call) and self._wanted(func):
            return True
        return any(_is_name_in(value, self.params) for value in _arg_values(node))

    def _raise(self, node: ast.Raise) -> None:
        if isinstance(node.exc, ast.Call | ast.Name | ast.Attribute):
            exc = self.conv.expr(node.exc)
            self.raises.append(ir.Raise(exc, exc.span))

    def _return(self, node: ast.Return) -> None:
        value = node.value
        if (
            _is_libcst_name(value)
            or (isinstance(value, ast.Call) and self._wanted(value))
            or (self._sole_return and value is not None and _is_test(value))
        ):
            assert value is not None
            self.returns.append(self.conv.expr(value))

    def _assign(self, node: ast.Assign) -> None:
        if len(node.targets) != 1:
            return
        option = self._option_write(node.targets[0])
        target = dotted_name(node.targets[0])
        if option is not None:
            self._assigns.append((option, node))
        elif target is not None:
            self._assigns.append((target, node))
            if self._carries_options(node.value):
                self.star_kwargs = self.star_kwargs | {target}

    def _option_write(self, target: ast.expr) -> str | None:
        """`kwargs["bind"] = True` on options a wrapper passes on (see `extract`)."""
        if not (
            isinstance(target, ast.Subscript)
            and isinstance(target.value, ast.Name)
            and target.value.id in self.star_kwargs
        ):
            return None
        index = self.conv.sole_index(target)
        if isinstance(index, ast.Constant) and isinstance(index.value, str):
            start, end = self._text.range(index)
            if _single_string(self._text.text[start:end]):
                return f"{target.value.id}[{index.value!r}]"
        return None

    def _carries_options(self, value: ast.expr) -> bool:
        if not isinstance(value, ast.Call):
            return False
        func = value.func
        if isinstance(func, ast.Attribute) and _is_name_in(func.value, self.star_kwargs):
            return True
        return any(_is_name_in(v, self.star_kwargs) for v in _arg_values(value))

    def locals(self) -> tuple[ir.Binding, ...]:
        return kept_locals(
            (*self.calls, *self.returns),
            self._assigns,
            self.interest.attributes,
            self._stored,
            self._value,
        )

    def _stored(self, target: str, node: ast.Assign | ast.AugAssign) -> bool:
        return isinstance(node, ast.Assign) and (
            ("." in target and _is_name_in(node.value, self.params))
            or "[" in target
            or self._carries_options(node.value)
        )

    def _value(self, node: ast.Assign | ast.AugAssign) -> ir.Expr:
        self.conv.enter(node)
        if isinstance(node, ast.Assign):
            return self.conv.expr(node.value)
        return ir.Opaque(*self.conv.statement(node))


class Extractor:
    """Reads one `ast` module into a `ModuleSummary`, statement by statement."""

    def __init__(
        self, tree: ast.Module, text: str, path: str, dotted: str, interest: ir.Interest
    ) -> None:
        self._tree = tree
        self._text = _Text(text)
        self._path = path
        self._dotted = dotted
        self._interest = interest
        self._helpers = frozenset(s.name for s in tree.body if isinstance(s, _FUNCTIONS))

    def summary(self, suppressions: tuple[ir.Suppression, ...]) -> ir.ModuleSummary:
        sink = Sink()
        for first, last, group in self._groups():
            part = Sink()
            self._text.within(group)
            try:
                conv = _Converter(self._text)
                for stmt in group:
                    self._top(stmt, conv, part)
            except Unsure:
                part = Sink()
                self._with_libcst(first, last, part)
            sink.extend(part)
        return assemble(sink, self._path, self._dotted, suppressions)

    def _groups(self) -> Iterable[tuple[int, int, list[ast.stmt]]]:
        """Top-level statements with the lines they take, those sharing a line together."""
        group: list[ast.stmt] = []
        first = last = 0
        text = self._text
        for stmt in self._tree.body:
            begin = min(
                (
                    stmt.lineno,
                    *(
                        text.point(text.text.rfind("@", 0, text.index(d.lineno, d.col_offset)))[0]
                        for d in _decorators(stmt)
                    ),
                )
            )
            end = stmt.end_lineno or stmt.lineno
            if group and begin <= last:
                group.append(stmt)
                last = max(last, end)
                continue
            if group:
                yield first, last, group
            group, first, last = [stmt], begin, end
        if group:
            yield first, last, group

    def _with_libcst(self, first: int, last: int, sink: Sink) -> None:
        import libcst as cst

        from retrylint.python.extract import Extractor as CstExtractor

        starts = self._text.starts
        code = self._text.text[starts[first - 1] : starts[last] if last < len(starts) else None]
        try:
            module = cst.parse_module(code)
        except (cst.ParserSyntaxError, RecursionError) as err:
            raise WholeFile from err
        extractor = CstExtractor(module, self._path, self._dotted, self._interest, self._helpers)
        extractor.collect(sink, first - 1)

    def _top(self, stmt: ast.stmt, conv: _Converter, sink: Sink) -> None:
        self._statement(stmt, conv, sink)
        if isinstance(stmt, (*_BLOCKS, *_FUNCTIONS, ast.ClassDef, ast.Match)):
            start, end = self._text.range(stmt)
            if RELATIVE.search(self._text.text, start, end):
                for node in ast.walk(stmt):
                    if isinstance(node, ast.ImportFrom):
                        sink.level = max(sink.level, node.level)

    def _statement(self, stmt: ast.stmt, conv: _Converter, sink: Sink) -> None:
        conv.enter(stmt)
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            sink.imports.extend(self._imports(stmt, conv, sink))
        elif isinstance(stmt, ast.Assign):
            span = conv.statement(stmt)[1]
            value = conv.expr(stmt.value)
            for target in stmt.targets:
                for name in _target_names(target):
                    sink.bindings.append(ir.Binding(name, value, span))
        elif isinstance(stmt, ast.AnnAssign | ast.AugAssign) and stmt.value is not None:
            bound = dotted_name(stmt.target)
            if bound:
                span = conv.statement(stmt)[1]
                sink.bindings.append(ir.Binding(bound, conv.expr(stmt.value), span))
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            sink.calls.append(conv.call(stmt.value))
        elif isinstance(stmt, _FUNCTIONS):
            self._function(stmt, conv, sink.functions, "")
        elif isinstance(stmt, ast.ClassDef):
            sink.classes.extend(self._class(stmt, conv, sink.functions, ""))
        elif isinstance(stmt, _BLOCKS):
            # Loops too: `for m in broker.middleware: m.max_retries = 3` configures an app.
            for child in _blocks(stmt):
                self._statement(child, conv, sink)

    def _imports(
        self, node: ast.Import | ast.ImportFrom, conv: _Converter, sink: Sink
    ) -> Iterable[ir.Import]:
        span = conv.statement(node)[1]
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname is not None:
                    yield ir.Import(alias.asname, alias.name, span)
                else:
                    head = alias.name.split(".")[0]
                    yield ir.Import(head, head, span)
            return
        base = node.module or ""
        level = node.level or 0
        sink.level = max(sink.level, level)
        for alias in node.names:
            if alias.name == "*":
                imp, target = ir.Import("*", base, span), base
            else:
                target = f"{base}.{alias.name}" if base else alias.name
                imp = ir.Import(alias.asname or alias.name, target, span)
            if level:
                sink.relative.append((imp, level - 1, target))
            yield imp

    def _name_span(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> ir.Span:
        """Where the name is: `ast` gives only where the definition starts."""
        start = self._text.index(node.lineno, node.col_offset)
        match = _DEF.match(self._text.text, start)
        name_start = match.end() if match else -1
        if not match or not self._text.text.startswith(node.name, name_start):
            raise Unsure  # the name on another line: libcst's span is not worth copying
        return self._text.span(name_start, name_start + len(node.name))

    def _def_span(
        self, name: ir.Span, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    ) -> ir.Span:
        column = self._text.point(self._text.index(node.lineno, node.col_offset))[1]
        return ir.Span(name.line, column, name.end_line, name.end_column)

    def _function(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef,
        conv: _Converter,
        out: list[ir.Function],
        prefix: str,
        closure: frozenset[str] = frozenset(),
        closure_kwargs: frozenset[str] = frozenset(),
    ) -> ir.Function:
        if node.name in self._interest.returns:
            raise Unsure  # every rebinding kept (`for`, `with ... as`, `del`): as libcst has them
        conv.enter(node)
        signature = node.args
        positional = [*signature.posonlyargs, *signature.args]
        params = tuple(a.arg for a in positional)
        kwonly = tuple(a.arg for a in signature.kwonlyargs)
        decorators = tuple(conv.expr(d) for d in node.decorator_list)
        name_span = self._name_span(node)
        skipped = len(positional) - len(signature.defaults)
        defaults = tuple(
            ir.Kwarg(arg.arg, conv.expr(default))
            for arg, default in [
                *zip(positional[skipped:], signature.defaults, strict=True),
                *zip(signature.kwonlyargs, signature.kw_defaults, strict=True),
            ]
            if default is not None
        )
        star_arg = signature.vararg.arg if signature.vararg else None
        star_kwarg = signature.kwarg.arg if signature.kwarg else None
        star = [s for s in (star_arg, star_kwarg) if s is not None]
        carried = closure | frozenset((*params, *kwonly, *star))
        star_kwargs = closure_kwargs | ({star_kwarg} if star_kwarg else set())
        sole_return = _sole_return(node)
        collector = _BodyCollector(
            conv, self._text, carried, self._interest, star_kwargs, sole_return, self._helpers
        )
        collector.walk(node.body)
        qualname = f"{prefix}{node.name}"
        func = ir.Function(
            name=node.name,
            qualname=qualname,
            params=params,
            decorators=decorators,
            span=self._def_span(name_span, node),
            name_span=name_span,
            calls=tuple(collector.calls),
            raises=tuple(collector.raises),
            returns=tuple(collector.returns),
            locals=collector.locals(),
            is_async=isinstance(node, ast.AsyncFunctionDef),
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
        self, node: ast.ClassDef, conv: _Converter, functions: list[ir.Function], prefix: str
    ) -> Iterable[ir.Class]:
        conv.enter(node)
        qualname = f"{prefix}{node.name}"
        decorators = tuple(conv.expr(d) for d in node.decorator_list)
        name_span = self._name_span(node)
        bases = tuple(conv.expr(b.value if isinstance(b, ast.Starred) else b) for b in node.bases)
        attributes: list[ir.Binding] = []
        methods: list[ir.Function] = []
        inner: list[ir.Class] = []
        for stmt in node.body:
            conv.enter(stmt)
            if isinstance(stmt, ast.Assign):
                names = [
                    name
                    for target in stmt.targets
                    for name in _target_names(target)
                    if name in self._interest.attributes
                ]
                if names:
                    span = conv.statement(stmt)[1]
                    value = conv.expr(stmt.value)
                    attributes.extend(ir.Binding(n, value, span) for n in names)
            elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                annotated = dotted_name(stmt.target)
                if annotated and annotated in self._interest.attributes:
                    span = conv.statement(stmt)[1]
                    attributes.append(ir.Binding(annotated, conv.expr(stmt.value), span))
            elif isinstance(stmt, _FUNCTIONS):
                own: list[ir.Function] = []
                methods.append(self._function(stmt, conv, own, f"{qualname}."))
                functions.extend(own[1:])  # functions nested inside the method
            elif isinstance(stmt, ast.ClassDef):
                inner.extend(self._class(stmt, conv, functions, f"{qualname}."))
        yield ir.Class(
            name=node.name,
            qualname=qualname,
            bases=bases,
            decorators=decorators,
            attributes=tuple(attributes),
            methods=tuple(methods),
            span=self._def_span(name_span, node),
            name_span=name_span,
        )
        yield from inner


def _decorators(stmt: ast.stmt) -> list[ast.expr]:
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return stmt.decorator_list
    return []


def _blocks(stmt: ast.stmt) -> list[ast.stmt]:
    """The statements inside a compound statement in libcst's order: body, `else`, `finally`,
    then the handlers'."""
    out: list[ast.stmt] = [*stmt.body]  # type: ignore[attr-defined]
    out.extend(getattr(stmt, "orelse", ()))
    out.extend(getattr(stmt, "finalbody", ()))
    for handler in getattr(stmt, "handlers", ()):
        out.extend(handler.body)
    return out


# Syntax of Python 3.12-3.14 that an older interpreter's `ast` rejects, at the start of the line
# it reports: a type parameter list, a `type` alias, an `except` of several unparenthesized
# types. None of it is in a summary (libcst reads it and the extractor passes it by).
_GENERIC = re.compile(r"[ \t]*(?:async[ \t]+)?(?:class|def)[ \t]+\w+[ \t]*(?=\[)")
_ALIAS = re.compile(r"[ \t]*(?=type[ \t]+\w+[ \t]*[\[=])")
_EXCEPT = re.compile(r"[ \t]*except[ \t]+(?=[^(*])")
# Each repair parses the file again: past this many, libcst reads it once instead.
_MAX_REPAIRS = 16
_FORM_FEED = re.compile(r"^[ \t\f]*\f[ \t\f]*[^\s#]", re.MULTILINE)


def parse(text: str) -> tuple[ast.Module, str]:
    """`ast.parse(text)`, and the text its positions refer to.

    Where the running Python is older than the syntax, the parts a summary never holds are
    blanked out (spaces, newlines kept, so no position moves) and the file parsed again: a type
    parameter list (`class Box[T]`), a `type` alias, `except A, B:`'s types. Any other error is
    raised, for libcst to read the file."""
    for _ in range(_MAX_REPAIRS):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # `"\d"`: the user's code, not ours to warn about
                return ast.parse(text), text
        except SyntaxError as err:
            repaired = _repair(text, err.lineno) if err.lineno else None
            if repaired is None:
                raise
            text = repaired
    raise SyntaxError("too much syntax newer than this Python's")


def _repair(text: str, lineno: int) -> str | None:
    starts = [0, *(m.end() for m in _NEWLINE.finditer(text))]
    if lineno > len(starts):
        return None
    start = starts[lineno - 1]
    end = starts[lineno] if lineno < len(starts) else len(text)
    line = text[start:end]
    if match := _GENERIC.match(line):
        begin = start + match.end()
        stop = _code_end(text, begin, line=False)
        if stop is None or not _type_parameters(text[begin + 1 : stop - 1]):
            return None
    elif match := _ALIAS.match(line):
        begin = start + match.end()
        stop = _code_end(text, begin, line=True)
        if stop is None or "(" in text[begin:stop]:
            return None  # a call in it: libcst's walk would see it
        alias = re.match(r"type\s+\w+\s*(\[.*\])?\s*=(.*)", text[begin:stop], re.DOTALL)
        if not alias or not _expressions(alias[2]):
            return None
        if alias[1] and not _type_parameters(alias[1][1:-1]):
            return None
    elif match := _EXCEPT.match(line):
        begin = start + match.end()
        stop = text.find(":", begin, end)
        types = text[begin:stop]
        if stop < 0 or "," not in types or re.search(r"[(#'\"]|\bas\b", types):
            return None
        if not _expressions(types):
            return None
    else:
        return None
    blank = re.sub(r"[^\n]", " ", text[begin:stop])
    return text[:begin] + blank + text[stop:]


def _expressions(code: str) -> bool:
    """Whether `code` is one or more expressions separated by commas."""
    try:
        ast.parse(f"({code}\n)", mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return bool(code.strip())


def _type_parameters(code: str) -> bool:
    """Whether `code` is a type parameter list: `T`, `T: bound`, `*Ts`, `**P`, `T = default`."""
    items, depth, last = [], 0, 0
    for index, char in enumerate(code):
        depth += (char in "([{") - (char in ")]}")
        if char == "," and depth == 0:
            items.append(code[last:index].strip())
            last = index + 1
    items.append(code[last:].strip())
    if items and not items[-1]:
        items.pop()  # a trailing comma
    if not items:
        return False
    for item in items:
        match = re.fullmatch(r"\*{0,2}[^\W\d]\w*\s*(?::(.*?))?\s*(?:=(.*))?", item, re.DOTALL)
        if not match or not all(_expressions(part) for part in match.groups() if part is not None):
            return False
    return True


def _code_end(text: str, start: int, *, line: bool) -> int | None:
    """Where the code from `start` ends: after the bracket closing the one at `start`, or with
    `line` at the newline ending its logical line (the end of the text when none). None when
    brackets stay open, or a string, comment, continuation (or with `line` a `;`) comes first:
    this scan does not follow them, so libcst reads the file."""
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0 and not line:
                return index + 1
        elif char in "\"'#\\" or (line and char == ";"):
            return None
        elif char == "\n" and depth == 0 and line:
            return index
    return len(text) if line and depth == 0 else None


def extract(
    tree: ast.Module,
    text: str,
    path: str,
    dotted: str,
    interest: ir.Interest,
    suppressions: tuple[ir.Suppression, ...] = (),
) -> ir.ModuleSummary:
    """Raises `WholeFile` when libcst must read the whole file instead."""
    if "\r" in text.replace("\r\n", ""):
        raise WholeFile  # lone carriage returns: line numbers differ
    if "\f" in text and _FORM_FEED.search(text):
        raise WholeFile  # a form feed before code: libcst counts columns after it differently
    if not text.isascii() and any(
        ("a" + char).isidentifier() and unicodedata.normalize("NFKC", char) != char
        for char in set(text)
        if not char.isascii()
    ):
        raise WholeFile  # `ast` normalizes identifiers (NFKC), libcst keeps them as written
    return Extractor(tree, text, path, dotted, interest).summary(suppressions)
