"""taskiq (written against 0.13.0; the same retry semantics hold in 0.11.18 and 0.12).

Recognised task forms: `@broker.task`, `@broker.task(task_name=..., **labels)` and
`broker.register_task(fn, ...)` on any broker object (found by what the name refers to: a
taskiq broker class, possibly through `.with_middlewares(...)` / `.with_result_backend(...)`
chains), `@shared_task` / `@async_shared_broker.task`, and decorators on a receiver retrylint
cannot follow that is still named like a broker (`@self.broker.task(...)` inside a class
constructor). Enqueue rows come from `task.kicker().with_labels(...)` calls that set a retry label.

Semantics, from taskiq's source (reference §6, §13, §14):
- Labels do nothing without a retry middleware on the broker. `SimpleRetryMiddleware` re-kicks at
  once; `SmartRetryMiddleware` waits `delay` (label, else `default_delay=5`) seconds.
- `retry_on_error` (label, else the middleware's `default_retry_label=False`) switches retries on.
- `max_retries` (label, else `default_retry_count=3`) counts executions: it retries while
  `retries < max_retries` with `retries` counted from 1, so rows report `max_retries - 1`.
  A `max_retries=None` label travels as the string 'None': `int()` fails inside the middleware
  and the task never retries.
- `use_delay_exponent` multiplies the *previous* delay (carried in the `delay` label) by the retry
  number, capped by `max_delay_exponent=60`: 5, 10, 30, 60 ... without a schedule source, `d·k`
  with one. Jitter adds 0-1 s, and without a schedule source it is carried into the next delay.
- `types_of_exceptions` is read from the registered task (or the middleware), never from a
  kicker label. The core `InMemoryBroker` ignores the `delay` label: Smart retries run at once.

Brokers whose middlewares cannot be told from the code (a broker passed into a constructor)
are judged by the retry middlewares registered anywhere in the code retrylint read.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

from retrylint.frameworks.base import (
    BROAD_EXCEPTIONS,
    MAX_CHAIN,
    AdapterContext,
    Option,
    UndecidedLog,
    Where,
    exception_names,
    policy_row,
    source_of,
)
from retrylint.frameworks.recognize import Recognizer
from retrylint.model import (
    UNDECIDED,
    Capabilities,
    Count,
    EffectivePolicy,
    FrameworkInfo,
    Location,
    Observation,
    Provenance,
    Site,
    TriggerSite,
    Via,
)
from retrylint.python import ir
from retrylint.python.evaluate import Known, Sym, Unknown, Value, location_of, number
from retrylint.python.project import Resolved
from retrylint.resolve.schedule import (
    DelayFn,
    Fields,
    RetryPath,
    combine,
    constant_delay,
    never_retries,
)

KEY = "taskiq"
# The version the facts below were read from (reference §0), assumed when none is detected.
REFERENCE_VERSION = "0.13.0"

_PACKAGES = ("taskiq", "taskiq_redis", "taskiq_aio_pika", "taskiq_nats", "taskiq_aiokafka")
_SIMPLE = frozenset(
    {
        "taskiq.SimpleRetryMiddleware",
        "taskiq.middlewares.SimpleRetryMiddleware",
        "taskiq.middlewares.simple_retry_middleware.SimpleRetryMiddleware",
    }
)
_SMART = frozenset(
    {
        "taskiq.SmartRetryMiddleware",
        "taskiq.middlewares.SmartRetryMiddleware",
        "taskiq.middlewares.smart_retry_middleware.SmartRetryMiddleware",
    }
)
_SHARED_TASK = frozenset({"taskiq.brokers.shared_broker.shared_task"})
_SHARED_BROKER = frozenset(
    {"taskiq.async_shared_broker", "taskiq.brokers.shared_broker.async_shared_broker"}
)
_IN_MEMORY = frozenset({"taskiq.InMemoryBroker", "taskiq.brokers.inmemory_broker.InMemoryBroker"})
_NO_DELAY_BROKERS = _IN_MEMORY

# Middleware defaults (simple_retry_middleware.py / smart_retry_middleware.py __init__).
DEFAULTS: dict[str, object] = {
    "default_retry_count": 3,
    "default_retry_label": False,
    "default_delay": 5,
    "use_jitter": False,
    "use_delay_exponent": False,
    "max_delay_exponent": 60,
    "schedule_source": None,
    "types_of_exceptions": None,
}
_SIMPLE_OPTIONS = frozenset(
    {"default_retry_count", "default_retry_label", "no_result_on_retry", "types_of_exceptions"}
)
_RETRY_LABELS = ("retry_on_error", "max_retries", "delay", "types_of_exceptions")
_CEILING = 1e15


@dataclass(frozen=True, slots=True)
class _Middleware:
    """A retry middleware registered on a broker, with the options written for it."""

    kind: Literal["simple", "smart"]
    options: dict[str, Option]
    location: Location
    text: str
    module: ir.ModuleSummary

    @property
    def label(self) -> str:
        return "SmartRetryMiddleware" if self.kind == "smart" else "SimpleRetryMiddleware"

    def option(self, name: str) -> Option:
        if name in self.options:
            return self.options[name]
        return Option(
            name,
            Known(DEFAULTS[name]),
            None,
            None,
            "default",
            f"{self.label}'s {name} default of {DEFAULTS[name]!r}",
        )


@dataclass
class _Broker:
    """What retrylint knows about the broker a task is registered on."""

    identity: str | None  # qualified name of the binding; None when it cannot be told
    middlewares: list[_Middleware] = field(default_factory=list)
    # A middleware argument retrylint cannot read: retries are then undecided.
    unknown: Unknown | None = None
    ignores_delay: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class _Task:
    fn: ir.Function
    module: ir.ModuleSummary  # where the function is defined
    decorator: ir.Expr  # the decorator or the register_task call
    where: ir.ModuleSummary  # where the decorator or the call is written
    labels: tuple[tuple[str, Where], ...]
    splats: tuple[Where, ...]
    broker: str | None  # the receiver as written, for messages
    broker_ref: Resolved | None
    via: tuple[Via, ...] = ()


class TaskiqAdapter:
    key = KEY
    info = FrameworkInfo(
        "taskiq",
        "taskiq",
        in_process=False,
        capabilities=Capabilities(
            count="setting", backoff="setting", jitter="setting", dead_letter="code"
        ),
    )
    packages: tuple[str, ...] = _PACKAGES
    # A file naming taskiq (imports of taskiq and its broker plugins), a retry middleware, or
    # a kick. Brokers imported from project modules come from `project_markers`.
    markers = re.compile(rb"taskiq|RetryMiddleware|\.kiq\b")
    interest = ir.Interest(
        calls=frozenset(
            {
                "register_task",
                "with_middlewares",
                "add_middlewares",
                "SimpleRetryMiddleware",
                "SmartRetryMiddleware",
                "with_labels",
                "kicker",
            }
        ),
        attributes=frozenset({"broker"}),
    )

    def analyze(self, ctx: AdapterContext) -> Iterable[EffectivePolicy | Observation]:
        return _Analysis(ctx).rows()

    def project_markers(self, ctx: AdapterContext) -> frozenset[str]:
        """Names bound to brokers: task files may import them from a project module."""
        a = _Analysis(ctx)
        return a.recognizer.markers(ctx.scanned, lambda b, m: a.is_broker_expr(b.value, m))


class _Analysis:
    def __init__(self, ctx: AdapterContext) -> None:
        self.ctx = ctx
        self.project = ctx.project
        self.evaluator = ctx.evaluator
        self._brokers: dict[str, _Broker] = {}
        self._registrations: list[tuple[ir.Call, ir.ModuleSummary]] | None = None
        self._everywhere: _Broker | None = None
        self.observations: list[Observation] = []
        self._observed_middlewares: set[tuple[str, int, int]] = set()
        self.recognizer = Recognizer(
            ctx.project,
            lambda expr, module: self._maker(expr, module) is not None,
            ctx.settings.task_decorators,
        )

    # -- brokers -------------------------------------------------------------------------

    def is_broker_expr(self, expr: ir.Expr, module: ir.ModuleSummary, depth: int = 0) -> bool:
        """Whether an expression makes a taskiq broker (a call of a broker class, a chain)."""
        if depth > MAX_CHAIN:
            return False
        root = _chain_root(expr)
        if root is None:
            if isinstance(expr, ir.Ref):
                found = self.project.resolve(module, expr.dotted)
                if found is not None and found.qualified in _SHARED_BROKER:
                    return True
                if found is not None and found.binding is not None and found.module is not None:
                    return self.is_broker_expr(found.binding.value, found.module, depth + 1)
            return False
        return self._is_broker_class(root, module, depth)

    def _is_broker_class(self, dotted: str, module: ir.ModuleSummary, depth: int) -> bool:
        found = self.project.resolve(module, dotted)
        if found is None or depth > MAX_CHAIN:
            return False
        if found.kind == "external":
            head = found.qualified.split(".")[0]
            return head in _PACKAGES and found.qualified.endswith("Broker")
        if found.kind == "class" and found.cls is not None and found.module is not None:
            cmod = found.module
            return any(
                isinstance(b, ir.Ref) and self._is_broker_class(b.dotted, cmod, depth + 1)
                for b in found.cls.bases
            )
        return False

    def broker(self, task: _Task) -> _Broker:
        ref = task.broker_ref
        if ref is None or ref.kind not in ("binding", "ambiguous") or ref.module is None:
            if ref is not None and ref.qualified in _SHARED_BROKER | _SHARED_TASK:
                return self.everywhere("shared tasks run on whichever broker the worker uses")
            return self.everywhere(f"retrylint cannot tell which broker `{task.broker}` is")
        key = f"{ref.module.path}:{ref.qualified}"  # two services may each have `app.broker`
        if key not in self._brokers:
            self._brokers[key] = self._read_broker(ref)
        return self._brokers[key]

    def _read_broker(self, ref: Resolved) -> _Broker:
        assert ref.module is not None
        module = ref.module
        name = ref.qualified.rpartition(".")[2]
        broker = _Broker(ref.qualified, description=f"`{name}` ({module.path})")
        for binding in module.bindings:
            if binding.target == name:
                self._middlewares_in(binding.value, module, broker, 0)
                root = _chain_root(binding.value)
                if root is not None:
                    found = self.project.resolve(module, root)
                    if found is not None and found.qualified in _NO_DELAY_BROKERS:
                        broker.ignores_delay = True
        for call, cmod in self.registrations():
            receiver = _receiver(call)
            if receiver is None or isinstance(receiver, ir.Opaque):
                continue
            found = self.project.resolve(cmod, receiver.dotted)
            if (
                found is not None
                and found.qualified == ref.qualified
                and found.module is not None
                and found.module.path == module.path
            ):
                self._register(call, cmod, broker)
        broker.middlewares = _unique(broker.middlewares)
        scanned = {s.path for s in self.ctx.scanned}
        if len(broker.middlewares) > 1 and broker.middlewares[1].location.path in scanned:
            first, second = broker.middlewares[0], broker.middlewares[1]
            self.observations.append(
                Observation(
                    "duplicate-retry-middleware",
                    second.location,
                    f"a second retry middleware ({second.label}) on the broker "
                    f"{broker.description}: {first.label} is already registered "
                    f"({first.location}), so both act on "
                    "every failure and each re-kicks the task: failing tasks are duplicated and "
                    "run far more often than max_retries says",
                    "Keep one retry middleware on the broker.",
                    KEY,
                )
            )
        return broker

    def _middlewares_in(
        self, expr: ir.Expr, module: ir.ModuleSummary, broker: _Broker, depth: int
    ) -> None:
        """Retry middlewares in a broker expression: `X(...).with_middlewares(...)` chains."""
        if depth > MAX_CHAIN:
            return
        if isinstance(expr, ir.Call):
            if expr.func.text.endswith(".with_middlewares") or expr.func.text.endswith(
                ".add_middlewares"
            ):
                self._register(expr, module, broker)
            if isinstance(expr.func, ir.Opaque):
                self._text_middlewares(expr.func, module, broker)
            elif isinstance(expr.func, ir.Ref):
                head = expr.func.dotted.rpartition(".")[0]
                found = self.project.resolve(module, head) if head else None
                # `broker = base.with_middlewares(...)`: the same object as `base`.
                if found is not None and found.binding is not None and found.module is not None:
                    self._middlewares_in(found.binding.value, found.module, broker, depth + 1)
        elif isinstance(expr, ir.Opaque):
            self._text_middlewares(expr, module, broker)

    def _register(self, call: ir.Call, module: ir.ModuleSummary, broker: _Broker) -> None:
        for arg in call.args:
            items: tuple[ir.Expr, ...] = (arg,)
            amodule = module
            if isinstance(arg, ir.Starred):
                target, amodule = self.evaluator.deref(arg.value, module)
                if not isinstance(target, ir.Seq):
                    broker.unknown = broker.unknown or Unknown(
                        arg.text, location_of(module, arg.span)
                    )
                    continue
                items = target.items
            for item in items:
                self._middleware(item, amodule, broker)

    def _middleware(self, expr: ir.Expr, module: ir.ModuleSummary, broker: _Broker) -> None:
        target, tmodule = self.evaluator.deref(expr, module)
        if not isinstance(target, ir.Call) or not isinstance(target.func, ir.Ref):
            value = self.evaluator.eval(expr, module)
            if isinstance(value, Unknown) or not isinstance(value, Sym):
                broker.unknown = broker.unknown or Unknown(
                    expr.text, location_of(module, expr.span)
                )
            return
        kind = self._middleware_kind(target.func.dotted, tmodule, 0)
        if kind is None:
            return
        options: dict[str, Option] = {}
        names: tuple[str, ...] = (
            "default_retry_count",
            "default_retry_label",
            "no_result_on_retry",
        )
        if kind == "smart":
            names += ("default_delay", "use_jitter", "use_delay_exponent", "max_delay_exponent")
            names += ("schedule_source",)
        names += ("types_of_exceptions",)
        for index, arg in enumerate(target.args):
            if index < len(names):
                options[names[index]] = self._option(names[index], arg, tmodule, target)
        for kw in target.kwargs:
            if kw.name is not None:
                options[kw.name] = self._option(kw.name, kw.value, tmodule, target)
            else:
                value = self.evaluator.eval(kw.value, tmodule)
                if isinstance(value, Known) and isinstance(value.value, dict):
                    for key, item in value.value.items():
                        if isinstance(key, str):
                            options[key] = Option(
                                key,
                                item,
                                kw.value,
                                location_of(tmodule, kw.value.span),
                                source_of(item, "config"),
                                f"{target.func.text}(**{kw.value.text})",
                                tmodule,
                            )
                else:
                    broker.unknown = broker.unknown or Unknown(
                        kw.value.text, location_of(tmodule, kw.value.span)
                    )
        broker.middlewares.append(
            _Middleware(kind, options, location_of(tmodule, target.span), target.text, tmodule)
        )

    def _option(self, name: str, expr: ir.Expr, module: ir.ModuleSummary, call: ir.Call) -> Option:
        value = self.evaluator.eval(expr, module)
        func = call.func.text
        return Option(
            name,
            value,
            expr,
            location_of(module, expr.span),
            source_of(value, "config"),
            f"{func}({name}={expr.text})",
            module,
        )

    def _middleware_kind(
        self, dotted: str, module: ir.ModuleSummary, depth: int
    ) -> Literal["simple", "smart"] | None:
        found = self.project.resolve(module, dotted)
        if found is None or depth > MAX_CHAIN:
            return None
        if found.qualified in _SMART:
            return "smart"
        if found.qualified in _SIMPLE:
            return "simple"
        if found.kind == "class" and found.cls is not None and found.module is not None:
            for base in found.cls.bases:
                if isinstance(base, ir.Ref):
                    kind = self._middleware_kind(base.dotted, found.module, depth + 1)
                    if kind is not None:
                        return kind
        return None

    def _text_middlewares(self, expr: ir.Opaque, module: ir.ModuleSummary, broker: _Broker) -> None:
        """Middlewares inside a chain retrylint kept only as text (`X().with_middlewares(M())
        .with_result_backend(R())`): literal keyword values are read, others are undecided."""
        for match in re.finditer(r"([A-Za-z_][A-Za-z0-9_.]*)\s*\(", expr.text):
            kind = self._middleware_kind(match.group(1), module, 0)
            if kind is None:
                continue
            inner = _balanced(expr.text, match.end())
            if inner is None:
                broker.unknown = broker.unknown or Unknown(
                    expr.text, location_of(module, expr.span)
                )
                continue
            options: dict[str, Option] = {}
            for part in _split_args(inner):
                key, eq, raw = part.partition("=")
                literal = _literal(raw.strip()) if eq else None
                if not eq or literal is None:
                    broker.unknown = broker.unknown or Unknown(
                        part.strip(), location_of(module, expr.span)
                    )
                    continue
                value = Known(literal[0])
                const = ir.Const(literal[0], raw.strip(), expr.span)
                options[key.strip()] = Option(
                    key.strip(),
                    value,
                    const,
                    location_of(module, expr.span),
                    "config",
                    f"{match.group(1)}({part.strip()})",
                    module,
                )
            text = expr.text[match.start() : match.end() + len(inner) + 1]
            broker.middlewares.append(
                _Middleware(kind, options, location_of(module, expr.span), text, module)
            )

    def registrations(self) -> list[tuple[ir.Call, ir.ModuleSummary]]:
        """Every `X.with_middlewares(...)` / `X.add_middlewares(...)` call of the code read."""
        if self._registrations is not None:
            return self._registrations
        found: list[tuple[ir.Call, ir.ModuleSummary]] = []
        seen: set[tuple[str, int, int]] = set()
        for module in list(self.project.loaded()):
            for call in _calls_in(module):
                if not call.func.text.endswith((".with_middlewares", ".add_middlewares")):
                    continue
                key = (module.path, call.span.line, call.span.column)
                if key not in seen:
                    seen.add(key)
                    found.append((call, module))
        self._registrations = found
        return found

    def everywhere(self, why: str) -> _Broker:
        """The retry middlewares registered anywhere in the code read, for a broker retrylint
        cannot identify."""
        if self._everywhere is None:
            broker = _Broker(None)
            for module in list(self.project.loaded()):
                for binding in module.bindings:
                    if self.is_broker_expr(binding.value, module):
                        self._middlewares_in(binding.value, module, broker, 0)
            for call, module in self.registrations():
                self._register(call, module, broker)
            broker.middlewares = _unique(broker.middlewares)
            self._everywhere = broker
        result = _Broker(
            None,
            list(self._everywhere.middlewares),
            self._everywhere.unknown,
            False,
            why,
        )
        kinds = {(mw.kind, _option_key(mw)) for mw in result.middlewares}
        if len(kinds) > 1:
            # Several retry set-ups and no way to tell which one runs this task.
            first = result.middlewares[0]
            result.unknown = result.unknown or Unknown(first.text, first.location)
            result.middlewares = []
        elif len(kinds) == 1:
            result.middlewares = result.middlewares[:1]
        return result

    # -- tasks ---------------------------------------------------------------------------

    def tasks(self) -> Iterator[_Task]:
        for summary in self.ctx.scanned:
            for fn in summary.functions:
                if self.recognizer.inside_wrapper(fn, summary):
                    continue
                for dec in fn.decorators:
                    task = self._decorated(fn, summary, dec)
                    if task is not None:
                        yield task
                        break
            for call in _calls_in(summary):
                task = self._registered(call, summary)
                if task is not None:
                    yield task

    def _decorated(self, fn: ir.Function, module: ir.ModuleSummary, dec: ir.Expr) -> _Task | None:
        expansion = self.recognizer.expand(dec, module)
        if expansion is not None:
            made = self._maker(expansion.registrar.expr, expansion.registrar.module)
            if made is None:
                return None
            options = expansion.options
            labels = tuple(options.kwargs)
            splats = options.splats
            return _Task(fn, module, dec, module, labels, splats, *made, expansion.via)
        func = dec.func if isinstance(dec, ir.Call) else dec
        made = self._maker(func, module)
        if made is None:
            return None
        kwargs = dec.kwargs if isinstance(dec, ir.Call) else ()
        labels = tuple((kw.name, Where(kw.value, module)) for kw in kwargs if kw.name is not None)
        if isinstance(dec, ir.Call) and dec.args:
            # `@broker.task("name")`: the first parameter of `AsyncBroker.task` is task_name.
            labels = (("task_name", Where(dec.args[0], module)), *labels)
        splats = tuple(Where(kw.value, module) for kw in kwargs if kw.name is None)
        return _Task(fn, module, dec, module, labels, splats, *made)

    def _maker(self, func: ir.Expr, module: ir.ModuleSummary) -> tuple[str, Resolved | None] | None:
        """The broker a task decorator registers on (as written, and resolved when it can be):
        `@broker.task`, `@shared_task`, or a receiver named like a broker."""
        if not isinstance(func, ir.Ref):
            return None
        found = self.project.resolve(module, func.dotted)
        if found is not None and found.qualified in _SHARED_TASK:
            return func.text, found
        if found is not None and self.recognizer.configured(found):
            return func.text, None  # a named wrapper: its broker cannot be told
        receiver, _, attr = func.dotted.rpartition(".")
        if attr != "task" or not receiver:
            return None
        target = self.project.resolve(module, receiver)
        if target is not None and (
            target.qualified in _SHARED_BROKER
            or (
                target.binding is not None
                and target.module is not None
                and self.is_broker_expr(target.binding.value, target.module)
            )
        ):
            return receiver, target
        # A receiver retrylint cannot follow (`self.broker`, a parameter, a factory's result).
        if "broker" in receiver.rpartition(".")[2].lower() and any(
            _imports(module, root) for root in _PACKAGES
        ):
            return receiver, None
        return None

    def _registered(self, call: ir.Call, module: ir.ModuleSummary) -> _Task | None:
        """`broker.register_task(fn, task_name=..., **labels)`."""
        if not isinstance(call.func, ir.Ref) or not call.args:
            return None
        receiver, _, attr = call.func.dotted.rpartition(".")
        if attr != "register_task" or not receiver:
            return None
        target = self.project.resolve(module, receiver)
        is_broker = target is not None and (
            target.qualified in _SHARED_BROKER
            or (
                target.binding is not None
                and target.module is not None
                and self.is_broker_expr(target.binding.value, target.module)
            )
        )
        if not is_broker and "broker" not in receiver.rpartition(".")[2].lower():
            return None
        first = call.args[0]
        if not isinstance(first, ir.Ref):
            return None
        fn_ref = self.project.resolve(module, first.dotted)
        if fn_ref is None or fn_ref.function is None or fn_ref.module is None:
            return None
        labels = tuple(
            (kw.name, Where(kw.value, module)) for kw in call.kwargs if kw.name is not None
        )
        if len(call.args) > 1:
            labels = (("task_name", Where(call.args[1], module)), *labels)
        splats = tuple(Where(kw.value, module) for kw in call.kwargs if kw.name is None)
        # Reported where the function is defined, with the labels of this call.
        return _Task(
            fn_ref.function,
            fn_ref.module,
            call,
            module,
            labels,
            splats,
            receiver,
            target if is_broker else None,
        )

    # -- rows ----------------------------------------------------------------------------

    def rows(self) -> Iterator[EffectivePolicy | Observation]:
        builders: dict[str, _TaskBuilder] = {}
        scanned = {s.path for s in self.ctx.scanned}
        for task in self.tasks():
            builder = _TaskBuilder(self, task)
            row = builder.build()
            if row.location.path not in scanned:
                continue
            builders[f"{task.module.module}.{task.fn.qualname}"] = builder
            yield row
            yield from builder.observations(row)
        yield from self._enqueues(builders)
        yield from self.observations

    def _enqueues(self, builders: dict[str, _TaskBuilder]) -> Iterator[EffectivePolicy]:
        """`task.kicker().with_labels(max_retries=5, ...)`: the labels of one kick."""
        for module in self.ctx.scanned:
            for call in _calls_in(module):
                text = call.func.text
                if not text.endswith(".with_labels") or ".kicker(" not in text:
                    continue
                receiver = text[: text.index(".kicker(")]
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", receiver):
                    continue
                found = self.project.resolve(module, receiver)
                if found is None or found.function is None or found.module is None:
                    continue
                builder = builders.get(f"{found.module.module}.{found.function.qualname}")
                if builder is None:
                    continue
                labels = {kw.name: kw.value for kw in call.kwargs if kw.name is not None}
                if not set(labels) & set(_RETRY_LABELS):
                    continue
                yield builder.enqueue_row(call, module, labels)

    def observe_middleware(self, mw: _Middleware) -> None:
        """RL503 for a middleware option that its other options switch off."""
        key = (mw.location.path, mw.location.line, mw.location.column)
        if key in self._observed_middlewares:
            return
        self._observed_middlewares.add(key)
        scanned = {s.path for s in self.ctx.scanned}
        cap = mw.options.get("max_delay_exponent")
        if (
            mw.kind == "smart"
            and cap is not None
            and cap.location is not None
            and cap.location.path in scanned
            and not _truthy(mw.option("use_delay_exponent").value)
        ):
            self.observations.append(
                Observation(
                    "ignored-retry-option",
                    cap.location,
                    f"SmartRetryMiddleware sets max_delay_exponent={cap.text}, but "
                    "use_delay_exponent is off: taskiq applies the cap only to growing delays, "
                    "so it is ignored",
                    "Add use_delay_exponent=True, or drop max_delay_exponent.",
                    KEY,
                )
            )


class _TaskBuilder:
    """Resolves one taskiq task into its inventory row."""

    def __init__(self, analysis: _Analysis, task: _Task) -> None:
        self.a = analysis
        self.task = task
        self.evaluator = analysis.evaluator
        self.log = UndecidedLog()
        self.broker = analysis.broker(task)
        self.labels = self._labels(task)
        self.broad: list[TriggerSite] = []
        self.count_trap: Option | None = None

    def _labels(self, task: _Task) -> dict[str, Option]:
        out: dict[str, Option] = {}
        for splat in task.splats:
            value = self.evaluator.eval(splat.expr, splat.module)
            if isinstance(value, Known) and isinstance(value.value, dict):
                for key, item in value.value.items():
                    if isinstance(key, str):
                        out[key] = Option(
                            key,
                            item,
                            splat.expr,
                            location_of(splat.module, splat.expr.span),
                            source_of(item, "explicit"),
                            f"label {key}",
                            splat.module,
                        )
            elif isinstance(value, Unknown):
                self.log.add("labels", value)
        for name, where in task.labels:
            value = self.evaluator.eval(where.expr, where.module)
            out[name] = Option(
                name,
                value,
                where.expr,
                location_of(where.module, where.expr.span),
                source_of(value, "explicit"),
                f"label {name}={where.expr.text}",
                where.module,
            )
        return out

    # -- identity ------------------------------------------------------------------------

    def name(self) -> tuple[str | None, str | None]:
        """taskiq/abc/broker.py `AsyncBroker.task`: `task_name`, else `module:__name__` (only
        `None` falls back; an empty string is a name)."""
        opt = self.labels.get("task_name")
        if opt is None or (isinstance(opt.value, Known) and opt.value.value is None):
            prefix = self.task.module.module
            return f"{prefix}:{self.task.fn.name}", None
        if isinstance(opt.value, Known) and isinstance(opt.value.value, str):
            return opt.value.value, None
        if isinstance(opt.value, Unknown):
            self.log.add("name", opt.value)
        return None, opt.text

    def location(self) -> Location:
        scanned = {s.path for s in self.a.ctx.scanned}
        if self.task.module.path not in scanned:
            # `register_task(fn)` of a function outside PATHS: reported at the call.
            return location_of(self.task.where, self.task.decorator.span)
        return location_of(self.task.module, self.task.fn.name_span)

    def anchors(self) -> tuple[int, ...]:
        location = self.location()
        lines = {location.line}
        if location.path == self.task.module.path:
            lines.add(self.task.fn.span.line)
            lines.update(d.span.line for d in self.task.fn.decorators)
        if location.path == self.task.where.path:
            lines.add(self.task.decorator.span.line)
        return tuple(sorted(lines))

    # -- policy --------------------------------------------------------------------------

    def fields(self, labels: dict[str, Option]) -> tuple[Fields, tuple[tuple[str, Location], ...]]:
        """The retry fields under one set of labels, and the options that do nothing."""
        broker = self.broker
        inert: tuple[tuple[str, Location], ...] = ()
        if broker.unknown is not None and not broker.middlewares:
            self.log.add("middlewares", broker.unknown)
            return combine([], Provenance("undecided", broker.unknown.location)), inert
        if not broker.middlewares:
            where = broker.description or "its broker"
            note = f"no SimpleRetryMiddleware or SmartRetryMiddleware on {where}: never retried"
            if broker.identity is None:
                note = (
                    "no SimpleRetryMiddleware or SmartRetryMiddleware is registered in the code "
                    "read: never retried"
                )
            return never_retries(Provenance("default", None, note)), inert
        paths: list[RetryPath] = []
        undecided: Provenance | None = None
        off: list[Provenance] = []
        for mw in broker.middlewares:
            switch = labels.get("retry_on_error") or mw.option("default_retry_label")
            on = _label_bool(switch.value)
            if on is None:
                unknown = (
                    switch.value
                    if isinstance(switch.value, Unknown)
                    else Unknown(switch.text, switch.location or self.location())
                )
                self.log.add("retry_on_error", unknown)
                undecided = Provenance("undecided", unknown.location)
                continue
            if not on:
                off.append(switch.provenance)
                continue
            # Each retry middleware retries on its own, from where it is registered.
            paths.append(replace(self._path(mw, labels), location=mw.location))
        if broker.unknown is not None:
            self.log.add("middlewares", broker.unknown)
            undecided = undecided or Provenance("undecided", broker.unknown.location)
        if not paths and undecided is None:
            prov = off[0] if off else Provenance("default", None, "retry_on_error is off")
            note = "retry_on_error is off"
            inert = tuple(
                (name, opt.location)
                for name, opt in sorted(labels.items())
                if name in ("max_retries", "types_of_exceptions")
                and opt.location is not None
                and _asks_for_retries(name, opt)
            )
            return never_retries(Provenance(prov.source, prov.location, note)), inert
        return combine(paths, undecided), inert

    def _count(self, mw: _Middleware, labels: dict[str, Option]) -> tuple[Count, Provenance]:
        opt = labels.get("max_retries") or mw.option("default_retry_count")
        value = opt.value
        if isinstance(value, Known) and value.value is None:
            # The label travels as the string 'None'; int() fails in the middleware.
            self.count_trap = opt
            return 0, Provenance(
                opt.source,
                opt.location,
                "max_retries=None: int('None') fails in the retry middleware, so it never retries",
            )
        amount = number(value)
        if isinstance(value, Known) and isinstance(value.value, str):
            try:
                amount = int(value.value)
            except ValueError:
                self.count_trap = opt
                return 0, Provenance(
                    opt.source, opt.location, f"max_retries={opt.text} is not a number"
                )
        if amount is None:
            unknown = (
                value
                if isinstance(value, Unknown)
                else Unknown(opt.text, opt.location or self.location())
            )
            self.log.add("max_retries", unknown)
            return UNDECIDED, Provenance("undecided", unknown.location)
        note = opt.note or "max_retries"
        return max(0, int(amount) - 1), Provenance(
            opt.source, opt.location, f"{note} ({int(amount)} executions)"
        )

    def _path(self, mw: _Middleware, labels: dict[str, Option]) -> RetryPath:
        count, count_prov = self._count(mw, labels)
        self._triggers(mw, labels)
        if mw.kind == "simple":
            prov = Provenance("default", mw.location, "SimpleRetryMiddleware re-kicks at once")
            return RetryPath("automatic", count, count_prov, constant_delay(0.0), prov, False, prov)
        jitter_opt = mw.option("use_jitter")
        jitter = _label_bool(jitter_opt.value)
        if jitter is None:
            self._undecided("use_jitter", jitter_opt)
        exponent_opt = mw.option("use_delay_exponent")
        exponent = _label_bool(exponent_opt.value)
        if exponent is None:
            prov = self._undecided("use_delay_exponent", exponent_opt)
            return RetryPath("automatic", count, count_prov, None, prov, UNDECIDED, prov)
        source_opt = mw.option("schedule_source")
        scheduled = not (isinstance(source_opt.value, Known) and source_opt.value.value is None)
        jitter_prov = jitter_opt.provenance
        if self.broker.ignores_delay and not scheduled:
            prov = Provenance(
                "default",
                mw.location,
                "InMemoryBroker ignores the delay label: SmartRetryMiddleware retries at once",
            )
            return RetryPath("automatic", count, count_prov, constant_delay(0.0), prov, False, prov)
        delay_opt = labels.get("delay") or mw.option("default_delay")
        base = number(delay_opt.value)
        if isinstance(delay_opt.value, Known) and isinstance(delay_opt.value.value, str):
            try:
                base = float(delay_opt.value.value)
            except ValueError:
                base = None
        if base is None:
            prov = self._undecided("delay", delay_opt)
            return RetryPath(
                "automatic", count, count_prov, None, prov, _or_undecided(jitter), jitter_prov
            )
        extra = 1.0 if jitter else 0.0
        cap: float | None = None
        if exponent:
            cap_opt = mw.option("max_delay_exponent")
            cap_value = number(cap_opt.value)
            if cap_value is None:
                prov = self._undecided("max_delay_exponent", cap_opt)
                return RetryPath(
                    "automatic", count, count_prov, None, prov, _or_undecided(jitter), jitter_prov
                )
            cap = float(cap_value) + extra
            fn = _scaled(float(base), extra) if scheduled else _compounded(float(base), extra)
            note = "delay·k per retry k" if scheduled else "previous delay·k per retry k"
        elif scheduled or not jitter:
            fn = constant_delay(float(base))
            note = "the same delay each retry"
        else:
            fn = _drifting(float(base))
            note = "jitter is carried into the next delay label"
        prov = Provenance(delay_opt.source, delay_opt.location, f"{delay_opt.note}; {note}")
        return RetryPath(
            "automatic",
            count,
            count_prov,
            fn,
            prov,
            _or_undecided(jitter),
            jitter_prov,
            cap=cap,
        )

    def _undecided(self, field_name: str, opt: Option) -> Provenance:
        unknown = (
            opt.value
            if isinstance(opt.value, Unknown)
            else Unknown(opt.text, opt.location or self.location())
        )
        self.log.add(field_name, unknown)
        return Provenance("undecided", unknown.location)

    def _triggers(self, mw: _Middleware, labels: dict[str, Option]) -> None:
        opt = self.labels.get("types_of_exceptions") or mw.options.get("types_of_exceptions")
        if opt is None or opt.expr is None or opt.module is None:
            return
        names, unknown = exception_names(self.a.ctx, opt.expr, opt.module)
        if unknown is not None:
            self.log.add("types_of_exceptions", unknown)
        self.broad = [
            TriggerSite(qualified.rpartition(".")[2], loc)
            for qualified, loc in names
            if qualified in BROAD_EXCEPTIONS
        ]

    # -- rows ----------------------------------------------------------------------------

    def build(self) -> EffectivePolicy:
        name, name_expression = self.name()
        fields, inert = self.fields(self.labels)
        for mw in self.broker.middlewares:
            self.a.observe_middleware(mw)
        return self._row(
            "definition", self.location(), name, name_expression, fields, inert, self.anchors()
        )

    def _row(
        self,
        site: Site,
        location: Location,
        name: str | None,
        name_expression: str | None,
        fields: Fields,
        inert: tuple[tuple[str, Location], ...],
        anchors: tuple[int, ...],
    ) -> EffectivePolicy:
        return policy_row(
            name=name,
            name_expression=name_expression,
            framework=KEY,
            site=site,
            location=location,
            fields=fields,
            final_failure="nowhere",
            log=self.log,
            version=self.a.ctx.version or REFERENCE_VERSION,
            anchors=anchors,
            hints=_HINTS,
            inert=inert,
            via=self.task.via,
            broad=self.broad,
        )

    def enqueue_row(
        self, call: ir.Call, module: ir.ModuleSummary, written: dict[str, ir.Expr]
    ) -> EffectivePolicy:
        self.log = UndecidedLog()
        self.count_trap = None
        labels = dict(self.labels)
        kicked: dict[str, Option] = {}
        for key, expr in written.items():
            value = self.evaluator.eval(expr, module)
            kicked[key] = Option(
                key,
                value,
                expr,
                location_of(module, expr.span),
                source_of(value, "explicit"),
                f"with_labels({key}={expr.text})",
                module,
            )
        # types_of_exceptions is read from the registered task, never from the message.
        labels.update({k: v for k, v in kicked.items() if k != "types_of_exceptions"})
        name, name_expression = self.name()
        fields, _ = self.fields(labels)
        location = location_of(module, call.span)
        row = self._row("enqueue", location, name, name_expression, fields, (), (location.line,))
        subject = f"`{name}`" if name else "this task"
        if "types_of_exceptions" in kicked:
            opt = kicked["types_of_exceptions"]
            self.a.observations.append(
                Observation(
                    "ignored-retry-option",
                    opt.location or location,
                    f"{subject} is kicked with types_of_exceptions={opt.text}, but the retry "
                    "middlewares read it from the registered task, never from the message: "
                    "this label is dropped",
                    "Set types_of_exceptions on the task decorator or the middleware.",
                    KEY,
                    name,
                    "enqueue",
                    (location.line,),
                )
            )
        self.a.observations.extend(self._ignored(row, kicked, "enqueue"))
        return row

    def observations(self, row: EffectivePolicy) -> Iterator[Observation]:
        return iter(self._ignored(row, self.labels, "definition"))

    def _ignored(
        self, row: EffectivePolicy, labels: dict[str, Option], site: Site
    ) -> list[Observation]:
        """RL503: retry labels with no retry middleware, and the `max_retries=None` trap."""
        subject = f"`{row.name}`" if row.name else "this task"
        out: list[Observation] = []
        if not self.broker.middlewares and self.broker.unknown is None:
            switch = labels.get("retry_on_error")
            wants = [
                opt
                for name, opt in sorted(labels.items())
                if name in ("retry_on_error", "max_retries", "types_of_exceptions")
                and _asks_for_retries(name, opt)
            ]
            if wants and not (switch is not None and _label_bool(switch.value) is False):
                written = ", ".join(f"{opt.name}={opt.text}" for opt in wants)
                missing = (
                    f"its broker {self.broker.description} has no SimpleRetryMiddleware or "
                    "SmartRetryMiddleware"
                    if self.broker.identity is not None
                    else "no broker in the code retrylint read registers a SimpleRetryMiddleware "
                    "or SmartRetryMiddleware"
                )
                out.append(
                    Observation(
                        "ignored-retry-option",
                        wants[0].location or row.location,
                        f"{subject} sets {written}, but {missing}: taskiq ignores these labels "
                        "and never retries the task",
                        "Register a retry middleware on the broker "
                        "(broker.with_middlewares(SmartRetryMiddleware(...))), or drop the labels.",
                        KEY,
                        row.name,
                        site,
                        row.suppression_lines,
                    )
                )
        if self.count_trap is not None and self.count_trap.name in labels:
            opt = self.count_trap
            out.append(
                Observation(
                    "ignored-retry-option",
                    opt.location or row.location,
                    f"{subject} sets max_retries={opt.text}, which is not 'no limit': the label "
                    f"travels as the string {str(_plain(opt.value))!r}, int() fails inside the "
                    "retry middleware and the task is never retried",
                    "Set max_retries to a number of executions (max_retries=4 allows 3 retries).",
                    KEY,
                    row.name,
                    site,
                    row.suppression_lines,
                )
            )
        return out


# -- helpers -------------------------------------------------------------------------------


def _calls_in(module: ir.ModuleSummary) -> Iterator[ir.Call]:
    """Every kept call of a module: expression statements, binding values, function bodies."""
    yield from module.calls
    for binding in module.bindings:
        if isinstance(binding.value, ir.Call):
            yield binding.value
    for fn in module.functions:
        yield from fn.calls
        kept = {(c.span.line, c.span.column) for c in fn.calls}
        for local in fn.locals:
            value = local.value
            if isinstance(value, ir.Call) and (value.span.line, value.span.column) not in kept:
                yield value
    for cls in module.classes:
        for method in cls.methods:
            yield from method.calls


def _imports(module: ir.ModuleSummary, root: str) -> bool:
    return any(imp.target == root or imp.target.startswith(root + ".") for imp in module.imports)


def _chain_root(expr: ir.Expr) -> str | None:
    """The class a broker chain starts from: `ListQueueBroker(...).with_x(...)` → the name."""
    if isinstance(expr, ir.Call):
        if isinstance(expr.func, ir.Ref):
            head, _, method = expr.func.dotted.rpartition(".")
            if method.startswith("with_") and head:
                return None  # `base.with_middlewares(...)`: a method of another object
            return expr.func.dotted
        text = expr.func.text
    elif isinstance(expr, ir.Opaque):
        text = expr.text
    else:
        return None
    match = re.match(r"([A-Za-z_][A-Za-z0-9_.]*)\s*\(", text)
    return match.group(1) if match else None


def _receiver(call: ir.Call) -> ir.Ref | ir.Opaque | None:
    if isinstance(call.func, ir.Ref):
        head = call.func.dotted.rpartition(".")[0]
        return ir.Ref(head, head, call.func.span) if head else None
    return ir.Opaque(call.func.text, call.func.span)


def _balanced(text: str, start: int) -> str | None:
    """The text between an opening parenthesis (just before `start`) and its match."""
    depth = 1
    for index in range(start, len(text)):
        if text[index] in "([{":
            depth += 1
        elif text[index] in ")]}":
            depth -= 1
            if depth == 0:
                return text[start:index]
    return None


def _split_args(text: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    current = ""
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current)
    return [p for p in parts if p.strip()]


def _literal(text: str) -> tuple[ir.ConstValue] | None:
    """A literal number, bool or None written as text; None when it is anything else."""
    constants: dict[str, ir.ConstValue] = {"True": True, "False": False, "None": None}
    if text in constants:
        return (constants[text],)
    if re.fullmatch(r"-?\d+", text):
        return (int(text),)
    if re.fullmatch(r"-?\d+\.\d*|-?\.\d+", text):
        return (float(text),)
    return None


def _unique(middlewares: list[_Middleware]) -> list[_Middleware]:
    seen: set[tuple[str, int, int]] = set()
    out: list[_Middleware] = []
    for mw in middlewares:
        key = (mw.location.path, mw.location.line, mw.location.column)
        if key not in seen:
            seen.add(key)
            out.append(mw)
    return out


def _option_key(mw: _Middleware) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((name, opt.text) for name, opt in mw.options.items()))


def _plain(value: Value) -> object:
    return value.value if isinstance(value, Known) else value


def _label_bool(value: Value) -> bool | None:
    """How the middleware reads a retry_on_error label: strings compare with 'true'."""
    if isinstance(value, Known):
        if isinstance(value.value, str):
            return value.value.lower() == "true"
        return bool(value.value)
    return None


def _or_undecided(flag: bool | None) -> bool | Literal["undecided"]:
    return UNDECIDED if flag is None else flag


def _truthy(value: Value) -> bool:
    return isinstance(value, Known) and bool(value.value)


def _asks_for_retries(name: str, opt: Option) -> bool:
    """Whether a label is written to get retries (max_retries=0 or 1 asks for none)."""
    if name == "retry_on_error":
        return _label_bool(opt.value) is not False
    if name == "max_retries":
        amount = number(opt.value)
        return amount is None or amount > 1
    return True


def _scaled(base: float, extra: float) -> DelayFn:
    """With a schedule source: `delay·k` for retry k (k = r + 1), plus any jitter."""
    return lambda r: base * (r + 1) + extra


def _compounded(base: float, extra: float) -> DelayFn:
    """Without a schedule source the delay label carries over: d_k = d_(k-1)·k (+ jitter)."""

    def fn(r: int) -> float:
        if base == 0 and extra == 0:
            return 0.0
        value = base
        for k in range(1, r + 2):
            value = value * k + extra
            if value > _CEILING:
                return math.inf
        return value

    return fn


def _drifting(base: float) -> DelayFn:
    """No growth, but each retry's jitter (up to 1 s) is added to the carried delay label."""
    return lambda r: base + (r + 1)


