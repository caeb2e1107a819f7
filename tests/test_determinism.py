"""Same project, same bytes: every output is identical whatever the run, hash seed, invocation
path, file-system order or process pool (CONTRACTS §1 "Paths", §4, §5).

Reported paths are POSIX and relative to the project root, never absolute, so no output may
contain the directory the project happens to live in.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from retrylint import __version__, analysis, engine, fix
from retrylint.cli import app
from retrylint.config.policy import discover_config, load_policy
from retrylint.frameworks import FRAMEWORKS
from retrylint.report.json_report import render_check, render_inventory
from retrylint.report.sarif_report import render_sarif
from retrylint.rules import RULES
from tests.conftest import FIXTURES, REPO, write_project

DEMO = FIXTURES / "demo"
OUTPUTS: tuple[tuple[str, ...], ...] = (
    ("check", "--format", "json"),
    ("check",),
    ("check", "--format", "sarif"),
    ("check", "--format", "github"),
    ("inventory", "--format", "json"),
    ("inventory", "--format", "markdown"),
    ("inventory",),
)
_ENV_DROP = ("RETRYLINT_DEBUG", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS")

# Runs every output through the CLI in one fresh interpreter, so one process per hash seed.
_DRIVER = """
import json, sys
from typer.testing import CliRunner
from retrylint.cli import app
out = {}
for args in json.loads(sys.argv[1]):
    result = CliRunner().invoke(app, [*args, sys.argv[2]], catch_exceptions=False)
    out[" ".join(args)] = [result.exit_code, result.stdout, result.stderr]
sys.stdout.write(json.dumps(out))
"""


@pytest.fixture(scope="module", autouse=True)
def _plain_environment() -> Iterator[None]:
    """Module-scoped, so the module-scoped `baseline` is rendered without them too."""
    with pytest.MonkeyPatch.context() as patch:
        for name in _ENV_DROP:
            patch.delenv(name, raising=False)
        # The wall-time cap is a safety net; a slow CI machine must not change the output.
        patch.setenv("RETRYLINT_FILE_TIMEOUT", "0")
        # Wide enough that no line wraps: a longer path prefix must not move a line break.
        patch.setenv("COLUMNS", "1000")
        yield


@pytest.fixture(autouse=True)
def _no_wrapping(monkeypatch: pytest.MonkeyPatch) -> None:
    """The width the module-scoped `baseline` was rendered with, over conftest's."""
    monkeypatch.setenv("COLUMNS", "1000")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _ENV_DROP}
    env.update(PYTHONIOENCODING="utf-8", RETRYLINT_FILE_TIMEOUT="0", COLUMNS="1000", **extra)
    return env


Outputs = dict[str, tuple[int, str, str]]


def render_all(cwd: Path, *target: str) -> Outputs:
    """Every output of the CLI for one invocation, run in-process from `cwd`."""
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        results: Outputs = {}
        for args in OUTPUTS:
            result = CliRunner().invoke(app, [*args, *target], catch_exceptions=False)
            results[" ".join(args)] = (result.exit_code, result.stdout, result.stderr)
        return results
    finally:
        os.chdir(previous)


@pytest.fixture(scope="module")
def baseline() -> Outputs:
    """The demo's outputs, run from the repository root with a relative path."""
    return render_all(REPO, "fixtures/demo")


def assert_same(actual: Outputs, expected: Outputs) -> None:
    assert actual.keys() == expected.keys()
    for key in expected:
        assert actual[key] == expected[key], f"`{key}` differs"


def reported_paths(outputs: Outputs) -> set[str]:
    paths = {f["path"] for f in json.loads(outputs["check --format json"][1])["findings"]}
    paths |= {r["path"] for r in json.loads(outputs["inventory --format json"][1])["tasks"]}
    sarif = json.loads(outputs["check --format sarif"][1])
    paths |= {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for result in sarif["runs"][0]["results"]
        for loc in result["locations"]
    }
    return paths


def test_baseline_is_sane(baseline: Outputs) -> None:
    assert baseline["check --format json"][0] == 1
    assert baseline["inventory --format json"][0] == 0
    for code, stdout, stderr in baseline.values():
        assert stdout
        assert stderr == ""
        assert code in (0, 1)
    # Relative to the current directory (JSON), and to the repository (SARIF): both are REPO.
    assert reported_paths(baseline) == {
        "fixtures/demo/retrylint.toml",
        "fixtures/demo/shop/broken.py",
        "fixtures/demo/shop/tasks.py",
    }


