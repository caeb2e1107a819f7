"""Finding a task by the part of its name a person remembers (`inventory --explain NAME`).

Task names are long (`polar.integrations.github.tasks.repo.sync_issues`) and people type the
end of them, or a glob. An exact name always wins; otherwise the query must pick out one task,
and when it does not the error says which names it could have meant, so the next attempt works.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from fnmatch import fnmatchcase

# Where a task name's parts meet: module dots, taskiq's `module:function`, asynq's `email:send`.
_SEPARATORS = ".:/"
_GLOB = re.compile(r"[*?\[]")
_SHOWN = 10


class TaskLookupError(Exception):
    """The query names no task, or several: the message lists the candidates."""


def find_task(names: Iterable[str], query: str) -> str:
    """The one task name `query` means: the exact name, else the only name that ends, after a
    separator, with `query` (`sync_issues`, `repo.sync_issues`), or with text matching `query`
    as a glob (`sync_*`, `github.*.sync_*`)."""
    known = sorted(set(names))
    if query in known:
        return query
    glob = _GLOB.search(query) is not None
    matches = [
        name
        for name in known
        if any(
            fnmatchcase(tail, query) if glob else tail == query
            for tail in _tails(name, query.startswith(tuple(_SEPARATORS)))
        )
    ]
    if len(matches) == 1:
        return matches[0]
    if matches:
        shown = ", ".join(matches[:_SHOWN])
        more = f" and {len(matches) - _SHOWN} more" if len(matches) > _SHOWN else ""
        raise TaskLookupError(
            f"{query} matches {len(matches)} tasks: {shown}{more}; give more of the name"
        )
    close = close_names(known, query)
    hint = (
        f"; close matches: {', '.join(close)}"
        if close
        else "; run `retrylint inventory` for the names"
    )
    raise TaskLookupError(f"{query}: no task with that name{hint}")


def _tails(name: str, keep_separator: bool) -> list[str]:
    """The name and every end of it that starts after a separator: `refund` finds
    `shop.tasks.refund` but not `shop.tasks.partial_refund`; `.refund` keeps its dot."""
    shift = 0 if keep_separator else 1
    return [name] + [name[i + shift :] for i, c in enumerate(name) if c in _SEPARATORS]


def close_names(names: list[str], query: str) -> list[str]:
    """Names resembling `query`, compared whole and by their last part (a typo in the function
    name is the usual slip, and it hardly changes the ratio against a long dotted name)."""
    by_key: dict[str, list[str]] = {}
    for name in names:
        by_key.setdefault(name, []).append(name)
        tail = re.split(f"[{re.escape(_SEPARATORS)}]", name)[-1]
        if tail != name:
            by_key.setdefault(tail, []).append(name)
    found: list[str] = []
    for key in difflib.get_close_matches(query, list(by_key), n=5, cutoff=0.6):
        found.extend(name for name in by_key[key] if name not in found)
    return found[:5]
