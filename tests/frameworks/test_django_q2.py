"""django-q2: every enqueue form and edge case of the reference §9, field by field.

Expected values were worked out by hand from django-q2 1.11.1: the broker comes from Q_CLUSTER
(`broker_class`, `iron_mq`, `sqs`, `orm`, `mongo`, else Redis, which cannot acknowledge);
`max_attempts` counts executions (0 = unlimited); an unacknowledged task comes back after
`retry` seconds (default 60); `ack_failure`, `sync` and `cached` per task (`q_options` wins)
or in Q_CLUSTER change that, and `async_iter` always caches. A chain link gets the chain's
`cached`/`sync`/`broker` over its own (tasks.py `async_chain`); a schedule's task gets the options
in its stored `kwargs` (scheduler.py), and its `func` is a text column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retrylint.frameworks.django_q2 import FAILURE_CACHED, FAILURE_ROW
from retrylint.model import EffectivePolicy
from tests.conftest import FIXTURES, analyze, name_rows, write_project

RETRIES = ("automatic", 3, "fixed", False, (90, 90, 90), 270, "config", FAILURE_ROW)
NEVER = ("none", 0, None, None, (), 0, "explicit", FAILURE_ROW)
FOREVER = ("automatic", "unbounded", "fixed", False, None, "unbounded", "explicit", FAILURE_CACHED)
# (line, column) in shop/views.py → (name, trigger, max_retries, backoff, jitter, delays, window,
# max_retries source, final failure)
EXPECTED: dict[tuple[int, int], tuple[Any, ...]] = {
    (11, 5): ("shop.jobs.send_receipt", *RETRIES),
    (12, 5): ("shop.jobs.rebuild_index", *RETRIES),
    (13, 5): ("shop.jobs.send_receipt", *NEVER),
    (14, 5): ("shop.jobs.send_receipt", *NEVER),
    (15, 5): ("shop.jobs.send_receipt", *RETRIES),  # q_options wins over the plain keyword
    (16, 5): ("shop.jobs.send_receipt", *FOREVER),
    (17, 5): ("shop.jobs.send_receipt", *NEVER),
    (18, 5): ("shop.jobs.send_receipt", *NEVER),  # q_options from a **splat
    (19, 5): (
        "shop.jobs.send_receipt",
        "undecided",
        "undecided",
        "undecided",
        "undecided",
        None,
        "undecided",
        "undecided",
        FAILURE_ROW,
    ),
    (23, 5): ("shop.jobs.rebuild_index", *RETRIES),  # schedule()
    (24, 5): ("shop.jobs.send_receipt", *FOREVER),  # async_iter always caches
    (25, 5): ("shop.jobs.rebuild_index", *RETRIES),  # AsyncTask(...).run()
    (26, 18): ("shop.jobs.send_receipt", *RETRIES),  # async_chain items
    (26, 52): ("shop.jobs.rebuild_index", *RETRIES),
    (30, 5): (None, *RETRIES),  # a function passed in by the caller
}
FIELDS = (
    "name",
    "retry_trigger",
    "max_retries",
    "backoff",
    "jitter",
    "delays_seconds",
    "window_seconds",
)


def _by_position(rows: tuple[EffectivePolicy, ...]) -> dict[tuple[int, int], EffectivePolicy]:
    return {(r.location.line, r.location.column): r for r in rows}


@pytest.fixture(scope="module")
def report() -> Any:
    return analyze(FIXTURES / "django_q2")


@pytest.fixture(scope="module")
def rows(report: Any) -> dict[tuple[int, int], EffectivePolicy]:
    assert {r.location.path for r in report.rows} == {"shop/views.py", "shop/schedules.py"}
    return _by_position(tuple(r for r in report.rows if r.location.path == "shop/views.py"))


def test_every_call_site_is_found(rows: dict[tuple[int, int], EffectivePolicy]) -> None:
    assert sorted(rows) == sorted(EXPECTED)


@pytest.mark.parametrize("position", sorted(EXPECTED))
def test_effective_policy(
    rows: dict[tuple[int, int], EffectivePolicy], position: tuple[int, int]
) -> None:
    row = rows[position]
    *values, count_source, final_failure = EXPECTED[position]
    assert tuple(getattr(row, f) for f in FIELDS) == tuple(values)
    assert row.sources["max_retries"].source == count_source
    assert row.final_failure == final_failure
    assert row.framework == "django-q2" and row.site == "enqueue"
    assert row.framework_version == "1.11.1"
    assert row.suppression_lines == (position[0],)


def test_config_values_point_at_q_cluster(rows: dict[tuple[int, int], EffectivePolicy]) -> None:
    row = rows[(11, 5)]
    count = row.sources["max_retries"]
    assert count.location is not None
    assert (count.location.path, count.location.line) == ("shop/settings.py", 9)
    assert "max_attempts=4" in count.note
    delays = row.sources["delays"]
    assert delays.location is not None and delays.location.line == 10


def test_undecided_values_are_quoted(rows: dict[tuple[int, int], EffectivePolicy]) -> None:
    (ack,) = rows[(19, 5)].undecided
    assert (ack.field, ack.expression) == ("ack_failure", "is_quiet()")
    (name,) = rows[(30, 5)].undecided
    assert (name.field, name.expression) == ("name", "func")
    assert rows[(30, 5)].name_expression == "func"


def test_redelivery_of_running_tasks_is_observed(report: Any) -> None:
    (finding,) = [f for f in report.findings if f.rule == "RL106"]
    assert (finding.location.path, finding.location.line) == ("shop/settings.py", 10)
    assert "retry=90 s" in finding.message and "120 s" in finding.message
    unbounded = sorted(
        (f.location.path, f.location.line) for f in report.findings if f.rule == "RL101"
    )
    assert unbounded == [
        ("shop/schedules.py", 10),
        ("shop/schedules.py", 22),
        ("shop/views.py", 16),
        ("shop/views.py", 24),
    ]


def _rows(tmp_path: Path, settings: str, call: str = "async_task('app.jobs.work')") -> list[Any]:
    project = write_project(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/wsgi.py": """
                import os
                os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")
            """,
            "app/settings.py": settings,
            "app/views.py": f"""
                from django_q.tasks import async_task

                def view():
                    {call}
            """,
        },
    )
    return list(analyze(project).rows)


def test_redis_broker_never_redelivers(tmp_path: Path) -> None:
    (row,) = _rows(tmp_path, "Q_CLUSTER = {'name': 'x', 'redis': {}, 'max_attempts': 3}\n")
    assert (row.retry_trigger, row.max_retries, row.window_seconds) == ("none", 0, 0)
    assert row.sources["max_retries"].source == "config"
    assert "Redis broker cannot acknowledge" in row.sources["max_retries"].note


def test_no_q_cluster_means_the_default_redis_broker(tmp_path: Path) -> None:
    (row,) = _rows(tmp_path, "DEBUG = True\n")
    assert (row.retry_trigger, row.max_retries) == ("none", 0)
    assert row.sources["max_retries"].source == "default"


def test_ack_capable_broker_without_max_attempts_is_unbounded(tmp_path: Path) -> None:
    (row,) = _rows(tmp_path, "Q_CLUSTER = {'sqs': {'aws_region': 'eu-west-1'}}\n")
    assert (row.retry_trigger, row.max_retries, row.backoff) == ("automatic", "unbounded", "fixed")
    assert row.window_seconds == "unbounded"
    count = row.sources["max_retries"]
    assert count.source == "default" and "max_attempts=0" in count.note and "SQS" in count.note
    report = analyze(tmp_path)
    rules = {f.rule for f in report.findings}
    # Unbounded by default: RL101 says so, RL103 does not repeat it (CONTRACTS §6).
    assert rules >= {"RL101", "RL106"} and "RL103" not in rules


def test_one_attempt_means_no_retry(tmp_path: Path) -> None:
    (row,) = _rows(tmp_path, "Q_CLUSTER = {'orm': 'default', 'max_attempts': 1, 'timeout': 30}\n")
    assert (row.retry_trigger, row.max_retries, row.delays_seconds) == ("automatic", 0, ())
    assert not [f for f in analyze(tmp_path).findings if f.rule == "RL106"]


def test_cluster_wide_flags(tmp_path: Path) -> None:
    (acked,) = _rows(
        tmp_path / "a", "Q_CLUSTER = {'mongo': {'host': 'db'}, 'ack_failures': True}\n"
    )
    assert (acked.retry_trigger, acked.max_retries) == ("none", 0)
    assert acked.sources["max_retries"].source == "config"
    (cached,) = _rows(
        tmp_path / "b", "Q_CLUSTER = {'iron_mq': {'token': 't'}, 'cached': 60, 'max_attempts': 2}\n"
    )
    assert cached.max_retries == "unbounded" and cached.final_failure == FAILURE_CACHED


def test_broker_that_cannot_be_decided(tmp_path: Path) -> None:
    (custom,) = _rows(tmp_path / "a", "Q_CLUSTER = {'broker_class': 'app.brokers.Mine'}\n")
    assert custom.retry_trigger == "undecided" and custom.max_retries == "undecided"
    assert [(u.field, u.expression) for u in custom.undecided] == [("broker", "'app.brokers.Mine'")]
    (known,) = _rows(
        tmp_path / "b", "Q_CLUSTER = {'broker_class': 'django_q.brokers.orm.ORM', 'retry': 5}\n"
    )
    assert (known.max_retries, known.delays_seconds) == ("unbounded", None)
    (env,) = _rows(tmp_path / "c", "import os\nQ_CLUSTER = {'orm': os.environ['DB']}\n")
    assert [(u.field, u.expression) for u in env.undecided] == [("broker", "os.environ['DB']")]


def test_split_settings_are_found_without_the_settings_module(tmp_path: Path) -> None:
    project = write_project(
        tmp_path,
        {
            "conf/__init__.py": "",
            "conf/components/__init__.py": "",
            "conf/components/queue.py": """
                Q_CLUSTER = {"orm": "default", "max_attempts": 3, "retry": 30, "timeout": 20}
            """,
            "tasks.py": """
                from django_q.tasks import async_task
                async_task("tasks.work")
            """,
        },
    )
    (row,) = analyze(project).rows
    assert (row.max_retries, row.delays_seconds, row.window_seconds) == (2, (30, 30), 60)
    assert row.sources["max_retries"].location is not None
    assert row.sources["max_retries"].location.path == "conf/components/queue.py"


def test_names_as_django_q2_prints_them() -> None:
    """`get_func_repr(func)` (django_q/utils.py); fixtures/names/django_q2."""
    at = "office/jobs.py"
    assert name_rows(FIXTURES / "names" / "django_q2") == [
        (at, 33, "office.jobs.cleanup", None, (), "enqueue"),
        (at, 34, "office.reports.daily", None, (), "enqueue"),
        (at, 35, "office.jobs.refund", None, (), "enqueue"),
        (at, 36, "office.jobs.Invoices.audit", None, (), "enqueue"),
        (at, 37, None, "str(billing.charge)", (("name", "billing.charge", at, 37),), "enqueue"),
    ]


SYNC = ("none", 0, None, None, (), 0, "explicit", FAILURE_ROW)
CACHED = (
    "automatic",
    "unbounded",
    "fixed",
    False,
    None,
    "unbounded",
    "explicit",
    FAILURE_CACHED,
)
# (line, column) in shop/schedules.py → as EXPECTED.
SCHEDULES: dict[tuple[int, int], tuple[Any, ...]] = {
    (10, 1): ("shop.jobs.rebuild_index", *CACHED),  # module-level Chain(cached=True).append
    (14, 5): ("shop.jobs.rebuild_index", *RETRIES),  # Schedule.objects.create
    (15, 5): ("shop.jobs.send_receipt", *NEVER),  # kwargs mapping with q_options
    (16, 5): ("shop.jobs.send_receipt", *NEVER),  # kwargs text in keyword form
    (17, 5): ("shop.jobs.rebuild_index", *SYNC),  # update_or_create(defaults=...)
    (20, 5): ("shop.jobs.rebuild_index", *RETRIES),  # the cluster's broker, whatever kwargs say
    (21, 5): (None, *RETRIES),  # a function object is stored as str(fn)
    (22, 5): ("shop.jobs.send_receipt", *CACHED),  # Schedule(...).save()
    (23, 13): ("shop.jobs.rebuild_index", *RETRIES),  # bound, then .save()
    (30, 5): ("shop.jobs.send_receipt", *SYNC),  # Chain(sync=True).append
    (33, 5): ("shop.jobs.rebuild_index", *RETRIES),  # the link's cached= is written over
    (34, 5): ("shop.jobs.send_receipt", *NEVER),  # the link's ack_failure stays
    (37, 18): ("shop.jobs.send_receipt", *NEVER),  # Chain(chain=[(func, args, kwargs)])
    (38, 18): ("shop.jobs.rebuild_index", *SYNC),
    (38, 45): ("shop.jobs.send_receipt", *SYNC),  # chain-level sync beats the link's ack
}


@pytest.fixture(scope="module")
def schedule_rows(report: Any) -> dict[tuple[int, int], EffectivePolicy]:
    return _by_position(tuple(r for r in report.rows if r.location.path == "shop/schedules.py"))


def test_every_schedule_and_link_is_found(
    schedule_rows: dict[tuple[int, int], EffectivePolicy],
) -> None:
    """An unsaved Schedule(...), a list's append and a chain's run() are no rows."""
    assert sorted(schedule_rows) == sorted(SCHEDULES)


@pytest.mark.parametrize("position", sorted(SCHEDULES))
def test_schedule_and_link_policy(
    schedule_rows: dict[tuple[int, int], EffectivePolicy], position: tuple[int, int]
) -> None:
    row = schedule_rows[position]
    *values, count_source, final_failure = SCHEDULES[position]
    assert tuple(getattr(row, f) for f in FIELDS) == tuple(values)
    assert row.sources["max_retries"].source == count_source
    assert row.final_failure == final_failure
    assert (row.framework, row.site) == ("django-q2", "enqueue")


def test_schedule_options_point_at_the_stored_kwargs(
    schedule_rows: dict[tuple[int, int], EffectivePolicy],
) -> None:
    text = schedule_rows[(16, 5)].sources["max_retries"]
    assert text.location is not None and (text.location.line, text.location.column) == (16, 67)
    mapping = schedule_rows[(15, 5)].sources["max_retries"]
    assert mapping.location is not None and mapping.location.line == 8  # QUIET
    chained = schedule_rows[(30, 5)].sources["max_retries"]
    assert chained.location is not None and chained.location.line == 29  # Chain(sync=True)


def test_a_function_object_names_no_schedule(
    schedule_rows: dict[tuple[int, int], EffectivePolicy],
) -> None:
    row = schedule_rows[(21, 5)]
    assert row.name_expression == "str(rebuild_index)"
    assert [(u.field, u.expression) for u in row.undecided] == [("name", "str(rebuild_index)")]


def test_schedule_kwargs_that_cannot_be_read(tmp_path: Path) -> None:
    settings = "Q_CLUSTER = {'orm': 'default', 'max_attempts': 2}\n"
    call = "Schedule.objects.create(func='app.jobs.work', kwargs=read_kwargs())"
    project = write_project(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/wsgi.py": """
                import os
                os.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")
            """,
            "app/settings.py": settings,
            "app/views.py": f"""
                from django_q.models import Schedule

                def view():
                    {call}
                    Schedule.objects.create(func="app.jobs.work", kwargs="not python(")
            """,
        },
    )
    unread, garbled = sorted(analyze(project).rows, key=lambda r: r.location.line)
    assert [(u.field, u.expression) for u in unread.undecided] == [("kwargs", "read_kwargs()")]
    assert unread.max_retries == 1
    # The scheduler reads text it cannot parse as no keywords at all.
    assert (garbled.max_retries, garbled.undecided) == (1, ())
