"""The first half of a run: files → module summaries → inventory rows, as an `Analysis`.

Discovery, the prefilter, parsing in worker processes, name resolution with modules loaded on
demand, and every adapter. Kept apart from `retrylint.engine` (which judges an analysis with the
rules) so that a run served by the run cache imports none of it: no adapter, no worker pool,
no resolver (0.02 s of a 0.19 s warm check).
"""

from __future__ import annotations

import functools
import itertools
import operator
import os
import re
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from retrylint import frameworks, suppressions
from retrylint.config.policy import ConfigErrors, FrameworkSettings, Policy
from retrylint.frameworks.base import (
    AdapterContext,
    FileProblem,
    GoAdapter,
    GoContext,
    GoItem,
    PythonAdapter,
    with_enqueue_scopes,
)
from retrylint.frameworks.silent import collect_silent_frameworks
from retrylint.model import (
    Analysis,
    EffectivePolicy,
    Finding,
    FrameworkInfo,
    Location,
    Observation,
    SilentFramework,
    UsageError,
)
from retrylint.progress import Progress, Silent
from retrylint.python import ir
from retrylint.python.django import SETTINGS, settings_module
from retrylint.python.evaluate import Evaluator
from retrylint.python.project import Project
from retrylint.rules.rl000_unparsable_file import UnparsableFile
from retrylint.scan import pool
from retrylint.scan.cache import SummaryCache, go_inputs
from retrylint.scan.empty import explain_empty_scan
from retrylint.scan.files import Discovery, FileRules, SourceFile, discover, module_name
from retrylint.scan.ondemand import OnDemand
from retrylint.scan.prefilter import Prefilter
from retrylint.scan.python_parse import ParseProblem
from retrylint.scan.run_cache import Inputs, folders_between
from retrylint.scan.scope import Scope, ScopedNames, scopes
from retrylint.scan.versions import detect as detect_versions
from retrylint.scan.versions import inputs as version_inputs

# Parsing rounds: framework names, then aliases defined in parsed files, then aliases of those.
_MAX_ROUNDS = 3


def file_rules(policy: Policy) -> FileRules:
    """The policy's say in discovery."""
    return FileRules(policy.exclude_spec(), policy.include_tests, policy.respect_gitignore)


def _parse_job(job: tuple[str, str, str, ir.Interest]) -> ir.ModuleSummary | ParseProblem:
    """One file in this process, on a large stack; every failure is a `ParseProblem`."""
    return pool.parse_job(job)


def _parse_all(
    jobs: list[tuple[str, str, str, ir.Interest]],
    workers: int,
    cache: SummaryCache | None = None,
    advance: Callable[[int], None] | None = None,
    kept: pool.Workers | None = None,
    inputs: Inputs | None = None,
    cached: Mapping[pool.Job, ir.ModuleSummary | ParseProblem | None] | None = None,
) -> list[ir.ModuleSummary | ParseProblem]:
    """From the cache where it holds the file as it is now (`cached` holds what was already
    asked of it, a miss as None); the rest in this process with one worker, else in worker
    processes that are killed and replaced when a file crashes them or passes the time cap
    (`retrylint.scan.pool`). A result that depends on the run (a timeout) marks `inputs`
    volatile: the analysis is then not kept."""
    limits = _limits()
    taken = cached or {}
    results: list[ir.ModuleSummary | ParseProblem | None] = [
        taken[job] if job in taken else cache.get(*job) if cache is not None else None
        for job in jobs
    ]
    missed = [job for job, result in zip(jobs, results, strict=True) if result is None]
    if advance is not None:
        advance(len(jobs) - len(missed))
    if workers <= 1:
        parsed: list[ir.ModuleSummary | ParseProblem] = []
        for job in missed:
            parsed.append(_parse_job(job))
            if advance is not None:
                advance(1)
    else:
        parsed = pool.parse_all(
            missed, workers, limits=limits, executor=ProcessPoolExecutor, advance=advance, kept=kept
        )
    fresh = iter(parsed)
    for index, result in enumerate(results):
        if result is None:
            results[index] = new = next(fresh)
            if cache is not None:
                cache.put(*jobs[index][1:], new)
            if inputs is not None and isinstance(new, ParseProblem) and not new.cacheable:
                inputs.volatile = True
    return [r for r in results if r is not None]


