"""The pre-commit hook runs when anything retrylint reads changes, and the README's local hook
says the same as the shipped `.pre-commit-hooks.yaml`."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _files_pattern(text: str) -> str:
    match = re.search(r"^\s*files: '([^']+)'", text, re.M)
    assert match, "no files: pattern"
    return match.group(1)


def test_hook_triggers_on_every_input_retrylint_reads() -> None:
    pattern = re.compile(_files_pattern((ROOT / ".pre-commit-hooks.yaml").read_text()))
    for changed in (
        "app/tasks.py",
        "svc/worker/main.go",
        "go.mod",
        "pyproject.toml",
        "retrylint.toml",
        "uv.lock",
        "poetry.lock",
        "Pipfile.lock",
        "requirements-prod.txt",
    ):
        assert pattern.search(changed), changed
    for unrelated in ("README.md", "static/app.js", "docs/requirements/intro.md"):
        assert not pattern.search(unrelated), unrelated


def test_readme_local_hook_matches_the_shipped_hook() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## As a pre-commit hook") :]
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert _files_pattern(section) == _files_pattern(hooks)
    assert "pass_filenames: false" in section and "pass_filenames: false" in hooks
    assert "rev: v0.1.0" not in readme  # no such tag exists
