"""Which version of each framework a project uses, read from its dependency files.

Semantics differ between versions (Dramatiq 1.x and 2.x backoff, Huey before 3.3 ignoring
`retry_backoff`, Celery options that exist only in 5.7, asynq before 0.25 checking `IsFailure`
before the retry budget), so adapters need the version. Lock files give exact versions and win
over requirement files, which win over `pyproject.toml` constraints; for a constraint such as
`>=5.3` the lower bound is taken. Go code takes the version from the `go.mod` nearest each file,
since one repository may hold several modules pinning different versions. `[frameworks.<fw>]
version` in the policy overrides all of them. Nothing here installs or imports anything.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

_REQUIREMENT = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*"
    r"(?P<op>===|==|~=|>=|>)\s*(?P<version>[0-9][0-9A-Za-z.*+!-]*)"
)
_MAX_FILE = 5_000_000


# Normalized PyPI distribution name → framework string.
Wanted = Mapping[str, str]


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _read(path: Path) -> str | None:
    try:
        if path.stat().st_size > _MAX_FILE:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _from_requirement_lines(lines: Iterable[str], wanted: Wanted) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in lines:
        match = _REQUIREMENT.match(line.split("#", 1)[0])
        if match:
            key = wanted.get(_normalize(match["name"]))
            if key is not None:
                found.setdefault(key, match["version"].rstrip(".*"))
    return found


# poetry.lock and uv.lock, as both tools write them: each `[[package]]` table starts with its
# `name` and `version` keys, one per line, before any sub-table.
_LOCK_PACKAGE = re.compile(r"^\[\[package\]\]\s*$")
_LOCK_KEY = re.compile(r'^(name|version)\s*=\s*"([^"]*)"\s*$')


def _from_toml_lock(text: str, wanted: Wanted) -> dict[str, str]:
    """poetry.lock and uv.lock: `[[package]]` tables with `name` and `version`.

    A line scan, not a TOML parse: a uv.lock of a few thousand packages took 0.24 s to load
    with tomllib for the one or two versions wanted here.
    """
    found: dict[str, str] = {}
    package: dict[str, str] | None = None
    for line in text.splitlines():
        if line.startswith("["):
            package = {} if _LOCK_PACKAGE.match(line) else None
            continue
        if package is None or not line.startswith(("name", "version")):
            continue
        match = _LOCK_KEY.match(line)
        if match:
            package.setdefault(match[1], match[2])
            if len(package) == 2:
                key = wanted.get(_normalize(package["name"]))
                if key is not None:
                    found.setdefault(key, package["version"])
                package = None
    return found


def _from_pipfile_lock(text: str, wanted: Wanted) -> dict[str, str]:
    try:
        document = json.loads(text)
    except ValueError:
        return {}
    found: dict[str, str] = {}
    for section in ("default", "develop"):
        entries = document.get(section, {}) if isinstance(document, dict) else {}
        for name, spec in entries.items() if isinstance(entries, dict) else []:
            key = wanted.get(_normalize(name))
            version = spec.get("version") if isinstance(spec, dict) else None
            if key is not None and isinstance(version, str):
                found.setdefault(key, version.lstrip("="))
    return found


def _from_pyproject(text: str, wanted: Wanted) -> dict[str, str]:
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
    return _from_requirement_lines(lines, wanted)


def detect(root: Path, distributions: Mapping[str, str]) -> dict[str, str]:
    """Framework string → version, from the dependency files at the project root;
    `distributions` maps framework strings to their PyPI distribution names."""
    wanted = {_normalize(dist): key for key, dist in distributions.items()}
    found: dict[str, str] = {}

    def merge(more: Mapping[str, str]) -> None:
        for key, version in more.items():
            found.setdefault(key, version)

    parsers = {
        "poetry.lock": _from_toml_lock,
        "uv.lock": _from_toml_lock,
        "Pipfile.lock": _from_pipfile_lock,
        "pyproject.toml": _from_pyproject,
    }
    for path in inputs(root):
        text = _read(path)
        if text is not None:
            parse = parsers.get(path.name) if path.parent == root else None
            merge(
                parse(text, wanted)
                if parse is not None
                else _from_requirement_lines(text.splitlines(), wanted)
            )
    return found


def inputs(root: Path) -> list[Path]:
    """The dependency files `detect` reads, most exact first; with the root and its
    `requirements` folder (whose entries decide the rest), what a cached result depends on."""
    return [
        root / "poetry.lock",
        root / "uv.lock",
        root / "Pipfile.lock",
        *sorted(root.glob("requirements*.txt")),
        *sorted(root.glob("requirements/*.txt")),
        root / "pyproject.toml",
    ]


def at_least(version: str | None, minimum: tuple[int, ...], default: tuple[int, ...]) -> bool:
    """Whether `version` (or, when unknown, the reference `default`) is `minimum` or newer."""
    parts: list[int] = []
    for piece in (version or "").split("."):
        match = re.match(r"\d+", piece)
        if match is None:
            break
        parts.append(int(match.group()))
    return tuple(parts or default) >= minimum


# -- Go modules ---------------------------------------------------------------------------

# A block such as `require (` or `replace (`; its entries follow one a line until `)`.
_GO_BLOCK = re.compile(r"^(?P<verb>[a-z]+)\s*\($")
_GO_VERBS = frozenset({"require", "replace"})


@dataclass(frozen=True, slots=True)
class GoRequirement:
    """What the `go.mod` nearest a file says about one required module.

    `version` is None when a `replace` directive swaps the module for a local directory or for
    another module: the code that is built is then not any release of the required module, so
    no version of it describes its behaviour.
    """

    version: str | None
    """Without the leading `v` (`0.25.1`, or a pseudo-version `0.25.1-0.20240101-abcdef`)."""
    directive: str
    """The `require` or `replace` entry that decided it, without the keyword, spaces collapsed
    (`github.com/hibiken/asynq => ../asynq`)."""
    path: str
    """The `go.mod`, POSIX and relative to the project root."""
    line: int


@dataclass(frozen=True, slots=True)
class _GoEntry:
    tokens: tuple[str, ...]
    line: int


class GoModules:
    """The nearest `go.mod` of each directory and what it requires, read once and cached.

    A `go.mod` above the project root is not read: the project root bounds the search, as it
    bounds everything else retrylint reads. A workspace (`go.work`) can raise a module's version
    to the highest any of its modules requires; modules are read one at a time here, as they
    are built when each is released on its own.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._nearest: dict[str, str | None] = {}
        self._entries: dict[str, dict[str, list[_GoEntry]]] = {}

    def requirement(self, directory: str, module: str) -> GoRequirement | None:
        """The version of `module` for code in `directory` (POSIX, relative to the root), or
        None when no `go.mod` up to the root requires it."""
        found = self._module_dir(directory)
        if found is None:
            return None
        entries = self._read(found)
        gomod = f"{found}/go.mod" if found else "go.mod"
        required = [e for e in entries.get("require", []) if _go_entry_module(e) == module]
        if not required:
            return None
        # Listed twice, the higher version wins (minimal version selection).
        chosen = max(required, key=lambda e: _semver_key(e.tokens[1]))
        version = chosen.tokens[1]
        replaces = [e for e in entries.get("replace", []) if _go_entry_module(e) == module]
        # A replacement of this exact version wins over one of every version; of several
        # equal ones (an error for the go command) the last is read.
        exact = [e for e in replaces if e.tokens[1] == version]
        general = [e for e in replaces if e.tokens[1] == "=>"]
        chosen_replaces = exact or general
        if not chosen_replaces:
            return GoRequirement(_plain(version), _spaced(chosen), gomod, chosen.line)
        replace = chosen_replaces[-1]
        target = replace.tokens[replace.tokens.index("=>") + 1 :]
        if len(target) == 2 and target[0] == module:
            return GoRequirement(_plain(target[1]), _spaced(replace), gomod, replace.line)
        return GoRequirement(None, _spaced(replace), gomod, replace.line)

    def _module_dir(self, directory: str) -> str | None:
        """The directory of the nearest `go.mod` at or above `directory`."""
        if directory not in self._nearest:
            here = self.root / directory if directory else self.root
            if (here / "go.mod").is_file():
                self._nearest[directory] = directory
            elif not directory:
                self._nearest[directory] = None
            else:
                self._nearest[directory] = self._module_dir(directory.rpartition("/")[0])
        return self._nearest[directory]

    def _read(self, directory: str) -> dict[str, list[_GoEntry]]:
        if directory not in self._entries:
            path = (self.root / directory if directory else self.root) / "go.mod"
            text = _read(path)
            self._entries[directory] = _go_entries(text) if text is not None else {}
        return self._entries[directory]


