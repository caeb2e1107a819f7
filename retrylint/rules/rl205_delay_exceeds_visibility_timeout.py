"""RL205: a retry waits longer than the broker's visibility timeout, so it is delivered twice."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.durations import format_duration
from retrylint.model import EffectivePolicy, Finding
from retrylint.rules.base import RuleContext, RuleMeta, label, task_finding, where, worst_view


class DelayExceedsVisibilityTimeout:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL205",
        "delay-exceeds-visibility-timeout",
        "warning",
        "A retry delay is longer than the broker's visibility timeout",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for task, _ in ctx.rows:
            seen = task.redelivery
            if seen is None:
                continue
            timeout = seen.timeout_seconds

            def longest_wait(view: EffectivePolicy, timeout: float = timeout) -> float | None:
                waits = view.delays_seconds if view.retries else None
                return max(waits) if waits and max(waits) > timeout else None

            row = worst_view(task, longest_wait)
            if row is None or not row.delays_seconds:
                continue
            first = next(i for i, d in enumerate(row.delays_seconds) if d > timeout)
            delay = row.delays_seconds[first]
            longest = max(row.delays_seconds)
            more = "" if longest == delay else f", and up to {format_duration(longest)} later"
            message = (
                f"{label(row)} waits up to {format_duration(delay)} before retry {first + 1}"
                f"{more} ({where(row, 'delays')}), longer than the {seen.broker} visibility "
                f"timeout of {format_duration(timeout)} ({seen.timeout.describe()}; broker: "
                f"{seen.broker_from.describe()}): the broker hands the waiting message to "
                "another worker, so the task runs more than once"
            )
            cap = format_duration(timeout)
            if seen.max_timeout_seconds is not None and longest > seen.max_timeout_seconds:
                fix = (
                    f"Cap the retry delays below {cap}: {seen.broker} accepts no visibility "
                    f"timeout above {format_duration(seen.max_timeout_seconds)}."
                )
            else:
                fix = (
                    f"Raise the visibility timeout above {format_duration(longest)}, or cap "
                    f"the retry delays below {cap}."
                )
            hint = row.hint("visibility_timeout")
            yield task_finding(self.meta, row, message, f"{fix} {hint}" if hint else fix)
