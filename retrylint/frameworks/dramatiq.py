"""Dramatiq (written against 2.2.1; the 1.x backoff formula is chosen by the detected version).

Recognised actor forms: `@dramatiq.actor` / `@actor(...)` under any import alias, module-level
decorator aliases (`retrying = dramatiq.actor(max_retries=3)`, `partial(dramatiq.actor, ...)`),
wrapper functions named in `[frameworks.dramatiq] task-decorators`, actors built by a call at
module level (`x = dramatiq.actor(fn, ...)`, `dramatiq.Actor(fn, ..., options={...})`) and
`GenericActor` subclasses. A GenericActor's options are the attributes written directly on the
`Meta` that `getattr(cls, "Meta")` finds: its own, else the nearest base's (`vars(meta)`, so a
subclass's own `Meta` never merges its parent's); a class whose own `Meta` says `abstract = True`
is not an actor.

Names (actor.py `actor`): `actor_name or fn.__name__`. A function or class has its own name; a
callable instance (`dramatiq.actor(SomeTask())`, and a GenericActor, which Dramatiq instantiates)
has the `__name__` its class defines as an attribute or a constant property (GenericActor's
property gives the class name); a class defining none would fail at import with AttributeError,
which the row's undecided name says.

Brokers are recognised by type (`RedisBroker`, `RabbitmqBroker`, `StubBroker`, `Broker`, project
subclasses, other `dramatiq*` packages' `...Broker` classes, and factory functions returning one).
Their middleware is the default stack (which contains `Retries` and `AgeLimit`) when built
without `middleware=`, else the instances listed, plus every `add_middleware(...)`. An actor's
broker is its `broker=` option, else the broker given to `set_broker`, else the only broker of the
project, else Dramatiq's own default (a RabbitMQ broker with the default stack).

Precedence, from `middleware/retries.py` and verified with a StubBroker (reference §2):
message options (`send_with_options`) > actor options > the `Retries` middleware's settings >
defaults (20 retries, `min_backoff` 15 s, `max_backoff` 7 d, all in milliseconds). `retry_when`
is read from the actor and the middleware only, and replaces the `max_retries` test entirely.
`Retries(min_backoff=0)` means the default. Every backoff is jittered. `raise Retry(delay=ms)`
uses the retry budget and waits exactly `delay` (no cap, no jitter). `max_age` (AgeLimit) bounds
the whole retry window, because a retry keeps the first enqueue's timestamp.

Also read: `broker.middleware = [...]`, `dramatiq.get_broker().add_middleware(...)`, and
django_dramatiq's `DRAMATIQ_BROKER` setting (whose `MIDDLEWARE` list, when left out, means no
middleware at all). Not recognised: middleware options changed after construction (`for m in
broker.middleware: m.max_retries = 3`; module-level `for` loops are not extracted), and actors
declared inside functions. A `retry_when` predicate is read when it is a lambda or a module-level
`def` whose body is one `return` of a comparison of the retry count with a constant, `isinstance`
tests of the exception, `not` and `and`/`or`; any other predicate is quoted as undecided with
the reason.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

from retrylint.durations import format_duration
from retrylint.frameworks.base import (
    BROAD_EXCEPTIONS,
    MAX_CHAIN,
    AdapterContext,
    Option,
    UndecidedLog,
    Where,
    dict_items,
    exception_names,
    module_imports,
    policy_row,
    source_of,
    subclass_of,
    walk_calls,
)
from retrylint.frameworks.recognize import MakerRules, Options, Recognizer
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
    Site,
    Source,
    Via,
)
from retrylint.python import ir
from retrylint.python.evaluate import (
    Formula,
    Known,
    Unknown,
    Value,
    location_of,
    mentions_random,
    number,
)
from retrylint.python.project import Resolved, base_of
from retrylint.resolve.schedule import (
    DelayFn,
    Fields,
    RetryPath,
    combine,
    constant_delay,
    never_retries,
    within,
)
from retrylint.scan.versions import at_least

KEY = "dramatiq"
# The version the facts below were read from (reference §0), assumed when none is detected.
REFERENCE_VERSION = "2.2.1"

# middleware/retries.py: Retries.__init__ defaults and module constants (milliseconds).
DEFAULT_MAX_RETRIES = 20
DEFAULT_MIN_BACKOFF = 15_000
DEFAULT_MAX_BACKOFF = 86_400_000 * 7
# brokers/redis.py DEFAULT_DEAD_MESSAGE_TTL, brokers/rabbitmq.py DEAD_MESSAGE_TTL.
DEFAULT_DEAD_MESSAGE_TTL = 86_400_000 * 7
# common.py compute_backoff(max_exponent=32).
_MAX_EXPONENT = 32

# Options the Retries and AgeLimit middleware read from actors and messages.
RETRY_OPTIONS = (
    "max_retries",
    "min_backoff",
    "max_backoff",
    "retry_when",
    "throws",
    "max_age",
    "on_retry_exhausted",
)
_ACTOR_KEYWORDS = frozenset({"actor_name", "queue_name", "priority", "broker", "actor_class"})
_META_ATTRIBUTES = frozenset({*RETRY_OPTIONS, *_ACTOR_KEYWORDS, "abstract"})
# Also kept from function bodies: `broker.middleware = [...]` in a setup function.
_ATTRIBUTES = _META_ATTRIBUTES | {"middleware", "DRAMATIQ_BROKER"}

_ACTOR_FUNCS = frozenset({"dramatiq.actor", "dramatiq.actor.actor"})
_ACTOR_CLASSES = frozenset({"dramatiq.Actor", "dramatiq.actor.Actor"})
_GENERIC = frozenset({"dramatiq.GenericActor", "dramatiq.generic.GenericActor"})
_RETRIES = frozenset({"dramatiq.middleware.Retries", "dramatiq.middleware.retries.Retries"})
_AGE_LIMIT = frozenset({"dramatiq.middleware.AgeLimit", "dramatiq.middleware.age_limit.AgeLimit"})
_RETRY_EXC = frozenset({"dramatiq.Retry", "dramatiq.errors.Retry"})
_RETRY_EXC_BASES = frozenset({"dramatiq.DramatiqError", "dramatiq.errors.DramatiqError"})
_SET_BROKER = frozenset({"dramatiq.set_broker", "dramatiq.broker.set_broker"})
_GET_BROKER = frozenset({"dramatiq.get_broker", "dramatiq.broker.get_broker"})
_PARTIAL = frozenset({"functools.partial"})
_BROKER_KINDS: dict[str, str] = {
    "dramatiq.brokers.redis.RedisBroker": "redis",
    "dramatiq.brokers.rabbitmq.RabbitmqBroker": "rabbitmq",
    "dramatiq.brokers.rabbitmq.URLRabbitmqBroker": "rabbitmq",
    "dramatiq.brokers.stub.StubBroker": "stub",
    "dramatiq.Broker": "other",
    "dramatiq.broker.Broker": "other",
}
_DEFAULTS_MS = {"min_backoff": DEFAULT_MIN_BACKOFF, "max_backoff": DEFAULT_MAX_BACKOFF}
_GLOBAL = "<global>"
_CALLED_RECEIVER = re.compile(r"(?P<func>[A-Za-z_][\w.]*)\(\s*\)\.(?P<method>\w+)")
_DEFAULT_BROKER = "<default>"

# RL204 thresholds (milliseconds): below these a value only makes sense read as seconds.
# A first retry sooner than 100 ms or a backoff cap under one second is not something a broker
# round trip can honour, and a message lifetime under ten seconds drops messages that merely
# waited in the queue; `min_backoff=5` meant 5 s and `max_age=60*60` meant an hour.
_SLIP_THRESHOLDS: dict[str, float] = {
    "min_backoff": 100,
    "delay": 100,
    "max_backoff": 1000,
    "max_age": 10_000,
}


@dataclass(frozen=True, slots=True)
class _Middleware:
    kind: Literal["retries", "age_limit"]
    where: Where | None  # the constructor call; None for an instance of the default stack
    note: str


@dataclass
class _Broker:
    identity: str
    label: str
    kind: str  # "redis", "rabbitmq", "stub" or "other"
    location: Location | None
    stack: list[_Middleware] = field(default_factory=list)
    unknown: Unknown | None = None  # the middleware list could not be read
    dead_ttl_ms: float | None = None

    @property
    def retries(self) -> list[_Middleware]:
        return [m for m in self.stack if m.kind == "retries"]


def _default_broker() -> _Broker:
    return _Broker(
        _DEFAULT_BROKER,
        "Dramatiq's default broker",
        "rabbitmq",
        None,
        _default_stack("Dramatiq's default broker"),
    )


def _default_stack(owner: str) -> list[_Middleware]:
    note = f"the default middleware of {owner}"
    return [_Middleware("age_limit", None, note), _Middleware("retries", None, note)]


@dataclass
class _Actor:
    """One actor definition with the options it was declared with."""

    module: ir.ModuleSummary
    qualified: str
    default_name: str | None  # `fn.__name__`; None when it cannot be decided
    location: Location
    anchors: tuple[int, ...]
    options: dict[str, Option]
    bodies: list[tuple[ir.Function, ir.ModuleSummary]]
    problems: list[tuple[str, Unknown]] = field(default_factory=list)
    via: tuple[Via, ...] = ()
    # Without a default name: the name expression, and what could not be decided.
    name_problem: tuple[str, Unknown] | None = None


class DramatiqAdapter:
    key = KEY
    info = FrameworkInfo(
        "Dramatiq",
        "dramatiq",
        in_process=False,
        capabilities=Capabilities(
            count="setting", backoff="setting", jitter="setting", dead_letter="setting"
        ),
    )
    packages: tuple[str, ...] = ("dramatiq",)
    # Actor and broker files import dramatiq; enqueue sites may only name the send methods, and
    # class-based actors may only name GenericActor through a project base (project_markers).
    markers = re.compile(rb"dramatiq|GenericActor|send_with_options|message_with_options")
    interest = ir.Interest(
        calls=frozenset(
            {
                "send_with_options",
                "message_with_options",
                "add_middleware",
                "set_broker",
                "get_broker",
                "Retries",
                "AgeLimit",
                "Retry",
                "RedisBroker",
                "RabbitmqBroker",
                "StubBroker",
            }
        ),
        attributes=_ATTRIBUTES | {"__name__"},
        # `__name__` as a property of a callable class (`dramatiq.actor(SomeTask())`).
        returns=frozenset({"__name__"}),
    )

    def analyze(self, ctx: AdapterContext) -> Iterable[EffectivePolicy | Observation]:
        return _Analysis(ctx).items()

    def project_markers(self, ctx: AdapterContext) -> frozenset[str]:
        a = _Analysis(ctx)
        return a.recognizer.markers(
            ctx.scanned,
            lambda b, m: (
                a.decorator(b.value, m) is not None or a.factory(b.value, m, 0) is not None
            ),
            a.is_generic,
        )


class _Analysis:
    def __init__(self, ctx: AdapterContext) -> None:
        self.ctx = ctx
        self.project = ctx.project
        self.evaluator = ctx.evaluator
        self.recognizer = Recognizer(
            ctx.project,
            lambda expr, module: self.factory(expr, module) is not None,
            ctx.settings.task_decorators,
        )
        self.rules: MakerRules[Options] = MakerRules(
            leaf=self._actor_maker,
            merge=lambda made, call, module: made.merged(call, module),
            extend=lambda made, expansion: made.extended(expansion),
            # `dramatiq.actor(fn)` is an actor, not a decorator.
            applies=lambda call: not call.args or _is_partial(call),
        )
        self.two_x = at_least(ctx.version, (2,), (2, 2, 1))
        self.version = ctx.version or REFERENCE_VERSION
        self.scanned_paths = frozenset(s.path for s in ctx.scanned)
        self.brokers: dict[str, _Broker] = {}
        self._global_targets: list[tuple[str, Where]] = []
        # The global broker as actors of a base folder see it (None: of the whole project).
        self._globals: dict[str | None, _Broker | Unknown] = {}
        self._generic_cache: dict[str, bool | None] = {}
        self._actor_cache: dict[str, _Actor | None] = {}
        self._emitted: set[tuple[str, str, int, int, str]] = set()

    # -- recognising actor decorators --------------------------------------------------------

    def factory(self, expr: ir.Expr, summary: ir.ModuleSummary, depth: int = 0) -> Options | None:
        """A callable that makes an actor decorator: `dramatiq.actor`, an alias, a partial."""
        return self.recognizer.maker(self.rules, expr, summary, depth)

    def decorator(self, expr: ir.Expr, summary: ir.ModuleSummary, depth: int = 0) -> Options | None:
        """The actor options a decorator applies, or None when it does not make an actor."""
        return self.recognizer.decoration(self.rules, expr, summary, depth)

    def _actor_maker(
        self, expr: ir.Ref, found: Resolved | None, module: ir.ModuleSummary, depth: int
    ) -> Options | None:
        if found is not None and (
            found.qualified in _ACTOR_FUNCS or self.recognizer.configured(found)
        ):
            return Options()
        return None

    # -- GenericActor classes ----------------------------------------------------------------

    def is_generic(self, cls: ir.Class, module: ir.ModuleSummary) -> bool:
        return subclass_of(
            self.project,
            self._generic_cache,
            cls,
            module,
            lambda found, base, m: found is not None and found.qualified in _GENERIC,
        )

    def meta_of(
        self, cls: ir.Class, module: ir.ModuleSummary, depth: int = 0
    ) -> tuple[ir.Class, ir.ModuleSummary, bool] | None:
        """The `Meta` that `getattr(cls, "Meta")` finds, and whether it is the class's own."""
        own = next((c for c in module.classes if c.qualname == f"{cls.qualname}.Meta"), None)
        if own is not None:
            return own, module, True
        if depth > MAX_CHAIN:
            return None
        for base in cls.bases:
            if not isinstance(base, ir.Ref):
                continue
            found = self.project.resolve(module, base.dotted)
            if found is None or found.cls is None or found.module is None:
                continue
            if found.kind != "class":
                continue
            inherited = self.meta_of(found.cls, found.module, depth + 1)
            if inherited is not None:
                return inherited[0], inherited[1], False
        return None

    def class_chain(
        self, cls: ir.Class, module: ir.ModuleSummary
    ) -> list[tuple[ir.Class, ir.ModuleSummary]]:
        out: list[tuple[ir.Class, ir.ModuleSummary]] = []
        seen: set[str] = set()

        def walk(c: ir.Class, m: ir.ModuleSummary, depth: int) -> None:
            key = f"{m.module}.{c.qualname}"
            if key in seen or depth > MAX_CHAIN:
                return
            seen.add(key)
            out.append((c, m))
            for base in c.bases:
                if isinstance(base, ir.Ref):
                    found = self.project.resolve(m, base.dotted)
                    if found is not None and found.kind == "class" and found.cls and found.module:
                        walk(found.cls, found.module, depth + 1)

        walk(cls, module, 0)
        return out

    # -- actor definitions -------------------------------------------------------------------

    def actors_in(self, summary: ir.ModuleSummary) -> Iterator[_Actor]:
        for fn in summary.functions:
            if self.recognizer.inside_wrapper(fn, summary):
                continue
            actor = self.function_actor(fn, summary)
            if actor is not None:
                yield actor
        for cls in summary.classes:
            actor = self.class_actor(cls, summary)
            if actor is not None:
                yield actor
        for binding in summary.bindings:
            if "." not in binding.target and isinstance(binding.value, ir.Call):
                actor = self.applied_actor(binding.value, summary, binding.target)
                if actor is not None:
                    yield actor
        for call in summary.calls:
            actor = self.applied_actor(call, summary, None)
            if actor is not None:
                yield actor

    def function_actor(self, fn: ir.Function, summary: ir.ModuleSummary) -> _Actor | None:
        key = f"{summary.path}:{fn.qualname}"  # by file: services may share module names
        if key in self._actor_cache:
            return self._actor_cache[key]
        actor: _Actor | None = None
        for dec in fn.decorators:
            info = self.decorator(dec, summary)
            if info is not None:
                options, problems = self._decorator_options(info)
                anchors = tuple(sorted({d.span.line for d in fn.decorators} | {fn.span.line}))
                actor = _Actor(
                    summary,
                    key,
                    fn.name,
                    location_of(summary, fn.name_span),
                    anchors,
                    options,
                    [(fn, summary)],
                    problems,
                    info.via,
                )
                break
        self._actor_cache[key] = actor
        return actor

    def class_actor(self, cls: ir.Class, summary: ir.ModuleSummary) -> _Actor | None:
        key = f"{summary.path}:{cls.qualname}"
        if key in self._actor_cache:
            return self._actor_cache[key]
        actor: _Actor | None = None
        if self.is_generic(cls, summary):
            meta = self.meta_of(cls, summary)
            options: dict[str, Option] = {}
            abstract = False
            if meta is not None:
                meta_cls, meta_module, own = meta
                source: Source = "explicit" if own else "inherited"
                for attr in meta_cls.attributes:
                    if attr.target.startswith("_"):
                        continue  # generic_actor skips these: `vars(meta)` minus `_` names
                    value = self.evaluator.eval(attr.value, meta_module)
                    if attr.target == "abstract":
                        abstract = own and isinstance(value, Known) and bool(value.value)
                        continue
                    options[attr.target] = Option(
                        attr.target,
                        value,
                        attr.value,
                        location_of(meta_module, attr.value.span),
                        source_of(value, source),
                        "" if own else f"Meta of {meta_cls.qualname.rpartition('.')[0]}",
                        meta_module,
                    )
            if not abstract:
                anchors = tuple(sorted({d.span.line for d in cls.decorators} | {cls.span.line}))
                bodies = [(m, mod) for c, mod in self.class_chain(cls, summary) for m in c.methods]
                # The actor is made from an instance: GenericActor's `__name__` property gives
                # the class name unless a class overrides it.
                named = self.dunder_name(cls, summary, cls.name, 0)
                at = location_of(summary, cls.name_span)
                default, problem = _instance_name(named, f"{cls.name}()", cls.name, at)
                actor = _Actor(
                    summary,
                    key,
                    default,
                    location_of(summary, cls.name_span),
                    anchors,
                    options,
                    bodies,
                    name_problem=problem,
                )
        self._actor_cache[key] = actor
        return actor

    def applied_actor(
        self, call: ir.Call, summary: ir.ModuleSummary, target: str | None
    ) -> _Actor | None:
        """`x = dramatiq.actor(fn, ...)` and `dramatiq.Actor(fn, ..., options={...})`."""
        if not isinstance(call.func, ir.Ref) or not call.args:
            return None
        found = self.project.resolve(summary, call.func.dotted)
        if found is None or not (
            found.qualified in _ACTOR_FUNCS or found.qualified in _ACTOR_CLASSES
        ):
            return None
        key = f"{summary.path}:{target}" if target else f"{summary.path}:{call.span.line}"
        if key in self._actor_cache:
            return self._actor_cache[key]
        info = Options().merged(call, summary)
        options, problems = self._decorator_options(info)
        if found.qualified in _ACTOR_CLASSES:
            nested = options.pop("options", None)
            if nested is not None and isinstance(nested.value, Known):
                inner = nested.value.value
                if isinstance(inner, dict):
                    where = Where(nested.expr or call, nested.module or summary)
                    for name, value in inner.items():
                        if isinstance(name, str):
                            options[name] = self._item_option(where, name, value)
            elif nested is not None and isinstance(nested.value, Unknown):
                problems.append(("options", nested.value))
        fn_expr = call.args[0]
        default_name, name_problem = self.callable_name(fn_expr, summary, 0)
        bodies: list[tuple[ir.Function, ir.ModuleSummary]] = []
        if isinstance(fn_expr, ir.Ref):
            resolved = self.project.resolve(summary, fn_expr.dotted)
            if resolved is not None and resolved.function is not None and resolved.module:
                bodies.append((resolved.function, resolved.module))
        actor = _Actor(
            summary,
            key,
            default_name,
            location_of(summary, call.span),
            (call.span.line,),
            options,
            bodies,
            problems,
            name_problem=name_problem,
        )
        self._actor_cache[key] = actor
        return actor

    # -- actor names -------------------------------------------------------------------------

    def callable_name(
        self, expr: ir.Expr, module: ir.ModuleSummary, depth: int
    ) -> tuple[str | None, tuple[str, Unknown] | None]:
        """`fn.__name__` of what `dramatiq.actor(fn)` is given: Dramatiq names the actor
        `actor_name or fn.__name__` (dramatiq/actor.py `actor`). A function or class has its
        own name; an instance (`SomeTask()`) has the `__name__` its class defines, and none
        at all otherwise (an AttributeError at import)."""
        at = location_of(module, expr.span)
        if expr.text.startswith("lambda"):
            return "<lambda>", None
        if isinstance(expr, ir.Call):
            return self._instance(expr, module, depth)
        if not isinstance(expr, ir.Ref) or depth > MAX_CHAIN:
            return None, (f"{expr.text}.__name__", Unknown(expr.text, at))
        found = self.project.resolve(module, expr.dotted)
        if found is None:
            # Not bound in the module (a star import, a builtin): the last part of the name.
            return expr.dotted.rpartition(".")[2], None
        if found.kind == "function" and found.function is not None:
            return found.function.name, None
        if found.kind == "class" and found.cls is not None:
            return found.cls.name, None
        if found.kind == "binding" and found.binding is not None and found.module is not None:
            value, value_module = self.evaluator.deref(found.binding.value, found.module)
            return self.callable_name(value, value_module, depth + 1)
        if found.kind == "external":
            # An object of another package (or an attribute of one): its own name.
            return found.qualified.rpartition(".")[2], None
        return None, (f"{expr.text}.__name__", Unknown(expr.text, at))

    def _instance(
        self, call: ir.Call, module: ir.ModuleSummary, depth: int
    ) -> tuple[str | None, tuple[str, Unknown] | None]:
        """`dramatiq.actor(SomeTask())`: the instance's `__name__`, from its class."""
        expression = f"{call.text}.__name__"
        at = location_of(module, call.span)
        found = (
            self.project.resolve(module, call.func.dotted)
            if isinstance(call.func, ir.Ref)
            else None
        )
        if found is None or found.kind != "class" or found.cls is None or found.module is None:
            # A factory's result or a class retrylint cannot read.
            return None, (expression, Unknown(call.text, at))
        named = self.dunder_name(found.cls, found.module, found.cls.name, depth)
        return _instance_name(named, call.text, found.cls.name, at)

    def dunder_name(
        self, cls: ir.Class, module: ir.ModuleSummary, concrete: str, depth: int
    ) -> Value | None:
        """The `__name__` an instance of `cls` has (`concrete` is the instantiated class):
        a class attribute or a property of the class or a project base; GenericActor's
        property gives the class name. None when no class defines one."""
        if depth > MAX_CHAIN:
            return Unknown(cls.name, location_of(module, cls.name_span))
        for attr in reversed(cls.attributes):
            if attr.target == "__name__":
                return self.evaluator.eval(attr.value, module)
        prop = next((m for m in cls.methods if m.name == "__name__"), None)
        if prop is not None:
            return self._name_property(prop, module, concrete)
        for base in cls.bases:
            found = self.project.resolve(module, base.dotted) if isinstance(base, ir.Ref) else None
            if found is not None and found.qualified in _GENERIC:
                return Known(concrete)
            if isinstance(base, ir.Ref) and base.dotted == "object" and found is None:
                continue
            if found is None or found.kind != "class" or found.cls is None or found.module is None:
                # A base retrylint cannot read may define `__name__`.
                return Unknown(base.text, location_of(module, base.span))
            inherited = self.dunder_name(found.cls, found.module, concrete, depth + 1)
            if inherited is not None:
                return inherited
        return None

    def _name_property(self, prop: ir.Function, module: ir.ModuleSummary, concrete: str) -> Value:
        """`@property def __name__(self)`: every return must give the same string
        (`type(self).__name__` and `self.__class__.__name__` are the instance's class name)."""
        whole = Unknown(f"{concrete}().__name__", location_of(module, prop.name_span))
        if [d.text for d in prop.decorators] != ["property"] or not prop.params:
            return whole
        own = prop.params[0]
        values: list[Value] = []
        for ret in prop.returns:
            text = re.sub(r"\s+", "", ret.text)
            if text in (f"type({own}).__name__", f"{own}.__class__.__name__"):
                values.append(Known(concrete))
            else:
                values.append(self.evaluator.eval(ret, module))
        for value in values:
            if isinstance(value, Unknown):
                return value
        if not values or any(v != values[0] for v in values):
            return whole
        first = values[0]
        return first if isinstance(first, Known) and isinstance(first.value, str) else whole

    def actor_for(self, found: Resolved) -> _Actor | None:
        """The actor a resolved name refers to (for enqueue sites)."""
        if found.module is None:
            return None
        if found.kind == "function" and found.function is not None:
            return self.function_actor(found.function, found.module)
        if found.kind == "class" and found.cls is not None:
            return self.class_actor(found.cls, found.module)
        if found.kind == "binding" and found.binding is not None:
            value = found.binding.value
            if isinstance(value, ir.Call):
                return self.applied_actor(value, found.module, found.binding.target)
        return None

    def _decorator_options(
        self, info: Options
    ) -> tuple[dict[str, Option], list[tuple[str, Unknown]]]:
        out: dict[str, Option] = {}
        problems: list[tuple[str, Unknown]] = []
        for splat in info.splats:
            # Each key's own expression where the mapping is written out (a literal,
            # `dict(...)`, spreads of constants): `throws` needs the classes as written.
            items = dict_items(self.evaluator, splat.expr, splat.module)
            if not isinstance(items, Unknown):
                for key, (expr, module) in items.items():
                    out[key] = self.option_at(key, Where(expr, module))
                continue
            value = self.evaluator.eval(splat.expr, splat.module)
            if isinstance(value, Known) and isinstance(value.value, dict):
                for key, item in value.value.items():
                    if isinstance(key, str):
                        out[key] = self._item_option(splat, key, item)
            elif isinstance(value, Unknown):
                problems.append(("options", value))
        for name, where in info.kwargs:
            out[name] = self.option_at(name, where)
        return out, problems

    def option_at(
        self, name: str, where: Where, source: Source = "explicit", note: str = ""
    ) -> Option:
        value = self.evaluator.eval(where.expr, where.module, _scope(where.fn, where.module))
        return Option(
            name,
            value,
            where.expr,
            location_of(where.module, where.expr.span),
            source_of(value, source),
            note,
            where.module,
        )

    def _item_option(self, where: Where, key: str, value: Value) -> Option:
        """An option taken from a dict (`**OPTIONS`, `options={...}`), located at its value."""
        expr, module = self.evaluator.deref(where.expr, where.module)
        item: ir.Expr = expr
        if isinstance(expr, ir.DictExpr):
            item = next(
                (v for k, v in reversed(expr.items) if isinstance(k, ir.Const) and k.value == key),
                expr,
            )
        return Option(
            key,
            value,
            item,
            location_of(module, item.span),
            source_of(value, "explicit"),
            module=module,
        )

    # -- brokers -----------------------------------------------------------------------------

    def collect_brokers(self) -> None:
        """Brokers of the project, their middleware, and which one `set_broker` makes global.

        Only modules that import dramatiq are read for them: a broker class, a `Retries` and
        `set_broker` all come from there, and resolving every call of a large project would
        load most of its modules.
        """
        modules = [m for m in self.project.loaded() if module_imports(m, ("dramatiq",))]
        for summary in modules:
            for binding in summary.bindings:
                if "." not in binding.target:
                    self.broker_of(Where(binding.value, summary), _key(summary, binding.target))
            for fn in summary.functions:
                for local in fn.locals:
                    if "." not in local.target:
                        self.broker_of(
                            Where(local.value, summary, fn),
                            _local_identity(summary, fn, local.target),
                        )
        for summary in modules:
            # `broker.middleware = [...]` replaces the whole list.
            for binding in summary.bindings:
                self._stack_assignment(binding, Where(binding.value, summary))
            for fn in summary.functions:
                for local in fn.locals:
                    self._stack_assignment(local, Where(local.value, summary, fn))
        later: list[tuple[ir.Call, Where]] = []
        for summary in modules:
            for call in summary.calls:
                later.extend(self._broker_call(Where(call, summary)))
            for fn in summary.functions:
                for call in fn.calls:
                    later.extend(self._broker_call(Where(call, summary, fn)))
        self._django_broker()
        # `dramatiq.get_broker().add_middleware(...)`: known once every set_broker is.
        for call, where in later:
            chosen = self.global_broker(where.module)
            if isinstance(chosen, _Broker):
                self._add_middleware(chosen, call, where)

    def _stack_assignment(self, binding: ir.Binding, value: Where) -> None:
        receiver, _, attr = binding.target.rpartition(".")
        if attr != "middleware" or not receiver:
            return
        identity = self.broker_of(Where(_ref(receiver, value.expr), value.module, value.fn))
        broker = self.brokers.get(identity) if identity is not None else None
        if broker is not None:
            self._read_stack(broker, value, ".middleware =")

    def _broker_call(self, where: Where) -> Iterator[tuple[ir.Call, Where]]:
        """Registers `add_middleware` and `set_broker` calls; yields those on the global one."""
        call = where.expr
        if not isinstance(call, ir.Call) or not call.args:
            return
        if isinstance(call.func, ir.Opaque):
            # `dramatiq.get_broker().add_middleware(...)`: the receiver is a call.
            made = _CALLED_RECEIVER.fullmatch(call.func.text)
            if made is not None and made["method"] == "add_middleware":
                target = self.project.resolve(where.module, made["func"])
                if target is not None and target.qualified in _GET_BROKER:
                    yield call, where
            return
        if not isinstance(call.func, ir.Ref):
            return
        receiver, _, method = call.func.dotted.rpartition(".")
        if method == "add_middleware" and receiver:
            identity = self.broker_of(Where(_ref(receiver, call), where.module, where.fn))
            if identity == _GLOBAL:
                yield call, where
            elif identity is not None and identity in self.brokers:
                self._add_middleware(self.brokers[identity], call, where)
        elif call.func.dotted.rpartition(".")[2] == "set_broker":
            target = self.project.resolve(where.module, call.func.dotted)
            if target is not None and target.qualified in _SET_BROKER:
                arg = Where(call.args[0], where.module, where.fn)
                identity = self.broker_of(arg)
                self._global_targets.append((identity or "", arg))

    def _add_middleware(self, broker: _Broker, call: ir.Call, where: Where) -> None:
        if broker.unknown is not None:
            return
        item = Where(call.args[0], where.module, where.fn)
        middleware = self._middleware(
            item, f"add_middleware at {item.module.path}:{call.span.line}"
        )
        if isinstance(middleware, _Middleware):
            broker.stack.append(middleware)
        elif isinstance(middleware, Unknown):
            broker.unknown = middleware

    def broker_of(self, where: Where, identity: str | None = None, depth: int = 0) -> str | None:
        """The identity of the broker an expression evaluates to, registering it once."""
        if depth > MAX_CHAIN:
            return None
        expr, module, fn = where.expr, where.module, where.fn
        if isinstance(expr, ir.Ref):
            if fn is not None:
                local = _local(fn, expr.dotted)
                if local is not None:
                    return self.broker_of(
                        Where(local.value, module, fn),
                        _local_identity(module, fn, expr.dotted),
                        depth + 1,
                    )
            found = self.project.resolve(module, expr.dotted)
            if (
                found is None
                or found.kind != "binding"
                or found.binding is None
                or not found.module
            ):
                return None
            key = _key(found.module, found.binding.target)
            if key in self.brokers:
                return key
            return self.broker_of(Where(found.binding.value, found.module), key, depth + 1)
        if not isinstance(expr, ir.Call) or not isinstance(expr.func, ir.Ref):
            return None
        target = self.project.resolve(module, expr.func.dotted)
        if target is None:
            return None
        if target.qualified in _GET_BROKER:
            return _GLOBAL
        kind = self._broker_kind(target, 0)
        if kind is not None:
            key = identity or f"{module.path}:{expr.span.line}"
            if key not in self.brokers:
                self.brokers[key] = self._new_broker(key, kind, where, target)
            return key
        if target.kind == "function" and target.function is not None and target.module is not None:
            factory = target.function
            for ret in factory.returns:
                found_id = self.broker_of(Where(ret, target.module, factory), None, depth + 1)
                if found_id is not None:
                    return found_id
        return None

    def _broker_kind(self, found: Resolved, depth: int) -> str | None:
        if found.qualified in _BROKER_KINDS:
            return _BROKER_KINDS[found.qualified]
        if found.kind == "external":
            head, _, last = found.qualified.rpartition(".")
            if head.startswith("dramatiq") and last.endswith("Broker"):
                return "other"
            return None
        if (
            found.kind == "class"
            and found.cls is not None
            and found.module is not None
            and depth <= MAX_CHAIN
        ):
            for base in found.cls.bases:
                if isinstance(base, ir.Ref):
                    inner = self.project.resolve(found.module, base.dotted)
                    if inner is not None:
                        kind = self._broker_kind(inner, depth + 1)
                        if kind is not None:
                            return kind
        return None

    def _new_broker(self, identity: str, kind: str, where: Where, target: Resolved) -> _Broker:
        call = where.expr
        assert isinstance(call, ir.Call)
        cls = target.qualified.rpartition(".")[2]
        location = location_of(where.module, call.span)
        label = f"{cls} at {location}"
        broker = _Broker(identity, label, kind, location)
        ttl = call.kwarg("dead_message_ttl")
        if ttl is not None:
            broker.dead_ttl_ms = number(
                self.evaluator.eval(ttl, where.module, _scope(where.fn, where.module))
            )
        listed = call.kwarg("middleware")
        if listed is None:
            broker.stack = _default_stack(label)
        else:
            self._read_stack(broker, Where(listed, where.module, where.fn), "middleware=")
        return broker

    def _read_stack(self, broker: _Broker, listed: Where, how: str) -> None:
        """Replace a broker's middleware with a list expression (`middleware=[...]`)."""
        broker.stack, broker.unknown = [], None
        expr, module, fn = self._deref(listed)
        if isinstance(expr, ir.Const) and expr.value is None:
            broker.stack = _default_stack(broker.label)
            return
        if isinstance(expr, ir.Seq):
            for item in expr.items:
                found = self._middleware(Where(item, module, fn), f"{how} of {broker.label}")
                if isinstance(found, _Middleware):
                    broker.stack.append(found)
                elif isinstance(found, Unknown):
                    broker.unknown = found
                    return
                elif found == "default":
                    broker.stack.extend(_default_stack(broker.label))
            return
        if _opaque_stack(expr) == "default":
            broker.stack = _default_stack(broker.label)
        else:
            broker.unknown = Unknown(listed.expr.text, location_of(listed.module, listed.expr.span))

    def _django_broker(self) -> None:
        """django_dramatiq builds the global broker from `settings.DRAMATIQ_BROKER`.

        Its `MIDDLEWARE` entries are dotted paths instantiated without arguments (or
        instances); a dict without `MIDDLEWARE` gives a broker with no middleware at all.
        """
        name = self.ctx.settings.settings_module
        module = self.project.module(name) if name else None
        found = self.project.resolve(module, "DRAMATIQ_BROKER") if module is not None else None
        if found is None or found.binding is None:
            # Without a known settings module: the settings files mention dramatiq, so they
            # were read; per-environment files that agree count as one.
            candidates = [
                self.project.resolve(m, "DRAMATIQ_BROKER")
                for m in self.project.loaded()
                if any(b.target == "DRAMATIQ_BROKER" for b in m.bindings)
            ]
            known = [c for c in candidates if c is not None and c.binding is not None]
            if not known:
                return
            found = known[0]
            if len({c.binding.value.text for c in known if c.binding is not None}) > 1:
                assert found.binding is not None and found.module is not None
                # Settings that disagree: the global broker is undecided, quoting one of them.
                self._global_targets.append(("", Where(found.binding.value, found.module)))
                return
        if found.binding is None or found.module is None:
            return
        expr, where_module = self.evaluator.deref(found.binding.value, found.module)
        location = location_of(found.module, found.binding.span)
        label = f"DRAMATIQ_BROKER at {location}"
        broker = _Broker(_key(found.module, found.binding.target), label, "other", location)
        self.brokers[broker.identity] = broker
        self._global_targets.append((broker.identity, Where(found.binding.value, found.module)))
        if not isinstance(expr, ir.DictExpr):
            broker.unknown = Unknown(
                found.binding.value.text, location_of(found.module, found.binding.value.span)
            )
            return
        entries = {k.value: v for k, v in expr.items if isinstance(k, ir.Const)}
        path = entries.get("BROKER")
        path_value = self.evaluator.eval(path, where_module) if path is not None else None
        if isinstance(path_value, Known) and isinstance(path_value.value, str):
            broker_class = self.project.resolve_string(where_module, path_value.value)
            broker.kind = self._broker_kind(broker_class, 0) or "other"
            broker.label = f"{path_value.value.rpartition('.')[2]} from {label}"
        options = entries.get("OPTIONS")
        if isinstance(options, ir.DictExpr):
            for key, value in options.items:
                if isinstance(key, ir.Const) and key.value == "dead_message_ttl":
                    broker.dead_ttl_ms = number(self.evaluator.eval(value, where_module))
        listed = entries.get("MIDDLEWARE")
        if listed is None:
            return  # `broker_settings.get("MIDDLEWARE", [])`: no middleware, no retries
        items, items_module, _ = self._deref(Where(listed, where_module))
        if not isinstance(items, ir.Seq):
            broker.unknown = Unknown(listed.text, location_of(where_module, listed.span))
            return
        for item in items.items:
            named = self.evaluator.eval(item, items_module)
            if isinstance(named, Known) and isinstance(named.value, str):
                named_class = self.project.resolve_string(items_module, named.value)
                kind = self._middleware_kind(named_class, 0)
                if kind is not None:
                    broker.stack.append(_Middleware(kind, None, f"MIDDLEWARE of {label}"))
                continue
            found_item = self._middleware(Where(item, items_module), f"MIDDLEWARE of {label}")
            if isinstance(found_item, _Middleware):
                broker.stack.append(found_item)
            elif isinstance(found_item, Unknown):
                broker.unknown = found_item
                return

    def _middleware(
        self, where: Where, note: str
    ) -> _Middleware | Unknown | Literal["default"] | None:
        """A Retries or AgeLimit instance, "default" for the default stack, None for others."""
        expr, module, fn = self._deref(where)
        if isinstance(expr, ir.Starred):
            inner = self._middleware(Where(expr.value, module, fn), note)
            if inner is None or isinstance(inner, Unknown):
                return inner
            return Unknown(expr.text, location_of(module, expr.span))
        if isinstance(expr, ir.Call) and isinstance(expr.func, ir.Ref):
            target = self.project.resolve(module, expr.func.dotted)
            if target is not None:
                kind = self._middleware_kind(target, 0)
                if kind is not None:
                    return _Middleware(kind, Where(expr, module, fn), note)
                if target.kind != "external" or target.qualified.startswith("dramatiq"):
                    return None
        verdict = _opaque_stack(expr)
        if verdict == "default":
            return "default"
        if verdict == "unknown":
            return Unknown(expr.text, location_of(module, expr.span))
        return None

    def _middleware_kind(
        self, found: Resolved, depth: int
    ) -> Literal["retries", "age_limit"] | None:
        if found.qualified in _RETRIES:
            return "retries"
        if found.qualified in _AGE_LIMIT:
            return "age_limit"
        if (
            found.kind == "class"
            and found.cls is not None
            and found.module is not None
            and depth <= MAX_CHAIN
        ):
            for base in found.cls.bases:
                if isinstance(base, ir.Ref):
                    inner = self.project.resolve(found.module, base.dotted)
                    if inner is not None:
                        kind = self._middleware_kind(inner, depth + 1)
                        if kind is not None:
                            return kind
        return None

    def _deref(self, where: Where) -> tuple[ir.Expr, ir.ModuleSummary, ir.Function | None]:
        expr, module, fn = where.expr, where.module, where.fn
        for _ in range(12):
            if isinstance(expr, ir.Ref) and fn is not None:
                local = _local(fn, expr.dotted)
                if local is not None:
                    expr = local.value
                    continue
            if isinstance(expr, ir.Ref):
                target, target_module = self.evaluator.deref(expr, module)
                if target is not expr:
                    expr, module, fn = target, target_module, None
                    continue
            break
        return expr, module, fn

    def global_broker(self, near: ir.ModuleSummary | None = None) -> _Broker | Unknown:
        """The broker actors without `broker=` are declared on, as a module `near` sees it: in
        a monorepo each service calls `set_broker` for its own workers, so the calls in the
        module's own base folder decide when there are any."""
        targets = self._global_targets
        home = base_of(near) if near is not None else None
        own = [(i, w) for i, w in targets if home is not None and base_of(w.module) == home]
        if own and len(own) < len(targets):
            targets = own
        else:
            home = None
        if home in self._globals:
            return self._globals[home]
        candidates: list[tuple[str, Where]] = []
        for identity, where in targets:
            if identity not in {c for c, _ in candidates}:
                candidates.append((identity, where))
        chosen: _Broker | Unknown
        if not candidates:
            if len(self.brokers) == 1:
                chosen = next(iter(self.brokers.values()))
            else:
                chosen = _default_broker()
        elif len(candidates) == 1 and candidates[0][0] in self.brokers:
            chosen = self.brokers[candidates[0][0]]
        else:
            known = [self.brokers[c] for c, _ in candidates if c in self.brokers]
            signatures = {_signature(b) for b in known}
            if len(known) == len(candidates) and len(signatures) == 1:
                chosen = known[0]
            else:
                where = candidates[-1][1]
                chosen = Unknown(where.expr.text, location_of(where.module, where.expr.span))
        self._globals[home] = chosen
        return chosen

    def broker_for(self, actor: _Actor) -> _Broker | Unknown:
        option = actor.options.get("broker")
        if option is None or option.expr is None or option.module is None:
            return self.global_broker(actor.module)
        if isinstance(option.value, Known) and not option.value.value:
            # dramatiq/actor.py: `broker = broker or get_broker()`
            return self.global_broker(actor.module)
        identity = self.broker_of(Where(option.expr, option.module))
        if identity == _GLOBAL:
            return self.global_broker(actor.module)
        if identity is not None and identity in self.brokers:
            return self.brokers[identity]
        if isinstance(option.value, Unknown):
            return option.value
        return Unknown(option.text, option.location or actor.location)

    # -- the run -----------------------------------------------------------------------------

    def items(self) -> Iterator[EffectivePolicy | Observation]:
        self.collect_brokers()
        for summary in self.ctx.scanned:
            for actor in self.actors_in(summary):
                builder = _Builder(self, actor, None, None)
                row = builder.build()
                yield row
                yield from builder.observations
        for summary in self.ctx.scanned:
            yield from self.enqueue_rows(summary)
        yield from self.broker_observations()

    def enqueue_rows(self, summary: ir.ModuleSummary) -> Iterator[EffectivePolicy | Observation]:
        sites: list[tuple[ir.Call, ir.Function | None]] = []
        for call in summary.calls:
            sites.extend((c, None) for c in walk_calls(call))
        for binding in summary.bindings:
            sites.extend((c, None) for c in walk_calls(binding.value))
        for function in summary.functions:
            sites.extend((c, function) for c in function.calls)
        seen: set[tuple[int, int]] = set()
        for call, fn in sites:
            if not isinstance(call.func, ir.Ref):
                continue
            receiver, _, method = call.func.dotted.rpartition(".")
            if method not in ("send_with_options", "message_with_options") or not receiver:
                continue
            if (call.span.line, call.span.column) in seen:
                continue
            seen.add((call.span.line, call.span.column))
            message = self._message_options(call, summary, fn)
            if not message:
                continue
            actor: _Actor | None = None
            found = self.project.resolve(summary, receiver)
            local = _local(fn, receiver) if fn is not None else None
            if found is not None and local is None and not (fn and receiver in fn.params):
                actor = self.actor_for(found)
            site = _Site(location_of(summary, call.span), (call.span.line,), receiver, summary)
            builder = _Builder(self, actor, message, site)
            if set(message) - {"retry_when"}:
                yield builder.build()
            else:
                builder.resolve()
            yield from builder.observations

    def _message_options(
        self, call: ir.Call, summary: ir.ModuleSummary, fn: ir.Function | None
    ) -> dict[str, Option]:
        out: dict[str, Option] = {}
        scope = _scope(fn, summary)
        for kw in call.kwargs:
            if kw.name is None:
                value = self.evaluator.eval(kw.value, summary, scope)
                if isinstance(value, Known) and isinstance(value.value, dict):
                    for key, item in value.value.items():
                        if isinstance(key, str) and key in RETRY_OPTIONS:
                            out[key] = self._item_option(Where(kw.value, summary, fn), key, item)
            elif kw.name in RETRY_OPTIONS:
                out[kw.name] = self.option_at(kw.name, Where(kw.value, summary, fn))
        return out

    def broker_observations(self) -> Iterator[Observation]:
        """RL502 for a second Retries on one broker; RL204/RL503 on the middleware's values."""
        for broker in self.brokers.values():
            for limit in broker.stack:
                if limit.kind != "age_limit" or limit.where is None:
                    continue
                assert isinstance(limit.where.expr, ir.Call)
                expr = limit.where.expr.kwarg("max_age")
                if expr is not None:
                    where = Where(expr, limit.where.module, limit.where.fn)
                    slip = _slip(self.option_at("max_age", where, "config"), None, None, None)
                    if slip is not None:
                        yield from self.emit(slip)
            retries = broker.retries
            located = [m for m in retries if m.where is not None]
            for middleware in located:
                assert middleware.where is not None
                where = middleware.where
                call = where.expr
                assert isinstance(call, ir.Call)
                for name in ("min_backoff", "max_backoff"):
                    expr = call.kwarg(name)
                    if expr is None:
                        continue
                    option = self.option_at(name, Where(expr, where.module, where.fn), "config")
                    slip = _slip(option, None, None, None)
                    if slip is not None:
                        yield from self.emit(slip)
                    value = option.value
                    if isinstance(value, Known) and not value.value and option.location:
                        yield from self.emit(
                            _observation(
                                "ignored-retry-option",
                                option.location,
                                f"`Retries({name}={option.text})` is ignored: Dramatiq reads a "
                                f"falsy middleware {name} as unset and uses its default "
                                f"({format_duration(_DEFAULTS_MS[name] / 1000)})",
                                f"Set {name}=0 on the actors that need it (actor options are used "
                                "as given), or drop it from the middleware.",
                                None,
                                None,
                                (),
                            )
                        )
                if call.kwarg("retry_when") is not None and call.kwarg("max_retries") is not None:
                    expr = call.kwarg("max_retries")
                    assert expr is not None
                    yield from self.emit(
                        _observation(
                            "ignored-retry-option",
                            location_of(where.module, expr.span),
                            f"`Retries(max_retries={expr.text})` is ignored: the middleware's "
                            "retry_when replaces the max_retries test for every actor that does "
                            "not set its own retry_when",
                            "Put the limit into the retry_when predicate, or drop max_retries.",
                            None,
                            None,
                            (),
                        )
                    )
            if len(retries) < 2 or not located:
                continue
            second = retries[1] if retries[1].where is not None else located[-1]
            assert second.where is not None
            first = retries[0]
            if first.where is None:
                kind = broker.label.partition(" at ")[0]
                already = f"{kind}'s default middleware already includes Retries"
            else:
                at = location_of(first.where.module, first.where.expr.span)
                already = f"Retries is already on this broker ({at})"
            yield from self.emit(
                _observation(
                    "duplicate-retry-middleware",
                    location_of(second.where.module, second.where.expr.span),
                    f"a second Retries middleware on {broker.label}: {already}, so both act on "
                    "every failure and each re-enqueues the message: failing messages are "
                    "duplicated and retried far more often than max_retries says",
                    "Keep one Retries: build the broker with middleware=[...] listing a single "
                    "Retries(...), or set the options on the actors instead.",
                    None,
                    None,
                    (),
                )
            )

    def emit(self, observation: Observation) -> Iterator[Observation]:
        loc = observation.location
        key = (observation.kind, loc.path, loc.line, loc.column, observation.task or "")
        if loc.path not in self.scanned_paths or key in self._emitted:
            return
        self._emitted.add(key)
        yield observation