def _go_entries(text: str) -> dict[str, list[_GoEntry]]:
    """`require` and `replace` entries of a `go.mod`, single-line and block forms alike.

    Entries with too few tokens are dropped rather than guessed at: the go command would
    refuse such a file anyway.
    """
    found: dict[str, list[_GoEntry]] = {}
    block: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        if block is not None:
            if line == ")":
                block = None
                continue
            verb, tokens = block, _go_tokens(line)
        else:
            opened = _GO_BLOCK.match(line)
            if opened:
                block = opened["verb"]
                continue
            verb, *rest = line.split(None, 1)
            tokens = _go_tokens(rest[0] if rest else "")
        if verb in _GO_VERBS and _go_entry_ok(verb, tokens):
            found.setdefault(verb, []).append(_GoEntry(tokens, number))
    return found


def _go_tokens(line: str) -> tuple[str, ...]:
    return tuple(t.strip('"`') for t in line.replace("=>", " => ").split())


def _go_entry_ok(verb: str, tokens: tuple[str, ...]) -> bool:
    if verb == "require":
        return len(tokens) == 2
    if "=>" not in tokens:
        return False
    arrow = tokens.index("=>")
    return arrow in (1, 2) and len(tokens) - arrow - 1 in (1, 2)


def _go_entry_module(entry: _GoEntry) -> str:
    return entry.tokens[0]


def _spaced(entry: _GoEntry) -> str:
    return " ".join(entry.tokens)


def _plain(version: str) -> str:
    return version.removeprefix("v")


def _semver_key(version: str) -> tuple[tuple[int, ...], bool, str]:
    """Orders `vX.Y.Z[-pre]` as semantic versioning does, closely enough to pick the higher of
    two requirements: a release sorts after its pre-releases."""
    core, _, pre = _plain(version).partition("+")[0].partition("-")
    numbers = tuple(int(p) if p.isdigit() else 0 for p in core.split("."))
    return numbers, not pre, pre
