"""The adapter registry: one line per framework, in CONTRACTS §8 order."""

from __future__ import annotations

from retrylint.frameworks.base import GoAdapter, PythonAdapter
from retrylint.frameworks.celery import CeleryAdapter

PYTHON_ADAPTERS: tuple[PythonAdapter, ...] = (CeleryAdapter(),)
GO_ADAPTERS: tuple[GoAdapter, ...] = ()

FRAMEWORKS: tuple[str, ...] = (
    "celery",
    "dramatiq",
    "rq",
    "huey",
    "arq",
    "taskiq",
    "procrastinate",
    "saq",
    "django-q2",
    "temporal",
    "asynq",
    "tenacity",
    "backoff",
    "stamina",
)
