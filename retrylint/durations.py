"""The one way a duration is printed: check messages, `--explain`, inventory tables and the
final-failure words all say `26d 3h 17m`, so a window in a finding reads the same as in the
inventory next to it.

At most three units, from the largest that is not zero, rounded at the smallest of them (the
exact seconds are in the JSON output); under a minute, seconds with up to three decimals.
"""

from __future__ import annotations

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
