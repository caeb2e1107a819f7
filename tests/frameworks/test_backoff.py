"""backoff: every form of the reference §12, asserted field by field.

Expected values were worked out by hand from backoff 2.2.1's source (see the fixture's
docstrings): `max_tries` counts executions and is compared with `==` (0 never matches),
`expo` gives `factor * base**r` up to `max_value`, full jitter draws U(0, wait) so the listed
delays are upper bounds, and `max_time` cuts the last wait at the limit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retrylint.engine import Report
from retrylint.model import EffectivePolicy
from tests.conftest import FIXTURES, analyze, rows_by_name, write_project

RERAISED = "the last exception, re-raised to the caller"

# name → (trigger, max_retries, backoff, jitter, delays, window, max_retries source, final failure)
EXPECTED: dict[str, tuple[Any, ...]] = {
    "app.bk.defaults_only": (
        "automatic",
        "unbounded",
        "exponential",
        True,
        None,
        "unbounded",
        "default",
        RERAISED,
    ),
    "app.bk.tries": ("automatic", 4, "exponential", True, (1, 2, 4, 8), 15, "explicit", RERAISED),
    "app.bk.expo_capped": (
        "automatic",
        5,
        "exponential",
        True,
        (2, 4, 8, 10, 10),
        34,
        "explicit",
        RERAISED,
    ),
    "app.bk.expo_base_no_jitter": (
        "automatic",
        3,
        "exponential",
        False,
        (1, 3, 9),
        13,
        "explicit",
        RERAISED,
    ),
    "app.bk.fibonacci": (
        "automatic",
        5,
        "exponential",
        True,
        (1, 1, 2, 3, 4),
        11,
        "explicit",
        RERAISED,
    ),
    "app.bk.constant": ("automatic", 2, "fixed", True, (5, 5), 10, "explicit", RERAISED),
    "app.bk.finite_intervals": (
        "automatic",
        3,
        "custom",
        False,
        (1, 2, 5),
        8,
        "explicit",
        RERAISED,
    ),
    "app.bk.time_only": (
        "automatic",
        "unbounded",
        "exponential",
        True,
        None,
        30,
        "explicit",
        RERAISED,
    ),
    "app.bk.time_only_no_jitter": (
        "automatic",
        5,
        "exponential",
        False,
        (1, 2, 4, 8, 16),
        30,
        "explicit",
        RERAISED,
    ),
    "app.bk.tries_and_time": ("automatic", 6, "fixed", False, (10,) * 6, 60, "explicit", RERAISED),
    "app.bk.zero_tries": (
        "automatic",
        "unbounded",
        "exponential",
        True,
        None,
        "unbounded",
        "explicit",
        RERAISED,
    ),
    "app.bk.callable_tries": (
        "automatic",
        "undecided",
        "exponential",
        True,
        None,
        "undecided",
        "undecided",
        RERAISED,
    ),
    "app.bk.callable_time": (
        "automatic",
        "undecided",
        "exponential",
        True,
        None,
        "undecided",
        "undecided",
        RERAISED,
    ),
    "app.bk.random_jitter": ("automatic", 2, "fixed", True, (3, 3), 6, "explicit", RERAISED),
    "app.bk.broad": ("automatic", 2, "exponential", True, (1, 2), 3, "explicit", RERAISED),
    "app.bk.polling": ("automatic", 3, "fixed", True, (1, 1, 1), 3, "explicit", "nowhere"),
    "app.bk.swallowed": ("automatic", 1, "exponential", True, (1,), 1, "explicit", "nowhere"),
    "app.bk.reported": (
        "automatic",
        1,
        "exponential",
        True,
        (1,),
        1,
        "explicit",
        f"on_giveup report at app/bk.py:102, then {RERAISED}",
    ),
    "app.bk.runtime_wait": (
        "automatic",
        2,
        "undecided",
        "undecided",
        None,
        "undecided",
        "explicit",
        RERAISED,
    ),
    "app.bk.imported_names": ("automatic", 1, "exponential", True, (1,), 1, "explicit", RERAISED),
    "app.bk.Poller.wait_ready": (
        "automatic",
        5,
        "exponential",
        False,
        (1, 1, 2, 3, 5),
        10,
        "explicit",
        "nowhere",
    ),
    # Applied in place inside a method, the decorated function returned: a site at the call.
    "app.bk.Stream.request_decorator": (
        "automatic",
        2,
        "fixed",
        False,
        (2, 2),
        4,
        "explicit",
        RERAISED,
    ),
    "app.jobs.single_layer": (
        "automatic",
        3,
        "exponential",
        True,
        (1, 2, 4),
        7,
        "explicit",
        RERAISED,
    ),
}
FIELDS = ("retry_trigger", "max_retries", "backoff", "jitter", "delays_seconds", "window_seconds")


@pytest.fixture(scope="module")
def rows() -> dict[str, EffectivePolicy]:
    report: Report = analyze(FIXTURES / "retry_decorators")
    return {row.name or "": row for row in report.rows if row.framework == "backoff"}


def test_every_site_is_found(rows: dict[str, EffectivePolicy]) -> None:
    assert sorted(rows) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_effective_policy(rows: dict[str, EffectivePolicy], name: str) -> None:
    row = rows[name]
    *values, count_source, final_failure = EXPECTED[name]
    assert tuple(getattr(row, f) for f in FIELDS) == tuple(values)
    assert row.sources["max_retries"].source == count_source
    assert row.final_failure == final_failure
    assert (row.site, row.framework_version) == ("definition", "2.2.1")


def test_notes_say_where_the_count_comes_from(rows: dict[str, EffectivePolicy]) -> None:
    assert rows["app.bk.defaults_only"].sources["max_retries"].note == (
        "backoff's default: no max_tries, no max_time"
    )
    assert "never matches" in rows["app.bk.zero_tries"].sources["max_retries"].note
    finite = rows["app.bk.finite_intervals"].sources["max_retries"]
    assert finite.note == "interval=[1, 2, 5] runs out"
    time_only = rows["app.bk.time_only"].sources
    assert "a wait can be 0 s" in time_only["max_retries"].note
    assert time_only["window"].note == "max_time=30"
    both = rows["app.bk.tries_and_time"].sources["max_retries"]
    assert both.note.startswith("max_time=60")
    jitter = rows["app.bk.tries"].sources["jitter"]
    assert (jitter.source, jitter.note) == ("default", "backoff's default jitter=full_jitter")


def test_undecided_values_are_quoted(rows: dict[str, EffectivePolicy]) -> None:
    def quoted(name: str) -> list[tuple[str, str, int]]:
        return [(u.field, u.expression, u.location.line) for u in rows[name].undecided]

    assert quoted("app.bk.callable_tries") == [("max_tries", "lambda: TRIES", 72)]
    assert quoted("app.bk.callable_time") == [("max_time", "get_budget", 77)]
    assert quoted("app.bk.runtime_wait") == [("wait_gen", "backoff.runtime", 107)]


def test_broad_trigger_is_located(rows: dict[str, EffectivePolicy]) -> None:
    (trigger,) = rows["app.bk.broad"].broad_triggers
    assert (trigger.exception, trigger.location.line, trigger.location.column) == (
        "Exception",
        87,
        37,
    )
    assert rows["app.bk.tries"].broad_triggers == ()


def test_hints_are_backoff_specific(rows: dict[str, EffectivePolicy]) -> None:
    row = rows["app.bk.expo_base_no_jitter"]
    assert "jitter=None" in (row.hint("jitter") or "")
    assert "max_tries" in (row.hint("max_retries") or "")
    assert "on_giveup" in (row.hint("dead_letter") or "")


def test_rows_sit_on_the_function_name(rows: dict[str, EffectivePolicy]) -> None:
    row = rows["app.bk.Poller.wait_ready"]
    assert (row.location.path, row.location.line, row.location.column) == ("app/bk.py", 119, 9)
    assert row.suppression_lines == (118, 119)


def test_alias_of_a_configured_decorator(tmp_path: Path) -> None:
    rows = rows_by_name(
        analyze(
            write_project(
                tmp_path,
                {
                    "net.py": """
                    import backoff

                    http_retry = backoff.on_exception(backoff.constant, OSError, interval=3, max_tries=3)
                    """,
                    "use.py": """
                    from net import http_retry

                    @http_retry
                    def fetch():
                        ...
                    """,
                },
            )
        )
    )
    row = rows["use.fetch"]
    assert (row.max_retries, row.delays_seconds, row.window_seconds) == (2, (3, 3), 6)
