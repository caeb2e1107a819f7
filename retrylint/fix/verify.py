"""Keep a planned fix only if the code it produces really clears its finding.

The planner guesses from the report; the resolver knows. So every fix is applied to a copy of
the project, the copy is analysed again by the same engine, and a fix survives only if

- its finding is gone (for several findings of one identity, enough of them are gone),
- no finding appears for its task that was not there before, and
- for a bound, the task now resolves to exactly the intended number of retries. A bound is
  first written as a count of runs (`n + 1`); where the resolver reads that back as `n + 1`
  retries, the framework counts retries and the fix switches to `n`, checked in the next round.

Rounds repeat with the failing fixes dropped or switched until a round changes nothing; each
fix is switched at most once and dropped at most once (a round whose edits cannot all be
applied drops one fix), so this ends. The copy lives in a
temporary folder and is never the user's tree.
"""

from __future__ import annotations

import difflib
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from retrylint.engine import Report
from retrylint.fix.edits import Edit, GoReplace, Keyword, PythonEdit, path_of
from retrylint.fix.go_edits import GoEditFailed, apply_go
from retrylint.fix.plan import Fix, Identity, identity
from retrylint.fix.python_edits import EditFailed, apply_python, passed_by_call
from retrylint.model import EffectivePolicy

# Folders never copied: version control, environments, caches (a copy must stay cheap).
_SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", "node_modules", "__pycache__", ".tox", ".nox", ".retrylint_cache"}
)
# Files copied: sources, and what configuration and version detection read.
_KEPT_SUFFIXES = frozenset({".py", ".pyi", ".go", ".mod", ".sum", ".toml", ".lock", ".txt", ".cfg"})
_KEPT_NAMES = frozenset({".gitignore", "Pipfile"})


@dataclass(frozen=True)
class Verified:
    """The fixes that passed, the edits each uses, and the new bytes of every changed file."""

    fixes: tuple[Fix, ...]
    files: dict[str, bytes]


@contextmanager
def project_copy(root: Path) -> Iterator[Path]:
    """A throw-away copy of the project's sources and of the files the engine reads besides
    (policy, lock and requirements files, `go.mod`, `.gitignore`), symlinks kept as links; data,
    build output and environments stay behind, so a copy costs little more than a scan."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        here = Path(directory)
        skipped: set[str] = set()
        for name in names:
            path = here / name
            if path.is_dir() and not path.is_symlink():
                if name in _SKIPPED_DIRS or (path / "pyvenv.cfg").is_file():
                    skipped.add(name)
            elif path.suffix not in _KEPT_SUFFIXES and name not in _KEPT_NAMES:
                skipped.add(name)
        return skipped

    with tempfile.TemporaryDirectory(prefix="retrylint-fix-") as temporary:
        copy = Path(temporary).resolve() / root.name
        shutil.copytree(root, copy, symlinks=True, ignore=ignore)
        yield copy


def apply_edits(root: Path, edits: Sequence[Edit]) -> dict[str, bytes]:
    """The new bytes of each file the edits touch; raises `EditFailed`/`GoEditFailed`."""
    by_path: dict[str, list[Edit]] = {}
    for edit in edits:
        by_path.setdefault(path_of(edit), []).append(edit)
    files: dict[str, bytes] = {}
    for path, group in sorted(by_path.items()):
        source = (root / path).read_bytes()
        go = [e for e in group if isinstance(e, GoReplace)]
        python: list[PythonEdit] = [e for e in group if not isinstance(e, GoReplace)]
        files[path] = apply_go(source, path, go) if go else apply_python(source, python)
    return files


def keep_confirmed(
    report: Report,
    fixes: Sequence[Fix],
    analyze: Callable[[Path], Report],
    root: Path,
    copy: Path,
) -> Verified:
    """The subset of `fixes` whose edits clear their findings in `copy` (a project copy that
    `analyze` runs the engine on); `root` holds the original files."""
    active: dict[int, tuple[Edit, ...]] = {
        i: (f.as_runs if f.bound is not None else f.edits) for i, f in enumerate(fixes)
    }
    before = Counter(identity(f) for f in report.findings)
    written: set[str] = set()
    for _ in range(3 * len(fixes) + 2):
        if not active:
            break
        files = _build(root, fixes, active)
        if files is None:
            continue
        for path in written - files.keys():
            (copy / path).write_bytes((root / path).read_bytes())
        for path, data in files.items():
            (copy / path).write_bytes(data)
        written = set(files)
        after = analyze(copy)
        changed = _judge(report, fixes, active, before, after, root, files)
        if not changed:
            kept = tuple(
                Fix(f.finding, f.row, f.applicability, active[i], (), f.bound)
                for i, f in enumerate(fixes)
                if i in active
            )
            return Verified(kept, files)
    return Verified((), {})


def _build(
    root: Path, fixes: Sequence[Fix], active: dict[int, tuple[Edit, ...]]
) -> dict[str, bytes] | None:
    """Apply every active fix's edits; a fix whose edit fails or collides with an earlier
    fix's edit is dropped from `active`, and None asks for another try without it."""
    owner: dict[Edit, int] = {}
    places: dict[tuple[object, ...], str] = {}
    for index in sorted(active):
        for edit in active[index]:
            if isinstance(edit, Keyword) and edit.overrides is not None:
                shadow = edit.overrides
                if shadow.path.endswith(".py") and passed_by_call(
                    (root / shadow.path).read_bytes(), shadow
                ):
                    del active[index]
                    return None
            if isinstance(edit, Keyword):
                place = (edit.at, edit.keyword, edit.inner)
                if places.setdefault(place, edit.code) != edit.code:
                    del active[index]
                    return None
            owner.setdefault(edit, index)
    try:
        # Two fixes may need the same edit (two tasks of one `"*"` annotation): made once.
        return apply_edits(root, list(dict.fromkeys(e for i in sorted(active) for e in active[i])))
    except (EditFailed, GoEditFailed) as err:
        del active[owner[err.edit]]
        return None


