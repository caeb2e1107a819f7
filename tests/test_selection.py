"""Rule selection like ruff (CONTRACTS §2, §6): `select`, `extend-select`, `ignore` and
`per-file-ignores` in the policy file and on the command line, where the more specific selector
wins; and the small CLI switches around a run: `--statistics`, `--output-file`, `--quiet`,
`--color`, `-h`, `-V`, flags shown as flags.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from retrylint import __version__, engine
from retrylint.cli import app
from retrylint.config.policy import load_policy
from retrylint.frameworks import FRAMEWORKS
from retrylint.model import Severity
from retrylint.rules import RULES
from tests.conftest import write_project

# RL102 on `poll` (50 retries, inherited from the base class) and RL101 on `forever`.
TASKS = """
from celery import Celery, Task

app = Celery("jobs")


class Patient(Task):
    autoretry_for = (OSError,)
    retry_backoff = True
    max_retries = 50


@app.task(base=Patient)
def poll():
    pass


@app.task(autoretry_for=(OSError,), retry_backoff=True, max_retries=None)
def forever():
    pass
"""


def enabled(
    policy_text: str = "",
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    extend_select: list[str] | None = None,
) -> set[str]:
    """The codes a run would report, for a policy file and the CLI's selectors."""
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "retrylint.toml"
        config.write_text(policy_text, encoding="utf-8")
        policy = load_policy(config, known_rules=RULES, known_frameworks=FRAMEWORKS, cwd=Path(tmp))
    selection = engine.Selection.build(policy, select, ignore or (), extend_select or ())
    return set(selection.severities)


COUNT_RULES = {c for c in RULES if c.startswith("RL1")}


@pytest.mark.parametrize(
    ("cli", "expected"),
    [
        # The more specific selector wins, whichever flag it is on (ruff's Specificity).
        ({"select": ["RL102"], "ignore": ["RL1"]}, {"RL102"}),
        ({"select": ["RL1"], "ignore": ["RL102"]}, COUNT_RULES - {"RL102"}),
        ({"select": ["RL1"], "ignore": ["RL10"]}, COUNT_RULES - {c for c in RULES if "RL10" in c}),
        ({"select": ["RL1"], "ignore": ["ALL"]}, COUNT_RULES),
        ({"select": ["ALL"], "ignore": ["RL1"]}, set(RULES) - COUNT_RULES),
        # A tie goes to ignore: ruff applies a level's ignores after its selects.
        ({"select": ["RL102"], "ignore": ["RL102"]}, set()),
        ({"select": ["rl1,RL2"], "ignore": ["RL1", "RL2"]}, set()),
        # extend-select selects at its own specificity too.
        ({"extend_select": ["RL101"], "ignore": ["RL1"]}, set(RULES) - COUNT_RULES | {"RL101"}),
        (
            {"ignore": ["RL1"], "extend_select": ["RL101"], "select": ["RL2"]},
            {c for c in RULES if c.startswith("RL2")} | {"RL101"},
        ),
    ],
)
def test_more_specific_selector_wins_on_the_command_line(
    cli: dict[str, list[str]], expected: set[str]
) -> None:
    assert enabled("", **cli) == expected


FILE = 'select = ["RL1"]\nignore = ["RL102"]\n'


@pytest.mark.parametrize(
    ("cli", "expected"),
    [
        ({}, COUNT_RULES - {"RL102"}),
        # A `--select` starts over: the file's `ignore` goes with its `select` (ruff's example).
        ({"select": ["RL102"]}, {"RL102"}),
        ({"extend_select": ["RL201"]}, (COUNT_RULES - {"RL102"}) | {"RL201"}),
        ({"extend_select": ["RL102"]}, COUNT_RULES),
        ({"ignore": ["RL101"]}, COUNT_RULES - {"RL101", "RL102"}),
    ],
)
def test_command_line_layers_on_the_policy_file(
    cli: dict[str, list[str]], expected: set[str]
) -> None:
    assert enabled(FILE, **cli) == expected


