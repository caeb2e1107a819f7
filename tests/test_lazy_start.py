"""Commands that scan nothing start without the adapters, libcst or tree-sitter (issue 11 §4).

Each command runs in a fresh interpreter, which then lists the heavy modules it holds.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from retrylint import frameworks
from tests.conftest import FIXTURES

ADAPTER_MODULES = sorted(
    type(adapter).__module__ for adapter in (*frameworks.PYTHON_ADAPTERS, *frameworks.GO_ADAPTERS)
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
        [sys.executable, "-c", _SCRIPT, json.dumps(args), json.dumps(ADAPTER_MODULES)],
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
    assert _loaded(*args) == []


GO_MODULES = sorted(type(adapter).__module__ for adapter in frameworks.GO_ADAPTERS)


def test_a_scan_loads_every_adapter_it_needs() -> None:
    """The check above would pass vacuously if the module names were wrong. A tree without
    Go files does not load the Go adapters; one with Go files does."""
    python = _loaded("check", "--exit-zero", "--no-cache", str(FIXTURES / "demo"))
    assert set(ADAPTER_MODULES) - set(GO_MODULES) <= set(python)
    assert not set(GO_MODULES) & set(python)
    go = _loaded("check", "--exit-zero", "--no-cache", str(FIXTURES / "asynq"))
    assert set(GO_MODULES) <= set(go)
