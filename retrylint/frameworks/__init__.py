"""The adapter registry: one line per framework, in CONTRACTS §8 order; everything else the
engine, reports and version detection know of a framework comes from its adapter.

Adapters are named here, not imported: `PYTHON_ADAPTERS`, `GO_ADAPTERS`, `FRAMEWORK_INFO` and
`DISTRIBUTIONS` are built on first access (PEP 562), so `retrylint --version`, `rules`,
`explain` and config validation start without loading fourteen adapter modules. `FRAMEWORKS`
is spelled out because config validation needs the names, not the adapters; a test checks that
it lists exactly the registered adapters' keys.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from retrylint.frameworks.base import GoAdapter, PythonAdapter
    from retrylint.model import FrameworkInfo

    PYTHON_ADAPTERS: tuple[PythonAdapter, ...]
    GO_ADAPTERS: tuple[GoAdapter, ...]
    # Display names, PyPI distributions and kinds, as each adapter declares them.
    FRAMEWORK_INFO: dict[str, FrameworkInfo]
    # PyPI distributions whose pinned versions are read from dependency files.
    DISTRIBUTIONS: dict[str, str]

# `module:Class` under retrylint.frameworks, one line per adapter, in the order adapters run.
_PYTHON: tuple[str, ...] = (
    "celery:CeleryAdapter",
    "dramatiq:DramatiqAdapter",
    "rq:RQAdapter",
    "huey:HueyAdapter",
    "arq:ArqAdapter",
    "taskiq:TaskiqAdapter",
    "procrastinate:ProcrastinateAdapter",
    "saq:SaqAdapter",
    "django_q2:DjangoQ2Adapter",
    "temporal:TemporalAdapter",
    "tenacity:TenacityAdapter",
    "backoff:BackoffAdapter",
    "stamina:StaminaAdapter",
)
_GO: tuple[str, ...] = ("asynq:AsynqAdapter",)

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


def _instances(entries: tuple[str, ...]) -> tuple[Any, ...]:
    """One instance of each named adapter class, importing its module now."""
    found = []
    for entry in entries:
        module, _, name = entry.partition(":")
        found.append(getattr(importlib.import_module(f"{__name__}.{module}"), name)())
    return tuple(found)


def _framework_info() -> dict[str, FrameworkInfo]:
    return {a.key: a.info for a in (*_table("PYTHON_ADAPTERS"), *_table("GO_ADAPTERS"))}


def _distributions() -> dict[str, str]:
    info: dict[str, FrameworkInfo] = _table("FRAMEWORK_INFO")
    return {key: i.distribution for key, i in info.items() if i.distribution}


_BUILDERS: dict[str, Callable[[], object]] = {
    "PYTHON_ADAPTERS": lambda: _instances(_PYTHON),
    "GO_ADAPTERS": lambda: _instances(_GO),
    "FRAMEWORK_INFO": _framework_info,
    "DISTRIBUTIONS": _distributions,
}


def _table(name: str) -> Any:
    """A registry table, built on first use and then kept as a module global, so later reads
    are plain attribute reads (Python calls `__getattr__` only for missing names; code in this
    module must call `_table`, since its own global lookups never reach `__getattr__`)."""
    if name not in globals():
        globals()[name] = _BUILDERS[name]()
    return globals()[name]


def __getattr__(name: str) -> object:
    if name not in _BUILDERS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _table(name)
