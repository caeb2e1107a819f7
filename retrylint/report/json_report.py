"""The machine contract (CONTRACTS §4 and §5): `check` and `inventory` as JSON.

Every key is always present and nulls are kept, so consumers never test for absence; keys are
sorted and the output ends with a newline, so the same report always gives the same bytes.
The shipped schemas in `schemas/` describe exactly these documents.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TypeAlias

from retrylint.baseline import Identity, Outcome
from retrylint.diff import Outcome as DiffOutcome
from retrylint.engine import Report
from retrylint.model import Assignment, EffectivePolicy, Finding, PathPolicy
from retrylint.report import (
    SOURCE_FIELDS,
    files_skipped_by_reason,
    folders_skipped_by_reason,
    plain_number,
)

SCHEMA_VERSION = 1
"""Bumped whenever a key of either document changes meaning or disappears."""

JSONValue: TypeAlias = bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"] | None


def render_check(report: Report) -> str:
    by_severity: Counter[str] = Counter({"error": 0, "warning": 0, "note": 0})
    by_severity.update(f.severity for f in report.findings)
    by_rule = Counter(f.rule for f in report.findings)
    document: dict[str, JSONValue] = {
        "schema_version": SCHEMA_VERSION,
        "findings": [_finding(f) for f in report.findings],
        "summary": {
            "by_severity": dict(by_severity),
            "by_rule": dict(by_rule),
            "suppressed": report.suppressed,
            "undecided": by_rule["RL002"],
            "files_scanned": report.files_scanned,
            "files_skipped": report.files_skipped,
            "files_skipped_by_reason": dict(
                files_skipped_by_reason(report.files_skipped, report.skipped)
            ),
            "folders_skipped_by_reason": dict(folders_skipped_by_reason(report.skipped)),
            "tasks": len(report.rows),
            "baseline": _baseline(report.baseline),
            "diff": _diff(report.diff),
        },
    }
    return _dump(document)


def _baseline(outcome: Outcome | None) -> JSONValue:
    """Null without a baseline; `stale` is null when the run could not tell (see `Outcome`)."""
    if outcome is None:
        return None
    stale: JSONValue = None
    if outcome.stale is not None:
        stale = [_entry(key, count) for key, count in outcome.stale]
    return {"file": outcome.file, "absorbed": len(outcome.absorbed), "stale": stale}


def _diff(outcome: DiffOutcome | None) -> JSONValue:
    """Null without `--diff-base`."""
    if outcome is None:
        return None
    return {
        "base": outcome.base,
        "merge_base": outcome.merge_base,
        "left_out": outcome.left_out,
        "kept_all": outcome.kept_all,
    }


def _entry(key: Identity, count: int) -> JSONValue:
    """A baseline entry exactly as the baseline file writes it."""
    out: dict[str, JSONValue] = {}
    for name, value in key.entry(count).items():
        out[name] = list[JSONValue](value) if isinstance(value, list) else value
    return out


def render_inventory(report: Report) -> str:
    document: dict[str, JSONValue] = {
        "schema_version": SCHEMA_VERSION,
        "tasks": [
            _row(row, assignment)
            for row, assignment in zip(report.rows, report.assignments, strict=True)
        ],
    }
    return _dump(document)


def _dump(document: dict[str, JSONValue]) -> str:
    # allow_nan=False: `Infinity` is not JSON; an infinite value must have become "unbounded"
    # upstream, and failing loudly here beats writing a file no parser accepts.
    return (
        json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
    )


def _finding(finding: Finding) -> dict[str, JSONValue]:
    location = finding.location
    return {
        "rule": finding.rule,
        "name": finding.name,
        "severity": finding.severity,
        "path": location.path,
        "line": location.line,
        "column": location.column,
        # `Location` uses 0 for "no end known"; 0 is not a 1-based position, so it is null here.
        "end_line": location.end_line or None,
        "end_column": location.end_column or None,
        "task": finding.task,
        "inventory_key": finding.inventory_key,
        "framework": finding.framework,
        "site": finding.site,
        "message": finding.message,
        "fix": finding.fix,
        "fix_applicability": finding.fix_applicability,
        "expression": finding.expression,
        "tasks": list(finding.tasks),
    }


def _row(row: EffectivePolicy, assignment: Assignment | None) -> dict[str, JSONValue]:
    window = row.window_seconds
    return {
        "name": row.name,
        "name_expression": row.name_expression,
        "framework": row.framework,
        "framework_version": row.framework_version,
        "site": row.site,
        "path": row.location.path,
        "line": row.location.line,
        "column": row.location.column,
        "category": assignment.category.name if assignment is not None else None,
        "category_source": assignment.source if assignment is not None else None,
        "owner": assignment.owner if assignment is not None else None,
        "note": assignment.note if assignment is not None else None,
        "reviewed": (
            assignment.reviewed.isoformat()
            if assignment is not None and assignment.reviewed is not None
            else None
        ),
        "idempotent": assignment.idempotent if assignment is not None else None,
        "retry_trigger": row.retry_trigger,
        "max_retries": row.max_retries,
        "backoff": row.backoff,
        "jitter": row.jitter,
        "delays_seconds": (
            None if row.delays_seconds is None else [plain_number(d) for d in row.delays_seconds]
        ),
        "delays_truncated": row.delays_truncated,
        "window_seconds": window if isinstance(window, str) else plain_number(window),
        # A missing key is an adapter bug; the KeyError makes it visible instead of a null.
        "sources": {key: row.sources[key].source for key in SOURCE_FIELDS},
        "final_failure": row.final_failure,
        "undecided": [
            {
                "field": item.field,
                "expression": item.expression,
                "path": item.location.path,
                "line": item.location.line,
            }
            for item in row.undecided
        ],
        "via": [
            {"wrapper": via.wrapper, "path": via.location.path, "line": via.location.line}
            for via in row.via
        ],
        "paths": [_path(path) for path in row.paths],
    }


def _path(path: PathPolicy) -> dict[str, JSONValue]:
    window = path.window_seconds
    return {
        "location": {
            "path": path.location.path,
            "line": path.location.line,
            "column": path.location.column,
        },
        "trigger": path.trigger,
        "max_retries": path.max_retries,
        "backoff": path.backoff,
        "jitter": path.jitter,
        "delays_seconds": (
            None if path.delays_seconds is None else [plain_number(d) for d in path.delays_seconds]
        ),
        "delays_truncated": path.delays_truncated,
        "window_seconds": window if isinstance(window, str) else plain_number(window),
        "sources": {key: path.sources[key].source for key in SOURCE_FIELDS},
    }
