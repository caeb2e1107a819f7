"""Huey: every declaration and enqueue form of the reference §4, asserted field by field.

Expected values were worked out by hand from Huey 3.5.4's source: `retries` counts retries
(default 0), `retry_delay` is fixed unless `retry_backoff` multiplies it after each retry (3.3+),
a negative or fractional count never reaches 0, `RetryTask` and `CancelExecution(retry=True)`
never use up the budget, and nothing keeps a task whose retries ran out. The Django wrappers
(huey's djhuey, django-huey 1.3) pass their options to the Huey instance's `task()` unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retrylint.frameworks.huey import HueyAdapter
from retrylint.model import EffectivePolicy, Observation
from tests.conftest import FIXTURES, analyze, name_rows, rows_by_name, write_project
from tests.frameworks.test_rq import adapter_items

# (name, site, line) → (trigger, max_retries, backoff, jitter, delays, window, count source)
EXPECTED: dict[tuple[str, str, int], tuple[Any, ...]] = {
    ("app.django_huey_tasks.digest", "definition", 38): ("none", 0, None, None, (), 0, "default"),
    ("app.django_huey_tasks.fetch_media", "definition", 18): (
        "automatic",
        2,
        "fixed",
        False,
        (30, 30),
        60,
        "explicit",
    ),
    ("app.django_huey_tasks.in_context", "definition", 49): (
        "automatic",
        2,
        "fixed",
        False,
        (3, 3),
        6,
        "explicit",
    ),
    ("app.django_huey_tasks.labelled", "definition", 59): (
        "automatic",
        2,
        "fixed",
        False,
        (7, 7),
        14,
        "explicit",
    ),
    ("app.django_huey_tasks.locked", "definition", 44): (
        "automatic",
        4,
        "none",
        False,
        (0, 0, 0, 0),
        0,
        "explicit",
    ),
    ("app.django_huey_tasks.maybe_again", "definition", 69): (
        "manual",
        "undecided",
        "none",
        False,
        None,
        "undecided",
        "undecided",
    ),
    ("app.django_huey_tasks.no_retries", "definition", 23): (
        "none",
        0,
        None,
        None,
        (),
        0,
        "default",
    ),
    ("app.django_huey_tasks.positional", "definition", 28): (
        "automatic",
        3,
        "fixed",
        False,
        (10, 10, 10),
        30,
        "explicit",
    ),
    ("app.django_huey_tasks.renamed_job", "definition", 64): (
        "automatic",
        1,
        "none",
        False,
        (0,),
        0,
        "explicit",
    ),
    ("app.django_huey_tasks.stepped", "definition", 54): (
        "automatic",
        3,
        "undecided",
        "undecided",
        None,
        "undecided",
        "explicit",
    ),
    ("app.django_huey_tasks.sweep", "definition", 33): (
        "automatic",
        1,
        "fixed",
        False,
        (5,),
        5,
        "explicit",
    ),
    ("app.django_huey_tasks.via_instance", "definition", 79): (
        "automatic",
        1,
        "fixed",
        False,
        (2,),
        2,
        "explicit",
    ),
    ("app.django_tasks.after_commit", "definition", 22): (
        "automatic",
        3,
        "exponential",
        False,
        (5, 15, 45),
        65,
        "explicit",
    ),
    ("app.django_tasks.build_mirror", "definition", 7): (
        "automatic",
        1,
        "fixed",
        False,
        (30,),
        30,
        "explicit",
    ),
    ("app.django_tasks.django_plain", "definition", 17): ("none", 0, None, None, (), 0, "default"),
    ("app.django_tasks.one_at_a_time", "definition", 33): (
        "automatic",
        2,
        "none",
        False,
        (0, 0),
        0,
        "explicit",
    ),
    ("app.django_tasks.nightly", "definition", 12): (
        "automatic",
        2,
        "none",
        False,
        (0, 0),
        0,
        "explicit",
    ),
    ("app.django_tasks.through_instance", "definition", 27): (
        "automatic",
        2,
        "fixed",
        False,
        (4, 4),
        8,
        "explicit",
    ),
    ("app.tasks.cancels", "definition", 70): (
        "automatic+manual",
        "unbounded",
        "none",
        False,
        None,
        "unbounded",
        "explicit",
    ),
    ("app.tasks.delay_without_retries", "definition", 43): (
        "none",
        0,
        None,
        None,
        (),
        0,
        "default",
    ),
    ("app.tasks.every_five_minutes", "definition", 58): (
        "automatic",
        2,
        "fixed",
        False,
        (15, 15),
        30,
        "explicit",
    ),
    ("app.tasks.fixed", "definition", 18): (
        "automatic",
        3,
        "fixed",
        False,
        (10, 10, 10),
        30,
        "explicit",
    ),
    ("app.tasks.fixed", "enqueue", 89): ("automatic", 6, "fixed", False, (10,) * 6, 60, "explicit"),
    ("app.tasks.fixed", "enqueue", 94): ("none", 0, None, None, (), 0, "explicit"),
    ("app.tasks.fixed", "enqueue", 97): ("automatic", 2, "fixed", True, (40, 40), 80, "explicit"),
    ("app.tasks.fractional", "definition", 38): (
        "automatic",
        "unbounded",
        "fixed",
        False,
        None,
        "unbounded",
        "explicit",
    ),
    ("app.tasks.growing", "definition", 23): (
        "automatic",
        4,
        "exponential",
        False,
        (2, 4, 8, 16),
        30,
        "explicit",
    ),
    ("app.tasks.growing", "enqueue", 90): (
        "automatic",
        2,
        "exponential",
        False,
        (1, 2),
        3,
        "explicit",
    ),
    ("app.tasks.growing", "enqueue", 95): ("none", 0, None, None, (), 0, "explicit"),
    ("app.tasks.in_context", "definition", 101): (
        "automatic",
        2,
        "fixed",
        False,
        (20, 20),
        40,
        "explicit",
    ),
    ("app.tasks.negative", "definition", 33): (
        "automatic",
        "unbounded",
        "none",
        False,
        None,
        "unbounded",
        "explicit",
    ),
    ("app.tasks.plain", "definition", 13): ("none", 0, None, None, (), 0, "default"),
    ("app.tasks.polls", "definition", 63): (
        "manual",
        "unbounded",
        "fixed",
        False,
        None,
        "unbounded",
        "explicit",
    ),
    ("app.tasks.positional", "definition", 28): (
        "automatic",
        2,
        "fixed",
        False,
        (30, 30),
        60,
        "explicit",
    ),
    ("app.tasks.renamed", "definition", 48): ("automatic", 1, "none", False, (0,), 0, "explicit"),
    ("app.tasks.retries_later", "definition", 76): (
        "automatic+manual",
        "unbounded",
        "undecided",
        False,
        None,
        "unbounded",
        "explicit",
    ),
    ("app.tasks.splatted", "definition", 53): (
        "automatic",
        2,
        "fixed",
        False,
        (5, 5),
        10,
        "explicit",
    ),
    ("app.tasks.via_alias", "definition", 84): (
        "automatic",
        5,
        "fixed",
        False,
        (1,) * 5,
        5,
        "explicit",
    ),
    # RetryTask raised in project helpers the task calls (app/waiting.py, app/checks.py).
    ("app.waiting.waits", "definition", 22): (
        "automatic+manual",
        "unbounded",
        "fixed",
        False,
        None,
        "unbounded",
        "explicit",
    ),
    ("app.waiting.waits_plain", "definition", 28): (
        "manual",
        "unbounded",
        "fixed",
        False,
        None,
        "unbounded",
        "explicit",
    ),
    ("app.waiting.waits_imported", "definition", 33): (
        "manual",
        "unbounded",
        "fixed",
        False,
        None,
        "unbounded",
        "explicit",
    ),
    ("app.waiting.enqueues_other", "definition", 39): ("none", 0, None, None, (), 0, "default"),
    ("app.waiting.too_deep", "definition", 45): ("none", 0, None, None, (), 0, "default"),
}
FIELDS = ("retry_trigger", "max_retries", "backoff", "jitter", "delays_seconds", "window_seconds")


@pytest.fixture(scope="module")
def report() -> Any:
    return analyze(FIXTURES / "huey")


@pytest.fixture(scope="module")
def rows(report: Any) -> dict[tuple[str, str, int], EffectivePolicy]:
    return {(row.name, row.site, row.location.line): row for row in report.rows}


def test_every_task_and_enqueue_override_is_found(rows: dict[Any, Any]) -> None:
    # The invoke `@task` in app/notatask.py is not a Huey task; `plain.s(retries=None)` and
    # `plain.s()` override nothing.
    assert sorted(rows) == sorted(EXPECTED)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_effective_policy(rows: dict[Any, EffectivePolicy], key: Any) -> None:
    row = rows[key]
    *values, count_source = EXPECTED[key]
    assert tuple(getattr(row, f) for f in FIELDS) == tuple(values)
    assert row.sources["max_retries"].source == count_source
    assert row.final_failure == "nowhere"
    assert row.framework == "huey" and row.framework_version == "3.5.4"


def test_enqueue_rows_inherit_what_the_call_does_not_set(rows: dict[Any, EffectivePolicy]) -> None:
    row = rows["app.tasks.fixed", "enqueue", 89]
    assert row.sources["max_retries"].location is not None
    assert row.sources["max_retries"].location.line == 89
    assert row.sources["delays"].source == "inherited"
    assert row.sources["delays"].location is not None and row.sources["delays"].location.line == 17


def test_unbounded_notes_say_why(rows: dict[Any, EffectivePolicy]) -> None:
    assert (
        "never reach 0" in rows["app.tasks.negative", "definition", 33].sources["max_retries"].note
    )
    polls = rows["app.tasks.polls", "definition", 63].sources["max_retries"]
    assert "RetryTask" in polls.note and polls.location is not None and polls.location.line == 66


def test_undecided_eta_is_quoted(rows: dict[Any, EffectivePolicy]) -> None:
    (eta,) = rows["app.tasks.retries_later", "definition", 76].undecided
    assert (eta.field, eta.expression, eta.location.line) == ("eta", "when", 77)


def test_inert_options_and_findings(report: Any) -> None:
    found = [(f.rule, f.task, f.location.line) for f in report.findings if f.rule != "RL002"]
    assert found == [
        ("RL101", "app.tasks.negative", 33),
        ("RL101", "app.tasks.fractional", 38),
        ("RL104", "app.tasks.delay_without_retries", 42),
        ("RL101", "app.tasks.polls", 63),
        ("RL101", "app.tasks.cancels", 70),
        ("RL101", "app.tasks.retries_later", 76),
        ("RL104", "app.tasks.growing", 95),
        ("RL101", "app.waiting.waits", 22),
        ("RL101", "app.waiting.waits_plain", 28),
        ("RL101", "app.waiting.waits_imported", 33),
    ]
    (enqueue,) = [f for f in report.findings if f.rule == "RL104" and f.site == "enqueue"]
    assert "set at app/tasks.py:95" in enqueue.message


def test_signal_error_handler_is_the_final_failure(tmp_path: Path) -> None:
    rows = rows_by_name(
        analyze(
            write_project(
                tmp_path,
                {
                    "tasks.py": """
                        from huey import SqliteHuey
                        from huey.signals import SIGNAL_ERROR

                        huey = SqliteHuey()

                        @huey.signal(SIGNAL_ERROR)
                        def store_failure(signal, task, exc=None):
                            pass

                        @huey.task(retries=1)
                        def job():
                            pass
                    """
                },
            )
        )
    )
    assert rows["tasks.job"].final_failure == "SIGNAL_ERROR handler at tasks.py:7"


def test_retry_backoff_is_ignored_before_3_3(tmp_path: Path) -> None:
    project = write_project(
        tmp_path,
        {
            "requirements.txt": "huey==3.2.0\n",
            "tasks.py": """
                from huey import MemoryHuey

                huey = MemoryHuey()

                @huey.task(retries=3, retry_delay=10, retry_backoff=2)
                def job():
                    pass
            """,
        },
    )
    report = analyze(project)
    row = rows_by_name(report)["tasks.job"]
    assert (row.framework_version, row.backoff, row.delays_seconds) == (
        "3.2.0",
        "fixed",
        (10, 10, 10),
    )
    observed = [i for i in adapter_items(project, HueyAdapter()) if isinstance(i, Observation)]
    assert [(o.kind, o.location.line, o.task) for o in observed] == [
        ("ignored-retry-option", 5, "tasks.job")
    ]
    assert "3.3.0" in observed[0].message
    assert [(f.rule, f.location.line) for f in report.findings if f.rule == "RL503"] == [
        ("RL503", 5)
    ]


def test_name_computed_at_run_time_is_null(tmp_path: Path) -> None:
    report = analyze(
        write_project(
            tmp_path,
            {
                "tasks.py": """
                    from huey import RedisHuey

                    huey = RedisHuey()

                    @huey.task(name=PREFIX + "job", retries=1)
                    def job():
                        pass
                """
            },
        )
    )
    (row,) = report.rows
    assert row.name is None and row.name_expression == 'PREFIX + "job"'
    assert [u.field for u in row.undecided] == ["name"]


def test_task_base_and_run_time_cancel_are_quoted(rows: dict[Any, EffectivePolicy]) -> None:
    # SteppedTask defines a retry_delay property: the waits exist only at run time. LabelledTask
    # defines nothing Huey reads, so its task keeps the decorator's values.
    stepped = rows["app.django_huey_tasks.stepped", "definition", 54]
    assert [(u.field, u.expression, u.location.line) for u in stepped.undecided] == [
        ("retry_delay", "SteppedTask.retry_delay", 53)
    ]
    assert "task_base=SteppedTask sets retry_delay at run time" in stepped.sources["delays"].note
    maybe = rows["app.django_huey_tasks.maybe_again", "definition", 69]
    assert [(u.field, u.expression, u.location.line) for u in maybe.undecided] == [
        ("retry", "outcome.retry", 71)
    ]


def test_django_huey_alone_with_its_signal(tmp_path: Path) -> None:
    # A project that imports only django_huey still gets the Huey adapter; its `signal()`
    # registers on the queue's Huey instance like `huey.signal()`.
    rows = rows_by_name(
        analyze(
            write_project(
                tmp_path,
                {
                    "jobs/__init__.py": "",
                    "jobs/tasks.py": """
                        from django_huey import db_task, signal

                        @signal("error", queue="jobs")
                        def keep_failure(signal, task, exc=None):
                            pass

                        @db_task(retries=2, retry_delay=4, queue="jobs")
                        def sync():
                            pass
                    """,
                },
            )
        )
    )
    row = rows["jobs.tasks.sync"]
    assert (row.framework, row.max_retries, row.delays_seconds) == ("huey", 2, (4, 4))
    assert row.final_failure == "SIGNAL_ERROR handler at jobs/tasks.py:4"


def test_task_base_option_can_be_assumed(tmp_path: Path) -> None:
    # `[assume] "Base.retry_delay"` decides what the base class computes; jitter stays open.
    rows = rows_by_name(
        analyze(
            write_project(
                tmp_path,
                {
                    "retrylint.toml": '[assume]\n"Polite.retry_delay" = 45\n',
                    "tasks.py": """
                        from huey import RedisHuey
                        from huey.api import Task

                        huey = RedisHuey()

                        class Polite(Task):
                            def __init__(self, *args, **kwargs):
                                super().__init__(*args, **kwargs)
                                self.retry_delay = 45

                        @huey.task(retries=2, retry_delay=5, task_base=Polite)
                        def job():
                            pass
                    """,
                },
            )
        )
    )
    row = rows["tasks.job"]
    assert (row.max_retries, row.delays_seconds, row.jitter) == (2, (45, 45), "undecided")
    assert row.sources["delays"].source == "assumed" and row.undecided == ()


def test_signal_registered_by_a_call(tmp_path: Path) -> None:
    # `signal()` with no signal names covers every signal, SIGNAL_ERROR included; registered
    # by calling the decorator in a setup function, the handler is located at that call.
    rows = rows_by_name(
        analyze(
            write_project(
                tmp_path,
                {
                    "jobs/__init__.py": "",
                    "jobs/setup.py": """
                        from django_huey import signal
                        from huey.signals import SIGNAL_COMPLETE

                        def record(signal_name, task, exc=None):
                            pass

                        def install(names):
                            for name in names:
                                signal(SIGNAL_COMPLETE, queue=name)(record)
                                signal(queue=name)(record)
                    """,
                    "jobs/tasks.py": """
                        from django_huey import db_task

                        @db_task(retries=1, queue="jobs")
                        def sync():
                            pass
                    """,
                },
            )
        )
    )
    assert rows["jobs.tasks.sync"].final_failure == "SIGNAL_ERROR handler at jobs/setup.py:10"


@pytest.mark.parametrize(
    ("hooks", "use"),
    [
        # Renamed where it is imported...
        ("from huey.contrib.djhuey import signal as on_signal", "from jobs.hooks import on_signal"),
        # ...assigned a new name, or renamed again by the module that imports it.
        ("from huey.contrib import djhuey\non_signal = djhuey.signal", "from jobs.hooks import *"),
        (
            "from huey.contrib.djhuey import signal",
            "from jobs.hooks import signal as on_signal",
        ),
        # ...or renamed in a module that names no Huey and nothing else reads.
        ("from jobs.base import signal as on_signal", "from jobs.hooks import on_signal"),
    ],
)
def test_a_renamed_django_signal_still_registers_the_handler(
    tmp_path: Path, hooks: str, use: str
) -> None:
    # A call of `signal()` under another name registers a handler all the same.
    files = {
        "jobs/__init__.py": "",
        "jobs/base.py": "from huey.contrib.djhuey import signal\n",
        "jobs/hooks.py": hooks + "\n",
        "jobs/tasks.py": use
        + "\nfrom huey.contrib.djhuey import db_task\n\n"
        + "@on_signal('error')\ndef keep(signal, task, exc=None):\n    pass\n\n"
        + "@db_task(retries=1)\ndef sync():\n    pass\n",
    }
    rows = rows_by_name(analyze(write_project(tmp_path, files)))
    assert rows["jobs.tasks.sync"].final_failure == "SIGNAL_ERROR handler at jobs/tasks.py:5"


def test_names_as_huey_registers_them() -> None:
    """`module.` + (name= or the function name); fixtures/names/huey, whose task module is in a
    namespace directory inside the `shop` package."""
    at = "shop/tasks/orders.py"
    assert name_rows(FIXTURES / "names" / "huey") == [
        (at, 10, "shop.tasks.orders.plain", None, (), "definition"),
        (at, 15, "shop.tasks.orders.charge_card", None, (), "definition"),
        (at, 20, "shop.tasks.orders.empty", None, (), "definition"),
        (at, 25, "shop.tasks.orders.sweep", None, (), "definition"),
    ]


def test_retry_delay_changed_while_the_task_runs_is_undecided(tmp_path: Path) -> None:
    # Huey's documented pattern: with context=True the task multiplies its own retry_delay, so
    # the next retry waits longer; the written retry_delay=10 decides nothing.
    root = write_project(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/queue.py": """
                import functools
                from huey import RedisHuey

                huey = RedisHuey("app")

                def backing_off(retries=3, retry_delay=10, factor=3):
                    def register(fn):
                        @functools.wraps(fn)
                        def run(*args, **kwargs):
                            current = kwargs.pop("task")
                            try:
                                return fn(*args, **kwargs)
                            except Exception:
                                current.retry_delay *= factor
                                raise
                        return huey.task(retries=retries, retry_delay=retry_delay, context=True)(run)
                    return register

                @huey.task(retries=2, retry_delay=5, context=True)
                def direct(task=None):
                    task.retry_delay = task.retry_delay * 2
            """,
            "app/jobs.py": """
                from app.queue import backing_off

                @backing_off()
                def sync_feed(feed_id):
                    pass
            """,
        },
    )
    rows = {r.name: r for r in analyze(root).rows}
    for name, count in (("app.jobs.sync_feed", 3), ("app.queue.direct", 2)):
        row = rows[name]
        assert row.max_retries == count
        assert row.delays_seconds is None and row.backoff == "undecided"
        assert [u.field for u in row.undecided] == ["retry_delay"]


def test_retry_task_raised_in_a_helper_points_at_the_raise(
    rows: dict[Any, EffectivePolicy],
) -> None:
    for key, raised in (
        (("app.waiting.waits", "definition", 22), ("app/waiting.py", 9)),
        (("app.waiting.waits_plain", "definition", 28), ("app/waiting.py", 9)),
        (("app.waiting.waits_imported", "definition", 33), ("app/checks.py", 7)),
    ):
        count = rows[key].sources["max_retries"]
        assert "RetryTask" in count.note and count.location is not None
        assert (count.location.path, count.location.line) == raised
    # `RetryTask(delay=10)` in the helper sets the wait; `RetryTask()` waits the retry_delay.
    plain = rows["app.waiting.waits_plain", "definition", 28].sources["delays"]
    assert plain.note == "RetryTask(delay=)" and plain.location is not None
    assert (plain.location.path, plain.location.line) == ("app/waiting.py", 9)
    imported = rows["app.waiting.waits_imported", "definition", 33].sources["delays"]
    assert imported.location is not None
    assert (imported.location.path, imported.location.line) == ("app/waiting.py", 32)
