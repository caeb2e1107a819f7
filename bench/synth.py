"""A synthetic project of about a million lines, byte for byte the same for the same seed.

Each real corpus uses one or two frameworks; this tree puts every adapter in one run, in the
proportions issue 11 asks for: about 3% of the files declare tasks, spread over every framework
retrylint reads (the eleven task queues, asynq in Go under its own `go.mod`, and the tenacity,
backoff and stamina retry decorators), each in the forms projects write (decorator options,
defaults only, call-site options such as Temporal's `execute_activity(..., retry_policy=...)` or
asynq's `NewTask` with `MaxRetry`). The other files are ordinary modules (classes, functions,
imports between project modules, some calling the tasks) that the prefilter still has to read.

`generate` returns the inventory rows the written code must produce (`Row`), so that
tests/test_bench_synth.py can tell a task the adapters miss, or one they invent, on a small tree
made by the same code; bench/run.py times retrylint on a full one.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SEED = 20261203
LINES = 1_000_000
# Share of the files that declare tasks (issue 11), and of the lines written in Go.
TASK_SHARE = 0.03
GO_SHARE = 0.05
# Lines per file on average (ordinary modules are 60 to 440 lines of blocks, plus imports and
# the last block), which sets the file count.
_MEAN_LINES = 300

_NOUNS = (
    "invoice", "order", "customer", "payment", "shipment", "product", "account", "report",
    "refund", "coupon", "address", "session", "token", "webhook", "ledger", "catalog", "review",
    "subscription", "warehouse", "notification", "tenant", "quota", "export", "upload",
)  # fmt: skip
_VERBS = (
    "sync", "build", "load", "compute", "refresh", "validate", "render", "publish", "archive",
    "collect", "merge", "resolve", "notify", "charge", "reconcile", "expire", "index", "prune",
)  # fmt: skip
_DOMAINS = (
    "billing", "accounts", "catalog", "orders", "shipping", "search", "reports", "notifications",
    "payments", "inventory", "partners", "support", "analytics", "identity", "media", "pricing",
    "audit", "integrations", "scheduling", "storefront",
)  # fmt: skip
_KINDS = (
    "models", "services", "views", "serializers", "selectors", "forms", "utils", "handlers",
    "repositories", "validators", "schemas", "managers",
)  # fmt: skip
_AREAS = ("core", "api", "admin", "sync")
_VERSIONS = (
    "celery==5.7.0",
    "dramatiq==2.2.0",
    "rq==3.0.0",
    "huey==3.5.0",
    "arq==0.28.0",
    "taskiq==0.13.0",
    "taskiq-redis==1.1.0",
    "procrastinate==3.10.0",
    "saq==0.26.0",
    "django-q2==1.11.0",
    "temporalio==1.35.0",
    "tenacity==9.2.0",
    "backoff==2.2.1",
    "stamina==26.1.0",
    "Django==5.2",
    "requests==2.32.3",
)


@dataclass(frozen=True, order=True)
class Row:
    """One row `retrylint inventory --format json` must print for the generated code."""

    framework: str
    name: str
    path: str
    site: str  # "definition" or "enqueue", as the inventory says


@dataclass
class Tree:
    """What `generate` wrote."""

    python_files: int = 0
    go_files: int = 0
    lines: int = 0
    task_files: int = 0
    rows: list[Row] = field(default_factory=list)

    def per_framework(self) -> dict[str, int]:
        """Expected inventory rows per framework key, every framework listed."""
        counts = Counter(r.framework for r in self.rows)
        return {key: counts[key] for key in FRAMEWORKS}


@dataclass(frozen=True)
class _Callable:
    """A project function another module may import and call."""

    module: str
    name: str
    call: str  # the call, with {name} and {arg} to fill in


class _Writer:
    """Writes the tree file by file, recording the rows its task code must produce."""

    def __init__(self, root: Path, seed: int) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.tree = Tree()
        self.serial = 0
        # Entry points of ordinary modules (`fn(item_id) -> dict`), and task functions that
        # callers may start, in the order written: imports only point backwards.
        self.helpers: list[_Callable] = []
        self.starters: list[_Callable] = []
        self.go_packages: list[tuple[str, list[tuple[str, str]]]] = []
        self._domains: tuple[str, ...] = _DOMAINS
        self.forms: Counter[str] = Counter()

    # -- files ----------------------------------------------------------------------------

    def write(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.tree.lines += text.count("\n")
        if relative.endswith(".py"):
            self.tree.python_files += 1
        elif relative.endswith(".go"):
            self.tree.go_files += 1

    def package(self, folder: str) -> None:
        """`__init__.py` files up to `folder`, each written once."""
        parts = folder.split("/")
        for depth in range(1, len(parts) + 1):
            init = self.root / "/".join(parts[:depth]) / "__init__.py"
            if not init.exists():
                self.write(init.relative_to(self.root).as_posix(), "")

    def name(self) -> str:
        """A function name unique in the whole tree (adapters name tasks after them)."""
        self.serial += 1
        return f"{self.rng.choice(_VERBS)}_{self.rng.choice(_NOUNS)}_{self.serial}"

    def form(self, framework: str, choices: int) -> int:
        """The next of a framework's `choices` declaration forms, in turn: a tree with a few
        tasks of each framework has every form."""
        self.forms[framework] += 1
        return (self.forms[framework] - 1) % choices

    def row(self, framework: str, name: str, path: str, site: str = "definition") -> None:
        self.tree.rows.append(Row(framework, name, path, site))

    # -- ordinary Python ------------------------------------------------------------------

    def blocks(self, target: int, uses: list[_Callable]) -> list[str]:
        """Ordinary code of about `target` lines; `uses` are imported names it calls."""
        out: list[str] = []
        lines = 0
        pending = list(uses)
        while lines < target:
            if pending and self.rng.random() < 0.5:
                block = _caller(self, pending.pop())
            else:
                block = self.rng.choice(_BLOCKS)(self)
            out.append(block)
            lines += block.count("\n") + 2
        out.extend(_caller(self, use) for use in pending)
        return out

    def imports(self, count: int, pool: list[_Callable]) -> list[_Callable]:
        """Up to `count` distinct names from the most recent entries of `pool`."""
        recent = pool[-400:]
        return self.rng.sample(recent, min(count, len(recent)))

    def ordinary(self, index: int) -> None:
        domain = self._domains[index % len(self._domains)]
        area = _AREAS[(index // len(self._domains)) % len(_AREAS)]
        kind = _KINDS[(index // (len(self._domains) * len(_AREAS))) % len(_KINDS)]
        folder = f"shop/{domain}/{area}"
        module_path = f"{folder}/{kind}_{index}.py"
        module = module_path[:-3].replace("/", ".")
        self.package(folder)
        uses = self.imports(self.rng.randint(0, 3), self.helpers)
        if self.starters and self.rng.random() < 0.12:
            uses += self.imports(1, self.starters)
        body = self.blocks(self.rng.randint(60, 440), uses)
        entry = self.name()
        body.append(_entry(self, entry))
        self.write(module_path, _module_text(self, f"{kind.capitalize()} of {domain}.", uses, body))
        self.helpers.append(_Callable(module, entry, "{name}({arg})"))

    # -- task files -----------------------------------------------------------------------

    def task_file(self, index: int, framework: str) -> None:
        domain = self._domains[index % len(self._domains)]
        if framework == "asynq":
            self.go_tasks(index, domain)
            return
        stem = _TASK_MODULES[framework]
        folder = f"shop/{domain}"
        path = f"{folder}/{stem}_{index}.py"
        module = path[:-3].replace("/", ".")
        self.package(folder)
        helpers = self.imports(self.rng.randint(1, 2), self.helpers)
        head, tasks = _TASK_WRITERS[framework](self, module, path, helpers)
        body = self.blocks(self.rng.randint(20, 120), [])
        text = _module_text(self, f"Background work of {domain}.", helpers, [*body, *tasks], head)
        self.write(path, text)
        self.tree.task_files += 1

    def go_tasks(self, index: int, domain: str) -> None:
        package = f"{domain}{index}"
        path = f"services/queue/{package}/tasks.go"
        types: list[tuple[str, str]] = []
        parts = [_GO_TASK_HEAD.format(package=package)]
        consts = []
        for _ in range(self.rng.randint(2, 4)):
            name = self.name()
            camel = _camel(name)
            task_type = f"{domain}:{name}"
            consts.append(f'\tType{camel} = "{task_type}"')
            form = self.form("asynq", 3)
            retries = self.rng.choice((3, 5, 8, 10))
            parts.append(_GO_FORMS[form].format(camel=camel, n=retries))
            types.append((task_type, camel))
            self.row("asynq", task_type, path, "enqueue")
        parts.insert(1, "const (\n" + "\n".join(consts) + "\n)\n")
        self.write(path, "\n".join(parts))
        self.go_packages.append((package, types))
        self.tree.task_files += 1

    def go_worker(self) -> None:
        """The server every task package's handlers are registered on: a task file too."""
        path = "services/cmd/worker/main.go"
        imports = "".join(
            f'\t"example.com/synth/services/queue/{p}"\n' for p, _ in self.go_packages
        )
        routes = []
        for package, types in self.go_packages:
            for task_type, camel in types:
                routes.append(f"\tmux.HandleFunc({package}.Type{camel}, {package}.Handle{camel})")
                self.row("asynq", task_type, path)
        self.write(path, _GO_WORKER.format(imports=imports, routes="\n".join(routes)))
        self.tree.task_files += 1

    def go_ordinary(self, index: int) -> None:
        package = f"{self.rng.choice(_NOUNS)}{index}"
        parts = [f"// Package {package} holds plain service code.\npackage {package}\n"]
        parts.append('import (\n\t"errors"\n\t"fmt"\n\t"sort"\n\t"strings"\n)\n')
        target = self.rng.randint(150, 450)
        lines = 0
        # One block of each kind first, so that every import is used.
        kinds = list(range(len(_GO_BLOCKS)))
        while lines < target:
            kind = kinds.pop(0) if kinds else self.rng.randrange(len(_GO_BLOCKS))
            block = _GO_BLOCKS[kind].format(Name=_camel(self.name()), n=self.rng.randint(2, 90))
            parts.append(block)
            lines += block.count("\n") + 1
        self.write(f"services/internal/{package}/{package}.go", "\n".join(parts))

    # -- the whole tree -------------------------------------------------------------------

    def run(self, lines: int) -> Tree:
        files = max(len(FRAMEWORKS) * 3, lines // _MEAN_LINES)
        go_files = max(2, round(files * GO_SHARE))
        python_files = files - go_files
        tasks = max(2 * len(FRAMEWORKS), round(files * TASK_SHARE))
        self._domains = _DOMAINS[: max(2, min(len(_DOMAINS), python_files // 120))]
        self.setup()
        # Task files evenly spread among the ordinary ones, frameworks in turn, so that each
        # has ordinary modules before it to import and after it to call its tasks.
        order = [FRAMEWORKS[t % len(FRAMEWORKS)] for t in range(tasks)]
        slots = {round((t + 0.5) * python_files / tasks): fw for t, fw in enumerate(order)}
        for index in range(python_files):
            self.ordinary(index)
            if index in slots:
                self.task_file(index, slots[index])
        self.go_worker()
        for index in range(go_files):
            self.go_ordinary(index)
        return self.tree

    def setup(self) -> None:
        """The project files that configure the frameworks (apps, brokers, settings)."""
        self.write("requirements.txt", "\n".join(_VERSIONS) + "\n")
        self.write(
            "manage.py",
            "import os\nimport sys\n\n\ndef main() -> None:\n"
            '    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")\n'
            "    from django.core.management import execute_from_command_line\n\n"
            "    execute_from_command_line(sys.argv)\n\n\n"
            'if __name__ == "__main__":\n    main()\n',
        )
        self.package("shop/queues")
        for relative, text in _SETUP.items():
            self.write(relative, text)
        self.write("services/go.mod", _GO_MOD)


def generate(root: Path, lines: int = LINES, seed: int = SEED) -> Tree:
    """Write a project of about `lines` lines into `root` (created; best empty)."""
    root.mkdir(parents=True, exist_ok=True)
    return _Writer(root, seed).run(lines)


def _camel(name: str) -> str:
    return "".join(p.capitalize() for p in name.split("_"))


def _module_text(
    w: _Writer, doc: str, uses: list[_Callable], body: list[str], head: list[str] | None = None
) -> str:
    std = sorted(["logging", *w.rng.sample(_STDLIB, w.rng.randint(1, 4))])
    lines = [f'"""{doc}"""', "", "from __future__ import annotations", ""]
    lines += [f"import {m}" for m in std]
    lines += ["from dataclasses import dataclass, field", "from typing import Any", ""]
    if head:
        lines += [*head, ""]
    by_module: dict[str, list[str]] = {}
    for use in uses:
        by_module.setdefault(use.module, []).append(use.name)
    for module in sorted(by_module):
        lines.append(f"from {module} import {', '.join(sorted(by_module[module]))}")
    lines += ["", "logger = logging.getLogger(__name__)"]
    return "\n".join(lines) + "\n\n" + "\n\n\n".join(body) + "\n"


_STDLIB = ("json", "itertools", "os", "re", "time", "uuid", "decimal", "datetime")

# Ordinary blocks, each a function of the writer giving Python text. Names carry a serial
# number, so no two definitions of the tree share a name.


def _dataclass_block(w: _Writer) -> str:
    cls = _camel(w.name())
    a, b = w.rng.sample(_NOUNS, 2)
    n = w.rng.randint(2, 50)
    return f'''@dataclass(frozen=True)
class {cls}:
    """A {a} as the {b} pages show it."""

    {a}_id: int
    label: str = ""
    tags: list[str] = field(default_factory=list)
    weight: float = {n}.0

    def is_heavy(self) -> bool:
        return self.weight > {n * 2} and bool(self.label)

    def compare(self, other: {cls}) -> int:
        delta = (self.{a}_id - other.{a}_id) * {n}
        return delta if self.tags else -delta

    def as_dict(self) -> dict[str, Any]:
        return {{"id": self.{a}_id, "label": self.label, "tags": sorted(self.tags)}}'''


def _service_block(w: _Writer) -> str:
    cls = _camel(w.name())
    a = w.rng.choice(_NOUNS)
    n = w.rng.randint(2, 30)
    return f'''class {cls}Service:
    """Reads and updates {a} records through the repository it is given."""

    def __init__(self, repository: Any, limit: int = {n * 10}) -> None:
        self.repository = repository
        self.limit = limit
        self._seen: dict[int, Any] = {{}}

    def get(self, {a}_id: int) -> Any:
        if {a}_id in self._seen:
            return self._seen[{a}_id]
        found = self.repository.get({a}_id)
        if found is None:
            raise LookupError(f"no {a} {{{a}_id}}")
        self._seen[{a}_id] = found
        return found

    def update_many(self, changes: dict[int, dict[str, Any]]) -> int:
        updated = 0
        for key, values in sorted(changes.items()):
            if updated >= self.limit:
                break
            current = self.get(key)
            for name, value in values.items():
                if getattr(current, name, None) != value:
                    setattr(current, name, value)
            self.repository.save(current)
            updated += 1
        return updated'''


def _aggregate_block(w: _Writer) -> str:
    name = w.name()
    a, b = w.rng.sample(_NOUNS, 2)
    n = w.rng.randint(2, 12)
    return f'''def {name}(rows: list[dict[str, Any]], minimum: int = {n}) -> dict[str, int]:
    """Totals of {b} amounts per {a}, the small ones left out."""
    totals: dict[str, int] = {{}}
    for row in rows:
        key = str(row.get("{a}", "unknown"))
        amount = int(row.get("amount", 0))
        if amount < minimum:
            continue
        totals[key] = totals.get(key, 0) + amount
    return {{k: v for k, v in sorted(totals.items()) if v % {n + 1} or v > minimum}}'''


def _validator_block(w: _Writer) -> str:
    name = w.name()
    a = w.rng.choice(_NOUNS)
    n = w.rng.randint(3, 64)
    return f'''def {name}(payload: dict[str, Any]) -> list[str]:
    """What is wrong with a {a} payload, as messages for the form."""
    problems = []
    label = payload.get("label")
    if not isinstance(label, str) or not label.strip():
        problems.append("label is required")
    elif len(label) > {n * 4}:
        problems.append("label is too long")
    count = payload.get("count", 0)
    if not isinstance(count, int) or count < 0:
        problems.append("count must be a positive integer")
    elif count > {n * 100}:
        problems.append("count is above the limit")
    for key in payload:
        if key.startswith("_"):
            problems.append(f"{{key}} is private")
    return problems'''


def _constants_block(w: _Writer) -> str:
    const = f"{w.rng.choice(_NOUNS).upper()}_{w.name().upper()}"
    entries = "\n".join(
        f'    "{w.rng.choice(_NOUNS)}_{i}": {w.rng.randint(1, 999)},'
        for i in range(w.rng.randint(4, 12))
    )
    return f"{const} = {{\n{entries}\n}}"


def _async_block(w: _Writer) -> str:
    name = w.name()
    a = w.rng.choice(_NOUNS)
    n = w.rng.randint(2, 20)
    return f'''async def {name}(client: Any, ids: list[int]) -> list[dict[str, Any]]:
    """Fetches {a} pages {n} at a time."""
    results: list[dict[str, Any]] = []
    for start in range(0, len(ids), {n}):
        chunk = ids[start : start + {n}]
        async with client.session() as session:
            response = await session.get("/{a}s", params={{"ids": chunk}})
            if response.status != 200:
                continue
            results.extend(await response.json())
    return results'''


def _enum_block(w: _Writer) -> str:
    cls = _camel(w.name())
    states = w.rng.sample(("draft", "open", "paid", "sent", "closed", "failed", "held"), 4)
    members = "\n".join(f'    {s.upper()} = "{s}"' for s in states)
    return f'''class {cls}State:
    """States of the record, in the order they happen."""

{members}

    @classmethod
    def ordered(cls) -> list[str]:
        return [{", ".join(f"cls.{s.upper()}" for s in states)}]'''


_BLOCKS: tuple[Callable[[_Writer], str], ...] = (
    _dataclass_block,
    _service_block,
    _aggregate_block,
    _validator_block,
    _constants_block,
    _async_block,
    _enum_block,
)


def _caller(w: _Writer, use: _Callable) -> str:
    """A function calling `use`, an imported helper or task."""
    name = w.name()
    call = use.call.format(name=use.name, arg="item")
    n = w.rng.randint(2, 9)
    return f'''def {name}(items: list[int]) -> int:
    """Hands every item not divisible by {n} on."""
    handled = 0
    for item in items:
        if item % {n} == 0:
            continue
        {call}
        handled += 1
    return handled'''


def _entry(w: _Writer, name: str) -> str:
    """The function other modules import from this one."""
    a = w.rng.choice(_NOUNS)
    return f'''def {name}(item_id: int) -> dict[str, int]:
    """The {a} summary other modules ask for."""
    return {{"id": item_id, "{a}": item_id * {w.rng.randint(2, 9)}}}'''


def _task_body(w: _Writer, helpers: list[_Callable]) -> str:
    """A task's body: a call to a helper the module imports, as tasks hand work to services."""
    if not helpers:
        return "    logger.info('working on %s', item_id)"
    use = w.rng.choice(helpers)
    return f"    {use.call.format(name=use.name, arg='item_id')}"


# -- task writers: each gives the module's extra import lines and its task definitions -------

_Written = tuple[list[str], list[str]]


def _celery(w: _Writer, module: str, path: str, helpers: list[_Callable]) -> _Written:
    head = [
        "from celery import shared_task",
        "from requests.exceptions import HTTPError",
        "",
        "from shop.queues.celery_app import app",
    ]
    tasks = []
    for _ in range(w.rng.randint(2, 4)):
        name = w.name()
        n = w.rng.choice((3, 5, 7, 10))
        d = w.rng.choice((10, 30, 60))
        body = _task_body(w, helpers)
        form = w.form("celery", 4)
        if form == 0:
            text = (
                "@app.task(bind=True, autoretry_for=(ConnectionError, TimeoutError), "
                f"max_retries={n}, retry_backoff=True, retry_jitter=True)\n"
                f"def {name}(self, item_id: int) -> None:\n{body}"
            )
        elif form == 1:
            text = f"@shared_task\ndef {name}(item_id: int) -> None:\n{body}"
        elif form == 2:
            text = (
                f"@shared_task(bind=True, max_retries={n}, default_retry_delay={d})\n"
                f"def {name}(self, item_id: int) -> None:\n    try:\n    {body}\n"
                "    except ConnectionError as exc:\n"
                f"        raise self.retry(exc=exc, countdown={d} * (self.request.retries + 1))"
            )
        else:
            text = (
                "@app.task(autoretry_for=(HTTPError,), "
                f'retry_kwargs={{"max_retries": {n}, "countdown": {d}}})\n'
                f"def {name}(item_id: int) -> None:\n{body}"
            )
        tasks.append(text)
        w.row("celery", f"{module}.{name}", path)
        w.starters.append(_Callable(module, name, "{name}.delay({arg})"))
    return head, tasks


def _dramatiq(w: _Writer, module: str, path: str, helpers: list[_Callable]) -> _Written:
    head = ["import dramatiq", "", "from shop.queues import dramatiq_broker  # noqa: F401"]
    tasks = [
        "def should_retry(retries: int, exc: BaseException) -> bool:\n"
        "    return retries < 4 and not isinstance(exc, KeyError)"
    ]
    for _ in range(w.rng.randint(2, 4)):
        name = w.name()
        body = _task_body(w, helpers)
        form = w.form("dramatiq", 4)
        actor = name
        if form == 0:
            n = w.rng.choice((3, 5, 8))
            decorator = f"@dramatiq.actor(max_retries={n}, min_backoff=1_000, max_backoff=60_000)"
        elif form == 1:
            decorator = "@dramatiq.actor"
        elif form == 2:
            decorator = '@dramatiq.actor(queue_name="slow", retry_when=should_retry)'
        else:
            actor = f"{module.split('.')[1]}.{name}"
            decorator = f'@dramatiq.actor(actor_name="{actor}", max_retries=0)'
        tasks.append(f"{decorator}\ndef {name}(item_id: int) -> None:\n{body}")
        w.row("dramatiq", actor, path)
        w.starters.append(_Callable(module, name, "{name}.send({arg})"))
    return head, tasks


def _rq(w: _Writer, module: str, path: str, helpers: list[_Callable]) -> _Written:
    head = [
        "from rq import Retry",
        "from rq.decorators import job",
        "",
        "from shop.queues.rq_queue import queue, redis",
    ]
    tasks = []
    plain = []
    for _ in range(w.rng.randint(2, 4)):
        name = w.name()
        body = _task_body(w, helpers)
        form = w.form("rq", 3)
        if form == 0:
            n = w.rng.choice((2, 3, 5))
            tasks.append(
                f'@job("default", connection=redis, retry=Retry(max={n}, interval=[10, 30, 60]))\n'
                f"def {name}(item_id: int) -> None:\n{body}"
            )
            w.starters.append(_Callable(module, name, "{name}.delay({arg})"))
            w.row("rq", f"{module}.{name}", path)
        elif form == 1:
            tasks.append(
                f'@job("low", connection=redis)\ndef {name}(item_id: int) -> None:\n{body}'
            )
            w.starters.append(_Callable(module, name, "{name}.delay({arg})"))
            w.row("rq", f"{module}.{name}", path)
        else:
            tasks.append(f"def {name}(item_id: int) -> None:\n{body}")
            plain.append(name)
    if plain:
        sites = "\n".join(
            f"    queue.enqueue({p}, item_id, retry=Retry(max={w.rng.randint(1, 4)}, "
            f"interval={w.rng.choice((5, 15, 60))}))"
            for p in plain
        )
        tasks.append(f"def enqueue_all(item_id: int) -> None:\n{sites}")
        for p in plain:
            w.row("rq", f"{module}.{p}", path, "enqueue")
    return head, tasks


def _huey(w: _Writer, module: str, path: str, helpers: list[_Callable]) -> _Written:
    head = ["from huey import crontab", "", "from shop.queues.huey_app import huey"]
    tasks = []
    for _ in range(w.rng.randint(2, 4)):
        name = w.name()
        body = _task_body(w, helpers)
        form = w.form("huey", 4)
        n = w.rng.choice((2, 3, 5))
        d = w.rng.choice((5, 10, 30))
        if form == 0:
            decorator = f"@huey.task(retries={n}, retry_delay={d})"
        elif form == 1:
            decorator = "@huey.task()"
        elif form == 2:
            decorator = f"@huey.task(retries={n}, retry_delay={d}, retry_backoff=2)"
        else:
            decorator = f'@huey.periodic_task(crontab(minute="*/15"), retries={n}, retry_delay={d})'
        arg = "" if form == 3 else "item_id: int"
        text = f"{decorator}\ndef {name}({arg}) -> None:\n"
        text += "    item_id = 0\n" if form == 3 else ""
        tasks.append(text + body)
        w.row("huey", f"{module}.{name}", path)
        if form != 3:
            w.starters.append(_Callable(module, name, "{name}({arg})"))
    return head, tasks


def _arq(w: _Writer, module: str, path: str, helpers: list[_Callable]) -> _Written:
    head = ["from arq import Retry, cron, func"]
    tasks = []
    entries = []
    for _ in range(w.rng.randint(2, 4)):
        name = w.name()
        body = _task_body(w, helpers)
        form = w.form("arq", 3)
        step = w.rng.choice((5, 10, 30))
        tasks.append(
            f"async def {name}(ctx: dict[str, Any], item_id: int = 0) -> None:\n{body}\n"
            '    if ctx["job_try"] < 3:\n'
            f'        raise Retry(defer=ctx["job_try"] * {step})'
        )
        if form == 0:
            entries.append(("functions", f"func({name}, max_tries={w.rng.choice((3, 4, 6))})"))
            w.row("arq", name, path)
        elif form == 1:
            entries.append(("functions", name))
            w.row("arq", name, path)
        else:
            entries.append(("cron_jobs", f"cron({name}, hour={w.rng.randint(0, 23)})"))
            w.row("arq", f"cron:{name}", path)
    functions = ", ".join(e for k, e in entries if k == "functions")
    crons = ", ".join(e for k, e in entries if k == "cron_jobs")
    tasks.append(
        f"class WorkerSettings:\n    functions = [{functions}]\n    cron_jobs = [{crons}]\n"
        f"    max_tries = {w.rng.choice((5, 8))}"
    )
    return head, tasks


def _taskiq(w: _Writer, module: str, path: str, helpers: list[_Callable]) -> _Written:
    head = ["from shop.queues.taskiq_broker import broker"]
    tasks = []
    for _ in range(w.rng.randint(2, 4)):
        name = w.name()
        body = _task_body(w, helpers)
        form = w.form("taskiq", 3)
        task_name = f"{module}:{name}"
        if form == 0:
            decorator = f"@broker.task(retry_on_error=True, max_retries={w.rng.randint(2, 6)})"
        elif form == 1:
            decorator = "@broker.task"
        else:
            task_name = f"{module.split('.')[1]}.{name}"
            decorator = (
                f'@broker.task(task_name="{task_name}", retry_on_error=True, '
                f"max_retries={w.rng.randint(2, 6)}, delay={w.rng.choice((2, 5, 10))})"
            )
        tasks.append(f"{decorator}\nasync def {name}(item_id: int) -> None:\n{body}")
        w.row("taskiq", task_name, path)
    return head, tasks


def _procrastinate(w: _Writer, module: str, path: str, helpers: list[_Callable]) -> _Written:
    head = ["import procrastinate", "", "from shop.queues.procrastinate_app import app"]
    tasks = []
    for _ in range(w.rng.randint(2, 4)):
        name = w.name()
        body = _task_body(w, helpers)
        form = w.form("procrastinate", 4)
        if form == 0:
            decorator = f"@app.task(retry={w.rng.randint(2, 8)})"
        elif form == 1:
            decorator = '@app.task(queue="default")'
        elif form == 2:
            decorator = "@app.task"
        else:
            decorator = (
                "@app.task(retry=procrastinate.RetryStrategy("
                f"max_attempts={w.rng.randint(2, 8)}, wait={w.rng.choice((5, 30))}))"
            )
        tasks.append(f"{decorator}\ndef {name}(item_id: int) -> None:\n{body}")
        w.row("procrastinate", f"{module}.{name}", path)
        w.starters.append(_Callable(module, name, "{name}.defer(item_id={arg})"))
    return head, tasks


def _saq(w: _Writer, module: str, path: str, helpers: list[_Callable]) -> _Written:
    head = ["from saq.types import Context", "", "from shop.queues.saq_queue import queue"]
    tasks = []
    names = []
    for _ in range(w.rng.randint(2, 4)):
        name = w.name()
        body = _task_body(w, helpers)
        tasks.append(f"async def {name}(ctx: Context, *, item_id: int) -> None:\n{body}")
        names.append(name)
        w.row("saq", name, path)
    tasks.append(
        'settings = {\n    "queue": queue,\n    "functions": ['
        + ", ".join(names)
        + '],\n    "concurrency": 10,\n}'
    )
    sites = []
    for name in names:
        if w.rng.random() < 0.6:
            sites.append(
                f'    await queue.enqueue("{name}", item_id=item_id, '
                f"retries={w.rng.randint(2, 6)}, retry_delay={w.rng.choice((1, 5, 30))})"
            )
            w.row("saq", name, path, "enqueue")
    if sites:
        tasks.append("async def schedule_all(item_id: int) -> None:\n" + "\n".join(sites))
    return head, tasks


def _django_q2(w: _Writer, module: str, path: str, helpers: list[_Callable]) -> _Written:
    head = [
        "from django_q.models import Schedule",
        "from django_q.tasks import async_task, schedule",
    ]
    tasks = []
    sites = []
    for _ in range(w.rng.randint(2, 4)):
        name = w.name()
        tasks.append(f"def {name}(item_id: int) -> None:\n{_task_body(w, helpers)}")
        form = w.form("django-q2", 3)
        dotted = f"{module}.{name}"
        if form == 0:
            sites.append(f'    async_task("{dotted}", item_id)')
        elif form == 1:
            sites.append(f"    async_task({name}, item_id, group={name!r})")
        else:
            sites.append(f'    schedule("{dotted}", item_id, schedule_type=Schedule.DAILY)')
        w.row("django-q2", dotted, path, "enqueue")
    tasks.append("def queue_all(item_id: int) -> None:\n" + "\n".join(sites))
    return head, tasks


def _temporal(w: _Writer, module: str, path: str, helpers: list[_Callable]) -> _Written:
    head = [
        "from datetime import timedelta",
        "",
        "from temporalio import activity, workflow",
        "from temporalio.common import RetryPolicy",
    ]
    tasks = []
    calls = []
    for _ in range(w.rng.randint(2, 4)):
        name = w.name()
        body = _task_body(w, helpers)
        activity_name = name
        if w.rng.random() < 0.3:
            activity_name = f"{module.split('.')[1]}-{name.replace('_', '-')}"
            decorator = f'@activity.defn(name="{activity_name}")'
        else:
            decorator = "@activity.defn"
        tasks.append(f"{decorator}\nasync def {name}(item_id: int) -> None:\n{body}")
        w.row("temporal", activity_name, path)
        arguments = [
            name,
            "item_id",
            f"start_to_close_timeout=timedelta(seconds={w.rng.choice((10, 30, 60))})",
        ]
        form = w.form("temporal", 3)
        if form == 0:
            arguments.append(
                f"retry_policy=RetryPolicy(maximum_attempts={w.rng.randint(2, 10)}, "
                f"initial_interval=timedelta(seconds={w.rng.choice((1, 2, 5))}), "
                "backoff_coefficient=2.0)"
            )
        elif form == 2:
            arguments.append(f"retry_policy=RetryPolicy(maximum_attempts={w.rng.randint(1, 4)})")
        listed = "".join(f"            {a},\n" for a in arguments)
        calls.append(f"        await workflow.execute_activity(\n{listed}        )")
        w.row("temporal", activity_name, path, "enqueue")
    cls = _camel(w.name())
    tasks.append(
        f"@workflow.defn\nclass {cls}Workflow:\n    @workflow.run\n"
        f"    async def run(self, item_id: int) -> None:\n" + "\n".join(calls)
    )
    return head, tasks


def _tenacity(w: _Writer, module: str, path: str, helpers: list[_Callable]) -> _Written:
    head = [
        "import requests",
        "from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential",
    ]
    tasks = []
    for _ in range(w.rng.randint(2, 3)):
        name = w.name()
        a = w.rng.choice(_NOUNS)
        tasks.append(
            f"@retry(\n    stop=stop_after_attempt({w.rng.randint(2, 6)}),\n"
            f"    wait=wait_exponential(multiplier=1, max={w.rng.choice((10, 30))}),\n"
            "    retry=retry_if_exception_type(requests.ConnectionError),\n)\n"
            f"def {name}(item_id: int) -> dict[str, Any]:\n"
            f'    response = requests.get(f"https://{a}.example.com/{{item_id}}", timeout=5)\n'
            "    response.raise_for_status()\n    return response.json()"
        )
        w.row("tenacity", f"{module}.{name}", path)
        w.starters.append(_Callable(module, name, "{name}({arg})"))
    return head, tasks


def _backoff(w: _Writer, module: str, path: str, helpers: list[_Callable]) -> _Written:
    head = ["import backoff", "import requests"]
    tasks = []
    for _ in range(w.rng.randint(2, 3)):
        name = w.name()
        a = w.rng.choice(_NOUNS)
        if w.rng.random() < 0.5:
            limit = f"max_tries={w.rng.randint(2, 8)}"
        else:
            limit = f"max_time={w.rng.choice((30, 60, 300))}"
        tasks.append(
            f"@backoff.on_exception(backoff.expo, requests.RequestException, {limit})\n"
            f"def {name}(item_id: int) -> dict[str, Any]:\n"
            f'    response = requests.post("https://{a}.example.com/", json={{"id": item_id}})\n'
            "    response.raise_for_status()\n    return response.json()"
        )
        w.row("backoff", f"{module}.{name}", path)
        w.starters.append(_Callable(module, name, "{name}({arg})"))
    return head, tasks


def _stamina(w: _Writer, module: str, path: str, helpers: list[_Callable]) -> _Written:
    head = ["import httpx", "import stamina"]
    tasks = []
    for _ in range(w.rng.randint(2, 3)):
        name = w.name()
        a = w.rng.choice(_NOUNS)
        tasks.append(
            f"@stamina.retry(on=httpx.HTTPError, attempts={w.rng.randint(2, 6)})\n"
            f"def {name}(item_id: int) -> dict[str, Any]:\n"
            f'    response = httpx.get(f"https://{a}.example.com/{{item_id}}")\n'
            "    response.raise_for_status()\n    return response.json()"
        )
        w.row("stamina", f"{module}.{name}", path)
        w.starters.append(_Callable(module, name, "{name}({arg})"))
    return head, tasks


_TASK_WRITERS: dict[str, Callable[[_Writer, str, str, list[_Callable]], _Written]] = {
    "celery": _celery,
    "dramatiq": _dramatiq,
    "rq": _rq,
    "huey": _huey,
    "arq": _arq,
    "taskiq": _taskiq,
    "procrastinate": _procrastinate,
    "saq": _saq,
    "django-q2": _django_q2,
    "temporal": _temporal,
    "tenacity": _tenacity,
    "backoff": _backoff,
    "stamina": _stamina,
}
# retrylint's framework keys, in the order task files are handed out.
FRAMEWORKS: tuple[str, ...] = (*_TASK_WRITERS, "asynq")
_TASK_MODULES = {
    "celery": "tasks",
    "dramatiq": "actors",
    "rq": "jobs",
    "huey": "queued",
    "arq": "worker",
    "taskiq": "background",
    "procrastinate": "deferred",
    "saq": "saq_jobs",
    "django-q2": "async_jobs",
    "temporal": "activities",
    "tenacity": "clients",
    "backoff": "gateways",
    "stamina": "remotes",
}

_SETUP = {
    "shop/settings.py": (
        '"""Django settings of the shop."""\n\n'
        'INSTALLED_APPS = ["django_q", "procrastinate.contrib.django", "shop.billing"]\n\n'
        "# The ORM broker redelivers a failed task after `retry` seconds, four runs at most.\n"
        'Q_CLUSTER = {"name": "shop", "orm": "default", "max_attempts": 4, "retry": 300, '
        '"timeout": 240}\n'
    ),
    "shop/queues/celery_app.py": (
        "from celery import Celery\n\n"
        'app = Celery("shop", broker="redis://localhost:6379/0")\n'
        "app.conf.update(task_acks_late=False, worker_prefetch_multiplier=1)\n"
    ),
    "shop/queues/dramatiq_broker.py": (
        "import dramatiq\nfrom dramatiq.brokers.redis import RedisBroker\n\n"
        'broker = RedisBroker(url="redis://localhost:6379/1")\n'
        "dramatiq.set_broker(broker)\n"
    ),
    "shop/queues/rq_queue.py": (
        "from redis import Redis\nfrom rq import Queue\n\n"
        'redis = Redis.from_url("redis://localhost:6379/2")\n'
        "queue = Queue(connection=redis)\n"
    ),
    "shop/queues/huey_app.py": 'from huey import RedisHuey\n\nhuey = RedisHuey("shop")\n',
    "shop/queues/taskiq_broker.py": (
        "from taskiq import SmartRetryMiddleware\nfrom taskiq_redis import ListQueueBroker\n\n"
        'broker = ListQueueBroker("redis://localhost:6379/3").with_middlewares(\n'
        "    SmartRetryMiddleware(default_retry_count=5, use_jitter=True)\n)\n"
    ),
    "shop/queues/procrastinate_app.py": (
        "import procrastinate\n\n"
        "app = procrastinate.App(connector=procrastinate.PsycopgConnector())\n"
    ),
    "shop/queues/saq_queue.py": (
        'from saq import Queue\n\nqueue = Queue.from_url("redis://localhost:6379/4")\n'
    ),
}

_GO_MOD = (
    "module example.com/synth/services\n\ngo 1.22\n\nrequire github.com/hibiken/asynq v0.25.1\n"
)
_GO_TASK_HEAD = """// Package {package} builds, enqueues and handles its asynq tasks.
package {package}

import (
\t"context"
\t"encoding/json"
\t"fmt"
\t"time"

\t"github.com/hibiken/asynq"
)
"""
_GO_HANDLER = """
// Handle{camel} reads the payload; a malformed one is not worth a retry.
func Handle{camel}(ctx context.Context, t *asynq.Task) error {{
\tvar p map[string]int
\tif err := json.Unmarshal(t.Payload(), &p); err != nil {{
\t\treturn fmt.Errorf("bad payload: %v: %w", err, asynq.SkipRetry)
\t}}
\treturn nil
}}
"""
_GO_FORMS = (
    # The task carries its budget (the constructor of asynq's README).
    """
// New{camel}Task builds the task with its own retry budget.
func New{camel}Task(id int) (*asynq.Task, error) {{
\tpayload, err := json.Marshal(map[string]int{{"id": id}})
\tif err != nil {{
\t\treturn nil, err
\t}}
\treturn asynq.NewTask(Type{camel}, payload, asynq.MaxRetry({n})), nil
}}

// Enqueue{camel} puts the task on the default queue.
func Enqueue{camel}(ctx context.Context, client *asynq.Client, id int) error {{
\ttask, err := New{camel}Task(id)
\tif err != nil {{
\t\treturn err
\t}}
\t_, err = client.EnqueueContext(ctx, task, asynq.Queue("default"), asynq.Timeout(time.Minute))
\treturn err
}}
"""
    + _GO_HANDLER,
    # The budget is an enqueue option.
    """
// Enqueue{camel} sets the budget where the task is enqueued.
func Enqueue{camel}(client *asynq.Client, payload []byte) error {{
\t_, err := client.Enqueue(asynq.NewTask(Type{camel}, payload), asynq.MaxRetry({n}))
\treturn err
}}
"""
    + _GO_HANDLER,
    # No budget anywhere: asynq's default of 25.
    """
// Enqueue{camel} relies on asynq's default retry budget.
func Enqueue{camel}(ctx context.Context, client *asynq.Client) error {{
\t_, err := client.EnqueueContext(ctx, asynq.NewTask(Type{camel}, nil))
\treturn err
}}
"""
    + _GO_HANDLER,
)
_GO_WORKER = """// Command worker serves every task type of the shop.
package main

import (
\t"time"

\t"github.com/hibiken/asynq"

{imports})

func retryDelay(n int, e error, t *asynq.Task) time.Duration {{
\treturn time.Duration(n*n) * 10 * time.Second
}}

func main() {{
\tmux := asynq.NewServeMux()
{routes}

\tsrv := asynq.NewServer(asynq.RedisClientOpt{{Addr: "localhost:6379"}}, asynq.Config{{
\t\tConcurrency:    10,
\t\tRetryDelayFunc: retryDelay,
\t}})
\tif err := srv.Run(mux); err != nil {{
\t\tpanic(err)
\t}}
}}
"""
_GO_BLOCKS = (
    """// {Name} is a record of the service.
type {Name} struct {{
\tID      int
\tLabel   string
\tTags    []string
\tWeight  float64
}}

// Heavy says whether the record needs the slow path.
func (r *{Name}) Heavy() bool {{
\treturn r.Weight > {n} && r.Label != ""
}}

// Key is the record's sort key.
func (r *{Name}) Key() string {{
\treturn fmt.Sprintf("%s-%d", strings.ToLower(r.Label), r.ID)
}}
""",
    """// Sum{Name} totals the values above the threshold.
func Sum{Name}(values map[string]int, threshold int) (int, error) {{
\tif threshold < 0 {{
\t\treturn 0, errors.New("negative threshold")
\t}}
\tkeys := make([]string, 0, len(values))
\tfor k := range values {{
\t\tkeys = append(keys, k)
\t}}
\tsort.Strings(keys)
\ttotal := 0
\tfor _, k := range keys {{
\t\tif values[k] > threshold {{
\t\t\ttotal += values[k] * {n}
\t\t}}
\t}}
\treturn total, nil
}}
""",
    """// Validate{Name} lists what is wrong with the input.
func Validate{Name}(label string, count int) []string {{
\tvar problems []string
\tif strings.TrimSpace(label) == "" {{
\t\tproblems = append(problems, "label is required")
\t}}
\tif count < 0 || count > {n}00 {{
\t\tproblems = append(problems, fmt.Sprintf("count %d out of range", count))
\t}}
\treturn problems
}}
""",
)
