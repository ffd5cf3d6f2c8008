"""Appeals waiting for a reviewer's decision, their review deadlines, and which decisions
were already applied."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import orjson
import redis.asyncio as aioredis

from models.appeal import Appeal
from models.review import ReviewRequest
from stores.key_pattern import scan_batches
from triage.review_clock import ReviewDeadline

#: Give appeal ARGV[1] the deadline ARGV[2] and first threshold ARGV[3] (KEYS: review-due,
#: review-next) unless it has a deadline already. One script: a deadline written without
#: its threshold (a worker gone, or a reply lost, in between) would never raise an alert,
#: and a retry would not mend it (the deadline is there).
_SCHEDULE = """
if redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
end
return 1
"""

#: Park appeal ARGV[1] (record ARGV[4], TTL ARGV[5]) under KEYS[4], with its review request
#: ARGV[6] (if any) under KEYS[6], unless its decision is settled (KEYS[3]); index it in the
#: waiting zset KEYS[5] (score: when its record expires, by the server's clock, as its
#: TTL), then schedule it as above when ARGV[2] is a deadline. Checked and written at once:
#: a decision settled between a separate check and write would leave the decided appeal
#: waiting again (reviewers asked twice, alerts on a dispatched case).
_PARK = (
    """
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('SET', KEYS[4], ARGV[4], 'EX', ARGV[5])
if ARGV[6] ~= '' then redis.call('SET', KEYS[6], ARGV[6], 'EX', ARGV[5]) end
redis.call('ZADD', KEYS[5], tonumber(redis.call('TIME')[1]) + tonumber(ARGV[5]), ARGV[1])
if ARGV[2] == '' then return 1 end
"""
    + _SCHEDULE
)

#: Index appeal ARGV[1] (record KEYS[2]) in the waiting zset KEYS[1] if its record is still
#: there, with its expiry as score (no TTL: now + ARGV[2]). One script, so an appeal settled
#: while the index is built is not indexed after its record went.
_INDEX_ONE = """
local ttl = redis.call('TTL', KEYS[2])
if ttl == -2 then return 0 end
if ttl < 0 then ttl = tonumber(ARGV[2]) end
redis.call('ZADD', KEYS[1], tonumber(redis.call('TIME')[1]) + ttl, ARGV[1])
return 1
"""


#: Claim KEYS[1] for decision ARGV[1] (TTL ARGV[2]) unless the appeal's decided mark KEYS[2]
#: or another decision's claim is there: {} when claimed, else {"settled"|"held", holder}.
_CLAIM = """
local decided = redis.call('GET', KEYS[2])
if decided then
  if decided == ARGV[1] then return {} end
  return {'settled', decided}
end
local held = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'GET', 'EX', ARGV[2])
if (not held) or held == ARGV[1] then return {} end
return {'held', held}
"""

#: Delete the claim KEYS[1] if decision ARGV[1] holds it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a decision cannot take its appeal: another decision settled it or is applying it."""

    holder: str  # that decision's id
    settled: bool

    def reason(self, appeal_id: str) -> str:
        """For the decision's dead letter and the reviewer's command."""
        if self.settled:
            return f"appeal {appeal_id} was decided already by decision {self.holder}"
        return f"appeal {appeal_id} is being decided by decision {self.holder}"


@dataclass(frozen=True, slots=True)
class DueReview:
    """A waiting appeal whose next review-wait threshold has come."""

    appeal_id: str
    at: int  # the threshold's instant (epoch s)
    due_at: int  # the review deadline
    waiting: bool  # False: decided or expired meanwhile; nothing to raise
    district: str | None = None  # the appeal's, for supervisors who watch by district


@dataclass(frozen=True, slots=True)
class QueuePage:
    """A page of the review queue, most urgent first, with the whole queue's totals."""

    appeals: dict[str, Appeal]  # the page, in queue order
    deadlines: dict[str, int]  # review deadlines (epoch s) of the page's appeals that have one
    total: int  # appeals waiting, in the whole queue
    overdue: int  # of them past their review deadline


