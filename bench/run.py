"""Measure retrylint against baselines, in one run, as ratios.

Usage:  python bench/run.py [PROJECT_DIR] [--repeat N] [--before REF]

Without PROJECT_DIR a synthetic Celery project is generated in a temporary directory (200
modules of about 300 lines, one in four holding tasks). Every timing is a median taken in this
run on the same files, so the ratios, not the seconds, are the result.

In this process:

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

With `--before REF` the same commands also run on retrylint as of the git revision REF (its
files exported to a temporary folder, run by this interpreter), and their ratios are printed.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
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
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider, QualifiedNameProvider

from retrylint import engine
from retrylint.config.policy import load_policy
from retrylint.frameworks import FRAMEWORKS, GO_ADAPTERS, PYTHON_ADAPTERS
from retrylint.python.extract import extract
from retrylint.rules import RULES
from retrylint.scan.files import FileRules, discover
from retrylint.scan.prefilter import needles

REPO = Path(__file__).resolve().parent.parent
# The baseline a warm run is held to: read every source file and look for any adapter's
# marker, a literal search first and the marker's regex only where a literal occurs (as
# `retrylint.scan.prefilter` does; the regex alone is several times slower).
_PREFILTER = """
import json, os, re, sys
checks = [
    (re.compile(p.encode("latin-1")), [n.encode("latin-1") for n in needles])
    for p, needles in json.loads(sys.argv[2])
]
skip = {".git", "node_modules", "__pycache__", ".venv", "venv", ".retrylint_cache"}
hits = 0
for folder, dirs, files in os.walk(sys.argv[1]):
    dirs[:] = [d for d in dirs if d not in skip]
    for name in files:
        if name.endswith((".py", ".go")):
            with open(os.path.join(folder, name), "rb") as handle:
                data = handle.read()
            hits += any(
                (not needles or any(n in data for n in needles)) and pattern.search(data)
                for pattern, needles in checks
            )
print(hits)
"""

_FILLER = '''
def helper_{i}(values, factor=3):
    """Unrelated code, as most of a real module is."""
    total = 0
    for index, value in enumerate(values):
        if value % 2 == 0 and index > factor:
            total += value * factor - index
        elif value in {{1, 2, 3}}:
            total -= sum(x for x in range(value) if x != index)
    return {{"total": total, "items": [v for v in values if v]}}


class Model{i}:
    table = "model_{i}"

    def save(self, *args, **kwargs):
        return super().save(*args, **kwargs)
'''
_TASKS = """
@app.task(bind=True, autoretry_for=(ConnectionError,), max_retries={n}, retry_backoff=True)
def task_{i}(self, item_id):
    try:
        return helper_{i}([item_id])
    except TimeoutError as exc:
        raise self.retry(exc=exc, countdown=2 ** self.request.retries)
