"""`check --format concise`: one line per finding, `path:line:col: CODE [severity] message`.

ruff's concise layout, for people who grep, count or diff lint output and for editors'
problem matchers: every finding is exactly one line (line breaks inside user text become
spaces), with no fix, no summary and no colour. The exit code says whether the run passed.
"""

from __future__ import annotations

from retrylint.engine import Report
from retrylint.model import Finding


def render_concise(report: Report) -> str:
    return "".join(concise_line(f) + "\n" for f in report.findings)


def concise_line(finding: Finding) -> str:
    location = finding.location
    message = " ".join(finding.message.splitlines())
    return (
        f"{location.path}:{location.line}:{location.column}: "
        f"{finding.rule} [{finding.severity}] {message}"
    )
