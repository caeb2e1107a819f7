"""tenacity (written against 9.2.1), and what the three generic retry decorators share.

tenacity, backoff and stamina retry inside one call of a function instead of requeueing a
message. Each decorated function or method is a retry site (a row named `module.qualname`);
so is each `Retrying(...)` / `AsyncRetrying(...)` object and each configured decorator applied
in place (`get = retry(...)(session.get)`), whose rows sit at the call and are named after the
enclosing function (or the module-level name bound), and each `fn.retry_with(...)`, which
overrides a decorated function's options (an enqueue row).

Decorators are recognised by what names refer to: `@retry` and `@tenacity.retry` under any
alias, module-level aliases (`api_retry = retry(stop=...)`), project factory functions
(`retry_x = make_retry("x")` where `make_retry` returns a configured decorator, evaluated with
its arguments bound) and wrapper functions whose returned inner function carries the retry
decorator (`def retry_on_db_error(f): @retry(...) def wrapper(...): ...; return wrapper`).

tenacity counts executions: `stop_after_attempt(3)` means 3 runs, 2 retries (reference §0).
From `tenacity/__init__.py` (`BaseRetrying.__init__`, `retry` l.773) the defaults are
`stop=stop_never`, `wait=wait_none()` and `retry=retry_if_exception_type()` (any `Exception`),
so a bare `@retry` loops forever without waiting. Waits follow `tenacity/wait.py`; for the wait
before retry r+1 (r from 0) tenacity sees `attempt_number = r + 1`:
- `wait_exponential(multiplier=1, max=MAX_WAIT, exp_base=2, min=0)`:
  `max(min, min(multiplier·exp_base^r, max))`; `wait_random_exponential` draws from
  U(min, that value); `wait_exponential_jitter(initial=1, max, exp_base=2, jitter=1, min=0,
  multiplier=1)`: `max(min, min(multiplier·exp_base^r + U(0, jitter), max))` (§14);
- `wait_incrementing(start=0, increment=100, max)`: `start + increment·r` in [0, max];
- `wait_chain(*waits)` uses the (r+1)-th strategy, the last one thereafter; `+` adds waits.
Time limits (`stop_after_delay`, `stop_before_delay`) give the count implied by the window and
the shortest waits (CONTRACTS §4): `stop_after_delay` stops once the time since the first
attempt reaches the limit, checked after each failure, so the last wait may run past it;
`stop_before_delay` also counts the upcoming wait, so the waits stay within the limit.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from retrylint.frameworks.base import (
    BROAD_EXCEPTIONS,
    AdapterContext,
    UndecidedLog,
    exception_names,
    memoized,
    policy_row,
    walk_calls,
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
    Site,
    Source,
    TriggerSite,
    Window,
)
from retrylint.python import ir
from retrylint.python.evaluate import Formula, Known, Sym, Unknown, Value, location_of, number
from retrylint.python.project import Resolved
from retrylint.resolve.schedule import DelayFn, Fields, RetryPath, classify, combine, never_retries

KEY = "tenacity"
# The version the facts below were read from (reference §0), assumed when none is detected.
REFERENCE_VERSION = "9.2.1"

# `tenacity._utils.MAX_WAIT`: the default `max` of the exponential waits, in practice no cap.
MAX_WAIT = sys.maxsize / 2
# Caps at or above this are treated as no cap at all.
_NO_CAP = 1e15
# How many retries a time limit is followed for before its count is called unbounded.
_TIME_TERMS = 100_000
_MAX_DEPTH = 8
_NOTE_TEXT = 80


# =========================================================================================
# Shared by the tenacity, backoff and stamina adapters
# =========================================================================================


@dataclass(frozen=True, slots=True)
class Scope:
    """Where an expression is evaluated: its module and, inside a function, its locals."""

    module: ir.ModuleSummary
    local: Mapping[str, ir.Expr | Value] | None = None


@dataclass(frozen=True, slots=True)
class Written:
    """An option value as written, with the scope it is written in."""

    expr: ir.Expr
    scope: Scope

    @property
    def location(self) -> Location:
        return location_of(self.scope.module, self.expr.span)

    @property
    def note(self) -> str:
        """The value as written, on one line and clipped, for provenance notes."""
        text = " ".join(self.expr.text.split()).replace("( ", "(").replace(", )", ")")
        return text if len(text) <= _NOTE_TEXT else text[: _NOTE_TEXT - 3] + "..."


@dataclass(frozen=True, slots=True)
class Decl:
    """A call that configures retries (`retry(stop=...)`, `Retrying(...)`), or a bare `@retry`."""

    factory: str  # the qualified name of what is called
    options: Mapping[str, Written]
    args: tuple[Written, ...]
    location: Location
    # A `**splat` that cannot be read: options it may set are undecided, not defaults.
    opaque: Unknown | None = None

    def option(self, name: str, position: int | None = None) -> Written | None:
        if name in self.options:
            return self.options[name]
        if position is not None and position < len(self.args):
            return self.args[position]
        return None

    def with_overrides(self, other: Decl) -> Decl:
        """The options of `fn.retry_with(...)`: the call's options win (`BaseRetrying.copy`)."""
        merged = {**self.options, **other.options}
        return Decl(self.factory, merged, other.args or self.args, other.location, other.opaque)


def short_name(qualified: str, package: str) -> str | None:
    """`tenacity.wait.wait_fixed` → `wait_fixed`, for names from `package` only."""
    if qualified == package or not qualified.startswith(package + "."):
        return None
    return qualified.rpartition(".")[2]


