"""`init` with an existing config, and `init --update`.

`init` must find the tasks `inventory` finds (it discovers with the same config); `--update` must
leave every byte it did not add where it was, and add nothing on a second run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from retrylint.cli import app
from retrylint.config.update import TODO_NOTE
from tests.conftest import write_project
from tests.test_no_tasks_found import TASKS, WORKER

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

CELERY_TASKS = """
    from celery import shared_task


    @shared_task(max_retries=3, retry_backoff=True)
    def alpha():
        ...


    @shared_task(max_retries=3, retry_backoff=True)
    def beta():
        ...


    @shared_task(name="jobs.gamma*", max_retries=3, retry_backoff=True)
    def gamma():
        ...
"""
# Hand-kept policy: odd spacing, comments everywhere, a table after [tasks] introduced by a
# blank line and a comment.
POLICY = """\
# Our retry policy.   Hand-written.
[categories.fast]   # short jobs
description = "fast"
max-retries = {max=5}

[tasks]
# alpha is known
"app.tasks.alpha"   =   "fast"    # keep this spacing

# rules follow
[rules]
RL103 = "off"
"""


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def one_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def _celery(tmp_path: Path, files: dict[str, str]) -> Path:
    return write_project(tmp_path, {"app/__init__.py": "", "app/tasks.py": CELERY_TASKS, **files})


def _inserted(before: str, after: str) -> str:
    """The one block `after` adds to `before`, asserting everything else is unchanged."""
    start = 0
    while start < len(before) and before[start] == after[start]:
        start += 1
    # Back up to a line start: the block is whole lines.
    start = before.rfind("\n", 0, start) + 1
    added = len(after) - len(before)
    assert after[:start] == before[:start]
    assert after[start + added :] == before[start:]
    return after[start : start + added]


def test_init_uses_the_task_decorators_of_the_existing_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = '[tool.retrylint.frameworks.dramatiq]\ntask-decorators = ["app.worker.actor"]\n'
    write_project(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/worker.py": WORKER,
            "app/tasks.py": TASKS,
            "pyproject.toml": config,
        },
    )
    monkeypatch.chdir(tmp_path)
    result = cli("init")
    assert result.exit_code == 0, result.output
    assert one_line(result.stderr) == "wrote retrylint.toml with 2 task(s)"
    written = tomllib.loads((tmp_path / "retrylint.toml").read_text("utf-8"))
    assert written["tasks"] == {"refund": "default", "send_receipt": "default"}


def test_init_uses_the_exclude_of_the_existing_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _celery(
        tmp_path,
        {
            "legacy/tasks.py": CELERY_TASKS,
            "pyproject.toml": '[tool.retrylint]\nexclude = ["legacy/"]\n',
        },
    )
    monkeypatch.chdir(tmp_path)
    assert cli("init").exit_code == 0
    written = tomllib.loads((tmp_path / "retrylint.toml").read_text("utf-8"))
    assert sorted(written["tasks"]) == ["app.tasks.alpha", "app.tasks.beta", "jobs.gamma[*]"]


def test_update_without_a_policy_is_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _celery(tmp_path, {})
    monkeypatch.chdir(tmp_path)
    result = cli("init", "--update")
    assert result.exit_code == 2
    assert "no policy file found" in one_line(result.stderr)
    assert not (tmp_path / "retrylint.toml").exists()

    missing = cli("init", "--update", "--config", "nope.toml")
    assert missing.exit_code == 2
    assert "nope.toml" in one_line(missing.stderr)


def test_update_adds_commented_todo_lines_and_keeps_every_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _celery(tmp_path, {"retrylint.toml": POLICY})
    monkeypatch.chdir(tmp_path)
    result = cli("init", "--update")
    assert result.exit_code == 0, result.output
    assert one_line(result.stderr) == (
        "added 2 task(s) to retrylint.toml as commented-out TODO lines; choose a category for each"
    )
    after = (tmp_path / "retrylint.toml").read_text("utf-8")
    assert _inserted(POLICY, after) == (
        f'# "app.tasks.beta" = "TODO"  # {TODO_NOTE}\n# "jobs.gamma[*]" = "TODO"  # {TODO_NOTE}\n'
    )
    # Right after the last entry, before the blank line and comment that lead into [rules].
    assert after.index("app.tasks.beta") < after.index("# rules follow")
    # Commented out, they change nothing: the policy reads as before.
    assert tomllib.loads(after) == tomllib.loads(POLICY)

    again = cli("init", "--update")
    assert again.exit_code == 0
    assert one_line(again.stderr) == "added 0 task(s) to retrylint.toml"
    assert (tmp_path / "retrylint.toml").read_text("utf-8") == after


def test_update_maps_to_default_category(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = 'default-category = "fast"\n' + POLICY.replace('"app.tasks.alpha"', '"app.tasks.*"')
    _celery(tmp_path, {"retrylint.toml": policy})
    monkeypatch.chdir(tmp_path)
    result = cli("init", "--update")
    assert result.exit_code == 0, result.output
    # The glob already covers alpha and beta: only gamma (whose name holds a `*`) is new.
    assert one_line(result.stderr) == 'added 1 task(s) to retrylint.toml as "fast"'
    after = (tmp_path / "retrylint.toml").read_text("utf-8")
    assert _inserted(policy, after) == '"jobs.gamma[*]" = "fast"  # idempotent?\n'
    inventory = json.loads(cli("inventory", "--format", "json").stdout)
    sources = {row["name"]: row["category_source"] for row in inventory["tasks"]}
    assert sources["jobs.gamma*"] == "glob"  # the bracketed literal key

    assert one_line(cli("init", "--update").stderr) == "added 0 task(s) to retrylint.toml"
    assert (tmp_path / "retrylint.toml").read_text("utf-8") == after


def test_update_pyproject_with_other_tables_and_no_tasks_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyproject = (
        '[project]\nname = "demo"  # the name\n\n'
        "[tool.retrylint]\n"
        'default-category = "fast"\n'
        '[tool.retrylint.categories.fast]\ndescription = "fast"\n\n'
        "[tool.black]\nline-length = 100\n"
    )
    _celery(tmp_path, {"pyproject.toml": pyproject})
    (tmp_path / "pyproject.toml").chmod(0o640)
    monkeypatch.chdir(tmp_path)
    result = cli("init", "--update")
    assert result.exit_code == 0, result.output
    after = (tmp_path / "pyproject.toml").read_text("utf-8")
    assert after.startswith(pyproject)
    assert after[len(pyproject) :] == (
        '\n[tool.retrylint.tasks]\n"app.tasks.alpha" = "fast"  # idempotent?\n'
        '"app.tasks.beta" = "fast"  # idempotent?\n"jobs.gamma[*]" = "fast"  # idempotent?\n'
    )
    data = tomllib.loads(after)
    assert data["tool"]["black"] == {"line-length": 100}
    assert (tmp_path / "pyproject.toml").stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert one_line(cli("init", "--update").stderr) == "added 0 task(s) to pyproject.toml"


def test_update_pyproject_tasks_table_in_the_middle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyproject = (
        "[tool.retrylint.categories.fast]\n"
        'description = "fast"\n'
        "[tool.retrylint.tasks]\n"
        '"app.tasks.alpha" = "fast"\n'
        "[tool.ruff]\n"
        "line-length = 100\n"
    )
    _celery(tmp_path, {"pyproject.toml": pyproject})
    monkeypatch.chdir(tmp_path)
    assert cli("init", "--update").exit_code == 0
    after = (tmp_path / "pyproject.toml").read_text("utf-8")
    block = _inserted(pyproject, after)
    assert block.startswith('# "app.tasks.beta" = "TODO"')
    assert after.index(block) == pyproject.index("[tool.ruff]")


def test_update_refuses_what_it_cannot_edit_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = 'tasks = { "app.tasks.alpha" = "fast" }\n[categories.fast]\ndescription = "f"\n'
    _celery(tmp_path, {"retrylint.toml": policy})
    monkeypatch.chdir(tmp_path)
    result = cli("init", "--update")
    assert result.exit_code == 2
    line = one_line(result.stderr)
    assert line.startswith("retrylint: error: init --update retrylint.toml: cannot append")
    assert '# "app.tasks.beta" = "TODO"' in line
    assert (tmp_path / "retrylint.toml").read_text("utf-8") == policy


def test_update_rejects_output_and_force(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _celery(tmp_path, {"retrylint.toml": POLICY})
    monkeypatch.chdir(tmp_path)
    result = cli("init", "--update", "--force")
    assert result.exit_code == 2
    assert "--output and --force do not apply" in one_line(result.stderr)


def test_init_writes_the_idempotent_hint_and_update_stays_idempotent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _celery(tmp_path, {})
    monkeypatch.chdir(tmp_path)
    assert cli("init").exit_code == 0
    text = (tmp_path / "retrylint.toml").read_text("utf-8")
    tasks = text[text.index("[tasks]\n") :]
    assert tasks == (
        "[tasks]\n"
        '# A task that must not run twice: "name" = { category = "...", idempotent = false }\n'
        "# (RL302 then warns when it is retried automatically); idempotent = true says it may.\n"
        '"app.tasks.alpha" = "default"  # idempotent?\n'
        '"app.tasks.beta" = "default"  # idempotent?\n'
        '"jobs.gamma[*]" = "default"  # idempotent?\n'
    )
    # Written as the hint says, the entry is valid and read as such.
    edited = text.replace(
        '"app.tasks.beta" = "default"  # idempotent?',
        '"app.tasks.beta" = { category = "default", idempotent = false }',
    )
    (tmp_path / "retrylint.toml").write_text(edited, "utf-8")
    inventory = json.loads(cli("inventory", "--format", "json").stdout)
    flags = {row["name"]: row["idempotent"] for row in inventory["tasks"]}
    assert flags == {"app.tasks.alpha": None, "app.tasks.beta": False, "jobs.gamma*": None}
    assert one_line(cli("init", "--update").stderr) == "added 0 task(s) to retrylint.toml"
    assert (tmp_path / "retrylint.toml").read_text("utf-8") == edited
