"""The rule contract and the helpers every rule uses to build findings.

A rule is a small class with its metadata and a `check` over the inventory. Rules never sort,
never read files and never name a framework: the engine orders findings once, and adapters put
framework-aware advice into the rows (`EffectivePolicy.hints`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import ClassVar, Protocol

from retrylint.config.policy import Policy
from retrylint.model import (
    Assignment,
    Category,
    EffectivePolicy,
    EmptyScan,
    Finding,
    FrameworkInfo,
    Location,
    Observation,
    Severity,
    SilentFramework,
)


@dataclass(frozen=True, slots=True)
class RuleMeta:
    code: str
    name: str
    severity: Severity
    summary: str


@dataclass(frozen=True)
class RuleContext:
    """The inventory in scope, each row with the category it was assigned (None: no match)."""

    rows: Sequence[tuple[EffectivePolicy, Assignment | None]]
    policy: Policy
    # Whole-inventory rules (RL402) only speak when PATHS cover the project root.
    whole_inventory: bool
    # Every task name found in the project, in or out of scope, for whole-inventory rules.
    all_names: frozenset[str]
    observations: Sequence[Observation] = ()
    # RL004's evidence: frameworks imported without a single row, and a run that read no file.
    silent_frameworks: Sequence[SilentFramework] = ()
    empty_scan: EmptyScan | None = None
    # What each adapter declares of its framework (display name, retry library or task queue).
    frameworks: Mapping[str, FrameworkInfo] = field(default_factory=dict)
    # The day reviews are judged on (RL406): `check --today`, else the clock's.
    today: date = field(default_factory=date.today)

    def display(self, framework: str) -> str:
        info = self.frameworks.get(framework)
        return info.display if info is not None else framework

    def in_process(self, framework: str) -> bool:
        info = self.frameworks.get(framework)
        return info is not None and info.in_process

    def cannot(self, framework: str, requirement: str) -> tuple[str, str] | None:
        """Why `framework` cannot meet a category `requirement` on every retry path, and what
        to do instead; None when a setting or the task's code can meet it."""
        info = self.frameworks.get(framework)
        return info.capabilities.cannot(requirement) if info is not None else None


class Rule(Protocol):
    meta: ClassVar[RuleMeta]

    def check(self, ctx: RuleContext) -> Iterator[Finding]: ...


def task_finding(
    meta: RuleMeta,
    row: EffectivePolicy,
    message: str,
    fix: str | None,
    *,
    location: Location | None = None,
    expression: str | None = None,
) -> Finding:
    """A finding about one inventory row; suppressible on the row's decorator and def lines,
    and on the lines of the same file its fields' values come from (CONTRACTS §7)."""
    at = location or row.location
    cited = {
        prov.location.line
        for prov in row.sources.values()
        if prov.location is not None and prov.location.path == at.path
    }
    if row.on_path is not None and row.on_path.path == at.path:
        cited.add(row.on_path.line)
    return Finding(
        rule=meta.code,
        name=meta.name,
        severity=meta.severity,
        location=at,
        message=message,
        fix=fix,
        task=row.name,
        framework=row.framework,
        site=row.site,
        expression=expression,
        tasks=(row.name,) if row.name else (),
        scope=row.scope,
        anchor_lines=tuple(sorted({*row.suppression_lines, *cited})),
    )


# Rows whose framework cannot meet a requirement, by (category name, framework).
Unmet = dict[tuple[str, str], list[tuple[EffectivePolicy, Assignment]]]


def cannot_express(
    meta: RuleMeta,
    ctx: RuleContext,
    requirement: str,
    demand: Callable[[Category], str],
    unmet: Unmet,
) -> Iterator[Finding]:
    """One note per category and framework whose retries cannot meet `requirement`
    (CONTRACTS §6): no edit to a task could fix a finding per task, so the note says once what
    the user can do instead, at the first site and listing every task it speaks for."""
    for (category, framework), pairs in sorted(unmet.items()):
        reason = ctx.cannot(framework, requirement)
        assert reason is not None, (framework, requirement)
        why, fix = reason
        rows = [row for row, _ in pairs]
        names = sorted({row.name or row.name_expression or "?" for row in rows})
        shown = ", ".join(f"`{n}`" for n in names[:3])
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        built_in = " (built-in)" if all(a.source == "built-in" for _, a in pairs) else ""
        sites = {row.site for row in rows}
        first = min(rows, key=lambda row: row.location)
        plural = "task" if len(names) == 1 else "tasks"
        yield Finding(
            rule=meta.code,
            name=meta.name,
            severity="note",
            location=first.location,
            message=(
                f"category `{category}`{built_in} {demand(pairs[0][1].category)}, which "
                f"{ctx.display(framework)} cannot give {len(names)} {plural} ({shown}{more}): {why}"
            ),
            fix=fix,
            framework=framework,
            site=sites.pop() if len(sites) == 1 else None,
            tasks=tuple(names),
        )


def label(row: EffectivePolicy) -> str:
    """How messages name a task: its registered name, or the expression that computes it;
    on a view of one of several retry paths, also where that path starts, so the reader
    knows which path the numbers that follow belong to."""
    text = f"`{row.name}`" if row.name is not None else f"task named by `{row.name_expression}`"
    if row.on_path is not None:
        text += f" (retry path at {row.on_path})"
    return text


def worst_view(
    row: EffectivePolicy, score: Callable[[EffectivePolicy], float | None]
) -> EffectivePolicy | None:
    """The row along the path a rule judges worst, so its verdict and every number in its
    message come from that one path.

    `score` rates a view: None when the rule has nothing to say about that path, else higher
    is worse; on a tie the first path (by location) is taken. A task with one path is judged
    as its row reads.
    """
    best: tuple[float, EffectivePolicy] | None = None
    for view in row.views():
        value = score(view)
        if value is not None and (best is None or value > best[0]):
            best = (value, view)
    return best[1] if best is not None else None


def where(row: EffectivePolicy, field: str) -> str:
    """The provenance of one field, as a message fragment."""
    prov = row.sources.get(field)
    return prov.describe() if prov is not None else "unknown source"


def category_phrase(assignment: Assignment) -> str:
    key = f" via `{assignment.key}`" if assignment.key else ""
    return f"category `{assignment.category.name}` ({assignment.source}{key})"


def observed(meta: RuleMeta, ctx: RuleContext) -> Iterator[Finding]:
    """Findings for the observations addressed to a rule (its `name` is their `kind`)."""
    for obs in ctx.observations:
        if obs.kind == meta.name:
            yield Finding(
                rule=meta.code,
                name=meta.name,
                severity=meta.severity,
                location=obs.location,
                message=obs.message,
                fix=obs.fix,
                task=obs.task,
                framework=obs.framework,
                site=obs.site,
                scope=obs.scope,
                anchor_lines=obs.anchor_lines,
            )
