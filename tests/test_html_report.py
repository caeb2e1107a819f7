"""`retrylint report --html`: the page's structure, escaping, self-containment and determinism.

The HTML is parsed with the standard library's parser, so the tests check what a browser
builds (one section per category, one SVG per task, a limit line where the category states
`max-window`) rather than substrings of markup.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from retrylint.cli import app
from tests.conftest import FIXTURES, REPO, write_project

DEMO = FIXTURES / "demo"


@dataclass
class Task:
    name: str = ""
    attrs: dict[str, str] = field(default_factory=dict)
    svg_classes: list[str] = field(default_factory=list)
    limits: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


class Page(HTMLParser):
    """The parts of the page the tests look at, as the parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[str] = []
        self.tasks: list[Task] = []
        self.scripts: list[str] = []
        self.external: list[tuple[str, str, str]] = []
        self.tags: set[str] = set()
        self.summary_rects: list[tuple[str, str]] = []
        self._stack: list[str] = []
        self._in_task = False
        self._in_h3 = False
        self._in_rule = False
        self._in_script = False
        self._in_summary = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags.add(tag)
        classes = values.get("class", "").split()
        for name in ("src", "href", "xlink:href", "action"):
            if name in values:
                self.external.append((tag, name, values[name]))
        if tag == "section" and "category" in classes:
            self.sections.append(values["data-category"])
        if tag == "svg" and "summary-chart" in classes:
            self._in_summary = True
        if tag == "rect" and self._in_summary:
            title_class = next((c for c in classes if c.startswith("verdict-")), "")
            self.summary_rects.append((title_class, values.get("width", "")))
        if tag == "article" and "task" in classes:
            self.tasks.append(Task(attrs=values))
            self._in_task = True
        if self._in_task:
            task = self.tasks[-1]
            if tag == "h3":
                self._in_h3 = True
            if tag == "svg":
                task.svg_classes.append(values.get("class", ""))
            if tag == "g" and "limit" in classes:
                task.limits.append(values.get("data-limit", ""))
            if tag == "span" and "rule" in classes:
                self._in_rule = True
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self._in_task = False
        if tag == "h3":
            self._in_h3 = False
        if tag == "span":
            self._in_rule = False
        if tag == "script":
            self._in_script = False
        if tag == "svg":
            self._in_summary = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
        if not self._in_task:
            return
        task = self.tasks[-1]
        task.text.append(data)
        if self._in_h3:
            task.name += data
        if self._in_rule:
            task.rules.append(data)


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def write_report(tmp_path: Path, *paths: str, name: str = "out.html") -> str:
    out = tmp_path / name
    result = run("report", "--html", str(out), "--no-cache", *paths)
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


@pytest.fixture
def demo(tmp_path: Path, in_repo: None) -> str:
    return write_report(tmp_path, "fixtures/demo")


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


def by_name(page: Page) -> dict[str, Task]:
    return {task.name.strip(): task for task in page.tasks}


def test_one_section_per_category_and_one_svg_per_task(demo: str) -> None:
    page = parse(demo)
    assert page.sections == ["best-effort", "critical", "(no category)"]
    assert len(page.tasks) == 10
    for task in page.tasks:
        timelines = [c for c in task.svg_classes if c.split()[0] == "timeline"]
        assert len(timelines) == 1, task.name


def test_limit_line_exactly_where_the_category_states_max_window(demo: str) -> None:
    for task in parse(demo).tasks:
        expected = ["max-window"] if task.attrs["data-category"] == "critical" else []
        assert task.limits == expected, task.name


def test_unbounded_and_undecided_are_drawn_as_such(demo: str) -> None:
    tasks = by_name(parse(demo))
    assert tasks["shop.tasks.refund"].svg_classes == ["timeline unbounded"]
    assert "unbounded: retries never stop" in tasks["shop.tasks.refund"].text
    assert tasks["shop.tasks.reindex_search"].svg_classes == ["timeline undecided"]
    assert tasks["emails.receipt"].svg_classes == ["timeline never"]
    assert tasks["shop.tasks.charge_card"].svg_classes == ["timeline retries"]


def test_findings_sit_next_to_their_task(demo: str) -> None:
    tasks = by_name(parse(demo))
    assert tasks["shop.tasks.refund"].rules == ["RL101"]
    assert tasks["shop.tasks.refund"].attrs["data-rules"] == "RL101"
    assert tasks["shop.tasks.charge_card"].rules == []
    assert sorted(tasks["shop.tasks.refund_partial"].rules) == ["RL202", "RL203", "RL205"]
    # A [tasks] key that matches nothing is about the inventory, not about a task.
    project = demo[demo.index('id="project-findings"') :]
    assert "RL402" in project


