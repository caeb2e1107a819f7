"""SAQ: every registration and enqueue form of the reference §8, asserted field by field.

Expected values were worked out by hand from saq 0.26.4's source: `retries` counts executions
(default 1, so `retries=N` is N-1 retries), `retry_delay` is fixed unless `retry_backoff` is set
(`True`: `retry_delay * 2**n` with full jitter and no cap; a number: that cap in seconds), and a
registered function carries no policy of its own (`retry_trigger: null`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retrylint.model import EffectivePolicy
from tests.conftest import FIXTURES, analyze, name_rows, write_project

# (name, site, path, line) → (trigger, max_retries, backoff, jitter, delays, window, count source,
# final failure)
EXPECTED: dict[tuple[str, str, str, int], tuple[Any, ...]] = {
    ("cleanup", "definition", "service/litestar.py", 14): (
        None,
        None,
        None,
        None,
        (),
        0,
        "default",
        "nowhere",
    ),
    ("cleanup", "enqueue", "service/enqueue.py", 21): (
        "automatic",
        "unbounded",
        "fixed",
        False,
        None,
        "unbounded",
        "explicit",
        "nowhere",
    ),
    ("cleanup", "enqueue", "service/enqueue.py", 22): (
        "automatic",
        1,
        "fixed",
        False,
        (3,),
        3,
        "explicit",
        "nowhere",
    ),
    ("cleanup", "enqueue", "service/litestar.py", 15): (
        "none",
        0,
        None,
        None,
        (),
        0,
        "default",
        "nowhere",
    ),
    ("cleanup", "enqueue", "service/worker.py", 13): (
        "automatic",
        2,
        "none",
        False,
        (0, 0),
        0,
        "explicit",
        "nowhere",
    ),
    ("nightly_report", "definition", "service/litestar.py", 14): (
        None,
        None,
        None,
        None,
        (),
        0,
        "default",
        "nowhere",
    ),
    ("nightly_report", "enqueue", "service/worker.py", 19): (
        "none",
        0,
        None,
        None,
        (),
        0,
        "default",
        "nowhere",
    ),
    ("reindex", "definition", "service/worker.py", 8): (
        None,
        None,
        None,
        None,
        (),
        0,
        "default",
        "nowhere",
    ),
    ("reindex", "enqueue", "service/enqueue.py", 14): (
        "automatic",
        4,
        "exponential",
        True,
        (1, 2, 4, 8),
        15,
        "explicit",
        "nowhere",
    ),
    ("reindex", "enqueue", "service/enqueue.py", 15): (
        "automatic",
        5,
        "exponential",
        True,
        (10, 20, 30, 30, 30),
        120,
        "explicit",
        "nowhere",
    ),
    ("reindex", "enqueue", "service/enqueue.py", 16): (
        "automatic",
        2,
        "none",
        False,
        (0, 0),
        0,
        "explicit",
        "nowhere",
    ),
    ("send_email", "definition", "service/worker.py", 8): (
        None,
        None,
        None,
        None,
        (),
        0,
        "default",
        "nowhere",
    ),
    ("send_email", "enqueue", "service/enqueue.py", 12): (
        "automatic",
        2,
        "none",
        False,
        (0, 0),
        0,
        "explicit",
        "nowhere",
    ),
    ("send_email", "enqueue", "service/enqueue.py", 13): (
        "automatic",
        3,
        "fixed",
        False,
        (5, 5, 5),
        15,
        "explicit",
        "nowhere",
    ),
    ("send_email", "enqueue", "service/enqueue.py", 23): (
        "automatic",
        1,
        "fixed",
        False,
        (1,),
        1,
        "explicit",
        "kept with status FAILED indefinitely (ttl=0)",
    ),
    ("send_email", "enqueue", "service/enqueue.py", 24): (
        "automatic",
        3,
        "fixed",
        False,
        (2, 2, 2),
        6,
        "explicit",
        "nowhere",
    ),
    ("sync_accounts", "definition", "service/worker.py", 18): (
        None,
        None,
        None,
        None,
        (),
        0,
        "default",
        "nowhere",
    ),
    ("sync_accounts", "enqueue", "service/enqueue.py", 17): (
        "none",
        0,
        None,
        None,
        (),
        0,
        "default",
        "nowhere",
    ),
    ("sync_accounts", "enqueue", "service/enqueue.py", 18): (
        "none",
        0,
        None,
        None,
        (),
        0,
        "explicit",
        "nowhere",
    ),
    ("sync_accounts", "enqueue", "service/enqueue.py", 19): (
        "automatic",
        "undecided",
        "none",
        False,
        None,
        "undecided",
        "undecided",
        "nowhere",
    ),
    ("sync_accounts", "enqueue", "service/enqueue.py", 20): (
        "automatic",
        "unbounded",
        "none",
        False,
        None,
        "unbounded",
        "explicit",
        "nowhere",
    ),
}
FIELDS = ("retry_trigger", "max_retries", "backoff", "jitter", "delays_seconds", "window_seconds")


@pytest.fixture(scope="module")
def report() -> Any:
    return analyze(FIXTURES / "saq")


@pytest.fixture(scope="module")
def rows(report: Any) -> dict[tuple[str, str, str, int], EffectivePolicy]:
    return {(r.name, r.site, r.location.path, r.location.line): r for r in report.rows}


def test_every_registration_and_enqueue_is_found(rows: dict[Any, Any]) -> None:
    # `queue.enqueue("send_email", to=address)` sets no retry option: no row.
    assert sorted(rows) == sorted(EXPECTED)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_effective_policy(rows: dict[Any, EffectivePolicy], key: Any) -> None:
    row = rows[key]
    *values, count_source, final_failure = EXPECTED[key]
    assert tuple(getattr(row, f) for f in FIELDS) == tuple(values)
    assert row.sources["max_retries"].source == count_source
    assert row.final_failure == final_failure
    assert row.framework == "saq" and row.framework_version == "0.26.4"


def test_registration_names(rows: dict[Any, EffectivePolicy]) -> None:
    # An alias tuple, a function reference, and a litestar-saq import string.
    reindex = rows["reindex", "definition", "service/worker.py", 8]
    assert reindex.location.column == 31  # the ("reindex", ...) tuple
    nightly = rows["nightly_report", "definition", "service/litestar.py", 14]
    assert nightly.location.column == 44
    assert "per enqueued job" in reindex.sources["max_retries"].note


def test_counts_are_executions(rows: dict[Any, EffectivePolicy]) -> None:
    row = rows["send_email", "enqueue", "service/enqueue.py", 12]
    assert row.sources["max_retries"].note == "retries=3 executions"
    capped = rows["reindex", "enqueue", "service/enqueue.py", 15]
    assert "cap of 30 s" in capped.sources["backoff"].note


def test_undecided_count_is_quoted(rows: dict[Any, EffectivePolicy]) -> None:
    (item,) = rows["sync_accounts", "enqueue", "service/enqueue.py", 19].undecided
    assert (item.field, item.expression, item.location.line) == ("retries", "count", 19)


def test_findings(report: Any) -> None:
    found = [(f.rule, f.task, f.location.line) for f in report.findings]
    assert found == [
        ("RL104", "sync_accounts", 17),
        ("RL002", "sync_accounts", 19),
        ("RL101", "sync_accounts", 20),
        ("RL101", "cleanup", 21),
    ]
    rl104 = next(f for f in report.findings if f.rule == "RL104")
    assert "SAQ's default retries=1" in rl104.message


def test_worker_positional_functions_and_settings_reference(tmp_path: Path) -> None:
    report = analyze(
        write_project(
            tmp_path,
            {
                "worker.py": """
                    from saq import Queue, Worker

                    async def a(ctx):
                        pass

                    async def b(ctx):
                        pass

                    FUNCS = [a]
                    worker = Worker(Queue.from_url("redis://"), FUNCS + [("bee", b)])
                """
            },
        )
    )
    assert sorted((r.name, r.location.line) for r in report.rows) == [("a", 3), ("bee", 10)]


def test_names_as_saq_registers_them() -> None:
    """`__qualname__` (of the defining class for methods), or a tuple's alias;
    fixtures/names/saq."""
    at = "svc/worker.py"
    assert name_rows(FIXTURES / "names" / "saq") == [
        (at, 8, "send", None, (), "definition"),
        (at, 28, "mail", None, (), "definition"),
        (at, 29, "Reports.build", None, (), "definition"),
        (at, 30, "Reports.build", None, (), "definition"),
        (at, 31, "Reports.build", None, (), "definition"),
    ]
