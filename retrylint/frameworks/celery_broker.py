"""The broker a Celery app talks to, and its visibility timeout (RL205), read like Celery does.

A Celery retry (`self.retry(countdown=...)`, autoretry) publishes a new message with an ETA; a
worker takes it at once and holds it *unacknowledged* until the ETA (celery/worker/strategy.py:
`call_at(eta, apply_eta_task)`; the early ack happens when the task starts,
worker/request.py `on_accepted`), whatever `acks_late` says. On kombu's Redis and SQS
transports a message unacknowledged for longer than the visibility timeout is handed to another
worker (kombu/transport/redis.py `QoS.restore_visible`; SQS's own visibility timeout), so a retry
delay above the timeout runs the task twice. kombu @ 9ee8595 (5.6.2+):
- Redis (`redis://`, `rediss://`, `sentinel://`, `redis+socket://`): `Channel.visibility_timeout =
  3600`;
- SQS (`sqs://`): `Channel.default_visibility_timeout = 1800`, given to the queues kombu creates
  (`_new_queue`); a queue that already exists keeps its own, and `predefined_queues` are never
  created, so with those the timeout lives in AWS (undecided). AWS accepts at most 12 h;
- every other transport (AMQP, memory, filesystem, ...) has none: RabbitMQ's `consumer_timeout`
  is a server setting (rabbitmq.conf) retrylint cannot read.

Where Celery reads the settings (celery/app/base.py, app/utils.py): `Celery(broker=...)`,
`app.conf.broker_url = ...` and `app.conf.update(...)` are the app's own changes and beat a
config module (`config_from_object`, `config_source=`; old upper-case names `BROKER_URL`,
`BROKER_TRANSPORT_OPTIONS`; with a namespace, `CELERY_BROKER_URL` in Django settings). The
`CELERY_BROKER_URL` environment variable beats them all; retrylint cannot see it, so a broker
written nowhere is undecided rather than the AMQP default.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from retrylint.frameworks.base import AdapterContext, source_of
from retrylint.frameworks.celery_settings import AppSettings, Setting, setting
from retrylint.model import Location, Provenance, Redelivery
from retrylint.python import ir
from retrylint.python.evaluate import Known, Unknown, number

# URL schemes (kombu/transport/__init__.py TRANSPORT_ALIASES) whose transport redelivers an
# unacknowledged message after a visibility timeout, with kombu's default for it.
_REDIS = ("Redis", 3600.0, "kombu's Redis transport: Channel.visibility_timeout", None)
_SQS = (
    "SQS",
    1800.0,
    "kombu's SQS transport: Channel.default_visibility_timeout",
    43200.0,  # AWS's maximum visibility timeout, 12 h
)
_TRANSPORTS: dict[str, tuple[str, float, str, float | None]] = {
    "redis": _REDIS,
    "rediss": _REDIS,
    "sentinel": _REDIS,
    "redis+socket": _REDIS,
    "sqs": _SQS,
}
# The smallest default above: a delay at or below it is safe whatever the broker is, so an
# undecided broker only matters for longer delays.
_SAFE_DELAY = min(default for _, default, _, _ in _TRANSPORTS.values())


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the settings say: a redelivering broker with its timeout, nothing (a broker with
    no visibility timeout), or the expression that could not be read together with the longest
    delay that is safe whatever it turns out to be."""

    redelivery: Redelivery | None = None
    unknown: Unknown | None = None
    safe_up_to: float = 0.0

    def safe(self) -> float:
        if self.redelivery is not None:
            return self.redelivery.timeout_seconds
        return self.safe_up_to if self.unknown is not None else math.inf


def verdict(ctx: AdapterContext, apps: Sequence[AppSettings], anchor: Location) -> Verdict:
    """The broker of a task bound to `apps` (a shared task is bound to each app there is)."""
    if not apps:
        return Verdict(unknown=Unknown("CELERY_BROKER_URL", anchor), safe_up_to=_SAFE_DELAY)
    found = [_one(ctx, app, anchor) for app in apps]
    if all(f == found[0] for f in found):
        return found[0]
    unknown = next((f.unknown for f in found if f.unknown is not None), None)
    return Verdict(
        unknown=unknown or Unknown("broker_url (the apps disagree)", anchor),
        safe_up_to=min(f.safe() for f in found),
    )


