"""Write fixed files so that nothing can be left half-written, and show fixes as a diff.

A fix is written to a temporary file in the same folder and moved over the original with
`os.replace`, which is atomic on one file system: an interrupted run leaves either the old file
or the new one. The new file keeps the old one's permission bits.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data`, keeping its mode; raises OSError and leaves `path` as it was."""
    mode = stat.S_IMODE(path.stat().st_mode)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def unified_diff(files: Mapping[str, tuple[bytes, bytes]], shown: Mapping[str, str]) -> str:
    """One unified diff of every changed file, in path order; `shown` spells each path as the
    report does (relative to the current directory)."""
    chunks: list[str] = []
    for path in sorted(files):
        old, new = files[path]
        name = shown.get(path, path)
        chunks.extend(
            difflib.unified_diff(
                old.decode("utf-8", "replace").splitlines(keepends=True),
                new.decode("utf-8", "replace").splitlines(keepends=True),
                fromfile=f"a/{name}",
                tofile=f"b/{name}",
            )
        )
    return "".join(chunks)
