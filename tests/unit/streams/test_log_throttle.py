"""The Kafka client's repeated log lines are held back, and counted when shown again."""

from __future__ import annotations

import logging

from aiokafka import client

from streams.log_throttle import RepeatThrottle, throttle_kafka_client_logs


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def _record(msg: str, *args, name: str = "aiokafka.conn") -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, None)


def test_repeats_are_held_back_then_shown_once_per_period_with_a_count():
    clock = Clock()
    throttle = RepeatThrottle(every=30, clock=clock)
    unable = "Unable connect to node with id %s: %s"
    assert throttle.filter(_record(unable, 1, "refused"))
    shown = []
    for _ in range(299):  # 30 s of reconnects every 100 ms
        clock.now += 0.1
        rec = _record(unable, 1, "refused")
        if throttle.filter(rec):
            shown.append(rec.getMessage())
    assert shown == []
    clock.now += 0.2
    rec = _record(unable, 1, "refused")
    assert throttle.filter(rec)
    assert rec.getMessage() == (
        "Unable connect to node with id 1: refused (299 more like this held back in 30 s)"
    )


def test_different_messages_and_loggers_are_not_held_back():
    throttle = RepeatThrottle(every=30, clock=Clock())
    assert throttle.filter(_record("Unable connect to node with id %s", 1))
    assert throttle.filter(_record("Unable connect to node with id %s", 2))
    assert throttle.filter(_record("Unable connect to node with id %s", 1, name="aiokafka"))


def test_a_message_after_a_quiet_period_is_shown_as_it_is():
    clock = Clock()
    throttle = RepeatThrottle(every=30, clock=clock)
    assert throttle.filter(_record("Heartbeat failed"))
    clock.now += 31
    rec = _record("Heartbeat failed")
    assert throttle.filter(rec) and rec.getMessage() == "Heartbeat failed"


def test_installed_on_the_kafka_client_loggers_only(caplog):
    throttle = throttle_kafka_client_logs(every=30)
    try:
        with caplog.at_level(logging.ERROR):
            for _ in range(5):
                client.log.error("Unable to update metadata from [1]")  # aiokafka's own logger
                logging.getLogger("streams.outages").error("Kafka unreachable")
        texts = [r.getMessage() for r in caplog.records]
        assert texts.count("Unable to update metadata from [1]") == 1
        assert texts.count("Kafka unreachable") == 5
    finally:
        for name in list(logging.Logger.manager.loggerDict):
            if name.split(".")[0] == "aiokafka":
                logging.getLogger(name).removeFilter(throttle)
