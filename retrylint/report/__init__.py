"""Renderers: pure functions from a `Report` to text, one module per output format.

They never re-sort or filter findings (the engine ordered them once), so every format shows
the same findings in the same order. Only `text_report` imports rich.
"""

from __future__ import annotations

from retrylint.model import Finding
from retrylint.scan.files import FOLDER_REASONS, SKIP_REASONS, Skipped

SOURCE_FIELDS: tuple[str, ...] = ("max_retries", "backoff", "jitter", "delays", "window")
"""The keys of `EffectivePolicy.sources` that CONTRACTS §4 publishes, in reading order."""


def files_skipped_by_reason(files_skipped: int, skipped: Skipped) -> dict[str, int]:
    """Every reason a file was skipped, zeros kept, in reading order; the counts add up to
    `files_skipped`, whose remainder after the discovery rules is the RL000 files."""
    counts: dict[str, int] = {reason: skipped.files.get(reason, 0) for reason in SKIP_REASONS}
    return {**counts, "unparsable": files_skipped - sum(counts.values())}


def folders_skipped_by_reason(skipped: Skipped) -> dict[str, int]:
    """Every reason a folder was not entered, zeros kept, in reading order."""
    return {reason: skipped.folders.get(reason, 0) for reason in FOLDER_REASONS}


def message_with_fix(finding: Finding) -> str:
    """The message and its fix as one text, for formats that have a single message field.

    Messages are written as one sentence without a final period, so one is added before the
    fix; otherwise SARIF viewers and annotations show "... evaluate Fix: Add ...".
    """
    if finding.fix is None:
        return finding.message
    message = finding.message
    if not message.endswith((".", "!", "?")):
        message += "."
    return f"{message} Fix: {finding.fix}"


def plain_number(value: float) -> int | float:
    """`7.0` as `7`: delays are floats internally, but whole seconds read (and diff) as ints."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
