"""`check --format concise|junit|gitlab`, the SARIF rule help and invocations, the GitHub
job summary, and the text output and inventory table at 80 columns: golden files for every
format, then what each format promises on its own.

The golden files in `tests/golden/` are rendered from the hand-built report of
`test_reports.py` (user text full of `|`, `%`, `<`, newlines, a path with a space, findings with
no task), so they change only when a renderer does. After changing one on purpose, regenerate
them and review the diff:

    RETRYLINT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_formats.py -k golden
"""

from __future__ import annotations

import io
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from retrylint.baseline import Outcome
from retrylint.cli import app
from retrylint.config.policy import Policy, load_policy
from retrylint.engine import Report
from retrylint.frameworks import FRAMEWORKS
from retrylint.model import Location
from retrylint.report.concise_report import render_concise
from retrylint.report.github_report import render_step_summary
from retrylint.report.gitlab_report import render_gitlab
from retrylint.report.junit_report import render_junit
from retrylint.report.sarif_report import FINGERPRINT_KEY, render_sarif
from retrylint.report.text_report import render_check_text, render_inventory_table
from retrylint.rules import RULES
from tests.conftest import REPO
from tests.test_reports import CLEANUP, DYNAMIC, FINDINGS, POLLER, SARIF_SCHEMA, SEND_EMAIL, WEEKLY

GOLDEN = Path(__file__).parent / "golden"
BLOB = "https://github.com/acme/shop/blob/0123abc"
# Every variable that moves report paths or adds a job summary, unset for in-process CLI runs.
CI_VARIABLES = ("GITHUB_WORKSPACE", "CI_PROJECT_DIR", "GITHUB_STEP_SUMMARY")


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    return load_policy(None, known_rules=RULES, known_frameworks=FRAMEWORKS, cwd=tmp_path)


@pytest.fixture
def report(policy: Policy) -> Report:
    rows = (SEND_EMAIL, DYNAMIC, POLLER, CLEANUP, WEEKLY)
    return Report(rows, (None,) * len(rows), FINDINGS, 0, 4, 1, policy)


@pytest.fixture
def empty(policy: Policy) -> Report:
    return Report((), (), (), 0, 0, 0, policy)


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("RETRYLINT_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8", newline="\n")
    assert path.is_file(), f"{name} missing: see this module's docstring to regenerate it"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from the golden file"


def _at_80_columns(render: Callable[[Report, Console], object]) -> Callable[[Report], str]:
    """A text renderer as a terminal 80 columns wide shows it, without colour."""

    def rendered(report: Report) -> str:
        buffer = io.StringIO()
        render(report, Console(file=buffer, width=80, color_system=None))
        return buffer.getvalue()

    return rendered


GOLDEN_RENDERS: dict[str, Callable[[Report], str]] = {
    "check.text.txt": _at_80_columns(render_check_text),
    "inventory.table.txt": _at_80_columns(render_inventory_table),
    "check.concise.txt": render_concise,
    "check.junit.xml": render_junit,
    "check.gitlab.json": render_gitlab,
    "step-summary.md": lambda r: render_step_summary(r, limit=4, blob_url=BLOB),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_RENDERS))
def test_golden(report: Report, name: str) -> None:
    _golden(name, GOLDEN_RENDERS[name](report))


@pytest.mark.parametrize("name", sorted(GOLDEN_RENDERS))
def test_golden_without_findings(empty: Report, name: str) -> None:
    stem, suffix = name.split(".", 1)
    _golden(f"{stem}.empty.{suffix}", GOLDEN_RENDERS[name](empty))


# --- concise ----------------------------------------------------------------------------------


def test_concise_is_one_line_per_finding(report: Report) -> None:
    lines = render_concise(report).splitlines()
    assert len(lines) == len(FINDINGS)
    pattern = re.compile(r"^(.+):(\d+):(\d+): (RL\d{3}) \[(error|warning|note)\] \S")
    for line, finding in zip(lines, FINDINGS, strict=True):
        match = pattern.match(line)
        assert match, line
        path, row, column, rule, severity = match.groups()
        assert (path, int(row), int(column)) == (
            finding.location.path,
            finding.location.line,
            finding.location.column,
        )
        assert (rule, severity) == (finding.rule, finding.severity)


