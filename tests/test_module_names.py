"""Module names as Python imports them (CONTRACTS §3), and the lazy loader finding them.

`module_name` reads the file system: the nearest `source-roots` entry, else the highest
ancestor with an `__init__.py`, namespace directories below it included. Extraction then
deepens the name when a relative import proves it deeper (`deepened`).
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from retrylint.python import ir
from retrylint.python.assemble import deepened
from retrylint.python.extract import extract
from retrylint.python.project import ModuleLocator
from retrylint.scan.files import module_name
from tests.conftest import analyze, rows_by_name, write_project

_NOTHING = ir.Interest(frozenset(), frozenset())


def _tree(root: Path, files: list[str]) -> Path:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("", encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("files", "target", "expected"),
    [
        # A namespace directory inside a package is part of the name.
        (
            ["portal/__init__.py", "portal/projects/__init__.py", "portal/projects/jobs/build.py"],
            "portal/projects/jobs/build.py",
            "portal.projects.jobs.build",
        ),
        # Two namespace levels, and one between two packages.
        (
            ["shop/__init__.py", "shop/a/b/run.py"],
            "shop/a/b/run.py",
            "shop.a.b.run",
        ),
        (
            ["shop/__init__.py", "shop/mid/inner/__init__.py", "shop/mid/inner/run.py"],
            "shop/mid/inner/run.py",
            "shop.mid.inner.run",
        ),
        # No `__init__.py` anywhere: a script folder, the stem alone.
        (["scripts/tools/run.py"], "scripts/tools/run.py", "run"),
        # A namespace chain above the highest package is not part of the name.
        (["outer/pkg/__init__.py", "outer/pkg/mod.py"], "outer/pkg/mod.py", "pkg.mod"),
        # A trailing `__init__` is dropped.
        (["pkg/__init__.py", "pkg/sub/__init__.py"], "pkg/sub/__init__.py", "pkg.sub"),
        (["__init__.py", "top.py"], "top.py", "top"),
    ],
)
def test_module_name_from_the_file_system(
    tmp_path: Path, files: list[str], target: str, expected: str
) -> None:
    root = _tree(tmp_path, files)
    assert module_name(target, root, ()) == expected


def test_module_name_under_source_roots(tmp_path: Path) -> None:
    root = _tree(tmp_path, ["src/pkg/mod.py", "src/pkg/__init__.py", "lib/ext/tool.py"])
    roots = ("src", "./lib/", "lib/ext")
    # The nearest (longest) root wins; `__init__.py` files do not matter under a root.
    assert module_name("src/pkg/mod.py", root, roots) == "pkg.mod"
    assert module_name("lib/ext/tool.py", root, roots) == "tool"
    assert module_name("src/pkg/__init__.py", root, roots) == "pkg"
    assert module_name("other/x.py", root, roots) == "x"


@pytest.mark.parametrize(
    ("path", "dotted", "level", "expected"),
    [
        ("app/jobs/tasks.py", "tasks", 2, "app.jobs.tasks"),
        ("app/jobs/tasks.py", "app.jobs.tasks", 2, "app.jobs.tasks"),
        ("app/jobs/tasks.py", "jobs.tasks", 1, "jobs.tasks"),  # already deep enough
        ("pkg/sub/__init__.py", "sub", 2, "pkg.sub"),  # a package is its own package
        ("x.py", "x", 3, "x"),  # nothing above the project root
        ("../elsewhere/m.py", "m", 2, "elsewhere.m"),
    ],
)
def test_deepened(path: str, dotted: str, level: int, expected: str) -> None:
    assert deepened(dotted, path, level) == expected


def _summary(source: str, path: str, dotted: str) -> ir.ModuleSummary:
    return extract(cst.parse_module(source), path, dotted, _NOTHING)


def test_relative_import_proves_the_depth() -> None:
    summary = _summary("from ..conf import app\n", "app/jobs/tasks.py", "tasks")
    assert summary.module == "app.jobs.tasks"
    assert [(i.local, i.target) for i in summary.imports] == [("app", "app.conf.app")]


def test_relative_import_inside_a_function_counts() -> None:
    source = (
        "from . import helpers\n"
        "class Jobs:\n"
        "    def run(self):\n"
        "        from ...settings import LIMIT\n"
    )
    summary = _summary(source, "a/b/c/jobs.py", "jobs")
    assert summary.module == "a.b.c.jobs"
    # Module-level targets use the final name.
    assert [i.target for i in summary.imports] == ["a.b.c.helpers"]


def test_relative_import_text_in_a_string_does_not_count() -> None:
    source = 'NOTE = """\nfrom ...settings import LIMIT\n"""\n'
    source += 'class X:\n    y = "from ..z import q"\n'
    assert _summary(source, "a/b/c/jobs.py", "jobs").module == "jobs"


def test_star_and_bare_relative_imports() -> None:
    source = "from .base import *\nfrom .. import siblings\n"
    summary = _summary(source, "proj/settings/prod.py", "prod")
    assert summary.module == "proj.settings.prod"
    assert [(i.local, i.target) for i in summary.imports] == [
        ("*", "proj.settings.base"),
        ("siblings", "proj.siblings"),
    ]


def test_tasks_in_namespace_directories_are_named_in_full(tmp_path: Path) -> None:
    """A task module in a directory without `__init__.py` inside a package, reading a
    constant from a sibling module that is only loaded on demand (no framework marker)."""
    root = write_project(
        tmp_path,
        {
            "portal/__init__.py": "",
            "portal/worker.py": """
                from celery import Celery

                app = Celery("portal")
            """,
            "portal/projects/__init__.py": "",
            "portal/projects/jobs/limits.py": "BUILD_RETRIES = 4\n",
            "portal/projects/jobs/build.py": """
                from portal.worker import app
                from portal.projects.jobs.limits import BUILD_RETRIES

                @app.task(autoretry_for=(OSError,), max_retries=BUILD_RETRIES)
                def build():
                    pass
            """,
            # No package at all above this one; its relative import proves two levels.
            "ops/cron/__init__.py": "",
            "ops/cron/sweep.py": """
                from ..worker_app import app

                @app.task(autoretry_for=(OSError,), max_retries=2)
                def sweep():
                    pass
            """,
            "ops/worker_app.py": """
                from celery import Celery

                app = Celery("ops")
            """,
        },
    )
    rows = rows_by_name(analyze(root))
    assert sorted(rows) == ["ops.cron.sweep.sweep", "portal.projects.jobs.build.build"]
    build = rows["portal.projects.jobs.build.build"]
    assert build.max_retries == 4 and build.sources["max_retries"].source == "explicit"
    assert rows["ops.cron.sweep.sweep"].max_retries == 2


def test_locator_finds_modules_in_namespace_directories(tmp_path: Path) -> None:
    root = _tree(
        tmp_path, ["pkg/__init__.py", "pkg/ns/deeper/mod.py", "pkg/ns/deeper/sub/__init__.py"]
    )
    locator = ModuleLocator(root, [root])
    assert locator.find("pkg.ns.deeper.mod") == root / "pkg/ns/deeper/mod.py"
    assert locator.find("pkg.ns.deeper.sub") == root / "pkg/ns/deeper/sub/__init__.py"
    # A namespace directory itself is no file: resolution goes on with a shorter prefix.
    assert locator.find("pkg.ns") is None
