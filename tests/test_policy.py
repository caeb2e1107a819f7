"""Policy loading: every refusal is located and says what to write, and assignment follows §2."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from retrylint.config.policy import (
    BUILTIN_CATEGORY,
    ConfigError,
    FrameworkSettings,
    Policy,
    TaskEntry,
    discover_config,
    load_policy,
)
from retrylint.model import Assignment, Category, Location

KNOWN_RULES = frozenset(
    {
        *("RL000", "RL001", "RL002", "RL003"),
        *("RL101", "RL102", "RL103", "RL104", "RL105", "RL106", "RL107"),
        *("RL201", "RL202", "RL203", "RL204", "RL301"),
        *("RL401", "RL402", "RL403", "RL404", "RL405", "RL501", "RL502", "RL503"),
    }
)
KNOWN_FRAMEWORKS = frozenset(
    {
        *("celery", "dramatiq", "rq", "huey", "arq", "taskiq", "procrastinate", "saq"),
        *("django-q2", "temporal", "asynq", "tenacity", "backoff", "stamina"),
    }
)

CATEGORIES = """\
[categories.critical]
max-retries = { min = 1, max = 5 }
[categories.bulk]
description = "best effort"
"""


def load(tmp_path: Path, text: str, name: str = "retrylint.toml") -> Policy:
    config = tmp_path / name
    config.write_text(dedent(text), encoding="utf-8")
    return load_policy(
        config, known_rules=KNOWN_RULES, known_frameworks=KNOWN_FRAMEWORKS, cwd=tmp_path
    )


def refusal(tmp_path: Path, text: str, name: str = "retrylint.toml") -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text, name)
    return info.value


# --- a complete file ------------------------------------------------------------------------

FULL = """\
exclude = ["migrations/", "*_pb2.py"]
source-roots = ["./src/", "lib"]
default-category = "bulk"

[frameworks]
enabled = ["celery", "django-q2"]

[frameworks.celery]
task-decorators = ["app.utils.task"]
version = "5.3.1"
settings-module = "mysite.settings"

[categories.critical]
description = "payments"
max-retries = { min = 1, max = 5 }
backoff = "exponential"
jitter = true
max-window = "6h"
dead-letter = true

[categories.bulk]
max-window = 90

[tasks]
"app.tasks.charge" = "critical"
" app.reports.* " = { category = "bulk", owner = "data", note = "nightly" }

[rules]
RL101 = "warning"
RL202 = "off"

