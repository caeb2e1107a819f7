"""A run's whole analysis kept between runs, so a run where nothing changed reads no source.

Per-file summaries (`retrylint.scan.cache`) spare the parsing, but a warm run still reads
every file for the prefilter, loads every summary and runs every adapter again; on most trees
that costs several times what reading the files alone does. So the engine's `Analysis` (rows,
observations, problems, suppression comments; what precedes the rules) is kept too, with a
manifest of everything it was read from, and used again while nothing in the manifest changed:
such a run only `stat`s the manifest, then judges the analysis with the rules as they are now.

The manifest lists:

- files, with (mtime, ctime, size): the files discovery found (a non-candidate file matters
  too, since an edit can make it name a framework), the `.gitignore` files it looked for, the
  modules loaded to resolve names, the dependency files versions come from, and for Go each
  `go.mod` place; a file recorded absent must still be absent (ctime catches a `chmod` that
  makes a file unreadable, which leaves mtime alone);
- folders, with their mtime and ctime: every folder the walk listed or judged, every folder
  name resolution listed to find a module (where a module was *not* found is as much a result
  as where it was) and the folders between the root and each PATH. Creating, deleting or
  renaming an entry changes its folder's mtime, so a new file, a deleted `__init__.py` or a
  module that appears where an import looked are all seen without walking the tree again;
- markers whose existence alone counts: the `.git` looked for above the walk (its mtime
  changes with every commit).

The entry's key holds what else the analysis depends on: the project root, the PATHS, the
policy's discovery and framework settings (not its categories, tasks or rules, which only
the rules read), every module of retrylint, the installed libcst and tree-sitter, and the
Python version. Any difference is a miss and the run is a normal one, which then stores its
own analysis. A manifest with an mtime younger than `RACY_SECONDS` when the run began is not
stored at all: a file edited again within the same clock tick could then look unchanged
(git's "racy clean"). Nor is one with a ctime from after the run began: a file changed while
the analysis read it, even by a copy that keeps the old mtime (`cp -p`, `rsync -t`). Both
trust the local clock against the file system's times, as git does.

A path recorded absent holds while it cannot be `stat`ed: a module that was a dangling link
stays unresolved until its target appears. Paths inside the cache folder are never recorded.

Entries are written atomically and unpickled with a loader that builds only the pipeline's
own classes, as for per-file entries. A row's `delay_fn` (code, read by `simulate` only) is
not stored: a cached row gets a stand-in that runs the analysis once on first call.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import os
import pickle
import stat
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from retrylint import __version__, model
from retrylint.python import ir
from retrylint.scan import files
from retrylint.scan.cache import RACY_SECONDS, Deferred, atomic_write, restricted_load, salt

_MAGIC = b"RLA2"
# A manifest line: absolute path, mtime_ns, ctime_ns and the size of a file, `_FOLDER` for a
# folder (its size says nothing of its entries), `_ABSENT` for a path that did not exist.
_Stamp = tuple[str, int, int, int]
_FOLDER = -2
_ABSENT = -1
_PRESENT = -3  # a marker that exists; its mtime is not recorded
_PACKAGES = ("libcst", "tree_sitter", "tree_sitter_go", "pathspec")
# Analyses kept (the whole tree, the subfolders and files checked lately); each is the size of
# its manifest, about 100 bytes per file read.
KEPT = 32


@dataclasses.dataclass
class Inputs:
    """What an analysis read, gathered as the run goes: files and folders, absolute."""

    files: set[str] = dataclasses.field(default_factory=set)
    folders: set[str] = dataclasses.field(default_factory=set)
    markers: set[str] = dataclasses.field(default_factory=set)
    """Paths whose existence alone matters (a `.git`, changed by every commit)."""
    volatile: bool = False
    """A result of the run depends on more than the files (a parse that timed out)."""


class RunCache:
    """Whole analyses under `directory`/version/runs; every failure to use one is a miss."""

    def __init__(self, directory: Path, *, readonly: bool = False) -> None:
        self.directory = directory / __version__ / "runs"
        self.readonly = readonly

    def get(self, key: str, recompute: Callable[[], Sequence[object]]) -> model.Analysis | None:
        """The analysis stored under `key` while its manifest holds, else None. `recompute`
        gives the rows again (the analysis, run once) for a cached row's delay function."""
        try:
            data = self._entry(key).read_bytes()
        except OSError:
            return None
        loaded = _load(data)
        if loaded is None or not all(map(_holds, loaded[0])):
            return None
        with contextlib.suppress(OSError):
            os.utime(self._entry(key))  # used now: the last entries `_prune` removes
        _, analysis, deferred = loaded
        if not deferred:
            return analysis
        rows = list(analysis.rows)
        again = functools.cache(recompute)
        for index in deferred:
            rows[index] = dataclasses.replace(rows[index], delay_fn=Deferred(again, rows[index]))
        return dataclasses.replace(analysis, rows=tuple(rows))

    def put(self, key: str, analysis: model.Analysis, inputs: Inputs, began_ns: int) -> None:
        """Store an analysis with the manifest of `inputs`, unless a run that found nothing,
        a volatile one, or one whose inputs changed too recently to be told apart from a later
        edit."""
        if self.readonly or inputs.volatile or analysis.files == 0:
            return
        # The cache's own folder changes with every entry written: when a walk enters it
        # (a `cache-dir` inside the tree, gitignore not respected), it holds no source anyway.
        own = os.fspath(self.directory.parent.parent)
        stamps = tuple(
            s for s in _stamps(inputs) if s[0] != own and not s[0].startswith(own + os.sep)
        )
        recent = began_ns - RACY_SECONDS * 1_000_000_000
        if any(mtime > recent or ctime >= began_ns for _, mtime, ctime, _ in stamps):
            return
        rows = analysis.rows
        deferred = tuple(i for i, row in enumerate(rows) if row.delay_fn is not None)
        stored = dataclasses.replace(
            analysis,
            rows=tuple(dataclasses.replace(r, delay_fn=None) if r.delay_fn else r for r in rows),
        )
        try:
            payload = pickle.dumps((stamps, stored, deferred), protocol=pickle.HIGHEST_PROTOCOL)
        except (RecursionError, pickle.PicklingError):
            return
        entry = self._entry(key)
        with contextlib.suppress(OSError):
            entry.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(entry, _MAGIC + payload)
            self._prune()

    def _prune(self) -> None:
        """Keep the `KEPT` entries used last. A pre-commit hook checks a different set of
        files at each commit, so each run may store an entry under a key never asked again;
        unpruned, they would pile up for the life of the checkout."""
        entries: list[tuple[int, str]] = []
        with os.scandir(self.directory) as listing:
            for item in listing:
                if item.name.startswith("."):
                    continue  # another run's entry being written (`atomic_write`)
                with contextlib.suppress(OSError):
                    entries.append((item.stat().st_mtime_ns, item.path))
        for _, path in sorted(entries, reverse=True)[KEPT:]:
            with contextlib.suppress(OSError):
                os.unlink(path)

    def _entry(self, key: str) -> Path:
        return self.directory / hashlib.sha256(_salt() + key.encode()).hexdigest()


