"""The prefilter never rejects a file a marker pattern would accept."""

from __future__ import annotations

import re

import pytest

from retrylint.frameworks import GO_ADAPTERS, PYTHON_ADAPTERS
from retrylint.scan.prefilter import Prefilter, needles


def test_needles_are_the_literal_prefixes() -> None:
    pattern = re.compile(rb"import rq|rq\.|\.enqueue(?:_call)?\(|@job\b|CronJob\b")
    assert needles(pattern) == (b"import rq", b"rq.", b".enqueue", b"@job", b"CronJob")


def test_no_needles_when_an_alternative_starts_with_syntax() -> None:
    assert needles(re.compile(rb"celery|\bTask\b")) is None
    assert needles(re.compile(rb"(?:a|b)c")) is None
    assert needles(re.compile(rb"ab?c|d")) == (b"a", b"d")
    assert needles(re.compile(rb"abc", re.IGNORECASE)) is None


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
]


@pytest.mark.parametrize("sample", SAMPLES)
def test_prefilter_agrees_with_the_patterns(sample: bytes) -> None:
    patterns = [a.markers for a in (*PYTHON_ADAPTERS, *GO_ADAPTERS)]
    expected = any(p.search(sample) for p in patterns)
    assert Prefilter(patterns).matches(sample) is expected
