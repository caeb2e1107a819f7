"""Modules loaded on demand for name resolution, parsed in batches instead of one at a time.

Name resolution asks for project modules as it follows imports (a decorator's definition, a
constant, a base class). Parsing each when first asked would parse them one by one on the main
thread, in a chain that cannot be spread over workers. Instead a question runs in *passes*: in
a pass a module not yet parsed is noted and resolution stops there (`Pending`); after the pass every
module noted is parsed in one batch (in the worker pool), and the question runs again. A pass
that notes nothing asked only for modules already parsed, so every answer in it is the one a
serial load would have given: its result is the result, identical for any number of workers.

The passes cost a re-run of the question each, which is cheap next to parsing; the number of
passes is the depth of the longest chain of imports a question follows, and each module is
parsed at most once a run, whatever pass or round asks for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from retrylint.python import ir
from retrylint.python.project import Loader, ModuleIndex, ModuleLocator, Pending
from retrylint.scan.files import relative
from retrylint.scan.python_parse import ParseProblem

Job = tuple[str, str, str, ir.Interest]  # absolute path, reported path, module, interest
Parse = Callable[[list[Job]], list[ir.ModuleSummary | ParseProblem]]
T = TypeVar("T")


class OnDemand:
    """The modules loaded on demand in one run, and those a pass has asked for but not got."""

    def __init__(
        self,
        root: Path,
        interest: ir.Interest,
        parse: Parse,
        prefetch: Callable[[Job], None] | None = None,
    ) -> None:
        self._root = root
        self._interest = interest
        self._parse = parse
        # Told of each module when a pass first asks for it, to start parsing it at once; the
        # batch after the pass still parses them all (`parse` takes over what has started).
        self._prefetch = prefetch
        # (absolute path, module) → summary, or None when the file could not be parsed.
        self.known: dict[tuple[str, str], ir.ModuleSummary | None] = {}
        self._wanted: dict[tuple[str, str], Job] = {}
        self.batches: list[int] = []  # how many modules each batch parsed (tests read it)
        self._locators: dict[tuple[Path, ...], ModuleLocator] = {}
        # Module indexes for every pass's `Project`: each is built once a run.
        self.indexes: dict[str, ModuleIndex] = {}

    def locator(self, bases: list[Path]) -> ModuleLocator:
        """The run's locator for these source roots: every pass of a question builds its
        project anew, and finds modules with the folder listings and answers of the last."""
        key = tuple(bases)
        found = self._locators.get(key)
        if found is None:
            found = self._locators[key] = ModuleLocator(self._root, bases)
        return found

    def loader(
        self, locator: ModuleLocator, parsed: Mapping[str, ir.ModuleSummary] | None = None
    ) -> Loader:
        """A `Project` loader that answers from parsed modules and notes the rest. `parsed`
        holds the pass's own files by absolute path: a module found there is not read again."""
        given = parsed or {}

        def load(dotted: str, near: str | None) -> ir.ModuleSummary | None:
            path = locator.find(dotted, None if near is None else str(self._root / near))
            if path is None:
                return None
            own = given.get(str(path))
            if own is not None and own.module == dotted:
                return own
            key = (str(path), dotted)
            if key in self.known:
                return self.known[key]
            if key not in self._wanted:
                job = (str(path), relative(path, self._root), dotted, self._interest)
                self._wanted[key] = job
                if self._prefetch is not None:
                    self._prefetch(job)
            raise Pending(dotted)

        return load

    def inputs(self) -> tuple[frozenset[str], frozenset[str]]:
        """The files loaded and the folders listed to find them: what the modules loaded would
        be again while none of these changes (a cached result's manifest)."""
        probed = (f for locator in self._locators.values() for f in locator.probed)
        files = frozenset((*(path for path, _ in self.known), *probed))
        folders = frozenset(f for locator in self._locators.values() for f in locator.folders)
        return files, folders

    @property
    def pending(self) -> bool:
        """Whether the current pass asked for a module that is not parsed yet."""
        return bool(self._wanted)

    def fetch(self) -> bool:
        """Parse every module asked for since the last fetch, as one batch; False when none."""
        if not self._wanted:
            return False
        keys = sorted(self._wanted)
        jobs = [self._wanted[key] for key in keys]
        self._wanted.clear()
        self.batches.append(len(jobs))
        for key, result in zip(keys, self._parse(jobs), strict=True):
            self.known[key] = result if isinstance(result, ir.ModuleSummary) else None
        return True

    def settle(self, compute: Callable[[], T]) -> T:
        """`compute()` run in passes until one needs no module it has not got; that pass's
        result. An exception from a pass with modules pending may come from a missing answer
        (a configured decorator not found yet), so it is decided by the next pass."""
        while True:
            try:
                result = compute()
            except Exception:
                if not self.fetch():
                    raise
                continue
            if not self.fetch():
                return result
