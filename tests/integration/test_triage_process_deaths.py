"""Triage processes killed or stopped under a real understand-only worker.

Before the fix, an exception out of the triage pool crashed the understand agent, and
faust acknowledged its batch and everything it had buffered: a triage process killed
while the pool was idle lost the next batches (BrokenProcessPool from the submit), and a
process stopped, or killed while sending its result, stalled the stage for good and kept
the worker from exiting. Here every appeal must get exactly one outcome (an assignment,
a review request or a dead letter) and the worker must stop on SIGTERM.
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from models.dead_letter import DeadLetter
from samples.appeal_rows import read_rows
from stack.process import child_pids
from tests.integration.raw_records import received_appeal
from tests.integration.worker_process import WorkerProcess, read_all

pytestmark = pytest.mark.integration

try:
    ROWS = list(read_rows(limit=200))
except FileNotFoundError:
    ROWS = []

OUTCOMES = ("assignments.all", "appeals.review", "deadletter")


def _appeals(tag: str, n: int) -> dict[bytes, str]:
    """``n`` appeals of the samples as intake publishes them: record → appeal id."""
    if len(ROWS) < n:
        pytest.skip("the labelled samples (HOTLINE_DATA_DIR) are not there")
    out = {}
    for i, row in enumerate(ROWS[:n]):
        appeal = received_appeal(f"MB-{tag}-{i}", row.subject or row.detail[:20], row.detail)
        out[appeal.dumps()] = appeal.appeal_id
    return out


async def _publish_at_once(bootstrap: str, topic: str, values: list[bytes]) -> None:
    """All records in a few requests, so the worker sees a backlog (large batches)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    await producer.start()
    try:
        sent = [await producer.send(topic, value=v) for v in values]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def _outcomes(w: WorkerProcess, appeals: dict[bytes, str]) -> Counter:
    """Outcome records per appeal id, on the three topics where an appeal ends."""
    counts: Counter = Counter()
    for r in await read_all(w.bootstrap, [w.topic(t) for t in OUTCOMES], idle_ms=1000):
        if r.topic == w.topic("deadletter"):
            letter = DeadLetter.loads(r.value)
            counts[appeals.get(base64.b64decode(letter.payload_b64), "?")] += 1
        else:
            counts[r.key.decode()] += 1
    return counts


async def _until_every_appeal_has_an_outcome(
    w: WorkerProcess, appeals: dict[bytes, str], timeout: float = 60
) -> Counter:
    ids = set(appeals.values())
    deadline = time.monotonic() + timeout
    while True:
        counts = await _outcomes(w, appeals)
        if ids <= set(counts):
            await asyncio.sleep(2)  # anything sent twice would show now
            return await _outcomes(w, appeals)
        if time.monotonic() > deadline:
            return counts
        await asyncio.sleep(1)


def _problems(counts: Counter, appeals: dict[bytes, str]) -> list[str]:
    ids = set(appeals.values())
    missing = sorted(ids - set(counts))
    twice = sorted(aid for aid, n in counts.items() if n > 1)
    stray = sorted(set(counts) - ids)
    return (
        ([f"{len(missing)} of {len(ids)} appeals without an outcome"] if missing else [])
        + [f"{aid}: {counts[aid]} outcomes" for aid in twice]
        + [f"outcome of no published appeal: {aid}" for aid in stray]
    )


