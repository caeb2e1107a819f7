"""What a new user hits first: paths echoed as typed, unreadable folders reported, `init` into
a folder it cannot write, and `inventory --explain` with part of a task name."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from retrylint.cli import app
from retrylint.lookup import TaskLookupError, find_task
from tests.conftest import REPO, write_project

TASKS = """
from celery import shared_task

@shared_task(autoretry_for=(IOError,), max_retries=None)
def poll():
    ...
"""
AS_ROOT = os.geteuid() == 0


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def one_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


# --- paths as typed ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "inventory"])
def test_missing_absolute_path_is_echoed_as_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    (tmp_path / "deep" / "er").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "deep" / "er")
    missing = str(tmp_path / "nowhere")
    result = cli(command, missing)
    assert result.exit_code == 2
    assert one_line(result.stderr) == f"retrylint: error: {missing}: no such file or directory"


def test_missing_relative_path_is_echoed_as_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_project(tmp_path, {"retrylint.toml": "", "src/tasks.py": TASKS})
    monkeypatch.chdir(tmp_path / "src")
    result = cli("check", "../nope/x.py")
    assert one_line(result.stderr) == "retrylint: error: ../nope/x.py: no such file or directory"


# --- unreadable folders -----------------------------------------------------------------------


def _check_json(root: Path) -> dict[str, object]:
    result = cli("check", str(root), "--format", "json", "--no-cache")
    assert result.exit_code == 1, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


def _rl000(document: dict[str, object]) -> list[dict[str, object]]:
    findings = document["findings"]
    assert isinstance(findings, list)
    return [f for f in findings if f["rule"] == "RL000"]


@pytest.mark.skipif(AS_ROOT, reason="root reads a chmod 000 folder; see the monkeypatched test")
def test_unreadable_folder_is_rl000_chmod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_project(tmp_path, {"ok/tasks.py": TASKS, "secret/tasks.py": TASKS})
    monkeypatch.chdir(tmp_path)
    (tmp_path / "secret").chmod(0)
    try:
        found = _rl000(_check_json(tmp_path))
    finally:
        (tmp_path / "secret").chmod(0o755)
    assert [(f["path"], f["line"]) for f in found] == [("secret", 1)]
    assert "permission denied" in str(found[0]["message"])


def test_unreadable_folder_is_rl000(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As root, chmod cannot refuse a listing: the refusal is simulated where it happens."""
    write_project(tmp_path, {"ok/tasks.py": TASKS, "secret/inner/tasks.py": TASKS})
    monkeypatch.chdir(tmp_path)
    real = os.scandir

    def scandir(path: str) -> object:
        if os.path.basename(path) == "inner":
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    document = _check_json(tmp_path)
    found = _rl000(document)
    assert [(f["path"], f["line"], f["severity"]) for f in found] == [
        ("secret/inner", 1, "warning")
    ]
    assert found[0]["message"] == (
        "cannot read this folder (permission denied), so none of its files were analyzed"
    )
    summary = document["summary"]
    assert isinstance(summary, dict)
    assert summary["files_scanned"] == 1  # ok/tasks.py
    text = cli("check", "--no-cache", "--format", "concise")
    assert "secret/inner:1:1: RL000 [warning] cannot read this folder" in text.stdout


# --- init into a folder it cannot write -------------------------------------------------------


