"""Temporal activities: definitions and every invocation form of the reference §10.

Expected values were worked out by hand from temporalio 1.35.0 and the server's retry code:
`maximum_attempts` counts executions (0 = unlimited), the wait before retry r+1 is
`initial_interval * backoff_coefficient**r` capped at `maximum_interval` (default 100 x initial),
no policy means the server default (1 s, x2, cap 100 s, unlimited), and a schedule-to-close
timeout allows only the retries whose waits fit in it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retrylint.model import EffectivePolicy
from tests.conftest import FIXTURES, analyze, name_rows, write_project

DEFAULT_WAITS = (1, 2, 4, 8, 16, 32, 64, 100)
UNBOUNDED = ("automatic", "unbounded", "exponential", False, None, "unbounded")
# line in flows/workflows.py → (name, trigger, max_retries, backoff, jitter, delays, window,
# max_retries source)
CALLS: dict[int, tuple[Any, ...]] = {
    16: ("charge", *UNBOUNDED, "default"),  # no policy, no schedule-to-close timeout
    17: ("charge", "automatic", 8, "exponential", False, DEFAULT_WAITS, 227, "explicit"),
    18: ("charge", "automatic", 0, None, None, (), 0, "explicit"),  # maximum_attempts=1
    19: ("charge", *UNBOUNDED, "explicit"),  # maximum_attempts=0
    20: ("charge", "automatic", 3, "fixed", False, (3, 3, 3), 9, "explicit"),
    21: ("send-email", "automatic", 4, "exponential", False, (2, 4, 8, 10), 24, "explicit"),
    22: ("send-email", "automatic", 2, "exponential", False, (1, 2), 3, "explicit"),  # **QUICK
    24: ("reserve", "automatic", 2, "exponential", False, (0.5, 1), 1.5, "explicit"),
    25: ("inventory.release", *UNBOUNDED, "default"),  # a policy without maximum_attempts
    27: ("charge", *UNBOUNDED, "default"),  # local activity, no policy
    28: ("charge", "automatic", 4, "exponential", False, (1, 2, 4, 8), 15, "explicit"),
    29: (
        "charge",
        "undecided",
        "undecided",
        "undecided",
        "undecided",
        None,
        "undecided",
        "undecided",
    ),
    30: ("charge", "automatic", 2, "exponential", False, (1, 3), 4, "explicit"),  # positional
    31: ("charge", "automatic", "undecided", "exponential", False, None, "undecided", "undecided"),
    32: ("charge", *UNBOUNDED, "default"),  # retry_policy=None
    35: (None, "automatic", 1, "exponential", False, (1,), 1, "explicit"),  # activity parameter
}
# (line in flows/activities.py, name)
DEFINITIONS = [
    (5, "charge"),
    (10, "send-email"),
    (16, "reserve"),
    (20, "inventory.release"),
    (26, None),
]
FIELDS = (
    "name",
    "retry_trigger",
    "max_retries",
    "backoff",
    "jitter",
    "delays_seconds",
    "window_seconds",
)


@pytest.fixture(scope="module")
def report() -> Any:
    return analyze(FIXTURES / "temporal")


@pytest.fixture(scope="module")
def calls(report: Any) -> dict[int, EffectivePolicy]:
    return {
        r.location.line: r
        for r in report.rows
        if r.site == "enqueue" and r.location.path == "flows/workflows.py"
    }


def test_every_call_site_is_found(calls: dict[int, EffectivePolicy]) -> None:
    assert sorted(calls) == sorted(CALLS)


@pytest.mark.parametrize("line", sorted(CALLS))
def test_call_site_policy(calls: dict[int, EffectivePolicy], line: int) -> None:
    row = calls[line]
    *values, count_source = CALLS[line]
    assert tuple(getattr(row, f) for f in FIELDS) == tuple(values)
    assert row.sources["max_retries"].source == count_source
    assert row.final_failure == f"ActivityError raised in the workflow at flows/workflows.py:{line}"
    assert row.framework == "temporal" and row.framework_version == "1.35.0"
    assert row.suppression_lines == (line,)


def test_definitions_carry_no_policy(report: Any) -> None:
    definitions = sorted((r.location.line, r.name) for r in report.rows if r.site == "definition")
    assert definitions == DEFINITIONS
    for row in report.rows:
        if row.site != "definition":
            continue
        assert row.location.path == "flows/activities.py"
        assert (row.retry_trigger, row.max_retries, row.backoff, row.jitter) == (None,) * 4
        assert (row.delays_seconds, row.window_seconds) == (None, 0)
        assert not row.retries
    dynamic = next(r for r in report.rows if r.site == "definition" and r.name is None)
    assert dynamic.name_expression == "activity.defn(dynamic=True)"
    assert dynamic.undecided == ()


def test_definitions_get_no_retry_verdict(report: Any) -> None:
    assert not [f for f in report.findings if f.location.path == "flows/activities.py"]


def test_sources_explain_the_count(calls: dict[int, EffectivePolicy]) -> None:
    bounded = calls[17].sources["max_retries"]
    assert bounded.location is not None and bounded.location.line == 17
    assert "schedule_to_close_timeout=300s" in bounded.note
    assert "8 retries" in bounded.note
    # The smaller of maximum_attempts and the time bound wins.
    assert "20s" in calls[28].sources["max_retries"].note
    # A constant policy is located where it is written.
    standard = calls[21].sources["max_retries"]
    assert standard.location is not None
    assert (standard.location.path, standard.location.line) == ("flows/policies.py", 6)
    default = calls[16].sources["max_retries"]
    assert default.location is None and "maximum_attempts=0" in default.note
    assert "not verified" in calls[27].sources["delays"].note  # local-activity default


def test_undecided_values_are_quoted(calls: dict[int, EffectivePolicy]) -> None:
    assert [(u.field, u.expression) for u in calls[29].undecided] == [
        ("retry_policy", "make_policy()")
    ]
    assert [(u.field, u.expression) for u in calls[31].undecided] == [
        ("schedule_to_close_timeout", "self.deadline")
    ]
    assert [(u.field, u.expression) for u in calls[35].undecided] == [("name", "step")]
    assert calls[35].name_expression == "step"


def test_check_verdicts(report: Any) -> None:
    unbounded = sorted(f.location.line for f in report.findings if f.rule == "RL101")
    assert unbounded == [16, 19, 25, 27, 32]
    # Temporal's default (unlimited attempts) is what makes 16, 25, 27 and 32 unbounded: RL101
    # says so, and RL103 does not report the same count again (CONTRACTS §6).
    implicit = sorted(f.location.line for f in report.findings if f.rule == "RL103")
    assert implicit == []
    defaults = {16, 25, 27, 32}
    messages = [f.message for f in report.findings if f.rule == "RL101"]
    assert sum("default" in m for m in messages) >= len(defaults)


def test_multiline_call_is_located_at_the_call(report: Any) -> None:
    (row,) = [r for r in report.rows if r.location.path == "flows/multiline.py"]
    assert (row.location.line, row.max_retries) == (13, 1)


def test_activity_names_through_aliases_and_modules(tmp_path: Path) -> None:
    project = write_project(
        tmp_path,
        {
            "acts.py": """
                from temporalio import activity

                NAME = "ledger.post"

                @activity.defn(name=NAME)
                async def post():
                    pass

                @activity.defn
                class Refund:
                    async def __call__(self):
                        pass

                alias = post
            """,
            "flow.py": """
                from datetime import timedelta
                from temporalio import workflow
                from temporalio.workflow import execute_activity_class
                import acts

                @workflow.defn
                class Flow:
                    @workflow.run
                    async def run(self):
                        limit = timedelta(seconds=1)
                        await workflow.execute_activity(acts.alias, start_to_close_timeout=limit)
                        await execute_activity_class(acts.Refund, start_to_close_timeout=limit)
            """,
        },
    )
    rows = analyze(project).rows
    enqueued = sorted(r.name or "" for r in rows if r.site == "enqueue")
    assert enqueued == ["Refund", "ledger.post"]
    defined = sorted(r.name or "" for r in rows if r.site == "definition")
    assert defined == ["Refund", "ledger.post"]


def test_names_as_temporal_registers_them() -> None:
    """`name or fn.__name__` (temporalio/activity.py `defn`); fixtures/names/temporal."""
    at = "acts/activities.py"
    assert name_rows(FIXTURES / "names" / "temporal") == [
        (at, 7, "plain", None, (), "definition"),
        (at, 12, "charge-card", None, (), "definition"),
        (at, 17, "empty", None, (), "definition"),
        (at, 23, "method", None, (), "definition"),
    ]


def test_script_style_sibling_import_names_the_activity(tmp_path: Path) -> None:
    # Samples run as scripts import their siblings absolutely (`from acts import ...`): the
    # folder is sys.path[0]. The activity's registered name is still read from its definition.
    root = write_project(
        tmp_path,
        {
            "sched/__init__.py": "",
            "sched/acts.py": """
                from temporalio import activity

                @activity.defn(name="say-hello")
                async def hello(name: str) -> str:
                    return name
            """,
            "sched/flows.py": """
                from datetime import timedelta
                from temporalio import workflow
                from acts import hello

                @workflow.defn
                class Flow:
                    @workflow.run
                    async def run(self) -> str:
                        return await workflow.execute_activity(
                            hello, "x", start_to_close_timeout=timedelta(seconds=5)
                        )
            """,
            # A project module named like a library never hides the library.
            "sched/temporalio.py": "VALUE = 1\n",
        },
    )
    calls = [r for r in analyze(root).rows if r.site == "enqueue"]
    assert [(r.name, r.max_retries) for r in calls] == [("say-hello", "unbounded")]


def test_standalone_activity_started_from_a_client(tmp_path: Path) -> None:
    # temporalio 1.31+: `client.execute_activity(fn, id=..., task_queue=...)` runs an activity
    # outside any workflow, with the same retry_policy (None: the server default, unlimited).
    root = write_project(
        tmp_path,
        {
            "acts.py": """
                from temporalio import activity

                @activity.defn
                async def greet(name: str) -> str:
                    return name
            """,
            "run.py": """
                from datetime import timedelta
                from temporalio.client import Client
                from temporalio.common import RetryPolicy
                from acts import greet

                async def main():
                    client = await Client.connect("localhost:7233")
                    await client.execute_activity(
                        greet, "x", id="g-1", task_queue="q",
                        start_to_close_timeout=timedelta(seconds=5),
                    )
                    await client.start_activity(
                        greet, "y", id="g-2", task_queue="q",
                        start_to_close_timeout=timedelta(seconds=5),
                        retry_policy=RetryPolicy(maximum_attempts=3),
                    )
                    # Not a Temporal client call: no id=/task_queue= keywords.
                    await tracker.start_activity("greet")
            """,
        },
    )
    calls = sorted(
        (r.location.line, r.max_retries, r.final_failure)
        for r in analyze(root).rows
        if r.site == "enqueue"
    )
    assert [(line, count) for line, count, _ in calls] == [(8, "unbounded"), (12, 2)]
    assert all("ActivityFailureError raised to the client" in f for _, _, f in calls)


def test_modules_that_name_no_activity_are_not_parsed_but_still_followed(tmp_path: Path) -> None:
    # The prefilter reads a Temporal file only when it names an activity too; a module that
    # only holds a shared RetryPolicy is still read when a call site's value leads there, and
    # activities declared in unusual spellings are still found.
    root = write_project(
        tmp_path,
        {
            "policies.py": """
                from temporalio.common import RetryPolicy

                SHARED = RetryPolicy(maximum_attempts=4)
            """,
            "starter.py": """
                from temporalio.client import Client

                async def main():
                    client = await Client.connect("localhost:7233")
                    await client.execute_workflow("Flow", id="f", task_queue="q")
            """,
            "acts.py": """
                import temporalio.activity as act

                @act.defn(name="charge")
                async def charge() -> None:
                    pass
            """,
            "flows.py": """
                from datetime import timedelta
                from temporalio import (
                    workflow,
                )
                from policies import SHARED

                @workflow.defn
                class Flow:
                    @workflow.run
                    async def run(self) -> None:
                        await workflow.execute_activity(
                            "charge", start_to_close_timeout=timedelta(seconds=5),
                            retry_policy=SHARED,
                        )
            """,
        },
    )
    from retrylint.frameworks import PYTHON_ADAPTERS
    from retrylint.scan.prefilter import Prefilter

    temporal = next(a for a in PYTHON_ADAPTERS if a.key == "temporal")
    prefilter = Prefilter([temporal.markers])
    candidates = sorted(p.name for p in root.glob("*.py") if prefilter.matches(p.read_bytes()))
    assert candidates == ["acts.py", "flows.py"]
    rows = analyze(root).rows
    assert sorted((r.site, r.name, r.max_retries) for r in rows) == [
        ("definition", "charge", None),
        ("enqueue", "charge", 3),
    ]
