"""RL106: a message goes back to the queue outside the retry counter, so no limit applies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.model import Finding
from retrylint.rules.base import RuleContext, RuleMeta, observed


class RequeueLoop:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL106",
        "requeue-loop",
        "warning",
        "A message is requeued outside the retry counter",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        return observed(self.meta, ctx)
