"""Measure retrylint against baselines, in one run, as ratios.

Usage:  python bench/run.py [TREE ...] [--synthetic] [--synthetic-lines N] [--repeat N]
                            [--before REF] [--in-process] [--temporalint EXE]

Without a TREE, or with `--synthetic`, a synthetic project of about a million lines is generated
in a temporary folder from a fixed seed (`bench/synth.py`: 3% task files across every framework
retrylint reads, asynq in Go included; the other 97% ordinary modules the prefilter still reads).
Every timing is a median taken in this run on the same files, so the ratios, not the seconds,
are the result.

In this process (with `--in-process`, or when one tree is measured):

- `parse`: `libcst.parse_module` on every task-bearing file (the floor: retrylint must parse);
- `naive`: parse plus whole-tree `PositionProvider` and `QualifiedNameProvider`, the way a
  straightforward libcst linter reads a file;
- `extract`: retrylint's per-file summary (parse plus targeted walks and positions);
- `check`: the whole engine on the project, single process (discovery, prefilter, parse,
  resolution, rules);

As whole processes (start-up included), each a fresh interpreter:

- `python`: `python -c pass`, the floor of any command;
- `import`: `import retrylint.cli`;
- `cold`, `warm`: `retrylint check` with an empty cache, then with the cache it left;
- `one file`: `retrylint check` on one task file with a warm cache;
- `prefilter`: a process that reads every `.py`/`.go` file and searches it for the union of all
  adapters' markers (what a warm run cannot avoid);
- `ruff`: `ruff check --isolated --select ALL --no-cache`, when ruff is installed: the speed a
  pre-commit user already accepts from a linter;
- `temporalint`: the Temporal-only linter named by `--temporalint`, on trees that import
  `temporalio` (the baseline where nearly every file holds a Temporal definition).

With several trees, the same commands also run once over all of them together: one `check`
process given every tree, as `retrylint check .` in a folder of checkouts. Its cold time is
printed against the sum of the trees' cold medians, since one run over everything must cost no
more than the runs one by one (issue 11); its `cold` is the same command as each tree's (an
empty cache folder that the run fills), so the ratio compares like with like. The trees are
given as links in a temporary folder, run from there: that folder is the project root, and each
tree is inside it. Their common folder is no substitute (for corpora and a synthetic tree under
/tmp it is `/`, and the asynq adapter then reads Go packages from the whole file system), nor
are their own paths given from elsewhere (outside the project root, retrylint reads no Go
package or constant across files: convoy's 59 rows became 39, none of them named).

With `--before REF` the same commands also run on retrylint as of the git revision REF (its
files exported to a temporary folder, run by this interpreter), and their ratios are printed.

Child processes run without `PYTHONDONTWRITEBYTECODE` (which some sandboxes and CI images set):
with it, every timed Python process (retrylint, each of its parser workers, temporalint)
recompiled every module it imported, about 0.15 s per process that an installed package never
pays, since bytecode is written in the warm-up round and read afterwards.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import math
import operator
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
import synth  # bench/synth.py: this script's folder is first on sys.path
from libcst.metadata import MetadataWrapper, PositionProvider, QualifiedNameProvider

from retrylint import engine
from retrylint.config.policy import load_policy
from retrylint.frameworks import FRAMEWORKS, GO_ADAPTERS, PYTHON_ADAPTERS
from retrylint.python.extract import extract
from retrylint.rules import RULES
from retrylint.scan.files import FileRules, discover
from retrylint.scan.prefilter import AllOf, needles

REPO = Path(__file__).resolve().parent.parent
# The environment of every timed command (see the module docstring for why bytecode is kept).
CHILD_ENV = {
    k: v
    for k, v in os.environ.items()
    if k not in {"PYTHONDONTWRITEBYTECODE", "RETRYLINT_CACHE_DIR", "PYTHONPATH"}
}
# The baseline a warm run is held to: read every source file and look for any adapter's
# marker, a literal search first and the marker's regex only where a literal occurs (as
# `retrylint.scan.prefilter` does; the regex alone is several times slower). Every folder
# after the markers is walked.
_PREFILTER = """
import json, os, re, sys
checks = [
    ([re.compile(p.encode("latin-1")) for p in patterns], [n.encode("latin-1") for n in needles])
    for patterns, needles in json.loads(sys.argv[1])
]
skip = {".git", "node_modules", "__pycache__", ".venv", "venv", ".retrylint_cache"}
hits = 0
for root in sys.argv[2:]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in skip]
        for name in files:
            if name.endswith((".py", ".go")):
                with open(os.path.join(folder, name), "rb") as handle:
                    data = handle.read()
                hits += any(
                    (not needles or any(n in data for n in needles))
                    and all(pattern.search(data) for pattern in patterns)
                    for patterns, needles in checks
                )
