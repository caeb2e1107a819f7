"""Commands that scan nothing start without the adapters, libcst or tree-sitter (issue 11 §4),
and a plain `check` with text output starts without what only other options need.

Each command runs in a fresh interpreter, which then lists the watched modules it holds.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from retrylint import frameworks
from tests.conftest import FIXTURES

ADAPTER_MODULES = sorted(
    type(adapter).__module__ for adapter in (*frameworks.PYTHON_ADAPTERS, *frameworks.GO_ADAPTERS)
)
# Modules only some options of `check`, or other commands, use: other report formats, the policy
# file editor (`init --update`, with tomlkit), diff mode, watch mode, simulation, alerts, HTML.
OPTIONAL_MODULES = sorted(
    [
        "retrylint.alerts",
        "retrylint.config.update",
        "retrylint.diff",
        "retrylint.lookup",
        "retrylint.report.concise_report",
        "retrylint.report.github_report",
        "retrylint.report.gitlab_report",
        "retrylint.report.html_report",
        "retrylint.report.json_report",
        "retrylint.report.junit_report",
        "retrylint.report.sarif_report",
        "retrylint.report.statistics",
        "retrylint.report.svg",
        "retrylint.report.timeline",
        "retrylint.rules.docs",
        "retrylint.simulate",
        "retrylint.watch",
        "tomlkit",
    ]
)
_SCRIPT = """
import json, sys
from retrylint.cli import main
heavy = json.loads(sys.argv[2])
sys.argv = ['retrylint', *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
loaded = sorted(
    m for m in sys.modules
    if m in heavy or m.split('.')[0] in ('libcst', 'tree_sitter', 'tree_sitter_go')
)
sys.stderr.write(json.dumps(loaded) + '\\n')
"""


def _loaded(*args: str) -> list[str]:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _SCRIPT,
            json.dumps(args),
            json.dumps([*ADAPTER_MODULES, *OPTIONAL_MODULES]),
        ],
        capture_output=True,
        check=True,
        text=True,
    )
    value: list[str] = json.loads(proc.stderr.strip().splitlines()[-1])
    return value


@pytest.mark.parametrize(
    "args",
    [("--version",), ("rules",), ("rules", "--format", "json"), ("explain", "RL101"), ("--help",)],
    ids=" ".join,
)
def test_commands_that_scan_nothing_load_no_adapter(args: tuple[str, ...]) -> None:
    assert not set(_loaded(*args)) & {*ADAPTER_MODULES, "libcst", "tree_sitter"}


GO_MODULES = sorted(type(adapter).__module__ for adapter in frameworks.GO_ADAPTERS)


def test_a_scan_loads_every_adapter_it_needs() -> None:
    """The check above would pass vacuously if the module names were wrong. A tree without
    Go files does not load the Go adapters; one with Go files does."""
    python = _loaded("check", "--exit-zero", "--no-cache", str(FIXTURES / "demo"))
    assert set(ADAPTER_MODULES) - set(GO_MODULES) <= set(python)
    assert not set(GO_MODULES) & set(python)
    go = _loaded("check", "--exit-zero", "--no-cache", str(FIXTURES / "asynq"))
    assert set(GO_MODULES) <= set(go)


def test_optional_module_names_exist() -> None:
    """A misspelt name would make the checks below pass without testing anything."""
    assert [m for m in OPTIONAL_MODULES if importlib.util.find_spec(m) is None] == []


def test_a_plain_check_loads_no_optional_module() -> None:
    loaded = _loaded("check", "--exit-zero", "--no-cache", str(FIXTURES / "demo"))
    assert not set(OPTIONAL_MODULES) & set(loaded)


@pytest.mark.parametrize(
    ("args", "module"),
    [
        (("--format", "junit"), "retrylint.report.junit_report"),
        (("--format", "json"), "retrylint.report.json_report"),
        (("--statistics",), "retrylint.report.statistics"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else value,
)
def test_an_option_loads_the_module_it_needs(args: tuple[str, ...], module: str) -> None:
    """The lazy imports still happen when their option is given."""
    loaded = _loaded("check", "--exit-zero", "--no-cache", *args, str(FIXTURES / "demo"))
    assert module in loaded
