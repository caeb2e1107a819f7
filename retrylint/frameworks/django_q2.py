"""django-q2 (written against 1.11.1; reference §9).

django-q2 has no task decorator: any importable callable is a task, named `module.function`
(or the dotted string passed). Every enqueue call is therefore a row (`site="enqueue"`) carrying
the policy that applies to it: `async_task(func, ..., q_options={...})`, `async_iter(func, ...)`,
`AsyncTask(func, ...)`, the links of a chain (the items of a literal `async_chain([...])` or
`Chain(chain=[...])` list, and each `chain.append(func, ...)` on a `Chain(...)` bound to a name),
and each schedule: `schedule(func, ...)`, `Schedule.objects.create(func=...)` (also
`update_or_create` / `get_or_create`, `defaults=` included) and `Schedule(func=...)` saved with
`.save()`.

Chains (tasks.py `async_chain`): a link's `(func, args, kwargs)` reaches `async_task` with the
chain's own `cached`, `sync` and `broker` written over the link's, so only the link's
`ack_failure` and its `q_options` are its own. Schedules (scheduler.py): the cluster turns a
due schedule into `async_task(s.func, *args, **kwargs)`, where `kwargs` is the schedule's
`kwargs` text read back with `ast.literal_eval` (a dict, or `x=1, y=2`; anything else is no
keywords), so `q_options` and the plain option keywords in it apply; the broker is always the
cluster's own. `Schedule.func` is a text column: a function object passed there is stored as
`str(fn)`, which names no task, so such a row has no name (RL002 quotes `str(fn)`).

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
Not recognised: a `Chain` kept on an attribute (`self.chain.append(...)`), schedules made through
`apps.get_model(...)` in migrations, per-call `broker=` objects (undecided), `ALT_CLUSTERS` and a
schedule's `cluster=`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
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
    "django_q.tasks.Chain": "Chain",
}
_SCHEDULE = "django_q.models.Schedule"
# Manager methods that write a Schedule row, with the keywords whose mapping also holds fields.
_SCHEDULE_WRITES: dict[str, tuple[str, ...]] = {
    f"{_SCHEDULE}.objects.create": (),
    f"{_SCHEDULE}.objects.update_or_create": ("defaults", "create_defaults"),
    f"{_SCHEDULE}.objects.get_or_create": ("defaults",),
}
# The task options `async_task` reads from its keywords or `q_options` (tasks.py `opt_keys`).
_OPTIONS = ("ack_failure", "cached", "sync", "broker")
# A stored `kwargs` text longer than this is not parsed (the scheduler would; retrylint will
# not spend unbounded time on a string in the code it reads).
_MAX_STORED = 10_000
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
        calls=frozenset(
            {
                "async_task",
                "schedule",
                "async_iter",
                "async_chain",
                "AsyncTask",
                "Chain",
                "append",
                "Schedule",
                "save",
                "create",
                "update_or_create",
                "get_or_create",
            }
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
            scopes: list[_Scope] = [(summary.calls, None, summary.bindings)]
            functions = [*summary.functions, *(m for c in summary.classes for m in c.methods)]
            for fn in functions:
                scopes.append((fn.calls, {b.target: b.value for b in fn.locals}, fn.locals))
            for calls, local, bindings in scopes:
                saved = _saved(calls, bindings)
                for call in calls:
                    yield from self._enqueue(call, summary, local, saved)
        yield from self._observations()

    def _enqueue(
        self,
        call: ir.Call,
        summary: ir.ModuleSummary,
        local: Mapping[str, ir.Expr] | None,
        saved: Callable[[ir.Call], bool],
    ) -> Iterator[EffectivePolicy]:
        if not isinstance(call.func, ir.Ref):
            return
        if call.func.dotted.endswith(".append"):
            yield from self._link(call, summary, local)
            return
        found = self.project.resolve(summary, call.func.dotted)
        if found is None:
            return
        kind = _ENQUEUE.get(found.qualified)
        if kind is None and found.qualified in _SCHEDULE_WRITES:
            yield from self._schedule_row(call, summary, local, _SCHEDULE_WRITES[found.qualified])
            return
        if kind is None and found.qualified == _SCHEDULE and saved(call):
            yield from self._schedule_row(call, summary, local, ())
            return
        if kind == "Chain":
            items = call.args[0] if call.args else call.kwarg("chain")
            if items is not None:
                yield from self._chain(call, items, summary, local)
            return
        if kind == "async_chain":
            if call.args:
                yield from self._chain(call, call.args[0], summary, local)
            return
        if kind is None:
            return
        func = call.args[0] if call.args else call.kwarg("func")
        builder = _Site(self, summary, local, call)
        plain, q_options = builder.split(builder.keywords(call))
        if kind == "schedule":
            builder.schedule_options(plain, q_options)
        else:
            builder.apply(plain, q_options, kind)
        yield builder.row(func, call.span, stored_as_text=kind == "schedule")

    def _chain_options(
        self, chain: ir.Call, summary: ir.ModuleSummary, local: Mapping[str, ir.Expr] | None
    ) -> dict[str, _Setting]:
        """`cached`, `sync` and `broker` given to `async_chain(...)` or `Chain(...)`: written over
        every link's own."""
        site = _Site(self, summary, local, chain)
        return {
            kw.name: site._setting(kw.value, summary)
            for kw in chain.kwargs
            if kw.name in ("cached", "sync", "broker")
        }

    def _chain(
        self,
        call: ir.Call,
        items: ir.Expr,
        summary: ir.ModuleSummary,
        local: Mapping[str, ir.Expr] | None,
    ) -> Iterator[EffectivePolicy]:
        """The items of a literal chain list: `func`, `(func,)`, `(func, args)` or
        `(func, args, kwargs)`."""
        chain_options = self._chain_options(call, summary, local)
        chain, module = self.evaluator.deref(items, summary)
        if module is summary and isinstance(chain, ir.Ref) and local and chain.dotted in local:
            chain = local[chain.dotted]
        if not isinstance(chain, ir.Seq):
            return
        inner = local if module is summary else None
        for item in chain.items:
            parts = item.items if isinstance(item, ir.Seq) else (item,)
            if not parts:
                continue
            builder = _Site(self, module, inner, call)
            link = builder.keyword_items(parts[2]) if len(parts) > 2 else {}
            builder.link_options(link, chain_options)
            yield builder.row(parts[0], item.span)

    def _link(
        self, call: ir.Call, summary: ir.ModuleSummary, local: Mapping[str, ir.Expr] | None
    ) -> Iterator[EffectivePolicy]:
        """`chain.append(func, *args, **kwargs)` on a name bound to `Chain(...)`."""
        assert isinstance(call.func, ir.Ref)
        receiver = call.func.dotted[: -len(".append")]
        chain: ir.Expr | None = None
        module = summary
        if local is not None and receiver in local:
            chain = local[receiver]
        else:
            found = self.project.resolve(summary, receiver)
            if found is not None and found.kind == "binding" and found.binding and found.module:
                chain, module = found.binding.value, found.module
        if not isinstance(chain, ir.Call) or not isinstance(chain.func, ir.Ref):
            return
        made = self.project.resolve(module, chain.func.dotted)
        if made is None or _ENQUEUE.get(made.qualified) != "Chain" or not call.args:
            return
        chain_options = self._chain_options(chain, module, local if module is summary else None)
        builder = _Site(self, summary, local, call)
        builder.link_options(builder.keywords(call), chain_options)
        yield builder.row(call.args[0], call.span)

    def _schedule_row(
        self,
        call: ir.Call,
        summary: ir.ModuleSummary,
        local: Mapping[str, ir.Expr] | None,
        defaults: tuple[str, ...],
    ) -> Iterator[EffectivePolicy]:
        """A `Schedule` row written through the model: its `func` and `kwargs` fields."""
        builder = _Site(self, summary, local, call)
        fields = builder.keywords(call)
        for name in defaults:
            if name in fields:
                expr, module = fields.pop(name)
                more = dict_items(
                    self.evaluator, expr, module, local if module is summary else None
                )
                if isinstance(more, Unknown):
                    builder.log.add("options", more)
                else:
                    fields.update(more)
        if "func" not in fields:
            return
        func, func_module = fields["func"]
        plain: dict[str, _Setting] = {}
        q_options: dict[str, _Setting] = {}
        if "kwargs" in fields:
            plain, q_options = builder.stored_keywords(*fields["kwargs"])
        builder.schedule_options(plain, q_options)
        yield builder.row(func, call.span, stored_as_text=True, func_module=func_module)

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

    def keywords(self, call: ir.Call) -> _Exprs:
        """The keywords a call passes, `**splats` of readable mappings included."""
        plain: _Exprs = {}
        for kw in call.kwargs:
            if kw.name is not None:
                plain[kw.name] = (kw.value, self.summary)
                continue
            items = dict_items(self.a.evaluator, kw.value, self.summary, self.local)
            if isinstance(items, Unknown):
                self.log.add("options", items)
            else:
                plain.update(items)
        return plain

    def keyword_items(self, expr: ir.Expr) -> _Exprs:
        """A chain link's `kwargs` mapping."""
        items = dict_items(self.a.evaluator, expr, self.summary, self.local)
        if isinstance(items, Unknown):
            self.log.add("options", items)
            return {}
        return items

    def split(self, keywords: _Exprs) -> tuple[dict[str, _Setting], dict[str, _Setting]]:
        """The task options among `keywords`: the plain ones and those inside `q_options`."""
        q_options: dict[str, _Setting] = {}
        if "q_options" in keywords:
            expr, module = keywords["q_options"]
            local = self.local if module is self.summary else None
            items = dict_items(self.a.evaluator, expr, module, local)
            if isinstance(items, Unknown):
                self.log.add("q_options", items)
            else:
                q_options = {k: self._setting(*v) for k, v in items.items() if k in _OPTIONS}
        plain = {k: self._setting(*v) for k, v in keywords.items() if k in _OPTIONS}
        return plain, q_options

    def apply(self, plain: dict[str, _Setting], q_options: dict[str, _Setting], kind: str) -> None:
        """`async_task`: a key in `q_options` wins over the plain keyword of the same name."""
        if kind == "async_iter" and q_options:
            plain = {}  # `options = kwargs.get("q_options", kwargs)`
        for key in _OPTIONS:
            chosen = q_options.get(key) or plain.get(key)
            if chosen is not None:
                self.options[key] = chosen
        if kind == "async_iter":
            self.forced_cache = _Setting(
                Known(True), location_of(self.summary, self.call.span), "explicit", self.call.text
            )

    def link_options(self, link: _Exprs, chain: dict[str, _Setting]) -> None:
        """A chain link: `async_chain` writes the chain's `cached`, `sync` and `broker` over
        the link's own keywords before calling `async_task`."""
        plain, q_options = self.split(link)
        for key in ("cached", "sync", "broker"):
            plain.pop(key, None)
            if key in chain:
                plain[key] = chain[key]
        self.apply(plain, q_options, "async_task")

    def schedule_options(self, plain: dict[str, _Setting], q_options: dict[str, _Setting]) -> None:
        """A schedule's task: the scheduler always passes the cluster's own broker."""
        plain.pop("broker", None)
        q_options.pop("broker", None)
        self.apply(plain, q_options, "schedule")

    def stored_keywords(
        self, expr: ir.Expr, module: ir.ModuleSummary
    ) -> tuple[dict[str, _Setting], dict[str, _Setting]]:
        """A `Schedule.kwargs` field: a mapping, or the text the scheduler parses."""
        local = self.local if module is self.summary else None
        items = dict_items(self.a.evaluator, expr, module, local)
        if not isinstance(items, Unknown):
            return self.split(items)
        value = self._eval(expr, module)
        if isinstance(value, Known) and value.value is None:
            return {}, {}
        if not (isinstance(value, Known) and isinstance(value.value, str)):
            self.log.add("kwargs", items)
            return {}, {}
        location = location_of(module, expr.span)

        def known(item: object) -> _Setting:
            return _Setting(Known(item), location, "explicit", repr(item))

        parsed = _stored_kwargs(value.value)
        plain = {k: known(v) for k, v in parsed.items() if k in _OPTIONS}
        q_options: dict[str, _Setting] = {}
        inner = parsed.get("q_options")
        if isinstance(inner, dict):
            q_options = {k: known(v) for k, v in inner.items() if k in _OPTIONS}
        return plain, q_options

    # -- identity -------------------------------------------------------------------------------

    def name(
        self, func: ir.Expr | None, module: ir.ModuleSummary, stored_as_text: bool
    ) -> tuple[str | None, str | None]:
        if func is None:
            return None, self.call.text
        value = self._eval(func, module)
        if isinstance(value, Known) and isinstance(value.value, str):
            return value.value, None
        local = self.local if module is self.summary else None
        plain_ref = isinstance(func, ir.Ref) and not (
            local and func.dotted.partition(".")[0] in local
        )
        if (
            stored_as_text
            and isinstance(func, ir.Ref)
            and plain_ref
            and self._callable(func, module)
        ):
            # `Schedule.func` is a CharField: Django stores `str(fn)`, which names no task.
            self.log.add("name", Unknown(f"str({func.text})", location_of(module, func.span)))
            return None, f"str({func.text})"
        if isinstance(func, ir.Ref) and plain_ref and not stored_as_text:
            # django_q/utils.py `get_func_repr`: `module.__name__` for a function (a method
            # reached through its class too), `module.Class.__name__` for a classmethod; any
            # other bound method prints as `str(func)`, which names no task.
            method = method_ref(self.a.ctx, func, module)
            if method is not None and method.is_classmethod:
                owner = f"{method.owner_module.module}.{method.owner.name}"
                return f"{owner}.{method.method.name}", None
            if method is not None and not method.is_bound:
                return f"{method.defining_module.module}.{method.method.name}", None
            if method is not None:
                self.log.add("name", Unknown(func.text, location_of(module, func.span)))
                return None, f"str({func.text})"
            found = self.a.project.resolve(module, func.dotted)
            if found is not None and found.kind == "function" and found.module is not None:
                assert found.function is not None
                prefix = f"{found.module.module}." if found.module.module else ""
                return prefix + found.function.name, None
            if found is not None and found.kind == "external" and found.cls is None:
                return found.qualified, None
        if isinstance(value, Unknown):
            self.log.add("name", value)
        else:
            self.log.add("name", Unknown(func.text, location_of(module, func.span)))
        return None, func.text

    def _callable(self, func: ir.Ref, module: ir.ModuleSummary) -> bool:
        """Whether a name is a function, class or method rather than a value holding a path."""
        if method_ref(self.a.ctx, func, module) is not None:
            return True
        found = self.a.project.resolve(module, func.dotted)
        return found is not None and found.kind in ("function", "class", "external")

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

    def row(
        self,
        func: ir.Expr | None,
        span: ir.Span,
        *,
        stored_as_text: bool = False,
        func_module: ir.ModuleSummary | None = None,
    ) -> EffectivePolicy:
        """The row of this site; `stored_as_text` for a schedule, whose `func` is a text
        column (django_q/models.py `Schedule.func`)."""
        name, name_expression = self.name(func, func_module or self.summary, stored_as_text)
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


