"""asynq (Go): every form of the reference §11 and §14, asserted field by field.

Expected values were worked out by hand from asynq's source (master 785bb72): `MaxRetry`
default 25 and negative read as 0 (client.go), options merged task-then-enqueue with the last
of each type winning, `DefaultRetryDelayFunc` = n⁴ + 15 + rand.IntN(30)·(n + 1) seconds (upper
bound n⁴ + 15 + 29·(n + 1)), exact-then-longest-prefix routing (servemux.go).

Delays of the fixture's servers (seconds, upper bounds):
- worker/: min(10·2ⁿ, 3600) + 4      → 14, 24, 44, 84, 164, 324, 644, 1284, 2564, 3604, ...
- workers/fixed: 30                  → fixed, no jitter
- workers/linear: 60·(n + 1)         → 60, 120, 180
- workers/shift: 2 << n              → 2, 4, 8, 16, 32
- workers/custom: depends on the error (a field of it) → custom, undecided
- workers/plain: DefaultRetryDelayFunc → 44, 74, 118, ... (25 retries: 1,772,820 s)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from retrylint.model import EffectivePolicy
from tests.conftest import FIXTURES, analyze, write_project

_A = "archived in queue `{}` (kept 90 days, at most 10,000 per queue)"
_HANDLER = "archived in its queue (kept 90 days, at most 10,000 per queue)"
_SKIP = "; SkipRetry at worker/main.go:59 archives at once"
_REVOKE = "; RevokeTask at worker/main.go:72 drops it without archiving"
_W = (14, 24, 44, 84, 164, 324, 644, 1284, 2564) + (3604,) * 16
_D = (44, 74, 118, 212, 416, 814, 1514, 2648, 4372, 6866, 10334, 15004, 21128, 28982, 38866)
_D += (51104, 66044, 84058, 105542, 130916, 160624, 195134, 234938, 280552, 332516)
U = "undecided"

# (name, site, path:line) → (trigger, max_retries, backoff, jitter, delays, window,
#                            max_retries source, final failure)
EXPECTED: dict[tuple[str, str, str], tuple[Any, ...]] = {
    ('<os.Getenv("TASK_TYPE")>', "enqueue", "producer/main.go:53"): (
        "automatic", 2, U, U, None, U, "explicit", _A.format("default")),
    ("audit:write", "enqueue", "producer/main.go:75"): (
        "automatic", 6, "exponential", True, _W[:6], 654, "explicit", _A.format("default")),
    ("audit:write", "definition", "worker/main.go:26"): (
        None, None, "exponential", True, None, U, U, _HANDLER),
    ("custom:", "definition", "workers/custom/main.go:27"): (
        None, None, "custom", U, None, U, U, _HANDLER),
    ("custom:audit", "enqueue", "producer/main.go:65"): (
        "automatic", U, "custom", U, None, U, U, _A.format("default")),
    ("custom:refund", "enqueue", "producer/main.go:64"): (
        "automatic", 4, "custom", U, None, U, "explicit", _A.format("default")),
    ("email:deliver", "enqueue", "producer/main.go:31"): (
        "automatic", 5, "exponential", True, _W[:5], 330, "explicit",
        _A.format("default") + _SKIP),
    ("email:deliver", "enqueue", "producer/main.go:34"): (
        "automatic", 8, "exponential", True, _W[:8], 2582, "explicit",
        _A.format("default") + _SKIP),
    ("email:deliver", "definition", "worker/main.go:23"): (
        None, None, "exponential", True, None, U, U, _HANDLER + _SKIP),
    ("fixed:", "definition", "workers/fixed/main.go:13"): (
        None, None, "fixed", False, None, U, U, _HANDLER),
    ("fixed:ping", "enqueue", "producer/main.go:47"): (
        "automatic", 4, "fixed", False, (30,) * 4, 120, "explicit", _A.format("default")),
    ("fixed:weekly", "enqueue", "producer/schedule.go:16"): (
        "automatic", 1, "fixed", False, (30,), 30, "explicit", _A.format("default")),
    ("image:resize", "enqueue", "producer/main.go:42"): (
        "automatic", 3, "exponential", True, _W[:3], 82, "explicit",
        _A.format("critical") + _REVOKE),
    ("image:resize", "definition", "worker/main.go:24"): (
        None, None, "exponential", True, None, U, U, _HANDLER + _REVOKE),
    ("legacy:sync", "definition", "worker/main.go:27"): (
        None, None, "exponential", True, None, U, U, _HANDLER),
    ("linear:sync", "enqueue", "producer/main.go:56"): (
        "automatic", 0, None, None, (), 0, "explicit", _A.format("default")),
    ("linear:sync", "enqueue", "producer/main.go:57"): (
        "automatic", 3, "linear", False, (60, 120, 180), 360, "explicit", _A.format("default")),
    ("linear:sync", "definition", "workers/linear/main.go:12"): (
        None, None, "linear", False, None, U, U, _HANDLER),
    ("newsletter:send", "enqueue", "tasks/email.go:26"): (
        "automatic", 2, U, U, None, U, "explicit", _A.format("default")),
    ("orphan:type", "enqueue", "producer/main.go:72"): (
        "automatic", 1, U, U, None, U, "explicit", _A.format("default")),
    ("plain:job", "enqueue", "producer/main.go:68"): (
        "automatic", 3, "exponential", True, _D[:3], 236, "explicit", _A.format("default")),
    ("plain:job", "enqueue", "producer/main.go:69"): (
        "automatic", 25, "exponential", True, _D, 1772820, "default", _A.format("default")),
    ("plain:job", "definition", "workers/plain/main.go:12"): (
        None, None, "exponential", True, None, U, U, _HANDLER),
    ("report:", "definition", "worker/main.go:25"): (
        None, None, "exponential", True, None, U, U, _HANDLER),
    ("report:daily", "enqueue", "producer/main.go:50"): (
        "automatic", 25, "exponential", True, _W, 62810, "default", _A.format("default")),
    ("report:hourly", "enqueue", "producer/main.go:78"): (
        "automatic", 2, "exponential", True, _W[:2], 38, "explicit", _A.format("reports")),
    ("report:monthly", "enqueue", "producer/schedule.go:7"): (
        "automatic", 2, "exponential", True, _W[:2], 38, "explicit", _A.format("default")),
    ("report:weekly", "enqueue", "producer/main.go:78"): (
        "automatic", 1, "exponential", True, _W[:1], 14, "explicit", _A.format("reports")),
    ("report:yearly", "enqueue", "producer/schedule.go:15"): (
        "automatic", 25, "exponential", True, _W, 62810, "default", _A.format("default")),
    ("shift:bulk", "enqueue", "producer/main.go:60"): (
        "automatic", "unbounded", "exponential", False, None, "unbounded", "explicit",
        _A.format("default")),
    ("shift:bulk", "enqueue", "producer/main.go:61"): (
        "automatic", 5, "exponential", False, (2, 4, 8, 16, 32), 62, "explicit",
        _A.format("default")),
    ("shift:bulk", "definition", "workers/shift/main.go:30"): (
        None, None, "exponential", False, None, U, U, _HANDLER),
}  # fmt: skip
FIELDS = ("retry_trigger", "max_retries", "backoff", "jitter", "delays_seconds", "window_seconds")


def _key(row: EffectivePolicy) -> tuple[str, str, str]:
    name = row.name or f"<{row.name_expression}>"
    return (name, row.site, f"{row.location.path}:{row.location.line}")


@pytest.fixture(scope="module")
def report() -> Any:
    return analyze(FIXTURES / "asynq")


@pytest.fixture(scope="module")
def rows(report: Any) -> dict[tuple[str, str, str], EffectivePolicy]:
    return {_key(r): r for r in report.rows if r.framework == "asynq"}


def test_every_site_and_handler_is_found(rows: dict[tuple[str, str, str], Any]) -> None:
    assert sorted(rows) == sorted(EXPECTED)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_effective_policy(rows: dict[tuple[str, str, str], Any], key: tuple[str, str, str]) -> None:
    row = rows[key]
    *values, count_source, final_failure = EXPECTED[key]
    assert tuple(getattr(row, f) for f in FIELDS) == tuple(values)
    assert row.sources["max_retries"].source == count_source
    assert row.final_failure == final_failure
    assert row.framework == "asynq" and row.framework_version == "0.25.1"  # from go.mod
    assert set(row.sources) == {"max_retries", "backoff", "jitter", "delays", "window"}


def test_columns_count_characters(rows: dict[tuple[str, str, str], Any]) -> None:
    row = rows[("email:deliver", "enqueue", "producer/main.go:31")]
    assert (row.location.column, row.location.end_line) == (2, 31)
    # The PeriodicTaskConfig element without a type is located at its braces.
    assert rows[("report:yearly", "enqueue", "producer/schedule.go:15")].location.column == 3


def test_provenance_of_counts_and_delays(rows: dict[tuple[str, str, str], Any]) -> None:
    override = rows[("email:deliver", "enqueue", "producer/main.go:34")].sources
    assert override["max_retries"].location is not None
    assert (override["max_retries"].location.path, override["max_retries"].location.line) == (
        "producer/main.go",
        34,
    )
    # The constructor's MaxRetry(5) is where the first site's budget comes from.
    constructor = rows[("email:deliver", "enqueue", "producer/main.go:31")].sources["max_retries"]
    assert constructor.location is not None and constructor.location.path == "tasks/email.go"
    # A negative budget is read as 0, and says so.
    negative = rows[("linear:sync", "enqueue", "producer/main.go:56")].sources["max_retries"]
    assert negative.note == "MaxRetry(-1) is read as 0"
    huge = rows[("shift:bulk", "enqueue", "producer/main.go:60")].sources["max_retries"]
    assert "never runs out" in huge.note
    default = rows[("plain:job", "enqueue", "producer/main.go:69")].sources
    assert default["max_retries"].location is None and "25" in default["max_retries"].note
    assert default["delays"].source == "default"
    assert "DefaultRetryDelayFunc" in default["delays"].note
    # A delay function in another file of the worker's package.
    linear = rows[("linear:sync", "enqueue", "producer/main.go:57")].sources["delays"]
    assert linear.source == "explicit" and "workers/linear/delay.go:10" in linear.note
    # Without a handler the server cannot be chosen among several.
    orphan = rows[("orphan:type", "enqueue", "producer/main.go:72")].sources["backoff"]
    assert orphan.source == "undecided" and "several asynq servers" in orphan.note


def test_undecided_values_are_quoted(rows: dict[tuple[str, str, str], Any]) -> None:
    def quoted(key: tuple[str, str, str]) -> list[tuple[str, str, str, int]]:
        return [
            (u.field, u.expression, u.location.path, u.location.line) for u in rows[key].undecided
        ]

    assert quoted(('<os.Getenv("TASK_TYPE")>', "enqueue", "producer/main.go:53")) == [
        ("name", 'os.Getenv("TASK_TYPE")', "producer/main.go", 53)
    ]
    assert quoted(("custom:audit", "enqueue", "producer/main.go:65")) == [
        ("backoff", "retryAfter.After", "workers/custom/main.go", 20),
        ("max_retries", "loadConfig().Retries", "producer/main.go", 65),
    ]
    assert rows[("custom:audit", "enqueue", "producer/main.go:65")].name is not None
    assert rows[('<os.Getenv("TASK_TYPE")>', "enqueue", "producer/main.go:53")].name is None


def _findings(report: Any) -> set[tuple[str, str, int, str | None]]:
    return {(f.rule, f.location.path, f.location.line, f.task) for f in report.findings}


def test_observations_and_rules(report: Any) -> None:
    found = _findings(report)
    # IsFailure of the main worker: every site its handlers take, none elsewhere.
    rl105 = sorted((p, line, t) for rule, p, line, t in found if rule == "RL105")
    assert rl105 == [
        ("producer/main.go", 31, "email:deliver"),
        ("producer/main.go", 34, "email:deliver"),
        ("producer/main.go", 42, "image:resize"),
        ("producer/main.go", 50, "report:daily"),
        ("producer/main.go", 75, "audit:write"),
        ("producer/main.go", 78, "report:hourly"),
        ("producer/main.go", 78, "report:weekly"),
        ("producer/schedule.go", 7, "report:monthly"),
        ("producer/schedule.go", 15, "report:yearly"),
    ]
    message = next(f.message for f in report.findings if f.rule == "RL105")
    assert "`isFailure` at worker/main.go:53" in message
    assert ("RL404", "producer/main.go", 72, "orphan:type") in found
    # A built-but-never-enqueued task is not "enqueued without handler".
    assert not any(r == "RL404" and t == "newsletter:send" for r, _, _, t in found)
    assert ("RL101", "producer/main.go", 60, "shift:bulk") in found
    # asynq's default of 25 is outside the built-in policy: RL102 reports it (and says it is the
    # default), so RL103 does not report the same count again (CONTRACTS §6).
    assert ("RL102", "producer/main.go", 69, "plain:job") in found
    assert ("RL103", "producer/main.go", 69, "plain:job") not in found
    assert ("RL203", "producer/main.go", 69, "plain:job") in found
    assert ("RL201", "producer/main.go", 47, "fixed:ping") in found
    assert ("RL202", "producer/main.go", 57, "linear:sync") in found
    assert ("RL102", "producer/schedule.go", 15, "report:yearly") in found
    # Handler rows get no retry verdict, and a site that never retries gets none either.
    assert not any(p.startswith("worker") and r.startswith("RL1") for r, p, _, _ in found)
    assert not any(line == 56 and p == "producer/main.go" for _, p, line, _ in found)
    # An undecided enqueue name might produce anything: no RL405 for legacy:sync.
    assert not any(r == "RL405" for r, _, _, _ in found)


def test_go_suppression_comment(report: Any) -> None:
    # `// retrylint: ignore[RL102] ...` on the report:daily line (asynq's default of 25 is
    # out of policy; RL103 does not report the same default again).
    assert report.suppressed == 1
    assert ("RL102", "producer/main.go", 50, "report:daily") not in _findings(report)
    assert not any(r == "RL001" and line == 50 for r, _, line, _ in _findings(report))


def test_net_http_muxes_are_not_handlers(rows: dict[tuple[str, str, str], Any]) -> None:
    assert not any(name.startswith("/") for name, _, _ in rows)


# -- small projects ------------------------------------------------------------------------


def _project(tmp_path: Path, files: dict[str, str]) -> Any:
    return analyze(write_project(tmp_path, files))


def _by_name(report: Any) -> dict[str, EffectivePolicy]:
    return {r.name or f"<{r.name_expression}>": r for r in report.rows if r.site == "enqueue"}


SERVER = """
    mux := asynq.NewServeMux()
    mux.HandleFunc("a:", h)
    srv := asynq.NewServer(asynq.RedisClientOpt{}, asynq.Config{})
    srv.Run(mux)
