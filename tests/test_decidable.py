"""Fields that do not depend on an undecided value are decided (issue 9 scope 4).

Worked out by hand from the sources: Celery without `retry_backoff` waits the same
`default_retry_delay` (or `retry_kwargs['countdown']`) before every retry and never jitters it;
`retry_backoff=True` doubles from 1 s (jittered) whatever `retry_backoff_max` caps it at; a count
of `None` never stops whatever the delay. Temporal's interval is `initial * coefficient**r`, so a
known coefficient (2.0 by default) decides the kind whatever the initial interval. `dict(...)`
builds the same mapping as the literal it stands for, and `**` passes it on key by key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retrylint.engine import Report
from tests.conftest import FIXTURES, analyze, write_project

U = "undecided"
# (name, line) → (trigger, max_retries, backoff, jitter, delays, window, sources of
# backoff/delays/jitter/window, undecided (field, expression))
EXPECTED: dict[tuple[str, int], tuple[Any, ...]] = {
    ("shop.celery_tasks.rebuild", 18): (
        "automatic", 6, "fixed", False, None, U,
        ("inherited", U, "inherited", U),
        [("default_retry_delay", "settings.REBUILD_DELAY")],
    ),
    ("shop.celery_tasks.poll", 24): (
        "automatic", "unbounded", "fixed", False, None, "unbounded",
        ("default", U, "default", "explicit"),
        [("default_retry_delay", "settings.POLL_DELAY")],
    ),
    ("shop.celery_tasks.notify", 30): (
        "automatic", 4, "exponential", True, None, U,
        ("explicit", U, "default", U),
        [("retry_backoff_max", "settings.MAX_WAIT")],
    ),
    ("shop.celery_tasks.sync", 36): (
        "manual", 3, "fixed", False, None, U,
        ("explicit", U, "explicit", U),
        [("default_retry_delay", "settings.SYNC_DELAY")],
    ),
    ("shop.celery_tasks.push", 45): (
        "automatic", 2, "fixed", False, None, U,
        ("default", U, "explicit", U),
        [("countdown", "settings.PUSH_DELAY")],
    ),
    ("shop.celery_tasks.inline_dict", 50): (
        "automatic", 1, "fixed", False, (180,), 180,
        ("default", "default", "default", "explicit"),
        [],
    ),
    ("shop.celery_tasks.patient_five", 55): (
        "automatic", 5, "exponential", True, (1, 2, 4, 8, 16), 31,
        ("explicit", "explicit", "default", "explicit"),
        [],
    ),
    ("shop.celery_tasks.patient_two", 60): (
        "automatic", 2, "exponential", True, (1, 2), 3,
        ("explicit", "explicit", "default", "explicit"),
        [],
    ),
    # Dramatiq counts min_backoff in milliseconds and doubles it before the first retry.
    ("reindex", 12): (
        "automatic", 4, "exponential", True, (4, 8, 16, 32), 60,
        ("explicit", "explicit", "default", "explicit"),
        [],
    ),
    ("shop.other_tasks.thumbnail", 17): (
        "automatic", 3, "fixed", False, (45, 45, 45), 135,
        ("explicit", "explicit", "default", "explicit"),
        [],
    ),
    # maximum_attempts=4 with a 3 s start: 3, 6, 12.
    ("pack", 20): (
        "automatic", 3, "exponential", False, (3, 6, 12), 21,
        ("explicit", "explicit", "default", "explicit"),
        [],
    ),
    # dict(STEP, retry_policy=...) replaces the policy: defaults but two attempts.
    ("pack", 21): (
        "automatic", 1, "exponential", False, (1,), 1,
        ("default", "default", "default", "explicit"),
        [],
    ),
    ("pack", 24): (
        "automatic", "unbounded", "exponential", False, None, "unbounded",
        ("default", U, "default", "default"),
        [("initial_interval", "settings.PACK_INTERVAL")],
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def report() -> Report:
    return analyze(FIXTURES / "decidable")


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_row_field_by_field(report: Report, key: tuple[str, int]) -> None:
    (row,) = [r for r in report.rows if (r.name, r.location.line) == key]
    trigger, count, backoff, jitter, delays, window, sources, undecided = EXPECTED[key]
    assert row.retry_trigger == trigger
    assert row.max_retries == count
    assert row.backoff == backoff
    assert row.jitter == jitter
    assert row.delays_seconds == delays
    assert row.window_seconds == window
    assert tuple(row.sources[f].source for f in ("backoff", "delays", "jitter", "window")) == (
        sources
    )
    assert [(u.field, u.expression) for u in row.undecided] == undecided


def test_the_undecided_part_alone_is_rl002(report: Report) -> None:
    quoted = sorted(f.expression or "" for f in report.findings if f.rule == "RL002")
    assert quoted == sorted(e for *_, undecided in EXPECTED.values() for _, e in undecided)


def test_a_decided_fixed_backoff_is_judged(tmp_path: Path) -> None:
    """The built-in policy requires exponential backoff: the kind is known, so RL201 speaks,
    while the delay it does not need stays RL002."""
    root = write_project(
        tmp_path,
        {
            "tasks.py": """
                from celery import Task, shared_task
                from django.conf import settings


                class Build(Task):
                    autoretry_for = (OSError,)
                    max_retries = 3
                    default_retry_delay = settings.BUILD_DELAY
                    retry_backoff = False


                @shared_task(base=Build)
                def build():
                    ...
            """
        },
    )
    found = sorted((f.rule, f.location.line) for f in analyze(root).findings)
    assert found == [("RL002", 8), ("RL201", 13), ("RL202", 13)]
