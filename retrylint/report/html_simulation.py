"""The "Outage simulation" section of `retrylint report --html --outage …`.

The same `Simulation` as `retrylint simulate` (so the page and the terminal never disagree),
drawn for a reader who was not at the terminal: the parameters it ran with, the attempts per
second over the outage as inline SVG for the whole inventory and for each category (both bounds
as two series, the outage end marked, the peak labelled), and the per-task table.

Like the rest of the page it loads nothing, escapes every name (task and category names come
from scanned code and the policy file) and writes numbers with a fixed precision, so the same
run gives the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from retrylint.durations import format_duration
from retrylint.report.svg import esc
from retrylint.simulate.outage import Outcome
from retrylint.simulate.render import TASK_COLUMNS, figures, heading, rate_text, seconds_text
from retrylint.simulate.tasks import RateSource, Simulation, TaskResult, Total

STYLE = """
section#simulation{border-top:2px solid var(--line);margin-top:22px;padding-top:10px}
figure.sim{margin:14px 0}figure.sim figcaption{font-weight:600}
svg .sim-longest{fill:none;stroke:var(--accent);stroke-width:1.5}
svg .sim-shortest{fill:none;stroke:var(--warning);stroke-width:1.5;stroke-dasharray:4 2}
svg .sim-both{fill:none;stroke:var(--accent);stroke-width:1.5}
svg circle.sim-longest,svg circle.sim-both{fill:var(--accent);stroke:none}
svg circle.sim-shortest{fill:var(--warning);stroke:none;stroke-dasharray:none}
svg .outage-end line{stroke:var(--error);stroke-width:2;stroke-dasharray:5 3}
svg .outage-end text{fill:var(--error);font-weight:600}
svg text.peak{fill:var(--fg);paint-order:stroke;stroke:#fff;stroke-width:3px}
table.sim td.n,table.sim th.n{text-align:right;white-space:nowrap}
.sim-scroll{overflow-x:auto}
"""

_SOURCES: dict[RateSource, str] = {
    "cli": "--rate GLOB",
    "inventory": "[tasks] rate",
    "default": "--rate",
}

# Geometry of one chart, in viewBox units.
_WIDTH = 760
_HEIGHT = 230
_LEFT = 64
_RIGHT = 740
_TOP = 40
_BOTTOM = 196
_COLUMNS = 360  # at most this many steps per series: each shows the busiest bin it covers
_NICE = (1, 2, 2.5, 5)


@dataclass(frozen=True, slots=True)
class _Series:
    css: str
    label: str
    outcome: Outcome


def simulation_section(sim: Simulation) -> list[str]:
    out = ['<section id="simulation"><h2>Outage simulation</h2>', f"<p>{esc(heading(sim))}</p>"]
    out.append(_parameters(sim))
    if sim.total.tasks == 0:
        out.append(
            "<p><b>No task could be simulated</b>: none has both a decided policy and a rate "
            "(pass <code>--rate</code>, or set <code>rate</code> on <code>[tasks]</code> "
            "entries).</p>"
        )
    else:
        for total in (sim.total, *sim.categories):
            out.extend(_figure(total, sim))
        out.append(_task_table(sim))
        out.append(_totals_table(sim))
    out.extend(_left_out(sim.tasks))
    out.append("</section>")
    return out


def _parameters(sim: Simulation) -> str:
    rates = [f"{glob}={rate_text(rate)}" for glob, rate in sim.rates.patterns]
    if sim.rates.default is not None:
        rates.append(rate_text(sim.rates.default))
    simulated = sum(1 for t in sim.tasks if t.status == "simulated")
    items = [
        ("outage", format_duration(float(sim.outage))),
        ("--rate", ", ".join(rates) if rates else "none (only [tasks] rates)"),
        ("bin", seconds_text(sim.width)),
        ("tasks simulated", str(simulated)),
        ("left out", str(len(sim.tasks) - simulated)),
    ]
    return (
        '<dl class="bounds">'
        + "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in items)
        + "</dl>"
    )


def _figure(total: Total, sim: Simulation) -> list[str]:
    name = total.name or "(no category)"
    caption = "all tasks" if total is sim.total else f"category {name}"
    title = f"Attempts per second during the outage, {caption}"
    series = [
        _Series("sim-longest", "longest waits", total.longest),
        _Series("sim-shortest", "shortest waits", total.shortest),
    ]
    if total.longest == total.shortest:
        series = [_Series("sim-both", "both bounds", total.longest)]
    out = [
        f'<figure class="sim" data-chart="{esc(name)}"><figcaption>{esc(title)} '
        f'<span class="muted">({total.tasks} task(s))</span></figcaption>'
    ]
    drawn = [s for s in series if s.outcome.attempts is not None]
    for s in series:
        if s.outcome.attempts is None:
            out.append(
                f'<p class="muted">{esc(s.label)}: infinite attempts '
                f"({esc(s.outcome.infinite or '')}), not drawn.</p>"
            )
    if drawn:
        out.append(_chart_svg(drawn, sim.width, sim.outage, title))
    out.append("</figure>")
    return out


def _chart_svg(series: Sequence[_Series], width: Fraction, outage: Fraction, title: str) -> str:
    """Attempts per second over [0, T) as step lines, with y ticks, x ticks, the end of the
    outage at T and each series' peak labelled."""
    columns = [_columns(s.outcome.histogram, width) for s in series]
    top = _nice(max((v for col in columns for _, v in col), default=Fraction(0)))
    parts = [
        f'<svg class="sim-chart" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" '
        f'aria-label="{esc(title)}"><title>{esc(title)}</title>',
    ]
    parts.extend(_axes(top, outage))
    for number, (s, steps) in enumerate(zip(series, columns, strict=True)):
        parts.append(_legend(s, number))
        parts.append(_path(s, steps, top, outage, width))
    parts.extend(_peaks(series, top, outage, width))
    end = _n(_RIGHT)
    parts.append(
        f'<g class="outage-end"><title>the dependency returns at '
        f"{esc(format_duration(float(outage)))}</title>"
        f'<line x1="{end}" y1="{_TOP - 6}" x2="{end}" y2="{_BOTTOM}"/>'
        f'<text x="{end}" y="{_TOP - 10}" text-anchor="end">outage ends '
        f"{esc(format_duration(float(outage)))}</text></g>"
    )
    parts.append("</svg>")
    return "".join(parts)


def _columns(histogram: Sequence[int], width: Fraction) -> list[tuple[int, Fraction]]:
    """(first bin, attempts per second) per column; a column is the busiest of its bins, so
    merging bins for the drawing never lowers the peak."""
    per = max(1, math.ceil(len(histogram) / _COLUMNS))
    return [
        (start, max(histogram[start : start + per]) / width)
        for start in range(0, len(histogram), per)
    ]


def _nice(value: Fraction) -> Fraction:
    """The y axis top: the smallest 1, 2, 2.5 or 5 times a power of ten at or above the peak."""
    if value <= 0:
        return Fraction(1)
    power = Fraction(10) ** math.floor(math.log10(value))
    for step in (*_NICE, 10):
        candidate = power * Fraction(str(step))
        if candidate >= value:
            return candidate
    return power * 10


def _x(seconds: Fraction, outage: Fraction) -> float:
    return _LEFT + float(min(seconds, outage) / outage) * (_RIGHT - _LEFT)


def _y(per_second: Fraction, top: Fraction) -> float:
    return _BOTTOM - float(per_second / top) * (_BOTTOM - _TOP)


def _axes(top: Fraction, outage: Fraction) -> list[str]:
    parts = [
        f'<line class="axis" x1="{_LEFT}" y1="{_BOTTOM}" x2="{_RIGHT}" y2="{_BOTTOM}"/>',
        f'<line class="axis" x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{_BOTTOM}"/>',
        f'<text x="{_LEFT - 6}" y="{_TOP - 24}" text-anchor="end">per s</text>',
    ]
    for quarter in range(5):
        value = top * quarter / 4
        y = _n(_y(value, top))
        parts.append(
            f'<line class="tick" x1="{_LEFT}" y1="{y}" x2="{_RIGHT}" y2="{y}"/>'
            f'<text class="tick" x="{_LEFT - 6}" y="{y}" text-anchor="end" '
            f'dominant-baseline="middle">{esc(_amount(value))}</text>'
        )
        seconds = outage * quarter / 4
        x = _n(_x(seconds, outage))
        anchor = "start" if quarter == 0 else "end" if quarter == 4 else "middle"
        parts.append(
            f'<text class="tick" x="{x}" y="{_BOTTOM + 16}" text-anchor="{anchor}">'
            f"{esc(seconds_text(seconds) if seconds else '0s')}</text>"
        )
    return parts


def _legend(s: _Series, number: int) -> str:
    x = _LEFT + 10 + number * 200
    y = _TOP - 24
    return (
        f'<line class="{s.css}" x1="{x}" y1="{y - 4}" x2="{x + 24}" y2="{y - 4}"/>'
        f'<text x="{x + 30}" y="{y}">{esc(s.label)}</text>'
    )


def _path(
    s: _Series, steps: Sequence[tuple[int, Fraction]], top: Fraction, outage: Fraction, w: Fraction
) -> str:
    points = [f"M{_n(_LEFT)},{_n(_BOTTOM)}"]
    for number, (_, value) in enumerate(steps):
        end = steps[number + 1][0] * w if number + 1 < len(steps) else outage
        points.append(f"V{_n(_y(value, top))}H{_n(_x(end, outage))}")
    points.append(f"V{_n(_BOTTOM)}")
    return f'<path class="{s.css}" d="{"".join(points)}"><title>{esc(s.label)}</title></path>'


def _peaks(series: Sequence[_Series], top: Fraction, outage: Fraction, w: Fraction) -> list[str]:
    """A dot at each series' busiest bin and its value and time in words; a second label that
    would sit on the first moves down a line."""
    parts: list[str] = []
    used: list[float] = []
    for s in series:
        peak = s.outcome.peak()
        if peak is None or peak[0] == 0:
            continue
        count, index = peak
        per_second = count / w
        x = _x((index + Fraction(1, 2)) * w, outage)
        y = _y(per_second, top)
        label_y = y - 6
        while any(abs(label_y - other) < 15 for other in used):
            label_y += 15
        used.append(label_y)
        anchor = "start" if x < (_LEFT + _RIGHT) / 2 else "end"
        shift = 6 if anchor == "start" else -6
        words = f"peak {_amount(per_second)}/s at {seconds_text(index * w)} ({s.label})"
        parts.append(
            f'<circle class="{s.css}" cx="{_n(x)}" cy="{_n(y)}" r="3.5">'
            f"<title>{esc(words)}</title></circle>"
            f'<text class="peak" x="{_n(x + shift)}" y="{_n(label_y)}" '
            f'text-anchor="{anchor}">{esc(words)}</text>'
        )
    return parts


def _task_table(sim: Simulation) -> str:
    head = TASK_COLUMNS
    rows = []
    for task in sim.tasks:
        if task.status != "simulated":
            continue
        assert task.longest is not None and task.shortest is not None
        cells = figures(task.longest, task.shortest, sim.width)
        name = f"<code>{esc(task.name)}</code>"
        if task.sites > 1:
            name += f' <span class="muted">({task.sites} sites, worst shown)</span>'
        source = _SOURCES[task.rate_source] if task.rate_source is not None else ""
        where = f"{task.path}:{task.line}"
        rows.append(
            f'<tr data-task="{esc(task.name)}"><td>{name}<br>'
            f'<span class="muted mono">{esc(where)}</span></td>'
            f"<td>{esc(task.framework)}</td><td>{esc(task.category or '—')}</td>"
            f'<td class="n">{esc(rate_text(task.rate))} '
            f'<span class="muted">{esc(source)}</span></td>'
            f'<td class="n">{esc(task.retries)}</td>'
            + "".join(f'<td class="n">{esc(c)}</td>' for c in cells[:5])
            + f"<td>{esc(task.final_failure)}</td>"
            + "".join(f'<td class="n">{esc(c)}</td>' for c in cells[5:])
            + "</tr>"
        )
    return _table("sim tasks", head, rows)


def _totals_table(sim: Simulation) -> str:
    head = (
        "category",
        "tasks",
        "messages",
        "attempts",
        "per message",
        "peak/s (at)",
        "exhausted",
        "backlog at end",
        "drained after",
    )
    rows = []
    for total in (*sim.categories, sim.total):
        cells = figures(total.longest, total.shortest, sim.width)
        rows.append(
            f"<tr><td>{esc(total.name or '(no category)')}</td>"
            f'<td class="n">{total.tasks}</td>'
            + "".join(f'<td class="n">{esc(c)}</td>' for c in cells)
            + "</tr>"
        )
    return _table("sim totals", head, rows)


_WORD_COLUMNS = frozenset({"task", "framework", "category", "goes to"})


def _table(css: str, head: Sequence[str], rows: Sequence[str]) -> str:
    cells = "".join(
        f"<th>{esc(h)}</th>" if h in _WORD_COLUMNS else f'<th class="n">{esc(h)}</th>' for h in head
    )
    return (
        f'<div class="sim-scroll"><table class="{css}"><thead><tr>{cells}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _left_out(tasks: Sequence[TaskResult]) -> list[str]:
    left = [t for t in tasks if t.status != "simulated"]
    if not left:
        return []
    out = [f"<p>Left out of the sums ({len(left)}):</p>", '<ul class="left-out">']
    for task in left:
        where = f"{task.framework}, {task.path}:{task.line}"
        out.append(
            f"<li><code>{esc(task.name)}</code> "
            f'<span class="muted">({esc(where)})</span>: {esc(task.reason or "")}</li>'
        )
    out.append("</ul>")
    return out


def _amount(value: Fraction) -> str:
    return f"{int(value):,}" if value.denominator == 1 else f"{float(value):,.2f}"


def _n(value: float) -> str:
    """A coordinate with one decimal, `12.0` written as `12` (as the timelines write them)."""
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text
