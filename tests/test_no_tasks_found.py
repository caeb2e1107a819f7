"""RL004: a framework imported without a single task in the run, and a run that scans nothing.

Each test writes a small project and runs the engine on it; the finding must be located where a
suppression can sit, name what retrylint saw, and give a fix that, applied, makes the tasks
appear.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from retrylint import engine
from retrylint.cli import app
from retrylint.model import Finding
from tests.conftest import analyze, write_project

# An in-house wrapper retrylint cannot see through: it hands `dramatiq.actor` to a tracing
# helper from outside the project instead of applying it.
WORKER = """
    import dramatiq

    from tracing import traced


    def actor(fn=None, **options):
        return traced(dramatiq.actor, fn, options)
"""
TASKS = """
    import dramatiq

    from app.worker import actor


    @actor(max_retries=3)
    def send_receipt(order_id):
        ...


    @actor
    def refund(order_id):
        raise dramatiq.Retry(delay=1000)
"""


def _rl004(report: engine.Report) -> list[Finding]:
    return [f for f in report.findings if f.rule == "RL004"]


def _wrapped_project(tmp_path: Path, config: str | None = None, tasks: str = TASKS) -> Path:
    files = {"app/__init__.py": "", "app/worker.py": WORKER, "app/tasks.py": tasks}
    if config is not None:
        files["retrylint.toml"] = config
    return write_project(tmp_path, files)


def test_wrapper_the_adapter_cannot_follow(tmp_path: Path) -> None:
    report = analyze(_wrapped_project(tmp_path))
    assert report.rows == ()
    (finding,) = report.findings
    assert finding.rule == "RL004"
    # The first importing module by path, at its `import dramatiq` (where a suppression fits).
    location = finding.location
    assert (location.path, location.line, location.column) == ("app/tasks.py", 1, 1)
    assert (location.end_line, location.end_column) == (1, 16)
    assert (finding.framework, finding.severity, finding.task) == ("dramatiq", "warning", None)
    assert finding.message == (
        "dramatiq is imported by app/tasks.py and app/worker.py, but this run found no dramatiq "
        "task; decorators there that retrylint does not recognise: `app.worker.actor` on 2 "
        "functions"
    )
    assert finding.fix == (
        "If this wraps the task decorator, add `[frameworks.dramatiq] task-decorators = "
        '["app.worker.actor"]` to a new `retrylint.toml`; if this code only enqueues or '
        "configures dramatiq, suppress RL004 here with a reason."
    )


def test_the_suggested_line_makes_the_tasks_appear(tmp_path: Path) -> None:
    config = '[frameworks.dramatiq]\ntask-decorators = ["app.worker.actor"]\n'
    report = analyze(_wrapped_project(tmp_path, config))
    assert sorted(row.name or "" for row in report.rows) == ["refund", "send_receipt"]
    assert _rl004(report) == []


def test_task_modules_that_only_import_the_wrapper(tmp_path: Path) -> None:
    """Such modules name no framework, so they are not parsed and their decorators are unseen;
    the framework is still reported, at the wrapper's module."""
    tasks = TASKS.replace("    import dramatiq\n", "").replace("dramatiq.Retry", "Exception")
    (finding,) = _rl004(analyze(_wrapped_project(tmp_path, tasks=tasks)))
    assert (finding.location.path, finding.location.line) == ("app/worker.py", 1)
    assert finding.message == (
        "dramatiq is imported by app/worker.py, but this run found no dramatiq task; "
        "no decorator there is unknown to retrylint"
    )


def test_pyproject_gets_the_tool_table(tmp_path: Path) -> None:
    project = _wrapped_project(tmp_path)
    (project / "pyproject.toml").write_text("[tool.retrylint]\n", encoding="utf-8")
    (finding,) = _rl004(analyze(project))
    assert finding.fix is not None
    assert '`[tool.retrylint.frameworks.dramatiq] task-decorators = ["app.worker.actor"]`' in (
        finding.fix
    )
    assert "to `pyproject.toml`" in finding.fix


def test_reexported_wrapper_is_named_where_it_is_defined(tmp_path: Path) -> None:
    """The adapters match wrappers by the qualified name of their definition, so that is the
    name to configure, whatever path the tasks import it through."""
    files = {
        "app/__init__.py": "",
        "app/worker/__init__.py": "from app.worker._actor import actor\n",
        "app/worker/_actor.py": WORKER,
        "app/tasks.py": TASKS,
    }
    project = write_project(tmp_path, files)
    (finding,) = _rl004(analyze(project))
    assert "`app.worker._actor.actor` on 2 functions" in finding.message
    assert finding.fix is not None and '["app.worker._actor.actor"]' in finding.fix
    config = '[frameworks.dramatiq]\ntask-decorators = ["app.worker._actor.actor"]\n'
    (project / "retrylint.toml").write_text(config, encoding="utf-8")
    fixed = analyze(project)
    assert len(fixed.rows) == 2 and _rl004(fixed) == []