def _judge(
    report: Report,
    fixes: Sequence[Fix],
    active: dict[int, tuple[Edit, ...]],
    before: Counter[Identity],
    after_report: Report,
    root: Path,
    files: dict[str, bytes],
) -> bool:
    """Drop or switch the fixes the re-analysis contradicts; True when any was."""
    after = Counter(identity(f) for f in after_report.findings)
    targeted = Counter(identity(fixes[i].finding) for i in active)
    tasks_before = _by_task(before)
    tasks_after = _by_task(after)
    switched = False
    # Bounds first: a bound still written as a count of runs may read as one retry too many
    # and give RL102 for its task, which says nothing of the task's other fixes. Those are
    # judged only in a round where every bound is final.
    for index in sorted(active):
        fix = fixes[index]
        if fix.bound is None or active[index] != fix.as_runs:
            continue
        row = _row_after(fix.row, after_report.rows, root, files)
        if row is not None and row.max_retries == fix.bound + 1:
            active[index] = fix.edits  # the option counts retries: write n, not n + 1
            switched = True
    if switched:
        return True
    changed = False
    for index in sorted(active):
        fix = fixes[index]
        key = identity(fix.finding)
        task = (fix.row.name, fix.row.framework)
        ok = after[key] <= before[key] - targeted[key]
        ok = ok and tasks_after.get(task, set()) <= tasks_before.get(task, set())
        if ok and fix.bound is not None:
            row = _row_after(fix.row, after_report.rows, root, files)
            ok = row is not None and row.max_retries == fix.bound
        if not ok:
            del active[index]
            changed = True
    return changed


def _by_task(counts: Counter[Identity]) -> dict[tuple[str | None, str | None], set[Identity]]:
    tasks: dict[tuple[str | None, str | None], set[Identity]] = {}
    for key, number in counts.items():
        if number:
            tasks.setdefault((key[2], key[1]), set()).add(key)
    return tasks


def _row_after(
    row: EffectivePolicy, rows: Sequence[EffectivePolicy], root: Path, files: dict[str, bytes]
) -> EffectivePolicy | None:
    """The re-analysed row of `row`: same task and site, at its line as moved by the edits."""
    path = row.location.path
    line = row.location.line
    if path in files:
        old = (root / path).read_bytes().decode("utf-8", "replace").splitlines()
        new = files[path].decode("utf-8", "replace").splitlines()
        line = _moved(old, new, line)
    return next(
        (
            r
            for r in rows
            if (r.name, r.framework, r.site, r.scope, r.location.path, r.location.line)
            == (row.name, row.framework, row.site, row.scope, path, line)
        ),
        None,
    )


def _moved(old: list[str], new: list[str], line: int) -> int:
    """Where 1-based `line` of `old` is in `new`: shifted by the lines inserted above it."""
    for tag, i1, i2, j1, _ in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if i1 <= line - 1 < i2 and tag in ("equal", "replace"):
            return j1 + (line - 1 - i1) + 1
    return line