print(hits)
"""


def best_of(repeat: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def export(ref: str, into: Path) -> Path:
    """retrylint's package as of `ref`, unpacked under `into` (nothing else of the tree)."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", ref, "retrylint"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def measured(command: Sequence[str], cwd: Path, env: dict[str, str] = CHILD_ENV) -> int:
    """Run `command` to its end, output discarded; its peak resident size in KiB, the
    largest of the process and of the children it waited for (Linux `wait4`)."""
    child = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _pid, _status, usage = os.wait4(child.pid, 0)
    child.returncode = 0  # reaped above; keeps Popen from waiting again
    return int(usage.ru_maxrss)


def process(code: Path, argv: Sequence[str], cwd: Path) -> Callable[[], int]:
    """A fresh interpreter running `argv` with the retrylint package found in `code`."""
    env = {**CHILD_ENV, "PYTHONPATH": str(code)}
    command = [sys.executable, *argv]
    return functools.partial(measured, command, cwd, env)


Peaks = dict[str, int]


def interleaved(
    repeat: int, actions: dict[str, Callable[[], object]], peaks: Peaks | None = None
) -> dict[str, float]:
    """Median time of each action, run in turn after one warm-up round: on a shared machine a
    load spike then slows every command of a round, not one command's every run. An action
    that returns an int reports its peak memory in KiB; the largest goes into `peaks`."""
    times: dict[str, list[float]] = {name: [] for name in actions}
    for round_ in range(repeat + 1):
        for name, action in actions.items():
            start = time.perf_counter()
            rss = action()
            if round_:
                times[name].append(time.perf_counter() - start)
            if peaks is not None and isinstance(rss, int):
                peaks[name] = max(peaks.get(name, 0), rss)
    return {name: statistics.median(values) for name, values in times.items()}


def whole_processes(
    paths: Sequence[Path],
    cwd: Path,
    one_file: Path | None,
    repeat: int,
    before: str | None,
    scratch: Path,
    peaks: Peaks | None = None,
    temporalint: str | None = None,
) -> dict[str, float]:
    """Timings of whole commands run from `cwd` on `paths`; keys ending in `@before` ran the
    code of `before`."""
    check = ["-m", "retrylint", "check", "--exit-zero", "--format", "json"]
    imports = ["-c", "import retrylint.cli"]
    cache = scratch / "cache"
    cached = [*check, "--cache-dir", str(cache)]
    targets = [str(p) for p in paths]

    def cold() -> int:
        shutil.rmtree(cache, ignore_errors=True)
        return process(REPO, [*cached, *targets], cwd)()

    # In this order each round: `warm` and `one file` read the cache `cold` has just written.
    actions: dict[str, Callable[[], object]] = {
        "python": process(REPO, ["-c", "pass"], cwd),
        "import": process(REPO, imports, cwd),
        "cold": cold,
        "warm": process(REPO, [*cached, *targets], cwd),
    }
    if one_file is not None:
        actions["one file"] = process(REPO, [*cached, str(one_file)], cwd)
    if before:
        code = export(before, scratch / "before")
        actions["import@before"] = process(code, imports, cwd)
        if (code / "retrylint" / "scan" / "cache.py").is_file():
            # A cache of its own: entries of two revisions must not answer for each other.
            old_cache = scratch / "cache-before"
            old = [*check, "--cache-dir", str(old_cache)]

            def cold_before() -> int:
                shutil.rmtree(old_cache, ignore_errors=True)
                return process(code, [*old, *targets], cwd)()

            actions["cold@before"] = cold_before
            actions["warm@before"] = process(code, [*old, *targets], cwd)
        else:  # before the cache existed every run was cold
            old = check
            actions["cold@before"] = process(code, [*check, *targets], cwd)
        if one_file is not None:
            actions["one file@before"] = process(code, [*old, str(one_file)], cwd)
    markers = [a.markers for a in PYTHON_ADAPTERS] + [a.markers for a in GO_ADAPTERS]
    checks = json.dumps(
        [
            (
                [
                    p.pattern.decode("latin-1")
                    for p in (m.patterns if isinstance(m, AllOf) else (m,))
                ],
                [n.decode("latin-1") for n in needles(m) or ()],
            )
            for m in markers
        ]
    )
    actions["prefilter"] = process(REPO, ["-c", _PREFILTER, checks, *targets], cwd)
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if Path(ruff).exists():
        command = [ruff, "check", "--isolated", "--select", "ALL", "--no-cache", "--exit-zero"]
        actions["ruff"] = functools.partial(measured, [*command, "-q", *targets], cwd)
    if temporalint and all(_imports_temporal(p) for p in paths):
        actions["temporalint"] = functools.partial(measured, [temporalint, *targets], cwd)
    return interleaved(repeat, actions, peaks)


