"""Which files a run reads (CONTRACTS §1 "Which files"): the only module that walks the file system.

Discovery is deterministic (sorted POSIX paths, relative to the project root) so the report does
not depend on directory order, and it never enters a directory twice (symlink loops, links back
into the tree). It lists directories and reads `.gitignore` files; it reads no source file.

What is left out, and why:

- Never entered, never counted: virtualenvs (recognised by their `pyvenv.cfg`, not by name,
  because teams name them anything), `node_modules`, `.git`/`.hg`/`.svn`, Go `vendor/` folders
  that hold a `modules.txt` (what `go mod vendor` writes; a `vendor/` without one is a source
  folder like any other), and the caches `__pycache__`, `.mypy_cache`, `.pytest_cache`,
  `.ruff_cache` and our own `.retrylint_cache`, which hold bytecode and data, never sources:
  skipping them changes no result and saves walking thousands of files. Everything else is a
  possible source folder, `build/` and `dist/` included; a project that does not want them says
  so in `.gitignore`.
- Test code (`tests/`, `test/`, `testing/` folders; `test_*.py`, `*_test.py`, `tests.py`,
  `conftest*.py`, `*_test.go` files) unless `include-tests = true`: test modules define fake
  tasks whose retry settings are not production's, and a policy linter that judged them would
  drown the real findings. Names are matched case-sensitively, as pytest and `go test` do.
- `.gitignore` matches (unless `respect-gitignore = false`) and `exclude`/`extend-exclude`
  matches (gitignore-style, relative to the project root). A folder is judged before it is
  entered and not entered when ignored, so a negation cannot re-include a file below an ignored
  folder, as in git, and a huge ignored tree (build output, `bazel-*`, data) costs one check.

`.gitignore` files apply as git applies them: the repository's, from its top (the nearest
folder with a `.git`, even above the project root) down to each folder, the deeper file winning.
A folder holding its own `.git` is another repository, and the outer rules stop there. Without a
repository, `.gitignore` files count from the project root down. `.git/info/exclude` and git's
global excludes file are not read: they are personal and uncommitted, and a CI gate must see
the files every developer sees. When the repository ignores the project root itself (a scratch
project in an ignored folder), its rules above the root are dropped: the project was chosen on
purpose, and otherwise nothing would be scanned.

Named paths follow ruff's default: a file named on the command line is scanned whatever these
rules say, because naming one file is asking for it. A folder named on the command line is
searched with every rule, its own path included (judged from the project root down, as `git
add` does), so `retrylint check tests/` finds no test files unless `include-tests = true`. The
project root itself is never judged.

Counting: test folders are entered (listing only) so that their files can be counted one by
one; ignored and excluded folders are counted as folders, because entering them would cost what
pruning saves; never-entered folders are not counted, since they are never project code.

The rules decide which files are scanned for rows. Facts are read wherever the code points
(CONTRACTS §1 Scope): the Python loader follows an import to its file even when it is ignored
or in a test folder (a generated, gitignored settings module still sets values). Go facts come
from the project's `.go` files as this module lists them (`discover` on the root): `go build`
never compiles a `_test.go` file into the program, and Go's generated code is committed by
convention, so the same rules hold there.
"""

from __future__ import annotations

import os
import re
import stat
import warnings
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal, TypeAlias

import pathspec

Language = Literal["python", "go"]
SkipReason = Literal["test", "gitignore", "exclude"]
SKIP_REASONS: tuple[SkipReason, ...] = ("test", "gitignore", "exclude")
"""Why discovery leaves a file out, in the order reports list them."""
FOLDER_REASONS: tuple[SkipReason, ...] = ("gitignore", "exclude")
"""Why it leaves a folder out: a test folder is entered, and its files are counted instead."""

