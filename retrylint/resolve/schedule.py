"""From retry paths to the neutral fields of an inventory row.

Adapters describe each way a task can retry (automatic on an exception, or a manual retry call)
as a `RetryPath`: a count, an upper-bound delay function of the retry index and a cap. This module
alone turns paths into backoff kind, delays, window and sources, so every framework is judged by
the same arithmetic (CONTRACTS §4: the kind comes from the delay sequence before caps).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from retrylint.model import (
    BACKOFF_ORDER,
    UNBOUNDED,
    UNDECIDED,
    BackoffKind,
    Count,
    Provenance,
    Trigger,
    Window,
)

MAX_LISTED_DELAYS = 25
# Enough terms to tell linear from exponential growth, independent of the retry count.
_CLASSIFY_TERMS = 6
_EXPONENTIAL_RATIO = 1.5
_WINDOW_TERMS = 100_000
# Upper bound for a single delay, so absurd formulas cannot overflow a sum.
_DELAY_CEILING = 1e15

DelayFn = Callable[[int], float]


@dataclass(frozen=True, slots=True)
class RetryPath:
    """One way a task retries; `delay(r)` is the uncapped upper bound before retry r+1."""

    trigger: Literal["automatic", "manual"]
    count: Count
    count_source: Provenance
    delay: DelayFn | None
    delay_source: Provenance
    jitter: bool | Literal["undecided"]
    jitter_source: Provenance
    cap: float | None = None
    # The backoff kind when `delay` is undecided but its shape is known, with where that comes
    # from: a constant retrylint cannot read is still `fixed` (Celery's `default_retry_delay`
    # with `retry_backoff` off), a doubling whose cap it cannot read is still `exponential`
    # (kinds are read before caps, CONTRACTS §4). Only the unknown value stays undecided.
    kind: tuple[BackoffKind, Provenance] | None = None


@dataclass(frozen=True, slots=True)
class Fields:
    retry_trigger: Trigger
    max_retries: Count
    backoff: BackoffKind | Literal["undecided"] | None
    jitter: bool | Literal["undecided"] | None
    delays_seconds: tuple[float, ...] | None
    delays_truncated: bool
    window_seconds: Window
    sources: dict[str, Provenance]
    # The upper-bound wait before retry r+1 for every r the budget allows, unbounded budgets
    # included: `delays_seconds` lists at most 25 values and none when unbounded, but
    # `retrylint simulate` needs the whole sequence up to the end of an outage.
    delay_fn: DelayFn | None = None


def _value(fn: DelayFn, r: int, cap: float | None) -> float:
    try:
        value = float(fn(r))
    except (ArithmeticError, ValueError):
        value = math.inf
    if math.isnan(value) or value < 0:
        value = 0.0
    if cap is not None:
        value = min(value, cap)
    return min(value, _DELAY_CEILING)


def classify(fn: DelayFn) -> BackoffKind:
    """Backoff kind of a delay formula, read from its first terms before any cap."""
    terms = [_value(fn, r, None) for r in range(_CLASSIFY_TERMS)]
    if all(t == 0 for t in terms):
        return "none"
    diffs = {round(b - a, 9) for a, b in itertools.pairwise(terms)}
    if diffs == {0}:
        return "fixed"
    if len(diffs) == 1:
        return "linear" if diffs.pop() > 0 else "custom"
    if all(a > 0 and b / a >= _EXPONENTIAL_RATIO for a, b in itertools.pairwise(terms)):
        return "exponential"
    return "custom"


def _window(paths: Sequence[RetryPath], count: int) -> float:
    """Worst-case sum of waits: at each retry, the longest wait any path could choose."""
    total = 0.0
    last = 0.0
    for r in range(min(count, _WINDOW_TERMS)):
        last = max(
            _value(p.delay, r, p.cap)
            for p in paths
            if p.delay is not None and isinstance(p.count, int) and r < p.count
        )
        total += last
        if len(paths) == 1 and paths[0].cap is not None and last >= paths[0].cap:
            return total + last * (count - r - 1)
    return total + last * max(0, count - _WINDOW_TERMS)


def _weakest(kinds: Sequence[BackoffKind]) -> BackoffKind:
    if "custom" in kinds:
        return "custom"
    return min(kinds, key=BACKOFF_ORDER.index)


def constant_delay(value: float) -> DelayFn:
    """The delay function of a fixed wait."""
    return lambda _r: value


def rank_count(count: Count) -> float:
    """Orders counts for "the worst case": unbounded above every number, undecided below."""
    if count == UNBOUNDED:
        return math.inf
    if count == UNDECIDED:
        return -1.0
    return float(count)


def never_retries(source: Provenance) -> Fields:
    """The fields of a site with no retry trigger or a budget of zero."""
    return Fields(
        retry_trigger="none",
        max_retries=0,
        backoff=None,
        jitter=None,
        delays_seconds=(),
        delays_truncated=False,
        window_seconds=0,
        sources={
            "max_retries": source,
            "backoff": source,
            "jitter": source,
            "delays": source,
            "window": source,
        },
    )


def combine(paths: Sequence[RetryPath], undecided_trigger: Provenance | None = None) -> Fields:
    """Merge retry paths into one row: the worst case of each field, with its source."""
    if not paths:
        if undecided_trigger is not None:
            return Fields(
                "undecided",
                UNDECIDED,
                UNDECIDED,
                UNDECIDED,
                None,
                False,
                UNDECIDED,
                dict.fromkeys(
                    ("max_retries", "backoff", "jitter", "delays", "window"), undecided_trigger
                ),
            )
        raise ValueError("combine() needs at least one path or an undecided trigger")
    triggers = sorted({p.trigger for p in paths})
    trigger: Trigger = "automatic+manual" if len(triggers) == 2 else triggers[0]
    if undecided_trigger is not None:
        trigger = "undecided"
    worst = max(paths, key=lambda p: rank_count(p.count))
    counts = {p.count for p in paths}
    count: Count = worst.count
    if UNBOUNDED not in counts and UNDECIDED in counts:
        count = UNDECIDED
        worst = next(p for p in paths if p.count == UNDECIDED)
    sources = {"max_retries": worst.count_source}

    retrying = [p for p in paths if p.count != 0]
    if not retrying:
        fields = never_retries(worst.count_source)
        return Fields(trigger, 0, *_tail(fields))
    undecided_delay = next((p for p in retrying if p.delay is None), None)
    delay_path = undecided_delay or retrying[0]
    sources["backoff"] = sources["delays"] = delay_path.delay_source
    shapes = [
        (classify(p.delay), p.delay_source) if p.delay is not None else p.kind for p in retrying
    ]
    backoff: BackoffKind | Literal["undecided"] = UNDECIDED
    if all(shape is not None for shape in shapes):
        kinds = [shape for shape in shapes if shape is not None]
        backoff = _weakest([kind for kind, _ in kinds])
        if undecided_delay is not None:
            sources["backoff"] = next(prov for kind, prov in kinds if kind == backoff)

    jitters = [p.jitter for p in retrying]
    jitter: bool | Literal["undecided"]
    if False in jitters:
        jitter = False
        jitter_path = retrying[jitters.index(False)]
    elif UNDECIDED in jitters:
        jitter = UNDECIDED
        jitter_path = retrying[jitters.index(UNDECIDED)]
    else:
        jitter = True
        jitter_path = retrying[0]
    sources["jitter"] = jitter_path.jitter_source

    delays: tuple[float, ...] | None = None
    truncated = False
    window: Window
    if count == UNBOUNDED:
        window = UNBOUNDED
        sources["window"] = worst.count_source
    elif count == UNDECIDED or undecided_delay is not None:
        window = UNDECIDED
        sources["window"] = worst.count_source if count == UNDECIDED else delay_path.delay_source
    else:
        assert isinstance(count, int)
        listed = min(count, MAX_LISTED_DELAYS)
        per_path = [
            [
                _value(p.delay, r, p.cap) if isinstance(p.count, int) and r < p.count else 0.0
                for r in range(listed)
            ]
            for p in retrying
            if p.delay is not None
        ]
        delays = tuple(_tidy(max(column)) for column in zip(*per_path, strict=True))
        truncated = count > MAX_LISTED_DELAYS
        window = _tidy(_window(retrying, count))
        sources["window"] = _stronger(worst.count_source, delay_path.delay_source)
    delay_fn = None if undecided_delay is not None or count == UNDECIDED else _upper(retrying)
    return Fields(trigger, count, backoff, jitter, delays, truncated, window, sources, delay_fn)


def _upper(paths: Sequence[RetryPath]) -> DelayFn:
    """The longest wait any path still retrying at index r could choose (as `delays_seconds`)."""

    def delay(r: int) -> float:
        return _tidy(
            max(
                (
                    _value(p.delay, r, p.cap)
                    for p in paths
                    if p.delay is not None and (p.count == UNBOUNDED or rank_count(p.count) > r)
                ),
                default=0.0,
            )
        )

    return delay


def _tail(
    fields: Fields,
) -> tuple[
    BackoffKind | Literal["undecided"] | None,
    bool | Literal["undecided"] | None,
    tuple[float, ...] | None,
    bool,
    Window,
    dict[str, Provenance],
]:
    return (
        fields.backoff,
        fields.jitter,
        fields.delays_seconds,
        fields.delays_truncated,
        fields.window_seconds,
        fields.sources,
    )


_STRENGTH = ("undecided", "explicit", "assumed", "config", "inherited", "default")


def _stronger(a: Provenance, b: Provenance) -> Provenance:
    """The more specific of two sources; a window is as specific as its parts."""
    return a if _STRENGTH.index(a.source) <= _STRENGTH.index(b.source) else b


def _tidy(value: float) -> float:
    """Integral floats print as integers in every report."""
    return int(value) if float(value).is_integer() else round(value, 3)