def _triage_processes(w: WorkerProcess, n: int, timeout: float = 60) -> list[int]:
    """The worker's ``n`` triage processes, once started (not multiprocessing's resource
    tracker, its other child)."""
    deadline = time.monotonic() + timeout
    while f"triage runs in {n} processes" not in w.log_text():
        assert time.monotonic() < deadline, w.log_text()[-3000:]
        time.sleep(0.3)
    out = []
    for pid in child_pids(w.proc.pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in cmdline:
            out.append(pid)
    assert len(out) == n, (out, w.log_text()[-3000:])
    return out


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not reaped yet, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _stops_on_sigterm(w: WorkerProcess, within: float = 30) -> float:
    """SIGTERM the worker; how long it took to exit (killed, and the test failed, if it
    did not within ``within`` seconds)."""
    started = time.monotonic()
    w.proc.terminate()
    try:
        w.proc.wait(timeout=within)
    except subprocess.TimeoutExpired:
        w.proc.kill()
        w.proc.wait()
        pytest.fail(f"the worker did not exit within {within:g} s of SIGTERM")
    return time.monotonic() - started


def _kill_left(pids: list[int]) -> None:
    """Never leave a stopped triage process behind a failed test."""
    for pid in pids:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


async def test_a_triage_process_killed_while_idle_loses_no_appeal(make_isolated_worker):
    """Old code: the next batch's submit raised BrokenProcessPool out of the agent, and
    faust acknowledged the batches it held: their appeals got no outcome."""
    w = await make_isolated_worker(
        {"HOTLINE_WORKER_STAGES": "understand", "HOTLINE_TRIAGE_PROCESSES": "2"}
    )
    appeals = _appeals("idle-kill", 200)
    await asyncio.to_thread(w.start)
    victim = _triage_processes(w, 2)[0]
    os.kill(victim, signal.SIGKILL)
    await asyncio.sleep(1)  # the pool's manager thread marks it broken meanwhile

    await _publish_at_once(w.bootstrap, w.topic("appeals.received"), list(appeals))
    counts = await _until_every_appeal_has_an_outcome(w, appeals)
    log = w.log_text()
    assert not _problems(counts, appeals), (_problems(counts, appeals), log[-3000:])
    assert "BrokenProcessPool" in log
    assert log.count("triage runs in 2 processes") >= 2  # started again
    assert "Crashed reason" not in log  # the agent never saw it
    await asyncio.to_thread(_stops_on_sigterm, w)


async def test_a_stuck_triage_process_is_killed_by_the_watchdog(make_isolated_worker):
    """A stopped process (SIGSTOP) holds its chunk as one killed while writing its result
    does: the future never resolves and the pool is never marked broken. Old code waited
    for it forever, and could not exit. Here the watchdog (3 s) kills it, the appeals get
    their outcomes, and SIGTERM stops the worker."""
    w = await make_isolated_worker(
        {"HOTLINE_WORKER_STAGES": "understand", "HOTLINE_TRIAGE_PROCESSES": "1",
         "HOTLINE_TRIAGE_CHUNK_TIMEOUT_S": "3"}
    )  # fmt: skip
    appeals = _appeals("stuck", 200)
    await asyncio.to_thread(w.start)
    [stuck] = _triage_processes(w, 1)
    try:
        os.kill(stuck, signal.SIGSTOP)
        await _publish_at_once(w.bootstrap, w.topic("appeals.received"), list(appeals))
        counts = await _until_every_appeal_has_an_outcome(w, appeals)
        log = w.log_text()
        assert not _problems(counts, appeals), (_problems(counts, appeals), log[-3000:])
        assert "ChunkStuck: no result for a chunk after 3 s" in log
        assert "Crashed reason" not in log
        assert not _alive(stuck)  # killed, not left stopped
        took = await asyncio.to_thread(_stops_on_sigterm, w)
        assert took < 30
    finally:
        _kill_left([stuck])


async def test_a_worker_stops_while_a_triage_process_is_stuck(make_isolated_worker):
    """SIGTERM before the watchdog fires (its default, 60 s), a chunk held by a stopped
    process: old code's stop left the pool to the interpreter's exit, which waited for
    that chunk forever. The worker must exit, its triage processes with it."""
    w = await make_isolated_worker(
        {"HOTLINE_WORKER_STAGES": "understand", "HOTLINE_TRIAGE_PROCESSES": "1"}
    )
    appeals = _appeals("stop-stuck", 5)
    await asyncio.to_thread(w.start)
    [stuck] = _triage_processes(w, 1)
    try:
        os.kill(stuck, signal.SIGSTOP)
        await _publish_at_once(w.bootstrap, w.topic("appeals.received"), list(appeals))
        await asyncio.sleep(3)  # the batch is with the stopped process
        assert not await _outcomes(w, appeals)
        await asyncio.to_thread(_stops_on_sigterm, w)
        assert not _alive(stuck)
    finally:
        _kill_left([stuck])
