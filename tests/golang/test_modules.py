"""asynq versions per Go module: the `go.mod` nearest each file, its `require` and `replace`.

Version-dependent semantics checked against asynq's `processor.go` (`handleFailedMessage`):
up to v0.24.1 `IsFailure` is asked before the retry budget, so `MaxRetry(0)` with an
`IsFailure` that returns false still retries forever; from v0.25.0 a spent budget archives first.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from retrylint.model import EffectivePolicy
from retrylint.scan.versions import GoModules, GoRequirement
from tests.conftest import FIXTURES, analyze, write_project

ASYNQ = "github.com/hibiken/asynq"


def _requirement(tmp_path: Path, text: str) -> GoRequirement | None:
    (tmp_path / "go.mod").write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return GoModules(tmp_path).requirement("", ASYNQ)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "module m\n\nrequire github.com/hibiken/asynq v0.24.1\n",
            ("0.24.1", "github.com/hibiken/asynq v0.24.1", 3),
            id="single-line",
        ),
        pytest.param(
            "module m\nrequire\tgithub.com/hibiken/asynq v0.24.1 // indirect\n",
            ("0.24.1", "github.com/hibiken/asynq v0.24.1", 2),
            id="single-line-tab-and-comment",
        ),
        pytest.param(
            """
            module m

            require (
            \tgithub.com/google/uuid v1.6.0
            \t"github.com/hibiken/asynq" v0.25.1 // indirect
            )
            """,
            ("0.25.1", "github.com/hibiken/asynq v0.25.1", 5),
            id="block-indirect-quoted",
        ),
        pytest.param(
            "module m\nrequire(\n github.com/hibiken/asynq v0.22.0\n)\n",
            ("0.22.0", "github.com/hibiken/asynq v0.22.0", 3),
            id="block-without-space",
        ),
        pytest.param(
            "module m\nrequire github.com/hibiken/asynq v0.23.0\n"
            "require github.com/hibiken/asynq v0.25.0-rc1\n"
            "require github.com/hibiken/asynq v0.24.1\n",
            ("0.25.0-rc1", "github.com/hibiken/asynq v0.25.0-rc1", 3),
            id="twice-the-higher-wins",
        ),
        pytest.param(
            "module m\nrequire github.com/hibiken/asynq v0.24.2-0.20240101120000-abcdef123456\n",
            ("0.24.2-0.20240101120000-abcdef123456",
             "github.com/hibiken/asynq v0.24.2-0.20240101120000-abcdef123456", 2),
            id="pseudo-version",
        ),
        pytest.param(
            "module m\nrequire github.com/hibiken/asynq v0.24.1\n"
            "replace github.com/hibiken/asynq => github.com/hibiken/asynq v0.26.0\n",
            ("0.26.0", "github.com/hibiken/asynq => github.com/hibiken/asynq v0.26.0", 3),
            id="replace-by-another-version",
        ),
        pytest.param(
            "module m\nrequire github.com/hibiken/asynq v0.24.1\nreplace (\n"
            "\tgithub.com/hibiken/asynq => ./any\n"
            "\tgithub.com/hibiken/asynq v0.24.1=>github.com/hibiken/asynq v0.25.1\n)\n",
            ("0.25.1", "github.com/hibiken/asynq v0.24.1 => github.com/hibiken/asynq v0.25.1", 5),
            id="exact-replace-beats-general",
        ),
        pytest.param(
            "module m\nrequire github.com/hibiken/asynq v0.24.1\n"
            "replace github.com/hibiken/asynq v0.20.0 => ../old\n",
            ("0.24.1", "github.com/hibiken/asynq v0.24.1", 2),
            id="replace-of-another-version-ignored",
        ),
        pytest.param(
            "module m\nrequire github.com/hibiken/asynq v0.25.0\n"
            "replace github.com/hibiken/asynq => ../asynq // patched\n",
            (None, "github.com/hibiken/asynq => ../asynq", 3),
            id="local-path-unknown",
        ),
        pytest.param(
            "module m\nrequire github.com/hibiken/asynq v0.24.1\n"
            "replace github.com/hibiken/asynq => github.com/acme/asynq v0.24.1\n",
            (None, "github.com/hibiken/asynq => github.com/acme/asynq v0.24.1", 3),
            id="fork-unknown",
        ),
    ],
)  # fmt: skip
def test_go_mod_forms(tmp_path: Path, text: str, expected: tuple[str | None, str, int]) -> None:
    found = _requirement(tmp_path, text)
    assert found is not None
    assert (found.version, found.directive, found.line, found.path) == (*expected, "go.mod")


@pytest.mark.parametrize(
    "text",
    [
        "module m\n\nrequire github.com/redis/go-redis/v9 v9.7.0\n",
        "module m\nreplace github.com/hibiken/asynq => ../asynq\n",
        "module m\nrequire github.com/hibiken/asynq\n",  # malformed: no version
        "module m\n// require github.com/hibiken/asynq v0.24.1\n",
    ],
    ids=["other-module", "replace-without-require", "no-version", "commented-out"],
)
def test_no_requirement_is_none(tmp_path: Path, text: str) -> None:
    assert _requirement(tmp_path, text) is None


def test_nearest_go_mod_wins_and_the_root_bounds_the_search(tmp_path: Path) -> None:
    (tmp_path / "go.mod").write_text("module r\nrequire github.com/hibiken/asynq v0.23.0\n")
    (tmp_path / "svc" / "a" / "b").mkdir(parents=True)
    (tmp_path / "svc" / "go.mod").write_text("module s\nrequire github.com/hibiken/asynq v0.26.0\n")
    (tmp_path / "tool").mkdir()
    (tmp_path / "tool" / "go.mod").write_text("module t\n")
    modules = GoModules(tmp_path)

    def version(directory: str) -> str | None:
        found = modules.requirement(directory, ASYNQ)
        return found.version if found is not None else "none"

    assert version("svc/a/b") == "0.26.0"
    assert version("other/deep") == "0.23.0"
    assert version("") == "0.23.0"
    # The nearest go.mod does not require asynq: the root's requirement is another module's.
    assert version("tool") == "none"
    # A project root below the go.mod: nothing above the root is read.
    assert GoModules(tmp_path / "svc" / "a").requirement("b", ASYNQ) is None


def test_each_go_mod_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "x").mkdir(parents=True)
    gomod = tmp_path / "go.mod"
    gomod.write_text("module r\nrequire github.com/hibiken/asynq v0.24.1\n")
    modules = GoModules(tmp_path)
    first = modules.requirement("pkg/x", ASYNQ)
    gomod.write_text("module r\nrequire github.com/hibiken/asynq v0.26.0\n")
    # Cached per directory: a directory passed on the way up reads nothing again.
    assert modules.requirement("pkg", ASYNQ) == first
    assert first is not None and first.version == "0.24.1"


# -- the multi-module fixture ---------------------------------------------------------------

_LOCAL = (
    "framework_version",
    "github.com/hibiken/asynq => ../third_party/asynq",
    "vendored/go.mod",
    8,
)
_FORK = (
    "framework_version",
    "github.com/hibiken/asynq v0.24.1 => github.com/acme/asynq v0.24.1-acme.2",
    "forked/go.mod",
    9,
)

# (name, site, path:line) → (framework_version, max_retries, undecided)
EXPECTED: dict[tuple[str, str, str], tuple[Any, ...]] = {
    ("audit:ship", "enqueue", "forked/main.go:8"): (None, 4, [_FORK]),
    ("billing:", "definition", "billing/main.go:24"): ("0.24.1", None, []),
    ("billing:charge", "enqueue", "billing/main.go:20"): ("0.24.1", 0, []),
    ("billing:refund", "enqueue", "billing/main.go:21"): ("0.24.1", 2, []),
    ("export:", "definition", "vendored/main.go:20"): (None, None, [_LOCAL]),
    ("export:csv", "enqueue", "vendored/main.go:17"): (None, 0, [_LOCAL]),
    ("mail:", "definition", "mailer/internal/send/send.go:23"): ("0.26.0", None, []),
    ("mail:digest", "enqueue", "mailer/internal/send/send.go:20"): ("0.26.0", 3, []),
    ("mail:welcome", "enqueue", "mailer/internal/send/send.go:19"): ("0.26.0", 0, []),
    ("nightly:compact", "enqueue", "jobs/nightly/main.go:8"): ("0.23.0", 1, []),
}  # fmt: skip


@pytest.fixture(scope="module")
def modules_report() -> Any:
    return analyze(FIXTURES / "asynq_modules")


def _key(row: EffectivePolicy) -> tuple[str, str, str]:
    return (row.name or "?", row.site, f"{row.location.path}:{row.location.line}")


def test_every_row_has_its_modules_version(modules_report: Any) -> None:
    rows = {_key(r): r for r in modules_report.rows}
    assert sorted(rows) == sorted(EXPECTED)
    for key, (version, count, undecided) in EXPECTED.items():
        row = rows[key]
        quoted = [(u.field, u.expression, u.location.path, u.location.line) for u in row.undecided]
        assert (row.framework_version, row.max_retries, quoted) == (version, count, undecided), key


def test_is_failure_before_the_budget_only_before_0_25(modules_report: Any) -> None:
    rl105 = sorted(
        (f.location.path, f.location.line, f.task)
        for f in modules_report.findings
        if f.rule == "RL105"
    )
    # billing (0.24.1): MaxRetry(0) too. mailer (0.26.0): only the site with a budget.
    # vendored (version unknown): MaxRetry(0) is not claimed either way.
    assert rl105 == [
        ("billing/main.go", 20, "billing:charge"),
        ("billing/main.go", 21, "billing:refund"),
        ("mailer/internal/send/send.go", 20, "mail:digest"),
    ]
    message = next(f.message for f in modules_report.findings if f.task == "billing:charge")
    assert "even with MaxRetry(0)" in message and "before 0.25" in message


def test_unknown_version_is_an_rl002_note(modules_report: Any) -> None:
    # One note per undecided directive, listing every task it leaves undecided.
    notes = {
        (t, f.expression) for f in modules_report.findings if f.rule == "RL002" for t in f.tasks
    }
    assert notes == {
        ("audit:ship", _FORK[1]),
        ("export:", _LOCAL[1]),
        ("export:csv", _LOCAL[1]),
    }


_LOCAL_MODULE = {
    "go.mod": """
        module example.com/x

        require github.com/hibiken/asynq v0.25.0

        replace github.com/hibiken/asynq => ./asynq-patched
    """,
    "main.go": """
        package main

        import "github.com/hibiken/asynq"

        func main() {
            asynq.NewClient(asynq.RedisClientOpt{}).Enqueue(asynq.NewTask("a:x", nil))
        }
    """,
}


@pytest.mark.parametrize(
    ("policy", "version"),
    [
        ('[assume]\n"github.com/hibiken/asynq => ./asynq-patched" = "v0.24.1"\n', "0.24.1"),
        ('[frameworks.asynq]\nversion = "0.22.0"\n', "0.22.0"),
    ],
    ids=["assume-the-directive", "policy-version-overrides"],
)
def test_policy_decides_an_unknown_version(tmp_path: Path, policy: str, version: str) -> None:
    write_project(tmp_path, {**_LOCAL_MODULE, "retrylint.toml": policy})
    (row,) = analyze(tmp_path).rows
    assert (row.framework_version, row.undecided) == (version, ())


def test_policy_version_overrides_every_module(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "a/go.mod": "module a\nrequire github.com/hibiken/asynq v0.26.0\n",
            "a/main.go": _LOCAL_MODULE["main.go"],
            "retrylint.toml": '[frameworks.asynq]\nversion = "0.24.0"\n',
        },
    )
    (row,) = analyze(tmp_path).rows
    assert row.framework_version == "0.24.0"
