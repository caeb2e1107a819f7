"""Shared vocabulary of the pipeline: effective policies, findings and the run report.

Every stage hands the next one these frozen values, so a rule can never mutate what another
rule sees and the report can be rendered in any order with the same result. The vocabulary is
framework-neutral on purpose: adapters translate framework words ("max_tries", "retries",
"MaxRetry") into these fields, and rules never learn which framework a task came from except to
quote it in a message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING, Literal, TypeAlias

if TYPE_CHECKING:  # the pipeline's later stages: this module imports nothing of retrylint
    from retrylint.python.ir import Suppression
    from retrylint.scan.files import SkipReason, Unreadable

Severity: TypeAlias = Literal["error", "warning", "note"]
SEVERITY_RANK: dict[str, int] = {"note": 0, "warning": 1, "error": 2}

# Where a value of the effective policy came from (CONTRACTS §4 `sources`).
Source: TypeAlias = Literal["explicit", "inherited", "config", "assumed", "default", "undecided"]

Site: TypeAlias = Literal["definition", "enqueue"]
Trigger: TypeAlias = Literal["automatic", "manual", "automatic+manual", "none", "undecided"]
BackoffKind: TypeAlias = Literal["none", "fixed", "linear", "exponential", "custom"]

# Ordered from weakest to strongest; `custom` is deliberately absent because it meets no
# minimum above `fixed` (CONTRACTS §6).
BACKOFF_ORDER: tuple[BackoffKind, ...] = ("none", "fixed", "linear", "exponential")

UNDECIDED: Literal["undecided"] = "undecided"
UNBOUNDED: Literal["unbounded"] = "unbounded"

Count: TypeAlias = int | Literal["unbounded", "undecided"]
Window: TypeAlias = float | Literal["unbounded", "undecided"]


@dataclass(frozen=True, slots=True, order=True)
class Location:
    """A place in a scanned file; `path` is POSIX and relative to the project root."""

    path: str
    line: int
    column: int
    end_line: int = 0
    end_column: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


# How a framework lets a user meet one category requirement: an option of its retry
# configuration, only code the user writes (a random delay, a delay function, a failure
# handler), or no way at all on some retry path whatever the code does.
Expressible: TypeAlias = Literal["setting", "code", "none"]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a framework's retry configuration can express, per category requirement, as read
    in its source (the README's "Framework capabilities" table is this).

    A requirement that is `none` is not a finding per task, which no edit could fix: RL201 and
    RL202 report it once per category and framework as a note (CONTRACTS §6), giving `instead`.
    For `backoff`, `none` means the delay cannot grow (a fixed wait still meets `fixed`).
    """

    count: Expressible
    backoff: Expressible
    jitter: Expressible
    dead_letter: Expressible
    # Per field that is `none`: (field, why no option or code meets it, what to do instead).
    instead: tuple[tuple[str, str, str], ...] = ()

    def cannot(self, requirement: str) -> tuple[str, str] | None:
        """Why the framework cannot meet `requirement` and what to do instead; None if it can."""
        if getattr(self, requirement) != "none":
            return None
        return next((why, fix) for key, why, fix in self.instead if key == requirement)


@dataclass(frozen=True, slots=True)
class FrameworkInfo:
    """What reports, rules and version detection need to know of a framework, declared by its
    adapter so that adding a framework touches no other module."""

    display: str  # how messages spell it ("Celery", "RQ")
    distribution: str | None  # the PyPI distribution whose pinned version is read, if any
    in_process: bool  # a retry library (retries inside one call), not a task queue
    capabilities: Capabilities
    # Names just below the package a module may import without declaring any retry (an
    # exception to catch, a type, a test switch): such an import is no evidence for RL004.
    incidental: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Via:
    """A project wrapper a task is declared through (`@cron_task` → `shared_task`), so the
    inventory shows why a function counts as a task."""

    wrapper: str  # the wrapper's qualified name where it is defined
    location: Location


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where one policy field's value came from, so every verdict can cite its evidence."""

    source: Source
    location: Location | None = None
    note: str = ""

    def describe(self) -> str:
        """Render as a short phrase for messages: "explicit at app/tasks.py:12"."""
        parts: list[str] = [self.source]
        if self.note:
            parts.append(f"({self.note})")
        if self.location is not None:
            parts.append(f"at {self.location}")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Undecided:
    """A value retrylint could not evaluate without running the code; quoted, never guessed."""

    field: str
    expression: str
    location: Location


