"""The command line: exit codes, stdout/stderr separation, every command and format (CONTRACTS §6).

Most tests run the typer app in-process with `typer.testing.CliRunner`, whose `Result` keeps
stdout and stderr apart (`result.stdout`, `result.stderr`; `result.output` is both mixed). A few
run `python -m retrylint` in a subprocess, where the separation and the exit code are the real
ones a CI script sees.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import pytest
from typer.testing import CliRunner, Result

from retrylint import engine
from retrylint.cli import app
from retrylint.rules import RULES
from tests.conftest import FIXTURES, REPO, text_findings, write_project

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

DEMO = FIXTURES / "demo"
CORE_CODES = (
    *("RL000", "RL002", "RL101", "RL102", "RL103", "RL104"),
    *("RL201", "RL202", "RL203", "RL205", "RL301", "RL401", "RL402"),
)
DEMO_TASKS = (
    "emails.newsletter",
    "emails.receipt",
    "emails.welcome",
    "shop.tasks.charge_card",
    "shop.tasks.notify_webhook",
    "shop.tasks.refund",
    "shop.tasks.refund_partial",
    "shop.tasks.reindex_search",
    "shop.tasks.sync_inventory",
    "shop.tasks.sync_prices",
)
# `path:line:col: ` at the start of a text finding line.
# A project whose only finding is RL002: everything else about the task meets the built-in policy.
ONLY_UNDECIDED = {
    "tasks.py": """
        from celery import shared_task
        from django.conf import settings

        @shared_task(
            autoretry_for=(ConnectionError,),
            retry_backoff=True,
            max_retries=settings.JOB_RETRIES,
        )
        def job():
            ...
    """,
}
GOOD_TASKS = """
    from celery import Celery

    app = Celery("jobs")


    @app.task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
    def send_email(address):
        ...


    @app.task(name="jobs.resize", autoretry_for=(TimeoutError,), retry_backoff=True)
    def resize(image_id):
        ...
