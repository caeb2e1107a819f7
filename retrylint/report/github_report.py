"""GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` line per finding,
and the Markdown job summary.

The runner parses these lines itself, so every value is escaped the way the Actions toolkit
does (`@actions/core` `escapeData` and `escapeProperty`); an unescaped `,` or `:` in a task
name would cut the annotation's properties short, and a newline would end the command.

GitHub shows only 10 annotations of each type per step (50 per job) and drops the rest without
a word, so on a legacy codebase most findings would be invisible: the summary that `check`
appends to `GITHUB_STEP_SUMMARY` counts every finding per rule and lists the first ones.
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import quote

from retrylint.engine import Report
from retrylint.model import Finding
from retrylint.report import message_with_fix

SUMMARY_LIMIT = 50
"""Findings listed in the summary; the counts cover all of them. GitHub caps a step summary
at 1 MiB, and a table much longer than this is not read anyway."""

# GitHub has no "note" annotation; `notice` is its lowest level.
_COMMANDS = {"error": "error", "warning": "warning", "note": "notice"}


def render_github(report: Report) -> str:
    return "".join(_annotation(f) + "\n" for f in report.findings)


def _annotation(finding: Finding) -> str:
    location = finding.location
    properties: list[tuple[str, str]] = [("file", location.path), ("line", str(location.line))]
    if location.end_line > 0:
        properties.append(("endLine", str(location.end_line)))
    properties.append(("col", str(location.column)))
    if location.end_column > 0:
        properties.append(("endColumn", str(location.end_column)))
    properties.append(("title", f"{finding.rule} {finding.name}"))
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{_COMMANDS[finding.severity]} {rendered}::{escape_data(message_with_fix(finding))}"


def escape_data(text: str) -> str:
    """The message part: `%` first, so the escapes it introduces are not escaped again."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A `key=value` property, where `:` would end the properties and `,` start a new one."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_step_summary(
    report: Report, *, limit: int = SUMMARY_LIMIT, blob_url: str | None = None
) -> str:
    """The Markdown for `GITHUB_STEP_SUMMARY`: totals, findings per rule (most first, as
    `--statistics`), then the first `limit` findings in report order.

    `blob_url` (`https://github.com/OWNER/REPO/blob/SHA`) turns locations into links to the
    checked-out commit; paths are repository-relative, as for annotations.
    """
    findings = report.findings
    by_severity = Counter(f.severity for f in findings)
    totals = ", ".join(
        _plural(by_severity[severity], severity) for severity in ("error", "warning", "note")
    )
    lines = ["## retrylint", ""]
    if not findings:
        lines.append(f"No findings in {_plural(len(report.rows), 'task')}.")
    else:
        lines.append(f"{totals} in {_plural(len(report.rows), 'task')}.")
    extra = []
    if report.suppressed:
        extra.append(f"{_plural(report.suppressed, 'finding')} suppressed in the code")
    if report.baseline is not None:
        absorbed = _plural(len(report.baseline.absorbed), "finding")
        extra.append(f"{absorbed} absorbed by the baseline `{report.baseline.file}`")
    if extra:
        lines.extend(["", "Not shown: " + "; ".join(extra) + "."])
    if not findings:
        return "\n".join(lines) + "\n"
    counts = Counter(f.rule for f in findings)
    first = {f.rule: f for f in reversed(findings)}
    lines.extend(["", "| Rule | Name | Severity | Findings |", "|---|---|---|---:|"])
    for rule, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"| {rule} | {first[rule].name} | {first[rule].severity} | {count} |")
    shown = findings[:limit]
    heading = "Findings" if len(shown) == len(findings) else f"First {len(shown)} findings"
    lines.extend(["", f"### {heading}", "", "| Severity | Rule | Location | Message |"])
    lines.append("|---|---|---|---|")
    for finding in shown:
        location = finding.location
        where = _cell(f"{location.path}:{location.line}")
        if blob_url is not None:
            where = f"[{where}]({blob_url}/{_url_path(location.path)}#L{location.line})"
        message = _cell(message_with_fix(finding))
        lines.append(f"| {finding.severity} | {finding.rule} | {where} | {message} |")
    if len(shown) < len(findings):
        lines.extend(
            [
                "",
                f"{len(findings) - len(shown)} more not listed: run `retrylint check` "
                "locally, or upload the SARIF report to code scanning.",
            ]
        )
    return "\n".join(lines) + "\n"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# A code span: a run of backticks, the shortest text, the same run (CommonMark).
_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)", re.S)
# Outside code spans, what Markdown or GitHub's HTML sanitizer would act on in a table cell.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|&~])")


def _cell(text: str) -> str:
    """User text as one table cell: one line, Markdown and HTML characters backslash-escaped
    outside code spans, and `|` escaped inside them too (GitHub splits rows before it parses
    code spans). Messages quote code in backticks, which stay code spans."""
    flat = " ".join(text.splitlines())
    parts: list[str] = []
    end = 0
    for span in _CODE_SPAN.finditer(flat):
        parts.append(_SPECIAL.sub(r"\\\1", flat[end : span.start()]))
        parts.append(span.group().replace("|", "\\|"))
        end = span.end()
    parts.append(_SPECIAL.sub(r"\\\1", flat[end:]))
    return "".join(parts)


def _url_path(path: str) -> str:
    return quote(path.encode("utf-8", "surrogateescape"), safe="/")