def _imports_temporal(root: Path) -> bool:
    """Whether the tree uses the Temporal SDK, the only trees temporalint has anything to say
    about; a cheap look at the first Python files that name it."""
    for path in root.rglob("*.py"):
        try:
            if b"temporalio" in path.read_bytes():
                return True
        except OSError:
            continue
    return False


def in_process(root: Path, repeat: int) -> tuple[dict[str, float], str]:
    """Parse, naive, extract and check timings in this process, and a line describing the
    candidates."""
    policy = load_policy(None, known_rules=RULES, known_frameworks=FRAMEWORKS, cwd=root)
    candidates = [s for _, s in candidate_files(root)]
    interest = functools.reduce(operator.or_, (a.interest for a in PYTHON_ADAPTERS))
    lines = sum(s.count(b"\n") for s in candidates)

    def parse() -> None:
        for s in candidates:
            cst.parse_module(s)

    def naive() -> None:
        for s in candidates:
            wrapper = MetadataWrapper(cst.parse_module(s))
            wrapper.resolve(PositionProvider)
            wrapper.resolve(QualifiedNameProvider)

    def extraction() -> None:
        for s in candidates:
            extract(cst.parse_module(s), "m.py", "m", interest)

    def check() -> None:
        engine.run([root], policy, workers=1)

    timings = {
        "parse": best_of(repeat, parse),
        "naive": best_of(repeat, naive),
        "extract": best_of(repeat, extraction),
        "check": best_of(repeat, check),
    }
    return timings, f"{len(candidates)} candidates, {lines} candidate lines"


def candidate_files(root: Path) -> list[tuple[Path, bytes]]:
    """The Python files of the tree that name a framework, with their bytes."""
    policy = load_policy(None, known_rules=RULES, known_frameworks=FRAMEWORKS, cwd=root)
    discovered = discover([root], root, FileRules(policy.exclude_spec()))
    chosen = []
    for f in discovered.files:
        if f.language != "python":
            continue
        data = f.absolute.read_bytes()
        if any(a.markers.search(data) for a in PYTHON_ADAPTERS):
            chosen.append((f.absolute, data))
    return chosen


_RATIOS = (
    ("cold check / ruff ALL", "cold", "ruff"),
    ("cold check / temporalint", "cold", "temporalint"),
    ("warm check / prefilter", "warm", "prefilter"),
    ("warm check / cold check", "warm", "cold"),
    ("one file (warm) / python", "one file", "python"),
    ("import / before", "import", "import@before"),
    ("cold check / before", "cold", "cold@before"),
    ("warm check / before", "warm", "warm@before"),
    ("one file (warm) / before", "one file", "one file@before"),
)


def tree_label(root: Path, roots: Sequence[Path]) -> str:
    """The tree's path below the folder all trees share (`polar`, `agenta/api`)."""
    common = Path(os.path.commonpath(roots)) if len(roots) > 1 else root.parent
    return root.relative_to(common).as_posix()


@dataclass
class Measured:
    """One row of the table."""

    label: str
    whole: dict[str, float]
    peaks: Peaks
    candidates: int
    synthetic: bool = False
    together: bool = False  # every tree in one run

    def peak_mb(self) -> float:
        """The largest resident size of a `check` run (its workers included), in MB."""
        names = ("cold", "warm", "one file")
        return max(self.peaks.get(n, 0) for n in names) / 1024


def print_whole(whole: dict[str, float]) -> None:
    for name, seconds in whole.items():
        print(f"{name:18} {seconds:8.3f} s")
    for label, top, bottom in _RATIOS:
        if top in whole and bottom in whole:
            print(f"{label:28} {whole[top] / whole[bottom]:6.2f}")