def test_plumbing_decorators_are_not_listed_and_outside_ones_not_suggested(
    tmp_path: Path,
) -> None:
    source = """
        import abc
        import contextlib
        import functools
        from dataclasses import dataclass
        from typing import overload

        import dramatiq
        import pytest
        from sentry_sdk import trace


        @dataclass
        class Job:
            @property
            def size(self):
                return 1

            @size.setter
            def size(self, value):
                pass

            @functools.cache
            @abc.abstractmethod
            def key(self):
                ...

            @staticmethod
            @dramatiq.actor
            def inside_class():
                ...


        @overload
        def parse(x: int) -> int: ...


        @contextlib.contextmanager
        def opened():
            yield


        @pytest.fixture
        def job():
            return Job()


        @trace
        def traced():
            ...
    """
    (finding,) = _rl004(analyze(write_project(tmp_path, {"jobs.py": source})))
    assert finding.message.endswith(
        "decorators there that retrylint does not recognise: `sentry_sdk.trace` on 1 function"
    )
    assert finding.fix is not None
    assert "task-decorators in a new `retrylint.toml`" in finding.fix
    assert "sentry_sdk" not in finding.fix


def test_many_modules_and_decorators_are_shortened(tmp_path: Path) -> None:
    files = {"app/__init__.py": ""}
    for number in range(5):
        files[f"app/m{number}.py"] = (
            f"import dramatiq\nfrom ext import d{number}\n\n@d{number}\ndef f():\n    ...\n"
        )
    (finding,) = _rl004(analyze(write_project(tmp_path, files)))
    assert finding.message == (
        "dramatiq is imported by app/m0.py, app/m1.py, app/m2.py and 2 more, but this run found "
        "no dramatiq task; decorators there that retrylint does not recognise: `ext.d0` on 1 "
        "function, `ext.d1` on 1 function, `ext.d2` on 1 function and 2 more"
    )


def test_app_module_without_tasks_anywhere(tmp_path: Path) -> None:
    files = {
        "proj/__init__.py": "",
        "proj/celery_app.py": 'from celery import Celery\n\napp = Celery("proj")\n',
        "proj/views.py": "from celery import chain\n\ndef go():\n    chain()\n",
    }
    (finding,) = _rl004(analyze(write_project(tmp_path, files)))
    assert (finding.location.path, finding.location.line) == ("proj/celery_app.py", 1)
    assert finding.message == (
        "celery is imported by proj/celery_app.py, but this run found no celery task; "
        "no decorator there is unknown to retrylint"
    )
    assert finding.fix is not None and finding.fix.startswith(
        "If tasks are declared through an in-house wrapper, name it in `[frameworks.celery]`"
    )


def test_modules_that_only_enqueue_are_fine_when_tasks_exist_elsewhere(tmp_path: Path) -> None:
    files = {
        "proj/__init__.py": "",
        "proj/celery_app.py": 'from celery import Celery\n\napp = Celery("proj")\n',
        "proj/tasks.py": """
            from proj.celery_app import app

            @app.task(autoretry_for=(ConnectionError,), max_retries=3, retry_backoff=True)
            def send(x):
                ...
        """,
        "proj/views.py": "from celery import Task, chain\n\ndef go():\n    chain()\n",
    }
    report = analyze(write_project(tmp_path, files))
    assert [row.name for row in report.rows] == ["proj.tasks.send"]
    assert _rl004(report) == []


def test_frameworks_not_enabled_are_not_reported(tmp_path: Path) -> None:
    project = _wrapped_project(tmp_path, '[frameworks]\nenabled = ["celery"]\n')
    assert _rl004(analyze(project)) == []


def test_suppressed_on_the_import_line(tmp_path: Path) -> None:
    tasks = TASKS.replace(
        "    import dramatiq\n",
        "    # retrylint: ignore[RL004] actors are registered by the plugin loader\n"
        "    import dramatiq\n",
    )
    report = analyze(_wrapped_project(tmp_path, tasks=tasks))
    assert [f.rule for f in report.findings] == []
    assert report.suppressed == 1


@pytest.mark.parametrize(
    "imports",
    [
        "from tenacity import RetryError",
        "from tenacity import RetryCallState, TryAgain",
        "from backoff.types import Details",
        "from stamina.instrumentation import set_on_retry_hooks",
        "from stamina import set_testing",
    ],
)
def test_retry_library_imported_for_its_exceptions_is_fine(tmp_path: Path, imports: str) -> None:
    source = f"{imports}\n\n\n@app.get('/')\ndef index():\n    ...\n"
    report = analyze(write_project(tmp_path, {"views.py": source}))
    assert report.findings == ()


