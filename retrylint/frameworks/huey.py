"""Huey (written against 3.5.4; `retry_backoff` exists from 3.3.0).

Recognised task forms: `@<huey>.task(...)`, `@<huey>.periodic_task(...)` and
`@<huey>.context_task(...)` on any `Huey` instance (`RedisHuey`, `SqliteHuey`, a project subclass,
djhuey's `HUEY`, django-huey's `get_queue(name)`), found by what the receiver is; Django's
`huey.contrib.djhuey` `task`, `periodic_task`, `db_task`, `db_periodic_task` and `on_commit_task`;
django-huey's (`django_huey`, 1.3) `task`, `periodic_task`, `context_task`, `db_task` and
`db_periodic_task`, which pass everything but `queue=` on to the Huey instance that queue names;
and module-level aliases of any of them (`retrying = huey.task(retries=3)`). Options may be
positional, as in Huey's signatures. `lock_task` makes no task: it only wraps one.

Facts from Huey 3.5.4's source (reference §4 and §14):
- `retries` counts retries; the default is 0. A failure retries while `not task.retries` is
  false, so a negative or fractional count never reaches 0 and retries forever.
- `retry_delay` (seconds, default 0) waits before each retry; from 3.3.0 `retry_backoff=k`
  multiplies it by k after each delayed retry, with no cap. Before 3.3 the option is ignored.
- `raise RetryTask()` adds one retry before the requeue takes one away: it never uses up the
  budget, even with `retries=0`. `CancelExecution(retry=True)` likewise repeats forever.
  `Huey._execute` catches both around the whole task call, so one raised in a project helper
  the task calls counts too (followed two calls deep; undecorated helpers only, since calling
  another task enqueues it).
- `fn.s(...)`, `fn.schedule(...)` and a plain call `fn(...)` accept `retries`, `retry_delay` and
  `retry_backoff` per enqueue.
- There is no jitter and no dead-letter store: after the last retry an `Error` result is kept
  (when results are on) and `SIGNAL_ERROR` handlers run.
- The decorator's options become class attributes of a generated subclass of `task_base=`
  (default `huey.api.Task`), so a project base class that defines `retries`, `retry_delay` or
  `retry_backoff` (a property, a class attribute, or `self.<name> = ...` in a method) decides
  those values at run time: they are undecided here.
- Which Huey instance (djhuey's `HUEY`, django-huey's `queue=`) runs a task changes neither its
  retries nor its name: a Huey instance has no retry settings, and the name is the function's
  module and name (`module.` + `name=` or `fn.__name__`; the db wrappers keep both through
  `functools.wraps`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from retrylint.frameworks.base import (
    MAX_CHAIN,
    AdapterContext,
    UndecidedLog,
    Where,
    dict_items,
    locals_of,
    memoized,
    module_calls,
    policy_row,
    source_of,
)
from retrylint.frameworks.recognize import Recognizer
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
    Via,
)
from retrylint.python import ir
from retrylint.python.evaluate import (
    Known,
    Unknown,
    Value,
    location_of,
    mentions_random,
    number,
)
from retrylint.python.project import Resolved
from retrylint.resolve.schedule import DelayFn, RetryPath, combine, constant_delay, never_retries
from retrylint.scan.versions import at_least

KEY = "huey"
# The version the facts above were read from (reference §0), assumed when none is detected.
REFERENCE_VERSION = "3.5.4"

RETRY_OPTIONS = ("retries", "retry_delay", "retry_backoff")
_DJHUEY = "huey.contrib.djhuey"
# django-huey (PyPI `django-huey`): module functions that take `queue=` and call that Huey.
_DJANGO_HUEY = "django_huey"
# Decorator makers and the names of their positional parameters.
_TASK_ARGS = ("retries", "retry_delay", "retry_backoff", "priority", "context", "name")
_PERIODIC_ARGS = ("validate_datetime", *_TASK_ARGS)
_METHODS: dict[str, tuple[str, ...]] = {
    "task": _TASK_ARGS,
    "periodic_task": _PERIODIC_ARGS,
    "context_task": ("obj", "as_argument"),
}
_DJANGO: dict[str, tuple[str, ...]] = {
    f"{_DJHUEY}.task": _TASK_ARGS,
    f"{_DJHUEY}.db_task": _TASK_ARGS,
    f"{_DJHUEY}.on_commit_task": _TASK_ARGS,
    f"{_DJHUEY}.periodic_task": _PERIODIC_ARGS,
    f"{_DJHUEY}.db_periodic_task": _PERIODIC_ARGS,
    f"{_DJANGO_HUEY}.task": _TASK_ARGS,
    f"{_DJANGO_HUEY}.db_task": _TASK_ARGS,
    f"{_DJANGO_HUEY}.periodic_task": _PERIODIC_ARGS,
    f"{_DJANGO_HUEY}.db_periodic_task": _PERIODIC_ARGS,
    f"{_DJANGO_HUEY}.context_task": _METHODS["context_task"],
}
# Functions that return a Huey instance (django-huey's `get_queue("name")`).
_INSTANCE_FACTORIES = frozenset({f"{_DJANGO_HUEY}.get_queue"})
# `signal(...)` functions of the Django integrations, like `<huey>.signal(...)`.
_SIGNAL_FUNCS = frozenset({f"{_DJHUEY}.signal", f"{_DJANGO_HUEY}.signal"})
# Huey's own task classes, and the attributes a project `task_base=` may take over.
_TASK_BASES = frozenset(
    {"huey.api.Task", "huey.Task", "huey.api.PeriodicTask", "huey.PeriodicTask"}
)
# How many calls deep a task's project helpers are followed for a `raise RetryTask`.
_HELPER_DEPTH = 2
_RETRY_TASK = frozenset({"huey.exceptions.RetryTask", "huey.RetryTask", "huey.api.RetryTask"})
_CANCEL = frozenset(
    {"huey.exceptions.CancelExecution", "huey.CancelExecution", "huey.api.CancelExecution"}
)
_SIGNAL_ERROR = frozenset({"huey.signals.SIGNAL_ERROR", "huey.SIGNAL_ERROR"})
# `.schedule()` takes its options by keyword; `.s()` and a plain call pop them from kwargs.
_ENQUEUE_METHODS = ("s", "schedule")


@dataclass
class _Decorator:
    options: dict[str, Where] = field(default_factory=dict)
    splats: list[Where] = field(default_factory=list)
    via: tuple[Via, ...] = ()


@dataclass(frozen=True)
class _Task:
    fn: ir.Function
    module: ir.ModuleSummary
    info: _Decorator


def _is_huey_class(qualified: str) -> bool:
    parts = qualified.split(".")
    return parts[0] == "huey" and parts[-1].endswith("Huey")


class HueyAdapter:
    key = KEY
    info = FrameworkInfo(
        "Huey",
        "huey",
        in_process=False,
        capabilities=Capabilities(
            count="setting", backoff="setting", jitter="code", dead_letter="code"
        ),
    )
    packages: tuple[str, ...] = ("huey", _DJANGO_HUEY)
    # A Huey file names huey (djhuey, django_huey) or one of its task decorators or exceptions.
    markers = re.compile(rb"huey\b|djhuey|db_task\b|db_periodic_task\b|RetryTask")
    # Attributes: what a project `task_base=` class may define or set on `self`.
    interest = ir.Interest(
        calls=frozenset({"s", "schedule", "signal", "CancelExecution", "RetryTask"}),
        attributes=frozenset(RETRY_OPTIONS),
    )

    def analyze(self, ctx: AdapterContext) -> Iterable[EffectivePolicy | Observation]:
        return _Analysis(ctx).rows()

    def project_markers(self, ctx: AdapterContext) -> frozenset[str]:
        a = _Analysis(ctx)
        return a.recognizer.markers(
            ctx.scanned,
            lambda b, m: a.instance(b.target, m) is not None or a.decorator(b.value, m) is not None,
        )


class _Analysis:
    def __init__(self, ctx: AdapterContext) -> None:
        self.ctx = ctx
        self.project = ctx.project
        self.evaluator = ctx.evaluator
        self.version = ctx.version or REFERENCE_VERSION
        self.backoff_supported = at_least(ctx.version, (3, 3), (3, 5, 4))
        self._instances: dict[tuple[str, str], str | None] = {}
        self._tasks: dict[str, _Task] | None = None
        self._handlers: list[Location] | None = None
        self.recognizer = Recognizer(
            ctx.project,
            lambda expr, module: self.maker(expr, module) is not None,
            ctx.settings.task_decorators,
        )

    # -- recognising Huey ----------------------------------------------------------------

    def instance(self, dotted: str, module: ir.ModuleSummary, depth: int = 0) -> str | None:
        """The identity of the Huey instance a name refers to, or None."""
        return memoized(
            self._instances,
            (module.path, dotted),
            lambda: self._find_instance(dotted, module, depth),
        )

    def _find_instance(self, dotted: str, module: ir.ModuleSummary, depth: int) -> str | None:
        found = self.project.resolve(module, dotted)
        if found is None or depth > MAX_CHAIN:
            return None
        if found.kind == "external":
            return found.qualified if found.qualified == f"{_DJHUEY}.HUEY" else None
        if found.kind != "binding" or found.binding is None or found.module is None:
            return None
        value, where = self.evaluator.deref(found.binding.value, found.module)
        if isinstance(value, ir.Ref):
            return self.instance(value.dotted, where, depth + 1)
        if isinstance(value, ir.Call) and isinstance(value.func, ir.Ref):
            made = self.project.resolve(where, value.func.dotted)
            if made is not None and (
                _is_huey_class(made.qualified)
                or made.qualified in _INSTANCE_FACTORIES
                or self._subclass(made, depth + 1)
            ):
                return found.qualified
        return None

    def _subclass(self, found: Resolved, depth: int) -> bool:
        cls, module = found.cls, found.module
        if cls is None or module is None or found.kind != "class" or depth > MAX_CHAIN:
            return False
        for base in cls.bases:
            if not isinstance(base, ir.Ref):
                continue
            target = self.project.resolve(module, base.dotted)
            if target is not None and (
                _is_huey_class(target.qualified) or self._subclass(target, depth + 1)
            ):
                return True
        return False

    def base_names(self, found: Resolved | None, depth: int = 0) -> frozenset[str] | None:
        """Names a `task_base=` class defines above Huey's own `Task`, None if unreadable.

        Class attributes, methods (a `retry_delay` property) and `self.<name> = ...` in any
        method count; a base outside the project other than Huey's cannot be read.
        """
        if found is None or depth > MAX_CHAIN:
            return None
        if found.qualified in _TASK_BASES:
            return frozenset()
        cls, module = found.cls, found.module
        if found.kind != "class" or cls is None or module is None:
            return None
        # A constant class attribute is shadowed by the instance attribute `Task.__init__`
        # sets; anything else (`property(...)`) may take the option over.
        names = {a.target for a in cls.attributes if not isinstance(a.value, ir.Const)}
        for method in cls.methods:
            names.add(method.name)
            owner = method.params[0] if method.params else None
            for bound in method.locals:
                head, _, attr = bound.target.partition(".")
                if head == owner and attr and "." not in attr:
                    names.add(attr)
        for base in cls.bases:
            if not isinstance(base, ir.Ref):
                return None
            inherited = self.base_names(self.project.resolve(module, base.dotted), depth + 1)
            if inherited is None:
                return None
            names |= inherited
        return frozenset(names)

    def maker(self, expr: ir.Expr, module: ir.ModuleSummary) -> tuple[str, ...] | None:
        """Positional parameter names of a task-decorator maker (`huey.task`), or None."""
        if not isinstance(expr, ir.Ref):
            return None
        found = self.project.resolve(module, expr.dotted)
        if found is not None and found.qualified in _DJANGO:
            return _DJANGO[found.qualified]
        if found is not None and self.recognizer.configured(found):
            return _METHODS["task"]  # a named wrapper passes its keywords on to `task`
        receiver, _, method = expr.dotted.rpartition(".")
        if method in _METHODS and receiver and self.instance(receiver, module) is not None:
            return _METHODS[method]
        if found is not None and found.kind == "binding" and found.binding and found.module:
            return self.maker(found.binding.value, found.module)
        return None

    def decorator(
        self, expr: ir.Expr, module: ir.ModuleSummary, depth: int = 0
    ) -> _Decorator | None:
        """The options a decorator applies, or None when it does not make a Huey task."""
        if depth > MAX_CHAIN:
            return None
        expansion = self.recognizer.expand(expr, module)
        if expansion is not None:
            options = expansion.options
            return _Decorator(
                dict(options.kwargs),
                list(options.splats),
                expansion.via,
            )
        if isinstance(expr, ir.Call):
            params = self.maker(expr.func, module)
            if params is None:
                return None
            info = _Decorator()
            for index, arg in enumerate(expr.args):
                if isinstance(arg, ir.Starred) or index >= len(params):
                    break
                info.options[params[index]] = Where(arg, module)
            for kw in expr.kwargs:
                if kw.name is None:
                    info.splats.append(Where(kw.value, module))
                else:
                    info.options[kw.name] = Where(kw.value, module)
            return info
        if isinstance(expr, ir.Ref):
            found = self.project.resolve(module, expr.dotted)
            if found is not None and found.kind == "binding" and found.binding and found.module:
                return self.decorator(found.binding.value, found.module, depth + 1)
        return None

    def tasks(self) -> dict[str, _Task]:
        """Every Huey task function of the project, by file and qualified name (two services
        may each have an `app.tasks.send`)."""
        if self._tasks is None:
            self._tasks = {}
            for summary in list(self.project.loaded()):
                for fn in summary.functions:
                    if self.recognizer.inside_wrapper(fn, summary):
                        continue
                    for dec in fn.decorators:
                        info = self.decorator(dec, summary)
                        if info is not None:
                            self._tasks[f"{summary.path}:{fn.qualname}"] = _Task(fn, summary, info)
                            break
        return self._tasks

    def error_handlers(self) -> list[Location]:
        """`@huey.signal(SIGNAL_ERROR)` (or `@huey.signal()`, every signal) handlers, and the
        same registrations written as calls (`signal(queue=name)(handler)` in a setup
        function), located at the call."""
        if self._handlers is not None:
            return self._handlers
        found: list[Location] = []
        for summary in list(self.project.loaded()):
            for fn in summary.functions:
                if any(self._registers_error(d, summary) for d in fn.decorators):
                    found.append(location_of(summary, fn.span))
            for call, _ in module_calls(summary):
                if self._registers_error(call, summary):
                    found.append(location_of(summary, call.span))
        self._handlers = sorted(set(found))
        return self._handlers

    def _registers_error(self, expr: ir.Expr, summary: ir.ModuleSummary) -> bool:
        """Whether `expr` is a Huey `signal(...)` call that covers SIGNAL_ERROR."""
        if not isinstance(expr, ir.Call) or not isinstance(expr.func, ir.Ref):
            return False
        receiver, _, method = expr.func.dotted.rpartition(".")
        target = self.project.resolve(summary, expr.func.dotted)
        if target is not None and target.binding is not None and target.module is not None:
            # `on_signal = djhuey.signal`: the function the name is bound to.
            value, where = self.evaluator.deref(target.binding.value, target.module)
            if isinstance(value, ir.Ref):
                target = self.project.resolve(where, value.dotted)
        django = target is not None and target.qualified in _SIGNAL_FUNCS
        if not django and not (
            method == "signal" and receiver and self.instance(receiver, summary)
        ):
            return False
        return not expr.args or any(self._is_error_signal(a, summary) for a in expr.args)

    def _is_error_signal(self, expr: ir.Expr, module: ir.ModuleSummary) -> bool:
        if isinstance(expr, ir.Const):
            return expr.value == "error"
        if isinstance(expr, ir.Ref):
            found = self.project.resolve(module, expr.dotted)
            return found is not None and found.qualified in _SIGNAL_ERROR
        return False

    # -- rows ----------------------------------------------------------------------------

    def rows(self) -> Iterator[EffectivePolicy | Observation]:
        tasks = self.tasks()
        for summary in self.ctx.scanned:
            for fn in summary.functions:
                task = tasks.get(f"{summary.path}:{fn.qualname}")
                if task is not None and task.module is summary:
                    yield from _Builder(self, task).definition()
            for call, scope in module_calls(summary):
                yield from self._enqueue(call, scope, summary, tasks)

    def _enqueue(
        self,
        call: ir.Call,
        scope: ir.Function | None,
        summary: ir.ModuleSummary,
        tasks: Mapping[str, _Task],
    ) -> Iterator[EffectivePolicy | Observation]:
        if not isinstance(call.func, ir.Ref):
            return
        receiver, _, method = call.func.dotted.rpartition(".")
        target_name = receiver if method in _ENQUEUE_METHODS else call.func.dotted
        if not target_name:
            return
        found = self.project.resolve(summary, target_name)
        if found is None or found.function is None or found.module is None:
            return
        task = tasks.get(f"{found.module.path}:{found.function.qualname}")
        if task is None:
            return
        local = locals_of(scope, call.span.line)
        overrides: dict[str, Where] = {}
        for name in RETRY_OPTIONS:
            expr = call.kwarg(name)
            # `retries=None` keeps the task's own value: it overrides nothing.
            if expr is not None and not (isinstance(expr, ir.Const) and expr.value is None):
                overrides[name] = Where(expr, summary, local=local)
        if not overrides:
            return
        yield from _Builder(self, task, overrides, call, summary).enqueue()


class _Builder:
    """Resolves one task definition (or one enqueue of it) into an inventory row."""

    def __init__(
        self,
        analysis: _Analysis,
        task: _Task,
        overrides: Mapping[str, Where] | None = None,
        call: ir.Call | None = None,
        call_module: ir.ModuleSummary | None = None,
    ) -> None:
        self.a = analysis
        self.task = task
        self.overrides = dict(overrides or {})
        self.call = call
        self.call_module = call_module
        self.log = UndecidedLog()
        self.options = self._options()
        self.taken_over, self.base = self._task_base()
        self.changed = self._changed_while_running()

    def _options(self) -> dict[str, Where]:
        info = self.task.info
        out: dict[str, Where] = {}
        for splat in info.splats:
            # The mapping as written (a literal, `dict(...)`, spreads of constants); one built
            # some other way is undecided rather than silently empty.
            items = dict_items(self.a.evaluator, splat.expr, splat.module)
            if isinstance(items, Unknown):
                self.log.add("options", items)
                continue
            for key, (expr, module) in items.items():
                out[key] = Where(expr, module)
        out.update(info.options)
        return out

    def _task_base(self) -> tuple[frozenset[str], Where | None]:
        """The retry options a project `task_base=` class decides at run time, and the class."""
        where = self.options.get("task_base")
        if where is None:
            return frozenset(), None
        expr, module = self.a.evaluator.deref(where.expr, where.module)
        if isinstance(expr, ir.Const) and expr.value is None:
            return frozenset(), None
        found = self.a.project.resolve(module, expr.dotted) if isinstance(expr, ir.Ref) else None
        names = self.a.base_names(found)
        taken = frozenset(RETRY_OPTIONS) if names is None else names & frozenset(RETRY_OPTIONS)
        return taken, where if taken else None

    def _changed_while_running(self) -> dict[str, tuple[ir.Binding, ir.ModuleSummary]]:
        """Retry options the task's own code changes while it runs (Huey's documented
        `task.retry_delay *= 2` with `context=True`): the next retry uses the changed value, so
        the written one decides nothing. Read in the task and in the wrappers it went through."""
        bodies: list[tuple[ir.Function, ir.ModuleSummary]] = [(self.task.fn, self.task.module)]
        for via in self.task.info.via:
            found = self.a.project.resolve_qualified(via.wrapper)
            if found.module is not None and found.function is not None:
                bodies.append((found.function, found.module))
        changed: dict[str, tuple[ir.Binding, ir.ModuleSummary]] = {}
        for fn, module in bodies:
            prefix = f"{fn.qualname}.<locals>."
            scope = [fn, *(f for f in module.functions if f.qualname.startswith(prefix))]
            for binding in (b for f in scope for b in f.locals):
                head, _, option = binding.target.rpartition(".")
                if head and "." not in head and option in RETRY_OPTIONS:
                    changed.setdefault(option, (binding, module))
        return changed

    def _taken(self, name: str, base: Where) -> tuple[Value, Provenance, Where | None]:
        """An option the task base class sets at run time: `[assume]`d as `Base.name`, or
        undecided."""
        text = f"{base.expr.text}.{name}"
        value = self.a.evaluator.eval(ir.Opaque(text, base.expr.span), base.module)
        note = f"task_base={base.expr.text} sets {name} at run time"
        if isinstance(value, Unknown):
            self.log.add(name, value)
            return value, Provenance("undecided", value.location, note), None
        return value, Provenance("assumed", location_of(base.module, base.expr.span), note), None

    # -- identity ------------------------------------------------------------------------

    def name(self) -> tuple[str | None, str | None]:
        module = self.task.module.module
        prefix = f"{module}." if module else ""
        given = self.options.get("name")
        if given is None:
            return prefix + self.task.fn.name, None
        value = self.a.evaluator.eval(given.expr, given.module)
        # huey/api.py `TaskWrapper.create_task`: `if not name: name = func.__name__`.
        if isinstance(value, Known) and not value.value:
            return prefix + self.task.fn.name, None
        if isinstance(value, Known) and isinstance(value.value, str):
            return prefix + value.value, None
        unknown = (
            value
            if isinstance(value, Unknown)
            else Unknown(given.expr.text, location_of(given.module, given.expr.span))
        )
        self.log.add("name", unknown)
        return None, given.expr.text

    # -- options -------------------------------------------------------------------------

    def option(self, name: str) -> tuple[Value, Provenance, Where | None]:
        """The effective value of one option: the enqueue call, the decorator, Huey's default."""
        if name in self.taken_over and self.base is not None:
            return self._taken(name, self.base)  # whatever the call or decorator says
        if name in self.changed:
            binding, module = self.changed[name]
            unknown = Unknown(binding.value.text, location_of(module, binding.span))
            self.log.add(name, unknown)
            note = f"the task changes {name} while it runs"
            return unknown, Provenance("undecided", unknown.location, note), None
        where = self.overrides.get(name)
        written: Source = "explicit"
        if where is not None:
            value = self.a.evaluator.eval(where.expr, where.module, where.local)
            if isinstance(value, Known) and value.value is None:
                where = None  # `retries=None` means "the task's default"
        if where is None:
            where = self.options.get(name)
            written = "inherited" if self.call is not None else "explicit"
        if where is None:
            note = f"Huey's default {name}=0"
            return Known(0), Provenance("default", None, note), None
        value = self.a.evaluator.eval(where.expr, where.module, where.local)
        location = location_of(where.module, where.expr.span)
        if isinstance(value, Unknown):
            self.log.add(name, value)
            return value, Provenance("undecided", value.location), where
        return value, Provenance(source_of(value, written), location), where

    def count(self) -> tuple[Count, Provenance]:
        value, prov, _ = self.option("retries")
        if isinstance(value, Unknown):
            return UNDECIDED, prov
        amount = number(value)
        if amount is None:
            if isinstance(value, Known) and value.value is None:
                return 0, prov
            self.log.add("retries", Unknown(repr(value), prov.location or self.location()))
            return UNDECIDED, Provenance("undecided", prov.location)
        if amount < 0 or amount != math.floor(amount):
            # Each retry takes one away and the task stops only at exactly 0.
            note = "negative retries" if amount < 0 else "fractional retries"
            return UNBOUNDED, Provenance(prov.source, prov.location, f"{note} never reach 0")
        return int(amount), prov

    def delay(self) -> tuple[DelayFn | None, Provenance, list[Observation]]:
        """`retry_delay * retry_backoff**r` (3.3+), or the fixed `retry_delay`."""
        delay_value, delay_prov, _ = self.option("retry_delay")
        base = number(delay_value)
        if base is None:
            if isinstance(delay_value, Unknown):
                return None, delay_prov, []
            loc = delay_prov.location or self.location()
            self.log.add("retry_delay", Unknown(repr(delay_value), loc))
            return None, Provenance("undecided", delay_prov.location), []
        backoff_value, backoff_prov, backoff_where = self.option("retry_backoff")
        observations: list[Observation] = []
        if backoff_where is not None and not self.a.backoff_supported:
            observations.append(self._ignored_backoff(backoff_where))
            return constant_delay(base), delay_prov, observations
        if isinstance(backoff_value, Unknown):
            return None, backoff_prov, observations
        factor = number(backoff_value)
        if factor is None and isinstance(backoff_value, Known):
            factor = 1 if backoff_value.value is True else 0
        if not factor or base == 0:
            return constant_delay(base), delay_prov, observations
        ratio = float(factor)
        return (lambda r: base * ratio**r), backoff_prov, observations

    def _ignored_backoff(self, where: Where) -> Observation:
        subject = self.name()[0] or "this task"
        return Observation(
            "ignored-retry-option",
            location_of(where.module, where.expr.span),
            f"`{subject}` sets retry_backoff, which Huey {self.a.version} ignores: the option "
            "exists from Huey 3.3.0, and older versions store it as an unused attribute, so "
            "every retry waits the same retry_delay",
            "Upgrade Huey to 3.3 or later, or drop retry_backoff.",
            KEY,
            self.name()[0],
            "enqueue" if self.call is not None else "definition",
            self.anchors(),
        )

    def jitter(self) -> tuple[bool | Literal["undecided"], Provenance]:
        """Huey never jitters; a retry_delay drawn at random per enqueue differs between tasks."""
        taken = sorted({"retry_delay", "retry_backoff"} & self.taken_over)
        if taken and self.base is not None:
            note = f"task_base={self.base.expr.text} sets {' and '.join(taken)} at run time"
            at = location_of(self.base.module, self.base.expr.span)
            return UNDECIDED, Provenance("undecided", at, note)
        where = self.overrides.get("retry_delay")
        if where is not None and mentions_random(where.expr):
            at = location_of(where.module, where.expr.span)
            return True, Provenance("explicit", at, "retry_delay drawn at random per enqueue")
        return False, Provenance("default", None, "Huey never jitters retries")

    # -- manual retries ------------------------------------------------------------------

    def manual_paths(self) -> list[RetryPath]:
        """`raise RetryTask(...)` / `CancelExecution(retry=True)`: retries that never end."""
        paths: list[RetryPath] = []
        no_jitter = Provenance("default", None, "Huey never jitters retries")
        for exc, span, module, fn in self._raised():
            func = exc.func if isinstance(exc, ir.Call) else exc
            if not isinstance(func, ir.Ref):
                continue
            found = self.a.project.resolve(module, func.dotted)
            if found is None:
                continue
            at = location_of(module, span)
            if found.qualified in _RETRY_TASK:
                count_prov = Provenance(
                    "explicit", at, "RetryTask adds a retry back each time it is raised"
                )
                delay, delay_prov = self._retry_task_delay(exc, module, fn, at)
                paths.append(
                    RetryPath(
                        "manual",
                        UNBOUNDED,
                        count_prov,
                        delay,
                        delay_prov,
                        False,
                        no_jitter,
                        location=at,
                    )
                )
            elif found.qualified in _CANCEL and isinstance(exc, ir.Call):
                flag = exc.kwarg("retry") or (exc.args[1] if len(exc.args) > 1 else None)
                if flag is None:
                    continue
                value = self.a.evaluator.eval(flag, module, locals_of(fn))
                count: Count = UNBOUNDED
                if isinstance(value, Unknown):
                    # `retry=True` would repeat for ever, anything false not at all.
                    self.log.add("retry", value)
                    count = UNDECIDED
                    count_prov = Provenance(
                        "undecided",
                        value.location,
                        "CancelExecution(retry=...) decided at run time",
                    )
                elif isinstance(value, Known) and value.value is True:
                    count_prov = Provenance(
                        "explicit", at, "CancelExecution(retry=True) resets retries to 1 each time"
                    )
                else:
                    continue
                delay, delay_prov, _ = self.delay()
                jitter, jitter_prov = self.jitter()  # the retry waits `retry_delay`
                paths.append(
                    RetryPath(
                        "manual",
                        count,
                        count_prov,
                        delay,
                        delay_prov,
                        jitter,
                        jitter_prov,
                        location=at,
                    )
                )
        return paths

    def _raised(self) -> list[tuple[ir.Expr, ir.Span, ir.ModuleSummary, ir.Function]]:
        """Exceptions the task raises, where, and the function and module that raise them.

        `exc = CancelExecution(..., retry=...)` followed by `raise exc` raises the object built
        earlier: when the body raises a local name, the Huey exceptions it builds count too.
        A project function the task calls (`ensure_ready(obj)`) raises into the task, and Huey
        handles that exception as if the body raised it (`Huey._execute` catches around the
        whole call): its raises count, and so do those of the functions it calls, a few levels
        deep. Decorated functions are not followed: a call to another task enqueues it.
        """
        out: list[tuple[ir.Expr, ir.Span, ir.ModuleSummary, ir.Function]] = []
        seen: set[tuple[str, str]] = set()
        todo = [(self.task.fn, self.task.module, 0)]
        while todo:
            fn, module, depth = todo.pop(0)
            if (module.path, fn.qualname) in seen:
                continue
            seen.add((module.path, fn.qualname))
            out.extend((r.exc, r.span, module, fn) for r in fn.raises)
            out.extend((call, call.span, module, fn) for call in self._built(fn, module))
            if depth >= _HELPER_DEPTH:
                continue
            for call in fn.calls:
                if not isinstance(call.func, ir.Ref):
                    continue
                found = self.a.project.resolve(module, call.func.dotted)
                if found is None or found.function is None or found.module is None:
                    continue
                # A decorated function may not run in place: calling a Huey task enqueues it.
                if not found.function.decorators:
                    todo.append((found.function, found.module, depth + 1))
        return out

    def _built(self, fn: ir.Function, module: ir.ModuleSummary) -> list[ir.Call]:
        """Huey exceptions built in `fn` and raised by a local name (`raise exc`)."""
        by_name = any(
            isinstance(r.exc, ir.Ref)
            and "." not in r.exc.dotted
            and self.a.project.resolve(module, r.exc.dotted) is None
            for r in fn.raises
        )
        if not by_name:
            return []
        raised = {r.exc.span for r in fn.raises}
        built: list[ir.Call] = []
        for call in fn.calls:
            if call.span in raised or not isinstance(call.func, ir.Ref):
                continue
            found = self.a.project.resolve(module, call.func.dotted)
            if found is not None and found.qualified in _RETRY_TASK | _CANCEL:
                built.append(call)
        return built

    def _retry_task_delay(
        self, exc: ir.Expr, module: ir.ModuleSummary, fn: ir.Function, at: Location
    ) -> tuple[DelayFn | None, Provenance]:
        if isinstance(exc, ir.Call):
            eta = exc.kwarg("eta") or (exc.args[1] if len(exc.args) > 1 else None)
            given = exc.kwarg("delay") or (exc.args[2] if len(exc.args) > 2 else None)
            if given is not None:
                value = self.a.evaluator.eval(given, module, locals_of(fn))
                amount = number(value)
                if amount is not None:
                    return constant_delay(amount), Provenance("explicit", at, "RetryTask(delay=)")
                unknown = value if isinstance(value, Unknown) else Unknown(given.text, at)
                self.log.add("delay", unknown)
                return None, Provenance("undecided", unknown.location)
            if eta is not None:
                value = self.a.evaluator.eval(eta, module, locals_of(fn))
                unknown = value if isinstance(value, Unknown) else Unknown(eta.text, at)
                self.log.add("eta", unknown)
                return None, Provenance("undecided", unknown.location)
        delay, prov, _ = self.delay()
        return delay, prov

    # -- rows ----------------------------------------------------------------------------

    def location(self) -> Location:
        if self.call is not None and self.call_module is not None:
            return location_of(self.call_module, self.call.span)
        return location_of(self.task.module, self.task.fn.name_span)

    def anchors(self) -> tuple[int, ...]:
        if self.call is not None:
            return (self.call.span.line,)
        fn = self.task.fn
        return tuple(sorted({d.span.line for d in fn.decorators} | {fn.span.line}))

    def build(self) -> tuple[EffectivePolicy, list[Observation]]:
        name, name_expression = self.name()
        count, count_prov = self.count()
        delay, delay_prov, observations = self.delay()
        jitter, jitter_prov = self.jitter()
        paths: list[RetryPath] = []
        if count != 0:
            # Automatic retries start where the count is set (`retries=`), else at the task.
            paths.append(
                RetryPath(
                    "automatic",
                    count,
                    count_prov,
                    delay,
                    delay_prov,
                    jitter,
                    jitter_prov,
                    location=count_prov.location,
                )
            )
        paths.extend(self.manual_paths())
        inert: tuple[tuple[str, Location], ...] = ()
        if paths:
            fields = combine(paths)
        else:
            fields = never_retries(count_prov)
            inert = tuple(
                (opt, loc)
                for opt in ("retry_delay", "retry_backoff")
                if (loc := self._written(opt)) is not None
            )
        row = policy_row(
            name=name,
            name_expression=name_expression,
            framework=KEY,
            site="enqueue" if self.call is not None else "definition",
            location=self.location(),
            fields=fields,
            final_failure=self.final_failure(),
            log=self.log,
            version=self.a.version,
            anchors=self.anchors(),
            hints=_hints(count_prov, self.a.version, self.a.backoff_supported),
            inert=inert,
            via=self.task.info.via if self.call is None else (),
        )
        return row, observations

    def _written(self, name: str) -> Location | None:
        """Where this site writes an option: the call for an enqueue, else the decorator."""
        where = self.overrides.get(name) if self.call is not None else self.options.get(name)
        if where is None:
            return None
        value = self.a.evaluator.eval(where.expr, where.module, where.local)
        if isinstance(value, Known) and not value.value:
            return None  # `retry_delay=0` is no option at all
        return location_of(where.module, where.expr.span)

    def definition(self) -> Iterator[EffectivePolicy | Observation]:
        row, observations = self.build()
        yield row
        yield from observations

    def enqueue(self) -> Iterator[EffectivePolicy | Observation]:
        yield from self.definition()

    def final_failure(self) -> str:
        handlers = self.a.error_handlers()
        if handlers:
            return f"SIGNAL_ERROR handler at {handlers[0]}"
        return "nowhere"


