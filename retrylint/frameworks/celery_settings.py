"""What a Celery app's configuration says, read the way Celery layers it.

Where Celery reads a setting (celery/app/base.py, app/utils.py): `Celery(broker=...)`,
`app.conf.x = ...` and `app.conf.update(...)` are the app's own changes and beat its config
module (`config_from_object`, `config_source=`), whose names are the new lower-case ones or the
old upper-case ones (app/defaults.py `old=`), or with a namespace the prefixed upper-case new
ones (`CELERY_TASK_ACKS_LATE` in Django settings). The app's own changes are written at module
top level or in the app factory: the configuration scopes the Celery adapter lists once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from retrylint.frameworks.base import AdapterContext, source_of
from retrylint.model import Location, Source
from retrylint.python import ir
from retrylint.python.evaluate import Unknown, Value, location_of
from retrylint.python.project import base_of

# The settings retrylint reads (celery/app/defaults.py), by new name, with the old name
# Celery still accepts in a config module without namespace.
SETTINGS: dict[str, str] = {
    "broker_url": "BROKER_URL",
    "broker_transport_options": "BROKER_TRANSPORT_OPTIONS",
    "task_annotations": "CELERY_ANNOTATIONS",
    "task_acks_late": "CELERY_ACKS_LATE",
    "task_reject_on_worker_lost": "CELERY_REJECT_ON_WORKER_LOST",
    "task_acks_on_failure_or_timeout": "CELERY_ACKS_ON_FAILURE_OR_TIMEOUT",
    "task_publish_retry": "CELERY_TASK_PUBLISH_RETRY",
    "task_publish_retry_policy": "CELERY_TASK_PUBLISH_RETRY_POLICY",
}
_NAMES = {**{new: new for new in SETTINGS}, **{old: new for new, old in SETTINGS.items()}}
# Attribute names the Celery adapter must keep from function bodies (factories), and the
# Django-namespace names that mark a settings file.
ATTRIBUTES = frozenset(
    {*_NAMES, "CELERY_BROKER_URL", *(f"CELERY_{new.upper()}" for new in SETTINGS)}
)

Setting = tuple[Value, Location, Source, str]


@dataclass
class AppSettings:
    """The settings written for one app, strongest layer first.

    `own` holds the app's own changes (`Celery(broker=)`, `app.conf.x = `, `conf.update`),
    `modules` what its config modules say; each is a list of (setting, value, module)."""

    creation: Location | None
    module: ir.ModuleSummary | None = None  # where the app is created, to evaluate `[assume]`
    own: list[tuple[str, ir.Expr, ir.ModuleSummary]] = field(default_factory=list)
    modules: list[tuple[str, ir.Expr, ir.ModuleSummary]] = field(default_factory=list)


def collect(
    ctx: AdapterContext,
    settings: AppSettings,
    call: ir.Call | None,
    module: ir.ModuleSummary | None,
    writes: Iterable[tuple[ir.Binding | ir.Call, ir.ModuleSummary]],
    config_modules: Sequence[tuple[str, str]],
) -> None:
    """Fill `settings` from the app's creation call, the writes to its `conf`, and the modules
    it is configured from (`(module, namespace)`, `django.conf.settings` included)."""
    if call is not None and module is not None:
        broker = call.kwarg("broker")
        if broker is not None:
            settings.own.append(("broker_url", broker, module))
    for write, where in writes:
        if isinstance(write, ir.Binding):
            attr = write.target.rpartition(".")[2]
            key = setting_key(attr, "")
            if key is not None:
                settings.own.append((key, write.value, where))
            continue
        for kw in write.kwargs:
            key = setting_key(kw.name or "", "")
            if key is not None:
                settings.own.append((key, kw.value, where))
        for arg in write.args:
            target, at = ctx.evaluator.deref(arg, where)
            if isinstance(target, ir.DictExpr):
                for k, v in target.items:
                    if isinstance(k, ir.Const) and isinstance(k.value, str):
                        key = setting_key(k.value, "")
                        if key is not None:
                            settings.own.append((key, v, at))
    django = ctx.settings.settings_module
    for named, namespace in config_modules:
        name = django if named == "django.conf.settings" else named
        # Imported from where the app is made: that service's own module in a monorepo.
        near = base_of(module) if module is not None else None
        config = ctx.project.module(name, near) if name else None
        if config is None:
            continue
        bound: set[str] = set()
        for binding in config.bindings:
            key = setting_key(binding.target, namespace)
            if key is not None:
                settings.modules.append((key, binding.value, config))
                bound.add(binding.target)
        # Settings split over modules (`from .base import *`) are found where they are bound.
        for name in _names(namespace) - bound:
            found = ctx.project.resolve(config, name)
            key = setting_key(name, namespace)
            if key and found is not None and found.kind == "binding" and found.binding:
                at = found.module or config
                settings.modules.append((key, found.binding.value, at))


def _names(namespace: str) -> set[str]:
    """Every name a setting retrylint reads can have in a config module."""
    if namespace:
        return {f"{namespace}_{new.upper()}" for new in SETTINGS}
    return set(_NAMES)


def setting_key(name: str, namespace: str) -> str | None:
    """The setting (its new lower-case name) a name written in configuration sets, else None.

    Without a namespace Celery takes the new name or the old upper-case one; with one (Django's
    `namespace="CELERY"`) only the prefixed new name in upper case (app/utils.py
    `detect_settings`: "always use new format if prefix is used")."""
    if namespace:
        prefix = f"{namespace}_"
        if not name.startswith(prefix):
            return None
        lowered = name[len(prefix) :].lower()
        return lowered if lowered in SETTINGS else None
    return _NAMES.get(name)


def written(app: AppSettings, key: str) -> tuple[ir.Expr, ir.ModuleSummary, bool] | None:
    """The write Celery uses for `key` (the app's own, else the config modules'), and whether
    it is undecided: writes of one layer in one module follow each other, so the last one
    wins; writes in several modules that differ are undecided (which runs last is not in the
    code)."""
    for layer in (app.own, app.modules):
        writes = [(expr, module) for k, expr, module in layer if k == key]
        if not writes:
            continue
        expr, module = max(writes, key=lambda w: (w[1].path, w[0].span.line, w[0].span.column))
        texts = {e.text for e, _ in writes}
        return expr, module, len(texts) > 1 and len({m.path for _, m in writes}) > 1
    return None


def setting(ctx: AdapterContext, app: AppSettings, key: str) -> Setting | None:
    """The value Celery uses for `key`, where it is written and how it is known."""
    found = written(app, key)
    if found is None:
        return None
    expr, module, undecided = found
    location = location_of(module, expr.span)
    if undecided:
        return Unknown(expr.text, location), location, "undecided", expr.text
    value = ctx.evaluator.eval(expr, module)
    return value, location, source_of(value, "config"), expr.text


# Module-level or factory-body statements, and how a receiver name there maps to an app.
Scope = tuple[
    Iterable[ir.Binding], Iterable[ir.Call], ir.ModuleSummary, Callable[[str], str | None]
]


def conf_writes(
    scopes: Iterable[Scope],
) -> Iterator[tuple[str, ir.Binding | ir.Call, ir.ModuleSummary]]:
    """`app.conf.broker_url = ...` and `app.conf.update(...)`, with the app each writes to."""
    for bindings, calls, module, app_of in scopes:
        for binding in bindings:
            receiver, _, attr = binding.target.rpartition(".")
            if setting_key(attr, "") is not None and receiver.endswith(".conf"):
                app = app_of(receiver[: -len(".conf")])
                if app is not None:
                    yield app, binding, module
        for call in calls:
            if not isinstance(call.func, ir.Ref):
                continue
            receiver, _, method = call.func.dotted.rpartition(".")
            if method == "update" and receiver.endswith(".conf"):
                app = app_of(receiver[: -len(".conf")])
                if app is not None:
                    yield app, call, module
