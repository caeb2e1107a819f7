"""Output for people: the ruff-like `check` listing, the inventory table and its Markdown twin,
and `inventory --explain`.

Text that comes from scanned code, the policy or a message never goes through rich markup: rich
reads `[exception]` in `autoretry_for=[exception]` as a style tag and swallows it. It is put in
`Text` objects, which rich never parses; `rich.markup.escape` is not enough, because the extra
backslash it adds after a trailing `\\` shows whenever no tag follows. Only this renderer
imports rich.
"""

from __future__ import annotations

import os
import re
import textwrap
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from itertools import groupby
from typing import TYPE_CHECKING, Literal, TextIO, TypeAlias

from rich.console import Console
from rich.table import Table
from rich.text import Text

from retrylint.baseline import Outcome
from retrylint.durations import format_duration
from retrylint.engine import Report
from retrylint.model import UNBOUNDED, UNDECIDED, Assignment, EffectivePolicy, Finding
from retrylint.report import files_skipped_by_reason, folders_skipped_by_reason

if TYPE_CHECKING:
    # Only named in annotations: a plain `check` starts without the diff module.
    from retrylint.diff import Outcome as DiffOutcome

# A cell is a run of typed pieces, so the rich and Markdown renderers can each style "undecided"
# and "unbounded" their own way and protect user text by their own rules.
Kind: TypeAlias = Literal["text", "code", "undecided", "unbounded", "absent"]
Cell: TypeAlias = tuple[tuple[Kind, str], ...]

COLUMNS: tuple[str, ...] = (
    "task",
    "framework",
    "site",
    "location",
    "category",
    "trigger",
    "retries",
    "backoff",
    "jitter",
    "window",
    "final failure",
)

DEFAULT_WIDTH = 80
MIN_WIDTH = 40
"""Narrower than this, wrapping leaves a word or two a line: overflow reads better."""
_INDENT = "  "
_HANG = "      "
# The inventory table: its first four columns say which task and where, the rest are its
# policy; column widths in the narrow layout fit this share of the cells.
_IDENTITY = 4
_GAP = 2
_TYPICAL = 0.9
_ROOM = 20
"""The fewest columns worth wrapping a final failure into."""
# A provenance phrase in a message: a source word, then text with at most one level of
# parentheses. The source words are `model.Source`.
_SOURCE = re.compile(
    r" \(((?:explicit|inherited|config|assumed|default|undecided)(?=[ )])"
    r"(?:[^()]|\([^()]*\))*)\)"
)
_SEVERITY_STYLES = {"error": "bold red", "warning": "yellow", "note": "cyan"}
_KIND_STYLES: dict[Kind, str] = {
    "text": "",
    "code": "",
    "undecided": "yellow",
    "unbounded": "red",
    "absent": "dim",
}
# Largest first; each pair of neighbours gives one "20d 10h" reading.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_ABSENT: Cell = (("absent", "—"),)
_SKIP_WORDS = {
    "gitignore": "ignored by .gitignore",
    "exclude": "excluded",
    "unparsable": "unparsable",
}

MARKDOWN_LEGEND = (
    "Each row is a task definition, or an enqueue site that sets its own retry policy. "
    "*retries* counts retries after the first run, whatever the framework counts; *window* is "
    "the worst-case time from the first failure to the final one; *final failure* says where "
    "a message goes when its retries run out. *undecided* marks a value retrylint cannot "
    "evaluate without running the code (each is listed below; decide it with `[assume]` in "
    "the policy file), **unbounded** marks retries that never stop, and — marks a value the "
    "row does not set."
)


def terminal_width(stream: TextIO, environ: Mapping[str, str]) -> int:
    """The width text output wraps to: `COLUMNS` when set (as ruff and rich honour it), else
    the terminal's, else 80, a width every log viewer and pager shows without folding."""
    columns = environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        if stream.isatty():
            return os.get_terminal_size(stream.fileno()).columns or DEFAULT_WIDTH
    except (OSError, ValueError, AttributeError):
        pass
    return DEFAULT_WIDTH