_Exprs = dict[str, tuple[ir.Expr, ir.ModuleSummary]]
# The calls of one scope (module top or function body), its local bindings for evaluation
# (None at module level), and every binding written in it.
_Scope = tuple[tuple[ir.Call, ...], Mapping[str, ir.Expr] | None, tuple[ir.Binding, ...]]


def _saved(calls: Iterable[ir.Call], bindings: Iterable[ir.Binding]) -> Callable[[ir.Call], bool]:
    """Which `Schedule(...)` calls of a scope are saved: `Schedule(...).save()`, or bound to a
    name whose `.save()` is called in the same scope."""
    receivers: set[str] = set()
    for call in calls:
        text = call.func.text
        if text.endswith(".save"):
            receivers.add(text[: -len(".save")])
    bound = {(b.value.span, b.target) for b in bindings if isinstance(b.value, ir.Call)}

    def saved(call: ir.Call) -> bool:
        if call.text in receivers:
            return True
        return any(span == call.span and name in receivers for span, name in bound)

    return saved


def _stored_kwargs(text: str) -> dict[str, object]:
    """A schedule's `kwargs` text as scheduler.py reads it: a dict literal, else `x=1, y=2`
    keywords, else nothing."""
    if len(text) > _MAX_STORED:
        return {}
    try:
        value = ast.literal_eval(text)
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        try:
            call = ast.parse(f"f({text})", mode="eval").body
            if not isinstance(call, ast.Call):
                return {}
            return {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg}
        except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
            return {}
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str)}


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
