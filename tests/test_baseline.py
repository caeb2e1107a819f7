"""Baselines and finding identity (CONTRACTS §7), through the command line.

A small project in tmp_path has findings at definitions and at enqueue sites in two functions;
each test edits it the way a user would (moves code, reformats, renames, fixes, adds) and checks
what `check --baseline` reports. Identity is also what SARIF fingerprints hash, so the same edits
must leave those unchanged.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import pytest
from typer.testing import CliRunner, Result

from retrylint.baseline import DEFAULT_FILE
from retrylint.cli import app
from retrylint.report.sarif_report import FINGERPRINT_KEY
from tests.conftest import FIXTURES, analyze, write_project

TASKS = """
    import dramatiq
    from celery import shared_task


    @shared_task(autoretry_for=(IOError,), max_retries=None)
    def sync_accounts():
        pass


    @dramatiq.actor(max_retries=3)
    def plain():
        pass


    def schedule():
        plain.send_with_options(max_retries=None)
        plain.send_with_options(max_retries=None)


    def nightly():
        plain.send_with_options(max_retries=None)
"""
# The same code after a formatter and an editor went through it: lines moved, comments added,
# the decorator and the calls split across lines. No finding is new.
TASKS_MOVED = """
    # Tasks of the accounts service.
    # (a header that pushes everything down)

    import dramatiq
    from celery import shared_task

    RETRY_ON = (IOError,)


    @shared_task(
        autoretry_for=(IOError,),
        max_retries=None,
    )
    def sync_accounts():
        # Still unbounded: tracked in the baseline.
        pass


    def nightly():
        plain.send_with_options(
            max_retries=None,
        )


    @dramatiq.actor(max_retries=3)
    def plain():
        pass


    def schedule():

        plain.send_with_options(max_retries=None)

        plain.send_with_options(
            max_retries=None
        )
