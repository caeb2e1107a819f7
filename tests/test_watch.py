"""`check --watch`: the change detection with an injected clock and poller, and the command
end to end with a sleep that edits a file, then presses Ctrl-C."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retrylint import watch
from retrylint.cli import app
from tests.conftest import write_project

TASKS = """
from celery import shared_task

@shared_task(autoretry_for=(IOError,), max_retries=None)
def poll():
    ...
"""


class Clock:
    """Stands in for `time.sleep`: each call is one poll interval, and a script of edits runs
    at given intervals; past the script, Ctrl-C."""

    def __init__(self, edits: dict[int, object], stop_after: int) -> None:
        self.edits = edits
        self.stop_after = stop_after
        self.calls = 0
        self.slept = 0.0

    def __call__(self, seconds: float) -> None:
        self.calls += 1
        self.slept += seconds
        if self.calls > self.stop_after:
            raise KeyboardInterrupt
        edit = self.edits.get(self.calls)
        if callable(edit):
            edit()


def _stamps(state: dict[str, int]) -> watch.Snapshot:
    return {key: (value, 0) for key, value in state.items()}


def test_runs_once_until_something_changes() -> None:
    state = {"a.py": 1}
    runs: list[int] = []

    def run() -> list[Path]:
        runs.append(1)
        return [Path("a.py")]

    def poll(paths: Iterable[Path]) -> watch.Snapshot:
        return _stamps({str(p): state[str(p)] for p in paths})

    def change() -> None:
        state["a.py"] += 1

    clock = Clock({3: change, 7: change}, stop_after=10)
    cleared: list[int] = []
    watch.watch(run, lambda: cleared.append(1), sleep=clock, stamp=poll)
    assert len(runs) == 3  # the first run, then one per change
    assert len(cleared) == 2
    assert clock.slept == pytest.approx(0.5 * clock.calls)


def test_a_change_during_a_run_runs_again() -> None:
    state = {"a.py": 1}
    runs: list[int] = []

    def run() -> list[Path]:
        runs.append(1)
        if len(runs) == 2:
            state["a.py"] += 1  # saved while the second run reads
        return [Path("a.py")]

    def poll(paths: Iterable[Path]) -> watch.Snapshot:
        return _stamps({str(p): state[str(p)] for p in paths})

    def change() -> None:
        state["a.py"] += 1

    watch.watch(run, lambda: None, sleep=Clock({1: change}, stop_after=5), stamp=poll)
    assert len(runs) == 3


def test_ctrl_c_during_a_run_returns() -> None:
    def run() -> list[Path]:
        raise KeyboardInterrupt

    watch.watch(run, lambda: None, sleep=Clock({}, stop_after=0))


def test_snapshot_sees_edits_additions_and_removals(tmp_path: Path) -> None:
    module = tmp_path / "pkg" / "tasks.py"
    module.parent.mkdir()
    module.write_text("x = 1\n")
    paths = watch.watched([module], tmp_path / "retrylint.toml")
    assert paths == sorted([module, module.parent, tmp_path / "retrylint.toml"])
    first = watch.snapshot(paths)
    assert first[str(tmp_path / "retrylint.toml")] is None
    assert watch.snapshot(paths) == first
    # Same second, same size: the nanosecond time still differs.
    stat = module.stat()
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert watch.snapshot(paths) != first
    second = watch.snapshot(paths)
    (module.parent / "new.py").write_text("")
    assert watch.snapshot(paths) != second  # the folder's time moved


def test_check_watch_reruns_on_change_and_exits_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_project(tmp_path, {"tasks.py": TASKS})
    monkeypatch.chdir(tmp_path)
    module = tmp_path / "tasks.py"

    def fix() -> None:
        module.write_text(module.read_text().replace("max_retries=None", "max_retries=5"))
        stat = module.stat()
        os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))

    clock = Clock({2: fix}, stop_after=4)
    monkeypatch.setattr(watch.time, "sleep", clock)
    result = CliRunner().invoke(app, ["check", "--watch", "--no-cache", "--format", "concise"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("RL101") == 1  # the second run no longer reports it
    assert result.stderr.count("Watching ") == 2
    assert "press Ctrl-C to stop" in result.stderr


def test_check_watch_survives_a_broken_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_project(tmp_path, {"tasks.py": TASKS, "retrylint.toml": "bogus = 1\n"})
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "retrylint.toml"

    def repair() -> None:
        config.write_text("# fixed\n")
        stat = config.stat()
        os.utime(config, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))

    monkeypatch.setattr(watch.time, "sleep", Clock({2: repair}, stop_after=4))
    result = CliRunner().invoke(app, ["check", "--watch", "--no-cache", "--format", "concise"])
    assert result.exit_code == 0, result.output
    assert "retrylint.toml:1:1: " in result.stderr  # the first run's one-line error
    assert "RL101" in result.stdout  # the run after the fix


def test_watch_refuses_write_baseline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_project(tmp_path, {"tasks.py": TASKS})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["check", "--watch", "--write-baseline"])
    assert result.exit_code == 2
    assert "--watch and --write-baseline" in result.stderr
