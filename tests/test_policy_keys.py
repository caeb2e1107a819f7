"""The policy keys of issues 10 and 13: `min-window`, `alert`, `alert-exhausted-rate`,
`alert-queue-length`, `review-every` in categories and at the top level, and `reviewed`,
`idempotent`, `rate` in `[tasks]` entries; field by field, and each bad value refused at its
position with what to write instead."""

from __future__ import annotations

import re
from datetime import date
from fractions import Fraction
from pathlib import Path
from textwrap import dedent

import pytest

from retrylint.config.policy import (
    _CATEGORY_KEYS,
    _TASK_KEYS,
    BUILTIN_CATEGORY,
    ConfigError,
    Policy,
    load_policy,
)
from retrylint.durations import DurationError, format_duration, parse_duration
from retrylint.frameworks import FRAMEWORKS
from retrylint.rules import RULES


def load(tmp_path: Path, text: str) -> Policy:
    config = tmp_path / "retrylint.toml"
    config.write_text(dedent(text), encoding="utf-8")
    return load_policy(config, known_rules=RULES, known_frameworks=FRAMEWORKS, cwd=tmp_path)


def refusal(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    return str(info.value)


FULL = """\
review-every = "180d"
[categories.payments]
max-window = "2d"
min-window = "1h30m"
alert = false
alert-exhausted-rate = "3/m"
alert-queue-length = 250
review-every = "30d"
[categories.bulk]
description = "best effort"
[tasks]
"app.pay" = { category = "payments", reviewed = 2026-06-01, idempotent = false, rate = "120/m" }
"app.bulk.*" = { category = "bulk", idempotent = true, rate = "0.5/h" }
"app.plain" = "bulk"
"""


def test_category_keys_field_by_field(tmp_path: Path) -> None:
    policy = load(tmp_path, FULL)
    payments, bulk = policy.categories["payments"], policy.categories["bulk"]
    assert payments.min_window == 5400
    assert payments.max_window == 172800
    assert payments.alert is False
    assert payments.review_every == 30 * 86400
    assert not payments.review_every_inherited
    assert payments.alert_exhausted_rate == Fraction(1, 20)
    assert payments.alert_queue_length == 250
    # Unstated: alerting is on, and the top-level review period applies.
    assert bulk.min_window is None
    assert bulk.alert is True
    assert (bulk.alert_exhausted_rate, bulk.alert_queue_length) == (None, None)
    assert bulk.review_every == 180 * 86400
    assert bulk.review_every_inherited
    assert policy.review_every == 180 * 86400


def test_task_entry_keys_field_by_field(tmp_path: Path) -> None:
    policy = load(tmp_path, FULL)
    pay, bulk, plain = policy.tasks
    assert pay.reviewed == date(2026, 6, 1)
    assert pay.idempotent is False
    assert pay.rate == Fraction(2)
    assert bulk.reviewed is None
    assert bulk.idempotent is True
    assert bulk.rate == Fraction(1, 7200)
    assert (plain.reviewed, plain.idempotent, plain.rate) == (None, None, None)
    # The matched entry's keys reach the rules through the assignment.
    assignment = policy.assign("app.bulk.nightly")
    assert assignment is not None
    assert (assignment.reviewed, assignment.idempotent, assignment.rate) == (
        None,
        True,
        Fraction(1, 7200),
    )
    assignment = policy.assign("app.pay")
    assert assignment is not None
    assert assignment.reviewed == date(2026, 6, 1)


def test_no_review_every_anywhere_means_no_reviews(tmp_path: Path) -> None:
    policy = load(tmp_path, "[categories.c]\nbackoff = 'fixed'\n")
    assert policy.review_every is None
    assert policy.categories["c"].review_every is None


def test_top_level_review_every_reaches_the_built_in_category(tmp_path: Path) -> None:
    policy = load(tmp_path, 'review-every = "90d"\n')
    assert policy.builtin
    category = policy.categories["default"]
    assert category.review_every == 90 * 86400
    assert category.max_retries == BUILTIN_CATEGORY.max_retries
    assert BUILTIN_CATEGORY.review_every is None


@pytest.mark.parametrize(
    ("rate", "per_second"),
    [
        ('"5/s"', Fraction(5)),
        ('"120/m"', Fraction(2)),
        ('"1/h"', Fraction(1, 3600)),
        ('"3/d"', Fraction(1, 28800)),
        ('"0.5/s"', Fraction(1, 2)),
        ('" 10 / m "', Fraction(1, 6)),
    ],
)
def test_rates(tmp_path: Path, rate: str, per_second: Fraction) -> None:
    policy = load(tmp_path, f'[tasks]\n"t" = {{ category = "default", rate = {rate} }}\n')
    assert policy.tasks[0].rate == per_second


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            '[tasks]\n"t" = { category = "default", reviewed = "2026-06-01" }\n',
            "retrylint.toml:2:42: tasks.t.reviewed must be a bare TOML date, not the string "
            '"2026-06-01"; write reviewed = 2026-06-01 (no quotes, no time)',
            id="reviewed-string",
        ),
        pytest.param(
            '[tasks]\n"t" = { category = "default", reviewed = 2026-06-01T10:00:00 }\n',
            "retrylint.toml:2:42: tasks.t.reviewed must be a bare TOML date, not a date or "
            "time; write reviewed = 2026-06-01 (no quotes, no time)",
            id="reviewed-datetime",
        ),
        pytest.param(
            '[tasks]\n"t" = { category = "default", reviewed = "last week" }\n',
            "retrylint.toml:2:42: tasks.t.reviewed must be a bare TOML date, not the string "
            '"last week"; write reviewed = 2026-06-01 (no quotes, no time)',
            id="reviewed-words",
        ),
        pytest.param(
            '[tasks]\n"t" = { category = "default", idempotent = "no" }\n',
            "retrylint.toml:2:44: tasks.t.idempotent must be true or false, not the string "
            '"no"; write idempotent = true',
            id="idempotent-string",
        ),
        pytest.param(
            '[tasks]\n"t" = { category = "default", rate = "5 per second" }\n',
            'retrylint.toml:2:38: rate "5 per second" is not a positive number of messages per '
            'unit of time; write a number, "/" and one of s, m, h, d, such as "5/s", "120/m" '
            'or "0.5/h"',
            id="rate-words",
        ),
        pytest.param(
            '[tasks]\n"t" = { category = "default", rate = "0/s" }\n',
            'retrylint.toml:2:38: rate "0/s" is not a positive number of messages per unit of '
            'time; write a number, "/" and one of s, m, h, d, such as "5/s", "120/m" or "0.5/h"',
            id="rate-zero",
        ),
        pytest.param(
            '[tasks]\n"t" = { category = "default", rate = 5 }\n',
            'retrylint.toml:2:38: tasks.t.rate must be a string "<number>/<unit>", not the '
            'integer 5; write rate = "5/s" or rate = "120/m"',
            id="rate-integer",
        ),
        pytest.param(
            '[categories.c]\nmax-window = "1h"\nmin-window = "2h"\n',
            "retrylint.toml:3:14: categories.c has min-window = 2h longer than max-window = 1h; "
            "make min-window at most 1h, or raise max-window",
            id="min-window-above-max-window",
        ),
        pytest.param(
            '[categories.c]\nmin-window = "1h1h"\n',
            'retrylint.toml:2:14: categories.c.min-window = "1h1h" is not a duration (the unit '
            '"h" appears twice); write a whole number with a unit s, m, h or d ("90s", "15m", '
            '"6h", "2d"), units from the largest down ("1h30m", "2d12h"), or a whole number of '
            "seconds (900)",
            id="min-window-bad",
        ),
        pytest.param(
            "[categories.c]\nalert = 1\n",
            "retrylint.toml:2:9: categories.c.alert must be true or false, not the integer 1; "
            "write alert = false",
            id="alert-integer",
        ),
        pytest.param(
            '[categories.c]\nalert-exhausted-rate = "a few"\n',
            'retrylint.toml:2:24: alert-exhausted-rate "a few" is not a positive number of '
            'messages per unit of time; write a number, "/" and one of s, m, h, d, such as '
            '"5/s", "120/m" or "0.5/h"',
            id="alert-exhausted-rate-words",
        ),
        pytest.param(
            "[categories.c]\nalert-exhausted-rate = 0.5\n",
            "retrylint.toml:2:24: categories.c.alert-exhausted-rate must be a string "
            '"<number>/<unit>", not the float 0.5; write alert-exhausted-rate = "1/m" or '
            'alert-exhausted-rate = "120/m"',
            id="alert-exhausted-rate-float",
        ),
        pytest.param(
            '[categories.c]\nalert-queue-length = "5000"\n',
            "retrylint.toml:2:22: categories.c.alert-queue-length must be a whole number, not "
            'the string "5000"; write alert-queue-length = 5000',
            id="alert-queue-length-string",
        ),
        pytest.param(
            "[categories.c]\nalert-queue-length = 0\n",
            "retrylint.toml:2:22: categories.c.alert-queue-length is 0, which would fire on an "
            "empty queue; write the number of tasks a queue may hold before the alert, 1 or more",
            id="alert-queue-length-zero",
        ),
        pytest.param(
            'review-every = "3 months"\n',
            'retrylint.toml:1:16: review-every = "3 months" is not a duration ("3 months" is not '
            "a whole number followed by a unit); write a whole number with a unit s, m, h or d "
            '("90s", "15m", "6h", "2d"), units from the largest down ("1h30m", "2d12h"), or a '
            "whole number of seconds (900)",
            id="review-every-words",
        ),
        pytest.param(
            "[categories.c]\nreview-every = 0\n",
            "retrylint.toml:2:16: categories.c.review-every is 0, which makes every review "
            'overdue at once; write the time a review stays valid, such as "90d"',
            id="review-every-zero",
        ),
    ],
)
def test_bad_values_are_located(tmp_path: Path, text: str, expected: str) -> None:
    assert refusal(tmp_path, text) == expected


