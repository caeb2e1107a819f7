"""Retry paths kept apart (issue 9 scope 3): each way a task retries is resolved on its own, the
row is judged by its worst path for each rule, and a message's label and numbers come from the
path it names.

Worked out by hand from Celery 5.7's source: `self.retry()` without `max_retries` uses the task's
`max_retries` (default 3); `**self.retry_kwargs` passes the decorator's `retry_kwargs`; without
`retry_backoff` autoretry waits `default_retry_delay`; a class `max_retries=None` never stops.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import pytest
from typer.testing import CliRunner

from retrylint.cli import app
from retrylint.durations import format_duration
from retrylint.engine import Report
from retrylint.model import UNBOUNDED, UNDECIDED, EffectivePolicy, Location, Provenance
from retrylint.report.json_report import render_inventory
from retrylint.resolve.schedule import RetryPath, combine, constant_delay, with_kinds, within
from tests.conftest import FIXTURES, analyze, rows_by_name

ROOT = FIXTURES / "retry_paths"
TASKS = "hooks/celery_tasks.py"
HELPER = "hooks/retrying.py"

# name → paths as (path, line, trigger, max_retries, backoff, jitter, delays, window,
# sources of max_retries/backoff/jitter/delays/window)
PATHS: dict[str, list[tuple[Any, ...]]] = {
    # The saleor shape: the task's own `self.retry(countdown=1)` under the default budget of 3,
    # and a helper's `retry(countdown=retry_backoff * 2**retries, **retry_kwargs)` (5 retries).
    "hooks.celery_tasks.deliver": [
        (TASKS, 18, "manual", 3, "fixed", False, (1, 1, 1), 3,
         ("default", "explicit", "explicit", "explicit", "explicit")),
        (HELPER, 8, "manual", 5, "exponential", False, (10, 20, 40, 80, 160), 310,
         ("explicit", "explicit", "explicit", "explicit", "explicit")),
    ],
    "hooks.celery_tasks.sync_ledger": [
        (TASKS, 22, "automatic", 2, "fixed", False, (60, 60), 120,
         ("explicit", "explicit", "default", "explicit", "explicit")),
        (TASKS, 28, "manual", 4, "fixed", False, (300,) * 4, 1200,
         ("explicit", "explicit", "explicit", "explicit", "explicit")),
    ],
    "hooks.celery_tasks.drain": [
        (TASKS, 31, "automatic", UNBOUNDED, "exponential", True, None, UNBOUNDED,
         ("explicit", "explicit", "default", "explicit", "explicit")),
        (TASKS, 37, "manual", 3, "fixed", False, (5, 5, 5), 15,
         ("explicit", "explicit", "explicit", "explicit", "explicit")),
    ],
    "hooks.celery_tasks.single": [
        (TASKS, 43, "manual", 4, "exponential", False, (1, 2, 4, 8), 15,
         ("explicit", "explicit", "explicit", "explicit", "explicit")),
    ],
}  # fmt: skip

# name → the row-level summary: (trigger, max_retries, backoff, jitter, delays, window)
ROWS: dict[str, tuple[Any, ...]] = {
    # Count from the helper path (5), kind and jitter from the countdown=1 path, delays and
    # window together from the longer window (the helper's).
    "hooks.celery_tasks.deliver": ("manual", 5, "fixed", False, (10, 20, 40, 80, 160), 310),
    "hooks.celery_tasks.sync_ledger": ("automatic+manual", 4, "fixed", False, (300,) * 4, 1200),
    "hooks.celery_tasks.drain": (
        "automatic+manual", UNBOUNDED, "fixed", False, None, UNBOUNDED,
    ),
    "hooks.celery_tasks.single": ("manual", 4, "exponential", False, (1, 2, 4, 8), 15),
}  # fmt: skip

SOURCE_KEYS = ("max_retries", "backoff", "jitter", "delays", "window")
ROW_FIELDS = ("retry_trigger", "max_retries", "backoff", "jitter", "delays_seconds")


@pytest.fixture(scope="module")
def report() -> Report:
    return analyze(ROOT)


@pytest.fixture(scope="module")
def rows(report: Report) -> dict[str, EffectivePolicy]:
    return rows_by_name(report)


def test_every_task_is_found(rows: dict[str, EffectivePolicy]) -> None:
    assert sorted(rows) == sorted([*PATHS, "refresh", "reindex"])


@pytest.mark.parametrize("name", sorted(PATHS))
def test_each_path_is_resolved_on_its_own(rows: dict[str, EffectivePolicy], name: str) -> None:
    actual = [
        (
            p.location.path,
            p.location.line,
            p.trigger,
            p.max_retries,
            p.backoff,
            p.jitter,
            p.delays_seconds,
            p.window_seconds,
            tuple(p.sources[key].source for key in SOURCE_KEYS),
        )
        for p in rows[name].paths
    ]
    assert actual == PATHS[name]


@pytest.mark.parametrize("name", sorted(ROWS))
def test_row_fields_summarise_the_worst_path(rows: dict[str, EffectivePolicy], name: str) -> None:
    row = rows[name]
    *values, window = ROWS[name]
    assert tuple(getattr(row, f) for f in ROW_FIELDS) == tuple(values)
    assert row.window_seconds == window


def test_row_delays_and_window_come_from_one_path(rows: dict[str, EffectivePolicy]) -> None:
    """The listed waits add up to the window beside them, whichever path they come from."""
    for row in rows.values():
        if row.delays_seconds is not None and not row.delays_truncated:
            assert sum(row.delays_seconds) == row.window_seconds, row.name
        chosen = [p for p in row.paths if p.window_seconds == row.window_seconds]
        assert chosen and chosen[0].delays_seconds == row.delays_seconds


def test_row_sources_cite_the_path_each_field_comes_from(rows: dict[str, EffectivePolicy]) -> None:
    deliver = rows["hooks.celery_tasks.deliver"]
    cited = {key: deliver.sources[key].location for key in SOURCE_KEYS}
    assert cited["max_retries"] is not None and cited["max_retries"].path == HELPER
    assert cited["backoff"] is not None and (cited["backoff"].path, cited["backoff"].line) == (
        TASKS,
        18,
    )
    assert cited["delays"] is not None and cited["delays"].path == HELPER
    assert cited["window"] is not None and cited["window"].path == HELPER


def test_a_single_path_is_the_row(rows: dict[str, EffectivePolicy]) -> None:
    row = rows["hooks.celery_tasks.single"]
    (path,) = row.paths
    assert row.views() == (row,)
    assert row.along(path).on_path is None
    assert (path.max_retries, path.backoff, path.jitter) == (
        row.max_retries,
        row.backoff,
        row.jitter,
    )
    assert (path.delays_seconds, path.window_seconds, path.sources) == (
        row.delays_seconds,
        row.window_seconds,
        row.sources,
    )


# --- other frameworks ---------------------------------------------------------------------------

# (fixture, task) → paths as (file, line, trigger, max_retries, backoff, jitter, delays, window)
OTHERS: dict[tuple[str, str], list[tuple[Any, ...]]] = {
    # arq: `raise Retry()` re-runs at once; `Retry(defer=job_try * 30)` waits 30, 60, 90, 120 s.
    ("retry_paths", "refresh"): [
        ("hooks/arq_jobs.py", 8, "manual", 4, "none", False, (0, 0, 0, 0), 0),
        ("hooks/arq_jobs.py", 9, "manual", 4, "linear", False, (30, 60, 90, 120), 300),
    ],
    # Dramatiq: the Retries middleware (at the actor) and `raise Retry(delay=45_000)`.
    ("retry_paths", "reindex"): [
        ("hooks/dramatiq_actors.py", 5, "automatic", 3, "exponential", True, (2, 4, 8), 14),
        ("hooks/dramatiq_actors.py", 9, "manual", 3, "fixed", False, (45, 45, 45), 135),
    ],
    # Huey: RetryTask raised two helpers deep never uses up the budget; `retries=1` does.
    ("huey", "app.waiting.waits"): [
        ("app/waiting.py", 9, "manual", UNBOUNDED, "fixed", False, None, UNBOUNDED),
        ("app/waiting.py", 21, "automatic", 1, "fixed", False, (3,), 3),
    ],
    # RQ: the decorator's Retry(max=1, interval=5) and the Retry(max=3, interval=[1, 2, 4])
    # the job returns, each starting at its own `Retry(...)` call.
    ("rq", "jobs.tasks.raises_and_returns"): [
        ("jobs/tasks.py", 81, "automatic", 1, "fixed", False, (5,), 5),
        ("jobs/tasks.py", 83, "manual", 3, "exponential", False, (1, 2, 4), 7),
    ],
    # taskiq: two retry middlewares on one broker, each its own path from where it is built.
    ("taskiq", "app.tasks:doubled"): [
        ("app/brokers.py", 44, "automatic", 2, "none", False, (0, 0), 0),
        ("app/brokers.py", 44, "automatic", 2, "fixed", False, (5, 5), 10),
    ],
}


@pytest.mark.parametrize("key", sorted(OTHERS))
def test_paths_of_other_frameworks(key: tuple[str, str]) -> None:
    fixture, name = key
    row = rows_by_name(analyze(FIXTURES / fixture))[name]
    actual = [
        (
            p.location.path,
            p.location.line,
            p.trigger,
            p.max_retries,
            p.backoff,
            p.jitter,
            p.delays_seconds,
            p.window_seconds,
        )
        for p in row.paths
    ]
    assert actual == OTHERS[key]


# --- findings ---------------------------------------------------------------------------------


def _findings(report: Report, task: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for finding in report.findings:
        if finding.task == task:
            assert finding.rule not in out, finding
            out[finding.rule] = finding.message
    return out


def test_saleor_shape_quotes_one_path(report: Report) -> None:
    """The fixed label and the waits both come from the `countdown=1` path, never the helper's
    doubling delays; the message names that path."""
    messages = _findings(report, "hooks.celery_tasks.deliver")
    assert sorted(messages) == ["RL103", "RL201", "RL202"]
    at = f"(retry path at {TASKS}:18)"
    assert messages["RL201"].startswith(
        f"`hooks.celery_tasks.deliver` {at} retries with fixed backoff (waits 1s, 1s, 1s), "
        f"explicit at {TASKS}:18;"
    )
    assert "10s" not in messages["RL201"]
    assert messages["RL202"].startswith(f"`hooks.celery_tasks.deliver` {at} retries without")
    assert messages["RL103"].startswith(
        f"`hooks.celery_tasks.deliver` {at} retries 3 times only because of Celery's default"
    )


def test_window_is_judged_on_the_longest_path(report: Report) -> None:
    messages = _findings(report, "hooks.celery_tasks.sync_ledger")
    assert sorted(messages) == ["RL201", "RL202", "RL203"]
    assert messages["RL203"].startswith(
        f"`hooks.celery_tasks.sync_ledger` (retry path at {TASKS}:28) can keep retrying for 20m "
        f"(4 retries, explicit at {TASKS}:28);"
    )
    # The weakest kind is `fixed` on both paths: the first path by location is quoted.
    assert messages["RL201"].startswith(
        f"`hooks.celery_tasks.sync_ledger` (retry path at {TASKS}:22) retries with fixed "
        "backoff (waits 1m, 1m),"
    )


def test_an_unbounded_path_is_reported_by_rl101_alone(report: Report) -> None:
    """RL101 names the path that never stops; the bounded path's count and window are not
    judged again (one finding per cause), its fixed delays are."""
    messages = _findings(report, "hooks.celery_tasks.drain")
    assert sorted(messages) == ["RL101", "RL201", "RL202"]
    assert messages["RL101"].startswith(
        f"`hooks.celery_tasks.drain` (retry path at {TASKS}:31) retries without limit"
    )
    assert messages["RL201"].startswith(
        f"`hooks.celery_tasks.drain` (retry path at {TASKS}:37) retries with fixed backoff "
        "(waits 5s, 5s, 5s)"
    )


def test_single_path_messages_name_no_path(report: Report) -> None:
    messages = _findings(report, "hooks.celery_tasks.single")
    assert sorted(messages) == ["RL202"]
    assert "retry path" not in messages["RL202"]


_NAMED = re.compile(r"\(retry path at (?P<path>[^:]+):(?P<line>\d+)\)")


def test_every_message_number_comes_from_the_named_path(report: Report) -> None:
    """Whatever the rule, a message that names a path quotes that path's own values."""
    rows = rows_by_name(report)
    checked = 0
    for finding in report.findings:
        named = _NAMED.search(finding.message)
        if named is None:
            continue
        assert finding.task is not None
        row = rows[finding.task]
        matching = [
            p
            for p in row.paths
            if (p.location.path, p.location.line) == (named["path"], int(named["line"]))
        ]
        assert len(matching) == 1, finding.message
        path = matching[0]
        if finding.rule == "RL201":
            assert f"with {path.backoff} backoff" in finding.message
            shown = ", ".join(format_duration(d) for d in (path.delays_seconds or ())[:5])
            assert f"(waits {shown}" in finding.message
        if finding.rule == "RL203":
            assert not isinstance(path.window_seconds, str)
            assert f"for {format_duration(path.window_seconds)} " in finding.message
            assert f"({path.max_retries} retries" in finding.message
        if finding.rule == "RL103":
            assert f"retries {path.max_retries} times" in finding.message
        if finding.rule == "RL202":
            assert path.jitter is False
        if finding.rule == "RL101":
            assert path.max_retries == UNBOUNDED
        checked += 1
    assert checked == 14


