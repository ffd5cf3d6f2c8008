"""A periodic log line per agent: how many records, in how many batches, and where time went."""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)


class BatchStats:
    """Accumulates batch sizes and step times; logs and resets every ``every_s`` seconds."""

    def __init__(self, name: str, every_s: float = 10.0):
        self.name = name
        self.every_s = every_s
        self._reset(time.monotonic())

    def _reset(self, now: float) -> None:
        self.since = now
        self.records = self.batches = 0
        self.work_s = self.publish_s = self.ack_s = 0.0

    def add(self, records: int, work_s: float, publish_s: float, ack_s: float) -> None:
        """Count one batch; log the window's totals when it is over.

        ``publish_s``: handing records to the producer and the Redis writes around it,
        including any wait for Redis or Kafka to come back; ``ack_s``: waiting for the
        broker's acknowledgements.
        """
        self.records += records
        self.batches += 1
        self.work_s += work_s
        self.publish_s += publish_s
        self.ack_s += ack_s
        now = time.monotonic()
        if now - self.since >= self.every_s:
            span = now - self.since
            log.info(
                "%s: %d records in %d batches over %.0f s (%.0f/s); per record %.2f ms "
                "triage, %.2f ms publishing (and waiting for Redis or Kafka), %.2f ms "
                "waiting for acks",
                self.name, self.records, self.batches, span, self.records / span,
                1000 * self.work_s / self.records, 1000 * self.publish_s / self.records,
                1000 * self.ack_s / self.records,
            )  # fmt: skip
            self._reset(now)