class Finder:
    """Recognises retry decorators and retry objects by what names refer to."""

    def __init__(
        self,
        ctx: AdapterContext,
        factories: frozenset[str],
        bare: frozenset[str] = frozenset(),
    ) -> None:
        self.ctx = ctx
        self.project = ctx.project
        self.evaluator = ctx.evaluator
        # Qualified names called with options (`tenacity.retry`, `backoff.on_exception`).
        self.factories = factories
        # Qualified names that are decorators by themselves (`@tenacity.retry`).
        self.bare = bare
        self._wrappers: dict[tuple[str, str], Decl | None] = {}

    # -- names ------------------------------------------------------------------------

    def resolve(self, expr: ir.Expr, scope: Scope) -> Resolved | Sym | None:
        """What a name refers to, following plain aliases (`r = tenacity.retry`)."""
        for _ in range(_MAX_DEPTH):
            if not isinstance(expr, ir.Ref):
                return None
            local = scope.local
            if local is not None and expr.dotted.partition(".")[0] in local:
                bound = local.get(expr.dotted)
                if isinstance(bound, ir.Ref):
                    expr = bound
                    continue
                return bound if isinstance(bound, Sym) else None
            found = self.project.resolve(scope.module, expr.dotted)
            if found is None:
                return None
            if (
                found.kind == "binding"
                and found.binding is not None
                and found.module is not None
                and isinstance(found.binding.value, ir.Ref)
            ):
                expr, scope = found.binding.value, Scope(found.module)
                continue
            return found
        return None

    def qualified(self, expr: ir.Expr, scope: Scope) -> str | None:
        found = self.resolve(expr, scope)
        if isinstance(found, Sym):
            return found.qualified
        if found is None or found.kind == "ambiguous":
            return None
        return found.qualified

    def deref(self, expr: ir.Expr, scope: Scope) -> tuple[ir.Expr, Scope]:
        """Follow names to the expression they are bound to, through locals and modules."""
        for _ in range(_MAX_DEPTH * 3):
            if not isinstance(expr, ir.Ref):
                break
            local = scope.local
            if local is not None and expr.dotted in local:
                bound = local[expr.dotted]
                if isinstance(bound, Known | Sym | Unknown | Formula):
                    break
                expr = bound
                continue
            if local is not None and expr.dotted.partition(".")[0] in local:
                break
            found = self.project.resolve(scope.module, expr.dotted)
            if (
                found is None
                or found.kind != "binding"
                or found.binding is None
                or found.module is None
            ):
                break
            expr, scope = found.binding.value, Scope(found.module)
        return expr, scope

    def eval(self, written: Written) -> Value:
        scope = written.scope
        return self.evaluator.eval(written.expr, scope.module, scope.local)

    # -- declarations -----------------------------------------------------------------

    def make(self, factory: str, call: ir.Call, scope: Scope) -> Decl:
        options: dict[str, Written] = {}
        opaque: Unknown | None = None
        for kw in call.kwargs:
            if kw.name is not None:
                options[kw.name] = Written(kw.value, scope)
                continue
            spread = self.splat(kw.value, scope)
            if isinstance(spread, Unknown):
                opaque = opaque or spread
            else:
                options.update({k: v for k, v in spread.items() if k not in options})
        args = tuple(Written(a, scope) for a in call.args if not isinstance(a, ir.Starred))
        if any(isinstance(a, ir.Starred) for a in call.args):
            opaque = opaque or Unknown(call.text, location_of(scope.module, call.span))
        return Decl(factory, options, args, location_of(scope.module, call.span), opaque)

    def splat(self, expr: ir.Expr, scope: Scope) -> dict[str, Written] | Unknown:
        """The options of a `**mapping` written as a dict display or `dict(...)` somewhere."""
        target, where = self.deref(expr, scope)
        out: dict[str, Written] = {}
        if isinstance(target, ir.DictExpr):
            for key, value in target.items:
                if key is None:
                    inner = self.splat(value, where)
                    if isinstance(inner, Unknown):
                        return inner
                    out.update(inner)
                    continue
                if not (isinstance(key, ir.Const) and isinstance(key.value, str)):
                    return Unknown(target.text, location_of(where.module, target.span))
                out[key.value] = Written(value, where)
            return out
        if (
            isinstance(target, ir.Call)
            and self.qualified(target.func, where) == "builtins.dict"
            and not target.args
        ):
            return {kw.name: Written(kw.value, where) for kw in target.kwargs if kw.name}
        return Unknown(expr.text, location_of(scope.module, expr.span))

    def decl(self, expr: ir.Expr, scope: Scope, depth: int = 0) -> Decl | None:
        """The retry configuration a decorator expression applies, or None."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, ir.Call):
            found = self.resolve(expr.func, scope)
            name = found.qualified if isinstance(found, Resolved | Sym) else None
            if name in self.factories:
                return self.make(name, expr, scope)
            if (
                isinstance(found, Resolved)
                and found.kind == "function"
                and found.function is not None
                and found.module is not None
            ):
                return self.from_factory(found.function, found.module, expr, scope, depth + 1)
            return None
        if not isinstance(expr, ir.Ref):
            return None
        local = scope.local
        if local is not None and expr.dotted in local:
            bound = local[expr.dotted]
            if isinstance(bound, Known | Sym | Unknown | Formula):
                if isinstance(bound, Sym) and bound.qualified in self.bare:
                    return Decl(bound.qualified, {}, (), location_of(scope.module, expr.span))
                return None
            return self.decl(bound, scope, depth + 1)
        found = self.project.resolve(scope.module, expr.dotted)
        if found is None:
            return None
        if found.qualified in self.bare:
            return Decl(found.qualified, {}, (), location_of(scope.module, expr.span))
        if found.kind == "binding" and found.binding is not None and found.module is not None:
            return self.decl(found.binding.value, Scope(found.module), depth + 1)
        if found.kind == "function" and found.function is not None and found.module is not None:
            return self.from_wrapper(found.function, found.module, depth + 1)
        return None

    def from_factory(
        self,
        fn: ir.Function,
        module: ir.ModuleSummary,
        call: ir.Call | None,
        caller: Scope | None,
        depth: int,
    ) -> Decl | None:
        """`make_retry("x")`: a project function returning a configured decorator."""
        arguments: dict[str, Value] = {}
        if call is not None and caller is not None:
            positional = [a for a in call.args if not isinstance(a, ir.Starred)]
            for param, arg in zip(fn.params, positional, strict=False):
                arguments[param] = self.evaluator.eval(arg, caller.module, caller.local)
            for kw in call.kwargs:
                if kw.name in fn.params:
                    value = self.evaluator.eval(kw.value, caller.module, caller.local)
                    arguments[kw.name] = value
        scope = function_scope(module, fn, arguments)
        return self._returned(fn, scope, depth, applied=False)

    def from_wrapper(self, fn: ir.Function, module: ir.ModuleSummary, depth: int) -> Decl | None:
        """`@retry_on_db_error`: a project function that wraps the function it decorates."""
        return memoized(
            self._wrappers,
            (module.path, fn.qualname),
            lambda: self._returned(fn, function_scope(module, fn), depth, applied=True),
        )

    def _returned(self, fn: ir.Function, scope: Scope, depth: int, *, applied: bool) -> Decl | None:
        """The retry decorator behind what a factory or wrapper returns."""
        if depth > _MAX_DEPTH:
            return None
        for ret in fn.returns:
            expr = ret
            if isinstance(ret, ir.Ref) and "." not in ret.dotted:
                nested = self._nested(fn, scope.module, ret.dotted)
                if nested is not None:
                    # A returned inner function: its own retry decorator applies.
                    for dec in nested.decorators:
                        found = self.decl(dec, scope, depth + 1)
                        if found is not None:
                            return found
                    if not applied:
                        found = self._returned(nested, scope, depth + 1, applied=True)
                        if found is not None:
                            return found
                    continue
                expr, _ = self.deref(ret, scope)
            if applied:
                # `return retry(...)(f)`: the decorator is what is called.
                if isinstance(expr, ir.Call):
                    found = self.decl(expr.func, scope, depth + 1)
                    if found is not None:
                        return found
                continue
            found = self.decl(expr, scope, depth + 1)
            if found is not None:
                return found
        return None

    def _nested(self, fn: ir.Function, module: ir.ModuleSummary, name: str) -> ir.Function | None:
        qualname = f"{fn.qualname}.<locals>.{name}"
        return next((f for f in module.functions if f.qualname == qualname), None)

    # -- where retry sites are --------------------------------------------------------

    def decorated(
        self,
    ) -> Iterator[tuple[ir.ModuleSummary, ir.Function, Decl]]:
        """Every function and method under PATHS carrying a retry decorator (one per decorator)."""
        for summary, fn in functions(self.ctx.scanned):
            for dec in fn.decorators:
                found = self.decl(dec, Scope(summary))
                if found is not None:
                    yield summary, fn, found

    def calls(
        self, names: frozenset[str]
    ) -> Iterator[tuple[ir.ModuleSummary, ir.Function | None, str | None, ir.Call, Scope]]:
        """Calls of `names` under PATHS: in bodies (with their function) and at module level
        (with the name they are bound to)."""
        for summary in self.ctx.scanned:
            seen: set[ir.Span] = set()
            for fn_or_none, target, call, scope in _module_calls(summary):
                if call.span in seen or not self.could_be(call.func, scope, names):
                    continue
                if self.qualified(call.func, scope) in names:
                    seen.add(call.span)
                    yield summary, fn_or_none, target, call, scope

    def applied(
        self,
    ) -> Iterator[tuple[ir.ModuleSummary, ir.Function | None, str | None, ir.Call, Decl]]:
        """Configured decorators used in place rather than with `@`: `fetch = retry(...)(fetch)`
        at module level, and `retry(...)` calls in a body that does not return them (a body
        that returns one is a factory: its rows are where its result decorates)."""
        for summary in self.ctx.scanned:
            top = Scope(summary)
            for binding in summary.bindings:
                value = binding.value
                if isinstance(value, ir.Call) and isinstance(value.func, ir.Call):
                    found = self._direct(value.func, top)
                    if found is not None:
                        yield summary, None, binding.target, value.func, found
            for _, fn in functions((summary,)):
                scope = function_scope(summary, fn)
                returned = _returned_spans(fn)
                # `retry(...)(f)` starts where `retry(...)` does: tell them apart by the end.
                seen: set[ir.Span] = set()
                for call in fn.calls:
                    if call.span in seen or call.span in returned:
                        continue
                    seen.add(call.span)
                    found = self._direct(call, scope)
                    if found is not None:
                        yield summary, fn, None, call, found

    def _direct(self, call: ir.Call, scope: Scope) -> Decl | None:
        if not self.could_be(call.func, scope, self.factories):
            return None
        name = self.qualified(call.func, scope)
        return self.make(name, call, scope) if name in self.factories else None

    def could_be(self, func: ir.Expr, scope: Scope, names: frozenset[str]) -> bool:
        """A cheap test before resolving a callee (which may parse other modules): its last
        name is one of `names`', or it is reached through an import from their package."""
        if not isinstance(func, ir.Ref):
            return False
        if func.dotted.rpartition(".")[2] in {n.rpartition(".")[2] for n in names}:
            return True
        target = self.project.index(scope.module).imports.get(func.dotted.partition(".")[0])
        return target is not None and target.partition(".")[0] in {
            n.partition(".")[0] for n in names
        }

    def markers(self) -> frozenset[str]:
        """Names of project aliases, factories and wrappers of retry decorators."""
        names: set[str] = set()
        for summary in self.ctx.scanned:
            scope = Scope(summary)
            for binding in summary.bindings:
                if "." not in binding.target and self.decl(binding.value, scope) is not None:
                    names.add(binding.target)
            for fn in summary.functions:
                if "." in fn.qualname:
                    continue
                if (
                    self.from_wrapper(fn, summary, 0) is not None
                    or self.from_factory(fn, summary, None, None, 0) is not None
                ):
                    names.add(fn.name)
        return frozenset(names)


