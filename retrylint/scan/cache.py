"""Per-file summaries kept between runs, so a run where nothing changed parses nothing.

An entry belongs to one file read with one set of extraction settings: its name is a hash of
the reported path, the dotted module name, the `ir.Interest` the engine asks for, and a salt of
everything else a summary depends on (retrylint's version, the stat of the modules that build a
summary, so an edited checkout never reads entries of its older self, libcst's installed copy
and the Python version). The entry holds the SHA-256 of the file's bytes and the summary (or
the parse problem) read from those bytes; a different content is a miss, and the new result
replaces the old, so the cache grows with files and settings, not with edits.

A warm run trusts a file's (mtime, size) when they are the ones recorded, and otherwise hashes
it. Recorded stats are only ever ones at least `RACY_SECONDS` old when written: a file edited
within the same clock tick as the run that cached it cannot then look unchanged (git's "racy
clean" problem).

Entries are written through a temporary file and `os.replace`, so concurrent runs see a whole
entry or none. A short, corrupt or foreign entry is a miss and is rewritten. Entries are
unpickled with a loader that only builds the summary classes, because a repository could
commit a crafted `.retrylint_cache/` and pickle would otherwise run any code it names.

Go has no per-file summary: the asynq adapter reads tree-sitter trees directly, across
packages, and a tree cannot be pickled. What is cached for Go is the adapter's whole output,
under a key of the same kind (path set, settings, salt of the Go analysis modules and
tree-sitter's installed copy) and with a manifest of every file the analysis may read: each
`.go` file of the project and each `go.mod` place from their folders up to the root. The entry
is used only when the project's `.go` listing is the recorded one and every manifest file
passes the same (mtime, size)-else-SHA-256 test as a Python entry; any edit, rename, deletion,
new file or new `go.mod` is a miss and the analysis runs again in full, so a warm run with no
Go change neither parses nor imports tree-sitter, and a run after an edit costs a cold one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import io
import os
import pickle
import struct
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from retrylint import __version__, model
from retrylint.python import ir
from retrylint.scan.python_parse import ParseProblem
from retrylint.scan.stamps import RACY_SECONDS, salt

if TYPE_CHECKING:  # Go output is loaded after the adapters ran, which import it
    from retrylint.frameworks import base

Result = ir.ModuleSummary | ParseProblem
# One manifest line: absolute path, mtime_ns (0: hash before trusting), size, SHA-256; a file
# that was absent is recorded with size -1 and no digest, so its creation is a change.
_Stamp = tuple[str, int, int, bytes]

_GITIGNORE = "# Written by retrylint; safe to delete.\n*\n"
_MAGIC = b"RLC1"
# magic, mtime_ns, size, SHA-256 of the content; mtime 0 means "hash before trusting".
_HEADER = struct.Struct(f"<{len(_MAGIC)}sqq32s")
# What a summary is built by: an edit to any of them changes what a file summarizes to.
_BUILDERS = (
    "python/ir.py",
    "python/extract.py",
    "python/extract_ast.py",
    "python/assemble.py",
    "python/walk.py",
    "scan/python_parse.py",
)
# What the Go adapter's output is built by: the whole analysis, since that output is cached.
_GO_MAGIC = b"RLG1"
_GO_BUILDERS = (
    "golang/parse.py",
    "golang/project.py",
    "golang/evaluate.py",
    "golang/flow.py",
    "frameworks/asynq.py",
    "frameworks/base.py",
    "scan/versions.py",
    "model.py",
)


class SummaryCache:
    """Cached `parse_file` results under one directory; every failure to use it is a miss."""

    def __init__(self, directory: Path, *, readonly: bool = False) -> None:
        self.directory = directory
        # Read-only for runs over edited copies (`check --fix` confirming its fixes): their
        # results must not replace the entries of the files as they are on disk.
        self.readonly = readonly
        self._salt = salt(_BUILDERS, ("libcst",))
        self._go_salt: bytes | None = None
        # Manifest of a Go analysis that missed, taken before it runs, for `put_go`.
        self._go_pending: dict[Path, tuple[_Stamp, ...]] = {}
        self._interests: dict[ir.Interest, bytes] = {}
        # Stat and digest of files that missed, taken before they are parsed, for `put`.
        self._pending: dict[Path, tuple[int, int, bytes]] = {}

    @classmethod
    def open(cls, directory: Path, *, readonly: bool = False) -> SummaryCache | None:
        """The cache in `directory`, created with a `.gitignore` of `*`; None when it cannot
        be created (a read-only checkout): the run goes on uncached. A folder that already
        holds anything else gets no `.gitignore` (as ruff's): a `cache-dir` among the sources
        would otherwise hide them from git."""
        try:
            directory.mkdir(parents=True, exist_ok=True)
            ignore = directory / ".gitignore"
            if not ignore.exists() and all(name == __version__ for name in os.listdir(directory)):
                atomic_write(ignore, _GITIGNORE.encode())
        except OSError:
            return None
        return cls(directory, readonly=readonly)

    def get(self, absolute: str, path: str, dotted: str, interest: ir.Interest) -> Result | None:
        """The cached result for this file as it is now, or None (then `put` may store one)."""
        entry = self._entry(path, dotted, interest)
        try:
            info = os.stat(absolute)
        except OSError:
            return None
        try:
            data = entry.read_bytes()
        except OSError:
            data = b""
        header = _header(data)
        if header is not None and header[0] and header[:2] == (info.st_mtime_ns, info.st_size):
            result = _load(data, path)
            if result is not None:
                return result
        try:
            digest = hashlib.sha256(Path(absolute).read_bytes()).digest()
        except OSError:
            return None
        if header is not None and header[2] == digest:
            result = _load(data, path)
            if result is not None:
                if not header[0]:
                    self._write(entry, info.st_mtime_ns, info.st_size, digest, result)
                return result
        self._pending[entry] = (info.st_mtime_ns, info.st_size, digest)
        return None

    def put(self, path: str, dotted: str, interest: ir.Interest, result: Result) -> None:
        """Store the result for a file `get` missed; results that depend on the run rather
        than on the file's bytes (a timeout, a crashed worker, a read error) are not kept."""
        if self.readonly or (isinstance(result, ParseProblem) and not result.cacheable):
            return
        entry = self._entry(path, dotted, interest)
        pending = self._pending.pop(entry, None)
        if pending is not None:
            self._write(entry, *pending, result)

    def _entry(self, path: str, dotted: str, interest: ir.Interest) -> Path:
        settings = self._interests.get(interest)
        if settings is None:
            settings = self._interests[interest] = repr(
                (sorted(interest.calls), sorted(interest.attributes), sorted(interest.returns))
            ).encode()
        names = (path.encode(errors="surrogateescape"), dotted.encode(errors="surrogateescape"))
        key = hashlib.sha256(b"\0".join((self._salt, settings, *names)))
        name = key.hexdigest()
        return self.directory / __version__ / name[:2] / name[2:]

    def get_go(
        self,
        settings: str,
        root: Path,
        scanned: Mapping[str, Path],
        sources: Mapping[str, Path],
        recompute: Callable[[], list[base.GoItem]],
    ) -> list[base.GoItem] | None:
        """The cached output of a Go adapter run over `scanned` (reported path → absolute
        path) in a project whose `.go` files are `sources`, or None (then `put_go` may store
        it). `settings` names the adapter and everything of the policy it reads.

        A row's `delay_fn` is code built from the Go source and cannot be stored: a cached row
        that had one gets a stand-in that runs `recompute` (the analysis, once) on its first
        call. Only `simulate` calls it; inventory and check never do."""
        entry = self._go_entry(settings, root, scanned)
        listing = _listing(sources)
        try:
            data = entry.read_bytes()
        except OSError:
            data = b""
        loaded = _load_go(data)
        if loaded is not None and loaded[0] == listing:
            fresh = _fresh(loaded[1])
            if fresh is not None:
                if fresh != loaded[1] and not self.readonly:
                    self._write_go(entry, listing, fresh, loaded[2], loaded[3])
                return _with_delays(loaded, functools.cache(recompute))
        self._go_pending[entry] = _stamps(go_inputs(root, sources))
        return None

    def put_go(
        self,
        settings: str,
        root: Path,
        scanned: Mapping[str, Path],
        sources: Mapping[str, Path],
        items: list[base.GoItem],
    ) -> None:
        """Store the output of a Go run `get_go` missed, with the manifest taken before it ran:
        a file edited while the analysis read it is then a miss next time, never stale."""
        entry = self._go_entry(settings, root, scanned)
        stamps = self._go_pending.pop(entry, None)
        if stamps is not None and not self.readonly:
            self._write_go(entry, _listing(sources), stamps, items)

    def _go_entry(self, settings: str, root: Path, scanned: Mapping[str, Path]) -> Path:
        if self._go_salt is None:
            self._go_salt = salt(_GO_BUILDERS, ("tree_sitter", "tree_sitter_go"))
        names = repr((os.fspath(root), _listing(scanned))).encode(errors="surrogateescape")
        key = hashlib.sha256(b"\0".join((self._go_salt, b"go", settings.encode(), names)))
        name = key.hexdigest()
        return self.directory / __version__ / name[:2] / name[2:]

    def _write_go(
        self,
        entry: Path,
        listing: tuple[tuple[str, str], ...],
        stamps: tuple[_Stamp, ...],
        items: list[base.GoItem],
        deferred: tuple[int, ...] = (),
    ) -> None:
        """`deferred` lists rows of `items` whose delay function was already dropped."""
        stored = [
            dataclasses.replace(item, delay_fn=None)
            if isinstance(item, model.EffectivePolicy) and item.delay_fn is not None
            else item
            for item in items
        ]
        deferred = (*deferred, *(i for i, item in enumerate(items) if stored[i] is not item))
        try:
            payload = pickle.dumps(
                (listing, stamps, stored, deferred), protocol=pickle.HIGHEST_PROTOCOL
            )
        except (RecursionError, pickle.PicklingError):
            return
        with contextlib.suppress(OSError):
            entry.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(entry, _GO_MAGIC + payload)

    def _write(self, entry: Path, mtime_ns: int, size: int, digest: bytes, result: Result) -> None:
        if mtime_ns > time.time_ns() - RACY_SECONDS * 1_000_000_000:
            mtime_ns = 0
        try:
            payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        except (RecursionError, pickle.PicklingError):
            return
        with contextlib.suppress(OSError):
            entry.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(entry, _HEADER.pack(_MAGIC, mtime_ns, size, digest) + payload)


def _header(data: bytes) -> tuple[int, int, bytes] | None:
    if len(data) < _HEADER.size:
        return None
    magic, mtime_ns, size, digest = _HEADER.unpack_from(data)
    return (mtime_ns, size, digest) if magic == _MAGIC else None


class _SummaryUnpickler(pickle.Unpickler):
    """Builds only summary classes: a crafted entry cannot name any other callable."""

    def find_class(self, module: str, name: str) -> type:
        if module == ir.__name__ and isinstance(getattr(ir, name, None), type):
            return getattr(ir, name)  # type: ignore[no-any-return]
        if module == ParseProblem.__module__ and name == ParseProblem.__name__:
            return ParseProblem
        raise pickle.UnpicklingError(f"{module}.{name} is not a summary class")


def _load(data: bytes, path: str) -> Result | None:
    """The entry's result, or None when it is corrupt or names another file."""
    try:
        result = _SummaryUnpickler(io.BytesIO(data[_HEADER.size :])).load()
    except Exception:  # any corruption: unpickling raises many kinds of error
        return None
    if isinstance(result, ir.ModuleSummary | ParseProblem) and result.path == path:
        return result
    return None


def _listing(files: Mapping[str, Path]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((path, os.fspath(absolute)) for path, absolute in files.items()))


def go_inputs(root: Path, sources: Mapping[str, Path]) -> list[Path]:
    """Every file a Go analysis of `sources` may read: the sources, and a `go.mod` in each of
    their folders and every folder above, up to the root (where the analysis looks)."""
    folders: set[str] = set()
    for path in sources:
        current = path.rpartition("/")[0]
        while current not in folders:
            folders.add(current)
            if not current:
                break
            current = current.rpartition("/")[0]
    gomods = [root / f / "go.mod" if f else root / "go.mod" for f in folders]
    return sorted({*sources.values(), *gomods})


def _stamps(paths: Iterable[Path]) -> tuple[_Stamp, ...]:
    """Stat and digest of each path, stats too recent to trust recorded as 0 (racy clean)."""
    recent = time.time_ns() - RACY_SECONDS * 1_000_000_000
    found: list[_Stamp] = []
    for path in paths:
        try:
            info = os.stat(path)
            digest = hashlib.sha256(path.read_bytes()).digest()
        except OSError:
            found.append((os.fspath(path), 0, -1, b""))
            continue
        mtime_ns = info.st_mtime_ns if info.st_mtime_ns <= recent else 0
        found.append((os.fspath(path), mtime_ns, info.st_size, digest))
    return tuple(found)


def _fresh(stamps: tuple[_Stamp, ...]) -> tuple[_Stamp, ...] | None:
    """The stamps again, with the stats now trusted, when every file is as recorded (a file
    recorded absent still absent); None at the first change."""
    recent = time.time_ns() - RACY_SECONDS * 1_000_000_000
    fresh: list[_Stamp] = []
    for stamp in stamps:
        name, mtime_ns, size, digest = stamp
        try:
            info = os.stat(name)
        except OSError:
            if size != -1:
                return None
            fresh.append(stamp)
            continue
        if size == -1:
            return None
        if mtime_ns and (mtime_ns, size) == (info.st_mtime_ns, info.st_size):
            fresh.append(stamp)
            continue
        try:
            if hashlib.sha256(Path(name).read_bytes()).digest() != digest:
                return None
        except OSError:
            return None
        trusted = info.st_mtime_ns if info.st_mtime_ns <= recent else 0
        fresh.append((name, trusted, info.st_size, digest))
    return tuple(fresh)


# Where the classes of Go adapter output live.
_GO_MODULES = frozenset({model.__name__, "retrylint.frameworks.base", ir.__name__})
_VALUES: dict[tuple[str, str], type] = {
    (Fraction.__module__, Fraction.__name__): Fraction,
    (date.__module__, date.__name__): date,
}


class _Restricted(pickle.Unpickler):
    """Builds only the classes of `modules` (looked up in `sys.modules`: the engine has
    imported them by then, so loading an entry imports nothing) and the value types a row
    holds; a crafted entry names nothing else."""

    def __init__(self, data: bytes, modules: frozenset[str]) -> None:
        super().__init__(io.BytesIO(data))
        self._modules = modules

    def find_class(self, module: str, name: str) -> type:
        if module in self._modules:
            found = getattr(sys.modules[module], name, None)
            if isinstance(found, type):
                return found
        value = _VALUES.get((module, name))
        if value is not None:
            return value
        raise pickle.UnpicklingError(f"{module}.{name} is not a class of a cached result")


def restricted_load(data: bytes, modules: frozenset[str]) -> Any:
    """Unpickle a cache entry's payload, building only classes of `modules`; the caller
    checks the shape of what it gets."""
    return _Restricted(data, modules).load()


_GoEntry: TypeAlias = (
    "tuple[tuple[tuple[str, str], ...], tuple[_Stamp, ...], list[base.GoItem], tuple[int, ...]]"
)


class Deferred:
    """A cached row's delay function: the row's own, from the analysis run on first call."""

    def __init__(self, recompute: Callable[[], Sequence[object]], row: model.EffectivePolicy):
        self._recompute = recompute
        self._row = row

    def __call__(self, r: int) -> float:
        # The entry was used only because no input changed, so the analysis yields this row
        # again (`delay_fn` is not part of a row's equality).
        for item in self._recompute():
            if isinstance(item, model.EffectivePolicy) and item == self._row and item.delay_fn:
                return item.delay_fn(r)
        raise RuntimeError(f"{self._row.location.path}: a file changed during the run")


def _with_delays(entry: _GoEntry, recompute: Callable[[], list[base.GoItem]]) -> list[base.GoItem]:
    items = list(entry[2])
    for index in entry[3]:
        row = items[index]
        assert isinstance(row, model.EffectivePolicy)
        items[index] = dataclasses.replace(row, delay_fn=Deferred(recompute, row))
    return items


def _load_go(data: bytes) -> _GoEntry | None:
    """A Go entry's listing, manifest, items and the indices of the rows whose delay function
    was dropped, or None when it is short, corrupt or foreign."""
    if not data.startswith(_GO_MAGIC):
        return None
    from retrylint.frameworks import base

    try:
        listing, stamps, items, deferred = restricted_load(data[len(_GO_MAGIC) :], _GO_MODULES)
    except Exception:  # any corruption: unpickling raises many kinds of error
        return None
    kinds = (model.EffectivePolicy, model.Observation, base.FileProblem, base.FileSuppressions)
    if (
        isinstance(listing, tuple)
        and isinstance(stamps, tuple)
        and all(isinstance(s, tuple) and len(s) == 4 for s in stamps)
        and isinstance(items, list)
        and all(isinstance(item, kinds) for item in items)
        and isinstance(deferred, tuple)
        and all(
            isinstance(i, int) and 0 <= i < len(items) and isinstance(items[i], kinds[0])
            for i in deferred
        )
    ):
        return listing, stamps, items, deferred
    return None


def atomic_write(path: Path, data: bytes) -> None:
    """Write a temporary file beside `path` and rename it over, so readers never see half."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:8]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
