"""The single authority on whether an expression has a value without running it.

Accepted: literals, containers of them, module constants bound once (followed across modules),
unary and binary arithmetic, string concatenation, f-strings of strings and integers,
`timedelta(...)`, subscripts of known containers, and `[assume]` values. The retry number
(`self.request.retries`) may appear as a variable, which turns the result into a `Formula` of the
retry index: that is how a countdown written in code becomes a delay sequence. Everything else is
`Unknown`, carrying the exact sub-expression to quote. Exponentiation and shifts are bounded so
hostile code cannot make the analyzer hang.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeAlias

from retrylint.model import Location
from retrylint.python import ir
from retrylint.python.project import Project, base_of

_MAX_EXPONENT = 64
_MAX_DEPTH = 40


@dataclass(frozen=True, slots=True)
class Known:
    """A decided value. Containers hold `Value`s so one unknown item does not taint the rest."""

    value: object
    assumed: bool = False


@dataclass(frozen=True, slots=True)
class Sym:
    """A reference to a class, function, module or external object, by qualified name."""

    qualified: str


@dataclass(frozen=True, slots=True)
class Unknown:
    expression: str
    location: Location


@dataclass(frozen=True, slots=True)
class Formula:
    """A number that depends on the retry index `r` (0 before the first retry)."""

    fn: Callable[[int], float]
    assumed: bool = False


Value: TypeAlias = Known | Sym | Unknown | Formula

_ARITH: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
}
_TIMEDELTA_UNITS = {
    "weeks": 604800.0,
    "days": 86400.0,
    "hours": 3600.0,
    "minutes": 60.0,
    "seconds": 1.0,
    "milliseconds": 0.001,
    "microseconds": 0.000001,
}


_RANDOM_UPPER: dict[str, Callable[[list[float]], float | None]] = {
    "random.random": lambda b: 1.0 if not b else None,
    "random.uniform": lambda b: max(b) if len(b) == 2 else None,
    "random.randint": lambda b: b[1] if len(b) == 2 else None,
    "random.randrange": lambda b: (
        (b[-1] - 1 if len(b) == 1 else b[1] - 1) if len(b) in (1, 2) else None
    ),
}


def location_of(summary: ir.ModuleSummary, span: ir.Span) -> Location:
    return Location(summary.path, span.line, span.column, span.end_line, span.end_column)


def mentions_random(expr: ir.Expr) -> bool:
    """Whether an expression draws a random number: the mark of jitter written in code."""
    text = expr.text
    return any(word in text for word in ("random", "randint", "randrange", "uniform", "jitter"))


class Evaluator:
    """Evaluates IR expressions in the scope of a module (and optionally a function)."""

    def __init__(
        self,
        project: Project,
        assume: Mapping[str, object],
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        self.project = project
        self._assume = assume
        # Qualified prefixes that stand for a project module, e.g. Django's
        # `django.conf.settings` → the configured settings module.
        self._aliases = dict(aliases or {})

    def eval(
        self,
        expr: ir.Expr,
        summary: ir.ModuleSummary,
        local: Mapping[str, ir.Expr | Value] | None = None,
        retry_vars: frozenset[str] = frozenset(),
        _depth: int = 0,
    ) -> Value:
        if expr.text in self._assume:
            return Known(self._assume[expr.text], assumed=True)
        unknown = Unknown(expr.text, location_of(summary, expr.span))
        if _depth > _MAX_DEPTH:
            return unknown

        def sub(e: ir.Expr) -> Value:
            return self.eval(e, summary, local, retry_vars, _depth + 1)

        if isinstance(expr, ir.Const):
            return Known(expr.value)
        if isinstance(expr, ir.Ref):
            return self._ref(expr, summary, local, retry_vars, _depth, unknown)
        if isinstance(expr, ir.Seq):
            items: list[Value] = []
            for item in expr.items:
                if isinstance(item, ir.Starred):
                    inner = sub(item.value)
                    if not (isinstance(inner, Known) and isinstance(inner.value, tuple)):
                        return unknown
                    items.extend(inner.value)
                else:
                    items.append(sub(item))
            return Known(tuple(items), assumed=any(_assumed(i) for i in items))
        if isinstance(expr, ir.DictExpr):
            return self._dict(expr, sub, unknown)
        if isinstance(expr, ir.BinOp):
            return _binop(expr.op, sub(expr.left), sub(expr.right), unknown)
        if isinstance(expr, ir.Unary):
            return _unary(expr.op, sub(expr.operand), unknown)
        if isinstance(expr, ir.Subscript):
            return _subscript(sub(expr.value), sub(expr.index), unknown)
        if isinstance(expr, ir.Call):
            return self._call(expr, summary, sub, unknown)
        if isinstance(expr, ir.FString):
            return _fstring([sub(part) for part in expr.parts], unknown)
        return unknown

    def _ref(
        self,
        expr: ir.Ref,
        summary: ir.ModuleSummary,
        local: Mapping[str, ir.Expr | Value] | None,
        retry_vars: frozenset[str],
        depth: int,
        unknown: Unknown,
    ) -> Value:
        if expr.dotted in retry_vars:
            return Formula(float)
        head = expr.dotted.partition(".")[0]
        if local is not None and (expr.dotted in local or head in local):
            bound = local.get(expr.dotted)
            if bound is None:
                return unknown  # an attribute of a local object
            if isinstance(bound, Known | Sym | Unknown | Formula):
                return bound  # a value the caller already knows (a task option)
            return self.eval(bound, summary, local, retry_vars, depth + 1)
        found = self.project.resolve(summary, expr.dotted)
        if found is None or found.kind == "ambiguous":
            return unknown
        if found.kind == "binding" and found.binding is not None and found.module is not None:
            value = self.eval(found.binding.value, found.module, None, retry_vars, depth + 1)
            if isinstance(value, Unknown) and expr.text in self._assume:
                return Known(self._assume[expr.text], assumed=True)
            return value
        if found.kind == "external":
            aliased = self._alias(found.qualified, summary, depth)
            if aliased is not None:
                return aliased
        return Sym(found.qualified)

    def _alias(self, qualified: str, summary: ir.ModuleSummary, depth: int) -> Value | None:
        for prefix, module_name in self._aliases.items():
            if qualified.startswith(prefix + "."):
                # `django.conf.settings` is the settings of the service the reader is in.
                module = self.project.module(module_name, base_of(summary))
                rest = qualified[len(prefix) + 1 :]
                if module is None:
                    return None
                found = self.project.resolve(module, rest)
                if found is not None and found.binding is not None and found.module is not None:
                    return self.eval(
                        found.binding.value, found.module, None, frozenset(), depth + 1
                    )
        return None

    def _dict(self, expr: ir.DictExpr, sub: Callable[[ir.Expr], Value], unknown: Unknown) -> Value:
        out: dict[object, Value] = {}
        assumed = False
        for key, value in expr.items:
            if key is None:
                spread = sub(value)
                if not (isinstance(spread, Known) and isinstance(spread.value, dict)):
                    return unknown
                out.update(spread.value)
                assumed |= spread.assumed
                continue
            k = sub(key)
            if not isinstance(k, Known) or isinstance(k.value, tuple | dict):
                return unknown
            v = sub(value)
            out[k.value] = v
            assumed |= k.assumed or _assumed(v)
        return Known(out, assumed)

    def _call(
        self,
        expr: ir.Call,
        summary: ir.ModuleSummary,
        sub: Callable[[ir.Expr], Value],
        unknown: Unknown,
    ) -> Value:
        func = sub(expr.func)
        if not isinstance(func, Sym):
            return unknown
        if func.qualified in ("datetime.timedelta", "datetime.datetime.timedelta"):
            total = 0.0
            assumed = False
            # timedelta's positional order is (days, seconds, microseconds, ...).
            pairs = [*zip(("days", "seconds", "microseconds"), expr.args, strict=False)]
            pairs += [(kw.name or "", kw.value) for kw in expr.kwargs]
            for unit, arg in pairs:
                value = sub(arg)
                amount = number(value)
                if unit not in _TIMEDELTA_UNITS or amount is None:
                    return value if isinstance(value, Unknown) else unknown
                total += amount * _TIMEDELTA_UNITS[unit]
                assumed |= _assumed(value)
            return Known(total, assumed)
        if func.qualified in _RANDOM_UPPER and not expr.kwargs:
            # Delays are reported as upper bounds, and a random draw has a known one.
            bounds = [number(sub(arg)) for arg in expr.args]
            if all(b is not None for b in bounds):
                upper = _RANDOM_UPPER[func.qualified]([b for b in bounds if b is not None])
                if upper is not None:
                    return Known(upper)
            return unknown
        if func.qualified == "builtins.dict":
            return _dict_call(expr, sub, unknown)
        if func.qualified in ("builtins.int", "builtins.float") and len(expr.args) == 1:
            value = sub(expr.args[0])
            if isinstance(value, Formula):
                fn = value.fn
                return Formula(
                    (lambda r: float(int(fn(r)))) if func.qualified == "builtins.int" else fn,
                    value.assumed,
                )
            amount = number(value)
            if amount is not None:
                cast = int(amount) if func.qualified == "builtins.int" else float(amount)
                return Known(cast, _assumed(value))
            return value if isinstance(value, Unknown) else unknown
        return unknown

    def deref(self, expr: ir.Expr, summary: ir.ModuleSummary) -> tuple[ir.Expr, ir.ModuleSummary]:
        """Follow names to the expression they are bound to (`RETRY = Retry(max=3)`)."""
        for _ in range(_MAX_DEPTH):
            if not isinstance(expr, ir.Ref):
                break
            found = self.project.resolve(summary, expr.dotted)
            if found is None or found.binding is None or found.module is None:
                break
            if found.kind != "binding":
                break
            expr, summary = found.binding.value, found.module
        return expr, summary


def _dict_call(expr: ir.Call, sub: Callable[[ir.Expr], Value], unknown: Unknown) -> Value:
    """`dict(mapping, key=value, **other)`: retry options are often collected this way and
    splatted into a decorator or a call, so it evaluates like the literal it stands for (the
    positional mapping first, then the keywords and splats in order, as `dict` builds it)."""
    if len(expr.args) > 1:
        return unknown
    out: dict[object, Value] = {}
    assumed = False
    parts = [(None, arg) for arg in expr.args] + [(kw.name, kw.value) for kw in expr.kwargs]
    for name, part in parts:
        value = sub(part)
        if name is not None:
            out[name] = value
            assumed |= _assumed(value)
        elif isinstance(value, Known) and isinstance(value.value, dict):
            out.update(value.value)
            assumed |= value.assumed
        else:
            return unknown  # a list of pairs, a `*args`, or a mapping not known here
    return Known(out, assumed)


def _assumed(value: Value) -> bool:
    return isinstance(value, Known | Formula) and value.assumed


def number(value: Value) -> int | float | None:
    """The number a value holds; booleans are not numbers here, although Python agrees."""
    if (
        isinstance(value, Known)
        and isinstance(value.value, int | float)
        and not isinstance(value.value, bool)
    ):
        return value.value
    return None


def _is_number(value: Value) -> bool:
    return number(value) is not None


def _first_unknown(*values: Value) -> Unknown | None:
    for value in values:
        if isinstance(value, Unknown):
            return value
    return None


def _binop(op: str, left: Value, right: Value, unknown: Unknown) -> Value:
    bad = _first_unknown(left, right)
    if bad is not None:
        return bad
    assumed = _assumed(left) or _assumed(right)
    if isinstance(left, Formula) or isinstance(right, Formula):
        return _formula_op(op, left, right, assumed, unknown)
    if not (isinstance(left, Known) and isinstance(right, Known)):
        return unknown
    a, b = left.value, right.value
    try:
        if _is_number(left) and _is_number(right):
            assert isinstance(a, int | float) and isinstance(b, int | float)
            if op == "**":
                if abs(b) > _MAX_EXPONENT or abs(a) > 1e6:
                    return unknown
                return Known(a**b, assumed)
            if op == "<<":
                if not (isinstance(a, int) and isinstance(b, int)) or not 0 <= b <= _MAX_EXPONENT:
                    return unknown
                return Known(a << b, assumed)
            if op in _ARITH:
                return Known(_ARITH[op](a, b), assumed)
        if op == "+" and type(a) is type(b) and isinstance(a, str | tuple):
            return Known(a + b, assumed)  # type: ignore[operator]
        if op == "|" and isinstance(a, dict) and isinstance(b, dict):
            return Known({**a, **b}, assumed)
    except (ArithmeticError, ValueError):
        return unknown
    return unknown


def _fstring(parts: list[Value], unknown: Unknown) -> Value:
    """The text of an f-string whose fields are strings or integers (their `str()` is exact)."""
    bad = _first_unknown(*parts)
    if bad is not None:
        return bad
    out: list[str] = []
    for part in parts:
        if not isinstance(part, Known):
            return unknown
        if isinstance(part.value, str):
            out.append(part.value)
        elif isinstance(part.value, int) and not isinstance(part.value, bool):
            out.append(str(part.value))
        else:
            return unknown
    return Known("".join(out), any(_assumed(p) for p in parts))


def _formula_op(op: str, left: Value, right: Value, assumed: bool, unknown: Unknown) -> Value:
    def as_fn(value: Value) -> Callable[[int], float] | None:
        if isinstance(value, Formula):
            return value.fn
        amount = number(value)
        if amount is not None:
            constant = float(amount)
            return lambda _r: constant
        return None

    f, g = as_fn(left), as_fn(right)
    if f is None or g is None:
        return unknown
    if op == "**":
        return Formula(lambda r: _safe_pow(f(r), g(r)), assumed)
    if op == "<<":
        return Formula(lambda r: _safe_pow(2.0, g(r)) * f(r), assumed)
    if op in ("/", "//", "%"):
        return Formula(lambda r: _safe_div(op, f(r), g(r)), assumed)
    if op in _ARITH:
        fn = _ARITH[op]
        return Formula(lambda r: fn(f(r), g(r)), assumed)
    return unknown


def _safe_pow(base: float, exponent: float) -> float:
    if exponent > _MAX_EXPONENT * 16:
        return math.inf
    try:
        return float(base**exponent)
    except OverflowError:
        return math.inf


def _safe_div(op: str, a: float, b: float) -> float:
    if b == 0:
        return math.inf
    return _ARITH[op](a, b)


def _unary(op: str, operand: Value, unknown: Unknown) -> Value:
    if isinstance(operand, Unknown):
        return operand
    if isinstance(operand, Formula) and op in ("-", "+"):
        fn = operand.fn
        return Formula((lambda r: -fn(r)) if op == "-" else fn, operand.assumed)
    if not isinstance(operand, Known):
        return unknown
    if op == "not":
        return Known(not operand.value, operand.assumed)
    if _is_number(operand):
        number = operand.value
        assert isinstance(number, int | float)
        if op == "-":
            return Known(-number, operand.assumed)
        if op == "+":
            return Known(number, operand.assumed)
        if op == "~" and isinstance(number, int):
            return Known(~number, operand.assumed)
    return unknown


def _subscript(container: Value, index: Value, unknown: Unknown) -> Value:
    bad = _first_unknown(container, index)
    if bad is not None:
        return bad
    if not (isinstance(container, Known) and isinstance(index, Known)):
        return unknown
    value, key = container.value, index.value
    if isinstance(value, dict) and not isinstance(key, dict | tuple) and key in value:
        item = value[key]
        return item if isinstance(item, Known | Sym | Unknown | Formula) else unknown
    if isinstance(value, tuple) and isinstance(key, int) and -len(value) <= key < len(value):
        item = value[key]
        return item if isinstance(item, Known | Sym | Unknown | Formula) else unknown
    return unknown
