"""RQ (written against 3.0.0; returned `Retry` objects need 2.1.0 or later).

RQ sets the retry policy where a job is enqueued: `queue.enqueue(f, retry=Retry(max, interval))`
(also `enqueue_call`, `enqueue_at`, `enqueue_in`, `Queue.prepare_data`, `Job.create` and
`django_rq.enqueue`). `@job(..., retry=Retry(...))` fixes a policy for the `.delay()` /
`.enqueue()` methods the decorator adds; a job may also *return* a `Retry`. Without a `Retry`
a failed job is never retried.

Recognised job forms: `rq.decorators.job` and `django_rq.job` under any alias, subclasses of
them, `partial(job, ...)` bindings and decorator aliases (`job = partial(MyJob, connection=...)`
as in redash), `@<ext>.job` on a Flask extension instance (`ext = RQ(app)` from Flask-RQ2
18.3, `flask_rq2`, or Flask-RQ 1.0, `flask_rq`; neither decorator takes `retry`), and Flask-RQ
0.2's module-level `flask_rq.job`. Jobs enqueued
by dotted string are named by that string; queues returned by a call
(`django_rq.get_queue("high").enqueue(f, retry=...)`) enqueue like any other.

What `retry=` does on a job's own methods depends on the wrapper that made it: RQ's (and
django_rq's) `.delay()` / `.enqueue()` and Flask-RQ2's `.queue()` / `.schedule()` / `.cron()`
hand it to the function as an argument; Flask-RQ 1.0's `.enqueue()`, `.enqueue_at()` and
`.enqueue_in()`, and Flask-RQ 0.2's `.delay()`, pass it to `Queue.enqueue*`, which sets the
policy (an enqueue row).

Facts from RQ 3.0.0's source (reference §3 and §13):
- `Retry(max, interval=0)`: `max` counts retries and must be at least 1 (`ValueError`);
  `interval` is an int or a list; a float raises `UnboundLocalError` when the Retry is built.
- A raised exception with an enqueue-time Retry picks `intervals[max(len - retries_left, 0)]`:
  when `max` exceeds the list, the *first* value repeats for the early retries. A returned Retry
  picks `intervals[min(len - 1, count)]`: the *last* value repeats.
- No backoff formula, no jitter; an interval above 0 needs a scheduler to move the job back.
- The last failure goes to the queue's FailedJobRegistry (kept `failure_ttl`, one year by
  default); `on_failure` callbacks run on every failure.
- `f.delay(..., retry=...)` on an `@job` function does not pop `retry`: the function receives it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from retrylint.durations import format_duration
from retrylint.frameworks.base import (
    AdapterContext,
    Local,
    UndecidedLog,
    Where,
    deref,
    dict_item,
    kind_of,
    kwarg_where,
    locals_of,
    method_ref,
    module_calls,
    module_imports,
    policy_row,
    source_of,
    subclass_of,
)
from retrylint.frameworks.recognize import MakerRules, Options, Recognizer
from retrylint.model import (
    UNDECIDED,
    BackoffKind,
    Capabilities,
    Count,
    EffectivePolicy,
    FrameworkInfo,
    Observation,
    Provenance,
)
from retrylint.python import ir
from retrylint.python.evaluate import (
    Formula,
    Known,
    Sym,
    Unknown,
    location_of,
    mentions_random,
    number,
)
from retrylint.python.project import Resolved
from retrylint.resolve.schedule import (
    DelayFn,
    Fields,
    RetryPath,
    combine,
    constant_delay,
    never_retries,
    with_kinds,
)
from retrylint.scan.versions import at_least

KEY = "rq"
# The version the facts above were read from (reference §0), assumed when none is detected.
REFERENCE_VERSION = "3.0.0"
# rq/defaults.py: DEFAULT_FAILURE_TTL.
DEFAULT_FAILURE_TTL = 31_536_000

_JOB = frozenset({"rq.decorators.job", "django_rq.job", "django_rq.decorators.job"})
_RETRY = frozenset({"rq.Retry", "rq.job.Retry", "rq.retry.Retry"})
_JOB_CLASS = frozenset({"rq.job.Job", "rq.Job"})
# Flask extensions whose `.job` decorator makes RQ jobs, by the wrapper kind they make.
_FLASK_EXTENSIONS: dict[str, str] = {
    "flask_rq2.RQ": "flask_rq2",
    "flask_rq2.app.RQ": "flask_rq2",
    "flask_rq.RQ": "flask_rq",
    "flask_rq._extension.RQ": "flask_rq",
}
# A job's own methods and what each does with `retry=`: "argument" hands it to the function,
# "queue" passes it to `Queue.enqueue*` (the function is the receiver; the other positional
# arguments are the function's, after `when` for the timed forms).
_JOB_METHODS: dict[str, dict[str, str]] = {
    "rq": {"delay": "argument", "enqueue": "argument"},
    "flask_rq2": {"queue": "argument", "schedule": "argument", "cron": "argument"},
    "flask_rq": {
        "enqueue": "queue",
        "enqueue_at": "queue",
        "enqueue_in": "queue",
        "cron_register": "argument",
    },
    "flask_rq_0": {"delay": "queue"},
}
# Flask-RQ 0.2's module-level decorator: `@job` / `@job("queue")`, whose `.delay()` enqueues.
_FLASK_RQ_0_JOB = frozenset({"flask_rq.job"})
_DJANGO_RQ_JOB = frozenset({"django_rq.job", "django_rq.decorators.job"})
_WRAPPER_NAMES = {"flask_rq2": "Flask-RQ2", "flask_rq": "Flask-RQ"}
# Enqueue methods and the position of the function argument.
_ENQUEUE: dict[str, int] = {
    "enqueue": 0,
    "enqueue_call": 0,
    "prepare_data": 0,
    "create": 0,
    "enqueue_at": 1,
    "enqueue_in": 1,
}
_FUNC_KWARGS = ("f", "func")


@dataclass(frozen=True, slots=True)
class _JobDecorator:
    options: Options = field(default_factory=Options)
    # Which wrapper made the job: a key of `_JOB_METHODS`.
    wrapper: str = "rq"


@dataclass
class _Policy:
    """What one `retry=` value (or returned Retry) amounts to, before rows are built."""

    paths: list[RetryPath] = field(default_factory=list)
    # Backoff kind of each path worked out from its whole delay list (see `_list_kind`).
    kinds: list[BackoffKind | None] = field(default_factory=list)
    never: Provenance | None = None
    undecided: Provenance | None = None
    observations: list[Observation] = field(default_factory=list)


def _schedule(values: Sequence[float], count: Count, returned: bool) -> tuple[DelayFn, list[float]]:
    """The delay before retry r+1 for an interval list, and the list of actual delays."""
    last = len(values) - 1
    if returned or not isinstance(count, int):

        def pick(r: int) -> float:
            return values[min(last, r)]

        listed = [pick(r) for r in range(count)] if isinstance(count, int) else []
        return pick, listed
    total = count

    def early(r: int) -> float:
        # `Job.get_retry_interval`: index = max(len - retries_left, 0), retries_left = max - r.
        return values[min(last, max(len(values) - (total - r), 0))]

    return early, [early(r) for r in range(min(total, 10_000))]


class RQAdapter:
    key = KEY
    info = FrameworkInfo(
        "RQ",
        "rq",
        in_process=False,
        capabilities=Capabilities(
            count="setting", backoff="setting", jitter="code", dead_letter="setting"
        ),
    )
    packages: tuple[str, ...] = ("rq", "django_rq", "flask_rq2", "flask_rq")
    # An RQ file imports rq (django_rq, flask_rq, flask_rq2), builds a Retry, decorates with
    # @job or enqueues.
    markers = re.compile(
        rb"import rq|from rq|rq\.|django_rq|flask_rq|@job\b|\.enqueue(?:_call|_at|_in)?\("
    )
    interest = ir.Interest(
        calls=frozenset(
            {
                "Retry",
                "enqueue",
                "enqueue_call",
                "enqueue_at",
                "enqueue_in",
                "prepare_data",
                "create",
                "delay",
                "partial",
                # Flask-RQ2 and Flask-RQ job methods.
                "queue",
                "schedule",
                "cron",
                "cron_register",
            }
        ),
        attributes=frozenset(),
    )

    def analyze(self, ctx: AdapterContext) -> Iterable[EffectivePolicy | Observation]:
        return _Analysis(ctx).rows()

    def project_markers(self, ctx: AdapterContext) -> frozenset[str]:
        a = _Analysis(ctx)
        return a.recognizer.markers(
            ctx.scanned,
            lambda b, m: (
                a.factory(b.value, m, 0) is not None
                or a.decorator(b.value, m) is not None
                or a.flask_extension(b.target, m) is not None
            ),
            a.is_job_class,
        )


class _Analysis:
    def __init__(self, ctx: AdapterContext) -> None:
        self.ctx = ctx
        self.project = ctx.project
        self.evaluator = ctx.evaluator
        self.version = ctx.version or REFERENCE_VERSION
        # Project functions that pass their keywords on to `job`, inferred or named in
        # `[frameworks.rq] task-decorators`, e.g. `@utils.task(queue=..., retry=Retry(...))`.
        self.recognizer = Recognizer(
            ctx.project,
            lambda expr, module: self.factory(expr, module) is not None,
            ctx.settings.task_decorators,
        )
        self._job_classes: dict[str, bool | None] = {}
        self.rules: MakerRules[_JobDecorator] = MakerRules(
            leaf=self._job_maker,
            merge=_merge,
            extend=lambda made, expansion: replace(made, options=made.options.extended(expansion)),
            # RQ's `job(queue)` needs its call; django_rq's `@job` and the Flask extensions'
            # `@rq.job` work bare.
            bare=lambda made, found: (
                made.wrapper != "rq" or (found is not None and found.qualified in _DJANGO_RQ_JOB)
            ),
            follows=lambda value: isinstance(value, ir.Call) and not _is_partial(value),
        )
        # Returned Retry objects are honoured from RQ 2.1.0 (reference §3b).
        self.returns_retry = at_least(ctx.version, (2, 1), (3, 0, 0))
        self._jobs: dict[str, tuple[ir.Function, ir.ModuleSummary, _JobDecorator]] | None = None

    # -- recognising decorators ----------------------------------------------------------

    def is_job_class(self, cls: ir.Class, module: ir.ModuleSummary) -> bool:
        """A subclass of RQ's `job` decorator class (redash's StatsdRecordingJobDecorator)."""
        return subclass_of(
            self.project,
            self._job_classes,
            cls,
            module,
            lambda found, base, m: found is not None and found.qualified in _JOB,
        )

    def flask_extension(self, dotted: str, module: ir.ModuleSummary) -> str | None:
        """The wrapper kind of a Flask RQ extension instance a name refers to, or None."""
        found = self.project.resolve(module, dotted)
        if found is None or found.binding is None or found.module is None:
            return None
        value, where = self.evaluator.deref(found.binding.value, found.module)
        if not isinstance(value, ir.Call) or not isinstance(value.func, ir.Ref):
            return None
        made = self.project.resolve(where, value.func.dotted)
        return _FLASK_EXTENSIONS.get(made.qualified) if made is not None else None

    def _flask_job(self, expr: ir.Ref, module: ir.ModuleSummary) -> _JobDecorator | None:
        """`<ext>.job` on a Flask-RQ / Flask-RQ2 extension."""
        receiver, _, method = expr.dotted.rpartition(".")
        kind = self.flask_extension(receiver, module) if method == "job" and receiver else None
        return _JobDecorator(wrapper=kind) if kind is not None else None

    def factory(
        self, expr: ir.Expr, module: ir.ModuleSummary, depth: int = 0
    ) -> _JobDecorator | None:
        """A callable that makes a job decorator: `job`, a subclass, `partial(job, ...)`."""
        return self.recognizer.maker(self.rules, expr, module, depth)

    def decorator(
        self, expr: ir.Expr, module: ir.ModuleSummary, depth: int = 0
    ) -> _JobDecorator | None:
        """The options a decorator applies, or None when it does not make an RQ job."""
        return self.recognizer.decoration(self.rules, expr, module, depth)

    def _job_maker(
        self, expr: ir.Ref, found: Resolved | None, module: ir.ModuleSummary, depth: int
    ) -> _JobDecorator | None:
        flask = self._flask_job(expr, module)
        if flask is not None:
            return flask
        if found is None:
            return None
        if found.qualified in _JOB or self.recognizer.configured(found):
            return _JobDecorator()
        if found.qualified in _FLASK_RQ_0_JOB:
            return _JobDecorator(wrapper="flask_rq_0")
        if found.kind == "class" and found.cls is not None and found.module is not None:
            return _JobDecorator() if self.is_job_class(found.cls, found.module) else None
        return None

    def jobs(self) -> dict[str, tuple[ir.Function, ir.ModuleSummary, _JobDecorator]]:
        """Every `@job` function of the project, by qualified name."""
        if self._jobs is None:
            self._jobs = {}
            for summary in list(self.project.loaded()):
                for fn in summary.functions:
                    if self.recognizer.inside_wrapper(fn, summary):
                        continue
                    for dec in fn.decorators:
                        info = self.decorator(dec, summary)
                        if info is not None:
                            self._jobs[f"{summary.module}.{fn.qualname}"] = (fn, summary, info)
                            break
        return self._jobs

    # -- rows ----------------------------------------------------------------------------

    def rows(self) -> Iterator[EffectivePolicy | Observation]:
        jobs = self.jobs()
        helpers = self._retry_helpers()
        for summary in self.ctx.scanned:
            uses_rq = module_imports(summary, RQAdapter.packages)
            for fn in summary.functions:
                if self.recognizer.inside_wrapper(fn, summary):
                    continue
                info = next(
                    (i for d in fn.decorators if (i := self.decorator(d, summary)) is not None),
                    None,
                )
                returned = self._returned_retries(fn, summary)
                if info is None and f"{summary.module}.{fn.qualname}" in helpers:
                    continue  # builds the Retry for `retry=` (netbox's get_rq_retry)
                if info is not None or returned:
                    yield from self._definition(fn, summary, info, returned)
            for call, scope in module_calls(summary):
                yield from self._call(call, scope, summary, uses_rq, jobs)

    def _retry_helpers(self) -> set[str]:
        """Functions whose returned Retry is a `retry=` value, not a job's own retry request."""
        found: set[str] = set()
        for summary in list(self.project.loaded()):
            if not module_imports(summary, RQAdapter.packages):
                continue
            for call, scope in module_calls(summary):
                retry = kwarg_where(
                    call, "retry", summary, self.ctx, locals_of(scope, call.span.line)
                )
                if retry is None:
                    continue
                given = deref(retry, self.ctx)
                if isinstance(given.expr, ir.Call) and isinstance(given.expr.func, ir.Ref):
                    helper = self.project.resolve(given.module, given.expr.func.dotted)
                    if helper is not None and helper.function is not None:
                        found.add(helper.qualified)
        return found

    def _returned_retries(self, fn: ir.Function, summary: ir.ModuleSummary) -> list[Where]:
        local = locals_of(fn)
        out: list[Where] = []
        for ret in fn.returns:
            target = deref(Where(ret, summary, local=local), self.ctx)
            if isinstance(target.expr, ir.Call) and self._is_retry(target.expr, target.module):
                out.append(target)
        return out

    def _is_retry(self, call: ir.Call, module: ir.ModuleSummary) -> bool:
        if not isinstance(call.func, ir.Ref):
            return False
        found = self.project.resolve(module, call.func.dotted)
        return found is not None and found.qualified in _RETRY

    def _definition(
        self,
        fn: ir.Function,
        summary: ir.ModuleSummary,
        info: _JobDecorator | None,
        returned: list[Where],
    ) -> Iterator[EffectivePolicy | Observation]:
        log = UndecidedLog()
        policy = _Policy()
        options = _options(info, self.ctx) if info is not None else {}
        retry = options.get("retry")
        if retry is not None:
            policy = self.policy(retry, "automatic", log, per_call=False)
        for where in returned:
            if not self.returns_retry:
                yield Observation(
                    "ignored-retry-option",
                    location_of(where.module, where.expr.span),
                    f"`{summary.module}.{fn.qualname}` returns {where.expr.text}, but RQ "
                    f"{self.version} treats a returned Retry as an ordinary result: returned "
                    "Retry objects need RQ 2.1.0 or later",
                    "Upgrade RQ to 2.1 or later, or pass retry=Retry(...) when enqueueing.",
                    KEY,
                    f"{summary.module}.{fn.qualname}",
                    "definition",
                )
                continue
            more = self.policy(where, "manual", log, per_call=True)
            policy.paths.extend(more.paths)
            policy.kinds.extend(more.kinds)
            policy.observations.extend(more.observations)
            policy.undecided = policy.undecided or more.undecided
        name = f"{summary.module}.{fn.qualname}" if summary.module else fn.qualname
        anchors = tuple(sorted({d.span.line for d in fn.decorators} | {fn.span.line}))
        for obs in policy.observations:
            yield replace(obs, task=name, site="definition", anchor_lines=anchors)
        if policy.paths or policy.undecided is not None:
            fields: Fields = _fields(policy)
        else:
            fields = never_retries(
                policy.never
                or Provenance("default", None, "no Retry given: RQ does not retry a failed job")
            )
        yield policy_row(
            name=name,
            name_expression=None,
            framework=KEY,
            site="definition",
            location=location_of(summary, fn.name_span),
            fields=fields,
            final_failure=self._final_failure(options),
            log=log,
            version=self.version,
            anchors=anchors,
            hints=_HINTS,
            via=info.options.via if info is not None else (),
        )

    def _call(
        self,
        call: ir.Call,
        fn: ir.Function | None,
        summary: ir.ModuleSummary,
        uses_rq: bool,
        jobs: Mapping[str, tuple[ir.Function, ir.ModuleSummary, _JobDecorator]],
    ) -> Iterator[EffectivePolicy | Observation]:
        local = locals_of(fn, call.span.line)
        if isinstance(call.func, ir.Opaque):
            # A queue returned by a call or an index: `get_queue("high").enqueue(f, ...)`.
            receiver, _, method = call.func.text.rpartition(".")
            if not receiver.endswith((")", "]")) or method not in _ENQUEUE or method == "create":
                return
            receiver = ""
        elif isinstance(call.func, ir.Ref):
            receiver, _, method = call.func.dotted.rpartition(".")
        else:
            return
        target = self.project.resolve(summary, receiver) if receiver else None
        job = jobs.get(target.qualified) if target is not None else None
        does = _JOB_METHODS[job[2].wrapper].get(method) if job is not None else None
        if target is not None and does == "argument":
            yield from self._retry_argument(call, target.qualified, method, job, summary, local)
            return
        if target is not None and does == "queue":
            # Flask-RQ's `f.enqueue(...)`: `Queue.enqueue*(f, ...)` with the same keywords.
            yield from self._enqueue_row(call, summary, local, None, target.qualified)
            return
        if method not in _ENQUEUE:
            return
        if method == "create":
            owner = self.project.resolve(summary, receiver) if receiver else None
            if owner is None or owner.qualified not in _JOB_CLASS:
                return
        retry = kwarg_where(call, "retry", summary, self.ctx, local)
        if retry is None:
            return
        given = deref(retry, self.ctx)
        is_retry = isinstance(given.expr, ir.Call) and self._is_retry(given.expr, given.module)
        if not (uses_rq or is_retry):
            return
        yield from self._enqueue_row(call, summary, local, _func_arg(call, _ENQUEUE[method]))

    def _retry_argument(
        self,
        call: ir.Call,
        job_name: str,
        method: str,
        job: tuple[ir.Function, ir.ModuleSummary, _JobDecorator] | None,
        summary: ir.ModuleSummary,
        local: Local | None,
    ) -> Iterator[Observation]:
        """`f.delay(..., retry=...)`: the wrapper's method hands `retry` to f."""
        retry = kwarg_where(call, "retry", summary, self.ctx, local)
        if retry is None or job is None:
            return
        wrapper = job[2].wrapper
        said = (
            f"`{job_name}.{method}(..., retry=...)` passes retry to the job function as an argument"
        )
        if wrapper == "rq":
            message = (
                f"{said}: the @job decorator's methods do not read it, so RQ keeps the "
                "decorator's retry policy"
            )
            fix = "Pass retry=Retry(...) to @job(...), or enqueue with "
        else:
            message = (
                f"{said}: {_WRAPPER_NAMES[wrapper]}'s job methods do not read it and its job "
                "decorator takes no retry, so the job is not retried"
            )
            fix = "Enqueue with "
        yield Observation(
            "ignored-retry-option",
            location_of(retry.module, retry.expr.span),
            message,
            fix + "queue.enqueue(f, ..., retry=Retry(...)).",
            KEY,
            job_name,
            "enqueue",
            (call.span.line,),
        )

    def _enqueue_row(
        self,
        call: ir.Call,
        summary: ir.ModuleSummary,
        local: Local | None,
        func: ir.Expr | None,
        job_name: str | None = None,
    ) -> Iterator[EffectivePolicy | Observation]:
        """The row of a call that enqueues with `retry=`: the job is the `func` argument, or
        `job_name` when the job is the call's receiver."""
        retry = kwarg_where(call, "retry", summary, self.ctx, local)
        if retry is None:
            return
        log = UndecidedLog()
        name, name_expression = (
            (job_name, None)
            if job_name is not None
            else self._job_name(func, summary, local, log, call)
        )
        policy = self.policy(retry, "automatic", log, per_call=True)
        for obs in policy.observations:
            yield replace(obs, task=name, site="enqueue", anchor_lines=(call.span.line,))
        fields = (
            _fields(policy)
            if policy.paths or policy.undecided
            else never_retries(
                policy.never or Provenance("explicit", location_of(summary, call.span))
            )
        )
        options = {
            key: where
            for key in ("failure_ttl", "on_failure")
            if (where := kwarg_where(call, key, summary, self.ctx, local)) is not None
        }
        yield policy_row(
            name=name,
            name_expression=name_expression,
            framework=KEY,
            site="enqueue",
            location=location_of(summary, call.span),
            fields=fields,
            final_failure=self._final_failure(options),
            log=log,
            version=self.version,
            anchors=(call.span.line,),
            hints=_HINTS,
        )

    def _job_name(
        self,
        func: ir.Expr | None,
        summary: ir.ModuleSummary,
        local: Local | None,
        log: UndecidedLog,
        call: ir.Call,
    ) -> tuple[str | None, str | None]:
        """RQ's `func_name` (rq/utils.py `resolve_function_reference`): `module.qualname` for a
        function, the string for a dotted path, `__name__` alone for a bound method (the
        instance travels with the job), `__call__` for a callable instance."""
        if func is None:
            unknown = Unknown(call.text, location_of(summary, call.span))
            log.add("name", unknown)
            return None, call.text
        target = deref(Where(func, summary, local=local), self.ctx)
        if isinstance(target.expr, ir.Const) and isinstance(target.expr.value, str):
            return target.expr.value, None
        if isinstance(target.expr, ir.Call) and self._instance_class(target) is not None:
            return "__call__", None
        if isinstance(target.expr, ir.Ref):
            method = method_ref(self.ctx, target.expr, target.module)
            if method is not None:
                if method.is_bound:
                    return method.method.name, None
                return f"{method.defining_module.module}.{method.qualname}", None
            found = self.project.resolve(target.module, target.expr.dotted)
            if found is not None and found.kind in ("function", "external"):
                return found.qualified, None
        value = self.evaluator.eval(func, summary, local)
        if isinstance(value, Known) and isinstance(value.value, str):
            return value.value, None
        if isinstance(value, Sym):
            return value.qualified, None
        log.add(
            "name",
            value
            if isinstance(value, Unknown)
            else Unknown(func.text, location_of(summary, func.span)),
        )
        return None, func.text

    def _instance_class(self, target: Where) -> ir.Class | None:
        """The project class `target` instantiates, when that class (or a base) is callable."""
        call = target.expr
        if not isinstance(call, ir.Call) or not isinstance(call.func, ir.Ref):
            return None
        found = self.project.resolve(target.module, call.func.dotted)
        if found is None or found.kind != "class" or found.cls is None or found.module is None:
            return None
        chain = [(found.cls, found.module)]
        for cls, module in chain:
            if any(m.name == "__call__" for m in cls.methods):
                return found.cls
            for base in cls.bases:
                if isinstance(base, ir.Ref) and len(chain) < 12:
                    more = self.project.resolve(module, base.dotted)
                    if more is not None and more.cls is not None and more.module is not None:
                        chain.append((more.cls, more.module))
        return None

    # -- policies ------------------------------------------------------------------------

    def policy(
        self,
        where: Where,
        trigger: Literal["automatic", "manual"],
        log: UndecidedLog,
        *,
        per_call: bool,
        depth: int = 0,
    ) -> _Policy:
        """What a `retry=` value means: Retry paths, no retry (None), or undecided."""
        target = deref(where, self.ctx)
        expr, module = target.expr, target.module
        at = location_of(module, expr.span)
        if isinstance(expr, ir.Const) and expr.value is None:
            return _Policy(never=Provenance("explicit", at, "retry=None"))
        if isinstance(expr, ir.Call) and self._is_retry(expr, module):
            return self._retry_call(expr, target, trigger, log, per_call)
        if isinstance(expr, ir.Call) and isinstance(expr.func, ir.Ref) and depth < 3:
            helper = self.project.resolve(module, expr.func.dotted)
            if helper is not None and helper.function is not None and helper.module is not None:
                # `retry=get_retry()`: what the helper returns (None means no retry).
                out = _Policy()
                local = locals_of(helper.function)
                for ret in helper.function.returns:
                    inner = self.policy(
                        Where(ret, helper.module, local=local),
                        trigger,
                        log,
                        per_call=per_call,
                        depth=depth + 1,
                    )
                    out.paths.extend(inner.paths)
                    out.kinds.extend(inner.kinds)
                    out.observations.extend(inner.observations)
                    out.never = out.never or inner.never
                    out.undecided = out.undecided or inner.undecided
                if out.paths or out.never or out.undecided:
                    return out
        value = self.evaluator.eval(expr, module, target.local)
        unknown = value if isinstance(value, Unknown) else Unknown(expr.text, at)
        log.add("retry", unknown)
        return _Policy(undecided=Provenance("undecided", unknown.location))

    def _retry_call(
        self,
        call: ir.Call,
        where: Where,
        trigger: Literal["automatic", "manual"],
        log: UndecidedLog,
        per_call: bool,
    ) -> _Policy:
        module, local = where.module, where.local
        max_expr = call.args[0] if call.args else call.kwarg("max")
        interval_expr = call.args[1] if len(call.args) > 1 else call.kwarg("interval")
        at = location_of(module, call.span)
        count: Count
        if max_expr is None:
            unknown = Unknown(call.text, at)
            log.add("max_retries", unknown)
            count, count_prov = UNDECIDED, Provenance("undecided", at)
        else:
            value = self.evaluator.eval(max_expr, module, local)
            amount = number(value)
            max_at = location_of(module, max_expr.span)
            if amount is None:
                unknown = value if isinstance(value, Unknown) else Unknown(max_expr.text, max_at)
                log.add("max_retries", unknown)
                count, count_prov = UNDECIDED, Provenance("undecided", unknown.location)
            elif amount < 1:
                # `Retry(max=0)` raises ValueError; a helper that guards it returns None instead.
                return _Policy(never=Provenance(source_of(value, "explicit"), max_at, "max < 1"))
            else:
                # `retries_left` counts down while above 0, so a fraction rounds up.
                count = math.ceil(amount)
                count_prov = Provenance(source_of(value, "explicit"), max_at, "Retry(max=)")
        no_jitter = Provenance("default", None, "RQ never jitters retry intervals")
        policy = _Policy()
        if interval_expr is None:
            prov = Provenance("default", None, "Retry's default interval=0")
            policy.paths.append(
                RetryPath(
                    trigger,
                    count,
                    count_prov,
                    constant_delay(0),
                    prov,
                    False,
                    no_jitter,
                    location=at,
                )
            )
            policy.kinds.append(None)
            return policy
        interval_at = location_of(module, interval_expr.span)
        value = self.evaluator.eval(interval_expr, module, local)
        # An interval drawn at random per enqueue (or per returned Retry) differs between jobs.
        drawn = per_call and mentions_random(interval_expr)
        jitter_prov = (
            Provenance("explicit", interval_at, "interval drawn at random") if drawn else no_jitter
        )
        values: list[float] | None = None
        source = source_of(value, "explicit")
        if isinstance(value, Known) and isinstance(value.value, tuple):
            items = [number(v) if isinstance(v, Known | Formula) else None for v in value.value]
            bad = next((v for v in value.value if isinstance(v, Unknown)), None)
            if bad is not None:
                log.add("interval", bad)
            elif all(i is not None for i in items) and items:
                values = [float(i) for i in items if i is not None]
        elif isinstance(value, Known) and isinstance(value.value, float):
            policy.observations.append(
                Observation(
                    "ignored-retry-option",
                    interval_at,
                    f"`{call.text}` has a float interval: RQ accepts an int or a list of ints, "
                    "and a float raises UnboundLocalError when the Retry is built, so the job "
                    "is never enqueued",
                    "Write the interval as a whole number of seconds, or as a list of ints.",
                    KEY,
                )
            )
            log.add("interval", Unknown(interval_expr.text, interval_at))
        else:
            amount = number(value)
            if amount is not None:
                values = [float(max(amount, 0))]
            else:
                unknown = (
                    value
                    if isinstance(value, Unknown)
                    else Unknown(interval_expr.text, interval_at)
                )
                log.add("interval", unknown)
        if values is None:
            prov = Provenance("undecided", interval_at)
            policy.paths.append(
                RetryPath(trigger, count, count_prov, None, prov, drawn, prov, location=at)
            )
            policy.kinds.append(None)
            return policy
        note = "interval list" if len(values) > 1 else "Retry(interval=)"
        if any(v > 0 for v in values):
            note += "; needs a worker started with --with-scheduler"
        prov = Provenance(source, interval_at, note)
        fn, listed = _schedule(values, count, returned=trigger == "manual")
        kind: BackoffKind | None = None
        if len(values) > 1 and listed:
            kind = kind_of(listed)
        policy.paths.append(
            RetryPath(trigger, count, count_prov, fn, prov, drawn, jitter_prov, location=at)
        )
        policy.kinds.append(kind)
        return policy

    def _final_failure(self, options: Mapping[str, Where]) -> str:
        ttl = options.get("failure_ttl")
        kept = format_duration(DEFAULT_FAILURE_TTL)
        if ttl is not None:
            value = self.evaluator.eval(ttl.expr, ttl.module, ttl.local)
            amount = number(value)
            if amount is not None:
                kept = "forever" if amount == -1 else format_duration(amount)
            else:
                kept = f"failure_ttl={ttl.expr.text}"
        text = f"FailedJobRegistry (kept {kept})"
        callback = options.get("on_failure")
        if callback is not None and not (
            isinstance(callback.expr, ir.Const) and callback.expr.value is None
        ):
            target = deref(callback, self.ctx)
            handler = target.expr
            if isinstance(handler, ir.Call) and handler.args:  # `Callback(fn, timeout=...)`
                handler = handler.args[0]
            found = (
                self.project.resolve(target.module, handler.dotted)
                if isinstance(handler, ir.Ref)
                else None
            )
            if found is not None and found.function is not None and found.module is not None:
                text += f"; on_failure at {found.module.path}:{found.function.span.line}"
            elif isinstance(handler, ir.Const) and isinstance(handler.value, str):
                text += f"; on_failure {handler.value}"
            else:
                text += f"; on_failure {handler.text}"
        return text


