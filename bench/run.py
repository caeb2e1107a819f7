"""Measure retrylint's extraction against libcst baselines, in one run, as ratios.

Usage:  python bench/run.py [PROJECT_DIR] [--repeat N]

Without PROJECT_DIR a synthetic Celery project is generated in a temporary directory (200
modules of about 300 lines, one in four holding tasks). Every timing is taken in this process on
the same files, so the ratios, not the seconds, are the result:

- `parse`: `libcst.parse_module` on every task-bearing file (the floor: retrylint must parse);
- `naive`: parse plus whole-tree `PositionProvider` and `QualifiedNameProvider`, the way a
  straightforward libcst linter reads a file;
- `extract`: retrylint's per-file summary (parse plus targeted walks and positions);
- `check`: the whole engine on the project, single process (discovery, prefilter, parse,
  resolution, rules);
- `ruff`: `ruff check --select ALL --no-cache` on the whole project, when ruff is installed:
  the speed a pre-commit user already accepts from a linter.
"""

from __future__ import annotations

import argparse
import functools
import operator
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider, QualifiedNameProvider

from retrylint import engine
from retrylint.config.policy import load_policy
from retrylint.frameworks import FRAMEWORKS, PYTHON_ADAPTERS
from retrylint.python.extract import extract
from retrylint.rules import RULES

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.project.resolve() if args.project else Path(tmp)
        if args.project is None:
            generate(root)
        files = sorted(p for p in root.rglob("*.py") if ".venv" not in p.parts)
        sources = [p.read_bytes() for p in files]
        candidates = [s for s in sources if any(a.markers.search(s) for a in PYTHON_ADAPTERS)]
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

        policy = load_policy(None, known_rules=RULES, known_frameworks=FRAMEWORKS, cwd=root)

        def check() -> None:
            engine.run([root], policy, workers=1)

        timings = {
            "parse": best_of(args.repeat, parse),
            "naive": best_of(args.repeat, naive),
            "extract": best_of(args.repeat, extraction),
            "check": best_of(args.repeat, check),
        }
        ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
        if Path(ruff).exists():
            command = [
                ruff,
                "check",
                "--select",
                "ALL",
                "--no-cache",
                "--exit-zero",
                "-q",
                str(root),
            ]
            timings["ruff"] = best_of(
                args.repeat, lambda: subprocess.run(command, capture_output=True, check=False)
            )
    base = timings["parse"]
    print(f"{len(files)} files, {len(candidates)} candidates, {lines} candidate lines")
    for name, seconds in timings.items():
        print(f"{name:8} {seconds:8.3f} s   {seconds / base:5.2f} x parse")
    print(f"extract is {timings['naive'] / timings['extract']:.2f}x faster than naive")
    return 0


if __name__ == "__main__":
    sys.exit(main())
