"""Fuzzing: generated programs and generated policy files never crash retrylint.

A generated program alone never passes the prefilter, so each is wrapped in a module that bears
a task (next to it, or indented into the task's body). Because the adapters are where values get
interpreted, retry options are also generated directly: every framework's declaration forms
with fuzzed option values. Policy files are generated from the real keys with values of any
type, mutated from a valid file, or arbitrary text: each loads or raises `ConfigError`.

The CI run is derandomized and bounded (about a minute); `scripts/fuzz.py` runs the same
strategies for many thousands of examples at random.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from retrylint import __version__, engine, fix
from retrylint.config.policy import ConfigError, Policy, load_policy
from retrylint.frameworks import FRAMEWORKS
from retrylint.report.json_report import render_check, render_inventory
from retrylint.report.sarif_report import render_sarif
from retrylint.rules import RULES

# hypothesmith checks its programs with compile(), which warns about calls like `1()`.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

# --- generated programs, wrapped so that the adapters see them ---------------------------------

TASK_AFTER = """
from celery import shared_task

{program}

@shared_task(bind=True, max_retries=3, autoretry_for=(IOError,), retry_backoff=True)
def fuzzed(self, item):
    raise self.retry(countdown=5)
"""

TASK_AROUND = """
from celery import shared_task


@shared_task(bind=True, max_retries=3)
def fuzzed(self, item):
{program}
    raise self.retry(countdown=5)
"""


def wrap_program(program: str, inside: bool) -> str:
    """A generated module next to a task, or indented into a task's body."""
    if inside:
        body = textwrap.indent(program, "    ") if program.strip() else "    pass\n"
        return TASK_AROUND.format(program=body.rstrip("\n") or "    pass")
    return TASK_AFTER.format(program=program)


programs = st.builds(wrap_program, hypothesmith.from_grammar(), st.booleans())

# --- generated retry options for every framework's declaration forms ---------------------------

NAMES = (
    "x",
    "LIMIT",
    "settings.MAX_RETRIES",
    "self.request.retries",
    "self.max_retries",
    "os.environ",
    "random",
    "backoff.expo",
    "backoff.constant",
    "IOError",
    "Exception",
    "BaseException",
    "ConnectionError",
    "requests.RequestException",
    "None",
    "True",
    "False",
    "inf",
    "nan",
    "...",
)
CALLEES = (
    "random.uniform",
    "random.randint",
    "random.random",
    "min",
    "max",
    "int",
    "float",
    "abs",
    "pow",
    "round",
    "len",
    "range",
    "timedelta",
    "datetime.timedelta",
    "os.environ.get",
    "os.getenv",
    "getattr",
    "settings.get",
    "stop_after_attempt",
    "stop_after_delay",
    "stop_never",
    "wait_exponential",
    "wait_fixed",
    "wait_random",
    "wait_random_exponential",
    "wait_incrementing",
    "wait_chain",
    "retry_if_exception_type",
    "retry_if_result",
    "RetryPolicy",
    "Retry",
    "RetryStrategy",
    "backoff.expo",
    "backoff.full_jitter",
    "SimpleRetryMiddleware",
    "SmartRetryMiddleware",
)
OPERATORS = ("+", "-", "*", "/", "//", "%", "**", "<<", ">>", "|", "&", "^", "and", "or", "if")
OPTIONS = (
    "max_retries",
    "countdown",
    "eta",
    "default_retry_delay",
    "retry_backoff",
    "retry_backoff_max",
    "retry_jitter",
    "autoretry_for",
    "dont_autoretry_for",
    "retry_kwargs",
    "retry_policy",
    "throws",
    "name",
    "base",
    "bind",
    "acks_late",
    "exc",
    "min_backoff",
    "max_backoff",
    "retry_when",
    "actor_name",
    "max",
    "interval",
    "retry",
    "retries",
    "retry_delay",
    "retry_backoff_base",
    "max_tries",
    "max_time",
    "jitter",
    "on",
    "attempts",
    "timeout",
    "wait_initial",
    "wait_max",
    "wait_jitter",
    "wait_exp_base",
    "maximum_attempts",
    "initial_interval",
    "backoff_coefficient",
    "maximum_interval",
    "non_retryable_error_types",
    "retry_exceptions",
    "max_attempts",
    "stop",
    "wait",
    "reraise",
    "giveup",
    "defer",
    "task_name",
    "retry_on_error",
    "delay",
    "backoff",
    "ack_failure",
)

