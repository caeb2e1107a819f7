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
    if parse_go(result, path)[1] is not None:
        raise GoEditFailed(edits[0], "the edited file does not parse")
    return result


def _span(parsed: GoFile, edit: GoReplace) -> tuple[int, int] | None:
    """The byte range of the outermost node whose location is exactly `edit.at`."""
    for node in walk(parsed.root):
        if node.is_named and parsed.location(node) == edit.at:
            return node.start_byte, node.end_byte
    return None
