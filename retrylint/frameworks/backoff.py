"""backoff (written against 2.2.1): `@backoff.on_exception` and `@backoff.on_predicate`.

From `backoff/_decorator.py`, `_sync.py`, `_wait_gen.py` and `_jitter.py`:
- `on_exception(wait_gen, exception, *, max_tries=None, max_time=None, jitter=full_jitter,
  giveup=..., on_giveup=None, raise_on_giveup=True, ..., **wait_gen_kwargs)`;
  `on_predicate(wait_gen, predicate=operator.not_, *, max_tries=None, max_time=None,
  jitter=full_jitter, on_giveup=None, ..., **wait_gen_kwargs)`. Extra keywords go to the wait
  generator (`factor=`, `max_value=`, `interval=`, `base=`).
- `max_tries` counts executions and is tested with `tries == max_tries`, tries counted from 1:
  0, a negative number or no value never stops. `max_time` gives up once the time since the
  first try reaches it, and cuts the last wait at it. Either may be a callable, evaluated per
  call: undecided here.
- The waits before retry r+1 (r from 0): `expo(base=2, factor=1, max_value=None)` gives
  `factor·base^r` (`max_value` once it is reached); `fibo(max_value=None)` gives 1, 1, 2, 3, 5,
  ...; `constant(interval=1)` gives the interval, or the items of an iterable, after which it
  gives up; `runtime(value=fn)` is decided at run time.
- Jitter: `full_jitter` (the default) draws U(0, wait); `random_jitter` adds U(0, 1 s);
  `jitter=None` turns it off.
- After the last try the exception is re-raised (`raise_on_giveup=True`) or None is returned;
  `on_predicate` returns the last value. `on_giveup` handlers run first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import replace

from retrylint.frameworks.base import AdapterContext, UndecidedLog
from retrylint.frameworks.tenacity import (
    AnyStop,
    Attempts,
    Decl,
    Finder,
    NoStop,
    Spec,
    Stop,
    StopUnknown,
    TimeLimit,
    Wait,
    Written,
    broad_sites,
    build_row,
    def_anchors,
    def_location,
    fibonacci,
    is_none,
    number_of,
    power,
    safe,
    short_name,
    site_name,
    source_for,
)
from retrylint.model import (
    Capabilities,
    EffectivePolicy,
    FrameworkInfo,
    Location,
    Observation,
    Provenance,
    TriggerSite,
)
from retrylint.python import ir
from retrylint.python.evaluate import Known, Sym, Unknown, location_of, number

KEY = "backoff"
# The version the facts below were read from (reference §0), assumed when none is detected.
REFERENCE_VERSION = "2.2.1"

_ON_EXCEPTION = "backoff.on_exception"
_ON_PREDICATE = "backoff.on_predicate"
_FACTORIES = frozenset(
    {
        _ON_EXCEPTION,
        _ON_PREDICATE,
        "backoff._decorator.on_exception",
        "backoff._decorator.on_predicate",
    }
)
# Keywords of the decorators themselves; any other keyword goes to the wait generator.
_OWN = frozenset(
    {
        "wait_gen",
        "exception",
        "predicate",
        "max_tries",
        "max_time",
        "jitter",
        "giveup",
        "on_success",
        "on_backoff",
        "on_giveup",
        "raise_on_giveup",
        "logger",
        "backoff_log_level",
        "giveup_log_level",
    }
)
# The wait generators' parameters and defaults (`backoff/_wait_gen.py`).
_GENERATORS: dict[str, dict[str, float | None]] = {
    "expo": {"base": 2.0, "factor": 1.0, "max_value": None},
    "fibo": {"max_value": None},
    "constant": {"interval": 1.0},
}

_NO_LIMIT = "backoff's default: no max_tries, no max_time"

_HINTS: tuple[tuple[str, str], ...] = (
    (
        "max_retries",
        "Pass max_tries=n (a positive number; it counts the first run too) or max_time=seconds.",
    ),
    (
        "backoff",
        "Use backoff.expo (or backoff.fibo) as the wait generator, with max_value= to cap "
        "one wait.",
    ),
    (
        "jitter",
        "backoff jitters by default (full_jitter): drop jitter=None, or pass "
        "jitter=backoff.full_jitter.",
    ),
    (
        "dead_letter",
        "Pass on_giveup= a handler that records the failed call, or catch the final "
        "exception in the caller.",
    ),
    ("trigger_fix", "Give on_exception the exceptions to retry, or remove the decorator."),
    (
        "window",
        "Raise max_tries or max_time, or the waits of the wait generator (max_value= caps one "
        "wait).",
    ),
)


class BackoffAdapter:
    key = KEY
    # backoff 2.2: `backoff.types.Details` types handlers.
    info = FrameworkInfo(
        "backoff",
        "backoff",
        in_process=True,
        capabilities=Capabilities(
            count="setting", backoff="setting", jitter="setting", dead_letter="code"
        ),
        incidental=frozenset({"types"}),
    )
    packages: tuple[str, ...] = ("backoff",)
    markers = re.compile(rb"import backoff\b|from backoff\b|backoff\.on_")
    interest = ir.Interest(
        calls=frozenset({"on_exception", "on_predicate"}), attributes=frozenset()
    )

    def analyze(self, ctx: AdapterContext) -> Iterable[EffectivePolicy | Observation]:
        finder = Finder(ctx, _FACTORIES)
        version = ctx.version or REFERENCE_VERSION
        for summary, fn, decl in finder.decorated():
            row = _Row(finder, decl)
            yield row.build(
                site_name(summary, fn.qualname),
                def_location(summary, fn),
                def_anchors(fn),
                version,
            )
        for summary, enclosing, target, call, decl in finder.applied():
            owner = enclosing.qualname if enclosing is not None else target
            yield _Row(finder, decl).build(
                site_name(summary, owner) if owner else summary.module,
                location_of(summary, call.span),
                (call.span.line,),
                version,
            )

    def project_markers(self, ctx: AdapterContext) -> frozenset[str]:
        return Finder(ctx, _FACTORIES).markers()


class _Row:
    def __init__(self, finder: Finder, decl: Decl) -> None:
        self.finder = finder
        self.decl = decl
        self.log = UndecidedLog()
        self.predicate = decl.factory.endswith("on_predicate")

    def option(self, name: str) -> Written | None:
        positions = {"wait_gen": 0, "exception": 1, "predicate": 1}
        return self.decl.option(name, positions.get(name))

    def build(
        self, name: str, location: Location, anchors: tuple[int, ...], version: str
    ) -> EffectivePolicy:
        wait, wait_source, jitter_source = self.wait()
        stop = self.stop(wait)
        spec = Spec(
            framework=KEY,
            version=version,
            name=name,
            site="definition",
            location=location,
            anchors=anchors,
            trigger="automatic",
            stop=stop,
            wait=wait,
            wait_source=wait_source,
            jitter_source=jitter_source,
            final_failure=self.final_failure(),
            hints=_HINTS,
            log=self.log,
            broad=self.broad(),
        )
        return build_row(spec)

    # -- trigger ----------------------------------------------------------------------

    def broad(self) -> list[TriggerSite]:
        if self.predicate:
            return []
        written = self.option("exception")
        if written is None:
            return []
        return broad_sites(self.finder.ctx, self.finder, written, self.log, "exception")

    # -- stop -------------------------------------------------------------------------

    def stop(self, wait: Wait | None) -> Stop:
        stops: list[Stop] = []
        tries = self.option("max_tries")
        if tries is not None and not is_none(self.finder, tries):
            stops.append(self._tries(tries))
        limit = self.option("max_time")
        if limit is not None and not is_none(self.finder, limit):
            stops.append(self._time(limit))
        finite = self._finite_interval()
        if finite is not None:
            stops.append(finite)
        if self.decl.opaque is not None and (tries is None or limit is None):
            self.log.add("max_tries", self.decl.opaque)
            stops.append(StopUnknown(Provenance("undecided", self.decl.opaque.location)))
        if not stops:
            return NoStop(Provenance("default", None, _NO_LIMIT))
        return stops[0] if len(stops) == 1 else AnyStop(tuple(stops))

    def _tries(self, written: Written) -> Stop:
        if self._callable(written):
            return self._unknown_stop("max_tries", written)
        read = number_of(self.finder, written, self.log, "max_tries")
        if read is None:
            return StopUnknown(Provenance("undecided", written.location, written.note))
        value, assumed = read
        source = Provenance(source_for(assumed), written.location, f"max_tries={written.note}")
        # `tries == max_tries` with tries 1, 2, 3 ...: nothing else ever matches.
        if value < 1 or not float(value).is_integer():
            return NoStop(replace(source, note=f"max_tries={written.note} never matches a try"))
        return Attempts(value, source)

    def _time(self, written: Written) -> Stop:
        if self._callable(written):
            return self._unknown_stop("max_time", written)
        read = number_of(self.finder, written, self.log, "max_time")
        if read is None:
            return StopUnknown(Provenance("undecided", written.location, written.note))
        value, assumed = read
        source = Provenance(source_for(assumed), written.location, f"max_time={written.note}")
        return TimeLimit(value, "cut", source)

    def _unknown_stop(self, option: str, written: Written) -> Stop:
        self.log.add(option, Unknown(written.expr.text, written.location))
        note = f"{option} is computed per call"
        return StopUnknown(Provenance("undecided", written.location, note))

    def _callable(self, written: Written) -> bool:
        """`max_tries=lambda: settings.TRIES` or a function: read again on every call."""
        expr, scope = self.finder.deref(written.expr, written.scope)
        if isinstance(expr, ir.Opaque) and expr.text.startswith("lambda"):
            return True
        value = self.finder.evaluator.eval(expr, scope.module, scope.local)
        return isinstance(value, Sym)

    def _finite_interval(self) -> Stop | None:
        """`constant(interval=[1, 2, 5])` gives up once the intervals run out."""
        if self._generator() != "constant":
            return None
        interval = self.option("interval")
        if interval is None:
            return None
        value = self.finder.eval(interval)
        if isinstance(value, Known) and isinstance(value.value, tuple):
            note = f"interval={interval.note} runs out"
            return Attempts(len(value.value) + 1, Provenance("explicit", interval.location, note))
        return None

    # -- wait -------------------------------------------------------------------------

    def _generator(self) -> str | None:
        written = self.option("wait_gen")
        if written is None:
            return None
        qualified = self.finder.qualified(written.expr, written.scope)
        return short_name(qualified, "backoff") if qualified else None

    def wait(self) -> tuple[Wait | None, Provenance, Provenance]:
        written = self.option("wait_gen")
        generator = self._generator()
        if written is None:
            prov = Provenance("undecided", self.decl.location, "no wait generator")
            return None, prov, prov
        source = Provenance("explicit", written.location, f"wait_gen={written.note}")
        if generator not in _GENERATORS:
            # `runtime(value=...)` or a project generator: decided at run time.
            self.log.add("wait_gen", Unknown(written.expr.text, written.location))
            undecided = replace(source, source="undecided")
            return None, undecided, undecided
        values: dict[str, float | tuple[float, ...] | None] = {}
        assumed = False
        for key, default in _GENERATORS[generator].items():
            given = self.decl.options.get(key)
            if given is None:
                values[key] = default
                continue
            value = self.finder.eval(given)
            if isinstance(value, Known) and value.value is None:
                values[key] = None
                continue
            if isinstance(value, Known) and isinstance(value.value, tuple) and key == "interval":
                items = [number(v) for v in value.value if isinstance(v, Known | Unknown | Sym)]
                if len(items) == len(value.value) and all(i is not None for i in items):
                    values[key] = tuple(float(i) for i in items if i is not None)
                    continue
            read = number_of(self.finder, given, self.log, key)
            if read is None:
                undecided = Provenance("undecided", given.location, f"{key}={given.note}")
                return None, undecided, undecided
            values[key], was_assumed = read
            assumed = assumed or was_assumed
        base = _generator_wait(generator, values)
        source = replace(source, source=source_for(assumed))
        return self._jittered(base, source, assumed)

    def _jittered(
        self, base: Wait, source: Provenance, assumed: bool
    ) -> tuple[Wait | None, Provenance, Provenance]:
        written = self.option("jitter")
        if written is None:
            prov = Provenance("default", None, "backoff's default jitter=full_jitter")
            return _full_jitter(base, assumed), source, prov
        prov = Provenance("explicit", written.location, f"jitter={written.note}")
        if is_none(self.finder, written):
            return replace(base, assumed=assumed), source, prov
        qualified = self.finder.qualified(written.expr, written.scope)
        name = short_name(qualified, "backoff") if qualified else None
        if name == "full_jitter":
            return _full_jitter(base, assumed), source, prov
        if name == "random_jitter":
            return _random_jitter(base, assumed), source, prov
        self.log.add("jitter", Unknown(written.expr.text, written.location))
        undecided = replace(prov, source="undecided")
        return None, undecided, undecided

    # -- give-up ----------------------------------------------------------------------

    def final_failure(self) -> str:
        handler = self.option("on_giveup")
        prefix = ""
        if handler is not None and not is_none(self.finder, handler):
            prefix = f"on_giveup {handler.note} at {handler.location}"
        if self.predicate:
            # The last (falsy) value is returned: no exception reaches the caller.
            return prefix or "nowhere"
        raising = self.option("raise_on_giveup")
        swallowed = False
        if raising is not None:
            value = self.finder.eval(raising)
            swallowed = isinstance(value, Known) and value.value is False
        if swallowed:
            return prefix or "nowhere"
        reraised = "the last exception, re-raised to the caller"
        return f"{prefix}, then {reraised}" if prefix else reraised


def _generator_wait(name: str, values: dict[str, float | tuple[float, ...] | None]) -> Wait:
    if name == "constant":
        interval = values.get("interval")
        if isinstance(interval, tuple):
            items = interval or (0.0,)
            return Wait(
                safe(lambda r: items[min(r, len(items) - 1)]),
                safe(lambda r: items[min(r, len(items) - 1)]),
                safe(lambda r: items[min(r, len(items) - 1)]),
                False,
                max(items),
                all(i == 0 for i in items),
            )
        return Wait.constant(float(interval) if isinstance(interval, float) else 1.0)
    cap = values.get("max_value")
    limit = cap if isinstance(cap, float) else None
    factor = values.get("factor")
    base = values.get("base")
    f = factor if isinstance(factor, float) else 1.0
    b = base if isinstance(base, float) else 2.0
    raw: Callable[[int], float]
    if name == "fibo":
        raw = fibonacci
        # Classified from the second term on: 1, 1, 2, 3 ... starts with a repeat.
        shape = safe(lambda r: fibonacci(r + 1))
    else:
        raw = safe(lambda r: f * power(b, r))
        shape = raw

    def capped(r: int) -> float:
        value = raw(r)
        return value if limit is None or value < limit else limit

    return Wait(safe(capped), safe(capped), shape, False, limit, limit is not None and limit <= 0)


def _full_jitter(base: Wait, assumed: bool) -> Wait:
    """`full_jitter`: U(0, wait), so the shortest wait is 0 s."""
    return replace(base, lower=lambda _r: 0.0, jitter=True, lower_zero=True, assumed=assumed)


def _random_jitter(base: Wait, assumed: bool) -> Wait:
    """`random_jitter`: the wait plus U(0, 1) s."""
    upper = base.upper
    peak = None if base.peak is None else base.peak + 1.0
    return replace(
        base, upper=safe(lambda r: upper(r) + 1.0), jitter=True, peak=peak, assumed=assumed
    )
