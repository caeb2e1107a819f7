"""Celery (written against 5.7.0; the retry semantics below hold from 5.3).

Recognised task forms: `@<app>.task` on any `Celery(...)` instance, found by what the receiver
is (also through imports and factory functions returning an app), `@shared_task` under any
alias, `partial(app.task, ...)` and module-level decorator aliases
(`retrying = shared_task(max_retries=3)`), wrapper functions named in
`[frameworks.celery] task-decorators`, and `Task` subclasses that define `run`. Options come
from decorator keywords (also `**CONSTANT` splats), `base=` classes, `Celery(task_cls=...)`,
and `task_annotations` set on the app, through `conf.update`, a config module, or Django settings
(celery_settings.py reads every app setting the same way). `task_acks_late`,
`task_reject_on_worker_lost` and `task_acks_on_failure_or_timeout` fill the task attributes the
task leaves None (app/task.py `Task.bind`, before annotations); when both halves of the
lost-worker loop come from the settings, RL106 is reported once there; every row with both on
records them as `worker_loss` (RL302). `task_publish_retry_policy`
with `max_retries: None` is RL107 at the setting (app/amqp.py merges a call's `retry_policy` over
it) unless `task_publish_retry` is off.

Precedence, from Celery's source and verified by running it (reference §1g and §14):
- class attributes (`max_retries`, `default_retry_delay`): annotations > decorator keywords >
  the task's own class body > `base=` classes > `task_cls` > `Task` defaults; within
  annotations the `'*'` entry is applied after the task's own entry, so it wins;
- autoretry options are captured once by the wrapper from the decorator first, then from the
  class (which an annotation may have set); class-based tasks are wired before annotations
  apply, so for them annotations never switch autoretry on;
- `self.retry(max_retries=None)` falls back to the class value: only a class-level `None`
  is unbounded.

Names (app/base.py `_task_from_fun`, `register_task`; utils/imports.py `gen_task_name`): a truthy
`name=` (or a class-based task's own or inherited `name`), else `app.gen_task_name(__name__,
__module__)`. Celery's own gives `module.function`, and `main.function` for a task of `__main__`
(`pkg/__main__.py` run with `python -m`). An app class overriding `gen_task_name` is followed
when every `return` gives the same string from `name`, `module`, constants and locals bound
once (`super().gen_task_name(...)` goes on up the classes); a shared task, or a class-based task
registered nowhere retrylint sees, is named by every app of the project, and apps that disagree
leave the name undecided.

Not recognised (reported as undecided where it matters): annotation objects with an
`annotate()` method, attributes set on a task after definition, and tasks registered under a
name computed at run time.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

from retrylint.frameworks import celery_broker, celery_settings
from retrylint.frameworks.base import (
    BROAD_EXCEPTIONS,
    MAX_CHAIN,
    AdapterContext,
    Option,
    UndecidedLog,
    Where,
    dict_items,
    draws_random,
    exception_names,
    memoized,
    policy_row,
    source_of,
    subclass_of,
)
from retrylint.frameworks.recognize import Expansion, MakerRules, Options, Recognizer
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
    Source,
    TriggerSite,
    WorkerLoss,
)
from retrylint.python import ir
from retrylint.python.evaluate import (
    Formula,
    Known,
    Sym,
    Unknown,
    Value,
    location_of,
    number,
)
from retrylint.python.project import Resolved, base_of
from retrylint.resolve.schedule import (
    DelayFn,
    RetryPath,
    combine,
    constant_delay,
    never_retries,
)
from retrylint.scan.versions import at_least

KEY = "celery"
# The version the facts below were read from (reference §0), assumed when none is detected.
REFERENCE_VERSION = "5.7.0"

# Celery's own defaults (celery/app/task.py Task class attributes, app/autoretry.py getattr
# defaults).
DEFAULTS: dict[str, object] = {
    "acks_late": False,  # Task.acks_late (task_acks_late fills it from config)
    "reject_on_worker_lost": None,  # Task.reject_on_worker_lost
    "acks_on_failure_or_timeout": True,  # Task.acks_on_failure_or_timeout
    "retry_on_worker_lost": False,  # Task.retry_on_worker_lost (5.7 only)
    "max_retries": 3,  # Task.max_retries
    "default_retry_delay": 180,  # Task.default_retry_delay, seconds
    "autoretry_for": (),
    "dont_autoretry_for": (),
    "retry_kwargs": {},
    "retry_backoff": False,  # autoretry.py: getattr(task, 'retry_backoff', False)
    "retry_backoff_max": 600,  # autoretry.py: getattr(task, 'retry_backoff_max', 600)
    "retry_jitter": True,  # autoretry.py: getattr(task, 'retry_jitter', True)
}
AUTORETRY_OPTIONS = frozenset(
    {
        "autoretry_for",
        "dont_autoretry_for",
        "retry_kwargs",
        "retry_backoff",
        "retry_backoff_max",
        "retry_jitter",
    }
)
RETRY_OPTIONS = frozenset({*AUTORETRY_OPTIONS, "max_retries", "default_retry_delay"})

_APP_CLASSES = frozenset({"celery.Celery", "celery.app.Celery", "celery.app.base.Celery"})
_TASK_CLASSES = frozenset({"celery.Task", "celery.app.task.Task", "celery.task.Task"})
_SHARED = frozenset(
    {"celery.shared_task", "celery.app.shared_task", "celery.task", "celery.decorators.task"}
)
_CURRENT_APP = frozenset({"celery.current_app", "celery._state.current_app"})
_CURRENT_TASK = frozenset({"celery.current_task", "celery._state.current_task"})
# Task attributes Celery fills from app settings when the task leaves them None (app/task.py
# `Task.from_config`, applied in `bind` before annotations).
_FROM_CONFIG = {
    "acks_late": "task_acks_late",
    "reject_on_worker_lost": "task_reject_on_worker_lost",
    "acks_on_failure_or_timeout": "task_acks_on_failure_or_timeout",
}
# Task attributes besides the retry options that change how failures come back.
# Options that exist only in Celery 5.7 (reference §14): older versions ignore them.
_CELERY_57_OPTIONS = frozenset({"retry_on_worker_lost", "acks_on_failure", "acks_on_timeout"})
_OTHER_OPTIONS = frozenset(
    {"name", "bind", "abstract", "acks_late", "reject_on_worker_lost", "acks_on_failure_or_timeout"}
    | _CELERY_57_OPTIONS
)


_Factory = tuple[ir.Function, ir.ModuleSummary, str]  # function, its module, local app name


@dataclass(frozen=True, slots=True)
class _Creation:
    call: ir.Call  # the `Celery(...)` call itself
    module: ir.ModuleSummary
    factory: _Factory | None


@dataclass
class _App:
    identity: str
    module: ir.ModuleSummary | None
    call: ir.Call | None
    config_modules: list[tuple[str, str]] = field(default_factory=list)  # (module, namespace)
    factories: list[_Factory] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Decorator:
    app: str | None  # identity of the app, None for shared tasks
    options: Options = field(default_factory=Options)
    # A wrapper (function or class) whose own code may retry for the task.
    wrapper: Resolved | None = None


class CeleryAdapter:
    key = KEY
    info = FrameworkInfo(
        "Celery",
        "celery",
        in_process=False,
        capabilities=Capabilities(
            count="setting", backoff="setting", jitter="setting", dead_letter="code"
        ),
    )
    packages: tuple[str, ...] = ("celery",)
    # A task file names a task maker (`.task`, `shared_task`), a Task class, or app config.
    # Aliases and project base classes defined elsewhere come from `project_markers`.
    markers = re.compile(
        rb"\.task\b|shared_task|Task\b|Celery\b|task_annotations|TASK_ANNOTATIONS|"
        rb"CELERY_ANNOTATIONS|config_from_object|task_failure|"
        # App settings reported where they are written (RL106, RL107).
        rb"reject_on_worker_lost|REJECT_ON_WORKER_LOST|publish_retry_policy|PUBLISH_RETRY_POLICY"
    )
    interest = ir.Interest(
        calls=frozenset(
            {
                "Celery",
                "retry",
                "delay",
                "apply_async",
                "send_task",
                "s",
                "si",
                "signature",
                "register_task",
                "register",
                "update",
                "config_from_object",
                "setdefault",
            }
        ),
        attributes=RETRY_OPTIONS | _OTHER_OPTIONS | celery_settings.ATTRIBUTES,
        # An app class's own task naming (`class MyCelery(Celery): def gen_task_name`).
        returns=frozenset({"gen_task_name"}),
    )

    def analyze(self, ctx: AdapterContext) -> Iterable[EffectivePolicy | Observation]:
        return _Analysis(ctx).rows()

    def project_markers(self, ctx: AdapterContext) -> frozenset[str]:
        a = _Analysis(ctx)
        return a.recognizer.markers(
            ctx.scanned,
            lambda b, m: (
                a.decorator(b.value, m) is not None or a.factory(b.value, m, 0) is not None
            ),
            # Base task classes are named after what they are (`RetryingTask`); checking only
            # those keeps every model and view base class from being resolved here.
            lambda c, m: any("Task" in base.text for base in c.bases) and a.is_task_class(c, m),
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
        self.rules: MakerRules[_Decorator] = MakerRules(
            leaf=self._task_maker, merge=_merge, extend=self._extend
        )
        self.apps: dict[str, _App] = {}
        self._homes: dict[str, list[str]] = {}  # qualified name → the files binding it
        self._app_cache: dict[tuple[str, str], str | None] = {}
        self._task_class_cache: dict[str, bool | None] = {}
        self._failure_handlers: list[tuple[Location, str | None]] | None = None
        self._namers: dict[tuple[str, int, int], _Namer] = {}
        self._every_app: list[_Namer] | None = None
        self._overridden: bool | None = None
        self._brokers: dict[str, celery_settings.AppSettings] | None = None
        # Findings about app settings, reported once however many tasks they reach.
        self.reported: set[tuple[str, Location]] = set()

    # -- recognising apps ----------------------------------------------------------------

    def app_of(self, dotted: str, summary: ir.ModuleSummary, depth: int = 0) -> str | None:
        """The identity of the Celery app a name refers to, or None."""
        return memoized(
            self._app_cache,
            (summary.path, dotted),
            lambda: self._find_app(dotted, summary, depth),
        )

    def _find_app(self, dotted: str, summary: ir.ModuleSummary, depth: int) -> str | None:
        found = self.project.resolve(summary, dotted)
        if found is None or depth > MAX_CHAIN:
            return None
        if found.kind == "external":
            if found.qualified in _CURRENT_APP:
                return self._register_app(found.qualified, None, None)
            return None
        if found.kind != "binding" or found.binding is None or found.module is None:
            return None
        value, module = self.evaluator.deref(found.binding.value, found.module)
        if isinstance(value, ir.Ref):
            return self.app_of(value.dotted, module, depth + 1)
        if not isinstance(value, ir.Call):
            return None
        created = self._creates_app(value, module, depth)
        if created is None:
            return None
        identity = self._register_app(
            self._distinct(found.qualified, found.module), created.module, created.call
        )
        if created.factory is not None:
            self.apps[identity].factories.append(created.factory)
        return identity

    def _creates_app(self, call: ir.Call, module: ir.ModuleSummary, depth: int) -> _Creation | None:
        """How a call makes a Celery app: directly, through a subclass, or from a factory."""
        if not isinstance(call.func, ir.Ref) or depth > MAX_CHAIN:
            return None
        target = self.project.resolve(module, call.func.dotted)
        if target is None:
            return None
        if target.qualified in _APP_CLASSES:
            return _Creation(call, module, None)
        if target.kind == "class" and target.cls is not None and target.module is not None:
            cmod = target.module
            if any(self._is_app_class(base, cmod, depth + 1) for base in target.cls.bases):
                return _Creation(call, module, None)
            return None
        if target.kind == "function" and target.function is not None and target.module is not None:
            # A factory: `def create_app(): app = Celery(...); app.conf.update(...); return app`.
            fn, fmod = target.function, target.module
            local = {b.target: b.value for b in fn.locals}
            for ret in fn.returns:
                expr = local.get(ret.dotted, ret) if isinstance(ret, ir.Ref) else ret
                if not isinstance(expr, ir.Call):
                    continue
                inner = self._creates_app(expr, fmod, depth + 1)
                if inner is not None:
                    name = ret.dotted if isinstance(ret, ir.Ref) else ""
                    return _Creation(inner.call, inner.module, (fn, fmod, name))
        return None

    def _is_app_class(self, base: ir.Expr, module: ir.ModuleSummary, depth: int) -> bool:
        if not isinstance(base, ir.Ref) or depth > MAX_CHAIN:
            return False
        found = self.project.resolve(module, base.dotted)
        if found is None:
            return False
        if found.qualified in _APP_CLASSES:
            return True
        if found.kind == "class" and found.cls is not None and found.module is not None:
            fmod = found.module
            return any(self._is_app_class(b, fmod, depth + 1) for b in found.cls.bases)
        return False

    def _distinct(self, qualified: str, home: ir.ModuleSummary) -> str:
        """An app's identity: its qualified name, with `@2`, `@3`... for an app of the same
        name bound in another file (`app.worker.app` in each service of a monorepo), so that
        neither reads the other's settings."""
        homes = self._homes.setdefault(qualified, [])
        if home.path not in homes:
            homes.append(home.path)
        index = homes.index(home.path)
        return qualified if index == 0 else f"{qualified}@{index + 1}"

    def _register_app(
        self, identity: str, module: ir.ModuleSummary | None, call: ir.Call | None
    ) -> str:
        if identity not in self.apps:
            self.apps[identity] = _App(identity, module, call)
        return identity

    # -- recognising decorators ----------------------------------------------------------

    def decorator(
        self, expr: ir.Expr, summary: ir.ModuleSummary, depth: int = 0
    ) -> _Decorator | None:
        """The task options a decorator applies, or None when it is not a Celery task maker."""
        return self.recognizer.decoration(self.rules, expr, summary, depth)

    def factory(
        self, expr: ir.Expr, summary: ir.ModuleSummary, depth: int = 0
    ) -> _Decorator | None:
        """A callable that makes a task decorator: `app.task`, `shared_task`, a wrapper."""
        return self.recognizer.maker(self.rules, expr, summary, depth)

    def _task_maker(
        self, expr: ir.Ref, found: Resolved | None, summary: ir.ModuleSummary, depth: int
    ) -> _Decorator | None:
        if found is not None and found.qualified in _SHARED:
            return _Decorator(None)
        if found is not None and self.recognizer.configured(found):
            return _Decorator(None, wrapper=found)
        receiver, _, attr = expr.dotted.rpartition(".")
        if attr == "task" and receiver:
            app = self.app_of(receiver, summary)
            if app is not None:
                return _Decorator(app)
        return None

    def _extend(self, base: _Decorator, expansion: Expansion) -> _Decorator:
        # The outermost wrapper's own code may retry for the task it makes.
        wrapper = base.wrapper or self.project.resolve_qualified(expansion.via[0].wrapper)
        return _Decorator(base.app, base.options.extended(expansion), wrapper)

    # -- classes -------------------------------------------------------------------------

    def is_task_class(self, cls: ir.Class, module: ir.ModuleSummary) -> bool:
        return subclass_of(self.project, self._task_class_cache, cls, module, self._task_root)

    def _task_root(self, found: Resolved | None, base: ir.Ref, module: ir.ModuleSummary) -> bool:
        """`celery.Task` (and its aliases), or `app.Task` on a Celery app."""
        if found is not None and found.qualified in _TASK_CLASSES:
            return True
        receiver, _, attr = base.dotted.rpartition(".")
        return attr == "Task" and bool(receiver) and self.app_of(receiver, module) is not None

    def resolve_class(self, expr: ir.Expr, module: ir.ModuleSummary) -> Resolved | None:
        value = self.evaluator.eval(expr, module)
        if isinstance(value, Known) and isinstance(value.value, str):
            # `task_cls='pkg.mod:MyTask'`
            return self.project.resolve_string(module, value.value.replace(":", "."))
        if isinstance(expr, ir.Ref):
            return self.project.resolve(module, expr.dotted)
        return None

    def class_chain(
        self, bases: Iterable[ir.Expr], module: ir.ModuleSummary, source: Source
    ) -> tuple[list[tuple[ir.Class, ir.ModuleSummary, Source]], list[Where]]:
        """Classes whose attributes a task inherits, nearest first; plus bases we cannot see."""
        chain: list[tuple[ir.Class, ir.ModuleSummary, Source]] = []
        blind: list[Where] = []
        seen: set[str] = set()

        def walk(exprs: Iterable[ir.Expr], mod: ir.ModuleSummary, depth: int) -> None:
            for expr in exprs:
                if depth > MAX_CHAIN:
                    return
                found = self.resolve_class(expr, mod)
                if found is None:
                    blind.append(Where(expr, mod))
                    continue
                if found.kind == "class" and found.cls is not None and found.module is not None:
                    key = f"{found.module.module}.{found.cls.qualname}"
                    if key in seen:
                        continue
                    seen.add(key)
                    chain.append((found.cls, found.module, source))
                    walk(found.cls.bases, found.module, depth + 1)
                elif not _is_known_root(found.qualified, expr, self, mod):
                    blind.append(Where(expr, mod))

        walk(bases, module, 0)
        return chain, blind

    # -- app configuration ---------------------------------------------------------------

    def config_scopes(self) -> list[celery_settings.Scope]:
        """Where app configuration is written: every module's top level (`app.conf.x = ...`
        on whichever app the receiver is), and the body of each app factory (on its app)."""
        scopes: list[celery_settings.Scope] = [
            (s.bindings, s.calls, s, functools.partial(self._app_in, s))
            for s in list(self.project.loaded())
        ]
        for each in list(self.apps.values()):
            for fn, fmod, local_name in each.factories:

                def same(
                    receiver: str, name: str = local_name, app: str = each.identity
                ) -> str | None:
                    return app if receiver == name else None

                scopes.append((fn.locals, fn.calls, fmod, same))
        return scopes

    def collect_app_config(self) -> None:
        """Find the config modules of every app (`config_from_object`, `config_source=`)."""
        for _, calls, written_in, app_of in self.config_scopes():
            for call in calls:
                self._config_call(call, written_in, app_of)
        for each in list(self.apps.values()):
            if each.call is not None and each.module is not None:
                for kw in each.call.kwargs:
                    if kw.name == "config_source":
                        self._config_source(each, kw.value, each.module, "")

    def _app_in(self, summary: ir.ModuleSummary, receiver: str) -> str | None:
        return self.app_of(receiver, summary)

    def _config_call(
        self, call: ir.Call, summary: ir.ModuleSummary, app_of: Callable[[str], str | None]
    ) -> None:
        """`app.config_from_object(...)`."""
        if not isinstance(call.func, ir.Ref):
            return
        receiver, _, method = call.func.dotted.rpartition(".")
        if method == "config_from_object" and call.args:
            app = app_of(receiver)
            if app is None:
                return
            namespace = call.kwarg("namespace")
            ns = self.evaluator.eval(namespace, summary) if namespace is not None else Known("")
            ns_value = ns.value if isinstance(ns, Known) and isinstance(ns.value, str) else ""
            self._config_source(self.apps[app], call.args[0], summary, ns_value)

    def _config_source(
        self, app: _App, expr: ir.Expr, summary: ir.ModuleSummary, namespace: str
    ) -> None:
        value = self.evaluator.eval(expr, summary)
        if isinstance(value, Known) and isinstance(value.value, str):
            app.config_modules.append((value.value.replace(":", "."), namespace))
        elif isinstance(value, Sym):
            app.config_modules.append((value.qualified, namespace))

    # -- task names ----------------------------------------------------------------------

    def generated_name(
        self, apps: list[_Namer] | None, name: str, module: str
    ) -> tuple[Value, str]:
        """What `app.gen_task_name(name, module)` returns, for the app(s) the task is registered
        with; None means every app of the project (a shared task, `current_app`, a class-based
        task registered nowhere retrylint can see). Several apps that disagree: undecided.

        Also the call as it happens at run time (`MyCelery.gen_task_name('add', 'proj.tasks')`),
        the name expression of a row whose name stays undecided."""
        # `python -m pkg` runs `pkg/__main__.py` as `__main__`, the module name Celery replaces
        # with the app's `main` (celery/utils/imports.py: gen_task_name).
        if not module or module == "__main__" or module.endswith(".__main__"):
            module = "__main__"
        if apps is None:
            apps = self.every_app() if module == "__main__" or self.overridden() else []
        if not apps:
            return _celery_default(None, name, module), ""
        values = [self._name_by(namer, 0, name, module, 0) for namer in apps]

        def call(namer: _Namer) -> str:
            return f"{namer.call.func.text}.gen_task_name({name!r}, {module!r})"

        for namer, value in zip(apps, values, strict=True):
            if not (isinstance(value, Known) and isinstance(value.value, str)):
                return value, call(namer)
        if len({v.value for v in values if isinstance(v, Known)}) == 1:
            return values[0], call(apps[0])
        odd = next(n for n, v in zip(apps, values, strict=True) if v != values[0])
        return Unknown(call(odd), odd.location), call(odd)

    def namer(self, call: ir.Call, module: ir.ModuleSummary) -> _Namer:
        """How the app made by `call` names tasks: its `main`, and the classes it is made from
        that could override `gen_task_name`, in method resolution order up to `Celery`."""
        key = (module.path, call.span.line, call.span.column)
        cached = self._namers.get(key)
        if cached is not None:
            return cached
        main_expr = call.args[0] if call.args else call.kwarg("main")
        main: Value = Known(None)
        if isinstance(main_expr, ir.Starred) or (main_expr is None and call.splats):
            main = Unknown(call.text, location_of(module, call.span))
        elif main_expr is not None:
            main = self.evaluator.eval(main_expr, module)
        steps: list[tuple[ir.Class, ir.ModuleSummary] | Where] = []
        seen: set[str] = set()

        def walk(expr: ir.Expr, mod: ir.ModuleSummary, depth: int) -> bool:
            """Adds the classes `expr` names; True once `Celery` (or a class retrylint cannot
            read) is reached, where the search for an override ends."""
            found = self.project.resolve(mod, expr.dotted) if isinstance(expr, ir.Ref) else None
            if found is not None and found.qualified in _APP_CLASSES:
                return True
            if isinstance(expr, ir.Ref) and expr.dotted == "object" and found is None:
                return False
            if (
                depth > MAX_CHAIN
                or found is None
                or found.kind != "class"
                or found.cls is None
                or found.module is None
            ):
                steps.append(Where(expr, mod))
                return True
            key = f"{found.module.module}.{found.cls.qualname}"
            if key in seen:
                return False
            seen.add(key)
            steps.append((found.cls, found.module))
            cls_module = found.module
            return any(walk(base, cls_module, depth + 1) for base in found.cls.bases)

        walk(call.func, module, 0)
        namer = _Namer(call, location_of(module, call.span), main, tuple(steps))
        self._namers[key] = namer
        return namer

    def app_namers(self, app: str | None) -> list[_Namer] | None:
        """The namer of a task's app; None when it is whichever app is current."""
        each = self.apps.get(app) if app is not None else None
        if each is None or each.call is None or each.module is None:
            return None
        return [self.namer(each.call, each.module)]

    def every_app(self) -> list[_Namer]:
        """Every `Celery(...)` bound at module level in the parsed modules (or made by a factory
        such a binding calls), without registering them as apps of decorated tasks."""
        if self._every_app is None:
            found: dict[tuple[str, int, int], _Namer] = {}
            for summary in list(self.project.loaded()):
                for binding in summary.bindings:
                    if "." in binding.target or not isinstance(binding.value, ir.Call):
                        continue
                    created = self._creates_app(binding.value, summary, 0)
                    if created is not None:
                        namer = self.namer(created.call, created.module)
                        span = created.call.span
                        found[(created.module.path, span.line, span.column)] = namer
            self._every_app = [found[k] for k in sorted(found)]
        return self._every_app

    def overridden(self) -> bool:
        """Whether any parsed class defines `gen_task_name`: only then can an app other than
        the task's own change a task name, so only then are all apps looked for."""
        if self._overridden is None:
            self._overridden = any(
                method.name == "gen_task_name"
                for summary in self.project.loaded()
                for cls in summary.classes
                for method in cls.methods
            )
        return self._overridden

    def registered_by(self, cls: ir.Class, summary: ir.ModuleSummary) -> list[_Namer] | None:
        """The apps a class-based task is registered with (`app.register_task(MyTask())`,
        `app.tasks.register(...)`); None when unknown (every app of the project applies)."""
        qualified = f"{summary.module}.{cls.qualname}"
        namers: list[_Namer] = []
        for module in list(self.project.loaded()):
            calls = [*module.calls, *(c for fn in module.functions for c in fn.calls)]
            for call in calls:
                if not isinstance(call.func, ir.Ref) or not call.args:
                    continue
                receiver, _, method = call.func.dotted.rpartition(".")
                if method == "register" and receiver.endswith(".tasks"):
                    receiver = receiver.removesuffix(".tasks")
                elif method != "register_task":
                    continue
                arg = call.args[0]
                named = arg.func if isinstance(arg, ir.Call) else arg
                if not isinstance(named, ir.Ref) or not receiver:
                    continue
                found = self.project.resolve(module, named.dotted)
                if found is None or found.qualified != qualified:
                    continue
                app = self._creation_of(receiver, module)
                if app is None:
                    return None  # registered with an app retrylint cannot name
                namers.append(self.namer(app.call, app.module))
        return namers or None

    def _creation_of(self, dotted: str, summary: ir.ModuleSummary) -> _Creation | None:
        """The `Celery(...)` call a name is bound to (like `app_of`, without registering)."""
        found = self.project.resolve(summary, dotted)
        if found is None or found.kind != "binding" or found.binding is None:
            return None
        if found.module is None:
            return None
        value, module = self.evaluator.deref(found.binding.value, found.module)
        if not isinstance(value, ir.Call):
            return None
        return self._creates_app(value, module, 0)

    def _name_by(self, namer: _Namer, start: int, name: str, module: str, depth: int) -> Value:
        """`gen_task_name(name, module)` of one app, from its class `start` in the MRO on."""
        for index in range(start, len(namer.steps)):
            step = namer.steps[index]
            if isinstance(step, Where):
                # A base class retrylint cannot read may define gen_task_name.
                return Unknown(step.expr.text, location_of(step.module, step.expr.span))
            cls, cls_module = step
            method = next((m for m in cls.methods if m.name == "gen_task_name"), None)
            if method is not None:
                return self._override(namer, index, method, cls_module, name, module, depth)
        return _celery_default(namer, name, module)

    def _override(
        self,
        namer: _Namer,
        index: int,
        method: ir.Function,
        cls_module: ir.ModuleSummary,
        name: str,
        module: str,
        depth: int,
    ) -> Value:
        """An app class's own `gen_task_name`, computed when its body is straight-line: every
        `return` gives the same string from `name`, `module`, constants and once-bound locals
        (a `super().gen_task_name(...)` call continues in the next class)."""
        cls = namer.steps[index]
        assert not isinstance(cls, Where)
        whole = Unknown(
            f"{cls[0].name}.gen_task_name({name!r}, {module!r})",
            location_of(cls_module, method.name_span),
        )
        static = [d for d in method.decorators if d.text == "staticmethod"]
        if depth > MAX_CHAIN or len(static) != len(method.decorators):
            return whole
        params = method.params if static else method.params[1:]
        if len(params) < 2:
            return whole
        local: dict[str, ir.Expr | Value] = {params[0]: Known(name), params[1]: Known(module)}
        for binding in method.locals:
            # A parameter rebound, or a local bound twice: the result depends on control flow.
            # The (last) rebinding is quoted.
            again = [b for b in method.locals if b.target == binding.target]
            if binding.target in params[:2] or len(again) > 1:
                last = again[-1]
                return Unknown(last.value.text, location_of(cls_module, last.span))
            local[binding.target] = binding.value
        if method.raises:
            raised = method.raises[0].exc
            return Unknown(raised.text, location_of(cls_module, raised.span))
        if not method.returns:
            return whole
        results: list[Value] = []
        for ret in method.returns:
            delegated = _delegation(ret, cls_module, self)
            if delegated is None:
                results.append(self.evaluator.eval(ret, cls_module, local))
                continue
            kind, args = delegated
            values = [self.evaluator.eval(arg, cls_module, local) for arg in args]
            known = [v.value for v in values if isinstance(v, Known)]
            if len(known) != 2 or not isinstance(known[0], str):
                bad = next((v for v in values if isinstance(v, Unknown)), None)
                results.append(bad or Unknown(ret.text, location_of(cls_module, ret.span)))
                continue
            inner_module = known[1] if isinstance(known[1], str) else ""
            if known[1] is not None and not isinstance(known[1], str):
                results.append(Unknown(ret.text, location_of(cls_module, ret.span)))
            elif kind == "super":
                results.append(self._name_by(namer, index + 1, known[0], inner_module, depth + 1))
            else:
                results.append(_celery_default(namer, known[0], inner_module))
        for value in results:
            if isinstance(value, Unknown):
                return value
            if not (isinstance(value, Known) and isinstance(value.value, str)):
                return Unknown(method.returns[0].text, location_of(cls_module, method.span))
        first = results[0]
        if any(r != first for r in results):
            differing = next(r for r, v in zip(method.returns, results, strict=True) if v != first)
            return Unknown(differing.text, location_of(cls_module, differing.span))
        return first

    # -- rows ----------------------------------------------------------------------------

    def rows(self) -> Iterator[EffectivePolicy | Observation]:
        found: list[tuple[ir.ModuleSummary, ir.Function | ir.Class, _Decorator | None]] = []
        for summary in self.ctx.scanned:
            for fn in summary.functions:
                if self.recognizer.inside_wrapper(fn, summary):
                    continue
                for dec in fn.decorators:
                    info = self.decorator(dec, summary)
                    if info is not None:
                        found.append((summary, fn, info))
                        break
            for cls in summary.classes:
                if (
                    any(m.name == "run" for m in cls.methods)
                    and self.is_task_class(cls, summary)
                    and not _abstract(cls, self, summary)
                ):
                    found.append((summary, cls, None))
        self.collect_app_config()
        tasks: dict[str, str | None] = {}
        for summary, definition, info in found:
            builder = _TaskBuilder(self, summary, definition, info)
            row = self.with_redelivery(builder.build(), info)
            row = replace(row, worker_loss=builder.worker_loss())
            tasks[f"{summary.module}.{definition.qualname}"] = row.name
            yield row
            yield from builder.observations(row)
        yield from self.publish_observations(tasks)

    def with_redelivery(self, row: EffectivePolicy, info: _Decorator | None) -> EffectivePolicy:
        """RL205's evidence: the visibility timeout of the broker the task's app uses. An
        undecided broker or timeout is RL002 only where some delay of the row could exceed
        it; the verdict itself is the rule's."""
        if not row.retries or not row.delays_seconds:
            return row
        brokers = self.broker_settings()
        app = info.app if info is not None else None
        if app is not None and app in brokers:
            apps = [brokers[app]]
        else:  # a shared task, `current_app`, a class: bound to every app of the project
            apps = [brokers[key] for key in sorted(brokers)]
        found = celery_broker.verdict(self.ctx, apps, row.location)
        if found.redelivery is not None:
            return replace(row, redelivery=found.redelivery)
        if found.unknown is not None and max(row.delays_seconds) > found.safe_up_to:
            log = UndecidedLog()
            for item in row.undecided:
                log.add(item.field, Unknown(item.expression, item.location))
            log.add("broker", found.unknown)
            return replace(row, undecided=log.items())
        return row

    def broker_settings(self) -> dict[str, celery_settings.AppSettings]:
        """Settings (broker, annotations, acks, ...) per app created in the project
        (`current_app` is none of them)."""
        if self._brokers is not None:
            return self._brokers
        writes: dict[str, list[tuple[ir.Binding | ir.Call, ir.ModuleSummary]]] = {}
        for app, write, module in celery_settings.conf_writes(self.config_scopes()):
            writes.setdefault(app, []).append((write, module))
        out: dict[str, celery_settings.AppSettings] = {}
        for identity, each in sorted(self.apps.items()):
            if each.call is None or each.module is None:
                continue
            settings = celery_settings.AppSettings(
                location_of(each.module, each.call.span), each.module
            )
            celery_settings.collect(
                self.ctx,
                settings,
                each.call,
                each.module,
                writes.get(identity, []),
                each.config_modules,
            )
            out[identity] = settings
        self._brokers = out
        return out

    def publish_observations(self, tasks: dict[str, str | None]) -> Iterator[Observation]:
        """RL107: `apply_async(retry_policy={'max_retries': None})` and the like (§1.1)."""
        yield from self._publish_setting()
        for summary in self.ctx.scanned:
            calls = [*summary.calls, *(c for fn in summary.functions for c in fn.calls)]
            for call in calls:
                if not isinstance(call.func, ir.Ref) or call.func.dotted.rpartition(".")[2] not in (
                    "apply_async",
                    "send_task",
                    "signature",
                    "s",
                    "si",
                    "set",
                ):
                    continue
                policy = call.kwarg("retry_policy")
                if policy is None:
                    continue
                value = self.evaluator.eval(policy, summary)
                if not (isinstance(value, Known) and isinstance(value.value, dict)):
                    continue
                limit = value.value.get("max_retries")
                if not (isinstance(limit, Known) and limit.value is None):
                    continue
                receiver = call.func.dotted.rpartition(".")[0]
                target = self.project.resolve(summary, receiver) if receiver else None
                task = tasks.get(target.qualified) if target is not None else None
                subject = f"`{task}`" if task else f"`{receiver}`"
                yield Observation(
                    kind="unbounded-publish-retry",
                    location=location_of(summary, policy.span),
                    message=f"{subject} is published with retry_policy max_retries=None: while "
                    "the broker is unreachable the caller blocks and retries the publish "
                    "forever (Celery's default policy stops after 3 attempts)",
                    fix="Set retry_policy['max_retries'] to a number, or drop it to use "
                    "Celery's default of 3.",
                    framework=KEY,
                    task=task,
                    site="enqueue",
                )

    def _publish_setting(self) -> Iterator[Observation]:
        """RL107 at the app setting: `task_publish_retry_policy` with `max_retries: None` is the
        policy of every publish that does not set its own `max_retries` (app/amqp.py merges a
        call's `retry_policy` over it), unless `task_publish_retry` turns publish retries off."""
        for identity, settings in sorted(self.broker_settings().items()):
            policy = celery_settings.setting(self.ctx, settings, "task_publish_retry_policy")
            if policy is None:
                continue
            value, location, _, _ = policy
            if not (isinstance(value, Known) and isinstance(value.value, dict)):
                continue
            limit = value.value.get("max_retries")
            if not (isinstance(limit, Known) and limit.value is None):
                continue
            retry = celery_settings.setting(self.ctx, settings, "task_publish_retry")
            if retry is not None and not _is_true(retry[0]):
                continue  # off, or undecided: no claim that it retries
            if (KEY, location) in self.reported or not self.scanned(location):
                continue
            self.reported.add((KEY, location))
            app = identity.partition("@")[0].rpartition(".")[2]
            yield Observation(
                kind="unbounded-publish-retry",
                location=location,
                message=f"task_publish_retry_policy sets max_retries=None for app `{app}`: while "
                "the broker is unreachable every publish that does not set its own "
                "max_retries blocks the caller and retries forever (Celery's default policy "
                "stops after 3 attempts)",
                fix="Set max_retries in task_publish_retry_policy to a number, or drop the key "
                "to keep Celery's default of 3.",
                framework=KEY,
            )

    def failure_handlers(self) -> list[tuple[Location, str | None]]:
        """Handlers connected to `task_failure`, with the task they are limited to (if any)."""
        if self._failure_handlers is not None:
            return self._failure_handlers
        found: list[tuple[Location, str | None]] = []
        for summary in self.project.loaded():
            connects: list[tuple[ir.Expr, ir.Span]] = [
                (dec, fn.span) for fn in summary.functions for dec in fn.decorators
            ]
            connects.extend((call, call.span) for call in summary.calls)
            for expr, span in connects:
                func = expr.func if isinstance(expr, ir.Call) else expr
                if not isinstance(func, ir.Ref) or not func.dotted.endswith(".connect"):
                    continue
                signal = self.project.resolve(summary, func.dotted.rpartition(".")[0])
                if signal is None or signal.qualified not in _FAILURE_SIGNALS:
                    continue
                sender = expr.kwarg("sender") if isinstance(expr, ir.Call) else None
                target = (
                    self.project.resolve(summary, sender.dotted)
                    if isinstance(sender, ir.Ref)
                    else None
                )
                limited = target.qualified if target is not None else None
                if sender is not None and limited is None:
                    continue  # limited to a sender retrylint cannot name
                found.append((location_of(summary, span), limited))
        self._failure_handlers = sorted(found, key=lambda item: (item[0], item[1] or ""))
        return self._failure_handlers

    def bound_apps(self, app: str | None, task: ir.ModuleSummary) -> list[str]:
        """The apps whose settings a task of `task` (a module) may run under: its own app, else
        (a shared task) every app; but a worker runs one service, so in a monorepo the apps
        made in the task's own base folder, when there are any."""
        if app is not None and app in self.apps:
            return [app]
        every = sorted(self.apps)
        home = base_of(task)
        own = [a for a in every if (m := self.apps[a].module) is not None and base_of(m) == home]
        return own or every

    def annotations_for(self, app: str | None, task: ir.ModuleSummary) -> list[Where]:
        """The `task_annotations` setting of the task's app, wherever it is written."""
        settings = self.broker_settings()

        def of(identity: str) -> list[Where]:
            found = celery_settings.written(settings[identity], "task_annotations")
            return [Where(found[0], found[1])] if found is not None else []

        if app is not None and app in settings and of(app):
            return of(app)
        # A shared task binds to every app; with one configured app its annotations apply.
        bound = [a for a in self.bound_apps(app, task) if a in settings]
        configured = [w for w in (of(identity) for identity in bound) if w]
        return configured[0] if len(configured) == 1 else []

    def scanned(self, location: Location) -> bool:
        """Whether a finding at `location` is in a file under PATHS (reported there only)."""
        return any(summary.path == location.path for summary in self.ctx.scanned)

    def app_setting(self, app: str | None, key: str, task: ir.ModuleSummary) -> Option | None:
        """An app setting as a task option (`task_acks_late`), or None where no app sets it;
        undecided where the apps a shared task binds to disagree."""
        settings = self.broker_settings()
        if app is not None and app in settings:
            apps = [app]
        else:
            apps = [a for a in self.bound_apps(None, task) if a in settings] or sorted(settings)
        found = [celery_settings.written(settings[a], key) for a in apps]
        writes = [f for f in found if f is not None]
        if not writes:
            return None
        expr, module, undecided = writes[0]
        location = location_of(module, expr.span)
        value: Value
        source: Source
        if undecided or len(writes) < len(found) or len({w[0].text for w in writes}) > 1:
            value, source = Unknown(expr.text, location), "undecided"
        else:
            value = self.evaluator.eval(expr, module)
            source = source_of(value, "config")
        return Option(key, value, expr, location, source, f"{_APP_SETTING} {key}", module)

    def task_cls_for(self, app: str | None, task: ir.ModuleSummary) -> list[Where]:
        apps = [self.apps[a] for a in self.bound_apps(app, task)]
        out: list[Where] = []
        for candidate in apps:
            if candidate.call is not None and candidate.module is not None:
                value = candidate.call.kwarg("task_cls")
                if value is not None:
                    out.append(Where(value, candidate.module))
        return out[:1] if len(out) == 1 or app in self.apps else []


