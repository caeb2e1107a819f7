"""taskiq: every declaration form and edge case of the reference §6, asserted field by field.

Expected values were worked out by hand from taskiq 0.13's source (see the fixture's comments):
`max_retries` counts executions (default 3), nothing retries without a retry middleware and
`retry_on_error`, SmartRetryMiddleware waits `delay` (default 5 s) and, with
`use_delay_exponent`, multiplies the carried delay by the retry number (cap 60 s).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retrylint.model import EffectivePolicy
from tests.conftest import FIXTURES, analyze, name_rows, rows_by_name, write_project

# name → (trigger, max_retries, backoff, jitter, delays, window, max_retries source)
EXPECTED: dict[str, tuple[Any, ...]] = {
    # Labels on the task win over the middleware's defaults.
    "billing.charge": ("automatic", 2, "fixed", False, (2, 2), 4, "explicit"),
    "app.tasks:smart_default": ("automatic", 4, "fixed", False, (5,) * 4, 20, "config"),
    "app.tasks:off_by_default": ("none", 0, None, None, (), 0, "default"),
    # Jitter (0-1 s) is carried into the next delay label: upper bounds 6, 7.
    "app.tasks:jittered": ("automatic", 2, "linear", True, (6, 7), 13, "default"),
    # use_delay_exponent: previous delay · k, capped at 60 s.
    "app.tasks:growing": (
        "automatic",
        5,
        "exponential",
        False,
        (5, 10, 30, 60, 60),
        165,
        "explicit",
    ),
    # With a schedule source: delay · k.
    "app.tasks:scheduled": ("automatic", 3, "linear", False, (5, 10, 15), 30, "explicit"),
    # SimpleRetryMiddleware(default_retry_label=True): retried at once without a label.
    "app.tasks:simple_on": ("automatic", 2, "none", False, (0, 0), 0, "default"),
    # InMemoryBroker ignores the delay label.
    "app.tasks:in_memory": ("automatic", 2, "none", False, (0, 0), 0, "default"),
    # No retry middleware on the broker: the labels do nothing.
    "app.tasks:no_middleware": ("none", 0, None, None, (), 0, "default"),
    "app.tasks:explicit_no_retry": ("none", 0, None, None, (), 0, "default"),
    # max_retries=None: int('None') fails inside the middleware.
    "app.tasks:none_trap": ("automatic", 0, None, None, (), 0, "explicit"),
    "app.tasks:broad": ("automatic", 4, "fixed", False, (5,) * 4, 20, "config"),
    # String labels: "true" switches retries on, int("2") = two executions.
    "app.tasks:string_labels": ("automatic", 1, "fixed", False, (5,), 5, "explicit"),
    # A chain kept as text: default_delay=10 read from it.
    "app.tasks:from_text": ("automatic", 2, "fixed", False, (10, 10), 20, "default"),
    # Two retry middlewares: the worst of both.
    "app.tasks:doubled": ("automatic", 2, "none", False, (5, 5), 10, "default"),
    # A shared task in a project with several retry set-ups.
    "app.tasks:shared": (
        "undecided",
        "undecided",
        "undecided",
        "undecided",
        None,
        "undecided",
        "undecided",
    ),
    # broker.register_task(fn, task_name=...) of a function defined in an unscanned file.
    "registered": ("automatic", 4, "fixed", False, (5,) * 4, 20, "config"),
}
# (name, line) → the fields of an enqueue row in app/tasks.py.
ENQUEUES: dict[tuple[str, int], tuple[Any, ...]] = {
    ("billing.charge", 106): ("automatic", 5, "fixed", False, (2,) * 5, 10, "explicit"),
    ("app.tasks:no_middleware", 107): ("none", 0, None, None, (), 0, "default"),
    # types_of_exceptions on the kicker is dropped: the task's policy is unchanged.
    ("app.tasks:smart_default", 108): ("automatic", 4, "fixed", False, (5,) * 4, 20, "config"),
}
FIELDS = ("retry_trigger", "max_retries", "backoff", "jitter", "delays_seconds", "window_seconds")


@pytest.fixture(scope="module")
def report() -> Any:
    return analyze(FIXTURES / "taskiq")


@pytest.fixture(scope="module")
def definitions(report: Any) -> dict[str, EffectivePolicy]:
    return {
        row.name or f"<{row.name_expression}>": row
        for row in report.rows
        if row.site == "definition"
    }


def test_every_task_is_found(definitions: dict[str, EffectivePolicy]) -> None:
    assert sorted(definitions) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_effective_policy(definitions: dict[str, EffectivePolicy], name: str) -> None:
    row = definitions[name]
    *values, count_source = EXPECTED[name]
    assert tuple(getattr(row, f) for f in FIELDS) == tuple(values)
    assert row.sources["max_retries"].source == count_source
    assert row.final_failure == "nowhere"
    assert row.framework == "taskiq" and row.framework_version == "0.13.0"


def test_enqueue_rows(report: Any) -> None:
    rows = {
        (row.name, row.location.line): row
        for row in report.rows
        if row.site == "enqueue" and row.location.path == "app/tasks.py"
    }
    assert sorted(rows) == sorted(ENQUEUES)
    for key, expected in ENQUEUES.items():
        *values, count_source = expected
        assert tuple(getattr(rows[key], f) for f in FIELDS) == tuple(values)
        assert rows[key].sources["max_retries"].source == count_source


def test_locations_and_provenance(definitions: dict[str, EffectivePolicy]) -> None:
    registered = definitions["registered"]
    assert (registered.location.path, registered.location.line) == ("app/tasks.py", 102)
    config = definitions["app.tasks:smart_default"].sources["max_retries"]
    assert config.location is not None
    assert (config.location.path, config.location.line) == ("app/brokers.py", 10)
    default = definitions["app.tasks:jittered"].sources["max_retries"]
    assert default.location is None and "default_retry_count default of 3" in default.note
    charge = definitions["billing.charge"].sources["max_retries"]
    assert charge.location is not None and charge.location.line == 19
    none_trap = definitions["app.tasks:none_trap"].sources["max_retries"]
    assert "int('None')" in none_trap.note


def test_undecided_values_are_quoted(definitions: dict[str, EffectivePolicy]) -> None:
    (item,) = definitions["app.tasks:shared"].undecided
    assert (item.field, item.expression) == (
        "middlewares",
        "SmartRetryMiddleware(default_retry_count=5)",
    )


def test_broad_trigger_and_inert_labels(definitions: dict[str, EffectivePolicy]) -> None:
    (trigger,) = definitions["app.tasks:broad"].broad_triggers
    assert (trigger.exception, trigger.location.line) == ("Exception", 76)
    ((name, location),) = definitions["app.tasks:off_by_default"].inert_options
    assert (name, location.line) == ("max_retries", 29)
    # Without a middleware the labels are reported by RL503, not as inert by RL104.
    assert definitions["app.tasks:no_middleware"].inert_options == ()


def test_observations(report: Any) -> None:
    found = sorted(
        (f.rule, f.task or "", f.site or "", f.location.path, f.location.line)
        for f in report.findings
        if f.rule in ("RL503", "RL502", "RL104", "RL301")
    )
    assert found == [
        ("RL104", "app.tasks:off_by_default", "definition", "app/tasks.py", 29),
        ("RL301", "app.tasks:broad", "definition", "app/tasks.py", 76),
        ("RL502", "", "", "app/brokers.py", 44),
        ("RL503", "", "", "app/brokers.py", 37),
        ("RL503", "app.tasks:no_middleware", "definition", "app/tasks.py", 60),
        ("RL503", "app.tasks:no_middleware", "enqueue", "app/tasks.py", 107),
        ("RL503", "app.tasks:none_trap", "definition", "app/tasks.py", 70),
        ("RL503", "app.tasks:smart_default", "enqueue", "app/tasks.py", 108),
    ]
    ignored = next(f for f in report.findings if f.rule == "RL503" and f.location.line == 60)
    assert "`bare_broker`" in ignored.message and "never retries" in ignored.message


def _report(tmp_path: Path, files: dict[str, str]) -> Any:
    return analyze(write_project(tmp_path, files))


_CONSTRUCTOR_TASKS = """
    from taskiq import AsyncBroker

    from limits import MAX_TRIES

    class Worker:
        def __init__(self, *, broker: AsyncBroker):
            self.broker = broker
            self._register()

        def _register(self):
            @self.broker.task(task_name="hooks.deliver", retry_on_error=True, max_retries=MAX_TRIES)
            async def deliver(url: str) -> None:
                pass

            self.deliver = deliver
