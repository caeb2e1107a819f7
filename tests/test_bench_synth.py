"""The benchmark's synthetic tree (bench/synth.py) is what it claims: the same bytes for the same
seed, every framework's tasks found, and no task found that the generator did not write.

A small tree from the same code stands for the million-line one: it has at least two task files
per framework, so every declaration form the generator writes appears in it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bench import synth
from retrylint.frameworks import FRAMEWORKS

SMALL = 5_000


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, synth.Tree]:
    root = tmp_path_factory.mktemp("synthetic")
    return root, synth.generate(root, SMALL)


def test_same_seed_same_bytes(small: tuple[Path, synth.Tree], tmp_path: Path) -> None:
    root, tree = small
    again = synth.generate(tmp_path / "again", SMALL)
    assert _files(tmp_path / "again") == _files(root)
    assert again == tree
    other = tmp_path / "other"
    synth.generate(other, SMALL, seed=synth.SEED + 1)
    assert _files(other) != _files(root)


def test_every_framework_is_covered() -> None:
    # A framework retrylint gains must be added to the generator, or the benchmark misses it.
    assert sorted(synth.FRAMEWORKS) == sorted(FRAMEWORKS)


def test_retrylint_finds_exactly_the_generated_tasks(small: tuple[Path, synth.Tree]) -> None:
    root, tree = small
    result = subprocess.run(
        [sys.executable, "-m", "retrylint", "inventory", "--format", "json", "--no-cache", "."],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    found = Counter(
        synth.Row(row["framework"], row["name"], row["path"], row["site"])
        for row in json.loads(result.stdout)["tasks"]
    )
    expected = Counter(tree.rows)
    assert sorted((expected - found).elements()) == [], "written but not found"
    assert sorted((found - expected).elements()) == [], "found but not written"
    # Go asynq included, both its enqueue sites and its handlers.
    assert all(count > 0 for count in tree.per_framework().values())
    assert {r.site for r in tree.rows if r.framework == "asynq"} == {"definition", "enqueue"}


def test_full_size_proportions(tmp_path: Path) -> None:
    # A fifth of the benchmark's size keeps its proportions: about 3% task files, 5% Go lines.
    tree = synth.generate(tmp_path, 200_000)
    files = tree.python_files + tree.go_files
    assert 180_000 < tree.lines < 220_000
    assert 0.025 < tree.task_files / files < 0.04
    go_lines = sum(p.read_bytes().count(b"\n") for p in tmp_path.rglob("*.go"))
    assert 0.03 < go_lines / tree.lines < 0.08
