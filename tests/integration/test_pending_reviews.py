"""The review queue's deadlines in a real Redis: scheduled once, raised in order, settled.

Instants are passed explicitly, so nothing sleeps.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
import redis.asyncio as aioredis

from models.appeal import Appeal, RawRef
from stores.pending_reviews import PendingReviews
from triage.review_clock import ReviewDeadline, threshold_due

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

T0 = 1_790_000_000  # any instant: the store only compares numbers


@pytest_asyncio.fixture(loop_scope="session")
async def store(redis_url: str, unique_prefix: str):
    # database 1 of the same server: the first read indexes older queues by a SCAN, and
    # database 0 of a developer's Redis may hold the SLA benchmark's million cases
    client = aioredis.Redis.from_url(redis_url.rsplit("/", 1)[0] + "/1")
    st = PendingReviews(client, prefix=unique_prefix + ":")
    yield st
    # the keys these tests can write (a SCAN of a shared Redis takes seconds)
    await client.delete(
        st.due_key, st.next_key, st.waiting_key, st.indexed_key,
        *(f"{st.prefix}review:{a}" for a in ("A1", "A2", "A3")),
        *(f"{st.prefix}review-request:{a}" for a in ("A1", "A2", "A3")),
        *(f"{st.prefix}review-applied:{d}" for d in ("D-1", "D-2")),
        *(f"{st.prefix}review-decided:{a}" for a in ("A1", "A2")),
    )  # fmt: skip
    await client.aclose()


def _record(aid: str) -> bytes:
    return b'{"appeal_id": "%s"}' % aid.encode()


async def _raise_due(store: PendingReviews, now: int) -> list[tuple[str, str]]:
    """What the worker's timer does, without Kafka: returns (appeal, threshold) raised."""
    due = await store.due(now)
    await store.forget([d.appeal_id for d in due if not d.waiting], stale_before=0)
    raised, moves = [], {}
    for d in due:
        if d.waiting:
            threshold, moves[d.appeal_id] = threshold_due(d.at, d.due_at)
            raised.append((d.appeal_id, threshold))
    await store.advance(moves)
    return raised


async def test_yellow_then_red_card_once_each_and_nothing_after(store):
    record = b'{"appeal_id": "A1", "district": "A\xe5\xb8\x82A3\xe5\x8c\xba"}'  # A市A3区
    await store.put_records([("A1", record)], {"A1": ReviewDeadline(T0 + 80, T0 + 100)})
    assert [d.district for d in await store.due(T0 + 80)] == ["A市A3区"]
    assert await store.deadlines(["A1", "A2"]) == {"A1": T0 + 100}
    assert await _raise_due(store, T0 + 79) == []
    assert await _raise_due(store, T0 + 80) == [("A1", "warn80")]
    assert await _raise_due(store, T0 + 99) == []
    assert await _raise_due(store, T0 + 500) == [("A1", "overdue")]
    assert await _raise_due(store, T0 + 900) == []
    assert await store.overdue(T0 + 99) == [] and await store.overdue(T0 + 100) == ["A1"]
    # still waiting: the queue shows its deadline until a decision is settled
    assert await store.deadlines(["A1"]) == {"A1": T0 + 100}


async def test_a_redelivered_appeal_keeps_its_first_deadline_and_raises_nothing_twice(store):
    await store.put_records([("A1", _record("A1"))], {"A1": ReviewDeadline(T0 + 80, T0 + 100)})
    assert await _raise_due(store, T0 + 200) == [("A1", "warn80")]
    assert await _raise_due(store, T0 + 200) == [("A1", "overdue")]
    # the same appeal parked again later (at-least-once delivery of appeals.received)
    await store.put_records([("A1", _record("A1"))], {"A1": ReviewDeadline(T0 + 280, T0 + 300)})
    assert await store.deadlines(["A1"]) == {"A1": T0 + 100}
    assert await _raise_due(store, T0 + 1000) == []