# --- JUnit ------------------------------------------------------------------------------------


def test_junit_one_suite_per_file_one_failure_per_finding(report: Report) -> None:
    root = ET.fromstring(render_junit(report))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures")) == (str(len(FINDINGS)), str(len(FINDINGS)))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == list(dict.fromkeys(f.location.path for f in FINDINGS))
    cases = root.findall("testsuite/testcase")
    assert len(cases) == len(FINDINGS)
    for case, finding in zip(cases, FINDINGS, strict=True):
        failure = case.find("failure")
        assert failure is not None
        assert failure.get("type") == finding.severity
        assert case.get("file") == finding.location.path
        assert case.get("line") == str(finding.location.line)
        assert case.get("name", "").startswith(f"{finding.rule} {finding.name}")
        assert "\n" not in failure.get("message", "")
    # Jenkins reads `a.b` as package `a`, class `b`: the extension is left out.
    assert cases[1].get("classname") == "app/tasks"


def test_junit_without_findings_is_one_passing_case(empty: Report) -> None:
    root = ET.fromstring(render_junit(empty))
    (case,) = root.findall("testsuite/testcase")
    assert list(case) == [] and root.get("failures") == "0" and root.get("tests") == "1"


def test_junit_escapes_what_xml_cannot_hold(report: Report) -> None:
    hostile = replace(
        FINDINGS[0],
        message='NUL \x00, bell \x07 & <tag> "quoted" ]]>',
        location=Location("app/caf\udce9.py", 3, 1),
        task="t\x1b[31m",
    )
    root = ET.fromstring(render_junit(replace(report, findings=(hostile,))))
    case = root.find("testsuite/testcase")
    assert case is not None
    failure = case.find("failure")
    assert failure is not None and failure.text is not None
    assert case.get("file") == "app/caf\\udce9.py"
    assert case.get("name", "").endswith("t\\x1b[31m")
    assert 'NUL \\x00, bell \\x07 & <tag> "quoted" ]]>' in failure.text


def test_junit_has_no_timestamps_or_hosts(report: Report) -> None:
    text = render_junit(report)
    for attribute in ("timestamp=", "time=", "hostname="):
        assert attribute not in text


# --- GitLab Code Quality ----------------------------------------------------------------------


def _sarif_prints(report: Report) -> list[str]:
    runs = json.loads(render_sarif(report, "0"))["runs"]
    return [r["partialFingerprints"][FINGERPRINT_KEY] for r in runs[0]["results"]]


def test_gitlab_issues_have_every_required_key(report: Report) -> None:
    issues = json.loads(render_gitlab(report))
    assert len(issues) == len(FINDINGS)
    for issue, finding in zip(issues, FINDINGS, strict=True):
        assert set(issue) == {"check_name", "description", "fingerprint", "severity", "location"}
        assert issue["check_name"] == finding.rule
        assert issue["description"].startswith(f"{finding.rule} {finding.name}: ")
        assert "\n" not in issue["description"]
        assert issue["severity"] in ("info", "minor", "major", "critical", "blocker")
        assert issue["location"]["path"] == finding.location.path
        assert issue["location"]["lines"]["begin"] == finding.location.line
        assert issue["location"]["lines"]["end"] >= finding.location.line
    assert [i["severity"] for i in issues] == ["minor", "info", "major", "minor", "minor", "minor"]
    prints = [i["fingerprint"] for i in issues]
    assert len(set(prints)) == len(prints), "GitLab keeps one issue per fingerprint"


