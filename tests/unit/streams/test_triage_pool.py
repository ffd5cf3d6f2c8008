"""TriagePool cuts a batch into chunks, in order, with the same results as one call; and
a triage process that dies or hangs (at start, while idle, on a chunk, on one appeal every
time) never loses a chunk, never yields one twice, and never holds up the worker's exit."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import Executor, Future, InvalidStateError, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

import streams.triage_pool as triage_pool
from samples.appeal_rows import read_rows
from streams.triage_batch import Triaged, triage_records
from streams.triage_pool import TriagePool
from tests.unit.streams.test_triage_batch import _appeal


def test_chunks_come_back_in_order_with_the_results_of_one_call():
    rows = list(read_rows())[:30]
    values = [_appeal(i, r.subject or r.detail[:20], r.detail).dumps() for i, r in enumerate(rows)]
    values[11] = b"{broken"  # a bad record inside a chunk stays in its place

    async def run():
        pool = TriagePool(0, chunk=7, inline_max=0)
        await pool.start()
        try:
            return [c async for c in pool.run_chunks(values)]
        finally:
            pool.stop()

    chunks = asyncio.run(run())
    assert [offset for offset, _ in chunks] == [0, 7, 14, 21, 28]
    got = [t for _, results in chunks for t in results]
    expected = triage_records(values)
    assert [t.appeal_id for t in got] == [t.appeal_id for t in expected]
    assert got[11].error_code == "BAD_JSON"
    # classification records carry a timestamp; compare what routing decided
    assert [[w.topic for w in t.wires] for t in got] == [
        [w.topic for w in t.wires] for t in expected
    ]


def test_a_small_batch_is_triaged_on_the_loop_and_a_large_one_in_the_thread(monkeypatch):
    threads = []

    def recording(values):
        threads.append(threading.current_thread().name)
        return triage_records(values)

    monkeypatch.setattr(triage_pool, "triage_records", recording)
    rows = list(read_rows())[:12]
    values = [_appeal(i, r.subject or r.detail[:20], r.detail).dumps() for i, r in enumerate(rows)]

    async def run(batch):
        pool = TriagePool(0, inline_max=10)
        await pool.start()
        try:
            return [t for _, results in [c async for c in pool.run_chunks(batch)] for t in results]
        finally:
            pool.stop()

    small = asyncio.run(run(values[:10]))
    large = asyncio.run(run(values))
    assert len(threads) == 2
    assert threads[0] == threading.current_thread().name  # the small batch, on the loop
    assert threads[1].startswith("triage")  # the large one, in the triage thread
    assert [t.appeal_id for t in small] == [t.appeal_id for t in large[:10]]


# --- dead and stuck triage processes -------------------------------------------------
#
# Most tests run the pool on a fake process pool (threads, no processes): values named in
# a ``World`` make their "process" die (the pool breaks, as a ProcessPoolExecutor does)
# or hang. The last ones use real processes, for what only they can show.


def _echo(values: list[bytes]) -> list[Triaged]:
    return [Triaged(v.decode(errors="replace")) for v in values]


def _no_warm_up() -> None:
    pass


class World:
    """What the fake processes do, and what happened to them."""

    def __init__(
        self, die: dict[bytes, float] | None = None, hang: dict[bytes, float] | None = None
    ):
        self.left = {**{v: ("die", n) for v, n in (die or {}).items()},
                     **{v: ("hang", n) for v, n in (hang or {}).items()}}  # fmt: skip
        self.runs: list[list[bytes]] = []  # every non-empty chunk run, in order
        self.pools: list[FakeProcessPool] = []
        self.start_failures: list[str] = []  # how the next pools fail to start
        self.gate: threading.Event | None = None  # a misbehaviour waits for it
        self.release = threading.Event()  # frees the hanging threads at the end

    def behaviour(self, values: list[bytes]) -> str | None:
        for v in values:
            if v in self.left:
                what, n = self.left[v]
                if n > 0:
                    self.left[v] = (what, n - 1)
                    return what
        return None


class FakeProcessPool(Executor):
    """Runs chunks in order in one thread; a chunk that "dies" breaks the pool like a
    dead process breaks a ProcessPoolExecutor: its pending futures fail, and so does any
    later submit."""

    def __init__(self, world: World, fail_start: str | None):
        self.world, self.fail_start = world, fail_start
        self.broken = fail_start == "submit"
        self.shut_down = False
        self._thread = ThreadPoolExecutor(1)
        self._pending: list[Future] = []

    def submit(self, fn, values):
        if self.broken:
            raise BrokenProcessPool("fake: the pool is broken")
        future = Future()
        self._pending.append(future)
        self._thread.submit(self._run, future, fn, values)
        return future

    def _run(self, future, fn, values):
        if self.broken or not future.set_running_or_notify_cancel():
            return
        if not values:  # the no-op of start
            if self.fail_start == "future":
                self._break()
            else:
                future.set_result([])
            return
        self.world.runs.append(list(values))
        what = self.world.behaviour(values)
        if what is not None and self.world.gate is not None:
            assert self.world.gate.wait(10)
        if what == "die":
            self._break()
        elif what == "hang":
            self.world.release.wait()
        else:
            future.set_result(fn(values))

    def _break(self):
        self.broken = True
        for f in self._pending:
            with contextlib.suppress(InvalidStateError):
                f.set_exception(BrokenProcessPool("fake: a process died"))

    def shutdown(self, wait=True, *, cancel_futures=False):
        self.shut_down = True
        self._thread.shutdown(wait=False, cancel_futures=True)


class FakeTriagePool(TriagePool):
    def __init__(self, world: World, chunk: int, chunk_timeout: float = 5.0):
        super().__init__(2, chunk=chunk, chunk_timeout=chunk_timeout, work=_echo, warm=_no_warm_up)
        self.world = world

    def _new_executor(self):
        fail = self.world.start_failures.pop(0) if self.world.start_failures else None
        pool = FakeProcessPool(self.world, fail)
        self.world.pools.append(pool)
        return pool


@pytest.fixture
def pauses(monkeypatch) -> list[float]:
    """The pauses the pool would take before starting processes again (not taken)."""
    taken: list[float] = []
    backoff = triage_pool.backoff

    def recording(failures: int) -> float:
        taken.append(backoff(failures))
        return 0.0

    monkeypatch.setattr(triage_pool, "backoff", recording)
    return taken


def _run(
    pool: TriagePool, batches: list[list[bytes]], between=None
) -> list[list[tuple[int, list]]]:
    """Start the pool, run each batch through it (``between(pool)`` before each); the
    chunks each yielded."""

    async def run():
        await pool.start()
        out = []
        try:
            for batch in batches:
                if between is not None:
                    between(pool)
                out.append([c async for c in pool.run_chunks(batch)])
        finally:
            pool.stop()
        return out

    return asyncio.run(asyncio.wait_for(run(), 60))


def _ids(chunks: list[tuple[int, list]]) -> list[str | None]:
    return [t.appeal_id for _, results in chunks for t in results]


def test_the_pause_doubles_from_half_a_second_to_ten():
    assert [triage_pool.backoff(n) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 10, 10, 10]


def test_a_pool_broken_while_idle_is_started_again_and_the_batch_triaged(pauses):
    """A process killed between batches: the next submit raises BrokenProcessPool."""
    world = World()
    values = [str(i).encode() for i in range(10)]

    def kill_one(pool):
        pool._executor.broken = True

    [chunks] = _run(FakeTriagePool(world, chunk=3), [values], between=kill_one)
    assert [offset for offset, _ in chunks] == [0, 3, 6, 9]
    assert _ids(chunks) == [v.decode() for v in values]
    assert len(world.pools) == 2 and world.pools[0].shut_down
    assert pauses == [0.5]


def test_processes_that_die_while_starting_are_started_again_after_growing_pauses(pauses):
    """start() (the agent calls it first) never raises BrokenProcessPool: it waits, longer
    each time, and tries again; a chunk that comes through starts the pauses over."""
    world = World(die={b"3": 1})
    world.start_failures = ["submit", "future", "future"]
    values = [str(i).encode() for i in range(6)]
    [chunks] = _run(FakeTriagePool(world, chunk=2), [values])
    assert _ids(chunks) == [v.decode() for v in values]
    # 3 failed starts; then the death on "3" (after chunk 0 came through: 0.5 s again)
    assert pauses[:3] == [0.5, 1.0, 2.0]
    assert pauses[3] in (0.5, 4.0)  # 4 s if the death beat the first chunk's result
    assert len(world.pools) == 5


def test_processes_that_never_start_give_way_to_a_thread(pauses):
    """Retried for ever, a pool whose processes cannot start (memory, a broken install)
    left the stage dispatching nothing."""
    world = World()
    world.start_failures = ["submit", "future"] * 3  # more than it will try
    pool = FakeTriagePool(world, chunk=2)
    values = [str(i).encode() for i in range(7)]
    [chunks] = _run(pool, [values])
    assert _ids(chunks) == [v.decode() for v in values]
    assert pool.processes == 0 and len(world.pools) == triage_pool.START_FALLBACK_AFTER
    assert len(pauses) == triage_pool.START_FALLBACK_AFTER
    assert world.runs == []  # no chunk went to a (fake) process pool


@pytest.mark.parametrize("misbehaviour", ["die", "hang"])
def test_chunks_yielded_before_a_failure_are_not_yielded_again(misbehaviour, pauses):
    """The third chunk's process dies (or hangs: the watchdog) once the caller has the
    first two: the rest run on new processes, each value's result comes once."""
    world = World(**{misbehaviour: {b"4": 1}})
    world.gate = threading.Event()
    values = [str(i).encode() for i in range(10)]
    got: list[int] = []

    async def run():
        pool = FakeTriagePool(world, chunk=2, chunk_timeout=0.3)
        await pool.start()
        try:
            async for offset, results in pool.run_chunks(values):
                got.append(offset)
                assert _ids([(offset, results)]) == [
                    v.decode() for v in values[offset : offset + 2]
                ]
                if offset == 2:
                    world.gate.set()
        finally:
            pool.stop()
            world.release.set()

    asyncio.run(asyncio.wait_for(run(), 30))
    assert got == [0, 2, 4, 6, 8]
    assert world.runs.count([b"4", b"5"]) == 2
    assert [b"0", b"1"] in world.runs and world.runs.count([b"0", b"1"]) == 1
    assert len(world.pools) == 2 and world.pools[0].shut_down
    assert pauses == [0.5]


