"""Case events that waited too long for their assignment: one last try, then a dead letter."""

from __future__ import annotations

import logging

from config.sla import SlaSettings
from streams.agents.sla_clocks import apply_waiting
from streams.app import app
from streams.stores import early_case_events
from streams.timer_step import run_timer_step

log = logging.getLogger(__name__)


@app.timer(interval=SlaSettings().timer_interval)
async def expire_early_case_events() -> None:
    """Events parked longer than ``HOTLINE_SLA_EARLY_EVENT_WAIT``: applied if their case
    exists by now (a race with the assignment), otherwise dead-lettered (SLA_UNKNOWN_CASE)."""
    await run_timer_step("early case events", _expire)


async def _expire() -> None:
    expired = await early_case_events().expired()
    if expired:
        log.warning(
            "%d cases' early events waited too long; applying or dead-lettering", len(expired)
        )
        await apply_waiting(expired)
