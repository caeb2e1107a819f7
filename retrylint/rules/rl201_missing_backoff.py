"""RL201: retries come faster than the category's minimum backoff kind allows.

Where the framework's delay cannot grow at all (django-q2's fixed redelivery time), the tasks
get one note per category and framework instead of an error each (CONTRACTS §6).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.durations import format_duration
from retrylint.model import BACKOFF_ORDER, BackoffKind, EffectivePolicy, Finding
from retrylint.rules.base import (
    RuleContext,
    RuleMeta,
    Unmet,
    cannot_express,
    category_phrase,
    label,
    task_finding,
    where,
    worst_view,
)


class MissingBackoff:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL201",
        "missing-backoff",
        "error",
        "The backoff kind is below the category's minimum",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        unmet: Unmet = {}
        for task, assignment in ctx.rows:
            if assignment is None or assignment.category.backoff is None:
                continue
            required = assignment.category.backoff

            def weaker(view: EffectivePolicy, required: BackoffKind = required) -> float | None:
                """How far below the minimum a path's kind is; `custom` and undecided kinds
                are reported as RL002, not guessed here."""
                kind = view.backoff
                if not view.retries or kind not in BACKOFF_ORDER:
                    return None
                below = BACKOFF_ORDER.index(required) - BACKOFF_ORDER.index(kind)
                return float(below) if below > 0 else None

            row = worst_view(task, weaker)
            if row is None:
                continue
            kind = row.backoff
            # A framework whose delay cannot grow still meets `fixed`; anything above is unmet.
            if ctx.cannot(row.framework, "backoff") is not None:
                unmet.setdefault((assignment.category.name, row.framework), []).append(
                    (task, assignment)
                )
                continue
            delays = ""
            if row.delays_seconds:
                shown = ", ".join(format_duration(d) for d in row.delays_seconds[:5])
                more = ", ..." if len(row.delays_seconds) > 5 or row.delays_truncated else ""
                delays = f" (waits {shown}{more})"
            yield task_finding(
                self.meta,
                row,
                f"{label(row)} retries with {kind} backoff{delays}, {where(row, 'backoff')}; "
                f"{category_phrase(assignment)} requires {required}",
                row.hint("backoff") or f"Configure {required} backoff between retries.",
            )
        yield from cannot_express(
            self.meta, ctx, "backoff", lambda c: f"requires {c.backoff} backoff", unmet
        )
