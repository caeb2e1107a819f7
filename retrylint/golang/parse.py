"""Go source bytes → a parsed file with positions in characters, or a located parse problem.

tree-sitter reports byte offsets and byte columns; every position retrylint prints counts
characters (CONTRACTS §4), so a file keeps its line starts and converts on demand. Walks here
are iterative: a deeply nested file must not exhaust Python's recursion limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, TypeAlias

from retrylint.model import Location
from retrylint.python.ir import Suppression

if TYPE_CHECKING:
    import tree_sitter

# A string alias: tree-sitter loads on the first Go parse, not whenever the asynq adapter is
# imported, and every use of `Node` is an annotation.
Node: TypeAlias = "tree_sitter.Node"

_SUPPRESSION = re.compile(
    r"//\s*retrylint:\s*ignore\[(?P<codes>[^\]]*)\](?P<reason>.*)$", re.IGNORECASE
)
# A function-like node: its body is a scope of its own.
FUNCTION_TYPES = frozenset({"function_declaration", "method_declaration", "func_literal"})


@cache
def _parser() -> tree_sitter.Parser:
    import tree_sitter
    import tree_sitter_go

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_go.language()))


@dataclass(frozen=True, slots=True)
class GoProblem:
    """Why a file could not be read as Go, at the first place parsing went wrong."""

    path: str
    line: int
    column: int
    message: str


@dataclass(eq=False)
class GoFile:
    """One parsed `.go` file: its tree, package clause, imports and top-level declarations."""

    path: str  # POSIX, relative to the project root
    source: bytes
    root: Node
    package: str
    # Local name → import path; a dot import is stored under ".", blank imports are dropped.
    imports: dict[str, str]
    _line_starts: list[int] = field(default_factory=list, repr=False)

    @property
    def directory(self) -> str:
        head, _, _ = self.path.rpartition("/")
        return head

    def text(self, node: Node) -> str:
        return self.source[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def _column(self, row: int, byte_column: int) -> int:
        start = self._line_starts[row] if row < len(self._line_starts) else len(self.source)
        return len(self.source[start : start + byte_column].decode("utf-8", "replace")) + 1

    def location(self, node: Node) -> Location:
        """1-based line and character column of a node, with its end."""
        start, end = node.start_point, node.end_point
        return Location(
            self.path,
            start.row + 1,
            self._column(start.row, start.column),
            end.row + 1,
            self._column(end.row, end.column),
        )

    def aliases_of(self, import_path: str) -> frozenset[str]:
        return frozenset(name for name, target in self.imports.items() if target == import_path)


def line_starts(source: bytes) -> list[int]:
    starts = [0]
    index = source.find(b"\n")
    while index != -1:
        starts.append(index + 1)
        index = source.find(b"\n", index + 1)
    return starts


def walk(node: Node, *, into_functions: bool = True) -> Iterator[Node]:
    """Every named descendant of `node` in source order (pre-order), without recursion.

    With `into_functions=False` the bodies of nested function literals are skipped.
    """
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if not into_functions and current is not node and current.type in FUNCTION_TYPES:
            continue
        stack.extend(reversed(current.named_children))


def string_value(node: Node, source: bytes) -> str | None:
    """The value of a Go string literal node, with escapes decoded."""
    raw = source[node.start_byte : node.end_byte].decode("utf-8", "replace")
    if node.type == "raw_string_literal":
        return raw[1:-1].replace("\r", "")
    if node.type != "interpreted_string_literal":
        return None
    return _unescape(raw[1:-1])


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _unescape(body: str) -> str | None:
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1 : i + 2]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt in ('"', "\\", "'"):
            out.append(nxt)
            i += 2
        elif nxt in ("x", "u", "U"):
            width = {"x": 2, "u": 4, "U": 8}[nxt]
            digits = body[i + 2 : i + 2 + width]
            try:
                out.append(chr(int(digits, 16)))
            except ValueError:
                return None
            i += 2 + width
        elif nxt.isdigit():
            try:
                out.append(chr(int(body[i + 1 : i + 4], 8)))
            except ValueError:
                return None
            i += 4
        else:
            return None
    return "".join(out)


def _first_error(root: Node) -> Node | None:
    for node in _all_nodes(root):
        if node.is_error or node.is_missing:
            return node
    return None


def _all_nodes(root: Node) -> Iterator[Node]:
    """Named and anonymous nodes in source order; only subtrees that contain errors."""
    stack = [root]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed([c for c in current.children if c.has_error or c.is_missing]))


def parse_go(source: bytes, path: str) -> tuple[GoFile, GoProblem | None]:
    """Parse a Go file; a syntax error is reported where tree-sitter first gave up.

    The tree is returned even then (tree-sitter recovers), so declarations elsewhere in a
    broken file can still be looked up.
    """
    tree = _parser().parse(source)
    root = tree.root_node
    starts = line_starts(source)
    package = ""
    imports: dict[str, str] = {}
    for child in root.named_children:
        if child.type == "package_clause":
            ident = child.named_children[0] if child.named_children else None
            package = source[ident.start_byte : ident.end_byte].decode() if ident else ""
        elif child.type == "import_declaration":
            for spec in walk(child):
                if spec.type != "import_spec":
                    continue
                path_node = spec.child_by_field_name("path")
                target = string_value(path_node, source) if path_node is not None else None
                if not target:
                    continue
                name_node = spec.child_by_field_name("name")
                if name_node is None:
                    local = _default_name(target)
                else:
                    local = source[name_node.start_byte : name_node.end_byte].decode()
                if local != "_":
                    imports[local] = target
    go_file = GoFile(path, source, root, package, imports, starts)
    if root.has_error:
        error = _first_error(root)
        where = error if error is not None else root
        location = go_file.location(where)
        if error is not None and error.is_missing:
            message = f"syntax error: missing `{error.type}`"
        else:
            snippet = go_file.text(where).split("\n", 1)[0][:40]
            message = f"syntax error: unexpected `{snippet}`" if snippet else "syntax error"
        return go_file, GoProblem(path, location.line, location.column, message)
    return go_file, None


def _default_name(import_path: str) -> str:
    """The name an import binds without an alias, as Go tooling guesses it from the path.

    The real name is the imported package's `package` clause; for project packages the caller
    checks that too (`GoProject.package_name`).
    """
    parts = import_path.split("/")
    last = parts[-1]
    if re.fullmatch(r"v[0-9]+", last) and len(parts) > 1:
        last = parts[-2]
    last = last.split(".", 1)[0]
    if last.startswith("go-") and len(last) > 3:
        last = last[3:]
    return last.replace("-", "_")


def find_suppressions(go_file: GoFile) -> tuple[Suppression, ...]:
    """`// retrylint: ignore[...] reason` comments, read from comment nodes only."""
    if b"retrylint" not in go_file.source:
        return ()
    found: list[Suppression] = []
    for node in walk(go_file.root):
        if node.type != "comment":
            continue
        match = _SUPPRESSION.search(go_file.text(node))
        if match:
            codes = tuple(c.strip().upper() for c in match["codes"].split(",") if c.strip())
            location = go_file.location(node)
            found.append(
                Suppression(location.line, location.column, codes, match["reason"].strip(" -—:"))
            )
    return tuple(found)
