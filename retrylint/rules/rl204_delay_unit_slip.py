"""RL204: a delay written in one unit that the framework reads in another (`min_backoff=5` ms)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.model import Finding
from retrylint.rules.base import RuleContext, RuleMeta, observed


class DelayUnitSlip:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL204",
        "delay-unit-slip",
        "warning",
        "A delay only makes sense in another unit",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        return observed(self.meta, ctx)
