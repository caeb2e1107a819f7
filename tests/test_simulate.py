"""`retrylint simulate`: the outage arithmetic against a hand computation and against a
message-by-message discrete-event simulation written here (independent of `retrylint.simulate`),
the CLI, rates and their precedence, the JSON schema, the chart and the golden outputs.

Regenerate the golden files after an intended change with
    RETRYLINT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_simulate.py -k golden
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import pytest
from typer.testing import CliRunner

from retrylint.cli import app
from retrylint.simulate.outage import MAX_RETRIES_IN_OUTAGE, simulate
from retrylint.simulate.render import chart
from tests.conftest import FIXTURES, REPO

OUTAGE = FIXTURES / "outage"
GOLDEN = Path(__file__).parent / "golden"
F = Fraction


@pytest.fixture(autouse=True)
def _golden_width(monkeypatch: pytest.MonkeyPatch) -> None:
    """The width the golden tables were made at (piped output was 160 columns then); the text
    renderers now follow `COLUMNS`, which conftest pins to 200."""
    monkeypatch.setenv("COLUMNS", "160")


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["simulate", *args, "--no-cache"], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _json(*args: str) -> dict[str, Any]:
    code, out, err = _run(*args, "--format", "json")
    assert code == 0, err
    document: dict[str, Any] = json.loads(out)
    return document


def _task(document: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(t for t in document["tasks"] if t["name"] == name)
    return found


@pytest.fixture(autouse=True)
def _at_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


# --- the hand computation ------------------------------------------------------------------
# fixtures/outage, 10 minutes (T = 600 s).
#
# billing.tasks.charge: 2/s, three fixed 60 s waits, no jitter. N = ⌈600·2⌉ = 1200 messages.
#   Offsets D = 0, 60, 120, 180; attempts = n(600) + n(540) + n(480) + n(420)
#   = 1200 + 1080 + 960 + 840 = 4080, 3.4 per message. Exhausted: messages enqueued before
#   T - 180 = 420 s, 840 of them. Backlog 360. Every second from 180 s on holds 2 messages at
#   each of the 4 offsets: a peak of 8/s first reached at 180 s. The last waiting retry is the
#   message of 599.5 s (or 479.5 s) retrying 60 s (180 s) later: 59.5 s after T.
# billing.tasks.refund: 1/s, waits of at most 1, 2, 4, 8, 16 s (Celery retry_backoff), full
#   jitter. N = 600. Longest waits: D = 0, 1, 3, 7, 15, 31, attempts 600 + 599 + 597 + 593 +
#   585 + 569 = 3543; exhausted 569, backlog 31; 6 attempts each second from 31 s on; the
#   message of 584 s retries last, at 584 + 31 = 615 s. Shortest waits (jitter draws 0 each
#   time): all six attempts at once, 3600 attempts, all 600 exhausted, a peak of 6/s at 0 s.
# billing.tasks.fetch_rates: tenacity's bare @retry never stops and never waits: infinite.


def test_fixture_numbers_match_the_hand_computation() -> None:
    document = _json(str(OUTAGE), "--outage", "10m")
    assert document["outage_seconds"] == 600
    assert document["bin_seconds"] == 1
    charge = _task(document, "billing.tasks.charge")
    assert charge["rate_source"] == "inventory"
    assert charge["longest_waits"] == charge["shortest_waits"]
    assert charge["longest_waits"] == {
        "messages": 1200,
        "attempts": 4080,
        "infinite": None,
        "amplification": 3.4,
        "amplification_exact": "17/5",
        "peak_attempts_per_second": 8,
        "peak_at_seconds": 180,
        "exhausted": 840,
        "backlog": 360,
        "backlog_drained_after_seconds": 59.5,
    }
    refund = _task(document, "billing.tasks.refund")
    assert refund["rate_exact"] == "1"
    longest, shortest = refund["longest_waits"], refund["shortest_waits"]
    assert (longest["attempts"], longest["exhausted"], longest["backlog"]) == (3543, 569, 31)
    assert (longest["peak_attempts_per_second"], longest["peak_at_seconds"]) == (6, 31)
    assert longest["backlog_drained_after_seconds"] == 15
    assert (shortest["attempts"], shortest["exhausted"], shortest["backlog"]) == (3600, 600, 0)
    assert (shortest["peak_attempts_per_second"], shortest["peak_at_seconds"]) == (6, 0)
    assert shortest["backlog_drained_after_seconds"] is None
    fetch = _task(document, "billing.tasks.fetch_rates")
    assert fetch["longest_waits"]["attempts"] is None
    assert "zero waits" in fetch["longest_waits"]["infinite"]
    critical = next(c for c in document["categories"] if c["name"] == "critical")
    assert critical["longest_waits"]["attempts"] == 4080 + 3543
    assert critical["shortest_waits"]["attempts"] == 4080 + 3600
    assert critical["longest_waits"]["peak_attempts_per_second"] == 14
    assert len(critical["longest_waits"]["attempts_per_bin"]) == 600
    assert sum(critical["longest_waits"]["attempts_per_bin"]) == 4080 + 3543
    assert document["total"]["longest_waits"]["attempts"] is None  # fetch_rates is infinite
    assert document["left_out"] == {"undecided": 1, "no_rate": 1}
    assert _task(document, "billing.tasks.reconcile")["status"] == "undecided"
    assert _task(document, "billing.tasks.send_invoice")["status"] == "no-rate"


# --- the discrete-event reference ------------------------------------------------------------


@dataclass
class Reference:
    messages: int
    attempts: int
    exhausted: int
    backlog: int
    drained_after: Fraction | None
    bins: list[int]


def discrete_events(
    wait: Callable[[int], Fraction], retries: int | None, rate: Fraction, outage: Fraction
) -> Reference:
    """Every message, every attempt, one at a time."""
    bins = [0] * math.ceil(outage)
    attempts = exhausted = backlog = 0
    drained: Fraction | None = None
    i = 0
    while Fraction(i) / rate < outage:
        t = Fraction(i) / rate
        done = 0
        while True:
            if t >= outage:
                backlog += 1
                drained = t - outage if drained is None else max(drained, t - outage)
                break
            attempts += 1
            bins[int(t)] += 1
            if retries is not None and done == retries:
                exhausted += 1
                break
            t += wait(done)
            done += 1
        i += 1
    return Reference(i, attempts, exhausted, backlog, drained, bins)


CASES = {
    "fixed, budget outlasts": (lambda r: F(60), 3, F(2), F(600)),
    "fixed, budget spent": (lambda r: F(7), 4, F(3), F(100)),
    "exponential capped, unbounded": (lambda r: F(min(2**r, 64)), None, F(1, 3), F(900)),
    "exponential, fractional rate": (lambda r: F(5, 2) * 2**r, 6, F(7, 4), F(200)),
    "milliseconds": (lambda r: F(r + 1, 1000) * 750, 12, F(9, 2), F(50)),
    "linear, slow rate": (lambda r: F(10 * (r + 1)), 8, F(1, 7), F(1000)),
    "no retries": (lambda r: F(1), 0, F(5), F(30)),
    "uneven outage": (lambda r: F(3), None, F(2), F(121, 2)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_a_discrete_event_simulation(case: str) -> None:
    wait, retries, rate, outage = CASES[case]
    got = simulate(wait, retries, rate, outage, F(1))
    want = discrete_events(wait, retries, rate, outage)
    assert got.messages == want.messages
    assert got.attempts == want.attempts
    assert got.exhausted == want.exhausted
    assert got.backlog == want.backlog
    assert got.drained_after == want.drained_after
    assert list(got.histogram) == want.bins


def test_wider_bins_sum_the_one_second_bins() -> None:
    wait, retries, rate, outage = CASES["exponential capped, unbounded"]
    fine = simulate(wait, retries, rate, outage, F(1)).histogram
    wide = simulate(wait, retries, rate, outage, F(60)).histogram
    assert list(wide) == [sum(fine[k : k + 60]) for k in range(0, 900, 60)]


def test_zero_waits_without_a_limit_are_infinite_not_a_hang() -> None:
    outcome = simulate(lambda r: F(0), None, F(5), F(3600), F(1))
    assert outcome.attempts is None
    assert outcome.infinite is not None
    assert outcome.backlog == outcome.messages == 18000


def test_tiny_waits_stop_at_the_retry_cap() -> None:
    outcome = simulate(lambda r: F(1, 10**6), None, F(1), F(3600), F(1))
    assert outcome.attempts is None
    assert f"{MAX_RETRIES_IN_OUTAGE:,}" in (outcome.infinite or "")


def test_zero_waits_with_a_limit_are_counted() -> None:
    outcome = simulate(lambda r: F(0), 4, F(2), F(10), F(1))
    assert (outcome.attempts, outcome.exhausted, outcome.backlog) == (100, 20, 0)
    assert outcome.peak() == (10, 0)


# --- rates and options -----------------------------------------------------------------------


def test_cli_rate_beats_the_inventory_and_the_default_fills_the_rest() -> None:
    document = _json(
        str(OUTAGE), "--outage", "10m", "--rate", "billing.tasks.ch*=1/s", "--rate", "30/m"
    )
    charge = _task(document, "billing.tasks.charge")
    assert (charge["rate_source"], charge["rate_exact"]) == ("cli", "1")
    assert charge["longest_waits"]["messages"] == 600
    refund = _task(document, "billing.tasks.refund")
    assert (refund["rate_source"], refund["rate_exact"]) == ("inventory", "1")
    invoice = _task(document, "billing.tasks.send_invoice")
    assert (invoice["status"], invoice["rate_source"], invoice["rate_exact"]) == (
        "simulated",
        "default",
        "1/2",
    )
    assert invoice["longest_waits"]["messages"] == 300
    assert document["left_out"] == {"undecided": 1, "no_rate": 0}


def test_the_most_specific_rate_glob_wins() -> None:
    document = _json(
        str(OUTAGE),
        "--outage",
        "1m",
        "--rate",
        "billing.*=1/s",
        "--rate",
        "billing.tasks.send_*=3/s",
        "--rate",
        "billing.tasks.send_invoice=4/s",
    )
    assert _task(document, "billing.tasks.send_invoice")["rate_exact"] == "4"
    document = _json(
        str(OUTAGE),
        "--outage",
        "1m",
        "--rate",
        "billing.tasks.send_*=3/s",
        "--rate",
        "billing.*=1/s",
    )
    assert _task(document, "billing.tasks.send_invoice")["rate_exact"] == "3"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--outage", "10x"], "--outage '10x' is not a duration"),
        (["--outage", "0s"], "longer than 0 s"),
        (["--outage", "1m", "--rate", "fast"], "--rate 'fast' is not a rate"),
        (["--outage", "1m", "--rate", "=5/s"], "the task glob before '=' is empty"),
        (["--outage", "1m", "--rate", "1/s", "--rate", "2/s"], "a second default rate"),
        (["--outage", "1m", "--rate", "0/s"], "is not a rate"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(args: list[str], says: str) -> None:
    code, out, err = _run(str(OUTAGE), *args)
    assert code == 2
    assert out == ""
    assert says in err
    assert len(err.strip().splitlines()) == 1


def test_compound_and_plain_second_outages() -> None:
    assert _json(str(OUTAGE), "--outage", "1h30m")["outage_seconds"] == 5400
    assert _json(str(OUTAGE), "--outage", "90")["outage_seconds"] == 90


# --- JSON schema, chart, golden ----------------------------------------------------------------


def _schema() -> dict[str, Any]:
    text = (resources.files("retrylint.report") / "schemas" / "simulate.schema.json").read_text(
        "utf-8"
    )
    schema: dict[str, Any] = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


@pytest.mark.parametrize(
    "args",
    [
        [str(OUTAGE), "--outage", "10m", "--rate", "1/s"],
        [str(FIXTURES / "demo"), "--outage", "30m", "--rate", "5/s"],
        [str(FIXTURES / "demo"), "--outage", "1m"],
    ],
)
def test_json_matches_its_schema(args: list[str]) -> None:
    document = _json(*args)
    jsonschema.Draft202012Validator(_schema()).validate(document)


def test_a_broken_document_fails_the_schema() -> None:
    document = _json(str(OUTAGE), "--outage", "10m")
    del _task(document, "billing.tasks.charge")["longest_waits"]["backlog"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(_schema()).validate(document)


@pytest.mark.parametrize("columns", [30, 80, 200])
def test_chart_fits_the_terminal_and_keeps_the_peak(columns: int) -> None:
    histogram = [1] * 500 + [40] + [2] * 499
    lines = chart(histogram, F(1), F(1000), columns, "title")
    assert all(len(line) <= max(columns, 21) for line in lines)
    assert lines[1].lstrip().startswith("40 │")
    assert "█" in lines[1]  # the peak column reaches the top even when columns merge bins
    assert lines[1].count("█") == 1


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("RETRYLINT_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8", newline="\n")
    assert path.is_file(), f"{name} missing: see this module's docstring to regenerate it"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from the golden file"


GOLDEN_RUNS = {
    "simulate.outage.txt": [str(OUTAGE), "--outage", "10m", "--rate", "billing.tasks.send_*=1/s"],
    "simulate.demo.txt": [str(FIXTURES / "demo"), "--outage", "30m", "--rate", "5/s"],
    "simulate.demo.json": [
        str(FIXTURES / "demo"),
        "--outage",
        "2m",
        "--rate",
        "5/s",
        "--format",
        "json",
    ],
}


@pytest.mark.parametrize("name", sorted(GOLDEN_RUNS))
def test_golden(name: str) -> None:
    code, out, err = _run(*GOLDEN_RUNS[name])
    assert code == 0, err
    _golden(name, out)


def test_readme_example_is_what_the_fixture_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # as a terminal shows it: one block per task
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- simulate-example -->\n```text\n", 1)[1].split("```", 1)[0]
    command = "retrylint simulate fixtures/outage --outage 10m --rate 'billing.tasks.send_*=1/s'"
    assert f"$ {command}" in readme
    code, out, err = _run(*GOLDEN_RUNS["simulate.outage.txt"])
    assert code == 0, err
    printed = [line.rstrip() for line in out.splitlines()]
    shown = [line for line in block.splitlines() if line.strip() and line != "..."]
    assert shown
    assert all(line in printed for line in shown)


def test_framework_jitter_lower_bounds() -> None:
    """asynq's DefaultRetryDelayFunc waits at least n⁴ + 15 s; Dramatiq at least half its bound.

    One hour at 1/s (3600 messages). asynq `plain:job` (25 retries, default delays): the
    shortest waits 15, 16, 31, 96, 271, 640, 1311, 2416 s give offsets 0, 15, 31, 62, 158, 429,
    1069, 2380 (the next, 4796, is past the hour): 3600 + 3585 + 3569 + 3538 + 3442 + 3171 +
    2531 + 1220 = 24656 attempts. Dramatiq `Inherits` (5 retries, bounds 2, 4, 8, 16, 32 s):
    halves 1 … 16 s give offsets 0, 1, 3, 7, 15, 31 and 21543 attempts; the bounds themselves
    give offsets 0, 2, 6, 14, 30, 62 and 21486.
    """
    asynq = _json(str(FIXTURES / "asynq"), "--outage", "1h", "--rate", "1/s")
    job = _task(asynq, "plain:job")
    assert job["shortest_waits"]["attempts"] == 24656
    assert job["shortest_waits"]["exhausted"] == 0
    dramatiq = _json(str(FIXTURES / "dramatiq"), "--outage", "1h", "--rate", "1/s")
    inherits = _task(dramatiq, "Inherits")
    assert inherits["longest_waits"]["attempts"] == 21486
    assert inherits["shortest_waits"]["attempts"] == 21543


@pytest.mark.parametrize("columns", [80, 120, 220])
def test_no_cell_is_ever_folded(monkeypatch: pytest.MonkeyPatch, columns: int) -> None:
    """A table when it fits the width unfolded, else one block per task wrapped at spaces:
    either way every figure pair and name reads whole on one line."""
    monkeypatch.setenv("COLUMNS", str(columns))
    code, out, err = _run(*GOLDEN_RUNS["simulate.outage.txt"], "--no-chart")
    assert code == 0, err
    lines = out.splitlines()
    assert all(len(line.rstrip()) <= columns for line in lines)
    refund = "3,543 / 3,600" if columns == 220 else "attempts: 3,543 / 3,600"
    assert any(refund in line for line in lines)
    table = any(line.lstrip().startswith("task ") for line in lines)
    assert table == (columns == 220)


def test_blocks_fit_a_narrow_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every line of the blocks, the heading, the left-out list and the chart stays within a
    narrow terminal; a pair longer than the line wraps at its spaces."""
    monkeypatch.setenv("COLUMNS", "40")
    for run in ("simulate.demo.txt", "simulate.outage.txt"):
        code, out, err = _run(*GOLDEN_RUNS[run])
        assert code == 0, err
        # Only a word longer than the line (a path) may overflow: it is never cut.
        long = [line for line in out.splitlines() if len(line.rstrip()) > 40]
        assert [line for line in long if len(line.split()) > 1] == []
    code, out, err = _run(*GOLDEN_RUNS["simulate.outage.txt"], "--no-chart")
    assert "goes to: RetryError raised to the\n  caller;" in out


def test_tasks_with_the_same_waits_and_rate_are_simulated_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forty tasks on one policy: each bound is worked out once, not once per task (a project
    of 111 asynq tasks on the default policy took 18 times a check to simulate)."""
    from retrylint.simulate import tasks

    code = "from celery import shared_task\n"
    for n in range(40):
        code += (
            f"\n@shared_task(autoretry_for=(OSError,), max_retries=5, retry_backoff=True)\n"
            f"def job_{n}():\n    pass\n"
        )
    (tmp_path / "jobs.py").write_text(code, encoding="utf-8")
    calls: list[object] = []
    real = tasks.simulate

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(tasks, "simulate", counted)
    document = _json(str(tmp_path), "--outage", "10m", "--rate", "2/s")
    assert len(document["tasks"]) == 40
    assert len({json.dumps(t["longest_waits"]) for t in document["tasks"]}) == 1
    assert len(calls) == 2  # the longest and the shortest waits
