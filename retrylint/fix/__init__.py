"""Autofixes (`check --fix`, `--diff`, `--unsafe-fixes`): plan, verify, then write.

`plan` proposes edits per finding in the framework's spelling, `python_edits` and `go_edits`
apply them, `verify` keeps only those the re-analysed code confirms, and `write` replaces files
atomically or prints the diff. This module ties them together for the CLI, which only wires the
flags; it also marks which findings of a report have a fix, for the text and JSON output.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from retrylint.config.policy import Policy
from retrylint.engine import Report
from retrylint.fix.plan import Fix, identity, plan
from retrylint.fix.write import unified_diff, write_atomic
from retrylint.model import Finding, UsageError
from retrylint.scan.files import FileRules, discover

Rerun = Callable[[Policy, list[Path]], Report]


@dataclass(frozen=True)
class Outcome:
    """The verified fixes of a report and the files they change (old and new bytes)."""

    fixes: tuple[Fix, ...]
    files: dict[str, tuple[bytes, bytes]]

    def diff(self, shown: dict[str, str]) -> str:
        return unified_diff(self.files, shown)

    def write(self, root: Path) -> None:
        """Each file replaced atomically; one that cannot be written stops the run (exit 2)
        naming it, the files before it fixed and those after it untouched."""
        for path, (_, new) in sorted(self.files.items()):
            try:
                write_atomic(root / path, new)
            except OSError as err:
                raise UsageError(
                    f"{path}: cannot write the fix: {err.strerror or err}; "
                    "make the file writable, or run without --fix"
                ) from None


def find_fixes(
    report: Report,
    paths: Sequence[Path],
    rerun: Rerun,
    *,
    unsafe: bool,
) -> Outcome:
    """The fixes of `report` that survive re-analysis, safe ones only unless `unsafe`.

    The copy is analysed with the same policy, rooted there. A PATH outside the project root
    has no place in the copy, so such a run offers no fixes.
    """
    proposals = planned(report, unsafe=unsafe)
    policy = report.policy
    root = policy.root
    resolved = [p.resolve() for p in paths]
    if not proposals or not all(p == root or root in p.parents for p in resolved):
        return Outcome((), {})
    # libcst and tree-sitter load only now: a run with nothing to fix (a warm run of a clean
    # project) must not pay for them.
    from retrylint.fix.verify import keep_confirmed, project_copy

    # The copy is analysed file by file as the original run discovered them: git ignores
    # rules from above the project root that a copy elsewhere would not see.
    rules = FileRules(policy.exclude_spec(), policy.include_tests, policy.respect_gitignore)
    scanned = [f.path for f in discover(resolved, root, rules).files]
    try:
        with project_copy(root) as copy:
            moved = replace(policy, root=copy)
            targets = [copy / path for path in scanned]
            verified = keep_confirmed(
                report, proposals, lambda _: rerun(moved, targets), root, copy
            )
    except (OSError, shutil.Error):
        # A project that cannot be copied (an unreadable folder) cannot have its fixes
        # confirmed, and an unconfirmed fix is never offered.
        return Outcome((), {})
    files = {path: ((root / path).read_bytes(), new) for path, new in verified.files.items()}
    return Outcome(verified.fixes, files)


def planned(report: Report, *, unsafe: bool) -> tuple[Fix, ...]:
    """The fixes proposed for `report`, not yet confirmed by re-analysis.

    `check` marks findings from these alone: confirming a fix re-analyses a copy of the
    project, which would double the cost of every run that merely shows findings. `--fix` and
    `--diff` confirm each one and apply only those (`find_fixes`).
    """
    proposals = plan(report.findings, report.rows, report.assignments)
    return tuple(f for f in proposals if unsafe or f.applicability == "safe")


def mark(report: Report, fixes: Sequence[Fix]) -> Report:
    """`report` with each finding a proposed fix would clear marked "safe" or "unsafe"."""
    available = {(identity(f.finding), f.finding.location): f.applicability for f in fixes}

    def marked(finding: Finding) -> Finding:
        applicability = available.get((identity(finding), finding.location))
        return replace(finding, fix_applicability=applicability) if applicability else finding

    return replace(report, findings=tuple(marked(f) for f in report.findings))