def functions(
    summaries: Iterable[ir.ModuleSummary],
) -> Iterator[tuple[ir.ModuleSummary, ir.Function]]:
    """Functions and methods (methods are not in `ModuleSummary.functions`)."""
    for summary in summaries:
        for fn in summary.functions:
            yield summary, fn
        for cls in summary.classes:
            for method in cls.methods:
                yield summary, method


def _module_calls(
    summary: ir.ModuleSummary,
) -> Iterator[tuple[ir.Function | None, str | None, ir.Call, Scope]]:
    top = Scope(summary)
    for binding in summary.bindings:
        for call in walk_calls(binding.value):
            yield None, binding.target, call, top
    for statement in summary.calls:
        for call in walk_calls(statement):
            yield None, None, call, top
    for _, fn in functions((summary,)):
        scope = function_scope(summary, fn)
        for call in fn.calls:
            yield fn, None, call, scope


def function_scope(
    summary: ir.ModuleSummary, fn: ir.Function, arguments: Mapping[str, Value] | None = None
) -> Scope:
    """A function body's scope: parameters are unknown unless given, simple locals are
    followed, and a local bound to different values (`if ...: stop = a; else: stop = b`) is
    unknown."""
    local: dict[str, ir.Expr | Value] = {
        p: Unknown(p, location_of(summary, fn.name_span)) for p in fn.params
    }
    local.update(arguments or {})
    texts: dict[str, set[str]] = {}
    for binding in fn.locals:
        texts.setdefault(binding.target, set()).add(binding.value.text)
    for binding in fn.locals:
        if len(texts[binding.target]) > 1:
            local[binding.target] = Unknown(binding.target, location_of(summary, binding.span))
        else:
            local[binding.target] = binding.value
    return Scope(summary, local)


def _returned_spans(fn: ir.Function) -> set[ir.Span]:
    """Where the values a function returns are written: a retry call written there is what a
    factory hands out (`return retry(...)`), not a retry applied in place (`retry(...)(f)`)."""
    spans = {ret.span for ret in fn.returns}
    names = {ret.dotted for ret in fn.returns if isinstance(ret, ir.Ref)}
    spans.update(b.value.span for b in fn.locals if b.target in names)
    return spans


def def_location(summary: ir.ModuleSummary, fn: ir.Function) -> Location:
    """Rows of decorated functions sit on the function name, like every task adapter's."""
    span = fn.name_span
    return Location(summary.path, span.line, span.column, span.end_line, span.end_column)


