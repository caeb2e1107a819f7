"""RL206: the retries give up sooner than the category's `min-window` asks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.durations import format_duration
from retrylint.model import EffectivePolicy, Finding
from retrylint.rules.base import (
    RuleContext,
    RuleMeta,
    category_phrase,
    label,
    task_finding,
    where,
    worst_view,
)


class RetryWindowBelowPolicy:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL206",
        "retry-window-below-policy",
        "error",
        "The worst-case retry window is shorter than the category's `min-window`",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for task, assignment in ctx.rows:
            if assignment is None or assignment.category.min_window is None:
                continue
            limit = assignment.category.min_window

            # A site that never retries is RL104's or RL102's (CONTRACTS §6); an unbounded
            # window is RL101's and an undecided one RL002's. Of several retry paths, the one
            # that gives up soonest is judged: a failure that takes it ends the retries there.
            def shortfall(view: EffectivePolicy, limit: float = limit) -> float | None:
                window = view.window_seconds
                if not view.retries or isinstance(window, str) or window >= limit:
                    return None
                return limit - window

            row = worst_view(task, shortfall)
            if row is None:
                continue
            window = row.window_seconds
            assert not isinstance(window, str)
            yield task_finding(
                self.meta,
                row,
                f"{label(row)} stops retrying after at most {format_duration(window)} "
                f"({row.max_retries} retries, {where(row, 'window')}); "
                f"{category_phrase(assignment)} requires at least {format_duration(limit)}",
                f"Make the retries last at least {format_duration(limit)}. "
                + (row.hint("window") or "Raise the retry count or the delays."),
            )
