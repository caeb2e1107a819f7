"""The TOML key locator: every construct of the format, checked against hand-counted positions."""

from __future__ import annotations

import sys
import warnings
from textwrap import dedent

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retrylint.config.locate import KeyPath, Position, TomlIndex, decode_error_position

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]


def index(text: str) -> TomlIndex:
    # Every fixture must be valid TOML: the locator only promises exact positions for text
    # `tomllib` accepts, which is the only text the policy loader gives it.
    tomllib.loads(text)
    return TomlIndex(text)


SAMPLE = dedent(
    """\
    # leading comment with key = "value" and [fake.header]
    exclude = ["build/", # comment inside an array
      'tests/data/',
      "x",
    ]
    source-roots=["src"]

    [categories.critical]  # trailing comment
    description = '''
    [not.a.header]
    fake = "key"
    '''
    max-retries = {min = 1, max = 3}
    backoff = "exponential"

    [ categories . "quoted.name" ]
    jitter = true

    [tasks]
    "app.tasks.send_email" = "critical"
    'literal.key' = { category = "critical", owner = "payments" }
    "esc\\u00e9\\"q" = "critical"
    app.tasks.dotted = "critical"
    a . b = 1

    [rules]
    RL101 = "warning"
    """
)


@pytest.mark.parametrize(
    ("path", "key", "value"),
    [
        (("exclude",), (2, 1), (2, 11)),
        (("exclude", 0), (2, 12), (2, 12)),
        (("exclude", 1), (3, 3), (3, 3)),
        (("exclude", 2), (4, 3), (4, 3)),
        (("source-roots",), (6, 1), (6, 14)),
        (("source-roots", 0), (6, 15), (6, 15)),
        (("categories",), (8, 2), (8, 2)),
        (("categories", "critical"), (8, 13), (8, 13)),
        (("categories", "critical", "description"), (9, 1), (9, 15)),
        (("categories", "critical", "max-retries"), (13, 1), (13, 15)),
        (("categories", "critical", "max-retries", "min"), (13, 16), (13, 22)),
        (("categories", "critical", "max-retries", "max"), (13, 25), (13, 31)),
        (("categories", "critical", "backoff"), (14, 1), (14, 11)),
        (("categories", "quoted.name"), (16, 16), (16, 16)),
        (("categories", "quoted.name", "jitter"), (17, 1), (17, 10)),
        (("tasks",), (19, 2), (19, 2)),
        (("tasks", "app.tasks.send_email"), (20, 1), (20, 26)),
        (("tasks", "literal.key"), (21, 1), (21, 17)),
        (("tasks", "literal.key", "category"), (21, 19), (21, 30)),
        (("tasks", "literal.key", "owner"), (21, 42), (21, 50)),
        (("tasks", 'esc\u00e9"q'), (22, 1), (22, 18)),
        (("tasks", "app"), (23, 1), (23, 1)),
        (("tasks", "app", "tasks"), (23, 5), (23, 5)),
        (("tasks", "app", "tasks", "dotted"), (23, 11), (23, 20)),
        (("tasks", "a", "b"), (24, 5), (24, 9)),
        (("rules", "RL101"), (27, 1), (27, 9)),
    ],
    ids=lambda part: ".".join(map(str, part)) if isinstance(part, tuple) else None,
)
def test_sample_positions(path: KeyPath, key: tuple[int, int], value: tuple[int, int]) -> None:
    located = index(SAMPLE)
    assert located.key(path) == key
    assert located.value(path) == value


def test_positions_are_namedtuples() -> None:
    assert index("a = 1\n").value(("a",)) == Position(line=1, column=5)


def test_text_inside_multiline_strings_and_comments_is_not_indexed() -> None:
    located = index(SAMPLE)
    assert located.kind(("not",)) is None
    assert located.kind(("categories", "critical", "fake")) is None
    assert located.kind(("fake",)) is None
    assert located.kind(("categories", "critical", "max-retries")) == "inline-table"


def test_every_path_tomllib_reports_is_indexed() -> None:
    def paths(value: object, prefix: KeyPath) -> list[KeyPath]:
        found: list[KeyPath] = [prefix] if prefix else []
        if isinstance(value, dict):
            for key, item in value.items():
                found += paths(item, (*prefix, key))
        elif isinstance(value, list):
            for number, item in enumerate(value):
                found += paths(item, (*prefix, number))
        return found

    located = index(SAMPLE)
    for path in paths(tomllib.loads(SAMPLE), ()):
        assert located.kind(path) is not None, path


@pytest.mark.parametrize(
    ("kind_path", "kind"),
    [
        (("categories",), "implicit"),
        (("categories", "critical"), "table"),
        (("categories", "critical", "max-retries"), "inline-table"),
        (("exclude",), "array"),
        (("exclude", 0), "scalar"),
        (("tasks", "app"), "implicit"),
        (("tasks", "app", "tasks"), "implicit"),
        (("tasks", "literal.key"), "inline-table"),
        (("tasks", "app.tasks.send_email"), "scalar"),
        (("missing",), None),
    ],
)
def test_kind(kind_path: KeyPath, kind: str | None) -> None:
    assert index(SAMPLE).kind(kind_path) == kind


def test_table_written_after_an_implying_header_takes_its_own_position() -> None:
    located = index("[a.b.c]\nx = 1\n[a.b]\ny = 2\n")
    assert located.kind(("a", "b")) == "table"
    assert located.key(("a", "b")) == (3, 4)
    assert located.kind(("a",)) == "implicit"
    assert located.key(("a",)) == (1, 2)


