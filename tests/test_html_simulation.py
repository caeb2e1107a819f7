"""`retrylint report --html FILE --outage …`: the "Outage simulation" section.

The numbers are those of `retrylint simulate` (tests/test_simulate.py works them out by hand for
fixtures/outage); these tests check that the page shows them: the parameters, one chart per
category and for the whole inventory with both bounds, the outage end and the peak, the per-task
table, the tasks left out, escaping, determinism, and that without `--outage` nothing changes.

The section of fixtures/outage is also kept as a golden file; regenerate it after an intended
change with
    RETRYLINT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_html_simulation.py -k golden
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from fractions import Fraction
from html.parser import HTMLParser
from itertools import pairwise
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from retrylint.cli import app
from retrylint.report.html_simulation import _columns
from tests.conftest import REPO, write_project

GOLDEN = Path(__file__).parent / "golden" / "report.outage-section.html"
OUTAGE_ARGS = ("fixtures/outage", "--outage", "10m", "--rate", "billing.tasks.send_*=1/s")


@dataclass
class Chart:
    name: str
    svgs: int = 0
    paths: list[str] = field(default_factory=list)
    ends: int = 0
    peaks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Section(HTMLParser):
    """The simulation section as a browser builds it: charts, table rows, left-out items."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found = False
        self.charts: list[Chart] = []
        self.rows: dict[str, list[str]] = {}
        self.parameters: list[str] = []
        self.left_out: list[str] = []
        self._inside = False
        self._chart: Chart | None = None
        self._row: str | None = None
        self._cell: list[str] | None = None
        self._capture: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        classes = values.get("class", "").split()
        if tag == "section" and values.get("id") == "simulation":
            self.found = self._inside = True
        if not self._inside:
            return
        if tag == "figure":
            self._chart = Chart(values["data-chart"])
            self.charts.append(self._chart)
        if self._chart is not None:
            if tag == "svg":
                self._chart.svgs += 1
            if tag == "path":
                self._chart.paths.append(values["class"])
            if tag == "g" and "outage-end" in classes:
                self._chart.ends += 1
            if tag == "text" and "peak" in classes:
                self._capture = "peak"
            if tag == "p":
                self._capture = "note"
        if tag == "dl":
            self._capture = "parameters"
        if tag == "tr" and "data-task" in values:
            self._row = values["data-task"]
            self.rows[self._row] = []
        if tag == "td" and self._row is not None:
            self._cell = []
        if tag == "br" and self._cell is not None:
            self._cell.append(" ")
        if tag == "li":
            self._capture = "left-out"
            self.left_out.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._inside = False
        if tag == "figure":
            self._chart = None
        if tag in ("text", "p", "dl", "li"):
            self._capture = None
        if tag == "td" and self._row is not None and self._cell is not None:
            self.rows[self._row].append(" ".join("".join(self._cell).split()))
            self._cell = None
        if tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        if not self._inside:
            return
        if self._cell is not None:
            self._cell.append(data)
        if self._capture == "peak" and self._chart is not None:
            self._chart.peaks.append(data)
        if self._capture == "note" and self._chart is not None:
            self._chart.notes.append(data)
        if self._capture == "parameters":
            self.parameters.append(data)
        if self._capture == "left-out":
            self.left_out[-1] += data


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def write(tmp_path: Path, *args: str, name: str = "out.html") -> str:
    out = tmp_path / name
    result = run("report", "--html", str(out), "--no-cache", *args)
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def section(text: str) -> Section:
    parsed = Section()
    parsed.feed(text)
    parsed.close()
    assert parsed.found
    return parsed


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


@pytest.fixture
def outage_page(tmp_path: Path, in_repo: None) -> str:
    return write(tmp_path, *OUTAGE_ARGS)


def test_parameters_and_one_chart_per_category_and_inventory(outage_page: str) -> None:
    page = section(outage_page)
    assert " ".join(page.parameters) == (
        "outage 10m --rate billing.tasks.send_*=1/s bin 1s tasks simulated 4 left out 1"
    )
    assert [c.name for c in page.charts] == ["all tasks", "best-effort", "critical"]
    charts = {c.name: c for c in page.charts}
    # fetch_rates is a tight loop (tenacity's bare @retry): its category and the whole
    # inventory have infinite attempts, said in words rather than drawn.
    for name in ("all tasks", "best-effort"):
        assert charts[name].svgs == 0
        assert any("infinite attempts" in note for note in charts[name].notes)
    critical = charts["critical"]
    assert critical.svgs == 1 and critical.ends == 1
    assert critical.paths == ["sim-longest", "sim-shortest"]
    assert "outage ends 10m" in outage_page


def test_peaks_are_those_simulate_reports(outage_page: str, in_repo: None) -> None:
    result = run("simulate", *OUTAGE_ARGS, "--format", "json", "--no-cache")
    document = json.loads(result.stdout)
    critical = next(c for c in document["categories"] if c["name"] == "critical")
    expected = [
        f"peak {critical[bound]['peak_attempts_per_second']}/s at "
        f"{_minutes(critical[bound]['peak_at_seconds'])} ({words})"
        for bound, words in (
            ("longest_waits", "longest waits"),
            ("shortest_waits", "shortest waits"),
        )
    ]
    charts = {c.name: c for c in section(outage_page).charts}
    assert (
        charts["critical"].peaks
        == expected
        == [
            "peak 14/s at 3m (longest waits)",
            "peak 14/s at 3m (shortest waits)",
        ]
    )


def _minutes(seconds: int) -> str:
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"


