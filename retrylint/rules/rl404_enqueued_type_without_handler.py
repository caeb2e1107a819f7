"""RL404: a task type is enqueued but no handler takes it, so it fails until archived."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.model import Finding
from retrylint.rules.base import RuleContext, RuleMeta, observed


class EnqueuedTypeWithoutHandler:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL404",
        "enqueued-type-without-handler",
        "warning",
        "A task type is enqueued but no handler matches it",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        # Only the whole project shows every handler (CONTRACTS §1).
        if not ctx.whole_inventory:
            return iter(())
        return observed(self.meta, ctx)
