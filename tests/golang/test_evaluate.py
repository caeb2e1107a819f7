"""Go constant evaluation: constants across files and packages, durations, upper bounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrylint.golang.evaluate import GoEvaluator, Undecidable
from retrylint.golang.parse import walk
from retrylint.golang.project import GoProject
from tests.conftest import write_project

FILES = {
    "go.mod": "module example.com/m\n",
    "kinds/kinds.go": """
        package kinds

        type Kind string

        const Prefix = "mail:"

        const (
            Send   Kind = Prefix + "send"
            Bounce      = Prefix + "bounce"
        )

        const (
            Low = iota * 10
            Mid
            High
        )
    """,
    "kinds/more.go": """
        package kinds

        const Digest = Prefix + "digest"
    """,
    "app/app.go": """
        package app

        import (
            "fmt"
            "math"
            "time"

            k "example.com/m/kinds"
        )

        const local = k.Digest + ":v2"

        func values(n int, flag bool) {
            a := string(k.Send)
            b := local
            c := fmt.Sprintf("%s/%d", k.Prefix, k.High)
            d := 2*time.Minute + 30*time.Second
            e := time.Duration(math.Pow(2, 3)) * time.Millisecond
            f := 1 << 4 / 3
            g := -7 / 2
            x := 5
            if flag {
                x = 9
            }
            h := x
            var i time.Duration
            _ = []any{a, b, c, d, e, f, g, h, i}
        }
    """,
}


@pytest.fixture()
def setup(tmp_path: Path) -> tuple[GoEvaluator, dict[str, object]]:
    root = write_project(tmp_path, FILES)
    paths = {p.relative_to(root).as_posix(): p for p in root.rglob("*.go")}
    project = GoProject(root, lambda: paths)
    evaluator = GoEvaluator(project, {})
    file = project.file("app/app.go")
    assert file is not None
    uses = {}
    for node in walk(file.root):
        if node.type == "composite_literal":
            body = node.child_by_field_name("body")
            assert body is not None
            for element in body.named_children:
                ident = element.named_children[0]
                uses[file.text(ident)] = ident
    return evaluator, {"file": file, **uses}


def _value(setup: tuple[GoEvaluator, dict[str, object]], name: str, upper: bool = False) -> object:
    evaluator, uses = setup
    file = uses["file"]
    node = uses[name]
    evaluator.upper = upper
    return evaluator.value(node, evaluator.scope_at(file, node))  # type: ignore[arg-type]


def test_constants_across_files_and_packages(setup: tuple[GoEvaluator, dict[str, object]]) -> None:
    assert _value(setup, "a") == "mail:send"  # typed constant, converted
    assert _value(setup, "b") == "mail:digest:v2"  # another file of the package
    assert _value(setup, "c") == "mail:/20"  # Sprintf of constants, iota repeated


def test_duration_and_integer_arithmetic(setup: tuple[GoEvaluator, dict[str, object]]) -> None:
    assert _value(setup, "d") == 150_000_000_000  # nanoseconds, as Go counts
    assert _value(setup, "e") == 8_000_000
    assert _value(setup, "f") == 5  # << and / bind equally, left to right
    assert _value(setup, "g") == -3  # integer division truncates toward zero
    assert _value(setup, "i") == 0  # zero value of a declared duration


def test_branch_assignments_need_upper_mode(setup: tuple[GoEvaluator, dict[str, object]]) -> None:
    with pytest.raises(Undecidable) as caught:
        _value(setup, "h")
    assert caught.value.expression == "x"  # where the branch makes it ambiguous
    assert _value(setup, "h", upper=True) == 9


def test_closures_see_later_assignments(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "main.go": """
                package main

                func main() {
                    limit := 1
                    run := func() int { return limit }
                    limit = 2
                    _ = run
                }
            """
        },
    )
    paths = {"main.go": root / "main.go"}
    project = GoProject(root, lambda: paths)
    evaluator = GoEvaluator(project, {})
    file = project.file("main.go")
    assert file is not None
    (use,) = [
        n
        for n in walk(file.root)
        if n.type == "identifier"
        and file.text(n) == "limit"
        and n.parent.type == "expression_list"
        and n.parent.parent.type == "return_statement"
    ]
    with pytest.raises(Undecidable):
        evaluator.value(use, evaluator.scope_at(file, use))


def test_imports_without_go_mod_match_by_suffix(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"svc/jobs/kinds.go": "package jobs\n\nconst A = 1\n"})
    paths = {"svc/jobs/kinds.go": root / "svc/jobs/kinds.go"}
    project = GoProject(root, lambda: paths)
    assert project.import_directory("github.com/acme/svc/jobs") == "svc/jobs"
    assert project.import_directory("github.com/hibiken/asynq") is None
