"""RL104: retry options are set on a task that nothing makes retry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.model import Finding
from retrylint.rules.base import RuleContext, RuleMeta, label, task_finding


class RetryConfigNeverTriggered:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL104",
        "retry-config-never-triggered",
        "warning",
        "Retry options are set, but nothing makes the task retry",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for row, _ in ctx.rows:
            if row.retry_trigger != "none" or not row.inert_options:
                continue
            names = ", ".join(f"`{name}`" for name, _ in row.inert_options)
            first = row.inert_options[0][1]
            yield task_finding(
                self.meta,
                row,
                f"{label(row)} sets {names} but never retries: "
                f"{row.hint('trigger') or 'nothing triggers a retry'}",
                row.hint("trigger_fix") or "Add a retry trigger, or remove the unused options.",
                location=first if first.path == row.location.path else None,
            )
