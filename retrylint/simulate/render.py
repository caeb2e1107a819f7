"""`retrylint simulate` output: a table with a terminal chart for people, JSON for machines.

A cell shows one number when both bounds agree (no jitter), else `longest / shortest`: the
attempts with the longest waits the inventory lists, then with the shortest ones jitter can draw.
Task names come from scanned code, so they go into rich `Text` (never parsed as markup).
"""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import TypeAlias

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from retrylint.durations import format_duration
from retrylint.simulate.outage import Outcome
from retrylint.simulate.tasks import Simulation, TaskResult, Total

SCHEMA_VERSION = 1
JSONValue: TypeAlias = bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"] | None

CHART_HEIGHT = 8
_BLOCKS = " ▁▂▃▄▅▆▇█"
_AXIS = 10  # characters left of the chart for the y labels


# -- JSON ---------------------------------------------------------------------------------


def render_json(sim: Simulation) -> str:
    undecided = sum(1 for t in sim.tasks if t.status == "undecided")
    no_rate = sum(1 for t in sim.tasks if t.status == "no-rate")
    document: dict[str, JSONValue] = {
        "schema_version": SCHEMA_VERSION,
        "outage_seconds": _number(sim.outage),
        "bin_seconds": _number(sim.width),
        "tasks": [_task(t, sim.width) for t in sim.tasks],
        "categories": [_total(c, sim.width) for c in sim.categories],
        "total": _total(sim.total, sim.width),
        "left_out": {"undecided": undecided, "no_rate": no_rate},
    }
    return (
        json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
    )


def _task(task: TaskResult, width: Fraction) -> JSONValue:
    return {
        "name": task.name,
        "framework": task.framework,
        "category": task.category,
        "path": task.path,
        "line": task.line,
        "site": task.site,
        "sites": task.sites,
        "max_retries": task.retries,
        "jitter": task.jitter,
        "final_failure": task.final_failure,
        "rate_per_second": _number(task.rate) if task.rate is not None else None,
        "rate_exact": _exact(task.rate),
        "rate_source": task.rate_source,
        "status": task.status,
        "reason": task.reason,
        "longest_waits": _bound(task.longest, width) if task.longest is not None else None,
        "shortest_waits": _bound(task.shortest, width) if task.shortest is not None else None,
    }


def _total(total: Total, width: Fraction) -> JSONValue:
    longest = _bound(total.longest, width)
    shortest = _bound(total.shortest, width)
    longest["attempts_per_bin"] = list[JSONValue](total.longest.histogram)
    shortest["attempts_per_bin"] = list[JSONValue](total.shortest.histogram)
    return {
        "name": total.name,
        "tasks": total.tasks,
        "longest_waits": longest,
        "shortest_waits": shortest,
    }


def _bound(outcome: Outcome, width: Fraction) -> dict[str, JSONValue]:
    peak = outcome.peak()
    amplification = outcome.amplification
    return {
        "messages": outcome.messages,
        "attempts": outcome.attempts,
        "infinite": outcome.infinite,
        "amplification": _number(amplification) if amplification is not None else None,
        "amplification_exact": _exact(amplification),
        "peak_attempts_per_second": _number(peak[0] / width) if peak else None,
        "peak_at_seconds": _number(peak[1] * width) if peak else None,
        "exhausted": outcome.exhausted,
        "backlog": outcome.backlog,
        "backlog_drained_after_seconds": (
            _number(outcome.drained_after) if outcome.drained_after is not None else None
        ),
    }


def _number(value: Fraction) -> int | float:
    """Whole numbers as ints; others to the microsecond (the exact value is in `*_exact`)."""
    if value.denominator == 1:
        return int(value)
    return round(float(value), 6)


def _exact(value: Fraction | None) -> str | None:
    return None if value is None else str(value)


# -- table ----------------------------------------------------------------------------------

TASK_COLUMNS = (
    "task",
    "framework",
    "category",
    "rate",
    "retries",
    "messages",
    "attempts",
    "per message",
    "peak/s (at)",
    "exhausted",
    "goes to",
    "backlog at end",
    "drained after",
)


