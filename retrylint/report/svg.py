"""SVG for the HTML report: each task's retry timeline and the summary chart, as inline markup.

Inline SVG needs no script and no network, prints, and scales with the page. Every text that
can come from scanned code or the policy file goes through `esc`; numbers are written with a
fixed number of decimals, so the same report always gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from retrylint.durations import format_duration
from retrylint.report.timeline import Schedule, TimeAxis

VERDICTS: tuple[str, ...] = ("error", "warning", "note", "ok")
"""A task's verdict is its most severe finding; `ok` when it has none."""

# Geometry of one timeline, in viewBox units.
_WIDTH = 760
_LEFT = 24
_RIGHT = 736
_HEIGHT = 66
_TRACK = 34
_LABEL = 13
_TICK_LABEL = 60


def esc(text: object) -> str:
    return escape(str(text), quote=True)


def _n(value: float) -> str:
    """A coordinate with one decimal, `-0.0` and `12.0` written as `0` and `12`."""
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


def _x(axis: TimeAxis, seconds: float) -> float:
    return _LEFT + axis.position(seconds) * (_RIGHT - _LEFT)


def timeline_svg(schedule: Schedule, bounds: Sequence[tuple[str, float]], axis: TimeAxis) -> str:
    """One task's timeline: axis and ticks, the retries, jitter bands and the category's
    window bounds, with `<title>`s that say the same in words."""
    parts = [
        f'<svg class="timeline {esc(schedule.kind)}" viewBox="0 0 {_WIDTH} {_HEIGHT}" '
        f'role="img" aria-label="{esc(schedule.summary)}">',
        f"<title>{esc(schedule.summary)}</title>",
    ]
    parts.extend(_axis(axis))
    parts.extend(_schedule(schedule, axis, bounds))
    for label, seconds in bounds:
        x = _n(_x(axis, seconds))
        parts.append(
            f'<g class="limit" data-limit="{esc(label)}">'
            f"<title>{esc(label)} {esc(format_duration(seconds))} (category)</title>"
            f'<line x1="{x}" y1="18" x2="{x}" y2="48"/>'
            f'<text x="{x}" y="{_LABEL}" text-anchor="middle">'
            f"{esc(label)} {esc(format_duration(seconds))}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _axis(axis: TimeAxis) -> list[str]:
    parts = [
        f'<line class="axis" x1="{_LEFT}" y1="{_TRACK}" x2="{_RIGHT}" y2="{_TRACK}"/>',
    ]
    for seconds, label in axis.ticks():
        x = _n(_x(axis, seconds))
        parts.append(
            f'<line class="tick" x1="{x}" y1="{_TRACK - 12}" x2="{x}" y2="{_TRACK + 12}"/>'
            f'<text class="tick" x="{x}" y="{_TICK_LABEL}" text-anchor="middle">'
            f"{esc(label)}</text>"
        )
    return parts


def _schedule(schedule: Schedule, axis: TimeAxis, bounds: Sequence[tuple[str, float]]) -> list[str]:
    start = _n(_x(axis, 0))
    first_run = (
        f'<circle class="first" cx="{start}" cy="{_TRACK}" r="5">'
        "<title>first run fails (time 0)</title></circle>"
    )
    if schedule.kind == "at-enqueue":
        return [_status(schedule.summary, "at-enqueue")]
    if schedule.kind == "never":
        return [first_run, _status(schedule.summary, "never")]
    if schedule.kind == "unbounded":
        end = _RIGHT
        return [
            f'<line class="unbounded" x1="{start}" y1="{_TRACK}" x2="{end - 10}" y2="{_TRACK}"/>',
            f'<polygon class="unbounded" points="{end - 12},{_TRACK - 7} {end},{_TRACK} '
            f'{end - 12},{_TRACK + 7}"/>',
            first_run,
            _status(f"{schedule.summary}: retries never stop", "unbounded"),
        ]
    if schedule.kind == "undecided":
        return [
            f'<line class="undecided" x1="{start}" y1="{_TRACK}" x2="{_RIGHT}" y2="{_TRACK}"/>',
            first_run,
            _status(schedule.summary, "undecided"),
        ]
    limit = next((seconds for label, seconds in bounds if label == "max-window"), None)
    times = list(schedule.attempts)
    if schedule.hidden and schedule.end is not None:
        times.append(schedule.end)
    parts: list[str] = []
    previous = 0.0
    for number, seconds in enumerate(times, start=1):
        if schedule.jitter:
            left, right = _x(axis, previous), _x(axis, seconds)
            parts.append(
                f'<rect class="band" x="{_n(left)}" y="{_TRACK - 7}" '
                f'width="{_n(max(right - left, 1.0))}" height="14">'
                f"<title>retry {number}: jittered, between {esc(_when(previous))} and "
                f"{esc(_when(seconds))}</title></rect>"
            )
        previous = seconds
    last = _n(_x(axis, times[-1])) if times else start
    parts.append(f'<line class="span" x1="{start}" y1="{_TRACK}" x2="{last}" y2="{_TRACK}"/>')
    parts.append(first_run)
    listed = len(schedule.attempts)
    for number, seconds in enumerate(times, start=1):
        over = " over" if limit is not None and seconds > limit else ""
        if number > listed:
            title = f"retry {listed + schedule.hidden}: the last, at most {_when(seconds)}"
        else:
            title = f"retry {number}: at most {_when(seconds)}"
        parts.append(
            f'<circle class="retry{over}" cx="{_n(_x(axis, seconds))}" cy="{_TRACK}" r="4">'
            f"<title>{esc(title)}</title></circle>"
        )
    if schedule.hidden:
        # Rows list at most 25 delays; the retries past them are known only by the window.
        parts.append(
            f'<text class="more" x="{last}" y="{_LABEL}" text-anchor="end">'
            f"{schedule.hidden} more, the last by here</text>"
        )
    return parts


def _when(seconds: float) -> str:
    return "the first failure" if seconds == 0 else f"{format_duration(seconds)} after it"


def _status(text: str, kind: str) -> str:
    return f'<text class="status {esc(kind)}" x="{_LEFT + 14}" y="{_LABEL}">{esc(text)}</text>'


def summary_chart(counts: Sequence[tuple[str, dict[str, int]]]) -> str:
    """Tasks per category as horizontal bars stacked by verdict."""
    label_width = 150
    bar_left = label_width + 10
    bar_right = 700
    row_height = 26
    height = row_height * len(counts) + 34
    most = max((sum(c.values()) for _, c in counts), default=0) or 1
    parts = [
        f'<svg class="summary-chart" viewBox="0 0 760 {height}" role="img" '
        'aria-label="Tasks per category and verdict">',
        "<title>Tasks per category and verdict</title>",
    ]
    for number, (name, verdicts) in enumerate(counts):
        y = 8 + number * row_height
        total = sum(verdicts.values())
        parts.append(
            f'<text class="category-label" x="{label_width}" y="{y + 14}" '
            f'text-anchor="end">{esc(_short(name, 22))}</text>'
        )
        x = float(bar_left)
        for verdict in VERDICTS:
            count = verdicts.get(verdict, 0)
            if not count:
                continue
            width = (bar_right - bar_left) * count / most
            parts.append(
                f'<rect class="verdict-{verdict}" x="{_n(x)}" y="{y}" width="{_n(width)}" '
                f'height="18"><title>{esc(name)}: {count} {verdict}</title></rect>'
            )
            if width >= 16:
                parts.append(
                    f'<text class="count" x="{_n(x + width / 2)}" y="{y + 13}" '
                    f'text-anchor="middle">{count}</text>'
                )
            x += width
        parts.append(f'<text class="total" x="{_n(x + 6)}" y="{y + 14}">{total}</text>')
    legend_y = height - 10
    x = bar_left
    for verdict in VERDICTS:
        parts.append(
            f'<rect class="verdict-{verdict}" x="{x}" y="{legend_y - 10}" width="12" '
            f'height="12"/><text x="{x + 16}" y="{legend_y}">{verdict}</text>'
        )
        x += 90
    parts.append("</svg>")
    return "".join(parts)


def _short(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"
