"""Adapter prefilters stay fast: each alternative of a markers pattern starts with a literal.

The markers run over every file of the repository before anything is parsed; Python's regex
engine only skips ahead quickly when every alternative begins with a known character.
"""

from __future__ import annotations

import pytest

from retrylint.frameworks import GO_ADAPTERS, PYTHON_ADAPTERS
from retrylint.scan.prefilter import AllOf


def _alternatives(pattern: bytes) -> list[bytes]:
    parts, depth, start, i = [], 0, 0, 0
    while i < len(pattern):
        ch = pattern[i : i + 1]
        if ch == b"\\":
            i += 2
            continue
        if ch == b"(":
            depth += 1
        elif ch == b")":
            depth -= 1
        elif ch == b"|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


@pytest.mark.parametrize("adapter", [*PYTHON_ADAPTERS, *GO_ADAPTERS], ids=lambda a: a.key)
def test_every_alternative_starts_with_a_literal(adapter: object) -> None:
    markers = adapter.markers  # type: ignore[attr-defined]
    for pattern in markers.patterns if isinstance(markers, AllOf) else (markers,):
        for alternative in _alternatives(pattern.pattern):
            assert not alternative.startswith((b"\\b", b"^", b"\\w", b"\\s", b"(", b"[", b".")), (
                alternative
            )
