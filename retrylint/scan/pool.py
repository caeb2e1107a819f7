"""Parsing that survives any file: worker processes that can be killed and replaced.

A repository can hold anything under a `.py` name. libcst (which reads what `ast` does not)
runs native code that can crash the interpreter or run for minutes on pathological input, and
our own extraction recurses on deep expressions. So one file must never take the scan down with it:

* Every parse runs in a fresh thread with a large stack and a fixed recursion limit. Deep
  expressions then fail (or succeed) at the same depth whichever process parses them, and the
  native parser's recursion cannot overflow the small default stack.
* Any exception becomes a located `ParseProblem` (RL000) instead of an internal error.
* With more than one worker, files are parsed in worker processes. A worker that dies (a
  native crash, the memory cap) or that exceeds the per-file wall-time cap is killed and
  replaced; its file becomes RL000 "parser crashed" or "too slow" and the scan goes on. A file is
  only called crashed after it crashed a worker on its own, so results do not depend on which
  files happened to share a pool.
* Results come back in the order of the jobs, whatever the number of workers.
* Small files go to a worker several at a time, so a run of many small modules does not wait
  for a round trip to the pool per file. A batch that crashes a worker or passes the time cap
  is not blamed on any of its files: each is run again alone, and only then judged.

Limits come from the environment: `RETRYLINT_FILE_TIMEOUT` (seconds of wall time per file,
`0` or `off` for none; default 20) and `RETRYLINT_FILE_MEMORY` (MiB of address space a worker
may grow by, `0` or `off` for none; default 2048). Both apply only in worker processes; files
larger than `MAX_FILE_BYTES` are refused deterministically before any parsing.
"""

from __future__ import annotations

import contextlib
import faulthandler
import gc
import os
import pickle
import stat
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias, TypeVar, cast

from retrylint.python import ir
from retrylint.scan.python_parse import ParseProblem, load_parser, parse_python

Job: TypeAlias = tuple[str, str, str, ir.Interest]  # absolute path, reported path, module, interest
Result: TypeAlias = ir.ModuleSummary | ParseProblem
ExecutorFactory: TypeAlias = Callable[..., ProcessPoolExecutor]
Advance: TypeAlias = Callable[[int], None]  # told how many more jobs have a result

