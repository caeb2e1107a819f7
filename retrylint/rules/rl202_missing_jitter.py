"""RL202: retries are not jittered, so tasks that failed together retry together.

Where the framework's own retries cannot jitter on every path (Temporal, django-q2), a warning
per task would ask for an edit that does not exist: those tasks get one note per category and
framework instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.model import Finding
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


class MissingJitter:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL202", "missing-jitter", "warning", "Retries are not jittered"
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        unmet: Unmet = {}
        for task, assignment in ctx.rows:
            if assignment is None or not assignment.category.jitter:
                continue
            row = worst_view(
                task, lambda view: 0.0 if view.retries and view.jitter is False else None
            )
            if row is None:
                continue
            if ctx.cannot(row.framework, "jitter") is not None:
                key = (assignment.category.name, row.framework)
                unmet.setdefault(key, []).append((task, assignment))
                continue
            yield task_finding(
                self.meta,
                row,
                f"{label(row)} retries without jitter ({where(row, 'jitter')}); "
                f"{category_phrase(assignment)} requires jitter",
                row.hint("jitter") or "Add random jitter to the retry delay.",
            )
        yield from cannot_express(self.meta, ctx, "jitter", lambda _: "requires jitter", unmet)
