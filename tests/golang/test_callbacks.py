"""asynq tasks that reach `Enqueue` through parameters: a `*asynq.Task`, a task type string, a
variadic list of tasks, a builder callback (`func() *asynq.Task`, with or without an error), a
slice of builders walked in a loop, a method value, and wrappers over an interface.

Expected values follow asynq's option merge (client.go `Enqueue`: the enqueue options are
appended after the task's and the last of each type wins; `MaxRetry` defaults to 25). Each row
sits at the outermost call that decides it, and a constructor whose task is enqueued that way
gets no row of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retrylint.model import EffectivePolicy
from tests.conftest import FIXTURES, analyze, write_project

_A = "archived in queue `{}` (kept 90 days, at most 10,000 per queue)"
_ANY = "archived in its queue (kept 90 days, at most 10,000 per queue)"
_MAIN = "cmd/relay/main.go"
_UNKNOWN = "builders[os.Args[1]]"

# (name, line in cmd/relay/main.go) → (column, max_retries, max_retries source, final failure)
EXPECTED: dict[tuple[str, int], tuple[Any, ...]] = {
    (f"<{_UNKNOWN}>", 37): (2, "undecided", "undecided", _ANY),
    ("bulk:a", 21): (2, 2, "explicit", _A.format("default")),
    ("bulk:b", 21): (2, 2, "explicit", _A.format("default")),
    ("email:send", 17): (2, 3, "explicit", _A.format("default")),
    ("email:welcome", 19): (2, 3, "explicit", _A.format("default")),
    ("event:created", 24): (2, 6, "explicit", _A.format("events")),
    ("event:deleted", 25): (2, 0, "explicit", _A.format("events")),
    ("event:paged", 26): (2, 1, "explicit", _A.format("urgent")),
    ("jobs:cleanup", 33): (2, 7, "explicit", _A.format("default")),
    ("media:transcode", 20): (2, 4, "explicit", _A.format("default")),
    ("report:weekly", 35): (2, 8, "explicit", _A.format("default")),
    ("sync:groups", 28): (2, 5, "explicit", _A.format("default")),
    ("sync:teams", 28): (2, 5, "explicit", _A.format("default")),
    ("sync:users", 28): (2, 5, "explicit", _A.format("default")),
}


@pytest.fixture(scope="module")
def rows() -> dict[tuple[str, int], EffectivePolicy]:
    report = analyze(FIXTURES / "asynq_callbacks")
    assert all(r.location.path == _MAIN for r in report.rows), "no row at a constructor"
    return {(r.name or f"<{r.name_expression}>", r.location.line): r for r in report.rows}


def test_every_call_site_is_found(rows: dict[tuple[str, int], EffectivePolicy]) -> None:
    assert sorted(rows) == sorted(EXPECTED)


@pytest.mark.parametrize("key", sorted(EXPECTED), ids=lambda k: f"{k[0]}@{k[1]}")
def test_each_row(rows: dict[tuple[str, int], EffectivePolicy], key: tuple[str, int]) -> None:
    row = rows[key]
    column, count, source, final_failure = EXPECTED[key]
    assert (row.site, row.location.column, row.max_retries) == ("enqueue", column, count)
    assert row.sources["max_retries"].source == source
    assert row.final_failure == final_failure
    assert row.framework_version == "0.26.0"


def test_provenance_points_at_the_deciding_option(
    rows: dict[tuple[str, int], EffectivePolicy],
) -> None:
    def where(key: tuple[str, int]) -> tuple[str, int]:
        location = rows[key].sources["max_retries"].location
        assert location is not None
        return (location.path, location.line)

    # The wrapper's own MaxRetry(3) wins over the task's MaxRetry(9).
    assert where(("email:welcome", 19)) == ("queue/queue.go", 9)
    # The caller's options come after the bus defaults.
    assert where(("event:deleted", 25)) == (_MAIN, 25)
    # A constructor handed over as a value keeps its own budget.
    assert where(("report:weekly", 35)) == ("jobs/jobs.go", 21)
    assert where(("jobs:cleanup", 33)) == ("jobs/jobs.go", 29)


def test_an_unknown_builder_is_quoted_where_the_caller_wrote_it(
    rows: dict[tuple[str, int], EffectivePolicy],
) -> None:
    row = rows[(f"<{_UNKNOWN}>", 37)]
    assert (row.name, row.name_expression) == (None, _UNKNOWN)
    # The task is unknown, so is any MaxRetry it carries: not asynq's default of 25.
    assert [(u.field, u.expression, u.location.path, u.location.line) for u in row.undecided] == [
        ("max_retries", _UNKNOWN, _MAIN, 37),
        ("name", _UNKNOWN, _MAIN, 37),
    ]


def _enqueues(tmp_path: Path, body: str, extra: str = "") -> dict[str, Any]:
    source = (
        'package main\n\nimport "github.com/hibiken/asynq"\n\n'
        + extra
        + "\nfunc main() {\n\tc := asynq.NewClient(asynq.RedisClientOpt{})\n"
        + body
        + "\n}\n"
    )
    report = analyze(write_project(tmp_path, {"main.go": source}))
    return {
        r.name or f"<{r.name_expression}>": (r.location.line, r.max_retries) for r in report.rows
    }


@pytest.mark.parametrize(
    ("body", "extra", "expected"),
    [
        pytest.param(
            '\tc.Enqueue(func() *asynq.Task { return asynq.NewTask("a:now", nil) }())',
            "",
            {"a:now": (8, 25)},
            id="literal-called-on-the-spot",
        ),
        pytest.param(
            '\tfor _, t := range []*asynq.Task{asynq.NewTask("a:one", nil), '
            'asynq.NewTask("a:two", nil, asynq.MaxRetry(1))} {\n\t\tc.Enqueue(t)\n\t}',
            "",
            {"a:one": (9, 25), "a:two": (9, 1)},
            id="loop-over-a-task-slice",
        ),
        pytest.param(
            '\tfor _, t := range map[string]*asynq.Task{"x": asynq.NewTask("a:map", nil)} '
            "{\n\t\tc.Enqueue(t, asynq.MaxRetry(2))\n\t}",
            "",
            {"a:map": (9, 2)},
            id="loop-over-map-values",
        ),
        pytest.param(
            "\tfor t := range queue {\n\t\tc.Enqueue(t, asynq.MaxRetry(2))\n\t}",
            "var queue = make(chan *asynq.Task)\n",
            {"<t>": (10, 2)},
            id="channel-undecided",
        ),
        pytest.param(
            "\tbuild := newTask\n\tc.Enqueue(build())",
            'func newTask() *asynq.Task { return asynq.NewTask("a:local", nil) }\n',
            {"a:local": (10, 25)},
            id="local-function-value",
        ),
    ],
)
def test_task_expressions(
    tmp_path: Path, body: str, extra: str, expected: dict[str, tuple[int, Any]]
) -> None:
    assert _enqueues(tmp_path, body, extra) == expected


def test_a_builder_without_callers_is_undecided(tmp_path: Path) -> None:
    report = analyze(
        write_project(
            tmp_path,
            {
                "main.go": """
                    package main

                    import "github.com/hibiken/asynq"

                    func Send(c *asynq.Client, build func() *asynq.Task) {
                        c.Enqueue(build(), asynq.MaxRetry(2))
                    }
                """
            },
        )
    )
    (row,) = report.rows
    # No caller decides the builder; the enqueue option still decides the budget.
    assert (row.name, row.name_expression, row.max_retries) == (None, "build", 2)
    assert [(u.field, u.expression) for u in row.undecided] == [("name", "build")]


@pytest.mark.parametrize(
    ("elsewhere", "count"),
    [("", 25), ("var budget = asynq.MaxRetry(40)\n", "undecided")],
    ids=["no-maxretry-in-the-project", "a-maxretry-somewhere"],
)
def test_an_unknown_task_keeps_the_default_only_when_nothing_sets_one(
    tmp_path: Path, elsewhere: str, count: Any
) -> None:
    header = 'package main\n\nimport "github.com/hibiken/asynq"\n\n'
    write_project(
        tmp_path,
        {
            "send.go": header
            + "func Send(c *asynq.Client, build func() *asynq.Task) {\n"
            + "\tc.Enqueue(build())\n}\n",
            "other.go": header + elsewhere,
        },
    )
    (row,) = analyze(tmp_path).rows
    assert (row.name_expression, row.max_retries) == ("build", count)


def test_an_interface_enqueuer_is_known_by_the_parameter_types(tmp_path: Path) -> None:
    # `Enqueue` on an interface of the project's own: a wrapper counts as an asynq enqueue
    # site when what it enqueues is declared as tasks (here builders of tasks returning an
    # error too). A parameter of any other type does not make one.
    report = analyze(
        write_project(
            tmp_path,
            {
                "main.go": """
                    package main

                    import "github.com/hibiken/asynq"

                    type Sender interface {
                        Enqueue(t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
                    }

                    type Maker func() (*asynq.Task, error)

                    type Job struct{ Name string }

                    func All(s Sender, makers []Maker) {
                        for _, make := range makers {
                            t, _ := make()
                            s.Enqueue(t, asynq.MaxRetry(1))
                        }
                    }

                    func Other(s Sender, j Job) { s.Enqueue(j) }

                    func one() (*asynq.Task, error) { return asynq.NewTask("a:one", nil), nil }

                    func main() {
                        var s Sender
                        All(s, []Maker{one})
                        Other(s, Job{Name: "x"})
                    }
                """
            },
        )
    )
    assert [(r.name, r.location.line, r.max_retries) for r in report.rows] == [("a:one", 26, 1)]
