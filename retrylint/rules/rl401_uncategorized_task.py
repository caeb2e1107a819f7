"""RL401: a task is in no category of the policy inventory, so no bound applies to it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.model import Finding
from retrylint.rules.base import RuleContext, RuleMeta, label, task_finding


class UncategorizedTask:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL401",
        "uncategorized-task",
        "error",
        "A task matches no `[tasks]` entry and there is no `default-category`",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        config = ctx.policy.path or "the policy file"
        for row, assignment in ctx.rows:
            if assignment is not None:
                continue
            key = f'"{row.name}" = "<category>"' if row.name else "a quoted name or glob"
            yield task_finding(
                self.meta,
                row,
                f"{label(row)} matches no `[tasks]` entry in {config} and there is no "
                "`default-category`",
                f"Add {key} under [tasks], or set default-category.",
            )