def def_anchors(fn: ir.Function) -> tuple[int, ...]:
    return tuple(sorted({d.span.line for d in fn.decorators} | {fn.span.line}))


def site_name(summary: ir.ModuleSummary, qualname: str) -> str:
    return f"{summary.module}.{qualname}" if summary.module else qualname


# -- delays -------------------------------------------------------------------------------


def safe(fn: Callable[[int], float]) -> DelayFn:
    """A delay function that never raises: overflow is an infinite wait, nonsense is none."""

    def wrapped(r: int) -> float:
        try:
            value = float(fn(r))
        except (ArithmeticError, ValueError, TypeError):
            return math.inf
        return 0.0 if math.isnan(value) else value

    return wrapped


def power(base: float, exponent: int) -> float:
    if exponent > 4096:
        return math.inf if base > 1 else (0.0 if abs(base) < 1 else base)
    try:
        return float(base**exponent)
    except OverflowError:
        return math.inf


def fibonacci(n: int) -> float:
    """1, 1, 2, 3, 5, ... for n = 0, 1, 2, ... (backoff's `fibo`)."""
    if n > 1500:
        return math.inf
    a, b = 1, 1
    for _ in range(n):
        a, b = b, a + b
    return float(a)


@dataclass(frozen=True)
class Wait:
    """The wait before retry r+1 (r from 0), in seconds.

    `upper` and `lower` bound one wait (caps applied); `shape` is the jitter-free, uncapped
    sequence the backoff kind is read from; `peak` is the longest wait there can ever be (None
    when the waits grow without a cap); `lower_zero` says the shortest wait is always 0 s.
    """

    upper: DelayFn
    lower: DelayFn
    shape: DelayFn
    jitter: bool
    peak: float | None
    lower_zero: bool
    assumed: bool = False

    @staticmethod
    def constant(seconds: float, assumed: bool = False) -> Wait:
        value = max(0.0, seconds)
        return Wait(
            lambda _r: value,
            lambda _r: value,
            lambda _r: value,
            False,
            value,
            value == 0,
            assumed,
        )

    def __add__(self, other: Wait) -> Wait:
        peak = None if self.peak is None or other.peak is None else self.peak + other.peak
        return Wait(
            safe(lambda r: self.upper(r) + other.upper(r)),
            safe(lambda r: self.lower(r) + other.lower(r)),
            safe(lambda r: self.shape(r) + other.shape(r)),
            self.jitter or other.jitter,
            peak,
            self.lower_zero and other.lower_zero,
            self.assumed or other.assumed,
        )

    def kind_fn(self) -> DelayFn:
        """The sequence to classify: the jitter-free shape, unless jitter is all there is."""
        if all(self.shape(r) == 0 for r in range(6)):
            return self.upper
        return self.shape


def chain(waits: Sequence[Wait]) -> Wait:
    """`wait_chain`: the (r+1)-th strategy before retry r+1, the last one thereafter."""

    def pick(r: int) -> Wait:
        return waits[min(r, len(waits) - 1)]

    peaks = [w.peak for w in waits]
    return Wait(
        safe(lambda r: pick(r).upper(r)),
        safe(lambda r: pick(r).lower(r)),
        safe(lambda r: pick(r).shape(r)),
        any(w.jitter for w in waits),
        None if None in peaks else max(p for p in peaks if p is not None),
        all(w.lower_zero for w in waits),
        any(w.assumed for w in waits),
    )


# -- stop conditions ----------------------------------------------------------------------


@dataclass(frozen=True)
class Attempts:
    """A limit on executions (the first run included); `None` executions means no limit."""

    executions: float | None
    source: Provenance


@dataclass(frozen=True)
class TimeLimit:
    """A limit on the time since the first attempt.

    `after`: stop once the elapsed time reaches it, checked after a failure (the last wait may
    run past it); `before`: stop when the next wait would reach it; `cut`: like `after`, but the
    last wait is cut short at the limit (backoff's `max_time`).
    """

    seconds: float
    kind: Literal["after", "before", "cut"]
    source: Provenance


@dataclass(frozen=True)
class NoStop:
    source: Provenance


@dataclass(frozen=True)
class StopUnknown:
    source: Provenance


@dataclass(frozen=True)
class AnyStop:
    stops: tuple[Stop, ...]


@dataclass(frozen=True)
class AllStop:
    stops: tuple[Stop, ...]


Stop = Attempts | TimeLimit | NoStop | StopUnknown | AnyStop | AllStop


@dataclass(frozen=True)
class Bound:
    """The retry count a stop condition allows, and the window bound a time limit gives."""

    count: Count
    source: Provenance
    window: float | None = None
    window_source: Provenance | None = None
    # A time limit checked after each failure: the last wait may run past it, by at most the
    # longest wait among the retries that actually happen.
    after_limit: float | None = None


def bound_of(stop: Stop, wait: Wait | None) -> Bound:
    if isinstance(stop, Attempts):
        if stop.executions is None:
            return Bound(UNBOUNDED, stop.source)
        return Bound(max(0, math.ceil(stop.executions) - 1), stop.source)
    if isinstance(stop, NoStop):
        return Bound(UNBOUNDED, stop.source)
    if isinstance(stop, StopUnknown):
        return Bound(UNDECIDED, stop.source)
    if isinstance(stop, TimeLimit):
        return _time_bound(stop, wait)
    parts = [bound_of(s, wait) for s in stop.stops]
    if isinstance(stop, AnyStop):
        return _any_bound(parts, wait)
    return _all_bound(parts)


def _any_bound(parts: list[Bound], wait: Wait | None) -> Bound:
    """Stop as soon as one condition holds: the smallest count, the tightest window.

    A time limit's window is the limit plus the longest wait that can follow it, and only the
    retries of the chosen count can follow it: `attempts=5, timeout=2` ends after 4 retries
    whose waits are at most 1.8 s, so 3.8 s, not the limit plus a fifth wait that never comes.
    """
    undecided = [p for p in parts if p.count == UNDECIDED]
    decided = [p for p in parts if isinstance(p.count, int)]
    if undecided:
        chosen = undecided[0]
    elif decided:
        chosen = min(decided, key=lambda p: p.count)
    else:
        chosen = parts[0]
    count = chosen.count
    if wait is not None and isinstance(count, int) and count > 0:
        parts = [
            replace(p, window=min(p.window, p.after_limit + max(map(wait.upper, range(count)))))
            if p.after_limit is not None and p.window is not None
            else p
            for p in parts
        ]
    windows = [p for p in parts if p.window is not None]
    tightest = min(windows, key=lambda p: p.window or 0.0) if windows else None
    if tightest is None:
        return Bound(chosen.count, chosen.source)
    return Bound(chosen.count, chosen.source, tightest.window, tightest.window_source)


