"""Reported paths (CONTRACTS §1): relative to the current directory in text, JSON and the
inventory; relative to the repository root in SARIF and GitHub annotations; the same whether
PATHS are given absolute or relative.

The project is a monorepo in miniature: a git repository whose policy lives in
`server/pyproject.toml`, so the project root and the repository root differ.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from retrylint.cli import app
from tests.conftest import write_project

POLICY = """
[tool.retrylint]
default-category = "default"

[tool.retrylint.categories.default]
max-retries = { max = 10 }
"""
TASKS = """
from celery import shared_task

from polar.limits import RETRIES


@shared_task(autoretry_for=(ConnectionError,), max_retries=RETRIES)
def sync():
    ...
"""


@pytest.fixture
def monorepo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    write_project(
        tmp_path,
        {
            "server/pyproject.toml": POLICY,
            "server/polar/__init__.py": "",
            "server/polar/limits.py": "RETRIES = 50\n",
            "server/polar/tasks.py": TASKS,
        },
    )
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return tmp_path


def run(cwd: Path, *args: str) -> str:
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    finally:
        os.chdir(previous)
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def finding(cwd: Path, *args: str) -> dict[str, Any]:
    (only,) = json.loads(run(cwd, "check", "--format", "json", *args))["findings"]
    assert only["rule"] == "RL102"
    return dict(only)


def test_text_and_json_paths_are_relative_to_the_current_directory(monorepo: Path) -> None:
    from_repo = finding(monorepo, "server")
    assert from_repo["path"] == "server/polar/tasks.py"
    # The provenance cited in the message moves with it: one path, one spelling.
    assert "at server/polar/tasks.py:6" in from_repo["message"]
    from_server = finding(monorepo / "server")
    assert from_server["path"] == "polar/tasks.py"
    assert "at polar/tasks.py:6" in from_server["message"]
    from_package = finding(monorepo / "server" / "polar", "..")
    assert from_package["path"] == "tasks.py"
    assert "at tasks.py:6" in from_package["message"]
    text = run(monorepo, "check", "server")
    assert text.startswith("server/polar/tasks.py:\n  7:5 RL102 ")


def test_inventory_paths_are_relative_to_the_current_directory(monorepo: Path) -> None:
    (row,) = json.loads(run(monorepo, "inventory", "--format", "json", "server"))["tasks"]
    assert row["path"] == "server/polar/tasks.py"
    assert "server/polar/tasks.py:7:5" in run(monorepo, "inventory", "server")


def test_absolute_and_relative_paths_give_the_same_output(monorepo: Path) -> None:
    for args in (("check", "--format", "json"), ("check",), ("inventory", "--format", "json")):
        relative = run(monorepo, *args, "server")
        assert run(monorepo, *args, str(monorepo / "server")) == relative
        assert run(monorepo, *args, "./server/polar/..") == relative
        inside = run(monorepo / "server", *args)
        assert run(monorepo / "server", *args, str(monorepo / "server")) == inside


@pytest.mark.parametrize("where", ["", "server", "server/polar"])
def test_sarif_and_github_paths_are_relative_to_the_repository(monorepo: Path, where: str) -> None:
    cwd = monorepo / where
    target = str(monorepo / "server")
    sarif = json.loads(run(cwd, "check", "--format", "sarif", target))
    (result,) = sarif["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "server/polar/tasks.py", "uriBaseId": "%SRCROOT%"}
    assert sarif["runs"][0]["originalUriBaseIds"] == {
        "%SRCROOT%": {"uri": monorepo.resolve().as_uri() + "/"}
    }
    assert "at server/polar/tasks.py:6" in result["message"]["text"]
    github = run(cwd, "check", "--format", "github", target)
    assert github.startswith("::error file=server/polar/tasks.py,line=7,")


def test_github_workspace_wins_over_git(monorepo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_WORKSPACE", str(monorepo / "server"))
    github = run(monorepo, "check", "--format", "github", "server")
    assert github.startswith("::error file=polar/tasks.py,line=7,")


def test_without_a_repository_the_current_directory_is_the_base(
    monorepo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(monorepo.parent))
    shutil.rmtree(monorepo / ".git")
    sarif = json.loads(run(monorepo / "server", "check", "--format", "sarif"))
    (result,) = sarif["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == "polar/tasks.py"
    base = sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base == (monorepo / "server").resolve().as_uri() + "/"