@dataclass(frozen=True)
class _Namer:
    """How one app names a task that has no `name`: Celery's `gen_task_name` with the app's
    `main`, unless a class in `steps` (the app's classes from the project, in method resolution
    order up to `Celery`) overrides it; a `Where` step is a base retrylint cannot read."""

    call: ir.Call
    location: Location
    main: Value
    steps: tuple[tuple[ir.Class, ir.ModuleSummary] | Where, ...]


_SUPER_CALL = re.compile(r"super\([^()]*\)\s*\.\s*gen_task_name")
_CELERY_GEN = frozenset(
    {
        "celery.Celery.gen_task_name",
        "celery.app.Celery.gen_task_name",
        "celery.app.base.Celery.gen_task_name",
        "celery.utils.gen_task_name",
        "celery.utils.imports.gen_task_name",
    }
)


def _delegation(
    expr: ir.Expr, module: ir.ModuleSummary, analysis: _Analysis
) -> tuple[Literal["super", "celery"], tuple[ir.Expr, ...]] | None:
    """`super().gen_task_name(name, module)` (the next class decides) or Celery's own
    `Celery.gen_task_name(self, name, module)` / `gen_task_name(app, name, module)`: the
    two arguments that become `name` and `module`. Keywords are not followed."""
    if not isinstance(expr, ir.Call) or expr.kwargs:
        return None
    if isinstance(expr.func, ir.Opaque) and _SUPER_CALL.fullmatch(expr.func.text):
        return ("super", expr.args) if len(expr.args) == 2 else None
    if isinstance(expr.func, ir.Ref) and len(expr.args) == 3:
        found = analysis.project.resolve(module, expr.func.dotted)
        if found is not None and found.qualified in _CELERY_GEN:
            return "celery", expr.args[1:]
    return None