# --- reports ----------------------------------------------------------------------------------


def test_inventory_json_carries_the_paths(report: Report) -> None:
    document = json.loads(render_inventory(report))
    text = (resources.files("retrylint.report") / "schemas" / "inventory.schema.json").read_text(
        "utf-8"
    )
    jsonschema.Draft202012Validator(json.loads(text)).validate(document)
    by_name = {row["name"]: row for row in document["tasks"]}
    assert by_name["hooks.celery_tasks.deliver"]["paths"] == [
        {
            "location": {"path": TASKS, "line": 18, "column": 15},
            "trigger": "manual",
            "max_retries": 3,
            "backoff": "fixed",
            "jitter": False,
            "delays_seconds": [1, 1, 1],
            "delays_truncated": False,
            "window_seconds": 3,
            "sources": {
                "max_retries": "default",
                "backoff": "explicit",
                "jitter": "explicit",
                "delays": "explicit",
                "window": "explicit",
            },
        },
        {
            "location": {"path": HELPER, "line": 8, "column": 5},
            "trigger": "manual",
            "max_retries": 5,
            "backoff": "exponential",
            "jitter": False,
            "delays_seconds": [10, 20, 40, 80, 160],
            "delays_truncated": False,
            "window_seconds": 310,
            "sources": dict.fromkeys(SOURCE_KEYS, "explicit"),
        },
    ]
    assert by_name["hooks.celery_tasks.drain"]["paths"][0]["window_seconds"] == "unbounded"