@dataclass(frozen=True, slots=True)
class TriggerSite:
    """An exception class written as a retry trigger (`autoretry_for=(Exception,)`)."""

    exception: str
    location: Location


@dataclass(frozen=True, slots=True)
class Redelivery:
    """A broker that hands a message out again when no worker acknowledges it within
    `timeout_seconds` (Redis's and SQS's visibility timeout under Celery/kombu).

    A retry delay is spent holding the unacknowledged message, so a delay longer than the
    timeout makes the broker deliver it again while it waits, and the task runs twice (RL205).
    The adapter records the timeout only when the broker and the timeout are both decided; an
    undecided one goes to the row's `undecided` (RL002), and only where it could matter.
    """

    broker: str  # how messages name it: "Redis", "SQS"
    timeout_seconds: float
    timeout: Provenance  # where the timeout comes from (a setting, or the transport default)
    broker_from: Provenance  # where the broker is chosen (`broker_url`, `CELERY_BROKER_URL`)
    # The largest timeout the broker accepts, when there is one (SQS: 12 h): a delay above it
    # can only be fixed by capping the delay.
    max_timeout_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class WorkerLoss:
    """Settings that make the broker hand a task's message out again when the worker process
    running it is lost mid-run (killed, out of memory), outside any retry counter.

    Recorded only where a setting chooses it (Celery `acks_late` with `reject_on_worker_lost`),
    never for the at-least-once delivery every queue that acknowledges after the run has when a
    whole machine disappears (Dramatiq, Celery `acks_late` alone): that is the queue, not a
    choice the task's configuration makes, so naming it would flag every task. RL302 reads it,
    because the run that was lost may already have had its side effects.
    """

    # Each deciding setting as the framework spells it ("acks_late=True"), and where it is
    # written (`config` with the app setting's name in the note when the app sets it).
    settings: tuple[tuple[str, Provenance], ...]

    def describe(self) -> str:
        """ "acks_late=True (explicit at app/tasks.py:3) and reject_on_worker_lost=True (...)"."""
        return " and ".join(f"{what} ({where.describe()})" for what, where in self.settings)


@dataclass(frozen=True, slots=True)
class PathPolicy:
    """One way a task retries, resolved on its own (CONTRACTS §4 fields, per path).

    A task may retry along several paths: automatic retry on an exception, each retry call
    with its own countdown and budget, a helper that retries it, a retry exception raised in
    another branch. Folding them field by field mixes a label from one path with numbers from
    another ("fixed backoff (waits 10, 20, 40 s)"), so each path keeps its own values and the
    rules judge the row by its worst path, quoting that path alone.
    """

    location: Location  # the retry call, raise or option that starts this path
    # `automatic+manual` for one retry loop that both exceptions and an explicit retry signal
    # drive (tenacity's `TryAgain`): one count and one wait serve both.
    trigger: Literal["automatic", "manual", "automatic+manual"]
    max_retries: Count
    backoff: BackoffKind | Literal["undecided"] | None
    jitter: bool | Literal["undecided"] | None
    delays_seconds: tuple[float, ...] | None
    delays_truncated: bool
    window_seconds: Window
    sources: dict[str, Provenance]


