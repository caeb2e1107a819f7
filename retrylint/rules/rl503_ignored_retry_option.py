"""RL503: a retry option the framework, at the version in use, accepts and then ignores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.model import Finding
from retrylint.rules.base import RuleContext, RuleMeta, observed


class IgnoredRetryOption:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL503",
        "ignored-retry-option",
        "warning",
        "A retry option the framework ignores",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        return observed(self.meta, ctx)