def _all_bound(parts: list[Bound]) -> Bound:
    """Stop only when every condition holds: the largest count."""
    for marker in (UNBOUNDED, UNDECIDED):
        chosen = next((p for p in parts if p.count == marker), None)
        if chosen is not None:
            return Bound(chosen.count, chosen.source)
    best = max(parts, key=lambda p: p.count if isinstance(p.count, int) else -1)
    return Bound(best.count, best.source)


def _time_bound(stop: TimeLimit, wait: Wait | None) -> Bound:
    limit = stop.seconds
    # `before` and `cut` keep every wait inside the limit, whatever the waits are.
    window = limit if stop.kind in ("before", "cut") else None
    if wait is None:
        return Bound(UNDECIDED, stop.source, window, stop.source if window is not None else None)
    count = implied_count(stop, wait)
    if stop.kind == "after":
        if count == UNBOUNDED:
            window = None if wait.peak is None else limit + wait.peak
        elif isinstance(count, int) and count > 0:
            window = limit + max(wait.upper(r) for r in range(count))
    note = stop.source.note
    if count == UNBOUNDED:
        reason = f"{note}: the limit is on time only and a wait can be 0 s"
    else:
        reason = f"{note}: the retries that fit with the shortest waits"
    source = replace(stop.source, note=reason)
    if window is not None and math.isinf(window):
        window = None
    after = limit if stop.kind == "after" else None
    return Bound(count, source, window, stop.source if window is not None else None, after)


def implied_count(stop: TimeLimit, wait: Wait) -> Count:
    """How many retries start before the time limit when every wait is as short as it can be."""
    limit = stop.seconds
    if limit <= 0:
        return 0
    if wait.lower_zero:
        return UNBOUNDED
    elapsed = 0.0
    for r in range(_TIME_TERMS):
        following = elapsed + wait.lower(r)
        # Retry r+1 happens when the check after the failure still sees time left.
        reached = following if stop.kind == "before" else elapsed
        if reached >= limit:
            return r
        elapsed = following
    return UNBOUNDED


# -- rows ---------------------------------------------------------------------------------

TriggerKind = Literal["automatic", "manual", "automatic+manual", "none"]


@dataclass
class Spec:
    """Everything an adapter decided about one retry site; `build_row` makes it a row."""

    framework: str
    version: str
    name: str
    site: Site
    location: Location
    anchors: tuple[int, ...]
    trigger: TriggerKind
    stop: Stop
    wait: Wait | None  # None: undecided (the reason is logged)
    wait_source: Provenance
    jitter_source: Provenance
    final_failure: str
    hints: tuple[tuple[str, str], ...]
    log: UndecidedLog = field(default_factory=UndecidedLog)
    broad: list[TriggerSite] = field(default_factory=list)
    inert: list[tuple[str, Location]] = field(default_factory=list)
    never_source: Provenance | None = None


def build_row(spec: Spec) -> EffectivePolicy:
    if spec.trigger == "none":
        fields = never_retries(spec.never_source or Provenance("default"))
    else:
        fields = _fields(spec)
    return policy_row(
        name=spec.name,
        name_expression=None,
        framework=spec.framework,
        site=spec.site,
        location=spec.location,
        fields=fields,
        final_failure=spec.final_failure,
        log=spec.log,
        version=spec.version,
        anchors=spec.anchors,
        hints=spec.hints,
        inert=tuple(spec.inert) if fields.retry_trigger == "none" else (),
        broad=spec.broad,
    )


def _fields(spec: Spec) -> Fields:
    wait = spec.wait
    bound = bound_of(spec.stop, wait)
    jitter: bool | Literal["undecided"] = wait.jitter if wait is not None else UNDECIDED
    # One retry loop, whether exceptions or `raise TryAgain` drive it: one path.
    path = RetryPath(
        "manual" if spec.trigger == "manual" else "automatic",
        bound.count,
        bound.source,
        wait.upper if wait is not None else None,
        spec.wait_source,
        jitter,
        spec.jitter_source,
    )
    fields = combine([path])
    if spec.trigger == "automatic+manual":
        fields = replace(fields, retry_trigger="automatic+manual")
    if fields.max_retries == 0:
        return fields
    if wait is not None and fields.backoff not in (None, UNDECIDED):
        fields = replace(fields, backoff=classify(wait.kind_fn()))
    if bound.window is not None and bound.window_source is not None:
        current = fields.window_seconds
        if not isinstance(current, str) and current <= bound.window:
            return fields
        window: Window = tidy(bound.window)
        sources = {**fields.sources, "window": bound.window_source}
        fields = replace(fields, window_seconds=window, sources=sources)
    return fields


def tidy(value: float) -> float:
    """Integral floats print as integers in every report."""
    return int(value) if float(value).is_integer() else round(value, 3)


def source_for(assumed: bool, written: Source = "explicit") -> Source:
    return "assumed" if assumed else written


def broad_sites(
    ctx: AdapterContext, finder: Finder, written: Written, log: UndecidedLog, option: str
) -> list[TriggerSite]:
    """`Exception` / `BaseException` among the exception classes an option names."""
    expr, scope = finder.deref(written.expr, written.scope)
    names: list[tuple[str, Location]]
    if scope.local is None:
        names, unknown = exception_names(ctx, expr, scope.module)
        if unknown is not None:
            log.add(option, unknown)
    else:
        names = []
        items = expr.items if isinstance(expr, ir.Seq) else (expr,)
        for item in items:
            value = ctx.evaluator.eval(item, scope.module, scope.local)
            if isinstance(value, Sym):
                names.append((value.qualified, location_of(scope.module, item.span)))
    return [
        TriggerSite(qualified.rpartition(".")[2], loc)
        for qualified, loc in names
        if qualified in BROAD_EXCEPTIONS
    ]


def number_of(
    finder: Finder, written: Written, log: UndecidedLog, option: str
) -> tuple[float, bool] | None:
    """A number (seconds for timedelta) and whether it was assumed; logs what it cannot read."""
    value = finder.eval(written)
    amount = number(value)
    if amount is None:
        log.add(option, value if isinstance(value, Unknown) else _unknown(written))
        return None
    return float(amount), isinstance(value, Known) and value.assumed


def _unknown(written: Written) -> Unknown:
    return Unknown(written.expr.text, written.location)


def is_none(finder: Finder, written: Written) -> bool:
    value = finder.eval(written)
    return isinstance(value, Known) and value.value is None