[assume]
"settings.MAX_RETRIES" = 5
"settings.DELAYS" = [1, 2.5]
"settings.RETRY" = { max = 3, on = "timeout" }
"FLAG" = true
"""


def test_full_policy(tmp_path: Path) -> None:
    policy = load(tmp_path, FULL)
    assert policy.root == tmp_path
    assert policy.path == "retrylint.toml"
    assert not policy.builtin
    assert policy.has_categories
    assert policy.exclude == ("migrations/", "*_pb2.py")
    assert policy.source_roots == ("src", "lib")
    assert policy.default_category == "bulk"
    assert policy.enabled_frameworks == ("celery", "django-q2")
    assert dict(policy.frameworks) == {
        "celery": FrameworkSettings(("app.utils.task",), "5.3.1", "mysite.settings")
    }
    assert policy.categories["critical"] == Category(
        name="critical",
        description="payments",
        min_retries=1,
        max_retries=5,
        backoff="exponential",
        jitter=True,
        max_window=21600.0,
        dead_letter=True,
        location=Location("retrylint.toml", 13, 13),
    )
    assert policy.categories["bulk"] == Category(
        name="bulk", max_window=90.0, location=Location("retrylint.toml", 21, 13)
    )
    assert policy.tasks == (
        TaskEntry(
            "app.tasks.charge",
            "critical",
            None,
            None,
            Location("retrylint.toml", 25, 1),
            is_glob=False,
        ),
        TaskEntry(
            "app.reports.*",
            "bulk",
            "data",
            "nightly",
            Location("retrylint.toml", 26, 1),
            is_glob=True,
        ),
    )
    assert dict(policy.rules) == {"RL101": "warning", "RL202": "off"}
    assert dict(policy.assume) == {
        "settings.MAX_RETRIES": 5,
        "settings.DELAYS": [1, 2.5],
        "settings.RETRY": {"max": 3, "on": "timeout"},
        "FLAG": True,
    }


def test_file_keys_default_to_scanning_no_tests_and_honouring_gitignore(tmp_path: Path) -> None:
    policy = load(tmp_path, "[rules]\n")
    assert (policy.extend_exclude, policy.include_tests, policy.respect_gitignore) == (
        (),
        False,
        True,
    )
    builtin = load_policy(
        None, known_rules=KNOWN_RULES, known_frameworks=KNOWN_FRAMEWORKS, cwd=tmp_path
    )
    assert (builtin.extend_exclude, builtin.include_tests, builtin.respect_gitignore) == (
        (),
        False,
        True,
    )


def test_file_keys_are_read(tmp_path: Path) -> None:
    policy = load(
        tmp_path,
        """\
        exclude = ["gen/"]
        extend-exclude = ["!gen/keep.py", "legacy/"]
        include-tests = true
        respect-gitignore = false
        """,
    )
    assert policy.extend_exclude == ("!gen/keep.py", "legacy/")
    assert policy.include_tests and not policy.respect_gitignore
    spec = policy.exclude_spec()
    # One list, `exclude` first: a negation in `extend-exclude` re-includes.
    assert spec.match_file("gen/a.py") and not spec.match_file("gen/keep.py")
    assert spec.match_file("legacy/x.py") and not spec.match_file("app/x.py")


def test_exclude_spec_uses_gitignore_semantics(tmp_path: Path) -> None:
    spec = load(tmp_path, 'exclude = ["migrations/", "*_pb2.py", "!keep_pb2.py"]').exclude_spec()
    assert spec.match_file("app/migrations/0001.py")
    assert spec.match_file("app/proto/x_pb2.py")
    assert not spec.match_file("keep_pb2.py")
    assert not spec.match_file("app/tasks.py")


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("0", 0.0),
        ("900", 900.0),
        ('"90s"', 90.0),
        ('"15m"', 900.0),
        ('"2d"', 172800.0),
        ('"1h30m"', 5400.0),
        ('"2d12h"', 216000.0),
        # As reports print durations, so a printed window can be copied into the file.
        ('"1d 1h 1m"', 90060.0),
        ('" 1h 5s "', 3605.0),
    ],
)
def test_durations(tmp_path: Path, value: str, seconds: float) -> None:
    policy = load(tmp_path, f"[categories.c]\nmax-window = {value}\n")
    assert policy.categories["c"].max_window == seconds


def test_category_with_only_a_description_enforces_nothing(tmp_path: Path) -> None:
    category = load(tmp_path, '[categories.free]\ndescription = "exempt"\n').categories["free"]
    assert category == Category(
        name="free", description="exempt", location=Location("retrylint.toml", 1, 13)
    )


def test_task_written_as_a_quoted_sub_table(tmp_path: Path) -> None:
    policy = load(
        tmp_path,
        CATEGORIES + '[tasks."app.tasks.send"]\ncategory = "critical"\nowner = "mail"\n',
    )
    assert policy.tasks[0].key == "app.tasks.send"
    assert policy.tasks[0].owner == "mail"
    assert policy.tasks[0].location == Location("retrylint.toml", 5, 8)


# --- built-in policy ------------------------------------------------------------------------


def test_no_config_file_gives_the_builtin_policy(tmp_path: Path) -> None:
    policy = load_policy(
        None, known_rules=KNOWN_RULES, known_frameworks=KNOWN_FRAMEWORKS, cwd=tmp_path
    )
    assert policy.root == tmp_path
    assert policy.path is None
    assert policy.builtin
    assert not policy.has_categories
    assert policy.default_category == "default"
    assert dict(policy.categories) == {"default": BUILTIN_CATEGORY}
    builtin = Category(name="default", max_retries=10, backoff="exponential", jitter=True)
    assert builtin == BUILTIN_CATEGORY
    assert policy.assign("app.tasks.x") == Assignment(BUILTIN_CATEGORY, "built-in")
    assert policy.assign(None) == Assignment(BUILTIN_CATEGORY, "built-in")
    assert not policy.exclude_spec().match_file("app/tasks.py")


def test_config_without_categories_keeps_its_other_keys(tmp_path: Path) -> None:
    policy = load(
        tmp_path,
        """\
        exclude = ["build/"]
        [tasks]
        "app.tasks.x" = { category = "default", owner = "web" }
        [rules]
        RL103 = "off"
        """,
    )
    assert policy.builtin
    assert not policy.has_categories
    assert policy.path == "retrylint.toml"
    assert policy.exclude == ("build/",)
    assert dict(policy.rules) == {"RL103": "off"}
    assert policy.assign("app.tasks.x") == Assignment(
        BUILTIN_CATEGORY, "exact", key="app.tasks.x", owner="web"
    )
    assert policy.assign("app.tasks.y") == Assignment(BUILTIN_CATEGORY, "built-in")


def test_empty_categories_table_counts_as_stating_categories(tmp_path: Path) -> None:
    policy = load(tmp_path, "[categories]\n")
    assert policy.has_categories
    assert not policy.builtin
    assert dict(policy.categories) == {}
    assert policy.default_category is None
    assert policy.assign("anything") is None


# --- assignment -----------------------------------------------------------------------------


def test_without_default_category_an_unmatched_task_is_unassigned(tmp_path: Path) -> None:
    policy = load(tmp_path, CATEGORIES + '[tasks]\n"app.a" = "critical"\n')
    assert policy.assign("app.b") is None
    assert policy.assign(None) is None


def test_default_category_applies_to_unmatched_and_undecided_names(tmp_path: Path) -> None:
    policy = load(
        tmp_path,
        'default-category = "bulk"\n' + CATEGORIES + '[tasks]\n"app.*" = "critical"\n',
    )
    bulk = policy.categories["bulk"]
    assert policy.assign("other.x") == Assignment(bulk, "default-category")
    assert policy.assign(None) == Assignment(bulk, "default-category")


PRECEDENCE = (
    CATEGORIES
    + """\