def _options(info: _JobDecorator, ctx: AdapterContext) -> dict[str, Where]:
    out: dict[str, Where] = {}
    for splat in info.options.splats:
        target = deref(splat, ctx)
        for key in ("retry", "failure_ttl", "on_failure"):
            found = dict_item(target, key)
            if found is not None:
                out[key] = found
    for name, where in info.options.kwargs:
        out[name] = where
    return out


def _fields(policy: _Policy) -> Fields:
    fields = combine(policy.paths, policy.undecided)
    if fields.backoff in (None, UNDECIDED) or all(k is None for k in policy.kinds):
        return fields
    # A list schedule is judged on its whole delay list, not on its first few terms.
    return with_kinds(fields, policy.kinds)


def _func_arg(call: ir.Call, index: int) -> ir.Expr | None:
    positional = [a for a in call.args if not isinstance(a, ir.Starred)]
    if len(positional) > index and len(positional) == len(call.args[: len(positional)]):
        return call.args[index]
    for name in _FUNC_KWARGS:
        value = call.kwarg(name)
        if value is not None:
            return value
    return None


def _is_partial(expr: ir.Expr) -> bool:
    return (
        isinstance(expr, ir.Call)
        and isinstance(expr.func, ir.Ref)
        and expr.func.dotted.rpartition(".")[2] == "partial"
    )