def _celery_default(namer: _Namer | None, name: str, module: str) -> Value:
    """celery/utils/imports.py `gen_task_name`: `module.name`, except that a task of the
    `__main__` module is named after the app's `main` when it has one."""
    module = module or "__main__"
    if module == "__main__" and namer is not None:
        main = namer.main
        if isinstance(main, Unknown):
            return main
        if isinstance(main, Known) and isinstance(main.value, str) and main.value:
            return Known(f"{main.value}.{name}")
        if not isinstance(main, Known) or main.value:
            return Unknown(f"{namer.call.text} (main)", namer.location)
    return Known(".".join(p for p in (module, name) if p))


def _has_key(expr: ir.DictExpr, key: str) -> bool:
    return any(isinstance(k, ir.Const) and k.value == key for k, _ in expr.items)


def _abstract(cls: ir.Class, analysis: _Analysis, summary: ir.ModuleSummary) -> bool:
    for attr in cls.attributes:
        if attr.target == "abstract":
            value = analysis.evaluator.eval(attr.value, summary)
            return isinstance(value, Known) and value.value is True
    return False


def _is_known_root(
    qualified: str, expr: ir.Expr, analysis: _Analysis, module: ir.ModuleSummary
) -> bool:
    if qualified in _TASK_CLASSES or qualified in ("builtins.object", "object"):
        return True
    if isinstance(expr, ir.Ref):
        receiver, _, attr = expr.dotted.rpartition(".")
        if attr == "Task" and receiver and analysis.app_of(receiver, module) is not None:
            return True
    return False


