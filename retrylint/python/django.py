"""Where `django.conf.settings` points: Django settings are plain module constants to us.

Several frameworks read their configuration from Django settings (Celery's
`CELERY_TASK_ANNOTATIONS`, django-q2's `Q_CLUSTER`). The settings module is the one named in the
policy, else the one a scanned module passes to `os.environ.setdefault("DJANGO_SETTINGS_MODULE",
...)`, as `manage.py`, `wsgi.py` and Celery app modules do.
"""

from __future__ import annotations

from collections.abc import Iterable

from retrylint.python import ir

SETTINGS = "django.conf.settings"


def settings_module(summaries: Iterable[ir.ModuleSummary]) -> str | None:
    found: set[str] = set()
    for summary in summaries:
        for call in summary.calls:
            if (
                isinstance(call.func, ir.Ref)
                and call.func.dotted.endswith("environ.setdefault")
                and len(call.args) == 2
                and isinstance(call.args[0], ir.Const)
                and call.args[0].value == "DJANGO_SETTINGS_MODULE"
                and isinstance(call.args[1], ir.Const)
                and isinstance(call.args[1].value, str)
            ):
                found.add(call.args[1].value)
    # Several candidates (per-environment settings) cannot be told apart statically.
    return found.pop() if len(found) == 1 else None
