"""Every malformed policy of CONTRACTS §2, in `retrylint.toml` and in `pyproject.toml`, through
the command line: exit 2, nothing on stdout, and one line on stderr that says where
(`file:line:col`), what is wrong and, after a semicolon, what to write instead.

`tests/test_policy.py` checks the loader's messages case by case; this checks what a user
running `retrylint check` or `retrylint inventory` sees, including positions inside a
`[tool.retrylint]` table that does not start on line 1.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retrylint.cli import app

TASKS = "from celery import shared_task\n\n@shared_task(max_retries=3)\ndef t():\n    pass\n"
PYPROJECT_HEAD = '[project]\nname = "demo"\n\n[tool.retrylint]\n'
PYPROJECT_SHIFT = 4  # lines before the policy's first line inside pyproject.toml
SYNTAX_ERROR = (
    "invalid TOML: Expected ']' at the end of a table declaration; correct the syntax here"
)
PYPROJECT_COLUMNS = {SYNTAX_ERROR: 20 + len("tool.retrylint.")}

# (id, policy text, line, column, message with `{prefix}` for the table path prefix)
CASES = [
    (
        "task-decorator-names-nothing",
        '[frameworks.celery]\ntask-decorators = ["app.nowhere.task"]\n',
        2,
        20,
        'task-decorators: "app.nowhere.task" names no function or class of the project; write '
        'the dotted path it is imported from (such as "app.utils.task", re-exports included), '
        "or remove the entry: wrappers are also recognised without it",
    ),
    (
        "toml-syntax",
        'default-category = "default"\n[categories.default\nbackoff = "fixed"\n',
        2,
        20,
        SYNTAX_ERROR,
    ),
    (
        "unknown-key",
        "[categories.default]\nmax-retry = { max = 3 }\n",
        2,
        1,
        'unknown key "max-retry" in [{prefix}categories.default]; write "max-retries" instead',
    ),
    (
        "wrong-type",
        '[categories.default]\njitter = "yes"\n',
        2,
        10,
        '{prefix}categories.default.jitter must be true or false, not the string "yes"; '
        "write jitter = true",
    ),
    (
        "unknown-category",
        '[categories.default]\nbackoff = "fixed"\n[tasks]\n"app.tasks.x" = "critcal"\n',
        4,
        17,
        'unknown category "critcal"; define [categories.critcal]',
    ),
    (
        "min-greater-than-max",
        "[categories.default]\nmax-retries = { min = 5, max = 2 }\n",
        2,
        23,
        "{prefix}categories.default.max-retries has min = 5 greater than max = 2; "
        "make min at most 2, or raise max",
    ),
    (
        "bad-duration",
        '[categories.default]\nmax-window = "10 minutes"\n',
        2,
        14,
        '{prefix}categories.default.max-window = "10 minutes" is not a duration ("10 minutes" '
        "is not a whole number followed by a unit); write a whole number with a unit s, m, h "
        'or d ("90s", "15m", "6h", "2d"), units from the largest down ("1h30m", "2d12h"), or a '
        "whole number of seconds (900)",
    ),
    (
        "bad-glob-empty",
        '[categories.default]\nbackoff = "fixed"\n[tasks]\n"" = "default"\n',
        4,
        1,
        'task key "" is empty; write a task name or a glob such as "app.tasks.*"',
    ),
    (
        "bad-glob-whitespace",
        '[categories.default]\nbackoff = "fixed"\n[tasks]\n"app tasks.*" = "default"\n',
        4,
        1,
        'task key "app tasks.*" contains whitespace, which no task name has; remove it, or '
        "match any character with ?",
    ),
    (
        "bad-glob-unclosed-bracket",
        '[categories.default]\nbackoff = "fixed"\n[tasks]\n"app.tasks.[ab" = "default"\n',
        4,
        1,
        'task glob "app.tasks.[ab" has an unclosed [; close it with ], or write [[] to match '
        "a literal [",
    ),
    (
        "same-task-twice",
        '[categories.default]\nbackoff = "fixed"\n[tasks]\n'
        '"app.tasks.x" = "default"\n" app.tasks.x" = "default"\n',
        5,
        1,
        'task "app.tasks.x" is already listed on line {first} (keys are compared without '
        "surrounding spaces); keep one of the two entries",
    ),
    (
        "include-tests-wrong-type",
        'include-tests = "yes"\n',
        1,
        17,
        '{prefix}include-tests must be true or false, not the string "yes"; '
        "write include-tests = true",
    ),
    (
        "respect-gitignore-wrong-type",
        "respect-gitignore = []\n",
        1,
        21,
        "{prefix}respect-gitignore must be true or false, not an array; "
        "write respect-gitignore = false",
    ),
    (
        "extend-exclude-wrong-type",
        "extend-exclude = { dir = true }\n",
        1,
        18,
        "{prefix}extend-exclude must be an array of strings, not a table; "
        'write extend-exclude = ["generated/"]',
    ),
    (
        "extend-exclude-bad-pattern",
        'extend-exclude = ["gen/", "[z-a]"]\n',
        1,
        27,
        '"[z-a]" is not a valid gitignore-style pattern; write a pattern such as "build/" or '
        '"**/migrations/*.py"',
    ),
    (
        "baseline-absolute",
        'baseline = "/ci/baseline.json"\n',
        1,
        12,
        'baseline "/ci/baseline.json" is not a file path relative to the project root; write '
        'it with "/", such as ".retrylint-baseline.json"',
    ),
    (
        "baseline-wrong-type",
        "baseline = true\n",
        1,
        12,
        "{prefix}baseline must be a string, not the boolean true; "
        'write baseline = ".retrylint-baseline.json"',
    ),
    (
        "select-unknown-prefix",
        'select = ["RL1", "RL9"]\n',
        1,
        18,
        '"RL9" is not a rule code or the prefix of one; write a code such as "RL102", a prefix '
        'such as "RL1", or "ALL"',
    ),
    (
        "ignore-wrong-type",
        'ignore = "RL103"\n',
        1,
        10,
        '{prefix}ignore must be an array of strings, not the string "RL103"; '
        'write ignore = ["RL1", "RL202"]',
    ),
    (
        "per-file-ignores-misspelled-code",
        '[per-file-ignores]\n"migrations/*" = ["RL1O3"]\n',
        2,
        19,
        '"RL1O3" is not a rule code or the prefix of one; write "RL103", a prefix such as '
        '"RL1", or "ALL"',
    ),
    (
        "unquoted-dotted-task-key",
        '[categories.default]\nbackoff = "fixed"\n[tasks]\napp.tasks.x = "default"\n',
        4,
        1,
        "app.tasks.x is an unquoted dotted key, which TOML reads as nested tables; quote the "
        'task name: "app.tasks.x" = ...',
    ),
]


def as_pyproject(text: str) -> str:
    """The same policy under `[tool.retrylint]`, every table header prefixed."""
    lines = [
        f"[tool.retrylint.{line[1:]}" if line.startswith("[") else line
        for line in text.splitlines()
    ]
    return PYPROJECT_HEAD + "\n".join(lines) + "\n"


def expected_line(name: str, line: int, column: int, message: str) -> str:
    """The error line for the policy in `retrylint.toml`, or moved under `[tool.retrylint]`."""
    if name == "pyproject.toml":
        line += PYPROJECT_SHIFT
        # Only a position on a table header moves right, by the inserted `tool.retrylint.`.
        column = PYPROJECT_COLUMNS.get(message, column)
        prefix, first = "tool.retrylint.", 4 + PYPROJECT_SHIFT
    else:
        prefix, first = "", 4
    return f"{name}:{line}:{column}: " + message.format(prefix=prefix, first=first)


@pytest.mark.parametrize("command", ["check", "inventory"])
@pytest.mark.parametrize("name", ["retrylint.toml", "pyproject.toml"])
@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_config_error_exits_2_with_one_located_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    name: str,
    text: str,
    line: int,
    column: int,
    message: str,
) -> None:
    (tmp_path / "tasks.py").write_text(TASKS, encoding="utf-8")
    body = as_pyproject(text) if name == "pyproject.toml" else text
    (tmp_path / name).write_text(body, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, [command, "."])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [expected_line(name, line, column, message)]
    # What is wrong; what to write instead.
    assert re.match(r"^\S+:\d+:\d+: [^;]+; \S", result.stderr)


@pytest.mark.parametrize("flag", [[], ["--exit-zero"], ["--fail-on", "error"]])
def test_config_error_from_the_real_entry_point(tmp_path: Path, flag: list[str]) -> None:
    """The console entry point: exit 2 whatever `--exit-zero` or `--fail-on` say."""
    (tmp_path / "tasks.py").write_text(TASKS, encoding="utf-8")
    (tmp_path / "retrylint.toml").write_text("[tasks]\napp.tasks.x = 'default'\n", "utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "retrylint", "check", *flag, "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "retrylint.toml:2:1: app.tasks.x is an unquoted dotted key, which TOML reads as nested "
        'tables; quote the task name: "app.tasks.x" = ...'
    ]


def test_explicit_config_is_located_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "tasks.py").write_text(TASKS, encoding="utf-8")
    (tmp_path / "conf" / "policy.toml").write_text(
        '[categories.default]\nbackoff = "fast"\n', encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["check", "--config", "conf/policy.toml", "."])
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert line.startswith("conf/policy.toml:2:11: "), line
    assert "; " in line


MANY_MISTAKES = """\
include-tests = "yes"
review-every = "3 months"
select = ["RL1", "RL9", "RL8"]