def _merge(base: _Decorator, call: ir.Call, summary: ir.ModuleSummary) -> _Decorator:
    return replace(base, options=base.options.merged(call, summary))


class _TaskBuilder:
    """Resolves one task definition into its inventory row."""

    def __init__(
        self,
        analysis: _Analysis,
        summary: ir.ModuleSummary,
        definition: ir.Function | ir.Class,
        info: _Decorator | None,
    ) -> None:
        self.a = analysis
        self.summary = summary
        self.definition = definition
        self.info = info
        self.log = UndecidedLog()
        self.evaluator = analysis.evaluator
        self._named: tuple[str | None, str | None] | None = None
        self.decorator_opts = self._decorator_options() if info is not None else {}
        app = info.app if info is not None else None
        bases: list[ir.Expr] = []
        base_module = summary
        self.own: dict[str, Option] = {}
        if isinstance(definition, ir.Class):
            self.own = self._class_options(definition, summary, "explicit")
            bases = list(definition.bases)
        else:
            base = self.decorator_opts.get("base")
            if base is not None and base.expr is not None and base.module is not None:
                bases = [base.expr]
                base_module = base.module
        chain, blind = analysis.class_chain(bases, base_module, "inherited")
        self._own_chain = len(chain)
        for where in analysis.task_cls_for(app, summary):
            more, more_blind = analysis.class_chain([where.expr], where.module, "inherited")
            chain.extend(more)
            blind.extend(more_blind)
        self.chain = chain
        self.blind = blind
        self.annotations = self._annotations(app)
        self.broad: list[TriggerSite] = []

    # -- option layers -------------------------------------------------------------------

    def _decorator_options(self) -> dict[str, Option]:
        assert self.info is not None
        out: dict[str, Option] = {}
        for splat in self.info.options.splats:
            # Each key's own expression where the mapping is written out (a literal, `dict(...)`,
            # spreads of constants): `autoretry_for` needs the classes as written.
            items = dict_items(self.evaluator, splat.expr, splat.module)
            if not isinstance(items, Unknown):
                for key, (expr, module) in items.items():
                    item = self.evaluator.eval(expr, module)
                    loc = location_of(module, expr.span)
                    out[key] = Option(
                        key, item, expr, loc, source_of(item, "explicit"), module=module
                    )
                continue
            value = self.evaluator.eval(splat.expr, splat.module)
            if isinstance(value, Known) and isinstance(value.value, dict):
                for key, item in value.value.items():
                    if isinstance(key, str):
                        at = self._dict_item(splat, (key,))
                        out[key] = Option(
                            key,
                            item,
                            at.expr,
                            location_of(at.module, at.expr.span),
                            source_of(item, "explicit"),
                            module=at.module,
                        )
            elif isinstance(value, Unknown):
                self.log.add("options", value)
        for name, where in self.info.options.kwargs:
            value = self.evaluator.eval(where.expr, where.module)
            loc = location_of(where.module, where.expr.span)
            out[name] = Option(
                name, value, where.expr, loc, source_of(value, "explicit"), module=where.module
            )
        return out

    def _class_options(
        self, cls: ir.Class, module: ir.ModuleSummary, source: Source
    ) -> dict[str, Option]:
        out: dict[str, Option] = {}
        for attr in cls.attributes:
            if attr.target in RETRY_OPTIONS or attr.target in _OTHER_OPTIONS:
                value = self.evaluator.eval(attr.value, module)
                loc = location_of(module, attr.value.span)
                out[attr.target] = Option(
                    attr.target, value, attr.value, loc, source_of(value, source), module=module
                )
        return out

    def _annotations(self, app: str | None) -> list[dict[str, Option]]:
        """Annotation layers that apply to this task, strongest first ('*' beats the name)."""
        wheres = self.a.annotations_for(app, self.summary)
        if not wheres:
            return []
        name = self.name_value()
        named: dict[str, Option] | None = None
        star: dict[str, Option] | None = None
        for where in wheres:
            value = self.evaluator.eval(where.expr, where.module)
            maps: list[object]
            if isinstance(value, Known) and isinstance(value.value, dict):
                maps = [value]
            elif isinstance(value, Known) and isinstance(value.value, tuple):
                maps = list(value.value)
            else:
                unknown = (
                    value
                    if isinstance(value, Unknown)
                    else Unknown(where.expr.text, location_of(where.module, where.expr.span))
                )
                self.log.add("annotations", unknown)
                continue
            for entry in maps:
                if not (isinstance(entry, Known) and isinstance(entry.value, dict)):
                    continue
                if named is None and name is not None and name in entry.value:
                    named = self._annotation_options(entry.value[name], where, name)
                if star is None and "*" in entry.value:
                    star = self._annotation_options(entry.value["*"], where, "*")
        return [layer for layer in (star, named) if layer]

    def _annotation_options(self, value: object, where: Where, entry: str) -> dict[str, Option]:
        out: dict[str, Option] = {}
        if isinstance(value, Known) and isinstance(value.value, dict):
            for key, item in value.value.items():
                if isinstance(key, str):
                    at = self._dict_item(where, (entry, key))
                    out[key] = Option(
                        key,
                        item,
                        at.expr,
                        location_of(at.module, at.expr.span),
                        source_of(item, "config"),
                        f"task_annotations[{entry!r}]",
                        at.module,
                    )
        return out

    def _dict_item(self, where: Where, keys: tuple[str, ...]) -> Where:
        """The expression written for `where[keys...]`, or `where` itself when not literal."""
        expr, module = self.evaluator.deref(where.expr, where.module)
        for key in keys:
            if isinstance(expr, ir.Seq):  # a list of annotation maps: the first with the key
                expr = next(
                    (i for i in expr.items if isinstance(i, ir.DictExpr) and _has_key(i, key)),
                    expr,
                )
            if not isinstance(expr, ir.DictExpr) or not _has_key(expr, key):
                return where
            value = next(
                v for k, v in reversed(expr.items) if isinstance(k, ir.Const) and k.value == key
            )
            expr, module = self.evaluator.deref(value, module)
            where = Where(value, module)
        return where

    def _chain_options(self) -> dict[str, Option]:
        """Retry options set by the task's own base classes (`base=`), nearest first."""
        found: dict[str, Option] = {}
        for cls, _, _ in reversed(self.chain[: self._own_chain]):
            for attr in cls.attributes:
                if attr.target in RETRY_OPTIONS:
                    option = self._chain_option(attr.target)
                    if option is not None:
                        found[attr.target] = option
        return found

    def _chain_option(self, name: str) -> Option | None:
        for cls, module, source in self.chain:
            for attr in reversed(cls.attributes):
                if attr.target == name:
                    value = self.evaluator.eval(attr.value, module)
                    loc = location_of(module, attr.value.span)
                    return Option(
                        name, value, attr.value, loc, source_of(value, source), module=module
                    )
        return None

    def _default(self, name: str) -> Option:
        if self.blind:
            # A base class we cannot read may set this option: do not claim the default.
            where = self.blind[0]
            unknown = Unknown(where.expr.text, location_of(where.module, where.expr.span))
            return Option(
                name, unknown, where.expr, unknown.location, "undecided", module=where.module
            )
        note = f"Celery's default {name}={DEFAULTS[name]!r}"
        return Option(name, Known(DEFAULTS[name]), None, None, "default", note)

    def option(self, name: str) -> Option:
        """The effective value of a Celery option under Celery's precedence."""
        is_class_task = isinstance(self.definition, ir.Class)
        layers: list[dict[str, Option]] = []
        if name in AUTORETRY_OPTIONS:
            layers = [self.own] if is_class_task else [self.decorator_opts, *self.annotations]
        elif name in _FROM_CONFIG:
            return self._configured(name)
        else:
            layers = [*self.annotations, self.decorator_opts, self.own]
        for layer in layers:
            if name in layer:
                return layer[name]
        return self._chain_option(name) or self._default(name)

    def _configured(self, name: str) -> Option:
        """An attribute Celery fills from an app setting (`acks_late` from `task_acks_late`):
        `Task.bind` sets it when the task class leaves it None, then annotations apply."""
        for layer in self.annotations:
            if name in layer:
                return layer[name]
        written = next(
            (layer[name] for layer in (self.decorator_opts, self.own) if name in layer), None
        ) or self._chain_option(name)
        if written is not None and not (
            isinstance(written.value, Known) and written.value.value is None
        ):
            return written
        if self.blind:
            return self._default(name)
        app = self.info.app if self.info is not None else None
        found = self.a.app_setting(app, _FROM_CONFIG[name], self.summary)
        return found or written or self._default(name)

    # -- identity ------------------------------------------------------------------------

    def name_value(self) -> str | None:
        return self._identity()[0]

    def name_expression(self) -> str | None:
        return self._identity()[1]

    def _name_option(self) -> Option | None:
        """`name=` on the decorator; for a class-based task its own or inherited `name`
        attribute (a `base=` class's `name` never names a decorated function: Celery passes
        the generated name to `type()`)."""
        if isinstance(self.definition, ir.Function):
            return self.decorator_opts.get("name")
        if "name" in self.own:
            return self.own["name"]
        for cls, module, _ in self.chain[: self._own_chain]:
            for attr in reversed(cls.attributes):
                if attr.target == "name":
                    value = self.evaluator.eval(attr.value, module)
                    loc = location_of(module, attr.value.span)
                    return Option("name", value, attr.value, loc, source_of(value, "inherited"))
        return None

    def _identity(self) -> tuple[str | None, str | None]:
        """The registered name, or None and the expression that computes it.

        Celery keeps a truthy `name` and otherwise asks the app: `name or
        app.gen_task_name(fun.__name__, fun.__module__)` (app/base.py `_task_from_fun`;
        `register_task` does the same with the class's `__name__` and `__module__`).
        """
        if self._named is not None:
            return self._named
        opt = self._name_option()
        value: Value | None = opt.value if opt is not None else None
        if opt is not None and not (isinstance(value, Known) and not value.value):
            if isinstance(value, Known) and isinstance(value.value, str):
                self._named = (value.value, None)
            else:
                if isinstance(value, Unknown):
                    self.log.add("name", value)
                self._named = (None, opt.text)
            return self._named
        apps: list[_Namer] | None
        if isinstance(self.definition, ir.Class):
            apps = self.a.registered_by(self.definition, self.summary)
        else:
            apps = self.a.app_namers(self.info.app if self.info is not None else None)
        generated, call = self.a.generated_name(apps, self.definition.name, self.summary.module)
        if isinstance(generated, Known) and isinstance(generated.value, str):
            self._named = (generated.value, None)
        else:
            unknown = (
                generated if isinstance(generated, Unknown) else Unknown(call, self.row_location())
            )
            self.log.add("name", unknown)
            self._named = (None, call)
        return self._named

    def row_location(self) -> Location:
        span = self.definition.name_span
        return Location(self.summary.path, span.line, span.column, span.end_line, span.end_column)

    # -- retry paths ---------------------------------------------------------------------

    def _unknown(self, opt: Option, value: Value) -> Unknown:
        """The quotable form of a value that is not of the type Celery expects."""
        if isinstance(value, Unknown):
            return value
        return Unknown(opt.text, opt.location or self.row_location())

    def _undecided(self, field_name: str, opt: Option, value: Value) -> Provenance:
        unknown = self._unknown(opt, value)
        self.log.add(field_name, unknown)
        return Provenance("undecided", unknown.location)

    def count(self) -> tuple[Count, Provenance]:
        opt = self.option("max_retries")
        return self._count_from(opt.value, opt)

    def _count_from(self, value: Value, opt: Option) -> tuple[Count, Provenance]:
        if isinstance(value, Known) and value.value is None:
            return UNBOUNDED, Provenance(opt.source, opt.location, "max_retries=None")
        amount = number(value)
        if amount is None:
            return UNDECIDED, self._undecided("max_retries", opt, value)
        # Celery stops once `retries > max_retries`: a negative budget allows no retry, and a
        # fractional one allows the whole retries up to it.
        return max(0, math.floor(amount)), opt.provenance

    def constant_delay(self, name: str) -> tuple[DelayFn | None, Provenance]:
        opt = self.option(name)
        amount = number(opt.value)
        if amount is None:
            return None, self._undecided(name, opt, opt.value)
        return constant_delay(amount), opt.provenance

    def _autoretry_exceptions(self) -> list[tuple[str, Location]] | Unknown:
        opt = self.option("autoretry_for")
        if opt.expr is None or opt.module is None:
            return []
        names, unknown = exception_names(self.a.ctx, opt.expr, opt.module)
        if unknown is not None:
            self.log.add("autoretry_for", unknown)
            if not names:
                return unknown
        return names

    def automatic_path(self) -> RetryPath | Unknown | None:
        names = self._autoretry_exceptions()
        if isinstance(names, Unknown):
            return names
        if not names:
            return None
        self.broad = [
            TriggerSite(qualified.rpartition(".")[2], loc)
            for qualified, loc in names
            if qualified in BROAD_EXCEPTIONS
        ]
        count, count_prov = self.count()
        kwargs = self.option("retry_kwargs")
        items: dict[object, Value] = {}
        if isinstance(kwargs.value, Known) and isinstance(kwargs.value.value, dict):
            items = kwargs.value.value
        elif not isinstance(kwargs.value, Known):
            self._undecided("retry_kwargs", kwargs, kwargs.value)
        kw_max = items.get("max_retries")
        # `retry_kwargs={'max_retries': None}` falls back to the class value, like self.retry.
        if kw_max is not None and not (isinstance(kw_max, Known) and kw_max.value is None):
            count, count_prov = self._count_from(kw_max, self._retry_kwarg(kwargs, "max_retries"))

        backoff = self.option("retry_backoff")
        if not isinstance(backoff.value, Known):
            undecided = self._undecided("retry_backoff", backoff, backoff.value)
            return RetryPath("automatic", count, count_prov, None, undecided, UNDECIDED, undecided)
        if backoff.value.value:
            return self._backoff_path(count, count_prov, backoff)
        # Without backoff the countdown is retry_kwargs['countdown'], else default_retry_delay:
        # a constant either way, so the kind is `fixed` even when its value is undecided.
        fixed: tuple[BackoffKind, Provenance] = (
            "fixed",
            Provenance(backoff.source, backoff.location, _CONSTANT),
        )
        countdown = items.get("countdown")
        if countdown is not None:
            amount = number(countdown)
            if amount is None:
                item = self._retry_kwarg(kwargs, "countdown")
                prov = self._undecided("countdown", item, countdown)
                no_jitter = Provenance(kwargs.source, kwargs.location, _NO_JITTER)
                return RetryPath(
                    "automatic", count, count_prov, None, prov, False, no_jitter, kind=fixed
                )
            return RetryPath(
                "automatic",
                count,
                count_prov,
                constant_delay(amount),
                kwargs.provenance,
                False,
                Provenance(kwargs.source, kwargs.location, _NO_JITTER),
            )
        fn, prov = self.constant_delay("default_retry_delay")
        no_jitter = Provenance(backoff.source, backoff.location, _NO_JITTER)
        return RetryPath("automatic", count, count_prov, fn, prov, False, no_jitter, kind=fixed)

    def _retry_kwarg(self, kwargs: Option, key: str) -> Option:
        """One key of `retry_kwargs`, located at its own value where the mapping is written
        out, so an undecided value is quoted alone rather than as the whole mapping."""
        if kwargs.expr is not None and kwargs.module is not None:
            items = dict_items(self.evaluator, kwargs.expr, kwargs.module)
            if not isinstance(items, Unknown) and key in items:
                expr, module = items[key]
                value = self.evaluator.eval(expr, module)
                loc = location_of(module, expr.span)
                return Option(key, value, expr, loc, kwargs.source, module=module)
        return kwargs

    def worker_lost_path(self) -> RetryPath | None:
        """Celery 5.7 `retry_on_worker_lost`: a lost worker is a retry that counts (§1b)."""
        option = self.option("retry_on_worker_lost")
        if not _is_true(option.value) or not at_least(self.a.ctx.version, (5, 7), (5, 7, 0)):
            return None
        count, count_prov = self.count()
        fn, prov = self.constant_delay("default_retry_delay")
        no_jitter = Provenance(option.source, option.location, "no jitter on default_retry_delay")
        fixed: tuple[BackoffKind, Provenance] = (
            "fixed",
            Provenance(option.source, option.location, _CONSTANT),
        )
        return RetryPath("automatic", count, count_prov, fn, prov, False, no_jitter, kind=fixed)

    def _backoff_path(self, count: Count, count_prov: Provenance, backoff: Option) -> RetryPath:
        """`countdown = min(retry_backoff_max, factor * 2**r)`, jittered in [0, countdown]."""
        raw = backoff.value.value if isinstance(backoff.value, Known) else None
        factor = 1 if isinstance(raw, bool) else int(max(1.0, number(backoff.value) or 1.0))
        cap_fn, cap_prov = self.constant_delay("retry_backoff_max")
        jitter_opt = self.option("retry_jitter")
        jitter: bool | Literal["undecided"] = UNDECIDED
        if isinstance(jitter_opt.value, Known):
            jitter = bool(jitter_opt.value.value)
        else:
            self._undecided("retry_jitter", jitter_opt, jitter_opt.value)
        if cap_fn is None:  # the doubling is known, only where it stops is not
            return RetryPath(
                "automatic",
                count,
                count_prov,
                None,
                cap_prov,
                jitter,
                jitter_opt.provenance,
                kind=("exponential", backoff.provenance),
            )
        return RetryPath(
            "automatic",
            count,
            count_prov,
            lambda r: factor * 2.0**r,
            backoff.provenance,
            jitter,
            jitter_opt.provenance,
            cap=cap_fn(0),
        )

    # -- manual retries ------------------------------------------------------------------

    def retry_calls(self) -> list[tuple[ir.Call, ir.Function, ir.ModuleSummary, str]]:
        """`<task>.retry(...)` calls reachable from the task body, with the name of the task."""
        out: list[tuple[ir.Call, ir.Function, ir.ModuleSummary, str]] = []
        bodies: list[tuple[ir.Function, str]] = []
        # Methods of the task's classes run with `self` bound to the task (`before_start`,
        # helpers called from `run`), so a `self.retry()` in any of them retries this task.
        for cls, module, _ in self.chain:
            for method in cls.methods:
                if method.params:
                    out.extend(self._retry_calls_in(method, module, method.params[0], 0))
        if isinstance(self.definition, ir.Class):
            bodies = [(m, m.params[0]) for m in self.definition.methods if m.params]
        else:
            bound = self.decorator_opts.get("bind")
            is_bound = bound is not None and isinstance(bound.value, Known) and bound.value.value
            if is_bound and self.definition.params:
                bodies.append((self.definition, self.definition.params[0]))
            bodies.append((self.definition, self.definition.name))
        for fn, task_name in bodies:
            out.extend(self._retry_calls_in(fn, self.summary, task_name, 0))
        out.extend(self._wrapper_retry_calls())
        return out

    def _wrapper_retry_calls(self) -> Iterator[tuple[ir.Call, ir.Function, ir.ModuleSummary, str]]:
        """`retry()` calls inside a configured wrapper retry every task it makes.

        A wrapper such as `def resilient(**kw): ...; task = shared_task(**kw)(inner)` reaches
        the task through its own variables, so any `<name>.retry(...)` in the wrapper's code
        (its body, its nested functions, or the methods of a wrapper class) counts.
        """
        wrapper = self.info.wrapper if self.info is not None else None
        if wrapper is None or wrapper.module is None:
            return
        prefix = wrapper.qualified.removeprefix(f"{wrapper.module.module}.")
        functions = [
            fn
            for fn in wrapper.module.functions
            if fn.qualname == prefix or fn.qualname.startswith(prefix + ".")
        ]
        if wrapper.cls is not None:
            functions.extend(wrapper.cls.methods)
        for fn in functions:
            for call in fn.calls:
                if isinstance(call.func, ir.Ref) and call.func.dotted.endswith(".retry"):
                    yield call, fn, wrapper.module, call.func.dotted.rpartition(".")[0]

    def _retry_calls_in(
        self, fn: ir.Function, module: ir.ModuleSummary, task_name: str, depth: int
    ) -> Iterator[tuple[ir.Call, ir.Function, ir.ModuleSummary, str]]:
        for call in fn.calls:
            if not isinstance(call.func, ir.Ref):
                continue
            receiver, _, method = call.func.dotted.rpartition(".")
            if method == "retry" and (
                receiver == task_name or self._is_current_task(receiver, module)
            ):
                yield call, fn, module, receiver
                continue
            if depth >= 2:
                continue
            # A helper that receives the task: `handle(self, exc)` → `task.retry(...)` inside.
            for index, arg in enumerate(call.args):
                if isinstance(arg, ir.Ref) and arg.dotted == task_name:
                    target = self.a.project.resolve(module, call.func.dotted)
                    if target is None or target.function is None or target.module is None:
                        continue
                    helper = target.function
                    if index < len(helper.params):
                        yield from self._retry_calls_in(
                            helper, target.module, helper.params[index], depth + 1
                        )

    def _is_current_task(self, receiver: str, module: ir.ModuleSummary) -> bool:
        found = self.a.project.resolve(module, receiver) if receiver else None
        return found is not None and found.qualified in _CURRENT_TASK

    def manual_paths(self) -> list[RetryPath]:
        """One path per `retry()` call, starting at that call: each has its own countdown and
        budget, so each is resolved on its own."""
        return [
            replace(self._manual_path(*found), location=location_of(found[2], found[0].span))
            for found in self.retry_calls()
        ]

    def _manual_path(
        self, call: ir.Call, fn: ir.Function, module: ir.ModuleSummary, receiver: str
    ) -> RetryPath:
        local: dict[str, ir.Expr | Value] = {b.target: b.value for b in fn.locals}
        # Task options read through the task (`self.retry_backoff * 2 ** ...`, `**self.
        # retry_kwargs`) hold the values the task was configured with.
        for name in RETRY_OPTIONS:
            local[f"{receiver}.{name}"] = self.option(name).value
        retry_vars = frozenset({f"{receiver}.request.retries"})
        splatted: dict[object, Value] = {}
        for splat in call.splats:
            spread = self.evaluator.eval(splat, module, local, retry_vars)
            if isinstance(spread, Known) and isinstance(spread.value, dict):
                splatted.update(spread.value)

        def option(name: str) -> Option | None:
            expr = call.kwarg(name)
            if expr is None:
                if name not in splatted:
                    return None
                value = splatted[name]
                return Option(
                    name,
                    value,
                    None,
                    location_of(module, call.span),
                    source_of(value, "explicit"),
                    module=module,
                )
            value = self.evaluator.eval(expr, module, local, retry_vars)
            loc = location_of(module, expr.span)
            return Option(name, value, expr, loc, source_of(value, "explicit"), module=module)

        count, count_prov = self.count()
        max_opt = option("max_retries")
        # `self.retry(max_retries=None)` means "the class value", never "forever".
        if max_opt is not None and not (
            isinstance(max_opt.value, Known) and max_opt.value.value is None
        ):
            count, count_prov = self._count_from(max_opt.value, max_opt)

        countdown, eta = option("countdown"), option("eta")
        if countdown is None and eta is not None:
            prov = self._undecided(
                "eta", eta, Unknown(eta.text, eta.location or self.row_location())
            )
            return RetryPath("manual", count, count_prov, None, prov, UNDECIDED, prov)
        if countdown is None:
            delay, prov = self.constant_delay("default_retry_delay")
            here = location_of(module, call.span)
            # Never jittered, whether or not the delay's value is decided.
            no_jitter = Provenance("explicit", here, "no jitter on default_retry_delay")
            fixed: tuple[BackoffKind, Provenance] = (
                "fixed",
                Provenance("explicit", here, "self.retry() waits default_retry_delay"),
            )
            return RetryPath("manual", count, count_prov, delay, prov, False, no_jitter, kind=fixed)
        jitter = countdown.expr is not None and draws_random(countdown.expr, local, 0)
        jitter_prov = Provenance("explicit", countdown.location, "countdown written in code")
        value = countdown.value
        if isinstance(value, Formula):
            return RetryPath(
                "manual", count, count_prov, value.fn, countdown.provenance, jitter, jitter_prov
            )
        amount = number(value)
        if amount is None:
            prov = self._undecided("countdown", countdown, value)
            return RetryPath("manual", count, count_prov, None, prov, jitter, jitter_prov)
        return RetryPath(
            "manual",
            count,
            count_prov,
            constant_delay(amount),
            countdown.provenance,
            jitter,
            jitter_prov,
        )

    # -- the row -------------------------------------------------------------------------

    def build(self) -> EffectivePolicy:
        name = self.name_value()
        name_expression = self.name_expression()
        automatic = self.automatic_path()
        paths = []
        if isinstance(automatic, RetryPath):
            paths.append(replace(automatic, location=self.option("autoretry_for").location))
        paths.extend(self.manual_paths())
        lost = self.worker_lost_path()
        if lost is not None:
            paths.append(replace(lost, location=self.option("retry_on_worker_lost").location))
        undecided_trigger = (
            Provenance("undecided", automatic.location) if isinstance(automatic, Unknown) else None
        )
        inert: tuple[tuple[str, Location], ...] = ()
        if paths or undecided_trigger is not None:
            fields = combine(paths, undecided_trigger)
        else:
            fields = never_retries(
                Provenance("default", None, "no autoretry_for and no retry call")
            )
            # Options written on the task or on its own base classes; annotations and
            # task_cls apply to every task and are not this task's configuration.
            written = {**self._chain_options(), **self.own, **self.decorator_opts}
            inert = tuple(
                (opt_name, opt.location)
                for opt_name, opt in sorted(written.items())
                if opt_name in RETRY_OPTIONS
                and opt_name != "autoretry_for"
                and opt.location is not None
            )
        location = self.row_location()
        anchors = tuple(
            sorted({d.span.line for d in self.definition.decorators} | {self.definition.span.line})
        )
        return policy_row(
            name=name,
            name_expression=name_expression,
            framework=KEY,
            site="definition",
            location=location,
            fields=fields,
            final_failure=self.final_failure(),
            log=self.log,
            version=self.a.ctx.version or REFERENCE_VERSION,
            anchors=anchors,
            hints=_HINTS,
            inert=inert,
            via=self.info.options.via if self.info is not None else (),
            broad=self.broad,
        )

    def observations(self, row: EffectivePolicy) -> Iterator[Observation]:
        """Requeue loops (RL106): ways a message comes back that no retry counter sees."""
        subject = f"`{row.name}`" if row.name else "this task"

        def requeue(location: Location, message: str, fix: str) -> Observation:
            return Observation(
                "requeue-loop",
                location,
                f"{subject} {message}",
                fix,
                KEY,
                row.name,
                "definition",
                row.suppression_lines,
            )

        bodies = self._bodies()
        for fn, module, _ in bodies:
            for raised in fn.raises:
                if not isinstance(raised.exc, ir.Call) or not isinstance(raised.exc.func, ir.Ref):
                    continue
                target = self.a.project.resolve(module, raised.exc.func.dotted)
                flag = raised.exc.kwarg("requeue")
                if target is None or target.qualified not in _REJECT or flag is None:
                    continue
                value = self.evaluator.eval(flag, module)
                if isinstance(value, Known) and value.value is True:
                    yield requeue(
                        location_of(module, raised.span),
                        "raises Reject(requeue=True): the message goes back to the queue "
                        "without counting as a retry, so a message that always fails loops "
                        "forever",
                        "Reject with requeue=False (to dead-letter it), or call self.retry() "
                        "with a bounded max_retries.",
                    )
        yield from self._ignored_options(row, subject)
        acks_late = self.option("acks_late")
        lost = self.option("reject_on_worker_lost")
        if _is_true(acks_late.value) and _is_true(lost.value):
            yield from self._lost_worker_loop(row, acks_late, lost, requeue)
        names = {self.definition.name}
        if isinstance(self.definition, ir.Function) and self.definition.params:
            bound = self.decorator_opts.get("bind")
            if bound is not None and _is_true(bound.value):
                names.add(self.definition.params[0])
        for fn, module, receiver_names in bodies:
            for call in fn.calls:
                if not isinstance(call.func, ir.Ref):
                    continue
                receiver, _, method = call.func.dotted.rpartition(".")
                # Only from an exception handler is re-enqueueing a retry in disguise; a
                # batch job that queues its next batch in normal flow is not.
                if (
                    method in ("delay", "apply_async")
                    and receiver in (names | receiver_names)
                    and call.in_handler
                ):
                    if call.kwarg("retries") is not None and not isinstance(
                        call.kwarg("retries"), ir.Const
                    ):
                        continue  # the counter is carried over: `retries=self.request.retries + 1`
                    yield requeue(
                        location_of(module, call.span),
                        f"enqueues itself when it fails ({call.func.text} in an except block): "
                        "the new message starts with retries=0, so no max_retries bounds the "
                        "loop",
                        "Use self.retry(...) so the retry counter applies, or stop the chain "
                        "explicitly.",
                    )

    def worker_loss(self) -> WorkerLoss | None:
        """Whether a lost worker hands the message out again: worker/request.py `on_failure`
        requeues on `WorkerLostError` only under `acks_late` with `reject_on_worker_lost`;
        `acks_late` alone acknowledges the message as failed (or rejects it without requeue
        when `acks_on_failure_or_timeout` is False), so the run is not repeated."""
        acks_late = self.option("acks_late")
        lost = self.option("reject_on_worker_lost")
        if not (_is_true(acks_late.value) and _is_true(lost.value)):
            return None
        return WorkerLoss(tuple((f"{o.name}=True", o.provenance) for o in (acks_late, lost)))

    def _lost_worker_loop(
        self,
        row: EffectivePolicy,
        acks_late: Option,
        lost: Option,
        requeue: Callable[[Location, str, str], Observation],
    ) -> Iterator[Observation]:
        """RL106 for `acks_late` with `reject_on_worker_lost`: once at the app settings when
        both come from there (one cause, however many tasks inherit it), else on the task."""
        loop = (
            "a message whose task kills its worker (out of memory, segfault) is redelivered "
            "forever, and no retry counter sees it"
        )
        from_app = [o for o in (acks_late, lost) if o.note.startswith(_APP_SETTING)]
        if len(from_app) < 2:
            task_level = lost if lost not in from_app else acks_late
            yield requeue(
                task_level.location or row.location,
                f"sets acks_late and reject_on_worker_lost: {loop}",
                "Drop reject_on_worker_lost, or make the task safe to lose.",
            )
            return
        location = lost.location or row.location
        if (KEY, location) in self.a.reported or not self.a.scanned(location):
            return
        self.a.reported.add((KEY, location))
        yield Observation(
            "requeue-loop",
            location,
            f"The app sets task_acks_late and task_reject_on_worker_lost for every task that "
            f"does not set its own (acks_late at {acks_late.location}): {loop}",
            "Drop task_reject_on_worker_lost, or set reject_on_worker_lost=False on the tasks "
            "that are not safe to lose.",
            KEY,
        )

    def _ignored_options(self, row: EffectivePolicy, subject: str) -> Iterator[Observation]:
        """RL503: options Celery accepts without effect (reference §14, §1b)."""

        def ignored(option: Option, message: str, fix: str) -> Observation:
            return Observation(
                "ignored-retry-option",
                option.location or row.location,
                f"{subject} {message}",
                fix,
                KEY,
                row.name,
                "definition",
                row.suppression_lines,
            )

        if isinstance(self.definition, ir.Class):
            for layer in self.annotations:
                for name, option in sorted(layer.items()):
                    if name in AUTORETRY_OPTIONS:
                        yield ignored(
                            option,
                            f"is a class-based task: Celery installs its autoretry when the "
                            f"class is registered, before annotations apply, so the annotated "
                            f"`{name}` does nothing",
                            f"Set `{name}` as a class attribute of the task.",
                        )
        if not at_least(self.a.ctx.version, (5, 7), (5, 7, 0)):
            written = {**self._chain_options(), **self.own, **self.decorator_opts}
            for name in sorted(_CELERY_57_OPTIONS & written.keys()):
                yield ignored(
                    written[name],
                    f"sets `{name}`, which exists only from Celery 5.7; with Celery "
                    f"{self.a.ctx.version} it does nothing",
                    "Upgrade Celery to 5.7, or remove the option.",
                )

    def _bodies(self) -> list[tuple[ir.Function, ir.ModuleSummary, set[str]]]:
        """Code that runs as this task, with the names the task goes by inside it."""
        out: list[tuple[ir.Function, ir.ModuleSummary, set[str]]] = []
        if isinstance(self.definition, ir.Function):
            out.append((self.definition, self.summary, set()))
        else:
            out.extend(
                (m, self.summary, {m.params[0]} if m.params else set())
                for m in self.definition.methods
            )
        for cls, module, _ in self.chain[: self._own_chain]:
            out.extend((m, module, {m.params[0]} if m.params else set()) for m in cls.methods)
        return out

    def final_failure(self) -> str:
        classes: list[tuple[ir.Class, ir.ModuleSummary]] = []
        if isinstance(self.definition, ir.Class):
            classes.append((self.definition, self.summary))
        classes.extend((cls, module) for cls, module, _ in self.chain)
        for cls, module in classes:
            for method in cls.methods:
                if method.name == "on_failure":
                    return f"on_failure at {module.path}:{method.span.line}"
        for location, sender in self.a.failure_handlers():
            if sender is None or sender == f"{self.summary.module}.{self.definition.qualname}":
                return f"task_failure handler at {location}"
        if _is_true(self.option("acks_late").value):
            acks = self.option("acks_on_failure_or_timeout")
            if isinstance(acks.value, Known) and acks.value.value is False:
                return (
                    "rejected to the broker's dead-letter exchange "
                    "(acks_on_failure_or_timeout=False)"
                )
        return "nowhere"


