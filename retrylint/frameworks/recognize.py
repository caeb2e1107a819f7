"""Task decorators, recognised in one place for every decorator-based adapter.

An adapter says only what its framework defines (`MakerRules`: which names are its decorator
makers, whether a call of one applies it or decorates, whether it may be used bare); following
aliases, `partial(...)`, bindings and project wrappers to those makers is done here once.

Teams rarely use a framework's decorator directly: they write `def actor(**options)` that calls
`dramatiq.actor(wrapped, **options)`, or `def cron_task(*args, **kwargs)` that pops an option and
returns `shared_task(*args, **kwargs)(wrapper)`. Requiring every user to name such functions in
the config means a new user's first run silently misses most tasks, so a wrapper is recognised
from its body: a project function that passes its parameter (or a function wrapping it) to a
registering decorator or call of the framework is itself a task decorator of that framework, to
any depth and through re-exports, because the question is asked of the definition a name
resolves to, not of the name.

Options flow as the wrapper's code says: keyword parameters passed on by name, `**options`
forwarded, defaults of the wrapper's own parameters, options it pops dropped, options it writes
itself added. The adapter keeps what only it knows (which callables register, precedence,
defaults); this module only rewrites a use of a wrapper into "this registrar, with these
options", each option still quoted in the module it is written in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from retrylint.frameworks.base import (
    MAX_CHAIN,
    Where,
    memoized,
)
from retrylint.model import Via
from retrylint.python import ir
from retrylint.python.evaluate import location_of
from retrylint.python.project import Project, Resolved


@dataclass(frozen=True, slots=True)
class Options:
    """Keyword options as written (`name=value`) and `**mapping` splats, in order, and the
    project wrappers they came through."""

    kwargs: tuple[tuple[str, Where], ...] = ()
    splats: tuple[Where, ...] = ()
    via: tuple[Via, ...] = ()

    def merged(self, call: ir.Call, module: ir.ModuleSummary) -> Options:
        """These options followed by a call's own keywords (later ones win when read)."""
        kwargs = list(self.kwargs)
        splats = list(self.splats)
        for kw in call.kwargs:
            if kw.name is None:
                splats.append(Where(kw.value, module))
            else:
                kwargs.append((kw.name, Where(kw.value, module)))
        return Options(tuple(kwargs), tuple(splats), self.via)

    def extended(self, expansion: Expansion) -> Options:
        """The registrar's own options followed by what a wrapper passes it."""
        more = expansion.options
        return Options(self.kwargs + more.kwargs, self.splats + more.splats, expansion.via)


@dataclass(frozen=True, slots=True)
class Expansion:
    """A use of a wrapper rewritten as a use of the framework's own registrar."""

    registrar: Where
    options: Options
    via: tuple[Via, ...]


Form = Literal["decorator", "factory"]


@dataclass(frozen=True, slots=True)
class _Wrapper:
    """How one project function registers the function it is given, for one way of using it.

    A use decides the form: `@wrapper` ("decorator": the function is its first parameter) or
    `@wrapper(...)` ("factory": it returns a decorator). `signature` is the function whose
    parameters a use site binds; `call` is the registering call whose keywords become options;
    `registrar` is the callee that registers (the framework's, or another wrapper's, used in
    `inner_form`).
    """

    via: Via
    form: Form
    signature: ir.Function
    module: ir.ModuleSummary
    call: ir.Call
    registrar: Where
    inner_form: Form
    # Leading parameters a use does not bind: the decorated function, or a class's `self`.
    skip: int = 0
    # A wrapper class keeps its options on the instance (`self.opts = opts` in `__init__`)
    # and passes them on in `__call__` (`**self.opts`): attribute → parameter.
    stored: tuple[tuple[str, str], ...] = ()


# An adapter's answer to "does this callable register a task of my framework?", for the
# framework's own decorators and factories (aliases, `partial`, apps found by type).
IsRegistrar = Callable[[ir.Expr, ir.ModuleSummary], bool]


D = TypeVar("D")


def _always(_: object) -> bool:
    return True


