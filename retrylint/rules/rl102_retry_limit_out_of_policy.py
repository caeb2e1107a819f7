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
    worst_view,
)
from retrylint.rules.rl101_unbounded_retries import unbounded_path


class RetryLimitOutOfPolicy:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL102",
        "retry-limit-out-of-policy",
        "error",
        "The retry count is outside the category's `max-retries` bounds",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for task, assignment in ctx.rows:
            found = out_of_policy_path(task, assignment)
            if found is None or assignment is None:
                continue
            row, (count, too_many) = found
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


def out_of_policy_path(
    row: EffectivePolicy, assignment: Assignment | None
) -> tuple[EffectivePolicy, tuple[int, bool]] | None:
    """The row along its path furthest outside the bounds: the largest count above the
    maximum, else the smallest count below the minimum among the paths that retry.

    A site with a path that never stops is RL101's alone (CONTRACTS §6), and a path with a
    budget of zero is judged only when no path of the task retries.
    """
    if unbounded_path(row) is not None:
        return None
    retrying = any(view.retries for view in row.views())

    def score(view: EffectivePolicy) -> float | None:
        judged = out_of_policy(view, assignment)
        if judged is None or (retrying and not view.retries):
            return None
        count, too_many = judged
        # Any count above the maximum (at least 1) outranks any below the minimum (at most -1).
        return float(count) if too_many else -1.0 - count

    view = worst_view(row, score)
    if view is None:
        return None
    judged = out_of_policy(view, assignment)
    assert judged is not None
    return view, judged


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