@pytest.mark.parametrize("misbehaviour", ["die", "hang"])
def test_an_appeal_that_kills_its_process_every_time_comes_back_failed(misbehaviour, pauses):
    """Its chunk breaks the pool three times running alone, then its appeals run one by
    one; on its second death alone the appeal is given up: INTERNAL, dead-lettered by
    the agent. The others are triaged, in order, once."""
    values = [str(i).encode() for i in range(10)]
    poison = _appeal(5, "小区噪音扰民", "楼下商铺每晚放音乐到凌晨。")
    values[5] = poison.dumps()
    world = World(**{misbehaviour: {values[5]: float("inf")}})
    try:
        [chunks] = _run(FakeTriagePool(world, chunk=4, chunk_timeout=0.1), [values])
    finally:
        world.release.set()
    assert [offset for offset, _ in chunks] == [0, 4, 5, 6, 7, 8]
    got = [t for _, results in chunks for t in results]
    assert [t.appeal_id for i, t in enumerate(got) if i != 5] == [
        v.decode() for i, v in enumerate(values) if i != 5
    ]
    failed = got[5]
    assert (failed.appeal_id, failed.channel) == (poison.appeal_id, poison.channel)
    assert failed.error_code == "INTERNAL"
    assert failed.error == "triage process died on this appeal twice"
    assert not failed.wires
    # its chunk: once with the others, then three times alone; the appeal twice alone
    assert world.runs.count(values[4:8]) == 4
    assert world.runs.count([values[5]]) == 2
    assert [r for r in world.runs if len(r) == 1] == [[v] for v in values[4:5]] + [
        [values[5]],
        [values[5]],
    ] + [[v] for v in values[6:8]]
    assert len(world.pools) == 7  # six failures, six new pools
    assert len(pauses) == 6 and max(pauses) <= 4.0


