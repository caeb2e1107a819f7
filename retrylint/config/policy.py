"""The policy file (CONTRACTS §1-2): discovery, strict validation, and task-to-category assignment.

The whole file is validated before anything is scanned, and the first problem is raised as a
`ConfigError` located at `path:line:col`: a misspelled key that silently loosened the policy
would let every build pass. The loaded `Policy` is immutable and is the only thing later stages
read, so they never see raw TOML.
"""

from __future__ import annotations

import contextlib
import difflib
import fnmatch
import functools
import json
import os
import re
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from fractions import Fraction
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import ParamSpec, TypeVar

import pathspec

from retrylint.config.locate import KeyPath, TomlIndex, decode_error_position
from retrylint.durations import DurationError, format_duration, parse_duration
from retrylint.model import BACKOFF_ORDER, Assignment, BackoffKind, Category, Location

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

CONFIG_NAMES = ("retrylint.toml", ".retrylint.toml")
"""Dedicated config files, in the order CONTRACTS §1 looks for them in one directory."""
PYPROJECT = "pyproject.toml"
SEVERITY_WORDS = ("error", "warning", "note", "off")

BUILTIN_CATEGORY = Category(
    name="default", max_retries=10, backoff="exponential", jitter=True, location=None
)
"""The one category of the built-in policy (CONTRACTS §2); it has no location in any file."""

_TOP_KEYS = (
    "exclude",
    "extend-exclude",
    "include-tests",
    "respect-gitignore",
    "source-roots",
    "cache-dir",
    "default-category",
    "frameworks",
    "categories",
    "tasks",
    "rules",
    "assume",
    "baseline",
    "select",
    "extend-select",
    "ignore",
    "per-file-ignores",
    "review-every",
)
_FRAMEWORK_KEYS = ("task-decorators", "version", "settings-module")
_CATEGORY_KEYS = (
    "description",
    "max-retries",
    "backoff",
    "jitter",
    "max-window",
    "min-window",
    "dead-letter",
    "alert",
    "alert-exhausted-rate",
    "alert-queue-length",
    "review-every",
)
_RETRY_BOUND_KEYS = ("min", "max")
_TASK_KEYS = ("category", "owner", "note", "reviewed", "idempotent", "rate")
T = TypeVar("T")
P = ParamSpec("P")

# RL002 reports what retrylint could not read; hiding it would make a blind run look clean.
_FIXED_SEVERITY_RULES = ("RL002",)

_RATE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*/\s*([smhd])\s*")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION_HELP = (
    'write a whole number with a unit s, m, h or d ("90s", "15m", "6h", "2d"), units from the '
    'largest down ("1h30m", "2d12h"), or a whole number of seconds (900)'
)
_DOTTED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_VERSION = re.compile(r"[0-9][0-9A-Za-z.+!-]*")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_GLOB_CHARS = frozenset("*?[")
_WILDCARD_CHARS = frozenset("*?[]")
# Used only when a pyproject.toml does not parse: if it visibly declares the table, discovery
# must pick it so that the syntax error is reported instead of silently using another policy.
_RETRYLINT_HEADER = re.compile(r"^[ \t]*\[[ \t]*tool[ \t]*\.[ \t]*retrylint[ \t]*[\].]", re.M)


class ConfigError(Exception):
    """A policy file retrylint refuses to run with (exit 2).

    `message` says what is wrong and, after a semicolon, what to write instead.
    """

    def __init__(self, path: str, line: int, column: int, message: str) -> None:
        super().__init__(path, line, column, message)
        self.path = path
        self.line = line
        self.column = column
        self.message = message

    @property
    def errors(self) -> tuple[ConfigError, ...]:
        """Every mistake this refusal reports, in file order."""
        return (self,)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class ConfigErrors(ConfigError):
    """Every mistake found in one policy file, so a user fixes them in one round instead of
    one run per typo. It is a `ConfigError` located at the first mistake, so callers that
    handle one error handle all; `str()` is one located line per mistake, sorted by position.
    """

    def __init__(self, errors: Iterable[ConfigError]) -> None:
        unique = {(e.path, e.line, e.column, e.message): e for e in errors}
        ordered = tuple(unique[key] for key in sorted(unique, key=lambda k: (k[1], k[2], k[3])))
        first = ordered[0]
        super().__init__(first.path, first.line, first.column, first.message)
        self._errors = ordered

    @property
    def errors(self) -> tuple[ConfigError, ...]:
        return self._errors

    def __str__(self) -> str:
        return "\n".join(ConfigError.__str__(error) for error in self._errors)


@dataclass(frozen=True, slots=True)
class FrameworkSettings:
    """One `[frameworks.<fw>]` table; the adapter interprets it."""

    task_decorators: tuple[str, ...] = ()
    """Dotted names of project functions that wrap the framework's task decorator."""
    version: str | None = None
    """Overrides the version the adapter would detect; None means detect."""
    settings_module: str | None = None
    task_decorator_errors: tuple[ConfigError, ...] = field(default=(), compare=False)
    """One error per `task-decorators` entry, located at its value, raised by the engine when
    the name turns out to match no definition (only the project can tell)."""


@dataclass(frozen=True, slots=True)
class TaskEntry:
    """One `[tasks]` key, kept in file order because ties between globs go to the earlier one."""

    key: str
    """The key with surrounding whitespace stripped: the task name or `fnmatchcase` glob."""
    category: str
    owner: str | None
    note: str | None
    location: Location
    is_glob: bool
    reviewed: date | None = None
    """When the task's retry policy was last reviewed (RL406); a TOML date, never a time."""
    idempotent: bool | None = None
    """Whether running the task twice is harmless (RL302); None: the entry does not say."""
    rate: Fraction | None = None
    """Messages per second the task receives, exact (`"120/m"` is 2)."""