@functools.cache
def _salt() -> bytes:
    """Every retrylint module and the parsers' installed copies: an edited checkout or an
    upgrade never reads its older self's analyses."""
    package = Path(__file__).resolve().parent.parent
    modules = sorted(
        os.path.relpath(os.path.join(folder, name), package)
        for folder, _, names in os.walk(package)
        for name in names
        if name.endswith(".py")
    )
    return salt(modules, _PACKAGES) + b"\0"


def _stamps(inputs: Inputs) -> tuple[_Stamp, ...]:
    found: list[_Stamp] = []
    for kind, paths in ((_ABSENT, inputs.files), (_FOLDER, inputs.folders)):
        for path in sorted(paths):
            try:
                info = os.stat(path)
            except OSError:
                found.append((path, 0, 0, _ABSENT))
                continue
            size = _FOLDER if kind == _FOLDER and stat.S_ISDIR(info.st_mode) else info.st_size
            found.append((path, info.st_mtime_ns, info.st_ctime_ns, size))
    found.extend(
        (path, 0, 0, _PRESENT if os.path.lexists(path) else _ABSENT)
        for path in sorted(inputs.markers)
    )
    return tuple(found)


def _holds(stamp: _Stamp) -> bool:
    """Whether the path is as recorded: same kind, same times, a file of the same size."""
    path, mtime_ns, ctime_ns, size = stamp
    if size == _PRESENT:
        return os.path.lexists(path)
    try:
        info = os.stat(path)
    except OSError:
        return size == _ABSENT  # a link whose target is missing stays unreadable
    if (info.st_mtime_ns, info.st_ctime_ns) != (mtime_ns, ctime_ns):
        return False
    if size == _FOLDER:
        return stat.S_ISDIR(info.st_mode)
    return size != _ABSENT and not stat.S_ISDIR(info.st_mode) and info.st_size == size


# The modules whose classes an analysis is made of.
_MODULES = frozenset({model.__name__, ir.__name__, files.__name__})


def _load(data: bytes) -> tuple[tuple[_Stamp, ...], model.Analysis, tuple[int, ...]] | None:
    """An entry's manifest, analysis and the rows whose delay function was dropped, or None
    when it is short, corrupt or foreign."""
    if not data.startswith(_MAGIC):
        return None
    try:
        stamps, analysis, deferred = restricted_load(data[len(_MAGIC) :], _MODULES)
    except Exception:  # any corruption: unpickling raises many kinds of error
        return None
    if (
        isinstance(stamps, tuple)
        and all(_is_stamp(s) for s in stamps)
        and isinstance(analysis, model.Analysis)
        and isinstance(deferred, tuple)
        and all(isinstance(i, int) and 0 <= i < len(analysis.rows) for i in deferred)
    ):
        return stamps, analysis, deferred
    return None


def _is_stamp(stamp: object) -> bool:
    return (
        isinstance(stamp, tuple)
        and len(stamp) == 4
        and isinstance(stamp[0], str)
        and all(isinstance(number, int) for number in stamp[1:])
    )


def folders_between(root: Path, paths: Iterable[Path]) -> set[str]:
    """The folders from the root down to each path: module names depend on which of them
    hold an `__init__.py` (`files.module_name`)."""
    found = {os.fspath(root)}
    for path in paths:
        current = path if path.is_dir() else path.parent
        while current != root and current.is_relative_to(root):
            found.add(os.fspath(current))
            current = current.parent
    return found
