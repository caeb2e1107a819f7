"""RL001: a suppression comment silences nothing (the problem is gone, or the code is wrong)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.model import Finding, Location
from retrylint.rules.base import RuleContext, RuleMeta


class UnusedSuppression:
    """Reported by the suppression pass, which alone knows what each comment silenced."""

    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL001", "unused-suppression", "warning", "A suppression comment silences nothing"
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        return iter(())

    def finding(self, location: Location, code: str, known: bool) -> Finding:
        if known:
            message = f"`ignore[{code}]` silences nothing here: no {code} finding on this line"
            fix = f"Remove {code} from the suppression."
        else:
            message = f"`ignore[{code}]` names no retrylint rule"
            fix = "Correct the rule code (see `retrylint rules`)."
        return Finding(
            rule=self.meta.code,
            name=self.meta.name,
            severity=self.meta.severity,
            location=location,
            message=message,
            fix=fix,
        )
