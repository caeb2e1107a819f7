"""Retry timelines: when each retry of a task can happen, on a logarithmic time axis.

A table says "5 retries, exponential, 31s"; a timeline shows that four of them come within ten
seconds and whether the last one lands inside the category's window. The HTML report draws the
same `Schedule` as SVG and `inventory --timeline` as one line of text per task, so both read
the row the same way:

* time 0 is the first failure; a retry sits at the sum of the delays before it. The delays are
  the row's *upper bounds* (CONTRACTS §4), so the marks are the latest a retry can come. A
  jittered wait can be shorter (down to 0 for full jitter), which the band shows: each retry
  can come anywhere after the one before it, up to its mark.
* the axis is logarithmic because windows range from a second to weeks in one project; the
  stretch below one second is linear, so a retry with no delay still has a place (0).
* retries that never stop, and values retrylint could not decide, have no marks to place: they
  are drawn as what they are, never as a guess.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

from retrylint.durations import format_duration
from retrylint.engine import Report
from retrylint.model import UNBOUNDED, UNDECIDED, Assignment, Category, EffectivePolicy

Kind: TypeAlias = Literal["retries", "never", "unbounded", "undecided", "at-enqueue"]

# Where a log axis may end: round values a reader knows without arithmetic.
_NICE: tuple[tuple[float, str], ...] = (
    (1, "1s"),
    (10, "10s"),
    (60, "1m"),
    (600, "10m"),
    (3600, "1h"),
    (6 * 3600, "6h"),
    (86400, "1d"),
    (7 * 86400, "1w"),
    (30 * 86400, "30d"),
    (365 * 86400, "1y"),
    (10 * 365 * 86400, "10y"),
)
# An axis ends no earlier than a minute: a task retrying within a second then reads as quick
# next to the others instead of filling the whole width.
_SHORTEST_AXIS = 60.0
# The linear stretch for 0..1 s, as a share of the axis.
ZERO_ZONE = 0.06


@dataclass(frozen=True, slots=True)
class Schedule:
    """What a timeline draws for one row."""

    kind: Kind
    attempts: tuple[float, ...]
    """Seconds after the first failure at which each listed retry starts, at the latest."""
    hidden: int
    """Retries past the listed delays (at most 25 are listed); the last one ends at `end`."""
    end: float | None
    """The worst-case window when decided: when the last retry starts."""
    jitter: bool
    summary: str
    """The schedule in words, for people and for screen readers."""


def schedule_of(row: EffectivePolicy) -> Schedule:
    if row.retry_trigger is None:
        return Schedule("at-enqueue", (), 0, None, False, "retries are set where it is enqueued")
    if not row.retries:
        words = "never retries" if row.retry_trigger == "none" else "0 retries"
        return Schedule("never", (), 0, 0.0, False, words)
    jitter = row.jitter is True
    count, window = row.max_retries, row.window_seconds
    if UNBOUNDED in (count, window):
        words = f"{_retries(count)}, unbounded window" if isinstance(count, int) else "unbounded"
        return Schedule("unbounded", (), 0, None, jitter, words)
    if not isinstance(window, float | int) or not isinstance(count, int):
        # The timeline needs the count and the delays; the window follows from them.
        unknown: list[str] = [
            key
            for key in ("max_retries", "delays")
            if key in row.sources and row.sources[key].source == UNDECIDED
        ] or ["window"]
        known = f"{_retries(count)}, " if isinstance(count, int) else ""
        return Schedule("undecided", (), 0, None, jitter, f"{known}undecided {', '.join(unknown)}")
    delays = row.delays_seconds or ()
    attempts: list[float] = []
    total = 0.0
    for delay in delays:
        total += delay
        attempts.append(total)
    hidden = max(0, count - len(attempts))
    return Schedule(
        "retries",
        tuple(attempts),
        hidden,
        float(window),
        jitter,
        f"{_retries(count)} in {format_duration(window)}",
    )


def _retries(count: int) -> str:
    return "1 retry" if count == 1 else f"{count} retries"


@dataclass(frozen=True, slots=True)
class TimeAxis:
    """Maps seconds after the first failure to a share of the axis width, 0..1."""

    end: float
    end_label: str

    @classmethod
    def spanning(cls, seconds: Iterable[float]) -> TimeAxis:
        """The shortest round axis that holds every one of `seconds`."""
        longest = max((s for s in seconds if math.isfinite(s)), default=0.0)
        longest = max(longest, _SHORTEST_AXIS)
        for value, label in _NICE:
            if value >= longest:
                return cls(value, label)
        return cls(longest, format_duration(longest))

    def position(self, seconds: float) -> float:
        if seconds <= 1:
            return ZERO_ZONE * max(seconds, 0.0)
        share = math.log(min(seconds, self.end)) / math.log(self.end)
        return ZERO_ZONE + (1 - ZERO_ZONE) * share

    def ticks(self) -> list[tuple[float, str]]:
        """Round times on the axis, with 0 first and the axis end last."""
        inside = [(value, label) for value, label in _NICE if value < self.end]
        return [(0.0, "0"), *inside, (self.end, self.end_label)]


def limits(category: Category | None) -> list[tuple[str, float]]:
    """The category's window bounds to draw as lines, named as the policy file names them."""
    if category is None:
        return []
    bounds = [("min-window", category.min_window), ("max-window", category.max_window)]
    return [(label, seconds) for label, seconds in bounds if seconds is not None]


