"""Command line: the only module that knows about argv, stdout, stderr and exit codes.

Exit codes (CONTRACTS §6): 0 nothing at or above `--fail-on`, 1 findings, 2 retrylint could not
run. Every failure to run is one line on stderr; a traceback appears only with
RETRYLINT_DEBUG=1, because a CI log full of Python internals helps nobody fix their config.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn, TextIO, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from retrylint import __version__, baseline, engine, outputs, progress, replay
from retrylint import fix as fixing
from retrylint.config.policy import (
    CONFIG_NAMES,
    PYPROJECT,
    ConfigError,
    Policy,
    config_candidates,
    discover_config,
    load_policy,
)
from retrylint.durations import parse_day
from retrylint.frameworks import FRAMEWORKS
from retrylint.model import SEVERITY_RANK, FixSummary, UsageError
from retrylint.outputs import CheckFormat
from retrylint.report.text_report import (
    explain_task,
    render_inventory_markdown,
    render_inventory_table,
    terminal_width,
)
from retrylint.rules import RULES
from retrylint.scan.cache import SummaryCache
from retrylint.scan.stamps import DEFAULT_DIRECTORY as DEFAULT_CACHE_DIRECTORY


class _Group(TyperGroup):
    """Lets `--write-baseline` stand alone (CONTRACTS §7 `--write-baseline [FILE]`).

    Typer has no option with an optional value, so a bare `--write-baseline` (last, or before
    another option) is read as `--write-baseline=`, an empty FILE meaning the default file.
    `ctx` is typed loosely because the click typer bundles is private to it.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        given = list(args)
        for number, token in enumerate(given):
            if token == "--":
                break
            after = given[number + 1] if number + 1 < len(given) else None
            if token == "--write-baseline" and (after is None or after.startswith("-")):
                given[number] = "--write-baseline="
        return super().parse_args(ctx, given)


app = typer.Typer(
    cls=_Group,
    name="retrylint",
    help="Find every background task, work out its effective retry policy, and check it "
    "against your policy inventory.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain click help: typer's rich panels print `<bool>` after every flag, which reads as
    # "takes a value" and made people write `--exit-zero true`.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

T = TypeVar("T")


class RulesFormat(str, Enum):
    text = "text"
    json = "json"


class InventoryFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


class SimulateFormat(str, Enum):
    table = "table"
    json = "json"


class AlertsFormat(str, Enum):
    prometheus = "prometheus"


class Level(str, Enum):
    error = "error"
    warning = "warning"
    note = "note"


class Color(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(help="Files or directories to scan (default: the current directory)."),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="Policy file to use instead of discovering one."),
]
SelectOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--select",
        metavar="CODES",
        help="Only these rule codes or prefixes (e.g. RL1, RL202, ALL); the more specific "
        "of --select and --ignore wins.",
    ),
]
IgnoreOpt = Annotated[
    list[str] | None,
    typer.Option("--ignore", metavar="CODES", help="Skip these rule codes or prefixes."),
]
ExtendSelectOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--extend-select",
        metavar="CODES",
        help="Also these rule codes or prefixes, on top of `select`.",
    ),
]
PerFileIgnoresOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--per-file-ignores",
        metavar="GLOB:CODES",
        help="Skip these codes in files matching GLOB (e.g. 'migrations/*:RL103,RL202'); "
        "replaces the policy file's per-file-ignores.",
    ),
]
ColorOpt = Annotated[
    Color,
    typer.Option(
        "--color", help="Colour the text output: auto (a terminal, unless NO_COLOR is set)."
    ),
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print the findings only, not the summary.")
]
NoCacheOpt = Annotated[
    bool, typer.Option("--no-cache", help="Neither read nor write the summary cache.")
]
CacheDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        envvar="RETRYLINT_CACHE_DIR",
        help="Where to keep the summary cache (default: .retrylint_cache in the project root).",
    ),
]
OUTAGE_HELP = "How long the dependency is down, as the policy writes durations."
RateOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--rate",
        help="Enqueue rate: 'GLOB=5/s' for matching tasks (repeatable), '5/s' for the rest.",
    ),
]
JobsOpt = Annotated[
    int | None,
    typer.Option("--jobs", "-j", min=1, help="Worker processes for parsing (default: CPU count)."),
]


def _stderr(message: str) -> None:
    sys.stderr.write(message.rstrip("\n") + "\n")


def _fail(message: str) -> NoReturn:
    _stderr(message)
    raise typer.Exit(2)


