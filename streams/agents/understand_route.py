"""appeals.received → classification, emergency transfer, review queue or assignment.

A chunk of a batch is published in steps, each waited out on its own through an outage
(:func:`~streams.outages.until_reachable`), so a step retried does not repeat those before
it: review cases parked in Redis, dead letters sent, their count added, then the chunk's
records sent. A retry of the whole chunk sent its dead letters again at every attempt
(26 letters for 20 bad appeals after a 20 s Redis outage).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from streams import topics
from streams.agent_guard import stop_worker_on_error
from streams.app import app, settings
from streams.batch_stats import BatchStats
from streams.dead_letters import LetterBatch, dead_letter_record
from streams.outages import all_delivered, kafka_down, until_reachable
from streams.publish_outcomes import enqueue_wires
from streams.review_wait import review_clock
from streams.stores import pending_reviews
from streams.triage_batch import Triaged
from streams.triage_pool import TriagePool
from triage.review_clock import ReviewDeadline

log = logging.getLogger(__name__)


@app.agent(topics.received_records)
async def understand_and_route(stream):
    """Classify batches of appeals and dispatch each one (or queue it for review)."""
    pool = TriagePool(settings.triage_processes, chunk_timeout=settings.triage_chunk_timeout_s)
    await pool.start()
    stats = BatchStats("understand")
    try:
        async for events in stream.take_events(settings.batch_size, within=settings.batch_window_s):
            async with stop_worker_on_error("understand"):
                await _batch(events, pool, stats)
    finally:
        pool.stop()


async def _batch(events, pool: TriagePool, stats: BatchStats) -> None:
    """Triage and publish a batch; returns once the broker acknowledged all of it."""
    started = time.perf_counter()
    acks, chunks, publishing = [], [], 0.0
    async for offset, results in pool.run_chunks([e.value for e in events]):
        chunk = Chunk(events[offset : offset + len(results)], results)
        chunks.append(chunk)
        before = time.perf_counter()
        acks += await _publish(chunk)
        publishing += time.perf_counter() - before
    triaged = time.perf_counter()
    # the batch's offsets are acknowledged when this returns: after the broker's
    try:
        await all_delivered(acks)
    except Exception as exc:
        if not kafka_down(exc):
            raise
        # the broker stayed away longer than the producer retries: send it all again
        await until_reachable("understand (sending again)", _publish_all, chunks)
    stats.add(
        len(events), triaged - started - publishing, publishing, time.perf_counter() - triaged
    )


@dataclass
class Chunk:
    """A chunk of a batch, its triage results, and how far its publishing got."""

    events: list
    results: list[Triaged]
    #: dead letters of the records that could not be triaged, made once, sent and
    #: counted once
    letters: LetterBatch = field(init=False)
    #: appeals whose review decision was applied already (None: review cases not parked yet)
    decided: set[str] | None = None

    def __post_init__(self) -> None:
        self.letters = LetterBatch([
            dead_letter_record(event, t.error_code, t.error or "", t.channel, "understand")
            for event, t in zip(self.events, self.results, strict=True)
            if t.error_code is not None
        ])  # fmt: skip
        for t in self.results:
            if t.emergency is not None:
                log.warning("emergency %s → %s", t.appeal_id, t.emergency)
            elif t.urgent:
                log.warning("possible emergency %s → review first (not transferred)", t.appeal_id)


async def _publish(chunk: Chunk) -> list:
    """Review parking, dead letters, then the chunk's records; returns their ack futures.

    Each step is retried through an outage on its own, from where it stopped."""
    if chunk.decided is None:
        # park review cases first, so a fast decision always finds its appeal
        chunk.decided = await until_reachable("understand (review parking)", _park, chunk)
    await until_reachable("understand (dead letters)", chunk.letters.send)
    await until_reachable("understand (dead-letter count)", chunk.letters.count)
    # each appeal's emergency transfer is first in its list: ahead of normal dispatch. An
    # appeal decided already (delivered again: a replay, a crash before the commit) keeps
    # its transfer and classification, which its first delivery may not have sent, but
    # asks reviewers for no second decision on appeals.review
    review_topic, decided = topics.reviews.get_topic_name(), chunk.decided
    wires = [
        w
        for t in chunk.results
        for w in t.wires
        if not (w.topic == review_topic and t.appeal_id in decided)
    ]
    return chunk.letters.acks + await until_reachable("understand", enqueue_wires, wires)


async def _publish_all(chunks: list[Chunk]) -> None:
    """Publish every chunk of a batch again (its dead letters too, whose delivery may have
    failed; review cases stay parked) and wait for all acknowledgements."""
    acks = []
    for chunk in chunks:
        chunk.letters.sent, chunk.letters.acks = 0, []
        acks += await _publish(chunk)
    await all_delivered(acks)


async def _park(chunk: Chunk) -> set[str]:
    """Park the chunk's review cases (idempotent); the ids of those not parked because
    their review decision was applied already."""
    reviews, urgent, requests = [], [], {}
    review_topic = topics.reviews.get_topic_name()
    for event, t in zip(chunk.events, chunk.results, strict=True):
        if t.error_code is None and t.review:
            reviews.append((t.appeal_id, event.value))
            urgent.append((t.appeal_id, t.urgent))
            # kept with the appeal: `review list` need not read the topic, which expires
            requests.update((t.appeal_id, w.value) for w in t.wires if w.topic == review_topic)
    parked = await pending_reviews().put_records(reviews, review_deadlines(urgent), requests)
    decided = {aid for aid, _ in reviews} - set(parked)
    if decided:
        log.info("not parked again, their review decision was applied: %s",
                 ", ".join(sorted(decided)))  # fmt: skip
    return decided


def review_deadlines(parked: list[tuple[str, bool]]) -> dict[str, ReviewDeadline]:
    """Review-wait deadlines from now of appeals ``(appeal_id, is_emergency)`` (none for
    those whose alerts are off)."""
    clock, now, out = review_clock(), int(time.time()), {}
    for appeal_id, emergency in parked:
        deadline = clock.deadline(now, emergency)
        if deadline is not None:
            out[appeal_id] = deadline
            if deadline.wall_fallback:
                log.warning("review deadline of %s counted in wall time: the working-day "
                            "calendar ends before it", appeal_id)  # fmt: skip
    return out
