"""RL206 retry-window-below-policy, RL302 retries-non-idempotent-task and RL406 review-overdue,
positive and negative, with `check --today` / `RETRYLINT_TODAY` and the inventory fields the
new `[tasks]` keys add."""

from __future__ import annotations

import json
from datetime import date
from importlib import resources
from pathlib import Path

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import pytest
from typer.testing import CliRunner

from retrylint.cli import app
from retrylint.model import Finding
from retrylint.report.json_report import render_inventory
from tests.conftest import analyze, write_project
from tests.test_rule_docs import _doc, _section

TODAY = date(2026, 6, 1)


def findings(tmp_path: Path, files: dict[str, str], rule: str) -> list[Finding]:
    report = analyze(write_project(tmp_path, files), today=TODAY)
    return [f for f in report.findings if f.rule == rule]


# --- RL206 ---------------------------------------------------------------------------------

MIN_WINDOW = """
    default-category = "default"
    [categories.default]
    min-window = "1h"
"""


def celery_task(options: str, name: str = "sync") -> str:
    return f"""
        from celery import shared_task

        @shared_task({options})
        def {name}():
            pass
    """


def test_rl206_fires_with_values_and_the_framework_fix(tmp_path: Path) -> None:
    files = {
        "retrylint.toml": MIN_WINDOW,
        "jobs.py": celery_task(
            "autoretry_for=(ConnectionError,), max_retries=3, default_retry_delay=60"
        ),
    }
    (finding,) = findings(tmp_path, files, "RL206")
    assert finding.severity == "error"
    assert finding.task == "jobs.sync"
    assert (finding.location.path, finding.location.line) == ("jobs.py", 4)
    assert finding.message == (
        "`jobs.sync` stops retrying after at most 3m (3 retries, explicit at jobs.py:3); "
        "category `default` (default-category) requires at least 1h"
    )
    assert finding.fix is not None
    assert finding.fix.startswith("Make the retries last at least 1h. Raise max_retries")
    assert "retry_backoff_max" in finding.fix


def test_rl206_judges_the_path_that_gives_up_soonest(tmp_path: Path) -> None:
    """A long manual path must not hide an automatic one that stops after minutes."""
    files = {
        "retrylint.toml": MIN_WINDOW,
        "jobs.py": """
            from celery import shared_task

            @shared_task(
                bind=True, autoretry_for=(ConnectionError,), max_retries=3, default_retry_delay=60
            )
            def sync(self):
                try:
                    pass
                except TimeoutError as exc:
                    raise self.retry(exc=exc, countdown=3600)
        """,
    }
    (finding,) = findings(tmp_path, files, "RL206")
    assert finding.message.startswith(
        "`jobs.sync` (retry path at jobs.py:4) stops retrying after at most 3m (3 retries"
    )


def test_rl206_fix_speaks_the_retry_library(tmp_path: Path) -> None:
    files = {
        "retrylint.toml": MIN_WINDOW,
        "calls.py": """
            from tenacity import retry, stop_after_attempt, wait_fixed

            @retry(stop=stop_after_attempt(3), wait=wait_fixed(1))
            def fetch():
                pass
        """,
    }
    (finding,) = findings(tmp_path, files, "RL206")
    assert finding.framework == "tenacity"
    assert "stops retrying after at most 2s" in finding.message
    assert finding.fix is not None and "stop_after_attempt" in finding.fix


@pytest.mark.parametrize(
    "options",
    [
        # Long enough: 60 + 120 + ... capped at 30 min, over two hours.
        "autoretry_for=(ConnectionError,), max_retries=8, retry_backoff=60, retry_backoff_max=1800",
        # Never retries: CONTRACTS §6 leaves such a site to RL104/RL102.
        "autoretry_for=(ConnectionError,), max_retries=0",
        "max_retries=3",
        # Unbounded: RL101's alone.
        "autoretry_for=(ConnectionError,), max_retries=None",
        # Undecided count: RL002's.
        "autoretry_for=(ConnectionError,), max_retries=settings.RETRIES",
    ],
    ids=["long-enough", "zero-retries", "no-trigger", "unbounded", "undecided"],
)
def test_rl206_quiet(tmp_path: Path, options: str) -> None:
    files = {"retrylint.toml": MIN_WINDOW, "jobs.py": celery_task(options)}
    assert findings(tmp_path, files, "RL206") == []