def _guard(action: Callable[[], T], *, watching: bool = False) -> T:
    """Run a command body, turning every failure into one stderr line and exit 2; `watching`
    lets Ctrl-C through to the watch loop, for which it means "stop", exit 0."""
    try:
        return action()
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        if watching:
            raise
        _fail("retrylint: interrupted")
    except (ConfigError, baseline.BaselineError) as err:
        _fail(str(err))
    except UsageError as err:
        _fail(f"retrylint: error: {err}")
    except Exception as err:
        if os.environ.get("RETRYLINT_DEBUG"):
            traceback.print_exc()
        detail = f"{type(err).__name__}: {err}".replace("\n", " ")
        _fail(f"retrylint: internal error: {detail}; set RETRYLINT_DEBUG=1 for the traceback")


def _load(paths: list[Path], config: Path | None) -> Policy:
    cwd = Path.cwd()
    if config is not None:
        if not config.is_file():
            raise UsageError(f"--config {config}: no such file")
        found: Path | None = config.resolve()
    else:
        found = discover_config(_config_start(paths))
    policy = load_policy(found, known_rules=RULES, known_frameworks=FRAMEWORKS, cwd=cwd)
    for path in paths:
        if path.exists() and not path.resolve().is_relative_to(policy.root):
            # The root is the policy file's folder (CONTRACTS §1): `--config /tmp/x.toml .`
            # silently lost constants, Go packages and versions (59 tasks became 21).
            _stderr(
                f"retrylint: warning: {path} is outside the project root {policy.root} (the "
                "folder of the policy file): constants, base classes, Go packages and framework "
                "versions are read only inside the root; keep the policy file in the project"
            )
    return policy


def _config_start(paths: list[Path]) -> Path:
    """Where config discovery starts: the first PATH, else the current directory."""
    start = paths[0] if paths else Path.cwd()
    return start.resolve() if start.exists() else Path.cwd()


def _analyze(
    paths: list[Path] | None,
    config: Path | None,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    extend_select: list[str] | None = None,
    per_file_ignores: list[str] | None = None,
    *,
    no_cache: bool = False,
    cache_dir: Path | None = None,
    jobs: int | None = None,
    machine: bool = False,
    today: date | None = None,
) -> engine.Report:
    """Run the engine; `machine` output (or `--quiet`) gets no progress bar on stderr."""
    targets = paths or [Path.cwd()]
    policy = _load(targets, config)
    cache = _open_cache(policy, no_cache, cache_dir, targets)
    with progress.shown_on(sys.stderr, os.environ, machine=machine) as shown:
        report = engine.run(
            targets,
            policy,
            select=select,
            ignore=ignore or (),
            extend_select=extend_select or (),
            per_file_ignores=per_file_ignores,
            workers=jobs,
            cache=cache,
            progress=shown,
            today=today,
        )
        if isinstance(shown, progress.TerminalProgress) and shown.shown:
            replay.spoil()  # a replay would not draw the bar again: its output is another
        return report


def _open_cache(
    policy: Policy,
    no_cache: bool,
    cache_dir: Path | None,
    targets: list[Path],
    *,
    readonly: bool = False,
) -> SummaryCache | None:
    if no_cache:
        return None
    return SummaryCache.open(_cache_directory(policy, cache_dir, targets), readonly=readonly)


def _cache_directory(policy: Policy, cache_dir: Path | None, targets: list[Path]) -> Path:
    """`--cache-dir` is relative to the current directory like every path on the command
    line; `cache-dir` in the config to the project root (CONTRACTS §1). A folder that holds
    the project is refused: the caches would record their own writes as changes to it (or
    ignore the sources as their own files), and its `.gitignore` of `*` would hide the
    project from git."""
    if cache_dir:
        directory = cache_dir.resolve()
    else:
        directory = (policy.root / (policy.cache_dir or DEFAULT_CACHE_DIRECTORY)).resolve()
    for inside in (policy.root, *targets):
        if engine.resolved(inside).is_relative_to(directory):
            shown = "--cache-dir" if cache_dir else "cache-dir"
            raise UsageError(
                f"{shown} {directory} holds the files it would cache ({inside}); name a "
                f"folder of its own, such as {DEFAULT_CACHE_DIRECTORY} in the project root"
            )
    return directory


def _console(color: Color = Color.auto, file: TextIO | None = None) -> Console:
    # rich drops colour by itself when the output is not a terminal or NO_COLOR is set; the
    # renderers fit their lines to the width (COLUMNS, the terminal's, else 80).
    out = file or sys.stdout
    width = terminal_width(out, os.environ)
    colour: dict[str, Any] = {}
    if color is Color.always:
        # A flag on the command line beats NO_COLOR (no-color.org) and the terminal check.
        colour = {"force_terminal": True, "no_color": False}
    elif color is Color.never:
        colour = {"color_system": None}
    return Console(file=out, highlight=False, soft_wrap=True, emoji=False, width=width, **colour)


