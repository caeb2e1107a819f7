"""SAQ (written against saq 0.26.4; litestar-saq 0.8 for its `QueueConfig`).

SAQ tasks are plain async functions listed where a worker is set up: `Worker(queue,
functions=[...], cron_jobs=[...])`, a settings dict with `"functions"` and `"cron_jobs"` keys, or
litestar-saq's `QueueConfig(tasks=[...], scheduled_tasks=[...])`. A `("alias", fn)` tuple
registers `fn` under the alias; otherwise the name is the function's `__qualname__` (an import
string names its last segment).

Retry options live on each job, so they are read where jobs are made: `queue.enqueue("name",
retries=, retry_delay=, retry_backoff=)` (also `apply`, `Job(...)`) and `CronJob(fn, retries=)`.
A registered function has no policy of its own: its row has `retry_trigger: null`.

Facts from saq 0.26.4's source (reference §8 and §13):
- `retries` counts executions (default 1: no retry); a job retries while `retries > attempts`.
- `retry_delay` (seconds, default 0) is fixed unless `retry_backoff` is set: `True` waits
  `retry_delay * 2**(attempts-1)` with no cap, a number caps it at that many seconds; backoff
  delays are multiplied by `random()` (full jitter). `retry_backoff=0` is a cap of 0.
- A failed job is kept with status FAILED for `ttl` seconds (600 by default) and then deleted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from retrylint.frameworks.base import (
    MAX_CHAIN,
    AdapterContext,
    UndecidedLog,
    Where,
    deref,
    kwarg_where,
    locals_of,
    method_ref,
    module_calls,
    module_imports,
    policy_row,
    source_of,
)
from retrylint.model import (
    UNBOUNDED,
    UNDECIDED,
    Capabilities,
    Count,
    EffectivePolicy,
    FrameworkInfo,
    Location,
    Observation,
    Provenance,
)
from retrylint.python import ir
from retrylint.python.evaluate import Known, Sym, Unknown, Value, location_of, number
from retrylint.resolve.schedule import RetryPath, combine, constant_delay, never_retries

KEY = "saq"
# The version the facts above were read from (reference §0), assumed when none is detected.
REFERENCE_VERSION = "0.26.4"

PACKAGES = ("saq", "litestar_saq")
RETRY_OPTIONS = ("retries", "retry_delay", "retry_backoff")
_WORKER = frozenset(
    {"saq.Worker", "saq.worker.Worker", "litestar_saq.Worker", "litestar_saq.base.Worker"}
)
_QUEUE_CONFIG = frozenset({"litestar_saq.QueueConfig", "litestar_saq.config.QueueConfig"})
_CRON = frozenset(
    {"saq.CronJob", "saq.job.CronJob", "litestar_saq.CronJob", "litestar_saq.base.CronJob"}
)
_JOB = frozenset({"saq.Job", "saq.job.Job", "litestar_saq.Job", "litestar_saq.base.Job"})
# CronJob's dataclass fields in order (saq/job.py: CronJob).
_CRON_FIELDS = ("function", "cron", "unique", "timeout", "heartbeat", "retries", "ttl")
# Names that mean SAQ even when imported inside a function (where imports are not recorded).
_DISTINCT = frozenset({"QueueConfig", "CronJob"})
_INFINITE = frozenset({"inf", "infinity", "+inf"})
_NO_POLICY = Provenance("default", None, "SAQ sets retries per enqueued job, not per function")


@dataclass(frozen=True, slots=True)
class _Registered:
    name: str | None
    expression: str | None
    location: Location
    anchors: tuple[int, ...]


class SaqAdapter:
    key = KEY
    info = FrameworkInfo(
        "SAQ",
        "saq",
        in_process=False,
        capabilities=Capabilities(
            count="setting", backoff="setting", jitter="setting", dead_letter="setting"
        ),
    )
    packages: tuple[str, ...] = PACKAGES
    # A SAQ file imports saq or litestar_saq, or builds a cron job or a queue config.
    markers = re.compile(rb"import saq|from saq|saq\.|litestar_saq|CronJob\b|QueueConfig\b")
    interest = ir.Interest(
        calls=frozenset(
            {"Worker", "QueueConfig", "CronJob", "SAQConfig", "enqueue", "apply", "Job"}
        ),
        attributes=frozenset(),
    )

    def analyze(self, ctx: AdapterContext) -> Iterable[EffectivePolicy | Observation]:
        return _Analysis(ctx).rows()

    def project_markers(self, ctx: AdapterContext) -> frozenset[str]:
        return frozenset()


class _Analysis:
    def __init__(self, ctx: AdapterContext) -> None:
        self.ctx = ctx
        self.project = ctx.project
        self.evaluator = ctx.evaluator
        self.version = ctx.version or REFERENCE_VERSION
        self.scanned = {s.path for s in ctx.scanned}
        # Asked for every call of every module: a module's imports are read once.
        self._imports_saq: dict[str, bool] = {}

    def imports_saq(self, module: ir.ModuleSummary) -> bool:
        found = self._imports_saq.get(module.path)
        if found is None:
            found = self._imports_saq[module.path] = module_imports(module, PACKAGES)
        return found

    def _is(self, func: ir.Expr, module: ir.ModuleSummary, names: frozenset[str]) -> bool:
        """Whether a call target is one of `names`. An unresolved name counts when it is
        distinctive or the module imports SAQ: litestar-fullstack imports `QueueConfig` and
        `CronJob` inside the function that uses them."""
        if not isinstance(func, ir.Ref):
            return False
        found = self.project.resolve(module, func.dotted)
        if found is not None:
            return found.qualified in names
        last = func.dotted.rpartition(".")[2]
        if last in _DISTINCT:
            return any(n.endswith("." + last) for n in names)
        return self.imports_saq(module) and any(n.endswith("." + last) for n in names)

    # -- rows ----------------------------------------------------------------------------

    def rows(self) -> Iterator[EffectivePolicy | Observation]:
        seen: set[tuple[str | None, str, int]] = set()
        for summary in self.ctx.scanned:
            saq_module = self.imports_saq(summary)
            for call, scope in module_calls(summary):
                local = locals_of(scope, call.span.line)
                func = call.func
                if self._is(func, summary, _WORKER):
                    functions = call.kwarg("functions") or (
                        call.args[1] if len(call.args) > 1 else None
                    )
                    yield from self._registered(functions, summary, local, seen)
                elif self._is(func, summary, _QUEUE_CONFIG):
                    yield from self._registered(call.kwarg("tasks"), summary, local, seen)
                elif self._is(func, summary, _CRON):
                    yield self._cron_row(call, summary, local)
                elif self._is(func, summary, _JOB):
                    yield from self._job_row(call, summary, local)
                elif saq_module and isinstance(func, ir.Ref):
                    method = func.dotted.rpartition(".")[2]
                    if method in ("enqueue", "apply"):
                        yield from self._enqueue_row(call, summary, local)
            if saq_module:
                for binding in summary.bindings:
                    yield from self._settings(binding.value, summary, seen)

    def _settings(
        self, expr: ir.Expr, summary: ir.ModuleSummary, seen: set[tuple[str | None, str, int]]
    ) -> Iterator[EffectivePolicy]:
        """`settings = {"queue": queue, "functions": [...], "cron_jobs": [...]}` (`saq` CLI)."""
        if not isinstance(expr, ir.DictExpr):
            return
        keys = {k.value: v for k, v in expr.items if isinstance(k, ir.Const)}
        if "functions" not in keys:
            return
        yield from self._registered(keys["functions"], summary, None, seen)

    # -- registered functions ------------------------------------------------------------

    def _registered(
        self,
        expr: ir.Expr | None,
        summary: ir.ModuleSummary,
        local: Mapping[str, ir.Expr | Value] | None,
        seen: set[tuple[str | None, str, int]],
    ) -> Iterator[EffectivePolicy]:
        if expr is None:
            return
        for item in self._items(Where(expr, summary, local=local), 0):
            if (item.name, item.location.path, item.location.line) in seen:
                continue
            seen.add((item.name, item.location.path, item.location.line))
            log = UndecidedLog()
            if item.name is None and item.expression is not None:
                log.add("name", Unknown(item.expression, item.location))
            yield policy_row(
                name=item.name,
                name_expression=item.expression,
                framework=KEY,
                site="definition",
                location=item.location,
                fields=None,
                final_failure="nowhere",
                log=log,
                version=self.version,
                anchors=item.anchors,
                hints=_HINTS,
                no_policy=_NO_POLICY,
            )

    def _items(self, where: Where, depth: int) -> Iterator[_Registered]:
        target = deref(where, self.ctx)
        expr, module = target.expr, target.module
        if depth > MAX_CHAIN:
            return
        if isinstance(expr, ir.Seq):
            for item in expr.items:
                if isinstance(item, ir.Starred):
                    yield from self._items(Where(item.value, module, local=target.local), depth + 1)
                else:
                    yield self._item(Where(item, module, local=target.local))
        elif isinstance(expr, ir.BinOp) and expr.op == "+":
            yield from self._items(Where(expr.left, module, local=target.local), depth + 1)
            yield from self._items(Where(expr.right, module, local=target.local), depth + 1)
        elif isinstance(expr, ir.DictExpr):
            for key, _value in expr.items:
                if isinstance(key, ir.Const) and isinstance(key.value, str):
                    yield self._alias(key.value, Where(key, module, local=target.local))
        else:
            at = location_of(module, expr.span)
            yield _Registered(None, expr.text, at, (at.line,))

    def _item(self, where: Where) -> _Registered:
        expr, module = where.expr, where.module
        at = location_of(module, expr.span)
        if isinstance(expr, ir.Seq) and len(expr.items) == 2:
            alias = self.evaluator.eval(expr.items[0], module, where.local)
            if isinstance(alias, Known) and isinstance(alias.value, str):
                return self._alias(alias.value, where)
            return _Registered(None, expr.items[0].text, at, (at.line,))
        return self._function(where)

    def _alias(self, alias: str, where: Where) -> _Registered:
        """An alias registration, located where the alias is written."""
        at = location_of(where.module, where.expr.span)
        return _Registered(alias, None, at, (at.line,))

    def _function(self, where: Where) -> _Registered:
        """A function reference: SAQ registers it under its `__qualname__`."""
        expr, module = where.expr, where.module
        at = location_of(module, expr.span)
        if isinstance(expr, ir.Const) and isinstance(expr.value, str):
            # litestar-saq imports a dotted string and registers the object's `__qualname__`:
            # a project function's own, else (outside the project) the string's last part.
            imported = self.project.resolve_string(module, expr.value.replace(":", "."))
            last = expr.value.rpartition(".")[2].rpartition(":")[2]
            if imported.function is not None:
                return _Registered(imported.function.qualname, None, at, (at.line,))
            if imported.cls is not None and any(m.name == last for m in imported.cls.methods):
                return _Registered(f"{imported.cls.qualname}.{last}", None, at, (at.line,))
            return _Registered(last, None, at, (at.line,))
        if isinstance(expr, ir.Ref):
            found = self.project.resolve(module, expr.dotted)
            if found is not None and found.function is not None and found.module is not None:
                fn = found.function
                if found.module.path in self.scanned:
                    loc = location_of(found.module, fn.name_span)
                    anchors = tuple(sorted({d.span.line for d in fn.decorators} | {fn.span.line}))
                    return _Registered(fn.qualname, None, loc, anchors)
                return _Registered(fn.qualname, None, at, (at.line,))
            last = expr.dotted.rpartition(".")[2]
            method = method_ref(self.ctx, expr, module)
            if method is not None:
                # `Class.method` / `obj.method`: `__qualname__` includes the defining class.
                return _Registered(method.qualname, None, at, (at.line,))
            if found is None or found.kind == "external":
                # Imported inside a function, or from outside the project: the last name part.
                return _Registered(last, None, at, (at.line,))
        return _Registered(None, expr.text, at, (at.line,))

    def _job_name(
        self, where: Where | None, call: ir.Call, module: ir.ModuleSummary
    ) -> _Registered:
        if where is None:
            at = location_of(module, call.span)
            return _Registered(None, call.text, at, (at.line,))
        target = deref(where, self.ctx)
        if isinstance(target.expr, ir.Const) and isinstance(target.expr.value, str):
            at = location_of(module, call.span)
            return _Registered(target.expr.value, None, at, (at.line,))
        value = self.evaluator.eval(where.expr, where.module, where.local)
        if isinstance(value, Known) and isinstance(value.value, str):
            at = location_of(module, call.span)
            return _Registered(value.value, None, at, (at.line,))
        return self._function(target)

    # -- enqueue sites -------------------------------------------------------------------

    def _cron_row(
        self, call: ir.Call, summary: ir.ModuleSummary, local: Mapping[str, ir.Expr | Value] | None
    ) -> EffectivePolicy:
        options: dict[str, Where] = {}
        for index, arg in enumerate(call.args[: len(_CRON_FIELDS)]):
            options[_CRON_FIELDS[index]] = Where(arg, summary, local=local)
        for name in ("function", "retries", "ttl"):
            found = kwarg_where(call, name, summary, self.ctx, local)
            if found is not None:
                options[name] = found
        retries = options.get("retries")
        return self._row(
            call,
            summary,
            options.get("function"),
            {"retries": retries} if retries else {},
            options.get("ttl"),
        )

    def _job_row(
        self, call: ir.Call, summary: ir.ModuleSummary, local: Mapping[str, ir.Expr | Value] | None
    ) -> Iterator[EffectivePolicy]:
        options = self._retry_options(call, summary, local)
        if not options:
            return
        function = kwarg_where(call, "function", summary, self.ctx, local)
        if function is None and call.args:
            function = Where(call.args[0], summary, local=local)
        ttl = kwarg_where(call, "ttl", summary, self.ctx, local)
        yield self._row(call, summary, function, options, ttl)

    def _enqueue_row(
        self, call: ir.Call, summary: ir.ModuleSummary, local: Mapping[str, ir.Expr | Value] | None
    ) -> Iterator[EffectivePolicy]:
        options = self._retry_options(call, summary, local)
        if not options or not call.args:
            return
        first = Where(call.args[0], summary, local=local)
        given = deref(first, self.ctx)
        if isinstance(given.expr, ir.Call) and self._is(given.expr.func, given.module, _JOB):
            # `enqueue(Job("fn", retries=2), retry_delay=1)`: the call's options win.
            job = given.expr
            merged = self._retry_options(job, given.module, given.local)
            merged.update(options)
            options = merged
            function = kwarg_where(job, "function", given.module, self.ctx, given.local)
            if function is None and job.args:
                function = Where(job.args[0], given.module, local=given.local)
            first = function or first
        ttl = kwarg_where(call, "ttl", summary, self.ctx, local)
        yield self._row(call, summary, first, options, ttl)

    def _retry_options(
        self, call: ir.Call, summary: ir.ModuleSummary, local: Mapping[str, ir.Expr | Value] | None
    ) -> dict[str, Where]:
        out: dict[str, Where] = {}
        for name in RETRY_OPTIONS:
            found = kwarg_where(call, name, summary, self.ctx, local)
            if found is not None:
                out[name] = found
        return out

    def _row(
        self,
        call: ir.Call,
        summary: ir.ModuleSummary,
        function: Where | None,
        options: Mapping[str, Where | None],
        ttl: Where | None,
    ) -> EffectivePolicy:
        log = UndecidedLog()
        who = self._job_name(function, call, summary)
        if who.name is None and who.expression is not None:
            log.add("name", Unknown(who.expression, who.location))
        builder = _Policy(self, log, {k: v for k, v in options.items() if v is not None})
        count, count_prov = builder.count()
        inert: tuple[tuple[str, Location], ...] = ()
        if count == 0:
            fields = never_retries(count_prov)
            inert = builder.inert()
        else:
            fields = combine([builder.path(count, count_prov)])
        at = location_of(summary, call.span)
        return policy_row(
            name=who.name,
            name_expression=who.expression,
            framework=KEY,
            site="enqueue",
            location=at,
            fields=fields,
            final_failure=self._final_failure(ttl),
            log=log,
            version=self.version,
            anchors=(at.line,),
            hints=_hints(count_prov),
            inert=inert,
        )

    def _final_failure(self, ttl: Where | None) -> str:
        if ttl is None:
            return "nowhere"
        value = self.evaluator.eval(ttl.expr, ttl.module, ttl.local)
        if isinstance(value, Known) and value.value == 0:
            return "kept with status FAILED indefinitely (ttl=0)"
        return "nowhere"


class _Policy:
    """The retry fields of one job from its `retries`, `retry_delay` and `retry_backoff`."""

    def __init__(
        self, analysis: _Analysis, log: UndecidedLog, options: Mapping[str, Where]
    ) -> None:
        self.a = analysis
        self.log = log
        self.options = options

    def value(self, name: str) -> tuple[Value, Provenance, Where | None]:
        where = self.options.get(name)
        if where is None:
            default = {"retries": 1, "retry_delay": 0.0, "retry_backoff": False}[name]
            return (
                Known(default),
                Provenance("default", None, f"SAQ's default {name}={default}"),
                None,
            )
        value = self.a.evaluator.eval(where.expr, where.module, where.local)
        at = location_of(where.module, where.expr.span)
        if isinstance(value, Known) and value.value is None:
            # `CronJob(retries=None)` and `retries=None` fall back to the Job default.
            return Known(1 if name == "retries" else 0), Provenance("default", at), where
        if isinstance(value, Unknown) and not _infinite(value, where, self.a):
            self.log.add(name, value)
            return value, Provenance("undecided", value.location), where
        return value, Provenance(source_of(value, "explicit"), at), where

    def count(self) -> tuple[Count, Provenance]:
        value, prov, where = self.value("retries")
        if where is not None and _infinite(value, where, self.a):
            return UNBOUNDED, Provenance("explicit", prov.location, "retries=inf")
        if isinstance(value, Unknown):
            return UNDECIDED, prov
        amount = number(value)
        if amount is None:
            at = prov.location or Location("", 0, 0)
            self.log.add("retries", Unknown(where.expr.text if where else repr(value), at))
            return UNDECIDED, Provenance("undecided", prov.location)
        # `retries` counts executions: the job retries while `retries > attempts`.
        note = f"retries={amount:g} executions"
        return max(0, math.ceil(amount) - 1), Provenance(prov.source, prov.location, note)

    def path(self, count: Count, count_prov: Provenance) -> RetryPath:
        delay_value, delay_prov, _ = self.value("retry_delay")
        backoff_value, backoff_prov, _ = self.value("retry_backoff")
        base = number(delay_value)
        no_jitter = Provenance(
            delay_prov.source, delay_prov.location, "a fixed retry_delay is never jittered"
        )
        if base is None:
            return RetryPath("automatic", count, count_prov, None, delay_prov, False, delay_prov)
        if isinstance(backoff_value, Unknown):
            return RetryPath(
                "automatic", count, count_prov, None, backoff_prov, UNDECIDED, backoff_prov
            )
        raw = backoff_value.value if isinstance(backoff_value, Known) else False
        if raw is False:
            return RetryPath(
                "automatic", count, count_prov, constant_delay(base), delay_prov, False, no_jitter
            )
        cap: float | None = None
        note = "retry_backoff=True: exponential, no cap"
        if raw is not True:
            amount = number(backoff_value)
            if amount is None:
                return RetryPath(
                    "automatic", count, count_prov, None, backoff_prov, UNDECIDED, backoff_prov
                )
            cap = float(amount)
            note = f"retry_backoff={amount:g} is a cap of {amount:g} s"
        if base == 0 or cap == 0:
            zero = Provenance(
                backoff_prov.source, backoff_prov.location, "zero delay: nothing to jitter"
            )
            return RetryPath("automatic", count, count_prov, constant_delay(0), zero, False, zero)
        prov = Provenance(backoff_prov.source, backoff_prov.location, note)
        jitter = Provenance(
            backoff_prov.source, backoff_prov.location, "backoff delays are fully jittered"
        )
        return RetryPath(
            "automatic", count, count_prov, lambda r: base * 2.0**r, prov, True, jitter, cap
        )

    def inert(self) -> tuple[tuple[str, Location], ...]:
        out: list[tuple[str, Location]] = []
        for name in ("retry_delay", "retry_backoff"):
            where = self.options.get(name)
            if where is None:
                continue
            value = self.a.evaluator.eval(where.expr, where.module, where.local)
            if isinstance(value, Known) and not value.value:
                continue
            out.append((name, location_of(where.module, where.expr.span)))
        return tuple(out)


def _infinite(value: Value, where: Where, analysis: _Analysis) -> bool:
    """`float("inf")` or `math.inf`: a count that never runs out."""
    if isinstance(value, Known) and isinstance(value.value, float):
        return math.isinf(value.value)
    if isinstance(value, Sym):
        return value.qualified == "math.inf"
    expr = where.expr
    if isinstance(expr, ir.Ref):
        found = analysis.project.resolve(where.module, expr.dotted)
        return found is not None and found.qualified == "math.inf"
    if isinstance(expr, ir.Call) and isinstance(expr.func, ir.Ref) and expr.args:
        found = analysis.project.resolve(where.module, expr.func.dotted)
        arg = expr.args[0]
        return (
            found is not None
            and found.qualified == "builtins.float"
            and isinstance(arg, ir.Const)
            and isinstance(arg.value, str)
            and arg.value.strip().lower() in _INFINITE
        )
    return False


_HINTS: tuple[tuple[str, str], ...] = (
    (
        "max_retries",
        "Pass retries=N+1 to queue.enqueue(): SAQ's retries counts executions (1 means no retry).",
    ),
    (
        "backoff",
        "Pass retry_backoff=True (or a cap in seconds) together with retry_delay > 0: SAQ then "
        "waits up to retry_delay * 2**n.",
    ),
    (
        "jitter",
        "SAQ jitters only backoff delays: set retry_backoff=True (or a cap) with retry_delay > 0; "
        "a fixed retry_delay is never jittered.",
    ),
    (
        "trigger_fix",
        "Pass retries=N+1 (executions) when enqueueing, or drop retry_delay/retry_backoff.",
    ),
    (
        "dead_letter",
        "SAQ keeps a failed job only for its ttl (600 s by default): enqueue with ttl=0 to keep "
        "it, or record failures in an after_process hook.",
    ),
    (
        "window",
        "Raise retries= (executions) or retry_delay when enqueueing, or the cap given as "
        "retry_backoff.",
    ),
)


def _hints(count: Provenance) -> tuple[tuple[str, str], ...]:
    why = "SAQ's default retries=1" if count.source == "default" else f"retries at {count.location}"
    trigger = (
        f"{why} means a single execution (SAQ counts executions), so a failure is never retried"
    )
    return (*_HINTS, ("trigger", trigger))
