"""A run on some files only (pre-commit passes the changed ones) reads them as a whole run does.

The usual layout keeps the app or broker in a module of its own (`proj/celery.py`) and the
task modules import it: a task module alone never imports the framework. Such a run must
still find the task, with the same policy, by following the import to the app.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import analyze, write_project

LAYOUTS = {
    "celery": (
        "from celery import Celery\napp = Celery('proj')\n",
        """
        from proj.app import app

        @app.task(autoretry_for=(OSError,), max_retries=4)
        def work():
            pass
        """,
    ),
    "huey": (
        "from huey import RedisHuey\napp = RedisHuey('proj')\n",
        """
        from proj.app import app

        @app.task(retries=4)
        def work():
            pass
        """,
    ),
    "taskiq": (
        "from taskiq import InMemoryBroker\napp = InMemoryBroker()\n",
        """
        from proj.app import app

        @app.task(retry_on_error=True, max_retries=4)
        async def work():
            pass
        """,
    ),
    "procrastinate": (
        "import procrastinate\n"
        "app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector())\n",
        """
        from proj.app import app

        @app.task(retry=4)
        def work():
            pass
        """,
    ),
}


@pytest.mark.parametrize("framework", sorted(LAYOUTS))
def test_a_task_file_alone_is_read_through_its_app_module(tmp_path: Path, framework: str) -> None:
    app, tasks = LAYOUTS[framework]
    root = write_project(
        tmp_path,
        {
            "proj/__init__.py": "",
            "proj/app.py": app,
            "proj/sub/__init__.py": "",
            "proj/sub/tasks.py": tasks,
        },
    )
    whole = [(r.framework, r.name, r.max_retries) for r in analyze(root).rows]
    alone = [
        (r.framework, r.name, r.max_retries)
        for r in analyze(root, [root / "proj" / "sub" / "tasks.py"]).rows
    ]
    assert [kind for kind, _, _ in whole] == [framework]
    assert alone == whole
