"""Which files a run reads: the only module that walks the file system.

Discovery is deterministic (sorted POSIX paths, relative to the project root) so the report does
not depend on directory order, and it never follows a directory symlink out of the tree or into a
loop. Virtualenvs are recognised by their `pyvenv.cfg`, not by name, because teams name them
anything.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pathspec

Language = Literal["python", "go"]

_SUFFIXES: dict[str, Language] = {".py": "python", ".go": "go"}
# Directories that never hold first-party task code. Build outputs and caches copy sources
# (a `build/lib/` tree would double every task), and vendored dependencies are not ours to judge.
_SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".tox",
        ".nox",
        ".venv",
        "venv",
        ".eggs",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        "site-packages",
        "build",
        "dist",
        "vendor",
    }
)


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: str  # POSIX, relative to the project root
    absolute: Path
    language: Language


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A path that was named or found but cannot be scanned (RL000 or a skip reason)."""

    path: str
    reason: str


def relative(path: Path, root: Path) -> str:
    """The POSIX form of `path` relative to `root`; `..` segments when it lies outside."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return Path(os.path.relpath(path, root)).as_posix()


def _skip_dir(entry: os.DirEntry[str]) -> bool:
    if entry.name in _SKIPPED_DIRS or entry.name.endswith(".egg-info"):
        return True
    return os.path.exists(os.path.join(entry.path, "pyvenv.cfg"))


def _walk(directory: Path, seen: set[tuple[int, int]]) -> Iterator[Path]:
    try:
        stat = directory.stat()
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return
    key = (stat.st_dev, stat.st_ino)
    if key in seen:  # a symlink loop, or a link back into a tree already walked
        return
    seen.add(key)
    for entry in entries:
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False  # a symlink loop: reported when the file cannot be read
        if is_dir:
            if not _skip_dir(entry):
                yield from _walk(Path(entry.path), seen)
        elif os.path.splitext(entry.name)[1] in _SUFFIXES:
            yield Path(entry.path)


def discover(
    paths: Sequence[Path], root: Path, exclude: pathspec.PathSpec[Any]
) -> tuple[list[SourceFile], list[Unreadable]]:
    """Files under `paths` (files named directly are always taken), minus `exclude`."""
    found: dict[str, SourceFile] = {}
    problems: list[Unreadable] = []
    seen: set[tuple[int, int]] = set()
    for given in paths:
        absolute = Path(os.path.abspath(given))
        if not absolute.exists():
            problems.append(Unreadable(relative(absolute, root), "no such file or directory"))
            continue
        candidates: Iterable[Path]
        candidates = [absolute] if absolute.is_file() else _walk(absolute, seen)
        for path in candidates:
            rel = relative(path, root)
            if exclude.match_file(rel):
                continue
            language = _SUFFIXES.get(path.suffix)
            if language is None:
                problems.append(Unreadable(rel, "not a .py or .go file"))
                continue
            found.setdefault(rel, SourceFile(rel, path, language))
    return [found[k] for k in sorted(found)], problems


def module_name(rel_path: str, root: Path, source_roots: Sequence[str]) -> str:
    """The dotted module name of a file, from the file system alone (CONTRACTS §3).

    With `source-roots`, the nearest (longest) containing root wins. Without, the name starts
    at the highest ancestor directory that has an `__init__.py`, and directories without one
    between it and the file are part of the name: Python imports them as namespace packages
    (`pkg/sub/tasks/jobs.py` with only `pkg/__init__.py` and `pkg/sub/__init__.py` is
    `pkg.sub.tasks.jobs`). A directory chain with no `__init__.py` at all leaves the stem alone,
    as a script folder is put on `sys.path` itself. Only directories inside the project root
    count. A relative import in the file can prove the name deeper still; extraction applies
    that (`retrylint.python.extract`).
    """
    parts = list(Path(rel_path).with_suffix("").parts)
    for src in sorted(source_roots, key=lambda s: -len(Path(s).parts)):
        src_parts = Path(src).parts if src not in ("", ".") else ()
        if tuple(parts[: len(src_parts)]) == src_parts and len(parts) > len(src_parts):
            parts = parts[len(src_parts) :]
            break
    else:
        directory = (root / rel_path).parent
        keep = 1
        # `parts[-1 - up]` names `directory`, the ancestor `up` levels above the file.
        for up in range(1, len(parts)):
            if parts[-1 - up] in ("..", "."):
                break
            if (directory / "__init__.py").is_file():
                keep = up + 1
            directory = directory.parent
        parts = parts[-keep:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)
