"""The progress bar: on a terminal's stderr only, never for machine output or plain terminals.

Time is faked (a clock the test moves, or a zero delay), never waited for.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from retrylint import cli, progress
from tests.conftest import FIXTURES


class FakeTTY(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("environ", "machine", "expected"),
    [
        ({}, False, True),
        ({"TERM": "xterm-256color"}, False, True),
        ({}, True, False),
        ({"NO_COLOR": "1"}, False, False),
        ({"NO_COLOR": ""}, False, True),  # no-color.org: an empty value means unset
        ({"TERM": "dumb"}, False, False),
    ],
)
def test_wanted_on_a_terminal(environ: dict[str, str], machine: bool, expected: bool) -> None:
    assert progress.wanted(FakeTTY(), environ, machine=machine) is expected


def test_never_off_a_terminal() -> None:
    assert not progress.wanted(io.StringIO(), {}, machine=False)


def test_the_bar_waits_for_the_delay_then_is_erased() -> None:
    clock = Clock()
    stream = FakeTTY()
    bar = progress.TerminalProgress(stream, delay=1.0, clock=clock)
    bar.phase("Parsing", 10)
    bar.advance(3)
    clock.now += 0.9
    bar.advance()
    assert not bar.shown
    assert stream.getvalue() == ""
    clock.now += 0.2
    bar.advance()
    assert bar.shown
    bar.phase("Following imports", None)  # an unknown total draws as a pulse, not an error
    bar.advance()
    bar.close()
    assert not bar.shown
    assert "Parsing" in stream.getvalue() or "Following imports" in stream.getvalue()


def _run(
    monkeypatch: pytest.MonkeyPatch, args: list[str], environ: dict[str, str]
) -> tuple[int, str, str]:
    """`retrylint ARGS` in-process, with a terminal on stderr and no delay before the bar."""
    monkeypatch.setattr(progress, "DELAY", 0.0)
    for name in ("NO_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    out, err = io.StringIO(), FakeTTY()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(sys, "argv", ["retrylint", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    return int(exited.value.code or 0), out.getvalue(), err.getvalue()


DEMO = str(FIXTURES / "demo")
BASE = ["--jobs", "1", "--no-cache"]


def test_text_output_on_a_terminal_shows_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = _run(monkeypatch, ["check", DEMO, *BASE], {})
    assert code == 1
    assert "Reading files" in err or "Parsing" in err
    assert "Reading files" not in out and "Parsing" not in out


@pytest.mark.parametrize(
    "args",
    [
        ["check", DEMO, *BASE, "--format", "json"],
        ["check", DEMO, *BASE, "--format", "sarif"],
        ["check", DEMO, *BASE, "--format", "github"],
        ["check", DEMO, *BASE, "--quiet"],
        ["inventory", DEMO, *BASE, "--format", "json"],
        ["inventory", DEMO, *BASE, "--format", "markdown"],
    ],
    ids=["json", "sarif", "github", "quiet", "inventory-json", "inventory-markdown"],
)
def test_machine_output_never_shows_progress(
    monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    _code, out, err = _run(monkeypatch, args, {})
    assert err == ""
    assert out


def test_machine_output_to_a_file_never_shows_progress(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    target = tmp_path / "out.sarif"
    args = ["check", DEMO, *BASE, "--format", "sarif", "--output-file", str(target)]
    _code, out, err = _run(monkeypatch, args, {})
    assert (out, err) == ("", "")
    assert target.read_text(encoding="utf-8").startswith("{")


@pytest.mark.parametrize("environ", [{"NO_COLOR": "1"}, {"TERM": "dumb"}])
def test_plain_terminals_get_no_progress(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]
) -> None:
    _code, out, err = _run(monkeypatch, ["check", DEMO, *BASE], environ)
    assert err == ""
    assert "shop/tasks.py" in out