@dataclass(frozen=True)
class MakerRules(Generic[D]):
    """What one framework says about its task decorators; the walk over aliases, `partial`,
    bindings and project wrappers is shared (`Recognizer.maker` / `Recognizer.decoration`)."""

    # The framework's own maker a name stands for (`shared_task`, `app.task` on an app, a
    # configured wrapper), as the adapter's decoration value; None when it is none.
    leaf: Callable[[ir.Ref, Resolved | None, ir.ModuleSummary, int], D | None]
    # A call's keywords applied to a decoration (`@app.task(max_retries=3)`, `partial(...)`).
    merge: Callable[[D, ir.Call, ir.ModuleSummary], D]
    # What a project wrapper passes on, applied to its registrar's decoration.
    extend: Callable[[D, Expansion], D]
    # Whether a call of a maker is a decorator (`dramatiq.actor(fn)` is an application).
    applies: Callable[[ir.Call], bool] = _always
    # Whether a maker used bare is a decorator (`@shared_task` is, RQ's `@job` is not).
    bare: Callable[[D, Resolved | None], bool] = lambda made, found: True
    # Whether a module-level binding used as a decorator is followed to its value.
    follows: Callable[[ir.Expr], bool] = _always


class Recognizer:
    """Answers "is this decorator a project wrapper of my framework's registrar?" for one
    adapter, with every answer cached per definition and form."""

    def __init__(
        self, project: Project, is_registrar: IsRegistrar, configured: Iterable[str] = ()
    ) -> None:
        self.project = project
        self._is_registrar = is_registrar
        self._configured = tuple(configured)
        self._configured_resolved: frozenset[str] | None = None
        self._cache: dict[tuple[str, str, Form], _Wrapper | None] = {}
        # Per module: each function's directly nested functions, by the parent's qualname.
        # Built once, since wrappers ask about nesting for every function they look at.
        self._children: dict[int, tuple[ir.ModuleSummary, dict[str, list[ir.Function]]]] = {}

    # -- configured wrappers (`task-decorators`) -------------------------------------------------

    def configured(self, found: Resolved) -> bool:
        """Whether a resolved name is a wrapper the user named, by any importable path."""
        if self._configured_resolved is None:
            self._configured_resolved = frozenset(
                self.project.resolve_qualified(name).qualified for name in self._configured
            ) | frozenset(self._configured)
        return found.qualified in self._configured_resolved

    # -- the framework's own makers, through aliases ------------------------------------------

    def maker(
        self, rules: MakerRules[D], expr: ir.Expr, module: ir.ModuleSummary, depth: int = 0
    ) -> D | None:
        """A callable that makes a task decorator: the framework's own (`rules.leaf`), an alias
        bound to one (`task = app.task`), or `partial(maker, **options)`."""
        if depth > MAX_CHAIN:
            return None
        if isinstance(expr, ir.Call):
            if self._is_partial(expr, module):
                inner = self.maker(rules, expr.args[0], module, depth + 1)
                return rules.merge(inner, expr, module) if inner is not None else None
            return None
        if not isinstance(expr, ir.Ref):
            return None
        found = self.project.resolve(module, expr.dotted)
        made = rules.leaf(expr, found, module, depth)
        if made is not None:
            return made
        if found is not None and found.kind == "binding" and found.binding and found.module:
            value = found.binding.value
            if isinstance(value, ir.Ref) or self._is_partial(value, found.module):
                return self.maker(rules, value, found.module, depth + 1)
        return None

    def decoration(
        self, rules: MakerRules[D], expr: ir.Expr, module: ir.ModuleSummary, depth: int = 0
    ) -> D | None:
        """What a decorator expression applies, or None when it makes no task: a project
        wrapper, a maker called with options, a maker used bare, or an alias of a decorator
        (`retrying = shared_task(max_retries=3)`)."""
        if depth > MAX_CHAIN:
            return None
        expansion = self.expand(expr, module)
        if expansion is not None:
            registrar = expansion.registrar
            base = self.maker(rules, registrar.expr, registrar.module, depth + 1)
            return rules.extend(base, expansion) if base is not None else None
        if isinstance(expr, ir.Call):
            if not rules.applies(expr):
                return None
            made = self.maker(rules, expr.func, module, depth + 1)
            return rules.merge(made, expr, module) if made is not None else None
        if not isinstance(expr, ir.Ref):
            return None
        found = self.project.resolve(module, expr.dotted)
        made = self.maker(rules, expr, module, depth + 1)
        if made is not None and rules.bare(made, found):
            return made
        binding = found.binding if found is not None and found.kind == "binding" else None
        if found is not None and binding and found.module and rules.follows(binding.value):
            return self.decoration(rules, binding.value, found.module, depth + 1)
        return None

    def _is_partial(self, expr: ir.Expr, module: ir.ModuleSummary) -> bool:
        if not (isinstance(expr, ir.Call) and isinstance(expr.func, ir.Ref) and expr.args):
            return False
        found = self.project.resolve(module, expr.func.dotted)
        return found is not None and found.qualified == "functools.partial"

    # -- expanding a use -------------------------------------------------------------------------

    def expand(self, expr: ir.Expr, module: ir.ModuleSummary) -> Expansion | None:
        """`@wrapper` or `@wrapper(...)` as the framework registrar it ends in, with options."""
        if isinstance(expr, ir.Call):
            wrapper = self.wrapper_at(expr.func, module, "factory")
            if wrapper is None:
                return None
            return self._through(wrapper, Options().merged(expr, module), expr.args, module, 0)
        wrapper = self.wrapper_at(expr, module, "decorator")
        return self._through(wrapper, Options(), (), module, 0) if wrapper is not None else None

    def _through(
        self,
        wrapper: _Wrapper,
        use: Options,
        positional: tuple[ir.Expr, ...],
        use_module: ir.ModuleSummary,
        depth: int,
    ) -> Expansion | None:
        """Follows a wrapper to the framework registrar, through wrappers of wrappers."""
        options = self._flow(wrapper, use, positional, use_module)
        inner = wrapper.registrar
        nested = self.wrapper_at(inner.expr, inner.module, wrapper.inner_form, depth + 1)
        if nested is not None:
            deeper = self._through(nested, options, (), inner.module, depth + 1)
            if deeper is None:
                return None
            return Expansion(deeper.registrar, deeper.options, (wrapper.via, *deeper.via))
        if not self._is_registrar(inner.expr, inner.module):
            return None
        return Expansion(inner, options, (wrapper.via,))

    def _flow(
        self,
        wrapper: _Wrapper,
        use: Options,
        positional: tuple[ir.Expr, ...],
        use_module: ir.ModuleSummary,
    ) -> Options:
        """The options the registering call receives, given what the use site passed."""
        sig, module = wrapper.signature, wrapper.module
        bound: dict[str, Where] = {
            kw.name: Where(kw.value, module) for kw in sig.defaults if kw.name
        }
        for name, arg in zip(sig.params[wrapper.skip :], positional, strict=False):
            bound[name] = Where(arg, use_module)
        accepted = {*sig.params, *sig.kwonly}
        given: dict[str, Where] = {}
        for key, where in use.kwargs:
            if key in accepted:
                bound[key] = where
            elif sig.star_kwarg is not None:
                given[key] = where
        edits = _OptionEdits.read(sig, module, self._within(sig, module))
        bag = edits.apply(given)
        stored = dict(wrapper.stored)
        kwargs: list[tuple[str, Where]] = []
        splats: list[Where] = []
        for kw in wrapper.call.kwargs:
            value = kw.value
            if isinstance(value, ir.Ref) and value.dotted in stored:
                value = ir.Ref(stored[value.dotted], value.text, value.span)
            ref = value.dotted if isinstance(value, ir.Ref) else None
            if kw.name is None:
                if ref in edits.names:
                    kwargs.extend(bag.items())
                    splats.extend(use.splats)
                else:
                    splats.append(Where(value, module))
            elif ref is not None and ref in edits.taken:
                # `tries = kwargs.pop("tries", 5)` then `max_retries=tries`.
                key, default = edits.taken[ref]
                taken = given.get(key, default)
                if taken is not None:
                    kwargs.append((kw.name, taken))
            elif ref is not None and ref in accepted:
                if ref in bound:
                    kwargs.append((kw.name, bound[ref]))
            else:
                kwargs.append((kw.name, Where(value, module)))
        return Options(tuple(kwargs), tuple(splats))

    # -- recognising a wrapper -------------------------------------------------------------------

    def wrapper_at(
        self, expr: ir.Expr, module: ir.ModuleSummary, form: Form, depth: int = 0
    ) -> _Wrapper | None:
        if not isinstance(expr, ir.Ref) or depth > MAX_CHAIN:
            return None
        found = self.project.resolve(module, expr.dotted)
        if found is None or found.module is None:
            return None
        if found.kind == "class" and found.cls is not None and form == "factory":
            return self.wrapper_class(found.cls, found.module, depth)
        if found.kind != "function" or found.function is None:
            return None
        return self.wrapper(found.function, found.module, form, depth)

    def wrapper_class(
        self, cls: ir.Class, module: ir.ModuleSummary, depth: int = 0
    ) -> _Wrapper | None:
        """`@Wrapper(...)`: `__init__` takes the options, `__call__(self, fn)` registers."""
        key: tuple[str, str, Form] = (module.path, cls.qualname, "factory")
        if key in self._cache:
            return self._cache[key]
        self._cache[key] = None
        methods = {m.name: m for m in cls.methods}
        call, init = methods.get("__call__"), methods.get("__init__")
        found: _Wrapper | None = None
        if call is not None and len(call.params) > 1 and depth <= MAX_CHAIN:
            registration = self._registration(call, module, depth, first=call.params[1])
            if registration is not None:
                via = Via(f"{module.module}.{cls.qualname}", location_of(module, cls.name_span))
                signature = init or _NO_INIT
                stored = tuple(
                    (b.target, b.value.dotted)
                    for b in signature.locals
                    if b.target.startswith("self.") and isinstance(b.value, ir.Ref)
                )
                found = _Wrapper(
                    via,
                    "factory",
                    signature,
                    module,
                    registration[0],
                    registration[1],
                    registration[2],
                    skip=1,
                    stored=stored,
                )
        self._cache[key] = found
        return found

    def inside_wrapper(self, fn: ir.Function, module: ir.ModuleSummary) -> bool:
        """Whether `fn` is defined inside a wrapper: `@shared_task(**kw) def inner` there is
        the wrapper's machinery, registered once per use under the user's function's name."""
        parts = fn.qualname.split(".<locals>.")
        for cut in range(1, len(parts)):
            outer = ".<locals>.".join(parts[:cut])
            enclosing = next((f for f in module.functions if f.qualname == outer), None)
            if enclosing is not None and self._any_form(enclosing, module):
                return True
            # A method of a wrapper class (`__call__`) encloses it.
            owner = next((c for c in module.classes if outer.startswith(f"{c.qualname}.")), None)
            if owner is not None and self.wrapper_class(owner, module) is not None:
                return True
        return False

    def markers(
        self,
        scanned: Iterable[ir.ModuleSummary],
        binds_maker: Callable[[ir.Binding, ir.ModuleSummary], bool],
        defines_maker: Callable[[ir.Class, ir.ModuleSummary], bool] = lambda cls, module: False,
    ) -> frozenset[str]:
        """Names other files may use to declare tasks without naming the framework (an
        adapter's `project_markers`): module-level bindings the adapter says make tasks
        (aliases, apps, brokers), classes it says do (task bases), wrappers, and configured
        wrappers."""
        names = {name.rpartition(".")[2] for name in self._configured}
        for summary in scanned:
            names.update(
                b.target
                for b in summary.bindings
                if "." not in b.target and binds_maker(b, summary)
            )
            names.update(
                c.name
                for c in summary.classes
                if "." not in c.qualname and defines_maker(c, summary)
            )
            names |= self.wrapper_names(summary)
        return frozenset(names)

    def _nested(self, fn: ir.Function, module: ir.ModuleSummary) -> list[ir.Function]:
        """Functions defined directly in `fn`'s body."""
        entry = self._children.get(id(module))
        if entry is None or entry[0] is not module:
            index: dict[str, list[ir.Function]] = {}
            for inner in module.functions:
                parent, sep, _ = inner.qualname.rpartition(".<locals>.")
                if sep:
                    index.setdefault(parent, []).append(inner)
            entry = self._children[id(module)] = (module, index)
        return entry[1].get(fn.qualname, [])

    def _within(self, fn: ir.Function, module: ir.ModuleSummary) -> list[ir.Function]:
        """Every function defined inside `fn`, at any depth."""
        out: list[ir.Function] = []
        pending = list(self._nested(fn, module))
        while pending:
            inner = pending.pop(0)
            out.append(inner)
            pending.extend(self._nested(inner, module))
        return out

    def wrapper_names(self, module: ir.ModuleSummary) -> set[str]:
        """Module-level wrappers a module defines: other files may use them by these names."""
        functions = {
            fn.name
            for fn in module.functions
            if "." not in fn.qualname and self._any_form(fn, module)
        }
        classes = {
            cls.name
            for cls in module.classes
            if "." not in cls.qualname and self.wrapper_class(cls, module) is not None
        }
        return functions | classes

    def _any_form(self, fn: ir.Function, module: ir.ModuleSummary) -> bool:
        return any(self.wrapper(fn, module, form) is not None for form in ("decorator", "factory"))

    def wrapper(
        self, fn: ir.Function, module: ir.ModuleSummary, form: Form, depth: int = 0
    ) -> _Wrapper | None:
        return memoized(
            self._cache,
            (module.path, fn.qualname, form),
            lambda: self._infer(fn, module, form, depth) if depth <= MAX_CHAIN else None,
        )

    def _infer(
        self, fn: ir.Function, module: ir.ModuleSummary, form: Form, depth: int
    ) -> _Wrapper | None:
        # Asked of every module-level function, by every adapter, in every pass: the `Via` of
        # the few that are wrappers is built only for them.
        def via() -> Via:
            return Via(f"{module.module}.{fn.qualname}", location_of(module, fn.name_span))

        if form == "decorator":
            # `@wrapper`: registers its own first parameter.
            own = self._registration(fn, module, depth)
            if own is None:
                return None
            call, registrar, inner_form = own
            return _Wrapper(via(), form, fn, module, call, registrar, inner_form, skip=1)
        # `@wrapper(...)`: returns the decorator a registrar makes (`return shared_task(**kw)`).
        for ret in fn.returns:
            if isinstance(ret, ir.Call) and self._registers(ret.func, module, "factory", depth):
                registrar = Where(ret.func, module)
                return _Wrapper(via(), form, fn, module, ret, registrar, "factory")
        # ... or a nested decorator that registers its parameter.
        returned = {r.dotted for r in fn.returns if isinstance(r, ir.Ref)}
        if not returned:
            return None
        for inner in self._nested(fn, module):
            if inner.name not in returned:
                continue
            found = self._registration(inner, module, depth)
            if found is not None:
                call, registrar, inner_form = found
                return _Wrapper(via(), form, fn, module, call, registrar, inner_form)
        return None

    def _registration(
        self, fn: ir.Function, module: ir.ModuleSummary, depth: int, first: str | None = None
    ) -> tuple[ir.Call, Where, Form] | None:
        """The call in `fn` that registers `fn`'s first parameter (or a function wrapping it).

        Three shapes: `registrar(task, **opts)`, `registrar(**opts)(task)`, and a nested
        `@registrar(**opts)` definition (usually also `@functools.wraps(task)`).
        """
        first = first or (fn.params[0] if fn.params else None)
        if first is None:
            return None
        nested = self._nested(fn, module)
        if not nested and not any(call.args for call in fn.calls):
            return None  # most functions: nothing here is handed a function to register
        carried = _carriers(fn, first, nested)
        helpers = {inner.name: inner for inner in nested}
        for call in fn.calls:
            if not call.args or not _names(call.args[0], carried):
                continue
            func = call.func
            # `make(fn)` with a nested `def make(f): return shared_task(f, ...)`: the helper
            # registers (the usual shape of a decorator usable with and without arguments).
            if isinstance(func, ir.Ref) and func.dotted in helpers and depth <= MAX_CHAIN:
                found = self._registration(helpers[func.dotted], module, depth + 1)
                if found is not None:
                    return found
                continue
            if isinstance(func, ir.Call):
                if self._registers(func.func, module, "factory", depth):
                    return func, Where(func.func, module), "factory"
            elif isinstance(func, ir.Ref) and self._registers(func, module, "decorator", depth):
                return call, Where(func, module), "decorator"
        for inner in self._nested(fn, module):
            for dec in inner.decorators:
                if isinstance(dec, ir.Call):
                    if not dec.args and self._registers(dec.func, module, "factory", depth):
                        return dec, Where(dec.func, module), "factory"
                elif self._registers(dec, module, "decorator", depth):
                    return ir.Call(dec, (), (), dec.text, dec.span), Where(dec, module), "decorator"
        return None

    def _registers(self, expr: ir.Expr, module: ir.ModuleSummary, form: Form, depth: int) -> bool:
        if self._is_registrar(expr, module):
            return True
        return self.wrapper_at(expr, module, form, depth + 1) is not None