@dataclass(frozen=True, slots=True)
class _Site:
    """An enqueue call: where it is, and the receiver it names."""

    location: Location
    anchors: tuple[int, ...]
    receiver: str
    module: ir.ModuleSummary


@dataclass(frozen=True, slots=True)
class _Path:
    path: RetryPath
    # The shortest possible wait before retry r, in seconds, for the `max_age` bound.
    shortest: DelayFn | None


class _Builder:
    """Resolves one actor, or one enqueue call on it, into its inventory row."""

    def __init__(
        self,
        analysis: _Analysis,
        actor: _Actor | None,
        message: dict[str, Option] | None,
        site: _Site | None,
    ) -> None:
        self.a = analysis
        self.actor = actor
        self.message = message or {}
        self.site = site
        self.log = UndecidedLog()
        self.evaluator = analysis.evaluator
        self.observations: list[Observation] = []
        self.name: str | None = None
        self.name_expression: str | None = None
        self.hint_trigger = "it can never fail into a retry"
        self.hint_fix = "Remove the retry options, or add the Retries middleware to the broker."
        self.inert: tuple[tuple[str, Location], ...] = ()
        self._resolved: tuple[Fields, str] | None = None
        self._name()

    # -- identity ------------------------------------------------------------------------

    def _name(self) -> None:
        if self.actor is None:
            assert self.site is not None
            self.name_expression = self.site.receiver
            self.log.add("name", Unknown(self.site.receiver, self.site.location))
            return
        for what, unknown in self.actor.problems:
            self.log.add(what, unknown)
        option = self.actor.options.get("actor_name")
        # `actor_name or fn.__name__`: a falsy actor_name falls back too.
        if option is None or (isinstance(option.value, Known) and not option.value.value):
            self.name = self.actor.default_name
            if self.name is None and self.actor.name_problem is not None:
                self.name_expression, unknown = self.actor.name_problem
                self.log.add("name", unknown)
        elif isinstance(option.value, Known) and isinstance(option.value.value, str):
            self.name = option.value.value
        else:
            self.name_expression = option.text
            if isinstance(option.value, Unknown):
                self.log.add("name", option.value)

    @property
    def site_kind(self) -> Site:
        return "enqueue" if self.site is not None else "definition"

    @property
    def location(self) -> Location:
        if self.site is not None:
            return self.site.location
        assert self.actor is not None
        return self.actor.location

    @property
    def via(self) -> tuple[Via, ...]:
        return self.actor.via if self.actor is not None and self.site is None else ()

    @property
    def anchors(self) -> tuple[int, ...]:
        if self.site is not None:
            return self.site.anchors
        assert self.actor is not None
        return self.actor.anchors

    @property
    def subject(self) -> str:
        return f"`{self.name}`" if self.name else f"actor `{self.name_expression}`"

    # -- option layers -------------------------------------------------------------------

    def actor_option(self, name: str) -> Option | Unknown | None:
        """The actor's own option; Unknown when the enqueue site's actor cannot be found."""
        if self.actor is None:
            assert self.site is not None
            return Unknown(self.site.receiver, self.site.location)
        return self.actor.options.get(name)

    def pick(self, name: str, middleware: Option | None, default: object) -> Option:
        """Message > actor > middleware > default, with `.get()` semantics (None counts)."""
        if name in self.message:
            return self.message[name]
        own = self.actor_option(name)
        if isinstance(own, Unknown):
            return Option(name, own, None, own.location, "undecided")
        if own is not None:
            return own
        if middleware is not None:
            return middleware
        return _default_option(name, default)

    def pick_or(self, name: str, middleware: Option | None) -> Option | None:
        """`message.get(name) or actor.get(name)...`: a falsy message value is skipped."""
        message = self.message.get(name)
        if message is not None and not (
            isinstance(message.value, Known) and not message.value.value
        ):
            return message
        own = self.actor_option(name)
        if isinstance(own, Unknown):
            return Option(name, own, None, own.location, "undecided")
        if own is not None:
            return own
        return middleware

    def middleware_option(self, middleware: _Middleware, name: str) -> Option | None:
        if middleware.where is None:
            return None
        call = middleware.where.expr
        assert isinstance(call, ir.Call)
        expr = call.kwarg(name)
        if expr is None:
            return None
        where = Where(expr, middleware.where.module, middleware.where.fn)
        return self.a.option_at(name, where, "config", f"Retries middleware, {middleware.note}")

    # -- resolution ----------------------------------------------------------------------

    def resolve(self) -> tuple[Fields, str]:
        if self._resolved is not None:
            return self._resolved
        broker = self.a.broker_for(self.actor) if self.actor is not None else self.a.global_broker()
        self._check_units()
        if isinstance(broker, Unknown):
            self.log.add("middleware", broker)
            prov = Provenance("undecided", broker.location, "the broker's middleware")
            self._resolved = (combine([], prov), f"undecided (the broker is `{broker.expression}`)")
            return self._resolved
        if broker.unknown is not None:
            self.log.add("middleware", broker.unknown)
            prov = Provenance("undecided", broker.unknown.location, "the broker's middleware")
            failure = f"undecided (the middleware `{broker.unknown.expression}` may lack Retries)"
            self._resolved = (combine([], prov), failure)
            return self._resolved
        retries = broker.retries
        if not retries:
            prov = Provenance("config", broker.location, f"no Retries middleware on {broker.label}")
            self.hint_trigger = (
                f"its broker ({broker.label}) has no Retries middleware, so a failed message "
                "is marked done"
            )
            self.hint_fix = "Add Retries to the broker's middleware, or remove the retry options."
            self._set_inert()
            self._resolved = (never_retries(prov), "nowhere")
            return self._resolved
        throws = self.pick_or("throws", None)
        broad, manual_blocked = self._throws(throws)
        if broad is not None:
            self.hint_trigger = f"throws={broad.text} fails every exception at once"
            self.hint_fix = "Narrow throws= to the errors that must not be retried."
            self._set_inert()
            self._resolved = (never_retries(broad.provenance), self._final_failure(broker))
            return self._resolved
        paths: list[_Path] = []
        for middleware in retries:
            paths.extend(self._paths(middleware, manual_blocked, located=len(retries) > 1))
        fields = self._bounded_by_age(paths, broker)
        self._resolved = (fields, self._final_failure(broker))
        return self._resolved

    def _set_inert(self) -> None:
        options = self.message if self.actor is None else {**self.actor.options, **self.message}
        self.inert = tuple(
            (name, option.location)
            for name, option in sorted(options.items())
            if name in RETRY_OPTIONS and name != "throws" and option.location is not None
        )

    def _throws(self, throws: Option | None) -> tuple[Option | None, bool]:
        """A `throws` that covers every exception, and whether it stops `raise Retry`."""
        if throws is None or throws.expr is None or throws.module is None:
            return None, False
        if isinstance(throws.value, Known) and throws.value.value is None:
            return None, False
        names, unknown = exception_names(self.a.ctx, throws.expr, throws.module)
        if unknown is not None:
            self.log.add("throws", unknown)
        qualified = {q for q, _ in names}
        if qualified & BROAD_EXCEPTIONS:
            return throws, True
        return None, bool(qualified & (_RETRY_EXC | _RETRY_EXC_BASES))

    def _count(self, middleware: _Middleware) -> tuple[Count, Provenance]:
        own = self.actor_option("retry_when")
        if isinstance(own, Unknown):
            # The actor of this enqueue site is not known (quoted once, as its name), so
            # neither is its retry_when.
            return UNDECIDED, Provenance("undecided", own.location, "the actor is not known")
        retry_when = own or self.middleware_option(middleware, "retry_when")
        if retry_when is not None and not (
            isinstance(retry_when.value, Known) and retry_when.value.value is None
        ):
            self._hidden_max_retries(retry_when, middleware)
            written: Source = "explicit" if own is not None else "config"
            if retry_when.note.startswith("Meta of"):
                written = "inherited"
            return self._predicate(retry_when, written)
        default_note = f"Dramatiq's default max_retries={DEFAULT_MAX_RETRIES}"
        if middleware.where is not None:
            default_note += f" ({middleware.note})"
        option = self.pick("max_retries", self.middleware_option(middleware, "max_retries"), None)
        if option.source == "default":
            return DEFAULT_MAX_RETRIES, Provenance("default", None, default_note)
        value = option.value
        if isinstance(value, Known) and value.value is None:
            return UNBOUNDED, Provenance(option.source, option.location, "max_retries=None")
        amount = number(value)
        if amount is None:
            return UNDECIDED, self._undecided("max_retries", option)
        # The middleware fails the message once `retries >= max_retries`.
        return max(0, math.ceil(amount)), option.provenance

    def _predicate(self, option: Option, written: Source) -> tuple[Count, Provenance]:
        """What a `retry_when` allows: it replaces the max_retries test entirely."""
        expr = option.expr
        module = option.module
        if expr is not None and module is not None:
            expr, module = self.evaluator.deref(expr, module)
        note = f"retry_when={option.text}"
        if isinstance(expr, ir.Ref) and module is not None:
            found = self.a.project.resolve(module, expr.dotted)
            if found is not None and found.function is not None and found.module is not None:
                limit, why = _def_limit(found.function)
                at = location_of(found.module, found.function.span)
                note += f" (def {found.function.name} at {at.path}:{at.line})"
                if limit is None:
                    return UNDECIDED, self._undecided("retry_when", option, f"{note}: {why}")
                return self._limited(limit, option, written, note)
        limit = _predicate_limit(expr.text) if expr is not None else None
        if limit is None:
            return UNDECIDED, self._undecided("retry_when", option)
        return self._limited(limit, option, written, note)

    def _limited(
        self, limit: float, option: Option, written: Source, note: str
    ) -> tuple[Count, Provenance]:
        # A lambda or a def evaluates to nothing, but its text was read: the value is as
        # written.
        source = written if isinstance(option.value, Unknown) else option.source
        if limit == math.inf:
            return UNBOUNDED, Provenance(source, option.location, note + " never says no")
        return int(limit), Provenance(source, option.location, note)

    def _hidden_max_retries(self, retry_when: Option, middleware: _Middleware) -> None:
        """RL503: max_retries written next to a retry_when that replaces it."""
        written = [self.message.get("max_retries")]
        own = self.actor_option("max_retries")
        if isinstance(own, Option):
            written.append(own)
        for option in written:
            if option is None or option.location is None:
                continue
            self._observe(
                "ignored-retry-option",
                option.location,
                f"{self.subject} sets max_retries={option.text}, but retry_when="
                f"{retry_when.text} replaces the max_retries test entirely: only the predicate "
                "decides when retries stop",
                "Put the limit into the retry_when predicate (it receives the retry count), "
                "or drop max_retries.",
            )

    def _backoff(
        self, middleware: _Middleware
    ) -> tuple[DelayFn | None, DelayFn | None, float | None, Provenance]:
        """Upper-bound and shortest waits (seconds) of Dramatiq's backoff, with the cap."""
        low = self._backoff_option(middleware, "min_backoff", DEFAULT_MIN_BACKOFF)
        high = self._backoff_option(middleware, "max_backoff", DEFAULT_MAX_BACKOFF)
        factor, ceiling = number(low.value), number(high.value)
        if factor is None:
            return None, None, None, self._undecided("min_backoff", low)
        if ceiling is None:
            return None, None, None, self._undecided("max_backoff", high)
        cap = min(float(ceiling), DEFAULT_MAX_BACKOFF)
        f = float(factor)
        if self.a.two_x:
            # 2.x: f * 2**n * U(1, 2); above the cap, cap * U(0.5, 1).
            def upper(r: int) -> float:
                return 2 * f * 2.0 ** min(r, _MAX_EXPONENT) / 1000

            def shortest(r: int) -> float:
                return min(f * 2.0 ** min(r, _MAX_EXPONENT), cap / 2) / 1000
        else:
            # 1.x: b = min(f * 2**n, cap), then U(b/2, b).
            def upper(r: int) -> float:
                return f * 2.0 ** min(r, _MAX_EXPONENT) / 1000

            def shortest(r: int) -> float:
                return min(f * 2.0 ** min(r, _MAX_EXPONENT), cap) / 2000

        return upper, shortest, cap / 1000, low.provenance

    def _backoff_option(self, middleware: _Middleware, name: str, default: int) -> Option:
        configured = self.middleware_option(middleware, name)
        if (
            configured is not None
            and isinstance(configured.value, Known)
            and not configured.value.value
        ):
            configured = None  # `min_backoff or DEFAULT_MIN_BACKOFF` in Retries.__init__
        return self.pick(name, configured, default)

    def _paths(self, middleware: _Middleware, manual_blocked: bool, located: bool) -> list[_Path]:
        """The automatic path of one Retries middleware, and a manual path per `raise Retry`.

        The automatic path starts at the actor, or, when the broker has several Retries
        middlewares (each retries on its own), at the middleware's constructor call.
        """
        count, count_prov = self._count(middleware)
        jitter_prov = Provenance("default", None, "Dramatiq always jitters its backoff")
        start: Location | None = None
        if located and middleware.where is not None:
            start = location_of(middleware.where.module, middleware.where.expr.span)
        if count == 0:
            # No retry ever waits, so the backoff options do not matter (nor get quoted).
            path = RetryPath(
                "automatic", 0, count_prov, None, count_prov, True, jitter_prov, location=start
            )
            return [_Path(path, None)]
        upper, shortest, cap, delay_prov = self._backoff(middleware)
        paths = [
            _Path(
                RetryPath(
                    "automatic",
                    count,
                    count_prov,
                    upper,
                    delay_prov,
                    True,
                    jitter_prov,
                    cap,
                    location=start,
                ),
                shortest,
            )
        ]
        if manual_blocked:
            return paths
        for fn, module, raised in self._retry_raises():
            here = location_of(module, raised.span)  # each raise starts a path of its own
            delay_expr = raised.kwarg("delay") if isinstance(raised, ir.Call) else None
            if isinstance(raised, ir.Call) and delay_expr is None and len(raised.args) > 1:
                delay_expr = raised.args[1]
            if delay_expr is None or (
                isinstance(delay_expr, ir.Const) and delay_expr.value is None
            ):
                paths.append(
                    _Path(
                        RetryPath(
                            "manual",
                            count,
                            count_prov,
                            upper,
                            delay_prov,
                            True,
                            jitter_prov,
                            cap,
                            location=here,
                        ),
                        shortest,
                    )
                )
                continue
            scope = _scope(fn, module)
            value = self.evaluator.eval(delay_expr, module, scope)
            location = location_of(module, delay_expr.span)
            option = Option(
                "delay", value, delay_expr, location, source_of(value, "explicit"), module=module
            )
            slip = _slip(option, self.name, "definition", self.anchors)
            if slip is not None and self.site is None:
                self.observations.extend(self.a.emit(slip))
            jitter = mentions_random(delay_expr) or any(
                mentions_random(b.value)
                for b in fn.locals
                if b.target in set(ir.ref_heads(delay_expr))
            )
            no_jitter = Provenance(
                "explicit", location, "Retry(delay=...) is used as given, without jitter"
            )
            amount = number(value)
            if isinstance(value, Formula):
                seconds_fn = _scaled(value.fn, 0.001)
                paths.append(
                    _Path(
                        RetryPath(
                            "manual",
                            count,
                            count_prov,
                            seconds_fn,
                            option.provenance,
                            jitter,
                            no_jitter,
                            location=here,
                        ),
                        constant_delay(0.0) if jitter else seconds_fn,
                    )
                )
            elif amount is None:
                prov = self._undecided("delay", option)
                paths.append(
                    _Path(
                        RetryPath(
                            "manual",
                            count,
                            count_prov,
                            None,
                            prov,
                            jitter,
                            no_jitter,
                            location=here,
                        ),
                        None,
                    )
                )
            else:
                seconds = float(amount) / 1000
                paths.append(
                    _Path(
                        RetryPath(
                            "manual",
                            count,
                            count_prov,
                            constant_delay(seconds),
                            option.provenance,
                            jitter,
                            no_jitter,
                            location=here,
                        ),
                        constant_delay(0.0 if jitter else seconds),
                    )
                )
        return paths

    def _retry_raises(self) -> Iterator[tuple[ir.Function, ir.ModuleSummary, ir.Expr]]:
        """`raise Retry(...)` / `raise dramatiq.Retry` in the actor's code."""
        if self.actor is None:
            return
        for fn, module in self.actor.bodies:
            for raised in fn.raises:
                exc = raised.exc
                func = exc.func if isinstance(exc, ir.Call) else exc
                if not isinstance(func, ir.Ref):
                    continue
                target = self.a.project.resolve(module, func.dotted)
                if target is not None and target.qualified in _RETRY_EXC:
                    yield fn, module, exc

    def _bounded_by_age(self, paths: list[_Path], broker: _Broker) -> Fields:
        """`max_age` bounds the window: the count is what fits in it at the shortest waits."""
        limits = [m for m in broker.stack if m.kind == "age_limit"]
        if not limits:
            option = self.pick_or("max_age", None)
            if option is not None and option.location is not None and option.source != "undecided":
                self._observe(
                    "ignored-retry-option",
                    option.location,
                    f"{self.subject} sets max_age={option.text}, but its broker has no AgeLimit "
                    "middleware, so nothing reads it",
                    "Add AgeLimit to the broker's middleware, or drop max_age.",
                )
            return combine([p.path for p in paths])
        # Every AgeLimit instance checks the message; the smallest limit drops it first.
        chosen: tuple[float, Option] | None = None
        for age_limit in limits:
            configured: Option | None = None
            if age_limit.where is not None:
                call = age_limit.where.expr
                assert isinstance(call, ir.Call)
                expr = call.kwarg("max_age")
                if expr is not None:
                    where = Where(expr, age_limit.where.module, age_limit.where.fn)
                    configured = self.a.option_at("max_age", where, "config", "AgeLimit middleware")
            option = self.pick_or("max_age", configured)
            if option is None or (isinstance(option.value, Known) and not option.value.value):
                continue
            age = number(option.value)
            if age is None:
                self._undecided("max_age", option)
            elif age > 0 and (chosen is None or age < chosen[0]):
                chosen = (float(age), option)
        if chosen is None:
            return combine([p.path for p in paths])
        age, option = chosen
        window = float(age) / 1000
        shortest = [p.shortest for p in paths]
        implied: Count = UNDECIDED
        if all(s is not None for s in shortest):
            implied = _implied_count([s for s in shortest if s is not None], window)
        note = f"max_age={option.text} ms ends retries once the message is that old"
        bounded: list[RetryPath] = []
        for p in paths:
            count, prov = p.path.count, p.path.count_source
            if isinstance(implied, int) and (
                count == UNBOUNDED or (isinstance(count, int) and count > implied)
            ):
                count, prov = implied, Provenance(option.source, option.location, note)
            elif implied == UNDECIDED and count == UNBOUNDED:
                count, prov = UNDECIDED, Provenance("undecided", option.location, note)
            bounded.append(replace(p.path, count=count, count_source=prov))
        return within(combine(bounded), window, Provenance(option.source, option.location, note))

    def _final_failure(self, broker: _Broker) -> str:
        queue_option = self.actor_option("queue_name")
        queue = "default"
        if isinstance(queue_option, Unknown):
            queue = "<queue>"
        elif queue_option is not None:
            value = queue_option.value
            queue = (
                value.value
                if isinstance(value, Known) and isinstance(value.value, str)
                else "<queue>"
            )
        if broker.kind in ("redis", "rabbitmq"):
            ttl = (
                broker.dead_ttl_ms
                if broker.kind == "redis" and broker.dead_ttl_ms
                else DEFAULT_DEAD_MESSAGE_TTL
            )
            text = f"dead-letter queue {queue}.XQ (kept {format_duration(ttl / 1000)})"
        elif broker.kind == "stub":
            text = "StubBroker.dead_letters"
        else:
            text = f"failed on {broker.label.partition(' at ')[0]} (its own dead-letter handling)"
        exhausted = self.pick_or("on_retry_exhausted", None)
        if exhausted is not None and exhausted.source != "undecided":
            value = exhausted.value
            target = (
                value.value
                if isinstance(value, Known) and isinstance(value.value, str)
                else exhausted.text
            )
            text += f"; on_retry_exhausted sends it to actor `{target}`"
        return text

    # -- checks --------------------------------------------------------------------------

    def _check_units(self) -> None:
        site: Site = self.site_kind
        options: list[Option] = []
        if self.site is None and self.actor is not None:
            options.extend(self.actor.options.values())
        options.extend(self.message.values())
        for option in options:
            slip = _slip(option, self.name, site, self.anchors)
            if slip is not None:
                self.observations.extend(self.a.emit(slip))
            if (
                option.name == "max_backoff"
                and option.location is not None
                and (number(option.value) or 0) > DEFAULT_MAX_BACKOFF
            ):
                self._observe(
                    "ignored-retry-option",
                    option.location,
                    f"{self.subject} sets max_backoff={option.text}, above Dramatiq's ceiling of "
                    f"7 days: the Retries middleware clamps it to {DEFAULT_MAX_BACKOFF} ms",
                    f"Use max_backoff={DEFAULT_MAX_BACKOFF} (7 days) or less.",
                )
        if "retry_when" in self.message:
            option = self.message["retry_when"]
            if option.location is not None:
                self._observe(
                    "ignored-retry-option",
                    option.location,
                    f"{self.subject} is sent with retry_when={option.text}, but Dramatiq reads "
                    "retry_when only from the actor and the Retries middleware: this one is "
                    "ignored",
                    "Set retry_when on the actor, or use max_retries= on the message.",
                )

    def _observe(self, kind: str, location: Location, message: str, fix: str) -> None:
        self.observations.extend(
            self.a.emit(
                _observation(kind, location, message, fix, self.name, self.site_kind, self.anchors)
            )
        )

    def _undecided(self, field_name: str, option: Option, why: str = "") -> Provenance:
        value = option.value
        if option.expr is None and isinstance(value, Unknown):
            # The unknown actor of an enqueue site, already quoted as the row's name.
            return Provenance("undecided", value.location, "the actor is not known")
        unknown = (
            value
            if isinstance(value, Unknown)
            else Unknown(option.text, option.location or self.location)
        )
        self.log.add(field_name, unknown)
        return Provenance("undecided", unknown.location, why)

    # -- the row -------------------------------------------------------------------------

    def build(self) -> EffectivePolicy:
        fields, final_failure = self.resolve()
        return policy_row(
            name=self.name,
            name_expression=self.name_expression,
            framework=KEY,
            site=self.site_kind,
            location=self.location,
            fields=fields,
            final_failure=final_failure,
            log=self.log,
            version=self.a.version,
            anchors=self.anchors,
            hints=(
                *_HINTS,
                ("trigger", self.hint_trigger),
                ("trigger_fix", self.hint_fix),
            ),
            inert=self.inert if fields.retry_trigger == "none" else (),
            via=self.via,
        )