TIMEOUT_ENV = "RETRYLINT_FILE_TIMEOUT"
MEMORY_ENV = "RETRYLINT_FILE_MEMORY"
DEFAULT_TIMEOUT = 20.0  # seconds; a safety net far above any real file (~200 KB/s)
DEFAULT_MEMORY_MB = 2048
# No task module comes near this; parsing one would take ~10 s and ~1 GB.
MAX_FILE_BYTES = 2 * 1024 * 1024
# The stack and recursion limit every parse runs with, in-process and in workers alike.
_STACK_BYTES = 256 * 1024 * 1024
_RECURSION_LIMIT = 10_000
_OFF = frozenset({"0", "off", "none", "no", "false"})

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-file caps enforced by killing the worker; `None` means no cap."""

    timeout: float | None = DEFAULT_TIMEOUT
    memory_mb: int | None = DEFAULT_MEMORY_MB

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """Read the caps; a malformed value raises `ValueError` with what to write instead."""
        env = os.environ if environ is None else environ
        timeout: float | None = DEFAULT_TIMEOUT
        memory: int | None = DEFAULT_MEMORY_MB
        raw = env.get(TIMEOUT_ENV, "").strip()
        if raw.lower() in _OFF:
            timeout = None
        elif raw:
            try:
                timeout = float(raw)
            except ValueError:
                timeout = -1.0
            if not timeout > 0 or timeout == float("inf"):
                raise ValueError(
                    f"{TIMEOUT_ENV}={raw!r} is not a number of seconds; "
                    f"write a positive number such as {TIMEOUT_ENV}=60, or 0 for no cap"
                )
        raw = env.get(MEMORY_ENV, "").strip()
        if raw.lower() in _OFF:
            memory = None
        elif raw:
            if not raw.isdigit() or int(raw) <= 0:
                raise ValueError(
                    f"{MEMORY_ENV}={raw!r} is not a number of MiB; "
                    f"write a whole number such as {MEMORY_ENV}=4096, or 0 for no cap"
                )
            memory = int(raw)
        return cls(timeout, memory)


# --- one file ----------------------------------------------------------------------------------


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def parse_file(job: Job) -> Result:
    """Read and parse one file in the calling thread; every failure is a `ParseProblem`."""
    absolute, path, dotted, interest = job
    try:
        # Non-blocking, so a FIFO named `.py` is refused instead of waiting for a writer.
        fd = os.open(absolute, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(fd, "rb") as handle:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return ParseProblem(path, 1, 1, "not a regular file")
            source = handle.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        return ParseProblem(path, 1, 1, f"cannot read file: {err.strerror or err}")
    if len(source) > MAX_FILE_BYTES:
        return ParseProblem(
            path,
            1,
            1,
            f"file is {_megabytes(max(info.st_size, len(source)))}; retrylint does not parse "
            f"files larger than {_megabytes(MAX_FILE_BYTES)}",
        )
    # A parse builds tens of thousands of short-lived, acyclic nodes: the cycle collector
    # would walk the whole heap again and again (in a long run, every summary kept so far)
    # and find nothing; reference counting frees them.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return parse_python(source, path, dotted, interest)
    except RecursionError:
        return ParseProblem(path, 1, 1, "nesting too deep for the parser")
    except Exception as err:  # out of memory, or an internal bug: one file, not the whole scan
        return _failed(path, err)
    finally:
        if collecting:
            gc.enable()


def _failed(path: str, err: BaseException) -> ParseProblem:
    """The RL000 of a file whose parse or its sending back raised `err`."""
    if isinstance(err, MemoryError):
        return ParseProblem(path, 1, 1, "the parser ran out of memory")
    return ParseProblem(path, 1, 1, f"the parser crashed ({_describe(err)})")


def _describe(err: BaseException) -> str:
    text = " ".join(str(err).split())
    if len(text) > 120:
        text = text[:117] + "..."
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


class WorkerExhausted(Exception):
    """The worker cannot start a parse thread any more: not the file's fault, so the file is
    tried again in a fresh worker."""


def in_parse_thread(function: Callable[[], T]) -> T:
    """Run `function` in a fresh thread with a large stack and a fixed recursion limit.

    The call depth a parse starts at is then the same in the main process and in a worker, so
    "nesting too deep" is decided identically whatever the number of workers.
    """
    outcome: list[tuple[bool, object]] = []

    def target() -> None:
        try:
            outcome.append((True, function()))
        except BaseException as err:
            outcome.append((False, err))

    try:
        previous_stack = threading.stack_size(_STACK_BYTES)
    except (ValueError, RuntimeError):  # a platform that cannot size thread stacks
        previous_stack = None
    previous_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_RECURSION_LIMIT)
    try:
        thread = threading.Thread(target=target, name="retrylint-parse", daemon=True)
        try:
            thread.start()
        except RuntimeError:
            # No address space left for the stack, usually garbage of an earlier file that
            # ran out of memory under the cap: collect it and try once more.
            gc.collect()
            thread = threading.Thread(target=target, name="retrylint-parse", daemon=True)
            try:
                thread.start()
            except RuntimeError as err:
                raise WorkerExhausted(str(err)) from None
        thread.join()
    finally:
        sys.setrecursionlimit(previous_limit)
        if previous_stack is not None:
            threading.stack_size(previous_stack)
    ok, value = outcome[0]
    if not ok:
        raise cast(BaseException, value)
    return cast(T, value)


def parse_job(job: Job) -> Result:
    """One file, parsed in-process but safely (large stack, every failure a `ParseProblem`)."""
    return in_parse_thread(lambda: parse_file(job))


def _work(jobs: Sequence[Job]) -> list[bytes]:
    """The worker's task: parse and pickle each file of a batch in one parse thread (pickling
    recurses too). Each file is parsed from the same call depth as one parsed alone."""

    def run() -> list[bytes]:
        pickled: list[bytes] = []
        for job in jobs:
            result = parse_file(job)
            try:
                pickled.append(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
            except (MemoryError, RecursionError, pickle.PicklingError) as err:
                # read, but not sendable (a MemoryError: no room left under the cap)
                problem = _failed(job[1], err)
                pickled.append(pickle.dumps(problem, protocol=pickle.HIGHEST_PROTOCOL))
        return pickled

    return in_parse_thread(run)


def _init_worker(memory_mb: int | None) -> None:
    """Load the parser, quiet the worker and cap its address space at what it has then plus
    `memory_mb`. Each worker imports the parser itself while the main process goes on reading
    files, instead of the main process importing it before the fork."""
    load_parser()
    if not os.environ.get("RETRYLINT_DEBUG"):
        # A native crash prints to stderr (a Rust allocation failure, a fault report); the file
        # is reported as RL000 instead, and stderr stays for retrylint's own one-line errors.
        faulthandler.disable()  # it may write to a copy of stderr (pytest enables it)
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
    try:
        import resource
    except ImportError:  # not on this platform
        return
    if not os.environ.get("RETRYLINT_DEBUG"):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core files in the user's tree
    if memory_mb is None:
        return
    baseline = _address_space()
    if baseline is None:
        return
    # The parse thread's stack is address space too: it comes on top of the cap.
    cap = baseline + _STACK_BYTES + memory_mb * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _address_space() -> int | None:
    """This process's virtual size in bytes (Linux), or None where it cannot be read."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


