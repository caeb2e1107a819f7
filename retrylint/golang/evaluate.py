"""Go constant evaluation without compiling: literals, constants across files and packages,
`time.Duration` arithmetic, `math` and `math/rand` calls, and small functions inlined.

Values are plain Python objects: `int` (a `time.Duration` is an int of nanoseconds, as in Go),
`float`, `str`, `bool` and `None` for `nil`. What cannot be decided raises `Undecidable` at the
innermost expression that stopped evaluation, so messages quote exactly that text.

Two modes. Exact mode (names, counts) refuses a variable assigned in a branch the use does not
sit in. Upper mode (retry delays) takes the larger of the possible values instead, reads
`if d > cap { d = cap }` as a cap, and treats random draws as their maximum: delays are upper
bounds (CONTRACTS §4). Functions are inlined with their parameters bound to the caller's
arguments; a parameter nothing binds raises `NeedsCaller`, so a caller can try the call sites.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from retrylint.golang.parse import FUNCTION_TYPES, GoFile, Node, string_value, walk
from retrylint.golang.project import FuncInfo, GoProject, Param, func_info
from retrylint.model import Location

ASYNQ = "github.com/hibiken/asynq"
_RAND_PACKAGES = frozenset({"math/rand", "math/rand/v2"})
_MAX_DEPTH = 12
# Nested expressions evaluated at once (a long `"a" + "b" + ...` chain), far below Python's
# recursion limit.
_MAX_NESTING = 150
SECOND = 1_000_000_000
_TIME_UNITS: dict[str, int] = {
    "Nanosecond": 1,
    "Microsecond": 1_000,
    "Millisecond": 1_000_000,
    "Second": SECOND,
    "Minute": 60 * SECOND,
    "Hour": 3600 * SECOND,
}
_MATH_CONSTANTS: dict[str, int | float] = {
    "MaxInt": 2**63 - 1,
    "MaxInt8": 2**7 - 1,
    "MaxInt16": 2**15 - 1,
    "MaxInt32": 2**31 - 1,
    "MaxInt64": 2**63 - 1,
    "MaxUint8": 2**8 - 1,
    "MaxUint16": 2**16 - 1,
    "MaxUint32": 2**32 - 1,
    "MaxUint64": 2**64 - 1,
    "Pi": math.pi,
    "E": math.e,
}
_MATH_FUNCTIONS: dict[str, Callable[..., float]] = {
    "Pow": math.pow,
    "Min": min,
    "Max": max,
    "Floor": math.floor,
    "Ceil": math.ceil,
    "Sqrt": math.sqrt,
    "Exp": math.exp,
    "Exp2": lambda x: 2.0**x,
    "Abs": abs,
    "Log": math.log,
    "Log2": math.log2,
    "Log10": math.log10,
    "Round": round,
    "Trunc": math.trunc,
    "Mod": math.fmod,
}
# Random draws of `math/rand` (and methods of a `*rand.Rand`): bounded by their argument.
_RAND_BOUNDED = frozenset(
    {"Intn", "IntN", "Int63n", "Int31n", "Int64N", "Int32N", "UintN", "Uint64N", "Uint32N", "N"}
)
_RAND_UNIT = frozenset({"Float64", "Float32"})
_INT_TYPES = frozenset(
    {
        "int",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "uintptr",
        "byte",
        "rune",
    }
)
_FLOAT_TYPES = frozenset({"float32", "float64"})
_BLOCKS = frozenset(
    {"block", "expression_case", "default_case", "type_case", "communication_case", "source_file"}
)
_VERB = re.compile(r"%[-+# 0]*\d*(?:\.\d+)?([sdvq%])")


class Undecidable(Exception):
    """Evaluation stopped at `node`; its text is what a message quotes."""

    def __init__(self, node: Node, file: GoFile) -> None:
        super().__init__(file.text(node))
        self.node = node
        self.file = file

    @property
    def expression(self) -> str:
        return self.file.text(self.node)

    @property
    def location(self) -> Location:
        return self.file.location(self.node)


class NeedsCaller(Undecidable):
    """The value depends on a parameter of `func` that no call site binds here."""

    def __init__(self, node: Node, file: GoFile, func: FuncInfo, param: Param) -> None:
        super().__init__(node, file)
        self.func = func
        self.param = param


@dataclass(frozen=True, slots=True)
class Arg:
    """A parameter bound to the argument(s) of a call, evaluated in the caller's scope."""

    nodes: tuple[Node, ...]
    scope: Scope
    spread: bool = False  # `f(xs...)`: the one node is a slice passed as the variadic pack
    pack: bool = False  # the parameter is variadic: `nodes` are its elements


@dataclass(frozen=True, slots=True)
class Fixed:
    """A parameter bound to a value (the retry number `n` of a delay function)."""

    value: object


@dataclass(eq=False)
class Scope:
    """Where names are looked up: a function (with bound parameters) or a file's package."""

    file: GoFile
    func: FuncInfo | None = None
    bindings: dict[str, Arg | Fixed] = field(default_factory=dict)
    parent: Scope | None = None  # the enclosing function of a function literal
    depth: int = 0
    # The call that bound this scope's parameters, innermost first (rows are located at the
    # outermost one).
    call: Node | None = None

    def chain(self) -> Iterator[Scope]:
        current: Scope | None = self
        while current is not None:
            yield current
            current = current.parent


