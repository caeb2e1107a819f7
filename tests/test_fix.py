"""`check --fix`, `--diff` and `--unsafe-fixes`: every fix is checked three ways.

For each framework's spelling of a retry bound (and each backoff/jitter setting), the fixed
file must parse again, re-analysing it must no longer give the finding, and a second `--fix`
must change nothing. The expected texts were written by hand from the reference's count
table: retries (Celery, Dramatiq, Huey, Procrastinate, asynq) get the category's bound n,
frameworks that count runs (arq, SAQ, Temporal, tenacity, backoff, stamina) get n + 1.
"""

from __future__ import annotations

import json
import shutil
import stat
import textwrap
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import libcst
import pytest
from typer.testing import CliRunner, Result

from retrylint import fix
from retrylint.cli import app
from retrylint.fix.write import write_atomic
from retrylint.golang.parse import parse_go
from tests.conftest import FIXTURES, analyze, write_project

GO_MOD = """
module example.com/shop

go 1.22

require github.com/hibiken/asynq v0.25.1
"""

# name → (files, the file fixed, the text it must contain after `--fix`, rules fixed)
SAFE: dict[str, tuple[dict[str, str], str, str]] = {
    "celery-decorator": (
        {
            "app.py": """
            from celery import Celery
            app = Celery("app")

            @app.task(autoretry_for=(ConnectionError,), max_retries=None)  # keep me
            def sync():
                ...
            """
        },
        "app.py",
        "@app.task(autoretry_for=(ConnectionError,), max_retries=10)  # keep me\n",
    ),
    "celery-base-class": (
        {
            "app.py": """
            from celery import Celery, Task
            app = Celery("app")

            class Forever(Task):
                autoretry_for = (ConnectionError,)
                max_retries = None

            @app.task(base=Forever)
            def sync():
                ...
            """
        },
        "app.py",
        # Overridden at the task, not in the base class other tasks share.
        "    max_retries = None\n\n@app.task(base=Forever, max_retries=10)\n",
    ),
    "celery-class": (
        {
            "app.py": """
            from celery import Celery, Task
            app = Celery("app")

            class Forever(Task):
                name = "forever"
                autoretry_for = (ConnectionError,)
                max_retries = None  # keep

                def run(self):
                    ...

            app.register_task(Forever())
            """
        },
        "app.py",
        "    max_retries = 10  # keep\n",
    ),
    "celery-annotation": (
        {
            "app.py": """
            from celery import Celery
            app = Celery("app")
            app.conf.task_annotations = {"app.sync": {"max_retries": None}}

            @app.task(autoretry_for=(ConnectionError,))
            def sync():
                ...
            """
        },
        "app.py",
        # An annotation beats the decorator, so it is fixed where it is written.
        'app.conf.task_annotations = {"app.sync": {"max_retries": 10}}\n',
    ),
    "dramatiq": (
        {
            "actors.py": """
            import dramatiq

            @dramatiq.actor(max_retries=None)
            def sync():
                ...
            """
        },
        "actors.py",
        "@dramatiq.actor(max_retries=10)\n",
    ),
    "huey": (
        {
            "tasks.py": """
            from huey import RedisHuey
            huey = RedisHuey()

            @huey.task(retries=-1, retry_delay=5)
            def sync():
                ...
            """
        },
        "tasks.py",
        "@huey.task(retries=10, retry_delay=5)\n",
    ),
    "arq": (
        {
            "worker.py": """
            from arq import Retry, func

            async def sync(ctx):
                raise Retry(defer=ctx["job_try"] * 5)

            class WorkerSettings:
                functions = [func(sync, max_tries=float("inf"))]
            """
        },
        "worker.py",
        "functions = [func(sync, max_tries=11)]\n",
    ),
    "procrastinate": (
        {
            "tasks.py": """
            import procrastinate
            app = procrastinate.App(connector=procrastinate.PsycopgConnector())

            @app.task(retry=True)
            def sync():
                ...
            """
        },
        "tasks.py",
        "@app.task(retry=10)\n",
    ),
    "saq": (
        {
            "jobs.py": """
            from saq import Queue
            queue = Queue.from_url("redis://")

            async def sync(ctx):
                ...

            async def go():
                await queue.enqueue("sync", retries=float("inf"), retry_delay=1.0)

            settings = {"queue": queue, "functions": [sync]}
            """
        },
        "jobs.py",
        'await queue.enqueue("sync", retries=11, retry_delay=1.0)\n',
    ),
    "temporal-no-policy": (
        {
            "flows.py": """
            from datetime import timedelta
            from temporalio import activity, workflow

            @activity.defn
            async def charge() -> None:
                ...

            @workflow.defn
            class Pay:
                @workflow.run
                async def run(self) -> None:
                    await workflow.execute_activity(
                        charge,
                        start_to_close_timeout=timedelta(seconds=5),
                    )
            """
        },
        "flows.py",
        "from temporalio.common import RetryPolicy\n",
    ),
    "temporal-zero": (
        {
            "flows.py": """
            from datetime import timedelta
            from temporalio import activity, workflow
            from temporalio.common import RetryPolicy

            @activity.defn
            async def charge() -> None:
                ...

            @workflow.defn
            class Pay:
                @workflow.run
                async def run(self) -> None:
                    await workflow.execute_activity(
                        charge,
                        start_to_close_timeout=timedelta(seconds=5),
                        retry_policy=RetryPolicy(maximum_attempts=0),
                    )
            """
        },
        "flows.py",
        "retry_policy=RetryPolicy(maximum_attempts=11),\n",
    ),
    "tenacity": (
        {
            "calls.py": """
            from tenacity import retry

            @retry
            def fetch():
                ...
            """
        },
        "calls.py",
        "@retry(stop=stop_after_attempt(11))\n",
    ),
    "backoff": (
        {
            "calls.py": """
            import backoff

            @backoff.on_exception(backoff.expo, ConnectionError)
            def fetch():
                ...
            """
        },
        "calls.py",
        "@backoff.on_exception(backoff.expo, ConnectionError, max_tries=11)\n",
    ),
    "stamina": (
        {
            "calls.py": """
            import stamina

            @stamina.retry(on=ConnectionError, attempts=None, timeout=None)
            def fetch():
                ...
            """
        },
        "calls.py",
        "@stamina.retry(on=ConnectionError, attempts=11, timeout=None)\n",
    ),
    "asynq": (
        {
            "go.mod": GO_MOD,
            "main.go": """
            package main

            import "github.com/hibiken/asynq"

            func main() {
            \tclient := asynq.NewClient(asynq.RedisClientOpt{Addr: "localhost:6379"})
            \t// forever: keep this comment
            \ttask := asynq.NewTask("email:deliver", nil, asynq.MaxRetry(1000000))
            \tclient.Enqueue(task)
            }
            """,
        },
        "main.go",
        '\t// forever: keep this comment\n\ttask := asynq.NewTask("email:deliver", nil, '
        "asynq.MaxRetry(10))\n",
    ),
    "wrapper-parameter": (
        {
            "worker.py": """
            import dramatiq

            def actor(queue_name="default", max_retries=None, **options):
                def decorator(fn):
                    return dramatiq.actor(
                        fn, queue_name=queue_name, max_retries=max_retries, **options
                    )
                return decorator
            """,
            "jobs.py": """
            from worker import actor

            @actor(queue_name="jobs")
            def sync():
                ...
            """,
        },
        # The wrapper's default is overridden where the wrapper is used, never inside it.
        "jobs.py",
        '@actor(queue_name="jobs", max_retries=10)\n',
    ),
}

