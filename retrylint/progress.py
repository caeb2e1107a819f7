"""Progress on stderr for long scans: shown late, on a terminal only, and gone when the scan ends.

The engine reports what it does through `Progress` (it prints nothing itself). The CLI passes a
`TerminalProgress` only when a person is watching (`wanted`); otherwise nothing is drawn.

A bar appears only once the scan has run for `DELAY` seconds. The number of candidate files is a
poor predictor of a scan's length: a warm run over thousands of files takes a fraction of a
second, while a few candidates can make retrylint load hundreds of modules on demand. Elapsed
time is what the user notices, so a short run never flashes a bar. The delay is checked whenever
the engine reports, which it does after each file or module, so the bar appears at most one
file late.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

DELAY = 1.0
"""Seconds a scan runs before its progress is shown."""


class Progress(Protocol):
    """What the engine reports: a phase with its size (None when unknown), then steps in it."""

    def phase(self, description: str, total: int | None) -> None: ...

    def advance(self, count: int = 1) -> None: ...


class Silent:
    """No progress: machine output, a pipe, or a caller that did not ask for it."""

    def phase(self, description: str, total: int | None) -> None:
        """Nothing to show."""

    def advance(self, count: int = 1) -> None:
        """Nothing to show."""


def wanted(stream: TextIO, environ: Mapping[str, str], *, machine: bool) -> bool:
    """Whether to draw progress on `stream` (stderr).

    Never for machine formats, whose consumers may capture stderr too; never off a terminal
    (CI logs, pipes); never when the environment asks for plain output (`NO_COLOR`, set to
    anything but the empty string, per no-color.org; `TERM=dumb`, which cannot redraw a line).
    """
    if machine or environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False


class TerminalProgress:
    """A transient rich bar on `stream`, started once the scan has taken `delay` seconds."""

    def __init__(
        self,
        stream: TextIO,
        *,
        delay: float = DELAY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._delay = delay
        self._clock = clock
        self._since = clock()
        self._description = ""
        self._total: int | None = None
        self._done = 0
        self._bar: RichProgress | None = None
        self._task: TaskID | None = None

    @property
    def shown(self) -> bool:
        """Whether the bar has been started (tests read it instead of timing)."""
        return self._bar is not None

    def phase(self, description: str, total: int | None) -> None:
        self._description, self._total, self._done = description, total, 0
        self._show()

    def advance(self, count: int = 1) -> None:
        self._done += count
        self._show()

    def close(self) -> None:
        """Stop the bar; `transient` erases it, so the report starts on a clean line."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def _show(self) -> None:
        if self._bar is None:
            if self._clock() - self._since < self._delay:
                return
            self._start()
        assert self._bar is not None and self._task is not None
        self._bar.update(
            self._task, description=self._description, total=self._total, completed=self._done
        )

    def _start(self) -> None:
        # rich loads only for a scan long enough to show a bar: short runs start faster.
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        console = Console(file=self._stream, highlight=False, emoji=False)
        self._bar = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task(self._description, total=self._total)


@contextmanager
def shown_on(stream: TextIO, environ: Mapping[str, str], *, machine: bool) -> Iterator[Progress]:
    """The progress to hand the engine for one run, erased when the run ends however it ends."""
    if not wanted(stream, environ, machine=machine):
        yield Silent()
        return
    terminal = TerminalProgress(stream, delay=DELAY)
    try:
        yield terminal
    finally:
        terminal.close()
