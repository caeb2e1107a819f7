"""Suppression comments: where they apply, what they cannot silence, and how they are reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrylint import engine
from retrylint.config.policy import discover_config, load_policy
from retrylint.frameworks import FRAMEWORKS
from retrylint.report.sarif_report import render_sarif
from retrylint.rules import RULES
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


SPANS = """
from celery import Celery, Task

app = Celery("jobs")


class Patient(Task):
    autoretry_for = (OSError,)
    retry_backoff = True
    max_retries = 50  {cited}


@app.task(base=Patient)
def poll():
    pass


@app.task(
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=None,  {inside}
)  {closing}
def forever():
    pass


{stale}
@app.task(autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def fine():
    pass
"""


def _spans(
    tmp_path: Path, policy: str = "", ignore: tuple[str, ...] = (), **places: str
) -> engine.Report:
    values = {"cited": "", "inside": "", "closing": "", "stale": ""}
    values.update(places)
    files = {"tasks.py": SPANS.format(**values)}
    if policy:
        files["retrylint.toml"] = policy
    write_project(tmp_path, files)
    config = discover_config(tmp_path)
    loaded = load_policy(config, known_rules=RULES, known_frameworks=FRAMEWORKS, cwd=tmp_path)
    return engine.run([tmp_path], loaded, workers=1, ignore=ignore)


def _rules(report: engine.Report) -> list[str]:
    return sorted(f.rule for f in report.findings)


def test_unsuppressed_spans(tmp_path: Path) -> None:
    assert _rules(_spans(tmp_path)) == ["RL101", "RL102"]


@pytest.mark.parametrize("place", ["inside", "closing"])
def test_suppression_anywhere_in_a_multi_line_decorator(tmp_path: Path, place: str) -> None:
    comment = "# retrylint: ignore[RL101] polls until it answers"
    report = (
        _spans(tmp_path, inside=comment) if place == "inside" else _spans(tmp_path, closing=comment)
    )
    assert _rules(report) == ["RL102"]
    assert report.suppressed == 1


def test_suppression_on_the_line_the_message_cites(tmp_path: Path) -> None:
    """RL102 cites `inherited at tasks.py:9`, the base class attribute; a comment there works."""
    (rl102,) = [f for f in _spans(tmp_path).findings if f.rule == "RL102"]
    assert "tasks.py:9" in rl102.message
    report = _spans(tmp_path, cited="# retrylint: ignore[RL102] the bank is slow (PAY-77)")
    assert _rules(report) == ["RL101"]


def test_unused_suppression_says_where_it_would_work(tmp_path: Path) -> None:
    report = _spans(tmp_path, stale="# retrylint: ignore[RL101] stale")
    (rl001,) = [f for f in report.findings if f.rule == "RL001"]
    assert rl001.location.line == 26
    assert rl001.message == (
        "`ignore[RL101]` silences nothing here: the RL101 finding of `tasks.forever` at "
        "tasks.py:22 accepts a suppression on lines 16-22"
    )
    assert rl001.fix == "Move the comment to one of those lines, or remove RL101 from it."


def test_unused_suppression_with_nothing_left_to_silence(tmp_path: Path) -> None:
    report = _spans(
        tmp_path,
        inside="# retrylint: ignore[RL101] polls until it answers",
        stale="# retrylint: ignore[RL101] stale",
    )
    (rl001,) = [f for f in report.findings if f.rule == "RL001"]
    assert rl001.message == (
        "`ignore[RL101]` silences nothing: no RL101 finding remains in this file"
    )


@pytest.mark.parametrize(
    ("policy", "ignore"),
    [("", ("RL101",)), ("", ("RL1",)), ("[rules]\nRL101 = 'off'\n", ())],
)
def test_no_unused_suppression_for_a_rule_turned_off(
    tmp_path: Path, policy: str, ignore: tuple[str, ...]
) -> None:
    report = _spans(tmp_path, policy, ignore, stale="# retrylint: ignore[RL101] stale")
    assert _rules(report) == ([] if ignore == ("RL1",) else ["RL102"])


def test_a_comment_for_one_task_does_not_reach_its_neighbour(tmp_path: Path) -> None:
    """The line above `fine`'s decorator is not in `forever`'s span nor the line above it."""
    report = _spans(tmp_path, stale="# retrylint: ignore[RL101] meant for forever")
    assert _rules(report) == ["RL001", "RL101", "RL102"]
