"""The last step of intake for every channel: store contacts, drop re-sends, publish."""

from __future__ import annotations

import logging
from collections import Counter

from intake.contact import Contact
from models.appeal import Appeal
from streams import topics
from streams.outcome_wires import Wire
from streams.publish_outcomes import send_wires
from streams.stores import contact_store, intake_counters, seen_appeals

log = logging.getLogger(__name__)
received = topics.received.get_topic_name()


async def publish_appeals(appeals: list[Appeal], contacts: list[Contact]) -> None:
    """Save contacts first (an appeal never points at a missing reference), then publish new appeals."""
    if contacts:
        await contact_store().save_many(contacts)
    if not appeals:
        return
    claims = await seen_appeals().claim_many([(a.appeal_id, a.raw.as_text()) for a in appeals])
    counts: Counter[str] = Counter()
    wires = []
    for appeal, publish in zip(appeals, claims, strict=True):
        counts[f"{appeal.channel}.normalised"] += 1
        if publish:
            wires.append(Wire(received, appeal.appeal_id.encode(), appeal.dumps()))
            counts[f"{appeal.channel}.published"] += 1
        else:
            counts[f"{appeal.channel}.duplicate"] += 1
            log.info(
                "duplicate appeal %s from %s: already published, not republished",
                appeal.appeal_id,
                appeal.raw.as_text(),
            )
    # straight to the producer, acknowledged before the batch's offsets are
    await send_wires(wires)
    await intake_counters().add(counts)
