"""stamina: every form of the reference §12, asserted field by field.

Expected values were worked out by hand from stamina 26.1.0's source (see the fixture's
docstrings): `attempts=10` executions and `timeout=45` s combined with `stop_any`, the wait
before retry r+1 is `min(wait_max, wait_initial * wait_exp_base**r + U(0, wait_jitter))` (the
listed delays are upper bounds), and a timeout allows the retries that start before it with the
shortest (jitter-free) waits; the last wait may run past it by at most `wait_max`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retrylint.engine import Report
from retrylint.model import EffectivePolicy
from tests.conftest import FIXTURES, analyze, rows_by_name, write_project

DEFAULT_DELAYS = (1.1, 1.2, 1.4, 1.8, 2.6, 4.2, 5, 5, 5)

# name → (trigger, max_retries, backoff, jitter, delays, window, max_retries source)
EXPECTED: dict[str, tuple[Any, ...]] = {
    "app.st.defaults": ("automatic", 9, "exponential", True, DEFAULT_DELAYS, 27.3, "default"),
    "app.st.three_attempts": ("automatic", 2, "exponential", True, (1.1, 1.2), 2.3, "explicit"),
    "app.st.forever": (
        "automatic",
        "unbounded",
        "exponential",
        True,
        None,
        "unbounded",
        "explicit",
    ),
    "app.st.timeout_only": (
        "automatic",
        7,
        "exponential",
        True,
        DEFAULT_DELAYS[:7],
        15,
        "explicit",
    ),
    # 14 retries start within the default 45 s; the waits sum to 52.3 s, but the last one
    # starts before 45 s and lasts at most 5 s.
    "app.st.default_timeout_wins": (
        "automatic",
        14,
        "exponential",
        True,
        (*DEFAULT_DELAYS[:6], *(5,) * 8),
        50,
        "default",
    ),
    "app.st.no_jitter": ("automatic", 4, "exponential", False, (1, 2, 4, 8), 15, "explicit"),
    "app.st.base_three": ("automatic", 3, "exponential", True, (1.5, 3.5, 9.5), 14.5, "explicit"),
    "app.st.broad": ("automatic", 1, "exponential", True, (1.1,), 1.1, "explicit"),
    "app.st.hook": ("automatic", 1, "exponential", True, (1.1,), 1.1, "explicit"),
    # The count is undecided; the default timeout still bounds the waits.
    "app.st.from_settings": ("automatic", "undecided", "exponential", True, None, 50, "undecided"),
    "app.st.Repository.load": ("automatic", 1, "exponential", True, (1.1,), 1.1, "explicit"),
    "app.st.copy_blocks": ("automatic", 1, "exponential", True, (1.1,), 1.1, "explicit"),
    "app.st.CALLER": ("automatic", 3, "exponential", False, (0.1, 0.2, 0.4), 0.7, "explicit"),
    "app.st.read_async": (
        "automatic",
        4,
        "exponential",
        True,
        (1.1, 1.2, 1.4, 1.8),
        5.5,
        "explicit",
    ),
    # Factories in app/shared_retry.py, evaluated with their arguments.
    "app.clients.Index.search": ("automatic", 3, "exponential", True, (1.5, 2, 3), 6.5, "explicit"),
    "app.clients.Index.store": (
        "automatic",
        5,
        "exponential",
        True,
        (1.5, 2, 3, 5, 5),
        16.5,
        "explicit",
    ),
    "app.clients.Index.lookup": (
        "automatic",
        "undecided",
        "exponential",
        True,
        None,
        50,
        "undecided",
    ),
    "app.jobs.manual": ("automatic", 2, "exponential", True, (1.1, 1.2), 2.3, "explicit"),
}
FIELDS = ("retry_trigger", "max_retries", "backoff", "jitter", "delays_seconds", "window_seconds")


@pytest.fixture(scope="module")
def rows() -> dict[str, EffectivePolicy]:
    report: Report = analyze(FIXTURES / "retry_decorators")
    return {row.name or "": row for row in report.rows if row.framework == "stamina"}


def test_every_site_is_found(rows: dict[str, EffectivePolicy]) -> None:
    assert sorted(rows) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_effective_policy(rows: dict[str, EffectivePolicy], name: str) -> None:
    row = rows[name]
    *values, count_source = EXPECTED[name]
    assert tuple(getattr(row, f) for f in FIELDS) == tuple(values)
    assert row.sources["max_retries"].source == count_source
    assert row.final_failure == "the last exception, re-raised to the caller"
    assert (row.site, row.framework_version) == ("definition", "26.1.0")


def test_defaults_are_named(rows: dict[str, EffectivePolicy]) -> None:
    sources = rows["app.st.defaults"].sources
    assert sources["max_retries"].note == "stamina's default attempts=10"
    assert sources["delays"].source == "default"
    assert sources["jitter"].note == "stamina's default wait_jitter=1.0"
    timeout = rows["app.st.default_timeout_wins"].sources["max_retries"]
    assert timeout.note.startswith("stamina's default timeout=45.0")
    assert rows["app.st.forever"].sources["max_retries"].note == "attempts=None and timeout=None"


def test_retry_objects_sit_on_the_call(rows: dict[str, EffectivePolicy]) -> None:
    context = rows["app.st.copy_blocks"]
    assert (context.location.line, context.location.column) == (76, 20)
    assert context.suppression_lines == (76,)
    assert rows["app.st.CALLER"].location.line == 81


def test_undecided_values_are_quoted(rows: dict[str, EffectivePolicy]) -> None:
    (item,) = rows["app.st.from_settings"].undecided
    assert (item.field, item.expression, item.location.line) == (
        "attempts",
        "settings.IO_ATTEMPTS",
        64,
    )
    # Through a factory, the quote points into the factory's module.
    (opaque,) = rows["app.clients.Index.lookup"].undecided
    assert (opaque.field, opaque.expression) == ("attempts", "load_settings(kind)")
    assert (opaque.location.path, opaque.location.line) == ("app/shared_retry.py", 35)


def test_broad_trigger_is_located(rows: dict[str, EffectivePolicy]) -> None:
    (trigger,) = rows["app.st.broad"].broad_triggers
    assert (trigger.exception, trigger.location.line, trigger.location.column) == (
        "Exception",
        54,
        29,
    )
    assert rows["app.st.hook"].broad_triggers == ()


def test_factory_values_are_located_in_the_factory(rows: dict[str, EffectivePolicy]) -> None:
    count = rows["app.clients.Index.search"].sources["max_retries"]
    assert count.location is not None
    assert (count.location.path, count.location.line) == ("app/shared_retry.py", 26)
    assert count.note == 'attempts=options["attempts"]'


def test_hints_are_stamina_specific(rows: dict[str, EffectivePolicy]) -> None:
    row = rows["app.st.no_jitter"]
    assert "wait_jitter" in (row.hint("jitter") or "")
    assert "no give-up hook" in (row.hint("dead_letter") or "")


def test_zero_attempts_never_retry(tmp_path: Path) -> None:
    rows = rows_by_name(
        analyze(
            write_project(
                tmp_path,
                {
                    "io.py": """
                    import stamina

                    @stamina.retry(on=OSError, attempts=0)
                    def once():
                        ...
                    """,
                },
            )
        )
    )
    row = rows["io.once"]
    assert (row.retry_trigger, row.max_retries, row.delays_seconds, row.window_seconds) == (
        "automatic",
        0,
        (),
        0,
    )


def test_window_agrees_with_the_listed_delays(tmp_path: Path) -> None:
    """`attempts=5, timeout=2`: four retries waiting at most 1.1, 1.2, 1.4 and 1.8 s. The
    timeout ends them once 2 s have passed, so the last wait starts before 2 s and the window is
    at most 2 + 1.8 = 3.8 s, from the listed waits only (it was 4.6: the limit plus a fifth wait
    of 2.6 s that the attempts never allow). Where the timeout allows more retries than the
    listed waits can all fill (`attempts=30`), each listed delay stays an upper bound for its
    retry and the window is the limit plus the longest of them."""
    root = write_project(
        tmp_path,
        {
            "calls.py": """
                import stamina


                @stamina.retry(on=OSError, attempts=5, timeout=2)
                def short():
                    ...


                @stamina.retry(on=OSError, attempts=30)
                def many():
                    ...
            """
        },
    )
    rows = rows_by_name(analyze(root))
    short, many = rows["calls.short"], rows["calls.many"]
    assert (short.max_retries, short.delays_seconds, short.window_seconds) == (
        4,
        (1.1, 1.2, 1.4, 1.8),
        3.8,
    )
    assert short.window_seconds == 2 + max(short.delays_seconds or ())
    assert (many.max_retries, many.window_seconds) == (14, 50)
    assert many.window_seconds == 45 + max(many.delays_seconds or ())
