"""hibiken/asynq (Go): task types, enqueue sites, handlers and server retry settings.

asynq splits a retry policy in two (reference §11): the retry budget (`MaxRetry`, default 25) is
stamped into each message by whoever enqueues it, while the delays (`Config.RetryDelayFunc`) and
what counts as a failure (`Config.IsFailure`) belong to the server that runs the handler. So
every enqueue site gets its own row (task options, then enqueue options, the last of each type
winning), judged with the delays of the server whose mux handles that type (an exact pattern,
else the longest prefix). Handler rows carry no retry verdict.

Everything asynq is recognised by the import path `github.com/hibiken/asynq`, whatever the
alias; method names alone never count (`net/http` muxes have `HandleFunc` too). A task that
reaches `Enqueue` through a parameter (the task, its type string, a builder callback, a slice
of builders) is followed to the callers, where its row sits. Each row carries the asynq version
of the `go.mod` nearest its file: one repository may build several modules on different
versions, and the server's version decides whether `IsFailure` is asked before the budget.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, TypeVar

from retrylint.frameworks.base import (
    FileProblem,
    FileSuppressions,
    GoContext,
    GoItem,
    UndecidedLog,
)
from retrylint.golang.evaluate import (
    ASYNQ,
    SECOND,
    Assign,
    Fixed,
    FuncRef,
    GoEvaluator,
    NeedsCaller,
    Scope,
    Undecidable,
    block_of,
    contains,
    default_retry_delay,
    return_statements,
    returned,
)
from retrylint.golang.flow import CallSite, Flow
from retrylint.golang.parse import GoFile, Node, find_suppressions, parse_go, walk
from retrylint.golang.project import FuncInfo, GoProject, Param, func_info
from retrylint.model import (
    UNBOUNDED,
    UNDECIDED,
    BackoffKind,
    Capabilities,
    Count,
    EffectivePolicy,
    FrameworkInfo,
    Location,
    Observation,
    Provenance,
)
from retrylint.python.evaluate import Unknown
from retrylint.resolve.schedule import DelayFn, RetryPath, classify, combine
from retrylint.scan.versions import GoModules, at_least

KEY = "asynq"
# The version the facts were read from (reference §0: master 785bb72, v0.26.0 + 22 commits).
REFERENCE_VERSION = "0.26.0"
# processor.go `handleFailedMessage`: up to v0.24.1 `IsFailure` is asked first and a "not a
# failure" error is retried before the budget is looked at; from v0.25.0 an exhausted budget
# (`MaxRetry(0)` included) archives first.
BUDGET_BEFORE_IS_FAILURE = (0, 25, 0)
DEFAULT_MAX_RETRY = 25  # client.go: defaultMaxRetry
# A budget this large never runs out in practice (reference §11c: `math.MaxInt32`).
HUGE_MAX_RETRY = 100_000
ARCHIVE = "archived in queue `{queue}` (kept 90 days, at most 10,000 per queue)"
_ENQUEUE_METHODS = {"Enqueue": 0, "EnqueueContext": 1}
_BATCH_METHODS = {"BatchEnqueueContext": 1}
_MAX_CALLER_DEPTH = 3
_MAX_CALLERS = 64
_DEFAULT_NOTE = "asynq.DefaultRetryDelayFunc: n⁴ + 15 s plus up to 29·(n+1) s of jitter"

_HINTS: tuple[tuple[str, str], ...] = (
    (
        "max_retries",
        "Pass asynq.MaxRetry(n) to NewTask or Enqueue: asynq stamps the budget into each "
        "message when it is enqueued (the default is 25), so every producer of this type "
        "must set it.",
    ),
    (
        "backoff",
        "asynq backs off only through the server's Config.RetryDelayFunc (server-wide; switch "
        "on t.Type() for one type); asynq.DefaultRetryDelayFunc grows as n⁴ + 15 s.",
    ),
    (
        "jitter",
        "asynq jitters only in DefaultRetryDelayFunc: add a random part (rand.N) to what your "
        "Config.RetryDelayFunc returns, or return asynq.DefaultRetryDelayFunc(n, e, t).",
    ),
    (
        "dead_letter",
        "asynq archives a task whose retries ran out (up to 90 days, 10,000 per queue); watch "
        "the archive with asynq.Inspector or Asynqmon.",
    ),
    (
        "window",
        "Raise asynq.MaxRetry(n) on NewTask or Enqueue, or return longer delays from the "
        "server's Config.RetryDelayFunc.",
    ),
)

T = TypeVar("T")


# -- what the code says -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Opt:
    """One asynq option as written: `asynq.MaxRetry(3)`, or an expression we cannot read."""

    kind: str  # "MaxRetry", "Queue", ... or "?"
    arg: Node | None
    node: Node
    scope: Scope
    conditional: bool


@dataclass(frozen=True, slots=True)
class _TaskRef:
    """An `asynq.NewTask(...)` call reached from a site, in the scope it is evaluated in."""

    call: Node
    scope: Scope
    headers: bool  # NewTaskWithHeaders: options start one argument later

    @property
    def key(self) -> tuple[str, int]:
        return (self.scope.file.path, self.call.start_byte)


@dataclass
class _Delay:
    """What a server's RetryDelayFunc does."""

    fn: DelayFn | None
    jitter: bool | Literal["undecided"]
    source: Provenance
    custom: bool = False  # a function we found but cannot evaluate
    unknown: Unknown | None = None
    label: str = "asynq.DefaultRetryDelayFunc"


@dataclass
class _Server:
    key: str
    call: Node
    file: GoFile
    delay: _Delay
    is_failure: tuple[str, Location] | None
    muxes: set[str] = field(default_factory=set)


@dataclass
class _Handler:
    pattern: str | None
    expression: str
    unknown: Unknown | None
    location: Location
    mux: str | None
    anchors: tuple[int, ...]
    sentinels: list[tuple[str, Location]]


@dataclass
class _Site:
    """One enqueue row in the making."""

    location: Location
    anchors: tuple[int, ...]
    name: str | None
    name_expression: str | None
    log: UndecidedLog
    count: Count
    count_source: Provenance
    queue: str | None
    task_key: tuple[str, int] | None
    orphan: bool = False  # a task built and returned, not enqueued here
    scope: str | None = None  # the enclosing func (`Type.Method` for a method), for identity


class AsynqAdapter:
    key = KEY
    info = FrameworkInfo(
        "asynq",
        None,
        in_process=False,
        capabilities=Capabilities(
            count="setting", backoff="code", jitter="code", dead_letter="setting"
        ),
    )
    markers = re.compile(rb"github\.com/hibiken/asynq")

    def analyze_go(self, ctx: GoContext) -> Iterable[GoItem]:
        return _Analysis(ctx).run()


