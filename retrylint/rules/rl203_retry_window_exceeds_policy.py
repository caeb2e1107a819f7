"""RL203: the worst-case time from the first failure to the last retry is too long."""

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
from retrylint.rules.rl101_unbounded_retries import unbounded_path


class RetryWindowExceedsPolicy:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL203",
        "retry-window-exceeds-policy",
        "error",
        "The worst-case retry window is longer than the category's `max-window`",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for task, assignment in ctx.rows:
            if assignment is None or assignment.category.max_window is None:
                continue
            limit = assignment.category.max_window
            # A site with a path that never stops is RL101's alone (CONTRACTS §6).
            if unbounded_path(task) is not None:
                continue

            def longer(view: EffectivePolicy, limit: float = limit) -> float | None:
                window = view.window_seconds
                return None if isinstance(window, str) or window <= limit else float(window)

            row = worst_view(task, longer)
            if row is None:
                continue
            window = row.window_seconds
            assert not isinstance(window, str)
            yield task_finding(
                self.meta,
                row,
                f"{label(row)} can keep retrying for {format_duration(window)} "
                f"({row.max_retries} retries, {where(row, 'window')}); "
                f"{category_phrase(assignment)} allows {format_duration(limit)}",
                "Lower the retry count or the delays so the retries end within "
                f"{format_duration(limit)}.",
            )
