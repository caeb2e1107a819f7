"""Per-file summaries kept between runs, so a run where nothing changed parses nothing.

An entry belongs to one file read with one set of extraction settings: its name is a hash of
the reported path, the dotted module name, the `ir.Interest` the engine asks for, and a salt of
everything else a summary depends on (retrylint's version, the stat of the modules that build a
summary, so an edited checkout never reads entries of its older self, libcst's installed copy
and the Python version). The entry holds the SHA-256 of the file's bytes and the summary (or
the parse problem) read from those bytes; a different content is a miss, and the new result
replaces the old, so the cache grows with files and settings, not with edits.

A warm run trusts a file's (mtime, size) when they are the ones recorded, and otherwise hashes
it. Recorded stats are only ever ones at least `_RACY_SECONDS` old when written: a file edited
within the same clock tick as the run that cached it cannot then look unchanged (git's "racy
clean" problem).

Entries are written through a temporary file and `os.replace`, so concurrent runs see a whole
entry or none. A short, corrupt or foreign entry is a miss and is rewritten. Entries are
unpickled with a loader that only builds the summary classes, because a repository could
commit a crafted `.retrylint_cache/` and pickle would otherwise run any code it names.

Go files are not cached: the asynq adapter reads tree-sitter trees directly, across packages,
and there is no per-file Go summary to store; a run with no Go task markers never loads
tree-sitter anyway.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import os
import pickle
import struct
import sys
import tempfile
import time
from pathlib import Path

from retrylint import __version__
from retrylint.python import ir
from retrylint.scan.python_parse import ParseProblem

Result = ir.ModuleSummary | ParseProblem

DEFAULT_DIRECTORY = ".retrylint_cache"
_GITIGNORE = "# Written by retrylint; safe to delete.\n*\n"
_MAGIC = b"RLC1"
# magic, mtime_ns, size, SHA-256 of the content; mtime 0 means "hash before trusting".
_HEADER = struct.Struct(f"<{len(_MAGIC)}sqq32s")
_RACY_SECONDS = 2
# What a summary is built by: an edit to any of them changes what a file summarizes to.
_BUILDERS = ("python/ir.py", "python/extract.py", "scan/python_parse.py")


class SummaryCache:
    """Cached `parse_file` results under one directory; every failure to use it is a miss."""

    def __init__(self, directory: Path, *, readonly: bool = False) -> None:
        self.directory = directory
        # Read-only for runs over edited copies (`check --fix` confirming its fixes): their
        # results must not replace the entries of the files as they are on disk.
        self.readonly = readonly
        self._salt = _salt()
        self._interests: dict[ir.Interest, bytes] = {}
        # Stat and digest of files that missed, taken before they are parsed, for `put`.
        self._pending: dict[Path, tuple[int, int, bytes]] = {}

    @classmethod
    def open(cls, directory: Path, *, readonly: bool = False) -> SummaryCache | None:
        """The cache in `directory`, created with a `.gitignore` of `*`; None when it cannot
        be created (a read-only checkout): the run goes on uncached."""
        try:
            directory.mkdir(parents=True, exist_ok=True)
            ignore = directory / ".gitignore"
            if not ignore.exists():
                _atomic_write(ignore, _GITIGNORE.encode())
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

    def _write(self, entry: Path, mtime_ns: int, size: int, digest: bytes, result: Result) -> None:
        if mtime_ns > time.time_ns() - _RACY_SECONDS * 1_000_000_000:
            mtime_ns = 0
        try:
            payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        except (RecursionError, pickle.PicklingError):
            return
        with contextlib.suppress(OSError):
            entry.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(entry, _HEADER.pack(_MAGIC, mtime_ns, size, digest) + payload)


def _salt() -> bytes:
    """Everything besides the file and the settings that decides what a file summarizes to."""
    package = Path(__file__).resolve().parent.parent
    parts = [__version__, f"{sys.version_info[0]}.{sys.version_info[1]}"]
    spec = importlib.util.find_spec("libcst")  # finds the package without importing it
    builders = [package / b for b in _BUILDERS]
    if spec is not None and spec.origin:
        builders.append(Path(spec.origin))
    for builder in builders:
        try:
            info = builder.stat()
        except OSError:
            continue
        parts.append(f"{builder.name}:{info.st_mtime_ns}:{info.st_size}")
    return "\n".join(parts).encode()


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


def _atomic_write(path: Path, data: bytes) -> None:
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