def test_only_deaths_of_a_chunk_running_alone_count_against_it(pauses):
    """A death while several chunks run names none of them: after it the chunks run one
    at a time. Counted against the appeal, the first death here would have given it up at
    its second; it dies once more alone, then gets through."""
    values = [str(i).encode() for i in range(4)]
    world = World(die={b"1": 2})
    [chunks] = _run(FakeTriagePool(world, chunk=1), [values])
    got = [t for _, results in chunks for t in results]
    assert [t.error_code for t in got] == [None] * 4
    assert _ids(chunks) == [v.decode() for v in values]
    assert world.runs.count([b"1"]) == 3
    assert len(pauses) == 2


def test_thread_mode_still_raises_what_the_triage_raises():
    """Without processes nothing is retried: an error of the triage itself (a bug) is
    not a dead process."""

    async def run():
        pool = TriagePool(0, inline_max=0, work=_explode, warm=_no_warm_up)
        await pool.start()
        try:
            return [c async for c in pool.run_chunks([b"a"])]
        finally:
            pool.stop()

    with pytest.raises(ZeroDivisionError):
        asyncio.run(run())


def _explode(values):
    return 1 / 0


# --- real processes --------------------------------------------------------------------


def _half_write_then_die(values: list[bytes]) -> list[Triaged]:
    """In a triage process: for ``half:<marker path>`` (once: the marker), write the start
    of a result to the pool's result pipe and die, as a process SIGKILLed while sending
    its result does. The pool's manager thread then waits for the rest forever."""
    for v in values:
        if v.startswith(b"half:") and not os.path.exists(v[5:]):
            open(v[5:], "wb").close()  # noqa: SIM115
            frame = sys._getframe(1)
            while frame.f_code.co_name != "_process_worker":
                frame = frame.f_back
            writer = frame.f_locals["result_queue"]._writer
            os.write(writer.fileno(), struct.pack("!i", 1 << 20) + b"\0" * 1000)
            os._exit(9)
    return _echo(values)


