"""One finding per cause (CONTRACTS §6): an undecided expression several tasks share is one
RL002 listing them; a default count RL101 or RL102 already reports is not also RL103."""

from __future__ import annotations

import json
from pathlib import Path

from retrylint.report.json_report import render_check
from tests.conftest import analyze, write_project

WORKER = """
    import dramatiq
    from django.conf import settings

    def actor(actor_name=None, **options):
        def decorator(fn):
            dramatiq.actor(fn, actor_name=actor_name, max_retries=settings.RETRIES, **options)
            return fn
        return decorator
"""
JOBS = """
    from app.worker import actor

    @actor(actor_name="a")
    def a():
        pass

    @actor(actor_name="b")
    def b():
        pass

    @actor(actor_name="c", min_backoff=settings_backoff())
    def c():
        pass
"""


def test_shared_undecided_expression_is_one_note(tmp_path: Path) -> None:
    files = {"app/__init__.py": "", "app/worker.py": WORKER, "app/jobs.py": JOBS}
    report = analyze(write_project(tmp_path, files))
    notes = [f for f in report.findings if f.rule == "RL002"]
    shared = [f for f in notes if f.expression == "settings.RETRIES"]
    assert len(shared) == 1
    (note,) = shared
    assert note.tasks == ("a", "b", "c") and note.task is None
    assert (note.location.path, note.location.line) == ("app/worker.py", 6)
    assert "of 3 tasks (`a`, `b`, `c`)" in note.message
    # A value only one task has stays a note about that task, where it is written.
    (own,) = [f for f in notes if f.expression == "settings_backoff()"]
    assert own.task == "c" and own.tasks == ("c",)
    payload = json.loads(render_check(report))
    listed = [f["tasks"] for f in payload["findings"] if f["expression"] == "settings.RETRIES"]
    assert listed == [["a", "b", "c"]]


def test_default_count_reported_by_rl102_is_not_also_rl103(tmp_path: Path) -> None:
    # Dramatiq's default of 20 retries is above the built-in policy's 10: RL102 says so.
    files = {
        "jobs.py": """
            import dramatiq

            @dramatiq.actor
            def send():
                pass
        """
    }
    rules = [f.rule for f in analyze(write_project(tmp_path, files)).findings]
    assert "RL102" in rules and "RL103" not in rules


def test_default_count_within_policy_is_rl103(tmp_path: Path) -> None:
    # Celery's default of 3 is inside the built-in bound of 10: only RL103 speaks.
    files = {
        "jobs.py": """
            from celery import shared_task

            @shared_task(autoretry_for=(OSError,), retry_backoff=True)
            def sync():
                pass
        """
    }
    rules = [f.rule for f in analyze(write_project(tmp_path, files)).findings]
    assert "RL103" in rules and "RL102" not in rules


SHARED_DELAY = """
    package main

    import (
    \t"context"
    \t"time"

    \t"github.com/hibiken/asynq"
    )

    func delay(n int, e error, t *asynq.Task) time.Duration {
    \treturn time.Duration(n%3+1) * 10 * time.Second
    }

    func main() {
    \tclient := asynq.NewClient(asynq.RedisClientOpt{})
    \tclient.Enqueue(asynq.NewTask("email:send", nil), asynq.MaxRetry(5))
    \tclient.Enqueue(asynq.NewTask("email:digest", nil), asynq.MaxRetry(5))
    \tclient.Enqueue(asynq.NewTask("email:bounce", nil), asynq.MaxRetry(BOUNCE))
    \tmux := asynq.NewServeMux()
    \tmux.HandleFunc("email:", func(ctx context.Context, t *asynq.Task) error { return nil })
    \tsrv := asynq.NewServer(asynq.RedisClientOpt{}, asynq.Config{RetryDelayFunc: delay})
    \tsrv.Run(mux)
    }
"""
GO_MOD = "module example.com/shop\n\ngo 1.22\n\nrequire github.com/hibiken/asynq v0.24.1\n"


def _custom_notes(tmp_path: Path, bounce_retries: int) -> list[tuple[int, tuple[str, ...], str]]:
    files = {"go.mod": GO_MOD, "main.go": SHARED_DELAY.replace("BOUNCE", str(bounce_retries))}
    report = analyze(write_project(tmp_path, files))
    return [
        (f.location.line, f.tasks, f.message)
        for f in report.findings
        if f.rule == "RL002" and "custom delay sequence" in f.message
    ]


def test_one_custom_delay_sequence_shared_by_many_tasks_is_one_note(tmp_path: Path) -> None:
    """A server's RetryDelayFunc that every enqueue site waits by is one cause: one note at
    the server config, naming the tasks (convoy had 33, one per enqueue site)."""
    ((line, tasks, message),) = _custom_notes(tmp_path, 3)
    assert line == 21
    assert tasks == ("email:bounce", "email:digest", "email:send")
    # The counts differ (3 and 5), so no one sequence of waits is quoted for all three.
    assert message.startswith(
        "3 tasks (`email:bounce`, `email:digest`, `email:send`) use the custom delay sequence "
        "written here; retrylint cannot say whether it meets the exponential backoff"
    )


def test_the_shared_waits_are_quoted_when_every_task_waits_the_same(tmp_path: Path) -> None:
    # asynq passes the retries so far, 0 before the first retry: waits of 10, 20, 30 s, ...
    ((_, tasks, message),) = _custom_notes(tmp_path, 5)
    assert len(tasks) == 3
    assert "written here (10s, 20s, 30s, 10s, 20s);" in message


def test_the_assume_line_rl002_suggests_is_valid_toml_and_decides_the_value(
    tmp_path: Path,
) -> None:
    # An expression with double quotes (a call with a string argument, common in Python and
    # Go) was suggested as `"int(os.environ.get("RETRIES", "3"))" = <value>`: invalid TOML.
    root = write_project(
        tmp_path,
        {
            "app/tasks.py": """
                import os
                from celery import shared_task

                @shared_task(
                    autoretry_for=(OSError,),
                    max_retries=int(os.environ.get("RETRIES", "3")),
                    retry_backoff=True,
                )
                def sync():
                    pass
            """
        },
    )
    (notes,) = [f for f in analyze(root).findings if f.rule == "RL002"]
    assert notes.fix is not None
    line = notes.fix.removeprefix("Add ").split(" under [assume]")[0].replace("<value>", "3")
    (root / "retrylint.toml").write_text(f"[assume]\n{line}\n", encoding="utf-8")
    assert [f.rule for f in analyze(root).findings if f.rule == "RL002"] == []
