"""Raise SLA alerts: claim what is due in Redis, publish, then acknowledge.

Claims are atomic in Redis, so any number of workers may run this timer: each threshold
of each clock is claimed once; an alert published but not acknowledged (a crash in
between) is redelivered after the lease with the same ``alert_id``.
"""

from __future__ import annotations

import logging

from config.sla import SlaSettings
from models.sla_alert import SlaAlert
from sla.alerts import AlertScanner
from streams import topics
from streams.app import app
from streams.outages import until_reachable
from streams.stores import sla_store
from streams.timer_step import run_timer_step

log = logging.getLogger(__name__)
_scanner: AlertScanner | None = None


async def _publish(alert: SlaAlert) -> None:
    # wait for the broker's acknowledgement: only then may the claim be acknowledged
    delivered = await topics.sla_alerts.send(key=alert.appeal_id, value=alert)
    await delivered


@app.timer(interval=SlaSettings().timer_interval)
async def raise_sla_alerts() -> None:
    """One scanner tick: redeliver stale claims, claim due thresholds, publish, ack."""
    global _scanner
    if _scanner is None:
        store = sla_store()

        async def ack(ids: list[str]) -> None:
            # on its own: re-running the tick would lose what was published, to be
            # published again after the lease
            await until_reachable("SLA alert ack", store.ack, ids)

        _scanner = AlertScanner(store, _publish, ack=ack)
    # an outage is waited out, any other error logged: neither may stop the worker
    report = await run_timer_step("SLA alert scan", _scanner.tick)
    if report is not None and (report.published or report.failed):
        log.info("SLA alerts: %s", report)