def test_rules_off_stays_off_whatever_is_selected() -> None:
    assert "RL103" not in enabled('select = ["RL103"]\n[rules]\nRL103 = "off"\n')
    assert enabled('extend-select = ["RL1"]\nignore = ["RL201"]\n') == set(RULES) - {"RL201"}


def test_per_file_ignores_match_the_path_or_the_file_name() -> None:
    severities: dict[str, Severity] = dict.fromkeys(RULES, "error")
    selection = engine.Selection(
        severities,
        (("legacy/*", frozenset({"RL101"})), ("conftest.py", frozenset({"RL102"}))),
    )
    assert not selection.enabled_in("legacy/deep/tasks.py", "RL101")
    assert selection.enabled_in("legacy/deep/tasks.py", "RL102")
    assert not selection.enabled_in("app/conftest.py", "RL102")
    assert selection.enabled_in("app/tasks.py", "RL101")


@pytest.mark.parametrize(
    ("items", "pairs"),
    [
        (["legacy/*:RL101,RL102"], (("legacy/*", ("RL101", "RL102")),)),
        (["a.py:RL101,b.py:RL2"], (("a.py", ("RL101",)), ("b.py", ("RL2",)))),  # ruff's form
        (["./a.py:RL1", "a.py:RL2"], (("a.py", ("RL1", "RL2")),)),
    ],
)
def test_per_file_ignores_flag_forms(items: list[str], pairs: object) -> None:
    assert engine.parse_per_file_ignores(items) == pairs


@pytest.mark.parametrize("item", ["RL101", ":RL101", "a.py:", "a.py:RL9"])
def test_per_file_ignores_flag_errors(item: str) -> None:
    with pytest.raises(engine.UsageError):
        engine.parse_per_file_ignores([item])