def render_table(sim: Simulation, console: Console, *, chart: bool = True) -> None:
    """The tables when they fit the console's width unfolded; else one block per task and
    per category, wrapped at spaces, so no number or name is ever cut (80 columns included)."""
    _say(console, heading(sim))
    simulated = [t for t in sim.tasks if t.status == "simulated"]
    if simulated:
        rows = [_task_cells(task, sim.width) for task in simulated]
        totals = [_total_cells(total, sim.width) for total in (*sim.categories, sim.total)]
        total_columns = ("category", "tasks", *TASK_COLUMNS[5:10], "backlog at end")
        if _fits(TASK_COLUMNS, rows, console.width) and _fits(total_columns, totals, console.width):
            console.print(_table(TASK_COLUMNS, rows))
            console.print(_table(total_columns, totals))
        else:
            for cells in rows:
                _block(console, TASK_COLUMNS, cells)
            console.print()
            for cells in totals:
                _block(console, total_columns, cells)
    left_out = [t for t in sim.tasks if t.status != "simulated"]
    if left_out:
        console.print()
        _say(console, f"Left out of the sums ({len(left_out)}):")
        for task in left_out:
            where = f"{task.framework}, {task.path}:{task.line}"
            _say(console, f"{task.name} ({where}): {task.reason}", "  ", "    ")
    if chart and simulated:
        _charts(sim, console)


def _task_cells(task: TaskResult, width: Fraction) -> tuple[str, ...]:
    assert task.longest is not None and task.shortest is not None
    cells = figures(task.longest, task.shortest, width)
    name = task.name + (f" ({task.sites} sites, worst shown)" if task.sites > 1 else "")
    return (
        name,
        task.framework,
        task.category or "—",
        rate_text(task.rate),
        str(task.retries),
        *cells[:5],
        task.final_failure,
        *cells[5:],
    )


def _total_cells(total: Total, width: Fraction) -> tuple[str, ...]:
    cells = figures(total.longest, total.shortest, width)
    return (total.name or "(no category)", str(total.tasks), *cells[:6])