# Framework-aware advice the neutral rules quote (CONTRACTS §6: RL201/RL202 say what to do).
_HINTS: tuple[tuple[str, str], ...] = (
    (
        "max_retries",
        "Set max_retries to a number on the actor or on Retries(max_retries=...) (None means "
        "forever), make a retry_when predicate return False after some retries, or bound the "
        "window with max_age (AgeLimit).",
    ),
    (
        "backoff",
        "Let Dramatiq back off: its Retries middleware doubles from min_backoff (milliseconds) up "
        "to max_backoff; raise Retry() without delay=, or pass a growing delay.",
    ),
    (
        "jitter",
        "Dramatiq jitters its own backoff, but a Retry(delay=...) is used as given: raise Retry() "
        "without delay=, or add random.uniform() to the delay yourself.",
    ),
    (
        "dead_letter",
        "Keep the Retries middleware and a Redis or RabbitMQ broker (failed messages go to "
        "<queue>.XQ), or set on_retry_exhausted to an actor that stores them.",
    ),
    (
        "window",
        "Raise max_retries, or min_backoff and max_backoff (milliseconds; max_backoff is 7 "
        "days by default).",
    ),
)


# -- helpers ---------------------------------------------------------------------------------


def _is_partial(expr: ir.Expr) -> bool:
    return (
        isinstance(expr, ir.Call)
        and isinstance(expr.func, ir.Ref)
        and expr.func.dotted.rpartition(".")[2] == "partial"
    )


