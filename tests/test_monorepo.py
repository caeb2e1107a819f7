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


@pytest.mark.parametrize(
    ("framework", "source", "expected"),
    [
        (
            "huey",
            "from huey import RedisHuey\n\nhuey = RedisHuey('{name}')\n\n"
            "@huey.task(retries={limit}, retry_delay=5)\ndef send():\n    pass\n",
            "app.tasks.send",
        ),
        (
            "dramatiq",
            "import dramatiq\n\n@dramatiq.actor(max_retries={limit})\ndef send():\n    pass\n",
            "send",
        ),
    ],
)
def test_tasks_of_the_same_name_in_two_services_are_both_listed(
    tmp_path: Path, framework: str, source: str, expected: str
) -> None:
    files = {}
    for name, limit in (("api", 3), ("worker", 7)):
        files[f"services/{name}/app/__init__.py"] = ""
        files[f"services/{name}/app/tasks.py"] = source.format(name=name, limit=limit)
    rows = [r for r in analyze(write_project(tmp_path, files)).rows if r.name == expected]
    found = sorted((r.location.path, r.max_retries) for r in rows)
    assert found == [("services/api/app/tasks.py", 3), ("services/worker/app/tasks.py", 7)]


@pytest.mark.parametrize("task_class_in", ["api", "worker"])
def test_a_base_class_is_a_task_class_in_its_own_service_only(
    tmp_path: Path, task_class_in: str
) -> None:
    files = {}
    for name in ("api", "worker"):
        base = f"services/{name}/app"
        files[f"{base}/__init__.py"] = ""
        files[f"{base}/base.py"] = (
            "from celery import Task\n\nclass Base(Task):\n    autoretry_for = (IOError,)\n"
            "    max_retries = 4\n"
            if name == task_class_in
            else "class Base:\n    pass\n"
        )
        files[f"{base}/worker.py"] = (
            f"from celery import Celery\nfrom app.base import Base\n\napp = Celery('{name}')\n\n"
            f"class Job(Base):\n    name = 'job_{name}'\n\n    def run(self):\n        pass\n\n"
            "app.register_task(Job())\n"
        )
    rows = analyze(write_project(tmp_path, files)).rows
    assert [r.name for r in rows] == [f"job_{task_class_in}"]


def test_a_shared_task_runs_under_the_apps_of_its_own_service(tmp_path: Path) -> None:
    files = {}
    for name, limit in (("api", 2), ("worker", 8)):
        base = f"services/{name}/app"
        files[f"{base}/__init__.py"] = ""
        files[f"{base}/worker.py"] = (
            f"from celery import Celery\n\napp = Celery('{name}')\n"
            f"app.conf.task_annotations = {{'*': {{'max_retries': {limit}}}}}\n"
        )
        files[f"{base}/shared.py"] = (
            "from celery import shared_task\n\n"
            "@shared_task(autoretry_for=(IOError,), retry_backoff=True)\n"
            f"def job_{name}():\n    pass\n"
        )
    rows = rows_by_name(analyze(write_project(tmp_path, files)))
    assert rows["app.shared.job_api"].max_retries == 2
    assert rows["app.shared.job_worker"].max_retries == 8


def test_taskiq_brokers_of_the_same_name_keep_their_own_middlewares(tmp_path: Path) -> None:
    files = {}
    for name, count in (("api", 3), ("worker", 7)):
        base = f"services/{name}/app"
        files[f"{base}/__init__.py"] = ""
        files[f"{base}/brokers.py"] = (
            "from taskiq import SmartRetryMiddleware\nfrom taskiq_redis import ListQueueBroker\n\n"
            "broker = ListQueueBroker('redis://').with_middlewares(\n"
            f"    SmartRetryMiddleware(default_retry_count={count})\n)\n"
        )
        files[f"{base}/tasks.py"] = (
            "from app.brokers import broker\n\n@broker.task(retry_on_error=True)\n"
            f"async def job_{name}():\n    pass\n"
        )
    rows = {r.location.path: r for r in analyze(write_project(tmp_path, files)).rows}
    api, worker = rows["services/api/app/tasks.py"], rows["services/worker/app/tasks.py"]
    assert (api.max_retries, worker.max_retries) == (2, 6)


def test_dramatiq_brokers_of_the_same_name_and_each_service_set_broker(tmp_path: Path) -> None:
    files = {}
    for name, limit in (("api", 3), ("worker", 7)):
        base = f"services/{name}/app"
        files[f"{base}/__init__.py"] = ""
        files[f"{base}/broker.py"] = (
            "import dramatiq\nfrom dramatiq.brokers.redis import RedisBroker\n"
            "from dramatiq.middleware import Retries\n\n"
            f"broker = RedisBroker(middleware=[Retries(max_retries={limit})])\n"
            "dramatiq.set_broker(broker)\n"
        )
        files[f"{base}/tasks.py"] = (
            "import dramatiq\nfrom app.broker import broker\n\n"
            f"@dramatiq.actor(broker=broker)\ndef explicit_{name}():\n    pass\n\n"
            f"@dramatiq.actor\ndef implicit_{name}():\n    pass\n"
        )
    rows = rows_by_name(analyze(write_project(tmp_path, files)))
    for name, limit in (("api", 3), ("worker", 7)):
        assert rows[f"explicit_{name}"].max_retries == limit
        assert rows[f"implicit_{name}"].max_retries == limit


def test_django_settings_of_the_same_module_name_in_two_services(tmp_path: Path) -> None:
    files = {}
    for name, limit in (("api", 3), ("worker", 7)):
        base = f"services/{name}"
        files[f"{base}/config/__init__.py"] = ""
        files[f"{base}/config/settings.py"] = f"TASK_RETRIES = {limit}\n"
        files[f"{base}/config/celery.py"] = (
            "import os\nfrom celery import Celery\n\n"
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
            "app = Celery('x')\n"
        )
        files[f"{base}/shop/__init__.py"] = ""
        files[f"{base}/shop/tasks.py"] = (
            "from django.conf import settings\nfrom celery import shared_task\n\n"
            "@shared_task(autoretry_for=(IOError,), max_retries=settings.TASK_RETRIES,"
            " retry_backoff=True)\n"
            f"def s_{name}():\n    pass\n"
        )
    rows = rows_by_name(analyze(write_project(tmp_path, files)))
    assert rows["shop.tasks.s_api"].max_retries == 3
    assert rows["shop.tasks.s_worker"].max_retries == 7
