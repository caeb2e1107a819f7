"""Celery: every declaration form and edge case of the reference §1, asserted field by field.

Expected values were worked out by hand from Celery 5.7's source (see the fixture's comments):
`max_retries` default 3, `default_retry_delay` 180 s, backoff `min(retry_backoff_max,
factor * 2**r)` with the factor truncated to an int, and the precedence of §1g/§14.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retrylint.model import EffectivePolicy
from tests.conftest import FIXTURES, analyze, rows_by_name, write_project

# name → (trigger, max_retries, backoff, jitter, delays, window, max_retries source, final failure)
EXPECTED: dict[str, tuple[Any, ...]] = {
    "classes.explicit": (
        "automatic",
        "unbounded",
        "fixed",
        False,
        None,
        "unbounded",
        "explicit",
        "nowhere",
    ),
    "custom.name": ("automatic", 3, "exponential", False, (2, 4, 8), 14, "default", "nowhere"),
    "proj.annotated.ClassBased": ("none", 0, None, None, (), 0, "default", "nowhere"),
    "proj.annotated.decorated": (
        "automatic",
        7,
        "fixed",
        False,
        (180,) * 7,
        1260,
        "config",
        "nowhere",
    ),
    "proj.annotated.switched_on": (
        "automatic",
        3,
        "exponential",
        True,
        (1, 2, 4),
        7,
        "default",
        "nowhere",
    ),
    # Two paths: autoretry (1, 2, 4 s, window 7) and self.retry (100 s once); delays and window
    # come from the longer window's path, count and kind from the worst path for each.
    "proj.bound.both": (
        "automatic+manual",
        3,
        "fixed",
        False,
        (100,),
        100,
        "explicit",
        "task_failure handler at proj/signals.py:7",
    ),
    "proj.bound.current": ("manual", 3, "fixed", False, (2, 2, 2), 6, "default", "nowhere"),
    "proj.bound.eta_retry": (
        "manual",
        3,
        "undecided",
        "undecided",
        None,
        "undecided",
        "default",
        "nowhere",
    ),
    "proj.bound.manual_default_delay": (
        "manual",
        3,
        "fixed",
        False,
        (180, 180, 180),
        540,
        "default",
        "nowhere",
    ),
    "proj.bound.manual_formula": (
        "manual",
        4,
        "exponential",
        False,
        (5, 10, 20, 40),
        75,
        "explicit",
        "nowhere",
    ),
    "proj.bound.manual_none_falls_back": (
        "manual",
        2,
        "fixed",
        False,
        (1, 1),
        2,
        "explicit",
        "nowhere",
    ),
    "proj.bound.manual_override": ("manual", 8, "fixed", False, (1,) * 8, 8, "explicit", "nowhere"),
    "proj.bound.manual_unbounded": (
        "manual",
        "unbounded",
        "fixed",
        False,
        None,
        "unbounded",
        "explicit",
        "nowhere",
    ),
    "proj.bound.options_through_self": (
        "manual",
        5,
        "exponential",
        False,
        (30, 60, 120, 240, 480),
        930,
        "explicit",
        "nowhere",
    ),
    "proj.bound.jitter_via_local": (
        "manual",
        2,
        "fixed",
        True,
        (15, 15),
        30,
        "explicit",
        "nowhere",
    ),
    "proj.bound.random_countdown": (
        "manual",
        3,
        "fixed",
        True,
        (60, 60, 60),
        180,
        "default",
        "nowhere",
    ),
    "proj.bound.via_helper": ("manual", 3, "fixed", False, (10, 10, 10), 30, "default", "nowhere"),
    "proj.classes.Inheriting": (
        "automatic",
        5,
        "fixed",
        False,
        (60,) * 5,
        300,
        "inherited",
        "on_failure at proj/bases.py:12",
    ),
    "proj.classes.guarded": ("manual", 3, "fixed", False, (15, 15, 15), 45, "default", "nowhere"),
    "proj.classes.inert_base": ("none", 0, None, None, (), 0, "default", "nowhere"),
    "proj.classes.ViaAppTask": ("manual", 2, "fixed", False, (60, 60), 120, "explicit", "nowhere"),
    "proj.classes.base_overridden": (
        "automatic",
        1,
        "fixed",
        False,
        (60,),
        60,
        "explicit",
        "on_failure at proj/bases.py:12",
    ),
    "proj.classes.with_base": (
        "automatic",
        5,
        "exponential",
        True,
        (4, 8, 16, 32, 60),
        120,
        "inherited",
        "on_failure at proj/bases.py:12",
    ),
    "proj.loops.dead_lettered": (
        "automatic",
        3,
        "fixed",
        False,
        (180, 180, 180),
        540,
        "default",
        "rejected to the broker's dead-letter exchange (acks_on_failure_or_timeout=False)",
    ),
    "proj.loops.rejecting": ("none", 0, None, None, (), 0, "default", "nowhere"),
    "proj.loops.redelivered": ("none", 0, None, None, (), 0, "default", "nowhere"),
    "proj.loops.next_batch": ("none", 0, None, None, (), 0, "default", "nowhere"),
    "proj.loops.poll": ("none", 0, None, None, (), 0, "default", "nowhere"),
    "proj.loops.publish_forever": ("none", 0, None, None, (), 0, "default", "nowhere"),
    "proj.worker_lost.survives_crashes": (
        "automatic",
        2,
        "fixed",
        False,
        (180, 180),
        360,
        "explicit",
        "nowhere",
    ),
    "proj.current.on_current": (
        "automatic",
        4,
        "exponential",
        True,
        (5, 10, 20, 40),
        75,
        "explicit",
        "nowhere",
    ),
    "proj.current.polled": ("manual", 3, "fixed", False, (30, 30, 30), 90, "default", "nowhere"),
    "proj.decorators.aliased": (
        "automatic",
        6,
        "fixed",
        False,
        (180,) * 6,
        1080,
        "explicit",
        "nowhere",
    ),
    "proj.decorators.autoretry_default_count": (
        "automatic",
        3,
        "fixed",
        False,
        (180,) * 3,
        540,
        "default",
        "nowhere",
    ),
    "proj.decorators.bare": ("none", 0, None, None, (), 0, "default", "nowhere"),
    "proj.decorators.capped": (
        "automatic",
        4,
        "exponential",
        True,
        (1, 2, 3, 3),
        9,
        "explicit",
        "nowhere",
    ),
    "proj.decorators.forever": (
        "automatic",
        "unbounded",
        "fixed",
        False,
        None,
        "unbounded",
        "explicit",
        "nowhere",
    ),
    "proj.decorators.kwargs_none": (
        "automatic",
        3,
        "fixed",
        False,
        (5, 5, 5),
        15,
        "default",
        "nowhere",
    ),
    "proj.decorators.negative": ("automatic", 0, None, None, (), 0, "explicit", "nowhere"),
    "proj.decorators.options_without_trigger": ("none", 0, None, None, (), 0, "default", "nowhere"),
    "proj.decorators.partial_options": (
        "automatic",
        4,
        "exponential",
        True,
        (1, 2, 4, 8),
        15,
        "explicit",
        "nowhere",
    ),
    "proj.decorators.splatted": (
        "automatic",
        2,
        "exponential",
        True,
        (1, 2),
        3,
        "explicit",
        "nowhere",
    ),
    "resilience.job": (
        "manual",
        4,
        "exponential",
        True,
        (5, 10, 20, 40),
        75,
        "explicit",
        "nowhere",
    ),
    "proj.decorators.wrapped": (
        "automatic",
        3,
        "fixed",
        False,
        (1800,) * 3,
        5400,
        "explicit",
        "nowhere",
    ),
}
FIELDS = ("retry_trigger", "max_retries", "backoff", "jitter", "delays_seconds", "window_seconds")


def test_every_task_is_found(celery_fixture: dict[str, EffectivePolicy]) -> None:
    assert sorted(celery_fixture) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_effective_policy(celery_fixture: dict[str, EffectivePolicy], name: str) -> None:
    row = celery_fixture[name]
    *values, count_source, final_failure = EXPECTED[name]
    actual = tuple(getattr(row, f) for f in FIELDS)
    assert actual == tuple(values)
    assert row.sources["max_retries"].source == count_source
    assert row.final_failure == final_failure
    assert row.framework == "celery" and row.site == "definition"


def test_provenance_points_at_the_written_value(celery_fixture: dict[str, EffectivePolicy]) -> None:
    # Annotation in the config module, read through the factory's config_from_object().
    decorated = celery_fixture["proj.annotated.decorated"].sources["max_retries"]
    assert decorated.location is not None and decorated.location.path == "proj/celeryconfig.py"
    assert decorated.location.line == 3
    # base= class attribute in another file.
    with_base = celery_fixture["proj.classes.with_base"].sources["max_retries"]
    assert with_base.location is not None
    assert (with_base.location.path, with_base.location.line) == ("proj/bases.py", 9)
    # A Celery default has no location, only a note naming the default.
    default = celery_fixture["proj.bound.current"].sources["max_retries"]
    assert default.location is None and "max_retries=3" in default.note


def test_undecided_values_are_quoted(celery_fixture: dict[str, EffectivePolicy]) -> None:
    (eta,) = celery_fixture["proj.bound.eta_retry"].undecided
    assert (eta.field, eta.expression) == ("eta", "when")
    # A random draw has a known upper bound, which is what delays report.
    assert celery_fixture["proj.bound.random_countdown"].undecided == ()


def test_broad_trigger_is_located(celery_fixture: dict[str, EffectivePolicy]) -> None:
    (trigger,) = celery_fixture["custom.name"].broad_triggers
    assert trigger.exception == "Exception"
    assert (trigger.location.path, trigger.location.line) == ("proj/decorators.py", 44)


def test_inert_options_are_listed(celery_fixture: dict[str, EffectivePolicy]) -> None:
    row = celery_fixture["proj.decorators.options_without_trigger"]
    assert [name for name, _ in row.inert_options] == ["max_retries", "retry_backoff"]
    # Options of the task's own base class count too, located where the base writes them.
    ((name, location),) = celery_fixture["proj.classes.inert_base"].inert_options
    assert (name, location.path) == ("max_retries", "proj/bases.py")


def _one(tmp_path: Path, files: dict[str, str]) -> dict[str, EffectivePolicy]:
    return rows_by_name(analyze(write_project(tmp_path, files)))


def test_star_annotation_beats_the_task_entry(tmp_path: Path) -> None:
    rows = _one(
        tmp_path,
        {
            "app.py": """
                from celery import Celery
                app = Celery()
                app.conf.update(
                    task_annotations={"app.t": {"max_retries": 1}, "*": {"max_retries": 5}}
                )

                @app.task(autoretry_for=(OSError,))
                def t():
                    pass
            """
        },
    )
    assert rows["app.t"].max_retries == 5
    assert rows["app.t"].sources["max_retries"].source == "config"


def test_task_cls_string_and_django_settings(tmp_path: Path) -> None:
    rows = _one(
        tmp_path,
        {
            "proj/__init__.py": "",
            "proj/settings.py": """
                CELERY_TASK_ANNOTATIONS = {"proj.tasks.t": {"default_retry_delay": 7}}
            """,
            "proj/celery.py": """
                import os
                from celery import Celery
                os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
                app = Celery("proj", task_cls="proj.base:Base")
                app.config_from_object("django.conf:settings", namespace="CELERY")
            """,
            "proj/base.py": """
                from celery import Task
                class Base(Task):
                    max_retries = 2
            """,
            "proj/tasks.py": """
                from proj.celery import app

                @app.task(autoretry_for=(OSError,))
                def t():
                    pass
            """,
        },
    )
    row = rows["proj.tasks.t"]
    assert (row.max_retries, row.delays_seconds) == (2, (7, 7))
    assert row.sources["max_retries"].source == "inherited"
    assert row.sources["delays"].source == "config"


def test_app_is_recognised_by_type_not_by_name(tmp_path: Path) -> None:
    rows = _one(
        tmp_path,
        {
            "jobs.py": """
                from invoke import task
                import celery as c
                worker = c.Celery()

                @task
                def not_a_celery_task(ctx):
                    pass

                @worker.task(max_retries=1, autoretry_for=(OSError,))
                def real():
                    pass
            """
        },
    )
    assert sorted(rows) == ["jobs.real"]


def test_unreadable_base_class_is_undecided_not_default(tmp_path: Path) -> None:
    rows = _one(
        tmp_path,
        {
            "t.py": """
                from celery import shared_task
                from vendor_lib import SpecialTask

                @shared_task(base=SpecialTask, autoretry_for=(OSError,))
                def t():
                    pass
            """
        },
    )
    row = rows["t.t"]
    assert row.max_retries == "undecided"
    assert {u.expression for u in row.undecided} == {"SpecialTask"}
    assert "max_retries" in {u.field for u in row.undecided}


def test_assumed_value_keeps_its_provenance(tmp_path: Path) -> None:
    rows = _one(
        tmp_path,
        {
            "retrylint.toml": '[assume]\n"settings.RETRIES" = 4\n',
            "t.py": """
                from celery import shared_task
                from django.conf import settings

                @shared_task(autoretry_for=(OSError,), max_retries=settings.RETRIES)
                def t():
                    pass
            """,
        },
    )
    row = rows["t.t"]
    assert row.max_retries == 4 and row.sources["max_retries"].source == "assumed"
    assert row.undecided == ()


def test_name_computed_at_run_time_is_null_with_expression(tmp_path: Path) -> None:
    report = analyze(
        write_project(
            tmp_path,
            {
                "t.py": """
                    from celery import shared_task

                    @shared_task(name=f"{PREFIX}.t")
                    def t():
                        pass
                """
            },
        )
    )
    (row,) = report.rows
    assert row.name is None and row.name_expression == 'f"{PREFIX}.t"'


def test_requeue_loops_and_publish_retry_are_observed() -> None:
    report = analyze(FIXTURES / "celery")
    found = {
        (f.rule, f.task, f.location.line)
        for f in report.findings
        if f.rule in ("RL106", "RL107") and f.location.path == "proj/loops.py"
    }
    assert found == {
        ("RL106", "proj.loops.rejecting", 9),
        ("RL106", "proj.loops.redelivered", 12),
        ("RL106", "proj.loops.poll", 23),
        ("RL107", "proj.loops.poll", 36),
    }


def test_ignored_options_are_observed(tmp_path: Path) -> None:
    report = analyze(FIXTURES / "celery")
    annotated = [f for f in report.findings if f.rule == "RL503"]
    assert [(f.task, f.location.path) for f in annotated] == [
        ("proj.annotated.ClassBased", "proj/celeryconfig.py")
    ]
    project = write_project(
        tmp_path,
        {
            "requirements.txt": "celery==5.6.3\n",
            "t.py": """
                from celery import shared_task

                @shared_task(retry_on_worker_lost=True, autoretry_for=(OSError,), max_retries=2)
                def t():
                    pass
            """,
        },
    )
    report = analyze(project)
    (row,) = report.rows
    assert row.framework_version == "5.6.3"
    assert row.retry_trigger == "automatic" and row.delays_seconds == (180, 180)
    assert [(f.rule, f.location.line) for f in report.findings if f.rule == "RL503"] == [
        ("RL503", 3)
    ]


# -- names (CONTRACTS §3; fixtures/names/celery) --------------------------------------------

# (path, line) → (name, name_expression, undecided as (field, expression, path, line))
NAMES: dict[tuple[str, int], tuple[str | None, str | None, tuple[tuple[str, str, str, int], ...]]]
NAMES = {
    ("shop/tasks.py", 18): ("shop.tasks.default_rule", None, ()),
    ("shop/tasks.py", 23): ("orders.explicit", None, ()),
    ("shop/tasks.py", 28): ("none_name", None, ()),
    ("shop/tasks.py", 33): ("shop.tasks.empty_name", None, ()),
    ("shop/tasks.py", 38): ("bare_name", None, ()),
    ("shop/tasks.py", 43): ("shop.tasks/slashed", None, ()),
    ("shop/tasks.py", 48): ("job:shop.tasks.formatted_name", None, ()),
    ("shop/tasks.py", 53): ("jobs.delegated", None, ()),
    ("shop/tasks.py", 58): ("inherited_rule", None, ()),
    ("shop/tasks.py", 63): (
        None,
        "Trimmed.gen_task_name('trimmed_name', 'shop.tasks')",
        (("name", "module[:-6]", "shop/apps.py", 41),),
    ),
    ("shop/tasks.py", 68): (
        None,
        "Either.gen_task_name('branchy', 'shop.tasks')",
        (("name", '"other." + name', "shop/apps.py", 49),),
    ),
    ("shop/tasks.py", 73): ("same_either_way", None, ()),
    ("shop/tasks.py", 78): (
        None,
        "Shouting.gen_task_name('shouted', 'shop.tasks')",
        (("name", "name.upper()", "shop/apps.py", 61),),
    ),
    ("shop/classes.py", 13): ("reports.own", None, ()),
    ("shop/classes.py", 20): ("reports.base", None, ()),
    ("shop/classes.py", 25): ("Unnamed", None, ()),
    ("shop/classes.py", 32): ("shop.classes.PlainlyRegistered", None, ()),
    ("shop/__main__.py", 8): ("shop.from_main", None, ()),
}


@pytest.fixture(scope="module")
def celery_names() -> dict[tuple[str, int], EffectivePolicy]:
    report = analyze(FIXTURES / "names" / "celery")
    return {(row.location.path, row.location.line): row for row in report.rows}


def test_every_named_task_is_found(celery_names: dict[tuple[str, int], EffectivePolicy]) -> None:
    assert sorted(celery_names) == sorted(NAMES)


@pytest.mark.parametrize("where", sorted(NAMES))
def test_name_as_the_app_registers_it(
    celery_names: dict[tuple[str, int], EffectivePolicy], where: tuple[str, int]
) -> None:
    row = celery_names[where]
    name, expression, undecided = NAMES[where]
    assert (row.name, row.name_expression) == (name, expression)
    assert (
        tuple((u.field, u.expression, u.location.path, u.location.line) for u in row.undecided)
        == undecided
    )
    assert (row.framework, row.site, row.retry_trigger) == ("celery", "definition", "none")


def test_shared_task_follows_the_only_app_class(tmp_path: Path) -> None:
    """A shared task registers with every app; with one app in the project, its rule names it."""
    root = write_project(
        tmp_path,
        {
            "core/__init__.py": "",
            "core/worker.py": """
                from celery import Celery

                class Named(Celery):
                    def gen_task_name(self, name, module):
                        return "core." + name

                app = Named("core")
            """,
            "core/jobs.py": """
                from celery import shared_task

                @shared_task(max_retries=2, autoretry_for=(OSError,))
                def sync():
                    pass
            """,
        },
    )
    (row,) = analyze(root).rows
    assert (row.name, row.name_expression, row.undecided) == ("core.sync", None, ())
    assert row.max_retries == 2


def test_shared_task_with_disagreeing_apps_is_undecided(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "a.py": """
                from celery import Celery

                class Short(Celery):
                    def gen_task_name(self, name, module):
                        return name

                first = Short("first")
                second = Celery("second")
            """,
            "b.py": """
                from celery import shared_task

                @shared_task
                def job():
                    pass
            """,
        },
    )
    (row,) = analyze(root).rows
    assert row.name is None
    # The app whose name differs from the first app's is quoted, where it is created.
    assert row.name_expression == "Celery.gen_task_name('job', 'b')"
    ((field, expression, path, line),) = (
        (u.field, u.expression, u.location.path, u.location.line) for u in row.undecided
    )
    assert (field, expression, path, line) == ("name", row.name_expression, "a.py", 8)


def test_without_an_override_shared_tasks_keep_celerys_rule(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "a.py": """
                from celery import Celery

                first = Celery("first")
                second = Celery("second")
            """,
            "b.py": """
                from celery import shared_task

                @shared_task
                def job():
                    pass
            """,
        },
    )
    (row,) = analyze(root).rows
    assert (row.name, row.name_expression, row.undecided) == ("b.job", None, ())


def test_main_module_without_main_and_with_an_unknown_main(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "tool/__init__.py": "",
            "tool/__main__.py": """
                from celery import Celery

                anonymous = Celery()
                computed = Celery(NAME)

                @anonymous.task
                def first():
                    pass

                @computed.task
                def second():
                    pass
            """,
        },
    )
    rows = {row.location.line: row for row in analyze(root).rows}
    # No `main`: Celery keeps the `__main__` module name.
    assert (rows[7].name, rows[7].name_expression) == ("__main__.first", None)
    assert rows[11].name is None
    assert rows[11].name_expression == "Celery.gen_task_name('second', '__main__')"
    ((field, expression),) = ((u.field, u.expression) for u in rows[11].undecided)
    assert (field, expression) == ("name", "NAME")


def test_unreadable_app_base_leaves_the_name_undecided(tmp_path: Path) -> None:
    """A base class retrylint cannot read, ahead of Celery, may define gen_task_name."""
    root = write_project(
        tmp_path,
        {
            "app.py": """
                from celery import Celery
                from vendor_lib import NamingMixin

                class App(NamingMixin, Celery):
                    pass

                class Later(Celery, NamingMixin):  # Celery's method comes first
                    pass

                app = App("x")
                later = Later("y")

                @app.task
                def one():
                    pass

                @later.task
                def two():
                    pass
            """,
        },
    )
    rows = {row.location.line: row for row in analyze(root).rows}
    assert rows[14].name is None
    assert [(u.expression, u.location.line) for u in rows[14].undecided] == [("NamingMixin", 4)]
    assert rows[18].name == "app.two"


def test_name_in_an_f_string_of_constants_is_decided(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "t.py": """
                from celery import shared_task

                PREFIX = "jobs"
                VERSION = 2

                @shared_task(name=f"{PREFIX}.v{VERSION}.sync")
                def sync():
                    pass

                @shared_task(name=f"{PREFIX!r}.check")
                def check():
                    pass
            """
        },
    )
    rows = {row.location.line: row for row in analyze(root).rows}
    assert (rows[7].name, rows[7].name_expression) == ("jobs.v2.sync", None)
    # A conversion or a format spec is not computed.
    assert (rows[11].name, rows[11].name_expression) == (None, 'f"{PREFIX!r}.check"')
    assert [(u.field, u.expression) for u in rows[11].undecided] == [("name", "{PREFIX!r}")]


def test_base_and_task_cls_names_never_name_a_decorated_task(tmp_path: Path) -> None:
    """`_task_from_fun` passes the generated name to `type()`, over any `name` a base has."""
    root = write_project(
        tmp_path,
        {
            "w.py": """
                from celery import Celery, Task

                class Named(Task):
                    name = "base.name"

                app = Celery("w", task_cls=Named)

                @app.task
                def via_task_cls():
                    pass

                @app.task(base=Named)
                def via_base():
                    pass
            """,
        },
    )
    assert sorted(r.name or "" for r in analyze(root).rows) == ["w.via_base", "w.via_task_cls"]


def test_rebinding_in_gen_task_name_is_undecided(tmp_path: Path) -> None:
    """Any rebinding of a name the result depends on (`+=`, a loop) makes it control flow."""
    root = write_project(
        tmp_path,
        {
            "w.py": """
                from celery import Celery

                class Suffixed(Celery):
                    def gen_task_name(self, name, module):
                        name += ".v2"
                        return name

                class Looping(Celery):
                    def gen_task_name(self, name, module):
                        prefix = "a"
                        for prefix in ("b", "c"):
                            pass
                        return prefix + name

                first = Suffixed("first")
                second = Looping("second")

                @first.task
                def one():
                    pass

                @second.task
                def two():
                    pass
            """,
        },
    )
    rows = {row.location.line: row for row in analyze(root).rows}
    assert [(r.name, r.name_expression) for _, r in sorted(rows.items())] == [
        (None, "Suffixed.gen_task_name('one', 'w')"),
        (None, "Looping.gen_task_name('two', 'w')"),
    ]
    # Quoted where the rebinding (or the first of two bindings) is written.
    assert [(u.expression, u.location.line) for u in rows[19].undecided] == [('name += ".v2"', 5)]
    loop = 'for prefix in ("b", "c")'
    assert [(u.expression, u.location.line) for u in rows[23].undecided] == [(loop, 11)]