def render_check_text(report: Report, console: Console, *, quiet: bool = False) -> None:
    """The findings grouped by file, then the summary; `quiet` (`--quiet`) leaves the summary
    out. Each finding is its location, code and message, then indented lines for the sources
    its message cites and the fix, every line wrapped to the console's width at spaces only, so
    a path is never cut."""
    width = max(console.width, MIN_WIDTH)
    unsafe = report.fixes is not None and report.fixes.unsafe
    for number, (path, findings) in enumerate(groupby(report.findings, _path)):
        if number:
            console.print()
        console.print(Text(f"{path}:", "bold"), soft_wrap=True)
        for finding in findings:
            for line in _finding_lines(finding, width, _fixable(finding, unsafe)):
                console.print(line, soft_wrap=True)
    if quiet:
        return
    if report.findings:
        console.print()
    if report.fixes is not None and report.fixes.fixed is not None:
        fixed, remaining = report.fixes.fixed, len(report.findings)
        found = _plural(fixed + remaining, "finding")
        _say(console, Text(f"Found {found} ({fixed} fixed, {remaining} remaining)."))
    fixable = _fixable_line(report)
    if fixable:
        _say(console, Text(fixable))
    _say(console, _summary(report))
    skipped = _skipped(report)
    if skipped:
        _say(console, Text(skipped))
    if report.baseline is not None:
        _baseline(report.baseline, console)
    if report.diff is not None:
        _say(console, Text(_diff(report.diff)))


def _say(console: Console, text: Text, indent: str = "") -> None:
    """A styled sentence wrapped like the findings: at spaces only, never inside a path."""
    plain, start = text.plain, 0
    for line in _wrap(plain, max(console.width, MIN_WIDTH), indent, indent):
        words = line[len(indent) :]
        start = plain.index(words, start)
        console.print(Text(indent) + text[start : start + len(words)], soft_wrap=True)
        start += len(words)


def _diff(outcome: DiffOutcome) -> str:
    """Says what `--diff-base` hid, so a clean pull-request run is not read as a clean project."""
    since = f"since {outcome.base} (merge base {outcome.merge_base[:12]})"
    if outcome.kept_all is not None:
        return f"Diff {since}: every finding kept, as {outcome.kept_all}."
    return f"Diff {since}: {_plural(outcome.left_out, 'finding')} left out as unchanged."


def _baseline(outcome: Outcome, console: Console) -> None:
    """What the baseline absorbed, and its stale entries so the file can shrink."""
    absorbed = _plural(len(outcome.absorbed), "finding")
    # Only a run over the whole project can tell that an entry's finding is gone.
    partial = " (stale entries are listed when PATHS cover the project root)"
    unknown = partial if outcome.stale is None else ""
    _say(console, Text(f"Baseline {outcome.file}: {absorbed} absorbed{unknown}."))
    if outcome.stale:
        total = sum(count for _, count in outcome.stale)
        _say(
            console,
            Text(
                f"Stale entries ({_plural(total, 'finding')} no longer found); delete them, or "
                "rewrite the file with --write-baseline once nothing new is reported:"
            ),
        )
        for key, count in outcome.stale:
            times = f" (x{count})" if count > 1 else ""
            _say(console, Text(f"{key.describe()}{times}"), "  ")


