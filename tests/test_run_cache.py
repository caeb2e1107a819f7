"""The run cache: a run where nothing changed takes the whole analysis from the cache, and
any change to what the analysis read (a file, a folder's entries, a module where an import
looked, a dependency file, the settings, retrylint itself) runs it again.

Each test ages the project's files first: a manifest whose stats are younger than the racy
window is never stored (tested too), so files written just now would always miss.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retrylint import engine
from retrylint.cli import app
from retrylint.config.policy import discover_config, load_policy
from retrylint.frameworks import FRAMEWORKS
from retrylint.progress import Silent
from retrylint.rules import RULES
from retrylint.scan import run_cache
from retrylint.scan.run_cache import Inputs, RunCache
from tests.conftest import write_project

TASKS = """
from celery import shared_task
from proj.settings import LIMIT

@shared_task(autoretry_for=(IOError,), max_retries=LIMIT, retry_backoff=True)
def sync():
    pass
"""


def age(root: Path) -> None:
    """Every file and folder of the project changed in the last seconds made a minute old,
    the root last; older ones keep their stamps (the cache must see those unchanged)."""
    now = time.time()
    for folder, names, files in os.walk(root, topdown=False):
        for path in [*(os.path.join(folder, name) for name in [*names, *files]), folder]:
            if os.lstat(path).st_mtime > now - 10:
                os.utime(path, (now - 60, now - 60), follow_symlinks=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write_project(
        tmp_path / "project",
        {
            "retrylint.toml": "",
            "proj/__init__.py": "",
            "proj/tasks.py": TASKS,
            "proj/settings.py": "LIMIT = 3\n",
        },
    )
    (root / ".retrylint_cache").mkdir()
    age(root)
    return root


@pytest.fixture
def analyses(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """How many times a run with a cache ran the analysis (a miss)."""
    calls: list[str] = []
    real = engine._analyze

    def counting(*args: object, **kwargs: object) -> object:
        if args[3] is not None:
            calls.append("ran")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "_analyze", counting)
    yield calls


def run(root: Path, *args: str, command: str = "inventory") -> str:
    extra = ["--exit-zero"] if command == "check" else []
    given = [*args] or [str(root)]
    cache = ["--cache-dir", str(root / ".retrylint_cache")]
    result = CliRunner().invoke(app, [command, "--format", "json", *cache, *extra, *given])
    assert result.exit_code == 0, result.output
    return result.stdout


def uncached(root: Path, *args: str, command: str = "inventory") -> str:
    extra = ["--exit-zero"] if command == "check" else []
    given = [*args] or [str(root)]
    result = CliRunner().invoke(app, [command, "--format", "json", "--no-cache", *extra, *given])
    assert result.exit_code == 0, result.output
    return result.stdout


def tasks(output: str) -> dict[str, object]:
    return {row["name"]: row["max_retries"] for row in json.loads(output)["tasks"]}


def warm(root: Path, analyses: list[str], *args: str, command: str = "inventory") -> str:
    """A run after an edit (a miss, that stores), then one with nothing changed (a hit)."""
    age(root)
    before = len(analyses)
    first = run(root, *args, command=command)
    assert len(analyses) == before + 1, "the edit was not seen"
    assert first == uncached(root, *args, command=command)
    again = run(root, *args, command=command)
    assert len(analyses) == before + 1, "nothing changed, yet the analysis ran"
    assert again == first
    return again


def test_nothing_changed_reads_no_source(project: Path, analyses: list[str]) -> None:
    cold = run(project)
    assert analyses == ["ran"]
    assert run(project) == cold
    assert run(project, command="check") == uncached(project, command="check")
    assert analyses == ["ran"]
    assert len(list((project / ".retrylint_cache").rglob("runs/*"))) == 1


def test_each_change_to_what_was_read_runs_again(project: Path, analyses: list[str]) -> None:
    assert tasks(run(project)) == {"proj.tasks.sync": 3}
    # An edit of a module loaded only to resolve a constant.
    (project / "proj" / "settings.py").write_text("LIMIT = 9\n")
    assert tasks(warm(project, analyses)) == {"proj.tasks.sync": 9}
    # A new task file, then a rename (the module is part of the name), then a deletion.
    (project / "proj" / "more.py").write_text(TASKS.replace("sync", "other"))
    assert tasks(warm(project, analyses)) == {"proj.tasks.sync": 9, "proj.more.other": 9}
    (project / "proj" / "more.py").rename(project / "proj" / "extra.py")
    assert set(tasks(warm(project, analyses))) == {"proj.tasks.sync", "proj.extra.other"}
    (project / "proj" / "extra.py").unlink()
    assert set(tasks(warm(project, analyses))) == {"proj.tasks.sync"}
    # A package loses its `__init__.py`: the module name changes.
    (project / "proj" / "__init__.py").unlink()
    assert set(tasks(warm(project, analyses))) == {"tasks.sync"}
    (project / "proj" / "__init__.py").write_text("")
    assert set(tasks(warm(project, analyses))) == {"proj.tasks.sync"}
    # A `.gitignore` edit that hides the task file.
    (project / ".gitignore").write_text("")
    warm(project, analyses)
    (project / ".gitignore").write_text("proj/tasks.py\n")
    assert tasks(warm(project, analyses)) == {}
    (project / ".gitignore").unlink()
    # A permission change alone (a file made unreadable keeps its mtime and size).
    (project / "proj" / "tasks.py").chmod(0o600)
    warm(project, analyses)
    # A file that stops parsing is RL000, warm too.
    (project / "proj" / "tasks.py").write_text(TASKS + "def broken(:\n")
    findings = json.loads(warm(project, analyses, command="check"))["findings"]
    assert [f["rule"] for f in findings] == ["RL000"]


def test_a_module_appearing_where_an_import_looked(project: Path, analyses: list[str]) -> None:
    # Only the task file is scanned; its constant's module is found by name resolution.
    target = str(project / "proj" / "tasks.py")
    (project / "proj" / "settings.py").unlink()
    assert tasks(warm(project, analyses, target)) == {"proj.tasks.sync": "undecided"}
    (project / "proj" / "settings.py").write_text("LIMIT = 4\n")
    assert tasks(warm(project, analyses, target)) == {"proj.tasks.sync": 4}


def test_settings_dependency_files_and_version_are_part_of_it(
    project: Path, analyses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert tasks(run(project)) == {"proj.tasks.sync": 3}
    # A discovery setting of the policy file.
    (project / "retrylint.toml").write_text('exclude = ["proj/tasks.py"]\n')
    assert tasks(warm(project, analyses)) == {}
    # Back as it was: the first analysis is still good. Categories and rules are not part
    # of it either: the rules judge the same analysis again.
    for policy in ("", '[rules]\nRL103 = "off"\n'):
        (project / "retrylint.toml").write_text(policy)
        age(project)
        before = len(analyses)
        assert run(project, command="check") == uncached(project, command="check")
        assert len(analyses) == before
    # A dependency file versions are read from.
    (project / "requirements.txt").write_text("celery==5.3.0\n")
    warm(project, analyses)
    (project / "requirements.txt").write_text("celery==5.4.0\n")
    warm(project, analyses)
    # Another retrylint.
    monkeypatch.setattr(run_cache, "__version__", "999")
    before = len(analyses)
    run(project)
    assert len(analyses) == before + 1


def test_young_files_are_not_trusted(project: Path, analyses: list[str]) -> None:
    (project / "proj" / "settings.py").write_text("LIMIT = 5\n")  # written just now
    run(project)
    run(project)
    assert analyses == ["ran", "ran"]
    assert not list((project / ".retrylint_cache").rglob("runs/*"))


def test_corrupt_and_crafted_entries_are_misses(project: Path, analyses: list[str]) -> None:
    cold = run(project)
    (entry,) = (project / ".retrylint_cache").rglob("runs/*")
    marker = project.parent / "executed"

    class Crafted:
        def __reduce__(self) -> tuple[object, ...]:
            return (os.mkdir, (str(marker),))

    for payload in (b"", b"garbage", run_cache._MAGIC + pickle.dumps(Crafted())):
        entry.write_bytes(payload)
        before = len(analyses)
        assert run(project) == cold
        assert len(analyses) == before + 1
        assert run(project) == cold  # rebuilt
        assert len(analyses) == before + 1
    assert not marker.exists()


def test_volatile_and_empty_analyses_are_not_kept(project: Path) -> None:
    store = RunCache(project / ".retrylint_cache")
    policy = load_policy(
        discover_config(project), known_rules=RULES, known_frameworks=FRAMEWORKS, cwd=project
    )
    analysis, inputs = engine._analyze([project], policy, 1, None, Silent())
    inputs.volatile = True
    store.put("key", analysis, inputs, time.time_ns())
    assert store.get("key", lambda: ()) is None
    empty = replace(analysis, files=0)
    store.put("key", empty, Inputs(), time.time_ns())
    assert store.get("key", lambda: ()) is None
    assert store.put("key", analysis, Inputs(), time.time_ns()) == ()
    assert store.get("key", lambda: ()) == (analysis, ())


def test_simulate_from_a_cached_analysis(project: Path, analyses: list[str]) -> None:
    cache = ["--cache-dir", str(project / ".retrylint_cache")]
    # Enough retries that the schedule is not listed: simulate asks the delay function.
    (project / "proj" / "settings.py").write_text("LIMIT = 500\n")
    age(project)

    def simulate() -> str:
        result = CliRunner().invoke(
            app,
            [
                "simulate",
                "--outage",
                "10m",
                "--rate",
                "5/s",
                "--format",
                "json",
                *cache,
                str(project),
            ],
        )
        assert result.exit_code == 0, result.output
        return result.stdout

    first = simulate()
    assert analyses == ["ran"]
    # The rows come from the cache; their delay functions run the analysis once when asked.
    assert simulate() == first
    assert analyses == ["ran", "ran"]


def test_a_hit_imports_no_adapter_no_parser_and_no_pool(project: Path) -> None:
    script = (
        "import sys\n"
        "from retrylint.cli import main\n"
        "sys.argv = ['retrylint', 'check', '--exit-zero', '--cache-dir', *sys.argv[2:0:-1]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('libcst', 'tree_sitter')"
        " or m.startswith(('retrylint.frameworks', 'retrylint.analysis', 'retrylint.scan.pool')))\n"
        "sys.stderr.write(repr(loaded))\n"
    )

    def loaded() -> list[str]:
        proc = subprocess.run(
            [sys.executable, "-c", script, str(project), str(project / ".retrylint_cache")],
            capture_output=True,
            check=True,
            text=True,
        )
        value: list[str] = eval(proc.stderr.strip().splitlines()[-1])  # our own repr
        return value

    # Neither an adapter, nor the analysis with its worker pool and resolver.
    analysis = {
        "retrylint.frameworks.celery",
        "retrylint.frameworks.dramatiq",
        "retrylint.frameworks.base",
        "retrylint.analysis",
        "retrylint.scan.pool",
    }
    assert analysis <= set(loaded())
    assert not analysis & set(loaded())


GO = """
package main

