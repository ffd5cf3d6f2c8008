"""Stopping the worker while Redis (or another service) is down, within a bound.

faust stops a worker by waiting until every record an agent has taken is acknowledged
(``stream_wait_empty``), then commits the acknowledged offsets. A batch that waits for
Redis (``streams/outages.py``) is acknowledged only once Redis answers, so a worker told
to stop during an outage (SIGTERM: ``systemctl stop``, ``kill``) waited for Redis
forever. Here faust's wait goes on as long as no step waits for a service that is down,
and at most ``STOP_GRACE_S``; then every record still in hand is *withheld*: marked done
for faust's wait without its offset becoming committable, so a later acknowledgement
(faust acknowledges a batch when its agent is cancelled) commits nothing. The waiting
steps stop retrying (:func:`streams.outages.stop_retrying`) and the worker stops; the
next one reads the withheld records again from the committed offsets and does them
(every step is idempotent). Offsets acknowledged before are committed as usual.

A rebalance keeps faust's own wait: the worker goes on, and its batches must finish.
Relies on faust internals (``App._consumer_wait_empty``, the consumer's unacknowledged
set, ``ack_lock``): faust is pinned in pyproject.toml.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from faust.app.base import App
from faust.types.tuples import ack_lock

from streams import outages

log = logging.getLogger(__name__)

#: Longest wait for records in hand when no step is known to wait for a service (a
#: connection that hangs instead of failing), before they are withheld all the same.
STOP_GRACE_S = 15.0
#: How often the wait looks at the steps waiting for a service.
_POLL_S = 0.2

_faust_wait_empty = App._consumer_wait_empty


def withhold(consumer) -> Counter:
    """Take every unacknowledged record off faust's wait without acknowledging it: it is
    marked acknowledged for the message only (a later ``ack`` is then a no-op), never for
    the consumer, whose committable offsets stop before it. Counts per topic."""
    held: Counter = Counter()
    with ack_lock:
        for message in list(consumer.unacked):
            if not message.acked:
                message.acked = True
                held[message.topic] += 1
            consumer.unacked.discard(message)
    return held


def _why_leave(started: float, now: float) -> str | None:
    """Why the records in hand are not waited for any longer (None: wait on)."""
    services = {service for _, service in outages.waiting_steps()}
    if services:
        return "stopping while " + " and ".join(outages.state_of(s) for s in sorted(services))
    if now - started >= STOP_GRACE_S:
        return f"stopping with records still in hand after {STOP_GRACE_S:.0f} s"
    return None


async def _wait_empty_within_bound(self: App, consumer, logger) -> None:
    if not self.should_stop:  # a rebalance
        await _faust_wait_empty(self, consumer, logger)
        return
    loop = asyncio.get_running_loop()
    started, reason = loop.time(), None
    waiting = asyncio.ensure_future(_faust_wait_empty(self, consumer, logger))
    try:
        while not waiting.done():
            await asyncio.wait([waiting], timeout=_POLL_S)
            if waiting.done():
                break
            if reason is None:
                reason = _why_leave(started, loop.time())
                if reason is None:
                    continue
                outages.stop_retrying()
                steps = sorted({what for what, _ in outages.waiting_steps()})
                held = withhold(consumer)
                log.warning(
                    "%s: %s, they will be redone after restart%s",
                    reason, not_acknowledged(held),
                    f"; waiting steps: {', '.join(steps)}" if steps else "",
                )  # fmt: skip
            else:  # records taken since (none expected: the fetcher is stopped)
                held = withhold(consumer)
                if held:
                    log.warning("and %s, they will be redone after restart",
                                not_acknowledged(held))  # fmt: skip
        await waiting  # faust's wait commits what was acknowledged, then returns
    finally:
        waiting.cancel()


def not_acknowledged(held: Counter) -> str:
    """``"3 records not acknowledged (raw.mailbox: 2, appeals.received: 1)"``."""
    n = sum(held.values())
    topics = ", ".join(f"{t}: {k}" for t, k in sorted(held.items()))
    return f"{n} record{'' if n == 1 else 's'} not acknowledged" + (f" ({topics})" if held else "")


def install() -> None:
    """Patch faust's wait for records in hand once per process (idempotent)."""
    if App._consumer_wait_empty is not _wait_empty_within_bound:
        App._consumer_wait_empty = _wait_empty_within_bound  # type: ignore[method-assign]
