"""Warn, at start and then daily, when the working-day calendar is about to run out."""

from __future__ import annotations

import asyncio
import logging

from config.sla import SlaSettings
from sla.working_time import calendar_runway
from streams.app import app

log = logging.getLogger(__name__)
_settings = SlaSettings()


@app.task
async def warn_when_the_calendar_runs_out() -> None:
    """Log a warning each day while the calendar ends within 60 days."""
    while True:
        warning = calendar_runway(_settings)
        if warning:
            log.warning("SLA: %s", warning)
        await asyncio.sleep(86400)