"""


def test_tasks_declared_in_a_constructor_without_any_middleware(tmp_path: Path) -> None:
    report = _report(
        tmp_path,
        {
            "limits.py": "MAX_TRIES = 5\n",
            "worker.py": _CONSTRUCTOR_TASKS,
            "main.py": """
                from taskiq_redis import ListQueueBroker
                from worker import Worker

                broker = ListQueueBroker("redis://")
                Worker(broker=broker)
            """,
        },
    )
    (row,) = report.rows
    assert row.name == "hooks.deliver" and row.retry_trigger == "none" and row.max_retries == 0
    assert "no SimpleRetryMiddleware or SmartRetryMiddleware" in row.sources["max_retries"].note
    (finding,) = [f for f in report.findings if f.rule == "RL503"]
    assert "max_retries=MAX_TRIES, retry_on_error=True" in finding.message
    assert (finding.location.path, finding.location.line) == ("worker.py", 11)


def test_tasks_declared_in_a_constructor_with_one_middleware(tmp_path: Path) -> None:
    report = _report(
        tmp_path,
        {
            "limits.py": "MAX_TRIES = 5\n",
            "worker.py": _CONSTRUCTOR_TASKS,
            "main.py": """
                from taskiq import SmartRetryMiddleware
                from taskiq_redis import ListQueueBroker
                from worker import Worker

                broker = ListQueueBroker("redis://").with_middlewares(
                    SmartRetryMiddleware(default_delay=3)
                )
                Worker(broker=broker)
            """,
        },
    )
    (row,) = report.rows
    assert (row.retry_trigger, row.max_retries, row.delays_seconds) == ("automatic", 4, (3,) * 4)
    assert not [f for f in report.findings if f.rule == "RL503"]


def test_version_and_broker_imported_from_project_module(tmp_path: Path) -> None:
    # The task file never names taskiq: it is found through the broker's name.
    rows = rows_by_name(
        _report(
            tmp_path,
            {
                "requirements.txt": "taskiq==0.11.18\n",
                "broker.py": """
                    from taskiq import SimpleRetryMiddleware
                    from taskiq_redis import ListQueueBroker

                    broker = ListQueueBroker("redis://")
                    broker.add_middlewares(SimpleRetryMiddleware(default_retry_count=4))
                """,
                "jobs.py": """
                    from broker import broker

                    @broker.task(retry_on_error=True)
                    async def ping():
                        pass
                """,
            },
        )
    )
    row = rows["jobs:ping"]
    assert row.framework_version == "0.11.18"
    assert (row.max_retries, row.delays_seconds, row.backoff) == (3, (0, 0, 0), "none")


def test_shared_broker_and_factory_broker_use_the_one_middleware(tmp_path: Path) -> None:
    rows = rows_by_name(
        _report(
            tmp_path,
            {
                "setup.py": """
                    from taskiq import SmartRetryMiddleware
                    from taskiq_redis import ListQueueBroker

                    def make_broker():
                        broker = ListQueueBroker("redis://")
                        broker.add_middlewares(SmartRetryMiddleware(use_delay_exponent=True))
                        return broker

                    broker = make_broker()
                """,
                "jobs.py": """
                    from taskiq import async_shared_broker

                    from setup import broker

                    @async_shared_broker.task(retry_on_error=True, max_retries=4)
                    async def shared():
                        pass

                    @broker.task(retry_on_error=True)
                    async def made():
                        pass
                """,
            },
        )
    )
    assert rows["jobs:shared"].delays_seconds == (5, 10, 30)
    assert rows["jobs:made"].delays_seconds == (5, 10)
    assert rows["jobs:made"].backoff == "exponential"


def test_names_as_taskiq_registers_them() -> None:
    """`task_name` (also positional), else `module:__name__`; fixtures/names/taskiq."""
    at = "app/tasks.py"
    assert name_rows(FIXTURES / "names" / "taskiq") == [
        (at, 9, "app.tasks:plain", None, (), "definition"),
        (at, 14, "emails.send", None, (), "definition"),
        (at, 19, "positional.name", None, (), "definition"),
        (at, 24, "app.tasks:none_name", None, (), "definition"),
        (at, 28, "app.tasks:registered", None, (), "definition"),
    ]