def bind(call: ir.Call, names: Sequence[str], scope: Scope) -> dict[str, Written]:
    """A call's arguments by parameter name (positional ones in signature order)."""
    out: dict[str, Written] = {}
    positional = [a for a in call.args if not isinstance(a, ir.Starred)]
    for name, arg in zip(names, positional, strict=False):
        out[name] = Written(arg, scope)
    for kw in call.kwargs:
        if kw.name is not None:
            out[kw.name] = Written(kw.value, scope)
    return out


# =========================================================================================
# tenacity
# =========================================================================================

_RETRY = frozenset({"tenacity.retry"})
_RETRYING = frozenset(
    {
        "tenacity.Retrying",
        "tenacity.AsyncRetrying",
        "tenacity.asyncio.AsyncRetrying",
        "tenacity.TornadoRetrying",
        "tenacity.tornadoweb.TornadoRetrying",
    }
)
_TRY_AGAIN = frozenset({"tenacity.TryAgain"})
# `BaseRetrying.__init__` positional order (`retry(*dargs)` passes them on).
_POSITIONAL = (
    "sleep",
    "stop",
    "wait",
    "retry",
    "before",
    "after",
    "before_sleep",
    "reraise",
    "retry_error_cls",
    "retry_error_callback",
)
_RETRY_OPTIONS = ("stop", "wait", "retry")

_HINTS: tuple[tuple[str, str], ...] = (
    (
        "max_retries",
        "Pass stop=stop_after_attempt(n) (n counts every run, the first included), "
        "optionally | stop_after_delay(seconds).",
    ),
    (
        "backoff",
        "Use wait=wait_random_exponential(multiplier=..., max=...) or "
        "wait_exponential_jitter(...) so the waits grow.",
    ),
    (
        "jitter",
        "tenacity jitters only through wait_random_exponential (wait_full_jitter), "
        "wait_exponential_jitter or an added wait_random(0, n); wait_exponential and "
        "wait_fixed alone are never jittered.",
    ),
    (
        "dead_letter",
        "Catch RetryError (or the re-raised exception) in the caller and record the failed "
        "input, or pass retry_error_callback= to do it.",
    ),
    (
        "window",
        "Raise stop_after_attempt(n) or stop_after_delay(seconds), or the waits "
        "(wait_exponential's max= caps one wait).",
    ),
)


_CONDITION_FIX = "Pass a retry= condition that can say yes, or remove the retry options."


class TenacityAdapter:
    key = KEY
    # tenacity 9.2 `__init__.py`: the two exceptions and the callback argument type.
    info = FrameworkInfo(
        "tenacity",
        "tenacity",
        in_process=True,
        capabilities=Capabilities(
            count="setting", backoff="setting", jitter="setting", dead_letter="code"
        ),
        incidental=frozenset({"RetryError", "TryAgain", "RetryCallState"}),
    )
    packages: tuple[str, ...] = ("tenacity",)
    markers = re.compile(rb"tenacity\b")
    interest = ir.Interest(
        calls=frozenset(
            {"retry", "Retrying", "AsyncRetrying", "TornadoRetrying", "retry_with", "wraps"}
        ),
        attributes=frozenset(),
    )

    def analyze(self, ctx: AdapterContext) -> Iterable[EffectivePolicy | Observation]:
        finder = Finder(ctx, _RETRY, _RETRY)
        version = ctx.version or REFERENCE_VERSION
        for summary, fn, decl in finder.decorated():
            yield _Row(ctx, finder, decl, fn, summary, version).build(
                site_name(summary, fn.qualname),
                "definition",
                def_location(summary, fn),
                def_anchors(fn),
            )
        for summary, enclosing, target, call, scope in finder.calls(frozenset(_RETRYING)):
            decl = finder.make(finder.qualified(call.func, scope) or "", call, scope)
            owner = enclosing.qualname if enclosing is not None else target
            location = location_of(summary, call.span)
            yield _Row(ctx, finder, decl, None, summary, version).build(
                site_name(summary, owner) if owner else summary.module,
                "definition",
                location,
                (call.span.line,),
            )
        for summary, enclosing, target, call, decl in finder.applied():
            owner = enclosing.qualname if enclosing is not None else target
            yield _Row(ctx, finder, decl, None, summary, version).build(
                site_name(summary, owner) if owner else summary.module,
                "definition",
                location_of(summary, call.span),
                (call.span.line,),
            )
        yield from _retry_with(ctx, finder, version)

    def project_markers(self, ctx: AdapterContext) -> frozenset[str]:
        return Finder(ctx, _RETRY, _RETRY).markers()


def _retry_with(ctx: AdapterContext, finder: Finder, version: str) -> Iterator[EffectivePolicy]:
    """`fn.retry_with(stop=...)`: a copy of the decorated function with options replaced."""
    for summary in ctx.scanned:
        seen: set[ir.Span] = set()
        for _, _, call, scope in _module_calls(summary):
            func = call.func
            if not isinstance(func, ir.Ref) or not func.dotted.endswith(".retry_with"):
                continue
            if call.span in seen:
                continue
            seen.add(call.span)
            found = finder.resolve(ir.Ref(func.dotted[: -len(".retry_with")], "", func.span), scope)
            if not isinstance(found, Resolved) or found.kind != "function":
                continue
            fn, module = found.function, found.module
            if fn is None or module is None:
                continue
            base = next(
                (d for d in (finder.decl(dec, Scope(module)) for dec in fn.decorators) if d),
                None,
            )
            if base is None or base.factory not in _RETRY:
                continue
            decl = base.with_overrides(finder.make(base.factory, call, scope))
            yield _Row(ctx, finder, decl, fn, module, version).build(
                site_name(module, fn.qualname),
                "enqueue",
                location_of(summary, call.span),
                (call.span.line,),
            )


