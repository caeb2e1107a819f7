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

from retrylint import __version__
from retrylint.scan import stamps as stamping
from retrylint.scan.stamps import DEFAULT_DIRECTORY, Stamp

TYPE_CHECKING = False  # `typing` itself costs the entry point more than a replay's writes
if TYPE_CHECKING:
    from typing import Any, TextIO

# Set by the shell and changed by moving around in it, without bearing on the output.
_VOLATILE_ENV = frozenset({"_", "OLDPWD", "PWD", "SHLVL"})
# Options of checks that are never recorded (they write files, read git or skip the cache):
# for those the entry point does not even compute a key.
_NEVER_KEPT = frozenset(
    {
        "--no-cache",
        "--fix",
        "--diff",
        "--watch",
        "-w",
        "--write-baseline",
        "--output-file",
        "-o",
        "--output",
        "--diff-base",
    }
)
# Besides retrylint's own modules and rule documents (SARIF embeds them): what parses and
# what renders.
_PACKAGES = ("libcst", "tree_sitter", "tree_sitter_go", "pathspec", "rich", "typer")
_FORMAT = 2
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
    if argv[:1] == ["check"] and not any(a.partition("=")[0] in _NEVER_KEPT for a in argv):
        try:
            armed, record = _look_up(argv)
        except Exception:  # a replay is only a shortcut: whatever stops it, the CLI runs
            armed, record = None, None
        if record is not None and sys.stdout is not None and sys.stderr is not None:
            sys.exit(_write(record))
        if armed is not None:
            _armed.append(armed)
    from retrylint.cli import main as run_cli

    run_cli()


def _look_up(argv: list[str]) -> tuple[_Armed, dict[str, Any] | None]:
    began = time.time_ns()
    day = time.strftime("%Y-%m-%d")
    armed = _Armed(_key(argv, day), day, began, _candidate_folders(argv))
    for folder in armed.folders:
        path = os.path.join(folder, __version__, "replay", armed.key)
        record = _holding(path)
        if record is not None:
            with contextlib.suppress(OSError):
                os.utime(path)  # used now: the last records `prune` removes
            return armed, record
    return armed, None


def _candidate_folders(argv: list[str]) -> list[str]:
    """Where `main` looks for a record, before typer parses anything: where the check will
    have kept its cache, `--cache-dir` (the last one given, as for every option), else
    `RETRYLINT_CACHE_DIR`, else the default folder in the project root, which is the nearest
    `.retrylint_cache` above the current directory or a PATH. A record is found by its key,
    so looking in a folder too many costs a `stat`, never a wrong answer."""
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
    """Everything the output depends on besides the files it read."""
    widths: list[int | None] = []
    for fd in (1, 2):
        try:
            widths.append(os.get_terminal_size(fd).columns if os.isatty(fd) else None)
        except OSError:
            widths.append(None)
    environment = sorted((k, v) for k, v in os.environ.items() if k not in _VOLATILE_ENV)
    salt = stamping.salt([*stamping.package_modules(), *_rule_docs()], _PACKAGES).decode()
    python = [sys.executable, sys.warnoptions, sys.flags.dev_mode]
    parts = [_FORMAT, argv, os.getcwd(), environment, widths, day, python, salt]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _rule_docs() -> list[str]:
    """The rule documents SARIF embeds, relative to the package: shipped in the wheel, or in
    `rules/` beside the package in a checkout (`retrylint.rules.docs`)."""
    package = os.path.dirname(os.path.abspath(__file__))
    found: list[str] = []
    for folder in ("_rule_docs", os.path.join(os.pardir, "rules")):
        with contextlib.suppress(OSError):
            found += [
                os.path.join(folder, name) for name in os.listdir(os.path.join(package, folder))
            ]
    return sorted(found)


