"""RL107: publishing a message retries forever while the broker is unreachable."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.model import Finding
from retrylint.rules.base import RuleContext, RuleMeta, observed


class UnboundedPublishRetry:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL107",
        "unbounded-publish-retry",
        "warning",
        "Publishing a message retries forever",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        return observed(self.meta, ctx)
