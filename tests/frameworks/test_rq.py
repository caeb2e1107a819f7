"""RQ: every declaration and enqueue form of the reference §3, asserted field by field.

Expected values were worked out by hand from RQ 3.0's source: `Retry(max, interval)` counts
retries, a raised exception repeats the *first* interval when `max` outgrows the list
(`Job.get_retry_interval`), a returned Retry repeats the *last* one (`Retry.get_interval`), there
is no jitter, and failed jobs stay in the FailedJobRegistry for `failure_ttl` (1 year).
"""

from __future__ import annotations

import functools
import operator
from pathlib import Path
from typing import Any

import pytest

from retrylint.frameworks.rq import RQAdapter
from retrylint.model import EffectivePolicy, Observation
from retrylint.python.evaluate import Evaluator
from tests.conftest import FIXTURES, analyze, name_rows, rows_by_name, write_project

YEAR = "FailedJobRegistry (kept 365d)"
# (name, site, line) → (trigger, max_retries, backoff, jitter, delays, window, count source,
# final failure)
EXPECTED: dict[tuple[str, str, int], tuple[Any, ...]] = {
    ("<handler>", "enqueue", 29): ("automatic", 1, "none", False, (0,), 0, "explicit", YEAR),
    ("jobs.enqueue.send_report", "enqueue", 20): (
        "automatic",
        3,
        "exponential",
        False,
        (1, 2, 4),
        7,
        "explicit",
        YEAR,
    ),
    ("jobs.enqueue.send_report", "enqueue", 21): (
        "automatic",
        2,
        "none",
        False,
        (0, 0),
        0,
        "explicit",
        YEAR,
    ),
    ("jobs.enqueue.send_report", "enqueue", 24): (
        "automatic",
        2,
        "linear",
        False,
        (3, 9),
        12,
        "explicit",
        YEAR,
    ),
    ("jobs.enqueue.send_report", "enqueue", 26): (
        "automatic",
        4,
        "fixed",
        False,
        (10,) * 4,
        40,
        "explicit",
        YEAR,
    ),
    ("jobs.enqueue.send_report", "enqueue", 27): ("none", 0, None, None, (), 0, "explicit", YEAR),
    ("jobs.enqueue.send_report", "enqueue", 28): (
        "automatic",
        2,
        "linear",
        True,
        (9, 30),
        39,
        "explicit",
        YEAR,
    ),
    ("jobs.reports.rebuild", "enqueue", 23): (
        "automatic",
        2,
        "fixed",
        False,
        (15, 15),
        30,
        "explicit",
        YEAR,
    ),
    ("jobs.flask_jobs.legacy_bare", "definition", 8): (
        "none",
        0,
        None,
        None,
        (),
        0,
        "default",
        YEAR,
    ),
    ("jobs.flask_jobs.legacy_bare", "enqueue", 35): (
        "automatic",
        4,
        "fixed",
        False,
        (10,) * 4,
        40,
        "explicit",
        YEAR,
    ),
    ("jobs.flask_jobs.legacy_called", "definition", 13): (
        "none",
        0,
        None,
        None,
        (),
        0,
        "default",
        YEAR,
    ),
    ("jobs.flask_jobs.modern_bare", "definition", 18): (
        "none",
        0,
        None,
        None,
        (),
        0,
        "default",
        YEAR,
    ),
    ("jobs.flask_jobs.modern_bare", "enqueue", 36): (
        "automatic",
        1,
        "none",
        False,
        (0,),
        0,
        "explicit",
        YEAR,
    ),
    ("jobs.flask_jobs.modern_called", "definition", 23): (
        "none",
        0,
        None,
        None,
        (),
        0,
        "default",
        YEAR,
    ),
    ("jobs.flask_jobs.modern_called", "enqueue", 31): (
        "automatic",
        2,
        "fixed",
        False,
        (30, 30),
        60,
        "explicit",
        YEAR,
    ),
    ("jobs.flask_jobs.modern_called", "enqueue", 32): (
        "automatic",
        3,
        "exponential",
        False,
        (5, 25, 125),
        155,
        "explicit",
        YEAR,
    ),
    ("jobs.flask_rq_legacy.bare", "definition", 7): ("none", 0, None, None, (), 0, "default", YEAR),
    ("jobs.flask_rq_legacy.on_low", "definition", 12): (
        "none",
        0,
        None,
        None,
        (),
        0,
        "default",
        YEAR,
    ),
    ("jobs.flask_rq_legacy.on_low", "enqueue", 18): (
        "automatic",
        3,
        "exponential",
        False,
        (10, 100, 1000),
        1110,
        "explicit",
        YEAR,
    ),
    ("jobs.tasks.plain", "enqueue", 9): (
        "automatic",
        3,
        "exponential",
        False,
        (1, 4, 16),
        21,
        "explicit",
        YEAR,
    ),
    ("jobs.tasks.plain", "enqueue", 10): (
        "automatic",
        3,
        "fixed",
        False,
        (2, 2, 2),
        6,
        "explicit",
        YEAR,
    ),
    ("jobs.tasks.bare_django", "definition", 66): ("none", 0, None, None, (), 0, "default", YEAR),
    ("jobs.tasks.first_repeats", "definition", 26): (
        "automatic",
        5,
        "custom",
        False,
        (10, 10, 10, 10, 60),
        100,
        "explicit",
        YEAR,
    ),
    ("jobs.tasks.fixed", "definition", 21): (
        "automatic",
        3,
        "fixed",
        False,
        (60, 60, 60),
        180,
        "explicit",
        YEAR,
    ),
    ("jobs.tasks.float_interval", "definition", 47): (
        "automatic",
        3,
        "undecided",
        False,
        None,
        "undecided",
        "explicit",
        YEAR,
    ),
    ("jobs.tasks.from_constant", "definition", 37): (
        "automatic",
        2,
        "none",
        False,
        (0, 0),
        0,
        "explicit",
        YEAR,
    ),
    ("jobs.tasks.from_environment", "definition", 42): (
        "automatic",
        "undecided",
        "fixed",
        False,
        None,
        "undecided",
        "undecided",
        YEAR,
    ),
    ("jobs.tasks.growing", "definition", 32): (
        "automatic",
        3,
        "exponential",
        False,
        (10, 30, 90),
        130,
        "explicit",
        YEAR,
    ),
    ("jobs.tasks.plain", "enqueue", 22): (
        "automatic",
        1,
        "fixed",
        False,
        (30,),
        30,
        "explicit",
        YEAR,
    ),
    ("jobs.tasks.plain", "definition", 16): ("none", 0, None, None, (), 0, "default", YEAR),
    ("jobs.tasks.poll", "definition", 70): (
        "manual",
        4,
        "custom",
        False,
        (5, 60, 60, 60),
        185,
        "explicit",
        YEAR,
    ),
    ("jobs.tasks.poll_randomly", "definition", 77): (
        "manual",
        2,
        "fixed",
        True,
        (20, 20),
        40,
        "explicit",
        YEAR,
    ),
    # Two paths: Retry(max=1, interval=5) (window 5) and the returned Retry(max=3,
    # interval=[1, 2, 4]) (window 7): delays and window from the latter, the kind from the former.
    ("jobs.tasks.raises_and_returns", "definition", 82): (
        "automatic+manual",
        3,
        "fixed",
        False,
        (1, 2, 4),
        7,
        "explicit",
        YEAR,
    ),
    ("jobs.tasks.recorded", "definition", 61): (
        "none",
        0,
        None,
        None,
        (),
        0,
        "default",
        "FailedJobRegistry (kept 1d)",
    ),
    ("jobs.tasks.via_alias", "definition", 90): (
        "automatic",
        2,
        "fixed",
        False,
        (5, 5),
        10,
        "explicit",
        YEAR,
    ),
    ("jobs.tasks.with_callback", "definition", 56): (
        "none",
        0,
        None,
        None,
        (),
        0,
        "default",
        "FailedJobRegistry (kept 7d); on_failure at jobs/tasks.py:51",
    ),
    ("jobs.webhooks.configured", "enqueue", 32): (
        "automatic",
        "undecided",
        "none",
        False,
        None,
        "undecided",
        "undecided",
        YEAR,
    ),
    ("jobs.ingest.process", "enqueue", 34): (
        "automatic",
        3,
        "exponential",
        False,
        (10, 30, 90),
        130,
        "explicit",
        YEAR + "; on_failure jobs.ingest.notify",
    ),
    ("jobs.tasks.wrapped", "definition", 100): (
        "automatic",
        3,
        "fixed",
        False,
        (2, 2, 2),
        6,
        "explicit",
        YEAR,
    ),
    ("jobs.webhooks.deliver", "enqueue", 31): (
        "automatic",
        5,
        "fixed",
        False,
        (60,) * 5,
        300,
        "explicit",
        YEAR,
    ),
}
FIELDS = ("retry_trigger", "max_retries", "backoff", "jitter", "delays_seconds", "window_seconds")


