"""RL403: the category wants failed messages kept, and the final failure goes nowhere."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.model import Finding
from retrylint.rules.base import RuleContext, RuleMeta, category_phrase, label, task_finding

# What adapters write in `final_failure` when nothing keeps or handles the failed message.
NOWHERE = "nowhere"


class MissingDeadLetter:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL403",
        "missing-dead-letter",
        "warning",
        "The category requires a dead letter and the final failure goes nowhere",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for row, assignment in ctx.rows:
            if assignment is None or not assignment.category.dead_letter or not row.retries:
                continue
            if row.final_failure != NOWHERE:
                continue
            yield task_finding(
                self.meta,
                row,
                f"{label(row)} drops the message after its last retry: nothing keeps or "
                f"handles the final failure; {category_phrase(assignment)} requires a dead "
                "letter",
                row.hint("dead_letter") or "Keep or handle messages whose retries ran out.",
            )
