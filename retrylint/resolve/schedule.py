"""From retry paths to the neutral fields of an inventory row.

Adapters describe each way a task can retry (automatic on an exception, or a manual retry call)
as a `RetryPath`: a count, an upper-bound delay function of the retry index and a cap. This module
alone turns paths into backoff kind, delays, window and sources, so every framework is judged by
the same arithmetic (CONTRACTS §4: the kind comes from the delay sequence before caps).
"""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from retrylint.model import (
    BACKOFF_ORDER,
    UNBOUNDED,
    UNDECIDED,
    BackoffKind,
    Count,
    Location,
    PathPolicy,
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
    # The retry call, raise or option that starts this path; None leaves it to the row's
    # location (a task with a single path needs no other).
    location: Location | None = None


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
    # Each path resolved on its own, with where it starts, in the order the adapter gave them.
    paths: tuple[tuple[Location | None, Fields], ...] = ()
    # The upper-bound wait before retry r+1 for every r the budget allows, unbounded budgets
    # included: `delays_seconds` lists at most 25 values and none when unbounded, but
    # `retrylint simulate` needs the whole sequence up to the end of an outage.
    delay_fn: DelayFn | None = None

    def path_policies(self, row_location: Location) -> tuple[PathPolicy, ...]:
        """The row's paths as reported, sorted by where they start (then trigger); a path
        with no location of its own starts at the row.

        A single path is the row: its values are taken from the row's fields, so adjustments
        an adapter makes after `combine` (a time limit, a kind read from an uncapped formula)
        show in the path too.
        """
        if not self.paths:
            return ()
        chosen = self.paths
        if len(chosen) == 1:
            location, one = chosen[0]
            trigger = self.retry_trigger if self.retry_trigger != "undecided" else one.retry_trigger
            chosen = ((location, replace(self, retry_trigger=trigger, paths=())),)
        out: list[PathPolicy] = []
        for location, fields in chosen:
            trigger = fields.retry_trigger
            assert trigger in ("automatic", "manual", "automatic+manual"), trigger
            out.append(
                PathPolicy(
                    location=location or row_location,
                    trigger=trigger,
                    max_retries=fields.max_retries,
                    backoff=fields.backoff,
                    jitter=fields.jitter,
                    delays_seconds=fields.delays_seconds,
                    delays_truncated=fields.delays_truncated,
                    window_seconds=fields.window_seconds,
                    sources=fields.sources,
                )
            )
        return tuple(sorted(out, key=lambda p: (p.location, p.trigger)))


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


def _window(path: RetryPath, count: int) -> float:
    """Worst-case sum of one path's waits; a wait that reached the cap stays there."""
    assert path.delay is not None
    total = 0.0
    last = 0.0
    for r in range(min(count, _WINDOW_TERMS)):
        last = _value(path.delay, r, path.cap)
        total += last
        if path.cap is not None and last >= path.cap:
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
    """Resolve each retry path on its own, and summarise them into the row's fields.

    The summary takes each field from the path that is worst for it (README, "What effective
    policy means"): the count from the path that retries most (unbounded above undecided above
    any number), the backoff kind from the weakest path, jitter from a path without it, and
    delays and window together from the path with the longest window. Delays and window always
    come from one path, so the listed waits add up to the window shown beside them.
    """
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
    each = tuple(_resolve(p) for p in paths)
    triggers = sorted({p.trigger for p in paths})
    trigger: Trigger = "automatic+manual" if len(triggers) == 2 else triggers[0]
    if undecided_trigger is not None:
        trigger = "undecided"
    located = tuple((p.location, fields) for p, fields in zip(paths, each, strict=True))
    return _summary(trigger, located)


def with_kinds(fields: Fields, kinds: Sequence[BackoffKind | None]) -> Fields:
    """`fields` with the backoff kind of each path (in `combine`'s order) replaced where the
    adapter knows it better than the first terms do (a whole delay list), and the row's kind
    summarised again from the paths."""
    located = tuple(
        (
            location,
            replace(one, backoff=kind)
            if kind is not None and one.max_retries != 0 and one.backoff != UNDECIDED
            else one,
        )
        for (location, one), kind in zip(fields.paths, kinds, strict=True)
    )
    return _summary(fields.retry_trigger, located)


def within(fields: Fields, limit: float, source: Provenance) -> Fields:
    """`fields` with every path's window ended by a time limit (Dramatiq's `max_age`): a
    window longer than the limit, or unbounded, becomes the limit, cited to `source`; the
    row is summarised again from the paths."""

    def bounded(one: Fields) -> Fields:
        window = one.window_seconds
        if window == UNBOUNDED or (isinstance(window, int | float) and window > limit):
            return replace(
                one, window_seconds=_tidy(limit), sources={**one.sources, "window": source}
            )
        return one

    located = tuple((location, bounded(one)) for location, one in fields.paths)
    return _summary(fields.retry_trigger, located)


def _summary(trigger: Trigger, located: tuple[tuple[Location | None, Fields], ...]) -> Fields:
    """The row's fields from its resolved paths (see `combine`)."""
    each = [fields for _, fields in located]
    if len(each) == 1:
        return replace(each[0], retry_trigger=trigger, paths=located)

    worst = max(each, key=lambda f: rank_count(f.max_retries))
    if worst.max_retries != UNBOUNDED:
        worst = next((f for f in each if f.max_retries == UNDECIDED), worst)
    sources = {"max_retries": worst.sources["max_retries"]}
    retrying = [f for f in each if f.max_retries != 0]
    if not retrying:
        fields = never_retries(worst.sources["max_retries"])
        return Fields(trigger, 0, *_tail(fields), paths=located)

    kinds = [f.backoff for f in retrying]
    backoff: BackoffKind | Literal["undecided"] | None = UNDECIDED
    if UNDECIDED not in kinds:
        backoff = _weakest([kind for kind in kinds if kind is not None and kind != UNDECIDED])
    sources["backoff"] = next(f for f in retrying if f.backoff == backoff).sources["backoff"]

    jitters = [f.jitter for f in retrying]
    jitter: bool | Literal["undecided"] | None = True
    if False in jitters:
        jitter = False
    elif UNDECIDED in jitters:
        jitter = UNDECIDED
    sources["jitter"] = next(f for f in retrying if f.jitter == jitter).sources["jitter"]

    longest = max(retrying, key=lambda f: rank_window(f.window_seconds))
    sources["delays"] = longest.sources["delays"]
    sources["window"] = longest.sources["window"]
    return Fields(
        trigger,
        worst.max_retries,
        backoff,
        jitter,
        longest.delays_seconds,
        longest.delays_truncated,
        longest.window_seconds,
        sources,
        paths=located,
        delay_fn=_upper(retrying),
    )


def rank_window(window: Window) -> float:
    """Orders windows for "the longest": unbounded above undecided above every number, so a
    window that may be longest is never hidden behind a shorter decided one."""
    if window == UNBOUNDED:
        return math.inf
    if window == UNDECIDED:
        return sys.float_info.max
    return float(window)


def _resolve(path: RetryPath) -> Fields:
    """The fields of one path alone (CONTRACTS §4: the kind comes from the delays before
    caps; a window is undecided when its count or its delays are)."""
    count = path.count
    sources = {"max_retries": path.count_source}
    if count == 0:
        return Fields(path.trigger, 0, *_tail(never_retries(path.count_source)))
    sources["backoff"] = sources["delays"] = path.delay_source
    shape = (classify(path.delay), path.delay_source) if path.delay is not None else path.kind
    backoff: BackoffKind | Literal["undecided"] = UNDECIDED
    if shape is not None:
        backoff, sources["backoff"] = shape
    sources["jitter"] = path.jitter_source

    delays: tuple[float, ...] | None = None
    truncated = False
    window: Window
    if count == UNBOUNDED:
        window = UNBOUNDED
        sources["window"] = path.count_source
    elif count == UNDECIDED or path.delay is None:
        window = UNDECIDED
        sources["window"] = path.count_source if count == UNDECIDED else path.delay_source
    else:
        assert isinstance(count, int)
        delay = path.delay
        delays = tuple(
            _tidy(_value(delay, r, path.cap)) for r in range(min(count, MAX_LISTED_DELAYS))
        )
        truncated = count > MAX_LISTED_DELAYS
        window = _tidy(_window(path, count))
        sources["window"] = _stronger(path.count_source, path.delay_source)
    return Fields(
        path.trigger,
        count,
        backoff,
        path.jitter,
        delays,
        truncated,
        window,
        sources,
        delay_fn=_capped(path) if count != UNDECIDED and path.delay is not None else None,
    )


def _capped(path: RetryPath) -> DelayFn:
    """One path's upper-bound wait before retry r+1, for any r (unbounded budgets too)."""
    delay = path.delay
    assert delay is not None
    return lambda r: _tidy(_value(delay, r, path.cap))


def _upper(each: Sequence[Fields]) -> DelayFn | None:
    """The longest wait any path still retrying at index r could choose (the row's delays are
    upper bounds); None when some path's delays or count are undecided."""
    fns = [(f.max_retries, f.delay_fn) for f in each]
    if any(fn is None for _, fn in fns):
        return None

    def delay(r: int) -> float:
        return max(
            (fn(r) for count, fn in fns if fn is not None and rank_count(count) > r),
            default=0.0,
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