async def test_a_settled_decision_stops_the_clock(store):
    deadline = ReviewDeadline(T0 + 80, T0 + 100)
    await store.put_records(
        [("A1", _record("A1")), ("A2", _record("A2"))], {"A1": deadline, "A2": deadline}
    )
    await store.settle("D-1", "A1")
    assert await store.deadlines(["A1", "A2"]) == {"A2": T0 + 100}
    assert await _raise_due(store, T0 + 90) == [("A2", "warn80")]
    # a decision settled between the scan and the move does not bring the clock back
    due = await store.due(T0 + 200)
    await store.settle("D-2", "A2")
    await store.advance({d.appeal_id: d.due_at for d in due})
    assert await store.due(T0 + 10_000) == []


async def test_an_appeal_gone_without_a_decision_is_forgotten_not_alerted(store):
    await store.put_records([("A1", _record("A1"))], {"A1": ReviewDeadline(T0 + 80, T0 + 100)})
    await store.client.delete(f"{store.prefix}review:A1")  # expired after the store's TTL
    assert await store.overdue(T0 + 200) == []  # not waiting any more
    assert await _raise_due(store, T0 + 200) == []
    assert await store.deadlines(["A1"]) == {}
    assert await store.due(T0 + 10_000) == []


async def test_parking_without_deadlines_keeps_the_appeal_only(store):
    await store.put_records([("A1", _record("A1"))])
    assert await store.client.get(f"{store.prefix}review:A1") == _record("A1")
    assert await store.deadlines(["A1"]) == {} and await store.due(T0 + 10_000) == []


async def test_appeals_parked_without_deadlines_are_found_and_dated_once(store):
    await store.put_records([("A1", _record("A1")), ("A2", _record("A2"))])
    await store.put_records([("A3", _record("A3"))], {"A3": ReviewDeadline(T0 + 80, T0 + 100)})
    assert sorted(await store.undated()) == ["A1", "A2"]
    late = ReviewDeadline(T0 + 180, T0 + 200)
    await store.schedule(dict.fromkeys(["A1", "A2", "A3"], late))  # A3 keeps its own
    assert await store.undated() == []
    assert await store.deadlines(["A1", "A2", "A3"]) == {
        "A1": T0 + 200,
        "A2": T0 + 200,
        "A3": T0 + 100,
    }
    assert await _raise_due(store, T0 + 190) == [
        ("A3", "warn80"),
        ("A1", "warn80"),
        ("A2", "warn80"),
    ]


async def test_an_appeal_decided_before_is_not_parked_again(store):
    deadline = ReviewDeadline(T0 + 80, T0 + 100)
    await store.put_records([("A1", _record("A1"))], {"A1": deadline})
    await store.settle("D-1", "A1")
    # the same appeal delivered again (a replay, a consumer group reset)
    parked = await store.put_records([("A1", _record("A1")), ("A2", _record("A2"))],
                                     {"A1": deadline, "A2": deadline})  # fmt: skip
    assert parked == ["A2"]
    assert await store.get("A1") is None and await store.deadlines(["A1", "A2"]) == {"A2": T0 + 100}
    assert await _raise_due(store, T0 + 500) == [("A2", "warn80")]


async def test_the_queue_is_read_from_its_index_without_scanning_the_keyspace(store, monkeypatch):
    await store.put_records([("A1", _appeal_record("A1")), ("A2", _appeal_record("A2"))])
    assert sorted(await store.waiting()) == ["A1", "A2"]  # indexes any older queue once
    # from now on a SCAN would walk every SLA case and contact of a production Redis
    monkeypatch.setattr(store.client, "scan_iter", _no_scan)
    await store.put_records(
        [("A3", _appeal_record("A3"))], {"A3": ReviewDeadline(T0 + 80, T0 + 100)}
    )
    assert sorted(await store.waiting()) == ["A1", "A2", "A3"]
    assert sorted(await store.undated()) == ["A1", "A2"]
    await store.settle("D-1", "A1")
    assert sorted(await store.waiting()) == ["A2", "A3"]
    assert sorted(await store.undated()) == ["A2"]
    assert await store.client.zscore(store.waiting_key, "A1") is None
    # a record gone some other way (deleted by hand) leaves the listing and the index
    await store.client.delete(f"{store.prefix}review:A2")
    assert sorted(await store.waiting()) == ["A3"] and await store.undated() == []
    assert await store.client.zscore(store.waiting_key, "A2") is None
    assert list(await store.waiting(limit=1)) == ["A3"]


