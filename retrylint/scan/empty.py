"""Why a run scanned no file at all, in words, for RL004: a run that checked nothing must not pass.

Called only when discovery returned nothing, so the second walk it may do costs nothing on a
normal run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pathspec

from retrylint.config.locate import TomlIndex
from retrylint.model import EmptyScan, Location
from retrylint.scan.files import Unreadable, discover, relative


def explain_empty_scan(
    paths: Sequence[Path], root: Path, config: str | None, unreadable: Sequence[Unreadable]
) -> EmptyScan:
    """The cause, located at the `exclude` key when that is what emptied the run (the fix goes
    there), else at the first PATH. `config` is the policy file relative to `root`, if any."""
    shown = tuple(relative(p, root) for p in paths)
    at_path = Location(shown[0], 1, 1)
    others = [u.path for u in unreadable if u.reason == "not a .py or .go file"]
    if others and len(others) == len(paths):
        names = ", ".join(f"`{o}`" for o in others)
        verb = "is not a .py or .go file" if len(others) == 1 else "are not .py or .go files"
        return EmptyScan(
            at_path, shown, f"{names} {verb}", "Pass the .py or .go files or directories to check."
        )
    unexcluded, _ = discover(paths, root, pathspec.GitIgnoreSpec.from_lines([]))
    if unexcluded and config is not None:
        count = len(unexcluded)
        which = "the only .py/.go file" if count == 1 else f"all {count} .py/.go files"
        return EmptyScan(
            _exclude_location(root, config),
            shown,
            f"{which} there {'matches' if count == 1 else 'match'} the `exclude` patterns of "
            f"{config}",
            "Narrow `exclude` so it no longer matches the task code, or pass other paths.",
        )
    return EmptyScan(
        at_path,
        shown,
        "there is no .py or .go file there outside virtualenvs, caches and build, dist, "
        "vendor and node_modules directories",
        "Pass the directories that hold the task code.",
    )


def _exclude_location(root: Path, config: str) -> Location:
    """Where `exclude` is written in the config file (its top, if it cannot be read now)."""
    try:
        text = (root / config).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return Location(config, 1, 1)
    prefix = ("tool", "retrylint") if config.rsplit("/", 1)[-1] == "pyproject.toml" else ()
    position = TomlIndex(text).key((*prefix, "exclude"))
    return Location(config, position.line, position.column)