@contextlib.contextmanager
def _destination(output_file: Path | None) -> Iterator[TextIO]:
    """stdout, or `--output-file`: written whole or not at all (an interrupted run must not
    leave half a SARIF file for the upload step)."""
    if output_file is None:
        yield sys.stdout
        return
    buffer = io.StringIO()
    yield buffer
    _write_report_file(output_file, buffer.getvalue(), f"--output-file {output_file}")


def _write_report_file(path: Path, text: str, shown: str) -> None:
    """A report file, its folder made first (as ruff does for `--output-file`): CI scripts name
    `reports/retrylint.sarif` before anything created `reports/`."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, text)
    except OSError as err:
        raise UsageError(f"{shown}: cannot write: {err.strerror or err}") from None


def _write(text: str) -> None:
    sys.stdout.write(text)


@app.command()
def check(
    paths: PathsArg = None,
    config: ConfigOpt = None,
    output_format: Annotated[
        CheckFormat, typer.Option("--format", help="Output format.")
    ] = CheckFormat.text,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    fail_on: Annotated[
        Level, typer.Option("--fail-on", help="Lowest severity that makes the exit code 1.")
    ] = Level.warning,
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Exit 0 even when findings remain.")
    ] = False,
    baseline_file: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            metavar="FILE",
            help="Report only findings beyond this baseline, and list its stale entries.",
        ),
    ] = None,
    write_baseline: Annotated[
        str | None,
        typer.Option(
            "--write-baseline",
            metavar="[FILE]",
            help="Freeze today's findings into FILE (default: the --baseline FILE, the "
            f"config's `baseline`, else {baseline.DEFAULT_FILE} in the project root).",
        ),
    ] = None,
    no_baseline: Annotated[
        bool,
        typer.Option("--no-baseline", help="Ignore the baseline the config names."),
    ] = False,
    diff_base: Annotated[
        str | None,
        typer.Option(
            "--diff-base",
            metavar="REF",
            help="Report only findings on tasks a change since the merge base of REF and HEAD "
            "(working tree included) could reach, e.g. origin/main in a pull request.",
        ),
    ] = None,
    extend_select: ExtendSelectOpt = None,
    per_file_ignores: PerFileIgnoresOpt = None,
    statistics: Annotated[
        bool,
        typer.Option("--statistics", help="Print the number of findings per rule instead."),
    ] = False,
    output_file: Annotated[
        Path | None,
        typer.Option("--output-file", "-o", help="Write the report to this file, not stdout."),
    ] = None,
    more_outputs: Annotated[
        list[str] | None,
        typer.Option(
            "--output",
            metavar="FORMAT:FILE",
            help="Also write a report in FORMAT to FILE, e.g. sarif:retrylint.sarif; repeat "
            "for more. The --format report still goes to stdout (or --output-file).",
        ),
    ] = None,
    quiet: QuietOpt = False,
    color: ColorOpt = Color.auto,
    no_cache: NoCacheOpt = False,
    cache_dir: CacheDirOpt = None,
    jobs: JobsOpt = None,
    watch_mode: Annotated[
        bool,
        typer.Option(
            "--watch",
            "-w",
            help="Check again whenever a scanned file or the policy file changes; Ctrl-C stops.",
        ),
    ] = False,
    today: Annotated[
        str | None,
        typer.Option(
            "--today",
            envvar="RETRYLINT_TODAY",
            metavar="YYYY-MM-DD",
            help="The day RL406 judges reviews on (default: the system clock's), so runs "
            "are reproducible.",
        ),
    ] = None,
    fix: Annotated[
        bool, typer.Option("--fix", help="Apply the safe fixes (RL101 bounds) to the files.")
    ] = False,
    show_diff: Annotated[
        bool,
        typer.Option(
            "--diff",
            help="Print the fixes as a unified diff and write nothing; exit 1 if there is one.",
        ),
    ] = False,
    unsafe_fixes: Annotated[
        bool,
        typer.Option(
            "--unsafe-fixes",
            help="Also apply fixes that change run-time behaviour (backoff and jitter).",
        ),
    ] = False,
) -> None:
    """Check every task against the policy; exit 1 when findings at or above --fail-on remain."""

    def rerun(original: Policy) -> fixing.Rerun:
        """Analysis of the edited copy, reading the project's cache (a copy keeps the files'
        times, so only the edited files are parsed again) without writing to it."""
        cache = _open_cache(original, no_cache, cache_dir, paths or [Path.cwd()], readonly=True)

        def run(policy: Policy, targets: list[Path]) -> engine.Report:
            return engine.run(
                targets,
                policy,
                select=select,
                ignore=ignore or (),
                extend_select=extend_select or (),
                per_file_ignores=per_file_ignores,
                workers=jobs,
                cache=cache,
                today=_day(today),
            )

        return run

    def body() -> int:
        day = _day(today)
        extra_outputs = [outputs.parse_output(value) for value in more_outputs or ()]
        outputs.check_outputs(extra_outputs, output_file)
        fixed: int | None = None
        report: engine.Report | None = None
        if show_diff or fix:
            first = _reported(day)
            fixes = fixing.find_fixes(
                first, paths or [Path.cwd()], rerun(first.policy), unsafe=unsafe_fixes
            )
            unconfirmed = len(fixing.planned(first, unsafe=unsafe_fixes)) - len(fixes.fixes)
            if unconfirmed:
                _stderr(
                    f"{unconfirmed} proposed fix{'' if unconfirmed == 1 else 'es'} left out: "
                    "analysed again, the fixed code kept the finding or gained another."
                )
            if show_diff:
                return _print_diff(fixes, first.policy.root)
            fixes.write(first.policy.root)
            fixed = len(fixes.fixes)
            # Nothing written, nothing to analyse again (it doubled `--fix` on a clean tree).
            report = None if fixed else first
        report = report or _reported(day)
        report = fixing.mark(report, fixing.planned(report, unsafe=True))
        report = replace(report, fixes=FixSummary(fixed, unsafe_fixes))
        shown.append(report)
        return _show(report, extra_outputs)

    def _reported(day: date | None) -> engine.Report:
        report = _analyze(
            paths,
            config,
            select,
            ignore,
            extend_select,
            per_file_ignores,
            no_cache=no_cache,
            cache_dir=cache_dir,
            jobs=jobs,
            machine=quiet or output_format is not CheckFormat.text,
            today=day,
        )
        # Identities are root-relative: the baseline applies before paths are re-based.
        frozen = _baseline(report, baseline_file, write_baseline, no_baseline)
        if frozen is not None:
            kept, outcome = baseline.apply(
                frozen,
                report.findings,
                rules=report.rules_run,
                complete=report.whole_project,
            )
            report = replace(report, findings=kept, baseline=outcome)
        if diff_base is not None:
            # After the baseline, which counts and lists stale entries over the whole run.
            from retrylint import diff

            changed = diff.changes(report.policy.root, diff_base)
            kept, left_out = diff.apply(report, changed)
            report = replace(report, findings=kept, diff=left_out)
        return report

    def _show(report: engine.Report, extra_outputs: list[outputs.Output]) -> int:
        failing = report.count(fail_on.value)
        exit_code = 1 if failing and not exit_zero else 0

        def write(out: TextIO, fmt: CheckFormat, *, primary: bool) -> None:
            outputs.write_report(
                out,
                fmt,
                report,
                paths,
                lambda stream: _console(color, stream),
                exit_code=exit_code,
                statistics=statistics and primary,
                quiet=quiet,
            )

        # The files first: a report that cannot be written stops the run before stdout says
        # anything, so a CI log never shows a result whose SARIF is missing.
        for extra in extra_outputs:
            buffer = io.StringIO()
            write(buffer, extra.format, primary=False)
            shown = f"--output {extra.format.value}:{extra.file}"
            _write_report_file(extra.file, buffer.getvalue(), shown)
        with _destination(output_file) as out:
            write(out, output_format, primary=True)
        if CheckFormat.github in {output_format, *(extra.format for extra in extra_outputs)}:
            _step_summary(outputs.shown_as(CheckFormat.github, report, paths)[0])
        return exit_code

    shown: list[engine.Report] = []  # the report `body` showed last
    if watch_mode:
        if write_baseline is not None:
            _fail("retrylint: error: --watch and --write-baseline do not mix: write it once")
        _watch(body, paths or [Path.cwd()], config)
        raise typer.Exit(0)
    # A check that writes only to stdout and stderr, from files alone, may be replayed.
    replayable = not (
        fix
        or show_diff
        or no_cache
        or write_baseline is not None
        or diff_base is not None
        or output_file is not None
        or more_outputs
        or output_format is CheckFormat.github
    )
    with replay.recording() as recording:
        code = _guard(body)
    last = shown[-1] if shown else None
    if recording is not None and replayable and last is not None and last.read_from is not None:
        policy = last.policy
        read = _policy_files(paths or [], config, policy)
        if baseline_file is not None:
            read.append(baseline_file.resolve())
        elif policy.baseline and not no_baseline:
            read.append(policy.root / policy.baseline)
        given = [*(paths or []), *(p for p in (config, baseline_file) if p is not None)]
        recording.keep(
            code,
            os.fspath(_cache_directory(policy, cache_dir, paths or [])),
            last.read_from,
            files=map(os.fspath, read),
            # SARIF and GitLab paths are relative to the git work tree holding the root.
            markers=[os.fspath(folder / ".git") for folder in (policy.root, *policy.root.parents)],
            links=[os.path.abspath(path) for path in given],
        )
    raise typer.Exit(code)


def _policy_files(paths: list[Path], config: Path | None, policy: Policy) -> list[Path]:
    """The files the policy came from: `--config`, else every file discovery looked at up to
    the one it took (a config created nearer than that one would be taken instead)."""
    if config is not None:
        return [config.resolve()]
    taken = policy.root / policy.path if policy.path else None
    looked: list[Path] = []
    for candidate in config_candidates(_config_start(paths)):
        looked.append(candidate)
        if candidate == taken:
            break
    return looked


def _print_diff(fixes: fixing.Outcome, root: Path) -> int:
    """`check --diff`: the patch on stdout, how many findings it fixes on stderr; exit 1 when
    there is a patch (ruff's `--diff`)."""
    cwd = Path.cwd()
    shown = {path: Path(os.path.relpath(root / path, cwd)).as_posix() for path in fixes.files}
    _write(fixes.diff(shown))
    count = len(fixes.fixes)
    _stderr(f"Would fix {count} finding{'' if count == 1 else 's'}.")
    return 1 if fixes.files else 0


def _watch(body: Callable[[], int], targets: list[Path], config: Path | None) -> None:
    """Run `body` now and after every change until Ctrl-C; a failed run (a half-edited policy
    file) prints its one line and waits for the fix, as every run's exit code is ignored."""

    def run() -> list[Path]:
        with contextlib.suppress(typer.Exit):
            _guard(body, watching=True)
        paths = _watched(targets, config)
        _stderr(f"Watching {len(paths)} files and folders for changes; press Ctrl-C to stop.")
        return paths

    from retrylint import watch

    def between() -> None:
        if sys.stdout.isatty():
            sys.stdout.write("\x1b[2J\x1b[3J\x1b[H")  # clear the screen and its scrollback
            sys.stdout.flush()

    watch.watch(run, between)


def _watched(targets: list[Path], config: Path | None) -> list[Path]:
    try:
        policy = _load(targets, config)
        files = engine.scanned_files(targets, policy)
        found = policy.root / policy.path if policy.path else None
    except (ConfigError, UsageError):
        # Until the policy loads again, watch the paths given and the policy file.
        files = list(targets)
        found = config or discover_config(_config_start(targets))
    from retrylint import watch

    return watch.watched([Path(os.path.abspath(f)) for f in files], found)


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return parse_day(text)
    except ValueError as err:
        raise UsageError(
            f"--today (or RETRYLINT_TODAY): {err}; write a date such as 2026-06-01"
        ) from None


def _step_summary(report: engine.Report) -> None:
    """Append the Markdown summary to the file GitHub names in `GITHUB_STEP_SUMMARY` (GitHub
    shows only 10 annotations per type per step). Appended, because other steps' summaries
    share the file; a failure to write is a warning, since the annotations are already out."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    server, repo, sha = (
        os.environ.get(key) for key in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA")
    )
    blob_url = f"{server}/{repo}/blob/{sha}" if server and repo and sha else None
    from retrylint.report.github_report import render_step_summary

    try:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(render_step_summary(report, blob_url=blob_url))
    except OSError as err:
        _stderr(
            f"retrylint: warning: cannot append the job summary to {target}: {err.strerror or err}"
        )


def _baseline(
    report: engine.Report, given: Path | None, write: str | None, ignore: bool
) -> baseline.Baseline | None:
    """The baseline this run applies, writing it first with `--write-baseline`.

    A FILE on the command line is relative to the current directory; the config's `baseline`
    and the default file are relative to the project root (CONTRACTS §1).
    """
    if given is not None and ignore:
        raise UsageError("--baseline and --no-baseline contradict each other; pass one")
    root = report.policy.root
    configured = root / report.policy.baseline if report.policy.baseline else None
    if write is not None:
        target = Path(write) if write else given or configured or root / baseline.DEFAULT_FILE
        shown = write or (given.as_posix() if given is not None else _shown(target))
        frozen = baseline.from_findings(shown, report.findings)
        _write_baseline(target, frozen)
        if not report.whole_project:
            _stderr(
                f"{frozen.file}: written from a run that did not cover the project root; "
                "findings outside PATHS are not in it"
            )
        return frozen
    if given is not None:
        return baseline.load(given, given.as_posix())
    if configured is not None and not ignore:
        return baseline.load(configured, _shown(configured))
    return None


def _write_baseline(target: Path, frozen: baseline.Baseline) -> None:
    # A FILE that is really a PATH (`--write-baseline src/app.py`) must not be overwritten.
    if target.is_dir() or (target.exists() and target.suffix != ".json"):
        raise baseline.BaselineError(
            f"{frozen.file}: exists and is not a .json baseline; name a .json file, or put "
            "--write-baseline after the paths"
        )
    try:
        _atomic_write(target, baseline.render(frozen))
    except OSError as err:
        reason = err.strerror or str(err)
        raise baseline.BaselineError(
            f"{frozen.file}: cannot write the baseline ({reason}); check the folder exists "
            "and is writable"
        ) from None
    total = sum(frozen.entries.values())
    _stderr(f"wrote {frozen.file}: {total} finding(s) as {len(frozen.entries)} entries")


def _shown(path: Path) -> str:
    """A path as messages show it: relative to the current directory when under it."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return absolute.as_posix()


@app.command()
def inventory(
    paths: PathsArg = None,
    config: ConfigOpt = None,
    output_format: Annotated[
        InventoryFormat, typer.Option("--format", help="Output format.")
    ] = InventoryFormat.table,
    explain: Annotated[
        str | None,
        typer.Option(
            "--explain",
            metavar="NAME",
            help="Show where each field of this task came from; NAME may be the end of the "
            "task name (after a `.` or `:`) or a glob, as long as it picks out one task.",
        ),
    ] = None,
    timeline: Annotated[
        bool,
        typer.Option(
            "--timeline",
            help="Draw each task's retries on a log time axis, fitted to the terminal width.",
        ),
    ] = False,
    color: ColorOpt = Color.auto,
    no_cache: NoCacheOpt = False,
    cache_dir: CacheDirOpt = None,
    jobs: JobsOpt = None,
) -> None:
    """List every task with its effective retry policy."""

    def body() -> None:
        if timeline and (explain is not None or output_format is not InventoryFormat.table):
            raise UsageError(
                "--timeline draws the table's tasks as timelines; drop --format or --explain"
            )
        machine = explain is None and not timeline and output_format is not InventoryFormat.table
        report = outputs.for_people(
            _analyze(
                paths, config, no_cache=no_cache, cache_dir=cache_dir, jobs=jobs, machine=machine
            ),
            paths,
        )
        if explain is not None:
            from retrylint.lookup import TaskLookupError, find_task

            try:
                name = find_task((row.name for row in report.rows if row.name), explain)
            except TaskLookupError as err:
                raise UsageError(f"--explain {err}") from None
            explain_task(report, name, _console(color))
        elif timeline:
            import shutil

            from retrylint.report.timeline import glyphs_for, render_timeline

            width = shutil.get_terminal_size().columns
            _write(render_timeline(report, width, glyphs_for(sys.stdout.encoding)))
        elif output_format is InventoryFormat.json:
            from retrylint.report.json_report import render_inventory

            _write(render_inventory(report))
        elif output_format is InventoryFormat.markdown:
            _write(render_inventory_markdown(report))
        else:
            render_inventory_table(report, _console(color))

    _guard(body)


@app.command()
def report(
    html: Annotated[
        Path,
        typer.Option(
            "--html",
            metavar="FILE",
            help="Write the self-contained HTML report (timelines and documented policies) here.",
        ),
    ],
    paths: PathsArg = None,
    config: ConfigOpt = None,
    outage: Annotated[
        str | None,
        typer.Option("--outage", help=OUTAGE_HELP + " Adds the outage simulation section."),
    ] = None,
    rate: RateOpt = None,
    no_cache: NoCacheOpt = False,
    cache_dir: CacheDirOpt = None,
    jobs: JobsOpt = None,
) -> None:
    """Write every task's retry timeline and documented policy as one HTML page."""

    def body() -> None:
        if rate and outage is None:
            raise UsageError(
                "--rate sets the enqueue rates of the outage simulation; add --outage "
                "(such as --outage 30m), or leave --rate out"
            )
        found = outputs.for_people(
            _analyze(paths, config, no_cache=no_cache, cache_dir=cache_dir, jobs=jobs), paths
        )
        simulation = None
        if outage is not None:
            from retrylint.simulate import simulate_report

            simulation = simulate_report(found, outage, rate or [])
        policy = found.policy
        shown = _shown(policy.root / policy.path) if policy.path else None
        if html.is_dir():
            raise UsageError(f"--html {html}: is a directory; name a file such as report.html")
        from retrylint.report.html_report import render_html

        try:
            _atomic_write(html, render_html(found, __version__, shown, simulation))
        except OSError as err:
            raise UsageError(f"--html {html}: cannot write: {err.strerror or err}") from None

    _guard(body)


@app.command()
def simulate(
    outage: Annotated[str, typer.Option("--outage", help=OUTAGE_HELP)],
    paths: PathsArg = None,
    config: ConfigOpt = None,
    rate: RateOpt = None,
    output_format: Annotated[
        SimulateFormat, typer.Option("--format", help="Output format.")
    ] = SimulateFormat.table,
    no_chart: Annotated[
        bool, typer.Option("--no-chart", help="Leave the attempts-per-second chart out.")
    ] = False,
    color: ColorOpt = Color.auto,
    no_cache: NoCacheOpt = False,
    cache_dir: CacheDirOpt = None,
    jobs: JobsOpt = None,
) -> None:
    """Attempts, retry storm, exhausted messages and backlog of each task during an outage."""

    def body() -> None:
        from retrylint.simulate import render, simulate_report

        machine = output_format is SimulateFormat.json
        report = outputs.for_people(
            _analyze(
                paths, config, no_cache=no_cache, cache_dir=cache_dir, jobs=jobs, machine=machine
            ),
            paths,
        )
        result = simulate_report(report, outage, rate or [])
        if machine:
            _write(render.render_json(result))
        else:
            render.render_table(result, _console(color), chart=not no_chart)

    _guard(body)


@app.command()
def alerts(
    paths: PathsArg = None,
    config: ConfigOpt = None,
    output_format: Annotated[
        AlertsFormat, typer.Option("--format", help="Rule format.")
    ] = AlertsFormat.prometheus,
    no_cache: NoCacheOpt = False,
    cache_dir: CacheDirOpt = None,
    jobs: JobsOpt = None,
) -> None:
    """Alerting rules per category for the tasks' exporters (Celery, Dramatiq, asynq)."""

    def body() -> None:
        from retrylint.alerts import build, render_prometheus

        report = _analyze(
            paths, config, no_cache=no_cache, cache_dir=cache_dir, jobs=jobs, machine=True
        )
        _write(render_prometheus(*build(report)))

    _guard(body)


@app.command()
def init(
    paths: PathsArg = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Where to write the policy file (default: retrylint.toml)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    update: Annotated[
        bool,
        typer.Option(
            "--update",
            help="Add the tasks found that no [tasks] key matches to the existing policy file "
            "(the one discovered, or --config), leaving everything in it as it is.",
        ),
    ] = False,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Write a starter policy: the built-in categories and every task found, as `default`.

    Discovery uses the policy file that `check` would use (its `task-decorators`, `source-roots`,
    `exclude`...), so `init` lists the tasks `inventory` lists.
    """

    def body() -> None:
        targets = paths or [Path.cwd()]
        if update:
            if output is not None or force:
                raise UsageError(
                    "--update edits the discovered policy file (or --config FILE); "
                    "--output and --force do not apply"
                )
            _update(targets, config, quiet=quiet)
            return
        destination = output or Path(CONFIG_NAMES[0])
        if destination.exists() and not force:
            raise UsageError(f"{destination} already exists; pass --force to overwrite it")
        policy = _load(targets, config)
        names = _task_names(targets, policy)
        _write_policy(
            destination,
            starter_policy(names),
            str(destination),
            "make its folder writable, or name another file with -o FILE",
        )
        if not quiet:
            _stderr(f"wrote {destination} with {len(names)} task(s)")

    _guard(body)


def _update(targets: list[Path], config: Path | None, *, quiet: bool) -> None:
    policy = _load(targets, config)
    if policy.path is None:
        raise UsageError(
            "init --update: no policy file found (retrylint.toml, .retrylint.toml or a "
            "pyproject.toml with [tool.retrylint]); run `retrylint init` to write one"
        )
    from retrylint.config.update import UpdateError, append_tasks

    path = policy.root / policy.path
    shown = _shown(path)
    try:
        text = path.read_bytes().decode("utf-8")
        result = append_tasks(
            text, policy, _task_names(targets, policy), pyproject=path.name == PYPROJECT
        )
    except UpdateError as err:
        raise UsageError(f"init --update {shown}: {err}") from None
    if result.text != text:
        _write_policy(path, result.text, shown, "make it and its folder writable")
    if quiet:
        return
    if result.commented:
        how = " as commented-out TODO lines; choose a category for each" if result.added else ""
    else:
        how = f' as "{policy.default_category}"' if result.added else ""
    _stderr(f"added {len(result.added)} task(s) to {shown}{how}")


def _write_policy(path: Path, text: str, shown: str, advice: str) -> None:
    """A folder that cannot be written is the user's to fix: one line, not an internal error."""
    try:
        _atomic_write(path, text)
    except OSError as err:
        reason = (err.strerror or str(err)).lower()
        raise UsageError(f"{shown}: cannot write the policy file ({reason}); {advice}") from None


def _task_names(targets: list[Path], policy: Policy) -> list[str]:
    """Every decided task name the engine finds under `targets` with `policy`, sorted."""
    report = engine.run(targets, policy)
    return sorted({r.name for r in report.rows if r.name})


def starter_policy(names: list[str]) -> str:
    """The built-in policy (CONTRACTS §2) written out, with every task listed under it."""
    from retrylint.config.update import TASKS_HINT, task_line

    lines = [
        "# retrylint policy: categories state the bounds; [tasks] puts each task in one.",
        "# Keys are task names as the framework registers them, or fnmatch globs.",
        'default-category = "default"',
        "",
        "[categories.default]",
        'description = "Built-in policy: bounded, exponential, jittered retries"',
        "max-retries = { max = 10 }",
        'backoff = "exponential"',
        "jitter = true",
        "",
        "[tasks]",
        *TASKS_HINT,
    ]
    lines.extend(task_line(name, "default") for name in names)
    return "\n".join(lines) + "\n"


def _atomic_write(path: Path, text: str) -> None:
    """Write through a temporary file and rename, so an interrupted run never leaves half a file."""
    import tempfile

    directory = path.resolve().parent
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        # mkstemp makes the file 0600; a replaced pyproject.toml keeps its mode, a new file
        # gets the one any editor would give it.
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@app.command()
def explain(code: Annotated[str, typer.Argument(help="A rule code such as RL101.")]) -> None:
    """Print a rule's documentation."""

    def body() -> None:
        key = code.strip().upper()
        if key not in RULES:
            by_name = {r.meta.name: c for c, r in RULES.items()}
            key = by_name.get(code.strip().lower(), "")
        if not key:
            raise UsageError(f"unknown rule {code!r}; run `retrylint rules` for the list")
        from retrylint.rules.docs import rule_doc

        doc = rule_doc(key)
        if doc is None:
            raise UsageError(f"the documentation of {key} is missing from this install")
        _write(doc if doc.endswith("\n") else doc + "\n")

    _guard(body)


@app.command()
def rules(
    output_format: Annotated[
        RulesFormat, typer.Option("--format", help="text or json.")
    ] = RulesFormat.text,
) -> None:
    """List every rule with its code, name and default severity."""
    metas = [RULES[c].meta for c in sorted(RULES)]
    if output_format is RulesFormat.json:
        data = [
            {"code": m.code, "name": m.name, "severity": m.severity, "summary": m.summary}
            for m in metas
        ]
        _write(json.dumps(data, indent=2) + "\n")
        return
    console = _console()
    width = max(len(m.name) for m in metas)
    for m in sorted(metas, key=lambda m: (m.code, -SEVERITY_RANK[m.severity])):
        console.print(f"{m.code}  {m.name:<{width}}  {m.severity:<7}  {escape(m.summary)}")


def _version(value: bool) -> None:
    if value:
        _write(f"retrylint {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """retrylint: retry policy linter for background tasks."""


def main() -> None:
    """Console entry point: usage errors become one stderr line, like every other failure."""
    if isinstance(sys.stdout, io.TextIOWrapper):
        # A report must not crash on a terminal that cannot show a character; escape it.
        sys.stdout.reconfigure(errors="backslashreplace")
    command = typer.main.get_command(app)
    try:
        code = command.main(args=sys.argv[1:], prog_name="retrylint", standalone_mode=False)
    except Exception as err:
        # typer bundles its own copy of click, so match click's exceptions by their interface.
        if type(err).__name__ == "NoArgsIsHelpError" and getattr(err, "ctx", None) is not None:
            sys.stdout.write(err.ctx.get_help() + "\n")  # type: ignore[attr-defined]
            sys.exit(2)
        if hasattr(err, "format_message") and hasattr(err, "exit_code"):
            _stderr(f"retrylint: error: {err.format_message()}")
            sys.exit(2 if err.exit_code not in (0, 1) else err.exit_code)
        if type(err).__name__ == "Abort":
            _stderr("retrylint: interrupted")
            sys.exit(2)
        raise
    sys.exit(code if isinstance(code, int) else 0)