def _limits() -> pool.Limits:
    try:
        return pool.Limits.from_env()
    except ValueError as err:
        raise UsageError(str(err)) from None


def _is_candidate(path: Path, prefilter: Prefilter) -> bool | str:
    """Whether a file may hold tasks; a string is the reason it cannot be read."""
    data = _read(path)
    return data if isinstance(data, str) else prefilter.matches(data)


def _read(path: Path) -> bytes | str:
    """A file's bytes; a string is the reason it cannot be read."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return "not a regular file"  # a FIFO or device named .py would block the read
        return path.read_bytes()
    except OSError as err:
        return f"cannot read file: {err.strerror or err}"


def _context(
    adapter: PythonAdapter,
    project: Project,
    evaluator: Evaluator,
    scanned: tuple[ir.ModuleSummary, ...],
    policy: Policy,
    django: str | None,
    versions: Mapping[str, str] | None = None,
) -> AdapterContext:
    settings = policy.frameworks.get(adapter.key, FrameworkSettings())
    if settings.settings_module is None and django:
        settings = replace(settings, settings_module=django)
    version = settings.version or (versions or {}).get(adapter.key)
    return AdapterContext(project, evaluator, scanned, settings, version)


def analyze(
    paths: list[Path],
    policy: Policy,
    workers: int | None,
    cache: SummaryCache | None,
    progress: Progress,
) -> tuple[Analysis, Inputs]:
    """Discover, parse and run the adapters; also what was read, for the run cache."""
    root = policy.root
    discovery = discover(paths, root, file_rules(policy))
    files = discovery.files
    inputs = Inputs(
        {os.fspath(f.absolute) for f in files} | set(discovery.ignore_files),
        set(discovery.folders) | folders_between(root, paths),
        set(discovery.repositories),
    )
    adapters = [
        a
        for a in frameworks.PYTHON_ADAPTERS
        if policy.enabled_frameworks is None or a.key in policy.enabled_frameworks
    ]
    # Starting from nothing: a Go-only policy (`enabled = ["asynq"]`) runs no Python adapter.
    interesting = functools.reduce(
        operator.or_, (a.interest for a in adapters), ir.Interest(frozenset(), frozenset())
    )
    # Calls of configured wrapper functions (`run_task(fn, ...)`) must survive extraction too.
    wrappers = {
        name.rpartition(".")[2]
        for settings in policy.frameworks.values()
        for name in settings.task_decorators
    }
    interesting |= ir.Interest(frozenset(wrappers), frozenset())
    workers = workers if workers is not None else (os.cpu_count() or 1)
    python_files = [f for f in files if f.language == "python"]

    # Worker processes live from the first parse to the last of the run.
    kept = pool.Workers()
    try:

        def parse(jobs: list[pool.Job]) -> list[ir.ModuleSummary | ParseProblem]:
            progress.phase("Following imports", len(jobs))
            return _parse_all(jobs, workers, cache, progress.advance, kept, inputs)

        # Modules loaded on demand, shared by every round's project: each is parsed once a run,
        # in batches (`retrylint.scan.ondemand`); idle workers start on each as soon as a pass
        # asks for it, while the pass goes on.
        ondemand = OnDemand(root, interesting, parse, kept.prefetch if cache is None else None)
        summaries, problems, marked = _scan_python(
            python_files,
            adapters,
            policy,
            interesting,
            workers,
            ondemand,
            cache,
            progress,
            kept,
            inputs,
        )
        django = _django_settings(policy, summaries)
        comments = {s.path: s.suppressions for s in summaries if s.suppressions}
        # What rules may say of each framework that can have rows: the adapters that ran.
        info = {a.key: a.info for a in adapters}
        whole = any(p == root for p in paths)
        go_rows, go_observations = _analyze_go(
            discovery, whole, root, policy, problems, comments, info, cache, inputs
        )
        # Only the Python adapters read detected versions: asking the registry for every
        # framework's distribution would import the Go adapter in a Python-only run.
        versions = detect_versions(
            root, {a.key: a.info.distribution for a in adapters if a.info.distribution}
        )
        inputs.files.update(os.fspath(p) for p in version_inputs(root))
        inputs.folders.add(os.fspath(root / "requirements"))

        def analyze() -> tuple[
            list[EffectivePolicy], list[Observation], tuple[SilentFramework, ...]
        ]:
            project = _project(summaries, root, policy, ondemand)
            _check_task_decorators(policy, project)
            evaluator = Evaluator(project, policy.assume, {SETTINGS: django} if django else None)
            rows: list[EffectivePolicy] = []
            observations: list[Observation] = []
            for adapter in _in_use(adapters, marked, policy, project):
                ctx = _context(
                    adapter, project, evaluator, tuple(summaries), policy, django, versions
                )
                for item in adapter.analyze(ctx):
                    if isinstance(item, EffectivePolicy):
                        rows.append(item)
                    else:
                        observations.append(item)
            rows, observations = with_enqueue_scopes(
                [*rows, *go_rows], [*observations, *go_observations], project.loaded()
            )
            silent = collect_silent_frameworks(adapters, summaries, project, rows)
            return rows, observations, silent

        rows, observations, silent = ondemand.settle(analyze)
    finally:
        # Also on an error: `--watch` runs again in this process.
        kept.close()
    loaded, listed = ondemand.inputs()
    inputs.files |= loaded
    inputs.folders |= listed
    analysis = Analysis(
        rows=tuple(_one_row_per_task(rows)),
        observations=tuple(observations),
        silent=silent,
        frameworks=info,
        problems=tuple(problems),
        comments=comments,
        spans=suppressions.spans(summaries),
        files=len(files),
        unreadable=discovery.unreadable,
        skipped_files=dict(discovery.skipped.files),
        skipped_folders=dict(discovery.skipped.folders),
        empty_scan=None if files else explain_empty_scan(paths, root, policy.path, discovery),
    )
    return analysis, inputs


def _analyze_go(
    discovery: Discovery,
    whole: bool,
    root: Path,
    policy: Policy,
    problems: list[Finding],
    comments: dict[str, tuple[ir.Suppression, ...]],
    info: dict[str, FrameworkInfo],
    cache: SummaryCache | None = None,
    inputs: Inputs | None = None,
) -> tuple[list[EffectivePolicy], list[Observation]]:
    """Rows and observations of the Go adapters over the files `discovery` found (the whole
    project's when `whole`); unparsable files go to `problems`, suppression comments to
    `comments`, what each adapter that ran declares to `info` and what it may have read to
    `inputs`. Go facts never depend on Python name resolution, so this runs once, outside the
    passes that load Python modules."""
    files = discovery.files
    rows: list[EffectivePolicy] = []
    observations: list[Observation] = []
    go_files = tuple(f for f in files if f.language == "go")
    if not go_files and policy.enabled_frameworks is None:
        return rows, observations  # no candidate: the Go adapters are not even imported
    # The whole project's discovery: this run's own when PATHS hold the root, else made when
    # an adapter first asks for a file outside PATHS.
    project: Callable[[], Discovery] = (
        (lambda: discovery)
        if whole
        else functools.cache(functools.partial(discover, [root], root, file_rules(policy)))
    )
    go_project = functools.cache(lambda: _go_files(project()))
    ran = False
    for go in frameworks.GO_ADAPTERS:
        if policy.enabled_frameworks is not None and go.key not in policy.enabled_frameworks:
            continue
        if policy.enabled_frameworks is None and not any(
            _is_candidate(f.absolute, Prefilter([go.markers])) is True for f in go_files
        ):
            continue
        info[go.key] = go.info
        settings = policy.frameworks.get(go.key, FrameworkSettings())
        go_ctx = GoContext(
            root,
            go_files,
            go_project,
            policy.assume,
            settings,
            settings.version,
        )
        for go_item in _go_items(go, go_ctx, cache):
            if isinstance(go_item, EffectivePolicy):
                rows.append(go_item)
            elif isinstance(go_item, Observation):
                observations.append(go_item)
            elif isinstance(go_item, FileProblem):
                location = Location(go_item.path, go_item.line, go_item.column)
                problems.append(UnparsableFile().finding(location, go_item.message))
            else:
                comments[go_item.path] = go_item.suppressions
        ran = True
    if ran and inputs is not None:
        # The project's `.go` files wherever they are, and a `go.mod` in any folder the Go
        # analysis looks in: from each source's folder up to the root.
        everything = project()
        inputs.files.update(everything.ignore_files)
        inputs.folders.update(everything.folders)
        inputs.markers.update(everything.repositories)
        sources = {**go_project(), **{f.path: f.absolute for f in go_files}}
        inputs.files.update(os.fspath(p) for p in go_inputs(root, sources))
    return rows, observations


def _scan_python(
    files: list[SourceFile],
    adapters: Sequence[PythonAdapter],
    policy: Policy,
    interesting: ir.Interest,
    workers: int,
    ondemand: OnDemand,
    cache: SummaryCache | None = None,
    progress: Progress | None = None,
    kept: pool.Workers | None = None,
    inputs: Inputs | None = None,
) -> tuple[list[ir.ModuleSummary], list[Finding], frozenset[str]]:
    """Parse the files that can hold tasks, in rounds; also the adapters whose own markers
    (or configured decorators) a file of round one matched.

    Round one takes files that name a framework; the next takes files naming an alias or a base
    class that the parsed files define (`retrying = shared_task(...)` used elsewhere as
    `@retrying`), where an import can bring it (`retrylint.scan.scope`). Rounds stop when no
    new file qualifies.
    """
    rl000 = UnparsableFile()
    problems: list[Finding] = []
    summaries: list[ir.ModuleSummary] = []
    # Configured wrappers count from the first round: their files may not name a framework.
    configured = {
        name.rpartition(".")[2] for s in policy.frameworks.values() for name in s.task_decorators
    }
    prefilter = Prefilter([*(a.markers for a in adapters), *_names_pattern(configured)])
    scoped: ScopedNames | None = None  # the later rounds' filter
    marked = {key for key, s in policy.frameworks.items() if s.task_decorators}
    unmarked = [a for a in adapters if a.key not in marked]
    progress = progress or Silent()
    pending = files

    def file_module(path: str) -> str:
        return module_name(path, policy.root, policy.source_roots)

    def read_and_parse(
        todo: list[SourceFile], first: bool
    ) -> tuple[int, int, list[SourceFile], list[SourceFile], set[str]]:
        """Parse the candidates among `todo` into `summaries`; how many were parsed, how many
        were already (for an earlier round's question), the rest, those of the rest that a
        wider scope could take, and the paths of those that name no name of a later round."""
        nonlocal marked, unmarked
        jobs: list[tuple[str, str, str, ir.Interest]] = []
        cached: dict[pool.Job, ir.ModuleSummary | ParseProblem | None] = {}
        rest: list[SourceFile] = []
        outside: list[SourceFile] = []
        nothing: set[str] = set()
        reused = 0
        progress.phase("Reading files", len(todo))
        for source in todo:
            progress.advance()
            # A file that named no name of the earlier rounds (nor star-imports) can only be
            # taken for a name new in this one: unread when there is none.
            quick = source.path in unnamed
            if quick and fresh is None:
                rest.append(source)
                nothing.add(source.path)
                continue
            data = _read(source.absolute)
            if isinstance(data, str):
                candidate: bool | str | None = data
            elif scoped is None:
                candidate = prefilter.matches(data)
            elif quick and fresh is not None:
                candidate = fresh.matches(source.path, data)
            else:
                candidate = scoped.matches(source.path, data)
            if isinstance(candidate, str):
                problems.append(rl000.finding(Location(source.path, 1, 1), candidate))
            elif candidate:
                if first and unmarked and isinstance(data, bytes):
                    found = {a.key for a in unmarked if a.markers.search(data)}
                    if found:
                        marked |= found
                        unmarked = [a for a in unmarked if a.key not in found]
                dotted = file_module(source.path)
                known = ondemand.known.get((str(source.absolute), dotted))
                if known is not None:  # already read for an earlier round's question
                    summaries.append(known)
                    reused += 1
                    continue
                job = (str(source.absolute), source.path, dotted, interesting)
                jobs.append(job)
                hit = cached[job] = cache.get(*job) if cache is not None else None
                if hit is None and workers > 1 and kept is not None:
                    # Workers start on the first file the cache does not hold while this
                    # process reads the rest.
                    kept.start(workers, _limits(), ProcessPoolExecutor)
                    kept.prefetch(job)
            else:
                rest.append(source)
                if candidate is None:
                    outside.append(source)
                elif scoped is not None:
                    nothing.add(source.path)
        progress.phase("Parsing", len(jobs))
        parsed = _parse_all(jobs, workers, cache, progress.advance, kept, inputs, cached)
        for result in parsed:
            if isinstance(result, ParseProblem):
                location = Location(result.path, result.line, result.column)
                problems.append(rl000.finding(location, result.message))
            else:
                summaries.append(result)
        return len(jobs), reused, rest, outside, nothing

    def scope_of(names: set[str]) -> dict[str, Scope | None]:
        known = (s for s in ondemand.known.values() if s is not None)
        return scopes(names, [*summaries, *known], file_module)

    names: set[str] = set()
    seen: set[str] = set()  # every name a round has looked for
    unnamed: set[str] = set()  # files that named none of them
    fresh: ScopedNames | None = None  # the names new in this round
    current: dict[str, Scope | None] = {}
    for round_number in range(_MAX_ROUNDS):
        parsed, reused, later, outside, unnamed = read_and_parse(pending, round_number == 0)
        while outside and (parsed or reused):
            # A module parsed in this round may re-export a name (by name or by `*`), which
            # widens its scope: the files that named one out of scope are asked again.
            wider = scope_of(names)
            if wider == current:
                break
            current, scoped = wider, ScopedNames(wider, file_module)
            asked = outside
            more, reused, rest, outside, _ = read_and_parse(asked, False)
            parsed += more
            taken = {s.path for s in asked} - {s.path for s in rest}
            later = [s for s in later if s.path not in taken]
        if not later or not parsed:
            break
        django = _django_settings(policy, summaries)
        names = ondemand.settle(
            functools.partial(_markers, summaries, adapters, marked, policy, django, ondemand)
        )
        if not names:
            break
        current = scope_of(names)
        scoped = ScopedNames(current, file_module)
        new = names - seen
        fresh = ScopedNames({n: current[n] for n in new}, file_module) if new else None
        seen |= names
        pending = later
    summaries.sort(key=lambda s: s.path)
    return summaries, problems, frozenset(marked)


def _markers(
    summaries: list[ir.ModuleSummary],
    adapters: Sequence[PythonAdapter],
    marked: set[str],
    policy: Policy,
    django: str | None,
    ondemand: OnDemand,
) -> set[str]:
    """Names other files may declare tasks with, as the parsed files define them."""
    project = _project(summaries, policy.root, policy, ondemand)
    evaluator = Evaluator(project, policy.assume, {SETTINGS: django} if django else None)
    names: set[str] = set()
    for adapter in _in_use(adapters, marked, policy, project):
        ctx = _context(adapter, project, evaluator, tuple(summaries), policy, django)
        names |= adapter.project_markers(ctx)
    return names


def _in_use(
    adapters: Sequence[PythonAdapter], marked: Set[str], policy: Policy, project: Project
) -> Iterator[PythonAdapter]:
    """The adapters whose framework is in use: a file names it the way its tasks do, or a
    module read so far imports it (the task file of a run on changed files imports its app from
    a module that imports the framework, which an earlier adapter's question may load: each
    adapter is judged when its turn comes). The others can have no task, nor an alias or a base
    class for other files' tasks (a module defining one names the framework the same way), so
    their questions are not asked; an enabled framework always is."""
    imported: set[str] = set()
    read: set[int] = set()
    for adapter in adapters:
        if policy.enabled_frameworks is None and adapter.key not in marked:
            for s in project.loaded():
                if id(s) not in read:
                    read.add(id(s))
                    imported.update(
                        prefix
                        for i in s.imports
                        for prefix in itertools.accumulate(i.target.split("."), "{}.{}".format)
                    )
            if imported.isdisjoint(adapter.packages):
                continue
        yield adapter


def _one_row_per_task(rows: list[EffectivePolicy]) -> list[EffectivePolicy]:
    """Sorted rows, a task registered several times with the same policy (two workers listing
    one arq job) kept once, answering to a suppression at any registration: the same row twice
    would report every finding twice. Rows whose policies differ stay apart; their sources say
    which registration each comes from."""
    rows.sort(key=lambda r: (r.name or "", r.framework, r.location.path, r.location.line))
    unique: dict[tuple[object, ...], EffectivePolicy] = {}
    for row in rows:
        key = _policy_key(row)
        kept = unique.get(key)
        if kept is None:
            unique[key] = row
        else:
            lines = tuple(sorted({*kept.suppression_lines, *row.suppression_lines}))
            unique[key] = replace(kept, suppression_lines=lines)
    return list(unique.values())


def _policy_key(row: EffectivePolicy) -> tuple[object, ...]:
    """What a reader of the row sees, without where each value was written."""
    return (
        row.name,
        row.name_expression,
        row.framework,
        row.site,
        row.location,
        row.retry_trigger,
        row.max_retries,
        row.backoff,
        row.jitter,
        row.delays_seconds,
        row.delays_truncated,
        row.window_seconds,
        tuple(sorted((k, v.source) for k, v in row.sources.items())),
        row.final_failure,
        row.undecided,
        row.via,
        row.worker_loss,
        tuple(
            (
                p.location,
                p.trigger,
                p.max_retries,
                p.backoff,
                p.jitter,
                p.delays_seconds,
                p.window_seconds,
                tuple(sorted((k, v.source) for k, v in p.sources.items())),
            )
            for p in row.paths
        ),
    )


def _names_pattern(names: set[str]) -> list[re.Pattern[bytes]]:
    """One alternative per name, literal first, so the prefilter can look for each name."""
    if not names:
        return []
    return [re.compile(b"|".join(re.escape(n.encode()) + rb"\b" for n in sorted(names)))]


def _check_task_decorators(policy: Policy, project: Project) -> None:
    """A configured wrapper that names nothing would silently match no task: refuse it, with
    every such wrapper at once, like every other mistake of the policy file."""
    unmatched = [
        error
        for settings in policy.frameworks.values()
        for name, error in zip(
            settings.task_decorators, settings.task_decorator_errors, strict=True
        )
        if project.resolve_qualified(name).kind not in ("function", "class", "binding")
    ]
    if unmatched:
        raise ConfigErrors(unmatched)


def _go_items(go: GoAdapter, ctx: GoContext, cache: SummaryCache | None) -> list[GoItem]:
    """The adapter's output, from the cache while no `.go` file or `go.mod` of the project
    changed (then tree-sitter is not even imported)."""
    if cache is None:
        return list(go.analyze_go(ctx))
    scanned = {f.path: f.absolute for f in ctx.files}
    sources = {**ctx.project_files(), **scanned}
    assume = sorted((name, repr(value)) for name, value in ctx.assume.items())
    key = repr((go.key, ctx.version, ctx.settings.task_decorators, assume))
    cached = cache.get_go(key, ctx.root, scanned, sources, lambda: list(go.analyze_go(ctx)))
    if cached is not None:
        return cached
    items = list(go.analyze_go(ctx))
    cache.put_go(key, ctx.root, scanned, sources, items)
    return items


def _go_files(discovery: Discovery) -> dict[str, Path]:
    """Every `.go` file of a discovery over the project, for facts that live outside PATHS."""
    return {f.path: f.absolute for f in discovery.files if f.language == "go"}


def _project(
    summaries: list[ir.ModuleSummary], root: Path, policy: Policy, ondemand: OnDemand
) -> Project:
    """The project as name resolution sees it, loading modules through `ondemand`."""
    bases: list[Path] = [root / r for r in policy.source_roots]
    for summary in summaries:
        depth = len(summary.module.split(".")) if summary.module else 0
        if summary.path.endswith("__init__.py"):
            depth += 1
        base = (root / summary.path).parent
        for _ in range(depth - 1):
            base = base.parent
        bases.append(base)
    parsed = {os.fspath(root / s.path): s for s in summaries}
    loader = ondemand.loader(ondemand.locator(sorted(set(bases))), parsed)
    return Project(summaries, loader, ondemand.indexes)


def _django_settings(policy: Policy, summaries: list[ir.ModuleSummary]) -> str | None:
    for settings in policy.frameworks.values():
        if settings.settings_module:
            return settings.settings_module
    return settings_module(summaries)
