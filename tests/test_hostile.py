"""Hostile inputs: whatever a repository holds, each file is a located RL000, a reported task or
a skip, the scan goes on, and the exit code follows CONTRACTS §6.

Big and deep files are generated here at test time (see `tests/data/README.md`), never committed.
The worker pool is tested with simulated crashes and hangs (a worker that exits, segfaults, is
killed or sleeps), because every real crasher we know of is caught earlier by the deterministic
pre-check or by parsing on a large stack.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import operator
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import NoReturn

import pytest
from typer.testing import CliRunner

from retrylint import __version__, engine
from retrylint.cli import app
from retrylint.config.policy import discover_config, load_policy
from retrylint.frameworks import FRAMEWORKS, GO_ADAPTERS, PYTHON_ADAPTERS
from retrylint.python import ir
from retrylint.report.json_report import render_check, render_inventory
from retrylint.report.sarif_report import render_sarif
from retrylint.rules import RULES
from retrylint.scan import pool
from retrylint.scan.python_parse import (
    MAX_BRACKET_DEPTH,
    MAX_OPERATORS_PER_LINE,
    ParseProblem,
    parse_python,
)
from tests.conftest import REPO

DATA = Path(__file__).resolve().parent / "data"
HEADER = b"from celery import shared_task\n"
INTEREST = functools.reduce(operator.or_, (a.interest for a in PYTHON_ADAPTERS))
CAN_FORK = "fork" in multiprocessing.get_all_start_methods()


def task(name: str) -> bytes:
    """A task-bearing module with one bounded task called `name`."""
    return HEADER + (
        b"\n@shared_task(max_retries=3, autoretry_for=(IOError,), retry_backoff=True)\n"
        b"def " + name.encode() + b"():\n    pass\n"
    )


def report(root: Path, workers: int = 1, paths: list[Path] | None = None) -> engine.Report:
    config = discover_config(root)
    policy = load_policy(config, known_rules=RULES, known_frameworks=FRAMEWORKS, cwd=root)
    return engine.run(paths or [root], policy, workers=workers)


def rl000(result: engine.Report) -> dict[str, tuple[int, int, str]]:
    return {
        f.location.path: (
            f.location.line,
            f.location.column,
            f.message.removeprefix("cannot analyze this file: "),
        )
        for f in result.findings
        if f.rule == "RL000"
    }


def tasks(result: engine.Report) -> dict[str, tuple[str, int]]:
    return {r.name or "": (r.location.path, r.location.line) for r in result.rows}


def job(path: Path, rel: str | None = None) -> pool.Job:
    return (str(path), rel or path.name, path.stem, INTEREST)


# --- the hostile tree ---------------------------------------------------------------------------


def _committed() -> dict[str, bytes]:
    return {p.name.removesuffix(".in"): p.read_bytes() for p in sorted(DATA.glob("hostile/*.in"))}


# name -> bytes: the committed inputs, plus small generated ones; the big, deep and long ones
# are written by `_write_tree`.
FILES: dict[str, bytes] = {
    **_committed(),
    # Deep, but within the pre-check: parses on the large stack, in-process and in workers alike
    # (it crashed the run with RecursionError when parsed on the main thread).
    "deep_but_allowed.py": task("deep_but_allowed")
    + b"def later(self):\n    self.retry(countdown="
    + b"{1: " * 300
    + b"1"
    + b"}" * 300
    + b")\n",
    # No bracket and no operator character, so the pre-check lets it through. On the default
    # stack libcst overflowed (a segfault), on ours it ran out of recursion; `ast` reads it
    # (one flat `and`), so it is no longer an RL000.
    "and_chain.py": HEADER + b"X = " + b"a and " * 20_000 + b"b\n",
    # Nested past the interpreter's own parser, which gives up at a fixed depth with a
    # MemoryError: reported at once, where libcst would take gigabytes before failing too.
    "not_chain.py": HEADER + b"X = " + b"not " * 20_000 + b"b\n",
}


def _decode_error(name: str, byte: int) -> str:
    position = FILES[name].index(bytes([byte]))
    reason = "invalid continuation byte" if byte == 0xE9 else "invalid start byte"
    return (
        f"cannot decode file: 'utf-8' codec can't decode byte {byte:#x} "
        f"in position {position}: {reason}"
    )


# path -> (line, column, message) of the RL000 each file must give.
EXPECTED_RL000: dict[str, tuple[int, int, str]] = {
    "latin1_no_cookie.py": (1, 1, _decode_error("latin1_no_cookie.py", 0xE9)),
    "bom_and_latin1_cookie.py": (1, 1, "cannot decode file: encoding problem: utf-8"),
    "unknown_cookie.py": (1, 1, "cannot decode file: unknown encoding: klingon"),
    "nul_bytes.py": (1, 1, "file contains NUL bytes; it is not Python source"),
    "binary.py": (1, 1, _decode_error("binary.py", 0x80)),
    "python2_print.py": (2, 1, "syntax error: expected one of !=, %, &, (, *, **, ... (27 more)"),
    "python2_exec.py": (2, 1, "syntax error: expected one of !=, %, &, (, *, **, ... (27 more)"),
    "python2_backticks.py": (
        1,
        1,
        "syntax error: tokenizer error: '`' is not a valid character in this position",
    ),
    "python2_octal.py": (
        1,
        1,
        "syntax error: tokenizer error: leading zeros in decimal integer literals are not "
        "permitted; use an 0o prefix for octal integers",
    ),
    "tabs_and_spaces.py": (
        1,
        1,
        "syntax error: tokenizer error: inconsistent mixing of tabs and spaces",
    ),
    "unterminated.py": (
        1,
        1,
        "syntax error: tokenizer error: unterminated triple-quoted string literal",
    ),
    "too_many_indents.py": (1, 1, "syntax error: tokenizer error: too many indentation levels"),
    "not_chain.py": (1, 1, "the parser ran out of memory"),
    "huge.py": (
        1,
        1,
        "file is 20.0 MB; retrylint does not parse files larger than 2.0 MB",
    ),
    "deep_brackets.py": (
        2,
        4 + MAX_BRACKET_DEPTH + 1,
        f"brackets nested deeper than {MAX_BRACKET_DEPTH} levels; retrylint does not parse "
        "such files",
    ),
    "operator_chain.py": (
        2,
        4 * (MAX_OPERATORS_PER_LINE + 1) + 3,
        f"more than {MAX_OPERATORS_PER_LINE} operators on one logical line; retrylint does not "
        "parse such files",
    ),
    "broken_link.py": (1, 1, "cannot read file: No such file or directory"),
}

# task name -> (path, line of the `def`) for files that must parse despite their shape.
EXPECTED_TASKS = {
    "latin1_cookie.latin_cookie": ("latin1_cookie.py", 5),
    "bom.with_bom": ("bom.py", 4),
    "tabs.tab_indented": ("tabs.py", 4),
    "crlf.crlf_endings": ("crlf.py", 4),
    "mixed_endings.mixed_endings": ("mixed_endings.py", 4),
    "form_feed.after_form_feed": ("form_feed.py", 4),
    "no_final_newline.no_final_newline": ("no_final_newline.py", 4),
    "deep_but_allowed.deep_but_allowed": ("deep_but_allowed.py", 4),
}

TWENTY_MB = 20 * 1024 * 1024


def _write_tree(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, data in FILES.items():
        (root / name).write_bytes(data)
    filler = b"x = 1\n"
    body = filler * ((TWENTY_MB - len(HEADER)) // len(filler))
    (root / "huge.py").write_bytes((HEADER + body).ljust(TWENTY_MB, b"\n"))
    (root / "deep_brackets.py").write_bytes(
        HEADER + b"x = " + b"(" * 10_000 + b"1" + b")" * 10_000 + b"\n"
    )
    (root / "operator_chain.py").write_bytes(HEADER + b"x = " + b"1 + " * 10_000 + b"1\n")
    (root / "broken_link.py").symlink_to("does_not_exist.py")
    # A directory link back up the tree: discovery must not loop.
    (root / "pkg").mkdir()
    (root / "pkg" / "up").symlink_to("..", target_is_directory=True)
    return root


@pytest.fixture(scope="module")
def hostile_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_tree(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def hostile_serial(hostile_tree: Path) -> engine.Report:
    return report(hostile_tree, workers=1)


def test_every_hostile_file_is_a_located_rl000(hostile_serial: engine.Report) -> None:
    assert rl000(hostile_serial) == EXPECTED_RL000


def test_odd_but_valid_files_still_give_their_tasks(hostile_serial: engine.Report) -> None:
    assert tasks(hostile_serial) == EXPECTED_TASKS


def test_counts_and_no_other_findings(hostile_serial: engine.Report) -> None:
    assert hostile_serial.files_skipped == len(EXPECTED_RL000)
    # Every file but the RL000 ones is scanned, the empty ones and the directory link included.
    scanned = len(FILES) + 4 - len(EXPECTED_RL000)
    assert hostile_serial.files_scanned == scanned
    assert {f.rule for f in hostile_serial.findings} == {"RL000"}


@pytest.mark.parametrize("workers", [2, 3])
def test_worker_count_does_not_change_the_report(
    hostile_tree: Path, hostile_serial: engine.Report, workers: int
) -> None:
    pooled = report(hostile_tree, workers=workers)
    assert render_check(pooled) == render_check(hostile_serial)
    assert render_inventory(pooled) == render_inventory(hostile_serial)
    assert render_sarif(pooled, __version__) == render_sarif(hostile_serial, __version__)


def test_jobs_flag_does_not_change_any_output(hostile_tree: Path) -> None:
    def outputs(jobs: str) -> list[str]:
        runner = CliRunner()
        return [
            runner.invoke(app, [*command, "--no-cache", "--jobs", jobs, str(hostile_tree)]).stdout
            for command in (
                ["check", "--format", "json"],
                ["check", "--format", "sarif"],
                ["inventory", "--format", "json"],
            )
        ]

    serial = outputs("1")
    assert '"RL000"' in serial[0]
    for jobs in ("2", "3", "8"):
        assert outputs(jobs) == serial, jobs


def test_exit_codes_with_only_unreadable_files(tmp_path: Path) -> None:
    """RL000 is a warning: exit 1 by default, 0 below `--fail-on error` or with `--exit-zero`."""
    (tmp_path / "nul_bytes.py").write_bytes(FILES["nul_bytes.py"])
    (tmp_path / "python2_print.py").write_bytes(FILES["python2_print.py"])
    default = _cli_in(tmp_path, "check", "--format", "json", ".")
    lenient = _cli_in(tmp_path, "check", "--fail-on", "error", ".")
    zero = _cli_in(tmp_path, "check", "--exit-zero", ".")
    assert (default.returncode, lenient.returncode, zero.returncode) == (1, 0, 0)
    assert default.stderr == b""
    findings = json.loads(default.stdout)["findings"]
    assert [(f["rule"], f["path"], f["line"], f["column"]) for f in findings] == [
        ("RL000", "nul_bytes.py", 1, 1),
        ("RL000", "python2_print.py", 2, 1),
    ]


# --- files that cannot be read ---------------------------------------------------------------


def test_unreadable_file_is_rl000(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """EACCES, simulated: CI runs as root, for whom `chmod 000` changes nothing."""
    (tmp_path / "secret.py").write_bytes(task("secret"))
    (tmp_path / "open.py").write_bytes(task("visible"))
    (tmp_path / "secret.py").chmod(0)
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "secret.py":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = report(tmp_path)
    assert rl000(result) == {"secret.py": (1, 1, "cannot read file: Permission denied")}
    assert tasks(result) == {"open.visible": ("open.py", 4)}


def test_file_unreadable_by_the_time_it_is_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Readable when discovered, then EACCES in the parser: still a located RL000."""
    target = tmp_path / "racy.py"
    target.write_bytes(task("racy"))
    real = os.open

    def deny(path: str, flags: int, *args: int) -> int:
        if str(path).endswith("racy.py"):
            raise PermissionError(13, "Permission denied", path)
        return real(path, flags, *args)

    monkeypatch.setattr(pool.os, "open", deny)
    assert pool.parse_job(job(target)) == ParseProblem(
        "racy.py", 1, 1, "cannot read file: Permission denied"
    )


