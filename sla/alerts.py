"""Raising SLA alerts: the function the faust timer calls every few seconds.

Design: **claim → publish → ack**, at-least-once with deterministic ids.

1. *Claim* (``sla/lua/claim.lua``, atomic): take cases from the due zset whose earliest
   pending threshold is ≤ now (bounded batch), set the fired bit of every threshold now
   due, store the alert payload and lease it in the in-flight zset. Because the check and
   the bit flip happen inside one Lua call, two scanners (or a restarted one) can never
   claim the same threshold twice: exactly one claim per threshold per clock.
2. *Publish* the alerts to Kafka.
3. *Ack*: remove them from the in-flight zset and the payload hash.

If the worker dies between 1 and 3, or publishing fails, the claim stays in flight and a
later tick (any worker) redelivers it once its lease expires. A crash after publishing
but before the ack therefore publishes an alert twice — with the same ``alert_id``
(``<appeal>/<clock>/<threshold>``), so consumers drop the second copy. We prefer this
to "ack before publish", which loses alerts on a crash: a missed red card is worse than
a duplicate a consumer can ignore. Exactly-once end to end would need Kafka transactions
spanning Redis, which the stack does not have.

Wiring in the worker (one scanner per worker process; any number of workers; the store
is ``streams.stores.sla_store()``, keys under ``StreamSettings().sla_redis_prefix``)::

    store = sla_store()
    scanner = AlertScanner(store, publish=lambda a: sla_alerts_topic.send(key=a.appeal_id, value=a))

    @app.timer(interval=SlaSettings().timer_interval)
    async def raise_sla_alerts() -> None:
        await scanner.tick()
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from models.sla_alert import SlaAlert
from sla.redis_store import SlaStore

Publish = Callable[[SlaAlert], Awaitable[object]]
Ack = Callable[[list[str]], Awaitable[object]]
#: Published alerts are acknowledged this many at a time: a crash (or a Redis outage)
#: then re-publishes at most these, not a whole claim batch of thousands.
ACK_EVERY = 100
_monotonic = time.monotonic


@dataclass
class TickReport:
    """What one scanner tick did."""

    claimed: int = 0
    redelivered: int = 0
    published: int = 0
    failed: int = 0
    batches: int = 0


async def scan_due(store: SlaStore, now: int, limit: int | None = None) -> list[SlaAlert]:
    """Claim every threshold due at ``now`` (batch after batch until none is left).

    The alerts are in flight: publish them, then :meth:`SlaStore.ack` them.
    """
    batch = limit or store.settings.scan_batch
    out: list[SlaAlert] = []
    while True:
        examined, alerts = await store.claim_due(now, batch)
        out.extend(alerts)
        if examined < batch:
            return out


class AlertScanner:
    """Claims due thresholds, publishes them and acknowledges what was published."""

    def __init__(
        self,
        store: SlaStore,
        publish: Publish,
        *,
        batch: int | None = None,
        lease: int | None = None,
        max_batches: int = 100,
        ack: Ack | None = None,
    ) -> None:
        """``ack``: how published alerts are acknowledged (default ``store.ack``); the
        worker passes one that waits out a Redis outage. A failed ack used to end the
        tick, and the next tick claimed nothing new while the published alerts stayed in
        flight, to be published a second time once their lease ran out."""
        self.store = store
        self.publish = publish
        self.ack = ack or store.ack
        self.batch = batch or store.settings.scan_batch
        self.lease = store.settings.alert_lease if lease is None else lease
        # Bound one tick so a backlog (after an outage) cannot starve the event loop.
        self.max_batches = max_batches

    async def _publish_all(self, alerts: list[SlaAlert], report: TickReport) -> None:
        done: list[str] = []
        for alert in alerts:
            try:
                await self.publish(alert)
            except Exception:  # noqa: BLE001 - left in flight: redelivered after the lease
                report.failed += 1
                continue
            done.append(alert.alert_id)
            if len(done) >= ACK_EVERY:
                await self._ack(done, report)
                done = []
        await self._ack(done, report)

    async def _ack(self, done: list[str], report: TickReport) -> None:
        if done:
            await self.ack(done)
            report.published += len(done)

    async def tick(self, now: int | None = None) -> TickReport:
        """One round: redeliver expired claims, then claim and publish what is due."""
        now = int(time.time()) if now is None else int(now)
        started = _monotonic()
        report = TickReport()
        stale = await self.store.redeliver(now, self.lease, self.batch)
        report.redelivered = len(stale)
        await self._publish_all(stale, report)
        while report.batches < self.max_batches:
            # Claim (and so lease) each batch at the time it is claimed, not at the tick's
            # start: publishing a backlog takes a while, and a lease already run out would
            # let another worker's tick redeliver alerts this one is still publishing.
            at = now + int(_monotonic() - started)
            examined, alerts = await self.store.claim_due(at, self.batch)
            report.batches += 1
            report.claimed += len(alerts)
            await self._publish_all(alerts, report)
            if examined < self.batch:
                break
        return report
