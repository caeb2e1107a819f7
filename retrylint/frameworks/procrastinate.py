"""Procrastinate (written against 3.10.0; reference §7).

Recognised task forms: `@<app>.task` / `@<app>.task(...)` on any `procrastinate.App(...)`,
`procrastinate.Blueprint()` or the Django contrib `app` (`procrastinate.contrib.django.app`),
found by what the receiver is (also through imports, `app.with_connector(...)` and module
constants), with `@<app>.periodic(...)` stacked on it. Blueprint tasks added with
`app.add_tasks_from(bp, namespace="ns")` are named `ns:<name>` as Procrastinate registers them.

The retry policy is the decorator's `retry=` (also through a `**CONSTANT` splat):
- `False`, `0`, `None` or absent: no retry;
- `True`: `RetryStrategy()`, retries forever with no wait;
- an int N > 0: N retries with no wait; a negative int stops at once;
- `RetryStrategy(max_attempts=, wait=, linear_wait=, exponential_wait=, retry_exceptions=)`,
  also as a module constant elsewhere: `max_attempts` counts retries (N retries, N+1 runs),
  `None` or `0` is unbounded (`if self.max_attempts and ...`), a negative value stops at once;
  the wait before retry r+1 is `wait + linear_wait*r + exponential_wait**(r+1)` seconds, uncapped;
- a `BaseRetryStrategy` subclass with its own `get_retry_decision`/`get_schedule_in`: undecided.
Retry cannot be changed at defer time (`configure()` and `defer()` take no retry option), so
Procrastinate has no enqueue rows. There is no jitter. A job whose retries run out stays in
`procrastinate_jobs` with status `failed`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from retrylint.frameworks.base import (
    BROAD_EXCEPTIONS,
    MAX_CHAIN,
    AdapterContext,
    UndecidedLog,
    dict_items,
    exception_names,
    policy_row,
    source_of,
)
from retrylint.frameworks.recognize import Options, Recognizer
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
    TriggerSite,
    Via,
)
from retrylint.python import ir
from retrylint.python.evaluate import Known, Unknown, Value, location_of, number
from retrylint.resolve.schedule import (
    DelayFn,
    Fields,
    RetryPath,
    combine,
    constant_delay,
    never_retries,
)

KEY = "procrastinate"
REFERENCE_VERSION = "3.10.0"

_APP_CLASSES = frozenset(
    {
        "procrastinate.App",
        "procrastinate.app.App",
        "procrastinate.Blueprint",
        "procrastinate.blueprints.Blueprint",
        "procrastinate.contrib.django.DjangoApp",
        "procrastinate.contrib.django.db_cleanup.DjangoApp",
    }
)
# Ready-made app objects (the Django contrib proxy app).
_APP_OBJECTS = frozenset(
    {
        "procrastinate.contrib.django.app",
        "procrastinate.contrib.django.procrastinate_app.app",
    }
)
_STRATEGY = frozenset({"procrastinate.RetryStrategy", "procrastinate.retry.RetryStrategy"})
_BASE_STRATEGY = frozenset(
    {"procrastinate.BaseRetryStrategy", "procrastinate.retry.BaseRetryStrategy"}
)
# RetryStrategy fields and their defaults (procrastinate/retry.py: RetryStrategy).
_WAITS = ("wait", "linear_wait", "exponential_wait")
_NO_JITTER = "Procrastinate has no jitter: RetryStrategy waits are deterministic"


@dataclass(frozen=True, slots=True)
class _Setting:
    """One RetryStrategy field as written (or its default when `expr` is None)."""

    value: Value
    expr: ir.Expr | None
    module: ir.ModuleSummary | None

    def provenance(self, note: str = "") -> Provenance:
        if self.expr is None or self.module is None:
            return Provenance("default", None, note)
        return Provenance(
            source_of(self.value, "explicit"), location_of(self.module, self.expr.span), note
        )


class ProcrastinateAdapter:
    key = KEY
    info = FrameworkInfo(
        "Procrastinate",
        "procrastinate",
        in_process=False,
        capabilities=Capabilities(
            count="setting", backoff="setting", jitter="code", dead_letter="setting"
        ),
    )
    packages: tuple[str, ...] = ("procrastinate",)
    # A task file names the package, a decorator on an app (`@app.task`), or a strategy; the
    # Django entry points are read for DJANGO_SETTINGS_MODULE (settings hold retry values).
    markers = re.compile(
        rb"procrastinate|RetryStrategy|\.task\b|add_tasks_from|DJANGO_SETTINGS_MODULE"
    )
    interest = ir.Interest(
        calls=frozenset({"add_tasks_from", "with_connector", "RetryStrategy"}),
        attributes=frozenset(),
    )

    def analyze(self, ctx: AdapterContext) -> Iterable[EffectivePolicy | Observation]:
        return _Analysis(ctx).rows()

    def project_markers(self, ctx: AdapterContext) -> frozenset[str]:
        a = _Analysis(ctx)
        return a.recognizer.markers(ctx.scanned, lambda b, m: a.app_of(b.target, m) is not None)


class _Analysis:
    def __init__(self, ctx: AdapterContext) -> None:
        self.ctx = ctx
        self.project = ctx.project
        self.evaluator = ctx.evaluator
        self._apps: dict[tuple[str, str], str | None] = {}
        self._namespaces: dict[str, list[_Namespace]] | None = None
        self.recognizer = Recognizer(
            ctx.project,
            lambda expr, module: self.app_of_maker(expr, module) is not None,
            ctx.settings.task_decorators,
        )

    # -- apps ------------------------------------------------------------------------------

    def app_of(self, dotted: str, summary: ir.ModuleSummary, depth: int = 0) -> str | None:
        """The identity (qualified name) of the app or blueprint a name refers to."""
        key = (summary.path, dotted)
        if key in self._apps:
            return self._apps[key]
        self._apps[key] = None
        found = self.project.resolve(summary, dotted)
        result: str | None = None
        if found is not None and depth <= MAX_CHAIN:
            if found.kind == "external" and found.qualified in _APP_OBJECTS:
                result = found.qualified
            elif found.kind == "binding" and found.binding is not None and found.module:
                value, module = self.evaluator.deref(found.binding.value, found.module)
                if isinstance(value, ir.Ref):
                    result = self.app_of(value.dotted, module, depth + 1)
                elif isinstance(value, ir.Call) and isinstance(value.func, ir.Ref):
                    receiver, _, method = value.func.dotted.rpartition(".")
                    target = self.project.resolve(module, value.func.dotted)
                    if target is not None and target.qualified in _APP_CLASSES:
                        result = found.qualified
                    elif method == "with_connector" and receiver:
                        inner = self.app_of(receiver, module, depth + 1)
                        result = found.qualified if inner is not None else None
        self._apps[key] = result
        return result

    def task_decorator(
        self, expr: ir.Expr, summary: ir.ModuleSummary
    ) -> tuple[str, Options, tuple[Via, ...]] | None:
        """(app identity, options, wrappers) when `expr` makes a task: `<app>.task`,
        `<app>.task(...)` or a project wrapper of it."""
        expansion = self.recognizer.expand(expr, summary)
        if expansion is not None:
            registrar = expansion.registrar
            app = self.app_of_maker(registrar.expr, registrar.module)
            return (app, expansion.options, expansion.via) if app is not None else None
        call = expr if isinstance(expr, ir.Call) else None
        app = self.app_of_maker(call.func if call is not None else expr, summary)
        if app is None:
            return None
        return app, Options().merged(call, summary) if call is not None else Options(), ()

    def app_of_maker(self, func: ir.Expr, summary: ir.ModuleSummary) -> str | None:
        """The app identity of `<app>.task`, or of a configured wrapper's (undecidable) app."""
        if not isinstance(func, ir.Ref):
            return None
        receiver, _, attr = func.dotted.rpartition(".")
        if attr == "task" and receiver:
            return self.app_of(receiver, summary)
        found = self.project.resolve(summary, func.dotted)
        if found is not None and self.recognizer.configured(found):
            return found.qualified
        return None

    def namespaces(self, app: str) -> list[_Namespace]:
        """`namespace=` values of `add_tasks_from(<blueprint>, namespace=...)` calls, with the
        app or blueprint the tasks are added to (itself added to another one, maybe)."""
        if self._namespaces is None:
            self._namespaces = {}
            for summary in list(self.project.loaded()):
                calls = [*summary.calls, *(c for fn in summary.functions for c in fn.calls)]
                for call in calls:
                    if not (
                        isinstance(call.func, ir.Ref)
                        and call.func.dotted.endswith(".add_tasks_from")
                        and call.args
                        and isinstance(call.args[0], ir.Ref)
                    ):
                        continue
                    blueprint = self.app_of(call.args[0].dotted, summary)
                    namespace = call.kwarg("namespace")
                    if namespace is None and len(call.args) > 1:
                        namespace = call.args[1]
                    receiver = call.func.dotted.rpartition(".")[0]
                    into = self.app_of(receiver, summary) if receiver else None
                    if blueprint is not None and namespace is not None:
                        entry = _Namespace(namespace, summary, into)
                        self._namespaces.setdefault(blueprint, []).append(entry)
        return self._namespaces.get(app, [])

    # -- rows ------------------------------------------------------------------------------

    def rows(self) -> Iterator[EffectivePolicy]:
        for summary in self.ctx.scanned:
            functions = [
                *summary.functions,
                *(m for cls in summary.classes for m in cls.methods),
            ]
            for fn in functions:
                if self.recognizer.inside_wrapper(fn, summary):
                    continue
                for dec in fn.decorators:
                    found = self.task_decorator(dec, summary)
                    if found is not None:
                        yield _TaskBuilder(self, summary, fn, *found).build()
                        break