def test_parser_refuses_a_fifo_and_a_directory(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    assert pool.parse_job(job(fifo)) == ParseProblem("pipe.py", 1, 1, "not a regular file")
    folder = tmp_path / "folder.py"
    folder.mkdir()
    assert pool.parse_job(job(folder)) == ParseProblem(
        "folder.py", 1, 1, "cannot read file: Is a directory"
    )


def test_parser_reports_a_vanished_file(tmp_path: Path) -> None:
    assert pool.parse_job(job(tmp_path / "gone.py")) == ParseProblem(
        "gone.py", 1, 1, "cannot read file: No such file or directory"
    )


def test_non_utf8_file_name_is_scanned(tmp_path: Path) -> None:
    """The name is kept with surrogate escapes; text and JSON outputs render it."""
    raw = os.fsencode(tmp_path) + b"/t\xe9l\xe9com.py"
    with open(raw, "wb") as handle:
        handle.write(task("call"))
    with open(os.fsencode(tmp_path) + b"/n\xffl.py", "wb") as handle:
        handle.write(HEADER + b"\x00")
    result = report(tmp_path)
    assert tasks(result) == {"t\udce9l\udce9com.call": ("t\udce9l\udce9com.py", 4)}
    assert rl000(result) == {
        "n\udcffl.py": (1, 1, "file contains NUL bytes; it is not Python source")
    }
    assert json.loads(render_check(result))["findings"][0]["path"] == "n\udcffl.py"
    assert "t\udce9l\udce9com.call" in render_inventory(result)


def test_directory_symlink_loop_ends(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "tasks.py").write_bytes(task("looped"))
    (tmp_path / "a" / "again").symlink_to("..", target_is_directory=True)
    (tmp_path / "self").symlink_to(".", target_is_directory=True)
    result = report(tmp_path)
    assert tasks(result) == {"tasks.looped": ("a/tasks.py", 4)}


@pytest.mark.skipif(not GO_ADAPTERS, reason="no Go adapter registered")
def test_go_file_that_does_not_parse(tmp_path: Path) -> None:
    (tmp_path / "main.go").write_text(
        'package main\n\nimport "github.com/hibiken/asynq"\n\nfunc main() { asynq.NewClient( }\n',
        encoding="utf-8",
    )
    (tmp_path / "tasks.py").write_bytes(task("beside_go"))
    result = report(tmp_path)
    found = rl000(result)
    assert list(found) == ["main.go"]
    line, column, message = found["main.go"]
    assert (line, message.startswith("syntax error")) == (5, True)
    assert column > 1
    assert tasks(result) == {"tasks.beside_go": ("tasks.py", 4)}


# --- the worker pool ---------------------------------------------------------------------------


def fork_executor(**kwargs: object) -> ProcessPoolExecutor:
    """Workers forked from this process, so a monkeypatched `pool.parse_file` reaches them."""
    return ProcessPoolExecutor(mp_context=multiprocessing.get_context("fork"), **kwargs)  # type: ignore[arg-type]


def misbehave(actions: dict[str, Callable[[], object]]) -> Callable[[pool.Job], pool.Result]:
    """A `parse_file` that does something terrible for some file names."""
    real = pool.parse_file

    def parse_file(job: pool.Job) -> pool.Result:
        action = actions.get(Path(job[0]).name)
        if action is not None:
            action()
        return real(job)

    return parse_file


def _hang() -> None:
    time.sleep(600)


def _no_core_dump() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _segfault() -> None:
    _no_core_dump()
    os.kill(os.getpid(), signal.SIGSEGV)


def _killed() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _exit() -> None:
    os._exit(3)


def _abort() -> None:
    _no_core_dump()
    os.abort()


def _memory_hog() -> None:
    hog = bytearray(64 * 1024 * 1024 * 1024)  # far past the cap: MemoryError at once
    hog[0] = 1


def _bug() -> None:
    raise KeyError("a bug in our own extraction")


@pytest.fixture
def many_files(tmp_path: Path) -> list[pool.Job]:
    jobs = []
    for n in range(12):
        path = tmp_path / f"mod_{n:02d}.py"
        path.write_bytes(task(f"job_{n}"))
        jobs.append(job(path))
    return jobs


needs_fork = pytest.mark.skipif(not CAN_FORK, reason="simulated crashes need fork workers")


@needs_fork
@pytest.mark.parametrize("workers", [2, 3, 5])
def test_pool_survives_crashing_workers(
    many_files: list[pool.Job], monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    crashers = {
        "mod_01.py": _segfault,
        "mod_04.py": _exit,
        "mod_05.py": _killed,
        "mod_09.py": _abort,
    }
    serial = [pool.parse_job(j) for j in many_files]
    monkeypatch.setattr(pool, "parse_file", misbehave(crashers))
    limits = pool.Limits(timeout=60, memory_mb=None)
    results = pool.parse_all(many_files, workers, limits=limits, executor=fork_executor)
    for job_, got, expected in zip(many_files, results, serial, strict=True):
        name = Path(job_[0]).name
        if name in crashers:
            assert got == ParseProblem(
                name, 1, 1, "the parser crashed: its worker process died (a native crash)"
            )
        else:
            assert got == expected


@needs_fork
def test_pool_stops_a_hanging_worker(
    many_files: list[pool.Job], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pool, "parse_file", misbehave({"mod_03.py": _hang, "mod_07.py": _hang}))
    limits = pool.Limits(timeout=1.5, memory_mb=None)
    started = time.monotonic()
    results = pool.parse_all(many_files, 2, limits=limits, executor=fork_executor)
    assert time.monotonic() - started < 30
    slow = {
        r.path: r.message for r in results if isinstance(r, ParseProblem) and "slow" in r.message
    }
    message = (
        "too slow to parse: still running after 1.5 s, so its worker was stopped "
        "(set RETRYLINT_FILE_TIMEOUT to allow more)"
    )
    assert slow == {"mod_03.py": message, "mod_07.py": message}
    assert sum(isinstance(r, ir.ModuleSummary) for r in results) == len(many_files) - 2


def _troubled_parse(
    source: bytes, path: str, dotted: str, interest: ir.Interest
) -> ir.ModuleSummary | ParseProblem:
    """`parse_python` with a memory hog and a bug in it, for two of the files."""
    if path == "mod_02.py":
        _memory_hog()
    if path == "mod_06.py":
        _bug()
    return parse_python(source, path, dotted, interest)


@needs_fork
def test_pool_memory_cap_and_internal_bugs(
    many_files: list[pool.Job], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pool, "parse_python", _troubled_parse)
    results = pool.parse_all(
        many_files, 2, limits=pool.Limits(timeout=60, memory_mb=512), executor=fork_executor
    )
    messages = {r.path: r.message for r in results if isinstance(r, ParseProblem)}
    assert messages == {
        "mod_02.py": "the parser ran out of memory",
        "mod_06.py": "the parser crashed (KeyError: 'a bug in our own extraction')",
    }


@needs_fork
def test_real_parse_under_a_tiny_memory_cap(tmp_path: Path) -> None:
    """A real 1.8 MB module in a worker capped at 16 MiB: RL000, and the next file parses.
    (400 KB, enough for libcst, can fit in 16 MiB when `ast` reads it.)"""
    big = tmp_path / "big.py"
    big.write_bytes(task("big") + b"x = 1\n" * 300_000)
    small = tmp_path / "small.py"
    small.write_bytes(task("small"))
    results = pool.parse_all(
        [job(big), job(small)],
        2,
        limits=pool.Limits(timeout=120, memory_mb=16),
        executor=fork_executor,
    )
    assert isinstance(results[0], ParseProblem)
    assert results[0].message in {
        "the parser ran out of memory",
        "the parser crashed: its worker process died (a native crash, or it reached the "
        "16 MiB memory cap)",
    }
    assert isinstance(results[1], ir.ModuleSummary)


@needs_fork
def test_workers_are_kept_between_parses_of_a_run_unless_they_crashed(
    many_files: list[pool.Job], monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[object] = []

    def counting(**kwargs: object) -> ProcessPoolExecutor:
        started.append(kwargs)
        return fork_executor(**kwargs)

    serial = [pool.parse_job(j) for j in many_files]
    kept = pool.Workers()
    limits = pool.Limits(timeout=60, memory_mb=None)
    for part in (many_files[:6], many_files[6:]):
        assert pool.parse_all(part, 2, limits=limits, executor=counting, kept=kept) == [
            serial[many_files.index(j)] for j in part
        ]
    assert len(started) == 1  # the second parse ran in the first one's workers
    monkeypatch.setattr(pool, "parse_file", misbehave({"mod_02.py": _killed}))
    pool.parse_all(many_files[:4], 2, limits=limits, executor=counting, kept=kept)
    # Had the broken workers been kept, these would come back as crashed.
    assert (
        pool.parse_all(many_files[4:8], 2, limits=limits, executor=counting, kept=kept)
        == (serial[4:8])
    )
    kept.close()


def _exit_the_thread() -> None:
    raise SystemExit("a BaseException our parse does not catch")


@needs_fork
def test_a_failing_batch_is_retried_a_file_at_a_time(
    many_files: list[pool.Job], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small files share a batch; an exception escaping one file's parse is blamed on it
    alone, not on the batch it came in."""
    serial = [pool.parse_job(j) for j in many_files]
    monkeypatch.setattr(pool, "parse_file", misbehave({"mod_05.py": _exit_the_thread}))
    sizes = [pool._size(j) for j in many_files]
    assert len(pool._Queue(sizes).take(2)) > 1  # the premise: files go several a batch
    limits = pool.Limits(timeout=60, memory_mb=None)
    results = pool.parse_all(many_files, 2, limits=limits, executor=fork_executor)
    expected = list(serial)
    expected[5] = ParseProblem(
        "mod_05.py",
        1,
        1,
        "the parser crashed (SystemExit: a BaseException our parse does not catch)",
    )
    assert results == expected


def test_batches_take_large_files_first_and_alone() -> None:
    sizes = [100, 90_000, 300, 200, 40_000, 100, 100, 100]
    queue = pool._Queue(sizes)
    batches = []
    while queue:
        batches.append(queue.take(2))
    assert batches[:2] == [(1,), (4,)]
    # Each job once; the small ones share batches, yet both workers get some of them.
    assert sorted(i for b in batches for i in b) == list(range(len(sizes)))
    assert 2 <= len(batches[2:]) < len(sizes) - 2
    queue.put_back([0, 2, 3], alone=True)
    assert [queue.take(2) for _ in range(3)] == [(0,), (2,), (3,)]
    assert not queue


@needs_fork
def test_files_started_early_are_judged_like_the_rest(
    many_files: list[pool.Job], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files given to idle workers before the parse that wants them (`prefetch`) come back
    in that parse, in the same workers; one that crashes or hangs there is judged as if it
    had started with the parse."""
    started: list[object] = []

    def counting(**kwargs: object) -> ProcessPoolExecutor:
        started.append(kwargs)
        return fork_executor(**kwargs)

    serial = [pool.parse_job(j) for j in many_files]
    limits = pool.Limits(timeout=1.5, memory_mb=None)
    kept = pool.Workers()
    kept.start(2, limits, counting)
    for early in many_files[:3]:
        kept.prefetch(early)
    assert pool.parse_all(many_files, 2, limits=limits, executor=counting, kept=kept) == serial
    assert len(started) == 1
    kept.start(2, limits, counting)  # it has its workers: no new ones
    assert len(started) == 1
    kept.close()
    monkeypatch.setattr(pool, "parse_file", misbehave({"mod_00.py": _killed, "mod_01.py": _hang}))
    kept = pool.Workers()
    kept.start(2, limits, fork_executor)
    kept.prefetch(many_files[0])
    kept.prefetch(many_files[1])
    results = pool.parse_all(many_files, 2, limits=limits, executor=fork_executor, kept=kept)
    kept.close()
    assert results[0] == ParseProblem(
        "mod_00.py", 1, 1, "the parser crashed: its worker process died (a native crash)"
    )
    assert isinstance(results[1], ParseProblem) and "too slow" in results[1].message
    assert results[2:] == serial[2:]


def test_pool_with_the_default_start_method(many_files: list[pool.Job]) -> None:
    """No monkeypatching: whatever start method this platform uses, results match serial."""
    serial = [pool.parse_job(j) for j in many_files]
    assert pool.parse_all(many_files, 3, limits=pool.Limits()) == serial


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="`ast` reads `except A, B:` from 3.14")
def test_parse_depth_does_not_depend_on_the_callers_stack(tmp_path: Path) -> None:
    """The boundary of "nesting too deep" is the same from a shallow or a deep call stack."""
    shapes = {
        "ok.py": task("ok") + b"X = " + b"a + " * 600 + b"b\n",
        # Syntax `ast` rejects before Python 3.14 (and retrylint does not blank out, for the
        # parentheses), so libcst reads it, and runs out of recursion on the chain.
        "deep.py": task("deep")
        + b"try:\n    pass\nexcept (KeyError), IndexError:\n    pass\n"
        + b"X = "
        + b"a and " * 20_000
        + b"b\n",
    }
    jobs = []
    for name, data in shapes.items():
        (tmp_path / name).write_bytes(data)
        jobs.append(job(tmp_path / name))
    shallow = [pool.parse_job(j) for j in jobs]

    def nested(depth: int) -> list[pool.Result]:
        return nested(depth - 1) if depth else [pool.parse_job(j) for j in jobs]

    depth, frame = 0, sys._getframe()
    while frame.f_back is not None:
        depth, frame = depth + 1, frame.f_back
    assert nested(sys.getrecursionlimit() - depth - 40) == shallow
    assert isinstance(shallow[0], ir.ModuleSummary)
    assert shallow[1] == ParseProblem("deep.py", 1, 1, "nesting too deep for the parser")


def test_single_worker_parses_in_process(
    many_files: list[pool.Job], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_pool(**kwargs: object) -> ProcessPoolExecutor:
        raise AssertionError("no worker process with workers=1")

    assert pool.parse_all(many_files, 1, executor=no_pool) == [
        pool.parse_job(j) for j in many_files
    ]
    assert pool.parse_all([], 4, executor=no_pool) == []


def test_platform_without_processes_falls_back_to_in_process(
    many_files: list[pool.Job],
) -> None:
    def unavailable(**kwargs: object) -> ProcessPoolExecutor:
        raise NotImplementedError("no sem_open here")

    assert pool.parse_all(many_files, 4, executor=unavailable) == [
        pool.parse_job(j) for j in many_files
    ]


# --- limits from the environment ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "limits"),
    [
        ({}, pool.Limits(20.0, 2048)),
        ({"RETRYLINT_FILE_TIMEOUT": "2.5"}, pool.Limits(2.5, 2048)),
        ({"RETRYLINT_FILE_TIMEOUT": "0"}, pool.Limits(None, 2048)),
        ({"RETRYLINT_FILE_TIMEOUT": "off", "RETRYLINT_FILE_MEMORY": "0"}, pool.Limits(None, None)),
        ({"RETRYLINT_FILE_MEMORY": " 512 "}, pool.Limits(20.0, 512)),
        ({"RETRYLINT_FILE_TIMEOUT": ""}, pool.Limits(20.0, 2048)),
    ],
)
def test_limits_from_env(env: dict[str, str], limits: pool.Limits) -> None:
    assert pool.Limits.from_env(env) == limits


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"RETRYLINT_FILE_TIMEOUT": "soon"},
            "RETRYLINT_FILE_TIMEOUT='soon' is not a number of seconds; write a positive number "
            "such as RETRYLINT_FILE_TIMEOUT=60, or 0 for no cap",
        ),
        (
            {"RETRYLINT_FILE_TIMEOUT": "-3"},
            "RETRYLINT_FILE_TIMEOUT='-3' is not a number of seconds; write a positive number "
            "such as RETRYLINT_FILE_TIMEOUT=60, or 0 for no cap",
        ),
        (
            {"RETRYLINT_FILE_TIMEOUT": "nan"},
            "RETRYLINT_FILE_TIMEOUT='nan' is not a number of seconds; write a positive number "
            "such as RETRYLINT_FILE_TIMEOUT=60, or 0 for no cap",
        ),
        (
            {"RETRYLINT_FILE_MEMORY": "2G"},
            "RETRYLINT_FILE_MEMORY='2G' is not a number of MiB; write a whole number such as "
            "RETRYLINT_FILE_MEMORY=4096, or 0 for no cap",
        ),
    ],
)
def test_bad_limits_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError) as info:
        pool.Limits.from_env(env)
    assert str(info.value) == message