# Framework-aware advice the neutral rules quote (CONTRACTS §6).
_HINTS: tuple[tuple[str, str], ...] = (
    (
        "max_retries",
        "Set the max_retries label (it counts executions: max_retries=4 allows 3 retries) or "
        "default_retry_count on the retry middleware.",
    ),
    (
        "backoff",
        "Use SmartRetryMiddleware(use_delay_exponent=True): each retry waits the previous delay "
        "times the retry number, capped by max_delay_exponent (60 s by default). "
        "SimpleRetryMiddleware retries at once and cannot back off.",
    ),
    (
        "jitter",
        "Only SmartRetryMiddleware jitters: pass use_jitter=True (it adds 0-1 s). "
        "SimpleRetryMiddleware cannot jitter: switch to SmartRetryMiddleware.",
    ),
    (
        "trigger",
        "taskiq retries only with a retry middleware on the broker and retry_on_error=True "
        "(the middleware's default_retry_label is False)",
    ),
    (
        "trigger_fix",
        "Add retry_on_error=True to the task's labels (or default_retry_label=True on the "
        "middleware), or remove the retry labels.",
    ),
    (
        "dead_letter",
        "taskiq keeps only the error result in the result backend: record the final failure "
        "in a middleware's on_error/post_execute hook or in the task itself.",
    ),
    (
        "window",
        "Raise the max_retries label (it counts executions), or SmartRetryMiddleware's "
        "default_delay and max_delay_exponent.",
    ),
)
