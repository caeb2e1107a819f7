"""RL402: a `[tasks]` key names no task: a renamed or deleted task left its entry behind."""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import ClassVar

from retrylint.model import Finding
from retrylint.rules.base import RuleContext, RuleMeta


class UnmatchedInventoryEntry:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL402",
        "unmatched-inventory-entry",
        "warning",
        "A `[tasks]` key matches no task found in the code",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        if not ctx.whole_inventory:
            return
        for entry in ctx.policy.tasks:
            if entry.is_glob:
                matched = any(fnmatchcase(name, entry.key) for name in ctx.all_names)
            else:
                matched = entry.key in ctx.all_names
            if matched:
                continue
            kind = "glob" if entry.is_glob else "task name"
            yield Finding(
                rule=self.meta.code,
                name=self.meta.name,
                severity=self.meta.severity,
                location=entry.location,
                message=f"[tasks] {kind} `{entry.key}` (category `{entry.category}`) matches "
                "no task found in the code",
                fix="Remove the entry, or rename it to the task's current name.",
                inventory_key=entry.key,
            )
