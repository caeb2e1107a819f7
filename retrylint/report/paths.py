"""Where reported paths start: the current directory for people, the repository for CI.

The engine keeps every `Location` relative to the project root (the config file's folder),
because config paths, module names and finding identities are all defined against it. Users
read paths against where they stand, as ruff prints them, and GitHub resolves annotation and
SARIF paths against the repository root; with the config in `server/pyproject.toml` a root-
relative `polar/tasks.py` would point at the wrong file in both (CONTRACTS §1). So renderers
get a report re-based here, once, and never learn about the project root themselves.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from retrylint.engine import Report
from retrylint.model import EffectivePolicy, Finding, Location, Provenance, WorkerLoss

# `path:line` as `Location.__str__` writes it into messages ("explicit at app/tasks.py:12").
# Only source and config files are cited that way; the character class stops at the
# punctuation messages put around a location, so a path with a space in it is left alone
# rather than half rewritten.
_CITED = re.compile(r"(?<![^\s(\[`'\"])([^\s:()\[\]`'\",]+\.(?:py|pyi|go|toml|cfg|ini))(?=:\d)")


def repository_root(project_root: Path) -> Path:
    """`GITHUB_WORKSPACE`, else the git work tree holding the project, else the current
    directory (CONTRACTS §1).

    git is asked from the project root rather than the current directory, so a run started
    from outside the checkout (`retrylint check /src/app`) still reports repository paths.
    """
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace:
        return Path(workspace).resolve()
    try:
        done = subprocess.run(
            ["git", "-C", str(project_root), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        done = None
    if done is not None and done.returncode == 0 and done.stdout.strip():
        return Path(done.stdout.strip()).resolve()
    return Path.cwd().resolve()


def gitlab_root(project_root: Path) -> Path:
    """`CI_PROJECT_DIR`, where GitLab CI checks the repository out, else `repository_root`:
    GitLab resolves Code Quality paths against the repository, as ruff's `gitlab` format does."""
    project_dir = os.environ.get("CI_PROJECT_DIR")
    if project_dir:
        return Path(project_dir).resolve()
    return repository_root(project_root)


def spelled_root(root: Path, targets: Sequence[Path]) -> Path:
    """The project root as the first PATH spells it, symlinks kept.

    The engine resolves symlinks so that every spelling names the same files; people expect
    `retrylint check link` to print `link/app/tasks.py`, as ruff does, not the path from the
    current directory to wherever the link points. Falls back to the resolved root when the
    first PATH is not inside the project or its spelling does not end like its real path.
    """
    if not targets:
        return root
    typed = Path(os.path.abspath(targets[0]))
    try:
        inside = typed.resolve().relative_to(root)
    except (OSError, RuntimeError, ValueError):
        return root
    spelled = typed
    for _ in inside.parts:
        spelled = spelled.parent
    if spelled / inside != typed or spelled.resolve() != root:
        return root
    return spelled


def rebase(report: Report, base: Path, root: Path | None = None) -> Report:
    """The report with every path relative to `base` instead of the project root, including
    the `path:line` citations inside messages, fixes and final-failure descriptions.

    `root` is how to spell the project root (`spelled_root`); by default its real path.
    """
    root = root or report.policy.root
    if base == root:
        return report

    def path(old: str) -> str:
        absolute = os.path.normpath(os.path.join(root, old))
        return Path(os.path.relpath(absolute, base)).as_posix()

    def text(old: str) -> str:
        return _CITED.sub(lambda m: path(m.group(1)), old)

    def location(old: Location) -> Location:
        return replace(old, path=path(old.path))

    def finding(old: Finding) -> Finding:
        return replace(
            old,
            location=location(old.location),
            message=text(old.message),
            fix=None if old.fix is None else text(old.fix),
        )

    def provenance(old: Provenance) -> Provenance:
        moved = None if old.location is None else location(old.location)
        return replace(old, location=moved, note=text(old.note))

    def row(old: EffectivePolicy) -> EffectivePolicy:
        return replace(
            old,
            location=location(old.location),
            sources={key: provenance(value) for key, value in old.sources.items()},
            final_failure=text(old.final_failure),
            undecided=tuple(replace(u, location=location(u.location)) for u in old.undecided),
            broad_triggers=tuple(
                replace(t, location=location(t.location)) for t in old.broad_triggers
            ),
            inert_options=tuple((name, location(at)) for name, at in old.inert_options),
            via=tuple(replace(v, location=location(v.location)) for v in old.via),
            worker_loss=(
                None
                if old.worker_loss is None
                else WorkerLoss(tuple((s, provenance(p)) for s, p in old.worker_loss.settings))
            ),
            paths=tuple(
                replace(
                    p,
                    location=location(p.location),
                    sources={key: provenance(value) for key, value in p.sources.items()},
                )
                for p in old.paths
            ),
        )

    # `../` sorts before names, so a re-based path may order differently: sort again by the
    # same keys the engine used (CONTRACTS §4, §5).
    pairs = sorted(
        ((row(r), a) for r, a in zip(report.rows, report.assignments, strict=True)),
        key=lambda pair: (
            pair[0].name or "",
            pair[0].framework,
            pair[0].location.path,
            pair[0].location.line,
        ),
    )
    return replace(
        report,
        rows=tuple(r for r, _ in pairs),
        assignments=tuple(a for _, a in pairs),
        findings=tuple(sorted((finding(f) for f in report.findings), key=Finding.sort_key)),
        suppressed_findings=tuple(
            sorted(
                ((finding(f), why) for f, why in report.suppressed_findings),
                key=lambda item: item[0].sort_key(),
            )
        ),
    )
