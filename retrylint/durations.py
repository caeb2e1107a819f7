"""The one way a duration is printed: check messages, `--explain`, inventory tables and the
final-failure words all say `26d 3h 17m`, so a window in a finding reads the same as in the
inventory next to it.

At most three units, from the largest that is not zero, rounded at the smallest of them (the
exact seconds are in the JSON output); under a minute, seconds with up to three decimals.
The policy file's durations are parsed here too (`parse_duration`), in the same units, and the
day a run judges reviews on (`parse_day`).
"""

from __future__ import annotations

import json
import re
from datetime import date

_UNITS: tuple[tuple[str, int], ...] = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
_SHOWN = 3


def format_duration(seconds: float) -> str:
    """420 → "7m", 90061 → "1d 1h 1m", 2_259_400 → "26d 3h 37m", 0.5 → "0.5s"."""
    for start, (_, size) in enumerate(_UNITS[:-1]):
        shown = _UNITS[start : start + _SHOWN]
        smallest = shown[-1][1]
        ticks = round(seconds / smallest)
        if ticks * smallest < size:
            continue
        parts = []
        for name, unit in shown:
            amount, ticks = divmod(ticks, unit // smallest)
            if amount:
                parts.append(f"{amount}{name}")
        return " ".join(parts)
    return f"{seconds:.3f}".rstrip("0").rstrip(".") + "s"


class DurationError(ValueError):
    """Why a duration string does not parse; the policy loader locates it and adds the fix."""


_UNIT_SIZE = dict(_UNITS)
_PART = re.compile(r"\s*([0-9]+)([A-Za-z]+)")


def parse_duration(text: str) -> int:
    """Seconds: "90s" → 90, "1h30m" → 5400, "2d 12h" → 216000; a bare "900" is refused, as the
    policy file writes seconds as a TOML integer and a quoted number more likely lost its unit.

    Units go from the largest down, each at most once, so that a duration reads one way only;
    the spaces `format_duration` puts between units are allowed, so any whole-second duration a
    report prints can be copied into the policy file. Raises `DurationError` with the reason.
    """
    stripped = text.strip()
    if not stripped:
        raise DurationError("it is empty")
    if stripped.isdigit():
        raise DurationError("the number has no unit")
    total = 0
    previous: str | None = None
    position = 0
    while position < len(text):
        if not text[position:].strip():
            break
        match = _PART.match(text, position)
        if match is None:
            rest = json.dumps(text[position:].strip())
            raise DurationError(f"{rest} is not a whole number followed by a unit")
        amount, unit = int(match.group(1)), match.group(2)
        if unit not in _UNIT_SIZE:
            raise DurationError(f"{json.dumps(unit)} is not a unit")
        if previous is not None:
            if unit == previous:
                raise DurationError(f"the unit {json.dumps(unit)} appears twice")
            if _UNIT_SIZE[unit] > _UNIT_SIZE[previous]:
                smaller = json.dumps(previous)
                raise DurationError(f"{json.dumps(unit)} comes after the smaller unit {smaller}")
        total += amount * _UNIT_SIZE[unit]
        previous = unit
        position = match.end()
    return total


def parse_day(text: str) -> date:
    """A calendar day written YYYY-MM-DD, the one spelling TOML dates and `--today` share
    (`date.fromisoformat` alone would also take "20260601" or week dates)."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text.strip()):
        raise ValueError(f"{json.dumps(text)} is not written YYYY-MM-DD")
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{json.dumps(text)} is not a day of the calendar") from None
