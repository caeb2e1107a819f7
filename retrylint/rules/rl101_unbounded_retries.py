"""RL101: retries never stop, so one poison message keeps a worker busy forever."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.model import UNBOUNDED, EffectivePolicy, Finding
from retrylint.rules.base import RuleContext, RuleMeta, label, task_finding, where, worst_view


def unbounded(row: EffectivePolicy) -> bool:
    """Neither count nor time stops the retries (CONTRACTS §6); a count that is unbounded
    inside a time limit is judged by the window."""
    return row.max_retries == UNBOUNDED and row.window_seconds == UNBOUNDED


def unbounded_path(row: EffectivePolicy) -> EffectivePolicy | None:
    """The row along its first retry path that never stops, if any: a site with one is
    reported by RL101 alone (CONTRACTS §6)."""
    return worst_view(row, lambda view: 0.0 if unbounded(view) else None)


class UnboundedRetries:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL101", "unbounded-retries", "error", "Retries never stop: no count and no time limit"
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for task, assignment in ctx.rows:
            row = unbounded_path(task)
            if row is None:
                continue
            limit = ""
            if assignment is not None and assignment.category.max_retries is not None:
                limit = f" (category `{assignment.category.name}` allows at most "
                limit += f"{assignment.category.max_retries})"
            yield task_finding(
                self.meta,
                row,
                f"{label(row)} retries without limit: the retry count is unbounded "
                f"({where(row, 'max_retries')}){limit}",
                row.hint("max_retries") or "Set a finite retry count.",
            )
