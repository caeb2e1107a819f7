"""`check --statistics`: how many findings each rule gave, most first, as ruff prints them.

On a legacy codebase the first question is "which rules matter here", not "which lines"; the
counts answer it and tell what to `ignore`, baseline or fix first.
"""

from __future__ import annotations

import json
from collections import Counter

from retrylint.engine import Report
from retrylint.rules import RULES


def render_statistics(report: Report, *, as_json: bool = False) -> str:
    """One `count<TAB>code<TAB>name` line per rule (ruff's layout), or a JSON array of
    `{"code", "name", "count"}`; most findings first, then by code."""
    counts = Counter(f.rule for f in report.findings)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if as_json:
        rows = [{"code": c, "name": RULES[c].meta.name, "count": n} for c, n in ordered]
        return json.dumps(rows, indent=2) + "\n"
    width = max((len(str(n)) for _, n in ordered), default=1)
    return "".join(f"{n:>{width}}\t{c}\t{RULES[c].meta.name}\n" for c, n in ordered)