class _Analysis:
    def __init__(self, ctx: GoContext) -> None:
        self.ctx = ctx
        self.parsed: list[GoFile] = []
        self.problems: list[FileProblem] = []
        # Rows are reported for files under PATHS, but servers, handlers and wrappers are
        # read from the whole project, so a verdict does not depend on what was scanned.
        self.in_scope = frozenset(f.path for f in ctx.files)
        # Whether an asynq file retrylint could not parse names `MaxRetry` (or could not be
        # read at all): it may set the budget of tasks built there.
        self.unparsed_budget = False
        sources = {**ctx.project_files(), **{f.path: f.absolute for f in ctx.files}}
        for path in sorted(sources):
            try:
                data = sources[path].read_bytes()
            except OSError as err:
                self.unparsed_budget = True
                if path in self.in_scope:
                    reason = f"cannot read file: {err.strerror or err}"
                    self.problems.append(FileProblem(path, 1, 1, reason))
                continue
            if not AsynqAdapter.markers.search(data):
                continue
            go_file, problem = parse_go(data, path)
            if problem is not None:
                self.unparsed_budget = self.unparsed_budget or b"MaxRetry" in data
                if path in self.in_scope:
                    self.problems.append(
                        FileProblem(problem.path, problem.line, problem.column, problem.message)
                    )
                continue
            self.parsed.append(go_file)
        self.project = GoProject(ctx.root, ctx.project_files, self.parsed)
        for source in ctx.files:
            self.project.add_path(source.path, source.absolute)
        self.evaluator = GoEvaluator(self.project, ctx.assume)
        self.scanned = [f for f in self.parsed if ASYNQ in f.imports.values()]
        self.flow = Flow(self.project, self.evaluator, self.scanned, sorted(sources))
        self.modules = GoModules(ctx.root)
        self.constructors: dict[str, str] = {}
        self.servers: dict[str, _Server] = {}
        self.handlers: list[_Handler] = []
        self.sites: list[_Site] = []
        self.consumed: set[tuple[str, int]] = set()
        self._budget_cache: bool | None = None

    # -- driver ------------------------------------------------------------------------

    def run(self) -> Iterator[GoItem]:
        yield from self.problems
        calls: list[tuple[GoFile, Node]] = []
        literals: list[tuple[GoFile, Node]] = []
        for file in self.scanned:
            for node in walk(file.root):
                if node.type == "call_expression":
                    calls.append((file, node))
                elif node.type == "composite_literal":
                    literals.append((file, node))
        for file, node in calls:
            scope = self.evaluator.scope_at(file, node)
            kind = self.flow.asynq_constructor(node, scope)
            if kind is not None:
                self.constructors[f"new:{file.path}:{node.start_byte}"] = kind
        for file, node in calls:
            scope = self.evaluator.scope_at(file, node)
            if self.flow.asynq_constructor(node, scope) in (
                "NewServer",
                "NewServerFromRedisClient",
            ):
                self._server(file, node, scope)
        for file, node in calls:
            self._classify(file, node)
        for file, node in literals:
            type_node = node.child_by_field_name("type")
            owner = self.flow.type_expr(type_node, file)
            if owner == (ASYNQ, "PeriodicTaskConfig"):
                self._periodic(file, node)
            elif type_node is not None and type_node.type in ("slice_type", "array_type"):
                element = type_node.child_by_field_name("element")
                if self.flow.type_expr(element, file) != (ASYNQ, "PeriodicTaskConfig"):
                    continue
                body = node.child_by_field_name("body")
                for item in body.named_children if body is not None else []:
                    inner = item.named_children[0] if item.named_children else None
                    if inner is not None and inner.type == "literal_value":
                        self._periodic(file, inner)  # `{Cronspec: ..., Task: ...}`
        self._orphans(calls)
        yield from self._rows()
        for source in self.ctx.files:
            parsed = self.project.parsed(source.path)
            if parsed is not None:
                found = find_suppressions(parsed)
                if found:
                    yield FileSuppressions(source.path, found)

    def _receiver_is(self, receiver: Node, scope: Scope, type_name: str) -> bool:
        if self.flow.type_of(receiver, scope) == (ASYNQ, type_name):
            return True
        wanted = {
            "Client": ("NewClient", "NewClientFromRedisClient"),
            "Server": ("NewServer", "NewServerFromRedisClient"),
            "ServeMux": ("NewServeMux",),
            "Scheduler": ("NewScheduler", "NewSchedulerFromRedisClient"),
        }[type_name]
        key = self.flow.object_key(receiver, scope)
        return any(self.constructors.get(k) in wanted for k in self.flow.same_class(key))

    def _classify(self, file: GoFile, node: Node) -> None:
        function = node.child_by_field_name("function")
        if function is None or function.type != "selector_expression":
            return
        receiver = function.child_by_field_name("operand")
        member = function.child_by_field_name("field")
        if receiver is None or member is None:
            return
        method = file.text(member)
        scope = self.evaluator.scope_at(file, node)
        if self.evaluator.qualifier(receiver, scope) is not None:
            return
        if method in _ENQUEUE_METHODS or method in _BATCH_METHODS:
            if self._receiver_is(receiver, scope, "Client") or (
                self._opaque(receiver, scope)
                and self._looks_like_task(node, scope, {**_ENQUEUE_METHODS, **_BATCH_METHODS})
            ):
                self._enqueue(file, node, method)
        elif method == "Register":
            if self._receiver_is(receiver, scope, "Scheduler") or (
                self._opaque(receiver, scope)
                and self._looks_like_task(node, scope, {"Register": 1})
            ):
                self._enqueue(file, node, method)
        elif method in ("HandleFunc", "Handle") and self._receiver_is(receiver, scope, "ServeMux"):
            self._handler(file, node, receiver)
        elif method in ("Run", "Start") and self._receiver_is(receiver, scope, "Server"):
            self._bind_server(file, node, receiver, scope)

    def _opaque(self, receiver: Node, scope: Scope) -> bool:
        """A receiver whose type is unknown or an interface (`TaskEnqueuer`, satisfied by
        `*asynq.Client`); a project struct is a wrapper, followed through its callers."""
        owner = self.flow.type_of(receiver, scope)
        if owner is None:
            return True
        if not owner[0].startswith("dir:"):
            return False
        declared = self.project.package(owner[0][4:]).types.get(owner[1])
        return declared is None or declared[1].type == "interface_type"

    def _looks_like_task(self, node: Node, scope: Scope, positions: dict[str, int]) -> bool:
        """A receiver of unknown type counts as an asynq client when it is handed a task."""
        function = node.child_by_field_name("function")
        member = function.child_by_field_name("field") if function is not None else None
        index = positions.get(scope.file.text(member)) if member is not None else None
        args = _args(node)
        if index is None or index >= len(args):
            return False
        try:
            return bool(self._tasks(args[index], scope, 0))
        except NeedsCaller as need:
            # A wrapper's own parameter: a task when its declared type says so.
            return self._declares_task(need.param.type, need.func.file, 0)
        except Undecidable:
            return False

    def _declares_task(self, node: Node | None, file: GoFile, depth: int) -> bool:
        """Whether a parameter type holds asynq tasks: `*asynq.Task`, a slice of them, a
        function returning one, or a project type defined as one of these."""
        if node is None or depth > 4:
            return False
        if node.type in ("slice_type", "array_type"):
            return self._declares_task(node.child_by_field_name("element"), file, depth + 1)
        if node.type == "function_type":
            return self._declares_task(node.child_by_field_name("result"), file, depth + 1)
        if node.type == "parameter_list":  # the results `(*asynq.Task, error)`
            first = next(
                (c for c in node.named_children if c.type == "parameter_declaration"), None
            )
            kind = first.child_by_field_name("type") if first is not None else None
            return self._declares_task(kind, file, depth + 1)
        owner = self.flow.type_expr(node, file)
        if owner == (ASYNQ, "Task"):
            return True
        if owner is None or not owner[0].startswith("dir:"):
            return False
        declared = self.project.package(owner[0][4:]).types.get(owner[1])
        return declared is not None and self._declares_task(declared[1], declared[0], depth + 1)

    # -- servers -----------------------------------------------------------------------

    def _server(self, file: GoFile, node: Node, scope: Scope) -> None:
        key = f"new:{file.path}:{node.start_byte}"
        args = _args(node)
        config: dict[str, tuple[Node, Scope]] = {}
        if len(args) >= 2:
            literal = self._composite(args[1], scope)
            if literal is not None:
                config = _keyed(*literal)
        delay = self._delay(config.get("RetryDelayFunc"))
        is_failure = self._is_failure(config.get("IsFailure"))
        self.servers[key] = _Server(key, node, file, delay, is_failure)

    def _composite(self, node: Node, scope: Scope) -> tuple[Node, Scope] | None:
        try:
            return self.evaluator.composite(node, scope)
        except Undecidable:
            return None

    def _delay(self, written: tuple[Node, Scope] | None) -> _Delay:
        if written is None:
            return _Delay(
                _default_delay,
                True,
                Provenance("default", None, _DEFAULT_NOTE),
            )
        node, scope = written
        location = scope.file.location(node)
        ref = self.evaluator.function(node, scope)
        if ref is None:
            unknown = Unknown(scope.file.text(node), location)
            return _Delay(
                None,
                UNDECIDED,
                Provenance("undecided", location),
                unknown=unknown,
                label=unknown.expression,
            )
        if ref.builtin == "asynq.DefaultRetryDelayFunc":
            return _Delay(_default_delay, True, Provenance("explicit", location, _DEFAULT_NOTE))
        if ref.info is None:
            unknown = Unknown(scope.file.text(node), location)
            return _Delay(
                None,
                UNDECIDED,
                Provenance("undecided", location),
                unknown=unknown,
                label=unknown.expression,
            )
        label = _function_label(ref.info, scope.file.text(node))
        function = _DelayFunction(self.evaluator, ref)
        self.evaluator.random = False
        try:
            for r in range(6):
                function.at(r)
        except Undecidable as err:
            unknown = Unknown(err.expression, err.location)
            return _Delay(
                None,
                UNDECIDED,
                Provenance("explicit", location, f"RetryDelayFunc {label}"),
                custom=True,
                unknown=unknown,
                label=label,
            )
        return _Delay(
            function,
            self.evaluator.random,
            Provenance("explicit", location, f"RetryDelayFunc {label}"),
            label=label,
        )

    def _is_failure(self, written: tuple[Node, Scope] | None) -> tuple[str, Location] | None:
        """The IsFailure function, unless it is absent, nil, or plainly `err != nil`."""
        if written is None:
            return None
        node, scope = written
        if node.type == "nil":
            return None
        location = scope.file.location(node)
        ref = self.evaluator.function(node, scope)
        if ref is not None and ref.info is not None:
            params = [p.name for p in ref.info.params]
            returns = [returned(s, 0) for s in return_statements(ref.info.node)]
            file = ref.info.file
            if (
                params
                and returns
                and all(
                    r is not None
                    and re.fullmatch(rf"{re.escape(params[0])}\s*!=\s*nil", file.text(r))
                    for r in returns
                )
            ):
                return None
            if ref.info.node.type == "func_literal":
                return "a function literal", location
            return f"`{scope.file.text(node)}`", ref.info.file.location(ref.info.node)
        return f"`{scope.file.text(node)}`", location

    def _bind_server(self, file: GoFile, node: Node, receiver: Node, scope: Scope) -> None:
        args = _args(node)
        if not args:
            return
        mux = self.flow.root(self.flow.object_key(args[0], scope))
        if mux is None:
            return
        key = self.flow.object_key(receiver, scope)
        for member in self.flow.same_class(key):
            server = self.servers.get(member)
            if server is not None:
                server.muxes.add(mux)

    def _servers_for_mux(self, mux: str | None, path: str) -> list[_Server]:
        """The servers that run a mux; when no `srv.Run(mux)` ties them, every server on the
        same side of the code (test files for test files, the rest for the rest)."""
        if mux is not None:
            bound = [s for s in self.servers.values() if mux in s.muxes]
            if bound:
                return bound
        return _same_side(list(self.servers.values()), path, lambda s: s.file.path)

    def _servers_for(self, name: str | None, path: str) -> tuple[list[_Server], bool]:
        """The servers that may run a type, and whether they are known rather than guessed."""
        handler = self._match(name, path) if name is not None else None
        if handler is None:
            servers = self._servers_for_mux(None, path)
        else:
            servers = self._servers_for_mux(handler.mux, handler.location.path)
        agreed = len({s.delay.label for s in servers}) == 1
        return servers, len(servers) == 1 or (handler is not None and agreed)

    def _delay_for(self, servers: list[_Server], log: UndecidedLog) -> _Delay:
        if not servers:
            return _Delay(
                _default_delay,
                True,
                Provenance(
                    "default",
                    None,
                    "no asynq server in the scanned code; asynq.DefaultRetryDelayFunc assumed",
                ),
            )
        if len({s.delay.label for s in servers}) > 1:
            first = min(servers, key=lambda s: (s.file.path, s.call.start_byte))
            places = ", ".join(sorted(str(s.file.location(s.call)) for s in servers))
            return _Delay(
                None,
                UNDECIDED,
                Provenance(
                    "undecided",
                    first.file.location(first.call),
                    f"no handler pins the server; several asynq servers could run it ({places})",
                ),
            )
        delay = servers[0].delay
        if delay.unknown is not None:
            log.add("backoff", delay.unknown)
        return delay

    # -- handlers ----------------------------------------------------------------------

    def _handler(self, file: GoFile, node: Node, receiver: Node) -> None:
        args = _args(node)
        if len(args) < 2:
            return
        base = self.evaluator.scope_at(file, node)
        mux = self.flow.root(self.flow.object_key(receiver, base))
        _Outcome = tuple[str | None, Unknown | None, list[tuple[str, Location]]]

        def attempt(scope: Scope, lenient: bool) -> _Outcome:
            sentinels = self._sentinels(args[1], scope)
            try:
                value = self.evaluator.value(args[0], scope)
            except NeedsCaller as err:
                if not lenient:
                    raise
                return None, Unknown(err.expression, err.location), sentinels
            except Undecidable as err:
                return None, Unknown(err.expression, err.location), sentinels
            if isinstance(value, str) and value.strip():
                return value, None, sentinels
            return None, Unknown(file.text(args[0]), file.location(args[0])), sentinels

        for path, outcome in self._contexts(file, node, attempt):
            location = path[-1].file.location(path[-1].call) if path else file.location(node)
            anchors = _anchors(file, node, path)[0]
            pattern: str | None
            unknown: Unknown | None
            sentinels: list[tuple[str, Location]]
            if isinstance(outcome, Undecidable):
                unknown = Unknown(outcome.expression, outcome.location)
                pattern, sentinels = None, []
            else:
                pattern, unknown, sentinels = outcome
            self.handlers.append(
                _Handler(pattern, file.text(args[0]), unknown, location, mux, anchors, sentinels)
            )

    def _sentinels(self, handler: Node, scope: Scope) -> list[tuple[str, Location]]:
        """`asynq.SkipRetry` / `asynq.RevokeTask` written in the handler's own body."""
        info = self._handler_function(handler, scope, 0)
        if info is None or info.body is None:
            return []
        found: list[tuple[str, Location]] = []
        inner = Scope(info.file, info)
        for node in walk(info.body):
            if node.type != "selector_expression":
                continue
            operand = node.child_by_field_name("operand")
            member = node.child_by_field_name("field")
            if operand is None or member is None:
                continue
            name = info.file.text(member)
            if (
                name in ("SkipRetry", "RevokeTask")
                and self.evaluator.qualifier(operand, inner) == ASYNQ
            ):
                found.append((name, info.file.location(node)))
        return found

    def _handler_function(self, node: Node, scope: Scope, depth: int) -> FuncInfo | None:
        if depth > 4:
            return None
        file = scope.file
        if node.type == "call_expression":
            function = node.child_by_field_name("function")
            args = _args(node)
            if (
                function is not None
                and function.type == "selector_expression"
                and (operand := function.child_by_field_name("operand")) is not None
                and (member := function.child_by_field_name("field")) is not None
                and self.evaluator.qualifier(operand, scope) == ASYNQ
                and file.text(member) == "HandlerFunc"
                and args
            ):
                return self._handler_function(args[0], scope, depth + 1)
        if node.type == "selector_expression":
            operand = node.child_by_field_name("operand")
            member = node.child_by_field_name("field")
            if (
                operand is not None
                and member is not None
                and self.evaluator.qualifier(operand, scope) is None
            ):
                owner = self.flow.type_of(operand, scope)
                if owner is not None and owner[0].startswith("dir:"):
                    return self.project.package(owner[0][4:]).methods.get(
                        (owner[1], file.text(member))
                    )
                return None
        ref = self.evaluator.function(node, scope)
        if ref is not None and ref.info is not None:
            return ref.info
        owner = self.flow.type_of(node, scope)
        if owner is not None and owner[0].startswith("dir:"):
            return self.project.package(owner[0][4:]).methods.get((owner[1], "ProcessTask"))
        return None

    def _match(self, name: str, path: str | None = None) -> _Handler | None:
        """asynq's routing: the exact pattern, else the longest pattern that prefixes it.

        With `path`, handlers on the same side (test files or not) are tried first."""
        if path is not None:
            same = [h for h in self.handlers if _is_test(h.location.path) == _is_test(path)]
            found = self._route(name, same)
            if found is not None:
                return found
        return self._route(name, self.handlers)

    @staticmethod
    def _route(name: str, handlers: list[_Handler]) -> _Handler | None:
        decided = [h for h in handlers if h.pattern is not None]
        exact = [h for h in decided if h.pattern == name]
        if exact:
            return sorted(exact, key=lambda h: (h.location.path, h.location.line))[0]
        prefixes = [h for h in decided if h.pattern and name.startswith(h.pattern)]
        if not prefixes:
            return None
        return sorted(
            prefixes, key=lambda h: (-len(h.pattern or ""), h.location.path, h.location.line)
        )[0]

    # -- enqueue sites -----------------------------------------------------------------

    def _enqueue(self, file: GoFile, node: Node, method: str) -> None:
        args = _args(node)
        if method in _ENQUEUE_METHODS:
            index = _ENQUEUE_METHODS[method]
        elif method in _BATCH_METHODS:
            index = _BATCH_METHODS[method]
        else:
            index = 1  # scheduler.Register(cronspec, task, opts...)
        if index >= len(args):
            return
        task_node = args[index]
        extra = args[index + 1 :]
        spread = _spread(node)
        batch = method in _BATCH_METHODS

        def tasks(scope: Scope) -> list[_TaskRef]:
            if batch:
                return self._task_slice(task_node, scope, 0)
            return self._tasks(task_node, scope, 0)

        def options(scope: Scope) -> list[_Opt]:
            return self._options_from(extra, spread, scope)

        self._site(file, node, tasks, options)

    def _periodic(self, file: GoFile, node: Node) -> None:
        fields = _keyed(node, self.evaluator.scope_at(file, node))
        task = fields.get("Task")
        if task is None:
            return
        task_node = task[0]
        opts = fields.get("Opts")

        def tasks(scope: Scope) -> list[_TaskRef]:
            return self._tasks(task_node, scope, 0)

        def options(scope: Scope) -> list[_Opt]:
            if opts is None:
                return []
            return self._slice(opts[0], scope, False, 0)

        self._site(file, node, tasks, options)

    def _site(
        self,
        file: GoFile,
        node: Node,
        tasks: Callable[[Scope], list[_TaskRef]],
        options: Callable[[Scope], list[_Opt]],
        orphan: bool = False,
    ) -> None:
        def attempt(scope: Scope, lenient: bool) -> list[_Site]:
            log = UndecidedLog()
            try:
                refs: list[_TaskRef | None] = list(tasks(scope))
            except NeedsCaller as err:
                if not lenient:
                    raise
                refs = [None]
                log.add("name", Unknown(err.expression, err.location))
            except Undecidable as err:
                refs = [None]
                log.add("name", Unknown(err.expression, err.location))
            try:
                site_opts: list[_Opt] | Unknown = options(scope)
            except NeedsCaller as err:
                if not lenient:
                    raise
                site_opts = Unknown(err.expression, err.location)
            except Undecidable as err:
                site_opts = Unknown(err.expression, err.location)
            out = []
            for ref in refs:
                out.append(self._site_row(ref, site_opts, log, lenient))
            return out

        for path, outcome in self._contexts(file, node, attempt):
            if isinstance(outcome, Undecidable):
                continue
            location = path[-1].file.location(path[-1].call) if path else file.location(node)
            anchors, scope = _anchors(file, node, path)
            for site in outcome:
                site.location = location
                site.anchors = anchors
                site.scope = scope
                site.orphan = orphan
                self.sites.append(site)
                if site.task_key is not None:
                    self.consumed.add(site.task_key)

    def _site_row(
        self,
        ref: _TaskRef | None,
        site_opts: list[_Opt] | Unknown,
        shared: UndecidedLog,
        lenient: bool,
    ) -> _Site:
        log = UndecidedLog()
        for item in shared.items():
            log.add(item.field, Unknown(item.expression, item.location))
        name: str | None = None
        expression: str | None = None
        task_opts: list[_Opt] | Unknown = []
        if ref is not None:
            args = _args(ref.call)
            file = ref.scope.file
            if args:
                try:
                    value = self.evaluator.value(args[0], ref.scope)
                except NeedsCaller as err:
                    if not lenient:
                        raise
                    value = None
                    log.add("name", Unknown(err.expression, err.location))
                except Undecidable as err:
                    value = None
                    log.add("name", Unknown(err.expression, err.location))
                if isinstance(value, str) and value:
                    name = value
                else:
                    expression = file.text(args[0])
                    if not log.items():
                        log.add("name", Unknown(expression, file.location(args[0])))
            start = 3 if ref.headers else 2
            try:
                task_opts = self._options_from(args[start:], _spread(ref.call), ref.scope)
            except NeedsCaller as err:
                if not lenient:
                    raise
                task_opts = Unknown(err.expression, err.location)
            except Undecidable as err:
                task_opts = Unknown(err.expression, err.location)
        else:
            # The task itself is unknown, and so is any MaxRetry it carries (unless the
            # project never writes one).
            items = log.items()
            expression = items[0].expression if items else "?"
            if items and self._writes_budget():
                task_opts = Unknown(items[0].expression, items[0].location)
        count, count_source = self._count(task_opts, site_opts, log, lenient)
        queue = self._queue(task_opts, site_opts)
        return _Site(
            Location("", 0, 0),
            (),
            name,
            expression if name is None else None,
            log,
            count,
            count_source,
            queue,
            ref.key if ref is not None else None,
        )

    def _count(
        self,
        task_opts: list[_Opt] | Unknown,
        site_opts: list[_Opt] | Unknown,
        log: UndecidedLog,
        lenient: bool,
    ) -> tuple[Count, Provenance]:
        # Enqueue options come after the task's: a MaxRetry there wins whatever the task said.
        overridden = isinstance(site_opts, list) and any(
            o.kind == "MaxRetry" and not o.conditional for o in site_opts
        )
        for opts in (task_opts, site_opts):
            if isinstance(opts, Unknown) and not (opts is task_opts and overridden):
                log.add("max_retries", opts)
                return UNDECIDED, Provenance("undecided", opts.location)
        task_opts = task_opts if isinstance(task_opts, list) else []
        assert isinstance(site_opts, list)
        candidates: list[tuple[int, Provenance] | Unknown] = [
            (DEFAULT_MAX_RETRY, Provenance("default", None, "asynq's default MaxRetry of 25"))
        ]
        for opt in [*task_opts, *site_opts]:
            if opt.kind not in ("MaxRetry", "?"):
                continue
            file = opt.scope.file
            location = file.location(opt.node)
            value: tuple[int, Provenance] | Unknown
            if opt.kind == "?" or opt.arg is None:
                value = Unknown(file.text(opt.node), location)
            else:
                # The worst case counts: `n := 5; if dryRun { n = 3 }` gives 5.
                self.evaluator.upper = True
                self.evaluator.assumed = False
                try:
                    raw = self.evaluator.value(opt.arg, opt.scope)
                except NeedsCaller as err:
                    if not lenient:
                        raise
                    raw = Unknown(err.expression, err.location)
                except Undecidable as err:
                    raw = Unknown(err.expression, err.location)
                finally:
                    self.evaluator.upper = False
                written: Literal["explicit", "assumed"] = (
                    "assumed" if self.evaluator.assumed else "explicit"
                )
                self.evaluator.assumed = False
                if isinstance(raw, Unknown):
                    value = raw
                elif isinstance(raw, bool) or not isinstance(raw, int):
                    value = Unknown(file.text(opt.arg), file.location(opt.arg))
                else:
                    note = f"MaxRetry({raw})" + (" is read as 0" if raw < 0 else "")
                    value = (max(0, raw), Provenance(written, location, note))
            if opt.conditional:
                candidates.append(value)
            else:
                candidates = [value]
        unknown = next((c for c in candidates if isinstance(c, Unknown)), None)
        if unknown is not None:
            log.add("max_retries", unknown)
            return UNDECIDED, Provenance("undecided", unknown.location)
        decided = [c for c in candidates if not isinstance(c, Unknown)]
        count, source = max(decided, key=lambda c: c[0])
        if count >= HUGE_MAX_RETRY:
            return UNBOUNDED, replace(
                source, note=f"{source.note}: a budget that never runs out in practice"
            )
        return count, source

    def _writes_budget(self) -> bool:
        """Whether the project may build an `asynq.MaxRetry` option anywhere.

        Only a file that imports asynq can, so when none of them names the function, a task
        retrylint cannot follow still has the default budget. `info.MaxRetry` (a field of
        `TaskInfo`) does not count.
        """
        if self._budget_cache is None:
            self._budget_cache = self.unparsed_budget or any(
                _names_max_retry(f) for f in self.scanned
            )
        return self._budget_cache

    def _queue(
        self, task_opts: list[_Opt] | Unknown, site_opts: list[_Opt] | Unknown
    ) -> str | None:
        if isinstance(task_opts, Unknown) or isinstance(site_opts, Unknown):
            return None
        queue: str | None = "default"
        for opt in [*task_opts, *site_opts]:
            if opt.kind == "?":
                queue = None
            if opt.kind != "Queue" or opt.arg is None:
                continue
            try:
                value = self.evaluator.value(opt.arg, opt.scope)
            except Undecidable:
                value = None
            if isinstance(value, str) and not opt.conditional:
                queue = value
            elif value != queue:
                queue = None
        return queue

    def _orphans(self, calls: list[tuple[GoFile, Node]]) -> None:
        """A task built and returned (a constructor such as `NewEmailTask`) that no enqueue
        site here consumes still states a policy: it gets its own row."""
        for file, node in calls:
            scope = self.evaluator.scope_at(file, node)
            kind = self.flow.asynq_constructor(node, scope)
            if kind not in ("NewTask", "NewTaskWithHeaders"):
                continue
            if (file.path, node.start_byte) in self.consumed or not _returned(
                node, scope, self.evaluator
            ):
                continue
            headers = kind == "NewTaskWithHeaders"

            def tasks(scope: Scope, node: Node = node, headers: bool = headers) -> list[_TaskRef]:
                return [_TaskRef(node, scope, headers)]

            self._site(file, node, tasks, lambda scope: [], orphan=True)

    # -- tasks and options -------------------------------------------------------------

    def _tasks(self, node: Node, scope: Scope, depth: int) -> list[_TaskRef]:
        """The `asynq.NewTask` calls an expression may hold (raises when it cannot tell)."""
        file = scope.file
        if depth > 10:
            raise Undecidable(node, file)
        kind = node.type
        if kind == "nil":
            return []
        if kind in ("parenthesized_expression", "unary_expression"):
            inner = [c for c in node.named_children if c.type != "comment"]
            if not inner:
                raise Undecidable(node, file)
            return self._tasks(inner[-1], scope, depth + 1)
        if kind == "call_expression":
            constructor = self.flow.asynq_constructor(node, scope)
            if constructor in ("NewTask", "NewTaskWithHeaders"):
                return [_TaskRef(node, scope, constructor == "NewTaskWithHeaders")]
            return self._through_call(node, scope, 0, depth, self._tasks)
        if kind == "identifier":
            return self._through_name(node, scope, depth, self._tasks, each=self._task_slice)
        raise Undecidable(node, file)

    def _task_slice(self, node: Node, scope: Scope, depth: int) -> list[_TaskRef]:
        return self._items(node, scope, depth, self._tasks)

    def _items(
        self, node: Node, scope: Scope, depth: int, one: Callable[[Node, Scope, int], list[T]]
    ) -> list[T]:
        """What the elements of a slice (or the values of a map) expression give, each read
        with `one`: a literal, `append`s, a name, or what a project function returns."""
        file = scope.file
        if depth > 10:
            raise Undecidable(node, file)

        def more(inner: Node, inner_scope: Scope, inner_depth: int) -> list[T]:
            return self._items(inner, inner_scope, inner_depth, one)

        if node.type == "composite_literal":
            out: list[T] = []
            body = node.child_by_field_name("body")
            for element in body.named_children if body is not None else []:
                value = _element_value(element)
                if value is not None:
                    out.extend(one(value, scope, depth + 1))
            return out
        if node.type == "call_expression" and _is_append(node, file):
            args = _args(node)
            out = more(args[0], scope, depth + 1) if args else []
            for item in args[1:]:
                if _spread(node) and item is args[-1]:
                    out.extend(more(item, scope, depth + 1))
                else:
                    out.extend(one(item, scope, depth + 1))
            return out
        if node.type == "call_expression":
            return self._through_call(node, scope, 0, depth, more)
        if node.type == "identifier":
            return self._through_name(node, scope, depth, more, one)
        raise Undecidable(node, file)

    def _through_name(
        self,
        node: Node,
        scope: Scope,
        depth: int,
        follow: Callable[[Node, Scope, int], list[T]],
        single: Callable[[Node, Scope, int], list[T]] | None = None,
        each: Callable[[Node, Scope, int], list[T]] | None = None,
    ) -> list[T]:
        """Follow a name to what it was last given; for a slice (`single` reads one appended
        element) every assignment and `append` up to the use. With `each`, a loop variable
        of `for _, v := range xs` is every element of `xs`, read with `each`."""
        file = scope.file
        name = file.text(node)
        for current in scope.chain():
            info = current.func
            if info is None:
                continue
            assigns = self.evaluator.assigned_before(info, name, node)
            if assigns:
                if single is not None:
                    return self._accumulate(name, assigns, node, current, depth, follow, single)
                last = assigns[-1]
                ranged = _ranged(last, node, file)
                if each is not None and ranged is not None:
                    return each(ranged, current, depth + 1)
                if last.value is None:
                    raise Undecidable(node, file)
                if last.multi:
                    if last.value.type != "call_expression":
                        raise Undecidable(node, file)
                    return self._through_call(last.value, current, last.index, depth, follow)
                return follow(last.value, current, depth + 1)
            param = info.param(name)
            if param is not None:
                bound = current.bindings.get(name)
                if bound is None:
                    raise NeedsCaller(node, file, info, param)
                if single is not None and not isinstance(bound, Fixed) and bound.pack:
                    # A variadic parameter (`tasks ...*asynq.Task`): the arguments themselves.
                    out: list[T] = []
                    for item in bound.nodes:
                        out.extend(single(item, bound.scope, depth + 1))
                    return out
                if isinstance(bound, Fixed) or bound.pack or len(bound.nodes) != 1:
                    raise Undecidable(node, file)
                return follow(bound.nodes[0], bound.scope, depth + 1)
            if name == info.receiver_name:
                raise Undecidable(node, file)
        var = self.project.package_of(file).vars.get(name)
        if var is not None and var.value is not None and not var.index:
            return follow(var.value, Scope(var.file), depth + 1)
        raise Undecidable(node, file)

    def _range_source(self, node: Node, scope: Scope) -> tuple[Node, Scope] | None:
        """For the loop variable `v` of `for _, v := range xs`: `xs`, in its scope."""
        if node.type != "identifier":
            return None
        name = scope.file.text(node)
        for current in scope.chain():
            info = current.func
            if info is None:
                continue
            assigns = self.evaluator.assigned_before(info, name, node)
            if assigns:
                ranged = _ranged(assigns[-1], node, scope.file)
                return (ranged, current) if ranged is not None else None
            if info.param(name) is not None or name == info.receiver_name:
                return None
        return None

    def _parameter(self, node: Node, scope: Scope) -> tuple[Scope, Param] | None:
        """The parameter an identifier names (unless a local shadows it), in its scope."""
        if node.type != "identifier":
            return None
        name = scope.file.text(node)
        for current in scope.chain():
            info = current.func
            if info is None:
                continue
            if self.evaluator.assigned_before(info, name, node):
                return None
            param = info.param(name)
            if param is not None:
                return current, param
            if name == info.receiver_name:
                return None
        return None

    def _function_ref(self, node: Node, scope: Scope) -> FuncRef:
        """The project function a function value names: a declared function, a literal
        (with the scope it closes over) or a method value (`svc.NewTask`).

        A parameter is read at its call site (raising `NeedsCaller` when none binds it yet),
        so what cannot be decided is quoted where the caller wrote it.
        """
        found = self._parameter(node, scope)
        if found is not None:
            where, param = found
            bound = where.bindings.get(param.name)
            if bound is None:
                assert where.func is not None
                raise NeedsCaller(node, scope.file, where.func, param)
            if isinstance(bound, Fixed) or bound.pack or len(bound.nodes) != 1:
                raise Undecidable(node, scope.file)
            return self._function_ref(bound.nodes[0], bound.scope)
        ref = self.evaluator.function(node, scope)
        if ref is not None and ref.info is not None:
            return ref
        if ref is None and node.type == "selector_expression":
            operand = node.child_by_field_name("operand")
            member = node.child_by_field_name("field")
            owner = self.flow.type_of(operand, scope) if operand is not None else None
            if member is not None and owner is not None and owner[0].startswith("dir:"):
                method = self.project.package(owner[0][4:]).methods.get(
                    (owner[1], scope.file.text(member))
                )
                if method is not None:
                    return FuncRef(method, None)
        raise Undecidable(node, scope.file)

    def _accumulate(
        self,
        name: str,
        assigns: list[Assign],
        use: Node,
        scope: Scope,
        depth: int,
        follow: Callable[[Node, Scope, int], list[T]],
        single: Callable[[Node, Scope, int], list[T]],
    ) -> list[T]:
        file = scope.file
        out: list[T] = []
        for assign in assigns:
            block = block_of(assign.stmt)
            conditional = block is not None and not contains(block, use)
            if conditional:
                taken = self._branch_taken(assign.stmt, use, scope)
                if taken is False:
                    continue
                conditional = taken is None
            if assign.kind == "zero":
                if not conditional:
                    out = []
                continue
            if assign.value is None or assign.multi or assign.kind != "set":
                raise Undecidable(use, file)
            value = assign.value
            if value.type == "call_expression" and _is_append(value, file):
                args = _args(value)
                if args and args[0].type == "identifier" and file.text(args[0]) == name:
                    for item in args[1:]:
                        if _spread(value) and item is args[-1]:
                            out.extend(self._mark(follow(item, scope, depth + 1), conditional))
                        else:
                            out.extend(self._mark(single(item, scope, depth + 1), conditional))
                    continue
            fresh = follow(value, scope, depth + 1)
            if conditional:
                out.extend(self._mark(fresh, True))
            else:
                out = list(fresh)
        return out

    def _branch_taken(self, stmt: Node, use: Node, scope: Scope) -> bool | None:
        """Whether the `if` around a statement (but not around the use) runs: its condition
        evaluated in this scope, or None when it cannot be told."""
        current = stmt.parent
        while current is not None and not contains(current, use):
            if current.type == "if_statement":
                condition = current.child_by_field_name("condition")
                consequence = current.child_by_field_name("consequence")
                if condition is None or consequence is None:
                    return None
                try:
                    value = self.evaluator.value(condition, scope)
                except Undecidable:
                    return None
                if not isinstance(value, bool):
                    return None
                inside = contains(consequence, stmt)
                return value if inside else not value
            if current.type not in ("block", "statement_list"):
                return None
            current = current.parent
        return None

    @staticmethod
    def _mark(items: list[T], conditional: bool) -> list[T]:
        if not conditional:
            return items
        return [replace(i, conditional=True) if isinstance(i, _Opt) else i for i in items]

    def _through_call(
        self,
        call: Node,
        scope: Scope,
        index: int,
        depth: int,
        follow: Callable[[Node, Scope, int], list[T]],
    ) -> list[T]:
        """What a project function returns (at result `index`), with its parameters bound.

        The function may be a value: a parameter (`build()` in `func submit(build func()
        *asynq.Task)`, decided at each call site), a literal called on the spot, or the loop
        variable of `for _, build := range builders` (every element of `builders`).
        """
        function = call.child_by_field_name("function")
        if function is None:
            raise Undecidable(call, scope.file)
        callees = self.flow.callees(call, scope)
        refs: list[FuncRef] = []
        for callee in callees:
            ref = FuncRef(callee, None)
            if function.type in ("identifier", "func_literal"):
                found = self.evaluator.function(function, scope)
                if found is not None:
                    ref = found
            refs.append(ref)
        source = self._range_source(function, scope) if not callees else None
        if source is not None:

            def element(value: Node, value_scope: Scope, value_depth: int) -> list[T]:
                ref = self._function_ref(value, value_scope)
                return self._returns(ref, call, scope, index, value_depth, follow)

            return self._items(source[0], source[1], depth + 1, element)
        if not callees:
            # A literal called on the spot, or a parameter read at its call sites.
            if function.type != "func_literal" and self._parameter(function, scope) is None:
                raise Undecidable(call, scope.file)
            refs.append(self._function_ref(function, scope))
        out: list[T] = []
        for ref in refs:
            out.extend(self._returns(ref, call, scope, index, depth, follow))
        return out

    def _returns(
        self,
        ref: FuncRef,
        call: Node,
        scope: Scope,
        index: int,
        depth: int,
        follow: Callable[[Node, Scope, int], list[T]],
    ) -> list[T]:
        """What the return statements of `ref` give at result `index`, called by `call`."""
        assert ref.info is not None
        inner = self.evaluator.bind(ref, _args(call), call, scope)
        out: list[T] = []
        for stmt in return_statements(ref.info.node):
            expr = returned(stmt, index)
            if expr is None:
                raise Undecidable(call, scope.file)
            if expr.type == "nil":
                continue
            out.extend(follow(expr, inner, depth + 1))
        return out

    def _options_from(self, args: Sequence[Node], spread: bool, scope: Scope) -> list[_Opt]:
        out: list[_Opt] = []
        for position, arg in enumerate(args):
            if spread and position == len(args) - 1:
                out.extend(self._slice(arg, scope, False, 0))
            else:
                out.extend(self._option(arg, scope, False, 0))
        return out

    def _option(self, node: Node, scope: Scope, conditional: bool, depth: int) -> list[_Opt]:
        if depth > 10:
            return [_Opt("?", None, node, scope, conditional)]
        if node.type == "nil":
            return []
        if node.type == "parenthesized_expression":
            inner = [c for c in node.named_children if c.type != "comment"]
            return self._option(inner[0], scope, conditional, depth + 1) if inner else []
        if node.type == "call_expression":
            name = self._asynq_name(node, scope)
            if name is not None:
                args = _args(node)
                return [_Opt(name, args[0] if args else None, node, scope, conditional)]
            try:
                return self._mark(
                    self._through_call(node, scope, 0, depth, self._option_follow), conditional
                )
            except NeedsCaller:
                raise
            except Undecidable:
                return [_Opt("?", None, node, scope, conditional)]
        if node.type == "identifier":
            try:
                return self._mark(
                    self._through_name(node, scope, depth, self._option_follow), conditional
                )
            except NeedsCaller:
                raise
            except Undecidable:
                return [_Opt("?", None, node, scope, conditional)]
        return [_Opt("?", None, node, scope, conditional)]

    def _option_follow(self, node: Node, scope: Scope, depth: int) -> list[_Opt]:
        return self._option(node, scope, False, depth)

    def _slice(self, node: Node, scope: Scope, conditional: bool, depth: int) -> list[_Opt]:
        """The options of a `[]asynq.Option` expression, in order."""
        file = scope.file
        if depth > 10:
            raise Undecidable(node, file)
        if node.type == "nil":
            return []
        if node.type == "composite_literal":
            out: list[_Opt] = []
            body = node.child_by_field_name("body")
            for element in body.named_children if body is not None else []:
                inner = element.named_children[0] if element.named_children else None
                if inner is not None and element.type == "literal_element":
                    out.extend(self._option(inner, scope, conditional, depth + 1))
            return out
        if node.type == "call_expression" and _is_append(node, file):
            args = _args(node)
            out = self._slice(args[0], scope, conditional, depth + 1) if args else []
            for item in args[1:]:
                if _spread(node) and item is args[-1]:
                    out.extend(self._slice(item, scope, conditional, depth + 1))
                else:
                    out.extend(self._option(item, scope, conditional, depth + 1))
            return out
        if node.type == "call_expression":
            return self._mark(
                self._through_call(node, scope, 0, depth, self._slice_follow), conditional
            )
        if node.type == "identifier":
            name = file.text(node)
            for current in scope.chain():
                info = current.func
                if info is None:
                    continue
                param = info.param(name)
                has_assign = bool(self.evaluator.assigned_before(info, name, node))
                if param is not None and param.variadic and not has_assign:
                    bound = current.bindings.get(name)
                    if bound is None:
                        raise NeedsCaller(node, file, info, param)
                    if isinstance(bound, Fixed):
                        raise Undecidable(node, file)
                    if bound.spread:
                        return self._slice(bound.nodes[0], bound.scope, conditional, depth + 1)
                    out = []
                    for item in bound.nodes:
                        out.extend(self._option(item, bound.scope, conditional, depth + 1))
                    return out
                if has_assign or param is not None:
                    break
            return self._mark(
                self._through_name(node, scope, depth, self._slice_follow, self._option_follow),
                conditional,
            )
        raise Undecidable(node, file)

    def _slice_follow(self, node: Node, scope: Scope, depth: int) -> list[_Opt]:
        return self._slice(node, scope, False, depth)

    def _asynq_name(self, call: Node, scope: Scope) -> str | None:
        function = call.child_by_field_name("function")
        if function is None:
            return None
        file = scope.file
        if function.type == "selector_expression":
            operand = function.child_by_field_name("operand")
            member = function.child_by_field_name("field")
            if (
                operand is not None
                and member is not None
                and self.evaluator.qualifier(operand, scope) == ASYNQ
            ):
                return file.text(member)
        elif (
            function.type == "identifier"
            and file.imports.get(".") == ASYNQ
            and self.evaluator.function(function, scope) is None
        ):
            return file.text(function)
        return None

    # -- caller expansion --------------------------------------------------------------

    def _contexts(
        self,
        file: GoFile,
        node: Node,
        attempt: Callable[[Scope, bool], T],
        path: tuple[CallSite, ...] = (),
    ) -> list[tuple[tuple[CallSite, ...], T | Undecidable]]:
        """Evaluate a site; when it depends on a parameter, evaluate it at each call site of
        the enclosing function instead (up to three calls out)."""
        scope = self._scope_for(file, node, path)
        try:
            return [(path, attempt(scope, False))]
        except NeedsCaller as need:
            outer = path[-1] if path else None
            # The declared function around the site (or the outermost call found so far);
            # function literals inside it share its parameters.
            target = list(
                self.evaluator.scope_at(outer.file, outer.call).chain()
                if outer is not None
                else self.evaluator.scope_at(file, node).chain()
            )[-1].func
            sites = (
                self.flow.callers(target)
                if target is not None
                and target.node.type != "func_literal"
                and need.func.key == target.key
                and len(path) < _MAX_CALLER_DEPTH
                else []
            )
            sites = [s for s in sites if all(s.call != p.call for p in path)]
            if not sites or len(sites) > _MAX_CALLERS:
                try:
                    return [(path, attempt(scope, True))]
                except Undecidable as err:
                    return [(path, err)]
            out: list[tuple[tuple[CallSite, ...], T | Undecidable]] = []
            for site in sites:
                out.extend(self._contexts(file, node, attempt, (*path, site)))
            return out

    def _scope_for(self, file: GoFile, node: Node, path: tuple[CallSite, ...]) -> Scope:
        """The scope at `node` with the declared function around it bound by `path[0]`,
        whose own function is bound by `path[1]`, and so on."""
        base = self.evaluator.scope_at(file, node)
        if not path or base.func is None:
            return base
        chain = list(base.chain())
        declared = chain[-1]
        assert declared.func is not None
        site = path[0]
        caller = self._scope_for(site.file, site.call, path[1:])
        current = self.evaluator.bind(
            FuncRef(declared.func, None), _args(site.call), site.call, caller
        )
        for literal in reversed(chain[:-1]):
            current = Scope(literal.file, literal.func, parent=current, depth=current.depth)
        return current

    # -- versions ----------------------------------------------------------------------

    def _version(self, path: str, log: UndecidedLog | None = None) -> str | None:
        """The asynq version built with the code at `path`: the policy's, else the nearest
        `go.mod`'s, else the version the facts were read from.

        A `replace` by a local directory or by another module leaves it unknown (None, quoted
        in `log` as undecided) rather than guessed; `[assume]` with the directive as quoted
        decides it.
        """
        if self.ctx.version:
            return self.ctx.version
        found = self.modules.requirement(path.rpartition("/")[0], ASYNQ)
        if found is None:
            return REFERENCE_VERSION
        if found.version is not None:
            return found.version
        assumed = self.ctx.assume.get(found.directive)
        if isinstance(assumed, str) and assumed.strip():
            return assumed.strip().removeprefix("v")
        if log is not None:
            log.add(
                "framework_version", Unknown(found.directive, Location(found.path, found.line, 1))
            )
        return None

    def _asks_is_failure_first(self, server: _Server) -> bool:
        """Whether the server's asynq retries a "not a failure" error even with no budget left;
        an unknown version does not claim it."""
        version = self._version(server.file.path)
        return version is not None and not at_least(version, BUDGET_BEFORE_IS_FAILURE, (0,))

    # -- rows --------------------------------------------------------------------------

    def _rows(self) -> Iterator[EffectivePolicy | Observation]:
        seen: set[tuple[str, int, int, str | None, str | None]] = set()
        enqueue_rows: list[tuple[EffectivePolicy, _Site]] = []
        for site in self.sites:
            identity = (
                site.location.path,
                site.location.line,
                site.location.column,
                site.name,
                site.name_expression,
            )
            if identity in seen:
                continue
            seen.add(identity)
            row, observations = self._enqueue_row(site)
            enqueue_rows.append((row, site))
            if row.location.path in self.in_scope:
                yield row
                yield from observations
        handler_rows: list[tuple[EffectivePolicy, _Handler]] = []
        seen_handlers: set[tuple[str, int, int, str | None]] = set()
        for handler in self.handlers:
            handler_identity = (
                handler.location.path,
                handler.location.line,
                handler.location.column,
                handler.pattern,
            )
            if handler_identity in seen_handlers:
                continue
            seen_handlers.add(handler_identity)
            row = self._handler_row(handler)
            handler_rows.append((row, handler))
            if row.location.path in self.in_scope:
                yield row
        for observation in self._inventory_observations(enqueue_rows, handler_rows):
            if observation.location.path in self.in_scope:
                yield observation

    def _final_failure(self, queue: str | None, handler: _Handler | None) -> str:
        text = (
            ARCHIVE.format(queue=queue)
            if queue
            else ARCHIVE.replace("in queue `{queue}` ", "in its queue ")
        )
        if handler is not None:
            for kind, location in sorted(handler.sentinels, key=lambda s: (s[1].path, s[1].line)):
                if kind == "SkipRetry":
                    text += f"; SkipRetry at {location} archives at once"
                else:
                    text += f"; RevokeTask at {location} drops it without archiving"
        return text

    def _enqueue_row(self, site: _Site) -> tuple[EffectivePolicy, list[Observation]]:
        handler = self._match(site.name, site.location.path) if site.name is not None else None
        version = self._version(site.location.path, site.log)
        servers, pinned = self._servers_for(site.name, site.location.path)
        delay = self._delay_for(servers, site.log)
        path = RetryPath(
            "automatic",
            site.count,
            site.count_source,
            delay.fn,
            delay.source,
            delay.jitter,
            delay.source,
        )
        fields = combine([path])
        if delay.custom and fields.max_retries != 0:
            fields = replace(fields, backoff="custom")
        elif isinstance(delay.fn, _DelayFunction) and fields.backoff not in (None, UNDECIDED):
            fields = replace(fields, backoff=classify(delay.fn.uncapped))
        row = EffectivePolicy(
            name=site.name,
            name_expression=site.name_expression,
            framework=KEY,
            site="enqueue",
            location=site.location,
            retry_trigger=fields.retry_trigger,
            max_retries=fields.max_retries,
            backoff=fields.backoff,
            jitter=fields.jitter,
            delays_seconds=fields.delays_seconds,
            delays_truncated=fields.delays_truncated,
            window_seconds=fields.window_seconds,
            sources=fields.sources,
            final_failure=self._final_failure(site.queue, handler),
            undecided=site.log.items(),
            paths=fields.path_policies(site.location),
            framework_version=version,
            suppression_lines=site.anchors,
            hints=_HINTS,
            scope=site.scope,
            delay_fn=fields.delay_fn,
        )
        observations: list[Observation] = []
        failing = sorted(
            {
                s.is_failure
                for s in servers
                if s.is_failure is not None
                and (row.max_retries != 0 or self._asks_is_failure_first(s))
            },
            key=lambda f: (f[1].path, f[1].line, f[0]),
        )
        if failing and pinned:
            label, where = failing[0]
            subject = f"`{site.name}`" if site.name else "this task"
            budget = (
                f"without using the MaxRetry budget ({row.max_retries})"
                if row.max_retries != 0
                else "even with MaxRetry(0) (asynq before 0.25 asks IsFailure before it looks "
                "at the budget)"
            )
            observations.append(
                Observation(
                    "retries-not-counted",
                    site.location,
                    f"{subject} runs on a server whose IsFailure ({label} at {where}) can return "
                    f"false: those errors retry {budget}, so they retry forever, each time after "
                    "the first retry delay",
                    "Return true from IsFailure for errors that must end, or stop them in the "
                    "handler (return asynq.SkipRetry, or check asynq.GetRetryCount(ctx)).",
                    KEY,
                    site.name,
                    "enqueue",
                    site.anchors,
                    site.scope,
                )
            )
        return row, observations

    def _handler_row(self, handler: _Handler) -> EffectivePolicy:
        log = UndecidedLog()
        if handler.unknown is not None:
            log.add("name", handler.unknown)
        version = self._version(handler.location.path, log)
        delay = self._delay_for(self._servers_for_mux(handler.mux, handler.location.path), log)
        backoff: BackoffKind | Literal["undecided"] = UNDECIDED
        if delay.custom:
            backoff = "custom"
        elif isinstance(delay.fn, _DelayFunction):
            backoff = classify(delay.fn.uncapped)
        elif delay.fn is not None:
            backoff = classify(delay.fn)
        per_site = Provenance(
            "undecided", None, "asynq stamps MaxRetry into each message where it is enqueued"
        )
        return EffectivePolicy(
            name=handler.pattern,
            name_expression=None if handler.pattern is not None else handler.expression,
            framework=KEY,
            site="definition",
            location=handler.location,
            retry_trigger=None,
            max_retries=None,
            backoff=backoff,
            jitter=delay.jitter,
            delays_seconds=None,
            delays_truncated=False,
            window_seconds=UNDECIDED,
            sources={
                "max_retries": per_site,
                "backoff": delay.source,
                "jitter": delay.source,
                "delays": delay.source,
                "window": per_site,
            },
            final_failure=self._final_failure(None, handler),
            undecided=log.items(),
            framework_version=version,
            suppression_lines=handler.anchors,
            hints=_HINTS,
        )

    def _inventory_observations(
        self,
        enqueue_rows: list[tuple[EffectivePolicy, _Site]],
        handler_rows: list[tuple[EffectivePolicy, _Handler]],
    ) -> Iterator[Observation]:
        """RL404 / RL405 material; the rules speak only over the whole inventory."""
        handlers = [h for _, h in handler_rows]
        if handlers and all(h.pattern is not None for h in handlers):
            for row, site in enqueue_rows:
                if site.orphan or row.name is None or self._match(row.name) is not None:
                    continue
                yield Observation(
                    "enqueued-type-without-handler",
                    row.location,
                    f"`{row.name}` is enqueued here but no asynq handler pattern matches it: "
                    "the server fails it with ErrHandlerNotFound and retries it "
                    f"{_times(row.max_retries)} before archiving it",
                    "Register a handler for this type (mux.HandleFunc), or stop enqueueing it.",
                    KEY,
                    row.name,
                    "enqueue",
                    row.suppression_lines,
                    row.scope,
                )
        if all(r.name is not None for r, _ in enqueue_rows):
            produced = {
                id(handler)
                for r, _ in enqueue_rows
                if r.name is not None
                for handler in (self._match(r.name), self._match(r.name, r.location.path))
            }
            for row, handler in handler_rows:
                if handler.pattern is None or id(handler) in produced:
                    continue
                yield Observation(
                    "handler-without-producer",
                    row.location,
                    f"asynq handler `{handler.pattern}` handles a type that no enqueue site in "
                    "the scanned code produces",
                    "Remove the handler, or check that the producer lives in another service.",
                    KEY,
                    handler.pattern,
                    "definition",
                    row.suppression_lines,
                )


