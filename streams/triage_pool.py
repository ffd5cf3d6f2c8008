"""Where the understand stage's CPU-bound work runs: a thread, or triage processes.

With ``HOTLINE_TRIAGE_PROCESSES=0`` (the default) a batch is triaged in a thread of the
worker: one process, but segmentation and prediction share the GIL with the event loop.
With N > 0 the batch is split across N spawned processes, so classification runs on
other cores while the worker's loop consumes and produces.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
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


class TriagePool:
    """Runs :func:`~streams.triage_batch.triage_records` in a thread or in processes."""

    def __init__(self, processes: int):
        self.processes = max(0, processes)
        self._executor: ProcessPoolExecutor | None = None

    async def start(self) -> None:
        """Load the models before the first batch (in every process)."""
        if self.processes == 0:
            await asyncio.to_thread(warm_up)
            return
        self._executor = ProcessPoolExecutor(
            self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_process,
        )
        loop = asyncio.get_running_loop()
        # one no-op per process: each spawns and runs the initializer
        await asyncio.gather(
            *(
                loop.run_in_executor(self._executor, triage_records, [])
                for _ in range(self.processes)
            )
        )
        log.info("triage runs in %d processes", self.processes)

    async def run(self, values: list[bytes]) -> list[Triaged]:
        """Triage a batch; results in the order of ``values``."""
        if self._executor is None:
            return await asyncio.to_thread(triage_records, values)
        try:
            return await self._run_split(values)
        except BrokenProcessPool:
            log.exception("a triage process died; starting new ones and retrying the batch")
            self.stop()
            await self.start()
            return await self._run_split(values)

    async def _run_split(self, values: list[bytes]) -> list[Triaged]:
        loop = asyncio.get_running_loop()
        size = -(-len(values) // self.processes)  # ceiling: contiguous chunks keep the order
        chunks = [values[i : i + size] for i in range(0, len(values), size)] or [[]]
        done = await asyncio.gather(
            *(loop.run_in_executor(self._executor, triage_records, c) for c in chunks)
        )
        return [t for chunk in done for t in chunk]

    def stop(self) -> None:
        """Shut the processes down (pending batches are cancelled)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