def test_retry_library_imported_but_never_used_to_retry(tmp_path: Path) -> None:
    source = "import tenacity\n\n\ndef fetch():\n    try:\n        pass\n"
    source += "    except tenacity.RetryError:\n        pass\n"
    (finding,) = _rl004(analyze(write_project(tmp_path, {"client.py": source})))
    assert finding.message == (
        "tenacity is imported by client.py, but this run found no tenacity retry site; "
        "no decorator there is unknown to retrylint"
    )
    assert finding.fix == (
        "If this code declares no retry with tenacity (it only catches its exceptions or "
        "switches it off in tests), suppress RL004 here with a reason."
    )


def test_retry_sites_found_means_no_finding(tmp_path: Path) -> None:
    source = """
        from tenacity import RetryError, retry, stop_after_attempt

        @retry(stop=stop_after_attempt(3))
        def fetch():
            ...
    """
    report = analyze(write_project(tmp_path, {"client.py": source}))
    assert len(report.rows) == 1 and _rl004(report) == []


# --- nothing scanned --------------------------------------------------------------------------


def test_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# nothing here\n", encoding="utf-8")
    report = analyze(tmp_path)
    (finding,) = report.findings
    assert finding.rule == "RL004"
    assert (finding.location.path, finding.location.line, finding.location.column) == (".", 1, 1)
    assert finding.message == (
        "no file was scanned under `.`: there is no .py or .go file there outside virtualenvs, "
        "node_modules and version-control folders"
    )
    assert finding.framework is None


def test_everything_excluded_is_located_at_exclude(tmp_path: Path) -> None:
    files = {
        "retrylint.toml": '# shop policy\n\nexclude = ["shop/"]\n',
        "shop/tasks.py": "from celery import shared_task\n",
        "shop/more.py": "x = 1\n",
    }
    (finding,) = analyze(write_project(tmp_path, files)).findings
    assert (finding.location.path, finding.location.line, finding.location.column) == (
        "retrylint.toml",
        3,
        1,
    )
    assert finding.message == (
        "no file was scanned under `.`: every .py/.go file there was skipped: 1 folder "
        "matched by `exclude`"
    )
    assert finding.fix == (
        "Narrow `exclude` so it no longer matches the task code, or pass other paths."
    )


def test_everything_excluded_in_pyproject(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": '[project]\nname = "x"\n\n[tool.retrylint]\nexclude = ["*.py"]\n',
        "tasks.py": "x = 1\n",
    }
    (finding,) = analyze(write_project(tmp_path, files)).findings
    assert (finding.location.path, finding.location.line) == ("pyproject.toml", 5)
    assert "was skipped: 1 file matched by `exclude`" in finding.message


def test_only_test_code_says_how_to_scan_it(tmp_path: Path) -> None:
    files = {"tests/test_tasks.py": "from celery import shared_task\n", "conftest.py": ""}
    (finding,) = analyze(write_project(tmp_path, files)).findings
    assert (finding.location.path, finding.location.line) == (".", 1)
    assert finding.message == (
        "no file was scanned under `.`: every .py/.go file there was skipped: 2 files of test code"
    )
    assert finding.fix.startswith("Set `include-tests = true` to scan test code")


def test_paths_of_another_kind(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n", encoding="utf-8")
    (finding,) = analyze(tmp_path, [notes]).findings
    assert finding.location.path == "notes.txt"
    assert finding.message == (
        "no file was scanned under `notes.txt`: `notes.txt` is not a .py or .go file"
    )


def test_scanned_files_without_any_framework_are_not_a_finding(tmp_path: Path) -> None:
    report = analyze(write_project(tmp_path, {"util.py": "def f():\n    return 1\n"}))
    assert report.findings == ()
    assert report.files_scanned == 1


# --- command line -----------------------------------------------------------------------------


def test_cli_empty_run_exits_1_and_never_says_passed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1, result.output
    assert "RL004" in result.stdout
    assert "All checks passed" not in result.stdout
    assert result.stdout.rstrip().endswith("; no tasks found, 0 files scanned.")
    assert runner.invoke(app, ["check", "--exit-zero"]).exit_code == 0
    ignored = runner.invoke(app, ["check", "--ignore", "RL004"])
    assert ignored.exit_code == 0, ignored.output
    assert ignored.stdout == "No tasks found: 0 files scanned.\n"
    inventory = runner.invoke(app, ["inventory", "--format", "json"])
    assert inventory.stdout == '{\n  "schema_version": 1,\n  "tasks": []\n}\n'
    assert runner.invoke(app, ["inventory"]).stdout == "No tasks found: 0 files scanned.\n"
