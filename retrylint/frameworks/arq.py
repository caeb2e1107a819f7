"""arq (written against 0.28.0; the retry semantics below hold from 0.22).

arq has no task decorator: a job is a coroutine listed in a worker's `functions` (or
`cron_jobs`). Recognised registrations: `WorkerSettings`-style classes whose own body sets
`functions` / `cron_jobs`, `Worker(functions=...)` calls, entries written as a function, a dotted
string, `func(coroutine, name=, max_tries=)` or `cron(coroutine, ..., max_tries=)`, lists built up
with `append` / `extend` / `+=`, and dotted strings that reach `functions` through configuration
code (a default of an environment lookup, a comprehension over a constant list). Worker options
come from the class body and from `run_worker(Settings, ...)` / `create_worker(Settings, ...)`
keyword overrides.

Semantics, from arq's source (`arq/worker.py`, reference §5):
- `max_tries` counts executions (`job_try > max_tries` fails the job, l.550): rows report
  `max_tries - 1` retries. `func(max_tries=None)` falls back to the worker value (default 5);
  cron jobs default to 1.
- arq never retries an ordinary exception. Only `raise Retry(defer=...)` (manual) and a cancelled
  job (worker shutdown) run again; `retry_jobs=False` turns both into failures.
- `Retry(defer=d)` waits `d` seconds (or a timedelta). `ctx['job_try']` is 1 on the first run, so
  a defer written as `ctx['job_try'] * N` waits `(r + 1) * N` before retry `r + 1`.
- `get_kwargs()` reads only the settings class's own `__dict__`: inherited options are ignored.
- `max_tries` cannot be given at enqueue time (`enqueue_job(..., max_tries=3)` passes a keyword
  argument to the job); `_job_try=N` starts the try counter at N, leaving `max_tries - N` retries.

Not recognised (reported as undecided where it matters): settings given as dicts, job lists
computed by functions, and jobs that reach `ctx` only through `*args` when retrylint cannot see
the call they forward it to.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

from retrylint.frameworks.base import (
    AdapterContext,
    Option,
    UndecidedLog,
    draws_random,
    method_ref,
    policy_row,
    source_of,
)
from retrylint.model import (
    UNBOUNDED,
    UNDECIDED,
    Capabilities,
    Count,
    EffectivePolicy,
    FrameworkInfo,
    Location,
    Observation,
    Provenance,
    Site,
    Source,
)
from retrylint.python import ir
from retrylint.python.evaluate import (
    Formula,
    Known,
    Sym,
    Unknown,
    Value,
    location_of,
    number,
)
from retrylint.python.project import Resolved
from retrylint.resolve.schedule import (
    Fields,
    RetryPath,
    combine,
    constant_delay,
    never_retries,
)

KEY = "arq"
# The version the facts below were read from (reference §0), assumed when none is detected.
REFERENCE_VERSION = "0.28.0"

DEFAULT_MAX_TRIES = 5  # Worker(max_tries=5), arq/worker.py l.209
CRON_MAX_TRIES = 1  # cron(max_tries=1), arq/cron.py l.145

_FUNC = frozenset({"arq.func", "arq.worker.func"})
_CRON = frozenset({"arq.cron", "arq.cron.cron"})
_RETRY = frozenset({"arq.Retry", "arq.worker.Retry"})
_RETRY_JOB = frozenset({"arq.worker.RetryJob"})
_WORKER = frozenset({"arq.Worker", "arq.worker.Worker"})
_RUNNERS = frozenset({"arq.run_worker", "arq.worker.run_worker", "arq.worker.create_worker"})
_PARTIAL = frozenset({"functools.partial"})
_UNBOUNDED_SYMBOLS = frozenset({"math.inf", "sys.maxsize", "numpy.inf"})
_WORKER_OPTIONS = ("max_tries", "retry_jobs", "keep_result_forever")
_DEFAULT_OF: dict[str, object] = {"max_tries": DEFAULT_MAX_TRIES, "retry_jobs": True}
_LIST_ATTRIBUTES = ("functions", "cron_jobs")
# A sentinel name standing for `ctx['job_try']` while a defer expression is evaluated.
_JOB_TRY = "__arq_job_try__"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_IMPORTER = re.compile(r"\bimport_\w+\s*\(|\bimport_module\b|\blocate\s*\(|\bimport_string\b")
_STRING = re.compile(r"""(['"])([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+)\1""")
_MAX_DEPTH = 8

_NO_RETRY_NOTE = "arq retries only a raised Retry (and cancelled jobs)"
_RETRY_JOBS_OFF = "retry_jobs=False: the worker fails a job that raises Retry"


@dataclass(frozen=True, slots=True)
class _Entry:
    """One job registration: an item of a worker's `functions` or `cron_jobs`."""

    kind: Literal["function", "cron"]
    expr: ir.Expr  # the item as written, for locations and quotes
    module: ir.ModuleSummary  # where the item is written
    target: Resolved | None  # the coroutine, when it is a project function
    name: str | None
    name_expression: str | None
    max_tries: Option | None  # func(max_tries=) / cron(max_tries=), when written
    coroutine_text: str


@dataclass
class _Worker:
    """A worker configuration: a settings class or a `Worker(...)` call."""

    label: str
    module: ir.ModuleSummary
    location: Location
    options: dict[str, Option] = field(default_factory=dict)
    entries: list[_Entry] = field(default_factory=list)
    # Options a base settings class sets, which arq never reads: (name, option, base name).
    inherited: list[tuple[str, Option, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Raise:
    """A `raise Retry(...)` reachable from a job, with the names `ctx` goes by there."""

    raised: ir.Raise
    fn: ir.Function
    module: ir.ModuleSummary
    ctx_names: frozenset[str]


class ArqAdapter:
    key = KEY
    info = FrameworkInfo(
        "arq",
        "arq",
        in_process=False,
        capabilities=Capabilities(
            count="setting", backoff="code", jitter="code", dead_letter="code"
        ),
    )
    packages: tuple[str, ...] = ("arq",)
    # A file that imports arq, defines worker settings (a class body assigning `functions`),
    # or reads the try counter.
    markers = re.compile(
        rb"arq\b|WorkerSettings|job_try|cron_jobs|functions\s*(?::[^=\n]*)?=",
        re.MULTILINE,
    )
    interest = ir.Interest(
        calls=frozenset(
            {
                "Retry",
                "RetryJob",
                "func",
                "cron",
                "Worker",
                "run_worker",
                "create_worker",
                "enqueue_job",
                "partial",
            }
        ),
        # `ctx` and `args` make the extractor walk job bodies that mention no other arq name
        # (a job that only hands ctx, or `*args`, to a helper) and keep `ctx = args[0]`.
        attributes=frozenset({*_LIST_ATTRIBUTES, *_WORKER_OPTIONS, "ctx", "args"}),
    )

    def analyze(self, ctx: AdapterContext) -> Iterable[EffectivePolicy | Observation]:
        return _Analysis(ctx).rows()

    def project_markers(self, ctx: AdapterContext) -> frozenset[str]:
        """Job functions live in files that need not mention arq: parse files naming them."""
        names: set[str] = set()
        for worker in _Analysis(ctx).workers():
            for entry in worker.entries:
                if entry.target is not None and entry.target.function is not None:
                    names.add(entry.target.function.name)
        return frozenset(names)


class _Analysis:
    def __init__(self, ctx: AdapterContext) -> None:
        self.ctx = ctx
        self.project = ctx.project
        self.evaluator = ctx.evaluator
        self.scanned = {s.path for s in ctx.scanned}
        self._workers: list[_Worker] | None = None

    # -- workers -------------------------------------------------------------------------

    def workers(self) -> list[_Worker]:
        if self._workers is not None:
            return self._workers
        found: list[_Worker] = []
        seen: set[tuple[str, int, int]] = set()
        modules = list(self.project.loaded())
        overrides = self._overrides(modules)
        for module in modules:
            imports_arq = any(
                imp.target == "arq" or imp.target.startswith("arq.") for imp in module.imports
            )
            for cls in module.classes:
                own = {a.target for a in cls.attributes}
                if not own & set(_LIST_ATTRIBUTES):
                    continue
                if not (imports_arq or cls.name.endswith("Settings")):
                    continue
                found.append(self._settings_worker(cls, module, overrides))
            for call, _ in _calls_in(module):
                if self._resolves_to(call.func, module, _WORKER):
                    found.append(self._call_worker(call, module))
        unique: list[_Worker] = []
        for worker in found:
            key = (worker.location.path, worker.location.line, worker.location.column)
            if key not in seen:
                seen.add(key)
                unique.append(worker)
        self._workers = unique
        return unique

    def _resolves_to(self, expr: ir.Expr, module: ir.ModuleSummary, names: frozenset[str]) -> bool:
        # The final name must match before anything is resolved: resolving every call of the
        # project would parse every module those calls lead to.
        if not isinstance(expr, ir.Ref) or not any(
            expr.dotted.rpartition(".")[2] == name.rpartition(".")[2] for name in names
        ):
            return False
        found = self.project.resolve(module, expr.dotted)
        return found is not None and found.qualified in names

    def _overrides(self, modules: list[ir.ModuleSummary]) -> dict[str, list[Option]]:
        """`run_worker(Settings, max_tries=3)`: keyword overrides per settings class."""
        out: dict[str, list[Option]] = {}
        for module in modules:
            for call, _ in _calls_in(module):
                if not call.args or not self._resolves_to(call.func, module, _RUNNERS):
                    continue
                settings = call.args[0]
                if not isinstance(settings, ir.Ref):
                    continue
                target = self.project.resolve(module, settings.dotted)
                if target is None or target.kind != "class":
                    continue
                for kw in call.kwargs:
                    if kw.name in _WORKER_OPTIONS:
                        value = self.evaluator.eval(kw.value, module)
                        out.setdefault(target.qualified, []).append(
                            Option(
                                kw.name,
                                value,
                                kw.value,
                                location_of(module, kw.value.span),
                                source_of(value, "config"),
                                f"{call.func.text}({settings.text}, {kw.name}=...)",
                                module,
                            )
                        )
        return out

    def _settings_worker(
        self, cls: ir.Class, module: ir.ModuleSummary, overrides: dict[str, list[Option]]
    ) -> _Worker:
        qualified = f"{module.module}.{cls.qualname}" if module.module else cls.qualname
        worker = _Worker(cls.name, module, location_of(module, cls.name_span))
        for attr in cls.attributes:
            if attr.target in _WORKER_OPTIONS:
                value = self.evaluator.eval(attr.value, module)
                worker.options[attr.target] = Option(
                    attr.target,
                    value,
                    attr.value,
                    location_of(module, attr.value.span),
                    source_of(value, "config"),
                    f"{cls.name}.{attr.target}",
                    module,
                )
        for option in overrides.get(qualified, []):
            worker.options[option.name] = option
        for attr in cls.attributes:
            if attr.target in _LIST_ATTRIBUTES:
                kind: Literal["function", "cron"] = (
                    "cron" if attr.target == "cron_jobs" else "function"
                )
                worker.entries.extend(self._entries(attr.value, module, kind, strict=True))
        # Options a base class sets are never read (get_kwargs reads the class __dict__).
        for base in cls.bases:
            if not isinstance(base, ir.Ref):
                continue
            found = self.project.resolve(module, base.dotted)
            if found is None or found.cls is None or found.module is None:
                continue
            for attr in found.cls.attributes:
                if attr.target in ("max_tries", "retry_jobs") and attr.target not in (
                    worker.options
                ):
                    value = self.evaluator.eval(attr.value, found.module)
                    worker.inherited.append(
                        (
                            attr.target,
                            Option(
                                attr.target,
                                value,
                                attr.value,
                                location_of(found.module, attr.value.span),
                                "inherited",
                                module=found.module,
                            ),
                            found.cls.name,
                        )
                    )
        return worker

    def _call_worker(self, call: ir.Call, module: ir.ModuleSummary) -> _Worker:
        worker = _Worker(call.func.text, module, location_of(module, call.span))
        for kw in call.kwargs:
            if kw.name in _WORKER_OPTIONS:
                value = self.evaluator.eval(kw.value, module)
                worker.options[kw.name] = Option(
                    kw.name,
                    value,
                    kw.value,
                    location_of(module, kw.value.span),
                    source_of(value, "config"),
                    f"Worker({kw.name}=...)",
                    module,
                )
            elif kw.name in _LIST_ATTRIBUTES:
                kind: Literal["function", "cron"] = "cron" if kw.name == "cron_jobs" else "function"
                worker.entries.extend(self._entries(kw.value, module, kind, strict=True))
        return worker

    # -- job lists -----------------------------------------------------------------------

    def _entries(
        self,
        expr: ir.Expr,
        module: ir.ModuleSummary,
        kind: Literal["function", "cron"],
        strict: bool,
        depth: int = 0,
        seen: frozenset[tuple[str, str]] = frozenset(),
        imported: bool = False,
    ) -> list[_Entry]:
        """The jobs a list expression registers.

        `strict` lists are read item by item (anything is a job). Expressions arq evaluates at
        run time (comprehensions, environment lookups with a default) are searched instead:
        only dotted strings and names that lead to a coroutine of the project count there.
        `imported` marks dotted strings the code imports itself (`import_string(path)`): arq
        then gets the function and names the job after it, not after the string.
        """
        if depth > _MAX_DEPTH:
            return []
        out: list[_Entry] = []

        def again(e: ir.Expr, m: ir.ModuleSummary, s: bool, i: bool = imported) -> None:
            out.extend(self._entries(e, m, kind, s, depth + 1, seen, i))

        if isinstance(expr, ir.Seq):
            for item in expr.items:
                if isinstance(item, ir.Starred):
                    again(item.value, module, strict)
                elif strict:
                    out.extend(self._entry(item, module, kind, depth))
                else:
                    again(item, module, False)
            return out
        if isinstance(expr, ir.BinOp) and expr.op == "+":
            again(expr.left, module, strict)
            again(expr.right, module, strict)
            return out
        if isinstance(expr, ir.Ref):
            found = self.project.resolve(module, expr.dotted)
            if found is None:
                return out
            if found.kind in ("binding", "ambiguous") and found.module is not None:
                key = (found.module.module, expr.dotted.rpartition(".")[2])
                if key in seen:
                    return out
                name = found.qualified.rpartition(".")[2]
                return self._list_binding(
                    found.module, name, kind, strict, depth, seen | {key}, imported
                )
            if not strict and self._is_coroutine(found):
                out.extend(self._entry(expr, module, kind, depth))
            return out
        if isinstance(expr, ir.Call):
            if self._resolves_to(expr.func, module, _FUNC | _CRON):
                out.extend(self._entry(expr, module, kind, depth))
                return out
            # `list(X)`, `tuple(X)`, `config("ENV", default=[...])`, `import_string(...)`.
            importing = imported or _IMPORTER.search(expr.func.text) is not None
            for arg in (*expr.args, *(kw.value for kw in expr.kwargs)):
                again(arg, module, strict and _is_builtin_copy(expr, self, module), importing)
            return out
        if isinstance(expr, ir.Const) and not strict:
            if (
                isinstance(expr.value, str)
                and self._dotted_coroutine(expr.value, module) is not None
            ):
                out.extend(self._entry(expr, module, kind, depth, imported))
            return out
        if isinstance(expr, ir.Opaque):
            out.extend(self._opaque(expr, module, kind, depth, seen, imported))
        return out

    def _list_binding(
        self,
        module: ir.ModuleSummary,
        name: str,
        kind: Literal["function", "cron"],
        strict: bool,
        depth: int,
        seen: frozenset[tuple[str, str]],
        imported: bool,
    ) -> list[_Entry]:
        """Every binding of a module-level list, plus `NAME.append(...)` / `.extend(...)`."""
        out: list[_Entry] = []
        for binding in [b for b in module.bindings if b.target == name]:
            out.extend(
                self._entries(binding.value, module, kind, strict, depth + 1, seen, imported)
            )
        for call in module.calls:
            if not isinstance(call.func, ir.Ref) or call.func.dotted.rpartition(".")[0] != name:
                continue
            method = call.func.dotted.rpartition(".")[2]
            if method == "append" and call.args:
                if strict:
                    out.extend(self._entry(call.args[0], module, kind, depth + 1))
                else:
                    out.extend(
                        self._entries(call.args[0], module, kind, False, depth + 1, seen, imported)
                    )
            elif method == "insert" and len(call.args) == 2:
                out.extend(self._entry(call.args[1], module, kind, depth + 1))
            elif method == "extend" and call.args:
                out.extend(
                    self._entries(call.args[0], module, kind, strict, depth + 1, seen, imported)
                )
        return out

    def _opaque(
        self,
        expr: ir.Opaque,
        module: ir.ModuleSummary,
        kind: Literal["function", "cron"],
        depth: int,
        seen: frozenset[tuple[str, str]],
        imported: bool,
    ) -> list[_Entry]:
        """Names and dotted strings inside code retrylint does not evaluate (a comprehension,
        a conditional expression) that lead to coroutines of the project."""
        out: list[_Entry] = []
        text = expr.text
        strings = "".join(" " if m else ch for ch, m in _string_mask(text))
        imported = imported or _IMPORTER.search(strings) is not None
        for match in _STRING.finditer(text):
            found = self._dotted_coroutine(match.group(2), module)
            if found is not None:
                const = ir.Const(match.group(2), match.group(0), expr.span)
                out.extend(self._entry(const, module, kind, depth, imported))
        for match in _IDENTIFIER.finditer(strings):
            ref = ir.Ref(match.group(0), match.group(0), expr.span)
            out.extend(self._entries(ref, module, kind, False, depth + 1, seen, imported))
        return out

    def _dotted_coroutine(self, dotted: str, module: ir.ModuleSummary) -> Resolved | None:
        if "." not in dotted:
            return None
        found = self.project.resolve_string(module, dotted)
        return found if self._is_coroutine(found) else None

    @staticmethod
    def _is_coroutine(found: Resolved | None) -> bool:
        return found is not None and found.function is not None and found.function.is_async

    def _entry(
        self,
        expr: ir.Expr,
        module: ir.ModuleSummary,
        kind: Literal["function", "cron"],
        depth: int,
        imported: bool = False,
    ) -> list[_Entry]:
        """One registration item: a coroutine, a dotted string, or `func(...)` / `cron(...)`."""
        if depth > _MAX_DEPTH:
            return []
        coroutine: ir.Expr | None = expr
        name_expr: ir.Expr | None = None
        max_tries: Option | None = None
        if isinstance(expr, ir.Call):
            is_cron = self._resolves_to(expr.func, module, _CRON)
            if not is_cron and not self._resolves_to(expr.func, module, _FUNC):
                return [self._opaque_entry(expr, module, kind)]
            kind = "cron" if is_cron else kind
            coroutine = expr.args[0] if expr.args else expr.kwarg("coroutine")
            name_expr = expr.kwarg("name")
            tries = expr.kwarg("max_tries")
            if tries is not None:
                value = self.evaluator.eval(tries, module)
                max_tries = Option(
                    "max_tries",
                    value,
                    tries,
                    location_of(module, tries.span),
                    source_of(value, "explicit"),
                    f"{expr.func.text}(max_tries=...)",
                    module,
                )
            if coroutine is None:
                return [self._opaque_entry(expr, module, kind)]
        elif isinstance(expr, ir.Ref):
            found = self.project.resolve(module, expr.dotted)
            if found is not None and found.kind == "binding" and found.binding and found.module:
                bound = found.binding.value
                if isinstance(bound, ir.Call | ir.Ref | ir.Const):
                    inner = self._entry(bound, found.module, kind, depth + 1)
                    return [replace(e, expr=expr, module=module) for e in inner]
        assert coroutine is not None
        target, default_name = self._coroutine(coroutine, module)
        if imported and target is not None and target.function is not None:
            default_name = target.function.qualname  # the code imported the string itself
        name: str | None = default_name
        name_expression: str | None = None
        # `name or coroutine.__qualname__` (`func`), `name or 'cron:' + ...` (`cron`): a falsy
        # name= counts as none.
        given = self.evaluator.eval(name_expr, module) if name_expr is not None else None
        if name_expr is not None and not (isinstance(given, Known) and not given.value):
            if isinstance(given, Known) and isinstance(given.value, str):
                name = given.value
            else:
                name, name_expression = None, name_expr.text
        elif kind == "cron" and name is not None:
            name = f"cron:{name}"  # arq names cron jobs 'cron:' + the coroutine's name
        if name is None and name_expression is None:
            name_expression = coroutine.text
        return [
            _Entry(kind, expr, module, target, name, name_expression, max_tries, coroutine.text)
        ]

    def _opaque_entry(
        self, expr: ir.Expr, module: ir.ModuleSummary, kind: Literal["function", "cron"]
    ) -> _Entry:
        return _Entry(kind, expr, module, None, None, expr.text, None, expr.text)

    def _coroutine(
        self, expr: ir.Expr, module: ir.ModuleSummary
    ) -> tuple[Resolved | None, str | None]:
        """The coroutine a registration names, and the name arq gives it by default."""
        value = self.evaluator.eval(expr, module)
        if isinstance(value, Known) and isinstance(value.value, str):
            # `func('pkg.jobs.send')`: arq imports the string and names the job after it.
            named = self.project.resolve_string(module, value.value.replace(":", "."))
            return (named if named.function is not None else None), value.value
        if isinstance(expr, ir.Ref):
            found = self.project.resolve(module, expr.dotted)
            if found is not None and found.function is not None:
                return found, found.function.qualname
            method = method_ref(self.ctx, expr, module)
            if method is not None:
                # `Jobs.rebuild`: a (static) method's `__qualname__` includes its class.
                qualified = f"{method.defining_module.module}.{method.qualname}"
                resolved = Resolved(
                    "function", qualified, method.defining_module, function=method.method
                )
                return resolved, method.qualname
            if found is not None and found.kind == "external":
                return None, found.qualified.rpartition(".")[2]
        if isinstance(value, Sym):
            return None, value.qualified.rpartition(".")[2]
        return None, None

    # -- rows ----------------------------------------------------------------------------

    def rows(self) -> Iterator[EffectivePolicy | Observation]:
        emitted: set[tuple[str | None, str, int, str]] = set()
        jobs: dict[str, tuple[_Worker, _Entry, _JobBuilder]] = {}
        for worker in self.workers():
            for entry in worker.entries:
                builder = _JobBuilder(self, worker, entry)
                row = builder.build()
                if row is None:
                    continue
                key = (row.name, row.location.path, row.location.line, worker.label)
                if key in emitted:
                    continue
                emitted.add(key)
                if row.name is not None:
                    jobs.setdefault(row.name, (worker, entry, builder))
                yield row
                yield from builder.observations(row)
            yield from self._inherited(worker)
        yield from self._enqueues(jobs)

    def _inherited(self, worker: _Worker) -> Iterator[Observation]:
        if worker.module.path not in self.scanned:
            return
        for name, option, base in worker.inherited:
            yield Observation(
                "ignored-retry-option",
                worker.location,
                f"`{worker.label}` inherits {name}={option.text} from `{base}` "
                f"({option.location}), but arq reads only the settings class's own attributes: "
                f"the worker runs with arq's default {name}={_DEFAULT_OF[name]}",
                f"Set {name} in `{worker.label}` itself.",
                KEY,
                None,
                None,
            )

    def _enqueues(
        self, jobs: dict[str, tuple[_Worker, _Entry, _JobBuilder]]
    ) -> Iterator[EffectivePolicy | Observation]:
        """`enqueue_job('name', _job_try=N)` starts the try counter at N (CONTRACTS §4)."""
        for module in self.ctx.scanned:
            for call, fn in _calls_in(module):
                if not _is_enqueue(call) or not call.args:
                    continue
                name_value = self.evaluator.eval(call.args[0], module)
                name = (
                    name_value.value
                    if isinstance(name_value, Known) and isinstance(name_value.value, str)
                    else None
                )
                job = jobs.get(name) if name is not None else None
                yield from self._enqueue_ignored(call, module, name, job)
                start = call.kwarg("_job_try")
                if start is None:
                    continue
                if job is not None:
                    yield job[2].enqueue_row(call, start, module, fn)

    def _enqueue_ignored(
        self,
        call: ir.Call,
        module: ir.ModuleSummary,
        name: str | None,
        job: tuple[_Worker, _Entry, _JobBuilder] | None,
    ) -> Iterator[Observation]:
        for kw in call.kwargs:
            if kw.name not in ("max_tries", "_max_tries", "retry_jobs", "_retry_jobs"):
                continue
            if job is not None:
                target = job[1].target
                if target is not None and target.function and kw.name in target.function.params:
                    continue  # a real argument of the job
            subject = f"`{name}`" if name else f"`{call.args[0].text}`"
            yield Observation(
                "ignored-retry-option",
                location_of(module, kw.value.span),
                f"{subject} is enqueued with {kw.name}={kw.value.text}, but enqueue_job has no "
                "such option: arq passes it to the job as a keyword argument and the retry "
                "limit stays the function's or the worker's",
                "Set max_tries with func(..., max_tries=N) in the worker's functions, or on "
                "WorkerSettings.",
                KEY,
                name,
                "enqueue",
            )


class _JobBuilder:
    """Resolves one registered job into its inventory row."""

    def __init__(self, analysis: _Analysis, worker: _Worker, entry: _Entry) -> None:
        self.a = analysis
        self.worker = worker
        self.entry = entry
        self.evaluator = analysis.evaluator
        self.log = UndecidedLog()
        target = entry.target
        self.fn: ir.Function | None = target.function if target is not None else None
        self.fn_module: ir.ModuleSummary | None = target.module if target is not None else None
        self.found_raises: list[_Raise] = []

    # -- options -------------------------------------------------------------------------

    def max_tries(self) -> Option:
        own = self.entry.max_tries
        if own is not None and not (isinstance(own.value, Known) and own.value.value is None):
            return own
        if self.entry.kind == "cron" and own is None:
            return Option(
                "max_tries",
                Known(CRON_MAX_TRIES),
                None,
                None,
                "default",
                f"arq's cron default max_tries={CRON_MAX_TRIES} (executions)",
            )
        if "max_tries" in self.worker.options:
            return self.worker.options["max_tries"]
        return Option(
            "max_tries",
            Known(DEFAULT_MAX_TRIES),
            None,
            None,
            "default",
            f"arq's default max_tries={DEFAULT_MAX_TRIES} (executions)",
        )

    def count(self, start: int = 1) -> tuple[Count, Provenance]:
        """Retries after the first run: `max_tries - start` (max_tries counts executions)."""
        opt = self.max_tries()
        value = opt.value
        if (
            (isinstance(value, Sym) and value.qualified in _UNBOUNDED_SYMBOLS)
            or (
                isinstance(value, Known)
                and isinstance(value.value, float)
                and math.isinf(value.value)
            )
            or (opt.expr is not None and _is_float_inf(opt.expr))
        ):
            written: Source = "explicit" if opt is self.entry.max_tries else "config"
            return UNBOUNDED, Provenance(written, opt.location, f"max_tries={opt.text}")
        amount = number(value)
        if amount is None:
            unknown = (
                value
                if isinstance(value, Unknown)
                else Unknown(opt.text, opt.location or self.location())
            )
            self.log.add("max_tries", unknown)
            return UNDECIDED, Provenance("undecided", unknown.location)
        note = opt.note or "max_tries"
        if opt.source != "default":
            note = f"{note}: {opt.text} executions"
        # The job runs while `job_try <= max_tries`, job_try counting from `start`.
        return max(0, math.floor(amount) - max(start, 1)), Provenance(
            opt.source, opt.location, note
        )

    def retry_jobs(self) -> bool | None:
        """False when the worker treats Retry as a failure; None when undecided."""
        opt = self.worker.options.get("retry_jobs")
        if opt is None:
            return True
        if isinstance(opt.value, Known):
            return bool(opt.value.value)
        unknown = (
            opt.value
            if isinstance(opt.value, Unknown)
            else Unknown(opt.text, opt.location or self.location())
        )
        self.log.add("retry_jobs", unknown)
        return None

    # -- identity and scope --------------------------------------------------------------

    def location(self) -> Location:
        if self.fn is not None and self.fn_module and self.fn_module.path in self.a.scanned:
            return location_of(self.fn_module, self.fn.name_span)
        return location_of(self.entry.module, self.entry.expr.span)

    def in_scope(self) -> bool:
        if self.fn is not None and self.fn_module and self.fn_module.path in self.a.scanned:
            return True
        return self.entry.module.path in self.a.scanned

    def anchors(self, location: Location) -> tuple[int, ...]:
        lines = {location.line}
        if self.fn is not None and self.fn_module and self.fn_module.path == location.path:
            lines.add(self.fn.span.line)
            lines.update(d.span.line for d in self.fn.decorators)
        if self.entry.module.path == location.path:
            lines.add(self.entry.expr.span.line)
        return tuple(sorted(lines))

    # -- the job body --------------------------------------------------------------------

    def raises(self) -> list[_Raise] | Unknown:
        """`raise Retry(...)` in the job and in helpers it passes `ctx` to."""
        if self.fn is None or self.fn_module is None:
            return Unknown(
                self.entry.coroutine_text, location_of(self.entry.module, self.entry.expr.span)
            )
        ctx_names = frozenset(self.fn.params[:1])
        found = list(_retry_raises(self.a, self.fn, self.fn_module, ctx_names, 0, set()))
        if not found and not self.fn.params and not _visible_forwarding(self.fn):
            # `async def job(*args, **kwargs): return helper(*args, **kwargs)`: the call that
            # receives ctx is not kept in the summary, so what the job does is unknown.
            return Unknown("*args", location_of(self.fn_module, self.fn.name_span))
        return found

    def path_for(
        self, found: _Raise, count: Count, count_prov: Provenance, start: int
    ) -> RetryPath:
        exc = found.raised.exc
        loc = location_of(found.module, exc.span)
        defer: ir.Expr | None = None
        if isinstance(exc, ir.Call):
            defer = exc.kwarg("defer") or (exc.args[0] if exc.args else None)
        if defer is None or (isinstance(defer, ir.Const) and defer.value is None):
            prov = Provenance("explicit", loc, "Retry() re-runs the job at once")
            no_jitter = Provenance("explicit", loc, "no jitter in arq")
            return RetryPath(
                "manual",
                count,
                count_prov,
                constant_delay(0.0),
                prov,
                False,
                no_jitter,
                location=loc,
            )
        offset = float(max(start, 1))
        local: dict[str, ir.Expr | Value] = {
            b.target: _subst(b.value, found.ctx_names) for b in found.fn.locals
        }
        local[_JOB_TRY] = Formula(lambda r: r + offset)
        value = self.evaluator.eval(_subst(defer, found.ctx_names), found.module, local)
        defer_loc = location_of(found.module, defer.span)
        jitter = draws_random(defer, local, 0)
        jitter_prov = Provenance("explicit", defer_loc, "Retry(defer=...) written in code")
        prov = Provenance("explicit", defer_loc, "Retry(defer=...)")
        if isinstance(value, Formula):
            return RetryPath(
                "manual", count, count_prov, value.fn, prov, jitter, jitter_prov, location=loc
            )
        amount = number(value)
        if amount is None:
            unknown = value if isinstance(value, Unknown) else Unknown(defer.text, defer_loc)
            self.log.add("defer", unknown)
            undecided = Provenance("undecided", unknown.location)
            return RetryPath(
                "manual", count, count_prov, None, undecided, jitter, jitter_prov, location=loc
            )
        return RetryPath(
            "manual",
            count,
            count_prov,
            constant_delay(float(amount)),
            prov,
            jitter,
            jitter_prov,
            location=loc,
        )

    # -- the rows ------------------------------------------------------------------------

    def build(self) -> EffectivePolicy | None:
        if not self.in_scope():
            return None
        location = self.location()
        raises = self.raises()
        self.found_raises = raises if isinstance(raises, list) else []
        retry_jobs = self.retry_jobs()
        inert: tuple[tuple[str, Location], ...] = ()
        fields: Fields
        if retry_jobs is False or not raises:
            note = _NO_RETRY_NOTE if retry_jobs is not False else _RETRY_JOBS_OFF
            fields = never_retries(Provenance("default", None, note))
            own = self.entry.max_tries
            if own is not None and own.location is not None and (number(own.value) or 0) > 1:
                inert = (("max_tries", own.location),)
        else:
            count, count_prov = self.count()
            if isinstance(raises, Unknown):
                if count == 0:
                    fields = never_retries(count_prov)
                else:
                    self.log.add("retry", raises)
                    fields = combine([], Provenance("undecided", raises.location))
            elif retry_jobs is None:
                opt = self.worker.options["retry_jobs"]
                fields = combine([], Provenance("undecided", opt.location))
            else:
                fields = combine([self.path_for(found, count, count_prov, 1) for found in raises])
        return self._row("definition", location, fields, inert)

    def _row(
        self,
        site: Site,
        location: Location,
        fields: Fields,
        inert: tuple[tuple[str, Location], ...] = (),
    ) -> EffectivePolicy:
        return policy_row(
            name=self.entry.name,
            name_expression=self.entry.name_expression,
            framework=KEY,
            site=site,
            location=location,
            fields=fields,
            final_failure=self.final_failure(),
            log=self.log,
            version=self.a.ctx.version or REFERENCE_VERSION,
            anchors=self.anchors(location),
            hints=_HINTS,
            inert=inert,
        )

    def enqueue_row(
        self, call: ir.Call, start: ir.Expr, module: ir.ModuleSummary, fn: ir.Function | None
    ) -> EffectivePolicy:
        """The policy of one `enqueue_job(..., _job_try=N)` call."""
        self.log = UndecidedLog()
        location = location_of(module, call.span)
        raises = self.found_raises
        value = self.evaluator.eval(start, module)
        amount = number(value)
        retry_jobs = self.retry_jobs()
        fields: Fields
        if not raises or retry_jobs is False:
            note = _NO_RETRY_NOTE if retry_jobs is not False else _RETRY_JOBS_OFF
            fields = never_retries(Provenance("default", None, note))
        elif amount is None:
            unknown = (
                value
                if isinstance(value, Unknown)
                else Unknown(start.text, location_of(module, start.span))
            )
            self.log.add("_job_try", unknown)
            fields = combine([], Provenance("undecided", unknown.location))
        else:
            first = max(1, int(amount))
            count, count_prov = self.count(first)
            if count_prov.source != "undecided":
                count_prov = Provenance(
                    count_prov.source,
                    count_prov.location,
                    f"{count_prov.note}; enqueue_job(_job_try={start.text}) starts at try {first}",
                )
            paths = [self.path_for(found, count, count_prov, first) for found in raises]
            fields = combine(paths)
        lines = (location.line,) if fn is None else tuple(sorted({location.line, fn.span.line}))
        row = self._row("enqueue", location, fields)
        return replace(row, suppression_lines=lines)

    def final_failure(self) -> str:
        forever = self.worker.options.get("keep_result_forever")
        if forever is not None and isinstance(forever.value, Known) and forever.value.value:
            return (
                f"failed result kept forever in Redis (keep_result_forever at {forever.location})"
            )
        return "nowhere"

    def observations(self, row: EffectivePolicy) -> Iterator[Observation]:
        subject = f"`{row.name}`" if row.name else "this job"
        if self.retry_jobs() is False:
            for found in self.found_raises:
                opt = self.worker.options["retry_jobs"]
                yield Observation(
                    "ignored-retry-option",
                    location_of(found.module, found.raised.span),
                    f"{subject} raises Retry, but its worker `{self.worker.label}` sets "
                    f"retry_jobs=False ({opt.location}): arq treats the Retry as a failure and "
                    "never runs the job again",
                    "Drop retry_jobs=False from the worker, or stop raising Retry.",
                    KEY,
                    row.name,
                    "definition",
                    row.suppression_lines,
                )
        if self.fn is None or self.fn_module is None or row.name is None:
            return
        for call in self.fn.calls:
            if not _is_enqueue(call) or not call.args:
                continue
            target = self.evaluator.eval(call.args[0], self.fn_module)
            if not (isinstance(target, Known) and target.value == row.name):
                continue
            start = call.kwarg("_job_try")
            if call.kwarg("_job_id") is not None:
                continue  # a fixed id: arq refuses a job id that is still in use
            if start is not None and not (
                isinstance(start, ir.Const) and isinstance(start.value, int) and start.value <= 1
            ):
                continue  # the try counter is carried over
            yield Observation(
                "requeue-loop",
                location_of(self.fn_module, call.span),
                f"{subject} enqueues itself ({call.func.text}): the new job gets a new id and "
                "starts again at try 1, so max_tries never bounds the loop",
                "Raise Retry(defer=...) so max_tries applies, or pass "
                "_job_try=ctx['job_try'] + 1 to carry the counter.",
                KEY,
                row.name,
                "definition",
                row.suppression_lines,
            )


# -- helpers -------------------------------------------------------------------------------


def _calls_in(module: ir.ModuleSummary) -> Iterator[tuple[ir.Call, ir.Function | None]]:
    """Every kept call of a module: expression statements, binding values, function bodies."""
    for call in module.calls:
        yield call, None
    for binding in module.bindings:
        if isinstance(binding.value, ir.Call):
            yield binding.value, None
    for fn in module.functions:
        for call in fn.calls:
            yield call, fn
        kept = {(c.span.line, c.span.column) for c in fn.calls}
        for local in fn.locals:
            value = local.value
            if isinstance(value, ir.Call) and (value.span.line, value.span.column) not in kept:
                yield value, fn
    for cls in module.classes:
        for method in cls.methods:
            for call in method.calls:
                yield call, method


def _is_enqueue(call: ir.Call) -> bool:
    return call.func.text.endswith(".enqueue_job")


def _is_builtin_copy(call: ir.Call, analysis: _Analysis, module: ir.ModuleSummary) -> bool:
    """`list(X)` / `tuple(X)` keep the items of X as they are."""
    if not isinstance(call.func, ir.Ref):
        return False
    found = analysis.project.resolve(module, call.func.dotted)
    return found is not None and found.qualified in ("builtins.list", "builtins.tuple")


def _string_mask(text: str) -> Iterator[tuple[str, bool]]:
    """Each character of `text` with whether it sits inside a string literal."""
    quote: str | None = None
    for ch in text:
        if quote is None and ch in "'\"":
            quote = ch
            yield ch, True
        elif quote is not None:
            if ch == quote:
                quote = None
            yield ch, True
        else:
            yield ch, False


def _visible_forwarding(fn: ir.Function) -> bool:
    """Whether a job without positional parameters forwards `*args` in a kept call."""
    return any(isinstance(arg, ir.Starred) for call in fn.calls for arg in call.args)


def _retry_raises(
    analysis: _Analysis,
    fn: ir.Function,
    module: ir.ModuleSummary,
    ctx_names: frozenset[str],
    depth: int,
    seen: set[str],
) -> Iterator[_Raise]:
    key = f"{module.module}.{fn.qualname}"
    if key in seen or depth > 3:
        return
    seen.add(key)
    names = set(ctx_names)
    if not fn.params:
        # `ctx = args[0]` inside a job that takes `*args`.
        for local in fn.locals:
            value = local.value
            if (
                isinstance(value, ir.Subscript)
                and isinstance(value.index, ir.Const)
                and value.index.value == 0
            ):
                names.add(local.target)
    ctx = frozenset(names)
    for raised in fn.raises:
        exc = raised.exc
        func = exc.func if isinstance(exc, ir.Call) else exc
        if isinstance(func, ir.Ref):
            found = analysis.project.resolve(module, func.dotted)
            if found is not None and found.qualified in _RETRY | _RETRY_JOB:
                yield _Raise(raised, fn, module, ctx)
    for call in fn.calls:
        for helper, helper_module, helper_ctx in _forwarded(analysis, call, fn, module, ctx):
            yield from _retry_raises(analysis, helper, helper_module, helper_ctx, depth + 1, seen)


def _forwarded(
    analysis: _Analysis,
    call: ir.Call,
    fn: ir.Function,
    module: ir.ModuleSummary,
    ctx: frozenset[str],
) -> Iterator[tuple[ir.Function, ir.ModuleSummary, frozenset[str]]]:
    """A project function this call hands `ctx` to, with its parameter name there."""
    func: ir.Expr = call.func
    args: tuple[ir.Expr, ...] = call.args
    if isinstance(func, ir.Ref) and args:
        wrapper = analysis.project.resolve(module, func.dotted)
        if wrapper is not None and wrapper.qualified in _PARTIAL:
            func, args = args[0], args[1:]
    if not isinstance(func, ir.Ref):
        return
    target = analysis.project.resolve(module, func.dotted)
    if target is None or target.function is None or target.module is None:
        return
    helper = target.function
    names: set[str] = set()
    for index, arg in enumerate(args):
        if index >= len(helper.params):
            break
        if isinstance(arg, ir.Ref) and arg.dotted in ctx:
            names.add(helper.params[index])
        elif isinstance(arg, ir.Starred) and index == 0 and not fn.params:
            names.add(helper.params[0])  # `helper(*args)` from a job that takes `*args`
    for kw in call.kwargs:
        if kw.name is not None and isinstance(kw.value, ir.Ref) and kw.value.dotted in ctx:
            names.add(kw.name)
    if names:
        yield helper, target.module, frozenset(names)


def _subst(expr: ir.Expr, ctx: frozenset[str]) -> ir.Expr:
    """`ctx['job_try']` and `ctx.get('job_try')` → a name the evaluator binds to the try."""
    if isinstance(expr, ir.Subscript):
        if (
            isinstance(expr.value, ir.Ref)
            and expr.value.dotted in ctx
            and isinstance(expr.index, ir.Const)
            and expr.index.value == "job_try"
        ):
            return ir.Ref(_JOB_TRY, expr.text, expr.span)
        return replace(expr, value=_subst(expr.value, ctx), index=_subst(expr.index, ctx))
    if isinstance(expr, ir.Call):
        if (
            isinstance(expr.func, ir.Ref)
            and expr.func.dotted.rpartition(".")[2] == "get"
            and expr.func.dotted.rpartition(".")[0] in ctx
            and expr.args
            and isinstance(expr.args[0], ir.Const)
            and expr.args[0].value == "job_try"
        ):
            return ir.Ref(_JOB_TRY, expr.text, expr.span)
        return replace(
            expr,
            func=_subst(expr.func, ctx),
            args=tuple(_subst(a, ctx) for a in expr.args),
            kwargs=tuple(ir.Kwarg(k.name, _subst(k.value, ctx)) for k in expr.kwargs),
        )
    if isinstance(expr, ir.BinOp):
        return replace(expr, left=_subst(expr.left, ctx), right=_subst(expr.right, ctx))
    if isinstance(expr, ir.Unary):
        return replace(expr, operand=_subst(expr.operand, ctx))
    if isinstance(expr, ir.Seq):
        return replace(expr, items=tuple(_subst(i, ctx) for i in expr.items))
    if isinstance(expr, ir.Starred):
        return replace(expr, value=_subst(expr.value, ctx))
    return expr


def _is_float_inf(expr: ir.Expr) -> bool:
    text = expr.text.replace(" ", "").replace('"', "'")
    return text in ("float('inf')", "float('infinity')", "math.inf")


# Framework-aware advice the neutral rules quote (CONTRACTS §6).
_HINTS: tuple[tuple[str, str], ...] = (
    (
        "max_retries",
        "Set max_tries with func(job, max_tries=N) or on WorkerSettings; it counts executions, "
        "so max_tries=4 allows 3 retries.",
    ),
    (
        "backoff",
        "arq has no built-in backoff: raise Retry(defer=...) with a delay that grows with "
        "ctx['job_try'], e.g. Retry(defer=2 ** ctx['job_try']).",
    ),
    (
        "jitter",
        "arq cannot jitter retries itself: add random.uniform(0, ...) to the Retry(defer=...) "
        "value.",
    ),
    (
        "trigger",
        "arq retries only when the job raises arq.Retry (or is cancelled); any other exception "
        "fails the job at once",
    ),
    (
        "trigger_fix",
        "Catch the transient errors and raise Retry(defer=...), or drop max_tries.",
    ),
    (
        "dead_letter",
        "arq keeps only the failed result (keep_result, 3600 s by default): store the job and "
        "its error yourself before the last try fails, or set keep_result_forever=True.",
    ),
    (
        "window",
        "Raise max_tries (it counts executions) or the delays given to Retry(defer=...).",
    ),
)