@dataclass(frozen=True, slots=True)
class Assign:
    """One statement that gives a local name a value."""

    stmt: Node
    kind: str  # "set" (`:=`, `=`, `var x = ...`), "op" (`+=` ...), "zero" (`var x T`), "opaque"
    value: Node | None
    index: int = 0
    multi: bool = False  # `a, b := f()`: one call gives several values
    op: str = ""
    type: Node | None = None


@dataclass(frozen=True, slots=True)
class FuncRef:
    """A function value: a declaration, a literal (with the scope it closes over) or a builtin."""

    info: FuncInfo | None
    scope: Scope | None = None
    builtin: str | None = None  # e.g. "asynq.DefaultRetryDelayFunc"


def parse_int(text: str) -> int:
    cleaned = text.replace("_", "")
    if len(cleaned) > 1 and cleaned[0] == "0" and cleaned[1:].isdigit():
        return int(cleaned, 8)
    return int(cleaned, 0)


def block_of(node: Node) -> Node | None:
    current = node.parent
    while current is not None and current.type not in _BLOCKS:
        current = current.parent
    return current


def contains(outer: Node, inner: Node) -> bool:
    return outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte


def return_statements(func: Node) -> list[Node]:
    body = func.child_by_field_name("body")
    if body is None:
        return []
    return [n for n in walk(body, into_functions=False) if n.type == "return_statement"]


def returned(stmt: Node, index: int) -> Node | None:
    """The `index`-th expression of a return statement (None for a bare or short return)."""
    values = [c for c in stmt.named_children if c.type == "expression_list"]
    if not values:
        return None
    items = values[0].named_children
    if len(items) > index:
        return items[index]
    return None


