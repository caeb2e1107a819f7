"""Project wrappers of task decorators, inferred with no configuration, field by field.

The fixture (fixtures/wrappers) has no retrylint config: a new user's first run must find every
task declared through an in-house wrapper, with the options the wrapper's code passes on.
Expected values follow from Celery's and Dramatiq's defaults (see test_celery/test_dramatiq):
Celery's `default_retry_delay` is 180 s and `retry_backoff=True` means 1, 2, 4 ... s jittered;
Dramatiq's default `min_backoff` is 15 s, so the 2.x bound before retry r is 30 * 2**r s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retrylint.model import EffectivePolicy
from tests.conftest import FIXTURES, analyze, rows_by_name, write_project

CRON = "shop.jobs.decorator.cron_task"
# name → (framework, line, max_retries, backoff, jitter, delays, window, via)
EXPECTED: dict[str, tuple[Any, ...]] = {
    # `schedule=` is popped by the wrapper; the rest reaches shared_task through **kwargs.
    "shop.billing.tasks.sync_invoices": (
        "celery",
        5,
        3,
        "fixed",
        False,
        (180, 180, 180),
        540,
        (CRON,),
    ),
    # A wrapper of a wrapper adds retry_backoff=True on the way.
    "shop.billing.tasks.charge_cards": (
        "celery",
        10,
        6,
        "exponential",
        True,
        (1, 2, 4, 8, 16, 32),
        63,
        ("shop.jobs.decorator.critical_task", CRON),
    ),
    # The wrapper pops the user's max_retries=9 and passes its own 0.
    "shop.billing.tasks.send_receipt": (
        "celery",
        15,
        0,
        None,
        None,
        (),
        0,
        ("shop.jobs.decorator.no_retry_task",),
    ),
    # A bare decorator whose registering call fixes the options.
    "shop.billing.tasks.refresh_rates": (
        "celery",
        20,
        4,
        "exponential",
        True,
        (2, 4, 8, 16),
        30,
        ("shop.jobs.decorator.retrying",),
    ),
    # actor_name passed by name; max_retries from the wrapper's own default of 5.
    "billing.reconcile": (
        "dramatiq",
        5,
        5,
        "exponential",
        True,
        (30, 60, 120, 240, 480),
        930,
        ("shop.worker.actor",),
    ),
    # Keyword parameters the use site passes win over the wrapper's defaults; unknown ones
    # (min_backoff) travel through **options.
    "billing.export": ("dramatiq", 10, 1, "exponential", True, (1,), 1, ("shop.worker.actor",)),
    # RQ: a factory returning `job(queue, retry=Retry(...), **kwargs)`; the use passes the queue.
    "shop.maintenance.rebuild_search_index": (
        "rq",
        5,
        3,
        "exponential",
        False,
        (10, 30, 60),
        100,
        ("shop.queueing.background",),
    ),
    # Huey: `retries` is the wrapper's own parameter with a default of 2.
    "shop.maintenance.purge_sessions": (
        "huey",
        10,
        2,
        "fixed",
        False,
        (30, 30),
        60,
        ("shop.queueing.maintenance",),
    ),
    # ... overridden at the use; Huey prefixes the module to `name=`.
    "shop.maintenance.purge_carts": (
        "huey",
        15,
        5,
        "fixed",
        False,
        (30,) * 5,
        150,
        ("shop.queueing.maintenance",),
    ),
    # taskiq: the wrapper adds retry_on_error=True; max_retries=2 counts executions (one retry),
    # re-kicked at once by SimpleRetryMiddleware.
    "shop.reindex": ("taskiq", 13, 1, "none", False, (0,), 0, ("shop.kicks.retried",)),
    # Procrastinate: the wrapper's RetryStrategy (max_attempts counts retries), the use's name=.
    "shop.vacuum": (
        "procrastinate",
        13,
        4,
        "fixed",
        False,
        (5,) * 4,
        20,
        ("shop.pg.retrying_task",),
    ),
    # A wrapper class: `__init__` keeps the options, `__call__` registers; the retry is the
    # wrapper's own `task.retry(countdown=30)`, so the trigger is manual.
    "shop.sync_stock": (
        "celery",
        27,
        4,
        "fixed",
        False,
        (30,) * 4,
        120,
        ("shop.guarded.guarded_task",),
    ),
    # No actor_name: Dramatiq names the actor after fn.__name__, which functools.wraps copies.
    "cleanup": (
        "dramatiq",
        15,
        5,
        "exponential",
        True,
        (30, 60, 120, 240, 480),
        930,
        ("shop.worker.actor",),
    ),
}


@pytest.fixture(scope="module")
def rows() -> dict[str, EffectivePolicy]:
    return rows_by_name(analyze(FIXTURES / "wrappers"))


def test_every_wrapped_task_is_found(rows: dict[str, EffectivePolicy]) -> None:
    # The wrappers' own inner functions (`wrapper`, `_wrapped`, `inner`) are not tasks.
    assert sorted(rows) == sorted([*EXPECTED, "billing.charge", "notify"])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_effective_policy(rows: dict[str, EffectivePolicy], name: str) -> None:
    framework, line, count, backoff, jitter, delays, window, via = EXPECTED[name]
    row = rows[name]
    assert row.framework == framework
    assert row.site == "definition"
    assert row.location.line == line
    assert row.retry_trigger == ("manual" if name == "shop.sync_stock" else "automatic")
    assert row.max_retries == count
    assert row.backoff == backoff
    assert row.jitter == jitter
    assert row.delays_seconds == delays
    assert row.window_seconds == window
    assert row.sources["max_retries"].source == "explicit"
    assert tuple(v.wrapper for v in row.via) == via
    assert row.undecided == ()


def test_via_locates_the_wrapper(rows: dict[str, EffectivePolicy]) -> None:
    via = rows["shop.billing.tasks.charge_cards"].via
    assert [(v.location.path, v.location.line) for v in via] == [
        ("shop/jobs/decorator.py", 24),
        ("shop/jobs/decorator.py", 10),
    ]


def test_options_written_in_the_wrapper_point_at_the_wrapper(
    rows: dict[str, EffectivePolicy],
) -> None:
    # max_retries=4 is written in the wrapper's registering call, not at the task.
    where = rows["shop.billing.tasks.refresh_rates"].sources["max_retries"].location
    assert where is not None
    assert (where.path, where.line) == ("shop/jobs/decorator.py", 37)


def test_a_wrapper_default_is_located_in_the_wrapper(rows: dict[str, EffectivePolicy]) -> None:
    where = rows["shop.maintenance.purge_sessions"].sources["max_retries"].location
    assert where is not None
    assert (where.path, where.line) == ("shop/queueing.py", 14)


def test_direct_use_of_the_framework_is_not_a_wrapper(tmp_path: Path) -> None:
    # A function that only calls a task, or decorates nothing, is not a task decorator.
    root = write_project(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/tasks.py": """
                from celery import shared_task

                def helper(fn):
                    return fn

                def enqueue(task):
                    return task.delay()

                @shared_task(max_retries=2, autoretry_for=(IOError,))
                def real():
                    pass

                @helper
                def plain():
                    pass
            """,
        },
    )
    assert sorted(rows_by_name(analyze(root))) == ["app.tasks.real"]


def test_wrapper_without_configuration_in_another_round(tmp_path: Path) -> None:
    # The user module never mentions Celery: only the wrapper's name makes it a candidate.
    root = write_project(
        tmp_path,
        {
            "proj/__init__.py": "",
            "proj/deco.py": """
                from celery import shared_task

                def background(**options):
                    return shared_task(**options)
            """,
            "proj/users.py": """
                from proj.deco import background

                @background(max_retries=7, autoretry_for=(OSError,))
                def rebuild():
                    pass
            """,
        },
    )
    row = rows_by_name(analyze(root))["proj.users.rebuild"]
    assert row.max_retries == 7
    assert [v.wrapper for v in row.via] == ["proj.deco.background"]


def test_configured_wrapper_by_its_re_exported_path(tmp_path: Path) -> None:
    # Inference cannot see through `_registry.make(...)`; the user names the wrapper by the
    # path they import it from (a package re-export), not the module that defines it.
    root = write_project(
        tmp_path,
        {
            "retrylint.toml": '[frameworks.celery]\ntask-decorators = ["proj.task"]\n',
            "proj/__init__.py": "from .deco import task\n",
            "proj/deco.py": """
                import celery
                from proj import _registry

                def task(**options):
                    return _registry.make(**options)
            """,
            "proj/_registry.py": "def make(**options): ...\n",
            "proj/users.py": """
                from proj import task

                @task(max_retries=2, autoretry_for=(OSError,))
                def rebuild():
                    pass
            """,
        },
    )
    row = rows_by_name(analyze(root))["proj.users.rebuild"]
    assert row.max_retries == 2


@pytest.mark.parametrize(
    ("name", "line", "wrapper"),
    [
        # The use's positional argument is the wrapper's `name` parameter, passed on as name=.
        ("billing.charge", 21, "shop.activities.billing_activity"),
        # activity.defn(inner) with functools.wraps: registered under the user's function name.
        ("notify", 26, "shop.activities.traced"),
    ],
)
def test_temporal_activity_wrappers(
    rows: dict[str, EffectivePolicy], name: str, line: int, wrapper: str
) -> None:
    row = rows[name]
    assert (row.framework, row.site, row.location.line) == ("temporal", "definition", line)
    assert row.retry_trigger is None  # Temporal sets retries where the activity is called
    assert [v.wrapper for v in row.via] == [wrapper]


def test_broker_none_passed_through_a_wrapper_is_the_global_broker(tmp_path: Path) -> None:
    # dramatiq.actor does `broker = broker or get_broker()`: a wrapper that forwards its own
    # `broker=None` default leaves every actor on the global broker, not an unknown one.
    root = write_project(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/worker.py": """
                import dramatiq
                from dramatiq.brokers.stub import StubBroker

                dramatiq.set_broker(StubBroker())

                def actor(actor_name=None, broker=None, **options):
                    def decorator(fn):
                        dramatiq.actor(fn, actor_name=actor_name, broker=broker, **options)
                        return fn
                    return decorator
            """,
            "app/jobs.py": """
                from app.worker import actor

                @actor(actor_name="jobs.never", max_retries=0)
                def never():
                    pass
            """,
        },
    )
    row = rows_by_name(analyze(root))["jobs.never"]
    assert row.max_retries == 0
    assert row.undecided == ()


def test_wrapper_class_users_that_never_name_the_framework(tmp_path: Path) -> None:
    # The user module mentions no framework word: only the wrapper class's name makes it a
    # candidate file.
    root = write_project(
        tmp_path,
        {
            "jobs/__init__.py": """
                import dramatiq

                class background:
                    def __init__(self, queue="default"):
                        self.queue = queue

                    def __call__(self, fn):
                        return dramatiq.actor(fn, queue_name=self.queue, max_retries=4)
            """,
            "jobs/mail.py": """
                from . import background

                @background(queue="mail")
                def send_welcome(user_id):
                    pass
            """,
        },
    )
    row = rows_by_name(analyze(root))["send_welcome"]
    assert (row.max_retries, row.delays_seconds, row.window_seconds) == (4, (30, 60, 120, 240), 450)
    assert [v.wrapper for v in row.via] == ["jobs.background"]


def test_wrapper_usable_with_and_without_arguments(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/retrying.py": """
                from celery import shared_task

                def resilient(fn=None, max_retries=7, retry_backoff=True, **extra):
                    def make(f):
                        return shared_task(
                            f,
                            autoretry_for=(OSError,),
                            max_retries=max_retries,
                            retry_backoff=retry_backoff,
                            **extra,
                        )
                    if fn:
                        return make(fn)
                    return make
            """,
            "pkg/work.py": """
                from pkg.retrying import resilient

                @resilient
                def bare_use():
                    pass

                @resilient(max_retries=2)
                def called_use():
                    pass
            """,
        },
    )
    rows = rows_by_name(analyze(root))
    bare, called = rows["pkg.work.bare_use"], rows["pkg.work.called_use"]
    assert (bare.max_retries, bare.delays_seconds) == (7, (1, 2, 4, 8, 16, 32, 64))
    assert (called.max_retries, called.delays_seconds) == (2, (1, 2))
    assert bare.backoff == called.backoff == "exponential"


def _celery_rows(tmp_path: Path, wrapper: str, uses: str) -> dict[str, EffectivePolicy]:
    root = write_project(
        tmp_path,
        {"pkg/__init__.py": "", "pkg/tasking.py": wrapper, "pkg/jobs.py": uses},
    )
    return rows_by_name(analyze(root))


def test_options_the_wrapper_writes_into_its_kwargs(tmp_path: Path) -> None:
    # `kwargs["x"] = ...` overrides, `setdefault` fills what the use left out.
    rows = _celery_rows(
        tmp_path,
        """
        from celery import shared_task

        def robust(*args, **kwargs):
            kwargs.setdefault("autoretry_for", (OSError,))
            kwargs.setdefault("max_retries", 6)
            kwargs["retry_backoff"] = 3
            return shared_task(*args, **kwargs)
        """,
        """
        from pkg.tasking import robust

        @robust()
        def defaults():
            pass

        @robust(max_retries=1)
        def one():
            pass
        """,
    )
    defaults, one = rows["pkg.jobs.defaults"], rows["pkg.jobs.one"]
    assert (defaults.max_retries, defaults.delays_seconds) == (6, (3, 6, 12, 24, 48, 96))
    assert (one.max_retries, one.delays_seconds) == (1, (3,))


def test_bind_written_by_the_wrapper_counts_self_retry(tmp_path: Path) -> None:
    rows = _celery_rows(
        tmp_path,
        """
        from functools import wraps
        from celery import shared_task

        def audited(*args, **kwargs):
            kwargs["bind"] = True
            def deco(fn):
                @wraps(fn)
                def run(self, *a, **kw):
                    return fn(self, *a, **kw)
                return shared_task(*args, **kwargs)(run)
            return deco
        """,
        """
        from pkg.tasking import audited

        @audited()
        def power_on(self, vm_id):
            try:
                pass
            except OSError as exc:
                self.retry(exc=exc, countdown=20, max_retries=4)
        """,
    )
    row = rows["pkg.jobs.power_on"]
    assert (row.retry_trigger, row.max_retries, row.delays_seconds) == ("manual", 4, (20,) * 4)


def test_options_popped_into_locals_then_passed_on(tmp_path: Path) -> None:
    rows = _celery_rows(
        tmp_path,
        """
        from celery import shared_task

        def flaky(*args, **kwargs):
            tries = kwargs.pop("tries", 5)
            pause = kwargs.pop("pause", 30)
            def deco(fn):
                return shared_task(
                    *args,
                    autoretry_for=(OSError,),
                    max_retries=tries,
                    default_retry_delay=pause,
                    **kwargs,
                )(fn)
            return deco
        """,
        """
        from pkg.tasking import flaky

        @flaky()
        def defaults_only():
            pass

        @flaky(tries=2, pause=7)
        def overridden():
            pass
        """,
    )
    defaults, overridden = rows["pkg.jobs.defaults_only"], rows["pkg.jobs.overridden"]
    assert (defaults.max_retries, defaults.window_seconds) == (5, 150)
    assert (overridden.max_retries, overridden.delays_seconds) == (2, (7, 7))
    assert defaults.undecided == overridden.undecided == ()


def test_a_copy_of_the_options_keeps_the_use_sites_options(tmp_path: Path) -> None:
    rows = _celery_rows(
        tmp_path,
        """
        from celery import shared_task

        def traced(*args, **kwargs):
            opts = kwargs.copy()
            opts["acks_late"] = True
            def deco(fn):
                return shared_task(*args, **opts)(fn)
            return deco
        """,
        """
        from pkg.tasking import traced

        @traced(autoretry_for=(OSError,), max_retries=4, retry_backoff=2)
        def fetch():
            pass
        """,
    )
    row = rows["pkg.jobs.fetch"]
    assert (row.max_retries, row.delays_seconds) == (4, (2, 4, 8, 16))
