"""Intake agents for channels where one raw record is one appeal: hotline and mailbox."""

from __future__ import annotations

from intake import hotline, mailbox
from streams import topics
from streams.agent_guard import stop_worker_on_error
from streams.app import app, settings
from streams.intake_step import convert_all, intake_settings, publish_with_letters
from streams.publish_appeals import publish_appeals


def _hotline(data, ref, now):
    return hotline.normalise(hotline.parse(data), ref, now, intake_settings)


def _mailbox(data, ref, now):
    return mailbox.normalise(mailbox.parse(data), ref, now, intake_settings)


async def _run(stream, channel: str, convert) -> None:
    # batches: one Redis round trip for contacts and one for de-duplication per batch
    async for events in stream.take_events(settings.batch_size, within=settings.batch_window_s):
        async with stop_worker_on_error(f"{channel} intake"):
            await _batch(events, channel, convert)


async def _batch(events, channel: str, convert) -> None:
    """Convert once (no I/O), then publish: the dead letters are sent and counted once
    however long Redis or the broker is away."""
    results, letters = convert_all(events, channel, convert)
    appeals, contacts = [r.appeal for r in results], [r.contact for r in results]
    await publish_with_letters(f"{channel} intake", letters, publish_appeals, appeals, contacts)


@app.agent(topics.raw_hotline)
async def hotline_intake(stream):
    """12345 hotline work orders → appeals.received (or dead letters)."""
    await _run(stream, "hotline", _hotline)


@app.agent(topics.raw_mailbox)
async def mailbox_intake(stream):
    """Mayor's-mailbox messages → appeals.received (or dead letters)."""
    await _run(stream, "mailbox", _mailbox)