# -- helpers ----------------------------------------------------------------------------


class _DelayFunction:
    """A project RetryDelayFunc as a function of the retry number, in seconds (upper bound)."""

    def __init__(self, evaluator: GoEvaluator, ref: FuncRef) -> None:
        assert ref.info is not None
        self.evaluator = evaluator
        self.ref = ref
        self.info = ref.info
        self._cache: dict[int, float] = {}
        self._uncapped: dict[int, float] = {}

    def at(self, r: int, uncapped: bool = False) -> float:
        """The delay before retry r+1; raises `Undecidable` when the body cannot be read."""
        cache = self._uncapped if uncapped else self._cache
        if r in cache:
            return cache[r]
        evaluator = self.evaluator
        saved = evaluator.upper, evaluator.uncapped
        evaluator.upper, evaluator.uncapped = True, uncapped
        try:
            scope = _delay_scope(self.ref, r)
            values: list[object] = []
            for stmt in return_statements(self.info.node):
                expr = returned(stmt, 0)
                if expr is None:
                    raise Undecidable(stmt, self.info.file)
                values.append(evaluator.value(expr, scope))
            numbers = [float(v) for v in values if _number(v)]  # type: ignore[arg-type]
            if not values or len(numbers) != len(values):
                raise Undecidable(self.info.node, self.info.file)
            cache[r] = max(numbers) / SECOND
        finally:
            evaluator.upper, evaluator.uncapped = saved
        return cache[r]

    def uncapped(self, r: int) -> float:
        """The same delays with the function's own caps left out, to classify the backoff."""
        try:
            return self.at(r, uncapped=True)
        except Undecidable:
            return math.inf

    def __call__(self, r: int) -> float:
        try:
            return self.at(r)
        except Undecidable:
            return math.inf


