"""The README stays true: its set-up commands, its rule table and its linked docs."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from retrylint.cli import app
from retrylint.rules import RULES
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    section = README[README.index("## Set up") : README.index("## A 30-second tour")]
    return re.findall(r"```sh\n(.*?)\n```", section, re.DOTALL)


def test_exactly_two_setup_commands() -> None:
    demo, tests = _commands()
    assert demo.endswith("retrylint check fixtures/demo")
    assert "pytest" in tests


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert _commands()[1] in ci


def test_rule_table_matches_the_registry() -> None:
    rows = re.findall(
        r"^\| \[(RL\d{3})\]\(rules/(RL\d{3}-[a-z-]+)\.md\) \| ([a-z-]+) \| (\w+) \|", README, re.M
    )
    assert [(code, doc, name, sev) for code, doc, name, sev in rows] == [
        (code, f"{code}-{RULES[code].meta.name}", RULES[code].meta.name, RULES[code].meta.severity)
        for code in sorted(RULES)
    ]
    for _, doc, _, _ in rows:
        assert (REPO / "rules" / f"{doc}.md").is_file()


def test_tour_shows_what_the_demo_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every line each console block of the tour shows (before and after its `...`) is printed
    # by the real command at the 80 columns the tour says it was captured at.
    section = README[README.index("## A 30-second tour") : README.index("## Frameworks")]
    blocks = re.findall(r"```console\n\$ retrylint (.*?)\n(.*?)\n```", section, re.S)
    assert [command for command, _ in blocks] == [
        "check fixtures/demo",
        "inventory fixtures/demo",
    ]
    assert "80 columns wide" in section
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("COLUMNS", "80")
    for command, shown in blocks:
        result = CliRunner().invoke(app, [*command.split(), "--no-cache"])
        assert result.exit_code == (1 if command.startswith("check") else 0)
        printed = result.stdout.splitlines()
        assert max(len(line) for line in printed) <= 80
        for line in shown.splitlines():
            if line != "...":
                assert line in printed, line
