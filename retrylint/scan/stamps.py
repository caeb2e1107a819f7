"""What a cached result was read from, as `stat` sees it, and whether it still is.

Both the run cache (a whole analysis) and the replay of a check (its output) are kept with a
manifest of stamps and used again while every stamp holds. Checking a manifest is the whole
cost of a warm run, and replay checks it before the CLI is even imported, so this module
imports nothing but the standard library's cheapest parts.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import stat
import sys
from collections.abc import Iterable, Sequence

from retrylint import __version__

DEFAULT_DIRECTORY = ".retrylint_cache"
"""Where the caches live, in the project root, unless `--cache-dir` or `cache-dir` says."""
RACY_SECONDS = 2
"""A file changed less than this before a run began may change again within the same clock
tick and look unchanged (git's "racy clean"): results read from it are not kept."""

# A manifest line: absolute path, mtime_ns, ctime_ns and the size of a file, `FOLDER` for a
# folder (its size says nothing of its entries), `ABSENT` for a path that did not exist.
Stamp = tuple[str, int, int, int]
FOLDER = -2
ABSENT = -1
PRESENT = -3  # a marker that exists; its mtime is not recorded


def stamps(
    files: Iterable[str], folders: Iterable[str] = (), markers: Iterable[str] = ()
) -> list[Stamp]:
    """The stamps of `files` and `folders` as they are now, and whether each of `markers`
    exists (a `.git`, whose mtime every commit changes)."""
    found: list[Stamp] = []
    for kind, paths in ((ABSENT, files), (FOLDER, folders)):
        for path in sorted(paths):
            try:
                info = os.stat(path)
            except OSError:
                found.append((path, 0, 0, ABSENT))
                continue
            size = FOLDER if kind == FOLDER and stat.S_ISDIR(info.st_mode) else info.st_size
            found.append((path, info.st_mtime_ns, info.st_ctime_ns, size))
    found.extend((path, 0, 0, PRESENT if os.path.lexists(path) else ABSENT) for path in markers)
    return found


def holds(stamp: Stamp) -> bool:
    """Whether the path is as recorded: same kind, same times, a file of the same size."""
    path, mtime_ns, ctime_ns, size = stamp
    if size == PRESENT:
        return os.path.lexists(path)
    try:
        info = os.stat(path)
    except OSError:
        return size == ABSENT  # a link whose target is missing stays unreadable
    if (info.st_mtime_ns, info.st_ctime_ns) != (mtime_ns, ctime_ns):
        return False
    if size == FOLDER:
        return stat.S_ISDIR(info.st_mode)
    return size != ABSENT and not stat.S_ISDIR(info.st_mode) and info.st_size == size


def is_stamp(item: object) -> bool:
    """Whether a loaded value has a stamp's shape (an entry on disk may be anything)."""
    return (
        isinstance(item, tuple | list)
        and len(item) == 4
        and isinstance(item[0], str)
        and all(type(number) is int for number in item[1:])
    )


def trusted(found: Iterable[Stamp], began_ns: int) -> bool:
    """Whether no path changed so late that a later edit could go unseen: none within
    `RACY_SECONDS` of the run's start, none after it began (a copy that keeps the old mtime,
    `cp -p`, still sets the ctime)."""
    recent = began_ns - RACY_SECONDS * 1_000_000_000
    return not any(mtime > recent or ctime >= began_ns for _, mtime, ctime, _ in found)


def salt(modules: Sequence[str], packages: Sequence[str]) -> bytes:
    """Everything besides the files and the settings that decides what a result is: the
    retrylint `modules` that build it (relative to the package) and the installed `packages`
    it is made with."""
    package = os.path.dirname(os.path.abspath(__file__))
    package = os.path.dirname(package)
    parts = [__version__, f"{sys.version_info[0]}.{sys.version_info[1]}"]
    builders = [os.path.join(package, b) for b in modules]
    for name in packages:
        spec = importlib.util.find_spec(name)  # finds the package without importing it
        if spec is not None and spec.origin:
            builders.append(spec.origin)
    for builder in builders:
        try:
            info = os.stat(builder)
        except OSError:
            continue
        parts.append(f"{os.path.basename(builder)}:{info.st_mtime_ns}:{info.st_size}")
    return "\n".join(parts).encode()


def package_modules() -> list[str]:
    """Every module of retrylint, relative to the package: an edited checkout or an upgrade
    never reads its older self's results."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return sorted(
        os.path.relpath(os.path.join(folder, name), package)
        for folder, _, names in os.walk(package)
        for name in names
        if name.endswith(".py")
    )


def prune(directory: str, kept: int) -> None:
    """Keep the `kept` entries of `directory` used last. A pre-commit hook checks a different
    set of files at each commit, so each run may store an entry under a key never asked
    again; unpruned, they would pile up for the life of the checkout."""
    entries: list[tuple[int, str]] = []
    with contextlib.suppress(OSError), os.scandir(directory) as listing:
        for item in listing:
            if item.name.startswith("."):
                continue  # another run's entry being written (`atomic_write`)
            with contextlib.suppress(OSError):
                entries.append((item.stat().st_mtime_ns, item.path))
    for _, path in sorted(entries, reverse=True)[kept:]:
        with contextlib.suppress(OSError):
            os.unlink(path)
