"""Dramatiq: every declaration, broker and enqueue form of the reference §2, field by field.

Expected values were worked out by hand from Dramatiq 2.2.1's source (see the fixture's
comments): 20 retries, `min_backoff` 15 s and `max_backoff` 7 d by default, all in milliseconds;
the 2.x upper bound before retry r is `min(2 * min_backoff * 2**r, max_backoff)`; message
options beat actor options, which beat the Retries middleware; `max_age` bounds the window.
The fixture's main broker (app/broker.py) has Retries(max_retries=6, min_backoff=1_000,
max_backoff=120_000), so its actors wait 2, 4, 8 ... s, capped at 120 s.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from retrylint.frameworks.base import AdapterContext
from retrylint.frameworks.dramatiq import DramatiqAdapter
from retrylint.model import EffectivePolicy, Observation
from tests.conftest import FIXTURES, analyze, rows_by_name, write_project

MAIN = "dead-letter queue default.XQ (kept 1d)"
RABBIT = "dead-letter queue default.XQ (kept 7d)"
_DOUBLED = (30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 30720, 61440, 122880)
DEFAULT_DELAYS = (*_DOUBLED, 245760, 491520, 604800, 604800, 604800, 604800, 604800)

# name → (trigger, max_retries, backoff, jitter, delays, window, max_retries source, final failure)
EXPECTED: dict[str, tuple[Any, ...]] = {
    "Inherits": (
        "automatic",
        2,
        "exponential",
        True,
        (2, 4),
        6,
        "inherited",
        "dead-letter queue generic.XQ (kept 1d)",
    ),
    "OwnMeta": ("automatic", 6, "exponential", True, (1, 2, 4, 8, 16, 32), 63, "config", MAIN),
    "_resize": ("automatic+manual", 2, "fixed", False, (2, 4), 6, "explicit", MAIN),
    "aged": (
        "automatic",
        64,
        "exponential",
        True,
        (2, 4, 8, 16, 32, 64, *(120,) * 19),
        3600,
        "explicit",
        MAIN,
    ),
    "aliased": ("automatic", 1, "exponential", True, (2,), 2, "explicit", MAIN),
    "direct": ("automatic", 1, "exponential", True, (2,), 2, "explicit", MAIN),
    "emails.send": (
        "automatic",
        3,
        "exponential",
        True,
        (2, 4, 8),
        14,
        "explicit",
        "dead-letter queue emails.XQ (kept 1d)",
    ),
    "exhausted": (
        "automatic",
        1,
        "exponential",
        True,
        (2,),
        2,
        "explicit",
        MAIN + "; on_retry_exhausted sends it to actor `notify_failure`",
    ),
    "forever": ("automatic", "unbounded", "exponential", True, None, "unbounded", "explicit", MAIN),
    "huge_cap": ("automatic", 2, "exponential", True, (2, 4), 6, "explicit", MAIN),
    "manual_delay": ("automatic+manual", 3, "fixed", False, (10, 10, 10), 30, "explicit", MAIN),
    "manual_jittered": ("automatic+manual", 2, "fixed", True, (25, 25), 50, "explicit", MAIN),
    "manual_plain": (
        "automatic+manual",
        6,
        "exponential",
        True,
        (2, 4, 8, 16, 32, 64),
        126,
        "config",
        MAIN,
    ),
    "never": (
        "automatic",
        0,
        None,
        None,
        (),
        0,
        "explicit",
        "dead-letter queue quick.XQ (kept 1d)",
    ),
    "on_aged_out": (
        "automatic",
        5,
        "exponential",
        True,
        (30, 60, 120, 240, 480),
        600,
        "config",
        RABBIT,
    ),
    "on_doubled": (
        "automatic",
        20,
        "exponential",
        True,
        DEFAULT_DELAYS,
        4007010,
        "default",
        RABBIT,
    ),
    "on_factory": (
        "automatic",
        20,
        "exponential",
        True,
        DEFAULT_DELAYS,
        4007010,
        "default",
        "dead-letter queue bulk.XQ (kept 7d)",
    ),
    # A second AgeLimit of 3.6 s drops every retry before it runs (the first waits >= 15 s).
    "on_hourly": ("automatic", 0, None, None, (), 0, "config", RABBIT),
    "on_no_retries": ("none", 0, None, None, (), 0, "config", "nowhere"),
    "on_opaque": (
        "undecided",
        "undecided",
        "undecided",
        "undecided",
        None,
        "undecided",
        "undecided",
        "undecided (the middleware `build_middleware()` may lack Retries)",
    ),
    "on_predicate": (
        "automatic",
        "unbounded",
        "exponential",
        True,
        None,
        "unbounded",
        "config",
        RABBIT,
    ),
    "on_zero_floor": ("automatic", 3, "exponential", True, (30, 60, 120), 210, "config", RABBIT),
    "plain": ("automatic", 6, "exponential", True, (2, 4, 8, 16, 32, 64), 126, "config", MAIN),
    "predicate_bounded": ("automatic", 4, "exponential", True, (2, 4, 8, 16), 30, "explicit", MAIN),
    # `def` predicates: `retries < 3 and not isinstance(...)` allows retries 0, 1, 2.
    "predicate_def": ("automatic", 3, "exponential", True, (2, 4, 8), 14, "explicit", MAIN),
    "predicate_io": ("automatic", 5, "exponential", True, (2, 4, 8, 16, 32), 62, "explicit", MAIN),
    "predicate_branches": (
        "automatic",
        "undecided",
        "exponential",
        True,
        None,
        "undecided",
        "undecided",
        MAIN,
    ),
    "predicate_scaled": (
        "automatic",
        "undecided",
        "exponential",
        True,
        None,
        "undecided",
        "undecided",
        MAIN,
    ),
    "predicate_forever": (
        "automatic",
        "unbounded",
        "exponential",
        True,
        None,
        "unbounded",
        "explicit",
        MAIN,
    ),
    "seconds_slip": (
        "automatic",
        6,
        "exponential",
        True,
        (0.01, 0.02, 0.04, 0.06, 0.06, 0.06),
        0.25,
        "config",
        MAIN,
    ),
    "splatted": ("automatic", 2, "exponential", True, (6, 12), 18, "explicit", MAIN),
    "standalone.job": ("automatic+manual", 1, "fixed", False, (4,), 4, "explicit", MAIN),
    "thrown_all": ("none", 0, None, None, (), 0, "explicit", MAIN),
    "thrown_some": ("automatic", 1, "exponential", True, (2,), 2, "explicit", MAIN),
    "wrapped.job": ("automatic", 4, "exponential", True, (2, 4, 8, 16), 30, "explicit", MAIN),
}
# (name or <receiver>, line in app/enqueue.py) → the same fields as above.
EXPECTED_ENQUEUE: dict[tuple[str, int], tuple[Any, ...]] = {
    ("emails.send", 7): (
        "automatic",
        0,
        None,
        None,
        (),
        0,
        "explicit",
        "dead-letter queue emails.XQ (kept 1d)",
    ),
    ("plain", 9): ("automatic", 2, "exponential", True, (2, 4), 6, "explicit", MAIN),
    ("plain", 13): (
        "automatic",
        "unbounded",
        "exponential",
        True,
        None,
        "unbounded",
        "explicit",
        MAIN,
    ),
    ("plain", 14): ("automatic", 6, "exponential", True, (20,) * 6, 120, "config", MAIN),
    ("predicate_bounded", 16): (
        "automatic",
        4,
        "exponential",
        True,
        (2, 4, 8, 16),
        30,
        "explicit",
        MAIN,
    ),
    ("Inherits", 17): (
        "automatic",
        5,
        "exponential",
        True,
        (2, 4, 8, 16, 32),
        62,
        "explicit",
        "dead-letter queue generic.XQ (kept 1d)",
    ),
    ("<actor>", 18): (
        "automatic",
        "undecided",
        "undecided",
        True,
        None,
        "undecided",
        "undecided",
        "dead-letter queue <queue>.XQ (kept 1d)",
    ),
}
FIELDS = ("retry_trigger", "max_retries", "backoff", "jitter", "delays_seconds", "window_seconds")


@pytest.fixture(scope="module")
def report() -> Any:
    return analyze(FIXTURES / "dramatiq")


@pytest.fixture(scope="module")
def definitions(report: Any) -> dict[str, EffectivePolicy]:
    return rows_by_name(_Report([r for r in report.rows if r.site == "definition"]))


class _Report:
    def __init__(self, rows: list[EffectivePolicy]) -> None:
        self.rows = rows


def _check(row: EffectivePolicy, expected: tuple[Any, ...]) -> None:
    *values, count_source, final_failure = expected
    assert tuple(getattr(row, f) for f in FIELDS) == tuple(values)
    assert row.sources["max_retries"].source == count_source
    assert row.final_failure == final_failure
    assert row.framework == "dramatiq"
    assert row.framework_version == "2.2.1"


def test_every_actor_is_found(definitions: dict[str, EffectivePolicy]) -> None:
    # Abstract GenericActor bases, wrapper internals and the Meta classes are not actors.
    assert sorted(definitions) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_effective_policy(definitions: dict[str, EffectivePolicy], name: str) -> None:
    _check(definitions[name], EXPECTED[name])


def test_enqueue_rows(report: Any) -> None:
    rows = {
        (r.name or f"<{r.name_expression}>", r.location.line): r
        for r in report.rows
        if r.site == "enqueue"
    }
    # `delay=` alone (line 8) and a retry_when the message cannot set (line 15) make no row.
    assert sorted(rows) == sorted(EXPECTED_ENQUEUE)
    for key, row in rows.items():
        assert row.location.path == "app/enqueue.py"
        assert row.suppression_lines == (key[1],)
        _check(row, EXPECTED_ENQUEUE[key])


def test_provenance_points_at_the_written_value(definitions: dict[str, EffectivePolicy]) -> None:
    # The main broker's Retries(max_retries=6) in another file.
    plain = definitions["plain"].sources
    assert plain["max_retries"].location is not None
    assert (plain["max_retries"].location.path, plain["max_retries"].location.line) == (
        "app/broker.py",
        15,
    )
    assert plain["delays"].source == "config"
    assert plain["jitter"].source == "default"
    # The inherited Meta attribute of the abstract base.
    inherited = definitions["Inherits"].sources["max_retries"]
    assert inherited.location is not None
    assert (inherited.location.path, inherited.location.line) == ("app/generic.py", 10)
    # A framework default names itself.
    doubled = definitions["on_doubled"].sources["max_retries"]
    assert doubled.location is None and "max_retries=20" in doubled.note
    # AgeLimit's max_age bounds the count and the window.
    aged = definitions["aged"].sources
    assert "max_age" in aged["max_retries"].note and "max_age" in aged["window"].note
    # A lambda predicate is read from its text.
    bounded = definitions["predicate_bounded"].sources["max_retries"]
    assert bounded.note.startswith("retry_when=lambda retries, exc: retries < 4")
    named = definitions["predicate_def"].sources["max_retries"]
    assert named.note == "retry_when=should_retry (def should_retry at app/actors.py:15)"
    assert named.location is not None and named.location.line == 54


def test_undecided_values_are_quoted(definitions: dict[str, EffectivePolicy], report: Any) -> None:
    # A `def` predicate retrylint cannot read is quoted where it is passed, with the reason.
    for name, function, why in (
        ("predicate_branches", "retry_while_young", "more than one `return` statement"),
        ("predicate_scaled", "retry_scaled", "`return retries * 2 < 10` does not compare"),
    ):
        (predicate,) = definitions[name].undecided
        assert (predicate.field, predicate.expression) == ("retry_when", function)
        assert predicate.location.path == "app/actors.py"
        prov = definitions[name].sources["max_retries"]
        assert prov.source == "undecided" and f"def {function} at app/actors.py:" in prov.note
        assert why in prov.note
    (middleware,) = definitions["on_opaque"].undecided
    assert (middleware.field, middleware.expression) == ("middleware", "build_middleware()")
    assert (middleware.location.path, middleware.location.line) == ("app/other_brokers.py", 28)
    (unknown,) = [r for r in report.rows if r.name is None]
    assert unknown.name_expression == "actor"
    assert [(u.field, u.expression) for u in unknown.undecided] == [("name", "actor")]
    assert definitions["manual_jittered"].undecided == ()


def test_inert_options_when_nothing_retries(definitions: dict[str, EffectivePolicy]) -> None:
    (option,) = definitions["on_no_retries"].inert_options
    assert option[0] == "max_retries" and option[1].path == "app/bound.py"
    assert "no Retries middleware" in (definitions["on_no_retries"].hint("trigger") or "")
    (option,) = definitions["thrown_all"].inert_options
    assert option[0] == "max_retries"
    assert "throws=(Exception,)" in (definitions["thrown_all"].hint("trigger") or "")


def test_suppression_lines_cover_decorator_and_def(definitions: dict[str, EffectivePolicy]) -> None:
    assert definitions["plain"].suppression_lines == (19, 20)
    assert definitions["Inherits"].suppression_lines == (13,)
    assert definitions["_resize"].suppression_lines == (123,)


def _observations(root: Path) -> list[Observation]:
    """Observations the adapter hands to the always-on rules, whether or not each rule exists."""
    captured: list[Observation] = []
    original = DramatiqAdapter.analyze

    def spy(self: DramatiqAdapter, ctx: AdapterContext) -> Iterator[EffectivePolicy | Observation]:
        for item in original(self, ctx):
            if isinstance(item, Observation):
                captured.append(item)
            yield item

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DramatiqAdapter, "analyze", spy)
        analyze(root)
    return captured


def test_observations_of_the_fixture() -> None:
    found = {
        (o.kind, o.location.path, o.location.line, o.task, o.site)
        for o in _observations(FIXTURES / "dramatiq")
    }
    assert found == {
        # RL204: milliseconds written as seconds.
        ("delay-unit-slip", "app/actors.py", 29, "seconds_slip", "definition"),
        ("delay-unit-slip", "app/enqueue.py", 18, None, "enqueue"),
        ("delay-unit-slip", "app/other_brokers.py", 43, None, None),
        # RL502: the default stack already has Retries.
        ("duplicate-retry-middleware", "app/other_brokers.py", 11, None, None),
        ("duplicate-retry-middleware", "app/other_brokers.py", 42, None, None),
        # RL503: retry_when hides max_retries (actor, message, middleware), a message
        # retry_when, a falsy middleware min_backoff, a max_backoff above 7 days.
        ("ignored-retry-option", "app/actors.py", 44, "predicate_bounded", "definition"),
        ("ignored-retry-option", "app/enqueue.py", 16, "predicate_bounded", "enqueue"),
        ("ignored-retry-option", "app/other_brokers.py", 24, None, None),
        ("ignored-retry-option", "app/other_brokers.py", 42, None, None),
        ("ignored-retry-option", "app/enqueue.py", 15, "predicate_bounded", "enqueue"),
        ("ignored-retry-option", "app/other_brokers.py", 20, None, None),
        ("ignored-retry-option", "app/actors.py", 95, "huge_cap", "definition"),
    }


def test_rules_report_the_observations() -> None:
    findings = analyze(FIXTURES / "dramatiq").findings
    slips = sorted(
        (f.location.path, f.location.line, f.location.column) for f in findings if f.rule == "RL204"
    )
    assert slips == [
        ("app/actors.py", 29, 29),
        ("app/actors.py", 29, 44),
        ("app/enqueue.py", 18, 37),
        ("app/other_brokers.py", 43, 40),
    ]
    duplicates = [f for f in findings if f.rule == "RL502"]
    assert [(f.location.path, f.location.line) for f in duplicates] == [
        ("app/other_brokers.py", 11),
        ("app/other_brokers.py", 42),
    ]
    assert "default middleware already includes Retries" in duplicates[0].message
    assert all(f.severity == "warning" for f in duplicates)


def _rows(tmp_path: Path, files: dict[str, str]) -> dict[str, EffectivePolicy]:
    return rows_by_name(analyze(write_project(tmp_path, files)))


def test_version_1x_backoff(tmp_path: Path) -> None:
    rows = _rows(
        tmp_path,
        {
            "retrylint.toml": '[frameworks.dramatiq]\nversion = "1.17.1"\n',
            "tasks.py": """
                import dramatiq

                @dramatiq.actor
                def job():
                    pass

                @dramatiq.actor(max_retries=None, max_age=60_000)
                def aged():
                    pass
            """,
        },
    )
    # 1.x: min(f * 2**r, cap), then jittered down to half of it.
    job = rows["job"]
    assert job.max_retries == 20 and job.framework_version == "1.17.1"
    assert job.delays_seconds is not None and job.delays_seconds[:3] == (15, 30, 60)
    assert job.window_seconds == 15 * (2**16 - 1) + 4 * 604800
    # Shortest 1.x waits are 7.5, 15, 30 s: three retries start within a minute.
    assert (rows["aged"].max_retries, rows["aged"].window_seconds) == (3, 60)


def test_version_2x_default_window_matches_the_reference(tmp_path: Path) -> None:
    rows = _rows(
        tmp_path, {"tasks.py": "import dramatiq\n\n@dramatiq.actor\ndef job():\n    pass\n"}
    )
    job = rows["job"]
    # Reference §0.2: 20 retries take about 23-46 days; the upper bound is 46.4 days.
    assert job.max_retries == 20 and job.window_seconds == 4007010
    assert job.sources["max_retries"].source == "default"
    assert job.final_failure == RABBIT


def test_setup_function_and_duplicate_in_a_list(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "broker.py": """
                import dramatiq
                from dramatiq.brokers.redis import RedisBroker
                from dramatiq.middleware import Retries

                def setup():
                    b = RedisBroker(url="redis://")
                    b.add_middleware(Retries(max_retries=3))
                    dramatiq.set_broker(b)

                other = RedisBroker(middleware=[Retries(), Retries(max_retries=1)])
            """,
            "tasks.py": """
                import dramatiq

                @dramatiq.actor
                def job():
                    pass
            """,
        },
    )
    rows = rows_by_name(analyze(root))
    # Both Retries act: the default one's 20 is the worst case.
    assert rows["job"].max_retries == 20
    found = sorted(
        (o.location.line, o.message.split(": ")[0])
        for o in _observations(root)
        if o.kind == "duplicate-retry-middleware"
    )
    assert found == [
        (7, "a second Retries middleware on RedisBroker at broker.py:6"),
        (10, "a second Retries middleware on RedisBroker at broker.py:10"),
    ]


def test_middleware_attribute_replaces_the_stack(tmp_path: Path) -> None:
    rows = _rows(
        tmp_path,
        {
            "mq.py": """
                import dramatiq
                from dramatiq.brokers.redis import RedisBroker
                from dramatiq.middleware import AgeLimit, Retries

                redis_broker = RedisBroker(url="redis://")
                redis_broker.middleware = [AgeLimit(), Retries(max_retries=2)]
                dramatiq.set_broker(redis_broker)

                @dramatiq.actor
                def job():
                    pass
            """
        },
    )
    assert (rows["job"].max_retries, rows["job"].sources["max_retries"].source) == (2, "config")


def test_factory_with_local_list_and_wrapper(tmp_path: Path) -> None:
    # The shape of a large real application: a broker factory building its middleware list in
    # a local (with a conditional splat), a subclassed broker, and a project actor wrapper.
    rows = _rows(
        tmp_path,
        {
            "retrylint.toml": '[frameworks.dramatiq]\ntask-decorators = ["svc.worker.actor"]\n',
            "svc/__init__.py": "",
            "svc/worker.py": """
                import dramatiq
                from dramatiq import middleware
                from dramatiq.brokers.redis import RedisBroker

                class Routing(RedisBroker):
                    pass

                def get_broker(*, database=True):
                    middleware_list = [
                        middleware.ShutdownNotifications(),
                        *([Extra()] if database else []),
                        middleware.Retries(max_retries=4, min_backoff=2_000),
                    ]
                    broker = Routing(middleware=middleware_list, dead_message_ttl=3_600_000)
                    return broker

                broker = get_broker()
                dramatiq.set_broker(broker)

                def actor(actor_name=None, **options):
                    def decorator(fn):
                        dramatiq.actor(fn, actor_name=actor_name, **options)
                        return fn
                    return decorator
            """,
            "svc/tasks.py": """
                from svc.worker import actor

                @actor(actor_name="svc.sync")
                def sync():
                    pass

                @actor(actor_name="svc.once", max_retries=0)
                def once():
                    pass
            """,
        },
    )
    assert sorted(rows) == ["svc.once", "svc.sync"]
    sync = rows["svc.sync"]
    assert (sync.max_retries, sync.delays_seconds) == (4, (4, 8, 16, 32))
    assert sync.final_failure == "dead-letter queue default.XQ (kept 1h)"
    assert rows["svc.once"].max_retries == 0 and rows["svc.once"].undecided == ()


def test_django_dramatiq_settings(tmp_path: Path) -> None:
    files = {
        "proj/__init__.py": "",
        "proj/settings.py": """
            DRAMATIQ_BROKER = {
                "BROKER": "dramatiq.brokers.redis.RedisBroker",
                "OPTIONS": {"url": "redis://localhost"},
            }
        """,
        "proj/tasks.py": """
            import dramatiq

            @dramatiq.actor(max_retries=3)
            def job():
                pass
        """,
    }
    # Without MIDDLEWARE, django_dramatiq builds the broker with no middleware at all.
    job = _rows(tmp_path / "bare", files)["job"]
    assert (job.retry_trigger, job.final_failure) == ("none", "nowhere")
    assert [name for name, _ in job.inert_options] == ["max_retries"]
    files["proj/settings.py"] = """
        DRAMATIQ_BROKER = {
            "BROKER": "dramatiq.brokers.redis.RedisBroker",
            "MIDDLEWARE": ["dramatiq.middleware.AgeLimit", "dramatiq.middleware.Retries"],
        }
    """
    job = _rows(tmp_path / "listed", files)["job"]
    assert (job.max_retries, job.delays_seconds) == (3, (30, 60, 120))
    assert job.final_failure == RABBIT


def test_django_dramatiq_middleware_instance(tmp_path: Path) -> None:
    # django_dramatiq keeps MIDDLEWARE entries that are objects as they are: a configured
    # Retries sets the budget and backoff of every actor that does not set its own. Actors are
    # declared with plain @dramatiq.actor; the broker is the one the settings build.
    rows = _rows(
        tmp_path,
        {
            "proj/__init__.py": "",
            "proj/settings.py": """
                from dramatiq.middleware import Retries

                INSTALLED_APPS = ["django_dramatiq", "shop"]
                DRAMATIQ_BROKER = {
                    "BROKER": "dramatiq.brokers.redis.RedisBroker",
                    "MIDDLEWARE": [
                        "dramatiq.middleware.AgeLimit",
                        Retries(max_retries=4, min_backoff=1000),
                        "django_dramatiq.middleware.DbConnectionsMiddleware",
                    ],
                }
            """,
            "shop/__init__.py": "",
            "shop/tasks.py": """
                import dramatiq

                @dramatiq.actor
                def plain():
                    pass

                @dramatiq.actor(max_retries=2)
                def own_count():
                    pass
            """,
        },
    )
    expected = {
        "plain": ("automatic", 4, "exponential", True, (2, 4, 8, 16), 30),
        "own_count": ("automatic", 2, "exponential", True, (2, 4), 6),
    }
    for name, values in expected.items():
        row = rows[name]
        assert tuple(getattr(row, f) for f in FIELDS) == values
        assert row.final_failure == "dead-letter queue default.XQ (kept 7d)"
    plain = rows["plain"].sources["max_retries"]
    assert plain.source == "config" and "MIDDLEWARE of DRAMATIQ_BROKER" in plain.note


def test_retry_when_lambdas(tmp_path: Path) -> None:
    rows = _rows(
        tmp_path,
        {
            "tasks.py": """
                import dramatiq

                @dramatiq.actor(retry_when=lambda n, e: n <= 2)
                def at_most_three():
                    pass

                @dramatiq.actor(retry_when=lambda n, e: 5 > n or isinstance(e, KeyError))
                def either():
                    pass

                @dramatiq.actor(retry_when=lambda n, e: False)
                def never():
                    pass

                @dramatiq.actor(retry_when=lambda n, e: n * 2 < 10)
                def computed():
                    pass

                @dramatiq.actor(retry_when=None, max_retries=2)
                def explicit_none():
                    pass

                @dramatiq.actor(retry_when=lambda n, e: n > 3)
                def false_at_zero():
                    pass

                @dramatiq.actor(retry_when=lambda n, e: n >= 0)
                def always():
                    pass

                @dramatiq.actor(retry_when=lambda n, e: 4 != n)
                def until_four():
                    pass
            """
        },
    )
    assert rows["at_most_three"].max_retries == 3
    # An `or` with a branch that ignores the count can say yes for ever.
    assert rows["either"].max_retries == "unbounded"
    assert rows["never"].max_retries == 0
    assert rows["computed"].max_retries == "undecided"
    assert [u.field for u in rows["computed"].undecided] == ["retry_when"]
    assert rows["explicit_none"].max_retries == 2
    # The first failure asks with 0 retries done: `n > 3` says no at once.
    assert rows["false_at_zero"].max_retries == 0
    assert rows["always"].max_retries == "unbounded"
    assert rows["until_four"].max_retries == 4


def test_unknown_broker_option_is_undecided(tmp_path: Path) -> None:
    rows = _rows(
        tmp_path,
        {
            "tasks.py": """
                import dramatiq

                def make(stub_broker):
                    @dramatiq.actor(broker=stub_broker)
                    def inner():
                        pass

                @dramatiq.actor(broker=BROKER)
                def job():
                    pass
            """
        },
    )
    assert rows["job"].retry_trigger == "undecided"
    assert [(u.field, u.expression) for u in rows["job"].undecided] == [("middleware", "BROKER")]


def test_no_row_without_dramatiq(tmp_path: Path) -> None:
    rows = _rows(
        tmp_path,
        {
            "tasks.py": """
                def actor(**kw):
                    return lambda f: f

                @actor(max_retries=3)
                def f():
                    pass
            """
        },
    )
    assert rows == {}


def test_empty_list_then_add_and_global_add(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "b.py": """
                import dramatiq
                from dramatiq.brokers.redis import RedisBroker
                from dramatiq.middleware import Retries

                def create_broker():
                    broker = RedisBroker(url="redis://", middleware=[])
                    broker.add_middleware(Retries(max_retries=2))
                    return broker

                broker = create_broker()
                dramatiq.set_broker(broker)

                @dramatiq.actor
                def job():
                    pass

                dramatiq.get_broker().add_middleware(Retries(max_retries=7))
            """
        },
    )
    # middleware=[] then one Retries is fine; the one added through get_broker() is a second.
    assert rows_by_name(analyze(root))["job"].max_retries == 7
    (duplicate,) = [o for o in _observations(root) if o.kind == "duplicate-retry-middleware"]
    assert duplicate.location.line == 17
    assert "Retries is already on this broker (b.py:7)" in duplicate.message


# -- names (CONTRACTS §3; fixtures/names/dramatiq) ------------------------------------------

_NO_NAME = "Anonymous().__name__ (Anonymous defines no __name__: AttributeError at import)"
# (path, line) → (name, name_expression, undecided as (field, expression, path, line), site)
NAMES: dict[tuple[str, int], tuple[Any, ...]] = {
    ("jobs/actors.py", 11): ("plain", None, (), "definition"),
    ("jobs/actors.py", 16): ("billing.charge", None, (), "definition"),
    ("jobs/actors.py", 21): ("empty_name", None, (), "definition"),
    ("jobs/actors.py", 62): ("resize_image", None, (), "definition"),
    ("jobs/actors.py", 63): ("Thumbnail", None, (), "definition"),
    ("jobs/actors.py", 64): (
        None,
        _NO_NAME,
        (("name", "Anonymous()", "jobs/actors.py", 64),),
        "definition",
    ),
    ("jobs/actors.py", 65): (
        None,
        "Computed().__name__",
        (("name", "make_handler()", "jobs/actors.py", 47),),
        "definition",
    ),
    ("jobs/actors.py", 66): ("resize_image", None, (), "definition"),
    ("jobs/actors.py", 67): (
        None,
        "Vendored().__name__",
        (("name", "VendorCallable", "jobs/actors.py", 57),),
        "definition",
    ),
    ("jobs/actors.py", 68): ("Resize", None, (), "definition"),
    ("jobs/actors.py", 69): ("cleanup", None, (), "definition"),
    ("jobs/actors.py", 71): ("resize_image", None, (), "definition"),
    ("jobs/actors.py", 72): (
        None,
        "make_handler().__name__",
        (("name", "make_handler()", "jobs/actors.py", 72),),
        "definition",
    ),
    ("jobs/actors.py", 73): ("anon", None, (), "definition"),
    ("jobs/generic.py", 7): ("Export", None, (), "definition"),
    ("jobs/generic.py", 12): ("exports.renamed", None, (), "definition"),
    ("jobs/generic.py", 20): ("dunder_export", None, (), "definition"),
    ("jobs/enqueue.py", 7): ("resize_image", None, (), "enqueue"),
    ("jobs/enqueue.py", 8): (
        None,
        _NO_NAME,
        (("name", "Anonymous()", "jobs/actors.py", 64),),
        "enqueue",
    ),
}


@pytest.fixture(scope="module")
def dramatiq_names() -> dict[tuple[str, int], EffectivePolicy]:
    report = analyze(FIXTURES / "names" / "dramatiq")
    return {(row.location.path, row.location.line): row for row in report.rows}


def test_every_named_actor_is_found(dramatiq_names: dict[tuple[str, int], EffectivePolicy]) -> None:
    assert sorted(dramatiq_names) == sorted(NAMES)


@pytest.mark.parametrize("where", sorted(NAMES))
def test_name_as_dramatiq_registers_it(
    dramatiq_names: dict[tuple[str, int], EffectivePolicy], where: tuple[str, int]
) -> None:
    row = dramatiq_names[where]
    name, expression, undecided, site = NAMES[where]
    assert (row.name, row.name_expression) == (name, expression)
    assert (
        tuple((u.field, u.expression, u.location.path, u.location.line) for u in row.undecided)
        == undecided
    )
    assert (row.framework, row.site) == ("dramatiq", site)