# name → (files, the file fixed, text after `--fix --unsafe-fixes`, rules fixed)
UNSAFE: dict[str, tuple[dict[str, str], str, str, set[str]]] = {
    "celery": (
        {
            "app.py": """
            from celery import Celery
            app = Celery("app")

            @app.task(autoretry_for=(ConnectionError,), max_retries=4)
            def sync():
                ...
            """
        },
        "app.py",
        "max_retries=4, retry_backoff=True, retry_jitter=True)\n",
        {"RL201", "RL202"},
    ),
    "celery-class": (
        {
            "app.py": """
            from celery import Celery, Task
            app = Celery("app")

            class Sync(Task):
                \"\"\"Syncs.\"\"\"
                name = "sync"
                autoretry_for = (ConnectionError,)
                max_retries = 4

                def run(self):
                    ...

            app.register_task(Sync())
            """
        },
        "app.py",
        "    max_retries = 4\n    retry_backoff = True\n    retry_jitter = True\n\n    def run",
        {"RL201", "RL202"},
    ),
    "huey": (
        {
            "tasks.py": """
            from huey import RedisHuey
            huey = RedisHuey()

            @huey.task(retries=3, retry_delay=5)
            def sync():
                ...
            """
        },
        "tasks.py",
        "@huey.task(retries=3, retry_delay=5, retry_backoff=2)\n",
        {"RL201"},  # Huey has no jitter: RL202 stays
    ),
    "saq": (
        {
            "jobs.py": """
            from saq import Queue
            queue = Queue.from_url("redis://")

            async def sync(ctx):
                ...

            async def go():
                await queue.enqueue("sync", retries=3, retry_delay=1.0)

            settings = {"queue": queue, "functions": [sync]}
            """
        },
        "jobs.py",
        'await queue.enqueue("sync", retries=3, retry_delay=1.0, retry_backoff=True)\n',
        {"RL201", "RL202"},
    ),
    "temporal": (
        {
            "flows.py": """
            from datetime import timedelta
            from temporalio import activity, workflow
            from temporalio.common import RetryPolicy

            @activity.defn
            async def charge() -> None:
                ...

            @workflow.defn
            class Pay:
                @workflow.run
                async def run(self) -> None:
                    await workflow.execute_activity(
                        charge,
                        start_to_close_timeout=timedelta(seconds=5),
                        retry_policy=RetryPolicy(maximum_attempts=3, backoff_coefficient=1.0),
                    )
            """
        },
        "flows.py",
        "retry_policy=RetryPolicy(maximum_attempts=3, backoff_coefficient=2.0),\n",
        {"RL201"},  # Temporal has no jitter: its RL202 is one note per category, no fix
    ),
    "tenacity": (
        {
            "calls.py": """
            import tenacity

            @tenacity.retry(stop=tenacity.stop_after_attempt(3))
            def fetch():
                ...
            """
        },
        "calls.py",
        "@tenacity.retry(stop=tenacity.stop_after_attempt(3), "
        "wait=wait_random_exponential(multiplier=1, max=60))\n",
        {"RL201", "RL202"},
    ),
    "backoff": (
        {
            "calls.py": """
            from backoff import expo, on_exception

            @on_exception(expo, ConnectionError, max_tries=3, jitter=None)
            def fetch():
                ...
            """
        },
        "calls.py",
        "from backoff import expo, on_exception\nimport backoff\n\n"
        "@on_exception(expo, ConnectionError, max_tries=3, jitter=backoff.full_jitter)\n",
        {"RL202"},
    ),
    "stamina": (
        {
            "calls.py": """
            import stamina

            @stamina.retry(on=ConnectionError, attempts=3, wait_exp_base=1, wait_jitter=0)
            def fetch():
                ...
            """
        },
        "calls.py",
        "@stamina.retry(on=ConnectionError, attempts=3, wait_exp_base=2, wait_jitter=1.0)\n",
        {"RL201", "RL202"},
    ),
}


