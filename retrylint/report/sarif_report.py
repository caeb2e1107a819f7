"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

Deterministic like the JSON report: no timestamps, no absolute paths, sorted keys. Alerts are
matched across runs by `partialFingerprints`, built from the finding's identity (CONTRACTS §7)
rather than its line, so moving a task does not close one alert and open another.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from urllib.parse import quote

from retrylint.engine import Report
from retrylint.model import Finding
from retrylint.report import message_with_fix
from retrylint.report.fingerprint import fingerprinted
from retrylint.rules import RULES
from retrylint.rules.base import Rule
from retrylint.rules.docs import rule_doc

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/retrylint/retrylint"
HELP_URI = "https://github.com/retrylint/retrylint/blob/main/rules/{code}-{name}.md"
FINGERPRINT_KEY = "retrylintIdentity/v2"
"""Versioned: changing what goes into the identity must change the key, or GitHub would match
new fingerprints against old alerts and reopen or close the wrong ones."""

# The rule-code bands of CONTRACTS §6, as tags viewers can filter on.
_BAND_TAGS = {
    "0": "engine",
    "1": "retry-count",
    "2": "retry-delay",
    "3": "exceptions",
    "4": "inventory",
    "5": "interplay",
}


def render_sarif(
    report: Report, tool_version: str, base: Path | None = None, *, exit_code: int | None = None
) -> str:
    """The SARIF log; `base` is the folder the result paths are relative to (the repository
    root, CONTRACTS §1), recorded as `%SRCROOT%` so that viewers can find the files.

    `exit_code` is the one `check` exits with, recorded in the run's `invocations` so that a
    viewer can tell a failing run from a passing one without the CI log; None (a caller that
    decides no exit code) records only that the run succeeded.
    """
    codes = sorted(RULES)
    index = {code: i for i, code in enumerate(codes)}
    # Suppressed and baselined findings stay visible to code-scanning UIs, marked as such.
    results = []
    for item in fingerprinted(report):
        result = _result(item.finding, index[item.finding.rule], item.fingerprint)
        if item.suppression is not None:
            result["suppressions"] = [
                {"kind": item.suppression.kind, "justification": item.suppression.justification}
            ]
        results.append(result)
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "retrylint",
                        "version": tool_version,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(RULES[code]) for code in codes],
                    }
                },
                "automationDetails": {"id": "retrylint/"},
                "columnKind": "unicodeCodePoints",
                # No start or end time, command line or working directory: the log must be the
                # same bytes for the same code wherever and whenever it runs.
                "invocations": [_invocation(exit_code)],
                "results": results,
                **_base_ids(base),
            }
        ],
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _invocation(exit_code: int | None) -> dict[str, object]:
    # `executionSuccessful` is the one required key: true, since a run that could not finish
    # exits 2 without writing a report.
    invocation: dict[str, object] = {"executionSuccessful": True}
    if exit_code is not None:
        invocation["exitCode"] = exit_code
    return invocation


def _base_ids(base: Path | None) -> dict[str, object]:
    """`originalUriBaseIds` for `%SRCROOT%`: an absolute `file:` URI ending in `/`, as SARIF
    §3.14.14 requires of a base."""
    if base is None:
        return {}
    uri = base.resolve().as_uri()
    return {"originalUriBaseIds": {"%SRCROOT%": {"uri": uri if uri.endswith("/") else uri + "/"}}}


def _rule(rule: Rule) -> dict[str, object]:
    meta = rule.meta
    return {
        "id": meta.code,
        "name": meta.name,
        "shortDescription": {"text": meta.summary},
        "fullDescription": {"text": _full_description(rule)},
        "helpUri": HELP_URI.format(code=meta.code, name=meta.name),
        **_help(meta.code),
        "defaultConfiguration": {"level": meta.severity},
        "properties": {"tags": ["retrylint", _BAND_TAGS[meta.code[2]]]},
    }


def _help(code: str) -> dict[str, object]:
    """The rule document as `help`: GitHub code scanning shows `markdown` next to each alert,
    so the example and its fix are there without leaving the pull request; other viewers show
    `text`. The `# CODE name` heading is left out: viewers title the help with the rule."""
    doc = rule_doc(code)
    if doc is None:
        return {}
    body = doc.split("\n", 1)[1].strip() if doc.startswith("# ") else doc.strip()
    return {"help": {"text": _plain(body), "markdown": body}}


_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")


def _plain(markdown: str) -> str:
    """The rule document as plain text: headings without `#`, no `**`, code blocks indented
    instead of fenced. Inline backticks stay: they read as quotes."""
    lines: list[str] = []
    in_code = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif in_code:
            lines.append(f"    {line}" if line else "")
        elif line.startswith("#"):
            lines.append(line.lstrip("#").strip())
        else:
            lines.append(_BOLD.sub(r"\1", line))
    return "\n".join(lines)


def _full_description(rule: Rule) -> str:
    """The first paragraph of the rule module's docstring, which says why the rule exists.

    `RuleMeta.summary` only says what fires; the module docstring adds the consequence ("so
    one poison message keeps a worker busy forever"). Falls back to the summary when
    docstrings are stripped (`python -OO`).
    """
    doc = sys.modules[type(rule).__module__].__doc__
    if not doc:
        return rule.meta.summary
    paragraph = " ".join(doc.strip().split("\n\n", 1)[0].split())
    paragraph = paragraph.removeprefix(f"{rule.meta.code}: ")
    return paragraph[:1].upper() + paragraph[1:]


def _result(finding: Finding, rule_index: int, fingerprint: str) -> dict[str, object]:
    location = finding.location
    region: dict[str, int] = {"startLine": location.line, "startColumn": location.column}
    if location.end_line > 0:
        region["endLine"] = location.end_line
    if location.end_column > 0:
        region["endColumn"] = location.end_column
    return {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": finding.severity,
        "message": {"text": message_with_fix(finding)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {
                        "uri": quote(location.path.encode("utf-8", "surrogateescape"), safe="/"),
                        "uriBaseId": "%SRCROOT%",
                    },
                    "region": region,
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    }
