"""The contract between the engine and one framework adapter, plus helpers adapters share.

An adapter reads module summaries and returns inventory rows (`EffectivePolicy`) in the neutral
vocabulary. It never emits findings: rules judge rows, so a new framework gets every rule for
free and no rule learns framework words.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from retrylint.config.policy import FrameworkSettings
from retrylint.model import (
    BACKOFF_ORDER,
    BackoffKind,
    EffectivePolicy,
    FrameworkInfo,
    Location,
    Observation,
    Provenance,
    Source,
    TriggerSite,
    Undecided,
    Via,
)
from retrylint.python import ir
from retrylint.python.evaluate import (
    Evaluator,
    Formula,
    Known,
    Sym,
    Unknown,
    Value,
    location_of,
    mentions_random,
)
from retrylint.python.project import Project, Resolved
from retrylint.resolve.schedule import Fields
from retrylint.scan.files import SourceFile
from retrylint.scan.prefilter import Marker


@dataclass(frozen=True)
class AdapterContext:
    """What an adapter may read: the project, the evaluator and its own settings.

    `scanned` holds the modules under PATHS, where rows are reported; anything else is read
    through `project` on demand.
    """

    project: Project
    evaluator: Evaluator
    scanned: tuple[ir.ModuleSummary, ...]
    settings: FrameworkSettings = field(default_factory=FrameworkSettings)
    version: str | None = None


Local = Mapping[str, ir.Expr | Value]


@dataclass(frozen=True, slots=True)
class Where:
    """An expression together with the module it is written in, so it can be evaluated later,
    and, when it is written inside a function, that function or its local bindings (the names
    the expression may use)."""

    expr: ir.Expr
    module: ir.ModuleSummary
    fn: ir.Function | None = None
    local: Local | None = None


K = TypeVar("K")
V = TypeVar("V")


def memoized(cache: dict[K, V | None], key: K, compute: Callable[[], V | None]) -> V | None:
    """`compute()` once per key. Recognition recurses through names that may refer back to
    themselves (`app = app`, a class listing itself as a base): while a key is being computed
    it answers None, so every such cycle ends."""
    if key in cache:
        return cache[key]
    cache[key] = None
    result = compute()
    cache[key] = result
    return result


# How deep class hierarchies and alias chains are followed; real ones are a few levels deep.
MAX_CHAIN = 12


def subclass_of(
    project: Project,
    cache: dict[str, bool | None],
    cls: ir.Class,
    module: ir.ModuleSummary,
    is_root: Callable[[Resolved | None, ir.Ref, ir.ModuleSummary], bool],
    depth: int = 0,
) -> bool:
    """Whether a project class derives from one the framework defines (`is_root` says which
    base expressions are the framework's: `celery.Task`, `app.Task`, `GenericActor`)."""

    def compute() -> bool | None:
        if depth > MAX_CHAIN:
            return False
        for base in cls.bases:
            if not isinstance(base, ir.Ref):
                continue
            found = project.resolve(module, base.dotted)
            if is_root(found, base, module):
                return True
            if (
                found is not None
                and found.kind == "class"
                and found.cls is not None
                and found.module is not None
                and subclass_of(project, cache, found.cls, found.module, is_root, depth + 1)
            ):
                return True
        return False

    # Keyed by file: two services may each have an `app.base.Base`, only one a task class.
    answer: bool | None = memoized(cache, f"{module.path}:{cls.qualname}", compute)
    return bool(answer)


@dataclass(frozen=True, slots=True)
class FileProblem:
    """A file an adapter could not read or parse (RL000), located where reading stopped."""

    path: str
    line: int
    column: int
    message: str


@dataclass(frozen=True, slots=True)
class FileSuppressions:
    """The `// retrylint: ignore[...]` comments of a non-Python file an adapter parsed."""

    path: str
    suppressions: tuple[ir.Suppression, ...]


@dataclass(frozen=True)
class GoContext:
    """What a Go adapter may read.

    `files` are the `.go` files under PATHS (rows are reported there); `project_files` lists
    every `.go` file of the project (root-relative POSIX path → absolute path, excludes applied),
    for constants and handlers that live in other packages.
    """

    root: Path
    files: tuple[SourceFile, ...]
    project_files: Callable[[], Mapping[str, Path]]
    assume: Mapping[str, object]
    settings: FrameworkSettings = field(default_factory=FrameworkSettings)
    version: str | None = None


GoItem = EffectivePolicy | Observation | FileProblem | FileSuppressions


class GoAdapter(Protocol):
    key: str
    info: FrameworkInfo
    # Bytes a `.go` file must contain to be read at all (the import path).
    markers: re.Pattern[bytes]

    def analyze_go(self, ctx: GoContext) -> Iterable[GoItem]: ...


class PythonAdapter(Protocol):
    # The framework string of CONTRACTS §8.
    key: str
    info: FrameworkInfo
    # Import roots whose presence in a module means the framework is in use.
    packages: tuple[str, ...]
    # Cheap byte pattern (or patterns that must all occur) a file must contain before it is
    # parsed for this adapter. Every alternative starts with a literal character (no leading
    # `\b` or `^`): only then does Python's regex engine skip ahead quickly, and this runs
    # over every file.
    markers: Marker
    # Calls in function bodies and class attributes the adapter reads (everything else is
    # skipped when files are summarized).
    interest: ir.Interest

    def analyze(self, ctx: AdapterContext) -> Iterable[EffectivePolicy | Observation]: ...

    def project_markers(self, ctx: AdapterContext) -> frozenset[str]:
        """Names defined in the parsed modules that make another file a candidate too.

        A decorator alias (`retrying = shared_task(max_retries=3)`) or a project base class can
        be used in a file that never mentions the framework; the engine parses files naming
        these in a second round.
        """
        ...


@dataclass(frozen=True, slots=True)
class Option:
    """One option value as written somewhere, with the layer it came from."""

    name: str
    value: Value
    expr: ir.Expr | None  # None for a framework default
    location: Location | None
    source: Source
    note: str = ""
    # The module the expression is written in, for evaluating parts of it later.
    module: ir.ModuleSummary | None = None

    @property
    def provenance(self) -> Provenance:
        return Provenance(self.source, self.location, self.note)

    @property
    def text(self) -> str:
        return self.expr.text if self.expr is not None else repr(self.value)


class UndecidedLog:
    """Collects the values a row could not decide, each quoted once."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str, str, int], Undecided] = {}

    def add(self, field_name: str, value: Unknown) -> None:
        key = (field_name, value.expression, value.location.path, value.location.line)
        self._items.setdefault(key, Undecided(field_name, value.expression, value.location))

    def items(self) -> tuple[Undecided, ...]:
        return tuple(self._items[k] for k in sorted(self._items))


def source_of(value: Value, written: Source) -> Source:
    """An `[assume]`d value keeps that provenance wherever it was written."""
    if isinstance(value, Known | Formula) and value.assumed:
        return "assumed"
    if isinstance(value, Unknown):
        return "undecided"
    return written


def exception_names(
    ctx: AdapterContext, expr: ir.Expr, summary: ir.ModuleSummary
) -> tuple[list[tuple[str, Location]], Unknown | None]:
    """Qualified exception names in a class-or-tuple expression, with where each is written."""
    target, module = ctx.evaluator.deref(expr, summary)
    items: Sequence[ir.Expr] = target.items if isinstance(target, ir.Seq) else (target,)
    names: list[tuple[str, Location]] = []
    for item in items:
        if isinstance(item, ir.Starred):
            inner, names_unknown = exception_names(ctx, item.value, module)
            names.extend(inner)
            if names_unknown is not None:
                return names, names_unknown
            continue
        value = ctx.evaluator.eval(item, module)
        if isinstance(value, Sym):
            names.append((value.qualified, location_of(module, item.span)))
        elif isinstance(value, Known) and isinstance(value.value, tuple):
            nested, nested_unknown = exception_names(ctx, item, module)
            names.extend(nested)
            if nested_unknown is not None:
                return names, nested_unknown
        elif isinstance(value, Unknown):
            return names, value
        else:
            return names, Unknown(item.text, location_of(module, item.span))
    return names, None


BROAD_EXCEPTIONS = frozenset({"builtins.Exception", "builtins.BaseException"})


def module_imports(summary: ir.ModuleSummary, packages: Iterable[str]) -> bool:
    roots = tuple(packages)
    return any(
        imp.target == root or imp.target.startswith(root + ".")
        for imp in summary.imports
        for root in roots
    )


def draws_random(expr: ir.Expr, local: dict[str, ir.Expr | Value], depth: int) -> bool:
    """Whether a delay expression, or a local it is computed from, draws a random number."""
    if mentions_random(expr):
        return True
    if depth > MAX_CHAIN:
        return False
    for name in set(ir.ref_heads(expr)):
        bound = local.get(name)
        if (
            isinstance(bound, ir.Ref | ir.Call | ir.BinOp | ir.Unary | ir.Subscript)
            and bound is not expr
            and draws_random(bound, local, depth + 1)
        ):
            return True
    return False


@dataclass(frozen=True, slots=True)
class MethodRef:
    """`Cls.method`, or `obj.method` with `obj` bound at module level to `Cls(...)`.

    `owner` is the class written (or instantiated), `defining` the project class whose body
    has the method (the owner or a base), which gives the function its `__qualname__`.
    """

    owner: ir.Class
    owner_module: ir.ModuleSummary
    defining: ir.Class
    defining_module: ir.ModuleSummary
    method: ir.Function
    via_instance: bool

    @property
    def is_classmethod(self) -> bool:
        return any(d.text == "classmethod" for d in self.method.decorators)

    @property
    def is_bound(self) -> bool:
        """Python hands out a bound method: through an instance (unless a staticmethod), or a
        classmethod through anything."""
        static = any(d.text == "staticmethod" for d in self.method.decorators)
        return self.is_classmethod or (self.via_instance and not static)

    @property
    def qualname(self) -> str:
        return f"{self.defining.qualname}.{self.method.name}"


def method_ref(ctx: AdapterContext, expr: ir.Ref, module: ir.ModuleSummary) -> MethodRef | None:
    """The project method a dotted name reaches through a class or an instance, or None."""
    head, _, attr = expr.dotted.rpartition(".")
    if not head:
        return None
    owner = ctx.project.resolve(module, head)
    via_instance = False
    if owner is not None and owner.kind == "binding" and owner.binding and owner.module:
        value, value_module = ctx.evaluator.deref(owner.binding.value, owner.module)
        if not isinstance(value, ir.Call) or not isinstance(value.func, ir.Ref):
            return None
        owner = ctx.project.resolve(value_module, value.func.dotted)
        via_instance = True
    if owner is None or owner.kind != "class" or owner.cls is None or owner.module is None:
        return None
    chain = [(owner.cls, owner.module)]
    for cls, cls_module in chain:
        method = next((m for m in cls.methods if m.name == attr), None)
        if method is not None:
            return MethodRef(owner.cls, owner.module, cls, cls_module, method, via_instance)
        for base in cls.bases:
            if isinstance(base, ir.Ref) and len(chain) <= MAX_CHAIN:
                found = ctx.project.resolve(cls_module, base.dotted)
                if found is not None and found.kind == "class" and found.cls and found.module:
                    chain.append((found.cls, found.module))
    return None


def walk_calls(expr: ir.Expr) -> Iterator[ir.Call]:
    """Every call inside an expression, outermost first."""
    if isinstance(expr, ir.Call):
        yield expr
        yield from walk_calls(expr.func)
        for arg in expr.args:
            yield from walk_calls(arg)
        for kw in expr.kwargs:
            yield from walk_calls(kw.value)
    elif isinstance(expr, ir.Seq):
        for item in expr.items:
            yield from walk_calls(item)
    elif isinstance(expr, ir.DictExpr):
        for key, value in expr.items:
            if key is not None:
                yield from walk_calls(key)
            yield from walk_calls(value)
    elif isinstance(expr, ir.BinOp):
        yield from walk_calls(expr.left)
        yield from walk_calls(expr.right)
    elif isinstance(expr, ir.Unary):
        yield from walk_calls(expr.operand)
    elif isinstance(expr, ir.Starred):
        yield from walk_calls(expr.value)
    elif isinstance(expr, ir.Subscript):
        yield from walk_calls(expr.value)
        yield from walk_calls(expr.index)


def functions_of(summary: ir.ModuleSummary) -> Iterator[ir.Function]:
    """Every function of a module, methods included."""
    yield from summary.functions
    for cls in summary.classes:
        yield from cls.methods


def module_calls(summary: ir.ModuleSummary) -> Iterator[tuple[ir.Call, ir.Function | None]]:
    """Every call a module summary keeps, once each, with the function it is written in."""
    seen: set[tuple[int, int, str]] = set()

    def fresh(call: ir.Call) -> bool:
        key = (call.span.line, call.span.column, call.text)
        if key in seen:
            return False
        seen.add(key)
        return True

    for binding in summary.bindings:
        for call in walk_calls(binding.value):
            if fresh(call):
                yield call, None
    for top in summary.calls:
        for call in walk_calls(top):
            if fresh(call):
                yield call, None
    for fn in functions_of(summary):
        for kept in fn.calls:
            for call in walk_calls(kept):
                if fresh(call):
                    yield call, fn
        for ret in fn.returns:
            for call in walk_calls(ret):
                if fresh(call):
                    yield call, fn


def with_enqueue_scopes(
    rows: Sequence[EffectivePolicy],
    observations: Sequence[Observation],
    summaries: Iterable[ir.ModuleSummary],
) -> tuple[list[EffectivePolicy], list[Observation]]:
    """Rows and observations at Python enqueue sites, with the function each is written in.

    Done once for every adapter rather than by each: an enqueue site always sits inside a call
    the module summary kept (the adapter found it there), so the innermost kept call containing
    its location names the enclosing function. Module-level calls, and sites whose adapter
    already set a scope (Go), are left as they are.
    """
    spans: dict[str, list[tuple[ir.Span, str | None]]] = {}
    for summary in summaries:
        if summary.path not in spans:
            spans[summary.path] = [
                (call.span, fn.qualname if fn is not None else None)
                for call, fn in module_calls(summary)
            ]

    def scope(location: Location) -> str | None:
        point = (location.line, location.column)
        best: tuple[ir.Span, str | None] | None = None
        for span, qualname in spans.get(location.path, ()):
            if (span.line, span.column) <= point <= (span.end_line, span.end_column) and (
                best is None or (span.line, span.column) > (best[0].line, best[0].column)
            ):
                best = (span, qualname)
        return best[1] if best is not None else None

    return (
        [
            replace(r, scope=scope(r.location)) if r.site == "enqueue" and r.scope is None else r
            for r in rows
        ],
        [
            replace(o, scope=scope(o.location)) if o.site == "enqueue" and o.scope is None else o
            for o in observations
        ],
    )


def locals_of(fn: ir.Function | None, line: int | None = None) -> dict[str, ir.Expr | Value] | None:
    """A function's local bindings; with `line`, the binding of each name in force there.

    A name bound in several branches (`params = {...}` twice, as netbox does) takes the last
    binding written before `line`, or the first one when all come later.
    """
    if fn is None:
        return None
    out: dict[str, ir.Expr | Value] = {}
    for binding in fn.locals:
        if line is None or binding.span.line <= line or binding.target not in out:
            out[binding.target] = binding.value
    return out


def deref(where: Where, ctx: AdapterContext) -> Where:
    """Follow local and module-level names to the expression they are bound to."""
    expr, module, local = where.expr, where.module, where.local
    for _ in range(12):
        if isinstance(expr, ir.Ref) and local is not None and expr.dotted in local:
            bound = local[expr.dotted]
            if not isinstance(bound, ir.Const | ir.Ref | ir.Call | ir.Seq | ir.DictExpr):
                break
            expr = bound
            continue
        break
    if isinstance(expr, ir.Ref):
        expr, module = ctx.evaluator.deref(expr, module)
        if module is not where.module:
            local = None
    return Where(expr, module, local=local)


def kwarg_where(
    call: ir.Call, name: str, module: ir.ModuleSummary, ctx: AdapterContext, local: Local | None
) -> Where | None:
    """The expression passed for `name`, directly or inside a `**mapping` splat."""
    direct = call.kwarg(name)
    if direct is not None:
        return Where(direct, module, local=local)
    for splat in call.splats:
        target = deref(Where(splat, module, local=local), ctx)
        found = dict_item(target, name)
        if found is not None:
            return found
    return None


def dict_item(where: Where, key: str) -> Where | None:
    expr = where.expr
    if isinstance(expr, ir.DictExpr):
        for k, v in reversed(expr.items):
            if isinstance(k, ir.Const) and k.value == key:
                return Where(v, where.module, local=where.local)
    if isinstance(expr, ir.Call) and isinstance(expr.func, ir.Ref) and expr.func.dotted == "dict":
        value = expr.kwarg(key)
        if value is not None:
            return Where(value, where.module, local=where.local)
    return None


def kind_of(values: Sequence[float]) -> BackoffKind:
    """Backoff kind of a whole delay list, by the thresholds of `resolve.schedule.classify`."""
    if all(v == 0 for v in values):
        return "none"
    if len(set(values)) == 1:
        return "fixed"
    diffs = {round(b - a, 9) for a, b in itertools.pairwise(values)}
    if len(diffs) == 1:
        return "linear" if diffs.pop() > 0 else "custom"
    if all(a > 0 and b / a >= 1.5 for a, b in itertools.pairwise(values)):
        return "exponential"
    return "custom"


def weakest(kinds: Sequence[BackoffKind]) -> BackoffKind:
    if "custom" in kinds:
        return "custom"
    return min(kinds, key=BACKOFF_ORDER.index)


def policy_row(
    *,
    name: str | None,
    name_expression: str | None,
    framework: str,
    site: Literal["definition", "enqueue"],
    location: Location,
    fields: Fields | None,
    final_failure: str,
    log: UndecidedLog,
    version: str,
    anchors: tuple[int, ...],
    hints: tuple[tuple[str, str], ...],
    inert: tuple[tuple[str, Location], ...] = (),
    no_policy: Provenance | None = None,
    via: tuple[Via, ...] = (),
    broad: Sequence[TriggerSite] = (),
) -> EffectivePolicy:
    """One inventory row; `fields=None` is a row that sets no policy (`retry_trigger: null`).
    Every adapter builds its rows here, so a new row field is added in one place."""
    if fields is None:
        source = no_policy or Provenance("default")
        return EffectivePolicy(
            name=name,
            name_expression=name_expression,
            framework=framework,
            site=site,
            location=location,
            retry_trigger=None,
            max_retries=None,
            backoff=None,
            jitter=None,
            delays_seconds=(),
            delays_truncated=False,
            window_seconds=0,
            sources=dict.fromkeys(("max_retries", "backoff", "jitter", "delays", "window"), source),
            final_failure=final_failure,
            undecided=log.items(),
            framework_version=version,
            suppression_lines=anchors,
            via=via,
            hints=hints,
        )
    return EffectivePolicy(
        name=name,
        name_expression=name_expression,
        framework=framework,
        site=site,
        location=location,
        retry_trigger=fields.retry_trigger,
        max_retries=fields.max_retries,
        backoff=fields.backoff,
        jitter=fields.jitter,
        delays_seconds=fields.delays_seconds,
        delays_truncated=fields.delays_truncated,
        window_seconds=fields.window_seconds,
        sources=fields.sources,
        final_failure=final_failure,
        undecided=log.items(),
        paths=fields.path_policies(location),
        delay_fn=fields.delay_fn,
        broad_triggers=tuple(broad),
        inert_options=inert,
        framework_version=version,
        suppression_lines=anchors,
        via=via,
        hints=hints,
    )


def dict_items(
    evaluator: Evaluator,
    expr: ir.Expr,
    module: ir.ModuleSummary,
    local: Mapping[str, ir.Expr] | None = None,
) -> dict[str, tuple[ir.Expr, ir.ModuleSummary]] | Unknown:
    """The keyword expressions a `**mapping` splat passes, with the module each is written in.

    `local` holds the bindings of the enclosing function body (`opts = {...}` then `**opts`).
    """
    target, where = expr, module
    for _ in range(8):
        if local is not None and isinstance(target, ir.Ref) and target.dotted in local:
            target = local[target.dotted]
            continue
        break
    target, where = evaluator.deref(target, where)
    out: dict[str, tuple[ir.Expr, ir.ModuleSummary]] = {}
    inner_local = local if where is module else None
    if isinstance(target, ir.DictExpr):
        for key, value in target.items:
            if key is None:
                inner = dict_items(evaluator, value, where, inner_local)
                if isinstance(inner, Unknown):
                    return inner
                out.update(inner)
                continue
            k = evaluator.eval(key, where)
            if not (isinstance(k, Known) and isinstance(k.value, str)):
                return Unknown(expr.text, location_of(module, expr.span))
            out[k.value] = (value, where)
        return out
    if (
        isinstance(target, ir.Call)
        and isinstance(target.func, ir.Ref)
        and target.func.dotted == "dict"
        and len(target.args) <= 1
    ):
        # `dict(mapping, key=value, **other)`: the mapping first, then keywords in order.
        parts = [(None, a) for a in target.args] + [(kw.name, kw.value) for kw in target.kwargs]
        for name, value in parts:
            if name is None:
                inner = dict_items(evaluator, value, where, inner_local)
                if isinstance(inner, Unknown):
                    return inner
                out.update(inner)
                continue
            out[name] = (value, where)
        return out
    return Unknown(expr.text, location_of(module, expr.span))
