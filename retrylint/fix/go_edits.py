"""Apply planned edits to one Go file as byte ranges found with tree-sitter.

Go has no concrete syntax tree library that keeps comments and layout as libcst does, but an
edit here only ever replaces one expression (asynq's `MaxRetry(n)` argument), so splicing
bytes keeps everything else as written. The range is the node tree-sitter finds at the cited
location, so a location that no longer names a whole expression fails instead of cutting one
in half, and the result must parse again without errors.
"""

from __future__ import annotations

from collections.abc import Sequence

from retrylint.fix.edits import GoReplace
from retrylint.golang.parse import GoFile, parse_go, walk


class GoEditFailed(Exception):
    """A Go edit whose expression was not found, or whose result does not parse."""

    def __init__(self, edit: GoReplace, why: str) -> None:
        super().__init__(why)
        self.edit = edit


def apply_go(source: bytes, path: str, edits: Sequence[GoReplace]) -> bytes:
    """`source` with every edit applied, the later ranges first so earlier offsets hold."""
    parsed, problem = parse_go(source, path)
    if problem is not None:
        raise GoEditFailed(edits[0], f"the file does not parse: {problem.message}")
    ranges: list[tuple[int, int, bytes]] = []
    for edit in edits:
        span = _span(parsed, edit)
        if span is None:
            raise GoEditFailed(edit, "no expression spans the cited location")
        ranges.append((*span, edit.code.encode("utf-8")))
    result = source
    for start, end, text in sorted(ranges, reverse=True):
        result = result[:start] + text + result[end:]
    edited, problem = parse_go(result, path)
    if problem is not None:
        raise GoEditFailed(edits[0], "the edited file does not parse")
    unused = sorted(_used_imports(parsed) - _used_imports(edited))
    if unused:
        # Go refuses to compile an unused import; retrylint does not remove imports.
        raise GoEditFailed(edits[0], f"the edit leaves the import of {unused[0]} unused")
    return result


def _used_imports(parsed: GoFile) -> set[str]:
    """The imported package names the file selects from (`math.MaxInt32` uses `math`)."""
    used: set[str] = set()
    for node in walk(parsed.root):
        if node.type == "selector_expression":
            operand = node.child_by_field_name("operand")
            if operand is not None and operand.type == "identifier":
                name = parsed.text(operand)
                if name in parsed.imports:
                    used.add(name)
    return used


def _span(parsed: GoFile, edit: GoReplace) -> tuple[int, int] | None:
    """The byte range of the outermost node whose location is exactly `edit.at` (with
    `edit.argument`, of that call's only argument)."""
    for node in walk(parsed.root):
        if not node.is_named or parsed.location(node) != edit.at:
            continue
        if not edit.argument:
            return node.start_byte, node.end_byte
        arguments = (
            node.child_by_field_name("arguments") if node.type == "call_expression" else None
        )
        if arguments is not None and arguments.named_child_count == 1:
            only = arguments.named_children[0]
            return only.start_byte, only.end_byte
    return None