def render_inventory_table(report: Report, console: Console) -> None:
    """One line per task when every column fits the console's width; otherwise two lines per
    task: the task, where it is and its framework, then its policy indented under it.

    Cells are never folded or cut: a folded path cannot be clicked or searched for, and a cut
    one (or a dropped column) hides the very value asked for. A cell too long for its line
    pushes the rest of the line out instead.
    """
    if not report.rows:
        console.print(_no_tasks(report), highlight=False)
        return
    rows = [_table_cells(group) for group in _site_groups(report)]
    width = max(console.width, MIN_WIDTH)
    widths = _widths(COLUMNS, rows)
    if sum(widths) + _GAP * (len(widths) - 1) <= width:
        lines = _aligned([COLUMNS], rows, range(len(COLUMNS)), widths, "")
        _print_table(console, lines, width)
        return
    second = range(_IDENTITY, len(COLUMNS))
    widths = _widths(COLUMNS, rows, _TYPICAL)
    names = COLUMNS[_IDENTITY:]
    if len(_INDENT * 2) + sum(widths[_IDENTITY:-1]) + _GAP * len(names) + len(names[-1]) > width:
        names = (*names[:-1], "failure")  # "final failure" would be the one word past the edge
    under = _aligned([names], rows, second, widths[_IDENTITY:], _INDENT * 2)
    top = _identities(rows, width)
    lines = [*top[0], under[0]]
    for name, policy, row in zip(top[1:], under[1:], rows, strict=True):
        lines.extend(name)
        lines.extend(_fold_last(policy, len(_plain(row[-1])), width))
    _print_table(console, lines, width, header_lines=len(top[0]) + 1)


def _identities(rows: list[tuple[Cell, ...]], width: int) -> list[list[Text]]:
    """The header and each task's first line(s) in the narrow layout: the task, its framework
    (with `enqueue` for an enqueue site: definitions are the rule) and its location; the
    location goes on a line of its own when the three do not fit the width."""
    enqueue: Cell = (("text", " enqueue"),)
    identity: list[tuple[Cell, ...]] = [
        (row[0], row[1] if _plain(row[2]) == "definition" else row[1] + enqueue, row[3])
        for row in rows
    ]
    header = ("task", "framework", "location")
    widths = _widths(header, identity, _TYPICAL)
    if sum(widths) + 2 * _GAP <= width:
        lines = _aligned([header], identity, range(3), widths, "", "bold")
        return [[line] for line in lines]
    pairs = _aligned([header[:2]], identity, range(2), widths, "", "bold")
    heading = [pairs[0], _line([(("text", header[2]),)], widths, _INDENT * 2, "bold", every=True)]
    places = [_line([cells[2]], widths, _INDENT * 2, "") for cells in identity]
    return [heading, *([pair, place] for pair, place in zip(pairs[1:], places, strict=True))]


def _fold_last(line: Text, last: int, width: int) -> list[Text]:
    """A line whose last cell (the final failure, a sentence) runs past the width, with that
    cell wrapped at spaces under its own column, or, when that column is too narrow, on lines
    of its own under the policy."""
    start = len(line.plain) - last
    room = width - start
    if len(line.plain) <= width:
        return [line]
    if room < _ROOM:
        said = f"final failure: {line.plain[start:]}"
        hang = _INDENT * 4
        policy = line[:start]
        policy.rstrip()
        return [policy, *(Text(p) for p in _wrap(said, width, hang, hang + "  "))]
    pieces = _wrap(line.plain[start:], room, "", "")
    folded = [line[:start] + Text(pieces[0])]
    folded.extend(Text(" " * start + piece) for piece in pieces[1:])
    return folded


def _table_cells(group: list[tuple[EffectivePolicy, Assignment | None]]) -> tuple[Cell, ...]:
    row, assignment = group[0]
    cells = list(_cells(row, assignment))
    if len(group) > 1:
        # Enqueue sites of one task (asynq, Temporal, ...) may disagree: one line, ranges.
        members = [member for member, _ in group]
        cells[3] = (("code", f"{len(group)} sites, first {cells[3][0][1]}"),)
        cells[5] = _spread(m.retry_trigger for m in members)
        cells[6] = _spread(m.max_retries for m in members)
        cells[7] = _spread(m.backoff for m in members)
        cells[8] = _spread(m.jitter for m in members)
        cells[9] = _spread((m.window_seconds for m in members), duration=True)
    return tuple(cells)


def _plain(cell: Cell) -> str:
    return "".join(_one_line(text) for _, text in cell)