def test_documented_policy_cites_owner_note_and_sources(demo: str) -> None:
    text = " ".join(by_name(parse(demo))["emails.welcome"].text)
    assert "growth" in by_name(parse(demo))["emails.welcome"].text
    assert "templated mail" in text
    assert "glob key emails.*" in text
    # Where the retry count came from: the Celery app's task annotations, path:line.
    assert "fixtures/demo/shop/celery_app.py:4" in text


def test_summary_chart_counts_tasks_per_verdict(demo: str) -> None:
    badges = re.findall(
        r'<article class="task"[^>]* data-category="([^"]+)"[^>]*>\s*'
        r'<div class="task-head"><h3>.*?</h3><span class="verdict (\w+)">',
        demo,
    )
    assert len(badges) == 10
    expected = Counter(badges)
    chart = demo[demo.index('<svg class="summary-chart"') :]
    chart = chart[: chart.index("</svg>")]
    drawn = Counter(
        {
            (category, verdict): int(count)
            for category, count, verdict in re.findall(
                r"<title>([^<:]+): (\d+) (\w+)</title>", chart
            )
        }
    )
    assert drawn == expected
    assert expected[("critical", "error")] == 3 and expected[("critical", "ok")] == 1


def test_task_name_with_script_is_escaped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hostile = "<script>alert(1)</script>"
    project = write_project(
        tmp_path / "proj",
        {
            "retrylint.toml": f"""
                default-category = "default"
                [categories.default]
                description = "<img src=x onerror=alert(2)>"
                min-window = "1m"
                max-window = "1h"
                [tasks]
                "{hostile}" = {{ category = "default", owner = "<b>&team", note = "a \\"note\\"" }}
            """,
            "app/tasks.py": f"""
                from celery import shared_task

                @shared_task(name="{hostile}", autoretry_for=(OSError,), max_retries=3)
                def evil():
                    pass
            """,
        },
    )
    monkeypatch.chdir(project)
    text = write_report(tmp_path, ".")
    assert "<script>alert" not in text
    assert "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;b&gt;&amp;team" in text
    page = parse(text)
    assert [task.name.strip() for task in page.tasks] == [hostile]
    assert len(page.scripts) == 1  # the page's own filter script, nothing from the task
    assert page.tasks[0].limits == ["min-window", "max-window"]


def test_self_contained(demo: str) -> None:
    page = parse(demo)
    assert page.external == []
    assert not page.tags & {"link", "img", "iframe", "object", "embed"}
    assert "http://" not in demo and "https://" not in demo
    assert "default-src 'none'" in demo


def test_without_script_everything_is_visible(demo: str) -> None:
    page = parse(demo)
    assert not any("hidden" in task.attrs for task in page.tasks)
    assert re.search(r'<form id="filters" class="filters" hidden>', demo)


def test_two_runs_are_byte_identical_and_hold_no_absolute_path(
    tmp_path: Path, in_repo: None
) -> None:
    first = write_report(tmp_path, "fixtures/demo", name="a.html")
    second = write_report(tmp_path, str(DEMO), name="b.html")
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()
    assert first == second
    assert str(REPO) not in first and str(tmp_path) not in first


def test_rewrites_the_file_whole(tmp_path: Path, in_repo: None) -> None:
    out = tmp_path / "out.html"
    out.write_text("old", encoding="utf-8")
    write_report(tmp_path, "fixtures/demo")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["out.html"]


def test_a_directory_is_refused_with_one_line(tmp_path: Path, in_repo: None) -> None:
    result = run("report", "--html", str(tmp_path), "--no-cache", "fixtures/demo")
    assert result.exit_code == 2
    assert result.output.strip().endswith("is a directory; name a file such as report.html")
    assert os.listdir(tmp_path) == []


def test_readme_screenshot_is_committed() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    assert "docs/report.png" in images
    assert (REPO / "docs" / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_task_is_said_not_drawn_as_a_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = write_project(tmp_path / "proj", {"app/util.py": "x = 1\n"})
    monkeypatch.chdir(project)
    text = write_report(tmp_path, ".")
    page = parse(text)
    assert page.tasks == [] and page.sections == []
    assert "<b>No tasks found</b>: 1 file(s) scanned." in text


def test_hash_seed_does_not_matter(tmp_path: Path) -> None:
    pages = []
    for seed in ("1", "2"):
        out = tmp_path / f"seed{seed}.html"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(
            [sys.executable, "-m", "retrylint", "report", "--html", str(out), "fixtures/demo"],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
        )
        pages.append(out.read_bytes())
    assert pages[0] == pages[1]
