"""The console entry point, which answers a check whose every input is unchanged by replaying
the output it recorded, before the CLI is even imported.

With the run cache holding the analysis, a check still spends ~0.15 s, nearly all of it
importing typer, rich, the policy loader, the rules and the renderers, against ~0.05 s for a
process that merely reads every file. A check's output is a function of the command line, the
current directory, the environment (colour, width, CI variables, `RETRYLINT_TODAY`), whether
stdout and stderr are terminals and their size, the day (RL406 judges reviews on it), the
installed retrylint, Python and the packages that render, and the files the check read: the
analysis' manifest (the run cache's), every policy file discovery looked at, and the baseline.
So a check that ends normally records its output with the stamps of those files, under a key
of all the rest; the entry point looks the key up first and, while every stamp holds, writes
the same text to the same streams and exits with the same code.

Only a check that writes nothing but stdout and stderr is recorded (no `--fix`, `--diff`,
`--write-baseline`, `--output-file`, `--output`, GitHub step summary), that read nothing from
git (`--diff-base`), and that drew no progress bar. Records live in the check's cache folder,
under `<version>/replay/`; they are looked for under `--cache-dir`, else in the nearest
`.retrylint_cache` folder above the current directory or a PATH, so a check whose config
names another cache folder is not recorded. The same racy-clean rule as the caches' applies:
a file changed less than `RACY_SECONDS` before the check began is not trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing import TextIO

from retrylint import __version__
from retrylint.scan import stamps as stamping
from retrylint.scan.stamps import DEFAULT_DIRECTORY, Stamp

# Set by the shell and changed by moving around in it, without bearing on the output.
_VOLATILE_ENV = frozenset({"_", "OLDPWD", "PWD", "SHLVL"})
# Besides retrylint's own modules: what parses and what renders.
_PACKAGES = ("libcst", "tree_sitter", "tree_sitter_go", "pathspec", "rich", "typer")
_FORMAT = 1
# Records kept: each is one command line's output with its manifest.
KEPT = 32


class _Armed:
    """A check the entry point could not replay: what its record would be filed under.
    (A plain class: `dataclasses` costs the entry point more to import than a replay.)"""

    def __init__(self, key: str, day: str, began_ns: int, folders: list[str]) -> None:
        self.key = key
        self.day = day
        self.began_ns = began_ns
        self.folders = folders
        self.spoiled = False


# The check this process runs, once the entry point found no record of it (at most one).
_armed: list[_Armed] = []


def main() -> None:
    """Replay the check `sys.argv` asks for if its record holds, else run the CLI."""
    argv = sys.argv[1:]
    if argv[:1] == ["check"]:
        began = time.time_ns()
        day = time.strftime("%Y-%m-%d")
        key = _key(argv, day)
        folders = candidate_folders(argv)
        for folder in folders:
            code = _replayed(os.path.join(folder, __version__, "replay", key))
            if code is not None:
                sys.exit(code)
        _armed.append(_Armed(key, day, began, folders))
    from retrylint.cli import main as run_cli

    run_cli()


def candidate_folders(argv: list[str]) -> list[str]:
    """The cache folders a record of this command line is looked for in: `--cache-dir` (the
    last one given, as for every option), else `RETRYLINT_CACHE_DIR`, else the nearest
    `.retrylint_cache` above the current directory and above each PATH."""
    given = [
        value
        for index, arg in enumerate(argv)
        for value in (
            arg.partition("=")[2] if arg.startswith("--cache-dir=") else None,
            argv[index + 1] if arg == "--cache-dir" and index + 1 < len(argv) else None,
        )
        if value is not None
    ]
    named = given[-1] if given else os.environ.get("RETRYLINT_CACHE_DIR")
    if named:
        return [os.path.abspath(named)]
    found: list[str] = []
    seen: set[str] = set()
    for start in (os.getcwd(), *(a for a in argv[1:] if not a.startswith("-"))):
        folder = os.path.abspath(start)
        while folder not in seen:
            seen.add(folder)
            candidate = os.path.join(folder, DEFAULT_DIRECTORY)
            if os.path.isdir(candidate):
                found.append(candidate)
                break
            folder = os.path.dirname(folder)
    return found


def _key(argv: list[str], day: str) -> str:
    terminals: list[tuple[int, int] | None] = []
    for fd in (1, 2):
        try:
            size = os.get_terminal_size(fd) if os.isatty(fd) else None
        except OSError:
            size = None
        terminals.append((size.columns, size.lines) if size else None)
    environment = sorted((k, v) for k, v in os.environ.items() if k not in _VOLATILE_ENV)
    salt = stamping.salt(stamping.package_modules(), _PACKAGES).decode()
    parts = [_FORMAT, argv, os.getcwd(), environment, terminals, day, sys.executable, salt]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _replayed(path: str) -> int | None:
    """Write a record's output and return its exit code, or None (and write nothing) when
    there is no such record, it is damaged, or a file it was read from changed."""
    try:
        with open(path, "rb") as handle:
            record = json.loads(handle.read())
    except (OSError, ValueError):
        return None
    if not _well_formed(record) or not all(stamping.holds(tuple(s)) for s in record["read"]):
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # used now: the last records `prune` removes
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="backslashreplace")  # as `cli.main` does
    for fd, text in record["output"]:
        (sys.stdout if fd == 1 else sys.stderr).write(text)
    code: int = record["exit"]
    return code


def _well_formed(record: object) -> bool:
    return (
        isinstance(record, dict)
        and record.get("format") == _FORMAT
        and record.get("exit") in (0, 1)
        and isinstance(record.get("read"), list)
        and all(stamping.is_stamp(s) for s in record["read"])
        and isinstance(record.get("output"), list)
        and all(
            isinstance(c, list) and len(c) == 2 and c[0] in (1, 2) and isinstance(c[1], str)
            for c in record["output"]
        )
    )


def spoil() -> None:
    """This check's output is not to be replayed (it drew a progress bar)."""
    for armed in _armed:
        armed.spoiled = True


