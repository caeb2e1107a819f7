"""RL502: two retry middlewares act on the same failure, so each failure is retried twice."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.model import Finding
from retrylint.rules.base import RuleContext, RuleMeta, observed


class DuplicateRetryMiddleware:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL502",
        "duplicate-retry-middleware",
        "warning",
        "Two retry middlewares act on the same failure",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        return observed(self.meta, ctx)
