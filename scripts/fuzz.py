#!/usr/bin/env python3
"""Long offline fuzz run: the strategies of `tests/test_fuzz.py`, at random, for many thousands of
examples. Every failure is saved (input and traceback) and the run goes on.

    python scripts/fuzz.py --examples 5000 --out /tmp/fuzz-failures
    python scripts/fuzz.py --only declarations --examples 20000

Targets: `programs` (hypothesmith grammar programs wrapped in a task module), `nodes`
(hypothesmith libcst-built programs, slower), `declarations` (every framework's retry options
with generated values), `policies`, `mutated` (edited valid policies), `text` (arbitrary text as
a policy). Each Python example is scanned twice in-process (same bytes required); every
`--batch` examples the batch is scanned together in-process and in worker processes (same bytes
required). Exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import hypothesmith  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.test_fuzz import (  # noqa: E402
    ConfigError,
    declarations,
    load_text,
    mutated_policies,
    policy_texts,
    programs,
    scan,
    wrap_program,
    write_module,
)


class Run:
    def __init__(self, out: Path, batch: int, workers: int) -> None:
        self.out = out
        self.batch = batch
        self.workers = workers
        self.examples = 0
        self.failures = 0
        self.pending: list[str] = []
        self.work = Path(tempfile.mkdtemp(prefix="retrylint-fuzz-"))

    def fail(self, target: str, text: str) -> None:
        self.failures += 1
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        folder = self.out / f"{target}-{digest}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "input.txt").write_text(text, encoding="utf-8", errors="surrogatepass")
        (folder / "traceback.txt").write_text(traceback.format_exc(), encoding="utf-8")
        print(f"  FAIL {target}: {folder}", flush=True)

    def python(self, target: str, text: str) -> None:
        self.examples += 1
        try:
            root = self.work / "one"
            write_module(root, text)
            first = scan(root)
            if scan(root) != first:
                raise AssertionError("two in-process scans differ")
        except Exception:
            self.fail(target, text)
        self.pending.append(text)
        if len(self.pending) >= self.batch:
            self.flush(target)

    def flush(self, target: str) -> None:
        """The batch as one project: in-process and in workers must give the same bytes."""
        batch, self.pending = self.pending, []
        if not batch:
            return
        root = self.work / "batch"
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir()
        for n, text in enumerate(batch):
            (root / f"mod_{n:03d}.py").write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            if scan(root, workers=1) != scan(root, workers=self.workers):
                raise AssertionError("in-process and worker scans differ")
        except Exception:
            self.fail(f"{target}-batch", "\n# ---- next module ----\n".join(batch))

    def policy(self, target: str, text: str) -> None:
        self.examples += 1
        root = self.work / "policy"
        root.mkdir(exist_ok=True)
        try:
            outcome = load_text(root, text)
            if isinstance(outcome, ConfigError):
                if outcome.line < 1 or outcome.column < 1 or "; " not in outcome.message:
                    raise AssertionError(f"badly formed refusal: {outcome}")
            else:
                outcome.exclude_spec()
                outcome.assign("app.tasks.charge")
        except Exception:
            self.fail(target, text)


def _drive(strategy: st.SearchStrategy[str], count: int, check: Callable[[str], None]) -> None:
    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        derandomize=False,
        phases=(Phase.generate,),
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(text: str) -> None:
        check(text)

    run()


def main(argv: list[str] | None = None) -> int:
    targets = ("programs", "nodes", "declarations", "policies", "mutated", "text")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=2000, help="examples per target")
    parser.add_argument("--only", choices=targets, action="append", help="run only these")
    parser.add_argument("--out", type=Path, default=Path("fuzz-failures"))
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args(argv)
    run = Run(args.out, args.batch, args.workers)
    strategies: dict[str, tuple[st.SearchStrategy[str], Callable[[str, str], None]]] = {
        "programs": (programs, run.python),
        "nodes": (
            st.builds(wrap_program, hypothesmith.from_node(), st.booleans()),
            run.python,
        ),
        "declarations": (declarations(), run.python),
        "policies": (policy_texts(), run.policy),
        "mutated": (mutated_policies(), run.policy),
        "text": (st.text(max_size=400), run.policy),
    }
    started = time.perf_counter()
    try:
        for name in args.only or targets:
            strategy, check = strategies[name]
            before, clock = run.examples, time.perf_counter()
            _drive(strategy, args.examples, lambda text, name=name, check=check: check(name, text))
            run.flush(name)
            print(
                f"{name}: {run.examples - before} examples in {time.perf_counter() - clock:.0f}s",
                flush=True,
            )
    finally:
        shutil.rmtree(run.work, ignore_errors=True)
    print(
        f"\n{run.examples} examples, {run.failures} failures, {time.perf_counter() - started:.0f}s"
    )
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
