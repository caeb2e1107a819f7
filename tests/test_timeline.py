"""`inventory --timeline` and the schedule both timelines draw."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retrylint import engine
from retrylint.cli import app
from retrylint.report.timeline import (
    ASCII,
    UNICODE,
    TimeAxis,
    glyphs_for,
    render_timeline,
    schedule_of,
)
from tests.conftest import FIXTURES, REPO, analyze, rows_by_name, write_project


@pytest.fixture(scope="module")
def demo_report() -> engine.Report:
    return analyze(FIXTURES / "demo")


def _lines(text: str) -> dict[str, str]:
    return {line.split()[0]: line for line in text.splitlines() if line.startswith("shop.")}


@pytest.mark.parametrize("width", [80, 200])
def test_fits_the_width(demo_report: engine.Report, width: int) -> None:
    text = render_timeline(demo_report, width)
    assert all(len(line) <= width for line in text.splitlines())
    lines = _lines(text)
    assert set(lines) >= {"shop.tasks.charge_card", "shop.tasks.refund"}
    # Even at 80 columns a jittered schedule has room for its band.
    assert lines["shop.tasks.charge_card"].count(UNICODE.band) > 3


def test_a_long_name_keeps_its_end(tmp_path: Path) -> None:
    # Cut at the end, the names of one module's tasks all read "app.customercare.tasks.sy…"
    # at 100 columns; the function name at the end is what tells them apart.
    module = "app/customercare/notifications/tasks.py"
    code = "from celery import shared_task\n"
    for name in ("sync_zendesk_accounts", "sync_salesforce_cases"):
        code += f"\n@shared_task\ndef {name}():\n    pass\n"
    write_project(tmp_path, {module: code})
    text = render_timeline(analyze(tmp_path), 80)
    names = [line.split()[0] for line in text.splitlines() if "never retries" in line]
    assert len(names) == 2 and all(len(n) <= 24 for n in names)
    assert names[0].endswith(".sync_salesforce_cases") and names[0].startswith(UNICODE.ellipsis)
    assert names[1].endswith(".sync_zendesk_accounts")


def test_wider_terminal_draws_a_longer_axis(demo_report: engine.Report) -> None:
    narrow = _lines(render_timeline(demo_report, 80))["shop.tasks.charge_card"]
    wide = _lines(render_timeline(demo_report, 200))["shop.tasks.charge_card"]
    assert wide.count(UNICODE.band) > 2 * narrow.count(UNICODE.band)
    for line in (narrow, wide):
        assert line.count(UNICODE.attempt) == 6  # the first run and five retries
        assert UNICODE.limit in line  # critical: max-window 1h


def test_kinds_are_drawn_distinctly(demo_report: engine.Report) -> None:
    text = render_timeline(demo_report, 120)
    lines = {line.split()[0]: line for line in text.splitlines() if line[:1].isalpha()}
    assert UNICODE.arrow in lines["shop.tasks.refund"]
    assert lines["shop.tasks.refund"].endswith("unbounded")
    assert UNICODE.undecided in lines["shop.tasks.reindex_search"]
    assert "never retries" in lines["emails.receipt"]
    assert UNICODE.band not in lines["emails.welcome"]  # no jitter: a plain line
    assert "critical (max-window 1h)" in text
    assert "(no category)" in text


def test_ascii_when_the_output_is_not_utf8(demo_report: engine.Report) -> None:
    assert glyphs_for("UTF-8") is UNICODE
    assert glyphs_for("utf_8") is UNICODE
    assert glyphs_for("cp1252") is ASCII
    assert glyphs_for(None) is ASCII
    text = render_timeline(demo_report, 100, ASCII)
    text.encode("ascii")
    assert "#" in _lines(text)["shop.tasks.charge_card"]


def test_cli_honours_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    for width in ("80", "200"):
        result = CliRunner().invoke(
            app,
            ["inventory", "--timeline", "--no-cache", "fixtures/demo"],
            env={"COLUMNS": width},
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert max(len(line) for line in lines) <= int(width)
        assert max(len(line) for line in lines) > int(width) - 10


def test_schedule_places_retries_at_the_sum_of_delays(demo_report: engine.Report) -> None:
    rows = rows_by_name(demo_report)
    row = rows["shop.tasks.refund_partial"]
    schedule = schedule_of(row)
    assert schedule.kind == "retries"
    assert row.delays_seconds is not None
    assert schedule.attempts == tuple(
        sum(row.delays_seconds[: n + 1]) for n in range(len(row.delays_seconds))
    )
    assert schedule.end == row.window_seconds == schedule.attempts[-1]
    assert schedule.summary == "7 retries in 2h 7m"
    assert schedule_of(rows["shop.tasks.refund"]).kind == "unbounded"
    assert schedule_of(rows["shop.tasks.reindex_search"]).summary == "undecided max_retries"
    assert schedule_of(rows["emails.receipt"]).kind == "never"


def test_axis_is_logarithmic_with_a_linear_start() -> None:
    axis = TimeAxis.spanning([31.0, 3600.0, 7620.0])
    assert (axis.end, axis.end_label) == (6 * 3600, "6h")
    assert axis.position(0) == 0
    positions = [axis.position(s) for s in (0.5, 1, 10, 60, 3600, axis.end)]
    assert positions == sorted(positions) and positions[-1] == 1
    # Equal ratios, equal distances.
    assert math.isclose(
        axis.position(100) - axis.position(10), axis.position(1000) - axis.position(100)
    )
    assert [label for _, label in axis.ticks()] == ["0", "1s", "10s", "1m", "10m", "1h", "6h"]
    assert TimeAxis.spanning([]).end == 60
    assert TimeAxis.spanning([math.inf, 5.0]).end == 60


def test_readme_shows_what_the_command_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    command = "$ COLUMNS=100 retrylint inventory --timeline fixtures/demo\n"
    shown = readme[readme.index(command) + len(command) :]
    shown = shown[: shown.index("```")]
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(
        app,
        ["inventory", "--timeline", "--no-cache", "fixtures/demo"],
        env={"COLUMNS": "100"},
        catch_exceptions=False,
    )
    assert result.output == shown


def test_an_undecided_delay_is_named_as_such() -> None:
    rows = analyze(FIXTURES / "asynq").rows
    nameless = next(row for row in rows if row.name is None)
    schedule = schedule_of(nameless)
    assert (schedule.kind, schedule.summary) == ("undecided", "2 retries, undecided delays")


def test_timeline_with_another_format_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(
        app, ["inventory", "--timeline", "--format", "json", "--no-cache", "fixtures/demo"]
    )
    assert result.exit_code == 2
    assert "drop --format or --explain" in result.output
