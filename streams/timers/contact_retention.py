"""At start: bring stored contact details into the retention period now set.

References saved before the period existed (or while it was 0) have no expiry, and a
shorter period should not wait for each citizen's next appeal to apply. One SCAN of the
keyspace each time ``HOTLINE_CONTACT_TTL_S`` changes; a marker in Redis skips it otherwise.
"""

from __future__ import annotations

import logging

from streams.app import app
from streams.stores import contact_store
from streams.timer_step import run_timer_step

log = logging.getLogger(__name__)


@app.task
async def apply_contact_retention() -> None:
    """Give every stored contact reference the current retention period at most."""
    await run_timer_step("contact retention at start", _apply,
                         then="the next worker start tries again")  # fmt: skip


async def _apply() -> None:
    store = contact_store()
    changed = await store.apply_retention()
    if changed is not None:
        log.info("contact retention: %d stored reference(s) now expire within %.0f day(s)",
                 changed, store.ttl_s / 86400)  # fmt: skip
