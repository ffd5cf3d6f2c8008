"""Holding back the Kafka client's repeated complaints while the broker is away.

While the broker is unreachable, aiokafka logs every reconnect attempt of every client
(consumer, producer, group coordinator), about 30 lines a second; a minute's outage
buried the worker's own "Kafka unreachable during ..." lines under 4,000 errors. The
throttle lets the first of a run of identical messages through, then one per
``every`` seconds saying how many like it it held back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class RepeatThrottle(logging.Filter):
    """Pass a message the first time, then at most once per ``every`` seconds."""

    def __init__(self, every: float = 30.0, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.every = every
        self._clock = clock
        self._runs: dict[tuple[str, str], tuple[float, int]] = {}  # (first shown, held back)

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether ``record`` is shown; a shown repeat names how many were held back."""
        key = (record.name, record.getMessage())
        now = self._clock()
        run = self._runs.get(key)
        if run is not None and now - run[0] < self.every:
            self._runs[key] = (run[0], run[1] + 1)
            return False
        if len(self._runs) > 1000:  # messages that vary (offsets, partitions): forget old runs
            self._runs = {k: r for k, r in self._runs.items() if now - r[0] < self.every}
        self._runs[key] = (now, 0)
        if run is not None and run[1]:
            record.msg = f"{key[1]} ({run[1]} more like this held back in {self.every:.0f} s)"
            record.args = ()
        return True


def throttle_kafka_client_logs(every: float = 30.0) -> RepeatThrottle:
    """Install one :class:`RepeatThrottle` on every aiokafka logger."""
    import aiokafka  # noqa: F401  (its modules create their loggers on import)

    throttle = RepeatThrottle(every)
    names = [n for n in logging.Logger.manager.loggerDict if n.split(".")[0] == "aiokafka"]
    for name in {"aiokafka", *names}:
        logging.getLogger(name).addFilter(throttle)
    return throttle
