"""Finding fingerprints shared by the formats that code-review tools match across runs.

SARIF (`partialFingerprints`) and GitLab Code Quality (`fingerprint`) both decide from this
value whether a finding in a new run is one they already know, so both must hash the finding
identity of CONTRACTS §7 rather than its line: moving a task must not close one alert and open
another. Computing it once here gives a finding the same fingerprint in both reports.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass

from retrylint.baseline import identity
from retrylint.engine import Report
from retrylint.model import Finding


@dataclass(frozen=True, slots=True)
class Suppression:
    """Why a finding is not reported: SARIF's `suppressions[]` entry."""

    kind: str  # SARIF's `inSource` (a comment) or `external` (the baseline)
    justification: str


@dataclass(frozen=True, slots=True)
class Fingerprinted:
    finding: Finding
    fingerprint: str
    suppression: Suppression | None


def fingerprinted(report: Report) -> list[Fingerprinted]:
    """Every finding of the run, reported ones first in report order, then the suppressed and
    the baselined ones, each with its fingerprint.

    The occurrence index that tells apart findings of one identity (two RL301 on one task) is
    counted in report order over all of them, so a finding's fingerprint does not change when a
    suppression or a baseline takes its neighbour away.
    """
    items: list[tuple[Finding, Suppression | None]] = [(f, None) for f in report.findings]
    items.extend((f, Suppression("inSource", reason)) for f, reason in report.suppressed_findings)
    if report.baseline is not None:
        why = Suppression("external", f"in the baseline {report.baseline.file}")
        items.extend((f, why) for f in report.baseline.absorbed)
    occurrence: dict[int, int] = {}
    seen: Counter[str] = Counter()
    for number in sorted(range(len(items)), key=lambda n: items[n][0].sort_key()):
        key = identity(items[number][0]).sort_key()
        occurrence[number] = seen[key]
        seen[key] += 1
    return [
        Fingerprinted(finding, _hash(finding, occurrence[number]), suppression)
        for number, (finding, suppression) in enumerate(items)
    ]


def _hash(finding: Finding, occurrence: int) -> str:
    # JSON of a list is an unambiguous encoding: no separator can occur inside a field.
    key = json.dumps([*identity(finding).fields(), occurrence], ensure_ascii=False)
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()