def print_table(table: list[Measured]) -> None:
    """The table of issue 11: one row per tree, then all trees in one run."""
    trees = [m for m in table if not m.together]
    alone = sum(m.whole["cold"] for m in trees)
    print(
        "| tree | candidates | cold s | warm s | one file s | cold / ruff ALL "
        "| cold / temporalint | warm / prefilter | cold / sum of trees | peak MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for m in table:
        whole = m.whole

        def ratio(top: str, bottom: str, whole: dict[str, float] = whole) -> str:
            return f"{whole[top] / whole[bottom]:.2f}" if bottom in whole else "-"

        one_file = f"{whole['one file']:.2f}" if "one file" in whole else "-"
        summed = f"{whole['cold'] / alone:.2f}" if m.together else "-"
        print(
            f"| {m.label} | {m.candidates} | {whole['cold']:.2f} | {whole['warm']:.2f} "
            f"| {one_file} | {ratio('cold', 'ruff')} | {ratio('cold', 'temporalint')} "
            f"| {ratio('warm', 'prefilter')} | {summed} | {m.peak_mb():.0f} |"
        )
    # The cold target of issue 11 is a geometric mean over the real Python trees.
    python = [m for m in trees if not m.synthetic and m.candidates and "ruff" in m.whole]
    if python:
        mean = math.exp(
            statistics.fmean(math.log(m.whole["cold"] / m.whole["ruff"]) for m in python)
        )
        names = ", ".join(m.label for m in python)
        print(f"\ncold / ruff ALL, geometric mean over {len(python)} Python trees: {mean:.2f}")
        print(f"({names})")
    for m in table:
        if m.together:
            print(
                f"all {len(trees)} trees in one run: cold {m.whole['cold']:.2f} s against "
                f"{alone:.2f} s one by one ({m.whole['cold'] / alone:.2f}), "
                f"peak {m.peak_mb():.0f} MB"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("projects", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument("--before", help="a git revision of retrylint to compare with")
    parser.add_argument("--in-process", action="store_true", help="in-process timings too")
    parser.add_argument("--temporalint", help="the temporalint executable, as a baseline")
    parser.add_argument(
        "--synthetic",
        action="store_true",
        help="add the synthetic tree to the trees given (the default when none is)",
    )
    parser.add_argument(
        "--synthetic-lines",
        type=int,
        default=synth.LINES,
        help=f"size of the synthetic tree (default {synth.LINES})",
    )
    args = parser.parse_args()
    if args.temporalint:
        # Each timed command runs in its tree's folder: a relative path would not be found.
        found = shutil.which(args.temporalint)
        if found is None:
            parser.error(f"--temporalint {args.temporalint}: no such executable")
        args.temporalint = str(Path(found).resolve())
    load = os.getloadavg()
    table: list[Measured] = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        roots = [p.resolve() for p in args.projects]
        labels = {root: tree_label(root, roots) for root in roots}
        synthetic: synth.Tree | None = None
        if args.synthetic or not roots:
            root = scratch / "synthetic"
            started = time.perf_counter()
            synthetic = synth.generate(root, args.synthetic_lines)
            print(
                f"== synthetic tree (seed {synth.SEED}), written in "
                f"{time.perf_counter() - started:.1f} s: {synthetic.lines} lines in "
                f"{synthetic.python_files} Python and {synthetic.go_files} Go files, "
                f"{synthetic.task_files} of them declaring {len(synthetic.rows)} inventory rows"
            )
            print("   rows per framework:", synthetic.per_framework())
            roots.append(root)
            labels[root] = f"synthetic, {synthetic.lines:,} lines"
        for index, root in enumerate(roots):
            chosen = candidate_files(root)
            print(f"== {root}: {len(chosen)} candidate Python files")
            if args.in_process or len(roots) == 1:
                timings, described = in_process(root, args.repeat)
                base = timings["parse"]
                print(described)
                for name, seconds in timings.items():
                    print(f"{name:12} {seconds:8.3f} s   {seconds / base:5.2f} x parse")
                print(f"extract is {timings['naive'] / timings['extract']:.2f}x faster than naive")
            peaks: Peaks = {}
            is_synthetic = synthetic is not None and root == roots[-1]
            one_file = min(chosen)[0] if chosen else None
            if synthetic is not None and is_synthetic:
                # A file that declares tasks, not the first one naming a framework (manage.py).
                one_file = root / min(r.path for r in synthetic.rows if r.framework == "celery")
            whole = whole_processes(
                [root], root, one_file, args.repeat, args.before, scratch / f"tree{index}", peaks,
                args.temporalint,
            )  # fmt: skip
            print_whole(whole)
            table.append(Measured(labels[root], whole, peaks, len(chosen), is_synthetic))
        if len(roots) > 1:
            shared = scratch / "together"
            links = []
            for index, root in enumerate(roots):
                link = shared / (root.name if root.name not in links else f"{root.name}-{index}")
                link.parent.mkdir(exist_ok=True)
                link.symlink_to(root, target_is_directory=True)
                links.append(link.name)
            print(f"== all {len(roots)} trees in one run, from {shared}: {' '.join(links)}")
            peaks = {}
            whole = whole_processes(
                [Path(n) for n in links], shared, None, args.repeat, None, scratch / "all", peaks
            )
            print_whole(whole)
            candidates = sum(m.candidates for m in table)
            table.append(Measured("all trees in one run", whole, peaks, candidates, together=True))
    print()
    print(
        f"load average before {load[0]:.2f}, after {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs"
    )
    print_table(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
