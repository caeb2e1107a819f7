"""Why a run scanned no file at all, in words, for RL004: a run that checked nothing must not pass.

The reason comes from what discovery already counted (test files, `.gitignore`, `exclude`), so
explaining an empty run never walks the tree again.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from retrylint.config.locate import TomlIndex
from retrylint.model import EmptyScan, Location
from retrylint.scan.files import Discovery, SkipReason, relative

# What to say, and what to do, for each reason discovery skipped something.
_REASONS: dict[SkipReason, tuple[str, str]] = {
    "test": ("of test code", "set `include-tests = true` to scan test code"),
    "gitignore": ("ignored by .gitignore", "set `respect-gitignore = false` to scan ignored files"),
    "exclude": ("matched by `exclude`", "narrow `exclude` so it no longer matches the task code"),
}


def explain_empty_scan(
    paths: Sequence[Path], root: Path, config: str | None, discovery: Discovery
) -> EmptyScan:
    """The cause, located at the `exclude` key when that alone emptied the run (the fix goes
    there), else at the first PATH. `config` is the policy file relative to `root`, if any."""
    shown = tuple(relative(p, root) for p in paths)
    at_path = Location(shown[0], 1, 1)
    others = [u.path for u in discovery.unreadable if u.reason == "not a .py or .go file"]
    if others and len(others) == len(paths):
        names = ", ".join(f"`{o}`" for o in others)
        verb = "is not a .py or .go file" if len(others) == 1 else "are not .py or .go files"
        return EmptyScan(
            at_path, shown, f"{names} {verb}", "Pass the .py or .go files or directories to check."
        )
    skipped = discovery.skipped
    reasons = [r for r in _REASONS if skipped.files.get(r) or skipped.folders.get(r)]
    if reasons:
        parts = []
        for reason in reasons:
            files = skipped.files.get(reason, 0)
            folders = skipped.folders.get(reason, 0)
            counted = [
                f"{n} {word}{'' if n == 1 else 's'}"
                for n, word in ((files, "file"), (folders, "folder"))
                if n
            ]
            parts.append(f"{' and '.join(counted)} {_REASONS[reason][0]}")
        fixes = "; ".join(_REASONS[r][1] for r in reasons)
        where = (
            _exclude_location(root, config)
            if reasons == ["exclude"] and config is not None
            else at_path
        )
        return EmptyScan(
            where,
            shown,
            "every .py/.go file there was skipped: " + ", ".join(parts),
            fixes[0].upper() + fixes[1:] + ", or pass other paths.",
        )
    return EmptyScan(
        at_path,
        shown,
        "there is no .py or .go file there outside virtualenvs, node_modules and version-control "
        "folders",
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