def _ref(dotted: str, near: ir.Expr) -> ir.Ref:
    return ir.Ref(dotted, dotted, near.span)


def _local(fn: ir.Function, name: str) -> ir.Binding | None:
    for binding in reversed(fn.locals):
        if binding.target == name:
            return binding
    return None


def _local_identity(module: ir.ModuleSummary, fn: ir.Function, name: str) -> str:
    return _key(module, f"{fn.qualname}.<locals>.{name}")


def _key(module: ir.ModuleSummary, name: str) -> str:
    """A broker's identity: the file and the name it is bound to there (two services of a
    monorepo may each bind `app.broker.broker`)."""
    return f"{module.path}:{name}"


def _scope(fn: ir.Function | None, module: ir.ModuleSummary) -> dict[str, ir.Expr | Value] | None:
    """Names local to a function: its bindings, and its parameters as unknowns."""
    if fn is None:
        return None
    scope: dict[str, ir.Expr | Value] = {
        p: Unknown(p, location_of(module, fn.name_span)) for p in fn.params
    }
    scope.update({b.target: b.value for b in fn.locals})
    return scope


def _opaque_stack(expr: ir.Expr) -> Literal["default", "unknown", "other"]:
    """Reads a middleware expression retrylint cannot evaluate, by what it names.

    `[m() for m in default_middleware if m is not Prometheus]` keeps the default Retries unless
    it names Retries; anything else naming Retries or AgeLimit cannot be decided.
    """
    text = expr.text
    names_retries = "Retries" in text or "AgeLimit" in text
    if "default_middleware" in text and not names_retries:
        return "default"
    if (
        names_retries
        or "default_middleware" in text
        or not isinstance(expr, ir.Opaque | ir.Call | ir.Ref)
    ):
        return "unknown"
    return "other"


