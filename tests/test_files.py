"""Which files a run scans (CONTRACTS §1 "Which files"): test code, `.gitignore`, folders that
are never entered, `exclude`/`extend-exclude`, named paths, the counts, and the summary line.

Each rule has a case that skips and a near miss that does not. `.gitignore` handling is also
compared with git itself on one tree, where git is installed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pathspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from retrylint.analysis import _go_files, file_rules
from retrylint.cli import app
from retrylint.scan.files import Discovery, FileRules, _Patterns, discover, is_test_file
from tests.conftest import analyze, write_project

TASK = """\
from celery import shared_task

@shared_task(max_retries=3, autoretry_for=(IOError,), retry_backoff=True)
def {name}():
    pass
"""


def tree(root: Path, *paths: str) -> Path:
    """Files with a line of code each; a path ending in "/" is an empty folder."""
    for rel in paths:
        path = root / rel
        if rel.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x = 1\n", encoding="utf-8")
    return root


def run(
    root: Path,
    paths: list[Path] | None = None,
    exclude: tuple[str, ...] = (),
    **rules: bool,
) -> Discovery:
    spec = pathspec.GitIgnoreSpec.from_lines(exclude)
    return discover(paths or [root], root, FileRules(spec, **rules))


def scanned(
    root: Path,
    paths: list[Path] | None = None,
    exclude: tuple[str, ...] = (),
    **rules: bool,
) -> list[str]:
    return [f.path for f in run(root, paths, exclude, **rules).files]


# --- test code --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "test_tasks.py",
        "test_.py",
        "tasks_test.py",
        "tests.py",
        "conftest.py",
        "conftest_fixtures.py",
        "worker_test.go",
    ],
)
def test_test_file_names(name: str) -> None:
    assert is_test_file(name)


@pytest.mark.parametrize(
    "name",
    [
        "tasks.py",
        "testing_utils.py",  # a module, not `test_*`
        "latest.py",
        "contest.py",
        "my_tests.py",
        "test.py",  # pytest's default `test_*.py` needs the underscore
        "Test_tasks.py",  # names are case-sensitive, as pytest's default patterns are
        "test_worker.go",  # Go test files end in `_test.go`, nothing else
        "tests.go",
        "conftest.go",
        "test_tasks.pyi",
    ],
)
def test_not_test_file_names(name: str) -> None:
    assert not is_test_file(name)


def test_test_folders_and_files_are_skipped_and_counted(tmp_path: Path) -> None:
    tree(
        tmp_path,
        "app/tasks.py",
        "app/tests/test_tasks.py",
        "app/tests/helpers.py",  # any file in a test folder
        "app/tests/deeper/fixtures.py",
        "test/a.py",
        "testing/b.go",
        "app/test_inline.py",
        "app/inline_test.py",
        "app/tests.py",
        "conftest.py",
        "app/conftest_db.py",
        "svc/worker_test.go",
        "svc/worker.go",
        "Tests/case_sensitive.py",
        "tests_util/near_miss.py",
        "app/testing_utils.py",
        "app/tests/notes.txt",  # only .py and .go files count
    )
    result = run(tmp_path)
    assert [f.path for f in result.files] == [
        "Tests/case_sensitive.py",
        "app/tasks.py",
        "app/testing_utils.py",
        "svc/worker.go",
        "tests_util/near_miss.py",
    ]
    assert dict(result.skipped.files) == {"test": 11}
    assert dict(result.skipped.folders) == {}


def test_include_tests_scans_test_code(tmp_path: Path) -> None:
    tree(tmp_path, "app/tasks.py", "app/tests/helpers.py", "conftest.py", "svc/w_test.go")
    result = run(tmp_path, include_tests=True)
    assert [f.path for f in result.files] == [
        "app/tasks.py",
        "app/tests/helpers.py",
        "conftest.py",
        "svc/w_test.go",
    ]
    assert dict(result.skipped.files) == {}


# --- folders that are never entered -----------------------------------------------------------


def test_virtualenvs_are_found_by_pyvenv_cfg_whatever_their_name(tmp_path: Path) -> None:
    tree(
        tmp_path,
        "app/tasks.py",
        "py311-prod/lib/python3.11/site-packages/celery/app/task.py",
        ".tox/py311/lib/python3.11/site-packages/rq/job.py",
        "venv/tasks.py",  # named like a virtualenv, but holds no pyvenv.cfg: source code
    )
    (tmp_path / "py311-prod" / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    (tmp_path / ".tox" / "py311" / "pyvenv.cfg").write_text("home = /usr\n", encoding="utf-8")
    result = run(tmp_path)
    assert [f.path for f in result.files] == ["app/tasks.py", "venv/tasks.py"]
    # Never entered, so never counted: they are not the project's code.
    assert dict(result.skipped.files) == {} and dict(result.skipped.folders) == {}


def test_go_vendor_folder_only_with_modules_txt(tmp_path: Path) -> None:
    tree(
        tmp_path,
        "go/vendor/github.com/hibiken/asynq/client.go",
        "go/vendor/modules.txt",
        "py/vendor/payments/tasks.py",  # vendored by hand, no modules.txt: scanned
        "go/main.go",
    )
    assert scanned(tmp_path) == ["go/main.go", "py/vendor/payments/tasks.py"]


def test_build_and_dist_folders_are_source_folders(tmp_path: Path) -> None:
    tree(tmp_path, "build/tasks.py", "dist/jobs.py", "src/app/tasks.py")
    assert scanned(tmp_path) == ["build/tasks.py", "dist/jobs.py", "src/app/tasks.py"]


def test_vcs_node_modules_and_caches_are_never_entered(tmp_path: Path) -> None:
    tree(
        tmp_path,
        "app.py",
        ".git/hooks/pre-commit.py",
        ".hg/store/x.py",
        ".svn/pristine/x.py",
        "web/node_modules/pkg/build.py",
        "app/__pycache__/stray.py",
        ".mypy_cache/3.11/x.py",
        ".pytest_cache/x.py",
        ".ruff_cache/x.py",
    )
    result = run(tmp_path)
    assert [f.path for f in result.files] == ["app.py"]
    assert dict(result.skipped.files) == {} and dict(result.skipped.folders) == {}


# --- .gitignore -------------------------------------------------------------------------------


def test_gitignore_root_nested_and_negation(tmp_path: Path) -> None:
    tree(
        tmp_path,
        ".git/",
        "app/tasks.py",
        "app/generated/models.py",
        "app/generated/keep.py",
        "app/local_settings.py",
        "scratch/try.py",
        "out/sub/x.py",
        "out/sub/y.py",
    )
    (tmp_path / ".gitignore").write_text(
        "# comment\nlocal_settings.py\n/scratch/\nout/\n!out/sub/y.py\n", encoding="utf-8"
    )
    (tmp_path / "app" / ".gitignore").write_text("generated/*\n!generated/keep.py\n", "utf-8")
    result = run(tmp_path)
    # A negation re-includes a file whose folder is not ignored, never one below an ignored
    # folder (out/sub/y.py), as in git.
    assert [f.path for f in result.files] == ["app/generated/keep.py", "app/tasks.py"]
    assert dict(result.skipped.files) == {"gitignore": 2}
    assert dict(result.skipped.folders) == {"gitignore": 2}  # scratch/ and out/, not entered


def test_deeper_gitignore_overrides_a_shallower_one(tmp_path: Path) -> None:
    tree(tmp_path, "app/tasks_gen.py", "lib/tasks_gen.py")
    (tmp_path / ".gitignore").write_text("*_gen.py\n", encoding="utf-8")
    (tmp_path / "app" / ".gitignore").write_text("!tasks_gen.py\n", encoding="utf-8")
    assert scanned(tmp_path) == ["app/tasks_gen.py"]


def test_respect_gitignore_false_scans_ignored_files(tmp_path: Path) -> None:
    tree(tmp_path, ".git/", "app/tasks.py", "gen/models.py", "app/local.py")
    (tmp_path / ".gitignore").write_text("gen/\nlocal.py\n", encoding="utf-8")
    assert scanned(tmp_path) == ["app/tasks.py"]
    assert scanned(tmp_path, respect_gitignore=False) == [
        "app/local.py",
        "app/tasks.py",
        "gen/models.py",
    ]


def test_gitignore_of_the_repository_above_the_project_root(tmp_path: Path) -> None:
    repo = tree(tmp_path / "repo", ".git/", "services/shop/app/tasks.py")
    tree(repo, "services/shop/app/settings_local.py", "services/shop/app/build_info.py")
    (repo / ".gitignore").write_text("settings_local.py\n", encoding="utf-8")
    (repo / "services" / ".gitignore").write_text("build_info.py\n", encoding="utf-8")
    # Outside the repository: not git's, so not ours.
    (tmp_path / ".gitignore").write_text("tasks.py\n", encoding="utf-8")
    project = repo / "services" / "shop"
    assert scanned(project) == ["app/tasks.py"]


def test_without_a_repository_gitignore_counts_from_the_project_root(tmp_path: Path) -> None:
    tree(tmp_path, "outer/project/app/tasks.py", "outer/project/app/local.py")
    (tmp_path / "outer" / ".gitignore").write_text("tasks.py\n", encoding="utf-8")
    (tmp_path / "outer" / "project" / ".gitignore").write_text("local.py\n", encoding="utf-8")
    assert scanned(tmp_path / "outer" / "project") == ["app/tasks.py"]


def test_a_nested_repository_has_its_own_rules(tmp_path: Path) -> None:
    tree(tmp_path, ".git/", "app/jobs.py", "third_party/lib/.git/", "third_party/lib/jobs.py")
    (tmp_path / ".gitignore").write_text("jobs.py\n", encoding="utf-8")
    assert scanned(tmp_path) == ["third_party/lib/jobs.py"]


def test_a_project_its_repository_ignores_is_still_scanned(tmp_path: Path) -> None:
    repo = tree(tmp_path, ".git/", "sandbox/proj/app/tasks.py", "sandbox/proj/app/x.pyc")
    (repo / ".gitignore").write_text("sandbox/\n*.log\n", encoding="utf-8")
    project = repo / "sandbox" / "proj"
    tree(project, "app/own.py")
    (project / ".gitignore").write_text("own.py\n", encoding="utf-8")
    assert scanned(project) == ["app/tasks.py"]


def test_unusual_gitignore_files_neither_hang_nor_fail(tmp_path: Path) -> None:
    tree(tmp_path, "a/tasks.py", "a/bad.py", "b/tasks.py", "c/tasks.py")
    # Invalid lines are dropped, as git drops them; the valid ones still count.
    (tmp_path / "a" / ".gitignore").write_bytes(b"!\n[z-a]\n\\\nbad.py\n\xff\xfe\n")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "b" / ".gitignore")  # reading it would block forever
    (tmp_path / "c" / ".gitignore").symlink_to(tmp_path / "a" / ".gitignore")  # git skips it
    assert scanned(tmp_path) == ["a/tasks.py", "b/tasks.py", "c/tasks.py"]


def test_a_bracket_pattern_python_finds_ambiguous_prints_no_warning(tmp_path: Path) -> None:
    # Next.js catch-all routes are named `[[...slug]].tsx`; a .gitignore naming one is valid
    # for git, but Python's `re` warns (FutureWarning "Possible nested set") on the `[[`. A
    # user must not see a Python warning from a .gitignore; the rule itself still applies.
    tree(tmp_path, "app/tasks.py", "web/[[...slug]].py", "web/s].py")
    (tmp_path / ".gitignore").write_text("web/[[...slug]].py\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert scanned(tmp_path) == ["app/tasks.py", "web/[[...slug]].py"]


GIT_TREE = (
    "app/tasks.py",
    "app/gen/a.py",
    "app/gen/keep.py",
    "gen/a.py",
    "gen/keep.py",
    "app/cache/deep/x.py",
    "app/cache/deep/keep.py",
    "docs/conf.py",
    "docs/build/html/x.py",
    "lib/one.py",
    "lib/two.py",
    "lib/sub/three.py",
    "lib/sub/sub/four.py",
    "top.py",
    "x/top.py",
    "weird name/[x].py",
    "a/b/c/d.py",
    "b/a/c.py",
)
GIT_IGNORES = {
    ".gitignore": "gen/*\n!gen/keep.py\ncache/\n!cache/deep/keep.py\n/top.py\n**/c/*.py\n",
    "docs/.gitignore": "build/\n",
    "lib/.gitignore": "*.py\n!one.py\nsub/**/four.py\n",
    "lib/sub/.gitignore": "!three.py\n",
    "weird name/.gitignore": "\\[x].py\n",
}


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_gitignore_handling_agrees_with_git(tmp_path: Path) -> None:
    tree(tmp_path, *GIT_TREE)
    for rel, text in GIT_IGNORES.items():
        (tmp_path / rel).write_text(text, encoding="utf-8")
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(tmp_path),
    }
    subprocess.run(["git", "init", "-q", "."], cwd=tmp_path, env=env, check=True)
    listed = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard", "-z"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    ).stdout.decode()
    by_git = sorted(p for p in listed.split("\0") if p.endswith(".py"))
    assert scanned(tmp_path) == by_git
    assert "gen/keep.py" in by_git and "gen/a.py" not in by_git
    assert "lib/sub/sub/four.py" not in by_git and "app/cache/deep/keep.py" not in by_git


PATTERN_PIECES = st.sampled_from(["a", "b", "/", "*", "**", "?", "[ab]", "[!a]", "!", "\\", "."])
PATH_PIECES = st.sampled_from(["a", "b", "ab", "ba", ".a", "[x]", "*"])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(PATTERN_PIECES, min_size=1, max_size=6).map("".join), max_size=5),
    st.lists(st.lists(PATH_PIECES, min_size=1, max_size=4).map("/".join), max_size=8),
    st.booleans(),
)
def test_the_combined_regex_only_answers_no_match(
    lines: list[str], paths: list[str], folders: bool
) -> None:
    """The one-regex shortcut must never disagree with pathspec itself."""
    try:
        spec = pathspec.GitIgnoreSpec.from_lines(lines)
    except (ValueError, re.error):
        return  # refused in the policy, dropped from a .gitignore
    patterns = _Patterns.of(spec)
    assert patterns.any_match is not None
    for path in (p + "/" if folders else p for p in paths):
        assert patterns.verdict(path) == spec.check_file(path).include


# --- exclude and extend-exclude ---------------------------------------------------------------


def test_exclude_prunes_folders_and_counts_files(tmp_path: Path) -> None:
    tree(tmp_path, "app/tasks.py", "app/migrations/0001.py", "app/proto/x_pb2.py", "keep_pb2.py")
    result = run(tmp_path, exclude=("migrations/", "*_pb2.py", "!keep_pb2.py"))
    assert [f.path for f in result.files] == ["app/tasks.py", "keep_pb2.py"]
    assert dict(result.skipped.files) == {"exclude": 1}
    assert dict(result.skipped.folders) == {"exclude": 1}


def test_exclude_cannot_bring_back_what_the_rules_skip(tmp_path: Path) -> None:
    tree(tmp_path, "tests/test_a.py", "gen/a.py")
    (tmp_path / ".gitignore").write_text("gen/\n", encoding="utf-8")
    assert scanned(tmp_path, exclude=("!tests/", "!gen/")) == []


def test_extend_exclude_in_a_policy_file_adds_patterns(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "retrylint.toml": 'exclude = ["legacy/"]\nextend-exclude = ["generated/"]\n',
            "app/tasks.py": TASK.format(name="send"),
            "legacy/tasks.py": TASK.format(name="old"),
            "generated/tasks.py": TASK.format(name="gen"),
        },
    )
    report = analyze(tmp_path)
    assert [r.name for r in report.rows] == ["tasks.send"]
    assert report.skipped.folders == {"exclude": 2}


# --- named paths ------------------------------------------------------------------------------


def test_a_named_file_is_scanned_whatever_the_rules_say(tmp_path: Path) -> None:
    tree(
        tmp_path,
        "tests/test_tasks.py",
        "gen/models.py",
        "legacy/old.py",
        "env/lib/site.py",
        "env/pyvenv.cfg",
    )
    (tmp_path / ".gitignore").write_text("gen/\n", encoding="utf-8")
    named = [tmp_path / p for p in ("tests/test_tasks.py", "gen/models.py", "legacy/old.py")]
    result = run(tmp_path, [*named, tmp_path / "env/lib/site.py"], exclude=("legacy/",))
    assert [f.path for f in result.files] == [
        "env/lib/site.py",
        "gen/models.py",
        "legacy/old.py",
        "tests/test_tasks.py",
    ]
    assert dict(result.skipped.files) == {} and dict(result.skipped.folders) == {}


def test_a_named_file_also_found_by_a_walk_is_scanned_not_counted(tmp_path: Path) -> None:
    tree(tmp_path, "tests/test_tasks.py", "tests/test_other.py")
    result = run(tmp_path, [tmp_path / "tests" / "test_tasks.py", tmp_path])
    assert [f.path for f in result.files] == ["tests/test_tasks.py"]
    assert dict(result.skipped.files) == {"test": 1}


def test_a_named_folder_is_judged_like_a_folder_found(tmp_path: Path) -> None:
    tree(
        tmp_path,
        ".git/",
        "app/tests/unit/test_a.py",
        "app/tests/unit/helpers.py",
        "gen/sub/x.py",
        "legacy/sub/y.py",
        "env/lib/z.py",
        "env/pyvenv.cfg",
    )
    (tmp_path / ".gitignore").write_text("gen/\n", encoding="utf-8")

    def named(rel: str, **rules: bool) -> Discovery:
        return run(tmp_path, [tmp_path / rel], exclude=("legacy/",), **rules)

    unit = named("app/tests/unit")
    assert unit.files == () and dict(unit.skipped.files) == {"test": 2}
    assert [f.path for f in named("app/tests/unit", include_tests=True).files] == [
        "app/tests/unit/helpers.py",
        "app/tests/unit/test_a.py",
    ]
    ignored = named("gen/sub")
    assert ignored.files == () and dict(ignored.skipped.folders) == {"gitignore": 1}
    assert [f.path for f in named("gen/sub", respect_gitignore=False).files] == ["gen/sub/x.py"]
    excluded = named("legacy/sub")
    assert excluded.files == () and dict(excluded.skipped.folders) == {"exclude": 1}
    venv = named("env/lib")
    assert venv.files == () and dict(venv.skipped.folders) == {}


def test_the_project_root_itself_is_never_judged(tmp_path: Path) -> None:
    project = tree(tmp_path / "tests", "tasks.py")
    assert scanned(project) == ["tasks.py"]


def test_paths_outside_the_project_root(tmp_path: Path) -> None:
    tree(tmp_path, "project/app.py", "other/tasks.py", "other/tests/t.py")
    project = tmp_path / "project"
    result = run(project, [tmp_path / "other"], exclude=("tasks.py",))
    # `exclude` is relative to the project root and cannot name these; the other rules hold.
    assert [f.path for f in result.files] == ["../other/tasks.py"]
    assert dict(result.skipped.files) == {"test": 1}


def test_a_walk_from_above_the_project_root_applies_exclude_inside_it(tmp_path: Path) -> None:
    tree(tmp_path, "project/app.py", "project/legacy/old.py", "sibling/s.py")
    project = tmp_path / "project"
    assert scanned(project, [tmp_path], exclude=("legacy/",)) == ["../sibling/s.py", "app.py"]


def test_discovery_does_not_depend_on_the_order_of_paths(tmp_path: Path) -> None:
    tree(tmp_path, "a/tasks.py", "a/tests/t.py", "b/jobs.py", "b/gen/g.py")
    (tmp_path / ".gitignore").write_text("gen/\n", encoding="utf-8")
    forward = run(tmp_path, [tmp_path / "a", tmp_path / "b", tmp_path])
    backward = run(tmp_path, [tmp_path, tmp_path / "b", tmp_path / "a"])
    assert forward == backward


# --- facts from files that are not scanned ----------------------------------------------------


def test_an_ignored_module_still_supplies_facts(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            ".gitignore": "app/generated_settings.py\n",
            "app/__init__.py": "",
            "app/generated_settings.py": "RETRIES = 4\n",
            "app/tasks.py": """\
                from celery import shared_task
                from app.generated_settings import RETRIES

                @shared_task(max_retries=RETRIES, autoretry_for=(IOError,), retry_backoff=True)
                def send():
                    pass
                """,
        },
    )
    report = analyze(tmp_path)
    (row,) = report.rows
    assert (row.name, row.max_retries) == ("app.tasks.send", 4)
    assert report.skipped.files == {"gitignore": 1}


def test_go_project_facts_leave_out_test_files(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "retrylint.toml": "",
            "svc/consts.go": "package svc\n",
            "svc/consts_test.go": "package svc\n",
        },
    )
    policy = analyze(tmp_path).policy
    assert list(_go_files(discover([tmp_path], tmp_path, file_rules(policy)))) == ["svc/consts.go"]
    (tmp_path / "retrylint.toml").write_text("include-tests = true\n", encoding="utf-8")
    policy = analyze(tmp_path).policy
    assert list(_go_files(discover([tmp_path], tmp_path, file_rules(policy)))) == [
        "svc/consts.go",
        "svc/consts_test.go",
    ]


# --- what a user sees -------------------------------------------------------------------------


def test_summary_line_says_what_was_skipped_and_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_project(
        tmp_path,
        {
            ".gitignore": "local_tasks.py\nscratch/\n",
            "retrylint.toml": 'extend-exclude = ["legacy/"]\n',
            "app/tasks.py": TASK.format(name="send"),
            "app/local_tasks.py": TASK.format(name="mine"),
            "app/broken.py": "from celery import shared_task\ndef (:\n",
            "tests/test_tasks.py": TASK.format(name="fake"),
            "tests/conftest.py": "",
            "app/tasks_test.py": TASK.format(name="fake2"),
            "scratch/try.py": TASK.format(name="scratch"),
            "legacy/old.py": TASK.format(name="old"),
        },
    )
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["check", "."])
    *_, summary, skipped = result.stdout.splitlines()
    assert summary.startswith("Found ")
    assert skipped == (
        "Skipped 5 files (3 test files, 1 ignored by .gitignore, 1 unparsable) "
        "and 2 folders (1 ignored by .gitignore, 1 excluded)."
    )
    document = json.loads(CliRunner().invoke(app, ["check", "--format", "json", "."]).stdout)
    assert document["summary"]["files_scanned"] == 1
    assert document["summary"]["files_skipped"] == 5
    assert document["summary"]["files_skipped_by_reason"] == {
        "test": 3,
        "gitignore": 1,
        "exclude": 0,
        "unparsable": 1,
    }
    assert document["summary"]["folders_skipped_by_reason"] == {"gitignore": 1, "exclude": 1}


def test_no_summary_line_when_nothing_was_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_project(tmp_path, {"app/tasks.py": TASK.format(name="send")})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["check", "."])
    assert result.stdout == "All checks passed: 1 task, 1 file.\n"
