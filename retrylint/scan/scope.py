"""Which files can use a name that parsed modules define: the prefilter of the later rounds.

A later round looks for files naming an alias, a wrapper, an app or a base class that the
files parsed so far define (`retrying = shared_task(...)`, used elsewhere as `@retrying`).
Such names are often ordinary words (`app`, `job`, `broker`), and a monorepo's services each
have their own: looked for everywhere, one service's `app` would make every file of every
other service that says "app" a candidate, and each adapter's questions would then run over
all of them. But Python lets a file use a name another module defines only by importing it,
which bounds where it can be:

- under the folder the defining module's dotted name starts from (its `sys.path` entry, where
  relative imports and script siblings live: `base_folder`);
- anywhere else, only by an absolute import, which spells out the defining module's top-level
  package;
- or in the module a parsed file imports the name from (an arq worker lists functions defined
  in a module that names no framework).

A module that imports the name from a module defining it (re-exports it) defines it too, and
so does one that star-imports such a module; a file with a star import of a defining module's
top-level package is a candidate of its own. Once such re-exports are parsed, the files of the
round that named a name out of its scope (`ScopedNames.matches` says None) are asked again, in
the same round, until no scope grows. A name no parsed module defines or imports (a configured
decorator) is looked for everywhere, as a round-one marker is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from retrylint.python import ir
from retrylint.python.project import base_folder
from retrylint.scan.prefilter import Prefilter


def words_pattern(names: Iterable[str]) -> list[re.Pattern[bytes]]:
    """One alternative per name, literal first, so `Prefilter` can look for each name."""
    ordered = sorted(set(names))
    if not ordered:
        return []
    return [re.compile(b"|".join(re.escape(n.encode()) + rb"\b" for n in ordered))]


def _packages_pattern(tops: Iterable[str]) -> list[re.Pattern[bytes]]:
    """Top-level packages as an import spells them: not a part of a longer name, nor after a
    dot (`x.common` is not the package `common`). Literal first, for `Prefilter`."""
    ordered = sorted(set(tops))
    if not ordered:
        return []
    return [
        re.compile(
            b"|".join(
                re.escape(top.encode()) + rb"\b(?<![\w.]" + re.escape(top.encode()) + b")"
                for top in ordered
            )
        )
    ]


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a file can use one name: under one of `bases` (root-relative, "" for the root),
    anywhere that names one of `tops`, or as one of `sources` (dotted modules it is imported
    from)."""

    bases: frozenset[str]
    tops: frozenset[str]
    sources: frozenset[str]
    modules: frozenset[str] = frozenset()  # the defining modules: what a re-export imports


def scopes(
    names: Iterable[str], parsed: Iterable[ir.ModuleSummary], module: Callable[[str], str]
) -> dict[str, Scope | None]:
    """Each name's scope from the modules parsed so far; None where none defines or imports
    it. `module` gives a path's dotted name from the file system alone: other files import a
    module by it, even when the module's own relative imports claim a deeper name."""
    wanted = set(names)
    modules = list(parsed)
    defining: dict[str, dict[str, ir.ModuleSummary]] = {name: {} for name in wanted}
    importing: dict[str, dict[str, ir.ModuleSummary]] = {name: {} for name in wanted}
    sources: dict[str, set[str]] = {name: set() for name in wanted}
    # (module, the name it imports or None for `*`, the module it imports from)
    imports: list[tuple[ir.ModuleSummary, str | None, str]] = []
    for summary in modules:
        for name in _defined(summary) & wanted:
            defining[name][summary.path] = summary
        for imp in summary.imports:
            if imp.local == "*":
                imports.append((summary, None, imp.target))
            elif imp.local in wanted:
                origin = imp.target.rpartition(".")[0]
                importing[imp.local][summary.path] = summary
                sources[imp.local].update((origin, imp.target))  # `from pkg import tasks`
                imports.append((summary, imp.local, origin))
    changed = True
    while changed:  # re-exports of re-exports
        changed = False
        for summary, imported, origin in imports:
            for each in (imported,) if imported is not None else wanted:
                found = defining[each]
                if summary.path not in found and any(
                    _same_module(origin, d.module) for d in found.values()
                ):
                    found[summary.path] = summary
                    changed = True
    out: dict[str, Scope | None] = {}
    for name in sorted(wanted):
        # Without a definition in sight (an arq worker lists a function it imports), the
        # definition is in one of the modules it is imported from, or beside an importer.
        found = defining[name] or importing[name]
        if not found:
            out[name] = None
            continue
        homes = {s.path: module(s.path) for s in found.values()}
        out[name] = Scope(
            frozenset(base_folder(path, dotted) for path, dotted in homes.items()),
            frozenset(
                dotted.partition(".")[0]
                for s in (defining[name] or {}).values()
                for dotted in (s.module, homes[s.path])
                if dotted
            ),
            frozenset(sources[name]),
            frozenset(
                dotted
                for s in (defining[name] or {}).values()
                for dotted in (s.module, homes[s.path])
                if dotted
            ),
        )
    return out


