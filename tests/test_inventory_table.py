"""The inventory table folds the enqueue sites of one task into one line with ranges."""

from __future__ import annotations

import io

from rich.console import Console

from retrylint.report.text_report import render_inventory_table
from tests.conftest import FIXTURES, analyze


def _table() -> str:
    buffer = io.StringIO()
    render_inventory_table(analyze(FIXTURES / "asynq"), Console(file=buffer, width=400))
    return buffer.getvalue()


def test_disagreeing_sites_show_a_range() -> None:
    line = next(line for line in _table().splitlines() if "email:deliver" in line)
    assert "2 sites, first producer/main.go:31:2" in line
    assert "5..8" in line and "5m 30s..43m 2s" in line


def test_unbounded_and_numbers_are_listed_side_by_side() -> None:
    line = next(line for line in _table().splitlines() if "shift:bulk" in line)
    assert "5 / unbounded" in line


def test_json_keeps_one_row_per_site() -> None:
    rows = analyze(FIXTURES / "asynq").rows
    sites = [r for r in rows if r.name == "email:deliver" and r.site == "enqueue"]
    assert sorted((r.location.line, r.max_retries) for r in sites) == [(31, 5), (34, 8)]