def test_json_paths_are_relative_to_the_current_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT.parent)
    result = CliRunner().invoke(app, ["inventory", "retry_paths", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)["tasks"]}
    locations = [p["location"]["path"] for p in rows["hooks.celery_tasks.deliver"]["paths"]]
    assert locations == [f"retry_paths/{TASKS}", f"retry_paths/{HELPER}"]


def test_explain_lists_each_path_with_its_location(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(
        app, ["inventory", "--explain", "hooks.celery_tasks.deliver"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    first = lines.index(next(line for line in lines if line.startswith("path 1")))
    assert re.split(r"\s{2,}", lines[first]) == ["path 1", "manual retry", f"at {TASKS}:18:15"]
    assert re.split(r"\s{2,}", lines[first + 1].strip()) == [
        "max retries",
        "3",
        "default (Celery's default max_retries=3)",
    ]
    assert re.split(r"\s{2,}", lines[first + 4].strip())[:2] == ["delays", "1s, 1s, 1s"]
    second = first + 6
    assert re.split(r"\s{2,}", lines[second]) == ["path 2", "manual retry", f"at {HELPER}:8:5"]
    assert re.split(r"\s{2,}", lines[second + 2].strip())[:2] == ["backoff", "exponential"]
    assert re.split(r"\s{2,}", lines[second + 5].strip())[:2] == ["window", "5m 10s"]


def test_explain_of_a_single_path_task_lists_no_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, ["inventory", "--explain", "hooks.celery_tasks.single"])
    assert result.exit_code == 0, result.output
    assert "path 1" not in result.stdout


# --- the arithmetic ---------------------------------------------------------------------------

HERE = Location("a.py", 1, 1)
EXPLICIT = Provenance("explicit", HERE)


def _path(count: Any, delay: float | None, line: int, jitter: Any = False) -> RetryPath:
    fn = constant_delay(delay) if delay is not None else None
    return RetryPath(
        "manual",
        count,
        EXPLICIT,
        fn,
        EXPLICIT,
        jitter,
        EXPLICIT,
        location=Location("a.py", line, 1),
    )


def test_count_ranks_unbounded_above_undecided_above_numbers() -> None:
    assert combine([_path(3, 1, 1), _path(UNDECIDED, 1, 2)]).max_retries == UNDECIDED
    assert combine([_path(UNBOUNDED, 1, 1), _path(UNDECIDED, 1, 2)]).max_retries == UNBOUNDED
    assert combine([_path(3, 1, 1), _path(7, 1, 2)]).max_retries == 7


def test_window_is_the_longest_and_never_mixes_paths() -> None:
    """Three retries of 1 s and one of 100 s: the row shows (100,), not (100, 1, 1)."""
    fields = combine([_path(3, 1, 1), _path(1, 100, 2)])
    assert (fields.max_retries, fields.delays_seconds, fields.window_seconds) == (3, (100,), 100)
    undecided = combine([_path(3, 1, 1), _path(2, None, 2)])
    assert (undecided.delays_seconds, undecided.window_seconds) == (None, UNDECIDED)


def test_jitter_and_kind_take_the_weakest_path() -> None:
    fields = combine([_path(3, 1, 1, jitter=True), _path(2, 5, 2, jitter=UNDECIDED)])
    assert (fields.backoff, fields.jitter) == ("fixed", UNDECIDED)
    assert fields.sources["jitter"].location == HERE


def test_paths_are_reported_sorted_by_location() -> None:
    fields = combine([_path(3, 1, 9), _path(2, 5, 4)])
    assert [p.location.line for p in fields.path_policies(HERE)] == [4, 9]


def test_a_time_limit_ends_every_path() -> None:
    age = Provenance("config", Location("a.py", 7, 1), "max_age")
    fields = within(combine([_path(UNBOUNDED, 1, 1), _path(4, 100, 2)]), 60, age)
    assert [f.window_seconds for _, f in fields.paths] == [60, 60]
    assert fields.window_seconds == 60 and fields.sources["window"] is age


def test_known_kinds_replace_the_first_terms() -> None:
    fields = with_kinds(combine([_path(3, 1, 1), _path(2, 5, 2)]), ["exponential", None])
    assert [f.backoff for _, f in fields.paths] == ["exponential", "fixed"]
    assert fields.backoff == "fixed"
