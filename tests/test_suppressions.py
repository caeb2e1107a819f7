"""Suppression comments: where they apply, what they cannot silence, and how they are reported."""

from __future__ import annotations

import json
from pathlib import Path

from retrylint.report.sarif_report import render_sarif
from tests.conftest import analyze, write_project

UNBOUNDED = """
from celery import shared_task
from django.conf import settings

{above}
@shared_task(  {decorator}
    autoretry_for=(OSError,),
    max_retries=None,
    retry_backoff=True,
)
def poll():  {def_line}
    pass


@shared_task(autoretry_for=(OSError,), max_retries=settings.N, retry_backoff=True)  {undecided}
def other():
    pass
"""


def _run(tmp_path: Path, **places: str) -> tuple[list[str], object]:
    values = {"above": "", "decorator": "", "def_line": "", "undecided": ""}
    values.update(places)
    write_project(tmp_path, {"tasks.py": UNBOUNDED.format(**values)})
    report = analyze(tmp_path)
    return sorted(f.rule for f in report.findings), report


def test_unsuppressed_baseline(tmp_path: Path) -> None:
    rules, _ = _run(tmp_path)
    assert rules == ["RL002", "RL101"]


def test_suppression_on_each_allowed_line(tmp_path: Path) -> None:
    comment = "# retrylint: ignore[RL101] polls until the bank answers"
    for place in ("above", "decorator", "def_line"):
        rules, report = _run(tmp_path, **{place: comment})
        assert rules == ["RL002"], place
        assert report.suppressed == 1  # type: ignore[attr-defined]


def test_rl002_cannot_be_suppressed_and_the_comment_is_reported(tmp_path: Path) -> None:
    rules, _ = _run(tmp_path, undecided="# retrylint: ignore[RL002] we know")
    assert rules == ["RL001", "RL002", "RL101"]


def test_missing_reason_and_misspelled_code(tmp_path: Path) -> None:
    rules, report = _run(tmp_path, decorator="# retrylint: ignore[RL101, RL9O1]")
    assert rules == ["RL001", "RL002", "RL003"]
    messages = [f.message for f in report.findings]  # type: ignore[attr-defined]
    assert any("names no retrylint rule" in m for m in messages)


def test_marker_inside_a_string_is_not_a_suppression(tmp_path: Path) -> None:
    rules, _ = _run(tmp_path, above='NOTE = "# retrylint: ignore[RL101] not a comment"')
    assert rules == ["RL002", "RL101"]


def test_sarif_lists_suppressed_findings_with_their_reason(tmp_path: Path) -> None:
    _, report = _run(tmp_path, above="# retrylint: ignore[RL101] polls until the bank answers")
    document = json.loads(render_sarif(report, "0"))  # type: ignore[arg-type]
    suppressed = [r for r in document["runs"][0]["results"] if "suppressions" in r]
    assert [(r["ruleId"], r["suppressions"]) for r in suppressed] == [
        ("RL101", [{"kind": "inSource", "justification": "polls until the bank answers"}])
    ]
