"""RL003: a suppression with no reason: the next reader cannot tell whether it still holds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.model import Finding, Location
from retrylint.rules.base import RuleContext, RuleMeta


class SuppressionWithoutReason:
    """Reported by the suppression pass, like RL001."""

    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL003",
        "suppression-without-reason",
        "warning",
        "A suppression comment gives no reason",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        return iter(())

    def finding(self, location: Location, codes: tuple[str, ...]) -> Finding:
        listed = ", ".join(codes)
        return Finding(
            rule=self.meta.code,
            name=self.meta.name,
            severity=self.meta.severity,
            location=location,
            message=f"`ignore[{listed}]` gives no reason",
            fix=f"Say why after the bracket: `# retrylint: ignore[{listed}] <reason>`.",
        )
