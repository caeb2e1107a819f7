"""RL405: a handler takes a task type that nothing in the project enqueues."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.model import Finding
from retrylint.rules.base import RuleContext, RuleMeta, observed


class HandlerWithoutProducer:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL405",
        "handler-without-producer",
        "note",
        "A handler takes a task type that no enqueue site produces",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        # Only the whole project shows every producer (CONTRACTS §1).
        if not ctx.whole_inventory:
            return iter(())
        return observed(self.meta, ctx)