class _Row:
    """One tenacity retry site: its options read into stop, wait and trigger."""

    def __init__(
        self,
        ctx: AdapterContext,
        finder: Finder,
        decl: Decl,
        fn: ir.Function | None,
        module: ir.ModuleSummary,
        version: str,
    ) -> None:
        self.ctx = ctx
        self.finder = finder
        self.decl = decl
        self.fn = fn
        self.module = module
        self.version = version
        self.log = UndecidedLog()
        self.broad: list[TriggerSite] = []

    def option(self, name: str) -> Written | None:
        position = _POSITIONAL.index(name) if name in _POSITIONAL else None
        return self.decl.option(name, position)

    def _opaque(self, field_name: str) -> Provenance | None:
        """A `**splat` nobody can read might set this option."""
        if self.decl.opaque is None:
            return None
        self.log.add(field_name, self.decl.opaque)
        return Provenance("undecided", self.decl.opaque.location, "unreadable **options")

    def build(
        self, name: str, site: Site, location: Location, anchors: tuple[int, ...]
    ) -> EffectivePolicy:
        stop = self.stop()
        wait, wait_source, jitter_source = self.wait()
        trigger, never = self.trigger()
        spec = Spec(
            framework=KEY,
            version=self.version,
            name=name,
            site=site,
            location=location,
            anchors=anchors,
            trigger=trigger,
            stop=stop,
            wait=wait,
            wait_source=wait_source,
            jitter_source=jitter_source,
            final_failure=self.final_failure(),
            hints=_HINTS + self._trigger_hint(never),
            log=self.log,
            broad=self.broad,
            never_source=never,
        )
        if trigger == "none":
            spec.inert = [
                (option, written.location)
                for option in ("stop", "wait")
                if (written := self.option(option)) is not None
            ]
        return build_row(spec)

    def _trigger_hint(self, never: Provenance | None) -> tuple[tuple[str, str], ...]:
        if never is None:
            return (("trigger_fix", _CONDITION_FIX),)
        fix = (
            "Drop enabled=False, or remove the retry options."
            if never.note == "enabled=False"
            else _CONDITION_FIX
        )
        return (("trigger", f"{never.note}, so nothing asks for a retry"), ("trigger_fix", fix))

    # -- stop -------------------------------------------------------------------------

    def stop(self) -> Stop:
        written = self.option("stop")
        if written is None:
            opaque = self._opaque("stop")
            if opaque is not None:
                return StopUnknown(opaque)
            return NoStop(Provenance("default", None, "tenacity's default stop=stop_never"))
        return self._stop(written, 0)

    def _stop(self, written: Written, depth: int) -> Stop:
        expr, scope = self.finder.deref(written.expr, written.scope)
        here = Written(expr, scope)
        if depth > _MAX_DEPTH:
            return self._stop_unknown(here)
        if isinstance(expr, ir.BinOp) and expr.op in ("|", "&"):
            parts = (
                self._stop(Written(expr.left, scope), depth + 1),
                self._stop(Written(expr.right, scope), depth + 1),
            )
            return AnyStop(parts) if expr.op == "|" else AllStop(parts)
        if isinstance(expr, ir.Ref):
            if self._tname(expr, scope) == "stop_never":
                return NoStop(Provenance("explicit", here.location, "stop=stop_never"))
            return self._stop_unknown(here)
        if not isinstance(expr, ir.Call):
            return self._stop_unknown(here)
        name = self._tname(expr.func, scope)
        if name in ("stop_any", "stop_all"):
            inner = tuple(
                self._stop(Written(a, scope), depth + 1)
                for a in expr.args
                if not isinstance(a, ir.Starred)
            )
            if not inner or len(inner) != len(expr.args):
                return self._stop_unknown(here)
            return AnyStop(inner) if name == "stop_any" else AllStop(inner)
        if name == "stop_after_attempt":
            args = bind(expr, ("max_attempt_number",), scope)
            value = args.get("max_attempt_number")
            read = number_of(self.finder, value, self.log, "stop") if value else None
            if read is None:
                return StopUnknown(Provenance("undecided", here.location, here.note))
            return Attempts(read[0], Provenance(source_for(read[1]), here.location, here.note))
        if name in ("stop_after_delay", "stop_before_delay"):
            args = bind(expr, ("max_delay",), scope)
            value = args.get("max_delay")
            read = number_of(self.finder, value, self.log, "stop") if value else None
            if read is None:
                return StopUnknown(Provenance("undecided", here.location, here.note))
            kind: Literal["after", "before"] = "after" if name == "stop_after_delay" else "before"
            source = Provenance(source_for(read[1]), here.location, here.note)
            return TimeLimit(read[0], kind, source)
        return self._stop_unknown(here)

    def _stop_unknown(self, written: Written) -> StopUnknown:
        """`stop_when_event_set(...)`, a custom callable: decided only at run time."""
        unknown = _unknown(written)
        self.log.add("stop", unknown)
        return StopUnknown(Provenance("undecided", unknown.location, written.note))

    def _tname(self, expr: ir.Expr, scope: Scope) -> str | None:
        qualified = self.finder.qualified(expr, scope)
        return short_name(qualified, "tenacity") if qualified else None

    # -- wait -------------------------------------------------------------------------

    def wait(self) -> tuple[Wait | None, Provenance, Provenance]:
        written = self.option("wait")
        if written is None:
            opaque = self._opaque("wait")
            if opaque is not None:
                return None, opaque, opaque
            default = Provenance("default", None, "tenacity's default wait=wait_none()")
            return Wait.constant(0.0), default, default
        wait = self._wait(written, 0)
        # Located where the value is written, also when it is a constant elsewhere.
        here = Written(*self.finder.deref(written.expr, written.scope))
        if wait is None:
            prov = Provenance("undecided", here.location, here.note)
            return None, prov, prov
        source = Provenance(source_for(wait.assumed), here.location, here.note)
        return wait, source, source

    def _wait(self, written: Written, depth: int) -> Wait | None:
        expr, scope = self.finder.deref(written.expr, written.scope)
        here = Written(expr, scope)
        if depth > _MAX_DEPTH:
            return self._wait_unknown(here)
        if isinstance(expr, ir.BinOp) and expr.op == "+":
            left = self._wait(Written(expr.left, scope), depth + 1)
            right = self._wait(Written(expr.right, scope), depth + 1)
            return left + right if left is not None and right is not None else None
        if isinstance(expr, ir.Const) and isinstance(expr.value, int | float):
            # A plain number is not a wait strategy, but `0` is what `sum()` starts from.
            if expr.value == 0:
                return Wait.constant(0.0)
            return self._wait_unknown(here)
        if not isinstance(expr, ir.Call):
            return self._wait_unknown(here)
        name = self._tname(expr.func, scope)
        if name in ("wait_chain", "wait_combine"):
            if not expr.args or any(isinstance(a, ir.Starred) for a in expr.args):
                return self._wait_unknown(here)
            parts = [self._wait(Written(a, scope), depth + 1) for a in expr.args]
            waits = [p for p in parts if p is not None]
            if len(waits) != len(parts):
                return None
            if name == "wait_chain":
                return chain(waits)
            total = waits[0]
            for extra in waits[1:]:
                total = total + extra
            return total
        builder = _WAITS.get(name or "")
        if builder is None:
            return self._wait_unknown(here)
        params, make = builder
        args = bind(expr, params, scope)
        values: dict[str, float] = {}
        assumed = False
        for key, value in args.items():
            if key not in params:
                continue
            read = number_of(self.finder, value, self.log, "wait")
            if read is None:
                return None
            values[key], was_assumed = read
            assumed = assumed or was_assumed
        return replace(make(values), assumed=assumed)

    def _wait_unknown(self, written: Written) -> Wait | None:
        """`wait_exception(...)`, a custom callable: the waits are decided at run time."""
        self.log.add("wait", _unknown(written))
        return None

    # -- trigger ----------------------------------------------------------------------

    def trigger(self) -> tuple[TriggerKind, Provenance | None]:
        enabled = self.option("enabled")
        if enabled is not None:
            value = self.finder.eval(enabled)
            if isinstance(value, Known) and value.value is False:
                return "none", Provenance("explicit", enabled.location, "enabled=False")
        manual = self._raises_try_again()
        written = self.option("retry")
        automatic = True
        if written is not None:
            automatic = self._retries(written, 0)
        if automatic and manual:
            return "automatic+manual", None
        if automatic:
            return "automatic", None
        if manual:
            return "manual", None
        assert written is not None
        return "none", Provenance("explicit", written.location, f"retry={written.note}")

    def _raises_try_again(self) -> bool:
        if self.fn is None:
            return False
        scope = Scope(self.module)
        for raised in self.fn.raises:
            exc = raised.exc.func if isinstance(raised.exc, ir.Call) else raised.exc
            if not self.finder.could_be(exc, scope, _TRY_AGAIN):
                continue
            if self.finder.qualified(exc, scope) in _TRY_AGAIN:
                return True
        return False

    def _retries(self, written: Written, depth: int) -> bool:
        """Whether a `retry=` condition can ask for a retry (noting broad exception types)."""
        expr, scope = self.finder.deref(written.expr, written.scope)
        if depth > _MAX_DEPTH:
            return True
        if isinstance(expr, ir.BinOp) and expr.op in ("|", "&"):
            left = self._retries(Written(expr.left, scope), depth + 1)
            right = self._retries(Written(expr.right, scope), depth + 1)
            return (left or right) if expr.op == "|" else (left and right)
        if isinstance(expr, ir.Ref):
            return self._tname(expr, scope) != "retry_never"
        if not isinstance(expr, ir.Call):
            return True
        name = self._tname(expr.func, scope)
        if name in ("retry_any", "retry_all"):
            parts = [
                self._retries(Written(a, scope), depth + 1)
                for a in expr.args
                if not isinstance(a, ir.Starred)
            ]
            if not parts:
                return name == "retry_all"
            return any(parts) if name == "retry_any" else all(parts)
        if name in ("retry_if_exception_type", "retry_if_exception_cause_type"):
            args = bind(expr, ("exception_types",), scope)
            types = args.get("exception_types")
            if types is None:
                # The default is `Exception`, written by calling the condition with nothing.
                location = location_of(scope.module, expr.span)
                self.broad.append(TriggerSite("Exception", location))
            else:
                self.broad.extend(broad_sites(self.ctx, self.finder, types, self.log, "retry"))
        return True

    # -- give-up ----------------------------------------------------------------------

    def final_failure(self) -> str:
        callback = self.option("retry_error_callback")
        if callback is not None and not is_none(self.finder, callback):
            return f"retry_error_callback {callback.note} at {callback.location}"
        reraise = self.option("reraise")
        if reraise is not None:
            value = self.finder.eval(reraise)
            if isinstance(value, Known) and value.value is True:
                return "the last exception, re-raised to the caller (reraise=True)"
        return "RetryError raised to the caller"