# --- many files --------------------------------------------------------------------------------

# Files smaller than this go to a worker together, up to this many bytes a batch: about 0.1 s of
# parsing, long next to a round trip to a worker (1-3 ms on a busy machine) and far below the
# time cap.
_BATCH_BYTES = 24 * 1024
_BATCH_FILES = 32
# Batches shrink as the queue does, so that at the end no worker waits long on another's: a
# batch holds at most the queue's bytes over this many per worker, or `_SMALL_BATCH`, and never
# more than a worker's share of the queue, so that a few small files still go to every worker.
_BATCHES_PER_WORKER = 4
_SMALL_BATCH = 4 * 1024


def _too_slow(job: Job, timeout: float) -> ParseProblem:
    return ParseProblem(
        job[1],
        1,
        1,
        f"too slow to parse: still running after {timeout:g} s, so its worker was stopped "
        f"(set {TIMEOUT_ENV} to allow more)",
    )


def _crashed(job: Job, limits: Limits) -> ParseProblem:
    cap = f", or it reached the {limits.memory_mb} MiB memory cap" if limits.memory_mb else ""
    return ParseProblem(
        job[1], 1, 1, f"the parser crashed: its worker process died (a native crash{cap})"
    )


def _kill(executor: ProcessPoolExecutor) -> None:
    """Stop every worker now; the executor is unusable afterwards."""
    kill_workers = getattr(executor, "kill_workers", None)  # Python 3.14+
    processes = getattr(executor, "_processes", None)
    killed = False
    if callable(kill_workers):
        with contextlib.suppress(Exception):
            kill_workers()
            killed = True
    elif isinstance(processes, dict):
        for process in list(processes.values()):
            with contextlib.suppress(OSError, ValueError, AttributeError):
                process.kill()
        killed = True
    # Waiting is only safe once the workers are dead: a hung one would block it forever.
    executor.shutdown(wait=killed, cancel_futures=True)


def _size(job: Job) -> int:
    try:
        return os.stat(job[0]).st_size
    except OSError:
        return 0  # the worker reports why it cannot read the file