# A wrapper class without `__init__` takes no options.
_NO_INIT = ir.Function(
    "__init__",
    "__init__",
    ("self",),
    (),
    ir.Span(1, 1, 1, 1),
    ir.Span(1, 1, 1, 1),
    (),
    (),
    (),
    (),
    False,
)


_WRITE = re.compile(r"(\w+)\['(.*)'\]")


@dataclass(frozen=True)
class _OptionEdits:
    """What a wrapper's code does to the `**options` it passes on: names that hold them
    (`options`, `opts = options.copy()`), keys it pops (and locals it pops them into), keys it
    sets only when missing (`setdefault`) and keys it overwrites (`options["bind"] = True`)."""

    names: frozenset[str]
    popped: frozenset[str]
    taken: dict[str, tuple[str, Where | None]]
    defaults: tuple[tuple[str, Where], ...]
    writes: tuple[tuple[str, Where], ...]

    @classmethod
    def read(
        cls, sig: ir.Function, module: ir.ModuleSummary, within: list[ir.Function]
    ) -> _OptionEdits:
        scope = [sig, *within]
        names = {sig.star_kwarg} if sig.star_kwarg else set()
        bindings = [b for fn in scope for b in fn.locals]
        for b in bindings:  # aliases: `opts = kwargs.copy()`, `opts = dict(kwargs)`
            value = b.value
            if isinstance(value, ir.Call) and (
                _method_of(value, names) == "copy" or any(_names(a, names) for a in value.args)
            ):
                names.add(b.target)
        popped: set[str] = set()
        taken: dict[str, tuple[str, Where | None]] = {}
        defaults: list[tuple[str, Where]] = []
        writes: list[tuple[str, Where]] = []
        for b in bindings:
            match = _WRITE.fullmatch(b.target)
            if match and match[1] in names:
                writes.append((match[2], Where(b.value, module)))
            elif isinstance(b.value, ir.Call) and _method_of(b.value, names) == "pop":
                key = _key(b.value)
                if key is not None:
                    default = b.value.args[1] if len(b.value.args) > 1 else None
                    taken[b.target] = (key, Where(default, module) if default else None)
        for call in (c for fn in scope for c in fn.calls):
            method, key = _method_of(call, names), _key(call)
            if method == "pop" and key is not None:
                popped.add(key)
            elif method == "setdefault" and key is not None and len(call.args) > 1:
                defaults.append((key, Where(call.args[1], module)))
            elif method == "update":
                writes.extend((kw.name, Where(kw.value, module)) for kw in call.kwargs if kw.name)
        return cls(frozenset(names), frozenset(popped), taken, tuple(defaults), tuple(writes))

    def apply(self, given: dict[str, Where]) -> dict[str, Where]:
        bag = {k: v for k, v in given.items() if k not in self.popped}
        for key, where in self.defaults:
            bag.setdefault(key, where)
        bag.update(self.writes)
        return bag


