"""Which files are worth parsing: the adapters' marker patterns, answered quickly.

Every file of a repository passes through here, so this is the hottest loop of a run on a large
monorepo. Python's regex engine scans slowly for patterns with alternatives, while `bytes in
bytes` runs at memory speed. Each alternative of a marker pattern starts with a literal (a test
keeps it so); if none of those literals occurs in a file, no alternative can match and the regex
is skipped. When one does occur, the regex decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeAlias

_META = frozenset(b"\\.^$*+?{}[]|()")


def _alternatives(pattern: bytes) -> list[bytes]:
    """Top-level alternatives of a pattern (`|` outside groups)."""
    parts: list[bytes] = []
    depth = start = index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == 0x5C:  # a backslash escapes the next byte
            index += 2
            continue
        if char == 0x28:
            depth += 1
        elif char == 0x29:
            depth -= 1
        elif char == 0x7C and depth == 0:
            parts.append(pattern[start:index])
            start = index + 1
        index += 1
    parts.append(pattern[start:])
    return parts


def _literal_prefix(alternative: bytes) -> bytes:
    """The bytes an alternative must begin with; empty when it starts with syntax."""
    out = bytearray()
    index = 0
    while index < len(alternative):
        char = alternative[index]
        if char == 0x5C:
            escaped = alternative[index + 1 : index + 2]
            if escaped and escaped[0] in _META:
                out += escaped
                index += 2
                continue
            break
        if char in _META:
            break
        out.append(char)
        index += 1
    if index < len(alternative) and alternative[index] in b"*?{" and out:
        out = out[:-1]  # a quantifier makes the last literal optional
    return bytes(out)


@dataclass(frozen=True, slots=True)
class AllOf:
    """Markers that must all occur in a file, in any order (Temporal: the SDK's name and an
    activity). One regex cannot say so in linear time: `a[\\s\\S]*?b|b[\\s\\S]*?a` rescans
    the rest of the file from every occurrence of `a` when `b` is absent."""

    patterns: tuple[re.Pattern[bytes], ...]

    def search(self, data: bytes) -> bool:
        return all(pattern.search(data) for pattern in self.patterns)


Marker: TypeAlias = "re.Pattern[bytes] | AllOf"


def needles(pattern: Marker) -> tuple[bytes, ...] | None:
    """Literals one of which every match contains, or None when the pattern gives none."""
    if isinstance(pattern, AllOf):
        return needles(pattern.patterns[0])  # every pattern must match, the first one too
    if pattern.flags & re.IGNORECASE:
        return None
    found = tuple(_literal_prefix(alt) for alt in _alternatives(pattern.pattern))
    return found if all(found) else None


class Prefilter:
    """Answers "could any adapter find something in this file?"."""

    def __init__(self, patterns: Iterable[Marker]) -> None:
        self._checks = [(pattern, needles(pattern)) for pattern in patterns]

    def matches(self, data: bytes) -> bool:
        for pattern, literals in self._checks:
            if literals is not None and not any(literal in data for literal in literals):
                continue
            if pattern.search(data):
                return True
        return False