class _Queue:
    """Jobs (by index) waiting for a worker, largest file first so that no large file starts
    last, handed out in batches. A job marked `alone` only ever runs in a batch of its own."""

    def __init__(self, sizes: Sequence[int], indexes: Sequence[int] | None = None) -> None:
        self._sizes = sizes
        if indexes is None:
            indexes = sorted(range(len(sizes)), key=lambda i: (-sizes[i], i))
        self._waiting = deque(indexes)
        self._bytes = sum(sizes[i] for i in indexes)
        self.alone: set[int] = set()

    def __len__(self) -> int:
        return len(self._waiting)

    def __iter__(self) -> Iterator[int]:
        return iter(self._waiting)

    def take(self, width: int) -> tuple[int, ...]:
        """The next batch, for a pool of `width` workers."""
        first = self._waiting.popleft()
        batch = [first]
        total = self._sizes[first]
        if first not in self.alone:
            share = (self._bytes - total) // (width * _BATCHES_PER_WORKER)
            budget = min(_BATCH_BYTES, max(share, _SMALL_BATCH), self._bytes // width)
            while self._waiting and len(batch) < _BATCH_FILES:
                following = self._waiting[0]
                if following in self.alone or total + self._sizes[following] > budget:
                    break
                batch.append(self._waiting.popleft())
                total += self._sizes[following]
        self._bytes -= total
        return tuple(batch)

    def put_back(self, indexes: Sequence[int], *, alone: bool = False) -> None:
        """Jobs that must start again, first (each in a batch of its own with `alone`)."""
        if alone:
            self.alone.update(indexes)
        self._waiting.extendleft(reversed(indexes))
        self._bytes += sum(self._sizes[i] for i in indexes)


class _Round:
    """One executor's life: run jobs from a queue until it is done, breaks or must be killed."""

    def __init__(
        self,
        factory: ExecutorFactory,
        jobs: Sequence[Job],
        results: list[Result | None],
        limits: Limits,
        width: int,
        advance: Advance | None = None,
    ) -> None:
        self.jobs = jobs
        self.results = results
        self.limits = limits
        self.width = width
        self.advance = advance
        self.executor = factory(
            max_workers=width, initializer=_init_worker, initargs=(limits.memory_mb,)
        )
        self.broken = False
        self.unavailable = False  # the platform refused to start a worker process
        self.running: dict[Future[list[bytes]], tuple[tuple[int, ...], float]] = {}
        self.keep = False  # leave the workers running when done, for `Workers` to reuse
        # Files given to idle workers before the parse that wants them (`prefetch`).
        self.early: dict[Future[list[bytes]], tuple[Job, float]] = {}

    def reuse(
        self, jobs: Sequence[Job], results: list[Result | None], advance: Advance | None
    ) -> _Round:
        """The same healthy workers, for another set of jobs."""
        self.jobs, self.results, self.advance = jobs, results, advance
        return self

    def prefetch(self, job: Job) -> None:
        """Start `job` now if a worker is free; a parse of it later takes it over (`adopt`)."""
        busy = sum(not future.done() for future in (*self.early, *self.running))
        if busy >= self.width:
            return
        try:
            future = self.executor.submit(_work, [job])
        except (BrokenProcessPool, OSError):  # the parse that wants the file finds out again
            return
        self.early[future] = (job, time.monotonic())

    def adopt(self, jobs: Sequence[Job]) -> set[int]:
        """Take the files of `jobs` started early as running, with their clocks: what comes
        of them (a result, a crash, the time cap) is then judged like any other file."""
        where = {job: index for index, job in enumerate(jobs)}
        taken: set[int] = set()
        for future, (job, started) in list(self.early.items()):
            index = where.get(job)
            if index is not None and index not in taken:
                del self.early[future]
                self.running[future] = ((index,), started)
                taken.add(index)
        return taken

    def run(self, queue: _Queue) -> list[int]:
        """Returns the jobs that were running when a worker died (each one a suspect)."""
        try:
            return self._run(queue)
        finally:
            if self.running:
                _kill(self.executor)
            elif not (self.keep and not self.broken and not self.unavailable):
                self.executor.shutdown(wait=True)

    def _running_jobs(self) -> list[int]:
        return sorted(i for batch, _ in self.running.values() for i in batch)

    def _run(self, queue: _Queue) -> list[int]:
        while queue or self.running:
            while queue and len(self.running) < self.width:
                batch = queue.take(self.width)
                try:
                    future = self.executor.submit(_work, [self.jobs[i] for i in batch])
                except BrokenProcessPool:  # a worker died since the last wait
                    queue.put_back(batch)
                    self.broken = True
                    return self._running_jobs()
                except OSError:  # cannot fork (process limit, memory): parse here instead
                    queue.put_back(batch)
                    self.unavailable = True
                    queue.put_back(self._running_jobs())
                    return []
                self.running[future] = (batch, time.monotonic())
            done, _ = wait(self.running, timeout=self._patience(), return_when=FIRST_COMPLETED)
            suspects: list[int] = []
            answered = 0
            for future in sorted(done, key=lambda f: self.running[f][0]):
                batch, _started = self.running.pop(future)
                error = future.exception()
                if isinstance(error, BrokenProcessPool | WorkerExhausted):
                    suspects.extend(batch)
                elif error is not None and len(batch) > 1:
                    queue.put_back(batch, alone=True)  # to find which file it was
                elif error is not None:
                    job = self.jobs[batch[0]]
                    self.results[batch[0]] = _failed(job[1], error)
                    answered += 1
                else:
                    for index, pickled in zip(batch, future.result(), strict=True):
                        self.results[index] = pickle.loads(pickled)
                    answered += len(batch)
            if answered and self.advance is not None:
                self.advance(answered)
            if suspects:
                self.broken = True
                return sorted([*suspects, *self._running_jobs()])
            if self._expire(queue):
                return []
        return []

    def _patience(self) -> float | None:
        if self.limits.timeout is None or not self.running:
            return None
        oldest = min(started for _, started in self.running.values())
        return max(0.0, oldest + self.limits.timeout - time.monotonic())

    def _expire(self, queue: _Queue) -> bool:
        """Mark files past the cap too slow; True when the workers must be killed. A batch past
        the cap goes back to the queue a file a batch: which of its files was slow is unknown."""
        timeout = self.limits.timeout
        if timeout is None:
            return False
        now = time.monotonic()
        late = [batch for batch, started in self.running.values() if now - started >= timeout]
        if not late:
            return False
        slow = sorted(batch[0] for batch in late if len(batch) == 1)
        for index in slow:
            self.results[index] = _too_slow(self.jobs[index], timeout)
        if slow and self.advance is not None:
            self.advance(len(slow))
        innocent = [i for i in self._running_jobs() if i not in slow]
        suspected = {i for batch in late if len(batch) > 1 for i in batch}
        # They start again, first, in a new pool.
        queue.put_back([i for i in innocent if i not in suspected])
        queue.put_back(sorted(suspected), alone=True)
        return True


def parse_in_workers(
    jobs: Sequence[Job],
    workers: int,
    *,
    limits: Limits | None = None,
    executor: ExecutorFactory = ProcessPoolExecutor,
    advance: Advance | None = None,
    kept: Workers | None = None,
) -> list[Result]:
    """Parse `jobs` in up to `workers` processes; results in job order, and `advance` told
    as they arrive. With `kept`, healthy workers are taken from it and left running in it
    afterwards."""
    limits = limits if limits is not None else Limits.from_env()
    results: list[Result | None] = [None] * len(jobs)
    sizes = [_size(job) for job in jobs]
    idle = kept.take() if kept is not None else None
    started = idle.adopt(jobs) if idle is not None else set()
    waiting = [i for i in range(len(jobs)) if i not in started]
    queue = _Queue(sizes, sorted(waiting, key=lambda i: (-sizes[i], i)))
    fruitless = 0

    def here(indexes: Iterable[int]) -> None:
        """No processes on this platform (no fork, no semaphores): parse here, uncapped."""
        for index in sorted(indexes):
            results[index] = parse_job(jobs[index])
            if advance is not None:
                advance(1)

    while queue or idle is not None:
        width = workers if kept is not None else max(1, min(workers, len(queue)))
        if idle is None and kept is not None:
            idle = kept.take()
        try:
            if idle is not None:
                round_ = idle.reuse(jobs, results, advance)
            else:
                round_ = _Round(executor, jobs, results, limits, width, advance)
        except (OSError, NotImplementedError, ImportError):
            here(queue)
            break
        idle = None
        round_.keep = kept is not None
        before = len(queue)
        suspects = round_.run(queue)
        if kept is not None and not (round_.broken or round_.unavailable or round_.running):
            kept.give(round_)
        if round_.unavailable:
            here(queue)
            break
        # Each suspect is retried alone, so a crash is blamed on the file that causes it.
        for index in suspects:
            _Round(executor, jobs, results, limits, 1, advance).run(_Queue(sizes, [index]))
            if results[index] is None:  # it broke a pool of its own
                results[index] = _crashed(jobs[index], limits)
                if advance is not None:
                    advance(1)
        # A pool that breaks before taking any job must not make this loop spin.
        fruitless = fruitless + 1 if round_.broken and len(queue) == before else 0
        if fruitless >= 3:
            for index in queue:
                results[index] = _crashed(jobs[index], limits)
            if advance is not None:
                advance(len(queue))
            break
    missing = [i for i, r in enumerate(results) if r is None]
    if missing:  # cannot happen: every job ends with a result
        raise RuntimeError(f"no parse result for {jobs[missing[0]][1]}")
    return [r for r in results if r is not None]


class Workers:
    """Worker processes kept between the parses of one run (the files of each scan round,
    then each batch of modules loaded on demand), so a batch of a few modules does not pay
    for starting processes. Workers that crashed or were killed are never kept."""

    def __init__(self) -> None:
        self._idle: _Round | None = None

    def start(
        self, workers: int, limits: Limits, executor: ExecutorFactory = ProcessPoolExecutor
    ) -> None:
        """Have `workers` ready for `prefetch` (they start with the first file it gives them);
        nothing when there are workers already or where processes cannot be made."""
        if workers <= 1 or self._idle is not None:
            return
        try:
            round_ = _Round(executor, (), [], limits, workers)
        except (OSError, NotImplementedError, ImportError):
            return
        round_.keep = True
        self._idle = round_

    def prefetch(self, job: Job) -> None:
        """Start parsing `job` in an idle worker, if there is one, while the caller goes on
        deciding what else to parse; the parse that then asks for it takes it over."""
        if self._idle is not None:
            self._idle.prefetch(job)

    def take(self) -> _Round | None:
        idle, self._idle = self._idle, None
        return idle

    def give(self, round_: _Round) -> None:
        self.close()
        self._idle = round_

    def close(self) -> None:
        """Stop the idle workers; called when the run has nothing more to parse."""
        idle = self.take()
        if idle is not None:
            idle.executor.shutdown(wait=True)


def parse_all(
    jobs: Sequence[Job],
    workers: int,
    *,
    limits: Limits | None = None,
    executor: ExecutorFactory = ProcessPoolExecutor,
    advance: Advance | None = None,
    kept: Workers | None = None,
) -> list[Result]:
    """In-process with one worker (no caps), else in killable worker processes (taken from
    and left in `kept`, when given)."""
    if not jobs:
        return []
    if workers <= 1:
        results: list[Result] = []
        for job in jobs:
            results.append(parse_job(job))
            if advance is not None:
                advance(1)
        return results
    return parse_in_workers(
        jobs, workers, limits=limits, executor=executor, advance=advance, kept=kept
    )
