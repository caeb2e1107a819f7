"""The text output people read: `check` grouped by file with sources and fix on indented
lines, wrapped to the width at spaces only; the inventory table fitted to the width."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console
from typer.testing import CliRunner

from retrylint.cli import app
from retrylint.report.text_report import (
    render_check_text,
    render_inventory_table,
    split_sources,
    terminal_width,
)
from tests.conftest import FIXTURES, REPO, analyze, text_findings

DEMO = FIXTURES / "demo"
PATH = re.compile(r"(?:fixtures/)?[\w/.-]+\.(?:py|go|toml)(?::\d+)*")


def _render(render: object, width: int, root: object = DEMO) -> str:
    buffer = io.StringIO()
    report = analyze(root)  # type: ignore[arg-type]
    render(report, Console(file=buffer, width=width, color_system=None))  # type: ignore[operator]
    return buffer.getvalue()


@pytest.fixture(scope="module")
def demo_report() -> object:
    return analyze(DEMO)


def _check(width: int) -> str:
    buffer = io.StringIO()
    render_check_text(analyze(DEMO), Console(file=buffer, width=width, color_system=None))
    return buffer.getvalue()


def _inventory(width: int, root: object = DEMO) -> str:
    buffer = io.StringIO()
    report = analyze(root)  # type: ignore[arg-type]
    render_inventory_table(report, Console(file=buffer, width=width, color_system=None))
    return buffer.getvalue()


# --- sources lifted out of messages -----------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "rest", "sources"),
    [
        (
            "`a` retries without limit: the retry count is unbounded (explicit "
            "(max_retries=None) at app/tasks.py:25) (category `critical` allows at most 8)",
            "`a` retries without limit: the retry count is unbounded (category `critical` "
            "allows at most 8)",
            ["explicit (max_retries=None) at app/tasks.py:25"],
        ),
        (
            "`a` retries up to 6 times (explicit at t.py:31); category `b` (glob via `x*`) allows",
            "`a` retries up to 6 times; category `b` (glob via `x*`) allows",
            ["explicit at t.py:31"],
        ),
        (
            "longer than 1h (default (kombu: x = 3600); broker: config (url 'r://') at c.py:3): so",
            "longer than 1h: so",
            ["default (kombu: x = 3600); broker: config (url 'r://') at c.py:3"],
        ),
        # Not provenance: a category source word, and a phrase inside other words.
        (
            "category `d` (default-category) requires it",
            "category `d` (default-category) requires it",
            [],
        ),
        (
            "for 2h (7 retries, explicit at t.py:72); allows 1h",
            "for 2h (7 retries, explicit at t.py:72); allows 1h",
            [],
        ),
        ("(assumed at a.py:1)", "(assumed at a.py:1)", []),  # no space before: not a clause
    ],
)
def test_split_sources(message: str, rest: str, sources: list[str]) -> None:
    assert split_sources(message) == (rest, sources)


# --- check text -------------------------------------------------------------------------------


def test_check_groups_by_file_with_indented_details() -> None:
    out = _check(200)
    lines = out.splitlines()
    assert lines[0] == "retrylint.toml:"
    headers = [line for line in lines if line.endswith(":") and not line.startswith(" ")]
    assert headers == ["retrylint.toml:", "shop/broken.py:", "shop/tasks.py:"]
    # Each group but the first follows a blank line.
    for header in headers[1:]:
        assert lines[lines.index(header) - 1] == ""
    refund = lines.index(
        "  26:5 RL101 [error] `shop.tasks.refund` retries without limit: the retry count is "
        "unbounded (category `critical` allows at most 8)"
    )
    assert lines[refund + 1 : refund + 3] == [
        "      source: explicit (max_retries=None) at shop/tasks.py:25",
        "      fix: Set max_retries to a finite number on the task (None means forever).",
    ]


@pytest.mark.parametrize("width", [60, 80, 120])
def test_check_wraps_to_the_width_and_never_cuts_a_path(width: int) -> None:
    out = _check(width)
    wide = _check(1000)
    for line in out.splitlines():
        # A line is longer only when one word (a path) is longer than the room left for it.
        if len(line) > width:
            assert " " not in line.strip(), line
    # The same words in the same order, only the line breaks differ; every path stays whole.
    assert out.split() == wide.split()
    assert sorted(PATH.findall(out)) == sorted(PATH.findall(wide))
    assert text_findings(out) == text_findings(wide)
    summary = out[out.index("\nFound ") :]
    assert summary.split() == wide[wide.index("\nFound ") :].split()  # the summary stays last


def test_check_continuation_lines_are_indented() -> None:
    lines = _check(60).splitlines()
    start = next(i for i, line in enumerate(lines) if " RL205 " in line)
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("      "))
    block = lines[start:end]
    assert len(block) > 4
    assert lines[end].startswith("  82:5 RL201 ")
    assert all(line.startswith("      ") for line in block[1:])


def test_summary_wraps_too() -> None:
    out = _check(40)
    assert "Found 6 errors, 7 warnings, 2 notes (1\nundecided) in 10 tasks." in out


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({"COLUMNS": "123"}, 123), ({}, 80), ({"COLUMNS": "wide"}, 80), ({"COLUMNS": "0"}, 80)],
)
def test_terminal_width_of_a_pipe(environ: dict[str, str], expected: int) -> None:
    assert terminal_width(io.StringIO(), environ) == expected


def test_cli_honours_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    for columns in ("80", "200"):
        monkeypatch.setenv("COLUMNS", columns)
        result = CliRunner().invoke(app, ["check", "fixtures/demo", "--no-cache"])
        longest = max(len(line) for line in result.stdout.splitlines())
        assert longest <= int(columns)
        assert longest > int(columns) - 10


def test_concise_stays_one_line_per_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("COLUMNS", "40")
    result = CliRunner().invoke(app, ["check", "fixtures/demo", "--format", "concise"])
    lines = result.stdout.splitlines()
    assert len(lines) == 15
    assert all(re.match(r"fixtures/demo/\S+:\d+:\d+: RL\d{3} \[\w+\] ", line) for line in lines)


# --- inventory table --------------------------------------------------------------------------


def test_inventory_one_line_per_task_when_it_fits() -> None:
    lines = _inventory(200).splitlines()
    assert lines[0].split("  ")[0] == "task"
    assert re.fullmatch(
        r"task +framework +site +location +category +trigger +retries +backoff "
        r"+jitter +window +final failure",
        lines[0],
    )
    assert set(lines[1]) == {"─"}
    assert len(lines) == 2 + 10
    refund = next(line for line in lines if line.startswith("shop.tasks.refund "))
    assert re.fullmatch(
        r"shop\.tasks\.refund +celery +definition +shop/tasks\.py:26:5 +critical "
        r"+automatic +unbounded +exponential +yes +unbounded +nowhere",
        refund,
    )
    assert all(not line.endswith(" ") for line in lines)


def test_inventory_two_lines_per_task_at_80_columns() -> None:
    lines = _inventory(80).splitlines()
    assert re.fullmatch(r"task +framework +location", lines[0])
    assert re.fullmatch(
        r"    category +trigger +retries +backoff +jitter +window +failure", lines[1]
    )
    assert len(lines) == 3 + 2 * 10
    assert all(len(line) <= 80 for line in lines)
    names = lines[3::2]
    policies = lines[4::2]
    assert [line.split()[0] for line in names] == sorted(line.split()[0] for line in names)
    assert all(line.startswith("    ") for line in policies)
    refund = names.index(next(line for line in names if line.startswith("shop.tasks.refund ")))
    assert policies[refund].split() == [
        "critical",
        "automatic",
        "unbounded",
        "exponential",
        "yes",
        "unbounded",
        "nowhere",
    ]
    # Columns line up: every policy line's cells start where the header's do.
    retries = lines[1].index("retries")
    assert all(line[retries - 1] == " " and line[retries] != " " for line in policies)


def test_inventory_outliers_push_their_own_line_only() -> None:
    """A long cell (a range of sites, a long undecided name) does not widen every line, and a
    final failure too long for its column gets lines of its own."""
    out = _inventory(80, FIXTURES / "asynq")
    lines = out.splitlines()
    wide = _inventory(1000, FIXTURES / "asynq")
    assert sum(len(line) <= 80 for line in lines) >= len(lines) * 0.9
    assert "2 sites, first producer/main.go:31:2" in out
    assert sorted(PATH.findall(out)) == sorted(PATH.findall(wide))
    assert (
        "    default   automatic  6        exponential  yes        10m 54s\n"
        "        final failure: archived in queue `default` (kept 90 days, at most 10,000\n"
        "          per queue)\n"
    ) in out


def test_inventory_narrower_still_gives_the_location_its_own_line() -> None:
    lines = _inventory(50, FIXTURES / "asynq").splitlines()
    assert re.fullmatch(r"task +framework", lines[0])
    assert lines[1] == "    location"
    start = lines.index(next(line for line in lines if line.startswith("audit:write ")))
    assert re.fullmatch(r"audit:write +asynq enqueue", lines[start])  # enqueue sites say so
    assert lines[start + 1] == "    producer/main.go:75:2"
    assert lines[start + 2].split() == [
        "default",
        "automatic",
        "6",
        "exponential",
        "yes",
        "10m",
        "54s",
    ]
    assert lines[start + 3].startswith("        final failure: archived in queue `default`")
    definition = next(
        line for line in lines if line.startswith("image:resize ") and "enq" not in line
    )
    assert re.fullmatch(r"image:resize +asynq", definition)