class PendingReviews:
    """``<prefix>review:<appeal_id>`` holds the appeal until a decision is applied, and
    ``<prefix>review-request:<appeal_id>`` what the classifier suggested for it (the
    ``ReviewRequest`` also on ``appeals.review``, which Kafka keeps only days);
    ``<prefix>review-applied:<appeal_id>/<decision_id>`` marks a decision whose assignment
    went out and ``<prefix>review-decided:<appeal_id>`` (its value) the appeal it settled;
    ``<prefix>review-claim:<appeal_id>`` names the decision being applied, so that one
    decision of an appeal is applied however many arrive at once.

    The queue's index, zset ``<prefix>review-waiting``, maps each waiting appeal to the
    instant its record expires, so listing the queue reads the queue, not the keyspace.
    The records are the truth: an id whose record is gone is dropped when the index is
    read. Queues parked before the index existed are indexed once, by a SCAN, the first
    time it is read (``<prefix>review-indexed`` marks that done).

    Review deadlines (``triage.review_clock``): zset ``<prefix>review-due`` maps each
    waiting appeal to its deadline, zset ``<prefix>review-next`` to the instant of its next
    alert threshold (removed once the last one is raised). All three lose the appeal when
    its decision is settled.
    """

    def __init__(self, client: aioredis.Redis, prefix: str, ttl_s: int = 90 * 86400) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_s = ttl_s
        self.due_key = f"{prefix}review-due"
        self.next_key = f"{prefix}review-next"
        self.waiting_key = f"{prefix}review-waiting"
        self.indexed_key = f"{prefix}review-indexed"

    async def put_records(
        self,
        records: list[tuple[str, bytes]],
        deadlines: Mapping[str, ReviewDeadline] | None = None,
        requests: Mapping[str, bytes] | None = None,
    ) -> list[str]:
        """Keep appeals, as their JSON records ``(appeal_id, json)``, until someone decides,
        with their review deadlines and review requests (JSON); return the ids parked.

        Idempotent: a redelivered appeal keeps its first deadline, a threshold already
        raised is not scheduled again, and an appeal whose decision was applied is not
        parked again (it would ask reviewers to decide twice)."""
        if not records:
            return []
        deadlines, requests = deadlines or {}, requests or {}
        async with self.client.pipeline(transaction=False) as pipe:
            for aid, record in records:
                d = deadlines.get(aid)
                pipe.eval(
                    _PARK, 6, self.due_key, self.next_key, self._decided_key(aid),
                    self._review_key(aid), self.waiting_key, self._request_key(aid), aid,
                    d.due_at if d else "", d.warn_at if d else "", record, self.ttl_s,
                    requests.get(aid, b""),
                )  # fmt: skip
            done = await pipe.execute()
        return [aid for (aid, _), ok in zip(records, done, strict=True) if ok]

    def _review_key(self, appeal_id: str) -> str:
        return f"{self.prefix}review:{appeal_id}"

    def _request_key(self, appeal_id: str) -> str:
        return f"{self.prefix}review-request:{appeal_id}"

    def _decided_key(self, appeal_id: str) -> str:
        return f"{self.prefix}review-decided:{appeal_id}"

    async def _index_existing(self) -> None:
        """Index, once, the appeals parked before the index existed: one SCAN of the
        keyspace, then never again (the marker). Cheap after that: one EXISTS."""
        if await self.client.exists(self.indexed_key):
            return
        start = len(self._review_key(""))
        async for keys in scan_batches(self.client, self._review_key("")):
            await self._index([key.decode()[start:] for key in keys])
        await self.client.set(self.indexed_key, 1)

    async def _index(self, appeal_ids: list[str]) -> None:
        """Index these appeals with their records' expiry, those whose record is there."""
        async with self.client.pipeline(transaction=False) as pipe:
            for aid in appeal_ids:
                pipe.eval(_INDEX_ONE, 2, self.waiting_key, self._review_key(aid), aid, self.ttl_s)
            await pipe.execute()

    async def _index_dated_strays(self) -> None:
        """Index the appeals that have a review deadline but no index entry: parked, during
        a rolling upgrade, by a worker older than the index after the index was built.
        Cheap: the deadlines of waiting appeals are a subset of the index otherwise, so the
        difference is empty or holds a few decided-meanwhile ids until they are forgotten.
        (An older worker running without review alerts leaves no deadline: upgrade the
        understand workers together then, or delete ``review-indexed`` after the upgrade.)
        """
        strays = await self.client.zdiff([self.due_key, self.waiting_key])
        if strays:
            await self._index([aid.decode() for aid in strays])

    async def _queue(self) -> tuple[list[str], dict[str, int]]:
        """Every id in the index whose record has not expired, most urgent first (those
        with a review deadline by deadline, then the rest soonest to expire, i.e. earliest
        parked, first), and their deadlines; expired ones are dropped from the index.

        Ids only: the records are read for a page of them (a queue may hold tens of
        thousands), so the order and the totals cover the whole queue."""
        await self._index_existing()
        await self._index_dated_strays()
        now, _ = await self.client.time()
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(self.waiting_key, "-inf", now)
            pipe.zrange(self.waiting_key, 0, -1)
            # weight 0: the scores are the deadlines, of waiting appeals only (a deadline
            # outlives its appeal until the alert scan forgets it)
            pipe.zinter({self.due_key: 1, self.waiting_key: 0}, withscores=True)
            _, members, dated = await pipe.execute()
        deadlines = {m.decode(): int(score) for m, score in dated}
        undated = [aid for aid in (m.decode() for m in members) if aid not in deadlines]
        return [*deadlines, *undated], deadlines

    async def schedule(self, deadlines: Mapping[str, ReviewDeadline]) -> None:
        """Give appeals their review deadlines, unless they have one already."""
        if not deadlines:
            return
        async with self.client.pipeline(transaction=False) as pipe:
            for appeal_id, d in deadlines.items():
                pipe.eval(_SCHEDULE, 2, self.due_key, self.next_key, appeal_id, d.due_at, d.warn_at)
            await pipe.execute()

    async def undated(self) -> list[str]:
        """Waiting appeals without a review deadline: parked by a worker without review
        alerts (an older version, or alerts turned off then)."""
        ids, deadlines = await self._queue()
        return await self._still_waiting([aid for aid in ids if aid not in deadlines])

    async def _still_waiting(self, appeal_ids: list[str]) -> list[str]:
        """Those of ``appeal_ids`` whose record is still parked, in the same order."""
        if not appeal_ids:
            return []
        async with self.client.pipeline(transaction=False) as pipe:
            for aid in appeal_ids:
                pipe.exists(self._review_key(aid))
            there = await pipe.execute()
        return [aid for aid, t in zip(appeal_ids, there, strict=True) if t]

    async def deadlines(self, appeal_ids: list[str]) -> dict[str, int]:
        """Review deadlines (epoch s) of these appeals, for those that have one."""
        if not appeal_ids:
            return {}
        scores = await self.client.zmscore(self.due_key, appeal_ids)
        return {aid: int(s) for aid, s in zip(appeal_ids, scores, strict=True) if s is not None}

    async def overdue(self, now: int) -> list[str]:
        """Waiting appeals past their review deadline, longest overdue first."""
        ids = [m.decode() for m in await self.client.zrangebyscore(self.due_key, "-inf", now)]
        return await self._still_waiting(ids)

    async def due(self, now: int, limit: int = 500) -> list[DueReview]:
        """Appeals whose next review-wait threshold is at or before ``now``, earliest first."""
        pairs = await self.client.zrangebyscore(
            self.next_key, "-inf", now, start=0, num=limit, withscores=True
        )
        if not pairs:
            return []
        ids = [m.decode() for m, _ in pairs]
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.zmscore(self.due_key, ids)
            pipe.mget([self._review_key(aid) for aid in ids])
            due, records = await pipe.execute()
        return [
            DueReview(
                aid,
                int(at),
                int(d if d is not None else at),
                raw is not None and d is not None,
                _district(raw),
            )  # fmt: skip
            for aid, (_, at), d, raw in zip(ids, pairs, due, records, strict=True)
        ]

    async def advance(self, moves: Mapping[str, int | None]) -> None:
        """After raising thresholds: each appeal's next threshold instant, ``None`` when
        none is left. An appeal decided meanwhile is not scheduled again (``XX``)."""
        if not moves:
            return
        async with self.client.pipeline(transaction=False) as pipe:
            for aid, at in moves.items():
                if at is None:
                    pipe.zrem(self.next_key, aid)
                else:
                    pipe.zadd(self.next_key, {aid: at}, xx=True)
            await pipe.execute()

    async def forget(self, appeal_ids: list[str], stale_before: int) -> None:
        """Drop the deadlines of appeals no longer waiting (decided, or expired after the
        store's TTL), and any deadline older than ``stale_before``."""
        async with self.client.pipeline(transaction=False) as pipe:
            if appeal_ids:
                pipe.zrem(self.next_key, *appeal_ids)
                pipe.zrem(self.due_key, *appeal_ids)
            pipe.zremrangebyscore(self.due_key, "-inf", stale_before)
            await pipe.execute()

    async def get(self, appeal_id: str) -> Appeal | None:
        raw = await self.client.get(self._review_key(appeal_id))
        return Appeal.loads(raw) if raw else None

    async def waiting(self, limit: int | None = None, offset: int = 0) -> dict[str, Appeal]:
        """Appeals waiting for a decision, by id, most urgent first (see :meth:`page`):
        ``limit`` of them (all: ``None``) after the first ``offset``."""
        return (await self.page(0, offset, limit)).appeals

    async def page(self, now: float, offset: int = 0, limit: int | None = None) -> QueuePage:
        """A page of the queue, most urgent first: the earliest review deadline first (an
        emergency parked last comes before routine appeals parked long ago), then the
        appeals without one, earliest parked first; ``limit`` appeals (all: ``None``)
        after the first ``offset``. Its totals count the whole queue, overdue at ``now``."""
        ids, deadlines = await self._queue()
        rest, appeals, gone = ids[offset:], {}, set()
        while rest and (limit is None or len(appeals) < limit):
            n = len(rest) if limit is None else limit - len(appeals)
            chosen, rest = rest[:n], rest[n:]
            values = await self.client.mget([self._review_key(aid) for aid in chosen])
            for aid, value in zip(chosen, values, strict=True):
                if value is None:  # deleted by hand, or settled by a worker older than the index
                    gone.add(aid)
                else:
                    appeals[aid] = Appeal.loads(value)
        if gone:  # a full page all the same, and the next page's offset counts without them
            await self.client.zrem(self.waiting_key, *gone)
        return QueuePage(
            appeals=appeals,
            deadlines={aid: deadlines[aid] for aid in appeals if aid in deadlines},
            total=len(ids) - len(gone),
            overdue=sum(due <= now for aid, due in deadlines.items() if aid not in gone),
        )

    async def requests(self, appeal_ids: list[str]) -> dict[str, ReviewRequest]:
        """The stored review requests of these appeals, for those that have one (parked by
        this version; older ones have theirs on the topic only)."""
        if not appeal_ids:
            return {}
        values = await self.client.mget([self._request_key(aid) for aid in appeal_ids])
        return {
            aid: ReviewRequest.loads(v)
            for aid, v in zip(appeal_ids, values, strict=True)
            if v is not None
        }

    def _applied_key(self, decision_id: str, appeal_id: str) -> str:
        # by appeal too: reviewers' tools reuse decision ids (D-1 for each appeal), and a
        # mark by decision id alone made another appeal's decision "applied" (skipped, its
        # appeal left waiting). Appeal ids (HL-<hex>) hold no "/": the key is unambiguous
        return f"{self.prefix}review-applied:{appeal_id}/{decision_id}"

    async def applied(self, decision_id: str, appeal_id: str) -> bool:
        """Whether this decision of this appeal was applied (its assignment published)."""
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.exists(self._applied_key(decision_id, appeal_id))
            pipe.get(self._decided_key(appeal_id))
            marked, decided_by = await pipe.execute()
        # settled by a worker that marked decisions by id alone: the appeal's decided mark
        # names its decision (the old mark itself would match other appeals' decisions)
        return bool(marked) or decided_by == decision_id.encode()

    def _claim_key(self, appeal_id: str) -> str:
        return f"{self.prefix}review-claim:{appeal_id}"

    async def claim(self, decision_id: str, appeal_id: str) -> Refusal | None:
        """Take the appeal for this decision before applying it: ``None`` when taken (now,
        or before by the same decision: a redelivery), else why not.

        Two workers may read two decisions of one appeal at once (a tool that does not key
        them by appeal id puts them on two partitions): checked apart from a write, both
        found the appeal waiting and both were applied, two lead departments for one case.
        The settled mark is read in the same script: an appeal settled meanwhile has no
        claim left to refuse a late decision.
        """
        out = await self.client.eval(
            _CLAIM, 2, self._claim_key(appeal_id), self._decided_key(appeal_id),
            decision_id, self.ttl_s,
        )  # fmt: skip
        if not out:
            return None
        state, holder = (x.decode() if isinstance(x, bytes) else x for x in out)
        return Refusal(holder, settled=state == "settled")

    async def release(self, decision_id: str, appeal_id: str) -> None:
        """Give the appeal back when this decision cannot be applied (dead-lettered), so the
        reviewer's next decision can be; only if this decision holds it."""
        await self.client.eval(_RELEASE, 1, self._claim_key(appeal_id), decision_id)

    async def settle(self, decision_id: str, appeal_id: str) -> None:
        """Record the decision as applied and take its appeal off the queue, atomically.

        Called only after the decision's assignment is acknowledged by the broker: a worker
        that dies before this finds the appeal still waiting and the decision not applied,
        and applies it again on redelivery (same assignment id, deduplicated downstream).
        """
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.set(self._applied_key(decision_id, appeal_id), 1, ex=self.ttl_s)
            pipe.set(self._decided_key(appeal_id), decision_id, ex=self.ttl_s)
            pipe.delete(
                self._review_key(appeal_id),
                self._request_key(appeal_id),
                self._claim_key(appeal_id),  # the decided mark says it from now on
            )
            pipe.zrem(self.waiting_key, appeal_id)
            pipe.zrem(self.due_key, appeal_id)
            pipe.zrem(self.next_key, appeal_id)
            await pipe.execute()


def _district(record: bytes | None) -> str | None:
    """The district of a parked appeal's JSON record, if it names one."""
    try:
        district = orjson.loads(record).get("district") if record else None
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return district if isinstance(district, str) else None