def _is_test(path: str) -> bool:
    return path.endswith("_test.go")


def _same_side(items: list[T], path: str, path_of: Callable[[T], str]) -> list[T]:
    same = [i for i in items if _is_test(path_of(i)) == _is_test(path)]
    return same or items


def _times(count: Count | None) -> str:
    if isinstance(count, int):
        return "once" if count == 1 else f"{count} times"
    return "as often as its MaxRetry allows"


def _default_delay(r: int) -> float:
    return float(default_retry_delay(r))


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _delay_scope(ref: FuncRef, r: int) -> Scope:
    assert ref.info is not None
    info = ref.info
    bindings: dict[str, Fixed] = {}
    if info.params:
        bindings[info.params[0].name] = Fixed(r)
    return Scope(info.file, info, dict(bindings), parent=ref.scope)


def _function_label(info: FuncInfo, written: str) -> str:
    if info.node.type == "func_literal":
        return "a function literal"
    return f"`{written}` ({info.file.location(info.node)})"


def _args(call: Node) -> list[Node]:
    arguments = call.child_by_field_name("arguments")
    if arguments is None:
        return []
    out = []
    for child in arguments.named_children:
        if child.type == "comment":
            continue
        inner = child
        if child.type == "variadic_argument" and child.named_children:
            inner = child.named_children[0]
        out.append(inner)
    return out


