"""TriagePool cuts a batch into chunks, in order, with the same results as one call."""

from __future__ import annotations

import asyncio

from samples.appeal_rows import read_rows
from streams.triage_batch import triage_records
from streams.triage_pool import TriagePool
from tests.unit.streams.test_triage_batch import _appeal


def test_chunks_come_back_in_order_with_the_results_of_one_call():
    rows = list(read_rows())[:30]
    values = [_appeal(i, r.subject or r.detail[:20], r.detail).dumps() for i, r in enumerate(rows)]
    values[11] = b"{broken"  # a bad record inside a chunk stays in its place

    async def run():
        pool = TriagePool(0, chunk=7)
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