def axis_for(report: Report) -> TimeAxis:
    """One axis for the whole report, so that timelines compare at a glance."""
    seconds: list[float] = []
    for row, assignment in zip(report.rows, report.assignments, strict=True):
        schedule = schedule_of(row)
        seconds.extend(schedule.attempts)
        if schedule.end is not None:
            seconds.append(schedule.end)
        seconds.extend(value for _, value in limits(_category(assignment)))
    return TimeAxis.spanning(seconds)


def _category(assignment: Assignment | None) -> Category | None:
    return None if assignment is None else assignment.category


def by_category(
    report: Report,
) -> list[tuple[Category | None, list[tuple[EffectivePolicy, Assignment | None]]]]:
    """Rows grouped by category name, categories sorted, uncategorized rows last."""
    groups: dict[str, tuple[Category | None, list[tuple[EffectivePolicy, Assignment | None]]]] = {}
    for row, assignment in zip(report.rows, report.assignments, strict=True):
        category = _category(assignment)
        key = "\x01" if category is None else "\x00" + category.name
        groups.setdefault(key, (category, []))[1].append((row, assignment))
    return [groups[key] for key in sorted(groups)]


# One glyph set per output encoding: UTF-8 terminals get blocks, anything else plain ASCII.
@dataclass(frozen=True, slots=True)
class Glyphs:
    attempt: str
    band: str
    plain: str
    limit: str
    unbounded: str
    arrow: str
    undecided: str
    ellipsis: str


UNICODE = Glyphs("█", "░", "─", "┃", "━", "→", "?", "…")
ASCII = Glyphs("#", ":", "-", "|", "=", ">", "?", "~")

_GAP = "  "
_MIN_BAR = 12


def glyphs_for(encoding: str | None) -> Glyphs:
    """Blocks for UTF-8 output; ASCII for anything else (a Windows code page, `C` locale)."""
    normalized = (encoding or "").lower().replace("-", "").replace("_", "")
    return UNICODE if normalized in ("utf8", "utf8sig") else ASCII


