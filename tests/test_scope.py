"""The later rounds look for a name only where a file can import it from.

`retrying` is a Celery wrapper defined in a shared library of a monorepo (`libs/common`, a base
folder of its own). The services use it as `@retrying` in files that never name Celery, by an
absolute import, through another package that re-exports it, by name or by `*`. Another
service has its own, unrelated `retrying`. Every use that can reach the wrapper is found; a
file that cannot is not even parsed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from retrylint.python import ir
from retrylint.scan.files import module_name
from retrylint.scan.scope import Scope, ScopedNames, scopes
from tests.conftest import analyze, rows_by_name, write_project

WRAPPER = """
from celery import shared_task

retrying = shared_task(autoretry_for=(IOError,), max_retries=4, retry_backoff=True)
"""
USE = """
{imports}

@retrying
def {name}():
    pass
"""

SHARED = {
    "libs/common/common/__init__.py": "",
    "libs/common/common/queue.py": WRAPPER,
    # Re-exported by packages of other base folders, by name and by `*`.
    "libs/tools/tools/__init__.py": "from common.queue import retrying\n",
    "libs/more/more/__init__.py": "from common.queue import *\n",
    "libs/most/most/__init__.py": "from more import *\n",
}
USES = {
    "direct": "from common.queue import retrying",
    "by_name": "from tools import retrying",
    "by_star": "from more import retrying",
    "by_star_of_star": "from most import retrying",
    "module": "from common import queue\nretrying = queue.retrying",
}


def project(tmp_path: Path) -> Path:
    files = dict(SHARED)
    for name, imports in USES.items():
        files[f"services/{name}/{name}/__init__.py"] = ""
        files[f"services/{name}/{name}/jobs.py"] = USE.format(imports=imports, name=name)
    # Beside the wrapper: a relative import names none of its packages.
    files["libs/common/common/jobs.py"] = USE.format(
        imports="from .queue import retrying", name="near"
    )
    return write_project(tmp_path, files)


@pytest.mark.parametrize("workers", [1, 2])
def test_every_use_that_can_import_the_wrapper_is_found(tmp_path: Path, workers: int) -> None:
    rows = rows_by_name(analyze(project(tmp_path), workers=workers))
    for name in [*USES, "near"]:
        module = "common" if name == "near" else name
        assert rows[f"{module}.jobs.{name}"].max_retries == 4, name


def scoped_names(root: Path, parsed: list[ir.ModuleSummary], names: set[str]) -> ScopedNames:
    def dotted(path: str) -> str:
        return module_name(path, root, [])

    return ScopedNames(scopes(names, parsed, dotted), dotted)


def summary(path: str, module: str, **kinds: tuple[object, ...]) -> ir.ModuleSummary:
    return ir.ModuleSummary(
        path=path,
        module=module,
        imports=kinds.get("imports", ()),  # type: ignore[arg-type]
        bindings=kinds.get("bindings", ()),  # type: ignore[arg-type]
        calls=(),
        functions=kinds.get("functions", ()),  # type: ignore[arg-type]
        classes=(),
    )


SPAN = ir.Span(1, 0, 1, 1)


def binding(target: str) -> ir.Binding:
    return ir.Binding(target, ir.Opaque("x", SPAN), SPAN)


# `retrying`, defined at the top level of `common.queue` in its own base folder.
WRAPPER_MODULE = summary(
    "libs/common/common/queue.py", "common.queue", bindings=(binding("retrying"),)
)


def test_the_scope_of_a_name_is_where_it_is_defined_and_re_exported() -> None:
    wrapper = WRAPPER_MODULE
    again = summary(
        "libs/tools/tools/__init__.py",
        "tools",
        imports=(ir.Import("retrying", "common.queue.retrying", SPAN),),
    )
    starred = summary(
        "libs/more/more/__init__.py", "more", imports=(ir.Import("*", "common.queue", SPAN),)
    )
    unrelated = summary(
        "services/other/other/x.py", "other.x", imports=(ir.Import("retrying", "z.retrying", SPAN),)
    )
    found = scopes(
        {"retrying", "nowhere"},
        [wrapper, again, starred, unrelated],
        lambda p: {s.path: s.module for s in (wrapper, again, starred, unrelated)}[p],
    )
    assert found["nowhere"] is None  # looked for everywhere
    scope = found["retrying"]
    assert scope == Scope(
        frozenset({"libs/common", "libs/tools", "libs/more"}),
        # Any folder of a definer's path, its own name, and the parts of its dotted name.
        frozenset({"libs", "common", "queue", "tools", "more"}),
        # `from z import retrying` does not re-export this wrapper; its origin is noted.
        frozenset({"common.queue", "common.queue.retrying", "z", "z.retrying"}),
        frozenset({"common.queue", "tools", "more"}),
    )


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        # Under the base folder of the definition: any mention, as before.
        ("libs/common/common/other.py", "from . import retrying as r\nretrying\n", True),
        # Elsewhere, an absolute import spells out the defining package.
        ("services/a/a/x.py", "from common.queue import retrying\n", True),
        ("services/a/a/x.py", "import common\n@common.queue.retrying\n", True),
        # Elsewhere without it: another service's own `retrying`.
        ("services/a/a/x.py", "def retrying():\n    pass\n", False),
        ("services/a/a/x.py", "from .local import retrying\n", False),
        # A part of a word is not the name, nor the package.
        ("services/a/a/x.py", "from common.queue import retrying_not\n", False),
        ("services/a/a/x.py", "from uncommon import retrying\n", False),
        # A star import of the defining package: it may re-export the name.
        ("services/a/a/x.py", "from common.queue import *\n", True),
        ("services/a/a/x.py", "from os.path import *\n", False),
        ("services/a/a/x.py", "from common.other import *\n", False),
        # A star import of the defining module re-exports the name, wherever it is.
        ("libs/common/common/star.py", "from .queue import *\n", True),
        ("libs/common/other/__init__.py", "from common.queue import *\n", True),
        ("services/a/a/star.py", "from .queue import *\n", False),
    ],
)
def test_a_later_round_takes_a_file_only_where_it_can_use_the_name(
    tmp_path: Path, path: str, text: str, expected: bool
) -> None:
    for package in ("libs/common/common", "libs/common/other", "services/a/a"):
        (tmp_path / package).mkdir(parents=True)
        (tmp_path / package / "__init__.py").write_text("")
    filter_ = scoped_names(tmp_path, [WRAPPER_MODULE], {"retrying"})
    assert bool(filter_.matches(path, text.encode())) is expected


def test_the_module_a_name_is_imported_from_is_a_candidate(tmp_path: Path) -> None:
    """An arq worker lists a function it imports from a module that names no framework: that
    module is where the function is, whatever base folder it lies in."""
    (tmp_path / "libs" / "jobs" / "jobs").mkdir(parents=True)
    (tmp_path / "libs" / "jobs" / "jobs" / "__init__.py").write_text("")
    worker = summary(
        "services/w/w/worker.py",
        "w.worker",
        imports=(ir.Import("build", "jobs.work.build", SPAN),),
    )
    filter_ = scoped_names(tmp_path, [worker], {"build"})
    assert filter_.matches("libs/jobs/jobs/work.py", b"async def build(ctx):\n    pass\n")
    assert not filter_.matches("libs/jobs/jobs/other.py", b"async def build(ctx):\n    pass\n")


@pytest.mark.parametrize("workers", [1, 2])
def test_a_name_new_in_the_third_round_is_looked_for_in_files_the_second_passed_over(
    tmp_path: Path, workers: int
) -> None:
    """Round three reads again only the files that named no earlier name, for the new names
    alone: `jobs.py` names neither Celery nor `retrying`, only the alias of an alias."""
    files = {
        "pkg/__init__.py": "",
        "pkg/wrappers.py": WRAPPER,
        "pkg/aliases.py": "from pkg.wrappers import retrying\n\nagain = retrying\n",
        "pkg/jobs.py": USE.format(imports="from pkg.aliases import again", name="j").replace(
            "@retrying", "@again"
        ),
        "pkg/other.py": "def unrelated():\n    pass\n",
    }
    rows = rows_by_name(analyze(write_project(tmp_path, files), workers=workers))
    assert rows["pkg.jobs.j"].max_retries == 4


def use(name: str, imports: str) -> str:
    return USE.format(imports=imports, name=name)


@pytest.mark.parametrize(
    ("files", "tasks"),
    [
        # An import may start from any folder above the defining module's base: a scripts
        # folder on `sys.path`...
        (
            {
                "scripts/tasks/queue.py": WRAPPER,
                "scripts/run.py": use("g", "from tasks.queue import retrying"),
            },
            ("run.g",),
        ),
        # ...a namespace package, by name or bound to a name...
        (
            {"pkg/queue.py": WRAPPER, "other/use.py": use("a", "from pkg.queue import retrying")},
            ("use.a",),
        ),
        (
            {
                "pkg/queue.py": WRAPPER,
                "other/use.py": "import pkg.queue as q\n\n@q.retrying\ndef d():\n    pass\n",
            },
            ("use.d",),
        ),
        # ...the project root, above a service's own base folder...
        (
            {
                "services/api/app/__init__.py": "",
                "services/api/app/queue.py": WRAPPER,
                "tools/use.py": use("c", "from services.api.app.queue import retrying"),
            },
            ("use.c",),
        ),
        # ...or a source root above another.
        (
            {
                "retrylint.toml": 'source-roots = ["src", "src/plugins"]\n',
                "src/plugins/foo/queue.py": WRAPPER,
                "src/main.py": use("s", "from plugins.foo.queue import retrying"),
            },
            ("main.s",),
        ),
        # A relative import from outside the folder the file system counts the module from.
        (
            {
                "pkg/sub/queue.py": WRAPPER,
                "pkg/other/use.py": use("h", "from ..sub.queue import retrying"),
            },
            ("pkg.other.use.h",),
        ),
        # A star aggregator beside the definition, star-imported by another base folder's
        # package, star-imported or imported by name by a service.
        (
            {
                "libs/common/common/__init__.py": "",
                "libs/common/common/all.py": "from .queue import *\n",
                "libs/common/common/queue.py": WRAPPER,
                "libs/x/x/__init__.py": "from common.all import *\n",
                "libs/x/x/other.py": "from celery import shared_task\n",
                "services/s/s/__init__.py": "",
                "services/s/s/jobs.py": use("star", "from x import *"),
                "services/s/s/jobs2.py": use("named", "from x import retrying"),
            },
            ("s.jobs.star", "s.jobs2.named"),
        ),
    ],
)
def test_every_spelling_of_an_import_finds_the_use(
    tmp_path: Path, files: dict[str, str], tasks: tuple[str, ...]
) -> None:
    rows = rows_by_name(analyze(write_project(tmp_path, files)))
    for task in tasks:
        assert rows[task].max_retries == 4, task