def _method_of(call: ir.Call, receivers: Iterable[str]) -> str | None:
    """`pop` for `kwargs.pop(...)` when `kwargs` is one of `receivers`."""
    if not isinstance(call.func, ir.Ref):
        return None
    receiver, _, method = call.func.dotted.rpartition(".")
    return method if receiver in set(receivers) else None


def _key(call: ir.Call) -> str | None:
    first = call.args[0] if call.args else None
    return first.value if isinstance(first, ir.Const) and isinstance(first.value, str) else None


def _carriers(fn: ir.Function, first: str, nested: list[ir.Function]) -> frozenset[str]:
    """Names in `fn` that stand for the function it was given (its parameter `first`), and
    nested definitions that wrap it (`@functools.wraps(fn) def inner(...)`, or an undecorated
    inner function that calls it)."""
    names = {first}
    for inner in nested:
        wraps = any(_wraps(dec, first) for dec in inner.decorators)
        calls = not inner.decorators and any(_calls_name(call, first) for call in inner.calls)
        if wraps or calls:
            names.add(inner.name)
    for binding in fn.locals:
        if isinstance(binding.value, ir.Call) and any(
            _names(arg, names) for arg in binding.value.args
        ):
            names.add(binding.target)
    return frozenset(names)


def _wraps(dec: ir.Expr, name: str) -> bool:
    return (
        isinstance(dec, ir.Call)
        and isinstance(dec.func, ir.Ref)
        and dec.func.dotted.rpartition(".")[2] == "wraps"
        and bool(dec.args)
        and _names(dec.args[0], {name})
    )


def _calls_name(call: ir.Call, name: str) -> bool:
    return isinstance(call.func, ir.Ref) and call.func.dotted == name


def _names(expr: ir.Expr, names: AbstractSet[str]) -> bool:
    return isinstance(expr, ir.Ref) and expr.dotted in names