def _one(ctx: AdapterContext, app: AppSettings, anchor: Location) -> Verdict:
    url = setting(ctx, app, "broker_url")
    options = setting(ctx, app, "broker_transport_options")
    timeout = _timeout(options)
    # An explicit timeout holds on any broker that has one; unset, the smallest default does.
    safe = _SAFE_DELAY if timeout is None else 0.0
    if isinstance(timeout, tuple):
        safe = timeout[0]
    if url is None:
        url = _environment(ctx, app, anchor)
    value, location, source, text = url
    if not (isinstance(value, Known) and isinstance(value.value, str)):
        unknown = value if isinstance(value, Unknown) else Unknown(text, location)
        return Verdict(unknown=unknown, safe_up_to=safe)
    # `a;b` lists failover URLs of one transport.
    schemes = {part.partition("://")[0].strip().lower() for part in value.value.split(";")}
    transports = {_TRANSPORTS.get(scheme) for scheme in schemes}
    if len(transports) > 1:
        return Verdict(unknown=Unknown(text, location), safe_up_to=safe)
    known = transports.pop()
    if known is None:
        return Verdict()
    broker, default, note, limit = known
    broker_from = Provenance(source, location, f"broker_url {value.value!r}")
    if options is not None and broker == "SQS" and _has(options, "predefined_queues"):
        text = "broker_transport_options['predefined_queues']"
        return Verdict(unknown=Unknown(text, options[1]))
    if isinstance(timeout, Unknown):
        return Verdict(unknown=timeout)
    if timeout is None:
        prov = Provenance("default", None, f"{note} = {default:g}")
        return Verdict(Redelivery(broker, default, prov, broker_from, limit))
    seconds, prov = timeout
    return Verdict(Redelivery(broker, seconds, prov, broker_from, limit))


def _environment(ctx: AdapterContext, app: AppSettings, anchor: Location) -> Setting:
    """A broker written nowhere: Celery reads the `CELERY_BROKER_URL` environment variable
    before its AMQP default (app/utils.py `broker_url`), so it is undecided unless assumed."""
    location = app.creation or anchor
    text = "CELERY_BROKER_URL"
    if app.module is not None:
        span = ir.Span(location.line, location.column, location.end_line, location.end_column)
        value = ctx.evaluator.eval(ir.Ref(text, text, span), app.module)
        if isinstance(value, Known) and value.assumed:
            return value, location, "assumed", text
    return Unknown(text, location), location, "undecided", text


def _timeout(options: Setting | None) -> tuple[float, Provenance] | Unknown | None:
    """`broker_transport_options['visibility_timeout']`: seconds, undecided, or None (unset)."""
    if options is None:
        return None
    value, location, source, text = options
    if isinstance(value, Unknown):
        return value
    if not (isinstance(value, Known) and isinstance(value.value, dict)):
        return Unknown(text, location)
    item = value.value.get("visibility_timeout")
    if item is None:
        return None
    seconds = number(item) if isinstance(item, Known | Unknown) else None
    if isinstance(item, Known) and isinstance(item.value, str):
        # kombu converts with `int(float(timeout))` (SQS) or uses it as a number (Redis).
        try:
            seconds = float(item.value)
        except ValueError:
            seconds = None
    if seconds is None:
        return item if isinstance(item, Unknown) else Unknown(text, location)
    written = source_of(item, source) if isinstance(item, Known | Unknown) else source
    note = f"broker_transport_options visibility_timeout={seconds:g}"
    return float(seconds), Provenance(written, location, note)


def _has(options: Setting, key: str) -> bool:
    value = options[0]
    return isinstance(value, Known) and isinstance(value.value, dict) and key in value.value