_NO_JITTER = "Celery adds jitter only with retry_backoff"
_APP_SETTING = "app setting"
_CONSTANT = "retry_backoff is off: every retry waits the same delay"
_REJECT = frozenset({"celery.exceptions.Reject"})
_FAILURE_SIGNALS = frozenset({"celery.signals.task_failure"})


def _is_true(value: Value) -> bool:
    return isinstance(value, Known) and value.value is True


# Framework-aware advice the neutral rules quote (CONTRACTS §6: RL201/RL202 say what to do).
_HINTS: tuple[tuple[str, str], ...] = (
    ("max_retries", "Set max_retries to a finite number on the task (None means forever)."),
    (
        "backoff",
        "Use autoretry_for with retry_backoff=True (waits 1, 2, 4 ... s, capped by "
        "retry_backoff_max), or pass a growing countdown to self.retry().",
    ),
    (
        "jitter",
        "Celery jitters only retry_backoff delays: use retry_backoff=True (retry_jitter "
        "defaults to True); default_retry_delay and self.retry(countdown=...) are never "
        "jittered unless you add random.uniform() yourself.",
    ),
    ("trigger", "it has no autoretry_for and calls no self.retry()"),
    (
        "visibility_timeout",
        "In Celery: broker_transport_options={'visibility_timeout': <seconds>} on the app "
        "(CELERY_BROKER_TRANSPORT_OPTIONS in Django settings), or retry_backoff_max / a "
        "smaller countdown.",
    ),
    (
        "dead_letter",
        "Add on_failure to the task or a base class, or connect a task_failure handler, that "
        "stores or reports the failed message.",
    ),
    ("trigger_fix", "Add autoretry_for=(<transient errors>,), or remove the retry options."),
    (
        "window",
        "Raise max_retries or the delays: default_retry_delay, the countdown passed to "
        "self.retry(), or retry_backoff with a higher retry_backoff_max (600 s by default).",
    ),
)