def test_gitlab_fingerprints_are_the_sarif_ones(report: Report) -> None:
    """Also with a suppressed and a baselined finding, which GitLab leaves out but which
    count toward the occurrence index of the findings beside them."""
    twin = replace(FINDINGS[3], message="another broad trigger")
    baselined = replace(FINDINGS[2], location=Location("app/tasks.py", 80, 5))
    outcome = Outcome("base.json", (baselined,), ())
    full = replace(report, suppressed_findings=((twin, "known"),), baseline=outcome)
    issues = json.loads(render_gitlab(full))
    assert len(issues) == len(FINDINGS)
    assert [i["fingerprint"] for i in issues] == _sarif_prints(full)[: len(FINDINGS)]


def test_gitlab_fingerprints_survive_moved_lines(report: Report) -> None:
    moved = tuple(
        replace(f, location=replace(f.location, line=f.location.line + 40)) for f in FINDINGS
    )
    before = [i["fingerprint"] for i in json.loads(render_gitlab(report))]
    after = [i["fingerprint"] for i in json.loads(render_gitlab(replace(report, findings=moved)))]
    assert before == after


def test_gitlab_without_findings_is_an_empty_array(empty: Report) -> None:
    assert json.loads(render_gitlab(empty)) == []


# --- SARIF help and invocations ---------------------------------------------------------------


def _rule_doc(code: str) -> str:
    return (REPO / "rules" / f"{code}-{RULES[code].meta.name}.md").read_text(encoding="utf-8")


def test_sarif_rules_carry_the_rule_document_as_help(report: Report) -> None:
    rules = json.loads(render_sarif(report, "0"))["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(RULES)
    for rule in rules:
        doc = _rule_doc(rule["id"])
        markdown, text = rule["help"]["markdown"], rule["help"]["text"]
        assert markdown == doc.split("\n", 1)[1].strip()
        assert "## What it does" in markdown and "```" in markdown
        # Fences and headings marks go; `**` stays only where it is code (`2 ** retries`).
        assert "```" not in text and "\n#" not in text
        assert text.startswith("Default severity:")
        assert "What it does" in text and "Why is this bad?" in text


@pytest.mark.parametrize(
    ("exit_code", "expected"), [(None, {}), (0, {"exitCode": 0}), (1, {"exitCode": 1})]
)
def test_sarif_invocations(report: Report, exit_code: int | None, expected: dict[str, int]) -> None:
    document = json.loads(render_sarif(report, "0", exit_code=exit_code))
    assert document["runs"][0]["invocations"] == [{"executionSuccessful": True, **expected}]


def test_sarif_with_help_and_invocations_matches_official_schema(report: Report) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"SARIF 2.1.0 schema not found at {SARIF_SCHEMA} (../shared/data/)")
    schema = json.loads(SARIF_SCHEMA.read_text("utf-8"))
    document = json.loads(render_sarif(report, "0.1.0", REPO, exit_code=1))
    jsonschema.Draft7Validator(schema).validate(document)
    assert document["runs"][0]["tool"]["driver"]["rules"][0]["help"]["markdown"]


# --- the command line -------------------------------------------------------------------------


def _cli(monkeypatch: pytest.MonkeyPatch, *args: str, **env: str) -> Result:
    monkeypatch.chdir(REPO)
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("output_format", ["concise", "junit", "gitlab"])
def test_new_formats_from_the_command_line(
    monkeypatch: pytest.MonkeyPatch, output_format: str
) -> None:
    result = _cli(monkeypatch, "check", "fixtures/demo", "--format", output_format)
    assert result.exit_code == 1, result.output
    assert result.stderr == ""
    json_result = _cli(monkeypatch, "check", "fixtures/demo", "--format", "json")
    findings = json.loads(json_result.stdout)["findings"]
    if output_format == "concise":
        lines = result.stdout.splitlines()
        assert [line.split(": ", 2)[1].split()[0] for line in lines] == [
            f["rule"] for f in findings
        ]
        assert all(line.startswith("fixtures/demo/") for line in lines)
    elif output_format == "junit":
        cases = ET.fromstring(result.stdout).findall("testsuite/testcase")
        assert [c.get("name", "").split()[0] for c in cases] == [f["rule"] for f in findings]
    else:
        issues = json.loads(result.stdout)
        assert [i["check_name"] for i in issues] == [f["rule"] for f in findings]
        assert all(i["location"]["path"].startswith("fixtures/demo/") for i in issues)


