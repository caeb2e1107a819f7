"""`retrylint simulate`: what the inventory's retry policies do during an outage of the
dependency they call (`outage` has the arithmetic, `tasks` the per-task bounds and rates,
`render` the outputs)."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from retrylint.durations import DurationError, parse_duration
from retrylint.engine import Report
from retrylint.model import UsageError
from retrylint.simulate.tasks import RateOptions, Simulation, run


def parse_outage(text: str) -> Fraction:
    """`--outage` in the policy file's spelling ("30m", "1h30m"), or whole seconds ("900")."""
    if text.strip().isdigit():
        seconds = int(text)
    else:
        try:
            seconds = parse_duration(text)
        except DurationError as err:
            raise UsageError(
                f"--outage {text!r} is not a duration ({err}); write one such as '30m', "
                "'1h30m' or '2d'"
            ) from None
    if seconds <= 0:
        raise UsageError(f"--outage {text!r}: an outage must last longer than 0 s")
    return Fraction(seconds)


def simulate_report(report: Report, outage: str, rates: Sequence[str]) -> Simulation:
    """The simulation of a finished run; `[tasks]` rates come from each row's assignment."""
    inventory = [a.rate if a is not None else None for a in report.assignments]
    return run(report, parse_outage(outage), RateOptions.parse(rates), inventory)
