"""The last step of intake for every channel: store contacts, drop re-sends, publish."""

from __future__ import annotations

import logging

from intake.contact import Contact
from models.appeal import Appeal
from stores.appeals_seen import Claim
from streams import topics
from streams.outcome_wires import Wire
from streams.publish_outcomes import send_wires
from streams.stores import INTAKE_COUNTERS_KEY, contact_store, seen_appeals

log = logging.getLogger(__name__)
received = topics.received.get_topic_name()


async def publish_appeals(appeals: list[Appeal], contacts: list[Contact]) -> None:
    """Save contacts first (an appeal never points at a missing reference), then publish new appeals."""
    if contacts:
        await contact_store().save_many(contacts)
    if not appeals:
        return
    # claimed and counted in one script: a batch delivered again after a crash, or retried
    # after an outage, is published again and counted once
    claims = await seen_appeals().claim_many(
        [(a.appeal_id, a.raw.as_text(), a.channel) for a in appeals], INTAKE_COUNTERS_KEY
    )
    wires = []
    for appeal, claim in zip(appeals, claims, strict=True):
        if claim.publish:
            wires.append(Wire(received, appeal.appeal_id.encode(), appeal.dumps()))
        if claim is Claim.RESENT:
            log.info(
                "duplicate appeal %s from %s: already published, not republished",
                appeal.appeal_id,
                appeal.raw.as_text(),
            )
    # straight to the producer, acknowledged before the batch's offsets are
    await send_wires(wires)