def _holding(path: str) -> dict[str, Any] | None:
    """The record at `path` while everything it was read from is as it was, else None (a
    missing, damaged or foreign record is a miss like a changed file)."""
    try:
        with open(path, "rb") as handle:
            record = json.loads(handle.read())
        if (
            _well_formed(record)
            and all(stamping.holds(tuple(s)) for s in record["read"])
            and all(os.path.realpath(given) == real for given, real in record["links"])
        ):
            holding: dict[str, Any] = record
            return holding
    except Exception:  # nested too deep, a NUL in a path: whatever it holds, it is a miss
        return None
    return None


def _well_formed(record: object) -> bool:
    """Whether a record read back has the shape `Recording.keep` writes: it may be anything."""
    return (
        isinstance(record, dict)
        and record.get("format") == _FORMAT
        and record.get("exit") in (0, 1)
        and type(record["exit"]) is int
        and isinstance(record.get("read"), list)
        and all(stamping.is_stamp(s) for s in record["read"])
        and isinstance(record.get("links"), list)
        and all(
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
            for pair in record["links"]
        )
        and isinstance(record.get("output"), list)
        and all(
            isinstance(c, list) and len(c) == 2 and c[0] in (1, 2) and isinstance(c[1], str)
            for c in record["output"]
        )
    )


def _write(record: dict[str, Any]) -> int:
    """Write a record's output as the check wrote it, with the CLI's handling of a stream that
    fails (a closed pipe, a full disk): one line on stderr and exit 2, as `cli._guard` does."""
    try:
        if isinstance(sys.stdout, io.TextIOWrapper):
            sys.stdout.reconfigure(errors="backslashreplace")  # as `cli.main` does
        last: TextIO | None = None
        for fd, text in record["output"]:
            stream = sys.stdout if fd == 1 else sys.stderr
            if last is not None and stream is not last:
                last.flush()  # the order of stdout and stderr where both go to one place
            stream.write(text)
            last = stream
        if last is not None:
            last.flush()
    except KeyboardInterrupt:
        return _failed("retrylint: interrupted")
    except (OSError, ValueError) as err:
        detail = f"{type(err).__name__}: {err}".replace("\n", " ")
        return _failed(
            f"retrylint: internal error: {detail}; set RETRYLINT_DEBUG=1 for the traceback"
        )
    code: int = record["exit"]
    return code


def _failed(message: str) -> int:
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(message + "\n")
    with contextlib.suppress(OSError):
        # What could not be written is dropped, so the flush at exit does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return 2


def spoil() -> None:
    """This check's output is not to be replayed (it drew a progress bar)."""
    for armed in _armed:
        armed.spoiled = True


class Recording:
    """A check's stdout and stderr in the order it wrote them (the record is both streams
    interleaved, so a replay into one terminal or one log reads the same)."""

    def __init__(self, armed: _Armed) -> None:
        self.armed = armed
        self.output: list[tuple[int, str]] = []

    def keep(
        self,
        code: int,
        folder: str,
        read: Iterable[Stamp],
        *,
        files: Iterable[str] = (),
        markers: Iterable[str] = (),
        links: Iterable[str] = (),
    ) -> None:
        """File the output under the check's key, valid while `read` (the analysis' manifest),
        the `files` (the policy files, the baseline) and the existence of `markers` (a `.git`
        the report's paths depend on) stay as they are now, and each path in `links` (as
        given: PATHS, `--config`, `--baseline`) still leads where it does now. Nothing is kept
        for a check that spoiled it, ran into the next day, or read a file changed too lately
        to be trusted."""
        armed = self.armed
        if (
            armed.spoiled
            or code not in (0, 1)
            or armed.day != time.strftime("%Y-%m-%d")
            or os.path.realpath(folder) not in {os.path.realpath(f) for f in armed.folders}
        ):
            return
        more = stamping.stamps(files, markers=markers)
        if not stamping.trusted(more, armed.began_ns):
            return
        record = {
            "format": _FORMAT,
            "exit": code,
            "read": [*read, *more],
            "links": [[given, os.path.realpath(given)] for given in links],
            "output": self.output,
        }
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
        """Kept only once the stream took it: text a failed write lost is not replayed."""
        written = self._stream.write(text)
        self._output.append((self._fd, text))
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
