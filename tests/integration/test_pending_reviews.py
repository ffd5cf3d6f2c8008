"""The review queue's deadlines in a real Redis: scheduled once, raised in order, settled.

Instants are passed explicitly, so nothing sleeps.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import orjson
import pytest
import pytest_asyncio
import redis.asyncio as aioredis

from models.appeal import Appeal, RawRef
from stores.pending_reviews import PendingReviews
from stores.unsaved_corrections import UnsavedCorrections
from triage.review_clock import ReviewDeadline, threshold_due

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

T0 = 1_790_000_000  # any instant: the store only compares numbers
#: The appeal and decision ids these tests use: their keys are deleted afterwards.
APPEALS = ("A1", "A2", "A3", "MB-1", "MB-2", *(f"Q{i}" for i in range(8)))
DECISIONS = ("D-1", "D-2", "1", "2")


def _client(redis_url: str) -> aioredis.Redis:
    # database 1 of the same server: the first read indexes older queues by a SCAN, and
    # database 0 of a developer's Redis may hold the SLA benchmark's million cases
    return aioredis.Redis.from_url(redis_url.rsplit("/", 1)[0] + "/1")


@pytest_asyncio.fixture(loop_scope="session")
async def store(redis_url: str, unique_prefix: str):
    client = _client(redis_url)
    st = PendingReviews(client, prefix=unique_prefix + ":")
    yield st
    # the keys these tests can write (a SCAN of a shared Redis takes seconds)
    await client.delete(
        st.due_key, st.next_key, st.waiting_key, st.indexed_key,
        *(f"{st.prefix}review{kind}:{a}" for a in APPEALS
          for kind in ("", "-request", "-decided", "-claim")),
        f"{st.prefix}corrections-unsaved",
        *(f"{st.prefix}review-applied:{d}" for d in DECISIONS),  # as older workers marked
        *(f"{st.prefix}review-applied:{a}/{d}" for a in APPEALS for d in DECISIONS),
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


# --- decisions applied once per appeal ---------------------------------------------------


@pytest.fixture
def broker(monkeypatch):
    """The decision agent's broker and corrections file, faked: what it published, what
    it dead-lettered."""
    import streams.agents.review_decisions as review_decisions
    import understand

    async def publish_assignment(assignment, transfer=None):
        out.published.append((assignment.appeal_id, assignment.decision_id))

    async def dead_letter(event, code, reason, channel, stage="intake", pending=None):
        out.letters.append((str(code), reason))

    out = SimpleNamespace(published=[], letters=[])
    monkeypatch.setattr(review_decisions, "publish_assignment", publish_assignment)
    monkeypatch.setattr(review_decisions, "dead_letter", dead_letter)
    monkeypatch.setattr(understand, "append_correction", lambda *args, **kwargs: None)
    return out


@pytest.fixture
def unsaved(store, monkeypatch):
    """The decision agent's kept-back corrections, under the test's prefix."""
    import streams.agents.review_decisions as review_decisions

    kept = UnsavedCorrections(store.client, store.prefix)
    monkeypatch.setattr(review_decisions, "unsaved_corrections", lambda: kept)
    return kept


async def _decide(
    store: PendingReviews, appeal_id: str, decision_id: str, category: str = "城乡建设"
) -> None:
    """One decision through the worker's decision agent (its broker faked)."""
    from routing.catalogue import load_catalogue
    from streams.agents.review_decisions import _apply_decision

    decision = {"appeal_id": appeal_id, "decision_id": decision_id, "reviewer": "张审核",
                "category": category, "decided_at": "2026-11-23T10:00:00+08:00"}  # fmt: skip
    await _apply_decision(SimpleNamespace(value=orjson.dumps(decision)), load_catalogue(), store)


