"""From inventory rows and rates to the outage outcome of each task, category and the whole run.

Two bounds per task, because a jittered wait is a range: *longest waits* uses the upper-bound
delays the inventory shows (`delays_seconds`: the fewest attempts, and exactly what happens
without jitter); *shortest waits* uses the lowest delay each framework's jitter can draw (the
most attempts: the worst retry storm):

| jitter | shortest wait before retry r+1 (r from 0), given the upper bound u(r) |
|---|---|
| none | u(r): the delays are exact |
| full jitter: Celery `retry_jitter` (`random.randrange(countdown + 1)`), SAQ, backoff's \
  `full_jitter`, tenacity `wait_random_exponential` | 0 |
| Dramatiq (2.x `f·2ⁿ·U(1, 2)`, capped to `max_backoff·U(0.5, 1)`; 1.x `[b/2, b]`) | u(r)/2 |
| asynq `DefaultRetryDelayFunc` (`n⁴ + 15 + rand.IntN(30)·(n+1)`) | n⁴ + 15 |
| any other jitter, and undecided jitter | 0 (the row does not say how much is random) |

A task several sites give a policy (a definition and enqueue calls that override it) is
simulated once per site at the task's full rate, and the site with the most attempts stands for
the task: the inventory cannot say how the rate splits between sites.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from fractions import Fraction
from typing import Literal

from retrylint.engine import Report
from retrylint.golang.evaluate import default_retry_delay
from retrylint.model import UNBOUNDED, UNDECIDED, Assignment, EffectivePolicy, UsageError
from retrylint.simulate.outage import (
    Offsets,
    Outcome,
    Waits,
    add,
    bin_width,
    offsets,
    simulate,
)

RateSource = Literal["cli", "inventory", "default"]

_RATE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*/\s*(s|m|h|d)\s*")
_PER = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PROBE = 6


def parse_rate(text: str, what: str) -> Fraction:
    """`5/s`, `300/m`, `0.5/s`, `2/h`, `10/d` as messages per second (the spelling of
    `rate` on `[tasks]` entries)."""
    match = _RATE.fullmatch(text)
    if match is None or Fraction(match.group(1)) == 0:
        raise UsageError(
            f"{what} {text!r} is not a rate; write a positive number of messages per unit, "
            "as the policy file's rate does: '5/s', '300/m', '0.5/s' or '2/h'"
        )
    return Fraction(match.group(1)) / _PER[match.group(2)]


@dataclass(frozen=True, slots=True)
class RateOptions:
    """`--rate GLOB=RATE` (in the order given) and the plain `--rate RATE` default."""

    patterns: tuple[tuple[str, Fraction], ...] = ()
    default: Fraction | None = None

    @classmethod
    def parse(cls, values: Sequence[str]) -> RateOptions:
        patterns: list[tuple[str, Fraction]] = []
        default: Fraction | None = None
        for value in values:
            glob, sep, rate = value.rpartition("=")
            if sep:
                if not glob.strip():
                    raise UsageError(
                        f"--rate {value!r}: the task glob before '=' is empty; write "
                        "'billing.*=5/s', or just '5/s' for every task"
                    )
                patterns.append((glob.strip(), parse_rate(rate, f"--rate {value!r}:")))
            elif default is not None:
                raise UsageError(
                    f"--rate {value!r}: a second default rate; give one plain '--rate RATE' "
                    "and 'GLOB=RATE' for the others"
                )
            else:
                default = parse_rate(value, "--rate")
        return cls(tuple(patterns), default)

    def match(self, name: str) -> Fraction | None:
        """The most specific glob, as `[tasks]` chooses: an exact name, then the glob with the
        most non-wildcard characters, then the earlier one."""
        ranked = sorted(
            (glob != name, -_literal_length(glob), index, rate)
            for index, (glob, rate) in enumerate(self.patterns)
            if fnmatchcase(name, glob)
        )
        return ranked[0][3] if ranked else None


def _literal_length(glob: str) -> int:
    return len(re.sub(r"\[[^\]]*\]|[*?]", "", glob))


Status = Literal["simulated", "undecided", "no-rate"]


@dataclass(frozen=True, slots=True)
class TaskResult:
    """One task (its worst site) under the outage, or why it is left out of the sums."""

    name: str
    framework: str
    category: str | None
    path: str
    line: int
    site: str
    sites: int
    retries: int | Literal["unbounded", "undecided"] | None
    jitter: bool | Literal["undecided"] | None
    final_failure: str
    rate: Fraction | None
    rate_source: RateSource | None
    status: Status
    reason: str | None
    longest: Outcome | None = None
    shortest: Outcome | None = None


@dataclass(frozen=True, slots=True)
class Total:
    """A category, or the whole inventory: the simulated tasks summed."""

    name: str
    tasks: int
    longest: Outcome
    shortest: Outcome


@dataclass(frozen=True, slots=True)
class Simulation:
    outage: Fraction
    width: Fraction
    tasks: tuple[TaskResult, ...]
    categories: tuple[Total, ...]
    total: Total
    rates: RateOptions = RateOptions()
    """The `--rate` options it ran with (reports show them with the outage)."""


@dataclass(frozen=True, slots=True)
class _Site:
    row: EffectivePolicy
    retries: int | None
    upper: Waits | None
    lower: Waits | None


def run(
    report: Report,
    outage: Fraction,
    rates: RateOptions,
    inventory_rates: Sequence[Fraction | None] | None = None,
) -> Simulation:
    """`inventory_rates[i]` is the `rate` of the `[tasks]` entry of `report.rows[i]`, if any."""
    pending: list[tuple[TaskResult, list[_Site]]] = []
    results: list[TaskResult] = []
    for rows, rate, source in _tasks(report, rates, inventory_rates):
        row, assignment = rows[0]
        result = TaskResult(
            name=_label(row),
            framework=row.framework,
            category=assignment.category.name if assignment is not None else None,
            path=row.location.path,
            line=row.location.line,
            site=row.site,
            sites=len(rows),
            retries=row.max_retries,
            jitter=row.jitter,
            final_failure=row.final_failure,
            rate=rate,
            rate_source=source,
            status="simulated",
            reason=None,
        )
        undecided = next((why for row, _ in rows if (why := _undecided(row)) is not None), None)
        if undecided is not None:
            results.append(replace(result, status="undecided", reason=undecided))
        elif rate is None:
            results.append(replace(result, status="no-rate", reason=_NO_RATE))
        else:
            pending.append((result, [_site(row) for row, _ in rows]))
    plans = [
        [
            (
                site,
                offsets(site.upper, site.retries, outage),
                offsets(site.lower, site.retries, outage),
            )
            for site in sites
        ]
        for _, sites in pending
    ]
    width = bin_width([len(o.times) for plan in plans for _, *both in plan for o in both], outage)
    # An outcome depends on the offsets and the rate alone, and most tasks of a project share
    # both (gardener: 111 asynq tasks on the default policy took 55 s to simulate, not 3).
    outcomes: dict[tuple[Offsets, Fraction], Outcome] = {}

    def outcome(offs: Offsets, rate: Fraction) -> Outcome:
        key = (offs, rate)
        if key not in outcomes:
            outcomes[key] = simulate(None, None, rate, outage, width, offs=offs)
        return outcomes[key]

    for (result, _), plan in zip(pending, plans, strict=True):
        rate = result.rate
        assert rate is not None
        simulated = [(site.row, outcome(up, rate), outcome(low, rate)) for site, up, low in plan]
        row, longest, shortest = max(simulated, key=lambda s: _severity(s[2]))
        results.append(
            replace(
                result,
                path=row.location.path,
                line=row.location.line,
                site=row.site,
                retries=row.max_retries,
                jitter=row.jitter,
                final_failure=row.final_failure,
                longest=longest,
                shortest=shortest,
            )
        )
    results.sort(key=lambda r: (r.name, r.framework, r.path, r.line))
    done = [r for r in results if r.status == "simulated"]
    categories = sorted({r.category or "" for r in done})
    return Simulation(
        outage,
        width,
        tuple(results),
        tuple(_total(name, [r for r in done if (r.category or "") == name]) for name in categories),
        _total("all tasks", done),
        rates,
    )


_NO_RATE = "no rate: pass --rate, or set rate on its [tasks] entry"


def _severity(outcome: Outcome) -> tuple[int, int]:
    """Orders sites by attempts; an infinite one above every count."""
    return (1, 0) if outcome.attempts is None else (0, outcome.attempts)


def _total(name: str, results: Sequence[TaskResult]) -> Total:
    return Total(
        name,
        len(results),
        add([r.longest for r in results if r.longest is not None]),
        add([r.shortest for r in results if r.shortest is not None]),
    )


def _label(row: EffectivePolicy) -> str:
    return row.name if row.name is not None else f"<{row.name_expression or 'unnamed'}>"


def _tasks(
    report: Report, rates: RateOptions, inventory_rates: Sequence[Fraction | None] | None
) -> Iterable[
    tuple[list[tuple[EffectivePolicy, Assignment | None]], Fraction | None, RateSource | None]
]:
    """Rows that set a policy, grouped per task, with the task's rate and where it came from:
    a matching `--rate GLOB=…` wins over the inventory's `rate`, which wins over `--rate RATE`."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for index, row in enumerate(report.rows):
        if row.retry_trigger is None:
            continue  # sets no policy (an asynq handler, a Temporal activity definition)
        key: tuple[object, ...] = (row.name, row.framework)
        if row.name is None:
            key += (row.location.path, row.location.line, row.location.column)
        groups.setdefault(key, []).append(index)
    for indexes in groups.values():
        rows = [(report.rows[i], report.assignments[i]) for i in indexes]
        name = rows[0][0].name
        rate = rates.match(name) if name is not None else None
        source: RateSource | None = "cli" if rate is not None else None
        if rate is None and inventory_rates is not None:
            rate = next((r for i in indexes if (r := inventory_rates[i]) is not None), None)
            source = "inventory" if rate is not None else None
        if rate is None and rates.default is not None:
            rate, source = rates.default, "default"
        yield rows, rate, source