def _refuse_writes(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """chmod 555 as a normal user; as root (who writes anyway) the refusal is simulated."""
    folder.chmod(0o555)
    if AS_ROOT:
        real = tempfile.mkstemp

        def mkstemp(*args: object, **kwargs: object) -> tuple[int, str]:
            if Path(str(kwargs.get("dir"))) == folder:
                raise PermissionError(13, "Permission denied")
            return real(*args, **kwargs)  # type: ignore[call-overload, no-any-return]

        monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


def test_init_into_a_read_only_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_project(tmp_path, {"app/tasks.py": TASKS})
    locked = tmp_path / "locked"
    locked.mkdir()
    _refuse_writes(monkeypatch, locked)
    monkeypatch.chdir(tmp_path)
    try:
        result = cli("init", "app", "-o", "locked/retrylint.toml")
    finally:
        locked.chmod(0o755)
    assert result.exit_code == 2
    assert one_line(result.stderr) == (
        "retrylint: error: locked/retrylint.toml: cannot write the policy file (permission "
        "denied); make its folder writable, or name another file with -o FILE"
    )
    assert list(locked.iterdir()) == []


def test_init_into_a_missing_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_project(tmp_path, {"app/tasks.py": TASKS})
    monkeypatch.chdir(tmp_path)
    result = cli("init", "app", "-o", "no/such/dir/retrylint.toml")
    assert result.exit_code == 2
    line = one_line(result.stderr)
    assert line.startswith("retrylint: error: no/such/dir/retrylint.toml: cannot write the policy")
    assert "internal error" not in line


def test_init_update_read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_project(tmp_path, {"app/tasks.py": TASKS, "retrylint.toml": "[tasks]\n"})
    _refuse_writes(monkeypatch, tmp_path)
    monkeypatch.chdir(tmp_path)
    try:
        result = cli("init", "--update")
    finally:
        tmp_path.chmod(0o755)
    assert result.exit_code == 2
    assert one_line(result.stderr).endswith(
        "retrylint.toml: cannot write the policy file (permission denied); make it and its "
        "folder writable"
    )
    assert (tmp_path / "retrylint.toml").read_text() == "[tasks]\n"


# --- inventory --explain with part of a name --------------------------------------------------

NAMES = [
    "shop.tasks.refund",
    "shop.tasks.refund_partial",
    "shop.tasks.sync_inventory",
    "shop.tasks.sync_prices",
    "billing.sync_prices",
    "email:deliver",
    "app.tasks:export",
]


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("shop.tasks.refund", "shop.tasks.refund"),  # exact, though it is also a suffix
        ("refund", "shop.tasks.refund"),  # not refund_partial: whole parts only
        ("tasks.refund_partial", "shop.tasks.refund_partial"),
        ("sync_inventory", "shop.tasks.sync_inventory"),
        ("shop.*.sync_p*", "shop.tasks.sync_prices"),
        ("*partial", "shop.tasks.refund_partial"),
        ("deliver", "email:deliver"),
        ("export", "app.tasks:export"),
        (":export", "app.tasks:export"),
        ("billing.*", "billing.sync_prices"),
    ],
)
def test_find_task(query: str, name: str) -> None:
    assert find_task(NAMES, query) == name


def test_find_task_ambiguous_lists_the_candidates() -> None:
    with pytest.raises(TaskLookupError) as caught:
        find_task(NAMES, "sync_prices")
    assert str(caught.value) == (
        "sync_prices matches 2 tasks: billing.sync_prices, shop.tasks.sync_prices; "
        "give more of the name"
    )
    with pytest.raises(TaskLookupError, match=r"^refund\* matches 2 tasks: shop.tasks.refund, "):
        find_task(NAMES, "refund*")


def test_find_task_many_candidates_are_cut() -> None:
    names = [f"app.t{i:02}.run" for i in range(14)]
    with pytest.raises(TaskLookupError) as caught:
        find_task(names, "run")
    assert str(caught.value).endswith("app.t09.run and 4 more; give more of the name")


def test_find_task_none_suggests_close_names() -> None:
    with pytest.raises(TaskLookupError) as caught:
        find_task(NAMES, "refnd")
    assert str(caught.value) == "refnd: no task with that name; close matches: shop.tasks.refund"
    with pytest.raises(TaskLookupError) as caught:
        find_task(NAMES, "fund")  # a part of a part is not a suffix match
    assert "no task with that name" in str(caught.value)
    with pytest.raises(TaskLookupError) as caught:
        find_task(NAMES, "zzzz")
    assert str(caught.value) == (
        "zzzz: no task with that name; run `retrylint inventory` for the names"
    )


def test_inventory_explain_by_suffix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = cli("inventory", "fixtures/demo", "--explain", "refund")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("shop.tasks.refund (celery definition at ")


def test_inventory_explain_ambiguous_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = cli("inventory", "fixtures/demo", "--explain", "sync_*")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert one_line(result.stderr) == (
        "retrylint: error: --explain sync_* matches 2 tasks: shop.tasks.sync_inventory, "
        "shop.tasks.sync_prices; give more of the name"
    )
    missing = cli("inventory", "fixtures/demo", "--explain", "sync_invntory")
    assert missing.exit_code == 2
    assert one_line(missing.stderr).endswith("close matches: shop.tasks.sync_inventory")
