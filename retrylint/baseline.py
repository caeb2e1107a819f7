"""Finding identity and the baseline file (CONTRACTS §7).

A legacy codebase adopting retrylint starts with hundreds of findings: a suppression comment on
each would bury the code, and `--exit-zero` would let new problems in too. A baseline freezes
today's findings by identity and count, so CI fails only on what is new, and lists what no longer
occurs so the file shrinks as the code is fixed.

The identity never names a line, a column or a message (messages cite lines): moving a task,
reformatting its decorator or adding code above it keeps its findings frozen, while a new task,
a new enqueue site in another function or a renamed task is new. The same identity is what SARIF
fingerprints hash, so code-scanning alerts survive the same edits.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from retrylint.model import Finding

SCHEMA_VERSION = 1
"""Of the baseline file; bumped when an identity field changes meaning, so an old file is
refused with a clear message instead of silently matching nothing."""
DEFAULT_FILE = ".retrylint-baseline.json"
"""Where `--write-baseline` writes without a FILE, under the project root (CONTRACTS §1)."""

EntryValue: TypeAlias = str | int | list[str] | None

_REGENERATE = "write a new one with `retrylint check --write-baseline`"
_OPTIONAL_TEXT = ("framework", "site", "task", "inventory_key", "path", "scope", "expression")


@dataclass(frozen=True, slots=True)
class Identity:
    """What stays the same about a finding while the code around it moves.

    `path` is set only when nothing else names the subject (RL000, suppression comments, RL004,
    a task whose name is undecided); `tasks` only for a finding that speaks for several tasks
    (one RL002 for an expression they share), whose identity is then the rule, the expression and
    the sorted tasks: its site and scope describe one of them only, so they are left out.
    """

    rule: str
    framework: str | None = None
    site: str | None = None
    task: str | None = None
    tasks: tuple[str, ...] = ()
    inventory_key: str | None = None
    path: str | None = None
    scope: str | None = None
    expression: str | None = None

    def fields(self) -> list[object]:
        """Every field in a fixed order: what SARIF hashes and entries are sorted by."""
        return [
            self.rule,
            self.framework,
            self.site,
            self.task,
            list(self.tasks),
            self.inventory_key,
            self.path,
            self.scope,
            self.expression,
        ]

    def sort_key(self) -> str:
        return json.dumps(self.fields(), ensure_ascii=False)

    def entry(self, count: int) -> dict[str, EntryValue]:
        """The baseline file's (and the JSON report's) rendering, every key present."""
        return {
            "rule": self.rule,
            "framework": self.framework,
            "site": self.site,
            "task": self.task,
            "tasks": list(self.tasks),
            "inventory_key": self.inventory_key,
            "path": self.path,
            "scope": self.scope,
            "expression": self.expression,
            "count": count,
        }

    def describe(self) -> str:
        """For the text report: "RL101 celery `app.tasks.sync` enqueued in `nightly`"."""
        if self.task is not None:
            subject = f"`{self.task}`"
        elif self.inventory_key is not None:
            subject = f"[tasks] key `{self.inventory_key}`"
        elif self.tasks:
            subject = ", ".join(f"`{t}`" for t in self.tasks)
        else:
            subject = self.path or "?"
        words = [self.rule, *([self.framework] if self.framework else []), subject]
        if self.site == "enqueue":
            words.append(f"enqueued in `{self.scope}`" if self.scope else "enqueued at top level")
        if self.expression is not None:
            words.append(f"(`{self.expression}`)")
        return " ".join(words)


def identity(finding: Finding) -> Identity:
    shared = finding.task is None and finding.inventory_key is None and bool(finding.tasks)
    anonymous = finding.task is None and finding.inventory_key is None and not finding.tasks
    return Identity(
        rule=finding.rule,
        framework=finding.framework,
        site=None if shared else finding.site,
        task=finding.task,
        tasks=tuple(sorted(finding.tasks)) if shared else (),
        inventory_key=finding.inventory_key,
        path=finding.location.path if anonymous else None,
        scope=None if shared else finding.scope,
        # Whitespace removed: a formatter that splits `settings.RETRIES[queue]` across lines
        # has not changed what is undecided.
        expression="".join(finding.expression.split()) if finding.expression else None,
    )


class BaselineError(Exception):
    """A baseline file retrylint cannot use (exit 2): `path: what is wrong; what to do`."""


@dataclass(frozen=True)
class Baseline:
    file: str
    """The file as the user named it (or relative to the current directory), for messages."""
    entries: Mapping[Identity, int]


@dataclass(frozen=True)
class Outcome:
    """What a baseline did to one run, for the reports."""

    file: str
    absorbed: tuple[Finding, ...]
    stale: tuple[tuple[Identity, int], ...] | None
    """Entries (with the count left over) that matched nothing; None when the run did not check
    the whole project with every rule, since an entry may then belong to what was left out."""


def from_findings(file: str, findings: Iterable[Finding]) -> Baseline:
    return Baseline(file, dict(Counter(identity(f) for f in findings)))


def render(baseline: Baseline) -> str:
    """The file's text: sorted, no timestamp or version of retrylint, so rewriting a baseline of
    unchanged code changes no byte and a diff shows exactly which findings came or went."""
    entries = [
        key.entry(count) for key, count in sorted(baseline.entries.items(), key=_entry_order)
    ]
    document = {"schema_version": SCHEMA_VERSION, "entries": entries}
    # Keys in the order written (schema_version first, `rule` first in an entry) read best.
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _entry_order(item: tuple[Identity, int]) -> str:
    return item[0].sort_key()


def load(path: Path, file: str) -> Baseline:
    """Read and check a baseline file; every problem is one `BaselineError` line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(f"{file}: no such baseline file; {_REGENERATE}") from None
    except IsADirectoryError:
        raise BaselineError(f"{file}: is a directory, not a baseline file; name a file") from None
    except UnicodeDecodeError:
        raise BaselineError(f"{file}: not UTF-8 text; {_REGENERATE}") from None
    except OSError as err:
        reason = err.strerror or str(err)
        raise BaselineError(f"{file}: cannot read the baseline ({reason}); check it") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise BaselineError(
            f"{file}:{err.lineno}:{err.colno}: not valid JSON ({err.msg}); {_REGENERATE}"
        ) from None
    if not isinstance(document, dict) or "entries" not in document:
        raise BaselineError(f"{file}: not a retrylint baseline (no `entries`); {_REGENERATE}")
    version = document.get("schema_version")
    if version != SCHEMA_VERSION:
        raise BaselineError(
            f"{file}: schema_version {json.dumps(version)} is not {SCHEMA_VERSION}, the one "
            f"this retrylint reads; {_REGENERATE}"
        )
    unknown = sorted(set(document) - {"schema_version", "entries"})
    if unknown:
        raise BaselineError(f"{file}: unknown key {json.dumps(unknown[0])}; {_REGENERATE}")
    items = document["entries"]
    if not isinstance(items, list):
        raise BaselineError(f"{file}: `entries` must be a list; {_REGENERATE}")
    entries: Counter[Identity] = Counter()
    for number, item in enumerate(items):
        key, count = _entry(item, f"{file}: entry {number + 1}")
        # Summed, not refused: two branches that each grew the file may both add one entry.
        entries[key] += count
    return Baseline(file, dict(entries))


