"""django-q2 (written against 1.11.1; reference §9).

django-q2 has no task decorator: any importable callable is a task, named `module.function`
(or the dotted string passed). Every enqueue call is therefore a row (`site="enqueue"`) carrying
the policy that applies to it: `async_task(func, ..., q_options={...})`, `schedule(func, ...)`,
`async_iter(func, ...)`, `AsyncTask(func, ...)` and the items of a literal
`async_chain([...])` list.

Retries are broker redelivery, configured once in the Django settings dict `Q_CLUSTER`
(read from the settings module, else from the one module-level `Q_CLUSTER` in the project):
- the broker is `broker_class`, then `iron_mq`, `sqs` (a dict), `orm`, `mongo`, else Redis.
  The Redis broker cannot acknowledge, so a failed task is never redelivered;
- on the others an unacknowledged task is handed out again `retry` seconds (default 60) after
  it was taken: a fixed wait, no backoff, no jitter;
- `max_attempts` counts executions (0, the default, is unlimited); the monitor acks the message
  once `attempt_count >= max_attempts`;
- `ack_failures` / per-task `ack_failure` acks failed tasks (no retry); `sync` runs the task in
  the caller (no retry); `cached` results (per task or in Q_CLUSTER, and always for
  `async_iter`) skip the `max_attempts` check, so they are redelivered forever;
- a key in `q_options` wins over the plain keyword of the same name.
Not recognised: `Schedule.objects.create(...)`, `Chain().append(...)`, per-call `broker=`
objects (undecided), `ALT_CLUSTERS`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from retrylint.frameworks.base import (
    AdapterContext,
    UndecidedLog,
    dict_items,
    method_ref,
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
    Source,
)
from retrylint.python import ir
from retrylint.python.evaluate import Known, Unknown, Value, location_of, number
from retrylint.resolve.schedule import Fields, RetryPath, combine, never_retries

KEY = "django-q2"
REFERENCE_VERSION = "1.11.1"

_ENQUEUE = {
    "django_q.tasks.async_task": "async_task",
    "django_q.tasks.schedule": "schedule",
    "django_q.tasks.async_iter": "async_iter",
    "django_q.tasks.AsyncTask": "AsyncTask",
    "django_q.tasks.async_chain": "async_chain",
}
# Brokers named by `broker_class`; anything else is a custom broker retrylint cannot judge.
_BROKER_CLASSES = {
    "django_q.brokers.redis_broker.Redis": "Redis",
    "django_q.brokers.orm.ORM": "ORM",
    "django_q.brokers.aws_sqs.Sqs": "SQS",
    "django_q.brokers.mongo.Mongo": "Mongo",
    "django_q.brokers.ironmq.IronMQBroker": "IronMQ",
}
# Defaults of django_q/conf.py: Conf.
_DEFAULT_RETRY = 60
_DEFAULT_MAX_ATTEMPTS = 0

FAILURE_ROW = "failed Task row in django_q's database (admin: Failed tasks)"
FAILURE_CACHED = "failed result in the Django cache only (cached=True: no Task row)"


@dataclass(frozen=True, slots=True)
class _Setting:
    """A value from Q_CLUSTER or from the enqueue call, with where it is written."""

    value: Value
    location: Location | None
    source: Source
    text: str

    def provenance(self, note: str = "") -> Provenance:
        return Provenance(self.source, self.location, note)


@dataclass
class _Cluster:
    """The Q_CLUSTER dict: per key, its value and location; `unknown` when unreadable."""

    items: dict[str, _Setting]
    location: Location | None
    module: ir.ModuleSummary | None
    unknown: Unknown | None = None

    def get(self, key: str) -> _Setting | None:
        return self.items.get(key)


# Backoff and jitter are `none`: a failed task comes back when the broker's visibility time,
# Q_CLUSTER `retry` (conf.py, one value for the cluster), runs out; nothing grows or spreads it.
_CAPABILITIES = Capabilities(
    count="setting",
    backoff="none",
    jitter="none",
    dead_letter="setting",
    instead=(
        (
            "backoff",
            "a failed task comes back after the one fixed Q_CLUSTER 'retry' time of the cluster",
            "Set ack_failure=True and re-enqueue from the task with schedule(..., next_run=now + "
            'a growing delay), or put these tasks in a category with backoff = "fixed".',
        ),
        (
            "jitter",
            "a failed task comes back after the one fixed Q_CLUSTER 'retry' time of the cluster",
            "Set ack_failure=True and re-enqueue from the task with schedule(..., next_run=now + "
            "a random delay), or put these tasks in a category with jitter = false.",
        ),
    ),
)


class DjangoQ2Adapter:
    key = KEY
    info = FrameworkInfo("django-q2", "django-q2", in_process=False, capabilities=_CAPABILITIES)
    packages: tuple[str, ...] = ("django_q",)
    # Call sites import django_q; the settings hold Q_CLUSTER; the Django entry points name
    # the settings module.
    markers = re.compile(rb"django_q|Q_CLUSTER|DJANGO_SETTINGS_MODULE")
    interest = ir.Interest(
        calls=frozenset({"async_task", "schedule", "async_iter", "async_chain", "AsyncTask"}),
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
        self.cluster = self._cluster()
        self.broker = self._broker()

    # -- Q_CLUSTER ---------------------------------------------------------------------------

    def _cluster(self) -> _Cluster:
        found: list[tuple[ir.Binding, ir.ModuleSummary]] = []
        name = self.ctx.settings.settings_module
        settings = self.project.module(name) if name else None
        if settings is not None:
            resolved = self.project.resolve(settings, "Q_CLUSTER")
            if resolved is not None and resolved.binding is not None and resolved.module:
                found.append((resolved.binding, resolved.module))
        if not found:
            # Split settings (django-split-settings, per-environment files): the one
            # module-level Q_CLUSTER of the project, if there is exactly one.
            for summary in self.project.loaded():
                for binding in summary.bindings:
                    if binding.target == "Q_CLUSTER":
                        found.append((binding, summary))
            if len({b.value.text for b, _ in found}) > 1:
                binding, module = found[0]
                where = location_of(module, binding.span)
                text = "Q_CLUSTER (set differently in several modules)"
                return _Cluster({}, where, module, Unknown(text, where))
        if not found:
            return _Cluster({}, None, None)
        binding, module = found[-1]
        where = location_of(module, binding.span)
        items = dict_items(self.evaluator, binding.value, module)
        if isinstance(items, Unknown):
            return _Cluster({}, where, module, items)
        out: dict[str, _Setting] = {}
        for key, (expr, at) in items.items():
            value = self.evaluator.eval(expr, at)
            out[key] = _Setting(
                value, location_of(at, expr.span), source_of(value, "config"), expr.text
            )
        return _Cluster(out, where, module)

    def _broker(self) -> tuple[str | Unknown, Provenance]:
        """The broker `get_broker()` picks: its name, or the value that cannot be decided."""
        cluster = self.cluster
        if cluster.unknown is not None:
            return cluster.unknown, Provenance("undecided", cluster.unknown.location)
        if not cluster.items:
            note = "no Q_CLUSTER found: django-q2 defaults to the Redis broker"
            return "Redis", Provenance("default", None, note)
        custom = cluster.get("broker_class")
        if custom is not None:
            value = custom.value
            if isinstance(value, Known) and isinstance(value.value, str):
                known = _BROKER_CLASSES.get(value.value)
                if known is not None:
                    return known, custom.provenance(f"broker_class={value.value!r}")
            if not (isinstance(value, Known) and not value.value):
                unknown = (
                    value
                    if isinstance(value, Unknown)
                    else Unknown(custom.text, custom.location or _nowhere())
                )
                return unknown, Provenance("undecided", unknown.location, "custom broker")
        for key, broker in (
            ("iron_mq", "IronMQ"),
            ("sqs", "SQS"),
            ("orm", "ORM"),
            ("mongo", "Mongo"),
        ):
            setting = cluster.get(key)
            if setting is None:
                continue
            value = setting.value
            if isinstance(value, Unknown):
                return value, Provenance("undecided", value.location)
            if not isinstance(value, Known):
                return Unknown(setting.text, setting.location or _nowhere()), Provenance(
                    "undecided", setting.location
                )
            chosen = isinstance(value.value, dict) if key == "sqs" else bool(value.value)
            if chosen:
                return broker, setting.provenance(f"Q_CLUSTER[{key!r}] selects the {broker} broker")
        return "Redis", Provenance(
            "config", cluster.location, "Q_CLUSTER names no other broker: Redis"
        )

    # -- rows --------------------------------------------------------------------------------

    def rows(self) -> Iterator[EffectivePolicy | Observation]:
        for summary in self.ctx.scanned:
            scopes: list[tuple[tuple[ir.Call, ...], Mapping[str, ir.Expr] | None]] = [
                (summary.calls, None)
            ]
            functions = [*summary.functions, *(m for c in summary.classes for m in c.methods)]
            for fn in functions:
                scopes.append((fn.calls, {b.target: b.value for b in fn.locals}))
            for calls, local in scopes:
                for call in calls:
                    yield from self._enqueue(call, summary, local)
        yield from self._observations()

    def _enqueue(
        self, call: ir.Call, summary: ir.ModuleSummary, local: Mapping[str, ir.Expr] | None
    ) -> Iterator[EffectivePolicy]:
        if not isinstance(call.func, ir.Ref):
            return
        found = self.project.resolve(summary, call.func.dotted)
        kind = _ENQUEUE.get(found.qualified) if found is not None else None
        if kind is None:
            return
        if kind == "async_chain":
            yield from self._chain(call, summary, local)
            return
        func = call.args[0] if call.args else call.kwarg("func")
        builder = _Site(self, summary, local, call)
        builder.read_options(call, kind)
        yield builder.row(func, call.span)

    def _chain(
        self, call: ir.Call, summary: ir.ModuleSummary, local: Mapping[str, ir.Expr] | None
    ) -> Iterator[EffectivePolicy]:
        if not call.args:
            return
        chain, module = self.evaluator.deref(call.args[0], summary)
        if module is summary and isinstance(chain, ir.Ref) and local and chain.dotted in local:
            chain = local[chain.dotted]
        if not isinstance(chain, ir.Seq):
            return
        for item in chain.items:
            func = item.items[0] if isinstance(item, ir.Seq) and item.items else item
            builder = _Site(self, module, local if module is summary else None, call)
            builder.read_options(call, "async_chain")
            yield builder.row(func, item.span)

    def _observations(self) -> Iterator[Observation]:
        """RL106: redelivery of tasks that are still running (`timeout` unset or > `retry`)."""
        broker = self.broker[0]
        module = self.cluster.module
        if isinstance(broker, Unknown) or broker == "Redis" or module is None:
            return
        if not any(s.path == module.path for s in self.ctx.scanned):
            return
        retry = self.cluster.get("retry")
        timeout = self.cluster.get("timeout")
        retry_value = number(retry.value) if retry is not None else _DEFAULT_RETRY
        timeout_value: int | float | None = None
        if timeout is not None:
            if isinstance(timeout.value, Known) and timeout.value.value is None:
                timeout_value = None
            else:
                timeout_value = number(timeout.value)
                if timeout_value is None:
                    return
        if retry_value is None:
            return
        if timeout_value and timeout_value <= retry_value:
            return
        location = (
            (retry.location if retry is not None else None)
            or (timeout.location if timeout is not None else None)
            or self.cluster.location
        )
        assert location is not None
        shown = "unset" if not timeout_value else f"{timeout_value:g} s"
        yield Observation(
            kind="requeue-loop",
            location=location,
            message=f"Q_CLUSTER hands an unacknowledged task out again after retry="
            f"{retry_value:g} s, but timeout is {shown}: on the {broker} broker a task still "
            "running after that long is delivered again and runs twice, and max_attempts only "
            "counts runs that finished",
            fix="Set Q_CLUSTER 'timeout' below 'retry' (e.g. timeout=300, retry=360).",
            framework=KEY,
        )


class _Site:
    """One enqueue call (or chain item) and the options that apply to it."""

    def __init__(
        self,
        analysis: _Analysis,
        summary: ir.ModuleSummary,
        local: Mapping[str, ir.Expr] | None,
        call: ir.Call,
    ) -> None:
        self.a = analysis
        self.summary = summary
        self.local = local
        self.call = call
        self.log = UndecidedLog()
        self.options: dict[str, _Setting] = {}
        self.forced_cache: _Setting | None = None

    def _eval(self, expr: ir.Expr, module: ir.ModuleSummary) -> Value:
        local = self.local if module is self.summary else None
        return self.a.evaluator.eval(expr, module, local)

    def _setting(self, expr: ir.Expr, module: ir.ModuleSummary) -> _Setting:
        value = self._eval(expr, module)
        return _Setting(
            value, location_of(module, expr.span), source_of(value, "explicit"), expr.text
        )

    def read_options(self, call: ir.Call, kind: str) -> None:
        plain: dict[str, tuple[ir.Expr, ir.ModuleSummary]] = {}
        for kw in call.kwargs:
            if kw.name is not None:
                plain[kw.name] = (kw.value, self.summary)
                continue
            items = dict_items(self.a.evaluator, kw.value, self.summary, self.local)
            if isinstance(items, Unknown):
                self.log.add("options", items)
            else:
                plain.update(items)
        q_options: dict[str, tuple[ir.Expr, ir.ModuleSummary]] = {}
        if "q_options" in plain:
            expr, module = plain.pop("q_options")
            local = self.local if module is self.summary else None
            items = dict_items(self.a.evaluator, expr, module, local)
            if isinstance(items, Unknown):
                self.log.add("q_options", items)
            else:
                q_options = items
        if kind == "async_iter" and q_options:
            plain = {}  # `options = kwargs.get("q_options", kwargs)`
        for key in ("ack_failure", "cached", "sync", "broker"):
            if key in q_options:
                self.options[key] = self._setting(*q_options[key])
            elif key in plain:
                self.options[key] = self._setting(*plain[key])
        if kind == "async_iter":
            self.forced_cache = _Setting(
                Known(True), location_of(self.summary, call.span), "explicit", call.text
            )

    # -- identity -------------------------------------------------------------------------------

    def name(self, func: ir.Expr | None) -> tuple[str | None, str | None]:
        if func is None:
            return None, self.call.text
        value = self._eval(func, self.summary)
        if isinstance(value, Known) and isinstance(value.value, str):
            return value.value, None
        if isinstance(func, ir.Ref) and not (
            self.local and func.dotted.partition(".")[0] in self.local
        ):
            # django_q/utils.py `get_func_repr`: `module.__name__` for a function (a method
            # reached through its class too), `module.Class.__name__` for a classmethod; any
            # other bound method prints as `str(func)`, which names no task.
            method = method_ref(self.a.ctx, func, self.summary)
            if method is not None and method.is_classmethod:
                owner = f"{method.owner_module.module}.{method.owner.name}"
                return f"{owner}.{method.method.name}", None
            if method is not None and not method.is_bound:
                return f"{method.defining_module.module}.{method.method.name}", None
            if method is not None:
                self.log.add("name", Unknown(func.text, location_of(self.summary, func.span)))
                return None, f"str({func.text})"
            found = self.a.project.resolve(self.summary, func.dotted)
            if found is not None and found.kind == "function" and found.module is not None:
                assert found.function is not None
                prefix = f"{found.module.module}." if found.module.module else ""
                return prefix + found.function.name, None
            if found is not None and found.kind == "external" and found.cls is None:
                return found.qualified, None
        if isinstance(value, Unknown):
            self.log.add("name", value)
        else:
            self.log.add("name", Unknown(func.text, location_of(self.summary, func.span)))
        return None, func.text

    # -- policy ---------------------------------------------------------------------------------

    def _effective(self, key: str, cluster_key: str) -> _Setting | None:
        return self.options.get(key) or self.a.cluster.get(cluster_key)

    def fields(self) -> Fields:
        broker, broker_prov = self.a.broker
        if isinstance(broker, Unknown):
            self.log.add("broker", broker)
            return combine([], broker_prov)
        if "broker" in self.options:
            setting = self.options["broker"]
            unknown = Unknown(setting.text, setting.location or _nowhere())
            self.log.add("broker", unknown)
            return combine([], Provenance("undecided", setting.location, "broker passed per task"))
        if broker == "Redis":
            note = "the Redis broker cannot acknowledge, so failed tasks are never redelivered"
            return never_retries(Provenance(broker_prov.source, broker_prov.location, note))
        sync = self._effective("sync", "sync")
        if sync is not None:
            decided = self._flag(sync, "sync")
            if decided is None:
                return combine([], Provenance("undecided", sync.location))
            if decided:
                return never_retries(sync.provenance("sync=True runs the task in the caller"))
        ack = self._effective("ack_failure", "ack_failures")
        if ack is not None:
            decided = self._flag(ack, "ack_failure")
            if decided is None:
                return combine([], Provenance("undecided", ack.location))
            if decided:
                return never_retries(ack.provenance("failed tasks are acknowledged: no redelivery"))
        count, count_prov = self._count(broker)
        retry = self.a.cluster.get("retry")
        delay_prov = Provenance("default", None, f"django-q2's default retry={_DEFAULT_RETRY} s")
        seconds: float | None = float(_DEFAULT_RETRY)
        if retry is not None:
            amount = number(retry.value)
            seconds = float(amount) if amount is not None else None
            if seconds is None:
                unknown = (
                    retry.value
                    if isinstance(retry.value, Unknown)
                    else Unknown(retry.text, retry.location or _nowhere())
                )
                self.log.add("retry", unknown)
                delay_prov = Provenance("undecided", unknown.location)
            else:
                delay_prov = retry.provenance("redelivered after Q_CLUSTER retry seconds")
        no_jitter = Provenance("default", None, "django-q2 redelivers after a fixed retry time")
        delay = (lambda _r, s=seconds: s) if seconds is not None else None
        return combine(
            [RetryPath("automatic", count, count_prov, delay, delay_prov, False, no_jitter)]
        )

    def _flag(self, setting: _Setting, name: str) -> bool | None:
        if isinstance(setting.value, Known):
            return bool(setting.value.value)
        unknown = (
            setting.value
            if isinstance(setting.value, Unknown)
            else Unknown(setting.text, setting.location or _nowhere())
        )
        self.log.add(name, unknown)
        return None

    def cached(self) -> _Setting | None:
        return self.forced_cache or self._effective("cached", "cached")

    def _count(self, broker: str) -> tuple[Count, Provenance]:
        cached = self.cached()
        if cached is not None:
            decided = self._flag(cached, "cached")
            if decided is None:
                return UNDECIDED, Provenance("undecided", cached.location)
            if decided:
                note = "cached results skip the max_attempts check: redelivered forever"
                if cached is self.forced_cache:
                    note = "async_iter always caches, and " + note
                return UNBOUNDED, cached.provenance(note)
        attempts = self.a.cluster.get("max_attempts")
        if attempts is None:
            note = f"django-q2's default max_attempts=0 (unlimited) on the {broker} broker"
            return UNBOUNDED, Provenance("default", None, note)
        amount = number(attempts.value)
        if amount is None:
            unknown = (
                attempts.value
                if isinstance(attempts.value, Unknown)
                else Unknown(attempts.text, attempts.location or _nowhere())
            )
            self.log.add("max_attempts", unknown)
            return UNDECIDED, Provenance("undecided", unknown.location)
        if amount <= 0:
            return UNBOUNDED, attempts.provenance(f"max_attempts={amount:g} means unlimited")
        # max_attempts counts executions: the first run plus max_attempts - 1 redeliveries.
        runs = int(amount) if float(amount).is_integer() else int(amount) + 1
        return max(0, runs - 1), attempts.provenance(f"max_attempts={amount:g} executions")

    def final_failure(self) -> str:
        cached = self.cached()
        if cached is not None and isinstance(cached.value, Known) and cached.value.value:
            return FAILURE_CACHED
        return FAILURE_ROW

    def row(self, func: ir.Expr | None, span: ir.Span) -> EffectivePolicy:
        name, name_expression = self.name(func)
        fields = self.fields()
        return policy_row(
            name=name,
            name_expression=name_expression,
            framework=KEY,
            site="enqueue",
            location=Location(
                self.summary.path, span.line, span.column, span.end_line, span.end_column
            ),
            fields=fields,
            final_failure=self.final_failure(),
            log=self.log,
            version=self.a.ctx.version or REFERENCE_VERSION,
            anchors=(self.call.span.line,),
            hints=_HINTS,
        )


def _nowhere() -> Location:
    return Location("<unknown>", 1, 1)


_HINTS: tuple[tuple[str, str], ...] = (
    (
        "max_retries",
        "Set Q_CLUSTER['max_attempts'] to a positive number of executions (0, the default, is "
        "unlimited), and do not cache results (cached=True skips the max_attempts check).",
    ),
    ("trigger", "its broker never redelivers it (Redis broker, ack_failure or sync)"),
    ("trigger_fix", "Use an acknowledging broker (orm, sqs, mongo, iron_mq) to get retries."),
    (
        "dead_letter",
        "django-q2 keeps failed tasks as Task rows; pass hook= to handle the final failure.",
    ),
    (
        "window",
        "Raise Q_CLUSTER['max_attempts'], or Q_CLUSTER['retry'] (the seconds before an "
        "unacknowledged task is delivered again).",
    ),
)