def _fits(columns: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> bool:
    """Whether the table fits unfolded: each column as wide as its widest cell or header,
    plus rich's padding (SIMPLE_HEAD: one space each side, no rules between columns)."""
    needed = sum(
        max(len(column), *(len(row[i]) for row in rows)) + 2 for i, column in enumerate(columns)
    )
    return needed <= width


def _block(console: Console, columns: Sequence[str], cells: Sequence[str]) -> None:
    """One task (or category) as its name, then `column value` pairs wrapped at spaces."""
    console.print()
    _say(console, cells[0])
    pairs = "; ".join(
        f"{column}: {value}" for column, value in zip(columns[1:], cells[1:], strict=True)
    )
    _say(console, pairs, "  ", "  ")


def _say(console: Console, text: str, first: str = "", rest: str = "") -> None:
    width = max(console.width, 40)
    lines = textwrap.wrap(
        text,
        width=width,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )
    for line in lines or [""]:
        console.print(Text(line), soft_wrap=True)


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    """Only drawn when it fits (`_fits`), so no cell ever folds."""
    table = Table(box=box.SIMPLE_HEAD, highlight=False)
    for column in columns:
        words = column in {"task", "framework", "category", "goes to"}
        table.add_column(column, no_wrap=True, justify="left" if words else "right")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


def heading(sim: Simulation) -> str:
    return (
        f"Outage of {format_duration(float(sim.outage))}: messages enqueued at a constant rate "
        "while the dependency is down; every attempt before it returns fails. Two numbers read "
        "`longest waits / shortest waits` (the delays the inventory lists / the lowest the "
        "jitter can draw); one number when they agree. Peaks are per "
        f"{seconds_text(sim.width)} bin."
    )


def figures(longest: Outcome, shortest: Outcome, width: Fraction) -> tuple[str, ...]:
    def both(show: Callable[[Outcome], str]) -> str:
        a, b = show(longest), show(shortest)
        return a if a == b else f"{a} / {b}"

    return (
        both(lambda o: f"{o.messages:,}"),
        both(_attempts),
        both(_amplification),
        both(lambda o: _peak(o, width)),
        both(lambda o: f"{o.exhausted:,}"),
        both(lambda o: f"{o.backlog:,}"),
        both(lambda o: "—" if o.drained_after is None else seconds_text(o.drained_after)),
    )


def _attempts(outcome: Outcome) -> str:
    return "infinite" if outcome.attempts is None else f"{outcome.attempts:,}"


def _amplification(outcome: Outcome) -> str:
    value = outcome.amplification
    if outcome.attempts is None:
        return "infinite"
    return "—" if value is None else f"{float(value):.2f}"


def _peak(outcome: Outcome, width: Fraction) -> str:
    peak = outcome.peak()
    if outcome.attempts is None:
        return "infinite"
    if peak is None or peak[0] == 0:
        return "0"
    per_second = peak[0] / width
    shown = f"{int(per_second):,}" if per_second.denominator == 1 else f"{float(per_second):,.2f}"
    return f"{shown} ({seconds_text(peak[1] * width)})"


def rate_text(rate: Fraction | None) -> str:
    if rate is None:
        return "—"
    return f"{int(rate)}/s" if rate.denominator == 1 else f"{float(rate):g}/s"


def seconds_text(value: Fraction) -> str:
    """Under a minute to the millisecond (59.5 s is not "1m"); longer as every report does."""
    if value < 60:
        return f"{float(value):.3f}".rstrip("0").rstrip(".") + "s"
    return format_duration(float(value))


# -- chart ------------------------------------------------------------------------------------


def _charts(sim: Simulation, console: Console) -> None:
    """The inventory's attempts per second, per bound; an infinite bound has no chart."""
    total = sim.total
    series = [("longest waits", total.longest), ("shortest waits", total.shortest)]
    if total.longest.histogram == total.shortest.histogram:
        series = [("", total.shortest)]
    for bound, outcome in series:
        title = "attempts per second, all tasks" + (f", {bound}" if bound else "")
        if outcome.attempts is None:
            _say(console, f"No chart of {title}: infinite ({outcome.infinite}).")
            continue
        title_line, *lines = chart(outcome.histogram, sim.width, sim.outage, console.width, title)
        _say(console, title_line)
        for line in lines:
            console.print(Text(line))


def chart(
    histogram: Sequence[int], width: Fraction, outage: Fraction, columns: int, title: str
) -> list[str]:
    """Attempts per second over [0, T) in block characters, as wide as the terminal: each column
    covers whole bins and shows the busiest of them, so the peak is never averaged away."""
    usable = max(10, columns - _AXIS - 1)
    per_column = max(1, math.ceil(len(histogram) / usable))
    values = [
        max(histogram[i : i + per_column]) / width for i in range(0, len(histogram), per_column)
    ]
    top = max(values, default=Fraction(0))
    levels = [
        0 if top == 0 or v == 0 else max(1, math.ceil(v / top * CHART_HEIGHT * 8)) for v in values
    ]
    lines = [title]
    for row in range(CHART_HEIGHT):
        floor = (CHART_HEIGHT - 1 - row) * 8
        label = _label(top) if row == 0 else ("0" if row == CHART_HEIGHT - 1 else "")
        cells = "".join(_BLOCKS[min(8, max(0, level - floor))] for level in levels)
        lines.append(f"{label:>{_AXIS - 1}} │{cells}")
    span = len(values)
    end = format_duration(float(outage))
    lines.append(" " * _AXIS + "└" + "─" * span)
    lines.append(" " * (_AXIS + 1) + "0s" + end.rjust(max(0, span - 2)))
    return lines


def _label(value: Fraction) -> str:
    return f"{int(value):,}" if value.denominator == 1 else f"{float(value):,.2f}"
