"""tenacity: every form of the reference §12/§14, asserted field by field; and RL501.

Expected values were worked out by hand from tenacity 9.2.1's source (see the fixture's
docstrings): `stop_after_attempt(n)` counts executions (n - 1 retries), the wait before retry
r+1 sees `attempt_number = r + 1`, `wait_exponential` is `multiplier * exp_base**r` clamped to
[min, max], and a time limit allows the retries that start before it with the shortest waits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retrylint.engine import Report
from retrylint.model import EffectivePolicy
from tests.conftest import FIXTURES, analyze, name_rows, rows_by_name, write_project

RETRY_ERROR = "RetryError raised to the caller"
RERAISED = "the last exception, re-raised to the caller (reraise=True)"
TIMES = "\N{MULTIPLICATION SIGN}"

# name → (trigger, max_retries, backoff, jitter, delays, window, max_retries source, final failure)
EXPECTED: dict[str, tuple[Any, ...]] = {
    "app.tn.bare": (
        "automatic",
        "unbounded",
        "none",
        False,
        None,
        "unbounded",
        "default",
        RETRY_ERROR,
    ),
    "app.tn.called_empty": (
        "automatic",
        "unbounded",
        "none",
        False,
        None,
        "unbounded",
        "default",
        RETRY_ERROR,
    ),
    "app.tn.attempts_fixed": (
        "automatic",
        3,
        "fixed",
        False,
        (2, 2, 2),
        6,
        "explicit",
        RETRY_ERROR,
    ),
    "app.tn.exponential_capped": (
        "automatic",
        5,
        "exponential",
        False,
        (0.5, 1, 2, 4, 4),
        11.5,
        "explicit",
        RETRY_ERROR,
    ),
    "app.tn.exponential_floor": (
        "automatic",
        4,
        "exponential",
        False,
        (4, 4, 4, 8),
        20,
        "explicit",
        RETRY_ERROR,
    ),
    "app.tn.random_exponential": (
        "automatic",
        3,
        "exponential",
        True,
        (1, 2, 4),
        7,
        "explicit",
        RETRY_ERROR,
    ),
    "app.tn.full_jitter_alias": (
        "automatic",
        2,
        "exponential",
        True,
        (2, 4),
        6,
        "explicit",
        RETRY_ERROR,
    ),
    "app.tn.exponential_jitter": (
        "automatic",
        4,
        "exponential",
        True,
        (5, 7, 11, 19),
        42,
        "explicit",
        RETRY_ERROR,
    ),
    "app.tn.exponential_jitter_initial": (
        "automatic",
        2,
        "exponential",
        True,
        (4, 7),
        11,
        "explicit",
        RETRY_ERROR,
    ),
    "app.tn.random_only": ("automatic", 2, "fixed", True, (5, 5), 10, "explicit", RETRY_ERROR),
    "app.tn.fixed_plus_random": (
        "automatic",
        3,
        "fixed",
        True,
        (5, 5, 5),
        15,
        "explicit",
        RETRY_ERROR,
    ),
    "app.tn.incrementing": (
        "automatic",
        4,
        "linear",
        False,
        (1, 3, 5, 6),
        15,
        "explicit",
        RETRY_ERROR,
    ),
    "app.tn.chained": (
        "automatic",
        5,
        "custom",
        False,
        (1, 1, 5, 5, 5),
        17,
        "explicit",
        RETRY_ERROR,
    ),
    "app.tn.time_after": (
        "automatic",
        4,
        "fixed",
        False,
        (3, 3, 3, 3),
        12,
        "explicit",
        RETRY_ERROR,
    ),
    "app.tn.time_before": ("automatic", 3, "fixed", False, (3, 3, 3), 9, "explicit", RETRY_ERROR),
    "app.tn.time_without_wait": (
        "automatic",
        "unbounded",
        "none",
        False,
        None,
        30,
        "explicit",
        RETRY_ERROR,
    ),
    "app.tn.time_timedelta": (
        "automatic",
        6,
        "exponential",
        False,
        (1, 2, 4, 8, 16, 32),
        63,
        "explicit",
        RETRY_ERROR,
    ),
    "app.tn.either_limit": ("automatic", 3, "fixed", False, (2, 2, 2), 6, "explicit", RETRY_ERROR),
    # `a & b` reaches the adapter as opaque text (the extractor has no `&`): undecided.
    "app.tn.both_limits": (
        "automatic",
        10,
        "fixed",
        False,
        (10,) * 10,
        100,
        "explicit",
        RETRY_ERROR,
    ),
    "app.tn.both_limits_call": (
        "automatic",
        10,
        "fixed",
        False,
        (10,) * 10,
        100,
        "explicit",
        RETRY_ERROR,
    ),
    "app.tn.stop_any_call": ("automatic", 1, "none", False, (0,), 0, "explicit", RETRY_ERROR),
    "app.tn.never_both": (
        "automatic",
        "unbounded",
        "fixed",
        False,
        None,
        "unbounded",
        "explicit",
        RETRY_ERROR,
    ),
    "app.tn.stop_never_explicit": (
        "automatic",
        "unbounded",
        "fixed",
        False,
        None,
        "unbounded",
        "explicit",
        RETRY_ERROR,
    ),
    "app.tn.event_stop": (
        "automatic",
        "undecided",
        "fixed",
        False,
        None,
        "undecided",
        "undecided",
        RETRY_ERROR,
    ),
    "app.tn.custom_wait": (
        "automatic",
        2,
        "undecided",
        "undecided",
        None,
        "undecided",
        "explicit",
        RETRY_ERROR,
    ),
    "app.tn.from_settings": (
        "automatic",
        "undecided",
        "none",
        False,
        None,
        "undecided",
        "undecided",
        RETRY_ERROR,
    ),
    "app.tn.assumed_count": (
        "automatic",
        4,
        "fixed",
        False,
        (1, 1, 1, 1),
        4,
        "assumed",
        RETRY_ERROR,
    ),
    "app.tn.from_constants": ("automatic", 2, "fixed", False, (2, 2), 4, "explicit", RETRY_ERROR),
    "app.tn.from_splat": ("automatic", 1, "fixed", False, (7,), 7, "explicit", RETRY_ERROR),
    "app.tn.from_unreadable_splat": (
        "automatic",
        "undecided",
        "undecided",
        "undecided",
        None,
        "undecided",
        "undecided",
        RETRY_ERROR,
    ),
    "app.tn.never_triggered": ("none", 0, None, None, (), 0, "explicit", RETRY_ERROR),
    "app.tn.explicit_only": ("manual", 2, "none", False, (0, 0), 0, "explicit", RETRY_ERROR),
    "app.tn.both_triggers": (
        "automatic+manual",
        1,
        "none",
        False,
        (0,),
        0,
        "explicit",
        RETRY_ERROR,
    ),
    "app.tn.disabled": ("none", 0, None, None, (), 0, "explicit", RETRY_ERROR),
    "app.tn.on_result": ("automatic", 2, "none", False, (0, 0), 0, "explicit", RETRY_ERROR),
    "app.tn.broad_trigger": ("automatic", 2, "none", False, (0, 0), 0, "explicit", RERAISED),
    "app.tn.default_types": (
        "automatic",
        1,
        "none",
        False,
        (0,),
        0,
        "explicit",
        "retry_error_callback log_failure at app/tn.py:230",
    ),
    "app.tn.broad_in_union": ("automatic", 1, "none", False, (0,), 0, "explicit", RETRY_ERROR),
    "app.tn.Client.fetch": ("automatic", 1, "fixed", False, (1,), 1, "explicit", RETRY_ERROR),
    "app.tn.outer.<locals>.inner": (
        "automatic",
        1,
        "none",
        False,
        (0,),
        0,
        "explicit",
        RETRY_ERROR,
    ),
    "app.tn.async_fetch": ("automatic", 2, "fixed", False, (1, 1), 2, "explicit", RETRY_ERROR),
    # Retry objects: a row at each Retrying(...) call.
    "app.tn_loops.RETRYER": (
        "automatic",
        "unbounded",
        "none",
        False,
        None,
        "unbounded",
        "default",
        RERAISED,
    ),
    "app.tn_loops.poll": ("automatic", 2, "fixed", False, (1, 1), 2, "explicit", RETRY_ERROR),
    "app.tn_loops.apoll": ("automatic", 3, "fixed", False, (2, 2, 2), 6, "explicit", RETRY_ERROR),
    "app.tn_loops.with_local_stop": (
        "automatic",
        4,
        "none",
        False,
        (0, 0, 0, 0),
        0,
        "explicit",
        RETRY_ERROR,
    ),
    "app.tn_loops.fetch_report": (
        "automatic",
        4,
        "fixed",
        False,
        (3, 3, 3, 3),
        12,
        "explicit",
        RERAISED,
    ),
    # Configured decorators applied in place (in a body, at module level); a branch-dependent stop.
    "app.tn_loops.fetch_with_session": (
        "automatic",
        3,
        "fixed",
        False,
        (2, 2, 2),
        6,
        "explicit",
        RETRY_ERROR,
    ),
    "app.tn_loops.print_quietly": ("automatic", 1, "none", False, (0,), 0, "explicit", RETRY_ERROR),
    "app.tn_loops.either_stop": (
        "automatic",
        "undecided",
        "none",
        False,
        None,
        "undecided",
        "undecided",
        RETRY_ERROR,
    ),
    # Project-made decorators: an alias used in a file that never names tenacity, a wrapper.
    "app.clients.get_user": (
        "automatic",
        2,
        "exponential",
        False,
        (2, 2),
        4,
        "explicit",
        RETRY_ERROR,
    ),
    "app.clients.save_user": ("automatic", 2, "fixed", True, (0.5, 0.5), 1, "explicit", RERAISED),
    "app.shared_retry.retry_on_conflict.<locals>.wrapper": (
        "automatic",
        2,
        "fixed",
        True,
        (0.5, 0.5),
        1,
        "explicit",
        RERAISED,
    ),
    "app.jobs.sync_invoice": ("automatic", 2, "fixed", False, (1, 1), 2, "explicit", RETRY_ERROR),
    "app.jobs.forever": ("automatic", 2, "fixed", True, (0.5, 0.5), 1, "explicit", RERAISED),
}
FIELDS = ("retry_trigger", "max_retries", "backoff", "jitter", "delays_seconds", "window_seconds")


@pytest.fixture(scope="module")
def report() -> Report:
    return analyze(FIXTURES / "retry_decorators")


@pytest.fixture(scope="module")
def rows(report: Report) -> dict[str, EffectivePolicy]:
    return {
        row.name or "": row
        for row in report.rows
        if row.framework == "tenacity" and row.site == "definition"
    }


def test_every_site_is_found(rows: dict[str, EffectivePolicy]) -> None:
    assert sorted(rows) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_effective_policy(rows: dict[str, EffectivePolicy], name: str) -> None:
    row = rows[name]
    *values, count_source, final_failure = EXPECTED[name]
    assert tuple(getattr(row, f) for f in FIELDS) == tuple(values)
    assert row.sources["max_retries"].source == count_source
    assert row.final_failure == final_failure
    # A detected version (requirements.txt pins tenacity==8.2.3) reaches every row.
    assert row.framework_version == "8.2.3"


def test_rows_sit_on_the_function_name(rows: dict[str, EffectivePolicy]) -> None:
    row = rows["app.tn.attempts_fixed"]
    assert (row.location.path, row.location.line, row.location.column) == ("app/tn.py", 61, 5)
    assert row.suppression_lines == (60, 61)
    method = rows["app.tn.Client.fetch"]
    assert method.suppression_lines == (245, 246)


def test_retry_objects_sit_on_the_call(rows: dict[str, EffectivePolicy]) -> None:
    poll = rows["app.tn_loops.poll"]
    assert (poll.location.line, poll.location.column) == (10, 20)
    assert poll.suppression_lines == (10,)
    assert rows["app.tn_loops.RETRYER"].location.line == 6
    applied = rows["app.tn_loops.fetch_with_session"]
    assert (applied.location.line, applied.location.column) == (39, 11)


def test_retry_with_is_an_enqueue_row(report: Report) -> None:
    (row,) = [r for r in report.rows if r.framework == "tenacity" and r.site == "enqueue"]
    assert row.name == "app.tn_loops.fetch_report"
    assert (row.location.path, row.location.line) == ("app/tn_loops.py", 34)
    # The call replaces the stop condition and keeps the decorator's wait and reraise.
    assert (row.max_retries, row.delays_seconds, row.window_seconds) == (1, (3,), 3)
    assert row.final_failure == RERAISED


def test_defaults_are_named(rows: dict[str, EffectivePolicy]) -> None:
    sources = rows["app.tn.bare"].sources
    assert sources["max_retries"].location is None
    assert "stop=stop_never" in sources["max_retries"].note
    assert "wait=wait_none()" in sources["delays"].note


def test_provenance_points_at_the_written_value(rows: dict[str, EffectivePolicy]) -> None:
    count = rows["app.tn.from_constants"].sources["max_retries"]
    assert count.location is not None
    assert (count.location.path, count.location.line) == ("app/consts.py", 5)
    delays = rows["app.tn.from_constants"].sources["delays"]
    assert delays.location is not None and delays.location.line == 6
    # The alias is configured in another file than the decorated function.
    alias = rows["app.clients.get_user"].sources["max_retries"]
    assert alias.location is not None and alias.location.path == "app/shared_retry.py"


def test_time_limits_explain_the_count(rows: dict[str, EffectivePolicy]) -> None:
    after = rows["app.tn.time_after"].sources["max_retries"]
    assert "stop_after_delay(10)" in after.note and "shortest waits" in after.note
    only_time = rows["app.tn.time_without_wait"].sources
    assert "a wait can be 0 s" in only_time["max_retries"].note
    assert only_time["window"].note == "stop_after_delay(30)"
    either = rows["app.tn.either_limit"].sources["max_retries"]
    assert "stop_after_delay(5)" in either.note


def test_undecided_values_are_quoted(rows: dict[str, EffectivePolicy]) -> None:
    def quoted(name: str) -> list[tuple[str, str, int]]:
        return [(u.field, u.expression, u.location.line) for u in rows[name].undecided]

    assert quoted("app.tn.event_stop") == [("stop", "stop_when_event_set(EVENT)", 160)]
    assert quoted("app.tn.custom_wait") == [("wait", "wait_exception(retry_after)", 165)]
    assert quoted("app.tn.from_settings") == [("stop", "settings.PAYMENT_RETRIES", 170)]
    assert quoted("app.tn.from_unreadable_splat") == [
        ("stop", "options_from_somewhere()", 190),
        ("wait", "options_from_somewhere()", 190),
    ]
    assert quoted("app.tn_loops.either_stop") == [("stop", "limit", 48)]
    assert rows["app.tn.assumed_count"].undecided == ()


def test_broad_triggers_are_located(rows: dict[str, EffectivePolicy]) -> None:
    def broad(name: str) -> list[tuple[str, int, int]]:
        triggers = rows[name].broad_triggers
        return [(t.exception, t.location.line, t.location.column) for t in triggers]

    assert broad("app.tn.broad_trigger") == [("Exception", 222, 38)]
    # retry_if_exception_type() with no argument means Exception.
    assert broad("app.tn.default_types") == [("Exception", 228, 11)]
    assert broad("app.tn.broad_in_union") == [("BaseException", 237, 45)]
    # The bare decorator also retries on any Exception, but nobody wrote it down.
    assert broad("app.tn.bare") == []


def test_inert_options_when_nothing_triggers(rows: dict[str, EffectivePolicy]) -> None:
    never = rows["app.tn.never_triggered"]
    assert [name for name, _ in never.inert_options] == ["stop", "wait"]
    assert never.hint("trigger") == "retry=retry_never, so nothing asks for a retry"
    disabled = rows["app.tn.disabled"]
    assert [name for name, _ in disabled.inert_options] == ["stop"]
    assert disabled.hint("trigger_fix") == "Drop enabled=False, or remove the retry options."
    # Options of a site that retries are never inert.
    assert rows["app.tn.attempts_fixed"].inert_options == ()


def test_hints_are_tenacity_specific(rows: dict[str, EffectivePolicy]) -> None:
    row = rows["app.tn.bare"]
    assert "stop_after_attempt" in (row.hint("max_retries") or "")
    assert "wait_random_exponential" in (row.hint("jitter") or "")
    assert "retry_error_callback" in (row.hint("dead_letter") or "")


def _rows(tmp_path: Path, files: dict[str, str]) -> dict[str, EffectivePolicy]:
    return rows_by_name(analyze(write_project(tmp_path, files)))


def test_other_retry_packages_are_not_tenacity(tmp_path: Path) -> None:
    rows = _rows(
        tmp_path,
        {
            "svc.py": """
            import tenacity
            from retry import retry

            @retry(tries=3, delay=1)
            def elsewhere():
                ...

            def retry_later():
                ...

            @tenacity.retry(stop=tenacity.stop_after_attempt(2))
            def ours():
                ...
            """,
        },
    )
    assert sorted(rows) == ["svc.ours"]
    assert rows["svc.ours"].max_retries == 1


def test_aliases_of_the_decorator_itself(tmp_path: Path) -> None:
    rows = _rows(
        tmp_path,
        {
            "svc.py": """
            from tenacity import retry as retrying, stop_after_attempt

            again = retrying

            @again(stop=stop_after_attempt(4))
            def through_alias():
                ...

            @again
            def bare_alias():
                ...
            """,
        },
    )
    assert rows["svc.through_alias"].max_retries == 3
    assert rows["svc.bare_alias"].max_retries == "unbounded"


def test_time_limit_with_jittered_waits_bounds_only_the_time(tmp_path: Path) -> None:
    rows = _rows(
        tmp_path,
        {
            "svc.py": """
            from tenacity import retry, stop_after_delay, wait_random_exponential

            @retry(stop=stop_after_delay(60), wait=wait_random_exponential(multiplier=1, max=8))
            def jittered():
                ...
            """,
        },
    )
    row = rows["svc.jittered"]
    # Full jitter can wait 0 s, so no count follows from the limit; the last wait (at most
    # 8 s) may start just before it.
    assert (row.max_retries, row.delays_seconds, row.window_seconds) == ("unbounded", None, 68)


# -- RL501 nested-retry-loop ------------------------------------------------------------


def test_nested_retry_loops_multiply(report: Report) -> None:
    findings = sorted(
        (f.location.line, f.framework, f.message) for f in report.findings if f.rule == "RL501"
    )
    assert findings == [
        (
            13,
            "tenacity",
            "`app.jobs.sync_invoice` retries inside the Celery task `app.jobs.sync_invoice`: "
            f"3 tenacity attempts {TIMES} 4 Celery runs = 12 executions",
        ),
        (
            25,
            "tenacity",
            "`app.jobs.forever` retries inside the Celery task `app.jobs.forever`: "
            f"3 tenacity attempts {TIMES} unbounded Celery runs = unbounded executions",
        ),
        (
            31,
            "stamina",
            "`app.jobs.manual` retries inside the Celery task `app.jobs.manual`: "
            f"3 stamina attempts {TIMES} 3 Celery runs = 9 executions",
        ),
    ]
    # `single_layer` (line 19) is a Celery task that never retries by itself: one retry layer.


def test_nested_retry_loop_can_be_suppressed(tmp_path: Path) -> None:
    project = write_project(
        tmp_path,
        {
            "tasks.py": """
            from celery import shared_task
            from tenacity import retry, stop_after_attempt

            @shared_task(autoretry_for=(OSError,), max_retries=2)
            # retrylint: ignore[RL501] the provider needs quick retries before the slow ones
            @retry(stop=stop_after_attempt(2))
            def push():
                ...
            """,
        },
    )
    report = analyze(project)
    assert not [f for f in report.findings if f.rule in ("RL501", "RL001")]
    assert report.suppressed == 1


def test_retry_sites_are_named_module_qualname() -> None:
    """tenacity, backoff and stamina sites: `module.qualname` (tenacity's own
    `get_callback_name`); the module is in a namespace directory inside `lib`."""
    at = "lib/clients/http.py"
    assert name_rows(FIXTURES / "names" / "retry") == [
        (at, 10, "lib.clients.http.fetch", None, (), "definition"),
        (at, 16, "lib.clients.http.Client.get", None, (), "definition"),
        (at, 22, "lib.clients.http.outer.<locals>.inner", None, (), "definition"),
    ]