@pytest.fixture(scope="module")
def report() -> Any:
    return analyze(FIXTURES / "rq")


@pytest.fixture(scope="module")
def rows(report: Any) -> dict[tuple[str, str, int], EffectivePolicy]:
    return {
        (row.name or f"<{row.name_expression}>", row.site, row.location.line): row
        for row in report.rows
    }


def test_every_job_and_enqueue_site_is_found(rows: dict[tuple[str, str, int], Any]) -> None:
    assert sorted(rows) == sorted(EXPECTED)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_effective_policy(rows: dict[tuple[str, str, int], EffectivePolicy], key: Any) -> None:
    row = rows[key]
    *values, count_source, final_failure = EXPECTED[key]
    assert tuple(getattr(row, f) for f in FIELDS) == tuple(values)
    assert row.sources["max_retries"].source == count_source
    assert row.final_failure == final_failure
    assert row.framework == "rq" and row.framework_version == "3.0.0"


def test_retry_helpers_are_not_jobs(rows: dict[tuple[str, str, int], Any]) -> None:
    # `webhook_retry()` and `configured_retry()` return a Retry for `retry=`; they are not jobs.
    assert not any(name.startswith("jobs.helpers.") for name, _, _ in rows)


def test_undecided_values_are_quoted(rows: dict[tuple[str, str, int], EffectivePolicy]) -> None:
    (env,) = rows["jobs.tasks.from_environment", "definition", 42].undecided
    assert (env.field, env.expression) == ("max_retries", 'os.environ.get("REPORT_RETRIES", "3")')
    assert (env.location.path, env.location.line) == ("jobs/settings.py", 6)
    (config,) = rows["jobs.webhooks.configured", "enqueue", 32].undecided
    assert config.expression == 'getattr(config, "RETRY_MAX", 0)'
    (name,) = rows["<handler>", "enqueue", 29].undecided
    assert (name.field, name.expression) == ("name", "handler")
    (interval,) = rows["jobs.tasks.float_interval", "definition", 47].undecided
    assert (interval.field, interval.expression) == ("interval", "1.5")


