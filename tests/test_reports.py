"""The renderers: JSON and SARIF against their schemas, GitHub escaping, rich escaping, and bytes.

Reports are built by hand so every corner (undecided names, unbounded windows, findings with no
task, user text full of `[`, `|`, `%`, `:` and newlines) is present without scanning anything.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import pytest
from rich.console import Console

from retrylint.config.policy import Policy, load_policy
from retrylint.durations import format_duration
from retrylint.engine import Report
from retrylint.frameworks import FRAMEWORKS
from retrylint.model import (
    Assignment,
    Category,
    EffectivePolicy,
    Finding,
    Location,
    Provenance,
    Undecided,
)
from retrylint.report.github_report import escape_data, escape_property, render_github
from retrylint.report.json_report import render_check, render_inventory
from retrylint.report.sarif_report import FINGERPRINT_KEY, render_sarif
from retrylint.report.text_report import (
    explain_task,
    render_check_text,
    render_inventory_markdown,
    render_inventory_table,
)
from retrylint.rules import RULES
from retrylint.scan.files import Skipped

# `../shared/data/` next to the checkout; a git worktree (`<repo>/../wt/<branch>`) finds it
# further up, so every ancestor is tried.
SARIF_SCHEMA = next(
    (
        found
        for parent in Path(__file__).resolve().parents
        if (found := parent / "shared" / "data" / "sarif-schema-2.1.0.json").is_file()
    ),
    Path(__file__).parents[2] / "shared" / "data" / "sarif-schema-2.1.0.json",
)
TASKS = "app/tasks.py"


def _explicit(line: int, note: str = "") -> Provenance:
    return Provenance("explicit", Location(TASKS, line, 5), note)


def _sources(**overrides: Provenance) -> dict[str, Provenance]:
    default = Provenance("default", None, "Task.max_retries")
    base = dict.fromkeys(("max_retries", "backoff", "jitter", "delays", "window"), default)
    return {**base, **overrides}


SEND_EMAIL = EffectivePolicy(
    name="app.tasks.send_email",
    name_expression=None,
    framework="celery",
    site="definition",
    location=Location(TASKS, 12, 1),
    retry_trigger="automatic",
    max_retries=3,
    backoff="exponential",
    jitter=True,
    delays_seconds=(1.0, 2.0, 4.0, 0.5),
    delays_truncated=False,
    window_seconds=7.5,
    sources=_sources(backoff=_explicit(11, "retry_backoff=True"), jitter=_explicit(11)),
    final_failure="nowhere",
    framework_version="5.3",
    hints=(("jitter", "Celery jitters only with retry_backoff"),),
)
DYNAMIC = EffectivePolicy(
    name=None,
    name_expression="f'{PREFIX}.sync'",
    framework="celery",
    site="definition",
    location=Location(TASKS, 30, 1),
    retry_trigger="undecided",
    max_retries="undecided",
    backoff="undecided",
    jitter="undecided",
    delays_seconds=None,
    delays_truncated=False,
    window_seconds="undecided",
    sources=_sources(max_retries=Provenance("undecided", Location(TASKS, 29, 40))),
    final_failure="on_failure at app/tasks.py:35",
    undecided=(Undecided("max_retries", "settings.RETRIES[queue]", Location(TASKS, 29, 40)),),
)
POLLER = EffectivePolicy(
    name="app.tasks.poll|feed",
    name_expression=None,
    framework="celery",
    site="definition",
    location=Location(TASKS, 50, 1),
    retry_trigger="manual",
    max_retries="unbounded",
    backoff="fixed",
    jitter=False,
    delays_seconds=None,
    delays_truncated=False,
    window_seconds="unbounded",
    sources=_sources(max_retries=_explicit(49, "max_retries=None")),
    final_failure="nowhere",
)
CLEANUP = EffectivePolicy(
    name="app.tasks.cleanup",
    name_expression=None,
    framework="celery",
    site="definition",
    location=Location(TASKS, 70, 1),
    retry_trigger="none",
    max_retries=0,
    backoff=None,
    jitter=None,
    delays_seconds=(),
    delays_truncated=False,
    window_seconds=0.0,
    sources=_sources(),
    final_failure="nowhere",
)
WEEKLY = EffectivePolicy(
    name="app.tasks.weekly",
    name_expression=None,
    framework="celery",
    site="definition",
    location=Location(TASKS, 90, 1),
    retry_trigger="automatic",
    max_retries=25,
    backoff="exponential",
    jitter=True,
    delays_seconds=tuple(float(2**n) for n in range(25)),
    delays_truncated=True,
    window_seconds=1_764_000.0,
    sources=_sources(),
    final_failure="dead-letter queue default.XQ",
)


def _finding(rule: str, line: int, message: str, **fields: Any) -> Finding:
    meta = RULES[rule].meta
    location = fields.pop("location", Location(TASKS, line, 5))
    return Finding(meta.code, meta.name, meta.severity, location, message, **fields)


FINDINGS = (
    _finding(
        "RL000",
        1,
        "cannot analyze this file: bracket depth > 500",
        location=Location("app/deep nest.py", 1, 1),
    ),
    _finding(
        "RL002",
        29,
        "cannot decide `max_retries` of task named by `f'{PREFIX}.sync'`: "
        "`settings.RETRIES[queue]` is not a constant retrylint can evaluate",
        fix='Add "settings.RETRIES[queue]" = <value> under [assume] in the policy file.',
        task=None,
        framework="celery",
        site="definition",
        expression="settings.RETRIES[queue]",
    ),
    _finding(
        "RL101",
        49,
        "`app.tasks.poll|feed` retries on [exception] forever: max_retries=None, 100% sure",
        fix="Set max_retries, e.g. max_retries=5.",
        task="app.tasks.poll|feed",
        framework="celery",
        site="definition",
        location=Location(TASKS, 49, 5, 49, 30),
    ),
    _finding(
        "RL301",
        49,
        "autoretry_for=[Exception] retries bugs too,\nnot only outages",
        task="app.tasks.poll|feed",
        framework="celery",
        site="definition",
    ),
    _finding(
        "RL301",
        51,
        "autoretry_for=[BaseException] retries bugs too",
        task="app.tasks.poll|feed",
        framework="celery",
        site="definition",
    ),
    _finding(
        "RL402",
        7,
        "[tasks] glob `legacy.*` (category `batch`) matches no task found in the code",
        fix="Remove the entry, or rename it to the task's current name.",
        inventory_key="legacy.*",
        location=Location("retrylint.toml", 7, 1),
    ),
)


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    return load_policy(None, known_rules=RULES, known_frameworks=FRAMEWORKS, cwd=tmp_path)


@pytest.fixture
def report(policy: Policy) -> Report:
    batch = Category("batch", max_retries=30)
    rows = (SEND_EMAIL, DYNAMIC, POLLER, CLEANUP, WEEKLY)
    assignments = (
        policy.assign(SEND_EMAIL.name),
        None,
        Assignment(batch, "exact", "app.tasks.poll|feed", owner="team-a", note="pipe | note"),
        policy.assign(CLEANUP.name),
        Assignment(batch, "glob", "app.tasks.*"),
    )
    return Report(rows, assignments, FINDINGS, 2, 4, 1, policy)


@pytest.fixture
def empty(policy: Policy) -> Report:
    return Report((), (), (), 0, 0, 0, policy)


def _schema(name: str) -> dict[str, Any]:
    text = (resources.files("retrylint.report") / "schemas" / name).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def _validate(document: object, schema_name: str) -> None:
    jsonschema.Draft202012Validator(_schema(schema_name)).validate(document)


def _text(render: Callable[[Report, Console], object], report: Report) -> str:
    buffer = io.StringIO()
    render(report, Console(file=buffer, width=200, color_system=None))
    return buffer.getvalue()


# --- JSON -------------------------------------------------------------------------------------


def test_check_json_matches_schema_and_contract(report: Report) -> None:
    document = json.loads(render_check(report))
    _validate(document, "check.schema.json")
    assert [f["rule"] for f in document["findings"]] == [f.rule for f in FINDINGS]
    assert document["summary"] == {
        "by_severity": {"error": 1, "warning": 4, "note": 1},
        "by_rule": {"RL000": 1, "RL002": 1, "RL101": 1, "RL301": 2, "RL402": 1},
        "suppressed": 2,
        "undecided": 1,
        "files_scanned": 4,
        "files_skipped": 1,
        "files_skipped_by_reason": {"test": 0, "gitignore": 0, "exclude": 0, "unparsable": 1},
        "folders_skipped_by_reason": {"gitignore": 0, "exclude": 0},
        "tasks": 5,
        "baseline": None,
        "diff": None,
    }
    rl101 = document["findings"][2]
    assert (rl101["end_line"], rl101["end_column"]) == (49, 30)
    rl402 = document["findings"][5]
    assert rl402["inventory_key"] == "legacy.*"
    assert rl402["task"] is None and rl402["end_line"] is None and rl402["fix"] is not None


def test_empty_check_keeps_every_key(empty: Report) -> None:
    document = json.loads(render_check(empty))
    _validate(document, "check.schema.json")
    assert document["summary"]["by_severity"] == {"error": 0, "warning": 0, "note": 0}
    assert document["summary"]["by_rule"] == {}


def test_inventory_json_matches_schema_and_contract(report: Report) -> None:
    document = json.loads(render_inventory(report))
    _validate(document, "inventory.schema.json")
    send, dynamic, poller, cleanup, weekly = document["tasks"]
    assert send["delays_seconds"] == [1, 2, 4, 0.5]
    assert send["window_seconds"] == 7.5
    assert send["category"] == "default" and send["category_source"] == "built-in"
    assert send["sources"] == {
        "max_retries": "default",
        "backoff": "explicit",
        "jitter": "explicit",
        "delays": "default",
        "window": "default",
    }
    assert send["framework_version"] == "5.3"
    assert dynamic["name"] is None and dynamic["category"] is None
    assert dynamic["undecided"] == [
        {"field": "max_retries", "expression": "settings.RETRIES[queue]", "path": TASKS, "line": 29}
    ]
    assert (poller["owner"], poller["note"], poller["category_source"]) == (
        "team-a",
        "pipe | note",
        "exact",
    )
    assert cleanup["window_seconds"] == 0 and cleanup["delays_seconds"] == []
    assert weekly["delays_truncated"] is True
    # Integral floats are written as integers, not `7.0`.
    assert ".0," not in render_inventory(report) and ".0\n" not in render_inventory(report)


def test_empty_inventory(empty: Report) -> None:
    assert json.loads(render_inventory(empty)) == {"schema_version": 1, "tasks": []}


@pytest.mark.parametrize(
    ("schema_name", "render", "mutate"),
    [
        ("check.schema.json", render_check, lambda d: d["findings"][0].update(url="x")),
        ("check.schema.json", render_check, lambda d: d["findings"][0].update(rule="E501")),
        ("check.schema.json", render_check, lambda d: d["findings"][0].update(path="/abs/a.py")),
        ("check.schema.json", render_check, lambda d: d["summary"]["by_severity"].pop("note")),
        ("inventory.schema.json", render_inventory, lambda d: d["tasks"][0].pop("owner")),
        ("inventory.schema.json", render_inventory, lambda d: d["tasks"][0].update(backoff="x")),
        (
            "inventory.schema.json",
            render_inventory,
            lambda d: d["tasks"][1].update(name_expression=None),
        ),
        (
            "inventory.schema.json",
            render_inventory,
            lambda d: d["tasks"][0]["sources"].update(delays="guess"),
        ),
    ],
    ids=[
        "extra-finding-key",
        "foreign-rule-code",
        "absolute-path",
        "missing-severity-count",
        "missing-row-key",
        "unknown-backoff",
        "null-name-without-expression",
        "unknown-source",
    ],
)
def test_schemas_are_strict(
    report: Report,
    schema_name: str,
    render: Callable[[Report], str],
    mutate: Callable[[dict[str, Any]], object],
) -> None:
    document = json.loads(render(report))
    mutate(document)
    with pytest.raises(jsonschema.ValidationError):
        _validate(document, schema_name)


# --- SARIF ------------------------------------------------------------------------------------


def _sarif(report: Report) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(render_sarif(report, "0.1.0"))
    return document


def test_sarif_matches_official_schema(report: Report) -> None:
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"SARIF 2.1.0 schema not found at {SARIF_SCHEMA} (../shared/data/)")
    schema = json.loads(SARIF_SCHEMA.read_text("utf-8"))
    jsonschema.Draft7Validator(schema).validate(_sarif(report))


def test_sarif_rules_and_results(report: Report) -> None:
    run = _sarif(report)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(RULES)
    rl101 = next(r for r in rules if r["id"] == "RL101")
    assert rl101["helpUri"] == (
        "https://github.com/retrylint/retrylint/blob/main/rules/RL101-unbounded-retries.md"
    )
    assert rl101["defaultConfiguration"] == {"level": "error"}
    assert run["automationDetails"] == {"id": "retrylint/"}
    assert run["columnKind"] == "unicodeCodePoints"
    results = run["results"]
    assert [r["ruleId"] for r in results] == [f.rule for f in FINDINGS]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert results[1]["level"] == "note"
    assert results[1]["message"]["text"].endswith(
        'evaluate. Fix: Add "settings.RETRIES[queue]" = <value> under [assume] in the policy file.'
    )
    first = results[0]["locations"][0]["physicalLocation"]
    assert first["artifactLocation"]["uri"] == "app/deep%20nest.py"
    assert first["region"] == {"startLine": 1, "startColumn": 1}
    region = results[2]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 49, "startColumn": 5, "endLine": 49, "endColumn": 30}


def test_sarif_fingerprints_follow_identity_not_lines(report: Report) -> None:
    prints = [
        r["partialFingerprints"][FINGERPRINT_KEY] for r in _sarif(report)["runs"][0]["results"]
    ]
    assert len(set(prints)) == len(prints), "two RL301 on one task differ by occurrence index"
    moved = tuple(
        replace(f, location=Location(f.location.path, f.location.line + 40, 1)) for f in FINDINGS
    )
    moved_report = Report(report.rows, report.assignments, moved, 0, 4, 1, report.policy)
    moved_prints = [
        r["partialFingerprints"][FINGERPRINT_KEY]
        for r in _sarif(moved_report)["runs"][0]["results"]
    ]
    assert moved_prints == prints


def test_sarif_has_no_absolute_paths(report: Report, tmp_path: Path) -> None:
    text = render_sarif(report, "0.1.0")
    assert str(tmp_path) not in text
    assert '"uri": "/' not in text


# --- GitHub annotations -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "data", "prop"),
    [
        ("plain", "plain", "plain"),
        ("100%", "100%25", "100%25"),
        ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
        ("a:b,c", "a:b,c", "a%3Ab%2Cc"),
        ("%0A", "%250A", "%250A"),
    ],
    ids=["plain", "percent", "crlf", "colon-comma", "escape-not-reread"],
)
def test_github_escaping(text: str, data: str, prop: str) -> None:
    assert escape_data(text) == data
    assert escape_property(text) == prop


def test_github_annotations(report: Report) -> None:
    lines = render_github(report).splitlines()
    assert len(lines) == len(FINDINGS)
    assert lines[0] == (
        "::warning file=app/deep nest.py,line=1,col=1,title=RL000 unparsable-file::"
        "cannot analyze this file: bracket depth > 500"
    )
    assert lines[1].startswith("::notice file=app/tasks.py,line=29,col=5,title=RL002 ")
    assert lines[2].startswith(
        "::error file=app/tasks.py,line=49,endLine=49,col=5,endColumn=30,"
        "title=RL101 unbounded-retries::"
    )
    assert "100%25 sure. Fix: Set max_retries" in lines[2]
    assert lines[3].endswith("::autoretry_for=[Exception] retries bugs too,%0Anot only outages")


def test_github_empty(empty: Report) -> None:
    assert render_github(empty) == ""


# --- text -------------------------------------------------------------------------------------


def test_check_text_keeps_brackets(report: Report) -> None:
    out = _text(render_check_text, report)
    assert "\napp/tasks.py:\n" in out
    assert "\n  49:5 RL101 [error] `app.tasks.poll|feed` retries on [exception] " in out
    assert (
        '      fix: Add "settings.RETRIES[queue]" = <value> under [assume] in the policy file.'
        in out
    )
    assert "retrylint.toml:\n  7:1 RL402 [warning] [tasks] glob `legacy.*`" in out
    assert out.rstrip().endswith(
        "Found 1 error, 4 warnings, 1 note (1 undecided) in 5 tasks; 2 suppressed.\n"
        "Skipped 1 file (1 unparsable)."
    )


def test_check_text_clean(empty: Report) -> None:
    clean = Report((SEND_EMAIL,), (None,), (), 0, 3, 0, empty.policy)
    assert _text(render_check_text, clean) == "All checks passed: 1 task, 3 files.\n"


def test_skipped_files_and_folders_are_counted_by_reason(empty: Report) -> None:
    skipped = Skipped(files={"test": 200, "gitignore": 9, "exclude": 1}, folders={"gitignore": 4})
    report = replace(empty, files_scanned=12, files_skipped=213, skipped=skipped)
    summary = json.loads(render_check(report))["summary"]
    _validate(json.loads(render_check(report)), "check.schema.json")
    assert summary["files_skipped_by_reason"] == {
        "test": 200,
        "gitignore": 9,
        "exclude": 1,
        "unparsable": 3,
    }
    assert summary["folders_skipped_by_reason"] == {"gitignore": 4, "exclude": 0}
    assert _text(render_check_text, report) == (
        "No tasks found: 12 files scanned.\n"
        "Skipped 213 files (200 test files, 9 ignored by .gitignore, 1 excluded, 3 unparsable) "
        "and 4 folders (4 ignored by .gitignore).\n"
    )


def test_skipped_line_names_only_what_happened(empty: Report) -> None:
    one_folder = replace(empty, skipped=Skipped(folders={"exclude": 1}))
    assert _text(render_check_text, one_folder).endswith("\nSkipped 1 folder (1 excluded).\n")
    one_test = replace(empty, files_skipped=1, skipped=Skipped(files={"test": 1}))
    assert _text(render_check_text, one_test).endswith("\nSkipped 1 file (1 test file).\n")


def test_check_text_without_tasks_never_passes(empty: Report) -> None:
    """Nothing checked is not a pass, with or without findings (RL004 usually explains why)."""
    assert _text(render_check_text, replace(empty, files_scanned=3)) == (
        "No tasks found: 3 files scanned.\n"
    )
    suppressed = replace(empty, files_scanned=1, suppressed=2)
    assert _text(render_check_text, suppressed) == "No tasks found: 1 file scanned; 2 suppressed.\n"
    warning = _finding("RL004", 1, "celery is imported by a.py", location=Location("a.py", 1, 1))
    out = _text(render_check_text, replace(empty, findings=(warning,), files_scanned=2))
    assert "All checks passed" not in out
    assert out.endswith(
        "Found 0 errors, 1 warning, 0 notes (0 undecided); no tasks found, 2 files scanned.\n"
    )


def test_check_text_trailing_backslash_does_not_escape_markup(policy: Policy) -> None:
    finding = _finding("RL000", 1, "cannot read C:\\", location=Location("w.py", 1, 1))
    out = _text(render_check_text, Report((), (), (finding,), 0, 0, 1, policy))
    assert "w.py:\n  1:1 RL000 [warning] cannot read C:\\\n" in out


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.5, "0.5s"),
        (7, "7s"),
        (59.4, "59.4s"),
        (59.6, "1m"),
        (90, "1m 30s"),
        (540, "9m"),
        (3599.9, "1h"),
        (5400, "1h 30m"),
        (3661, "1h 1m 1s"),
        (86400 * 20 + 3600 * 10 + 59, "20d 10h 1m"),
        (86400 * 26 + 3600 * 3 + 60 * 16 + 20, "26d 3h 16m"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    """The one duration format of check messages, `--explain` and the inventory table."""
    assert format_duration(seconds) == text


def test_inventory_table(report: Report) -> None:
    out = _text(render_inventory_table, report)
    header = out.splitlines()[0]
    for column in ("task", "framework", "site", "location", "retries", "window", "final failure"):
        assert column in header
    send = next(line for line in out.splitlines() if "send_email" in line)
    assert "app/tasks.py:12:1" in send and "exponential" in send and "7.5s" in send
    assert "yes" in send
    poller = next(line for line in out.splitlines() if "poll|feed" in line)
    assert poller.count("unbounded") == 2
    dynamic = next(line for line in out.splitlines() if "PREFIX" in line)
    assert "undecided f'{PREFIX}.sync'" in dynamic
    weekly = next(line for line in out.splitlines() if "weekly" in line)
    assert "20d 10h" in weekly


def test_inventory_table_empty(empty: Report) -> None:
    assert _text(render_inventory_table, replace(empty, files_scanned=3)) == (
        "No tasks found: 3 files scanned.\n"
    )


def test_inventory_markdown_empty(empty: Report) -> None:
    out = render_inventory_markdown(replace(empty, files_scanned=1))
    assert "\nNo tasks found: 1 file scanned.\n" in out
    assert "| task |" not in out


def test_inventory_json_empty(empty: Report) -> None:
    assert json.loads(render_inventory(empty)) == {"schema_version": 1, "tasks": []}


def test_inventory_table_styles_undecided_and_unbounded(report: Report) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=250, color_system="standard", force_terminal=True)
    render_inventory_table(report, console)
    out = buffer.getvalue()
    assert "\x1b[33mundecided" in out
    assert "\x1b[31munbounded" in out


def test_inventory_markdown(report: Report) -> None:
    out = render_inventory_markdown(report)
    lines = out.splitlines()
    assert lines[0] == "# retrylint inventory"
    assert lines[4] == (
        "| task | framework | site | location | category | trigger | retries | backoff | "
        "jitter | window | final failure |"
    )
    assert (
        "| `app.tasks.poll\\|feed` | celery | definition | `app/tasks.py:50:1` | batch | manual "
        "| **unbounded** | fixed | no | **unbounded** | nowhere |"
    ) in out
    assert "| *undecided* `f'{PREFIX}.sync'` |" in out
    assert "dead-letter queue default.XQ" in out
    undecided = out[out.index("## Undecided values") :]
    assert (
        "| *undecided* `f'{PREFIX}.sync'` | `max_retries` | `settings.RETRIES[queue]` | "
        "`app/tasks.py:29` |"
    ) in undecided
    assert out.endswith("|\n")
    # Every table row has as many cells as its header.
    for line in lines:
        if line.startswith("|"):
            assert line.replace("\\|", "").count("|") in (12, 5)


def test_inventory_markdown_code_span_with_backticks(policy: Policy) -> None:
    row = replace(CLEANUP, name=None, name_expression="`x`|y")
    out = render_inventory_markdown(Report((row,), (None,), (), 0, 1, 0, policy))
    assert "| *undecided* `` `x`\\|y `` |" in out
    assert "None: every value was decided." in out


def test_explain_task(report: Report) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, color_system=None)
    assert explain_task(report, "app.tasks.send_email", console)
    out = buffer.getvalue()
    assert out.startswith("app.tasks.send_email (celery definition at app/tasks.py:12:1)\n")
    assert "backoff" in out and "explicit (retry_backoff=True) at app/tasks.py:11" in out
    assert "default (Task.max_retries)" in out
    assert "1s, 2s, 4s, 0.5s" in out
    assert "built-in policy" in out
    # Hints are advice for findings; the explanation lists facts and their sources only.
    assert "hint" not in out


def test_explain_task_heading_wraps_to_the_width(report: Report) -> None:
    # A long task name and path made the heading one line past the width (a 68-character
    # name at a 50-character path, 100 columns); it wraps at spaces like every other line.
    buffer = io.StringIO()
    console = Console(file=buffer, width=40, color_system=None)
    assert explain_task(report, "app.tasks.send_email", console)
    lines = buffer.getvalue().splitlines()
    assert lines[:2] == ["app.tasks.send_email (celery definition", "  at app/tasks.py:12:1)"]


def test_explain_task_shows_brackets_and_owner(report: Report) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, color_system=None)
    assert explain_task(report, "app.tasks.poll|feed", console)
    out = buffer.getvalue()
    assert "exact [tasks] key 'app.tasks.poll|feed'" in out
    assert "team-a" in out and "pipe | note" in out


def test_explain_unknown_task(report: Report) -> None:
    buffer = io.StringIO()
    assert not explain_task(report, "nope", Console(file=buffer, width=200))
    assert buffer.getvalue() == ""


# --- determinism ------------------------------------------------------------------------------


def test_renders_are_byte_identical(report: Report) -> None:
    renders: list[Callable[[Report], str]] = [
        render_check,
        render_inventory,
        lambda r: render_sarif(r, "0.1.0"),
        render_github,
        render_inventory_markdown,
        lambda r: _text(render_check_text, r),
        lambda r: _text(render_inventory_table, r),
    ]
    for render in renders:
        assert render(report).encode() == render(report).encode()
