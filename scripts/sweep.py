#!/usr/bin/env python3
"""Corpus sweep: run retrylint over real repositories and CPython's own `Lib/`.

For each directory it runs `retrylint check` and `retrylint inventory` (JSON, in a fresh
interpreter, as a user would) and reports crashes (exit 2, anything on stderr), tasks, findings,
RL000 reasons, undecided values (RL002) and time. With `--parse-all` it also parses *every*
`.py` file through the worker pool, not only those the prefilter picks, to test the parser on
everything the directory holds.

The repositories are fetched by hand into local directories; nothing of theirs is committed.

    python scripts/sweep.py --stdlib /work/corpora/*/
    python scripts/sweep.py --parse-all --json sweep.json --stdlib ../corpora/saleor

Exit status: 0 when nothing crashed, 1 when something did.
"""

from __future__ import annotations

import argparse
import collections
import functools
import json
import operator
import os
import re
import subprocess
import sys
import sysconfig
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from retrylint.frameworks import PYTHON_ADAPTERS  # noqa: E402
from retrylint.python import ir  # noqa: E402
from retrylint.scan import pool  # noqa: E402
from retrylint.scan.python_parse import ParseProblem  # noqa: E402

CRASH_WORDS = ("parser crashed", "too slow")


@dataclass
class Result:
    target: str
    check_exit: int = 0
    inventory_exit: int = 0
    check_seconds: float = 0.0
    inventory_seconds: float = 0.0
    stderr: list[str] = field(default_factory=list)
    files_scanned: int = 0
    files_skipped: int = 0
    tasks: int = 0
    undecided: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)
    by_framework: dict[str, int] = field(default_factory=dict)
    rl000: dict[str, int] = field(default_factory=dict)
    rl000_examples: dict[str, str] = field(default_factory=dict)
    parse_all_files: int = 0
    parse_all_failed: dict[str, int] = field(default_factory=dict)
    parse_all_examples: dict[str, str] = field(default_factory=dict)
    parse_all_seconds: float = 0.0
    crashes: list[str] = field(default_factory=list)


def _reason(message: str) -> str:
    """A finding's message without file-specific details, for grouping."""
    message = message.removeprefix("cannot analyze this file: ")
    message = re.sub(r"position \d+", "position N", message)
    message = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", message)
    message = re.sub(r"\d+(\.\d+)?", "N", message)
    return message[:100]


def _run(args: list[str], cwd: Path) -> tuple[int, str, str, float]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("RETRYLINT_DEBUG", None)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "retrylint", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    return (
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
        elapsed,
    )


def sweep(target: Path, parse_all: bool, workers: int) -> Result:
    result = Result(str(target))
    code, out, err, seconds = _run(["check", "--format", "json", "--exit-zero", "."], target)
    result.check_exit, result.check_seconds = code, seconds
    if err.strip():
        result.stderr.append(f"check: {err.strip()}")
    if code == 0:
        data = json.loads(out)
        summary = data["summary"]
        result.files_scanned = summary["files_scanned"]
        result.files_skipped = summary["files_skipped"]
        result.tasks = summary["tasks"]
        result.undecided = summary["undecided"]
        result.by_rule = dict(sorted(summary["by_rule"].items()))
        reasons: collections.Counter[str] = collections.Counter()
        for finding in data["findings"]:
            if finding["rule"] == "RL000":
                reason = _reason(finding["message"])
                reasons[reason] += 1
                result.rl000_examples.setdefault(
                    reason, f"{finding['path']}:{finding['line']}:{finding['column']}"
                )
                if any(word in finding["message"] for word in CRASH_WORDS):
                    result.crashes.append(f"{finding['path']}: {finding['message']}")
        result.rl000 = dict(reasons.most_common())
    else:
        result.crashes.append(f"check exited {code}: {err.strip()[-300:]}")

    code, out, err, seconds = _run(["inventory", "--format", "json", "."], target)
    result.inventory_exit, result.inventory_seconds = code, seconds
    if err.strip():
        result.stderr.append(f"inventory: {err.strip()}")
    if code == 0:
        frameworks = collections.Counter(row["framework"] for row in json.loads(out)["tasks"])
        result.by_framework = dict(sorted(frameworks.items()))
    else:
        result.crashes.append(f"inventory exited {code}: {err.strip()[-300:]}")

    if parse_all:
        _parse_everything(target, workers, result)
    return result


