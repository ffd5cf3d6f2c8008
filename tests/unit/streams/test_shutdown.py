"""A worker stopping while a step waits for a service: records in hand are withheld, not
acknowledged, and the stop does not wait for the service."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import pytest
from faust.types.tuples import ConsumerMessage

from streams import outages, shutdown


def _message(offset: int, topic: str = "raw.mailbox") -> ConsumerMessage:
    message = ConsumerMessage(topic, 0, offset, 0.0, 0, None, None, b"{}", None)
    message.incref()  # taken by one stream
    return message


class FakeConsumer:
    """What the wait touches of faust's consumer: the unacknowledged set, ``ack``."""

    def __init__(self, *messages: ConsumerMessage):
        self.unacked = set(messages)
        self.committable: list[int] = []  # offsets faust's consumer.ack would record

    def ack(self, message) -> bool:
        if message.acked:  # as faust's: an acknowledged message counts once
            return False
        message.acked = True
        self.committable.append(message.offset)
        self.unacked.discard(message)
        return True


@pytest.fixture
def faust_wait(monkeypatch):
    """faust's wait for records in hand, reduced: until none is unacknowledged."""
    calls = []

    async def wait_empty(app, consumer, logger):
        calls.append(app.should_stop)
        while consumer.unacked:
            await asyncio.sleep(0.01)

    monkeypatch.setattr(shutdown, "_faust_wait_empty", wait_empty)
    monkeypatch.setattr(outages, "_stop_requested", False)
    monkeypatch.setattr(outages, "_waiting", {})
    return calls


def test_a_withheld_record_is_never_acknowledged_to_the_consumer():
    held, done = _message(5), _message(4)
    consumer = FakeConsumer(held, done)
    done.ack(consumer)  # processed before the stop: acknowledged as usual
    consumer.unacked.add(done)  # (as if still listed)
    assert shutdown.withhold(consumer) == {"raw.mailbox": 1}
    assert consumer.unacked == set()
    held.ack(consumer)  # the batch's acknowledgement when its agent is cancelled
    assert consumer.committable == [4]


async def test_a_stop_while_a_step_waits_for_redis_withholds_and_stops_retrying(faust_wait, caplog):
    consumer = FakeConsumer(_message(1), _message(2), _message(0, "assignments.all"))
    outages._waiting[object()] = ("mailbox intake", "Redis unreachable")
    app = SimpleNamespace(should_stop=True)
    with caplog.at_level(logging.WARNING):
        await asyncio.wait_for(shutdown._wait_empty_within_bound(app, consumer, None), 2)
    assert outages._stop_requested
    assert consumer.committable == []
    assert (
        "stopping while Redis is unreachable: 3 records not acknowledged (assignments.all: 1, "
        "raw.mailbox: 2), they will be redone after restart; waiting steps: mailbox intake"
    ) in caplog.text


async def test_a_stop_without_an_outage_waits_for_the_records_in_hand(faust_wait, caplog):
    message = _message(7)
    consumer = FakeConsumer(message)
    app = SimpleNamespace(should_stop=True)
    asyncio.get_running_loop().call_later(0.5, message.ack, consumer)
    await asyncio.wait_for(shutdown._wait_empty_within_bound(app, consumer, None), 2)
    assert consumer.committable == [7]  # done, acknowledged, committable
    assert not outages._stop_requested and "not acknowledged" not in caplog.text


async def test_records_held_past_the_grace_are_withheld_even_without_a_known_outage(
    faust_wait, monkeypatch, caplog
):
    """A Redis connection that hangs instead of failing: nothing is known to wait."""
    monkeypatch.setattr(shutdown, "STOP_GRACE_S", 0.3)
    consumer = FakeConsumer(_message(3))
    app = SimpleNamespace(should_stop=True)
    with caplog.at_level(logging.WARNING):
        await asyncio.wait_for(shutdown._wait_empty_within_bound(app, consumer, None), 2)
    assert consumer.committable == []
    assert "stopping with records still in hand after 0 s: 1 record not acknowledged" in caplog.text


async def test_a_rebalance_keeps_faust_wait(faust_wait):
    message = _message(1)
    consumer = FakeConsumer(message)
    outages._waiting[object()] = ("mailbox intake", "Redis unreachable")
    app = SimpleNamespace(should_stop=False)
    waiting = asyncio.ensure_future(shutdown._wait_empty_within_bound(app, consumer, None))
    await asyncio.sleep(0.5)
    assert not waiting.done()  # the worker goes on: its batch must finish
    message.ack(consumer)
    await asyncio.wait_for(waiting, 1)
    assert consumer.committable == [1] and not outages._stop_requested
    assert faust_wait == [False]


def test_install_patches_faust_once():
    from faust.app.base import App

    shutdown.install()
    shutdown.install()
    assert App._consumer_wait_empty is shutdown._wait_empty_within_bound