def _merge(base: _JobDecorator, call: ir.Call, module: ir.ModuleSummary) -> _JobDecorator:
    return replace(base, options=base.options.merged(call, module))


# Framework-aware advice the neutral rules quote.
_HINTS: tuple[tuple[str, str], ...] = (
    (
        "max_retries",
        "Pass retry=Retry(max=N, interval=...) to @job(...) or queue.enqueue(...); RQ's max "
        "counts retries after the first run.",
    ),
    (
        "backoff",
        "RQ has no backoff formula: give Retry a growing interval list such as "
        "interval=[10, 30, 90, 270] (when max is larger than the list, a raised exception "
        "repeats the first value for the early retries, so make the list as long as max).",
    ),
    (
        "jitter",
        "RQ never jitters retry intervals: draw them at enqueue time, e.g. "
        "retry=Retry(max=3, interval=[random.randint(5, 15), random.randint(30, 60)]), so "
        "jobs that failed together do not retry together.",
    ),
    ("trigger", "no Retry is given, and RQ retries only jobs enqueued with a Retry"),
    ("trigger_fix", "Pass retry=Retry(max=N, interval=...) when enqueueing."),
    (
        "dead_letter",
        "RQ keeps failed jobs in the queue's FailedJobRegistry for failure_ttl (1 year by "
        "default); add an on_failure callback to act on them.",
    ),
    (
        "window",
        "Raise Retry(max=N), or the values of its interval list.",
    ),
)
