"""The Redis stores (``stores/``) under what production does to them, on the real Redis:
at-least-once redelivery, a second worker at the same moment, a reply lost to a brief
outage, odd ids, Chinese text and large values, and Redis not there at all.

Instants are passed explicitly, so nothing sleeps (except ``until_reachable``'s first
0.5 s backoff after a lost reply).
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import Awaitable, Callable

import orjson
import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from intake.contact import Contact
from intake.identity import contact_ref
from stores.appeals_seen import Claim, SeenAppeals
from stores.contacts import ContactStore
from stores.early_case_events import EarlyCaseEvents
from stores.intake_counters import IntakeCounters
from stores.pending_reviews import PendingReviews
from stores.replayed_dead_letters import ReplayedDeadLetters
from streams.outages import REDIS_DOWN, until_reachable
from tests.integration.redis_keys import delete_keys
from tests.integration.test_pending_reviews import _raise_due
from triage.review_clock import ReviewDeadline

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

T0 = 1_790_000_000
DEADLINE = ReviewDeadline(warn_at=T0 + 80, due_at=T0 + 100)
ODD_IDS = ["", "A:1:due", "A*", "A1\nB1", "投诉-市长信箱-１", "X" * 10_000, "early:due"]


@pytest_asyncio.fixture(loop_scope="session")
async def client(redis_url: str, unique_prefix: str):
    # database 1, as tests/integration/test_pending_reviews.py: database 0 of a developer's
    # Redis may hold the SLA benchmark's million cases. Only this test's keys are deleted.
    c = aioredis.Redis.from_url(redis_url.rsplit("/", 1)[0] + "/1")
    yield c
    await delete_keys(c, unique_prefix)
    await c.aclose()


def _after_round_trip(monkeypatch, client, n: int, then: Callable[[], Awaitable[None]]) -> None:
    """Run ``then`` right after the ``n``-th round trip (command or pipeline) ``client``
    makes from now on, before its caller sees the reply."""
    trips = iter(range(n - 1, -1, -1))
    run_command, make_pipeline = client.execute_command, client.pipeline

    async def after(reply):
        if next(trips, None) == 0:
            await then()
        return reply

    async def execute_command(*args, **kwargs):
        return await after(await run_command(*args, **kwargs))

    def pipeline(*args, **kwargs):
        pipe = make_pipeline(*args, **kwargs)
        run = pipe.execute

        async def execute(*a, **kw):
            return await after(await run(*a, **kw))

        pipe.execute = execute
        return pipe

    monkeypatch.setattr(client, "execute_command", execute_command)
    monkeypatch.setattr(client, "pipeline", pipeline)


async def _reply_lost() -> None:
    """The connection reset after Redis ran the command: its writes are kept."""
    raise aioredis.ConnectionError("Connection reset by peer (reply lost)")


def _host_port(client: aioredis.Redis) -> str:
    kwargs = client.connection_pool.connection_kwargs
    return f"{kwargs['host']}:{kwargs['port']}"


# --- pending reviews ------------------------------------------------------------------


@pytest.mark.parametrize("lost", [1, 2, 3, 4])
async def test_a_reply_lost_while_parking_loses_no_review_alert(
    client, unique_prefix, monkeypatch, lost
):
    store = PendingReviews(client, prefix=f"{unique_prefix}:")
    _after_round_trip(monkeypatch, client, lost, _reply_lost)
    # the understand agent retries its step after a Redis outage (streams/outages.py)
    parked = await until_reachable("test", store.put_records, [("A1", b"{}")], {"A1": DEADLINE})
    monkeypatch.undo()
    assert parked == ["A1"] and await client.get(f"{unique_prefix}:review:A1") == b"{}"
    assert await store.deadlines(["A1"]) == {"A1": T0 + 100}
    # before: the deadline written, the reply lost before the first threshold was: the
    # retry found the deadline and scheduled nothing, and no alert ever came
    assert await _raise_due(store, T0 + 80) == [("A1", "warn80")]
    assert await _raise_due(store, T0 + 100) == [("A1", "overdue")]


@pytest.mark.parametrize("lost", [1, 2])
async def test_a_reply_lost_while_dating_undated_appeals_loses_no_alert(
    client, unique_prefix, monkeypatch, lost
):
    store = PendingReviews(client, prefix=f"{unique_prefix}:")
    await store.put_records([("A1", b"{}")])  # parked by a worker without review alerts
    _after_round_trip(monkeypatch, client, lost, _reply_lost)
    await until_reachable("test", store.schedule, {"A1": DEADLINE})  # date_undated_reviews
    monkeypatch.undo()
    assert await _raise_due(store, T0 + 80) == [("A1", "warn80")]


@pytest.mark.parametrize("settled_after", [1, 2, 3, 4])
async def test_an_appeal_redelivered_while_its_decision_is_settled_is_not_parked_again(
    client, unique_prefix, monkeypatch, settled_after
):
    store = PendingReviews(client, prefix=f"{unique_prefix}:")
    await store.put_records([("A1", b"{}")], {"A1": DEADLINE})
    assert await _raise_due(store, T0 + 80) == [("A1", "warn80")]
    # the decision agent (another worker) settles A1's decision between any two of the
    # round trips with which appeals.received's redelivered A1 is parked again
    settled = []

    async def settle() -> None:
        settled.append(True)
        await PendingReviews(decider, prefix=store.prefix).settle("D-1", "A1")

    decider = aioredis.Redis.from_url(f"redis://{_host_port(client)}/1")
    try:
        _after_round_trip(monkeypatch, client, settled_after, settle)
        later = ReviewDeadline(T0 + 280, T0 + 300)
        await store.put_records([("A1", b"{}")], {"A1": later})
        monkeypatch.undo()
        if not settled:  # parking took fewer round trips: the decision comes after it
            await settle()
    finally:
        await decider.aclose()
    # before: checked (not decided), settled, then written: A1 waited for a second decision
    # (which would have sent it out again) and raised review alerts on a dispatched case
    assert await client.get(f"{store.prefix}review:A1") is None
    assert await store.deadlines(["A1"]) == {} and await store.due(T0 + 10_000) == []
    assert await store.put_records([("A1", b"{}")], {"A1": later}) == []


async def test_two_workers_parking_one_appeal_at_once_schedule_it_once(client, unique_prefix):
    store = PendingReviews(client, prefix=f"{unique_prefix}:")
    other = aioredis.Redis.from_url(f"redis://{_host_port(client)}/1")
    try:
        twin = PendingReviews(other, prefix=store.prefix)
        later = ReviewDeadline(T0 + 280, T0 + 300)
        await asyncio.gather(
            store.put_records([("A1", b"{}")], {"A1": DEADLINE}),
            twin.put_records([("A1", b"{}")], {"A1": later}),
        )
    finally:
        await other.aclose()
    (due_at,) = (await store.deadlines(["A1"])).values()
    assert due_at in (T0 + 100, T0 + 300)
    warn = T0 + 80 if due_at == T0 + 100 else T0 + 280
    assert await _raise_due(store, warn) == [("A1", "warn80")]
    assert await _raise_due(store, due_at) == [("A1", "overdue")]
    assert await _raise_due(store, T0 + 10_000) == []


async def test_parked_appeals_keep_odd_ids_chinese_text_and_large_records_and_expire(
    client, unique_prefix
):
    store = PendingReviews(client, prefix=f"{unique_prefix}:", ttl_s=3600)
    record = ('{"district": "A市A3区", "content": "' + "噪音扰民" * 100_000 + '"}').encode()
    ids = ODD_IDS
    assert await store.put_records([(a, record) for a in ids], dict.fromkeys(ids, DEADLINE)) == ids
    for aid in ids:
        assert await client.get(f"{store.prefix}review:{aid}") == record
        assert 3500 < await client.ttl(f"{store.prefix}review:{aid}") <= 3600  # the queue expires
    due = await store.due(T0 + 80, limit=100)
    assert sorted(d.appeal_id for d in due) == sorted(ids)
    assert {d.district for d in due} == {"A市A3区"}
    assert await store.undated() == []  # all dated
    await store.settle("D:1\n*", "A:1:due")
    assert await client.ttl(f"{store.prefix}review-applied:A:1:due/D:1\n*") > 3500
    assert await client.ttl(f"{store.prefix}review-decided:A:1:due") > 3500
    assert await store.applied("D:1\n*", "A:1:due") and not await store.applied("D:1", "A:1:due")
    assert not await store.applied("D:1\n*", "A:2:due")  # decision ids are per appeal
    assert "A:1:due" not in await store.deadlines(ids)


# --- early case events ------------------------------------------------------------------


async def test_an_event_for_an_appeal_called_due_waits_like_any_other(client, unique_prefix):
    early = EarlyCaseEvents(client, prefix=unique_prefix, wait_s=60)
    # before: its queue was the wait index itself (`early:due`): WRONGTYPE for this park,
    # for every later park of any appeal, and for every expiry scan, until deleted by hand
    await early.park("due", b"d1", now=1000.0)
    await early.park("A1", b"e1", now=1001.0)
    await early.park("_due", b"u1", now=1002.0)
    assert await early.waiting(["due", "_due", "A1", "__due"]) == {"due", "_due", "A1"}
    assert await early.expired(now=1061.0) == ["due", "A1"]
    parked = await early.peek(["due", "_due", "A1"])
    assert parked == {"due": [b"d1"], "_due": [b"u1"], "A1": [b"e1"]}
    assert await early.drop(parked) == {"due": 0, "_due": 0, "A1": 0}
    assert await early.expired(now=10_000.0) == []
    assert await client.type(f"{unique_prefix}early:due") == b"none"


async def test_early_events_of_odd_ids_and_large_records_keep_order_and_expire(
    client, unique_prefix
):
    early = EarlyCaseEvents(client, prefix=unique_prefix, wait_s=60)
    big = ("签收" * 200_000).encode()
    for i, aid in enumerate(ODD_IDS):
        await early.park(aid, b"1", now=1000.0 + i)
        await early.park(aid, big, now=2000.0)  # the wait starts with the first
    assert await early.waiting(ODD_IDS) == set(ODD_IDS)
    assert await early.expired(now=1000.0 + len(ODD_IDS) + 59) == ODD_IDS
    parked = await early.peek(ODD_IDS)
    assert parked == {aid: [b"1", big] for aid in ODD_IDS}
    await early.park("A1\nB1", b"later", now=3000.0)  # parked while those are applied
    left = await early.drop(parked)
    assert left == {aid: int(aid == "A1\nB1") for aid in ODD_IDS}
    assert await early.peek(["A1\nB1", "A1"]) == {"A1\nB1": [b"later"]}


# --- seen appeals, contacts, counters, replayed dead letters -------------------------------


async def test_seen_ids_expire_and_a_resend_does_not_prolong_them(client, unique_prefix):
    seen = SeenAppeals(client, prefix=f"{unique_prefix}:seen:", ttl_s=3600)
    counters = f"{unique_prefix}:counters"
    first = await seen.claim_many(
        [(aid, "raw.hotline/0/1", "hotline") for aid in ODD_IDS], counters
    )
    assert first == [Claim.NEW] * len(ODD_IDS)
    await client.expire(f"{unique_prefix}:seen:A*", 100)
    # a re-send (another position) is suppressed, a redelivery (the same one) published
    again = [("A*", "raw.hotline/0/2", "hotline"), ("A*", "raw.hotline/0/1", "hotline")]
    assert await seen.claim_many(again, counters) == [Claim.RESENT, Claim.REDELIVERED]
    assert [c.publish for c in (Claim.NEW, Claim.REDELIVERED, Claim.RESENT)] == [True, True, False]
    assert 0 < await client.ttl(f"{unique_prefix}:seen:A*") <= 100
    assert await client.ttl(f"{unique_prefix}:seen:投诉-市长信箱-１") > 3500


async def test_a_redelivered_batch_is_counted_once_and_a_resend_as_a_duplicate(
    client, unique_prefix
):
    """Counting apart from the claim counted every record of a batch delivered again after
    a crash (or retried after an outage) a second time as a new appeal."""
    seen = SeenAppeals(client, prefix=f"{unique_prefix}:seen:", ttl_s=3600)
    counters = IntakeCounters(client, f"{unique_prefix}:counters")
    batch = [(f"MB-{i}", f"raw.mailbox/0/{i}", "mailbox") for i in range(5)]
    for _ in range(3):  # delivered, then twice again
        claims = await seen.claim_many(batch, counters.key)
        assert all(c.publish for c in claims)
    await seen.claim_many([("MB-0", "raw.mailbox/1/9", "mailbox")], counters.key)  # re-sent
    assert await counters.read() == {
        "mailbox.normalised": 6, "mailbox.published": 5, "mailbox.duplicate": 1,
    }  # fmt: skip


async def test_two_workers_claiming_one_appeal_from_two_positions_publish_it_once(
    client, unique_prefix
):
    other = aioredis.Redis.from_url(f"redis://{_host_port(client)}/1")
    try:
        prefix = f"{unique_prefix}:seen:"
        claims = await asyncio.gather(*(
            SeenAppeals(c, prefix, 3600).claim_many(
                [("MB-1", f"raw.mailbox/{i}/7", "mailbox")], f"{unique_prefix}:counters"
            )
            for i, c in enumerate([client, other] * 5)
        ))  # fmt: skip
    finally:
        await other.aclose()
    assert sum(c == [Claim.NEW] for c in claims) == 1
    assert sum(c == [Claim.RESENT] for c in claims) == 9
    assert await client.hget(f"{unique_prefix}:counters", "mailbox.published") == b"1"


async def test_contacts_stay_under_their_reference_only(client, unique_prefix):
    contacts = ContactStore(client, prefix=f"{unique_prefix}:contact:")
    ref = contact_ref("secret-1", "hotline", "13812345678")
    assert ref != contact_ref("secret-2", "hotline", "13812345678")  # keyed by configuration
    assert (
        ref
        == contact_ref("secret-1", "hotline", "13812345678")
        != contact_ref("secret-1", "mailbox", "13812345678")
    )
    found = [("phone", "13912345678"), ("email", "张三@例子.中国")]
    person = Contact(ref=ref, channel="hotline", identity="13812345678", name="张三",
                     phone="13812345678", found_in_text={"HL-1": found, "HL-2": []},
                     appeal_id="HL-1")  # fmt: skip
    await contacts.save_many([person])
    await contacts.save_many([person])  # redelivered
    assert await contacts.load(ref) == {
        "channel": "hotline", "identity": "13812345678", "name": "张三",
        "phone": "13812345678", "text:HL-1": '[["phone","13912345678"],["email","张三@例子.中国"]]',
        "given:HL-1": '{"name":"张三","phone":"13812345678"}',
    }  # fmt: skip
    keys = [k async for k in client.scan_iter(match=f"{unique_prefix}*")]
    assert keys == [f"{unique_prefix}:contact:{ref}".encode()]
    assert "1381234" not in ref and await contacts.load("C-unknown") == {}


async def test_the_details_given_with_each_appeal_are_kept_beside_the_latest(client, unique_prefix):
    """A citizen writing twice with two phones: the call back about the first appeal
    needs the first phone, which the latest details alone had overwritten."""
    contacts = ContactStore(client, prefix=f"{unique_prefix}:contact:")
    first = Contact(ref="C-1", channel="mailbox", identity="u1", phone="13812345678",
                    appeal_id="MB-1")  # fmt: skip
    second = Contact(ref="C-1", channel="mailbox", identity="u1", name="李四",
                     email="li@example.cn", appeal_id="MB-2")  # fmt: skip
    await contacts.save_many([first])
    await contacts.save_many([second, Contact(ref="C-1", channel="mailbox", identity="u1")])
    stored = await contacts.load("C-1")
    assert stored["phone"] == "13812345678" and stored["email"] == "li@example.cn"
    assert orjson.loads(stored["given:MB-1"]) == {"phone": "13812345678"}
    assert orjson.loads(stored["given:MB-2"]) == {"name": "李四", "email": "li@example.cn"}
    assert sorted(k for k in stored if ":" in k) == ["given:MB-1", "given:MB-2"]


async def test_contacts_expire_after_the_citizens_last_appeal(client, unique_prefix):
    day = 86400
    kept = ContactStore(client, prefix=f"{unique_prefix}:contact:", ttl_s=180 * day)
    person = Contact(ref="C-ttl", channel="hotline", identity="13812345678",
                     found_in_text={"HL-1": [("phone", "13912345678")]})  # fmt: skip
    key = f"{unique_prefix}:contact:C-ttl"
    await kept.save_many([person])
    assert 179 * day < await client.ttl(key) <= 180 * day
    await client.expire(key, day)  # most of the period gone, then the citizen calls again
    await kept.save_many([Contact(ref="C-ttl", channel="hotline", identity="13812345678",
                                  found_in_text={"HL-2": [("id", "110101199001011234")]})])  # fmt: skip
    assert 179 * day < await client.ttl(key) <= 180 * day  # a new period, nothing lost
    assert set(await kept.load("C-ttl")) == {"channel", "identity", "text:HL-1", "text:HL-2"}
    forever = ContactStore(client, prefix=f"{unique_prefix}:contact-kept:", ttl_s=0)
    await forever.save_many([person])
    assert await client.ttl(f"{unique_prefix}:contact-kept:C-ttl") == -1  # no expiry


async def test_contacts_saved_under_another_period_are_brought_into_the_current_one(
    client, unique_prefix
):
    day, prefix = 86400, f"{unique_prefix}:contact:"
    person = Contact(ref="C-old", channel="hotline", identity="13812345678")
    await ContactStore(client, prefix=prefix, ttl_s=0).save_many([person])  # before retention
    await ContactStore(client, prefix=prefix, ttl_s=365 * day).save_many(
        [Contact(ref="C-long", channel="mailbox", identity="a@b.cn")]
    )
    await ContactStore(client, prefix=prefix, ttl_s=day).save_many(
        [Contact(ref="C-short", channel="wechat", identity="o-1")]
    )
    store = ContactStore(client, prefix=prefix, ttl_s=180 * day)
    assert await store.apply_retention(batch=2) == 2  # C-old and C-long; C-short has less left
    assert 179 * day < await client.ttl(prefix + "C-old") <= 180 * day
    assert 179 * day < await client.ttl(prefix + "C-long") <= 180 * day
    assert await client.ttl(prefix + "C-short") <= day
    assert await store.load("C-old") == {"channel": "hotline", "identity": "13812345678"}
    assert await store.apply_retention() is None  # applied for this period: no second SCAN
    # a while with no period (0), then the same period again: what was saved meanwhile
    forever = ContactStore(client, prefix=prefix, ttl_s=0)
    assert await forever.apply_retention() is None
    await forever.save_many([Contact(ref="C-new", channel="hotline", identity="13912345678")])
    assert await client.ttl(prefix + "C-new") == -1
    assert await store.apply_retention() == 1
    assert 179 * day < await client.ttl(prefix + "C-new") <= 180 * day


async def test_a_prefix_with_glob_characters_scans_only_its_own_keys(client, unique_prefix):
    # Redis reads [1] in a SCAN pattern as a character class: "c[1]:contact:*" unescaped
    # matches "c1:contact:…", another centre's keys
    mine, theirs = f"{unique_prefix}:c[1]:", f"{unique_prefix}:c1:"
    await client.set(theirs + "contact:C-9", b"x")
    await client.set(theirs + "review:A9", b"x")
    assert await ContactStore(client, prefix=mine + "contact:", ttl_s=3600).apply_retention() == 0
    assert await client.ttl(theirs + "contact:C-9") == -1
    assert await PendingReviews(client, prefix=mine).waiting() == {}
    assert await client.zcard(mine + "review-waiting") == 0


async def test_counters_and_replayed_letters_are_idempotent_where_they_say(client, unique_prefix):
    replayed = ReplayedDeadLetters(client, key=f"{unique_prefix}:replayed")
    await replayed.mark([("0/1", 10), ("0/2", 20)])
    await replayed.mark([("0/2", 20), ("1/1", 30)])
    letters = [("0/1", 10), ("0/2", 20), ("1/1", 30), ("1/2", 40)]
    assert await replayed.replayed(letters) == {"0/1", "0/2", "1/1"}
    # the same position with another record time: a re-created topic's letter, not replayed
    assert await replayed.replayed([("0/1", 11)]) == set()
    assert await replayed.forget_before(20) == 1  # 0/1's letter has left the topic
    assert await replayed.replayed(letters) == {"0/2", "1/1"}
    counters = IntakeCounters(client, key=f"{unique_prefix}:counters")
    await counters.add(Counter({"mailbox.published": 3}))
    await counters.add(Counter())
    await counters.add(Counter({"mailbox.published": 2, "wechat.duplicate": 1}))
    assert await counters.read() == {"mailbox.published": 5, "wechat.duplicate": 1}


async def test_replayed_letters_kept_as_a_plain_set_by_earlier_versions_are_converted(
    client, unique_prefix
):
    key = f"{unique_prefix}:replayed"
    await client.sadd(key, "0/1", "0/7")  # 0/7 has left the topic
    replayed = ReplayedDeadLetters(client, key=key)
    assert await replayed.replayed([("0/1", 10), ("0/2", 20)]) == {"0/1"}
    assert await client.type(key) == b"zset"
    assert await client.zrange(key, 0, -1, withscores=True) == [(b"0/1@10", 10.0)]


async def test_a_replay_that_lost_its_lock_stops_before_marking(client, unique_prefix, monkeypatch):
    from redis.exceptions import LockError

    from stores import replayed_dead_letters

    monkeypatch.setattr(replayed_dead_letters, "LOCK_TTL_S", 1)
    first = ReplayedDeadLetters(client, key=f"{unique_prefix}:replayed")
    second = ReplayedDeadLetters(client, key=f"{unique_prefix}:replayed")
    async with first.exclusive():
        with pytest.raises(replayed_dead_letters.ReplayRunning):
            async with second.exclusive():
                pass
        await first.mark([("0/1", 10)])  # renews the lock
        await asyncio.sleep(1.3)  # stalled past the lock's life: another replay starts
        async with second.exclusive():
            with pytest.raises(LockError):
                await first.mark([("0/2", 20)])
    assert await first.replayed([("0/1", 10), ("0/2", 20)]) == {"0/1"}


async def test_closed_wechat_messages_mark_the_session_first_message(client, unique_prefix):
    from stores.closed_wechat_messages import FIRST, JOINED, ClosedWeChatMessages

    closed = ClosedWeChatMessages(client, prefix=f"{unique_prefix}:closed:", ttl_s=60)
    await closed.remember("C-1", ["101", "102", "103"])
    assert [await closed.closed("C-1", m) for m in ("101", "102", "103")] == [FIRST, JOINED, JOINED]
    assert await closed.closed("C-1", "104") is None
    assert await closed.closed("C-2", "101") is None  # per sender
    assert 0 < await client.ttl(f"{unique_prefix}:closed:C-1:101") <= 60


# --- Redis not there ---------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: One call of each store, as the agents, timers and commands make them.
CALLS = {
    "seen claim": lambda c: SeenAppeals(c, "x:", 60).claim_many([("A1", "p", "mailbox")], "x"),
    "contacts save": lambda c: ContactStore(c).save_many(
        [Contact(ref="C-1", channel="wechat", identity="o")]
    ),
    "counters add": lambda c: IntakeCounters(c, "x").add({"a": 1}),
    "review park": lambda c: PendingReviews(c, "x:").put_records([("A1", b"{}")], {"A1": DEADLINE}),
    "review schedule": lambda c: PendingReviews(c, "x:").schedule({"A1": DEADLINE}),
    "review due": lambda c: PendingReviews(c, "x:").due(T0),
    "review settle": lambda c: PendingReviews(c, "x:").settle("D-1", "A1"),
    "early park": lambda c: EarlyCaseEvents(c, "x:", 60).park("A1", b"e"),
    "early drop": lambda c: EarlyCaseEvents(c, "x:", 60).drop({"A1": [b"e"]}),
    "early expired": lambda c: EarlyCaseEvents(c, "x:", 60).expired(),
    "replayed mark": lambda c: ReplayedDeadLetters(c, "x").mark([("0/1", 1)]),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
async def test_redis_away_is_an_outage_for_until_reachable_not_swallowed(call):
    # without the client's own retries (about 4 s of backoff before it gives up)
    c = aioredis.Redis(host="127.0.0.1", port=_closed_port(), retry=Retry(NoBackoff(), 0))
    try:
        with pytest.raises(REDIS_DOWN):
            await call(c)
    finally:
        await c.aclose()