# Framework-aware advice the neutral rules quote.
_HINTS: tuple[tuple[str, str], ...] = (
    (
        "max_retries",
        "Set retries=N (a whole number >= 0) on the task, and raise RetryTask only under a "
        "condition that ends: Huey never counts RetryTask against the budget.",
    ),
    (
        "jitter",
        "Huey cannot jitter retries: give each enqueue its own delay, e.g. "
        "task.s(..., retry_delay=random.uniform(20, 40)), so tasks that failed together do not "
        "retry together.",
    ),
    ("trigger_fix", "Set retries=N on the task, or remove retry_delay/retry_backoff."),
    (
        "dead_letter",
        "Huey keeps no failed tasks: connect a @huey.signal(SIGNAL_ERROR) handler that stores "
        "or reports them, or chain an .error(handler) task.",
    ),
    (
        "window",
        "Raise retries=N on the task, or retry_delay (the seconds between retries).",
    ),
)
_BACKOFF = (
    "Use retry_backoff=2 with a retry_delay above 0: waits retry_delay, 2x, 4x ... with no cap."
)
_NO_BACKOFF = (
    "Huey {version} has no retry_backoff (it arrived in 3.3.0), so every retry of a task waits "
    "the same retry_delay: upgrade Huey and set retry_backoff=2."
)


def _hints(count: Provenance, version: str, backoff: bool) -> tuple[tuple[str, str], ...]:
    why = "Huey's default" if count.source == "default" else f"set at {count.location}"
    advice = _BACKOFF if backoff else _NO_BACKOFF.format(version=version)
    return (
        *_HINTS,
        ("backoff", advice),
        ("trigger", f"retries is 0 ({why}), so a failure is never retried"),
    )
