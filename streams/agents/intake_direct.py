"""Intake agents for channels where one raw record is one appeal: hotline and mailbox."""

from __future__ import annotations

import logging

from intake import hotline, mailbox
from intake.normalise import Normalised
from streams import topics
from streams.app import app
from streams.contact_store import contact_store
from streams.intake_step import convert_or_dead_letter, intake_settings

log = logging.getLogger(__name__)


async def _publish(result: Normalised) -> None:
    # contact details first: an appeal must never point at a reference the store lacks
    await contact_store().save(result.contact)
    await topics.normalised.send(key=result.appeal.appeal_id, value=result.appeal)


@app.agent(topics.raw_hotline)
async def hotline_intake(stream):
    """12345 hotline work orders → normalised appeals (or dead letters)."""
    async for event in stream.events():
        result = await convert_or_dead_letter(
            event, "hotline", lambda data, ref, now: hotline.normalise(hotline.parse(data), ref, now, intake_settings)
        )
        if result is not None:
            await _publish(result)


@app.agent(topics.raw_mailbox)
async def mailbox_intake(stream):
    """Mayor's-mailbox messages → normalised appeals (or dead letters)."""
    async for event in stream.events():
        result = await convert_or_dead_letter(
            event, "mailbox", lambda data, ref, now: mailbox.normalise(mailbox.parse(data), ref, now, intake_settings)
        )
        if result is not None:
            await _publish(result)
