"""Which files can use a name that parsed modules define: the prefilter of the later rounds.

A later round looks for files naming an alias, a wrapper, an app or a base class that the
files parsed so far define (`retrying = shared_task(...)`, used elsewhere as `@retrying`).
Such names are often ordinary words (`app`, `job`, `broker`), and a monorepo's services each
have their own: looked for everywhere, one service's `app` would make every file of every
other service that says "app" a candidate, and each adapter's questions would then run over
all of them. But Python lets a file use a name another module defines only by importing it,
which bounds where it can be:

- under the folder the defining module's dotted name starts from (its `sys.path` entry, where
  relative imports and script siblings live: `base_folder`; by the file system's name and by
  the deeper one its own relative imports prove);
- anywhere else, only by an import that spells out a word of the defining module's path: the
  folder it is counted from (any folder above it may be on `sys.path`: the project root, a
  source root, a script's folder), or the folder after a relative import's dots;
- or in the module a parsed file imports the name from (an arq worker lists functions defined
  in a module that names no framework).

A module that imports the name from a module defining it (re-exports it) defines it too, and
so does one that star-imports such a module; a file that star-imports a defining module is a
candidate of its own. Once such re-exports are parsed, the files of the round that named a name
out of its scope (`ScopedNames.matches` says None) are asked again, in the same round, until no
scope grows. A name no parsed module defines or imports (a configured
decorator) is looked for everywhere, as a round-one marker is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from retrylint.python import ir
from retrylint.python.project import base_folder
from retrylint.scan.prefilter import Prefilter


def _spelled_pattern(words: Iterable[str]) -> list[re.Pattern[bytes]]:
    """Words as an import starts with them: not a part of a longer name, nor after an
    attribute's dot (`x.common` is not the package `common`; `from ..common` may be).
    Literal first, for `Prefilter`."""
    ordered = sorted(set(words))
    if not ordered:
        return []
    return [
        re.compile(
            b"|".join(
                word + rb"\b(?<!\w" + word + rb")(?<!\w\." + word + b")"
                for word in (re.escape(w.encode()) for w in ordered)
            )
        )
    ]


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a file can use one name: under one of `bases` (root-relative, "" for the root),
    anywhere that spells one of `words` (see `_spellings`), or as one of `sources` (dotted
    modules it is imported from)."""

    bases: frozenset[str]
    words: frozenset[str]
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
        definers = defining[name].values()
        out[name] = Scope(
            frozenset(base for s in found.values() for base in _bases(s, homes[s.path])),
            frozenset(word for s in definers for word in _spellings(s, homes[s.path])),
            frozenset(sources[name]),
            frozenset(dotted for s in definers for dotted in (s.module, homes[s.path]) if dotted),
        )
    return out


def _bases(summary: ir.ModuleSummary, dotted: str) -> set[str]:
    """The folders the module is counted from: by its file system name, and by the deeper one
    its own relative imports prove (a folder above is then a package to Python). Not the latter
    for a file outside the project root (reached through a link), where it would be a folder
    holding other projects."""
    bases = {base_folder(summary.path, dotted)}
    if not summary.path.startswith("../"):
        bases.add(base_folder(summary.path, summary.module))
    return bases


def _spellings(summary: ir.ModuleSummary, dotted: str) -> set[str]:
    """The words an import of this module can start with: any folder of its path (a folder
    above its base can be on `sys.path` too: the project root, a source root, a script's
    folder), its own name, and the parts of its dotted names. A file outside the project root
    (reached through a link) is found from its base folders only: its dotted names' parts."""
    folders, _, stem = summary.path.rpartition("/")
    words = set() if summary.path.startswith("../") else set(folders.split("/"))
    words.update(dotted.split("."), summary.module.split("."))
    if stem != "__init__.py":
        words.add(stem.rpartition(".")[0] or stem)
    return words - {"", "."}


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
        self._each = [
            (
                name.encode(),
                re.compile(re.escape(name.encode()) + rb"\b"),
                scope,
                Prefilter(_spelled_pattern(scope.words if scope is not None else ())),
            )
            for name, scope in sorted(scoped.items())
        ]
        self._modules = frozenset(m for s in scoped.values() if s is not None for m in s.modules)
        self._module = module

    def matches(self, path: str, data: bytes) -> bool | None:
        """Whether the file at `path` (root-relative) with these bytes is a candidate; None
        when it is not but a wider scope could make it one (it names a name, or star-imports:
        see `scopes`)."""
        named = False
        for literal, pattern, scope, spelled in self._each:
            if literal not in data or not pattern.search(data):
                continue
            named = True
            if scope is None or _under(path, scope.bases) or spelled.matches(data):
                return True
            if scope.sources and self._module(path) in scope.sources:
                return True
        if _STAR_HINT.search(data) is None:
            return None if named else False
        return True if self._reexports(path, data) else None

    def _reexports(self, path: str, data: bytes) -> bool:
        """Whether the file star-imports a module defining a name: parsed, it defines the name
        too, and widens its scope to where the file can be imported from."""
        dotted = self._module(path)
        package = dotted.split(".") if path.endswith("/__init__.py") else dotted.split(".")[:-1]
        for match in _STAR.finditer(data):
            dots, target = len(match[1]), match[2].decode()
            if dots:  # relative to this file's package
                within = package[: len(package) - dots + 1] if dots <= len(package) else []
                target = ".".join([*within, target] if target else within)
            if any(_same_module(target, m) for m in self._modules):
                return True
        return False


def _under(path: str, bases: Iterable[str]) -> bool:
    return any(base == "" or path.startswith(f"{base}/") for base in bases)