[categories.c3]
[categories.c4]
[categories.c5]
[tasks]
"app.*" = "bulk"
"app.tasks.*" = "critical"
"app.tasks.send" = "c3"
"app.task?.send_*" = "c4"
"app.[tx]asks.*" = "c5"
"app.tasks.sen*" = "bulk"
"*.tasks.send_mail" = "c5"
"Upper.*" = "c3"
"""
)


@pytest.mark.parametrize(
    ("name", "key", "source"),
    [
        # Exact beats every glob, even globs listed first and longer ones.
        ("app.tasks.send", "app.tasks.send", "exact"),
        # "app.task?.send_*" has 14 literal characters, "app.tasks.sen*" 13.
        ("app.tasks.send_x", "app.task?.send_*", "glob"),
        # "*.tasks.send_mail" has 16 literal characters and wins over both.
        ("x.tasks.send_mail", "*.tasks.send_mail", "glob"),
        # Bracket contents count as wildcards: "app.[tx]asks.*" has 9, "app.tasks.*" 10.
        ("app.tasks.other", "app.tasks.*", "glob"),
        ("app.xasks.other", "app.[tx]asks.*", "glob"),
        ("app.zzz", "app.*", "glob"),
        # fnmatchcase: no case folding.
        ("upper.x", None, None),
        ("Upper.x", "Upper.*", "glob"),
    ],
)
def test_glob_precedence(tmp_path: Path, name: str, key: str | None, source: str | None) -> None:
    assignment = load(tmp_path, PRECEDENCE).assign(name)
    if key is None:
        assert assignment is None
    else:
        assert assignment is not None
        assert (assignment.key, assignment.source) == (key, source)


def test_equally_specific_globs_go_to_the_earlier_entry(tmp_path: Path) -> None:
    policy = load(tmp_path, CATEGORIES + '[tasks]\n"a.*.c" = "bulk"\n"a.b.*" = "critical"\n')
    assignment = policy.assign("a.b.c")
    assert assignment is not None
    assert assignment.key == "a.*.c"
    assert assignment.category.name == "bulk"


def test_assignment_carries_owner_and_note(tmp_path: Path) -> None:
    policy = load(
        tmp_path,
        CATEGORIES + '[tasks]\n"app.*" = { category = "critical", owner = "o", note = "n" }\n',
    )
    assert policy.assign("app.x") == Assignment(
        policy.categories["critical"], "glob", key="app.*", owner="o", note="n"
    )


# --- pyproject.toml -------------------------------------------------------------------------


def test_pyproject_table(tmp_path: Path) -> None:
    policy = load(
        tmp_path,
        """\
        [project]
        name = "x"

        [tool.retrylint]
        default-category = "c"

        [tool.retrylint.categories.c]
        backoff = "fixed"
        """,
        name="pyproject.toml",
    )
    assert policy.path == "pyproject.toml"
    assert policy.categories["c"].backoff == "fixed"
    assert policy.categories["c"].location == Location("pyproject.toml", 7, 28)


def test_pyproject_errors_are_located_inside_the_tool_table(tmp_path: Path) -> None:
    error = refusal(
        tmp_path,
        "[tool.other]\nbackoff = 1\n[tool.retrylint.categories.c]\nbackof = 1\n",
        name="pyproject.toml",
    )
    assert (error.line, error.column) == (4, 1)
    assert error.message == (
        'unknown key "backof" in [tool.retrylint.categories.c]; write "backoff" instead'
    )


def test_pyproject_without_the_table_is_refused_when_named_explicitly(tmp_path: Path) -> None:
    error = refusal(tmp_path, '[project]\nname = "x"\n', name="pyproject.toml")
    assert str(error) == (
        "pyproject.toml:1:1: pyproject.toml has no [tool.retrylint] table; add one, "
        "or pass a retrylint.toml to --config"
    )


def test_pyproject_tool_retrylint_must_be_a_table(tmp_path: Path) -> None:
    error = refusal(tmp_path, "[tool]\nretrylint = 3\n", name="pyproject.toml")
    assert (error.line, error.column) == (2, 13)
    assert error.message.startswith("tool.retrylint must be a table, not the integer 3; write")


# --- refusals -------------------------------------------------------------------------------

# (id, file text, line, column, exact message)
REFUSALS = [
    (
        "toml-syntax",
        'exclude = ["a"\nbackoff = 1\n',
        2,
        1,
        "invalid TOML: Unclosed array; correct the syntax here",
    ),
    (
        "toml-syntax-end-of-document",
        "a = ",
        1,
        5,
        "invalid TOML: Invalid value; correct the syntax here",
    ),
    (
        "unknown-top-level-key",
        'exclud = ["a"]\n',
        1,
        1,
        'unknown key "exclud" at the top level; write "exclude" instead',
    ),
    (
        "unknown-key-no-close-match",
        "[categories.c]\ntimeout = 3\n",
        2,
        1,
        'unknown key "timeout" in [categories.c]; use one of: alert, alert-exhausted-rate, '
        "alert-queue-length, backoff, dead-letter, description, jitter, max-retries, max-window, "
        "min-window, review-every",
    ),
    (
        "unknown-category-key",
        "[categories.c]\nmax-retry = { max = 3 }\n",
        2,
        1,
        'unknown key "max-retry" in [categories.c]; write "max-retries" instead',
    ),
    (
        "unknown-retry-bound-key",
        "[categories.c]\nmax-retries = { min = 0, maximum = 3 }\n",
        2,
        26,
        'unknown key "maximum" in [categories.c.max-retries]; write "max" instead',
    ),
    (
        "exclude-wrong-type",
        'exclude = "build/"\n',
        1,
        11,
        'exclude must be an array of strings, not the string "build/"; '
        'write exclude = ["migrations/", "*_pb2.py"]',
    ),
    (
        "exclude-element-wrong-type",
        'exclude = ["a", 3]\n',
        1,
        17,
        'exclude[1] must be a string, not the integer 3; write exclude = ["migrations/", '
        '"*_pb2.py"]',
    ),
    (
        "exclude-invalid-pattern",
        'exclude = ["ok", "!"]\n',
        1,
        18,
        '"!" is not a valid gitignore-style pattern; write a pattern such as "build/" or '
        '"**/migrations/*.py"',
    ),
    (
        "exclude-bad-range",
        'exclude = ["[z-a].py"]\n',
        1,
        12,
        '"[z-a].py" is not a valid gitignore-style pattern; write a pattern such as "build/" or '
        '"**/migrations/*.py"',
    ),
    (
        "extend-exclude-wrong-type",
        'extend-exclude = "generated/"\n',
        1,
        18,
        'extend-exclude must be an array of strings, not the string "generated/"; '
        'write extend-exclude = ["generated/"]',
    ),
    (
        "extend-exclude-element-wrong-type",
        'extend-exclude = ["a", false]\n',
        1,
        24,
        "extend-exclude[1] must be a string, not the boolean false; "
        'write extend-exclude = ["generated/"]',
    ),
    (
        "extend-exclude-invalid-pattern",
        'extend-exclude = ["!"]\n',
        1,
        19,
        '"!" is not a valid gitignore-style pattern; write a pattern such as "build/" or '
        '"**/migrations/*.py"',
    ),
    (
        "include-tests-wrong-type",
        'include-tests = "yes"\n',
        1,
        17,
        'include-tests must be true or false, not the string "yes"; write include-tests = true',
    ),
    (
        "respect-gitignore-wrong-type",
        "respect-gitignore = 0\n",
        1,
        21,
        "respect-gitignore must be true or false, not the integer 0; "
        "write respect-gitignore = false",
    ),
    (
        "include-tests-misspelled",
        "include-test = true\n",
        1,
        1,
        'unknown key "include-test" at the top level; write "include-tests" instead',
    ),
    (
        "source-root-absolute",
        'source-roots = ["/src"]\n',
        1,
        17,
        'source root "/src" is not a directory inside the project root; write it relative '
        'to the project root with "/", such as "src"',
    ),
    (
        "source-root-outside",
        'source-roots = ["src", "../lib"]\n',
        1,
        24,
        'source root "../lib" is not a directory inside the project root; write it relative '
        'to the project root with "/", such as "src"',
    ),
    (
        "categories-wrong-type",
        'categories = "critical"\n',
        1,
        14,
        'categories must be a table, not the string "critical"; write a table such as '
        "[categories.critical]",
    ),
    (
        "category-wrong-type",
        "[categories]\ncritical = 3\n",
        2,
        12,
        "categories.critical must be a table, not the integer 3; write a table such as "
        '[categories.critical] with backoff = "exponential"',
    ),
    (
        "jitter-wrong-type",
        '[categories.c]\njitter = "yes"\n',
        2,
        10,
        'categories.c.jitter must be true or false, not the string "yes"; write jitter = true',
    ),
    (
        "dead-letter-wrong-type",
        "[categories.c]\ndead-letter = 1\n",
        2,
        15,
        "categories.c.dead-letter must be true or false, not the integer 1; "
        "write dead-letter = true",
    ),
    (
        "description-wrong-type",
        "[categories.c]\ndescription = []\n",
        2,
        15,
        "categories.c.description must be a string, not an array; "
        'write description = "payments; a lost task loses money"',
    ),
    (
        "max-retries-not-a-table",
        "[categories.c]\nmax-retries = 3\n",
        2,
        15,
        "categories.c.max-retries must be a table, not the integer 3; write "
        "max-retries = { max = 5 }, or { min = 5, max = 5 } for an exact count",
    ),
    (
        "max-retries-bool-is-not-an-int",
        "[categories.c]\nmax-retries = { max = true }\n",
        2,
        23,
        "categories.c.max-retries.max must be a whole number, not the boolean true; write max = 3",
    ),
    (
        "max-retries-float",
        "[categories.c]\nmax-retries = { min = 1.5 }\n",
        2,
        23,
        "categories.c.max-retries.min must be a whole number, not the float 1.5; write min = 3",
    ),
    (
        "max-retries-negative",
        "[categories.c]\nmax-retries = { max = -1 }\n",
        2,
        23,
        "categories.c.max-retries.max is -1, but retries cannot be negative; "
        "write 0 or more (counted as retries after the first run)",
    ),
    (
        "min-greater-than-max",
        "[categories.c]\nmax-retries = { max = 3, min = 5 }\n",
        2,
        32,
        "categories.c.max-retries has min = 5 greater than max = 3; make min at most 3, "
        "or raise max",
    ),
    (
        "min-greater-than-max-as-sub-table",
        "[categories.c.max-retries]\nmin = 4\nmax = 2\n",
        2,
        7,
        "categories.c.max-retries has min = 4 greater than max = 2; make min at most 2, "
        "or raise max",
    ),
    *(
        (
            f"bad-duration-{label}",
            f"[categories.c]\nmax-window = {value}\n",
            2,
            14,
            f"categories.c.max-window = {value} is not a duration{reason}; write a whole number "
            'with a unit s, m, h or d ("90s", "15m", "6h", "2d"), units from the largest down '
            '("1h30m", "2d12h"), or a whole number of seconds (900)',
        )
        for label, value, reason in [
            ("unit", '"90x"', ' ("x" is not a unit)'),
            ("no-unit", '"90"', " (the number has no unit)"),
            ("fraction", '"1.5h"', ' ("1.5h" is not a whole number followed by a unit)'),
            ("space", '"15 m"', ' ("15 m" is not a whole number followed by a unit)'),
            ("empty", '""', " (it is empty)"),
            ("increasing-units", '"30m1h"', ' ("h" comes after the smaller unit "m")'),
            ("repeated-unit", '"1h 2h"', ' (the unit "h" appears twice)'),
            ("trailing-junk", '"1h30"', ' ("30" is not a whole number followed by a unit)'),
            ("negative", "-5", ""),
            ("float", "1.5", ""),
            ("bool", "true", ""),
        ]
    ),
    (
        "bad-backoff",
        '[categories.c]\nbackoff = "exponentail"\n',
        2,
        11,
        '"exponentail" is not a minimum backoff kind; write one of "none", "fixed", '
        '"linear", "exponential" (weakest to strongest)',
    ),
    (
        "custom-backoff-is-not-a-minimum",
        '[categories.c]\nbackoff = "custom"\n',
        2,
        11,
        '"custom" is not a minimum backoff kind; write one of "none", "fixed", '
        '"linear", "exponential" (weakest to strongest)',
    ),
    (
        "backoff-wrong-type",
        "[categories.c]\nbackoff = 2\n",
        2,
        11,
        'categories.c.backoff must be a string, not the integer 2; write backoff = "exponential"',
    ),
    (
        "unknown-rule",
        '[rules]\nRL999 = "off"\n',
        2,
        1,
        'unknown rule code "RL999"; use one of: ' + ", ".join(sorted(KNOWN_RULES)),
    ),
    (
        "unknown-rule-lowercase",
        '[rules]\nrl101 = "off"\n',
        2,
        1,
        'unknown rule code "rl101"; write "RL101" instead',
    ),
    (
        "bad-severity",
        '[rules]\nRL101 = "warn"\n',
        2,
        9,
        '"warn" is not a severity; write "warning" instead',
    ),
    (
        "severity-wrong-type",
        "[rules]\nRL101 = false\n",
        2,
        9,
        'rules.RL101 must be a string, not the boolean false; write RL101 = "warning"',
    ),
    (
        "rl002-cannot-be-re-severitied",
        '[rules]\nRL101 = "off"\nRL002 = "error"\n',
        3,
        1,
        "RL002 cannot be re-severitied or turned off: it reports what retrylint could not "
        "read and never fails a run; remove this line",
    ),
    (
        "unknown-enabled-framework",
        '[frameworks]\nenabled = ["celery", "celeri"]\n',
        2,
        22,
        'unknown framework "celeri" in frameworks.enabled; write "celery" instead',
    ),
    (
        "unknown-framework-table",
        '[frameworks.dramatic]\nversion = "1.0"\n',
        1,
        13,
        'unknown framework or key "dramatic" in [frameworks]; write "dramatiq" instead',
    ),
    (
        "unknown-framework-setting",
        '[frameworks.celery]\ndecorators = ["a.b"]\n',
        2,
        1,
        'unknown key "decorators" in [frameworks.celery]; write "task-decorators" instead',
    ),
    (
        "framework-version-float",
        "[frameworks.celery]\nversion = 5.3\n",
        2,
        11,
        'frameworks.celery.version must be a string, not the float 5.3; write version = "5.3"',
    ),
    (
        "framework-version-not-a-version",
        '[frameworks.celery]\nversion = "latest"\n',
        2,
        11,
        'version "latest" is not a version number; write it as a string of numbers and dots, '
        'such as "5.3.1"',
    ),
    (
        "task-decorator-not-a-name",
        '[frameworks.celery]\ntask-decorators = ["ok.name", "not a name"]\n',
        2,
        31,
        '"not a name" is not a dotted Python name; write one such as "app.utils.task"',
    ),
    (
        "settings-module-not-a-name",
        '[frameworks.django-q2]\nsettings-module = "my-site.settings"\n',
        2,
        19,
        '"my-site.settings" is not a dotted Python name; write one such as "mysite.settings"',
    ),
    (
        "frameworks-enabled-wrong-type",
        '[frameworks]\nenabled = "celery"\n',
        2,
        11,
        'frameworks.enabled must be an array of strings, not the string "celery"; '
        'write enabled = ["celery", "tenacity"]',
    ),
    (
        "unknown-default-category",
        'default-category = "critcal"\n' + CATEGORIES,
        1,
        20,
        'unknown category "critcal"; write "critical" or define [categories.critcal]',
    ),
    (
        "unknown-default-category-no-close-match",
        'default-category = "zzz"\n' + CATEGORIES,
        1,
        20,
        'unknown category "zzz"; define [categories.zzz]',
    ),
    (
        "default-category-without-categories",
        'default-category = "critical"\n',
        1,
        20,
        'unknown category "critical"; the file has no [categories], so only the built-in '
        '"default" exists; write "default" or add [categories.critical]',
    ),
    (
        "task-unknown-category",
        CATEGORIES + '[tasks]\n"app.x" = "critcal"\n',
        6,
        11,
        'unknown category "critcal"; write "critical" or define [categories.critcal]',
    ),
    (
        "task-unknown-category-in-inline-table",
        CATEGORIES + '[tasks]\n"app.x" = { owner = "o", category = "nope" }\n',
        6,
        37,
        'unknown category "nope"; define [categories.nope]',
    ),
    (
        "task-without-categories-table",
        '[tasks]\n"app.x" = "critical"\n',
        2,
        11,
        'unknown category "critical"; the file has no [categories], so only the built-in '
        '"default" exists; write "default" or add [categories.critical]',
    ),
    (
        "task-missing-category",
        CATEGORIES + '[tasks]\n"app.x" = { owner = "o" }\n',
        6,
        1,
        'tasks."app.x" has no category; write { category = "NAME" } with the name of a '
        "[categories] table",
    ),
    (
        "task-unknown-field",
        CATEGORIES + '[tasks]\n"app.x" = { category = "bulk", onwer = "o" }\n',
        6,
        32,
        'unknown key "onwer" in [tasks."app.x"]; write "owner" instead',
    ),
    (
        "task-wrong-type",
        CATEGORIES + '[tasks]\n"app.x" = 3\n',
        6,
        11,
        'tasks."app.x" must be a category name or a table, not the integer 3; write '
        '"app.tasks.send" = "critical", or { category = "critical", owner = "payments" }',
    ),
    (
        "task-owner-wrong-type",
        CATEGORIES + '[tasks]\n"app.x" = { category = "bulk", owner = 1 }\n',
        6,
        40,
        'tasks."app.x".owner must be a string, not the integer 1; write owner = "team-payments"',
    ),
    (
        "task-unquoted-dotted-key",
        CATEGORIES + '[tasks]\n"ok" = "bulk"\napp.tasks.send = "critical"\n',
        7,
        1,
        "app.tasks.send is an unquoted dotted key, which TOML reads as nested tables; "
        'quote the task name: "app.tasks.send" = ...',
    ),
    (
        "task-unquoted-dotted-key-with-inline-table",
        CATEGORIES + '[tasks]\napp.send = { category = "bulk" }\n',
        6,
        1,
        "app.send is an unquoted dotted key, which TOML reads as nested tables; "
        'quote the task name: "app.send" = ...',
    ),
    (
        "task-unquoted-dotted-header",
        CATEGORIES + '[tasks.app.send]\ncategory = "bulk"\n',
        5,
        8,
        "app.send is an unquoted dotted key, which TOML reads as nested tables; "
        'quote the task name: "app.send" = ...',
    ),
    (
        "glob-empty",
        CATEGORIES + '[tasks]\n"  " = "bulk"\n',
        6,
        1,
        'task key "  " is empty; write a task name or a glob such as "app.tasks.*"',
    ),
    (
        "glob-whitespace",
        CATEGORIES + '[tasks]\n"app tasks.*" = "bulk"\n',
        6,
        1,
        'task key "app tasks.*" contains whitespace, which no task name has; remove it, '
        "or match any character with ?",
    ),
    (
        "glob-unclosed-bracket",
        CATEGORIES + '[tasks]\n"app.[]x].*" = "bulk"\n"app.[ab" = "bulk"\n',
        7,
        1,
        'task glob "app.[ab" has an unclosed [; close it with ], or write [[] to match a literal [',
    ),
    (
        "duplicate-task-after-stripping",
        CATEGORIES + '[tasks]\n"app.x" = "bulk"\n"app.y" = "bulk"\n" app.x " = "critical"\n',
        8,
        1,
        'task "app.x" is already listed on line 6 (keys are compared without surrounding '
        "spaces); keep one of the two entries",
    ),
    (
        "assume-unquoted-dotted-key",
        "[assume]\nsettings.MAX_RETRIES = 5\n",
        2,
        1,
        "settings.MAX_RETRIES is an unquoted dotted key, which TOML reads as nested tables; "
        'quote the expression: "settings.MAX_RETRIES" = ...',
    ),
    (
        "assume-date-value",
        '[assume]\n"X" = [1, 1979-05-27]\n',
        2,
        11,
        "assume.X[1] must be a number, string, boolean, array or table, not a date or time; "
        "write the value the expression has at run time, such as 5",
    ),
    (
        "assume-empty-expression",
        '[assume]\n"" = 1\n',
        2,
        1,
        "an [assume] key is empty; write the expression exactly as in the code, such as "
        '"settings.MAX_RETRIES" = 5',
    ),
    (
        "rules-wrong-type",
        'rules = ["RL101"]\n',
        1,
        9,
        'rules must be a table, not an array; write a table such as [rules] with RL101 = "warning"',
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [case[1:] for case in REFUSALS],
    ids=[case[0] for case in REFUSALS],
)
def test_refusals(tmp_path: Path, text: str, line: int, column: int, message: str) -> None:
    error = refusal(tmp_path, text)
    assert (error.line, error.column, error.message) == (line, column, message)
    assert str(error) == f"retrylint.toml:{line}:{column}: {message}"
    assert "; " in error.message


def test_error_path_is_relative_to_cwd_when_under_it(tmp_path: Path) -> None:
    config = tmp_path / "sub" / "retrylint.toml"
    config.parent.mkdir()
    config.write_text("bad = 1\n", encoding="utf-8")
    kwargs = {"known_rules": KNOWN_RULES, "known_frameworks": KNOWN_FRAMEWORKS}
    with pytest.raises(ConfigError) as inside:
        load_policy(Path("sub/retrylint.toml"), cwd=tmp_path, **kwargs)
    assert inside.value.path == "sub/retrylint.toml"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with pytest.raises(ConfigError) as outside:
        load_policy(config, cwd=elsewhere, **kwargs)
    assert outside.value.path == str(config)


def test_relative_config_path_is_rooted_at_its_directory(tmp_path: Path) -> None:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "retrylint.toml").write_text("[categories]\n", encoding="utf-8")
    policy = load_policy(
        Path("proj/retrylint.toml"),
        known_rules=KNOWN_RULES,
        known_frameworks=KNOWN_FRAMEWORKS,
        cwd=tmp_path,
    )
    assert policy.root == tmp_path / "proj"
    assert policy.path == "retrylint.toml"


def test_unreadable_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_policy(
            tmp_path / "missing.toml",
            known_rules=KNOWN_RULES,
            known_frameworks=KNOWN_FRAMEWORKS,
            cwd=tmp_path,
        )
    assert str(info.value) == (
        "missing.toml:1:1: cannot read the config file (No such file or directory); "
        "check the path and its permissions"
    )


def test_non_utf8_config_points_at_the_bad_byte(tmp_path: Path) -> None:
    config = tmp_path / "retrylint.toml"
    config.write_bytes('exclude = ["é"]\n# caf'.encode() + b"\xe9\n")
    with pytest.raises(ConfigError) as info:
        load_policy(
            config, known_rules=KNOWN_RULES, known_frameworks=KNOWN_FRAMEWORKS, cwd=tmp_path
        )
    assert (info.value.line, info.value.column) == (2, 6)
    assert info.value.message == "the file is not valid UTF-8; save it with UTF-8 encoding"


def test_config_error_pickles_and_formats() -> None:
    error = ConfigError("a.toml", 3, 7, "bad; good")
    assert str(error) == "a.toml:3:7: bad; good"
    assert error.args == ("a.toml", 3, 7, "bad; good")


# --- discovery ------------------------------------------------------------------------------

CONFIG_FILE_NAMES = ("retrylint.toml", ".retrylint.toml", "pyproject.toml")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    if any((parent / name).exists() for parent in tmp_path.parents for name in CONFIG_FILE_NAMES):
        pytest.skip("a config file above the temporary directory would be discovered")
    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    return tmp_path


def test_discover_nothing(tree: Path) -> None:
    assert discover_config(tree / "a" / "b") is None


def test_discover_walks_up_from_a_directory(tree: Path) -> None:
    (tree / "retrylint.toml").touch()
    assert discover_config(tree / "a" / "b" / "c") == tree / "retrylint.toml"


def test_discover_from_a_file_starts_at_its_directory(tree: Path) -> None:
    (tree / "a" / "b" / ".retrylint.toml").touch()
    (tree / "a" / "b" / "tasks.py").touch()
    assert discover_config(tree / "a" / "b" / "tasks.py") == tree / "a" / "b" / ".retrylint.toml"


def test_discover_the_nearest_directory_wins(tree: Path) -> None:
    (tree / "retrylint.toml").touch()
    (tree / "a" / ".retrylint.toml").touch()
    assert discover_config(tree / "a" / "b") == tree / "a" / ".retrylint.toml"


def test_discover_order_within_a_directory(tree: Path) -> None:
    directory = tree / "a"
    (directory / "pyproject.toml").write_text("[tool.retrylint]\n", encoding="utf-8")
    assert discover_config(directory) == directory / "pyproject.toml"
    (directory / ".retrylint.toml").touch()
    assert discover_config(directory) == directory / ".retrylint.toml"
    (directory / "retrylint.toml").touch()
    assert discover_config(directory) == directory / "retrylint.toml"


def test_discover_skips_a_pyproject_without_the_table(tree: Path) -> None:
    (tree / "retrylint.toml").touch()
    (tree / "a" / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.ruff]\nline-length = 100\n', encoding="utf-8"
    )
    assert discover_config(tree / "a" / "b") == tree / "retrylint.toml"


def test_discover_accepts_a_dotted_tool_key(tree: Path) -> None:
    (tree / "a" / "pyproject.toml").write_text(
        '[tool]\nretrylint.exclude = ["x"]\n', encoding="utf-8"
    )
    assert discover_config(tree / "a") == tree / "a" / "pyproject.toml"


def test_discover_picks_a_broken_pyproject_that_declares_the_table(tree: Path) -> None:
    pyproject = tree / "a" / "pyproject.toml"
    pyproject.write_text('[tool.retrylint]\nexclude = ["x"\n', encoding="utf-8")
    (tree / "retrylint.toml").touch()
    assert discover_config(tree / "a") == pyproject
    with pytest.raises(ConfigError) as info:
        load_policy(pyproject, known_rules=KNOWN_RULES, known_frameworks=KNOWN_FRAMEWORKS, cwd=tree)
    assert str(info.value).startswith("a/pyproject.toml:3:1: invalid TOML: ")


def test_discover_skips_a_broken_pyproject_without_the_table(tree: Path) -> None:
    (tree / "a" / "pyproject.toml").write_text("[project\n", encoding="utf-8")
    (tree / "retrylint.toml").touch()
    assert discover_config(tree / "a") == tree / "retrylint.toml"


def test_discover_relative_start(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tree / "a" / "retrylint.toml").touch()
    monkeypatch.chdir(tree / "a" / "b")
    found = discover_config(Path("."))
    assert found == tree / "a" / "retrylint.toml"
    assert found.is_absolute()
