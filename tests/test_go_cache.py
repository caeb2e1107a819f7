"""The Go side of the cache: a warm Go run says exactly what a cold one says, never anything stale.

Go results are cached whole, behind a manifest of every `.go` file and `go.mod` the analysis
may read, so each test changes one input the way a developer would (an edit in another
package, a rename, a deletion, a new file, a new `go.mod`, a file that stops parsing) and
compares the warm answer with an uncached one.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retrylint.cli import app
from retrylint.frameworks.base import FileProblem, GoItem
from retrylint.model import Location
from retrylint.scan import cache as cache_module
from retrylint.scan.cache import SummaryCache
from tests.conftest import FIXTURES, write_project

GO_MOD = "module example.com/app\n\ngo 1.22\n\nrequire github.com/hibiken/asynq v0.25.1\n"
PRODUCER = """package main

import (
	"github.com/hibiken/asynq"

	"example.com/app/limits"
)

func main() {
	client := asynq.NewClient(asynq.RedisClientOpt{Addr: "localhost:6379"})
	client.Enqueue(asynq.NewTask("mail:send", nil), asynq.MaxRetry(limits.Mail))
}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    write_project(
        root,
        {
            "retrylint.toml": "",  # marks the project root
            "go.mod": GO_MOD,
            "cmd/main.go": PRODUCER,
            # No asynq import: read only to resolve `limits.Mail`, and part of the manifest.
            "limits/limits.go": "package limits\n\nconst Mail = 3\n",
        },
    )
    return root


def run(root: Path, *args: str, command: str = "inventory") -> str:
    extra = ["--exit-zero"] if command == "check" else []
    result = CliRunner().invoke(app, [command, "--format", "json", *extra, *args, str(root)])
    assert result.exit_code == 0, result.output
    return result.stdout


def warm(root: Path, command: str = "inventory") -> str:
    """A cached run, checked against an uncached one."""
    output = run(root, "--cache-dir", str(root / ".retrylint_cache"), command=command)
    assert output == run(root, "--no-cache", command=command)
    return output


def budgets(output: str) -> dict[str, object]:
    return {
        f"{row['name']}@{row['path']}": row["max_retries"] for row in json.loads(output)["tasks"]
    }


@pytest.mark.parametrize("fixture", ["asynq", "asynq_callbacks", "asynq_modules"])
def test_go_fixtures_are_byte_identical_cold_and_warm(tmp_path: Path, fixture: str) -> None:
    root = tmp_path / fixture
    shutil.copytree(FIXTURES / fixture, root)
    args = ("--cache-dir", str(tmp_path / "cache"))
    for command, extra in (("inventory", ()), ("check", ()), ("simulate", ("--outage", "2h"))):
        uncached = run(root, "--no-cache", *extra, command=command)
        assert run(root, *args, *extra, command=command) == uncached  # cold, fills the cache
        assert run(root, *args, *extra, command=command) == uncached  # warm
    assert any(p.is_file() for p in (tmp_path / "cache").rglob("*") if p.name != ".gitignore")


