"""RL001: a suppression comment silences nothing (the problem is gone, or the code is wrong)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import ClassVar

from retrylint.model import Finding, Location
from retrylint.rules.base import RuleContext, RuleMeta


class UnusedSuppression:
    """Reported by the suppression pass, which alone knows what each comment silenced."""

    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL001", "unused-suppression", "warning", "A suppression comment silences nothing"
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        return iter(())

    def finding(
        self,
        location: Location,
        code: str,
        known: bool,
        nearest: tuple[Finding, Sequence[int]] | None = None,
    ) -> Finding:
        """`nearest` is the closest finding of `code` still reported in the same file, with
        the lines where a suppression would have silenced it: "silences nothing" alone leaves
        people guessing whether the problem is gone or the comment is in the wrong place."""
        if known and nearest is not None:
            target, lines = nearest
            task = f" of `{target.task}`" if target.task else ""
            message = (
                f"`ignore[{code}]` silences nothing here: the {code} finding{task} at "
                f"{target.location} accepts a suppression on {line_ranges(lines)}"
            )
            fix = f"Move the comment to one of those lines, or remove {code} from it."
        elif known:
            message = f"`ignore[{code}]` silences nothing: no {code} finding remains in this file"
            fix = f"Remove {code} from the suppression."
        else:
            message = f"`ignore[{code}]` names no retrylint rule"
            fix = "Correct the rule code (see `retrylint rules`)."
        return Finding(
            rule=self.meta.code,
            name=self.meta.name,
            severity=self.meta.severity,
            location=location,
            message=message,
            fix=fix,
        )


def line_ranges(lines: Sequence[int]) -> str:
    """`[3, 4, 5, 9]` as "lines 3-5 and 9"."""
    runs: list[list[int]] = []
    for line in sorted(lines):
        if runs and line == runs[-1][1] + 1:
            runs[-1][1] = line
        else:
            runs.append([line, line])
    parts = [str(a) if a == b else f"{a}-{b}" for a, b in runs]
    noun = "line" if len(parts) == 1 and runs[0][0] == runs[0][1] else "lines"
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"{noun} {joined}"
