"""RL302: a task the inventory calls non-idempotent is run again without the code deciding."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.durations import format_duration
from retrylint.model import Finding
from retrylint.rules.base import RuleContext, RuleMeta, label, task_finding, where

_AUTOMATIC = ("automatic", "automatic+manual")


class RetriesNonIdempotentTask:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL302",
        "retries-non-idempotent-task",
        "warning",
        "A task marked `idempotent = false` is retried automatically or redelivered",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for row, assignment in ctx.rows:
            if assignment is None or assignment.idempotent is not False or not row.retries:
                continue
            entry = f"its [tasks] entry `{assignment.key}` says idempotent = false"
            # A manual retry (`self.retry()` where the code chooses) is left alone: the code can
            # retry only before its side effects. A broker redelivering a retry that waits
            # longer than its visibility timeout (RL205) is not the code's choice, so it counts.
            seen = row.redelivery
            longest = max(row.delays_seconds or (0.0,))
            ways: list[str] = []
            if row.retry_trigger in _AUTOMATIC:
                ways.append(
                    f"retries automatically on failure (trigger `{row.retry_trigger}`, "
                    f"{row.max_retries} retries, {where(row, 'max_retries')})"
                )
            elif seen is not None and longest > seen.timeout_seconds:
                ways.append(
                    f"runs again while a retry waits up to {format_duration(longest)}: the "
                    f"{seen.broker} broker hands the unacknowledged message out again after "
                    f"its visibility timeout of {format_duration(seen.timeout_seconds)} "
                    f"({seen.timeout.describe()})"
                )
            # A worker lost mid-run (killed, out of memory) is no failure the code sees, so
            # no `except` can keep the side effects from being repeated.
            if row.worker_loss is not None:
                ways.append(
                    "runs again from the start when the worker running it is lost mid-run "
                    "(killed, out of memory): the message is handed out again because of "
                    f"{row.worker_loss.describe()}"
                )
            if not ways:
                continue
            how = "; it also ".join(ways)
            yield task_finding(
                self.meta,
                row,
                f"{label(row)} {how}, but {entry}: each run repeats the side effects the "
                "failed run already had",
                "Make the task idempotent (an idempotency key, an upsert, a check before the "
                "side effect), or retry only on errors raised before any side effect; then "
                "set idempotent = true.",
            )
