"""Temporal Python SDK activities (written against temporalio 1.35.0; reference §10).

Activities are defined with `@activity.defn` / `@activity.defn(name=...)` on functions, methods
or callable classes; each definition is a row named by `name=`, else the function name, with
`retry_trigger: null`: Temporal sets activity retries where the activity is called. Every call
from workflow code is an enqueue row carrying the policy: `workflow.execute_activity`,
`start_activity`, `execute_activity_method`/`_class`, and the local-activity variants. The
activity is named by the function (or method, or class) passed, or by the string.

The policy is `retry_policy=RetryPolicy(...)` (also a constant, a local, or inside a `**opts`
dict): `maximum_attempts` counts executions (0, the default, is unlimited), the wait before
retry r+1 is `initial_interval * backoff_coefficient**r` capped at `maximum_interval` (default
100 x initial_interval), with no jitter. With no policy the server default applies: 1 s x 2,
capped at 100 s, unlimited attempts. Attempts are also bounded by `schedule_to_close_timeout`:
the count is then the number of waits that fit in it (CONTRACTS §4); a call bounded by neither
retries forever. Local activities with no policy are read the same way (the SDK-side default
was not verified, reference §14). When retries run out the workflow gets an `ActivityError`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from retrylint.frameworks.base import (
    AdapterContext,
    UndecidedLog,
    Where,
    dict_items,
    module_imports,
    policy_row,
    source_of,
)
from retrylint.frameworks.recognize import Options, Recognizer
from retrylint.model import (
    UNBOUNDED,
    UNDECIDED,
    BackoffKind,
    Capabilities,
    Count,
    EffectivePolicy,
    FrameworkInfo,
    Location,
    Observation,
    Provenance,
    Via,
)
from retrylint.python import ir
from retrylint.python.evaluate import Known, Unknown, Value, location_of, number
from retrylint.resolve.schedule import DelayFn, Fields, RetryPath, classify, combine
from retrylint.scan.prefilter import AllOf

KEY = "temporal"
REFERENCE_VERSION = "1.35.0"

_DEFN = frozenset({"temporalio.activity.defn"})
_RETRY_POLICY = frozenset({"temporalio.common.RetryPolicy"})
_REMOTE = ("execute_activity", "start_activity")
_LOCAL = ("execute_local_activity", "start_local_activity")
_SUFFIXES = ("", "_method", "_class")
_INVOKE: dict[str, bool] = {
    f"temporalio.workflow.{base}{suffix}": base in _LOCAL
    for base in (*_REMOTE, *_LOCAL)
    for suffix in _SUFFIXES
}
# RetryPolicy's dataclass fields in order (positional arguments are allowed).
_FIELDS = (
    "initial_interval",
    "backoff_coefficient",
    "maximum_interval",
    "maximum_attempts",
    "non_retryable_error_types",
)
# Server defaults (common/retrypolicy: DefaultDefaultRetrySettings), also the SDK's defaults.
_INITIAL = 1.0
_COEFFICIENT = 2.0
_CAP_FACTOR = 100.0
_MAX_IMPLIED = 100_000

_NO_JITTER = "Temporal retry intervals are deterministic: no jitter"
_DEFAULT_DELAYS = "Temporal's default policy: 1 s initial interval, x2, capped at 100 s"
# Jitter is `none`: RetryPolicy has no jitter field and the server computes every interval
# deterministically (service/history/workflow/retry.go). An activity may pick its next delay by
# raising ApplicationError(next_retry_delay=...), but a timed-out attempt (start-to-close,
# heartbeat) raises nothing and always waits the computed interval.
_CAPABILITIES = Capabilities(
    count="setting",
    backoff="setting",
    jitter="none",
    dead_letter="code",
    instead=(
        (
            "jitter",
            "its RetryPolicy has no jitter setting, and an attempt that times out (start-to-close "
            "or heartbeat) always waits the interval the policy computes",
            "For errors the activity raises, raise ApplicationError(next_retry_delay=...) with a "
            "random part (still capped at maximum_interval); put these activities in a category "
            "with jitter = false to accept the timeouts.",
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class _Written:
    """An option expression and the scope it is written in."""

    expr: ir.Expr
    module: ir.ModuleSummary
    local: Mapping[str, ir.Expr] | None


class TemporalAdapter:
    key = KEY
    info = FrameworkInfo("Temporal", "temporalio", in_process=False, capabilities=_CAPABILITIES)
    packages: tuple[str, ...] = ("temporalio",)
    # Rows come only from `@activity.defn` and `*_activity*` calls in modules that import the
    # SDK by name (project wrappers of either are found by name in later rounds): a module
    # that names no activity, such as a client that only starts workflows, holds nothing to
    # read, and on a Temporal codebase skipping it halves the files parsed.
    markers = AllOf((re.compile(rb"temporalio"), re.compile(rb"activit")))
    interest = ir.Interest(
        calls=frozenset(
            {f"{base}{suffix}" for base in (*_REMOTE, *_LOCAL) for suffix in _SUFFIXES}
        ),
        attributes=frozenset(),
    )

    def analyze(self, ctx: AdapterContext) -> Iterable[EffectivePolicy | Observation]:
        return _Analysis(ctx).rows()

    def project_markers(self, ctx: AdapterContext) -> frozenset[str]:
        return _Analysis(ctx).recognizer.markers(ctx.scanned, lambda b, m: False)


@dataclass(frozen=True, slots=True)
class _Defn:
    """An `@activity.defn` as used: its options (maybe through a wrapper) and its text."""

    options: Options
    text: str
    via: tuple[Via, ...] = ()

    def kwarg(self, name: str) -> Where | None:
        return next((w for k, w in reversed(self.options.kwargs) if k == name), None)


class _Analysis:
    def __init__(self, ctx: AdapterContext) -> None:
        self.ctx = ctx
        self.project = ctx.project
        self.evaluator = ctx.evaluator
        self.version = ctx.version or REFERENCE_VERSION
        self.recognizer = Recognizer(ctx.project, self._is_defn, ctx.settings.task_decorators)

    # -- definitions -----------------------------------------------------------------------

    def defn(self, decorators: Iterable[ir.Expr], module: ir.ModuleSummary) -> _Defn | None:
        """The `@activity.defn` decorator among `decorators` (or a project wrapper of it)."""
        for dec in decorators:
            expansion = self.recognizer.expand(dec, module)
            if expansion is not None:
                return _Defn(expansion.options, dec.text, expansion.via)
            func = dec.func if isinstance(dec, ir.Call) else dec
            if self._is_defn(func, module):
                options = Options().merged(dec, module) if isinstance(dec, ir.Call) else Options()
                return _Defn(options, dec.text)
        return None

    def _is_defn(self, func: ir.Expr, module: ir.ModuleSummary) -> bool:
        if not isinstance(func, ir.Ref):
            return False
        found = self.project.resolve(module, func.dotted)
        return found is not None and (found.qualified in _DEFN or self.recognizer.configured(found))

    def defn_name(
        self, dec: _Defn, default: str, log: UndecidedLog | None
    ) -> tuple[str | None, str | None]:
        """The registered name of an activity: `name=`, else the function or class name."""
        dynamic = dec.kwarg("dynamic")
        if dynamic is not None:
            value = self.evaluator.eval(dynamic.expr, dynamic.module)
            if isinstance(value, Known) and value.value:
                return None, dec.text  # a dynamic activity answers to any unregistered name
        name = dec.kwarg("name")
        if name is None:
            return default, None
        value = self.evaluator.eval(name.expr, name.module)
        # temporalio/activity.py `defn`: `name or fn.__name__`.
        if isinstance(value, Known) and not value.value:
            return default, None
        if isinstance(value, Known) and isinstance(value.value, str):
            return value.value, None
        if log is not None:
            log.add(
                "name",
                value
                if isinstance(value, Unknown)
                else Unknown(name.expr.text, _loc(name.module, name.expr.span)),
            )
        return None, name.expr.text

    def definitions(self) -> Iterator[EffectivePolicy]:
        for summary in self.ctx.scanned:
            items: list[ir.Function | ir.Class] = [*summary.functions, *summary.classes]
            items.extend(m for cls in summary.classes for m in cls.methods)
            for item in items:
                dec = self.defn(item.decorators, summary)
                if dec is None:
                    continue
                log = UndecidedLog()
                name, expression = self.defn_name(dec, item.name, log)
                yield self._definition_row(item, summary, name, expression, log, dec.via)

    def _definition_row(
        self,
        item: ir.Function | ir.Class,
        summary: ir.ModuleSummary,
        name: str | None,
        expression: str | None,
        log: UndecidedLog,
        via: tuple[Via, ...],
    ) -> EffectivePolicy:
        note = "Temporal sets activity retries where the activity is called (retry_policy=)"
        prov = Provenance("default", None, note)
        anchors = tuple(sorted({d.span.line for d in item.decorators} | {item.span.line}))
        return EffectivePolicy(
            name=name,
            name_expression=expression,
            framework=KEY,
            site="definition",
            location=_loc(summary, item.name_span),
            retry_trigger=None,
            max_retries=None,
            backoff=None,
            jitter=None,
            delays_seconds=None,
            delays_truncated=False,
            window_seconds=0,
            sources=dict.fromkeys(("max_retries", "backoff", "jitter", "delays", "window"), prov),
            final_failure="ActivityError raised in the calling workflow",
            undecided=log.items(),
            framework_version=self.version,
            suppression_lines=anchors,
            via=via,
            hints=_HINTS,
        )

    # -- call sites ------------------------------------------------------------------------

    def rows(self) -> Iterator[EffectivePolicy]:
        yield from self.definitions()
        for summary in self.ctx.scanned:
            functions = [*summary.functions, *(m for c in summary.classes for m in c.methods)]
            for fn in functions:
                local = {b.target: b.value for b in fn.locals}
                for call in fn.calls:
                    if not isinstance(call.func, ir.Ref):
                        continue
                    found = self.project.resolve(summary, call.func.dotted)
                    if found is not None and found.qualified in _INVOKE:
                        site = _CallSite(self, summary, local, call, _INVOKE[found.qualified])
                        yield site.row()
                    elif _client_call(call, summary):
                        yield _CallSite(self, summary, local, call, False, client=True).row()

    def activity_name(
        self, expr: ir.Expr, module: ir.ModuleSummary, local: Mapping[str, ir.Expr] | None
    ) -> str | Unknown:
        """The name an activity argument registers under: a string, or the defn it points at."""
        unknown = Unknown(expr.text, _loc(module, expr.span))
        if (
            isinstance(expr, ir.Ref)
            and local is not None
            and expr.dotted.partition(".")[0] in local
        ):
            bound = local.get(expr.dotted)
            if bound is None or bound is expr:
                return unknown
            return self.activity_name(bound, module, None)
        value = self.evaluator.eval(expr, module)
        if isinstance(value, Known) and isinstance(value.value, str):
            return value.value
        if not isinstance(expr, ir.Ref):
            return unknown
        found = self.project.resolve(module, expr.dotted)
        if found is None:
            return unknown
        if found.kind == "binding":
            target, where = self.evaluator.deref(expr, module)
            if target is not expr:
                return self.activity_name(target, where, None)
            return unknown
        if found.kind == "function" and found.function is not None and found.module:
            fn = found.function
            dec = self.defn(fn.decorators, found.module)
            if dec is None:
                return fn.name
            name, _ = self.defn_name(dec, fn.name, None)
            return name if name is not None else unknown
        if found.kind == "class" and found.cls is not None and found.module:
            dec = self.defn(found.cls.decorators, found.module)
            if dec is None:
                return found.cls.name
            name, _ = self.defn_name(dec, found.cls.name, None)
            return name if name is not None else unknown
        if found.kind == "external" and found.cls is not None and found.module is not None:
            # `Activities.method` for execute_activity_method.
            method_name = expr.dotted.rpartition(".")[2]
            for method in found.cls.methods:
                if method.name == method_name:
                    dec = self.defn(method.decorators, found.module)
                    if dec is None:
                        return method.name
                    name, _ = self.defn_name(dec, method.name, None)
                    return name if name is not None else unknown
        return unknown


def _client_call(call: ir.Call, summary: ir.ModuleSummary) -> bool:
    """A standalone activity started from a client (`await client.execute_activity(fn,
    id=..., task_queue=...)`, temporalio 1.31+, experimental). The client is rarely a name
    retrylint can type (`client = await Client.connect(...)`), so the call is known by its
    method and the two keywords only `Client.{start,execute}_activity` require."""
    if not isinstance(call.func, ir.Ref):
        return False
    receiver, _, method = call.func.dotted.rpartition(".")
    return (
        bool(receiver)
        and method in _REMOTE
        and call.kwarg("id") is not None
        and call.kwarg("task_queue") is not None
        and module_imports(summary, ("temporalio",))
    )


class _CallSite:
    """One activity invocation and the retry policy it passes."""

    def __init__(
        self,
        analysis: _Analysis,
        summary: ir.ModuleSummary,
        local: Mapping[str, ir.Expr],
        call: ir.Call,
        is_local: bool,
        client: bool = False,
    ) -> None:
        self.a = analysis
        self.evaluator = analysis.evaluator
        self.summary = summary
        self.local = local
        self.call = call
        self.is_local = is_local
        self.client = client
        self.log = UndecidedLog()
        self.options = self._options()

    def _options(self) -> dict[str, _Written]:
        out: dict[str, _Written] = {}
        for kw in self.call.kwargs:
            if kw.name is not None:
                out[kw.name] = _Written(kw.value, self.summary, self.local)
                continue
            items = dict_items(self.evaluator, kw.value, self.summary, self.local)
            if isinstance(items, Unknown):
                self.log.add("options", items)
                out.setdefault("**", _Written(kw.value, self.summary, self.local))
                continue
            for key, (expr, module) in items.items():
                out[key] = _Written(expr, module, self.local if module is self.summary else None)
        return out

    def _eval(self, written: _Written) -> Value:
        return self.evaluator.eval(written.expr, written.module, written.local)

    def _loc(self, written: _Written) -> Location:
        return _loc(written.module, written.expr.span)

    def _unknown(self, written: _Written, value: Value) -> Unknown:
        return (
            value if isinstance(value, Unknown) else Unknown(written.expr.text, self._loc(written))
        )

    # -- identity ------------------------------------------------------------------------------

    def name(self) -> tuple[str | None, str | None]:
        arg = self.call.args[0] if self.call.args else self.call.kwarg("activity")
        if arg is None:
            return None, self.call.text
        found = self.a.activity_name(arg, self.summary, self.local)
        if isinstance(found, str):
            return found, None
        self.log.add("name", found)
        return None, arg.text

    # -- policy --------------------------------------------------------------------------------

    def _policy(self) -> tuple[dict[str, _Written], Location] | Unknown | None:
        """The RetryPolicy arguments passed, None for no policy, Unknown when unreadable."""
        written = self.options.get("retry_policy")
        if written is None:
            if "**" in self.options:
                splat = self.options["**"]
                return Unknown(splat.expr.text, self._loc(splat))
            return None
        expr, module, local = written.expr, written.module, written.local
        for _ in range(8):
            if isinstance(expr, ir.Ref) and local is not None and expr.dotted in local:
                bound = local[expr.dotted]
                if bound is expr:
                    break
                expr = bound
                continue
            target, where = self.evaluator.deref(expr, module)
            if target is expr:
                break
            expr, module, local = target, where, None
        if isinstance(expr, ir.Const) and expr.value is None:
            return None
        if not (isinstance(expr, ir.Call) and isinstance(expr.func, ir.Ref)):
            return Unknown(written.expr.text, self._loc(written))
        policy_class = self.a.project.resolve(module, expr.func.dotted)
        if policy_class is None or policy_class.qualified not in _RETRY_POLICY:
            return Unknown(written.expr.text, self._loc(written))
        fields: dict[str, _Written] = {}
        for index, arg in enumerate(expr.args):
            if isinstance(arg, ir.Starred) or index >= len(_FIELDS):
                return Unknown(expr.text, _loc(module, expr.span))
            fields[_FIELDS[index]] = _Written(arg, module, local)
        for kw in expr.kwargs:
            if kw.name is not None:
                fields[kw.name] = _Written(kw.value, module, local)
                continue
            items = dict_items(self.evaluator, kw.value, module, local)
            if isinstance(items, Unknown):
                return items
            for key, (item, where) in items.items():
                fields[key] = _Written(item, where, local if where is module else None)
        return fields, _loc(module, expr.span)

    def _seconds(
        self, name: str, fields: dict[str, _Written], default: float | None
    ) -> tuple[float | None, Provenance | None] | Unknown:
        """A duration field in seconds (None when unset), with where it is written."""
        written = fields.get(name)
        if written is None:
            return default, None
        value = self._eval(written)
        if isinstance(value, Known) and value.value is None:
            return default, None
        amount = number(value)
        if amount is None:
            return self._unknown(written, value)
        return float(amount), Provenance(source_of(value, "explicit"), self._loc(written))

    def fields(self) -> Fields:
        policy = self._policy()
        if isinstance(policy, Unknown):
            self.log.add("retry_policy", policy)
            return combine([], Provenance("undecided", policy.location))
        kind = "local activity " if self.is_local else ""
        default_note = _DEFAULT_DELAYS
        if self.is_local:
            default_note += " (the SDK-side local-activity default is not verified)"
        delay_prov = Provenance("default", None, default_note)
        count_prov = Provenance(
            "default",
            None,
            f"Temporal's default {kind}maximum_attempts=0 (unlimited); "
            "no schedule_to_close_timeout bounds it",
        )
        count: Count = UNBOUNDED
        delay: DelayFn | None = _exponential(_INITIAL, _COEFFICIENT)
        cap: float | None = _INITIAL * _CAP_FACTOR
        shape: tuple[BackoffKind, Provenance] | None = None
        if policy is not None:
            fields, where = policy
            count, count_prov = self._attempts(fields, where)
            delay, cap, delay_prov, shape = self._delays(fields, where, delay_prov)
        count, count_prov = self._bounded_by_time(count, count_prov, delay, cap)
        no_jitter = Provenance("default", None, _NO_JITTER)
        path = RetryPath(
            "automatic", count, count_prov, delay, delay_prov, False, no_jitter, cap, shape
        )
        return combine([path])

    def _attempts(self, fields: dict[str, _Written], where: Location) -> tuple[Count, Provenance]:
        written = fields.get("maximum_attempts")
        if written is None:
            note = "RetryPolicy's default maximum_attempts=0 (unlimited)"
            return UNBOUNDED, Provenance("default", where, note)
        value = self._eval(written)
        amount = number(value)
        prov = Provenance(source_of(value, "explicit"), self._loc(written))
        if amount is None or not isinstance(amount, int):
            unknown = self._unknown(written, value)
            self.log.add("maximum_attempts", unknown)
            return UNDECIDED, Provenance("undecided", unknown.location)
        if amount == 0:
            note = "maximum_attempts=0 means unlimited"
            return UNBOUNDED, Provenance(prov.source, prov.location, note)
        if amount < 0:
            note = "a negative maximum_attempts is rejected by the SDK: the activity never runs"
            return 0, Provenance(prov.source, prov.location, note)
        # maximum_attempts counts executions: the first run plus amount - 1 retries.
        return amount - 1, Provenance(prov.source, prov.location, f"maximum_attempts={amount}")

    def _delays(
        self, fields: dict[str, _Written], where: Location, default: Provenance
    ) -> tuple[DelayFn | None, float | None, Provenance, tuple[BackoffKind, Provenance] | None]:
        """The wait function, its cap and source; and, when an interval is undecided but the
        coefficient is not, the backoff kind (a positive start times coefficient^r has the
        coefficient's kind whatever the start)."""
        initial = self._seconds("initial_interval", fields, _INITIAL)
        maximum = self._seconds("maximum_interval", fields, None)
        coefficient: float | Unknown = _COEFFICIENT
        coef_prov: Provenance | None = None
        written = fields.get("backoff_coefficient")
        if written is not None:
            value = self._eval(written)
            amount = number(value)
            if amount is None:
                coefficient = self._unknown(written, value)
            else:
                coefficient = float(amount)
                coef_prov = Provenance(source_of(value, "explicit"), self._loc(written))
        for name, item in (
            ("initial_interval", initial),
            ("backoff_coefficient", coefficient),
            ("maximum_interval", maximum),
        ):
            if isinstance(item, Unknown):
                self.log.add(name, item)
                kind: tuple[BackoffKind, Provenance] | None = None
                if not isinstance(coefficient, Unknown):
                    kind = (classify(_exponential(_INITIAL, coefficient)), coef_prov or default)
                return None, None, Provenance("undecided", item.location), kind
        assert not isinstance(initial, Unknown) and not isinstance(maximum, Unknown)
        assert not isinstance(coefficient, Unknown)
        start, start_prov = initial
        # The server treats a zero interval as unset and fills in its default.
        start = start if start else _INITIAL
        cap, cap_prov = maximum
        cap = cap if cap else start * _CAP_FACTOR
        written_prov = start_prov or coef_prov or cap_prov
        prov = default
        if written_prov is not None:
            prov = Provenance(written_prov.source, written_prov.location or where)
        return _exponential(start, coefficient), cap, prov, None

    def _bounded_by_time(
        self, count: Count, prov: Provenance, delay: DelayFn | None, cap: float | None
    ) -> tuple[Count, Provenance]:
        """A schedule-to-close timeout stops retries whose wait would pass it (§4)."""
        written = self.options.get("schedule_to_close_timeout")
        if written is None or count == UNDECIDED:
            return count, prov
        value = self._eval(written)
        if isinstance(value, Known) and value.value is None:
            return count, prov
        seconds = number(value)
        if seconds is None:
            if count == UNBOUNDED:
                unknown = self._unknown(written, value)
                self.log.add("schedule_to_close_timeout", unknown)
                return UNDECIDED, Provenance("undecided", unknown.location)
            return count, prov
        if seconds <= 0:
            return count, prov
        if delay is None:
            if count == UNBOUNDED:
                return UNDECIDED, Provenance("undecided", self._loc(written))
            return count, prov
        implied = _implied(delay, cap, float(seconds))
        if implied is None or (isinstance(count, int) and count <= implied):
            return count, prov
        note = (
            f"schedule_to_close_timeout={float(seconds):g}s leaves room for {implied} retries "
            "at the shortest waits"
        )
        return implied, Provenance(source_of(value, "explicit"), self._loc(written), note)

    def row(self) -> EffectivePolicy:
        name, expression = self.name()
        fields = self.fields()
        location = _loc(self.summary, self.call.span)
        return policy_row(
            name=name,
            name_expression=expression,
            framework=KEY,
            site="enqueue",
            location=location,
            fields=fields,
            final_failure=(
                f"ActivityFailureError raised to the client at {location}"
                if self.client
                else f"ActivityError raised in the workflow at {location}"
            ),
            log=self.log,
            version=self.a.version,
            anchors=(self.call.span.line,),
            hints=_HINTS,
        )


def _loc(module: ir.ModuleSummary, span: ir.Span) -> Location:
    return location_of(module, span)


def _exponential(initial: float, coefficient: float) -> DelayFn:
    def delay(r: int) -> float:
        try:
            return initial * math.pow(coefficient, r)
        except OverflowError:
            return math.inf

    return delay


def _implied(delay: DelayFn, cap: float | None, budget: float) -> int | None:
    """How many retries fit in `budget` seconds of waiting (execution time taken as zero)."""
    total = 0.0
    for r in range(_MAX_IMPLIED):
        try:
            wait = float(delay(r))
        except (ArithmeticError, ValueError):
            return r
        if cap is not None:
            wait = min(wait, cap)
        if wait <= 0:
            return None  # no wait at all: time never runs out
        if total + wait > budget:
            return r
        total += wait
        if cap is not None and wait >= cap:
            return r + 1 + int((budget - total) // cap)
    return None


_HINTS: tuple[tuple[str, str], ...] = (
    (
        "max_retries",
        "Pass retry_policy=RetryPolicy(maximum_attempts=<n>) (it counts executions; 0, the "
        "default, is unlimited), or bound the call with schedule_to_close_timeout.",
    ),
    (
        "backoff",
        "Keep RetryPolicy's backoff_coefficient at 2.0 (the default) or above; 1.0 retries at a "
        "fixed interval.",
    ),
    ("trigger", "maximum_attempts=1 allows no retry"),
    ("trigger_fix", "Raise maximum_attempts above 1, or drop the retry options."),
    (
        "dead_letter",
        "Catch ActivityError in the workflow and record the failed input (a compensation "
        "activity, a failed-work table, or an alert).",
    ),
    (
        "window",
        "Raise RetryPolicy's maximum_attempts, initial_interval or maximum_interval (100 "
        "times initial_interval by default), and the schedule_to_close_timeout that bounds "
        "the retries.",
    ),
)