class Recording:
    """What a check writes to stdout and stderr, in order, as it passes through."""

    def __init__(self, armed: _Armed) -> None:
        self.armed = armed
        self.output: list[tuple[int, str]] = []

    def keep(self, code: int, folder: str, read: Iterable[Stamp], extra: Iterable[str]) -> None:
        """File the output under the check's key, valid while `read` (the analysis' manifest)
        and the files `extra` (the policy files, the baseline) stay as they are now. Nothing
        is kept for a check that spoiled it, that ran into the next day, or that read a file
        changed too lately to be trusted."""
        armed = self.armed
        if (
            armed.spoiled
            or code not in (0, 1)
            or armed.day != time.strftime("%Y-%m-%d")
            or os.path.realpath(folder) not in {os.path.realpath(f) for f in armed.folders}
        ):
            return
        more = stamping.stamps(extra)
        if not stamping.trusted(more, armed.began_ns):
            return
        record = {"format": _FORMAT, "exit": code, "read": [*read, *more], "output": self.output}
        from pathlib import Path

        from retrylint.scan.cache import atomic_write  # loaded by the check already

        directory = os.path.join(folder, __version__, "replay")
        with contextlib.suppress(OSError):
            os.makedirs(directory, exist_ok=True)
            atomic_write(Path(directory, armed.key), json.dumps(record).encode())
            stamping.prune(directory, KEPT)


@contextlib.contextmanager
def recording() -> Iterator[Recording | None]:
    """Keep what is written to stdout and stderr while passing it on, when the entry point
    armed a record (a check it could not replay); else None and nothing is kept."""
    if not _armed:
        yield None
        return
    kept = Recording(_armed[-1])
    out, err = sys.stdout, sys.stderr
    sys.stdout = _Tee(out, 1, kept.output)
    sys.stderr = _Tee(err, 2, kept.output)
    try:
        yield kept
    finally:
        sys.stdout, sys.stderr = out, err


class _Tee:
    """A stream that keeps each text written and passes everything else (isatty, fileno,
    encoding) to the real one, so rich sees the terminal it would have seen."""

    def __init__(self, stream: TextIO, fd: int, output: list[tuple[int, str]]) -> None:
        self._stream = stream
        self._fd = fd
        self._output = output

    def write(self, text: str) -> int:
        self._output.append((self._fd, text))
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
