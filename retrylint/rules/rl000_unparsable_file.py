"""RL000: a file could not be read or parsed, so its tasks are not in the inventory."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from retrylint.model import Finding, Location
from retrylint.rules.base import RuleContext, RuleMeta


class UnparsableFile:
    """Reported by the engine from parse problems; the rule itself has nothing to judge."""

    meta: ClassVar[RuleMeta] = RuleMeta(
        "RL000", "unparsable-file", "warning", "A file cannot be read or parsed"
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        return iter(())

    def finding(self, location: Location, reason: str) -> Finding:
        return Finding(
            rule=self.meta.code,
            name=self.meta.name,
            severity=self.meta.severity,
            location=location,
            message=f"cannot analyze this file: {reason}",
            fix="Fix the file, or add it to `exclude` in the policy file.",
        )

    def folder_finding(self, path: str, reason: str) -> Finding:
        """A folder that could not be listed: every file in it is missing from the run."""
        return Finding(
            rule=self.meta.code,
            name=self.meta.name,
            severity=self.meta.severity,
            location=Location(path, 1, 1),
            message=f"cannot read this folder ({reason.lower()}), so none of its files were "
            "analyzed",
            fix="Give the user running retrylint read access, or add the folder to `exclude`.",
        )
