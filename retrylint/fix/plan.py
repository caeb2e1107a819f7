"""Which edit could clear a finding, in the framework's own spelling; nothing here reads files.

A plan is only a proposal: `retrylint.fix.verify` keeps it only if the re-analysed code no
longer has the finding. That is what lets the planner stay simple and the rules below stay few:

- **Where**: a value the resolver cites as written at the task's own declaration (its
  decorator, its class, the enqueue call) or in the app's configuration (a Celery annotation) is
  replaced where it is written. A value that is a framework default, comes from a base class, or
  was written inside a project wrapper the task is declared through (`via`) is overridden by an
  option added at the task's own decorator or call, never inside the shared code. Assumed and
  undecided values are never touched: retrylint does not know what they are at run time.
- **How much** (RL101): the category's `max-retries.max`, else the built-in policy's 10,
  always counted as retries after the first run. Frameworks differ in what their option counts;
  the adapters already normalise it when they resolve, so a fix carries both spellings (`n` and
  `n + 1`) and the verifier keeps the one the resolver reads back as `n` retries, instead of a
  second table of which framework counts runs.
- **Unsafe** fixes (RL201, RL202) switch on the framework's own backoff or jitter, which changes
  when retries happen; a framework with no such setting gets none.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from retrylint.fix.edits import Attribute, Edit, GoReplace, Import, Keyword, Replace
from retrylint.model import Assignment, EffectivePolicy, Finding, Location

Applicability = Literal["safe", "unsafe"]
Identity = tuple[str, str | None, str | None, str | None, str | None, str]

# The bound written when the category states none (the built-in policy's, CONTRACTS §2).
BUILT_IN_MAX = 10

SAFE_RULES = frozenset({"RL101"})
UNSAFE_RULES = frozenset({"RL201", "RL202"})


@dataclass(frozen=True)
class Bound:
    """How a framework spells a retry limit: the keyword, the text for a count, the imports
    that text needs, and the decorators (dotted-name tails) that take it."""

    keyword: str
    render: Callable[[int], str] = str
    decorators: tuple[str, ...] = ()
    imports: tuple[tuple[str, str], ...] = ()
    inner: str | None = None  # the keyword whose call holds it (`retry_policy=RetryPolicy()`)
    create: str | None = None


def _call(name: str) -> Callable[[int], str]:
    return lambda n: f"{name}({n})"


_TEMPORAL_POLICY = (("temporalio.common", "RetryPolicy"),)

BOUNDS: dict[str, Bound] = {
    "celery": Bound("max_retries", decorators=("task", "shared_task")),
    "dramatiq": Bound("max_retries", decorators=("actor",)),
    "rq": Bound("max"),  # only `Retry(max=...)` as written: RQ never retries by default
    "huey": Bound("retries", decorators=("task", "periodic_task", "db_task", "db_periodic_task")),
    "arq": Bound("max_tries"),  # `func(coroutine, max_tries=)`, where it is written
    "taskiq": Bound("max_retries", decorators=("task",)),
    "procrastinate": Bound("retry", decorators=("task",)),
    "saq": Bound("retries"),
    "temporal": Bound(
        "maximum_attempts", imports=_TEMPORAL_POLICY, inner="retry_policy", create="RetryPolicy"
    ),
    "tenacity": Bound(
        "stop",
        _call("stop_after_attempt"),
        decorators=("retry",),
        imports=(("tenacity", "stop_after_attempt"),),
    ),
    "backoff": Bound("max_tries", decorators=("on_exception", "on_predicate")),
    "stamina": Bound("attempts", decorators=("retry",)),
    "asynq": Bound("MaxRetry"),
}


@dataclass(frozen=True)
class Setting:
    """One option that turns on backoff or jitter: keyword, value, imports, decorators."""

    keyword: str
    code: str
    decorators: tuple[str, ...] = ()
    imports: tuple[tuple[str, str], ...] = ()
    inner: str | None = None
    create: str | None = None
    # The retry trigger the option acts on; Celery's retry_backoff only shapes autoretry.
    automatic_only: bool = False


_CELERY_BACKOFF = Setting(
    "retry_backoff", "True", decorators=("task", "shared_task"), automatic_only=True
)
_TENACITY_WAIT = Setting(
    "wait",
    "wait_random_exponential(multiplier=1, max=60)",
    decorators=("retry",),
    imports=(("tenacity", "wait_random_exponential"),),
)
# Per framework and rule, the options to set. Dramatiq, asynq and stamina's defaults already
# back off exponentially with jitter (Dramatiq's RL201/RL202 come from a `Retry(delay=)` in
# code); taskiq's backoff and jitter are middleware settings, not per task; backoff's wait is a
# positional generator; Temporal and Huey have no jitter at all, so RL202 has no fix there.
SETTINGS: dict[tuple[str, str], tuple[Setting, ...]] = {
    ("celery", "RL201"): (_CELERY_BACKOFF,),
    ("celery", "RL202"): (
        _CELERY_BACKOFF,
        Setting("retry_jitter", "True", decorators=("task", "shared_task")),
    ),
    ("huey", "RL201"): (Setting("retry_backoff", "2", decorators=BOUNDS["huey"].decorators),),
    ("saq", "RL201"): (Setting("retry_backoff", "True"),),
    ("saq", "RL202"): (Setting("retry_backoff", "True"),),
    ("temporal", "RL201"): (
        Setting(
            "backoff_coefficient",
            "2.0",
            imports=_TEMPORAL_POLICY,
            inner="retry_policy",
            create="RetryPolicy",
        ),
    ),
    ("tenacity", "RL201"): (_TENACITY_WAIT,),
    ("tenacity", "RL202"): (_TENACITY_WAIT,),
    # backoff jitters by default (full jitter); RL202 means `jitter=None` was written.
    ("backoff", "RL202"): (
        Setting(
            "jitter",
            "backoff.full_jitter",
            decorators=BOUNDS["backoff"].decorators,
            imports=(("backoff", ""),),
        ),
    ),
    ("stamina", "RL201"): (Setting("wait_exp_base", "2", decorators=("retry",)),),
    ("stamina", "RL202"): (Setting("wait_jitter", "1.0", decorators=("retry",)),),
}


@dataclass(frozen=True)
class Fix:
    """A proposed fix of one finding: its edits, and for a bound, the same edits spelled as
    a count of runs (`as_runs`), for frameworks whose option counts runs."""

    finding: Finding
    row: EffectivePolicy
    applicability: Applicability
    edits: tuple[Edit, ...]
    as_runs: tuple[Edit, ...] = ()
    bound: int | None = None  # retries after the first run the fixed row must resolve to


def plan(
    findings: Sequence[Finding],
    rows: Sequence[EffectivePolicy],
    assignments: Sequence[Assignment | None],
) -> list[Fix]:
    """A proposal for every finding this module knows how to fix, safe and unsafe alike."""
    fixes: list[Fix] = []
    for finding in findings:
        if finding.rule not in SAFE_RULES | UNSAFE_RULES or finding.task is None:
            continue
        found = _row(finding, rows, assignments)
        if found is None:
            continue
        row, assignment = found
        fix = (
            _bound(finding, row, assignment)
            if finding.rule in SAFE_RULES
            else _setting(finding, row)
        )
        if fix is not None:
            fixes.append(fix)
    return fixes


def identity(finding: Finding) -> Identity:
    """A finding without its line (CONTRACTS §7 plus the file), so a fix that adds an import
    line above it still names the same finding."""
    return (
        finding.rule,
        finding.framework,
        finding.task,
        finding.site,
        finding.scope,
        finding.location.path,
    )


def _row(
    finding: Finding,
    rows: Sequence[EffectivePolicy],
    assignments: Sequence[Assignment | None],
) -> tuple[EffectivePolicy, Assignment | None] | None:
    """The row a finding is about: same task, framework, site and place."""
    for row, assignment in zip(rows, assignments, strict=True):
        if (
            row.name == finding.task
            and row.framework == finding.framework
            and row.site == finding.site
            and row.scope == finding.scope
            and (row.location.path, row.location.line, row.location.column)
            == (finding.location.path, finding.location.line, finding.location.column)
        ):
            return row, assignment
    return None


def _is_undecided(row: EffectivePolicy, *fields: str) -> bool:
    return any(u.field in fields for u in row.undecided)


def _bound(finding: Finding, row: EffectivePolicy, assignment: Assignment | None) -> Fix | None:
    spelling = BOUNDS.get(row.framework)
    source = row.sources.get("max_retries")
    if spelling is None or source is None or _is_undecided(row, "max_retries"):
        return None
    bound = BUILT_IN_MAX
    if assignment is not None and assignment.category.max_retries is not None:
        bound = assignment.category.max_retries

    def edits(count: int) -> tuple[Edit, ...] | None:
        # A framework that registers tasks by a call, not a decorator (arq's `func(fn,
        # max_tries=)`), writes the value at that registration, wherever it is.
        written = (
            source.source == "config"
            or not spelling.decorators
            or _written_here(row, source.location)
        )
        if source.source in ("explicit", "config") and written and source.location is not None:
            at = source.location
            if row.framework == "asynq":
                return (GoReplace(at, str(count), argument=True),)
            by_keyword = ((spelling.keyword, spelling.render(count)),)
            imports = _imports(at.path, spelling.imports) if spelling.render is not str else ()
            return (Replace(at, str(count), by_keyword), *imports)
        if source.source not in ("explicit", "inherited", "default") or row.framework == "asynq":
            return None
        if source.source == "explicit" and _set_by_a_retry(row, source.location):
            return None
        option = _option(
            row,
            spelling.keyword,
            spelling.render(count),
            spelling.decorators,
            spelling.imports,
            spelling.inner,
            spelling.create,
        )
        if option is None or source.source != "explicit":
            return option
        return tuple(
            replace(e, overrides=source.location) if isinstance(e, Keyword) else e for e in option
        )

    as_retries, as_runs = edits(bound), edits(bound + 1)
    if as_retries is None or as_runs is None:
        return None
    return Fix(finding, row, "safe", as_retries, as_runs, bound)


def _setting(finding: Finding, row: EffectivePolicy) -> Fix | None:
    settings = SETTINGS.get((row.framework, finding.rule), ())
    field = "backoff" if finding.rule == "RL201" else "jitter"
    if not settings or _is_undecided(row, field, "delays"):
        return None
    if row.sources.get(field) is not None and row.sources[field].source in ("assumed", "undecided"):
        return None
    edits: list[Edit] = []
    for setting in settings:
        if setting.automatic_only and row.retry_trigger not in ("automatic", "automatic+manual"):
            return None
        option = _option(
            row,
            setting.keyword,
            setting.code,
            setting.decorators,
            setting.imports,
            setting.inner,
            setting.create,
        )
        if option is None:
            return None
        edits.extend(option)
    return Fix(finding, row, "unsafe", tuple(dict.fromkeys(edits)))


def _option(
    row: EffectivePolicy,
    keyword: str,
    code: str,
    decorators: tuple[str, ...],
    imports: tuple[tuple[str, str], ...],
    inner: str | None,
    create: str | None,
) -> tuple[Edit, ...] | None:
    """`keyword=code` on the task's own decorator or call: the wrapper's decorator first when
    the task is declared through one (the call site, never the wrapper's body)."""
    extra = _imports(row.location.path, imports)
    if row.site == "enqueue":
        return (Keyword(row.location, keyword, code, inner=inner, create=create), *extra)
    wrappers = tuple(v.wrapper.rpartition(".")[2] for v in row.via)
    if not decorators and not wrappers:
        return None
    if row.framework == "celery" and _is_class(row):
        return (Attribute(row.location, keyword, code),)
    return (
        Keyword(row.location, keyword, code, (*wrappers, *decorators), inner, create),
        *extra,
    )


def _is_class(row: EffectivePolicy) -> bool:
    """A class-based Celery task: no decorator line is recorded before its definition line."""
    return not any(line < row.location.line for line in row.suppression_lines)


def _written_here(row: EffectivePolicy, at: Location | None) -> bool:
    """Whether a cited value sits in the task's own declaration (its decorators, the `def` or
    class line, the enqueue call), not in a wrapper, a base class or another module."""
    if at is None or at.path != row.location.path:
        return False
    if row.site == "enqueue" or row.framework == "asynq":
        return True
    first = min((*row.suppression_lines, row.location.line))
    return first <= at.line <= row.location.line


def _set_by_a_retry(row: EffectivePolicy, at: Location | None) -> bool:
    """Whether the count is written in the retry statement itself (Huey's
    `CancelExecution(retry=True)`, Celery's `self.retry(max_retries=None)`): that statement
    wins over any option on the decorator, so adding one cannot clear the finding, and
    proposing it made `check` count a fix `--fix` always leaves out."""
    return at is not None and any(
        (p.location.path, p.location.line) == (at.path, at.line) for p in row.paths
    )


def _imports(path: str, imports: tuple[tuple[str, str], ...]) -> tuple[Edit, ...]:
    return tuple(Import(path, module, name) for module, name in imports)
