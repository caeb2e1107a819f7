"""RL002: a value retrylint cannot decide without running the code, quoted as written.

Never counted toward the exit code and never suppressible: it says what the verdicts above it
rest on, and `[assume]` is the way to decide it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import ClassVar

from retrylint.durations import format_duration
from retrylint.model import BACKOFF_ORDER, EffectivePolicy, Finding, Location, Undecided
from retrylint.rules.base import (
    RuleContext,
    RuleMeta,
    category_phrase,
    label,
    task_finding,
    worst_view,
)


class UndecidedRetryOption:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL002",
        "undecided-retry-option",
        "note",
        "A retry value cannot be decided statically",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        # One cause, one finding: an expression several tasks share is reported once, listing
        # them (polar's 134 actors all read `settings.WORKER_MAX_RETRIES`).
        shared: dict[tuple[str, Location], list[tuple[EffectivePolicy, Undecided]]] = {}
        for row, _ in ctx.rows:
            for item in row.undecided:
                shared.setdefault((item.expression, item.location), []).append((row, item))
        for (expression, location), uses in shared.items():
            rows = list({id(row): row for row, _ in uses}.values())
            fields = " and ".join(f"`{f}`" for f in dict.fromkeys(item.field for _, item in uses))
            fix = f'Add "{expression}" = <value> under [assume] in the policy file.'
            if len(rows) == 1:
                row = rows[0]
                in_file = location.path == row.location.path
                at = "" if in_file else f" (at {location})"
                yield task_finding(
                    self.meta,
                    row,
                    f"cannot decide {fields} of {label(row)}: `{expression}`{at} is not a "
                    "constant retrylint can evaluate",
                    fix,
                    location=location if in_file else None,
                    expression=expression,
                )
                continue
            names = sorted({row.name or row.name_expression or "?" for row in rows})
            shown = ", ".join(f"`{n}`" for n in names[:3])
            more = f" and {len(names) - 3} more" if len(names) > 3 else ""
            yield replace(
                task_finding(
                    self.meta,
                    rows[0],
                    f"cannot decide {fields} of {len(names)} tasks ({shown}{more}): "
                    f"`{expression}` is not a constant retrylint can evaluate",
                    fix,
                    location=location,
                    expression=expression,
                ),
                task=None,
                tasks=tuple(names),
                anchor_lines=(),
            )
        for task, assignment in ctx.rows:
            required = assignment.category.backoff if assignment is not None else None
            custom = worst_view(
                task, lambda view: 0.0 if view.retries and view.backoff == "custom" else None
            )
            if (
                assignment is not None
                and required is not None
                and custom is not None
                and BACKOFF_ORDER.index(required) > BACKOFF_ORDER.index("fixed")
            ):
                shown = ", ".join(format_duration(d) for d in custom.delays_seconds or ())
                sequence = f" ({shown})" if shown else ""
                yield task_finding(
                    self.meta,
                    custom,
                    f"{label(custom)} uses a custom delay sequence{sequence}; "
                    f"retrylint cannot say whether it meets the {required} backoff that "
                    f"{category_phrase(assignment)} requires",
                    "Use a standard backoff, or check the sequence by hand.",
                )