@pytest.fixture(autouse=True)
def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RETRYLINT_DEBUG", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


def cli(root: Path, *args: str) -> Result:
    """`retrylint check` run from inside `root`, which holds no policy file (built-in policy:
    at most 10 retries, exponential backoff, jitter)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        return CliRunner().invoke(app, ["check", *args], catch_exceptions=False)


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return write_project(root, files)


def rules_of(root: Path) -> list[str]:
    return sorted(f.rule for f in analyze(root).findings)


def assert_parses(path: Path) -> None:
    data = path.read_bytes()
    if path.suffix == ".go":
        assert parse_go(data, path.name)[1] is None
    else:
        libcst.parse_module(data)


def assert_fixed(root: Path, target: str, expected: str, fixed: set[str], *flags: str) -> None:
    """The three checks every fix gets, plus the expected text."""
    before = rules_of(root)
    assert fixed <= set(before)
    result = cli(root, "--fix", *flags)
    text = (root / target).read_text(encoding="utf-8")
    assert expected in text, result.output
    assert_parses(root / target)
    after = rules_of(root)
    assert not fixed & set(after), after
    # Nothing new: the remaining findings are the old ones minus those fixed.
    assert set(after) <= set(before)
    assert f"({len(before) - len(after)} fixed, {len(after)} remaining)" in result.output
    snapshot = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    again = cli(root, "--fix", *flags)
    assert "(0 fixed," in again.output
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == snapshot


@pytest.mark.parametrize("case", sorted(SAFE))
def test_safe_fix_bounds_the_retries(tmp_path: Path, case: str) -> None:
    files, target, expected = SAFE[case]
    root = project(tmp_path, files)
    assert_fixed(root, target, expected, {"RL101"})


@pytest.mark.parametrize("case", sorted(UNSAFE))
def test_unsafe_fix_turns_on_backoff_and_jitter(tmp_path: Path, case: str) -> None:
    files, target, expected, fixed = UNSAFE[case]
    root = project(tmp_path, files)
    original = (root / target).read_bytes()
    cli(root, "--fix")  # without --unsafe-fixes nothing of this changes
    assert (root / target).read_bytes() == original
    assert_fixed(root, target, expected, fixed, "--unsafe-fixes")


def test_temporal_gets_no_jitter_fix(tmp_path: Path) -> None:
    files, target, _, _ = UNSAFE["temporal"]
    root = project(tmp_path, files)
    cli(root, "--fix", "--unsafe-fixes")
    assert "RL202" in rules_of(root)
    assert "jitter" not in (root / target).read_text(encoding="utf-8")


def test_tenacity_import_is_added(tmp_path: Path) -> None:
    files, target, _ = SAFE["tenacity"]
    root = project(tmp_path, files)
    cli(root, "--fix")
    assert (
        (root / target).read_text().startswith("from tenacity import retry, stop_after_attempt\n")
    )


def test_import_goes_after_the_last_import(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "calls.py": """
            \"\"\"Calls.\"\"\"
            import tenacity
            from tenacity import (
                retry_if_exception_type,
            )

            @tenacity.retry(retry=retry_if_exception_type(OSError))
            def fetch():
                ...
            """
        },
    )
    cli(root, "--fix")
    assert (
        (root / "calls.py")
        .read_text()
        .startswith(
            '"""Calls."""\nimport tenacity\n'
            "from tenacity import (\n    retry_if_exception_type,\n)\n"
            "from tenacity import stop_after_attempt\n\n"
            "@tenacity.retry(retry=retry_if_exception_type(OSError), "
            "stop=stop_after_attempt(11))\n"
        )
    )


def test_multi_line_decorator_keeps_its_layout_and_comments(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "app.py": """
            from celery import Celery
            app = Celery("app")

            # Retried on network errors.
            @app.task(
                autoretry_for=(ConnectionError,),  # transient only
                max_retries=None,
            )
            def sync():  # the task
                ...
            """
        },
    )
    cli(root, "--fix", "--unsafe-fixes")
    assert (root / "app.py").read_text() == textwrap.dedent(
        """\
        from celery import Celery
        app = Celery("app")

        # Retried on network errors.
        @app.task(
            autoretry_for=(ConnectionError,),  # transient only
            max_retries=10,
            retry_backoff=True,
            retry_jitter=True,
        )
        def sync():  # the task
            ...
        """
    )


def test_manual_retry_gets_no_backoff_fix(tmp_path: Path) -> None:
    """Celery's retry_backoff shapes autoretry only: a countdown in code stays a finding."""
    root = project(
        tmp_path,
        {
            "app.py": """
            from celery import Celery
            app = Celery("app")

            @app.task(bind=True, max_retries=3)
            def sync(self):
                try:
                    ...
                except ConnectionError as exc:
                    raise self.retry(exc=exc, countdown=30)
            """
        },
    )
    original = (root / "app.py").read_bytes()
    result = cli(root, "--diff", "--unsafe-fixes")
    assert result.exit_code == 0 and result.stdout == ""
    assert (root / "app.py").read_bytes() == original


