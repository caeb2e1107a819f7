"""Diff mode (`check --diff-base REF`): only findings whose task could have changed since REF.

A pull request should answer for the retry policies it touches, not for every legacy finding of
the repository; "review policies whenever task types are added or modified" is enforceable in CI
only if the run can tell which tasks a change reaches. `git` says which lines changed; this
module decides which findings those lines can reach, erring towards keeping a finding: a finding
wrongly left out hides exactly the problem the pull request introduced, while one wrongly kept
costs a reader a glance.

What counts as a change:

- **Merge-base semantics**, as `git diff REF...` and the ruff/pre-commit tooling use: the changes
  since the commit where HEAD forked from REF, so a `--diff-base origin/main` job does not
  answer for commits that landed on main after the branch was cut. When REF is an ancestor of
  HEAD (`HEAD~1`) that commit is REF itself.
- **The working tree** is compared, not HEAD: staged, unstaged and untracked (not ignored) files
  count, because the engine analyzes the files on disk.

Which findings a changed line reaches (Python files are read with `ast` for their layout):

- a row's **own region**: the decorated `def`/`class` of a definition, the function around an
  enqueue call (the statement, at module level), from the first decorator to the end of the body;
- the region around each location the row **cites**: provenance (`sources`), `via` wrappers,
  undecided values, broad triggers and ignored options, so a change in a base class attribute,
  a wrapper or a config module the row cites reaches it;
- **shared code**: a changed line in a module that is not inside any row's own region (a
  constant, a base class, an app's configuration, a helper) reaches every row of that module and
  of the modules that import it directly (Django settings modules: of every module importing
  `django.conf`); a deleted or new module likewise. Values two imports away are not followed;
- Go files have no layout here: a changed `.go` file reaches every Go row of its package folder;
- the policy file or a file framework versions are read from (lock files, requirements,
  `go.mod`): every finding is kept, and the summary says so, since a `[tasks]`, `[categories]`,
  `[assume]` or version change may reach any task.

Findings without a task follow the same spirit: RL000 and suppression findings when their lines
changed, RL004 when any source file changed; RL402 (a `[tasks]` key matching nothing) only when
the policy changed, so a task deleted without its entry shows up in a full run only.
"""

from __future__ import annotations

import ast
import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath

from retrylint.engine import Report
from retrylint.model import EffectivePolicy, Finding, Location, UsageError
from retrylint.scan.files import module_name, relative

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_VERSION_FILES = ("poetry.lock", "uv.lock", "Pipfile.lock", "go.mod", "go.sum")
# Findings about suppression comments: the comment sits on the line above what it silences.
_COMMENT_RULES = frozenset({"RL001", "RL003"})


class DiffError(UsageError):
    """`--diff-base` cannot be honoured (no git, not a repository, unknown REF): exit 2."""


@dataclass(frozen=True)
class FileChange:
    """What changed in one file, in the line numbers of the working tree."""

    lines: frozenset[int] = frozenset()
    # Lines after which text was removed: `c` means between lines c and c + 1.
    deletions: frozenset[int] = frozenset()
    # New, untracked, deleted or binary: every line counts.
    whole: bool = False


@dataclass(frozen=True)
class Changes:
    base: str
    """REF as the user gave it."""
    merge_base: str
    """The commit compared with the working tree."""
    files: dict[str, FileChange]
    """Project-root relative POSIX path → its change; files outside the project root are left
    out, as nothing there is analyzed."""


@dataclass(frozen=True)
class Outcome:
    """What diff mode did to one run, for the reports."""

    base: str
    merge_base: str
    left_out: int
    """Findings dropped as unchanged since the merge base."""
    kept_all: str | None
    """Why every finding was kept (the policy file changed), else None."""


def _git(top: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-C", str(top), *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="surrogateescape",
            check=False,
        )
    except FileNotFoundError:
        raise DiffError("--diff-base needs git, and no `git` command was found") from None


