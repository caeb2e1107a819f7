"""RL103: the retry count is the framework's default, chosen by nobody on the team."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.model import UNBOUNDED, Finding
from retrylint.rules.base import RuleContext, RuleMeta, label, task_finding
from retrylint.rules.rl101_unbounded_retries import unbounded
from retrylint.rules.rl102_retry_limit_out_of_policy import out_of_policy


class ImplicitRetryDefault:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL103",
        "implicit-retry-default",
        "note",
        "The retry count comes from a framework default",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for row, assignment in ctx.rows:
            prov = row.sources.get("max_retries")
            if prov is None or prov.source != "default" or not row.retries:
                continue
            # One finding per cause (CONTRACTS §6): RL101 or RL102 already report this count
            # and say it comes from the default.
            if unbounded(row) or out_of_policy(row, assignment) is not None:
                continue
            default = prov.note or f"the {row.framework} default"
            how_often = (
                "without limit" if row.max_retries == UNBOUNDED else f"{row.max_retries} times"
            )
            yield task_finding(
                self.meta,
                row,
                f"{label(row)} retries {how_often} only because of {default}; "
                "nobody chose this number",
                "State the retry count explicitly on the task.",
            )