def test_a_count_the_retry_statement_sets_is_not_marked_fixable(tmp_path: Path) -> None:
    """Huey's `CancelExecution(retry=True)` sets the count itself (back to 1 each time), so no
    option on the decorator can bound it: check marked it `[*]` and counted it fixable, and
    every `--fix` left it out (tubesync: "7 fixable" after each --fix)."""
    root = project(
        tmp_path,
        {
            "tasks.py": """
            from huey import RedisHuey
            from huey.exceptions import CancelExecution

            huey = RedisHuey("app")

            @huey.task(retries=3, retry_delay=10, retry_backoff=2)
            def sync(item_id):
                if item_id is None:
                    raise CancelExecution(retry=True)
            """
        },
    )
    output = cli(root).output
    assert "RL101 [error]" in output
    assert "[*]" not in output and "fixable" not in output


def test_wrapper_passing_its_own_value_gets_no_fix(tmp_path: Path) -> None:
    """`dramatiq.actor(fn, max_retries=None, **options)`: a call-site max_retries would be
    passed twice, and the wrapper itself is shared code, so nothing is offered."""
    root = project(
        tmp_path,
        {
            "worker.py": """
            import dramatiq

            def actor(**options):
                def decorator(fn):
                    return dramatiq.actor(fn, max_retries=None, **options)
                return decorator
            """,
            "jobs.py": """
            from worker import actor

            @actor(queue_name="jobs")
            def sync():
                ...
            """,
        },
    )
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    result = cli(root, "--fix")
    assert "(0 fixed, 1 remaining)" in result.output
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before


