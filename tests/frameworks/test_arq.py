"""arq: every registration form and edge case of the reference §5, asserted field by field.

Expected values were worked out by hand from arq 0.28's source (see the fixture's comments):
`max_tries` counts executions (default 5, cron 1), only `raise Retry(defer=...)` retries,
`ctx['job_try']` is 1 on the first run, and settings classes are read from their own body only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retrylint.frameworks.arq import ArqAdapter
from retrylint.model import EffectivePolicy
from retrylint.python import ir
from retrylint.scan.python_parse import parse_python
from tests.conftest import FIXTURES, analyze, name_rows, rows_by_name, write_project


def _keeps_star_forwarding() -> bool:
    """Whether the extractor keeps `helper(*args)` in a body whose only parameter is `*args`.

    Until it does, a job that forwards ctx only through `*args` is undecided; once it does, the
    call is followed like any other (keephq/keep's `async_process_event`).
    """
    source = b"async def job(*args):\n    return helper(*args)\n"
    summary = parse_python(source, "m.py", "m", ArqAdapter.interest)
    return isinstance(summary, ir.ModuleSummary) and bool(summary.functions[0].calls)


FORWARDS = _keeps_star_forwarding()
UNDECIDED_ROW = ("undecided",) * 4 + (None, "undecided", "undecided", "nowhere")
FROM_STRING = ("manual", 4, "linear", False, (3, 6, 9, 12), 30, "default", "nowhere")

# name → (trigger, max_retries, backoff, jitter, delays, window, max_retries source, final failure)
EXPECTED: dict[str, tuple[Any, ...]] = {
    # Plain entries of WorkerSettings.functions, worker default max_tries=5 → 4 retries.
    "linear_defer": ("manual", 4, "linear", False, (10, 20, 30, 40), 100, "default", "nowhere"),
    "exponential": ("manual", 4, "exponential", False, (2, 4, 8, 16), 30, "default", "nowhere"),
    "jittered": ("manual", 4, "fixed", True, (8, 8, 8, 8), 32, "default", "nowhere"),
    "no_retry": ("none", 0, None, None, (), 0, "default", "nowhere"),
    "via_helper": ("manual", 4, "linear", False, (3, 6, 9, 12), 30, "default", "nowhere"),
    "via_thread": ("manual", 4, "linear", False, (7, 14, 21, 28), 70, "default", "nowhere"),
    "computed_defer": ("manual", 4, "undecided", False, None, "undecided", "default", "nowhere"),
    "poller": ("none", 0, None, None, (), 0, "default", "nowhere"),
    "carried": ("none", 0, None, None, (), 0, "default", "nowhere"),
    # func(...) wrappers: name= and max_tries= (executions).
    "fixed": ("manual", 2, "fixed", False, (30, 30), 60, "explicit", "nowhere"),
    "inert_max_tries": ("none", 0, None, None, (), 0, "default", "nowhere"),
    "forever": ("manual", "unbounded", "fixed", False, None, "unbounded", "explicit", "nowhere"),
    # Dotted strings: arq names the job after the string.
    "jobs.plain.from_string": FROM_STRING,
    # ctx only through *args: followed when the extractor keeps the forwarding call.
    "jobs.plain.forwarded": FROM_STRING if FORWARDS else UNDECIDED_ROW,
    # An external coroutine: its body cannot be read.
    "remote_job": UNDECIDED_ROW,
    # cron(): default max_tries=1 and the 'cron:' prefix, unless name= and max_tries= are given.
    "cron:nightly": ("manual", 0, None, None, (), 0, "default", "nowhere"),
    "cleanup": ("manual", 2, "fixed", False, (60, 60), 120, "explicit", "nowhere"),
    # Worker options: the class's own max_tries, an undecided one, retry_jobs=False, an inherited
    # (ignored) max_tries, a run_worker() override and a Worker() call.
    "immediate": ("manual", 3, "none", False, (0, 0, 0), 0, "config", "nowhere"),
    "env_tries": ("manual", "undecided", "fixed", False, None, "undecided", "undecided", "nowhere"),
    "lookup": (
        "manual",
        "undecided",
        "undecided",
        False,
        None,
        "undecided",
        "undecided",
        "nowhere",
    ),
    "refused": ("none", 0, None, None, (), 0, "default", "nowhere"),
    "child_job": ("manual", 4, "fixed", False, (1, 1, 1, 1), 4, "default", "nowhere"),
    "overridden": ("manual", 1, "fixed", False, (2,), 2, "config", "nowhere"),
    "built": ("manual", 6, "fixed", False, (3,) * 6, 18, "config", "nowhere"),
    # A list built from the environment with a default of dotted strings the code imports
    # itself (so arq names the job after the function), plus an append().
    "from_env": ("none", 0, None, None, (), 0, "default", "nowhere"),
    "appended": ("manual", 4, "linear", False, (3, 6, 9, 12), 30, "default", "nowhere"),
}
# (name, path, line) → the same fields, for enqueue rows.
ENQUEUES: dict[tuple[str, str, int], tuple[Any, ...]] = {
    # _job_try=3: 5 - 3 = 2 retries left, at tries 3 and 4.
    ("linear_defer", "jobs/enqueue.py", 6): (
        "manual",
        2,
        "linear",
        False,
        (30, 40),
        70,
        "default",
        "nowhere",
    ),
    ("carried", "jobs/tasks.py", 79): ("none", 0, None, None, (), 0, "default", "nowhere"),
}
FIELDS = ("retry_trigger", "max_retries", "backoff", "jitter", "delays_seconds", "window_seconds")


@pytest.fixture(scope="module")
def report() -> Any:
    return analyze(FIXTURES / "arq")


@pytest.fixture(scope="module")
def definitions(report: Any) -> dict[str, EffectivePolicy]:
    return {
        row.name or f"<{row.name_expression}>": row
        for row in report.rows
        if row.site == "definition"
    }


def test_every_job_is_found(definitions: dict[str, EffectivePolicy]) -> None:
    assert sorted(definitions) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_effective_policy(definitions: dict[str, EffectivePolicy], name: str) -> None:
    row = definitions[name]
    *values, count_source, final_failure = EXPECTED[name]
    assert tuple(getattr(row, f) for f in FIELDS) == tuple(values)
    assert row.sources["max_retries"].source == count_source
    assert row.final_failure == final_failure
    assert row.framework == "arq" and row.framework_version == "0.28.0"


def test_enqueue_rows(report: Any) -> None:
    rows = {
        (row.name, row.location.path, row.location.line): row
        for row in report.rows
        if row.site == "enqueue"
    }
    assert sorted(rows) == sorted(ENQUEUES)
    for key, expected in ENQUEUES.items():
        row = rows[key]
        *values, count_source, final_failure = expected
        assert tuple(getattr(row, f) for f in FIELDS) == tuple(values)
        assert row.sources["max_retries"].source == count_source
        assert row.final_failure == final_failure
    linear = rows[("linear_defer", "jobs/enqueue.py", 6)].sources["max_retries"]
    assert "_job_try=3" in linear.note


def test_rows_sit_at_the_job_definition(definitions: dict[str, EffectivePolicy]) -> None:
    # A job defined in a file that never names arq is still reported where it is defined.
    row = definitions["jobs.plain.from_string"]
    assert (row.location.path, row.location.line) == ("jobs/plain.py", 6)
    # An external coroutine is reported at its registration.
    remote = definitions["remote_job"]
    assert (remote.location.path, remote.location.line) == ("jobs/settings.py", 47)


def test_provenance_points_at_the_written_value(definitions: dict[str, EffectivePolicy]) -> None:
    fixed = definitions["fixed"].sources["max_retries"]
    assert fixed.location is not None
    assert (fixed.location.path, fixed.location.line) == ("jobs/settings.py", 34)
    override = definitions["overridden"].sources["max_retries"]
    assert override.location is not None and override.location.line == 85
    default = definitions["linear_defer"].sources["max_retries"]
    assert default.location is None and "max_tries=5" in default.note
    cron = definitions["cron:nightly"].sources["max_retries"]
    assert "cron default max_tries=1" in cron.note


def test_undecided_values_are_quoted(definitions: dict[str, EffectivePolicy]) -> None:
    (defer,) = definitions["computed_defer"].undecided
    assert (defer.field, defer.expression) == ("defer", "attempt_plan.next_delay()")
    (tries,) = definitions["env_tries"].undecided
    assert (tries.field, tries.expression) == ("max_tries", 'os.environ["ARQ_TRIES"]')
    assert (tries.location.path, tries.location.line) == ("jobs/settings.py", 62)
    if not FORWARDS:
        (forwarded,) = definitions["jobs.plain.forwarded"].undecided
        assert forwarded.expression == "*args"
    (remote,) = definitions["remote_job"].undecided
    assert remote.expression == "remote_job"


def test_inert_max_tries_is_listed(definitions: dict[str, EffectivePolicy]) -> None:
    ((name, location),) = definitions["inert_max_tries"].inert_options
    assert (name, location.path, location.line) == ("max_tries", "jobs/settings.py", 38)
    # retry_jobs=False is the worker's choice, not an option written on the job.
    assert definitions["refused"].inert_options == ()


def test_observations(report: Any) -> None:
    found = sorted(
        (f.rule, f.task or "", f.location.path, f.location.line)
        for f in report.findings
        if f.rule in ("RL503", "RL106", "RL104", "RL101")
    )
    assert found == [
        ("RL101", "forever", "jobs/tasks.py", 64),
        ("RL104", "inert_max_tries", "jobs/tasks.py", 42),
        ("RL106", "poller", "jobs/tasks.py", 74),
        ("RL503", "", "jobs/settings.py", 74),
        ("RL503", "exponential", "jobs/enqueue.py", 8),
        ("RL503", "refused", "jobs/other.py", 11),
    ]
    inherited = next(f for f in report.findings if f.rule == "RL503" and f.task is None)
    assert "inherits max_tries=10" in inherited.message and "max_tries=5" in inherited.message


def _rows(tmp_path: Path, files: dict[str, str]) -> dict[str, EffectivePolicy]:
    return rows_by_name(analyze(write_project(tmp_path, files)))


def test_version_and_kept_results(tmp_path: Path) -> None:
    rows = _rows(
        tmp_path,
        {
            "requirements.txt": "arq==0.26.3\n",
            "worker.py": """
                from arq import Retry

                async def job(ctx):
                    raise Retry(defer=ctx["job_try"] ** 2)

                class WorkerSettings:
                    functions = [job]
                    keep_result_forever = True
            """,
        },
    )
    row = rows["job"]
    assert row.framework_version == "0.26.3"
    assert row.delays_seconds == (1, 4, 9, 16) and row.backoff == "custom"
    assert row.final_failure.startswith("failed result kept forever in Redis")


def test_ctx_from_args_and_retry_job(tmp_path: Path) -> None:
    rows = _rows(
        tmp_path,
        {
            "worker.py": """
                import arq
                from arq.worker import RetryJob

                async def unpacked(*args):
                    ctx = args[0]
                    raise arq.Retry(defer=ctx["job_try"] * 2)

                async def requeued(ctx):
                    raise RetryJob()

                class WorkerSettings:
                    functions = [arq.func(unpacked, max_tries=3), requeued]
            """,
        },
    )
    assert rows["unpacked"].delays_seconds == (2, 4)
    assert rows["unpacked"].undecided == ()
    assert rows["requeued"].retry_trigger == "manual" and rows["requeued"].delays_seconds == (
        0,
        0,
        0,
        0,
    )


def test_settings_in_a_module_without_arq_name(tmp_path: Path) -> None:
    # The settings class only needs its own `functions`; a module that imports nothing from
    # arq is still read when its class is named like settings.
    rows = _rows(
        tmp_path,
        {
            "jobs.py": """
                from arq import Retry

                async def ping(ctx):
                    raise Retry(defer=30)
            """,
            "conf.py": """
                from jobs import ping

                class PingSettings:
                    functions = [ping]
                    max_tries = 2
            """,
        },
    )
    assert rows["ping"].max_retries == 1 and rows["ping"].delays_seconds == (30,)


def test_enqueue_bound_to_a_name_is_one_row(tmp_path: Path) -> None:
    report = analyze(
        write_project(
            tmp_path,
            {
                "w.py": """
                    from arq import Retry

                    async def job(ctx):
                        raise Retry(defer=1)

                    async def go(redis):
                        handle = redis.enqueue_job("job", _job_try=2)
                        return handle

                    class WorkerSettings:
                        functions = [job]
                """,
            },
        )
    )
    (row,) = [r for r in report.rows if r.site == "enqueue"]
    assert (row.name, row.max_retries, row.delays_seconds) == ("job", 3, (1, 1, 1))


def test_names_as_arq_registers_them() -> None:
    """`name or coroutine.__qualname__` (a string: the string), cron `name or 'cron:' + ...`;
    fixtures/names/arq. Rows are located at the coroutine."""
    at = "jobs/work.py"
    assert name_rows(FIXTURES / "names" / "arq") == [
        (at, 7, "cron:jobs.work.send", None, (), "definition"),
        (at, 7, "send", None, (), "definition"),
        (at, 11, "daily_report", None, (), "definition"),
        (at, 11, "report", None, (), "definition"),
        (at, 11, "reports", None, (), "definition"),
        (at, 15, "cron:sweep", None, (), "definition"),
        (at, 19, "cron:tidy", None, (), "definition"),
        (at, 19, "jobs.work.tidy", None, (), "definition"),
        (at, 25, "Jobs.rebuild", None, (), "definition"),
    ]