def test_provenance_and_scheduler_note(rows: dict[tuple[str, str, int], EffectivePolicy]) -> None:
    fixed = rows["jobs.tasks.fixed", "definition", 21]
    assert fixed.sources["delays"].location is not None
    assert "--with-scheduler" in fixed.sources["delays"].note
    plain = rows["jobs.tasks.plain", "definition", 16]
    assert plain.sources["max_retries"].location is None
    assert "RQ does not retry" in plain.sources["max_retries"].note
    # Helper values are located where the helper reads them.
    deliver = rows["jobs.webhooks.deliver", "enqueue", 31].sources["max_retries"]
    assert deliver.location is not None and deliver.location.path == "jobs/helpers.py"


def test_suppression_lines(rows: dict[tuple[str, str, int], EffectivePolicy]) -> None:
    assert rows["jobs.tasks.fixed", "definition", 21].suppression_lines == (20, 21)
    assert rows["jobs.enqueue.send_report", "enqueue", 20].suppression_lines == (20,)


def adapter_items(root: Path, adapter: Any) -> list[Any]:
    """Run one adapter on a project directly, to see its observations too."""
    from retrylint.analysis import _context, _project, _scan_python, file_rules
    from retrylint.config.policy import discover_config, load_policy
    from retrylint.frameworks import DISTRIBUTIONS, FRAMEWORKS, PYTHON_ADAPTERS
    from retrylint.rules import RULES
    from retrylint.scan import pool
    from retrylint.scan.files import discover
    from retrylint.scan.ondemand import OnDemand
    from retrylint.scan.versions import detect

    policy = load_policy(
        discover_config(root), known_rules=RULES, known_frameworks=FRAMEWORKS, cwd=root
    )
    files = discover([root], root, file_rules(policy)).files
    interest = functools.reduce(operator.or_, (a.interest for a in PYTHON_ADAPTERS))
    ondemand = OnDemand(root, interest, lambda jobs: [pool.parse_job(j) for j in jobs])
    summaries, _, _ = _scan_python(list(files), PYTHON_ADAPTERS, policy, interest, 1, ondemand)

    def items() -> list[Any]:
        project = _project(summaries, root, policy, ondemand)
        evaluator = Evaluator(project, policy.assume)
        versions = detect(root, DISTRIBUTIONS)
        ctx = _context(adapter, project, evaluator, tuple(summaries), policy, None, versions)
        return list(adapter.analyze(ctx))

    return ondemand.settle(items)