def without_base(outputs: Outputs) -> Outputs:
    """SARIF records the absolute repository root (CONTRACTS §1); everything else is the same
    bytes on every machine."""
    code, stdout, stderr = outputs["check --format sarif"]
    stdout = re.sub(r'"uri": "file:///[^"]*"', '"uri": "file:///<base>/"', stdout)
    return {**outputs, "check --format sarif": (code, stdout, stderr)}


def test_no_absolute_paths_anywhere(baseline: Outputs) -> None:
    for key, (_, stdout, _) in without_base(baseline).items():
        assert str(REPO) not in stdout, key
    for path in reported_paths(baseline):
        assert not path.startswith(("/", "./", "../", "file:")), path
        assert "\\" not in path, path
    sarif = json.loads(baseline["check --format sarif"][1])
    base = sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base == REPO.as_uri() + "/"


def test_two_runs_identical(baseline: Outputs) -> None:
    assert_same(render_all(REPO, "fixtures/demo"), baseline)


@pytest.mark.parametrize(
    ("where", "targets"),
    [
        # absolute, dotted, trailing slash and `..` spellings from the repository root
        ("repo", ("fixtures/demo", str(DEMO), "./fixtures/demo/", "fixtures/demo/shop/..")),
        ("demo", (".", str(DEMO), "")),  # "": no PATH, the current directory
        ("shop", ("..", str(DEMO))),
    ],
)
def test_invocation_path_does_not_matter(
    baseline: Outputs, where: str, targets: tuple[str, ...]
) -> None:
    cwd = {"repo": REPO, "demo": DEMO, "shop": DEMO / "shop"}[where]
    expected = render_all(cwd, *([targets[0]] if targets[0] else []))
    for target in targets[1:]:
        assert_same(render_all(cwd, *([target] if target else [])), expected)
    # SARIF and annotations are relative to the repository, wherever the run starts.
    for key in ("check --format sarif", "check --format github"):
        assert expected[key] == baseline[key], key


def test_paths_follow_the_current_directory(baseline: Outputs) -> None:
    """From inside the project, text and JSON drop the prefix the repository root needed."""
    inside = render_all(DEMO)
    for key in ("check --format json", "check", "inventory --format json"):
        code, stdout, stderr = baseline[key]
        assert inside[key] == (code, stdout.replace("fixtures/demo/", ""), stderr), key