"""


def test_dot_import_and_iota_constants(tmp_path: Path) -> None:
    report = _project(
        tmp_path,
        {
            "main.go": """
                package main

                import . "github.com/hibiken/asynq"

                const (
                    none = iota
                    three
                    kind = "a:" + "job"
                )

                func main() {
                    c := NewClient(RedisClientOpt{})
                    c.Enqueue(NewTask(kind, nil, MaxRetry(three+1)))
                }
            """
        },
    )
    row = _by_name(report)["a:job"]
    assert row.max_retries == 2
    assert row.delays_seconds == (44, 74)  # no server in the project: asynq's default


def test_option_slices_appends_and_helpers(tmp_path: Path) -> None:
    report = _project(
        tmp_path,
        {
            "main.go": """
                package main

                import (
                    "time"

                    "github.com/hibiken/asynq"
                )

                func retryOpts() []asynq.Option {
                    return []asynq.Option{asynq.MaxRetry(7), asynq.Timeout(time.Minute)}
                }

                func retry(n int) asynq.Option { return asynq.MaxRetry(n * 2) }

                func main() {
                    c := asynq.NewClient(asynq.RedisClientOpt{})
                    base := retryOpts()
                    base = append(base, asynq.Queue("low"))
                    c.Enqueue(asynq.NewTask("a:slice", nil), base...)
                    c.Enqueue(asynq.NewTask("a:helper", nil), retry(3))
                    var none []asynq.Option
                    c.Enqueue(asynq.NewTask("a:nil", nil, asynq.MaxRetry(1)), none...)
                    more := append([]asynq.Option{}, asynq.MaxRetry(2))
                    if false {
                        more = append(more, asynq.MaxRetry(50))
                    }
                    c.Enqueue(asynq.NewTask("a:dead-branch", nil), more...)
                }
            """
        },
    )
    rows = _by_name(report)
    assert rows["a:slice"].max_retries == 7
    assert rows["a:slice"].final_failure.startswith("archived in queue `low`")
    assert rows["a:helper"].max_retries == 6
    assert rows["a:nil"].max_retries == 1
    assert rows["a:dead-branch"].max_retries == 2


def test_wrapper_rows_sit_at_each_call(tmp_path: Path) -> None:
    report = _project(
        tmp_path,
        {
            "queue/queue.go": """
                package queue

                import "github.com/hibiken/asynq"

                type Queue struct{ client *asynq.Client }

                func (q *Queue) Send(kind string, opts ...asynq.Option) error {
                    _, err := q.client.Enqueue(asynq.NewTask(kind, nil), opts...)
                    return err
                }
            """,
            "app/app.go": """
                package app

                import (
                    "github.com/hibiken/asynq"

                    "example.com/x/queue"
                )

                func run(q *queue.Queue) {
                    q.Send("a:one", asynq.MaxRetry(1))
                    q.Send("a:two")
                }
            """,
            "go.mod": "module example.com/x\n",
        },
    )
    rows = {(r.name, r.location.path, r.location.line) for r in report.rows}
    assert rows == {("a:one", "app/app.go", 10), ("a:two", "app/app.go", 11)}
    counts = {r.name: r.max_retries for r in report.rows}
    assert counts == {"a:one": 1, "a:two": 25}


def test_wrapper_without_callers_is_undecided(tmp_path: Path) -> None:
    report = _project(
        tmp_path,
        {
            "main.go": """
                package main

                import "github.com/hibiken/asynq"

                func Send(c *asynq.Client, kind string) {
                    c.Enqueue(asynq.NewTask(kind, nil, asynq.MaxRetry(2)))
                }
            """
        },
    )
    (row,) = report.rows
    assert (row.name, row.name_expression, row.max_retries) == (None, "kind", 2)
    assert [(u.field, u.expression) for u in row.undecided] == [("name", "kind")]
    assert any(f.rule == "RL002" for f in report.findings)


def test_assume_decides_a_count(tmp_path: Path) -> None:
    report = _project(
        tmp_path,
        {
            "main.go": """
                package main

                import "github.com/hibiken/asynq"

                func main() {
                    c := asynq.NewClient(asynq.RedisClientOpt{})
                    c.Enqueue(asynq.NewTask("a:x", nil, asynq.MaxRetry(settings.Retries)))
                }
            """,
            "retrylint.toml": '[assume]\n"settings.Retries" = 4\n',
        },
    )
    (row,) = report.rows
    assert row.max_retries == 4 and row.sources["max_retries"].source == "assumed"


@pytest.mark.parametrize(
    ("body", "backoff", "jitter", "delays"),
    [
        ("return 5 * time.Second", "fixed", False, (5, 5, 5, 5)),
        ("return time.Duration(n*n) * time.Second", "custom", False, (0, 1, 4, 9)),
        ("return time.Duration(math.Pow(3, float64(n))) * time.Second", "exponential", False,
         (1, 3, 9, 27)),
        ("return time.Second << n * time.Duration(1+rand.Intn(2))", "exponential", True,
         (2, 4, 8, 16)),
        ("return time.Second<<n + time.Duration(rand.Intn(3))*time.Second", "custom", True,
         (3, 4, 6, 10)),
        ("d := time.Duration(n+1) * time.Minute\n\tif d > 2*time.Minute {\n\t\td = 2 * "
         "time.Minute\n\t}\n\treturn d", "linear", False, (60, 120, 120, 120)),
        ("return min(time.Duration(n)*time.Second, 2*time.Second)", "linear", False, (0, 1, 2, 2)),
    ],
)  # fmt: skip
def test_delay_functions_are_classified(
    tmp_path: Path, body: str, backoff: str, jitter: bool, delays: tuple[int, ...]
) -> None:
    source = (
        'package main\n\nimport (\n\t"context"\n\t"math"\n\t"math/rand"\n\t"time"\n\n'
        '\t"github.com/hibiken/asynq"\n)\n\nvar _ = math.Pi\nvar _ = rand.Intn\n\n'
        "func delay(n int, e error, t *asynq.Task) time.Duration {\n\t" + body + "\n}\n\n"
        "func h(ctx context.Context, t *asynq.Task) error { return nil }\n\n"
        "func main() {\n"
        '\tasynq.NewClient(asynq.RedisClientOpt{}).Enqueue(asynq.NewTask("a:x", nil, '
        "asynq.MaxRetry(4)))\n"
        "\tmux := asynq.NewServeMux()\n"
        '\tmux.HandleFunc("a:", h)\n'
        "\tsrv := asynq.NewServer(asynq.RedisClientOpt{}, asynq.Config{RetryDelayFunc: delay})\n"
        "\tsrv.Run(mux)\n}\n"
    )
    (tmp_path / "main.go").write_text(source, encoding="utf-8")
    row = _by_name(analyze(tmp_path))["a:x"]
    assert (row.backoff, row.jitter, row.delays_seconds) == (backoff, jitter, delays)


def test_is_failure_needs_a_budget_and_a_real_function(tmp_path: Path) -> None:
    report = _project(
        tmp_path,
        {
            "main.go": """
                package main

                import (
                    "context"
                    "errors"

                    "github.com/hibiken/asynq"
                )

                func h(ctx context.Context, t *asynq.Task) error { return nil }

                func main() {
                    c := asynq.NewClient(asynq.RedisClientOpt{})
                    c.Enqueue(asynq.NewTask("a:zero", nil, asynq.MaxRetry(0)))
                    c.Enqueue(asynq.NewTask("a:some", nil, asynq.MaxRetry(2)))
                    mux := asynq.NewServeMux()
                    mux.HandleFunc("a:", h)
                    srv := asynq.NewServer(asynq.RedisClientOpt{}, asynq.Config{
                        IsFailure: func(e error) bool { return !errors.Is(e, context.Canceled) },
                    })
                    srv.Run(mux)
                    plain := asynq.NewServeMux()
                    plain.HandleFunc("b:", h)
                    other := asynq.NewServer(asynq.RedisClientOpt{}, asynq.Config{
                        IsFailure: func(err error) bool { return err != nil },
                    })
                    other.Run(plain)
                    c.Enqueue(asynq.NewTask("b:counted", nil, asynq.MaxRetry(2)))
                }
            """
        },
    )
    rl105 = [(f.task, f.message) for f in report.findings if f.rule == "RL105"]
    assert [task for task, _ in rl105] == ["a:some"]
    assert "a function literal at main.go:19" in rl105[0][1]


def test_inventory_rules_need_the_whole_project(tmp_path: Path) -> None:
    files = {
        "svc/main.go": """
            package main

            import (
                "context"

                "github.com/hibiken/asynq"
            )

            func h(ctx context.Context, t *asynq.Task) error { return nil }

            func main() {
                c := asynq.NewClient(asynq.RedisClientOpt{})
                c.Enqueue(asynq.NewTask("a:typo", nil, asynq.MaxRetry(1)))
                mux := asynq.NewServeMux()
                mux.HandleFunc("a:real", h)
                asynq.NewServer(asynq.RedisClientOpt{}, asynq.Config{}).Run(mux)
            }
        """
    }
    root = write_project(tmp_path, files)
    whole = {(f.rule, f.task) for f in analyze(root).findings}
    assert {("RL404", "a:typo"), ("RL405", "a:real")} <= whole
    part = {f.rule for f in analyze(root, [root / "svc"]).findings}
    assert not part & {"RL404", "RL405"}


def test_prefix_routing_prefers_the_longest_pattern(tmp_path: Path) -> None:
    report = _project(
        tmp_path,
        {
            "main.go": """
                package main

                import (
                    "context"
                    "time"

                    "github.com/hibiken/asynq"
                )

                func h(ctx context.Context, t *asynq.Task) error { return nil }

                func main() {
                    c := asynq.NewClient(asynq.RedisClientOpt{})
                    c.Enqueue(asynq.NewTask("img:resize:big", nil, asynq.MaxRetry(1)))
                    short := asynq.NewServeMux()
                    short.HandleFunc("img:", h)
                    long := asynq.NewServeMux()
                    long.HandleFunc("img:resize:", h)
                    fixed := func(int, error, *asynq.Task) time.Duration { return time.Second }
                    asynq.NewServer(asynq.RedisClientOpt{}, asynq.Config{}).Run(short)
                    cfg := asynq.Config{RetryDelayFunc: fixed}
                    asynq.NewServer(asynq.RedisClientOpt{}, cfg).Run(long)
                }
            """
        },
    )
    row = _by_name(report)["img:resize:big"]
    assert (row.backoff, row.delays_seconds) == ("fixed", (1,))


def test_unparsable_go_file_is_rl000(tmp_path: Path) -> None:
    report = _project(
        tmp_path,
        {
            "bad.go": """
                package main

                import "github.com/hibiken/asynq"

                func main() {
                    asynq.NewClient(asynq.RedisClientOpt{}).Enqueue(
                }
            """
        },
    )
    (finding,) = [f for f in report.findings if f.rule == "RL000"]
    assert finding.location.path == "bad.go" and finding.location.line >= 6
    assert "syntax error" in finding.message
    assert report.files_skipped == 1


def test_suppression_codes_and_reasons(tmp_path: Path) -> None:
    report = _project(
        tmp_path,
        {
            "main.go": """
                package main

                import "github.com/hibiken/asynq"

                func main() {
                    c := asynq.NewClient(asynq.RedisClientOpt{})
                    // retrylint: ignore[rl102, RL202] the default is reviewed
                    c.Enqueue(asynq.NewTask("a:x", nil))
                    c.Enqueue(asynq.NewTask("a:y", nil)) // retrylint: ignore[RL102]
                }
            """
        },
    )
    rules = {(f.rule, f.task, f.location.line) for f in report.findings}
    # asynq's default of 25 is out of the built-in policy: RL102 (RL103 would repeat it).
    assert ("RL102", "a:x", 8) not in rules and ("RL103", "a:x", 8) not in rules
    assert ("RL003", None, 9) in rules  # no reason given
    assert report.suppressed == 2


def test_go_rows_beside_python_rows(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from retrylint.cli import app

    write_project(
        tmp_path,
        {
            "tasks.py": """
                from celery import shared_task

                @shared_task(autoretry_for=(OSError,), max_retries=2)
                def sync():
                    pass
            """,
            "worker/main.go": """
                package main

                import "github.com/hibiken/asynq"

                func main() {
                    c := asynq.NewClient(asynq.RedisClientOpt{})
                    c.Enqueue(asynq.NewTask("email:deliver", nil, asynq.MaxRetry(3)))
                }
            """,
        },
    )
    runner = CliRunner()
    result = runner.invoke(app, ["inventory", str(tmp_path), "--format", "json"])
    document = json.loads(result.stdout)
    frameworks = {(row["name"], row["framework"], row["site"]) for row in document["tasks"]}
    assert frameworks == {
        ("email:deliver", "asynq", "enqueue"),
        ("tasks.sync", "celery", "definition"),
    }
    text = runner.invoke(app, ["inventory", str(tmp_path)]).stdout
    assert "email:deliver" in text and "tasks.sync" in text


def test_very_deep_expressions_are_undecided_not_a_crash(tmp_path: Path) -> None:
    chain = " + ".join(['"x"'] * 3000)
    nested = "(" * 400 + "1" + ")" * 400
    (tmp_path / "main.go").write_text(
        'package main\n\nimport "github.com/hibiken/asynq"\n\n'
        f"const k = {chain}\n\nfunc main() {{\n"
        "\tc := asynq.NewClient(asynq.RedisClientOpt{})\n"
        f"\tc.Enqueue(asynq.NewTask(k, nil, asynq.MaxRetry({nested})))\n}}\n",
        encoding="utf-8",
    )
    (row,) = analyze(tmp_path).rows
    assert (row.name, row.name_expression, row.max_retries) == (None, "k", "undecided")