@dataclass(frozen=True, slots=True)
class EffectivePolicy:
    """One inventory row: what a task (or an enqueue site) will actually do when it fails.

    `max_retries` always counts retries after the first run, whatever the framework counts;
    adapters normalize before building this.
    """

    name: str | None
    name_expression: str | None
    framework: str
    site: Site
    location: Location
    retry_trigger: Trigger | None
    max_retries: Count | None
    backoff: BackoffKind | Literal["undecided"] | None
    jitter: bool | Literal["undecided"] | None
    delays_seconds: tuple[float, ...] | None
    delays_truncated: bool
    window_seconds: Window
    sources: dict[str, Provenance]
    final_failure: str
    undecided: tuple[Undecided, ...] = ()
    # Evidence that only some rules read; kept here so rules stay framework-neutral.
    broad_triggers: tuple[TriggerSite, ...] = ()
    inert_options: tuple[tuple[str, Location], ...] = ()
    framework_version: str | None = None
    # Lines where a suppression comment may sit besides the finding's own (decorators, `def`).
    suppression_lines: tuple[int, ...] = ()
    # Project wrappers the declaration goes through, outermost first.
    via: tuple[Via, ...] = ()
    # Framework-aware advice per field ("jitter": "Celery jitters only with retry_backoff"),
    # written by the adapter so rules can give it without knowing the framework.
    hints: tuple[tuple[str, str], ...] = ()
    # The function an enqueue site is written in (`Class.method`, Go `Type.Method`); None for
    # definitions and module-level calls. Part of a finding's identity (CONTRACTS §7), so two
    # enqueue sites of one task in different functions stay apart without naming a line.
    scope: str | None = None
    # The broker's visibility timeout, when the framework holds a delayed retry as an
    # unacknowledged message on such a broker (RL205); None when nothing redelivers it.
    redelivery: Redelivery | None = None
    # Set when a setting makes the message come back after its worker is lost mid-run.
    worker_loss: WorkerLoss | None = None
    # Every retry path, sorted by location; the row-level fields above summarise them, each
    # from the path that is worst for that field (README, "What effective policy means").
    paths: tuple[PathPolicy, ...] = ()
    # Set on `along(path)` views of a task with several paths: the path a message speaks of.
    on_path: Location | None = None
    # The upper-bound wait before retry r+1 for any r (unbounded budgets too), which
    # `delays_seconds` lists only in part; None when the delays are undecided or never wait.
    # Not part of a row's identity or output: two rows with the same fields are the same row.
    delay_fn: Callable[[int], float] | None = field(default=None, compare=False, repr=False)

    def along(self, path: PathPolicy) -> EffectivePolicy:
        """The row as seen along one of its paths, so a rule's label and numbers all come
        from that path; `on_path` is set only when there is another path to tell it from."""
        return replace(
            self,
            retry_trigger=path.trigger,
            max_retries=path.max_retries,
            backoff=path.backoff,
            jitter=path.jitter,
            delays_seconds=path.delays_seconds,
            delays_truncated=path.delays_truncated,
            window_seconds=path.window_seconds,
            sources=path.sources,
            on_path=path.location if len(self.paths) > 1 else None,
        )

    def views(self) -> tuple[EffectivePolicy, ...]:
        """The row along each of its paths; the row itself when it has at most one path, so
        a single-path task is judged exactly as its row reads."""
        if len(self.paths) <= 1:
            return (self,)
        return tuple(self.along(path) for path in self.paths)

    def hint(self, name: str) -> str | None:
        return next((text for key, text in self.hints if key == name), None)

    @property
    def retries(self) -> bool:
        """Whether this site can retry at all (a count of zero or no trigger means no)."""
        if self.retry_trigger in (None, "none"):
            return False
        return self.max_retries != 0


@dataclass(frozen=True, slots=True)
class Observation:
    """A framework trap an adapter saw, for the always-on rule named by `kind` to report.

    Some problems are not about the numbers of a policy but about a mechanism (a message
    requeued outside the retry counter, a publish retry that never stops). The adapter knows the
    framework and writes the sentence; the rule decides code, severity and suppression.
    """

    kind: str  # the reporting rule's name, e.g. "requeue-loop"
    location: Location
    message: str
    fix: str | None
    framework: str
    task: str | None = None
    site: Site | None = None
    anchor_lines: tuple[int, ...] = ()
    scope: str | None = None  # as `EffectivePolicy.scope`, for an observation at an enqueue site


@dataclass(frozen=True, slots=True)
class SilentFramework:
    """A framework that scanned modules import but that gave no row in the whole run (RL004).

    Per run, not per module: a module that only enqueues or configures the framework is normal
    as long as some task of that framework was found anywhere.
    """

    framework: str
    location: Location
    """The first importing module's (by path) first import of the framework."""
    modules: tuple[str, ...]
    """Paths of the scanned modules that import it, sorted."""
    decorators: tuple[tuple[str, int], ...]
    """Decorators in those modules that retrylint does not recognise, as dotted names with
    how many functions carry each, most used first."""
    wrappers: tuple[str, ...]
    """The subset of `decorators` defined in the project: what `task-decorators` can name."""
    retry_library: bool = False
    """A library that retries inside a call (tenacity, backoff, stamina) rather than a task
    queue: its rows are retry sites, and its adapter infers wrappers without `task-decorators`."""


@dataclass(frozen=True, slots=True)
class EmptyScan:
    """A run that scanned no file at all (RL004), with the reason in words."""

    location: Location
    paths: tuple[str, ...]
    """The PATHS of the run, relative to the project root."""
    reason: str
    fix: str


