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
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from retrylint import __version__, model
from retrylint.python import ir
from retrylint.scan import files
from retrylint.scan import stamps as stamping
from retrylint.scan.cache import Deferred, atomic_write, restricted_load
from retrylint.scan.stamps import Stamp

_MAGIC = b"RLA2"
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

    def get(
        self, key: str, recompute: Callable[[], Sequence[object]]
    ) -> tuple[model.Analysis, tuple[Stamp, ...]] | None:
        """The analysis stored under `key` and its manifest, while the manifest holds, else
        None. `recompute` gives the rows again (the analysis, run once) for a cached row's
        delay function."""
        try:
            data = self._entry(key).read_bytes()
        except OSError:
            return None
        loaded = _load(data)
        if loaded is None or not all(map(stamping.holds, loaded[0])):
            return None
        with contextlib.suppress(OSError):
            os.utime(self._entry(key))  # used now: the last entries `_prune` removes
        manifest, analysis, deferred = loaded
        if not deferred:
            return analysis, manifest
        rows = list(analysis.rows)
        again = functools.cache(recompute)
        for index in deferred:
            rows[index] = dataclasses.replace(rows[index], delay_fn=Deferred(again, rows[index]))
        return dataclasses.replace(analysis, rows=tuple(rows)), manifest

    def put(
        self, key: str, analysis: model.Analysis, inputs: Inputs, began_ns: int
    ) -> tuple[Stamp, ...] | None:
        """Store an analysis with the manifest of `inputs` and return that manifest, unless a
        run that found nothing, a volatile one, or one whose inputs changed too recently to be
        told apart from a later edit."""
        if self.readonly or inputs.volatile or analysis.files == 0:
            return None
        # The entries' folder changes with every entry written: when a walk enters it (a
        # `cache-dir` inside the tree, gitignore not respected), it holds no source anyway. The
        # cache folder itself is an input when walked: it may hold sources beside the entries.
        own = os.fspath(self.directory.parent)
        stamps = tuple(
            s
            for s in stamping.stamps(inputs.files, inputs.folders, sorted(inputs.markers))
            if s[0] != own and not s[0].startswith(own + os.sep)
        )
        if not stamping.trusted(stamps, began_ns):
            return None
        rows = analysis.rows
        deferred = tuple(i for i, row in enumerate(rows) if row.delay_fn is not None)
        stored = dataclasses.replace(
            analysis,
            rows=tuple(dataclasses.replace(r, delay_fn=None) if r.delay_fn else r for r in rows),
        )
        try:
            payload = pickle.dumps((stamps, stored, deferred), protocol=pickle.HIGHEST_PROTOCOL)
        except (RecursionError, pickle.PicklingError):
            return None
        entry = self._entry(key)
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(entry, _MAGIC + payload)
        except OSError:
            return None
        stamping.prune(os.fspath(self.directory), KEPT)
        return stamps

    def _entry(self, key: str) -> Path:
        return self.directory / hashlib.sha256(_salt() + key.encode()).hexdigest()


@functools.cache
def _salt() -> bytes:
    return stamping.salt(stamping.package_modules(), _PACKAGES) + b"\0"


# The modules whose classes an analysis is made of.
_MODULES = frozenset({model.__name__, ir.__name__, files.__name__})


def _load(data: bytes) -> tuple[tuple[Stamp, ...], model.Analysis, tuple[int, ...]] | None:
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
        and all(stamping.is_stamp(s) for s in stamps)
        and isinstance(analysis, model.Analysis)
        and isinstance(deferred, tuple)
        and all(isinstance(i, int) and 0 <= i < len(analysis.rows) for i in deferred)
    ):
        return stamps, analysis, deferred
    return None


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