def test_rl206_needs_min_window(tmp_path: Path) -> None:
    files = {
        "retrylint.toml": 'default-category = "d"\n[categories.d]\nmax-window = "1h"\n',
        "jobs.py": celery_task("autoretry_for=(ConnectionError,), max_retries=3"),
    }
    assert findings(tmp_path, files, "RL206") == []


def test_unbounded_site_is_rl101_only(tmp_path: Path) -> None:
    files = {
        "retrylint.toml": MIN_WINDOW,
        "jobs.py": celery_task("autoretry_for=(ConnectionError,), max_retries=None"),
    }
    report = analyze(write_project(tmp_path, files), today=TODAY)
    rules = {f.rule for f in report.findings if f.task == "jobs.sync"}
    assert "RL101" in rules and "RL206" not in rules


# --- RL302 ---------------------------------------------------------------------------------


def idempotency_policy(value: str | None) -> str:
    entry = "" if value is None else f", idempotent = {value}"
    return (
        'default-category = "default"\n[categories.default]\nbackoff = "none"\n'
        f'[tasks]\n"jobs.sync" = {{ category = "default"{entry} }}\n'
    )


AUTORETRY = "autoretry_for=(ConnectionError,), max_retries=3, retry_backoff=True"


def test_rl302_fires_for_automatic_retries(tmp_path: Path) -> None:
    files = {"retrylint.toml": idempotency_policy("false"), "jobs.py": celery_task(AUTORETRY)}
    (finding,) = findings(tmp_path, files, "RL302")
    assert finding.severity == "warning"
    assert finding.message == (
        "`jobs.sync` retries automatically on failure (trigger `automatic`, 3 retries, explicit "
        "at jobs.py:3), but its [tasks] entry `jobs.sync` says idempotent = false: each run "
        "repeats the side effects the failed run already had"
    )
    assert finding.fix is not None and finding.fix.startswith("Make the task idempotent")


@pytest.mark.parametrize(
    ("value", "options"),
    [
        ("true", AUTORETRY),
        (None, AUTORETRY),
        ("false", "autoretry_for=(ConnectionError,), max_retries=0"),
    ],
    ids=["idempotent", "unsaid", "never-retries"],
)
def test_rl302_quiet(tmp_path: Path, value: str | None, options: str) -> None:
    files = {"retrylint.toml": idempotency_policy(value), "jobs.py": celery_task(options)}
    assert findings(tmp_path, files, "RL302") == []


MANUAL = """
    from celery import Celery

    app = Celery("jobs", broker="redis://cache:6379/0")

    @app.task(bind=True, max_retries=3)
    def sync(self):
        try:
            fetch()
        except ConnectionError as exc:
            raise self.retry(exc=exc, countdown={countdown})
"""


def test_rl302_manual_retry_is_the_codes_choice(tmp_path: Path) -> None:
    files = {
        "retrylint.toml": idempotency_policy("false"),
        "jobs.py": MANUAL.format(countdown=60),
    }
    assert findings(tmp_path, files, "RL302") == []


def test_rl302_manual_retry_redelivered_by_the_broker(tmp_path: Path) -> None:
    """A retry waiting longer than Redis's visibility timeout (3600 s) is handed out again:
    not the code's choice, so the non-idempotent task is reported."""
    files = {
        "retrylint.toml": idempotency_policy("false"),
        "jobs.py": MANUAL.format(countdown=7200),
    }
    (finding,) = findings(tmp_path, files, "RL302")
    assert finding.message.startswith(
        "`jobs.sync` runs again while a retry waits up to 2h: the Redis broker hands the "
        "unacknowledged message out again after its visibility timeout of 1h ("
    )


LOST_WORKER = """
    from celery import Celery

    app = Celery("jobs", broker="amqp://rabbit//")
    {app_conf}

    @app.task(bind=True, max_retries=3{options})
    def sync(self):
        try:
            fetch()
        except ConnectionError as exc:
            raise self.retry(exc=exc, countdown=60)
"""
BOTH = ", acks_late=True, reject_on_worker_lost=True"
BOTH_ANNOTATED = (
    'app.conf.task_annotations = {"jobs.sync": {"acks_late": True, "reject_on_worker_lost": True}}'
)
BOTH_SETTINGS = "app.conf.update(task_acks_late=True, task_reject_on_worker_lost=True)"