def render_timeline(report: Report, width: int, glyphs: Glyphs = UNICODE) -> str:
    """`inventory --timeline`: per category, one line per row, fitted into `width` columns."""
    if not report.rows:
        return "No tasks found.\n"
    axis = axis_for(report)
    names = [_name(row) for row in report.rows]
    summaries = [schedule_of(row).summary for row in report.rows]
    name_width = min(max(len(n) for n in names), max(12, width * 3 // 10))
    summary_width = min(max(len(s) for s in summaries), max(10, width // 4))
    bar_width = max(_MIN_BAR, width - name_width - summary_width - 2 * len(_GAP))
    lines = [_header(axis, name_width, bar_width)]
    for category, members in by_category(report):
        lines.append("")
        lines.append(_fit(_category_heading(category), width, glyphs))
        for row, assignment in members:
            bar = _bar(schedule_of(row), limits(_category(assignment)), axis, bar_width, glyphs)
            name = _fit_name(_name(row), name_width, glyphs).ljust(name_width)
            summary = _fit(schedule_of(row).summary, summary_width, glyphs)
            lines.append((name + _GAP + bar + _GAP + summary).rstrip())
    lines.append("")
    lines.append(
        _fit(
            f"{glyphs.attempt} retry (latest start)  {glyphs.band} jitter  "
            f"{glyphs.limit} min/max-window  {glyphs.unbounded}{glyphs.arrow} never stops  "
            f"{glyphs.undecided} undecided",
            width,
            glyphs,
        )
    )
    return "\n".join(lines) + "\n"


def _name(row: EffectivePolicy) -> str:
    return row.name if row.name is not None else f"undecided {row.name_expression or '?'}"


def _category_heading(category: Category | None) -> str:
    if category is None:
        return "(no category)"
    bounds = [f"{label} {format_duration(value)}" for label, value in limits(category)]
    return category.name + (f" ({', '.join(bounds)})" if bounds else "")


def _fit(text: str, width: int, glyphs: Glyphs) -> str:
    flat = re.sub(r"\s", " ", text)
    if len(flat) <= width:
        return flat
    return flat[: max(0, width - 1)] + glyphs.ellipsis


def _fit_name(text: str, width: int, glyphs: Glyphs) -> str:
    """A task name cut at its start: `app.billing.tasks.sync_…` made every task of a module
    read the same, while the end (the function) is what tells them apart."""
    flat = re.sub(r"\s", " ", text)
    if len(flat) <= width:
        return flat
    return glyphs.ellipsis + flat[len(flat) - max(0, width - 1) :]


def _header(axis: TimeAxis, name_width: int, bar_width: int) -> str:
    """Tick labels over the bar, each starting at its cell, dropped where they would touch."""
    cells = [" "] * bar_width
    free_from = 0
    for seconds, label in axis.ticks():
        start = _cell(axis, seconds, bar_width)
        start = min(start, bar_width - len(label))
        if start < free_from:
            continue
        cells[start : start + len(label)] = label
        free_from = start + len(label) + 1
    return ("task".ljust(name_width) + _GAP + "".join(cells)).rstrip()


def _cell(axis: TimeAxis, seconds: float, bar_width: int) -> int:
    return round(axis.position(seconds) * (bar_width - 1))


def _bar(
    schedule: Schedule,
    bounds: Sequence[tuple[str, float]],
    axis: TimeAxis,
    bar_width: int,
    glyphs: Glyphs,
) -> str:
    cells = [" "] * bar_width
    if schedule.kind == "at-enqueue":
        return "".join(cells)
    if schedule.kind == "unbounded":
        cells = [glyphs.unbounded] * bar_width
        cells[-1] = glyphs.arrow
    elif schedule.kind == "undecided":
        cells = [glyphs.undecided if i % 2 else " " for i in range(bar_width)]
    elif schedule.kind == "retries":
        times = [*schedule.attempts]
        if schedule.hidden and schedule.end is not None:
            times.append(schedule.end)
        last = _cell(axis, max(times, default=0.0), bar_width)
        fill = glyphs.band if schedule.jitter else glyphs.plain
        cells[: last + 1] = fill * (last + 1)
        for seconds in times:
            cells[_cell(axis, seconds, bar_width)] = glyphs.attempt
    for _, seconds in bounds:
        at = _cell(axis, seconds, bar_width)
        if cells[at] != glyphs.attempt:
            cells[at] = glyphs.limit
    cells[0] = glyphs.attempt
    return "".join(cells)
