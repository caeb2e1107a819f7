"""The composition root: files → module summaries → inventory rows → findings → a `Report`.

The first half (files to rows, `retrylint.analysis`) runs only when the run cache cannot serve
it; this module judges the analysis with the rules.

This is the only place that orders findings and counts them, so every renderer shows the same
report in the same order. It prints nothing and never exits; the CLI decides what to do with the
report.
"""

from __future__ import annotations

import fnmatch
import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from retrylint import suppressions
from retrylint.baseline import Outcome
from retrylint.config.policy import Policy
from retrylint.model import (
    SEVERITY_RANK,
    Analysis,
    Assignment,
    EffectivePolicy,
    Finding,
    FixSummary,
    Severity,
    UsageError,
)
from retrylint.progress import Progress, Silent
from retrylint.rules import RULES
from retrylint.rules.base import RuleContext
from retrylint.rules.rl000_unparsable_file import UnparsableFile
from retrylint.scan.cache import SummaryCache
from retrylint.scan.files import Skipped, discover
from retrylint.scan.run_cache import Inputs, RunCache
from retrylint.scan.stamps import Stamp

if TYPE_CHECKING:  # `retrylint.diff` reads reports, so it imports this module
    from retrylint.diff import Outcome as DiffOutcome

_SEVERITIES: dict[str, Severity] = {"error": "error", "warning": "warning", "note": "note"}


@dataclass(frozen=True)
class Selection:
    """Which rules run and at what severity, after `select`/`extend-select`/`ignore` in the
    policy file and on the command line, `[rules]`, and `per-file-ignores`."""

    severities: dict[str, Severity]
    # (glob, codes) pairs: findings of those codes in matching files are dropped.
    per_file: tuple[tuple[str, frozenset[str]], ...] = ()

    @classmethod
    def build(
        cls,
        policy: Policy,
        select: Sequence[str] | None,
        ignore: Sequence[str],
        extend_select: Sequence[str] = (),
        per_file_ignores: Sequence[str] | None = None,
    ) -> Selection:
        """Layer the policy file's selectors, then the command line's, the way ruff does.

        Within one layer the more specific selector wins (`RL102` over `RL1` over `ALL`;
        ruff's `Specificity`), and on a tie `ignore` wins, because ruff applies a level's
        ignores after its selects. A layer with `select` starts from nothing; one without it
        adjusts what the layers before it enabled. So `--select RL102 --ignore RL1` keeps
        RL102, and `--select RL101` on the command line drops the file's `ignore` with the
        rest of its selection (ruff's documented example).
        """
        codes = sorted(RULES)
        enabled = set(codes)
        layers = (
            (policy.select, policy.extend_select, policy.ignore, ""),
            (tuple(select) if select else None, tuple(extend_select), tuple(ignore), "--"),
        )
        for chosen, extended, ignored, flag in layers:
            updates: dict[str, bool] = {}
            plus = [(t, f"{flag}select") for t in _tokens(chosen or ())]
            plus += [(t, f"{flag}extend-select") for t in _tokens(extended)]
            minus = [(t, f"{flag}ignore") for t in _tokens(ignored)]
            levels = sorted({_specificity(t) for t, _ in (*plus, *minus)})
            for level in levels:
                for on, tokens in ((True, plus), (False, minus)):
                    for token, where in tokens:
                        if _specificity(token) == level:
                            updates.update(dict.fromkeys(expand_selector(token, where), on))
            if chosen is not None:
                enabled = {code for code, on in updates.items() if on}
            else:
                enabled |= {code for code, on in updates.items() if on}
                enabled -= {code for code, on in updates.items() if not on}
        severities: dict[str, Severity] = {}
        for code in codes:
            configured = policy.rules.get(code, RULES[code].meta.severity)
            if code in enabled and configured != "off":
                severities[code] = "note" if code == "RL002" else _SEVERITIES[configured]
        pairs = (
            policy.per_file_ignores
            if per_file_ignores is None
            else parse_per_file_ignores(per_file_ignores)
        )
        per_file = tuple(
            (glob, frozenset(c for t in tokens for c in expand_selector(t, "per-file-ignores")))
            for glob, tokens in pairs
        )
        return cls(severities, per_file)

    def enabled_in(self, path: str, code: str) -> bool:
        """Whether `code` runs and is reported in the file at `path` (project-root relative).

        A glob matches the whole path or, like ruff's, the file name alone; `*` crosses `/`.
        """
        if code not in self.severities:
            return False
        name = path.rpartition("/")[2]
        return not any(
            code in ignored and (fnmatch.fnmatchcase(path, glob) or fnmatch.fnmatchcase(name, glob))
            for glob, ignored in self.per_file
        )


def _tokens(selectors: Sequence[str]) -> list[str]:
    """`--ignore RL0,RL4` and `--ignore RL0 --ignore RL4` mean the same."""
    return [t.strip() for s in selectors for t in s.split(",") if t.strip()]


