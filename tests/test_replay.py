"""Replay: a check whose every input is unchanged writes the output it recorded, byte for byte,
without loading the CLI; any change to what it read or to how it was asked runs it again.

Each test ages the project's files first: a record whose files are younger than the racy
window is never kept (tested too), so files written just now would always run again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retrylint import cli, progress, replay
from retrylint.cli import app
from tests.conftest import write_project
from tests.test_run_cache import age

TASKS = """
from celery import shared_task

@shared_task(autoretry_for=(IOError,), max_retries=None)
def sync():
    pass

@shared_task(autoretry_for=(IOError,), max_retries=3, retry_backoff=True)
def report():
    pass
"""
POLICY = """
[categories.critical]
max-retries = { max = 5 }

[tasks]
"proj.tasks.*" = "critical"
"""

Run = tuple[int, str, str]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_project(
        tmp_path / "project",
        {"retrylint.toml": POLICY, "proj/__init__.py": "", "proj/tasks.py": TASKS},
    )
    age(root)
    monkeypatch.chdir(root)
    monkeypatch.delenv("RETRYLINT_CACHE_DIR")  # the default folder, found from the cwd
    return root


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Per run through the entry point: True when it replayed, False when the CLI ran."""
    runs: list[bool] = []
    real = cli.main

    def counting() -> None:
        runs[-1] = False
        real()

    monkeypatch.setattr(cli, "main", counting)
    yield runs


@pytest.fixture
def check(
    served: list[bool], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Run]:
    """`retrylint check ARGS` as the console script runs it, in this process."""

    def run(*args: str) -> Run:
        monkeypatch.setattr(sys, "argv", ["retrylint", "check", *args])
        monkeypatch.setattr(replay, "_armed", [])  # one check per process
        served.append(True)
        with pytest.raises(SystemExit) as exited:
            replay.main()
        out, err = capsys.readouterr()
        return int(exited.value.code or 0), out, err

    return run


def records(root: Path) -> list[str]:
    folder = root / ".retrylint_cache" / replay.__version__ / "replay"
    return sorted(os.listdir(folder)) if folder.is_dir() else []


@pytest.mark.parametrize("args", [(), ("--format", "json"), ("--format", "sarif", "proj")])
def test_an_unchanged_check_is_replayed_byte_for_byte(
    project: Path, check: Callable[..., Run], served: list[bool], args: tuple[str, ...]
) -> None:
    first = check(*args)
    age(project)  # the cache the first run wrote
    second = check(*args)
    third = check(*args)
    assert served == [False, False, True]
    assert first[0] == 1 and first[1]
    assert second == first and third == first
    assert len(records(project)) == 1


def test_the_test_runner_never_records(project: Path) -> None:
    # Only the console entry point arms a record; in-process invocations have other argv.
    for _ in range(2):
        result = CliRunner().invoke(app, ["check", "--exit-zero"])
        assert result.exit_code == 0, result.output
    assert records(project) == []


def _edit_tasks(root: Path) -> None:
    path = root / "proj" / "tasks.py"
    path.write_text(path.read_text().replace("max_retries=3", "max_retries=9"))


def _edit_policy(root: Path) -> None:
    path = root / "retrylint.toml"
    path.write_text(path.read_text().replace("max = 5", "max = 2"))


def _nearer_policy(root: Path) -> None:
    (root / "proj" / "pyproject.toml").write_text("[tool.retrylint]\nexclude = ['tasks.py']\n")


def _new_module(root: Path) -> None:
    (root / "proj" / "more.py").write_text(TASKS.replace("def sync", "def other"))


def _delete_module(root: Path) -> None:
    (root / "proj" / "tasks.py").unlink()


@pytest.mark.parametrize(
    "change", [_edit_tasks, _edit_policy, _nearer_policy, _new_module, _delete_module]
)
def test_a_change_to_what_the_check_read_runs_it_again(
    project: Path,
    check: Callable[..., Run],
    served: list[bool],
    change: Callable[[Path], None],
) -> None:
    os.chdir(project / "proj")  # so that a config nearer than the root's can appear
    check(".")
    age(project)
    recorded = check(".")
    change(project)
    age(project)
    after = check(".")
    assert served == [False, False, False]
    assert after != recorded
    age(project)  # a config nearer than the root's moves the cache folder: a first run there
    check(".")
    assert check(".") == after and served[-1] is True