def _spread(call: Node) -> bool:
    arguments = call.child_by_field_name("arguments")
    if arguments is None:
        return False
    return any(c.type == "variadic_argument" for c in arguments.named_children) or any(
        c.type == "..." for c in arguments.children
    )


def _is_append(call: Node, file: GoFile) -> bool:
    function = call.child_by_field_name("function")
    return (
        function is not None and function.type == "identifier" and file.text(function) == "append"
    )


def _keyed(literal: Node, scope: Scope) -> dict[str, tuple[Node, Scope]]:
    out: dict[str, tuple[Node, Scope]] = {}
    body = literal if literal.type == "literal_value" else literal.child_by_field_name("body")
    file = scope.file
    for element in body.named_children if body is not None else []:
        if element.type != "keyed_element":
            continue
        parts = [c for c in element.named_children if c.type != "comment"]
        if len(parts) != 2:
            continue
        key = parts[0].named_children[0] if parts[0].named_children else parts[0]
        value = parts[1].named_children[0] if parts[1].named_children else parts[1]
        out[file.text(key)] = (value, scope)
    return out


def _names_max_retry(file: GoFile) -> bool:
    """Whether a file refers to asynq's `MaxRetry` function (called or passed along)."""
    if b"MaxRetry" not in file.source:
        return False
    aliases = file.aliases_of(ASYNQ)
    for node in walk(file.root):
        if node.type == "selector_expression":
            operand = node.child_by_field_name("operand")
            member = node.child_by_field_name("field")
            if (
                operand is not None
                and member is not None
                and file.text(member) == "MaxRetry"
                and file.text(operand) in aliases
            ):
                return True
        elif node.type == "identifier" and "." in aliases and file.text(node) == "MaxRetry":
            return True
    return False