async def test_two_decisions_of_one_appeal_read_at_once_apply_one(
    store, broker, unsaved, monkeypatch
):
    """Two workers, two partitions (a tool that does not key decisions by appeal id): both
    decisions found the appeal waiting before either settled it, and both were applied,
    two lead departments for one case (3 of 30 appeals in the reviewer's run)."""
    import streams.agents.review_decisions as review_decisions

    async def slow_broker(assignment, transfer=None):
        await asyncio.sleep(0.05)  # both decisions are under way before either is settled
        broker.published.append((assignment.appeal_id, assignment.decision_id))

    monkeypatch.setattr(review_decisions, "publish_assignment", slow_broker)
    await store.put_records([("MB-1", _appeal_record("MB-1"))])
    await asyncio.gather(_decide(store, "MB-1", "D-1"), _decide(store, "MB-1", "D-2", "环境保护"))
    assert len(broker.published) == 1, broker.published
    (winner,) = [d for _, d in broker.published]
    loser = "D-2" if winner == "D-1" else "D-1"
    [(code, reason)] = broker.letters
    assert code == "UNKNOWN_APPEAL" and winner in reason and "MB-1" in reason
    # the loser delivered again later: refused, naming the decision that settled it
    await _decide(store, "MB-1", loser)
    assert broker.letters[-1] == (
        "UNKNOWN_APPEAL",
        f"appeal MB-1 was decided already by decision {winner}",
    )
    assert len(broker.published) == 1 and await store.applied(winner, "MB-1")


async def test_a_decision_that_cannot_be_applied_leaves_the_appeal_to_the_next(
    store, broker, unsaved, monkeypatch
):
    import streams.agents.review_decisions as review_decisions

    async def too_large(assignment, transfer=None):
        raise ValueError("assignment too large")  # a bug, not an outage: dead-lettered

    await store.put_records([("MB-1", _appeal_record("MB-1"))])
    with monkeypatch.context() as m:
        m.setattr(review_decisions, "publish_assignment", too_large)
        await _decide(store, "MB-1", "D-1")
    assert [code for code, _ in broker.letters] == ["INTERNAL"]
    await _decide(store, "MB-1", "D-2")  # the reviewer's next decision is not refused
    assert broker.published == [("MB-1", "D-2")] and len(broker.letters) == 1


async def test_corrections_the_file_cannot_take_are_kept_and_written_before_the_next(
    store, broker, unsaved, tmp_path, monkeypatch
):
    """A full disk or a file someone saved into a shape the writer refuses held up every
    decision (each dead-lettered INTERNAL, emergencies included): the decision is applied
    and its correction kept in Redis until the file takes it."""
    import config.understand
    import understand
    from understand.corrections import append_correction
    from understand.dataset import read_table

    path = tmp_path / "corrections.csv"
    path.write_text("编号,内容\n1,无关的表\n", encoding="utf-8")  # not a corrections file
    monkeypatch.setattr(config.understand, "CORRECTIONS_PATH", path)
    monkeypatch.setattr(understand, "append_correction", append_correction)
    await store.put_records([(a, _appeal_record(a)) for a in ("MB-1", "MB-2", "MB-3")])
    await _decide(store, "MB-1", "D-1")
    await _decide(store, "MB-2", "D-2", "环境保护")
    assert broker.published == [("MB-1", "D-1"), ("MB-2", "D-2")] and broker.letters == []
    assert [c.decision.decision_id for c in await unsaved.all()] == ["D-1", "D-2"]
    assert await store.waiting() == {"MB-3": await store.get("MB-3")}
    path.unlink()  # someone moves the wrong file away
    await _decide(store, "MB-3", "D-3")
    assert await unsaved.all() == []
    rows = read_table(path, ("subject", "detail", "label")).rows
    assert [(cells["label"], cells["decision_id"]) for _, cells in rows] == [
        ("城乡建设", "D-1"), ("环境保护", "D-2"), ("城乡建设", "D-3"),
    ]  # fmt: skip


async def test_a_decision_id_another_appeals_decision_had_is_applied_to_its_own(store, broker):
    # a reviewers' tool numbering decisions per appeal, as the README's D-1 suggests
    await store.put_records([("MB-1", _appeal_record("MB-1")), ("MB-2", _appeal_record("MB-2"))])
    await _decide(store, "MB-1", "1")
    await _decide(store, "MB-2", "1")  # before: "already applied", MB-2 waited forever
    assert broker.published == [("MB-1", "1"), ("MB-2", "1")] and broker.letters == []
    assert await store.waiting() == {}
    assert await store.applied("1", "MB-2") and not await store.applied("2", "MB-2")
    # redelivered: skipped; a second reviewer's decision: refused with the reason
    await _decide(store, "MB-2", "1")
    await _decide(store, "MB-1", "2")
    assert broker.published == [("MB-1", "1"), ("MB-2", "1")]
    assert [code for code, _ in broker.letters] == ["UNKNOWN_APPEAL"]