def _defined(summary: ir.ModuleSummary) -> set[str]:
    """Names a module binds at its top level by assignment, `def` or `class`."""
    names = {b.target for b in summary.bindings if "." not in b.target}
    names.update(f.name for f in summary.functions if "." not in f.qualname)
    names.update(c.name for c in summary.classes if "." not in c.qualname)
    return names


def _same_module(target: str, dotted: str) -> bool:
    """Whether an import of `target` can reach the module `dotted`: the same name, or one
    counted from another base folder (a name a relative import proved deeper, or shallower)."""
    return target == dotted or target.endswith(f".{dotted}") or dotted.endswith(f".{target}")


# `from pkg.mod import *`, `from . import *`: group 1 holds the leading dots, group 2 the rest.
_STAR = re.compile(rb"^[ \t]*from[ \t]+(\.*)[ \t]*([\w.]*)[ \t]+import[ \t]+\*", re.MULTILINE)
# What every star import holds, starting with a literal: the regex engine then skips ahead to
# each `import` at memory speed, where `_STAR` would try a match at every line of every file.
_STAR_HINT = re.compile(rb"import[ \t]+\*")


class ScopedNames:
    """Answers "does this file use one of these names where it can?" for a later round."""

    def __init__(self, scoped: Mapping[str, Scope | None], module: Callable[[str], str]) -> None:
        self._any = Prefilter(words_pattern(scoped))
        self._each = [
            (
                name.encode(),
                re.compile(re.escape(name.encode()) + rb"\b"),
                scope,
                Prefilter(_packages_pattern(scope.tops if scope is not None else ())),
            )
            for name, scope in sorted(scoped.items())
        ]
        self._known = sorted(
            {scope for scope in scoped.values() if scope is not None},
            key=lambda scope: (sorted(scope.bases), sorted(scope.tops), sorted(scope.sources)),
        )
        self._module = module

    def matches(self, path: str, data: bytes) -> bool | None:
        """Whether the file at `path` (root-relative) with these bytes is a candidate; None
        when it is not but a wider scope could make it one (it names a name, or star-imports:
        see `scopes`)."""
        named = self._any.matches(data)
        if named:
            for literal, pattern, scope, tops in self._each:
                if literal not in data or not pattern.search(data):
                    continue
                if scope is None or _under(path, scope.bases) or tops.matches(data):
                    return True
                if scope.sources and self._module(path) in scope.sources:
                    return True
        if _STAR_HINT.search(data) is None:
            return None if named else False
        return True if self._reexports(path, data) else None

    def _reexports(self, path: str, data: bytes) -> bool:
        """Whether the file star-imports a module defining a name from outside that name's
        scope (another top-level package or base folder): parsed, it widens the scope."""
        dotted = self._module(path)
        top, base = dotted.partition(".")[0], base_folder(path, dotted)
        package = dotted.split(".") if path.endswith("/__init__.py") else dotted.split(".")[:-1]
        for match in _STAR.finditer(data):
            dots, target = len(match[1]), match[2].decode()
            if dots:  # relative to this file's package
                within = package[: len(package) - dots + 1] if dots <= len(package) else []
                target = ".".join([*within, target] if target else within)
            for scope in self._known:
                if top in scope.tops and base in scope.bases:
                    continue  # a file importing from it can already use the name
                if any(_same_module(target, m) for m in scope.modules):
                    return True
        return False


def _under(path: str, bases: Iterable[str]) -> bool:
    return any(base == "" or path.startswith(f"{base}/") for base in bases)