def _site(row: EffectivePolicy) -> _Site:
    retries = row.max_retries if isinstance(row.max_retries, int) else None
    upper = _upper(row)
    return _Site(row, retries, upper, _lower(row, upper))


def _undecided(row: EffectivePolicy) -> str | None:
    """Why a row cannot be simulated, if it cannot."""
    if row.retry_trigger == UNDECIDED:
        return "whether it retries is undecided"
    if row.max_retries == UNDECIDED:
        return "its retry count is undecided"
    if row.max_retries in (0, None) or row.retry_trigger == "none":
        return None
    if row.delay_fn is None and row.delays_seconds is None:
        return "its delays are undecided"
    if row.delay_fn is None and row.max_retries == UNBOUNDED:
        return "its delays are not known past the listed ones"
    return None


def _upper(row: EffectivePolicy) -> Waits | None:
    if row.retry_trigger == "none" or row.max_retries == 0:
        return None
    fn = row.delay_fn
    if fn is not None:
        return lambda r: _exact(fn(r))
    listed = row.delays_seconds or ()
    if not listed:
        return None
    # Rows built without the delay function (none in the adapters; tests build some) repeat
    # the last listed delay, as a capped schedule does.
    return lambda r: _exact(listed[min(r, len(listed) - 1)])


def _lower(row: EffectivePolicy, upper: Waits | None) -> Waits | None:
    if upper is None or row.jitter is False:
        return upper
    if row.jitter is True and row.framework == "dramatiq":
        return lambda r: upper(r) / 2
    if (
        row.jitter is True
        and row.framework == "asynq"
        and all(upper(r) == default_retry_delay(r) for r in range(_PROBE))
    ):
        return lambda r: Fraction(r**4 + 15)
    return _zero


def _zero(_r: int) -> Fraction:
    return Fraction(0)


def _exact(value: float) -> Fraction:
    """A delay as written in the row (ints, or floats rounded to the millisecond)."""
    return Fraction(str(value))
