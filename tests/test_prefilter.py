"""The prefilter never rejects a file a marker pattern would accept."""

from __future__ import annotations

import re

import pytest

from retrylint.frameworks import GO_ADAPTERS, PYTHON_ADAPTERS
from retrylint.scan.prefilter import AllOf, Prefilter, needles


def test_needles_are_the_literal_prefixes() -> None:
    pattern = re.compile(rb"import rq|rq\.|\.enqueue(?:_call)?\(|@job\b|CronJob\b")
    assert needles(pattern) == (b"import rq", b"rq.", b".enqueue", b"@job", b"CronJob")


def test_no_needles_when_an_alternative_starts_with_syntax() -> None:
    assert needles(re.compile(rb"celery|\bTask\b")) is None
    assert needles(re.compile(rb"(?:a|b)c")) is None
    assert needles(re.compile(rb"ab?c|d")) == (b"a", b"d")
    assert needles(re.compile(rb"abc", re.IGNORECASE)) is None


def test_all_of_needs_every_pattern_in_any_order() -> None:
    both = AllOf((re.compile(rb"temporalio"), re.compile(rb"activit|defn")))
    assert needles(both) == (b"temporalio",)
    prefilter = Prefilter([both])
    assert prefilter.matches(b"import activities\nimport temporalio\n")
    assert prefilter.matches(b"from temporalio import activity\n")
    assert not prefilter.matches(b"from temporalio.client import Client\n")
    assert not prefilter.matches(b"activity = 1\n")
    # No regex rescans the file from each occurrence: this would take minutes if one did.
    assert not prefilter.matches(b"temporalio " * 400_000)


SAMPLES = [
    b"from celery import shared_task\n",
    b"@app.task(bind=True)\ndef f(self): ...\n",
    b"import dramatiq\n",
    b"q.enqueue(f, retry=Retry(max=3))\n",
    b"class Settings:\n    functions = [job]\n",
    b"from tenacity import retry\n",
    b"import backoff\n",
    b'import "github.com/hibiken/asynq"\n',
    b"x = 1\n",
    b"# task_failure handlers live here\n",
    b"from temporalio import workflow\nworkflow.execute_activity(f)\n",
    b"from temporalio.client import Client\n",
]


@pytest.mark.parametrize("sample", SAMPLES)
def test_prefilter_agrees_with_the_patterns(sample: bytes) -> None:
    patterns = [a.markers for a in (*PYTHON_ADAPTERS, *GO_ADAPTERS)]
    expected = any(p.search(sample) for p in patterns)
    assert Prefilter(patterns).matches(sample) is expected


@pytest.mark.parametrize(
    "pattern",
    [
        rb"app\b|job\b|broker\b",  # a later round's names
        rb"a[|]b|c",  # a `|` or a parenthesis inside a class separates nothing
        rb"x[(]y|z\d",
        rb"x[]|]y|z",  # nor does a `]` first in a class close it
        rb"x[^]|(]y|z",
        rb"task\(|tasks?\b(?!_)",
    ],
)
@pytest.mark.parametrize(
    "sample",
    [
        *(b"", b"app = 1", b"apps", b"a|b", b"ab", b"c", b"x(y", b"z1", b"task(", b"tasks_"),
        *(b"tasks", b"x]y", b"x|y", b"xay", b"z"),
    ],
)
def test_one_regex_per_alternative_answers_as_the_whole_pattern(
    pattern: bytes, sample: bytes
) -> None:
    whole = re.compile(pattern)
    assert Prefilter([whole]).matches(sample) is (whole.search(sample) is not None)
