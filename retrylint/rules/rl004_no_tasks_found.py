"""RL004: a framework is imported but no task of it was found, or no file was scanned at all."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import ClassVar

from retrylint.config.policy import Policy
from retrylint.model import Finding, SilentFramework
from retrylint.rules.base import RuleContext, RuleMeta

# How many modules and decorators a message names before "and N more".
_SHOWN = 3


class NoTasksFound:
    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL004",
        "no-tasks-found",
        "warning",
        "A framework is imported but no task of it is found, or no file is scanned",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        if ctx.empty_scan is not None:
            empty = ctx.empty_scan
            yield Finding(
                rule=self.meta.code,
                name=self.meta.name,
                severity=self.meta.severity,
                location=empty.location,
                message=f"no file was scanned under {_listed([f'`{p}`' for p in empty.paths])}: "
                f"{empty.reason}",
                fix=empty.fix,
            )
        for silent in ctx.silent_frameworks:
            yield Finding(
                rule=self.meta.code,
                name=self.meta.name,
                severity=self.meta.severity,
                location=silent.location,
                message=_message(silent),
                fix=_fix(silent, ctx.policy),
                framework=silent.framework,
            )


def _message(silent: SilentFramework) -> str:
    fw = silent.framework
    noun = "retry site" if silent.retry_library else "task"
    head = f"{fw} is imported by {_listed(silent.modules)}, but this run found no {fw} {noun}"
    if not silent.decorators:
        return head + "; no decorator there is unknown to retrylint"
    uses = [
        f"`{name}` on {count} {'function' if count == 1 else 'functions'}"
        for name, count in silent.decorators
    ]
    return head + f"; decorators there that retrylint does not recognise: {_listed(uses)}"


def _fix(silent: SilentFramework, policy: Policy) -> str:
    fw = silent.framework
    pyproject = policy.path is not None and policy.path.rsplit("/", 1)[-1] == "pyproject.toml"
    table = f"[{'tool.retrylint.' if pyproject else ''}frameworks.{fw}]"
    config = f"`{policy.path}`" if policy.path is not None else "a new `retrylint.toml`"
    if silent.retry_library:
        return (
            f"If this code declares no retry with {fw} (it only catches its exceptions or "
            "switches it off in tests), suppress RL004 here with a reason."
        )
    otherwise = f"if this code only enqueues or configures {fw}, suppress RL004 here with a reason"
    if not silent.wrappers:
        return (
            f"If tasks are declared through an in-house wrapper, name it in `{table}` "
            f"task-decorators in {config}; {otherwise}."
        )
    wrappers = silent.wrappers[:_SHOWN]
    names = ", ".join(json.dumps(name) for name in wrappers)
    subject = "this wraps" if len(wrappers) == 1 else "these wrap"
    return (
        f"If {subject} the task decorator, add `{table} task-decorators = [{names}]` to "
        f"{config}; {otherwise}."
    )


def _listed(items: Sequence[str]) -> str:
    """`a`, `a and b`, `a, b and c`, `a, b, c and 4 more`."""
    shown = list(items[:_SHOWN])
    rest = len(items) - len(shown)
    if rest:
        return f"{', '.join(shown)} and {rest} more"
    if len(shown) == 1:
        return shown[0]
    return f"{', '.join(shown[:-1])} and {shown[-1]}"