def test_gitlab_paths_are_relative_to_ci_project_dir(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = _cli(
        monkeypatch,
        "check",
        "fixtures/demo",
        "--format",
        "gitlab",
        CI_PROJECT_DIR=str(REPO / "fixtures"),
    )
    paths = {i["location"]["path"] for i in json.loads(result.stdout)}
    assert "demo/shop/tasks.py" in paths and not any(p.startswith(("/", "..")) for p in paths)


@pytest.mark.parametrize(("flag", "code"), [((), 1), (("--exit-zero",), 0)])
def test_sarif_invocation_records_the_exit_code(
    monkeypatch: pytest.MonkeyPatch, flag: tuple[str, ...], code: int
) -> None:
    result = _cli(monkeypatch, "check", "fixtures/demo", "--format", "sarif", *flag)
    assert result.exit_code == code
    (invocation,) = json.loads(result.stdout)["runs"][0]["invocations"]
    assert invocation == {"executionSuccessful": True, "exitCode": code}


def test_rules_accepts_only_its_own_formats(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _cli(monkeypatch, "rules", "--format", "junit")
    assert result.exit_code == 2


# --- GitHub job summary -----------------------------------------------------------------------


def test_step_summary_is_appended(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    summary = tmp_path / "step_summary.md"
    summary.write_text("# from an earlier step\n", encoding="utf-8")
    env = {
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_SHA": "0123abc",
    }
    result = _cli(monkeypatch, "check", "fixtures/demo", "--format", "github", **env)
    assert result.exit_code == 1 and result.stderr == ""
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# from an earlier step\n## retrylint\n")
    annotations = result.stdout.splitlines()
    assert "| RL102 | retry-limit-out-of-policy | error | 2 |" in text
    assert text.count("\n| error |") + text.count("\n| warning |") + text.count(
        "\n| note |"
    ) == len(annotations)
    assert "(https://github.com/acme/shop/blob/0123abc/fixtures/demo/shop/tasks.py#L26)" in text
    # A second step appends again rather than replacing the file.
    _cli(monkeypatch, "check", "fixtures/demo", "--format", "github", **env)
    assert summary.read_text(encoding="utf-8").count("## retrylint") == 2


def test_no_step_summary_outside_actions(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    result = _cli(monkeypatch, "check", "fixtures/demo", "--format", "github")
    assert result.exit_code == 1
    assert not list(tmp_path.iterdir())


def test_step_summary_that_cannot_be_written_is_a_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    target = tmp_path / "missing" / "summary.md"
    result = _cli(
        monkeypatch, "check", "fixtures/demo", "--format", "github", GITHUB_STEP_SUMMARY=str(target)
    )
    assert result.exit_code == 1
    assert result.stdout.startswith("::")
    assert result.stderr.startswith("retrylint: warning: cannot append the job summary to ")
    assert len(result.stderr.splitlines()) == 1


def test_step_summary_lists_the_first_findings_and_counts_all(report: Report) -> None:
    text = render_step_summary(report, limit=2)
    assert "### First 2 findings" in text
    assert "4 more not listed" in text
    assert "| RL301 | retries-on-broad-exception | warning | 2 |" in text
    # User text cannot break the table: one row per line, pipes escaped, no raw HTML.
    (row,) = [line for line in text.splitlines() if line.startswith("| note |")]
    assert "`settings.RETRIES[queue]`" in row  # code spans are kept as written
    assert '"settings.RETRIES\\[queue\\]" = \\<value\\>' in row  # the rest is escaped


def test_step_summary_of_a_clean_run(empty: Report) -> None:
    assert render_step_summary(empty) == "## retrylint\n\nNo findings in 0 tasks.\n"