async def test_a_queue_parked_before_the_index_is_indexed_once_with_its_expiry(store):
    # records as a worker without the index left them: no index entry, one without a TTL
    await store.client.set(f"{store.prefix}review:A1", _appeal_record("A1"), ex=3600)
    await store.client.set(f"{store.prefix}review:A2", _appeal_record("A2"))
    assert sorted(await store.undated()) == ["A1", "A2"]
    now, _ = await store.client.time()
    expiry = await store.client.zscore(store.waiting_key, "A1")
    assert now + 3500 < expiry <= now + 3600
    assert await store.client.zscore(store.waiting_key, "A2") >= now + store.ttl_s - 100
    assert await store.client.exists(store.indexed_key)
    # an index entry whose record has expired (its score passed) is pruned when read
    await store.client.zadd(store.waiting_key, {"A1": now - 1})
    assert sorted(await store.waiting()) == ["A2"]
    assert await store.client.zscore(store.waiting_key, "A1") is None


async def test_an_appeal_parked_by_an_older_worker_after_the_index_is_listed(store, monkeypatch):
    # rolling upgrade: the index is built, then a worker of the version before it parks an
    # appeal as that version did: its record and review deadlines, no index entry
    await store.put_records([("A1", _appeal_record("A1"))])
    assert list(await store.waiting()) == ["A1"]
    monkeypatch.setattr(store.client, "scan_iter", _no_scan)
    await store.client.set(f"{store.prefix}review:A2", _appeal_record("A2"), ex=3600)
    await store.client.zadd(store.due_key, {"A2": T0 + 100})
    await store.client.zadd(store.next_key, {"A2": T0 + 80})
    assert sorted(await store.waiting()) == ["A1", "A2"]
    now, _ = await store.client.time()
    assert now + 3500 < await store.client.zscore(store.waiting_key, "A2") <= now + 3600
    # a deadline left by an appeal whose record has gone indexes nothing
    await store.client.zadd(store.due_key, {"A3": T0 + 100})
    assert sorted(await store.waiting()) == ["A1", "A2"]
    assert await store.client.zscore(store.waiting_key, "A3") is None


def _no_scan(*args, **kwargs):
    raise AssertionError("the review queue scanned the keyspace")


def _appeal_record(aid: str) -> bytes:
    """A parked appeal as the understand agent writes it (the listing decodes it)."""
    return Appeal(
        appeal_id=aid, channel="mailbox", source_id=aid, title="小区噪音扰民", content="夜间施工。",
        received_at=datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
        ingested_at=datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
        appeal_type="投诉", raw=RawRef(topic="raw.mailbox", partition=0, offset=0),
    ).dumps()  # fmt: skip


async def test_review_requests_are_kept_with_their_appeal_and_go_with_its_decision(store):
    from models.review import ReviewRequest

    request = ReviewRequest(
        appeal_id="A1", title="小区噪音扰民", content="夜间施工。", suggested_category="城乡建设",
        confidence=0.41, reason="low_confidence",
        requested_at=datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
    )  # fmt: skip
    records = [("A1", _appeal_record("A1")), ("A2", _appeal_record("A2"))]
    await store.put_records(records, requests={"A1": request.dumps()})  # A2: an older worker's
    got = await store.requests(["A1", "A2", "A3"])
    assert list(got) == ["A1"] and got["A1"].suggested_category == "城乡建设"
    assert got["A1"].requested_at == request.requested_at
    # it lives as long as its appeal: the topic keeps it only the broker's 7 days
    assert await store.client.ttl(f"{store.prefix}review-request:A1") > store.ttl_s - 100
    await store.settle("D-1", "A1")
    assert await store.requests(["A1"]) == {}
    # a decided appeal delivered again is not parked again, nor is its request
    await store.put_records([("A1", _appeal_record("A1"))], requests={"A1": request.dumps()})
    assert await store.requests(["A1"]) == {}
