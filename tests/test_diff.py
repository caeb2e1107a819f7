"""`check --diff-base REF`: which findings a change since REF reaches (retrylint/diff.py).

Each test builds a small git repository whose five tasks all break the policy (RL102), each
through a different place: its own decorator (`alpha`, `beta`), a base class (`gamma`), a
wrapper (`delta`) and a constant in another module (`epsilon`). A change to one place must keep
exactly the findings it reaches.
"""

from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from retrylint.cli import app
from retrylint.diff import _imports
from tests.conftest import write_project

PROJECT = {
    "retrylint.toml": """
        default-category = "default"

        [categories.default]
        max-retries = { max = 3 }
    """,
    "app/__init__.py": "",
    "app/celery_app.py": """
        from celery import Celery

        app = Celery("app")
    """,
    "app/tasks.py": """
        from app.celery_app import app


        @app.task(autoretry_for=(ConnectionError,), max_retries=5)
        def alpha():
            return 1


        @app.task(autoretry_for=(ConnectionError,), max_retries=6)
        def beta():
            return 2
    """,
    "app/base.py": """
        from celery import Task


        class Reliable(Task):
            autoretry_for = (ConnectionError,)
            max_retries = 7
            retry_backoff = True
    """,
    "app/tasks_base.py": """
        from app.base import Reliable
        from app.celery_app import app


        @app.task(base=Reliable)
        def gamma():
            return 3
    """,
    "app/wrappers.py": """
        from celery import shared_task


        def cron_task(**options):
            return shared_task(autoretry_for=(ConnectionError,), max_retries=8, **options)
    """,
    "app/tasks_cron.py": """
        from app.wrappers import cron_task


        @cron_task()
        def delta():
            return 4
    """,
    "app/limits.py": """
        EPSILON_RETRIES = 9
    """,
    "app/tasks_limits.py": """
        from app.celery_app import app
        from app.limits import EPSILON_RETRIES


        @app.task(autoretry_for=(ConnectionError,), max_retries=EPSILON_RETRIES)
        def epsilon():
            return 5
    """,
    "app/views.py": """
        def index():
            return "hello"
    """,
}
EVERY_TASK = ["alpha", "beta", "delta", "epsilon", "gamma"]


def _git(root: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    command += ["-c", "commit.gpgsign=false", *args]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=True)
    return done.stdout


def _commit(root: Path, message: str) -> None:
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", message)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_project(tmp_path / "repo", PROJECT)
    _git(root, "init", "-q", "-b", "main")
    _commit(root, "initial")
    monkeypatch.chdir(root)
    return root


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _check(*args: str) -> Result:
    return CliRunner().invoke(app, ["check", "--no-cache", *args])


def _report(*args: str) -> tuple[int, list[str], dict[str, Any]]:
    """Exit code, the short task name of every finding (or its rule), and the summary."""
    result = _check("--format", "json", *args)
    document = json.loads(result.stdout)
    names = [
        (f["task"] or f["rule"]).rpartition(".")[2]
        for f in document["findings"]
        if f["rule"] == "RL102" or f["task"] is None
    ]
    return result.exit_code, sorted(names), document["summary"]


def test_nothing_changed_leaves_every_finding_out(repo: Path) -> None:
    code, names, summary = _report("--diff-base", "main")
    assert (code, names) == (0, [])
    assert summary["diff"]["left_out"] == 5 and summary["diff"]["kept_all"] is None
    assert summary["diff"]["merge_base"] == _git(repo, "rev-parse", "HEAD").strip()


def test_a_changed_decorator_keeps_that_task_only(repo: Path) -> None:
    _edit(repo / "app/tasks.py", "max_retries=6", "max_retries=16")  # uncommitted
    code, names, summary = _report("--diff-base", "main")
    assert (code, names) == (1, ["beta"])
    assert summary["diff"]["left_out"] == 4


def test_a_changed_body_on_a_branch_keeps_that_task_only(repo: Path) -> None:
    _git(repo, "checkout", "-q", "-b", "feature")
    _edit(repo / "app/tasks.py", "return 1", "return 10")
    _commit(repo, "alpha returns 10")
    assert _report("--diff-base", "main")[1] == ["alpha"]


def test_a_changed_base_class_keeps_its_tasks(repo: Path) -> None:
    _edit(repo / "app/base.py", "max_retries = 7", "max_retries = 70")
    assert _report("--diff-base", "HEAD")[1] == ["gamma"]


