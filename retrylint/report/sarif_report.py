"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

Deterministic like the JSON report: no timestamps, no absolute paths, sorted keys. Alerts are
matched across runs by `partialFingerprints`, built from the finding's identity (CONTRACTS §7)
rather than its line, so moving a task does not close one alert and open another.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import quote

from retrylint.baseline import identity
from retrylint.engine import Report
from retrylint.model import Finding
from retrylint.report import message_with_fix
from retrylint.rules import RULES
from retrylint.rules.base import Rule

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


def render_sarif(report: Report, tool_version: str, base: Path | None = None) -> str:
    """The SARIF log; `base` is the folder the result paths are relative to (the repository
    root, CONTRACTS §1), recorded as `%SRCROOT%` so that viewers can find the files."""
    codes = sorted(RULES)
    index = {code: i for i, code in enumerate(codes)}
    # Suppressed and baselined findings stay visible to code-scanning UIs, marked as such.
    items: list[tuple[Finding, dict[str, str] | None]] = [(f, None) for f in report.findings]
    items.extend(
        (f, {"kind": "inSource", "justification": reason})
        for f, reason in report.suppressed_findings
    )
    if report.baseline is not None:
        why = {"kind": "external", "justification": f"in the baseline {report.baseline.file}"}
        items.extend((f, why) for f in report.baseline.absorbed)
    # Occurrences are counted in report order over all of them, so a finding's fingerprint
    # does not change when a suppression or a baseline takes its neighbour away.
    occurrence: dict[int, int] = {}
    seen: Counter[str] = Counter()
    for number in sorted(range(len(items)), key=lambda n: items[n][0].sort_key()):
        key = identity(items[number][0]).sort_key()
        occurrence[number] = seen[key]
        seen[key] += 1
    results = []
    for number, (finding, suppression) in enumerate(items):
        result = _result(finding, index[finding.rule], occurrence[number])
        if suppression is not None:
            result["suppressions"] = [suppression]
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
                "results": results,
                **_base_ids(base),
            }
        ],
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


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
        "defaultConfiguration": {"level": meta.severity},
        "properties": {"tags": ["retrylint", _BAND_TAGS[meta.code[2]]]},
    }


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


def _result(finding: Finding, rule_index: int, occurrence: int) -> dict[str, object]:
    location = finding.location
    region: dict[str, int] = {"startLine": location.line, "startColumn": location.column}
    if location.end_line > 0:
        region["endLine"] = location.end_line
    if location.end_column > 0:
        region["endColumn"] = location.end_column
    # JSON of a list is an unambiguous encoding: no separator can occur inside a field.
    key = json.dumps([*identity(finding).fields(), occurrence], ensure_ascii=False)
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
        "partialFingerprints": {
            FINGERPRINT_KEY: hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()
        },
    }