@dataclass(frozen=True, slots=True)
class _Namespace:
    """`<into>.add_tasks_from(<blueprint>, namespace=<expr>)`."""

    expr: ir.Expr
    module: ir.ModuleSummary
    into: str | None


class _TaskBuilder:
    def __init__(
        self,
        analysis: _Analysis,
        summary: ir.ModuleSummary,
        fn: ir.Function,
        app: str,
        options: Options,
        via: tuple[Via, ...],
    ) -> None:
        self.a = analysis
        self.evaluator = analysis.evaluator
        self.summary = summary
        self.fn = fn
        self.app = app
        self.via = via
        self.log = UndecidedLog()
        self.broad: list[TriggerSite] = []
        self.options = self._options(options)

    def _options(self, options: Options) -> dict[str, tuple[ir.Expr, ir.ModuleSummary]]:
        out: dict[str, tuple[ir.Expr, ir.ModuleSummary]] = {}
        for splat in options.splats:
            items = dict_items(self.evaluator, splat.expr, splat.module)
            if isinstance(items, Unknown):
                self.log.add("options", items)
            else:
                out.update(items)
        for name, where in options.kwargs:
            out[name] = (where.expr, where.module)
        return out

    # -- identity ----------------------------------------------------------------------------

    def name(self) -> tuple[str | None, str | None]:
        # procrastinate/tasks.py `Task`: `name if name else self.full_path` (`module.__name__`).
        prefix = f"{self.summary.module}." if self.summary.module else ""
        base = prefix + self.fn.name
        if "name" in self.options:
            expr, module = self.options["name"]
            value = self.evaluator.eval(expr, module)
            if isinstance(value, Known) and isinstance(value.value, str) and value.value:
                base = value.value
            elif not (isinstance(value, Known) and not value.value):
                if isinstance(value, Unknown):
                    self.log.add("name", value)
                return None, expr.text
        # Each `add_tasks_from(blueprint, namespace=ns)` prefixes `ns:` (utils.add_namespace),
        # blueprints added to blueprints once per level.
        app: str | None = self.app
        for _ in range(8):
            namespaces = self.a.namespaces(app) if app is not None else []
            if len(namespaces) != 1:
                break
            (namespace,) = namespaces
            value = self.evaluator.eval(namespace.expr, namespace.module)
            if not (isinstance(value, Known) and isinstance(value.value, str)):
                if isinstance(value, Unknown):
                    self.log.add("name", value)
                return None, f"{namespace.expr.text} + ':' + {base!r}"
            base = f"{value.value}:{base}" if value.value else base
            app = namespace.into
        return base, None

    # -- policy ------------------------------------------------------------------------------

    def build(self) -> EffectivePolicy:
        name, name_expression = self.name()
        fields = self.fields()
        span = self.fn.name_span
        anchors = tuple(sorted({d.span.line for d in self.fn.decorators} | {self.fn.span.line}))
        return policy_row(
            name=name,
            name_expression=name_expression,
            framework=KEY,
            site="definition",
            location=Location(
                self.summary.path, span.line, span.column, span.end_line, span.end_column
            ),
            fields=fields,
            final_failure=FINAL_FAILURE,
            log=self.log,
            version=self.a.ctx.version or REFERENCE_VERSION,
            anchors=anchors,
            hints=_HINTS,
            via=self.via,
            broad=self.broad,
        )

    def fields(self) -> Fields:
        if "retry" not in self.options:
            return never_retries(Provenance("default", None, "Procrastinate's default retry=False"))
        expr, module = self.options["retry"]
        here = location_of(module, expr.span)
        target, tmodule = self.evaluator.deref(expr, module)
        if isinstance(target, ir.Call):
            strategy = self._strategy_call(target, tmodule)
            if strategy is not None:
                return strategy
        value = self.evaluator.eval(expr, module)
        if isinstance(value, Unknown):
            self.log.add("retry", value)
            return combine([], Provenance("undecided", value.location))
        if isinstance(value, Known):
            raw = value.value
            source = source_of(value, "explicit")
            if not raw:
                return never_retries(Provenance(source, here, f"retry={expr.text}"))
            if raw is True:
                prov = Provenance(source, here, "retry=True: RetryStrategy() retries forever")
                return combine([_path(UNBOUNDED, prov, constant_delay(0.0), prov)])
            amount = number(value)
            if isinstance(amount, int):
                count: Count = amount if amount > 0 else 0
                if count == 0:
                    note = f"retry={amount}: a negative count stops at once"
                    return never_retries(Provenance(source, here, note))
                plural = "retry" if amount == 1 else "retries"
                prov = Provenance(source, here, f"retry={amount}: {amount} {plural}, no wait")
                return combine([_path(count, prov, constant_delay(0.0), prov)])
        unknown = Unknown(expr.text, here)
        self.log.add("retry", unknown)
        return combine([], Provenance("undecided", here))

    def _strategy_call(self, call: ir.Call, module: ir.ModuleSummary) -> Fields | None:
        if not isinstance(call.func, ir.Ref):
            return None
        target = self.a.project.resolve(module, call.func.dotted)
        if target is None:
            return None
        here = location_of(module, call.span)
        if target.qualified not in _STRATEGY:
            if target.kind != "class" or target.cls is None or target.module is None:
                return None
            kind = self._strategy_class(target.cls, target.module, 0)
            if kind is None:
                return None
            if kind == "custom":
                # Its own get_retry_decision decides count and waits at run time.
                unknown = Unknown(call.text, here)
                self.log.add("retry", unknown)
                return combine([], Provenance("undecided", here, "custom retry strategy"))
        settings = self._settings(call, module)
        if settings is None:
            unknown = Unknown(call.text, here)
            self.log.add("retry", unknown)
            return combine([], Provenance("undecided", here))
        return self._strategy_fields(settings, here)

    def _strategy_class(self, cls: ir.Class, module: ir.ModuleSummary, depth: int) -> str | None:
        """ "plain" for a RetryStrategy subclass that keeps its decision, "custom" otherwise."""
        if depth > MAX_CHAIN:
            return None
        overrides = any(m.name in ("get_retry_decision", "get_schedule_in") for m in cls.methods)
        for base in cls.bases:
            if not isinstance(base, ir.Ref):
                continue
            found = self.a.project.resolve(module, base.dotted)
            if found is None:
                continue
            if found.qualified in _STRATEGY:
                return "custom" if overrides else "plain"
            if found.qualified in _BASE_STRATEGY:
                return "custom"
            if found.kind == "class" and found.cls is not None and found.module is not None:
                inner = self._strategy_class(found.cls, found.module, depth + 1)
                if inner is not None:
                    return "custom" if overrides else inner
        return None

    def _settings(self, call: ir.Call, module: ir.ModuleSummary) -> dict[str, _Setting] | None:
        written: dict[str, tuple[ir.Expr, ir.ModuleSummary]] = {}
        for kw in call.kwargs:
            if kw.name is not None:
                written[kw.name] = (kw.value, module)
                continue
            items = dict_items(self.evaluator, kw.value, module)
            if isinstance(items, Unknown):
                return None
            written.update(items)
        if call.args:
            return None  # RetryStrategy is keyword-only; positional arguments fail at import
        out: dict[str, _Setting] = {}
        for name in ("max_attempts", *_WAITS, "retry_exceptions"):
            if name in written:
                expr, where = written[name]
                out[name] = _Setting(self.evaluator.eval(expr, where), expr, where)
            else:
                default: object = 0 if name in _WAITS else None
                out[name] = _Setting(Known(default), None, None)
        return out

    def _strategy_fields(self, s: dict[str, _Setting], here: Location) -> Fields:
        attempts = s["max_attempts"]
        count: Count
        if isinstance(attempts.value, Known) and attempts.value.value is None:
            note = "RetryStrategy max_attempts=None: retries forever"
            count_prov = attempts.provenance(note)
            if attempts.expr is None:
                count_prov = Provenance("explicit", here, "RetryStrategy() without max_attempts")
            count = UNBOUNDED
        else:
            amount = number(attempts.value)
            if amount is None or not isinstance(amount, int):
                unknown = self._unknown(attempts, here)
                self.log.add("max_attempts", unknown)
                count, count_prov = UNDECIDED, Provenance("undecided", unknown.location)
            elif amount == 0:
                count = UNBOUNDED
                count_prov = attempts.provenance("max_attempts=0 is falsy: retries forever")
            else:
                count = max(amount, 0)
                count_prov = attempts.provenance()
        self._triggers(s["retry_exceptions"])
        waits: list[float] = []
        delay_prov = Provenance("default", None, "RetryStrategy waits default to 0")
        for name in _WAITS:
            setting = s[name]
            amount = number(setting.value)
            if amount is None:
                unknown = self._unknown(setting, here)
                self.log.add(name, unknown)
                prov = Provenance("undecided", unknown.location)
                return combine([_path(count, count_prov, None, prov)])
            waits.append(float(amount))
            if setting.expr is not None and delay_prov.source == "default":
                delay_prov = setting.provenance()
        wait, linear, exponential = waits
        if count == 0:
            return never_retries(count_prov)
        return combine(
            [_path(count, count_prov, _strategy_delay(wait, linear, exponential), delay_prov)]
        )

    def _triggers(self, setting: _Setting) -> None:
        if setting.expr is None or setting.module is None:
            return
        if isinstance(setting.value, Known) and setting.value.value is None:
            return
        names, unknown = exception_names(self.a.ctx, setting.expr, setting.module)
        if unknown is not None:
            self.log.add("retry_exceptions", unknown)
        self.broad = [
            TriggerSite(qualified.rpartition(".")[2], loc)
            for qualified, loc in names
            if qualified in BROAD_EXCEPTIONS
        ]

    def _unknown(self, setting: _Setting, here: Location) -> Unknown:
        if isinstance(setting.value, Unknown):
            return setting.value
        if setting.expr is not None and setting.module is not None:
            return Unknown(setting.expr.text, location_of(setting.module, setting.expr.span))
        return Unknown("RetryStrategy(...)", here)


