"""Several reports from one run: `--output FORMAT:FILE` (repeatable) next to `--format`."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from retrylint.cli import app
from retrylint.outputs import CheckFormat, parse_output
from tests.conftest import FIXTURES


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "demo"
    shutil.copytree(FIXTURES / "demo", copy)
    monkeypatch.chdir(copy)
    for name in ("GITHUB_WORKSPACE", "GITHUB_STEP_SUMMARY", "CI_PROJECT_DIR"):
        monkeypatch.delenv(name, raising=False)
    return copy


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, ["check", "--no-cache", *args], catch_exceptions=False)


def test_every_report_is_the_one_its_own_run_writes(demo: Path) -> None:
    alone = {fmt: cli("--format", fmt.value).stdout for fmt in CheckFormat}
    result = cli(
        "--format",
        "concise",
        *("--output", "sarif:reports/retrylint.sarif"),
        *("--output", "junit:junit.xml"),
        *("--output", "text:report.txt"),
        *("--output", "JSON:report.json"),
    )
    assert result.exit_code == 1, result.output
    assert result.stdout == alone[CheckFormat.concise]
    assert result.stderr == ""
    written = {
        CheckFormat.sarif: "reports/retrylint.sarif",
        CheckFormat.junit: "junit.xml",
        CheckFormat.text: "report.txt",
        CheckFormat.json: "report.json",
    }
    for fmt, name in written.items():
        assert (demo / name).read_text(encoding="utf-8") == alone[fmt], fmt
    # No temporary file is left beside a report.
    assert sorted(p.name for p in (demo / "reports").iterdir()) == ["retrylint.sarif"]


def test_exit_code_and_sarif_invocation_agree(demo: Path) -> None:
    result = cli("--exit-zero", "--output", "sarif:out.sarif")
    assert result.exit_code == 0
    sarif = json.loads((demo / "out.sarif").read_text())
    assert sarif["runs"][0]["invocations"][0]["exitCode"] == 0


def test_statistics_apply_to_stdout_only(demo: Path) -> None:
    result = cli("--statistics", "--output", "json:full.json")
    assert "RL102" in result.stdout and "fix:" not in result.stdout
    assert "findings" in json.loads((demo / "full.json").read_text())


def test_github_output_writes_the_job_summary_once(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = demo / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = cli("--format", "github", "--output", "github:annotations.txt")
    assert result.exit_code == 1
    assert (demo / "annotations.txt").read_text() == result.stdout
    text = summary.read_text()
    assert text.count("## retrylint\n") == 1
    summary.unlink()
    cli("--format", "concise", "--output", "github:annotations.txt")
    assert summary.is_file()


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("out.sarif", "--output out.sarif: write FORMAT:FILE, such as sarif:retrylint.sarif"),
        ("sarif:", "--output sarif:: write FORMAT:FILE"),
        ("pdf:out.pdf", "--output pdf:out.pdf: unknown format 'pdf'; use one of text, concise"),
    ],
)
def test_bad_output_is_one_line(demo: Path, value: str, error: str) -> None:
    result = cli("--output", value)
    assert result.exit_code == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"retrylint: error: {error}")


def test_two_reports_cannot_share_a_file(demo: Path) -> None:
    result = cli("--output-file", "r.json", "--format", "json", "--output", "sarif:./r.json")
    assert result.exit_code == 2
    assert result.stderr == (
        "retrylint: error: --output sarif:r.json: --output-file r.json writes that file too; "
        "give each report its own file\n"
    )
    assert not (demo / "r.json").exists()


def test_unwritable_report_stops_before_stdout(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = tempfile.mkstemp

    def mkstemp(*args: object, **kwargs: object) -> tuple[int, str]:
        if str(kwargs.get("prefix", "")).startswith(".locked"):
            raise PermissionError(13, "Permission denied")
        return real(*args, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    result = cli("--output", "junit:ok.xml", "--output", "sarif:locked.sarif")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "retrylint: error: --output sarif:locked.sarif: cannot write: Permission denied\n"
    )
    assert not (demo / "locked.sarif").exists()


def test_parse_output_keeps_colons_in_the_file() -> None:
    parsed = parse_output("json:reports/a:b.json")
    assert (parsed.format, parsed.file) == (CheckFormat.json, Path("reports/a:b.json"))
    assert os.fspath(parse_output("Text:x.txt").file) == "x.txt"
