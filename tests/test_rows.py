"""One row per task: a task registered twice with the same policy is one row (CONTRACTS §6,
one finding per cause); registrations that give different policies stay apart."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import analyze, write_project

JOBS = """
    from arq import Retry
    from arq.worker import Worker

    async def send(ctx):
        raise Retry(defer=5)

    class WorkerSettings:
        functions = [send]
        max_tries = 3

    class OtherSettings:
        functions = [send]  # retrylint: ignore[RL201] reason given at the second registration
        max_tries = 3
    {extra}
"""


def test_same_policy_twice_is_one_row_and_one_finding(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"app/__init__.py": "", "app/jobs.py": JOBS.format(extra="")})
    report = analyze(root)
    assert [(r.name, r.max_retries) for r in report.rows] == [("send", 2)]
    rules = [f.rule for f in report.findings]
    assert len(rules) == len(set(rules)), rules
    # The merged row answers to a suppression written at either registration.
    assert "RL201" not in rules
    assert report.suppressed >= 1


def test_different_policies_stay_apart(tmp_path: Path) -> None:
    extra = "w = Worker(functions=[send])"
    root = write_project(tmp_path, {"app/__init__.py": "", "app/jobs.py": JOBS.format(extra=extra)})
    report = analyze(root)
    rows = sorted((r.max_retries, r.sources["max_retries"].source) for r in report.rows)
    # arq's default max_tries=5 for the bare Worker; 3 executions for both settings classes.
    assert rows == [(2, "config"), (4, "default")]