atoms = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.sampled_from(
        ("0", "-1", "10**100", "1e308", "1e-9", "0.5", "-0.0", "2**64", "()", "[]", "{}")
    ),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(max_size=6).map(repr),
    st.sampled_from(NAMES),
)


def _expressions(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    def binary(parts: tuple[str, str, str]) -> str:
        left, op, right = parts
        return f"({left} if {right} else {left})" if op == "if" else f"({left} {op} {right})"

    def call(parts: tuple[str, list[str], list[tuple[str, str]]]) -> str:
        callee, args, kwargs = parts
        written = [*args, *(f"{k}={v}" for k, v in kwargs)]
        return f"{callee}({', '.join(written)})"

    keywords = st.lists(
        st.tuples(st.sampled_from(OPTIONS), inner), max_size=3, unique_by=lambda t: t[0]
    )
    return st.one_of(
        st.tuples(inner, st.sampled_from(OPERATORS), inner).map(binary),
        st.tuples(st.sampled_from(("-", "not ", "~", "+")), inner).map("".join),
        st.lists(inner, min_size=1, max_size=4).map(
            lambda xs: "(" + "".join(f"{x}, " for x in xs) + ")"
        ),
        st.lists(inner, min_size=1, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(st.tuples(st.text(max_size=4), inner), min_size=1, max_size=3).map(
            lambda kv: "{" + ", ".join(f"{k!r}: {v}" for k, v in kv) + "}"
        ),
        st.tuples(st.sampled_from(CALLEES), st.lists(inner, min_size=1, max_size=3), keywords).map(
            call
        ),
        st.sampled_from(CALLEES).map(lambda callee: f"{callee}()"),
        st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]"),
        st.tuples(inner, st.sampled_from(("real", "seconds", "max_retries", "get"))).map(
            lambda t: f"({t[0]}).{t[1]}"
        ),
        inner.map(lambda x: f"(lambda e: {x})"),
        inner.map(lambda x: f"[{x} for _ in range(3)]"),
        inner.map(lambda x: f"f'{{{x}}}'"),
        inner.map(lambda x: f"(*{x},)"),
    )


expressions = st.recursive(atoms, _expressions, max_leaves=12)
keyword_options = st.lists(
    st.tuples(st.sampled_from(OPTIONS), expressions), max_size=5, unique_by=lambda t: t[0]
).map(lambda kv: ", ".join(f"{k}={v}" for k, v in kv))

# One declaration form per framework; `{o}` takes keyword options, `{e}` an expression.
TEMPLATES = (
    "from celery import shared_task\nLIMIT = {e}\n\n@shared_task(bind=True, {o})\n"
    "def t(self, x):\n    raise self.retry(exc=IOError(), {o})\n",
    "from celery import Celery\napp = Celery()\napp.conf.task_annotations = {e}\n"
    "app.conf.task_default_retry_delay = {e}\n\n@app.task({o})\ndef t():\n    pass\n\n"
    "t.apply_async((1,), {o})\nt.s(1).set({o}).delay()\n",
    "from celery import Task, shared_task\n\nclass Base(Task):\n    max_retries = {e}\n"
    "    autoretry_for = {e}\n    retry_backoff = {e}\n\n@shared_task(base=Base, {o})\n"
    "def t():\n    pass\n",
    "import dramatiq\n\n@dramatiq.actor({o})\ndef t():\n    pass\n\nt.send_with_options({o})\n",
    "from rq import Queue, Retry\nfrom rq.decorators import job\nq = Queue()\n"
    "q.enqueue(print, retry=Retry({o}))\n\n@job('default', {o})\ndef t():\n    pass\n",
    "from huey import RedisHuey\nhuey = RedisHuey()\n\n@huey.task({o})\ndef t():\n    pass\n",
    "from arq import Retry\nfrom arq.worker import func\n\nasync def t(ctx):\n"
    "    raise Retry(defer={e})\n\nclass WorkerSettings:\n    functions = [func(t, {o})]\n"
    "    max_tries = {e}\n",
    "from taskiq import SimpleRetryMiddleware\nfrom taskiq_redis import ListQueueBroker\n"
    "broker = ListQueueBroker('redis://').with_middlewares(SimpleRetryMiddleware({o}))\n\n"
    "@broker.task({o})\nasync def t():\n    pass\n",
    "from procrastinate import App, RetryStrategy\napp = App(connector=None)\n\n"
    "@app.task(retry={e}, {o})\ndef t():\n    pass\n",
    "from saq import Queue\nqueue = Queue.from_url('redis://')\n\nasync def t(ctx):\n    pass\n\n"
    "settings = {{'queue': queue, 'functions': [t, ('alias', t)]}}\n"
    "queue.enqueue('t', {o})\n",
    "from django_q.tasks import async_task, schedule\nQ_CLUSTER = {e}\n"
    "async_task('tasks.t', {o})\n\ndef t():\n    pass\n",
    "from temporalio import activity, workflow\nfrom temporalio.common import RetryPolicy\n\n"
    "@activity.defn({o})\nasync def t():\n    pass\n\n@workflow.defn\nclass W:\n"
    "    @workflow.run\n    async def run(self):\n        await workflow.execute_activity(\n"
    "            t, start_to_close_timeout={e}, retry_policy=RetryPolicy({o})\n        )\n",
    "from tenacity import retry, stop_after_attempt, wait_exponential\n\n"
    "@retry(stop={e}, wait={e}, {o})\ndef t():\n    pass\n",
    "import backoff\n\n@backoff.on_exception({e}, {e}, {o})\ndef t():\n    pass\n",
    "import stamina\n\n@stamina.retry(on={e}, {o})\ndef t():\n    pass\n",
)


def _fill(template: str, draw: Callable[[st.SearchStrategy[str]], str]) -> str:
    out = template
    while "{e}" in out or "{o}" in out:
        first_e = out.find("{e}")
        first_o = out.find("{o}")
        if first_o == -1 or (first_e != -1 and first_e < first_o):
            out = out.replace("{e}", draw(expressions), 1)
        else:
            out = out.replace("{o}", draw(keyword_options), 1)
    return out.replace("{{", "{").replace("}}", "}").replace("(, ", "(").replace(", )", ")")


@st.composite
def declarations(draw: st.DrawFn) -> str:
    """A module using one framework's declaration forms with fuzzed option values."""
    return _fill(draw(st.sampled_from(TEMPLATES)), draw)


# --- running the engine ------------------------------------------------------------------------


def scan(root: Path, workers: int = 1, policy: Policy | None = None) -> dict[str, str]:
    """Every rendering of one run; raises whatever the engine raises."""
    if policy is None:
        policy = load_policy(None, known_rules=RULES, known_frameworks=FRAMEWORKS, cwd=root)
    report = engine.run([root], policy, workers=workers)
    return {
        "check": render_check(report),
        "inventory": render_inventory(report),
        "sarif": render_sarif(report, __version__),
    }


def write_module(root: Path, text: str, name: str = "tasks.py") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for old in root.glob("*.py"):
        old.unlink()
    path = root / name
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


# --- generated policy files --------------------------------------------------------------------

POLICY_KEYS = (
    "exclude",
    "extend-exclude",
    "include-tests",
    "respect-gitignore",
    "source-roots",
    "default-category",
    "frameworks",
    "categories",
    "tasks",
    "rules",
    "assume",
    "description",
    "max-retries",
    "backoff",
    "jitter",
    "max-window",
    "min-window",
    "dead-letter",
    "alert",
    "review-every",
    "min",
    "max",
    "enabled",
    "task-decorators",
    "version",
    "settings-module",
    "category",
    "owner",
    "note",
    "reviewed",
    "idempotent",
    "rate",
    "celery",
    "dramatiq",
    "critical",
    "default",
    "RL101",
    "RL002",
    "app.tasks.*",
    "app.tasks.charge",
    "a b",
    "[",
    "",
)
_toml_scalars: st.SearchStrategy[object] = st.one_of(
    st.just([]),
    st.just({}),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.booleans(),
    st.text(max_size=8),
    st.sampled_from(
        (
            "exponential",
            "linear",
            "fixed",
            "none",
            "custom",
            "error",
            "warning",
            "note",
            "off",
            "90s",
            "15m",
            "6h",
            "2d",
            "-1s",
            "1w",
            "1h30m",
            "30m1h",
            "5/s",
            "0/m",
            "2026-06-01",
            "celery",
            "5.3.1",
            "critical",
            "default",
            "**/*.py",
            "!",
            "[",
            "app.*",
        )
    ),
)
toml_values = st.recursive(
    _toml_scalars,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=4),
        st.dictionaries(st.sampled_from(POLICY_KEYS), inner, min_size=1, max_size=4),
    ),
    max_leaves=10,
)


