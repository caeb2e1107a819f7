"""RL205's evidence from Celery: the broker an app uses and its visibility timeout, field by field
(`fixtures/celery_visibility` and small projects for each way the settings are written)."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrylint.model import EffectivePolicy, Location, Provenance, Redelivery
from tests.conftest import FIXTURES, analyze, rows_by_name, write_project

REDIS_DEFAULT = Provenance(
    "default", None, "kombu's Redis transport: Channel.visibility_timeout = 3600"
)
SQS_DEFAULT = Provenance(
    "default", None, "kombu's SQS transport: Channel.default_visibility_timeout = 1800"
)
SHOP = Redelivery(
    "Redis",
    7200,
    Provenance(
        "config",
        Location("shop/settings.py", 4, 35, 4, 70),
        "broker_transport_options visibility_timeout=7200",
    ),
    Provenance(
        "config",
        Location("shop/settings.py", 3, 21, 3, 52),
        "broker_url 'redis://queue.internal:6379/2'",
    ),
)
FEEDS = Redelivery(
    "SQS",
    1800,
    SQS_DEFAULT,
    Provenance("config", Location("feeds/celeryconfig.py", 3, 14, 3, 22), "broker_url 'sqs://'"),
    43200,
)


@pytest.fixture(scope="module")
def fixture_report() -> tuple[dict[str, EffectivePolicy], list[tuple[str, str, int, str, str]]]:
    report = analyze(FIXTURES / "celery_visibility")
    findings = [
        (f.rule, f.location.path, f.location.line, f.message, f.fix or "") for f in report.findings
    ]
    return rows_by_name(report), findings


@pytest.mark.parametrize(
    ("task", "delays", "redelivery"),
    [
        ("shop.tasks.capture_payment", (10800, 10800, 10800), SHOP),
        ("shop.tasks.refresh_rates", (120, 240, 480, 600, 600, 600), SHOP),
        ("feeds.app.pull_feed", (2700,) * 5, FEEDS),
        ("feeds.app.prune_feed", (900,) * 5, FEEDS),
    ],
)
def test_fixture_rows_carry_the_broker_timeout(
    fixture_report: tuple[dict[str, EffectivePolicy], list[tuple[str, str, int, str, str]]],
    task: str,
    delays: tuple[float, ...],
    redelivery: Redelivery,
) -> None:
    row = fixture_report[0][task]
    assert row.delays_seconds == delays
    assert row.redelivery == redelivery
    assert row.undecided == ()


def test_fixture_findings(
    fixture_report: tuple[dict[str, EffectivePolicy], list[tuple[str, str, int, str, str]]],
) -> None:
    assert fixture_report[1] == [
        (
            "RL205",
            "feeds/app.py",
            8,
            "`feeds.app.pull_feed` waits up to 45m before retry 1 (explicit at feeds/app.py:7), "
            "longer than the SQS visibility timeout of 30m (default (kombu's SQS transport: "
            "Channel.default_visibility_timeout = 1800); broker: config (broker_url 'sqs://') "
            "at feeds/celeryconfig.py:3): the broker hands the waiting message to another "
            "worker, so the task runs more than once",
            "Raise the visibility timeout above 45m, or cap the retry delays below 30m. In "
            "Celery: broker_transport_options={'visibility_timeout': <seconds>} on the app "
            "(CELERY_BROKER_TRANSPORT_OPTIONS in Django settings), or retry_backoff_max / a "
            "smaller countdown.",
        ),
        (
            "RL205",
            "shop/tasks.py",
            7,
            "`shop.tasks.capture_payment` waits up to 3h before retry 1 (explicit at "
            "shop/tasks.py:12), longer than the Redis visibility timeout of 2h (config "
            "(broker_transport_options visibility_timeout=7200) at shop/settings.py:4; broker: "
            "config (broker_url 'redis://queue.internal:6379/2') at shop/settings.py:3): the "
            "broker hands the waiting message to another worker, so the task runs more than once",
            "Raise the visibility timeout above 3h, or cap the retry delays below 2h. In "
            "Celery: broker_transport_options={'visibility_timeout': <seconds>} on the app "
            "(CELERY_BROKER_TRANSPORT_OPTIONS in Django settings), or retry_backoff_max / a "
            "smaller countdown.",
        ),
    ]


def _project(tmp_path: Path, app: str, task: str = "") -> tuple[EffectivePolicy, list[str]]:
    """One app module and one task `t` that retries with `task` options (default: 2 h)."""
    options = task or "autoretry_for=(OSError,), max_retries=2, default_retry_delay=7200"
    write_project(
        tmp_path,
        {
            "retrylint.toml": 'default-category = "any"\n[categories.any]\ndescription = "x"\n',
            "proj/__init__.py": "",
            "proj/worker.py": app,
            "proj/tasks.py": f"""
                from proj.worker import app

                @app.task({options})
                def t():
                    pass
            """,
        },
    )
    report = analyze(tmp_path)
    row = rows_by_name(report)["proj.tasks.t"]
    return row, sorted(f"{f.rule} {f.message}" for f in report.findings)


def test_broker_argument_and_default_redis_timeout(tmp_path: Path) -> None:
    row, findings = _project(
        tmp_path,
        """
        from celery import Celery
        app = Celery("proj", broker="rediss://cache:6380/0")
        """,
    )
    assert row.redelivery == Redelivery(
        "Redis",
        3600,
        REDIS_DEFAULT,
        Provenance(
            "config", Location("proj/worker.py", 2, 29, 2, 52), "broker_url 'rediss://cache:6380/0'"
        ),
    )
    assert [f.split(" ")[0] for f in findings] == ["RL205"]
    assert "waits up to 2h before retry 1" in findings[0]


def test_conf_update_raises_the_timeout(tmp_path: Path) -> None:
    row, findings = _project(
        tmp_path,
        """
        from celery import Celery
        app = Celery("proj", broker="redis://cache")
        app.conf.update(broker_transport_options={"visibility_timeout": 3 * 3600})
        """,
    )
    assert row.redelivery is not None
    assert row.redelivery.timeout_seconds == 10800
    assert row.redelivery.timeout == Provenance(
        "config",
        Location("proj/worker.py", 3, 42, 3, 74),
        "broker_transport_options visibility_timeout=10800",
    )
    assert findings == []


def test_conf_assignment_after_the_argument_wins(tmp_path: Path) -> None:
    row, _ = _project(
        tmp_path,
        """
        from celery import Celery
        app = Celery("proj", broker="amqp://rabbit")
        app.conf.broker_url = "sqs://"
        app.conf.broker_transport_options = {"visibility_timeout": "600"}
        """,
    )
    assert row.redelivery is not None
    assert (row.redelivery.broker, row.redelivery.timeout_seconds) == ("SQS", 600)
    assert row.redelivery.broker_from.location == Location("proj/worker.py", 3, 23, 3, 31)


def test_app_made_by_a_factory(tmp_path: Path) -> None:
    row, _ = _project(
        tmp_path,
        """
        from celery import Celery

        def make():
            celery_app = Celery("proj")
            celery_app.conf.broker_url = "redis://cache"
            return celery_app

        app = make()
        """,
    )
    assert row.redelivery is not None
    assert row.redelivery.broker == "Redis"


@pytest.mark.parametrize(
    "url", ["amqp://guest@rabbit//", "pyamqp://rabbit", "memory://", "filesystem://"]
)
def test_brokers_without_a_visibility_timeout(tmp_path: Path, url: str) -> None:
    row, findings = _project(
        tmp_path, f'from celery import Celery\napp = Celery("proj", broker="{url}")\n'
    )
    assert row.redelivery is None
    assert row.undecided == ()
    assert findings == []


def test_broker_from_the_environment_is_undecided_when_it_matters(tmp_path: Path) -> None:
    app = """
        import os
        from celery import Celery
        app = Celery("proj", broker=os.environ["BROKER_URL"])
        """
    row, findings = _project(tmp_path, app)
    assert row.redelivery is None
    assert [(u.field, u.expression, u.location.path, u.location.line) for u in row.undecided] == [
        ("broker", 'os.environ["BROKER_URL"]', "proj/worker.py", 3)
    ]
    assert [f.split(" ")[0] for f in findings] == ["RL002"]
    # 20 minutes is under every broker's default: nothing to decide.
    short = "autoretry_for=(OSError,), max_retries=2, default_retry_delay=1200"
    row, findings = _project(tmp_path, app, short)
    assert (row.redelivery, row.undecided, findings) == (None, (), [])


def test_explicit_timeout_decides_for_an_unknown_broker(tmp_path: Path) -> None:
    row, findings = _project(
        tmp_path,
        """
        import os
        from celery import Celery
        app = Celery("proj", broker=os.environ["BROKER_URL"])
        app.conf.broker_transport_options = {"visibility_timeout": 43200}
        """,
    )
    assert (row.redelivery, row.undecided, findings) == (None, (), [])


def test_broker_written_nowhere_is_the_environment_variable(tmp_path: Path) -> None:
    row, findings = _project(tmp_path, 'from celery import Celery\napp = Celery("proj")\n')
    assert [(u.field, u.expression, u.location.line) for u in row.undecided] == [
        ("broker", "CELERY_BROKER_URL", 2)
    ]
    assert len(findings) == 1 and findings[0].startswith("RL002")


def test_sqs_predefined_queues_keep_their_own_timeout(tmp_path: Path) -> None:
    row, _ = _project(
        tmp_path,
        """
        from celery import Celery
        app = Celery("proj", broker="sqs://")
        app.conf.broker_transport_options = {
            "visibility_timeout": 60,
            "predefined_queues": {"celery": {"url": "https://sqs.example/q"}},
        }
        """,
    )
    assert row.redelivery is None
    assert [(u.field, u.expression) for u in row.undecided] == [
        ("broker", "broker_transport_options['predefined_queues']")
    ]


def test_sqs_delay_above_the_aws_maximum_says_cap(tmp_path: Path) -> None:
    row, _ = _project(
        tmp_path,
        'from celery import Celery\napp = Celery("proj", broker="sqs://")\n',
        "autoretry_for=(OSError,), max_retries=2, default_retry_delay=50000",
    )
    assert row.redelivery is not None and row.redelivery.max_timeout_seconds == 43200
    report = analyze(tmp_path)
    (finding,) = [f for f in report.findings if f.rule == "RL205"]
    assert finding.fix is not None
    assert finding.fix.startswith(
        "Cap the retry delays below 30m: SQS accepts no visibility timeout above 12h."
    )


def test_environment_variable_can_be_assumed(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "retrylint.toml": 'default-category = "any"\n[categories.any]\ndescription = "x"\n'
            '[assume]\n"CELERY_BROKER_URL" = "redis://cache"\n',
            "proj/__init__.py": "",
            "proj/worker.py": 'from celery import Celery\napp = Celery("proj")\n',
            "proj/tasks.py": """
                from proj.worker import app

                @app.task(autoretry_for=(OSError,), max_retries=2, default_retry_delay=7200)
                def t():
                    pass
            """,
        },
    )
    row = rows_by_name(analyze(tmp_path))["proj.tasks.t"]
    assert row.undecided == ()
    assert row.redelivery == Redelivery(
        "Redis",
        3600,
        REDIS_DEFAULT,
        Provenance(
            "assumed", Location("proj/worker.py", 2, 7, 2, 21), "broker_url 'redis://cache'"
        ),
    )
