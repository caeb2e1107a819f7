"""Where Go values come from: static types, call targets, callers, and object identity.

Three questions an adapter asks about long-lived objects (a client, a mux, a server):
- `type_of`: the declared type of an expression, when the code states it (a parameter, a
  struct field, a constructor call);
- `callees` / `callers`: which functions a call reaches, and which calls reach a function
  (methods called through an interface are matched by name and parameter count);
- `same_object`: whether two expressions may hold the same object. Locals, parameters, struct
  fields, package variables and function results are joined into classes wherever the code
  assigns, passes or returns one to another (a flow-insensitive union-find), so a mux stored in
  a struct field and run by a server in another function is recognised.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from retrylint.golang.evaluate import ASYNQ, GoEvaluator, Scope
from retrylint.golang.parse import GoFile, Node, walk
from retrylint.golang.project import FuncInfo, GoProject, is_builtin_type

TypeKey = tuple[str, str]  # (package: import path, or "dir:<directory>" for ours; type name)

# asynq constructors and the type each returns.
CONSTRUCTORS: dict[str, str] = {
    "NewClient": "Client",
    "NewClientFromRedisClient": "Client",
    "NewServer": "Server",
    "NewServerFromRedisClient": "Server",
    "NewServeMux": "ServeMux",
    "NewScheduler": "Scheduler",
    "NewSchedulerFromRedisClient": "Scheduler",
    "NewTask": "Task",
    "NewTaskWithHeaders": "Task",
}
_MAX_BY_NAME = 8


@dataclass(frozen=True, slots=True)
class CallSite:
    call: Node
    file: GoFile


class UnionFind:
    def __init__(self) -> None:
        self._parent: dict[str, str] = {}
        self._members: dict[str, list[str]] | None = None

    def find(self, key: str) -> str:
        """The class of `key` (iterative, with path compression)."""
        root = self._parent.setdefault(key, key)
        while self._parent[root] != root:
            root = self._parent[root]
        while key != root:
            key, self._parent[key] = self._parent[key], root
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller key becomes the root, so classes do not depend on visiting order.
            low, high = sorted((ra, rb))
            self._parent[high] = low
            self._members = None

    def members(self, key: str) -> list[str]:
        if self._members is None:
            grouped: dict[str, list[str]] = {}
            for known in sorted(self._parent):
                grouped.setdefault(self.find(known), []).append(known)
            self._members = grouped
        return self._members.get(self.find(key), [key])


class Flow:
    def __init__(
        self,
        project: GoProject,
        evaluator: GoEvaluator,
        scanned: Sequence[GoFile],
        search_paths: Sequence[str],
    ) -> None:
        self.project = project
        self.evaluator = evaluator
        self.scanned = list(scanned)
        self._search_paths = search_paths
        self._callers: dict[str, list[CallSite]] = {}
        self._methods: dict[str, list[FuncInfo]] | None = None
        self._objects: UnionFind | None = None

    # -- types -------------------------------------------------------------------------

    def package_key(self, import_path: str) -> str:
        directory = self.project.import_directory(import_path)
        return f"dir:{directory}" if directory is not None else import_path

    def type_expr(self, node: Node | None, file: GoFile) -> TypeKey | None:
        while node is not None and node.type in ("pointer_type", "parenthesized_type"):
            node = node.named_children[0] if node.named_children else None
        if node is None:
            return None
        if node.type == "generic_type":
            return self.type_expr(node.child_by_field_name("type"), file)
        if node.type == "type_identifier":
            name = file.text(node)
            if is_builtin_type(name):
                return None
            if "." in file.imports and name in _ASYNQ_TYPES and file.imports["."] == ASYNQ:
                return (ASYNQ, name)
            return (f"dir:{file.directory}", name)
        if node.type == "qualified_type":
            package = node.child_by_field_name("package")
            name_node = node.child_by_field_name("name")
            if package is None or name_node is None:
                return None
            target = self.project.import_path_of(file, file.text(package))
            if target is None:
                return None
            return (self.package_key(target), file.text(name_node))
        return None

    def type_of(self, expr: Node, scope: Scope, depth: int = 0) -> TypeKey | None:
        if depth > 8:
            return None
        file = scope.file
        kind = expr.type
        if kind == "parenthesized_expression" or (
            kind == "unary_expression"
            and (op := expr.child_by_field_name("operator")) is not None
            and file.text(op) in ("&", "*")
        ):
            inner = [c for c in expr.named_children if c.type != "comment"]
            return self.type_of(inner[-1], scope, depth + 1) if inner else None
        if kind == "composite_literal":
            return self.type_expr(expr.child_by_field_name("type"), file)
        if kind == "type_assertion_expression":
            return self.type_expr(expr.child_by_field_name("type"), file)
        if kind == "call_expression":
            return self._call_type(expr, scope, 0, depth)
        if kind == "identifier":
            return self._name_type(file.text(expr), expr, scope, depth)
        if kind == "selector_expression":
            operand = expr.child_by_field_name("operand")
            member = expr.child_by_field_name("field")
            if operand is None or member is None:
                return None
            target = self.evaluator.qualifier(operand, scope)
            if target is not None:
                directory = self.project.import_directory(target)
                if directory is None:
                    return None
                var = self.project.package(directory).vars.get(file.text(member))
                return (
                    self._var_type(var.type, var.value, var.index, var.file, depth) if var else None
                )
            owner = self.type_of(operand, scope, depth + 1)
            return self.field_type(owner, file.text(member)) if owner else None
        return None

    def _var_type(
        self, type_node: Node | None, value: Node | None, index: int, file: GoFile, depth: int
    ) -> TypeKey | None:
        if type_node is not None:
            return self.type_expr(type_node, file)
        if value is None:
            return None
        scope = Scope(file)
        if value.type == "call_expression":
            return self._call_type(value, scope, index, depth + 1)
        return self.type_of(value, scope, depth + 1)

    def _name_type(self, name: str, node: Node, scope: Scope, depth: int) -> TypeKey | None:
        for current in scope.chain():
            info = current.func
            if info is None:
                continue
            assigns = self.evaluator.assigned_before(info, name, node)
            if assigns:
                last = assigns[-1]
                if last.type is not None:
                    return self.type_expr(last.type, info.file)
                if last.value is None:
                    return None
                if last.multi:
                    if last.value.type == "type_assertion_expression" and last.index == 0:
                        return self.type_of(last.value, current, depth + 1)
                    if last.value.type != "call_expression":
                        return None
                    return self._call_type(last.value, current, last.index, depth + 1)
                return self.type_of(last.value, current, depth + 1)
            param = info.param(name)
            if param is not None:
                return self.type_expr(param.type, info.file)
            if name == info.receiver_name and info.receiver is not None:
                return (f"dir:{info.file.directory}", info.receiver)
        var = self.project.package_of(scope.file).vars.get(name)
        if var is not None:
            return self._var_type(var.type, var.value, var.index, var.file, depth)
        return None

    def _call_type(self, call: Node, scope: Scope, index: int, depth: int) -> TypeKey | None:
        function = call.child_by_field_name("function")
        if function is None:
            return None
        if function.type == "selector_expression":
            operand = function.child_by_field_name("operand")
            member = function.child_by_field_name("field")
            if operand is not None and member is not None:
                target = self.evaluator.qualifier(operand, scope)
                name = scope.file.text(member)
                if target == ASYNQ and name in CONSTRUCTORS and index == 0:
                    return (ASYNQ, CONSTRUCTORS[name])
        elif function.type == "identifier" and "." in scope.file.imports:
            name = scope.file.text(function)
            if scope.file.imports["."] == ASYNQ and name in CONSTRUCTORS and index == 0:
                return (ASYNQ, CONSTRUCTORS[name])
        for callee in self.callees(call, scope)[:1]:
            if index < len(callee.results):
                return self.type_expr(callee.results[index], callee.file)
        return None

    def field_type(self, owner: TypeKey, name: str, depth: int = 0) -> TypeKey | None:
        package_key, type_name_ = owner
        if not package_key.startswith("dir:") or depth > 4:
            return None
        package = self.project.package(package_key[4:])
        declared = package.types.get(type_name_)
        if declared is None:
            return None
        file, type_node = declared
        if type_node.type != "struct_type":
            return None
        embedded: list[Node] = []
        for decl in walk(type_node):
            if decl.type != "field_declaration":
                continue
            names = decl.children_by_field_name("name")
            field_type = decl.child_by_field_name("type")
            if not names and field_type is not None:
                embedded.append(field_type)
            if any(file.text(n) == name for n in names):
                return self.type_expr(field_type, file)
        for inner in embedded:
            inner_key = self.type_expr(inner, file)
            if inner_key is not None:
                found = self.field_type(inner_key, name, depth + 1)
                if found is not None:
                    return found
        return None

    # -- calls -------------------------------------------------------------------------

    def callees(self, call: Node, scope: Scope) -> list[FuncInfo]:
        """The project functions a call may reach (an interface call: all methods of that
        name and arity declared in the scanned files)."""
        function = call.child_by_field_name("function")
        arguments = call.child_by_field_name("arguments")
        if function is None or arguments is None:
            return []
        file = scope.file
        if function.type == "identifier":
            ref = self.evaluator.function(function, scope)
            return [ref.info] if ref is not None and ref.info is not None else []
        if function.type != "selector_expression":
            return []
        operand = function.child_by_field_name("operand")
        member = function.child_by_field_name("field")
        if operand is None or member is None:
            return []
        name = file.text(member)
        target = self.evaluator.qualifier(operand, scope)
        if target is not None:
            directory = self.project.import_directory(target)
            if directory is None:
                return []
            info = self.project.package(directory).funcs.get(name)
            return [info] if info is not None else []
        owner = self.type_of(operand, scope)
        if owner is not None:
            if owner[0].startswith("dir:"):
                package = self.project.package(owner[0][4:])
                method = package.methods.get((owner[1], name))
                if method is not None:
                    return [method]
                if owner[1] in package.types and package.types[owner[1]][1].type == "struct_type":
                    return []
            else:
                return []
        count = len([a for a in arguments.named_children if a.type != "comment"])
        candidates = [
            m
            for m in self._methods_by_name().get(name, [])
            if len(m.params) == count or (m.params and m.params[-1].variadic)
        ]
        return candidates if len(candidates) <= _MAX_BY_NAME else []

    def _methods_by_name(self) -> dict[str, list[FuncInfo]]:
        if self._methods is None:
            found: dict[str, list[FuncInfo]] = {}
            for directory in sorted({f.directory for f in self.scanned}):
                package = self.project.package(directory)
                for (_, name), info in sorted(package.methods.items()):
                    found.setdefault(name, []).append(info)
            self._methods = found
        return self._methods

    def callers(self, info: FuncInfo) -> list[CallSite]:
        """Calls of a function found in the files under PATHS."""
        if info.key in self._callers:
            return self._callers[info.key]
        sites: list[CallSite] = []
        self._callers[info.key] = sites
        needle = info.name.encode() + b"("
        for path in self._search_paths:
            data = self.project.raw(path)
            if data is None or needle not in data:
                continue
            file = self.project.file(path)
            if file is None:
                continue
            for node in walk(file.root):
                if node.type != "call_expression":
                    continue
                function = node.child_by_field_name("function")
                if function is None:
                    continue
                called = function
                if function.type == "selector_expression":
                    field_node = function.child_by_field_name("field")
                    if field_node is None:
                        continue
                    called = field_node
                if file.text(called) != info.name:
                    continue
                scope = self.evaluator.scope_at(file, node)
                if any(c is info or c.key == info.key for c in self.callees(node, scope)):
                    sites.append(CallSite(node, file))
        return sites

    # -- object identity ---------------------------------------------------------------

    def object_key(self, expr: Node, scope: Scope) -> str | None:
        """A key for the variable, field or constructor call an expression reads."""
        file = scope.file
        kind = expr.type
        if kind == "parenthesized_expression" or (
            kind == "unary_expression"
            and (op := expr.child_by_field_name("operator")) is not None
            and file.text(op) in ("&", "*")
        ):
            inner = [c for c in expr.named_children if c.type != "comment"]
            return self.object_key(inner[-1], scope) if inner else None
        if kind == "call_expression":
            if self.asynq_constructor(expr, scope) is not None:
                return f"new:{file.path}:{expr.start_byte}"
            callees = self.callees(expr, scope)
            return f"ret:{callees[0].key}" if callees else None
        if kind == "identifier":
            name = file.text(expr)
            for current in scope.chain():
                info = current.func
                if info is None:
                    continue
                if name in self.evaluator.assigns(info):
                    return f"local:{info.key}:{name}"
                if info.param(name) is not None:
                    return f"param:{info.key}:{name}"
                if name == info.receiver_name:
                    return None
            if name in self.project.package_of(file).vars:
                return f"var:{file.directory}:{name}"
            return None
        if kind == "selector_expression":
            operand = expr.child_by_field_name("operand")
            member = expr.child_by_field_name("field")
            if operand is None or member is None:
                return None
            target = self.evaluator.qualifier(operand, scope)
            if target is not None:
                directory = self.project.import_directory(target)
                return f"var:{directory}:{file.text(member)}" if directory is not None else None
            owner = self.type_of(operand, scope)
            if owner is not None and owner[0].startswith("dir:"):
                return f"field:{owner[0][4:]}.{owner[1]}.{file.text(member)}"
        return None

    def asynq_constructor(self, call: Node, scope: Scope) -> str | None:
        """`NewServeMux`, `NewServer`, ... when a call is one of asynq's constructors."""
        function = call.child_by_field_name("function")
        if function is None:
            return None
        file = scope.file
        if function.type == "selector_expression":
            operand = function.child_by_field_name("operand")
            member = function.child_by_field_name("field")
            if operand is None or member is None:
                return None
            if self.evaluator.qualifier(operand, scope) != ASYNQ:
                return None
            name = file.text(member)
        elif function.type == "identifier" and file.imports.get(".") == ASYNQ:
            name = file.text(function)
            if self.evaluator.function(function, scope) is not None:
                return None
        else:
            return None
        return name if name in CONSTRUCTORS else None

    def objects(self) -> UnionFind:
        if self._objects is None:
            self._objects = UnionFind()
            for file in self.scanned:
                self._join(file)
        return self._objects

    def _join(self, file: GoFile) -> None:
        assert self._objects is not None
        uf = self._objects
        evaluator = self.evaluator

        def link(a: str | None, b: str | None) -> None:
            if a is not None and b is not None:
                uf.union(a, b)

        for node in walk(file.root):
            kind = node.type
            if kind in ("short_var_declaration", "assignment_statement", "var_spec"):
                scope = evaluator.scope_at(file, node)
                for target, value in _pairs(node):
                    link(self.object_key(target, scope), self.object_key(value, scope))
            elif kind == "composite_literal":
                scope = evaluator.scope_at(file, node)
                owner = self.type_expr(node.child_by_field_name("type"), file)
                if owner is None or not owner[0].startswith("dir:"):
                    continue
                body = node.child_by_field_name("body")
                for element in body.named_children if body is not None else []:
                    if element.type != "keyed_element":
                        continue
                    parts = [c for c in element.named_children if c.type != "comment"]
                    if len(parts) != 2:
                        continue
                    key = _unwrap(parts[0])
                    if key.type not in ("identifier", "field_identifier"):
                        continue
                    field_key = f"field:{owner[0][4:]}.{owner[1]}.{file.text(key)}"
                    link(field_key, self.object_key(_unwrap(parts[1]), scope))
            elif kind == "call_expression":
                scope = evaluator.scope_at(file, node)
                arguments = node.child_by_field_name("arguments")
                args = [
                    a
                    for a in (arguments.named_children if arguments else [])
                    if a.type != "comment"
                ]
                for callee in self.callees(node, scope):
                    for param in callee.params:
                        if param.index < len(args) and not param.variadic:
                            link(
                                f"param:{callee.key}:{param.name}",
                                self.object_key(args[param.index], scope),
                            )
            elif kind == "return_statement":
                scope = evaluator.scope_at(file, node)
                if scope.func is None:
                    continue
                values = [c for c in node.named_children if c.type == "expression_list"]
                if values and values[0].named_children:
                    link(
                        f"ret:{scope.func.key}", self.object_key(values[0].named_children[0], scope)
                    )

    def same_class(self, key: str | None) -> list[str]:
        if key is None:
            return []
        return self.objects().members(key)

    def root(self, key: str | None) -> str | None:
        return self.objects().find(key) if key is not None else None


_ASYNQ_TYPES = frozenset({"Client", "Server", "ServeMux", "Scheduler", "Task"})


def _unwrap(node: Node) -> Node:
    """The expression inside a `literal_element`."""
    if node.type == "literal_element" and node.named_children:
        return node.named_children[0]
    return node


def _pairs(stmt: Node) -> Iterable[tuple[Node, Node]]:
    if stmt.type == "var_spec":
        names = stmt.children_by_field_name("name")
        value = stmt.child_by_field_name("value")
        values = value.named_children if value is not None else []
        if len(values) == len(names):
            yield from zip(names, values, strict=True)
        return
    left = stmt.child_by_field_name("left")
    right = stmt.child_by_field_name("right")
    if left is None or right is None:
        return
    targets, values = left.named_children, right.named_children
    if len(targets) == len(values):
        yield from zip(targets, values, strict=True)
    elif len(values) == 1 and targets:
        yield targets[0], values[0]
