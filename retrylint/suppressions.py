"""`# retrylint: ignore[RL101] reason` comments: which findings they silence, which are stale.

A suppression must name its codes (there is no blanket form). It applies on any line of the
finding's decorator, call or definition span, on a line of the same file the finding's row
cites as the source of a value, and on the line above each such block of lines (CONTRACTS §7):
people put the comment where the message points them, and a multi-line decorator has no
single "decorator line". RL002 cannot be silenced: an undecided value is information, not a
problem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from retrylint.model import Finding, Location
from retrylint.python import ir
from retrylint.python.ir import Suppression
from retrylint.rules.rl001_unused_suppression import UnusedSuppression
from retrylint.rules.rl003_suppression_without_reason import SuppressionWithoutReason

UNSUPPRESSIBLE = frozenset({"RL002"})

Spans = Mapping[str, Mapping[int, tuple[int, int]]]
"""Per file, a line a finding may anchor on → the first and last line of the construct it
belongs to (a decorator or call written over several lines, a decorated `def`)."""


@dataclass(frozen=True)
class Outcome:
    kept: list[Finding]
    suppressed: list[tuple[Finding, str]]  # with the reason the comment gives
    extra: list[Finding]


def spans(summaries: Iterable[ir.ModuleSummary]) -> dict[str, dict[int, tuple[int, int]]]:
    """The multi-line constructs of each parsed file, keyed by the lines rows anchor on.

    Adapters anchor a row on a decorator's or call's first line and on the `def` line; the
    constructs around those lines come from the parsed summaries, so no adapter has to list
    every line of its spans.
    """
    out: dict[str, dict[int, tuple[int, int]]] = {}

    def add(table: dict[int, tuple[int, int]], key: int, first: int, last: int) -> None:
        old = table.get(key)
        table[key] = (first, last) if old is None else (min(old[0], first), max(old[1], last))

    for summary in summaries:
        table = out.setdefault(summary.path, {})
        for definition in _definitions(summary):
            starts = [d.span.line for d in definition.decorators]
            # The decorator stack and the `def` line are one block, whichever line is cited.
            first = min([*starts, definition.span.line])
            add(table, definition.span.line, first, definition.span.line)
            for decorator in definition.decorators:
                add(table, decorator.span.line, first, definition.span.line)
                add(table, decorator.span.line, decorator.span.line, decorator.span.end_line)
        for call in _calls(summary):
            add(table, call.span.line, call.span.line, call.span.end_line)
    return out


def _definitions(summary: ir.ModuleSummary) -> Iterator[ir.Function | ir.Class]:
    yield from summary.functions
    for cls in summary.classes:
        yield cls
        yield from cls.methods


def _calls(summary: ir.ModuleSummary) -> Iterator[ir.Call]:
    yield from summary.calls
    for cls in summary.classes:
        for method in cls.methods:
            yield from method.calls
    for function in summary.functions:
        yield from function.calls


def accepted_lines(finding: Finding, file_spans: Mapping[int, tuple[int, int]]) -> list[int]:
    """Every line where a suppression silences `finding`, sorted."""
    location = finding.location
    lines = {*range(location.line, max(location.line, location.end_line) + 1)}
    for anchor in {location.line, *finding.anchor_lines}:
        lines.add(anchor)
        first, last = file_spans.get(anchor, (anchor, anchor))
        lines.update(range(first, last + 1))
    # The line above each block: where a comment about the code below it is usually written.
    lines |= {n - 1 for n in lines if n - 1 not in lines and n > 1}
    return sorted(lines)


def apply(
    findings: Iterable[Finding],
    comments: Mapping[str, tuple[Suppression, ...]],
    known_codes: frozenset[str],
    enabled: Callable[[str, str], bool] | None = None,
    file_spans: Spans | None = None,
) -> Outcome:
    """Split findings into kept and suppressed, and report the comments that did nothing.

    A comment naming a known code that is turned off in its file (`select`, `ignore`,
    `[rules]` = "off", `per-file-ignores`; `enabled(path, code)` says) is not reported as
    unused: it silences nothing only because the rule did not run there.
    """
    all_spans: Spans = file_spans or {}
    by_line: dict[tuple[str, int], list[Suppression]] = {}
    for path, items in comments.items():
        for item in items:
            by_line.setdefault((path, item.line), []).append(item)
    used: set[tuple[str, int, str]] = set()
    kept: list[Finding] = []
    suppressed: list[tuple[Finding, str]] = []
    # Where each finding still reported could have been silenced, for RL001 to point at.
    places: dict[tuple[str, str], list[tuple[Finding, list[int]]]] = {}
    for finding in findings:
        if finding.rule in UNSUPPRESSIBLE:
            kept.append(finding)
            continue
        path = finding.location.path
        lines = accepted_lines(finding, all_spans.get(path, {}))
        hit = _match(finding, lines, by_line)
        if hit is None:
            kept.append(finding)
            places.setdefault((path, finding.rule), []).append((finding, lines))
        else:
            used.add((path, hit.line, finding.rule))
            suppressed.append((finding, hit.reason))
    extra: list[Finding] = []
    unused, no_reason = UnusedSuppression(), SuppressionWithoutReason()
    for path in sorted(comments):
        for item in comments[path]:
            location = Location(path, item.line, item.column)
            if not item.reason:
                extra.append(no_reason.finding(location, item.codes))
            for code in item.codes:
                if (path, item.line, code) in used:
                    continue
                if code in known_codes and enabled is not None and not enabled(path, code):
                    continue
                nearest = _nearest(places.get((path, code), ()), item.line)
                extra.append(unused.finding(location, code, code in known_codes, nearest))
    return Outcome(kept, suppressed, extra)


def _match(
    finding: Finding, lines: list[int], by_line: Mapping[tuple[str, int], list[Suppression]]
) -> Suppression | None:
    for line in lines:
        for item in by_line.get((finding.location.path, line), ()):
            if finding.rule in item.codes:
                return item
    return None


def _nearest(
    candidates: Iterable[tuple[Finding, list[int]]], line: int
) -> tuple[Finding, list[int]] | None:
    """The finding of the same code and file whose accepted lines come closest to `line`."""
    return min(
        candidates,
        key=lambda c: (min(abs(n - line) for n in c[1]), c[0].location.line),
        default=None,
    )