def _signature(broker: _Broker) -> tuple[object, ...]:
    return (
        broker.kind,
        tuple((m.kind, m.where.expr.text if m.where is not None else None) for m in broker.stack),
        broker.unknown is None,
    )


def _instance_name(
    named: Value | None, instance: str, cls_name: str, at: Location
) -> tuple[str | None, tuple[str, Unknown] | None]:
    """A decided `__name__`, or the name expression of a row whose name stays undecided and
    what to quote (the instance, written at `at`, unless a value was not decided)."""
    if isinstance(named, Known) and isinstance(named.value, str):
        return named.value, None
    expression = f"{instance}.__name__"
    if named is None:
        expression += f" ({cls_name} defines no __name__: AttributeError at import)"
    return None, (expression, named if isinstance(named, Unknown) else Unknown(instance, at))


def _default_option(name: str, default: object) -> Option:
    note = f"Dramatiq's default {name}={default!r}"
    if isinstance(default, int) and name in ("min_backoff", "max_backoff"):
        note = f"Dramatiq's default {name}={default} ms ({format_duration(default / 1000)})"
    return Option(name, Known(default), None, None, "default", note)


def _observation(
    kind: str,
    location: Location,
    message: str,
    fix: str,
    task: str | None,
    site: Site | None,
    anchors: tuple[int, ...],
) -> Observation:
    return Observation(kind, location, message, fix, KEY, task, site, anchors)


