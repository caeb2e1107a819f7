"""A small, picklable picture of the parts of a Python module that task frameworks care about.

libcst trees are large, slow to walk and cannot cross a process boundary cheaply. Each file is
therefore read once (in a worker that can be killed) into this summary: imports, module-level
bindings, classes, decorated functions and the calls inside function bodies, with expressions
reduced to a handful of node kinds. Cross-module questions ("is `app` a Celery instance?",
"what is `settings.MAX_RETRIES`?") are answered later from these summaries alone, so no module
is ever parsed twice and no metadata provider walks a whole tree.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, is_dataclass
from typing import TypeAlias

ConstValue: TypeAlias = int | float | str | bytes | bool | None


@dataclass(frozen=True, slots=True)
class Interest:
    """What the adapters need from a file, so extraction can skip everything else.

    `calls` are final names of calls to keep from function bodies (`retry`, `delay`);
    `attributes` are class attribute names to keep (`max_retries`); `returns` are names of
    functions and methods (`gen_task_name`) whose every `return` value, and every rebinding of a
    local name, is kept, so their result can be computed when the body is straight-line. A
    statement that mentions none of them, has no decorator and is a `def` or `class` gets only
    approximate positions.
    """

    calls: frozenset[str]
    attributes: frozenset[str]
    returns: frozenset[str] = frozenset()

    def __or__(self, other: Interest) -> Interest:
        return Interest(
            self.calls | other.calls,
            self.attributes | other.attributes,
            self.returns | other.returns,
        )


@dataclass(frozen=True, slots=True)
class Span:
    """1-based line and character column of a node's start and end."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True, slots=True)
class Const:
    value: ConstValue
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class Ref:
    """A name or a dotted attribute chain rooted at a name (`settings.MAX_RETRIES`)."""

    dotted: str
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class Kwarg:
    """A keyword argument; `name` is None for a `**mapping` splat."""

    name: str | None
    value: Expr


@dataclass(frozen=True, slots=True)
class Starred:
    """A `*iterable` positional argument or element."""

    value: Expr
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class Call:
    func: Expr
    args: tuple[Expr, ...]
    kwargs: tuple[Kwarg, ...]
    text: str
    span: Span
    # Made inside an `except` block of a function body: a retry written by hand.
    in_handler: bool = False

    def kwarg(self, name: str) -> Expr | None:
        """The last value passed for `name` (Python rejects duplicates, so there is one)."""
        for kw in self.kwargs:
            if kw.name == name:
                return kw.value
        return None

    @property
    def splats(self) -> tuple[Expr, ...]:
        return tuple(kw.value for kw in self.kwargs if kw.name is None)


@dataclass(frozen=True, slots=True)
class Seq:
    kind: str  # "tuple", "list" or "set"
    items: tuple[Expr, ...]
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class DictExpr:
    """A dict display; a None key marks a `**mapping` splat."""

    items: tuple[tuple[Expr | None, Expr], ...]
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class BinOp:
    op: str
    left: Expr
    right: Expr
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class Unary:
    op: str
    operand: Expr
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class Subscript:
    value: Expr
    index: Expr
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class Opaque:
    """Anything retrylint does not evaluate (comprehensions, lambdas, f-strings, ...)."""

    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class FString:
    """An f-string: its literal text as `Const` parts and each `{expr}` as that expression.

    A replacement field with a conversion (`!r`), a format spec or `=` is an `Opaque` part, so
    only the plain `str()` of each value is ever computed.
    """

    parts: tuple[Expr, ...]
    text: str
    span: Span


Expr: TypeAlias = (
    Const | Ref | Call | Seq | DictExpr | BinOp | Unary | Subscript | Starred | FString | Opaque
)


