"""Framework versions read from dependency files: locks beat requirements beat pyproject."""

from __future__ import annotations

from pathlib import Path

from retrylint.frameworks import DISTRIBUTIONS
from retrylint.scan.versions import at_least, detect


def test_requirements_pins_and_lower_bounds(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "celery[redis]==5.3.6  # pinned\nDramatiq>=1.17\nrequests==2.0\n", encoding="utf-8"
    )
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "prod.txt").write_text("huey~=3.2.0\n", encoding="utf-8")
    assert detect(tmp_path, DISTRIBUTIONS) == {
        "celery": "5.3.6",
        "dramatiq": "1.17",
        "huey": "3.2.0",
    }


def test_lock_file_beats_requirements(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("celery>=5.0\n", encoding="utf-8")
    (tmp_path / "uv.lock").write_text(
        'version = 1\n[[package]]\nname = "celery"\nversion = "5.6.3"\n'
        '[[package]]\nname = "temporalio"\nversion = "1.35.0"\n',
        encoding="utf-8",
    )
    assert detect(tmp_path, DISTRIBUTIONS) == {"celery": "5.6.3", "temporal": "1.35.0"}


def test_lock_scan_reads_only_each_package_tables_own_keys(tmp_path: Path) -> None:
    """Names in dependency lists and sub-tables are other packages' names, not versions."""
    (tmp_path / "uv.lock").write_text(
        'version = 1\nrequires-python = ">=3.11"\n\n'
        '[[package]]\nname = "app"\nversion = "0.1.0"\nsource = { editable = "." }\n'
        'dependencies = [\n    { name = "celery" },\n]\n\n'
        '[package.metadata]\nrequires-dist = [{ name = "celery", specifier = ">=5" }]\n'
        'name = "dramatiq"\nversion = "0.0.1"\n\n'
        '[[package.wheels]]\nurl = "https://example.invalid/x.whl"\n\n'
        '[[package]]\nversion = "5.4.0"\nname = "Celery"\n\n'
        '[[package]]\nname = "celery"\nversion = "4.0.0"\n',
        encoding="utf-8",
    )
    assert detect(tmp_path, DISTRIBUTIONS) == {"celery": "5.4.0"}


def test_pipfile_lock_and_pyproject(tmp_path: Path) -> None:
    (tmp_path / "Pipfile.lock").write_text(
        '{"default": {"rq": {"version": "==2.1.0"}}, "develop": {}}', encoding="utf-8"
    )
    (tmp_path / "pyproject.toml").write_text(
        '[project]\ndependencies = ["django-q2>=1.7", "rq>=1.0"]\n'
        '[tool.poetry.dependencies]\nsaq = "^0.22"\n',
        encoding="utf-8",
    )
    assert detect(tmp_path, DISTRIBUTIONS) == {"rq": "2.1.0", "django-q2": "1.7", "saq": "0.22"}


def test_broken_files_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "poetry.lock").write_text("[[package]\n", encoding="utf-8")
    (tmp_path / "Pipfile.lock").write_text("{not json", encoding="utf-8")
    assert detect(tmp_path, DISTRIBUTIONS) == {}


def test_at_least_uses_the_default_when_unknown() -> None:
    assert at_least("3.3.0", (3, 3), (3, 5, 4))
    assert not at_least("3.2.9", (3, 3), (3, 5, 4))
    assert at_least(None, (3, 3), (3, 5, 4))
    assert not at_least("2", (3, 3), (3, 5, 4))
    assert at_least("1.17.1rc1", (1, 17), (2, 2, 1))