def test_the_baseline_is_read_too(
    project: Path, check: Callable[..., Run], served: list[bool]
) -> None:
    check("--write-baseline", "base.json")
    age(project)
    baseline = project / "base.json"
    recorded = check("--baseline", "base.json")
    assert check("--baseline", "base.json") == recorded
    baseline.write_text(baseline.read_text().replace("proj.tasks.sync", "proj.tasks.gone"))
    age(project)
    assert check("--baseline", "base.json") != recorded
    assert served == [False, False, True, False]


@pytest.mark.parametrize(
    "how",
    [
        ["--fail-on", "error"],
        ["--today", "2030-01-01"],
        ["env", "NO_COLOR", "1"],
        ["env", "COLUMNS", "50"],
        ["env", "GITHUB_WORKSPACE", "/elsewhere"],
    ],
)
def test_another_command_line_or_environment_is_another_check(
    project: Path,
    check: Callable[..., Run],
    served: list[bool],
    monkeypatch: pytest.MonkeyPatch,
    how: list[str],
) -> None:
    check()
    age(project)
    check()
    if how[0] == "env":
        monkeypatch.setenv(how[1], how[2])
        check()
    else:
        check(*how)
    assert served == [False, False, False]


@pytest.mark.parametrize(
    "args",
    [
        ("--no-cache",),
        ("--output-file", "out.txt"),
        ("--output", "sarif:out.sarif"),
        ("--format", "github"),
        ("--diff",),
        ("--write-baseline", "b.json"),
    ],
)
def test_checks_that_write_files_or_skip_the_cache_are_never_recorded(
    project: Path, check: Callable[..., Run], args: tuple[str, ...]
) -> None:
    for _ in range(2):
        check(*args)
        age(project)
    assert records(project) == []


def test_young_files_are_not_trusted(project: Path, check: Callable[..., Run]) -> None:
    check()
    age(project)
    check()
    assert records(project)
    for record in records(project):
        os.unlink(project / ".retrylint_cache" / replay.__version__ / "replay" / record)
    (project / "proj" / "tasks.py").touch()  # changed just now: could change again unseen
    check()
    assert records(project) == []


def test_a_drawn_progress_bar_is_not_recorded(
    project: Path, check: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "wanted", lambda *args, **kwargs: True)
    monkeypatch.setattr(progress, "DELAY", 0.0)
    check("--no-cache")  # a cold run, so the bar has something to show
    age(project)
    check()
    age(project)
    check()
    assert records(project) == []


def test_a_damaged_record_runs_the_check(
    project: Path, check: Callable[..., Run], served: list[bool]
) -> None:
    check()
    age(project)
    recorded = check()
    folder = project / ".retrylint_cache" / replay.__version__ / "replay"
    (entry,) = records(project)
    for damage in (b"", b"{", b'{"format": 1, "exit": 1, "read": 5, "output": []}', b"[]"):
        (folder / entry).write_bytes(damage)
        assert check() == recorded
    assert served == [False, False, False, False, False, False]


def test_a_replay_loads_neither_the_cli_nor_a_parser(project: Path) -> None:
    command = [sys.executable, "-X", "importtime", "-m", "retrylint", "check", "--exit-zero"]

    def modules() -> set[str]:
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        return {
            line.split("|")[-1].strip()
            for line in done.stderr.splitlines()
            if line.startswith("import time:")
        }

    modules()
    age(project)
    assert {"typer", "rich", "retrylint.cli"} <= modules()  # the positive control: no record
    replayed = modules()
    assert "retrylint.replay" in replayed
    assert not {"typer", "rich", "libcst", "retrylint.cli", "retrylint.model"} & replayed


