"""Raise review-wait alerts (复核时限) for appeals nobody has decided in time.

At-least-once, like the SLA scanner: an appeal's next threshold moves on only after the
broker acknowledged its alert, so a crash in between raises it again with the same
``alert_id``, which consumers drop. Any number of understand workers may run this timer;
two ticks at once may publish the same alert twice, never lose one.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from config.sla import SlaSettings
from streams import topics
from streams.app import app, settings
from streams.intake_step import TZ
from streams.outages import all_delivered
from streams.review_requests import review_requests
from streams.review_wait import review_clock
from streams.stores import pending_reviews
from streams.timer_step import run_timer_step
from triage.review_clock import review_alert, threshold_due
from triage.review_queue import undated_deadlines, waits_as_emergency

log = logging.getLogger(__name__)


@app.task
async def date_undated_reviews() -> None:
    """At start: appeals left waiting by a worker without review alerts get a deadline
    from now, so no waiting appeal stays without one."""
    if review_clock().enabled:
        await run_timer_step("review deadlines at start", _date_undated,
                             then="the next worker start tries again")  # fmt: skip


async def _date_undated() -> None:
    """Give the undated waiting appeals their review deadline from now: an emergency's
    shorter wait for those their review request flags, as if parked now."""
    store = pending_reviews()
    undated = await store.undated()
    if not undated:
        return
    # appeals parked before requests were kept in Redis: theirs is on the topic, if at all
    requests, _ = await review_requests(
        store, undated, settings.broker, topics.reviews.get_topic_name()
    )
    deadlines = undated_deadlines(review_clock(), int(time.time()), undated, requests)
    if deadlines:
        await store.schedule(deadlines)
        urgent = {r.appeal_id for r in requests if waits_as_emergency(r)} & set(deadlines)
        first = min(d.due_at for d in deadlines.values())
        log.warning("%d appeal(s) waiting for review had no deadline (%d flagged as "
                    "emergencies): due from %s", len(deadlines), len(urgent),
                    datetime.fromtimestamp(first, TZ).isoformat())  # fmt: skip


@app.timer(interval=SlaSettings().timer_interval)
async def raise_review_alerts() -> None:
    """One tick: alert on every waiting appeal whose next review threshold has come."""
    if review_clock().enabled:
        await run_timer_step("review alert scan", _tick)


async def _tick() -> None:
    store = pending_reviews()
    now = int(time.time())
    due = await store.due(now)
    gone = [d.appeal_id for d in due if not d.waiting]
    await store.forget(gone, stale_before=now - store.ttl_s)
    raised_at = datetime.now(TZ)
    acks, moves = [], {}
    for d in due:
        if not d.waiting:
            continue
        threshold, moves[d.appeal_id] = threshold_due(d.at, d.due_at)
        alert = review_alert(d.appeal_id, threshold, d.at, d.due_at, raised_at, d.district)
        acks.append(await topics.sla_alerts.send(key=alert.appeal_id, value=alert))
        log.warning("review wait %s: %s undecided at %s (deadline %s)", threshold, d.appeal_id,
                    alert.threshold_at.isoformat(), alert.due_at.isoformat())  # fmt: skip
    await all_delivered(acks)
    await store.advance(moves)
