"""Where the understand stage's CPU-bound work runs: a thread, or triage processes.

With ``HOTLINE_TRIAGE_PROCESSES=0`` (the default) a batch is triaged in a thread of the
worker: one process, but segmentation and prediction share the GIL with the event loop.
With N > 0 the chunks of a batch are spread over N spawned processes, so classification
runs on other cores while the worker's loop consumes and produces.

A triage process can die (the OOM killer, a crash in native code, a ``kill -9``) or hang.
Nothing of that may escape to the agent: faust acknowledges a crashed agent's batch and
everything it had buffered, thousands of appeals lost without a trace. So a dead process
(``BrokenProcessPool`` from a submit, from starting the pool or from a chunk) and a chunk
that takes longer than :data:`CHUNK_TIMEOUT_S` (a process stopped, or killed while
sending its result: the executor then waits for the rest of the message forever) are
handled alike: the processes are killed, new ones started after a growing pause, and the
chunks not yet handed to the caller triaged again. A chunk that keeps breaking the pool
is cut into single appeals, and an appeal whose process dies on it twice comes back
failed (``INTERNAL``: dead-lettered, kept for replay) instead of being retried forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import process as _futures_process
from concurrent.futures.process import BrokenProcessPool

from intake.errors import ErrorCode
from intake.fields import parse_json_record
from models.appeal import Appeal
from streams.triage_batch import Triaged, triage_records, warm_up

log = logging.getLogger(__name__)


def _init_process(warm: Callable[[], None] = warm_up) -> None:
    logging.basicConfig(
        level=logging.INFO, format=f"[%(asctime)s] [triage-{os.getpid()}] %(levelname)s %(message)s"
    )
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    warm()


def _exit_with_parent(parent: int) -> None:
    """A worker killed with SIGKILL cannot stop its pool: its triage processes notice here."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


#: Appeals per unit of work with triage processes. A batch is cut into chunks that are
#: all submitted at once and collected in order, so the loop publishes chunk i while
#: chunk i+1 is classified (and several processes classify chunks at the same time).
#: In a thread the whole batch is one chunk: there the overlap costs more in GIL
#: contention than it saves (bench/dispatch_throughput.py: 1,244 vs 1,327 appeals/s).
CHUNK = 100

#: Without triage processes, a batch this small (about 30 ms of work) is triaged on the
#: event loop itself: handing it to the thread and sharing the GIL with the loop while it
#: runs made each appeal take twice as long at a steady 500 appeals/s (batches of about
#: 40; bench/dispatch_throughput.py: p50 62-79 ms in the thread, 44-58 ms here, 28-35 ms
#: with the 5 ms batch window as well). Larger batches (a backlog) still go to the
#: thread, so other agents of the worker are not held up for the whole batch.
INLINE_MAX = 64

#: The watchdog's default (``HOTLINE_TRIAGE_CHUNK_TIMEOUT_S`` sets the worker's): a chunk whose
#: result has been awaited this long is taken for a stuck triage process, and the pool is
#: killed and started again as if a process had died. A chunk of 100 appeals takes about
#: 50 ms; the bound only counts while the stage waits for that chunk (not while it
#: publishes the one before), so only a process that is stopped, or was killed while
#: sending its result (the pool's manager thread then waits forever for the rest of the
#: message and never marks the pool broken), gets near it. Not used in thread mode: a
#: thread cannot be killed.
CHUNK_TIMEOUT_S = 60.0

#: Starting the processes (spawn, import, load the models: about 3 s each on 2 cores)
#: is given this long before the watchdog takes them for stuck.
START_TIMEOUT_S = 300.0

#: Pause before new triage processes are started after a failure: the first, doubled
#: for each failure after it up to the last, and back to the first once a chunk comes
#: through (so a process that dies at once, at start or on any work, does not spin).
BACKOFF_S = (0.5, 10.0)

#: Starts of the triage processes failed this many times in a row (about 15 s of pauses,
#: more when each start hangs until ``START_TIMEOUT_S``): the worker triages in a thread of
#: its own instead, one core, so that appeals go on being dispatched. Retrying for ever
#: left the stage dispatching nothing, with only the log to tell.
START_FALLBACK_AFTER = 5

#: After the pool broke, the rest of the batch runs one chunk at a time, so that a death
#: names its chunk. A chunk named this many times is cut into single appeals...
SPLIT_AFTER = 3
#: ...and a single appeal named this many times comes back failed (``INTERNAL``).
GIVE_UP_AFTER = 2


class ChunkStuck(Exception):
    """A chunk (or the start of the processes) took longer than the watchdog allows."""


class _Piece:
    """``values[start:end]``, not handed to the caller yet; ``deaths``: pool failures
    while it ran alone; ``result``: set once it is given up."""

    __slots__ = ("start", "end", "deaths", "result")

    def __init__(self, start: int, end: int) -> None:
        self.start, self.end, self.deaths = start, end, 0
        self.result: list[Triaged] | None = None