[frameworks.celery]
version = "latest"

[categories.critical]
max-retries = { min = 5, max = 2 }
max-window = "1h"
min-window = "2h"
jiter = true

[categories.broken]
backoff = "fast"
alert = "no"

[tasks]
"app.tasks.a" = { category = "broken", reviewed = "2026-06-01", rate = "fast" }
"app.tasks.b" = "critcal"
"app.tasks.c" = { category = "critical", idempotent = 1 }

[rules]
RL999 = "error"
RL101 = "loud"
"""


def test_every_mistake_of_a_file_is_reported_in_one_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One line per mistake, sorted by position; a broken category still exists by name, so
    its tasks are not also "unknown category". (`task-decorators` naming nothing can only be
    told once the file is valid and the project scanned: those come in the next run.)"""
    (tmp_path / "tasks.py").write_text(TASKS, encoding="utf-8")
    (tmp_path / "retrylint.toml").write_text(MANY_MISTAKES, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["check", "."])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    positions = [tuple(int(n) for n in line.split(":")[1:3]) for line in lines]
    assert positions == [
        (1, 17),
        (2, 16),
        (3, 18),
        (3, 25),
        (6, 11),
        (9, 23),
        (11, 14),
        (12, 1),
        (15, 11),
        (16, 9),
        (19, 51),
        (19, 72),
        (20, 17),
        (21, 55),
        (24, 1),
        (25, 9),
    ]
    assert all(re.match(r"^retrylint\.toml:\d+:\d+: [^;]+; \S", line) for line in lines)
    assert 'unknown category "critcal"' in lines[12]
    assert not any('unknown category "broken"' in line for line in lines)


def test_every_unmatched_task_decorator_is_reported_in_one_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tasks.py").write_text(TASKS, encoding="utf-8")
    (tmp_path / "retrylint.toml").write_text(
        '[frameworks.celery]\ntask-decorators = ["app.nowhere.task", "app.also_nowhere"]\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["check", "."])
    assert result.exit_code == 2
    assert [line.split(": ")[0] for line in result.stderr.splitlines()] == [
        "retrylint.toml:2:20",
        "retrylint.toml:2:40",
    ]
