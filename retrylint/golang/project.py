"""Go packages of a project: which files form a package, what they declare, where imports point.

A package is a directory. Its files are parsed on demand (a constant in another file, a function
in another package), so a run reads only the packages the code under PATHS refers to. Import paths
are mapped to directories through the `go.mod` files of the project; without one, a directory
whose path ends with the import path's last elements is taken when it is the only one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from retrylint.golang.parse import GoFile, Node, parse_go, walk

_MODULE = re.compile(rb"^\s*module\s+\"?([^\s\"]+)\"?", re.MULTILINE)
_BUILTIN_TYPES = frozenset(
    {
        "bool",
        "byte",
        "complex64",
        "complex128",
        "error",
        "float32",
        "float64",
        "int",
        "int8",
        "int16",
        "int32",
        "int64",
        "rune",
        "string",
        "uint",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "uintptr",
        "any",
    }
)


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    index: int
    variadic: bool
    type: Node | None


@dataclass(eq=False)
class FuncInfo:
    """A function declaration, method or function literal."""

    key: str
    node: Node
    file: GoFile
    name: str
    receiver: str | None
    receiver_name: str | None
    params: list[Param]
    results: list[Node]

    @property
    def body(self) -> Node | None:
        return self.node.child_by_field_name("body")

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


@dataclass(frozen=True, slots=True)
class ConstInfo:
    name: str
    file: GoFile
    value: Node | None  # the expression (repeated from an earlier spec when implicit)
    iota: int
    type: Node | None


@dataclass(frozen=True, slots=True)
class VarInfo:
    name: str
    file: GoFile
    value: Node | None
    index: int  # position among several values of one call (`a, b = f()`)
    type: Node | None


@dataclass(eq=False)
class Package:
    directory: str
    files: list[GoFile]
    consts: dict[str, ConstInfo] = field(default_factory=dict)
    vars: dict[str, VarInfo] = field(default_factory=dict)
    funcs: dict[str, FuncInfo] = field(default_factory=dict)
    methods: dict[tuple[str, str], FuncInfo] = field(default_factory=dict)
    # Type name → (its file, the type node of the declaration).
    types: dict[str, tuple[GoFile, Node]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        names = sorted({f.package for f in self.files if not f.package.endswith("_test")})
        return names[0] if names else ""


def type_name(node: Node | None, file: GoFile) -> str | None:
    """The base type name of a receiver or parameter type: `*Foo` → `Foo`, `Foo[T]` → `Foo`."""
    while node is not None and node.type in ("pointer_type", "parenthesized_type"):
        node = node.named_children[0] if node.named_children else None
    if node is None:
        return None
    if node.type == "generic_type":
        node = node.child_by_field_name("type")
        if node is None:
            return None
    if node.type == "type_identifier":
        return file.text(node)
    return None


def function_key(file: GoFile, node: Node) -> str:
    if node.type == "func_literal":
        return f"lit:{file.path}:{node.start_byte}"
    name_node = node.child_by_field_name("name")
    name = file.text(name_node) if name_node is not None else "?"
    if node.type == "method_declaration":
        receiver = node.child_by_field_name("receiver")
        recv_type = None
        if receiver is not None:
            for decl in receiver.named_children:
                recv_type = type_name(decl.child_by_field_name("type"), file)
        return f"{file.directory}:{recv_type}.{name}"
    return f"{file.directory}:{name}"


def _params(node: Node | None, file: GoFile) -> list[Param]:
    params: list[Param] = []
    if node is None:
        return params
    index = 0
    for decl in node.named_children:
        if decl.type not in ("parameter_declaration", "variadic_parameter_declaration"):
            continue
        type_node = decl.child_by_field_name("type")
        names = list(decl.children_by_field_name("name"))
        variadic = decl.type == "variadic_parameter_declaration"
        if not names:
            params.append(Param("_", index, variadic, type_node))
            index += 1
        for name in names:
            params.append(Param(file.text(name), index, variadic, type_node))
            index += 1
    return params


def _results(node: Node | None) -> list[Node]:
    if node is None:
        return []
    if node.type == "parameter_list":
        out: list[Node] = []
        for decl in node.named_children:
            type_node = decl.child_by_field_name("type")
            count = max(1, len(decl.children_by_field_name("name")))
            if type_node is not None:
                out.extend([type_node] * count)
        return out
    return [node]


def func_info(file: GoFile, node: Node) -> FuncInfo:
    name_node = node.child_by_field_name("name")
    receiver = receiver_name = None
    if node.type == "method_declaration":
        recv = node.child_by_field_name("receiver")
        for decl in recv.named_children if recv is not None else []:
            receiver = type_name(decl.child_by_field_name("type"), file)
            names = decl.children_by_field_name("name")
            receiver_name = file.text(names[0]) if names else None
    return FuncInfo(
        key=function_key(file, node),
        node=node,
        file=file,
        name=file.text(name_node) if name_node is not None else "",
        receiver=receiver,
        receiver_name=receiver_name,
        params=_params(node.child_by_field_name("parameters"), file),
        results=_results(node.child_by_field_name("result")),
    )


def _index(package: Package) -> None:
    for file in package.files:
        for decl in file.root.named_children:
            if decl.type == "const_declaration":
                _index_consts(package, file, decl)
            elif decl.type == "var_declaration":
                for spec in walk(decl):
                    if spec.type == "var_spec":
                        _index_var(package, file, spec)
            elif decl.type == "function_declaration":
                info = func_info(file, decl)
                package.funcs.setdefault(info.name, info)
            elif decl.type == "method_declaration":
                info = func_info(file, decl)
                if info.receiver is not None:
                    package.methods.setdefault((info.receiver, info.name), info)
            elif decl.type == "type_declaration":
                for spec in decl.named_children:
                    if spec.type in ("type_spec", "type_alias"):
                        name = spec.child_by_field_name("name")
                        type_node = spec.child_by_field_name("type")
                        if name is not None and type_node is not None:
                            package.types.setdefault(file.text(name), (file, type_node))


def _index_consts(package: Package, file: GoFile, decl: Node) -> None:
    """Constants of one `const` block, with Go's implicit repetition and `iota`."""
    previous: list[Node] = []
    previous_type: Node | None = None
    iota = 0
    for spec in decl.named_children:
        if spec.type != "const_spec":
            continue
        names = spec.children_by_field_name("name")
        value = spec.child_by_field_name("value")
        type_node = spec.child_by_field_name("type")
        if value is not None:
            previous = list(value.named_children)
            previous_type = type_node
        elif type_node is None:
            type_node = previous_type
        for position, name in enumerate(names):
            expr = previous[position] if position < len(previous) else None
            package.consts.setdefault(
                file.text(name), ConstInfo(file.text(name), file, expr, iota, type_node)
            )
        iota += 1