def test_bad_limit_is_a_usage_error_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tasks.py").write_bytes(task("limited"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RETRYLINT_FILE_TIMEOUT", "soon")
    result = CliRunner().invoke(app, ["check", "."])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "retrylint: error: RETRYLINT_FILE_TIMEOUT='soon' is not a number of seconds; "
        "write a positive number such as RETRYLINT_FILE_TIMEOUT=60, or 0 for no cap"
    ]


# --- known gaps outside the pool (minimal reproductions for the lead) -------------------------


def _cli_in(root: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("RETRYLINT_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "retrylint", *args],
        cwd=root,
        env=env,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def test_looping_file_symlink_is_reported(tmp_path: Path) -> None:
    (tmp_path / "loop_a.py").symlink_to("loop_b.py")
    (tmp_path / "loop_b.py").symlink_to("loop_a.py")
    assert set(rl000(report(tmp_path))) == {"loop_a.py", "loop_b.py"}


def test_named_looping_symlink_is_not_an_internal_error(tmp_path: Path) -> None:
    (tmp_path / "loop_a.py").symlink_to("loop_b.py")
    (tmp_path / "loop_b.py").symlink_to("loop_a.py")
    proc = _cli_in(tmp_path, "check", "loop_a.py")
    assert b"internal error" not in proc.stderr


def test_fifo_in_the_tree_does_not_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "tasks.py").write_bytes(task("next_to_a_fifo"))
    try:
        proc = _cli_in(tmp_path, "check", ".", timeout=8)
    except subprocess.TimeoutExpired:
        pytest.fail("retrylint hung on a FIFO named .py")
    assert proc.returncode in (0, 1)


def test_sarif_with_a_non_utf8_file_name(tmp_path: Path) -> None:
    with open(os.fsencode(tmp_path) + b"/n\xe9ul.py", "wb") as handle:
        handle.write(HEADER + b"\x00")
    proc = _cli_in(tmp_path, "check", "--format", "sarif", ".")
    assert proc.returncode == 1, proc.stderr


def test_imported_module_too_deep_for_the_main_thread(tmp_path: Path) -> None:
    """`limits.py` holds no marker, so it is loaded lazily, outside the pool and its stack."""
    (tmp_path / "limits.py").write_text("LIMIT = 3\nX = " + "a and " * 600 + "b\n")
    (tmp_path / "tasks.py").write_bytes(
        HEADER + b"from limits import LIMIT\n\n@shared_task(max_retries=LIMIT, "
        b"autoretry_for=(IOError,))\ndef bounded():\n    pass\n"
    )
    proc = _cli_in(tmp_path, "inventory", "--format", "json", ".")
    assert proc.returncode == 0, proc.stderr


def test_task_named_like_part_of_def_is_located_at_its_name(tmp_path: Path) -> None:
    (tmp_path / "tasks.py").write_bytes(task("f"))
    row = report(tmp_path).rows[0]
    assert (row.location.line, row.location.column) == (4, 5)


@pytest.mark.xfail(strict=True, reason="lone CR line endings are not counted as lines")
def test_lone_cr_line_endings_give_real_lines(tmp_path: Path) -> None:
    (tmp_path / "tasks.py").write_bytes(task("old_mac").replace(b"\n", b"\r"))
    row = report(tmp_path).rows[0]
    assert (row.location.line, row.location.column) == (4, 5)


def test_data_readme_exists() -> None:
    """Hostile inputs live in tests/data (CONTRACTS §9), generated rather than committed."""
    assert (DATA / "README.md").is_file()
    assert not any(p.suffix == ".py" for p in (REPO / "fixtures").rglob("hostile*"))


class _NoFork(ProcessPoolExecutor):
    def submit(self, *args: object, **kwargs: object) -> NoReturn:  # type: ignore[override]
        raise BlockingIOError(11, "Resource temporarily unavailable")


def test_pool_that_cannot_start_processes_parses_in_process(
    many_files: list[pool.Job],
) -> None:
    assert pool.parse_all(many_files, 3, executor=_NoFork) == [
        pool.parse_job(j) for j in many_files
    ]
