"""RL103: the retry count is the framework's default, chosen by nobody on the team."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import ClassVar

from retrylint.model import UNBOUNDED, Assignment, EffectivePolicy, Finding
from retrylint.rules.base import RuleContext, RuleMeta, label, task_finding, worst_view
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
        for task, assignment in ctx.rows:
            row = worst_view(task, functools.partial(_defaulted, assignment=assignment))
            if row is None:
                continue
            prov = row.sources["max_retries"]
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


def _defaulted(view: EffectivePolicy, assignment: Assignment | None) -> float | None:
    """A path whose count is the framework's default, and no other rule reports that count:
    one finding per cause (CONTRACTS §6), so RL101 and RL102 say it comes from the default."""
    prov = view.sources.get("max_retries")
    if (
        prov is not None
        and prov.source == "default"
        and view.retries
        and not unbounded(view)
        and out_of_policy(view, assignment) is None
    ):
        return 0.0
    return None