@pytest.mark.parametrize(
    ("app_conf", "options", "settings"),
    [
        (
            "",
            BOTH,
            "acks_late=True (explicit at jobs.py:6) and reject_on_worker_lost=True "
            "(explicit at jobs.py:6)",
        ),
        (
            BOTH_ANNOTATED,
            "",
            "acks_late=True (config (task_annotations['jobs.sync']) at jobs.py:4) and "
            "reject_on_worker_lost=True (config (task_annotations['jobs.sync']) at jobs.py:4)",
        ),
        (
            BOTH_SETTINGS,
            "",
            "task_acks_late=True (config (app setting task_acks_late) at jobs.py:4) and "
            "task_reject_on_worker_lost=True (config (app setting task_reject_on_worker_lost) "
            "at jobs.py:4)",
        ),
    ],
    ids=["task", "annotation", "settings"],
)
def test_rl302_redelivered_when_the_worker_is_lost(
    tmp_path: Path, app_conf: str, options: str, settings: str
) -> None:
    """`acks_late` with `reject_on_worker_lost` requeues the message of a worker that died
    mid-run (worker/request.py `on_failure`): a manual retry the code chose does not protect
    the side effects of that run."""
    files = {
        "retrylint.toml": idempotency_policy("false"),
        "jobs.py": LOST_WORKER.format(app_conf=app_conf, options=options),
    }
    (finding,) = findings(tmp_path, files, "RL302")
    assert finding.message == (
        "`jobs.sync` runs again from the start when the worker running it is lost mid-run "
        "(killed, out of memory): the message is handed out again because of "
        f"{settings}, but its [tasks] entry `jobs.sync` says idempotent = false: each run "
        "repeats the side effects the failed run already had"
    )


def test_rl302_names_every_way_a_task_runs_again(tmp_path: Path) -> None:
    files = {
        "retrylint.toml": idempotency_policy("false"),
        "jobs.py": celery_task(f"{AUTORETRY}{BOTH}"),
    }
    (finding,) = findings(tmp_path, files, "RL302")
    assert "at jobs.py:3); it also runs again from the start when the worker" in finding.message


@pytest.mark.parametrize(
    ("value", "app_conf", "options"),
    [
        ("false", "", ", acks_late=True"),
        ("false", "app.conf.task_acks_late = True", ""),
        ("false", BOTH_SETTINGS, ", reject_on_worker_lost=False"),
        ("true", BOTH_SETTINGS, ""),
        (None, "", BOTH),
    ],
    ids=["acks-late-alone", "setting-alone", "task-opts-out", "idempotent", "unsaid"],
)
def test_rl302_quiet_on_worker_loss(
    tmp_path: Path, value: str | None, app_conf: str, options: str
) -> None:
    """`acks_late` alone acknowledges the message as failed when its worker process is lost,
    so the run is not repeated."""
    files = {
        "retrylint.toml": idempotency_policy(value),
        "jobs.py": LOST_WORKER.format(app_conf=app_conf, options=options),
    }
    assert findings(tmp_path, files, "RL302") == []


def test_rl302_leaves_a_task_that_never_retries_to_rl106(tmp_path: Path) -> None:
    """CONTRACTS §6: a site that never retries is judged only by RL104, RL401 and RL102; the
    redelivery loop itself is RL106's."""
    files = {"retrylint.toml": idempotency_policy("false"), "jobs.py": celery_task(BOTH[2:])}
    report = analyze(write_project(tmp_path, files), today=TODAY)
    assert [f.rule for f in report.findings if f.rule in ("RL106", "RL302")] == ["RL106"]


def test_rl302_doc_example_reports_both_ways(tmp_path: Path) -> None:
    """The document's Example shows an automatic retry and a lost-worker redelivery; the
    generic doc test only checks that RL302 fires at all."""
    example = _section(_doc("RL302"), "## Example")
    files = {"retrylint.toml": example["toml"], "tasks.py": example["python"]}
    reported = {f.task: f.message for f in findings(tmp_path, files, "RL302")}
    assert sorted(reported) == ["tasks.charge_card", "tasks.send_invoice"]
    assert "acks_late=True (explicit at tasks.py:" in reported["tasks.send_invoice"]


# --- RL406 ---------------------------------------------------------------------------------


def review_policy(reviewed: str | None, *, top: str = '"90d"', category: str = "") -> str:
    entry = "" if reviewed is None else f", reviewed = {reviewed}"
    return (
        f'review-every = {top}\ndefault-category = "default"\n'
        f"[categories.default]\nbackoff = 'none'\n{category}"
        f'[tasks]\n"jobs.sync" = {{ category = "default"{entry} }}\n'
    )


