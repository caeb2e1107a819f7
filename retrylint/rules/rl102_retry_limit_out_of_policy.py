"""RL102: the retry count is outside what the task's category allows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.model import Assignment, EffectivePolicy, Finding
from retrylint.rules.base import (
    RuleContext,
    RuleMeta,
    category_phrase,
    label,
    task_finding,
    where,
)


class RetryLimitOutOfPolicy:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL102",
        "retry-limit-out-of-policy",
        "error",
        "The retry count is outside the category's `max-retries` bounds",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for row, assignment in ctx.rows:
            judged = out_of_policy(row, assignment)
            if judged is None or assignment is None:
                continue
            count, too_many = judged
            category = assignment.category
            if too_many:
                yield task_finding(
                    self.meta,
                    row,
                    f"{label(row)} retries up to {count} times ({where(row, 'max_retries')}); "
                    f"{category_phrase(assignment)} allows at most {category.max_retries}",
                    f"Lower the retry count to {category.max_retries} or fewer.",
                )
            else:
                yield task_finding(
                    self.meta,
                    row,
                    f"{label(row)} retries {count} times ({where(row, 'max_retries')}); "
                    f"{category_phrase(assignment)} requires at least {category.min_retries}",
                    f"Make the task retry at least {category.min_retries} times.",
                )


def out_of_policy(row: EffectivePolicy, assignment: Assignment | None) -> tuple[int, bool] | None:
    """(count, too many) when the count breaks the category's `max-retries` bounds."""
    count = row.max_retries
    if assignment is None or not isinstance(count, int):
        return None
    category = assignment.category
    if not row.retries:
        # A site that never retries is judged on the minimum only (CONTRACTS §6).
        count = 0
        if not category.min_retries:
            return None
    if category.max_retries is not None and count > category.max_retries:
        return count, True
    if category.min_retries is not None and count < category.min_retries:
        return count, False
    return None
