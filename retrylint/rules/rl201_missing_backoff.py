"""RL201: retries come faster than the category's minimum backoff kind allows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.model import BACKOFF_ORDER, Finding
from retrylint.rules.base import (
    RuleContext,
    RuleMeta,
    category_phrase,
    label,
    task_finding,
    where,
)


class MissingBackoff:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL201",
        "missing-backoff",
        "error",
        "The backoff kind is below the category's minimum",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for row, assignment in ctx.rows:
            if assignment is None or assignment.category.backoff is None or not row.retries:
                continue
            required = assignment.category.backoff
            kind = row.backoff
            # `custom` and undecided kinds are reported as RL002 by the engine, not guessed here.
            if kind not in BACKOFF_ORDER or BACKOFF_ORDER.index(kind) >= BACKOFF_ORDER.index(
                required
            ):
                continue
            delays = ""
            if row.delays_seconds:
                shown = ", ".join(f"{d:g}" for d in row.delays_seconds[:5])
                more = ", ..." if len(row.delays_seconds) > 5 or row.delays_truncated else ""
                delays = f" (waits {shown}{more} s)"
            yield task_finding(
                self.meta,
                row,
                f"{label(row)} retries with {kind} backoff{delays}, {where(row, 'backoff')}; "
                f"{category_phrase(assignment)} requires {required}",
                row.hint("backoff") or f"Configure {required} backoff between retries.",
            )