def _widths(header: tuple[str, ...], rows: list[tuple[Cell, ...]], share: float = 1.0) -> list[int]:
    """Per column, the width that fits its header and `share` of its cells: below 1, an
    outlier (one long undecided expression, one path deep in a tree) pushes out its own line
    instead of widening the column for every task."""
    widths = []
    for i, name in enumerate(header):
        lengths = sorted(len(_plain(row[i])) for row in rows)
        widths.append(max(len(name), lengths[int(share * (len(lengths) - 1))]))
    return widths


def _aligned(
    headers: list[tuple[str, ...]],
    rows: list[tuple[Cell, ...]],
    columns: range,
    widths: list[int],
    indent: str,
    lead: str = "",
) -> list[Text]:
    """The header line(s) and one line per row, cells padded to `widths`; the last cell of a
    line is not padded, so no line ends in spaces. `lead` styles each row's first cell."""
    lines: list[Text] = []
    for header in headers:
        cells: list[Cell] = [(("text", name),) for name in header]
        lines.append(_line(cells, widths, indent, "bold", every=True))
    for row in rows:
        lines.append(_line([row[i] for i in columns], widths, indent, lead))
    return lines


def _line(
    cells: list[Cell], widths: list[int], indent: str, style: str, *, every: bool = False
) -> Text:
    """`style` applies to the first cell, or to `every` cell (a header line)."""
    line = Text(indent)
    for number, cell in enumerate(cells):
        if number:
            line.append(" " * _GAP)
        text = Text.assemble(*((_one_line(t), _KIND_STYLES[k]) for k, t in cell))
        if style and (number == 0 or every):
            text.stylize(style)
        line.append_text(text)
        if number < len(cells) - 1:
            line.append(" " * max(widths[number] - len(text.plain), 0))
    return line


def _one_line(text: str) -> str:
    return " ".join(text.splitlines())


def _print_table(console: Console, lines: list[Text], width: int, header_lines: int = 1) -> None:
    longest = max(len(line.plain) for line in lines)
    for line in lines[:header_lines]:
        console.print(line, soft_wrap=True)
    console.print(Text("─" * min(longest, width), "dim"), soft_wrap=True)
    for line in lines[header_lines:]:
        console.print(line, soft_wrap=True)


def _site_groups(report: Report) -> list[list[tuple[EffectivePolicy, Assignment | None]]]:
    """Rows in report order; consecutive enqueue rows of one named task form one group."""
    groups: list[list[tuple[EffectivePolicy, Assignment | None]]] = []
    for row, assignment in zip(report.rows, report.assignments, strict=True):
        last = groups[-1][0][0] if groups else None
        if (
            last is not None
            and row.site == "enqueue"
            and last.site == "enqueue"
            and row.name is not None
            and (row.name, row.framework) == (last.name, last.framework)
        ):
            groups[-1].append((row, assignment))
        else:
            groups.append([(row, assignment)])
    return groups


def _spread(values: Iterable[object], duration: bool = False) -> Cell:
    """One value when the sites agree, else `min..max` of the numbers plus any other words."""
    distinct = list(dict.fromkeys(values))
    if len(distinct) == 1:
        value = distinct[0]
        if duration and isinstance(value, int | float) and not isinstance(value, bool):
            return (("text", format_duration(value)),)
        return _value(value)
    numbers = [v for v in distinct if isinstance(v, int | float) and not isinstance(v, bool)]
    words = sorted(str(_display(v)) for v in distinct if v not in numbers)
    parts: list[str] = []
    if numbers:
        low, high = min(numbers), max(numbers)
        show = format_duration if duration else (lambda n: f"{n:g}")
        parts.append(show(low) if low == high else f"{show(low)}..{show(high)}")
    parts.extend(words)
    return (("text", " / ".join(parts)),)


