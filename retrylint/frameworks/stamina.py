"""stamina (written against 26.1.0): `@stamina.retry`, `retry_context` and the retrying callers.

From `stamina/_core.py` (`retry` l.730, `_RetryContextIterator.from_params`, `_make_stop`,
`_compute_backoff`): stamina runs on tenacity with
- `attempts=10` (executions, `stop_after_attempt`) and `timeout=45.0` s (`stop_after_delay`),
  combined with `stop_any`; both `None` gives `stop_never`;
- the wait before retry r+1 (r from 0) is
  `min(wait_max, wait_initial·wait_exp_base^r + U(0, wait_jitter))` with `wait_initial=0.1`,
  `wait_max=5.0`, `wait_jitter=1.0`, `wait_exp_base=2`; durations may be `timedelta`s;
- the last exception is re-raised (`reraise=True`).
`on=` (an exception class, a tuple of them, or a hook) is required by `retry` and
`retry_context`; `RetryingCaller(...)` / `AsyncRetryingCaller(...)` take it per call or through
`.on(...)`. Each `retry_context(...)` and caller is a retry site with its row at the call.
`stamina.set_active(False)` and test mode switch retries off at run time; they are not read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

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
    is_none,
    number_of,
    power,
    safe,
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
from retrylint.python.evaluate import location_of

KEY = "stamina"
# The version the facts below were read from (reference §0), assumed when none is detected.
REFERENCE_VERSION = "26.1.0"

_RETRY = frozenset({"stamina.retry", "stamina._core.retry"})
_CONTEXT = frozenset({"stamina.retry_context", "stamina._core.retry_context"})
_CALLERS = frozenset(
    {
        "stamina.RetryingCaller",
        "stamina.AsyncRetryingCaller",
        "stamina._core.RetryingCaller",
        "stamina._core.AsyncRetryingCaller",
    }
)
_DEFAULTS: dict[str, float] = {
    "attempts": 10,
    "timeout": 45.0,
    "wait_initial": 0.1,
    "wait_max": 5.0,
    "wait_jitter": 1.0,
    "wait_exp_base": 2,
}
_WAIT_OPTIONS = ("wait_initial", "wait_max", "wait_jitter", "wait_exp_base")
# Positional order: `retry_context(on, attempts, ...)`, `RetryingCaller(attempts, ...)`.
_CALLER_ORDER = ("attempts", "timeout", "wait_initial", "wait_max", "wait_jitter", "wait_exp_base")

_HINTS: tuple[tuple[str, str], ...] = (
    (
        "max_retries",
        "Give attempts=n (it counts the first run too) or a timeout; attempts=None together "
        "with timeout=None retries forever.",
    ),
    (
        "backoff",
        "stamina backs off exponentially (wait_initial * wait_exp_base**n, capped by "
        "wait_max): keep wait_exp_base above 1.",
    ),
    (
        "jitter",
        "stamina adds U(0, wait_jitter) s to every wait (1 s by default): do not set "
        "wait_jitter=0.",
    ),
    (
        "dead_letter",
        "stamina re-raises the last exception and has no give-up hook: catch it in the caller "
        "and record the failed input.",
    ),
    ("trigger_fix", "Pass on= the exceptions to retry, or remove the retry."),
    (
        "window",
        "Raise attempts= or timeout=, or wait_initial and wait_max.",
    ),
)


class StaminaAdapter:
    key = KEY
    # stamina 26.1: the activity and test switches, and the hooks module.
    info = FrameworkInfo(
        "stamina",
        "stamina",
        in_process=True,
        capabilities=Capabilities(
            count="setting", backoff="setting", jitter="setting", dead_letter="code"
        ),
        incidental=frozenset(
            {"instrumentation", "is_active", "is_testing", "set_active", "set_testing"}
        ),
    )
    packages: tuple[str, ...] = ("stamina",)
    markers = re.compile(rb"stamina\b")
    interest = ir.Interest(
        calls=frozenset({"retry", "retry_context", "RetryingCaller", "AsyncRetryingCaller"}),
        attributes=frozenset(),
    )

    def analyze(self, ctx: AdapterContext) -> Iterable[EffectivePolicy | Observation]:
        finder = Finder(ctx, _RETRY)
        version = ctx.version or REFERENCE_VERSION
        for summary, fn, decl in finder.decorated():
            yield _Row(finder, decl, ()).build(
                site_name(summary, fn.qualname), def_location(summary, fn), def_anchors(fn), version
            )
        for summary, enclosing, target, call, decl in finder.applied():
            owner = enclosing.qualname if enclosing is not None else target
            yield _Row(finder, decl, ()).build(
                site_name(summary, owner) if owner else summary.module,
                location_of(summary, call.span),
                (call.span.line,),
                version,
            )
        for summary, enclosing, target, call, scope in finder.calls(_CONTEXT | _CALLERS):
            qualified = finder.qualified(call.func, scope) or ""
            order = ("on", *_CALLER_ORDER) if qualified in _CONTEXT else _CALLER_ORDER
            decl = finder.make(qualified, call, scope)
            owner = enclosing.qualname if enclosing is not None else target
            yield _Row(finder, decl, order).build(
                site_name(summary, owner) if owner else summary.module,
                location_of(summary, call.span),
                (call.span.line,),
                version,
            )

    def project_markers(self, ctx: AdapterContext) -> frozenset[str]:
        return Finder(ctx, _RETRY).markers()


class _Row:
    def __init__(self, finder: Finder, decl: Decl, order: tuple[str, ...]) -> None:
        self.finder = finder
        self.decl = decl
        self.order = order
        self.log = UndecidedLog()

    def option(self, name: str) -> Written | None:
        position = self.order.index(name) if name in self.order else None
        return self.decl.option(name, position)

    def build(
        self, name: str, location: Location, anchors: tuple[int, ...], version: str
    ) -> EffectivePolicy:
        wait, wait_source, jitter_source = self.wait()
        spec = Spec(
            framework=KEY,
            version=version,
            name=name,
            site="definition",
            location=location,
            anchors=anchors,
            trigger="automatic",
            stop=self.stop(),
            wait=wait,
            wait_source=wait_source,
            jitter_source=jitter_source,
            final_failure="the last exception, re-raised to the caller",
            hints=_HINTS,
            log=self.log,
            broad=self.broad(),
        )
        return build_row(spec)

    def broad(self) -> list[TriggerSite]:
        written = self.option("on")
        if written is None:
            return []
        return broad_sites(self.finder.ctx, self.finder, written, self.log, "on")

    def _read(self, name: str) -> tuple[float | None, Provenance] | None:
        """An option's number (None for an explicit `None`) and provenance; None if unknown."""
        written = self.option(name)
        if written is None:
            if self.decl.opaque is not None:
                self.log.add(name, self.decl.opaque)
                return None
            default = _DEFAULTS[name]
            return default, Provenance("default", None, f"stamina's default {name}={default}")
        if is_none(self.finder, written):
            return None, Provenance("explicit", written.location, f"{name}=None")
        read = number_of(self.finder, written, self.log, name)
        if read is None:
            return None
        value, assumed = read
        return value, Provenance(source_for(assumed), written.location, f"{name}={written.note}")

    def stop(self) -> Stop:
        stops: list[Stop] = []
        unset: list[Provenance] = []
        for name in ("attempts", "timeout"):
            read = self._read(name)
            if read is None:
                written = self.option(name)
                location = written.location if written is not None else self.decl.location
                stops.append(StopUnknown(Provenance("undecided", location, name)))
                continue
            value, prov = read
            if value is None:
                unset.append(prov)
            elif name == "attempts":
                stops.append(Attempts(value, prov))
            else:
                stops.append(TimeLimit(value, "after", prov))
        if not stops:
            return NoStop(
                Provenance("explicit", unset[0].location, "attempts=None and timeout=None")
            )
        return stops[0] if len(stops) == 1 else AnyStop(tuple(stops))

    def wait(self) -> tuple[Wait | None, Provenance, Provenance]:
        values: dict[str, float] = {}
        provs: dict[str, Provenance] = {}
        for name in _WAIT_OPTIONS:
            read = self._read(name)
            if read is None or read[0] is None:
                given = self.option(name)
                location = given.location if given is not None else self.decl.location
                prov = Provenance("undecided", location, name)
                return None, prov, prov
            values[name], provs[name] = read[0], read[1]
        chosen = [provs[n] for n in _WAIT_OPTIONS if provs[n].source != "default"]
        if chosen:
            delays = Provenance(
                "assumed" if any(p.source == "assumed" for p in chosen) else "explicit",
                chosen[0].location,
                ", ".join(p.note for p in chosen),
            )
        else:
            delays = Provenance(
                "default",
                None,
                "stamina's default wait_initial=0.1, wait_max=5.0, wait_exp_base=2",
            )
        return _wait(values), delays, provs["wait_jitter"]


def _wait(values: dict[str, float]) -> Wait:
    initial = values["wait_initial"]
    cap = values["wait_max"]
    spread = max(0.0, values["wait_jitter"])
    base = values["wait_exp_base"]

    def raw(r: int) -> float:
        return initial * power(base, r)

    return Wait(
        safe(lambda r: min(cap, raw(r) + spread)),
        safe(lambda r: min(cap, raw(r))),
        safe(raw),
        spread > 0,
        cap,
        initial <= 0 or cap <= 0,
    )
