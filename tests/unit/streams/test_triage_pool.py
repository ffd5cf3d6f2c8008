"""TriagePool cuts a batch into chunks, in order, with the same results as one call."""

from __future__ import annotations

import asyncio
import threading

from samples.appeal_rows import read_rows
from streams.triage_batch import triage_records
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
    import streams.triage_pool as triage_pool

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
