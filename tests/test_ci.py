"""The composite GitHub Action (`action.yml`) and the README's CI snippets work as written,
as far as that can be shown offline (CONTRACTS §9): the action's inputs and flags exist in
`retrylint check --help`, its check step runs for real with bash against a copy of the demo,
and every `retrylint` command of the GitLab snippet runs and writes the reports it publishes.
What needs the network is left out: `pip install` from the action's checkout or a git URL.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from retrylint.cli import CheckFormat, app
from tests.conftest import FIXTURES, REPO

ACTION: dict[str, Any] = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
README = (REPO / "README.md").read_text(encoding="utf-8")
CI_SECTION = README[README.index("## In CI\n") : README.index("## As a pre-commit hook\n")]
# The console script next to the interpreter running the tests: the project's own install.
RETRYLINT = Path(sys.executable).parent / "retrylint"
# CI variables that would move report paths or add a job summary in the runs below.
CI_VARIABLES = ("GITHUB_WORKSPACE", "CI_PROJECT_DIR", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT")


def _check_flags() -> set[str]:
    """Every long and short option `retrylint check --help` lists."""
    result = CliRunner().invoke(app, ["check", "--help"], terminal_width=200)
    assert result.exit_code == 0
    return set(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", result.stdout))


def _steps() -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in ACTION["runs"]["steps"]}


def _yaml_blocks(text: str) -> list[Any]:
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def _invocations(script: str) -> list[list[str]]:
    """The `retrylint ...` / `"$RETRYLINT" ...` commands of a script, as argument lists."""
    commands = []
    for line in script.splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0] in ("retrylint", "$RETRYLINT"):
            commands.append(words[1:])
    return commands


# --- action.yml -------------------------------------------------------------------------------


def test_action_inputs_and_shape() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert set(ACTION["inputs"]) == {"paths", "config", "args", "sarif-file"}
    for name, spec in ACTION["inputs"].items():
        assert spec["description"] and spec["required"] is False, name
    assert ACTION["inputs"]["paths"]["default"] == "."
    for step in ACTION["runs"]["steps"]:
        assert step["shell"] == "bash"
        # Expressions only in `env:`: one inside `run:` could inject shell code.
        assert "${{" not in step["run"], step["name"]


def test_action_installs_from_its_own_checkout() -> None:
    install = _steps()["Install retrylint"]
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert 'pip install --quiet --disable-pip-version-check "$ACTION_PATH"' in install["run"]
    assert "${{ steps.install.outputs.retrylint }}" in _steps()["retrylint check"]["env"].values()
    for step in ACTION["runs"]["steps"]:
        syntax = subprocess.run(["bash", "-n"], input=step["run"], text=True, check=False)
        assert syntax.returncode == 0, step["name"]


def test_action_uses_real_check_flags_and_formats() -> None:
    script = _steps()["retrylint check"]["run"]
    used = set(re.findall(r"(?<![\w-])--[a-z][\w-]*", script))
    assert used == {"--config", "--format", "--output-file", "--exit-zero"}
    assert used <= _check_flags()
    formats = {c[c.index("--format") + 1] for c in _invocations(script)}
    assert formats == {"sarif", "github"} and formats <= {f.value for f in CheckFormat}


def _run_check_step(tmp_path: Path, **inputs: str) -> subprocess.CompletedProcess[str]:
    """The action's check step as the runner would run it: its `env:` with the expressions
    filled in, the script under `bash -e -o pipefail`, in a workspace holding the demo."""
    workspace = tmp_path / "workspace"
    shutil.copytree(FIXTURES / "demo", workspace)
    values = {
        "steps.install.outputs.retrylint": str(RETRYLINT),
        **{
            f"inputs.{name}": inputs.get(name, spec["default"])
            for name, spec in ACTION["inputs"].items()
        },
    }
    step = _steps()["retrylint check"]
    env = {key: value for key, value in os.environ.items() if key not in CI_VARIABLES}
    env["GITHUB_STEP_SUMMARY"] = str(tmp_path / "summary.md")
    for key, expression in step["env"].items():
        env[key] = re.sub(r"\$\{\{ *([\w.-]+) *\}\}", lambda m: values[m.group(1)], expression)
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", step["run"]],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.skipif(not RETRYLINT.is_file(), reason="no retrylint console script installed")
def test_action_check_step_annotates_summarises_and_writes_sarif(tmp_path: Path) -> None:
    done = _run_check_step(tmp_path, **{"sarif-file": "retrylint.sarif"})
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines and all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    assert "file=shop/tasks.py," in done.stdout
    sarif = json.loads((tmp_path / "workspace" / "retrylint.sarif").read_text(encoding="utf-8"))
    (run,) = sarif["runs"]
    assert len(run["results"]) == len(lines)
    # Written with --exit-zero, so the SARIF run itself succeeded with exit code 0.
    assert run["invocations"] == [{"executionSuccessful": True, "exitCode": 0}]
    assert "## retrylint" in (tmp_path / "summary.md").read_text(encoding="utf-8")


@pytest.mark.skipif(not RETRYLINT.is_file(), reason="no retrylint console script installed")
def test_action_check_step_passes_config_args_and_paths(tmp_path: Path) -> None:
    done = _run_check_step(
        tmp_path,
        paths="shop/tasks.py  shop/celery_app.py",
        config="retrylint.toml",
        args="--select RL101 --fail-on error",
    )
    assert done.returncode == 1, done.stderr
    assert {line.split(",title=")[1].split()[0] for line in done.stdout.splitlines()} == {"RL101"}
    assert not (tmp_path / "workspace" / "retrylint.sarif").exists()
    clean = _run_check_step(tmp_path / "again", args="--select RL101 --exit-zero")
    assert clean.returncode == 0, clean.stderr


# --- README snippets --------------------------------------------------------------------------


def test_readme_github_workflow_matches_the_action() -> None:
    workflows = [b for b in _yaml_blocks(CI_SECTION) if isinstance(b, dict) and "jobs" in b]
    (workflow,) = workflows
    (job,) = workflow["jobs"].values()
    assert job["permissions"]["security-events"] == "write"
    steps = job["steps"]
    ours = next(s for s in steps if s.get("uses", "").startswith("retrylint/retrylint@"))
    assert set(ours["with"]) <= set(ACTION["inputs"])
    assert set(ours["with"]["args"].split()) <= _check_flags() | {"warning", "error", "note"}
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload"))
    assert upload["with"]["sarif_file"] == ours["with"]["sarif-file"]
    assert "always()" in upload["if"]
    assert steps.index(upload) > steps.index(ours)
    assert steps[0]["uses"].startswith("actions/checkout@")


def _gitlab_job() -> dict[str, Any]:
    jobs = [b for b in _yaml_blocks(CI_SECTION) if isinstance(b, dict) and "retrylint" in b]
    (document,) = jobs
    job: dict[str, Any] = document["retrylint"]
    return job


def test_readme_gitlab_job_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each `retrylint` line of the job, in order, in a project like the demo: the reports it
    publishes exist and parse, and the job fails on the demo's findings."""
    job = _gitlab_job()
    shutil.copytree(FIXTURES / "demo", tmp_path / "project")
    monkeypatch.chdir(tmp_path / "project")
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    install, *commands = job["script"]
    assert install.startswith('pip install "git+https://github.com/retrylint/retrylint@')
    codes = []
    for line in commands:
        words = shlex.split(line)
        assert words[0] == "retrylint", line
        codes.append(CliRunner().invoke(app, words[1:]).exit_code)
    assert codes == [1]  # one run: the log, both reports, and the job's verdict
    reports = job["artifacts"]["reports"]
    assert job["artifacts"]["when"] == "always"
    issues = json.loads(Path(reports["codequality"]).read_text(encoding="utf-8"))
    assert issues and all(
        i["location"]["path"].startswith("shop/") or i["location"]["path"] == "retrylint.toml"
        for i in issues
    )
    suites = ET.parse(reports["junit"]).getroot()
    assert suites.tag == "testsuites" and int(suites.get("failures", "0")) == len(issues)


def test_readme_pins_a_commit_not_a_missing_tag() -> None:
    versions = re.findall(r"retrylint/retrylint@(\S+?)[\"\s]", CI_SECTION)
    assert versions == ["<commit-sha>", "<commit-sha>"]
    assert "pip install retrylint\n" not in README  # not on PyPI
