"""Modules loaded on demand are parsed in batches, each once a run, and the result does not
depend on how they were batched or on the number of workers (`retrylint.scan.ondemand`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrylint import analysis, engine
from retrylint.python import ir
from retrylint.python.project import ModuleLocator, Pending, Project
from retrylint.report.json_report import render_check
from retrylint.scan.ondemand import OnDemand
from tests.conftest import analyze, rows_by_name, write_project

# The task's values live two and three imports away, along two independent chains.
FILES = {
    "app/__init__.py": "",
    "app/deep/__init__.py": "",
    "app/tasks.py": """
        from celery import shared_task
        from app.limits import RETRIES
        from app.delays import DELAY

        @shared_task(autoretry_for=(OSError,), max_retries=RETRIES, default_retry_delay=DELAY)
        def sync(item):
            return item
        """,
    "app/limits.py": "from app.deep.values import RETRIES\n",
    "app/deep/values.py": "RETRIES = 4\n",
    "app/delays.py": "DELAY = 30\n",
}


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The reported paths of every batch the engine parses, in order."""
    seen: list[list[str]] = []
    parse_all = analysis._parse_all

    def recording(jobs: list[tuple[str, str, str, ir.Interest]], *args: object, **kw: object):  # type: ignore[no-untyped-def]
        seen.append(sorted(job[1] for job in jobs))
        return parse_all(jobs, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(analysis, "_parse_all", recording)
    return seen


def test_modules_asked_together_are_parsed_in_one_batch_and_each_once(
    tmp_path: Path, batches: list[list[str]]
) -> None:
    root = write_project(tmp_path, FILES)
    row = rows_by_name(analyze(root))["app.tasks.sync"]
    assert row.max_retries == 4
    assert row.delays_seconds is not None and row.delays_seconds[0] == 30
    parsed = [path for batch in batches for path in batch]
    assert len(parsed) == len(set(parsed)), parsed
    # Both chains start in the same question pass, so their first modules share a batch;
    # the module behind the re-export comes in a later one.
    together = next(b for b in batches if "app/limits.py" in b)
    assert "app/delays.py" in together
    later = next(i for i, b in enumerate(batches) if "app/deep/values.py" in b)
    assert later > batches.index(together)


def test_output_is_the_same_for_every_number_of_workers(tmp_path: Path) -> None:
    root = write_project(tmp_path, FILES)
    outputs = set()
    for workers in (1, 2):
        report = engine.run([root], analyze(root).policy, workers=workers)
        outputs.add(render_check(report))
    assert len(outputs) == 1


def _summary(module: str, *imports: tuple[str, str]) -> ir.ModuleSummary:
    return ir.ModuleSummary(
        path=f"{module.replace('.', '/')}.py",
        module=module,
        imports=tuple(ir.Import(local, target, ir.Span(1, 1, 1, 1)) for local, target in imports),
        bindings=(),
        calls=(),
        functions=(),
        classes=(),
    )


def test_resolution_stops_at_a_pending_module() -> None:
    """A module not parsed yet is not taken for a missing one: no shorter prefix, no sibling
    of a script is asked for, so a pass notes only what the answer can depend on."""
    asked: list[str] = []

    def loader(dotted: str, near: str | None) -> ir.ModuleSummary | None:
        asked.append(dotted)
        if dotted == "pkg.lib.helpers":  # in the project, not parsed yet
            raise Pending(dotted)
        return None

    user = _summary("pkg.user", ("f", "pkg.lib.helpers.f"))
    project = Project([user], loader)
    found = project.resolve(user, "f")
    assert found is not None and found.kind == "pending"
    assert asked == ["pkg.lib.helpers.f", "pkg.lib.helpers"]


def test_settle_repeats_a_question_until_it_needs_nothing_new(tmp_path: Path) -> None:
    parsed: list[list[str]] = []

    def parse(jobs: list[tuple[str, str, str, ir.Interest]]) -> list[ir.ModuleSummary]:
        parsed.append([job[2] for job in jobs])
        return [_summary(job[2]) for job in jobs]

    (tmp_path / "a.py").write_text("")
    (tmp_path / "b.py").write_text("")
    ondemand = OnDemand(tmp_path, ir.Interest(frozenset(), frozenset()), parse)
    locator = ModuleLocator(tmp_path, [tmp_path])
    passes = 0

    def question() -> list[str]:
        nonlocal passes
        passes += 1
        project = Project([], ondemand.loader(locator))
        first = project.module("a")
        if first is None:
            raise LookupError("a is not parsed yet")  # decided again once it is
        return [m.module for m in (first, project.module("b")) if m is not None]

    assert ondemand.settle(question) == ["a", "b"]
    assert parsed == [["a"], ["b"]]
    assert passes == 3

    def failing() -> None:
        raise LookupError("a real error")

    with pytest.raises(LookupError, match="a real error"):
        ondemand.settle(failing)


def test_workers_stop_when_the_analysis_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `--watch` runs again in the same process: an error must not leave workers behind.
    import multiprocessing

    from retrylint.frameworks.celery import CeleryAdapter

    root = write_project(
        tmp_path,
        {"tasks.py": "from celery import shared_task\n\n@shared_task\ndef f():\n    pass\n"},
    )

    def broken(self: CeleryAdapter, ctx: object) -> list[object]:
        raise RuntimeError("adapter bug")

    monkeypatch.setattr(CeleryAdapter, "analyze", broken)
    with pytest.raises(RuntimeError, match="adapter bug"):
        analyze(root, workers=2)
    assert multiprocessing.active_children() == []