def test_multiline_basic_string_with_escapes_and_closing_quotes() -> None:
    text = 'a = """one \\""" still\n"two""""\nb = 2\n'
    assert tomllib.loads(text)["a"] == 'one """ still\n"two"'
    located = index(text)
    assert located.value(("b",)) == (3, 5)
    assert located.kind(("two",)) is None


def test_multiline_literal_string_with_extra_quotes() -> None:
    text = "a = '''x\n[h]\n'''''\nb = 2\n"
    located = index(text)
    assert located.kind(("h",)) is None
    assert located.key(("b",)) == (4, 1)


def test_strings_holding_comment_and_bracket_characters() -> None:
    located = index("a = \"# not [a] comment\" # real\nb = '#'\nc = [\"]\", '}']\n")
    assert located.value(("b",)) == (2, 5)
    assert located.value(("c", 0)) == (3, 6)
    assert located.value(("c", 1)) == (3, 11)


def test_nested_arrays_and_arrays_of_inline_tables() -> None:
    text = dedent(
        """\
        matrix = [[1, 2], [3,
          4]]
        people = [
          {name = "a", tags = ["x", "y"]},
          { name = "b" },
        ]
        """
    )
    located = index(text)
    assert located.value(("matrix", 1)) == (1, 19)
    assert located.value(("matrix", 1, 1)) == (2, 3)
    assert located.key(("people", 0, "name")) == (4, 4)
    assert located.value(("people", 0, "tags", 1)) == (4, 29)
    assert located.key(("people", 1, "name")) == (5, 5)


def test_nested_inline_tables_and_dotted_keys_inside_them() -> None:
    located = index("t = { a = { b = 1 }, c.d = 2 }\n")
    assert located.key(("t", "a", "b")) == (1, 13)
    assert located.key(("t", "c")) == (1, 22)
    assert located.kind(("t", "c")) == "implicit"
    assert located.value(("t", "c", "d")) == (1, 28)


def test_arrays_of_tables_index_their_elements() -> None:
    text = dedent(
        """\
        [[job]]
        name = "a"
        [[job]]
        name = "b"
        [[job.step]]
        run = 1
        [[job.step]]
        run = 2
        [job.meta]
        k = 3
        """
    )
    located = index(text)
    assert located.kind(("job",)) == "array"
    assert located.key(("job",)) == (1, 3)
    assert located.key(("job", 1)) == (3, 3)
    assert located.value(("job", 1, "name")) == (4, 8)
    assert located.key(("job", 1, "step", 0)) == (5, 7)
    assert located.value(("job", 1, "step", 1, "run")) == (8, 7)
    assert located.key(("job", 1, "meta", "k")) == (10, 1)
    assert located.kind(("job", 0, "step")) is None


def test_scalars_of_every_type() -> None:
    text = dedent(
        """\
        date = 1979-05-27 07:32:00Z
        inf = -inf
        hex = 0xDEAD_BEEF
        local = 07:32:00
        after = true
        """
    )
    located = index(text)
    assert located.value(("after",)) == (5, 9)
    assert located.value(("inf",)) == (2, 7)


def test_columns_count_characters_not_bytes() -> None:
    located = index('"é€😀" = 1\nk = "é€😀"  # ü\nz = 2\n')
    assert located.value(("é€😀",)) == (1, 9)
    assert located.key(("z",)) == (3, 1)


def test_crlf_line_endings() -> None:
    located = index("a = 1\r\n[t]\r\nb = [\r\n  2,\r\n]\r\n")
    assert located.key(("t", "b")) == (3, 1)
    assert located.value(("t", "b", 0)) == (4, 3)


def test_escapes_in_quoted_keys_and_headers() -> None:
    text = '[t."a\\tb"]\n"\\U0001F600\\\\" = 1\n'
    located = index(text)
    assert located.key(("t", "a\tb")) == (1, 4)
    assert located.key(("t", "a\tb", "\U0001f600\\")) == (2, 1)


def test_missing_path_falls_back_to_the_closest_ancestor() -> None:
    located = index(SAMPLE)
    assert located.key(("categories", "critical", "jitter")) == (8, 13)
    assert located.value(("tasks", "literal.key", "note")) == (21, 17)
    assert located.key(("exclude", 7)) == (2, 1)
    assert located.key(("nowhere", "at", "all")) == (1, 1)
    assert located.value(()) == (1, 1)


def test_empty_document() -> None:
    assert index("").key(("a",)) == (1, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a = 1\nb = \n", (2, 5, "Invalid value")),
        ("a = 1\nb = [1,\n", (3, 1, "Invalid value")),
        ("[a]\n[a]\n", (2, 3, "Cannot declare ('a',) twice")),
        ('x = "\\q"', (1, 8, "Unescaped '\\' in a string")),
    ],
)
def test_decode_error_position(text: str, expected: tuple[int, int, str]) -> None:
    with pytest.raises(tomllib.TOMLDecodeError) as info:
        tomllib.loads(text)
    assert decode_error_position(info.value, text) == expected


def test_decode_error_without_position_suffix_points_at_the_start() -> None:
    with warnings.catch_warnings():
        # Python 3.14 deprecates building the error from a bare message.
        warnings.simplefilter("ignore", DeprecationWarning)
        error = tomllib.TOMLDecodeError("something odd")
    assert decode_error_position(error, "a = 1\n") == (1, 1, "something odd")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab.=\"'[]{},#\n\\ 1u"))))
def test_any_text_is_scanned_without_hanging_or_crashing(text: str) -> None:
    located = TomlIndex(text)
    line, column = located.key(("a",))
    assert 1 <= line <= text.count("\n") + 1
    assert column >= 1