def _slip(
    option: Option, task: str | None, site: Site | None, anchors: tuple[int, ...] | None
) -> Observation | None:
    """RL204: a millisecond value that only makes sense read as seconds."""
    threshold = _SLIP_THRESHOLDS.get(option.name)
    amount = number(option.value)
    if threshold is None or amount is None or option.location is None:
        return None
    if not 0 < amount < threshold:
        return None
    shown = "Retry(delay=...)" if option.name == "delay" else option.name
    meant = f"{amount * 1000:g}"
    effect = {
        "min_backoff": f"the first retry comes about {amount:g} ms after the failure",
        "delay": f"the retry comes {amount:g} ms after the failure",
        "max_backoff": f"no retry waits longer than {amount:g} ms",
        "max_age": f"messages older than {amount:g} ms are dropped, retries included",
    }[option.name]
    return _observation(
        "delay-unit-slip",
        option.location,
        f"{shown} `{option.text}` is {amount:g} milliseconds: Dramatiq reads it in ms, so "
        f"{effect}; a value this small only makes sense as seconds",
        f"Write {option.name}={meant} if you meant {amount:g} seconds.",
        task,
        site,
        anchors or (),
    )


def _predicate_limit(text: str) -> float | None:
    """How many retries a `retry_when` lambda allows: a count, `inf`, or None (cannot tell)."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError):
        return None
    node = tree.body
    if not isinstance(node, ast.Lambda):
        return None
    params = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
    if not params:
        if isinstance(node.body, ast.Constant):
            return math.inf if node.body.value else 0
        return None
    return _limit(node.body, params[0])


def _def_limit(fn: ir.Function) -> tuple[float | None, str]:
    """How many retries a `retry_when` written as a `def` allows, as for a lambda, or None
    and why not. Only a body that is one `return` of a test is read: anything else can
    decide through control flow the summary does not keep."""
    if not fn.params:
        return None, "it takes no positional parameter for the retry count"
    if not fn.sole_return:
        return None, "its body is more than one `return` statement"
    if len(fn.returns) != 1:
        return None, "its `return` is not a comparison, `isinstance` test, `not` or `and`/`or`"
    text = fn.returns[0].text
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError):
        return None, f"`return {text}` cannot be read"
    limit = _limit(node, fn.params[0])
    if limit is None:
        return None, (
            f"`return {text}` does not compare the retry count `{fn.params[0]}` with a constant"
        )
    return limit, ""


def _limit(node: ast.expr, counter: str) -> float | None:
    """Retries a predicate body allows: Dramatiq calls it with the retries done before this
    failure (0 on the first, `middleware/retries.py`) and fails the message the first time it
    says no, so the count is the first value of the counter for which it can be false. Every
    form read here is true on a prefix 0..k-1 of counter values, so `and` takes the least and
    `or` the greatest; a test of the exception alone (`isinstance(exc, ...)`) may say yes for
    ever."""
    if not any(isinstance(n, ast.Name) and n.id == counter for n in ast.walk(node)):
        if isinstance(node, ast.Constant):
            return math.inf if node.value else 0
        return math.inf
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        left, op, right = node.left, node.ops[0], node.comparators[0]
        if isinstance(right, ast.Name) and right.id == counter:
            mirror: dict[type[ast.cmpop], type[ast.cmpop]] = {
                ast.Gt: ast.Lt,
                ast.GtE: ast.LtE,
                ast.Lt: ast.Gt,
                ast.LtE: ast.GtE,
                ast.Eq: ast.Eq,
                ast.NotEq: ast.NotEq,
            }
            if type(op) not in mirror:
                return None
            left, op, right = right, mirror[type(op)](), left
        bound = _int_constant(right)
        if not (isinstance(left, ast.Name) and left.id == counter) or bound is None:
            return None
        if isinstance(op, ast.Lt):
            return max(0, bound)
        if isinstance(op, ast.LtE):
            return max(0, bound + 1)
        # Already false at 0 unless the bound lies below it.
        if isinstance(op, ast.Gt):
            return math.inf if bound < 0 else 0
        if isinstance(op, ast.GtE):
            return math.inf if bound <= 0 else 0
        if isinstance(op, ast.NotEq):
            return math.inf if bound < 0 else bound
        if isinstance(op, ast.Eq):
            return 1 if bound == 0 else 0
        return None
    if isinstance(node, ast.BoolOp):
        limits = [_limit(value, counter) for value in node.values]
        if isinstance(node.op, ast.And):
            finite = [lim for lim in limits if lim is not None and lim != math.inf]
            if finite:
                return min(finite)
            return None if None in limits else math.inf
        if None in limits:
            return None
        return max(lim for lim in limits if lim is not None)
    return None


def _int_constant(node: ast.expr) -> int | None:
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int)
        and not isinstance(node.value, bool)
    ):
        return node.value
    return None


def _implied_count(shortest: list[DelayFn], window: float) -> Count:
    """Retries that can start before the message is `window` seconds old."""
    total = 0.0
    for r in range(100_000):
        total += min(fn(r) for fn in shortest)
        if total >= window:
            return r
    return UNBOUNDED


def _scaled(fn: DelayFn, factor: float) -> DelayFn:
    return lambda r: fn(r) * factor