@pytest.mark.parametrize("how", ["--cache-dir", "--cache-dir=", "RETRYLINT_CACHE_DIR"])
def test_a_cache_folder_given_elsewhere(
    project: Path,
    tmp_path: Path,
    check: Callable[..., Run],
    served: list[bool],
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    elsewhere = tmp_path / "cache"
    elsewhere.mkdir()
    args: tuple[str, ...] = ()
    if how == "RETRYLINT_CACHE_DIR":
        monkeypatch.setenv(how, str(elsewhere))
    elif how.endswith("="):
        args = (f"{how}{elsewhere}",)
    else:
        args = (how, str(elsewhere))
    first = check(*args)
    assert check(*args) == first
    assert served == [False, True]
    assert (elsewhere / replay.__version__ / "replay").is_dir()
    assert not (project / ".retrylint_cache").exists()


def test_a_config_created_above_a_project_without_one(
    project: Path, check: Callable[..., Run], served: list[bool]
) -> None:
    # Discovery looked up to the filesystem root and found nothing: each place it looked counts.
    (project / "retrylint.toml").unlink()
    age(project)
    check()
    age(project)
    recorded = check()
    assert check() == recorded
    (project.parent / "retrylint.toml").write_text('exclude = ["project/proj"]\n')
    assert check() != recorded
    assert served == [False, False, True, False]


def test_a_path_that_leads_elsewhere_is_another_check(
    tmp_path: Path, check: Callable[..., Run], served: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The projects are read through a link in a folder that is none of theirs: each one's
    # stamps hold while the link changes; only where the link leads tells them apart.
    for name, limit in (("one", "None"), ("two", "2")):
        write_project(
            tmp_path / name, {"retrylint.toml": "", "tasks.py": TASKS.replace("None", limit)}
        )
    (tmp_path / "here").mkdir()
    (tmp_path / "here" / "current").symlink_to(tmp_path / "one")
    monkeypatch.chdir(tmp_path / "here")
    monkeypatch.setenv("RETRYLINT_CACHE_DIR", str(tmp_path / "cache"))
    age(tmp_path)
    recorded = check("current")
    assert check("current") == recorded
    assert served == [False, True]
    (tmp_path / "here" / "current").unlink()
    (tmp_path / "here" / "current").symlink_to(tmp_path / "two")
    assert check("current") != recorded
    assert served[-1] is False


def test_a_repository_created_around_the_project(
    project: Path, check: Callable[..., Run], served: list[bool]
) -> None:
    # SARIF paths are relative to the git work tree holding the project root.
    (project / "retrylint.toml").write_text("respect-gitignore = false\n" + POLICY)
    age(project)
    check("--format", "sarif")
    age(project)
    check("--format", "sarif")
    check("--format", "sarif")
    (project.parent / ".git").mkdir()
    check("--format", "sarif")
    assert served == [False, False, True, False]


def test_warnings_about_the_users_code_are_not_printed(
    project: Path, check: Callable[..., Run]
) -> None:
    # Only a run the caches do not serve compiles this predicate: its warning would be kept.
    (project / "proj" / "jobs.py").write_text(
        "import dramatiq\n\n"
        '@dramatiq.actor(retry_when=lambda retries, exc: retries < 3 and "\\d" not in str(exc))\n'
        "def job():\n    pass\n"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, _, err = check("--no-cache", "--exit-zero")
    assert code == 0
    assert "Warning" not in err
    assert not [w for w in caught if "escape sequence" in str(w.message)]


@pytest.mark.parametrize("folder", [".", ".."])
def test_a_cache_folder_that_holds_the_project_is_refused(
    project: Path, check: Callable[..., Run], folder: str
) -> None:
    code, out, err = check("--cache-dir", folder)
    assert code == 2 and not out
    assert "holds the files it would cache" in err and len(err.splitlines()) == 1
    assert not (project / ".gitignore").exists() and not (project.parent / ".gitignore").exists()


def test_a_cache_folder_among_the_sources(
    project: Path, check: Callable[..., Run], served: list[bool]
) -> None:
    # Its own entries are not inputs; the sources beside them are, and git still sees them.
    check("--cache-dir", "proj")
    age(project)
    recorded = check("--cache-dir", "proj")
    assert check("--cache-dir", "proj") == recorded
    _edit_tasks(project)
    age(project)
    assert check("--cache-dir", "proj") != recorded
    assert served == [False, False, True, False]
    assert not (project / "proj" / ".gitignore").exists()


def test_a_closed_output_is_one_line_and_exit_2(project: Path) -> None:
    command = [sys.executable, "-m", "retrylint", "check"]
    for _ in range(2):
        subprocess.run(command, capture_output=True, check=False)
        age(project)
    assert records(project)
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(command, stdout=write, stderr=subprocess.PIPE, text=True, check=False)
    finally:
        os.close(write)
    assert done.returncode == 2
    assert done.stderr.startswith("retrylint: internal error: BrokenPipeError")
    assert len(done.stderr.splitlines()) == 1


def test_the_rule_documents_sarif_embeds_are_part_of_the_key() -> None:
    assert any(name.endswith("RL101-unbounded-retries.md") for name in replay._rule_docs())