def changes(root: Path, ref: str) -> Changes:
    """The files and lines changed between the merge base of REF and HEAD, and the working tree.

    Every way this can fail is one `DiffError` line naming what to do.
    """
    found = _git(root, "rev-parse", "--show-toplevel")
    if found.returncode != 0:
        raise DiffError(f"--diff-base {ref}: {root} is not inside a git repository")
    top = Path(found.stdout.strip())
    # `--end-of-options`: a REF spelled like an option must not become one.
    commit = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    if commit.returncode != 0 or not commit.stdout.strip():
        raise DiffError(
            f"--diff-base {ref}: no such commit in this repository; check the name, or fetch it "
            "first (`git fetch origin main`)"
        )
    base = _git(top, "merge-base", commit.stdout.strip(), "HEAD")
    if base.returncode != 0 or not base.stdout.strip():
        raise DiffError(
            f"--diff-base {ref}: no common ancestor with HEAD; in a shallow clone fetch the "
            "history (actions/checkout `fetch-depth: 0`)"
        )
    merge_base = base.stdout.strip()
    options = ("--no-renames", "--no-ext-diff", "--no-textconv", "--ignore-submodules")
    listed = _git(top, "diff", "--name-status", "-z", *options, merge_base, "--")
    prefixes = ("--src-prefix=a/", "--dst-prefix=b/")  # whatever diff.noprefix says
    patch = _git(
        top,
        "-c",
        "core.quotePath=false",
        "diff",
        "-U0",
        "--no-color",
        *options,
        *prefixes,
        merge_base,
        "--",
    )
    untracked = _git(top, "ls-files", "--others", "--exclude-standard", "-z", "--full-name")
    for result in (listed, patch, untracked):
        if result.returncode != 0:
            detail = result.stderr.strip().splitlines()[-1:] or ["git failed"]
            raise DiffError(f"--diff-base {ref}: {detail[0]}")
    by_top: dict[str, FileChange] = {}
    hunks = _hunks(patch.stdout)
    fields = listed.stdout.split("\0")
    for status, path in zip(fields[0::2], fields[1::2], strict=False):
        lines, deletions = hunks.get(path, (set(), set()))
        whole = status in ("A", "D", "T") or not (lines or deletions)
        by_top[path] = FileChange(frozenset(lines), frozenset(deletions), whole)
    for path in filter(None, untracked.stdout.split("\0")):
        by_top[path] = FileChange(whole=True)
    project = root.resolve()
    files: dict[str, FileChange] = {}
    for path, change in by_top.items():
        inside = relative((top / path).resolve(), project)
        if not inside.startswith("../"):
            files[inside] = change
    return Changes(ref, merge_base, files)


def _hunks(patch: str) -> dict[str, tuple[set[int], set[int]]]:
    """Changed lines and deletion points per file of a `git diff -U0`.

    A path git had to quote (tabs, newlines) is not recognised; its file then counts as
    changed as a whole, which keeps more findings, never fewer.
    """
    out: dict[str, tuple[set[int], set[int]]] = {}
    current: tuple[set[int], set[int]] | None = None
    for line in patch.splitlines():
        if line.startswith("diff --git "):
            current = None
        elif line.startswith("+++ b/"):
            current = out.setdefault(line[len("+++ b/") :], (set(), set()))
        elif current is not None and (match := _HUNK.match(line)):
            start, count = int(match[1]), int(match[2] or 1)
            if count:
                current[0].update(range(start, start + count))
            else:
                current[1].add(start)
    return out


@dataclass(frozen=True)
class _Layout:
    """The def/class blocks and top-level statements of a Python file, decorators included."""

    blocks: tuple[tuple[int, int], ...]
    statements: tuple[tuple[int, int], ...]

    def region(self, line: int) -> tuple[int, int]:
        """The innermost def/class around `line`, else its top-level statement, else the line."""
        inside = [b for b in self.blocks if b[0] <= line <= b[1]]
        if inside:
            return min(inside, key=lambda b: b[1] - b[0])
        return next((s for s in self.statements if s[0] <= line <= s[1]), (line, line))

    def is_code(self, line: int) -> bool:
        """Whether a line belongs to a statement (not a blank or comment line between them)."""
        return any(s[0] <= line <= s[1] for s in self.statements)


def _extent(node: ast.stmt) -> tuple[int, int]:
    decorators = getattr(node, "decorator_list", [])
    first = min([node.lineno, *(d.lineno for d in decorators)])
    return first, node.end_lineno or node.lineno


def _parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return None


