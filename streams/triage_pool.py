"""Where the understand stage's CPU-bound work runs: a thread, or triage processes.

With ``HOTLINE_TRIAGE_PROCESSES=0`` (the default) a batch is triaged in a thread of the
worker: one process, but segmentation and prediction share the GIL with the event loop.
With N > 0 the chunks of a batch are spread over N spawned processes, so classification
runs on other cores while the worker's loop consumes and produces.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from streams.triage_batch import Triaged, triage_records, warm_up

log = logging.getLogger(__name__)


def _init_process() -> None:
    logging.basicConfig(
        level=logging.INFO, format=f"[%(asctime)s] [triage-{os.getpid()}] %(levelname)s %(message)s"
    )
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    warm_up()


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


class TriagePool:
    """Runs :func:`~streams.triage_batch.triage_records` in a thread or in processes."""

    def __init__(self, processes: int, chunk: int | None = None, inline_max: int | None = None):
        self.processes = max(0, processes)
        self.chunk = chunk or (CHUNK if self.processes else 1 << 30)
        # with processes, the loop never classifies: it keeps consuming and publishing
        self.inline_max = (
            (0 if self.processes else INLINE_MAX) if inline_max is None else inline_max
        )
        self._executor: Executor | None = None

    async def start(self) -> None:
        """Load the models before the first batch (in every process)."""
        loop = asyncio.get_running_loop()
        if self.processes == 0:
            # one thread: chunks are classified in order, one at a time, off the loop
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="triage")
            await loop.run_in_executor(self._executor, warm_up)
            return
        self._executor = ProcessPoolExecutor(
            self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_process,
        )
        # one no-op per process: each spawns and runs the initializer
        await asyncio.gather(
            *(
                loop.run_in_executor(self._executor, triage_records, [])
                for _ in range(self.processes)
            )
        )
        log.info("triage runs in %d processes", self.processes)

    async def run_chunks(self, values: list[bytes]) -> AsyncIterator[tuple[int, list[Triaged]]]:
        """Yield ``(offset, results)`` chunk by chunk, in order, while later chunks are
        still being triaged. A dead triage process is replaced and its chunks rerun."""
        if self._executor is None:
            await self.start()
        if len(values) <= self.inline_max:
            yield 0, triage_records(values)
            return
        done = 0
        while done < len(values):
            loop = asyncio.get_running_loop()
            futures = [
                loop.run_in_executor(self._executor, triage_records, values[i : i + self.chunk])
                for i in range(done, len(values), self.chunk)
            ]
            try:
                for future in futures:
                    results = await future
                    yield done, results
                    done += len(results)
            except BrokenProcessPool:
                log.exception("a triage process died; starting new ones and rerunning")
                self.stop()
                await self.start()
            finally:
                for future in futures:
                    future.cancel()  # nothing left to wait for when the consumer stops early

    def stop(self) -> None:
        """Shut the thread or processes down (pending chunks are cancelled)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