def _python(script: str, timeout: float, tmp_path: Path) -> tuple[str, str]:
    """Run ``script`` in a new interpreter; its stdout and stderr. It fails the test if
    it has not exited after ``timeout`` seconds, killed with its processes (a stopped
    triage process among them: it would otherwise hold the output pipes for ever)."""
    root = Path(__file__).resolve().parents[3]
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(script)], cwd=root, stdout=stdout,
            stderr=stderr, start_new_session=True,
        )  # fmt: skip
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            pytest.fail(f"not exited after {timeout:g} s: {err.read_text()[-3000:]}")
    assert proc.returncode == 0, err.read_text()[-3000:]
    return out.read_text(), err.read_text()


def test_a_triage_process_killed_while_idle_is_replaced():
    values = [str(i).encode() for i in range(5)]

    async def run():
        pool = TriagePool(1, chunk=2, work=_echo, warm=_no_warm_up)
        await pool.start()
        try:
            executor = pool._executor
            [process] = executor._processes.values()
            os.kill(process.pid, signal.SIGKILL)
            while not executor._broken:  # the pool's manager thread sees it at once
                await asyncio.sleep(0.05)
            return [c async for c in pool.run_chunks(values)]
        finally:
            pool.stop()

    chunks = asyncio.run(asyncio.wait_for(run(), 60))
    assert [offset for offset, _ in chunks] == [0, 2, 4]
    assert _ids(chunks) == [v.decode() for v in values]


def test_a_process_killed_while_sending_its_result_neither_stalls_the_stage_nor_its_exit(
    tmp_path,
):
    """The manager thread blocks reading the rest of the message: the future never
    resolves and the pool is never marked broken. The watchdog kills the pool; the
    thread then gets EOF and ends, and the interpreter exits."""
    marker = tmp_path / "died"
    script = f"""
        import asyncio, json
        from streams.triage_pool import TriagePool
        from tests.unit.streams.test_triage_pool import _half_write_then_die, _no_warm_up

        async def main():
            pool = TriagePool(1, chunk=2, chunk_timeout=1.0, work=_half_write_then_die,
                              warm=_no_warm_up)
            await pool.start()
            stuck = pool._executor._executor_manager_thread
            values = [b"a", b"b", b"half:{marker}", b"d", b"e"]
            chunks = [(o, [t.appeal_id for t in r]) async for o, r in pool.run_chunks(values)]
            for _ in range(100):
                if not stuck.is_alive():
                    break
                await asyncio.sleep(0.05)
            pool.stop()
            print(json.dumps({{"chunks": chunks, "stuck_thread_ended": not stuck.is_alive()}}))

        asyncio.run(main())
    """
    stdout, stderr = _python(script, 90, tmp_path)
    assert marker.exists()
    out = json.loads(stdout.strip().splitlines()[-1])
    assert out["chunks"] == [[0, ["a", "b"]], [2, [f"half:{marker}", "d"]], [4, ["e"]]]
    assert out["stuck_thread_ended"]
    assert "ChunkStuck: no result for a chunk after 1 s" in stderr


def test_a_stopped_triage_process_does_not_hold_up_stop_or_exit(tmp_path):
    """SIGTERM while a chunk sits with a stopped (SIGSTOP) process, before the watchdog
    fires: stop() kills the processes, and the interpreter exits at once."""
    pid_file = tmp_path / "triage.pid"
    script = f"""
        import asyncio, os, signal
        from streams.triage_pool import TriagePool
        from tests.unit.streams.test_triage_pool import _echo, _no_warm_up

        async def main():
            pool = TriagePool(1, work=_echo, warm=_no_warm_up)
            await pool.start()
            [process] = pool._executor._processes.values()
            open("{pid_file}", "w").write(str(process.pid))
            os.kill(process.pid, signal.SIGSTOP)
            chunks = asyncio.ensure_future(pool.run_chunks([b"a"] * 10).__anext__())
            await asyncio.sleep(0.5)
            chunks.cancel()  # the agent stopped
            pool.stop()

        asyncio.run(main())
        print("exiting")
    """
    stdout, _ = _python(script, 30, tmp_path)
    assert stdout.strip() == "exiting"
    stopped = Path(f"/proc/{pid_file.read_text()}")
    deadline = time.monotonic() + 5
    while stopped.exists() and time.monotonic() < deadline:  # reaped by init
        time.sleep(0.1)
    assert not stopped.exists()  # killed, not left stopped
