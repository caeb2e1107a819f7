"""Procrastinate: every declaration form and edge case of the reference §7, field by field.

Expected values were worked out by hand from Procrastinate 3.10's `retry.py`: `retry=True` is
`RetryStrategy()` (no limit, no wait), an int N is N retries with no wait, `max_attempts` counts
retries and is unbounded when None or 0 (`if self.max_attempts and ...`), and the wait before
retry r+1 is `wait + linear_wait*r + exponential_wait**(r+1)` seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retrylint.frameworks.procrastinate import FINAL_FAILURE
from retrylint.model import EffectivePolicy
from tests.conftest import FIXTURES, analyze, name_rows, rows_by_name, write_project

# name → (trigger, max_retries, backoff, jitter, delays, window, max_retries source)
EXPECTED: dict[str, tuple[Any, ...]] = {
    "billing.charge": ("automatic", 2, "none", False, (0, 0), 0, "explicit"),
    "jobs.contrib.send_mail": ("automatic", 1, "none", False, (0,), 0, "explicit"),
    "jobs.tasks.bare": ("none", 0, None, None, (), 0, "default"),
    "jobs.tasks.computed": (
        "undecided",
        "undecided",
        "undecided",
        "undecided",
        None,
        "undecided",
        "undecided",
    ),
    "jobs.tasks.computed_wait": ("automatic", 3, "undecided", False, None, "undecided", "explicit"),
    "jobs.tasks.custom_strategy": (
        "undecided",
        "undecided",
        "undecided",
        "undecided",
        None,
        "undecided",
        "undecided",
    ),
    "jobs.tasks.every_ten_minutes": ("automatic", 1, "none", False, (0,), 0, "explicit"),
    "jobs.tasks.exponent_one": ("automatic", 2, "fixed", False, (1, 1), 2, "explicit"),
    "jobs.tasks.exponential": ("automatic", 4, "exponential", False, (2, 4, 8, 16), 30, "explicit"),
    "jobs.tasks.forever": ("automatic", "unbounded", "none", False, None, "unbounded", "explicit"),
    "jobs.tasks.from_constant": ("automatic", 4, "fixed", False, (5, 5, 5, 5), 20, "explicit"),
    "jobs.tasks.from_settings": ("automatic", 6, "none", False, (0,) * 6, 0, "explicit"),
    "jobs.tasks.linear": ("automatic", 3, "linear", False, (10, 15, 20), 45, "explicit"),
    "jobs.tasks.narrow": ("automatic", 2, "none", False, (0, 0), 0, "explicit"),
    "jobs.tasks.negative_attempts": ("none", 0, None, None, (), 0, "explicit"),
    "jobs.tasks.negative_int": ("none", 0, None, None, (), 0, "explicit"),
    "jobs.tasks.none_attempts": (
        "automatic",
        "unbounded",
        "fixed",
        False,
        None,
        "unbounded",
        "explicit",
    ),
    "jobs.tasks.off": ("none", 0, None, None, (), 0, "explicit"),
    "jobs.tasks.on_testing_app": ("automatic", 1, "none", False, (0,), 0, "explicit"),
    "jobs.tasks.strategy_default": (
        "automatic",
        "unbounded",
        "none",
        False,
        None,
        "unbounded",
        "explicit",
    ),
    "jobs.tasks.subclass_strategy": ("automatic", 2, "fixed", False, (7, 7), 14, "explicit"),
    "jobs.tasks.three_at_once": ("automatic", 3, "none", False, (0, 0, 0), 0, "explicit"),
    "jobs.tasks.zero_attempts": (
        "automatic",
        "unbounded",
        "fixed",
        False,
        None,
        "unbounded",
        "explicit",
    ),
    "maintenance.cleanup": ("automatic", 2, "none", False, (0, 0), 0, "explicit"),
    "reports:jobs.reports.build": ("automatic", 2, "none", False, (0, 0), 0, "explicit"),
}
FIELDS = ("retry_trigger", "max_retries", "backoff", "jitter", "delays_seconds", "window_seconds")


@pytest.fixture(scope="module")
def rows() -> dict[str, EffectivePolicy]:
    return rows_by_name(analyze(FIXTURES / "procrastinate"))


def test_every_task_is_found(rows: dict[str, EffectivePolicy]) -> None:
    # `registry.task` in jobs/contrib.py is not Procrastinate's and makes no row.
    assert sorted(rows) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_effective_policy(rows: dict[str, EffectivePolicy], name: str) -> None:
    row = rows[name]
    *values, count_source = EXPECTED[name]
    assert tuple(getattr(row, f) for f in FIELDS) == tuple(values)
    assert row.sources["max_retries"].source == count_source
    assert row.final_failure == FINAL_FAILURE
    assert row.framework == "procrastinate" and row.site == "definition"
    assert row.framework_version == "3.10.0"


def test_locations_and_suppression_lines(rows: dict[str, EffectivePolicy]) -> None:
    periodic = rows["jobs.tasks.every_ten_minutes"]
    assert (periodic.location.path, periodic.location.line) == ("jobs/tasks.py", 115)
    # Both decorators and the def line carry suppressions.
    assert periodic.suppression_lines == (113, 114, 115)
    # A constant strategy is located where it is written, in another module.
    steady = rows["jobs.tasks.from_constant"].sources["max_retries"]
    assert steady.location is not None
    assert (steady.location.path, steady.location.line) == ("jobs/strategies.py", 5)
    # The default is a note without a location.
    bare = rows["jobs.tasks.bare"].sources["max_retries"]
    assert bare.location is None and "retry=False" in bare.note


def test_unbounded_forms_say_why(rows: dict[str, EffectivePolicy]) -> None:
    assert "retry=True" in rows["jobs.tasks.forever"].sources["max_retries"].note
    assert "falsy" in rows["jobs.tasks.zero_attempts"].sources["max_retries"].note
    assert "without max_attempts" in rows["jobs.tasks.strategy_default"].sources["max_retries"].note


def test_undecided_values_are_quoted(rows: dict[str, EffectivePolicy]) -> None:
    (computed,) = rows["jobs.tasks.computed"].undecided
    assert (computed.field, computed.expression) == ("retry", "pick_retry()")
    (wait,) = rows["jobs.tasks.computed_wait"].undecided
    assert (wait.field, wait.expression) == ("wait", "pick_wait()")
    (custom,) = rows["jobs.tasks.custom_strategy"].undecided
    assert (custom.field, custom.expression) == ("retry", "Clever(max_attempts=3)")


def test_broad_trigger_is_located(rows: dict[str, EffectivePolicy]) -> None:
    (trigger,) = rows["billing.charge"].broad_triggers
    assert trigger.exception == "Exception"
    assert (trigger.location.path, trigger.location.line) == ("jobs/tasks.py", 78)
    assert rows["jobs.tasks.narrow"].broad_triggers == ()


def test_jitter_hint_says_procrastinate_cannot_jitter(rows: dict[str, EffectivePolicy]) -> None:
    row = rows["jobs.tasks.linear"]
    assert "cannot jitter" in (row.hint("jitter") or "")
    assert row.sources["jitter"].source == "default"


def test_check_flags_unbounded_and_broad_forms() -> None:
    report = analyze(FIXTURES / "procrastinate")
    by_rule: dict[str, set[str | None]] = {}
    for finding in report.findings:
        by_rule.setdefault(finding.rule, set()).add(finding.task)
    assert by_rule["RL101"] == {
        "jobs.tasks.forever",
        "jobs.tasks.strategy_default",
        "jobs.tasks.zero_attempts",
        "jobs.tasks.none_attempts",
    }
    assert by_rule["RL301"] == {"billing.charge"}
    assert by_rule["RL002"] == {
        "jobs.tasks.computed",
        "jobs.tasks.computed_wait",
        "jobs.tasks.custom_strategy",
    }


def test_namespace_that_cannot_be_decided_is_quoted(tmp_path: Path) -> None:
    rows = rows_by_name(
        analyze(
            write_project(
                tmp_path,
                {
                    "app.py": """
                        import os
                        import procrastinate

                        app = procrastinate.App(connector=None)
                        bp = procrastinate.Blueprint()
                        app.add_tasks_from(bp, namespace=os.environ["NS"])

                        @bp.task(retry=1)
                        def job():
                            pass
                    """
                },
            )
        )
    )
    (row,) = rows.values()
    assert row.name is None
    assert row.name_expression == "os.environ[\"NS\"] + ':' + 'app.job'"
    assert [u.field for u in row.undecided] == ["name"]


def test_app_imported_from_another_module(tmp_path: Path) -> None:
    # The app lives in one module under another name; the task file only imports it.
    rows = rows_by_name(
        analyze(
            write_project(
                tmp_path,
                {
                    "proj/__init__.py": "",
                    "proj/worker.py": """
                        from procrastinate import App
                        queue = App(connector=None)
                    """,
                    "proj/jobs.py": """
                        from proj.worker import queue

                        @queue.task(retry=5)
                        def sync_accounts():
                            pass
                    """,
                },
            )
        )
    )
    assert rows["proj.jobs.sync_accounts"].max_retries == 5


def test_names_as_procrastinate_registers_them() -> None:
    """`name` if truthy else `module.__name__`, then one `namespace:` per `add_tasks_from`
    level; fixtures/names/procrastinate."""
    at = "jobs/tasks.py"
    assert name_rows(FIXTURES / "names" / "procrastinate") == [
        (at, 12, "jobs.tasks.plain", None, (), "definition"),
        (at, 17, "exports.run", None, (), "definition"),
        (at, 22, "jobs.tasks.empty", None, (), "definition"),
        (at, 27, "jobs.tasks.none_name", None, (), "definition"),
        (at, 32, "a:b:jobs.tasks.nested", None, (), "definition"),
        (at, 37, "a:direct", None, (), "definition"),
    ]