"""


def _project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tasks: str = TASKS) -> Path:
    write_project(tmp_path, {"app/__init__.py": "", "app/tasks.py": tasks})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _edit(root: Path, tasks: str) -> None:
    write_project(root, {"app/tasks.py": tasks})


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, ["check", *args])


def _json(*args: str) -> dict[str, Any]:
    result = _run(*args, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    document: dict[str, Any] = json.loads(result.stdout)
    _validate(document)
    return document


def _schema() -> dict[str, Any]:
    text = (files("retrylint.report") / "schemas" / "check.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _validate(document: object) -> None:
    jsonschema.Draft202012Validator(_schema()).validate(document)


def _rules(document: dict[str, Any]) -> list[tuple[str, str | None, int]]:
    return [(f["rule"], f["task"], f["line"]) for f in document["findings"]]


def _write(*args: str) -> Result:
    result = _run(*args, "--write-baseline")
    assert result.exit_code == 0, result.output
    return result


def test_write_then_check_reports_nothing_and_exits_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path, monkeypatch)
    assert _run().exit_code == 1
    written = _write()
    assert written.stderr == f"wrote {DEFAULT_FILE}: 6 finding(s) as 5 entries\n"
    assert (root / DEFAULT_FILE).is_file()
    result = _run("--baseline", DEFAULT_FILE)
    assert result.exit_code == 0, result.output
    assert "All checks passed" in result.stdout
    assert f"Baseline {DEFAULT_FILE}: 6 findings absorbed." in result.stdout
    document = _json("--baseline", DEFAULT_FILE)
    assert document["findings"] == []
    assert document["summary"]["by_severity"] == {"error": 0, "warning": 0, "note": 0}
    assert document["summary"]["baseline"] == {"file": DEFAULT_FILE, "absorbed": 6, "stale": []}


def test_identity_survives_moved_lines_and_reformatting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path, monkeypatch)
    before = _json()
    _write()
    _edit(root, TASKS_MOVED)
    after = _json()
    assert [line for _, _, line in _rules(after)] != [line for _, _, line in _rules(before)]
    assert sorted(r for r, _, _ in _rules(after)) == sorted(r for r, _, _ in _rules(before))
    document = _json("--baseline", DEFAULT_FILE)
    assert document["findings"] == []
    assert document["summary"]["baseline"]["stale"] == []
    assert _run("--baseline", DEFAULT_FILE).exit_code == 0


def test_sarif_fingerprints_survive_moved_lines_and_reformatting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path, monkeypatch)

    def prints() -> list[str]:
        sarif = json.loads(_run("--format", "sarif").stdout)
        return sorted(
            r["partialFingerprints"][FINGERPRINT_KEY] for r in sarif["runs"][0]["results"]
        )

    before = prints()
    assert len(set(before)) == len(before), "alike findings differ by occurrence index"
    _edit(root, TASKS_MOVED)
    assert prints() == before


def test_baselined_findings_stay_in_sarif_as_external_suppressions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(tmp_path, monkeypatch)
    plain = json.loads(_run("--format", "sarif").stdout)["runs"][0]["results"]
    _write()
    results = json.loads(_run("--baseline", DEFAULT_FILE, "--format", "sarif").stdout)
    baselined = results["runs"][0]["results"]
    assert [r["suppressions"] for r in baselined] == [
        [{"kind": "external", "justification": f"in the baseline {DEFAULT_FILE}"}]
    ] * len(plain)
    key = FINGERPRINT_KEY
    assert sorted(r["partialFingerprints"][key] for r in baselined) == sorted(
        r["partialFingerprints"][key] for r in plain
    )


def test_count_absorbs_that_many_and_reports_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path, monkeypatch)
    _write()
    entries = json.loads((root / DEFAULT_FILE).read_text("utf-8"))["entries"]
    twice = [e for e in entries if e["count"] == 2]
    assert [(e["rule"], e["task"], e["site"], e["scope"]) for e in twice] == [
        ("RL101", "plain", "enqueue", "schedule")
    ]
    call = "        plain.send_with_options(max_retries=None)\n"
    _edit(root, TASKS.replace(call * 2, call * 3))
    document = _json("--baseline", DEFAULT_FILE)
    assert _rules(document) == [("RL101", "plain", 18)]
    assert document["summary"]["baseline"]["absorbed"] == 6
    assert _run("--baseline", DEFAULT_FILE).exit_code == 1


def test_same_task_enqueued_in_another_function_is_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path, monkeypatch)
    _write()
    hourly = "\n\n    def hourly():\n        plain.send_with_options(max_retries=None)\n"
    _edit(root, TASKS + hourly)
    document = _json("--baseline", DEFAULT_FILE)
    assert _rules(document) == [("RL101", "plain", 25)]


def test_fixed_findings_leave_stale_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path, monkeypatch)
    _write()
    _edit(root, TASKS.replace("    plain.send_with_options(max_retries=None)\n", "", 1))
    document = _json("--baseline", DEFAULT_FILE)
    assert document["findings"] == []
    stale = document["summary"]["baseline"]["stale"]
    assert [(e["rule"], e["task"], e["scope"], e["count"]) for e in stale] == [
        ("RL101", "plain", "schedule", 1)
    ]
    text = _run("--baseline", DEFAULT_FILE).stdout
    assert "Stale entries (1 finding no longer found)" in text
    assert "  RL101 dramatiq `plain` enqueued in `schedule`\n" in text
    # Rewriting shrinks the file to what remains.
    _write()
    assert _json("--baseline", DEFAULT_FILE)["summary"]["baseline"]["stale"] == []


def test_renamed_task_is_new_and_its_old_entries_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path, monkeypatch)
    _write()
    _edit(root, TASKS.replace("def sync_accounts", "def sync_users"))
    document = _json("--baseline", DEFAULT_FILE)
    assert {(rule, task) for rule, task, _ in _rules(document)} == {
        ("RL101", "app.tasks.sync_users"),
        ("RL201", "app.tasks.sync_users"),
        ("RL202", "app.tasks.sync_users"),
    }
    stale = document["summary"]["baseline"]["stale"]
    assert sorted((e["rule"], e["task"]) for e in stale) == [
        ("RL101", "app.tasks.sync_accounts"),
        ("RL201", "app.tasks.sync_accounts"),
        ("RL202", "app.tasks.sync_accounts"),
    ]
    assert _run("--baseline", DEFAULT_FILE).exit_code == 1


def test_a_partial_run_cannot_tell_stale_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path, monkeypatch)
    _write()
    write_project(root, {"app/other.py": ""})
    document = _json("app/other.py", "--baseline", DEFAULT_FILE)
    assert document["summary"]["baseline"] == {"file": DEFAULT_FILE, "absorbed": 0, "stale": None}
    assert (
        "stale entries are listed when PATHS cover"
        in _run("app/other.py", "--baseline", DEFAULT_FILE).stdout
    )


def test_writing_from_a_partial_run_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(tmp_path, monkeypatch)
    result = _run("app/tasks.py", "--write-baseline")
    assert result.exit_code == 0
    assert result.stderr.splitlines()[1] == (
        f"{DEFAULT_FILE}: written from a run that did not cover the project root; findings "
        "outside PATHS are not in it"
    )


def test_entries_of_rules_not_run_are_not_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(tmp_path, monkeypatch)
    _write()
    document = _json("--baseline", DEFAULT_FILE, "--select", "RL2")
    assert document["summary"]["baseline"] == {"file": DEFAULT_FILE, "absorbed": 2, "stale": []}


def test_write_is_sorted_deterministic_and_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path, monkeypatch)
    _write()
    first = (root / DEFAULT_FILE).read_bytes()
    _write(str(root))  # an absolute PATH gives the same file
    assert (root / DEFAULT_FILE).read_bytes() == first
    _edit(root, TASKS_MOVED)
    _write()
    assert (root / DEFAULT_FILE).read_bytes() == first, "moving code changes no byte"
    document = json.loads(first)
    assert list(document) == ["schema_version", "entries"]
    assert document["schema_version"] == 1
    keys = [json.dumps([e[k] for k in e if k != "count"]) for e in document["entries"]]
    assert keys == sorted(keys)
    schema = _schema()
    entry = {"$defs": schema["$defs"], "$ref": "#/$defs/baseline_entry"}
    for item in document["entries"]:
        jsonschema.Draft202012Validator(entry).validate(item)
    assert not list(root.glob(".*.tmp")), "the temporary file was renamed into place"


def test_write_baseline_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--write-baseline` takes an optional FILE: bare at the end or before another option."""
    root = _project(tmp_path, monkeypatch)
    result = _run("--write-baseline", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["baseline"]["absorbed"] == 6
    assert (root / DEFAULT_FILE).is_file()
    assert _run("app", "--write-baseline", "custom.json").exit_code == 0
    assert (root / "custom.json").read_bytes() == (root / DEFAULT_FILE).read_bytes()
    assert _run("--write-baseline=other.json").exit_code == 0
    assert (root / "other.json").is_file()
    assert _run("--baseline", "ci.json", "--write-baseline").exit_code == 0
    assert (root / "ci.json").read_bytes() == (root / DEFAULT_FILE).read_bytes()


def test_write_baseline_never_overwrites_a_source_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path, monkeypatch)
    result = _run("--write-baseline", "app/tasks.py")
    assert result.exit_code == 2
    assert result.stderr == (
        "app/tasks.py: exists and is not a .json baseline; name a .json file, or put "
        "--write-baseline after the paths\n"
    )
    assert "def sync_accounts" in (root / "app/tasks.py").read_text("utf-8")