def _specificity(token: str) -> int:
    """ALL is the least specific selector; otherwise a longer prefix is more specific."""
    return 0 if token.strip().upper() == "ALL" else len(token.strip())


def expand_selector(token: str, flag: str) -> list[str]:
    """The rule codes a selector names: `ALL`, a code, or a prefix such as `RL2`."""
    codes = sorted(RULES)
    key = token.strip().upper()
    matched = codes if key == "ALL" else [c for c in codes if c.startswith(key)]
    if not matched:
        raise UsageError(
            f"{flag} {token}: no rule code starts with {token!r}; "
            "run `retrylint rules` for the list"
        )
    return matched


def parse_per_file_ignores(items: Sequence[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`--per-file-ignores GLOB:CODE[,CODE...]`, repeatable; ruff's `GLOB:CODE,GLOB:CODE`
    form reads the same, since a comma item without `:` adds to the glob before it."""
    pairs: dict[str, list[str]] = {}
    for item in items:
        glob: str | None = None
        for part in (p.strip() for p in item.split(",")):
            if not part:
                continue
            code = part
            if ":" in part:
                glob, _, code = (x.strip() for x in part.rpartition(":"))
            if not glob or not code:
                raise UsageError(
                    f"--per-file-ignores {item}: write GLOB:CODES, such as "
                    "'migrations/*:RL103,RL202'"
                )
            expand_selector(code, "--per-file-ignores")
            pairs.setdefault(glob.removeprefix("./"), []).append(code)
    return tuple((glob, tuple(codes)) for glob, codes in pairs.items())


@dataclass(frozen=True)
class Report:
    """Everything a renderer needs; no timestamps, no absolute paths, no host details."""

    rows: tuple[EffectivePolicy, ...]
    assignments: tuple[Assignment | None, ...]
    findings: tuple[Finding, ...]
    suppressed: int
    files_scanned: int
    files_skipped: int
    policy: Policy
    # Findings a suppression comment silenced, with its reason (SARIF lists them as such).
    suppressed_findings: tuple[tuple[Finding, str], ...] = ()
    # What discovery left out by reason; `files_skipped` is these files plus the RL000 ones.
    skipped: Skipped = field(default_factory=Skipped)
    # Whether PATHS covered the project root and which rules ran: a baseline entry is stale
    # only if the run could have seen its finding.
    whole_project: bool = True
    rules_run: frozenset[str] = frozenset(RULES)
    # Set by `check --baseline`: the findings it absorbed (no longer in `findings`) and stale
    # entries.
    baseline: Outcome | None = None
    # Set by `check --diff-base`: how many findings were left out as unchanged since REF.
    diff: DiffOutcome | None = None
    # Set by `check` (`retrylint.fix`): fixes applied, and whether unsafe ones are offered.
    fixes: FixSummary | None = None
    # The stamps of what the analysis was read from, when the run cache holds it (else None):
    # a replayed check is valid while they hold. Never rendered.
    read_from: tuple[Stamp, ...] | None = None

    def count(self, at_least: str) -> int:
        """Findings at or above a severity; RL002 never counts (CONTRACTS §6)."""
        rank = SEVERITY_RANK[at_least]
        return sum(
            1 for f in self.findings if f.rule != "RL002" and SEVERITY_RANK[f.severity] >= rank
        )


def run(
    paths: Sequence[Path],
    policy: Policy,
    *,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] = (),
    workers: int | None = None,
    extend_select: Sequence[str] = (),
    per_file_ignores: Sequence[str] | None = None,
    cache: SummaryCache | None = None,
    progress: Progress | None = None,
    today: date | None = None,
) -> Report:
    """Analyze `paths`; with a `cache`, files it holds unchanged are not parsed again. `today`
    is the day reviews are judged on (RL406), the clock's when None."""
    progress = progress or Silent()
    selection = Selection.build(policy, select, ignore, extend_select, per_file_ignores)
    root = policy.root
    for given in paths:
        if not Path(given).exists():
            # Echoed as typed: `/nonexistent`, not its path from the project root.
            raise UsageError(f"{os.fspath(given)}: no such file or directory")
    # Resolved like the project root, so a path through a symlink names the same files.
    paths = [resolved(Path(p)) for p in paths]
    analysis, read_from = _cached_analysis(paths, policy, workers, cache, progress)
    rows = list(analysis.rows)
    assignments = tuple(policy.assign(r.name) for r in rows)
    whole = any(p == root for p in paths)
    rule_ctx = RuleContext(
        rows=list(zip(rows, assignments, strict=True)),
        policy=policy,
        whole_inventory=whole,
        all_names=frozenset(r.name for r in rows if r.name),
        observations=list(analysis.observations),
        silent_frameworks=analysis.silent,
        frameworks=analysis.frameworks,
        empty_scan=analysis.empty_scan,
        today=today or date.today(),
    )
    raw: list[Finding] = list(analysis.problems)
    raw.extend(
        UnparsableFile().folder_finding(u.path, u.reason) for u in analysis.unreadable if u.folder
    )
    for code in sorted(selection.severities):
        raw.extend(RULES[code].check(rule_ctx))
    # `per-file-ignores` drops findings before suppressions see them, so a comment for a code
    # ignored in its file is not reported as unused either.
    raw = [f for f in raw if selection.enabled_in(f.location.path, f.rule)]
    outcome = suppressions.apply(
        raw, analysis.comments, frozenset(RULES), selection.enabled_in, analysis.spans
    )
    final = [
        _with_severity(f, selection.severities[f.rule])
        for f in [*outcome.kept, *outcome.extra]
        if selection.enabled_in(f.location.path, f.rule)
    ]
    # An observation of one cause seen through two registrations is one finding.
    final = sorted(dict.fromkeys(final), key=Finding.sort_key)
    skipped = Skipped(
        MappingProxyType(dict(analysis.skipped_files)),
        MappingProxyType(dict(analysis.skipped_folders)),
    )
    return Report(
        rows=tuple(rows),
        assignments=assignments,
        findings=tuple(final),
        suppressed=len(outcome.suppressed),
        suppressed_findings=tuple(
            sorted(
                (
                    (_with_severity(f, selection.severities.get(f.rule, f.severity)), reason)
                    for f, reason in outcome.suppressed
                ),
                key=lambda item: item[0].sort_key(),
            )
        ),
        files_scanned=analysis.files - len(analysis.problems),
        files_skipped=len(analysis.problems) + skipped.file_count,
        policy=policy,
        skipped=skipped,
        whole_project=whole,
        rules_run=frozenset(selection.severities),
        read_from=read_from,
    )


def _cached_analysis(
    paths: list[Path],
    policy: Policy,
    workers: int | None,
    cache: SummaryCache | None,
    progress: Progress,
) -> tuple[Analysis, tuple[Stamp, ...] | None]:
    """The analysis of `paths`, from the run cache while nothing it was read from changed
    (then no source file is read, and neither libcst nor an adapter is imported), and the
    manifest it is kept with (None when it is not kept)."""
    if cache is None:
        return _analyze(paths, policy, workers, None, progress)[0], None
    runs = RunCache(cache.directory, readonly=cache.readonly)
    key = _analysis_key(paths, policy)

    def again() -> tuple[EffectivePolicy, ...]:
        return _analyze(paths, policy, workers, cache, Silent())[0].rows

    found = runs.get(key, again)
    if found is not None:
        return found
    began = time.time_ns()
    analysis, inputs = _analyze(paths, policy, workers, cache, progress)
    return analysis, runs.put(key, analysis, inputs, began)


def _analyze(
    paths: list[Path],
    policy: Policy,
    workers: int | None,
    cache: SummaryCache | None,
    progress: Progress,
) -> tuple[Analysis, Inputs]:
    # Imported on a miss only: a run the cache serves loads no adapter, parser or resolver.
    from retrylint import analysis

    # Python warns about the user's code that adapters compile with `ast` (a `"\d"` in a
    # dramatiq predicate is a SyntaxWarning): noise for the user, and printed only by a run the
    # caches do not serve, so a replayed check would repeat it where a warm one is silent.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analysis.analyze(paths, policy, workers, cache, progress)


def _analysis_key(paths: list[Path], policy: Policy) -> str:
    """Everything besides the files that decides an analysis: where, and the policy's say in
    discovery and in the adapters (categories, tasks and rules are applied after it)."""
    frameworks_settings = sorted(
        (key, s.task_decorators, s.version, s.settings_module)
        for key, s in policy.frameworks.items()
    )
    return repr(
        (
            os.fspath(policy.root),
            sorted(os.fspath(p) for p in paths),
            policy.exclude,
            policy.extend_exclude,
            policy.include_tests,
            policy.respect_gitignore,
            policy.source_roots,
            policy.enabled_frameworks,
            frameworks_settings,
            sorted((name, repr(value)) for name, value in policy.assume.items()),
        )
    )


def resolved(path: Path) -> Path:
    """The real path; a symlink loop keeps its absolute name and fails later, located."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def scanned_files(paths: Sequence[Path], policy: Policy) -> list[Path]:
    """The files a run over `paths` reads, by the same discovery (`check --watch` polls them)."""
    from retrylint import analysis  # `--watch` only: a run served by the cache never loads it

    real = [resolved(Path(p)) for p in paths]
    return [f.absolute for f in discover(real, policy.root, analysis.file_rules(policy)).files]


def _with_severity(finding: Finding, severity: Severity) -> Finding:
    """The rule's configured severity; a note a rule gives below its default (RL202's one note
    for a requirement the framework cannot express) is never raised by it."""
    if (
        finding.severity != RULES[finding.rule].meta.severity
        and SEVERITY_RANK[finding.severity] < SEVERITY_RANK[severity]
    ):
        return finding
    return finding if finding.severity == severity else replace(finding, severity=severity)
