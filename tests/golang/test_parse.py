"""Go parsing: character columns, syntax errors, suppression comments, deep nesting."""

from __future__ import annotations

from retrylint.golang.parse import find_suppressions, parse_go, string_value, walk


def test_columns_count_characters_not_bytes() -> None:
    source = 'package main\n\nvar s = "héllo"; var t = 1\n'.encode()
    file, problem = parse_go(source, "a.go")
    assert problem is None
    (t_spec,) = [
        n for n in walk(file.root) if n.type == "var_spec" and file.text(n).startswith("t")
    ]
    location = file.location(t_spec)
    # "é" is two bytes but one character: `t` is the 22nd character of its line.
    assert (location.line, location.column) == (3, 22)


def test_imports_aliases_and_names() -> None:
    source = b"""package p

import (
    q "github.com/hibiken/asynq"
    _ "embed"
    "gopkg.in/yaml.v3"
    "github.com/redis/go-redis/v9"
)
"""
    file, problem = parse_go(source, "p/p.go")
    assert problem is None
    assert file.package == "p" and file.directory == "p"
    assert file.imports == {
        "q": "github.com/hibiken/asynq",
        "yaml": "gopkg.in/yaml.v3",
        "redis": "github.com/redis/go-redis/v9",
    }


def test_syntax_error_is_located() -> None:
    _, problem = parse_go(b"package main\n\nfunc main() {\n\tx := (1 +\n}\n", "bad.go")
    assert problem is not None
    assert problem.path == "bad.go" and problem.line >= 4
    assert problem.message.startswith("syntax error")


def test_suppressions_are_comments_only() -> None:
    source = b"""package main

// retrylint: ignore[rl101, RL203] reviewed - see ADR 7
var s = "// retrylint: ignore[RL102] not a comment"
var t = 1 // retrylint: ignore[RL103]
"""
    file, _ = parse_go(source, "a.go")
    found = [(s.line, s.column, s.codes, s.reason) for s in find_suppressions(file)]
    assert found == [
        (3, 1, ("RL101", "RL203"), "reviewed - see ADR 7"),
        (5, 11, ("RL103",), ""),
    ]


def test_escapes_in_string_literals() -> None:
    file, _ = parse_go(b'package p\nconst a = "x\\ty\\u00e9"\nconst b = `raw\\n`\n', "p.go")
    literals = [n for n in walk(file.root) if n.type.endswith("string_literal")]
    assert [string_value(n, file.source) for n in literals] == ["x\ty\u00e9", "raw\\n"]


def test_deep_nesting_does_not_recurse() -> None:
    depth = 5000
    source = b"package p\nvar x = " + b"(" * depth + b"1" + b")" * depth + b"\n"
    file, _ = parse_go(source, "deep.go")
    assert sum(1 for _ in walk(file.root)) > depth
