"""Cross-module name resolution over module summaries.

Answers "what does this name in this module refer to?" by following imports, re-exports and
star imports through other modules of the project, which are parsed on first use whether or not
they lie under the PATHS being checked (CONTRACTS §1 scope). Resolution never executes code:
names bound by anything but an import, a `def`, a `class` or an assignment stay unresolved.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from retrylint.python import ir

_MAX_HOPS = 24


@dataclass(frozen=True, slots=True)
class Resolved:
    """What a name refers to.

    `kind` is "binding" (module-level assignment), "class", "function", "module" (a project
    module), "external" (something outside the project, named by `qualified`), "ambiguous"
    (bound several times with different values) or "pending" (it lies in a module the loader
    has not parsed yet; see `Pending`).
    """

    kind: str
    qualified: str
    module: ir.ModuleSummary | None = None
    binding: ir.Binding | None = None
    cls: ir.Class | None = None
    function: ir.Function | None = None


# A dotted module name, and the base folder (root-relative, POSIX; "" for the root) of the
# module importing it, whose own modules come first as its folder comes first on `sys.path`.
Loader = Callable[[str, str | None], ir.ModuleSummary | None]


class Pending(Exception):
    """Raised by a loader for a project module it has not parsed yet (it will be, in a batch
    with others, before the question is asked again). Resolution stops at such a module instead
    of trying what a missing module would make it try (a shorter prefix, a script's sibling),
    so a pass asks only for modules the answer can depend on."""


def base_of(summary: ir.ModuleSummary) -> str:
    """The folder a module's dotted name starts from (root-relative): `services/api` for
    `app.tasks` in `services/api/app/tasks.py`, which Python finds with that folder on
    `sys.path`."""
    return base_folder(summary.path, summary.module)


def base_folder(path: str, dotted: str) -> str:
    """The folder the module at `path` (root-relative) is counted from when named `dotted`."""
    parts = path.split("/")
    depth = len(dotted.split(".")) if dotted else 0
    depth += 1 if parts[-1] == "__init__.py" else 0
    return "/".join(parts[: max(len(parts) - max(depth, 1), 0)])


class Project:
    """All module summaries of a run, keyed by dotted module name, loaded on demand.

    Several services of a monorepo may each have an `app.config`: an import resolves to the
    one in the importer's own base folder first (that service's `sys.path`), then to the one
    the loader finds first, so one service's constants never stand in for another's.
    """

    def __init__(
        self,
        summaries: list[ir.ModuleSummary],
        loader: Loader,
        indexes: dict[str, ModuleIndex] | None = None,
    ) -> None:
        self._modules: dict[str, ir.ModuleSummary | None] = {s.module: s for s in summaries}
        # Modules asked for from a base folder: that base's own first.
        self._own = {(s.module, base_of(s)): s for s in summaries}
        self._near: dict[tuple[str, str], ir.ModuleSummary | None] = {}
        self._loader = loader
        self._pending: set[str] = set()
        # An index depends on its summary alone, so projects of one run may share them.
        self._index: dict[str, ModuleIndex] = {} if indexes is None else indexes
        # Answers to questions asked from the top (no hops spent), keyed by the summary's
        # identity (kept alive in the value, so the id cannot be reused).
        self._answers: dict[tuple[int, str], tuple[ir.ModuleSummary, Resolved | None]] = {}
        # Every step of the question being answered. A name can be reached along two ways at
        # each import (the import, a script's sibling), so without this a chain of imports
        # costs 2 ** its length. Modules are loaded or found pending once, so within a
        # question a step always gives the same answer; keyed by the hops spent to reach it
        # only when `_MAX_HOPS` cut its answer short (`_cut`).
        self._steps: dict[tuple[int, str, int], Resolved | None] = {}
        self._qualified: dict[tuple[str, int, str | None], Resolved] = {}
        self._cut = False

    def module(self, dotted: str, near: str | None = None) -> ir.ModuleSummary | None:
        """The module `dotted`, as imported from a module in the base folder `near` (that
        base's own first), or from nowhere in particular (the first the loader finds)."""
        if near is None:
            if dotted not in self._modules:
                self._modules[dotted] = self._load(dotted, None)
            return self._modules[dotted]
        key = (dotted, near)
        if key not in self._near:
            found = self._own.get(key) or self._load(dotted, near)
            if found is None and dotted not in self._pending:
                # A module whose name its relative imports proved deeper than its path says
                # is not where the loader looks: known by name, as before there were bases.
                found = self._modules.get(dotted)
            self._near[key] = found
        return self._near[key]

    def _load(self, dotted: str, near: str | None) -> ir.ModuleSummary | None:
        try:
            return self._loader(dotted, near)
        except Pending:
            self._pending.add(dotted)
            return None

    def loaded(self) -> Iterator[ir.ModuleSummary]:
        every = (*self._own.values(), *self._modules.values(), *self._near.values())
        found = {id(s): s for s in every if s}
        yield from sorted(found.values(), key=lambda s: (s.module, s.path))

    def index(self, summary: ir.ModuleSummary) -> ModuleIndex:
        idx = self._index.get(summary.path)
        if idx is None or idx.summary is not summary:
            idx = self._index[summary.path] = ModuleIndex(summary)
        return idx

    def resolve(self, summary: ir.ModuleSummary, dotted: str, _hops: int = 0) -> Resolved | None:
        """Resolve a dotted name as written in `summary` (module scope).

        Each adapter asks about the same names (every decorator, every call's function), so
        an answer is kept once found. Only answers to questions asked from the top are kept:
        one reached after spending hops may have been cut short by `_MAX_HOPS`.
        """
        if _hops:
            return self._resolve(summary, dotted, _hops)
        key = (id(summary), dotted)
        kept = self._answers.get(key)
        if kept is not None and kept[0] is summary:
            return kept[1]
        self._new_question()
        found = self._resolve(summary, dotted, 0)
        self._answers[key] = (summary, found)
        return found

    def _new_question(self) -> None:
        self._steps.clear()
        self._qualified.clear()
        self._cut = False

    def _resolve(self, summary: ir.ModuleSummary, dotted: str, _hops: int) -> Resolved | None:
        for step in ((id(summary), dotted, -1), (id(summary), dotted, _hops)):
            if step in self._steps:
                return self._steps[step]
        outer, self._cut = self._cut, False
        found = self._step(summary, dotted, _hops)
        self._steps[id(summary), dotted, _hops if self._cut else -1] = found
        self._cut = outer or self._cut
        return found

    def _step(self, summary: ir.ModuleSummary, dotted: str, _hops: int) -> Resolved | None:
        if _hops > _MAX_HOPS:
            self._cut = True
            return None
        head, _, rest = dotted.partition(".")
        idx = self.index(summary)
        local = idx.lookup(head)
        if local is not None:
            if not rest:
                return local
            if local.kind == "class" and local.cls is not None:
                return Resolved("external", f"{local.qualified}.{rest}", summary, cls=local.cls)
            return Resolved("external", f"{local.qualified}.{rest}")
        target = idx.imports.get(head)
        if target is not None:
            full = f"{target}.{rest}" if rest else target
            imported = self.resolve_qualified(full, _hops + 1, idx.base)
            if imported.kind == "external":
                return self._script_sibling(summary, full, _hops) or imported
            return imported
        for star in idx.stars:
            module = self.module(star, idx.base)
            if module is not None and module is not summary:
                found = self.resolve(module, dotted, _hops + 1)
                if found is not None and found.kind not in ("external", "pending"):
                    return found
        if head in _BUILTINS and not rest:
            return Resolved("external", f"builtins.{head}")
        return None

    def _script_sibling(self, summary: ir.ModuleSummary, full: str, hops: int) -> Resolved | None:
        """`from helpers import f` in a file run as a script finds `helpers.py` beside it
        (its folder is `sys.path[0]`). Taken only when that sibling defines the name, so a
        project module named like a library (`proj/celery.py`) never hides the library."""
        package = summary.module if summary.path.endswith("__init__.py") else ""
        package = package or summary.module.rpartition(".")[0]
        if not package:
            return None
        found = self.resolve_qualified(f"{package}.{full}", hops + 1, self.index(summary).base)
        if found.kind in ("external", "pending", "module") or found.module is summary:
            return None
        return found

    def resolve_string(self, summary: ir.ModuleSummary, dotted: str) -> Resolved:
        """A dotted path written as a string in `summary` (`"app.jobs.send"`, a setting's
        class path), which the framework imports as the importer's own service would."""
        return self.resolve_qualified(dotted, near=self.index(summary).base)

    def resolve_qualified(
        self, qualified: str, _hops: int = 0, near: str | None = None
    ) -> Resolved:
        """Resolve a fully dotted name: the longest prefix that is a project module wins (as
        imported from the base folder `near`, when a module there imports it)."""
        if not _hops:
            self._new_question()
        found = self._qualified.get((qualified, -1, near)) or self._qualified.get(
            (qualified, _hops, near)
        )
        if found is None:
            outer, self._cut = self._cut, False
            found = self._resolve_qualified(qualified, _hops, near)
            self._qualified[qualified, _hops if self._cut else -1, near] = found
            self._cut = outer or self._cut
        return found

    def _resolve_qualified(self, qualified: str, _hops: int, near: str | None) -> Resolved:
        parts = qualified.split(".")
        for cut in range(len(parts), 0, -1):
            name = ".".join(parts[:cut])
            module = self.module(name, near)
            if module is None:
                if name in self._pending:
                    return Resolved("pending", qualified)
                continue
            if cut == len(parts):
                return Resolved("module", qualified, module)
            found = self.resolve(module, ".".join(parts[cut:]), _hops + 1)
            if found is not None:
                return found
            break
        return Resolved("external", qualified)


class ModuleIndex:
    """Module-scope names of one summary; a name bound twice with different text is ambiguous."""

    def __init__(self, summary: ir.ModuleSummary) -> None:
        self.summary = summary
        self.base = base_of(summary)  # where its imports are looked for first
        self.imports: dict[str, str] = {}
        self.stars: list[str] = []
        for imp in summary.imports:
            if imp.local == "*":
                self.stars.append(imp.target)
            else:
                self.imports.setdefault(imp.local, imp.target)
        self._bindings: dict[str, list[ir.Binding]] = {}
        for binding in summary.bindings:
            self._bindings.setdefault(binding.target, []).append(binding)
        self._classes = {c.qualname: c for c in summary.classes}
        self._functions = {f.qualname: f for f in summary.functions}

    def lookup(self, name: str) -> Resolved | None:
        qualified = f"{self.summary.module}.{name}" if self.summary.module else name
        if name in self._classes:
            return Resolved("class", qualified, self.summary, cls=self._classes[name])
        if name in self._functions:
            return Resolved("function", qualified, self.summary, function=self._functions[name])
        bound = self._bindings.get(name)
        if bound:
            if len({b.value.text for b in bound}) > 1:
                return Resolved("ambiguous", qualified, self.summary, binding=bound[-1])
            return Resolved("binding", qualified, self.summary, binding=bound[-1])
        return None


class ModuleLocator:
    """Maps dotted module names to files under the project root without walking it.

    Most questions are about modules that are not in the project (every import of a library
    is asked about under every source root), so each directory is listed once and names are
    looked up in its listing: a miss costs a set lookup instead of two `stat` calls per root.
    A name the listing holds is still checked with `isfile`, as before (a folder named `x.py`,
    a dangling symlink). Names match exactly, as Python's imports do, also on file systems
    that ignore case.
    """

    def __init__(self, root: Path, bases: list[Path]) -> None:
        self._bases = [str(b) for b in dict.fromkeys([*bases, root, root / "src"])]
        self._listings: dict[str, frozenset[str]] = {}
        # Paths a listing named and `isfile` was asked about (a dangling link is not a file).
        self._probed: set[str] = set()
        # The files do not change during a run, and each pass of a question asks again.
        self._found: dict[tuple[str, str | None], Path | None] = {}

    def find(self, dotted: str, near: str | None = None) -> Path | None:
        """The file of module `dotted`: under the folder `near` (absolute) first when given,
        then under each source root in turn."""
        key = (dotted, near)
        if key in self._found:
            return self._found[key]
        parts = [part for part in dotted.split(".") if part]
        found: Path | None = None
        if near is None:
            for base in self._bases if parts else ():
                under = self._find_under(base, parts)
                if under is not None:
                    found = Path(under)
                    break
        else:
            # Only `near` is new: the other roots give the answer asked without one (kept
            # once, not once per folder asking: a project of many script folders asks each
            # library import from each of them).
            under = self._find_under(near, parts) if parts else None
            found = Path(under) if under is not None else self.find(dotted)
        self._found[key] = found
        return found

    @property
    def folders(self) -> frozenset[str]:
        """The folders listed so far: what the answers depend on besides the files found."""
        return frozenset(self._listings)

    @property
    def probed(self) -> frozenset[str]:
        """The files looked at, found or not (a link whose target is missing)."""
        return frozenset(self._probed)

    def _find_under(self, base: str, parts: list[str]) -> str | None:
        """`base/a/b.py`, else `base/a/b/__init__.py`, for the parts `a`, `b`."""
        directory = base
        for part in parts[:-1]:
            if part not in self._listing(directory):
                return None
            directory = os.path.join(directory, part)
        last = parts[-1]
        names = self._listing(directory)
        if f"{last}.py" in names:
            module = os.path.join(directory, f"{last}.py")
            self._probed.add(module)
            if os.path.isfile(module):
                return module
        if last in names:
            package = os.path.join(directory, last)
            if "__init__.py" in self._listing(package):
                init = os.path.join(package, "__init__.py")
                self._probed.add(init)
                if os.path.isfile(init):
                    return init
        return None

    def _listing(self, directory: str) -> frozenset[str]:
        names = self._listings.get(directory)
        if names is None:
            try:
                names = frozenset(os.listdir(directory))
            except OSError:  # missing, not a folder, or unreadable: nothing found in it
                names = frozenset()
            self._listings[directory] = names
        return names


_BUILTINS = frozenset(
    {
        "BaseException",
        "Exception",
        "ArithmeticError",
        "LookupError",
        "OSError",
        "IOError",
        "EnvironmentError",
        "ConnectionError",
        "TimeoutError",
        "RuntimeError",
        "ValueError",
        "TypeError",
        "KeyError",
        "IndexError",
        "AttributeError",
        "NotImplementedError",
        "PermissionError",
        "FileNotFoundError",
        "BrokenPipeError",
        "ConnectionResetError",
        "ConnectionRefusedError",
        "ConnectionAbortedError",
        "InterruptedError",
        "BlockingIOError",
        "int",
        "float",
        "str",
        "dict",
        "list",
        "tuple",
        "set",
        "bool",
    }
)
