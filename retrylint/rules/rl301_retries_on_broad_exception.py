"""RL301: `Exception` or `BaseException` written as a retry trigger retries bugs too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.model import Finding
from retrylint.rules.base import RuleContext, RuleMeta, label, task_finding


class RetriesOnBroadException:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL301",
        "retries-on-broad-exception",
        "warning",
        "A retry is triggered by `Exception` or `BaseException`",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for row, _ in ctx.rows:
            for trigger in row.broad_triggers:
                yield task_finding(
                    self.meta,
                    row,
                    f"{label(row)} retries on `{trigger.exception}`, so programming errors "
                    "(TypeError, KeyError, ...) are retried as if they were transient",
                    "Retry only on the transient errors you expect (timeouts, connection errors).",
                    location=trigger.location,
                )