def test_go_fix_that_would_orphan_an_import_is_not_offered(tmp_path: Path) -> None:
    files, target, _ = SAFE["asynq"]
    files = dict(files)
    files[target] = (
        files[target]
        .replace(
            'import "github.com/hibiken/asynq"',
            'import (\n\t"math"\n\n\t"github.com/hibiken/asynq"\n)',
        )
        .replace("MaxRetry(1000000)", "MaxRetry(math.MaxInt32)")
    )
    root = project(tmp_path, files)
    result = cli(root, "--diff")
    assert result.exit_code == 0, result.output
    assert "RL101" in rules_of(root)


def test_diff_prints_the_patch_and_writes_nothing(tmp_path: Path) -> None:
    files, target, _ = SAFE["celery-decorator"]
    root = project(tmp_path, files)
    original = (root / target).read_bytes()
    result = cli(root, "--diff")
    assert result.exit_code == 1
    assert result.stdout.startswith("--- a/app.py\n+++ b/app.py\n")
    assert "-@app.task(autoretry_for=(ConnectionError,), max_retries=None)  # keep me" in (
        result.stdout
    )
    assert "+@app.task(autoretry_for=(ConnectionError,), max_retries=10)  # keep me" in (
        result.stdout
    )
    assert "Would fix 1 finding." in result.stderr
    assert (root / target).read_bytes() == original