def test_per_task_table(outage_page: str) -> None:
    rows = section(outage_page).rows
    assert sorted(rows) == [
        "billing.tasks.charge",
        "billing.tasks.fetch_rates",
        "billing.tasks.refund",
        "billing.tasks.send_invoice",
    ]
    # The hand-worked numbers of tests/test_simulate.py: 1,200 messages, 4,080 attempts,
    # peak 8/s from 3m, 840 exhausted to nowhere, 360 released, drained 59.5 s after.
    assert rows["billing.tasks.charge"] == [
        "billing.tasks.charge fixtures/outage/billing/tasks.py:11",
        "celery",
        "critical",
        "2/s [tasks] rate",
        "3",
        "1,200",
        "4,080",
        "3.40",
        "8 (3m)",
        "840",
        "nowhere",
        "360",
        "59.5s",
    ]
    refund = rows["billing.tasks.refund"]
    assert refund[6] == "3,543 / 3,600"  # both bounds of a jittered task
    assert rows["billing.tasks.send_invoice"][3] == "1/s --rate GLOB"


def test_tasks_left_out_say_why(outage_page: str) -> None:
    assert section(outage_page).left_out == [
        "billing.tasks.reconcile (celery, fixtures/outage/billing/tasks.py:29): "
        "its retry count is undecided"
    ]


FIXED_PROJECT = {
    "retrylint.toml": """
        default-category = "default"
        [categories.default]
        description = "<img src=x onerror=alert(2)>"
        [tasks]
        "<script>alert(1)</script>" = { category = "default", rate = "2/s" }
    """,
    "app/tasks.py": """
        from celery import shared_task

        @shared_task(
            name="<script>alert(1)</script>",
            autoretry_for=(OSError,),
            max_retries=3,
            default_retry_delay=60,
        )
        def evil():
            pass
    """,
}


def test_no_jitter_is_one_series_and_names_are_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = write_project(tmp_path / "proj", FIXED_PROJECT)
    monkeypatch.chdir(project)
    text = write(tmp_path, ".", "--outage", "10m")
    assert "<script>alert" not in text and "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert len(re.findall(r"<script>", text)) == 1  # the page's own filter script
    page = section(text)
    charts = {c.name: c for c in page.charts}
    assert charts["all tasks"].paths == ["sim-both"]
    assert charts["all tasks"].peaks == ["peak 8/s at 3m (both bounds)"]
    assert list(page.rows) == ["<script>alert(1)</script>"]


def test_same_run_same_bytes(tmp_path: Path, in_repo: None) -> None:
    first = write(tmp_path, *OUTAGE_ARGS, name="a.html")
    second = write(tmp_path, *OUTAGE_ARGS, name="b.html")
    assert first == second
    assert str(REPO) not in first and "http://" not in first and "https://" not in first


def test_without_outage_the_page_has_no_simulation(tmp_path: Path, in_repo: None) -> None:
    text = write(tmp_path, "fixtures/outage")
    assert 'id="simulation"' not in text and "sim-chart" not in text
    with_sim = write(tmp_path, *OUTAGE_ARGS, name="sim.html")
    # The simulation only adds: its style rules and its section, nothing else moves.
    start = with_sim.index('<section id="simulation">')
    end = with_sim.index("<script>")
    head_end = with_sim.index("</style>")
    added_style = with_sim[:head_end].removeprefix(text[: text.index("</style>")])
    assert with_sim[:start].replace(added_style, "", 1) + with_sim[end:] == text


def test_rate_without_outage_is_refused(tmp_path: Path, in_repo: None) -> None:
    out = tmp_path / "out.html"
    result = run("report", "--html", str(out), "--no-cache", "fixtures/outage", "--rate", "5/s")
    assert result.exit_code == 2
    assert result.output.strip().endswith(
        "--rate sets the enqueue rates of the outage simulation; add --outage (such as "
        "--outage 30m), or leave --rate out"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--outage", "soon"), "--outage 'soon' is not a duration"),
        (("--outage", "10m", "--rate", "fast"), "--rate 'fast' is not a rate"),
    ],
)
def test_bad_simulation_options_as_simulate_refuses_them(
    tmp_path: Path, in_repo: None, args: tuple[str, ...], message: str
) -> None:
    out = tmp_path / "out.html"
    result = run("report", "--html", str(out), "--no-cache", "fixtures/outage", *args)
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_merged_columns_keep_the_peak() -> None:
    """A day of 1 s bins is drawn in at most 360 steps; the busiest bin survives the merge."""
    histogram = [1] * 86400
    histogram[12345] = 50
    columns = _columns(histogram, Fraction(1))
    assert len(columns) <= 360
    assert max(value for _, value in columns) == 50
    assert columns[0][0] == 0 and all(a[0] < b[0] for a, b in pairwise(columns))


def test_golden_section(outage_page: str) -> None:
    """The section alone (one element per line), so that a change elsewhere on the page does
    not touch it."""
    start = outage_page.index('<section id="simulation">')
    text = outage_page[start : outage_page.index("</section>", start) + len("</section>")]
    text = text.replace("><", ">\n<") + "\n"
    if os.environ.get("RETRYLINT_UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8", newline="\n")
    assert GOLDEN.is_file(), "missing: see this module's docstring to regenerate it"
    assert text == GOLDEN.read_text(encoding="utf-8"), "differs from the golden file"


def test_nothing_to_simulate_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = dict(FIXED_PROJECT)
    files["retrylint.toml"] = files["retrylint.toml"].replace(', rate = "2/s"', "")
    monkeypatch.chdir(write_project(tmp_path / "proj", files))
    text = write(tmp_path, ".", "--outage", "10m")
    page = section(text)
    assert page.charts == [] and page.rows == {}
    assert "<b>No task could be simulated</b>" in text
    assert page.left_out == [
        "<script>alert(1)</script> (celery, app/tasks.py:9): no rate: pass --rate, or set rate "
        "on its [tasks] entry"
    ]
