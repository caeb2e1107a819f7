"""The install paths users take, run for real and offline (CONTRACTS §9): the shipped pre-commit
hook through `pre-commit try-repo` in a scratch git repository, and the README's demo command
in a fresh virtualenv.

Both install retrylint with pip from the wheelhouse `.ci/run` builds (`pip wheel . hatchling
editables`) and no index, so they need `RETRYLINT_WHEELHOUSE`; a plain local `pytest` skips
them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

WHEELHOUSE = os.environ.get("RETRYLINT_WHEELHOUSE", "")
pytestmark = pytest.mark.skipif(
    not WHEELHOUSE or not Path(WHEELHOUSE).is_dir(),
    reason="RETRYLINT_WHEELHOUSE is not set: `bash .ci/run` builds the wheelhouse these "
    "offline install tests need (or set it to a folder made by `pip wheel . hatchling -w DIR`)",
)

# asynq stamps MaxRetry into each message; 50 is beyond the built-in policy's 10: RL102.
GO_MOD = "module example.com/jobs\n\ngo 1.22\n\nrequire github.com/hibiken/asynq v0.25.1\n"
PRODUCER = """package main

import "github.com/hibiken/asynq"

func main() {
\tclient := asynq.NewClient(asynq.RedisClientOpt{Addr: "localhost:6379"})
\tclient.Enqueue(asynq.NewTask("email:send", nil), asynq.MaxRetry(%d))
}
"""


def _offline_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "PRE_COMMIT", "GIT_", "VIRTUAL_ENV", "COLUMNS"))
    }
    env.update(
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=WHEELHOUSE,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.com",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.com",
        **extra,
    )
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def _git(repo: Path, *args: str, env: dict[str, str]) -> None:
    result = _run(["git", *args], repo, env)
    assert result.returncode == 0, result.stderr


def _source_copy(target: Path) -> Path:
    """The project's tracked files as they are in the work tree: what a clone would hold."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hook's repository: a commit of this project's files, as `rev:` would name one."""
    repo = _source_copy(tmp_path_factory.mktemp("retrylint-hook"))
    env = _offline_env()
    _git(repo, "init", "-q", "-b", "main", env=env)
    _git(repo, "add", "-A", env=env)
    _git(repo, "commit", "-q", "-m", "snapshot", env=env)
    return repo


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One hook environment for the module's runs: built once, offline, from the wheelhouse."""
    yield tmp_path_factory.mktemp("pre-commit-home")


def _project(tmp_path: Path, env: dict[str, str]) -> Path:
    project = tmp_path / "project"
    (project / "cmd").mkdir(parents=True)
    (project / "go.mod").write_text(GO_MOD)
    (project / "cmd" / "main.go").write_text(PRODUCER % 5)
    (project / "README.md").write_text("jobs\n")
    _git(project, "init", "-q", "-b", "main", env=env)
    _git(project, "add", "-A", env=env)
    _git(project, "commit", "-q", "-m", "start", env=env)
    return project


def _try_repo(project: Path, hook_repo: Path, env: dict[str, str]) -> tuple[int, str]:
    result = _run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "retrylint", "--verbose"],
        project,
        env,
    )
    return result.returncode, result.stdout + result.stderr


def test_pre_commit_hook_runs_on_a_go_only_commit(
    tmp_path: Path, hook_repo: Path, pre_commit_home: Path
) -> None:
    env = _offline_env(PRE_COMMIT_HOME=str(pre_commit_home))
    project = _project(tmp_path, env)

    # A commit that changes only a Go file triggers the hook, which checks the whole project.
    (project / "cmd" / "main.go").write_text(PRODUCER % 50)
    _git(project, "add", "cmd/main.go", env=env)
    code, output = _try_repo(project, hook_repo, env)
    assert code == 1, output
    assert re.search(r"retrylint\.+Failed", output), output
    assert "RL102" in output and "email:send" in output

    # Fixed within the policy: the Go-only commit passes.
    (project / "cmd" / "main.go").write_text(PRODUCER % 7)
    _git(project, "add", "cmd/main.go", env=env)
    code, output = _try_repo(project, hook_repo, env)
    assert code == 0, output
    assert re.search(r"retrylint\.+Passed", output), output


def test_pre_commit_hook_skips_unrelated_changes(
    tmp_path: Path, hook_repo: Path, pre_commit_home: Path
) -> None:
    env = _offline_env(PRE_COMMIT_HOME=str(pre_commit_home))
    project = _project(tmp_path, env)
    (project / "cmd" / "main.go").write_text(PRODUCER % 50)
    _git(project, "commit", "-qam", "a finding already committed", env=env)
    (project / "README.md").write_text("jobs, documented\n")
    _git(project, "add", "README.md", env=env)
    code, output = _try_repo(project, hook_repo, env)
    assert code == 0, output
    assert re.search(r"retrylint\.+\(no files to check\)Skipped", output), output


def test_readme_demo_command_in_a_fresh_checkout(tmp_path: Path) -> None:
    """The README's first command, word for word, in a copy of the project with no index."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Set up") : readme.index("## A 30-second tour")]
    command = re.findall(r"```sh\n(.*?)\n```", section, re.DOTALL)[0]
    checkout = _source_copy(tmp_path / "retrylint")
    result = _run(["bash", "-c", command], checkout, _offline_env(COLUMNS="80"))
    assert (checkout / ".venv" / "bin" / "retrylint").is_file(), result.stderr
    assert result.returncode == 1, result.stderr  # the demo exits 1 by design
    tour = readme[readme.index("## A 30-second tour") :]
    shown = re.search(r"```console\n\$ retrylint check fixtures/demo\n(.*?)\n```", tour, re.S)
    assert shown is not None
    printed = result.stdout.splitlines()
    for line in shown.group(1).splitlines():
        if line != "...":
            assert line in printed, line
