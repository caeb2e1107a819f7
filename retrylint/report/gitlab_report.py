"""GitLab Code Quality: the JSON array a job publishes as `artifacts:reports:codequality`.

GitLab shows these issues in the merge request widget and diff, and tells new ones from fixed
ones by `fingerprint` alone; it is the SARIF fingerprint (`report.fingerprint`), so an issue
survives moved lines and a finding has one fingerprint in both reports. Suppressed and
baselined findings are left out: Code Quality has no way to mark an issue as accepted.

GitLab's five severities are mapped as eslint-formatter-gitlab does: `error` is `major`
(`critical` and `blocker` read as security or outage levels), `warning` is `minor`, `note` is
`info`. Paths must be relative to the repository root; `cli` re-bases them before rendering.
"""

from __future__ import annotations

import json

from retrylint.engine import Report
from retrylint.model import Finding
from retrylint.report import message_with_fix
from retrylint.report.fingerprint import fingerprinted

SEVERITIES = {"error": "major", "warning": "minor", "note": "info"}


def render_gitlab(report: Report) -> str:
    issues = [
        _issue(item.finding, item.fingerprint)
        for item in fingerprinted(report)
        if item.suppression is None
    ]
    return json.dumps(issues, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _issue(finding: Finding, fingerprint: str) -> dict[str, object]:
    location = finding.location
    description = " ".join(message_with_fix(finding).splitlines())
    return {
        "check_name": finding.rule,
        "description": f"{finding.rule} {finding.name}: {description}",
        "fingerprint": fingerprint,
        "severity": SEVERITIES[finding.severity],
        "location": {
            "path": location.path,
            "lines": {"begin": location.line, "end": max(location.end_line, location.line)},
        },
    }