def backoff(failures: int) -> float:
    """Pause before starting processes again after ``failures`` failures in a row."""
    first, most = BACKOFF_S
    return min(first * 2 ** max(0, failures - 1), most)


def given_up(value: bytes, deaths: int) -> Triaged:
    """The result of an appeal whose triage process died on it ``deaths`` times: sent to
    the dead-letter topic like any appeal that could not be triaged."""
    reason = f"triage process died on this appeal {'twice' if deaths == 2 else f'{deaths} times'}"
    try:  # for the log and the dead letter's channel; the dead letter keeps the record
        appeal = parse_json_record(value or b"", Appeal, "appeal")
        appeal_id, channel = appeal.appeal_id, appeal.channel
    except Exception:
        appeal_id = channel = None
    return Triaged(appeal_id, channel, error_code=str(ErrorCode.INTERNAL), error=reason)


class TriagePool:
    """Runs :func:`~streams.triage_batch.triage_records` in a thread or in processes.

    ``chunk_timeout``: the watchdog's bound (:data:`CHUNK_TIMEOUT_S` if None); ``work``
    and ``warm``: the triage function and what each process runs first (tests)."""

    def __init__(
        self,
        processes: int,
        chunk: int | None = None,
        inline_max: int | None = None,
        chunk_timeout: float | None = None,
        *,
        work: Callable[[list[bytes]], list[Triaged]] | None = None,
        warm: Callable[[], None] | None = None,
    ):
        self.processes = max(0, processes)
        self.chunk = chunk or (CHUNK if self.processes else 1 << 30)
        # with processes, the loop never classifies: it keeps consuming and publishing
        self.inline_max = (
            (0 if self.processes else INLINE_MAX) if inline_max is None else inline_max
        )
        self.chunk_timeout = CHUNK_TIMEOUT_S if chunk_timeout is None else chunk_timeout
        self._work = work if work is not None else triage_records
        self._warm = warm if warm is not None else warm_up
        self._executor: Executor | None = None
        self._failures = 0  # pool failures since a chunk last came through

    def _new_executor(self) -> Executor:
        return ProcessPoolExecutor(
            self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_process,
            initargs=(self._warm,),
        )

    async def start(self) -> None:
        """Load the models before the first batch (in every process). With processes,
        retried until they start (see :data:`BACKOFF_S`), :data:`START_FALLBACK_AFTER`
        times in a row at most, then in a thread instead: it never raises
        ``BrokenProcessPool``."""
        loop = asyncio.get_running_loop()
        if self.processes == 0:
            # one thread: chunks are classified in order, one at a time, off the loop
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="triage")
            await loop.run_in_executor(self._executor, self._warm)
            return
        failed_starts = 0
        while True:
            if failed_starts >= START_FALLBACK_AFTER:
                log.error("triage processes failed to start %d times in a row: triaging in a "
                          "thread of the worker instead (one core; restart the worker to try "
                          "processes again)", failed_starts)  # fmt: skip
                self.processes, self.chunk, self.inline_max = 0, 1 << 30, INLINE_MAX
                await self.start()
                return
            futures: list[asyncio.Future] = []
            try:
                self._executor = self._new_executor()
                # one no-op per process: each spawns and runs the initializer
                for _ in range(self.processes):
                    futures.append(loop.run_in_executor(self._executor, self._work, []))
                done, _ = await asyncio.wait(futures, timeout=START_TIMEOUT_S)
                if len(done) < len(futures):
                    raise ChunkStuck(f"triage processes not ready after {START_TIMEOUT_S:g} s")
                for future in futures:
                    future.result()
            except (BrokenProcessPool, ChunkStuck) as exc:
                failed_starts += 1
                await self._recover(exc, "starting triage processes")
                continue
            finally:
                for future in futures:
                    future.cancel()
            log.info("triage runs in %d processes", self.processes)
            return

    async def run_chunks(self, values: list[bytes]) -> AsyncIterator[tuple[int, list[Triaged]]]:
        """Yield ``(offset, results)`` chunk by chunk, in order, while later chunks are
        still being triaged; every value's result exactly once.

        A dead or stuck triage process is replaced and the chunks not yet yielded run
        again, one at a time from then on: a chunk that breaks the pool :data:`SPLIT_AFTER`
        times is cut into single appeals, and one that breaks it :data:`GIVE_UP_AFTER`
        times alone is yielded failed (:func:`given_up`)."""
        if self._executor is None:
            await self.start()
        if len(values) <= self.inline_max:
            yield 0, self._work(values)
            return
        loop = asyncio.get_running_loop()
        pending = deque(
            _Piece(i, min(i + self.chunk, len(values))) for i in range(0, len(values), self.chunk)
        )
        careful = False  # after a failure: one piece at a time, so a failure names its piece
        while pending:
            head = pending[0]
            if head.result is not None:
                pending.popleft()
                yield head.start, head.result
                continue
            if self._executor is None:
                await self.start()
            pieces = [head] if careful else list(pending)
            futures: list[asyncio.Future] = []
            waiting_on: _Piece | None = None
            try:
                for piece in pieces:
                    futures.append(
                        loop.run_in_executor(
                            self._executor, self._work, values[piece.start : piece.end]
                        )
                    )
                for piece, future in zip(pieces, futures, strict=True):
                    waiting_on = piece
                    results = await self._result(future)
                    waiting_on = None
                    pending.popleft()
                    self._failures = 0
                    yield piece.start, results
            except (BrokenProcessPool, ChunkStuck) as exc:
                left = sum(p.end - p.start for p in pending)
                await self._recover(exc, f"triaging {left} of a batch of {len(values)} appeals")
                if careful and waiting_on is head:
                    self._blame(pending, values)
                careful = True
            finally:
                for future in futures:
                    future.cancel()  # nothing left to wait for when the consumer stops early

    async def _result(self, future: asyncio.Future) -> list[Triaged]:
        """The chunk's results; :class:`ChunkStuck` after ``chunk_timeout`` (processes)."""
        if self.processes == 0:
            return await future
        done, _ = await asyncio.wait([future], timeout=self.chunk_timeout)
        if not done:
            raise ChunkStuck(f"no result for a chunk after {self.chunk_timeout:g} s")
        return future.result()

    def _blame(self, pending: deque[_Piece], values: list[bytes]) -> None:
        """The head piece broke the pool while it ran alone: cut it up or give it up."""
        head = pending[0]
        head.deaths += 1
        if head.end - head.start == 1:
            if head.deaths >= GIVE_UP_AFTER:
                head.result = [given_up(values[head.start], head.deaths)]
                log.error("triage process died on %s %d times: giving it up (dead letter)",
                          head.result[0].appeal_id or f"record {head.start}", head.deaths)  # fmt: skip
        elif head.deaths >= SPLIT_AFTER:
            log.warning("a chunk of %d appeals broke the triage pool %d times: triaging them "
                        "one by one", head.end - head.start, head.deaths)  # fmt: skip
            pending.popleft()
            pending.extendleft(_Piece(i, i + 1) for i in reversed(range(head.start, head.end)))

    async def _recover(self, exc: BaseException, doing: str) -> None:
        """Log the failure, kill the processes and pause (:func:`backoff`); the next
        :meth:`start` brings new ones."""
        self._failures += 1
        pause = backoff(self._failures)
        log.error("%s: %s: %s; killing the triage processes, new ones in %.1f s",
                  doing, type(exc).__name__, exc, pause,
                  exc_info=exc if isinstance(exc, BrokenProcessPool) else None)  # fmt: skip
        self.stop()
        await asyncio.sleep(pause)

    def stop(self) -> None:
        """Shut the thread down, or kill the processes (pending chunks are cancelled).
        Never waits: a stuck process cannot hold the worker's stop or exit."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        if self.processes == 0:
            executor.shutdown(wait=False, cancel_futures=True)
        else:
            abandon(executor)


def abandon(executor: Executor) -> None:
    """Kill a process pool's processes and let go of it without waiting for anything,
    nor letting it hold up the interpreter's exit.

    ``shutdown(wait=False)`` alone is not enough: at exit concurrent.futures joins the
    pool's manager thread (``_python_exit``, and ``threading._shutdown`` joins every
    non-daemon thread), and that thread waits for every process to finish its chunk (a
    stopped one never does) or, if a process was killed while writing its result, for
    the rest of that message (it never comes: this process holds a write end of the
    pipe, so the read never sees its end).

    This uses private attributes of CPython's ProcessPoolExecutor (3.11; each is looked
    up with a default, so on a version without them this degrades to the plain
    shutdown): ``_processes`` (pid → Process) to SIGKILL them, which ends the wait for
    them; ``_result_queue._writer``, this process's write end of the results pipe,
    closed so that once the processes are dead a half-read message ends in EOF (the
    manager thread then marks the pool broken, cleans up and ends); and
    ``_executor_manager_thread``, removed from ``concurrent.futures.process.
    _threads_wakeups`` and from ``threading._shutdown_locks``, so that even if the thread
    were stuck anyway, exit would not join it (it is treated like a daemon thread).
    """
    processes = getattr(executor, "_processes", None) or {}
    thread = getattr(executor, "_executor_manager_thread", None)
    results = getattr(executor, "_result_queue", None)
    for process in list(processes.values()):
        with contextlib.suppress(OSError, ValueError):
            process.kill()  # SIGKILL: ends a stopped process too; a no-op once reaped
    executor.shutdown(wait=False, cancel_futures=True)
    writer = getattr(results, "_writer", None)
    if writer is not None:
        writer.close()  # the manager thread never writes there: only the dead processes
    if thread is not None:
        getattr(_futures_process, "_threads_wakeups", {}).pop(thread, None)
        lock = getattr(thread, "_tstate_lock", None)
        locks = getattr(threading, "_shutdown_locks", None)
        guard = getattr(threading, "_shutdown_locks_lock", None)
        if lock is not None and locks is not None and guard is not None:
            with guard:
                locks.discard(lock)