"""


def generate(root: Path, modules: int = 200) -> None:
    pkg = root / "proj"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "app.py").write_text("from celery import Celery\napp = Celery('proj')\n")
    for m in range(modules):
        parts = ["from proj.app import app\n"] if m % 4 == 0 else []
        for i in range(12):
            parts.append(_FILLER.format(i=i))
            if m % 4 == 0 and i % 3 == 0:
                parts.append(_TASKS.format(i=i, n=i % 6))
        (pkg / f"mod_{m:03}.py").write_text("".join(parts))


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


def measured(command: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> int:
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
    env = {**os.environ, "PYTHONPATH": str(code)}
    env.pop("RETRYLINT_CACHE_DIR", None)
    # Bytecode is written in the warm-up round and read afterwards, as an installed wheel has
    # it: compiling retrylint's modules on every start would cost more than the scan of a file.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
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
    root: Path,
    one_file: Path | None,
    repeat: int,
    before: str | None,
    scratch: Path,
    peaks: Peaks | None = None,
    temporalint: str | None = None,
) -> dict[str, float]:
    """Timings of whole commands; keys ending in `@before` ran the code of `before`."""
    check = ["-m", "retrylint", "check", "--exit-zero", "--format", "json"]
    imports = ["-c", "import retrylint.cli"]
    cache = scratch / "cache"
    cached = [*check, "--cache-dir", str(cache)]

    def cold() -> int:
        shutil.rmtree(cache, ignore_errors=True)
        return process(REPO, [*cached, str(root)], root)()

    # In this order each round: `warm` and `one file` read the cache `cold` has just written.
    actions: dict[str, Callable[[], object]] = {
        "python": process(REPO, ["-c", "pass"], root),
        "import": process(REPO, imports, root),
        "cold": cold,
        "warm": process(REPO, [*cached, str(root)], root),
    }
    if one_file is not None:
        actions["one file"] = process(REPO, [*cached, str(one_file)], root)
    if before:
        code = export(before, scratch / "before")
        actions["import@before"] = process(code, imports, root)
        if (code / "retrylint" / "scan" / "cache.py").is_file():
            # A cache of its own: entries of two revisions must not answer for each other.
            old_cache = scratch / "cache-before"
            old = [*check, "--cache-dir", str(old_cache)]

            def cold_before() -> int:
                shutil.rmtree(old_cache, ignore_errors=True)
                return process(code, [*old, str(root)], root)()

            actions["cold@before"] = cold_before
            actions["warm@before"] = process(code, [*old, str(root)], root)
        else:  # before the cache existed every run was cold
            old = check
            actions["cold@before"] = process(code, [*check, str(root)], root)
        if one_file is not None:
            actions["one file@before"] = process(code, [*old, str(one_file)], root)
    markers = [a.markers for a in PYTHON_ADAPTERS] + [a.markers for a in GO_ADAPTERS]
    checks = json.dumps(
        [
            (m.pattern.decode("latin-1"), [n.decode("latin-1") for n in needles(m) or ()])
            for m in markers
        ]
    )
    actions["prefilter"] = process(REPO, ["-c", _PREFILTER, str(root), checks], root)
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if Path(ruff).exists():
        command = [ruff, "check", "--isolated", "--select", "ALL", "--no-cache", "--exit-zero"]
        actions["ruff"] = functools.partial(measured, [*command, "-q", str(root)], root)
    if temporalint and _imports_temporal(root):
        actions["temporalint"] = functools.partial(measured, [temporalint, str(root)], root)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("projects", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", help="a git revision of retrylint to compare with")
    parser.add_argument("--in-process", action="store_true", help="in-process timings too")
    parser.add_argument("--temporalint", help="the temporalint executable, as a baseline")
    args = parser.parse_args()
    load = os.getloadavg()
    table: list[tuple[str, dict[str, float], Peaks, int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        roots = [p.resolve() for p in args.projects] or [scratch / "project"]
        if not args.projects:
            generate(roots[0])
        for root in roots:
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
            one_file = min(chosen)[0] if chosen else None
            whole = whole_processes(
                root, one_file, args.repeat, args.before, scratch / root.name, peaks,
                args.temporalint,
            )  # fmt: skip
            for name, seconds in whole.items():
                print(f"{name:18} {seconds:8.3f} s")
            for label, top, bottom in _RATIOS:
                if top in whole and bottom in whole:
                    print(f"{label:28} {whole[top] / whole[bottom]:6.2f}")
            table.append((tree_label(root, roots), whole, peaks, len(chosen)))
    print()
    print(
        f"load average before {load[0]:.2f}, after {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs"
    )
    print(
        "| tree | candidates | cold s | warm s | one file s | cold / ruff ALL "
        "| cold / temporalint | warm / prefilter | peak MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, whole, peaks, candidates in table:

        def ratio(top: str, bottom: str, whole: dict[str, float] = whole) -> str:
            return f"{whole[top] / whole[bottom]:.2f}" if bottom in whole else "-"

        peak = max(peaks.get("cold", 0), peaks.get("warm", 0), peaks.get("one file", 0))
        print(
            f"| {name} | {candidates} | {whole['cold']:.2f} | {whole['warm']:.2f} "
            f"| {whole.get('one file', float('nan')):.2f} | {ratio('cold', 'ruff')} "
            f"| {ratio('cold', 'temporalint')} | {ratio('warm', 'prefilter')} "
            f"| {peak / 1024:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
