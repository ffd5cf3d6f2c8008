"""appeals.received → classification, emergency transfer, review queue or assignment."""

from __future__ import annotations

import logging
import time

from streams import topics
from streams.app import app, settings
from streams.batch_stats import BatchStats
from streams.dead_letters import dead_letter
from streams.outages import all_delivered, kafka_down, until_reachable
from streams.publish_outcomes import enqueue_wires
from streams.review_wait import review_clock
from streams.stores import pending_reviews
from streams.triage_pool import TriagePool
from triage.review_clock import ReviewDeadline

log = logging.getLogger(__name__)


@app.agent(topics.received_records)
async def understand_and_route(stream):
    """Classify batches of appeals and dispatch each one (or queue it for review)."""
    pool = TriagePool(settings.triage_processes)
    await pool.start()
    stats = BatchStats("understand")
    try:
        async for events in stream.take_events(settings.batch_size, within=settings.batch_window_s):
            started = time.perf_counter()
            acks, chunks, publishing = [], [], 0.0
            async for offset, results in pool.run_chunks([e.value for e in events]):
                chunk = events[offset : offset + len(results)]
                chunks.append((chunk, results))
                before = time.perf_counter()
                acks += await until_reachable("understand", _publish, chunk, results)
                publishing += time.perf_counter() - before
            triaged = time.perf_counter()
            # the batch's offsets are acknowledged when this body returns: after the broker's
            try:
                await all_delivered(acks)
            except Exception as exc:
                if not kafka_down(exc):
                    raise
                # the broker stayed away longer than the producer retries: send it all again
                await until_reachable("understand (sending again)", _publish_all, chunks)
            stats.add(
                len(events), triaged - started - publishing, publishing,
                time.perf_counter() - triaged,
            )  # fmt: skip
    finally:
        pool.stop()


async def _publish_all(chunks) -> None:
    """Publish every chunk of a batch again and wait for all acknowledgements."""
    acks = []
    for chunk, results in chunks:
        acks += await _publish(chunk, results)
    await all_delivered(acks)


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


async def _publish(events, results) -> list:
    """Dead letters, review parking, then the chunk's records; returns their ack futures."""
    reviews, urgent, requests, acks = [], [], {}, []
    review_topic = topics.reviews.get_topic_name()
    for event, t in zip(events, results, strict=True):
        if t.error_code is not None:
            await dead_letter(event, t.error_code, t.error or "", t.channel, "understand", acks)
        elif t.review:
            reviews.append((t.appeal_id, event.value))
            urgent.append((t.appeal_id, t.urgent))
            # kept with the appeal: `review list` need not read the topic, which expires
            requests.update((t.appeal_id, w.value) for w in t.wires if w.topic == review_topic)
        if t.emergency is not None:
            log.warning("emergency %s → %s", t.appeal_id, t.emergency)
        elif t.urgent:
            log.warning("possible emergency %s → review first (not transferred)", t.appeal_id)
    # park review cases first, so a fast decision always finds its appeal
    ids = [aid for aid, _ in reviews]
    parked = await pending_reviews().put_records(reviews, review_deadlines(urgent), requests)
    decided = set(ids) - set(parked)
    if decided:
        log.info("not parked again, their review decision was applied: %s",
                 ", ".join(sorted(decided)))  # fmt: skip
    # each appeal's emergency transfer is first in its list: ahead of normal dispatch. An
    # appeal decided already (delivered again: a replay, a crash before the commit) keeps
    # its transfer and classification, which its first delivery may not have sent, but
    # asks reviewers for no second decision on appeals.review
    return acks + await enqueue_wires(
        w
        for t in results
        for w in t.wires
        if not (w.topic == review_topic and t.appeal_id in decided)
    )