def test_a_deleted_base_class_attribute_keeps_its_tasks(repo: Path) -> None:
    # The row no longer cites the deleted line; the import of the changed module still counts.
    _edit(repo / "app/base.py", "    retry_backoff = True\n", "")
    assert _report("--diff-base", "HEAD")[1] == ["gamma"]


def test_a_changed_wrapper_keeps_the_tasks_declared_through_it(repo: Path) -> None:
    _edit(repo / "app/wrappers.py", "max_retries=8", "max_retries=80")
    assert _report("--diff-base", "HEAD")[1] == ["delta"]


def test_a_changed_constant_in_another_module_keeps_the_tasks_using_it(repo: Path) -> None:
    _edit(repo / "app/limits.py", "= 9", "= 90")
    assert _report("--diff-base", "HEAD")[1] == ["epsilon"]


def test_a_changed_config_module_keeps_the_tasks_of_its_importers(repo: Path) -> None:
    _edit(repo / "app/celery_app.py", 'Celery("app")', 'Celery("app", broker="redis://")')
    assert _report("--diff-base", "HEAD")[1] == ["alpha", "beta", "epsilon", "gamma"]


def test_a_new_task_is_reported(repo: Path) -> None:
    write_project(
        repo,
        {
            "app/tasks_new.py": """
                from app.celery_app import app


                @app.task(autoretry_for=(ConnectionError,), max_retries=None)
                def zeta():
                    return 6
            """
        },
    )  # untracked: the working tree counts, not only commits
    result = _check("--format", "json", "--diff-base", "HEAD")
    findings = json.loads(result.stdout)["findings"]
    assert [(f["rule"], f["task"]) for f in findings] == [("RL101", "app.tasks_new.zeta")]


def test_an_unrelated_change_keeps_nothing(repo: Path) -> None:
    _edit(repo / "app/views.py", '"hello"', '"hello, world"')
    write_project(repo, {"README.md": "# docs\n"})
    assert _report("--diff-base", "HEAD")[:2] == (0, [])


def test_a_comment_between_tasks_keeps_nothing(repo: Path) -> None:
    beta = "@app.task(autoretry_for=(ConnectionError,), max_retries=6)"
    _edit(repo / "app/tasks.py", f"\n\n{beta}", f"\n\n# beta is next\n{beta}")
    assert _report("--diff-base", "HEAD")[1] == []


def test_a_changed_policy_keeps_every_finding_and_says_so(repo: Path) -> None:
    _edit(repo / "retrylint.toml", "max = 3", "max = 4")
    code, names, summary = _report("--diff-base", "HEAD")
    assert (code, names) == (1, EVERY_TASK)
    assert summary["diff"]["kept_all"] == "the policy file retrylint.toml changed"
    text = _check("--diff-base", "HEAD").stdout
    assert "every finding kept, as the policy file retrylint.toml changed" in text


def test_the_summary_says_how_many_were_left_out(repo: Path) -> None:
    _edit(repo / "app/tasks.py", "max_retries=6", "max_retries=16")
    text = _check("--diff-base", "main").stdout
    assert "Diff since main (merge base " in text
    assert "4 findings left out as unchanged." in text


def test_changes_on_ref_after_the_fork_are_not_the_branch_s(repo: Path) -> None:
    """Merge-base semantics: main moving on does not put its changes on the pull request."""
    _git(repo, "checkout", "-q", "-b", "feature")
    _edit(repo / "app/tasks.py", "return 1", "return 10")
    _commit(repo, "feature: alpha")
    _git(repo, "checkout", "-q", "main")
    _edit(repo / "app/tasks_cron.py", "return 4", "return 40")
    _commit(repo, "main: delta")
    _git(repo, "checkout", "-q", "feature")
    assert _report("--diff-base", "main")[1] == ["alpha"]


def test_an_unparsable_file_is_reported_only_when_changed(repo: Path) -> None:
    write_project(repo, {"app/broken.py": "from celery import shared_task\ndef (:\n"})
    assert _report("--diff-base", "HEAD")[1] == ["RL000"]
    _commit(repo, "broken")
    assert _report("--diff-base", "HEAD")[1] == []