def ref_heads(expr: Expr) -> Iterator[str]:
    """First segments of every name an expression refers to."""
    if isinstance(expr, Ref):
        yield expr.dotted.partition(".")[0]
    elif isinstance(expr, Call):
        yield from ref_heads(expr.func)
        for arg in expr.args:
            yield from ref_heads(arg)
        for kw in expr.kwargs:
            yield from ref_heads(kw.value)
    elif isinstance(expr, Seq):
        for item in expr.items:
            yield from ref_heads(item)
    elif isinstance(expr, DictExpr):
        for key, value in expr.items:
            if key is not None:
                yield from ref_heads(key)
            yield from ref_heads(value)
    elif isinstance(expr, BinOp):
        yield from ref_heads(expr.left)
        yield from ref_heads(expr.right)
    elif isinstance(expr, Unary | Starred):
        yield from ref_heads(expr.operand if isinstance(expr, Unary) else expr.value)
    elif isinstance(expr, Subscript):
        yield from ref_heads(expr.value)
        yield from ref_heads(expr.index)
    elif isinstance(expr, FString):
        for part in expr.parts:
            yield from ref_heads(part)


@dataclass(frozen=True, slots=True)
class Import:
    """`local` is bound to the object named `target` (fully dotted: `celery.shared_task`)."""

    local: str
    target: str
    span: Span


@dataclass(frozen=True, slots=True)
class Binding:
    """An assignment `target = value`; targets are dotted (`app.conf.task_annotations`)."""

    target: str
    value: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Raise:
    exc: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    qualname: str
    params: tuple[str, ...]
    decorators: tuple[Expr, ...]
    span: Span  # the `def` keyword line, where suppressions and findings anchor
    name_span: Span
    # Calls in the body that some adapter asked for, or that pass a parameter on.
    calls: tuple[Call, ...]
    raises: tuple[Raise, ...]
    returns: tuple[Expr, ...]
    # Simple `name = value` statements in the body, for local constants like `countdown`.
    locals: tuple[Binding, ...]
    is_async: bool
    # The rest of the signature, for wrappers that pass their options on by name or `**splat`.
    kwonly: tuple[str, ...] = ()
    defaults: tuple[Kwarg, ...] = ()
    star_arg: str | None = None
    star_kwarg: str | None = None
    # The body is one `return` statement (after a docstring), so that return is the whole
    # result. Such a return is kept when it is a test (a comparison, `and`/`or`, `not`, an
    # `isinstance` call): a predicate like Dramatiq's `retry_when` is read from it.
    sole_return: bool = False


@dataclass(frozen=True, slots=True)
class Class:
    name: str
    qualname: str
    bases: tuple[Expr, ...]
    decorators: tuple[Expr, ...]
    attributes: tuple[Binding, ...]
    methods: tuple[Function, ...]
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True)
class Suppression:
    """A `# retrylint: ignore[CODES] reason` comment."""

    line: int
    column: int
    codes: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class ModuleSummary:
    path: str
    module: str
    imports: tuple[Import, ...]
    bindings: tuple[Binding, ...]  # module level, in source order (also inside if/try blocks)
    calls: tuple[Call, ...]  # module-level expression-statement calls (`app.conf.update(...)`)
    functions: tuple[Function, ...]  # every def outside a class, nested ones included
    classes: tuple[Class, ...]
    suppressions: tuple[Suppression, ...] = field(default=())


def _pickle_as_calls() -> None:
    """Make every summary class pickle as a call of itself with its field values. Summaries
    come back from the parser processes and out of the cache pickled: tens of thousands of
    objects a run, most of them `Span`s. `dataclass(slots=True)`'s own `__setstate__` calls
    `dataclasses.fields()` for every object, and a `__setstate__` of ours still set each field
    by a Python-level `object.__setattr__`; the class's own `__init__` is 1.8 times as fast
    as the latter, and the pickle a tenth smaller."""
    for cls in list(globals().values()):
        if isinstance(cls, type) and cls.__module__ == __name__ and is_dataclass(cls):
            reduce = _reduce(cls, tuple(f.name for f in fields(cls)))
            cls.__reduce__ = reduce  # type: ignore[assignment,method-assign]


def _reduce(
    cls: type, names: tuple[str, ...]
) -> Callable[[object], tuple[type, tuple[object, ...]]]:
    values = operator.attrgetter(*names)  # a tuple: every summary class has several fields
    return lambda self: (cls, values(self))


_pickle_as_calls()