def _element_value(element: Node) -> Node | None:
    """The expression of one element of a composite literal (`x`, `0: x` or `"k": x`)."""
    parts = [c for c in element.named_children if c.type != "comment"]
    if element.type == "keyed_element" and len(parts) == 2:
        parts = [c for c in parts[1].named_children if c.type != "comment"] or [parts[1]]
    elif element.type != "literal_element":
        return None
    return parts[0] if parts else None


def _ranged(assign: Assign, use: Node, file: GoFile) -> Node | None:
    """`xs` when `assign` is `for _, v := range xs` and `use` is `v` inside that loop.

    The key (an index for a slice) is not an element; a loop variable declared with `:=` is a
    different variable outside its loop.
    """
    stmt = assign.stmt
    if stmt.type != "range_clause":
        return None
    left = stmt.child_by_field_name("left")
    targets = [t for t in (left.named_children if left is not None else []) if t.type != "comment"]
    if len(targets) != 2 or file.text(targets[1]) != file.text(use):
        return None
    loop = stmt.parent
    declared = any(c.type == ":=" for c in stmt.children)
    if loop is None or (declared and not contains(loop, use)):
        return None
    return stmt.child_by_field_name("right")


def _anchors(
    file: GoFile, node: Node, path: tuple[CallSite, ...]
) -> tuple[tuple[int, ...], str | None]:
    """Lines where a suppression may sit (the row's own call and its enclosing function), and
    that function's name; a func literal counts as the declaration around it."""
    target_file, target = (path[-1].file, path[-1].call) if path else (file, node)
    lines = {target_file.location(target).line}
    scope: str | None = None
    current = target.parent
    while current is not None:
        if current.type in ("function_declaration", "method_declaration"):
            lines.add(target_file.location(current).line)
            info = func_info(target_file, current)
            scope = f"{info.receiver}.{info.name}" if info.receiver else info.name
            break
        current = current.parent
    return tuple(sorted(lines)), scope


def _returned(node: Node, scope: Scope, evaluator: GoEvaluator) -> bool:
    """Whether a NewTask call's task leaves its function through a return statement."""
    parent = node.parent
    while parent is not None and parent.type in ("parenthesized_expression", "unary_expression"):
        parent = parent.parent
    if parent is not None and parent.type == "expression_list":
        statement = parent.parent
        if statement is not None and statement.type == "return_statement":
            return True
        if statement is not None and statement.type in (
            "short_var_declaration",
            "assignment_statement",
        ):
            left = statement.child_by_field_name("left")
            names = [scope.file.text(n) for n in (left.named_children if left else [])]
            if scope.func is None or not names:
                return False
            for stmt in return_statements(scope.func.node):
                expr = returned(stmt, 0)
                if (
                    expr is not None
                    and expr.type == "identifier"
                    and scope.file.text(expr) == names[0]
                ):
                    return True
    return False
