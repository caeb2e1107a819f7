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


def two_services(modules: dict[str, str], limits: tuple[int, int] = (3, 7)) -> dict[str, str]:
    """`services/api` and `services/worker`, each with `modules` (a path under the service, and
    its text formatted with the service's `name` and `limit`), every folder a package."""
    packages = {f"{path.rpartition('/')[0]}/__init__.py": "" for path in modules if "/" in path}
    return {
        f"services/{name}/{path}": text.format(name=name, limit=limit)
        for name, limit in zip(("api", "worker"), limits, strict=True)
        for path, text in {**packages, **modules}.items()
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
    annotations = 'task_annotations = {{"*": {{"max_retries": {limit}}}}}\n'
    files = two_services({"app/worker.py": worker, "app/celeryconfig.py": annotations}, (2, 8))
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
    files = two_services({"app/tasks.py": source})
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
    worker = """
    from celery import Celery

    app = Celery("{name}")
    app.conf.task_annotations = {{"*": {{"max_retries": {limit}}}}}
    """
    shared = """
    from celery import shared_task

    @shared_task(autoretry_for=(IOError,), retry_backoff=True)
    def job_{name}():
        pass
    """
    files = two_services({"app/worker.py": worker, "app/shared.py": shared}, (2, 8))
    rows = rows_by_name(analyze(write_project(tmp_path, files)))
    assert rows["app.shared.job_api"].max_retries == 2
    assert rows["app.shared.job_worker"].max_retries == 8


def test_taskiq_brokers_of_the_same_name_keep_their_own_middlewares(tmp_path: Path) -> None:
    brokers = """
    from taskiq import SmartRetryMiddleware
    from taskiq_redis import ListQueueBroker

    broker = ListQueueBroker("redis://").with_middlewares(
        SmartRetryMiddleware(default_retry_count={limit})
    )
    """
    tasks = """
    from app.brokers import broker

    @broker.task(retry_on_error=True)
    async def job_{name}():
        pass
    """
    files = two_services({"app/brokers.py": brokers, "app/tasks.py": tasks})
    rows = {r.location.path: r for r in analyze(write_project(tmp_path, files)).rows}
    api, worker = rows["services/api/app/tasks.py"], rows["services/worker/app/tasks.py"]
    assert (api.max_retries, worker.max_retries) == (2, 6)


def test_dramatiq_brokers_of_the_same_name_and_each_service_set_broker(tmp_path: Path) -> None:
    broker = """
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker
    from dramatiq.middleware import Retries

    broker = RedisBroker(middleware=[Retries(max_retries={limit})])
    dramatiq.set_broker(broker)
    """
    tasks = """
    import dramatiq
    from app.broker import broker

    @dramatiq.actor(broker=broker)
    def explicit_{name}():
        pass

    @dramatiq.actor
    def implicit_{name}():
        pass
    """
    files = two_services({"app/broker.py": broker, "app/tasks.py": tasks})
    rows = rows_by_name(analyze(write_project(tmp_path, files)))
    for name, limit in (("api", 3), ("worker", 7)):
        assert rows[f"explicit_{name}"].max_retries == limit
        assert rows[f"implicit_{name}"].max_retries == limit


def test_django_settings_of_the_same_module_name_in_two_services(tmp_path: Path) -> None:
    celery = """
    import os
    from celery import Celery

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    app = Celery("x")
    """
    tasks = """
    from django.conf import settings
    from celery import shared_task

    @shared_task(autoretry_for=(IOError,), max_retries=settings.TASK_RETRIES, retry_backoff=True)
    def s_{name}():
        pass
    """
    modules = {
        "config/settings.py": "TASK_RETRIES = {limit}\n",
        "config/celery.py": celery,
        "shop/tasks.py": tasks,
    }
    rows = rows_by_name(analyze(write_project(tmp_path, two_services(modules))))
    assert rows["shop.tasks.s_api"].max_retries == 3
    assert rows["shop.tasks.s_worker"].max_retries == 7
