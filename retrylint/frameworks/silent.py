"""Frameworks that scanned code imports but that gave no row in the whole run: RL004's evidence.

A framework imported without a single task means either that the project declares tasks in a
form retrylint does not recognise (an in-house wrapper, a registry) or that this code only
enqueues or configures; either way the run must not look like a clean pass. This module gathers
what the finding shows: which modules import the framework, and which decorators in them no
adapter recognised, resolved to the dotted names `[frameworks.<fw>] task-decorators` accepts.
"""

from __future__ import annotations

import builtins
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from fnmatch import fnmatchcase

from retrylint import frameworks
from retrylint.frameworks.base import PythonAdapter
from retrylint.model import EffectivePolicy, Location, SilentFramework
from retrylint.python import ir
from retrylint.python.project import Project

NOT_TASK_DECORATORS: tuple[str, ...] = (
    # `property`, `staticmethod`, `classmethod` (unresolved builtins are named `builtins.*`).
    "builtins.*",
    # `wraps`, `cache`, `lru_cache`, `cached_property`, `singledispatch`, `overload`, `final`,
    # `contextmanager`, `dataclass`, `abstractmethod`, `unique`: language plumbing, never a task.
    "functools.*",
    "typing.*",
    "typing_extensions.*",
    "contextlib.*",
    "dataclasses.*",
    "abc.*",
    "enum.*",
    # Test helpers: test code is rarely scanned, but conftest-style helpers live in packages.
    "pytest.*",
    "unittest.*",
    # `@name.setter` of a property defined in the class body (not resolvable at module scope).
    "*.setter",
    "*.getter",
    "*.deleter",
)
"""Decorators (fnmatch patterns over the resolved dotted name) never listed as task wrappers."""

# Retry libraries are utilities: a module may import one only to catch its exception, to type a
# callback or to switch retries off in tests, and then legitimately yields no row; such imports
# (`FrameworkInfo.incidental`, declared by each adapter) are not evidence. Task queues declare
# none: a project that imports a task queue and declares no task anywhere in the run is exactly
# what RL004 is for.


def collect_silent_frameworks(
    adapters: Iterable[PythonAdapter],
    scanned: Sequence[ir.ModuleSummary],
    project: Project,
    rows: Iterable[EffectivePolicy],
) -> tuple[SilentFramework, ...]:
    """One entry per adapter that ran, whose framework scanned modules import, with no row.

    `scanned` are the modules under PATHS (sorted by path), where rows are reported; `rows` is
    the whole run's inventory, so a framework with a task anywhere in the run is never silent.
    """
    found = {row.framework for row in rows}
    known = tuple(package for a in frameworks.PYTHON_ADAPTERS for package in a.packages)
    silent: list[SilentFramework] = []
    for adapter in adapters:
        if adapter.key in found:
            continue
        importers = [
            (summary, first)
            for summary in scanned
            if (first := _first_import(summary, adapter)) is not None
        ]
        if not importers:
            continue
        uses: Counter[str] = Counter()
        in_project: set[str] = set()
        for summary, _ in importers:
            for name, local in _decorators(summary, project, known):
                uses[name] += 1
                if local:
                    in_project.add(name)
        decorators = tuple(sorted(uses.items(), key=lambda item: (-item[1], item[0])))
        summary, first = importers[0]
        span = first.span
        silent.append(
            SilentFramework(
                framework=adapter.key,
                location=Location(
                    summary.path, span.line, span.column, span.end_line, span.end_column
                ),
                modules=tuple(s.path for s, _ in importers),
                decorators=decorators,
                wrappers=tuple(name for name, _ in decorators if name in in_project),
                retry_library=adapter.info.in_process,
            )
        )
    return tuple(silent)


def _first_import(summary: ir.ModuleSummary, adapter: PythonAdapter) -> ir.Import | None:
    """The module's first import of the framework that can declare something, by position."""
    incidental = adapter.info.incidental
    for imp in sorted(summary.imports, key=lambda i: (i.span.line, i.span.column)):
        for package in adapter.packages:
            if imp.target == package:
                return imp
            below = imp.target.removeprefix(package + ".")
            if below != imp.target and below.partition(".")[0] not in incidental:
                return imp
    return None


def _decorators(
    summary: ir.ModuleSummary, project: Project, known: tuple[str, ...]
) -> Iterator[tuple[str, bool]]:
    """Each unrecognised decorator use in a module: its dotted name, and whether the project
    defines it (only then can `task-decorators` name it).

    Decorators of supported frameworks are left out: the adapters know them, and one that gave
    no row was not applied where a task can be declared (a method, a nested function).
    """
    functions = [*summary.functions, *(m for c in summary.classes for m in c.methods)]
    for function in functions:
        for decorator in function.decorators:
            target = decorator
            while isinstance(target, ir.Call):
                target = target.func  # `@task(...)`, `@make()(...)`: the callee names it
            if not isinstance(target, ir.Ref):
                continue
            name, local = _resolve(target.dotted, summary, project)
            if any(name == p or name.startswith(p + ".") for p in known):
                continue
            if any(fnmatchcase(name, pattern) for pattern in NOT_TASK_DECORATORS):
                continue
            yield name, local


def _resolve(dotted: str, summary: ir.ModuleSummary, project: Project) -> tuple[str, bool]:
    """The qualified name a decorator refers to, through the module's imports and re-exports."""
    found = project.resolve(summary, dotted)
    if found is None:
        # Builtins are not bindings anywhere; a name left unresolved otherwise keeps its text.
        if "." not in dotted and hasattr(builtins, dotted):
            return f"builtins.{dotted}", False
        return dotted, False
    if found.kind in ("function", "class", "binding", "ambiguous"):
        return found.qualified, True
    # `app.task` on a project binding resolves to an attribute path below a project module.
    parts = found.qualified.split(".")
    local = any(project.module(".".join(parts[:cut])) for cut in range(len(parts) - 1, 0, -1))
    return found.qualified, local