def test_fix_keeps_the_file_mode(tmp_path: Path) -> None:
    files, target, _ = SAFE["dramatiq"]
    root = project(tmp_path, files)
    (root / target).chmod(0o640)
    cli(root, "--fix")
    assert stat.S_IMODE((root / target).stat().st_mode) == 0o640
    assert [p.name for p in root.iterdir() if p.name.startswith(".")] == []


def test_text_marks_fixable_findings(tmp_path: Path) -> None:
    files, _, _ = SAFE["celery-decorator"]
    root = project(tmp_path, files)
    output = cli(root).output
    assert "app.py:\n  5:5 RL101 [*] [error]" in output
    assert "\n  5:5 RL201 [error]" in output
    assert (
        "[*] 1 fixable with the --fix option (2 hidden fixes can be enabled with the "
        "--unsafe-fixes option)." in output
    )
    unsafe = cli(root, "--unsafe-fixes").output
    assert "RL201 [*] [error]" in unsafe
    assert "[*] 3 fixable with the --fix option." in unsafe


def test_json_says_which_fixes_apply(tmp_path: Path) -> None:
    files, _, _ = SAFE["celery-decorator"]
    root = project(tmp_path, files)
    report = json.loads(cli(root, "--format", "json").stdout)
    schema_path = Path(__file__).parent.parent / "retrylint/report/schemas/check.schema.json"
    jsonschema.validate(report, json.loads(schema_path.read_text()))
    applicability = {f["rule"]: f["fix_applicability"] for f in report["findings"]}
    assert applicability == {"RL101": "safe", "RL201": "unsafe", "RL202": "unsafe"}


def test_demo_after_fixing_has_only_unfixable_findings(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    shutil.copytree(FIXTURES / "demo", root)
    before = analyze(root)
    tasks_file = (root / "shop/tasks.py").read_text().splitlines()
    result = cli(root, "--fix", "--unsafe-fixes")
    assert "(3 fixed, 12 remaining)" in result.output
    after = cli(root, "--format", "json", "--unsafe-fixes")
    remaining = json.loads(after.stdout)["findings"]
    assert [f for f in remaining if f["fix_applicability"]] == []
    assert {"RL101", "RL201"} & {f["rule"] for f in remaining} == set()
    # The undecided count (settings.SEARCH_RETRIES) and the annotation-set count are untouched.
    fixed_lines = (root / "shop/tasks.py").read_text().splitlines()
    assert fixed_lines[64] == tasks_file[64]
    assert "settings.SEARCH_RETRIES" in fixed_lines[64]
    assert len(before.findings) == 15


def test_readme_diff_example_is_what_check_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Fixes") :]
    shown = section.split("$ retrylint check fixtures/demo --diff\n", 1)[1]
    shown = shown.split("$ retrylint check fixtures/demo --fix", 1)[0]
    monkeypatch.chdir(FIXTURES.parent)
    result = CliRunner().invoke(app, ["check", "fixtures/demo", "--diff", "--no-cache"])
    assert result.exit_code == 1
    assert result.stdout == shown


def test_undecided_values_are_left_alone(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "app.py": """
            from celery import Celery
            from django.conf import settings
            app = Celery("app")

            @app.task(autoretry_for=(OSError,), max_retries=None, retry_backoff=settings.BACKOFF)
            def sync():
                ...

            @app.task(autoretry_for=(ConnectionError,), max_retries=settings.RETRIES)
            def other():
                ...
            """
        },
    )
    assert "RL002" in rules_of(root)
    cli(root, "--fix", "--unsafe-fixes")
    text = (root / "app.py").read_text()
    assert "max_retries=10, retry_backoff=settings.BACKOFF)\n" in text
    # The undecided count stays as written (its backoff, which is decided, may be fixed).
    assert "max_retries=settings.RETRIES," in text


def test_a_file_that_cannot_be_written_is_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files, target, _ = SAFE["dramatiq"]
    root = project(tmp_path, files)
    original = (root / target).read_bytes()

    def refuse(path: Path, data: bytes) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(fix, "write_atomic", refuse)
    result = cli(root, "--fix")
    assert result.exit_code == 2
    assert result.stderr == (
        "retrylint: error: actors.py: cannot write the fix: Permission denied; "
        "make the file writable, or run without --fix\n"
    )
    assert (root / target).read_bytes() == original


