"""What one task's retries do to a dependency that is down for `T` seconds.

The model (README "Outage simulation" gives the same formulas):

- messages are enqueued at a constant rate λ from time 0: message i at `t_i = i/λ`, for every i
  with `t_i < T`, so `N = ⌈T·λ⌉` messages;
- each attempt takes no time and fails while the dependency is down (`t < T`); from `T` on it
  succeeds. Workers are never the bottleneck;
- message i runs at `t_i` and retries at `t_i + D_j`, where `D_j = d_1 + … + d_j` and `d_j` is the
  wait before retry j, for j = 1 … R (R = the retry budget, or no limit).

Then, with `n(x) = min(N, max(0, ⌈x·λ⌉))` the messages enqueued before `x`:

- attempts during the outage `A = Σ_{j=0..R, D_j<T} n(T - D_j)` (D_0 = 0);
- exhausted before the outage ends `E = n(T - D_R)` (0 when R is unbounded): every attempt of
  these messages failed, so they went where the row's `final_failure` says;
- backlog released at `T`: `B = N - E` messages are waiting for a retry and succeed on it;
- the backlog has drained when the last of those retries runs: for each j, the messages whose
  first retry at or after `T` is retry j are those with `T - D_j ≤ t_i < T - D_{j-1}`, and the
  earliest of them retries last.

Everything is a `Fraction`: times in seconds, the rate in messages per second. Counts are sums of
ceilings, so the cost is one term per retry that starts before `T` (plus one per histogram bin),
never one per message.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction

# Past this many retries of one message inside the outage the waits are too short to matter one
# by one: the task is reported as a tight loop (`infinite`), like a zero wait, rather than
# summed for minutes.
MAX_RETRIES_IN_OUTAGE = 100_000
# Histogram work (bins times retries) above which the bin widens; see `bin_width`.
_HISTOGRAM_BUDGET = 4_000_000
_NICE_WIDTHS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400)

Waits = Callable[[int], Fraction]
"""The wait before retry r+1 (r from 0)."""


@dataclass(frozen=True, slots=True)
class Offsets:
    """When a message's attempts run, relative to its enqueue time, as far as the outage matters.

    `times` holds `D_0 = 0, D_1, …` up to the last one before `T`; `after` is the first offset
    at or after `T` (None when the budget ends before it). `infinite` names why the attempts
    cannot be counted (a zero wait under an unbounded budget).
    """

    times: tuple[Fraction, ...]
    after: Fraction | None
    exhausted_within: bool
    infinite: str | None = None


def offsets(waits: Waits | None, retries: int | None, outage: Fraction) -> Offsets:
    """Attempt offsets of one message; `retries=None` is an unbounded budget."""
    times = [Fraction(0)]
    total = Fraction(0)
    r = 0
    while retries is None or r < retries:
        if waits is None:
            break
        wait = waits(r)
        if wait == 0 and retries is None and _always_zero(waits, r):
            return Offsets(tuple(times), None, False, "zero waits between retries that never stop")
        total += wait
        if total >= outage:
            return Offsets(tuple(times), total, False)
        times.append(total)
        r += 1
        if r > MAX_RETRIES_IN_OUTAGE:
            return Offsets(
                tuple(times),
                None,
                False,
                f"more than {MAX_RETRIES_IN_OUTAGE:,} retries of one message in the outage",
            )
    return Offsets(tuple(times), None, True)


def _always_zero(waits: Waits, r: int) -> bool:
    """A wait of 0 from retry r on; probed on a few indices (the sequences are monotone or
    constant in every framework, so a zero that reaches far is the zero of `wait_none` or of
    full jitter's lower end)."""
    return all(waits(k) == 0 for k in (r, r + 1, r + 10, r + 1000))


@dataclass(frozen=True, slots=True)
class Outcome:
    """One bound (longest or shortest waits) of one task, or a sum of several."""

    messages: int
    attempts: int | None  # None: infinite
    exhausted: int
    backlog: int
    drained_after: Fraction | None  # seconds after T when the last waiting retry runs
    histogram: tuple[int, ...]  # attempts per bin over [0, T); empty when infinite
    infinite: str | None = None

    @property
    def amplification(self) -> Fraction | None:
        if self.attempts is None or self.messages == 0:
            return None
        return Fraction(self.attempts, self.messages)

    def peak(self) -> tuple[int, int] | None:
        """(attempts in the busiest bin, its index); the earliest bin on a tie."""
        if not self.histogram:
            return None
        top = max(self.histogram)
        return top, self.histogram.index(top)


def count_before(x: Fraction, rate: Fraction, messages: int) -> int:
    """n(x): the messages enqueued before time x."""
    if x <= 0:
        return 0
    return min(messages, math.ceil(x * rate))


def simulate(
    waits: Waits | None,
    retries: int | None,
    rate: Fraction,
    outage: Fraction,
    width: Fraction,
    *,
    offs: Offsets | None = None,
) -> Outcome:
    """The outcome of one task under one bound of its waits (see the module docstring)."""
    messages = math.ceil(outage * rate) if outage > 0 else 0
    offs = offs if offs is not None else offsets(waits, retries, outage)
    if offs.infinite is not None:
        return Outcome(messages, None, 0, messages, None, (), offs.infinite)
    attempts = sum(count_before(outage - d, rate, messages) for d in offs.times)
    exhausted = (
        count_before(outage - offs.times[-1], rate, messages) if offs.exhausted_within else 0
    )
    drained = _drained(offs, rate, outage, messages)
    histogram = _histogram(offs.times, rate, outage, messages, width)
    return Outcome(messages, attempts, exhausted, messages - exhausted, drained, histogram)


def _drained(offs: Offsets, rate: Fraction, outage: Fraction, messages: int) -> Fraction | None:
    """When, after T, the last message still waiting at T makes its next attempt."""
    # A message waiting at T failed last at offset D_k (t_i + D_k < T) and retries next at
    # D_(k+1) >= T - t_i; per k the latest such message retries last. When the budget ends
    # before T, the messages past their last offset are exhausted, not waiting.
    nexts = (*offs.times[1:], *(() if offs.after is None else (offs.after,)))
    latest: Fraction | None = None
    for before, nxt in zip(offs.times, nexts, strict=False):
        # Messages with T - D_(k+1) <= t_i < T - D_k: indexes first .. end-1.
        first = count_before(outage - nxt, rate, messages)
        end = count_before(outage - before, rate, messages)
        if first >= end:
            continue
        when = Fraction(end - 1) / rate + nxt - outage
        latest = when if latest is None or when > latest else latest
    return latest


def bins(outage: Fraction, width: Fraction) -> int:
    return math.ceil(outage / width)


def bin_width(work: Sequence[int], outage: Fraction) -> Fraction:
    """The histogram bin: 1 s, widened to the next of 2, 5, 10, 15, 30 s, 1 m … only when the
    bins times the retries to place (summed over tasks) would exceed a few million steps."""
    retries = max(1, sum(work))
    for width in _NICE_WIDTHS:
        if bins(outage, Fraction(width)) * retries <= _HISTOGRAM_BUDGET:
            return Fraction(width)
    return Fraction(_NICE_WIDTHS[-1])


def _histogram(
    times: Sequence[Fraction], rate: Fraction, outage: Fraction, messages: int, width: Fraction
) -> tuple[int, ...]:
    """Attempts per bin `[k·w, (k+1)·w)` before T: per offset D, the messages whose attempt
    `t_i + D` falls in the bin, counted as differences of n(·)."""
    size = bins(outage, width)
    counts = [0] * size
    for d in times:
        limit = count_before(outage - d, rate, messages)
        if limit == 0:
            continue
        first = int(d // width)
        previous = 0
        for k in range(first, size):
            edge = min((k + 1) * width, outage)
            upto = min(limit, count_before(edge - d, rate, messages))
            counts[k] += upto - previous
            previous = upto
            if upto == limit:
                break
    return tuple(counts)


def add(outcomes: Sequence[Outcome]) -> Outcome:
    """Several tasks at once: counts and histograms add up; one infinite task makes the sum so."""
    messages = sum(o.messages for o in outcomes)
    infinite = next((o.infinite for o in outcomes if o.infinite is not None), None)
    drains = [o.drained_after for o in outcomes if o.drained_after is not None]
    histogram: tuple[int, ...] = ()
    attempts: int | None = None
    if infinite is None:
        attempts = sum(o.attempts or 0 for o in outcomes)
        histogram = tuple(sum(column) for column in _columns(outcomes))
    return Outcome(
        messages,
        attempts,
        sum(o.exhausted for o in outcomes),
        sum(o.backlog for o in outcomes),
        max(drains) if drains else None,
        histogram,
        infinite,
    )


def _columns(outcomes: Sequence[Outcome]) -> Iterator[tuple[int, ...]]:
    """Bins side by side; every finite outcome of one run has the same bins."""
    return zip(*(o.histogram for o in outcomes), strict=True)
