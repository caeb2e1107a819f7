"""The summary cache: a warm run says exactly what a cold one says, never anything stale.

Invalidation is tested for each way a result can go out of date (an edit, a rename, a deleted
file, other extraction settings, another retrylint version, a file that stops parsing), and the
cache's own failures (a corrupt or crafted entry, a folder that cannot be written) cost a parse,
never a wrong or failed run.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retrylint.cli import app
from retrylint.python import ir
from retrylint.scan import cache as cache_module
from retrylint.scan.cache import SummaryCache
from tests.conftest import FIXTURES, write_project

TASKS = """
from celery import shared_task
from proj.settings import LIMIT

@shared_task(autoretry_for=(IOError,), max_retries=LIMIT, retry_backoff=True)
def sync():
    pass
"""
SETTINGS = "LIMIT = 3\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    write_project(
        root,
        {
            "retrylint.toml": '[frameworks]\nenabled = ["celery"]\n',
            "proj/__init__.py": "",
            "proj/tasks.py": TASKS,
            # Read only on demand, to resolve LIMIT: the loader's results are cached too.
            "proj/settings.py": SETTINGS,
        },
    )
    return root


def check(root: Path, *args: str, command: str = "check") -> str:
    extra = ["--exit-zero"] if command == "check" else []
    result = CliRunner().invoke(app, [command, "--format", "json", *extra, *args, str(root)])
    assert result.exit_code == 0, result.output
    return result.stdout


def cached(root: Path, *args: str, command: str = "check") -> str:
    return check(root, "--cache-dir", str(root / ".retrylint_cache"), *args, command=command)


def entries(root: Path) -> list[Path]:
    return sorted(p for p in (root / ".retrylint_cache").rglob("*") if p.is_file())


def tasks(output: str) -> dict[str, object]:
    return {row["name"]: row["max_retries"] for row in json.loads(output)["tasks"]}


def test_warm_run_is_byte_identical_and_writes_a_gitignore(project: Path) -> None:
    cold = check(project, "--no-cache")
    assert cached(project) == cold
    assert (project / ".retrylint_cache" / ".gitignore").read_text().splitlines()[-1] == "*"
    stored = entries(project)
    # .gitignore, the scanned module, and `proj` and `proj.settings` loaded on demand
    assert len(stored) == 4
    assert cached(project) == cold
    assert entries(project) == stored


def test_default_folder_is_in_the_project_root_and_config_can_move_it(project: Path) -> None:
    result = CliRunner().invoke(
        app, ["check", "--exit-zero", str(project)], env={"RETRYLINT_CACHE_DIR": None}
    )
    assert result.exit_code == 0, result.output
    assert (project / ".retrylint_cache" / ".gitignore").is_file()
    config = project / "retrylint.toml"
    config.write_text('cache-dir = "build/lint-cache"\n' + config.read_text())
    result = CliRunner().invoke(
        app, ["check", "--exit-zero", str(project)], env={"RETRYLINT_CACHE_DIR": None}
    )
    assert result.exit_code == 0, result.output
    assert (project / "build" / "lint-cache" / ".gitignore").is_file()


def test_no_cache_writes_nothing(project: Path) -> None:
    check(project, "--no-cache", "--cache-dir", str(project / ".retrylint_cache"))
    assert not (project / ".retrylint_cache").exists()


def test_warm_run_loads_neither_libcst_nor_tree_sitter(project: Path) -> None:
    (project / "main.go").write_text("package main\n\nfunc main() {}\n")
    # A declared encoding: read by libcst, not `ast`, so the cold run does load libcst.
    (project / "legacy.py").write_bytes(
        b"# -*- coding: latin-1 -*-\nfrom celery import shared_task\n\n"
        b"@shared_task(max_retries=3)\ndef caf\xe9():\n    pass\n"
    )
    # One job: the cold run parses in this process (worker processes import parsers themselves).
    script = (
        "import sys\n"
        "from retrylint.cli import main\n"
        "sys.argv = ['retrylint', 'check', '--exit-zero', '--jobs', '1', sys.argv[1]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('libcst', 'tree_sitter', 'tree_sitter_go'))\n"
        "sys.stderr.write(repr(loaded))\n"
    )

    def loaded() -> list[str]:
        env = {**os.environ, "RETRYLINT_CACHE_DIR": str(project / ".retrylint_cache")}
        proc = subprocess.run(
            [sys.executable, "-c", script, str(project)],
            capture_output=True,
            env=env,
            check=True,
            text=True,
        )
        value: list[str] = eval(proc.stderr.strip().splitlines()[-1])  # our own repr
        return value

    assert "libcst" in loaded()
    assert loaded() == []


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_each_way_a_result_goes_stale(project: Path, jobs: str) -> None:
    def run(command: str = "inventory") -> str:
        warm = cached(project, "--jobs", jobs, command=command)
        assert warm == check(project, "--no-cache", "--jobs", jobs, command=command)
        return warm

    assert tasks(run()) == {"proj.tasks.sync": 3}
    # An edit of the module loaded on demand, of the same length: within the racy window the
    # stat is not trusted, so the content decides.
    (project / "proj" / "settings.py").write_text("LIMIT = 9\n")
    assert tasks(run()) == {"proj.tasks.sync": 9}
    # A rename changes the task's name (the module is part of it).
    (project / "proj" / "tasks.py").rename(project / "proj" / "jobs.py")
    assert set(tasks(run())) == {"proj.jobs.sync"}
    # A deleted file leaves nothing behind.
    (project / "proj" / "jobs.py").unlink()
    assert tasks(run()) == {}
    # A file that stops parsing is RL000, and stays so warm.
    (project / "proj" / "jobs.py").write_text(TASKS + "def broken(:\n")
    findings = json.loads(run("check"))["findings"]
    assert [f["rule"] for f in findings] == ["RL000"]
    assert json.loads(run("check"))["findings"] == findings


def test_trusted_stat_skips_hashing(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = 1_600_000_000
    for path in (project / "proj").iterdir():
        os.utime(path, (old, old))
    cold = cached(project)
    digests: list[bytes] = []
    real = hashlib.sha256

    def counting(data: bytes = b"") -> object:
        digests.append(data)
        return real(data)

    monkeypatch.setattr(hashlib, "sha256", counting)
    assert cached(project) == cold
    # Only entry names are hashed (the salt, settings, path and module); no file's content.
    assert all(b"shared_task" not in d and b"LIMIT = 3" not in d for d in digests)


def _summary_cache(tmp_path: Path) -> tuple[SummaryCache, str]:
    source = tmp_path / "m.py"
    source.write_text("x = 1\n")
    opened = SummaryCache.open(tmp_path / "cache")
    assert opened is not None
    return opened, str(source)


def _summary(path: str = "m.py") -> ir.ModuleSummary:
    return ir.ModuleSummary(path, "m", (), (), (), (), ())


def test_settings_and_version_are_part_of_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, source = _summary_cache(tmp_path)
    interest = ir.Interest(frozenset({"retry"}), frozenset())
    assert store.get(source, "m.py", "m", interest) is None
    store.put("m.py", "m", interest, _summary())
    assert store.get(source, "m.py", "m", interest) == _summary()
    assert SummaryCache(store.directory).get(source, "m.py", "m", interest) == _summary()
    other = ir.Interest(frozenset({"retry", "delay"}), frozenset())
    assert store.get(source, "m.py", "m", other) is None
    assert store.get(source, "m.py", "pkg.m", interest) is None
    monkeypatch.setattr(cache_module, "__version__", "999")
    assert SummaryCache(store.directory).get(source, "m.py", "m", interest) is None


def test_corrupt_and_crafted_entries_are_misses(tmp_path: Path) -> None:
    store, source = _summary_cache(tmp_path)
    interest = ir.Interest(frozenset(), frozenset())
    store.get(source, "m.py", "m", interest)
    store.put("m.py", "m", interest, _summary())
    (entry,) = (p for p in store.directory.rglob("*") if p.is_file() and p.name != ".gitignore")
    header = entry.read_bytes()[: cache_module._HEADER.size]
    marker = tmp_path / "executed"

    class Crafted:
        def __reduce__(self) -> tuple[object, ...]:
            return (os.mkdir, (str(marker),))

    for payload in (b"", b"garbage", header, header + pickle.dumps(Crafted())):
        entry.write_bytes(payload)
        fresh = SummaryCache(store.directory)
        assert fresh.get(source, "m.py", "m", interest) is None
        fresh.put("m.py", "m", interest, _summary())  # rebuilt
        assert SummaryCache(store.directory).get(source, "m.py", "m", interest) == _summary()
    assert not marker.exists()
    # An entry that holds another file's summary is never served for this one.
    entry.write_bytes(header + pickle.dumps(_summary("other.py")))
    assert SummaryCache(store.directory).get(source, "m.py", "m", interest) is None


def test_unwritable_cache_folder_runs_uncached(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert SummaryCache.open(blocker / "cache") is None
    demo = FIXTURES / "demo"
    assert check(demo, "--cache-dir", str(blocker / "cache")) == check(demo, "--no-cache")


def test_concurrent_runs_share_one_cache(project: Path) -> None:
    cold = check(project, "--no-cache")
    env = {**os.environ, "RETRYLINT_CACHE_DIR": str(project / ".retrylint_cache")}
    command = [sys.executable, "-m", "retrylint", "check", "--format", "json", "--exit-zero"]
    runs = [
        subprocess.Popen([*command, str(project)], stdout=subprocess.PIPE, env=env)
        for _ in range(4)
    ]
    outputs = [run.communicate()[0].decode() for run in runs]
    assert outputs == [cold] * 4
    assert cached(project) == cold
    assert not [p for p in entries(project) if p.name.endswith(".tmp")]


def test_every_module_that_builds_a_summary_salts_the_entries() -> None:
    """An edit to any module the parser imports (a checkout being worked on) must miss every
    entry its older self wrote: each is in `_BUILDERS`, and each named there exists."""
    code = (
        "import sys\n"
        "from retrylint.scan import python_parse\n"
        "import retrylint.python.extract\n"
        "python_parse.load_parser()\n"
        "for name, module in sorted(sys.modules.items()):\n"
        "    if name.startswith('retrylint.') and not module.__file__.endswith('__init__.py'):\n"
        "        print(module.__file__)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    package = Path(cache_module.__file__).parent.parent
    loaded = {Path(line).relative_to(package).as_posix() for line in run.stdout.split()}
    assert loaded == set(cache_module._BUILDERS)
