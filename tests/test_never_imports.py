"""retrylint reads code; it never runs it.

The scanned project is hostile: every module, on import, writes a marker file, connects to a
socket the test listens on, or raises; the tree also holds a `conftest.py`, a
`retrylint_plugins.py` and a `setup.py` that would do the same. `check` and `inventory` (in
process, and as `python -m retrylint`) must still find every task, resolve values from those
modules by reading them, and leave no marker, no connection and no new entry in `sys.modules`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retrylint.cli import app
from tests.conftest import write_project

PACKAGE = "rl_never_imported_pkg"
# Enough generated task modules to cross the engine's process-pool threshold.
GENERATED = 26  # enough files that a worker pool is certainly used


def _side_effects(markers: Path, port: int, name: str) -> str:
    """Module-level code that leaves a trace if the module is ever executed."""
    return textwrap.dedent(
        f"""
        import pathlib as _pathlib
        import socket as _socket

        _pathlib.Path({str(markers)!r}, {name!r}).write_text("imported", encoding="utf-8")
        try:
            _socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
        except OSError:
            pass
        """
    )


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.setblocking(False)
    yield server
    server.close()


@pytest.fixture
def hostile(tmp_path: Path, listener: socket.socket) -> tuple[Path, Path]:
    """(project root, markers directory); the markers directory lies outside the project."""
    markers = tmp_path / "markers"
    markers.mkdir()
    root = tmp_path / "project"
    port = listener.getsockname()[1]

    def trace(name: str) -> str:
        return _side_effects(markers, port, name)

    files: dict[str, str] = {
        f"{PACKAGE}/__init__.py": trace("package_init"),
        f"{PACKAGE}/celery_app.py": trace("celery_app")
        + textwrap.dedent(
            f"""
            import os
            from celery import Celery

            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{PACKAGE}.settings")
            app = Celery("never")
            """
        ),
        f"{PACKAGE}/settings.py": trace("settings") + "JOB_RETRIES = 6\n",
        f"{PACKAGE}/limits.py": trace("limits") + "LIMIT = 4\n",
        f"{PACKAGE}/tasks_marker.py": trace("tasks_marker")
        + textwrap.dedent(
            f"""
            from {PACKAGE}.celery_app import app
            from {PACKAGE}.limits import LIMIT


            @app.task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=LIMIT)
            def from_constant():
                ...
            """
        ),
        f"{PACKAGE}/tasks_socket.py": textwrap.dedent(
            f"""
            import socket

            from django.conf import settings

            from {PACKAGE}.celery_app import app

            socket.create_connection(("127.0.0.1", {port}), timeout=2).close()


            @app.task(
                name="never.from_settings",
                autoretry_for=(ConnectionError,),
                retry_backoff=True,
                max_retries=settings.JOB_RETRIES,
            )
            def from_settings():
                ...
            """
        ),
        f"{PACKAGE}/tasks_raise.py": textwrap.dedent(
            f"""
            from celery import shared_task


            @shared_task(name="never.raises", autoretry_for=(ConnectionError,), retry_backoff=True,
                         max_retries=2)
            def raises():
                ...


            raise SystemExit("{PACKAGE}.tasks_raise was imported")
            """
        ),
        "conftest.py": trace("conftest")
        + textwrap.dedent(
            """
            from celery import shared_task


            @shared_task(name="never.conftest_task", max_retries=1)
            def fixture_task():
                ...
            """
        ),
        "retrylint_plugins.py": trace("retrylint_plugins")
        + textwrap.dedent(
            """
            from celery import shared_task

            # A plugin hook retrylint must never look for, let alone call.
            def retrylint_register(registry):
                raise SystemExit("plugin loaded")


            @shared_task(name="never.plugin_task", autoretry_for=(ConnectionError,),
                         retry_backoff=True, max_retries=3)
            def plugin_task():
                ...
            """
        ),
        "setup.py": trace("setup") + "from celery import Task  # task\n",
        # Test code is skipped by default; here conftest.py must be read, and not run, too.
        "retrylint.toml": "include-tests = true\n",
    }
    for n in range(GENERATED):
        files[f"{PACKAGE}/generated_{n:02d}.py"] = trace(f"generated_{n:02d}") + textwrap.dedent(
            f"""
            from celery import shared_task


            @shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries={n % 5})
            def job_{n:02d}():
                ...
            """
        )
    write_project(root, files)
    return root, markers


def expected_names() -> set[str]:
    return {
        f"{PACKAGE}.tasks_marker.from_constant",
        "never.from_settings",
        "never.raises",
        "never.conftest_task",
        "never.plugin_task",
        *(f"{PACKAGE}.generated_{n:02d}.job_{n:02d}" for n in range(GENERATED)),
    }


def assert_untouched(markers: Path, listener: socket.socket) -> None:
    assert sorted(p.name for p in markers.iterdir()) == []
    with pytest.raises(BlockingIOError):
        connection, _ = listener.accept()
        connection.close()


def loaded_from(root: Path) -> set[str]:
    prefix = str(root)
    return {
        name
        for name, module in list(sys.modules.items())
        if str(getattr(module, "__file__", None) or "").startswith(prefix)
    }


def test_check_and_inventory_import_nothing(
    hostile: tuple[Path, Path], listener: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, markers = hostile
    for name in ("RETRYLINT_DEBUG", "DJANGO_SETTINGS_MODULE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(root)
    modules_before = set(sys.modules)
    path_before = list(sys.path)

    inventory = CliRunner().invoke(app, ["inventory", "--format", "json"], catch_exceptions=False)
    check = CliRunner().invoke(app, ["check", "--format", "json"], catch_exceptions=False)
    table = CliRunner().invoke(app, ["inventory"], catch_exceptions=False)
    explained = CliRunner().invoke(
        app, ["inventory", "--explain", "never.from_settings"], catch_exceptions=False
    )

    assert_untouched(markers, listener)
    new_modules = set(sys.modules) - modules_before
    assert not {m for m in new_modules if m.startswith(PACKAGE)}
    assert not {"conftest", "retrylint_plugins", "setup"} & new_modules
    assert loaded_from(root) == set()
    assert sys.path == path_before
    assert "DJANGO_SETTINGS_MODULE" not in os.environ

    assert inventory.exit_code == 0, inventory.output
    assert check.exit_code in (0, 1), check.output
    assert table.exit_code == 0, table.output
    assert explained.exit_code == 0, explained.output
    assert inventory.stderr == check.stderr == ""

    rows = {row["name"]: row for row in json.loads(inventory.stdout)["tasks"]}
    assert set(rows) == expected_names()
    # Values come from the hostile modules, read and never run.
    assert rows[f"{PACKAGE}.tasks_marker.from_constant"]["max_retries"] == 4
    assert rows["never.from_settings"]["max_retries"] == 6
    assert rows["never.raises"]["max_retries"] == 2
    findings = json.loads(check.stdout)["findings"]
    assert not [f for f in findings if f["rule"] == "RL000"]


def test_subprocess_imports_nothing(hostile: tuple[Path, Path], listener: socket.socket) -> None:
    """The real entry point, where the pool may run parsing in worker processes."""
    root, markers = hostile
    env = {k: v for k, v in os.environ.items() if k not in ("RETRYLINT_DEBUG",)}
    env.update(PYTHONIOENCODING="utf-8", PYTHONPATH=str(root))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "retrylint", *args],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for args in (
            ("check", "--format", "json", "."),
            ("inventory", "--format", "json", str(root)),
        )
    ]
    outputs = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        assert stderr == b""
        assert proc.returncode in (0, 1)
        outputs.append(json.loads(stdout))
    assert_untouched(markers, listener)
    check, inventory = outputs
    assert {row["name"] for row in inventory["tasks"]} == expected_names()
    assert check["summary"]["tasks"] == len(expected_names())
    assert check["summary"]["files_skipped"] == 0
