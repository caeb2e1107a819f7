"""Celery app settings that change how failures come back, read like Celery layers them.

From celery/app/task.py `Task.bind`: `acks_late`, `reject_on_worker_lost` and
`acks_on_failure_or_timeout` left None on the task are filled from `task_acks_late`,
`task_reject_on_worker_lost` and `task_acks_on_failure_or_timeout`, then annotations are set over
them. From app/amqp.py: a call's `retry_policy` is merged over `task_publish_retry_policy`, and
`task_publish_retry=False` turns publish retries off. From app/utils.py `detect_settings`: with a
namespace only the prefixed new names count; without one, new or old names. The witnesses are
each row's `final_failure` (acks_late with acks_on_failure_or_timeout=False dead-letters) and the
RL106/RL107 findings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, analyze, rows_by_name, write_project

DLX = "rejected to the broker's dead-letter exchange (acks_on_failure_or_timeout=False)"
FINAL_FAILURE = {
    "portal.tasks.inherits": DLX,
    "portal.tasks.acks_early": "nowhere",  # its own acks_late=False beats the setting
    "portal.tasks.left_none": DLX,  # acks_late=None is filled from the setting
    "portal.tasks.annotated": "nowhere",  # the annotation beats the setting
    "portal.tasks.rejects": DLX,
    "worker.app.crunch": "nowhere",  # the app's own conf beats its config module
}


@pytest.fixture(scope="module")
def report() -> Any:
    return analyze(FIXTURES / "celery_config")


@pytest.mark.parametrize("task", sorted(FINAL_FAILURE))
def test_final_failure_follows_the_app_settings(report: Any, task: str) -> None:
    assert rows_by_name(report)[task].final_failure == FINAL_FAILURE[task]


def test_findings_are_at_the_setting_once(report: Any) -> None:
    found = sorted(
        (f.rule, f.location.path, f.location.line, f.location.column, f.task)
        for f in report.findings
        if f.rule in ("RL106", "RL107")
    )
    assert found == [
        ("RL106", "portal/settings.py", 4, 37, None),  # task_reject_on_worker_lost
        ("RL106", "portal/tasks.py", 24, 33, "portal.tasks.rejects"),  # its own setting
        ("RL107", "portal/settings.py", 6, 36, None),  # task_publish_retry_policy
    ]
    (loop,) = [f for f in report.findings if f.rule == "RL106" and f.task is None]
    assert "acks_late at portal/settings.py:3" in loop.message
    (publish,) = [f for f in report.findings if f.rule == "RL107"]
    assert "max_retries=None" in publish.message and publish.severity == "warning"


def _final(tmp_path: Path, files: dict[str, str]) -> dict[str, str]:
    rows = rows_by_name(analyze(write_project(tmp_path, files)))
    return {name: row.final_failure for name, row in rows.items()}


def test_app_factory_and_conf_update(tmp_path: Path) -> None:
    final = _final(
        tmp_path,
        {
            "app.py": """
                from celery import Celery

                def make():
                    made = Celery()
                    made.conf.task_acks_late = True
                    made.conf.update({"task_acks_on_failure_or_timeout": False})
                    return made

                app = make()

                @app.task
                def t():
                    pass
            """
        },
    )
    assert final == {"app.t": DLX}


def test_split_django_settings_are_followed(tmp_path: Path) -> None:
    final = _final(
        tmp_path,
        {
            "proj/__init__.py": "",
            "proj/settings/__init__.py": "from .base import *\n",
            "proj/settings/base.py": """
                CELERY_TASK_ACKS_LATE = True
                CELERY_TASK_ACKS_ON_FAILURE_OR_TIMEOUT = False
            """,
            "proj/celery.py": """
                import os
                from celery import Celery
                os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
                app = Celery("proj")
                app.config_from_object("django.conf:settings", namespace="CELERY")

                @app.task
                def t():
                    pass
            """,
        },
    )
    assert final == {"proj.celery.t": DLX}


def test_apps_that_disagree_decide_nothing_for_a_shared_task(tmp_path: Path) -> None:
    final = _final(
        tmp_path,
        {
            "apps.py": """
                from celery import Celery, shared_task
                one = Celery("one")
                one.conf.update(task_acks_late=True, task_acks_on_failure_or_timeout=False)
                two = Celery("two")
                two.conf.task_acks_on_failure_or_timeout = False

                @shared_task
                def t():
                    pass
            """
        },
    )
    assert final == {"apps.t": "nowhere"}


def test_publish_policy_without_none_or_outside_paths_is_not_reported(tmp_path: Path) -> None:
    project = write_project(
        tmp_path,
        {
            "conf/celeryconfig.py": "task_publish_retry_policy = {'max_retries': None}\n",
            "conf/__init__.py": "",
            "app/__init__.py": "",
            "app/main.py": """
                from celery import Celery
                app = Celery()
                app.config_from_object("conf.celeryconfig")
                app.conf.task_publish_retry_policy = {"max_retries": 5}
            """,
            "other/__init__.py": "",
            "other/main.py": """
                from celery import Celery
                other = Celery()
                other.config_from_object("conf.celeryconfig")

                @other.task
                def t():
                    pass
            """,
        },
    )
    # The app's own policy is bounded; the other app's comes from a file outside PATHS.
    findings = analyze(project, [project / "app", project / "other"]).findings
    assert [f.rule for f in findings if f.rule == "RL107"] == []
    everywhere = analyze(project).findings
    assert [(f.rule, f.location.path) for f in everywhere if f.rule == "RL107"] == [
        ("RL107", "conf/celeryconfig.py")
    ]


def test_own_annotations_replace_the_config_modules(tmp_path: Path) -> None:
    """`app.conf.task_annotations = ...` is the setting; the module's value is not merged in."""
    project = write_project(
        tmp_path,
        {
            "celeryconfig.py": """
                CELERY_ANNOTATIONS = {"*": {"max_retries": 9}, "app.t": {"default_retry_delay": 4}}
            """,
            "app.py": """
                from celery import Celery
                app = Celery()
                app.config_from_object("celeryconfig")
                app.conf.task_annotations = {"app.t": {"max_retries": 2}}

                @app.task(autoretry_for=(OSError,))
                def t():
                    pass
            """,
        },
    )
    row = rows_by_name(analyze(project))["app.t"]
    assert (row.max_retries, row.delays_seconds) == (2, (180, 180))
    count = row.sources["max_retries"]
    assert count.source == "config" and count.location is not None
    assert (count.location.path, count.location.line) == ("app.py", 4)