def test_config_baseline_key_applies_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`baseline` in the config is relative to the project root, whatever the current folder."""
    root = _project(tmp_path, monkeypatch)
    write_project(root, {"retrylint.toml": 'baseline = "ci/retrylint-baseline.json"\n'})
    (root / "ci").mkdir()
    monkeypatch.chdir(root / "app")
    missing = _run(str(root))
    assert missing.exit_code == 2
    assert missing.stderr == (
        f"{(root / 'ci/retrylint-baseline.json').as_posix()}: no such baseline file; "
        "write a new one with `retrylint check --write-baseline`\n"
    )
    assert _run(str(root), "--write-baseline").exit_code == 0
    assert (root / "ci/retrylint-baseline.json").is_file()
    assert _run(str(root)).exit_code == 0
    assert _run(str(root), "--no-baseline").exit_code == 1
    both = _run(str(root), "--no-baseline", "--baseline", "x.json")
    assert both.exit_code == 2
    assert both.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{ not json", f"{DEFAULT_FILE}:1:3: not valid JSON (Expecting property name enclosed"),
        ("[]", f"{DEFAULT_FILE}: not a retrylint baseline (no `entries`)"),
        ('{"schema_version": 9, "entries": []}', f"{DEFAULT_FILE}: schema_version 9 is not 1"),
        ('{"schema_version": 1, "entries": {}}', f"{DEFAULT_FILE}: `entries` must be a list"),
        (
            '{"schema_version": 1, "entries": [{"rule": "RL101"}]}',
            f"{DEFAULT_FILE}: entry 1: `count` must be a whole number ≥ 1",
        ),
        (
            '{"schema_version": 1, "entries": [{"rule": "RL101", "count": 1, "line": 3}]}',
            f'{DEFAULT_FILE}: entry 1: unknown key "line"',
        ),
        (
            '{"schema_version": 1, "entries": [{"rule": "RL101", "count": 1, "task": 7}]}',
            f"{DEFAULT_FILE}: entry 1: `task` must be a string or null",
        ),
        (None, f"{DEFAULT_FILE}: no such baseline file"),
    ],
    ids=["json", "not-object", "version", "entries", "count", "unknown-key", "type", "missing"],
)
def test_bad_baseline_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | None, message: str
) -> None:
    root = _project(tmp_path, monkeypatch)
    if content is not None:
        (root / DEFAULT_FILE).write_text(content, encoding="utf-8")
    result = _run("--baseline", DEFAULT_FILE)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1
    assert "; " in result.stderr


def test_hand_edited_baseline_with_missing_keys_and_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys left out read as null; an identity listed twice (two merged branches) adds up."""
    root = _project(tmp_path, monkeypatch)
    entry = {"rule": "RL101", "framework": "dramatiq", "site": "enqueue", "task": "plain"}
    entries = [
        {**entry, "scope": "schedule", "count": 1},
        {**entry, "scope": "schedule", "count": 1},
    ]
    (root / DEFAULT_FILE).write_text(json.dumps({"schema_version": 1, "entries": entries}))
    document = _json("--baseline", DEFAULT_FILE)
    assert document["summary"]["baseline"]["absorbed"] == 2
    assert ("RL101", "plain", 21) in _rules(document)


def test_enqueue_rows_carry_their_enclosing_function() -> None:
    python = {
        (r.name, r.location.line): r.scope
        for r in analyze(FIXTURES / "temporal").rows
        if r.site == "enqueue"
    }
    assert python[("charge", 16)] == "OrderWorkflow.run"
    assert python[(None, 35)] == "OrderWorkflow.call"
    go = {
        (r.name, r.location.path): r.scope
        for r in analyze(FIXTURES / "asynq").rows
        if r.site == "enqueue"
    }
    assert go[("email:deliver", "producer/main.go")] == "main"
    assert go[("report:yearly", "producer/schedule.go")] == "provider.GetConfigs"
    assert go[("newsletter:send", "tasks/email.go")] == "NewUnusedTask"
    definitions = analyze(FIXTURES / "temporal").rows
    assert all(r.scope is None for r in definitions if r.site == "definition")
