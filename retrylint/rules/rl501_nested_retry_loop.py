"""RL501: a retry decorator on a function that is itself a task: the two retry loops multiply."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.model import UNBOUNDED, EffectivePolicy, Finding
from retrylint.rules.base import RuleContext, RuleMeta, label, task_finding

_TIMES = "\N{MULTIPLICATION SIGN}"


def _executions(row: EffectivePolicy) -> int | str:
    """Runs the row allows: retries + 1, or why that number is not known."""
    count = row.max_retries
    if isinstance(count, int) and not isinstance(count, bool):
        return count + 1
    if count == UNBOUNDED:
        return "unbounded"
    return "undecided"


def _phrase(amount: int | str, name: str, noun: str) -> str:
    if isinstance(amount, int):
        return f"{amount} {name} {noun}{'' if amount == 1 else 's'}"
    if amount == "unbounded":
        return f"unbounded {name} {noun}s"
    if amount == "caller":
        return f"the {name} {noun}s each caller allows"
    return f"an undecided number of {name} {noun}s"


class NestedRetryLoop:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL501",
        "nested-retry-loop",
        "warning",
        "A retry decorator on a function that is itself a task",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        tasks: dict[tuple[str, int], list[EffectivePolicy]] = {}
        for row, _ in ctx.rows:
            if ctx.in_process(row.framework) or row.site != "definition":
                continue
            # A task that never retries is a single retry layer, not a nested one. Tasks whose
            # retries are set where they are called (`retry_trigger` null) still count.
            if row.retry_trigger is not None and not row.retries:
                continue
            tasks.setdefault((row.location.path, row.location.line), []).append(row)
        for row, _ in ctx.rows:
            if not ctx.in_process(row.framework) or row.site != "definition" or not row.retries:
                continue
            for task in tasks.get((row.location.path, row.location.line), []):
                yield self._finding(ctx, row, task)

    def _finding(self, ctx: RuleContext, inner: EffectivePolicy, task: EffectivePolicy) -> Finding:
        attempts = _executions(inner)
        runs: int | str = "caller" if task.retry_trigger is None else _executions(task)
        if isinstance(attempts, int) and isinstance(runs, int):
            total = f"{attempts * runs} executions"
        elif "unbounded" in (attempts, runs):
            total = "unbounded executions"
        else:
            total = "an undecided number of executions"
        task_name = f"`{task.name}`" if task.name else "the task"
        outer = ctx.display(task.framework)
        return task_finding(
            self.meta,
            inner,
            f"{label(inner)} retries inside the {outer} task {task_name}: "
            f"{_phrase(attempts, ctx.display(inner.framework), 'attempt')} {_TIMES} "
            f"{_phrase(runs, outer, 'run')} = {total}",
            "Keep one retry layer: let the task framework retry and drop the decorator, or "
            "make the task itself not retry.",
        )
