"""`init --update`: add the tasks a policy does not mention, leaving every existing byte alone.

The file is someone's hand-kept policy (often a whole pyproject.toml), so the edit goes through
tomlkit, which keeps comments, order and spacing, and the result is checked to be the original
text with exactly one block inserted before anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import tomlkit
from tomlkit.items import Item, Key, Table

from retrylint.config.policy import Policy

TODO_NOTE = "retrylint init --update: choose a category"
"""Ends every commented-out line, so a reader (or grep) finds what still needs a decision."""


IDEMPOTENT_HINT = "# idempotent?"
"""Ends each mapped task line: a prompt to record whether the task may run twice (RL302),
which only the team can say; `TASKS_HINT` above the lines says how to write it."""

TASKS_HINT = (
    '# A task that must not run twice: "name" = { category = "...", idempotent = false }',
    "# (RL302 then warns when it is retried automatically); idempotent = true says it may.",
)
"""Comment lines `init` writes under `[tasks]`, explaining the `# idempotent?` prompts."""


class UpdateError(Exception):
    """The policy cannot be extended without touching what is already written."""


@dataclass(frozen=True, slots=True)
class Update:
    text: str
    """The new file content; equal to the old one when nothing was added."""
    added: tuple[str, ...]
    """Task names added, sorted."""
    commented: bool
    """True when they were added as commented-out TODO lines (no `default-category`)."""


def literal_key(name: str) -> str:
    """A `[tasks]` key that matches exactly this name, even if it holds glob characters."""
    return "".join(f"[{ch}]" if ch in "*?[" else ch for ch in name)


def task_line(name: str, default_category: str | None) -> str:
    """The line `init --update` writes for one task.

    With a `default-category` the task is mapped to it explicitly: it is covered already, but an
    explicit key lists the task in the policy (as `init` lists every task) so the change shows in
    review and moving it to another category is a one-word edit. Without one, the only honest
    choice is the user's, so the line is a comment that breaks nothing until it is edited.
    A mapped line ends with the `# idempotent?` prompt; a second run recognises the task by its
    key, not by the line, so the comment can be deleted or edited freely.
    """
    key = json.dumps(literal_key(name))
    if default_category is not None:
        return f"{key} = {json.dumps(default_category)}  {IDEMPOTENT_HINT}"
    return f'# {key} = "TODO"  # {TODO_NOTE}'


def append_tasks(text: str, policy: Policy, names: Iterable[str], *, pyproject: bool) -> Update:
    """Add a line for every name in `names` that no `[tasks]` key matches (the policy's own
    exact-then-glob precedence) and that is not already there as a commented-out TODO line, so a
    second run adds nothing. The lines go after the last entry of `[tasks]` (before the blank
    lines and comments that lead into the next table), or into a new table at the end.
    """
    default = policy.default_category
    present = {line.strip() for line in text.splitlines()}
    lines: list[str] = []
    added: list[str] = []
    for name in sorted(set(names)):
        line = task_line(name, default)
        if policy.matching_entry(name) is None and line not in present:
            lines.append(line)
            added.append(name)
    if not lines:
        return Update(text=text, added=(), commented=default is None)
    newline = "\r\n" if "\r\n" in text else "\n"
    base = text if not text or text.endswith("\n") else text + newline
    block = newline.join(lines) + newline
    document = tomlkit.parse(base)
    settings = document["tool"]["retrylint"] if pyproject else document
    if "tasks" not in settings:
        header = "[tool.retrylint.tasks]" if pyproject else "[tasks]"
        gap = newline if base.strip() and not base.endswith(newline * 2) else ""
        block = header + newline + block
        new = base + gap + block
        base += gap
    else:
        tasks = settings["tasks"]
        if not isinstance(tasks, Table) or tasks.is_super_table():
            raise UpdateError(
                "cannot append to [tasks] as written (inline or split into sub-tables); make it "
                f"one [tasks] table, or add these lines to it by hand: {'; '.join(lines)}"
            )
        _append(tasks, tomlkit.parse(block).body)
        new = document.as_string()
    at = new.find(block)
    if at < 0 or new[:at] + new[at + len(block) :] != base:
        raise UpdateError(
            "cannot append to [tasks] without changing the lines around it; add these lines to "
            f"it by hand: {'; '.join(lines)}"
        )
    return Update(text=new, added=tuple(added), commented=default is None)


def _append(table: Table, items: list[tuple[Key | None, Item]]) -> None:
    """Append `items` after the table's last entry: the trailing blank lines and comments are
    set aside and put back after them, since they introduce whatever follows the table."""
    body = table.value.body
    trailing: list[tuple[Key | None, Item]] = []
    while body and body[-1][0] is None:
        trailing.insert(0, body.pop())
    for key, item in items:
        table.append(key, item)
    body.extend(trailing)