def toml_value(value: object) -> str:
    """A value as TOML text (inline tables for mappings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=True)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_key(key: str) -> str:
    bare = key and all(c.isalnum() or c in "-_" for c in key)
    return key if bare else json.dumps(key)


@st.composite
def policy_texts(draw: st.DrawFn) -> str:
    """A policy file built from the real keys, with values of any type, some tables as
    headers, and sometimes an unquoted dotted key or a duplicate."""
    lines: list[str] = []
    top = draw(st.dictionaries(st.sampled_from(POLICY_KEYS), toml_values, max_size=4))
    lines.extend(f"{toml_key(k)} = {toml_value(v)}" for k, v in top.items())
    for _ in range(draw(st.integers(0, 4))):
        header = draw(
            st.sampled_from(
                (
                    "categories.critical",
                    "categories.default",
                    "categories.bulk",
                    "categories",
                    "tasks",
                    "rules",
                    "assume",
                    "frameworks",
                    "frameworks.celery",
                    "frameworks.nope",
                    'tasks."app.tasks.x"',
                    "tool.retrylint",
                )
            )
        )
        lines.append(f"[{header}]")
        body = draw(st.dictionaries(st.sampled_from(POLICY_KEYS), toml_values, max_size=4))
        lines.extend(f"{toml_key(k)} = {toml_value(v)}" for k, v in body.items())
        if draw(st.integers(0, 9)) == 0:
            lines.append(f"app.tasks.raw = {toml_value(draw(toml_values))}")
    return "\n".join(lines) + "\n"


@st.composite
def mutated_policies(draw: st.DrawFn) -> str:
    """A valid policy with characters deleted, inserted or replaced."""
    text = VALID_POLICY
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(("delete", "insert", "replace")))
        piece = draw(st.sampled_from(("", "=", "[", "]", '"', "\n", ".", "{", "}", ",", "x", "-1")))
        if edit == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 8)) :]
        elif edit == "insert":
            text = text[:at] + piece + text[at:]
        else:
            text = text[:at] + piece + text[at + 1 :]
    return text


VALID_POLICY = """\
exclude = ["migrations/", "*_pb2.py"]
default-category = "default"