def _display(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def render_inventory_markdown(report: Report) -> str:
    lines = ["# retrylint inventory", "", MARKDOWN_LEGEND, ""]
    if report.rows:
        lines.extend(
            _markdown_table(
                COLUMNS,
                (
                    _cells(row, assignment)
                    for row, assignment in zip(report.rows, report.assignments, strict=True)
                ),
            )
        )
    else:
        lines.append(_no_tasks(report))
    lines.extend(["", "## Undecided values", ""])
    undecided: list[tuple[Cell, ...]] = [
        (
            _task_cell(row),
            (("code", item.field),),
            (("code", item.expression),),
            (("code", str(item.location)),),
        )
        for row in report.rows
        for item in row.undecided
    ]
    if undecided:
        lines.extend(_markdown_table(("task", "field", "expression", "where"), undecided))
    else:
        lines.append("None: every value was decided.")
    return "\n".join(lines) + "\n"


def explain_task(report: Report, name: str, console: Console) -> bool:
    """Print every field of each row named `name` with its value and provenance.

    A name can have several rows (a definition and the enqueue sites that override it), and
    all are shown, because the question behind `--explain` is "why does this task retry so?".
    """
    matches = [
        (row, assignment)
        for row, assignment in zip(report.rows, report.assignments, strict=True)
        if row.name == name
    ]
    for number, (row, assignment) in enumerate(matches):
        if number:
            console.print()
        location = row.location
        at = f"{location.path}:{location.line}:{location.column}"
        heading = f"{name} ({row.framework} {row.site} at {at})"
        for index, line in enumerate(_wrap(heading, max(console.width, MIN_WIDTH), "", "  ")):
            text = Text(line)
            if index == 0:
                text.stylize("bold", 0, len(name))
            console.print(text, soft_wrap=True)
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        grid.add_column(style="dim")
        for field, cell, origin in _explanation(row, assignment):
            grid.add_row(Text(field), _rich(cell), Text(origin))
        console.print(grid)
    return bool(matches)


def _path(finding: Finding) -> str:
    return finding.location.path


def _finding_lines(finding: Finding, width: int, fixable: bool = False) -> Iterator[Text]:
    """`line:col RL101 [error] ...` and its source and fix lines; `[*]` after the code marks a
    fix `--fix` would apply (ruff's marker)."""
    location = finding.location
    message, sources = split_sources(" ".join(finding.message.split()))
    where = f"{location.line}:{location.column}"
    marker = " [*]" if fixable else ""
    head = f"{where} {finding.rule}{marker} [{finding.severity}] {message}"
    for number, wrapped in enumerate(_wrap(head, width, _INDENT, _HANG)):
        text = Text(wrapped)
        if number == 0:
            start = len(_INDENT) + len(where) + 1
            text.stylize(_SEVERITY_STYLES[finding.severity], start, start + len(finding.rule))
        yield text
    extra = [f"source: {source}" for source in sources]
    if finding.fix is not None:
        extra.append(f"fix: {' '.join(finding.fix.split())}")
    for item in extra:
        for wrapped in _wrap(item, width, _HANG, _HANG + "  "):
            yield Text(wrapped, "dim")


def split_sources(message: str) -> tuple[str, list[str]]:
    """The message without its parenthesised provenance phrases (`Provenance.describe()`:
    "(explicit (max_retries=None) at app/tasks.py:25)"), and those phrases.

    They are the longest part of most messages and say where a value came from, not what is
    wrong: on lines of their own the sentence reads in one go. Phrases written inside other
    words ("(7 retries, explicit at ...)") stay where they are.
    """
    sources = [match.group(1) for match in _SOURCE.finditer(message)]
    return _SOURCE.sub("", message), sources


def _wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    """Wrapped at spaces only: a word longer than the line (a long path) overflows whole."""
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [first.rstrip()]


def _fixable(finding: Finding, unsafe: bool) -> bool:
    return finding.fix_applicability == "safe" or (unsafe and finding.fix_applicability == "unsafe")


def _fixable_line(report: Report) -> str:
    """ruff's "[*] 2 fixable with the --fix option (1 hidden fix can be enabled with the
    --unsafe-fixes option)."; nothing when no finding has a fix."""
    if report.fixes is None:
        return ""
    unsafe = report.fixes.unsafe
    shown = sum(1 for f in report.findings if _fixable(f, unsafe))
    hidden = sum(1 for f in report.findings if not _fixable(f, unsafe) and f.fix_applicability)
    hint = (
        f" ({hidden} hidden fix{'es' if hidden != 1 else ''} can be enabled with "
        "the --unsafe-fixes option)"
        if hidden
        else ""
    )
    if shown:
        return f"[*] {shown} fixable with the --fix option{hint}."
    return f"No fixes available{hint}." if hidden else ""


def _summary(report: Report) -> Text:
    suppressed = f"; {report.suppressed} suppressed" if report.suppressed else ""
    tasks = _plural(len(report.rows), "task")
    files = _plural(report.files_scanned, "file")
    if not report.findings:
        if not report.rows:
            # Nothing was checked, so nothing passed: an empty run must not read as a clean one.
            return Text.assemble(
                ("No tasks found:", "bold yellow"), f" {files} scanned{suppressed}."
            )
        return Text.assemble(
            ("All checks passed:", "bold green"), f" {tasks}, {files}{suppressed}."
        )
    severities = Counter(f.severity for f in report.findings)
    undecided = sum(1 for f in report.findings if f.rule == "RL002")
    counts = ", ".join(_plural(severities[s], s) for s in ("error", "warning", "note"))
    scope = f" in {tasks}" if report.rows else f"; no tasks found, {files} scanned"
    # The undecided count is always shown: a run that could not read anything must not look clean.
    return Text(f"Found {counts} ({undecided} undecided){scope}{suppressed}.")


def _no_tasks(report: Report) -> str:
    """An empty inventory says how much was read: "nothing scanned" is not "nothing found"."""
    return f"No tasks found: {_plural(report.files_scanned, 'file')} scanned."


def _skipped(report: Report) -> str:
    """The line under the summary, such as "Skipped 212 files (200 test files, 12 ignored by
    .gitignore) and 1 folder (1 excluded)."

    Said on every run that skipped something, so that code left out by surprise (a production
    package named `testing/`, a gitignored source folder) gets noticed.
    """
    parts: list[str] = []
    for noun, counts in (
        ("file", files_skipped_by_reason(report.files_skipped, report.skipped)),
        ("folder", folders_skipped_by_reason(report.skipped)),
    ):
        reasons = [
            _plural(n, "test file") if r == "test" else f"{n} {_SKIP_WORDS[r]}"
            for r, n in counts.items()
            if n
        ]
        if reasons:
            parts.append(f"{_plural(sum(counts.values()), noun)} ({', '.join(reasons)})")
    return f"Skipped {' and '.join(parts)}." if parts else ""


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _cells(row: EffectivePolicy, assignment: Assignment | None) -> tuple[Cell, ...]:
    location = row.location
    return (
        _task_cell(row),
        (("text", row.framework),),
        (("text", row.site),),
        (("code", f"{location.path}:{location.line}:{location.column}"),),
        _ABSENT if assignment is None else (("text", assignment.category.name),),
        _value(row.retry_trigger),
        _value(row.max_retries),
        _value(row.backoff),
        _value(row.jitter),
        _window(row),
        (("text", row.final_failure),),
    )


def _task_cell(row: EffectivePolicy) -> Cell:
    if row.name is not None:
        return (("code", row.name),)
    return (("undecided", UNDECIDED), ("text", " "), ("code", row.name_expression or "?"))


def _value(value: object) -> Cell:
    if value is None:
        return _ABSENT
    if value == UNDECIDED:
        return (("undecided", UNDECIDED),)
    if value == UNBOUNDED:
        return (("unbounded", UNBOUNDED),)
    if isinstance(value, bool):
        return (("text", "yes" if value else "no"),)
    return (("text", str(value)),)


def _window(row: EffectivePolicy) -> Cell:
    window = row.window_seconds
    return _value(window) if isinstance(window, str) else (("text", format_duration(window)),)


def _delays(row: EffectivePolicy) -> Cell:
    """Delays are null exactly when the window is undecided or unbounded, so it says which."""
    if row.delays_seconds is None:
        return _window(row)
    if not row.delays_seconds:
        return (("text", "none"),)
    text = ", ".join(format_duration(d) for d in row.delays_seconds)
    return (("text", text + (", …" if row.delays_truncated else "")),)


def _explanation(
    row: EffectivePolicy, assignment: Assignment | None
) -> Iterator[tuple[str, Cell, str]]:
    def sourced(key: str) -> str:
        return row.sources[key].describe()

    yield "framework version", _value(row.framework_version), ""
    if assignment is None:
        yield "category", _ABSENT, "no [tasks] key matches and there is no default-category"
    else:
        yield "category", (("text", assignment.category.name),), _assigned_by(assignment)
        yield "owner", _value(assignment.owner), ""
        yield "note", _value(assignment.note), ""
    yield "retry trigger", _value(row.retry_trigger), ""
    yield "max retries", _value(row.max_retries), sourced("max_retries")
    yield "backoff", _value(row.backoff), sourced("backoff")
    yield "jitter", _value(row.jitter), sourced("jitter")
    yield "delays", _delays(row), sourced("delays")
    yield "window", _window(row), sourced("window")
    yield "final failure", (("text", row.final_failure),), ""
    for item in row.undecided:
        yield f"undecided {item.field}", (("code", item.expression),), f"at {item.location}"
    yield from _paths(row)


def _paths(row: EffectivePolicy) -> Iterator[tuple[str, Cell, str]]:
    """Each retry path of a task with several, with where it starts; the fields above are
    their summary, each taken from the worst path for that field."""
    if len(row.paths) <= 1:
        return
    for number, path in enumerate(row.paths, 1):
        at = f"{path.location.path}:{path.location.line}:{path.location.column}"
        yield f"path {number}", (("text", f"{path.trigger} retry"),), f"at {at}"
        view = row.along(path)

        def sourced(key: str, view: EffectivePolicy = view) -> str:
            return view.sources[key].describe()

        yield "  max retries", _value(view.max_retries), sourced("max_retries")
        yield "  backoff", _value(view.backoff), sourced("backoff")
        yield "  jitter", _value(view.jitter), sourced("jitter")
        yield "  delays", _delays(view), sourced("delays")
        yield "  window", _window(view), sourced("window")


def _assigned_by(assignment: Assignment) -> str:
    if assignment.source in ("exact", "glob"):
        return f"{assignment.source} [tasks] key {assignment.key!r}"
    if assignment.source == "default-category":
        return "default-category of the policy file"
    return "built-in policy"


def _rich(cell: Cell) -> Text:
    return Text.assemble(*((text, _KIND_STYLES[kind]) for kind, text in cell))


def _markdown_table(header: tuple[str, ...], rows: Iterable[tuple[Cell, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(_markdown(cell) for cell in row) + " |" for row in rows)
    return lines


def _markdown(cell: Cell) -> str:
    parts = []
    for kind, text in cell:
        flat = " ".join(text.splitlines())
        if kind == "code":
            parts.append(_code_span(flat))
        elif kind == "undecided":
            parts.append(f"*{flat}*")
        elif kind == "unbounded":
            parts.append(f"**{flat}**")
        else:
            parts.append(_MARKDOWN_SPECIAL.sub(r"\\\1", flat))
    return "".join(parts)


def _code_span(text: str) -> str:
    """A code span that survives backticks in the text and `|` inside a table row.

    GitHub splits table rows on `|` before it parses code spans, so `\\|` is needed even
    inside backticks; the fence is one backtick longer than the longest run in the text.
    """
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    escaped = text.replace("|", "\\|")
    return f"{fence}{pad}{escaped}{pad}{fence}"
