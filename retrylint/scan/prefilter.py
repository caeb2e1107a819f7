"""Which files are worth parsing: the adapters' marker patterns, answered quickly.

Every file of a repository passes through here, so this is the hottest loop of a run on a large
monorepo. Python's regex engine scans slowly for patterns with alternatives (it tries each at
every position), while `bytes in bytes` runs at memory speed, and so does a regex that starts
with a literal (the engine skips ahead to it). Each alternative of a marker pattern starts with
a literal (a test keeps it so), so each is its own regex, asked only of a file holding its
literal: three times faster than the whole alternation on real trees, where a later round's
names (`app`, `job`) occur in most files.

Which literals a file holds is one pass of an Aho-Corasick automaton over its bytes
(`ahocorasick_rs`, in Rust) rather than one `in` per literal: with some sixty literals, the
`in` scans were a tenth of a cold run on a large tree, and the automaton takes a fifteenth of
their time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeAlias

from ahocorasick_rs import BytesAhoCorasick

_META = frozenset(b"\\.^$*+?{}[]|()")


def _alternatives(pattern: bytes) -> list[bytes]:
    """Top-level alternatives of a pattern (`|` outside groups and character classes)."""
    parts: list[bytes] = []
    depth = start = index = 0
    klass = -1  # where the character class being read opened, or -1 outside one
    while index < len(pattern):
        char = pattern[index]
        if char == 0x5C:  # a backslash escapes the next byte
            index += 2
            continue
        if klass >= 0:
            # `]` first in a class (`[]a]`, `[^]a]`) is one of its characters.
            if char == 0x5D and index > klass + 1 and pattern[klass + 1 : index] != b"^":
                klass = -1
        elif char == 0x5B:
            klass = index
        elif char == 0x28:
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
        checks: list[tuple[Marker, tuple[bytes, ...] | None]] = []
        for pattern in patterns:
            literals = needles(pattern)
            split = _split(pattern, literals) if literals is not None else None
            checks.extend(split if split is not None else [(pattern, literals)])
        every = sorted({literal for _, literals in checks for literal in literals or ()})
        number = {literal: index for index, literal in enumerate(every)}
        # Each check with the numbers of its literals, one of which a file must hold for the
        # check's regex to be worth running; None when it must run on every file.
        self._checks = [
            (pattern, None if literals is None else frozenset(number[n] for n in literals))
            for pattern, literals in checks
        ]
        self._automaton = BytesAhoCorasick(every) if every else None

    def matches(self, data: bytes) -> bool:
        held: set[int] = set()
        if self._automaton is not None:
            found = self._automaton.find_matches_as_indexes(data, overlapping=True)
            held = {index for index, _, _ in found}
        for pattern, literals in self._checks:
            if literals is not None and held.isdisjoint(literals):
                continue
            if pattern.search(data):
                return True
        return False


def _split(
    pattern: Marker, literals: tuple[bytes, ...]
) -> list[tuple[Marker, tuple[bytes, ...] | None]] | None:
    """One regex per top-level alternative, with the literal it starts with (`literals`, its
    needles); None for an `AllOf`, or when an alternative does not compile alone."""
    if isinstance(pattern, AllOf):
        return None
    out: list[tuple[Marker, tuple[bytes, ...] | None]] = []
    for alternative, literal in zip(_alternatives(pattern.pattern), literals, strict=True):
        try:
            compiled = re.compile(alternative, pattern.flags)
        except re.error:
            return None
        out.append((compiled, (literal,)))
    return out
