"""What both extractors (`extract_ast` first, `extract` with libcst when it cannot) share: the
limits on what is converted, where statements' results are collected, and how a module's
relative imports are completed once its whole text is read.

One module for this keeps the two readings of a file from drifting apart on anything but the
syntax tree they walk: `tests/test_extract_ast.py` holds them to the same summary.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import TypeVar

from retrylint.python import ir

# Deeper expressions are kept as opaque text: nothing a retry option holds is this deep, and
# the limit keeps conversion linear on generated or hostile code.
MAX_DEPTH = 60
MAX_TEXT = 300
# `from .x import y` / `from ..x import y` anywhere in a statement's text. A match inside a
# string only costs a walk of that statement; the tree decides.
RELATIVE = re.compile(r"\bfrom[\s\\]+\.")


def clip(code: str) -> str:
    return code if len(code) <= MAX_TEXT else code[: MAX_TEXT - 3] + "..."


@dataclass
class Sink:
    """A module's summary parts in source order, and its relative imports to complete."""

    imports: list[ir.Import] = field(default_factory=list)
    bindings: list[ir.Binding] = field(default_factory=list)
    calls: list[ir.Call] = field(default_factory=list)
    functions: list[ir.Function] = field(default_factory=list)
    classes: list[ir.Class] = field(default_factory=list)
    # (import, dots - 1, the dotted text after the dots), completed by `assemble`.
    relative: list[tuple[ir.Import, int, str]] = field(default_factory=list)
    # The deepest relative import anywhere: it proves how deep the module's own name is.
    level: int = 0

    def extend(self, other: Sink) -> None:
        self.imports.extend(other.imports)
        self.bindings.extend(other.bindings)
        self.calls.extend(other.calls)
        self.functions.extend(other.functions)
        self.classes.extend(other.classes)
        self.relative.extend(other.relative)
        self.level = max(self.level, other.level)


Node = TypeVar("Node")


def kept_locals(
    seeds: Iterable[ir.Expr],
    assigns: Sequence[tuple[str, Node]],
    attributes: frozenset[str],
    stored: Callable[[str, Node], bool],
    value_of: Callable[[Node], ir.Expr],
) -> tuple[ir.Binding, ...]:
    """The local bindings a function body's summary keeps, in source order: those of names the
    kept calls and returns (`seeds`) use, following chains (`timeout = 10 * base` needs
    `base = task.request.retries` too), of wanted attributes (`app.conf.task_annotations = ...`
    inside an app factory), and those `stored` says a wrapper keeps or changes options with."""
    used: set[str] = set()
    for expr in seeds:
        used.update(ir.ref_heads(expr))
    kept: dict[int, ir.Binding] = {}
    changed = True
    while changed:
        changed = False
        for index, (target, node) in enumerate(assigns):
            if index in kept:
                continue
            wanted = target in used or target.rpartition(".")[2] in attributes
            if not (wanted or stored(target, node)):
                continue
            value = value_of(node)
            kept[index] = ir.Binding(target, value, value.span)
            used.update(ir.ref_heads(value))
            changed = True
    return tuple(kept[i] for i in sorted(kept))


def assemble(
    sink: Sink, path: str, dotted: str, suppressions: tuple[ir.Suppression, ...]
) -> ir.ModuleSummary:
    dotted = deepened(dotted, path, sink.level)
    package = dotted if path.endswith("__init__.py") else dotted.rpartition(".")[0]
    resolved = {id(imp): _relative_target(package, up, rest) for imp, up, rest in sink.relative}
    imports = [
        replace(imp, target=resolved[id(imp)]) if id(imp) in resolved else imp
        for imp in sink.imports
    ]
    return ir.ModuleSummary(
        path=path,
        module=dotted,
        imports=tuple(imports),
        bindings=tuple(sink.bindings),
        calls=tuple(sink.calls),
        functions=tuple(sink.functions),
        classes=tuple(sink.classes),
        suppressions=suppressions,
    )


def _relative_target(package: str, up: int, rest: str) -> str:
    """`from <dots><rest> import ...` in `package`, with `up` = dots - 1."""
    parts = package.split(".") if package else []
    parts = parts[: len(parts) - up] if up else parts
    return ".".join([*parts, rest] if rest else parts)


def deepened(dotted: str, path: str, level: int) -> str:
    """`dotted`, made as deep as a relative import of `level` dots proves it is.

    `from ...x import y` in `a/b/c/d.py` only works when `d` is at least `a.b.c.d` (its package
    has 3 parts); the missing parts are the directories above, taken from `path` (relative to
    the project root, so the name never reaches above it). An `__init__.py` is its own package.
    """
    if level <= 0:
        return dotted
    parts = list(PurePosixPath(path).with_suffix("").parts)
    is_init = bool(parts) and parts[-1] == "__init__"
    if is_init:
        parts = parts[:-1]
    need = level if is_init else level + 1
    have = len(dotted.split(".")) if dotted else 0
    if need <= have:
        return dotted
    tail: list[str] = []
    for part in reversed(parts):
        if part in ("..", ".", "", "/") or len(tail) == need:
            break
        tail.append(part)
    return ".".join(reversed(tail)) if len(tail) > have else dotted
