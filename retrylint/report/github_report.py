"""GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` line per finding.

The runner parses these lines itself, so every value is escaped the way the Actions toolkit
does (`@actions/core` `escapeData` and `escapeProperty`); an unescaped `,` or `:` in a task
name would cut the annotation's properties short, and a newline would end the command.
"""

from __future__ import annotations

from retrylint.engine import Report
from retrylint.model import Finding
from retrylint.report import message_with_fix

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