FINAL_FAILURE = "procrastinate_jobs row with status failed (kept; retryable by hand)"


def _path(
    count: Count,
    count_prov: Provenance,
    delay: DelayFn | None,
    delay_prov: Provenance,
) -> RetryPath:
    no_jitter = Provenance("default", None, _NO_JITTER)
    return RetryPath("automatic", count, count_prov, delay, delay_prov, False, no_jitter)


def _strategy_delay(wait: float, linear: float, exponential: float) -> DelayFn:
    """`wait + linear_wait * attempts + exponential_wait ** (attempts + 1)` (retry.py)."""

    def delay(r: int) -> float:
        try:
            grown = math.pow(exponential, r + 1)
        except OverflowError:
            grown = math.inf
        return wait + linear * r + grown

    return delay


_HINTS: tuple[tuple[str, str], ...] = (
    (
        "max_retries",
        "Pass retry=<int> or RetryStrategy(max_attempts=<n>) with n > 0; retry=True, "
        "RetryStrategy() and max_attempts=0 or None all retry forever.",
    ),
    (
        "backoff",
        "Use retry=RetryStrategy(max_attempts=<n>, exponential_wait=2) (waits 2, 4, 8 ... s, "
        "uncapped); the wait before retry n is wait + linear_wait*(n-1) + exponential_wait**n "
        "seconds, and retry=<int> retries at once.",
    ),
    (
        "jitter",
        "Procrastinate cannot jitter: RetryStrategy waits are deterministic. Subclass "
        "RetryStrategy and override get_retry_decision to return "
        "RetryDecision(retry_in={'seconds': base + random.uniform(0, spread)}).",
    ),
    ("trigger", "its retry= is False, 0 or absent"),
    ("trigger_fix", "Pass retry=RetryStrategy(max_attempts=<n>, ...) to the task decorator."),
    (
        "dead_letter",
        "Procrastinate keeps failed jobs in procrastinate_jobs (status failed); watch them "
        "and retry by hand, or add a task middleware that records the failure.",
    ),
    (
        "window",
        "Raise RetryStrategy's max_attempts, or its wait, linear_wait or exponential_wait.",
    ),
)