import "github.com/hibiken/asynq"

func main() {
	client := asynq.NewClient(asynq.RedisClientOpt{Addr: "localhost:6379"})
	client.Enqueue(asynq.NewTask("email:send", nil), asynq.MaxRetry(3))
}
"""


def test_a_go_mod_beside_a_named_file_in_an_excluded_folder(
    tmp_path: Path, analyses: list[str]
) -> None:
    root = write_project(
        tmp_path / "project",
        {
            "retrylint.toml": 'exclude = ["gen"]\n',
            "gen/svc/go.mod": "module example.com/svc\nrequire github.com/hibiken/asynq v0.24.0\n",
            "gen/svc/main.go": GO,
        },
    )
    (root / ".retrylint_cache").mkdir()
    age(root)
    target = str(root / "gen" / "svc" / "main.go")
    assert '"0.24.0"' in run(root, target)
    # Edited in place: its folder's entries stay as they were.
    with (root / "gen" / "svc" / "go.mod").open("r+") as handle:
        text = handle.read()
        handle.seek(0)
        handle.write(text.replace("v0.24.0", "v0.25.1"))
    assert '"0.25.1"' in warm(root, analyses, target)


def test_a_module_behind_a_dangling_link(project: Path, analyses: list[str]) -> None:
    target = str(project / "proj" / "tasks.py")
    settings = project / "proj" / "settings.py"
    settings.unlink()
    (project / "gen").mkdir()
    settings.symlink_to(project / "gen" / "settings.py")
    # The link is no module, and stays so while its target is missing (hits, not misses).
    assert tasks(warm(project, analyses, target)) == {"proj.tasks.sync": "undecided"}
    (project / "gen" / "settings.py").write_text("LIMIT = 50\n")
    assert tasks(warm(project, analyses, target)) == {"proj.tasks.sync": 50}


def test_a_file_changed_during_the_run_is_not_kept(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = project / "proj" / "settings.py"
    real = engine._analyze

    def edited_meanwhile(*args: object, **kwargs: object) -> object:
        found = real(*args, **kwargs)  # type: ignore[arg-type]
        # A copy that keeps the old mtime (`cp -p`): the stamps taken after the run show the
        # new size, and only the ctime tells that the analysis read the old content.
        old = settings.stat().st_mtime_ns
        settings.write_text("LIMIT = 77\n")
        os.utime(settings, ns=(old, old))
        return found

    monkeypatch.setattr(engine, "_analyze", edited_meanwhile)
    assert tasks(run(project)) == {"proj.tasks.sync": 3}
    monkeypatch.undo()
    assert not list((project / ".retrylint_cache").rglob("runs/*"))
    assert tasks(run(project)) == {"proj.tasks.sync": 77}


def test_a_cache_folder_inside_the_walk(project: Path, analyses: list[str]) -> None:
    (project / "retrylint.toml").write_text("respect-gitignore = false\n")
    folder = project / "lint-cache"

    def check() -> str:
        args = ["check", "--format", "json", "--exit-zero", "--cache-dir", str(folder)]
        result = CliRunner().invoke(app, [*args, str(project)])
        assert result.exit_code == 0, result.output
        return result.stdout

    check()
    age(project)
    check()
    before = len(analyses)
    assert check() == uncached(project, command="check")
    assert len(analyses) == before


def test_only_the_entries_used_last_are_kept(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_cache, "KEPT", 2)
    store = RunCache(project / ".retrylint_cache")
    policy = load_policy(
        discover_config(project), known_rules=RULES, known_frameworks=FRAMEWORKS, cwd=project
    )
    analysis, _ = engine._analyze([project], policy, 1, None, Silent())
    old = time.time() - 100
    for age_seconds, key in ((10, "a"), (20, "b")):
        store.put(key, analysis, Inputs(), time.time_ns())
        os.utime(store._entry(key), (old + age_seconds, old + age_seconds))
    assert store.get("a", lambda: ()) == (analysis, ())  # used: now the newest
    store.put("c", analysis, Inputs(), time.time_ns())
    assert store.get("b", lambda: ()) is None
    assert store.get("a", lambda: ()) == (analysis, ())
    assert store.get("c", lambda: ()) == (analysis, ())
    assert len(list(store.directory.iterdir())) == 2