class UsageError(Exception):
    """A problem with how retrylint was invoked (exit 2), as opposed to a finding."""


@dataclass(frozen=True, slots=True)
class Analysis:
    """What a run read from the files, before any rule judged it: all that findings depend on
    besides the policy's categories, tasks and rules, so a warm run can take it from the cache
    and judge it again (`retrylint.scan.run_cache`)."""

    rows: tuple[EffectivePolicy, ...]
    """One per task and site, sorted (`engine`)."""
    observations: tuple[Observation, ...]
    silent: tuple[SilentFramework, ...]
    frameworks: dict[str, FrameworkInfo]
    """What rules may say of each framework whose adapter ran."""
    problems: tuple[Finding, ...]
    """RL000 findings of files that could not be read or parsed."""
    comments: dict[str, tuple[Suppression, ...]]
    """Suppression comments by file."""
    spans: dict[str, dict[int, tuple[int, int]]]
    """Multi-line constructs by file (`suppressions.spans`)."""
    files: int
    """How many files discovery found."""
    unreadable: tuple[Unreadable, ...]
    skipped_files: dict[SkipReason, int]
    skipped_folders: dict[SkipReason, int]
    empty_scan: EmptyScan | None = None
    """Why nothing was scanned, when nothing was (such a run is never cached)."""


@dataclass(frozen=True, slots=True)
class Category:
    """A named set of bounds from the policy file; a bound left out is not enforced."""

    name: str
    description: str = ""
    min_retries: int | None = None
    max_retries: int | None = None
    backoff: BackoffKind | None = None
    jitter: bool = False
    max_window: float | None = None
    dead_letter: bool = False
    location: Location | None = None
    min_window: int | None = None
    """Seconds the retries must at least keep trying for (RL206); None: not enforced."""
    alert: bool = True
    """Whether a task of this category exhausting its retries should page someone."""
    alert_exhausted_rate: Fraction | None = None
    """Messages per second that may run out of retries before the alert fires; None: the
    threshold `retrylint alerts` derives from the category (README "Alert rules")."""
    alert_queue_length: int | None = None
    """Tasks an asynq queue may hold before its alert fires; None: derived from the rates."""
    review_every: int | None = None
    """Seconds between reviews of the category's tasks (RL406): the category's own
    `review-every`, else the top-level one, already merged by the loader; None: no reviews."""
    review_every_inherited: bool = False
    """`review_every` is the top-level value (for messages that say where it came from)."""


@dataclass(frozen=True, slots=True)
class Assignment:
    """How a task got its category: the `[tasks]` key that matched, or a default."""

    category: Category
    source: Literal["exact", "glob", "default-category", "built-in"]
    key: str | None = None
    owner: str | None = None
    note: str | None = None
    # Copied from the `[tasks]` entry that matched, like `owner` and `note`.
    reviewed: date | None = None
    idempotent: bool | None = None
    rate: Fraction | None = None
    """Messages per second the entry says the task receives."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One reported problem; the JSON report is a direct rendering of these fields."""

    rule: str
    name: str
    severity: Severity
    location: Location
    message: str
    fix: str | None = None
    task: str | None = None
    inventory_key: str | None = None
    framework: str | None = None
    site: Site | None = None
    expression: str | None = None
    # Every task one finding speaks for (an undecided expression several tasks share).
    tasks: tuple[str, ...] = ()
    # The enqueue site's enclosing function (`EffectivePolicy.scope`), for the identity only.
    scope: str | None = None
    # Extra lines on which a suppression comment may sit (decorator line, `def` line).
    anchor_lines: tuple[int, ...] = field(default=(), compare=False)
    # Whether a verified autofix clears it (`retrylint.fix`): "safe", "unsafe" or None.
    fix_applicability: Literal["safe", "unsafe"] | None = field(default=None, compare=False)

    def sort_key(self) -> tuple[str, int, int, str, str, str]:
        """Total order of CONTRACTS §5, applied once by the engine."""
        return (
            self.location.path,
            self.location.line,
            self.location.column,
            self.rule,
            self.task or "",
            self.message,
        )


@dataclass(frozen=True, slots=True)
class FixSummary:
    """What the text summary says of autofixes: how many `--fix` applied (None when the run
    did not fix), and whether unsafe fixes count as available (`--unsafe-fixes`)."""

    fixed: int | None
    unsafe: bool