def test_reverse_creation_order_copy(tmp_path: Path, baseline: Outputs) -> None:
    """A copy elsewhere, its files created in reverse order, gives the same bytes."""
    copy = tmp_path / "elsewhere" / "demo"
    sources = sorted(p for p in DEMO.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for source in reversed(sources):
        target = copy / source.relative_to(DEMO)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    # The copy is in no repository: GITHUB_WORKSPACE puts both runs' base at the demo.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GITHUB_WORKSPACE", str(DEMO))
        expected = without_base(render_all(DEMO))
        patch.setenv("GITHUB_WORKSPACE", str(copy))
        assert_same(without_base(render_all(copy)), expected)
        copied = without_base(render_all(tmp_path / "elsewhere", "demo"))
        assert_same(copied, without_base(render_all(tmp_path / "elsewhere", str(copy))))
        for _, stdout, _ in copied.values():
            assert str(tmp_path) not in stdout
    assert "demo/shop/tasks.py" in copied["check"][1]


def test_symlinked_path_gives_same_output(tmp_path: Path, baseline: Outputs) -> None:
    """Through a symlink, paths are spelled through the link (as ruff does), and name the
    same files; SARIF names them from the repository."""
    link = tmp_path / "link"
    link.symlink_to(DEMO, target_is_directory=True)
    through = render_all(tmp_path, "link")
    for key in ("check --format json", "check", "inventory --format json"):
        code, stdout, stderr = baseline[key]
        assert through[key] == (code, stdout.replace("fixtures/demo/", "link/"), stderr), key
    assert_same(render_all(tmp_path, str(link)), through)
    for key in ("check --format sarif", "check --format github"):
        assert through[key] == baseline[key], key


def test_hash_seed_does_not_matter(baseline: Outputs) -> None:
    """PYTHONHASHSEED 0, 1 and random, each in a fresh interpreter, all run in parallel."""
    seeds = ("0", "1", "random")
    driver = [
        subprocess.Popen(
            [sys.executable, "-c", _DRIVER, json.dumps(OUTPUTS), "fixtures/demo"],
            cwd=REPO,
            env=_env(PYTHONHASHSEED=seed),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for seed in seeds
    ]
    # The real console entry point too, for the findings document.
    real = {
        (seed, args): subprocess.Popen(
            [sys.executable, "-m", "retrylint", *args, "fixtures/demo"],
            cwd=REPO,
            env=_env(PYTHONHASHSEED=seed),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for seed in ("0", "1")
        for args in [("check", "--format", "json")]
    }
    for seed, proc in zip(seeds, driver, strict=True):
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr.decode()
        data: dict[str, list[Any]] = json.loads(stdout)
        got = {key: (value[0], value[1], value[2]) for key, value in data.items()}
        assert got.keys() == baseline.keys(), seed
        for key in baseline:
            assert got[key] == baseline[key], f"PYTHONHASHSEED={seed}: `{key}` differs"
    for (seed, args), proc in real.items():
        stdout, stderr = proc.communicate(timeout=120)
        key = " ".join(args)
        assert stderr == b"", (seed, key)
        assert proc.returncode == baseline[key][0], (seed, key)
        assert stdout == baseline[key][1].encode("utf-8"), f"PYTHONHASHSEED={seed}: `{key}`"


# --- the process pool --------------------------------------------------------------------------

_TASK_TEMPLATE = """
from celery import shared_task
from django.conf import settings

from bigproj.limits import LIMIT_{n}


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries={retries})
def job_{n}(item):
    ...


@shared_task(bind=True, name="bigproj.custom_{n}", max_retries=LIMIT_{n}, default_retry_delay=30)
def custom_{n}(self, item):
    try:
        ...
    except ConnectionError as exc:
        raise self.retry(exc=exc)


@shared_task(autoretry_for=(Exception,), max_retries=settings.RETRIES_{n})
def vague_{n}():
    ...
"""


def _big_project(root: Path, count: int) -> Path:
    """`count` task modules (more than the engine's pool threshold) plus a broken one."""
    retries = ["3", "None", "12", "0", "7"]
    files = {
        "bigproj/__init__.py": "",
        "bigproj/limits.py": "".join(f"LIMIT_{n} = {n % 13}\n" for n in range(count)),
        "bigproj/broken_task.py": "from celery import shared_task\n@shared_task(\ndef x(:\n",
        "retrylint.toml": (
            'default-category = "default"\n'
            "[categories.default]\nmax-retries = { max = 10 }\n"
            'backoff = "exponential"\njitter = true\nmax-window = "1h"\n'
            '[categories.strict]\nmax-retries = { min = 1, max = 4 }\nbackoff = "linear"\n'
            '[tasks]\n"bigproj.custom_*" = "strict"\n"bigproj.gone" = "strict"\n'
        ),
    }
    for n in range(count):
        text = _TASK_TEMPLATE.format(n=n, retries=retries[n % len(retries)])
        files[f"bigproj/tasks_{n:02d}.py"] = text
    return write_project(root, files)


def _report(root: Path, workers: int) -> engine.Report:
    config = discover_config(root)
    policy = load_policy(config, known_rules=RULES, known_frameworks=FRAMEWORKS, cwd=root)
    return engine.run([root], policy, workers=workers)


def test_process_pool_gives_identical_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = 30
    root = _big_project(tmp_path / "proj", count)

    pools: list[object] = []

    class CountingPool(ProcessPoolExecutor):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pools.append(kwargs.get("max_workers", args[0] if args else None))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(analysis, "ProcessPoolExecutor", CountingPool)

    serial = _report(root, workers=1)
    assert pools == []
    pooled = _report(root, workers=2)
    assert pools, "the pool was not used: the project is below the threshold"
    assert set(pools) == {2}

    assert render_check(pooled) == render_check(serial)
    assert render_inventory(pooled) == render_inventory(serial)
    assert render_sarif(pooled, __version__) == render_sarif(serial, __version__)

    # The project is not trivial: every module's tasks and the broken file are reported.
    inventory = json.loads(render_inventory(serial))
    assert len(inventory["tasks"]) == 3 * count
    findings = json.loads(render_check(serial))["findings"]
    rules = {f["rule"] for f in findings}
    assert {"RL000", "RL002", "RL101", "RL102", "RL301", "RL402"} <= rules
    assert all(not f["path"].startswith("/") for f in findings)


def test_process_pool_cli_matches_serial(tmp_path: Path) -> None:
    """`python -m retrylint` (pool sized by CPU count) against the serial in-process report."""
    root = _big_project(tmp_path / "proj", 26)
    proc = subprocess.run(
        [sys.executable, "-m", "retrylint", "check", "--format", "json", "."],
        cwd=root,
        env=_env(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr.decode()
    assert proc.stderr == b""
    # `check` marks the findings a proposed fix clears (`retrylint.fix`), serially here too.
    serial = _report(root, workers=1)
    offered = fix.planned(serial, unsafe=True)
    assert proc.stdout == render_check(fix.mark(serial, offered)).encode("utf-8")