def test_ignored_options_are_observed() -> None:
    items = adapter_items(FIXTURES / "rq", RQAdapter())
    found = {
        (o.kind, o.location.path, o.location.line, o.task)
        for o in items
        if isinstance(o, Observation)
    }
    assert found == {
        # Retry(3, 1.5): a float interval raises when the Retry is built.
        ("ignored-retry-option", "jobs/tasks.py", 46, "jobs.tasks.float_interval"),
        # fixed.delay(retry=...): the decorator's method passes retry to the function.
        ("ignored-retry-option", "jobs/tasks.py", 96, "jobs.tasks.fixed"),
        # Flask-RQ2's .queue(retry=...) does the same.
        ("ignored-retry-option", "jobs/flask_jobs.py", 29, "jobs.flask_jobs.legacy_called"),
    }


def test_ignored_options_are_reported() -> None:
    from retrylint.rules import RULES

    if "RL503" not in RULES:
        pytest.skip("RL503 is not registered yet")
    report = analyze(FIXTURES / "rq")
    assert sorted(
        (f.location.path, f.location.line) for f in report.findings if f.rule == "RL503"
    ) == [("jobs/flask_jobs.py", 29), ("jobs/tasks.py", 46), ("jobs/tasks.py", 96)]


def test_returned_retry_needs_rq_2_1(tmp_path: Path) -> None:
    rows = rows_by_name(
        analyze(
            write_project(
                tmp_path,
                {
                    "retrylint.toml": '[frameworks.rq]\nversion = "2.0.0"\n',
                    "jobs.py": """
                        from rq import Retry

                        def poll():
                            return Retry(max=3)
                    """,
                },
            )
        )
    )
    row = rows["jobs.poll"]
    assert (row.retry_trigger, row.max_retries, row.framework_version) == ("none", 0, "2.0.0")


def test_flask_rq2_queue_retry_is_a_job_argument() -> None:
    (observed,) = [
        o
        for o in adapter_items(FIXTURES / "rq", RQAdapter())
        if isinstance(o, Observation) and o.location.path == "jobs/flask_jobs.py"
    ]
    assert "Flask-RQ2's job methods do not read it" in observed.message
    assert "the job is not retried" in observed.message


def test_names_as_rq_stores_them() -> None:
    """`func_name` (rq/utils.py `resolve_function_reference`); fixtures/names/rq. The module of
    a file in a namespace directory inside a package includes that directory."""
    at = "svc/ns/enqueue.py"
    assert name_rows(FIXTURES / "names" / "rq") == [
        (at, 17, "svc.work.resize", None, (), "enqueue"),
        (at, 18, "svc.ns.enqueue.nightly", None, (), "enqueue"),
        (at, 19, "svc.reports.build", None, (), "enqueue"),
        (at, 20, "send", None, (), "enqueue"),
        (at, 21, "svc.work.Mailer.render", None, (), "enqueue"),
        (at, 22, "flush", None, (), "enqueue"),
        (at, 23, "svc.work.Mailer.render", None, (), "enqueue"),
        (at, 24, "__call__", None, (), "enqueue"),
    ]