def _index_var(package: Package, file: GoFile, spec: Node) -> None:
    names = spec.children_by_field_name("name")
    value = spec.child_by_field_name("value")
    type_node = spec.child_by_field_name("type")
    values = list(value.named_children) if value is not None else []
    for position, name in enumerate(names):
        if len(values) == len(names):
            info = VarInfo(file.text(name), file, values[position], 0, type_node)
        elif len(values) == 1:
            info = VarInfo(file.text(name), file, values[0], position, type_node)
        else:
            info = VarInfo(file.text(name), file, None, 0, type_node)
        package.vars.setdefault(file.text(name), info)


class GoProject:
    """Parsed files and packages of a project, loaded lazily and cached."""

    def __init__(
        self,
        root: Path,
        project_files: Callable[[], Mapping[str, Path]],
        preloaded: Iterable[GoFile] = (),
    ) -> None:
        self.root = root
        self._project_files = project_files
        self._all: Mapping[str, Path] | None = None
        self._files: dict[str, GoFile | None] = {f.path: f for f in preloaded}
        self._packages: dict[str, Package] = {}
        self._modules: list[tuple[str, str]] | None = None
        self._import_dirs: dict[str, str | None] = {}
        self._raw: dict[str, bytes | None] = {}
        self._extra: dict[str, Path] = {}
        self._by_dir: dict[str, list[str]] | None = None

    # -- files and packages ------------------------------------------------------------

    def all_paths(self) -> Mapping[str, Path]:
        if self._all is None:
            self._all = self._project_files()
        return self._all

    def add_path(self, path: str, absolute: Path) -> None:
        """Make a file known that the project listing may lack (named directly on the CLI)."""
        self._extra[path] = absolute
        if self._by_dir is not None and path not in self._by_dir.get(path.rpartition("/")[0], []):
            self._by_dir.setdefault(path.rpartition("/")[0], []).append(path)

    def raw(self, path: str) -> bytes | None:
        """A file's bytes (cached), without parsing it."""
        if path not in self._raw:
            absolute = self._extra.get(path) or self.all_paths().get(path)
            data: bytes | None = None
            if absolute is not None:
                try:
                    data = absolute.read_bytes()
                except OSError:
                    data = None
            self._raw[path] = data
        return self._raw[path]

    def parsed(self, path: str) -> GoFile | None:
        """A file if it was parsed already (never parses)."""
        return self._files.get(path)

    def file(self, path: str) -> GoFile | None:
        if path not in self._files:
            data = self.raw(path)
            self._files[path] = parse_go(data, path)[0] if data is not None else None
        return self._files[path]

    def package(self, directory: str) -> Package:
        if directory not in self._packages:
            if self._by_dir is None:
                self._by_dir = {}
                for known in {
                    *self.all_paths(),
                    *self._extra,
                    *(k for k, v in self._files.items() if v),
                }:
                    self._by_dir.setdefault(known.rpartition("/")[0], []).append(known)
            paths = sorted(self._by_dir.get(directory, []))
            files = [f for f in (self.file(p) for p in paths) if f is not None]
            package = Package(directory, files)
            _index(package)
            self._packages[directory] = package
        return self._packages[directory]

    def package_of(self, file: GoFile) -> Package:
        return self.package(file.directory)

    # -- imports -----------------------------------------------------------------------

    def _module_roots(self) -> list[tuple[str, str]]:
        """(module path, directory) of every `go.mod` next to or above the project's files."""
        if self._modules is None:
            found: dict[str, str] = {}
            dirs = {p.rpartition("/")[0] for p in self.all_paths()}
            checked: set[str] = set()
            for directory in sorted(dirs):
                current = directory
                while current not in checked:
                    checked.add(current)
                    gomod = self.root / current / "go.mod" if current else self.root / "go.mod"
                    try:
                        match = _MODULE.search(gomod.read_bytes())
                    except OSError:
                        match = None
                    if match:
                        found[current] = match.group(1).decode("utf-8", "replace")
                    if not current:
                        break
                    current = current.rpartition("/")[0]
            self._modules = sorted(
                ((module, directory) for directory, module in found.items()),
                key=lambda item: (-len(item[0]), item[1]),
            )
        return self._modules

    def import_directory(self, import_path: str) -> str | None:
        """The project directory holding the package `import_path` names, if it is ours."""
        if import_path in self._import_dirs:
            return self._import_dirs[import_path]
        dirs = {p.rpartition("/")[0] for p in self.all_paths()}
        result: str | None = None
        for module, directory in self._module_roots():
            if import_path == module or import_path.startswith(module + "/"):
                rest = import_path[len(module) :].strip("/")
                candidate = "/".join(part for part in (directory, rest) if part)
                if candidate in dirs:
                    result = candidate
                break
        else:
            parts = import_path.split("/")
            for size in range(len(parts), 1 if len(parts) > 1 else 0, -1):
                tail = "/".join(parts[-size:])
                matches = sorted(d for d in dirs if d == tail or d.endswith("/" + tail))
                if len(matches) == 1:
                    result = matches[0]
                    break
                if matches:
                    break
        self._import_dirs[import_path] = result
        return result

    def import_path_of(self, file: GoFile, alias: str) -> str | None:
        """The import path a qualifier refers to, whether or not the package is ours."""
        if alias in file.imports:
            return file.imports[alias]
        for import_path in sorted(set(file.imports.values())):
            directory = self.import_directory(import_path)
            if directory is not None and self.package(directory).name == alias:
                return import_path
        return None


def is_builtin_type(name: str) -> bool:
    return name in _BUILTIN_TYPES
