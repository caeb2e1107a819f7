"""`retrylint alerts --format prometheus`: the rule file parses back as YAML and has the
structure Prometheus reads (a schema test, always), passes `promtool check rules` where promtool
is installed, uses each exporter's metric and label names, derives thresholds from the policy,
skips `alert = false` categories, and matches the golden files.

Regenerate the golden files after an intended change with
    RETRYLINT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_alerts.py -k golden
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import pytest
import yaml  # type: ignore[import-untyped, unused-ignore]
from typer.testing import CliRunner

from retrylint.cli import app
from tests.conftest import FIXTURES, REPO, write_project

GOLDEN = Path(__file__).parent / "golden"

# The rule-file structure Prometheus loads (prometheus/model/rulefmt): groups with a name and
# rules; an alerting rule has alert and expr, optional for, labels and annotations of strings.
RULE_FILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["groups"],
    "properties": {
        "groups": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "rules"],
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "rules": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["alert", "expr", "for", "labels", "annotations"],
                            "properties": {
                                "alert": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                                "expr": {"type": "string", "minLength": 1},
                                "for": {"type": "string", "pattern": "^[0-9]+[smhdwy]$"},
                                "labels": {
                                    "type": "object",
                                    "required": ["severity", "category", "framework"],
                                    "additionalProperties": {"type": "string"},
                                    "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                                },
                                "annotations": {
                                    "type": "object",
                                    "required": ["summary", "description"],
                                    "additionalProperties": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}

DRAMATIQ_PROJECT = {
    "retrylint.toml": """
        [categories.payments]
        description = "Money"
        dead-letter = true

        [categories.reports]
        description = "Nightly reports"

        [categories.chatter]
        description = "Nobody is paged for these"
        alert = false

        [tasks]
        "charge" = { category = "payments", rate = "4/s" }
        "build_report" = { category = "reports", rate = "120/m" }
        "ping" = "chatter"
    """,
    "app/__init__.py": "",
    "app/actors.py": """
        import dramatiq

        @dramatiq.actor(max_retries=3)
        def charge(order_id):
            ...

        @dramatiq.actor(max_retries=5)
        def build_report(day):
            ...

        @dramatiq.actor(max_retries=1)
        def ping():
            ...
    """,
}


def _alerts(*args: str) -> str:
    result = CliRunner().invoke(app, ["alerts", *args, "--no-cache"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.fixture(autouse=True)
def _at_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def _rules(text: str) -> list[dict[str, Any]]:
    document = yaml.safe_load(text)
    jsonschema.Draft202012Validator(RULE_FILE_SCHEMA).validate(document)
    return [rule for group in document["groups"] for rule in group["rules"]]


@pytest.mark.parametrize("fixture", ["demo", "outage", "asynq", "dramatiq"])
def test_rule_files_have_the_prometheus_structure(fixture: str) -> None:
    assert _rules(_alerts(str(FIXTURES / fixture)))


def test_the_schema_rejects_a_rule_without_expr() -> None:
    document = yaml.safe_load(_alerts(str(FIXTURES / "demo")))
    del document["groups"][0]["rules"][0]["expr"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(RULE_FILE_SCHEMA).validate(document)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
@pytest.mark.parametrize("fixture", ["demo", "outage", "asynq"])
def test_promtool_accepts_the_rules(fixture: str, tmp_path: Path) -> None:
    target = tmp_path / "rules.yml"
    target.write_text(_alerts(str(FIXTURES / fixture)), encoding="utf-8")
    done = subprocess.run(
        ["promtool", "check", "rules", str(target)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_celery_uses_celery_exporter_names_and_criticality_from_the_policy() -> None:
    rules = _rules(_alerts(str(FIXTURES / "demo")))
    critical = next(r for r in rules if r["alert"] == "RetrylintRetriesExhaustedCriticalCelery")
    # The demo's critical category states max-retries.min: any exhausted message pages.
    assert critical["labels"]["severity"] == "critical"
    assert critical["expr"].startswith("sum by (name) (increase(celery_task_failed_total{name=~")
    assert critical["expr"].endswith("[5m])) > 0")
    assert "shop[.]tasks[.]charge_card" in critical["expr"]
    best = next(r for r in rules if r["alert"] == "RetrylintRetriesExhaustedBestEffortCelery")
    assert best["labels"]["severity"] == "warning"
    assert best["expr"].endswith("[15m])) > 0.1")  # no rate known: the default threshold
    assert any(
        r["expr"].startswith("sum by (name) (increase(celery_task_rejected_total") for r in rules
    )


def test_known_rates_set_the_thresholds() -> None:
    rules = _rules(_alerts(str(FIXTURES / "outage")))
    retry = {
        r["labels"].get("task"): r for r in rules if r["alert"].startswith("RetrylintRetryRate")
    }
    # charge: 3 retries per message at 2/s; refund: 5 at 1/s.
    assert retry["billing.tasks.charge"]["expr"] == (
        'sum(rate(celery_task_retried_total{name="billing.tasks.charge"}[5m])) > 6'
    )
    assert retry["billing.tasks.refund"]["expr"].endswith(" > 5")
    exhausted = next(r for r in rules if r["alert"] == "RetrylintRetriesExhaustedCriticalCelery")
    # This "critical" states only a maximum, so it is best-effort: 5 % of 2/s + 1/s.
    assert exhausted["expr"].endswith(" > 0.15")


def test_dramatiq_names_and_alert_false(tmp_path: Path) -> None:
    project = write_project(tmp_path, DRAMATIQ_PROJECT)
    text = _alerts(str(project))
    assert "# Category chatter: alert = false, no rules." in text
    rules = _rules(text)
    assert all(r["labels"]["category"] != "chatter" for r in rules)
    payments = next(r for r in rules if r["alert"] == "RetrylintRetriesExhaustedPaymentsDramatiq")
    assert payments["expr"] == (
        "sum by (actor_name) "
        '(increase(dramatiq_message_rejects_total{actor_name=~"charge"}[5m])) > 0'
    )
    retry = next(r for r in rules if r["labels"].get("task") == "build_report")
    assert retry["expr"] == (
        'sum(rate(dramatiq_message_retries_total{actor_name="build_report"}[5m])) > 10'
    )
    assert not any("queue_length" in r["expr"] for r in rules)  # the middleware has none


def test_asynq_rules_are_per_queue() -> None:
    rules = _rules(_alerts(str(FIXTURES / "asynq")))
    archived = [r for r in rules if "archived" in r["expr"]]
    assert archived
    assert all(
        re.search(r'asynq_tasks_enqueued_total\{state="archived",queue=~"', r["expr"])
        for r in archived
    )
    sizes = [r for r in rules if "asynq_queue_size" in r["expr"]]
    assert sizes
    assert all(r["labels"]["queue"] in r["expr"] for r in sizes)


def test_output_is_byte_stable() -> None:
    assert _alerts(str(FIXTURES / "demo")) == _alerts(str(FIXTURES / "demo"))


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("RETRYLINT_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8", newline="\n")
    assert path.is_file(), f"{name} missing: see this module's docstring to regenerate it"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from the golden file"


@pytest.mark.parametrize("fixture", ["demo", "outage"])
def test_golden(fixture: str) -> None:
    _golden(f"alerts.{fixture}.yml", _alerts(str(FIXTURES / fixture)))


def test_category_thresholds_replace_the_derived_ones(tmp_path: Path) -> None:
    """`alert-exhausted-rate` replaces the number, not the kind: the critical category still
    pages at once over 5 minutes, the best-effort one still watches 15; the rate-derived
    retry-rate rules are untouched."""
    files = dict(DRAMATIQ_PROJECT)
    files["retrylint.toml"] = (
        files["retrylint.toml"]
        .replace(
            "dead-letter = true\n", 'dead-letter = true\n        alert-exhausted-rate = "2/m"\n'
        )
        .replace(
            'description = "Nightly reports"\n',
            'description = "Nightly reports"\n        alert-exhausted-rate = "0.5/s"\n',
        )
    )
    rules = _rules(_alerts(str(write_project(tmp_path, files))))
    by_alert = {r["alert"]: r for r in rules}
    payments = by_alert["RetrylintRetriesExhaustedPaymentsDramatiq"]
    assert payments["expr"] == (
        "sum by (actor_name) "
        '(rate(dramatiq_message_rejects_total{actor_name=~"charge"}[5m])) > 0.033333'
    )
    assert (payments["for"], payments["labels"]["severity"]) == ("0s", "critical")
    assert "alert-exhausted-rate of 0.033333/s" in payments["annotations"]["description"]
    reports = by_alert["RetrylintRetriesExhaustedReportsDramatiq"]
    # Without the key this would be 5 % of 120/m: 0.1.
    assert reports["expr"].endswith("[15m])) > 0.5")
    assert (reports["for"], reports["labels"]["severity"]) == ("15m", "warning")
    retry = next(r for r in rules if r["labels"].get("task") == "build_report")
    assert retry["expr"].endswith(" > 10")


def test_asynq_queue_length_and_exhausted_rate_from_the_category(tmp_path: Path) -> None:
    project = tmp_path / "asynq"
    shutil.copytree(FIXTURES / "asynq", project)
    config = project / "retrylint.toml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + 'alert-queue-length = 250\nalert-exhausted-rate = "6/h"\n',
        encoding="utf-8",
    )
    rules = _rules(_alerts(str(project)))
    sizes = [r for r in rules if "asynq_queue_size" in r["expr"]]
    assert sizes and all(r["expr"].endswith(") > 250") for r in sizes)
    assert all(
        "more than 250 (the category's alert-queue-length)" in r["annotations"]["description"]
        for r in sizes
    )
    (archived,) = [r for r in rules if "archived" in r["expr"]]
    assert archived["expr"].endswith("[15m]) / 900) > 0.001667")


def test_without_the_keys_the_asynq_queue_default_stands() -> None:
    rules = _rules(_alerts(str(FIXTURES / "asynq")))
    sizes = [r for r in rules if "asynq_queue_size" in r["expr"]]
    assert sizes and all(r["expr"].endswith(") > 1000") for r in sizes)