_SUFFIXES: dict[str, Language] = {".py": "python", ".go": "go"}
_NEVER_ENTERED = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".retrylint_cache",
    }
)
_TEST_DIRS = frozenset({"tests", "test", "testing"})
_GITIGNORE = ".gitignore"
# What a folder is, judged before entering it: never entered, pruned for a reason, entered as
# test code (its files are counted, not scanned), or entered.
_Verdict: TypeAlias = Literal["never", "gitignore", "exclude", "test", "enter"]


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: str  # POSIX, relative to the project root
    absolute: Path
    language: Language


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A path that was named or found but cannot be scanned (RL000 or a skip reason)."""

    path: str
    reason: str
    folder: bool = False
    """A folder that could not be listed (permission denied): its files are unknown."""


@dataclass(frozen=True, slots=True)
class FileRules:
    """The policy's say in discovery (CONTRACTS §2), kept apart from `Policy` so that scanning
    does not depend on the config package."""

    exclude: pathspec.GitIgnoreSpec = field(
        default_factory=lambda: pathspec.GitIgnoreSpec.from_lines([])
    )
    """`exclude` and `extend-exclude` together, matched against root-relative paths."""
    include_tests: bool = False
    respect_gitignore: bool = True


@dataclass(frozen=True, slots=True)
class Skipped:
    """Files and folders the rules left out, counted by reason (only non-zero counts)."""

    files: Mapping[SkipReason, int] = field(default_factory=lambda: MappingProxyType({}))
    folders: Mapping[SkipReason, int] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def file_count(self) -> int:
        return sum(self.files.values())


@dataclass(frozen=True, slots=True)
class Discovery:
    files: tuple[SourceFile, ...]
    """Sorted by path."""
    unreadable: tuple[Unreadable, ...]
    skipped: Skipped
    folders: tuple[str, ...] = ()
    """Every folder whose entries the walk looked at, absolute and sorted: while none of them
    gains, loses or renames an entry, the walk would list the same files (a warm run's test)."""
    ignore_files: tuple[str, ...] = ()
    """The `.gitignore` files it looked for, absolute and sorted: their rules (or their
    absence) decided the rest."""
    repositories: tuple[str, ...] = ()
    """The `.git` paths it looked for above the walk: where the repository's rules start."""


def relative(path: Path, root: Path) -> str:
    """The POSIX form of `path` relative to `root`; `..` segments when it lies outside."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return Path(os.path.relpath(path, root)).as_posix()


def is_test_file(name: str) -> bool:
    """Whether a file name is test code by CONTRACTS §1 (the folder it is in aside)."""
    if name.endswith(".go"):
        return name.endswith("_test.go")
    return name.endswith(".py") and (
        name.startswith(("test_", "conftest")) or name.endswith("_test.py") or name == "tests.py"
    )


def discover(paths: Sequence[Path], root: Path, rules: FileRules) -> Discovery:
    """The files of `paths` to scan: named files as they are, named folders by the rules."""
    walker = _Walker(root, rules)
    problems: list[Unreadable] = []
    for given in paths:
        absolute = Path(os.path.abspath(given))
        if not absolute.exists():
            problems.append(Unreadable(relative(absolute, root), "no such file or directory"))
        elif absolute.is_file():
            rel = relative(absolute, root)
            language = _SUFFIXES.get(absolute.suffix)
            if language is None:
                problems.append(Unreadable(rel, "not a .py or .go file"))
            else:
                walker.found.setdefault(rel, SourceFile(rel, absolute, language))
        else:
            walker.walk(str(absolute))
    return walker.result(problems)


@dataclass(frozen=True, slots=True)
class _Patterns:
    """A gitignore-style spec, plus one regex that says whether any of its patterns matches.

    No pattern matches almost every path, and pathspec tries the patterns one by one: with a
    50-line `.gitignore`, that made discovery of a 40,000-file tree 2.5 times slower. The
    combined regex answers "none" in one call; pathspec still decides when one does match.
    """

    spec: pathspec.GitIgnoreSpec
    any_match: re.Pattern[str] | None
    """None when the patterns cannot be combined: every path then goes to pathspec."""

    @classmethod
    def of(cls, spec: pathspec.GitIgnoreSpec) -> _Patterns:
        sources: list[str] = []
        for pattern in spec.patterns:
            if pattern.include is None:
                continue  # a blank line or a comment
            if not isinstance(pattern, pathspec.RegexPattern) or pattern.regex is None:
                return cls(spec, None)
            source = pattern.regex.pattern
            if not isinstance(source, str):
                return cls(spec, None)
            # Alternatives cannot share a group name; the groups only mark directories.
            sources.append(re.sub(r"\(\?P<\w+>", "(?:", source))
        try:
            return cls(spec, re.compile("|".join(f"(?:{s})" for s in sources) or "(?!)"))
        except re.error:
            return cls(spec, None)

    def verdict(self, path: str) -> bool | None:
        """True: ignored; False: re-included by a `!` pattern; None: no pattern matches."""
        if self.any_match is not None and self.any_match.search(path) is None:
            return None
        include: bool | None = self.spec.check_file(path).include
        return include


@dataclass(frozen=True, slots=True)
class _Ignore:
    """One `.gitignore` file: its patterns match paths relative to its folder."""

    prefix: str
    """The folder's absolute path with a trailing separator."""
    patterns: _Patterns


# Matching rules, deepest `.gitignore` last.
_Chain: TypeAlias = tuple[_Ignore, ...]


@dataclass(frozen=True, slots=True)
class _Folder:
    """A folder waiting to be listed, with what its ancestors decided."""

    path: str
    rel: str | None
    """Root-relative POSIX path with a trailing "/" ("" for the root); None outside the root."""
    chain: _Chain
    """The `.gitignore` files of its ancestors (its own is added when it is listed)."""
    tests: bool
    """Inside a test folder: its files are counted, not scanned."""


class _Walker:
    def __init__(self, root: Path, rules: FileRules) -> None:
        self.root = str(root)
        self.root_prefix = os.path.join(self.root, "")
        self.rules = rules
        self.exclude = _Patterns.of(rules.exclude)
        self.found: dict[str, SourceFile] = {}
        self.skipped_files: dict[str, SkipReason] = {}
        self.skipped_folders: dict[str, SkipReason] = {}
        self.seen: set[tuple[int, int]] = set()
        self.gitignores: dict[str, _Ignore | None] = {}
        self.unlisted: list[Unreadable] = []
        self.folders: set[str] = set()
        self.repositories: set[str] = set()

    def result(self, problems: list[Unreadable]) -> Discovery:
        # A file named on the command line is scanned even when a walk also counted it.
        skipped = [r for path, r in self.skipped_files.items() if path not in self.found]
        return Discovery(
            files=tuple(self.found[k] for k in sorted(self.found)),
            unreadable=(*problems, *sorted(self.unlisted, key=lambda u: u.path)),
            skipped=Skipped(
                files=MappingProxyType(dict(Counter(skipped))),
                folders=MappingProxyType(dict(Counter(self.skipped_folders.values()))),
            ),
            folders=tuple(sorted(self.folders)),
            ignore_files=tuple(sorted(os.path.join(d, _GITIGNORE) for d in self.gitignores)),
            repositories=tuple(sorted(self.repositories)),
        )

    def walk(self, start: str) -> None:
        folder = self._start(start)
        stack = [folder] if folder is not None else []
        while stack:
            folder = stack.pop()
            entries = self._list(folder)
            if entries is None:
                continue
            names = {entry.name for entry in entries}
            chain = self._chain_inside(folder.path, folder.chain, names)
            subfolders: list[_Folder] = []
            for entry in entries:
                path = entry.path
                rel = None if folder.rel is None else folder.rel + entry.name
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False  # a symlink loop: reported when the file cannot be read
                if is_dir:
                    if rel is None:
                        rel = self._inside(path)  # a walk from above the project root
                    verdict = self._judge_folder(path, entry.name, rel, chain)
                    if verdict in ("enter", "test"):
                        tests = folder.tests or verdict == "test"
                        child_rel = None if rel is None else f"{rel}/" if rel else ""
                        subfolders.append(_Folder(path, child_rel, chain, tests))
                    elif verdict in ("gitignore", "exclude"):
                        self.skipped_folders[self._display(path, rel)] = verdict
                    continue
                language = _SUFFIXES.get(os.path.splitext(entry.name)[1])
                if language is None:
                    continue
                reason = self._ignored(path, rel, chain, is_dir=False)
                if reason is None and (folder.tests or self._test(entry.name)):
                    reason = "test"
                shown = self._display(path, rel)
                if reason is not None:
                    self.skipped_files[shown] = reason
                else:
                    self.found.setdefault(shown, SourceFile(shown, Path(path), language))
            stack.extend(reversed(subfolders))

    def _start(self, start: str) -> _Folder | None:
        """A named folder, judged from the project root down to it like any folder found.

        The project root, and any folder outside it, are not judged: they are where the
        project is.
        """
        if start == self.root or not start.startswith(self.root_prefix):
            return _Folder(start, "" if start == self.root else None, self._outer(start), False)
        chain = self._outer(self.root)
        current, rel, tests = self.root, "", False
        for part in start[len(self.root_prefix) :].split(os.sep):
            self.folders.add(current)
            present = {n for n in (".git", _GITIGNORE) if os.path.lexists(os.path.join(current, n))}
            chain = self._chain_inside(current, chain, present)
            current, rel = os.path.join(current, part), rel + part
            verdict = self._judge_folder(current, part, rel, chain)
            if verdict == "never":
                return None
            if verdict in ("gitignore", "exclude"):
                self.skipped_folders[rel] = verdict
                return None
            tests = tests or verdict == "test"
            rel += "/"
        return _Folder(start, rel, chain, tests)

    def _list(self, folder: _Folder) -> list[os.DirEntry[str]] | None:
        self.folders.add(folder.path)
        try:
            info = os.stat(folder.path)
            with os.scandir(folder.path) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as err:
            # Reported (RL000), not skipped in silence: a folder the CI user cannot read would
            # otherwise hide its tasks from the gate while the run looks clean.
            rel = None if folder.rel is None else folder.rel.rstrip("/")
            shown = self._display(folder.path, rel) or "."
            self.unlisted.append(Unreadable(shown, err.strerror or str(err), folder=True))
            return None
        key = (info.st_dev, info.st_ino)
        if key in self.seen:  # a symlink loop, or a link back into a tree already walked
            return None
        self.seen.add(key)
        return entries

    def _judge_folder(self, path: str, name: str, rel: str | None, chain: _Chain) -> _Verdict:
        if rel == "":
            return "enter"  # the project root, reached from a folder named above it
        if name in _NEVER_ENTERED:
            return "never"
        self.folders.add(path)  # its own entries decide too (a `pyvenv.cfg`)
        if os.path.isfile(os.path.join(path, "pyvenv.cfg")):
            return "never"
        if name == "vendor" and os.path.isfile(os.path.join(path, "modules.txt")):
            return "never"
        reason = self._ignored(path, rel, chain, is_dir=True)
        if reason is not None:
            return reason
        if name in _TEST_DIRS and not self.rules.include_tests:
            return "test"
        return "enter"

    def _ignored(
        self, path: str, rel: str | None, chain: _Chain, *, is_dir: bool
    ) -> SkipReason | None:
        mark = "/" if is_dir else ""
        if rel is not None and self.exclude.verdict(rel + mark):
            return "exclude"
        for ignore in reversed(chain):  # the deepest file that has a say wins
            verdict = ignore.patterns.verdict(_posix(path[len(ignore.prefix) :]) + mark)
            if verdict is not None:
                return "gitignore" if verdict else None
        return None

    def _test(self, name: str) -> bool:
        return not self.rules.include_tests and is_test_file(name)

    def _inside(self, path: str) -> str | None:
        """The root-relative path of a folder found in a walk that started outside the root."""
        if path == self.root:
            return ""
        return _posix(path[len(self.root_prefix) :]) if path.startswith(self.root_prefix) else None

    def _display(self, path: str, rel: str | None) -> str:
        return rel if rel is not None else relative(Path(path), Path(self.root))

    def _chain_inside(self, directory: str, chain: _Chain, names: Collection[str]) -> _Chain:
        """The rules for the entries of `directory` (whose entry names are `names`): its
        ancestors' plus its own `.gitignore`."""
        if not self.rules.respect_gitignore:
            return ()
        if ".git" in names:
            chain = ()  # another repository: the outer one's rules stop at its top
        if _GITIGNORE in names:
            ignore = self._gitignore(directory)
            if ignore is not None:
                chain = (*chain, ignore)
        return chain

    def _gitignore(self, directory: str) -> _Ignore | None:
        # Several named folders share their ancestors' files: read each once.
        if directory not in self.gitignores:
            self.gitignores[directory] = _read_gitignore(directory)
        return self.gitignores[directory]

    def _outer(self, start: str) -> _Chain:
        """The `.gitignore` files of `start`'s repository above it, from the repository's top."""
        if not self.rules.respect_gitignore or self._repository(start):
            return ()
        above: list[str] = []
        current = start
        while True:
            parent = os.path.dirname(current)
            if parent == current:
                return ()  # no repository: `.gitignore` files count from `start` down
            above.append(parent)
            if self._repository(parent):
                break
            current = parent
        chain: _Chain = ()
        for directory in reversed(above):
            ignore = self._gitignore(directory)
            if ignore is not None:
                chain = (*chain, ignore)
        if chain and self._ignored(start, None, chain, is_dir=True) is not None:
            return ()
        return chain

    def _repository(self, directory: str) -> bool:
        """Whether a repository starts at `directory` (its `.git` a folder, file or link)."""
        marker = os.path.join(directory, ".git")
        self.repositories.add(marker)
        return os.path.lexists(marker)


def _read_gitignore(directory: str) -> _Ignore | None:
    """The folder's `.gitignore`, or None when there is none that git would read.

    git reads a regular file only (not a symlink, since git 2.32; a FIFO would block the run),
    and drops a pattern it cannot parse instead of failing, so this does too.
    """
    path = os.path.join(directory, _GITIGNORE)
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", "surrogateescape")
    except OSError:
        return None
    lines = text.splitlines()
    # A pattern git reads plainly can look ambiguous to Python's `re` (`[[...slug]].tsx`, a
    # Next.js route, gives FutureWarning "Possible nested set"): a warning about the user's
    # .gitignore that they cannot act on, so it is not shown.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        try:
            spec = pathspec.GitIgnoreSpec.from_lines(lines)
        except (ValueError, re.error):
            spec = pathspec.GitIgnoreSpec.from_lines(line for line in lines if _valid(line))
        return _Ignore(os.path.join(directory, ""), _Patterns.of(spec))


def _valid(line: str) -> bool:
    try:
        pathspec.GitIgnoreSpec.from_lines([line])
    except (ValueError, re.error):
        return False
    return True


def _posix(path: str) -> str:
    return path if os.sep == "/" else path.replace(os.sep, "/")


def module_name(rel_path: str, root: Path, source_roots: Sequence[str]) -> str:
    """The dotted module name of a file, from the file system alone (CONTRACTS §3).

    With `source-roots`, the nearest (longest) containing root wins. Without, the name starts
    at the highest ancestor directory that has an `__init__.py`, and directories without one
    between it and the file are part of the name: Python imports them as namespace packages
    (`pkg/sub/tasks/jobs.py` with only `pkg/__init__.py` and `pkg/sub/__init__.py` is
    `pkg.sub.tasks.jobs`). A directory chain with no `__init__.py` at all leaves the stem alone,
    as a script folder is put on `sys.path` itself. Only directories inside the project root
    count. A relative import in the file can prove the name deeper still; extraction applies
    that (`retrylint.python.extract`).
    """
    parts = list(Path(rel_path).with_suffix("").parts)
    for src in sorted(source_roots, key=lambda s: -len(Path(s).parts)):
        src_parts = Path(src).parts if src not in ("", ".") else ()
        if tuple(parts[: len(src_parts)]) == src_parts and len(parts) > len(src_parts):
            parts = parts[len(src_parts) :]
            break
    else:
        directory = (root / rel_path).parent
        keep = 1
        # `parts[-1 - up]` names `directory`, the ancestor `up` levels above the file.
        for up in range(1, len(parts)):
            if parts[-1 - up] in ("..", "."):
                break
            if (directory / "__init__.py").is_file():
                keep = up + 1
            directory = directory.parent
        parts = parts[-keep:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)
