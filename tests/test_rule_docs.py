"""Every rule has a document, and every document's examples are executed.

`## Example` must make the rule fire and `## Use instead` must not. Each section holds a
```python block (written as `tasks.py`) or a ```go block (written as `main.go`) and optionally a
```toml block (the policy file);
`Use instead` reuses the Example's policy when it has none of its own. Examples are judged as
of `DOC_TODAY` (as `check --today`), which RL406's document says.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from retrylint.rules import RULES
from tests.conftest import REPO, analyze

DOCS = REPO / "rules"
DOC_TODAY = date(2026, 6, 1)
HEADINGS = (
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## Use instead",
    "## Options",
    "## When retrylint cannot decide",
)
_BLOCK = re.compile(r"```(python|go|toml)\n(.*?)```", re.DOTALL)


def _doc(code: str) -> str:
    return (DOCS / f"{code}-{RULES[code].meta.name}.md").read_text(encoding="utf-8")


def _section(text: str, heading: str) -> dict[str, str]:
    start = text.index(heading) + len(heading)
    end = text.find("\n## ", start)
    body = text[start : end if end != -1 else len(text)]
    return dict(_BLOCK.findall(body))


def test_docs_match_the_registry() -> None:
    expected = {f"{code}-{rule.meta.name}.md" for code, rule in RULES.items()}
    assert {p.name for p in DOCS.glob("*.md")} == expected


@pytest.mark.parametrize("code", sorted(RULES))
def test_doc_has_every_heading(code: str) -> None:
    text = _doc(code)
    assert text.startswith(f"# {code} {RULES[code].meta.name}\n")
    positions = [text.index(h) for h in HEADINGS]
    assert positions == sorted(positions)
    assert f"**Default severity:** {RULES[code].meta.severity}" in text


def _run(tmp_path: Path, code: str, toml: str | None, language: str = "python") -> set[str]:
    name = "main.go" if language == "go" else "tasks.py"
    (tmp_path / name).write_text(code, encoding="utf-8")
    if toml is not None:
        (tmp_path / "retrylint.toml").write_text(toml, encoding="utf-8")
    report = analyze(tmp_path, today=DOC_TODAY)
    return {f.rule for f in report.findings}


@pytest.mark.parametrize("code", sorted(RULES))
def test_example_fires(code: str, tmp_path: Path) -> None:
    example = _section(_doc(code), "## Example")
    language = "go" if "go" in example else "python"
    assert code in _run(tmp_path, example[language], example.get("toml"), language)


@pytest.mark.parametrize("code", sorted(RULES))
def test_use_instead_does_not_fire(code: str, tmp_path: Path) -> None:
    example = _section(_doc(code), "## Example")
    fixed = _section(_doc(code), "## Use instead")
    language = "go" if "go" in fixed else "python"
    toml = fixed.get("toml", example.get("toml"))
    assert code not in _run(tmp_path, fixed[language], toml, language)