def test_warm_go_run_does_not_load_tree_sitter(project: Path) -> None:
    script = (
        "import sys\n"
        "from retrylint.cli import main\n"
        "sys.argv = ['retrylint', 'check', '--exit-zero', sys.argv[1]]\n"
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

    assert "tree_sitter" in loaded()
    assert loaded() == []


def test_each_way_a_go_result_goes_stale(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)  # reported paths are relative to the current directory
    assert budgets(warm(project)) == {"mail:send@cmd/main.go": 3}
    # An edit of a file in another package, of the same length: within the racy window the
    # stat is not trusted, so the content decides.
    (project / "limits" / "limits.go").write_text("package limits\n\nconst Mail = 7\n")
    assert budgets(warm(project)) == {"mail:send@cmd/main.go": 7}
    # A rename moves the row.
    (project / "cmd" / "main.go").rename(project / "cmd" / "producer.go")
    assert budgets(warm(project)) == {"mail:send@cmd/producer.go": 7}
    # A deleted constant leaves the budget undecided.
    (project / "limits" / "limits.go").unlink()
    assert budgets(warm(project)) == {"mail:send@cmd/producer.go": "undecided"}
    # A new file of the package, the only change, declares it again.
    (project / "limits" / "more.go").write_text("package limits\n\nconst Mail = 5\n")
    assert budgets(warm(project)) == {"mail:send@cmd/producer.go": 5}
    # A deleted producer leaves nothing behind.
    (project / "cmd" / "producer.go").unlink()
    assert budgets(warm(project)) == {}
    # A file that stops parsing is RL000, and stays so warm.
    (project / "cmd" / "main.go").write_text(PRODUCER + "func broken( {\n")
    findings = json.loads(warm(project, "check"))["findings"]
    assert [f["rule"] for f in findings] == ["RL000"]
    assert json.loads(warm(project, "check"))["findings"] == findings


def test_a_new_file_outside_paths_is_a_change(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Packages outside PATHS are read too, so the project's whole `.go` listing is checked."""
    monkeypatch.chdir(project)
    (project / "limits" / "limits.go").write_text("package limits\n")
    assert budgets(warm(project / "cmd")) == {"mail:send@cmd/main.go": "undecided"}
    (project / "limits" / "more.go").write_text("package limits\n\nconst Mail = 5\n")
    assert budgets(warm(project / "cmd")) == {"mail:send@cmd/main.go": 5}


def test_a_new_go_mod_is_a_change(project: Path) -> None:
    """A `go.mod` appearing where there was none re-roots imports: recorded as absent, its
    creation invalidates the entry."""
    (project / "go.mod").unlink()
    before = warm(project)
    (project / "go.mod").write_text(GO_MOD)
    assert warm(project) != before


ITEMS: list[GoItem] = [FileProblem("a.go", 1, 1, "bad")]


def _go_cache(tmp_path: Path) -> tuple[SummaryCache, dict[str, Path]]:
    source = tmp_path / "a.go"
    source.write_text("package a\n")
    opened = SummaryCache.open(tmp_path / "cache")
    assert opened is not None
    return opened, {"a.go": source}


def _unused() -> list[GoItem]:
    raise AssertionError("no row here has a delay function")


def test_go_settings_and_version_are_part_of_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, files = _go_cache(tmp_path)
    assert store.get_go("asynq", tmp_path, files, files, _unused) is None
    store.put_go("asynq", tmp_path, files, files, ITEMS)
    assert SummaryCache(store.directory).get_go("asynq", tmp_path, files, files, _unused) == ITEMS
    assert store.get_go("asynq v2", tmp_path, files, files, _unused) is None
    assert store.get_go("asynq", tmp_path, {}, files, _unused) is None  # other paths scanned
    monkeypatch.setattr(cache_module, "__version__", "999")
    assert SummaryCache(store.directory).get_go("asynq", tmp_path, files, files, _unused) is None


def test_read_only_go_cache_writes_nothing(tmp_path: Path) -> None:
    store, files = _go_cache(tmp_path)
    readonly = SummaryCache(store.directory, readonly=True)
    assert readonly.get_go("asynq", tmp_path, files, files, _unused) is None
    readonly.put_go("asynq", tmp_path, files, files, ITEMS)
    assert store.get_go("asynq", tmp_path, files, files, _unused) is None


def test_corrupt_and_crafted_go_entries_are_misses(tmp_path: Path) -> None:
    store, files = _go_cache(tmp_path)
    store.get_go("asynq", tmp_path, files, files, _unused)
    store.put_go("asynq", tmp_path, files, files, ITEMS)
    (entry,) = (p for p in store.directory.rglob("*") if p.is_file() and p.name != ".gitignore")
    marker = tmp_path / "executed"

    class Crafted:
        def __reduce__(self) -> tuple[object, ...]:
            return (os.mkdir, (str(marker),))

    magic = cache_module._GO_MAGIC
    crafted = pickle.dumps(((), (), [Crafted()], ()))
    foreign = pickle.dumps(((), (), [Location("a.go", 1, 1)], ()))
    for payload in (b"", b"garbage", magic, magic + crafted, magic + foreign):
        entry.write_bytes(payload)
        fresh = SummaryCache(store.directory)
        assert fresh.get_go("asynq", tmp_path, files, files, _unused) is None
        fresh.put_go("asynq", tmp_path, files, files, ITEMS)  # rebuilt
        assert SummaryCache(store.directory).get_go("asynq", tmp_path, files, files, _unused) == (
            ITEMS
        )
    assert not marker.exists()


def test_a_go_only_policy_runs(tmp_path: Path) -> None:
    """`[frameworks] enabled = ["asynq"]` runs no Python adapter: the run must still work
    (it used to end in an internal error) and read the Go tasks."""
    root = tmp_path / "svc"
    shutil.copytree(FIXTURES / "asynq", root)
    (root / "retrylint.toml").write_text('[frameworks]\nenabled = ["asynq"]\n', encoding="utf-8")
    result = CliRunner().invoke(
        app, ["inventory", "--format", "json", "--no-cache", str(root)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["tasks"]
    assert rows and {row["framework"] for row in rows} == {"asynq"}
