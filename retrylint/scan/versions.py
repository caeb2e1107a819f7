"""Which version of each framework a project uses, read from its dependency files.

Semantics differ between versions (Dramatiq 1.x and 2.x backoff, Huey before 3.3 ignoring
`retry_backoff`, Celery options that exist only in 5.7), so adapters need the version. Lock files
give exact versions and win over requirement files, which win over `pyproject.toml` constraints;
for a constraint such as `>=5.3` the lower bound is taken. `[frameworks.<fw>] version` in the
policy overrides all of them. Nothing here installs or imports anything.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

# Distribution names on PyPI for each framework string (CONTRACTS §8).
DISTRIBUTIONS: dict[str, str] = {
    "celery": "celery",
    "dramatiq": "dramatiq",
    "rq": "rq",
    "huey": "huey",
    "arq": "arq",
    "taskiq": "taskiq",
    "procrastinate": "procrastinate",
    "saq": "saq",
    "django-q2": "django-q2",
    "temporal": "temporalio",
    "tenacity": "tenacity",
    "backoff": "backoff",
    "stamina": "stamina",
}
_REQUIREMENT = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*"
    r"(?P<op>===|==|~=|>=|>)\s*(?P<version>[0-9][0-9A-Za-z.*+!-]*)"
)
_MAX_FILE = 5_000_000


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


_WANTED = {_normalize(dist): key for key, dist in DISTRIBUTIONS.items()}


def _read(path: Path) -> str | None:
    try:
        if path.stat().st_size > _MAX_FILE:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _from_requirement_lines(lines: Iterable[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in lines:
        match = _REQUIREMENT.match(line.split("#", 1)[0])
        if match:
            key = _WANTED.get(_normalize(match["name"]))
            if key is not None:
                found.setdefault(key, match["version"].rstrip(".*"))
    return found


def _from_toml_lock(text: str) -> dict[str, str]:
    """poetry.lock and uv.lock: `[[package]]` tables with `name` and `version`."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}
    found: dict[str, str] = {}
    packages = document.get("package", [])
    for package in packages if isinstance(packages, list) else []:
        if isinstance(package, dict):
            key = _WANTED.get(_normalize(str(package.get("name", ""))))
            version = package.get("version")
            if key is not None and isinstance(version, str):
                found.setdefault(key, version)
    return found


def _from_pipfile_lock(text: str) -> dict[str, str]:
    try:
        document = json.loads(text)
    except ValueError:
        return {}
    found: dict[str, str] = {}
    for section in ("default", "develop"):
        entries = document.get(section, {}) if isinstance(document, dict) else {}
        for name, spec in entries.items() if isinstance(entries, dict) else []:
            key = _WANTED.get(_normalize(name))
            version = spec.get("version") if isinstance(spec, dict) else None
            if key is not None and isinstance(version, str):
                found.setdefault(key, version.lstrip("="))
    return found


def _from_pyproject(text: str) -> dict[str, str]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}
    lines: list[str] = []
    project = document.get("project", {})
    if isinstance(project, dict):
        lines.extend(str(d) for d in project.get("dependencies", []) or [])
        for extra in (project.get("optional-dependencies") or {}).values():
            lines.extend(str(d) for d in extra)
    poetry = document.get("tool", {}).get("poetry", {}) if isinstance(document, dict) else {}
    for name, spec in (
        (poetry.get("dependencies") or {}).items() if isinstance(poetry, dict) else []
    ):
        version = spec.get("version") if isinstance(spec, dict) else spec
        if isinstance(version, str):
            lines.append(f"{name}>={version.lstrip('^~=>< ')}")
    return _from_requirement_lines(lines)


def detect(root: Path) -> dict[str, str]:
    """Framework string → version, from the dependency files at the project root."""
    found: dict[str, str] = {}

    def merge(more: Mapping[str, str]) -> None:
        for key, version in more.items():
            found.setdefault(key, version)

    for name, parse in (
        ("poetry.lock", _from_toml_lock),
        ("uv.lock", _from_toml_lock),
        ("Pipfile.lock", _from_pipfile_lock),
    ):
        text = _read(root / name)
        if text is not None:
            merge(parse(text))
    requirement_files = sorted(root.glob("requirements*.txt")) + sorted(
        root.glob("requirements/*.txt")
    )
    for path in requirement_files:
        text = _read(path)
        if text is not None:
            merge(_from_requirement_lines(text.splitlines()))
    text = _read(root / "pyproject.toml")
    if text is not None:
        merge(_from_pyproject(text))
    return found


def at_least(version: str | None, minimum: tuple[int, ...], default: tuple[int, ...]) -> bool:
    """Whether `version` (or, when unknown, the reference `default`) is `minimum` or newer."""
    parts: list[int] = []
    for piece in (version or "").split("."):
        match = re.match(r"\d+", piece)
        if match is None:
            break
        parts.append(int(match.group()))
    return tuple(parts or default) >= minimum
