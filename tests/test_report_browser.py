"""The HTML report in a real browser: it renders without a console message and its filters work.

Driven through Chromium's own command line (`--screenshot`, `--dump-dom`) with
`--enable-logging=stderr`, which prints every console message of the page, errors and
Content-Security-Policy violations included, as a `CONSOLE` log line: no WebDriver, no Python
dependency, nothing downloaded. Debian's `chromium` is used where installed (CONTRACTS §9);
without it the tests skip. The screenshot is kept as a test artifact, copied to
`$RETRYLINT_ARTIFACTS` when that is set; `docs/report.png` in the README is one of these.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retrylint.cli import app
from tests.conftest import REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (Debian: apt-get install chromium chromium-driver)",
)

# CONTRACTS §9, plus what keeps a headless run from phoning home or reading a real profile.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
)
_CONSOLE = re.compile(r":CONSOLE[:(]")
WINDOW = (1200, 1800)


def chromium(tmp_path: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def console(run: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in run.stderr.splitlines() if _CONSOLE.search(line)]


def _write_report(out: Path, *args: str) -> Path:
    cwd = Path.cwd()
    os.chdir(REPO)
    try:
        result = CliRunner().invoke(app, ["report", "--html", str(out), "--no-cache", *args])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_report(tmp_path_factory.mktemp("report") / "demo.html", "fixtures/demo")


def test_console_messages_are_seen(tmp_path: Path) -> None:
    """The probe for the other tests: a page that logs an error must show up in the log, or a
    Chromium that stopped printing console lines would let every page pass."""
    page = tmp_path / "probe.html"
    page.write_text("<!DOCTYPE html><script>console.error('probe-error')</script>", "utf-8")
    run = chromium(tmp_path, page.as_uri(), "--dump-dom")
    assert any("probe-error" in line for line in console(run)), run.stderr[-2000:]


def test_renders_without_console_messages(tmp_path: Path, report: Path) -> None:
    shot = tmp_path / "report.png"
    run = chromium(
        tmp_path,
        report.as_uri() + "?category=critical",
        f"--screenshot={shot}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert console(run) == []
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == WINDOW
    assert len(data) > 20_000  # a blank page compresses to a few kilobytes
    artifacts = os.environ.get("RETRYLINT_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(artifacts) / "report.png")


def test_filters_run_in_the_browser(tmp_path: Path, report: Path) -> None:
    run = chromium(tmp_path, report.as_uri() + "?rule=RL101", "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    assert console(run) == []
    dom = run.stdout
    assert '<form id="filters" class="filters">' in dom  # the script un-hid the controls
    articles = re.findall(r"<article ([^>]*)>", dom)
    shown = [a for a in articles if "hidden" not in a]
    assert len(articles) == 10
    assert len(shown) == 1 and 'data-rules="RL101"' in shown[0]
    assert '<span id="shown">1</span>' in dom


def test_simulation_section_renders_without_console_messages(tmp_path: Path) -> None:
    """The outage section's SVG charts and tables under the page's Content-Security-Policy."""
    page = _write_report(
        tmp_path / "outage.html",
        "fixtures/outage",
        "--outage",
        "10m",
        "--rate",
        "billing.tasks.send_*=1/s",
    )
    run = chromium(tmp_path, page.as_uri(), "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    assert console(run) == []
    dom = run.stdout
    assert '<section id="simulation">' in dom
    assert len(re.findall(r'<svg class="sim-chart"', dom)) == 1
    assert 'class="sim-longest"' in dom and 'class="sim-shortest"' in dom
