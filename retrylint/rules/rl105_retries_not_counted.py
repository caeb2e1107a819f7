"""RL105: some failures retry without using the retry budget, so the count never runs out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.model import Finding
from retrylint.rules.base import RuleContext, RuleMeta, observed


class RetriesNotCounted:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL105",
        "retries-not-counted",
        "warning",
        "Some failures retry without using the retry budget",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        return observed(self.meta, ctx)
