"""The adapter registry: one line per framework, in CONTRACTS §8 order; everything else the
engine, reports and version detection know of a framework comes from its adapter."""

from __future__ import annotations

from retrylint.frameworks.arq import ArqAdapter
from retrylint.frameworks.asynq import AsynqAdapter
from retrylint.frameworks.backoff import BackoffAdapter
from retrylint.frameworks.base import GoAdapter, PythonAdapter
from retrylint.frameworks.celery import CeleryAdapter
from retrylint.frameworks.django_q2 import DjangoQ2Adapter
from retrylint.frameworks.dramatiq import DramatiqAdapter
from retrylint.frameworks.huey import HueyAdapter
from retrylint.frameworks.procrastinate import ProcrastinateAdapter
from retrylint.frameworks.rq import RQAdapter
from retrylint.frameworks.saq import SaqAdapter
from retrylint.frameworks.stamina import StaminaAdapter
from retrylint.frameworks.taskiq import TaskiqAdapter
from retrylint.frameworks.temporal import TemporalAdapter
from retrylint.frameworks.tenacity import TenacityAdapter
from retrylint.model import FrameworkInfo

PYTHON_ADAPTERS: tuple[PythonAdapter, ...] = (
    CeleryAdapter(),
    DramatiqAdapter(),
    RQAdapter(),
    HueyAdapter(),
    ArqAdapter(),
    TaskiqAdapter(),
    ProcrastinateAdapter(),
    SaqAdapter(),
    DjangoQ2Adapter(),
    TemporalAdapter(),
    TenacityAdapter(),
    BackoffAdapter(),
    StaminaAdapter(),
)
GO_ADAPTERS: tuple[GoAdapter, ...] = (AsynqAdapter(),)

# Display names, PyPI distributions and kinds, as each adapter declares them.
FRAMEWORK_INFO: dict[str, FrameworkInfo] = {
    **{a.key: a.info for a in PYTHON_ADAPTERS},
    **{a.key: a.info for a in GO_ADAPTERS},
}
# PyPI distributions whose pinned versions are read from dependency files.
DISTRIBUTIONS: dict[str, str] = {
    key: info.distribution for key, info in FRAMEWORK_INFO.items() if info.distribution
}

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