async def test_a_decision_applied_by_a_worker_that_marked_by_decision_id_is_still_known(
    store, broker
):
    # MB-1 settled by the version before: its mark names the decision only, its decided
    # mark the decision that settled the appeal
    await store.client.set(f"{store.prefix}review-applied:1", 1, ex=3600)
    await store.client.set(f"{store.prefix}review-decided:MB-1", "1", ex=3600)
    await store.put_records([("MB-2", _appeal_record("MB-2"))])
    assert await store.applied("1", "MB-1") and not await store.applied("1", "MB-2")
    await _decide(store, "MB-1", "1")  # redelivered after the upgrade: applied already
    assert broker.published == [] and broker.letters == []
    await _decide(store, "MB-2", "1")  # the old mark of decision 1 is not MB-2's
    assert broker.published == [("MB-2", "1")] and broker.letters == []
    assert await store.get("MB-2") is None


# --- the queue, most urgent first ----------------------------------------------------------


async def _queue_of_eight(store: PendingReviews, now: int, requests: bool = False) -> None:
    """Q0-Q4 routine (due in 2 h), Q5 undated (an older worker's), then Q6 and Q7,
    emergencies parked last but due first (already overdue at ``now``)."""
    routine = {f"Q{i}": ReviewDeadline(now + 5000 + i, now + 7200 + i) for i in range(5)}
    urgent = {"Q6": ReviewDeadline(now - 200, now - 100), "Q7": ReviewDeadline(now - 150, now - 50)}
    for batch, deadlines in ((routine, routine), (["Q5"], {}), (urgent, urgent)):
        await store.put_records(
            [(aid, _appeal_record(aid)) for aid in batch], deadlines,
            {aid: _request(aid).dumps() for aid in batch} if requests else None,
        )  # fmt: skip


async def test_the_queue_is_listed_most_urgent_first_across_all_of_it(store):
    await _queue_of_eight(store, T0)
    # before: the first `limit` parked (10,000 by default), sorted afterwards
    assert list(await store.waiting(limit=2)) == ["Q6", "Q7"]
    page = await store.page(T0, offset=0, limit=3)
    assert list(page.appeals) == ["Q6", "Q7", "Q0"]
    assert page.deadlines == {"Q6": T0 - 100, "Q7": T0 - 50, "Q0": T0 + 7200}
    assert (page.total, page.overdue) == (8, 2)  # the whole queue's, not the page's
    assert list((await store.page(T0, offset=3, limit=4)).appeals) == ["Q1", "Q2", "Q3", "Q4"]
    last = await store.page(T0, offset=7, limit=4)
    assert list(last.appeals) == ["Q5"] and last.deadlines == {} and last.total == 8
    assert (await store.page(T0, offset=8)).appeals == {}
    assert list(await store.waiting()) == ["Q6", "Q7", "Q0", "Q1", "Q2", "Q3", "Q4", "Q5"]
    # settled or gone by hand: out of the totals
    await store.settle("D-1", "Q6")
    await store.client.delete(f"{store.prefix}review:Q7")
    page = await store.page(T0, limit=1)
    assert list(page.appeals) == ["Q0"] and (page.total, page.overdue) == (6, 0)


async def test_review_list_shows_the_most_urgent_first_and_the_whole_queues_totals(
    store, redis_url, monkeypatch, capsys
):
    import time

    from cli import review

    await _queue_of_eight(store, int(time.time()), requests=True)
    # the command's own store (it closes its client), on this test's keys
    settings = SimpleNamespace(broker="127.0.0.1:2", topic=lambda name: name)  # not read
    mine = lambda: (settings, PendingReviews(_client(redis_url), prefix=store.prefix))  # noqa: E731
    monkeypatch.setattr(review, "_store", mine)
    await review._list(2, False)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines if line.startswith("Q")] == ["Q6", "Q7"]
    assert lines[-1] == "8 waiting for review, 2 overdue, 1-2 shown (--offset 2 for more)"
    await review._list(5, False, offset=5)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines if line.startswith("Q")] == ["Q3", "Q4", "Q5"]
    assert lines[-1] == "8 waiting for review, 2 overdue, 6-8 shown"


def _request(aid: str):
    from models.review import ReviewRequest

    return ReviewRequest(
        appeal_id=aid, title="小区噪音扰民", content="夜间施工。", suggested_category="城乡建设",
        confidence=0.41, reason="low_confidence",
        requested_at=datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
    )  # fmt: skip
