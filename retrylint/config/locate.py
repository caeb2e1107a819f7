"""Line and column of every key and value in a TOML document.

`tomllib` returns plain dicts without positions, and an error message without `file:line:col`
sends users hunting through their config. This scanner walks the text once at the token level
and indexes every key path it meets. It is meant to run on text `tomllib` has already accepted:
on malformed text it still terminates, but positions are best effort.
"""

from __future__ import annotations

import bisect
import re
import sys
from typing import Literal, NamedTuple, TypeAlias

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

KeyPath: TypeAlias = tuple[str | int, ...]
"""Keys from the document root; an `int` is an index into an array or an array of tables."""

Kind: TypeAlias = Literal["table", "implicit", "inline-table", "array", "scalar"]
"""How a path got its value.

`table` is a `[header]` (or one `[[header]]` element), `implicit` a table that only exists as a
prefix of a dotted key or header (`a` in `a.b = 1`). The policy loader needs the difference:
`app.tasks.send = "critical"` under `[tasks]` is an implicit table, `"app" = {...}` is not.
"""


class Position(NamedTuple):
    """1-based; `column` counts characters, as `tomllib` does in its own messages."""

    line: int
    column: int


class _Entry(NamedTuple):
    key: int
    value: int
    kind: Kind


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {
    "b": "\b",
    "t": "\t",
    "n": "\n",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    '"': '"',
    "\\": "\\",
}
_HEX_ESCAPE_WIDTH = {"x": 2, "u": 4, "U": 8}
# Characters that end a bare value (number, boolean, date); strings and containers are
# consumed by their own delimiters.
_SCALAR_END = frozenset(",]}#\n")
_ERROR_SUFFIX = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)\s*$")


class TomlIndex:
    """Positions of the keys and values of one TOML text.

    A path that is not in the document resolves to its closest indexed ancestor, and finally to
    line 1, column 1: an error about a missing key is best shown where the key should go.
    """

    def __init__(self, text: str) -> None:
        self._line_starts = _line_starts(text)
        self._entries = _Scanner(text).scan()

    def key(self, path: KeyPath) -> Position:
        """Where the key is written; for an array element, where the element starts."""
        entry = self._nearest(path)
        return _position(self._line_starts, entry.key if entry else 0)

    def value(self, path: KeyPath) -> Position:
        """Where the value starts, for "wrong type" errors; a `[header]` table's is its key's."""
        entry = self._nearest(path)
        return _position(self._line_starts, entry.value if entry else 0)

    def kind(self, path: KeyPath) -> Kind | None:
        entry = self._entries.get(path)
        return entry.kind if entry else None

    def _nearest(self, path: KeyPath) -> _Entry | None:
        for length in range(len(path), 0, -1):
            entry = self._entries.get(path[:length])
            if entry is not None:
                return entry
        return None


def decode_error_position(error: tomllib.TOMLDecodeError, text: str) -> tuple[int, int, str]:
    """Split a `tomllib` error into line, column and the message without its position suffix.

    Only the message carries the position on Python < 3.14 ("... (at line 3, column 7)" or
    "... (at end of document)"), so it is parsed rather than read from attributes.
    """
    message = str(error)
    match = _ERROR_SUFFIX.search(message)
    if match is None:
        return 1, 1, message
    bare = message[: match.start()]
    if match.group(1) is None:
        line, column = _position(_line_starts(text), len(text))
        return line, column, bare
    return int(match.group(1)), int(match.group(2)), bare


def _line_starts(text: str) -> list[int]:
    return [0, *(match.end() for match in re.finditer("\n", text))]


def _position(line_starts: list[int], offset: int) -> Position:
    line = bisect.bisect_right(line_starts, offset)
    return Position(line, offset - line_starts[line - 1] + 1)