"""


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No colour forced on rich and no debug tracebacks, whatever the developer's shell sets."""
    for name in ("RETRYLINT_DEBUG", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(REPO)


def cli(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


def codes_in(text: str) -> set[str]:
    return set(re.findall(r"\bRL\d{3}\b", text))


def text_codes(text: str) -> list[str]:
    """The rule code of every finding line of `check` text output."""
    return [rule for _, _, _, rule in text_findings(text)]


def schema(name: str) -> dict[str, Any]:
    text = (files("retrylint.report") / "schemas" / f"{name}.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def validate(document: object, name: str) -> None:
    spec = schema(name)
    validator = jsonschema.validators.validator_for(spec)
    validator.check_schema(spec)
    validator(spec).validate(document)


def one_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def python_module(*args: str, cwd: Path = REPO, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("RETRYLINT_DEBUG", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")
    }
    environment.update(PYTHONIOENCODING="utf-8", **env)
    return subprocess.run(
        [sys.executable, "-m", "retrylint", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


# --- check: exit codes and selection --------------------------------------------------------


def test_runner_keeps_stdout_and_stderr_apart() -> None:
    ok = cli("check", "fixtures/demo", "--format", "json")
    assert ok.stderr == ""
    json.loads(ok.stdout)
    bad = cli("check", "fixtures/demo", "--select", "RL9")
    assert bad.stdout == ""
    assert bad.stderr.strip()
    assert bad.output == bad.stderr


def test_demo_exits_1_and_shows_every_core_rule() -> None:
    result = cli("check", "fixtures/demo")
    assert result.exit_code == 1, result.output
    assert result.stderr == ""
    found = text_codes(result.stdout)
    assert set(CORE_CODES) <= set(found)
    *_, summary, skipped = result.stdout.rstrip().splitlines()
    assert summary.startswith("Found ")
    # shop/legacy_tasks.py is excluded by the demo's policy; shop/broken.py is RL000.
    assert skipped == "Skipped 2 files (1 excluded, 1 unparsable)."


def test_demo_relative_paths_in_text() -> None:
    """Relative to the current directory (the repository here), as ruff prints them."""
    result = cli("check", str(DEMO))
    paths = {path for path, _, _, _ in text_findings(result.stdout)}
    assert paths == {
        "fixtures/demo/retrylint.toml",
        "fixtures/demo/shop/broken.py",
        "fixtures/demo/shop/tasks.py",
    }


def test_exit_zero_turns_1_into_0() -> None:
    result = cli("check", "fixtures/demo", "--exit-zero")
    assert result.exit_code == 0
    assert set(CORE_CODES) <= set(text_codes(result.stdout))


def test_exit_zero_never_hides_2() -> None:
    result = cli("check", "fixtures/demo", "--exit-zero", "--select", "RL9")
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("select", "fail_on", "expected"),
    [
        # RL301 is the demo's only RL3 finding: a warning.
        ("RL3", "error", 0),
        ("RL3", "warning", 1),
        ("RL3", "note", 1),
        # RL103 is a note.
        ("RL103", "error", 0),
        ("RL103", "warning", 0),
        ("RL103", "note", 1),
        # RL101 is an error.
        ("RL101", "error", 1),
        ("RL101", "warning", 1),
        ("RL101", "note", 1),
    ],
)
def test_fail_on_threshold(select: str, fail_on: str, expected: int) -> None:
    result = cli("check", "fixtures/demo", "--select", select, "--fail-on", fail_on)
    assert result.exit_code == expected, result.output
    assert text_codes(result.stdout)  # the finding is reported whatever the exit code


def test_fail_on_default_is_warning() -> None:
    assert cli("check", "fixtures/demo", "--select", "RL3").exit_code == 1
    assert cli("check", "fixtures/demo", "--select", "RL103").exit_code == 0


@pytest.mark.parametrize("fail_on", ["error", "warning", "note"])
def test_rl002_never_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_on: str) -> None:
    write_project(tmp_path, ONLY_UNDECIDED)
    monkeypatch.chdir(tmp_path)
    result = cli("check", "--fail-on", fail_on, "--format", "json")
    document = json.loads(result.stdout)
    assert [f["rule"] for f in document["findings"]] == ["RL002"]
    assert document["findings"][0]["severity"] == "note"
    assert result.exit_code == 0


@pytest.mark.parametrize("severity", ["error", "off"])
def test_rl002_cannot_be_reseveritied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, severity: str
) -> None:
    config = f'[rules]\nRL002 = "{severity}"\n'
    write_project(tmp_path, {**ONLY_UNDECIDED, "retrylint.toml": config})
    monkeypatch.chdir(tmp_path)
    result = cli("check", "--fail-on", "note")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert one_line(result.stderr).startswith("retrylint.toml:2:1: RL002 ")


def test_select_prefix_only_that_band() -> None:
    result = cli("check", "fixtures/demo", "--select", "RL1")
    found = text_codes(result.stdout)
    assert set(found) == {"RL101", "RL102", "RL103", "RL104"}


def test_select_all() -> None:
    assert set(text_codes(cli("check", "fixtures/demo", "--select", "ALL").stdout)) >= set(
        CORE_CODES
    )


def test_ignore_repeated_prefixes() -> None:
    result = cli("check", "fixtures/demo", "--ignore", "RL0", "--ignore", "RL4")
    found = set(text_codes(result.stdout))
    assert found == set(CORE_CODES) - {"RL000", "RL002", "RL401", "RL402"}
    assert result.exit_code == 1


def test_select_and_ignore_combine() -> None:
    result = cli("check", "fixtures/demo", "--select", "RL2", "--ignore", "RL202")
    assert set(text_codes(result.stdout)) == {"RL201", "RL203", "RL205"}


def test_ignore_comma_separated_prefixes() -> None:
    result = cli("check", "fixtures/demo", "--ignore", "RL0,RL4")
    assert result.exit_code == 1, result.output
    found = set(text_codes(result.stdout))
    assert found == set(CORE_CODES) - {"RL000", "RL002", "RL401", "RL402"}


@pytest.mark.parametrize("flag", ["--select", "--ignore"])
def test_unknown_code_is_usage_error(flag: str) -> None:
    result = cli("check", "fixtures/demo", flag, "RL9")
    assert result.exit_code == 2
    assert result.stdout == ""
    line = one_line(result.stderr)
    assert line.startswith("retrylint: ")
    assert "RL9" in line


# --- check: formats ----------------------------------------------------------------------------


def test_json_validates_and_summary_matches() -> None:
    result = cli("check", "fixtures/demo", "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    validate(document, "check")
    findings = document["findings"]
    summary = document["summary"]
    assert {f["rule"] for f in findings} >= set(CORE_CODES)
    severities = Counter(f["severity"] for f in findings)
    assert summary["by_severity"] == {s: severities[s] for s in ("error", "warning", "note")}
    assert summary["by_rule"] == dict(Counter(f["rule"] for f in findings))
    assert summary["undecided"] == sum(f["rule"] == "RL002" for f in findings)
    assert summary["tasks"] == len(DEMO_TASKS)
    unparsable = sum(f["rule"] == "RL000" for f in findings)
    assert summary["files_skipped_by_reason"] == {
        "test": 0,
        "gitignore": 0,
        "exclude": 1,
        "unparsable": unparsable,
    }
    assert summary["files_skipped"] == unparsable + 1
    assert summary["suppressed"] == 0
    keys = [
        (f["path"], f["line"], f["column"], f["rule"], f["task"] or "", f["message"])
        for f in findings
    ]
    assert keys == sorted(keys)
    for finding in findings:
        assert not finding["path"].startswith("/")
        assert "\\" not in finding["path"]
        assert finding["name"] == RULES[finding["rule"]].meta.name
    rl402 = [f for f in findings if f["rule"] == "RL402"]
    assert [(f["path"], f["inventory_key"]) for f in rl402] == [
        ("fixtures/demo/retrylint.toml", "shop.tasks.removed_last_year")
    ]


def test_json_text_and_exit_code_agree() -> None:
    json_result = cli("check", "fixtures/demo", "--format", "json")
    text_result = cli("check", "fixtures/demo")
    findings = json.loads(json_result.stdout)["findings"]
    assert [f["rule"] for f in findings] == text_codes(text_result.stdout)
    assert json_result.exit_code == text_result.exit_code == 1


def test_sarif_output() -> None:
    result = cli("check", "fixtures/demo", "--format", "sarif")
    assert result.exit_code == 1
    assert result.stderr == ""
    document = json.loads(result.stdout)
    assert document["version"] == "2.1.0"
    (run,) = document["runs"]
    assert run["tool"]["driver"]["name"] == "retrylint"
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} == set(RULES)
    assert {r["ruleId"] for r in run["results"]} >= set(CORE_CODES)
    for sarif_result in run["results"]:
        (location,) = sarif_result["locations"]
        uri = location["physicalLocation"]["artifactLocation"]["uri"]
        assert not uri.startswith(("/", "file:"))
        assert sarif_result["level"] in ("error", "warning", "note")


def test_github_output() -> None:
    result = cli("check", "fixtures/demo", "--format", "github")
    assert result.exit_code == 1
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines
    assert all(re.match(r"^::(error|warning|notice) file=[^/]", line) for line in lines)
    assert codes_in(result.stdout) >= set(CORE_CODES)
    assert any(line.startswith("::notice ") and "title=RL002 " in line for line in lines)


def test_text_prints_brackets_from_scanned_code_literally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_project(
        tmp_path,
        {
            "tasks.py": """
                from celery import shared_task

                @shared_task(
                    name="jobs.[bold]send[/bold]",
                    autoretry_for=(ConnectionError,),
                    retry_backoff=True,
                    max_retries=50,
                )
                def send():
                    ...
            """,
        },
    )
    monkeypatch.chdir(tmp_path)
    check = cli("check")
    assert check.exit_code == 1, check.output
    assert "`jobs.[bold]send[/bold]` retries up to 50 times" in check.stdout
    table = cli("inventory")
    assert "jobs.[bold]send[/bold]" in table.stdout
    explained = cli("inventory", "--explain", "jobs.[bold]send[/bold]")
    assert explained.exit_code == 0, explained.output
    assert explained.stdout.startswith("jobs.[bold]send[/bold] (celery definition at tasks.py:")
    markdown = cli("inventory", "--format", "markdown")
    assert "`jobs.[bold]send[/bold]`" in markdown.stdout


# --- inventory ---------------------------------------------------------------------------------


def test_inventory_json_validates() -> None:
    result = cli("inventory", "fixtures/demo", "--format", "json")
    assert result.exit_code == 0
    assert result.stderr == ""
    document = json.loads(result.stdout)
    validate(document, "inventory")
    names = [row["name"] for row in document["tasks"]]
    assert names == list(DEMO_TASKS)
    keys = [(r["name"] or "", r["framework"], r["path"], r["line"]) for r in document["tasks"]]
    assert keys == sorted(keys)


def test_inventory_markdown_lists_every_task() -> None:
    result = cli("inventory", "fixtures/demo", "--format", "markdown")
    assert result.exit_code == 0
    assert result.stdout.startswith("# retrylint inventory\n")
    for name in DEMO_TASKS:
        assert f"`{name}`" in result.stdout
    assert "settings.SEARCH_RETRIES" in result.stdout  # the undecided values section


def test_inventory_table_lists_every_task() -> None:
    result = cli("inventory", "fixtures/demo")
    assert result.exit_code == 0
    for name in DEMO_TASKS:
        assert name in result.stdout


def test_inventory_explain() -> None:
    result = cli("inventory", "fixtures/demo", "--explain", "shop.tasks.refund")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "shop.tasks.refund (celery definition at fixtures/demo/shop/tasks.py:"
    )
    assert "max retries" in result.stdout
    assert "unbounded" in result.stdout
    assert "critical" in result.stdout


def test_inventory_explain_unknown_name() -> None:
    result = cli("inventory", "fixtures/demo", "--explain", "shop.tasks.nope")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "shop.tasks.nope" in one_line(result.stderr)


# --- explain and rules -------------------------------------------------------------------------


def test_explain_by_code() -> None:
    result = cli("explain", "RL101")
    assert result.exit_code == 0
    assert result.stdout.startswith("# RL101 unbounded-retries")
    assert result.stdout.endswith("\n")


def test_explain_lowercase_code_and_by_name() -> None:
    by_code = cli("explain", "RL101").stdout
    assert cli("explain", "rl101").stdout == by_code
    by_name = cli("explain", "unbounded-retries")
    assert by_name.exit_code == 0
    assert by_name.stdout == by_code


@pytest.mark.parametrize("code", sorted(RULES))
def test_explain_every_rule(code: str) -> None:
    result = cli("explain", code)
    assert result.exit_code == 0
    assert result.stdout.startswith(f"# {code} {RULES[code].meta.name}")


@pytest.mark.parametrize("code", ["RL999", "not-a-rule"])
def test_explain_unknown(code: str) -> None:
    result = cli("explain", code)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert code in one_line(result.stderr)


def test_rules_lists_every_code() -> None:
    result = cli("rules")
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    assert listed == sorted(RULES)
    for line in result.stdout.splitlines():
        code, name, severity = line.split()[:3]
        assert name == RULES[code].meta.name
        assert severity == RULES[code].meta.severity


def test_rules_json() -> None:
    result = cli("rules", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [entry["code"] for entry in data] == sorted(RULES)
    for entry in data:
        meta = RULES[entry["code"]].meta
        assert (entry["name"], entry["severity"]) == (meta.name, meta.severity)
        assert entry["summary"]


# --- init --------------------------------------------------------------------------------------


def test_init_writes_loadable_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_project(tmp_path, {"jobs/__init__.py": "", "jobs/tasks.py": GOOD_TASKS})
    monkeypatch.chdir(tmp_path)
    result = cli("init")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "retrylint.toml" in one_line(result.stderr)
    written = (tmp_path / "retrylint.toml").read_text("utf-8")
    data = tomllib.loads(written)
    assert data["tasks"] == {"jobs.resize": "default", "jobs.tasks.send_email": "default"}
    assert data["default-category"] == "default"
    assert data["categories"]["default"]["max-retries"] == {"max": 10}

    inventory = json.loads(cli("inventory", "--format", "json").stdout)
    sources = {row["name"]: row["category_source"] for row in inventory["tasks"]}
    assert sources == {"jobs.resize": "exact", "jobs.tasks.send_email": "exact"}
    check = cli("check", "--format", "json")
    rules = {f["rule"] for f in json.loads(check.stdout)["findings"]}
    assert "RL401" not in rules
    assert "RL402" not in rules


def test_init_refuses_to_overwrite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_project(tmp_path, {"tasks.py": GOOD_TASKS, "retrylint.toml": "# mine\n"})
    monkeypatch.chdir(tmp_path)
    result = cli("init")
    assert result.exit_code == 2
    assert "--force" in one_line(result.stderr)
    assert (tmp_path / "retrylint.toml").read_text("utf-8") == "# mine\n"

    forced = cli("init", "--force")
    assert forced.exit_code == 0, forced.output
    assert '"tasks.send_email" = "default"' in (tmp_path / "retrylint.toml").read_text("utf-8")


def test_init_output_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_project(tmp_path, {"tasks.py": GOOD_TASKS})
    monkeypatch.chdir(tmp_path)
    result = cli("init", "--output", "policy.toml")
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "retrylint.toml").exists()
    assert tomllib.loads((tmp_path / "policy.toml").read_text("utf-8"))["tasks"]
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize("name", ["jobs.[bold]send", "jobs.retry[1"])
def test_init_task_name_with_bracket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    write_project(
        tmp_path,
        {
            "tasks.py": f"""
                from celery import shared_task

                @shared_task(
                    name={name!r},
                    autoretry_for=(ConnectionError,),
                    retry_backoff=True,
                    max_retries=5,
                )
                def send():
                    ...
            """,
        },
    )
    monkeypatch.chdir(tmp_path)
    assert cli("init").exit_code == 0
    check = cli("check", "--format", "json")
    assert check.exit_code == 0, check.output
    assert json.loads(check.stdout)["findings"] == []
    inventory = json.loads(cli("inventory", "--format", "json").stdout)
    # Glob characters in a name are written bracketed (`[[]`), so the key is a glob that
    # matches exactly this name.
    assert [(r["name"], r["category_source"]) for r in inventory["tasks"]] == [(name, "glob")]


# --- errors: one line on stderr, exit 2 --------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "position", "words"),
    [
        ("exclude = [\n", None, "TOML"),
        ('default-category = "default"\nx = = 1\n', "2:", "TOML"),
        ("exclude = []\nbogus-key = 1\n", "2:1", "bogus-key"),
        ('[tasks]\napp.tasks.ok = "default"\n', "2:1", "quote"),
    ],
)
@pytest.mark.parametrize("command", ["check", "inventory"])
def test_bad_config_is_one_located_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    config: str,
    position: str | None,
    words: str,
) -> None:
    write_project(tmp_path, {"tasks.py": GOOD_TASKS})
    (tmp_path / "retrylint.toml").write_text(config, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = cli(command)
    assert result.exit_code == 2
    assert result.stdout == ""
    line = one_line(result.stderr)
    assert re.match(r"^retrylint\.toml:\d+:\d+: \S", line), line
    if position is not None:
        assert line.startswith(f"retrylint.toml:{position}"), line
    assert words in line
    assert "Traceback" not in result.stderr


def test_bad_config_exit_zero_still_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_project(tmp_path, {"tasks.py": GOOD_TASKS, "retrylint.toml": "bogus-key = 1\n"})
    monkeypatch.chdir(tmp_path)
    result = cli("check", "--exit-zero")
    assert result.exit_code == 2
    assert one_line(result.stderr).startswith("retrylint.toml:1:1: ")


def test_missing_config_file() -> None:
    result = cli("check", "fixtures/demo", "--config", "no/such/retrylint.toml")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no/such/retrylint.toml" in one_line(result.stderr)


def test_explicit_config_replaces_discovery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The discoverable file is broken: it must not be read when --config names another one.
    write_project(
        tmp_path,
        {
            **ONLY_UNDECIDED,
            "retrylint.toml": "bogus-key = 1\n",
            "custom.toml": "[categories.strict]\nmax-retries = { max = 1 }\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    assert cli("check").exit_code == 2
    result = cli("check", "--config", "custom.toml", "--format", "json")
    assert result.exit_code == 1, result.output
    rules = {f["rule"] for f in json.loads(result.stdout)["findings"]}
    assert "RL401" in rules  # [categories] without default-category and no [tasks] key


def test_a_config_outside_the_scanned_project_is_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `init -o /tmp/x.toml .` then `check --config /tmp/x.toml .` made the policy file's
    # folder the project root, so facts the code points to were no longer read: the names of
    # the tasks below became undecided, without a word about why.
    write_project(
        tmp_path / "project",
        {
            "app/names.py": "SEND = 'mail.send'\n",
            "app/tasks.py": (
                "from celery import shared_task\n"
                "from app.names import SEND\n\n"
                "@shared_task(name=SEND)\n"
                "def send():\n"
                "    pass\n"
            ),
        },
    )
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.toml").write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path / "project")
    inside = cli("inventory", "--no-cache", "--format", "json")
    assert inside.stderr == ""
    assert [t["name"] for t in json.loads(inside.stdout)["tasks"]] == ["mail.send"]
    outside = cli("inventory", "--no-cache", "--format", "json", "--config", "../elsewhere/x.toml")
    assert outside.exit_code == 0
    assert "is outside the project root" in one_line(outside.stderr)
    assert str((tmp_path / "elsewhere").resolve()) in outside.stderr


@pytest.mark.parametrize("command", ["check", "inventory", "init"])
def test_nonexistent_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli(command, "does/not/exist")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "does/not/exist" in one_line(result.stderr)
    assert not (tmp_path / "retrylint.toml").exists()


def test_internal_error_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> engine.Report:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(engine, "run", explode)
    result = cli("check", "fixtures/demo", "--exit-zero")
    assert result.exit_code == 2
    assert result.stdout == ""
    line = one_line(result.stderr)
    assert line.startswith("retrylint: internal error:")
    assert "RuntimeError" in line
    assert "boom" in line
    assert "RETRYLINT_DEBUG=1" in line
    assert "Traceback" not in result.stderr


def test_internal_error_traceback_with_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> engine.Report:
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "run", explode)
    result = cli("inventory", "fixtures/demo", env={"RETRYLINT_DEBUG": "1"})
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Traceback (most recent call last)" in result.stderr
    assert "in explode" in result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith("retrylint: internal error: RuntimeError: boom")


def test_bad_format_exits_2() -> None:
    result = cli("check", "fixtures/demo", "--format", "xml")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "xml" in result.stderr


def test_bad_argument_is_one_line() -> None:
    proc = python_module("check", "fixtures/demo", "--format", "xml")
    assert proc.returncode == 2
    assert one_line(proc.stderr).startswith("retrylint: error: ")


def test_version() -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert re.match(r"^retrylint \d+\.\d+", result.stdout)


# --- the real process: `python -m retrylint` ---------------------------------------------------


def test_subprocess_json_on_stdout_only() -> None:
    proc = python_module("check", "fixtures/demo", "--format", "json")
    assert proc.returncode == 1
    assert proc.stderr == ""
    document = json.loads(proc.stdout)
    validate(document, "check")
    assert {f["rule"] for f in document["findings"]} >= set(CORE_CODES)
    in_process = cli("check", "fixtures/demo", "--format", "json")
    assert proc.stdout == in_process.stdout


def test_subprocess_exit_codes_and_error_line(tmp_path: Path) -> None:
    write_project(tmp_path, ONLY_UNDECIDED)
    clean = python_module("check", "--fail-on", "note", cwd=tmp_path)
    assert clean.returncode == 0, clean.stderr
    assert clean.stderr == ""
    assert "RL002" in clean.stdout

    usage = python_module("check", "fixtures/demo", "--exit-zero", "--select", "RL9")
    assert usage.returncode == 2
    assert usage.stdout == ""
    assert one_line(usage.stderr).startswith("retrylint: ")

    zero = python_module("check", "fixtures/demo", "--exit-zero")
    assert zero.returncode == 0
    assert zero.stderr == ""
    assert set(CORE_CODES) <= set(text_codes(zero.stdout))


def test_subprocess_bad_config(tmp_path: Path) -> None:
    write_project(tmp_path, {"tasks.py": GOOD_TASKS, "retrylint.toml": "[tasks\n"})
    proc = python_module("inventory", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert re.match(r"^retrylint\.toml:1:\d+: ", one_line(proc.stderr))


_EXPLODE = (
    "import sys\n"
    "import retrylint.engine\n"
    "def explode(*a, **k):\n"
    "    raise RuntimeError('boom')\n"
    "retrylint.engine.run = explode\n"
    "from retrylint.cli import main\n"
    "sys.argv = ['retrylint', 'check', 'fixtures/demo']\n"
    "main()\n"
)


@pytest.mark.parametrize("debug", [False, True])
def test_subprocess_internal_error(debug: bool) -> None:
    env = {k: v for k, v in os.environ.items() if k != "RETRYLINT_DEBUG"}
    if debug:
        env["RETRYLINT_DEBUG"] = "1"
    proc = subprocess.run(
        [sys.executable, "-c", _EXPLODE],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    if debug:
        assert "Traceback (most recent call last)" in proc.stderr
        assert proc.stderr.splitlines()[-1].startswith("retrylint: internal error:")
    else:
        line = one_line(proc.stderr)
        assert line == (
            "retrylint: internal error: RuntimeError: boom; set RETRYLINT_DEBUG=1 for the traceback"
        )
