"""Where `check` reports go: the `--format` on stdout (or `--output-file`), plus any number of
`--output FORMAT:FILE` reports written in the same run.

CI jobs want annotations in the log, SARIF for code scanning and JUnit for the test tab from
one analysis, not three (semgrep's `--sarif-output=FILE` answers the same need). Each format
gets the paths its consumer resolves (CONTRACTS §1): GitHub's against the repository, GitLab's
against its project folder, everything else against the current directory.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TextIO

from rich.console import Console

from retrylint import __version__, engine
from retrylint.model import UsageError
from retrylint.report.paths import gitlab_root, rebase, repository_root, spelled_root
from retrylint.report.text_report import render_check_text


class CheckFormat(str, Enum):
    text = "text"
    concise = "concise"
    json = "json"
    sarif = "sarif"
    github = "github"
    gitlab = "gitlab"
    junit = "junit"


@dataclass(frozen=True)
class Output:
    """One `--output FORMAT:FILE`: FILE as given, relative to the current directory."""

    format: CheckFormat
    file: Path


def parse_output(value: str) -> Output:
    """`sarif:retrylint.sarif` → (sarif, retrylint.sarif); the first colon separates them, so a
    FILE may hold colons of its own."""
    name, colon, file = value.partition(":")
    known = ", ".join(f.value for f in CheckFormat)
    if not colon or not file:
        raise UsageError(
            f"--output {value}: write FORMAT:FILE, such as sarif:retrylint.sarif "
            f"(FORMAT is one of {known})"
        )
    try:
        return Output(CheckFormat(name.strip().lower()), Path(file))
    except ValueError:
        raise UsageError(f"--output {value}: unknown format {name!r}; use one of {known}") from None


def check_outputs(outputs: list[Output], output_file: Path | None) -> None:
    """Two reports aimed at one file would leave only the last: refused before the run."""
    seen: dict[str, str] = {}
    if output_file is not None:
        seen[os.path.abspath(output_file)] = f"--output-file {output_file}"
    for output in outputs:
        key = os.path.abspath(output.file)
        if key in seen:
            raise UsageError(
                f"--output {output.format.value}:{output.file}: {seen[key]} writes that file "
                "too; give each report its own file"
            )
        seen[key] = f"--output {output.format.value}:{output.file}"


def write_report(
    out: TextIO,
    output_format: CheckFormat,
    report: engine.Report,
    paths: list[Path] | None,
    console: Callable[[TextIO], Console],
    *,
    exit_code: int,
    statistics: bool = False,
    quiet: bool = False,
) -> None:
    """Render `report` in one format onto `out`; `console` makes the rich console for text."""
    # Each format's renderer is imported when used: a plain `check` starts without the other
    # formats' modules (issue 11, one-file check start-up).
    shown, repository = shown_as(output_format, report, paths)
    if statistics:
        from retrylint.report.statistics import render_statistics

        out.write(render_statistics(shown, as_json=output_format is CheckFormat.json))
    elif output_format is CheckFormat.json:
        from retrylint.report.json_report import render_check

        out.write(render_check(shown))
    elif output_format is CheckFormat.sarif:
        from retrylint.report.sarif_report import render_sarif

        out.write(render_sarif(shown, __version__, repository, exit_code=exit_code))
    elif output_format is CheckFormat.github:
        from retrylint.report.github_report import render_github

        out.write(render_github(shown))
    elif output_format is CheckFormat.gitlab:
        from retrylint.report.gitlab_report import render_gitlab

        out.write(render_gitlab(shown))
    elif output_format is CheckFormat.junit:
        from retrylint.report.junit_report import render_junit

        out.write(render_junit(shown))
    elif output_format is CheckFormat.concise:
        from retrylint.report.concise_report import render_concise

        out.write(render_concise(shown))
    else:
        render_check_text(shown, console(out), quiet=quiet)


def shown_as(
    output_format: CheckFormat, report: engine.Report, paths: list[Path] | None
) -> tuple[engine.Report, Path | None]:
    """The report with the paths this format's reader resolves, and the repository root for
    the formats that GitHub reads."""
    if output_format in (CheckFormat.sarif, CheckFormat.github):
        # GitHub resolves these against the checkout, wherever the job stands (§1).
        repository = repository_root(report.policy.root)
        return rebase(report, repository), repository
    if output_format is CheckFormat.gitlab:
        return rebase(report, gitlab_root(report.policy.root)), None
    return for_people(report, paths), None


def for_people(report: engine.Report, paths: list[Path] | None) -> engine.Report:
    """Paths relative to the current directory, as the user spelled the way there (§1)."""
    return rebase(report, Path.cwd(), spelled_root(report.policy.root, paths or []))