[frameworks]
enabled = ["celery"]

[frameworks.celery]
version = "5.3.1"

[categories.default]
max-retries = { max = 10 }
backoff = "exponential"
jitter = true

[categories.critical]
description = "payments"
max-retries = { min = 1, max = 5 }
max-window = "6h"
dead-letter = true

[tasks]
"app.tasks.charge" = "critical"
"app.reports.*" = { category = "default", owner = "data" }

[rules]
RL101 = "warning"

[assume]
"settings.MAX_RETRIES" = 5
"""


def load_text(root: Path, text: str, name: str = "retrylint.toml") -> Policy | ConfigError:
    """Load a policy text; returns the error instead of raising it."""
    path = root / name
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        return load_policy(path, known_rules=RULES, known_frameworks=FRAMEWORKS, cwd=root)
    except ConfigError as err:
        return err


# --- the bounded CI run ------------------------------------------------------------------------

# Derandomized, so CI sees the same examples every time; `scripts/fuzz.py` explores at random.
CI = settings(
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _check_report(outputs: dict[str, str]) -> None:
    check = json.loads(outputs["check"])
    for finding in check["findings"]:
        assert finding["line"] >= 1 and finding["column"] >= 1, finding
    json.loads(outputs["inventory"])
    json.loads(outputs["sarif"])


@settings(CI, max_examples=250)
@given(source=programs)
def test_generated_programs_never_crash(workdir: Path, source: str) -> None:
    root = workdir / "programs"
    write_module(root, source)
    first = scan(root)
    _check_report(first)
    assert scan(root) == first


@settings(CI, max_examples=300)
@given(source=declarations())
def test_generated_retry_options_never_crash(workdir: Path, source: str) -> None:
    root = workdir / "options"
    write_module(root, source)
    first = scan(root)
    _check_report(first)
    assert scan(root) == first


@settings(CI, max_examples=3, phases=(Phase.explicit, Phase.generate))  # no slow shrinking
@given(
    sources=st.lists(st.one_of(programs, declarations()), min_size=30, max_size=30),
)
def test_generated_projects_are_deterministic(workdir: Path, sources: list[str]) -> None:
    """Many generated modules at once: same bytes in-process, in 3 workers, and under another
    hash seed in a fresh interpreter."""
    root = workdir / "project"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir()
    for n, text in enumerate(sources):
        (root / f"mod_{n:02d}.py").write_text(text, encoding="utf-8", errors="surrogatepass")
    serial = scan(root, workers=1)
    assert scan(root, workers=3) == serial
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONIOENCODING": "utf-8"}
    env.pop("RETRYLINT_DEBUG", None)
    proc = subprocess.run(
        [sys.executable, "-m", "retrylint", "check", "--format", "json", "."],
        cwd=root,
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert proc.stderr == b""
    # `check` marks the findings a proposed fix clears (`retrylint.fix`): so does this side.
    policy = load_policy(None, known_rules=RULES, known_frameworks=FRAMEWORKS, cwd=root)
    report = engine.run([root], policy, workers=1)
    assert render_check(report) == serial["check"]
    offered = fix.planned(report, unsafe=True)
    assert proc.stdout.decode("utf-8") == render_check(fix.mark(report, offered))


def _assert_loaded_or_refused(root: Path, text: str, name: str = "retrylint.toml") -> None:
    outcome = load_text(root, text, name)
    if isinstance(outcome, ConfigError):
        assert outcome.line >= 1 and outcome.column >= 1
        assert str(outcome).startswith(f"{name}:{outcome.line}:{outcome.column}: ")
        assert "; " in outcome.message, outcome.message
        return
    # A policy that loads must also be usable.
    outcome.exclude_spec()
    outcome.assign("app.tasks.charge")
    outcome.assign(None)
    (root / "tasks.py").write_text(
        "from celery import shared_task\n\n@shared_task(max_retries=3)\ndef charge():\n    pass\n",
        encoding="utf-8",
    )
    engine.run([root], outcome, workers=1)


@settings(CI, max_examples=250)
@given(text=policy_texts())
def test_generated_policies_load_or_raise_config_error(workdir: Path, text: str) -> None:
    root = workdir / "policies"
    root.mkdir(exist_ok=True)
    _assert_loaded_or_refused(root, text)


@settings(CI, max_examples=150)
@given(text=policy_texts())
def test_generated_pyproject_tables_load_or_raise_config_error(workdir: Path, text: str) -> None:
    root = workdir / "pyprojects"
    root.mkdir(exist_ok=True)
    body = "\n".join(
        f"[tool.retrylint.{line[1:]}" if line.startswith("[") else line
        for line in text.splitlines()
    )
    _assert_loaded_or_refused(
        root, '[project]\nname = "x"\n\n[tool.retrylint]\n' + body + "\n", "pyproject.toml"
    )


@settings(CI, max_examples=200)
@given(text=mutated_policies())
def test_mutated_policies_load_or_raise_config_error(workdir: Path, text: str) -> None:
    root = workdir / "mutated"
    root.mkdir(exist_ok=True)
    _assert_loaded_or_refused(root, text)


@settings(CI, max_examples=150)
@given(text=st.text(max_size=200))
def test_arbitrary_text_loads_or_raises_config_error(workdir: Path, text: str) -> None:
    root = workdir / "text"
    root.mkdir(exist_ok=True)
    _assert_loaded_or_refused(root, text)