def _exponential(values: dict[str, float]) -> Wait:
    multiplier = values.get("multiplier", 1.0)
    base = values.get("exp_base", 2.0)
    low = max(0.0, values.get("min", 0.0))
    high = values.get("max", MAX_WAIT)

    def raw(r: int) -> float:
        return multiplier * power(base, r)

    def clamp(value: float) -> float:
        return max(low, min(value, high))

    return Wait(
        safe(lambda r: clamp(raw(r))),
        safe(lambda r: clamp(raw(r))),
        safe(raw),
        False,
        high if high < _NO_CAP else None,
        low == 0 and multiplier == 0,
    )


def _random_exponential(values: dict[str, float]) -> Wait:
    fixed = _exponential(values)
    low = max(0.0, values.get("min", 0.0))
    # Full jitter: uniform between `min` and the exponential value.
    return replace(fixed, lower=lambda _r: low, jitter=True, lower_zero=low == 0)


def _exponential_jitter(values: dict[str, float]) -> Wait:
    multiplier = values.get("multiplier", 1.0)
    if values.get("initial", 1.0) != 1.0:
        multiplier = values["initial"]  # deprecated spelling of multiplier (§14)
    base = values.get("exp_base", 2.0)
    spread = max(0.0, values.get("jitter", 1.0))
    low = max(0.0, values.get("min", 0.0))
    high = values.get("max", MAX_WAIT)

    def raw(r: int) -> float:
        return multiplier * power(base, r)

    return Wait(
        safe(lambda r: max(low, min(raw(r) + spread, high))),
        safe(lambda r: max(low, min(raw(r), high))),
        safe(raw),
        spread > 0,
        high if high < _NO_CAP else None,
        low == 0 and multiplier == 0,
    )


def _random(values: dict[str, float]) -> Wait:
    low = max(0.0, values.get("min", 0.0))
    high = max(low, values.get("max", 1.0))
    return Wait(lambda _r: high, lambda _r: low, lambda _r: low, high > low, high, low == 0)


def _incrementing(values: dict[str, float]) -> Wait:
    start = values.get("start", 0.0)
    step = values.get("increment", 100.0)
    high = values.get("max", MAX_WAIT)

    def raw(r: int) -> float:
        return start + step * r

    def clamped(r: int) -> float:
        return max(0.0, min(raw(r), high))

    peak = (high if high < _NO_CAP else None) if step > 0 else clamped(0)
    return Wait(safe(clamped), safe(clamped), safe(raw), False, peak, start <= 0 and step <= 0)


# Wait strategies: positional parameter order (tenacity/wait.py) and the model they give.
_WAITS: dict[str, tuple[tuple[str, ...], Callable[[dict[str, float]], Wait]]] = {
    "wait_none": ((), lambda _v: Wait.constant(0.0)),
    "wait_fixed": (("wait",), lambda v: Wait.constant(v.get("wait", 0.0))),
    "wait_random": (("min", "max"), _random),
    "wait_incrementing": (("start", "increment", "max"), _incrementing),
    "wait_exponential": (("multiplier", "max", "exp_base", "min"), _exponential),
    "wait_random_exponential": (("multiplier", "max", "exp_base", "min"), _random_exponential),
    "wait_full_jitter": (("multiplier", "max", "exp_base", "min"), _random_exponential),
    "wait_exponential_jitter": (
        ("initial", "max", "exp_base", "jitter", "min", "multiplier"),
        _exponential_jitter,
    ),
}