def _layout(tree: ast.Module) -> _Layout:
    blocks = tuple(
        _extent(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    )
    return _Layout(blocks, tuple(_extent(node) for node in tree.body))


def _imports(tree: ast.Module, module: str, package: bool) -> frozenset[str]:
    """Every dotted name a module imports, relative imports resolved; `from a import b` gives
    `a` and `a.b`, since `b` may be a submodule."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            parts: list[str] = []
            if node.level:
                # `from . import x` in a package's `__init__` starts at the package itself.
                parts = module.split(".") if module else []
                parts = parts[: len(parts) - node.level + (1 if package else 0)]
            start = ".".join([*parts, *([node.module] if node.module else [])])
            if start:
                names.add(start)
            names.update(f"{start}.{a.name}".lstrip(".") for a in node.names if a.name != "*")
    return frozenset(names)


@dataclass
class _Reach:
    """Which rows and places the changes of one run reach; built once, asked per finding."""

    report: Report
    changes: Changes
    _layouts: dict[str, _Layout | None] = field(default_factory=dict)
    _imported: dict[str, bool] = field(default_factory=dict)

    def layout(self, path: str) -> _Layout | None:
        if path not in self._layouts:
            tree = _parse(self.report.policy.root / path) if path.endswith(".py") else None
            self._layouts[path] = _layout(tree) if tree is not None else None
        return self._layouts[path]

    def region(self, path: str, line: int) -> tuple[int, int]:
        layout = self.layout(path)
        return layout.region(line) if layout is not None else (line, line)

    def touched(self, path: str, first: int, last: int) -> bool:
        """Whether a change reaches lines first..last of `path` (a deletion next to them too)."""
        change = self.changes.files.get(path)
        if change is None:
            return False
        return (
            change.whole
            or any(first <= n <= last for n in change.lines)
            or any(first - 1 <= n <= last for n in change.deletions)
        )

    def place_touched(self, location: Location) -> bool:
        if location.path not in self.changes.files:
            return False  # no need to read the file
        return self.touched(location.path, *self.region(location.path, location.line))

    @cached_property
    def owned(self) -> dict[str, list[tuple[tuple[int, int], EffectivePolicy]]]:
        """Per changed Python file, each row's own region."""
        out: dict[str, list[tuple[tuple[int, int], EffectivePolicy]]] = {}
        for row in self.report.rows:
            if row.location.path.endswith(".py") and row.location.path in self.changes.files:
                region = self.region(row.location.path, row.location.line)
                out.setdefault(row.location.path, []).append((region, row))
        return out

    @cached_property
    def shared(self) -> frozenset[str]:
        """Python files with a change outside every row's own region: it may reach any row of
        the file and of the files importing it."""
        out: set[str] = set()
        for path, change in self.changes.files.items():
            if not path.endswith(".py"):
                continue
            layout = self.layout(path)
            if change.whole or layout is None:
                out.add(path)
                continue
            regions = [region for region, _ in self.owned.get(path, ())]
            loose = [n for n in change.lines if layout.is_code(n)]
            if any(not any(a <= n <= b for a, b in regions) for n in loose) or any(
                not any(a <= n and n + 1 <= b for a, b in regions) for n in change.deletions
            ):
                out.add(path)
        return frozenset(out)

    @cached_property
    def shared_modules(self) -> frozenset[str]:
        policy = self.report.policy
        names = {module_name(path, policy.root, policy.source_roots) for path in self.shared}
        settings = {
            s.settings_module for s in policy.frameworks.values() if s.settings_module is not None
        }
        # `from django.conf import settings` reaches the settings module without naming it.
        if any(n in settings or "settings" in n.split(".") for n in names):
            names.add("django.conf")
        return frozenset(n for n in names if n)

    def imports_shared(self, path: str) -> bool:
        if path not in self._imported:
            self._imported[path] = self._imports_shared(path)
        return self._imported[path]

    def _imports_shared(self, path: str) -> bool:
        if not self.shared_modules:
            return False
        tree = _parse(self.report.policy.root / path)
        if tree is None:
            return True  # cannot tell: keep
        policy = self.report.policy
        module = module_name(path, policy.root, policy.source_roots)
        imported = _imports(tree, module, path.endswith("__init__.py"))
        return any(
            name == changed or name.startswith(changed + ".")
            for name in imported
            for changed in self.shared_modules
        )

    @cached_property
    def go_packages(self) -> frozenset[str]:
        return frozenset(
            str(PurePosixPath(path).parent) for path in self.changes.files if path.endswith(".go")
        )

    @cached_property
    def rows(self) -> frozenset[int]:
        """Indexes (in `report.rows`) of the rows a change reaches."""
        return frozenset(i for i, row in enumerate(self.report.rows) if self._row(row))

    def _row(self, row: EffectivePolicy) -> bool:
        path = row.location.path
        if path.endswith(".go"):
            if str(PurePosixPath(path).parent) in self.go_packages:
                return True
        elif path in self.shared or self._owns_change(row):
            return True
        if any(self.place_touched(place) for place in _citations(row)):
            return True
        return path.endswith(".py") and self.imports_shared(path)

    def _owns_change(self, row: EffectivePolicy) -> bool:
        if row.location.path not in self.changes.files:
            return False
        region = self.region(row.location.path, row.location.line)
        lines = [*row.suppression_lines, row.location.line]
        return self.touched(row.location.path, *region) or any(
            self.touched(row.location.path, n, n) for n in lines
        )

    @cached_property
    def any_source(self) -> bool:
        return any(p.endswith((".py", ".go")) for p in self.changes.files)

    def keeps(self, finding: Finding) -> bool:
        if finding.rule == "RL004":
            return self.any_source
        if finding.rule == "RL402":
            return False  # the policy did not change, or everything would have been kept
        rows = self._rows_of(finding)
        if any(i in self.rows for i in rows):
            return True
        location = finding.location
        places = [location, *(_at(location, n) for n in finding.anchor_lines)]
        if finding.rule in _COMMENT_RULES:
            places.append(_at(location, location.line + 1))
        return any(self.place_touched(place) for place in places)

    def _rows_of(self, finding: Finding) -> Iterator[int]:
        """The rows a finding speaks for: by task name, framework, site (and, for an enqueue
        site, its file and function); a row without a name by its place."""
        names = {*finding.tasks, *([finding.task] if finding.task else [])}
        for index, row in enumerate(self.report.rows):
            if finding.framework is not None and row.framework != finding.framework:
                continue
            if finding.site is not None and row.site != finding.site:
                continue
            if row.name is not None and row.name in names:
                if finding.site != "enqueue" or (
                    row.location.path == finding.location.path and row.scope == finding.scope
                ):
                    yield index
            elif row.name is None and row.location.path == finding.location.path:
                first, last = self.region(finding.location.path, finding.location.line)
                if first <= row.location.line <= last:
                    yield index


def _at(location: Location, line: int) -> Location:
    return Location(location.path, line, 1)


def _citations(row: EffectivePolicy) -> Iterable[Location]:
    """Every place a row cites as where its values come from."""
    for provenance in row.sources.values():
        if provenance.location is not None:
            yield provenance.location
    yield from (via.location for via in row.via)
    yield from (undecided.location for undecided in row.undecided)
    yield from (trigger.location for trigger in row.broad_triggers)
    yield from (location for _, location in row.inert_options)
    if row.worker_loss is not None:
        yield from (p.location for _, p in row.worker_loss.settings if p.location is not None)


def _kept_all(report: Report, changes: Changes) -> str | None:
    """Why a change may reach every task, or None."""
    config = report.policy.path
    if config is not None and config in changes.files:
        return f"the policy file {config} changed"
    for path in sorted(changes.files):
        name = PurePosixPath(path).name
        if name in _VERSION_FILES or (name.startswith("requirements") and name.endswith(".txt")):
            return f"{path} changed, which framework versions are read from"
    return None


def apply(report: Report, changes: Changes) -> tuple[tuple[Finding, ...], Outcome]:
    """The findings a change since the merge base may have caused, and what was left out."""
    reason = _kept_all(report, changes)
    if reason is not None:
        kept = report.findings
    else:
        reach = _Reach(report, changes)
        kept = tuple(f for f in report.findings if reach.keeps(f))
    left_out = len(report.findings) - len(kept)
    return kept, Outcome(changes.base, changes.merge_base, left_out, reason)
