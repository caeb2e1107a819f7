"""Shared helpers: run the engine on a fixture project or on a snippet written to tmp_path."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from retrylint import engine
from retrylint.config.policy import discover_config, load_policy
from retrylint.frameworks import FRAMEWORKS
from retrylint.model import EffectivePolicy
from retrylint.rules import RULES

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"


@pytest.fixture(scope="session", autouse=True)
def _cache_outside_the_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """CLI runs keep their summary cache in a temporary folder, not in `fixtures/`: tests must
    not write into the checkout. Tests of the cache itself name their own folder."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RETRYLINT_CACHE_DIR", str(tmp_path_factory.mktemp("retrylint_cache")))
        yield


@pytest.fixture(autouse=True)
def _fixed_width(monkeypatch: pytest.MonkeyPatch) -> None:
    """Text output wraps to `COLUMNS`: pinned wide, so the developer's terminal changes no
    test. Tests of wrapping set their own width."""
    monkeypatch.setenv("COLUMNS", "200")


def analyze(
    root: Path, paths: list[Path] | None = None, *, today: date | None = None, workers: int = 1
) -> engine.Report:
    """Run retrylint on a project directory with its own policy file, in-process; `today` as
    `check --today` (RL406)."""
    config = discover_config(root)
    policy = load_policy(config, known_rules=RULES, known_frameworks=FRAMEWORKS, cwd=root)
    return engine.run(paths or [root], policy, workers=workers, today=today)


def rows_by_name(report: engine.Report) -> dict[str, EffectivePolicy]:
    return {row.name or f"<{row.name_expression}>": row for row in report.rows}


def write_project(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return tmp_path


@pytest.fixture(scope="session")
def celery_fixture() -> dict[str, EffectivePolicy]:
    return rows_by_name(analyze(FIXTURES / "celery"))


NameRow = tuple[str, int, str | None, str | None, tuple[tuple[str, str, str, int], ...], str]


def name_rows(root: Path) -> list[NameRow]:
    """Every row's naming fields, in (path, line, name) order: path, line, name,
    name_expression, undecided values as (field, expression, path, line), site."""
    rows = [
        (
            row.location.path,
            row.location.line,
            row.name,
            row.name_expression,
            tuple((u.field, u.expression, u.location.path, u.location.line) for u in row.undecided),
            row.site,
        )
        for row in analyze(root).rows
    ]
    return sorted(rows, key=lambda r: (r[0], r[1], r[2] or "", r[3] or ""))


_GROUP_HEADER = re.compile(r"^(?P<path>\S.*):$")
_GROUPED_FINDING = re.compile(
    r"^  (?P<line>\d+):(?P<col>\d+) (?P<rule>RL\d{3})(?: \[\*\])? \[(?P<sev>\w+)\] "
)


def text_findings(text: str) -> list[tuple[str, int, int, str]]:
    """(path, line, column, rule) of every finding in `check` text output, which groups the
    findings under a `path:` header line."""
    found: list[tuple[str, int, int, str]] = []
    path = None
    for line in text.splitlines():
        if header := _GROUP_HEADER.match(line):
            path = header["path"]
        elif (finding := _GROUPED_FINDING.match(line)) and path is not None:
            found.append((path, int(finding["line"]), int(finding["col"]), finding["rule"]))
    return found