@dataclass(frozen=True)
class Policy:
    """The validated policy of one run."""

    root: Path
    """Absolute project root: the config file's directory, else the current directory."""
    path: str | None
    """The config file relative to `root`, POSIX; None for the built-in policy."""
    builtin: bool
    """True when the built-in categories apply: no config file, or one without [categories]."""
    exclude: tuple[str, ...]
    extend_exclude: tuple[str, ...]
    include_tests: bool
    """Scan test code too (CONTRACTS §1 lists what counts as test code)."""
    respect_gitignore: bool
    source_roots: tuple[str, ...]
    """Normalized POSIX directories relative to `root` ("src", never "./src/")."""
    default_category: str | None
    enabled_frameworks: tuple[str, ...] | None
    """None when `[frameworks] enabled` is absent: every adapter whose imports appear runs."""
    frameworks: Mapping[str, FrameworkSettings]
    categories: Mapping[str, Category]
    tasks: tuple[TaskEntry, ...]
    rules: Mapping[str, str]
    """Rule code to "error", "warning", "note" or "off", as written in [rules]."""
    assume: Mapping[str, object]
    """Expression as written to its TOML value (int, float, str, bool, list or dict)."""
    has_categories: bool
    """The file states [categories]; RL401 applies only then."""
    baseline: str | None = None
    """The baseline file `check` applies and `--write-baseline` writes, POSIX, relative to
    `root`; None: no baseline unless `--baseline` names one."""
    select: tuple[str, ...] | None = None
    """Rule codes or prefixes (`ALL`, `RL1`, `RL102`), upper case; None when the key is absent
    (every rule runs). The CLI's `--select` etc. layer on top (`engine.Selection`)."""
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(glob relative to the project root, codes or prefixes), in file order."""
    cache_dir: str | None = None
    """`cache-dir` as written, relative to `root`; None for the default `.retrylint_cache`."""
    review_every: int | None = None
    """The top-level `review-every` in seconds. Each category's `review_every` already falls
    back to it, so rules read the category; this is kept for reports of the file itself."""

    def assign(self, name: str | None) -> Assignment | None:
        """The category of a task, by CONTRACTS §2 precedence; None is RL401's case.

        An undecided name (None) can match no `[tasks]` key, so only the default applies. The
        default's source is "built-in" whenever the built-in categories are in force, even if
        the file spells out `default-category = "default"`.
        """
        if name is not None:
            entry = self.matching_entry(name)
            if entry is not None:
                return Assignment(
                    category=self.categories[entry.category],
                    source="glob" if entry.is_glob else "exact",
                    key=entry.key,
                    owner=entry.owner,
                    note=entry.note,
                    reviewed=entry.reviewed,
                    idempotent=entry.idempotent,
                    rate=entry.rate,
                )
        if self.default_category is None:
            return None
        return Assignment(
            category=self.categories[self.default_category],
            source="built-in" if self.builtin else "default-category",
        )

    def exclude_spec(self) -> pathspec.GitIgnoreSpec:
        """`exclude` then `extend-exclude` with git's semantics, matched against root-relative
        paths. Both only add to what discovery leaves out (CONTRACTS §1), so they are one list;
        in that order a `!` pattern in `extend-exclude` can re-include what `exclude` named.

        `GitIgnoreSpec` rather than `PathSpec.from_lines("gitwildmatch", ...)`: the factory
        name is deprecated in pathspec 1.x and warns on every call.
        """
        return pathspec.GitIgnoreSpec.from_lines((*self.exclude, *self.extend_exclude))

    def matching_entry(self, name: str) -> TaskEntry | None:
        """The `[tasks]` key that decides `name` (exact, then most literal glob, then earlier),
        without falling back to `default-category`: `init --update` needs to know which names
        no key mentions."""
        best: TaskEntry | None = None
        best_literals = -1
        for entry in self.tasks:
            if not entry.is_glob:
                if entry.key == name:
                    return entry
            elif fnmatch.fnmatchcase(name, entry.key):
                literals = _literal_characters(entry.key)
                if literals > best_literals:
                    best, best_literals = entry, literals
        return best


def discover_config(start: Path) -> Path | None:
    """The config file of a run started at `start` (a directory, or a file in one).

    Walks up to the filesystem root; in each directory `retrylint.toml`, `.retrylint.toml`, then
    a `pyproject.toml` that declares `[tool.retrylint]`. A pyproject without the table is
    skipped: most projects have one for other tools, and it must not hide a config further up.
    """
    for candidate in config_candidates(start):
        if candidate.is_file() and (candidate.name != PYPROJECT or _declares_retrylint(candidate)):
            return candidate
    return None


def config_candidates(start: Path) -> Iterator[Path]:
    """The files `discover_config` looks at, in its order: the run's result depends on each
    one it looked at before the one it found (a replayed check is valid while they hold)."""
    directory = Path(os.path.abspath(start))
    if directory.is_file():
        directory = directory.parent
    for folder in (directory, *directory.parents):
        for name in (*CONFIG_NAMES, PYPROJECT):
            yield folder / name


def load_policy(
    config_path: Path | None,
    *,
    known_rules: Collection[str],
    known_frameworks: Collection[str],
    cwd: Path,
) -> Policy:
    """Read and validate a policy file; None gives the built-in policy rooted at `cwd`.

    A relative `config_path` is taken relative to `cwd`. Raises `ConfigError`, whose path is
    relative to `cwd` when the file is under it and absolute otherwise.
    """
    cwd = Path(os.path.abspath(cwd))
    if config_path is None:
        return _builtin_policy(cwd.resolve())
    absolute = Path(os.path.abspath(cwd / config_path))
    try:
        display = absolute.relative_to(cwd).as_posix()
    except ValueError:
        display = str(absolute)
    text = _read_text(absolute, display)
    try:
        document: dict[str, object] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line, column, message = decode_error_position(error, text)
        raise ConfigError(
            display, line, column, f"invalid TOML: {message}; correct the syntax here"
        ) from None
    prefix: KeyPath = ()
    settings: object = document
    if absolute.name == PYPROJECT:
        tool = document.get("tool")
        if not isinstance(tool, dict) or "retrylint" not in tool:
            raise ConfigError(
                display,
                1,
                1,
                "pyproject.toml has no [tool.retrylint] table; add one, "
                "or pass a retrylint.toml to --config",
            )
        prefix = ("tool", "retrylint")
        settings = tool["retrylint"]
    validator = _Validator(
        index=TomlIndex(text),
        prefix=prefix,
        display=display,
        config_name=absolute.name,
        known_rules=known_rules,
        known_frameworks=known_frameworks,
    )
    # Resolved, like the scanned paths, so symlinked checkouts report the same relative paths.
    return validator.policy(settings, root=absolute.parent.resolve())


def _builtin_policy(root: Path) -> Policy:
    return Policy(
        root=root,
        path=None,
        builtin=True,
        exclude=(),
        extend_exclude=(),
        include_tests=False,
        respect_gitignore=True,
        source_roots=(),
        default_category=BUILTIN_CATEGORY.name,
        enabled_frameworks=None,
        frameworks=MappingProxyType({}),
        categories=MappingProxyType({BUILTIN_CATEGORY.name: BUILTIN_CATEGORY}),
        tasks=(),
        rules=MappingProxyType({}),
        assume=MappingProxyType({}),
        has_categories=False,
    )


def _declares_retrylint(pyproject: Path) -> bool:
    try:
        data = pyproject.read_bytes()
    except OSError:
        return False
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return _RETRYLINT_HEADER.search(data.decode("utf-8", "replace")) is not None
    tool = document.get("tool")
    return isinstance(tool, dict) and "retrylint" in tool


def _read_text(path: Path, display: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(
            display,
            1,
            1,
            f"cannot read the config file ({error.strerror}); check the path and its permissions",
        ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        before = data[: error.start].decode("utf-8")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        raise ConfigError(
            display, line, column, "the file is not valid UTF-8; save it with UTF-8 encoding"
        ) from None


class _Validator:
    """Turns one parsed document into a `Policy`, raising at the first problem.

    Paths given to its methods are relative to the retrylint table (`prefix` is
    `("tool", "retrylint")` in a pyproject.toml); messages show the full key as the user wrote
    it in the file.
    """

    def __init__(
        self,
        *,
        index: TomlIndex,
        prefix: KeyPath,
        display: str,
        config_name: str,
        known_rules: Collection[str],
        known_frameworks: Collection[str],
    ) -> None:
        self.index = index
        self.prefix = prefix
        self.display = display
        self.config_name = config_name
        self.known_rules = known_rules
        self.known_frameworks = known_frameworks
        self.errors: list[ConfigError] = []

    def attempt(
        self, fallback: T, action: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run one independent check; on a mistake, keep it and go on with `fallback`, so one
        run reports every mistake of the file. The fallback is chosen so that nothing later
        repeats the same mistake in other words (a broken category still exists by name)."""
        try:
            return action(*args, **kwargs)
        except ConfigError as error:
            self.errors.append(error)
            return fallback

    def policy(self, settings: object, *, root: Path) -> Policy:
        """The policy, or `ConfigErrors` with every mistake of the file."""
        table = self.table(settings, (), '[tool.retrylint] with default-category = "default"')
        self.check_keys(table, (), _TOP_KEYS)
        has_categories = "categories" in table
        review_every = self.attempt(None, self.review_every, table, ())
        # Without [categories] the built-in "default" is the only category, so [tasks] and
        # default-category naming any other are refused like any unknown name: judging such a
        # task by the built-in bounds instead would hide the typo or the missing table.
        categories = {BUILTIN_CATEGORY.name: BUILTIN_CATEGORY}
        if has_categories:
            categories = self.attempt({}, self.categories, table["categories"])
        if review_every is not None:
            categories = {
                name: category
                if category.review_every is not None
                else replace(category, review_every=review_every, review_every_inherited=True)
                for name, category in categories.items()
            }
        default_category: str | None = None if has_categories else BUILTIN_CATEGORY.name
        if "default-category" in table:
            default_category = self.attempt(
                None, self.default_category, table["default-category"], categories, has_categories
            )
        enabled, frameworks = self.attempt((None, {}), self.frameworks, table.get("frameworks", {}))
        policy = Policy(
            root=root,
            path=self.config_name,
            builtin=not has_categories,
            exclude=self.patterns(table, "exclude", '["migrations/", "*_pb2.py"]'),
            extend_exclude=self.patterns(table, "extend-exclude", '["generated/"]'),
            include_tests=self.attempt(False, self.boolean, table, (), "include-tests"),
            respect_gitignore=self.attempt(
                True, self.boolean, table, (), "respect-gitignore", default=True
            ),
            source_roots=self.attempt((), self.source_roots, table.get("source-roots", [])),
            default_category=default_category,
            enabled_frameworks=enabled,
            frameworks=MappingProxyType(frameworks),
            categories=MappingProxyType(categories),
            tasks=self.attempt((), self.tasks, table.get("tasks", {}), categories, has_categories),
            rules=MappingProxyType(self.attempt({}, self.rules, table.get("rules", {}))),
            assume=MappingProxyType(self.attempt({}, self.assume, table.get("assume", {}))),
            has_categories=has_categories,
            baseline=self.attempt(None, self.baseline, table["baseline"])
            if "baseline" in table
            else None,
            select=self.attempt(None, self.selectors, table["select"], ("select",))
            if "select" in table
            else None,
            extend_select=self.attempt(
                (), self.selectors, table.get("extend-select", []), ("extend-select",)
            ),
            ignore=self.attempt((), self.selectors, table.get("ignore", []), ("ignore",)),
            per_file_ignores=self.attempt(
                (), self.per_file_ignores, table.get("per-file-ignores", {})
            ),
            cache_dir=self.attempt(None, self.cache_dir, table),
            review_every=review_every,
        )
        if self.errors:
            raise ConfigErrors(self.errors)
        return policy

    def default_category(
        self, value: object, categories: Mapping[str, Category], has_categories: bool
    ) -> str:
        path: KeyPath = ("default-category",)
        name = self.string(value, path, 'default-category = "default"')
        self.check_category(name, path, categories, has_categories)
        return name

    # --- sections -------------------------------------------------------------------------

    def patterns(self, table: dict[str, object], key: str, example: str) -> tuple[str, ...]:
        path: KeyPath = (key,)
        patterns = self.attempt(
            (), self.string_list, table.get(key, []), path, f"{key} = {example}"
        )
        good = [
            pattern
            for number, pattern in enumerate(patterns)
            if self.attempt(False, self.check_pattern, pattern, (*path, number))
        ]
        return tuple(good)

    def check_pattern(self, pattern: str, path: KeyPath) -> bool:
        try:
            pathspec.GitIgnoreSpec.from_lines([pattern])
        # A bad range such as "[z-a]" fails in `re`, not in pathspec's own checks.
        except (ValueError, re.error):
            raise self.error(
                path,
                f"{json.dumps(pattern)} is not a valid gitignore-style pattern; "
                'write a pattern such as "build/" or "**/migrations/*.py"',
                at_value=True,
            ) from None
        return True

    def cache_dir(self, table: dict[str, object]) -> str | None:
        if "cache-dir" not in table:
            return None
        path: KeyPath = ("cache-dir",)
        value = self.string(table["cache-dir"], path, 'cache-dir = ".retrylint_cache"')
        if not value.strip() or "\\" in value:
            raise self.error(
                path,
                f"cache directory {json.dumps(value)} is not a path; write it relative to the "
                'project root with "/", such as ".cache/retrylint"',
                at_value=True,
            )
        return value

    def source_roots(self, value: object) -> tuple[str, ...]:
        path: KeyPath = ("source-roots",)
        roots = self.string_list(value, path, 'source-roots = ["src"]')
        normalized = (
            self.attempt(None, self.source_root, root, (*path, number))
            for number, root in enumerate(roots)
        )
        return tuple(root for root in normalized if root is not None)

    def source_root(self, root: str, path: KeyPath) -> str:
        pure = PurePosixPath(root.strip())
        if (
            not root.strip()
            or "\\" in root
            or pure.is_absolute()
            or ".." in pure.parts
            or re.match(r"[A-Za-z]:", root)
        ):
            raise self.error(
                path,
                f"source root {json.dumps(root)} is not a directory inside the project "
                'root; write it relative to the project root with "/", such as "src"',
                at_value=True,
            )
        return pure.as_posix()

    def baseline(self, value: object) -> str:
        path: KeyPath = ("baseline",)
        text = self.string(value, path, 'baseline = ".retrylint-baseline.json"').strip()
        # `..` is allowed: in a monorepo the config may sit below the folder that keeps it.
        if (
            not text
            or text.endswith("/")
            or "\\" in text
            or PurePosixPath(text).is_absolute()
            or re.match(r"[A-Za-z]:", text)
        ):
            raise self.error(
                path,
                f"baseline {json.dumps(text)} is not a file path relative to the project root; "
                'write it with "/", such as ".retrylint-baseline.json"',
                at_value=True,
            )
        return PurePosixPath(text).as_posix()

    def frameworks(
        self, value: object
    ) -> tuple[tuple[str, ...] | None, dict[str, FrameworkSettings]]:
        table = self.table(value, ("frameworks",), 'frameworks = { enabled = ["celery"] }')
        enabled: tuple[str, ...] | None = None
        settings: dict[str, FrameworkSettings] = {}
        for key, item in table.items():
            path: KeyPath = ("frameworks", key)
            if key == "enabled":
                enabled = self.attempt(
                    (), self.string_list, item, path, 'enabled = ["celery", "tenacity"]'
                )
                for number, name in enumerate(enabled):
                    if name not in self.known_frameworks:
                        self.errors.append(
                            self.error(
                                (*path, number),
                                f"unknown framework {json.dumps(name)} in {self.label(path)}; "
                                + _hint(name, self.known_frameworks),
                                at_value=True,
                            )
                        )
            elif key in self.known_frameworks:
                settings[key] = self.attempt(
                    FrameworkSettings(), self.framework_settings, item, path
                )
            else:
                self.errors.append(
                    self.error(
                        path,
                        f"unknown framework or key {json.dumps(key)} {self.where(path[:-1])}; "
                        + _hint(key, ["enabled", *self.known_frameworks]),
                    )
                )
        return enabled, settings

    def framework_settings(self, value: object, path: KeyPath) -> FrameworkSettings:
        example = f'{path[-1]} = {{ task-decorators = ["app.utils.task"] }}'
        table = self.table(value, path, example)
        self.check_keys(table, path, _FRAMEWORK_KEYS)
        decorators: tuple[str, ...] = ()
        unmatched: tuple[ConfigError, ...] = ()
        if "task-decorators" in table:
            key_path = (*path, "task-decorators")
            decorators = self.attempt(
                (),
                self.string_list,
                table["task-decorators"],
                key_path,
                'task-decorators = ["app.utils.task"]',
            )
            for number, name in enumerate(decorators):
                self.attempt(
                    None, self.check_dotted_name, name, (*key_path, number), '"app.utils.task"'
                )
            unmatched = tuple(
                self.error(
                    (*key_path, number),
                    f"task-decorators: {json.dumps(name)} names no function or class of the "
                    "project; write the dotted path it is imported from (such as "
                    '"app.utils.task", re-exports included), or remove the entry: wrappers are '
                    "also recognised without it",
                    at_value=True,
                )
                for number, name in enumerate(decorators)
            )
        version: str | None = None
        if "version" in table:
            version = self.attempt(None, self.version, table["version"], (*path, "version"))
        settings_module: str | None = None
        if "settings-module" in table:
            settings_module = self.attempt(
                None, self.settings_module, table["settings-module"], (*path, "settings-module")
            )
        return FrameworkSettings(decorators, version, settings_module, unmatched)

    def version(self, raw: object, path: KeyPath) -> str:
        version = self.string(raw, path, f'version = "{_toml(raw)}"')
        if not _VERSION.fullmatch(version):
            raise self.error(
                path,
                f"version {json.dumps(version)} is not a version number; "
                'write it as a string of numbers and dots, such as "5.3.1"',
                at_value=True,
            )
        return version

    def settings_module(self, raw: object, path: KeyPath) -> str:
        module = self.string(raw, path, 'settings-module = "mysite.settings"')
        self.check_dotted_name(module, path, '"mysite.settings"')
        return module

    def categories(self, value: object) -> dict[str, Category]:
        table = self.table(value, ("categories",), "a table such as [categories.critical]")
        # A category whose table is broken still exists by name: the tasks naming it are not
        # also "unknown category" mistakes.
        return {
            name: self.attempt(
                Category(name=name, location=self.location(("categories", name))),
                self.category,
                name,
                spec,
            )
            for name, spec in table.items()
        }

    def category(self, name: str, value: object) -> Category:
        path: KeyPath = ("categories", name)
        table = self.table(
            value, path, f'a table such as [{self.label(path)}] with backoff = "exponential"'
        )
        self.check_keys(table, path, _CATEGORY_KEYS)
        description = ""
        if "description" in table:
            description = self.attempt(
                "",
                self.string,
                table["description"],
                (*path, "description"),
                'description = "payments; a lost task loses money"',
            )
        min_retries, max_retries = self.retry_bounds(table, path)
        max_window = self.attempt(None, self.duration, table, path, "max-window")
        min_window = self.attempt(None, self.duration, table, path, "min-window")
        if min_window is not None and max_window is not None and min_window > max_window:
            self.errors.append(
                self.error(
                    (*path, "min-window"),
                    f"{self.label(path)} has min-window = {format_duration(min_window)} longer "
                    f"than max-window = {format_duration(max_window)}; make min-window at most "
                    f"{format_duration(max_window)}, or raise max-window",
                    at_value=True,
                )
            )
        return Category(
            name=name,
            description=description,
            min_retries=min_retries,
            max_retries=max_retries,
            backoff=self.attempt(None, self.backoff, table, path),
            jitter=self.attempt(False, self.boolean, table, path, "jitter"),
            max_window=None if max_window is None else float(max_window),
            dead_letter=self.attempt(False, self.boolean, table, path, "dead-letter"),
            location=self.location(path),
            min_window=min_window,
            alert=self.attempt(True, self.boolean, table, path, "alert", default=True),
            alert_exhausted_rate=self.attempt(
                None, self.rate, table, path, "alert-exhausted-rate", "1/m"
            ),
            alert_queue_length=self.attempt(None, self.queue_length, table, path),
            review_every=self.attempt(None, self.review_every, table, path),
        )

    def retry_bounds(
        self, category: dict[str, object], path: KeyPath
    ) -> tuple[int | None, int | None]:
        if "max-retries" not in category:
            return None, None
        path = (*path, "max-retries")
        table = self.attempt(
            {},
            self.table,
            category["max-retries"],
            path,
            "max-retries = { max = 5 }, or { min = 5, max = 5 } for an exact count",
        )
        self.check_keys(table, path, _RETRY_BOUND_KEYS)
        low, high = (
            self.attempt(None, self.retry_bound, table, path, key) for key in _RETRY_BOUND_KEYS
        )
        if low is not None and high is not None and low > high:
            self.errors.append(
                self.error(
                    (*path, "min"),
                    f"{self.label(path)} has min = {low} greater than max = {high}; "
                    f"make min at most {high}, or raise max",
                    at_value=True,
                )
            )
        return low, high

    def retry_bound(self, table: dict[str, object], path: KeyPath, key: str) -> int | None:
        if key not in table:
            return None
        count = table[key]
        if isinstance(count, bool) or not isinstance(count, int):
            raise self.wrong_type((*path, key), count, "a whole number", f"{key} = 3")
        if count < 0:
            raise self.error(
                (*path, key),
                f"{self.label((*path, key))} is {count}, but retries cannot be negative; "
                "write 0 or more (counted as retries after the first run)",
                at_value=True,
            )
        return count

    def backoff(self, category: dict[str, object], path: KeyPath) -> BackoffKind | None:
        if "backoff" not in category:
            return None
        path = (*path, "backoff")
        kind = self.string(category["backoff"], path, 'backoff = "exponential"')
        for known in BACKOFF_ORDER:
            if kind == known:
                return known
        choices = ", ".join(json.dumps(known) for known in BACKOFF_ORDER)
        raise self.error(
            path,
            f"{json.dumps(kind)} is not a minimum backoff kind; write one of {choices} "
            "(weakest to strongest)",
            at_value=True,
        )

    def boolean(
        self, table: dict[str, object], path: KeyPath, key: str, *, default: bool = False
    ) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            # The example writes the value that changes something: the default needs no line.
            example = f"{key} = {_toml(not default)}"
            raise self.wrong_type((*path, key), value, "true or false", example)
        return value

    def duration(self, table: dict[str, object], path: KeyPath, key: str) -> int | None:
        """Seconds; the same spelling everywhere a duration is accepted (`parse_duration`)."""
        if key not in table:
            return None
        value = table[key]
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        reason = ""
        if isinstance(value, str):
            try:
                return parse_duration(value)
            except DurationError as error:
                reason = f" ({error})"
        raise self.error(
            (*path, key),
            f"{self.label((*path, key))} = {_toml(value)} is not a duration{reason}; "
            + _DURATION_HELP,
            at_value=True,
        )

    def review_every(self, table: dict[str, object], path: KeyPath) -> int | None:
        seconds = self.duration(table, path, "review-every")
        if seconds == 0:
            raise self.error(
                (*path, "review-every"),
                f"{self.label((*path, 'review-every'))} is 0, which makes every review overdue "
                'at once; write the time a review stays valid, such as "90d"',
                at_value=True,
            )
        return seconds

    def tasks(
        self, value: object, categories: Mapping[str, Category], has_categories: bool
    ) -> tuple[TaskEntry, ...]:
        table = self.table(
            value, ("tasks",), 'a table such as [tasks] with "app.tasks.send_email" = "critical"'
        )
        first_seen: dict[str, TaskEntry] = {}
        for raw, spec in table.items():
            entry = self.attempt(
                None, self.task_entry, raw, spec, categories, has_categories, first_seen
            )
            if entry is not None:
                first_seen.setdefault(entry.key, entry)
        return tuple(first_seen.values())

    def task_entry(
        self,
        raw: str,
        spec: object,
        categories: Mapping[str, Category],
        has_categories: bool,
        first_seen: Mapping[str, TaskEntry],
    ) -> TaskEntry:
        path: KeyPath = ("tasks", raw)
        if isinstance(spec, dict) and self.index.kind(self.prefix + path) == "implicit":
            name = self.dotted_key_name(path, spec)
            raise self.error(
                path,
                f"{name} is an unquoted dotted key, which TOML reads as nested tables; "
                f"quote the task name: {json.dumps(name)} = ...",
            )
        key = raw.strip()
        self.check_glob(key, raw, path)
        location = self.location(path)
        if key in first_seen:
            raise self.error(
                path,
                f"task {json.dumps(key)} is already listed on line "
                f"{first_seen[key].location.line} (keys are compared without surrounding "
                "spaces); keep one of the two entries",
            )
        entry = self.task_spec(spec, path, key, location)
        self.check_category(
            entry.category,
            path if isinstance(spec, str) else (*path, "category"),
            categories,
            has_categories,
        )
        return entry

    def task_spec(self, value: object, path: KeyPath, key: str, location: Location) -> TaskEntry:
        if isinstance(value, str):
            return TaskEntry(key, value, None, None, location, _is_glob(key))
        example = '"app.tasks.send" = "critical", or { category = "critical", owner = "payments" }'
        if not isinstance(value, dict):
            raise self.wrong_type(path, value, "a category name or a table", example)
        self.check_keys(value, path, _TASK_KEYS)
        if "category" not in value:
            raise self.error(
                path,
                f'{self.label(path)} has no category; write {{ category = "NAME" }} '
                "with the name of a [categories] table",
            )
        category = self.string(value["category"], (*path, "category"), 'category = "critical"')
        owner = note = None
        if "owner" in value:
            owner = self.attempt(
                None, self.string, value["owner"], (*path, "owner"), 'owner = "team-payments"'
            )
        if "note" in value:
            note = self.attempt(
                None, self.string, value["note"], (*path, "note"), 'note = "retried by the caller"'
            )
        idempotent: bool | None = None
        if "idempotent" in value:
            idempotent = self.attempt(None, self.boolean, value, path, "idempotent")
        return TaskEntry(
            key,
            category,
            owner,
            note,
            location,
            _is_glob(key),
            reviewed=self.attempt(None, self.reviewed, value, path),
            idempotent=idempotent,
            rate=self.attempt(None, self.rate, value, path),
        )

    def reviewed(self, entry: dict[str, object], path: KeyPath) -> date | None:
        if "reviewed" not in entry:
            return None
        value = entry["reviewed"]
        # tomllib gives `datetime` (a subclass of `date`) for a date with a time: refuse it, a
        # review is a day, and a time zone would make "overdue" depend on where CI runs.
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        example = "reviewed = 2026-06-01"
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                example = f"reviewed = {date.fromisoformat(value.strip()).isoformat()}"
        raise self.error(
            (*path, "reviewed"),
            f"{self.label((*path, 'reviewed'))} must be a bare TOML date, not "
            f"{_describe(value)}; write {example} (no quotes, no time)",
            at_value=True,
        )

    def rate(
        self, entry: dict[str, object], path: KeyPath, key: str = "rate", example: str = "5/s"
    ) -> Fraction | None:
        """Messages per unit of time: a `[tasks]` entry's `rate`, a category's
        `alert-exhausted-rate`."""
        if key not in entry:
            return None
        value = entry[key]
        key_path = (*path, key)
        if not isinstance(value, str):
            raise self.wrong_type(
                key_path,
                value,
                'a string "<number>/<unit>"',
                f'{key} = "{example}" or {key} = "120/m"',
            )
        match = _RATE.fullmatch(value)
        if match is None or Fraction(match.group(1)) == 0:
            raise self.error(
                key_path,
                f"{key} {json.dumps(value)} is not a positive number of messages per unit of "
                'time; write a number, "/" and one of s, m, h, d, such as "5/s", "120/m" or '
                '"0.5/h"',
                at_value=True,
            )
        return Fraction(match.group(1)) / _UNIT_SECONDS[match.group(2)]

    def queue_length(self, table: dict[str, object], path: KeyPath) -> int | None:
        key = "alert-queue-length"
        if key not in table:
            return None
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.wrong_type((*path, key), value, "a whole number", f"{key} = 5000")
        if value < 1:
            raise self.error(
                (*path, key),
                f"{self.label((*path, key))} is {value}, which would fire on an empty queue; "
                "write the number of tasks a queue may hold before the alert, 1 or more",
                at_value=True,
            )
        return value

    def rules(self, value: object) -> dict[str, str]:
        table = self.table(value, ("rules",), 'a table such as [rules] with RL101 = "warning"')
        rules: dict[str, str] = {}
        for code, severity in table.items():
            word = self.attempt(None, self.rule_severity, code, severity)
            if word is not None:
                rules[code] = word
        return rules

    def rule_severity(self, code: str, severity: object) -> str:
        path: KeyPath = ("rules", code)
        if code in _FIXED_SEVERITY_RULES:
            raise self.error(
                path,
                f"{code} cannot be re-severitied or turned off: it reports what retrylint "
                "could not read and never fails a run; remove this line",
            )
        if code not in self.known_rules:
            raise self.error(
                path, f"unknown rule code {json.dumps(code)}; " + _hint(code, self.known_rules)
            )
        word = self.string(severity, path, f'{code} = "warning"')
        if word not in SEVERITY_WORDS:
            raise self.error(
                path,
                f"{json.dumps(word)} is not a severity; " + _hint(word, SEVERITY_WORDS),
                at_value=True,
            )
        return word

    def selectors(self, value: object, path: KeyPath) -> tuple[str, ...]:
        """`select`, `extend-select`, `ignore`, a `per-file-ignores` list: each entry `ALL`,
        a rule code or a prefix of one; a prefix matching no code is a typo, refused here."""
        key = _key_text(str(path[-1]))
        items = self.string_list(value, path, f'{key} = ["RL1", "RL202"]')
        tokens = (
            self.attempt(None, self.selector, item, (*path, number))
            for number, item in enumerate(items)
        )
        return tuple(token for token in tokens if token is not None)

    def selector(self, item: str, path: KeyPath) -> str:
        token = item.strip().upper()
        if token != "ALL" and not any(c.startswith(token) for c in self.known_rules):
            closest = _closest(token, self.known_rules)
            code = json.dumps(closest) if closest is not None else 'a code such as "RL102"'
            raise self.error(
                path,
                f"{json.dumps(item)} is not a rule code or the prefix of one; "
                f'write {code}, a prefix such as "RL1", or "ALL"',
                at_value=True,
            )
        return token

    def per_file_ignores(self, value: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
        path: KeyPath = ("per-file-ignores",)
        example = 'a table such as [per-file-ignores] with "migrations/*" = ["RL103"]'
        table = self.table(value, path, example)
        pairs: list[tuple[str, tuple[str, ...]]] = []
        for glob, codes in table.items():
            if not glob.strip():
                self.errors.append(
                    self.error(
                        (*path, glob),
                        'a per-file-ignores glob is empty; write one such as "migrations/*.py"',
                    )
                )
                continue
            selected = self.attempt((), self.selectors, codes, (*path, glob))
            pairs.append((glob.strip().removeprefix("./"), selected))
        return tuple(pairs)

    def assume(self, value: object) -> dict[str, object]:
        table = self.table(
            value, ("assume",), 'a table such as [assume] with "settings.MAX_RETRIES" = 5'
        )
        for expression, assumed in table.items():
            self.attempt(None, self.assumption, expression, assumed)
        return dict(table)

    def assumption(self, expression: str, assumed: object) -> None:
        path: KeyPath = ("assume", expression)
        if isinstance(assumed, dict) and self.index.kind(self.prefix + path) == "implicit":
            name = self.dotted_key_name(path, assumed)
            raise self.error(
                path,
                f"{name} is an unquoted dotted key, which TOML reads as nested tables; "
                f"quote the expression: {json.dumps(name)} = ...",
            )
        if not expression.strip():
            raise self.error(
                path,
                "an [assume] key is empty; write the expression exactly as in the code, "
                'such as "settings.MAX_RETRIES" = 5',
            )
        self.check_assumed(assumed, path)

    # --- checks ---------------------------------------------------------------------------

    def check_keys(self, table: dict[str, object], path: KeyPath, allowed: Collection[str]) -> None:
        """Records every unknown key; the known ones are still checked."""
        for key in table:
            if key not in allowed:
                self.errors.append(
                    self.error(
                        (*path, key),
                        f"unknown key {json.dumps(key)} {self.where(path)}; " + _hint(key, allowed),
                    )
                )

    def check_category(
        self,
        name: str,
        path: KeyPath,
        categories: Mapping[str, Category],
        has_categories: bool,
    ) -> None:
        if name in categories:
            return
        quoted = _key_text(name)
        if not has_categories:
            hint = (
                f'the file has no [categories], so only the built-in "default" exists; '
                f'write "default" or add [categories.{quoted}]'
            )
        else:
            closest = _closest(name, categories)
            hint = f"define [categories.{quoted}]"
            if closest is not None:
                hint = f"write {json.dumps(closest)} or {hint}"
        raise self.error(path, f"unknown category {json.dumps(name)}; {hint}", at_value=True)

    def check_glob(self, key: str, raw: str, path: KeyPath) -> None:
        if not key:
            raise self.error(
                path,
                f"task key {json.dumps(raw)} is empty; "
                'write a task name or a glob such as "app.tasks.*"',
            )
        if any(char.isspace() for char in key):
            raise self.error(
                path,
                f"task key {json.dumps(key)} contains whitespace, which no task name has; "
                "remove it, or match any character with ?",
            )
        if _has_unclosed_bracket(key):
            raise self.error(
                path,
                f"task glob {json.dumps(key)} has an unclosed [; close it with ], "
                "or write [[] to match a literal [",
            )

    def check_dotted_name(self, name: str, path: KeyPath, example: str) -> None:
        if not _DOTTED_NAME.fullmatch(name):
            raise self.error(
                path,
                f"{json.dumps(name)} is not a dotted Python name; write one such as {example}",
                at_value=True,
            )

    def check_assumed(self, value: object, path: KeyPath) -> None:
        if isinstance(value, list):
            for number, item in enumerate(value):
                self.check_assumed(item, (*path, number))
        elif isinstance(value, dict):
            for key, item in value.items():
                self.check_assumed(item, (*path, key))
        elif not isinstance(value, (bool, int, float, str)):
            raise self.wrong_type(
                path,
                value,
                "a number, string, boolean, array or table",
                "the value the expression has at run time, such as 5",
            )

    # --- typed access ---------------------------------------------------------------------

    def table(self, value: object, path: KeyPath, example: str) -> dict[str, object]:
        if not isinstance(value, dict):
            raise self.wrong_type(path, value, "a table", example)
        return value

    def string(self, value: object, path: KeyPath, example: str) -> str:
        if not isinstance(value, str):
            raise self.wrong_type(path, value, "a string", example)
        return value

    def string_list(self, value: object, path: KeyPath, example: str) -> tuple[str, ...]:
        """The strings of the array; each item that is not one is recorded as a mistake."""
        if not isinstance(value, list):
            raise self.wrong_type(path, value, "an array of strings", example)
        items = (
            self.attempt(None, self.string, item, (*path, number), example)
            for number, item in enumerate(value)
        )
        return tuple(item for item in items if item is not None)

    def dotted_key_name(self, path: KeyPath, value: dict[str, object]) -> str:
        """The name a user meant by an unquoted dotted key, read back from the nested tables."""
        parts = [str(path[-1])]
        current: object = value
        while (
            isinstance(current, dict)
            and current
            and self.index.kind(self.prefix + path) == "implicit"
        ):
            first = next(iter(current))
            parts.append(first)
            path = (*path, first)
            current = current[first]
        return ".".join(parts)

    # --- reporting ------------------------------------------------------------------------

    def wrong_type(self, path: KeyPath, value: object, expected: str, example: str) -> ConfigError:
        return self.error(
            path,
            f"{self.label(path)} must be {expected}, not {_describe(value)}; write {example}",
            at_value=True,
        )

    def error(self, path: KeyPath, message: str, *, at_value: bool = False) -> ConfigError:
        full = self.prefix + path
        position = self.index.value(full) if at_value else self.index.key(full)
        return ConfigError(self.display, position.line, position.column, message)

    def location(self, path: KeyPath) -> Location:
        position = self.index.key(self.prefix + path)
        return Location(self.config_name, position.line, position.column)

    def label(self, path: KeyPath) -> str:
        text = ""
        for key in self.prefix + path:
            if isinstance(key, int):
                text += f"[{key}]"
            else:
                text += ("." if text else "") + _key_text(key)
        return text

    def where(self, path: KeyPath) -> str:
        return f"in [{self.label(path)}]" if self.prefix + path else "at the top level"


def _key_text(key: str) -> str:
    """A key as it would be written in TOML: bare when possible, else a quoted string."""
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return f"the boolean {_toml(value)}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the float {value}"
    if isinstance(value, str):
        return f"the string {_toml(value)}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return "a date or time"


def _hint(word: str, choices: Collection[str]) -> str:
    closest = _closest(word, choices)
    if closest is not None:
        return f"write {json.dumps(closest)} instead"
    return "use one of: " + ", ".join(sorted(choices))


def _closest(word: str, choices: Collection[str]) -> str | None:
    """The likely intended spelling: a case-insensitive match first, then `difflib`'s best."""
    for choice in sorted(choices):
        if choice.lower() == word.lower():
            return choice
    matches = difflib.get_close_matches(word, sorted(choices), n=1)
    return matches[0] if matches else None


def _is_glob(key: str) -> bool:
    return any(char in _GLOB_CHARS for char in key)


@functools.lru_cache(maxsize=4096)
def _literal_characters(pattern: str) -> int:
    """How specific a glob is: characters outside `*`, `?` and bracket expressions."""
    count = 0
    index = 0
    while index < len(pattern):
        if pattern[index] == "[":
            end = _bracket_end(pattern, index)
            if end is not None:
                index = end + 1
                continue
        if pattern[index] not in _WILDCARD_CHARS:
            count += 1
        index += 1
    return count


def _has_unclosed_bracket(pattern: str) -> bool:
    index = pattern.find("[")
    while index >= 0:
        end = _bracket_end(pattern, index)
        if end is None:
            return True
        index = pattern.find("[", end + 1)
    return False


def _bracket_end(pattern: str, start: int) -> int | None:
    """Index of the `]` closing the bracket expression at `start`, by `fnmatch`'s rules.

    A `!` right after `[` negates, and a `]` right after that is a literal member, so `[]]` and
    `[!]]` are closed; without a closing `]`, `fnmatch` would silently match a literal `[`.
    """
    index = start + 1
    if index < len(pattern) and pattern[index] == "!":
        index += 1
    if index < len(pattern) and pattern[index] == "]":
        index += 1
    end = pattern.find("]", index)
    return None if end < 0 else end
