"""What each framework's retry configuration can express, and the one note per category and
framework for a requirement it cannot (CONTRACTS §6, issue 9 scope 1).

Temporal: RetryPolicy has no jitter field and the server computes every interval without
randomness; only an error the activity raises can pick its own delay, a timed-out attempt
cannot. django-q2: a failed task comes back after the cluster's fixed `retry` time.
"""

from __future__ import annotations

import re
from pathlib import Path

from retrylint.frameworks import FRAMEWORK_INFO, FRAMEWORKS
from retrylint.model import Finding
from tests.conftest import REPO, analyze, write_project

WORKFLOW = """
    from datetime import timedelta

    from temporalio import activity, workflow
    from temporalio.common import RetryPolicy


    @activity.defn
    async def ship(order: str) -> None: ...


    @activity.defn
    async def bill(order: str) -> None: ...


    @workflow.defn
    class Order:
        @workflow.run
        async def run(self, order: str) -> None:
            rp = RetryPolicy(maximum_attempts=5)
            to = timedelta(seconds=9)
            await workflow.execute_activity(ship, order, start_to_close_timeout=to, retry_policy=rp)
            await workflow.execute_activity(bill, order, start_to_close_timeout=to, retry_policy=rp)
            await workflow.execute_activity(
                bill, order, start_to_close_timeout=to, retry_policy=RetryPolicy(maximum_attempts=3)
            )
"""

CELERY = """
    from celery import shared_task


    @shared_task(autoretry_for=(OSError,), max_retries=3, default_retry_delay=10)
    def sync() -> None: ...
"""

DJANGO_Q2 = {
    "site/settings.py": """
        Q_CLUSTER = {"name": "site", "orm": "default", "max_attempts": 3, "retry": 120}
    """,
    "site/__init__.py": "",
    "site/views.py": """
        from django_q.tasks import async_task


        def order(request):
            async_task("site.jobs.ship", 1)
            async_task("site.jobs.bill", 1)
    """,
}


def _findings(root: Path, rule: str) -> list[Finding]:
    return [f for f in analyze(root).findings if f.rule == rule]


def test_every_adapter_declares_what_it_can_express() -> None:
    assert set(FRAMEWORK_INFO) == set(FRAMEWORKS)
    for key, info in FRAMEWORK_INFO.items():
        caps = info.capabilities
        for requirement in ("count", "backoff", "jitter", "dead_letter"):
            assert getattr(caps, requirement) in ("setting", "code", "none"), key
            if getattr(caps, requirement) == "none":
                why, fix = caps.cannot(requirement) or ("", "")
                assert why and fix, (key, requirement)
            else:
                assert caps.cannot(requirement) is None


def test_temporal_and_django_q2_cannot_jitter_others_can() -> None:
    cannot = {k for k, info in FRAMEWORK_INFO.items() if info.capabilities.jitter == "none"}
    assert cannot == {"temporal", "django-q2"}
    assert FRAMEWORK_INFO["rq"].capabilities.jitter == "code"  # random intervals at enqueue
    assert FRAMEWORK_INFO["celery"].capabilities.jitter == "setting"  # retry_jitter


def test_built_in_policy_gives_one_note_for_temporal_jitter(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"flows.py": WORKFLOW})
    (note,) = _findings(root, "RL202")
    assert note.severity == "note"
    assert (note.location.line, note.task, note.tasks) == (21, None, ("bill", "ship"))
    assert (note.framework, note.site) == ("temporal", "enqueue")
    assert note.message.startswith(
        "category `default` (built-in) requires jitter, which Temporal cannot give 2 tasks "
        "(`bill`, `ship`): its RetryPolicy has no jitter setting"
    )
    assert "times out" in note.message
    assert note.fix is not None and "ApplicationError(next_retry_delay=" in note.fix
    assert "jitter = false" in note.fix


def test_one_note_per_category_and_the_configured_severity_never_raises_it(
    tmp_path: Path,
) -> None:
    root = write_project(
        tmp_path,
        {
            "flows.py": WORKFLOW,
            "tasks.py": CELERY,
            "retrylint.toml": """
                default-category = "jobs"

                [categories.jobs]
                jitter = true

                [categories.money]
                jitter = true

                [tasks]
                bill = "money"

                [rules]
                RL202 = "error"
            """,
        },
    )
    found = _findings(root, "RL202")
    # Celery can jitter (retry_backoff), so its task keeps a finding of its own at the
    # configured severity; Temporal gets one note per category, which `error` does not raise.
    assert [(f.framework, f.task, f.severity) for f in found if f.task] == [
        ("celery", "tasks.sync", "error")
    ]
    temporal = sorted(
        (f.message.split(",")[0], f.tasks, f.severity) for f in found if f.task is None
    )
    assert temporal == [
        ("category `jobs` requires jitter", ("ship",), "note"),
        ("category `money` requires jitter", ("bill",), "note"),
    ]


def test_django_q2_backoff_and_jitter_are_notes(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            **DJANGO_Q2,
            "retrylint.toml": """
                default-category = "jobs"

                [categories.jobs]
                backoff = "exponential"
                jitter = true
            """,
        },
    )
    report = analyze(root)
    found = sorted(
        (f.rule, f.severity, f.tasks, f.location.line)
        for f in report.findings
        if f.rule in ("RL201", "RL202")
    )
    assert found == [
        ("RL201", "note", ("site.jobs.bill", "site.jobs.ship"), 5),
        ("RL202", "note", ("site.jobs.bill", "site.jobs.ship"), 5),
    ]
    backoff = next(f for f in report.findings if f.rule == "RL201")
    assert backoff.message.startswith(
        "category `jobs` requires exponential backoff, which django-q2 cannot give 2 tasks"
    )
    assert "fixed Q_CLUSTER 'retry' time" in backoff.message


def test_fixed_backoff_is_still_met_where_delays_cannot_grow(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            **DJANGO_Q2,
            "retrylint.toml": 'default-category = "jobs"\n[categories.jobs]\nbackoff = "fixed"\n',
        },
    )
    assert _findings(root, "RL201") == []


def test_readme_capability_table_matches_the_adapters() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Framework capabilities") :]
    rows = re.findall(r"^\| `([\w-]+)` \| (\w+) \| (\w+) \| (\w+) \| (\w+) \|", section, re.M)
    table = {key: values for key, *values in rows}
    assert set(table) == set(FRAMEWORKS)
    for key, info in FRAMEWORK_INFO.items():
        caps = info.capabilities
        assert table[key] == [caps.count, caps.backoff, caps.jitter, caps.dead_letter], key


def test_rl202_doc_example_for_a_framework_that_cannot_jitter(tmp_path: Path) -> None:
    text = (REPO / "rules" / "RL202-missing-jitter.md").read_text(encoding="utf-8")
    start = text.index("## When the framework cannot jitter")
    section = text[start : text.index("\n## ", start + 1)]
    requiring, code, accepting = re.findall(r"```(?:toml|python)\n(.*?)```", section, re.S)

    def rl202(toml: str, where: Path) -> list[Finding]:
        root = write_project(where, {"workflow.py": code, "retrylint.toml": toml})
        return _findings(root, "RL202")

    (note,) = rl202(requiring, tmp_path / "requiring")
    assert (note.severity, note.tasks) == ("note", ("release", "reserve"))
    assert rl202(accepting, tmp_path / "accepting") == []
