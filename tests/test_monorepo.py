"""Services of a monorepo that share module names: each resolves imports to its own modules.

`services/api` and `services/worker` each have an `app` package with a `config` module and a
task wrapper. Run, each service has its own folder on `sys.path`, so `from app.config import
LIMIT` means that service's config. Module names alone cannot tell them apart; the importer's
folder does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import analyze, rows_by_name, write_project

TASKS = """
from celery import shared_task
from app.config import LIMIT
from app.wrappers import retrying
from app.defaults import *

@shared_task(autoretry_for=(IOError,), max_retries=LIMIT, retry_backoff=True)
def send_{name}():
    pass

@retrying
def poll_{name}():
    pass

@shared_task(autoretry_for=(IOError,), max_retries=STARRED, retry_backoff=True)
def starred_{name}():
    pass
"""
WRAPPERS = """
from celery import shared_task

retrying = shared_task(autoretry_for=(IOError,), max_retries={limit}, retry_backoff=True)
"""


def service(name: str, limit: int) -> dict[str, str]:
    base = f"services/{name}/app"
    return {
        f"{base}/__init__.py": "",
        f"{base}/config.py": f"LIMIT = {limit}\n",
        f"{base}/defaults.py": f"STARRED = {limit + 1}\n",
        f"{base}/wrappers.py": WRAPPERS.format(limit=limit + 2),
        f"{base}/tasks.py": TASKS.format(name=name),
    }


@pytest.mark.parametrize("workers", [1, 2])
def test_each_service_reads_its_own_modules(tmp_path: Path, workers: int) -> None:
    root = write_project(tmp_path, {**service("api", 3), **service("worker", 7)})
    rows = rows_by_name(analyze(root, workers=workers))
    for name, limit in (("api", 3), ("worker", 7)):
        assert rows[f"app.tasks.send_{name}"].max_retries == limit
        assert rows[f"app.tasks.starred_{name}"].max_retries == limit + 1
        assert rows[f"app.tasks.poll_{name}"].max_retries == limit + 2


def test_a_module_only_one_service_has_is_still_found_from_the_other(tmp_path: Path) -> None:
    # `libs/` is a base of its own (a library the service puts on its path).
    files = {**service("api", 3), "libs/common/__init__.py": "", "libs/common/limits.py": "N = 5\n"}
    files["services/api/app/tasks.py"] += (
        "\nfrom common.limits import N\n\n"
        "@shared_task(autoretry_for=(IOError,), max_retries=N, retry_backoff=True)\n"
        "def shared_limit():\n    pass\n"
    )
    root = write_project(tmp_path, files)
    # Without `source-roots`, `libs` is a base only once a module there was read: name it.
    (root / "retrylint.toml").write_text('source-roots = ["services/api", "libs"]\n')
    rows = rows_by_name(analyze(root))
    assert rows["app.tasks.shared_limit"].max_retries == 5
    assert rows["app.tasks.send_api"].max_retries == 3


def test_celery_apps_of_the_same_name_keep_their_own_settings(tmp_path: Path) -> None:
    worker = """
    from celery import Celery

    app = Celery("{name}")
    app.config_from_object("app.celeryconfig")

    @app.task(autoretry_for=(IOError,), retry_backoff=True)
    def job_{name}():
        pass
    """
    files = {}
    for name, limit in (("api", 2), ("worker", 8)):
        base = f"services/{name}/app"
        files[f"{base}/__init__.py"] = ""
        files[f"{base}/worker.py"] = worker.format(name=name)
        files[f"{base}/celeryconfig.py"] = (
            f'task_annotations = {{"*": {{"max_retries": {limit}}}}}\n'
        )
    rows = rows_by_name(analyze(write_project(tmp_path, files)))
    assert rows["app.worker.job_api"].max_retries == 2
    assert rows["app.worker.job_worker"].max_retries == 8