class _Scanner:
    """One pass over the text; every method leaves `pos` just after what it consumed."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.entries: dict[KeyPath, _Entry] = {}
        # Elements seen so far of each array of tables, keyed by its resolved path, so that
        # `[[a.b]]` can be placed under the latest `[[a]]` element.
        self.table_counts: dict[KeyPath, int] = {}

    def scan(self) -> dict[KeyPath, _Entry]:
        table: KeyPath = ()
        while True:
            self._skip_blank(newlines=True)
            if self.pos >= len(self.text):
                return self.entries
            if self.text.startswith("[[", self.pos):
                table = self._header(array=True)
            elif self.text[self.pos] == "[":
                table = self._header(array=False)
            else:
                self._key_value(table)
            self._skip_blank(newlines=False)
            end = self.text.find("\n", self.pos)
            self.pos = len(self.text) if end < 0 else end

    def _record(self, path: KeyPath, key: int, value: int, kind: Kind) -> None:
        # The first definition wins, except that a table written out later replaces one that
        # was only implied by a longer header or dotted key.
        existing = self.entries.get(path)
        if existing is None or (existing.kind == "implicit" and kind != "implicit"):
            self.entries[path] = _Entry(key, value, kind)

    def _header(self, *, array: bool) -> KeyPath:
        self.pos += 2 if array else 1
        segments = self._key()
        path: KeyPath = ()
        for number, (name, offset) in enumerate(segments, start=1):
            path = (*path, name)
            if number < len(segments):
                self._record(path, offset, offset, "implicit")
                if path in self.table_counts:
                    path = (*path, self.table_counts[path] - 1)
            elif array:
                count = self.table_counts.get(path, 0)
                self.table_counts[path] = count + 1
                self._record(path, offset, offset, "array")
                path = (*path, count)
                self._record(path, offset, offset, "table")
            else:
                self._record(path, offset, offset, "table")
        self._skip_blank(newlines=False)
        closing = "]]" if array else "]"
        if self.text.startswith(closing, self.pos):
            self.pos += len(closing)
        return path

    def _key_value(self, table: KeyPath) -> None:
        segments = self._key()
        if not segments:
            return
        self._skip_blank(newlines=False)
        if self.text.startswith("=", self.pos):
            self.pos += 1
        self._skip_blank(newlines=False)
        path = table
        for name, offset in segments[:-1]:
            path = (*path, name)
            self._record(path, offset, offset, "implicit")
        self._value((*path, segments[-1][0]), segments[-1][1])

    def _key(self) -> list[tuple[str, int]]:
        """A possibly dotted key as (decoded segment, offset) pairs; empty when none is here."""
        segments: list[tuple[str, int]] = []
        while True:
            self._skip_blank(newlines=False)
            offset = self.pos
            if self.text.startswith('"', offset):
                name = self._basic_string()
            elif self.text.startswith("'", offset):
                name = self._literal_string()
            else:
                match = _BARE_KEY.match(self.text, offset)
                if match is None:
                    return segments
                name = match.group()
                self.pos = match.end()
            segments.append((name, offset))
            self._skip_blank(newlines=False)
            if not self.text.startswith(".", self.pos):
                return segments
            self.pos += 1

    def _value(self, path: KeyPath, key_offset: int) -> None:
        start = self.pos
        if self.text.startswith("{", start):
            self._record(path, key_offset, start, "inline-table")
            self._inline_table(path)
        elif self.text.startswith("[", start):
            self._record(path, key_offset, start, "array")
            self._array(path)
        else:
            self._record(path, key_offset, start, "scalar")
            self._scalar()

    def _inline_table(self, path: KeyPath) -> None:
        self.pos += 1
        while True:
            # Newlines and comments are TOML 1.1 only, but skipping them costs nothing.
            self._skip_blank(newlines=True)
            if self.pos >= len(self.text) or self.text[self.pos] == "}":
                self.pos += 1
                return
            if self.text[self.pos] == ",":
                self.pos += 1
                continue
            segments = self._key()
            if not segments:
                return
            self._skip_blank(newlines=False)
            if self.text.startswith("=", self.pos):
                self.pos += 1
            self._skip_blank(newlines=False)
            inner = path
            for name, offset in segments[:-1]:
                inner = (*inner, name)
                self._record(inner, offset, offset, "implicit")
            self._value((*inner, segments[-1][0]), segments[-1][1])

    def _array(self, path: KeyPath) -> None:
        self.pos += 1
        index = 0
        while True:
            self._skip_blank(newlines=True)
            if self.pos >= len(self.text) or self.text[self.pos] == "]":
                self.pos += 1
                return
            if self.text[self.pos] == ",":
                self.pos += 1
                continue
            start = self.pos
            self._value((*path, index), start)
            index += 1
            if self.pos == start:
                return

    def _scalar(self) -> None:
        text = self.text
        if text.startswith('"""', self.pos):
            self._multiline_string('"')
        elif text.startswith("'''", self.pos):
            self._multiline_string("'")
        elif text.startswith('"', self.pos):
            self._basic_string()
        elif text.startswith("'", self.pos):
            self._literal_string()
        else:
            while self.pos < len(text) and text[self.pos] not in _SCALAR_END:
                self.pos += 1

    def _multiline_string(self, quote: str) -> None:
        text = self.text
        delimiter = quote * 3
        self.pos += 3
        while self.pos < len(text):
            if quote == '"' and text[self.pos] == "\\":
                self.pos += 2
            elif text.startswith(delimiter, self.pos):
                self.pos += 3
                # Up to two quotes right before the delimiter belong to the content.
                for _ in range(2):
                    if text.startswith(quote, self.pos):
                        self.pos += 1
                return
            else:
                self.pos += 1

    def _basic_string(self) -> str:
        text = self.text
        self.pos += 1
        chars: list[str] = []
        while self.pos < len(text) and text[self.pos] not in '"\n':
            char = text[self.pos]
            if char != "\\" or self.pos + 1 >= len(text):
                chars.append(char)
                self.pos += 1
                continue
            escape = text[self.pos + 1]
            width = _HEX_ESCAPE_WIDTH.get(escape)
            if width is None:
                chars.append(_ESCAPES.get(escape, escape))
                self.pos += 2
                continue
            digits = text[self.pos + 2 : self.pos + 2 + width]
            try:
                chars.append(chr(int(digits, 16)))
            except ValueError:
                chars.append(digits)
            self.pos += 2 + width
        if text.startswith('"', self.pos):
            self.pos += 1
        return "".join(chars)

    def _literal_string(self) -> str:
        start = self.pos + 1
        end = start
        while end < len(self.text) and self.text[end] not in "'\n":
            end += 1
        self.pos = end + 1 if self.text.startswith("'", end) else end
        return self.text[start:end]

    def _skip_blank(self, *, newlines: bool) -> None:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t\r" or (newlines and char == "\n"):
                self.pos += 1
            elif char == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            else:
                return