def _entry(item: object, where: str) -> tuple[Identity, int]:
    if not isinstance(item, dict):
        raise BaselineError(f"{where} is not an object; {_REGENERATE}")
    known = {"rule", "tasks", "count", *_OPTIONAL_TEXT}
    unknown = sorted(set(item) - known)
    if unknown:
        raise BaselineError(f"{where}: unknown key {json.dumps(unknown[0])}; {_REGENERATE}")
    rule, count, tasks = item.get("rule"), item.get("count"), item.get("tasks", [])
    if not isinstance(rule, str) or not rule:
        raise BaselineError(f"{where}: `rule` must be a rule code; {_REGENERATE}")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise BaselineError(f"{where}: `count` must be a whole number ≥ 1; {_REGENERATE}")
    if not isinstance(tasks, list) or not all(isinstance(t, str) for t in tasks):
        raise BaselineError(f"{where}: `tasks` must be a list of names; {_REGENERATE}")
    text: dict[str, str | None] = {}
    for key in _OPTIONAL_TEXT:
        value = item.get(key)
        if value is not None and not isinstance(value, str):
            raise BaselineError(f"{where}: `{key}` must be a string or null; {_REGENERATE}")
        text[key] = value
    return (
        Identity(
            rule=rule,
            framework=text["framework"],
            site=text["site"],
            task=text["task"],
            tasks=tuple(sorted(tasks)),
            inventory_key=text["inventory_key"],
            path=text["path"],
            scope=text["scope"],
            expression=text["expression"],
        ),
        count,
    )


def apply(
    baseline: Baseline,
    findings: Sequence[Finding],
    *,
    rules: Collection[str],
    complete: bool,
) -> tuple[tuple[Finding, ...], Outcome]:
    """The findings beyond the baseline, and what it absorbed.

    An entry with count N absorbs the first N findings of its identity in report order: nothing
    tells which of N + 1 alike findings is the new one, and report order keeps the choice stable.
    Entries of rules this run did not evaluate are neither used nor stale.
    """
    left = {key: n for key, n in baseline.entries.items() if key.rule in rules}
    kept: list[Finding] = []
    absorbed: list[Finding] = []
    for finding in findings:
        key = identity(finding)
        if left.get(key, 0) > 0:
            left[key] -= 1
            absorbed.append(finding)
        else:
            kept.append(finding)
    stale = tuple(sorted(((k, n) for k, n in left.items() if n > 0), key=_entry_order))
    return tuple(kept), Outcome(baseline.file, tuple(absorbed), stale if complete else None)
