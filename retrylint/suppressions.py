"""`# retrylint: ignore[RL101] reason` comments: which findings they silence, which are stale.

A suppression must name its codes (there is no blanket form) and applies on the finding's line,
the task's decorator or `def` lines, or the line above any of those. RL002 cannot be silenced:
an undecided value is information, not a problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from retrylint.model import Finding, Location
from retrylint.python.ir import Suppression
from retrylint.rules.rl001_unused_suppression import UnusedSuppression
from retrylint.rules.rl003_suppression_without_reason import SuppressionWithoutReason

UNSUPPRESSIBLE = frozenset({"RL002"})


@dataclass(frozen=True)
class Outcome:
    kept: list[Finding]
    suppressed: list[tuple[Finding, str]]  # with the reason the comment gives
    extra: list[Finding]


def apply(
    findings: Iterable[Finding],
    comments: Mapping[str, tuple[Suppression, ...]],
    known_codes: frozenset[str],
) -> Outcome:
    by_line: dict[tuple[str, int], list[Suppression]] = {}
    for path, items in comments.items():
        for item in items:
            by_line.setdefault((path, item.line), []).append(item)
    used: set[tuple[str, int, str]] = set()
    kept: list[Finding] = []
    suppressed: list[tuple[Finding, str]] = []
    for finding in findings:
        hit = None if finding.rule in UNSUPPRESSIBLE else _match(finding, by_line)
        if hit is None:
            kept.append(finding)
        else:
            used.add((finding.location.path, hit.line, finding.rule))
            suppressed.append((finding, hit.reason))
    extra: list[Finding] = []
    unused, no_reason = UnusedSuppression(), SuppressionWithoutReason()
    for path in sorted(comments):
        for item in comments[path]:
            location = Location(path, item.line, item.column)
            if not item.reason:
                extra.append(no_reason.finding(location, item.codes))
            for code in item.codes:
                if (path, item.line, code) not in used:
                    extra.append(unused.finding(location, code, code in known_codes))
    return Outcome(kept, suppressed, extra)


def _match(
    finding: Finding, by_line: Mapping[tuple[str, int], list[Suppression]]
) -> Suppression | None:
    lines = {finding.location.line, *finding.anchor_lines}
    for line in sorted(lines | {n - 1 for n in lines}):
        for item in by_line.get((finding.location.path, line), ()):
            if finding.rule in item.codes:
                return item
    return None