def test_rl406_overdue(tmp_path: Path) -> None:
    files = {"retrylint.toml": review_policy("2026-01-01"), "jobs.py": celery_task(AUTORETRY)}
    (finding,) = findings(tmp_path, files, "RL406")
    assert finding.severity == "warning"
    assert (finding.location.path, finding.location.line) == ("jobs.py", 4)
    assert finding.message == (
        '`jobs.sync` was last reviewed on 2026-01-01 ([tasks] entry "jobs.sync" at '
        "retrylint.toml:6), 151 days before 2026-06-01; category `default` (exact via "
        "`jobs.sync`) asks for a review every 90d (the top-level review-every of "
        "retrylint.toml)"
    )
    assert finding.fix == (
        "Review the task's retry policy, then set reviewed = 2026-06-01 in the [tasks] entry "
        '"jobs.sync".'
    )


@pytest.mark.parametrize(("reviewed", "fires"), [("2026-03-03", False), ("2026-03-02", True)])
def test_rl406_counts_whole_days(tmp_path: Path, reviewed: str, fires: bool) -> None:
    """90 days after 2026-03-03 is 2026-06-01: still within the period; one day more is not."""
    files = {"retrylint.toml": review_policy(reviewed), "jobs.py": celery_task(AUTORETRY)}
    assert bool(findings(tmp_path, files, "RL406")) is fires


def test_rl406_never_reviewed_without_an_entry(tmp_path: Path) -> None:
    files = {
        "retrylint.toml": 'review-every = "30d"\n',
        "jobs.py": celery_task(AUTORETRY, name="other"),
    }
    (finding,) = findings(tmp_path, files, "RL406")
    assert finding.message == (
        "`jobs.other` has no `reviewed` date (no [tasks] entry names it); category `default` "
        "(built-in) asks for a review every 30d (the top-level review-every of retrylint.toml)"
    )
    assert finding.fix == (
        'Review the task\'s retry policy, then add "jobs.other" = { category = "default", '
        "reviewed = 2026-06-01 } under [tasks]."
    )


def test_rl406_never_reviewed_entry(tmp_path: Path) -> None:
    files = {"retrylint.toml": review_policy(None), "jobs.py": celery_task(AUTORETRY)}
    (finding,) = findings(tmp_path, files, "RL406")
    assert 'has no `reviewed` date ([tasks] entry "jobs.sync" at retrylint.toml:6)' in (
        finding.message
    )


def test_rl406_category_period_wins_over_the_top_level(tmp_path: Path) -> None:
    text = review_policy("2026-01-01", top='"1d"', category='review-every = "365d"\n')
    files = {"retrylint.toml": text, "jobs.py": celery_task(AUTORETRY)}
    assert findings(tmp_path / "long", files, "RL406") == []
    text = review_policy("2026-01-01", top='"365d"', category='review-every = "30d"\n')
    files = {"retrylint.toml": text, "jobs.py": celery_task(AUTORETRY)}
    (finding,) = findings(tmp_path / "short", files, "RL406")
    assert "every 30d (its review-every at retrylint.toml:3)" in finding.message


@pytest.mark.parametrize(
    ("policy", "options"),
    [
        ('default-category = "d"\n[categories.d]\nbackoff = "none"\n', AUTORETRY),
        (review_policy("2020-01-01"), "max_retries=3"),
    ],
    ids=["no-review-every", "never-retries"],
)
def test_rl406_quiet(tmp_path: Path, policy: str, options: str) -> None:
    files = {"retrylint.toml": policy, "jobs.py": celery_task(options)}
    assert findings(tmp_path, files, "RL406") == []


def test_rl406_is_one_finding_per_task(tmp_path: Path) -> None:
    """Two enqueue sites set the policy of one RQ job: the review is of the job, once."""
    files = {
        "retrylint.toml": 'review-every = "30d"\n',
        "jobs.py": """
            from redis import Redis
            from rq import Queue, Retry

            queue = Queue(connection=Redis())

            def work():
                pass

            queue.enqueue(work, retry=Retry(max=3, interval=[10, 20, 40]))
            queue.enqueue(work, retry=Retry(max=2, interval=[10, 20]))
        """,
    }
    report = analyze(write_project(tmp_path, files), today=TODAY)
    assert len([r for r in report.rows if r.name == "jobs.work"]) == 2
    (finding,) = [f for f in report.findings if f.rule == "RL406"]
    assert finding.location.line == 9


