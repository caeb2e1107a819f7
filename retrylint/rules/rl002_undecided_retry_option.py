"""RL002: a value retrylint cannot decide without running the code, quoted as written.

Never counted toward the exit code and never suppressible: it says what the verdicts above it
rest on, and `[assume]` is the way to decide it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.model import BACKOFF_ORDER, Finding
from retrylint.rules.base import RuleContext, RuleMeta, category_phrase, label, task_finding


class UndecidedRetryOption:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL002",
        "undecided-retry-option",
        "note",
        "A retry value cannot be decided statically",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for row, assignment in ctx.rows:
            for item in row.undecided:
                in_file = item.location.path == row.location.path
                at = "" if in_file else f" (at {item.location})"
                yield task_finding(
                    self.meta,
                    row,
                    f"cannot decide `{item.field}` of {label(row)}: `{item.expression}`"
                    f"{at} is not a constant retrylint can evaluate",
                    f'Add "{item.expression}" = <value> under [assume] in the policy file.',
                    location=item.location if in_file else None,
                    expression=item.expression,
                )
            required = assignment.category.backoff if assignment is not None else None
            if (
                assignment is not None
                and required is not None
                and row.retries
                and row.backoff == "custom"
                and BACKOFF_ORDER.index(required) > BACKOFF_ORDER.index("fixed")
            ):
                shown = ", ".join(f"{d:g}" for d in row.delays_seconds or ())
                sequence = f" ({shown} s)" if shown else ""
                yield task_finding(
                    self.meta,
                    row,
                    f"{label(row)} uses a custom delay sequence{sequence}; "
                    f"retrylint cannot say whether it meets the {required} backoff that "
                    f"{category_phrase(assignment)} requires",
                    "Use a standard backoff, or check the sequence by hand.",
                )