class GoEvaluator:
    """Evaluates Go expressions in a scope; see the module docstring for the two modes."""

    def __init__(self, project: GoProject, assume: Mapping[str, object]) -> None:
        self.project = project
        self.assume = assume
        self.upper = False
        # Read caps (`min(d, c)`, `if d > c { d = c }`) as absent: backoff kinds come from the
        # delays before caps (CONTRACTS §4).
        self.uncapped = False
        self.random = False
        self.assumed = False
        self._nesting = 0
        self._assigns: dict[tuple[str, int], dict[str, list[Assign]]] = {}
        self._infos: dict[tuple[str, int], FuncInfo] = {}

    # -- scopes ------------------------------------------------------------------------

    def info(self, file: GoFile, node: Node) -> FuncInfo:
        key = (file.path, node.start_byte)
        if key not in self._infos:
            self._infos[key] = func_info(file, node)
        return self._infos[key]

    def scope_at(self, file: GoFile, node: Node) -> Scope:
        """The (unbound) scope of the function enclosing `node`, with its literal parents."""
        funcs: list[Node] = []
        current = node.parent
        while current is not None:
            if current.type in FUNCTION_TYPES:
                funcs.append(current)
            current = current.parent
        scope: Scope | None = None
        for func in reversed(funcs):
            scope = Scope(file, self.info(file, func), parent=scope)
        return scope if scope is not None else Scope(file)

    def assigned_before(self, info: FuncInfo, name: str, node: Node) -> list[Assign]:
        """The bindings of `name` in `info` that a use at `node` can see: those written
        before it, in source order (the last one is what the name holds there)."""
        return [a for a in self.assigns(info).get(name, ()) if a.stmt.end_byte <= node.start_byte]

    def assigns(self, info: FuncInfo) -> dict[str, list[Assign]]:
        """Local bindings of a function body, by name, in source order."""
        key = (info.file.path, info.node.start_byte)
        if key in self._assigns:
            return self._assigns[key]
        found: dict[str, list[Assign]] = {}
        body = info.body
        file = info.file
        for stmt in walk(body, into_functions=False) if body is not None else []:
            for name, assign in _bindings_of(stmt, file):
                found.setdefault(name, []).append(assign)
        self._assigns[key] = found
        return found

    # -- values ------------------------------------------------------------------------

    def value(self, node: Node, scope: Scope) -> object:
        if scope.depth > _MAX_DEPTH or self._nesting > _MAX_NESTING:
            raise Undecidable(node, scope.file)
        self._nesting += 1
        try:
            return self._value(node, scope)
        finally:
            self._nesting -= 1

    def _value(self, node: Node, scope: Scope) -> object:
        file = scope.file
        if self.assume:
            text = file.text(node)
            if text in self.assume:
                self.assumed = True
                return self.assume[text]
        kind = node.type
        if kind == "int_literal":
            try:
                return parse_int(file.text(node))
            except ValueError:
                raise Undecidable(node, file) from None
        if kind == "float_literal":
            try:
                return float(file.text(node).replace("_", ""))
            except ValueError:
                raise Undecidable(node, file) from None
        if kind in ("interpreted_string_literal", "raw_string_literal"):
            text_value = string_value(node, file.source)
            if text_value is None:
                raise Undecidable(node, file)
            return text_value
        if kind == "rune_literal":
            decoded = string_value_of_rune(file.text(node))
            if decoded is None:
                raise Undecidable(node, file)
            return decoded
        if kind == "true":
            return True
        if kind == "false":
            return False
        if kind == "nil":
            return None
        if kind == "iota":
            return self._iota(node, scope)
        if kind == "parenthesized_expression":
            return self.value(_only(node, file), scope)
        if kind == "unary_expression":
            return self._unary(node, scope)
        if kind == "binary_expression":
            return self._binary(node, scope)
        if kind == "identifier":
            return self.name(file.text(node), node, scope)
        if kind == "selector_expression":
            return self._selector(node, scope)
        if kind == "call_expression":
            return self.call(node, scope)
        if kind == "type_conversion_expression":
            operand = node.child_by_field_name("operand")
            if operand is None:
                raise Undecidable(node, file)
            return self.value(operand, scope)
        raise Undecidable(node, file)

    def _iota(self, node: Node, scope: Scope) -> object:
        for current in scope.chain():
            bound = current.bindings.get("iota")
            if isinstance(bound, Fixed):
                return bound.value
        raise Undecidable(node, scope.file)

    def _unary(self, node: Node, scope: Scope) -> object:
        operand = node.child_by_field_name("operand")
        operator = node.child_by_field_name("operator")
        if operand is None or operator is None:
            raise Undecidable(node, scope.file)
        op = scope.file.text(operator)
        value = self.value(operand, scope)
        if op in ("*", "&"):
            return value  # a pointer to a constant is read as the constant
        if op == "+" and _is_number(value):
            return value
        if op == "-" and _is_number(value):
            return -value
        if op == "!" and isinstance(value, bool):
            return not value
        if op == "^" and isinstance(value, int) and not isinstance(value, bool):
            return ~value
        raise Undecidable(node, scope.file)

    def _binary(self, node: Node, scope: Scope) -> object:
        left_node = node.child_by_field_name("left")
        right_node = node.child_by_field_name("right")
        operator = node.child_by_field_name("operator")
        if left_node is None or right_node is None or operator is None:
            raise Undecidable(node, scope.file)
        op = scope.file.text(operator)
        left = self.value(left_node, scope)
        if isinstance(left, bool) and ((op == "&&" and not left) or (op == "||" and left)):
            return left
        right = self.value(right_node, scope)
        result = binary(op, left, right)
        if result is _NO_VALUE:
            raise Undecidable(node, scope.file)
        return result

    def name(self, name: str, node: Node, scope: Scope) -> object:
        """A plain identifier: local, parameter, then package-level constant or variable."""
        file = scope.file
        if name == "_":
            raise Undecidable(node, file)
        for current in scope.chain():
            if current.func is None:
                continue
            found = self._local(name, node, current, closure=current is not scope)
            if found is not _NO_VALUE:
                return found
            param = current.func.param(name)
            if param is not None:
                return self._param(name, param, node, current)
            if name == current.func.receiver_name:
                raise Undecidable(node, file)
        return self._package_name(name, node, scope)

    def _param(self, name: str, param: Param, node: Node, scope: Scope) -> object:
        bound = scope.bindings.get(name)
        if isinstance(bound, Fixed):
            return bound.value
        if isinstance(bound, Arg):
            if bound.pack or bound.spread or len(bound.nodes) != 1:
                raise Undecidable(node, scope.file)
            return self.value(bound.nodes[0], bound.scope)
        assert scope.func is not None
        raise NeedsCaller(node, scope.file, scope.func, param)

    def _local(self, name: str, node: Node, scope: Scope, closure: bool = False) -> object:
        """A local of `scope`'s function. Read from a function literal (`closure`), the variable
        is shared: an assignment after the literal may happen before the literal runs."""
        assert scope.func is not None
        everywhere = self.assigns(scope.func).get(name, [])
        candidates = [a for a in everywhere if a.stmt.end_byte <= node.start_byte]
        if not candidates:
            return _NO_VALUE
        if closure and len(candidates) < len(everywhere):
            raise Undecidable(node, scope.file)
        return self._assigned(name, candidates, node, scope)

    def _assigned(self, name: str, candidates: list[Assign], node: Node, scope: Scope) -> object:
        assign = candidates[-1]
        earlier = candidates[:-1]
        block = block_of(assign.stmt)
        unconditional = block is None or contains(block, node)
        value = self._assign_value(name, assign, earlier, scope)
        if unconditional:
            return value
        previous = self._assigned(name, earlier, assign.stmt, scope) if earlier else _NO_VALUE
        cap = self._cap(name, assign, scope)
        if cap is not None and previous is not _NO_VALUE and _is_number(previous):
            return previous if self.uncapped else min(previous, cap)
        if self.upper and _is_number(value):
            if previous is _NO_VALUE:
                return value
            if _is_number(previous):
                return max(value, previous)
        if previous is not _NO_VALUE and previous == value:
            return value
        raise Undecidable(node, scope.file)

    def _cap(self, name: str, assign: Assign, scope: Scope) -> int | float | None:
        """`if d > cap { d = cap }`: the assignment only ever lowers `d` to `cap`."""
        if assign.kind != "set" or assign.value is None:
            return None
        block = block_of(assign.stmt)
        statement = block.parent if block is not None else None
        if statement is None or statement.type != "if_statement":
            return None
        condition = statement.child_by_field_name("condition")
        if condition is None or condition.type != "binary_expression":
            return None
        file = scope.file
        left = condition.child_by_field_name("left")
        right = condition.child_by_field_name("right")
        operator = condition.child_by_field_name("operator")
        if left is None or right is None or operator is None:
            return None
        op = file.text(operator)
        if file.text(left) == name and op in (">", ">="):
            bound = right
        elif file.text(right) == name and op in ("<", "<="):
            bound = left
        else:
            return None
        cap = self.value(bound, scope)
        if not _is_number(cap) or self.value(assign.value, scope) != cap:
            return None
        return cap

    def _assign_value(
        self, name: str, assign: Assign, earlier: list[Assign], scope: Scope
    ) -> object:
        if assign.kind == "opaque" or (assign.kind != "zero" and assign.value is None):
            raise Undecidable(assign.value or assign.stmt, scope.file)
        if assign.kind == "zero":
            return _zero(assign.type, scope.file)
        assert assign.value is not None
        if assign.multi:
            return self.result(assign.value, assign.index, scope)
        value = self.value(assign.value, scope)
        if assign.kind == "op":
            if not earlier:
                raise Undecidable(assign.stmt, scope.file)
            before = self._assigned(name, earlier, assign.stmt, scope)
            combined = binary(assign.op, before, value)
            if combined is _NO_VALUE:
                raise Undecidable(assign.stmt, scope.file)
            return combined
        return value

    def _package_name(self, name: str, node: Node, scope: Scope) -> object:
        package = self.project.package_of(scope.file)
        return self.package_member(package.directory, name, node, scope)

    def package_member(self, directory: str, name: str, node: Node, scope: Scope) -> object:
        package = self.project.package(directory)
        const = package.consts.get(name)
        if const is not None:
            if const.value is None:
                raise Undecidable(node, scope.file)
            inner = Scope(const.file, bindings={"iota": Fixed(const.iota)}, depth=scope.depth + 1)
            value = self.value(const.value, inner)
            return _convert_typed(value, const.type, const.file)
        var = package.vars.get(name)
        if var is not None:
            inner = Scope(var.file, depth=scope.depth + 1)
            if var.value is None:
                return _zero(var.type, var.file)
            if var.index:
                return self.result(var.value, var.index, inner)
            return self.value(var.value, inner)
        raise Undecidable(node, scope.file)

    def _selector(self, node: Node, scope: Scope) -> object:
        file = scope.file
        operand = node.child_by_field_name("operand")
        member = node.child_by_field_name("field")
        if operand is None or member is None:
            raise Undecidable(node, file)
        field_name = file.text(member)
        target = self.qualifier(operand, scope)
        if target is None:
            return self._literal_field(operand, field_name, node, scope)
        if target == "time" and field_name in _TIME_UNITS:
            return _TIME_UNITS[field_name]
        if target == "math" and field_name in _MATH_CONSTANTS:
            return _MATH_CONSTANTS[field_name]
        directory = self.project.import_directory(target)
        if directory is None:
            raise Undecidable(node, file)
        return self.package_member(directory, field_name, node, scope)

    def _literal_field(self, operand: Node, name: str, node: Node, scope: Scope) -> object:
        """`job.MaxRetry` where `job` holds a struct literal: the keyed value, else the field's
        zero value. A later `job.MaxRetry = ...` in the same function makes it undecidable."""
        found = self.composite(operand, scope)
        if found is None:
            raise Undecidable(node, scope.file)
        literal, literal_scope = found
        if operand.type == "identifier" and self._field_assigned(
            scope.file.text(operand), name, scope
        ):
            raise Undecidable(node, scope.file)
        body = literal if literal.type == "literal_value" else literal.child_by_field_name("body")
        lit_file = literal_scope.file
        for element in body.named_children if body is not None else []:
            if element.type != "keyed_element":
                continue
            parts = [c for c in element.named_children if c.type != "comment"]
            if len(parts) != 2:
                continue
            key = parts[0].named_children[0] if parts[0].named_children else parts[0]
            if lit_file.text(key) == name:
                value = parts[1].named_children[0] if parts[1].named_children else parts[1]
                return self.value(value, literal_scope)
        if body is not None and any(e.type == "literal_element" for e in body.named_children):
            raise Undecidable(node, scope.file)  # positional fields
        field_type = self._struct_field_type(literal, lit_file, name)
        if field_type is None:
            raise Undecidable(node, scope.file)
        return _zero(field_type[0], field_type[1])

    def _field_assigned(self, variable: str, name: str, scope: Scope) -> bool:
        for current in scope.chain():
            if current.func is None or current.func.body is None:
                continue
            for stmt in walk(current.func.body):
                if stmt.type != "assignment_statement":
                    continue
                left = stmt.child_by_field_name("left")
                for target in left.named_children if left is not None else []:
                    if target.type == "selector_expression" and current.file.text(target) == (
                        f"{variable}.{name}"
                    ):
                        return True
        return False

    def _struct_field_type(
        self, literal: Node, file: GoFile, name: str
    ) -> tuple[Node, GoFile] | None:
        type_node = literal.child_by_field_name("type")
        directory: str | None = file.directory
        type_name: str | None = None
        if type_node is not None and type_node.type == "type_identifier":
            type_name = file.text(type_node)
        elif type_node is not None and type_node.type == "qualified_type":
            package = type_node.child_by_field_name("package")
            name_node = type_node.child_by_field_name("name")
            target = self.project.import_path_of(file, file.text(package)) if package else None
            directory = self.project.import_directory(target) if target else None
            type_name = file.text(name_node) if name_node is not None else None
        if directory is None or type_name is None:
            return None
        declared = self.project.package(directory).types.get(type_name)
        if declared is None or declared[1].type != "struct_type":
            return None
        decl_file, struct = declared
        for decl in walk(struct):
            if decl.type != "field_declaration":
                continue
            field_type = decl.child_by_field_name("type")
            names = decl.children_by_field_name("name")
            if field_type is not None and any(decl_file.text(n) == name for n in names):
                return field_type, decl_file
        return None

    def composite(self, node: Node, scope: Scope, depth: int = 0) -> tuple[Node, Scope] | None:
        """The composite literal an expression holds (through locals, parameters and `&`)."""
        if depth > 6:
            return None
        file = scope.file
        if node.type in ("composite_literal", "literal_value"):
            return node, scope
        if node.type in ("unary_expression", "parenthesized_expression"):
            inner = [c for c in node.named_children if c.type != "comment"]
            return self.composite(inner[-1], scope, depth + 1) if inner else None
        if node.type != "identifier":
            return None
        name = file.text(node)
        for current in scope.chain():
            if current.func is None:
                continue
            everywhere = self.assigns(current.func).get(name, [])
            assigns = [a for a in everywhere if a.stmt.end_byte <= node.start_byte]
            if assigns:
                if current is not scope and len(assigns) < len(everywhere):
                    return None
                last = assigns[-1]
                if last.kind == "set" and last.value is not None and not last.multi:
                    return self.composite(last.value, current, depth + 1)
                return None
            bound = current.bindings.get(name)
            if isinstance(bound, Arg) and len(bound.nodes) == 1 and not bound.pack:
                return self.composite(bound.nodes[0], bound.scope, depth + 1)
            param = current.func.param(name)
            if param is not None:
                if bound is None:
                    raise NeedsCaller(node, file, current.func, param)
                return None
        var = self.project.package_of(file).vars.get(name)
        if var is not None and var.value is not None and not var.index:
            return self.composite(var.value, Scope(var.file), depth + 1)
        return None

    def qualifier(self, operand: Node, scope: Scope) -> str | None:
        """The import path an operand such as `time` in `time.Second` names, if a package."""
        if operand.type != "identifier":
            return None
        name = scope.file.text(operand)
        if self._shadowed(name, operand, scope):
            return None
        return self.project.import_path_of(scope.file, name)

    def _shadowed(self, name: str, node: Node, scope: Scope) -> bool:
        for current in scope.chain():
            if current.func is None:
                continue
            if current.func.param(name) is not None or name == current.func.receiver_name:
                return True
            if self.assigned_before(current.func, name, node):
                return True
        return False

    # -- calls -------------------------------------------------------------------------

    def call(self, node: Node, scope: Scope) -> object:
        file = scope.file
        function = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        if function is None or arguments is None:
            raise Undecidable(node, file)
        args = [a for a in arguments.named_children if a.type != "comment"]
        if function.type == "parenthesized_expression":
            function = _only(function, file)
        if function.type == "identifier":
            name = file.text(function)
            builtin = self._builtin(name, function, args, node, scope)
            if builtin is not _NO_VALUE:
                return builtin
        if function.type == "selector_expression":
            special = self._library_call(function, args, node, scope)
            if special is not _NO_VALUE:
                return special
        ref = self.function(function, scope)
        if ref is None:
            raise Undecidable(node, file)
        return self.invoke(ref, args, node, scope, 0)

    def _builtin(
        self, name: str, function: Node, args: list[Node], node: Node, scope: Scope
    ) -> object:
        if self._shadowed(name, function, scope):
            return _NO_VALUE
        package = self.project.package_of(scope.file)
        if name in package.funcs or name in package.vars:
            return _NO_VALUE
        if name in package.types and len(args) == 1:
            file, type_node = package.types[name]
            return _convert_typed(self.value(args[0], scope), type_node, file)
        if name in _INT_TYPES and len(args) == 1:
            return _to_int(self.value(args[0], scope), node, scope.file)
        if name in _FLOAT_TYPES and len(args) == 1:
            value = self.value(args[0], scope)
            if not _is_number(value):
                raise Undecidable(node, scope.file)
            return float(value)
        if name == "string" and len(args) == 1:
            value = self.value(args[0], scope)
            if isinstance(value, str):
                return value
            raise Undecidable(node, scope.file)
        if name in ("min", "max") and args:
            if name == "min" and self.uncapped:
                args = self._varying(args, scope)
            values = [self.value(a, scope) for a in args]
            numbers = [v for v in values if _is_number(v)]
            texts = [v for v in values if isinstance(v, str)]
            if len(numbers) == len(values):
                return min(numbers) if name == "min" else max(numbers)
            if len(texts) == len(values):
                return min(texts) if name == "min" else max(texts)
            raise Undecidable(node, scope.file)
        if name == "len" and len(args) == 1:
            value = self.value(args[0], scope)
            if isinstance(value, str):
                return len(value.encode())
            raise Undecidable(node, scope.file)
        return _NO_VALUE

    def _library_call(self, function: Node, args: list[Node], node: Node, scope: Scope) -> object:
        file = scope.file
        operand = function.child_by_field_name("operand")
        member = function.child_by_field_name("field")
        if operand is None or member is None:
            return _NO_VALUE
        method = file.text(member)
        target = self.qualifier(operand, scope)
        if target is None:
            # A method of a `*rand.Rand` value.
            if method in _RAND_BOUNDED | _RAND_UNIT and "rand" in file.text(operand).lower():
                return self._random(method, args, node, scope)
            return _NO_VALUE
        if target == "time" and method == "Duration" and len(args) == 1:
            return _to_int(self.value(args[0], scope), node, file)
        if target == "math" and method in _MATH_FUNCTIONS:
            if method == "Min" and self.uncapped:
                args = self._varying(args, scope)
                method = "Max" if len(args) == 1 else method
            values = [self.value(a, scope) for a in args]
            if not all(_is_number(v) for v in values):
                raise Undecidable(node, file)
            try:
                return float(_MATH_FUNCTIONS[method](*values))
            except (ArithmeticError, ValueError, TypeError):
                raise Undecidable(node, file) from None
        if target in _RAND_PACKAGES:
            return self._random(method, args, node, scope)
        if target == "strings" and len(args) >= 1:
            return self._strings(method, args, node, scope)
        if target == "fmt" and method == "Sprintf" and args:
            return self._sprintf(args, node, scope)
        return _NO_VALUE

    def _varying(self, args: list[Node], scope: Scope) -> list[Node]:
        """The arguments of a `min` that mention the retry number: the rest are caps."""
        fixed = {
            name for s in scope.chain() for name, b in s.bindings.items() if isinstance(b, Fixed)
        }
        varying = [
            a
            for a in args
            if any(n.type == "identifier" and scope.file.text(n) in fixed for n in walk(a))
        ]
        return varying or args

    def _random(self, method: str, args: list[Node], node: Node, scope: Scope) -> object:
        if not self.upper:
            raise Undecidable(node, scope.file)
        if method in _RAND_UNIT:
            self.random = True
            return 1.0
        if method in _RAND_BOUNDED and len(args) == 1:
            bound = self.value(args[0], scope)
            if _is_number(bound):
                self.random = True
                return max(0, _to_int(bound, node, scope.file) - 1)
        raise Undecidable(node, scope.file)

    def _strings(self, method: str, args: list[Node], node: Node, scope: Scope) -> object:
        values = [self.value(a, scope) for a in args]
        if not all(isinstance(v, str) for v in values):
            raise Undecidable(node, scope.file)
        texts = [str(v) for v in values]
        if method == "ToLower" and len(texts) == 1:
            return texts[0].lower()
        if method == "ToUpper" and len(texts) == 1:
            return texts[0].upper()
        if method == "TrimSpace" and len(texts) == 1:
            return texts[0].strip()
        if method in ("TrimPrefix", "TrimSuffix") and len(texts) == 2:
            if method == "TrimPrefix":
                return texts[0].removeprefix(texts[1])
            return texts[0].removesuffix(texts[1])
        raise Undecidable(node, scope.file)

    def _sprintf(self, args: list[Node], node: Node, scope: Scope) -> object:
        template = self.value(args[0], scope)
        if not isinstance(template, str):
            raise Undecidable(node, scope.file)
        values = iter(args[1:])
        out: list[str] = []
        position = 0
        for match in _VERB.finditer(template):
            out.append(template[position : match.start()])
            position = match.end()
            verb = match.group(1)
            if verb == "%":
                out.append("%")
                continue
            arg = next(values, None)
            if arg is None:
                raise Undecidable(node, scope.file)
            value = self.value(arg, scope)
            if verb == "q" and isinstance(value, str):
                out.append('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
            elif isinstance(value, bool):
                out.append("true" if value else "false")
            elif isinstance(value, str | int):
                out.append(str(value))
            else:
                raise Undecidable(node, scope.file)
        out.append(template[position:])
        if next(values, None) is not None:
            raise Undecidable(node, scope.file)
        return "".join(out)

    def function(self, node: Node, scope: Scope) -> FuncRef | None:
        """The function a callee or a function-valued expression refers to."""
        file = scope.file
        if node.type == "parenthesized_expression":
            return self.function(_only(node, file), scope)
        if node.type == "func_literal":
            return FuncRef(self.info(file, node), scope)
        if node.type == "identifier":
            name = file.text(node)
            for current in scope.chain():
                if current.func is None:
                    continue
                candidates = self.assigned_before(current.func, name, node)
                if candidates:
                    last = candidates[-1]
                    if last.kind == "set" and last.value is not None and not last.multi:
                        return self.function(last.value, current)
                    return None
                bound = current.bindings.get(name)
                if isinstance(bound, Arg) and len(bound.nodes) == 1 and not bound.pack:
                    return self.function(bound.nodes[0], bound.scope)
                if current.func.param(name) is not None:
                    return None
            package = self.project.package_of(file)
            if name in package.funcs:
                return FuncRef(package.funcs[name])
            var = package.vars.get(name)
            if var is not None and var.value is not None and not var.index:
                return self.function(var.value, Scope(var.file, depth=scope.depth + 1))
            return None
        if node.type == "selector_expression":
            operand = node.child_by_field_name("operand")
            member = node.child_by_field_name("field")
            if operand is None or member is None:
                return None
            target = self.qualifier(operand, scope)
            name = file.text(member)
            if target == ASYNQ:
                return FuncRef(None, builtin=f"asynq.{name}")
            if target is None:
                return None
            directory = self.project.import_directory(target)
            if directory is None:
                return None
            package = self.project.package(directory)
            if name in package.funcs:
                return FuncRef(package.funcs[name])
            var = package.vars.get(name)
            if var is not None and var.value is not None and not var.index:
                return self.function(var.value, Scope(var.file, depth=scope.depth + 1))
        return None

    def bind(self, ref: FuncRef, args: Sequence[Node], call: Node | None, scope: Scope) -> Scope:
        """A scope for `ref`'s body with its parameters bound to a call's arguments."""
        assert ref.info is not None
        info = ref.info
        spread = bool(call is not None and _has_spread(call))
        bindings: dict[str, Arg | Fixed] = {}
        for param in info.params:
            if param.variadic:
                rest = tuple(args[param.index :])
                if spread and len(rest) == 1:
                    bindings[param.name] = Arg(rest, scope, spread=True)
                else:
                    bindings[param.name] = Arg(rest, scope, pack=True)
            elif param.index < len(args):
                bindings[param.name] = Arg((args[param.index],), scope)
        return Scope(
            info.file,
            info,
            bindings,
            parent=ref.scope,
            depth=scope.depth + 1,
            call=call,
        )

    def invoke(
        self, ref: FuncRef, args: Sequence[Node], call: Node, scope: Scope, index: int
    ) -> object:
        """The `index`-th result of calling `ref`; several returns must agree (or, in upper
        mode, the largest counts)."""
        if ref.builtin == "asynq.DefaultRetryDelayFunc" and args:
            n = self.value(args[0], scope)
            if not isinstance(n, int) or not self.upper:
                raise Undecidable(call, scope.file)
            self.random = True
            return default_retry_delay(n) * SECOND
        if ref.info is None or ref.info.body is None:
            raise Undecidable(call, scope.file)
        inner = self.bind(ref, args, call, scope)
        values: list[object] = []
        for stmt in return_statements(ref.info.node):
            expr = returned(stmt, index)
            if expr is None:
                expr = returned(stmt, 0)
                if expr is None or expr.type != "call_expression":
                    raise Undecidable(call, scope.file)
                values.append(self.result(expr, index, inner))
                continue
            values.append(self.value(expr, inner))
        if not values:
            raise Undecidable(call, scope.file)
        first = values[0]
        if all(v == first for v in values):
            return first
        numbers = [v for v in values if _is_number(v)]
        if self.upper and len(numbers) == len(values):
            return max(numbers)
        raise Undecidable(call, scope.file)

    def result(self, call: Node, index: int, scope: Scope) -> object:
        """One result of a call that returns several values (`v, err := f()`)."""
        if call.type != "call_expression":
            if index == 0:
                return self.value(call, scope)
            raise Undecidable(call, scope.file)
        function = call.child_by_field_name("function")
        arguments = call.child_by_field_name("arguments")
        if function is None or arguments is None:
            raise Undecidable(call, scope.file)
        ref = self.function(function, scope)
        if ref is None:
            raise Undecidable(call, scope.file)
        args = [a for a in arguments.named_children if a.type != "comment"]
        return self.invoke(ref, args, call, scope, index)


def default_retry_delay(n: int) -> int:
    """Upper bound of asynq's `DefaultRetryDelayFunc` in seconds: n⁴ + 15 + 29·(n + 1)."""
    return n**4 + 15 + 29 * (n + 1)


class _NoValue:
    def __repr__(self) -> str:
        return "<no value>"


_NO_VALUE: object = _NoValue()


def _only(node: Node, file: GoFile) -> Node:
    inner = [c for c in node.named_children if c.type != "comment"]
    if len(inner) != 1:
        raise Undecidable(node, file)
    return inner[0]


def _has_spread(call: Node) -> bool:
    arguments = call.child_by_field_name("arguments")
    if arguments is None:
        return False
    return any(c.type == "variadic_argument" for c in arguments.named_children) or any(
        c.type == "..." for c in arguments.children
    )


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _to_int(value: object, node: Node, file: GoFile) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Undecidable(node, file)
    if isinstance(value, float) and not math.isfinite(value):
        raise Undecidable(node, file)
    return int(value)


def _convert_typed(value: object, type_node: Node | None, file: GoFile) -> object:
    if type_node is None:
        return value
    text = file.text(type_node)
    if (text in _INT_TYPES or text == "time.Duration") and _is_number(value):
        return int(value)
    if text in _FLOAT_TYPES and _is_number(value):
        return float(value)
    return value


def _zero(type_node: Node | None, file: GoFile) -> object:
    if type_node is None:
        return None
    text = file.text(type_node)
    if text in _INT_TYPES or text == "time.Duration":
        return 0
    if text in _FLOAT_TYPES:
        return 0.0
    if text == "string":
        return ""
    if text == "bool":
        return False
    return None


def string_value_of_rune(text: str) -> int | None:
    from retrylint.golang.parse import _unescape

    body = _unescape(text[1:-1])
    if body is None or len(body) != 1:
        return None
    return ord(body)


def binary(op: str, left: object, right: object) -> object:
    """Go's binary operators on constant values; `_NO_VALUE` when they do not apply."""
    if isinstance(left, str) and isinstance(right, str):
        if op == "+":
            return left + right
        return _compare(op, left, right)
    if isinstance(left, bool) and isinstance(right, bool):
        if op == "&&":
            return left and right
        if op == "||":
            return left or right
        if op in ("==", "!="):
            return (left == right) == (op == "==")
        return _NO_VALUE
    if not (_is_number(left) and _is_number(right)):
        if op in ("==", "!=") and (left is None or right is None):
            return (left is right) == (op == "==")
        return _NO_VALUE
    a: int | float = left
    b: int | float = right
    both_int = isinstance(a, int) and isinstance(b, int)
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            if b == 0:
                return _NO_VALUE
            if both_int:
                quotient = abs(int(a)) // abs(int(b))
                return quotient if (a >= 0) == (b >= 0) else -quotient
            return a / b
        if op == "%" and both_int and b != 0:
            return int(math.fmod(a, b))
        if both_int:
            x, y = int(a), int(b)
            if op == "<<" and 0 <= y <= 4096:
                return x << y
            if op == ">>" and y >= 0:
                return x >> y
            if op == "&":
                return x & y
            if op == "|":
                return x | y
            if op == "^":
                return x ^ y
            if op == "&^":
                return x & ~y
    except (ArithmeticError, ValueError):
        return _NO_VALUE
    return _compare(op, a, b)


def _compare(op: str, a: Any, b: Any) -> object:
    try:
        if op == "==":
            return a == b
        if op == "!=":
            return a != b
        if op == "<":
            return a < b
        if op == "<=":
            return a <= b
        if op == ">":
            return a > b
        if op == ">=":
            return a >= b
    except TypeError:
        return _NO_VALUE
    return _NO_VALUE


def _bindings_of(stmt: Node, file: GoFile) -> Iterator[tuple[str, Assign]]:
    """The local names one statement binds, each with how."""
    kind = stmt.type
    if kind in ("short_var_declaration", "assignment_statement"):
        left = stmt.child_by_field_name("left")
        right = stmt.child_by_field_name("right")
        operator = stmt.child_by_field_name("operator")
        op_text = file.text(operator) if operator is not None else ":="
        if left is None:
            return
        targets = left.named_children
        values = right.named_children if right is not None else []
        for position, target in enumerate(targets):
            if target.type != "identifier":
                continue
            name = file.text(target)
            if op_text not in ("=", ":="):
                yield (
                    name,
                    Assign(stmt, "op", values[0] if values else None, op=op_text.rstrip("=")),
                )
            elif len(values) == len(targets):
                yield name, Assign(stmt, "set", values[position])
            elif len(values) == 1:
                yield name, Assign(stmt, "set", values[0], index=position, multi=True)
            else:
                yield name, Assign(stmt, "opaque", None)
    elif kind == "var_spec":
        names = stmt.children_by_field_name("name")
        value = stmt.child_by_field_name("value")
        type_node = stmt.child_by_field_name("type")
        values = value.named_children if value is not None else []
        for position, name_node in enumerate(names):
            name = file.text(name_node)
            if not values:
                yield name, Assign(stmt, "zero", None, type=type_node)
            elif len(values) == len(names):
                yield name, Assign(stmt, "set", values[position], type=type_node)
            else:
                yield name, Assign(stmt, "set", values[0], index=position, multi=True)
    elif kind == "const_spec":
        names = stmt.children_by_field_name("name")
        value = stmt.child_by_field_name("value")
        values = value.named_children if value is not None else []
        for position, name_node in enumerate(names):
            item = values[position] if position < len(values) else None
            yield file.text(name_node), Assign(stmt, "set" if item else "opaque", item)
    elif kind in ("inc_statement", "dec_statement"):
        operand = stmt.named_children[0] if stmt.named_children else None
        if operand is not None and operand.type == "identifier":
            yield file.text(operand), Assign(stmt, "opaque", None)
    elif kind == "range_clause":
        left = stmt.child_by_field_name("left")
        for target in left.named_children if left is not None else []:
            if target.type == "identifier":
                yield file.text(target), Assign(stmt, "opaque", None)
    elif kind == "type_switch_statement":
        alias = stmt.child_by_field_name("alias")
        for target in alias.named_children if alias is not None else []:
            if target.type == "identifier":
                yield file.text(target), Assign(stmt, "opaque", None)
    elif kind == "receive_statement":
        left = stmt.child_by_field_name("left")
        for target in left.named_children if left is not None else []:
            if target.type == "identifier":
                yield file.text(target), Assign(stmt, "opaque", None)