# --- through the command line ------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    write_project(tmp_path, {"app/tasks.py": TASKS})
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def cli(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


def rules_of(result: Result) -> list[str]:
    return [f["rule"] for f in json.loads(result.stdout)["findings"]]


def test_cli_select_and_ignore(project: Path) -> None:
    assert rules_of(cli("check", "--format", "json")) == ["RL102", "RL101"]
    only = cli("check", "--format", "json", "--select", "RL102", "--ignore", "RL1")
    assert rules_of(only) == ["RL102"]
    assert rules_of(cli("check", "--format", "json", "--extend-select", "RL1")) == [
        "RL102",
        "RL101",
    ]


def test_policy_file_selectors_and_per_file_ignores(project: Path) -> None:
    (project / "retrylint.toml").write_text(
        'ignore = ["RL1"]\nextend-select = ["RL101"]\n', encoding="utf-8"
    )
    assert rules_of(cli("check", "--format", "json")) == ["RL101"]
    (project / "retrylint.toml").write_text(
        '[per-file-ignores]\n"app/*" = ["RL101"]\n', encoding="utf-8"
    )
    assert rules_of(cli("check", "--format", "json")) == ["RL102"]
    # The command line's per-file-ignores replace the file's.
    replaced = cli("check", "--format", "json", "--per-file-ignores", "tasks.py:RL102")
    assert rules_of(replaced) == ["RL101"]


def test_no_unused_suppression_in_a_file_that_ignores_the_code(project: Path) -> None:
    source = (project / "app/tasks.py").read_text(encoding="utf-8")
    stale = "# retrylint: ignore[RL102] stale\n@app.task(autoretry_for"
    (project / "app/tasks.py").write_text(source.replace("@app.task(autoretry_for", stale))
    assert "RL001" in rules_of(cli("check", "--format", "json"))
    ignored = cli("check", "--format", "json", "--per-file-ignores", "app/*.py:RL102")
    assert rules_of(ignored) == ["RL101"]


def test_statistics(project: Path) -> None:
    result = cli("check", "--statistics")
    assert result.exit_code == 1
    assert result.stdout == "1\tRL101\tunbounded-retries\n1\tRL102\tretry-limit-out-of-policy\n"
    as_json = json.loads(cli("check", "--statistics", "--format", "json").stdout)
    assert as_json == [
        {"code": "RL101", "name": "unbounded-retries", "count": 1},
        {"code": "RL102", "name": "retry-limit-out-of-policy", "count": 1},
    ]
    assert cli("check", "--statistics", "--select", "RL2").stdout == ""


def test_output_file(project: Path) -> None:
    (project / "taken").write_text("")
    result = cli("check", "--format", "json", "--output-file", "taken/report.json")
    assert result.exit_code == 2  # a file where the folder should be: nothing half written
    assert result.stderr.startswith("retrylint: error: --output-file taken/report.json: ")
    # A missing folder is made, as ruff does (astral-sh/ruff#11550).
    result = cli("check", "--format", "json", "--output-file", "out/report.json")
    assert result.exit_code == 1
    assert json.loads((project / "out" / "report.json").read_text())["findings"]
    result = cli("check", "--format", "json", "-o", "report.json")
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", "")
    assert rules_of(cli("check", "--format", "json")) == [
        f["rule"] for f in json.loads((project / "report.json").read_text())["findings"]
    ]
    cli("check", "-o", "report.txt", "--color", "always")
    text = (project / "report.txt").read_text()
    assert "\x1b[1;31mRL102" in text  # --color always colours a file too
    assert "Found 2 errors" in text


def test_quiet_prints_findings_only(project: Path) -> None:
    loud = cli("check").stdout.splitlines()
    quiet = cli("check", "--quiet").stdout.splitlines()
    assert loud[-1].startswith("Found ")
    assert quiet == loud[: len(quiet)]
    assert quiet[-1].startswith("      fix: ")
    assert cli("check", "-q", "--select", "RL2").stdout == ""
    init = cli("init", "-q", "-o", "policy.toml")
    assert (init.exit_code, init.stderr) == (0, "")


@pytest.mark.parametrize(
    ("flag", "env", "coloured"),
    [
        ("auto", {}, False),  # not a terminal
        ("auto", {"FORCE_COLOR": "1"}, True),
        ("auto", {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
        ("always", {}, True),
        ("always", {"NO_COLOR": "1"}, True),  # the explicit flag wins
        ("never", {"FORCE_COLOR": "1"}, False),
    ],
)
def test_color(project: Path, flag: str, env: dict[str, str], coloured: bool) -> None:
    out = cli("check", "--color", flag, env=env).stdout
    assert ("\x1b[1;31m" in out) is coloured, out
    if flag == "never":
        assert "\x1b[" not in out


def test_help_and_version_short_flags() -> None:
    for args in (["-h"], ["check", "-h"], ["inventory", "-h"]):
        result = cli(*args)
        assert result.exit_code == 0
        assert "Usage: " in result.stdout
        assert "<bool>" not in result.stdout  # flags are shown as flags
    check_help = " ".join(cli("check", "--help").stdout.split())
    assert "--exit-zero Exit 0" in check_help
    for flag in ("-V", "--version"):
        assert cli(flag).stdout == f"retrylint {__version__}\n"


def test_exit_zero_is_a_plain_flag(project: Path) -> None:
    assert cli("check", "--exit-zero").exit_code == 0
    assert cli("check", "--exit-zero", ".").exit_code == 0
    # `--exit-zero true` names a path "true", as with any flag: a one-line usage error.
    result = cli("check", "--exit-zero", "true")
    assert result.exit_code == 2
    assert result.stderr.strip().endswith("true: no such file or directory")


def test_cli_unknown_selector_is_a_usage_error(project: Path) -> None:
    for flag in ("--select", "--extend-select", "--ignore"):
        result = cli("check", flag, "RL9")
        assert result.exit_code == 2
        assert result.stderr.startswith(f"retrylint: error: {flag} RL9: no rule code starts")
    assert os.path.exists(project / "app")