def _parse_everything(target: Path, workers: int, result: Result) -> None:
    """Every `.py` file under `target` through the pool, whatever the prefilter would say."""
    from retrylint.scan.files import FileRules, discover

    # Every file means test code and ignored files too: a parser crash hides anywhere.
    rules = FileRules(include_tests=True, respect_gitignore=False)
    files = discover([target], target, rules).files
    interest = functools.reduce(operator.or_, (a.interest for a in PYTHON_ADAPTERS))
    jobs: list[pool.Job] = [
        (str(f.absolute), f.path, f.path.removesuffix(".py").replace("/", "."), interest)
        for f in files
        if f.language == "python"
    ]
    started = time.perf_counter()
    outcomes = pool.parse_all(jobs, workers)
    result.parse_all_seconds = time.perf_counter() - started
    result.parse_all_files = len(jobs)
    failed: collections.Counter[str] = collections.Counter()
    for outcome in outcomes:
        if isinstance(outcome, ParseProblem):
            reason = _reason(outcome.message)
            failed[reason] += 1
            result.parse_all_examples.setdefault(
                reason, f"{outcome.path}:{outcome.line}:{outcome.column}"
            )
            if any(word in outcome.message for word in CRASH_WORDS):
                result.crashes.append(f"parse-all {outcome.path}: {outcome.message}")
        else:
            assert isinstance(outcome, ir.ModuleSummary)
    result.parse_all_failed = dict(failed.most_common())


def _print(result: Result) -> None:
    print(f"== {result.target}")
    print(
        f"   check {result.check_seconds:.1f}s (exit {result.check_exit}), inventory "
        f"{result.inventory_seconds:.1f}s (exit {result.inventory_exit}); "
        f"{result.files_scanned} files scanned, {result.files_skipped} skipped; "
        f"{result.tasks} tasks {result.by_framework}; {result.undecided} undecided"
    )
    print(f"   findings by rule: {result.by_rule}")
    for reason, count in result.rl000.items():
        print(f"   RL000 x{count}: {reason}  (e.g. {result.rl000_examples[reason]})")
    if result.parse_all_files:
        ok = result.parse_all_files - sum(result.parse_all_failed.values())
        print(
            f"   parse-all: {ok}/{result.parse_all_files} parsed in {result.parse_all_seconds:.1f}s"
        )
        for reason, count in result.parse_all_failed.items():
            print(f"     x{count}: {reason}  (e.g. {result.parse_all_examples[reason]})")
    for line in result.stderr:
        print(f"   STDERR {line[:300]}")
    for crash in result.crashes:
        print(f"   CRASH {crash}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", type=Path, help="repository directories")
    parser.add_argument("--stdlib", action="store_true", help="also sweep CPython's Lib/")
    parser.add_argument("--parse-all", action="store_true", help="parse every .py file too")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    args = parser.parse_args(argv)
    targets: list[Path] = [t.resolve() for t in args.targets]
    if args.stdlib:
        targets.append(Path(sysconfig.get_paths()["stdlib"]).resolve())
    if not targets:
        parser.error("name at least one directory, or --stdlib")
    results = []
    for target in targets:
        result = sweep(target, args.parse_all, args.workers)
        _print(result)
        results.append(result)
    crashed = [r for r in results if r.crashes or r.stderr]
    total = sum(r.check_seconds + r.inventory_seconds + r.parse_all_seconds for r in results)
    print(
        f"\n{len(results)} targets, {sum(r.tasks for r in results)} tasks, "
        f"{sum(r.undecided for r in results)} undecided, "
        f"{sum(len(r.crashes) for r in results)} crashes, {total:.1f}s"
    )
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