@pytest.mark.parametrize("seconds", [1, 59, 60, 90, 3600, 5400, 86400, 90060, 216000])
def test_printed_durations_parse_back(seconds: int) -> None:
    """A duration a report prints exactly (three units at most) reads back as itself."""
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("text", ["", "90", "1.5h", "1m1h", "1s1s", "1w", "h", "-1s"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)


def test_the_readme_policy_example_loads_with_every_key(tmp_path: Path) -> None:
    """The README's example shows every category and task-entry key, and is a valid policy."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The policy file") : readme.index("### Which files")]
    example = section[
        section.index("```toml\n") + 8 : section.index("\n```", section.index("```toml"))
    ]
    policy = load(tmp_path, example + "\n")
    critical = policy.categories["critical"]
    assert (critical.min_window, critical.max_window, critical.review_every) == (600, 5400, 7776000)
    assert critical.dead_letter and critical.alert
    assert policy.categories["best-effort"].alert is False
    assert policy.categories["best-effort"].review_every == 180 * 86400
    (charge,) = [entry for entry in policy.tasks if entry.key == "billing.tasks.charge_card"]
    assert (charge.reviewed, charge.idempotent, charge.rate) == (date(2026, 6, 1), False, 5)
    for key in (*_CATEGORY_KEYS, *_TASK_KEYS):
        assert re.search(rf"(^|[{{,] ){re.escape(key)} = ", example, re.M), key
