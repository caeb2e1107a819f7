"""RL002: a value retrylint cannot decide without running the code, quoted as written.

Never counted toward the exit code and never suppressible: it says what the verdicts above it
rest on, and `[assume]` is the way to decide it.
"""

from __future__ import annotations

import json
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
            # Quoted as TOML reads it back: expressions often hold `"` (a call with a string).
            key = json.dumps(expression, ensure_ascii=False)
            fix = f"Add {key} = <value> under [assume] in the policy file."
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
        yield from self._custom_sequences(ctx)

    def _custom_sequences(self, ctx: RuleContext) -> Iterator[Finding]:
        """A custom delay sequence a backoff requirement cannot judge. One sequence written
        once (an asynq server's `RetryDelayFunc`, a shared retry helper) that many tasks use is
        one finding at the sequence, listing them, not one per task (convoy: 33 enqueue sites
        of one server)."""
        groups: dict[tuple[Location | None, str, str], list[EffectivePolicy]] = {}
        phrases: dict[tuple[Location | None, str, str], str] = {}
        for task, assignment in ctx.rows:
            required = assignment.category.backoff if assignment is not None else None
            custom = worst_view(
                task, lambda view: 0.0 if view.retries and view.backoff == "custom" else None
            )
            if (
                assignment is None
                or required is None
                or custom is None
                or BACKOFF_ORDER.index(required) <= BACKOFF_ORDER.index("fixed")
            ):
                continue
            source = custom.sources.get("backoff")
            where = source.location if source is not None else None
            # Without a location to stand at, each task is its own finding.
            key: tuple[Location | None, str, str] = (
                where,
                required,
                assignment.category.name if where else str(id(custom)),
            )
            groups.setdefault(key, []).append(custom)
            phrases.setdefault(key, category_phrase(assignment))
        for key, rows in groups.items():
            where, kind, _ = key
            first = rows[0]
            names = sorted({row.name or row.name_expression or "?" for row in rows})
            requirement = (
                f"retrylint cannot say whether it meets the {kind} backoff that "
                f"{phrases[key]} requires"
            )
            fix = "Use a standard backoff, or check the sequence by hand."
            if len(names) == 1 or where is None:
                for row in rows:
                    yield task_finding(
                        self.meta,
                        row,
                        f"{label(row)} uses a custom delay sequence{_sequence(row)}; {requirement}",
                        fix,
                    )
                continue
            # The waits are shown only when every task waits the same (counts may differ).
            sequences = {_sequence(row) for row in rows}
            shared_sequence = sequences.pop() if len(sequences) == 1 else ""
            listed = ", ".join(f"`{n}`" for n in names[:3])
            more = f" and {len(names) - 3} more" if len(names) > 3 else ""
            yield replace(
                task_finding(
                    self.meta,
                    first,
                    f"{len(names)} tasks ({listed}{more}) use the custom delay sequence "
                    f"written here{shared_sequence}; {requirement}",
                    fix,
                    location=where,
                ),
                task=None,
                tasks=tuple(names),
                anchor_lines=(),
            )


def _sequence(row: EffectivePolicy) -> str:
    shown = ", ".join(format_duration(d) for d in row.delays_seconds or ())
    return f" ({shown})" if shown else ""
