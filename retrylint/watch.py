"""`check --watch`: run again whenever a scanned file, its folder or the policy file changes,
as `ruff check --watch` does, until Ctrl-C.

It polls modification times (every half second) instead of subscribing to file system events:
no new dependency, the same behaviour on every platform and file system (network mounts and
containers' bind mounts drop inotify events), and a few thousand `stat` calls cost a few
milliseconds. A folder's own time changes when a file is added, removed or renamed in it, so
new task modules are seen too. The clock and the poller are parameters, so the loop is tested
without sleeping.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeAlias

INTERVAL = 0.5
"""Seconds between polls: quick enough to feel immediate after saving a file."""

Stamp: TypeAlias = tuple[int, int] | None
"""(modification time in ns, size), or None for a path that is gone."""
Snapshot: TypeAlias = dict[str, Stamp]


def snapshot(paths: Iterable[Path]) -> Snapshot:
    """The stamp of every path; a size change catches an edit within the clock's resolution."""
    stamps: Snapshot = {}
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            stamps[str(path)] = None
        else:
            stamps[str(path)] = (info.st_mtime_ns, info.st_size)
    return stamps


def watched(files: Iterable[Path], config: Path | None) -> list[Path]:
    """The scanned files, the folders that hold them, and the policy file, sorted."""
    paths = set(files)
    paths |= {path.parent for path in paths}
    if config is not None:
        paths.add(config)
    return sorted(paths)


def watch(
    run: Callable[[], Sequence[Path]],
    between: Callable[[], None],
    *,
    interval: float = INTERVAL,
    sleep: Callable[[float], None] | None = None,
    stamp: Callable[[Iterable[Path]], Snapshot] = snapshot,
) -> None:
    """Call `run` (which returns the paths to watch), then again after every change to them;
    `between` runs before each repeat (it clears the screen). Returns on Ctrl-C.

    A file saved while a run is reading is not lost: the stamps taken before the run stand for
    the paths that were already watched, so the next poll sees the change and runs again.
    """
    wait = sleep or time.sleep
    paths: Sequence[Path] = ()
    try:
        while True:
            before = stamp(paths)
            paths = run()
            seen = stamp(paths)
            seen.update((key, value) for key, value in before.items() if key in seen)
            while stamp(paths) == seen:
                wait(interval)
            between()
    except KeyboardInterrupt:
        return