# --- check --today ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "env", "fires"),
    [
        (["--today", "2026-03-01"], {}, False),
        (["--today", "2026-06-01"], {}, True),
        ([], {"RETRYLINT_TODAY": "2026-03-01"}, False),
        ([], {"RETRYLINT_TODAY": "2026-06-01"}, True),
        # The flag beats the environment.
        (["--today", "2026-03-01"], {"RETRYLINT_TODAY": "2026-06-01"}, False),
    ],
)
def test_today_flag_and_env(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
    fires: bool,
) -> None:
    write_project(
        tmp_path, {"retrylint.toml": review_policy("2026-01-01"), "jobs.py": celery_task(AUTORETRY)}
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RETRYLINT_TODAY", raising=False)
    result = CliRunner().invoke(
        app, ["check", "--no-cache", "--format", "json", *args, "."], env=env
    )
    rules = {f["rule"] for f in json.loads(result.stdout)["findings"]}
    assert ("RL406" in rules) is fires


@pytest.mark.parametrize(
    ("args", "env", "shown"),
    [
        (["--today", "2026-13-01"], {}, '"2026-13-01" is not a day of the calendar'),
        (["--today", "20260601"], {}, '"20260601" is not written YYYY-MM-DD'),
        ([], {"RETRYLINT_TODAY": "tomorrow"}, '"tomorrow" is not written YYYY-MM-DD'),
    ],
)
def test_bad_today_is_one_line_and_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
    shown: str,
) -> None:
    write_project(tmp_path, {"jobs.py": celery_task(AUTORETRY)})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["check", "--no-cache", *args, "."], env=env)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"retrylint: error: --today (or RETRYLINT_TODAY): {shown}; write a date such as 2026-06-01"
    ]


# --- inventory -----------------------------------------------------------------------------


def test_inventory_rows_carry_reviewed_and_idempotent(tmp_path: Path) -> None:
    policy = (
        'default-category = "default"\n[categories.default]\nbackoff = "none"\n[tasks]\n'
        '"jobs.sync" = { category = "default", reviewed = 2026-01-01, idempotent = false }\n'
    )
    files = {
        "retrylint.toml": policy,
        "jobs.py": celery_task(AUTORETRY) + celery_task(AUTORETRY, name="other"),
    }
    document = json.loads(render_inventory(analyze(write_project(tmp_path, files))))
    schema = json.loads(
        resources.files("retrylint.report")
        .joinpath("schemas/inventory.schema.json")
        .read_text(encoding="utf-8")
    )
    jsonschema.validate(document, schema)
    rows = {row["name"]: row for row in document["tasks"]}
    assert (rows["jobs.sync"]["reviewed"], rows["jobs.sync"]["idempotent"]) == (
        "2026-01-01",
        False,
    )
    assert (rows["jobs.other"]["reviewed"], rows["jobs.other"]["idempotent"]) == (None, None)


def test_inventory_rows_carry_the_worker_loss_settings(tmp_path: Path) -> None:
    files = {
        "retrylint.toml": idempotency_policy("false"),
        "jobs.py": LOST_WORKER.format(app_conf=BOTH_SETTINGS, options=", acks_late=True")
        + "\n    @app.task(acks_late=False)\n    def other():\n        pass\n",
    }
    document = json.loads(render_inventory(analyze(write_project(tmp_path, files))))
    schema = json.loads(
        resources.files("retrylint.report")
        .joinpath("schemas/inventory.schema.json")
        .read_text(encoding="utf-8")
    )
    jsonschema.validate(document, schema)
    rows = {row["name"]: row for row in document["tasks"]}
    assert rows["jobs.sync"]["worker_loss"] == [
        {"setting": "acks_late=True", "source": "explicit", "path": "jobs.py", "line": 6},
        {
            "setting": "task_reject_on_worker_lost=True",
            "source": "config",
            "path": "jobs.py",
            "line": 4,
        },
    ]
    assert rows["jobs.other"]["worker_loss"] == []


def test_worker_loss_paths_are_relative_to_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {
        "svc/retrylint.toml": idempotency_policy("false"),
        "svc/jobs.py": LOST_WORKER.format(app_conf=BOTH_SETTINGS, options=""),
    }
    write_project(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["inventory", "--format", "json", "--no-cache", "svc"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)["tasks"]
    assert {item["path"] for item in row["worker_loss"]} == {"svc/jobs.py"}
