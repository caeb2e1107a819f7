"""RL406: a task's retry policy was not reviewed within the category's `review-every`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import ClassVar

from retrylint.durations import format_duration
from retrylint.model import Assignment, EffectivePolicy, Finding
from retrylint.rules.base import RuleContext, RuleMeta, category_phrase, label, task_finding

_DAY = 86400


class ReviewOverdue:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL406",
        "review-overdue",
        "warning",
        "The task's `reviewed` date is older than `review-every`, or it has none",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for row, assignment in _one_row_per_task(ctx):
            review_every = assignment.category.review_every
            assert review_every is not None and row.name is not None
            reviewed = assignment.reviewed
            if reviewed is not None and (ctx.today - reviewed).days * _DAY <= review_every:
                continue
            period = (
                f"{category_phrase(assignment)} asks for a review every "
                f"{format_duration(review_every)} ({_period_source(ctx, assignment)})"
            )
            if reviewed is None:
                message = f"{label(row)} has no `reviewed` date{_entry(ctx, row.name)}; {period}"
            else:
                age = (ctx.today - reviewed).days
                message = (
                    f"{label(row)} was last reviewed on {reviewed.isoformat()}"
                    f"{_entry(ctx, row.name)}, {age} days before {ctx.today.isoformat()}; {period}"
                )
            yield task_finding(self.meta, row, message, _fix(assignment, row.name, ctx.today))


def _one_row_per_task(ctx: RuleContext) -> Iterator[tuple[EffectivePolicy, Assignment]]:
    """A review is of a task, not of each place that sets its policy: one finding per task
    (name and framework), at its definition when it has one. Only tasks that retry somewhere
    are judged: a site that never retries is judged by RL104, RL401 and RL102 alone
    (CONTRACTS §6). An undecided name is RL002's: no `[tasks]` key could carry its date."""
    chosen: dict[tuple[str, str], tuple[EffectivePolicy, Assignment]] = {}
    for row, assignment in ctx.rows:
        if (
            row.name is None
            or assignment is None
            or assignment.category.review_every is None
            or not row.retries
        ):
            continue
        key = (row.name, row.framework)
        kept = chosen.get(key)
        if kept is None or _preference(row) < _preference(kept[0]):
            chosen[key] = (row, assignment)
    for key in sorted(chosen):
        yield chosen[key]


def _preference(row: EffectivePolicy) -> tuple[bool, object]:
    return (row.site != "definition", row.location)


def _entry(ctx: RuleContext, name: str) -> str:
    entry = ctx.policy.matching_entry(name)
    if entry is None:
        return " (no [tasks] entry names it)"
    return f" ([tasks] entry {json.dumps(entry.key)} at {entry.location})"


def _period_source(ctx: RuleContext, assignment: Assignment) -> str:
    category = assignment.category
    if category.review_every_inherited:
        return f"the top-level review-every of {ctx.policy.path}"
    where = f" at {category.location}" if category.location is not None else ""
    return f"its review-every{where}"


def _fix(assignment: Assignment, name: str, today: date) -> str:
    if assignment.key is not None:
        return (
            "Review the task's retry policy, then set "
            f"reviewed = {today.isoformat()} in the [tasks] entry {json.dumps(assignment.key)}."
        )
    return (
        "Review the task's retry policy, then add "
        f'{json.dumps(name)} = {{ category = "{assignment.category.name}", '
        f"reviewed = {today.isoformat()} }} under [tasks]."
    )