def test_atomic_write_leaves_no_temporary_file_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "tasks.py"
    target.write_bytes(b"old\n")

    def fail(source: str, destination: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", fail)
    with pytest.raises(OSError):
        write_atomic(target, b"new\n")
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["tasks.py"]


def test_one_annotation_shared_by_two_tasks_is_fixed_once(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "app.py": """
            from celery import Celery
            app = Celery("app")
            app.conf.task_annotations = {"*": {"max_retries": None}}

            @app.task(autoretry_for=(ConnectionError,), retry_backoff=True)
            def sync():
                ...

            @app.task(autoretry_for=(ConnectionError,), retry_backoff=True)
            def push():
                ...
            """
        },
    )
    assert rules_of(root) == ["RL101", "RL101"]
    result = cli(root, "--fix")
    assert "(2 fixed, 0 remaining)" in result.output
    assert (
        'app.conf.task_annotations = {"*": {"max_retries": 10}}\n' in (root / "app.py").read_text()
    )


def test_a_bound_that_uncovers_another_finding_is_not_offered(tmp_path: Path) -> None:
    """Ten retries 3 minutes apart take 30 minutes, over the category's 10: bounding the task
    would trade RL101 for RL203, so no fix is offered (RL101 alone hid the window)."""
    root = project(
        tmp_path,
        {
            "retrylint.toml": """
            default-category = "default"

            [categories.default]
            max-retries = { max = 10 }
            max-window = "10m"
            """,
            "app.py": """
            from celery import Celery
            app = Celery("app")

            @app.task(autoretry_for=(ConnectionError,), max_retries=None)
            def sync():
                ...
            """,
        },
    )
    assert rules_of(root) == ["RL101"]
    # `check` marks the proposal without confirming it (that would cost a second analysis on
    # every run); --diff and --fix confirm it, leave it out and say so.
    assert "[*]" in cli(root).output
    result = cli(root, "--diff")
    assert (result.exit_code, result.stdout) == (0, "")
    assert "1 proposed fix left out: analysed again" in result.stderr
    result = cli(root, "--fix")
    assert "1 proposed fix left out" in result.stderr
    assert "RL101" in result.stdout


def test_confirming_fixes_reads_the_cache_and_never_writes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The edited copy is analysed with the project's cache (only edited files parse again),
    but its results must not replace the entries of the files as they are on disk."""
    files, _, _ = SAFE["celery-decorator"]
    root = project(tmp_path, files)
    cache = tmp_path / "cache"
    monkeypatch.setenv("RETRYLINT_CACHE_DIR", str(cache))
    cli(root)  # fills the cache

    def entries() -> dict[str, bytes]:
        return {
            str(p.relative_to(cache)): p.read_bytes()
            for p in sorted(cache.rglob("*"))
            if p.is_file()
        }

    before = entries()
    assert len(before) > 1  # the .gitignore and at least one summary
    result = cli(root, "--diff")
    assert result.exit_code == 1 and "max_retries=10" in result.stdout
    assert entries() == before


def test_fix_with_nothing_to_fix_analyses_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `--fix` on a tree with no fixable finding analysed it twice (twice a plain check's time
    # on a large tree) though nothing was written between the two runs.
    from retrylint import engine

    root = project(
        tmp_path,
        {"app.py": "from celery import shared_task\n\n@shared_task\ndef ping():\n    pass\n"},
    )
    runs: list[object] = []
    real = engine.run

    def counted(*args: Any, **kwargs: Any) -> engine.Report:
        runs.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "run", counted)
    result = cli(root, "--fix", "--no-cache")
    assert result.exit_code == 0, result.output
    assert "Found 0 findings (0 fixed, 0 remaining)." in result.stdout
    assert len(runs) == 1