def test_baseline_then_diff(repo: Path) -> None:
    """The baseline absorbs what it froze (its stale entries still listed); diff mode then
    leaves out what no change reaches."""
    assert _check("--write-baseline").exit_code == 0
    _commit(repo, "baseline")
    _edit(repo / "app/tasks.py", "max_retries=5", "max_retries=None")  # alpha: RL102 → RL101
    frozen = ("--baseline", ".retrylint-baseline.json")
    result = _check("--format", "json", *frozen, "--diff-base", "HEAD")
    document = json.loads(result.stdout)
    assert [(f["rule"], f["task"]) for f in document["findings"]] == [("RL101", "app.tasks.alpha")]
    summary = document["summary"]
    assert summary["baseline"]["absorbed"] == 4
    assert [entry["task"] for entry in summary["baseline"]["stale"]] == ["app.tasks.alpha"]
    assert summary["diff"]["left_out"] == 0


def test_outside_a_repository_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_project(tmp_path / "plain", PROJECT)
    monkeypatch.chdir(root)
    result = _check("--diff-base", "main")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"retrylint: error: --diff-base main: {root.resolve()} is not inside a git repository"
    ]


@pytest.mark.parametrize("ref", ["no-such-branch", "--output=x"])
def test_an_unknown_ref_is_one_line_and_exit_2(repo: Path, ref: str) -> None:
    result = _check(f"--diff-base={ref}")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"retrylint: error: --diff-base {ref}: no such commit in this repository; check the "
        "name, or fetch it first (`git fetch origin main`)"
    ]
    assert not (repo / "x").exists()


def test_a_project_in_a_subfolder_of_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Git names paths from the repository root; findings are keyed from the project root."""
    top = tmp_path / "mono"
    write_project(top / "server", PROJECT)
    _git(top, "init", "-q", "-b", "main")
    _commit(top, "initial")
    _edit(top / "server/app/tasks.py", "max_retries=6", "max_retries=16")
    monkeypatch.chdir(top)
    assert _report("--diff-base", "main", "server")[1] == ["beta"]


def test_relative_imports_name_the_modules_they_reach() -> None:
    tree = ast.parse("from . import limits\nfrom ..core.base import Reliable\nimport x.y\n")
    assert _imports(tree, "app.jobs.tasks", package=False) == {
        "app.jobs",
        "app.jobs.limits",
        "app.core.base",
        "app.core.base.Reliable",
        "x.y",
    }
    assert _imports(ast.parse("from .limits import N\n"), "app", package=True) == {
        "app.limits",
        "app.limits.N",
    }


def test_a_stale_suppression_next_to_a_changed_task_is_reported(repo: Path) -> None:
    alpha = "@app.task(autoretry_for=(ConnectionError,), max_retries=5)"
    _edit(repo / "app/tasks.py", f"\n\n{alpha}", f"\n\n# retrylint: ignore[RL102] legacy\n{alpha}")
    _commit(repo, "suppress alpha")
    _edit(repo / "app/tasks.py", "max_retries=5", "max_retries=2")  # fixed: the comment is unused
    assert _report("--diff-base", "HEAD")[1] == ["RL001"]


def test_a_changed_worker_loss_setting_keeps_the_tasks_it_redelivers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`config_from_object("celeryconfig")` names the module in a string, so no import reaches
    it: the row's cited `worker_loss` setting is what ties the change to the task (RL302)."""
    root = write_project(
        tmp_path / "repo",
        {
            "retrylint.toml": """
                [tasks]
                "tasks.charge" = { category = "default", idempotent = false }
                [categories.default]
            """,
            "celeryconfig.py": "task_acks_late = False\n",
            "tasks.py": """
                from celery import Celery

                app = Celery("tasks")
                app.config_from_object("celeryconfig")

                @app.task(bind=True, max_retries=3, reject_on_worker_lost=True)
                def charge(self):
                    try:
                        fetch()
                    except ConnectionError as exc:
                        raise self.retry(exc=exc, countdown=60)
            """,
        },
    )
    _git(root, "init", "-q", "-b", "main")
    _commit(root, "initial")
    monkeypatch.chdir(root)
    _edit(root / "celeryconfig.py", "False", "True")
    document = json.loads(_check("--format", "json", "--diff-base", "HEAD").stdout)
    assert [(f["rule"], f["task"]) for f in document["findings"] if f["rule"] == "RL302"] == [
        ("RL302", "tasks.charge")
    ]
