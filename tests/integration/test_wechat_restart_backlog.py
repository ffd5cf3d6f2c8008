"""A WeChat session open when the worker stops, and its sender's later messages waiting in
raw.wechat while the worker is down for longer than the idle period.

On the restart the table is restored with the session, idle by the wall clock (its last
piece was processed before the stop). The idle timer used to ask for it to be closed at
once, and the request could overtake the sender's waiting messages (still raw XML, not
yet pieces): the session closed alone and the later messages became a second appeal,
one citizen request split into two cases. Idle flushes now wait until the raw.wechat
backlog found at the start has been taken in (``streams/wechat_backlog.py``).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import defaultdict

import pytest
from aiokafka import AIOKafkaProducer

from models.appeal import Appeal
from models.wechat import WeChatPiece
from tests.integration.raw_records import wechat_xml
from tests.integration.worker_process import WorkerProcess, publish, read_all

pytestmark = pytest.mark.integration

IDLE_S = 3
#: senders whose session is open at the stop
SENDERS = 150
#: other citizens' messages written during the downtime, ahead of our senders' later ones
#: (a real downtime's backlog). Before the fix (7fb3da0^, 250 other citizens): 2,000 split
#: every session in 3 rounds of 4, 3,000 in 3 of 3, 4,000 in 5 of 5; the session agent
#: takes each of them in after the restart, so 10,000 cost about 12 s more than 4,000
FILLER = int(os.environ.get("HOTLINE_IT_WECHAT_FILLER", "4000"))
#: the citizens writing them (16 messages each at 4,000, under the 50 that close a
#: session): each of their sessions closes once idle too, one appeal at a time after the
#: backlog, before the test sees all of ours closed (2,000 of them took about 5 s more)
OTHERS = 250
#: stops and starts, each with a worker of its own (raise it to measure how often it splits)
ROUNDS = int(os.environ.get("HOTLINE_IT_WECHAT_ROUNDS", "1"))


@pytest.fixture
def make_worker(make_isolated_worker):
    """Intake workers on topics and Redis keys of their own."""

    async def make() -> WorkerProcess:
        return await make_isolated_worker({
            "HOTLINE_WORKER_STAGES": "intake", "HOTLINE_WECHAT_IDLE_FLUSH_S": str(IDLE_S),
            "HOTLINE_WECHAT_WINDOW_S": "600"})  # fmt: skip

    return make


async def _publish_many(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    await producer.start()
    try:
        await asyncio.gather(*[await producer.send(topic, value=v) for v in values])
    finally:
        await producer.stop()


async def _pieces(w: WorkerProcess) -> list[WeChatPiece]:
    records = await read_all(w.bootstrap, w.topic("intake.wechat.pieces"), idle_ms=300)
    return [p for p in map(WeChatPiece.loads, (r.value for r in records)) if p.msg_type != "flush"]


async def _appeals(w: WorkerProcess) -> list[Appeal]:
    records = await read_all(w.bootstrap, w.topic("appeals.received"), idle_ms=300)
    return [Appeal.loads(r.value) for r in records]


async def _texts_closed(w: WorkerProcess, senders: set[str]) -> int:
    """Messages of ``senders`` in published appeals (one line of content each)."""
    return sum(a.content.count("\n") + 1 for a in await _appeals(w) if a.contact_ref in senders)


async def _split_senders(w: WorkerProcess) -> tuple[int, int]:
    """Sessions opened, the worker stopped, later messages published while it is down for
    longer than the idle period, the worker started again: (senders whose session was
    open at the stop, how many of them ended up with more than one appeal)."""
    start = int(time.time()) - 120
    openids = [f"oWX-restart-{i}" for i in range(SENDERS)]
    first = [wechat_xml(oid, 100_000 + 10 * i, start, "text", Content=f"第{i}号楼门口的路灯坏了")
             for i, oid in enumerate(openids)]  # fmt: skip
    await publish(w.bootstrap, w.topic("raw.wechat"), first)
    await asyncio.to_thread(w.start)
    deadline = time.monotonic() + 30
    while len(await _pieces(w)) < SENDERS:
        assert time.monotonic() < deadline, "first messages not taken in"
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # into the table (and its changelog)
    await asyncio.to_thread(w.stop)  # the sessions are open: idle only after IDLE_S
    ours = {p.contact_ref for p in await _pieces(w)}
    closed_early = {a.contact_ref for a in await _appeals(w)}
    # while the worker is down, other citizens write, then ours go on within the window
    others = [wechat_xml(f"oWX-other-{i % OTHERS}", 500_000 + i, start + i // 2000, "text",
                         Content=f"其他诉求{i}") for i in range(FILLER)]  # fmt: skip
    await _publish_many(w.bootstrap, w.topic("raw.wechat"), others)
    later = [wechat_xml(oid, 100_000 + 10 * i + k, start + 20 * k, "text", Content=f"补充说明{k}")
             for k in (1, 2, 3) for i, oid in enumerate(openids)]  # fmt: skip
    await publish(w.bootstrap, w.topic("raw.wechat"), later)
    await asyncio.sleep(IDLE_S + 1.5)  # down for longer than the idle period
    await asyncio.to_thread(w.start)
    deadline = time.monotonic() + 60
    while await _texts_closed(w, ours) < 4 * SENDERS:  # sessions close, within a bound
        assert time.monotonic() < deadline, "sessions not closed after 60 s"
        await asyncio.sleep(0.3)
    await asyncio.sleep(1)  # anything else that would come
    await asyncio.to_thread(w.stop)
    appeals = defaultdict(set)
    for a in await _appeals(w):
        appeals[a.contact_ref].add(a.appeal_id)
    open_at_stop = ours - closed_early
    return len(open_at_stop), sum(1 for ref in open_at_stop if len(appeals[ref]) > 1)


async def test_a_session_restored_after_long_downtime_takes_the_waiting_messages(make_worker):
    """Each round: one worker, SENDERS sessions open at its stop, FILLER other messages and
    three more per sender waiting when it starts again; every sender must end up with one
    appeal (of its four messages), and the sessions must still close."""
    outcomes = []
    for _ in range(ROUNDS):
        outcomes.append(await _split_senders(await make_worker()))
    print("open at the stop, split in two:", outcomes)
    assert all(opened >= SENDERS // 2 for opened, _ in outcomes), outcomes
    assert not any(split for _, split in outcomes), outcomes
